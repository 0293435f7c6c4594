//! Sends to a closed peer are `EPIPE`, not a process-killing `SIGPIPE`,
//! even with the signal's default action restored (Rust programs ignore it
//! from startup, which would hide a missing `MSG_NOSIGNAL`). One test in
//! its own binary: the signal disposition is process-wide.

use spindle_poll::socket::{send, send_vectored, socketpair};
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;

#[test]
fn sends_to_a_closed_peer_are_epipe_with_sigpipe_at_its_default() {
    // SAFETY: SIG_DFL is a valid disposition for SIGPIPE; this binary's only
    // test runs here, so no other thread depends on the signal being ignored.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(old, libc::SIG_ERR);
    let (a, b) = socketpair().unwrap();
    drop(b);
    let e = send(a.as_raw_fd(), b"x").unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
    let e = send_vectored(a.as_raw_fd(), &[IoSlice::new(b"x"), IoSlice::new(b"y")]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
    // Had either raised SIGPIPE, the process would be dead by now.
}
