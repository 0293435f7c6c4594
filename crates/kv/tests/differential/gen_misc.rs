//! The generator's SORT, SORT_RO and LCS commands, and the keys their
//! patterns read: `w<element>` strings and `h<element>` hashes (field `f`)
//! holding weights, numeric or not, so BY and GET find values, miss, or
//! fail to parse.
//!
//! Where Redis leaves SORT's output order unspecified, the generator and
//! the comparison keep clear of it: ALPHA with a BY pattern leaves ties
//! (missing or equal weights) in whatever order its quicksort leaves them,
//! so such a SORT gets no LIMIT and no STORE, and its reply is compared as
//! a multiset of GET groups ([`unordered_groups`]); BY nosort on a set
//! returns the set's internal order, so the comparison skips it when the
//! key is a set ([`nosort_source`]).

use super::{Cmd, Gen};

/// Elements the generated lists, sets and sorted sets hold (a sample).
const ELEMENTS: &[&str] =
    &["a", "b", "c", "d", "e", "f", "g", "h", "0", "1", "2", "3", "4", "5", "-3", "m", "x", "-0", "01"];

/// Weights: numbers in strtod's forms, and some that are not numbers.
const WEIGHTS: &[&str] = &[
    "1", "2", "-1", "0.5", "10", "3.25", "7", "", "abc", "inf", "-inf", " 7", "0x10", "1e3", "b", "a", "-0",
];

/// BY patterns: key and hash-field patterns, `nosort`, and patterns
/// without `*` (which mean nosort too).
const BY: &[&str] = &["nosort", "w*", "h*->f", "k*", "*", "w*->f", "h*", "#", "NOSORT", "w*"];

/// GET patterns: the element, keys, hash fields, and a fixed name.
const GET: &[&str] = &["#", "w*", "h*->f", "k*", "nokey", "h*->g", "k*->f1"];

fn pick<'a>(g: &mut Gen, xs: &[&'a str]) -> &'a str {
    xs[g.below(xs.len() as u64) as usize]
}

/// A SORT, SORT_RO or LCS command, one that sets a weight key, or a read
/// of SORT's usual destination.
pub fn command(g: &mut Gen) -> Cmd {
    let a: Vec<String> = match g.below(20) {
        0..=4 => {
            vec!["SET".into(), format!("w{}", pick(g, ELEMENTS)), pick(g, WEIGHTS).into()]
        }
        5..=7 => {
            let field = if g.chance(85) { "f" } else { "g" };
            vec!["HSET".into(), format!("h{}", pick(g, ELEMENTS)), field.into(), pick(g, WEIGHTS).into()]
        }
        8..=15 => sort(g),
        // What a SORT ... STORE wrote.
        16 => vec!["LRANGE".into(), "dst".into(), "0".into(), "-1".into()],
        _ => lcs(g),
    };
    a.into_iter().map(String::into_bytes).collect()
}

fn sort(g: &mut Gen) -> Vec<String> {
    let ro = g.chance(25);
    g.home = match g.below(3) {
        0 => &[2, 3],
        1 => &[5, 6, 7],
        _ => &[6, 7],
    };
    let mut a = vec![if ro { "SORT_RO" } else { "SORT" }.to_string(), g.key()];
    let alpha = g.chance(35);
    let by = g.chance(55).then(|| pick(g, BY));
    let unordered = alpha && by.is_some_and(|b| b.contains('*'));
    let mut groups: Vec<Vec<String>> = Vec::new();
    if let Some(by) = by {
        groups.push(vec![if g.chance(80) { "BY" } else { "by" }.into(), by.into()]);
    }
    if alpha {
        groups.push(vec![if g.chance(80) { "ALPHA" } else { "alpha" }.into()]);
    }
    if !unordered && g.chance(35) {
        let offset = pick(g, &["0", "1", "2", "-1", "5", "100"]);
        let count = pick(g, &["1", "2", "3", "0", "-1", "10"]);
        groups.push(vec!["LIMIT".into(), offset.into(), count.into()]);
    }
    if g.chance(45) {
        for _ in 0..1 + g.below(3) {
            groups.push(vec!["GET".into(), pick(g, GET).into()]);
        }
    }
    if g.chance(40) {
        groups.push(vec![pick(g, &["ASC", "DESC", "desc"]).into()]);
    }
    if !ro && !unordered && g.chance(30) {
        let dst = if g.chance(50) { "dst".to_string() } else { g.key() };
        groups.push(vec!["STORE".into(), dst]);
    }
    // Options in any order, as Redis accepts them.
    for i in (1..groups.len()).rev() {
        groups.swap(i, g.below(i as u64 + 1) as usize);
    }
    a.extend(groups.into_iter().flatten());
    if g.chance(6) {
        let bad: &[&str] = match g.below(6) {
            0 => &["LIMIT", "x", "1"],
            1 => &["BY"],
            2 => &["GET"],
            3 => &["BOGUS"],
            4 => &["LIMIT", "1"],
            // STORE is an error only for SORT_RO.
            _ if ro => &["STORE", "dst"],
            _ => &["FOO"],
        };
        a.extend(bad.iter().map(|s| s.to_string()));
    }
    a
}

fn lcs(g: &mut Gen) -> Vec<String> {
    g.home = &[0, 1];
    let mut a = vec!["LCS".to_string(), g.key(), g.key()];
    if g.chance(30) {
        a.push(pick(g, &["LEN", "len"]).into());
    }
    if g.chance(45) {
        a.push(pick(g, &["IDX", "idx"]).into());
    }
    if g.chance(30) {
        a.push("MINMATCHLEN".into());
        a.push(pick(g, &["0", "1", "2", "3", "5", "-1", "x"]).into());
    }
    if g.chance(30) {
        a.push("WITHMATCHLEN".into());
    }
    if g.chance(3) {
        a.push(pick(g, &["BOGUS", "MINMATCHLEN"]).into());
    }
    a
}

/// One SORT option: its word, upper-cased, and its arguments.
type SortOption<'a> = (String, Vec<&'a [u8]>);

/// The options of a SORT or SORT_RO (`None` for other commands).
fn sort_options(cmd: &Cmd) -> Option<Vec<SortOption<'_>>> {
    let name = String::from_utf8_lossy(cmd.first()?).to_ascii_uppercase();
    if name != "SORT" && name != "SORT_RO" {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 2;
    while i < cmd.len() {
        let w = String::from_utf8_lossy(&cmd[i]).to_ascii_uppercase();
        let n = match w.as_str() {
            "LIMIT" => 2,
            "BY" | "GET" | "STORE" => 1,
            _ => 0,
        };
        let n = n.min(cmd.len() - i - 1);
        out.push((w, cmd[i + 1..i + 1 + n].iter().map(Vec::as_slice).collect()));
        i += 1 + n;
    }
    Some(out)
}

/// For a SORT whose order Redis leaves unspecified (ALPHA with a BY
/// pattern), the size of each result group (one per GET, or 1): the reply
/// is then compared as a multiset of groups.
pub fn unordered_groups(cmd: &Cmd) -> Option<usize> {
    let opts = sort_options(cmd)?;
    let alpha = opts.iter().any(|(w, _)| w == "ALPHA");
    let by = opts.iter().filter(|(w, v)| w == "BY" && !v.is_empty()).map(|(_, v)| v[0]);
    let by_star = by.clone().next_back().is_some_and(|p| p.contains(&b'*'));
    let nosort = by.clone().any(|p| !p.contains(&b'*'));
    (alpha && by_star && !nosort).then(|| opts.iter().filter(|(w, _)| w == "GET").count().max(1))
}

/// The key of a SORT with BY nosort and no STORE, whose order on a set is
/// the set's internal order.
pub fn nosort_source(cmd: &Cmd) -> Option<&[u8]> {
    let opts = sort_options(cmd)?;
    // Any BY without '*' stops the sort, even before a BY with one.
    let nosort = opts.iter().any(|(w, v)| w == "BY" && v.first().is_some_and(|p| !p.contains(&b'*')));
    let store = opts.iter().any(|(w, v)| w == "STORE" && !v.is_empty());
    (nosort && !store).then(|| cmd[1].as_slice())
}
