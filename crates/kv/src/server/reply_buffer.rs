//! The size of each client's reply buffer between replies (Redis 7.0's
//! `clientsCronResizeOutputBuffer`).
//!
//! A client's replies are built in one growable buffer ([`Client::out`]).
//! Between replies the buffer keeps [`Client::out_keep`] bytes (CLIENT
//! LIST's `rbs`), from 1 KiB to 16 KiB as Redis sizes its fixed reply
//! buffer: a reply larger than that grows the buffer for as long as it is
//! being written, and the excess is freed once it is sent, as Redis frees
//! the reply blocks that did not fit its buffer. The kept size follows the
//! largest reply seen lately ([`Client::out_peak`], CLIENT LIST's `rbp`):
//! the cron halves it when that peak is under half of it and doubles it
//! when a reply filled it, and forgets the peak every
//! [`Policy::peak_reset_ms`], so an idle client soon holds 1 KiB and a busy
//! one 16 KiB. `DEBUG REPLYBUFFER` tunes both for tests, and INFO counts
//! the resizes as `reply_buffer_shrinks` and `reply_buffer_expands`.

use super::client::Client;
use super::stats::Stats;

/// The smallest kept buffer (Redis's `PROTO_REPLY_MIN_BYTES`).
pub const MIN_BYTES: usize = 1024;
/// The largest kept buffer, and a new client's (Redis's
/// `PROTO_REPLY_CHUNK_BYTES`).
pub const CHUNK_BYTES: usize = 16 * 1024;
/// How often the peak is forgotten by default, in ms (Redis's
/// `REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME`).
pub const DEFAULT_PEAK_RESET_MS: i64 = 5000;

/// The cron's resizing settings, set by `DEBUG REPLYBUFFER`.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Forget a client's peak this often (ms); negative: never.
    pub peak_reset_ms: i64,
    /// Whether the cron resizes at all (`DEBUG REPLYBUFFER RESIZING 0|1`).
    pub resizing: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { peak_reset_ms: DEFAULT_PEAK_RESET_MS, resizing: true }
    }
}

/// Notes how much of `c`'s buffer a reply used, before it is written.
#[inline]
pub fn note_peak(c: &mut Client) {
    c.out_peak = c.out_peak.max(c.out.len());
}

/// After a reply is all written: gives back what a large reply grew the
/// buffer to beyond the kept size.
#[inline]
pub fn trim_after_write(c: &mut Client) {
    if c.out.capacity() > c.out_keep {
        c.out.shrink_to(c.out_keep);
    }
}

/// The cron's look at one client: picks the kept size from the peak, as
/// Redis's `clientsCronResizeOutputBuffer`, and, while no reply waits,
/// gives the buffer exactly that size.
pub fn resize(c: &mut Client, now_ms: i64, policy: &Policy, stats: &mut Stats) {
    if !policy.resizing {
        return;
    }
    let size = c.out_keep;
    let new = if size / 2 >= MIN_BYTES && c.out_peak < size / 2 {
        stats.reply_buffer_shrinks += 1;
        Some(MIN_BYTES.max(c.out_peak + 1))
    } else if size * 2 < CHUNK_BYTES * 2 && c.out_peak >= size {
        stats.reply_buffer_expands += 1;
        Some(CHUNK_BYTES.min(size * 2))
    } else {
        None
    };
    if policy.peak_reset_ms >= 0 && now_ms - c.out_peak_reset_at >= policy.peak_reset_ms {
        c.out_peak = c.out.len();
        c.out_peak_reset_at = now_ms;
    }
    if let Some(n) = new {
        c.out_keep = n;
    }
    if c.out.is_empty() && c.tail.is_none() {
        let cap = c.out.capacity();
        if cap > c.out_keep {
            c.out.shrink_to(c.out_keep);
        } else if cap < c.out_keep {
            c.out.reserve_exact(c.out_keep);
        }
    }
}
