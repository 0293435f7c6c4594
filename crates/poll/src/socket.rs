//! Thin, safe wrappers over the socket system calls that spindle-loop's
//! streams and spindle-rt's net types share; all their `unsafe` lives here.
//!
//! Each function is one system call (two for [`set_nonblocking`] when the
//! flag is not yet set), each `unsafe` block states the invariant it relies
//! on, and `EINTR` is retried in exactly one place, `cvt_retry`. No call here
//! blocks (every descriptor these callers use is non-blocking), so a retry is
//! always short. Descriptors made here ([`socket`], [`datagram_socket`],
//! [`socketpair`], [`accept`], [`reserve_fd`]) are non-blocking (sockets)
//! and close-on-exec, and every send ([`send`], [`send_vectored`],
//! [`send_to`]) uses `MSG_NOSIGNAL`, so a closed peer is `EPIPE`, never
//! `SIGPIPE`.

use std::io;
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

mod msg;

pub use msg::{recv, recv_from, send_to, send_vectored, MAX_IOV};

/// Turns a negative return into the thread's `errno`, retrying `EINTR`.
#[inline]
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
#[inline]
fn owned(fd: libc::c_int) -> OwnedFd {
    // SAFETY: callers pass a descriptor a successful socket/accept4/open call
    // just returned; nothing else owns it yet.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A socket address in the kernel's layout (a `sockaddr_storage` and the
/// length in use), as passed to and returned by the calls of this module.
pub struct SockAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl SockAddr {
    #[inline]
    fn zeroed() -> SockAddr {
        // SAFETY: sockaddr_storage is plain old data; all-zero bytes are a
        // valid (AF_UNSPEC) value.
        let storage = unsafe { mem::zeroed::<libc::sockaddr_storage>() };
        SockAddr { storage, len: mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t }
    }

    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`, ...).
    #[inline]
    pub fn family(&self) -> libc::c_int {
        libc::c_int::from(self.storage.ss_family)
    }

    #[inline]
    fn ptr(&self) -> *const libc::sockaddr {
        std::ptr::addr_of!(self.storage).cast()
    }

    #[inline]
    fn ptr_mut(&mut self) -> *mut libc::sockaddr {
        std::ptr::addr_of_mut!(self.storage).cast()
    }

    /// An IPv4 or IPv6 address (`sockaddr_in` or `sockaddr_in6`).
    pub fn inet(addr: SocketAddr) -> SockAddr {
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

    /// A Unix-domain address. A path starting with a NUL byte names Linux's
    /// abstract namespace (no file is made).
    ///
    /// # Errors
    /// `InvalidInput` for an empty path, one too long for `sun_path`, or a
    /// filesystem path holding a NUL byte.
    pub fn unix(path: &Path) -> io::Result<SockAddr> {
        let bytes = path.as_os_str().as_bytes();
        let mut s = SockAddr::zeroed();
        // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_un.
        let sun = unsafe { &mut *s.ptr_mut().cast::<libc::sockaddr_un>() };
        let abstract_name = bytes.first() == Some(&0);
        // A filesystem path needs room for its terminating NUL.
        if bytes.is_empty() || bytes.len() + usize::from(!abstract_name) > sun.sun_path.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a Unix socket path must be 1 to {} bytes: {path:?}", sun.sun_path.len() - 1),
            ));
        }
        if !abstract_name && bytes.contains(&0) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "a Unix socket path holds a NUL byte"));
        }
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, b) in sun.sun_path.iter_mut().zip(bytes) {
            *d = *b as libc::c_char;
        }
        let base = mem::size_of::<libc::sa_family_t>();
        s.len = (base + bytes.len() + usize::from(!abstract_name)) as libc::socklen_t;
        Ok(s)
    }

    /// The address as a `SocketAddr`, for the IP families.
    ///
    /// # Errors
    /// `InvalidInput` ("not an IP socket") for any other family.
    pub fn to_inet(&self) -> io::Result<SocketAddr> {
        match self.family() {
            libc::AF_INET => {
                // SAFETY: the kernel (or `inet`) wrote a sockaddr_in (family
                // AF_INET), and storage is aligned and large enough for it.
                let sin = unsafe { &*self.ptr().cast::<libc::sockaddr_in>() };
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Ok(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
            }
            libc::AF_INET6 => {
                // SAFETY: as above, a sockaddr_in6 (family AF_INET6).
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

/// A non-blocking, close-on-exec stream socket of `family` (`AF_INET`,
/// `AF_INET6`, `AF_UNIX`).
///
/// # Errors
/// The kernel's `socket` error (`EMFILE`, `EAFNOSUPPORT`, ...).
pub fn socket(family: libc::c_int) -> io::Result<OwnedFd> {
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: socket takes no pointers.
    cvt_retry(|| unsafe { libc::socket(family, ty, 0) }).map(owned)
}

/// A non-blocking, close-on-exec datagram socket of `family` (`AF_INET`,
/// `AF_INET6`, `AF_UNIX`): UDP for the IP families.
///
/// # Errors
/// The kernel's `socket` error (`EMFILE`, `EAFNOSUPPORT`, ...).
pub fn datagram_socket(family: libc::c_int) -> io::Result<OwnedFd> {
    let ty = libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: socket takes no pointers.
    cvt_retry(|| unsafe { libc::socket(family, ty, 0) }).map(owned)
}

/// A connected pair of non-blocking, close-on-exec Unix stream sockets
/// (`socketpair(AF_UNIX, SOCK_STREAM)`).
///
/// # Errors
/// The kernel's `socketpair` error (`EMFILE`, ...).
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let mut fds: [libc::c_int; 2] = [-1, -1];
    // SAFETY: fds is a live array of the two c_ints socketpair writes.
    cvt_retry(|| unsafe { libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr()) })?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// Sets an `int` socket option (`setsockopt`).
///
/// # Errors
/// The kernel's `setsockopt` error.
#[inline]
pub fn set_opt(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the option value points to a live c_int of the length passed.
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

/// Reads an `int` socket option (`getsockopt`).
///
/// # Errors
/// The kernel's `getsockopt` error.
#[inline]
pub fn get_opt(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are live and len is value's size; the kernel
    // writes at most len bytes.
    cvt_retry(|| unsafe {
        libc::getsockopt(fd, level, name, std::ptr::addr_of_mut!(value).cast(), &mut len)
    })?;
    Ok(value)
}

/// Sets `SO_LINGER`: `Some(t)` makes `close` wait up to `t` for unsent
/// data (on a blocking socket); `Some(ZERO)` makes `close` drop unsent
/// data and reset the connection (`RST`, the peer sees `ECONNRESET`)
/// instead of the orderly `FIN`; `None` restores the default (close at
/// once, send the rest in the background). Whole seconds; a nonzero
/// duration under a second counts as one.
///
/// # Errors
/// The kernel's `setsockopt` error.
pub fn set_linger(fd: RawFd, linger: Option<std::time::Duration>) -> io::Result<()> {
    let value = libc::linger {
        l_onoff: libc::c_int::from(linger.is_some()),
        l_linger: linger.map_or(0, |d| {
            let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0 && d.as_secs() == 0);
            libc::c_int::try_from(secs).unwrap_or(libc::c_int::MAX)
        }),
    };
    // SAFETY: the option value points to a live linger of the length passed.
    cvt_retry(|| unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(value).cast(),
            mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Reads `SO_LINGER`, as [`set_linger`] takes it.
///
/// # Errors
/// The kernel's `getsockopt` error.
pub fn linger(fd: RawFd) -> io::Result<Option<std::time::Duration>> {
    let mut value = libc::linger { l_onoff: 0, l_linger: 0 };
    let mut len = mem::size_of::<libc::linger>() as libc::socklen_t;
    // SAFETY: value and len are live and len is value's size; the kernel
    // writes at most len bytes.
    cvt_retry(|| unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of_mut!(value).cast(),
            &mut len,
        )
    })?;
    Ok((value.l_onoff != 0).then(|| std::time::Duration::from_secs(value.l_linger.max(0) as u64)))
}

/// Binds `fd` to `addr`.
///
/// # Errors
/// The kernel's `bind` error (`EADDRINUSE`, `EACCES`, ...).
#[inline]
pub fn bind(fd: RawFd, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: addr points to an initialised address of addr.len bytes.
    cvt_retry(|| unsafe { libc::bind(fd, addr.ptr(), addr.len) }).map(drop)
}

/// Starts listening with room for `backlog` pending connections (saturated
/// to `c_int::MAX`; the kernel caps it at `net.core.somaxconn`).
///
/// # Errors
/// The kernel's `listen` error.
#[inline]
pub fn listen(fd: RawFd, backlog: u32) -> io::Result<()> {
    let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
    // SAFETY: listen takes no pointers.
    cvt_retry(|| unsafe { libc::listen(fd, backlog) }).map(drop)
}

/// Starts a connect. `Ok(true)`: connected already; `Ok(false)`: in
/// progress (`EINPROGRESS`), completion is announced by writability.
///
/// # Errors
/// The kernel's `connect` error other than `EINPROGRESS` and `EINTR`.
pub fn connect(fd: RawFd, addr: &SockAddr) -> io::Result<bool> {
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

/// Accepts one connection, non-blocking and close-on-exec (`accept4`), with
/// the peer's address as the kernel reported it (any family).
///
/// # Errors
/// The kernel's `accept4` error (`EAGAIN` as `WouldBlock`, `ECONNABORTED`,
/// `EMFILE`, ...).
#[inline]
pub fn accept(fd: RawFd) -> io::Result<(OwnedFd, SockAddr)> {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let mut addr = SockAddr::zeroed();
    let fd = cvt_retry(|| {
        addr.len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: the address pointer and its length describe `addr.storage`,
        // which lives across the call and is large enough for any family.
        unsafe { libc::accept4(fd, addr.ptr_mut(), &mut addr.len, flags) }
    })
    .map(owned)?;
    Ok((fd, addr))
}

/// Reads into `buf` (one `read`): for pipes and other non-sockets; a
/// socket is cheaper to read with [`recv_stream`].
///
/// The call goes through `syscall(2)` rather than libc's `read`. glibc's
/// `read` is a thread-cancellation point: in a process with more than one
/// thread it brackets the system call with `__pthread_enable_asynccancel`
/// and `__pthread_disable_asynccancel`, atomic updates of the thread's
/// cancellation state. Spindle never cancels a thread, and a server that
/// reads once per request paid about 1.3% of its time for the bracket
/// (spindle kv under `redis-benchmark -P 1`, profiled).
///
/// # Errors
/// The kernel's `read` error (`EAGAIN` as `WouldBlock`, `ECONNRESET`, ...).
#[inline]
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    let fd = libc::c_long::from(fd);
    // SAFETY: buf is a live, writable slice of buf.len() bytes, and
    // SYS_read takes exactly (fd, pointer, length).
    cvt_retry(|| unsafe { libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len()) })
        .map(|n| n as usize)
}

/// Reads from a socket into `buf` (one `recv` with no flags).
///
/// For sockets, prefer this to [`read`]: `read(2)` goes through the VFS
/// layer (`vfs_read`, `rw_verify_area`, the security hook and
/// `fsnotify_access`) before it reaches the socket's `recvmsg`, while
/// `recvfrom(2)` goes straight to the socket. Profiled under an HTTP
/// keep-alive load (one read and one send per request), the VFS path cost
/// about 2.5% of the server's CPU time, about 0.15 µs a request.
///
/// Like [`read`], it calls the kernel through `syscall(2)` (as `recvfrom`
/// with no address, which is what libc's `recv` is) to skip glibc's
/// cancellation-point bracket.
///
/// # Errors
/// The kernel's `recv` error (`EAGAIN` as `WouldBlock`, `ECONNRESET`,
/// `ENOTSOCK` if `fd` is not a socket, ...).
#[inline]
pub fn recv_stream(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is a live, writable slice of buf.len() bytes.
    unsafe { recv_raw(fd, buf.as_mut_ptr(), buf.len()) }
}

/// `recv(2)` with no flags, through `syscall(2)` as `recvfrom` with no
/// address: the call [`recv_stream`] and [`recv_into_spare`] share.
///
/// # Safety
///
/// `ptr` must be valid for writes of `len` bytes (they may be
/// uninitialized); the kernel writes at most the count it returns.
#[inline]
unsafe fn recv_raw(fd: RawFd, ptr: *mut u8, len: usize) -> io::Result<usize> {
    let fd = libc::c_long::from(fd);
    let (no_addr, no_len) = (std::ptr::null_mut::<libc::sockaddr>(), std::ptr::null_mut::<libc::socklen_t>());
    // SAFETY: the caller vouches for ptr and len; SYS_recvfrom takes
    // exactly (fd, pointer, length, flags, address, address length
    // pointer), each passed as a full register, and a null address and
    // null length pointer ask for no sender address.
    cvt_retry(|| unsafe {
        libc::syscall(libc::SYS_recvfrom, fd, ptr, len, 0 as libc::c_long, no_addr, no_len)
    })
    .map(|n| n as usize)
}

/// Reads from a socket into the spare capacity of `buf`, at most `max`
/// bytes (one `recv`, as [`recv_stream`]), and appends what arrived:
/// `buf.len()` grows by the count returned. `buf` must already have the
/// room (`Vec::reserve`); at most `buf.capacity() - buf.len()` bytes are
/// read, whatever `max` says. With no room, or `max` 0, the kernel reads
/// nothing and returns 0, which is also how the end of the stream looks:
/// reserve before calling.
///
/// Why not [`recv_stream`] into a zeroed slice: a connection's input
/// buffer is sized for a large read (Redis reads 16 KiB at a time) while
/// most reads are a few dozen bytes. Zero-filling the buffer first writes
/// every one of its pages, so each client would hold 16 KiB of resident
/// memory and pay the page faults for it when it first sends; the kernel's
/// copy writes only the bytes that arrive, and the untouched pages stay
/// unbacked, as they do under redis-server's malloc'd query buffer.
///
/// ```
/// use std::io::Write;
/// use std::os::fd::AsRawFd;
///
/// let (mut a, b) = std::os::unix::net::UnixStream::pair()?;
/// a.write_all(b"PING\r\n")?;
/// let mut buf = b"*1".to_vec();
/// buf.reserve(16 * 1024);
/// let n = spindle_poll::socket::recv_into_spare(b.as_raw_fd(), &mut buf, 16 * 1024)?;
/// assert_eq!((n, &buf[..]), (6, &b"*1PING\r\n"[..]));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// As [`recv_stream`]; `buf` is unchanged on an error.
#[inline]
pub fn recv_into_spare(fd: RawFd, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(max);
    // SAFETY: the spare capacity is `len` or more writable (possibly
    // uninitialized) bytes of buf's allocation past its length.
    let n = unsafe { recv_raw(fd, spare.as_mut_ptr().cast(), len) }?;
    // SAFETY: the kernel wrote the first n bytes past the old length
    // (n <= len <= the spare capacity), so they are initialized.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// Writes to a socket with `MSG_NOSIGNAL` (one `send`): a closed peer is
/// `EPIPE`, never a `SIGPIPE` that kills the process.
///
/// Like [`read`], it calls the kernel through `syscall(2)` (as `sendto`
/// with no address, which is what libc's `send` is) to skip glibc's
/// cancellation-point bracket.
///
/// # Errors
/// The kernel's `send` error (`EAGAIN` as `WouldBlock`, `EPIPE`, ...).
#[inline]
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    let (fd, flags) = (libc::c_long::from(fd), libc::c_long::from(libc::MSG_NOSIGNAL));
    let (no_addr, no_len) = (std::ptr::null::<libc::sockaddr>(), 0 as libc::c_long);
    // SAFETY: buf is a live slice of buf.len() bytes, and SYS_sendto takes
    // exactly (fd, pointer, length, flags, address, address length), each
    // passed as a full register; a null address of length 0 is a
    // connected socket's send.
    cvt_retry(|| unsafe {
        libc::syscall(libc::SYS_sendto, fd, buf.as_ptr(), buf.len(), flags, no_addr, no_len)
    })
    .map(|n| n as usize)
}

/// Writes to a non-socket, such as a pipe (one `write`). A closed reader
/// raises `SIGPIPE`, which Rust programs ignore from startup, so this is
/// `EPIPE` too.
///
/// # Errors
/// The kernel's `write` error (`EAGAIN` as `WouldBlock`, `EPIPE`, ...).
#[inline]
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: buf is a live slice of buf.len() bytes.
    cvt_retry(|| unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) }).map(|n| n as usize)
}

/// Shuts down the writing half (`shutdown(SHUT_WR)`): the peer reads
/// end-of-stream once the queued data is sent.
///
/// # Errors
/// The kernel's `shutdown` error (`ENOTCONN`, ...).
#[inline]
pub fn shutdown_write(fd: RawFd) -> io::Result<()> {
    // SAFETY: shutdown takes no pointers.
    cvt_retry(|| unsafe { libc::shutdown(fd, libc::SHUT_WR) }).map(drop)
}

/// Shuts down the reading half, the writing half or both (`shutdown(2)`).
///
/// # Errors
/// The kernel's `shutdown` error (`ENOTCONN`, ...).
#[inline]
pub fn shutdown(fd: RawFd, how: std::net::Shutdown) -> io::Result<()> {
    let how = match how {
        std::net::Shutdown::Read => libc::SHUT_RD,
        std::net::Shutdown::Write => libc::SHUT_WR,
        std::net::Shutdown::Both => libc::SHUT_RDWR,
    };
    // SAFETY: shutdown takes no pointers.
    cvt_retry(|| unsafe { libc::shutdown(fd, how) }).map(drop)
}

/// Sets `O_NONBLOCK` on `fd` if it is not set already.
///
/// # Errors
/// The kernel's `fcntl` error (`EBADF` for a closed descriptor).
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFL/F_SETFL takes no pointers.
    let flags = cvt_retry(|| unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above.
        cvt_retry(|| unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    }
    Ok(())
}

/// Whether `fd` is a socket (then [`send`] with `MSG_NOSIGNAL` applies).
///
/// # Errors
/// The kernel's `fstat` error (`EBADF` for a closed descriptor).
pub fn is_socket(fd: RawFd) -> io::Result<bool> {
    // SAFETY: stat is plain old data; all-zero is a valid value.
    let mut st = unsafe { mem::zeroed::<libc::stat>() };
    // SAFETY: st is a live stat the kernel fills.
    cvt_retry(|| unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFSOCK)
}

/// The socket's own address (`getsockname`).
///
/// # Errors
/// The kernel's `getsockname` error (`ENOTSOCK`, ...).
pub fn local(fd: RawFd) -> io::Result<SockAddr> {
    let mut a = SockAddr::zeroed();
    // SAFETY: a.storage is live and a.len is its size; the kernel writes at
    // most that many bytes and updates a.len.
    cvt_retry(|| unsafe { libc::getsockname(fd, a.ptr_mut(), &mut a.len) })?;
    Ok(a)
}

/// The peer's address (`getpeername`).
///
/// # Errors
/// The kernel's `getpeername` error (`ENOTCONN`, ...).
pub fn peer(fd: RawFd) -> io::Result<SockAddr> {
    let mut a = SockAddr::zeroed();
    // SAFETY: as in `local`.
    cvt_retry(|| unsafe { libc::getpeername(fd, a.ptr_mut(), &mut a.len) })?;
    Ok(a)
}

/// The socket's own IP address: [`local`], then [`SockAddr::to_inet`].
///
/// # Errors
/// As [`local`], and `InvalidInput` for a non-IP socket.
pub fn local_inet(fd: RawFd) -> io::Result<SocketAddr> {
    local(fd)?.to_inet()
}

/// The peer's IP address: [`peer`], then [`SockAddr::to_inet`].
///
/// # Errors
/// As [`peer`], and `InvalidInput` for a non-IP socket.
pub fn peer_inet(fd: RawFd) -> io::Result<SocketAddr> {
    peer(fd)?.to_inet()
}

/// A descriptor held in reserve for the `EMFILE` trick (libuv opens `/`
/// the same way): cheap, always openable, close-on-exec.
///
/// # Errors
/// The kernel's `open` error (`EMFILE` when the reserve is already spent).
pub fn reserve_fd() -> io::Result<OwnedFd> {
    // SAFETY: the path is a NUL-terminated literal.
    cvt_retry(|| unsafe { libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) }).map(owned)
}
