//! Property test: any sequence of owner operations and steals, executed
//! sequentially, matches a `VecDeque` model: the same items, in the same
//! order for the owner, and nothing lost or duplicated overall.

// Real threads and std atomics: not under loom (see src/sched/loom_tests.rs).
#![cfg(not(loom))]

use proptest::prelude::*;
use spindle_rt::sched::{local, Inject, LOCAL_QUEUE_CAPACITY as CAP};
use std::collections::VecDeque;

#[derive(Debug, Clone)]
enum Op {
    Push(usize),
    Pop,
    Steal,
    PopGlobal(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1..40usize).prop_map(Op::Push),
        3 => Just(Op::Pop),
        1 => Just(Op::Steal),
        1 => (1..5usize).prop_map(Op::PopGlobal),
    ]
}

proptest! {
    #[test]
    fn matches_vecdeque_model(ops in prop::collection::vec(op(), 1..200)) {
        let inject = Inject::new();
        let (steal, mut owner) = local();
        let (_s, mut thief) = local();
        let mut model: VecDeque<usize> = VecDeque::new();
        let mut global: VecDeque<usize> = VecDeque::new();
        let mut out = Vec::new();
        let mut next = 0;

        for op in ops {
            match op {
                Op::Push(n) => {
                    for _ in 0..n {
                        owner.push_back(next, &inject);
                        if model.len() == CAP {
                            // Overflow: oldest half plus the new item.
                            global.extend(model.drain(..CAP / 2));
                            global.push_back(next);
                        } else {
                            model.push_back(next);
                        }
                        next += 1;
                    }
                }
                Op::Pop => {
                    let got = owner.pop();
                    prop_assert_eq!(got, model.pop_front());
                    out.extend(got);
                }
                Op::Steal => {
                    let want = model.len().div_ceil(2);
                    let got = steal.steal_into(&mut thief);
                    if want == 0 {
                        prop_assert_eq!(got, None);
                    } else {
                        let taken: Vec<_> = model.drain(..want).collect();
                        prop_assert_eq!(got, taken.last().copied());
                        let rest: Vec<_> = std::iter::from_fn(|| thief.pop()).collect();
                        prop_assert_eq!(&rest[..], &taken[..want - 1]);
                        out.extend(taken);
                    }
                }
                Op::PopGlobal(nprocs) => {
                    let before = owner.len();
                    let got = inject.pop_into(&mut owner, nprocs);
                    prop_assert_eq!(got, global.pop_front());
                    out.extend(got);
                    // The share moved into the local queue, oldest first.
                    let moved = owner.len() - before;
                    model.extend(global.drain(..moved));
                }
            }
            prop_assert_eq!(owner.len(), model.len());
            prop_assert_eq!(inject.len(), global.len());
        }
        // Owner order matches the model to the end.
        let rest: Vec<_> = std::iter::from_fn(|| owner.pop()).collect();
        prop_assert_eq!(&rest, &model.iter().copied().collect::<Vec<_>>());
        out.extend(rest);
        out.extend(std::iter::from_fn(|| inject.pop()));
        out.sort_unstable();
        prop_assert_eq!(out, (0..next).collect::<Vec<_>>());
    }
}
