//! The ecosystem's IO traits, [`futures_io::AsyncRead`] and
//! [`futures_io::AsyncWrite`], for the net stream types.
//!
//! They let generic code (codecs, `futures::io::copy`, TLS and HTTP
//! libraries written against futures-io) drive spindle sockets. Each impl
//! forwards to the type's own `poll_*` method, so the trait path costs the
//! same as the inherent one; every type here is `Unpin`, so the `Pin` is
//! only unwrapped.
//!
//! * `poll_read`, `poll_write`, `poll_write_vectored`: the readiness loop
//!   of the type (`recv`; `send` and `sendmsg` with `MSG_NOSIGNAL`);
//! * `poll_flush`: `Ready(Ok(()))` at once: a socket has no user-space
//!   buffer, a write is in the kernel when it returns;
//! * `poll_close`: shuts down the write side (the peer reads end of
//!   stream); the descriptor itself closes on drop.

use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::split::SplitStream;
use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, UnixStream, WriteHalf};

/// Implements both traits for a type with inherent `poll_read`,
/// `poll_write`, `poll_write_vectored` (taking `&mut self`) and
/// `shutdown_std(&self, Shutdown)`.
macro_rules! stream_io_traits {
    ($($ty:ty),* $(,)?) => {$(
        impl futures_io::AsyncRead for $ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                <$ty>::poll_read(self.get_mut(), cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                <$ty>::poll_write(self.get_mut(), cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                <$ty>::poll_write_vectored(self.get_mut(), cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.get_mut().shutdown_std(Shutdown::Write))
            }
        }
    )*};
}

stream_io_traits!(TcpStream, UnixStream);

/// Implements `AsyncRead` for a read half (generic over its stream).
macro_rules! read_half {
    ($($ty:ty),*) => {$(
        impl<S: SplitStream> futures_io::AsyncRead for $ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.get_mut().poll_read(cx, buf)
            }
        }
    )*};
}

/// Implements `AsyncWrite` for a write half; `poll_close` shuts down the
/// write side, as on the whole stream.
macro_rules! write_half {
    ($($ty:ty),*) => {$(
        impl<S: SplitStream> futures_io::AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.get_mut().poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.get_mut().shutdown_write())
            }
        }
    )*};
}

read_half!(ReadHalf<'_, S>, OwnedReadHalf<S>);
write_half!(WriteHalf<'_, S>, OwnedWriteHalf<S>);
