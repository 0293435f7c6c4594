//! A quicklist: a deque of listpack nodes, each capped in size.
//!
//! A long list as one listpack would memmove the whole buffer on every insert;
//! a linked list of single elements would pay an allocation and two pointers
//! per element. The quicklist sits between: each node is a small listpack
//! (capped by `list-max-listpack-size`), so pushes and pops at either end touch
//! one small node, and the elements stay packed. An element too large for any
//! node lives alone in a *plain* node, as raw bytes.

use std::collections::VecDeque;

use super::listpack::{entry_size, Iter as LpIter, Listpack};

/// Byte caps for `list-max-listpack-size` -1..=-5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// The byte cap that still applies when the fill caps the entry count.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// The `(bytes, entries)` caps of one node for a fill factor; `usize::MAX`
/// means unlimited (Redis's `quicklistNodeLimit`).
pub(crate) fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, (fill as usize).max(1))
    } else {
        let offset = ((-fill - 1) as usize).min(OPTIMIZATION_LEVEL.len() - 1);
        (OPTIMIZATION_LEVEL[offset], usize::MAX)
    }
}

/// True when a node of `bytes` bytes and `count` entries is over the cap
/// (Redis's `quicklistNodeExceedsLimit`).
pub(crate) fn exceeds_limit(fill: i64, bytes: usize, count: usize) -> bool {
    let (size_limit, count_limit) = node_limit(fill);
    if size_limit != usize::MAX {
        bytes > size_limit
    } else {
        bytes > SIZE_SAFETY_LIMIT || count > count_limit
    }
}

/// The default of [`set_packed_threshold`]: no override.
const NO_PACKED_THRESHOLD: usize = 1 << 30;

thread_local! {
    /// `DEBUG QUICKLIST-PACKED-THRESHOLD`: elements longer than this get a
    /// plain node whatever the fill (a test hook of Redis's for the plain
    /// node code). One per server thread, as Redis's is one per process.
    static PACKED_THRESHOLD: std::cell::Cell<usize> = const { std::cell::Cell::new(NO_PACKED_THRESHOLD) };
}

/// Sets the plain-node threshold override (Redis's
/// `quicklistisSetPackedThreshold`): 0 puts the default back; `false` if
/// `bytes` is 4 GiB - 1 MiB or more.
pub(crate) fn set_packed_threshold(bytes: u64) -> bool {
    if bytes > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let v = if bytes == 0 { NO_PACKED_THRESHOLD } else { bytes as usize };
    PACKED_THRESHOLD.with(|t| t.set(v));
    true
}

/// True when an element of `len` bytes gets its own plain node.
pub(crate) fn is_large(len: usize, fill: i64) -> bool {
    let threshold = PACKED_THRESHOLD.with(|t| t.get());
    if threshold != NO_PACKED_THRESHOLD {
        return len > threshold;
    }
    if fill >= 0 {
        len > SIZE_SAFETY_LIMIT
    } else {
        len > node_limit(fill).0
    }
}

/// One quicklist node.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// A listpack of several elements.
    Packed(Listpack),
    /// One large element.
    Plain(Box<[u8]>),
}

impl Node {
    fn len(&self) -> usize {
        match self {
            Node::Packed(lp) => lp.len(),
            Node::Plain(_) => 1,
        }
    }

    fn iter(&self) -> NodeIter<'_> {
        match self {
            Node::Packed(lp) => NodeIter::Packed(lp.iter()),
            Node::Plain(v) => NodeIter::Plain(Some(v)),
        }
    }

    fn iter_from(&self, k: usize) -> NodeIter<'_> {
        match self {
            Node::Packed(lp) => NodeIter::Packed(lp.iter_from(k)),
            Node::Plain(v) => NodeIter::Plain((k == 0).then_some(&**v)),
        }
    }

    /// True when `len` more bytes fit in this node as a new entry.
    fn allows_insert(&self, len: usize, fill: i64) -> bool {
        match self {
            Node::Plain(_) => false,
            Node::Packed(lp) => {
                !is_large(len, fill) && !exceeds_limit(fill, lp.bytes() + entry_size(len), lp.len() + 1)
            }
        }
    }
}

/// Iterates one node's elements.
#[derive(Clone)]
pub(crate) enum NodeIter<'a> {
    /// A listpack node.
    Packed(LpIter<'a>),
    /// A plain node (its one element, until taken).
    Plain(Option<&'a [u8]>),
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        match self {
            NodeIter::Packed(it) => it.next(),
            NodeIter::Plain(v) => v.take(),
        }
    }
}

impl<'a> DoubleEndedIterator for NodeIter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        match self {
            NodeIter::Packed(it) => it.next_back(),
            NodeIter::Plain(v) => v.take(),
        }
    }
}

/// A deque of capped listpack nodes (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct Quicklist {
    nodes: VecDeque<Node>,
    count: usize,
}

impl Quicklist {
    /// A quicklist holding one listpack node (empty listpacks are dropped).
    pub(crate) fn from_listpack(lp: Listpack) -> Quicklist {
        let mut ql = Quicklist::default();
        if !lp.is_empty() {
            ql.count = lp.len();
            ql.nodes.push_back(Node::Packed(lp));
        }
        ql
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The number of nodes.
    #[cfg(test)]
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The single packed node, when it is the only node (for the conversion
    /// back to a listpack).
    pub(crate) fn single_packed(&self) -> Option<&Listpack> {
        match (self.nodes.len(), self.nodes.front()) {
            (1, Some(Node::Packed(lp))) => Some(lp),
            _ => None,
        }
    }

    /// Takes the single packed node out (see [`Quicklist::single_packed`]).
    pub(crate) fn into_single_packed(mut self) -> Listpack {
        match self.nodes.pop_front() {
            Some(Node::Packed(lp)) => lp,
            _ => unreachable!("checked by single_packed"),
        }
    }

    /// Heap bytes held by the nodes.
    pub(crate) fn memory_usage(&self) -> usize {
        let per_node = std::mem::size_of::<Node>();
        self.nodes.capacity() * per_node
            + self
                .nodes
                .iter()
                .map(|n| match n {
                    Node::Packed(lp) => lp.allocated(),
                    Node::Plain(v) => v.len(),
                })
                .sum::<usize>()
    }

    /// Appends an element.
    pub(crate) fn push_back(&mut self, v: &[u8], fill: i64) {
        self.count += 1;
        if is_large(v.len(), fill) {
            self.nodes.push_back(Node::Plain(v.into()));
            return;
        }
        match self.nodes.back_mut() {
            Some(node) if node.allows_insert(v.len(), fill) => {
                let Node::Packed(lp) = node else { unreachable!() };
                lp.push_back(v);
            }
            _ => {
                let mut lp = Listpack::new();
                lp.push_back(v);
                self.nodes.push_back(Node::Packed(lp));
            }
        }
    }

    /// Prepends an element.
    pub(crate) fn push_front(&mut self, v: &[u8], fill: i64) {
        self.count += 1;
        if is_large(v.len(), fill) {
            self.nodes.push_front(Node::Plain(v.into()));
            return;
        }
        match self.nodes.front_mut() {
            Some(node) if node.allows_insert(v.len(), fill) => {
                let Node::Packed(lp) = node else { unreachable!() };
                lp.push_front(v);
            }
            _ => {
                let mut lp = Listpack::new();
                lp.push_front(v);
                self.nodes.push_front(Node::Packed(lp));
            }
        }
    }

    /// Removes and returns the first element.
    pub(crate) fn pop_front(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.front_mut()?;
        self.count -= 1;
        match node {
            Node::Plain(_) => match self.nodes.pop_front() {
                Some(Node::Plain(v)) => Some(v.into_vec()),
                _ => unreachable!(),
            },
            Node::Packed(lp) => {
                let v = lp.pop_front();
                if lp.is_empty() {
                    self.nodes.pop_front();
                }
                v
            }
        }
    }

    /// Removes and returns the last element.
    pub(crate) fn pop_back(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.back_mut()?;
        self.count -= 1;
        match node {
            Node::Plain(_) => match self.nodes.pop_back() {
                Some(Node::Plain(v)) => Some(v.into_vec()),
                _ => unreachable!(),
            },
            Node::Packed(lp) => {
                let v = lp.pop_back();
                if lp.is_empty() {
                    self.nodes.pop_back();
                }
                v
            }
        }
    }

    /// The node holding element `index` (`< len`) and the index inside it,
    /// walking from the nearer end.
    fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.count);
        if index < self.count / 2 {
            let mut i = index;
            for (n, node) in self.nodes.iter().enumerate() {
                if i < node.len() {
                    return (n, i);
                }
                i -= node.len();
            }
        } else {
            let mut from_end = self.count - index;
            for n in (0..self.nodes.len()).rev() {
                let l = self.nodes[n].len();
                if from_end <= l {
                    return (n, l - from_end);
                }
                from_end -= l;
            }
        }
        unreachable!("index within count")
    }

    /// The element at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&[u8]> {
        if index >= self.count {
            return None;
        }
        let (n, k) = self.locate(index);
        match &self.nodes[n] {
            Node::Packed(lp) => lp.get(k),
            Node::Plain(v) => Some(v),
        }
    }

    /// Iterates the elements front to back (double-ended).
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.nodes.iter().flat_map(Node::iter)
    }

    /// Iterates the elements from `index` (`< len`) on.
    pub(crate) fn iter_from(&self, index: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let (n, k) = if index < self.count { self.locate(index) } else { (self.nodes.len(), 0) };
        let first = self.nodes.get(n).map(|node| node.iter_from(k));
        first
            .into_iter()
            .flatten()
            .chain(self.nodes.range((n + 1).min(self.nodes.len())..).flat_map(Node::iter))
    }

    /// Splits an over-full packed node `n` in halves until every part fits.
    fn split_to_fit(&mut self, n: usize, fill: i64) {
        let Node::Packed(lp) = &mut self.nodes[n] else {
            return;
        };
        if lp.len() < 2 || !exceeds_limit(fill, lp.bytes(), lp.len()) {
            return;
        }
        let tail = lp.split_off(lp.len() / 2);
        self.nodes.insert(n + 1, Node::Packed(tail));
        self.split_to_fit(n + 1, fill);
        self.split_to_fit(n, fill);
    }

    /// Merges node `n` with its neighbours while the merged node fits.
    fn merge_around(&mut self, n: usize, fill: i64) {
        if n + 1 < self.nodes.len() {
            self.try_merge(n, fill);
        }
        if n > 0 && n < self.nodes.len() {
            self.try_merge(n - 1, fill);
        }
    }

    /// Merges nodes `a` and `a + 1` when both are packed and the result fits.
    fn try_merge(&mut self, a: usize, fill: i64) -> bool {
        let fits = match (&self.nodes[a], &self.nodes[a + 1]) {
            (Node::Packed(x), Node::Packed(y)) => {
                !exceeds_limit(fill, x.bytes() + y.bytes() - 7, x.len() + y.len())
            }
            _ => false,
        };
        if fits {
            let Some(Node::Packed(y)) = self.nodes.remove(a + 1) else { unreachable!() };
            let Node::Packed(x) = &mut self.nodes[a] else { unreachable!() };
            x.append(&y);
        }
        fits
    }

    /// Inserts `v` so that it becomes element `index` (`<= len`).
    pub(crate) fn insert(&mut self, index: usize, v: &[u8], fill: i64) {
        if index == 0 {
            return self.push_front(v, fill);
        }
        if index >= self.count {
            return self.push_back(v, fill);
        }
        let (n, k) = self.locate(index);
        self.count += 1;
        if is_large(v.len(), fill) {
            let at = self.split_node(n, k);
            self.nodes.insert(at, Node::Plain(v.into()));
            return;
        }
        match &mut self.nodes[n] {
            Node::Packed(lp) => {
                let off = lp.offset_of(k);
                lp.insert_at(off, v);
                self.split_to_fit(n, fill);
            }
            Node::Plain(_) => {
                // k == 0: the new element goes after node n - 1.
                if n > 0 && self.nodes[n - 1].allows_insert(v.len(), fill) {
                    let Node::Packed(lp) = &mut self.nodes[n - 1] else { unreachable!() };
                    lp.push_back(v);
                } else {
                    let mut lp = Listpack::new();
                    lp.push_back(v);
                    self.nodes.insert(n, Node::Packed(lp));
                }
            }
        }
    }

    /// Splits packed node `n` before its element `k`; returns the index at
    /// which a node placed between the halves goes.
    fn split_node(&mut self, n: usize, k: usize) -> usize {
        if k == 0 {
            return n;
        }
        let Node::Packed(lp) = &mut self.nodes[n] else { unreachable!("a plain node has one element") };
        let tail = lp.split_off(k);
        if !tail.is_empty() {
            self.nodes.insert(n + 1, Node::Packed(tail));
        }
        n + 1
    }

    /// Replaces element `index` (`< len`) by `v`.
    pub(crate) fn replace(&mut self, index: usize, v: &[u8], fill: i64) {
        let (n, k) = self.locate(index);
        let large = is_large(v.len(), fill);
        match &mut self.nodes[n] {
            Node::Plain(old) if large => *old = v.into(),
            Node::Plain(_) => {
                let mut lp = Listpack::new();
                lp.push_back(v);
                self.nodes[n] = Node::Packed(lp);
                self.merge_around(n, fill);
            }
            Node::Packed(lp) if large => {
                lp.delete_range(k, 1);
                let empty = lp.is_empty();
                let at = if empty {
                    self.nodes.remove(n);
                    n
                } else {
                    self.split_node(n, k)
                };
                self.nodes.insert(at, Node::Plain(v.into()));
            }
            Node::Packed(lp) => {
                let off = lp.offset_of(k);
                lp.replace_at(off, v);
                self.split_to_fit(n, fill);
            }
        }
    }

    /// Removes `n` elements starting at `start` (the range must be valid).
    pub(crate) fn delete_range(&mut self, start: usize, n: usize, fill: i64) {
        if n == 0 {
            return;
        }
        debug_assert!(start + n <= self.count);
        if start == 0 && n == self.count {
            *self = Quicklist::default();
            return;
        }
        let (mut node, k) = self.locate_for_delete(start);
        self.count -= n;
        let mut left = n;
        let mut first = true;
        while left > 0 {
            let len = self.nodes[node].len();
            let from = if first { k } else { 0 };
            first = false;
            let take = left.min(len - from);
            if take == len {
                self.nodes.remove(node);
            } else {
                let Node::Packed(lp) = &mut self.nodes[node] else {
                    unreachable!("a plain node is removed whole")
                };
                lp.delete_range(from, take);
                node += 1;
            }
            left -= take;
        }
        let boundary = node.min(self.nodes.len().saturating_sub(1));
        if !self.nodes.is_empty() {
            self.merge_around(boundary, fill);
        }
    }

    fn locate_for_delete(&self, start: usize) -> (usize, usize) {
        // Front deletions (LTRIM's left part) start in node 0 directly.
        if start == 0 {
            (0, 0)
        } else {
            self.locate(start)
        }
    }

    /// Removes the elements at the given indices (ascending, distinct).
    pub(crate) fn remove_indices(&mut self, indices: &[usize], fill: i64) {
        if indices.is_empty() {
            return;
        }
        let mut base = 0;
        let mut next = 0;
        let mut n = 0;
        while n < self.nodes.len() && next < indices.len() {
            let len = self.nodes[n].len();
            let end = base + len;
            let from = next;
            while next < indices.len() && indices[next] < end {
                next += 1;
            }
            let hits = &indices[from..next];
            if hits.len() == len {
                self.nodes.remove(n);
            } else {
                if !hits.is_empty() {
                    let Node::Packed(lp) = &mut self.nodes[n] else {
                        unreachable!("a plain node is removed whole")
                    };
                    let mut h = 0;
                    lp.retain(|i, _| {
                        if h < hits.len() && hits[h] == base + i {
                            h += 1;
                            false
                        } else {
                            true
                        }
                    });
                }
                n += 1;
            }
            base = end;
        }
        self.count -= indices.len();
        // Coalesce what shrank.
        let mut i = 0;
        while i + 1 < self.nodes.len() {
            if !self.try_merge(i, fill) {
                i += 1;
            }
        }
    }

    /// Checks the structural invariants (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self, fill: i64) {
        let mut total = 0;
        for node in &self.nodes {
            assert!(node.len() > 0, "empty node");
            if let Node::Packed(lp) = node {
                if lp.len() > 1 {
                    assert!(!exceeds_limit(fill, lp.bytes(), lp.len()), "over-full node");
                }
            }
            total += node.len();
        }
        assert_eq!(total, self.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(ql: &Quicklist) -> Vec<Vec<u8>> {
        ql.iter().map(|v| v.to_vec()).collect()
    }

    #[test]
    fn limits_follow_redis() {
        assert_eq!(node_limit(-2), (8192, usize::MAX));
        assert_eq!(node_limit(-9), (65536, usize::MAX));
        assert_eq!(node_limit(0), (usize::MAX, 1));
        assert_eq!(node_limit(128), (usize::MAX, 128));
        assert!(exceeds_limit(4, 100, 5));
        assert!(exceeds_limit(400, 8193, 5));
        assert!(!exceeds_limit(-1, 4096, 1_000));
        assert!(is_large(4097, -1) && !is_large(4096, -1));
        assert!(set_packed_threshold(1));
        assert!(is_large(2, -1) && !is_large(1, -1));
        assert!(!set_packed_threshold(1 << 32));
        assert!(set_packed_threshold(0));
        assert!(!is_large(2, -1));
        assert!(is_large(8193, 5) && !is_large(8192, 5));
    }

    #[test]
    fn nodes_fill_to_the_cap_then_split() {
        let mut ql = Quicklist::default();
        for i in 0..10u8 {
            ql.push_back(&[i], 3);
        }
        assert_eq!(ql.node_count(), 4);
        ql.check(3);
        ql.insert(1, b"x", 3);
        ql.check(3);
        assert_eq!(ql.get(1), Some(&b"x"[..]));
        assert_eq!(ql.get(2), Some(&[1u8][..]));
        ql.delete_range(0, 5, 3);
        ql.check(3);
        assert_eq!(items(&ql), (4..10u8).map(|i| vec![i]).collect::<Vec<_>>());
    }

    #[test]
    fn large_elements_get_plain_nodes() {
        let mut ql = Quicklist::default();
        let big = vec![b'z'; 5000];
        ql.push_back(b"a", -1);
        ql.push_back(&big, -1);
        ql.push_back(b"b", -1);
        assert_eq!(ql.node_count(), 3);
        ql.insert(1, &big, -1);
        ql.replace(0, &big, -1);
        ql.replace(2, b"small", -1);
        ql.check(-1);
        assert_eq!(items(&ql), vec![big.clone(), big.clone(), b"small".to_vec(), b"b".to_vec()]);
        assert_eq!(ql.pop_front(), Some(big.clone()));
        ql.remove_indices(&[0], -1);
        ql.check(-1);
        assert_eq!(items(&ql), vec![b"small".to_vec(), b"b".to_vec()]);
        assert!(ql.single_packed().is_some());
    }

    #[test]
    fn iter_from_and_reverse() {
        let mut ql = Quicklist::default();
        for i in 0..20u8 {
            ql.push_front(&[i], 4);
        }
        let got: Vec<u8> = ql.iter_from(5).map(|v| v[0]).collect();
        assert_eq!(got, (0..15u8).rev().collect::<Vec<_>>());
        let rev: Vec<u8> = ql.iter().rev().map(|v| v[0]).collect();
        assert_eq!(rev, (0..20u8).collect::<Vec<_>>());
        assert_eq!(ql.iter_from(20).count(), 0);
    }
}
