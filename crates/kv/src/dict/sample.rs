//! SCAN and random sampling over the dict's buckets.

use super::{Dict, Link, Table};

/// How many entries [`Dict::random_entry`] samples before picking one
/// (Redis's `GETFAIR_NUM_ENTRIES`).
const FAIR_SAMPLE: usize = 15;

fn visit_chain<'a, K, V>(mut cur: Option<&'a super::Node<K, V>>, f: &mut impl FnMut(&'a K, &'a V)) {
    while let Some(n) = cur {
        f(&n.key, &n.value);
        cur = n.next.as_deref();
    }
}

/// Increments `v`'s bits under `mask` as a reversed binary number.
#[inline]
fn rev_increment(v: u64, mask: u64) -> u64 {
    let v = v | !mask;
    v.reverse_bits().wrapping_add(1).reverse_bits()
}

fn bucket<K, V>(t: &Table<K, V>, i: usize) -> &Link<K, V> {
    &t.buckets[i]
}

impl<K, V> Dict<K, V> {
    /// One SCAN step (Redis's `dictScan`): calls `f` on every entry of the
    /// bucket(s) at `cursor` and returns the next cursor, 0 when the scan is
    /// complete. Start with 0. Every entry present for a whole scan is
    /// visited at least once, however the table resizes between calls;
    /// some may be visited more than once.
    ///
    /// While rehashing, the cursor names a bucket of the smaller table; the
    /// step visits it and every bucket of the larger table that expands from
    /// it (same low bits), so the old and the new homes of its entries are
    /// both covered.
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a K, &'a V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor;
        if !self.is_rehashing() {
            let t = &self.tables[0];
            let m = t.mask();
            visit_chain(t.buckets[(v & m) as usize].as_deref(), &mut f);
            return rev_increment(v, m);
        }
        let (small, large) = if self.tables[0].size() <= self.tables[1].size() {
            (&self.tables[0], &self.tables[1])
        } else {
            (&self.tables[1], &self.tables[0])
        };
        let (m0, m1) = (small.mask(), large.mask());
        visit_chain(small.buckets[(v & m0) as usize].as_deref(), &mut f);
        loop {
            visit_chain(large.buckets[(v & m1) as usize].as_deref(), &mut f);
            v = rev_increment(v, m1);
            // Stop once the bits the small mask does not cover wrap to 0:
            // the carry has then moved on to the small table's next bucket.
            if v & (m0 ^ m1) == 0 {
                return v;
            }
        }
    }

    /// A random entry, reasonably fair (Redis's `dictGetFairRandomKey`):
    /// samples up to 15 entries from a random stretch of buckets and picks
    /// one of them, so an entry's odds depend little on its chain's length.
    /// `rng` is the server's PRNG.
    pub fn random_entry(&self, rng: &mut impl FnMut() -> u64) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        let mut picked: [Option<(&K, &V)>; FAIR_SAMPLE] = [None; FAIR_SAMPLE];
        let n = self.sample_with(FAIR_SAMPLE, rng, |slot, k, v| picked[slot] = Some((k, v)));
        if n == 0 {
            return self.random_bucket_entry(rng);
        }
        picked[(rng() % n as u64) as usize]
    }

    /// Redis's `dictGetRandomKey`: a random non-empty bucket (of either
    /// table while rehashing), then a random entry of its chain.
    pub(super) fn random_bucket_entry(&self, rng: &mut impl FnMut() -> u64) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        let head = match self.rehash_idx {
            Some(r) => {
                let (s0, s1) = (self.tables[0].size(), self.tables[1].size());
                loop {
                    let h = r + (rng() % (s0 + s1 - r) as u64) as usize;
                    let b =
                        if h >= s0 { bucket(&self.tables[1], h - s0) } else { bucket(&self.tables[0], h) };
                    if let Some(n) = b.as_deref() {
                        break n;
                    }
                }
            }
            None => {
                let t = &self.tables[0];
                loop {
                    if let Some(n) = t.buckets[(rng() & t.mask()) as usize].as_deref() {
                        break n;
                    }
                }
            }
        };
        let mut len = 0;
        visit_chain(Some(head), &mut |_, _| len += 1);
        let mut pick = rng() % len;
        let mut cur = head;
        while pick > 0 {
            cur = cur.next.as_deref().expect("within chain length");
            pick -= 1;
        }
        Some((&cur.key, &cur.value))
    }

    /// Appends up to `count` entries to `out` (Redis's `dictGetSomeKeys`,
    /// for eviction and active-expiry sampling): walks consecutive buckets
    /// from a random index, jumping elsewhere after a run of empty ones, for
    /// at most `10 * count` steps, so it may return fewer than asked (and,
    /// after a jump, rarely an entry twice). Cheap, not uniform.
    pub fn sample<'a>(&'a self, count: usize, rng: &mut impl FnMut() -> u64, out: &mut Vec<(&'a K, &'a V)>) {
        let base = out.len();
        self.sample_with(count, rng, |slot, k, v| {
            if base + slot == out.len() {
                out.push((k, v));
            } else {
                out[base + slot] = (k, v);
            }
        });
    }

    /// The walk of [`Dict::sample`]: puts each entry it keeps in a slot
    /// below `count` with `put(slot, ..)`, the first ones in order, and
    /// returns how many slots it filled. A chain is always read to its end,
    /// as Redis 7.0.15's `dictGetSomeKeys` does: once the slots are full,
    /// the chain's further entries replace a random slot by reservoir
    /// sampling, so an entry deep in a long chain is as likely as the
    /// first ones (without it, the entries of a chain past the `count`th
    /// were picked at about a fifteenth of their share).
    fn sample_with<'a>(
        &'a self,
        count: usize,
        rng: &mut impl FnMut() -> u64,
        mut put: impl FnMut(usize, &'a K, &'a V),
    ) -> usize {
        let count = count.min(self.len());
        if count == 0 {
            return 0;
        }
        let tables = if self.is_rehashing() { 2 } else { 1 };
        let rehash_idx = self.rehash_idx.unwrap_or(0);
        let max_mask = self.tables[0].mask().max(if tables == 2 { self.tables[1].mask() } else { 0 });
        let mut max_steps = count * 10;
        let mut i = (rng() & max_mask) as usize;
        let mut empty_run = 0;
        let mut stored = 0;
        while stored < count && max_steps > 0 {
            max_steps -= 1;
            for j in 0..tables {
                let t = &self.tables[j];
                if tables == 2 && j == 0 && i < rehash_idx {
                    // Buckets below the rehash index of the old table are
                    // empty. If the new table is smaller, skip ahead to the
                    // rehash index; else look at the new table only.
                    if i >= self.tables[1].size() {
                        i = rehash_idx;
                    } else {
                        continue;
                    }
                }
                if i >= t.size() {
                    continue;
                }
                let mut cur = t.buckets[i].as_deref();
                if cur.is_none() {
                    empty_run += 1;
                    if empty_run >= 5 && empty_run > count {
                        i = (rng() & max_mask) as usize;
                        empty_run = 0;
                    }
                    continue;
                }
                empty_run = 0;
                while let Some(n) = cur {
                    if stored < count {
                        put(stored, &n.key, &n.value);
                    } else {
                        let r = (rng() % (stored as u64 + 1)) as usize;
                        if r < count {
                            put(r, &n.key, &n.value);
                        }
                    }
                    stored += 1;
                    cur = n.next.as_deref();
                }
                if stored >= count {
                    return count;
                }
            }
            i = (i + 1) & max_mask as usize;
        }
        stored
    }
}
