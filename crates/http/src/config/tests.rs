//! The configuration's unit tests: files read, defaults, overrides and errors.

use super::*;

fn with_file(text: &str) -> Result<Loaded<HttpConfig>, String> {
    with_file_and(text, &Overrides::default())
}

/// Loads `text` as the config file with the flags `o`.
fn with_file_and(text: &str, o: &Overrides) -> Result<Loaded<HttpConfig>, String> {
    // One file per call: tests run in parallel, and two texts of the
    // same length (the name's old distinguisher) raced on one file.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = std::env::temp_dir().join(format!("spindle-http-cfg-{}-{n}.toml", std::process::id()));
    std::fs::write(&p, text).unwrap();
    let r = load(Some(&p), o);
    std::fs::remove_file(&p).unwrap();
    r
}

#[test]
fn expires_is_read_and_checked() {
    assert_eq!(with_file("expires = \"7d\"\n").unwrap().app.expires, crate::expires::Expires::After(604_800));
    assert_eq!(load(None, &Overrides::default()).unwrap().app.expires, crate::expires::Expires::Off);
    let e = with_file("expires = \"soon\"\n").err().unwrap();
    assert!(e.contains("key `expires`"), "{e}");
}

#[test]
fn autoindex_is_read_and_checked() {
    assert_eq!(load(None, &Overrides::default()).unwrap().app.autoindex, None);
    let on = Autoindex::default();
    assert_eq!(with_file("autoindex = true\n").unwrap().app.autoindex, Some(on.clone()));
    // The companions alone do not turn it on.
    assert_eq!(with_file("autoindex_format = \"json\"\n").unwrap().app.autoindex, None);
    let l = with_file(
        "autoindex = true\nautoindex_exact_size = false\nautoindex_localtime = true\nautoindex_format = \"xml\"\n\
         autoindex_max_memory = 1000\n",
    )
    .unwrap();
    let want =
        Autoindex { exact_size: false, localtime: true, format: AutoindexFormat::Xml, max_memory: 1000 };
    assert_eq!(l.app.autoindex, Some(want));
    let o = Overrides {
        autoindex: Some(true),
        autoindex_format: Some(AutoindexFormat::Json),
        ..Overrides::default()
    };
    assert_eq!(load(None, &o).unwrap().app.autoindex.unwrap().format, AutoindexFormat::Json);
    // The flag wins over the file.
    let o = Overrides { autoindex_max_memory: Some(2000), ..Overrides::default() };
    let l = with_file_and("autoindex = true\nautoindex_max_memory = 1000\n", &o).unwrap();
    assert_eq!(l.app.autoindex.unwrap().max_memory, 2000);
    let e = with_file("autoindex = true\nautoindex_format = \"yaml\"\n").unwrap_err();
    assert!(e.contains("key `autoindex_format`: 'yaml' is not html, json or xml"), "{e}");
}

#[test]
fn gzip_static_is_read_and_checked() {
    assert_eq!(load(None, &Overrides::default()).unwrap().app.gzip_static, GzipStatic::Off);
    assert_eq!(with_file("gzip_static = true\n").unwrap().app.gzip_static, GzipStatic::On);
    assert_eq!(with_file("gzip_static = false\n").unwrap().app.gzip_static, GzipStatic::Off);
    assert_eq!(with_file("gzip_static = \"always\"\n").unwrap().app.gzip_static, GzipStatic::Always);
    assert_eq!(with_file("gzip_static = \"on\"\n").unwrap().app.gzip_static, GzipStatic::On);
    let o = Overrides { gzip_static: Some(GzipStatic::Always), ..Overrides::default() };
    assert_eq!(load(None, &o).unwrap().app.gzip_static, GzipStatic::Always);
    let e = with_file("gzip_static = \"sometimes\"\n").unwrap_err();
    assert!(e.contains("key `gzip_static`: 'sometimes' is not on, off or always"), "{e}");
}

#[test]
fn try_files_is_read_and_checked() {
    assert_eq!(load(None, &Overrides::default()).unwrap().app.try_files, None);
    let spa = TryFiles {
        candidates: vec!["$uri".into(), "$uri/".into()],
        fallback: Fallback::Uri("/index.html".into()),
    };
    let l = with_file("try_files = [\"$uri\", \"$uri/\", \"/index.html\"]\n").unwrap();
    assert_eq!(l.app.try_files, Some(spa.clone()));
    assert_eq!(with_file("try_files = \"$uri $uri/ /index.html\"\n").unwrap().app.try_files, Some(spa));
    let t = with_file("try_files = \"$uri =404\"\n").unwrap().app.try_files.unwrap();
    assert_eq!(t.fallback, Fallback::Code(404));
    let o = Overrides { try_files: Some("$uri =403".parse().unwrap()), ..Overrides::default() };
    assert_eq!(load(None, &o).unwrap().app.try_files.unwrap().fallback, Fallback::Code(403));
    for (text, want) in [
        ("try_files = \"$uri\"", "at least two"),
        ("try_files = \"$uri =200\"", "from 400 to 599"),
        ("try_files = \"$uri =abc\"", "from 400 to 599"),
        ("try_files = \"index.html =404\"", "must start with '/' or '$uri'"),
        ("try_files = \"$uri $args =404\"", "must start with"),
        ("try_files = \"/x$args =404\"", "$uri is the only variable"),
    ] {
        let e = with_file(text).unwrap_err();
        assert!(e.contains("key `try_files`") && e.contains(want), "{text}: {e}");
    }
}

#[test]
fn error_pages_are_read_and_checked() {
    let l = with_file("[error_pages]\n404 = \"/404.html\"\n403 = \"/e/403.html\"\n").unwrap();
    assert_eq!(l.app.error_pages.not_found.as_deref(), Some("/404.html"));
    assert_eq!(l.app.error_pages.forbidden.as_deref(), Some("/e/403.html"));
    assert_eq!(load(None, &Overrides::default()).unwrap().app.error_pages, ErrorPages::default());
    let e = with_file("[error_pages]\n404 = \"404.html\"\n").err().unwrap();
    assert!(e.contains("error_pages.404"), "{e}");
    assert!(with_file("[error_pages]\n500 = \"/x.html\"\n").is_err());
}

#[test]
fn defaults_serve_the_current_directory_on_8080() {
    let l = load(None, &Overrides::default()).unwrap();
    assert_eq!(l.cluster.listen, vec!["127.0.0.1:8080".parse().unwrap()]);
    assert_eq!(l.app.root.canonicalize().unwrap(), std::env::current_dir().unwrap().canonicalize().unwrap());
    assert!(l.app.root.is_absolute());
    assert_eq!(l.app.timeouts.keepalive, Duration::from_secs(75));
}

#[test]
fn file_and_overrides() {
    let l = with_file("listen = \"127.0.0.1:9000\"\nworkers = 3\naccept = \"mutex\"\n[timeouts]\nheader = \"250ms\"\nsend = 5\nkeepalive = 1.5\n[limits]\nbody = 10\n").unwrap();
    assert_eq!(l.cluster.listen, vec!["127.0.0.1:9000".parse().unwrap()]);
    assert_eq!(l.cluster.workers, 3);
    assert_eq!(l.cluster.accept, AcceptStrategy::Mutex);
    assert_eq!(l.app.timeouts.header, Duration::from_millis(250));
    assert_eq!(l.app.timeouts.send, Duration::from_secs(5));
    assert_eq!(l.app.timeouts.keepalive, Duration::from_millis(1500));
    assert_eq!(l.app.limits.body, 10);
    let o =
        Overrides { workers: Some(1), listen: vec!["127.0.0.1:1".parse().unwrap()], ..Overrides::default() };
    let l = load(None, &o).unwrap();
    assert_eq!((l.cluster.workers, l.cluster.listen[0].port()), (1, 1));
}

#[test]
fn ranges_lingering_and_cache_inactive() {
    let d = load(None, &Overrides::default()).unwrap().app;
    assert_eq!(d.limits.max_ranges, 64);
    assert_eq!(
        (d.timeouts.lingering, d.timeouts.lingering_time),
        (Duration::from_secs(5), Duration::from_secs(30))
    );
    assert_eq!(d.cache.inactive, Duration::from_secs(60));
    let l = with_file("[limits]\nmax_ranges = 0\n[timeouts]\nlingering = \"200ms\"\nlingering_time = 2\n[cache]\ninactive = \"2m\"\n").unwrap().app;
    assert_eq!(l.limits.max_ranges, 0);
    assert_eq!(
        (l.timeouts.lingering, l.timeouts.lingering_time),
        (Duration::from_millis(200), Duration::from_secs(2))
    );
    assert_eq!(l.cache.inactive, Duration::from_secs(120));
    let o = Overrides {
        max_ranges: Some(2),
        lingering_timeout: Some(Duration::from_secs(1)),
        lingering_time: Some(Duration::from_secs(3)),
        cache_inactive: Some(Duration::from_secs(9)),
        ..Overrides::default()
    };
    let l = load(None, &o).unwrap().app;
    assert_eq!((l.limits.max_ranges, l.cache.inactive), (2, Duration::from_secs(9)));
    assert_eq!(
        (l.timeouts.lingering, l.timeouts.lingering_time),
        (Duration::from_secs(1), Duration::from_secs(3))
    );
}

#[test]
fn worker_rlimit_nofile_from_file_and_flag() {
    assert_eq!(with_file("").unwrap().cluster.worker_rlimit_nofile, 0);
    assert_eq!(with_file("worker_rlimit_nofile = 4096\n").unwrap().cluster.worker_rlimit_nofile, 4096);
    let o = Overrides { worker_rlimit_nofile: Some(777), ..Overrides::default() };
    assert_eq!(load(None, &o).unwrap().cluster.worker_rlimit_nofile, 777);
    let e = with_file("worker_rlimit_nofile = 0\n").unwrap_err();
    assert!(e.contains("key `worker_rlimit_nofile`: must be at least 1"), "{e}");
}

#[test]
fn notsent_lowat_from_file_and_flag() {
    assert_eq!(with_file("").unwrap().app.notsent_lowat, 16384);
    assert_eq!(with_file("notsent_lowat = 0\n").unwrap().app.notsent_lowat, 0);
    let o = Overrides { notsent_lowat: Some(4096), ..Overrides::default() };
    assert_eq!(load(None, &o).unwrap().app.notsent_lowat, 4096);
    assert!(with_file("notsent_lowat = -1\n").is_err());
}

#[test]
fn io_coalesce_defaults_on_and_is_read_from_file_and_flag() {
    let c = with_file("").unwrap().cluster.io_coalesce.unwrap();
    assert_eq!(c, IO_COALESCE);
    assert_eq!(c.wait, Duration::from_micros(80));
    assert_eq!(c.min_active, 16);
    let l = with_file("io_coalesce_us = 0\n").unwrap();
    assert!(l.cluster.io_coalesce.is_none());
    let l = with_file("io_coalesce_us = 40\nio_coalesce_min_connections = 8\n").unwrap();
    assert_eq!(l.cluster.io_coalesce, Some(Coalesce { wait: Duration::from_micros(40), min_active: 8 }));
    // A flag wins over the file, one setting at a time.
    let o = Overrides { io_coalesce_us: Some(120), ..Overrides::default() };
    let l = with_file_and("io_coalesce_us = 40\nio_coalesce_min_connections = 8\n", &o).unwrap();
    assert_eq!(l.cluster.io_coalesce, Some(Coalesce { wait: Duration::from_micros(120), min_active: 8 }));
    let e = with_file("io_coalesce_us = 1001\n").unwrap_err();
    assert!(e.contains("key `io_coalesce_us`: 1001 is not from 0 to 1000"), "{e}");
    let e = with_file("io_coalesce_min_connections = 0\n").unwrap_err();
    assert!(e.contains("key `io_coalesce_min_connections`: must be at least 1"), "{e}");
    assert!(with_file("io_coalesce_us = -1\n").is_err());
}

#[test]
fn worker_cpu_affinity_from_file_and_flag() {
    use spindle_cluster::CpuAffinity;
    assert_eq!(with_file("").unwrap().cluster.worker_cpu_affinity, CpuAffinity::Off);
    let l = with_file("worker_cpu_affinity = \"01 10\"\n").unwrap();
    assert_eq!(l.cluster.worker_cpu_affinity, CpuAffinity::Masks(vec![vec![0], vec![1]]));
    let o = Overrides { worker_cpu_affinity: Some("auto".into()), ..Overrides::default() };
    assert_eq!(load(None, &o).unwrap().cluster.worker_cpu_affinity, CpuAffinity::Auto);
    let e = with_file("worker_cpu_affinity = \"3\"\n").unwrap_err();
    assert!(e.contains("key `worker_cpu_affinity`: `3` is not a CPU mask"), "{e}");
}

#[test]
fn user_error_log_and_worker_connections() {
    let l = with_file("user = \"root:root\"\nerror_log = \"/tmp/e.log\"\naccess_log = \"/tmp/a.log\"\nworker_connections = 64\n").unwrap();
    let u = l.cluster.user.unwrap();
    assert_eq!((u.name.as_str(), u.uid, u.gid), ("root", 0, 0));
    assert_eq!(l.cluster.error_log, Some(PathBuf::from("/tmp/e.log")));
    assert_eq!(l.cluster.log_files, vec![PathBuf::from("/tmp/a.log")]);
    assert_eq!(l.cluster.worker_connections, 64);
    let d = load(None, &Overrides::default()).unwrap();
    assert_eq!((d.cluster.user, d.cluster.error_log), (None, None));
    assert_eq!(d.cluster.worker_connections, spindle_cluster::config::WORKER_CONNECTIONS);
    let o = Overrides { user: Some("root".into()), worker_connections: Some(8), ..Overrides::default() };
    let l = load(None, &o).unwrap();
    assert_eq!((l.cluster.user.unwrap().uid, l.cluster.worker_connections), (0, 8));
}

#[test]
fn errors_name_the_key() {
    let cases = [
        ("listen = [\"nowhere\"]", "`listen`"),
        ("workers = 0", "`workers`"),
        ("workers = 100000", "is not from 1 to 511"),
        ("accept = \"herd\"", "`accept`"),
        ("root = \"/definitely/not/here\"", "`root`"),
        ("root = \"/etc/passwd\"", "not a directory"),
        ("[timeouts]\nheader = \"soon\"", "`timeouts.header`"),
        ("[timeouts]\nsend = 0", "`timeouts.send`"),
        ("[limits]\nrequest_line = 10", "`limits.request_line`"),
        ("index = \"../x\"", "`index`"),
        ("index = \"index.html ../x\"", "`index`"),
        ("index = \" \"", "`index`"),
        ("status = \"nginx_status\"", "`status`"),
        ("colour = \"blue\"", "colour"),
        ("workers = \"two\"", "workers"),
        ("user = \"no-such-user-here\"", "`user`: unknown user"),
        ("user = \"root:no-such-group-here\"", "unknown group"),
        ("worker_connections = 0", "`worker_connections`"),
        ("[timeouts]\nlingering = 0", "`timeouts.lingering`"),
        ("[timeouts]\nlingering_time = \"x\"", "`timeouts.lingering_time`"),
        ("[cache]\ninactive = \"10ms\"", "`cache.inactive`"),
        ("[limits]\nmax_ranges = -1", "max_ranges"),
        ("access_log = \"/nonexistent-spindle-dir/a.log\"", "`access_log`: /nonexistent-spindle-dir/a.log"),
    ];
    for (text, want) in cases {
        let e = with_file(text).unwrap_err();
        assert!(e.contains(want) && e.contains("spindle-http-cfg"), "{text:?} gave {e:?}");
    }
}

#[test]
fn gzip_is_read_and_checked() {
    let d = load(None, &Overrides::default()).unwrap().app;
    assert_eq!((d.gzip, d.gzip_http_version), (None, 1));
    let on = with_file("gzip = true\n").unwrap().app.gzip.unwrap();
    assert_eq!(on, Gzip { types: GzipTypes::HtmlOnly, min_length: 20, comp_level: 1, vary: false });
    assert!(on.compresses("text/html", 20) && !on.compresses("text/html", 19));
    assert!(!on.compresses("text/css", 1000));
    let g = with_file(
        "gzip = true\ngzip_types = [\"text/css\", \"Application/JSON\"]\ngzip_min_length = 0\n\
         gzip_comp_level = 9\ngzip_vary = true\ngzip_http_version = \"1.0\"\n",
    )
    .unwrap()
    .app;
    let gz = g.gzip.unwrap();
    assert_eq!(gz.types, GzipTypes::List(vec!["text/css".into(), "application/json".into()]));
    assert!(gz.compresses("application/json", 0) && gz.compresses("text/html", 0));
    assert!(!gz.compresses("image/png", 100));
    assert_eq!((gz.min_length, gz.comp_level, gz.vary, g.gzip_http_version), (0, 9, true, 0));
    // One string, spaces or commas; `*` is every type.
    let one = with_file("gzip = true\ngzip_types = \"text/css, text/plain\"\n").unwrap().app.gzip.unwrap();
    assert_eq!(one.types, GzipTypes::List(vec!["text/css".into(), "text/plain".into()]));
    let any = with_file("gzip = true\ngzip_types = \"*\"\n").unwrap().app.gzip.unwrap();
    assert!(any.compresses("application/octet-stream", 20));
    assert_eq!(with_file("gzip_http_version = 1.0\n").unwrap().app.gzip_http_version, 0);
    // The companions alone do not turn it on; flags win.
    assert_eq!(with_file("gzip_comp_level = 5\n").unwrap().app.gzip, None);
    let o = Overrides {
        gzip: Some(true),
        gzip_comp_level: Some(4),
        gzip_types: Some("*".parse().unwrap()),
        gzip_http_version: Some(0),
        ..Overrides::default()
    };
    let f = load(None, &o).unwrap().app;
    assert_eq!((f.gzip.as_ref().unwrap().comp_level, f.gzip_http_version), (4, 0));
    assert_eq!(f.gzip.unwrap().types, GzipTypes::Any);
    for (text, msg) in [
        ("gzip = true\ngzip_comp_level = 10\n", "key `gzip_comp_level`: 10 is not from 1 to 9"),
        ("gzip_comp_level = 0\n", "key `gzip_comp_level`: 0 is not from 1 to 9"),
        ("gzip_types = [\"css\"]\n", "key `gzip_types`: 'css' is not a media type"),
        ("gzip_http_version = \"2.0\"\n", "key `gzip_http_version`: '2.0' is not 1.0 or 1.1"),
        ("gzip_http_version = 0.9\n", "key `gzip_http_version`: 0.9 is not 1.0 or 1.1"),
    ] {
        let e = with_file(text).unwrap_err();
        assert!(e.contains(msg), "{text}: {e}");
    }
}
