//! A single-process server without a master: one worker thread per
//! listening address, each running [`HttpApp::worker`](crate::HttpApp) on
//! a current-thread runtime (nginx's `master_process off`). The CLI uses
//! it until spindle-cluster's master lands.

use crate::HttpApp;
use spindle_cluster::{App, WorkerCtx};
use std::io;

/// Loads the configuration and serves until the process is killed.
///
/// # Errors
/// A configuration error, or a listener that cannot be bound.
pub fn run(app: HttpApp) -> Result<(), String> {
    let loaded = app.load()?;
    let mut threads = Vec::new();
    for addr in loaded.cluster.listen.clone() {
        let std_listener =
            std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        tracing::info!(%addr, root = %loaded.app.root.display(), "serving");
        let app = app.clone();
        let cfg = loaded.app.clone();
        threads.push(std::thread::spawn(move || -> io::Result<()> {
            let rt = spindle_rt::Builder::new_current_thread().build()?;
            rt.block_on(async move {
                let listener = spindle_rt::net::TcpListener::from_std(std_listener)?;
                let (ctx, _control) = WorkerCtx::standalone(listener);
                app.worker(cfg, ctx).await;
                Ok(())
            })
        }));
    }
    for t in threads {
        match t.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("a worker thread panicked".into()),
        }
    }
    Ok(())
}
