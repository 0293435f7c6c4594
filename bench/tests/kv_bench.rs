//! `kv_bench`'s parsers and summary, on captured output: redis-benchmark
//! 7.0's CSV, INFO, /proc/PID/status, RESP replies, load shapes, and the
//! tables built from known samples. No servers and no load here.

use std::io::Cursor;

use spindle_bench::kv_report::{
    cpu_room, load_table, memory_table, overhead_ratio, render, render_all, verdict, Kind, MemSample,
    Results, Sample,
};
use spindle_bench::redis::{
    encode_command, parse_benchmark_csv, parse_info_field, parse_load, parse_vm_rss, proc_alive, proc_vm_rss,
    read_reply, server_error, split_csv_line, BenchRun, Load, Reply,
};

/// `redis-benchmark -n 2000 -c 5 -t set,get,mset --csv` (7.0.15).
const CSV: &str = r#""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","51282.05","0.066","0.008","0.039","0.055","0.127","10.543"
"GET","58823.53","0.052","0.008","0.039","0.055","0.127","4.343"
"MSET (10 keys)","40000.00","0.090","0.008","0.047","0.071","3.807","4.215"
"#;

#[test]
fn csv_lines_split_on_unquoted_commas() {
    assert_eq!(split_csv_line(r#""a","b,c","""q""""#).unwrap(), ["a", "b,c", "\"q\""]);
    assert_eq!(split_csv_line("a,,b").unwrap(), ["a", "", "b"]);
    assert_eq!(split_csv_line("\"x\"\r\n").unwrap(), ["x"]);
    assert_eq!(split_csv_line(r#""open"#), None, "unterminated quote");
    assert_eq!(split_csv_line(r#""a"b"#), None, "text after a closing quote");
}

#[test]
fn benchmark_csv_rows() {
    let rows = parse_benchmark_csv(CSV).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].test, "SET");
    assert_eq!(rows[0].rps, 51282.05);
    assert_eq!(rows[0].avg_ms, 0.066);
    assert_eq!(rows[0].p50_ms, 0.039);
    assert_eq!(rows[0].p99_ms, 0.127);
    assert_eq!(rows[2].test, "MSET (10 keys)");
    assert_eq!(rows[2].p99_ms, 3.807);
}

#[test]
fn benchmark_csv_columns_are_found_by_name() {
    let text = "\"rps\",\"test\"\n\"12.5\",\"ZADD myzset 0 x\"\n";
    let rows = parse_benchmark_csv(text).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].test.as_str(), rows[0].rps), ("ZADD myzset 0 x", 12.5));
    assert!(rows[0].p99_ms.is_nan(), "missing columns are NaN");
}

#[test]
fn benchmark_csv_without_header_or_rows() {
    assert_eq!(parse_benchmark_csv(""), None);
    assert_eq!(parse_benchmark_csv("\"SET\",\"1\"\n"), None, "no header");
    let header_only = CSV.lines().next().unwrap();
    assert_eq!(parse_benchmark_csv(header_only), Some(vec![]));
    let broken = format!("{header_only}\n\"SET\",\"fast\"\n");
    assert_eq!(parse_benchmark_csv(&broken), Some(vec![]), "non-numeric rps is skipped");
}

#[test]
fn server_errors_in_stderr() {
    let stderr = "WARNING: Could not fetch server CONFIG\n\
                  Error from server: ERR unknown command 'LPUSH', with args beginning with: 'mylist' \n";
    assert_eq!(
        server_error(stderr).as_deref(),
        Some("ERR unknown command 'LPUSH', with args beginning with: 'mylist'")
    );
    assert_eq!(server_error("WARNING: Could not fetch server CONFIG\n"), None);
}

#[test]
fn info_fields() {
    let info = "# Memory\r\nused_memory:1024\r\nused_memory_human:1.00K\r\n\
                used_memory_rss:8192\r\nused_memory_rss_human:8.00K\r\n";
    assert_eq!(parse_info_field(info, "used_memory"), Some(1024));
    assert_eq!(parse_info_field(info, "used_memory_rss"), Some(8192));
    assert_eq!(parse_info_field(info, "used_memory_human"), None, "not numeric");
    assert_eq!(parse_info_field(info, "used_memory_peak"), None);
}

#[test]
fn vm_rss_from_proc_status() {
    let status = "Name:\tredis-server\nVmPeak:\t  100 kB\nVmRSS:\t    1672 kB\nRssAnon:\t 800 kB\n";
    assert_eq!(parse_vm_rss(status), Some(1672 * 1024));
    assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    assert_eq!(parse_vm_rss("VmRSS:\t12 MB\n"), None, "unknown unit");
    let own = proc_vm_rss(std::process::id()).unwrap();
    assert!(own > 0);
    assert!(proc_alive(std::process::id()));
    assert!(!proc_alive(u32::MAX));
}

#[test]
fn load_shapes() {
    assert_eq!(parse_load("50x16"), Ok(Load { clients: 50, pipeline: 16 }));
    assert_eq!(parse_load("1000X1"), Ok(Load { clients: 1000, pipeline: 1 }));
    for bad in ["50", "x16", "0x1", "1x0", "ax1", ""] {
        assert!(parse_load(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn redis_benchmark_command_line() {
    let run = BenchRun {
        program: std::path::Path::new("redis-benchmark"),
        cpu: Some(1),
        addr: "127.0.0.1:7001".parse().unwrap(),
        requests: 1_000_000,
        load: Load { clients: 50, pipeline: 16 },
        keyspace: None,
        test: "zadd",
        timeout: std::time::Duration::from_secs(1),
    };
    let want = "-h 127.0.0.1 -p 7001 -n 1000000 -c 50 -P 16 -t zadd --csv";
    assert_eq!(run.args().join(" "), want);
    let random = BenchRun { keyspace: Some(100_000), ..run };
    assert_eq!(random.args().join(" "), want.replace("-t zadd", "-r 100000 -t zadd"));
}

#[test]
fn resp_replies() {
    let mut input =
        Cursor::new(b"+OK\r\n-ERR no\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n:1\r\n$0\r\n\r\n*-1\r\n".to_vec());
    assert_eq!(read_reply(&mut input).unwrap(), Reply::Simple("OK".into()));
    assert_eq!(read_reply(&mut input).unwrap(), Reply::Error("ERR no".into()));
    assert_eq!(read_reply(&mut input).unwrap(), Reply::Integer(42));
    assert_eq!(read_reply(&mut input).unwrap(), Reply::Bulk(Some(b"abc".to_vec())));
    assert_eq!(read_reply(&mut input).unwrap(), Reply::Bulk(None));
    assert_eq!(
        read_reply(&mut input).unwrap(),
        Reply::Array(Some(vec![Reply::Integer(1), Reply::Bulk(Some(vec![]))]))
    );
    assert_eq!(read_reply(&mut input).unwrap(), Reply::Array(None));
    assert_eq!(read_reply(&mut input).unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    for bad in [&b"?x\r\n"[..], b"+no crlf\n", b":x\r\n", b"$3\r\nabcd\r\n", b"$-2\r\n"] {
        let err = read_reply(&mut Cursor::new(bad.to_vec())).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn commands_round_trip_as_arrays_of_bulks() {
    let mut buf = Vec::new();
    encode_command(&mut buf, &[b"SET", b"key:1", b"xx"]);
    assert_eq!(buf, b"*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$2\r\nxx\r\n");
    let reply = read_reply(&mut Cursor::new(buf)).unwrap();
    let bulk = |s: &[u8]| Reply::Bulk(Some(s.to_vec()));
    assert_eq!(reply, Reply::Array(Some(vec![bulk(b"SET"), bulk(b"key:1"), bulk(b"xx")])));
}

fn sample(test: &str, kind: Kind, rps: f64, cpu_s: f64) -> Sample {
    Sample {
        round: 1,
        load: Load { clients: 50, pipeline: 1 },
        test: test.to_owned(),
        kind,
        requests: 1_000_000,
        rps,
        p50_ms: 0.3,
        p99_ms: 0.5,
        server_cpu_s: cpu_s,
        server_user_s: cpu_s / 2.0,
        other_cpu_s: 0.0,
        window_s: 10.0,
    }
}

#[test]
fn targets() {
    assert_eq!(verdict(Some(1.0), Some(0.9)), "ok");
    assert_eq!(verdict(Some(0.99), Some(0.5)), "miss: req/s");
    assert_eq!(verdict(Some(1.2), Some(0.91)), "miss: CPU");
    assert_eq!(verdict(Some(0.5), Some(2.0)), "miss: both");
    assert_eq!(verdict(None, Some(0.5)), "-");
}

#[test]
fn load_table_has_medians_ratios_and_unsupported_lines() {
    let load = Load { clients: 50, pipeline: 1 };
    let mut results = Results::default();
    // Three spindle rounds (median 5.0 s of CPU) against one redis round.
    for cpu in [5.0, 4.0, 9.0] {
        results.samples.push(sample("set", Kind::Spindle, 120_000.0, cpu));
    }
    results.samples.push(sample("set", Kind::Redis, 100_000.0, 6.0));
    results.samples.push(sample("lpush", Kind::Redis, 90_000.0, 6.0));
    results.unsupported.insert((load, "lpush".into(), Kind::Spindle), "ERR unknown command 'lpush'".into());
    let tests = ["set".to_owned(), "lpush".to_owned()];
    let rows = load_table(&results, &[load], &tests);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1], ["SET", "1", "50", "120000", "100000", "1.20x", "5.000", "6.000", "0.83x", "ok"]);
    assert_eq!(rows[2][3], "unsupported");
    assert_eq!(rows[2][4], "90000");
    assert_eq!((rows[2][5].as_str(), rows[2][9].as_str()), ("-", "-"));

    let text = render_all(&results, &[load], &tests, &[], false);
    assert!(
        text.contains("unsupported: spindle answers LPUSH (50x1) with: ERR unknown command 'lpush'"),
        "{text}"
    );
    assert!(!text.contains("warning"), "{text}");
    let md = render_all(&results, &[load], &tests, &[], true);
    assert!(md.contains("| SET   |  1 |      50 |        120000 |"), "{md}");
    assert!(md.contains("\n- unsupported: spindle answers LPUSH"), "{md}");
    assert!(md.contains("|---|---:|---:|"), "{md}");
}

#[test]
fn noisy_and_short_runs_are_flagged() {
    let mut results = Results::default();
    let mut noisy = sample("get", Kind::Spindle, 1.0, 0.2);
    noisy.other_cpu_s = 5.0;
    results.samples.push(noisy);
    let text = render_all(&results, &[Load { clients: 50, pipeline: 1 }], &["get".to_owned()], &[], false);
    assert!(text.contains("other processes used more than 10% of a CPU (worst 50%)"), "{text}");
    assert!(text.contains("under 1 s of CPU"), "{text}");
}

#[test]
fn memory_table_medians_and_targets() {
    let mem = |kind, rss_mib: u64, per_client: f64, info: bool| MemSample {
        round: 1,
        kind,
        rss_loaded: Some(rss_mib << 20),
        rss_growth: Some((rss_mib - 2) << 20),
        used_memory: info.then_some(rss_mib << 19),
        used_memory_rss: info.then_some(rss_mib << 20),
        per_client: Some(per_client),
        load_s: 1.0,
        notes: if info { vec![] } else { vec!["no INFO memory".into()] },
    };
    let memory = [mem(Kind::Spindle, 90, 1000.0, false), mem(Kind::Redis, 100, 800.0, true)];
    let rows = memory_table(&memory);
    assert_eq!(rows[1], ["VmRSS after loading (MiB)", "90.0", "100.0", "0.90x", "ok"]);
    assert_eq!(rows[2][1], "-", "spindle has no INFO memory");
    assert_eq!(rows[2][4], "-");
    assert_eq!(rows[5], ["VmRSS per idle client (bytes)", "1000", "800", "1.25x", "miss"]);
    let results = Results { memory: memory.to_vec(), ..Results::default() };
    let text = render_all(&results, &[], &[], &["unpinned".into()], false);
    assert!(text.contains("note: spindle: no INFO memory"), "{text}");
    assert!(text.contains("note: unpinned"), "{text}");
}

#[test]
fn tables_render_aligned_or_as_markdown() {
    let rows = vec![vec!["a".to_owned(), "bb".to_owned()], vec!["ccc".to_owned(), "d".to_owned()]];
    assert_eq!(render(&rows, false), "  a   | bb\n  ccc |  d\n");
    assert_eq!(render(&rows, true), "| a   | bb |\n|---|---:|\n| ccc |  d |\n");
}

#[test]
fn the_floor_adds_its_cpu_the_overhead_ratio_and_the_room() {
    let load = Load { clients: 50, pipeline: 1 };
    let mut results = Results::default();
    results.samples.push(sample("set", Kind::Spindle, 120_000.0, 5.2));
    results.samples.push(sample("set", Kind::Redis, 100_000.0, 5.5));
    results.samples.push(sample("set", Kind::Floor, 110_000.0, 4.5));
    let rows = load_table(&results, &[load], &["set".to_owned()]);
    assert_eq!(rows[0].len(), 13, "{:?}", rows[0]);
    assert_eq!(rows[0][10..], ["CPU µs/req floor", "overhead ratio", "room µs/req"]);
    // (5.2 - 4.5) / (5.5 - 4.5) = 0.70; 0.9 * 5.5 - 4.5 = 0.45.
    assert_eq!(rows[1][9..], ["miss: CPU", "4.500", "0.70x", "0.450"]);
    assert_eq!(overhead_ratio(Some(5.0), Some(4.0), Some(4.5)), None, "redis below the floor");
    assert_eq!(cpu_room(Some(5.0), Some(4.6)).map(|r| (r * 100.0).round()), Some(-10.0));

    // Without floor samples the table keeps its ten columns.
    results.samples.retain(|s| s.kind != Kind::Floor);
    assert_eq!(load_table(&results, &[load], &["set".to_owned()])[0].len(), 10);
}
