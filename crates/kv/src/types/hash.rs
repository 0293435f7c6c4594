//! The hash type: Redis's field → value maps.
//!
//! A small hash is a *listpack*: its fields and values alternate in one
//! contiguous buffer, in insertion order, with no per-entry allocation; a
//! field lookup is a linear scan, which is faster than hashing at this size
//! and uses a fraction of the memory. Once it holds more than
//! `hash-max-listpack-entries` pairs, or a field or value longer than
//! `hash-max-listpack-value` bytes is written, it converts (once, never
//! back) to a hash table ([`Dict`]).

use std::borrow::Borrow;

use crate::dict::Dict;
use crate::types::EncodingConfig;

pub(crate) mod listpack;
#[cfg(test)]
mod tests;

use listpack::{distinct_indexes, Listpack};

#[derive(Clone)]
enum Enc {
    /// Fields and values alternate.
    Listpack(Listpack),
    Table(Dict<Box<[u8]>, Box<[u8]>>),
}

/// A Redis hash value. See the [module docs](self).
#[derive(Clone)]
pub struct HashValue {
    enc: Enc,
}

impl Default for HashValue {
    fn default() -> HashValue {
        HashValue::new()
    }
}

impl std::fmt::Debug for HashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))))
            .finish()
    }
}

/// A random pick of [`HashValue::random_fields`]: the field, and its value
/// if asked for.
pub type FieldPick<'a> = (&'a [u8], Option<&'a [u8]>);

impl HashValue {
    /// An empty hash, listpack-encoded.
    pub fn new() -> HashValue {
        HashValue { enc: Enc::Listpack(Listpack::new()) }
    }

    /// `OBJECT ENCODING`'s name: `"listpack"` or `"hashtable"`.
    pub fn encoding(&self) -> &'static str {
        match self.enc {
            Enc::Listpack(_) => "listpack",
            Enc::Table(_) => "hashtable",
        }
    }

    /// `DEBUG HTSTATS-KEY`'s report ([`Dict::stats`]), or `None` when the
    /// hash is a listpack.
    pub fn ht_stats(&self) -> Option<String> {
        match &self.enc {
            Enc::Table(d) => Some(d.stats()),
            Enc::Listpack(_) => None,
        }
    }

    /// One incremental rehash step of the table encoding, as each lookup
    /// of Redis's `dict` takes (see [`crate::db::Value::rehash_step`]).
    pub fn rehash_step(&mut self) {
        if let Enc::Table(d) = &mut self.enc {
            d.rehash_steps(1);
        }
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        match &self.enc {
            Enc::Listpack(lp) => lp.len() / 2,
            Enc::Table(d) => d.len(),
        }
    }

    /// Whether the hash has no field (the keyspace deletes such a key).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The byte offset of `field`'s entry in the listpack.
    fn lp_find(lp: &Listpack, field: &[u8]) -> Option<usize> {
        lp.find(field, 2)
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.enc {
            Enc::Listpack(lp) => {
                let pos = HashValue::lp_find(lp, field)?;
                let value_pos = lp.read(pos).1;
                Some(lp.read(value_pos).0)
            }
            Enc::Table(d) => d.get(field).map(|v| &**v),
        }
    }

    /// Whether `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// HSTRLEN: the length of `field`'s value, 0 if it does not exist.
    pub fn strlen(&self, field: &[u8]) -> usize {
        self.get(field).map_or(0, <[u8]>::len)
    }

    /// Converts to the hash-table encoding (no-op if already there).
    fn convert(&mut self) {
        if let Enc::Listpack(lp) = &self.enc {
            let mut d = Dict::with_capacity(lp.len() / 2);
            let mut it = lp.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                d.insert_unique(Box::from(f), Box::from(v));
            }
            self.enc = Enc::Table(d);
        }
    }

    /// Redis's `hashTypeTryConversion`: a field or value longer than
    /// `hash-max-listpack-value` (or a listpack nearing 1 GiB) forces the
    /// table before the write.
    fn convert_for_write(&mut self, field: &[u8], value: &[u8], cfg: &EncodingConfig) {
        if let Enc::Listpack(lp) = &self.enc {
            if field.len() > cfg.hash_max_listpack_value
                || value.len() > cfg.hash_max_listpack_value
                || !lp.safe_to_add(field.len() + value.len())
            {
                self.convert();
            }
        }
    }

    /// Sets `field` to `value`; returns true if the field is new. Converts
    /// to a hash table if the write crosses a threshold of `cfg`.
    pub fn set(&mut self, field: &[u8], value: &[u8], cfg: &EncodingConfig) -> bool {
        self.convert_for_write(field, value, cfg);
        let new = match &mut self.enc {
            Enc::Listpack(lp) => match HashValue::lp_find(lp, field) {
                Some(pos) => {
                    let value_pos = lp.read(pos).1;
                    lp.replace_at(value_pos, value);
                    false
                }
                None => {
                    lp.push(field);
                    lp.push(value);
                    true
                }
            },
            Enc::Table(d) => match d.get_mut(field) {
                Some(v) => {
                    *v = Box::from(value);
                    false
                }
                None => {
                    d.insert_unique(Box::from(field), Box::from(value));
                    true
                }
            },
        };
        if self.len() > cfg.hash_max_listpack_entries {
            self.convert();
        }
        new
    }

    /// HSETNX: sets `field` only if it does not exist; returns whether it
    /// was set.
    pub fn set_nx(&mut self, field: &[u8], value: &[u8], cfg: &EncodingConfig) -> bool {
        if self.contains(field) {
            return false;
        }
        self.set(field, value, cfg)
    }

    /// Deletes `field`; returns whether it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.enc {
            Enc::Listpack(lp) => match HashValue::lp_find(lp, field) {
                Some(pos) => {
                    lp.remove_at(pos, 2);
                    true
                }
                None => false,
            },
            Enc::Table(d) => d.remove(field).is_some(),
        }
    }

    /// The `(field, value)` pairs: insertion order for a listpack, bucket
    /// order for a table.
    pub fn iter(&self) -> HashIter<'_> {
        HashIter(match &self.enc {
            Enc::Listpack(lp) => IterInner::Listpack(lp.iter()),
            Enc::Table(d) => IterInner::Table(d.iter()),
        })
    }

    /// One HSCAN step: calls `f` on some pairs, returns the next cursor (0
    /// when done). A listpack hash returns everything at once, as Redis.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.enc {
            Enc::Listpack(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
            Enc::Table(d) => d.scan(cursor, |k, v| f(k, v)),
        }
    }

    /// HRANDFIELD without a count: one random pair.
    pub fn random_field(&self, rng: &mut impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.enc {
            Enc::Listpack(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                self.iter().nth((rng() % n as u64) as usize)
            }
            Enc::Table(d) => d.random_entry(rng).map(|(k, v)| (&**k, &**v)),
        }
    }

    /// HRANDFIELD with a count, as `hrandfieldWithCountCommand`: a positive
    /// `count` returns `min(count, len)` distinct fields (all of them, in
    /// iteration order, when `count >= len`); a negative one returns exactly
    /// `|count|` fields, possibly repeated; 0 returns none. Values are
    /// included when `with_values`.
    pub fn random_fields<'a>(
        &'a self,
        count: i64,
        with_values: bool,
        rng: &mut impl FnMut() -> u64,
    ) -> Vec<FieldPick<'a>> {
        let pick = |(k, v): (&'a [u8], &'a [u8])| (k, with_values.then_some(v));
        let len = self.len();
        if count == 0 || len == 0 {
            return Vec::new();
        }
        if count < 0 {
            let n = count.unsigned_abs() as usize;
            return match &self.enc {
                Enc::Listpack(_) => {
                    let all: Vec<(&[u8], &[u8])> = self.iter().collect();
                    (0..n).map(|_| pick(all[(rng() % len as u64) as usize])).collect()
                }
                Enc::Table(d) => (0..n)
                    .map(|_| {
                        let (k, v) = d.random_entry(rng).expect("non-empty");
                        pick((k, v))
                    })
                    .collect(),
            };
        }
        let count = count as u64;
        if count >= len as u64 {
            return self.iter().map(pick).collect();
        }
        let count = count as usize;
        if let Enc::Table(d) = &self.enc {
            if count * 3 <= len {
                // Few of many: draw random entries until enough distinct.
                let mut seen = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let (k, v) = d.random_entry(rng).expect("non-empty");
                    if seen.insert(&**k) {
                        out.push(pick((k, v)));
                    }
                }
                return out;
            }
        }
        let all: Vec<(&[u8], &[u8])> = self.iter().collect();
        distinct_indexes(len, count, rng).into_iter().map(|i| pick(all[i])).collect()
    }

    /// An estimate of the bytes this value uses, contents included.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.enc {
                Enc::Listpack(lp) => lp.capacity(),
                Enc::Table(d) => {
                    d.memory_usage() - std::mem::size_of::<Dict<Box<[u8]>, Box<[u8]>>>()
                        + d.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
                }
            }
    }

    /// Builds a hash from pairs (RDB loading), choosing the encoding as
    /// [`HashValue::set`] would; a repeated field keeps its last value.
    pub fn from_pairs<F, V>(pairs: impl IntoIterator<Item = (F, V)>, cfg: &EncodingConfig) -> HashValue
    where
        F: Borrow<[u8]>,
        V: Borrow<[u8]>,
    {
        let pairs = pairs.into_iter();
        let mut h = HashValue::new();
        if pairs.size_hint().0 > cfg.hash_max_listpack_entries {
            h.convert();
            if let Enc::Table(d) = &mut h.enc {
                d.reserve(pairs.size_hint().0);
            }
        }
        for (f, v) in pairs {
            h.set(f.borrow(), v.borrow(), cfg);
        }
        h
    }

    /// The pairs as owned buffers (RDB saving, DUMP).
    pub fn into_pairs(self) -> Vec<(Vec<u8>, Vec<u8>)> {
        match self.enc {
            Enc::Listpack(_) => self.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
            Enc::Table(mut d) => d.drain().map(|(f, v)| (f.into_vec(), v.into_vec())).collect(),
        }
    }
}

enum IterInner<'a> {
    Listpack(listpack::Entries<'a>),
    Table(crate::dict::Iter<'a, Box<[u8]>, Box<[u8]>>),
}

/// Iterator over a hash's `(field, value)` pairs; see [`HashValue::iter`].
pub struct HashIter<'a>(IterInner<'a>);

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        match &mut self.0 {
            IterInner::Listpack(it) => Some((it.next()?, it.next()?)),
            IterInner::Table(it) => it.next().map(|(k, v)| (&**k, &**v)),
        }
    }
}
