//! The lock-free core of the multi-thread scheduler: Go's G-M-P model.
//!
//! # G, M and P
//!
//! * **G** is a goroutine; here, a task (a future plus its header). Cheap,
//!   numerous, and runnable or not.
//! * **M** is a machine: an OS thread. It runs G's, but only while it holds
//!   a P; an M blocked in a system call or in blocking code gives its P away
//!   so another M can keep running G's.
//! * **P** is a processor: the *right* to run G's, one per core (Go's
//!   GOMAXPROCS). It carries the scheduling state that must be local to be
//!   fast: a run queue of ready G's ([`queue`]) and a LIFO slot holding the
//!   G most recently made ready by the running one (a message just sent is
//!   received next, while its data is still in cache).
//!
//! Keeping run queues on P's rather than on M's is Go's key move: when an M
//! blocks, its queue goes with the P to another M instead of stalling.
//!
//! # Why the local queue is a lock-free SPMC ring
//!
//! Only the P's owner ever adds to its queue (a task spawned or woken on a
//! worker goes to that worker's queue), so pushes need no atomic
//! read-modify-write: write the slot, publish the tail. Consumers are the
//! owner popping and idle workers stealing, both from the head, so the head
//! is the only contended word. A fixed ring (256 slots, as Go) never
//! allocates; when full, half of it goes to the global queue ([`inject`]).
//!
//! # Why steal half
//!
//! An idle worker that finds work takes half the victim's queue, not one
//! item: one steal then feeds it for a while, the victim keeps half, and the
//! work spreads across workers in a logarithmic number of steals rather than
//! a linear number of single-item fights over the victim's head.
//!
//! # The global queue and fairness
//!
//! The global queue takes overflow and tasks woken off the workers. A worker
//! that only ever looked at its local queue could starve it: two tasks that
//! keep waking each other stay in the local queue forever. So every
//! [`GLOBAL_QUEUE_INTERVAL`] scheduling ticks a worker checks the global
//! queue first, and takes a share of it ([`Inject::pop_into`]). When idle
//! it takes a share too, then tries [`STEAL_TRIES`] rounds of stealing from
//! random victims, then blocks on the netpoller.
//!
//! # What is here
//!
//! [`local`] makes a queue's owner ([`Local`]) and thief ([`Steal`]) halves;
//! [`Inject`] is the global queue. The workers, the LIFO slot, parking and
//! the monitor thread build on these.
//!
//! ```
//! use spindle_rt::sched::{local, Inject};
//!
//! let global = Inject::new();
//! let (victim_steal, mut victim) = local::<u32>(); // P0's queue
//! let (_, mut thief) = local::<u32>(); // P1's queue, empty
//! for g in 0..8 {
//!     victim.push_back(g, &global); // the owner pushes at the tail
//! }
//! assert_eq!(victim.pop(), Some(0)); // ...and pops FIFO from the head
//! // P1 is idle: it steals half of P0's seven (rounded up) and runs one now.
//! let run_now = victim_steal.steal_into(&mut thief);
//! assert!(run_now.is_some());
//! assert_eq!(thief.len() + 1, 4);
//! assert_eq!(victim.len(), 3);
//! ```

pub mod inject;
pub mod queue;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

pub use inject::Inject;
pub use queue::{local, Local, Steal, LOCAL_QUEUE_CAPACITY};

/// Scheduling ticks between checks of the global queue before the local
/// one: 61, from Go's `findRunnable` (runtime/proc.go,
/// `pp.schedtick%61 == 0`), whose comment gives the reason for the check
/// (two tasks respawning each other would otherwise own the local queue)
/// but not for the number; it is a prime, which at least keeps it out of
/// step with power-of-two periods in a program.
pub const GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// Rounds an idle worker makes over the other workers, trying to steal,
/// before it gives up and parks: 4, from Go's `stealWork`
/// (runtime/proc.go, `const stealTries = 4`).
pub const STEAL_TRIES: u32 = 4;
