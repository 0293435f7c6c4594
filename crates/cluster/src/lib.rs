//! spindle-cluster: nginx's process model for any server built on
//! spindle-rt.
//!
//! A master process binds the listeners, forks workers (one per core by
//! default) and keeps a `socketpair` channel to each. Every worker runs
//! the application's [`App::worker`] future on a current-thread
//! spindle-rt runtime and takes connections from its [`Incoming`], which
//! hides how connections reach it: that is the *accept strategy*
//! ([`AcceptStrategy`]), the subject of the notes on the thundering herd.
//!
//! The application sees three things in its [`WorkerCtx`]: the
//! connections ([`Incoming`]), the master's orders ([`Control`]: drain,
//! stop, reopen logs) and counters shared by all workers ([`Stats`], which
//! a status page sums).
//!
//! [`WorkerCtx::standalone`] runs the same application in one process
//! without a master (tests, and nginx's `master_process off`).

pub mod app;
pub mod config;
pub mod stats;
pub mod worker;

pub use app::{App, Loaded};
pub use config::{AcceptStrategy, ClusterConfig};
pub use stats::{Counter, Stats, Totals};
pub use worker::{Control, ControlHandle, Incoming, Phase, WorkerCtx};
