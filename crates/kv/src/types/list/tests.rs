//! Unit tests and a model-based proptest for [`ListValue`].

use std::collections::VecDeque;

use proptest::prelude::*;

use super::*;

fn cfg(fill: i64) -> EncodingConfig {
    EncodingConfig { list_max_listpack_size: fill, ..EncodingConfig::default() }
}

fn list_of(items: &[&str], fill: i64) -> ListValue {
    ListValue::from_items(items.iter().map(|s| s.as_bytes()), &cfg(fill))
}

fn strings(it: impl Iterator<Item = impl AsRef<[u8]>>) -> Vec<String> {
    it.map(|v| String::from_utf8(v.as_ref().to_vec()).unwrap()).collect()
}

#[test]
fn push_pop_index() {
    let c = cfg(-2);
    let mut l = ListValue::new();
    assert_eq!(l.encoding(), "listpack");
    l.push_back(b"b", &c);
    l.push_front(b"a", &c);
    l.push_back(b"c", &c);
    assert_eq!(l.len(), 3);
    assert_eq!(l.index(0), Some(&b"a"[..]));
    assert_eq!(l.index(-1), Some(&b"c"[..]));
    assert_eq!(l.index(-3), Some(&b"a"[..]));
    assert_eq!(l.index(3), None);
    assert_eq!(l.index(-4), None);
    assert_eq!(l.pop_front(), Some(b"a".to_vec()));
    assert_eq!(l.pop_back(), Some(b"c".to_vec()));
    assert_eq!(l.pop_back(), Some(b"b".to_vec()));
    assert_eq!(l.pop_back(), None);
    assert!(l.is_empty());
}

#[test]
fn converts_by_count_and_back_at_half() {
    let c = cfg(4);
    let mut l = list_of(&["1", "2", "3", "4"], 4);
    assert_eq!(l.encoding(), "listpack");
    l.push_back(b"5", &c);
    assert_eq!(l.encoding(), "quicklist");
    l.pop_back();
    l.pop_back();
    // One node of 3 entries: above half the cap (2), stays a quicklist.
    assert_eq!(l.encoding(), "quicklist");
    l.pop_back();
    assert_eq!(l.encoding(), "listpack");
    assert_eq!(strings(l.iter()), ["1", "2"]);
}

#[test]
fn converts_by_bytes() {
    let c = cfg(-1);
    let mut l = ListValue::new();
    let v = vec![b'x'; 1000];
    for _ in 0..4 {
        l.push_back(&v, &c);
    }
    assert_eq!(l.encoding(), "listpack");
    l.push_back(&v, &c);
    assert_eq!(l.encoding(), "quicklist");
    // A single huge element converts immediately.
    let mut l = ListValue::new();
    l.push_back(&vec![b'y'; 5000], &c);
    assert_eq!(l.encoding(), "quicklist");
    assert_eq!(l.index(0).map(<[u8]>::len), Some(5000));
}

#[test]
fn lset_and_linsert() {
    let c = cfg(3);
    let mut l = list_of(&["a", "b", "c"], 3);
    assert!(l.set(-1, b"C", &c));
    assert!(!l.set(3, b"x", &c));
    assert_eq!(strings(l.iter()), ["a", "b", "C"]);
    assert_eq!(l.insert(true, b"b", b"x", &c), Some(4));
    assert_eq!(l.encoding(), "quicklist");
    assert_eq!(l.insert(false, b"C", b"y", &c), Some(5));
    assert_eq!(l.insert(false, b"nope", b"y", &c), None);
    assert_eq!(strings(l.iter()), ["a", "x", "b", "C", "y"]);
}

#[test]
fn lrange_clamping() {
    let l = list_of(&["a", "b", "c", "d"], -2);
    assert_eq!(strings(l.range(0, -1)), ["a", "b", "c", "d"]);
    assert_eq!(strings(l.range(-2, 100)), ["c", "d"]);
    assert_eq!(strings(l.range(-100, 1)), ["a", "b"]);
    assert!(strings(l.range(3, 2)).is_empty());
    assert!(strings(l.range(4, 10)).is_empty());
    assert!(strings(l.range(0, -5)).is_empty());
}

#[test]
fn lrem_directions() {
    let items = ["a", "x", "b", "x", "c", "x"];
    let mut l = list_of(&items, 2);
    assert_eq!(l.remove(1, b"x"), 1);
    assert_eq!(strings(l.iter()), ["a", "b", "x", "c", "x"]);
    assert_eq!(l.remove(-1, b"x"), 1);
    assert_eq!(strings(l.iter()), ["a", "b", "x", "c"]);
    let mut l = list_of(&items, 2);
    assert_eq!(l.remove(0, b"x"), 3);
    assert_eq!(l.remove(0, b"zz"), 0);
    assert_eq!(strings(l.iter()), ["a", "b", "c"]);
}

#[test]
fn ltrim_cases() {
    let mut l = list_of(&["a", "b", "c", "d", "e"], 2);
    l.trim(1, -2);
    assert_eq!(strings(l.iter()), ["b", "c", "d"]);
    l.trim(5, 10);
    assert!(l.is_empty());
    let mut l = list_of(&["a", "b"], 2);
    l.trim(-100, 100);
    assert_eq!(l.len(), 2);
}

#[test]
fn lpos_semantics() {
    let l = list_of(&["a", "b", "c", "1", "2", "3", "c", "c"], 3);
    assert_eq!(l.position(b"c", 1, 1, 0), [2]);
    assert_eq!(l.position(b"c", 2, 1, 0), [6]);
    assert_eq!(l.position(b"c", -1, 1, 0), [7]);
    assert_eq!(l.position(b"c", -1, 0, 0), [7, 6, 2]);
    assert_eq!(l.position(b"c", 1, 2, 0), [2, 6]);
    assert_eq!(l.position(b"c", 1, 0, 0), [2, 6, 7]);
    assert_eq!(l.position(b"c", 1, 0, 3), [2]);
    assert_eq!(l.position(b"c", -1, 0, 2), [7, 6]);
    assert!(l.position(b"z", 1, 0, 0).is_empty());
    assert!(l.position(b"c", 4, 1, 0).is_empty());
}

#[test]
fn queue_and_stack_at_scale() {
    let c = cfg(-2);
    let mut l = ListValue::new();
    for i in 0..50_000u32 {
        l.push_front(&i.to_le_bytes(), &c);
    }
    assert_eq!(l.encoding(), "quicklist");
    assert_eq!(l.index(0), Some(&49_999u32.to_le_bytes()[..]));
    for i in 0..50_000u32 {
        assert_eq!(l.pop_back(), Some(i.to_le_bytes().to_vec()));
    }
    assert_eq!(l.encoding(), "listpack");
    assert!(l.memory_usage() > 0);
}

#[derive(Clone, Debug)]
enum Op {
    PushFront(Vec<u8>),
    PushBack(Vec<u8>),
    PopFront,
    PopBack,
    Set(i64, Vec<u8>),
    Insert(bool, Vec<u8>, Vec<u8>),
    Remove(i64, Vec<u8>),
    Trim(i64, i64),
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::sample::select(vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]),
        1 => prop::collection::vec(any::<u8>(), 0..40),
        1 => (1usize..3).prop_map(|k| vec![b'L'; k * 100]),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => value().prop_map(Op::PushFront),
        4 => value().prop_map(Op::PushBack),
        2 => Just(Op::PopFront),
        2 => Just(Op::PopBack),
        1 => (-12i64..12, value()).prop_map(|(i, v)| Op::Set(i, v)),
        1 => (any::<bool>(), value(), value()).prop_map(|(b, p, v)| Op::Insert(b, p, v)),
        1 => (-3i64..3, value()).prop_map(|(c, v)| Op::Remove(c, v)),
        1 => (-12i64..12, -12i64..12).prop_map(|(a, b)| Op::Trim(a, b)),
    ]
}

fn model_index(len: usize, i: i64) -> Option<usize> {
    let j = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&j).then_some(j as usize)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn list_matches_vecdeque(fill in prop::sample::select(vec![1i64, 2, 3, 5, -1]), ops in prop::collection::vec(op(), 1..120)) {
        // -1 is 4 KiB: the 100..300-byte values make the byte cap matter.
        let c = cfg(fill);
        let mut l = ListValue::new();
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for op in ops {
            match op {
                Op::PushFront(v) => { l.push_front(&v, &c); m.push_front(v); }
                Op::PushBack(v) => { l.push_back(&v, &c); m.push_back(v); }
                Op::PopFront => prop_assert_eq!(l.pop_front(), m.pop_front()),
                Op::PopBack => prop_assert_eq!(l.pop_back(), m.pop_back()),
                Op::Set(i, v) => {
                    let expect = model_index(m.len(), i);
                    prop_assert_eq!(l.set(i, &v, &c), expect.is_some());
                    if let Some(j) = expect { m[j] = v; }
                }
                Op::Insert(before, p, v) => {
                    let got = l.insert(before, &p, &v, &c);
                    match m.iter().position(|x| *x == p) {
                        Some(j) => {
                            m.insert(if before { j } else { j + 1 }, v);
                            prop_assert_eq!(got, Some(m.len()));
                        }
                        None => prop_assert_eq!(got, None),
                    }
                }
                Op::Remove(count, v) => {
                    let n = l.remove(count, &v);
                    let mut idx: Vec<usize> = (0..m.len()).filter(|&j| m[j] == v).collect();
                    if count < 0 { idx.reverse(); }
                    if count != 0 { idx.truncate(count.unsigned_abs() as usize); }
                    idx.sort_unstable();
                    for &j in idx.iter().rev() { m.remove(j); }
                    prop_assert_eq!(n, idx.len());
                }
                Op::Trim(a, b) => {
                    l.trim(a, b);
                    let len = m.len() as i64;
                    let s = if a < 0 { (a + len).max(0) } else { a };
                    let e = if b < 0 { b + len } else { b.min(len - 1) };
                    if s > e || s >= len { m.clear(); } else {
                        m.truncate(e as usize + 1);
                        m.drain(..s as usize);
                    }
                }
            }
            prop_assert_eq!(l.len(), m.len());
            if let Repr::Quicklist(ql) = &l.repr { ql.check(fill); }
        }
        let got: Vec<Vec<u8>> = l.iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(&got, &m.iter().cloned().collect::<Vec<_>>());
        let rev: Vec<Vec<u8>> = l.iter().rev().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(rev, m.iter().rev().cloned().collect::<Vec<_>>());
        for i in -(m.len() as i64) - 1..=m.len() as i64 {
            prop_assert_eq!(l.index(i), model_index(m.len(), i).map(|j| &m[j][..]));
        }
        for (a, b) in [(0, -1), (1, 3), (-3, -1), (2, 100)] {
            let got: Vec<Vec<u8>> = l.range(a, b).map(<[u8]>::to_vec).collect();
            let exp: Vec<Vec<u8>> = match clamp_range(a, b, m.len()) {
                Some((s, e)) => m.range(s..=e).cloned().collect(),
                None => vec![],
            };
            prop_assert_eq!(got, exp);
        }
        let pos: Vec<usize> = (0..m.len()).filter(|&j| m[j] == b"a").collect();
        prop_assert_eq!(l.position(b"a", 1, 0, 0), pos.clone());
        prop_assert_eq!(l.position(b"a", -1, 0, 0), pos.iter().rev().copied().collect::<Vec<_>>());
    }
}
