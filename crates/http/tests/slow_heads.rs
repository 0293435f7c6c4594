//! A head that trickles in costs the server work in proportion to its
//! length, not to its length times the number of reads. (Its own file:
//! the test measures the process's CPU time, which tests running beside
//! it would add to.)

mod common;
use common::*;
use std::io::Write;
use std::time::Duration;

/// User and system CPU time of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: `ru` is plain old data, valid when zeroed.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a live rusage the call fills in.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) }, 0);
    let t = |tv: libc::timeval| Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// A 500 kB head of 40,000 short headers arrives at once but for its
/// last 1,000 bytes, which come one per segment. The head used to be
/// parsed from its start after every read, with a header array for the
/// whole head allocated each time: over a second of CPU for this one
/// client, in a debug build (a slowloris that burns the worker instead of
/// just holding a connection). Now each byte is looked at once, and the head is parsed
/// when its request line and when its end arrive.
#[test]
fn a_trickling_head_is_not_parsed_again_on_every_read() {
    let s = Server::start(|c| {
        c.limits.headers = 1 << 20;
        c.timeouts.header = Duration::from_secs(30);
    });
    let mut head = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..40_000 {
        head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    let tail = vec![b'y'; 1000];
    let mut c = Reader::new(s.connect());
    c.stream.set_nodelay(true).unwrap();
    c.send(&head);
    c.send(b"X-Tail: ");
    let before = cpu_time();
    for b in &tail {
        c.stream.write_all(std::slice::from_ref(b)).unwrap();
        // The client's slowness under test (one byte per segment), not a
        // wait for the server.
        std::thread::sleep(Duration::from_millis(1));
    }
    let spent = cpu_time() - before;
    c.send(b"\r\n\r\n");
    let r = c.response(false).unwrap();
    assert_eq!(r.status, 200);
    assert!(spent < Duration::from_millis(300), "{spent:?} of CPU for 1,000 trickled bytes");
}
