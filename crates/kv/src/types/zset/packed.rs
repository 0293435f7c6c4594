//! The listpack encoding of a small sorted set.
//!
//! Members and scores alternate in one listpack (the score as its 8 IEEE
//! bytes), kept sorted by `(score, member)`. Every operation is a linear scan,
//! which for at most `zset-max-listpack-entries` pairs in one cache-friendly
//! buffer is faster and far smaller than a skiplist plus a hash table.

use crate::types::list::listpack::Listpack;

fn decode_score(b: &[u8]) -> f64 {
    f64::from_le_bytes(b.try_into().expect("8-byte score entry"))
}

/// A sorted `(member, score)` listpack.
#[derive(Clone, Debug, Default)]
pub(crate) struct PackedZSet {
    lp: Listpack,
}

impl PackedZSet {
    /// The number of members.
    pub(crate) fn len(&self) -> usize {
        self.lp.len() / 2
    }

    /// Heap bytes held.
    pub(crate) fn allocated(&self) -> usize {
        self.lp.allocated()
    }

    /// Iterates `(member, score)` in order (double-ended).
    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter { inner: self.lp.iter() }
    }

    /// The pair at index `i`.
    pub(crate) fn get(&self, i: usize) -> Option<(&[u8], f64)> {
        (i < self.len()).then(|| {
            let off = self.lp.offset_of(2 * i);
            let (m, next) = self.lp.entry_at(off);
            (m, decode_score(self.lp.entry_at(next).0))
        })
    }

    /// The index and score of `member`.
    pub(crate) fn find(&self, member: &[u8]) -> Option<(usize, f64)> {
        self.iter().enumerate().find(|(_, (m, _))| *m == member).map(|(i, (_, s))| (i, s))
    }

    /// Inserts a member that is not present, keeping the order.
    ///
    /// A score of -0 is stored as 0: Redis writes an integral score into
    /// its listpack as an integer, which has no negative zero (a skiplist
    /// keeps the sign).
    pub(crate) fn insert(&mut self, member: &[u8], score: f64) {
        let score = if score == 0.0 { 0.0 } else { score };
        let mut off = 0;
        while off < self.lp.end() {
            let (m, next) = self.lp.entry_at(off);
            let (s, after) = self.lp.entry_at(next);
            let s = decode_score(s);
            if s > score || (s == score && m > member) {
                break;
            }
            off = after;
        }
        self.lp.insert_many_at(off, &[member, &score.to_le_bytes()]);
    }

    /// Removes `n` pairs from index `i`.
    pub(crate) fn delete(&mut self, i: usize, n: usize) {
        self.lp.delete_range(2 * i, 2 * n);
    }
}

/// Iterates a [`PackedZSet`]'s pairs.
#[derive(Clone)]
pub(crate) struct Iter<'a> {
    inner: crate::types::list::listpack::Iter<'a>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        let m = self.inner.next()?;
        let s = self.inner.next().expect("score after member");
        Some((m, decode_score(s)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.inner.len() / 2;
        (n, Some(n))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<(&'a [u8], f64)> {
        let s = self.inner.next_back()?;
        let m = self.inner.next_back().expect("member before score");
        Some((m, decode_score(s)))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_insert_find_delete() {
        let mut z = PackedZSet::default();
        z.insert(b"b", 2.0);
        z.insert(b"a", 2.0);
        z.insert(b"z", -1.0);
        z.insert(b"c", f64::INFINITY);
        let all: Vec<_> = z.iter().collect();
        assert_eq!(
            all,
            vec![(&b"z"[..], -1.0), (&b"a"[..], 2.0), (&b"b"[..], 2.0), (&b"c"[..], f64::INFINITY)]
        );
        assert_eq!(z.iter().next_back(), Some((&b"c"[..], f64::INFINITY)));
        assert_eq!(z.find(b"b"), Some((2, 2.0)));
        assert_eq!(z.find(b"q"), None);
        assert_eq!(z.get(1), Some((&b"a"[..], 2.0)));
        z.delete(1, 2);
        assert_eq!(z.len(), 2);
        assert_eq!(z.get(1), Some((&b"c"[..], f64::INFINITY)));
    }

    #[test]
    fn negative_zero_is_stored_as_zero() {
        let mut z = PackedZSet::default();
        z.insert(b"a", -0.0);
        assert!(z.get(0).unwrap().1.is_sign_positive());
    }
}
