//! Model-based tests: the ZRANGE family, ZSCAN and the algebra against
//! plain std collections on pseudo-random data.

use super::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A small xorshift generator for the model tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The model: members sorted by (score, member).
fn model_sorted(m: &HashMap<String, i64>) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Flattens `(member, score)` pairs as RESP2 WITHSCORES does.
fn flat(v: &[(String, i64)]) -> Vec<String> {
    v.iter().flat_map(|(m, s)| [m.clone(), s.to_string()]).collect()
}

#[test]
fn zrange_family_matches_a_model() {
    for (entries, size) in [(128usize, 40u64), (4, 200)] {
        let srv = start_with(|cfg| cfg.encoding.zset_max_listpack_entries = entries);
        let mut c = conn(&srv);
        let mut rng = Rng(0x9e3779b97f4a7c15 ^ size);
        let mut model: HashMap<String, i64> = HashMap::new();
        for _ in 0..size {
            let m = format!("m{:03}", rng.next(size * 2));
            let s = rng.next(20) as i64 - 10;
            let _: i64 = q(&mut c, &["ZADD", "z", &s.to_string(), &m]);
            model.insert(m, s);
        }
        let sorted = model_sorted(&model);
        let n = sorted.len() as i64;
        for _ in 0..150 {
            // By rank, with negative and out-of-range indices.
            let (a, b) =
                (rng.next(2 * n as u64 + 10) as i64 - n - 5, rng.next(2 * n as u64 + 10) as i64 - n - 5);
            let s = if a < 0 { (a + n).max(0) } else { a };
            let e = (if b < 0 { b + n } else { b }).min(n - 1);
            let want: Vec<(String, i64)> =
                if s > e || s >= n { vec![] } else { sorted[s as usize..=e as usize].to_vec() };
            let got: Vec<String> = q(&mut c, &["ZRANGE", "z", &a.to_string(), &b.to_string(), "WITHSCORES"]);
            assert_eq!(got, flat(&want), "ZRANGE {a} {b}");
            let rev: Vec<(String, i64)> = sorted.iter().rev().cloned().collect();
            let want_rev: Vec<(String, i64)> =
                if s > e || s >= n { vec![] } else { rev[s as usize..=e as usize].to_vec() };
            let got: Vec<String> =
                q(&mut c, &["ZREVRANGE", "z", &a.to_string(), &b.to_string(), "WITHSCORES"]);
            assert_eq!(got, flat(&want_rev), "ZREVRANGE {a} {b}");
            // By score, with exclusive bounds and LIMIT.
            let (lo, hi) = (rng.next(24) as i64 - 12, rng.next(24) as i64 - 12);
            let (lo_ex, hi_ex) = (rng.next(2) == 0, rng.next(2) == 0);
            let inside =
                |s: i64| (if lo_ex { s > lo } else { s >= lo }) && (if hi_ex { s < hi } else { s <= hi });
            let (off, cnt) = (rng.next(6) as usize, rng.next(8) as i64 - 1);
            let page = |v: Vec<(String, i64)>| -> Vec<(String, i64)> {
                let it = v.into_iter().skip(off);
                if cnt < 0 {
                    it.collect()
                } else {
                    it.take(cnt as usize).collect()
                }
            };
            let lo_s = format!("{}{lo}", if lo_ex { "(" } else { "" });
            let hi_s = format!("{}{hi}", if hi_ex { "(" } else { "" });
            let fwd: Vec<(String, i64)> = sorted.iter().filter(|(_, s)| inside(*s)).cloned().collect();
            let (o, l) = (off.to_string(), cnt.to_string());
            let got: Vec<String> =
                q(&mut c, &["ZRANGEBYSCORE", "z", &lo_s, &hi_s, "WITHSCORES", "LIMIT", &o, &l]);
            assert_eq!(got, flat(&page(fwd.clone())), "ZRANGEBYSCORE {lo_s} {hi_s} LIMIT {off} {cnt}");
            let got: i64 = q(&mut c, &["ZCOUNT", "z", &lo_s, &hi_s]);
            assert_eq!(got, fwd.len() as i64);
            let back: Vec<(String, i64)> = fwd.iter().rev().cloned().collect();
            let got: Vec<String> =
                q(&mut c, &["ZRANGE", "z", &hi_s, &lo_s, "BYSCORE", "REV", "WITHSCORES", "LIMIT", &o, &l]);
            assert_eq!(got, flat(&page(back)), "ZRANGE {hi_s} {lo_s} BYSCORE REV LIMIT {off} {cnt}");
            // Rank of a random member.
            if let Some((m, sc)) = sorted.get(rng.next(n as u64) as usize) {
                let pos = sorted.iter().position(|(x, _)| x == m).unwrap() as i64;
                let got: i64 = q(&mut c, &["ZRANK", "z", m]);
                assert_eq!(got, pos);
                let got: i64 = q(&mut c, &["ZREVRANK", "z", m]);
                assert_eq!(got, n - 1 - pos);
                let got: String = q(&mut c, &["ZSCORE", "z", m]);
                assert_eq!(got, sc.to_string());
            }
        }
        // By lex: every member at one score.
        let members: BTreeSet<String> = model.keys().cloned().collect();
        let mut zadd = vec!["ZADD".to_string(), "lex".into()];
        for m in &members {
            zadd.push("0".into());
            zadd.push(m.clone());
        }
        let _: i64 = redis::cmd("ZADD").arg(&zadd[1..]).query(&mut c).unwrap();
        let all: Vec<&String> = members.iter().collect();
        for _ in 0..100 {
            let pick = |rng: &mut Rng| -> (String, Option<(String, bool)>) {
                match rng.next(6) {
                    0 => ("-".into(), None),
                    1 => ("+".into(), None),
                    _ => {
                        let m = format!("m{:03}", rng.next(size * 2));
                        let ex = rng.next(2) == 0;
                        (format!("{}{m}", if ex { "(" } else { "[" }), Some((m, ex)))
                    }
                }
            };
            let (min_s, min) = pick(&mut rng);
            let (max_s, max) = pick(&mut rng);
            let ge = |v: &str| match (&min, min_s.as_str()) {
                (None, "-") => true,
                (None, _) => false,
                (Some((m, ex)), _) => {
                    if *ex {
                        v > m.as_str()
                    } else {
                        v >= m.as_str()
                    }
                }
            };
            let le = |v: &str| match (&max, max_s.as_str()) {
                (None, "+") => true,
                (None, _) => false,
                (Some((m, ex)), _) => {
                    if *ex {
                        v < m.as_str()
                    } else {
                        v <= m.as_str()
                    }
                }
            };
            let want: Vec<String> = all.iter().filter(|m| ge(m) && le(m)).map(|m| m.to_string()).collect();
            let got: Vec<String> = q(&mut c, &["ZRANGEBYLEX", "lex", &min_s, &max_s]);
            assert_eq!(got, want, "ZRANGEBYLEX {min_s} {max_s}");
            let got: i64 = q(&mut c, &["ZLEXCOUNT", "lex", &min_s, &max_s]);
            assert_eq!(got, want.len() as i64);
            let rev: Vec<String> = want.iter().rev().take(3).cloned().collect();
            let got: Vec<String> = q(&mut c, &["ZREVRANGEBYLEX", "lex", &max_s, &min_s, "LIMIT", "0", "3"]);
            assert_eq!(got, rev, "ZREVRANGEBYLEX {max_s} {min_s}");
        }
        // Range deletions against the model.
        let removed: i64 = q(&mut c, &["ZREMRANGEBYSCORE", "z", "(-3", "3"]);
        model.retain(|_, s| !(*s > -3 && *s <= 3));
        assert_eq!(removed as usize, sorted.len() - model.len());
        let removed: i64 = q(&mut c, &["ZREMRANGEBYRANK", "z", "1", "-2"]);
        let left = model_sorted(&model);
        assert_eq!(removed as usize, left.len().saturating_sub(2));
        let got: Vec<String> = q(&mut c, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
        let want: Vec<(String, i64)> =
            if left.len() <= 2 { left } else { vec![left[0].clone(), left[left.len() - 1].clone()] };
        assert_eq!(got, flat(&want));
    }
}

/// Every `(member, score)` of a full ZSCAN of `key`, and the calls it took.
fn zscan_all(c: &mut redis::Connection, key: &str, extra: &[&str]) -> (Vec<(String, String)>, usize) {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["ZSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, items): (String, Vec<String>) = q(c, &args);
        calls += 1;
        out.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
        cursor = next;
        if cursor == "0" {
            return (out, calls);
        }
        assert!(calls < 10_000, "ZSCAN does not terminate");
    }
}

#[test]
fn zscan_iterates_every_encoding() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    let mut c = conn(&srv);
    check(&mut r, &["ZADD", "small", "1", "a", "2.5", "b", "-3", "c"], ":3\r\n");
    check(
        &mut r,
        &["ZSCAN", "small", "0"],
        &("*2\r\n$1\r\n0\r\n".to_string() + &bulks(&["c", "-3", "a", "1", "b", "2.5"])),
    );
    check(
        &mut r,
        &["ZSCAN", "small", "0", "MATCH", "a*", "COUNT", "1"],
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    check(&mut r, &["ZSCAN", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    check(&mut r, &["ZSCAN", "small", "x"], "-ERR invalid cursor\r\n");
    check(&mut r, &["ZSCAN", "small", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    check(&mut r, &["ZSCAN", "small", "0", "foo"], "-ERR syntax error\r\n");
    let mut want = BTreeMap::new();
    let mut zadd = vec!["big".to_string()];
    for i in 0..1000 {
        zadd.push(format!("{}.5", i % 97));
        zadd.push(format!("member:{i}"));
        want.insert(format!("member:{i}"), format!("{}.5", i % 97));
    }
    let n: i64 = redis::cmd("ZADD").arg(&zadd).query(&mut c).unwrap();
    assert_eq!(n, 1000);
    let (got, calls) = zscan_all(&mut c, "big", &[]);
    assert!(calls > 1, "a skiplist set is scanned in steps");
    let got_map: BTreeMap<String, String> = got.iter().cloned().collect();
    assert_eq!(got_map, want, "every member once with its score");
    assert_eq!(got.len(), 1000, "no repeats without rehashing");
    let (got, _) = zscan_all(&mut c, "big", &["MATCH", "member:1?", "COUNT", "50"]);
    let names: BTreeSet<String> = got.into_iter().map(|(m, _)| m).collect();
    let expect: BTreeSet<String> = (10..20).map(|i| format!("member:{i}")).collect();
    assert_eq!(names, expect);
}

#[test]
fn algebra_matches_a_model() {
    let srv = start_with(|cfg| cfg.encoding.zset_max_listpack_entries = 8);
    let mut c = conn(&srv);
    let mut rng = Rng(12345);
    let mut models: Vec<HashMap<String, i64>> = Vec::new();
    for k in 0..4 {
        let mut m = HashMap::new();
        for _ in 0..rng.next(20) {
            let member = format!("e{}", rng.next(25));
            // No zero scores and no zero weights: `-0` prints as such.
            let s = rng.next(9) as i64 - 3;
            let s = if s >= 0 { s + 1 } else { s };
            m.insert(member.clone(), s);
            let _: i64 = q(&mut c, &["ZADD", &format!("z{k}"), &s.to_string(), &member]);
        }
        models.push(m);
    }
    let _: i64 = q(&mut c, &["SADD", "set", "e1", "e2", "e3", "e4", "e5"]);
    let set_model: HashMap<String, i64> = (1..=5).map(|i| (format!("e{i}"), 1)).collect();
    let src = |name: &str| -> HashMap<String, i64> {
        match name {
            "set" => set_model.clone(),
            "nokey" => HashMap::new(),
            n => models[n[1..].parse::<usize>().unwrap()].clone(),
        }
    };
    let names = ["z0", "z1", "z2", "z3", "set", "nokey"];
    for round in 0..120 {
        let nk = 1 + rng.next(3) as usize;
        let keys: Vec<&str> = (0..nk).map(|_| names[rng.next(names.len() as u64) as usize]).collect();
        let weights: Vec<i64> = (0..nk).map(|_| [-2, -1, 1, 2][rng.next(4) as usize]).collect();
        let agg = ["SUM", "MIN", "MAX"][rng.next(3) as usize];
        let inputs: Vec<HashMap<String, i64>> = keys.iter().map(|k| src(k)).collect();
        let combine = |a: i64, b: i64| match agg {
            "SUM" => a + b,
            "MIN" => a.min(b),
            _ => a.max(b),
        };
        let mut union: HashMap<String, i64> = HashMap::new();
        for (i, m) in inputs.iter().enumerate() {
            for (k, s) in m {
                let v = s * weights[i];
                union.entry(k.clone()).and_modify(|cur| *cur = combine(*cur, v)).or_insert(v);
            }
        }
        let inter: HashMap<String, i64> = union
            .iter()
            .filter(|(k, _)| inputs.iter().all(|m| m.contains_key(*k)))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let diff: HashMap<String, i64> = inputs[0]
            .iter()
            .filter(|(k, _)| inputs[1..].iter().all(|m| !m.contains_key(*k)))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let w: Vec<String> = weights.iter().map(|w| w.to_string()).collect();
        let nk_s = nk.to_string();
        let mut opts: Vec<&str> = vec!["WEIGHTS"];
        opts.extend(w.iter().map(String::as_str));
        opts.extend(["AGGREGATE", agg]);
        for (cmd, want) in [("ZUNION", &union), ("ZINTER", &inter)] {
            let mut args = vec![cmd, &nk_s];
            args.extend(&keys);
            args.extend(&opts);
            args.push("WITHSCORES");
            let got: Vec<String> = q(&mut c, &args);
            assert_eq!(got, flat(&model_sorted(want)), "round {round}: {args:?}");
            let store = format!("{cmd}STORE");
            let mut args = vec![store.as_str(), "dst", &nk_s];
            args.extend(&keys);
            args.extend(&opts);
            let n: i64 = q(&mut c, &args);
            assert_eq!(n as usize, want.len(), "{args:?}");
            let got: Vec<String> = q(&mut c, &["ZRANGE", "dst", "0", "-1", "WITHSCORES"]);
            assert_eq!(got, flat(&model_sorted(want)), "{args:?}");
        }
        let mut args = vec!["ZDIFF", &nk_s];
        args.extend(&keys);
        args.push("WITHSCORES");
        let got: Vec<String> = q(&mut c, &args);
        assert_eq!(got, flat(&model_sorted(&diff)), "{args:?}");
        let mut args = vec!["ZINTERCARD", &nk_s];
        args.extend(&keys);
        let n: i64 = q(&mut c, &args);
        assert_eq!(n as usize, inter.len(), "{args:?}");
    }
}
