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

/// jemalloc's own view of the heap, as Redis's `zmalloc_get_allocator_info`
/// reads it: every figure 0 when the allocator keeps no statistics (the
/// system allocator), as Redis's libc build reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocatorInfo {
    /// `stats.allocated`: bytes the application holds, counted by the
    /// allocator (all of the process's allocations, not only Rust's).
    pub allocated: usize,
    /// `stats.active`: bytes in pages holding live allocations; over
    /// `allocated` by the size classes' rounding and partly used pages.
    pub active: usize,
    /// `stats.resident`: bytes in resident pages the allocator mapped,
    /// including its metadata and dirty pages not yet returned.
    pub resident: usize,
}

/// Reads the allocator's statistics now: advances jemalloc's epoch (its
/// statistics are cached and refreshed only then), then reads them.
pub fn allocator_info() -> AllocatorInfo {
    #[cfg(feature = "jemalloc")]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        if epoch::advance().is_err() {
            return AllocatorInfo::default();
        }
        AllocatorInfo {
            allocated: stats::allocated::read().unwrap_or(0),
            active: stats::active::read().unwrap_or(0),
            resident: stats::resident::read().unwrap_or(0),
        }
    }
    #[cfg(not(feature = "jemalloc"))]
    AllocatorInfo::default()
}

/// jemalloc's `malloc_stats_print` report with its default options (MEMORY
/// MALLOC-STATS), or `None` when the allocator has none to give.
pub fn malloc_stats_text() -> Option<String> {
    #[cfg(feature = "jemalloc")]
    {
        let mut out = Vec::new();
        tikv_jemalloc_ctl::stats_print::stats_print(&mut out, Default::default()).ok()?;
        Some(String::from_utf8_lossy(&out).into_owned())
    }
    #[cfg(not(feature = "jemalloc"))]
    None
}

/// Returns every arena's unused dirty pages to the system (MEMORY PURGE),
/// as Redis's `jemalloc_purge`. Returns false if jemalloc refused; true
/// with the system allocator, which has nothing to purge (as in Redis).
pub fn purge() -> bool {
    #[cfg(feature = "jemalloc")]
    {
        // `arena.<i>.purge` with i = MALLCTL_ARENAS_ALL (4096, from
        // jemalloc.h) purges all arenas. It is a void control: it takes no
        // value and gives none, which the ctl crate's typed wrappers cannot
        // express, so it goes through the raw mallctl.
        const NAME: &[u8] = b"arena.4096.purge\0";
        // SAFETY: NAME is NUL-terminated; a void control reads no old value
        // and takes no new one, so all four pointers and the length are null
        // and zero, as jemalloc requires of it.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                NAME.as_ptr().cast(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        rc == 0
    }
    #[cfg(not(feature = "jemalloc"))]
    true
}

/// Reads, or with `new` writes, jemalloc control `name` as an integer
/// (DEBUG MALLCTL, as Redis's `mallctl_int`): tries 8, 4, 2 and 1 bytes,
/// since jemalloc refuses (EINVAL) a size that is not its control's. A
/// write-only control is written without reading. `Ok(None)` means
/// written; `Err` holds the errno.
pub fn mallctl_int(name: &str, new: Option<i64>) -> Result<Option<i64>, i32> {
    #[cfg(feature = "jemalloc")]
    {
        let Ok(cname) = std::ffi::CString::new(name) else { return Err(libc::EINVAL) };
        let mut size = 8usize;
        while size > 0 {
            let mut old = 0i64;
            let mut old_len = size;
            let mut val = new.unwrap_or(0);
            let (newp, new_len) = match new {
                Some(_) => ((&mut val as *mut i64).cast::<libc::c_void>(), size),
                None => (std::ptr::null_mut(), 0),
            };
            // SAFETY: `cname` is NUL-terminated; `old` and `val` are 8-byte
            // integers, so the `size` bytes jemalloc reads or writes
            // through them (at most 8, and only if `size` is the
            // control's own size, else it fails with EINVAL) stay inside
            // them. On little-endian x86 and ARM the low bytes come first.
            let rc = unsafe {
                tikv_jemalloc_sys::mallctl(
                    cname.as_ptr(),
                    (&mut old as *mut i64).cast(),
                    &mut old_len,
                    newp,
                    new_len,
                )
            };
            match rc {
                0 => return Ok(Some(old)),
                libc::EPERM if new.is_some() => {
                    // SAFETY: as above, without reading an old value.
                    let rc = unsafe {
                        tikv_jemalloc_sys::mallctl(
                            cname.as_ptr(),
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                            newp,
                            size,
                        )
                    };
                    return if rc == 0 { Ok(None) } else { Err(rc) };
                }
                libc::EINVAL => size /= 2,
                e => return Err(e),
            }
        }
        Err(libc::EINVAL)
    }
    #[cfg(not(feature = "jemalloc"))]
    {
        let _ = (name, new);
        Err(libc::ENOENT)
    }
}

/// The machine's physical memory in bytes (INFO's `total_system_memory`),
/// as Redis's `zmalloc_get_memory_size`: pages times page size.
pub fn system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    if pages <= 0 || size <= 0 {
        0
    } else {
        pages as u64 * size as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_follows_allocations() {
        // Other tests allocate and free concurrently (the counter is the
        // process's), so compare with a big margin, and allow a few tries:
        // another test freeing 64 MiB at the wrong moment can hide ours.
        let mut seen = Vec::new();
        let ok = (0..5).any(|_| {
            let before = used_memory();
            let v: Vec<u8> = Vec::with_capacity(64 << 20);
            let during = used_memory();
            drop(v);
            let after = used_memory();
            seen.push((before, during, after));
            during >= before + (60 << 20) && after + (60 << 20) <= during
        });
        assert!(ok, "before, during, after: {seen:?}");
        assert!(rss_bytes() > 0);
    }

    #[cfg(feature = "jemalloc")]
    #[test]
    fn jemalloc_reports_its_statistics() {
        // As above: another test may free tens of MiB between the two
        // reads (the 64 MiB one above did), so allow a few tries.
        let mut seen = Vec::new();
        let grew = (0..5).any(|_| {
            let before = allocator_info();
            let v: Vec<u8> = vec![1; 32 << 20];
            let during = allocator_info();
            drop(v);
            seen.push((before, during));
            during.allocated >= before.allocated.saturating_sub(8 << 20) + (24 << 20)
        });
        assert!(grew, "before, during: {seen:?}");
        let v: Vec<u8> = vec![1; 32 << 20];
        let during = allocator_info();
        assert!(during.active >= during.allocated && during.resident >= during.active, "{during:?}");
        drop(v);
        assert!(purge());
        assert!(malloc_stats_text().unwrap().starts_with("___ Begin jemalloc statistics ___"));
        assert!(system_memory() > 0);
    }
}
