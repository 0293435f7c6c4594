//! The timer wheel against a binary-heap baseline at a million timers:
//! insert, remove, expire.
//!
//! The heap is the one a callback loop would use (spindle-loop's timers):
//! entries keyed by (deadline, sequence), cancellation by marking the
//! sequence dead and skipping it when it reaches the top, since a binary
//! heap cannot remove from the middle cheaply. So the heap's "remove" is
//! charged for the mark and for popping the dead entries out, which it must
//! do eventually; the wheel's is a real O(1) unlink.
//!
//! Each measurement is one batch of 1,000,000 operations on a structure
//! built (and dropped) outside the timing; "expire" drives each structure
//! the way a runtime would, waking at each next deadline until empty.
//! After criterion's figures a summary prints both side by side with their
//! ratio (best of three plain runs).
//!
//! `cargo bench -p spindle-rt --bench wheel`

use criterion::{BatchSize, Criterion, Throughput};
use spindle_rt::time::{TimerKey, TimerWheel};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::{Duration, Instant};

const N: usize = 1_000_000;

/// A spread of deadlines over about 17 minutes, in insertion order that is
/// not deadline order: a multiplicative hash of `i`.
fn deadline(i: usize) -> u64 {
    (i as u64).wrapping_mul(2_654_435_761) % 1_000_000 + 1
}

// ---- the wheel ----

fn wheel_filled() -> (TimerWheel<u32>, Vec<TimerKey>) {
    let mut w = TimerWheel::with_capacity(N);
    let keys = (0..N).map(|i| w.insert(deadline(i), i as u32)).collect();
    (w, keys)
}

fn wheel_insert() -> TimerWheel<u32> {
    let mut w = TimerWheel::with_capacity(N);
    for i in 0..N {
        black_box(w.insert(deadline(i), i as u32));
    }
    w
}

fn wheel_remove((mut w, keys): (TimerWheel<u32>, Vec<TimerKey>)) -> TimerWheel<u32> {
    for k in keys {
        black_box(w.remove(k));
    }
    assert!(w.is_empty());
    w
}

fn wheel_expire((mut w, _): (TimerWheel<u32>, Vec<TimerKey>)) -> TimerWheel<u32> {
    let mut fired = 0usize;
    while let Some(t) = w.next_expiration() {
        while let Some(e) = w.poll_expired(t) {
            black_box(e);
            fired += 1;
        }
    }
    assert_eq!(fired, N);
    w
}

// ---- the heap baseline ----

/// spindle-loop's scheme in miniature: a heap of (deadline, seq, value) and
/// a table saying which sequences are still live.
struct Heap {
    heap: BinaryHeap<Reverse<(u64, u32, u32)>>,
    live: Vec<bool>,
}

impl Heap {
    fn with_capacity(n: usize) -> Self {
        Heap { heap: BinaryHeap::with_capacity(n), live: Vec::with_capacity(n) }
    }

    fn insert(&mut self, deadline: u64, value: u32) -> u32 {
        let seq = self.live.len() as u32;
        self.live.push(true);
        self.heap.push(Reverse((deadline, seq, value)));
        seq
    }

    fn remove(&mut self, seq: u32) -> bool {
        std::mem::replace(&mut self.live[seq as usize], false)
    }

    /// The earliest live deadline, discarding dead entries on top.
    fn next_expiration(&mut self) -> Option<u64> {
        while let Some(&Reverse((d, seq, _))) = self.heap.peek() {
            if self.live[seq as usize] {
                return Some(d);
            }
            self.heap.pop();
        }
        None
    }

    fn poll_expired(&mut self, now: u64) -> Option<(u32, u32)> {
        while let Some(&Reverse((d, seq, value))) = self.heap.peek() {
            if d > now {
                return None;
            }
            self.heap.pop();
            if std::mem::replace(&mut self.live[seq as usize], false) {
                return Some((seq, value));
            }
        }
        None
    }
}

fn heap_filled() -> (Heap, Vec<u32>) {
    let mut h = Heap::with_capacity(N);
    let keys = (0..N).map(|i| h.insert(deadline(i), i as u32)).collect();
    (h, keys)
}

fn heap_insert() -> Heap {
    let mut h = Heap::with_capacity(N);
    for i in 0..N {
        black_box(h.insert(deadline(i), i as u32));
    }
    h
}

fn heap_remove((mut h, keys): (Heap, Vec<u32>)) -> Heap {
    for k in keys {
        black_box(h.remove(k));
    }
    // The dead entries still occupy the heap; getting them out is part of
    // what cancelling costs a heap.
    assert_eq!(h.next_expiration(), None);
    h
}

fn heap_expire((mut h, _): (Heap, Vec<u32>)) -> Heap {
    let mut fired = 0usize;
    while let Some(t) = h.next_expiration() {
        while let Some(e) = h.poll_expired(t) {
            black_box(e);
            fired += 1;
        }
    }
    assert_eq!(fired, N);
    h
}

// ---- criterion ----

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert_1M");
    g.throughput(Throughput::Elements(N as u64)).sample_size(10);
    g.bench_function("wheel", |b| b.iter_with_large_drop(wheel_insert));
    g.bench_function("heap", |b| b.iter_with_large_drop(heap_insert));
    g.finish();

    let mut g = c.benchmark_group("remove_1M");
    g.throughput(Throughput::Elements(N as u64)).sample_size(10);
    g.bench_function("wheel", |b| b.iter_batched(wheel_filled, wheel_remove, BatchSize::PerIteration));
    g.bench_function("heap", |b| b.iter_batched(heap_filled, heap_remove, BatchSize::PerIteration));
    g.finish();

    let mut g = c.benchmark_group("expire_1M");
    g.throughput(Throughput::Elements(N as u64)).sample_size(10);
    g.bench_function("wheel", |b| b.iter_batched(wheel_filled, wheel_expire, BatchSize::PerIteration));
    g.bench_function("heap", |b| b.iter_batched(heap_filled, heap_expire, BatchSize::PerIteration));
    g.finish();
}

// ---- the side-by-side summary ----

/// Best of three: time `run` on a fresh `setup()` each time.
fn best<S, R>(mut setup: impl FnMut() -> S, mut run: impl FnMut(S) -> R) -> Duration {
    (0..3)
        .map(|_| {
            let input = setup();
            let start = Instant::now();
            let out = run(input);
            let took = start.elapsed();
            drop(black_box(out));
            took
        })
        .min()
        .expect("three runs")
}

fn summary() {
    let rows = [
        ("insert 1M", best(|| (), |()| wheel_insert()), best(|| (), |()| heap_insert())),
        ("remove 1M", best(wheel_filled, wheel_remove), best(heap_filled, heap_remove)),
        ("expire 1M", best(wheel_filled, wheel_expire), best(heap_filled, heap_expire)),
    ];
    println!();
    println!("{:<10} {:>12} {:>12} {:>12}", "1M timers", "wheel", "heap", "heap/wheel");
    for (name, wheel, heap) in rows {
        println!(
            "{:<10} {:>9.1} ms {:>9.1} ms {:>11.2}x",
            name,
            wheel.as_secs_f64() * 1e3,
            heap.as_secs_f64() * 1e3,
            heap.as_secs_f64() / wheel.as_secs_f64()
        );
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}
