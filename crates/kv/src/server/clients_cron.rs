//! The per-client part of the cron (Redis's `clientsCron`): each call
//! looks at a share of the clients (at least 5), so each is seen about once
//! a second. It shrinks query buffers the clients no longer need (see
//! [`super::client::resize_query_buffer`]), sizes their reply buffers (see
//! [`super::reply_buffer`]) and keeps the recent peaks of
//! client buffer memory that INFO reports as
//! `client_recent_max_input_buffer` and `client_recent_max_output_buffer`.
//! And it closes the clients idle for longer than `timeout` seconds, as
//! Redis's `clientsCronHandleTimeout` does: never a subscriber, a monitor
//! or a client blocked in a command (their own timeouts apply). With
//! `maxmemory-clients` on, it also refreshes each client's share of the
//! clients' memory (see [`super::client_evict`]), catching buffers that
//! shrank while the client was idle. And it checks each client's unsent
//! output against `client-output-buffer-limit` again, as Redis 7.0's
//! `clientsCron` does, so that a client over a soft limit is closed when
//! the limit's time runs out even if nothing more is sent to it.

use super::{client, client_evict, Server};

/// One-second slots of the peaks: INFO shows the largest of the last 8
/// seconds (Redis's CLIENTS_PEAK_MEM_USAGE_SLOTS).
const SLOTS: usize = 8;

/// The largest client input and output buffers seen, per second.
#[derive(Debug, Default)]
pub struct PeakMem {
    input: [usize; SLOTS],
    output: [usize; SLOTS],
}

impl PeakMem {
    /// The largest query buffer (and parser state) of a client in the last
    /// few seconds, in bytes.
    pub fn recent_max_input(&self) -> usize {
        self.input.iter().copied().max().unwrap_or(0)
    }

    /// The most reply bytes a client had waiting to be sent, beyond its
    /// kept reply buffer, in the last few seconds (0 while every client
    /// reads its replies).
    pub fn recent_max_output(&self) -> usize {
        self.output.iter().copied().max().unwrap_or(0)
    }
}

/// Runs the cron's share of clients.
pub(super) fn run(srv: &mut Server) {
    let now = srv.now_ms;
    // The slot of this second; the next one is cleared for reuse, as in
    // Redis, so each holds at most the last 8 seconds.
    let slot_now = ((now / 1000) as usize) % SLOTS;
    srv.clients_peak.input[(slot_now + 1) % SLOTS] = 0;
    srv.clients_peak.output[(slot_now + 1) % SLOTS] = 0;
    let n = srv.clients.len();
    if n == 0 {
        return;
    }
    let per_call = (n / srv.config.hz.max(1) as usize).max(5).min(n);
    let max_idle_ms = srv.config.timeout.saturating_mul(1000) as i64;
    for _ in 0..per_call {
        let slot = srv.clients_cron_cursor % n;
        srv.clients_cron_cursor = slot + 1;
        let Some(mut c) = srv.clients[slot].take() else { continue };
        if max_idle_ms > 0 && idle_too_long(&c, now, max_idle_ms) {
            tracing::debug!(client = c.id, "closing an idle client (timeout)");
            c.close_asap = true;
            srv.kill_pending = true;
        } else if c.pending_output() > 0 && srv.enforce_output_limit_of(&mut c) {
            // A soft limit runs out with time, not with output: a reader
            // that stopped reading after the last message would otherwise
            // hold its buffer for as long as nothing more is sent to it.
            srv.kill_pending = true;
        } else {
            client::resize_query_buffer(&mut c, now);
            super::reply_buffer::resize(&mut c, now, &srv.reply_buffer, &mut srv.stats);
            let peak = &mut srv.clients_peak;
            peak.input[slot_now] = peak.input[slot_now].max(c.query_size());
            // Replies waiting to be sent beyond the buffer kept between
            // replies, as Redis counts its reply list and not its fixed
            // buffer (`rbs`).
            let overflow = c.buffered_output().saturating_sub(c.out_keep);
            peak.output[slot_now] = peak.output[slot_now].max(overflow);
            client_evict::track(srv, &mut c);
        }
        srv.clients[slot] = Some(c);
    }
}

/// Whether `timeout` closes `c`: idle for more than `max_idle_ms`, and not
/// a subscriber, a monitor, a replica, blocked or held by CLIENT PAUSE.
fn idle_too_long(c: &client::Client, now: i64, max_idle_ms: i64) -> bool {
    !c.blocked
        && !c.postponed
        && !c.monitor
        && !c.replica
        && c.subs.total() == 0
        && now - c.last_interaction > max_idle_ms
}
