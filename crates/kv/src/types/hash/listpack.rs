//! A minimal listpack: entries packed back to back in one `Vec<u8>`, each a
//! LEB128 length followed by its bytes. Small aggregates (hashes, sets) live
//! in one allocation with no per-entry header beyond a byte or two; lookups
//! are linear scans, which beat hashing while the aggregate is small.
//! Also the distinct-sampling helper that HRANDFIELD and SRANDMEMBER share.

use std::collections::HashSet;

/// Redis refuses to grow a listpack past 1 GiB (`LISTPACK_MAX_SAFETY_SIZE`).
pub(crate) const MAX_SAFE_BYTES: usize = 1 << 30;

/// Entries back to back; see the module docs.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Listpack {
    buf: Vec<u8>,
    len: usize,
}

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

impl Listpack {
    pub(crate) fn new() -> Listpack {
        Listpack::default()
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The encoded size in bytes.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The heap bytes held.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether appending `extra` payload bytes keeps it under 1 GiB.
    pub(crate) fn safe_to_add(&self, extra: usize) -> bool {
        self.buf.len() + extra + 10 < MAX_SAFE_BYTES
    }

    fn encode_into(out: &mut Vec<u8>, e: &[u8]) {
        let mut n = e.len();
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(e);
    }

    /// Appends an entry.
    pub(crate) fn push(&mut self, e: &[u8]) {
        self.buf.reserve(varint_len(e.len()) + e.len());
        Listpack::encode_into(&mut self.buf, e);
        self.len += 1;
    }

    /// The entry at byte offset `pos` and the offset of the next entry.
    #[inline]
    pub(crate) fn read(&self, mut pos: usize) -> (&[u8], usize) {
        let mut n = 0usize;
        let mut shift = 0;
        loop {
            let b = self.buf[pos];
            pos += 1;
            n |= ((b & 0x7f) as usize) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        (&self.buf[pos..pos + n], pos + n)
    }

    /// Whether `pos` is past the last entry.
    #[inline]
    pub(crate) fn at_end(&self, pos: usize) -> bool {
        pos >= self.buf.len()
    }

    /// The entries in order.
    pub(crate) fn iter(&self) -> Entries<'_> {
        Entries { lp: self, pos: 0 }
    }

    /// The byte offset of the first entry equal to `e` among entries
    /// 0, `step`, 2 * `step`, ... (step 2 looks at a hash's fields only).
    pub(crate) fn find(&self, e: &[u8], step: usize) -> Option<usize> {
        let mut pos = 0;
        while !self.at_end(pos) {
            let (x, mut next) = self.read(pos);
            if x == e {
                return Some(pos);
            }
            for _ in 1..step {
                next = self.read(next).1;
            }
            pos = next;
        }
        None
    }

    /// Removes the `n` entries starting at byte offset `pos`.
    pub(crate) fn remove_at(&mut self, pos: usize, n: usize) {
        let mut end = pos;
        for _ in 0..n {
            end = self.read(end).1;
        }
        self.buf.drain(pos..end);
        self.len -= n;
    }

    /// Replaces the entry at byte offset `pos` with `e`.
    pub(crate) fn replace_at(&mut self, pos: usize, e: &[u8]) {
        let end = self.read(pos).1;
        let mut enc = Vec::with_capacity(varint_len(e.len()) + e.len());
        Listpack::encode_into(&mut enc, e);
        self.buf.splice(pos..end, enc);
    }
}

/// The entries of a [`Listpack`] in order.
pub(crate) struct Entries<'a> {
    lp: &'a Listpack,
    pos: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.lp.at_end(self.pos) {
            return None;
        }
        let (e, next) = self.lp.read(self.pos);
        self.pos = next;
        Some(e)
    }
}

/// `count` distinct indexes below `n` (`count <= n`), for the positive-count
/// forms of HRANDFIELD and SRANDMEMBER. As Redis: when `count` is a large
/// share of `n` (3 * count > n), shuffle and take a prefix; otherwise draw
/// random indexes and skip repeats.
pub(crate) fn distinct_indexes(n: usize, count: usize, rng: &mut impl FnMut() -> u64) -> Vec<usize> {
    debug_assert!(count <= n);
    if count.saturating_mul(3) > n {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..count {
            let j = i + (rng() % (n - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut seen = HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let i = (rng() % n as u64) as usize;
            if seen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_read_find_replace_remove() {
        let mut lp = Listpack::new();
        let long = vec![7u8; 300];
        for e in [&b"a"[..], b"", &long, b"bc"] {
            lp.push(e);
        }
        assert_eq!(lp.len(), 4);
        assert_eq!(lp.bytes(), 2 + 1 + 302 + 3);
        let all: Vec<&[u8]> = lp.iter().collect();
        assert_eq!(all, vec![&b"a"[..], b"", &long[..], b"bc"]);
        assert_eq!(lp.find(b"bc", 1), Some(2 + 1 + 302));
        assert_eq!(lp.find(b"", 2), None);
        assert_eq!(lp.find(&long, 2), Some(3));
        lp.replace_at(3, b"x");
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![&b"a"[..], b"", b"x", b"bc"]);
        lp.remove_at(0, 2);
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![&b"x"[..], b"bc"]);
        assert_eq!(lp.len(), 2);
        assert!(lp.safe_to_add(100));
    }

    #[test]
    fn distinct_indexes_are_distinct() {
        let mut s = 1u64;
        let mut rng = move || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            s >> 33
        };
        for (n, count) in [(10, 10), (10, 4), (100, 5), (1, 1), (5, 0)] {
            let v = distinct_indexes(n, count, &mut rng);
            let set: HashSet<usize> = v.iter().copied().collect();
            assert_eq!((v.len(), set.len()), (count, count));
            assert!(v.iter().all(|&i| i < n));
        }
    }
}
