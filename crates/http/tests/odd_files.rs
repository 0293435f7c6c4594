//! Files that are not plain files, or stop being plain files while the
//! server looks at them, and plain files with odd timestamps.

mod common;
use common::*;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A FIFO in the root is refused (403) without a worker ever opening it:
/// `open(2)` on a FIFO blocks until a writer comes, and a worker blocked
/// there serves nobody.
#[test]
fn a_fifo_in_the_root_is_refused_and_the_worker_goes_on() {
    let s = Server::start(|_| {});
    let fifo = s.root.join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    assert_eq!(get(&s, "/pipe").status, 403);
    std::fs::create_dir(s.root.join("fifodir")).unwrap();
    std::os::unix::fs::symlink(&fifo, s.root.join("fifodir/index.html")).unwrap();
    assert_eq!(get(&s, "/fifodir/").status, 403);
    assert_eq!(get(&s, "/a.txt").status, 200);
}

/// The name a request asks for is swapped, by `rename(2)`, between a
/// regular file and a FIFO as fast as another thread can. Whichever the
/// worker finds, it must answer: it once checked that the path was a
/// regular file and then opened it by name, blocking, so a FIFO renamed in
/// between hung the whole worker in `open(2)` (nginx opens with
/// `O_NONBLOCK` and checks the descriptor it got). Before the fix the race
/// was hit within a few thousand requests (1-2 s); the test stops after
/// 5 s or 20,000 requests.
#[test]
fn a_file_swapped_for_a_fifo_while_looked_up_never_hangs_the_worker() {
    let s = Server::start(|c| c.cache.entries = 0);
    let stage = s.dir.join("stage");
    std::fs::create_dir(&stage).unwrap();
    let target = s.root.join("r");
    std::fs::write(&target, "regular\n").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, stage, target) = (stop.clone(), stage.clone(), target.clone());
        std::thread::spawn(move || {
            let (reg, fifo) = (stage.join("reg"), stage.join("fifo"));
            let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
            while !stop.load(Ordering::Relaxed) {
                std::fs::write(&reg, "regular\n").unwrap();
                std::fs::rename(&reg, &target).unwrap();
                // SAFETY: `c` is a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
                std::fs::rename(&fifo, &target).unwrap();
            }
        })
    };
    let end = Instant::now() + Duration::from_secs(5);
    let mut answered = 0;
    let mut hung = false;
    while Instant::now() < end && answered < 20_000 {
        let mut c = Reader::new(s.connect());
        c.stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        c.send(b"GET /r HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut buf = [0u8; 12];
        match std::io::Read::read_exact(&mut c.stream, &mut buf) {
            Ok(()) => {
                assert!(buf == *b"HTTP/1.1 200" || buf == *b"HTTP/1.1 403", "{buf:?}");
                answered += 1;
            }
            Err(_) => {
                hung = true;
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    if hung {
        // Let a worker stuck in open(2) go: a writer completes the open.
        let _ = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&target);
    }
    assert!(!hung, "the worker stopped answering after {answered} requests");
    assert_eq!(get(&s, "/a.txt").status, 200);
}

/// A file modified before 1970 (a `touch -d`, an archive unpacked with odd
/// dates) is served as nginx serves it: `Last-Modified` held at the
/// epoch, the ETag's time in hex with a minus sign. Formatting its date
/// panicked in the worker, which ended each request for it with no answer
/// at all. A time past the year 9999 (a tmpfs takes one; ext4 stops at
/// 2446) is held at the last second of 9999, where that can be set.
#[test]
fn files_modified_before_1970_or_after_9999_are_served() {
    use std::time::{SystemTime, UNIX_EPOCH};
    let s = Server::start(|_| {});
    let set = |name: &str, t: SystemTime| {
        let p = s.root.join(name);
        std::fs::write(&p, "old\n").unwrap();
        std::fs::File::options().write(true).open(&p).unwrap().set_modified(t).unwrap();
        std::fs::metadata(&p).unwrap().modified().unwrap() == t
    };
    assert!(set("old.txt", UNIX_EPOCH - Duration::from_secs(315_619_200)));
    let r = get(&s, "/old.txt");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"old\n"[..]));
    assert_eq!(r.header("Last-Modified"), Some("Thu, 01 Jan 1970 00:00:00 GMT"));
    assert_eq!(r.header("ETag"), Some("\"-12cff780-4\""));
    // Its tag still validates.
    let inm = "GET /old.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"-12cff780-4\"\r\n\r\n";
    assert_eq!(request(&s, inm).status, 304);
    if set("far.txt", UNIX_EPOCH + Duration::from_secs(253_402_300_800)) {
        let r = get(&s, "/far.txt");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Last-Modified"), Some("Fri, 31 Dec 9999 23:59:59 GMT"));
    }
    assert_eq!(get(&s, "/a.txt").status, 200);
}
