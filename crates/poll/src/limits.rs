//! The process's descriptor limit (`RLIMIT_NOFILE`), which every server
//! on this poller runs into before anything else.
//!
//! Each connection costs a descriptor, and a process may have at most its
//! *soft* limit open; on most Linux systems that is still 1024 for a
//! login shell, while the *hard* limit, the ceiling an unprivileged
//! process may raise its own soft limit to, is far higher (systemd's
//! default is 524288). A server that leaves the soft limit alone hits
//! `EMFILE` at about a thousand clients. So servers raise it at start:
//! Redis asks for `maxclients` plus 32 reserved descriptors and lowers
//! `maxclients` when the system will not give that many, and Go's runtime
//! raises every program's soft limit to the hard one. [`raise_nofile`]
//! is the one call both of Spindle's servers use.

use std::io;

/// The descriptor limits of this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NofileLimit {
    /// The limit in force: `open`, `accept` and the like fail with
    /// `EMFILE` past it.
    pub soft: u64,
    /// The most the soft limit may be raised to without privilege.
    pub hard: u64,
}

/// The current limits.
///
/// # Errors
/// The system's error from `getrlimit(2)`.
pub fn nofile() -> io::Result<NofileLimit> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `r` is a live, exclusively borrowed rlimit the call fills in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(NofileLimit { soft: r.rlim_cur, hard: r.rlim_max })
}

/// Raises the soft descriptor limit to `want`, or as near as the hard
/// limit allows; never lowers it. Returns the limits in force afterwards,
/// so the caller can see whether it got what it asked for.
///
/// ```
/// let before = spindle_poll::limits::nofile()?;
/// let after = spindle_poll::limits::raise_nofile(before.soft)?;
/// assert_eq!(after, before); // asking for what we have changes nothing
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The system's error from `getrlimit(2)` or `setrlimit(2)`.
pub fn raise_nofile(want: u64) -> io::Result<NofileLimit> {
    let now = nofile()?;
    let target = want.min(now.hard);
    if target <= now.soft {
        return Ok(now);
    }
    let r = libc::rlimit { rlim_cur: target, rlim_max: now.hard };
    // SAFETY: `r` is a live rlimit the call only reads.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } < 0 {
        return Err(io::Error::last_os_error());
    }
    nofile()
}
