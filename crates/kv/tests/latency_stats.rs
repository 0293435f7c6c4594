//! INFO latencystats and LATENCY HISTOGRAM against a real redis-server
//! 7.0: the same commands give the same commands reported, the same field
//! names and number formats, the same reply shapes in RESP2 and RESP3 and
//! the same call counts; the bucket keys are the powers of two Redis
//! prints; `latency-tracking no` stops recording, CONFIG RESETSTAT clears,
//! and CONFIG SET refuses bad values with Redis's words. The latencies
//! themselves differ from run to run, so only their form is compared.

mod common;
#[path = "differential/redis.rs"]
mod reference;
// Shared with the differential test, which uses more of it.
#[allow(dead_code)]
#[path = "differential/resp.rs"]
mod resp;

use resp::{args, Client, Frame};
use std::collections::{BTreeMap, BTreeSet};

/// A server pair: redis-server, then spindle, with one client each.
struct Pair {
    _redis: reference::Redis,
    _srv: spindle_kv::server::ServerThread,
    clients: [Client; 2],
}

/// Clears the stats, then runs [`SCRIPT`] on `c`.
fn run_script(c: &mut Client) {
    c.call(&args(&["CONFIG", "RESETSTAT"]));
    for cmd in SCRIPT {
        c.call(&args(cmd));
    }
}

fn pair() -> Pair {
    let redis = reference::Redis::start();
    let srv = common::start();
    let clients = [redis.client(), Client::connect(srv.addr(), common::TIMEOUT)];
    Pair { _redis: redis, _srv: srv, clients }
}

const SCRIPT: &[&[&str]] = &[
    &["SET", "a", "1"],
    &["GET", "a"],
    &["GET", "a"],
    &["GET", "nokey"],
    &["GET"],
    &["INCRBY", "a", "x"],
    &["RPUSH", "l", "x", "y"],
    &["LRANGE", "l", "0", "-1"],
    &["CONFIG", "GET", "hz"],
    &["CONFIG", "GET"],
    &["OBJECT", "ENCODING", "l"],
    &["CLIENT", "ID"],
    &["MULTI"],
    &["SET", "b", "2"],
    &["CLIENT", "ID"],
    &["EXEC"],
];

fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(_, Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("expected text, got {}", other.show()),
    }
}

/// `name -> [(label, value)]` from INFO latencystats.
fn latencystats(c: &mut Client) -> BTreeMap<String, Vec<(String, String)>> {
    let info = text(c.call(&args(&["INFO", "latencystats"])));
    let mut lines = info.lines();
    assert_eq!(lines.next(), Some("# Latencystats"), "{info}");
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let rest = l.strip_prefix("latency_percentiles_usec_").unwrap_or_else(|| panic!("{l}"));
            let (name, fields) = rest.split_once(':').unwrap();
            let fields = fields
                .split(',')
                .filter(|f| !f.is_empty())
                .map(|f| {
                    let (k, v) = f.split_once('=').unwrap_or_else(|| panic!("{l}"));
                    (k.to_string(), v.to_string())
                })
                .collect();
            (name.to_string(), fields)
        })
        .collect()
}

/// Every µs bucket key Redis can print: the highest value (in ns, over
/// 1000) of the HDR bucket that starts at each power of two from 1024 ns,
/// 2 significant digits; and the end of the histogram for calls over
/// 2^29 ns.
fn redis_bucket_keys() -> BTreeSet<i64> {
    let mut keys: BTreeSet<i64> = (10..30).map(|k| ((1i64 << k) + (1i64 << (k - 7)) - 1) / 1000).collect();
    keys.insert(((1i64 << 30) - 1) / 1000);
    keys
}

/// One command's entry in a LATENCY HISTOGRAM reply.
#[derive(Debug)]
struct Hist {
    name: String,
    calls: i64,
    /// (bucket in µs, calls up to it).
    buckets: Vec<(i64, i64)>,
}

/// A LATENCY HISTOGRAM reply, checking its shape on the way: a map (a flat
/// array in RESP2) of name to a two-field map, `calls` then
/// `histogram_usec`, of integers.
fn histogram(reply: Frame, resp3: bool) -> Vec<Hist> {
    let map_type = if resp3 { b'%' } else { b'*' };
    let int = |f: &Frame| match f {
        Frame::Line(b':', n) => String::from_utf8(n.clone()).unwrap().parse::<i64>().unwrap(),
        other => panic!("expected an integer, got {}", other.show()),
    };
    let Frame::Agg(t, Some(items)) = reply else { panic!("not a map: {}", reply.show()) };
    assert_eq!(t, map_type);
    items
        .chunks(2)
        .map(|kv| {
            let Frame::Bulk(b'$', Some(name)) = &kv[0] else { panic!("name {}", kv[0].show()) };
            let Frame::Agg(t, Some(fields)) = &kv[1] else { panic!("entry {}", kv[1].show()) };
            assert_eq!(*t, map_type);
            assert_eq!(fields.len(), 4, "{}", kv[1].show());
            assert_eq!(fields[0], Frame::Bulk(b'$', Some(b"calls".to_vec())));
            assert_eq!(fields[2], Frame::Bulk(b'$', Some(b"histogram_usec".to_vec())));
            let Frame::Agg(t, Some(buckets)) = &fields[3] else { panic!("buckets {}", fields[3].show()) };
            assert_eq!(*t, map_type);
            let buckets = buckets.chunks(2).map(|b| (int(&b[0]), int(&b[1]))).collect();
            Hist { name: String::from_utf8(name.clone()).unwrap(), calls: int(&fields[1]), buckets }
        })
        .collect()
}

/// The invariants of one histogram: keys Redis prints, increasing;
/// cumulative counts increasing and ending at the calls.
fn check_buckets(name: &str, calls: i64, buckets: &[(i64, i64)]) {
    let keys = redis_bucket_keys();
    assert!(!buckets.is_empty(), "{name}: no buckets");
    for w in buckets.windows(2) {
        assert!(w[0].0 < w[1].0 && w[0].1 < w[1].1, "{name}: {buckets:?}");
    }
    for (k, _) in buckets {
        assert!(keys.contains(k), "{name}: bucket {k} is not one Redis prints ({buckets:?})");
    }
    assert_eq!(buckets.last().unwrap().1, calls, "{name}: {buckets:?}");
}

/// A number as `%.3f` prints it.
fn is_3_decimals(v: &str) -> bool {
    let Some((int, frac)) = v.split_once('.') else { return false };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() == 3
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn latencystats_report_the_commands_and_fields_redis_does() {
    let mut p = pair();
    let mut seen = Vec::new();
    for c in &mut p.clients {
        run_script(c);
        let default = latencystats(c);
        assert_eq!(
            c.call(&args(&[
                "CONFIG",
                "SET",
                "latency-tracking-info-percentiles",
                "0 0.5 25.5 100 99.99999999"
            ])),
            Frame::Line(b'+', b"OK".to_vec())
        );
        let custom = latencystats(c);
        seen.push((default, custom));
    }
    let (mine, theirs) = (&seen[1], &seen[0]);
    for stats in [&mine.0, &mine.1] {
        assert!(stats.contains_key("get") && stats.contains_key("config|get"), "{stats:?}");
        for (name, fields) in stats {
            for (_, v) in fields {
                assert!(is_3_decimals(v), "{name}: {fields:?}");
            }
            let values: Vec<f64> = fields.iter().map(|(_, v)| v.parse().unwrap()).collect();
            assert!(values.windows(2).take(3).all(|w| w[0] <= w[1]), "{name}: {fields:?}");
        }
    }
    // The same commands, the same labels in the same order.
    let labels = |m: &BTreeMap<String, Vec<(String, String)>>| -> BTreeMap<String, Vec<String>> {
        m.iter().map(|(n, f)| (n.clone(), f.iter().map(|(k, _)| k.clone()).collect())).collect()
    };
    assert_eq!(labels(&mine.0), labels(&theirs.0), "INFO latencystats, default percentiles");
    assert_eq!(labels(&mine.1), labels(&theirs.1), "INFO latencystats, custom percentiles");
    assert_eq!(mine.0["get"].iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["p50", "p99", "p99.9"]);
    assert_eq!(
        mine.1["get"].iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["p0", "p0.5", "p25.5", "p100", "p100"]
    );
}

#[test]
fn latency_histogram_has_redis_shape_and_counts_in_resp2_and_resp3() {
    let mut p = pair();
    let mut seen = Vec::new();
    for c in &mut p.clients {
        run_script(c);
        let all = histogram(c.call(&args(&["LATENCY", "HISTOGRAM"])), false);
        let named = histogram(
            c.call(&args(&[
                "LATENCY",
                "HISTOGRAM",
                "get",
                "nosuch",
                "CONFIG",
                "client|ID",
                "GET",
                "config|nosuch",
            ])),
            false,
        );
        c.call(&args(&["HELLO", "3"]));
        let resp3 = histogram(c.call(&args(&["LATENCY", "HISTOGRAM", "set", "lrange"])), true);
        let none = c.call(&args(&["LATENCY", "HISTOGRAM", "nosuch"]));
        seen.push((all, named, resp3, none));
    }
    let calls = |h: &[Hist]| -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = h.iter().map(|h| (h.name.clone(), h.calls)).collect();
        v.sort();
        v
    };
    let (mine, theirs) = (&seen[1], &seen[0]);
    for h in mine.0.iter().chain(&mine.1).chain(&mine.2).chain(&theirs.0).chain(&theirs.1).chain(&theirs.2) {
        check_buckets(&h.name, h.calls, &h.buckets);
    }
    // Every command with calls: the LATENCY HISTOGRAM before this one
    // is not in it yet, as in Redis.
    assert!(calls(&mine.0).contains(&("get".into(), 3)), "{:?}", mine.0);
    assert!(calls(&mine.0).contains(&("config|get".into(), 1)), "{:?}", mine.0);
    assert_eq!(calls(&mine.0), calls(&theirs.0), "LATENCY HISTOGRAM");
    assert_eq!(calls(&mine.1), calls(&theirs.1), "LATENCY HISTOGRAM get nosuch CONFIG client|ID GET ...");
    assert_eq!(calls(&mine.2), calls(&theirs.2), "LATENCY HISTOGRAM in RESP3");
    assert_eq!(mine.3, Frame::Agg(b'%', Some(vec![])));
    assert_eq!(mine.3, theirs.3);
}

#[test]
fn latency_tracking_no_stops_recording_and_resetstat_clears() {
    let mut p = pair();
    let mut seen = Vec::new();
    for c in &mut p.clients {
        let get_calls = |c: &mut Client| -> Vec<i64> {
            histogram(c.call(&args(&["LATENCY", "HISTOGRAM", "get"])), false)
                .iter()
                .map(|h| h.calls)
                .collect()
        };
        let mut steps = Vec::new();
        c.call(&args(&["CONFIG", "RESETSTAT"]));
        c.call(&args(&["GET", "a"]));
        steps.push(get_calls(c));
        assert_eq!(
            c.call(&args(&["CONFIG", "SET", "latency-tracking", "no"])),
            Frame::Line(b'+', b"OK".to_vec())
        );
        c.call(&args(&["GET", "a"]));
        c.call(&args(&["GET", "a"]));
        steps.push(get_calls(c));
        let silent = latencystats(c);
        c.call(&args(&["CONFIG", "SET", "latency-tracking", "yes"]));
        c.call(&args(&["GET", "a"]));
        steps.push(get_calls(c));
        c.call(&args(&["CONFIG", "RESETSTAT"]));
        let after_reset = histogram(c.call(&args(&["LATENCY", "HISTOGRAM"])), false);
        let names: Vec<String> = after_reset.into_iter().map(|h| h.name).collect();
        steps.push(get_calls(c));
        let tracking = text(c.call(&args(&["CONFIG", "GET", "latency-tracking"])).into_second());
        seen.push((steps, silent, names, tracking));
    }
    assert_eq!(seen[1].0, [vec![1], vec![1], vec![2], vec![]], "GET's calls at each step");
    assert!(seen[1].1.is_empty(), "INFO latencystats with tracking off: {:?}", seen[1].1);
    assert_eq!(seen[1].2, ["config|resetstat"], "LATENCY HISTOGRAM right after CONFIG RESETSTAT");
    assert_eq!(seen[1].3, "yes");
    assert_eq!(seen[1], seen[0]);
}

trait Second {
    fn into_second(self) -> Frame;
}

impl Second for Frame {
    /// The value of a one-pair CONFIG GET reply.
    fn into_second(self) -> Frame {
        match self {
            Frame::Agg(_, Some(mut items)) if items.len() == 2 => items.pop().unwrap(),
            other => panic!("expected a name and a value, got {}", other.show()),
        }
    }
}

#[test]
fn latency_config_values_and_errors_match_redis() {
    let mut p = pair();
    let sets: &[(&str, &str)] = &[
        ("latency-tracking-info-percentiles", "50 abc"),
        ("latency-tracking-info-percentiles", "101"),
        ("latency-tracking-info-percentiles", "-1"),
        ("latency-tracking-info-percentiles", "nan"),
        ("latency-tracking-info-percentiles", "inf"),
        ("latency-tracking-info-percentiles", "50  99"),
        ("latency-tracking-info-percentiles", " 50"),
        ("latency-tracking-info-percentiles", "'50' \"99\""),
        ("latency-tracking-info-percentiles", "0 0.1 1e-3 25.5 100 99.99999999 0x10"),
        ("latency-tracking-info-percentiles", "1.5e1 +7 .5 5."),
        ("latency-tracking-info-percentiles", ""),
        ("latency-tracking-info-percentiles", "50 99 99.9"),
        ("latency-tracking", "maybe"),
        ("latency-tracking", "NO"),
        ("latency-tracking", "yes"),
    ];
    let mut seen = Vec::new();
    for c in &mut p.clients {
        let mut out = vec![c.call(&args(&["CONFIG", "GET", "latency-tracking*"]))];
        for (name, value) in sets {
            out.push(c.call(&args(&["CONFIG", "SET", name, value])));
            out.push(c.call(&args(&["CONFIG", "GET", name])));
        }
        seen.push(out);
    }
    let shown: Vec<String> = seen[1].iter().map(Frame::show).collect();
    assert!(shown[0].contains("50 99 99.9") && shown[0].contains("latency-tracking"), "{}", shown[0]);
    assert!(shown[1].contains("Invalid latency-tracking-info-percentiles parameters"), "{}", shown[1]);
    // CONFIG GET * lists the options in the order of Redis's table, which
    // ours does not follow: compare the pairs as sets.
    let sorted = |f: &Frame| -> Frame {
        match f {
            Frame::Agg(t, Some(items)) => {
                let mut pairs: Vec<&[Frame]> = items.chunks(2).collect();
                pairs.sort();
                Frame::Agg(*t, Some(pairs.concat()))
            }
            other => other.clone(),
        }
    };
    assert_eq!(sorted(&seen[1][0]), sorted(&seen[0][0]), "CONFIG GET latency-tracking*");
    for (i, (name, value)) in sets.iter().enumerate() {
        for j in [2 * i + 1, 2 * i + 2] {
            assert_eq!(seen[1][j].show(), seen[0][j].show(), "CONFIG SET {name} {value:?}, then CONFIG GET");
        }
    }
}

/// LATENCY DOCTOR writes Redis 7.0's report (`createLatencyReport`):
/// "disabled" only while nothing was ever recorded with the monitor off,
/// the "stress pill" line when nothing was observed, and for each event
/// class its spikes' average, mean deviation and period, then Redis's
/// advice for it.
#[test]
fn latency_doctor_writes_redis_report() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let doctor = |c: &mut redis::Connection| -> String { common::q(c, &["LATENCY", "DOCTOR"]) };
    assert!(doctor(&mut c).starts_with("I'm sorry, Dave, I can't do that. Latency monitoring is disabled"));
    let _: () = common::q(&mut c, &["CONFIG", "SET", "latency-monitor-threshold", "1"]);
    let thp = std::fs::read_to_string("/proc/self/smaps_rollup")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("AnonHugePages:") && !l.ends_with(" 0 kB"));
    if !thp {
        assert_eq!(
            doctor(&mut c),
            "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest \
             bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n"
        );
    }
    let _: () = common::q(&mut c, &["DEBUG", "SLEEP", "0.02"]);
    // Off again: the events recorded still make a report.
    let _: () = common::q(&mut c, &["CONFIG", "SET", "latency-monitor-threshold", "0"]);
    let report = doctor(&mut c);
    let head = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you \
                Dave?\n\n1. command: 1 latency spikes (average ";
    assert!(report.starts_with(head), "{report}");
    assert!(report.contains("ms, mean deviation 0ms, period 1.00 sec). Worst all time event "), "{report}");
    assert!(report.contains("ms.\n\nI have a few advices for you:\n\n- "), "{report}");
    assert!(report.contains("\n- Check your Slow Log to understand"), "{report}");
    assert!(report.contains("\n- Deleting, expiring or evicting (because of maxmemory policy) large objects"));
}

/// A command's time is right however it is read: at first by `Instant`,
/// and once the server has measured the cycle counter's rate against it
/// (a window of 100 ms; where the kernel trusts the counter), by the
/// counter. Both a 50 ms DEBUG SLEEP early and one later must show about
/// 50 ms in the slowlog.
#[test]
fn command_times_hold_before_and_after_the_cycle_rate_is_known() {
    let srv = common::start();
    let mut c = common::conn(&srv);
    let slept_us = |c: &mut redis::Connection| -> i64 {
        let _: () = common::q(c, &["SLOWLOG", "RESET"]);
        let _: () = common::q(c, &["DEBUG", "SLEEP", "0.05"]);
        let log: Vec<redis::Value> = common::q(c, &["SLOWLOG", "GET", "1"]);
        let redis::Value::Array(entry) = &log[0] else { panic!("{log:?}") };
        let redis::Value::Int(us) = entry[2] else { panic!("{entry:?}") };
        us
    };
    let early = slept_us(&mut c);
    // Events at least a window apart, so the rate gets measured.
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(250) {
        let _: String = common::q(&mut c, &["PING"]);
    }
    let late = slept_us(&mut c);
    for us in [early, late] {
        assert!((50_000..2_000_000).contains(&us), "a 50 ms sleep took {us} us (early {early}, late {late})");
    }
}
