//! A rendezvous for a fixed number of tasks.

use super::watch;
use std::fmt;
use std::sync::Mutex;

/// Makes `n` tasks wait until all `n` have arrived, then lets them all go
/// on; reusable, one round after another. The async face of
/// [`std::sync::Barrier`]: waiting parks the task, not its thread.
///
/// Each round is a generation number sent on a [`watch`] channel. A task
/// that arrives subscribes to it while holding the barrier's lock, so the
/// last arrival's send (also under the lock) cannot slip between its
/// arrival and its wait.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use spindle_rt::sync::Barrier;
/// use std::sync::Arc;
///
/// let rt = spindle_rt::Builder::new_multi_thread().worker_threads(2).build()?;
/// let leaders = rt.block_on(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = Arc::clone(&barrier);
///             spindle_rt::spawn(async move { barrier.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += usize::from(t.await.unwrap());
///     }
///     leaders
/// });
/// assert_eq!(leaders, 1); // exactly one task per round is told it was last
/// # Ok(())
/// # }
/// ```
pub struct Barrier {
    n: usize,
    state: Mutex<Round>,
    /// The number of completed rounds.
    generation: watch::Sender<u64>,
}

struct Round {
    arrived: usize,
    generation: u64,
}

/// What [`Barrier::wait`] tells a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for exactly one task per round: the one whose arrival completed
    /// it.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks. With `n` of 0 or 1 every wait returns at
    /// once, as the leader.
    pub fn new(n: usize) -> Barrier {
        let (generation, _) = watch::channel(0);
        Barrier { n, state: Mutex::new(Round { arrived: 0, generation: 0 }), generation }
    }

    /// Waits until `n` tasks (this one included) have called `wait` in this
    /// round. If this future is dropped while waiting, its arrival still
    /// counts, as with tokio's barrier.
    pub async fn wait(&self) -> BarrierWaitResult {
        let (mut round_done, mine) = {
            let mut round = crate::lock(&self.state);
            round.arrived += 1;
            if round.arrived >= self.n {
                round.arrived = 0;
                round.generation += 1;
                self.generation.send_replace(round.generation);
                return BarrierWaitResult(true);
            }
            (self.generation.subscribe(), round.generation)
        };
        // The sender lives as long as `self`, so `changed` only fails if
        // the barrier is gone, which the borrow of `self` rules out.
        while *round_done.borrow() == mine {
            if round_done.changed().await.is_err() {
                break;
            }
        }
        BarrierWaitResult(false)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").field("n", &self.n).finish_non_exhaustive()
    }
}
