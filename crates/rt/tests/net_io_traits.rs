//! The futures-io traits on the net stream types, driven through generic
//! code (`futures::io` helpers and a hand-written `poll_fn`), on every
//! backend. Every wait is bounded.

mod net_support;

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use net_support::{run, LIMIT};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::runtime::Backend;
use spindle_rt::spawn_local;
use spindle_rt::time::timeout;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;

on_backends!(
    read_to_end_and_write_all_through_the_traits,
    copy_echoes_through_generic_code,
    vectored_write_through_the_trait,
    close_shuts_the_write_side,
    flush_is_immediate,
);

/// A connected pair: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Generic over the trait only: what a codec or a TLS layer would write.
async fn send_framed<W: AsyncWrite + Unpin>(w: &mut W, msg: &[u8]) -> io::Result<()> {
    let len = (msg.len() as u32).to_be_bytes();
    w.write_all(&len).await?;
    w.write_all(msg).await?;
    w.flush().await
}

async fn recv_framed<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut len = [0; 4];
    r.read_exact(&mut len).await?;
    let mut msg = vec![0; u32::from_be_bytes(len) as usize];
    r.read_exact(&mut msg).await?;
    Ok(msg)
}

fn read_to_end_and_write_all_through_the_traits(backend: Backend) {
    run(backend, async {
        let (mut client, mut server) = pair().await;
        let data: Vec<u8> = (0..300_000).map(|i| (i % 253) as u8).collect();
        let expected = data.clone();
        let writer = spawn_local(async move {
            send_framed(&mut client, b"first").await.unwrap();
            send_framed(&mut client, &data).await.unwrap();
            AsyncWriteExt::close(&mut client).await.unwrap();
        });
        assert_eq!(recv_framed(&mut server).await.unwrap(), b"first");
        assert!(recv_framed(&mut server).await.unwrap() == expected);
        let mut rest = Vec::new();
        assert_eq!(AsyncReadExt::read_to_end(&mut server, &mut rest).await.unwrap(), 0);
        timeout(LIMIT, writer).await.unwrap().unwrap();
    });
}

fn copy_echoes_through_generic_code(backend: Backend) {
    run(backend, async {
        let (mut client, server) = pair().await;
        let echo = spawn_local(async move {
            let (mut r, mut w) = AsyncReadExt::split(server);
            let n = futures::io::copy(&mut r, &mut w).await.unwrap();
            w.close().await.unwrap();
            n
        });
        let data = vec![42u8; 100_000];
        let mut back = Vec::new();
        let reader = async {
            AsyncWriteExt::write_all(&mut client, &data).await.unwrap();
            AsyncWriteExt::close(&mut client).await.unwrap();
            AsyncReadExt::read_to_end(&mut client, &mut back).await.unwrap();
        };
        reader.await;
        assert!(back == data);
        assert_eq!(echo.await.unwrap(), data.len() as u64);
    });
}

fn vectored_write_through_the_trait(backend: Backend) {
    run(backend, async {
        let (mut client, mut server) = pair().await;
        let bufs = [IoSlice::new(b"abc"), IoSlice::new(b""), IoSlice::new(b"defg")];
        let n = poll_fn(|cx| Pin::new(&mut client).poll_write_vectored(cx, &bufs)).await.unwrap();
        assert_eq!(n, 7, "a small gathered write goes whole");
        let mut buf = [0; 7];
        AsyncReadExt::read_exact(&mut server, &mut buf).await.unwrap();
        assert_eq!(&buf, b"abcdefg");
    });
}

fn close_shuts_the_write_side(backend: Backend) {
    run(backend, async {
        let (mut client, mut server) = pair().await;
        poll_fn(|cx| Pin::new(&mut client).poll_close(cx)).await.unwrap();
        let mut buf = [0; 8];
        let n = poll_fn(|cx| Pin::new(&mut server).poll_read(cx, &mut buf)).await.unwrap();
        assert_eq!(n, 0, "the peer reads end of stream after close");
        // The read side of the closed stream still works.
        AsyncWriteExt::write_all(&mut server, b"late").await.unwrap();
        AsyncReadExt::read_exact(&mut client, &mut buf[..4]).await.unwrap();
        assert_eq!(&buf[..4], b"late");
    });
}

fn flush_is_immediate(backend: Backend) {
    run(backend, async {
        let (mut client, _server) = pair().await;
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(matches!(Pin::new(&mut client).poll_flush(&mut cx), std::task::Poll::Ready(Ok(()))));
    });
}
