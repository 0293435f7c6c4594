//! The list of a runtime's live tasks, kept so that shutdown can cancel
//! every one of them.
//!
//! Every spawn adds a task and every completion removes it, so this list is
//! on the hot path of spawn-and-join. It is a slab (a vector of slots and a
//! free list) rather than a map: the slot index lives in the task's header,
//! so removal is an index, not a hash and a probe into a table that, with a
//! million live tasks, is tens of megabytes of cache misses. The slab is
//! split into shards by task id, each behind its own lock, so the workers
//! of a multi-thread runtime spawning and completing at once rarely meet
//! on one lock (tokio shards its list the same way).

use crate::task::{Task, TaskId};
use crate::CachePadded;
use std::panic::Location;
use std::sync::{Mutex, MutexGuard};

struct Shard<S: 'static> {
    slots: Vec<Option<Task<S>>>,
    free: Vec<usize>,
    len: usize,
    closed: bool,
}

/// A sharded slab of owned tasks.
pub(crate) struct OwnedTasks<S: 'static> {
    /// Each shard on lines of its own: unpadded (72 bytes each), two
    /// shards shared a line, and a worker completing a task in one shard
    /// slowed a spawner binding in the next.
    shards: Box<[CachePadded<Mutex<Shard<S>>>]>,
    mask: usize,
}

impl<S: 'static> OwnedTasks<S> {
    /// A list with `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> OwnedTasks<S> {
        let n = shards.max(1).next_power_of_two();
        OwnedTasks {
            shards: (0..n)
                .map(|_| {
                    CachePadded(Mutex::new(Shard {
                        slots: Vec::new(),
                        free: Vec::new(),
                        len: 0,
                        closed: false,
                    }))
                })
                .collect(),
            mask: n - 1,
        }
    }

    fn shard(&self, id: TaskId) -> MutexGuard<'_, Shard<S>> {
        let i = id.as_u64() as usize & self.mask;
        crate::lock(&self.shards[i].0)
    }

    /// Adds `task`; gives it back if the list is closed (shut down).
    pub(crate) fn bind(&self, task: Task<S>) -> Result<(), Task<S>> {
        let mut shard = self.shard(task.id());
        if shard.closed {
            return Err(task);
        }
        let slot = match shard.free.pop() {
            Some(slot) => slot,
            None => {
                shard.slots.push(None);
                shard.slots.len() - 1
            }
        };
        task.set_owned_slot(slot);
        shard.slots[slot] = Some(task);
        shard.len += 1;
        Ok(())
    }

    /// Removes `task` (the list's own handle for it is returned, to be
    /// dropped by the caller outside the lock).
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let slot = task.owned_slot();
        let mut shard = self.shard(task.id());
        let held = shard.slots.get_mut(slot)?.take_if(|t| t.id() == task.id())?;
        shard.free.push(slot);
        shard.len -= 1;
        Some(held)
    }

    /// Closes the list (later binds fail) and takes every task out, in
    /// spawn order.
    pub(crate) fn close_and_take(&self) -> Vec<Task<S>> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = crate::lock(&shard.0);
            shard.closed = true;
            shard.free.clear();
            shard.len = 0;
            all.extend(std::mem::take(&mut shard.slots).into_iter().flatten());
        }
        all.sort_by_key(|t| t.id());
        all
    }

    /// Live tasks.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| crate::lock(&s.0).len).sum()
    }

    /// Where the live task `id` was spawned (a scan: for rare reports only).
    pub(crate) fn spawned_at(&self, id: TaskId) -> Option<&'static Location<'static>> {
        self.shard(id).slots.iter().flatten().find(|t| t.id() == id).map(|t| t.spawned_at())
    }
}
