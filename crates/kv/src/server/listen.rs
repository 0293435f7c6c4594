//! The listening sockets and accepting clients.
//!
//! The server's listening sockets are a [`Listeners`] set in the
//! [`Server`]. Commands cannot reach the loop, so the set and the loop are
//! kept apart: a command changes the set at once (CONFIG SET `port` and
//! `bind` stop the old sockets listening and bind the new ones before they
//! reply; see the `bind` submodule), and the prepare hook `sync` brings
//! the loop in line before it next sleeps, watching the new sockets and
//! closing the old. Until then a connection to a new socket waits in its
//! backlog, and one to an old socket is refused by the kernel.

mod bind;

use super::client::Client;
use super::{client_event, Server, Shared};
use spindle_loop::{IoId, Loop};
use spindle_poll::{socket, Interest};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Accepts per readable event at most this many connections, so a storm of
/// connects cannot starve the clients already connected (Redis's
/// MAX_ACCEPTS_PER_CALL).
const MAX_ACCEPTS_PER_CALL: usize = 1000;

/// One listening socket.
struct Listener {
    /// Owned here, never by its watcher's callback (which has only the raw
    /// descriptor): it is dropped only after [`sync`] closed the watcher,
    /// which takes it out of the poller first.
    fd: OwnedFd,
    /// The address it is bound to, its port resolved.
    addr: SocketAddr,
    /// The loop's watcher, once [`sync`] (or the start) set it up.
    io: Option<IoId>,
}

/// The Unix-domain listening socket (`unixsocket`).
struct UnixListener {
    /// Owned here; its watcher lives as long as the server.
    fd: OwnedFd,
    /// The socket file, removed when the server ends.
    path: std::path::PathBuf,
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        // As Redis at shutdown. A BGSAVE child leaves with `_exit`, so
        // only the server itself gets here.
        tracing::info!("Removing the unix socket file.");
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(error = %e, "Error removing the unix socket file");
        }
    }
}

/// The server's listening sockets (Redis's `server.ipfd` and
/// `server.sofd`).
#[derive(Default)]
pub struct Listeners {
    /// The Unix-domain socket, if `unixsocket` is set.
    unix: Option<UnixListener>,
    /// The sockets listening now, in `bind` order. One without a watcher
    /// yet gets it from [`sync`] before the loop next sleeps.
    live: Vec<Listener>,
    /// Sockets a rebind took out of service: no longer listening, their
    /// watchers to be closed by [`sync`].
    retired: Vec<Listener>,
}

impl Listeners {
    /// The addresses listened on, in `bind` order (port 0 resolved).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.live.iter().map(|l| l.addr).collect()
    }
}

/// Binds every `bind` address on `port`, starts accepting, and installs
/// [`sync`]. With `port` 0 the first address gets a free port, every
/// further one the same, and the config records the port (so `CONFIG GET
/// port` and a later rebind use it): at start, unlike `CONFIG SET port 0`,
/// port 0 means any free port, which tests and embedders rely on.
///
/// # Errors
/// An address that cannot be bound, or none bound at all (an empty `bind`,
/// or only optional addresses this system lacks), where Redis exits with
/// "Configured to not listen anywhere".
pub(super) fn start_listeners(lp: &mut Loop, shared: &Shared) -> io::Result<()> {
    {
        let mut guard = shared.borrow_mut();
        let srv = &mut *guard;
        let (port, backlog) = (srv.config.port, srv.config.tcp_backlog);
        let unix_only = port == 0 && !srv.config.unixsocket.is_empty();
        let live = if unix_only { Vec::new() } else { bind::bind_all(&srv.config.bind, port, backlog)? };
        if let Some(first) = live.first() {
            srv.config.port = first.addr.port();
        }
        srv.listening.live = live;
        for l in &mut srv.listening.live {
            l.io = Some(watch(lp, shared, l.fd.as_raw_fd(), false)?);
        }
        if !srv.config.unixsocket.is_empty() {
            let u = bind_unix(&srv.config.unixsocket, srv.config.unixsocketperm, backlog)?;
            watch(lp, shared, u.fd.as_raw_fd(), true)?;
            tracing::info!(path = %u.path.display(), "listening on a unix socket");
            srv.listening.unix = Some(u);
        }
        if srv.listening.live.is_empty() && srv.listening.unix.is_none() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "Configured to not listen anywhere"));
        }
    }
    let hook = lp.prepare_new();
    let s = shared.clone();
    lp.phase_start(hook, move |lp, _| sync(lp, &s))?;
    lp.unref(hook.handle());
    Ok(())
}

/// Redis's `anetUnixServer`: removes whatever file is at `path` (a socket
/// left by a server that did not exit cleanly), binds, listens, and sets
/// the file's permissions to `perm` unless it is 0.
///
/// # Errors
/// A path too long for a socket address, or a failed bind (a missing
/// folder, no permission).
fn bind_unix(path: &str, perm: u32, backlog: u32) -> io::Result<UnixListener> {
    let path = std::path::PathBuf::from(path);
    let addr = socket::SockAddr::unix(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("Failed opening Unix socket: {e}")))?;
    let _ = std::fs::remove_file(&path);
    let fd = socket::socket(libc::AF_UNIX)?;
    let fail = |e: io::Error| io::Error::new(e.kind(), format!("Failed opening Unix socket: {e}"));
    socket::bind(fd.as_raw_fd(), &addr).map_err(fail)?;
    // From here the file exists: dropping the listener removes it.
    let listener = UnixListener { fd, path };
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&listener.path, std::fs::Permissions::from_mode(perm)).map_err(fail)?;
    }
    socket::listen(listener.fd.as_raw_fd(), backlog).map_err(fail)?;
    Ok(listener)
}

/// The prepare hook: closes the watchers of retired sockets, then the
/// sockets, and watches the new ones.
fn sync(lp: &mut Loop, shared: &Shared) {
    let mut guard = shared.borrow_mut();
    let set = &mut guard.listening;
    for l in set.retired.drain(..) {
        if let Some(io) = l.io {
            // Out of the poller now, so the descriptor can close below.
            lp.close(io.handle(), None);
        }
    }
    let mut failed = false;
    for l in set.live.iter_mut().filter(|l| l.io.is_none()) {
        match watch(lp, shared, l.fd.as_raw_fd(), false) {
            Ok(io) => l.io = Some(io),
            Err(e) => {
                tracing::error!(address = %l.addr, error = %e, "cannot watch a listening socket; closing it");
                failed = true;
            }
        }
    }
    if failed {
        set.live.retain(|l| l.io.is_some());
    }
}

/// Watches listening socket `fd` (the Unix-domain one if `unix`) for
/// connections.
fn watch(lp: &mut Loop, shared: &Shared, fd: RawFd, unix: bool) -> io::Result<IoId> {
    let s = shared.clone();
    lp.io_start(fd, Interest::READABLE, move |lp, _, _| accept_clients(lp, &s, fd, unix))
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

fn accept_clients(lp: &mut Loop, shared: &Shared, listener: RawFd, unix: bool) {
    for _ in 0..MAX_ACCEPTS_PER_CALL {
        let (fd, peer) = match socket::accept(listener) {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            // A socket a rebind stopped listening, whose watcher `sync`
            // closes before the loop next sleeps (the rebind ran after
            // this iteration's `sync`, from a paused client's command).
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                return;
            }
        };
        let mut srv = shared.borrow_mut();
        accept_one(lp, shared, &mut srv, fd, peer, unix);
    }
}

fn accept_one(
    lp: &mut Loop,
    shared: &Shared,
    srv: &mut Server,
    fd: OwnedFd,
    peer: socket::SockAddr,
    unix: bool,
) {
    let raw = fd.as_raw_fd();
    srv.stats.connections += 1;
    if srv.client_count() >= srv.config.maxclients {
        srv.stats.rejected += 1;
        let _ = socket::send(raw, b"-ERR max number of clients reached\r\n");
        return;
    }
    let (addr, laddr) = if unix {
        // Redis names both ends of a Unix-socket client `PATH:0`; such a
        // client is local, so protected mode lets it in, and TCP's
        // options do not apply.
        let a = format!("{}:0", srv.config.unixsocket);
        (a.clone(), a)
    } else {
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
        let show = |a: Option<SocketAddr>| a.map(|a| a.to_string()).unwrap_or_else(|| "?:0".into());
        (show(peer), show(local))
    };
    let id = srv.next_client_id;
    srv.next_client_id += 1;
    let mut c = Client::new(id, fd, addr, laddr, srv.now_ms);
    c.unix = unix;
    c.authenticated = srv.config.requirepass.is_empty();
    if let Err(e) = add_and_watch(lp, shared, srv, c) {
        tracing::warn!(error = %e, "cannot watch a new client");
    }
}

/// Puts client `c` in the table and watches its socket for reads;
/// returns its slot, or the error (the client is dropped).
fn add_and_watch(lp: &mut Loop, shared: &Shared, srv: &mut Server, c: Client) -> io::Result<usize> {
    let (raw, id) = (c.fd.as_raw_fd(), c.id);
    let slot = srv.add_client(c);
    let s = shared.clone();
    let mode = super::edge::client_mode(lp, srv);
    match lp.io_start_with(raw, Interest::READABLE, mode, move |lp, _, ev| client_event(lp, &s, slot, id, ev))
    {
        Ok(io) => {
            if let Some(c) = srv.clients[slot].as_mut() {
                c.io = Some(io);
            }
            Ok(slot)
        }
        Err(e) => {
            srv.clients[slot] = None;
            srv.free_slots.push(slot);
            Err(e)
        }
    }
}

/// Makes `stream`, a connection to this server's master positioned at the
/// start of its command stream, the master client (see
/// `persist::replica`): watched like any client, its replies dropped,
/// its commands obeyed. `rest` is stream already read. Returns its slot
/// and id.
pub(crate) fn adopt_master(
    lp: &mut Loop,
    shared: &Shared,
    srv: &mut Server,
    stream: std::net::TcpStream,
    rest: Vec<u8>,
) -> Option<(usize, u64)> {
    stream.set_nonblocking(true).ok()?;
    stream.set_read_timeout(None).ok()?;
    let addr = stream.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?:0".into());
    let laddr = stream.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?:0".into());
    let fd = OwnedFd::from(stream);
    let id = srv.next_client_id;
    srv.next_client_id += 1;
    let mut c = Client::new(id, fd, addr, laddr, srv.now_ms);
    c.authenticated = true;
    c.must_obey = true;
    c.master = true;
    c.reply_off = true;
    if !rest.is_empty() {
        c.query.clear();
        c.query.extend_from_slice(&rest);
        c.qlen = rest.len();
    }
    let slot = match add_and_watch(lp, shared, srv, c) {
        Ok(slot) => slot,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the master's connection");
            return None;
        }
    };
    // The stream read with the snapshot runs before the loop sleeps.
    srv.blocking.resume(slot, id);
    Some((slot, id))
}

/// What a non-loopback client hears in protected mode.
const PROTECTED_MODE_ERROR: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running on, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
