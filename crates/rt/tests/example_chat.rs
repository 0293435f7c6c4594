//! `examples/chat.rs` driven by real TCP clients: fan-out order (three
//! clients on both flavors, fifty on two workers), a client that never
//! reads, a client gone mid-line, idle timeouts, and shutdown (by a
//! future, by `SIGTERM`, and past a stuck client).
//!
//! Every wait is bounded by [`WAIT`]; nothing sleeps to synchronise.

#[path = "../examples/chat.rs"]
#[allow(dead_code)]
mod chat;
mod rt_support;

use chat::{Config, Summary};
use rt_support::{both, bounded, rt};
use spindle_rt::io::{AsyncBufReadExt, BufReader, Lines};
use spindle_rt::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use spindle_rt::net::{TcpListener, TcpSocket, TcpStream};
use spindle_rt::sync::oneshot;
use spindle_rt::task::JoinHandle;
use spindle_rt::time::timeout;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The bound on every wait for a line, a connection or the server.
const WAIT: Duration = Duration::from_secs(5);

/// A chat client over a real socket.
struct Client {
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

impl Client {
    /// Connects and joins as `name`, returning once welcomed.
    async fn join(addr: SocketAddr, name: &str) -> Client {
        Client::join_on(TcpStream::connect(addr).await.expect("connect"), name).await
    }

    /// Joins as `name` over `stream`.
    async fn join_on(stream: TcpStream, name: &str) -> Client {
        let (reader, writer) = stream.into_split();
        let mut client = Client { lines: BufReader::new(reader).lines(), writer };
        client.say(name).await;
        assert_eq!(client.line().await, format!("* welcome {name}"));
        client
    }

    /// Sends one line.
    async fn say(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\n").as_bytes()).await.expect("write");
    }

    /// The next line, failing on end of stream or after [`WAIT`].
    async fn line(&mut self) -> String {
        self.try_line().await.expect("the server closed the connection")
    }

    /// The next line, or `None` at end of stream (or reset); fails after
    /// [`WAIT`].
    async fn try_line(&mut self) -> Option<String> {
        timeout(WAIT, self.lines.next_line()).await.expect("no line within the limit").ok().flatten()
    }

    /// Reads lines until one equals `want`; returns those before it.
    async fn until(&mut self, want: &str) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            let line = self.line().await;
            if line == want {
                return before;
            }
            before.push(line);
        }
    }
}

/// A server on `127.0.0.1:0` with `config`, stopped by the returned
/// sender (or by dropping it).
async fn start(config: Config) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<io::Result<Summary>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = spindle_rt::spawn(chat::serve(listener, config, async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

/// Stops the server and returns its summary, within [`WAIT`].
async fn stop(stop: oneshot::Sender<()>, server: JoinHandle<io::Result<Summary>>) -> Summary {
    let _ = stop.send(());
    timeout(WAIT, server).await.expect("shutdown within the limit").expect("server task").expect("serve")
}

#[test]
fn three_clients_see_each_others_lines_in_order_and_not_their_own() {
    bounded(|| {
        for (flavor, rt) in both() {
            rt.block_on(async {
                let (addr, stop_tx, server) = start(Config::default()).await;
                let mut a = Client::join(addr, "alice").await;
                let mut b = Client::join(addr, "bob").await;
                assert_eq!(a.line().await, "* bob joined");
                let mut c = Client::join(addr, "carol").await;
                assert_eq!(a.line().await, "* carol joined");
                assert_eq!(b.line().await, "* carol joined");

                // All three talk at once; each message is on the wire
                // before anyone reads.
                const N: usize = 60;
                for i in 0..N {
                    a.say(&format!("a{i}")).await;
                    b.say(&format!("b{i}")).await;
                    c.say(&format!("c{i}")).await;
                }
                for (me, client) in [("alice", &mut a), ("bob", &mut b), ("carol", &mut c)] {
                    let mut next = std::collections::HashMap::new();
                    for _ in 0..2 * N {
                        let line = client.line().await;
                        let (who, text) = line.split_once(": ").unwrap_or_else(|| panic!("{flavor}: {line}"));
                        assert_ne!(who, me, "{flavor}: {me} got its own line back");
                        let seq: usize = text[1..].parse().expect("a numbered line");
                        let expected = next.entry(who.to_owned()).or_insert(0);
                        assert_eq!(seq, *expected, "{flavor}: {me} saw {who}'s lines out of order");
                        *expected += 1;
                    }
                    assert_eq!(next.values().copied().collect::<Vec<_>>(), [N, N], "{flavor}: {me}");
                }

                // A private message reaches only its addressee.
                a.say("/msg carol psst").await;
                assert_eq!(c.line().await, "[alice] psst");
                b.say("/who").await;
                assert_eq!(
                    b.line().await,
                    "* online: alice, bob, carol",
                    "{flavor}: carol got nothing extra"
                );
                c.say("/who").await;
                assert_eq!(c.line().await, "* online: alice, bob, carol", "{flavor}");

                let summary = stop(stop_tx, server).await;
                assert_eq!(summary, Summary { accepted: 3, at_shutdown: 3, cancelled: 0 }, "{flavor}");
                for client in [&mut a, &mut b, &mut c] {
                    client.until("* server shutting down").await;
                    assert_eq!(
                        client.try_line().await,
                        None,
                        "{flavor}: the connection closes after the notice"
                    );
                }
            });
        }
    });
}

/// A client whose receive buffer is as small as the kernel allows, so
/// that a few hundred KiB it does not read stall its connection.
async fn small_window_client(addr: SocketAddr, name: &str) -> Client {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    Client::join_on(socket.connect(addr).await.expect("connect"), name).await
}

#[test]
fn a_client_that_never_reads_lags_and_does_not_stall_the_room() {
    bounded(|| {
        for (flavor, rt) in both() {
            rt.block_on(async {
                let config = Config { room_capacity: 128, ..Config::default() };
                let (addr, stop_tx, server) = start(config).await;
                let mut slow = small_window_client(addr, "slow").await;
                let mut talker = Client::join(addr, "talker").await;
                let mut listener = Client::join(addr, "listener").await;
                assert_eq!(talker.line().await, "* listener joined");

                // 6 MiB through the room (more than the server's send
                // buffer, which Linux grows to 4 MiB, and `slow`'s receive
                // buffer hold) in rounds the listener keeps up with (a
                // round is well under the room's capacity), while `slow`
                // reads nothing.
                let pad = "x".repeat(1024);
                const ROUNDS: usize = 60;
                const PER_ROUND: usize = 100;
                let started = Instant::now();
                for round in 0..ROUNDS {
                    let mut batch = String::new();
                    for i in 0..PER_ROUND {
                        batch.push_str(&format!("{} {pad}\n", round * PER_ROUND + i));
                    }
                    talker.writer.write_all(batch.as_bytes()).await.expect("write");
                    for i in 0..PER_ROUND {
                        let want = format!("talker: {} {pad}", round * PER_ROUND + i);
                        assert_eq!(listener.line().await, want, "{flavor}: the listener missed a line");
                    }
                }
                let room_time = started.elapsed();

                // Now `slow` reads: its first lines (the joins, unless its
                // task was scheduled late enough to lose them too), then
                // how many it missed, then the rest, in order and ending
                // with the last.
                let mut last = None::<usize>;
                let mut missed = 0u64;
                while last != Some(ROUNDS * PER_ROUND - 1) {
                    let line = slow.line().await;
                    if let Some(n) = line.strip_prefix("* missed ").and_then(|r| r.strip_suffix(" messages"))
                    {
                        missed += n.parse::<u64>().expect("a count");
                        continue;
                    }
                    if line.starts_with("* ") && line.ends_with(" joined") {
                        assert_eq!(last, None, "{flavor}: a join after the talk");
                        continue;
                    }
                    let text = line.strip_prefix("talker: ").unwrap_or_else(|| panic!("{flavor}: {line}"));
                    let seq: usize = text.split(' ').next().and_then(|s| s.parse().ok()).expect("numbered");
                    assert!(last.is_none_or(|l| seq > l), "{flavor}: {seq} after {last:?}");
                    last = Some(seq);
                }
                assert!(missed > 0, "{flavor}: the slow client never lagged: its buffers held all 6 MiB");
                eprintln!("{flavor}: room ran 6 MiB in {room_time:?}; the slow client missed {missed} lines");
                let summary = stop(stop_tx, server).await;
                assert_eq!(summary.cancelled, 0, "{flavor}");
            });
        }
    });
}

#[test]
fn a_client_stuck_writing_is_cancelled_after_the_grace_period() {
    bounded(|| {
        rt().block_on(async {
            let grace = Duration::from_millis(200);
            let (addr, stop_tx, server) = start(Config { grace, ..Config::default() }).await;
            let _stuck = small_window_client(addr, "stuck").await;
            let mut talker = Client::join(addr, "talker").await;
            // Fill the stuck client's socket (6 MiB: more than the server's
            // send buffer, which Linux grows to 4 MiB, and the client's
            // receive buffer): its task then waits in a write (for the 10 s
            // write timeout), where it cannot hear the shutdown.
            let line = format!("{}\n", "y".repeat(1024));
            for _ in 0..6 * 1024 {
                talker.writer.write_all(line.as_bytes()).await.expect("write");
            }
            talker.say("/who").await;
            // (The talker's own task may lag behind its own flood and say
            // how much it skipped: those were its own lines.)
            let before = talker.until("* online: stuck, talker").await;
            assert!(before.iter().all(|l| l.starts_with("* missed ")), "{before:?}");
            let begun = Instant::now();
            let summary = stop(stop_tx, server).await;
            assert_eq!(summary, Summary { accepted: 2, at_shutdown: 2, cancelled: 1 });
            assert!(begun.elapsed() >= grace, "cancelled before the grace period ended");
            talker.until("* server shutting down").await;
        });
    });
}

#[test]
fn a_client_gone_mid_line_or_reset_is_cleaned_up() {
    bounded(|| {
        for (flavor, rt) in both() {
            rt.block_on(async {
                let (addr, stop_tx, server) = start(Config::default()).await;
                let mut a = Client::join(addr, "alice").await;
                let mut c = Client::join(addr, "carol").await;
                assert_eq!(a.line().await, "* carol joined");
                // Half a line, then the connection closes: as with tokio's
                // `next_line`, the partial last line is still a line.
                c.writer.write_all(b"half a li").await.expect("write");
                drop(c);
                assert_eq!(a.line().await, "carol: half a li", "{flavor}");
                assert_eq!(a.line().await, "* carol left", "{flavor}");

                // A reset (linger 0) mid-line.
                let stream = TcpStream::connect(addr).await.expect("connect");
                stream.set_linger(Some(Duration::ZERO)).expect("linger");
                let mut d = Client::join_on(stream, "dave").await;
                assert_eq!(a.line().await, "* dave joined");
                d.writer.write_all(b"never fin").await.expect("write");
                drop(d);
                let after = a.until("* dave left").await;
                assert!(after.iter().all(|l| l == "dave: never fin"), "{flavor}: {after:?}");

                // The names are free again.
                a.say("/who").await;
                assert_eq!(a.line().await, "* online: alice", "{flavor}");
                let _c = Client::join(addr, "carol").await;
                let summary = stop(stop_tx, server).await;
                assert_eq!(summary, Summary { accepted: 4, at_shutdown: 2, cancelled: 0 }, "{flavor}");
            });
        }
    });
}

#[test]
fn a_silent_client_is_told_and_closed_after_the_idle_timeout() {
    bounded(|| {
        rt().block_on(async {
            let idle_timeout = Duration::from_millis(150);
            let (addr, stop_tx, server) = start(Config { idle_timeout, ..Config::default() }).await;
            let mut quiet = Client::join(addr, "quiet").await;
            let joined = Instant::now();
            // Room traffic does not count as the client's own activity.
            let mut chatty = Client::join(addr, "chatty").await;
            chatty.say("hello").await;
            assert_eq!(quiet.line().await, "* chatty joined");
            assert_eq!(quiet.line().await, "chatty: hello");
            assert_eq!(quiet.line().await, "* idle timeout");
            assert!(joined.elapsed() >= idle_timeout);
            assert_eq!(quiet.try_line().await, None);
            assert_eq!(stop(stop_tx, server).await.cancelled, 0);
        });
    });
}

/// Sends `signum` to this process.
fn kill_self(signum: libc::c_int) {
    let pid = libc::pid_t::try_from(std::process::id()).expect("pid fits");
    // SAFETY: kill has no memory-safety preconditions; the caller has a
    // listener (so a handler) installed for `signum` first.
    let ret = unsafe { libc::kill(pid, signum) };
    assert_eq!(ret, 0, "kill: {}", io::Error::last_os_error());
}

#[test]
fn sigterm_shuts_the_server_down_gracefully() {
    bounded(|| {
        rt_support::mt(2).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            // The only test in this file that sends a signal.
            let shutdown = chat::shutdown_signal().expect("listen for signals");
            let server = spindle_rt::spawn(chat::serve(listener, Config::default(), shutdown));
            let mut a = Client::join(addr, "alice").await;
            kill_self(libc::SIGTERM);
            assert_eq!(a.line().await, "* server shutting down");
            assert_eq!(a.try_line().await, None);
            let summary = timeout(WAIT, server).await.expect("shutdown").expect("task").expect("serve");
            assert_eq!(summary, Summary { accepted: 1, at_shutdown: 1, cancelled: 0 });
            // The listener is closed.
            assert!(TcpStream::connect(addr).await.is_err());
        });
    });
}

#[test]
fn fifty_clients_on_two_workers_each_see_every_other_line_in_order() {
    const CLIENTS: usize = 50;
    const LINES: usize = 20;
    bounded(|| {
        rt_support::mt(2).block_on(async {
            // Room for every line at once: nobody may lag here.
            let config = Config { room_capacity: 2 * CLIENTS * LINES, ..Config::default() };
            let (addr, stop_tx, server) = start(config).await;
            let mut clients = Vec::new();
            for i in 0..CLIENTS {
                clients.push(Client::join(addr, &format!("c{i}")).await);
            }
            // Everyone is in (each saw the last join) before anyone talks.
            let last = format!("* c{} joined", CLIENTS - 1);
            for client in &mut clients[..CLIENTS - 1] {
                client.until(&last).await;
            }
            let mut tasks = Vec::new();
            for (i, mut client) in clients.into_iter().enumerate() {
                tasks.push(spindle_rt::spawn(async move {
                    let all: String = (0..LINES).map(|n| format!("{n}\n")).collect();
                    client.writer.write_all(all.as_bytes()).await.expect("write");
                    let mut next = vec![0usize; CLIENTS];
                    for _ in 0..(CLIENTS - 1) * LINES {
                        let line = client.line().await;
                        let (who, n) = line.split_once(": ").unwrap_or_else(|| panic!("c{i}: {line}"));
                        let who: usize = who[1..].parse().expect("a client");
                        assert_ne!(who, i, "c{i} got its own line");
                        assert_eq!(n.parse::<usize>().expect("numbered"), next[who], "c{i}: from c{who}");
                        next[who] += 1;
                    }
                    client
                }));
            }
            let mut clients = Vec::new();
            for task in tasks {
                clients.push(task.await.expect("client"));
            }
            let summary = stop(stop_tx, server).await;
            assert_eq!(summary.at_shutdown, CLIENTS);
            assert_eq!(summary.cancelled, 0);
        });
    });
}
