//! The few system calls persistence needs that std does not offer: fork,
//! waitpid without blocking, `_exit`, kill, `sendfile` (a snapshot to a
//! SYNC client) and a pipe (std's needs Rust
//! 1.87, above this crate's minimum). Every `unsafe` block of the
//! persistence code is here.
//!
//! fsync and fdatasync need no `unsafe`: [`std::fs::File::sync_all`] and
//! [`std::fs::File::sync_data`] are those calls.
//!
//! # Forking a process that may have threads
//!
//! The server's loop is single-threaded, but the process can hold other
//! threads: the lazy-free thread, the everysec fsync thread, and in the test
//! harness other tests' threads. After `fork` only the calling thread exists
//! in the child, and any lock another thread held at that instant stays held
//! forever. The child therefore does only this: it walks the data it
//! inherited (read only), writes a file through std's `File`/`BufWriter`,
//! fsyncs, renames, and leaves with `_exit` (no destructors, no atexit
//! handlers, no stdio flush). It allocates (buffers, small vectors), which
//! is safe because glibc's `fork` re-initialises the malloc arenas' locks in
//! the child; it never logs (tracing's subscriber takes locks) and never
//! touches the event loop.

use std::io;

/// What [`fork`] returned in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// We are the child.
    Child,
    /// We are the parent; the child has this pid.
    Parent(i32),
}

/// `fork(2)`.
///
/// # Errors
/// The OS refused (no memory, too many processes).
pub fn fork() -> io::Result<Forked> {
    // SAFETY: fork has no memory-safety preconditions of its own. What the
    // child may do afterwards is restricted by its callers (see the module
    // docs): write one file and `_exit`, without logging or touching locks
    // other threads could have held.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        p => Ok(Forked::Parent(p)),
    }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// It called `_exit(code)`.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
}

impl ChildExit {
    /// Whether it exited with status 0.
    pub fn success(self) -> bool {
        self == ChildExit::Exited(0)
    }
}

/// `waitpid(pid, WNOHANG)`: `Ok(None)` while `pid` still runs.
///
/// # Errors
/// `pid` is not our child (ECHILD).
pub fn try_wait(pid: i32) -> io::Result<Option<ChildExit>> {
    let mut status: libc::c_int = 0;
    // SAFETY: `status` is a valid, writable c_int for the duration of the
    // call; waitpid writes nothing else.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    match r {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        _ if libc::WIFEXITED(status) => Ok(Some(ChildExit::Exited(libc::WEXITSTATUS(status)))),
        _ if libc::WIFSIGNALED(status) => Ok(Some(ChildExit::Signaled(libc::WTERMSIG(status)))),
        _ => Ok(None),
    }
}

/// `waitpid(pid, 0)`: blocks until `pid` ends (shutdown, after a kill).
///
/// # Errors
/// `pid` is not our child.
pub fn wait_blocking(pid: i32) -> io::Result<()> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: as in `try_wait`.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r != -1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `kill(pid, SIGKILL)`: stops a child we forked. (SIGKILL, because the
/// child inherits the parent's signal mask, which may block the usual ones.)
pub fn kill_child(pid: i32) {
    // SAFETY: sending a signal has no memory effects in this process; `pid`
    // is a child we forked and have not reaped, so it cannot be recycled.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// `_exit(code)`: leaves the process at once, running no destructors and
/// no atexit handlers and flushing no stdio buffers: what a forked child
/// must do so it does not act on the parent's state (sockets, files).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// `pipe2(O_CLOEXEC | O_NONBLOCK)`: (read end, write end). Non-blocking,
/// so a read finds what was written or nothing and never waits; closed on
/// exec, so a process another thread spawns does not keep an end open.
///
/// # Errors
/// Out of file descriptors.
pub fn pipe() -> io::Result<(std::fs::File, std::fs::File)> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid, writable array of two c_ints, which is what
    // pipe2 fills in.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by
    // nothing else; each is wrapped exactly once.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((r.into(), w.into()))
}

/// This process's pid.
pub fn getpid() -> u32 {
    std::process::id()
}

/// `sendfile(2)`: copies up to `count` bytes of `file` from `*offset` to
/// the socket `sock` inside the kernel, advancing `*offset` by what was
/// sent. A non-blocking socket that is full gives `WouldBlock`; 0 means
/// the file ends before `*offset`.
///
/// # Errors
/// As `sendfile(2)`: the socket is closed (`EPIPE`), would block, or the
/// file cannot be read.
pub fn sendfile(
    sock: std::os::fd::RawFd,
    file: std::os::fd::RawFd,
    offset: &mut u64,
    count: usize,
) -> io::Result<usize> {
    let mut off = libc::off_t::try_from(*offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `off` is a live local the call writes the new offset to; the
    // descriptors are plain integers the kernel validates (a closed one is
    // EBADF, not undefined behaviour).
    let n = unsafe { libc::sendfile(sock, file, &mut off, count) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    *offset = off as u64;
    Ok(n as usize)
}

/// Whether a SIGINT is pending for this thread or the process: the loop
/// blocks it (it is read from a signalfd between iterations), so during a
/// long save in the loop's thread a second Ctrl-C waits here.
pub fn sigint_pending() -> bool {
    // SAFETY: a zeroed sigset_t is a valid argument for sigpending, which
    // fills it; sigismember reads the live local.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut set) == 0 && libc::sigismember(&set, libc::SIGINT) == 1
    }
}
