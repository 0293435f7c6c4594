//! Many tasks waiting on one socket in the same direction (an
//! `Arc<TcpListener>` shared by an accept pool, an `Arc<UdpSocket>` shared
//! by receivers) must sleep while nothing happens, however many there are,
//! and each must still be woken by the events that concern it.
//!
//! The latch once bounded its list of wakers per direction (to keep the
//! wakers of dropped futures from piling up), and past 33 waiters the bound
//! woke the waiters it displaced; they re-registered at once, displacing
//! the others, who did the same: the runtime spun at full CPU on an idle
//! socket. Waiters now leave the list when dropped and nothing is bounded,
//! but the property stays worth checking: every waiter's polls are counted
//! while the main task yields a few hundred times with nothing happening.

mod rt_support;

use rt_support::{bounded, rt};
use spindle_rt::net::{TcpListener, TcpStream, UdpSocket};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Far more waiters than the latch's inline bound (32 extra wakers).
const WAITERS: usize = 100;

/// Counts every poll of the future it wraps into a shared counter.
struct Counted<F> {
    polls: Arc<AtomicUsize>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

fn counted<F: Future>(polls: &Arc<AtomicUsize>, inner: F) -> Counted<F> {
    Counted { polls: Arc::clone(polls), inner: Box::pin(inner) }
}

/// Yields `n` times: each yield gives every woken task one turn on the
/// current-thread runtime.
async fn yields(n: usize) {
    for _ in 0..n {
        spindle_rt::yield_now().await;
    }
}

/// Polls of the waiters while the main task yields 300 times on an idle
/// socket, once every waiter has parked (and any one-off settling of the
/// latch's list is over).
async fn idle_polls(polls: &AtomicUsize) -> usize {
    while polls.load(SeqCst) < WAITERS {
        yields(1).await;
    }
    yields(50).await;
    let before = polls.load(SeqCst);
    yields(300).await;
    polls.load(SeqCst) - before
}

#[test]
fn a_hundred_accepting_tasks_sleep_on_an_idle_listener() {
    bounded(|| {
        rt().block_on(async {
            let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let polls = Arc::new(AtomicUsize::new(0));
            let accepted = Arc::new(AtomicUsize::new(0));
            for _ in 0..WAITERS {
                let (listener, accepted) = (Arc::clone(&listener), Arc::clone(&accepted));
                spindle_rt::spawn(counted(&polls, async move {
                    listener.accept().await.unwrap();
                    accepted.fetch_add(1, SeqCst);
                }));
            }
            let idle = idle_polls(&polls).await;
            assert!(idle <= WAITERS, "{idle} polls of {WAITERS} parked acceptors on an idle listener");
            // Every acceptor is still reachable: each connection is taken.
            let mut clients = Vec::new();
            for _ in 0..WAITERS {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            while accepted.load(SeqCst) < WAITERS {
                spindle_rt::time::sleep(Duration::from_millis(1)).await;
            }
        });
    });
}

#[test]
fn a_hundred_receiving_tasks_sleep_and_each_gets_a_datagram() {
    bounded(|| {
        rt().block_on(async {
            let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = socket.local_addr().unwrap();
            let polls = Arc::new(AtomicUsize::new(0));
            let received = Arc::new(AtomicUsize::new(0));
            for _ in 0..WAITERS {
                let (socket, received) = (Arc::clone(&socket), Arc::clone(&received));
                spindle_rt::spawn(counted(&polls, async move {
                    let mut buf = [0; 8];
                    socket.recv_from(&mut buf).await.unwrap();
                    received.fetch_add(1, SeqCst);
                }));
            }
            let idle = idle_polls(&polls).await;
            assert!(idle <= WAITERS, "{idle} polls of {WAITERS} parked receivers on an idle socket");
            // One datagram at a time, each taken before the next is sent (so
            // none is lost to a full receive buffer): all receivers finish.
            let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            for k in 0..WAITERS {
                client.send_to(&[k as u8], addr).await.unwrap();
                while received.load(SeqCst) <= k {
                    yields(1).await;
                }
            }
        });
    });
}
