//! Client eviction (`maxmemory-clients`), as Redis 7.0 does it: when the
//! clients together use more memory than the limit, the clients using the
//! most are closed, largest first, until the total is under it again.
//!
//! **What counts.** A client's memory is [`client_memory`], the CLIENT
//! LIST `tot-mem` figure, which adds up what Redis's
//! `getClientMemoryUsage` does: the query and reply buffers, the argument
//! list, the queued transaction, the watched keys, the pub/sub
//! subscriptions and a fixed overhead. So a client is evicted for piling
//! up WATCHed keys or subscriptions as for a big buffer, as in Redis.
//! Every client counts towards the total, as every client here is of
//! Redis's `normal` or `pubsub` type (a monitor is `normal` to Redis); a
//! client with CLIENT NO-EVICT on counts but is never chosen (Redis's
//! `clientEvictionAllowed`). A monitor is not exempt: Redis 7.0 does not
//! exempt it either.
//!
//! **The running total.** Each client remembers the figure it last added
//! to [`Server::clients_mem`] ([`Client::tracked_mem`]); [`track`] swaps
//! the old figure for a fresh one and [`forget`] takes it out when the
//! client is freed. The invariant, *`clients_mem` is the sum of
//! `tracked_mem` over the live clients*, holds whether eviction is on or
//! off, so turning it on only needs every figure refreshed ([`resync`]),
//! never a recount. Figures are refreshed where a client's buffers change,
//! as Redis's `updateClientMemUsageAndBucket` is called: after its input
//! is processed (WATCH and SUBSCRIBE are commands, so that covers them),
//! after a reply is written, and by the clients cron (which also catches
//! buffers that shrank while idle). Output a client gets from elsewhere
//! (a PUBLISH, a served BLPOP) queues it for writing, and the before-sleep
//! write refreshes it.
//!
//! **When the check runs.** [`check`] runs after a client's input is
//! processed and at the end of before-sleep (Redis's `evictClients`, from
//! `processCommand` and `beforeSleep`). With `maxmemory-clients` at 0 (the
//! default) [`track`] and [`check`] are one compare and branch each; no
//! client is measured and nothing is summed. When on, a check under the
//! limit is a comparison of the running total; only a check over it walks
//! the clients (to refresh their figures and pick the largest), which is
//! what an eviction costs anyway.
//!
//! An evicted client is closed at once, as CLIENT KILL closes it, its
//! unwritten reply dropped: a client that pushed the total over the limit
//! with its own command gets no reply to it.

use super::client::Client;
use super::config::Config;
use super::{free_client, Server};
use crate::cmd::client::{client_line, client_memory};
use spindle_loop::Loop;

/// The smallest limit Redis applies, whatever is configured (128 KiB, from
/// `getClientEvictionLimit`): a lower one would leave no room to talk to
/// the server at all.
const MIN_LIMIT: usize = 128 * 1024;

/// The limit in bytes that `maxmemory-clients` gives (Redis's
/// `getClientEvictionLimit`), or 0 for none: 0 when the option is 0, N% of
/// `maxmemory` for a percentage (none if `maxmemory` is 0), and never less
/// than 128 KiB.
pub fn limit(config: &Config) -> usize {
    let bytes = match config.maxmemory_clients {
        0 => return 0,
        n if n < 0 && config.maxmemory == 0 => return 0,
        n if n < 0 => (config.maxmemory as f64 * (-n) as f64 / 100.0) as u64,
        n => n as u64,
    };
    usize::try_from(bytes).unwrap_or(usize::MAX).max(MIN_LIMIT)
}

/// Refreshes `c`'s share of the running total, if eviction is on; a
/// single branch when it is off.
#[inline]
pub fn track(srv: &mut Server, c: &mut Client) {
    if srv.config.maxmemory_clients != 0 {
        refresh(srv, c);
    }
}

/// Swaps `c`'s old figure in the running total for its current memory.
fn refresh(srv: &mut Server, c: &mut Client) {
    let now = client_memory(c);
    debug_assert!(srv.clients_mem >= c.tracked_mem, "the running total lost a client's figure");
    srv.clients_mem = srv.clients_mem.saturating_sub(c.tracked_mem) + now;
    c.tracked_mem = now;
}

/// Takes a client being freed out of the running total.
pub fn forget(srv: &mut Server, c: &Client) {
    debug_assert!(srv.clients_mem >= c.tracked_mem, "the running total lost a client's figure");
    srv.clients_mem = srv.clients_mem.saturating_sub(c.tracked_mem);
}

/// Refreshes every client's figure, `current` (the client running a
/// command, out of the slab meanwhile) included: after `CONFIG SET` of
/// `maxmemory-clients` or `maxmemory`, so figures left stale while
/// eviction was off are right before the next [`check`].
pub fn resync(srv: &mut Server, current: &mut Client) {
    if srv.config.maxmemory_clients == 0 {
        return;
    }
    refresh(srv, current);
    refresh_all(srv);
}

/// Refreshes the figure of every client in the slab.
fn refresh_all(srv: &mut Server) {
    for slot in 0..srv.clients.len() {
        if let Some(mut c) = srv.clients[slot].take() {
            refresh(srv, &mut c);
            srv.clients[slot] = Some(c);
        }
    }
}

/// Evicts clients if the running total has reached the limit; a single
/// branch when eviction is off. Every client must be in the slab.
#[inline]
pub fn check(lp: &mut Loop, srv: &mut Server) {
    if srv.config.maxmemory_clients != 0 {
        let limit = limit(&srv.config);
        if limit != 0 && srv.clients_mem >= limit {
            evict(lp, srv, limit);
        }
    }
}

/// Closes the clients using the most memory, largest first, until the
/// total is under `limit` (Redis's `evictClients`, which keeps its `>=`).
fn evict(lp: &mut Loop, srv: &mut Server, limit: usize) {
    // Figures may be stale (a buffer shrank since): refresh them all
    // first, so the choice is by current size and nobody is evicted for
    // memory already given back.
    refresh_all(srv);
    if srv.clients_mem < limit {
        return;
    }
    let mut candidates: Vec<(usize, usize)> = srv
        .clients
        .iter()
        .enumerate()
        .filter_map(|(slot, c)| c.as_ref().filter(|c| !c.no_evict).map(|c| (c.tracked_mem, slot)))
        .collect();
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    let mut largest = candidates.into_iter();
    while srv.clients_mem >= limit {
        let Some((_, slot)) = largest.next() else {
            tracing::warn!("Over client maxmemory after evicting all evictable clients");
            break;
        };
        let Some(c) = srv.clients[slot].take() else { continue };
        tracing::info!("Evicting client: {}", client_line(srv, &c, None));
        srv.stats.evicted_clients += 1;
        free_client(lp, srv, slot, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_follows_get_client_eviction_limit() {
        let mut c = Config::default();
        assert_eq!(limit(&c), 0, "0 is off");
        c.maxmemory_clients = 10 << 20;
        assert_eq!(limit(&c), 10 << 20);
        c.maxmemory_clients = 1000;
        assert_eq!(limit(&c), MIN_LIMIT, "never under 128 KiB");
        c.maxmemory_clients = -7;
        assert_eq!(limit(&c), 0, "a percentage of no maxmemory is off");
        c.maxmemory = 6 << 20;
        assert_eq!(limit(&c), (6 << 20) * 7 / 100);
    }
}
