//! Starting the server: binding its sockets and setting up the loop
//! ([`bind`]), loading the dataset while serving clients
//! ([`Prepared::load`]), and running ([`Prepared::run`]).

use super::{
    after_poll, before_sleep, cron, fdlimit, iothreads, listen, loading, process, shutdown::stop_signal,
    Config, Server, Shared,
};
use spindle_loop::{Loop, RunMode};
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

/// A server that has bound its sockets and is ready to load its data
/// ([`Prepared::load`]) and run.
pub struct Prepared {
    pub(crate) lp: Loop,
    pub(crate) shared: Shared,
}

impl Prepared {
    /// The addresses it listens on (port 0 resolved to the real port).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.shared.borrow().listening.addrs()
    }

    /// Loads the dataset (the AOF or the RDB snapshot), serving clients
    /// meanwhile as Redis does (see [`loading`]), then starts the cron.
    /// Returns `false` if a stop signal or SHUTDOWN arrived while it
    /// loaded: the server has stopped, saving nothing, and [`run`](Self::run)
    /// returns at once.
    ///
    /// # Errors
    /// A corrupt or unreadable file: the server must not start.
    pub fn load(&mut self) -> io::Result<bool> {
        let before_load = crate::alloc::used_memory();
        let loaded = {
            let mut pump = loading::Pump::new(&mut self.lp, &self.shared);
            crate::persist::load_at_startup(&mut pump)
        };
        self.shared.borrow_mut().load_state = None;
        if !loaded? {
            return Ok(false);
        }
        let loaded = crate::alloc::used_memory().saturating_sub(before_load);
        let hz = self.shared.borrow().config.hz.clamp(1, 500);
        let t = self.lp.timer_new();
        let s = self.shared.clone();
        let period = std::time::Duration::from_millis(1000 / hz as u64);
        self.lp.timer_start(t, period, Some(period), move |lp, _| cron(lp, &s))?;
        self.lp.unref(t.handle());
        // Recorded once, when everything but the dataset is in place.
        let mut srv = self.shared.borrow_mut();
        let used = crate::alloc::used_memory();
        srv.startup_memory = used.saturating_sub(loaded);
        srv.peak_memory = srv.peak_memory.max(used);
        crate::persist::repl::refresh_settings(&mut srv);
        crate::persist::rdb_repl::restore_at_start(&mut srv);
        // `replicaof host port` in the config: the cron makes the link.
        let master = srv.config.inert.get("replicaof").and_then(|v| {
            let (host, port) = v.rsplit_once(' ')?;
            Some((host.to_string(), port.parse::<u16>().ok()?))
        });
        if let Some((host, port)) = master {
            crate::persist::replica::follow(&mut srv, &host, port);
        }
        Ok(true)
    }

    /// Runs until SHUTDOWN or a stop signal.
    ///
    /// # Errors
    /// A failure of the poller.
    pub fn run(mut self) -> io::Result<()> {
        while !self.shared.borrow().shutdown {
            self.lp.run(RunMode::Default)?;
            if !self.load_master_snapshot() {
                break;
            }
        }
        crate::persist::shutdown(&mut self.shared.borrow_mut());
        // Redis's last words, which scripts wait for.
        tracing::warn!("spindle kv is now ready to exit, bye bye...");
        Ok(())
    }
}

impl Prepared {
    /// A replica received its master's snapshot and stopped the loop for
    /// it: loads it here, serving clients meanwhile (`-LOADING`) as at
    /// start-up, then adopts the master's connection. Returns whether it
    /// did (the loop must run again).
    fn load_master_snapshot(&mut self) -> bool {
        let target = {
            let mut srv = self.shared.borrow_mut();
            if srv.shutdown {
                return false;
            }
            match crate::persist::replica::begin_load(&mut srv) {
                Some(target) => target,
                None => return false,
            }
        };
        let loaded = {
            let mut pump = loading::Pump::new(&mut self.lp, &self.shared);
            crate::persist::snapshot::load_rdb(&mut pump, &target).map(|_| ())
        };
        let mut guard = self.shared.borrow_mut();
        let srv = &mut *guard;
        srv.load_state = None;
        let (lp, shared) = (&mut self.lp, &self.shared);
        crate::persist::replica::end_load(srv, loaded, &mut |srv, stream, rest| {
            listen::adopt_master(lp, shared, srv, stream, rest)
        });
        true
    }
}

/// Binds the listeners, loads the dataset and sets up the loop, without
/// running it: [`bind`] then [`Prepared::load`]. A shutdown during the
/// load leaves a server whose [`Prepared::run`] returns at once.
///
/// # Errors
/// A bind or listen failure (port in use, bad address), or a dataset
/// that cannot be loaded.
pub fn prepare(config: Config) -> io::Result<Prepared> {
    let mut prepared = bind(config)?;
    prepared.load()?;
    Ok(prepared)
}

/// Binds the listeners and sets up the loop (everything but the dataset
/// and the cron), so that clients can be served while the dataset loads.
///
/// # Errors
/// A bind or listen failure (port in use, bad address).
pub fn bind(mut config: Config) -> io::Result<Prepared> {
    let inert = config.inert_in_use();
    if !inert.is_empty() {
        tracing::info!(
            "options accepted with no effect in this server (features it does not have): {}",
            inert.join(" ")
        );
    }
    fdlimit::adjust_open_files_limit(&mut config).map_err(io::Error::other)?;
    crate::cmd::rename::install(Some(
        crate::cmd::rename::Renames::build(&config.renames).map_err(io::Error::other)?,
    ));
    let mut lp = Loop::new()?;
    let shared: Shared = Rc::new(RefCell::new(Server::new(config)));
    {
        // Start logging created keys and misses if those events are on.
        let mut srv = shared.borrow_mut();
        srv.flush_new_keys(None);
        srv.flush_key_misses(None);
        // Logged inside; the server runs on without it, as Redis does.
        let srv = &mut *srv;
        let _ = srv.oom.apply(&srv.config, super::oom::Class::Server);
    }
    // Bound before the dataset loads, as Redis does: a client that
    // connects meanwhile is served between chunks of the load (see
    // `loading`), and a server whose files fail to load has said where
    // it listens (the banner) before it logs why it stops.
    listen::start_listeners(&mut lp, &shared)?;
    let show_logo = shared.borrow().config.inert.get("always-show-logo").is_some_and(|v| v == "yes");
    process::log_start_banner(&shared.borrow().listening.addrs(), show_logo);
    {
        let mut srv = shared.borrow_mut();
        if srv.config.io_threads > 1 {
            srv.io_threads = Some(iothreads::IoThreads::new(srv.config.io_threads.min(128))?);
        }
    }
    shared.borrow_mut().read_again.attach(&mut lp);
    let check = lp.check_new();
    let s = shared.clone();
    lp.phase_start(check, move |lp, _| after_poll(lp, &s))?;
    lp.unref(check.handle());
    let prep = lp.prepare_new();
    let s = shared.clone();
    lp.phase_start(prep, move |lp, _| before_sleep(lp, &s))?;
    lp.unref(prep.handle());
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let s = shared.clone();
        let h = lp.signal_start(sig, move |_, _, signum| stop_signal(&s, signum))?;
        lp.unref(h.handle());
    }
    shared.borrow_mut().peak_memory = crate::alloc::used_memory();
    Ok(Prepared { lp, shared })
}
