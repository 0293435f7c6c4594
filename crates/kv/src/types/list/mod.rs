//! The list type, with Redis 7.2's two encodings.
//!
//! A small list is one *listpack* (a single contiguous buffer). When
//! it outgrows one quicklist node (`list-max-listpack-size`) it becomes a
//! *quicklist*: a deque of such nodes, so pushes and pops at either
//! end stay O(1) however long the list gets. When a quicklist shrinks back to
//! one node holding at most half the cap, it becomes a listpack again; the gap
//! between the two thresholds keeps a list near the limit from flapping.

pub(crate) mod listpack;
pub(crate) mod quicklist;

#[cfg(test)]
mod tests;

use self::listpack::Listpack;
use self::quicklist::{exceeds_limit, node_limit, Quicklist};
use super::EncodingConfig;

#[derive(Clone, Debug)]
enum Repr {
    Listpack(Listpack),
    Quicklist(Quicklist),
}

/// A Redis list value.
#[derive(Clone, Debug)]
pub struct ListValue {
    repr: Repr,
    /// The `list-max-listpack-size` of the last mutating call that carried a
    /// config; pops use it for the shrinking conversion.
    fill: i64,
}

impl Default for ListValue {
    fn default() -> ListValue {
        ListValue::new()
    }
}

/// Resolves Redis's index conventions (negative counts from the tail) and
/// clamps `start..=stop` to the list as LRANGE does; `None` when empty.
fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { start + len } else { start };
    let mut stop = if stop < 0 { stop + len } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

impl ListValue {
    /// An empty list in the listpack encoding.
    pub fn new() -> ListValue {
        ListValue {
            repr: Repr::Listpack(Listpack::new()),
            fill: EncodingConfig::default().list_max_listpack_size,
        }
    }

    /// Builds a list from its elements (RDB loading), choosing the encoding
    /// as a run of pushes would.
    pub fn from_items<I, T>(items: I, cfg: &EncodingConfig) -> ListValue
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut list = ListValue::new();
        for item in items {
            list.push_back(item.as_ref(), cfg);
        }
        list
    }

    /// `OBJECT ENCODING`'s name for the current encoding.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Quicklist(_) => "quicklist",
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.len(),
            Repr::Quicklist(ql) => ql.len(),
        }
    }

    /// True when the list has no elements (the key should then be deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An estimate of the heap bytes the value holds (`MEMORY USAGE`).
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<ListValue>()
            + match &self.repr {
                Repr::Listpack(lp) => lp.allocated(),
                Repr::Quicklist(ql) => ql.memory_usage(),
            }
    }

    /// Converts a listpack to a quicklist if adding `add_len` bytes as
    /// `add_count` elements would overflow one node (`listTypeTryConvertListpack`).
    fn grow_check(&mut self, add_bytes: usize, add_count: usize, cfg: &EncodingConfig) {
        self.fill = cfg.list_max_listpack_size;
        if let Repr::Listpack(lp) = &mut self.repr {
            if exceeds_limit(self.fill, lp.bytes() + add_bytes, lp.len() + add_count) {
                let lp = std::mem::take(lp);
                self.repr = Repr::Quicklist(Quicklist::from_listpack(lp));
            }
        }
    }

    /// Converts a quicklist back to a listpack when it is one packed node
    /// within half the node cap (`listTypeTryConvertQuicklist`, shrinking).
    fn shrink_check(&mut self) {
        let Repr::Quicklist(ql) = &mut self.repr else {
            return;
        };
        let fits = match ql.single_packed() {
            Some(lp) => {
                let (size, count) = node_limit(self.fill);
                lp.bytes() <= size / 2 && lp.len() <= count / 2
            }
            None => ql.len() == 0,
        };
        if fits {
            let ql = std::mem::take(ql);
            let lp = if ql.len() == 0 { Listpack::new() } else { ql.into_single_packed() };
            self.repr = Repr::Listpack(lp);
        }
    }

    /// LPUSH one element.
    pub fn push_front(&mut self, value: &[u8], cfg: &EncodingConfig) {
        self.grow_check(value.len(), 1, cfg);
        match &mut self.repr {
            Repr::Listpack(lp) => lp.push_front(value),
            Repr::Quicklist(ql) => ql.push_front(value, self.fill),
        }
    }

    /// RPUSH one element.
    pub fn push_back(&mut self, value: &[u8], cfg: &EncodingConfig) {
        self.grow_check(value.len(), 1, cfg);
        match &mut self.repr {
            Repr::Listpack(lp) => lp.push_back(value),
            Repr::Quicklist(ql) => ql.push_back(value, self.fill),
        }
    }

    /// LPOP one element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let v = match &mut self.repr {
            Repr::Listpack(lp) => lp.pop_front(),
            Repr::Quicklist(ql) => ql.pop_front(),
        };
        self.shrink_check();
        v
    }

    /// RPOP one element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let v = match &mut self.repr {
            Repr::Listpack(lp) => lp.pop_back(),
            Repr::Quicklist(ql) => ql.pop_back(),
        };
        self.shrink_check();
        v
    }

    /// Resolves an LINDEX-style index (negative from the tail).
    fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if index < 0 { index + len } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// LINDEX: the element at `index` (negative counts from the tail).
    pub fn index(&self, index: i64) -> Option<&[u8]> {
        let i = self.resolve(index)?;
        match &self.repr {
            Repr::Listpack(lp) => lp.get(i),
            Repr::Quicklist(ql) => ql.get(i),
        }
    }

    /// LSET: replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: i64, value: &[u8], cfg: &EncodingConfig) -> bool {
        // Redis converts for the growing case before checking the index.
        self.grow_check(value.len(), 1, cfg);
        let Some(i) = self.resolve(index) else {
            return false;
        };
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let off = lp.offset_of(i);
                lp.replace_at(off, value);
            }
            Repr::Quicklist(ql) => ql.replace(i, value, self.fill),
        }
        self.shrink_check();
        true
    }

    /// Iterates the elements front to back (double-ended).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        let (a, b) = match &self.repr {
            Repr::Listpack(lp) => (Some(lp.iter()), None),
            Repr::Quicklist(ql) => (None, Some(ql.iter())),
        };
        a.into_iter().flatten().chain(b.into_iter().flatten())
    }

    /// LRANGE: the elements from `start` to `stop` inclusive, clamped as
    /// Redis does (negative indices count from the tail).
    pub fn range(&self, start: i64, stop: i64) -> impl Iterator<Item = &[u8]> + '_ {
        let (from, count) = match clamp_range(start, stop, self.len()) {
            Some((s, e)) => (s, e - s + 1),
            None => (self.len(), 0),
        };
        let (a, b) = match &self.repr {
            Repr::Listpack(lp) => (Some(lp.iter_from(from)), None),
            Repr::Quicklist(ql) => (None, Some(ql.iter_from(from))),
        };
        a.into_iter().flatten().chain(b.into_iter().flatten()).take(count)
    }

    /// Removes `n` elements from `start` (a valid range).
    fn delete_range(&mut self, start: usize, n: usize) {
        match &mut self.repr {
            Repr::Listpack(lp) => lp.delete_range(start, n),
            Repr::Quicklist(ql) => ql.delete_range(start, n, self.fill),
        }
    }

    /// LREM: removes up to `|count|` elements equal to `value`, from the head
    /// when `count > 0`, from the tail when `count < 0`, all when 0. Returns
    /// how many were removed.
    pub fn remove(&mut self, count: i64, value: &[u8]) -> usize {
        let limit =
            if count == 0 { usize::MAX } else { count.unsigned_abs().min(usize::MAX as u64) as usize };
        let len = self.len();
        let mut hits: Vec<usize> = if count >= 0 {
            self.iter().enumerate().filter(|(_, v)| *v == value).map(|(i, _)| i).take(limit).collect()
        } else {
            self.iter()
                .rev()
                .enumerate()
                .filter(|(_, v)| *v == value)
                .map(|(i, _)| len - 1 - i)
                .take(limit)
                .collect()
        };
        if hits.is_empty() {
            return 0;
        }
        if count < 0 {
            hits.reverse();
        }
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let mut h = 0;
                lp.retain(|i, _| {
                    if h < hits.len() && hits[h] == i {
                        h += 1;
                        false
                    } else {
                        true
                    }
                });
            }
            Repr::Quicklist(ql) => ql.remove_indices(&hits, self.fill),
        }
        self.shrink_check();
        hits.len()
    }

    /// LTRIM: keeps only `start..=stop` (LRANGE's clamping; an empty range
    /// empties the list).
    pub fn trim(&mut self, start: i64, stop: i64) {
        let len = self.len();
        let (ltrim, rtrim) = match clamp_range(start, stop, len) {
            Some((s, e)) => (s, len - e - 1),
            None => (len, 0),
        };
        self.delete_range(0, ltrim);
        let rest = self.len();
        self.delete_range(rest - rtrim, rtrim);
        self.shrink_check();
    }

    /// LINSERT: inserts `value` before or after the first `pivot`; returns
    /// the new length, or `None` when the pivot is missing.
    pub fn insert(
        &mut self,
        before: bool,
        pivot: &[u8],
        value: &[u8],
        cfg: &EncodingConfig,
    ) -> Option<usize> {
        self.grow_check(value.len(), 1, cfg);
        let at = self.iter().position(|v| v == pivot)?;
        let at = if before { at } else { at + 1 };
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let off = lp.offset_of(at);
                lp.insert_at(off, value);
            }
            Repr::Quicklist(ql) => ql.insert(at, value, self.fill),
        }
        Some(self.len())
    }

    /// LPOS: the indices (from the head) of matches of `element`. `rank`
    /// (non-zero) skips to the rank-th match, scanning from the tail when
    /// negative; `count` caps the matches (0 = all); `maxlen` caps the
    /// elements compared (0 = all). A `rank` of 0 finds nothing (the server
    /// rejects it before calling).
    pub fn position(&self, element: &[u8], rank: i64, count: usize, maxlen: usize) -> Vec<usize> {
        if rank == 0 {
            return Vec::new();
        }
        let count = if count == 0 { usize::MAX } else { count };
        let maxlen = if maxlen == 0 { usize::MAX } else { maxlen };
        let skip = (rank.unsigned_abs() - 1).min(usize::MAX as u64) as usize;
        let len = self.len();
        let matches = |it: &mut dyn Iterator<Item = (usize, &[u8])>| -> Vec<usize> {
            it.take(maxlen).filter(|(_, v)| *v == element).map(|(i, _)| i).skip(skip).take(count).collect()
        };
        if rank > 0 {
            matches(&mut self.iter().enumerate())
        } else {
            matches(&mut self.iter().rev().enumerate().map(|(i, v)| (len - 1 - i, v)))
        }
    }
}
