//! The socket system calls the net types make, as small safe functions.
//!
//! Every `unsafe` block of `net` lives here, each with the invariant it
//! relies on. `EINTR` is retried in exactly one place, [`cvt_retry`]; no call
//! here blocks (every descriptor is non-blocking), so a retry is short.
//! Reads and writes go through `std::net::TcpStream` (which sends with
//! `MSG_NOSIGNAL`) and need no `unsafe`.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The listen backlog of [`TcpListener::bind`](super::TcpListener::bind):
/// nginx's and Redis's default (`tcp-backlog 511` rounds up to the same
/// order); the kernel caps it at `net.core.somaxconn`.
pub(crate) const BACKLOG: libc::c_int = 1024;

/// Turns a negative return into the thread's `errno`, retrying `EINTR`.
fn cvt_retry<T: Copy + PartialOrd + Default>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        let r = f();
        if r >= T::default() {
            return Ok(r);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Wraps a descriptor the kernel just returned.
fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: callers pass a descriptor a successful socket/accept4 call just
    // returned; nothing else owns it yet.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A socket address in the kernel's layout.
pub(crate) struct SockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl SockAddr {
    fn zeroed() -> SockAddr {
        // SAFETY: sockaddr_storage is plain old data; all-zero bytes are a
        // valid (AF_UNSPEC) value.
        let storage = unsafe { mem::zeroed::<libc::sockaddr_storage>() };
        SockAddr { storage, len: mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t }
    }

    fn family(&self) -> libc::c_int {
        libc::c_int::from(self.storage.ss_family)
    }

    fn ptr(&self) -> *const libc::sockaddr {
        std::ptr::addr_of!(self.storage).cast()
    }

    fn ptr_mut(&mut self) -> *mut libc::sockaddr {
        std::ptr::addr_of_mut!(self.storage).cast()
    }

    pub(crate) fn inet(addr: SocketAddr) -> SockAddr {
        let mut s = SockAddr::zeroed();
        match addr {
            SocketAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and aligned for
                // every sockaddr type, sockaddr_in included.
                unsafe { std::ptr::write(s.ptr_mut().cast::<libc::sockaddr_in>(), sin) };
                s.len = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            }
            SocketAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                    sin6_scope_id: a.scope_id(),
                };
                // SAFETY: as above, for sockaddr_in6.
                unsafe { std::ptr::write(s.ptr_mut().cast::<libc::sockaddr_in6>(), sin6) };
                s.len = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            }
        }
        s
    }

    /// The address as a `SocketAddr`, for the IP families.
    fn to_inet(&self) -> io::Result<SocketAddr> {
        match self.family() {
            libc::AF_INET => {
                // SAFETY: the kernel wrote a sockaddr_in (family AF_INET).
                let sin = unsafe { &*self.ptr().cast::<libc::sockaddr_in>() };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Ok(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
            }
            libc::AF_INET6 => {
                // SAFETY: the kernel wrote a sockaddr_in6 (family AF_INET6).
                let sin6 = unsafe { &*self.ptr().cast::<libc::sockaddr_in6>() };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Ok(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket")),
        }
    }
}

/// A non-blocking, close-on-exec TCP socket for `addr`'s family.
pub(crate) fn socket_for(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: socket takes no pointers.
    cvt_retry(|| unsafe { libc::socket(family, ty, 0) }).map(owned)
}

/// Sets an `int` socket option.
pub(crate) fn set_opt(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value points to a live c_int of the given size.
    cvt_retry(|| unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            std::ptr::addr_of!(value).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

pub(crate) fn bind(fd: RawFd, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: addr points to an initialised address of addr.len bytes.
    cvt_retry(|| unsafe { libc::bind(fd, addr.ptr(), addr.len) }).map(drop)
}

pub(crate) fn listen(fd: RawFd, backlog: libc::c_int) -> io::Result<()> {
    // SAFETY: listen takes no pointers.
    cvt_retry(|| unsafe { libc::listen(fd, backlog) }).map(drop)
}

/// Starts a connect. `Ok(true)`: connected already; `Ok(false)`: in
/// progress (`EINPROGRESS`), completion is announced by writability.
pub(crate) fn connect(fd: RawFd, addr: &SockAddr) -> io::Result<bool> {
    // SAFETY: addr points to an initialised address of addr.len bytes.
    // Not retried on EINTR: an interrupted connect continues in the kernel,
    // and a second call would say EALREADY; treat it as in progress.
    let r = unsafe { libc::connect(fd, addr.ptr(), addr.len) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINPROGRESS | libc::EINTR) => Ok(false),
        _ => Err(e),
    }
}

/// Accepts one connection, non-blocking and close-on-exec (`accept4`), and
/// the peer's address.
pub(crate) fn accept(fd: RawFd) -> io::Result<(OwnedFd, SocketAddr)> {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let mut addr = SockAddr::zeroed();
    let fd = cvt_retry(|| {
        addr.len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: the address pointer and its length describe `addr.storage`,
        // which lives across the call and is large enough for any family.
        unsafe { libc::accept4(fd, addr.ptr_mut(), &mut addr.len, flags) }
    })
    .map(owned)?;
    Ok((fd, addr.to_inet()?))
}
