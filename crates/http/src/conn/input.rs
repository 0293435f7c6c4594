//! Reading: the next request, or more of it, within its deadlines;
//! giving back large buffers when idle; the lingering close.

use super::{timed, Conn, End, Gauge, OUT_KEEP, OUT_START, READ_CHUNK};
use crate::server::Worker;
use crate::sys;
use spindle_rt::time::Instant;
use std::os::fd::AsRawFd;

impl Conn {
    /// Whether the client may still be sending as we close after a
    /// response: its request's body is not all read, it pipelined more
    /// requests (in the buffer), or bytes wait unread in the socket.
    /// Closing then would make the kernel reset the connection, dropping
    /// what of the response has not left yet and failing the client's
    /// writes, so the close lingers instead, on the conditions nginx's
    /// `ngx_http_finalize_connection` lingers on (a body being discarded,
    /// `header_in` not empty, the read event ready). A refused request's
    /// own bytes are still in the buffer, so a refusal always lingers,
    /// as in nginx.
    pub(super) fn client_may_be_sending(&self) -> bool {
        self.skip > 0 || self.start < self.end || sys::unread_bytes(self.stream.as_raw_fd()).unwrap_or(0) > 0
    }

    /// nginx's lingering close (see [`crate::config::Timeouts`]):
    /// half-closes, then reads and drops until the client is done, quiet
    /// for `timeouts.lingering`, or `timeouts.lingering_time` is up
    /// (sooner when draining).
    pub(super) async fn linger(&mut self) {
        let _ = self.stream.shutdown_std(std::net::Shutdown::Write);
        let t = &self.w.cfg.timeouts;
        let (quiet_for, until) = (t.lingering, Instant::now() + t.lingering_time);
        let grace = self.w.drain_grace();
        loop {
            let quiet = (Instant::now() + quiet_for).min(until);
            let when = |w: &Worker| match w.drain_started.get() {
                Some(t) => quiet.min(t + grace),
                None => quiet,
            };
            let Conn { w, idx, timer, stream, buf, .. } = self;
            match timed(w, *idx, timer, when, stream.read(&mut buf[..])).await {
                Ok(n) if n > 0 => {}
                _ => return,
            }
        }
    }

    /// Reads more of the next request (or of a body being skipped).
    pub(super) async fn fill(&mut self) -> Result<(), End> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let cap = (self.buf.len() * 2).min(self.w.cfg.limits.headers + READ_CHUNK);
                self.buf.resize(cap.max(self.buf.len() + 1), 0);
            }
        }
        let idle = self.start == self.end && self.skip == 0;
        let deadline = if idle {
            self.set_gauge(Gauge::Waiting);
            self.shrink_buffers();
            // A fresh connection gets the header timeout for its first
            // request, counted from the accept and not restarted by its
            // first byte (as nginx does: otherwise a slowloris that waits
            // almost a header timeout before starting gets two); a served
            // one gets the keep-alive timeout.
            let t = &self.w.cfg.timeouts;
            match self.head_deadline {
                Some(d) if self.served == 0 => d,
                _ => Instant::now() + if self.served == 0 { t.header } else { t.keepalive },
            }
        } else {
            self.set_gauge(Gauge::Reading);
            *self.head_deadline.get_or_insert_with(|| Instant::now() + self.w.cfg.timeouts.header)
        };
        let grace = self.w.drain_grace();
        // Between requests, a connection a full worker may reclaim.
        let keepalive = idle && self.served > 0;
        if keepalive {
            self.w.set_idle(self.idx, true);
        }
        let Conn { w, idx, timer, stream, buf, end, .. } = self;
        let slot = *idx;
        let when = move |w: &Worker| match w.drain_started.get() {
            _ if keepalive && w.is_reclaimed(slot) => Instant::now(),
            Some(t) if idle => deadline.min(t + grace),
            _ => deadline,
        };
        let got = timed(w, slot, timer, when, stream.read(&mut buf[*end..])).await;
        if keepalive {
            self.w.set_idle(self.idx, false);
        }
        let n = got?;
        if n == 0 {
            return Err(End::Closed);
        }
        self.end += n;
        Ok(())
    }

    /// Gives back what a large head (the input buffer grows up to
    /// `limits.headers`) or a large batch of pipelined answers (the output
    /// buffer, past [`OUT_HIGH`](super::OUT_HIGH)) made the buffers grow to, once the
    /// connection is idle: otherwise every idle keep-alive connection
    /// would hold its peak, about 100 KiB after a burst (1 GB for 10,240
    /// connections), where nginx frees its header buffers between
    /// requests. Both are empty here; the input buffer goes back to
    /// [`READ_CHUNK`] (a head larger than that is rare), the output buffer
    /// only past [`OUT_KEEP`], so a plain keep-alive connection pays
    /// nothing.
    pub(super) fn shrink_buffers(&mut self) {
        if self.buf.len() > READ_CHUNK {
            self.buf = vec![0; READ_CHUNK];
        }
        if self.out.capacity() > OUT_KEEP {
            self.out = Vec::with_capacity(OUT_START);
        }
    }
}
