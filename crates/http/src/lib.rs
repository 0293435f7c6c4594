//! spindle-http: an nginx-style static file server on spindle-rt, run by
//! spindle-cluster's master and workers.
//!
//! Each worker serves its connections on a current-thread runtime, one
//! task per connection. A connection reads what the client sent, answers
//! every complete request in it into one buffer and writes that buffer
//! with one system call (which is how pipelining is served), sends large
//! bodies with `sendfile(2)` ([`sys::sendfile`]) a short stretch at a
//! time, as the client takes them (`TCP_NOTSENT_LOWAT`:
//! [`sys::set_notsent_lowat`] says why), and keeps open files and small
//! bodies in a per-worker [`cache`], checked against the disk with one
//! `stat` per hit so a change is served at once. Paths are decoded and
//! normalised before any file system access and resolved beneath the
//! root ([`path`]); limits and timeouts follow nginx ([`config`]).
//!
//! Optional nginx modules, each off by default (and then costing the
//! answer path one test of an `Option`): `error_page` for 404 and 403,
//! `expires` ([`expires`]), `autoindex`, directory listings in nginx's
//! HTML, JSON or XML (see [`config::Autoindex`]), `gzip_static`,
//! `a.css.gz` served for `a.css` to clients that take gzip (see
//! [`config::GzipStatic`]), `gzip`, answers compressed as they are sent
//! (see [`config::Gzip`]: small files compressed once and kept in the
//! cache, large ones streamed in chunks; off, the answer path tests one
//! `bool`), and `try_files`, candidates tried in order
//! then a fallback such as a single-page application's `/index.html` (see
//! [`config::TryFiles`]).
//!
//! Started as root, the master keeps root (to bind ports and reopen the
//! logs) and the workers, which parse what clients send, run as the
//! configured `user`, or as `nobody` when none is set, like nginx; the
//! master warns at start when that user cannot read the root or append
//! to the logs (see [`spindle_cluster::user`]). `user = "root"` keeps
//! the workers as root.
//!
//! ```no_run
//! use spindle_cluster::{App, WorkerCtx};
//! use spindle_http::{HttpApp, Overrides};
//!
//! // Serve ./public on an ephemeral port, in this process.
//! let app = HttpApp::new(None, Overrides { root: Some("public".into()), ..Overrides::default() });
//! let loaded = app.load().expect("a valid configuration");
//! let rt = spindle_rt::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let listener = spindle_rt::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let (ctx, _control) = WorkerCtx::standalone(listener);
//!     app.worker(loaded.app, ctx).await;
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod autoindex;
pub mod cache;
pub mod chunked;
mod compress;
pub mod config;
mod conn;
mod errorpage;
pub mod expires;
mod gzip;
mod head;
pub mod log;
mod lru;
pub mod mime;
mod multirange;
pub mod path;
pub mod range;
mod redirect;
mod response;
mod server;
pub mod sys;
mod tryfiles;

pub use config::{HttpConfig, Overrides};

use spindle_cluster::{App, Loaded, WorkerCtx};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;

/// The static file server as a [`spindle_cluster::App`]: where its
/// configuration comes from, and what each worker runs.
#[derive(Clone, Debug, Default)]
pub struct HttpApp {
    /// The TOML file, if any; re-read on every `load` (so on `SIGHUP`).
    pub config_file: Option<PathBuf>,
    /// Command-line settings, applied over the file's.
    pub overrides: Overrides,
}

impl HttpApp {
    /// An app reading `config_file` (if any) with `overrides` on top.
    pub fn new(config_file: Option<PathBuf>, overrides: Overrides) -> HttpApp {
        HttpApp { config_file, overrides }
    }

    /// Reads and checks the configuration (see [`config::load`]).
    ///
    /// # Errors
    /// A message naming the file, the key and what is wrong.
    pub fn load(&self) -> Result<Loaded<HttpConfig>, String> {
        config::load(self.config_file.as_deref(), &self.overrides)
    }
}

impl App for HttpApp {
    type Config = HttpConfig;

    fn load(&self) -> Result<Loaded<HttpConfig>, String> {
        HttpApp::load(self)
    }

    /// Logs each bound address (with the port the system chose for port 0).
    fn on_listening(&self, addrs: &[SocketAddr]) {
        for a in addrs {
            tracing::info!("listening on {a}");
        }
    }

    /// Serves `ctx.incoming` until it ends; on a drain, finishes requests
    /// in flight, answers the next request of each keep-alive connection
    /// with `Connection: close`, and closes connections that stay idle
    /// past a short grace (`min(keepalive timeout, 1 s)`); on a stop, drops
    /// every connection. Returns when every connection is done.
    fn worker(&self, config: HttpConfig, ctx: WorkerCtx) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(server::run(config, ctx))
    }
}
