//! The keyspace: numbered databases of keys, each with a value, an optional
//! expiry time and an access clock.
//!
//! Expiry works as in Redis, in two halves:
//!
//! - **lazily**: every lookup checks the key's deadline and deletes a key
//!   that has passed it before anyone sees it;
//! - **actively**: a timer samples keys that have a deadline (they are also
//!   indexed in [`Db::volatile`]) and deletes the expired ones, repeating
//!   while many in a sample were expired (see `server::expire`).
//!
//! A key deleted because it expired is recorded in [`Db::expired_log`] so the
//! server can propagate a `DEL` to the append-only file and publish the
//! `expired` keyspace event after the command.

use crate::dict::Dict;
use crate::types::hash::HashValue;
use crate::types::list::ListValue;
use crate::types::set::SetValue;
use crate::types::zset::ZSetValue;

pub use crate::key::Key;
pub use string::{Str, EMBSTR_MAX, STR_INLINE_MAX};

mod string;

/// The reply Redis gives when a command meets a value of another type.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A value of one of Redis's types.
#[derive(Debug)]
pub enum Value {
    /// A string.
    Str(Str),
    /// A list.
    List(Box<ListValue>),
    /// A hash.
    Hash(Box<HashValue>),
    /// A set.
    Set(Box<SetValue>),
    /// A sorted set.
    ZSet(Box<ZSetValue>),
}

impl Value {
    /// `DEBUG HTSTATS-KEY`'s report on the value's hash table, `None` for
    /// an encoding without one (strings, lists, the compact encodings).
    pub fn ht_stats(&self) -> Option<String> {
        match self {
            Value::Hash(h) => h.ht_stats(),
            Value::Set(s) => s.ht_stats(),
            Value::ZSet(z) => z.ht_stats(),
            Value::Str(_) | Value::List(_) => None,
        }
    }

    /// One incremental rehash step of the value's hash table, if it has one
    /// and it is resizing. Redis's `dict` takes a step on every lookup and
    /// random pick, not only on writes, so a table that a write began to
    /// resize finishes under reads alone (SISMEMBER, SRANDMEMBER, HGET,
    /// ZSCORE ...) and frees its old bucket array; the command path calls
    /// this on each read of a hash, set or sorted set.
    pub fn rehash_step(&mut self) {
        match self {
            Value::Hash(h) => h.rehash_step(),
            Value::Set(s) => s.rehash_step(),
            Value::ZSet(z) => z.rehash_step(),
            Value::Str(_) | Value::List(_) => {}
        }
    }

    /// The name TYPE replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// Redis's name for the encoding (OBJECT ENCODING).
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// An independent copy with the same encoding (COPY).
    pub fn deep_clone(&self) -> Value {
        match self {
            Value::Str(s) => Value::Str(s.clone()),
            Value::List(l) => Value::List(l.clone()),
            Value::Hash(h) => Value::Hash(h.clone()),
            Value::Set(s) => Value::Set(s.clone()),
            Value::ZSet(z) => Value::ZSet(z.clone()),
        }
    }

    /// An estimate of the bytes the value occupies (MEMORY USAGE): the
    /// value's header plus its heap contents, from each type's own
    /// `memory_usage`.
    pub fn memory_usage(&self) -> usize {
        /// Redis's object header (`robj`).
        const ROBJ: usize = 16;
        match self {
            Value::Str(Str::Int(_)) => ROBJ,
            // Redis's `embstr`: the header, the string and its NUL in one
            // block. An inline string is counted the same: the answer is
            // Redis's for the same value, whichever way it is held here.
            Value::Str(s @ (Str::Inline(..) | Str::Emb(_))) => ROBJ + 3 + s.len() + 1,
            Value::Str(Str::Raw(v)) => ROBJ + 24 + 9 + v.capacity().max(v.len()),
            Value::Hash(h) => ROBJ + h.memory_usage(),
            Value::Set(s) => ROBJ + s.memory_usage(),
            Value::List(l) => ROBJ + l.memory_usage(),
            Value::ZSet(z) => ROBJ + z.memory_usage(),
        }
    }

    /// Elements in an aggregate (1 for a string): decides whether freeing
    /// it is worth a trip to the lazy-free thread.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
        }
    }
}

/// One key's slot: its value and access clock. The deadline, if any, lives
/// in [`Db::volatile`] (Redis's `db->expires`), so the common key without
/// one does not pay 8 bytes for it: with a 24-byte inline [`Key`] and the
/// dict's link, a key's node is exactly 64 bytes.
#[derive(Debug)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// The LRU clock (seconds, wrapping) of the last access: OBJECT
    /// IDLETIME and LRU eviction read it.
    pub lru: u32,
    /// Whether the key has a deadline in [`Db::volatile`].
    volatile: bool,
    /// The LFU access counter (logarithmic; see [`crate::lfu`]), kept while
    /// an LFU policy is in force. It lives in what would be padding.
    pub lfu_counter: u8,
    /// The LFU clock (minutes, wrapping) when the counter was last decayed.
    pub lfu_time: u16,
}

/// The deadline of a key that does not expire.
pub const NO_EXPIRE: i64 = -1;

impl Entry {
    /// An entry without a deadline.
    pub fn new(value: Value, lru: u32) -> Entry {
        Entry {
            value,
            lru,
            volatile: false,
            lfu_counter: crate::lfu::LFU_INIT_VAL,
            lfu_time: crate::lfu::minutes(lru),
        }
    }

    /// Whether the key has a deadline.
    pub fn has_ttl(&self) -> bool {
        self.volatile
    }
}

/// One numbered database (SELECT n).
#[derive(Debug)]
pub struct Db {
    /// Its number.
    pub id: usize,
    /// Every key.
    pub keys: Dict<Key, Entry>,
    /// The deadline (Unix ms) of every key that has one: what lazy expiry
    /// checks and the active expiry cycle samples.
    pub volatile: Dict<Key, i64>,
    /// Keys removed by lazy expiry since the server last drained the log.
    pub expired_log: Vec<Key>,
    /// Raised when a key is logged as expired; shared by all databases of
    /// a server, so checking for expired keys after each command is one
    /// load rather than a visit to every database.
    pub expired_flag: std::rc::Rc<std::cell::Cell<bool>>,
    /// Keys created since the server last drained the log; `None` unless
    /// the `new` keyspace event is enabled.
    pub new_log: Option<Vec<Key>>,
    /// The LFU parameters while an LFU policy is in force (then every
    /// lookup but [`Db::peek_mut`] counts an access); shared by all
    /// databases of a server, which sets it from its config.
    pub lfu: std::rc::Rc<std::cell::Cell<Option<crate::lfu::LfuParams>>>,
    /// Set while CLIENT PAUSE is in force: an expired key reads as missing
    /// but is not deleted, and the expire cycle does not run (Redis 7.0,
    /// so a failover during the pause loses no key); shared by all
    /// databases of a server.
    pub expire_paused: std::rc::Rc<std::cell::Cell<bool>>,
    /// Set while the AOF loads: no key expires, as Redis's `keyIsExpired`
    /// answers no while loading. A replayed command then sees the key as
    /// it was when the command first ran (an INCR after a deadline that
    /// has passed since adds to the counter that carries the deadline, and
    /// does not make a new counter without one); keys past their deadline
    /// expire once loading is done. Shared by all databases of a server.
    pub expire_off: std::rc::Rc<std::cell::Cell<bool>>,
    /// Set while a writable replica runs one of its own clients' writes:
    /// keys given a deadline are noted in [`Db::ttl_log`], for the replica
    /// to expire them itself (its master never will). Shared by all
    /// databases of a server.
    pub track_ttl: std::rc::Rc<std::cell::Cell<bool>>,
    /// Keys given a deadline while [`Db::track_ttl`] was set.
    pub ttl_log: Vec<Key>,
    /// INFO keyspace's `avg_ttl` (ms): a running average of the time
    /// left on the keys the active expiry cycle samples, 0 when no key
    /// has a deadline (Redis's `db->avg_ttl`).
    pub avg_ttl: i64,
    /// State of the random numbers LFU increments draw.
    lfu_rng: u64,
}

/// A uniform draw in `[0, 1)` from a xorshift64* state.
fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
}

/// An empty keyspace table: it grows only as `maxmemory` allows (see
/// [`crate::server::evict::keyspace_may_expand`]).
fn keyspace_dict<V>() -> Dict<Key, V> {
    let mut d = Dict::new();
    d.set_expand_guard(crate::server::evict::keyspace_may_expand);
    d
}

impl Db {
    /// An empty database numbered `id`.
    pub fn new(id: usize) -> Db {
        Db {
            id,
            keys: keyspace_dict(),
            volatile: keyspace_dict(),
            expired_log: Vec::new(),
            expired_flag: Default::default(),
            new_log: None,
            lfu: Default::default(),
            expire_paused: Default::default(),
            expire_off: Default::default(),
            track_ttl: Default::default(),
            ttl_log: Vec::new(),
            avg_ttl: 0,
            lfu_rng: 0x2545_f491_4f6c_dd1d ^ id as u64,
        }
    }

    /// Keys in the database, expired ones not yet removed included (DBSIZE).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the database has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The deadline of `key` in Unix ms, or [`NO_EXPIRE`] (expired or not).
    pub fn expire_at(&self, key: &[u8]) -> i64 {
        if self.volatile.is_empty() {
            return NO_EXPIRE;
        }
        self.volatile.get(key).copied().unwrap_or(NO_EXPIRE)
    }

    /// Whether `key`'s deadline has passed, removing it if so, except
    /// while clients are paused (see [`Db::expire_paused`]).
    fn expire_if_needed(&mut self, key: &[u8], now_ms: i64) -> bool {
        // Most datasets have few keys with a deadline; with none, a lookup
        // costs one probe of the key table and nothing more.
        if self.volatile.is_empty() {
            return false;
        }
        match self.volatile.get(key) {
            Some(&at) if at <= now_ms => {}
            _ => return false,
        }
        if self.expire_off.get() {
            return false;
        }
        if self.expire_paused.get() {
            return true;
        }
        self.volatile.remove(key);
        if let Some((k, _)) = self.keys.remove(key) {
            self.expired_log.push(k);
            self.expired_flag.set(true);
        }
        true
    }

    /// Whether `key` exists and its deadline has passed at `now_ms`
    /// (without deleting it).
    pub fn is_expired(&self, key: &[u8], now_ms: i64) -> bool {
        let at = self.expire_at(key);
        at != NO_EXPIRE && at <= now_ms && !self.expire_off.get() && self.keys.contains_key(key)
    }

    /// The live entry of `key`, deleting it first if it has expired. Under
    /// an LFU policy this counts an access.
    pub fn get(&mut self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        self.get_mut(key, now_ms).map(|e| &*e)
    }

    /// The live entry of `key` for writing. Under an LFU policy this counts
    /// an access (Redis's `lookupKey` without LOOKUP_NOTOUCH).
    pub fn get_mut(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now_ms) {
            return None;
        }
        let Some(params) = self.lfu.get() else { return self.keys.get_mut(key) };
        let r = next_unit(&mut self.lfu_rng);
        let e = self.keys.get_mut(key)?;
        let now = crate::lfu::minutes(crate::server::lru_clock_of(now_ms));
        crate::lfu::touch(e, params, now, r);
        Some(e)
    }

    /// The live entry of `key` for writing, as [`get_mut`](Self::get_mut),
    /// or, if there is none, a new entry holding `make()` (logged as new,
    /// as [`insert_new`](Self::insert_new) does); and whether it is new.
    /// One hash of the key either way.
    pub fn get_mut_or_insert(
        &mut self,
        key: &[u8],
        now_ms: i64,
        lru: u32,
        make: impl FnOnce() -> Value,
    ) -> (&mut Entry, bool) {
        if self.expire_if_needed(key, now_ms) && self.expire_paused.get() {
            // Found expired but kept (clients are paused): replaced now.
            return (self.insert_new(key, make(), lru), true);
        }
        let Db { keys, new_log, lfu, lfu_rng, .. } = self;
        let (e, created) = keys.get_mut_or_insert(key, || key.into(), || Entry::new(make(), lru));
        if created {
            if let Some(log) = new_log.as_mut() {
                log.push(key.into());
            }
        } else if let Some(params) = lfu.get() {
            let now = crate::lfu::minutes(crate::server::lru_clock_of(now_ms));
            crate::lfu::touch(e, params, now, next_unit(lfu_rng));
        }
        (e, created)
    }

    /// The live entry of `key` without counting an access (Redis's
    /// LOOKUP_NOTOUCH: TYPE, EXISTS, TTL, OBJECT, MEMORY USAGE ...).
    pub fn peek_mut(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now_ms) {
            return None;
        }
        self.keys.get_mut(key)
    }

    /// Whether `key` exists and is live.
    pub fn contains(&mut self, key: &[u8], now_ms: i64) -> bool {
        self.get(key, now_ms).is_some()
    }

    /// Stores `value` under `key`, replacing any value and clearing any
    /// deadline (SET without KEEPTTL). Returns the old value, if any.
    pub fn set(&mut self, key: &[u8], value: Value, lru: u32) -> Option<Value> {
        self.store(key, value, lru, false)
    }

    /// Stores `value`, keeping the key's deadline if it has one (KEEPTTL,
    /// and commands that modify a value in place).
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value, lru: u32) -> Option<Value> {
        self.store(key, value, lru, true)
    }

    /// [`set`](Self::set) and [`set_keep_ttl`](Self::set_keep_ttl): one
    /// hash of the key, which is allocated only when new.
    fn store(&mut self, key: &[u8], value: Value, lru: u32, keep_ttl: bool) -> Option<Value> {
        let mut value = Some(value);
        let make = || Entry::new(value.take().expect("made once"), lru);
        let (e, created) = self.keys.get_mut_or_insert(key, || key.into(), make);
        if created {
            self.log_new(key);
            return None;
        }
        if e.volatile && !keep_ttl {
            e.volatile = false;
            self.volatile.remove(key);
        }
        e.lru = lru;
        Some(std::mem::replace(&mut e.value, value.take().expect("not made")))
    }

    /// What a write that replaces `key`'s value whatever it holds (a plain
    /// SET) needs of Redis's `lookupKeyWrite`: an expired key is deleted
    /// (and its expiry logged) first. With no LFU policy there is no
    /// access to count, so only the deadline table is consulted (and only
    /// if it holds any key): the key table is probed once, by the write.
    /// Returns whether the lookup can be skipped; if not, the caller looks
    /// the key up as before.
    pub fn prepare_overwrite(&mut self, key: &[u8], now_ms: i64) -> bool {
        if self.lfu.get().is_some() {
            return false;
        }
        self.expire_if_needed(key, now_ms);
        true
    }

    /// Inserts an entry for a key known to be absent (after a lookup).
    pub fn insert_new(&mut self, key: &[u8], value: Value, lru: u32) -> &mut Entry {
        // The lookup may have found it expired but kept it (clients are
        // paused): the write replaces it now.
        if self.expire_paused.get() {
            if let Some((k, _)) = self.keys.remove(key) {
                self.volatile.remove(key);
                self.expired_log.push(k);
                self.expired_flag.set(true);
            }
        }
        self.log_new(key);
        self.keys.get_mut_or_insert(key, || key.into(), || Entry::new(value, lru)).0
    }

    fn log_new(&mut self, key: &[u8]) {
        if let Some(log) = self.new_log.as_mut() {
            log.push(key.into());
        }
    }

    /// Removes `key`, live or not; returns its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let (_, e) = self.keys.remove(key)?;
        if e.volatile {
            self.volatile.remove(key);
        }
        Some(e.value)
    }

    /// Removes `key` and returns its entry and deadline (RENAME, MOVE keep
    /// the TTL).
    pub fn take(&mut self, key: &[u8]) -> Option<(Entry, i64)> {
        let (_, mut e) = self.keys.remove(key)?;
        let mut at = NO_EXPIRE;
        if e.volatile {
            at = self.volatile.remove(key).map_or(NO_EXPIRE, |(_, at)| at);
            e.volatile = false;
        }
        Some((e, at))
    }

    /// Puts an entry under `key` with deadline `at_ms` (or [`NO_EXPIRE`]),
    /// replacing any value.
    pub fn put(&mut self, key: &[u8], mut entry: Entry, at_ms: i64) {
        entry.volatile = false;
        match self.keys.insert(key.into(), entry) {
            Some(old) if old.volatile => {
                self.volatile.remove(key);
            }
            Some(_) => {}
            None => self.log_new(key),
        }
        self.set_expire(key, at_ms);
    }

    /// Sets or clears (with [`NO_EXPIRE`]) the deadline of an existing key.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) {
        let Some(e) = self.keys.get_mut(key) else { return };
        let was = e.volatile;
        e.volatile = at_ms != NO_EXPIRE;
        if at_ms != NO_EXPIRE {
            if self.track_ttl.get() {
                self.ttl_log.push(key.into());
            }
            match self.volatile.get_mut(key) {
                Some(at) => *at = at_ms,
                None => {
                    self.volatile.insert(key.into(), at_ms);
                }
            }
        } else if was {
            self.volatile.remove(key);
        }
    }

    /// Empties the database, returning its contents so a caller can free
    /// them elsewhere (FLUSHDB ASYNC).
    pub fn take_all(&mut self) -> (Dict<Key, Entry>, Dict<Key, i64>) {
        self.avg_ttl = 0;
        (
            std::mem::replace(&mut self.keys, keyspace_dict()),
            std::mem::replace(&mut self.volatile, keyspace_dict()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(Str::from_bytes(v.as_bytes()))
    }

    #[test]
    fn an_entry_and_its_node_fit_64_bytes() {
        // Value 24 + clock 4 + flag (+ padding): the dict node adds a
        // 24-byte inline key and an 8-byte link, 64 bytes in all.
        assert!(std::mem::size_of::<Value>() <= 24, "{}", std::mem::size_of::<Value>());
        assert!(std::mem::size_of::<Entry>() <= 32, "{}", std::mem::size_of::<Entry>());
        assert_eq!(std::mem::size_of::<Key>() + std::mem::size_of::<Entry>() + 8, 64);
    }

    #[test]
    fn lookups_delete_expired_keys_and_log_them() {
        let mut db = Db::new(0);
        db.set(b"a", s("1"), 0);
        db.set(b"b", s("2"), 0);
        db.set_expire(b"a", 1000);
        assert_eq!(db.volatile.len(), 1);
        assert!(db.get(b"a", 999).is_some());
        assert!(db.get(b"a", 1000).is_none());
        assert_eq!(db.expired_log, vec![Key::from(&b"a"[..])]);
        assert_eq!(db.len(), 1);
        assert_eq!(db.volatile.len(), 0);
    }

    #[test]
    fn set_clears_the_deadline_and_keep_ttl_keeps_it() {
        let mut db = Db::new(0);
        db.set(b"k", s("v"), 0);
        db.set_expire(b"k", 50);
        db.set_keep_ttl(b"k", s("w"), 0);
        assert_eq!(db.expire_at(b"k"), 50);
        db.set(b"k", s("x"), 0);
        assert_eq!(db.expire_at(b"k"), NO_EXPIRE);
        assert!(!db.get(b"k", 0).unwrap().has_ttl());
        assert!(db.volatile.is_empty());
    }

    #[test]
    fn take_and_put_carry_the_deadline() {
        let mut db = Db::new(0);
        db.set(b"k", s("v"), 0);
        db.set_expire(b"k", 50);
        let (e, at) = db.take(b"k").unwrap();
        assert!(db.volatile.is_empty());
        db.put(b"n", e, at);
        assert_eq!(db.expire_at(b"n"), 50);
        assert!(db.get(b"n", 0).unwrap().has_ttl());
        assert!(db.volatile.contains_key(&b"n"[..]));
    }
}
