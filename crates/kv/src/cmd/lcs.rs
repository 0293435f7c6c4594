//! `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]` (Redis
//! 7.0's `lcsCommand`): the longest common subsequence of two strings.
//!
//! The classic dynamic-programming table (`(len1 + 1) * (len2 + 1)` 32-bit
//! cells, refused when larger than `proto-max-bulk-len`, as Redis does) is
//! walked back from its end: that walk gives the subsequence, and with IDX
//! the matching ranges, from the last one in the strings to the first,
//! each `[[start1, end1], [start2, end2]]` (plus its length with
//! WITHMATCHLEN), skipping those shorter than MINMATCHLEN. A missing key
//! is an empty string.

use super::typed::lookup_value;
use super::{Command, Ctx, READONLY, SYNTAX};
use crate::db::Value;

/// LCS.
pub static COMMANDS: &[Command] = &[command!("string", "lcs", -3, READONLY, 1, 2, 1, lcs)];

/// The error when a key holds something other than a string.
const NOT_STRINGS: &str = "ERR The specified keys must contain string values";

/// One matching range: the inclusive positions in each string.
#[derive(Debug, PartialEq, Eq)]
struct Match {
    a: (usize, usize),
    b: (usize, usize),
}

/// What the table walk finds: the subsequence and the matching ranges.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    lcs: Vec<u8>,
    matches: Vec<Match>,
}

/// The value of a string key for LCS: `Ok(None)` when missing, `Err(())`
/// when it holds another type.
fn string_value(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    let db = ctx.c.db;
    match lookup_value(ctx.srv, db, key) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_vec())),
        Some(_) => Err(()),
    }
}

fn lcs(ctx: &mut Ctx<'_>) {
    // Both keys are read (and counted as hits or misses) before the
    // options are looked at, as in Redis.
    let (k1, k2) = (ctx.arg(1), ctx.arg(2));
    let a = string_value(ctx, k1);
    let b = string_value(ctx, k2);
    let (Ok(a), Ok(b)) = (a, b) else {
        return ctx.error(NOT_STRINGS);
    };
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let (mut idx, mut len, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < ctx.argc() {
        let opt = ctx.arg(j);
        let more = ctx.argc() - 1 - j;
        if opt.eq_ignore_ascii_case(b"idx") {
            idx = true;
        } else if opt.eq_ignore_ascii_case(b"len") {
            len = true;
        } else if opt.eq_ignore_ascii_case(b"withmatchlen") {
            withmatchlen = true;
        } else if opt.eq_ignore_ascii_case(b"minmatchlen") && more > 0 {
            let Some(n) = ctx.int_arg(j + 1) else { return };
            minmatchlen = n.max(0);
            j += 1;
        } else {
            return ctx.error(SYNTAX);
        }
        j += 1;
    }
    if idx && len {
        return ctx.error("ERR If you want both the length and indexes, please just use IDX.");
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return ctx.error("ERR String too long for LCS");
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells * 4 > ctx.srv.config.proto_max_bulk_len as u64 {
        return ctx.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let table = Table::build(&a, &b);
    let total = table.at(a.len(), b.len()) as i64;
    if len {
        return ctx.reply().int(total);
    }
    let found = table.walk(&a, &b);
    if !idx {
        return ctx.reply().bulk(&found.lcs);
    }
    let min = minmatchlen as usize;
    let shown: Vec<&Match> = found.matches.iter().filter(|m| min == 0 || m.a.1 - m.a.0 + 1 >= min).collect();
    let mut r = ctx.reply();
    r.map_len(2);
    r.bulk(b"matches");
    r.array_len(shown.len());
    for m in shown {
        r.array_len(2 + usize::from(withmatchlen));
        for (s, e) in [m.a, m.b] {
            r.array_len(2);
            r.int(s as i64);
            r.int(e as i64);
        }
        if withmatchlen {
            r.int((m.a.1 - m.a.0 + 1) as i64);
        }
    }
    r.bulk(b"len");
    r.int(total);
}

/// The LCS lengths of every pair of prefixes.
struct Table {
    cells: Vec<u32>,
    width: usize,
}

impl Table {
    fn build(a: &[u8], b: &[u8]) -> Table {
        let width = b.len() + 1;
        let mut cells = vec![0u32; (a.len() + 1) * width];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Table { cells, width }
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    /// Walks back from the end, as Redis does: on equal bytes both
    /// strings step back (extending the current range), otherwise the one
    /// whose prefix keeps the longer LCS (the second on a tie), ending the
    /// current range.
    fn walk(&self, a: &[u8], b: &[u8]) -> Found {
        let mut lcs = vec![0u8; self.at(a.len(), b.len()) as usize];
        let mut k = lcs.len();
        let mut matches = Vec::new();
        let mut cur: Option<Match> = None;
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 && j > 0 {
            let emit;
            if a[i - 1] == b[j - 1] {
                lcs[k - 1] = a[i - 1];
                match cur.as_mut() {
                    None => cur = Some(Match { a: (i - 1, i - 1), b: (j - 1, j - 1) }),
                    // The walk only goes on from a match to the bytes just
                    // before it, so the range always extends.
                    Some(m) => {
                        m.a.0 -= 1;
                        m.b.0 -= 1;
                    }
                }
                emit = cur.as_ref().is_some_and(|m| m.a.0 == 0 || m.b.0 == 0);
                k -= 1;
                i -= 1;
                j -= 1;
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                emit = cur.is_some();
            }
            if emit {
                matches.extend(cur.take());
            }
        }
        Found { lcs, matches }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(a: &str, b: &str) -> Found {
        Table::build(a.as_bytes(), b.as_bytes()).walk(a.as_bytes(), b.as_bytes())
    }

    #[test]
    fn redis_documentation_example() {
        let f = run("ohmytext", "mynewtext");
        assert_eq!(f.lcs, b"mytext");
        assert_eq!(f.matches, vec![Match { a: (4, 7), b: (5, 8) }, Match { a: (2, 3), b: (0, 1) }]);
    }

    #[test]
    fn empty_and_disjoint_strings_have_no_matches() {
        assert_eq!(run("", "abc"), Found { lcs: Vec::new(), matches: Vec::new() });
        assert_eq!(run("abc", "xyz"), Found { lcs: Vec::new(), matches: Vec::new() });
    }
}
