//! Shared helpers for the `rt_*.rs` runtime tests.

#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and fails the test if it takes longer than
/// ten seconds (instead of hanging the suite). Panics in `f` propagate.
pub fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    bounded_by(Duration::from_secs(10), f)
}

/// [`bounded`] with a limit of `limit`.
pub fn bounded_by<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let out = f();
        let _ = tx.send(());
        out
    });
    match rx.recv_timeout(limit) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => match t.join() {
            Ok(_) => unreachable!("sent before returning"),
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test timed out after {limit:?}"),
    }
}

/// A new current-thread runtime.
pub fn rt() -> spindle_rt::Runtime {
    spindle_rt::Builder::new_current_thread().build().expect("runtime")
}

/// A new multi-thread runtime with `workers` workers.
pub fn mt(workers: usize) -> spindle_rt::Runtime {
    spindle_rt::Builder::new_multi_thread().worker_threads(workers).build().expect("runtime")
}

/// One runtime of each flavor, named, for tests that must hold on both.
pub fn both() -> Vec<(&'static str, spindle_rt::Runtime)> {
    vec![("current-thread", rt()), ("multi-thread", mt(2))]
}

/// The message of a caught panic payload.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic>")
    }
}

/// A directory of its own for one test, under the system temp dir, named
/// `spindle-rt-TAG-PID-N`, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// Makes a fresh directory whose name carries `tag`.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("spindle-rt-{tag}-{}-{}", std::process::id(), NEXT.fetch_add(1, SeqCst));
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
