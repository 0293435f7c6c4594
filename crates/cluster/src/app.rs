//! The contract between the cluster and the server it runs.

use crate::config::ClusterConfig;
use crate::worker::WorkerCtx;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

/// A configuration as [`App::load`] read it: the master's part and the
/// application's.
#[derive(Clone, Debug)]
pub struct Loaded<C> {
    /// Listeners, workers, accept strategy, timeouts.
    pub cluster: ClusterConfig,
    /// The application's own settings, handed to each worker it forks.
    pub app: C,
}

/// A server the cluster can run: how to read its configuration, and what
/// each worker process runs.
pub trait App: 'static {
    /// The application's settings.
    type Config: Clone + 'static;

    /// Reads the whole configuration. Called in the master at start-up
    /// and on every `SIGHUP`; an error on reload is logged and the running
    /// workers keep serving with the old configuration.
    ///
    /// # Errors
    /// A message saying what is wrong with the configuration.
    fn load(&self) -> Result<Loaded<Self::Config>, String>;

    /// The worker's main future, run on a current-thread spindle-rt
    /// runtime in the worker process: serve `ctx.incoming` until it ends,
    /// obey `ctx.control`, and return when every connection is done.
    fn worker(&self, config: Self::Config, ctx: WorkerCtx) -> Pin<Box<dyn Future<Output = ()>>>;

    /// Called in the master once its listeners are bound (or inherited),
    /// before any worker starts, with the addresses they really have (the
    /// port the system chose for port 0). The default does nothing; a
    /// server may print them.
    fn on_listening(&self, addrs: &[SocketAddr]) {
        let _ = addrs;
    }
}
