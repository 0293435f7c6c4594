//! The system calls behind child processes: `pidfd_open`,
//! `pidfd_send_signal`, `kill` and `waitpid`, shared by spindle-loop's
//! process handles and spindle-rt's `process` module; every `unsafe` they
//! need.
//!
//! A *pidfd* (Linux 5.3+) is a descriptor that names one process, not a
//! reusable number: it becomes readable when the process exits, so an event
//! loop can watch it like a socket, and a signal sent through it can never
//! reach another process that was given the same pid later.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

fn pid_t(pid: u32) -> libc::pid_t {
    // std's Child::id came from a pid_t, so it fits.
    libc::pid_t::try_from(pid).expect("a child's pid fits in pid_t")
}

/// `pidfd_open(pid, 0)`: a close-on-exec descriptor naming the process.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags by value and touches no
    // memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid_t(pid), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).expect("the kernel returns descriptors that fit in an int");
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `pidfd_send_signal(fd, signum, NULL, 0)`.
pub fn pidfd_send_signal(fd: RawFd, signum: i32) -> io::Result<()> {
    // SAFETY: `fd` is an open pidfd owned by the process handle; a null
    // siginfo is allowed and means "as kill(2) would send it".
    let rc = unsafe {
        libc::syscall(libc::SYS_pidfd_send_signal, fd, signum, std::ptr::null::<libc::siginfo_t>(), 0)
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(pid, signum)`, for children without a pidfd (still unreaped,
/// so the pid is still theirs).
pub fn kill(pid: u32, signum: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    if unsafe { libc::kill(pid_t(pid), signum) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `waitpid(pid)`, without blocking when `nohang`: `Some` once reaped,
/// `None` while it runs. Retries `EINTR` (the one place it can come
/// from in this module).
pub fn waitpid(pid: u32, nohang: bool) -> io::Result<Option<ExitStatus>> {
    let mut status = 0;
    let flags = if nohang { libc::WNOHANG } else { 0 };
    loop {
        // SAFETY: `status` is a valid, writable int for the call.
        let rc = unsafe { libc::waitpid(pid_t(pid), &mut status, flags) };
        match rc {
            0 => return Ok(None),
            r if r > 0 => return Ok(Some(ExitStatus::from_raw(status))),
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}
