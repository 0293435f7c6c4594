//! Model checks of the run queues under loom (`--cfg loom`, where a local
//! queue has 4 slots). Each model checks that every item comes out exactly
//! once, whatever the interleaving.

use super::queue::LOCAL_QUEUE_CAPACITY as CAP;
use super::{local, Inject, Local};
use loom::thread;

/// Pops everything left in `q` and `inject` into `out`.
fn drain(q: &mut Local<usize>, inject: &Inject<usize>, out: &mut Vec<usize>) {
    out.extend(std::iter::from_fn(|| q.pop()));
    out.extend(std::iter::from_fn(|| inject.pop()));
}

/// A thief's whole catch: the item to run plus what landed in its queue.
fn steal_all(steal: &super::Steal<usize>) -> Vec<usize> {
    let (_s, mut dst) = local();
    let mut got = Vec::new();
    if let Some(item) = steal.steal_into(&mut dst) {
        got.push(item);
        got.extend(std::iter::from_fn(|| dst.pop()));
    }
    got
}

/// Preemption bound for the three-thread model.
const BOUND: usize = 4;

fn assert_exactly_once(mut seen: Vec<usize>, n: usize) {
    seen.sort_unstable();
    assert_eq!(seen, (0..n).collect::<Vec<_>>());
}

/// Runs `f` under loom, exploring every interleaving when `bound` is
/// `None`, or those with at most `bound` preemptions (a bound keeps the
/// three-thread model fast; `LOOM_MAX_PREEMPTIONS` overrides it).
fn model(bound: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = bound;
    }
    builder.check(f);
}

#[test]
fn owner_push_pop_vs_stealer() {
    model(None, || {
        let inject = Inject::new();
        let (steal, mut q) = local();
        let thief = thread::spawn(move || steal_all(&steal));
        let mut seen = Vec::new();
        q.push_back(0, &inject);
        q.push_back(1, &inject);
        seen.extend(q.pop());
        q.push_back(2, &inject);
        drain(&mut q, &inject, &mut seen);
        seen.extend(thief.join().unwrap());
        assert_exactly_once(seen, 3);
    });
}

#[test]
fn overflow_vs_stealer() {
    model(None, || {
        let inject = Inject::new();
        let (steal, mut q) = local();
        for i in 0..CAP - 1 {
            q.push_back(i, &inject);
        }
        let thief = thread::spawn(move || steal_all(&steal));
        // Fill the last slot, then one more: overflows unless the thief got
        // there first.
        q.push_back(CAP - 1, &inject);
        q.push_back(CAP, &inject);
        let mut seen = Vec::new();
        drain(&mut q, &inject, &mut seen);
        seen.extend(thief.join().unwrap());
        assert_exactly_once(seen, CAP + 1);
    });
}

#[test]
fn two_stealers_vs_owner_pop() {
    model(Some(BOUND), || {
        let inject = Inject::new();
        let (steal, mut q) = local();
        for i in 0..CAP {
            q.push_back(i, &inject);
        }
        let steal2 = steal.clone();
        let t1 = thread::spawn(move || steal_all(&steal));
        let t2 = thread::spawn(move || steal_all(&steal2));
        let mut seen = Vec::new();
        seen.extend(q.pop());
        drain(&mut q, &inject, &mut seen);
        seen.extend(t1.join().unwrap());
        seen.extend(t2.join().unwrap());
        assert_exactly_once(seen, CAP);
    });
}

#[test]
fn stealer_then_owner_reuses_slots() {
    // The thief's release of `steal..real` must happen before the owner
    // overwrites those slots after wrapping around.
    model(None, || {
        let inject = Inject::new();
        let (steal, mut q) = local();
        for i in 0..CAP {
            q.push_back(i, &inject);
        }
        let thief = thread::spawn(move || steal_all(&steal));
        let mut seen = Vec::new();
        seen.extend(q.pop());
        // Two more pushes wrap into slots a thief may be copying out of.
        q.push_back(CAP, &inject);
        q.push_back(CAP + 1, &inject);
        drain(&mut q, &inject, &mut seen);
        seen.extend(thief.join().unwrap());
        assert_exactly_once(seen, CAP + 2);
    });
}
