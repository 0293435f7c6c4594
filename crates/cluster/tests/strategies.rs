//! Every accept strategy serves real connections, each exactly once, and
//! the ones that balance spread them over several workers.

mod common;

use common::{reply_pid, Server};
use std::collections::HashMap;

const CONNS: usize = 200;
const CLIENTS: usize = 8;

fn serve_all(accept: &str) -> HashMap<u32, usize> {
    let s = Server::start("", &["--workers", "4", "--accept", accept]);
    s.wait_workers(1, 4);
    let port = s.port;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            std::thread::spawn(move || {
                (0..CONNS / CLIENTS).map(|_| common::ask(port, "hello").expect("a reply")).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut per_pid = HashMap::new();
    let mut n = 0;
    for t in threads {
        for reply in t.join().unwrap() {
            // Exactly one line per connection.
            assert_eq!(reply.lines().count(), 1, "{accept}: {reply:?}");
            let pid = reply_pid(&reply).unwrap_or_else(|| panic!("{accept}: bad reply {reply:?}"));
            *per_pid.entry(pid).or_insert(0) += 1;
            n += 1;
        }
    }
    assert_eq!(n, CONNS);
    // The workers' own count agrees: every connection accepted once.
    let stats = s.ask("stats").unwrap();
    let accepted: i64 = stats
        .lines()
        .filter(|l| !l.starts_with("slot=255 "))
        .filter_map(|l| common::field(l, "accepts")?.parse::<i64>().ok())
        .sum();
    assert_eq!(accepted, CONNS as i64 + 1, "{accept}: {stats}");
    per_pid
}

#[test]
fn reuseport_serves_each_once_and_spreads() {
    let spread = serve_all("reuseport");
    assert!(spread.len() > 1, "{spread:?}");
}

#[test]
fn master_serves_each_once_round_robin() {
    let spread = serve_all("master");
    assert_eq!(spread.len(), 4, "{spread:?}");
    // Round-robin: no worker gets more than a fair share plus slack.
    assert!(spread.values().all(|n| (CONNS / 4 - 5..=CONNS / 4 + 5).contains(n)), "{spread:?}");
}

#[test]
fn exclusive_serves_each_once() {
    serve_all("exclusive");
}

#[test]
fn mutex_serves_each_once() {
    serve_all("mutex");
}

#[test]
fn shared_serves_each_once() {
    serve_all("shared");
}

#[test]
fn mutex_lock_of_a_dead_holder_is_broken() {
    // A short delay so the others retry quickly.
    let s = Server::start("accept_mutex_delay_ms=20\n", &["--workers", "3", "--accept", "mutex"]);
    s.wait_workers(1, 3);
    let holder = reply_pid(&s.ask("hi").unwrap()).unwrap();
    common::signal(holder, "KILL");
    // Another worker (or the replacement) takes the lock and serves.
    let mut other = None;
    assert!(common::wait_until(common::WAIT, || {
        other = s.ask("hi").ok().and_then(|r| reply_pid(&r));
        other.is_some_and(|p| p != holder)
    }));
    let stats = s.ask("stats").unwrap();
    assert!(stats.lines().any(|l| common::field(l, "held").is_some_and(|h| h != "0")), "{stats}");
}
