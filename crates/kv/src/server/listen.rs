//! The listening sockets and accepting clients.

use super::client::Client;
use super::{client_event, Server, Shared};
use spindle_loop::Loop;
use spindle_poll::{socket, Interest};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};

/// Accepts per readable event at most this many connections, so a storm of
/// connects cannot starve the clients already connected (Redis's
/// MAX_ACCEPTS_PER_CALL).
const MAX_ACCEPTS_PER_CALL: usize = 1000;

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

/// Binds every `bind` address on `port` and starts accepting. With `port`
/// 0 the config records the port the first address got, so that `CONFIG
/// GET port`, `INFO` and `CONFIG REWRITE` report the port listened on.
pub(super) fn start_listeners(lp: &mut Loop, shared: &Shared) -> io::Result<()> {
    let (binds, mut port, backlog) = {
        let s = shared.borrow();
        (s.config.bind.clone(), s.config.port, s.config.tcp_backlog)
    };
    for b in binds {
        // `-addr`: optional, skipped when the system lacks it (Redis's
        // `bind 127.0.0.1 -::1` on a host without IPv6).
        let optional = b.starts_with('-');
        let b = b.trim_start_matches('-');
        let ip = bind_ip(b).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("invalid bind address '{b}'"))
        })?;
        let fd = match bind_one(SocketAddr::new(ip, port), backlog) {
            Ok(fd) => fd,
            Err(e) if skippable(&e, optional) => {
                tracing::warn!(address = %ip, error = %e, "skipping a bind address this system lacks");
                continue;
            }
            Err(e) => return Err(io::Error::new(e.kind(), format!("could not bind {ip}:{port}: {e}"))),
        };
        let local = socket::local_inet(fd.as_raw_fd())?;
        // With port 0 every further address uses the port the first one got.
        port = local.port();
        shared.borrow_mut().listening.push(local);
        let s = shared.clone();
        lp.io_start(fd.as_raw_fd(), Interest::READABLE, move |lp, _, _| accept_clients(lp, &s, &fd))?;
    }
    shared.borrow_mut().config.port = port;
    Ok(())
}

/// A `bind` address: an IP, or Redis's wildcards `*` (every IPv4
/// address) and `::*` (every IPv6 address), as in `bind * -::*`.
fn bind_ip(b: &str) -> Option<IpAddr> {
    match b {
        "*" => Some(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        "::*" => Some(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
        _ => b.parse().ok(),
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

/// Redis's `anetKeepAlive`: SO_KEEPALIVE, the first probe after `interval`
/// idle seconds, then one every third of that, and the connection dropped
/// after 3 unanswered probes. `interval` 0 leaves keepalive off.
///
/// # Errors
/// A failed `setsockopt`.
pub fn set_keepalive(fd: std::os::fd::RawFd, interval: u32) -> io::Result<()> {
    if interval == 0 {
        return Ok(());
    }
    let secs = i32::try_from(interval).unwrap_or(i32::MAX);
    socket::set_opt(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    socket::set_opt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, secs)?;
    socket::set_opt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, (secs / 3).max(1))?;
    socket::set_opt(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3)
}

fn accept_clients(lp: &mut Loop, shared: &Shared, listener: &OwnedFd) {
    for _ in 0..MAX_ACCEPTS_PER_CALL {
        let (fd, peer) = match socket::accept(listener.as_raw_fd()) {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                return;
            }
        };
        let mut srv = shared.borrow_mut();
        accept_one(lp, shared, &mut srv, fd, peer);
    }
}

fn accept_one(lp: &mut Loop, shared: &Shared, srv: &mut Server, fd: OwnedFd, peer: socket::SockAddr) {
    let raw = fd.as_raw_fd();
    srv.stats.connections += 1;
    if srv.client_count() >= srv.config.maxclients {
        srv.stats.rejected += 1;
        let _ = socket::send(raw, b"-ERR max number of clients reached\r\n");
        return;
    }
    let peer = peer.to_inet().ok();
    let local = socket::local_inet(raw).ok();
    if srv.config.protected_mode && srv.config.requirepass.is_empty() {
        if let Some(p) = peer {
            if !p.ip().is_loopback() {
                let _ = socket::send(raw, PROTECTED_MODE_ERROR.as_bytes());
                return;
            }
        }
    }
    let _ = socket::set_opt(raw, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    if let Err(e) = set_keepalive(raw, srv.config.tcp_keepalive) {
        tracing::warn!(error = %e, "cannot set TCP keepalive on a client");
    }
    let id = srv.next_client_id;
    srv.next_client_id += 1;
    let show = |a: Option<SocketAddr>| a.map(|a| a.to_string()).unwrap_or_else(|| "?:0".into());
    let mut c = Client::new(id, fd, show(peer), show(local), srv.now_ms);
    c.authenticated = srv.config.requirepass.is_empty();
    let slot = srv.add_client(c);
    let s = shared.clone();
    let mode = super::edge::client_mode(lp, srv);
    match lp.io_start_with(raw, Interest::READABLE, mode, move |lp, _, ev| client_event(lp, &s, slot, id, ev))
    {
        Ok(io) => {
            if let Some(c) = srv.clients[slot].as_mut() {
                c.io = Some(io);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch a new client");
            srv.clients[slot] = None;
            srv.free_slots.push(slot);
        }
    }
}

/// What a non-loopback client hears in protected mode.
const PROTECTED_MODE_ERROR: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running on, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_takes_redis_wildcards() {
        assert_eq!(bind_ip("*"), Some("0.0.0.0".parse().unwrap()));
        assert_eq!(bind_ip("::*"), Some("::".parse().unwrap()));
        assert_eq!(bind_ip("127.0.0.1"), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(bind_ip("localhost"), None);
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
