//! Unit tests and model-based proptests for [`ZSetValue`].

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

fn cfg(entries: usize, value: usize) -> EncodingConfig {
    EncodingConfig {
        zset_max_listpack_entries: entries,
        zset_max_listpack_value: value,
        ..EncodingConfig::default()
    }
}

fn add(z: &mut ZSetValue, m: &str, s: f64, c: &EncodingConfig) -> AddOutcome {
    z.add(m.as_bytes(), s, AddFlags::default(), c).unwrap()
}

fn pairs(v: Vec<(&[u8], f64)>) -> Vec<(String, f64)> {
    v.into_iter().map(|(m, s)| (String::from_utf8(m.to_vec()).unwrap(), s)).collect()
}

fn sample(c: &EncodingConfig) -> ZSetValue {
    let mut z = ZSetValue::new();
    for (m, s) in [("a", 1.0), ("b", 2.0), ("c", 2.0), ("d", 3.0), ("e", 5.0)] {
        add(&mut z, m, s, c);
    }
    z
}

fn both_encodings() -> [ZSetValue; 2] {
    let small = sample(&cfg(128, 64));
    let big = sample(&cfg(2, 64));
    assert_eq!(small.encoding(), "listpack");
    assert_eq!(big.encoding(), "skiplist");
    [small, big]
}

#[test]
fn zadd_flags_follow_zsetadd() {
    let c = cfg(128, 64);
    let mut z = ZSetValue::new();
    let f = |nx, xx, gt, lt, incr| AddFlags { nx, xx, gt, lt, incr };
    let r = |result, score| Ok(AddOutcome { result, score });
    assert_eq!(z.add(b"m", 1.0, f(false, true, false, false, false), &c), r(AddResult::Skipped, 1.0));
    assert_eq!(z.add(b"m", 1.0, f(false, false, true, false, false), &c), r(AddResult::Added, 1.0));
    assert_eq!(z.add(b"m", 5.0, f(true, false, false, false, false), &c), r(AddResult::Skipped, 1.0));
    assert_eq!(z.add(b"m", 0.5, f(false, false, true, false, false), &c), r(AddResult::Skipped, 1.0));
    assert_eq!(z.add(b"m", 3.0, f(false, false, true, false, false), &c), r(AddResult::Updated, 3.0));
    assert_eq!(z.add(b"m", 3.0, AddFlags::default(), &c), r(AddResult::Unchanged, 3.0));
    assert_eq!(z.add(b"m", 2.0, f(false, true, false, false, true), &c), r(AddResult::Updated, 5.0));
    assert_eq!(z.add(b"m", 1.0, f(false, false, false, true, true), &c), r(AddResult::Skipped, 5.0));
    assert_eq!(z.add(b"m", -1.0, f(false, false, false, true, true), &c), r(AddResult::Updated, 4.0));
    assert_eq!(z.add(b"n", 7.0, f(false, false, false, false, true), &c), r(AddResult::Added, 7.0));
    assert_eq!(z.add(b"x", f64::NAN, AddFlags::default(), &c), Err(ZAddError::Nan));
    z.add(b"i", f64::INFINITY, AddFlags::default(), &c).unwrap();
    let e = z.add(b"i", f64::NEG_INFINITY, f(false, false, false, false, true), &c);
    assert_eq!(e, Err(ZAddError::Nan));
    assert_eq!(e.unwrap_err().to_string(), "ERR resulting score is not a number (NaN)");
    assert_eq!(z.score(b"i"), Some(f64::INFINITY));
    assert_eq!(z.len(), 3);
}

#[test]
fn converts_on_entries_and_member_length() {
    let c = cfg(3, 4);
    let mut z = ZSetValue::new();
    for m in ["a", "b", "c"] {
        add(&mut z, m, 1.0, &c);
    }
    assert_eq!(z.encoding(), "listpack");
    add(&mut z, "d", 1.0, &c);
    assert_eq!(z.encoding(), "skiplist");
    let mut z = ZSetValue::new();
    add(&mut z, "abcd", 1.0, &c);
    assert_eq!(z.encoding(), "listpack");
    add(&mut z, "abcde", 1.0, &c);
    assert_eq!(z.encoding(), "skiplist");
    z.remove(b"abcde");
    z.convert_to_listpack_if_fits(&c);
    assert_eq!(z.encoding(), "listpack");
    assert_eq!(ZSetValue::from_pairs([(b"a", 1.0); 2], &c).encoding(), "listpack");
    let many: Vec<(Vec<u8>, f64)> = (0..10u8).map(|i| (vec![i], 0.0)).collect();
    let z = ZSetValue::from_pairs(many, &c);
    assert_eq!((z.encoding(), z.len()), ("skiplist", 10));
    assert_eq!(ZSetValue::with_hint(1, 100, &c).encoding(), "skiplist");
}

#[test]
fn rank_score_remove() {
    for mut z in both_encodings() {
        assert_eq!(z.rank(b"a", false), Some((0, 1.0)));
        assert_eq!(z.rank(b"c", false), Some((2, 2.0)));
        assert_eq!(z.rank(b"c", true), Some((2, 2.0)));
        assert_eq!(z.rank(b"e", true), Some((0, 5.0)));
        assert_eq!(z.rank(b"zz", false), None);
        assert!(z.remove(b"b"));
        assert!(!z.remove(b"b"));
        assert_eq!(z.score(b"b"), None);
        assert_eq!(z.rank(b"d", false), Some((2, 3.0)));
        z.check();
    }
}

#[test]
fn ranges() {
    for z in both_encodings() {
        let r = ScoreRange::parse(b"(1", b"3").unwrap();
        assert_eq!(z.count_in_score_range(&r), 3);
        assert_eq!(pairs(z.range_by_score(&r, false, 1, Some(5))), [("c".into(), 2.0), ("d".into(), 3.0)]);
        assert_eq!(pairs(z.range_by_score(&r, true, 0, Some(1))), [("d".into(), 3.0)]);
        assert!(z.range_by_score(&ScoreRange::parse(b"4", b"(5").unwrap(), false, 0, None).is_empty());
        assert_eq!(pairs(z.range_by_rank(-2, -1, false)), [("d".into(), 3.0), ("e".into(), 5.0)]);
        assert_eq!(pairs(z.range_by_rank(0, 0, true)), [("e".into(), 5.0)]);
        assert!(z.range_by_rank(3, 1, false).is_empty());
        assert_eq!(z.range_by_rank(-100, 100, false).len(), 5);
        let lex = LexRange::parse(b"(a", b"[c").unwrap();
        // Lex ranges assume equal scores; b and c share score 2 and sort
        // by member anyway here.
        assert_eq!(z.count_in_lex_range(&lex), 2);
        assert_eq!(pairs(z.range_by_lex(&lex, true, 0, None)), [("c".into(), 2.0), ("b".into(), 2.0)]);
        let all: Vec<_> = z.iter().map(|(m, _)| m[0]).collect();
        assert_eq!(all, b"abcde");
        let rev: Vec<_> = z.iter().rev().map(|(m, _)| m[0]).collect();
        assert_eq!(rev, b"edcba");
    }
}

#[test]
fn range_removals_and_pops() {
    for z in both_encodings() {
        let mut y = z.clone();
        assert_eq!(y.remove_range_by_score(&ScoreRange::parse(b"2", b"3").unwrap()), 3);
        y.check();
        assert_eq!(y.len(), 2);
        let mut y = z.clone();
        assert_eq!(y.remove_range_by_rank(1, -2), 3);
        assert_eq!(y.remove_range_by_rank(5, 10), 0);
        y.check();
        assert_eq!(pairs(y.range_by_rank(0, -1, false)), [("a".into(), 1.0), ("e".into(), 5.0)]);
        let mut y = z.clone();
        assert_eq!(y.remove_range_by_lex(&LexRange::parse(b"-", b"(c").unwrap()), 2);
        y.check();
        let mut y = z.clone();
        assert_eq!(y.pop_min(2), [(b"a".to_vec(), 1.0), (b"b".to_vec(), 2.0)]);
        assert_eq!(y.pop_max(1), [(b"e".to_vec(), 5.0)]);
        assert_eq!(y.pop_max(10).len(), 2);
        assert!(y.is_empty());
        y.check();
    }
}

#[test]
fn random_members_and_scan() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rng = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for z in both_encodings() {
        assert_eq!(z.random_members(10, &mut rng).len(), 5);
        for n in [1i64, 2, 4] {
            let got = z.random_members(n, &mut rng);
            let mut names: Vec<_> = got.iter().map(|(m, _)| m.to_vec()).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), n as usize);
            assert!(got.iter().all(|(m, s)| z.score(m) == Some(*s)));
        }
        let got = z.random_members(-20, &mut rng);
        assert_eq!(got.len(), 20);
        assert!(got.iter().all(|(m, s)| z.score(m) == Some(*s)));
        assert!(z.random_members(0, &mut rng).is_empty());
        let mut seen = vec![];
        let mut cursor = 0;
        loop {
            cursor = z.scan(cursor, |m, s| seen.push((m.to_vec(), s)));
            if cursor == 0 {
                break;
            }
        }
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(seen.len(), 5);
        assert!(z.memory_usage() > 0);
    }
}

// ---- proptests against a HashMap model ----

#[derive(Clone, Debug)]
enum Op {
    Add(Vec<u8>, f64, AddFlags),
    Remove(Vec<u8>),
    RemScore(f64, f64, bool, bool),
    RemRank(i64, i64),
    PopMin(usize),
    PopMax(usize),
    Shrink,
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        10 => prop::collection::vec(prop::sample::select(b"abc".to_vec()), 0..3),
        1 => Just(b"a-very-long-member".to_vec()),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => (-4i32..4).prop_map(f64::from),
        1 => prop::sample::select(vec![f64::NEG_INFINITY, f64::INFINITY, 0.5, -0.0]),
    ]
}

fn flags() -> impl Strategy<Value = AddFlags> {
    (0u8..6, 0u8..4, any::<bool>()).prop_map(|(a, b, incr)| AddFlags {
        nx: a == 1,
        xx: a == 2,
        gt: b == 1,
        lt: b == 2,
        incr,
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (member(), score(), flags()).prop_map(|(m, s, f)| Op::Add(m, s, f)),
        3 => member().prop_map(Op::Remove),
        1 => (score(), score(), any::<bool>(), any::<bool>()).prop_map(|(a, b, x, y)| Op::RemScore(a, b, x, y)),
        1 => (-8i64..8, -8i64..8).prop_map(|(a, b)| Op::RemRank(a, b)),
        1 => (0usize..3).prop_map(Op::PopMin),
        1 => (0usize..3).prop_map(Op::PopMax),
        1 => Just(Op::Shrink),
    ]
}

type Model = HashMap<Vec<u8>, f64>;

fn sorted(m: &Model) -> Vec<(Vec<u8>, f64)> {
    let mut v: Vec<_> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
    v
}

fn model_add(m: &mut Model, k: &[u8], score: f64, f: AddFlags) -> Result<AddOutcome, ZAddError> {
    let res = |result, score| Ok(AddOutcome { result, score });
    match m.get(k).copied() {
        Some(cur) => {
            if f.nx {
                return res(AddResult::Skipped, cur);
            }
            let new = if f.incr { score + cur } else { score };
            if new.is_nan() {
                return Err(ZAddError::Nan);
            }
            if (f.lt && new >= cur) || (f.gt && new <= cur) {
                return res(AddResult::Skipped, cur);
            }
            if new == cur {
                return res(AddResult::Unchanged, cur);
            }
            m.insert(k.to_vec(), new);
            res(AddResult::Updated, new)
        }
        None if f.xx => res(AddResult::Skipped, score),
        None => {
            m.insert(k.to_vec(), score);
            res(AddResult::Added, score)
        }
    }
}

fn owned(v: Vec<(&[u8], f64)>) -> Vec<(Vec<u8>, f64)> {
    v.into_iter().map(|(m, s)| (m.to_vec(), s)).collect()
}

fn check_against(z: &ZSetValue, m: &Model) -> Result<(), TestCaseError> {
    z.check();
    let want = sorted(m);
    prop_assert_eq!(z.len(), want.len());
    prop_assert_eq!(owned(z.iter().collect()), want.clone());
    for (r, (k, s)) in want.iter().enumerate() {
        prop_assert_eq!(z.rank(k, false), Some((r, *s)));
        prop_assert_eq!(z.rank(k, true), Some((want.len() - 1 - r, *s)));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn zset_matches_model(
        entries in prop::sample::select(vec![0usize, 2, 4, 16]),
        ops in prop::collection::vec(op(), 1..80),
        queries in prop::collection::vec((score(), score(), any::<bool>(), any::<bool>(), 0usize..3, prop::option::of(0usize..4)), 4),
    ) {
        let c = cfg(entries, 8);
        let mut z = ZSetValue::new();
        let mut m = Model::new();
        for op in ops {
            match op {
                Op::Add(k, s, f) => prop_assert_eq!(z.add(&k, s, f, &c), model_add(&mut m, &k, s, f)),
                Op::Remove(k) => prop_assert_eq!(z.remove(&k), m.remove(&k).is_some()),
                Op::RemScore(a, b, x, y) => {
                    let r = ScoreRange { min: a, max: b, min_ex: x, max_ex: y };
                    let before = m.len();
                    m.retain(|_, s| !r.contains(*s));
                    prop_assert_eq!(z.remove_range_by_score(&r), before - m.len());
                }
                Op::RemRank(a, b) => {
                    let want = sorted(&m);
                    let mut n = 0;
                    if let Some((s, e)) = clamp_rank_range(a, b, want.len()) {
                        for (k, _) in &want[s..=e] { m.remove(k); }
                        n = e - s + 1;
                    }
                    prop_assert_eq!(z.remove_range_by_rank(a, b), n);
                }
                Op::PopMin(n) => {
                    let want: Vec<_> = sorted(&m).into_iter().take(n).collect();
                    for (k, _) in &want { m.remove(k); }
                    prop_assert_eq!(z.pop_min(n), want);
                }
                Op::PopMax(n) => {
                    let want: Vec<_> = sorted(&m).into_iter().rev().take(n).collect();
                    for (k, _) in &want { m.remove(k); }
                    prop_assert_eq!(z.pop_max(n), want);
                }
                Op::Shrink => z.convert_to_listpack_if_fits(&c),
            }
            if entries == 0 && !z.is_empty() {
                prop_assert_eq!(z.encoding(), "skiplist");
            }
            check_against(&z, &m)?;
        }
        let want = sorted(&m);
        for (a, b, x, y, offset, limit) in queries {
            let r = ScoreRange { min: a, max: b, min_ex: x, max_ex: y };
            let inside: Vec<_> = want.iter().filter(|(_, s)| r.contains(*s)).cloned().collect();
            prop_assert_eq!(z.count_in_score_range(&r), inside.len());
            let lim = limit.unwrap_or(usize::MAX);
            let fwd: Vec<_> = inside.iter().skip(offset).take(lim).cloned().collect();
            prop_assert_eq!(owned(z.range_by_score(&r, false, offset, limit)), fwd);
            let rev: Vec<_> = inside.iter().rev().skip(offset).take(lim).cloned().collect();
            prop_assert_eq!(owned(z.range_by_score(&r, true, offset, limit)), rev);
            let (i, j) = (a.clamp(-9.0, 9.0) as i64, b.clamp(-9.0, 9.0) as i64);
            let by_rank: Vec<_> = match clamp_rank_range(i, j, want.len()) {
                Some((s, e)) => want[s..=e].to_vec(),
                None => vec![],
            };
            prop_assert_eq!(owned(z.range_by_rank(i, j, false)), by_rank);
            let rev_all: Vec<_> = want.iter().rev().cloned().collect();
            let by_rank_rev: Vec<_> = match clamp_rank_range(i, j, want.len()) {
                Some((s, e)) => rev_all[s..=e].to_vec(),
                None => vec![],
            };
            prop_assert_eq!(owned(z.range_by_rank(i, j, true)), by_rank_rev);
        }
    }

    #[test]
    fn zset_lex_matches_model(
        entries in prop::sample::select(vec![2usize, 6, 64]),
        ops in prop::collection::vec((0u8..3, member(), member(), any::<bool>(), any::<bool>()), 1..60),
    ) {
        let c = cfg(entries, 8);
        let mut z = ZSetValue::new();
        let mut m = Model::new();
        let bound = |k: &[u8], incl: bool, inf: bool, lo: bool| {
            if inf && k.is_empty() {
                if lo { LexBound::NegInf } else { LexBound::PosInf }
            } else if incl {
                LexBound::Inclusive(k.to_vec())
            } else {
                LexBound::Exclusive(k.to_vec())
            }
        };
        for (kind, a, b, x, y) in ops {
            let r = LexRange { min: bound(&a, x, y, true), max: bound(&b, y, x, false) };
            match kind {
                0 => { z.add(&a, 0.0, AddFlags::default(), &c).unwrap(); m.insert(a.clone(), 0.0); }
                1 => {
                    let before = m.len();
                    if !r.is_empty() { m.retain(|k, _| !r.contains(k)); }
                    prop_assert_eq!(z.remove_range_by_lex(&r), before - m.len());
                }
                _ => {
                    let want: Vec<_> = sorted(&m).into_iter().filter(|(k, _)| !r.is_empty() && r.contains(k)).collect();
                    prop_assert_eq!(z.count_in_lex_range(&r), want.len());
                    prop_assert_eq!(owned(z.range_by_lex(&r, false, 1, Some(2))), want.iter().skip(1).take(2).cloned().collect::<Vec<_>>());
                    prop_assert_eq!(owned(z.range_by_lex(&r, true, 0, None)), want.iter().rev().cloned().collect::<Vec<_>>());
                }
            }
            check_against(&z, &m)?;
        }
    }
}
