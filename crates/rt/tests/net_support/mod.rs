//! Shared helpers for the `net_*.rs` socket tests: a bounded runner per
//! backend, a bounded thread, and one `#[test]` per backend (temporary
//! directories come from `rt_support`).

#![allow(dead_code)]

use spindle_rt::runtime::{Backend, Builder};
use spindle_rt::time::timeout;
use spindle_rt::Runtime;
use std::future::Future;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The bound on every test and on every wait inside one.
pub const LIMIT: Duration = Duration::from_secs(10);

/// A fresh current-thread runtime on `backend`.
pub fn rt(backend: Backend) -> Runtime {
    Builder::new_current_thread().backend(backend).build().expect("runtime")
}

/// Runs `f` to completion on a fresh runtime, failing after [`LIMIT`].
pub fn run<F: Future>(backend: Backend, f: F) -> F::Output {
    rt(backend).block_on(async { timeout(LIMIT, f).await.expect("test timed out") })
}

/// Runs `f` on a thread; take its result with `recv_timeout(LIMIT)`.
pub fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// Makes one `#[test]` per backend from `fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_backends {
    ($($name:ident),* $(,)?) => {
        mod epoll {
            $(#[test] fn $name() { super::$name(spindle_rt::runtime::Backend::Epoll) })*
        }
        mod poll {
            $(#[test] fn $name() { super::$name(spindle_rt::runtime::Backend::Poll) })*
        }
        mod select {
            $(#[test] fn $name() { super::$name(spindle_rt::runtime::Backend::Select) })*
        }
    };
}
