//! nginx's signals against a real master: KILL a worker, HUP (good and
//! bad config), QUIT with a request in flight, TERM, USR1, and the
//! respawn back-off of a worker that crashes at start-up.

mod common;

use common::{alive, field, reply_pid, wait_until, Server, WAIT};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn killed_worker_is_replaced_and_others_keep_serving() {
    let s = Server::start("", &["--workers", "2", "--accept", "master"]);
    let pids = s.wait_workers(1, 2);
    common::signal(pids[0], "KILL");
    let replaced = wait_until(WAIT, || s.started().len() >= 3);
    assert!(replaced, "{:?}", s.stderr());
    let new = s.started()[2].0;
    assert!(!pids.contains(&new));
    // Both the survivor and the replacement answer (round-robin).
    let mut seen = std::collections::HashSet::new();
    assert!(wait_until(WAIT, || {
        seen.insert(reply_pid(&s.ask("hi").unwrap()).unwrap());
        seen.contains(&pids[1]) && seen.contains(&new)
    }));
    assert!(!seen.contains(&pids[0]));
}

#[test]
fn hup_starts_a_new_generation_and_retires_the_old() {
    let s = Server::start("reply=one\n", &["--workers", "2", "--accept", "reuseport"]);
    let old = s.wait_workers(1, 2);
    assert_eq!(field(&s.ask("hi").unwrap(), "reply"), Some("one"));
    s.set_config("reply=two\nworkers=3\n");
    s.signal("HUP");
    let new = s.wait_workers(2, 3);
    assert!(wait_until(WAIT, || old.iter().all(|&p| !alive(p))), "old workers still alive");
    for _ in 0..20 {
        let r = s.ask("hi").unwrap();
        assert_eq!(field(&r, "reply"), Some("two"), "{r}");
        assert_eq!(field(&r, "gen"), Some("2"));
        assert!(new.contains(&reply_pid(&r).unwrap()));
    }
}

#[test]
fn hup_with_a_broken_config_keeps_the_old_workers() {
    let s = Server::start("reply=one\n", &["--workers", "2"]);
    let old = s.wait_workers(1, 2);
    s.set_config("reply=two\nworkers=lots\n");
    s.signal("HUP");
    assert!(wait_until(WAIT, || s
        .stderr()
        .iter()
        .any(|l| l.contains("reload refused") && l.contains("workers"))));
    assert!(old.iter().all(|&p| alive(p)));
    let r = s.ask("hi").unwrap();
    assert_eq!(field(&r, "reply"), Some("one"));
    assert_eq!(field(&r, "gen"), Some("1"));
    assert_eq!(s.started().len(), 2, "no new worker started");
}

/// A reload that names a new address it can bind and one it cannot is
/// refused; the address it could bind must not stay listening in the
/// master, where no worker accepts from it: a client would connect and
/// hang there (it did, until the next successful reload).
#[test]
fn hup_refused_for_one_address_leaves_no_other_new_address_listening() {
    let s = Server::start("reply=one\n", &["--workers", "1"]);
    let old = s.wait_workers(1, 1);
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // Held without SO_REUSEPORT: the master cannot bind it.
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = blocker.local_addr().unwrap().port();
    s.set_config(&format!("reply=two\nlisten=127.0.0.1:0,127.0.0.1:{free},127.0.0.1:{taken}\n"));
    s.signal("HUP");
    assert!(wait_until(WAIT, || s.stderr().iter().any(|l| l.contains("reload refused"))), "{:?}", s.stderr());
    let refused = TcpStream::connect(("127.0.0.1", free)).map_err(|e| e.kind());
    assert_eq!(refused.err(), Some(std::io::ErrorKind::ConnectionRefused), "port {free} left listening");
    assert!(old.iter().all(|&p| alive(p)));
    assert_eq!(field(&s.ask("hi").unwrap(), "reply"), Some("one"));
    // The same addresses, once bindable, reload as usual.
    drop(blocker);
    s.signal("HUP");
    s.wait_workers(2, 1);
    assert_eq!(field(&common::ask(free, "hi").unwrap(), "reply"), Some("two"));
}

#[test]
fn quit_finishes_the_request_in_flight_then_exits() {
    let mut s = Server::start("", &["--workers", "1"]);
    s.wait_workers(1, 1);
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    slow.set_read_timeout(Some(WAIT)).unwrap();
    slow.write_all(b"slow\n").unwrap();
    // The worker has the connection once its active gauge says so.
    assert!(wait_until(WAIT, || s.ask("stats").unwrap().lines().any(|l| field(l, "active") == Some("2"))));
    s.signal("QUIT");
    // Draining: the master stays while the request is in flight.
    assert!(wait_until(WAIT, || s.stderr().iter().any(|l| l.contains("shutting down"))));
    assert!(s.wait_exit(Duration::from_millis(300)).is_none(), "exited with a request in flight");
    slow.write_all(b"go on\n").unwrap();
    let mut reply = String::new();
    slow.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("pid="), "{reply:?}");
    let st = s.wait_exit(WAIT).expect("master exits after the last request");
    assert!(st.success(), "{st:?}");
}

#[test]
fn term_exits_fast_even_with_a_request_in_flight() {
    let mut s = Server::start("", &["--workers", "2"]);
    s.wait_workers(1, 2);
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    slow.write_all(b"slow\n").unwrap();
    assert!(wait_until(WAIT, || s.ask("stats").unwrap().contains("active=1")));
    let t0 = Instant::now();
    s.signal("TERM");
    let st = s.wait_exit(Duration::from_secs(2)).expect("master exits fast");
    assert!(st.success());
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[test]
fn usr1_moves_every_workers_reopens() {
    let s = Server::start("", &["--workers", "2", "--accept", "master"]);
    s.wait_workers(1, 2);
    assert_eq!(field(&s.ask("hi").unwrap(), "reopens"), Some("0"));
    s.signal("USR1");
    // Round-robin: consecutive connections reach both workers.
    assert!(wait_until(WAIT, || {
        let a = s.ask("hi").unwrap();
        let b = s.ask("hi").unwrap();
        field(&a, "reopens") == Some("1") && field(&b, "reopens") == Some("1")
    }));
}

#[test]
fn a_worker_crashing_at_start_does_not_make_the_master_spin() {
    let s = Server::start("crash_at_start=true\n", &["--workers", "1"]);
    let crashes = || s.stderr().iter().filter(|l| l.starts_with("worker-crash")).count();
    let t0 = Instant::now();
    assert!(wait_until(WAIT, || crashes() >= 1));
    std::thread::sleep(Duration::from_millis(1500).saturating_sub(t0.elapsed()));
    // 100 + 200 + 400 + 800 ms of back-off: about 4 or 5 starts in 1.5 s,
    // where a spinning master would have made thousands.
    let n = crashes();
    assert!((2..=6).contains(&n), "{n} crashes in 1.5 s");
    assert!(s.stderr().iter().any(|l| l.contains("respawning after a delay")));
    // Fixing the config and reloading brings a working generation.
    s.set_config("crash_at_start=false\n");
    s.signal("HUP");
    s.wait_workers(2, 1);
    assert_eq!(field(&s.ask("hi").unwrap(), "gen"), Some("2"));
}

#[test]
fn a_worker_draining_past_shutdown_timeout_is_stopped() {
    let mut s = Server::start("shutdown_timeout_ms=200\n", &["--workers", "1"]);
    s.wait_workers(1, 1);
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    slow.set_read_timeout(Some(WAIT)).unwrap();
    slow.write_all(b"slow\n").unwrap();
    assert!(wait_until(WAIT, || s.ask("stats").unwrap().contains("active=2")));
    s.signal("QUIT");
    let st = s.wait_exit(Duration::from_secs(5)).expect("stopped after shutdown_timeout");
    assert!(st.success());
    // The request never finished: the connection was dropped unanswered.
    let mut reply = String::new();
    let _ = slow.read_to_string(&mut reply);
    assert_eq!(reply, "");
    // The master's last lines may still be in the pipe when it is reaped.
    let logged = || s.stderr().iter().any(|l| l.contains("still draining after shutdown_timeout"));
    assert!(wait_until(WAIT, logged), "{:?}", s.stderr());
}

/// A master killed with SIGKILL leaves its workers orphaned: each drains
/// (its channel closed) but no master is left to stop one that a slow
/// client keeps busy past shutdown_timeout, so it lived, holding the
/// connection, for as long as the client liked. It stops itself now.
#[test]
fn an_orphaned_worker_stops_itself_after_shutdown_timeout() {
    let s = Server::start("shutdown_timeout_ms=300\n", &["--workers", "1"]);
    let worker = s.wait_workers(1, 1)[0];
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    slow.set_read_timeout(Some(WAIT)).unwrap();
    slow.write_all(b"slow\n").unwrap();
    assert!(wait_until(WAIT, || s.ask("stats").unwrap().contains("active=2")));
    s.signal("KILL");
    let gone = wait_until(Duration::from_secs(5), || !alive(worker));
    if !gone {
        common::signal(worker, "KILL");
    }
    assert!(gone, "the orphaned worker is still serving its slow client");
    let mut reply = String::new();
    let _ = slow.read_to_string(&mut reply);
    assert_eq!(reply, "");
    let logged = || s.stderr().iter().any(|l| l.contains("the master is gone"));
    assert!(wait_until(WAIT, logged), "{:?}", s.stderr());
}

/// A reload's worker that found every stats slot held (by the old
/// generation, still draining) was never started: the new generation
/// stayed short for good (150 workers, one reload: 105 left). It now
/// starts once an old worker exits and gives its slot back. Three slots
/// for two workers stand in for the 255 a large machine fills.
#[test]
fn a_worker_that_finds_no_free_slot_starts_once_an_old_one_exits() {
    let s = Server::start("worker_slots=3\nreply=one\n", &["--workers", "2"]);
    let old = s.wait_workers(1, 2);
    s.set_config("worker_slots=3\nreply=two\n");
    s.signal("HUP");
    s.wait_workers(2, 2);
    assert!(s.stderr().iter().any(|l| l.contains("no free stats slot")), "{:?}", s.stderr());
    assert!(wait_until(WAIT, || old.iter().all(|&p| !alive(p))));
    let new: Vec<u32> = s.started().into_iter().filter(|&(_, g)| g == 2).map(|(p, _)| p).collect();
    assert!(new.iter().all(|&p| alive(p)));
}

/// QUIT to a worker itself, as a process-group QUIT delivers it (systemd
/// signalling every process of the service, `kill -QUIT -PGID`): with the
/// default disposition the worker died at once, dumping core and cutting
/// its request in flight. As in nginx, it now drains: the request
/// finishes, the worker exits, the master starts another.
#[test]
fn quit_to_a_worker_drains_it_and_the_master_replaces_it() {
    let s = Server::start("", &["--workers", "1"]);
    let worker = s.wait_workers(1, 1)[0];
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    slow.set_read_timeout(Some(WAIT)).unwrap();
    slow.write_all(b"slow\n").unwrap();
    assert!(wait_until(WAIT, || s.ask("stats").unwrap().contains("active=2")));
    common::signal(worker, "QUIT");
    assert!(
        wait_until(WAIT, || s.stderr().iter().any(|l| l.contains("QUIT: the worker drains"))),
        "{:?}",
        s.stderr()
    );
    assert!(alive(worker), "the worker died instead of draining");
    slow.write_all(b"done\n").unwrap();
    let mut reply = String::new();
    slow.read_to_string(&mut reply).unwrap();
    assert_eq!(reply_pid(&reply), Some(worker), "the request in flight was cut: {reply:?}");
    assert!(wait_until(WAIT, || !alive(worker)));
    assert!(wait_until(WAIT, || s.started().len() >= 2), "{:?}", s.stderr());
    assert!(reply_pid(&s.ask("hi").unwrap()).is_some_and(|p| p != worker));
}

/// A reload that narrows an address (the wildcard to the loopback on the
/// same port) rebinds beside the master's own listener, which the check
/// for a port already in use must not take for another server's.
#[test]
fn hup_narrowing_the_wildcard_to_one_address_on_the_same_port_reloads() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let s = Server::start(&format!("reply=one\nlisten=0.0.0.0:{port}\n"), &["--workers", "1"]);
    s.wait_workers(1, 1);
    assert_eq!(field(&common::ask(port, "hi").unwrap(), "reply"), Some("one"));
    s.set_config(&format!("reply=two\nlisten=127.0.0.1:{port}\n"));
    s.signal("HUP");
    s.wait_workers(2, 1);
    assert!(!s.stderr().iter().any(|l| l.contains("reload refused")), "{:?}", s.stderr());
    assert!(wait_until(WAIT, || field(&common::ask(port, "hi").unwrap(), "reply") == Some("two")));
}
