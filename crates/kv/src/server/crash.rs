//! Crash reports, as Redis writes them: when the server dies of a fatal
//! signal (`SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`, `SIGABRT`) or a Rust
//! panic, the log says so, with a stack trace, before the process ends.
//! Without it a daemon whose standard error goes nowhere would vanish and
//! leave its log mid-sentence.
//!
//! # Why a signal handler can do so little
//!
//! A handler for a fatal signal runs on top of whatever the thread was
//! doing, perhaps inside `malloc` holding its lock, so it may call only
//! async-signal-safe functions: no allocation, no locks, no formatting
//! machinery. This one writes fixed bytes and the signal number (digits
//! made by hand) with `write(2)` to the log's descriptor, prints glibc's
//! `backtrace_symbols_fd` (which writes straight to a descriptor; the
//! first `backtrace` call, which may load libgcc, is made at install time
//! rather than in the handler), then restores the default action and
//! re-raises the signal, so the process still dies of it (and dumps core
//! where that is enabled).
//!
//! A panic is different: it runs ordinary code, so its hook logs through
//! the normal log with a captured backtrace, then chains to Rust's default
//! hook.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

/// The descriptor crash reports are written to: the log file's, or
/// standard error.
static LOG_FD: AtomicI32 = AtomicI32::new(2);

const FATAL: [libc::c_int; 5] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGABRT];

/// Points crash reports at `fd` (the log file, or 2 for standard error);
/// called again whenever the log file changes.
pub fn set_log_fd(fd: RawFd) {
    LOG_FD.store(fd, Ordering::Relaxed);
}

/// Installs the fatal-signal handlers and the panic hook (once per
/// process; the server binary calls it at start).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The first backtrace may load libgcc (allocating): done here.
        let mut frames = [std::ptr::null_mut(); 1];
        // SAFETY: `frames` is a live buffer of the length passed.
        unsafe { libc::backtrace(frames.as_mut_ptr(), 1) };
        for sig in FATAL {
            // SAFETY: a zeroed sigaction is a valid value to fill in; the
            // handler is an `extern "C"` function with the SA_SIGINFO
            // signature, and `sigemptyset`/`sigaction` get pointers to
            // live locals.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_fatal_signal as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESETHAND | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let trace = std::backtrace::Backtrace::force_capture();
            tracing::error!(
                "=== SPINDLE KV BUG REPORT START ===\n{} {} (Redis {} compatible) panicked: {info}\n\
                 ------ STACK TRACE ------\n{trace}\n=== SPINDLE KV BUG REPORT END ===",
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                crate::cmd::info::REDIS_VERSION
            );
            default(info);
        }));
    });
}

/// DEBUG SEGFAULT: dies of `SIGSEGV`, through the crash report.
pub fn segfault() -> ! {
    // SAFETY: raise takes no pointers; the handler (or the default action)
    // ends the process.
    unsafe { libc::raise(libc::SIGSEGV) };
    std::process::abort()
}

/// Writes `bytes` to the log descriptor (async-signal-safe).
fn put(fd: RawFd, bytes: &[u8]) {
    // SAFETY: `bytes` is a live slice; a failed write is ignored (there is
    // nowhere else to report it).
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
}

extern "C" fn on_fatal_signal(sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let fd = LOG_FD.load(Ordering::Relaxed);
    put(fd, b"\n\n=== SPINDLE KV BUG REPORT START ===\nspindle kv crashed by signal: ");
    let mut digits = [0u8; 12];
    let mut n = sig.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    put(fd, &digits[at..]);
    put(fd, b"\n------ STACK TRACE ------\n");
    let mut frames = [std::ptr::null_mut(); 64];
    // SAFETY: `frames` is a live buffer of the length passed, and
    // backtrace_symbols_fd reads only the `n` entries backtrace filled.
    unsafe {
        let n = libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int);
        libc::backtrace_symbols_fd(frames.as_ptr(), n, fd);
    }
    put(fd, b"=== SPINDLE KV BUG REPORT END ===\n");
    // SA_RESETHAND restored the default action: the process dies of the
    // signal it got.
    // SAFETY: raise takes no pointers.
    unsafe { libc::raise(sig) };
}
