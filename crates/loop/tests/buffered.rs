//! Buffered connections: read low and high watermarks, the write low
//! watermark, and the event callback (connected, end of stream, errors).
//!
//! The std client runs on the test thread between single loop iterations,
//! so each step's effect can be checked before the next; every wait is
//! bounded by a guard timer or a socket timeout.

mod common;
use common::{guard, localhost, run_until};
use spindle_loop::{BufferedConn, BufferedEvent, Loop, RunMode, StreamId, Watermarks};
use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// A listener, a std client connected to it, and the accepted stream.
fn pair(lp: &mut Loop) -> (TcpStream, StreamId) {
    let accepted = Rc::new(Cell::new(None));
    let a = accepted.clone();
    let listener = lp
        .tcp_listen(localhost(), 16, move |lp, l, res| {
            res.unwrap();
            a.set(Some(lp.accept(l).unwrap()));
        })
        .unwrap();
    let client = TcpStream::connect(lp.local_addr(listener).unwrap()).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    client.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    run_until(lp, |_| accepted.get().is_some());
    lp.close(listener.handle(), None);
    (client, accepted.get().unwrap())
}

fn input_len(lp: &Loop, b: BufferedConn) -> usize {
    lp.buffered_input(b).map_or(0, |i| i.len())
}

/// Bytes waiting in a socket's receive queue.
fn pending_bytes(lp: &mut Loop, b: BufferedConn) -> libc::c_int {
    let fd = lp.stream_fd(b.stream()).unwrap();
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int to the pointer, which is live.
    assert_eq!(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) }, 0);
    n
}

/// Runs a few iterations that find nothing new to do.
fn spin_a_little(lp: &mut Loop) {
    for _ in 0..5 {
        lp.run(RunMode::NoWait).unwrap();
    }
}

#[test]
fn the_read_callback_waits_for_the_low_watermark() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let (mut client, stream) = pair(&mut lp);
    let b = lp.buffered_new(stream).unwrap();
    lp.buffered_set_watermarks(b, Watermarks { read_low: 10, ..Watermarks::default() }).unwrap();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let c = calls.clone();
    lp.buffered_set_callbacks(
        b,
        Some(Box::new(move |lp, b| {
            let mut buf = [0; 64];
            let n = lp.buffered_read(b, &mut buf);
            c.borrow_mut().push(buf[..n].to_vec());
        })),
        None,
        None,
    )
    .unwrap();

    client.write_all(b"12345").unwrap();
    run_until(&mut lp, |lp| input_len(lp, b) == 5);
    spin_a_little(&mut lp);
    assert!(calls.borrow().is_empty(), "5 bytes are below the low watermark of 10");

    client.write_all(b"67890!").unwrap();
    run_until(&mut lp, |_| !calls.borrow().is_empty());
    assert_eq!(*calls.borrow(), [b"1234567890!".to_vec()]);
    assert_eq!(input_len(&lp, b), 0);

    lp.close(b.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
}

#[test]
fn reading_pauses_at_the_high_watermark_and_resumes_below_it() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let (mut client, stream) = pair(&mut lp);
    let b = lp.buffered_new(stream).unwrap();
    lp.buffered_set_watermarks(b, Watermarks { read_high: 100, ..Watermarks::default() }).unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    lp.buffered_set_callbacks(b, Some(Box::new(move |_, _| c.set(c.get() + 1))), None, None).unwrap();

    client.write_all(&[1; 150]).unwrap();
    run_until(&mut lp, |lp| input_len(lp, b) == 150);
    assert_eq!(calls.get(), 1, "the callback may leave data in the buffer");

    // At or above the high watermark: more data stays in the socket.
    client.write_all(&[2; 50]).unwrap();
    run_until(&mut lp, |lp| pending_bytes(lp, b) == 50);
    spin_a_little(&mut lp);
    assert_eq!(input_len(&lp, b), 150, "paused");
    assert_eq!(pending_bytes(&mut lp, b), 50);

    // Consuming below the mark resumes reading.
    lp.buffered_consume(b, 100);
    run_until(&mut lp, |lp| input_len(lp, b) == 100);
    assert_eq!(pending_bytes(&mut lp, b), 0);
    assert_eq!(calls.get(), 2);
    let input: Vec<u8> = lp.buffered_input(b).unwrap().iter().copied().collect();
    assert_eq!(input, [[1; 50], [2; 50]].concat());

    // Setting the watermarks re-applies them; lifting the mark resumes.
    lp.buffered_set_watermarks(b, Watermarks { read_high: 100, ..Watermarks::default() }).unwrap();
    client.write_all(&[3; 10]).unwrap();
    run_until(&mut lp, |lp| pending_bytes(lp, b) == 10);
    spin_a_little(&mut lp);
    assert_eq!(input_len(&lp, b), 100, "paused again at exactly the mark");
    lp.buffered_set_watermarks(b, Watermarks::default()).unwrap();
    run_until(&mut lp, |lp| input_len(lp, b) == 110);

    lp.close(b.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
}

#[test]
fn the_write_callback_runs_when_the_output_drains_to_the_low_watermark() {
    const BIG: usize = 8 << 20;
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let (mut client, stream) = pair(&mut lp);
    let b = lp.buffered_new(stream).unwrap();
    let drained = Rc::new(RefCell::new(Vec::new()));
    let d = drained.clone();
    lp.buffered_set_callbacks(
        b,
        None,
        Some(Box::new(move |lp, b| d.borrow_mut().push(lp.buffered_output_len(b)))),
        None,
    )
    .unwrap();

    // A small write goes out at once; the callback still runs later.
    lp.buffered_write(b, b"hi").unwrap();
    assert!(drained.borrow().is_empty(), "never inside the write");
    run_until(&mut lp, |_| !drained.borrow().is_empty());
    assert_eq!(*drained.borrow(), [0]);
    let mut hi = [0; 2];
    client.read_exact(&mut hi).unwrap();

    // A big one queues; the callback waits until the reader caught up.
    lp.buffered_set_watermarks(b, Watermarks { write_low: 1000, ..Watermarks::default() }).unwrap();
    lp.buffered_write(b, &vec![9; BIG]).unwrap();
    assert!(lp.buffered_output_len(b) > 1000);
    spin_a_little(&mut lp);
    assert_eq!(drained.borrow().len(), 1, "output still above the low watermark");
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0; 1 << 16];
        let mut total = 0;
        while total < BIG {
            total += client.read(&mut buf).unwrap();
        }
        client
    });
    run_until(&mut lp, |_| drained.borrow().len() == 2);
    assert!(drained.borrow()[1] <= 1000);
    let client = reader.join().unwrap();

    lp.close(b.handle(), None);
    assert!(!lp.run(RunMode::Default).unwrap());
    drop(client);
}

#[test]
fn events_connected_eof_and_error() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let std_listener = std::net::TcpListener::bind(localhost()).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let events = Rc::new(RefCell::new(Vec::new()));
    let on_event = |events: &Rc<RefCell<Vec<String>>>| {
        let e = events.clone();
        Box::new(move |lp: &mut Loop, b: BufferedConn, ev: BufferedEvent| {
            e.borrow_mut().push(match ev {
                BufferedEvent::Connected => "connected".to_string(),
                BufferedEvent::Eof => {
                    let input: Vec<u8> = lp.buffered_input(b).unwrap().iter().copied().collect();
                    lp.close(b.handle(), None);
                    format!("eof after {}", String::from_utf8(input).unwrap())
                }
                BufferedEvent::Error(err) => {
                    lp.close(b.handle(), None);
                    format!("error {:?}", err.kind())
                }
            })
        })
    };
    let b = lp.buffered_connect(addr).unwrap();
    lp.buffered_set_callbacks(b, None, None, Some(on_event(&events))).unwrap();
    let (mut server_side, _) = std_listener.accept().unwrap();
    run_until(&mut lp, |_| !events.borrow().is_empty());
    server_side.write_all(b"bye").unwrap();
    drop(server_side);
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*events.borrow(), ["connected", "eof after bye"]);

    // Refused: the event callback hears the error.
    drop(std_listener);
    events.borrow_mut().clear();
    let b = lp.buffered_connect(addr).unwrap();
    lp.buffered_set_callbacks(b, None, None, Some(on_event(&events))).unwrap();
    assert!(!lp.run(RunMode::Default).unwrap());
    assert_eq!(*events.borrow(), [format!("error {:?}", io::ErrorKind::ConnectionRefused)]);
}

#[test]
fn a_buffered_echo_of_lines() {
    let mut lp = Loop::new().unwrap();
    guard(&mut lp, LIMIT);
    let (mut client, stream) = pair(&mut lp);
    let b = lp.buffered_new(stream).unwrap();
    assert!(lp.buffered_new(stream).is_err(), "one buffered layer per stream");
    lp.buffered_set_callbacks(
        b,
        Some(Box::new(|lp, b| {
            // Echo whole lines only.
            while let Some(end) = lp.buffered_input(b).unwrap().iter().position(|&c| c == b'\n') {
                let mut line = vec![0; end + 1];
                lp.buffered_read(b, &mut line);
                line.make_ascii_uppercase();
                lp.buffered_write(b, &line).unwrap();
            }
        })),
        None,
        Some(Box::new(|lp, b, _| lp.close(b.handle(), None))),
    )
    .unwrap();
    let peer = std::thread::spawn(move || {
        client.write_all(b"one\ntw").unwrap();
        client.write_all(b"o\nthree").unwrap();
        client.write_all(b"\n").unwrap();
        let mut back = [0; 14];
        client.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"ONE\nTWO\nTHREE\n");
    });
    assert!(!lp.run(RunMode::Default).unwrap());
    peer.join().unwrap();
}
