//! The user-space cost of a pipelined command, with the network left out:
//! parse one request of a 16-command pipeline from the query bytes, look
//! the command up, run it against the keyspace, record its statistics and
//! write the reply. This is what spindle adds on top of the kernel's read
//! and write at `redis-benchmark -P 16`, where the kernel's share is
//! small enough that a few nanoseconds here show in the server's CPU per
//! request. Measured in-process, it is free of the loopback's noise, so a
//! change to the command path can be judged before the loopback
//! benchmark (bench/kv.sh) confirms it.
//!
//! `cargo bench -p spindle-kv --bench command_path`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spindle_kv::cmd::{self, Args};
use spindle_kv::resp::parse::{Limits, RequestParser};
use spindle_kv::server::client::Client;
use spindle_kv::server::config::Config;
use spindle_kv::server::Server;
use std::hint::black_box;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

/// Commands per pipeline, as `redis-benchmark -P 16`.
const PIPELINE: usize = 16;

/// `PIPELINE` copies of a request in RESP, as redis-benchmark sends it.
fn pipeline(args: &[&str]) -> Vec<u8> {
    let mut one = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        one.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    one.repeat(PIPELINE)
}

/// Runs every request in `query` for `c`, as the server's input loop
/// does, and drops the replies.
fn run(srv: &mut Server, c: &mut Client, parser: &mut RequestParser, query: &mut [u8]) {
    let limits = Limits { max_bulk_len: 512 << 20, authenticated: true };
    // As the event loop does for each read.
    srv.refresh_clock();
    let mut pos = 0;
    while pos < query.len() {
        let consumed = parser.parse(&mut query[pos..], &limits).expect("valid RESP").expect("whole requests");
        let args = Args::new(&query[pos..pos + consumed], parser.args());
        cmd::call(srv, c, args);
        pos += consumed;
    }
    black_box(c.out.len());
    c.out.clear();
}

fn command_path(crit: &mut Criterion) {
    let mut srv = Server::new(Config::default());
    // The client's socket is never written: replies stay in `out`.
    let (ours, _theirs) = UnixStream::pair().expect("socketpair");
    let fd: OwnedFd = ours.into();
    let mut c = Client::new(1, fd, "127.0.0.1:1".into(), "127.0.0.1:6379".into(), 0);
    let mut parser = RequestParser::default();
    let value = "x".repeat(3); // redis-benchmark's default -d 3
    let cases: [(&str, Vec<&str>); 4] = [
        ("set", vec!["SET", "key:__rand_int__", &value]),
        ("get", vec!["GET", "key:__rand_int__"]),
        ("incr", vec!["INCR", "counter:__rand_int__"]),
        ("lpush", vec!["LPUSH", "mylist", &value]),
    ];
    let mut g = crit.benchmark_group("command_path");
    g.throughput(Throughput::Elements(PIPELINE as u64));
    for (name, args) in &cases {
        let query = pipeline(args);
        let mut scratch = query.clone();
        g.bench_function(*name, |b| {
            b.iter(|| {
                // The parser may rewrite the buffer in place: a fresh copy
                // each time, as each read brings new bytes.
                scratch.copy_from_slice(&query);
                run(&mut srv, &mut c, &mut parser, &mut scratch);
            });
        });
        if *name == "lpush" {
            // Keep the list from growing across the benchmark's runs.
            let mut del = pipeline(&["DEL", "mylist"]);
            run(&mut srv, &mut c, &mut parser, &mut del);
        }
    }
    g.finish();
}

criterion_group!(benches, command_path);
criterion_main!(benches);
