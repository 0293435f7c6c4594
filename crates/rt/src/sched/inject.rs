//! The global run queue (Go's `sched.runq`): where overflow from full local
//! queues goes, where tasks woken from outside any worker go, and where idle
//! workers look before stealing.
//!
//! A plain `Mutex<VecDeque>`: every use either moves a batch (overflow,
//! [`Inject::pop_into`]) or is already off the fast path, so the lock is
//! cheap next to the work around it. What must not take the lock is the
//! question "is there anything?", which every worker asks on every
//! scheduling tick; [`Inject::len`] and [`Inject::is_empty`] read an atomic
//! copy of the length kept up to date under the lock.
//!
//! # Closing
//!
//! [`Inject::close`] marks the queue closed for shutdown. After that
//! [`Inject::push`] hands the item back and [`Inject::push_batch`] drops the
//! batch (outside the lock: dropping a task may wake another, which pushes
//! here). Items already queued stay until popped, so the shutdown path can
//! drain them with [`Inject::pop`].
//!
//! # Lock rule
//!
//! No user code runs under the lock: items are moved in and out, never
//! dropped while it is held. The one exception is the iterator given to
//! `push_batch`, which is advanced under the lock and so must not touch this
//! queue.

use std::collections::VecDeque;
use std::fmt;

use super::queue::{Local, LOCAL_QUEUE_CAPACITY};
use crate::loom::sync::atomic::AtomicUsize;
use crate::loom::sync::atomic::Ordering::{Acquire, Release};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::CachePadded;

/// The global run queue shared by all workers. See the module docs.
pub struct Inject<T> {
    /// The queue and the closed flag. Never held while dropping items.
    /// Padded, as `len` is: idle workers read `len` in a loop while a
    /// spawner takes the lock, and on one line each look pulled the line
    /// away from the spawner.
    synced: CachePadded<Mutex<Synced<T>>>,
    /// A copy of `synced.queue.len()`, written under the lock after every
    /// change (Release), read without it (Acquire).
    len: CachePadded<AtomicUsize>,
}

struct Synced<T> {
    queue: VecDeque<T>,
    closed: bool,
}

impl<T> Inject<T> {
    /// Creates an empty, open queue.
    pub fn new() -> Inject<T> {
        Inject {
            synced: CachePadded(Mutex::new(Synced { queue: VecDeque::new(), closed: false })),
            len: CachePadded(AtomicUsize::new(0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Synced<T>> {
        // A panic under this lock cannot leave the queue half-updated (each
        // critical section is a single VecDeque call plus the length copy),
        // so a poisoned lock is still consistent.
        self.synced.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Number of queued items, without taking the lock (a snapshot).
    pub fn len(&self) -> usize {
        self.len.load(Acquire)
    }

    /// Whether the queue is empty, without taking the lock (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Closes the queue: later pushes are refused. Returns `true` if this
    /// call closed it, `false` if it was already closed. Queued items stay
    /// poppable.
    pub fn close(&self) -> bool {
        let mut synced = self.lock();
        !std::mem::replace(&mut synced.closed, true)
    }

    /// Appends `item`, or hands it back as `Err` if the queue is closed.
    pub fn push(&self, item: T) -> Result<(), T> {
        let mut synced = self.lock();
        if synced.closed {
            return Err(item);
        }
        synced.queue.push_back(item);
        self.len.store(synced.queue.len(), Release);
        Ok(())
    }

    /// Appends every item of `items` under one lock, in order. Returns
    /// `false` if the queue is closed; the items are then dropped, after the
    /// lock is released. The iterator is advanced under the lock, so it must
    /// not use this queue.
    pub fn push_batch<I: IntoIterator<Item = T>>(&self, items: I) -> bool {
        let items = items.into_iter();
        let mut synced = self.lock();
        if synced.closed {
            drop(synced);
            drop(items);
            return false;
        }
        synced.queue.extend(items);
        self.len.store(synced.queue.len(), Release);
        true
    }

    /// Pops the oldest item. Does not take the lock when the queue looks
    /// empty.
    pub fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut synced = self.lock();
        let item = synced.queue.pop_front();
        self.len.store(synced.queue.len(), Release);
        item
    }

    /// Takes this worker's share of the global queue, as Go's `globrunqget`
    /// (runtime/proc.go): `len / nprocs + 1` items, but no more than half a
    /// local queue (so a worker leaves room for its own spawns) and no more
    /// than `dst` can hold plus one. Returns the oldest to run now and
    /// appends the rest to `dst`. `nprocs` is the number of workers (Go's
    /// GOMAXPROCS); 0 is treated as 1.
    pub fn pop_into(&self, dst: &mut Local<T>, nprocs: usize) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut synced = self.lock();
        let len = synced.queue.len();
        let n =
            (len / nprocs.max(1) + 1).min(len).min(LOCAL_QUEUE_CAPACITY / 2).min(dst.remaining_slots() + 1);
        let first = synced.queue.pop_front();
        if n > 1 {
            // `n - 1 <= remaining_slots`, and only we (the owner of `dst`)
            // can shrink that, so the batch fits.
            dst.push_back_within_capacity(synced.queue.drain(..n - 1));
        }
        self.len.store(synced.queue.len(), Release);
        first
    }
}

impl<T> Default for Inject<T> {
    fn default() -> Inject<T> {
        Inject::new()
    }
}

impl<T> fmt::Debug for Inject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inject").field("len", &self.len()).finish()
    }
}
