use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;

use super::*;

fn cfg(intset: usize, lp_entries: usize, lp_value: usize) -> EncodingConfig {
    EncodingConfig {
        set_max_intset_entries: intset,
        set_max_listpack_entries: lp_entries,
        set_max_listpack_value: lp_value,
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

fn members(s: &SetValue) -> BTreeSet<Vec<u8>> {
    s.iter().map(Cow::into_owned).collect()
}

fn set_of(ms: &[&str], c: &EncodingConfig) -> SetValue {
    let mut s = SetValue::new();
    for m in ms {
        s.add(m.as_bytes(), c);
    }
    s
}

#[test]
fn canonical_integers() {
    for (s, v) in [
        ("0", Some(0)),
        ("-1", Some(-1)),
        ("123", Some(123)),
        ("9223372036854775807", Some(i64::MAX)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("9223372036854775808", None),
        ("-9223372036854775809", None),
        ("99999999999999999999", None),
        ("007", None),
        ("-0", None),
        ("+1", None),
        ("", None),
        ("-", None),
        ("1a", None),
        (" 1", None),
        ("1.0", None),
    ] {
        assert_eq!(canonical_i64(s.as_bytes()), v, "{s:?}");
    }
}

#[test]
fn intset_basics() {
    let c = EncodingConfig::default();
    let mut s = SetValue::new();
    assert_eq!((s.encoding(), s.len(), s.is_empty()), ("intset", 0, true));
    assert!(s.add(b"3", &c));
    assert!(s.add(b"-70000", &c));
    assert!(!s.add(b"3", &c));
    assert!(s.add(b"1", &c));
    assert_eq!(s.encoding(), "intset");
    assert!(s.contains(b"3") && !s.contains(b"03") && !s.contains(b"x"));
    let order: Vec<Cow<[u8]>> = s.iter().collect();
    assert_eq!(order, vec![&b"-70000"[..], b"1", b"3"]);
    assert!(s.remove(b"1"));
    assert!(!s.remove(b"1") && !s.remove(b"x"));
    assert_eq!(s.len(), 2);
    assert_eq!(format!("{s:?}"), r#"{"-70000", "3"}"#);
}

#[test]
fn intset_to_listpack_on_string() {
    let c = cfg(512, 4, 8);
    let mut s = set_of(&["1", "2", "3"], &c);
    assert!(s.add(b"abc", &c));
    assert_eq!(s.encoding(), "listpack");
    assert_eq!(members(&s), members(&set_of(&["1", "2", "3", "abc"], &cfg(0, 0, 0))));
    assert!(s.contains(b"2") && s.contains(b"abc"));
    assert!(!s.add(b"2", &c));
    // Listpack full (4 entries): the next member converts.
    assert!(s.add(b"xyz", &c));
    assert_eq!(s.encoding(), "hashtable");
    assert_eq!(s.len(), 5);
}

#[test]
fn intset_to_table_when_listpack_would_not_fit() {
    let c = cfg(512, 3, 8);
    // 3 integers: a fourth member would exceed 3 listpack entries.
    let mut s = set_of(&["1", "2", "3"], &c);
    s.add(b"a", &c);
    assert_eq!(s.encoding(), "hashtable");
    // A long member goes straight to the table.
    let mut s = set_of(&["1"], &c);
    s.add(b"abcdefghi", &c);
    assert_eq!(s.encoding(), "hashtable");
    // So does one that fits while an integer's text would not.
    let mut s = set_of(&["-1234567890"], &c);
    assert_eq!(s.encoding(), "intset");
    s.add(b"a", &c);
    assert_eq!(s.encoding(), "hashtable");
    assert!(s.contains(b"-1234567890") && s.contains(b"a"));
}

#[test]
fn intset_to_table_past_intset_entries() {
    let c = cfg(3, 128, 64);
    let mut s = set_of(&["1", "2", "3"], &c);
    assert_eq!(s.encoding(), "intset");
    assert!(!s.add(b"3", &c));
    assert_eq!(s.encoding(), "intset");
    assert!(s.add(b"4", &c));
    assert_eq!(s.encoding(), "hashtable");
    assert!(s.contains(b"4") && s.contains(b"1"));
    // Never back.
    s.remove(b"1");
    s.remove(b"2");
    assert_eq!(s.encoding(), "hashtable");
}

#[test]
fn listpack_limits() {
    let c = cfg(512, 3, 4);
    let mut s = set_of(&["a", "b"], &c);
    assert_eq!(s.encoding(), "listpack");
    assert!(s.add(b"1", &c));
    assert_eq!(s.encoding(), "listpack");
    assert!(s.remove(b"a"));
    assert!(s.add(b"abcd", &c));
    assert_eq!(s.encoding(), "listpack");
    let mut long = s.clone();
    assert!(long.add(b"abcde", &c));
    assert_eq!(long.encoding(), "hashtable");
    assert!(s.add(b"c", &c));
    assert_eq!(s.encoding(), "hashtable");
    assert_eq!(members(&s).len(), 4);
}

#[test]
fn with_capacity_for_picks_like_set_type_create() {
    let c = cfg(4, 8, 64);
    assert_eq!(SetValue::with_capacity_for(b"1", 4, &c).encoding(), "intset");
    assert_eq!(SetValue::with_capacity_for(b"1", 5, &c).encoding(), "listpack");
    assert_eq!(SetValue::with_capacity_for(b"a", 8, &c).encoding(), "listpack");
    assert_eq!(SetValue::with_capacity_for(b"a", 9, &c).encoding(), "hashtable");
    let mut s = SetValue::with_capacity_for(b"a", 9, &c);
    assert!(s.add(b"5", &c) && s.contains(b"5"));
}

#[test]
fn scan_all_encodings() {
    let c = cfg(4, 4, 64);
    for ms in [vec!["1", "2"], vec!["a", "1"], (0..100).map(|i| ["x", "y"][i % 2]).collect()] {
        let mut s = SetValue::new();
        let mut want = BTreeSet::new();
        for (i, m) in ms.iter().enumerate() {
            let m = format!("{m}{}", if ms.len() > 4 { i.to_string() } else { String::new() });
            s.add(m.as_bytes(), &c);
            want.insert(m.into_bytes());
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        loop {
            cursor = s.scan(cursor, |m| {
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen, want, "{}", s.encoding());
    }
}

fn three_encodings(n: usize) -> Vec<SetValue> {
    let c = cfg(1000, 1000, 64);
    let ints = SetValue::from_members((0..n).map(|i| i.to_string().into_bytes()), &c);
    let lp = SetValue::from_members((0..n).map(|i| format!("m{i}").into_bytes()), &c);
    let table = SetValue::from_members((0..n).map(|i| format!("m{i}").into_bytes()), &cfg(0, 0, 64));
    assert_eq!([ints.encoding(), lp.encoding(), table.encoding()], ["intset", "listpack", "hashtable"]);
    vec![ints, lp, table]
}

#[test]
fn random_members_count_semantics() {
    for n in [3usize, 10, 200] {
        for s in three_encodings(n) {
            let mut r = rng(n as u64);
            assert!(s.random_members(0, &mut r).is_empty());
            for count in [1i64, 2, 3, 5, 60, 199, 200, 1000] {
                let got = s.random_members(count, &mut r);
                assert_eq!(got.len(), (count as usize).min(n));
                let distinct: HashSet<&[u8]> = got.iter().map(|m| &**m).collect();
                assert_eq!(distinct.len(), got.len());
                assert!(got.iter().all(|m| s.contains(m)));
            }
            let got = s.random_members(-50, &mut r);
            assert_eq!(got.len(), 50);
            assert!(got.iter().all(|m| s.contains(m)));
            if n == 3 {
                let distinct: HashSet<&[u8]> = got.iter().map(|m| &**m).collect();
                assert_eq!(distinct.len(), 3, "{}", s.encoding());
            }
            assert!(s.contains(&s.random_member(&mut r).unwrap()));
        }
    }
    assert!(SetValue::new().random_members(-2, &mut rng(1)).is_empty());
    assert!(SetValue::new().random_member(&mut rng(1)).is_none());
}

#[test]
fn pop_random_empties_every_encoding() {
    for mut s in three_encodings(20) {
        let before = members(&s);
        let mut popped = BTreeSet::new();
        let mut r = rng(5);
        while let Some(m) = s.pop_random(&mut r) {
            assert!(!s.contains(&m));
            assert!(popped.insert(m));
        }
        assert_eq!(popped, before);
        assert!(s.is_empty());
    }
}

#[test]
fn members_round_trip_and_memory() {
    let sets = three_encodings(50);
    let sizes: Vec<usize> = sets.iter().map(SetValue::memory_usage).collect();
    // The intset packs 50 small integers in 2 bytes each; the table costs most.
    assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2], "{sizes:?}");
    for s in sets {
        let want = members(&s);
        let got: BTreeSet<Vec<u8>> = s.into_members().into_iter().collect();
        assert_eq!(got, want);
    }
    let dup = SetValue::from_members([&b"1"[..], b"1", b"2"], &EncodingConfig::default());
    assert_eq!(dup.len(), 2);
    assert_eq!(SetValue::from_members(Vec::<Vec<u8>>::new(), &EncodingConfig::default()).len(), 0);
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-3i64..40).prop_map(|i| i.to_string().into_bytes()),
        Just(i64::MIN.to_string().into_bytes()),
        Just(b"007".to_vec()),
        proptest::collection::vec(b'a'..b'd', 0..6),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// SetValue behaves as a BTreeSet under random operations, with small
    /// thresholds so that every conversion happens, and keeps each
    /// encoding's invariants.
    #[test]
    fn set_matches_model(
        limits in (0..8usize, 0..6usize, 1..5usize),
        ops in proptest::collection::vec((0..4u8, member()), 0..80),
    ) {
        let c = cfg(limits.0, limits.1, limits.2);
        let mut s = SetValue::new();
        let mut m: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut r = rng(9);
        let rank = |e: &str| ["intset", "listpack", "hashtable"].iter().position(|x| *x == e);
        for (kind, x) in ops {
            let before = rank(s.encoding());
            match kind {
                0 | 1 => prop_assert_eq!(s.add(&x, &c), m.insert(x.clone())),
                2 => prop_assert_eq!(s.remove(&x), m.remove(&x)),
                _ => {
                    if let Some(p) = s.pop_random(&mut r) {
                        prop_assert!(m.remove(&p));
                    }
                }
            }
            prop_assert_eq!(s.len(), m.len());
            prop_assert!(rank(s.encoding()) >= before, "converted backwards");
            match s.encoding() {
                "intset" => {
                    prop_assert!(s.len() <= c.set_max_intset_entries);
                    prop_assert!(m.iter().all(|e| canonical_i64(e).is_some()));
                }
                "listpack" => prop_assert!(s.len() <= c.set_max_listpack_entries),
                _ => {}
            }
        }
        prop_assert_eq!(members(&s), m.clone());
        for e in &m {
            prop_assert!(s.contains(e));
        }
    }
}
