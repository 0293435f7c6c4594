//! Per-thread settings the event loops need: the timer slack.
//!
//! Linux lets a timer fire up to the thread's *timer slack* late (50 µs by
//! default for a normal thread), so that nearby wake-ups can share one
//! interrupt. For a loop that deliberately sleeps a few tens of
//! microseconds (spindle-loop's coalescing wait) that slack would double
//! the sleep; the loop lowers it for its own thread.

use std::io;

/// Sets the calling thread's timer slack to `ns` nanoseconds
/// (`prctl(PR_SET_TIMERSLACK)`); 0 restores the thread's default.
///
/// # Errors
/// The system's error from `prctl(2)`.
pub fn set_timer_slack(ns: u64) -> io::Result<()> {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and no
    // pointers; the unused arguments are passed as 0, as prctl(2) asks.
    let r = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, ns as libc::c_ulong, 0, 0, 0) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The calling thread's timer slack in nanoseconds
/// (`prctl(PR_GET_TIMERSLACK)`).
///
/// # Errors
/// The system's error from `prctl(2)`.
pub fn timer_slack() -> io::Result<u64> {
    // SAFETY: PR_GET_TIMERSLACK takes no arguments and returns the value.
    let r = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_slack_is_set_and_read_back_on_this_thread_only() {
        std::thread::spawn(|| {
            super::set_timer_slack(1_000).unwrap();
            assert_eq!(super::timer_slack().unwrap(), 1_000);
            let other = std::thread::spawn(|| super::timer_slack().unwrap()).join().unwrap();
            // A new thread inherits its creator's slack (prctl(2)).
            assert_eq!(other, 1_000);
        })
        .join()
        .unwrap();
        assert_ne!(super::timer_slack().unwrap(), 0);
    }
}
