//! maxmemory: evicting keys before a command would go over the limit.
//!
//! Before each command, if `used_memory` (see [`crate::alloc`]) is above
//! `maxmemory`, keys are evicted by the configured policy until it is not.
//! When nothing can be evicted (policy `noeviction`, or no key qualifies),
//! commands that may grow memory are refused with Redis's `-OOM` error;
//! reads and deletes still run, so a full server can always be drained.
//!
//! Like Redis, the LRU and TTL policies are approximate: rather than keep
//! every key in a global order (a linked list touched on every read), each
//! eviction samples `maxmemory-samples` keys per database and merges them
//! into a small pool of the best candidates seen so far (Redis's
//! `evictionPoolPopulate`). With 5 samples this comes close to true LRU at
//! a fraction of the cost. The LFU policies sample the same way and rank
//! keys by their decayed access counter (see [`crate::lfu`]).
//!
//! The keyspace's tables do not grow past the limit either
//! ([`keyspace_may_expand`], Redis's `dictExpandAllowed`): doubling the
//! bucket array of a large database takes megabytes at once, which would
//! otherwise be paid for by evicting as many bytes of keys.

use super::config::EvictionPolicy;
use super::Server;
use crate::db::Key;
use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    /// `maxmemory` and the memory it leaves out, as last seen by the
    /// command path or the cron, for [`keyspace_may_expand`] (which the
    /// tables call without the server at hand). Per thread: the keyspace
    /// lives on its server's loop thread, and a process may run several
    /// servers (the tests do).
    static LIMIT: Cell<(u64, usize)> = const { Cell::new((0, 0)) };
}

/// Entries per bucket above which a keyspace table grows even past
/// `maxmemory` (Redis's `HASHTABLE_MAX_LOAD_FACTOR`): chains that long
/// cost more than the memory saved.
const MAX_LOAD_FACTOR: f64 = 1.618;

/// Whether a keyspace table (keys or deadlines) may grow by a bucket array
/// of `bytes`, at `load` entries per bucket (Redis's `dictExpandAllowed`):
/// always without `maxmemory` or once chains average above 1.618, else
/// only if the array fits under the limit.
pub fn keyspace_may_expand(bytes: usize, load: f64) -> bool {
    let (limit, not_counted) = LIMIT.get();
    if limit == 0 || load > MAX_LOAD_FACTOR {
        return true;
    }
    let used = crate::alloc::used_memory().saturating_sub(not_counted);
    used.saturating_add(bytes) as u64 <= limit
}

/// Refreshes what [`keyspace_may_expand`] compares against.
pub fn sync_expand_limit(srv: &Server) {
    let limit = srv.config.maxmemory;
    LIMIT.set((limit, if limit > 0 { not_counted(srv) } else { 0 }));
}

/// Candidates kept between samplings (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

/// The error for a command refused under maxmemory.
pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// A sampled key: its database and an eviction score (higher goes first).
#[derive(Debug, Clone)]
struct Candidate {
    score: u64,
    db: usize,
    key: Key,
}

/// Whether memory is over the limit, not counting the replicas' output
/// buffers and the AOF buffer (Redis's `freeMemoryGetNotCountedMemory`):
/// evicting keys to make room for the stream of the writes that delete
/// them would feed on itself.
pub fn over_limit(srv: &Server) -> bool {
    srv.config.maxmemory > 0
        && (crate::alloc::used_memory().saturating_sub(not_counted(srv)) as u64) > srv.config.maxmemory
}

/// The memory maxmemory leaves out (INFO's `mem_not_counted_for_evict`).
pub fn not_counted(srv: &Server) -> usize {
    let aof = if srv.aof_enabled { srv.persist.aof.log.buf.capacity() } else { 0 };
    aof + crate::persist::repl::buffers_memory(srv)
}

/// Evicts keys until memory is under `maxmemory`. Returns false if it is
/// still over the limit (nothing left to evict, or policy `noeviction`).
/// How long memory stays over is timed from the first pass that leaves it
/// over to the first that does not (INFO's `*_eviction_exceeded_time`).
pub fn perform_evictions(srv: &mut Server) -> bool {
    sync_expand_limit(srv);
    let under = evict(srv);
    srv.stats.eviction_exceeded.update(under);
    under
}

fn evict(srv: &mut Server) -> bool {
    // A replica's data is its master's, which evicts for it and streams
    // the DELs (Redis's `replica-ignore-maxmemory yes`).
    if srv.master.is_some() || !over_limit(srv) {
        return true;
    }
    if srv.config.maxmemory_policy == EvictionPolicy::NoEviction {
        return false;
    }
    let deadline = Instant::now() + Duration::from_millis(50);
    let mut pool: Vec<Candidate> = Vec::with_capacity(POOL_SIZE + 1);
    while over_limit(srv) {
        let Some((db, key)) = pick(srv, &mut pool) else { return false };
        let Some(value) = srv.dbs[db].remove(&key) else { continue };
        srv.stats.evicted_keys += 1;
        srv.touched_key(db, &key);
        srv.notify(None, super::notify::EVICTED, "evicted", &key, db);
        // The AOF and the replicas delete it too (Redis's
        // `propagateDeletion`), or a restart or a replica would keep it.
        crate::persist::propagate::log_deletion(srv, db, &key);
        if srv.config.lazyfree_lazy_eviction {
            srv.lazyfree.free(value);
            // Lazily freed memory only goes away when the thread gets to
            // it; wait for it (bounded) rather than over-evict.
            while srv.lazyfree.pending() > 0 && Instant::now() < deadline {
                std::thread::yield_now();
            }
        } else {
            drop(value);
        }
        if Instant::now() >= deadline {
            // Keep the loop responsive: the next command evicts more.
            return !over_limit(srv);
        }
    }
    // Under the limit when the loop checked. (Another thread may allocate
    // a moment later; that is for the next command to see.)
    true
}

/// Chooses the next key to evict.
fn pick(srv: &mut Server, pool: &mut Vec<Candidate>) -> Option<(usize, Key)> {
    let policy = srv.config.maxmemory_policy;
    let volatile_only = matches!(
        policy,
        EvictionPolicy::VolatileLru
            | EvictionPolicy::VolatileLfu
            | EvictionPolicy::VolatileRandom
            | EvictionPolicy::VolatileTtl
    );
    match policy {
        EvictionPolicy::AllKeysRandom | EvictionPolicy::VolatileRandom => {
            let n = srv.dbs.len();
            let start = (srv.random() % n as u64) as usize;
            for i in 0..n {
                let db = (start + i) % n;
                let Server { dbs, rng, .. } = &mut *srv;
                let mut next = || super::next_random(rng);
                let key = if volatile_only {
                    dbs[db].volatile.random_entry(&mut next).map(|(k, _)| k.clone())
                } else {
                    dbs[db].keys.random_entry(&mut next).map(|(k, _)| k.clone())
                };
                if let Some(k) = key {
                    return Some((db, k));
                }
            }
            None
        }
        _ => {
            populate(srv, pool, volatile_only, policy == EvictionPolicy::VolatileTtl);
            // Best candidate last; it may have been deleted meanwhile.
            while let Some(c) = pool.pop() {
                if srv.dbs[c.db].keys.contains_key(&c.key) {
                    return Some((c.db, c.key));
                }
            }
            None
        }
    }
}

/// Samples every database and merges the samples into `pool`, keeping the
/// [`POOL_SIZE`] best candidates sorted by ascending score.
fn populate(srv: &mut Server, pool: &mut Vec<Candidate>, volatile_only: bool, by_ttl: bool) {
    let samples = srv.config.maxmemory_samples.max(1);
    let clock = srv.lru_clock;
    let lfu = srv.config.lfu();
    let Server { dbs, rng, .. } = &mut *srv;
    let mut next = || super::next_random(rng);
    for (db_index, db) in dbs.iter().enumerate() {
        let mut picked: Vec<(&Key, &i64)> = Vec::new();
        let mut picked_all = Vec::new();
        if volatile_only {
            db.volatile.sample(samples, &mut next, &mut picked);
        } else {
            db.keys.sample(samples, &mut next, &mut picked_all);
        }
        let keys = picked.iter().map(|(k, _)| *k).chain(picked_all.iter().map(|(k, _)| *k));
        for key in keys {
            let Some(e) = db.keys.get(key) else { continue };
            let score = if by_ttl {
                // Nearer deadline first.
                u64::MAX - db.expire_at(key).max(0) as u64
            } else if let Some(p) = lfu {
                // Least frequently used first.
                255 - u64::from(crate::lfu::decayed(e, p.decay_time, crate::lfu::minutes(clock)))
            } else {
                idle_time(clock, e.lru)
            };
            if pool.iter().any(|c| c.db == db_index && *c.key == **key) {
                continue;
            }
            let at = pool.partition_point(|c| c.score < score);
            if pool.len() >= POOL_SIZE {
                if at == 0 {
                    continue;
                }
                pool.remove(0);
                pool.insert(at - 1, Candidate { score, db: db_index, key: key.clone() });
            } else {
                pool.insert(at, Candidate { score, db: db_index, key: key.clone() });
            }
        }
    }
}

/// Seconds since `lru` on a 24-bit wrapping clock.
pub fn idle_time(clock: u32, lru: u32) -> u64 {
    if clock >= lru {
        (clock - lru) as u64
    } else {
        (clock + (1 << 24) - lru) as u64
    }
}

/// The LRU clock `seconds` before `clock`, wrapping as the 24-bit clock
/// does (an idle time longer than the clock's period, 194 days, wraps too,
/// as in Redis).
pub fn lru_before(clock: u32, seconds: u64) -> u32 {
    clock.wrapping_sub((seconds & 0xff_ffff) as u32) & 0xff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_before_inverts_idle_time() {
        for (clock, secs) in [(1000, 10), (5, 10), ((1 << 24) - 1, 0)] {
            assert_eq!(idle_time(clock, lru_before(clock, secs)), secs);
        }
    }

    #[test]
    fn idle_time_wraps_with_the_clock() {
        assert_eq!(idle_time(10, 4), 6);
        assert_eq!(idle_time(2, (1 << 24) - 3), 5);
    }
}
