//! The cache's bookkeeping: a map with least-recently-used eviction and
//! an inactivity limit, as nginx's `open_file_cache max=N inactive=T`.
//!
//! Entries live in a slab (a `Vec` of nodes, reused through a free list)
//! threaded on an intrusive doubly-linked list by index: the most recently
//! used at the head, the least at the tail. A hash map from key to slab
//! index finds an entry; a hit moves its node to the head by relinking
//! four indices. So a hit costs one hash lookup and no allocation, a
//! full cache evicts its tail in O(1), and the entries unused for longer
//! than the inactivity limit are always a run at the tail, so expiring
//! them looks only at nodes it removes (plus one).
//!
//! Time is whole seconds from the caller (the worker's once-a-second
//! clock), so the cache itself reads no clock.

use std::collections::HashMap;

const NIL: usize = usize::MAX;

#[derive(Debug)]
struct Node<V> {
    key: Box<[u8]>,
    val: Option<V>,
    prev: usize,
    next: usize,
    /// When it was last used (seconds).
    used: u64,
}

/// A map from byte strings to `V` with at most `cap` entries, dropping the
/// least recently used one to make room.
#[derive(Debug)]
pub(crate) struct Lru<V> {
    map: HashMap<Box<[u8]>, usize>,
    nodes: Vec<Node<V>>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    cap: usize,
}

impl<V> Lru<V> {
    /// An empty map holding at most `cap` entries (0: holds nothing).
    pub fn new(cap: usize) -> Lru<V> {
        Lru { map: HashMap::new(), nodes: Vec::new(), free: Vec::new(), head: NIL, tail: NIL, cap }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.map.contains_key(key)
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = (self.nodes[i].prev, self.nodes[i].next);
        match prev {
            NIL => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
    }

    fn push_front(&mut self, i: usize) {
        self.nodes[i].prev = NIL;
        self.nodes[i].next = self.head;
        match self.head {
            NIL => self.tail = i,
            h => self.nodes[h].prev = i,
        }
        self.head = i;
    }

    /// The value for `key`, marked used at `now`.
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&V> {
        let i = *self.map.get(key)?;
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
        let node = &mut self.nodes[i];
        node.used = now;
        node.val.as_ref()
    }

    fn take(&mut self, i: usize) -> V {
        self.unlink(i);
        let node = &mut self.nodes[i];
        let key = std::mem::take(&mut node.key);
        let val = node.val.take();
        self.map.remove(&key);
        self.free.push(i);
        val.expect("a linked node holds a value")
    }

    /// Removes `key`'s entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let i = *self.map.get(key)?;
        Some(self.take(i))
    }

    /// Adds (or replaces) `key`'s entry, used at `now`; if the map was
    /// full, drops the least recently used entry and returns it.
    pub fn insert(&mut self, key: &[u8], val: V, now: u64) -> Option<V> {
        if self.cap == 0 {
            return None;
        }
        if let Some(&i) = self.map.get(key) {
            self.nodes[i].val = Some(val);
            self.get(key, now);
            return None;
        }
        let evicted = if self.map.len() >= self.cap { Some(self.take(self.tail)) } else { None };
        let key: Box<[u8]> = key.into();
        let node = Node { key: key.clone(), val: Some(val), prev: NIL, next: NIL, used: now };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.map.insert(key, i);
        self.push_front(i);
        evicted
    }

    /// Drops up to `most` entries unused for more than `inactive` seconds
    /// at `now`, least recently used first; returns how many it dropped.
    pub fn expire(&mut self, now: u64, inactive: u64, most: usize) -> usize {
        let mut n = 0;
        while n < most && self.tail != NIL && now.saturating_sub(self.nodes[self.tail].used) > inactive {
            self.take(self.tail);
            n += 1;
        }
        n
    }

    /// The keys from the most to the least recently used (for tests).
    #[cfg(test)]
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = self.head;
        while i != NIL {
            out.push(self.nodes[i].key.to_vec());
            i = self.nodes[i].next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut l = Lru::new(2);
        assert_eq!(l.insert(b"a", 1, 0), None);
        assert_eq!(l.insert(b"b", 2, 0), None);
        // Using `a` makes `b` the least recently used.
        assert_eq!(l.get(b"a", 1), Some(&1));
        assert_eq!(l.insert(b"c", 3, 1), Some(2));
        assert_eq!(l.keys(), vec![b"c".to_vec(), b"a".to_vec()]);
        assert!(l.contains(b"a") && !l.contains(b"b"));
        // Replacing keeps one entry and makes it the most recent.
        assert_eq!(l.insert(b"a", 10, 2), None);
        assert_eq!(l.keys(), vec![b"a".to_vec(), b"c".to_vec()]);
        assert_eq!(l.remove(b"c"), Some(3));
        assert_eq!(l.remove(b"c"), None);
        assert_eq!(l.len(), 1);
        // A capacity of 0 holds nothing.
        let mut z = Lru::new(0);
        assert_eq!(z.insert(b"a", 1, 0), None);
        assert_eq!(z.len(), 0);
    }

    #[test]
    fn expires_the_inactive_from_the_tail() {
        let mut l = Lru::new(10);
        l.insert(b"old", 1, 0);
        l.insert(b"mid", 2, 5);
        l.insert(b"new", 3, 12);
        l.get(b"old", 12);
        // At 20 with 10 s allowed: `mid` (used at 5) goes; `old` was used
        // again at 12 and stays, as does `new` (12).
        assert_eq!(l.expire(20, 10, usize::MAX), 1);
        assert_eq!(l.keys(), vec![b"old".to_vec(), b"new".to_vec()]);
        // `most` bounds the work; the least recently used goes first.
        assert_eq!(l.expire(100, 10, 1), 1);
        assert_eq!(l.keys(), vec![b"old".to_vec()]);
        assert_eq!(l.expire(100, 10, 5), 1);
        assert_eq!(l.len(), 0);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Get(u8),
        Insert(u8),
        Remove(u8),
        Expire(u8),
        Tick,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..12).prop_map(Op::Get),
            (0u8..12).prop_map(Op::Insert),
            (0u8..12).prop_map(Op::Remove),
            (0u8..4).prop_map(Op::Expire),
            Just(Op::Tick),
        ]
    }

    proptest! {
        /// Against a model: a list ordered from most to least recently
        /// used, of (key, value, last used).
        #[test]
        fn matches_a_simple_model(cap in 0usize..6, ops in proptest::collection::vec(op(), 0..200)) {
            let mut l = Lru::new(cap);
            let mut model: Vec<(u8, u32, u64)> = Vec::new();
            let mut now = 0u64;
            for (n, op) in ops.into_iter().enumerate() {
                let v = n as u32;
                match op {
                    Op::Get(k) => {
                        let want = model.iter().position(|e| e.0 == k).map(|p| {
                            let mut e = model.remove(p);
                            e.2 = now;
                            model.insert(0, e);
                            e.1
                        });
                        prop_assert_eq!(l.get(&[k], now).copied(), want);
                    }
                    Op::Insert(k) => {
                        let mut evicted = None;
                        if cap > 0 {
                            if let Some(p) = model.iter().position(|e| e.0 == k) {
                                model.remove(p);
                            } else if model.len() == cap {
                                evicted = model.pop().map(|e| e.1);
                            }
                            model.insert(0, (k, v, now));
                        }
                        prop_assert_eq!(l.insert(&[k], v, now), evicted);
                    }
                    Op::Remove(k) => {
                        let want = model.iter().position(|e| e.0 == k).map(|p| model.remove(p).1);
                        prop_assert_eq!(l.remove(&[k]), want);
                    }
                    Op::Expire(inactive) => {
                        let inactive = u64::from(inactive);
                        let mut dropped = 0;
                        while model.last().is_some_and(|e| now - e.2 > inactive) {
                            model.pop();
                            dropped += 1;
                        }
                        prop_assert_eq!(l.expire(now, inactive, usize::MAX), dropped);
                    }
                    Op::Tick => now += 1,
                }
                let keys: Vec<Vec<u8>> = model.iter().map(|e| vec![e.0]).collect();
                prop_assert_eq!(l.keys(), keys);
                prop_assert_eq!(l.len(), model.len());
            }
        }
    }
}
