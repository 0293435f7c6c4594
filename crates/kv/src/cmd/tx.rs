//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's `multi.c`).
//!
//! After MULTI a client's commands are checked (unknown command, arity,
//! NOAUTH) and queued with their arguments copied out of the query buffer;
//! a command that fails those checks flags the transaction, and EXEC then
//! refuses it with EXECABORT. EXEC runs the queue through the ordinary
//! dispatch, each command replying for itself.
//!
//! WATCH is optimistic locking: the server keeps, per database, the
//! watched keys and the clients watching each ([`Watches`]), and every
//! modification ([`Server::touched_key`], called by the write commands and
//! for keys that expire) marks the watchers dirty, so their EXEC replies
//! with a null array. As in Redis 7, a watched key that expires before
//! EXEC also fails it, even if nothing has deleted it yet.

use super::{execute, Called, Command, Ctx, OwnedArgs, FAST, NO_KEYS, NO_MULTI};
use crate::db::Key;
use crate::server::client::Client;
use crate::server::Server;
use std::collections::{HashMap, HashSet};

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $h:expr) => {
        command!("transactions", $name, $arity, $flags, $first, if $first == 0 { 0 } else { -1 }, $first, $h)
    };
}

/// The transaction commands.
pub static COMMANDS: &[Command] = &[
    cmd!("multi", 1, FAST | NO_MULTI | NO_KEYS, 0, multi),
    cmd!("exec", 1, NO_MULTI | NO_KEYS, 0, exec),
    cmd!("discard", 1, FAST | NO_MULTI | NO_KEYS, 0, discard),
    cmd!("watch", -2, FAST | NO_MULTI, 1, watch),
    cmd!("unwatch", 1, FAST | NO_KEYS, 0, unwatch),
];

/// A client's open transaction.
#[derive(Debug, Default)]
pub struct MultiState {
    /// The queued commands (as dispatched: the subcommand resolved) with
    /// their arguments.
    pub queue: Vec<(Called, OwnedArgs)>,
    /// A queued command was refused: EXEC will abort.
    pub aborted: bool,
}

/// One watcher of a key.
#[derive(Debug, Clone, Copy)]
struct Watcher {
    id: u64,
    /// The key had already expired (but was not deleted) when watched.
    expired: bool,
}

/// The watched keys of every database and who watches them.
#[derive(Debug, Default)]
pub struct Watches {
    by_db: Vec<HashMap<Key, Vec<Watcher>>>,
    dirty: HashSet<u64>,
    count: usize,
}

impl Watches {
    fn db(&mut self, db: usize) -> &mut HashMap<Key, Vec<Watcher>> {
        if self.by_db.len() <= db {
            self.by_db.resize_with(db + 1, HashMap::new);
        }
        &mut self.by_db[db]
    }

    /// Whether client `id`'s watched keys were modified.
    pub fn is_dirty(&self, id: u64) -> bool {
        self.dirty.contains(&id)
    }
}

/// The keys one client WATCHes, in WATCH order, with what they cost it.
///
/// Redis 7.0 counts a client's watched keys in its `tot-mem` as a list
/// node and a `watchedKey` (56 bytes) each, but not the key, which it
/// shares with the server's table of watched keys. Here [`memory`] counts
/// what exists for this client only, kept current on every change so it
/// costs nothing to read: its list's slots (the database and an inline
/// [`Key`], 32 bytes), the server's record of it watching each key (16),
/// and the client's own copy of a key too long to be inline. The server's
/// copy of a key is shared by its watchers and not counted, as in Redis.
///
/// [`memory`]: WatchedKeys::memory
#[derive(Debug, Default)]
pub struct WatchedKeys {
    list: Vec<(usize, Key)>,
    /// Heap bytes of the keys in `list` that are not inline.
    key_heap: usize,
}

impl WatchedKeys {
    /// Whether key `key` of database `db` is watched.
    pub fn contains(&self, db: usize, key: &[u8]) -> bool {
        self.list.iter().any(|(d, k)| *d == db && **k == *key)
    }

    /// The watched keys: (database, key), in WATCH order.
    pub fn iter(&self) -> impl Iterator<Item = &(usize, Key)> {
        self.list.iter()
    }

    /// How many keys are watched.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether no key is watched.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The memory the client's watching takes, for its `tot-mem`.
    pub fn memory(&self) -> usize {
        self.list.capacity() * std::mem::size_of::<(usize, Key)>()
            + self.list.len() * std::mem::size_of::<Watcher>()
            + self.key_heap
    }

    fn push(&mut self, db: usize, key: &[u8]) {
        let key = Key::from(key);
        if let Key::Heap(b) = &key {
            self.key_heap += b.len();
        }
        self.list.push((db, key));
    }

    /// Empties the list, giving its memory back.
    fn take(&mut self) -> Vec<(usize, Key)> {
        self.key_heap = 0;
        std::mem::take(&mut self.list)
    }
}

/// Queues a command for `c`'s open transaction and replies QUEUED.
pub fn queue(c: &mut Client, called: Called, args: super::Args<'_>) {
    if let Some(m) = c.multi.as_deref_mut() {
        if !m.aborted {
            m.queue.push((called, args.to_owned()));
        }
    }
    crate::resp::reply::Reply::new(&mut c.out, c.proto).simple("QUEUED");
}

/// Flags `c`'s open transaction (if any) after a refused command, so
/// EXEC aborts (Redis's `flagTransaction`).
pub fn flag_error(c: &mut Client) {
    if let Some(m) = c.multi.as_deref_mut() {
        m.aborted = true;
    }
}

/// Forgets every key `c` watches (UNWATCH, EXEC, DISCARD, disconnect).
pub fn unwatch_all(srv: &mut Server, c: &mut Client) {
    let w = &mut srv.watches;
    for (db, key) in c.watched.take() {
        let map = w.db(db);
        if let Some(list) = map.get_mut(&key) {
            list.retain(|x| x.id != c.id);
            if list.is_empty() {
                map.remove(&key);
            }
        }
        w.count -= 1;
    }
    w.dirty.remove(&c.id);
}

/// Ends `c`'s transaction and its watches (DISCARD, RESET).
pub fn discard_transaction(srv: &mut Server, c: &mut Client) {
    c.multi = None;
    unwatch_all(srv, c);
}

impl Server {
    /// Called whenever a key is modified: marks the clients watching it
    /// dirty, so their EXEC fails.
    pub fn touched_key(&mut self, db: usize, key: &[u8]) {
        // Clients blocked on the key are served after the command.
        self.blocking.signal(db, key);
        if self.watches.count == 0 {
            return;
        }
        let Some(list) = self.watches.by_db.get_mut(db).and_then(|m| m.get_mut(key)) else { return };
        let present = self.dbs.get(db).is_some_and(|d| d.keys.contains_key(key));
        for w in list.iter_mut() {
            if w.expired && !present {
                // Watched when already expired, and now deleted: logically
                // no change (Redis's `touchWatchedKey`).
                w.expired = false;
                continue;
            }
            self.watches.dirty.insert(w.id);
        }
    }

    /// Called before database `db` is emptied (FLUSHDB, FLUSHALL): marks
    /// dirty the watchers of its keys that exist.
    pub fn touched_db(&mut self, db: usize) {
        self.touched_dbs(db, None);
    }

    /// Called before SWAPDB `a` `b`: a watched key in either database is
    /// touched if it exists in either one.
    pub fn touched_swapdb(&mut self, a: usize, b: usize) {
        self.blocking.signal_db(a);
        self.blocking.signal_db(b);
        self.touched_dbs(a, Some(b));
        self.touched_dbs(b, Some(a));
    }

    /// Redis's `touchAllWatchedKeysInDb`: database `db` is emptied, and with
    /// SWAPDB replaced by `other`. A watcher of a key that exists in either
    /// is made dirty, except where nothing changed logically: a key that
    /// had already expired when watched and is now gone (or replaced by
    /// another expired one), or a missing key replaced by an expired one
    /// (which the watcher then counts as watched-while-expired).
    fn touched_dbs(&mut self, db: usize, other: Option<usize>) {
        if self.watches.count == 0 {
            return;
        }
        let now = self.now_ms;
        let dbs = &self.dbs;
        let Watches { by_db, dirty, .. } = &mut self.watches;
        let Some(map) = by_db.get_mut(db) else { return };
        for (key, list) in map.iter_mut() {
            let in_emptied = dbs.get(db).is_some_and(|d| d.keys.contains_key(&**key));
            let replacement = other.and_then(|o| dbs.get(o)).filter(|d| d.keys.contains_key(&**key));
            if !in_emptied && replacement.is_none() {
                continue;
            }
            let replaced_expired = replacement.is_some_and(|d| d.is_expired(key, now));
            for w in list.iter_mut() {
                if w.expired {
                    if replacement.is_none() {
                        w.expired = false;
                        continue;
                    }
                    if replaced_expired {
                        continue;
                    }
                } else if !in_emptied && replaced_expired {
                    w.expired = true;
                    continue;
                }
                dirty.insert(w.id);
            }
        }
    }
}

fn multi(ctx: &mut Ctx<'_>) {
    if ctx.c.multi.is_some() {
        return ctx.error("ERR MULTI calls can not be nested");
    }
    ctx.c.multi = Some(Box::default());
    ctx.ok();
}

fn discard(ctx: &mut Ctx<'_>) {
    if ctx.c.multi.is_none() {
        return ctx.error("ERR DISCARD without MULTI");
    }
    discard_transaction(ctx.srv, ctx.c);
    ctx.ok();
}

fn watch(ctx: &mut Ctx<'_>) {
    if ctx.c.multi.is_some() {
        return ctx.error("ERR WATCH inside MULTI is not allowed");
    }
    let db = ctx.c.db;
    let now = ctx.now_ms();
    for i in 1..ctx.argc() {
        let key = ctx.arg(i);
        if ctx.c.watched.contains(db, key) {
            continue;
        }
        let expired = ctx.srv.dbs[db].is_expired(key, now);
        let id = ctx.c.id;
        ctx.srv.watches.db(db).entry(key.into()).or_default().push(Watcher { id, expired });
        ctx.srv.watches.count += 1;
        ctx.c.watched.push(db, key);
    }
    ctx.ok();
}

fn unwatch(ctx: &mut Ctx<'_>) {
    unwatch_all(ctx.srv, ctx.c);
    ctx.ok();
}

/// Whether a key `c` watches expired since WATCH (Redis 7's
/// `isWatchedKeyExpired`).
fn watched_key_expired(srv: &Server, c: &Client) -> bool {
    let now = srv.now_ms;
    c.watched.iter().any(|(db, key)| {
        let was_expired = srv
            .watches
            .by_db
            .get(*db)
            .and_then(|m| m.get(key))
            .and_then(|l| l.iter().find(|w| w.id == c.id))
            .is_some_and(|w| w.expired);
        !was_expired && srv.dbs[*db].is_expired(key, now)
    })
}

fn exec(ctx: &mut Ctx<'_>) {
    let Some(state) = ctx.c.multi.take() else {
        return ctx.error("ERR EXEC without MULTI");
    };
    let broken = ctx.srv.watches.is_dirty(ctx.c.id) || watched_key_expired(ctx.srv, ctx.c);
    unwatch_all(ctx.srv, ctx.c);
    if state.aborted {
        return ctx.error("EXECABORT Transaction discarded because of previous errors.");
    }
    if broken {
        return ctx.reply().null_array();
    }
    ctx.reply().array_len(state.queue.len());
    // Blocking commands inside the transaction reply at once.
    ctx.c.deny_blocking = true;
    let mark = ctx.srv.persist.aof.log.transaction_mark();
    let repl_mark = ctx.srv.repl.stream.transaction_mark();
    let nested = std::mem::replace(&mut ctx.srv.persist.in_exec, true);
    for &(called, ref args) in &state.queue {
        execute(ctx.srv, ctx.c, called, args.as_args());
    }
    ctx.srv.persist.in_exec = nested;
    ctx.srv.persist.aof.log.wrap_transaction(mark);
    ctx.srv.repl.stream.wrap_transaction(repl_mark);
    ctx.c.deny_blocking = false;
}
