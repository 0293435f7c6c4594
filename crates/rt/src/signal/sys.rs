//! The system calls under [`signal`](super): the self-pipe, `sigaction`,
//! and the handler's one `write`.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Turns a `-1` return into the thread's `errno`.
fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A non-blocking, close-on-exec pipe: `(read end, write end)`.
///
/// Both ends are non-blocking. The write end must be, because a signal
/// handler that blocked on a full pipe would hang the thread it
/// interrupted; the read end must be, because readers drain it until
/// `EAGAIN`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for the kernel to fill.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both are fresh descriptors owned by no one
    // else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Reads and discards everything in the (non-blocking) pipe `fd`.
pub(crate) fn drain(fd: RawFd) {
    let mut buf = [0u8; 128];
    loop {
        // SAFETY: `buf` is valid for `buf.len()` bytes of writes, and `fd`
        // is an open descriptor the caller owns.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            continue;
        }
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        // 0 (no writer left: cannot happen, the write end is never closed)
        // or EAGAIN: empty.
        return;
    }
}

/// Installs `handler` for `signum` with `SA_RESTART`, so that system calls
/// the signal interrupts elsewhere in the process resume instead of failing
/// with `EINTR`.
pub(crate) fn install(signum: libc::c_int, handler: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: an all-zero `sigaction` is a valid value (empty mask, no
    // flags) that every field below then overwrites or keeps.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as usize;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid `sigset_t` owned by `action`.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is fully initialised and `handler` only does
    // async-signal-safe work (atomic adds and `write`); the old action is
    // not asked for.
    cvt(unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) })?;
    Ok(())
}

/// The handler's wake-up: one byte into the pipe. Async-signal-safe; the
/// result is ignored on purpose (a full pipe already holds a wake-up), and
/// `errno` is saved and restored, because the handler runs in the middle
/// of code that may be about to read it.
pub(crate) fn wake(fd: RawFd, byte: u8) {
    // SAFETY: `__errno_location` returns this thread's errno slot, valid
    // for the thread's life.
    let errno = unsafe { *libc::__errno_location() };
    // SAFETY: `byte` is one valid byte; `fd` is the pipe's write end, kept
    // open for the life of the process once published.
    let _ = unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// The highest signal number (`SIGRTMAX`).
pub(crate) fn max_signal() -> libc::c_int {
    libc::SIGRTMAX()
}
