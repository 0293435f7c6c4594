//! `task::LocalSet` as tokio has it, on both runtime flavors: `!Send`
//! tasks (real `Rc<RefCell<..>>` state) with sockets and timers, woken
//! from other threads; `run_until`, `block_on`, awaiting the set, the free
//! `task::spawn_local` inside it, `enter`, fairness, and the drop.

mod rt_support;

use rt_support::{both, bounded, mt, panic_message, rt};
use spindle_rt as tokio;
use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader, Write};
use std::rc::Rc;
use std::time::Duration;
use tokio::task::{self, LocalSet};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn local_tasks_share_rc_state_with_io_and_timers_on_both_runtimes() {
    bounded(|| {
        for (name, rt) in both() {
            let local = LocalSet::new();
            let hits: Rc<RefCell<Vec<String>>> = Rc::default();
            let served = local.block_on(&rt, async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                // A real client on a plain thread: two connections, a line
                // each, read the answer back.
                let client = std::thread::spawn(move || {
                    (0..2)
                        .map(|i| {
                            let mut s = std::net::TcpStream::connect(addr).unwrap();
                            s.set_read_timeout(Some(WAIT)).unwrap();
                            writeln!(s, "client {i}").unwrap();
                            let mut answer = String::new();
                            BufReader::new(s).read_line(&mut answer).unwrap();
                            answer
                        })
                        .collect::<Vec<_>>()
                });
                let mut conns = Vec::new();
                for _ in 0..2 {
                    let (mut sock, _) = listener.accept().await.unwrap();
                    let hits = Rc::clone(&hits);
                    // `!Send`: holds an `Rc` across awaits.
                    conns.push(task::spawn_local(async move {
                        use tokio::io::AsyncBufReadExt;
                        let mut line = String::new();
                        let mut rd = tokio::io::BufReader::new(&mut sock);
                        rd.read_line(&mut line).await.unwrap();
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        hits.borrow_mut().push(line.trim().to_string());
                        let n = hits.borrow().len();
                        sock.write_all(format!("you are {n}\n").as_bytes()).await.unwrap();
                    }));
                }
                for c in conns {
                    c.await.unwrap();
                }
                let mut answers = client.join().unwrap();
                answers.sort();
                answers
            });
            assert_eq!(served, ["you are 1\n", "you are 2\n"], "{name}");
            let mut seen = hits.borrow().clone();
            seen.sort();
            assert_eq!(seen, ["client 0", "client 1"], "{name}");
        }
    });
}

#[test]
fn wakes_from_other_threads_reach_the_set() {
    bounded(|| {
        for (name, rt) in both() {
            let local = LocalSet::new();
            let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
            let state = Rc::new(Cell::new(0));
            let s = Rc::clone(&state);
            let (waiting_tx, waiting_rx) = std::sync::mpsc::channel::<()>();
            let waiter = local.spawn_local(async move {
                waiting_tx.send(()).unwrap();
                s.set(rx.await.unwrap());
                Rc::clone(&s)
            });
            // Sends once the task is about to wait: the wake comes from
            // this thread while the set's driver is (almost surely) parked.
            let sender = std::thread::spawn(move || {
                waiting_rx.recv_timeout(WAIT).unwrap();
                tx.send(7).unwrap();
            });
            let got = local.block_on(&rt, waiter).unwrap();
            sender.join().unwrap();
            assert_eq!(got.get(), 7, "{name}");
            assert_eq!(state.get(), 7, "{name}");
        }
    });
}

#[test]
fn awaiting_the_set_runs_every_task_to_the_end() {
    bounded(|| {
        for (name, rt) in both() {
            let local = LocalSet::new();
            let done = Rc::new(Cell::new(0));
            for i in 0..10u64 {
                let done = Rc::clone(&done);
                local.spawn_local(async move {
                    tokio::time::sleep(Duration::from_millis(i)).await;
                    // A task spawned by a task is awaited too.
                    let done2 = Rc::clone(&done);
                    task::spawn_local(async move {
                        tokio::task::yield_now().await;
                        done2.set(done2.get() + 1);
                    });
                    done.set(done.get() + 1);
                });
            }
            rt.block_on(local);
            assert_eq!(done.get(), 20, "{name}");
        }
    });
}

#[test]
fn tasks_left_by_run_until_stay_and_run_next_time() {
    bounded(|| {
        let rt = mt(2);
        let local = LocalSet::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let flag = Rc::new(Cell::new(false));
        let f = Rc::clone(&flag);
        let later = local.spawn_local(async move {
            rx.await.unwrap();
            f.set(true);
        });
        local.block_on(&rt, async { tokio::task::yield_now().await });
        assert!(!flag.get());
        tx.send(()).unwrap();
        local.block_on(&rt, later).unwrap();
        assert!(flag.get());
    });
}

#[test]
fn dropping_the_set_drops_its_tasks_on_this_thread() {
    bounded(|| {
        for (name, rt) in both() {
            struct Dropped(Rc<Cell<u32>>, std::thread::ThreadId);
            impl Drop for Dropped {
                fn drop(&mut self) {
                    assert_eq!(std::thread::current().id(), self.1, "dropped on the set's thread");
                    self.0.set(self.0.get() + 1);
                    // A destructor that spawns: cancelled at once, no panic.
                    drop(task::spawn_local(async {}));
                }
            }
            let drops = Rc::new(Cell::new(0));
            let local = LocalSet::new();
            let mut handles = Vec::new();
            for _ in 0..3 {
                let d = Dropped(Rc::clone(&drops), std::thread::current().id());
                handles.push(local.spawn_local(async move {
                    let _d = d;
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }));
            }
            // Started (each is waiting on its timer), then dropped.
            local.block_on(&rt, tokio::task::yield_now());
            assert_eq!(drops.get(), 0, "{name}");
            drop(local);
            assert_eq!(drops.get(), 3, "{name}");
            for h in handles {
                assert!(futures::executor::block_on(h).unwrap_err().is_cancelled(), "{name}");
            }
        }
    });
}

#[test]
fn a_busy_local_task_does_not_starve_the_runtime_and_vice_versa() {
    bounded(|| {
        for (name, rt) in both() {
            let local = LocalSet::new();
            let spins = Rc::new(Cell::new(0u64));
            let s = Rc::clone(&spins);
            local.spawn_local(async move {
                loop {
                    s.set(s.get() + 1);
                    tokio::task::yield_now().await;
                }
            });
            let got = local.block_on(&rt, async {
                // A runtime task, and a timer, make progress meanwhile.
                let other = tokio::spawn(async { 41 + 1 });
                tokio::time::sleep(Duration::from_millis(5)).await;
                other.await.unwrap()
            });
            assert_eq!(got, 42, "{name}");
            assert!(spins.get() > 1, "{name}: the local task ran too");
        }
    });
}

#[test]
fn spawn_local_outside_a_set_on_the_multi_thread_runtime_still_panics() {
    bounded(|| {
        let rt = mt(1);
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { drop(task::spawn_local(async {})) })
        }))
        .unwrap_err();
        assert!(panic_message(&*err).contains("`task::LocalSet`"), "{}", panic_message(&*err));
        // Inside a set the same call works, and a JoinSet's too.
        let local = LocalSet::new();
        let n = local.block_on(&rt, async {
            let rc = Rc::new(5);
            let mut set = task::JoinSet::new();
            let r = Rc::clone(&rc);
            set.spawn_local(async move { *r * 2 });
            let r = Rc::clone(&rc);
            let one = task::spawn_local(async move { *r }).await.unwrap();
            one + set.join_next().await.unwrap().unwrap()
        });
        assert_eq!(n, 15);
    });
}

#[test]
fn enter_makes_spawn_local_reach_the_set() {
    bounded(|| {
        let rt = mt(1);
        let local = LocalSet::new();
        let handle = {
            let _guard = local.enter();
            task::spawn_local(async { Rc::new(3) })
        };
        assert_eq!(*local.block_on(&rt, handle).unwrap(), 3);
    });
}

#[test]
fn task_ids_nest_when_a_task_drives_a_set() {
    bounded(|| {
        let rt = rt();
        let (outer_expected, outer_seen, inner_ok) = rt.block_on(async {
            let outer = task::spawn_local(async {
                let me = task::id();
                let local = LocalSet::new();
                let inner = local.spawn_local(async { task::id() });
                let inner_id = inner.id();
                let inner_ok = local.run_until(inner).await.unwrap() == inner_id && inner_id != me;
                (me, task::id(), inner_ok)
            });
            let expected = outer.id();
            let (me, after, ok) = outer.await.unwrap();
            assert_eq!(me, expected);
            (expected, after, ok)
        });
        assert_eq!(outer_seen, outer_expected, "the driving task's id is back after the set ran");
        assert!(inner_ok);
    });
}

#[test]
fn a_set_is_not_send() {
    // Compile-time: `LocalSet` is `!Send` and `!Sync` (a `compile_fail`
    // doctest says so); here only that the usual traits are there.
    fn dbg_default<T: std::fmt::Debug + Default>() {}
    dbg_default::<LocalSet>();
}

#[test]
fn many_cross_thread_wakes_and_aborts_from_other_threads() {
    bounded(|| {
        for (name, rt) in both() {
            let local = LocalSet::new();
            let total = Rc::new(Cell::new(0u64));
            let mut senders = Vec::new();
            let mut aborts = Vec::new();
            for i in 0..500u64 {
                let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
                let t = Rc::clone(&total);
                let h = local.spawn_local(async move {
                    let v = rx.await.unwrap();
                    t.set(t.get() + v);
                });
                if i % 5 == 0 {
                    // Aborted from another thread (a `JoinHandle<()>` is
                    // `Send`). Its sender lives until the set is done, so
                    // cancellation is the only way the task can end (with
                    // the sender dropped, a poll racing the abort would
                    // see the channel closed and finish first).
                    aborts.push((h, tx));
                } else {
                    senders.push((i, tx));
                }
            }
            let feeder = std::thread::spawn(move || {
                for (h, _tx) in &aborts {
                    h.abort();
                }
                for (i, tx) in senders {
                    tx.send(i).unwrap();
                }
                aborts
            });
            // Runs until every task finished: sent to, or aborted.
            rt.block_on(async { tokio::time::timeout(WAIT, local).await.unwrap() });
            let aborted = feeder.join().unwrap();
            for (h, _tx) in aborted {
                assert!(futures::executor::block_on(h).unwrap_err().is_cancelled(), "{name}");
            }
            let expected: u64 = (0..500u64).filter(|i| i % 5 != 0).sum();
            assert_eq!(total.get(), expected, "{name}");
        }
    });
}

#[test]
fn a_set_in_a_thread_local_is_dropped_at_thread_exit() {
    bounded(|| {
        let (tx, rx) = std::sync::mpsc::channel::<&'static str>();
        std::thread::spawn(move || {
            struct Report(std::sync::mpsc::Sender<&'static str>);
            impl Drop for Report {
                fn drop(&mut self) {
                    let _ = self.0.send("task dropped");
                }
            }
            thread_local! {
                static SET: LocalSet = LocalSet::new();
            }
            let rt = rt();
            SET.with(|set| {
                let report = Report(tx);
                set.spawn_local(async move {
                    let _report = report;
                    std::future::pending::<()>().await
                });
                set.block_on(&rt, tokio::task::yield_now());
            });
        })
        .join()
        .unwrap();
        assert_eq!(rx.recv_timeout(WAIT), Ok("task dropped"));
    });
}
