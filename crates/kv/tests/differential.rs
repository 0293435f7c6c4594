//! Differential test: the same pseudo-random command sequences go to
//! spindle kv and to a real redis-server 7.0 (Debian's, started as a child
//! on a unix socket), in RESP2 and again after HELLO 3, and the reply bytes
//! must match.
//!
//! Replies are compared as parsed frames that keep every type marker and
//! payload byte. The only normalisations are where Redis itself promises no
//! order (the elements of SMEMBERS, SINTER, SUNION, SDIFF, HKEYS, HVALS,
//! KEYS and the pairs of HGETALL, also inside EXEC), TTLs (only -2, -1 or
//! "positive" count), the random commands (SRANDMEMBER, HRANDFIELD,
//! ZRANDMEMBER, RANDOMKEY: only the reply's shape counts; SPOP is not sent,
//! as it would make the two keyspaces differ), and two OBJECT ENCODING
//! names that Redis changed in 7.2 on purpose and spindle follows: small
//! lists are `listpack` (7.0 says `quicklist`) and small non-integer sets
//! are `listpack` (7.0 says `hashtable`).
//!
//! After every batch of commands DEBUG DIGEST is compared too (spindle
//! computes it as Redis does), so a write that stored something different
//! is caught even if no later command reads it.
//!
//! HyperLogLogs are compared byte for byte: PFADD, PFCOUNT, PFMERGE and
//! PFDEBUG replies, and GET of the HLL strings, including ones damaged by
//! SETRANGE, APPEND or a hand-made SET (see `differential/gen_hll.rs`).
//!
//! What is generated steers clear of the rest of what is not comparable:
//! scores are multiples of 1/4, which Redis 7.0's `%.17g` and 7.2's
//! shortest round-trip (spindle's) print alike; GT and LT go only with
//! absolute expiry times; and a lex-range command is sent only when the
//! sorted set's scores are all equal (Redis leaves it unspecified
//! otherwise).
//!
//! A failure names the seed, the protocol, the command index, the command,
//! both replies, the commands just before it and the keys it names. To
//! search further: `DIFFERENTIAL_SEEDS=n` runs seeds 1 to n,
//! `DIFFERENTIAL_SEED=s` just one, `DIFFERENTIAL_ALL=1` lists every
//! mismatch instead of stopping at the first, and `DIFFERENTIAL_TRACE=1`
//! prints every command with redis-server's reply (with `--nocapture`).

mod common;
#[path = "differential/gen.rs"]
mod gen;
#[path = "differential/redis.rs"]
mod reference;
// `args` is for the other tests that share this client.
#[allow(dead_code)]
#[path = "differential/resp.rs"]
mod resp;

use std::collections::VecDeque;

use gen::{Cmd, Gen};
use resp::{Client, Frame};

/// Seeds run per protocol; each starts from an empty keyspace.
const SEEDS: [u64; 8] = [1, 2, 3, 4, 5, 0x5eed, 20_240_601, 77_777];
/// Commands per seed.
const STEPS: usize = 4000;

fn spindle_client(srv: &spindle_kv::server::ServerThread) -> Client {
    Client::connect(srv.addr(), common::TIMEOUT)
}

fn show(cmd: &Cmd) -> String {
    cmd.iter()
        .map(|a| {
            let s = String::from_utf8_lossy(a);
            if s.len() > 24 {
                format!("{}..({} bytes)", &s[..12], s.len())
            } else {
                format!("{s:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn upper(cmd: &Cmd) -> String {
    let mut n = String::from_utf8_lossy(&cmd[0]).to_ascii_uppercase();
    if n == "OBJECT" && cmd.len() > 1 {
        n = format!("OBJECT {}", String::from_utf8_lossy(&cmd[1]).to_ascii_uppercase());
    }
    n
}

/// Puts the parts of a reply that Redis leaves unordered into one order.
fn normalise(name: &str, f: Frame, queued: &[String]) -> Frame {
    match (name, f) {
        (
            "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" | "HKEYS" | "HVALS" | "KEYS",
            Frame::Agg(t, Some(mut v)),
        ) => {
            v.sort();
            Frame::Agg(t, Some(v))
        }
        ("HGETALL", Frame::Agg(t, Some(v))) => {
            let mut pairs: Vec<(Frame, Frame)> = Vec::new();
            let mut it = v.into_iter();
            while let (Some(a), Some(b)) = (it.next(), it.next()) {
                pairs.push((a, b));
            }
            pairs.sort();
            Frame::Agg(t, Some(pairs.into_iter().flat_map(|(a, b)| [a, b]).collect()))
        }
        ("TTL" | "PTTL" | "EXPIRETIME" | "PEXPIRETIME", Frame::Line(b':', n)) if !n.starts_with(b"-") => {
            Frame::Line(b':', b"1".to_vec())
        }
        ("SRANDMEMBER" | "HRANDFIELD" | "ZRANDMEMBER" | "RANDOMKEY", f) => shape(f),
        ("EXEC", Frame::Agg(t, Some(v))) if v.len() == queued.len() => {
            let v = v.into_iter().zip(queued).map(|(f, n)| normalise(n, f, &[])).collect();
            Frame::Agg(t, Some(v))
        }
        (_, f) => f,
    }
}

/// An array reply's elements in runs of `per`, the runs sorted (a SORT
/// whose order Redis leaves unspecified).
fn sort_groups(f: Frame, per: usize) -> Frame {
    match f {
        Frame::Agg(t, Some(v)) if v.len() % per == 0 => {
            let mut groups: Vec<Vec<Frame>> = v.chunks(per).map(<[Frame]>::to_vec).collect();
            groups.sort();
            Frame::Agg(t, Some(groups.into_iter().flatten().collect()))
        }
        f => f,
    }
}

/// Commands sent per pipeline.
const BATCH: usize = 64;

/// A reply with every value blanked and only its structure left: types,
/// lengths, nulls and errors (for the random commands).
fn shape(f: Frame) -> Frame {
    match f {
        Frame::Line(t, _) if t != b'-' => Frame::Line(t, Vec::new()),
        Frame::Bulk(b'$', Some(_)) => Frame::Bulk(b'$', Some(Vec::new())),
        Frame::Agg(t, Some(v)) => Frame::Agg(t, Some(v.into_iter().map(shape).collect())),
        f => f,
    }
}

/// Both servers' connections and where a MULTI block stands.
struct Pair {
    spindle: Client,
    redis: Client,
    in_multi: bool,
    queued: Vec<String>,
    history: VecDeque<String>,
    mismatches: usize,
}

/// Whether a MULTI block is open after `cmd`, given it was open before:
/// MULTI opens one, EXEC (even refused for its arity) and DISCARD close it.
fn multi_open_after(open: bool, cmd: &Cmd) -> bool {
    let name = upper(cmd);
    match (name.as_str(), cmd.len()) {
        ("MULTI", 1) => true,
        ("EXEC", _) | ("DISCARD", 1) => false,
        _ => open,
    }
}

impl Pair {
    /// Runs `cmds` on both servers, pipelined, and compares the replies.
    /// Each OBJECT ENCODING outside MULTI is followed by a TYPE of its key,
    /// for the 7.0/7.2 allowance; inside MULTI it is left out. A lex-range
    /// command runs only on a key whose scores are all equal (or that is
    /// not a sorted set): Redis leaves the result unspecified otherwise, and
    /// what it returns then follows its skiplist's random levels.
    fn batch(&mut self, label: &str, first: usize, cmds: &[Cmd]) {
        let mut sent: Vec<Cmd> = Vec::new();
        let mut index: Vec<Option<usize>> = Vec::new();
        let mut open = self.in_multi;
        for (n, c) in cmds.iter().enumerate() {
            let object = upper(c).starts_with("OBJECT");
            if object && open {
                continue;
            }
            if let Some(src) = lex_source(c) {
                if open {
                    continue;
                }
                self.flush(label, &mut sent, &mut index);
                if !self.lex_order_is_specified(src) {
                    continue;
                }
            }
            // SORT orders Redis leaves unspecified: ALPHA BY ties are
            // compared as a multiset (outside MULTI), BY nosort on a set
            // is not compared.
            if gen::misc::unordered_groups(c).is_some() && open {
                continue;
            }
            if let Some(src) = gen::misc::nosort_source(c) {
                if open {
                    continue;
                }
                self.flush(label, &mut sent, &mut index);
                if self.is_set(src) {
                    continue;
                }
            }
            sent.push(c.clone());
            index.push(Some(first + n));
            if object && c.len() == 3 {
                sent.push(vec![b"TYPE".to_vec(), c[2].clone()]);
                index.push(None);
            }
            open = multi_open_after(open, c);
        }
        self.flush(label, &mut sent, &mut index);
    }

    /// Sends the pending commands and compares their replies.
    fn flush(&mut self, label: &str, sent: &mut Vec<Cmd>, index: &mut Vec<Option<usize>>) {
        if sent.is_empty() {
            return;
        }
        let a = self.spindle.pipeline(sent);
        let b = self.redis.pipeline(sent);
        for j in 0..sent.len() {
            let Some(i) = index[j] else { continue };
            let ty = if index.get(j + 1) == Some(&None) { Some(&b[j + 1]) } else { None };
            self.compare(label, i, &sent[j], a[j].clone(), b[j].clone(), ty);
        }
        sent.clear();
        index.clear();
    }

    /// Whether redis-server holds a set at `key`.
    fn is_set(&mut self, key: &[u8]) -> bool {
        let ty = self.redis.call(&[b"TYPE".to_vec(), key.to_vec()]);
        ty == Frame::Line(b'+', b"set".to_vec())
    }

    /// False when redis-server holds a sorted set at `key` whose lowest and
    /// highest scores differ.
    fn lex_order_is_specified(&mut self, key: &[u8]) -> bool {
        let q = |r: &[u8]| -> Cmd {
            [&b"ZRANGE"[..], key, r, r, b"WITHSCORES"].iter().map(|a| a.to_vec()).collect()
        };
        let ends = self.redis.pipeline(&[q(b"0"), q(b"-1")]);
        match (score_of(&ends[0]), score_of(&ends[1])) {
            (Some(lo), Some(hi)) => lo == hi,
            _ => true,
        }
    }

    fn compare(&mut self, label: &str, i: usize, cmd: &Cmd, a: Frame, b: Frame, ty: Option<&Frame>) {
        let name = upper(cmd);
        if std::env::var_os("DIFFERENTIAL_TRACE").is_some() {
            eprintln!("#{i} {} -> {}", show(cmd), b.show());
        }
        let queued = self.track_multi(&name, &b);
        let a = normalise(&name, a, &queued);
        let b = normalise(&name, b, &queued);
        let (a, b) = match gen::misc::unordered_groups(cmd) {
            Some(per) => (sort_groups(a, per), sort_groups(b, per)),
            None => (a, b),
        };
        if a != b && !encoding_renamed_in_7_2(&name, &a, &b, ty) {
            let msg = format!(
                "{label}, command #{i}: {}\n  spindle: {}\n  redis:   {}\n  before it:\n    {}\n  keys at the end of its batch:{}\n  queued: {:?}",
                show(cmd),
                a.show(),
                b.show(),
                self.history.iter().cloned().collect::<Vec<_>>().join("\n    "),
                self.describe_keys(cmd),
                queued
            );
            // DIFFERENTIAL_ALL=1 lists every mismatch instead of stopping at
            // the first (later ones may follow from earlier ones).
            if std::env::var_os("DIFFERENTIAL_ALL").is_none() {
                panic!("{msg}");
            }
            eprintln!("{msg}");
            self.mismatches += 1;
        }
        self.history.push_back(show(cmd));
        if self.history.len() > 12 {
            self.history.pop_front();
        }
    }

    /// DEBUG DIGEST on both servers after a batch: the whole keyspaces
    /// must be equal, not only the replies read so far (a write that
    /// stored a different value shows here even if nothing reads it).
    /// Spindle computes the digest as Redis does. On a difference, the
    /// keys whose DIGEST-VALUE differ are named, with their contents.
    fn compare_digests(&mut self, label: &str, at: usize) {
        if self.in_multi {
            return;
        }
        let digest = vec![b"DEBUG".to_vec(), b"DIGEST".to_vec()];
        let (mine, theirs) = (self.spindle.call(&digest), self.redis.call(&digest));
        if mine == theirs {
            return;
        }
        let keys = self.redis.call(&[b"KEYS".to_vec(), b"*".to_vec()]);
        let mut cmd = vec![b"DEBUG".to_vec(), b"DIGEST-VALUE".to_vec()];
        if let Frame::Agg(_, Some(ks)) = &keys {
            cmd.extend(ks.iter().filter_map(|k| match k {
                Frame::Bulk(_, Some(k)) => Some(k.clone()),
                _ => None,
            }));
        }
        cmd.extend([b"k0".to_vec(), b"k1".to_vec(), b"k2".to_vec(), b"k3".to_vec(), b"k4".to_vec()]);
        let (a, b) = (self.spindle.call(&cmd), self.redis.call(&cmd));
        let mut differing = vec![b"GET".to_vec()];
        if let (Frame::Agg(_, Some(a)), Frame::Agg(_, Some(b))) = (&a, &b) {
            for ((k, x), y) in cmd[2..].iter().zip(a).zip(b) {
                if x != y {
                    differing.push(k.clone());
                }
            }
        }
        let contents = self.describe_keys(&differing);
        let msg = format!(
            "{label}: the keyspaces differ after command {at} (DEBUG DIGEST {mine:?} against {theirs:?}); \
             keys whose values differ: {}\n{contents}\nlast commands:\n  {}",
            show(&differing[1..].to_vec()),
            self.history.iter().cloned().collect::<Vec<_>>().join("\n  ")
        );
        if std::env::var_os("DIFFERENTIAL_ALL").is_none() {
            panic!("{msg}");
        }
        eprintln!("{msg}");
        self.mismatches += 1;
    }

    /// The type and contents, on both servers, of the keys `cmd` names.
    fn describe_keys(&mut self, cmd: &Cmd) -> String {
        let mut out = String::new();
        if self.in_multi {
            return out;
        }
        for k in cmd.iter().skip(1).filter(|a| a.len() == 2 && a[0] == b'k') {
            let k = k.clone();
            for (who, c) in [("spindle", &mut self.spindle), ("redis", &mut self.redis)] {
                let ty = c.call(&[b"TYPE".to_vec(), k.clone()]);
                let read: &[&[u8]] = match &ty {
                    Frame::Line(_, t) if t == b"string" => &[b"GET"],
                    Frame::Line(_, t) if t == b"list" => &[b"LRANGE", b"0", b"-1"],
                    Frame::Line(_, t) if t == b"hash" => &[b"HGETALL"],
                    Frame::Line(_, t) if t == b"set" => &[b"SMEMBERS"],
                    Frame::Line(_, t) if t == b"zset" => &[b"ZRANGE", b"0", b"-1", b"WITHSCORES"],
                    _ => &[b"EXISTS"],
                };
                let mut q = vec![read[0].to_vec(), k.clone()];
                q.extend(read[1..].iter().map(|a| a.to_vec()));
                let v = c.call(&q);
                let v = normalise(&upper(&q), v, &[]).show();
                let v = if v.len() > 300 { format!("{}...", &v[..300]) } else { v };
                out += &format!("\n    {who} {}: {} {v}", String::from_utf8_lossy(&k), ty.show());
            }
        }
        out
    }

    /// Follows MULTI blocks by redis-server's raw replies; for EXEC,
    /// returns the names of the commands it ran, in order.
    fn track_multi(&mut self, name: &str, reply: &Frame) -> Vec<String> {
        let ok = |s: &[u8]| matches!(reply, Frame::Line(b'+', r) if r == s);
        if self.in_multi {
            if name == "EXEC" || (name == "DISCARD" && ok(b"OK")) {
                self.in_multi = false;
                return std::mem::take(&mut self.queued);
            } else if ok(b"QUEUED") {
                self.queued.push(name.to_string());
            }
        } else if name == "MULTI" && ok(b"OK") {
            self.in_multi = true;
        }
        Vec::new()
    }
}

/// The key a lex-range command reads, if `cmd` is one.
fn lex_source(cmd: &Cmd) -> Option<&[u8]> {
    let name = upper(cmd);
    let bylex = cmd.iter().any(|a| a.eq_ignore_ascii_case(b"BYLEX"));
    match name.as_str() {
        "ZRANGEBYLEX" | "ZREVRANGEBYLEX" | "ZLEXCOUNT" | "ZREMRANGEBYLEX" => cmd.get(1),
        "ZRANGE" if bylex => cmd.get(1),
        "ZRANGESTORE" if bylex => cmd.get(2),
        _ => None,
    }
    .map(Vec::as_slice)
}

/// The score in a one-member `ZRANGE .. WITHSCORES` reply (RESP2 or 3).
fn score_of(f: &Frame) -> Option<Frame> {
    match f {
        Frame::Agg(_, Some(v)) if v.len() == 2 => Some(v[1].clone()),
        Frame::Agg(_, Some(v)) if v.len() == 1 => score_of(&v[0]),
        _ => None,
    }
}

/// Redis 7.2 gave small lists and small non-integer sets the `listpack`
/// encoding; 7.0 reports `quicklist` and `hashtable` for them. `ty` is
/// redis-server's TYPE of the key right after the OBJECT ENCODING.
fn encoding_renamed_in_7_2(name: &str, a: &Frame, b: &Frame, ty: Option<&Frame>) -> bool {
    let bulk = |s: &str| Frame::Bulk(b'$', Some(s.as_bytes().to_vec()));
    let Some(Frame::Line(b'+', ty)) = ty else { return false };
    name == "OBJECT ENCODING"
        && *a == bulk("listpack")
        && ((ty == b"list" && *b == bulk("quicklist")) || (ty == b"set" && *b == bulk("hashtable")))
}

fn run(resp3: bool) {
    let srv = common::start();
    let redis = reference::Redis::start();
    let proto = if resp3 { "RESP3" } else { "RESP2" };
    let mut total = 0;
    let env = |name: &str| std::env::var(name).ok().and_then(|n| n.parse::<u64>().ok());
    let seeds: Vec<u64> = match (env("DIFFERENTIAL_SEED"), env("DIFFERENTIAL_SEEDS")) {
        (Some(one), _) => vec![one],
        (None, Some(n)) => (1..=n).collect(),
        (None, None) => SEEDS.to_vec(),
    };
    for seed in seeds {
        let mut p = Pair {
            spindle: spindle_client(&srv),
            redis: redis.client(),
            in_multi: false,
            queued: Vec::new(),
            history: VecDeque::new(),
            mismatches: 0,
        };
        let flush = vec![b"FLUSHALL".to_vec()];
        assert_eq!(p.spindle.call(&flush), p.redis.call(&flush));
        if resp3 {
            // The HELLO replies name different servers; only the switch matters.
            let hello = vec![b"HELLO".to_vec(), b"3".to_vec()];
            assert!(!p.spindle.call(&hello).is_error());
            assert!(!p.redis.call(&hello).is_error());
        }
        let label = format!("seed {seed} ({proto})");
        let mut g = Gen::new(seed);

        let mut i = 0;
        while i < STEPS {
            let mut cmds = Vec::new();
            while cmds.len() < BATCH {
                match gen::maybe_multi(&mut g) {
                    Some((block, discard)) => {
                        let end: &[u8] = if discard { b"DISCARD" } else { b"EXEC" };
                        cmds.push(vec![b"MULTI".to_vec()]);
                        cmds.extend(block);
                        cmds.push(vec![end.to_vec()]);
                    }
                    None => cmds.push(g.command()),
                }
            }
            p.batch(&label, i, &cmds);
            i += cmds.len();
            p.compare_digests(&label, i);
        }
        total += p.mismatches;
    }
    assert_eq!(total, 0, "{proto}: replies differed");
}

#[test]
fn resp2_replies_match_redis_server() {
    run(false);
}

#[test]
fn resp3_replies_match_redis_server() {
    run(true);
}
