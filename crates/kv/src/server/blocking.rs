//! Blocked clients: BLPOP and friends waiting for a key (Redis's
//! `blocked.c`).
//!
//! A blocking command that finds nothing to pop calls [`block`]: the
//! client's command (its arguments copied), database, keys and deadline
//! are recorded here, the client is flagged `blocked` so its query buffer
//! is not processed further, and it waits in a FIFO queue per
//! `(database, key)`.
//!
//! Every write marks the keys it changes ([`Server::touched_key`]); a
//! changed key with waiters goes on the *ready* list. After each command
//! (and after EXEC as a whole) [`handle_ready`] serves the ready keys: for
//! each, its waiters in the order they blocked, while the key still holds
//! a non-empty value of the type they wait for, the waiter's command runs
//! again (Redis 7.2's re-execution) and now finds something to pop; its
//! reply goes to its buffer and it is queued for writing. A write made by
//! a served command (BLMOVE's push) can make another key ready, which is
//! served in the same pass.
//!
//! A served or timed-out client may have pipelined more commands behind
//! the blocking one: it goes on the *unblocked* list, and before the loop
//! sleeps its remaining input is processed.
//!
//! Deadlines are kept sorted; one loop timer is armed for the earliest,
//! and a client whose deadline passes gets the null array. CLIENT UNBLOCK
//! does the same early (or replies `-UNBLOCKED`), and a blocked client
//! that disconnects is simply forgotten.

use super::client::Client;
use super::{free_client, process_input, unix_ms, Server, Shared};
use crate::cmd::{self, Command, Ctx, OwnedArgs};
use crate::db::{Key, Value};
use crate::resp::reply::Reply;
use spindle_loop::{Loop, TimerId};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::time::Duration;

/// The type of value a blocked client waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// A list (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).
    List,
    /// A sorted set (BZPOPMIN, BZPOPMAX, BZMPOP).
    ZSet,
    /// WAIT: `num` replicas acknowledging the stream up to `offset`. No
    /// key; served by [`serve_acks`] before the loop sleeps.
    Acks {
        /// The client's last write's end in the replication stream.
        offset: u64,
        /// How many replicas it waits for.
        num: i64,
    },
    /// SHUTDOWN waiting for replicas to catch up: no key, no timeout; the
    /// process exits, or [`fail_shutdown_waiters`] answers it.
    Shutdown,
}

/// One blocked client's wait.
#[derive(Debug)]
struct Blocked {
    /// Its slot in the server's client slab.
    slot: usize,
    db: usize,
    /// The keys it waits on, without repeats.
    keys: Vec<Key>,
    /// The command to run again once a key is ready, and its arguments.
    cmd: &'static Command,
    args: OwnedArgs,
    /// Unix ms; `None` waits forever.
    deadline: Option<i64>,
    want: Want,
}

/// The blocked clients, the keys they wait on and the keys made ready.
#[derive(Debug, Default)]
pub struct Blocking {
    /// By client id.
    clients: HashMap<u64, Blocked>,
    /// Per database, the ids waiting on each key, in the order they blocked.
    by_key: Vec<HashMap<Key, VecDeque<u64>>>,
    /// Keys with waiters that changed since the last serving pass.
    ready: VecDeque<(usize, Key)>,
    ready_set: HashSet<(usize, Key)>,
    /// `(deadline, id)`, earliest first.
    timeouts: BTreeSet<(i64, u64)>,
    /// `(slot, id)` of clients unblocked since the loop last slept, whose
    /// pipelined input is still to be processed.
    unblocked: Vec<(usize, u64)>,
    /// CLIENT UNBLOCKs (id, error) aimed at a client that was out of the
    /// slab at the time (in an IO-thread batch); applied before sleeping.
    pending_unblock: Vec<(u64, bool)>,
    /// The loop timer for the earliest deadline, and the deadline it is
    /// armed for.
    timer: Option<TimerId>,
    armed_for: Option<i64>,
}

impl Blocking {
    /// Number of blocked clients.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether no client is blocked.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Whether some changed key has waiters to serve.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Marks `key` in `db` ready if some client waits on it
    /// (`signalKeyAsReady`); [`Server::touched_key`] calls this for every
    /// write.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.clients.is_empty() {
            return;
        }
        if self.by_key.get(db).is_some_and(|m| m.contains_key(key)) {
            let k: Key = key.into();
            if self.ready_set.insert((db, k.clone())) {
                self.ready.push_back((db, k));
            }
        }
    }

    /// Marks every key with waiters in `db` ready (SWAPDB replaced its
    /// contents).
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<Key> = self.by_key.get(db).map(|m| m.keys().cloned().collect()).unwrap_or_default();
        for k in keys {
            self.signal(db, &k);
        }
    }

    fn waiters(&self, db: usize, key: &[u8]) -> Vec<u64> {
        self.by_key.get(db).and_then(|m| m.get(key)).map(|q| q.iter().copied().collect()).unwrap_or_default()
    }

    /// Forgets client `id`'s wait; returns it.
    fn unregister(&mut self, id: u64) -> Option<Blocked> {
        let b = self.clients.remove(&id)?;
        if let Some(map) = self.by_key.get_mut(b.db) {
            for k in &b.keys {
                if let Some(q) = map.get_mut(k) {
                    q.retain(|&x| x != id);
                    if q.is_empty() {
                        map.remove(k);
                    }
                }
            }
        }
        if let Some(d) = b.deadline {
            self.timeouts.remove(&(d, id));
        }
        Some(b)
    }
}

/// Blocks the calling client on the keys at argument indices `keys` until
/// one holds a non-empty value of type `want`, or until `deadline` (Unix
/// ms; `None`: forever). Nothing is replied now.
pub fn block(ctx: &mut Ctx<'_>, keys: Range<usize>, deadline: Option<i64>, want: Want) {
    let (id, db) = (ctx.c.id, ctx.c.db);
    let b = &mut ctx.srv.blocking;
    if b.by_key.len() <= db {
        b.by_key.resize_with(db + 1, HashMap::new);
    }
    let mut list: Vec<Key> = Vec::new();
    for i in keys {
        let k = ctx.args.get(i);
        if list.iter().any(|x| **x == *k) {
            continue;
        }
        b.by_key[db].entry(k.into()).or_default().push_back(id);
        list.push(k.into());
    }
    if let Some(d) = deadline {
        b.timeouts.insert((d, id));
    }
    let args = ctx.args.to_owned();
    b.clients.insert(id, Blocked { slot: ctx.c.slot, db, keys: list, cmd: ctx.cmd, args, deadline, want });
    ctx.c.blocked = true;
    ctx.srv.blocked_clients = ctx.srv.blocking.len();
}

/// Blocks the calling client (WAIT) until `num` replicas acknowledged
/// the replication stream up to `offset`, or until `deadline`; either way
/// it then gets the number that did.
pub fn block_for_acks(ctx: &mut Ctx<'_>, offset: u64, num: i64, deadline: Option<i64>) {
    block(ctx, 0..0, deadline, Want::Acks { offset, num });
    ctx.srv.repl.want_acks = true;
}

/// Replies to every WAIT whose replicas have acknowledged enough
/// (Redis's `processClientsWaitingReplicas`).
pub fn serve_acks(srv: &mut Server) {
    let done: Vec<(u64, usize)> = srv
        .blocking
        .clients
        .iter()
        .filter_map(|(&id, b)| match b.want {
            Want::Acks { offset, num } => {
                let n = srv.repl.acked(offset);
                (n as i64 >= num).then_some((id, n))
            }
            _ => None,
        })
        .collect();
    for (id, n) in done {
        let Some(slot) = srv.blocking.clients.get(&id).map(|b| b.slot) else { continue };
        if !available(srv, None, slot, id) {
            continue;
        }
        let Some(b) = srv.blocking.unregister(id) else { continue };
        srv.blocked_clients = srv.blocking.len();
        if let Some(mut c) = take_client(srv, b.slot, id) {
            c.blocked = false;
            let start = begin_late_reply(&mut c);
            Reply::new(&mut c.out, c.proto).int(n as i64);
            end_late_reply(&mut c, start);
            finish(srv, b.slot, c);
        }
    }
}

/// Blocks the calling client (SHUTDOWN) until the shutdown that waits for
/// replicas ends (see [`crate::server::shutdown`]).
pub fn block_for_shutdown(ctx: &mut Ctx<'_>) {
    block(ctx, 0..0, None, Want::Shutdown);
}

/// A shutdown was cancelled or failed: every client blocked in SHUTDOWN
/// gets Redis's error (`replyToClientsBlockedOnShutdown`).
pub fn fail_shutdown_waiters(srv: &mut Server) {
    let ids: Vec<u64> =
        srv.blocking.clients.iter().filter(|(_, b)| b.want == Want::Shutdown).map(|(&id, _)| id).collect();
    for id in ids {
        unblock_with_error(srv, id, "ERR Errors trying to SHUTDOWN. Check logs.", false);
    }
}

/// Unblocks client `id` with error `msg`, closing it after the reply
/// when `close`.
fn unblock_with_error(srv: &mut Server, id: u64, msg: &str, close: bool) {
    let Some(b) = srv.blocking.unregister(id) else { return };
    srv.blocked_clients = srv.blocking.len();
    let Some(mut c) = take_client(srv, b.slot, id) else { return };
    c.blocked = false;
    let start = begin_late_reply(&mut c);
    Reply::new(&mut c.out, c.proto).error(msg);
    end_late_reply(&mut c, start);
    c.close_after_reply |= close;
    finish(srv, b.slot, c);
}

/// What `key` holds, for serving: `None` when nothing can be popped from
/// it (missing, empty, or a type nobody blocks on).
fn holds(srv: &mut Server, db: usize, key: &[u8]) -> Option<Want> {
    let now = srv.now_ms;
    match &srv.dbs[db].get_mut(key, now)?.value {
        Value::List(l) if !l.is_empty() => Some(Want::List),
        Value::ZSet(z) if !z.is_empty() => Some(Want::ZSet),
        _ => None,
    }
}

/// Serves the clients blocked on every ready key (`handleClientsBlockedOnKeys`).
/// `cur` is the client whose command just ran (not in the slab), if any.
///
/// A waiter that is momentarily out of the slab (its input is being
/// processed in the same IO-thread batch) keeps its place: the key stays
/// ready and is served again before the loop sleeps.
pub fn handle_ready(srv: &mut Server, mut cur: Option<&mut Client>) {
    let mut deferred = Vec::new();
    while let Some((db, key)) = srv.blocking.ready.pop_front() {
        srv.blocking.ready_set.remove(&(db, key.clone()));
        srv.refresh_now();
        for id in srv.blocking.waiters(db, &key) {
            let Some((want, slot)) = srv.blocking.clients.get(&id).map(|b| (b.want, b.slot)) else {
                continue;
            };
            match holds(srv, db, &key) {
                None => break,
                Some(w) if w != want => continue,
                Some(_) if !available(srv, cur.as_deref(), slot, id) => {
                    deferred.push((db, key.clone()));
                    break;
                }
                Some(_) => serve(srv, cur.as_deref_mut(), id, &key),
            }
        }
    }
    for (db, key) in deferred {
        if srv.blocking.ready_set.insert((db, key.clone())) {
            srv.blocking.ready.push_back((db, key));
        }
    }
}

/// Whether client `id` can be reached now: it is `cur`, or in its slot.
fn available(srv: &Server, cur: Option<&Client>, slot: usize, id: u64) -> bool {
    cur.is_some_and(|c| c.id == id)
        || srv.clients.get(slot).and_then(Option::as_ref).is_some_and(|c| c.id == id)
}

/// Unblocks client `id` and runs its command again, now that `key`, one
/// of its keys, can serve it: on that key alone, as Redis 7.0 serves a
/// blocked client from the key that became ready (not from an earlier key
/// of its list that may since hold data, or another type).
fn serve(srv: &mut Server, cur: Option<&mut Client>, id: u64, key: &[u8]) {
    let Some(mut b) = srv.blocking.unregister(id) else { return };
    srv.blocked_clients = srv.blocking.len();
    b.args = narrow_to_key(b.cmd.name, &b.args, key);
    let mut cur = cur;
    if let Some(c) = cur.take_if(|c| c.id == id) {
        c.blocked = false;
        let start = begin_late_reply(c);
        cmd::execute_unblocked(srv, c, b.cmd, b.args.as_args());
        end_late_reply(c, start);
        return;
    }
    let Some(mut c) = take_client(srv, b.slot, id) else { return };
    c.blocked = false;
    let start = begin_late_reply(&mut c);
    cmd::execute_unblocked(srv, &mut c, b.cmd, b.args.as_args());
    end_late_reply(&mut c, start);
    finish(srv, b.slot, c);
    // What serving it published for the client whose command woke it.
    if let Some(cur) = cur {
        srv.deliver_detached(cur);
    }
    srv.detached_pushes.clear();
}

/// A blocking command's arguments with its list of keys cut to `key`.
fn narrow_to_key(name: &str, args: &OwnedArgs, key: &[u8]) -> OwnedArgs {
    let a = args.as_args();
    let n = a.len();
    match name {
        "blpop" | "brpop" | "bzpopmin" | "bzpopmax" if n >= 3 => {
            OwnedArgs::from_slices([a.get(0), key, a.get(n - 1)])
        }
        "blmpop" | "bzmpop" => {
            let numkeys = crate::util::num::parse_i64(a.get(2)).unwrap_or(0).max(0) as usize;
            if 3 + numkeys > n {
                return OwnedArgs::from_slices(a.iter());
            }
            let head = [a.get(0), a.get(1), b"1".as_slice(), key];
            OwnedArgs::from_slices(head.into_iter().chain(a.iter().skip(3 + numkeys)))
        }
        _ => OwnedArgs::from_slices(a.iter()),
    }
}

/// Before a blocked client's reply is written: where it starts, with a
/// skip the client asked for before blocking in force again.
fn begin_late_reply(c: &mut Client) -> usize {
    c.reply_skip = std::mem::take(&mut c.skip_blocked_reply);
    c.out.len()
}

/// After it: CLIENT REPLY OFF or SKIP discards it, as they would have at
/// once (pub/sub pushes among it stay).
fn end_late_reply(c: &mut Client, start: usize) {
    if c.reply_off || c.reply_skip {
        c.silence_reply(start);
    }
    c.pushes.clear();
    c.reply_skip = false;
}

/// Takes client `id` out of slot `slot`, if it is there.
impl Blocking {
    /// Queues the client at `slot` (if it is still `id`) to have its
    /// pending input processed before the loop sleeps.
    pub(crate) fn resume(&mut self, slot: usize, id: u64) {
        self.unblocked.push((slot, id));
    }
}

fn take_client(srv: &mut Server, slot: usize, id: u64) -> Option<Box<Client>> {
    let c = srv.clients.get_mut(slot)?.take()?;
    if c.id != id {
        srv.clients[slot] = Some(c);
        return None;
    }
    Some(c)
}

/// Puts an unblocked client back, queued for writing and for processing
/// the rest of its input.
fn finish(srv: &mut Server, slot: usize, mut c: Box<Client>) {
    srv.queue_write(slot, &mut c);
    srv.blocking.unblocked.push((slot, c.id));
    srv.clients[slot] = Some(c);
}

/// Unblocks client `id` without serving it: with the timeout reply (the
/// null array), or with `-UNBLOCKED` when `error` (CLIENT UNBLOCK ...
/// ERROR). Returns whether it was blocked.
pub fn unblock_client(srv: &mut Server, id: u64, error: bool) -> bool {
    // A SHUTDOWN waiting for replicas ends with the shutdown only.
    let Some(slot) = srv.blocking.clients.get(&id).filter(|b| b.want != Want::Shutdown).map(|b| b.slot)
    else {
        return false;
    };
    if !available(srv, None, slot, id) {
        srv.blocking.pending_unblock.push((id, error));
        return true;
    }
    let Some(b) = srv.blocking.unregister(id) else { return false };
    srv.blocked_clients = srv.blocking.len();
    if let Some(mut c) = take_client(srv, b.slot, id) {
        c.blocked = false;
        let start = begin_late_reply(&mut c);
        let mut r = Reply::new(&mut c.out, c.proto);
        if error {
            const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
            r.error(UNBLOCKED);
            // Blocking commands have no subcommands: the name is the slot.
            if let Some(&slot) = crate::cmd::registry::named(b.cmd.name.as_bytes()).first() {
                srv.stats.cmd.failed_after_block(slot, UNBLOCKED.as_bytes());
            }
        } else if let Want::Acks { offset, .. } = b.want {
            // A WAIT that timed out says how many replicas did acknowledge.
            let n = srv.repl.acked(offset);
            r.int(n as i64);
        } else {
            r.null_array();
        }
        end_late_reply(&mut c, start);
        finish(srv, b.slot, c);
    }
    true
}

/// REPLICAOF turned this server into a replica: every blocked client is
/// unblocked with Redis's error and closed after it (its wait was for a
/// master's data, which a replica may not change).
pub fn disconnect_all_blocked(srv: &mut Server) {
    const MSG: &str =
        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";
    let ids: Vec<u64> = srv.blocking.clients.keys().copied().collect();
    for id in ids {
        unblock_with_error(srv, id, MSG, true);
    }
}

/// Forgets a client that disconnects while blocked.
pub fn remove_client(srv: &mut Server, c: &mut Client) {
    if c.blocked {
        srv.blocking.unregister(c.id);
        srv.blocked_clients = srv.blocking.len();
        c.blocked = false;
    }
}

/// Unblocks, with the null array, every client whose deadline has passed.
pub fn expire_timeouts(srv: &mut Server) {
    let now = srv.now_ms;
    while let Some(&(deadline, id)) = srv.blocking.timeouts.first() {
        if deadline > now {
            break;
        }
        srv.blocking.timeouts.pop_first();
        unblock_client(srv, id, false);
    }
}

/// The before-sleep step: times out clients, serves keys made ready
/// outside a command (the cron), processes the pipelined input of clients
/// unblocked since the last sleep (which may unblock more), and arms the
/// timer for the next deadline.
pub(super) fn before_sleep(lp: &mut Loop, shared: &Shared, srv: &mut Server) {
    for (id, error) in std::mem::take(&mut srv.blocking.pending_unblock) {
        unblock_client(srv, id, error);
    }
    expire_timeouts(srv);
    if srv.blocked_clients > 0 {
        serve_acks(srv);
    }
    loop {
        handle_ready(srv, None);
        let list = std::mem::take(&mut srv.blocking.unblocked);
        if list.is_empty() {
            break;
        }
        for (slot, id) in list {
            let Some(mut c) = take_client(srv, slot, id) else { continue };
            if !c.blocked && (c.pending_query() > 0 || c.preparsed.is_some() || c.held.is_some()) {
                process_input(srv, &mut c);
            }
            if c.close_asap || (c.close_after_reply && c.pending_output() == 0) {
                free_client(lp, srv, slot, c);
                continue;
            }
            srv.queue_write(slot, &mut c);
            srv.clients[slot] = Some(c);
        }
    }
    arm_timer(lp, shared, srv);
}

/// Arms (or stops) the loop timer for the earliest deadline.
fn arm_timer(lp: &mut Loop, shared: &Shared, srv: &mut Server) {
    let next = srv.blocking.timeouts.first().map(|&(d, _)| d);
    if next == srv.blocking.armed_for {
        return;
    }
    let t = *srv.blocking.timer.get_or_insert_with(|| {
        let t = lp.timer_new();
        lp.unref(t.handle());
        t
    });
    srv.blocking.armed_for = next;
    match next {
        None => lp.timer_stop(t),
        Some(d) => {
            let wait = Duration::from_millis((d - unix_ms()).max(0) as u64 + 1);
            let s = shared.clone();
            let armed = lp.timer_start(t, wait, None, move |_, _| {
                let mut g = s.borrow_mut();
                g.blocking.armed_for = None;
                g.refresh_clock();
                expire_timeouts(&mut g);
            });
            if armed.is_err() {
                // A deadline too far for the loop clock: the cron's
                // before-sleep passes still check it.
                srv.blocking.armed_for = None;
            }
        }
    }
}
