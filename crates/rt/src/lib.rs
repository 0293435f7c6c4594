//! # spindle-rt: an async/await runtime
//!
//! Work in progress (issue 3). This crate will hold Spindle's async
//! runtime: tasks, a current-thread scheduler on spindle-loop and a G-M-P
//! work-stealing scheduler, net, time and sync. What is here so far are the
//! building blocks, each tested on its own:
//!
//! * [`task`]: the task cell, its state machine and `JoinHandle`;
//! * `sched::queue`: the fixed-size lock-free run queue a worker (a "P")
//!   owns, from which idle workers steal half, and the global queue;
//! * [`time`]: the hierarchical timer wheel;
//! * [`sync`]: async oneshot, bounded mpsc, Mutex, RwLock, Notify,
//!   Semaphore.

#![deny(unsafe_op_in_unsafe_fn)]

pub(crate) mod loom;
pub mod sched;
pub mod sync;
pub mod task;
pub mod time;
