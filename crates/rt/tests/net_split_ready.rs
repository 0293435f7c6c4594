//! tokio's readiness API on the split halves of `TcpStream` and
//! `UnixStream`, borrowed (`split`) and owned (`into_split`): `ready`,
//! `readable` / `writable`, `try_read` / `try_write` and their vectored
//! forms, `peek` / `poll_peek` (TCP, and on the whole `TcpStream`), and the
//! addresses. Asserted: a read half's `try_read` is `WouldBlock` and its
//! `readable()` waits until the peer writes (checked by polling the wait
//! once, never by timing it), and waits again after a `WouldBlock`; a
//! write half's `writable()` waits on a full buffer until the peer reads;
//! a reader task and a writer task parked at the same time on the two
//! halves of one stream are each woken by their own event; a peek leaves
//! the bytes for the next read. Every test runs on the current-thread
//! runtime on each backend and on the multi-thread runtime, every wait
//! bounded by a timeout.

mod ready_support;

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ready_support::rt_support::TempDir;
use ready_support::{poll_once, Flavor, LIMIT};
use spindle_rt::io::Interest;
use spindle_rt::net::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, SplitStream, TcpListener, TcpStream, UnixListener, UnixStream,
    WriteHalf,
};
use spindle_rt::sync::oneshot;
use spindle_rt::time::timeout;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::pin::{pin, Pin};

on_flavors!(
    read_halves_wait_for_the_peer_and_try_read_is_would_block_before_it,
    write_halves_wait_for_room_and_try_write_is_would_block_on_a_full_buffer,
    a_reader_task_and_a_writer_task_on_the_two_halves_are_each_woken,
    ready_on_the_halves_reports_read_closed_and_takes_any_interest,
    peek_leaves_the_bytes_for_the_next_read,
    vectored_try_calls_on_the_halves,
    the_halves_report_the_streams_addresses,
);

/// A connected pair over loopback: (client, accepted).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    assert_ne!(addr.port(), 0);
    let client = TcpStream::connect(addr).await.expect("connect");
    let (conn, _) = listener.accept().await.expect("accept");
    (client, conn)
}

fn is_would_block<T: std::fmt::Debug>(r: &io::Result<T>) -> bool {
    matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// What the tests ask of a read half, borrowed or owned.
trait ReadSide {
    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_;
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
}

/// What the tests ask of a write half, borrowed or owned.
trait WriteSide {
    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_;
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
}

macro_rules! read_side {
    ($($half:ty),*) => {$(
        impl<S: SplitStream> ReadSide for $half {
            fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
                <$half>::readable(self)
            }
            fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                <$half>::try_read(self, buf)
            }
        }
    )*};
}

macro_rules! write_side {
    ($($half:ty),*) => {$(
        impl<S: SplitStream> WriteSide for $half {
            fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
                <$half>::writable(self)
            }
            fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                <$half>::try_write(self, buf)
            }
        }
    )*};
}

read_side!(ReadHalf<'_, S>, OwnedReadHalf<S>);
write_side!(WriteHalf<'_, S>, OwnedWriteHalf<S>);

/// `fut`, polled once and found waiting (its waker is parked), boxed so
/// that the caller can act and then await it.
async fn parked<'a, T>(
    fut: impl Future<Output = T> + 'a,
    what: &str,
) -> Pin<Box<dyn Future<Output = T> + 'a>> {
    let mut fut: Pin<Box<dyn Future<Output = T> + 'a>> = Box::pin(fut);
    assert!(poll_once(Pin::new(&mut fut)).await.is_pending(), "{what} returned at once");
    fut
}

/// Reads exactly `len` bytes through `readable` + `try_read`.
async fn recv_via(rd: &impl ReadSide, len: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(len);
    let mut buf = vec![0; 64 * 1024];
    while got.len() < len {
        timeout(LIMIT, rd.readable()).await.expect("readable in time").expect("readable");
        let want = (len - got.len()).min(buf.len());
        match rd.try_read(&mut buf[..want]) {
            Ok(0) => panic!("end of stream after {} of {len} bytes", got.len()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("try_read: {e}"),
        }
    }
    got
}

/// Fills the socket's buffers through `try_write` until `WouldBlock`;
/// returns how many bytes went.
async fn fill(wr: &impl WriteSide) -> usize {
    let chunk = vec![7u8; 256 * 1024];
    let mut total = 0;
    for round in 0.. {
        assert!(round < 10_000, "the socket never filled");
        timeout(LIMIT, wr.writable()).await.expect("writable in time").expect("writable");
        match wr.try_write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("try_write: {e}"),
        }
    }
    assert!(total > 0);
    total
}

/// Reads exactly `len` bytes from `peer` (an ordinary `read` loop).
async fn drain(peer: &mut (impl AsyncRead + Unpin), len: usize) -> Vec<u8> {
    let mut got = vec![0; len];
    timeout(LIMIT, peer.read_exact(&mut got)).await.expect("the peer read in time").expect("read");
    got
}

/// The read-half protocol: `WouldBlock` and a parked `readable()` before
/// the peer writes, woken by the write, then `WouldBlock` and parked again.
async fn check_read_side(rd: &impl ReadSide, peer: &mut (impl AsyncWrite + Unpin), msg: &[u8]) {
    let mut buf = [0; 64];
    assert!(is_would_block(&rd.try_read(&mut buf)), "nothing was sent yet");
    let wait = parked(rd.readable(), "readable() before the peer wrote").await;
    peer.write_all(msg).await.expect("peer write");
    timeout(LIMIT, wait).await.expect("the peer's write woke readable()").expect("readable");
    assert_eq!(recv_via(rd, msg.len()).await, msg);
    assert!(is_would_block(&rd.try_read(&mut buf)), "drained");
    // That WouldBlock cleared the readiness: the next wait sleeps.
    drop(parked(rd.readable(), "readable() on a drained half after WouldBlock").await);
}

/// The write-half protocol: on a full buffer `try_write` is `WouldBlock`
/// and `writable()` parks until the peer reads.
async fn check_write_side(wr: &impl WriteSide, peer: &mut (impl AsyncRead + Unpin)) {
    let total = fill(wr).await;
    let wait = parked(wr.writable(), "writable() on a full socket after WouldBlock").await;
    assert_eq!(drain(peer, total).await.len(), total);
    timeout(LIMIT, wait).await.expect("the peer's reads woke writable()").expect("writable");
    assert_eq!(wr.try_write(b"x").expect("room again"), 1);
    assert_eq!(drain(peer, 1).await, b"x");
}

async fn read_halves_wait_for_the_peer_and_try_read_is_would_block_before_it(_: Flavor) {
    let (mut client, mut conn) = tcp_pair().await;
    {
        let (rd, _wr) = TcpStream::split(&mut conn);
        check_read_side(&rd, &mut client, b"borrowed tcp").await;
    }
    let (rd, _wr) = conn.into_split();
    check_read_side(&rd, &mut client, b"owned tcp").await;

    let (mut a, mut b) = UnixStream::pair().expect("pair");
    {
        let (rd, _wr) = UnixStream::split(&mut b);
        check_read_side(&rd, &mut a, b"borrowed unix").await;
    }
    let (rd, _wr) = b.into_split();
    check_read_side(&rd, &mut a, b"owned unix").await;
}

async fn write_halves_wait_for_room_and_try_write_is_would_block_on_a_full_buffer(_: Flavor) {
    let (mut client, mut conn) = tcp_pair().await;
    {
        let (_rd, wr) = TcpStream::split(&mut conn);
        check_write_side(&wr, &mut client).await;
    }
    let (_rd, wr) = conn.into_split();
    check_write_side(&wr, &mut client).await;

    let (mut a, mut b) = UnixStream::pair().expect("pair");
    {
        let (_rd, wr) = UnixStream::split(&mut b);
        check_write_side(&wr, &mut a).await;
    }
    let (_rd, wr) = b.into_split();
    check_write_side(&wr, &mut a).await;
}

/// Parks a reader task on `rd.readable()` and a writer task on
/// `wr.writable()` (the buffer full) at the same time, then makes the
/// stream readable and writable: each task must be woken and finish.
async fn reader_and_writer_tasks<S, P>(rd: OwnedReadHalf<S>, wr: OwnedWriteHalf<S>, peer: &mut P)
where
    S: SplitStream + Send + Sync + 'static,
    P: AsyncRead + AsyncWrite + Unpin,
{
    let total = fill(&wr).await;
    let (read_parked, reader_is_parked) = oneshot::channel();
    let reader = spindle_rt::spawn(async move {
        let mut wait = pin!(rd.readable());
        assert!(poll_once(wait.as_mut()).await.is_pending(), "readable() before the peer wrote");
        read_parked.send(()).expect("the test waits for this");
        timeout(LIMIT, wait).await.expect("the reader task was woken").expect("readable");
        recv_via(&rd, 4).await
    });
    let (write_parked, writer_is_parked) = oneshot::channel();
    let writer = spindle_rt::spawn(async move {
        let mut wait = pin!(wr.writable());
        assert!(poll_once(wait.as_mut()).await.is_pending(), "writable() on a full buffer");
        write_parked.send(()).expect("the test waits for this");
        timeout(LIMIT, wait).await.expect("the writer task was woken").expect("writable");
        loop {
            match wr.try_write(b"back") {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    timeout(LIMIT, wr.writable()).await.expect("writable in time").expect("writable");
                }
                Err(e) => panic!("try_write: {e}"),
            }
        }
    });
    // Both tasks are parked, one per direction, before the peer acts.
    timeout(LIMIT, reader_is_parked).await.expect("the reader parked").expect("sent");
    timeout(LIMIT, writer_is_parked).await.expect("the writer parked").expect("sent");

    peer.write_all(b"ping").await.expect("peer write");
    assert_eq!(drain(peer, total).await.len(), total);
    let got = timeout(LIMIT, reader).await.expect("the reader finished").expect("joined");
    assert_eq!(got, b"ping");
    let n = timeout(LIMIT, writer).await.expect("the writer finished").expect("joined");
    assert!(n >= 1);
    assert_eq!(drain(peer, n).await, &b"back"[..n]);
}

async fn a_reader_task_and_a_writer_task_on_the_two_halves_are_each_woken(_: Flavor) {
    let (mut client, conn) = tcp_pair().await;
    let (rd, wr) = conn.into_split();
    reader_and_writer_tasks(rd, wr, &mut client).await;

    let (mut a, b) = UnixStream::pair().expect("pair");
    let (rd, wr) = b.into_split();
    reader_and_writer_tasks(rd, wr, &mut a).await;
}

async fn ready_on_the_halves_reports_read_closed_and_takes_any_interest(flavor: Flavor) {
    let (client, conn) = tcp_pair().await;
    let (rd, wr) = conn.into_split();
    let both = Interest::READABLE | Interest::WRITABLE;

    // A new socket is writable: the write half's ready() says so.
    let ready = timeout(LIMIT, wr.ready(Interest::WRITABLE)).await.expect("writable").expect("ready");
    assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");
    // Any interest, on either half: both directions, from the read half.
    let ready = timeout(LIMIT, rd.ready(both)).await.expect("either").expect("ready");
    assert!(ready.is_writable(), "{ready:?}");

    let read_wait =
        parked(rd.ready(Interest::READABLE), "the read half's ready() before anything came").await;
    let write_half_read_wait = parked(wr.ready(Interest::READABLE), "the write half's ready(READABLE)").await;
    client.shutdown_std(Shutdown::Write).expect("shutdown");
    for (who, wait) in [("read half", read_wait), ("write half", write_half_read_wait)] {
        let ready = timeout(LIMIT, wait).await.expect("the shutdown woke ready()").expect("ready");
        if flavor.sees_read_closed() {
            assert!(ready.is_read_closed(), "{who}: {ready:?}");
        } else {
            assert!(ready.is_readable(), "{who}: {ready:?}");
        }
        assert!(!ready.is_writable(), "{who} asked for reads only: {ready:?}");
    }
    assert_eq!(rd.try_read(&mut [0; 8]).expect("end of stream"), 0);
    // Read-closed is final.
    assert!(poll_once(pin!(rd.readable())).await.is_ready());

    // The same on a Unix pair.
    let (a, b) = UnixStream::pair().expect("pair");
    let (rd, wr) = b.into_split();
    let wait = parked(rd.ready(Interest::READABLE), "a Unix read half's ready()").await;
    a.shutdown_std(Shutdown::Write).expect("shutdown");
    let ready = timeout(LIMIT, wait).await.expect("woken").expect("ready");
    assert!(ready.is_read_closed() || ready.is_readable(), "{ready:?}");
    let ready = timeout(LIMIT, wr.ready(Interest::WRITABLE)).await.expect("writable").expect("ready");
    assert!(ready.is_writable(), "{ready:?}");
}

async fn peek_leaves_the_bytes_for_the_next_read(_: Flavor) {
    let (mut client, mut conn) = tcp_pair().await;

    // The whole stream, through &self: a peek waits for data.
    let mut buf = [0; 5];
    let wait = parked(conn.peek(&mut buf), "peek() before the peer wrote").await;
    client.write_all(b"whole").await.expect("write");
    let n = timeout(LIMIT, wait).await.expect("the write woke peek()").expect("peek");
    assert!(n > 0 && b"whole".starts_with(&buf[..n]));
    let n = timeout(LIMIT, poll_fn(|cx| conn.poll_peek(cx, &mut buf))).await.expect("poll_peek").unwrap();
    assert!(n > 0 && b"whole".starts_with(&buf[..n]));
    let mut got = [0; 5];
    timeout(LIMIT, conn.read_exact(&mut got)).await.expect("read in time").expect("read");
    assert_eq!(&got, b"whole", "the peeks consumed nothing");

    // A borrowed read half: peek, and poll_peek parked before data.
    {
        let (mut rd, _wr) = TcpStream::split(&mut conn);
        let mut buf = [0; 8];
        let wait =
            parked(poll_fn(|cx| rd.poll_peek(cx, &mut buf)), "poll_peek() before the peer wrote").await;
        client.write_all(b"borrowed").await.expect("write");
        let n = timeout(LIMIT, wait).await.expect("the write woke poll_peek()").expect("poll_peek");
        assert!(n > 0 && b"borrowed".starts_with(&buf[..n]));
        let n = timeout(LIMIT, rd.peek(&mut buf)).await.expect("peek in time").expect("peek");
        assert!(n > 0 && b"borrowed".starts_with(&buf[..n]));
        assert_eq!(recv_via(&rd, 8).await, b"borrowed", "the peeks consumed nothing");
    }

    // An owned read half: peek and poll_peek.
    let (mut rd, _wr) = conn.into_split();
    client.write_all(b"owned").await.expect("write");
    let n = timeout(LIMIT, rd.peek(&mut buf)).await.expect("peek in time").expect("peek");
    assert!(n > 0 && b"owned".starts_with(&buf[..n]));
    let n = timeout(LIMIT, poll_fn(|cx| rd.poll_peek(cx, &mut buf))).await.expect("poll_peek").unwrap();
    assert!(n > 0 && b"owned".starts_with(&buf[..n]));
    assert_eq!(recv_via(&rd, 5).await, b"owned", "the peeks consumed nothing");
}

async fn vectored_try_calls_on_the_halves(_: Flavor) {
    let (client, conn) = tcp_pair().await;
    let (crd, cwr) = client.into_split();
    let (rd, _wr) = conn.into_split();
    timeout(LIMIT, cwr.writable()).await.expect("writable").expect("writable");
    let n = cwr.try_write_vectored(&[IoSlice::new(b"head|"), IoSlice::new(b"body")]).expect("gathered");
    assert_eq!(n, 9);
    let (mut a, mut b) = ([0; 5], [0; 16]);
    let n = loop {
        timeout(LIMIT, rd.readable()).await.expect("readable").expect("readable");
        match rd.try_read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)]) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("try_read_vectored: {e}"),
        }
    };
    // One gathered write over loopback is queued whole: one scattered read
    // takes all of it, across both buffers.
    assert_eq!((n, &a, &b[..4]), (9, b"head|", &b"body"[..]));
    assert!(is_would_block(&crd.try_read_vectored(&mut [IoSliceMut::new(&mut [0; 4])])));

    let (a, mut b) = UnixStream::pair().expect("pair");
    let (_ard, awr) = a.into_split();
    {
        let (brd, _bwr) = UnixStream::split(&mut b);
        assert!(is_would_block(&brd.try_read_vectored(&mut [IoSliceMut::new(&mut [0; 4])])));
        timeout(LIMIT, awr.writable()).await.expect("writable").expect("writable");
        assert_eq!(awr.try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")]).expect("gathered"), 4);
        assert_eq!(recv_via(&brd, 4).await, b"abcd");
    }
}

async fn the_halves_report_the_streams_addresses(_: Flavor) {
    let (client, mut conn) = tcp_pair().await;
    let (peer, local) = (conn.peer_addr().unwrap(), conn.local_addr().unwrap());
    assert_eq!(peer, client.local_addr().unwrap());
    {
        let (rd, wr) = TcpStream::split(&mut conn);
        assert_eq!((rd.peer_addr().unwrap(), rd.local_addr().unwrap()), (peer, local));
        assert_eq!((wr.peer_addr().unwrap(), wr.local_addr().unwrap()), (peer, local));
    }
    let (rd, wr) = conn.into_split();
    assert_eq!((rd.peer_addr().unwrap(), rd.local_addr().unwrap()), (peer, local));
    assert_eq!((wr.peer_addr().unwrap(), wr.local_addr().unwrap()), (peer, local));

    let dir = TempDir::new("split-addr");
    let path = dir.0.join("sock");
    let listener = UnixListener::bind(&path).expect("bind");
    let client = UnixStream::connect(&path).await.expect("connect");
    let (mut conn, _) = timeout(LIMIT, listener.accept()).await.expect("accepted").expect("accept");
    let path = Some(path.as_path());
    {
        let (rd, wr) = UnixStream::split(&mut conn);
        assert_eq!(rd.local_addr().unwrap().as_pathname(), path);
        assert_eq!(wr.local_addr().unwrap().as_pathname(), path);
        assert!(rd.peer_addr().unwrap().is_unnamed() && wr.peer_addr().unwrap().is_unnamed());
    }
    let (rd, wr) = client.into_split();
    assert_eq!(rd.peer_addr().unwrap().as_pathname(), path);
    assert_eq!(wr.peer_addr().unwrap().as_pathname(), path);
    assert!(rd.local_addr().unwrap().is_unnamed() && wr.local_addr().unwrap().is_unnamed());
    drop(conn);
}
