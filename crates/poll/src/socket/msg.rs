//! Message-style socket IO: gathered writes (`sendmsg`), datagrams
//! (`sendto`, `recvfrom`) and receives with flags (`recv`). Every send
//! passes `MSG_NOSIGNAL`.

use super::{cvt_retry, SockAddr};
use std::io;
use std::mem;
use std::os::fd::RawFd;

/// The most buffers one [`send_vectored`] passes to the kernel
/// (`UIO_MAXIOV`); the rest wait for the next call, as a partial write.
pub const MAX_IOV: usize = 1024;

/// Gathers `bufs` into one write to a socket (`sendmsg` with
/// `MSG_NOSIGNAL`): one system call for a header and a body that live in
/// different buffers, without copying them together first, and, as with
/// [`send`](super::send), `EPIPE` rather than `SIGPIPE` for a closed peer (plain
/// `writev` has no flags argument, so it would raise the signal). At most
/// [`MAX_IOV`] buffers go in one call. Made through `syscall(2)`, like
/// [`send`](super::send), to skip glibc's cancellation bracket.
///
/// # Errors
/// The kernel's `sendmsg` error (`EAGAIN` as `WouldBlock`, `EPIPE`, ...).
pub fn send_vectored(fd: RawFd, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    let bufs = &bufs[..bufs.len().min(MAX_IOV)];
    // SAFETY: msghdr is plain old data; all-zero is a valid, empty header
    // (no name, no control data), and zeroing covers any padding fields.
    let mut msg = unsafe { mem::zeroed::<libc::msghdr>() };
    // IoSlice is guaranteed ABI-compatible with iovec on Unix, and the
    // kernel only reads through msg_iov.
    msg.msg_iov = bufs.as_ptr().cast_mut().cast::<libc::iovec>();
    msg.msg_iovlen = bufs.len() as _;
    let (fd, flags) = (libc::c_long::from(fd), libc::c_long::from(libc::MSG_NOSIGNAL));
    let msg: *const libc::msghdr = &msg;
    // SAFETY: msg points to a live header whose msg_iov describes
    // bufs.len() live IoSlices (iovec layout), each of a live slice; the
    // header has no name and no control buffer; SYS_sendmsg takes exactly
    // (fd, header, flags).
    cvt_retry(|| unsafe { libc::syscall(libc::SYS_sendmsg, fd, msg, flags) }).map(|n| n as usize)
}

/// Sends one datagram to `addr` (`sendto` with `MSG_NOSIGNAL`).
///
/// # Errors
/// The kernel's `sendto` error (`EAGAIN` as `WouldBlock`, `EMSGSIZE` for a
/// datagram too large, `EACCES` for a broadcast without `SO_BROADCAST`, ...).
#[inline]
pub fn send_to(fd: RawFd, buf: &[u8], addr: &SockAddr) -> io::Result<usize> {
    // SAFETY: buf is a live slice of buf.len() bytes, and addr points to an
    // initialised address of addr.len bytes.
    cvt_retry(|| unsafe {
        libc::sendto(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL, addr.ptr(), addr.len)
    })
    .map(|n| n as usize)
}

/// Receives into `buf` with `flags` (`MSG_PEEK`, ...; one `recv`). On a
/// datagram socket, a datagram longer than `buf` is cut to `buf.len()`
/// and the rest is discarded.
///
/// # Errors
/// The kernel's `recv` error (`EAGAIN` as `WouldBlock`, `ECONNREFUSED`
/// after an ICMP port unreachable on a connected UDP socket, ...).
#[inline]
pub fn recv(fd: RawFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: buf is a live, writable slice of buf.len() bytes.
    cvt_retry(|| unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) }).map(|n| n as usize)
}

/// Receives one datagram into `buf` with `flags` (one `recvfrom`), and the
/// sender's address. A datagram longer than `buf` is cut to `buf.len()`
/// and the rest is discarded.
///
/// # Errors
/// As [`recv`].
pub fn recv_from(fd: RawFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<(usize, SockAddr)> {
    let mut addr = SockAddr::zeroed();
    let n = cvt_retry(|| {
        addr.len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: buf is a live, writable slice of buf.len() bytes; the
        // address pointer and length describe `addr.storage`, which lives
        // across the call and is large enough for any family.
        unsafe {
            libc::recvfrom(fd, buf.as_mut_ptr().cast(), buf.len(), flags, addr.ptr_mut(), &mut addr.len)
        }
    })?;
    Ok((n as usize, addr))
}
