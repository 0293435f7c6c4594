//! `examples/workers.rs` on the multi-thread runtime: answers in order
//! from parallel workers over real TCP clients, a job cancelled when its
//! client leaves or its future is dropped, and a dropped pool cancelling
//! what it runs and failing what it queued.
//!
//! Every wait is bounded by [`WAIT`]; nothing sleeps to synchronise.

mod rt_support;
#[path = "../examples/workers.rs"]
#[allow(dead_code)]
mod workers;

use rt_support::{bounded, mt};
use spindle_rt::io::{AsyncBufReadExt, BufReader};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::time::timeout;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use workers::{Pool, PoolClosed, Stats, Submitter};

/// The bound on every wait.
const WAIT: Duration = Duration::from_secs(5);

/// A count that would take hours by trial division: only cancellation
/// ends it.
const FOREVER: u64 = 1 << 40;

/// The primes below `n`, by a sieve (the reference answer).
fn sieve(n: u64) -> u64 {
    let n = usize::try_from(n).expect("small");
    let mut composite = vec![false; n.max(2)];
    let mut count = 0;
    for i in 2..n {
        if !composite[i] {
            count += 1;
            (i * i..n).step_by(i).for_each(|j| composite[j] = true);
        }
    }
    count
}

/// Waits (bounded) until `cond` holds of the pool's counters.
async fn wait_until(stats: &Stats, what: &str, cond: impl Fn(&Stats) -> bool) {
    let waited = timeout(WAIT, async {
        loop {
            // Created before the look, so a change in between wakes it.
            let changed = stats.changed.notified();
            if cond(stats) {
                return;
            }
            changed.await;
        }
    })
    .await;
    assert!(waited.is_ok(), "never: {what} ({stats:?})");
}

/// A front on `127.0.0.1:0` for `submitter`, stopped with the runtime.
async fn front(submitter: Submitter) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    spindle_rt::spawn(workers::serve(listener, submitter, std::future::pending()));
    addr
}

#[test]
fn pipelined_questions_from_many_clients_get_their_answers_in_order() {
    bounded(|| {
        mt(2).block_on(async {
            let pool = Pool::new(3, 8);
            let addr = front(pool.submitter()).await;
            let mut clients = Vec::new();
            for c in 0..4u64 {
                clients.push(spindle_rt::spawn(async move {
                    let questions: Vec<u64> = (0..10).map(|i| 2_000 + 997 * i + 13 * c).collect();
                    let (rd, mut wr) = TcpStream::connect(addr).await.expect("connect").into_split();
                    let all: String = questions.iter().map(|n| format!("{n}\n")).collect();
                    wr.write_all(all.as_bytes()).await.expect("write");
                    let mut lines = BufReader::new(rd).lines();
                    for n in questions {
                        let line = timeout(WAIT, lines.next_line()).await.expect("in time").expect("read");
                        assert_eq!(line, Some(format!("{n}: {}", sieve(n))));
                    }
                    wr.write_all(b"seven\n").await.expect("write");
                    let line = timeout(WAIT, lines.next_line()).await.expect("in time").expect("read");
                    assert_eq!(line.as_deref(), Some("error: not a number: seven"));
                }));
            }
            for client in clients {
                client.await.expect("client");
            }
            let stats = pool.stats();
            assert_eq!((stats.completed.load(SeqCst), stats.cancelled.load(SeqCst)), (40, 0));
        });
    });
}

#[test]
fn a_client_that_leaves_mid_count_frees_the_only_worker() {
    bounded(|| {
        mt(2).block_on(async {
            let pool = Pool::new(1, 8);
            let stats = pool.stats();
            let addr = front(pool.submitter()).await;
            let mut leaver = TcpStream::connect(addr).await.expect("connect");
            leaver.write_all(format!("{FOREVER}\n").as_bytes()).await.expect("write");
            wait_until(&stats, "the long count started", |s| s.started.load(SeqCst) == 1).await;
            drop(leaver);
            wait_until(&stats, "the long count was cancelled", |s| s.cancelled.load(SeqCst) == 1).await;

            // The one worker is free: a new client is answered.
            let (rd, mut wr) = TcpStream::connect(addr).await.expect("connect").into_split();
            wr.write_all(b"100\n").await.expect("write");
            let line = timeout(WAIT, BufReader::new(rd).lines().next_line()).await.expect("in time");
            assert_eq!(line.expect("read").as_deref(), Some("100: 25"));
        });
    });
}

#[test]
fn dropping_the_asking_future_cancels_its_job() {
    bounded(|| {
        mt(2).block_on(async {
            let pool = Pool::new(1, 8);
            let (stats, submitter) = (pool.stats(), pool.submitter());
            let asked = timeout(Duration::from_millis(50), submitter.primes_below(FOREVER)).await;
            assert!(asked.is_err(), "the count cannot finish");
            wait_until(&stats, "the dropped job was cancelled", |s| s.cancelled.load(SeqCst) == 1).await;
            assert_eq!(timeout(WAIT, submitter.primes_below(1000)).await.expect("in time"), Ok(168));
        });
    });
}

#[test]
fn dropping_the_pool_cancels_its_running_job_and_fails_the_queued_ones() {
    bounded(|| {
        mt(2).block_on(async {
            let pool = Pool::new(1, 8);
            let (stats, submitter) = (pool.stats(), pool.submitter());
            let running = spindle_rt::spawn({
                let s = submitter.clone();
                async move { s.primes_below(FOREVER).await }
            });
            wait_until(&stats, "the long count started", |s| s.started.load(SeqCst) == 1).await;
            let queued: Vec<_> = (0..3)
                .map(|_| {
                    let s = submitter.clone();
                    spindle_rt::spawn(async move { s.primes_below(100).await })
                })
                .collect();
            drop(pool);
            assert_eq!(timeout(WAIT, running).await.expect("in time").expect("task"), Err(PoolClosed));
            for q in queued {
                assert_eq!(timeout(WAIT, q).await.expect("in time").expect("task"), Err(PoolClosed));
            }
            wait_until(&stats, "the running count was cancelled", |s| s.cancelled.load(SeqCst) == 1).await;
            assert_eq!(submitter.primes_below(10).await, Err(PoolClosed));
            assert_eq!(stats.completed.load(SeqCst), 0);
        });
    });
}
