//! The per-command cost of the statistics every call records: INFO
//! commandstats' counters, and with `latency-tracking yes` (the default)
//! the latency histogram that INFO latencystats and LATENCY HISTOGRAM
//! read. The durations cycle through a spread of typical command times
//! (0 to 200 µs), so the histogram's buckets are not all one.
//!
//! `cargo bench -p spindle-kv --bench cmdstats`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spindle_kv::cmd::registry;
use spindle_kv::server::cmdstats::CommandStats;
use spindle_kv::server::latencystats::LatencyHistogram;
use std::hint::black_box;

/// Durations in µs, most of them short, as a command mix's are.
const USECS: [u64; 16] = [0, 1, 1, 1, 2, 2, 3, 1, 0, 5, 8, 1, 2, 13, 40, 200];

/// Records per measured iteration.
const BATCH: u64 = 1024;

fn cmdstats(c: &mut Criterion) {
    let get = registry::named(b"get")[0];
    let mut g = c.benchmark_group("cmdstats");
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("histogram_record", |b| {
        let mut h = LatencyHistogram::default();
        b.iter(|| {
            for i in 0..BATCH {
                h.record_usec(black_box(USECS[i as usize % USECS.len()]));
            }
        });
        black_box(h.calls());
    });
    for (name, track) in [("ran_counters_only", false), ("ran_with_latency_tracking", true)] {
        g.bench_function(name, |b| {
            let mut stats = CommandStats::default();
            b.iter(|| {
                for i in 0..BATCH {
                    stats.ran(black_box(get), USECS[i as usize % USECS.len()], None, track);
                }
            });
            black_box(stats.get(get).calls);
        });
    }
    g.finish();
}

criterion_group!(benches, cmdstats);
criterion_main!(benches);
