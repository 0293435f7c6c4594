//! Redis's zskiplist, in safe Rust: an arena of nodes linked by index.
//!
//! A skiplist is a sorted linked list with express lanes: each node gets a
//! random height (p = 1/4 per extra level, at most 32), and level `i` links
//! each node to the next node at least that tall. A search walks the top
//! lane until it would overshoot, then drops a level: O(log n) expected.
//! Redis adds a *span* to every link (how many level-0 nodes it jumps), so
//! summing spans along a search path yields a rank, and descending by spans
//! finds the n-th element, both in O(log n).
//!
//! Nodes live in one `Vec` and link by `u32` index (`NIL` for none); freed
//! slots go on a free list. Index 0 is the header, which holds no member.

use super::range::{LexRange, ScoreRange};

/// The most levels a node can have.
const MAX_LEVEL: usize = 32;
/// The null link.
pub(crate) const NIL: u32 = u32::MAX;
/// The header node's index.
const HEAD: u32 = 0;

/// One link. It caches the score of the node it points to, so a search
/// decides "step or descend" without touching that node (one cache miss
/// saved per comparison); only equal scores need the node's member.
#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    span: u32,
    fscore: f64,
}

const NO_LINK: Level = Level { forward: NIL, span: 0, fscore: 0.0 };

#[derive(Clone, Debug)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    backward: u32,
    /// The member's first 8 bytes, big-endian, zero-padded: comparing
    /// prefixes orders members as memcmp does whenever they differ, so ties
    /// on score rarely need to follow the `member` pointer.
    prefix: u64,
    /// The node's number of levels.
    height: u8,
    /// Levels 0 and 1 (15 nodes in 16 have no more), inline so a search
    /// step usually touches one cache line.
    low: [Level; INLINE],
    /// Levels from [`INLINE`] up.
    high: Box<[Level]>,
}

/// Levels stored inside the node.
const INLINE: usize = 2;

impl Node {
    fn new(member: Box<[u8]>, score: f64, height: usize) -> Node {
        Node {
            prefix: prefix(&member),
            member,
            score,
            backward: NIL,
            height: height as u8,
            low: [NO_LINK; INLINE],
            high: vec![NO_LINK; height.saturating_sub(INLINE)].into(),
        }
    }
}

/// See [`Node::prefix`].
fn prefix(member: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = member.len().min(8);
    b[..n].copy_from_slice(&member[..n]);
    u64::from_be_bytes(b)
}

#[cfg(test)]
/// True when `(s1, m1)` sorts before `(s2, m2)`: by score, then member bytes.
fn less(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

/// The skiplist (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    len: usize,
    level: usize,
    rng: u64,
}

impl Default for SkipList {
    fn default() -> SkipList {
        SkipList::new()
    }
}

impl SkipList {
    /// An empty skiplist.
    pub(crate) fn new() -> SkipList {
        use std::hash::{BuildHasher, Hasher};
        let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
        SkipList {
            nodes: vec![Node::new(Box::default(), 0.0, MAX_LEVEL)],
            free: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
            rng: seed | 1,
        }
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes held (arena, members and levels).
    pub(crate) fn memory_usage(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.free.capacity() * 4
            + self
                .nodes
                .iter()
                .map(|n| n.member.len() + n.high.len() * std::mem::size_of::<Level>())
                .sum::<usize>()
    }

    /// A random height: each extra level with probability 1/4 (two random
    /// bits both zero), capped at [`MAX_LEVEL`].
    fn random_level(&mut self) -> usize {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (1 + (r.trailing_zeros() / 2) as usize).min(MAX_LEVEL)
    }

    fn lv(&self, x: u32, i: usize) -> Level {
        let n = &self.nodes[x as usize];
        if i < INLINE {
            n.low[i]
        } else {
            n.high[i - INLINE]
        }
    }

    fn lv_mut(&mut self, x: u32, i: usize) -> &mut Level {
        let n = &mut self.nodes[x as usize];
        if i < INLINE {
            &mut n.low[i]
        } else {
            &mut n.high[i - INLINE]
        }
    }

    /// The member and score of node `x`.
    pub(crate) fn entry(&self, x: u32) -> (&[u8], f64) {
        let n = &self.nodes[x as usize];
        (&n.member, n.score)
    }

    /// The member of node `x`.
    fn member(&self, x: u32) -> &[u8] {
        &self.nodes[x as usize].member
    }

    /// The first node, or `NIL`.
    pub(crate) fn first(&self) -> u32 {
        self.lv(HEAD, 0).forward
    }

    /// The last node, or `NIL`.
    pub(crate) fn last(&self) -> u32 {
        self.tail
    }

    /// The node after `x`, or `NIL`.
    pub(crate) fn next(&self, x: u32) -> u32 {
        self.lv(x, 0).forward
    }

    /// The node before `x`, or `NIL`.
    pub(crate) fn prev(&self, x: u32) -> u32 {
        self.nodes[x as usize].backward
    }

    fn alloc(&mut self, member: Box<[u8]>, score: f64, level: usize) -> u32 {
        let node = Node::new(member, score, level);
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                assert!(self.nodes.len() < NIL as usize, "skiplist full");
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Inserts a member that is not present; returns its node.
    pub(crate) fn insert(&mut self, score: f64, member: Box<[u8]>) -> u32 {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let p = prefix(&member);
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL || !self.link_less(l, score, &member, p) {
                    break;
                }
                rank[i] += l.span;
                x = l.forward;
            }
            update[i] = x;
        }
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.lv_mut(HEAD, i).span = self.len as u32;
            }
            self.level = level;
        }
        let new = self.alloc(member, score, level);
        for i in 0..level {
            let u = self.lv(update[i], i);
            let gap = rank[0] - rank[i];
            *self.lv_mut(new, i) = Level { forward: u.forward, span: u.span - gap, fscore: u.fscore };
            *self.lv_mut(update[i], i) = Level { forward: new, span: gap + 1, fscore: score };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.lv_mut(u, i).span += 1;
        }
        self.nodes[new as usize].backward = if update[0] == HEAD { NIL } else { update[0] };
        let next = self.lv(new, 0).forward;
        if next == NIL {
            self.tail = new;
        } else {
            self.nodes[next as usize].backward = new;
        }
        self.len += 1;
        new
    }

    /// Unlinks node `x` given its predecessors at every level; returns its
    /// member and frees the slot.
    fn delete_node(&mut self, x: u32, update: &[u32; MAX_LEVEL]) -> Box<[u8]> {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if self.lv(u, i).forward == x {
                let xl = self.lv(x, i);
                let ul = self.lv_mut(u, i);
                ul.span += xl.span;
                ul.span -= 1;
                ul.forward = xl.forward;
                ul.fscore = xl.fscore;
            } else {
                self.lv_mut(u, i).span -= 1;
            }
        }
        let next = self.lv(x, 0).forward;
        let back = self.nodes[x as usize].backward;
        if next == NIL {
            self.tail = back;
        } else {
            self.nodes[next as usize].backward = back;
        }
        while self.level > 1 && self.lv(HEAD, self.level - 1).forward == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        let node = &mut self.nodes[x as usize];
        let member = std::mem::take(&mut node.member);
        node.high = Box::default();
        if self.len == 0 {
            self.nodes.truncate(1);
            self.free.clear();
        } else {
            self.free.push(x);
        }
        member
    }

    /// Compares node `x`'s member with `member` (whose prefix is `p`).
    fn cmp_member(&self, x: u32, member: &[u8], p: u64) -> std::cmp::Ordering {
        let n = &self.nodes[x as usize];
        n.prefix.cmp(&p).then_with(|| n.member[..].cmp(member))
    }

    /// True when the node `l` links to sorts before `(score, member)`.
    fn link_less(&self, l: Level, score: f64, member: &[u8], p: u64) -> bool {
        l.fscore < score || (l.fscore == score && self.cmp_member(l.forward, member, p).is_lt())
    }

    /// Walks down the levels, stepping forward while `before(score, node)`
    /// holds for the next node (`before` must be true then false along the
    /// list); returns the last node reached at each level.
    fn descend(&self, before: impl Fn(f64, u32) -> bool) -> [u32; MAX_LEVEL] {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL || !before(l.fscore, l.forward) {
                    break;
                }
                x = l.forward;
            }
            update[i] = x;
        }
        update
    }

    /// The predecessors at each level of the position of `(score, member)`.
    fn find_update(&self, score: f64, member: &[u8]) -> [u32; MAX_LEVEL] {
        let p = prefix(member);
        self.descend(|fs, f| fs < score || (fs == score && self.cmp_member(f, member, p).is_lt()))
    }

    /// Removes `(score, member)`; returns the member when it was present.
    pub(crate) fn delete(&mut self, score: f64, member: &[u8]) -> Option<Box<[u8]>> {
        let update = self.find_update(score, member);
        let x = self.lv(update[0], 0).forward;
        if x != NIL {
            let n = &self.nodes[x as usize];
            if n.score == score && &*n.member == member {
                return Some(self.delete_node(x, &update));
            }
        }
        None
    }

    /// Changes the score of a present member, in place when its position
    /// does not change (`zslUpdateScore`).
    pub(crate) fn update_score(&mut self, cur: f64, member: &[u8], new: f64) {
        let update = self.find_update(cur, member);
        let x = self.lv(update[0], 0).forward;
        assert!(x != NIL && &*self.nodes[x as usize].member == member, "member present");
        let back = self.nodes[x as usize].backward;
        let next = self.lv(x, 0).forward;
        if (back == NIL || self.nodes[back as usize].score < new)
            && (next == NIL || self.nodes[next as usize].score > new)
        {
            self.nodes[x as usize].score = new;
            let height = usize::from(self.nodes[x as usize].height);
            for (i, &u) in update.iter().enumerate().take(height) {
                self.lv_mut(u, i).fscore = new;
            }
            return;
        }
        let member = self.delete_node(x, &update);
        self.insert(new, member);
    }

    /// The 1-based rank of `(score, member)`, or 0 when absent.
    pub(crate) fn rank(&self, score: f64, member: &[u8]) -> usize {
        let p = prefix(member);
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL
                    || !(l.fscore < score
                        || (l.fscore == score && self.cmp_member(l.forward, member, p).is_le()))
                {
                    break;
                }
                rank += l.span as usize;
                x = l.forward;
            }
            let n = &self.nodes[x as usize];
            if x != HEAD && n.score == score && &*n.member == member {
                return rank;
            }
        }
        0
    }

    /// The node of 1-based rank `rank`, or `NIL`.
    pub(crate) fn by_rank(&self, rank: usize) -> u32 {
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL || traversed + l.span as usize > rank {
                    break;
                }
                traversed += l.span as usize;
                x = l.forward;
            }
            if traversed == rank {
                return if x == HEAD { NIL } else { x };
            }
        }
        NIL
    }

    /// The 1-based rank of node `x`.
    pub(crate) fn rank_of(&self, x: u32) -> usize {
        let n = &self.nodes[x as usize];
        self.rank(n.score, &n.member)
    }

    /// The first node inside `range`, or `NIL` (`zslNthInRange` at 0).
    pub(crate) fn first_in_score_range(&self, range: &ScoreRange) -> u32 {
        if range.is_empty() {
            return NIL;
        }
        let x = self.lv(self.descend(|s, _| !range.gte_min(s))[0], 0).forward;
        if x == NIL || !range.lte_max(self.nodes[x as usize].score) {
            NIL
        } else {
            x
        }
    }

    /// The last node inside `range`, or `NIL`.
    pub(crate) fn last_in_score_range(&self, range: &ScoreRange) -> u32 {
        if range.is_empty() {
            return NIL;
        }
        let x = self.descend(|s, _| range.lte_max(s))[0];
        if x == HEAD || !range.gte_min(self.nodes[x as usize].score) {
            NIL
        } else {
            x
        }
    }

    /// The first node inside the lex `range`, or `NIL`.
    pub(crate) fn first_in_lex_range(&self, range: &LexRange) -> u32 {
        if range.is_empty() {
            return NIL;
        }
        let x = self.lv(self.descend(|_, f| !range.gte_min(self.member(f)))[0], 0).forward;
        if x == NIL || !range.lte_max(&self.nodes[x as usize].member) {
            NIL
        } else {
            x
        }
    }

    /// The last node inside the lex `range`, or `NIL`.
    pub(crate) fn last_in_lex_range(&self, range: &LexRange) -> u32 {
        if range.is_empty() {
            return NIL;
        }
        let x = self.descend(|_, f| range.lte_max(self.member(f)))[0];
        if x == HEAD || !range.gte_min(&self.nodes[x as usize].member) {
            NIL
        } else {
            x
        }
    }

    /// Deletes the run of nodes after `update[0]` while `inside` holds;
    /// each removed member goes to `removed`. Returns the count.
    fn delete_run(
        &mut self,
        update: [u32; MAX_LEVEL],
        inside: impl Fn(f64, &[u8]) -> bool,
        mut removed: impl FnMut(Box<[u8]>),
    ) -> usize {
        let mut x = self.lv(update[0], 0).forward;
        let mut count = 0;
        while x != NIL {
            let n = &self.nodes[x as usize];
            if !inside(n.score, &n.member) {
                break;
            }
            let next = self.lv(x, 0).forward;
            removed(self.delete_node(x, &update));
            count += 1;
            x = next;
        }
        count
    }

    /// Deletes every node inside the score `range`.
    pub(crate) fn delete_score_range(&mut self, range: &ScoreRange, removed: impl FnMut(Box<[u8]>)) -> usize {
        let update = self.descend(|s, _| !range.gte_min(s));
        self.delete_run(update, |s, _| range.lte_max(s), removed)
    }

    /// Deletes every node inside the lex `range`.
    pub(crate) fn delete_lex_range(&mut self, range: &LexRange, removed: impl FnMut(Box<[u8]>)) -> usize {
        let update = self.descend(|_, f| !range.gte_min(self.member(f)));
        self.delete_run(update, |_, m| range.lte_max(m), removed)
    }

    /// Deletes the nodes of 1-based ranks `start..=end`.
    pub(crate) fn delete_rank_range(
        &mut self,
        start: usize,
        end: usize,
        mut removed: impl FnMut(Box<[u8]>),
    ) -> usize {
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL || traversed + l.span as usize >= start {
                    break;
                }
                traversed += l.span as usize;
                x = l.forward;
            }
            update[i] = x;
        }
        traversed += 1;
        let mut x = self.lv(x, 0).forward;
        let mut count = 0;
        while x != NIL && traversed <= end {
            let next = self.lv(x, 0).forward;
            removed(self.delete_node(x, &update));
            count += 1;
            traversed += 1;
            x = next;
        }
        count
    }

    /// Checks every link, span, backward link and the length (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        use std::collections::HashMap;
        let mut rank_of = HashMap::new();
        rank_of.insert(HEAD, 0usize);
        let mut x = self.first();
        let mut prev = NIL;
        let mut r = 0;
        while x != NIL {
            r += 1;
            rank_of.insert(x, r);
            let n = &self.nodes[x as usize];
            assert_eq!(n.backward, prev, "backward link");
            assert_eq!(n.prefix, prefix(&n.member), "prefix");
            if prev != NIL {
                let p = &self.nodes[prev as usize];
                assert!(less(p.score, &p.member, n.score, &n.member), "order");
            }
            assert!(usize::from(n.height) <= self.level, "node above list level");
            prev = x;
            x = self.next(x);
        }
        assert_eq!(r, self.len, "length");
        assert_eq!(self.tail, prev, "tail");
        assert!(self.level == 1 || self.lv(HEAD, self.level - 1).forward != NIL);
        for i in 0..self.level {
            let mut x = HEAD;
            loop {
                let l = self.lv(x, i);
                if l.forward == NIL {
                    assert_eq!(l.span as usize, self.len - rank_of[&x], "span to end, level {i}");
                    break;
                }
                assert!(usize::from(self.nodes[l.forward as usize].height) > i);
                assert_eq!(l.fscore, self.nodes[l.forward as usize].score, "cached score");
                assert_eq!(l.span as usize, rank_of[&l.forward] - rank_of[&x], "span at level {i}");
                x = l.forward;
            }
        }
        for x in rank_of.keys() {
            if *x != HEAD {
                assert_eq!(self.rank_of(*x), rank_of[x]);
                assert_eq!(self.by_rank(rank_of[x]), *x);
            }
        }
        assert_eq!(self.nodes.len() - 1 - self.free.len(), self.len, "free list");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(sl: &SkipList) -> Vec<(Vec<u8>, f64)> {
        let mut out = vec![];
        let mut x = sl.first();
        while x != NIL {
            let (m, s) = sl.entry(x);
            out.push((m.to_vec(), s));
            x = sl.next(x);
        }
        out
    }

    #[test]
    fn insert_delete_rank() {
        let mut sl = SkipList::new();
        for i in 0..200u32 {
            let k = (i * 37) % 200;
            sl.insert(f64::from(k / 2), k.to_be_bytes().into());
            sl.check();
        }
        let got = members(&sl);
        assert_eq!(got.len(), 200);
        for (r, (m, s)) in got.iter().enumerate() {
            assert_eq!(sl.rank(*s, m), r + 1);
            assert_eq!(sl.entry(sl.by_rank(r + 1)).0, &m[..]);
        }
        assert_eq!(sl.by_rank(0), NIL);
        assert_eq!(sl.by_rank(201), NIL);
        assert_eq!(sl.rank(0.0, b"nope"), 0);
        for i in (0..200u32).step_by(3) {
            assert!(sl.delete(f64::from(i / 2), &i.to_be_bytes()).is_some());
            assert!(sl.delete(f64::from(i / 2), &i.to_be_bytes()).is_none());
            sl.check();
        }
        sl.update_score(1.0, &2u32.to_be_bytes(), 1000.0);
        sl.update_score(0.0, &1u32.to_be_bytes(), 0.5);
        sl.check();
        assert_eq!(sl.entry(sl.last()), (&2u32.to_be_bytes()[..], 1000.0));
    }

    proptest::proptest! {
        #[test]
        fn order_matches_btreeset(ops in proptest::collection::vec(
            (proptest::bool::ANY, 0u8..2, proptest::collection::vec(proptest::sample::select(vec![0u8, 1, 0x7f, 0x80, 0xff]), 0..12)),
            1..150,
        )) {
            use std::collections::BTreeSet;
            let mut sl = SkipList::new();
            let mut model: BTreeSet<(u8, Vec<u8>)> = BTreeSet::new();
            for (ins, s, m) in ops {
                let score = f64::from(s);
                if ins {
                    if model.insert((s, m.clone())) {
                        sl.insert(score, m.into());
                    }
                } else {
                    proptest::prop_assert_eq!(sl.delete(score, &m).is_some(), model.remove(&(s, m)));
                }
                sl.check();
            }
            let got: Vec<(u8, Vec<u8>)> = members(&sl).into_iter().map(|(m, s)| (s as u8, m)).collect();
            proptest::prop_assert_eq!(got, model.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn ranges_and_range_deletes() {
        let mut sl = SkipList::new();
        for i in 0..50u8 {
            sl.insert(f64::from(i), vec![i].into());
        }
        let r = ScoreRange::parse(b"(10", b"20").unwrap();
        assert_eq!(sl.entry(sl.first_in_score_range(&r)).1, 11.0);
        assert_eq!(sl.entry(sl.last_in_score_range(&r)).1, 20.0);
        let none = ScoreRange::parse(b"60", b"70").unwrap();
        assert_eq!(sl.first_in_score_range(&none), NIL);
        assert_eq!(sl.last_in_score_range(&none), NIL);
        let mut gone = vec![];
        assert_eq!(sl.delete_score_range(&r, |m| gone.push(m[0])), 10);
        assert_eq!(gone, (11..=20).collect::<Vec<u8>>());
        sl.check();
        assert_eq!(sl.delete_rank_range(1, 5, |_| ()), 5);
        sl.check();
        assert_eq!(sl.entry(sl.first()).1, 5.0);
        let lex = LexRange::parse(b"[\x05", b"(\x08").unwrap();
        assert_eq!(sl.entry(sl.first_in_lex_range(&lex)).0, &[5u8][..]);
        assert_eq!(sl.entry(sl.last_in_lex_range(&lex)).0, &[7u8][..]);
        assert_eq!(sl.delete_lex_range(&lex, |_| ()), 3);
        sl.check();
        let left = sl.len();
        assert_eq!(sl.delete_rank_range(1, 1000, |_| ()), left);
        assert_eq!(sl.len(), 0);
        sl.check();
    }
}
