//! What a keep-alive request for a small cached file allocates in the
//! server: with `gzip` off (its default, which must cost the answer path
//! nothing), only the copy of the request's path (`path::clean`: a path
//! with no escape and no dot or empty segment is its own clean form; it
//! used to cost three buffers: decoded bytes, segments, clean path), and
//! with `gzip` on, for a file whose gzip is cached, not one more. Alone in its test
//! binary, so the allocator's count is this test's.

mod common;
use common::*;
use spindle_http::config::Gzip;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the
// count is a relaxed atomic, which neither allocates nor blocks.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` came from `System.alloc` with `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: `p` came from `System.alloc` with `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Allocations made while `n` requests are answered on one keep-alive
/// connection, after a few to warm the cache and the buffers.
fn allocations(s: &Server, req: &[u8], n: usize) -> u64 {
    let mut c = s.connect();
    // The answer's length, from one read whole (allocating here is fine).
    c.write_all(req).unwrap();
    let mut r = Reader::new(c.try_clone().unwrap());
    let first = r.response(false).unwrap();
    let head_len = {
        let mut h = 0;
        for (k, v) in &first.headers {
            h += k.len() + 2 + v.len() + 2;
        }
        "HTTP/1.1 200 OK\r\n".len() + h + 2
    };
    let total = head_len + first.body.len();
    let mut buf = vec![0u8; total];
    for _ in 0..5 {
        c.write_all(req).unwrap();
        c.read_exact(&mut buf).unwrap();
    }
    let before = ALLOCS.load(Relaxed);
    for _ in 0..n {
        c.write_all(req).unwrap();
        c.read_exact(&mut buf).unwrap();
    }
    ALLOCS.load(Relaxed) - before
}

/// Allocations `path::clean` makes for a request (see the module docs).
const CLEAN: u64 = 1;

#[test]
fn cached_answers_allocate_no_more_than_the_path() {
    // No access log, files cached as soon as written.
    let tune = |c: &mut spindle_http::HttpConfig| c.cache.racy_window = Duration::ZERO;
    let off = Server::start(tune);
    std::fs::write(off.root.join("page.html"), "<p>a page long enough to be compressed</p>\n".repeat(50))
        .unwrap();
    let req = b"GET /page.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n";
    // The date is formatted once a second: a few allocations at most over
    // the run, not one per request.
    let off_n = allocations(&off, req, 300);
    assert!(off_n <= CLEAN * 300 + 10, "gzip off: {off_n} allocations for 300 requests");
    let on = Server::start(move |c| {
        tune(c);
        c.gzip = Some(Gzip::default());
    });
    std::fs::write(on.root.join("page.html"), "<p>a page long enough to be compressed</p>\n".repeat(50))
        .unwrap();
    let n = allocations(&on, req, 300);
    assert!(n <= CLEAN * 300 + 10, "gzip on, cached gzip: {n} allocations for 300 requests");
}
