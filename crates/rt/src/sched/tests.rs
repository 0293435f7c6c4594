//! Single-threaded unit tests of the run queues: each interleaving is
//! written out step by step.

use super::queue::LOCAL_QUEUE_CAPACITY as CAP;
use super::{local, Inject};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn push_pop_is_fifo() {
    let inject = Inject::new();
    let (_steal, mut q) = local();
    assert!(q.is_empty());
    assert_eq!(q.remaining_slots(), CAP);
    for i in 0..10 {
        q.push_back(i, &inject);
    }
    assert_eq!(q.len(), 10);
    assert_eq!(q.remaining_slots(), CAP - 10);
    for i in 0..10 {
        assert_eq!(q.pop(), Some(i));
    }
    assert_eq!(q.pop(), None);
    assert!(inject.is_empty());
}

#[test]
fn fifo_across_wrap_around() {
    let inject = Inject::new();
    let (_steal, mut q) = local();
    let mut next_out = 0;
    for i in 0..(CAP * 5) {
        q.push_back(i, &inject);
        if q.len() > CAP / 2 + 3 {
            assert_eq!(q.pop(), Some(next_out));
            next_out += 1;
        }
    }
    while let Some(v) = q.pop() {
        assert_eq!(v, next_out);
        next_out += 1;
    }
    assert_eq!(next_out, CAP * 5);
    assert!(inject.is_empty());
}

#[test]
fn overflow_moves_half_and_item_to_inject() {
    let inject = Inject::new();
    let (_steal, mut q) = local();
    for i in 0..CAP {
        q.push_back(i, &inject);
    }
    assert_eq!(q.remaining_slots(), 0);
    assert!(inject.is_empty());
    q.push_back(CAP, &inject);
    // Oldest half plus the new item went to the global queue, in order.
    assert_eq!(inject.len(), CAP / 2 + 1);
    assert_eq!(q.len(), CAP / 2);
    let mut global = Vec::new();
    while let Some(v) = inject.pop() {
        global.push(v);
    }
    let expected: Vec<_> = (0..CAP / 2).chain([CAP]).collect();
    assert_eq!(global, expected);
    let local: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
    assert_eq!(local, (CAP / 2..CAP).collect::<Vec<_>>());
}

#[test]
fn steal_half_rounded_up() {
    let inject = Inject::new();
    let (steal, mut victim) = local();
    let (_s2, mut thief) = local();
    for i in 0..5 {
        victim.push_back(i, &inject);
    }
    // 5 queued: steal 3 (0, 1, 2); run 2 now, 0 and 1 land in the thief.
    assert_eq!(steal.steal_into(&mut thief), Some(2));
    assert_eq!(thief.len(), 2);
    assert_eq!(victim.len(), 2);
    assert_eq!(thief.pop(), Some(0));
    assert_eq!(thief.pop(), Some(1));
    assert_eq!(victim.pop(), Some(3));
    assert_eq!(victim.pop(), Some(4));
    assert_eq!(thief.pop(), None);
}

#[test]
fn steal_single_item_leaves_dst_unchanged() {
    let inject = Inject::new();
    let (steal, mut victim) = local();
    let (_s2, mut thief) = local();
    victim.push_back(7, &inject);
    assert_eq!(steal.steal_into(&mut thief), Some(7));
    assert!(thief.is_empty());
    assert!(victim.is_empty());
}

#[test]
fn steal_from_empty() {
    let (steal, _victim) = local::<u32>();
    let (_s2, mut thief) = local();
    assert_eq!(steal.steal_into(&mut thief), None);
    assert!(steal.is_empty());
}

#[test]
fn steal_from_self_is_refused() {
    let inject = Inject::new();
    let (steal, mut q) = local();
    q.push_back(1, &inject);
    assert_eq!(steal.steal_into(&mut q), None);
    assert_eq!(q.pop(), Some(1));
}

#[test]
fn steal_is_capped_by_dst_room() {
    let inject = Inject::new();
    let (steal, mut victim) = local();
    let (_s2, mut thief) = local();
    for i in 0..CAP {
        victim.push_back(i, &inject);
    }
    for i in 0..CAP - 2 {
        thief.push_back(1000 + i, &inject);
    }
    // Room for 2: steal 2, run one, keep one.
    assert_eq!(steal.steal_into(&mut thief), Some(1));
    assert_eq!(thief.len(), CAP - 1);
    assert_eq!(victim.len(), CAP - 2);
    thief.push_back(9999, &inject);
    assert_eq!(thief.remaining_slots(), 0);
    assert_eq!(steal.steal_into(&mut thief), None);
    assert!(inject.is_empty());
}

#[test]
fn interleaved_pop_push_steal() {
    let inject = Inject::new();
    let (steal, mut victim) = local();
    let (_s2, mut thief) = local();
    for i in 0..4 {
        victim.push_back(i, &inject);
    }
    assert_eq!(victim.pop(), Some(0));
    victim.push_back(4, &inject);
    // Queued 1, 2, 3, 4: a steal takes 1, 2.
    assert_eq!(steal.steal_into(&mut thief), Some(2));
    victim.push_back(5, &inject);
    assert_eq!(victim.pop(), Some(3));
    assert_eq!(thief.pop(), Some(1));
    assert_eq!(steal.steal_into(&mut thief), Some(4));
    assert_eq!(victim.pop(), Some(5));
    assert_eq!(victim.pop(), None);
    assert_eq!(thief.pop(), None);
}

#[test]
fn inject_fifo_batch_len_and_close() {
    let inject = Inject::new();
    assert!(inject.is_empty());
    assert_eq!(inject.push(1), Ok(()));
    assert!(inject.push_batch([2, 3, 4]));
    assert_eq!(inject.len(), 4);
    assert_eq!(inject.pop(), Some(1));
    assert!(inject.close());
    assert!(!inject.close());
    assert!(inject.is_closed());
    assert_eq!(inject.push(5), Err(5));
    assert!(!inject.push_batch([6]));
    // Queued items stay poppable after close.
    assert_eq!(inject.pop(), Some(2));
    assert_eq!(inject.pop(), Some(3));
    assert_eq!(inject.pop(), Some(4));
    assert_eq!(inject.pop(), None);
}

#[test]
fn inject_pop_into_takes_a_share() {
    let inject = Inject::new();
    let (_s, mut q) = local();
    inject.push_batch(0..100);
    // 4 workers: 100 / 4 + 1 = 26: one to run, 25 into the local queue.
    assert_eq!(inject.pop_into(&mut q, 4), Some(0));
    assert_eq!(q.len(), 25);
    assert_eq!(inject.len(), 74);
    assert_eq!(q.pop(), Some(1));
    // One worker: capped at half a local queue.
    let (_s, mut q) = local();
    inject.push_batch(100..1000);
    assert_eq!(inject.pop_into(&mut q, 1), Some(26));
    assert_eq!(q.len(), CAP / 2 - 1);
    // Capped at the destination's room + 1.
    let (_s, mut q) = local();
    for i in 0..CAP - 3 {
        q.push_back(i, &inject);
    }
    let before = inject.len();
    assert!(inject.pop_into(&mut q, 1).is_some());
    assert_eq!(q.remaining_slots(), 0);
    assert_eq!(inject.len(), before - 4);
    let empty = Inject::<u32>::new();
    let (_s, mut q) = local();
    assert_eq!(empty.pop_into(&mut q, 0), None);
}

/// Counts drops, to check nothing is lost or dropped twice.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn drop_of_local_drops_queued_items_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let inject = Inject::new();
    let (steal, mut q) = local();
    for _ in 0..CAP + 10 {
        q.push_back(Counted(drops.clone()), &inject);
    }
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    drop(q);
    let global = inject.len();
    assert_eq!(drops.load(Ordering::Relaxed), CAP + 10 - global);
    let (_s, mut thief) = local();
    assert!(steal.steal_into(&mut thief).is_none());
    drop(inject);
    assert_eq!(drops.load(Ordering::Relaxed), CAP + 10);
}

#[test]
fn overflow_into_closed_inject_drops_items() {
    let drops = Arc::new(AtomicUsize::new(0));
    let inject = Inject::new();
    inject.close();
    let (_steal, mut q) = local();
    for _ in 0..=CAP {
        q.push_back(Counted(drops.clone()), &inject);
    }
    assert_eq!(drops.load(Ordering::Relaxed), CAP / 2 + 1);
    assert_eq!(q.len(), CAP / 2);
    drop(q);
    assert_eq!(drops.load(Ordering::Relaxed), CAP + 1);
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<X: Send + Sync>() {}
    send_sync::<super::Local<Box<u8>>>();
    send_sync::<super::Steal<Box<u8>>>();
    send_sync::<Inject<Box<u8>>>();
}
