//! A file the worker cannot open for want of descriptors (`EMFILE`) is a
//! 500, as nginx answers it (`[crit] open() ... failed (24: Too many open
//! files)`), not a 404: the file is there, and a 404 tells the client and
//! every cache on the way that it is not. In a test binary of its own,
//! because it lowers this process's descriptor limit.

mod common;
use common::*;

fn nofile() -> libc::rlimit {
    let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `l` is a live rlimit for getrlimit to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) }, 0);
    l
}

fn set_nofile(l: &libc::rlimit) {
    // SAFETY: `l` is a live rlimit; lowering or restoring the soft limit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, l) }, 0);
}

#[test]
fn a_file_that_cannot_be_opened_for_want_of_descriptors_is_a_500_not_a_404() {
    let s = Server::start(|c| c.cache.entries = 0);
    let mut c = Reader::new(s.connect());
    c.send(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(c.response(false).unwrap().status, 200);
    // No descriptor to spare in this process: the soft limit at the
    // number open, and any gap below it filled.
    let old = nofile();
    let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64 - 1;
    set_nofile(&libc::rlimit { rlim_cur: open, rlim_max: old.rlim_max });
    let mut fillers = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        fillers.push(f);
    }
    c.send(b"GET /1k.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.response(false).unwrap();
    set_nofile(&old);
    drop(fillers);
    assert_eq!(r.status, 500, "an existing file the worker could not open: {}", r.status);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(get(&s, "/1k.bin").status, 200, "served once descriptors are back");
}
