//! Stream tests that change process-wide state (the descriptor limit, the
//! SIGPIPE disposition), so they live in their own test binary and take a
//! lock against each other.

mod common;
use common::{guard, localhost};
use spindle_loop::{Loop, ReadResult, RunMode, StreamId};
use std::cell::{Cell, RefCell};
use std::io::{self, Read};
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::Duration;

static PROCESS_WIDE: Mutex<()> = Mutex::new(());

const LIMIT: Duration = Duration::from_secs(20);

fn nofile() -> libc::rlimit {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit to the live pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
    r
}

fn set_nofile(r: &libc::rlimit) {
    // SAFETY: setrlimit reads one rlimit from the live pointer.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, r) }, 0, "{}", io::Error::last_os_error());
}

/// The lowest free descriptor number: every number below it is in use.
fn lowest_free_fd() -> u64 {
    let f = std::fs::File::open("/dev/null").unwrap();
    std::os::fd::AsRawFd::as_raw_fd(&f) as u64
}

/// Out of descriptors with connections waiting: the listener uses its
/// reserve descriptor to refuse them, tells `on_connection` once, and the
/// loop goes quiet instead of spinning on a listener that stays readable.
/// Once descriptors are back, connections are accepted again.
#[test]
fn emfile_on_accept_refuses_the_backlog_and_does_not_spin() {
    let _lock = PROCESS_WIDE.lock().unwrap();
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let errors = Rc::new(RefCell::new(Vec::new()));
    let accepted = Rc::new(Cell::new(0));
    let (e, a) = (errors.clone(), accepted.clone());
    let listener = lp
        .tcp_listen(localhost(), 64, move |lp, l, res| match res {
            Ok(()) => {
                let c = lp.accept(l).unwrap();
                a.set(a.get() + 1);
                lp.close(c.handle(), None);
            }
            Err(err) => e.borrow_mut().push(err.raw_os_error()),
        })
        .unwrap();
    let addr = lp.local_addr(listener).unwrap();
    // Connected in the kernel, waiting in the backlog.
    let mut clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    for c in &clients {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }

    let saved = nofile();
    set_nofile(&libc::rlimit { rlim_cur: lowest_free_fd(), rlim_max: saved.rlim_max });
    assert!(std::fs::File::open("/dev/null").is_err(), "out of descriptors now");

    // Run until the error was reported, then watch the loop for 200 ms.
    while errors.borrow().is_empty() {
        lp.run(RunMode::Once).unwrap();
    }
    let start = lp.lag_stats().iterations;
    let window = lp.timer_once(Duration::from_millis(200), |lp, t| lp.close(t.handle(), None)).unwrap();
    while lp.timer_due_in(window).is_some() {
        lp.run(RunMode::Once).unwrap();
    }
    let iterations = lp.lag_stats().iterations - start;
    set_nofile(&saved);

    assert_eq!(errors.borrow().len(), 1, "reported once, not once per wake-up");
    assert_eq!(errors.borrow()[0], Some(libc::EMFILE));
    assert_eq!(accepted.get(), 0);
    assert!(iterations < 20, "the loop spun: {iterations} iterations in 200 ms");
    // The refused clients see the connection end instead of hanging.
    for c in &mut clients {
        let mut b = [0; 1];
        match c.read(&mut b) {
            Ok(0) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            other => panic!("expected end of stream or reset, got {other:?}"),
        }
    }

    // Descriptors are back: the next connection is accepted.
    let _late = TcpStream::connect(addr).unwrap();
    while accepted.get() == 0 {
        lp.run(RunMode::Once).unwrap();
    }
    lp.close(listener.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
}

/// Without a reserve descriptor (the limit was already reached when the
/// listener was made), the listener pauses for `ACCEPT_PAUSE` after each
/// EMFILE instead of spinning, and accepts the waiting clients once
/// descriptors are back.
#[test]
fn emfile_without_a_reserve_pauses_accepting() {
    let _lock = PROCESS_WIDE.lock().unwrap();
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let std_listener = std::net::TcpListener::bind(localhost()).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let errors = Rc::new(Cell::new(0));
    let accepted = Rc::new(Cell::new(0));
    let (e, a) = (errors.clone(), accepted.clone());

    let saved = nofile();
    set_nofile(&libc::rlimit { rlim_cur: lowest_free_fd(), rlim_max: saved.rlim_max });
    let listener = lp
        .listen_open(std_listener.into(), move |lp, l, res| match res {
            Ok(()) => {
                let c = lp.accept(l).unwrap();
                a.set(a.get() + 1);
                lp.close(c.handle(), None);
            }
            Err(err) => {
                assert_eq!(err.raw_os_error(), Some(libc::EMFILE));
                e.set(e.get() + 1);
            }
        })
        .unwrap();
    while errors.get() == 0 {
        lp.run(RunMode::Once).unwrap();
    }
    let start = lp.lag_stats().iterations;
    let window = lp.timer_once(Duration::from_millis(250), |lp, t| lp.close(t.handle(), None)).unwrap();
    while lp.timer_due_in(window).is_some() {
        lp.run(RunMode::Once).unwrap();
    }
    let iterations = lp.lag_stats().iterations - start;
    set_nofile(&saved);
    let pause_ms = spindle_loop::ACCEPT_PAUSE.as_millis() as u64;
    assert!(errors.get() <= 1 + 250 / pause_ms + 1, "{} errors in 250 ms", errors.get());
    assert!(iterations < 30, "the loop spun: {iterations} iterations in 250 ms");
    while accepted.get() < clients.len() {
        lp.run(RunMode::Once).unwrap();
    }
    lp.close(listener.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
}

/// With SIGPIPE at its default (kill the process), writing to a closed peer
/// must still only fail the write: sockets are written with MSG_NOSIGNAL.
#[test]
fn writing_to_a_closed_peer_never_raises_sigpipe() {
    let _lock = PROCESS_WIDE.lock().unwrap();
    // SAFETY: installs the default disposition; no handler code involved.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let failure = Rc::new(RefCell::new(None));
    let f = failure.clone();
    let listener = lp
        .tcp_listen(localhost(), 16, move |lp, l, res| {
            res.unwrap();
            let c = lp.accept(l).unwrap();
            lp.close(l.handle(), None);
            let f = f.clone();
            lp.read_start(c, Vec::new(), move |lp, c, r| {
                assert!(matches!(r, ReadResult::Eof));
                write_until_error(lp, c, f.clone());
            })
            .unwrap();
        })
        .unwrap();
    let addr = lp.local_addr(listener).unwrap();
    drop(TcpStream::connect(addr).unwrap());
    assert!(!lp.run(RunMode::Default).unwrap());
    // SAFETY: restores the disposition saved above.
    unsafe { libc::signal(libc::SIGPIPE, old) };
    let e = failure.borrow_mut().take().expect("a write failed");
    assert!(matches!(e.kind(), io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset), "{e}");
}

fn write_until_error(lp: &mut Loop, c: StreamId, slot: Rc<RefCell<Option<io::Error>>>) {
    lp.write(
        c,
        &[1; 1024],
        Some(Box::new(move |lp: &mut Loop, c: StreamId, res: io::Result<()>| match res {
            Ok(()) => write_until_error(lp, c, slot),
            Err(e) => {
                *slot.borrow_mut() = Some(e);
                lp.close(c.handle(), None);
            }
        })),
    )
    .unwrap();
}
