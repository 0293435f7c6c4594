//! IO threads (`io-threads N`), as Redis 6 added them.
//!
//! Commands still run on the main thread, one at a time, so the data needs
//! no locks. What moves to other threads is the work around them that
//! scales with bytes rather than with commands: the `read` system call, the
//! parsing of the first command in each buffer, and the `write` of replies.
//! The main thread collects the clients that became readable in one poll,
//! deals them out to the IO threads (keeping a share for itself), waits
//! until every thread is done, then runs the parsed commands in order; the
//! writes before the loop sleeps go the same way. Between those hand-offs
//! each client belongs to exactly one thread, so no lock guards a client:
//! it moves, boxed, through a channel and comes back.
//!
//! Whether this pays depends on the machine: it helps when reads and
//! writes, not commands, saturate the main thread and spare cores exist.

use super::client::{read_from_client, write_to_client, Client, ReadOutcome, WriteOutcome};
use crate::resp::parse::Limits;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// One client handed to an IO thread, and what the thread found.
pub struct Task {
    /// The client's slot in the server.
    pub slot: usize,
    /// The client, owned by the thread while it works on it.
    pub client: Box<Client>,
    /// Set by a read job.
    pub read: Option<ReadOutcome>,
    /// Set by a write job.
    pub write: Option<WriteOutcome>,
}

enum Job {
    Read(Vec<Task>, Limits),
    Write(Vec<Task>),
}

struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    done: mpsc::Receiver<Vec<Task>>,
    thread: Option<JoinHandle<()>>,
}

/// The IO threads besides the main thread.
pub struct IoThreads {
    workers: Vec<Worker>,
}

/// Reads from a client and pre-parses its first command.
pub fn read_task(t: &mut Task, limits: &Limits) {
    let c = &mut t.client;
    let outcome = read_from_client(c);
    if let ReadOutcome::Data { .. } = outcome {
        let (qpos, qlen) = (c.qpos, c.qlen);
        let limits = Limits { authenticated: limits.authenticated || c.authenticated, ..*limits };
        let r = c.parser.parse(&mut c.query[qpos..qlen], &limits);
        c.preparsed = Some(r);
    }
    t.read = Some(outcome);
}

/// Writes a client's pending reply.
pub fn write_task(t: &mut Task) {
    t.write = Some(write_to_client(&mut t.client));
}

impl IoThreads {
    /// Starts `n - 1` threads (the main thread is the n-th).
    ///
    /// # Errors
    /// A thread that cannot be spawned.
    pub fn new(n: usize) -> std::io::Result<IoThreads> {
        let mut workers = Vec::new();
        for i in 1..n.max(1) {
            let (jtx, jrx) = mpsc::channel::<Job>();
            let (dtx, drx) = mpsc::channel::<Vec<Task>>();
            // Signals stay with the loop thread (see `LazyFree::new`).
            let spawn = std::thread::Builder::new().name(format!("spindle-io-{i}"));
            let thread = spindle_loop::with_async_signals_blocked(|| {
                spawn.spawn(move || {
                    for job in jrx {
                        let done = match job {
                            Job::Read(mut tasks, limits) => {
                                tasks.iter_mut().for_each(|t| read_task(t, &limits));
                                tasks
                            }
                            Job::Write(mut tasks) => {
                                tasks.iter_mut().for_each(write_task);
                                tasks
                            }
                        };
                        if dtx.send(done).is_err() {
                            return;
                        }
                    }
                })
            })?;
            workers.push(Worker { jobs: Some(jtx), done: drx, thread: Some(thread) });
        }
        Ok(IoThreads { workers })
    }

    /// Threads, the main one included.
    pub fn len(&self) -> usize {
        self.workers.len() + 1
    }

    /// Always false: there is at least the main thread.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Runs `job` over `tasks` on every thread, the main one included, and
    /// returns the tasks when all are done (in an unspecified order).
    fn run(&self, tasks: Vec<Task>, read: Option<&Limits>) -> Vec<Task> {
        let n = self.len();
        let mut shares: Vec<Vec<Task>> = (0..n).map(|_| Vec::new()).collect();
        for (i, t) in tasks.into_iter().enumerate() {
            shares[i % n].push(t);
        }
        let mut mine = shares.remove(0);
        let mut sent = Vec::new();
        for (w, share) in self.workers.iter().zip(shares) {
            if share.is_empty() {
                continue;
            }
            let job = match read {
                Some(l) => Job::Read(share, *l),
                None => Job::Write(share),
            };
            if let Some(tx) = &w.jobs {
                match tx.send(job) {
                    Ok(()) => sent.push(w),
                    Err(mpsc::SendError(Job::Read(back, _) | Job::Write(back))) => mine.extend(back),
                }
            }
        }
        match read {
            Some(l) => mine.iter_mut().for_each(|t| read_task(t, l)),
            None => mine.iter_mut().for_each(write_task),
        }
        for w in sent {
            match w.done.recv() {
                Ok(back) => mine.extend(back),
                // A worker cannot drop tasks without sending them back
                // unless it panicked; its clients are lost with it.
                Err(_) => tracing::error!("an IO thread died; its clients are closed"),
            }
        }
        mine
    }

    /// Reads (and pre-parses) every client in `tasks`.
    pub fn read_all(&self, tasks: Vec<Task>, limits: &Limits) -> Vec<Task> {
        self.run(tasks, Some(limits))
    }

    /// Writes every client's reply in `tasks`.
    pub fn write_all(&self, tasks: Vec<Task>) -> Vec<Task> {
        self.run(tasks, None)
    }
}

impl Drop for IoThreads {
    fn drop(&mut self) {
        for w in &mut self.workers {
            w.jobs.take();
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
    }
}
