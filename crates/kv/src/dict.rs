//! The keyspace hash table: Redis's `dict`.
//!
//! A chained hash table over power-of-two bucket arrays, hashed with std's
//! [`RandomState`] (SipHash with a random key, as Redis uses SipHash: an
//! attacker who cannot predict the key cannot flood one bucket).
//!
//! **Incremental rehashing.** Growing a table of a million keys in one go
//! would stall the single command thread for milliseconds. So a resize only
//! allocates the new bucket array; the dict then holds two tables, and every
//! mutating call ([`Dict::insert`], [`Dict::remove`], [`Dict::get_mut`], ...)
//! moves one bucket from the old table to the new one, while the server's
//! cron calls [`Dict::rehash_for`] to move more in idle time. Lookups check
//! both tables; inserts go to the new one. (`get(&self)` cannot move a
//! bucket: it takes a shared reference.) The table grows when it holds as
//! many entries as buckets, and shrinks once at most 1/8 of the buckets
//! would be used (never below 4 buckets), as Redis 7.4's `dict.c`.
//!
//! **The SCAN cursor** ([`Dict::scan`]) counts over bucket indexes with the
//! bits reversed: it increments the *high* bit of the masked index. In a
//! power-of-two table, the buckets an index splits into on growth (or merges
//! from on shrink) share its low bits, so a reversed-bit order visits a
//! bucket's whole family together and a resize between two calls neither
//! skips elements present all along nor restarts the scan (some may repeat).

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::time::{Duration, Instant};

mod iter;
mod sample;
mod stats;
#[cfg(test)]
mod tests;

pub use iter::{Drain, Iter, IterMut};

/// The smallest non-empty table (Redis's `DICT_HT_INITIAL_SIZE`).
const INITIAL_SIZE: usize = 4;
/// Shrink when `used * MIN_FILL <= size` (Redis's `HASHTABLE_MIN_FILL`).
const MIN_FILL: usize = 8;
/// Empty buckets one rehash step may skip per bucket it was asked to move.
const EMPTY_VISITS_PER_STEP: usize = 10;
/// While resizing is avoided, a table still grows past this many entries
/// per bucket, and a rehash still moves when the tables' sizes differ by
/// this factor (Redis's `dict_force_resize_ratio`).
const FORCE_RESIZE_RATIO: usize = 5;

thread_local! {
    /// Whether this thread's dicts avoid resizing (see [`set_resize_avoided`]).
    static RESIZE_AVOIDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Has this thread's dicts avoid resizing, or resize freely again (Redis's
/// `updateDictResizePolicy`, DICT_RESIZE_AVOID while a fork child runs).
/// A forked child shares the parent's memory copy-on-write, so every page
/// the parent writes is copied: a bucket array allocated and filled, or
/// rehashed into, while a snapshot is being written would be paid twice.
/// While avoided, a table grows only past 5 entries per bucket, never
/// shrinks, and a rehash under way moves only if the two tables' sizes
/// differ by 5 times or more. Per thread: the server's data lives on its
/// loop thread.
pub fn set_resize_avoided(avoided: bool) {
    RESIZE_AVOIDED.with(|c| c.set(avoided));
}

fn resize_avoided() -> bool {
    RESIZE_AVOIDED.with(std::cell::Cell::get)
}

pub(crate) type Link<K, V> = Option<Box<Node<K, V>>>;

/// One entry: a heap node in its bucket's singly linked chain.
pub(crate) struct Node<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    pub(crate) next: Link<K, V>,
}

/// One bucket array. `buckets.len()` is 0 or a power of two.
pub(crate) struct Table<K, V> {
    pub(crate) buckets: Vec<Link<K, V>>,
    pub(crate) used: usize,
}

impl<K, V> Table<K, V> {
    const fn empty() -> Table<K, V> {
        Table { buckets: Vec::new(), used: 0 }
    }

    fn with_size(size: usize) -> Table<K, V> {
        let mut buckets = Vec::with_capacity(size);
        buckets.resize_with(size, || None);
        Table { buckets, used: 0 }
    }

    #[inline]
    pub(crate) fn size(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    pub(crate) fn mask(&self) -> u64 {
        (self.buckets.len() as u64).wrapping_sub(1)
    }

    #[inline]
    fn index(&self, hash: u64) -> usize {
        (hash & self.mask()) as usize
    }

    fn find<Q>(&self, hash: u64, q: &Q) -> Option<&Node<K, V>>
    where
        K: Borrow<Q>,
        Q: ?Sized + Eq,
    {
        if self.used == 0 {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)].as_deref();
        while let Some(n) = cur {
            if n.key.borrow() == q {
                return Some(n);
            }
            cur = n.next.as_deref();
        }
        None
    }

    fn find_mut<Q>(&mut self, hash: u64, q: &Q) -> Option<&mut Node<K, V>>
    where
        K: Borrow<Q>,
        Q: ?Sized + Eq,
    {
        if self.used == 0 {
            return None;
        }
        let idx = self.index(hash);
        let mut cur = self.buckets[idx].as_deref_mut();
        while let Some(n) = cur {
            if n.key.borrow() == q {
                return Some(n);
            }
            cur = n.next.as_deref_mut();
        }
        None
    }

    fn unlink<Q>(&mut self, hash: u64, q: &Q) -> Option<Box<Node<K, V>>>
    where
        K: Borrow<Q>,
        Q: ?Sized + Eq,
    {
        if self.used == 0 {
            return None;
        }
        let idx = self.index(hash);
        let mut cur = &mut self.buckets[idx];
        while cur.as_ref().is_some_and(|n| n.key.borrow() != q) {
            cur = &mut cur.as_mut().expect("checked Some").next;
        }
        let mut node = cur.take()?;
        *cur = node.next.take();
        self.used -= 1;
        Some(node)
    }

    /// Pushes `node` at the head of its bucket; returns the node in place.
    fn push(&mut self, hash: u64, mut node: Box<Node<K, V>>) -> &mut Node<K, V> {
        let idx = self.index(hash);
        node.next = self.buckets[idx].take();
        self.used += 1;
        self.buckets[idx].insert(node)
    }
}

impl<K, V> Drop for Table<K, V> {
    /// Frees each chain iteratively: a recursive `Box` drop could overflow
    /// the stack on a (pathologically) long chain.
    fn drop(&mut self) {
        for b in &mut self.buckets {
            let mut cur = b.take();
            while let Some(mut n) = cur {
                cur = n.next.take();
            }
        }
    }
}

/// Redis's `dict`: a chained hash table with incremental rehashing, a
/// resize-proof SCAN cursor and random sampling. See the [module docs](self).
pub struct Dict<K, V> {
    /// `tables[0]` is the live table; `tables[1]` is the rehash target,
    /// empty unless `rehash_idx` is `Some`.
    pub(crate) tables: [Table<K, V>; 2],
    /// The next bucket of `tables[0]` to move; every lower one is empty.
    pub(crate) rehash_idx: Option<usize>,
    hasher: RandomState,
    /// Asked before the table grows (see [`Dict::set_expand_guard`]).
    expand_guard: Option<ExpandGuard>,
}

/// Whether a table may grow (Redis's `dictType.expandAllowed`): given the
/// bytes the new bucket array would take and the entries per bucket now.
pub type ExpandGuard = fn(usize, f64) -> bool;

impl<K, V> Default for Dict<K, V> {
    fn default() -> Dict<K, V> {
        Dict {
            tables: [Table::empty(), Table::empty()],
            rehash_idx: None,
            hasher: RandomState::new(),
            expand_guard: None,
        }
    }
}

impl<K, V> Dict<K, V> {
    /// An empty dict; allocates nothing until the first insert.
    pub fn new() -> Dict<K, V> {
        Dict::default()
    }

    /// The number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.tables[0].used + self.tables[1].used
    }

    /// Whether the dict holds no entry.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a resize is in progress (two tables are live).
    #[inline]
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// The bucket counts of the live table and of the rehash target (0 when
    /// not rehashing): `DEBUG HTSTATS`-style introspection.
    pub fn bucket_counts(&self) -> (usize, usize) {
        (self.tables[0].size(), self.tables[1].size())
    }

    /// Has the table ask `guard` before it grows on an insert, as Redis's
    /// keyspace asks whether the new bucket array would take memory past
    /// `maxmemory`. While the guard says no, entries go in the table as it
    /// is and its chains get longer. A resize asked for explicitly
    /// ([`Dict::reserve`]) does not ask. Clones keep the guard.
    pub fn set_expand_guard(&mut self, guard: ExpandGuard) {
        self.expand_guard = Some(guard);
    }

    /// Removes every entry and frees both tables.
    pub fn clear(&mut self) {
        self.tables = [Table::empty(), Table::empty()];
        self.rehash_idx = None;
    }

    /// Iterates over `(&key, &value)` in bucket order (unspecified).
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(self)
    }

    /// Iterates over `(&key, &mut value)` in bucket order (unspecified).
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut::new(self)
    }

    /// Takes every entry out, leaving the dict empty (and unallocated).
    pub fn drain(&mut self) -> Drain<K, V> {
        let len = self.len();
        let tables = std::mem::replace(&mut self.tables, [Table::empty(), Table::empty()]);
        self.rehash_idx = None;
        Drain::new(tables, len)
    }

    /// An estimate in bytes of the table's own memory: the dict header, both
    /// bucket arrays and one node per entry (key and value inline, not their
    /// heap contents).
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + (self.tables[0].buckets.capacity() + self.tables[1].buckets.capacity())
                * std::mem::size_of::<Link<K, V>>()
            + self.len() * std::mem::size_of::<Node<K, V>>()
    }
}

impl<K: Hash + Eq, V> Dict<K, V> {
    /// An empty dict whose table already holds `n` entries without a resize.
    pub fn with_capacity(n: usize) -> Dict<K, V> {
        let mut d = Dict::new();
        d.reserve(n);
        d
    }

    #[inline]
    fn hash<Q: ?Sized + Hash>(&self, q: &Q) -> u64 {
        self.hasher.hash_one(q)
    }

    /// Makes room for `additional` more entries (Redis's `dictExpand`): a
    /// no-op while rehashing or if the table is already large enough.
    pub fn reserve(&mut self, additional: usize) {
        if self.is_rehashing() {
            return;
        }
        let want = self.len().saturating_add(additional);
        if want > self.tables[0].size() {
            self.resize(want);
        }
    }

    /// Starts a resize to the smallest power of two `>= max(target, 4)`. An
    /// empty table is replaced at once; otherwise the rehash is incremental.
    fn resize(&mut self, target: usize) {
        debug_assert!(!self.is_rehashing());
        let size = target
            .max(self.tables[0].used)
            .max(INITIAL_SIZE)
            .checked_next_power_of_two()
            .expect("dict size overflow");
        if size == self.tables[0].size() {
            return;
        }
        if self.tables[0].used == 0 {
            self.tables[0] = Table::with_size(size);
        } else {
            self.tables[1] = Table::with_size(size);
            self.rehash_idx = Some(0);
        }
    }

    /// Redis's `_dictExpandIfNeeded`: grow once entries reach the bucket count.
    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let t = &self.tables[0];
        if t.size() == 0 {
            self.resize(INITIAL_SIZE);
        } else if t.used >= t.size() {
            if t.used / t.size() <= FORCE_RESIZE_RATIO && resize_avoided() {
                return;
            }
            if let Some(guard) = self.expand_guard {
                let buckets = (t.used + 1).checked_next_power_of_two().unwrap_or(usize::MAX);
                let bytes = buckets.saturating_mul(std::mem::size_of::<Link<K, V>>());
                if !guard(bytes, t.used as f64 / t.size() as f64) {
                    return;
                }
            }
            self.resize(t.used + 1);
        }
    }

    /// Redis's `_dictShrinkIfNeeded`: shrink once at most 1/8 is used.
    fn shrink_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let t = &self.tables[0];
        if t.size() > INITIAL_SIZE && t.used * MIN_FILL <= t.size() && !resize_avoided() {
            self.resize(t.used);
        }
    }

    /// Moves up to `n` non-empty buckets (skipping at most `10 * n` empty
    /// ones) from the old table to the new one. Returns whether a rehash is
    /// still in progress afterwards.
    pub fn rehash_steps(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        if self.rehash_held() {
            return true;
        }
        let mut empty_visits = n.saturating_mul(EMPTY_VISITS_PER_STEP);
        let [old, new] = &mut self.tables;
        for _ in 0..n {
            if old.used == 0 {
                break;
            }
            while old.buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut chain = old.buckets[idx].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                let h = self.hasher.hash_one(&node.key);
                old.used -= 1;
                new.push(h, node);
            }
            idx += 1;
        }
        if old.used == 0 {
            self.tables.swap(0, 1);
            self.tables[1] = Table::empty();
            self.rehash_idx = None;
            false
        } else {
            self.rehash_idx = Some(idx);
            true
        }
    }

    /// Rehashes in batches of 100 buckets until done or `budget` has
    /// elapsed (the cron's `dictRehashMilliseconds`). Returns the number of
    /// buckets requested from [`Dict::rehash_steps`].
    pub fn rehash_for(&mut self, budget: Duration) -> usize {
        let start = Instant::now();
        let mut steps = 0;
        while self.is_rehashing() && !self.rehash_held() {
            self.rehash_steps(100);
            steps += 100;
            if start.elapsed() >= budget {
                break;
            }
        }
        steps
    }

    /// Whether a rehash under way waits while resizing is avoided (see
    /// [`set_resize_avoided`]): unless the tables' sizes differ 5-fold.
    fn rehash_held(&self) -> bool {
        let (s0, s1) = (self.tables[0].size(), self.tables[1].size());
        s0.max(s1) / s0.min(s1).max(1) < FORCE_RESIZE_RATIO && resize_avoided()
    }

    #[inline]
    fn rehash_step(&mut self) {
        if self.is_rehashing() {
            self.rehash_steps(1);
        }
    }

    /// The value stored under `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.get_key_value(key).map(|(_, v)| v)
    }

    /// The stored key and value under `key`.
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        self.tables[0].find(h, key).or_else(|| self.tables[1].find(h, key)).map(|n| (&n.key, &n.value))
    }

    /// Whether `key` is present.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.get_key_value(key).is_some()
    }

    /// The value under `key`, mutably. Performs one rehash step.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = self.hash(key);
        let [t0, t1] = &mut self.tables;
        match t0.find_mut(h, key) {
            Some(n) => Some(&mut n.value),
            None => t1.find_mut(h, key).map(|n| &mut n.value),
        }
    }

    /// Inserts `value` under `key`. If the key was present, replaces the
    /// value, keeps the old key, and returns the old value.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.rehash_step();
        let h = self.hash(&key);
        let [t0, t1] = &mut self.tables;
        if let Some(n) = t0.find_mut(h, &key).or_else(|| t1.find_mut(h, &key)) {
            return Some(std::mem::replace(&mut n.value, value));
        }
        self.push_new(h, key, value);
        None
    }

    /// Inserts a key known to be absent (RDB loading, conversions): skips
    /// the lookup. A duplicate key makes lookups see only one of the two.
    pub fn insert_unique(&mut self, key: K, value: V) {
        self.rehash_step();
        let h = self.hash(&key);
        self.push_new(h, key, value);
    }

    /// The value under `key`, or a new one, `make()` under the key
    /// `make_key()`, inserted; and whether it was inserted. One hash: for
    /// a write that creates its value if absent (SADD, HSET, ZADD), whose
    /// key is allocated only when new.
    pub fn get_mut_or_insert<Q>(
        &mut self,
        key: &Q,
        make_key: impl FnOnce() -> K,
        make: impl FnOnce() -> V,
    ) -> (&mut V, bool)
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        self.rehash_step();
        let h = self.hash(key);
        let which = if self.tables[0].find(h, key).is_some() {
            Some(0)
        } else if self.tables[1].find(h, key).is_some() {
            Some(1)
        } else {
            None
        };
        match which {
            Some(t) => (&mut self.tables[t].find_mut(h, key).expect("found").value, false),
            None => {
                let k = make_key();
                debug_assert!(k.borrow() == key, "make_key made another key");
                (&mut self.push_new(h, k, make()).value, true)
            }
        }
    }

    fn push_new(&mut self, h: u64, key: K, value: V) -> &mut Node<K, V> {
        self.expand_if_needed();
        let t = if self.is_rehashing() { 1 } else { 0 };
        let node = Box::new(Node { key, value, next: None });
        self.tables[t].push(h, node)
    }

    /// Removes `key`, returning the stored key and its value. May start a
    /// shrink.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = self.hash(key);
        let node = match self.tables[0].unlink(h, key) {
            Some(n) => n,
            None => self.tables[1].unlink(h, key)?,
        };
        self.shrink_if_needed();
        let Node { key, value, .. } = *node;
        Some((key, value))
    }

    /// Keeps only the entries for which `keep` returns true; may start a
    /// shrink afterwards.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        for t in &mut self.tables {
            let mut removed = 0;
            for bucket in &mut t.buckets {
                let mut cur = bucket;
                while cur.is_some() {
                    let n = cur.as_mut().expect("checked Some");
                    if keep(&n.key, &mut n.value) {
                        cur = &mut cur.as_mut().expect("checked Some").next;
                    } else {
                        let mut n = cur.take().expect("checked Some");
                        *cur = n.next.take();
                        removed += 1;
                    }
                }
            }
            t.used -= removed;
        }
        if self.is_rehashing() && self.tables[0].used == 0 {
            // Finish a rehash whose old table emptied.
            self.rehash_steps(1);
        }
        self.shrink_if_needed();
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Dict<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Clone for Dict<K, V> {
    fn clone(&self) -> Dict<K, V> {
        let mut d = Dict::with_capacity(self.len());
        d.expand_guard = self.expand_guard;
        for (k, v) in self.iter() {
            d.insert_unique(k.clone(), v.clone());
        }
        d
    }
}

impl<K: Hash + Eq, V> FromIterator<(K, V)> for Dict<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Dict<K, V> {
        let mut d = Dict::new();
        d.extend(iter);
        d
    }
}

impl<K: Hash + Eq, V> Extend<(K, V)> for Dict<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'a, K, V> IntoIterator for &'a Dict<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<K, V> IntoIterator for Dict<K, V> {
    type Item = (K, V);
    type IntoIter = Drain<K, V>;
    fn into_iter(mut self) -> Drain<K, V> {
        self.drain()
    }
}
