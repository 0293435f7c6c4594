//! The syscalls the bare epoll server and the load client make, each wrapped
//! once: an epoll instance and non-blocking read, write and accept; and
//! the signals between the drivers and the servers they run.
//!
//! These are deliberately thin (one syscall per call, no buffering, no
//! retries beyond `EINTR`) because the bare server is the yardstick for
//! Spindle's overhead and the client must stay cheap. Descriptors are passed
//! as [`BorrowedFd`], so every call is on a descriptor that is open for the
//! whole call.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt as _;
use std::process::Command;
use std::time::Duration;

/// Readable interest / readiness (`EPOLLIN`).
pub const READABLE: u32 = libc::EPOLLIN as u32;
/// Writable interest / readiness (`EPOLLOUT`).
pub const WRITABLE: u32 = libc::EPOLLOUT as u32;

/// Converts a syscall's `-1` return into the thread's `errno`.
fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Converts a `read`/`write` style `-1` return into the thread's `errno`.
fn cvt_size(ret: libc::ssize_t) -> io::Result<usize> {
    // A non-negative ssize_t always fits in usize.
    usize::try_from(ret).map_err(|_| io::Error::last_os_error())
}

/// An epoll instance used level-triggered, closed on drop.
///
/// Tokens are the caller's `u64`; interest is a mask of [`READABLE`] and
/// [`WRITABLE`].
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    /// Creates an epoll instance (close-on-exec).
    pub fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative return is a
        // fresh descriptor that nothing else owns.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by the kernel and is owned by no one
        // else, so OwnedFd may take it and close it exactly once.
        Ok(Self { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64, interest: u32) -> io::Result<()> {
        let mut event = libc::epoll_event { events: interest, u64: token };
        // SAFETY: `event` is a valid, initialised epoll_event that lives for
        // the call; the kernel copies it and keeps no pointer to it.
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event) })?;
        Ok(())
    }

    /// Registers `fd` with `interest`; its events will carry `token`.
    pub fn add(&self, fd: BorrowedFd<'_>, token: u64, interest: u32) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd.as_raw_fd(), token, interest)
    }

    /// Replaces the interest (and token) of a registered `fd`.
    pub fn modify(&self, fd: BorrowedFd<'_>, token: u64, interest: u32) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd.as_raw_fd(), token, interest)
    }

    /// Waits for events, filling `events` from the front, and returns how
    /// many arrived (zero on timeout).
    ///
    /// `None` waits forever. A timeout is rounded *up* to whole milliseconds
    /// so a caller waiting for a deadline never wakes just before it and
    /// spins; huge timeouts saturate. `EINTR` is retried here, and only here.
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout: Option<Duration>) -> io::Result<usize> {
        let timeout_ms = match timeout {
            None => -1,
            Some(t) => {
                let ms = t.as_nanos().div_ceil(1_000_000);
                libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
            }
        };
        let max = libc::c_int::try_from(events.len()).unwrap_or(libc::c_int::MAX);
        loop {
            // SAFETY: `events` is a live, exclusively borrowed buffer of at
            // least `max` epoll_event slots; the kernel writes at most `max`.
            let ret = unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms) };
            match cvt(ret) {
                Ok(n) => return Ok(n as usize),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// A zeroed event buffer of `len` slots for [`Epoll::wait`].
pub fn event_buffer(len: usize) -> Vec<libc::epoll_event> {
    vec![libc::epoll_event { events: 0, u64: 0 }; len]
}

/// Reads once from socket `fd` into `buf`: `Ok(0)` is end of stream, and a
/// non-blocking descriptor with nothing to read gives `WouldBlock`.
///
/// `recvfrom(2)` with no address, as spindle reads its sockets: it goes
/// straight to the socket, where `read(2)` passes the VFS layer first
/// (see `spindle_poll::socket::recv_stream`). The floor must make the
/// cheapest calls spindle makes, or it would not bound spindle's overhead.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let fd = libc::c_long::from(fd.as_raw_fd());
    let (no_addr, no_len) = (std::ptr::null_mut::<libc::sockaddr>(), std::ptr::null_mut::<libc::socklen_t>());
    // SAFETY: `buf` is a live, exclusively borrowed region of `buf.len()`
    // bytes and `fd` is open for the call (BorrowedFd); SYS_recvfrom takes
    // exactly (fd, pointer, length, flags, address, address length
    // pointer), and null address pointers ask for no sender address.
    // `syscall(2)`, not libc's `recv`, so the floor skips glibc's
    // cancellation-point bracket as spindle does (see
    // spindle_poll::socket::read).
    cvt_size(unsafe {
        libc::syscall(libc::SYS_recvfrom, fd, buf.as_mut_ptr(), buf.len(), 0 as libc::c_long, no_addr, no_len)
    } as isize)
}

/// Writes once from `buf` to socket `fd` and returns how many bytes the
/// kernel took, which may be fewer than `buf.len()`.
///
/// `sendto(2)` with `MSG_NOSIGNAL` and no address, as spindle writes its
/// sockets (libc's `send`).
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    let (fd, flags) = (libc::c_long::from(fd.as_raw_fd()), libc::c_long::from(libc::MSG_NOSIGNAL));
    let (no_addr, no_len) = (std::ptr::null::<libc::sockaddr>(), 0 as libc::c_long);
    // SAFETY: `buf` is a live region of `buf.len()` readable bytes and `fd`
    // is open for the call (BorrowedFd); SYS_sendto takes exactly (fd,
    // pointer, length, flags, address, address length), and a null address
    // of length 0 is a connected socket's send. `syscall(2)` for the reason
    // `read` gives.
    cvt_size(unsafe { libc::syscall(libc::SYS_sendto, fd, buf.as_ptr(), buf.len(), flags, no_addr, no_len) }
        as isize)
}

/// Accepts one connection from a listening socket, already non-blocking
/// and close-on-exec (`accept4`, so no extra `fcntl` per connection).
/// An empty backlog on a non-blocking listener gives `WouldBlock`.
pub fn accept_nonblocking(listener: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    // SAFETY: null address and length pointers are allowed by accept4 and
    // mean "don't report the peer"; `listener` is open for the call.
    let fd = cvt(unsafe {
        libc::accept4(
            listener.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    })?;
    // SAFETY: `fd` was just returned by accept4 and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `signal` to process `pid`.
///
/// The caller answers for `pid` naming the process it means: its own
/// unreaped child, or a descendant it just listed and found alive (a pid
/// is recycled only after its process is reaped).
pub fn send_signal(pid: u32, signal: libc::c_int) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: kill takes no pointers; any pid and signal number is safe to
    // pass (a bad one is an error return, not undefined behaviour).
    cvt(unsafe { libc::kill(pid, signal) })?;
    Ok(())
}

/// Arranges for the child `cmd` starts to receive `signal` when this
/// process's spawning thread exits (`PR_SET_PDEATHSIG`), so that a driver
/// killed without running its destructors (SIGTERM from `timeout`, an OOM
/// kill) still takes the servers it started along. The setting survives
/// `execve` of programs that are not set-user-ID (`taskset`, and what it
/// runs). If this process is already gone when the child gets there, the
/// spawn fails instead.
pub fn signal_on_parent_death(cmd: &mut Command, signal: libc::c_int) {
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child between fork and exec,
    // where only async-signal-safe calls are allowed: prctl and getppid
    // are plain syscalls, and building an io::Error from an errno value
    // neither allocates nor locks.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong) == -1 {
                return Err(io::Error::last_os_error());
            }
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// `sysconf(_SC_CLK_TCK)`: clock ticks per second, the unit of the
/// `/proc/PID/stat` CPU times (-1 if the system does not say).
pub fn sysconf_clk_tck() -> libc::c_long {
    // SAFETY: sysconf takes no pointers and has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) }
}

/// `getrusage(RUSAGE_CHILDREN)`: the resources this process's reaped
/// children used.
pub fn children_rusage() -> io::Result<libc::rusage> {
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid and writable for the duration of the call.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(usage)
}

/// This process's `RLIMIT_NOFILE` (soft and hard).
pub fn nofile_limit() -> io::Result<libc::rlimit> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid, writable rlimit for the call's duration.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(limit)
}

/// Sets this process's `RLIMIT_NOFILE`; children inherit it.
pub fn set_nofile_limit(limit: &libc::rlimit) -> io::Result<()> {
    // SAFETY: `limit` is a valid rlimit; setrlimit only reads it.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, limit) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn level_triggered_read_write_round_trip() {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        let epoll = Epoll::new().unwrap();
        let mut events = event_buffer(8);
        epoll.add(b.as_fd(), 7, READABLE).unwrap();

        let n = epoll.wait(&mut events, Some(Duration::from_millis(1))).unwrap();
        assert_eq!(n, 0, "nothing written yet");
        let mut buf = [0u8; 16];
        let err = read(b.as_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

        assert_eq!(write(a.as_fd(), b"ping").unwrap(), 4);
        let n = epoll.wait(&mut events, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(n, 1);
        let event = events[0];
        assert_eq!({ event.u64 }, 7);
        assert_ne!({ event.events } & READABLE, 0);
        assert_eq!(read(b.as_fd(), &mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");

        epoll.modify(b.as_fd(), 8, WRITABLE).unwrap();
        let n = epoll.wait(&mut events, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(n, 1);
        assert_eq!({ events[0].u64 }, 8);

        drop(a);
        assert_eq!(read(b.as_fd(), &mut buf).unwrap(), 0, "end of stream");
    }

    #[test]
    fn child_is_signalled_when_its_spawning_thread_exits() {
        use std::os::unix::process::ExitStatusExt as _;
        // PDEATHSIG follows the thread that forked, so a thread that
        // exits stands in for a driver that dies.
        let mut child = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            signal_on_parent_death(&mut cmd, libc::SIGTERM);
            cmd.spawn().unwrap()
        })
        .join()
        .unwrap();
        let status = crate::process::wait_timeout(&mut child, Duration::from_secs(10)).unwrap();
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child outlived its parent thread");
        };
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }
}
