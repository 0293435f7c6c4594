//! One loop iteration, phase by phase (`uv_run`).

use crate::Loop;
use std::io;
use std::time::Duration;

/// How long [`Loop::run`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RunMode {
    /// Until no active referenced handle, request or close callback is left,
    /// or [`Loop::stop`] is called.
    #[default]
    Default,
    /// One iteration, sleeping in the poll phase if nothing is pending.
    Once,
    /// One iteration without sleeping.
    NoWait,
}

impl Loop {
    /// Runs the loop in `mode`. Returns whether it is still alive (some
    /// handle or request would keep a `Default` run going).
    ///
    /// # Errors
    /// Only a failure of the poller itself (never `EINTR`).
    pub fn run(&mut self, mode: RunMode) -> io::Result<bool> {
        let mut alive = self.alive();
        if !alive {
            self.update_time();
        }
        while alive && !self.stop_flag {
            self.iterate(mode)?;
            alive = self.alive();
            if mode != RunMode::Default {
                break;
            }
        }
        self.stop_flag = false;
        Ok(alive)
    }

    /// One iteration. The body is the phase order.
    fn iterate(&mut self, mode: RunMode) -> io::Result<()> {
        self.update_time();
        self.run_timers();
        let ran_pending = self.run_pending();
        self.run_idle();
        self.run_prepare();
        let timeout = match mode {
            RunMode::NoWait => Some(Duration::ZERO),
            RunMode::Once if ran_pending => Some(Duration::ZERO),
            _ => self.poll_timeout(),
        };
        self.poll_io(timeout)?;
        self.run_check();
        self.run_closing();
        if mode == RunMode::Once {
            // A `Once` run that slept for a timer should also run it.
            self.update_time();
            self.run_timers();
        }
        self.lag_end_iteration();
        Ok(())
    }

    /// How long the poll phase may sleep: zero when anything else is ready
    /// to run, until the next timer otherwise, forever without timers.
    fn poll_timeout(&mut self) -> Option<Duration> {
        if self.stop_flag
            || !self.alive()
            || !self.pending.is_empty()
            || self.phases.idle_active()
            || !self.closing.is_empty()
        {
            return Some(Duration::ZERO);
        }
        self.timers.next_deadline(&self.handles).map(|d| Duration::from_nanos(d.saturating_sub(self.now)))
    }

    /// The pending phase: callbacks deferred from the previous iteration.
    /// Returns whether any ran. Callbacks deferred while it runs wait for the
    /// next iteration.
    fn run_pending(&mut self) -> bool {
        let n = self.pending.len();
        for _ in 0..n {
            match self.pending.pop_front() {
                Some(f) => f(self),
                None => break,
            }
        }
        n > 0
    }

    /// The poll phase: reconcile interest, sleep in the poller, dispatch.
    fn poll_io(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.flush_watches();
        let mut timeout = timeout;
        if let Some(pause) = self.coalesce.pause(timeout) {
            // Off the poller's wait queue: writes to our sockets now wake
            // nobody, and the poll below takes them as one batch.
            std::thread::sleep(pause);
            timeout = timeout.map(|t| t.saturating_sub(pause));
        }
        let result = self.poller.wait(&mut self.events, timeout);
        self.update_time();
        let n = result?;
        // Index, not iterate: each callback needs `&mut self`. Events are
        // `Copy`, and the buffer is not touched again until the next wait.
        for i in 0..n {
            let ev = self.events.get(i).expect("index below len");
            if ev.token().0 & crate::FOREIGN_TOKEN_BIT != 0 {
                self.coalesce.note_foreign(ev.token().0);
                if let Some(cb) = &mut self.foreign {
                    cb(&ev);
                }
                continue;
            }
            self.dispatch_event(&ev);
        }
        self.coalesce.after_poll(n, self.now);
        self.run_remote();
        Ok(())
    }

    /// The close phase: run close callbacks and free the slots.
    fn run_closing(&mut self) {
        while !self.closing.is_empty() {
            let batch = std::mem::take(&mut self.closing);
            for (id, cb) in batch {
                self.handles.remove(id);
                if let Some(cb) = cb {
                    cb(self, id);
                }
            }
        }
    }
}
