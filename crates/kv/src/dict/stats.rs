//! `DEBUG HTSTATS`'s report on a dict: Redis 7.0's `dictGetStats` text.

use std::fmt::Write;

use super::{Dict, Table};

/// Chain lengths counted one by one; longer chains share the last count
/// (Redis's `DICT_STATS_VECTLEN`). As in Redis, that last count is never
/// printed.
const STATS_VECTLEN: usize = 50;

impl<K, V> Dict<K, V> {
    /// The statistics of the live table and, while rehashing, of the rehash
    /// target, in Redis 7.0's `dictGetStats` layout: table size, entries,
    /// non-empty buckets ("different slots"), the longest chain, the mean
    /// chain length counted over the chains and computed from the entry
    /// count, and how many buckets hold each chain length. The figures are
    /// this dict's own: it is built as Redis's (power-of-two bucket arrays
    /// of singly linked chains, two tables while rehashing), so they mean
    /// what Redis's mean, though its resize thresholds are Redis 7.4's (see
    /// the [module docs](super)) and its hash is SipHash with another key.
    pub fn stats(&self) -> String {
        let mut out = table_stats(&self.tables[0], 0);
        if self.is_rehashing() {
            out.push_str(&table_stats(&self.tables[1], 1));
        }
        out
    }
}

fn table_stats<K, V>(t: &Table<K, V>, idx: usize) -> String {
    let name = if idx == 0 { "main hash table" } else { "rehashing target" };
    let mut out = format!("Hash table {idx} stats ({name}):\n");
    if t.used == 0 {
        out.push_str("No stats available for empty dictionaries\n");
        return out;
    }
    let mut clvector = [0usize; STATS_VECTLEN];
    let (mut slots, mut max_chain, mut total_chain) = (0usize, 0usize, 0usize);
    for b in &t.buckets {
        let mut chain = 0;
        let mut cur = b.as_deref();
        while let Some(n) = cur {
            chain += 1;
            cur = n.next.as_deref();
        }
        clvector[chain.min(STATS_VECTLEN - 1)] += 1;
        if chain > 0 {
            slots += 1;
            max_chain = max_chain.max(chain);
            total_chain += chain;
        }
    }
    // Redis divides in `float`; the two-decimal rounding hides the rest.
    let _ = write!(
        out,
        " table size: {}\n number of elements: {}\n different slots: {}\n max chain length: {}\n \
         avg chain length (counted): {:.2}\n avg chain length (computed): {:.2}\n Chain length distribution:\n",
        t.size(),
        t.used,
        slots,
        max_chain,
        total_chain as f32 / slots as f32,
        t.used as f32 / slots as f32,
    );
    for (len, &n) in clvector.iter().enumerate().take(STATS_VECTLEN - 1) {
        if n > 0 {
            let pct = n as f32 / t.size() as f32 * 100.0;
            let _ = writeln!(out, "   {len}: {n} ({pct:.2}%)");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Dict;

    #[test]
    fn empty_dict_has_no_stats() {
        let d: Dict<u64, ()> = Dict::new();
        assert_eq!(
            d.stats(),
            "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"
        );
    }

    #[test]
    fn figures_add_up() {
        let mut d: Dict<u64, ()> = Dict::new();
        for i in 0..100 {
            d.insert(i, ());
        }
        while d.rehash_steps(100) {}
        let s = d.stats();
        assert!(
            s.starts_with(
                "Hash table 0 stats (main hash table):\n table size: 128\n number of elements: 100\n"
            ),
            "{s}"
        );
        let slots: usize =
            s.split("different slots: ").nth(1).unwrap().lines().next().unwrap().parse().unwrap();
        // The distribution's buckets add up to the table size, and its
        // non-empty ones to the slot count.
        let mut total = 0;
        let mut nonempty = 0;
        for line in s.lines().skip_while(|l| !l.contains("distribution")).skip(1) {
            let (len, rest) = line.trim().split_once(": ").unwrap();
            let n: usize = rest.split(' ').next().unwrap().parse().unwrap();
            total += n;
            if len != "0" {
                nonempty += n;
            }
        }
        assert_eq!((total, nonempty), (128, slots));
    }
}
