//! `select!` against tokio's documented rules: the first ready branch whose
//! pattern matches wins and the others are dropped; a pattern that does not
//! match disables its branch; preconditions; `else`; `biased;`; handlers'
//! control flow acting on the code around the macro; cancel-safe reads in a
//! loop losing no data. A tokio port's first `select!` did not compile.

mod rt_support;

use rt_support::{bounded, mt, rt};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::select;
use spindle_rt::sync::{mpsc, oneshot};
use spindle_rt::time::{sleep, Duration};
use std::future::{pending, ready};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// Counts drops, to see that the losing branches' futures are dropped.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn the_ready_branch_wins_and_the_others_are_dropped() {
    bounded(|| {
        rt().block_on(async {
            let drops = Arc::new(AtomicUsize::new(0));
            let guard = Dropped(Arc::clone(&drops));
            let slow = async move {
                let _guard = guard;
                pending::<u8>().await
            };
            let out = select! {
                n = slow => n,
                n = ready(7u8) => n + 1,
            };
            assert_eq!(out, 8);
            assert_eq!(drops.load(SeqCst), 1, "the losing future was dropped");
        });
    });
}

#[test]
fn a_pattern_that_does_not_match_disables_its_branch() {
    bounded(|| {
        rt().block_on(async {
            let (tx, mut rx) = mpsc::channel::<u8>(1);
            drop(tx);
            // `recv` gives `None` at once: `Some(n)` does not match, so the
            // sleep's branch wins a millisecond later.
            let out = select! {
                Some(n) = rx.recv() => n,
                _ = sleep(Duration::from_millis(1)) => 99,
            };
            assert_eq!(out, 99);
            // All disabled: `else`.
            let out = select! {
                Some(n) = rx.recv() => n,
                else => 5,
            };
            assert_eq!(out, 5);
        });
    });
}

#[test]
fn preconditions_else_and_a_panic_without_else() {
    bounded(|| {
        rt().block_on(async {
            let mut polled = false;
            let out = select! {
                _ = async { polled = true }, if false => 1,
                v = ready(2), if true => v,
            };
            assert_eq!(out, 2);
            assert!(!polled, "a disabled branch's future is not polled");
            let out = select! {
                v = ready(1), if 1 > 2 => v,
                else => 3,
            };
            assert_eq!(out, 3);
        });
        let caught = std::panic::catch_unwind(|| {
            rt().block_on(async {
                let never: Option<u8> = None;
                select! {
                    Some(v) = ready(never) => v,
                }
            })
        });
        let payload = caught.expect_err("no branch left and no else");
        let msg = payload.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(msg.contains("all branches are disabled"), "{msg}");
    });
}

#[test]
fn biased_polls_in_order_and_unbiased_spreads_the_wins() {
    bounded(|| {
        rt().block_on(async {
            for _ in 0..20 {
                let out = select! {
                    biased;
                    v = ready(1) => v,
                    v = ready(2) => v,
                };
                assert_eq!(out, 1);
            }
            let mut wins = [0; 2];
            for _ in 0..200 {
                let k = select! {
                    v = ready(0usize) => v,
                    v = ready(1usize) => v,
                };
                wins[k] += 1;
            }
            assert!(wins[0] > 20 && wins[1] > 20, "{wins:?}");
        });
    });
}

#[test]
fn handlers_break_continue_return_and_await_act_around_the_macro() {
    async fn first_even(mut rx: mpsc::Receiver<u32>) -> Option<u32> {
        loop {
            select! {
                Some(n) = rx.recv() => {
                    if n % 2 == 1 {
                        continue;
                    }
                    sleep(Duration::from_millis(1)).await;
                    return Some(n);
                }
                else => break,
            }
        }
        None
    }
    bounded(|| {
        rt().block_on(async {
            let (tx, rx) = mpsc::channel(8);
            for n in [1, 3, 4, 5] {
                tx.send(n).await.unwrap();
            }
            assert_eq!(first_even(rx).await, Some(4));
            let (tx, rx) = mpsc::channel(8);
            tx.send(1).await.unwrap();
            drop(tx);
            assert_eq!(first_even(rx).await, None);
        });
    });
}

#[test]
fn mut_and_ref_bindings_and_futures_kept_across_iterations() {
    bounded(|| {
        rt().block_on(async {
            let (done_tx, mut done_rx) = oneshot::channel::<()>();
            spindle_rt::spawn(async move {
                sleep(Duration::from_millis(5)).await;
                done_tx.send(()).unwrap();
            });
            let mut ticks = 0;
            loop {
                select! {
                    _ = &mut done_rx => break,
                    mut v = async { vec![1] } => {
                        v.push(2);
                        assert_eq!(v, [1, 2]);
                        ticks += 1;
                        sleep(Duration::from_millis(1)).await;
                    }
                }
            }
            assert!(ticks > 0);
            let (ref a, b) = select! { (ref a, b) = ready((String::from("x"), 2)) => (a.clone(), b) };
            assert_eq!((a.as_str(), b), ("x", 2));
        });
    });
}

#[test]
fn cancelled_reads_in_a_select_loop_lose_no_bytes_on_both_runtimes() {
    for multi in [false, true] {
        bounded(move || {
            let runtime = if multi { mt(2) } else { rt() };
            runtime.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
                let (mut server, _) = listener.accept().await.unwrap();
                let writer = spindle_rt::spawn(async move {
                    for i in 0..200u32 {
                        client.write_all(&i.to_be_bytes()).await.unwrap();
                        if i % 10 == 0 {
                            sleep(Duration::from_millis(1)).await;
                        }
                    }
                });
                let mut got = Vec::new();
                let mut buf = [0u8; 64];
                let mut timeouts = 0;
                while got.len() < 800 {
                    select! {
                        n = server.read(&mut buf) => got.extend_from_slice(&buf[..n.unwrap()]),
                        _ = sleep(Duration::from_micros(300)) => timeouts += 1,
                    }
                }
                let want: Vec<u8> = (0..200u32).flat_map(u32::to_be_bytes).collect();
                assert_eq!(got, want, "after {timeouts} timeouts");
                writer.await.unwrap();
            });
        });
    }
}
