//! The local run queue of one P: a fixed-size, lock-free ring with a single
//! producer (the worker that owns it) and many consumers (the owner popping,
//! idle workers stealing).
//!
//! # Roles
//!
//! [`local`] returns the two halves. [`Local`] is the owner side: it alone
//! pushes, at the tail, and pops, at the head. [`Steal`] is the thief side,
//! cloned into every other worker: [`Steal::steal_into`] takes half of the
//! items from the head and moves them into the thief's own `Local`.
//!
//! # Word layout
//!
//! Indices are `u32` counters that only grow (wrapping); a slot is
//! `index & MASK`. Two words hold them:
//!
//! ```text
//!   head: AtomicU64 = steal << 32 | real      written by owner and thieves (CAS)
//!   tail: AtomicU32                           written by the owner only (store)
//!
//!        steal          real                       tail
//!          |  claimed by  |   owned by the queue,    |   free slots
//!          |  one thief,  |   poppable / stealable   |   (owner writes
//!          |  being copied|                          |    here next)
//! ```
//!
//! * `real` is the next item to pop or steal. Every consumer advances it by
//!   a compare-and-swap of the whole `head`.
//! * `steal` trails `real` while a thief is copying the slots it claimed
//!   (`steal..real`). Those slots are out of the queue (nobody else may read
//!   them) but not yet free (the owner may not overwrite them). When the
//!   copy is done the thief sets `steal = real`. `steal != real` therefore
//!   means "a steal is in progress"; at most one is, since a thief claims
//!   only when `steal == real`.
//! * The queue is full when `tail - steal == LOCAL_QUEUE_CAPACITY`.
//!
//! Packing both indices in one word lets a thief claim a whole batch with a
//! single CAS and then copy without holding anything that blocks the owner:
//! the owner keeps popping (advancing `real`) while the thief copies. This is
//! tokio's layout; Go's `runqgrab` instead copies first and then CASes a single
//! head, retrying if the owner moved it, which is simpler but can waste copies.
//!
//! Indices wrap at 2^32; a CAS could in principle succeed against a head that
//! moved exactly 2^32 steps between a thief's load and its CAS (ABA). A thief
//! would have to be descheduled while the owner runs four billion queue
//! operations; like tokio and Go we accept that.
//!
//! # Memory orderings
//!
//! * Owner writes slot `tail`, then `tail.store(Release)`. Thieves load `tail`
//!   with `Acquire` before reading the slots below it: the slot contents are
//!   visible to them.
//! * Owner's CAS of `head` in [`Local::pop`] and in the overflow path is
//!   `AcqRel`. The `Release` half matters: a thief that `Acquire`-loads that
//!   head value then `Acquire`-loads `tail` is guaranteed a tail at least as
//!   new as the one the owner saw, so `tail - real` never underflows.
//! * A thief finishes with a `Release` CAS (`steal = real`) after its last
//!   read of the claimed slots. The owner loads `head` with `Acquire` before
//!   deciding a slot is free to overwrite: the thief's reads happen before the
//!   owner's write.
//! * A thief's claiming CAS is `AcqRel` (`Acquire` on failure): it must see
//!   the latest `head` to decide, and the claim is published like any head
//!   move.
//! * The owner reads `tail` with `Relaxed`: only the owner writes it.
//!
//! # Ownership of items
//!
//! An item pushed into a slot is owned by the queue until a pop or a claim
//! removes its index from `real..tail`; the remover then moves it out with a
//! `ptr::read`, exactly once. [`Local`]'s `Drop` pops and drops whatever is
//! still queued (it does not assert emptiness: at shutdown a worker may
//! stop with queued tasks, and dropping them is the right cleanup).
//!
//! # Constants
//!
//! [`LOCAL_QUEUE_CAPACITY`] is 256, from Go's `p.runq [256]guintptr`
//! (runtime/runtime2.go), also tokio's value. Under `--cfg loom` it is 4, as
//! in tokio, so the model checker reaches "full", "overflow" and "wrap around"
//! with a handful of items.

use std::fmt;
use std::mem::MaybeUninit;
use std::ptr;

use super::inject::Inject;
use crate::loom::sync::atomic::AtomicU32;
use crate::loom::sync::atomic::AtomicU64;
use crate::loom::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use crate::loom::sync::Arc;
use crate::loom::UnsafeCell;

/// Slots in each worker's local run queue: 256, Go's `runq` size
/// (runtime/runtime2.go); 4 under `--cfg loom` so model checking reaches the
/// full and wrap-around states with few items. Always a power of two.
#[cfg(not(loom))]
pub const LOCAL_QUEUE_CAPACITY: usize = 256;

/// Slots in each worker's local run queue: 4 under loom (see the non-loom
/// value's documentation).
#[cfg(loom)]
pub const LOCAL_QUEUE_CAPACITY: usize = 4;

const _: () = assert!(LOCAL_QUEUE_CAPACITY.is_power_of_two() && LOCAL_QUEUE_CAPACITY >= 2);

const CAP: u32 = LOCAL_QUEUE_CAPACITY as u32;
const MASK: u32 = CAP - 1;

/// What the owner and the thieves share.
struct Inner<T> {
    /// `steal << 32 | real`; see the module docs. Invariant:
    /// `steal <= real <= tail` and `tail - steal <= CAP` (wrapping).
    head: AtomicU64,
    /// Next slot the owner writes. Written only by the owner (the holder of
    /// the `Local`). Invariant: every slot in `real..tail` holds an
    /// initialized item owned by the queue.
    tail: AtomicU32,
    /// `CAP` slots. A slot is initialized exactly when its index lies in
    /// `steal..tail` (in `steal..real` it is being moved out by a thief).
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the queue moves `T` values between threads (pushed by the owner,
// taken by a thief), so `T: Send` is required and sufficient; the slots are
// only accessed under the claim protocol described on `Inner`'s fields, so
// no slot is accessed by two threads at once (no `T: Sync` needed).
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above: shared access goes through atomics and the claim
// protocol, which hands each item to exactly one thread.
unsafe impl<T: Send> Sync for Inner<T> {}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

/// Creates an empty local run queue, returning the thief handle (clone it
/// to every other worker) and the owner handle (keep it on this worker).
pub fn local<T: Send>() -> (Steal<T>, Local<T>) {
    let buffer = (0..LOCAL_QUEUE_CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect::<Vec<_>>()
        .into_boxed_slice();
    let inner = Arc::new(Inner { head: AtomicU64::new(0), tail: AtomicU32::new(0), buffer });
    (Steal(inner.clone()), Local { inner })
}

/// The owner side of a local run queue: the only handle that pushes.
///
/// There is exactly one per queue (it is not `Clone`), and its methods take
/// `&mut self`, so "only the owner writes `tail`" holds by construction.
pub struct Local<T> {
    inner: Arc<Inner<T>>,
}

/// The thief side of a local run queue. Cheap to clone; any number of
/// threads may steal concurrently (at most one claims at a time, the others
/// back off).
pub struct Steal<T>(Arc<Inner<T>>);

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Self {
        Steal(self.0.clone())
    }
}

impl<T> Inner<T> {
    /// Moves the item out of slot `index`.
    ///
    /// # Safety
    ///
    /// The caller must have removed `index` from `real..tail` (by a pop or a
    /// claim CAS), so it alone owns the initialized item there, and must
    /// read it only once.
    unsafe fn take(&self, index: u32) -> T {
        self.buffer[(index & MASK) as usize].with(|slot| {
            // SAFETY: per this function's contract the slot is initialized
            // and owned by the caller alone; reading it moves the item out.
            unsafe { ptr::read(slot).assume_init() }
        })
    }

    /// Writes `item` into slot `index`.
    ///
    /// # Safety
    ///
    /// Only the owner may call this, with `index` in `tail..steal + CAP`: the
    /// slot is then free (no item, no thief reading it).
    unsafe fn put(&self, index: u32, item: T) {
        self.buffer[(index & MASK) as usize].with_mut(|slot| {
            // SAFETY: per this function's contract the slot is free and only
            // the owner (this thread) writes slots at or past `tail`.
            unsafe { ptr::write(slot, MaybeUninit::new(item)) }
        })
    }

    fn len(&self) -> u32 {
        let (_, real) = unpack(self.head.load(Acquire));
        let tail = self.tail.load(Acquire);
        tail.wrapping_sub(real)
    }
}

impl<T> Local<T> {
    /// Items the owner could pop now (excludes items a thief is copying).
    pub fn len(&self) -> usize {
        self.inner.len() as usize
    }

    /// Whether [`pop`](Self::pop) would return `None` right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots: how many pushes succeed without overflowing. Slots a thief
    /// is still copying out of count as occupied.
    pub fn remaining_slots(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        let tail = self.inner.tail.load(Relaxed);
        (CAP - tail.wrapping_sub(steal)) as usize
    }

    /// Pushes `item` at the tail.
    ///
    /// If the queue is full, moves the older half of it plus `item` to
    /// `overflow` in one batch (one lock; Go's `runqputslow`), leaving room for
    /// the next pushes and giving other workers something to take. If the
    /// queue is full only because a thief is still copying items out, just
    /// `item` goes to `overflow`: the space frees up in a moment and waiting
    /// for the thief would make the owner spin on another thread's progress.
    ///
    /// If `overflow` is closed the items sent there are dropped (see
    /// [`Inject::push_batch`]).
    pub fn push_back(&mut self, mut item: T, overflow: &Inject<T>) {
        let tail = loop {
            let (steal, real) = unpack(self.inner.head.load(Acquire));
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(steal) < CAP {
                break tail;
            }
            if steal != real {
                // Full, but a thief holds `steal..real`; do not wait for it.
                overflow.push_batch(std::iter::once(item));
                return;
            }
            match self.push_overflow(item, real, tail, overflow) {
                Ok(()) => return,
                // A thief claimed items between our load and our CAS; there
                // will be room once it finishes: look again.
                Err(back) => item = back,
            }
        };
        // SAFETY: we are the owner and `tail - steal < CAP`, so slot `tail`
        // is free: no item, and no thief may read it before we publish it.
        unsafe { self.inner.put(tail, item) };
        // Release: publishes the slot write to thieves that Acquire `tail`.
        self.inner.tail.store(tail.wrapping_add(1), Release);
    }

    /// The full-queue path: claims the older half with a CAS as a thief
    /// would, then hands it and `item` to `inject` in one batch. Returns the
    /// item if a thief won the race for `head`.
    fn push_overflow(&mut self, item: T, real: u32, tail: u32, inject: &Inject<T>) -> Result<(), T> {
        const HALF: u32 = CAP / 2;
        debug_assert_eq!(tail.wrapping_sub(real), CAP, "overflow with room left");
        let end = real.wrapping_add(HALF);
        // AcqRel: Release so a thief reading this head also sees our `tail`
        // (see the module docs); Acquire to order after earlier head moves.
        if self.inner.head.compare_exchange(pack(real, real), pack(end, end), AcqRel, Acquire).is_err() {
            return Err(item);
        }
        let claimed = Claimed { inner: &self.inner, next: real, end };
        inject.push_batch(claimed.chain(std::iter::once(item)));
        Ok(())
    }

    /// Pops the oldest item (FIFO), or `None` if the queue is empty.
    pub fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Acquire);
        let index = loop {
            let (steal, real) = unpack(head);
            let tail = self.inner.tail.load(Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // With no steal in progress the two indices move together;
            // otherwise leave `steal` for the thief to release.
            let next = if steal == real { pack(next_real, next_real) } else { pack(steal, next_real) };
            // AcqRel: see the module docs (Release publishes our view of
            // `tail` to thieves reading this head).
            match self.inner.head.compare_exchange(head, next, AcqRel, Acquire) {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: our CAS moved `real` past `index`, so that initialized slot
        // left `real..tail` and is ours alone; we read it once.
        Some(unsafe { self.inner.take(index) })
    }

    /// Appends every item of `items` at the tail with one `tail` store.
    /// Used by [`Inject::pop_into`], which sizes the batch to fit.
    ///
    /// # Panics
    ///
    /// If the batch does not fit (a caller bug); items already written stay
    /// queued, the rest are dropped.
    pub(super) fn push_back_within_capacity(&mut self, items: impl IntoIterator<Item = T>) {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        let start = self.inner.tail.load(Relaxed);
        let mut tail = start;
        for item in items {
            if tail.wrapping_sub(steal) >= CAP {
                self.inner.tail.store(tail, Release);
                panic!("push_back_within_capacity: batch larger than the free slots");
            }
            // SAFETY: we are the owner and `tail - steal < CAP` (checked just
            // above against a `steal` that can only have grown), so the slot
            // is free and unpublished.
            unsafe { self.inner.put(tail, item) };
            tail = tail.wrapping_add(1);
        }
        if tail != start {
            self.inner.tail.store(tail, Release);
        }
    }
}

impl<T> Drop for Local<T> {
    /// Drains and drops the items still queued. Thieves holding a [`Steal`]
    /// see an empty queue from then on.
    fn drop(&mut self) {
        while let Some(item) = self.pop() {
            drop(item);
        }
    }
}

/// Items the owner claimed in the overflow path, read out as they are
/// iterated; whatever is not consumed is dropped with the iterator.
struct Claimed<'a, T> {
    inner: &'a Inner<T>,
    next: u32,
    end: u32,
}

impl<T> Iterator for Claimed<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        let index = self.next;
        self.next = self.next.wrapping_add(1);
        // SAFETY: the owner's overflow CAS removed `index` from `real..tail`;
        // `next` advances past each index as it is read, so each is read
        // once; the owner does not write these slots until `push_overflow`
        // (which holds the only `Claimed`) returns.
        Some(unsafe { self.inner.take(index) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end.wrapping_sub(self.next) as usize;
        (n, Some(n))
    }
}

impl<T> Drop for Claimed<'_, T> {
    fn drop(&mut self) {
        for item in self.by_ref() {
            drop(item);
        }
    }
}

impl<T> Steal<T> {
    /// Items in the victim's queue right now (a racy snapshot).
    pub fn len(&self) -> usize {
        self.0.len() as usize
    }

    /// Whether the victim's queue looks empty (a racy snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Steals half of the victim's items (rounded up, and no more than `dst`
    /// has room for) into `dst`, and returns one of them for the thief to
    /// run now, so a steal of one item leaves `dst` unchanged.
    ///
    /// Returns `None` if the victim is empty, `dst` is full, another thief is
    /// mid-steal on this victim (try another victim, as Go's `stealWork`
    /// does), or `dst` is this very queue.
    pub fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        if Arc::ptr_eq(&self.0, &dst.inner) {
            return None;
        }
        // We own `dst`: its tail is ours, its `steal` only grows.
        let dst_tail = dst.inner.tail.load(Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Acquire));
        let room = CAP - dst_tail.wrapping_sub(dst_steal);
        let (first, n) = self.claim(room)?;

        for i in 0..n {
            // SAFETY: our claim CAS moved `first..first + n` out of the
            // victim's `real..tail` into `steal..real`: initialized, ours
            // alone, each read once by this loop.
            let item = unsafe { self.0.take(first.wrapping_add(i)) };
            // SAFETY: we own `dst` (`&mut Local`), and `dst_tail + i` is below
            // `dst_steal + CAP` since `n <= room`: a free, unpublished slot.
            unsafe { dst.inner.put(dst_tail.wrapping_add(i), item) };
        }

        // Release the claimed slots: `steal = real`. Release orders our
        // reads above before the owner's reuse of those slots (it Acquires
        // head before writing). `real` may have moved (owner pops): retry.
        let mut head = pack(first, first.wrapping_add(n));
        loop {
            let (steal, real) = unpack(head);
            debug_assert_eq!(steal, first, "another thief released our claim");
            match self.0.head.compare_exchange(head, pack(real, real), AcqRel, Acquire) {
                Ok(_) => break,
                Err(actual) => head = actual,
            }
        }

        // Keep the last item to run now; publish the rest in `dst`.
        let last = dst_tail.wrapping_add(n - 1);
        // SAFETY: we wrote slot `last` above and never published it (tail is
        // still `dst_tail`), so it is initialized and ours; read once.
        let item = unsafe { dst.inner.take(last) };
        if n > 1 {
            // Release: publishes the copied slots to `dst`'s thieves.
            dst.inner.tail.store(last, Release);
        }
        Some(item)
    }

    /// Claims up to `max` items, half of those queued rounded up, by moving
    /// `real` forward while leaving `steal` behind. Returns the first index
    /// and the count.
    fn claim(&self, max: u32) -> Option<(u32, u32)> {
        let mut head = self.0.head.load(Acquire);
        loop {
            let (steal, real) = unpack(head);
            if steal != real {
                // Another thief is copying; do not queue up behind it.
                return None;
            }
            // Acquire: pairs with the owner's Release store of `tail`, so
            // the slots below it are visible.
            let tail = self.0.tail.load(Acquire);
            let queued = tail.wrapping_sub(real);
            if queued > CAP {
                // `head` is stale: we were descheduled between the two loads
                // and the owner has since popped and pushed. The CAS below
                // would fail anyway; start over from a fresh head.
                head = self.0.head.load(Acquire);
                continue;
            }
            let n = (queued - queued / 2).min(max);
            if n == 0 {
                return None;
            }
            let next = pack(steal, real.wrapping_add(n));
            match self.0.head.compare_exchange(head, next, AcqRel, Acquire) {
                Ok(_) => return Some((real, n)),
                Err(actual) => head = actual,
            }
        }
    }
}

impl<T> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (steal, real) = unpack(self.inner.head.load(Acquire));
        f.debug_struct("Local")
            .field("steal", &steal)
            .field("real", &real)
            .field("tail", &self.inner.tail.load(Relaxed))
            .finish()
    }
}

impl<T> fmt::Debug for Steal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (steal, real) = unpack(self.0.head.load(Acquire));
        f.debug_struct("Steal")
            .field("steal", &steal)
            .field("real", &real)
            .field("tail", &self.0.tail.load(Acquire))
            .finish()
    }
}
