//! The dict's borrowing and draining iterators.

use std::iter::{Chain, FusedIterator};
use std::slice;

use super::{Dict, Link, Node, Table};

type Buckets<'a, K, V> = Chain<slice::Iter<'a, Link<K, V>>, slice::Iter<'a, Link<K, V>>>;
type BucketsMut<'a, K, V> = Chain<slice::IterMut<'a, Link<K, V>>, slice::IterMut<'a, Link<K, V>>>;

/// Iterator over `(&K, &V)`; see [`Dict::iter`].
pub struct Iter<'a, K, V> {
    buckets: Buckets<'a, K, V>,
    cur: Option<&'a Node<K, V>>,
    remaining: usize,
}

impl<'a, K, V> Iter<'a, K, V> {
    pub(super) fn new(d: &'a Dict<K, V>) -> Iter<'a, K, V> {
        Iter {
            buckets: d.tables[0].buckets.iter().chain(d.tables[1].buckets.iter()),
            cur: None,
            remaining: d.len(),
        }
    }
}

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Iter { buckets: self.buckets.clone(), cur: self.cur, remaining: self.remaining }
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        loop {
            if let Some(n) = self.cur {
                self.cur = n.next.as_deref();
                self.remaining -= 1;
                return Some((&n.key, &n.value));
            }
            if self.remaining == 0 {
                return None;
            }
            self.cur = self.buckets.next()?.as_deref();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}
impl<K, V> FusedIterator for Iter<'_, K, V> {}

/// Iterator over `(&K, &mut V)`; see [`Dict::iter_mut`].
pub struct IterMut<'a, K, V> {
    buckets: BucketsMut<'a, K, V>,
    cur: Option<&'a mut Node<K, V>>,
    remaining: usize,
}

impl<'a, K, V> IterMut<'a, K, V> {
    pub(super) fn new(d: &'a mut Dict<K, V>) -> IterMut<'a, K, V> {
        let remaining = d.len();
        let [t0, t1] = &mut d.tables;
        IterMut { buckets: t0.buckets.iter_mut().chain(t1.buckets.iter_mut()), cur: None, remaining }
    }
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    fn next(&mut self) -> Option<(&'a K, &'a mut V)> {
        loop {
            if let Some(n) = self.cur.take() {
                let Node { key, value, next } = n;
                self.cur = next.as_deref_mut();
                self.remaining -= 1;
                return Some((key, value));
            }
            if self.remaining == 0 {
                return None;
            }
            self.cur = self.buckets.next()?.as_deref_mut();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}
impl<K, V> FusedIterator for IterMut<'_, K, V> {}

/// Owning iterator over `(K, V)`; see [`Dict::drain`]. Entries it does not
/// yield are dropped with it.
pub struct Drain<K, V> {
    // The tables keep their (now emptied) bucket arrays alive for the
    // `Drop` impl; the buckets are taken out one by one.
    tables: [Table<K, V>; 2],
    table: usize,
    bucket: usize,
    cur: Link<K, V>,
    remaining: usize,
}

impl<K, V> Drain<K, V> {
    pub(super) fn new(tables: [Table<K, V>; 2], remaining: usize) -> Drain<K, V> {
        Drain { tables, table: 0, bucket: 0, cur: None, remaining }
    }
}

impl<K, V> Iterator for Drain<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        loop {
            if let Some(mut n) = self.cur.take() {
                self.cur = n.next.take();
                self.remaining -= 1;
                let Node { key, value, .. } = *n;
                return Some((key, value));
            }
            if self.remaining == 0 {
                return None;
            }
            let t = &mut self.tables[self.table];
            if self.bucket < t.buckets.len() {
                self.cur = t.buckets[self.bucket].take();
                self.bucket += 1;
            } else if self.table == 0 {
                self.table = 1;
                self.bucket = 0;
            } else {
                return None;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for Drain<K, V> {}
impl<K, V> FusedIterator for Drain<K, V> {}

impl<K, V> Drop for Drain<K, V> {
    fn drop(&mut self) {
        let mut cur = self.cur.take();
        while let Some(mut n) = cur {
            cur = n.next.take();
        }
        // The tables' own `Drop` frees the untaken buckets.
    }
}
