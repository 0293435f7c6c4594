//! Helpers shared by the loop's integration tests: every run is bounded.

#![allow(dead_code)] // each test binary uses its own subset

use spindle_loop::{Loop, RunMode, TimerId};
use std::net::SocketAddr;
use std::time::Duration;

/// 127.0.0.1 with port 0: the kernel picks a free port; read it back.
pub fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Fails the test if the loop is still running after `limit`. The guard is
/// unref'd, so it does not keep the loop alive by itself.
pub fn guard(lp: &mut Loop, limit: Duration) -> TimerId {
    let t = lp.timer_once(limit, |_, _| panic!("test exceeded its time limit")).unwrap();
    lp.unref(t.handle());
    t
}

/// Runs single iterations until `done` says so (each bounded by a guard).
pub fn run_until(lp: &mut Loop, mut done: impl FnMut(&mut Loop) -> bool) {
    for _ in 0..100_000 {
        if done(lp) {
            return;
        }
        lp.run(RunMode::Once).unwrap();
    }
    panic!("condition not reached");
}

/// Runs the loop to completion, failing the test if it takes over 10 s,
/// and checks that it then closes cleanly.
pub fn run_bounded(lp: &mut Loop) {
    let guard = lp
        .timer_once(Duration::from_secs(10), |_, _| {
            panic!("test timed out: the loop was still alive after 10 s")
        })
        .unwrap();
    lp.unref(guard.handle());
    lp.run(RunMode::Default).unwrap();
    lp.close(guard.handle(), None);
    lp.run(RunMode::Default).unwrap();
    assert!(!lp.alive(), "the loop should close cleanly");
}
