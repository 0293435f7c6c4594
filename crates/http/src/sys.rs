//! The system calls the server needs that std does not wrap: `sendfile(2)`,
//! `send(2)` with `MSG_MORE`, and the local time zone for the access log.
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
/// # Errors
/// The system's error; `WouldBlock` when the socket buffer is full.
pub fn send_more(sock: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live slice: its pointer is valid for `buf.len()`
    // readable bytes for the duration of the call.
    let n = unsafe { libc::send(sock, buf.as_ptr().cast(), buf.len(), libc::MSG_MORE | libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
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
