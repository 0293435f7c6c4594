//! Running the server on its own thread: for tests and for embedding.

use super::{prepare, Config};
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// A server running on a background thread. Dropping it stops the server
/// and joins the thread.
///
/// ```no_run
/// use spindle_kv::server::{Config, ServerThread};
/// let mut cfg = Config::default();
/// cfg.port = 0; // any free port
/// let srv = ServerThread::start(cfg).unwrap();
/// println!("listening on {}", srv.addr());
/// ```
pub struct ServerThread {
    addrs: Vec<SocketAddr>,
    stop: Option<spindle_loop::AsyncHandle>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl ServerThread {
    /// Binds the listeners and runs the server on a new thread.
    ///
    /// # Errors
    /// A bind failure, reported from the server's thread.
    pub fn start(config: Config) -> io::Result<ServerThread> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new().name("spindle-kv".into()).spawn(move || {
            let mut prepared = match prepare(config) {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
                    return Err(e);
                }
            };
            let shared = prepared.shared.clone();
            let stop = prepared.lp.async_new(move |lp, _| {
                let mut srv = shared.borrow_mut();
                srv.shutdown = true;
                // An embedded server stopped by its owner does not save.
                srv.persist.shutdown_save = crate::persist::ShutdownSave::NoSave;
                lp.stop();
            })?;
            prepared.lp.unref(stop.handle());
            let _ = tx.send(Ok((prepared.local_addrs(), stop)));
            prepared.run()
        })?;
        match rx.recv() {
            Ok(Ok((addrs, stop))) => Ok(ServerThread { addrs, stop: Some(stop), thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(io::Error::other("the server thread exited during start-up")),
        }
    }

    /// The first listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every listening address.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops the server and waits for its thread.
    ///
    /// # Errors
    /// The loop's error, if it failed; a panic on the server thread is
    /// reported as an error too.
    pub fn stop(mut self) -> io::Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> io::Result<()> {
        if let Some(s) = self.stop.take() {
            s.send();
        }
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| io::Error::other("the server thread panicked"))?,
            None => Ok(()),
        }
    }

    /// Whether the server thread has exited (after SHUTDOWN).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}
