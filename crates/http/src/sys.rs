//! The system calls the server needs that std does not wrap: `sendfile(2)`,
//! `send(2)` with `MSG_MORE`, `TCP_NOTSENT_LOWAT`, the count of unread
//! bytes (`FIONREAD`), an open that follows no symbolic link
//! (`openat2(2)`), and the local time zone for the access log.
//! Every `unsafe` block of the crate is here.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

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

/// Opens the file at absolute `path` to read it, following no symbolic
/// link in any component: `ELOOP` if one is met. Non-blocking
/// (`O_NONBLOCK`: a FIFO does not make the open wait for a writer; it
/// changes nothing for a regular file's reads or `sendfile`), without
/// taking a terminal (`O_NOCTTY`), close-on-exec.
///
/// Why: the server checks that a path resolves beneath its root
/// (`canonicalize`, which follows links) and then opens it. Opened by
/// name with links followed, a component swapped for a link in between
/// would lead the open out of the root; the canonical path has no links,
/// so an open that follows none reaches what was checked or fails. One
/// `openat2(2)` with `RESOLVE_NO_SYMLINKS` (Linux 5.6); on a kernel
/// without it, one `openat(2)` with `O_NOFOLLOW` per component, as
/// nginx's `disable_symlinks on` does.
///
/// # Errors
/// The system's error; `InvalidInput` for a path with a NUL byte or not
/// absolute.
pub fn open_no_symlinks(path: &Path) -> io::Result<File> {
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput)?;
    if !path.is_absolute() {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    // SAFETY: open_how is three integers; all zero is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = libc::RESOLVE_NO_SYMLINKS;
    // SAFETY: `c` is a live NUL-terminated string and `how` a live
    // open_how whose size is passed with it, both valid for the call; the
    // kernel only reads them.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd >= 0 {
        // SAFETY: the kernel just returned this descriptor, open and
        // owned by no one else.
        return Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ENOSYS) {
        return open_walking(path, flags);
    }
    Err(e)
}

/// [`open_no_symlinks`] without `openat2`: from `/`, each directory with
/// `O_PATH | O_DIRECTORY | O_NOFOLLOW`, the file with `O_NOFOLLOW`.
fn open_walking(path: &Path, flags: libc::c_int) -> io::Result<File> {
    let open_at = |dir: Option<&OwnedFd>, name: &OsStr, flags: libc::c_int| -> io::Result<OwnedFd> {
        let c = CString::new(name.as_bytes()).map_err(|_| io::ErrorKind::InvalidInput)?;
        let at = dir.map_or(libc::AT_FDCWD, std::os::fd::AsRawFd::as_raw_fd);
        // SAFETY: `c` is a live NUL-terminated string; `at` is AT_FDCWD or
        // a descriptor `dir` owns and keeps open for the call.
        let fd = unsafe { libc::openat(at, c.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this descriptor, owned by no one else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    };
    let dir_flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let mut dir = open_at(None, OsStr::new("/"), dir_flags)?;
    let names: Vec<&OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(Ok(n)),
            Component::RootDir => None,
            _ => Some(Err(io::Error::from(io::ErrorKind::InvalidInput))),
        })
        .collect::<io::Result<_>>()?;
    let Some((last, dirs)) = names.split_last() else { return Err(io::ErrorKind::InvalidInput.into()) };
    for name in dirs {
        dir = open_at(Some(&dir), name, dir_flags)?;
    }
    Ok(File::from(open_at(Some(&dir), last, flags | libc::O_NOFOLLOW)?))
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
    fn opens_follow_no_link() {
        let dir = std::env::temp_dir().join(format!("spindle-http-sys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/f"), "f").unwrap();
        std::os::unix::fs::symlink(dir.join("d/f"), dir.join("d/link")).unwrap();
        std::os::unix::fs::symlink(dir.join("d"), dir.join("dirlink")).unwrap();
        let dir = dir.canonicalize().unwrap();
        let walking: fn(&Path) -> io::Result<File> = |p| open_walking(p, libc::O_RDONLY | libc::O_CLOEXEC);
        for open in [open_no_symlinks, walking] {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut open(&dir.join("d/f")).unwrap(), &mut text).unwrap();
            assert_eq!(text, "f");
            for through_a_link in ["d/link", "dirlink/f"] {
                let e = open(&dir.join(through_a_link)).unwrap_err();
                assert!(
                    matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)),
                    "{through_a_link}: {e}"
                );
            }
            assert_eq!(open(&dir.join("d/none")).unwrap_err().kind(), io::ErrorKind::NotFound);
        }
        assert_eq!(open_no_symlinks(Path::new("rel")).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        std::fs::remove_dir_all(&dir).unwrap();
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
