//! The server's settings: a TOML file, command-line overrides, nginx's
//! defaults, and validation with errors that name the file and the key.
//!
//! ```toml
//! listen = ["127.0.0.1:8080"]
//! root = "/srv/www"
//! workers = 2
//! accept = "reuseport"
//! index = "index.html"     # or several, tried in order: "index.html index.htm"
//! access_log = "/var/log/spindle/access.log"
//! error_log = "/var/log/spindle/error.log"  # default: standard error
//! status = "/nginx_status"
//! pid_file = "/run/spindle.pid"
//! user = "www-data"          # or "www-data:www-data"; only when started as root;
//!                            # default "nobody" (as nginx), "root" keeps root
//! worker_connections = 10240
//! worker_cpu_affinity = "auto" # or "off" (default), or nginx's masks: "01 10"
//! worker_rlimit_nofile = 65536 # default: 2 x worker_connections + 64
//! notsent_lowat = 16384      # unsent bytes per connection (TCP_NOTSENT_LOWAT); 0: no limit
//! io_coalesce_us = 80        # a busy worker waits this long before each poll; 0: off
//! io_coalesce_min_connections = 16  # ...while this many connections are active per ms
//!
//! expires = "1h"            # nginx's `expires`: off (default), epoch, max, 30s, 7d, 1M...
//! autoindex = true          # nginx's autoindex (and autoindex_*: see `features`)
//! gzip_static = true        # nginx's gzip_static: a.css.gz for a.css; or "always"
//! gzip = true               # nginx's gzip: compress text/html (and gzip_*: see `gzip`)
//! try_files = ["$uri", "$uri/", "/index.html"]   # nginx's try_files; last may be "=404"
//!
//! [error_pages]              # nginx's `error_page 404 /404.html`: a file under the root
//! 404 = "/404.html"          # served (with its own status kept) for a missing file
//! 403 = "/403.html"          # and for a forbidden one
//!
//! [limits]
//! request_line = 8192        # longer: 414
//! headers = 32768            # request head larger: 431
//! body = 1048576             # Content-Length larger: 413
//! keepalive_requests = 1000
//! max_ranges = 64            # more ranges in one Range header: 200, whole file; 0: ranges off
//!
//! [timeouts]                 # seconds, or "500ms", "60s", "2m"
//! header = 60
//! keepalive = 75
//! send = 60
//! shutdown = 30
//! lingering = 5              # lingering close: quiet time before closing
//! lingering_time = 30        # lingering close: longest in all
//!
//! [cache]
//! entries = 10000
//! small_file = 65536
//! sendfile_chunk = 2097152
//! inactive = 60              # an entry unused this long is dropped
//! ```

mod features;
mod gzip;
pub use features::{Autoindex, AutoindexFormat, Fallback, GzipStatic, TryFiles};
pub use gzip::{parse_http_version, Gzip, GzipTypes};

use serde::Deserialize;
use spindle_cluster::{AcceptStrategy, ClusterConfig, Coalesce, Loaded};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default [`ClusterConfig::io_coalesce`] of `spindle http`'s workers: 80 µs while
/// at least 16 connections are active. Measured on the 2-vCPU benchmark
/// machine (`bench/RESULTS.md`, 2026-11-29): with two workers, the 1 KiB
/// line at 100 connections went from 2.09x nginx's p99 to 0.94x, with more
/// requests/s and less CPU per request, and no line got worse.
pub const IO_COALESCE: Coalesce = Coalesce { wait: Duration::from_micros(80), min_active: 16 };

/// The longest coalescing wait accepted, as `spindle kv`'s
/// `io-coalesce-us`: past a millisecond it is a delay, not a batch.
pub const MAX_IO_COALESCE_US: u64 = 1000;

/// `io_coalesce_us` and `io_coalesce_min_connections`, flags over file over
/// [`IO_COALESCE`]; `None` for a zero wait.
fn io_coalesce(
    name: &str,
    o: &Overrides,
    file_us: Option<u64>,
    file_min: Option<usize>,
) -> Result<Option<Coalesce>, String> {
    let mut c = IO_COALESCE;
    if let Some(us) = o.io_coalesce_us.or(file_us) {
        if us > MAX_IO_COALESCE_US {
            return Err(format!("{name}: key `io_coalesce_us`: {us} is not from 0 to {MAX_IO_COALESCE_US}"));
        }
        c.wait = Duration::from_micros(us);
    }
    if let Some(n) = o.io_coalesce_min_connections.or(file_min) {
        if n == 0 {
            return Err(format!("{name}: key `io_coalesce_min_connections`: must be at least 1"));
        }
        c.min_active = n;
    }
    Ok((!c.wait.is_zero()).then_some(c))
}

/// Size limits of a request (nginx's names in brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line; longer gets 414 (`large_client_header_buffers`
    /// size, 8k).
    pub request_line: usize,
    /// Largest request head (line and headers); larger gets 431 (nginx's
    /// four 8k buffers: 32k).
    pub headers: usize,
    /// Largest request body announced by `Content-Length`; larger gets 413
    /// (`client_max_body_size`, 1m).
    pub body: u64,
    /// Requests served on one connection before it is closed
    /// (`keepalive_requests`, 1000).
    pub keepalive_requests: u64,
    /// Most satisfiable ranges one `Range` header may ask for; more are
    /// answered with the whole file (200), and 0 turns ranges off: every
    /// response is the whole file and none says `Accept-Ranges`
    /// (`max_ranges`; nginx leaves it unlimited, 64 here: see
    /// [`crate::range`]).
    pub max_ranges: usize,
}

/// Timeouts (nginx's names in brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// From the accept (for a connection's first request) or the first
    /// byte of a later request to the end of its head
    /// (`client_header_timeout`, 60 s). Trickling bytes does not extend it.
    ///
    /// A request body (GET and HEAD bodies are read and dropped) gets one
    /// more window of the same length once the head is in, so a request
    /// takes at most twice this. nginx's `client_body_timeout` instead
    /// bounds each wait between two reads, so a client trickling a body a
    /// byte at a time can hold an nginx connection for as long as it
    /// likes; the fixed window here cannot be stretched that way.
    pub header: Duration,
    /// Idle time between requests on a keep-alive connection
    /// (`keepalive_timeout`, 75 s).
    pub keepalive: Duration,
    /// Longest wait for the client to take more of a response
    /// (`send_timeout`, 60 s).
    pub send: Duration,
    /// Lingering close: when the server closes a connection on which the
    /// client may still be sending (a refused request, a body not read
    /// yet, requests pipelined past a closing response), it stops writing
    /// and reads and drops what the client still sends, until it is quiet
    /// for this long (`lingering_timeout`, 5 s)...
    pub lingering: Duration,
    /// ...or this long has passed in all (`lingering_time`, 30 s).
    /// Closing at once instead would make the kernel answer the client's
    /// next bytes with a reset, and a client still uploading would get a
    /// write error rather than the response.
    pub lingering_time: Duration,
}

/// The per-worker open-file and small-body cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most files kept open (`open_file_cache max`); 0 disables the cache.
    pub entries: usize,
    /// Files up to this size are kept in memory and sent with the head in
    /// one write; larger ones are sent with `sendfile`.
    pub small_file: u64,
    /// Most bytes one `sendfile` call sends before the connection yields
    /// to the others (`sendfile_max_chunk`, 2m).
    pub sendfile_chunk: usize,
    /// An entry not used for this long is dropped, closing its file
    /// (`open_file_cache inactive`, 60 s); a full cache drops the least
    /// recently used entry.
    pub inactive: Duration,
    /// A file changed less than this before it is opened is served but not
    /// cached (see [`crate::cache`]: timestamps are too coarse to notice a
    /// rewrite within one tick). Not read from the configuration file:
    /// [`crate::cache::RACY_WINDOW`]; a test that needs a file it just
    /// wrote to be cached sets it to zero.
    pub racy_window: Duration,
}

/// Files under the root served as the body of an error response, as
/// nginx's `error_page 404 /404.html` does (see `crate::errorpage`).
/// `None`: the built-in page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorPages {
    /// The page for 404 (a path under the root, starting with `/`).
    pub not_found: Option<String>,
    /// The page for 403.
    pub forbidden: Option<String>,
}

/// The HTTP server's own settings, handed to every worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    /// The directory served, as configured, made absolute. It is not
    /// resolved once for all: a symbolic link in it is followed on every
    /// look-up (as nginx follows `root` on every request), so pointing a
    /// `current` link at a new release, as deploy tools do, serves the new
    /// release at once, without a reload.
    pub root: PathBuf,
    /// The files served for a directory (`index`): one name, or several
    /// separated by spaces, tried in order as nginx's `index index.html
    /// index.htm` directive tries them (the first that exists is served).
    pub index: String,
    /// Size limits.
    pub limits: Limits,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Cache sizes.
    pub cache: CacheConfig,
    /// Where the access log goes (combined format); `None`: no log.
    pub access_log: Option<PathBuf>,
    /// The path of the stub_status page; `None`: no page.
    pub status: Option<String>,
    /// `TCP_NOTSENT_LOWAT` of every connection, in bytes: how much of a
    /// response may wait unsent in the kernel before the worker stops
    /// writing and waits (0: leave the kernel's default, no limit). Low,
    /// the worker sends a large body in short stretches as the client takes
    /// it, rather than handing the kernel the whole body at once: see
    /// [`crate::sys::set_notsent_lowat`] for why. Default 16384.
    pub notsent_lowat: u32,
    /// The cluster's `worker_connections`, copied here: a worker that
    /// reaches it closes its longest-idle keep-alive connections to make
    /// room for new clients, as nginx reuses connections (see
    /// `server::Worker::reclaim_idle`).
    pub worker_connections: usize,
    /// Error pages served from files (`error_page`).
    pub error_pages: ErrorPages,
    /// `Expires` and `Cache-Control` on the answers for files (`expires`;
    /// see [`crate::expires`]). Default off.
    pub expires: crate::expires::Expires,
    /// Directory listings (`autoindex`; see `crate::autoindex`); `None`:
    /// off, the default, and a directory without an index file is 403.
    pub autoindex: Option<Autoindex>,
    /// Precompressed twins (`gzip_static`; see `crate::gzip`). Default
    /// off.
    pub gzip_static: GzipStatic,
    /// Answers compressed as they are sent (`gzip`; see `crate::compress`);
    /// `None`: off, the default.
    pub gzip: Option<Gzip>,
    /// `gzip_http_version`: the least HTTP/1 minor version that is sent
    /// gzip, by `gzip` and `gzip_static` alike (nginx's default, 1: not
    /// to HTTP/1.0 clients).
    pub gzip_http_version: u8,
    /// Candidates tried for each request, then a fallback (`try_files`;
    /// see `crate::tryfiles`). `None`: off, the default.
    pub try_files: Option<TryFiles>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            root: PathBuf::from("."),
            index: "index.html".into(),
            limits: Limits {
                request_line: 8192,
                headers: 32768,
                body: 1 << 20,
                keepalive_requests: 1000,
                max_ranges: crate::range::MAX_RANGES,
            },
            timeouts: Timeouts {
                header: Duration::from_secs(60),
                keepalive: Duration::from_secs(75),
                send: Duration::from_secs(60),
                lingering: Duration::from_secs(5),
                lingering_time: Duration::from_secs(30),
            },
            cache: CacheConfig {
                entries: 10_000,
                small_file: 64 << 10,
                sendfile_chunk: 2 << 20,
                inactive: Duration::from_secs(60),
                racy_window: crate::cache::RACY_WINDOW,
            },
            access_log: None,
            status: None,
            notsent_lowat: 16 << 10,
            worker_connections: spindle_cluster::config::WORKER_CONNECTIONS,
            error_pages: ErrorPages::default(),
            expires: crate::expires::Expires::Off,
            autoindex: None,
            gzip_static: GzipStatic::Off,
            gzip: None,
            gzip_http_version: 1,
            try_files: None,
        }
    }
}

/// Settings given on the command line; each overrides the file's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// `--listen` (repeatable): replaces the file's list.
    pub listen: Vec<SocketAddr>,
    /// `--root`.
    pub root: Option<PathBuf>,
    /// `--workers`.
    pub workers: Option<usize>,
    /// `--accept`.
    pub accept: Option<AcceptStrategy>,
    /// `--index`.
    pub index: Option<String>,
    /// `--access-log`.
    pub access_log: Option<PathBuf>,
    /// `--status`.
    pub status: Option<String>,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--user` (`USER` or `USER:GROUP`); unset, a root master runs its
    /// workers as `nobody`.
    pub user: Option<String>,
    /// `--error-log`.
    pub error_log: Option<PathBuf>,
    /// `--worker-connections`.
    pub worker_connections: Option<usize>,
    /// `--worker-cpu-affinity` (`off`, `auto` or nginx's bitmasks).
    pub worker_cpu_affinity: Option<String>,
    /// `--worker-rlimit-nofile`.
    pub worker_rlimit_nofile: Option<u64>,
    /// `--max-request-line`.
    pub request_line: Option<usize>,
    /// `--max-headers`.
    pub headers: Option<usize>,
    /// `--max-body`.
    pub body: Option<u64>,
    /// `--keepalive-requests`.
    pub keepalive_requests: Option<u64>,
    /// `--max-ranges`.
    pub max_ranges: Option<usize>,
    /// `--header-timeout`.
    pub header_timeout: Option<Duration>,
    /// `--keepalive-timeout`.
    pub keepalive_timeout: Option<Duration>,
    /// `--send-timeout`.
    pub send_timeout: Option<Duration>,
    /// `--shutdown-timeout`.
    pub shutdown_timeout: Option<Duration>,
    /// `--lingering-timeout`.
    pub lingering_timeout: Option<Duration>,
    /// `--lingering-time`.
    pub lingering_time: Option<Duration>,
    /// `--cache-entries`.
    pub cache_entries: Option<usize>,
    /// `--cache-small-file`.
    pub small_file: Option<u64>,
    /// `--cache-inactive`.
    pub cache_inactive: Option<Duration>,
    /// `--notsent-lowat`.
    pub notsent_lowat: Option<u32>,
    /// `--io-coalesce-us`.
    pub io_coalesce_us: Option<u64>,
    /// `--io-coalesce-min-connections`.
    pub io_coalesce_min_connections: Option<usize>,
    /// `--error-page-404`.
    pub error_page_404: Option<String>,
    /// `--error-page-403`.
    pub error_page_403: Option<String>,
    /// `--expires`.
    pub expires: Option<crate::expires::Expires>,
    /// `--autoindex`.
    pub autoindex: Option<bool>,
    /// `--autoindex-exact-size`.
    pub autoindex_exact_size: Option<bool>,
    /// `--autoindex-localtime`.
    pub autoindex_localtime: Option<bool>,
    /// `--autoindex-format`.
    pub autoindex_format: Option<AutoindexFormat>,
    /// `--autoindex-max-memory`.
    pub autoindex_max_memory: Option<usize>,
    /// `--gzip-static`.
    pub gzip_static: Option<GzipStatic>,
    /// `--gzip`.
    pub gzip: Option<bool>,
    /// `--gzip-types`.
    pub gzip_types: Option<GzipTypes>,
    /// `--gzip-min-length`.
    pub gzip_min_length: Option<u64>,
    /// `--gzip-comp-level`.
    pub gzip_comp_level: Option<u32>,
    /// `--gzip-vary`.
    pub gzip_vary: Option<bool>,
    /// `--gzip-http-version` (the minor version: 0 or 1).
    pub gzip_http_version: Option<u8>,
    /// `--try-files`.
    pub try_files: Option<TryFiles>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<OneOrMany>,
    root: Option<PathBuf>,
    workers: Option<usize>,
    accept: Option<String>,
    index: Option<String>,
    access_log: Option<PathBuf>,
    status: Option<String>,
    pid_file: Option<PathBuf>,
    backlog: Option<u32>,
    user: Option<String>,
    error_log: Option<PathBuf>,
    worker_connections: Option<usize>,
    worker_cpu_affinity: Option<String>,
    worker_rlimit_nofile: Option<u64>,
    notsent_lowat: Option<u32>,
    io_coalesce_us: Option<u64>,
    io_coalesce_min_connections: Option<usize>,
    expires: Option<String>,
    autoindex: Option<bool>,
    autoindex_exact_size: Option<bool>,
    autoindex_localtime: Option<bool>,
    autoindex_format: Option<String>,
    autoindex_max_memory: Option<usize>,
    gzip_static: Option<features::BoolOrWord>,
    gzip: Option<bool>,
    gzip_types: Option<gzip::Types>,
    gzip_min_length: Option<u64>,
    gzip_comp_level: Option<u32>,
    gzip_vary: Option<bool>,
    gzip_http_version: Option<gzip::Version>,
    try_files: Option<features::Items>,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    timeouts: FileTimeouts,
    #[serde(default)]
    cache: FileCache,
    #[serde(default)]
    error_pages: FileErrorPages,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileErrorPages {
    #[serde(rename = "404")]
    not_found: Option<String>,
    #[serde(rename = "403")]
    forbidden: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    request_line: Option<usize>,
    headers: Option<usize>,
    body: Option<u64>,
    keepalive_requests: Option<u64>,
    max_ranges: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileTimeouts {
    header: Option<Span>,
    keepalive: Option<Span>,
    send: Option<Span>,
    shutdown: Option<Span>,
    accept_mutex_delay: Option<Span>,
    lingering: Option<Span>,
    lingering_time: Option<Span>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileCache {
    entries: Option<usize>,
    small_file: Option<u64>,
    sendfile_chunk: Option<usize>,
    inactive: Option<Span>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Span {
    Secs(u64),
    Float(f64),
    Text(String),
}

/// Parses a duration as nginx writes them: `500ms`, `60s`, `2m`, `1h`, or
/// a bare number of seconds.
///
/// ```
/// use spindle_http::config::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
/// assert!(parse_duration("soon").is_err());
/// ```
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().map_err(|_| format!("'{s}' is not a duration (like 500ms, 60s, 2m)"))?;
    let scale = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (ms, s, m or h)")),
    };
    Ok(Duration::from_secs_f64(n * scale))
}

impl Span {
    fn get(&self, file: &str, key: &str) -> Result<Duration, String> {
        match self {
            Span::Secs(n) => Ok(Duration::from_secs(*n)),
            Span::Float(f) if f.is_finite() && *f >= 0.0 => Ok(Duration::from_secs_f64(*f)),
            Span::Float(f) => Err(format!("{file}: key `{key}`: {f} is not a duration")),
            Span::Text(s) => parse_duration(s).map_err(|e| format!("{file}: key `{key}`: {e}")),
        }
    }
}

/// Reads the configuration: the file if given, then `o` on top, then
/// checks it (the root exists and is a directory, the addresses parse,
/// the numbers are sane).
///
/// # Errors
/// A message naming the file, the key and what is wrong.
pub fn load(path: Option<&Path>, o: &Overrides) -> Result<Loaded<HttpConfig>, String> {
    let (name, f) = match path {
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| format!("{name}: cannot read: {e}"))?;
            let f: FileConfig = toml::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
            (name, f)
        }
        None => ("command line".to_string(), FileConfig::default()),
    };
    let name = name.as_str();
    let mut cluster = ClusterConfig::default();
    let mut app = HttpConfig::default();

    if !o.listen.is_empty() {
        cluster.listen = o.listen.clone();
    } else if let Some(l) = f.listen {
        let list = match l {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        };
        if list.is_empty() {
            return Err(format!("{name}: key `listen`: the list is empty"));
        }
        cluster.listen = list
            .iter()
            .map(|s| s.parse().map_err(|_| format!("{name}: key `listen`: '{s}' is not an ADDRESS:PORT")))
            .collect::<Result<_, _>>()?;
    }
    if let Some(w) = o.workers.or(f.workers) {
        let max = spindle_cluster::config::MAX_WORKERS;
        if !(1..=max).contains(&w) {
            return Err(format!("{name}: key `workers`: {w} is not from 1 to {max}"));
        }
        cluster.workers = w;
    }
    if let Some(a) = o.accept {
        cluster.accept = a;
    } else if let Some(a) = f.accept {
        cluster.accept = a.parse().map_err(|e| format!("{name}: key `accept`: {e}"))?;
    }
    if let Some(b) = f.backlog {
        cluster.backlog = b;
    }
    cluster.pid_file = o.pid_file.clone().or(f.pid_file);
    if let Some(u) = o.user.clone().or(f.user) {
        cluster.user = Some(u.parse().map_err(|e| format!("{name}: key `user`: {e}"))?);
    }
    cluster.error_log = o.error_log.clone().or(f.error_log);
    if let Some(n) = o.worker_connections.or(f.worker_connections) {
        let max = spindle_cluster::config::MAX_WORKER_CONNECTIONS;
        if !(1..=max).contains(&n) {
            return Err(format!("{name}: key `worker_connections`: {n} is not from 1 to {max}"));
        }
        cluster.worker_connections = n;
    }
    app.worker_connections = cluster.worker_connections;
    if let Some(a) = o.worker_cpu_affinity.clone().or(f.worker_cpu_affinity) {
        cluster.worker_cpu_affinity =
            a.parse().map_err(|e| format!("{name}: key `worker_cpu_affinity`: {e}"))?;
    }
    if let Some(n) = o.worker_rlimit_nofile.or(f.worker_rlimit_nofile) {
        if n == 0 {
            return Err(format!("{name}: key `worker_rlimit_nofile`: must be at least 1"));
        }
        cluster.worker_rlimit_nofile = n;
    }
    cluster.io_coalesce = io_coalesce(name, o, f.io_coalesce_us, f.io_coalesce_min_connections)?;

    let root = o.root.clone().or(f.root).unwrap_or_else(|| PathBuf::from("."));
    let meta =
        std::fs::metadata(&root).map_err(|e| format!("{name}: key `root`: {}: {e}", root.display()))?;
    if !meta.is_dir() {
        return Err(format!("{name}: key `root`: {} is not a directory", root.display()));
    }
    app.root =
        std::path::absolute(&root).map_err(|e| format!("{name}: key `root`: {}: {e}", root.display()))?;
    if let Some(i) = o.index.clone().or(f.index) {
        let plain = |n: &str| !n.contains('/') && n != "." && n != "..";
        if i.split_whitespace().next().is_none() || !i.split_whitespace().all(plain) {
            return Err(format!(
                "{name}: key `index`: '{i}' must be plain file names (several separated by spaces)"
            ));
        }
        app.index = i.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    app.access_log = o.access_log.clone().or(f.access_log);
    if let Some(p) = &app.access_log {
        // As nginx opens it while reading its configuration: a path that
        // cannot be written is a configuration error (refused at start and
        // on reload, the old workers keeping theirs), not workers that
        // come up with logging silently off.
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(p)
            .map_err(|e| format!("{name}: key `access_log`: {}: {e}", p.display()))?;
    }
    // The master creates it and hands it to `user` before workers open it.
    cluster.log_files = app.access_log.iter().cloned().collect();
    // The master warns when the workers' user cannot read it.
    cluster.worker_reads = vec![app.root.clone()];
    if let Some(s) = o.status.clone().or(f.status) {
        if !s.starts_with('/') {
            return Err(format!("{name}: key `status`: '{s}' must start with '/'"));
        }
        app.status = Some(s);
    }
    app.notsent_lowat = o.notsent_lowat.or(f.notsent_lowat).unwrap_or(app.notsent_lowat);
    let page = |v: Option<String>, key: &str| -> Result<Option<String>, String> {
        match v {
            Some(p) if !p.starts_with('/') || crate::path::clean(p.as_bytes()).is_err() => {
                Err(format!("{name}: key `error_pages.{key}`: '{p}' must be a path starting with '/'"))
            }
            v => Ok(v),
        }
    };
    app.error_pages.not_found = page(o.error_page_404.clone().or(f.error_pages.not_found), "404")?;
    if let Some(e) = o.expires {
        app.expires = e;
    } else if let Some(e) = f.expires {
        app.expires = crate::expires::parse(&e).map_err(|e| format!("{name}: key `expires`: {e}"))?;
    }
    app.error_pages.forbidden = page(o.error_page_403.clone().or(f.error_pages.forbidden), "403")?;
    let features = features::FileFeatures {
        autoindex: f.autoindex,
        autoindex_exact_size: f.autoindex_exact_size,
        autoindex_localtime: f.autoindex_localtime,
        autoindex_format: f.autoindex_format.clone(),
        autoindex_max_memory: f.autoindex_max_memory,
        gzip_static: f.gzip_static.clone(),
        try_files: f.try_files.clone(),
    };
    features::apply(name, features, o, &mut app)?;
    let gz = gzip::FileGzip {
        gzip: f.gzip,
        types: f.gzip_types.clone(),
        min_length: f.gzip_min_length,
        comp_level: f.gzip_comp_level,
        vary: f.gzip_vary,
        http_version: f.gzip_http_version.clone(),
    };
    gzip::apply(name, gz, o, &mut app)?;

    let l = &mut app.limits;
    l.request_line = o.request_line.or(f.limits.request_line).unwrap_or(l.request_line);
    l.headers = o.headers.or(f.limits.headers).unwrap_or(l.headers);
    l.body = o.body.or(f.limits.body).unwrap_or(l.body);
    l.keepalive_requests =
        o.keepalive_requests.or(f.limits.keepalive_requests).unwrap_or(l.keepalive_requests);
    l.max_ranges = o.max_ranges.or(f.limits.max_ranges).unwrap_or(l.max_ranges);
    if l.request_line < 64 {
        return Err(format!("{name}: key `limits.request_line`: {} is below 64", l.request_line));
    }
    if l.headers < l.request_line {
        return Err(format!(
            "{name}: key `limits.headers`: {} is below limits.request_line ({})",
            l.headers, l.request_line
        ));
    }
    if l.keepalive_requests == 0 {
        return Err(format!("{name}: key `limits.keepalive_requests`: must be at least 1"));
    }

    let ft = &f.timeouts;
    let t = &mut app.timeouts;
    let span = |v: &Option<Span>, key: &str| v.as_ref().map(|s| s.get(name, key)).transpose();
    t.header = o.header_timeout.or(span(&ft.header, "timeouts.header")?).unwrap_or(t.header);
    t.keepalive = o.keepalive_timeout.or(span(&ft.keepalive, "timeouts.keepalive")?).unwrap_or(t.keepalive);
    t.send = o.send_timeout.or(span(&ft.send, "timeouts.send")?).unwrap_or(t.send);
    if let Some(d) = o.shutdown_timeout.or(span(&ft.shutdown, "timeouts.shutdown")?) {
        cluster.shutdown_timeout = d;
    }
    if let Some(d) = span(&ft.accept_mutex_delay, "timeouts.accept_mutex_delay")? {
        cluster.accept_mutex_delay = d;
    }
    t.lingering = o.lingering_timeout.or(span(&ft.lingering, "timeouts.lingering")?).unwrap_or(t.lingering);
    t.lingering_time =
        o.lingering_time.or(span(&ft.lingering_time, "timeouts.lingering_time")?).unwrap_or(t.lingering_time);
    for (d, key) in [
        (t.header, "header"),
        (t.keepalive, "keepalive"),
        (t.send, "send"),
        (t.lingering, "lingering"),
        (t.lingering_time, "lingering_time"),
    ] {
        if d.is_zero() {
            return Err(format!("{name}: key `timeouts.{key}`: must be more than zero"));
        }
    }

    let c = &mut app.cache;
    c.entries = o.cache_entries.or(f.cache.entries).unwrap_or(c.entries);
    c.small_file = o.small_file.or(f.cache.small_file).unwrap_or(c.small_file);
    c.sendfile_chunk = f.cache.sendfile_chunk.unwrap_or(c.sendfile_chunk);
    c.inactive = o.cache_inactive.or(span(&f.cache.inactive, "cache.inactive")?).unwrap_or(c.inactive);
    if c.inactive < Duration::from_secs(1) {
        return Err(format!(
            "{name}: key `cache.inactive`: {:?} is below 1s (the cache keeps time in seconds; \
             cache.entries = 0 turns it off)",
            c.inactive
        ));
    }
    if c.small_file > 16 << 20 {
        return Err(format!("{name}: key `cache.small_file`: {} is above 16 MiB", c.small_file));
    }
    if c.sendfile_chunk < 4096 {
        return Err(format!("{name}: key `cache.sendfile_chunk`: {} is below 4096", c.sendfile_chunk));
    }
    Ok(Loaded { cluster, app })
}

#[cfg(test)]
mod tests;
