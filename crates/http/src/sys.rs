//! The system calls the server needs that std does not wrap: `sendfile(2)`,
//! `send(2)` with `MSG_MORE`, `TCP_NOTSENT_LOWAT`, the count of unread
//! bytes (`FIONREAD`), and the local time zone for the access log.
//! Every `unsafe` block of the crate is here.

use std::io;
use std::os::fd::RawFd;

/// Sends up to `len` bytes of file `file` from `offset` to socket `sock`
/// with `sendfile(2)`, and advances `offset` by what was sent.
///
/// Why sendfile: the body goes from the page cache to the socket inside
/// the kernel, with no copy through a user-space buffer and one system
/// call per chunk instead of a `read` and a `write`. The explicit offset
/// leaves the file's own position alone, so one open descriptor serves
/// every connection at once.
///
/// # Errors
/// The system's error; `WouldBlock` when the socket buffer is full.
pub fn sendfile(sock: RawFd, file: RawFd, offset: &mut u64, len: usize) -> io::Result<usize> {
    let mut off = *offset as libc::off_t;
    // SAFETY: `off` is a valid, exclusively borrowed off_t for the call;
    // the descriptors are plain integers the kernel checks (a stale one is
    // EBADF, not undefined behaviour).
    let n = unsafe { libc::sendfile(sock, file, &mut off, len) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    *offset = off as u64;
    Ok(n as usize)
}

/// `send(2)` with `MSG_MORE | MSG_NOSIGNAL`: the kernel holds the bytes
/// back for the data that follows (a sendfile'd body), so the head and the
/// start of the body leave in one segment, as nginx's `TCP_CORK` does.
///
/// Made through `syscall(2)` as `sendto` with no address (what libc's
/// `send` is), skipping glibc's thread-cancellation bracket around `send`
/// (see `spindle_poll::socket::read`).
///
/// # Errors
/// The system's error; `WouldBlock` when the socket buffer is full.
pub fn send_more(sock: RawFd, buf: &[u8]) -> io::Result<usize> {
    let (sock, flags) = (libc::c_long::from(sock), libc::c_long::from(libc::MSG_MORE | libc::MSG_NOSIGNAL));
    let (no_addr, no_len) = (std::ptr::null::<libc::sockaddr>(), 0 as libc::c_long);
    // SAFETY: `buf` is a live slice: its pointer is valid for `buf.len()`
    // readable bytes for the duration of the call; SYS_sendto takes exactly
    // (fd, pointer, length, flags, address, address length), each passed as
    // a full register, and a null address of length 0 is a plain send.
    let n = unsafe { libc::syscall(libc::SYS_sendto, sock, buf.as_ptr(), buf.len(), flags, no_addr, no_len) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Sets `TCP_NOTSENT_LOWAT` on socket `sock`: the kernel takes at most
/// about `bytes` of data not yet sent onto the socket's queue, and reports
/// the socket writable only when less than half of that is left.
///
/// Why: without it, one `sendfile` of a large body fills the send buffer,
/// which the kernel grows to several megabytes, and returns. The bytes then
/// leave only as the client's acknowledgements and window updates arrive,
/// so on the client's CPU, in its softirq, and in bursts as long as its
/// receive window allows. With a low mark the server comes back for each
/// short stretch and pushes the data itself while the window is open, so the
/// client's reads find it waiting; and a thousand slow readers hold a few
/// kilobytes of unsent data each in kernel memory instead of megabytes.
///
/// # Errors
/// The system's error (`ENOPROTOOPT` on a socket that is not TCP).
pub fn set_notsent_lowat(sock: RawFd, bytes: u32) -> io::Result<()> {
    let v = bytes as libc::c_int;
    // SAFETY: `v` is a live c_int and the length passed is its size; the
    // descriptor is a plain integer the kernel checks.
    let r = unsafe {
        libc::setsockopt(
            sock,
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads back `TCP_NOTSENT_LOWAT` of socket `sock`: what
/// [`set_notsent_lowat`] set, or the system's default
/// (`net.ipv4.tcp_notsent_lowat`, by default `u32::MAX`: no limit).
///
/// # Errors
/// The system's error (`ENOTSOCK`, `ENOPROTOOPT` for a socket that is not TCP).
pub fn notsent_lowat(sock: RawFd) -> io::Result<u32> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live and exclusively borrowed for the call,
    // and `len` holds the size of `v`, so the kernel writes within it.
    let r = unsafe {
        libc::getsockopt(
            sock,
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(v as u32)
}

/// How many bytes socket `sock` has received that nobody has read yet
/// (`ioctl(FIONREAD)`): closing a socket while this is not zero makes the
/// kernel reset the connection instead of ending it.
///
/// # Errors
/// The system's error (`EBADF`, `ENOTTY` for a descriptor that is not a
/// socket or pipe).
pub fn unread_bytes(sock: RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: `n` is a live c_int, exclusively borrowed for the call, which
    // is where FIONREAD writes its count; the descriptor is a plain integer
    // the kernel checks.
    let r = unsafe { libc::ioctl(sock, libc::FIONREAD, &mut n) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n.max(0) as usize)
}

/// Broken-down local time of `secs` since the epoch and the zone's offset
/// from UTC in seconds: `(year, month 1..=12, day, hour, min, sec, offset)`.
pub fn local_time(secs: i64) -> (i32, u32, u32, u32, u32, u32, i64) {
    let t = secs as libc::time_t;
    // SAFETY: `tm` is plain old data, valid when zeroed.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is the
    // thread-safe form and writes only into `tm`.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if !ok {
        return (1970, 1, 1, 0, 0, 0, 0);
    }
    (
        tm.tm_year + 1900,
        (tm.tm_mon + 1) as u32,
        tm.tm_mday as u32,
        tm.tm_hour as u32,
        tm.tm_min as u32,
        tm.tm_sec as u32,
        tm.tm_gmtoff,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    #[test]
    fn notsent_lowat_is_set_and_read_back() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        set_notsent_lowat(c.as_raw_fd(), 12_345).unwrap();
        assert_eq!(notsent_lowat(c.as_raw_fd()).unwrap(), 12_345);
        // Not a TCP socket: a clear error, not a silent success.
        let f = std::fs::File::open("/dev/null").unwrap();
        assert!(set_notsent_lowat(f.as_raw_fd(), 1).is_err());
    }

    #[test]
    fn unread_bytes_counts_what_arrived() {
        use std::io::Write;
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (a, _) = l.accept().unwrap();
        assert_eq!(unread_bytes(a.as_raw_fd()).unwrap(), 0);
        c.write_all(b"hello").unwrap();
        // Loopback delivers within the write; poll a little to be sure.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while unread_bytes(a.as_raw_fd()).unwrap() < 5 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(unread_bytes(a.as_raw_fd()).unwrap(), 5);
    }
}
