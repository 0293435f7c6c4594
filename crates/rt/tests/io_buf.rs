//! `spindle_rt::io::{AsyncBufReadExt, BufReader, BufWriter, BufStream}`:
//! lines and records across chunk boundaries (in memory, where the chunks
//! are exact, and over real sockets), CRLF, cancel safety of `next_line`,
//! and when a `BufWriter` passes its bytes on.

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::io::{self, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufStream, BufWriter};
use spindle_rt::net::{TcpListener, TcpStream, UnixStream};
use spindle_rt::time::timeout;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(8);

/// Runs `f` on each runtime flavor, bounded.
fn on_both<F, Fut>(f: F)
where
    F: Fn() -> Fut + Send + Copy + 'static,
    Fut: Future<Output = io::Result<()>>,
{
    bounded(move || {
        for (name, rt) in both() {
            rt.block_on(async {
                timeout(LIMIT, f()).await.expect("in time").unwrap_or_else(|e| panic!("{name}: {e}"))
            });
        }
    });
}

/// Runs `f` on a current-thread runtime, bounded.
fn on_rt<Fut: Future<Output = ()>>(f: impl FnOnce() -> Fut + Send + 'static) {
    bounded(move || rt_support::rt().block_on(async { timeout(LIMIT, f()).await.expect("in time") }));
}

/// A reader that hands out the given chunks, one per read, each after a
/// `Pending` (it wakes itself), as a socket hands out what has arrived;
/// counts its reads.
struct Chunks {
    chunks: VecDeque<Vec<u8>>,
    ready: bool,
    reads: usize,
}

impl Chunks {
    fn new(chunks: &[&[u8]]) -> Chunks {
        Chunks { chunks: chunks.iter().map(|c| c.to_vec()).collect(), ready: false, reads: 0 }
    }
}

impl io::AsyncRead for Chunks {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if !std::mem::replace(&mut self.ready, false) {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.reads += 1;
        let Some(mut chunk) = self.chunks.pop_front() else { return Poll::Ready(Ok(0)) };
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            chunk.drain(..n);
            self.chunks.push_front(chunk);
        }
        Poll::Ready(Ok(n))
    }
}

/// Polls `fut` once.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
}

#[test]
fn lines_across_chunk_boundaries_with_crlf_split_between_chunks() {
    on_rt(|| async {
        let r = Chunks::new(&[b"al", b"pha\r", b"\nbe", b"ta\n\r\n", b"\n", b"a\rb\r\n", b"gam", b"ma"]);
        let mut lines = BufReader::new(r).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["alpha", "beta", "", "", "a\rb", "gamma"]);
        assert_eq!(lines.next_line().await.unwrap(), None, "still at the end");
    });
}

#[test]
fn a_tiny_buffer_still_finds_every_line() {
    on_rt(|| async {
        let text = "first line\r\nsecond\n\nfourth, a longer one than the buffer\n";
        let mut lines = BufReader::with_capacity(3, text.as_bytes()).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["first line", "second", "", "fourth, a longer one than the buffer"]);
    });
}

/// `next_line` keeps the partial line in the `Lines`: dropping its future
/// half way (a `select!` branch that lost) loses nothing.
#[test]
fn next_line_is_cancel_safe() {
    on_rt(|| async {
        let mut lines = BufReader::new(Chunks::new(&[b"hel", b"lo\nworld\n"])).lines();
        {
            let mut f = lines.next_line();
            assert!(poll_once(&mut f).await.is_pending()); // the reader is Pending
            assert!(poll_once(&mut f).await.is_pending()); // read "hel", then Pending
        }
        assert_eq!(lines.get_ref().buffer(), b"", "\"hel\" was taken into the Lines");
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("hello"));
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("world"));
    });
}

/// The same over a socket, raced against a timer the way a server races
/// a line against a shutdown signal: the line that was half read when the
/// timer won is whole on the next call.
#[test]
fn next_line_under_timeouts_over_a_socket() {
    on_both(|| async {
        let (mut a, b) = UnixStream::pair()?;
        let mut lines = BufReader::new(b).lines();
        a.write_all(b"hel").await?;
        assert!(timeout(Duration::from_millis(20), lines.next_line()).await.is_err(), "no newline yet");
        a.write_all(b"lo\r\nworld").await?;
        assert_eq!(lines.next_line().await?.as_deref(), Some("hello"));
        drop(a);
        assert_eq!(lines.next_line().await?.as_deref(), Some("world"));
        assert_eq!(lines.next_line().await?, None);
        Ok(())
    });
}

/// Many lines written in uneven pieces over TCP, read through a small
/// buffer so lines straddle both the writes and the buffer.
#[test]
fn many_lines_over_tcp_in_uneven_writes() {
    on_both(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let text: String = (0..500).map(|i| format!("line {i} {}\r\n", "x".repeat(i % 37))).collect();
        let send = text.clone();
        let writer = spindle_rt::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            s.set_nodelay(true)?;
            let mut rest = send.as_bytes();
            let mut step = 1;
            while !rest.is_empty() {
                let n = step.min(rest.len());
                s.write_all(&rest[..n]).await?;
                rest = &rest[n..];
                step = step * 7 % 101 + 1;
            }
            Ok::<_, io::Error>(())
        });
        let c = TcpStream::connect(addr).await?;
        let mut lines = BufReader::with_capacity(64, c).lines();
        let mut n = 0;
        while let Some(line) = lines.next_line().await? {
            assert_eq!(line, format!("line {n} {}", "x".repeat(n % 37)));
            n += 1;
        }
        assert_eq!(n, 500);
        writer.await.expect("writer ran")?;
        Ok(())
    });
}

#[test]
fn read_line_keeps_the_newline_and_appends() {
    on_rt(|| async {
        let mut r = BufReader::new(Chunks::new(&[b"one\r", b"\ntw", b"o"]));
        let mut s = String::from(">");
        assert_eq!(r.read_line(&mut s).await.unwrap(), 5);
        assert_eq!(s, ">one\r\n");
        assert_eq!(r.read_line(&mut s).await.unwrap(), 3);
        assert_eq!(s, ">one\r\ntwo");
        assert_eq!(r.read_line(&mut s).await.unwrap(), 0, "end of stream");
    });
}

#[test]
fn bad_utf8_is_invalid_data_and_the_next_line_still_reads() {
    on_rt(|| async {
        let mut s = String::from("kept");
        let mut r = BufReader::new(&b"bad \xFF\nok\n"[..]);
        let err = r.read_line(&mut s).await.expect_err("not UTF-8");
        assert_eq!((err.kind(), s.as_str()), (io::ErrorKind::InvalidData, "kept"));

        let mut lines = BufReader::new(&b"bad \xFF\nok\n"[..]).lines();
        let err = lines.next_line().await.expect_err("not UTF-8");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ok"));
    });
}

/// `read_until` appends as it goes: after a cancel, the bytes already
/// taken are in the caller's buffer and the next call finishes the record.
#[test]
fn read_until_and_split_across_chunks() {
    on_rt(|| async {
        let mut r = BufReader::new(Chunks::new(&[b"ab", b"c\0de", b"\0", b"f"]));
        let mut buf = Vec::new();
        {
            let mut f = r.read_until(0, &mut buf);
            assert!(poll_once(&mut f).await.is_pending());
            assert!(poll_once(&mut f).await.is_pending());
        }
        assert_eq!(buf, b"ab", "the cancelled call's bytes are kept");
        assert_eq!(r.read_until(0, &mut buf).await.unwrap(), 2);
        assert_eq!(buf, b"abc\0");

        let mut parts = r.split(0);
        assert_eq!(parts.next_segment().await.unwrap(), Some(b"de".to_vec()));
        assert_eq!(parts.next_segment().await.unwrap(), Some(b"f".to_vec()));
        assert_eq!(parts.next_segment().await.unwrap(), None);
    });
}

/// Small reads are served from one read of the inner reader; a read as
/// large as the buffer, with the buffer empty, goes straight through.
#[test]
fn buf_reader_batches_small_reads_and_passes_big_ones_through() {
    on_rt(|| async {
        let mut r = BufReader::with_capacity(16, Chunks::new(&[b"0123456789", &[b'x'; 40]]));
        let mut two = [0; 2];
        for want in [b"01", b"23", b"45", b"67", b"89"] {
            r.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, want);
        }
        assert_eq!(r.get_ref().reads, 1, "five reads, one underneath");
        let mut big = [0; 32];
        assert_eq!(r.read(&mut big).await.unwrap(), 32);
        assert_eq!(r.buffer(), b"", "not copied through the buffer");
        assert_eq!(r.get_ref().reads, 2);
    });
}

/// A `BufReader` around a socket still writes to it: read a request line,
/// answer on the same stream.
#[test]
fn buf_reader_passes_writes_through_and_buf_stream_does_both() {
    on_both(|| async {
        let (a, b) = UnixStream::pair()?;
        let mut client = BufReader::new(a);
        let server = spindle_rt::spawn(async move {
            let mut server = BufStream::new(b);
            let mut line = String::new();
            while server.read_line(&mut line).await? > 0 {
                server.write_all(line.to_uppercase().as_bytes()).await?;
                server.flush().await?;
                line.clear();
            }
            Ok::<_, io::Error>(())
        });
        for word in ["ping\n", "pong\n"] {
            client.write_all(word.as_bytes()).await?;
            let mut back = String::new();
            client.read_line(&mut back).await?;
            assert_eq!(back, word.to_uppercase());
        }
        client.shutdown().await?;
        server.await.expect("server ran")?;
        Ok(())
    });
}

/// A writer that records each write it gets.
#[derive(Default)]
struct Recorder {
    writes: Vec<Vec<u8>>,
    flushes: usize,
    closed: bool,
}

impl io::AsyncWrite for Recorder {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.writes.push(buf.to_vec());
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closed = true;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn buf_writer_gathers_small_writes_until_flush_and_shutdown() {
    on_rt(|| async {
        let mut w = BufWriter::with_capacity(16, Recorder::default());
        w.write_u8(b'+').await.unwrap();
        w.write_all(b"OK").await.unwrap();
        w.write_u16(0x0D0A).await.unwrap();
        assert!(w.get_ref().writes.is_empty(), "held in the buffer");
        w.flush().await.unwrap();
        assert_eq!(w.get_ref().writes, [b"+OK\r\n".to_vec()]);
        assert_eq!(w.get_ref().flushes, 1, "the inner writer is flushed too");

        // Filling past the capacity sends what was buffered first; a write
        // as large as the buffer then goes straight through.
        w.write_all(b"0123456789").await.unwrap();
        w.write_all(b"abcdefghijklmnopqrst").await.unwrap();
        assert_eq!(&w.get_ref().writes[1..], [b"0123456789".to_vec(), b"abcdefghijklmnopqrst".to_vec()]);

        w.write_all(b"tail").await.unwrap();
        w.shutdown().await.unwrap();
        assert_eq!(w.get_ref().writes.last().map(Vec::as_slice), Some(&b"tail"[..]));
        assert!(w.get_ref().closed, "shutdown flushes, then closes the inner writer");

        let mut v = BufWriter::with_capacity(16, Recorder::default());
        let bufs = [std::io::IoSlice::new(b"ab"), std::io::IoSlice::new(b"cd")];
        assert_eq!(AsyncWriteExt::write_vectored(&mut v, &bufs).await.unwrap(), 4);
        v.flush().await.unwrap();
        assert_eq!(v.get_ref().writes, [b"abcd".to_vec()]);
    });
}

/// Over a socket: nothing reaches the peer before `flush`; `shutdown`
/// sends the rest and then the end of the stream.
#[test]
fn buf_writer_over_a_socket_sends_on_flush_and_on_shutdown() {
    on_both(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut w = BufWriter::new(TcpStream::connect(addr).await?);
        let (mut peer, _) = listener.accept().await?;
        w.write_all(b"held").await?;
        let mut four = [0; 4];
        assert!(
            timeout(Duration::from_millis(20), peer.read(&mut four)).await.is_err(),
            "nothing is sent before flush"
        );
        w.flush().await?;
        peer.read_exact(&mut four).await?;
        assert_eq!(&four, b"held");
        w.write_all(b"last words").await?;
        w.shutdown().await?;
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest).await?;
        assert_eq!(rest, b"last words");
        Ok(())
    });
}

#[test]
fn buf_reader_seek_counts_from_what_the_caller_has_read() {
    on_rt(|| async {
        use futures::io::{AsyncSeekExt, Cursor};
        let mut r = BufReader::with_capacity(8, Cursor::new(b"0123456789abcdef".to_vec()));
        let mut two = [0; 2];
        r.read_exact(&mut two).await.unwrap();
        assert_eq!(r.buffer(), b"234567");
        assert_eq!(r.seek(io::SeekFrom::Current(3)).await.unwrap(), 5);
        r.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"56");
    });
}

#[test]
fn take_limits_a_buffered_reader_and_its_lines() {
    on_rt(|| async {
        let mut r = BufReader::new(&b"a\nb\nc\nd\n"[..]);
        let mut lines = (&mut r).take(4).lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("a"));
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("b"));
        assert_eq!(lines.next_line().await.unwrap(), None);
        let mut rest = String::new();
        r.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "c\nd\n");
    });
}

#[test]
fn the_futures_and_lines_are_unpin() {
    fn unpin<T: Unpin>(_: &T) {}
    let mut r = BufReader::new(&b""[..]);
    let mut s = String::new();
    let mut v = Vec::new();
    unpin(&r.read_line(&mut s));
    unpin(&r.read_until(b'\n', &mut v));
    let mut lines = r.lines();
    unpin(&lines.next_line());
    unpin(&lines);
}

/// tokio's `AsyncBufReadExt::fill_buf` and `consume`, as a hand-written
/// parser uses them: look at what is buffered (waiting while nothing is),
/// take part of it, and see the rest again on the next look; an empty
/// slice at the end of the stream.
#[test]
fn fill_buf_shows_the_buffer_and_consume_takes_from_it() {
    on_rt(|| async {
        let mut r = BufReader::with_capacity(4, Chunks::new(&[b"abcdef", b"gh"]));
        assert_eq!(r.fill_buf().await.expect("fill"), b"abcd", "capped by the capacity");
        r.consume(2);
        assert_eq!(r.fill_buf().await.expect("fill"), b"cd", "the rest of the buffer, no read");
        r.consume(2);
        assert_eq!(r.fill_buf().await.expect("fill"), b"ef");
        r.consume(2);
        assert_eq!(r.fill_buf().await.expect("fill"), b"gh");
        r.consume(1);
        let mut rest = String::new();
        r.read_to_string(&mut rest).await.expect("read");
        assert_eq!(rest, "h");
        assert!(r.fill_buf().await.expect("fill").is_empty(), "end of stream");
    });
}
