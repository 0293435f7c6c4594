//! Coalescing (`Loop::set_coalesce`): the loop sleeps before its polls only
//! while enough distinct descriptors are active, and never otherwise.

use spindle_loop::{Backend, Coalesce, Interest, Loop, RunMode};
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// `n` socket pairs: the loop watches and drains the first of each, the
/// test writes to the second. Returns the writers and the count of bytes
/// the loop read.
fn watched_pairs(lp: &mut Loop, n: usize) -> (Vec<UnixStream>, Rc<Cell<usize>>) {
    let read = Rc::new(Cell::new(0));
    let mut writers = Vec::new();
    for _ in 0..n {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let r = read.clone();
        lp.io_start(a.as_raw_fd(), Interest::READABLE, move |_, _, _| {
            let mut buf = [0u8; 64];
            loop {
                match (&a).read(&mut buf) {
                    Ok(0) => return,
                    Ok(k) => r.set(r.get() + k),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) => panic!("{e}"),
                }
            }
        })
        .unwrap();
        writers.push(b);
    }
    (writers, read)
}

/// Writes a byte to every writer and runs one loop iteration, until
/// `done` says so or 5 s pass. Returns the rounds run.
fn rounds(
    lp: &mut Loop,
    writers: &mut [UnixStream],
    read: &Cell<usize>,
    done: impl Fn(&Loop, u32) -> bool,
) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut n = 0;
    while !done(lp, n) {
        assert!(Instant::now() < deadline, "gave up after {n} rounds: {:?}", lp.coalesce_stats());
        for w in writers.iter_mut() {
            w.write_all(b"x").unwrap();
        }
        let want = read.get() + writers.len();
        while read.get() < want {
            lp.run(RunMode::Once).unwrap();
        }
        n += 1;
    }
    n
}

/// A loop that coalesces while 4 descriptors are active.
fn coalescing_loop() -> Loop {
    let mut lp = Loop::with_backend(Backend::Epoll).unwrap();
    lp.set_coalesce(Some(Coalesce { wait: Duration::from_micros(50), min_active: 4 }));
    lp
}

/// Runs rounds until the loop has slept before 3 polls; all of the
/// writers' descriptors must have been counted.
fn sleeps_with_all_counted(lp: &mut Loop, writers: &mut [UnixStream], read: &Cell<usize>) {
    rounds(lp, writers, read, |lp, _| lp.coalesce_stats().waits >= 3);
    let stats = lp.coalesce_stats();
    assert_eq!(stats.active, writers.len(), "{stats:?}");
}

/// Runs rounds until several epochs (1 ms of loop time each) have closed
/// with every writer's descriptor counted; the loop must never have slept.
fn never_sleeps(lp: &mut Loop, writers: &mut [UnixStream], read: &Cell<usize>) {
    let start = Instant::now();
    let n = writers.len();
    rounds(lp, writers, read, |lp, rounds| {
        rounds >= 100 && start.elapsed() > Duration::from_millis(5) && lp.coalesce_stats().active == n
    });
    assert_eq!(lp.coalesce_stats().waits, 0);
}

#[test]
fn a_loop_with_enough_active_descriptors_sleeps_before_polling() {
    let mut lp = coalescing_loop();
    let (mut writers, read) = watched_pairs(&mut lp, 8);
    sleeps_with_all_counted(&mut lp, &mut writers, &read);
}

#[test]
fn a_loop_with_few_active_descriptors_never_sleeps_before_polling() {
    let mut lp = coalescing_loop();
    let (mut writers, read) = watched_pairs(&mut lp, 2);
    never_sleeps(&mut lp, &mut writers, &read);

    // Off: nothing is counted.
    lp.set_coalesce(None);
    assert_eq!(lp.coalesce_stats().active, 0);
}

/// `n` socket pairs registered on the loop's poller with foreign tokens
/// (as an async runtime's IO driver registers them): the foreign-events
/// callback drains the first of each, the test writes to the second.
fn foreign_pairs(lp: &mut Loop, n: usize) -> (Vec<UnixStream>, Rc<Cell<usize>>) {
    use spindle_loop::FOREIGN_TOKEN_BIT;
    use spindle_poll::{Mode, Token};
    let read = Rc::new(Cell::new(0));
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for i in 0..n {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        // Tokens shaped like a runtime's: the addresses of 64-byte entries.
        let token = Token(FOREIGN_TOKEN_BIT | (0x7f00_0000 + i * 64));
        lp.poller().add(a.as_raw_fd(), token, Interest::READABLE, Mode::Level).unwrap();
        readers.push((token, a));
        writers.push(b);
    }
    let r = read.clone();
    lp.set_foreign_events(move |ev| {
        let (_, a) = readers.iter().find(|(t, _)| *t == ev.token()).expect("a token we registered");
        let mut buf = [0u8; 64];
        loop {
            match (&*a).read(&mut buf) {
                Ok(0) => return,
                Ok(k) => r.set(r.get() + k),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => panic!("{e}"),
            }
        }
    });
    (writers, read)
}

/// Keeps a loop whose only descriptors are foreign (no handles) alive,
/// with a timer that never fires during a test.
fn keep_alive(lp: &mut Loop) {
    let keep = lp.timer_new();
    lp.timer_start(keep, Duration::from_secs(3600), None, |_, _| {}).unwrap();
}

#[test]
fn foreign_descriptors_count_towards_coalescing() {
    let mut lp = coalescing_loop();
    let (mut writers, read) = foreign_pairs(&mut lp, 8);
    keep_alive(&mut lp);
    sleeps_with_all_counted(&mut lp, &mut writers, &read);
}

#[test]
fn few_foreign_descriptors_never_coalesce() {
    let mut lp = coalescing_loop();
    let (mut writers, read) = foreign_pairs(&mut lp, 2);
    keep_alive(&mut lp);
    never_sleeps(&mut lp, &mut writers, &read);
}
