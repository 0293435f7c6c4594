//! The sorted set type, with Redis's two encodings.
//!
//! A small sorted set is one listpack of `(member, score)` pairs kept in
//! order. Past `zset-max-listpack-entries` members, or once a
//! member is longer than `zset-max-listpack-value`, it converts to the
//! *skiplist* encoding: a [`Dict`] from member to score for O(1) ZSCORE and
//! membership, plus a *skiplist* ordered by `(score, member)` whose
//! link spans make ZRANK and ZRANGE-by-index O(log n).
//!
//! Ordering is by score, then by member bytes (memcmp), as in Redis.

mod packed;
mod query;
pub mod range;
mod skiplist;

#[cfg(test)]
mod tests;

pub use self::range::{parse_score, LexBound, LexRange, RangeError, ScoreRange};

use self::packed::PackedZSet;
use self::skiplist::SkipList;

use super::EncodingConfig;
use crate::dict::Dict;

/// ZADD's options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    /// NX: only add new members.
    pub nx: bool,
    /// XX: only update existing members.
    pub xx: bool,
    /// GT: only update when the new score is greater (new members still add).
    pub gt: bool,
    /// LT: only update when the new score is less (new members still add).
    pub lt: bool,
    /// INCR: add the score to the current one (ZINCRBY).
    pub incr: bool,
}

/// What [`ZSetValue::add`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddResult {
    /// The member was new and is now in the set.
    Added,
    /// The member existed and its score changed.
    Updated,
    /// The member existed and the new score equals the old one (counts as
    /// processed: ZADD INCR replies with the score).
    Unchanged,
    /// NX, XX, GT or LT prevented the operation (ZADD INCR replies nil).
    Skipped,
}

/// The result of [`ZSetValue::add`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddOutcome {
    /// What happened.
    pub result: AddResult,
    /// The member's score afterwards (for a skipped absent member, the
    /// score given).
    pub score: f64,
}

/// ZADD's error: the increment produced NaN (e.g. `+inf` plus `-inf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZAddError {
    /// The resulting (or given) score is NaN.
    #[error("ERR resulting score is not a number (NaN)")]
    Nan,
}

/// The skiplist encoding: the member→score map plus the ordered skiplist.
#[derive(Clone, Debug, Default)]
struct Sorted {
    dict: Dict<Box<[u8]>, f64>,
    zsl: SkipList,
}

#[derive(Clone, Debug)]
enum Repr {
    Listpack(PackedZSet),
    Skiplist(Box<Sorted>),
}

/// A Redis sorted set value.
#[derive(Clone, Debug)]
pub struct ZSetValue {
    repr: Repr,
}

impl Default for ZSetValue {
    fn default() -> ZSetValue {
        ZSetValue::new()
    }
}

/// Resolves ZRANGE's `start`/`stop` indices (negative from the end) to an
/// inclusive `(start, stop)` within `len`; `None` when empty.
pub(crate) fn clamp_rank_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
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

impl ZSetValue {
    /// An empty sorted set in the listpack encoding.
    pub fn new() -> ZSetValue {
        ZSetValue { repr: Repr::Listpack(PackedZSet::default()) }
    }

    /// An empty sorted set in the encoding Redis would pick for `size_hint`
    /// members of at most `max_member_len` bytes (`zsetTypeCreate`).
    pub fn with_hint(size_hint: usize, max_member_len: usize, cfg: &EncodingConfig) -> ZSetValue {
        if size_hint <= cfg.zset_max_listpack_entries
            && max_member_len <= cfg.zset_max_listpack_value
            && cfg.zset_max_listpack_entries > 0
        {
            ZSetValue::new()
        } else {
            ZSetValue { repr: Repr::Skiplist(Box::default()) }
        }
    }

    /// Builds a sorted set from `(member, score)` pairs (RDB loading); a
    /// repeated member keeps its last score.
    pub fn from_pairs<I, T>(pairs: I, cfg: &EncodingConfig) -> ZSetValue
    where
        I: IntoIterator<Item = (T, f64)>,
        T: AsRef<[u8]>,
    {
        let pairs: Vec<(T, f64)> = pairs.into_iter().collect();
        let longest = pairs.iter().map(|(m, _)| m.as_ref().len()).max().unwrap_or(0);
        let mut z = ZSetValue::with_hint(pairs.len(), longest, cfg);
        for (m, s) in &pairs {
            // NaN scores are rejected by the loader; ignore them here.
            let _ = z.add(m.as_ref(), *s, AddFlags::default(), cfg);
        }
        z
    }

    /// `OBJECT ENCODING`'s name for the current encoding.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist(_) => "skiplist",
        }
    }

    /// `DEBUG HTSTATS-KEY`'s report on the skiplist encoding's member
    /// table ([`Dict::stats`]), or `None` for a listpack.
    pub fn ht_stats(&self) -> Option<String> {
        match &self.repr {
            Repr::Skiplist(s) => Some(s.dict.stats()),
            Repr::Listpack(_) => None,
        }
    }

    /// One incremental rehash step of the skiplist encoding's member table,
    /// as each lookup of Redis's `dict` takes (see
    /// [`crate::db::Value::rehash_step`]).
    pub fn rehash_step(&mut self) {
        if let Repr::Skiplist(s) = &mut self.repr {
            s.dict.rehash_steps(1);
        }
    }

    /// The number of members (ZCARD).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.len(),
            Repr::Skiplist(s) => s.zsl.len(),
        }
    }

    /// True when there are no members (the key should then be deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An estimate of the heap bytes the value holds (`MEMORY USAGE`).
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<ZSetValue>()
            + match &self.repr {
                Repr::Listpack(lp) => lp.allocated(),
                Repr::Skiplist(s) => {
                    std::mem::size_of::<Sorted>()
                        + s.zsl.memory_usage()
                        + s.dict.memory_usage()
                        + s.dict.iter().map(|(k, _)| k.len()).sum::<usize>()
                }
            }
    }

    /// Converts the listpack encoding to the skiplist encoding (also what
    /// Redis 7.0's SORT does to a sorted set it reads).
    pub fn convert_to_skiplist(&mut self) {
        let Repr::Listpack(lp) = &self.repr else {
            return;
        };
        let mut sorted = Sorted::default();
        for (m, s) in lp.iter() {
            sorted.zsl.insert(s, m.into());
            sorted.dict.insert(m.into(), s);
        }
        self.repr = Repr::Skiplist(Box::new(sorted));
    }

    /// Converts back to a listpack when the set fits the listpack limits
    /// (Redis does this after ZUNIONSTORE/ZRANGESTORE and the like).
    pub fn convert_to_listpack_if_fits(&mut self, cfg: &EncodingConfig) {
        let Repr::Skiplist(s) = &self.repr else {
            return;
        };
        if s.zsl.len() > cfg.zset_max_listpack_entries
            || self.iter().any(|(m, _)| m.len() > cfg.zset_max_listpack_value)
        {
            return;
        }
        let mut lp = PackedZSet::default();
        for (m, s) in self.iter().rev() {
            // Inserting in descending order always inserts at the front.
            lp.insert(m, s);
        }
        self.repr = Repr::Listpack(lp);
    }

    /// ZSCORE: the member's score.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(lp) => lp.find(member).map(|(_, s)| s),
            Repr::Skiplist(s) => s.dict.get(member).copied(),
        }
    }

    /// ZADD/ZINCRBY for one member, with `t_zset.c`'s `zsetAdd` semantics:
    /// NX/XX gate on existence, INCR adds to the current score, GT/LT gate
    /// updates (not additions), and a NaN result is an error.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        cfg: &EncodingConfig,
    ) -> Result<AddOutcome, ZAddError> {
        if score.is_nan() {
            return Err(ZAddError::Nan);
        }
        let outcome = |result, score| Ok(AddOutcome { result, score });
        match self.score(member) {
            Some(cur) => {
                if flags.nx {
                    return outcome(AddResult::Skipped, cur);
                }
                let mut new = score;
                if flags.incr {
                    new += cur;
                    if new.is_nan() {
                        return Err(ZAddError::Nan);
                    }
                }
                if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
                    return outcome(AddResult::Skipped, cur);
                }
                if new == cur {
                    return outcome(AddResult::Unchanged, cur);
                }
                match &mut self.repr {
                    Repr::Listpack(lp) => {
                        let (i, _) = lp.find(member).expect("present");
                        lp.delete(i, 1);
                        lp.insert(member, new);
                    }
                    Repr::Skiplist(s) => {
                        s.zsl.update_score(cur, member, new);
                        *s.dict.get_mut(member).expect("present") = new;
                    }
                }
                outcome(AddResult::Updated, new)
            }
            None => {
                if flags.xx {
                    return outcome(AddResult::Skipped, score);
                }
                if let Repr::Listpack(lp) = &self.repr {
                    if lp.len() + 1 > cfg.zset_max_listpack_entries
                        || member.len() > cfg.zset_max_listpack_value
                    {
                        self.convert_to_skiplist();
                    }
                }
                match &mut self.repr {
                    Repr::Listpack(lp) => lp.insert(member, score),
                    Repr::Skiplist(s) => {
                        s.zsl.insert(score, member.into());
                        s.dict.insert(member.into(), score);
                    }
                }
                outcome(AddResult::Added, score)
            }
        }
    }

    /// ZREM for one member; true when it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(lp) => match lp.find(member) {
                Some((i, _)) => {
                    lp.delete(i, 1);
                    true
                }
                None => false,
            },
            Repr::Skiplist(s) => match s.dict.remove(member) {
                Some((_, score)) => {
                    s.zsl.delete(score, member).expect("skiplist and dict agree");
                    true
                }
                None => false,
            },
        }
    }

    /// ZRANK/ZREVRANK: the member's 0-based rank (from the highest score when
    /// `reverse`) and its score.
    pub fn rank(&self, member: &[u8], reverse: bool) -> Option<(usize, f64)> {
        let len = self.len();
        let (r, score) = match &self.repr {
            Repr::Listpack(lp) => lp.find(member)?,
            Repr::Skiplist(s) => {
                let score = *s.dict.get(member)?;
                (s.zsl.rank(score, member) - 1, score)
            }
        };
        Some((if reverse { len - 1 - r } else { r }, score))
    }

    /// Iterates `(member, score)` in ascending order (double-ended).
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(lp) => Iter { inner: IterInner::Packed(lp.iter()) },
            Repr::Skiplist(s) => Iter {
                inner: IterInner::Skip {
                    zsl: &s.zsl,
                    front: s.zsl.first(),
                    back: s.zsl.last(),
                    remaining: s.zsl.len(),
                },
            },
        }
    }

    /// ZSCAN step: calls `f` for members from `cursor` on and returns the
    /// next cursor (0 when done). A listpack set is returned whole.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Listpack(lp) => {
                for (m, s) in lp.iter() {
                    f(m, s);
                }
                0
            }
            Repr::Skiplist(s) => s.dict.scan(cursor, |k, v| f(k, *v)),
        }
    }

    /// Checks the encoding's invariants (tests only).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        if let Repr::Skiplist(s) = &self.repr {
            s.zsl.check();
            assert_eq!(s.dict.len(), s.zsl.len());
            for (m, sc) in self.iter() {
                assert_eq!(s.dict.get(m), Some(&sc));
            }
        }
    }
}

/// Iterates a sorted set's `(member, score)` pairs in order (double-ended).
#[derive(Clone)]
pub struct Iter<'a> {
    inner: IterInner<'a>,
}

#[derive(Clone)]
enum IterInner<'a> {
    Packed(packed::Iter<'a>),
    Skip { zsl: &'a SkipList, front: u32, back: u32, remaining: usize },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        match &mut self.inner {
            IterInner::Packed(it) => it.next(),
            IterInner::Skip { zsl, front, remaining, .. } => {
                if *remaining == 0 {
                    return None;
                }
                let e = zsl.entry(*front);
                *front = zsl.next(*front);
                *remaining -= 1;
                Some(e)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.inner {
            IterInner::Packed(it) => it.len(),
            IterInner::Skip { remaining, .. } => *remaining,
        };
        (n, Some(n))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<(&'a [u8], f64)> {
        match &mut self.inner {
            IterInner::Packed(it) => it.next_back(),
            IterInner::Skip { zsl, back, remaining, .. } => {
                if *remaining == 0 {
                    return None;
                }
                let e = zsl.entry(*back);
                *back = zsl.prev(*back);
                *remaining -= 1;
                Some(e)
            }
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}
