//! Binding the `bind` addresses on the `port`: at start, and again at run
//! time when CONFIG SET changes either (Redis's `listenToPort`,
//! `changeListenPort` and `changeBindAddr`).
//!
//! A rebind is all or nothing. Redis closes the old sockets, binds the new
//! ones, and on a failure binds the old addresses again. Here the old
//! sockets are only *stopped*: `shutdown(SHUT_RD)` takes a listening socket
//! out of the listening state (new connections are refused, and with
//! `SO_REUSEADDR` a new socket may bind an overlapping address, `*` where
//! `127.0.0.1` was) while it keeps its descriptor, its watcher and, when it
//! was bound to an explicit port, its port. On a failure the stopped
//! sockets listen on their addresses again, and nothing has changed; on
//! success they are retired, and the loop closes them (see `sync` in
//! [`super`]). A socket already listening on an address the new
//! set wants is kept as it is, so `CONFIG SET bind` with the value in force
//! changes nothing at all.

use super::{Listener, Listeners};
use spindle_poll::socket;
use std::io;
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};

/// Binds every address of `binds` on `port`, in order, skipping those
/// Redis skips (see [`skippable`]). With `port` 0 the first address gets
/// a free port and every further one the same.
///
/// # Errors
/// The first address that is not an IP or cannot be bound, naming it.
pub(super) fn bind_all(binds: &[String], mut port: u16, backlog: u32) -> io::Result<Vec<Listener>> {
    let mut out = Vec::new();
    for (ip, optional) in parse(binds)? {
        if let Some(l) = bind_addr(SocketAddr::new(ip, port), optional, backlog)? {
            port = l.addr.port();
            out.push(l);
        }
    }
    Ok(out)
}

impl Listeners {
    /// Listens on every `binds` address on `port` instead of the sockets
    /// listening now, or, on any failure, goes on with those as they were.
    /// Port 0 listens nowhere, as Redis's `port 0` (no TCP listener).
    ///
    /// # Errors
    /// An address that is not an IP, or the first bind that failed (both
    /// logged here, as Redis logs them).
    pub(crate) fn rebind(&mut self, binds: &[String], port: u16, backlog: u32) -> io::Result<()> {
        let wanted = if port == 0 { Vec::new() } else { parse(binds).inspect_err(log_failure)? };
        // Which socket listening now each wanted address keeps, if any.
        let mut taken = vec![false; self.live.len()];
        let plan: Vec<Plan> = wanted
            .into_iter()
            .map(|(ip, optional)| {
                let addr = SocketAddr::new(ip, port);
                match (0..self.live.len()).find(|&i| !taken[i] && self.live[i].addr == addr) {
                    Some(i) => {
                        taken[i] = true;
                        Plan::Keep(i)
                    }
                    None => Plan::Bind(addr, optional),
                }
            })
            .collect();
        let stopping: Vec<usize> = (0..self.live.len()).filter(|&i| !taken[i]).collect();
        let fresh = self.stop_then_bind(&stopping, &plan, backlog).inspect_err(log_failure)?;
        // Committed: the new set in `bind` order, the stopped ones retired.
        let mut old: Vec<Option<Listener>> = std::mem::take(&mut self.live).into_iter().map(Some).collect();
        let mut fresh = fresh.into_iter();
        for p in &plan {
            let l = match p {
                Plan::Keep(i) => old[*i].take(),
                Plan::Bind(..) => fresh.next().flatten(),
            };
            self.live.extend(l);
        }
        self.retired.extend(old.into_iter().flatten());
        Ok(())
    }

    /// Stops the `stopping` sockets listening, then binds the plan's new
    /// addresses: one entry per [`Plan::Bind`], `None` where the address
    /// was skipped. On a failure the new sockets close and the stopped
    /// ones listen again.
    /// Stops every listening socket at a shutdown (Redis's
    /// `closeListeningSockets` in `finishShutdown`): from now on a
    /// connection attempt is refused, so a client that saw SHUTDOWN close
    /// its connection finds the server gone, not a backlog nobody accepts
    /// from. The descriptors close with the server; the Unix socket's file
    /// is removed then too.
    pub(crate) fn stop_all(&mut self) {
        for l in &self.live {
            let _ = socket::shutdown(l.fd.as_raw_fd(), Shutdown::Read);
        }
        if let Some(u) = &self.unix {
            let _ = socket::shutdown(u.fd.as_raw_fd(), Shutdown::Read);
        }
    }

    fn stop_then_bind(
        &mut self,
        stopping: &[usize],
        plan: &[Plan],
        backlog: u32,
    ) -> io::Result<Vec<Option<Listener>>> {
        let mut stopped = 0;
        let live = &self.live;
        let attempt = (|| -> io::Result<Vec<Option<Listener>>> {
            for &i in stopping {
                socket::shutdown(live[i].fd.as_raw_fd(), Shutdown::Read)?;
                stopped += 1;
            }
            let binds = plan.iter().filter_map(|p| match *p {
                Plan::Bind(addr, optional) => Some(bind_addr(addr, optional, backlog)),
                Plan::Keep(_) => None,
            });
            // Stops at the first failure, closing the sockets bound so far.
            binds.collect()
        })();
        if attempt.is_err() {
            self.resume(&stopping[..stopped], backlog);
        }
        attempt
    }

    /// Makes the `stopped` sockets listen again after a failed rebind. One
    /// that cannot is retired (its watcher would otherwise report the
    /// stopped socket's hang-up forever).
    fn resume(&mut self, stopped: &[usize], backlog: u32) {
        let mut lost = Vec::new();
        for &i in stopped {
            let l = &self.live[i];
            if let Err(e) = listen_again(&l.fd, l.addr, backlog) {
                tracing::error!(address = %l.addr, error = %e, "cannot listen again after a failed rebind");
                lost.push(i);
            }
        }
        for &i in lost.iter().rev() {
            let l = self.live.remove(i);
            self.retired.push(l);
        }
    }
}

/// What a rebind does with one wanted address.
enum Plan {
    /// A socket listening now (its index in `live`) already has it.
    Keep(usize),
    /// Bind it; whether it is optional (`-addr`).
    Bind(SocketAddr, bool),
}

/// Redis logs every failed rebind; CONFIG SET then replies only "Check
/// server logs".
fn log_failure(e: &io::Error) {
    tracing::warn!(error = %e, "failed to bind the new listening sockets; keeping the old ones");
}

/// A stopped socket listens again. One bound to port 0 at start gave its
/// port back when it stopped (the kernel keeps only ports bound
/// explicitly) and is bound to it again; one that kept its port refuses
/// the bind with `EINVAL`, which is fine.
fn listen_again(fd: &OwnedFd, addr: SocketAddr, backlog: u32) -> io::Result<()> {
    match socket::bind(fd.as_raw_fd(), &socket::SockAddr::inet(addr)) {
        Err(e) if e.raw_os_error() != Some(libc::EINVAL) => return Err(e),
        _ => {}
    }
    socket::listen(fd.as_raw_fd(), backlog)
}

/// The `bind` addresses as IPs, each with whether it is optional (`-addr`).
///
/// # Errors
/// `InvalidInput` naming the first address that is not an IP.
fn parse(binds: &[String]) -> io::Result<Vec<(IpAddr, bool)>> {
    binds
        .iter()
        .map(|b| {
            let optional = b.starts_with('-');
            let b = b.trim_start_matches('-');
            let ip = bind_ip(b).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("invalid bind address '{b}'"))
            })?;
            Ok((ip, optional))
        })
        .collect()
}

/// Binds one address and listens; `None` when Redis would skip it.
///
/// # Errors
/// The bind's failure, naming the address.
fn bind_addr(addr: SocketAddr, optional: bool, backlog: u32) -> io::Result<Option<Listener>> {
    match bind_one(addr, backlog) {
        Ok(fd) => {
            let addr = socket::local_inet(fd.as_raw_fd())?;
            Ok(Some(Listener { fd, addr, io: None }))
        }
        Err(e) if skippable(&e, optional) => {
            tracing::warn!(address = %addr.ip(), error = %e, "skipping a bind address this system lacks");
            Ok(None)
        }
        Err(e) => Err(io::Error::new(e.kind(), format!("could not bind {addr}: {e}"))),
    }
}

fn bind_one(addr: SocketAddr, backlog: u32) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let fd = socket::socket(family)?;
    socket::set_opt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if addr.is_ipv6() {
        socket::set_opt(fd.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
    }
    socket::bind(fd.as_raw_fd(), &socket::SockAddr::inet(addr))?;
    socket::listen(fd.as_raw_fd(), backlog)?;
    Ok(fd)
}

/// A `bind` address: an IP, Redis's wildcards `*` (every IPv4 address)
/// and `::*` (every IPv6 address), as in `bind * -::*`, or a host name,
/// which Redis's `anetTcpServer` resolves (`bind localhost`): the first
/// IPv4 address the resolver gives, or IPv6 for a name with a `:`.
fn bind_ip(b: &str) -> Option<IpAddr> {
    match b {
        "*" => Some(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        "::*" => Some(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
        _ => b.parse().ok().or_else(|| {
            use std::net::ToSocketAddrs;
            let v6 = b.contains(':');
            (b, 0).to_socket_addrs().ok()?.map(|a| a.ip()).find(|ip| ip.is_ipv6() == v6)
        }),
    }
}

/// Whether Redis's `listenToPort` goes on without this address: an
/// optional one (`-::1`) the system does not have, or any whose protocol
/// family the system lacks.
fn skippable(e: &io::Error, optional: bool) -> bool {
    match e.raw_os_error() {
        Some(libc::EADDRNOTAVAIL) => optional,
        Some(
            libc::ENOPROTOOPT
            | libc::EPROTONOSUPPORT
            | libc::ESOCKTNOSUPPORT
            | libc::EPFNOSUPPORT
            | libc::EAFNOSUPPORT,
        ) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_takes_redis_wildcards() {
        assert_eq!(bind_ip("*"), Some("0.0.0.0".parse().unwrap()));
        assert_eq!(bind_ip("::*"), Some("::".parse().unwrap()));
        assert_eq!(bind_ip("127.0.0.1"), Some("127.0.0.1".parse().unwrap()));
        // From /etc/hosts, as Redis's getaddrinfo finds it.
        assert_eq!(bind_ip("localhost"), Some("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn only_a_missing_optional_address_or_family_is_skipped() {
        let e = |n| io::Error::from_raw_os_error(n);
        assert!(skippable(&e(libc::EADDRNOTAVAIL), true));
        assert!(!skippable(&e(libc::EADDRNOTAVAIL), false));
        assert!(skippable(&e(libc::EAFNOSUPPORT), false));
        assert!(!skippable(&e(libc::EADDRINUSE), true));
    }
}
