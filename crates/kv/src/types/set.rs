//! The set type.
//!
//! Three encodings, as Redis 7.2's `t_set.c`: an *intset* (sorted integers
//! packed at 2, 4 or 8 bytes each) while every member is an integer; a
//! *listpack* (members back to back in one buffer) for a small set with
//! other strings; a hash table ([`Dict`]) past the thresholds of
//! [`EncodingConfig`]. The compact forms cost a few bytes a member instead
//! of a heap node each; a set converts only towards the table, never back.
//!
//! "Integer" means Redis's `string2ll` canonical form: an optional `-`, no
//! `+`, no leading zeros, no `-0`, within `i64`. `"007"` is a string.

use std::borrow::{Borrow, Cow};

use crate::dict::Dict;
use crate::types::hash::listpack::{distinct_indexes, Listpack};
use crate::types::EncodingConfig;

mod intset;
#[cfg(test)]
mod tests;

use intset::IntSet;

/// Parses `s` if it is an integer in canonical form (Redis's `string2ll`).
pub(crate) fn canonical_i64(s: &[u8]) -> Option<i64> {
    let digits = match s {
        [] => return None,
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => rest,
        _ => s,
    };
    match digits.first() {
        Some(b'1'..=b'9') if digits.len() <= 19 => {}
        _ => return None,
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // At most 19 digits: fits in u64 without overflow.
    let mag = digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    if s[0] == b'-' {
        0i64.checked_sub_unsigned(mag)
    } else {
        i64::try_from(mag).ok()
    }
}

fn int_bytes(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[derive(Clone)]
enum Enc {
    Intset(IntSet),
    Listpack(Listpack),
    Table(Dict<Box<[u8]>, ()>),
}

/// A Redis set value. See the [module docs](self).
#[derive(Clone)]
pub struct SetValue {
    enc: Enc,
}

impl Default for SetValue {
    fn default() -> SetValue {
        SetValue::new()
    }
}

impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter().map(|m| String::from_utf8_lossy(&m).into_owned())).finish()
    }
}

impl SetValue {
    /// An empty set, intset-encoded.
    pub fn new() -> SetValue {
        SetValue { enc: Enc::Intset(IntSet::new()) }
    }

    /// Redis's `setTypeCreate`: the encoding for a new set whose first
    /// member is `first` and which is about to receive `size_hint` members
    /// (SADD's argument count): an intset if `first` is an integer and the
    /// hint fits `set-max-intset-entries`, else a listpack if the hint fits
    /// `set-max-listpack-entries`, else a table presized to the hint.
    pub fn with_capacity_for(first: &[u8], size_hint: usize, cfg: &EncodingConfig) -> SetValue {
        let enc = if canonical_i64(first).is_some() && size_hint <= cfg.set_max_intset_entries {
            Enc::Intset(IntSet::new())
        } else if size_hint <= cfg.set_max_listpack_entries {
            Enc::Listpack(Listpack::new())
        } else {
            Enc::Table(Dict::with_capacity(size_hint))
        };
        SetValue { enc }
    }

    /// `OBJECT ENCODING`'s name: `"intset"`, `"listpack"` or `"hashtable"`.
    pub fn encoding(&self) -> &'static str {
        match self.enc {
            Enc::Intset(_) => "intset",
            Enc::Listpack(_) => "listpack",
            Enc::Table(_) => "hashtable",
        }
    }

    /// `DEBUG HTSTATS-KEY`'s report ([`Dict::stats`]), or `None` when the
    /// set is not in a hash table (intset, listpack).
    pub fn ht_stats(&self) -> Option<String> {
        match &self.enc {
            Enc::Table(d) => Some(d.stats()),
            _ => None,
        }
    }

    /// One incremental rehash step of the table encoding, as each lookup
    /// of Redis's `dict` takes (see [`crate::db::Value::rehash_step`]).
    pub fn rehash_step(&mut self) {
        if let Enc::Table(d) = &mut self.enc {
            d.rehash_steps(1);
        }
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        match &self.enc {
            Enc::Intset(s) => s.len(),
            Enc::Listpack(lp) => lp.len(),
            Enc::Table(d) => d.len(),
        }
    }

    /// Whether the set is empty (the keyspace deletes such a key).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.enc {
            Enc::Intset(s) => canonical_i64(member).is_some_and(|v| s.contains(v)),
            Enc::Listpack(lp) => lp.find(member, 1).is_some(),
            Enc::Table(d) => d.contains_key(member),
        }
    }

    /// Re-encodes as a listpack (from an intset).
    fn convert_to_listpack(&mut self) {
        if let Enc::Intset(s) = &self.enc {
            let mut lp = Listpack::new();
            for v in s.iter() {
                lp.push(v.to_string().as_bytes());
            }
            self.enc = Enc::Listpack(lp);
        }
    }

    /// Re-encodes as a hash table, presized for `expected` members.
    fn convert_to_table(&mut self, expected: usize) {
        let mut d = Dict::with_capacity(expected.max(self.len()));
        match &self.enc {
            Enc::Intset(s) => s.iter().for_each(|v| d.insert_unique(int_bytes(v).into_boxed_slice(), ())),
            Enc::Listpack(lp) => lp.iter().for_each(|m| d.insert_unique(Box::from(m), ())),
            Enc::Table(_) => return,
        }
        self.enc = Enc::Table(d);
    }

    /// SADD of one member; returns whether it was new. Converts as Redis
    /// 7.2's `setTypeAddAux` when the member crosses a threshold of `cfg`.
    pub fn add(&mut self, member: &[u8], cfg: &EncodingConfig) -> bool {
        if let Enc::Intset(s) = &mut self.enc {
            if let Some(v) = canonical_i64(member) {
                if !s.insert(v) {
                    return false;
                }
                let n = s.len();
                if n > cfg.set_max_intset_entries {
                    self.convert_to_table(n);
                }
                return true;
            }
            // A string joins the integers: a listpack if the result stays
            // within its limits (the integers' text included), else a table.
            let widest = s.min_max().map_or(0, |(lo, hi)| int_bytes(lo).len().max(int_bytes(hi).len()));
            let n = s.len();
            if n < cfg.set_max_listpack_entries
                && member.len() <= cfg.set_max_listpack_value
                && widest <= cfg.set_max_listpack_value
            {
                self.convert_to_listpack();
            } else {
                self.convert_to_table(n + 1);
            }
        }
        if let Enc::Listpack(lp) = &mut self.enc {
            if lp.find(member, 1).is_some() {
                return false;
            }
            if lp.len() < cfg.set_max_listpack_entries
                && member.len() <= cfg.set_max_listpack_value
                && lp.safe_to_add(member.len())
            {
                lp.push(member);
                return true;
            }
            let n = lp.len();
            self.convert_to_table(n + 1);
        }
        match &mut self.enc {
            Enc::Table(d) => {
                if d.contains_key(member) {
                    false
                } else {
                    d.insert_unique(Box::from(member), ());
                    true
                }
            }
            _ => unreachable!("converted above"),
        }
    }

    /// SREM of one member; returns whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.enc {
            Enc::Intset(s) => canonical_i64(member).is_some_and(|v| s.remove(v)),
            Enc::Listpack(lp) => match lp.find(member, 1) {
                Some(pos) => {
                    lp.remove_at(pos, 1);
                    true
                }
                None => false,
            },
            Enc::Table(d) => d.remove(member).is_some(),
        }
    }

    /// The members: ascending for an intset, insertion order for a
    /// listpack, bucket order for a table. Intset members are formatted on
    /// the fly, hence `Cow`.
    pub fn iter(&self) -> SetIter<'_> {
        SetIter(match &self.enc {
            Enc::Intset(s) => IterInner::Intset(s, 0),
            Enc::Listpack(lp) => IterInner::Listpack(lp.iter()),
            Enc::Table(d) => IterInner::Table(d.iter()),
        })
    }

    /// One SSCAN step: calls `f` on some members, returns the next cursor
    /// (0 when done). The compact encodings return everything at once.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        match &self.enc {
            Enc::Table(d) => d.scan(cursor, |k, _| f(k)),
            _ => {
                for m in self.iter() {
                    f(&m);
                }
                0
            }
        }
    }

    /// The member at position `i` of a compact encoding.
    fn nth_compact(&self, i: usize) -> Cow<'_, [u8]> {
        match &self.enc {
            Enc::Intset(s) => Cow::Owned(int_bytes(s.get(i))),
            _ => self.iter().nth(i).expect("index within len"),
        }
    }

    /// SRANDMEMBER without a count: one random member.
    pub fn random_member(&self, rng: &mut impl FnMut() -> u64) -> Option<Cow<'_, [u8]>> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        match &self.enc {
            Enc::Table(d) => d.random_entry(rng).map(|(k, _)| Cow::Borrowed(&**k)),
            _ => Some(self.nth_compact((rng() % len as u64) as usize)),
        }
    }

    /// SPOP without a count: removes and returns a random member.
    pub fn pop_random(&mut self, rng: &mut impl FnMut() -> u64) -> Option<Vec<u8>> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let i = (rng() % len as u64) as usize;
        match &mut self.enc {
            Enc::Intset(s) => Some(int_bytes(s.remove_at(i))),
            Enc::Listpack(lp) => {
                let mut pos = 0;
                for _ in 0..i {
                    pos = lp.read(pos).1;
                }
                let m = lp.read(pos).0.to_vec();
                lp.remove_at(pos, 1);
                Some(m)
            }
            Enc::Table(d) => {
                let key = d.random_entry(rng)?.0.to_vec();
                d.remove(&key[..]).map(|(k, _)| k.into_vec())
            }
        }
    }

    /// SRANDMEMBER with a count, as `srandmemberWithCountCommand`: a
    /// positive `count` returns `min(count, len)` distinct members (all of
    /// them, in iteration order, when `count >= len`); a negative one
    /// returns exactly `|count|` members, possibly repeated; 0 returns none.
    pub fn random_members(&self, count: i64, rng: &mut impl FnMut() -> u64) -> Vec<Cow<'_, [u8]>> {
        let len = self.len();
        if count == 0 || len == 0 {
            return Vec::new();
        }
        if count < 0 {
            let n = count.unsigned_abs() as usize;
            return match &self.enc {
                Enc::Table(_) => (0..n).map(|_| self.random_member(rng).expect("non-empty")).collect(),
                Enc::Intset(_) => (0..n).map(|_| self.nth_compact((rng() % len as u64) as usize)).collect(),
                Enc::Listpack(lp) => {
                    let all: Vec<&[u8]> = lp.iter().collect();
                    (0..n).map(|_| Cow::Borrowed(all[(rng() % len as u64) as usize])).collect()
                }
            };
        }
        if count as u64 >= len as u64 {
            return self.iter().collect();
        }
        let count = count as usize;
        match &self.enc {
            Enc::Table(d) if count * 3 <= len => {
                // Few of many: draw random members until enough distinct.
                let mut seen = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let (k, _) = d.random_entry(rng).expect("non-empty");
                    if seen.insert(&**k) {
                        out.push(Cow::Borrowed(&**k));
                    }
                }
                out
            }
            Enc::Intset(s) => distinct_indexes(len, count, rng)
                .into_iter()
                .map(|i| Cow::Owned(int_bytes(s.get(i))))
                .collect(),
            _ => {
                let all: Vec<Cow<'_, [u8]>> = self.iter().collect();
                let mut slots: Vec<Option<Cow<'_, [u8]>>> = all.into_iter().map(Some).collect();
                distinct_indexes(len, count, rng)
                    .into_iter()
                    .map(|i| slots[i].take().expect("distinct"))
                    .collect()
            }
        }
    }

    /// An estimate of the bytes this value uses, contents included.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.enc {
                Enc::Intset(s) => s.capacity(),
                Enc::Listpack(lp) => lp.capacity(),
                Enc::Table(d) => {
                    d.memory_usage() - std::mem::size_of::<Dict<Box<[u8]>, ()>>()
                        + d.iter().map(|(k, _)| k.len()).sum::<usize>()
                }
            }
    }

    /// Builds a set from members (RDB loading): encoding chosen by
    /// [`SetValue::with_capacity_for`] on the first member and the count,
    /// then converted as [`SetValue::add`] would. Duplicates are ignored.
    pub fn from_members<M: Borrow<[u8]>>(
        members: impl IntoIterator<Item = M>,
        cfg: &EncodingConfig,
    ) -> SetValue {
        let mut it = members.into_iter().peekable();
        let hint = it.size_hint().0;
        let mut s = match it.peek() {
            Some(first) => SetValue::with_capacity_for(first.borrow(), hint, cfg),
            None => return SetValue::new(),
        };
        for m in it {
            s.add(m.borrow(), cfg);
        }
        s
    }

    /// The members as owned buffers (RDB saving, DUMP).
    pub fn into_members(self) -> Vec<Vec<u8>> {
        match self.enc {
            Enc::Table(mut d) => d.drain().map(|(k, _)| k.into_vec()).collect(),
            _ => self.iter().map(Cow::into_owned).collect(),
        }
    }
}

enum IterInner<'a> {
    Intset(&'a IntSet, usize),
    Listpack(crate::types::hash::listpack::Entries<'a>),
    Table(crate::dict::Iter<'a, Box<[u8]>, ()>),
}

/// Iterator over a set's members; see [`SetValue::iter`].
pub struct SetIter<'a>(IterInner<'a>);

impl<'a> Iterator for SetIter<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Cow<'a, [u8]>> {
        match &mut self.0 {
            IterInner::Intset(s, i) => {
                if *i >= s.len() {
                    return None;
                }
                *i += 1;
                Some(Cow::Owned(int_bytes(s.get(*i - 1))))
            }
            IterInner::Listpack(it) => it.next().map(Cow::Borrowed),
            IterInner::Table(it) => it.next().map(|(k, _)| Cow::Borrowed(&**k)),
        }
    }
}
