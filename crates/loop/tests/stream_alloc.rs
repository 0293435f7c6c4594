//! The hot path allocates nothing: a steady-state echo (read, then a write
//! without a callback that the kernel takes at once) makes no heap
//! allocation on the loop thread, per message or per iteration. A counting
//! global allocator checks it, in its own test binary.

use spindle_loop::{Loop, ReadResult, RunMode};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

struct Counting;

thread_local! {
    /// Counting is on for this thread (only the loop thread turns it on).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn note() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter neither allocates nor touches the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above, for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counter is process-wide: tests take turns.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn echo_allocations(with_callback: bool) -> usize {
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let mut lp = Loop::new().unwrap();
    let guard =
        lp.timer_once(Duration::from_secs(20), |_, _| panic!("test exceeded its time limit")).unwrap();
    lp.unref(guard.handle());
    let counted = Rc::new(Cell::new(None));
    let c = counted.clone();
    let listener = lp
        .tcp_listen("127.0.0.1:0".parse().unwrap(), 16, move |lp, l, res| {
            res.unwrap();
            let conn = lp.accept(l).unwrap();
            lp.close(l.handle(), None);
            let mut seen = 0u32;
            let c = c.clone();
            lp.read_start(conn, Vec::with_capacity(4096), move |lp, conn, r| match r {
                ReadResult::Data(d) => {
                    let cb: Option<spindle_loop::WriteCb> =
                        if with_callback { Some(Box::new(|_, _, res| res.unwrap())) } else { None };
                    lp.write(conn, d, cb).unwrap();
                    seen += 1;
                    if seen == WARMUP {
                        ALLOCATIONS.store(0, Ordering::Relaxed);
                        COUNTING.with(|on| on.set(true));
                    } else if seen == MESSAGES {
                        COUNTING.with(|on| on.set(false));
                        c.set(Some(ALLOCATIONS.load(Ordering::Relaxed)));
                    }
                }
                _ => lp.close(conn.handle(), None),
            })
            .unwrap();
        })
        .unwrap();
    let addr = lp.local_addr(listener).unwrap();
    let client = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        let msg = [7u8; 64];
        let mut back = [0u8; 64];
        for _ in 0..MESSAGES {
            s.write_all(&msg).unwrap();
            s.read_exact(&mut back).unwrap();
        }
    });
    assert!(!lp.run(RunMode::Default).unwrap());
    client.join().unwrap();
    counted.get().expect("all messages echoed")
}

const WARMUP: u32 = 200;
const MESSAGES: u32 = 5000;

#[test]
fn a_steady_state_echo_allocates_nothing() {
    let n = echo_allocations(false);
    assert_eq!(n, 0, "{n} allocations on the loop thread over {} messages", MESSAGES - WARMUP);
}

/// A write with a callback costs one deferred flush per stream and
/// iteration that completed writes: at most one allocation per message here (the
/// callback itself captures nothing, and boxing a zero-sized closure is
/// free). This also shows that the counter counts.
#[test]
fn a_write_callback_costs_one_deferred_flush() {
    let n = echo_allocations(true);
    assert!(n > 0 && n as u32 <= MESSAGES - WARMUP, "{n} allocations");
}
