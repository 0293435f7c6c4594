//! The active expiry cycle (Redis's `activeExpireCycle`).
//!
//! Lazy expiry deletes a key only when someone touches it; a key written
//! with a TTL and never read again would stay in memory forever. So the
//! cron also samples keys that have a deadline, a few at a time, and
//! deletes those that have passed it. If more than a tenth of a sample had
//! expired, there are probably many more, and it samples again at once;
//! otherwise it moves on. The whole cycle is bounded in time (a quarter of
//! the cron period, as Redis's slow cycle), so a mass expiry is spread over
//! many ticks instead of stalling every client for one long one.

use super::Server;
use crate::db::Key;
use std::time::{Duration, Instant};

/// Keys sampled per round and database, at `active-expire-effort` 1.
const KEYS_PER_LOOP: usize = 20;
/// Keep sampling while more than this percentage of a sample had expired.
const ACCEPTABLE_STALE: usize = 10;

/// Runs one cycle over every database for at most `limit`; returns the
/// keys it deleted. Deleted keys go to each database's `expired_log`, like
/// lazily expired ones, for the server to propagate and announce. The
/// cycle's time, whether it ran out of it, and the share of sampled keys
/// it found expired go to INFO's stats (Redis's `stat_expire_cycle_*`),
/// and the time left on the live keys sampled to each database's
/// `avg_ttl`.
pub fn active_expire_cycle(srv: &mut Server, limit: Duration) -> usize {
    let effort = srv.config.active_expire_effort.clamp(1, 10) as usize - 1;
    let per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * effort;
    let stale = ACCEPTABLE_STALE.saturating_sub(effort);
    let start = Instant::now();
    let now = srv.now_ms;
    let (mut deleted, mut total_sampled, mut capped) = (0, 0, false);
    let mut sample: Vec<Key> = Vec::with_capacity(per_loop);
    for db_index in 0..srv.dbs.len() {
        loop {
            if srv.dbs[db_index].volatile.is_empty() {
                srv.dbs[db_index].avg_ttl = 0;
                break;
            }
            sample.clear();
            let (mut ttl_sum, mut ttl_samples) = (0i64, 0i64);
            {
                let Server { dbs, rng, .. } = &mut *srv;
                let mut next = || super::next_random(rng);
                let mut picked = Vec::with_capacity(per_loop);
                dbs[db_index].volatile.sample(per_loop, &mut next, &mut picked);
                for (k, &at) in picked {
                    if at > now {
                        ttl_sum = ttl_sum.saturating_add(at - now);
                        ttl_samples += 1;
                    }
                    sample.push(k.clone());
                }
            }
            if ttl_samples > 0 {
                // Redis's running average: the last estimate weighs 98%.
                let db = &mut srv.dbs[db_index];
                let avg = ttl_sum / ttl_samples;
                if db.avg_ttl == 0 {
                    db.avg_ttl = avg;
                }
                db.avg_ttl = (db.avg_ttl / 50) * 49 + avg / 50;
            }
            let sampled = sample.len();
            let mut expired = 0;
            for key in &sample {
                // A lookup deletes the key if it has expired and logs it.
                let db = &mut srv.dbs[db_index];
                let was = db.expired_log.len();
                let _ = db.peek_mut(key, now);
                if db.expired_log.len() > was {
                    expired += 1;
                }
            }
            deleted += expired;
            total_sampled += sampled;
            capped = start.elapsed() >= limit;
            if sampled == 0 || expired * 100 <= sampled * stale || capped {
                break;
            }
        }
        if capped {
            break;
        }
    }
    let us = start.elapsed().as_micros() as u64;
    srv.stats.expire.record(total_sampled, deleted, us, capped);
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Str, Value};
    use crate::server::Config;

    #[test]
    fn the_cycle_removes_expired_keys_and_keeps_live_ones() {
        let mut srv = Server::new(Config::default());
        let now = srv.now_ms;
        for i in 0..1000 {
            let k = format!("k{i}");
            srv.dbs[0].set(k.as_bytes(), Value::Str(Str::from_bytes(b"v")), 0);
            // Half expired already, half expiring in an hour.
            let at = if i % 2 == 0 { now - 1 } else { now + 3_600_000 };
            srv.dbs[0].set_expire(k.as_bytes(), at);
        }
        let mut total = 0;
        for _ in 0..1000 {
            total += active_expire_cycle(&mut srv, Duration::from_secs(1));
            if total == 500 {
                break;
            }
        }
        assert_eq!(total, 500);
        assert_eq!(srv.dbs[0].len(), 500);
        assert_eq!(srv.dbs[0].volatile.len(), 500);
        assert_eq!(srv.dbs[0].expired_log.len(), 500);
    }
}
