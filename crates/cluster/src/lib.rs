//! spindle-cluster: nginx's process model for any server built on
//! spindle-rt.
//!
//! A master process ([`run`]) binds the listeners, forks workers (one per
//! core by default) and keeps a `socketpair` channel to each. Every worker
//! runs the application's [`App::worker`] future on a current-thread
//! spindle-rt runtime and takes connections from its [`Incoming`], which
//! hides how connections reach it: that is the *accept strategy*
//! ([`AcceptStrategy`], worker side in [`accept`]), the subject of the
//! notes on the thundering herd.
//!
//! The application sees three things in its [`WorkerCtx`]: the
//! connections ([`Incoming`]), the master's orders ([`Control`]: drain,
//! stop, reopen logs) and counters shared by all workers ([`Stats`], which
//! a status page sums).
//!
//! The master obeys nginx's signals (see [`master`]): `HUP` reloads,
//! `QUIT` drains, `TERM`/`INT` stop fast, `USR1` reopens logs, `USR2`
//! starts a new binary that inherits the listeners. A root master runs
//! its workers as an unprivileged [`user`] (`nobody` unless configured:
//! the master keeps root to bind ports and reopen logs, the workers that
//! parse untrusted input do not); everyone's log output goes to
//! the [`ErrorLog`]. [`demo`] is a small application to try all of it
//! with.
//!
//! [`WorkerCtx::standalone`] runs the same application in one process
//! without a master (tests, and nginx's `master_process off`).

pub mod accept;
pub mod affinity;
pub mod app;
mod channel;
mod child;
pub mod config;
pub mod demo;
mod errlog;
mod listen;
pub mod master;
pub mod stats;
mod sys;
pub mod user;
pub mod worker;

pub use affinity::CpuAffinity;
pub use app::{App, Loaded};
pub use config::{AcceptStrategy, ClusterConfig};
pub use errlog::{ErrorLog, ErrorLogWriter};
pub use listen::INHERIT_ENV;
pub use master::run;
/// [`ClusterConfig::io_coalesce`]'s settings.
pub use spindle_loop::Coalesce;
pub use stats::{Counter, Stats, Totals};
pub use user::WorkerUser;
pub use worker::{Control, ControlHandle, Incoming, Phase, WorkerCtx};

use std::net::SocketAddr;

/// Why the master could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// [`App::load`] refused the configuration at start-up.
    #[error("configuration error: {0}")]
    Config(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        /// The configured address.
        addr: SocketAddr,
        /// The system's error (in the message, and not also a `source()`,
        /// so that a report that walks the chain says it once).
        error: std::io::Error,
    },
    /// The listeners a previous master handed over ([`INHERIT_ENV`]) are
    /// unusable.
    #[error("inherited listeners: {0}")]
    Inherit(String),
    /// Another system call failed.
    #[error("{what}: {error}")]
    Io {
        /// What the master was doing.
        what: &'static str,
        /// The system's error (in the message, and not also a `source()`,
        /// so that a report that walks the chain says it once).
        error: std::io::Error,
    },
}
