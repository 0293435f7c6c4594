//! The master's listening sockets, keyed by the address the configuration
//! names, kept across reloads and handed to a new binary on upgrade.
//!
//! Every socket is made with `SO_REUSEPORT`. With
//! [`AcceptStrategy::Reuseport`] an address has one socket per worker slot
//! and the kernel hashes each new connection to one of them. A known
//! hazard of `SO_REUSEPORT` is the reload: when a process closes its
//! socket, the connections already queued in *that* socket's backlog are
//! reset, not moved to the others. Here the master creates the sockets
//! and keeps them open for its whole life, workers only hold duplicates,
//! and a reload's new worker `i` takes over the sockets old worker `i`
//! served, so no backlog is ever closed while it holds connections. With
//! fewer workers after a reload, each worker serves several sockets
//! (socket `j` goes to worker `j mod workers`).

use crate::config::{AcceptStrategy, ClusterConfig};
use crate::sys;
use crate::ClusterError;
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};

/// The environment variable a new binary finds its inherited listeners
/// in: `fd:addr;fd:addr...`, `addr` being the configured address.
pub const INHERIT_ENV: &str = "SPINDLE_INHERIT";

/// Sockets bound for a configuration and not yet in use: dropped (so
/// closed) unless [`Listeners::commit`] adopts them.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    by_addr: HashMap<SocketAddr, Vec<TcpListener>>,
}

/// Every listening socket, by configured address.
#[derive(Debug, Default)]
pub(crate) struct Listeners {
    by_addr: HashMap<SocketAddr, Vec<TcpListener>>,
}

impl Listeners {
    /// Adopts the listeners named in [`INHERIT_ENV`], if set, and removes
    /// the variable so that this process's children do not see it.
    pub(crate) fn inherited() -> Result<Listeners, ClusterError> {
        let mut out = Listeners::default();
        let Ok(spec) = std::env::var(INHERIT_ENV) else { return Ok(out) };
        std::env::remove_var(INHERIT_ENV);
        for item in spec.split(';').filter(|s| !s.is_empty()) {
            let bad = || ClusterError::Inherit(format!("malformed entry '{item}' in {INHERIT_ENV}"));
            let (fd, addr) = item.split_once(':').ok_or_else(bad)?;
            let fd: RawFd = fd.parse().map_err(|_| bad())?;
            let addr: SocketAddr = addr.parse().map_err(|_| bad())?;
            let l = sys::adopt_listener(fd)
                .map_err(|e| ClusterError::Inherit(format!("descriptor {fd} for {addr}: {e}")))?;
            out.by_addr.entry(addr).or_default().push(l);
        }
        tracing::info!(addresses = out.by_addr.len(), "adopted inherited listeners");
        Ok(out)
    }

    /// Binds what `cfg` needs and is not bound yet (addresses already
    /// bound are kept), and closes addresses `cfg` no longer names: either
    /// all of it or, on an error, nothing (see [`Listeners::bind_missing`]).
    pub(crate) fn ensure(&mut self, cfg: &ClusterConfig) -> Result<(), ClusterError> {
        let staged = self.bind_missing(cfg)?;
        self.commit(staged, cfg);
        Ok(())
    }

    /// Binds the sockets `cfg` needs that are not bound yet, without
    /// adopting them: on an error, those this call bound are closed again
    /// and nothing changes. A reload refused for an address it cannot bind
    /// must not leave the others it named listening in the master, where
    /// no worker accepts from them: their clients would connect and hang.
    pub(crate) fn bind_missing(&self, cfg: &ClusterConfig) -> Result<Staged, ClusterError> {
        let mut staged = Staged::default();
        for &addr in &cfg.listen {
            let have = self.by_addr.get(&addr).map_or(&[][..], Vec::as_slice);
            let new = staged.by_addr.entry(addr).or_default();
            let want = if cfg.accept == AcceptStrategy::Reuseport { cfg.workers.max(1) } else { 1 };
            // An address new to us must be free: with SO_REUSEPORT our
            // bind would succeed beside another server's listener (same
            // user) and split its connections with it, where nginx gets
            // "Address already in use".
            // One of ours on the same port (a reload narrowing 0.0.0.0:80
            // to 127.0.0.1:80) would fail the probe too; there the bind
            // is left to decide, as before.
            let ours =
                |a: &SocketAddr| self.all().any(|l| l.local_addr().is_ok_and(|b| b.port() == a.port()));
            if have.is_empty() && addr.port() != 0 && !ours(&addr) {
                sys::check_unused(addr).map_err(|e| ClusterError::Listen { addr, error: e })?;
            }
            while have.len() + new.len() < want {
                // Later sockets join the first one's port (port 0 picks
                // it once).
                let at = match have.first().or(new.first()) {
                    Some(first) => first.local_addr().map_err(|e| ClusterError::Listen { addr, error: e })?,
                    None => addr,
                };
                let l = sys::reuseport_listener(at, cfg.backlog)
                    .map_err(|e| ClusterError::Listen { addr, error: e })?;
                new.push(l);
            }
        }
        Ok(staged)
    }

    /// Adopts the sockets [`Listeners::bind_missing`] bound for `cfg`, and
    /// closes the addresses `cfg` no longer names.
    pub(crate) fn commit(&mut self, staged: Staged, cfg: &ClusterConfig) {
        for (addr, socks) in staged.by_addr {
            self.by_addr.entry(addr).or_default().extend(socks);
        }
        self.by_addr.retain(|a, _| cfg.listen.contains(a));
    }

    /// The addresses really bound, in configuration order.
    pub(crate) fn local_addrs(&self, cfg: &ClusterConfig) -> Vec<SocketAddr> {
        cfg.listen.iter().filter_map(|a| self.by_addr.get(a)?.first()?.local_addr().ok()).collect()
    }

    /// The sockets worker `id` of `cfg` accepts from.
    pub(crate) fn for_worker(&self, cfg: &ClusterConfig, id: usize) -> Vec<&TcpListener> {
        let mut out = Vec::new();
        for a in &cfg.listen {
            let Some(socks) = self.by_addr.get(a) else { continue };
            for (j, s) in socks.iter().enumerate() {
                let mine = match cfg.accept {
                    AcceptStrategy::Reuseport => j % cfg.workers.max(1) == id,
                    AcceptStrategy::Master => false,
                    _ => true,
                };
                if mine {
                    out.push(s);
                }
            }
        }
        out
    }

    /// Every socket (the master strategy accepts on all of them).
    pub(crate) fn all(&self) -> impl Iterator<Item = &TcpListener> {
        self.by_addr.values().flatten()
    }

    /// The [`INHERIT_ENV`] value naming every socket, and their descriptors.
    pub(crate) fn inherit_spec(&self) -> (String, Vec<RawFd>) {
        let mut spec = String::new();
        let mut fds = Vec::new();
        for (addr, socks) in &self.by_addr {
            for s in socks {
                spec.push_str(&format!("{}:{addr};", s.as_raw_fd()));
                fds.push(s.as_raw_fd());
            }
        }
        (spec, fds)
    }
}
