//! Throughput of the local run queue and the global queue, single-threaded
//! (the uncontended cost of each operation; contention is the stress
//! test's and loom's business):
//!
//! * `push_pop`: fill a local queue to capacity and pop it empty;
//! * `steal_half`: steal half of a full queue into an empty one and pop it;
//! * `overflow`: push past capacity, so every 129th push moves half a queue
//!   to the global queue in one batch;
//! * `inject_pop_into`: take a worker's share from a global queue.
//!
//! `cargo bench -p spindle-rt --bench queue`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spindle_rt::sched::{local, Inject, LOCAL_QUEUE_CAPACITY as CAP};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let inject = Inject::new();
    let mut group = c.benchmark_group("queue");
    group.throughput(Throughput::Elements(CAP as u64));

    let (_steal, mut q) = local::<usize>();
    group.bench_function("push_pop", |b| {
        b.iter(|| {
            for i in 0..CAP {
                q.push_back(i, &inject);
            }
            while let Some(item) = q.pop() {
                black_box(item);
            }
        })
    });

    let (victim_steal, mut victim) = local::<usize>();
    let (_s, mut thief) = local::<usize>();
    group.bench_function("steal_half", |b| {
        b.iter(|| {
            for i in 0..CAP {
                victim.push_back(i, &inject);
            }
            black_box(victim_steal.steal_into(&mut thief));
            while let Some(item) = thief.pop() {
                black_box(item);
            }
            while let Some(item) = victim.pop() {
                black_box(item);
            }
        })
    });

    let (_steal, mut q) = local::<usize>();
    group.bench_function("overflow", |b| {
        b.iter(|| {
            for i in 0..CAP {
                q.push_back(i, &inject);
            }
            while let Some(item) = inject.pop() {
                black_box(item);
            }
        })
    });
    while q.pop().is_some() {}

    let (_steal, mut q) = local::<usize>();
    group.bench_function("inject_pop_into", |b| {
        b.iter(|| {
            inject.push_batch(0..CAP);
            while let Some(item) = inject.pop_into(&mut q, 4) {
                black_box(item);
                while let Some(item) = q.pop() {
                    black_box(item);
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
