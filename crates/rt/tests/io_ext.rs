//! `spindle_rt::io::{AsyncReadExt, AsyncWriteExt}`: tokio's read and
//! write methods on the futures-io types, over real sockets where the
//! behaviour is the socket's (end of stream, half-close), and over
//! in-memory readers where it is the method's (retries, limits).

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::io::{self, AsyncReadExt, AsyncWriteExt};
use spindle_rt::net::{TcpListener, TcpStream, UnixStream};
use spindle_rt::time::timeout;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(8);

/// Runs `f` on each runtime flavor, bounded.
fn on_both<F, Fut>(f: F)
where
    F: Fn() -> Fut + Send + Copy + 'static,
    Fut: std::future::Future<Output = io::Result<()>>,
{
    bounded(move || {
        for (name, rt) in both() {
            rt.block_on(async {
                timeout(LIMIT, f()).await.expect("in time").unwrap_or_else(|e| panic!("{name}: {e}"))
            });
        }
    });
}

#[test]
fn numbers_cross_a_socket_in_both_byte_orders() {
    on_both(|| async {
        let (mut a, mut b) = UnixStream::pair()?;
        a.write_u8(0xFE).await?;
        a.write_i8(-3).await?;
        a.write_u16(0x0102).await?;
        a.write_i16(-2).await?;
        a.write_u32(0x0102_0304).await?;
        a.write_i32(i32::MIN).await?;
        a.write_u64(0x0102_0304_0506_0708).await?;
        a.write_i64(-1_000_000_007).await?;
        a.write_u128(u128::MAX - 5).await?;
        a.write_i128(i128::MIN + 9).await?;
        a.write_f32(1.25).await?;
        a.write_f64(-0.5).await?;
        a.write_u16_le(0x0102).await?;
        a.write_i16_le(-300).await?;
        a.write_u32_le(0x0102_0304).await?;
        a.write_i32_le(-70_000).await?;
        a.write_u64_le(0x0102_0304_0506_0708).await?;
        a.write_i64_le(i64::MIN).await?;
        a.write_u128_le(1 << 100).await?;
        a.write_i128_le(-(1 << 90)).await?;
        a.write_f32_le(f32::MAX).await?;
        a.write_f64_le(std::f64::consts::PI).await?;
        // A marker, and the exact bytes of a few, as they go on the wire.
        a.write_u32(0x0A0B_0C0D).await?;
        a.write_u32_le(0x0A0B_0C0D).await?;
        a.write_i16(-2).await?;

        assert_eq!(b.read_u8().await?, 0xFE);
        assert_eq!(b.read_i8().await?, -3);
        assert_eq!(b.read_u16().await?, 0x0102);
        assert_eq!(b.read_i16().await?, -2);
        assert_eq!(b.read_u32().await?, 0x0102_0304);
        assert_eq!(b.read_i32().await?, i32::MIN);
        assert_eq!(b.read_u64().await?, 0x0102_0304_0506_0708);
        assert_eq!(b.read_i64().await?, -1_000_000_007);
        assert_eq!(b.read_u128().await?, u128::MAX - 5);
        assert_eq!(b.read_i128().await?, i128::MIN + 9);
        assert_eq!(b.read_f32().await?, 1.25);
        assert_eq!(b.read_f64().await?, -0.5);
        assert_eq!(b.read_u16_le().await?, 0x0102);
        assert_eq!(b.read_i16_le().await?, -300);
        assert_eq!(b.read_u32_le().await?, 0x0102_0304);
        assert_eq!(b.read_i32_le().await?, -70_000);
        assert_eq!(b.read_u64_le().await?, 0x0102_0304_0506_0708);
        assert_eq!(b.read_i64_le().await?, i64::MIN);
        assert_eq!(b.read_u128_le().await?, 1 << 100);
        assert_eq!(b.read_i128_le().await?, -(1 << 90));
        assert_eq!(b.read_f32_le().await?, f32::MAX);
        assert_eq!(b.read_f64_le().await?, std::f64::consts::PI);
        let mut wire = [0; 10];
        b.read_exact(&mut wire).await?;
        assert_eq!(wire, [0x0A, 0x0B, 0x0C, 0x0D, 0x0D, 0x0C, 0x0B, 0x0A, 0xFF, 0xFE]);
        Ok(())
    });
}

/// A number split over several writes (and so several reads) is put back
/// together: the future keeps the bytes it has while it waits.
#[test]
fn a_number_arriving_in_pieces_is_assembled() {
    on_both(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let writer = spindle_rt::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            s.set_nodelay(true)?;
            for byte in 0x0102_0304_0506_0708u64.to_le_bytes() {
                s.write_all(&[byte]).await?;
                spindle_rt::task::yield_now().await;
            }
            Ok::<_, io::Error>(())
        });
        let mut c = TcpStream::connect(addr).await?;
        assert_eq!(c.read_u64_le().await?, 0x0102_0304_0506_0708);
        writer.await.expect("writer ran")?;
        Ok(())
    });
}

#[test]
fn read_exact_returns_the_length_and_unexpected_eof_when_the_peer_closes_early() {
    on_both(|| async {
        let (mut a, mut b) = UnixStream::pair()?;
        a.write_all(b"abcdefg").await?;
        drop(a);
        let mut four = [0; 4];
        // Through the trait, as generic code calls it...
        assert_eq!(AsyncReadExt::read_exact(&mut b, &mut four).await?, 4);
        assert_eq!(&four, b"abcd");
        // ...and the stream's own method, which now returns the length too.
        let mut two = [0; 2];
        let n: usize = b.read_exact(&mut two).await?;
        assert_eq!((n, &two), (2, b"ef"));
        let err = AsyncReadExt::read_exact(&mut b, &mut four).await.expect_err("one byte left, four asked");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let err = b.read_u32().await.expect_err("at the end");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        Ok(())
    });
}

#[test]
fn read_to_end_and_read_to_string_gather_every_write_until_the_close() {
    on_both(|| async {
        let (mut a, mut b) = UnixStream::pair()?;
        let writer = spindle_rt::spawn(async move {
            for i in 0..50u32 {
                a.write_all(format!("{i:04}|").as_bytes()).await?;
                spindle_rt::task::yield_now().await;
            }
            Ok::<_, io::Error>(())
        });
        let mut text = String::from(">");
        let n = b.read_to_string(&mut text).await?;
        writer.await.expect("writer ran")?;
        assert_eq!(n, 250);
        let want: String = (0..50).map(|i| format!("{i:04}|")).collect();
        assert_eq!(text, format!(">{want}"));

        let (mut a, mut b) = UnixStream::pair()?;
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let send = big.clone();
        let writer = spindle_rt::spawn(async move { a.write_all(&send).await });
        let mut got = vec![9];
        assert_eq!(b.read_to_end(&mut got).await?, big.len());
        writer.await.expect("writer ran")?;
        assert_eq!((got[0], &got[1..]), (9, &big[..]));
        Ok(())
    });
}

#[test]
fn read_to_string_refuses_bad_utf8_and_leaves_the_string_alone() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let mut text = String::from("kept");
            let mut bad: &[u8] = b"ok \xFF\xFE";
            let err = bad.read_to_string(&mut text).await.expect_err("not UTF-8");
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert_eq!(text, "kept");
        });
    });
}

/// A reader that fails with `Interrupted` before each byte.
struct Flaky<'a> {
    data: &'a [u8],
    interrupt: bool,
}

impl io::AsyncRead for Flaky<'_> {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Poll::Ready(Err(io::ErrorKind::Interrupted.into()));
        }
        let n = buf.len().min(self.data.len()).min(1);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

#[test]
fn interrupted_reads_are_retried() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let mut r = Flaky { data: b"\x00\x00\x01\x00rest", interrupt: false };
            assert_eq!(r.read_u32().await.unwrap(), 256);
            let mut s = String::new();
            r.read_to_string(&mut s).await.unwrap();
            assert_eq!(s, "rest");
        });
    });
}

#[test]
fn take_stops_at_its_limit_and_leaves_the_rest_in_the_stream() {
    on_both(|| async {
        let (mut a, mut b) = UnixStream::pair()?;
        a.write_all(b"\x00\x05helloNEXT").await?;
        drop(a);
        let len = b.read_u16().await?;
        let mut body = (&mut b).take(u64::from(len));
        let mut got = Vec::new();
        body.read_to_end(&mut got).await?;
        assert_eq!((got.as_slice(), body.limit()), (&b"hello"[..], 0));
        let mut rest = String::new();
        b.read_to_string(&mut rest).await?;
        assert_eq!(rest, "NEXT");
        Ok(())
    });
}

#[test]
fn chain_reads_one_reader_then_the_other() {
    on_both(|| async {
        let (mut a, b) = UnixStream::pair()?;
        a.write_all(b" from the socket").await?;
        drop(a);
        let mut joined = (&b"header"[..]).chain(b);
        let mut s = String::new();
        joined.read_to_string(&mut s).await?;
        assert_eq!(s, "header from the socket");
        Ok(())
    });
}

/// `shutdown` is the write side's close: the peer reads the end of the
/// stream, and the side that shut down still reads the peer's answer.
#[test]
fn shutdown_half_closes_a_tcp_stream_and_the_answer_still_arrives() {
    on_both(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = spindle_rt::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            let mut req = Vec::new();
            s.read_to_end(&mut req).await?;
            s.write_all(format!("got {} bytes", req.len()).as_bytes()).await?;
            Ok::<_, io::Error>(())
        });
        let mut c = TcpStream::connect(addr).await?;
        let (mut rd, mut wr) = c.split();
        wr.write_all(&[7; 1000]).await?;
        AsyncWriteExt::flush(&mut wr).await?;
        // The half's own `shutdown` (tokio's `wr.shutdown().await`)...
        wr.shutdown().await?;
        let mut answer = String::new();
        rd.read_to_string(&mut answer).await?;
        assert_eq!(answer, "got 1000 bytes");
        server.await.expect("server ran")?;

        // ...and the trait's, on a whole stream.
        let (mut a, mut b) = UnixStream::pair()?;
        AsyncWriteExt::shutdown(&mut a).await?;
        assert_eq!(AsyncReadExt::read(&mut b, &mut [0; 4]).await?, 0);
        b.write_all(b"late").await?;
        let mut late = [0; 4];
        a.read_exact(&mut late).await?;
        assert_eq!(&late, b"late");
        Ok(())
    });
}

#[test]
fn write_and_write_vectored_report_what_was_taken() {
    on_both(|| async {
        let (mut a, mut b) = UnixStream::pair()?;
        let n = AsyncWriteExt::write(&mut a, b"one").await?;
        assert_eq!(n, 3);
        let bufs = [std::io::IoSlice::new(b"two"), std::io::IoSlice::new(b"three")];
        let n = AsyncWriteExt::write_vectored(&mut a, &bufs).await?;
        assert_eq!(n, 8);
        drop(a);
        let mut s = String::new();
        b.read_to_string(&mut s).await?;
        assert_eq!(s, "onetwothree");
        Ok(())
    });
}

/// A writer that takes at most `per_call` bytes a call and is `Pending`
/// every other call (waking itself), to drive the futures' resumption.
struct Trickle {
    got: Vec<u8>,
    per_call: usize,
    stall: bool,
}

impl io::AsyncWrite for Trickle {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.stall = !self.stall;
        if self.stall {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = buf.len().min(self.per_call);
        self.got.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn write_all_and_numbers_resume_across_short_and_pending_writes() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let mut w = Trickle { got: Vec::new(), per_call: 3, stall: false };
            w.write_all(b"0123456789").await.unwrap();
            w.write_u128(0x0011_2233_4455_6677_8899_AABB_CCDD_EEFF).await.unwrap();
            w.write_i32_le(-1).await.unwrap();
            let mut want = b"0123456789".to_vec();
            want.extend_from_slice(&0x0011_2233_4455_6677_8899_AABB_CCDD_EEFFu128.to_be_bytes());
            want.extend_from_slice(&[0xFF; 4]);
            assert_eq!(w.got, want);

            let mut zero = Trickle { got: Vec::new(), per_call: 0, stall: true };
            let err = zero.write_all(b"x").await.expect_err("a writer that takes nothing");
            assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        });
    });
}

/// The futures are `Unpin` and small: they can be polled by hand and kept
/// in a struct, as tokio's can.
#[test]
fn the_futures_are_unpin() {
    fn unpin<T: Unpin>(_: &T) {}
    let mut r: &[u8] = b"";
    let mut w = io::sink();
    let mut buf = [0; 4];
    let mut v = Vec::new();
    let mut s = String::new();
    unpin(&r.read(&mut buf));
    unpin(&r.read_exact(&mut buf));
    unpin(&r.read_u64());
    unpin(&r.read_to_end(&mut v));
    unpin(&r.read_to_string(&mut s));
    unpin(&w.write(b"x"));
    unpin(&w.write_all(b"x"));
    unpin(&w.write_f64_le(1.0));
    unpin(&w.flush());
    unpin(&w.shutdown());
    assert!(std::mem::size_of_val(&r.read_u128()) <= 48);
}

#[test]
fn empty_sink_and_repeat() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let mut v = Vec::new();
            assert_eq!(io::empty().read_to_end(&mut v).await.unwrap(), 0);
            let mut e = io::empty();
            e.write_all(b"dropped").await.unwrap();
            let mut sink = io::sink();
            sink.write_all(&[1; 100_000]).await.unwrap();
            let n = io::copy(&mut io::repeat(b'z').take(70_000), &mut sink).await.unwrap();
            assert_eq!(n, 70_000);
            let mut five = [0; 5];
            io::repeat(b'z').read_exact(&mut five).await.unwrap();
            assert_eq!(&five, b"zzzzz");
        });
    });
}

/// Generic code written against tokio's names: `io::AsyncRead` bounds and
/// `io::Result`.
async fn sum_u16s<R: io::AsyncRead + Unpin>(mut r: R) -> io::Result<u32> {
    let mut total = 0;
    loop {
        match r.read_u16().await {
            Ok(n) => total += u32::from(n),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(total),
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn generic_code_bound_on_tokio_names() {
    on_both(|| async {
        let (mut a, b) = UnixStream::pair()?;
        for n in [1u16, 2, 300, 65535] {
            a.write_u16(n).await?;
        }
        drop(a);
        assert_eq!(sum_u16s(b).await?, 65838);
        Ok(())
    });
}

/// A reader that is `Pending` every other poll and records the size of
/// each buffer it is offered.
struct Offers {
    sizes: Vec<usize>,
    left: usize,
    stall: bool,
}

impl io::AsyncRead for Offers {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.sizes.push(buf.len());
        self.stall = !self.stall;
        if self.stall {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = buf.len().min(self.left).min(1000);
        self.left -= n;
        Poll::Ready(Ok(n))
    }
}

/// `read_to_end` into a vector with a large spare capacity offers bounded
/// reads (it zeroes what it offers, on every poll, `Pending` ones too),
/// and still uses the capacity it was given.
#[test]
fn read_to_end_offers_bounded_reads_into_a_large_spare_capacity() {
    bounded(|| {
        rt_support::rt().block_on(async {
            let mut r = Offers { sizes: Vec::new(), left: 5000, stall: false };
            let mut v = Vec::with_capacity(8 << 20);
            assert_eq!(r.read_to_end(&mut v).await.unwrap(), 5000);
            assert!(r.sizes.iter().all(|&n| n <= 64 * 1024), "offered {:?}", &r.sizes[..4]);
            assert_eq!(v.capacity(), 8 << 20, "no reallocation");
        });
    });
}
