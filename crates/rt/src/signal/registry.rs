//! The process-wide half of [`signal`](super): one self-pipe, one delivery
//! counter per signal number, and the handler that bumps them.
//!
//! Signal dispositions are per process, so this state is too: every
//! runtime, and every [`Signal`](super::Signal) on it, shares it.

use super::sys;
use crate::lock;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Mutex;

/// One more than the highest signal number Linux has (`SIGRTMAX` is 64).
const SLOTS: usize = 65;

/// How many times each signal has reached the handler. A listener
/// remembers the count it has reported up to; a higher count means "at
/// least one more arrived". Only the handler writes these.
static DELIVERED: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// The pipe's write end for the handler, or -1 before the pipe exists.
/// Published once and never closed, so the handler can never write to a
/// descriptor number that was reused for something else.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

/// What only threads (never the handler) touch: the pipe, and which
/// signals have the handler installed.
struct State {
    /// `(read end, write end)`, created with the first listener and kept
    /// for the life of the process.
    pipe: Option<(OwnedFd, OwnedFd)>,
    installed: [bool; SLOTS],
}

static STATE: Mutex<State> = Mutex::new(State { pipe: None, installed: [false; SLOTS] });

/// The handler. It may run on any thread, between any two instructions,
/// so it does only async-signal-safe work: an atomic add and one `write`.
extern "C" fn on_signal(signum: libc::c_int) {
    if let Some(count) = usize::try_from(signum).ok().and_then(|i| DELIVERED.get(i)) {
        count.fetch_add(1, Ordering::SeqCst);
    }
    let fd = WRITE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // The byte's value is not read: the counters say which signal came.
        sys::wake(fd, signum as u8);
    }
}

/// Signals a listener may not take over: they cannot be caught at all
/// (`SIGKILL`, `SIGSTOP`), or they report a fault in the thread that
/// raised them, where returning from a handler re-runs the faulting
/// instruction for ever.
const FORBIDDEN: [(libc::c_int, &str); 5] = [
    (libc::SIGKILL, "SIGKILL"),
    (libc::SIGSTOP, "SIGSTOP"),
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGILL, "SIGILL"),
];

/// Checks `signum`, creates the pipe and installs the handler if this is
/// the first listener (for the process, and for this signal), and returns
/// a new read end of the pipe for the caller to register, with the
/// delivery count as of now.
pub(crate) fn listen(signum: libc::c_int) -> io::Result<(OwnedFd, usize)> {
    let slot = slot_of(signum)?;
    let mut state = lock(&STATE);
    if state.pipe.is_none() {
        let (read, write) = sys::pipe()?;
        WRITE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
        state.pipe = Some((read, write));
    }
    let read = match &state.pipe {
        // A descriptor of its own (close-on-exec), for its own registration.
        Some((read, _)) => read.try_clone()?,
        None => unreachable!("the pipe was created above"),
    };
    if !state.installed[slot] {
        sys::install(signum, on_signal)?;
        state.installed[slot] = true;
    }
    Ok((read, delivered(slot)))
}

/// How many times signal `slot` has been delivered so far.
pub(crate) fn delivered(slot: usize) -> usize {
    DELIVERED[slot].load(Ordering::SeqCst)
}

/// The counter index for `signum`, or why it cannot be listened for.
pub(crate) fn slot_of(signum: libc::c_int) -> io::Result<usize> {
    if let Some((_, name)) = FORBIDDEN.iter().find(|(n, _)| *n == signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name} cannot be listened for: it cannot be caught, or reports a fault in the thread that raised it"),
        ));
    }
    match usize::try_from(signum) {
        Ok(slot) if signum >= 1 && signum <= sys::max_signal() && slot < SLOTS => Ok(slot),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signum} is not a signal number (1 to {})", sys::max_signal()),
        )),
    }
}
