use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;

fn cfg(entries: usize, value: usize) -> EncodingConfig {
    EncodingConfig {
        hash_max_listpack_entries: entries,
        hash_max_listpack_value: value,
        ..EncodingConfig::default()
    }
}

fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s >> 17
    }
}

fn table_hash(n: usize) -> HashValue {
    let c = cfg(4, 64);
    let mut h = HashValue::new();
    for i in 0..n {
        h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &c);
    }
    assert_eq!(h.encoding(), if n > 4 { "hashtable" } else { "listpack" });
    h
}

#[test]
fn listpack_basics() {
    let c = EncodingConfig::default();
    let mut h = HashValue::new();
    assert_eq!((h.encoding(), h.len(), h.is_empty()), ("listpack", 0, true));
    assert!(h.set(b"a", b"1", &c));
    assert!(h.set(b"b", b"", &c));
    assert!(!h.set(b"a", b"longer", &c));
    assert_eq!(h.get(b"a"), Some(&b"longer"[..]));
    assert_eq!(h.get(b"b"), Some(&b""[..]));
    // A value equal to a field name is not a field.
    assert!(h.set(b"c", b"a", &c));
    assert!(!h.contains(b"1"));
    assert_eq!(h.get(b"longer"), None);
    assert_eq!(h.strlen(b"a"), 6);
    assert_eq!(h.strlen(b"zz"), 0);
    assert!(!h.set_nx(b"a", b"x", &c));
    assert!(h.set_nx(b"d", b"x", &c));
    assert_eq!(h.len(), 4);
    let pairs: Vec<_> = h.iter().collect();
    assert_eq!(pairs, vec![(&b"a"[..], &b"longer"[..]), (b"b", b""), (b"c", b"a"), (b"d", b"x")]);
    assert!(h.remove(b"b"));
    assert!(!h.remove(b"b"));
    assert_eq!(h.len(), 3);
    assert_eq!(h.encoding(), "listpack");
    assert_eq!(format!("{h:?}"), r#"{"a": "longer", "c": "a", "d": "x"}"#);
}

#[test]
fn converts_past_entries_not_at() {
    let c = cfg(3, 64);
    let mut h = HashValue::new();
    for f in [b"a", b"b", b"c"] {
        h.set(f, b"v", &c);
    }
    assert_eq!(h.encoding(), "listpack");
    h.set(b"a", b"w", &c);
    assert_eq!(h.encoding(), "listpack");
    h.set(b"d", b"v", &c);
    assert_eq!(h.encoding(), "hashtable");
    // Never back.
    h.remove(b"a");
    h.remove(b"b");
    assert_eq!(h.encoding(), "hashtable");
    assert_eq!(h.get(b"c"), Some(&b"v"[..]));
    assert_eq!(h.len(), 2);
}

#[test]
fn converts_on_long_field_or_value() {
    let c = cfg(128, 4);
    let mut h = HashValue::new();
    h.set(b"abcd", b"1234", &c);
    assert_eq!(h.encoding(), "listpack");
    let mut h2 = h.clone();
    h.set(b"abcde", b"1", &c);
    assert_eq!(h.encoding(), "hashtable");
    // Overwriting an existing field with a long value converts too.
    h2.set(b"abcd", b"12345", &c);
    assert_eq!(h2.encoding(), "hashtable");
    assert_eq!(h2.get(b"abcd"), Some(&b"12345"[..]));
    // A long value for a set_nx that does nothing does not convert.
    let mut h3 = HashValue::new();
    h3.set(b"a", b"1", &c);
    assert!(!h3.set_nx(b"a", b"123456", &c));
    assert_eq!(h3.encoding(), "listpack");
    // Zero entries allowed: the first field converts.
    let mut h4 = HashValue::new();
    h4.set(b"a", b"1", &cfg(0, 64));
    assert_eq!(h4.encoding(), "hashtable");
}

#[test]
fn table_operations() {
    let mut h = table_hash(10);
    let c = cfg(4, 64);
    assert_eq!(h.len(), 10);
    assert_eq!(h.get(b"f3"), Some(&b"v3"[..]));
    assert!(!h.set(b"f3", b"new", &c));
    assert_eq!(h.get(b"f3"), Some(&b"new"[..]));
    assert!(h.set_nx(b"g", b"1", &c));
    assert!(h.remove(b"g"));
    assert!(!h.remove(b"g"));
    assert_eq!(h.strlen(b"f3"), 3);
    let m: HashMap<&[u8], &[u8]> = h.iter().collect();
    assert_eq!(m.len(), 10);
}

#[test]
fn scan_both_encodings() {
    for n in [3, 100] {
        let h = table_hash(n);
        let mut seen = HashMap::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            cursor = h.scan(cursor, |f, v| {
                seen.insert(f.to_vec(), v.to_vec());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), n);
        assert_eq!(calls > 1, n > 4);
    }
}

#[test]
fn random_fields_count_semantics() {
    for n in [3usize, 10, 200] {
        let h = table_hash(n);
        let mut r = rng(n as u64);
        assert!(h.random_fields(0, true, &mut r).is_empty());
        // Positive: distinct, at most len.
        for count in [1i64, 2, 3, 5, 60, 199, 200, 1000] {
            let got = h.random_fields(count, false, &mut r);
            assert_eq!(got.len(), (count as usize).min(n));
            let distinct: HashSet<&[u8]> = got.iter().map(|(f, _)| *f).collect();
            assert_eq!(distinct.len(), got.len());
            assert!(got.iter().all(|(f, v)| v.is_none() && h.contains(f)));
        }
        // Negative: exactly |count|, repeats allowed, values when asked.
        let got = h.random_fields(-50, true, &mut r);
        assert_eq!(got.len(), 50);
        assert!(got.iter().all(|(f, v)| h.get(f) == *v));
        if n == 3 {
            let distinct: HashSet<&[u8]> = got.iter().map(|(f, _)| *f).collect();
            assert_eq!(distinct.len(), 3);
        }
        let (f, v) = h.random_field(&mut r).unwrap();
        assert_eq!(h.get(f), Some(v));
    }
    let empty = HashValue::new();
    assert!(empty.random_fields(-3, false, &mut rng(1)).is_empty());
    assert!(empty.random_field(&mut rng(1)).is_none());
}

#[test]
fn pairs_round_trip_and_memory() {
    let c = cfg(4, 64);
    let small = HashValue::from_pairs([(&b"a"[..], &b"1"[..]), (b"b", b"2"), (b"a", b"3")], &c);
    assert_eq!((small.encoding(), small.len()), ("listpack", 2));
    assert_eq!(small.get(b"a"), Some(&b"3"[..]));
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..10u8).map(|i| (vec![i], vec![i; 3])).collect();
    let big = HashValue::from_pairs(pairs.clone(), &c);
    assert_eq!((big.encoding(), big.len()), ("hashtable", 10));
    assert!(big.memory_usage() > small.memory_usage());
    let mut back = big.into_pairs();
    back.sort();
    assert_eq!(back, pairs);
    assert_eq!(small.into_pairs(), vec![(b"a".to_vec(), b"3".to_vec()), (b"b".to_vec(), b"2".to_vec())]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// HashValue behaves as a HashMap under random writes, with thresholds
    /// small enough that most runs convert.
    #[test]
    fn hash_matches_model(
        entries in 0..6usize,
        ops in proptest::collection::vec((0..4u8, 0..10u8, proptest::collection::vec(any::<u8>(), 0..6)), 0..60),
    ) {
        let c = cfg(entries, 4);
        let mut h = HashValue::new();
        let mut m: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        let mut converted = false;
        for (kind, f, v) in ops {
            let f = vec![b'f'; f as usize % 6];
            match kind {
                0 => prop_assert_eq!(h.set(&f, &v, &c), m.insert(f.clone(), v.clone()).is_none()),
                1 => {
                    let new = !m.contains_key(&f);
                    if new { m.insert(f.clone(), v.clone()); }
                    prop_assert_eq!(h.set_nx(&f, &v, &c), new);
                }
                2 => prop_assert_eq!(h.remove(&f), m.remove(&f).is_some()),
                _ => prop_assert_eq!(h.get(&f), m.get(&f).map(|v| &v[..])),
            }
            prop_assert_eq!(h.len(), m.len());
            if converted {
                prop_assert_eq!(h.encoding(), "hashtable");
            }
            converted = h.encoding() == "hashtable";
            if !converted {
                prop_assert!(h.len() <= entries);
                prop_assert!(h.iter().all(|(f, v)| f.len() <= 4 && v.len() <= 4));
            }
        }
        let all: HashMap<Vec<u8>, Vec<u8>> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        prop_assert_eq!(all, m);
    }
}
