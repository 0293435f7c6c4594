//! HyperLogLog against a real redis-server 7.0: the same commands go to
//! both servers and the replies (GET of the HLL bytes included) must be the
//! same frames. Covers a 100,000-element HLL through its sparse and dense
//! lives, DUMP/RESTORE both ways, corrupted HLLs, `hll-sparse-max-bytes`,
//! the cached cardinality PFCOUNT writes back (WATCH sees it), keyspace
//! events, PFSELFTEST, and (spindle alone) an AOF restart.

mod common;
#[path = "differential/redis.rs"]
mod reference;
// Shared with the differential test, which uses more of it.
#[allow(dead_code)]
#[path = "differential/resp.rs"]
mod resp;

use resp::{Client, Frame};
use spindle_kv::server::config::AppendFsync;
use spindle_kv::server::ServerThread;

fn spindle_client(srv: &ServerThread) -> Client {
    Client::connect(srv.addr(), common::TIMEOUT)
}

/// A command from byte-string arguments.
fn c(args: &[&[u8]]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.to_vec()).collect()
}

fn show(cmd: &[Vec<u8>]) -> String {
    let mut s: Vec<String> = cmd.iter().take(4).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    if cmd.len() > 4 {
        s.push(format!("... ({} arguments)", cmd.len()));
    }
    s.join(" ")
}

fn err(text: &str) -> Frame {
    Frame::Line(b'-', text.as_bytes().to_vec())
}

fn int(n: i64) -> Frame {
    Frame::Line(b':', n.to_string().into_bytes())
}

fn bulk(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(_, Some(b)) => b.clone(),
        other => panic!("expected a bulk string, got {}", other.show()),
    }
}

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// A spindle server and a redis-server with one connection to each.
struct Both {
    ours: Client,
    redis: Client,
    srv: ServerThread,
    rref: reference::Redis,
}

impl Both {
    fn start() -> Both {
        let srv = common::start();
        let r = reference::Redis::start();
        Both { ours: spindle_client(&srv), redis: r.client(), srv, rref: r }
    }

    /// Runs `cmd` on both and returns the reply, failing if they differ.
    fn call(&mut self, cmd: &[Vec<u8>]) -> Frame {
        let (a, b) = (self.ours.call(cmd), self.redis.call(cmd));
        assert!(a == b, "{}\n  spindle: {}\n  redis:   {}", show(cmd), short(&a), short(&b));
        a
    }

    fn run(&mut self, args: &[&[u8]]) -> Frame {
        self.call(&c(args))
    }
}

fn short(f: &Frame) -> String {
    let s = f.show();
    if s.len() > 400 {
        format!("{}... ({} bytes)", &s[..400], s.len())
    } else {
        s
    }
}

#[test]
fn a_hundred_thousand_elements_match_redis_byte_for_byte() {
    let mut b = Both::start();
    // One element per PFADD while the HLL is small and sparse, so every
    // in-place opcode edit is compared.
    for i in 0..400 {
        let e = format!("el:{i}");
        b.run(&[b"PFADD", b"h", e.as_bytes()]);
        b.run(&[b"GET", b"h"]);
        if i % 50 == 0 {
            b.run(&[b"PFCOUNT", b"h"]);
            b.run(&[b"GET", b"h"]);
        }
    }
    let mut next = 400;
    let mut saw_sparse = false;
    while next < 100_000 {
        let mut cmd = c(&[b"PFADD", b"h"]);
        cmd.extend((next..next + 500).map(|i| format!("el:{i}").into_bytes()));
        next += 500;
        b.call(&cmd);
        if next % 5_000 == 0 || next < 3_000 {
            let enc = b.run(&[b"PFDEBUG", b"ENCODING", b"h"]);
            saw_sparse |= enc == Frame::Line(b'+', b"sparse".to_vec());
            b.run(&[b"GET", b"h"]);
            b.run(&[b"PFCOUNT", b"h"]);
        }
    }
    assert!(saw_sparse, "the HLL was never seen sparse in the bulk phase");
    assert_eq!(b.run(&[b"PFDEBUG", b"ENCODING", b"h"]), Frame::Line(b'+', b"dense".to_vec()));
    let Frame::Line(_, n) = b.run(&[b"PFCOUNT", b"h"]) else { panic!("PFCOUNT is an integer") };
    let n: f64 = String::from_utf8(n).unwrap().parse().unwrap();
    assert!((n - 100_000.0).abs() < 2_000.0, "estimate {n} for 100000");
    let bytes = bulk(&b.run(&[b"GET", b"h"]));
    assert_eq!(bytes.len(), 12_304);
    // Adding them all again changes nothing.
    let mut cmd = c(&[b"PFADD", b"h"]);
    cmd.extend((0..2_000).map(|i| format!("el:{i}").into_bytes()));
    assert_eq!(b.call(&cmd), int(0));
    // A union with a second HLL, and a merge of both.
    let mut cmd = c(&[b"PFADD", b"g"]);
    cmd.extend((0..3_000).map(|i| format!("other:{i}").into_bytes()));
    b.call(&cmd);
    b.run(&[b"PFCOUNT", b"h", b"g"]);
    b.run(&[b"PFCOUNT", b"g", b"nokey", b"h"]);
    assert_eq!(b.run(&[b"PFMERGE", b"m", b"g", b"h"]), Frame::Line(b'+', b"OK".to_vec()));
    b.run(&[b"GET", b"m"]);
    b.run(&[b"PFCOUNT", b"m"]);
    b.run(&[b"GET", b"m"]);
}

#[test]
fn pfmerge_keeps_a_sparse_destination_sparse_like_redis() {
    let mut b = Both::start();
    b.run(&[b"PFADD", b"a", b"1", b"2", b"3"]);
    b.run(&[b"PFADD", b"b", b"3", b"4"]);
    b.run(&[b"PFMERGE", b"m", b"a", b"b"]);
    assert_eq!(b.run(&[b"PFDEBUG", b"ENCODING", b"m"]), Frame::Line(b'+', b"sparse".to_vec()));
    b.run(&[b"GET", b"m"]);
    // A dense source makes the destination dense.
    b.run(&[b"PFDEBUG", b"TODENSE", b"b"]);
    b.run(&[b"PFMERGE", b"m2", b"a", b"b"]);
    assert_eq!(b.run(&[b"PFDEBUG", b"ENCODING", b"m2"]), Frame::Line(b'+', b"dense".to_vec()));
    b.run(&[b"GET", b"m2"]);
    // No sources: an empty HLL; the destination alone: unchanged registers.
    b.run(&[b"PFMERGE", b"empty"]);
    b.run(&[b"GET", b"empty"]);
    b.run(&[b"PFMERGE", b"a"]);
    b.run(&[b"GET", b"a"]);
    b.run(&[b"OBJECT", b"ENCODING", b"a"]);
}

#[test]
fn a_split_in_a_non_canonical_sparse_hll_merges_like_redis() {
    let mut b = Both::start();
    // XZERO(100) VAL(2,1) VAL(2,3) VAL(2,1) VAL(2,2) XZERO(16277): runs of
    // equal VALs left unmerged. Raising register 102 to 3 splits VAL(2,3)
    // and Redis's merge pass, five opcodes from the one before, joins runs
    // on both sides of the split.
    let dest = [&sparse_header()[..], b"\x40\x63\x84\x86\x84\x85\x7f\x94"].concat();
    let src = [&sparse_header()[..], b"\x40\x65\x88\x7f\x98"].concat();
    b.run(&[b"SET", b"d", &dest]);
    b.run(&[b"SET", b"s", &src]);
    assert_eq!(b.run(&[b"PFMERGE", b"d", b"s"]), Frame::Line(b'+', b"OK".to_vec()));
    b.run(&[b"PFDEBUG", b"DECODE", b"d"]);
    b.run(&[b"GET", b"d"]);
}

#[test]
fn dump_and_restore_move_hlls_between_the_servers() {
    let mut b = Both::start();
    let mut small = c(&[b"PFADD", b"small"]);
    small.extend((0..150).map(|i| format!("s{i}").into_bytes()));
    let mut big = c(&[b"PFADD", b"big"]);
    big.extend((0..20_000).map(|i| format!("b{i}").into_bytes()));
    b.call(&small);
    b.call(&big);
    b.run(&[b"PFCOUNT", b"small"]);
    for key in [&b"small"[..], b"big"] {
        let count = b.run(&[b"PFCOUNT", key]);
        let bytes = bulk(&b.run(&[b"GET", key]));
        // redis-server's payload into spindle.
        let payload = bulk(&b.redis.call(&c(&[b"DUMP", key])));
        let ok = Frame::Line(b'+', b"OK".to_vec());
        assert_eq!(b.ours.call(&c(&[b"RESTORE", b"from-redis", b"0", &payload])), ok);
        assert_eq!(bulk(&b.ours.call(&c(&[b"GET", b"from-redis"]))), bytes);
        assert_eq!(b.ours.call(&c(&[b"PFCOUNT", b"from-redis"])), count);
        // And spindle's payload back into redis-server.
        let payload = bulk(&b.ours.call(&c(&[b"DUMP", key])));
        assert_eq!(b.redis.call(&c(&[b"RESTORE", b"from-spindle", b"0", &payload])), ok);
        assert_eq!(bulk(&b.redis.call(&c(&[b"GET", b"from-spindle"]))), bytes);
        assert_eq!(b.redis.call(&c(&[b"PFCOUNT", b"from-spindle"])), count);
        // A restored HLL keeps working the same on both.
        b.run(&[b"DEL", b"from-redis", b"from-spindle"]);
    }
}

/// A sparse HLL header with the cache marked invalid.
fn sparse_header() -> Vec<u8> {
    b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec()
}

#[test]
fn corrupt_hlls_get_redis_errors() {
    let mut b = Both::start();
    let full = [&sparse_header()[..], b"\x7f\xff"].concat();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad magic", [b"HYLX", &full[4..]].concat(), NOT_HLL),
        ("unknown encoding", [b"HYLL\x02", &full[5..]].concat(), NOT_HLL),
        ("shorter than a header", b"HYLL\x01".to_vec(), NOT_HLL),
        ("dense of the wrong size", [b"HYLL\x00", &full[5..]].concat(), NOT_HLL),
        ("registers missing", sparse_header(), CORRUPT),
        ("one register short", [&sparse_header()[..], b"\x7f\xfe"].concat(), CORRUPT),
        ("one register too many", [&full[..], b"\x00"].concat(), CORRUPT),
        ("a VAL past the end", [&full[..], b"\x84"].concat(), CORRUPT),
        ("an XZERO cut short", [&sparse_header()[..], b"\x7f"].concat(), CORRUPT),
    ];
    for (what, value, expected) in cases {
        b.run(&[b"SET", b"bad", &value]);
        let got = b.run(&[b"PFCOUNT", b"bad"]);
        assert_eq!(got, err(expected), "PFCOUNT of {what}");
        b.run(&[b"PFCOUNT", b"bad", b"bad"]);
        b.run(&[b"PFMERGE", b"dest", b"bad"]);
        b.run(&[b"PFADD", b"bad", b"a", b"hello", b"foo"]);
        b.run(&[b"GET", b"bad"]);
        b.run(&[b"PFDEBUG", b"TODENSE", b"bad"]);
        b.run(&[b"PFDEBUG", b"DECODE", b"bad"]);
        b.run(&[b"GET", b"bad"]);
        b.run(&[b"DEL", b"dest"]);
    }
    // Integers and other types.
    b.run(&[b"SET", b"n", b"12345"]);
    assert_eq!(b.run(&[b"PFADD", b"n", b"x"]), err(NOT_HLL));
    b.run(&[b"RPUSH", b"l", b"x"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(b.run(&[b"PFCOUNT", b"l"]), err(wrongtype));
    b.run(&[b"PFMERGE", b"l", b"n"]);
    b.run(&[b"PFDEBUG", b"GETREG", b"missing"]);
    b.run(&[b"PFDEBUG", b"BOGUS", b"n"]);
    // A stale but valid cache is returned as it is.
    b.run(&[b"SET", b"stale", b"HYLL\x01\0\0\0\x07\0\0\0\0\0\0\0\x7f\xff"]);
    assert_eq!(b.run(&[b"PFCOUNT", b"stale"]), int(7));
}

#[test]
fn sparse_max_bytes_moves_the_promotion_point_as_in_redis() {
    let mut b = Both::start();
    for bad in [&b"-1"[..], b"abc", b"9223372036854775808"] {
        b.run(&[b"CONFIG", b"SET", b"hll-sparse-max-bytes", bad]);
    }
    b.run(&[b"CONFIG", b"SET", b"hll-sparse-max-bytes", b"1kb"]);
    assert_eq!(
        b.run(&[b"CONFIG", b"GET", b"hll-sparse-max-bytes"]),
        Frame::Agg(
            b'*',
            Some(vec![
                Frame::Bulk(b'$', Some(b"hll-sparse-max-bytes".to_vec())),
                Frame::Bulk(b'$', Some(b"1024".to_vec()))
            ])
        )
    );
    let sparse = Frame::Line(b'+', b"sparse".to_vec());
    let mut promoted_at = Vec::new();
    for limit in [&b"0"[..], b"100", b"1000", b"3000"] {
        b.run(&[b"CONFIG", b"SET", b"hll-sparse-max-bytes", limit]);
        b.run(&[b"DEL", b"h"]);
        let mut n = 0;
        loop {
            let e = format!("x{n}");
            b.run(&[b"PFADD", b"h", e.as_bytes()]);
            n += 1;
            if b.run(&[b"PFDEBUG", b"ENCODING", b"h"]) != sparse {
                break;
            }
            assert!(n < 5_000, "never promoted with a limit of {}", String::from_utf8_lossy(limit));
        }
        b.run(&[b"GET", b"h"]);
        promoted_at.push(n);
    }
    assert!(promoted_at.windows(2).all(|w| w[0] < w[1]), "promotion points {promoted_at:?}");
    assert_eq!(promoted_at[0], 1, "a limit of 0 promotes on the first add");
}

#[test]
fn pfcount_writes_its_cache_back_and_watch_sees_it() {
    let mut b = Both::start();
    b.run(&[b"PFADD", b"h", b"a", b"b", b"c"]);
    let before = bulk(&b.run(&[b"GET", b"h"]));
    assert_eq!(before[15], 0x80, "the cache is marked invalid");
    assert_eq!(b.run(&[b"PFCOUNT", b"h"]), int(3));
    let after = bulk(&b.run(&[b"GET", b"h"]));
    assert_eq!(after[8..16], [3, 0, 0, 0, 0, 0, 0, 0]);
    b.run(&[b"OBJECT", b"ENCODING", b"h"]);
    let nil_or_ok = |b: &mut Both, touch: &[&[u8]]| {
        b.run(&[b"WATCH", b"h"]);
        b.run(touch);
        b.run(&[b"MULTI"]);
        b.run(&[b"PING"]);
        b.run(&[b"EXEC"])
    };
    // A PFCOUNT that only reads the cache changes nothing.
    assert_ne!(nil_or_ok(&mut b, &[b"PFCOUNT", b"h"]), Frame::Agg(b'*', None));
    // A PFADD that changes nothing changes nothing either.
    assert_ne!(nil_or_ok(&mut b, &[b"PFADD", b"h", b"a"]), Frame::Agg(b'*', None));
    // A PFADD that raises a register, and the PFCOUNT that stores the new
    // count, both abort the transaction.
    assert_eq!(nil_or_ok(&mut b, &[b"PFADD", b"h", b"d"]), Frame::Agg(b'*', None));
    assert_eq!(nil_or_ok(&mut b, &[b"PFCOUNT", b"h"]), Frame::Agg(b'*', None));
    assert_eq!(nil_or_ok(&mut b, &[b"PFMERGE", b"h"]), Frame::Agg(b'*', None));
}

/// The keyspace events a subscriber saw up to a sentinel message.
fn events(sub: &mut Client) -> Vec<Frame> {
    let mut seen = Vec::new();
    loop {
        let f = sub.read();
        if f.show().contains("sentinel") {
            return seen;
        }
        seen.push(f);
        assert!(seen.len() < 100, "no sentinel");
    }
}

#[test]
fn pfadd_and_pfmerge_publish_pfadd_events_as_redis_does() {
    let mut b = Both::start();
    let mut subs = [spindle_client(&b.srv), b.rref.client()];
    b.run(&[b"CONFIG", b"SET", b"notify-keyspace-events", b"KEA"]);
    for s in &mut subs {
        s.call(&c(&[b"PSUBSCRIBE", b"__key*__:*", b"sentinel"]));
        s.read();
    }
    b.run(&[b"PFADD", b"h", b"a"]);
    b.run(&[b"PFADD", b"h", b"a"]);
    b.run(&[b"PFADD", b"created"]);
    b.run(&[b"PFCOUNT", b"h"]);
    b.run(&[b"PFMERGE", b"m", b"h"]);
    b.run(&[b"PUBLISH", b"sentinel", b"end"]);
    let ours = events(&mut subs[0]);
    let theirs = events(&mut subs[1]);
    assert_eq!(ours, theirs);
    assert!(ours.iter().filter(|f| f.show().contains("pfadd")).count() >= 6, "{ours:?}");
}

#[test]
fn pfselftest_passes() {
    let mut b = Both::start();
    // PFSELFTEST runs millions of register updates: several seconds in a
    // debug build on a busy two-core machine, so this call alone gets a
    // longer bound than the common one.
    b.ours = Client::connect(b.srv.addr(), std::time::Duration::from_secs(120));
    assert_eq!(b.run(&[b"PFSELFTEST"]), Frame::Line(b'+', b"OK".to_vec()));
}

#[test]
fn pfadd_pfmerge_and_the_cached_count_survive_an_aof_restart() {
    let dir = common::fresh_dir();
    let aof = |cfg: &mut spindle_kv::server::Config| {
        cfg.dir = dir.clone();
        cfg.save = vec![];
        cfg.appendonly = true;
        cfg.appendfsync = AppendFsync::Always;
    };
    let keys: [&[u8]; 4] = [b"small", b"big", b"merged", b"fresh"];
    let before: Vec<Frame> = {
        let srv = common::start_with(aof);
        let mut o = spindle_client(&srv);
        let mut big = c(&[b"PFADD", b"big"]);
        big.extend((0..5_000).map(|i| format!("b{i}").into_bytes()));
        o.call(&big);
        o.call(&c(&[b"PFADD", b"small", b"x", b"y", b"z"]));
        o.call(&c(&[b"PFCOUNT", b"small"]));
        o.call(&c(&[b"PFMERGE", b"merged", b"small", b"big"]));
        o.call(&c(&[b"PFADD", b"fresh"]));
        keys.iter().map(|k| o.call(&c(&[b"GET", k]))).collect()
    };
    let text = common::aof_text(&dir);
    assert!(text.contains("PFADD") && text.contains("PFMERGE"), "{text:.300}");
    assert!(text.contains("PFCOUNT"), "the PFCOUNT that wrote the cache is logged, as in Redis");
    let srv = common::start_with(aof);
    let mut o = spindle_client(&srv);
    let after: Vec<Frame> = keys.iter().map(|k| o.call(&c(&[b"GET", k]))).collect();
    assert_eq!(after, before);
    assert_eq!(bulk(&after[0])[8], 3, "the cached count came back");
}

/// An empty HLL is 18 bytes: copied with GET and SET it is short enough
/// to be held inside the value rather than on the heap, and every HLL
/// command must still take it for one, as Redis does.
#[test]
fn an_empty_hll_copied_by_set_is_still_an_hll() {
    let mut b = Both::start();
    assert_eq!(b.run(&[b"PFADD", b"h"]), int(1));
    let bytes = bulk(&b.run(&[b"GET", b"h"]));
    assert_eq!(bytes.len(), 18);
    for k in [&b"copy"[..], b"copy2", b"copy3"] {
        b.run(&[b"SET", k, &bytes]);
        b.run(&[b"OBJECT", b"ENCODING", k]);
    }
    assert_eq!(b.run(&[b"PFCOUNT", b"copy"]), int(0));
    b.run(&[b"PFCOUNT", b"copy", b"h"]);
    b.run(&[b"PFMERGE", b"dst", b"copy2", b"h"]);
    b.run(&[b"GET", b"dst"]);
    assert_eq!(b.run(&[b"PFADD", b"copy", b"x", b"y"]), int(1));
    b.run(&[b"OBJECT", b"ENCODING", b"copy"]);
    b.run(&[b"GET", b"copy"]);
    b.run(&[b"PFMERGE", b"copy2", b"copy"]);
    b.run(&[b"GET", b"copy2"]);
    assert_eq!(b.run(&[b"PFCOUNT", b"copy2"]), int(2));
    b.run(&[b"PFDEBUG", b"GETREG", b"copy3"]);
    b.run(&[b"OBJECT", b"ENCODING", b"copy3"]);
    // Shorter than an HLL's header: a string, not an HLL.
    b.run(&[b"SET", b"short", &bytes[..15]]);
    assert_eq!(b.run(&[b"PFCOUNT", b"short"]), err(NOT_HLL));
    assert_eq!(b.run(&[b"PFADD", b"short", b"x"]), err(NOT_HLL));
}
