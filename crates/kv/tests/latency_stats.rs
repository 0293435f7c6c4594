//! INFO latencystats against a real redis-server 7.0: the same commands
//! give the same commands reported with the same field names and number
//! formats, and CONFIG SET refuses bad values with Redis's words. The
//! latencies themselves differ from run to run, so only their form is
//! compared.

mod common;
#[path = "differential/redis.rs"]
mod reference;
// Shared with the differential test, which uses more of it.
#[allow(dead_code)]
#[path = "differential/resp.rs"]
mod resp;

use resp::{args, Client, Frame};
use std::collections::BTreeMap;

/// A server pair: redis-server, then spindle, with one client each.
struct Pair {
    _redis: reference::Redis,
    _srv: spindle_kv::server::ServerThread,
    clients: [Client; 2],
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
        c.call(&args(&["CONFIG", "RESETSTAT"]));
        for cmd in SCRIPT {
            c.call(&args(cmd));
        }
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
