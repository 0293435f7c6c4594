//! Range queries, range deletions, pops and random members.

use std::collections::HashSet;

use super::skiplist::{SkipList, NIL};
use super::{clamp_rank_range, LexRange, Repr, ScoreRange, ZSetValue};

/// Collects up to `limit` pairs from node `x` on, stepping with `step` while
/// `inside` holds, after skipping `offset` of them.
fn walk(
    zsl: &SkipList,
    mut x: u32,
    step: fn(&SkipList, u32) -> u32,
    inside: impl Fn(&[u8], f64) -> bool,
    offset: usize,
    limit: Option<usize>,
) -> Vec<(&[u8], f64)> {
    let mut out = Vec::new();
    let mut skip = offset;
    let limit = limit.unwrap_or(usize::MAX);
    while x != NIL && out.len() < limit {
        let (m, s) = zsl.entry(x);
        if !inside(m, s) {
            break;
        }
        if skip > 0 {
            skip -= 1;
        } else {
            out.push((m, s));
        }
        x = step(zsl, x);
    }
    out
}

impl ZSetValue {
    /// ZCOUNT: the members whose score is inside `range`.
    pub fn count_in_score_range(&self, range: &ScoreRange) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp
                .iter()
                .skip_while(|(_, s)| !range.gte_min(*s))
                .take_while(|(_, s)| range.lte_max(*s))
                .count(),
            Repr::Skiplist(z) => {
                let first = z.zsl.first_in_score_range(range);
                if first == NIL {
                    return 0;
                }
                let last = z.zsl.last_in_score_range(range);
                z.zsl.rank_of(last) - z.zsl.rank_of(first) + 1
            }
        }
    }

    /// ZLEXCOUNT: the members inside the lex `range` (meaningful when all
    /// scores are equal, as in Redis).
    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => {
                if range.is_empty() {
                    return 0;
                }
                lp.iter().skip_while(|(m, _)| !range.gte_min(m)).take_while(|(m, _)| range.lte_max(m)).count()
            }
            Repr::Skiplist(z) => {
                let first = z.zsl.first_in_lex_range(range);
                if first == NIL {
                    return 0;
                }
                let last = z.zsl.last_in_lex_range(range);
                z.zsl.rank_of(last) - z.zsl.rank_of(first) + 1
            }
        }
    }

    /// ZRANGE by index: ranks `start..=stop` (negative from the end, clamped
    /// as Redis does), counted from the highest score when `reverse`.
    pub fn range_by_rank(&self, start: i64, stop: i64, reverse: bool) -> Vec<(&[u8], f64)> {
        let Some((s, e)) = clamp_rank_range(start, stop, self.len()) else {
            return Vec::new();
        };
        let n = e - s + 1;
        match &self.repr {
            Repr::Listpack(lp) if reverse => lp.iter().rev().skip(s).take(n).collect(),
            Repr::Listpack(lp) => lp.iter().skip(s).take(n).collect(),
            Repr::Skiplist(z) => {
                let (x, step): (u32, fn(&SkipList, u32) -> u32) = if reverse {
                    (z.zsl.by_rank(z.zsl.len() - s), SkipList::prev)
                } else {
                    (z.zsl.by_rank(s + 1), SkipList::next)
                };
                walk(&z.zsl, x, step, |_, _| true, 0, Some(n))
            }
        }
    }

    /// ZRANGEBYSCORE / ZREVRANGEBYSCORE: members inside `range`, ascending
    /// (or descending when `reverse`), skipping `offset`, at most `limit`.
    pub fn range_by_score(
        &self,
        range: &ScoreRange,
        reverse: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(&[u8], f64)> {
        let limit_n = limit.unwrap_or(usize::MAX);
        match &self.repr {
            Repr::Listpack(lp) if reverse => lp
                .iter()
                .rev()
                .skip_while(|(_, s)| !range.lte_max(*s))
                .take_while(|(_, s)| range.gte_min(*s))
                .skip(offset)
                .take(limit_n)
                .collect(),
            Repr::Listpack(lp) => lp
                .iter()
                .skip_while(|(_, s)| !range.gte_min(*s))
                .take_while(|(_, s)| range.lte_max(*s))
                .skip(offset)
                .take(limit_n)
                .collect(),
            Repr::Skiplist(z) => {
                if reverse {
                    let x = z.zsl.last_in_score_range(range);
                    walk(&z.zsl, x, SkipList::prev, |_, s| range.gte_min(s), offset, limit)
                } else {
                    let x = z.zsl.first_in_score_range(range);
                    walk(&z.zsl, x, SkipList::next, |_, s| range.lte_max(s), offset, limit)
                }
            }
        }
    }

    /// ZRANGEBYLEX / ZREVRANGEBYLEX: members inside the lex `range`.
    pub fn range_by_lex(
        &self,
        range: &LexRange,
        reverse: bool,
        offset: usize,
        limit: Option<usize>,
    ) -> Vec<(&[u8], f64)> {
        let limit_n = limit.unwrap_or(usize::MAX);
        match &self.repr {
            Repr::Listpack(_) if range.is_empty() => Vec::new(),
            Repr::Listpack(lp) if reverse => lp
                .iter()
                .rev()
                .skip_while(|(m, _)| !range.lte_max(m))
                .take_while(|(m, _)| range.gte_min(m))
                .skip(offset)
                .take(limit_n)
                .collect(),
            Repr::Listpack(lp) => lp
                .iter()
                .skip_while(|(m, _)| !range.gte_min(m))
                .take_while(|(m, _)| range.lte_max(m))
                .skip(offset)
                .take(limit_n)
                .collect(),
            Repr::Skiplist(z) => {
                if reverse {
                    let x = z.zsl.last_in_lex_range(range);
                    walk(&z.zsl, x, SkipList::prev, |m, _| range.gte_min(m), offset, limit)
                } else {
                    let x = z.zsl.first_in_lex_range(range);
                    walk(&z.zsl, x, SkipList::next, |m, _| range.lte_max(m), offset, limit)
                }
            }
        }
    }

    /// ZPOPMIN: removes and returns up to `count` lowest members, lowest first.
    pub fn pop_min(&mut self, count: usize) -> Vec<(Vec<u8>, f64)> {
        let n = count.min(self.len());
        let out: Vec<(Vec<u8>, f64)> = self.iter().take(n).map(|(m, s)| (m.to_vec(), s)).collect();
        self.delete_ranks(0, n);
        out
    }

    /// ZPOPMAX: removes and returns up to `count` highest members, highest
    /// first.
    pub fn pop_max(&mut self, count: usize) -> Vec<(Vec<u8>, f64)> {
        let n = count.min(self.len());
        let out: Vec<(Vec<u8>, f64)> = self.iter().rev().take(n).map(|(m, s)| (m.to_vec(), s)).collect();
        let len = self.len();
        self.delete_ranks(len - n, n);
        out
    }

    /// Removes `n` members from 0-based rank `start`.
    fn delete_ranks(&mut self, start: usize, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        match &mut self.repr {
            Repr::Listpack(lp) => {
                lp.delete(start, n);
                n
            }
            Repr::Skiplist(z) => {
                let dict = &mut z.dict;
                z.zsl.delete_rank_range(start + 1, start + n, |m| {
                    dict.remove(&*m);
                })
            }
        }
    }

    /// ZREMRANGEBYRANK: removes ranks `start..=stop` (ZRANGE's clamping).
    pub fn remove_range_by_rank(&mut self, start: i64, stop: i64) -> usize {
        match clamp_rank_range(start, stop, self.len()) {
            Some((s, e)) => self.delete_ranks(s, e - s + 1),
            None => 0,
        }
    }

    /// ZREMRANGEBYSCORE: removes the members whose score is inside `range`.
    pub fn remove_range_by_score(&mut self, range: &ScoreRange) -> usize {
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let first = lp.iter().position(|(_, s)| range.gte_min(s));
                let Some(first) = first else { return 0 };
                let n = lp.iter().skip(first).take_while(|(_, s)| range.lte_max(*s)).count();
                lp.delete(first, n);
                n
            }
            Repr::Skiplist(z) => {
                let dict = &mut z.dict;
                z.zsl.delete_score_range(range, |m| {
                    dict.remove(&*m);
                })
            }
        }
    }

    /// ZREMRANGEBYLEX: removes the members inside the lex `range`.
    pub fn remove_range_by_lex(&mut self, range: &LexRange) -> usize {
        if range.is_empty() {
            return 0;
        }
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let first = lp.iter().position(|(m, _)| range.gte_min(m));
                let Some(first) = first else { return 0 };
                let n = lp.iter().skip(first).take_while(|(m, _)| range.lte_max(m)).count();
                lp.delete(first, n);
                n
            }
            Repr::Skiplist(z) => {
                let dict = &mut z.dict;
                z.zsl.delete_lex_range(range, |m| {
                    dict.remove(&*m);
                })
            }
        }
    }

    /// The pair at 0-based rank `r` (`< len`).
    fn at_rank(&self, r: usize) -> (&[u8], f64) {
        match &self.repr {
            Repr::Listpack(lp) => lp.get(r).expect("rank in range"),
            Repr::Skiplist(z) => z.zsl.entry(z.zsl.by_rank(r + 1)),
        }
    }

    /// ZRANDMEMBER with a count: for `count > 0`, up to `count` distinct
    /// members (the whole set, in order, when `count >= len`); for
    /// `count < 0`, exactly `-count` members, possibly repeated. `rng`
    /// yields uniform 64-bit values.
    pub fn random_members(&self, count: i64, rng: &mut impl FnMut() -> u64) -> Vec<(&[u8], f64)> {
        let len = self.len();
        if len == 0 || count == 0 {
            return Vec::new();
        }
        let pick = |rng: &mut dyn FnMut() -> u64, bound: usize| (rng() % bound as u64) as usize;
        if count < 0 {
            let n = count.unsigned_abs().min(usize::MAX as u64) as usize;
            // A listpack is small: decode it once rather than per pick.
            let all: Option<Vec<(&[u8], f64)>> = match &self.repr {
                Repr::Listpack(lp) => Some(lp.iter().collect()),
                Repr::Skiplist(_) => None,
            };
            let mut out = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                let r = pick(rng, len);
                out.push(match &all {
                    Some(all) => all[r],
                    None => self.at_rank(r),
                });
            }
            return out;
        }
        let n = count.unsigned_abs().min(usize::MAX as u64) as usize;
        if n >= len {
            return self.iter().collect();
        }
        let ranks: Vec<usize> = if n * 3 > len {
            // Many of them: a partial Fisher-Yates shuffle of all ranks.
            let mut all: Vec<usize> = (0..len).collect();
            for i in 0..n {
                let j = i + pick(rng, len - i);
                all.swap(i, j);
            }
            all.truncate(n);
            all
        } else {
            // Few of them: draw until `n` distinct ranks.
            let mut seen = HashSet::with_capacity(n);
            let mut out = Vec::with_capacity(n);
            while out.len() < n {
                let r = pick(rng, len);
                if seen.insert(r) {
                    out.push(r);
                }
            }
            out
        };
        match &self.repr {
            Repr::Listpack(lp) => {
                let all: Vec<(&[u8], f64)> = lp.iter().collect();
                ranks.into_iter().map(|r| all[r]).collect()
            }
            Repr::Skiplist(_) => ranks.into_iter().map(|r| self.at_rank(r)).collect(),
        }
    }
}
