//! The waiter queue every primitive in this module shares.
//!
//! A [`WaitList`] is a FIFO of parked futures, each known by a [`WaiterId`]
//! and holding the [`Waker`] of its last poll plus a little data of the
//! primitive's choosing (how many permits a semaphore waiter wants, whether
//! a lock waiter reads or writes). It lives inside the primitive's state,
//! behind the primitive's own `Mutex`, so it needs no locking of its own.
//!
//! A waiter is in exactly one of three places:
//!
//! * **queued**: in `queue`, still waiting; its position is its turn;
//! * **granted**: moved to `granted` by the primitive, which has already
//!   handed it what it waited for (a lock, permits, a notification). The
//!   future collects the grant on its next poll;
//! * **gone**: collected or cancelled.
//!
//! The split is what makes cancellation correct. A future dropped while
//! queued simply leaves the queue; a future dropped after it was granted
//! owns something it will never use, and [`WaitList::cancel`] tells the
//! primitive so, which then passes it on to the next waiter. Nothing is
//! lost and nobody waits for a wake-up that already went to a dead future.
//!
//! Wakers are never called with the primitive's lock held: the primitive
//! collects them in a [`WakeList`], which wakes them when it is dropped
//! (declare it before the lock guard so the guard drops first).

use std::collections::VecDeque;
use std::task::Waker;

use crate::loom::sync::{Mutex, MutexGuard};

/// Locks one of this module's state mutexes, ignoring poisoning.
///
/// The state is only changed by short, non-panicking sections of our own
/// code (wakers run after the lock is released), so a poisoned lock still
/// guards consistent state.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Names one waiter of one [`WaitList`]; ids are never reused, and they
/// increase in queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct WaiterId(u64);

impl WaiterId {
    /// The id as a number that is never zero (id + 1), so that zero can
    /// mean "nobody" in an atomic slot.
    pub(crate) fn nonzero(self) -> u64 {
        self.0 + 1
    }
}

#[derive(Debug)]
struct Entry<T> {
    id: WaiterId,
    waker: Waker,
    data: T,
}

/// What became of a waiter that [`WaitList::cancel`] removed.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cancelled<T> {
    /// It was still queued; nothing was handed to it.
    Queued(T),
    /// It had been granted: whatever it was given must be passed on.
    Granted(T),
    /// It had already collected its grant (or was never here).
    Gone,
}

/// A FIFO of parked futures; see the module docs.
#[derive(Debug)]
pub(crate) struct WaitList<T> {
    /// Waiters still waiting, oldest first; ids increase front to back.
    queue: VecDeque<Entry<T>>,
    /// Waiters that were handed what they waited for but have not yet
    /// polled to collect it. Sorted by id: a grant always takes the queue's
    /// front, whose id is below every id queued after it and above every
    /// id granted before. So lookups are a binary search, and removals,
    /// which come roughly in grant order, are near the front.
    granted: VecDeque<(WaiterId, T)>,
    next_id: u64,
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> WaitList<T> {
        WaitList { queue: VecDeque::new(), granted: VecDeque::new(), next_id: 0 }
    }

    /// True when no waiter is queued (granted ones do not count: they no
    /// longer wait).
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Number of queued waiters.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Queues a new waiter at the back.
    pub(crate) fn push(&mut self, waker: &Waker, data: T) -> WaiterId {
        let id = WaiterId(self.next_id);
        self.next_id += 1;
        self.queue.push_back(Entry { id, waker: waker.clone(), data });
        id
    }

    /// The data of the waiter whose turn is next.
    pub(crate) fn front(&self) -> Option<&T> {
        self.queue.front().map(|e| &e.data)
    }

    /// Called from a waiter's poll: returns its grant if it has one (and
    /// forgets it), or else stores `waker` as the one to wake, replacing
    /// the waker of an earlier poll if it would wake a different task.
    pub(crate) fn poll_grant(&mut self, id: WaiterId, waker: &Waker) -> Option<T> {
        if let Some(data) = self.take_granted(id) {
            return Some(data);
        }
        if let Some(entry) = self.find_mut(id) {
            if !entry.waker.will_wake(waker) {
                entry.waker = waker.clone();
            }
        }
        None
    }

    /// Returns a waiter's grant if it has one (and forgets it), leaving
    /// its stored waker as it is: [`poll_grant`](Self::poll_grant) for a
    /// caller with no waker to give.
    pub(crate) fn take_grant(&mut self, id: WaiterId) -> Option<T> {
        self.take_granted(id)
    }

    /// Removes a waiter whose future is being dropped (or gives up) and
    /// reports what it held.
    pub(crate) fn cancel(&mut self, id: WaiterId) -> Cancelled<T> {
        if let Some(data) = self.take_granted(id) {
            return Cancelled::Granted(data);
        }
        match self.queue.binary_search_by_key(&id, |e| e.id) {
            Ok(i) => {
                let entry = self.queue.remove(i).expect("index from binary search");
                Cancelled::Queued(entry.data)
            }
            Err(_) => Cancelled::Gone,
        }
    }

    /// Takes the front waiter out of the list without recording a grant,
    /// queueing its waker in `wakers`, and returns its id: for a primitive
    /// that records the grant somewhere the waiter can read without the
    /// lock.
    pub(crate) fn take_front(&mut self, wakers: &mut WakeList) -> Option<WaiterId> {
        let entry = self.queue.pop_front()?;
        wakers.push(entry.waker);
        Some(entry.id)
    }

    /// Grants the front waiter, queueing its waker in `wakers`; returns
    /// false when nobody waits. `tag` may rewrite the waiter's data to say
    /// what it was given.
    pub(crate) fn grant_front(&mut self, wakers: &mut WakeList, tag: impl FnOnce(&mut T)) -> bool {
        match self.queue.pop_front() {
            Some(mut entry) => {
                tag(&mut entry.data);
                debug_assert!(self.granted.back().is_none_or(|(last, _)| *last < entry.id));
                self.granted.push_back((entry.id, entry.data));
                wakers.push(entry.waker);
                true
            }
            None => false,
        }
    }

    /// Grants every queued waiter, oldest first.
    pub(crate) fn grant_all(&mut self, wakers: &mut WakeList, mut tag: impl FnMut(&mut T)) {
        while self.grant_front(wakers, &mut tag) {}
    }

    /// Wakes every queued waiter without granting anything, leaving them
    /// queued: used when a primitive closes, so each waiter polls, sees
    /// the closed flag and removes itself.
    pub(crate) fn wake_all(&self, wakers: &mut WakeList) {
        for entry in &self.queue {
            wakers.push(entry.waker.clone());
        }
    }

    fn take_granted(&mut self, id: WaiterId) -> Option<T> {
        if self.granted.front().is_some_and(|(first, _)| *first == id) {
            return self.granted.pop_front().map(|(_, data)| data);
        }
        let i = self.granted.binary_search_by_key(&id, |(g, _)| *g).ok()?;
        self.granted.remove(i).map(|(_, data)| data)
    }

    fn find_mut(&mut self, id: WaiterId) -> Option<&mut Entry<T>> {
        let i = self.queue.binary_search_by_key(&id, |e| e.id).ok()?;
        self.queue.get_mut(i)
    }
}

/// How many wakers a [`WakeList`] holds without allocating.
const INLINE_WAKERS: usize = 4;

/// Wakers collected under a lock, woken when this list is dropped, which
/// must be after the lock guard is. The first few live inline: the common
/// case (one notify, one grant) allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    inline: [Option<Waker>; INLINE_WAKERS],
    more: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> WakeList {
        WakeList::default()
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        match self.inline.iter_mut().find(|w| w.is_none()) {
            Some(slot) => *slot = Some(waker),
            None => self.more.push(waker),
        }
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        for waker in self.inline.iter_mut().filter_map(Option::take) {
            waker.wake();
        }
        for waker in self.more.drain(..) {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn fifo_grant_and_cancel() {
        let waker = Waker::noop();
        let mut list = WaitList::new();
        let a = list.push(waker, 1);
        let b = list.push(waker, 2);
        let c = list.push(waker, 3);
        assert_eq!(list.len(), 3);
        assert_eq!(list.cancel(b), Cancelled::Queued(2));
        let mut wakers = WakeList::new();
        assert!(list.grant_front(&mut wakers, |d| *d *= 10));
        assert_eq!(list.front(), Some(&3));
        assert_eq!(list.poll_grant(c, waker), None);
        assert_eq!(list.poll_grant(a, waker), Some(10));
        assert_eq!(list.cancel(a), Cancelled::Gone);
        list.grant_all(&mut wakers, |_| {});
        assert_eq!(list.cancel(c), Cancelled::Granted(3));
        assert!(list.is_empty());
    }
}
