//! A listpack: many short strings in one contiguous byte buffer.
//!
//! Each entry is `[len as LEB128][bytes][backlen]`, where `backlen` is the
//! size of the first two parts written so it can be read *from its end*: a
//! cursor can step forward (read the length) or backward (read the backlen)
//! without any per-entry pointer. One allocation for the whole aggregate means
//! no per-element malloc and sequential memory access, which is why Redis
//! keeps small lists, hashes and sorted sets this way.
//!
//! The buffer keeps some *headroom* before the first entry, so pushing at the
//! front is amortised O(1) like pushing at the back, and popping the front
//! just advances the start.

/// Redis's fixed listpack overhead (a 6-byte header and the end byte), added
/// to [`Listpack::bytes`] so size limits compare like Redis's `lpBytes`.
const LP_OVERHEAD: usize = 7;

/// Bytes of the LEB128 encoding of `n`.
fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// The encoded size of an entry holding `len` bytes.
pub(crate) fn entry_size(len: usize) -> usize {
    let inner = varint_len(len) + len;
    inner + varint_len(inner)
}

/// Appends the encoding of one entry to `out`.
pub(crate) fn encode_entry(out: &mut Vec<u8>, data: &[u8]) {
    let at = out.len();
    out.resize(at + entry_size(data.len()), 0);
    encode_into(&mut out[at..], data);
}

/// Writes the encoding of one entry into `dst` (exactly
/// [`entry_size`]`(data.len())` bytes).
fn encode_into(dst: &mut [u8], data: &[u8]) {
    let mut p = 0;
    let mut n = data.len();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        dst[p] = if n == 0 { byte } else { byte | 0x80 };
        p += 1;
        if n == 0 {
            break;
        }
    }
    dst[p..p + data.len()].copy_from_slice(data);
    p += data.len();
    let inner = p;
    // The backlen is read from its last byte backwards: the last byte holds
    // the low 7 bits; a set high bit means more (higher) bits precede it, so
    // the first byte in memory (the top group) is the one without it.
    let groups = varint_len(inner);
    for g in (0..groups).rev() {
        let byte = ((inner >> (7 * g)) & 0x7f) as u8;
        dst[p] = if g == groups - 1 { byte } else { byte | 0x80 };
        p += 1;
    }
    debug_assert_eq!(p, dst.len());
}

/// A contiguous buffer of length-prefixed entries (see the module docs).
#[derive(Clone, Default)]
pub(crate) struct Listpack {
    /// `buf[head..]` holds the entries; `buf[..head]` is headroom.
    buf: Vec<u8>,
    head: usize,
    count: usize,
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Listpack {
    /// An empty listpack.
    pub(crate) fn new() -> Listpack {
        Listpack::default()
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// True when there are no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The size Redis would report for this listpack (`lpBytes`).
    pub(crate) fn bytes(&self) -> usize {
        self.buf.len() - self.head + LP_OVERHEAD
    }

    /// The heap bytes held, headroom included.
    pub(crate) fn allocated(&self) -> usize {
        self.buf.capacity()
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// The byte offset one past the last entry.
    pub(crate) fn end(&self) -> usize {
        self.buf.len() - self.head
    }

    /// The entry starting at byte offset `off` and the offset of the next.
    pub(crate) fn entry_at(&self, off: usize) -> (&[u8], usize) {
        let data = self.data();
        let mut len = 0usize;
        let mut shift = 0;
        let mut p = off;
        loop {
            let b = data[p];
            p += 1;
            len |= ((b & 0x7f) as usize) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let start = p;
        let inner = (p - off) + len;
        (&data[start..start + len], off + inner + varint_len(inner))
    }

    /// The offset of the entry before the one at `off` (`off` may be
    /// [`Listpack::end`]); `None` at the first entry.
    pub(crate) fn prev_offset(&self, off: usize) -> Option<usize> {
        if off == 0 {
            return None;
        }
        let data = self.data();
        let mut inner = 0usize;
        let mut shift = 0;
        let mut p = off;
        loop {
            p -= 1;
            let b = data[p];
            inner |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        Some(p - inner)
    }

    /// Iterates the entries front to back (double-ended).
    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter { lp: self, front: 0, back: self.end(), remaining: self.count }
    }

    /// Iterates the entries from entry `index` (`index <= len`) on.
    pub(crate) fn iter_from(&self, index: usize) -> Iter<'_> {
        Iter { lp: self, front: self.offset_of(index), back: self.end(), remaining: self.count - index }
    }

    /// The byte offset of entry `index` (`index <= len`; `len` gives `end`),
    /// walking from the nearer end.
    pub(crate) fn offset_of(&self, index: usize) -> usize {
        debug_assert!(index <= self.count);
        if index <= self.count / 2 {
            let mut off = 0;
            for _ in 0..index {
                off = self.entry_at(off).1;
            }
            off
        } else {
            let mut off = self.end();
            for _ in index..self.count {
                off = self.prev_offset(off).expect("entry");
            }
            off
        }
    }

    /// The entry at `index`, if any.
    pub(crate) fn get(&self, index: usize) -> Option<&[u8]> {
        (index < self.count).then(|| self.entry_at(self.offset_of(index)).0)
    }

    /// Replaces `remove` bytes at `off` (relative to the first entry) by a
    /// gap of `len` bytes and returns the gap's index in `buf`. Front
    /// insertions use the headroom, front removals just advance it, and
    /// appends reclaim it rather than reallocate when it is large.
    fn make_room(&mut self, off: usize, remove: usize, len: usize) -> usize {
        if off == 0 && remove == 0 {
            if self.head < len {
                let used = self.end();
                let room = used.max(32) + len;
                let mut buf = Vec::with_capacity(room + used);
                buf.resize(room, 0);
                buf.extend_from_slice(self.data());
                self.buf = buf;
                self.head = room;
            }
            self.head -= len;
            return self.head;
        }
        if off == 0 && len == 0 {
            self.head += remove;
            if self.head == self.buf.len() {
                self.buf.clear();
                self.head = 0;
            }
            return self.head;
        }
        if off == self.end() && remove == 0 {
            if self.buf.len() + len > self.buf.capacity() && self.head * 2 >= self.buf.len() {
                self.buf.drain(..self.head);
                self.head = 0;
            }
            let at = self.buf.len();
            self.buf.resize(at + len, 0);
            return at;
        }
        let at = self.head + off;
        if len > remove {
            self.buf.splice(at..at, std::iter::repeat_n(0, len - remove));
        } else if len < remove {
            self.buf.drain(at..at + (remove - len));
        }
        at
    }

    /// Replaces `remove` bytes at `off` by `insert`.
    fn splice(&mut self, off: usize, remove: usize, insert: &[u8]) {
        let at = self.make_room(off, remove, insert.len());
        self.buf[at..at + insert.len()].copy_from_slice(insert);
    }

    /// Inserts `data` as a new entry at byte offset `off`.
    pub(crate) fn insert_at(&mut self, off: usize, data: &[u8]) {
        let size = entry_size(data.len());
        let at = self.make_room(off, 0, size);
        encode_into(&mut self.buf[at..at + size], data);
        self.count += 1;
    }

    /// Inserts several entries at byte offset `off`, in order.
    pub(crate) fn insert_many_at(&mut self, off: usize, items: &[&[u8]]) {
        let mut enc = Vec::new();
        for d in items {
            encode_entry(&mut enc, d);
        }
        self.splice(off, 0, &enc);
        self.count += items.len();
    }

    /// Appends an entry.
    pub(crate) fn push_back(&mut self, data: &[u8]) {
        let end = self.end();
        self.insert_at(end, data);
    }

    /// Prepends an entry.
    pub(crate) fn push_front(&mut self, data: &[u8]) {
        self.insert_at(0, data);
    }

    /// Removes `n` entries starting at byte offset `off`.
    pub(crate) fn delete_at(&mut self, off: usize, n: usize) {
        let mut end = off;
        for _ in 0..n {
            end = self.entry_at(end).1;
        }
        self.splice(off, end - off, &[]);
        self.count -= n;
    }

    /// Removes `n` entries starting at entry `index`.
    pub(crate) fn delete_range(&mut self, index: usize, n: usize) {
        if n == 0 {
            return;
        }
        if index == 0 && n == self.count {
            *self = Listpack::new();
            return;
        }
        let off = self.offset_of(index);
        self.delete_at(off, n);
    }

    /// Replaces the entry at byte offset `off` by `data`.
    pub(crate) fn replace_at(&mut self, off: usize, data: &[u8]) {
        let next = self.entry_at(off).1;
        let size = entry_size(data.len());
        let at = self.make_room(off, next - off, size);
        encode_into(&mut self.buf[at..at + size], data);
    }

    /// Removes and returns the first entry.
    pub(crate) fn pop_front(&mut self) -> Option<Vec<u8>> {
        if self.count == 0 {
            return None;
        }
        let (v, next) = self.entry_at(0);
        let v = v.to_vec();
        self.splice(0, next, &[]);
        self.count -= 1;
        Some(v)
    }

    /// Removes and returns the last entry.
    pub(crate) fn pop_back(&mut self) -> Option<Vec<u8>> {
        if self.count == 0 {
            return None;
        }
        let off = self.prev_offset(self.end()).expect("entry");
        let v = self.entry_at(off).0.to_vec();
        self.buf.truncate(self.head + off);
        self.count -= 1;
        if self.count == 0 {
            self.buf.clear();
            self.head = 0;
        }
        Some(v)
    }

    /// Splits off the entries from `index` on into a new listpack.
    pub(crate) fn split_off(&mut self, index: usize) -> Listpack {
        let off = self.offset_of(index);
        let tail = Listpack { buf: self.data()[off..].to_vec(), head: 0, count: self.count - index };
        self.buf.truncate(self.head + off);
        self.count = index;
        tail
    }

    /// Appends all of `other`'s entries.
    pub(crate) fn append(&mut self, other: &Listpack) {
        let end = self.end();
        self.splice(end, 0, other.data());
        self.count += other.count;
    }

    /// Keeps only the entries for which `keep(index, entry)` is true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool) {
        let mut out = Listpack::new();
        let mut off = 0;
        let mut i = 0;
        while off < self.end() {
            let (v, next) = self.entry_at(off);
            if keep(i, v) {
                out.buf.extend_from_slice(&self.data()[off..next]);
                out.count += 1;
            }
            off = next;
            i += 1;
        }
        *self = out;
    }
}

/// A double-ended iterator over a listpack's entries.
#[derive(Clone)]
pub(crate) struct Iter<'a> {
    lp: &'a Listpack,
    front: usize,
    back: usize,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let (v, next) = self.lp.entry_at(self.front);
        self.front = next;
        self.remaining -= 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let off = self.lp.prev_offset(self.back).expect("entry");
        self.back = off;
        self.remaining -= 1;
        Some(self.lp.entry_at(off).0)
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(|v| v.to_vec()).collect()
    }

    #[test]
    fn push_pop_both_ends_and_reverse_iteration() {
        let mut lp = Listpack::new();
        let big = vec![b'x'; 300];
        lp.push_back(b"b");
        lp.push_front(b"a");
        lp.push_back(&big);
        lp.push_back(b"");
        assert_eq!(lp.len(), 4);
        assert_eq!(items(&lp), vec![b"a".to_vec(), b"b".to_vec(), big.clone(), vec![]]);
        let rev: Vec<_> = lp.iter().rev().map(|v| v.to_vec()).collect();
        assert_eq!(rev, vec![vec![], big.clone(), b"b".to_vec(), b"a".to_vec()]);
        assert_eq!(lp.get(2), Some(&big[..]));
        assert_eq!(lp.pop_back(), Some(vec![]));
        assert_eq!(lp.pop_front(), Some(b"a".to_vec()));
        assert_eq!(lp.pop_back(), Some(big));
        assert_eq!(lp.pop_back(), Some(b"b".to_vec()));
        assert_eq!(lp.pop_back(), None);
        assert!(lp.is_empty());
    }

    #[test]
    fn entry_sizes_match_encoding() {
        for len in [0usize, 1, 120, 124, 125, 126, 127, 128, 200, 16_380, 16_400, 70_000] {
            let mut v = Vec::new();
            encode_entry(&mut v, &vec![7u8; len]);
            assert_eq!(v.len(), entry_size(len), "len {len}");
            let mut lp = Listpack::new();
            lp.push_back(b"z");
            lp.push_back(&vec![7u8; len]);
            lp.push_back(b"q");
            let rev: Vec<usize> = lp.iter().rev().map(|e| e.len()).collect();
            assert_eq!(rev, vec![1, len, 1]);
        }
    }

    #[test]
    fn front_headroom_is_reused() {
        let mut lp = Listpack::new();
        for i in 0..1000u32 {
            lp.push_front(&i.to_be_bytes());
        }
        for i in (0..1000u32).rev() {
            assert_eq!(lp.pop_front(), Some(i.to_be_bytes().to_vec()));
        }
        // Queue use: push back, pop front; the buffer must not grow forever.
        for i in 0..100_000u32 {
            lp.push_back(&i.to_be_bytes());
            lp.pop_front();
        }
        assert!(lp.allocated() < 4096, "{}", lp.allocated());
    }

    #[test]
    fn insert_delete_replace_split_retain() {
        let mut lp = Listpack::new();
        for s in ["a", "b", "c", "d", "e"] {
            lp.push_back(s.as_bytes());
        }
        let off = lp.offset_of(2);
        lp.insert_at(off, b"X");
        assert_eq!(lp.get(2), Some(&b"X"[..]));
        lp.delete_range(1, 2);
        assert_eq!(items(&lp), ["a", "c", "d", "e"].map(|s| s.as_bytes().to_vec()));
        let off = lp.offset_of(1);
        lp.replace_at(off, b"long-value");
        assert_eq!(lp.get(1), Some(&b"long-value"[..]));
        let tail = lp.split_off(2);
        assert_eq!(items(&tail), ["d", "e"].map(|s| s.as_bytes().to_vec()));
        lp.append(&tail);
        assert_eq!(lp.len(), 4);
        lp.retain(|i, v| i != 0 && v != b"e");
        assert_eq!(items(&lp), ["long-value", "d"].map(|s| s.as_bytes().to_vec()));
        lp.insert_many_at(0, &[b"p", b"q"]);
        assert_eq!(lp.get(1), Some(&b"q"[..]));
        assert_eq!(lp.bytes(), lp.end() + LP_OVERHEAD);
    }
}
