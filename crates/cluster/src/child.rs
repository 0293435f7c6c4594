//! A worker process's start, right after `fork`: shed the master's
//! state, give up root (if the master is root: to the configured `user`,
//! `nobody` by default; after the listeners and the error log are open,
//! before anything of the application runs), build a runtime, adopt the channel and listeners,
//! run the application, exit.

use crate::accept::{FdQueue, Source};
use crate::app::App;
use crate::config::{AcceptStrategy, ClusterConfig};
use crate::errlog::ErrorLog;
use crate::stats::{Slot, Stats};
use crate::worker::{ControlHandle, WorkerCtx};
use crate::{channel, sys, user};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::AtomicI32;
use std::sync::Arc;
use std::task::Poll;

/// What a new worker needs, borrowed from the master's state (which the
/// child has a copy of and abandons).
pub(crate) struct Spawn<'a> {
    pub(crate) cluster: &'a ClusterConfig,
    pub(crate) chan: &'a std::os::unix::net::UnixStream,
    pub(crate) listeners: Vec<&'a std::net::TcpListener>,
    pub(crate) log_files: &'a [(std::path::PathBuf, std::fs::File)],
    pub(crate) lock: &'static AtomicI32,
    pub(crate) slots: &'static [Slot],
    pub(crate) slot: usize,
    pub(crate) id: usize,
    pub(crate) generation: u64,
}

/// Runs the worker in the freshly forked child; never returns.
///
/// The child is a copy of the master inside one of its loop callbacks.
/// Nothing of that copy is used or dropped: dropping the loop would
/// deregister descriptors from an epoll instance the child *shares* with
/// the master (epoll registrations belong to the open file, which fork
/// does not copy). Instead the child closes every descriptor it does not
/// need and leaves with `_exit`.
pub(crate) fn worker_main<A: App>(app: &A, config: A::Config, s: Spawn<'_>) -> ! {
    sys::worker_signals();
    let code = match worker_body(app, config, s) {
        Ok(()) => 0,
        Err(e) => {
            // The error log (standard error unless `error_log` is set):
            // the master only sees the exit status.
            tracing::error!(pid = sys::getpid(), "worker failed: {e}");
            2
        }
    };
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    sys::exit_now(code)
}

fn worker_body<A: App>(app: &A, config: A::Config, s: Spawn<'_>) -> io::Result<()> {
    let chan = s.chan.try_clone()?;
    let listeners = s.listeners.iter().map(|l| l.try_clone()).collect::<io::Result<Vec<_>>>()?;
    let log_files =
        s.log_files.iter().map(|(p, f)| Ok((p.clone(), f.try_clone()?))).collect::<io::Result<Vec<_>>>()?;
    let mut keep = vec![chan.as_raw_fd()];
    keep.extend(listeners.iter().map(|l| l.as_raw_fd()));
    keep.extend(log_files.iter().map(|(_, f)| f.as_raw_fd()));
    keep.extend(ErrorLog::raw_fd());
    sys::close_all_but(&keep);
    // Before the privilege drop and the application, as nginx binds its
    // workers; a failure is worth a warning, not a worker.
    match crate::affinity::apply(&s.cluster.worker_cpu_affinity, s.id) {
        Ok(Some(cpus)) => tracing::debug!(worker = s.id, ?cpus, "worker bound to CPUs"),
        Ok(None) => {}
        Err(e) => tracing::warn!(worker = s.id, error = %e, "worker_cpu_affinity not applied"),
    }
    if let Some(u) = user::in_effect(s.cluster.user.as_ref()) {
        user::drop_privileges(u)?;
    }

    let mut builder = spindle_rt::Builder::new_current_thread();
    if let Some(c) = s.cluster.io_coalesce {
        builder.io_coalesce(c.wait, c.min_active);
    }
    let rt = builder.build()?;
    let stats = Stats::for_worker(s.slots, s.slot);
    let cluster = s.cluster;
    rt.block_on(async move {
        let chan = spindle_rt::net::UnixStream::from_std(chan)?;
        let (handle, control) = ControlHandle::new();
        handle.set_generation(s.generation);
        let queue = Arc::new(FdQueue::default());
        let source = match cluster.accept {
            AcceptStrategy::Reuseport | AcceptStrategy::Shared => Source::listeners(listeners, false)?,
            AcceptStrategy::Exclusive => Source::listeners(listeners, true)?,
            AcceptStrategy::Mutex => Source::mutex(listeners, s.lock, cluster.accept_mutex_delay)?,
            AcceptStrategy::Master => Source::master(queue.clone()),
        }
        .with_limit(cluster.worker_connections);
        spindle_rt::spawn_local(obey_signals(handle.clone()));
        spindle_rt::spawn_local(channel::obey(
            chan,
            handle,
            queue,
            stats.clone(),
            cluster.shutdown_timeout,
            cluster.log_files.clone(),
        ));
        let mut ctx = WorkerCtx::new(source, control, stats, s.id);
        ctx.log_files = log_files;
        app.worker(config, ctx).await;
        Ok(())
    })
}

/// Obeys `QUIT` (drain) and `TERM`/`INT` (stop) sent to the worker itself,
/// as nginx's workers do. Such signals come to the whole process group
/// from a terminal's Ctrl-C, from `kill -QUIT -PGID`, or from a service
/// manager that signals every process of the service (systemd's default
/// `KillMode=control-group` with `KillSignal=SIGQUIT`): with the default
/// dispositions a `QUIT` killed every worker at once (dumping core) and
/// cut the downloads in flight, where the same signal to the master alone
/// drains them. The master, which gets the signal too, does the same, so
/// the two agree; a worker signalled alone finishes its connections and
/// exits, and the master starts another in its place.
async fn obey_signals(handle: ControlHandle) {
    use spindle_rt::signal::{signal, SignalKind};
    let listen = |k: SignalKind| {
        signal(k).inspect_err(|e| tracing::warn!(signal = k.as_raw(), error = %e, "cannot watch a signal"))
    };
    let (Ok(mut quit), Ok(mut term), Ok(mut int)) =
        (listen(SignalKind::quit()), listen(SignalKind::terminate()), listen(SignalKind::interrupt()))
    else {
        return;
    };
    loop {
        let graceful = std::future::poll_fn(|cx| {
            for (s, graceful) in [(&mut quit, true), (&mut term, false), (&mut int, false)] {
                match s.poll_recv(cx) {
                    Poll::Ready(Some(())) => return Poll::Ready(Some(graceful)),
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => {}
                }
            }
            Poll::Pending
        })
        .await;
        match graceful {
            Some(true) => {
                handle.drain();
                tracing::info!(pid = sys::getpid(), "QUIT: the worker drains");
            }
            Some(false) => {
                handle.stop();
                tracing::info!(pid = sys::getpid(), "TERM or INT: the worker stops");
            }
            None => return,
        }
    }
}
