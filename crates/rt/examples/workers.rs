//! A worker pool for CPU-bound jobs behind a TCP front, on the
//! multi-thread runtime, written as a tokio user writes one: jobs go down
//! an mpsc queue with a oneshot for the reply, worker tasks run them with
//! `spawn_blocking`, the workers live in a `JoinSet` (dropping the pool
//! cancels them), and a job whose asker goes away is cancelled.
//!
//! ```text
//! cargo run -p spindle-rt --example workers -- 127.0.0.1:7882 [WORKERS]
//! printf '1000000\n10\n' | nc -q1 127.0.0.1 7882
//! ```
//!
//! Each line a client sends is a number `n`; the answer is `n: P`, the
//! count of primes below `n`, counted by trial division on the blocking
//! pool (slow on purpose). Answers come in the order asked. A client that
//! closes its side of the connection while its count runs has it
//! cancelled (so keep the connection open until the answers are in): the
//! blocking closure checks a flag, so the worker is free for others at
//! once.
//!
//! `Pool` is the pool and `serve` the front; the integration test
//! `tests/example_workers.rs` includes this file and drives both.

use spindle_rt::io::{AsyncBufReadExt, BufReader};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::sync::{mpsc, oneshot, Mutex, Notify};
use spindle_rt::task::JoinSet;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

/// One job: count the primes below `n`, answer on `reply`.
struct Job {
    n: u64,
    reply: oneshot::Sender<u64>,
}

/// What the pool has done, readable at any time.
#[derive(Debug, Default)]
pub struct Stats {
    /// Jobs handed to the blocking pool.
    pub started: AtomicU64,
    /// Jobs that ran to their answer.
    pub completed: AtomicU64,
    /// Jobs stopped part way because their asker went away (or the pool
    /// was dropped).
    pub cancelled: AtomicU64,
    /// Notified (`notify_waiters`) whenever a job starts or ends.
    pub changed: Notify,
}

/// Why a job got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolClosed;

impl std::fmt::Display for PoolClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the worker pool is gone")
    }
}

impl std::error::Error for PoolClosed {}

/// Hands jobs to a [`Pool`]; cheap to clone, one per connection.
#[derive(Clone)]
pub struct Submitter {
    jobs: mpsc::Sender<Job>,
}

impl Submitter {
    /// The count of primes below `n`, from the pool. Dropping the future
    /// cancels the job, queued or running.
    ///
    /// # Errors
    /// [`PoolClosed`] if the pool is dropped first.
    pub async fn primes_below(&self, n: u64) -> Result<u64, PoolClosed> {
        let (reply, answer) = oneshot::channel();
        // Waits while the queue is full: backpressure on the askers.
        self.jobs.send(Job { n, reply }).await.map_err(|_| PoolClosed)?;
        answer.await.map_err(|_| PoolClosed)
    }
}

/// `workers` worker tasks taking jobs from one queue. Dropping the pool
/// aborts them (the `JoinSet`'s drop), which cancels the jobs they run and
/// fails every queued and later job with [`PoolClosed`].
pub struct Pool {
    submitter: Submitter,
    _workers: JoinSet<()>,
    stats: Arc<Stats>,
}

impl Pool {
    /// Starts `workers` workers and a queue of `queue` jobs. Call inside a
    /// runtime.
    pub fn new(workers: usize, queue: usize) -> Pool {
        let (tx, rx) = mpsc::channel(queue);
        // One receiver shared by the workers: whoever is free takes the
        // next job.
        let rx = Arc::new(Mutex::new(rx));
        let stats = Arc::new(Stats::default());
        let mut set = JoinSet::new();
        for _ in 0..workers {
            set.spawn(worker(Arc::clone(&rx), Arc::clone(&stats)));
        }
        Pool { submitter: Submitter { jobs: tx }, _workers: set, stats }
    }

    /// A handle to submit jobs with.
    pub fn submitter(&self) -> Submitter {
        self.submitter.clone()
    }

    /// The pool's counters.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }
}

/// Sets its flag when dropped: a worker task's way to tell its blocking
/// closure to stop, whether the task returns or is aborted.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// Takes jobs until the queue closes; runs each on the blocking pool, and
/// gives up on it if its asker goes away.
async fn worker(jobs: Arc<Mutex<mpsc::Receiver<Job>>>, stats: Arc<Stats>) {
    loop {
        // The lock is held only while waiting for a job, not while
        // running it.
        let Some(mut job) = jobs.lock().await.recv().await else { return };
        if job.reply.is_closed() {
            continue; // asked, then gone before we started
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let guard = CancelOnDrop(Arc::clone(&cancel));
        let n = job.n;
        stats.started.fetch_add(1, SeqCst);
        stats.changed.notify_waiters();
        let counted = {
            let stats = Arc::clone(&stats);
            spindle_rt::spawn_blocking(move || {
                let answer = count_primes_below(n, &cancel);
                let counter = if answer.is_some() { &stats.completed } else { &stats.cancelled };
                counter.fetch_add(1, SeqCst);
                stats.changed.notify_waiters();
                answer
            })
        };
        spindle_rt::select! {
            counted = counted => {
                if let Ok(Some(answer)) = counted {
                    let _ = job.reply.send(answer);
                }
            }
            // The asker dropped its future: stop the count, take the next.
            () = job.reply.closed() => {}
        }
        drop(guard);
    }
}

/// The count of primes below `n` by trial division, or `None` once
/// `cancel` is set (checked every 1024 candidates).
fn count_primes_below(n: u64, cancel: &AtomicBool) -> Option<u64> {
    let mut count = 0;
    for candidate in 2..n {
        if candidate % 1024 == 0 && cancel.load(SeqCst) {
            return None;
        }
        if (2..).take_while(|d| d * d <= candidate).all(|d| candidate % d != 0) {
            count += 1;
        }
    }
    Some(count)
}

/// Serves clients from `listener` until `shutdown` completes: each line a
/// number, each answer `n: P`, in order. A connection's task drops its
/// pending job (cancelling it) when the client goes away mid-count.
pub async fn serve(listener: TcpListener, submitter: Submitter, shutdown: impl Future<Output = ()>) {
    let mut conns = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        spindle_rt::select! {
            conn = listener.accept() => match conn {
                Ok((stream, _)) => {
                    conns.spawn(client(stream, submitter.clone()));
                }
                Err(e) => eprintln!("accept: {e}"),
            },
            Some(_) = conns.join_next() => {}
            () = &mut shutdown => break,
        }
    }
    // Dropping `conns` aborts the connections, which cancels their jobs.
}

/// One client: a line in, an answer out, until it leaves.
async fn client(stream: TcpStream, pool: Submitter) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let reply = match line.trim().parse::<u64>() {
            Ok(n) => {
                // Race the count against the client leaving: the end of
                // its stream (or an error) means nobody wants the answer,
                // and returning drops (so cancels) the job. Lines sent
                // meanwhile wait in the reader's buffer.
                let gone = async {
                    match lines.get_mut().fill_buf().await {
                        Ok(more) if !more.is_empty() => std::future::pending().await,
                        _ => {}
                    }
                };
                spindle_rt::select! {
                    count = pool.primes_below(n) => match count {
                        Ok(p) => format!("{n}: {p}\n"),
                        Err(PoolClosed) => "error: shutting down\n".to_owned(),
                    },
                    () = gone => return,
                }
            }
            Err(_) => format!("error: not a number: {line}\n"),
        };
        if writer.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

#[spindle_rt::main(flavor = "multi_thread")]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7882".to_owned());
    let workers = args.next().map_or(Ok(4), |n| n.parse()).map_err(io::Error::other)?;
    let pool = Pool::new(workers, 64);
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on {} with {workers} workers", listener.local_addr()?);
    let ctrl_c = async {
        let _ = spindle_rt::signal::ctrl_c().await;
    };
    serve(listener, pool.submitter(), ctrl_c).await;
    let stats = pool.stats();
    println!(
        "stopped: {} jobs done, {} cancelled",
        stats.completed.load(SeqCst),
        stats.cancelled.load(SeqCst)
    );
    Ok(())
}
