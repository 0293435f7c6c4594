//! Signal handles (`uv_signal_t`), delivered through one `signalfd` per loop.
//!
//! ## Why not run callbacks in a signal handler
//!
//! A classic signal handler interrupts the thread wherever it happens to be:
//! halfway through `malloc`, holding a lock, between two writes of a data
//! structure. It may therefore only do *async-signal-safe* work (`write`,
//! setting an atomic flag), never run arbitrary code like a loop callback.
//! Event loops turn the signal into an ordinary readable descriptor instead
//! and handle it from the poll phase like any other event. libuv does it with
//! a handler that writes the signal number to a self-pipe; Linux offers the
//! same thing built in, `signalfd`, which Spindle uses.
//!
//! ## Blocking, and its caveat
//!
//! A `signalfd` only sees signals that are *blocked*: an unblocked signal is
//! delivered to its disposition (for most signals, terminating the process)
//! before anyone can read it. So the first handle for a signal blocks it in
//! the loop thread (`pthread_sigmask`), and the loop's signalfd mask gains it;
//! the last handle to stop removes it from the mask, discards instances that
//! arrived but were never read (delivering them to the default disposition
//! would usually kill the process), and restores the thread's earlier state
//! for that signal (it stays blocked if it was blocked before).
//!
//! A signal mask is per *thread*. That has two consequences:
//!
//! * Threads created later by the loop thread inherit its mask, watched
//!   signals included. Spindle's own pool threads block every asynchronous
//!   signal on purpose (see [`Loop::queue_work`]).
//! * A signal sent to the *process* (`kill(pid, sig)`, a terminal's Ctrl-C)
//!   goes to any one thread that does not block it. If another thread of the
//!   process (created before the handle started, by another library, or the
//!   main thread while the loop runs elsewhere) leaves the signal unblocked,
//!   the kernel may hand the signal to *that* thread, where the disposition
//!   acts and the loop never hears of it. A program that wants reliable
//!   process-wide signals starts its signal handles on the main thread before
//!   spawning any thread, or blocks the signals in every thread. Signals sent
//!   to the loop thread itself (`raise`, `pthread_kill`) always arrive.
//! * A process-directed signal is dequeued by whichever signalfd reads it
//!   first. If two loops on two threads watch the same signal, one send
//!   reaches one loop, not both (libuv, with one process-wide handler,
//!   would tell both). Watch a process-wide signal from one loop.
//!
//! Standard signals (1..=31) do not queue: several sends while one is pending
//! are reported once. Real-time signals (`SIGRTMIN..=SIGRTMAX`) queue, and
//! each is reported.

use crate::handle::{HandleId, Kind};
use crate::io_watch::{Watch, READ};
use crate::Loop;
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// The callback of a signal handle: the loop, the handle, the signal number.
pub type SignalCb = Box<dyn FnMut(&mut Loop, SignalId, i32)>;

/// Names a signal handle; see [`Loop::signal_start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalId(pub(crate) HandleId);

impl SignalId {
    /// The untyped handle, for [`Loop::close`], [`Loop::unref`] and friends.
    pub fn handle(self) -> HandleId {
        self.0
    }
}

/// One watched signal.
struct Watched {
    /// Active handles for this signal, in start order (the order their
    /// callbacks run). Never empty: the entry goes when its last handle stops.
    handlers: Vec<HandleId>,
    /// Whether the loop thread had the signal blocked before the first handle
    /// blocked it; if so it stays blocked when the last handle stops.
    was_blocked: bool,
}

/// The loop's signal state.
#[derive(Default)]
pub(crate) struct Signals {
    /// The loop's signalfd, non-blocking. `Some` exactly while `watched` is
    /// non-empty; its mask is always the set of `watched` keys.
    fd: Option<File>,
    /// The handle whose slot holds the signalfd's [`Watch`], so the poller
    /// reports readiness with its token. `Some` exactly while `fd` is; always
    /// an active handle (stopping it moves the watch to another one).
    owner: Option<HandleId>,
    watched: BTreeMap<i32, Watched>,
    /// Processes reaped on `SIGCHLD` because `pidfd_open` was unavailable
    /// (see the process module).
    pub(crate) sigchld_children: Vec<HandleId>,
    /// The internal, unreferenced `SIGCHLD` handle of that fallback.
    pub(crate) sigchld: Option<SignalId>,
}

/// A signal handle's state.
pub(crate) struct SignalState {
    signum: i32,
    cb: Option<SignalCb>,
    /// The signalfd's watch, held by the handle named in `Signals::owner`.
    watch: Option<Watch>,
}

impl SignalState {
    pub(crate) fn watch_mut(&mut self) -> Option<&mut Watch> {
        self.watch.as_mut()
    }
}

/// The highest signal number Linux has (`SIGRTMAX`, `_NSIG - 1`).
const MAX_SIGNAL: i32 = 64;

/// Checks that `signum` is a signal a handle may watch.
///
/// # Errors
/// `InvalidInput`, saying why, for numbers outside `1..=64`, for `SIGKILL`
/// and `SIGSTOP` (which no process can catch or block), and for the two
/// real-time signals the C library keeps for its threads implementation.
pub(crate) fn check_signum(signum: i32) -> io::Result<()> {
    let why = if !(1..=MAX_SIGNAL).contains(&signum) {
        format!("signal number {signum} is out of range: Linux signals are 1..={MAX_SIGNAL}")
    } else if signum == libc::SIGKILL || signum == libc::SIGSTOP {
        let name = if signum == libc::SIGKILL { "SIGKILL" } else { "SIGSTOP" };
        format!("{name} ({signum}) cannot be caught or blocked, so no handle can watch it")
    } else if signum > 31 && signum < libc::SIGRTMIN() {
        format!(
            "signal {signum} is reserved by the C library's threads implementation; \
             real-time signals start at SIGRTMIN ({})",
            libc::SIGRTMIN()
        )
    } else {
        return Ok(());
    };
    Err(io::Error::new(io::ErrorKind::InvalidInput, why))
}

impl Loop {
    /// Starts a handle that calls `cb` on the loop thread each time `signum`
    /// arrives. Any number of handles may watch one signal; all of them run,
    /// in start order. The handle keeps the loop alive until stopped, closed
    /// or [unref'd](Loop::unref).
    ///
    /// Signals arrive through a `signalfd`, so callbacks run as ordinary loop
    /// callbacks, not inside a signal handler (where only async-signal-safe
    /// work is allowed). A signalfd only sees *blocked* signals, so the first
    /// handle for a signal blocks it in the calling (loop) thread, and the
    /// last one to stop restores the thread's earlier state. Masks are per
    /// thread: threads the loop thread spawns later inherit the block, and a
    /// signal sent to the whole process may be taken by *another* thread that
    /// leaves it unblocked, where the default disposition acts and the loop
    /// never sees it. For reliable process-wide signals, start the handles
    /// before spawning threads (Spindle's pool threads block every
    /// asynchronous signal themselves). A process-directed signal reaches
    /// one loop only, so watch it from one loop. Standard signals sent while
    /// one is pending are reported once; real-time signals queue.
    ///
    /// ```
    /// use spindle_loop::{Loop, RunMode};
    /// let mut lp = Loop::new()?;
    /// lp.signal_start(libc::SIGUSR2, |lp, id, signum| {
    ///     assert_eq!(signum, libc::SIGUSR2);
    ///     lp.close(id.handle(), None);
    /// })?;
    /// // SAFETY: raise sends to the calling thread, which now blocks SIGUSR2.
    /// assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
    /// lp.run(RunMode::Default)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// `InvalidInput` for a signal no handle can watch (out of `1..=64`,
    /// `SIGKILL`, `SIGSTOP`, the C library's reserved 32 and 33); otherwise
    /// the kernel's error from `signalfd` or registering it with the poller.
    pub fn signal_start(
        &mut self,
        signum: i32,
        cb: impl FnMut(&mut Loop, SignalId, i32) + 'static,
    ) -> io::Result<SignalId> {
        check_signum(signum)?;
        let id =
            self.handles.insert(Kind::Signal(SignalState { signum, cb: Some(Box::new(cb)), watch: None }));
        if let Err(e) = self.signal_watch(signum, id) {
            self.handles.remove(id);
            return Err(e);
        }
        self.handles.set_active(id, true);
        Ok(SignalId(id))
    }

    /// Stops a signal handle: its callback no longer runs and it no longer
    /// keeps the loop alive. When it was the last handle for its signal, the
    /// signal leaves the signalfd's mask, pending instances are discarded and
    /// the thread's earlier blocked state is restored. Close the handle with
    /// [`Loop::close`] to free it; stopping a stopped or closed handle does
    /// nothing.
    pub fn signal_stop(&mut self, id: SignalId) {
        let id = id.0;
        let signum = match self.handles.get(id) {
            Some(h) if h.active => match &h.kind {
                Kind::Signal(s) => s.signum,
                _ => return,
            },
            _ => return,
        };
        self.handles.set_active(id, false);
        let Some(w) = self.signals.watched.get_mut(&signum) else { return };
        w.handlers.retain(|x| *x != id);
        if w.handlers.is_empty() {
            let was_blocked = w.was_blocked;
            self.signals.watched.remove(&signum);
            self.signal_fd_update();
            if !was_blocked {
                sys::discard_pending(signum);
                sys::set_blocked(signum, false);
            }
        }
        if self.signals.owner == Some(id) {
            self.signal_move_watch(id);
        }
    }

    /// Adds `id` as a handler of `signum`, blocking the signal and adding it
    /// to the signalfd if it is the first.
    fn signal_watch(&mut self, signum: i32, id: HandleId) -> io::Result<()> {
        if let Some(w) = self.signals.watched.get_mut(&signum) {
            w.handlers.push(id);
            return Ok(());
        }
        let was_blocked = sys::set_blocked(signum, true);
        let mask = sys::sigset(self.signals.watched.keys().copied().chain([signum]));
        let result = match &self.signals.fd {
            Some(fd) => sys::signalfd_set_mask(fd.as_raw_fd(), &mask),
            None => self.signal_fd_open(&mask, id),
        };
        if let Err(e) = result {
            if !was_blocked {
                sys::discard_pending(signum);
                sys::set_blocked(signum, false);
            }
            return Err(e);
        }
        self.signals.watched.insert(signum, Watched { handlers: vec![id], was_blocked });
        Ok(())
    }

    /// Creates the signalfd with `mask` and registers it under `owner`.
    fn signal_fd_open(&mut self, mask: &libc::sigset_t, owner: HandleId) -> io::Result<()> {
        let fd = sys::signalfd_new(mask)?;
        let Some(Kind::Signal(s)) = self.handles.get_mut(owner).map(|h| &mut h.kind) else {
            unreachable!("signal_fd_open is called with a live signal handle");
        };
        let mut watch = Watch::new(fd.as_raw_fd());
        watch.wanted = READ;
        s.watch = Some(watch);
        if let Err(e) = self.watch_register(owner) {
            if let Some(Kind::Signal(s)) = self.handles.get_mut(owner).map(|h| &mut h.kind) {
                s.watch = None;
            }
            return Err(e);
        }
        self.signals.fd = Some(fd);
        self.signals.owner = Some(owner);
        Ok(())
    }

    /// Brings the signalfd in line with `watched`: a new mask, or no
    /// descriptor at all when nothing is watched.
    fn signal_fd_update(&mut self) {
        if self.signals.watched.is_empty() {
            if let Some(owner) = self.signals.owner.take() {
                // Off the poller before the descriptor closes.
                self.watch_unregister(owner);
                if let Some(Kind::Signal(s)) = self.handles.get_mut(owner).map(|h| &mut h.kind) {
                    s.watch = None;
                }
            }
            self.signals.fd = None;
        } else if let Some(fd) = &self.signals.fd {
            let mask = sys::sigset(self.signals.watched.keys().copied());
            if let Err(e) = sys::signalfd_set_mask(fd.as_raw_fd(), &mask) {
                // Only EINVAL/EBADF are documented, and neither can happen
                // for our own signalfd and a valid set.
                unreachable!("signalfd refused to change the mask of its own descriptor: {e}");
            }
        }
    }

    /// Moves the signalfd's watch from `from` (stopping or closing) to
    /// another active handler, so readiness keeps reaching the loop.
    fn signal_move_watch(&mut self, from: HandleId) {
        let Some(fd) = self.signals.fd.as_ref().map(|f| f.as_raw_fd()) else { return };
        let Some(to) = self.signals.watched.values().next().map(|w| w.handlers[0]) else { return };
        self.watch_unregister(from);
        if let Some(Kind::Signal(s)) = self.handles.get_mut(from).map(|h| &mut h.kind) {
            s.watch = None;
        }
        if let Some(Kind::Signal(s)) = self.handles.get_mut(to).map(|h| &mut h.kind) {
            let mut watch = Watch::new(fd);
            watch.wanted = READ;
            s.watch = Some(watch);
        }
        self.signals.owner = Some(to);
        if let Err(e) = self.watch_register(to) {
            // The descriptor is open and was registered a moment ago under
            // another token; the kernel has no reason to refuse it.
            tracing::error!(error = %e, "could not re-register the signalfd; signals will not be delivered");
        }
    }

    /// The signalfd is readable: read every pending signal, then run the
    /// handlers of each, in arrival order.
    pub(crate) fn signal_ready(&mut self, _id: HandleId) {
        let Some(fd) = self.signals.fd.as_ref() else { return };
        let arrived = sys::read_signals(fd);
        for signum in arrived {
            self.signal_dispatch(signum);
        }
    }

    fn signal_dispatch(&mut self, signum: i32) {
        let Some(w) = self.signals.watched.get(&signum) else { return };
        let handlers = w.handlers.clone();
        for id in handlers {
            let Some(h) = self.handles.get_mut(id) else { continue };
            if !h.active {
                continue; // stopped by an earlier callback of this batch
            }
            let Kind::Signal(s) = &mut h.kind else { continue };
            let Some(mut cb) = s.cb.take() else { continue };
            self.timed(id, |lp| cb(lp, SignalId(id), signum));
            if let Some(Kind::Signal(s)) = self.handles.get_mut(id).map(|h| &mut h.kind) {
                s.cb.get_or_insert(cb);
            }
        }
    }

    pub(crate) fn signal_on_close(&mut self, id: HandleId) {
        self.signal_stop(SignalId(id));
        if self.signals.sigchld == Some(SignalId(id)) {
            self.signals.sigchld = None;
        }
    }

    /// At loop drop: give every watched signal back to its earlier state.
    pub(crate) fn signal_shutdown(&mut self) {
        let ids: Vec<HandleId> = self.signals.watched.values().flat_map(|w| w.handlers.clone()).collect();
        for id in ids {
            self.signal_stop(SignalId(id));
        }
    }
}

/// The system calls behind signal handles; every `unsafe` of this module.
pub(crate) mod sys {
    use std::fs::File;
    use std::io::{self, Read};
    use std::os::fd::{FromRawFd, RawFd};

    /// A signal set holding exactly `signums` (each already checked).
    pub(crate) fn sigset(signums: impl IntoIterator<Item = i32>) -> libc::sigset_t {
        // SAFETY: sigset_t is a plain bit array; all-zero is a valid value,
        // which sigemptyset then initialises properly.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, writable sigset_t.
        unsafe { libc::sigemptyset(&mut set) };
        for s in signums {
            // SAFETY: `set` is initialised; `s` passed check_signum, so it is
            // in range and sigaddset cannot fail.
            unsafe { libc::sigaddset(&mut set, s) };
        }
        set
    }

    /// Blocks or unblocks `signum` in the calling thread; returns whether it
    /// was blocked before.
    pub(crate) fn set_blocked(signum: i32, block: bool) -> bool {
        let set = sigset([signum]);
        let how = if block { libc::SIG_BLOCK } else { libc::SIG_UNBLOCK };
        let mut old = sigset([]);
        // SAFETY: both sets are valid sigset_t values owned by this frame.
        let rc = unsafe { libc::pthread_sigmask(how, &set, &mut old) };
        // pthread_sigmask fails only for an invalid `how` or a bad pointer.
        assert_eq!(rc, 0, "pthread_sigmask failed: {}", io::Error::from_raw_os_error(rc));
        // SAFETY: `old` was filled in by pthread_sigmask.
        unsafe { libc::sigismember(&old, signum) == 1 }
    }

    /// Consumes instances of `signum` pending for this thread or the process,
    /// so that unblocking it does not deliver them to the default disposition.
    pub(crate) fn discard_pending(signum: i32) {
        let set = sigset([signum]);
        let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        loop {
            // SAFETY: `set` and `zero` are valid for the call; a null
            // siginfo pointer is allowed.
            let rc = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
            if rc < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                return; // EAGAIN: nothing (more) pending
            }
        }
    }

    /// A new non-blocking, close-on-exec signalfd for `mask`.
    pub(crate) fn signalfd_new(mask: &libc::sigset_t) -> io::Result<File> {
        // SAFETY: `mask` is a valid sigset_t; -1 asks for a new descriptor.
        let fd = unsafe { libc::signalfd(-1, mask, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: signalfd returned a fresh descriptor that nothing else owns.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Replaces the mask of an existing signalfd.
    pub(crate) fn signalfd_set_mask(fd: RawFd, mask: &libc::sigset_t) -> io::Result<()> {
        // SAFETY: `fd` is the loop's open signalfd and `mask` a valid set.
        if unsafe { libc::signalfd(fd, mask, 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads every pending `signalfd_siginfo` and returns the signal numbers
    /// in arrival order.
    pub(crate) fn read_signals(mut fd: &File) -> Vec<i32> {
        const INFO: usize = std::mem::size_of::<libc::signalfd_siginfo>();
        const SIGNO: usize = std::mem::offset_of!(libc::signalfd_siginfo, ssi_signo);
        let mut buf = [0u8; INFO * 16];
        let mut out = Vec::new();
        loop {
            match fd.read(&mut buf) {
                Ok(n) => {
                    for info in buf[..n].chunks_exact(INFO) {
                        let mut signo = [0u8; 4];
                        signo.copy_from_slice(&info[SIGNO..SIGNO + 4]);
                        out.push(u32::from_ne_bytes(signo) as i32);
                    }
                    if n < buf.len() {
                        return out;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
                Err(e) => {
                    tracing::error!(error = %e, "reading the signalfd failed");
                    return out;
                }
            }
        }
    }

    /// Runs `f` with every asynchronous signal blocked in the calling thread,
    /// so threads it spawns start with them blocked; restores the mask after.
    /// Synchronous fault signals stay deliverable, so a crash in such a
    /// thread still reports as one.
    ///
    /// A program that watches signals with a loop must spawn its helper
    /// threads this way: a process-directed SIGTERM goes to any thread that
    /// does not block it, and in a helper thread its default action kills
    /// the process before the loop hears of it.
    pub fn with_async_signals_blocked<R>(f: impl FnOnce() -> R) -> R {
        // SAFETY: as in `sigset`: zeroed then initialised by sigfillset.
        let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `all` is a valid, writable sigset_t.
        unsafe { libc::sigfillset(&mut all) };
        for s in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGSYS] {
            // SAFETY: `all` is initialised and `s` is a valid signal number.
            unsafe { libc::sigdelset(&mut all, s) };
        }
        let mut old = sigset([]);
        // SAFETY: both sets are valid; SIG_BLOCK only adds to the mask.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old) };
        let out = f();
        if rc == 0 {
            // SAFETY: `old` is the mask pthread_sigmask saved above.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::check_signum;
    use std::io::ErrorKind;

    #[test]
    fn rejects_signals_no_handle_can_watch() {
        for bad in [0, -1, 65, i32::MAX, libc::SIGKILL, libc::SIGSTOP, 32, 33] {
            let e = check_signum(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        for good in [libc::SIGINT, libc::SIGUSR1, libc::SIGCHLD, libc::SIGRTMIN(), 64] {
            check_signum(good).unwrap();
        }
    }
}
