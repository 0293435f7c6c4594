//! `spindle http`: the static file server (spindle-http), configured by a
//! TOML file and/or flags. With neither, it serves the current directory
//! on 127.0.0.1:8080.

use anyhow::Result;
use spindle_cluster::AcceptStrategy;
use spindle_http::{HttpApp, Overrides};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `spindle http`. Each flag overrides the config file's key.
#[derive(clap::Args, Debug, Default)]
pub struct HttpArgs {
    /// TOML configuration file (re-read on SIGHUP).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (repeatable); default 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
    /// Directory to serve; default the current directory.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Worker processes; default one per core.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Accept strategy: reuseport, exclusive, mutex, master or shared.
    #[arg(long, value_name = "STRATEGY", value_parser = parse_accept)]
    pub accept: Option<AcceptStrategy>,
    /// Access log file (nginx combined format); off when not given.
    #[arg(long, value_name = "PATH")]
    pub access_log: Option<PathBuf>,
    /// Path of the stub_status page (e.g. /nginx_status); off when not given.
    #[arg(long, value_name = "PATH")]
    pub status: Option<String>,
    /// File served for a directory; several, separated by spaces, are
    /// tried in order as nginx's `index` does: "index.html index.htm".
    #[arg(long, value_name = "NAMES")]
    pub index: Option<String>,
    /// Where the master writes its process id.
    #[arg(long, value_name = "PATH")]
    pub pid_file: Option<PathBuf>,
    /// User (and group) the workers run as when started as root, like
    /// nginx's `user`. Default: nobody (and its primary group), as nginx:
    /// the master keeps root to bind ports and reopen logs, the workers
    /// that parse requests do not. `--user root` keeps them as root. The
    /// served root must be readable by that user (the master warns at
    /// start when not); the log files are opened by the master and handed
    /// to the workers. Ignored, with a warning, when not started as root.
    #[arg(long, value_name = "USER[:GROUP]", verbatim_doc_comment)]
    pub user: Option<String>,
    /// Log file of the master and workers (reopened on USR1); default stderr.
    #[arg(long, value_name = "PATH")]
    pub error_log: Option<PathBuf>,
    /// Most connections per worker; at the limit a worker closes its
    /// longest-idle keep-alive connections to make room (as nginx reuses
    /// connections), and stops accepting while none is idle. Default 10240.
    #[arg(long, value_name = "N")]
    pub worker_connections: Option<usize>,
    /// Binds workers to CPUs, like nginx's `worker_cpu_affinity`: `off`
    /// (default), `auto` (worker i on the i-th CPU), or one bitmask per
    /// worker such as "01 10" (the rightmost digit is CPU 0).
    #[arg(long, value_name = "auto|off|MASKS")]
    pub worker_cpu_affinity: Option<String>,
    /// Open-file limit the workers get (the master raises its soft limit
    /// to it, up to the hard limit); default 2 x worker connections + 64.
    #[arg(long, value_name = "N")]
    pub worker_rlimit_nofile: Option<u64>,
    /// Longest request line in bytes (larger: 414); default 8192.
    #[arg(long, value_name = "BYTES")]
    pub max_request_line: Option<usize>,
    /// Largest request head in bytes (larger: 431); default 32768.
    #[arg(long, value_name = "BYTES")]
    pub max_headers: Option<usize>,
    /// Largest request body in bytes (larger: 413); default 1048576.
    #[arg(long, value_name = "BYTES")]
    pub max_body: Option<u64>,
    /// Requests per keep-alive connection; default 1000.
    #[arg(long, value_name = "N")]
    pub keepalive_requests: Option<u64>,
    /// Most ranges one request may ask for (more: the whole file); 0 turns
    /// ranges off. Default 64.
    #[arg(long, value_name = "N")]
    pub max_ranges: Option<usize>,
    /// Time allowed to send a request head (e.g. 60s, 500ms).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub header_timeout: Option<Duration>,
    /// Idle time allowed between requests; default 75s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub keepalive_timeout: Option<Duration>,
    /// Time allowed for the client to take more of a response; default 60s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub send_timeout: Option<Duration>,
    /// Time a gracefully stopping worker may take; default 30s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub shutdown_timeout: Option<Duration>,
    /// Lingering close: how long the client may stay quiet before the
    /// connection closes; default 5s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lingering_timeout: Option<Duration>,
    /// Lingering close: the longest it lasts in all; default 30s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lingering_time: Option<Duration>,
    /// Files each worker keeps open (0: none); default 10000.
    #[arg(long, value_name = "N")]
    pub cache_entries: Option<usize>,
    /// Files up to this size are kept in memory; default 65536.
    #[arg(long, value_name = "BYTES")]
    pub cache_small_file: Option<u64>,
    /// A cached file unused this long is closed; default 60s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub cache_inactive: Option<Duration>,
    /// Most bytes of a response left unsent in the kernel per connection
    /// before the worker waits (TCP_NOTSENT_LOWAT); 0: the kernel's
    /// default, no limit. Default 16384.
    #[arg(long, value_name = "BYTES")]
    pub notsent_lowat: Option<u32>,
    /// While at least --io-coalesce-min-connections connections are
    /// active per millisecond, a worker waits this long before each poll
    /// and takes what arrived as one batch (spindle's own setting, up to
    /// 1000); 0: off. Default 80.
    #[arg(long, value_name = "MICROSECONDS")]
    pub io_coalesce_us: Option<u64>,
    /// Active connections per millisecond from which a worker coalesces
    /// its polls (see --io-coalesce-us). Default 16.
    #[arg(long, value_name = "N")]
    pub io_coalesce_min_connections: Option<usize>,
    /// File under the root whose contents answer a request for a missing
    /// file, with status 404 (nginx's `error_page 404 /404.html`); off
    /// when not given.
    #[arg(long, value_name = "PATH")]
    pub error_page_404: Option<String>,
    /// File under the root whose contents answer a forbidden request,
    /// with status 403 (nginx's `error_page 403`); off when not given.
    #[arg(long, value_name = "PATH")]
    pub error_page_403: Option<String>,
    /// `Expires` and `Cache-Control: max-age` on the answers for files, as
    /// nginx's `expires`: off (default), epoch, max, or a time such as 1h,
    /// 7d, 1M (30 days), 1y; negative sends `Cache-Control: no-cache`.
    #[arg(long, value_name = "TIME", value_parser = spindle_http::expires::parse, allow_hyphen_values = true)]
    pub expires: Option<spindle_http::expires::Expires>,
    /// List a directory that has no index file instead of answering 403
    /// (nginx's `autoindex on`); `--autoindex off` turns it off.
    #[arg(long, value_name = "on|off", num_args = 0..=1, default_missing_value = "on", value_parser = parse_on_off)]
    pub autoindex: Option<bool>,
    /// In listings, sizes in bytes (on, the default) or rounded with K, M,
    /// G (off) (nginx's `autoindex_exact_size`).
    #[arg(long, value_name = "on|off", num_args = 0..=1, default_missing_value = "on", value_parser = parse_on_off)]
    pub autoindex_exact_size: Option<bool>,
    /// In listings, dates in local time rather than UTC (nginx's
    /// `autoindex_localtime`).
    #[arg(long, value_name = "on|off", num_args = 0..=1, default_missing_value = "on", value_parser = parse_on_off)]
    pub autoindex_localtime: Option<bool>,
    /// Listing format: html (default), json or xml (nginx's
    /// `autoindex_format`).
    #[arg(long, value_name = "FORMAT")]
    pub autoindex_format: Option<spindle_http::config::AutoindexFormat>,
    /// Bytes of distinct listings a worker's clients may hold while they
    /// are sent; a new listing past it gets 503 (one listing alone is
    /// always served); default 67108864 (64 MiB).
    #[arg(long, value_name = "BYTES")]
    pub autoindex_max_memory: Option<usize>,
    /// Answer a request for a.css with a.css.gz, when it exists, to
    /// clients that take gzip (on), or to every client (always) (nginx's
    /// `gzip_static`); answers then say `Vary: Accept-Encoding`.
    #[arg(long, value_name = "on|off|always", num_args = 0..=1, default_missing_value = "on")]
    pub gzip_static: Option<spindle_http::config::GzipStatic>,
    /// Compress answers as they are sent, for clients that take gzip
    /// (nginx's `gzip on`): files of --gzip-types at least
    /// --gzip-min-length long; `--gzip off` turns it off.
    #[arg(long, value_name = "on|off", num_args = 0..=1, default_missing_value = "on", value_parser = parse_on_off)]
    pub gzip: Option<bool>,
    /// Media types compressed besides text/html (always), separated by
    /// spaces or commas, or '*' for every type (nginx's `gzip_types`).
    #[arg(long, value_name = "TYPES")]
    pub gzip_types: Option<spindle_http::config::GzipTypes>,
    /// Files shorter than this are sent as they are; default 20 (nginx's
    /// `gzip_min_length`).
    #[arg(long, value_name = "BYTES")]
    pub gzip_min_length: Option<u64>,
    /// Compression level, 1 (fastest, the default) to 9 (smallest)
    /// (nginx's `gzip_comp_level`).
    #[arg(long, value_name = "1-9", value_parser = clap::value_parser!(u32).range(1..=9))]
    pub gzip_comp_level: Option<u32>,
    /// Say `Vary: Accept-Encoding` on answers that may be compressed
    /// (nginx's `gzip_vary`); default off.
    #[arg(long, value_name = "on|off", num_args = 0..=1, default_missing_value = "on", value_parser = parse_on_off)]
    pub gzip_vary: Option<bool>,
    /// The least HTTP version sent gzip, 1.1 (the default) or 1.0, by
    /// --gzip and --gzip-static alike (nginx's `gzip_http_version`).
    #[arg(long, value_name = "1.0|1.1", value_parser = spindle_http::config::parse_http_version)]
    pub gzip_http_version: Option<u8>,
    /// Candidates tried in order for each request, then a fallback path
    /// or =CODE, separated by spaces, $uri standing for the request's
    /// path (nginx's `try_files`): '$uri $uri/ /index.html' for a
    /// single-page application, '$uri $uri/ =404'.
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub try_files: Option<spindle_http::config::TryFiles>,
}

/// nginx's `on`/`off` (and `true`/`false`).
fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        _ => Err(format!("'{s}' is not on or off")),
    }
}

fn parse_accept(s: &str) -> Result<AcceptStrategy, String> {
    s.parse()
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    spindle_http::config::parse_duration(s)
}

impl HttpArgs {
    /// The app these flags describe.
    pub fn app(self) -> HttpApp {
        let o = Overrides {
            listen: self.listen,
            root: self.root,
            workers: self.workers,
            accept: self.accept,
            index: self.index,
            access_log: self.access_log,
            status: self.status,
            pid_file: self.pid_file,
            user: self.user,
            error_log: self.error_log,
            worker_connections: self.worker_connections,
            worker_cpu_affinity: self.worker_cpu_affinity,
            worker_rlimit_nofile: self.worker_rlimit_nofile,
            request_line: self.max_request_line,
            headers: self.max_headers,
            body: self.max_body,
            keepalive_requests: self.keepalive_requests,
            max_ranges: self.max_ranges,
            header_timeout: self.header_timeout,
            keepalive_timeout: self.keepalive_timeout,
            send_timeout: self.send_timeout,
            shutdown_timeout: self.shutdown_timeout,
            lingering_timeout: self.lingering_timeout,
            lingering_time: self.lingering_time,
            cache_entries: self.cache_entries,
            small_file: self.cache_small_file,
            cache_inactive: self.cache_inactive,
            notsent_lowat: self.notsent_lowat,
            io_coalesce_us: self.io_coalesce_us,
            io_coalesce_min_connections: self.io_coalesce_min_connections,
            error_page_404: self.error_page_404,
            error_page_403: self.error_page_403,
            expires: self.expires,
            autoindex: self.autoindex,
            autoindex_exact_size: self.autoindex_exact_size,
            autoindex_localtime: self.autoindex_localtime,
            autoindex_format: self.autoindex_format,
            autoindex_max_memory: self.autoindex_max_memory,
            gzip_static: self.gzip_static,
            gzip: self.gzip,
            gzip_types: self.gzip_types,
            gzip_min_length: self.gzip_min_length,
            gzip_comp_level: self.gzip_comp_level,
            gzip_vary: self.gzip_vary,
            gzip_http_version: self.gzip_http_version,
            try_files: self.try_files,
        };
        HttpApp::new(self.config, o)
    }
}

/// Runs `spindle http`.
///
/// The master (spindle-cluster) binds the listeners, forks the workers
/// and obeys nginx's signals: `HUP` reload, `QUIT` graceful stop,
/// `TERM`/`INT` fast stop, `USR1` reopen logs, `USR2` binary upgrade.
/// Started as root, it binds and opens its files as root and runs the
/// workers as `--user`, `nobody` when not given (`--user root` keeps
/// them as root). Its own and the workers' log output
/// goes to `--error-log` (the writer `main` installs is
/// [`spindle_cluster::ErrorLog`]).
///
/// # Errors
/// A configuration error or a listener that cannot be bound.
pub fn run(args: HttpArgs) -> Result<()> {
    let app = args.app();
    Ok(spindle_cluster::run(app)?)
}
