//! Memory accounting: `used_memory`, as Redis's zmalloc keeps it.
//!
//! `maxmemory` needs to know, before every write, how much the server has
//! allocated. The resident set size cannot tell: freed memory stays
//! resident in the allocator's caches, so RSS does not fall when keys are
//! evicted and eviction would never stop. Redis therefore wraps malloc and
//! keeps a counter of live bytes (`used_memory`); so does this module. The
//! global allocator of any binary that links spindle-kv is [`Counting`],
//! which forwards to jemalloc (feature `jemalloc`, the default, as Redis
//! builds) or to the system allocator, and adds or subtracts each block's
//! size with one relaxed atomic operation, which costs a few nanoseconds.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(feature = "jemalloc")]
type Inner = tikv_jemallocator::Jemalloc;
#[cfg(not(feature = "jemalloc"))]
type Inner = std::alloc::System;

#[cfg(feature = "jemalloc")]
const INNER: Inner = tikv_jemallocator::Jemalloc;
#[cfg(not(feature = "jemalloc"))]
const INNER: Inner = std::alloc::System;

/// Live bytes allocated through [`Counting`].
static USED: AtomicUsize = AtomicUsize::new(0);

/// The counting global allocator.
pub struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

// SAFETY: every method forwards to the inner allocator with the caller's
// arguments unchanged, so the inner allocator's guarantees are ours; the
// counter is bookkeeping only and never affects the blocks returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract (non-zero size).
        let p = unsafe { INNER.alloc(layout) };
        if !p.is_null() {
            USED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { INNER.alloc_zeroed(layout) };
        if !p.is_null() {
            USED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator returned, with
        // its layout, as `dealloc` requires.
        unsafe { INNER.dealloc(ptr, layout) };
        USED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract for `ptr`/`layout`.
        let p = unsafe { INNER.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                USED.fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                USED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Bytes currently allocated by the process through Rust's allocator
/// (INFO's `used_memory`).
pub fn used_memory() -> usize {
    USED.load(Ordering::Relaxed)
}

/// The allocator's name as INFO's `mem_allocator` reports it.
pub fn allocator_name() -> &'static str {
    if cfg!(feature = "jemalloc") {
        "jemalloc-5.3.0"
    } else {
        "libc"
    }
}

/// The process's resident set size in bytes (INFO's `used_memory_rss`),
/// from /proc/self/statm; 0 if unavailable.
pub fn rss_bytes() -> usize {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else { return 0 };
    let pages: usize = s.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_follows_allocations() {
        // Other tests allocate concurrently, so compare with a big margin.
        let before = used_memory();
        let v: Vec<u8> = Vec::with_capacity(64 << 20);
        let during = used_memory();
        assert!(during >= before + (60 << 20), "{before} -> {during}");
        drop(v);
        let after = used_memory();
        assert!(after + (60 << 20) <= during, "{during} -> {after}");
        assert!(rss_bytes() > 0);
    }
}
