//! COMMAND GETKEYS, and the key rules COMMAND INFO reports: a fixed key
//! range from the command table, a subcommand's key (OBJECT ENCODING k,
//! MEMORY USAGE k), or a key count read from the arguments (ZUNIONSTORE,
//! LMPOP, EVAL, ...), which Redis 7 calls "movable keys".

use super::command::SUBCOMMANDS;
use super::Ctx;
use crate::util::num::parse_i64;

/// A command whose keys follow a count argument: `numkeys key [key ...]`,
/// maybe after a destination key (Redis's `genericGetKeys` callers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyNum {
    /// Position of a destination key before the count (0: none).
    store: usize,
    /// Position of the count.
    count_at: usize,
    /// Whether zero keys is a valid call (EVAL's `no_mandatory_keys`).
    optional: bool,
}

/// The count-of-keys rule of the command called `name`, if its keys move.
pub fn key_num(name: &str) -> Option<KeyNum> {
    let (store, count_at, optional) = match name {
        "zunionstore" | "zinterstore" | "zdiffstore" => (1, 2, false),
        "zunion" | "zinter" | "zdiff" | "zintercard" | "sintercard" | "lmpop" | "zmpop" => (0, 1, false),
        "blmpop" | "bzmpop" => (0, 2, false),
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => (0, 2, true),
        _ => return None,
    };
    Some(KeyNum { store, count_at, optional })
}

impl KeyNum {
    /// Positions of the keys in `argv` (the command name first), in the
    /// order Redis 7.0 lists them; empty when the count does not fit.
    ///
    /// A count written as a canonical integer goes through Redis's key
    /// specs: the destination first, then the keys. Any other spelling
    /// (`+2`, `2x`, ` 1`) fails the specs and falls back to the command's
    /// `getkeys_proc`, which reads the count with `atoi` and puts the
    /// destination last.
    pub fn positions(&self, argv: &[&[u8]]) -> Vec<usize> {
        let first = self.count_at + 1;
        let avail = argv.len().saturating_sub(first) as i64;
        let text = argv.get(self.count_at).copied().unwrap_or_default();
        let store = (self.store != 0).then_some(self.store);
        if let Some(n) = parse_i64(text).filter(|&n| n >= 1 && n <= avail) {
            return store.into_iter().chain(first..first + n as usize).collect();
        }
        let n = atoi(text) as i64;
        if n < 1 || n > avail {
            return Vec::new();
        }
        (first..first + n as usize).chain(store).collect()
    }
}

/// C's `atoi`: leading white space, a sign, then digits up to the first
/// non-digit; `strtol` clamps an overflow to the `long` range and `atoi`
/// then truncates it to an `int`.
fn atoi(s: &[u8]) -> i32 {
    let s = match s.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        Some(i) => &s[i..],
        None => return 0,
    };
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        let d = (b - b'0') as i64;
        v = if neg { v.saturating_mul(10).saturating_sub(d) } else { v.saturating_mul(10).saturating_add(d) };
    }
    v as i32
}

/// The first (and only) key position of subcommand `parent|sub`, 0 if it
/// takes no key.
pub fn subcommand_first_key(parent: &str, sub: &str) -> i32 {
    match (parent, sub) {
        ("memory", "usage") | ("object", "encoding" | "freq" | "idletime" | "refcount") => 2,
        _ => 0,
    }
}

/// Whether `name` is a container command (CONFIG, OBJECT, ...).
fn has_subcommands(name: &str) -> bool {
    SUBCOMMANDS.iter().any(|s| s.0 == name)
}

fn arity_ok(arity: i32, argc: usize) -> bool {
    (arity >= 0 && argc == arity as usize) || (arity < 0 && argc >= arity.unsigned_abs() as usize)
}

/// `COMMAND GETKEYS <command> [arg ...]`: the keys of a full command, found
/// as Redis 7.0's `commandGetKeysCommand` finds them, with its errors; with
/// `with_flags` (GETKEYSANDFLAGS), each key with its access flags.
pub fn getkeys(ctx: &mut Ctx<'_>, with_flags: bool) {
    let argv: Vec<&[u8]> = (2..ctx.argc()).map(|i| ctx.arg(i)).collect();
    let Some(cmd) = super::lookup(argv[0]) else {
        return ctx.error("ERR Invalid command specified");
    };
    let (arity, first_key, full_name) = if argv.len() >= 2 && has_subcommands(cmd.name) {
        let found =
            SUBCOMMANDS.iter().find(|s| s.0 == cmd.name && s.1.as_bytes().eq_ignore_ascii_case(argv[1]));
        let Some(&(parent, sub, arity)) = found else {
            return ctx.error("ERR Invalid command specified");
        };
        (arity, subcommand_first_key(parent, sub), format!("{parent}|{sub}"))
    } else {
        (cmd.arity, cmd.first_key, cmd.name.to_string())
    };
    let rule = key_num(cmd.name);
    if first_key <= 0 && rule.is_none() {
        return ctx.error("ERR The command has no key arguments");
    }
    if !arity_ok(arity, argv.len()) {
        return ctx.error("ERR Invalid number of arguments specified for command");
    }
    let keys: Vec<usize> = match rule {
        Some(rule) => rule.positions(&argv),
        None if cmd.name == "sort" => sort_positions(&argv),
        None if cmd.name == "migrate" => migrate_positions(&argv),
        None if has_subcommands(cmd.name) => vec![first_key as usize],
        None => cmd.key_positions(argv.len()).collect(),
    };
    if keys.is_empty() && !rule.is_some_and(|r| r.optional) {
        return ctx.error("ERR Invalid arguments specified for command");
    }
    let mut r = ctx.reply();
    r.array_len(keys.len());
    for i in keys {
        if with_flags {
            r.array_len(2);
            r.bulk(argv[i]);
            let flags = key_flags(&full_name, &argv, i);
            // A set in RESP3, as Redis's addReplyFlagsForKeyArgs writes it.
            r.set_len(flags.len());
            for f in flags {
                r.simple(f);
            }
        } else {
            r.bulk(argv[i]);
        }
    }
}

/// The access flags of the key at `pos` in `argv` (Redis's key-spec
/// flags, as GETKEYSANDFLAGS lists them): those of the first key spec of
/// `name` that covers the position. SET's depend on its GET option and
/// SORT's STORE destination is written, as their `getkeys_proc`s say.
fn key_flags(name: &str, argv: &[&[u8]], pos: usize) -> &'static [&'static str] {
    let Some(meta) = super::meta::lookup(name) else { return &[] };
    let specs = meta.key_specs;
    match name {
        "set" if argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get")) => {
            return &["RW", "access", "update"];
        }
        "set" => return &["OW", "update"],
        "sort" | "sort_ro" if pos != 1 => return specs.last().map_or(&[], |s| s.flags),
        _ => {}
    }
    specs.iter().find(|s| spec_covers(s, argv, pos)).or(specs.first()).map_or(&[], |s| s.flags)
}

/// Whether key spec `s` finds a key at `pos` in `argv` (Redis's
/// `getKeysUsingKeySpecs` for one spec).
fn spec_covers(s: &super::meta::KeySpec, argv: &[&[u8]], pos: usize) -> bool {
    use super::meta::{Begin, Find};
    let argc = argv.len() as i64;
    let first = match s.begin {
        Begin::Index(i) => i,
        Begin::Keyword(kw, from) => {
            let found = if from >= 0 {
                (from.max(1)..argc).find(|&i| argv[i as usize].eq_ignore_ascii_case(kw.as_bytes()))
            } else {
                (1..=(argc + from).max(0))
                    .rev()
                    .find(|&i| argv[i as usize].eq_ignore_ascii_case(kw.as_bytes()))
            };
            match found {
                Some(i) => i + 1,
                None => return false,
            }
        }
        Begin::Unknown => return false,
    };
    let (start, last, step) = match s.find {
        Find::Range(lastkey, step, limit) => {
            let last = if lastkey >= 0 {
                first + lastkey
            } else if limit > 1 {
                first + ((argc - first) / limit + lastkey)
            } else {
                argc + lastkey
            };
            (first, last, step.max(1))
        }
        Find::Keynum(numidx, firstkey, step) => {
            let Some(n) = argv.get((first + numidx) as usize).and_then(|a| parse_i64(a)) else {
                return false;
            };
            let start = first + firstkey;
            (start, start + (n - 1) * step.max(1), step.max(1))
        }
        Find::Unknown => return false,
    };
    let p = pos as i64;
    p >= start && p <= last && (p - start) % step == 0
}

/// MIGRATE's keys, as Redis 7.0's `migrateGetKeys` finds them: the key
/// argument, or everything after a KEYS option (none if the key argument
/// is not then empty, which MIGRATE itself refuses), skipping AUTH's and
/// AUTH2's arguments while looking for it.
fn migrate_positions(argv: &[&[u8]]) -> Vec<usize> {
    let mut i = 6;
    while i < argv.len() {
        let a = argv[i];
        if a.eq_ignore_ascii_case(b"keys") {
            if !argv[3].is_empty() {
                return Vec::new();
            }
            return (i + 1..argv.len()).collect();
        }
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    vec![3]
}

/// SORT's keys (Redis's `sortGetKeys`): the sorted key, then the last
/// STORE's destination, skipping the arguments of LIMIT, GET and BY.
pub fn sort_positions(argv: &[&[u8]]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_are_the_source_and_the_last_store() {
        let pos = |line: &str| sort_positions(&line.split(' ').map(str::as_bytes).collect::<Vec<_>>());
        assert_eq!(pos("sort k"), [1]);
        assert_eq!(pos("sort k store d by x get y"), [1, 3]);
        assert_eq!(pos("sort k get store store a store b"), [1, 7]);
        assert_eq!(pos("sort k limit store 1 store"), [1]);
    }

    fn keys(cmd: &str, line: &str) -> Vec<String> {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        key_num(cmd)
            .unwrap()
            .positions(&argv)
            .into_iter()
            .map(|i| line.split(' ').nth(i).unwrap().into())
            .collect()
    }

    #[test]
    fn migrate_keys_as_redis_7_0_lists_them() {
        let p = |line: &str| {
            let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            migrate_positions(&argv)
        };
        assert_eq!(p("migrate h 1 k 0 5"), [3]);
        assert_eq!(p("migrate h 1  0 5 copy auth keys keys a b"), [10, 11]);
        assert_eq!(p("migrate h 1  0 5 auth2 u keys keys a"), [10]);
        assert!(p("migrate h 1 k 0 5 keys a").is_empty());
    }

    #[test]
    fn counted_keys_as_redis_7_0_lists_them() {
        assert_eq!(keys("zunionstore", "zunionstore out 2 a b weights 1 2"), ["out", "a", "b"]);
        assert_eq!(keys("zunionstore", "zunionstore out +2 a b"), ["a", "b", "out"]);
        assert_eq!(keys("zunionstore", "zunionstore out 3 a b"), Vec::<String>::new());
        assert_eq!(keys("zunion", "zunion 0 a"), Vec::<String>::new());
        assert_eq!(keys("lmpop", "lmpop 2 a left"), ["a", "left"]);
        assert_eq!(keys("blmpop", "blmpop 0 1 a left"), ["a"]);
        assert_eq!(keys("eval", "eval s 1 k v"), ["k"]);
        assert_eq!(keys("lmpop", "lmpop 9999999999999999999999 a b"), Vec::<String>::new());
    }

    #[test]
    fn atoi_is_c_atoi() {
        assert_eq!(atoi(b" 12x"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"9999999999999999999999"), -1);
    }
}
