//! A line-based chat server on spindle-rt, written as a tokio user writes
//! one: an accept loop, a task per client, a broadcast channel for the
//! room, a per-client mpsc for private messages, `select!`, idle
//! timeouts, and a graceful shutdown on Ctrl-C or `SIGTERM`.
//!
//! ```text
//! cargo run -p spindle-rt --example chat -- 127.0.0.1:7880
//! nc 127.0.0.1 7880        # first line: your name; then chat
//! ```
//!
//! The protocol, one line each way:
//!
//! * the first line a client sends is its name; the server answers
//!   `* welcome NAME` (or `* name taken` and waits for another);
//! * a line is sent to everyone else as `NAME: LINE`; joins and leaves
//!   are announced as `* NAME joined` and `* NAME left`;
//! * `/who` answers `* online: A, B, ...` (sorted), `/msg NAME TEXT` sends
//!   `[FROM] TEXT` to one client only, `/quit` says `* bye` and closes;
//! * a client that falls more than the room's capacity behind (it does
//!   not read) is told `* missed N messages` when it catches up, and the
//!   room never waits for it;
//! * a client silent for the idle timeout is told `* idle timeout` and
//!   closed;
//! * on shutdown every client is told `* server shutting down` and closed;
//!   the server waits for the clients' tasks up to a grace period, then
//!   cancels the rest.
//!
//! `serve` is the server, given a listener, a [`Config`] and a shutdown
//! future; `main` passes [`shutdown_signal`]. The integration test
//! `tests/example_chat.rs` includes this file and drives `serve` with real
//! TCP clients.

use spindle_rt::io::{AsyncBufReadExt, BufReader};
use spindle_rt::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::signal::unix::{signal, SignalKind};
use spindle_rt::sync::broadcast::error::RecvError;
use spindle_rt::sync::{broadcast, mpsc, watch};
use spindle_rt::task::JoinSet;
use spindle_rt::time::{timeout, timeout_at, Instant};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The server's knobs.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a client may stay silent before it is disconnected.
    pub idle_timeout: Duration,
    /// How many room messages the broadcast channel keeps for a client
    /// that has not read them yet.
    pub room_capacity: usize,
    /// How many private messages wait for one client.
    pub inbox_capacity: usize,
    /// How long one write to a client may take (a client that reads
    /// nothing for this long is disconnected).
    pub write_timeout: Duration,
    /// How long shutdown waits for the clients' tasks before cancelling
    /// them.
    pub grace: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            idle_timeout: Duration::from_secs(300),
            room_capacity: 256,
            inbox_capacity: 32,
            write_timeout: Duration::from_secs(10),
            grace: Duration::from_secs(5),
        }
    }
}

/// What a finished [`serve`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Clients accepted over the server's life.
    pub accepted: usize,
    /// Client tasks still running when shutdown began.
    pub at_shutdown: usize,
    /// Of those, how many did not finish within the grace period and were
    /// cancelled.
    pub cancelled: usize,
}

/// A room message: who sent it (so the sender skips its own) and the line.
#[derive(Debug, Clone)]
struct RoomMsg {
    from: u64,
    line: Arc<str>,
}

/// What every client task shares.
struct Shared {
    config: Config,
    room: broadcast::Sender<RoomMsg>,
    /// The online clients' names and inboxes.
    directory: Mutex<HashMap<String, mpsc::Sender<String>>>,
    /// Flips to `true` when the server shuts down.
    stop: watch::Receiver<bool>,
}

impl Shared {
    fn directory(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<String>>> {
        self.directory.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Serves chat clients from `listener` until `shutdown` completes, then
/// tells every client, waits up to `config.grace` for their tasks, and
/// cancels what is left.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Summary> {
    let room = broadcast::Sender::new(config.room_capacity);
    let (stop_tx, stop) = watch::channel(false);
    let grace = config.grace;
    let shared = Arc::new(Shared { config, room, directory: Mutex::new(HashMap::new()), stop });
    let mut clients = JoinSet::new();
    let mut accepted = 0;
    let mut next_id = 0u64;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        spindle_rt::select! {
            conn = listener.accept() => match conn {
                Ok((stream, _peer)) => {
                    accepted += 1;
                    next_id += 1;
                    clients.spawn(client(stream, next_id, Arc::clone(&shared)));
                }
                // Out of descriptors, a connection reset before accept...:
                // keep serving the others.
                Err(e) => eprintln!("accept: {e}"),
            },
            // Reap finished clients so the set does not grow forever.
            Some(done) = clients.join_next() => {
                if let Err(e) = done {
                    eprintln!("client task failed: {e}");
                }
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    // Reap the clients that are done but not yet joined, so the count is
    // of the sessions still open.
    while let Some(done) = clients.try_join_next() {
        if let Err(e) = done {
            eprintln!("client task failed: {e}");
        }
    }
    let at_shutdown = clients.len();
    let _ = stop_tx.send(true);
    let drained = timeout(grace, async {
        while let Some(done) = clients.join_next().await {
            if let Err(e) = done {
                eprintln!("client task failed: {e}");
            }
        }
    })
    .await;
    let cancelled = clients.len();
    if drained.is_err() {
        clients.shutdown().await;
    }
    Ok(Summary { accepted, at_shutdown, cancelled })
}

/// Why a client's session ended.
enum End {
    /// The client closed, quit, idled out or stopped reading.
    Gone,
    /// The server is shutting down.
    Shutdown,
}

/// One client: its name, then the session, then the goodbye.
async fn client(stream: TcpStream, id: u64, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.into_split();
    let mut conn = Conn { lines: BufReader::new(reader).lines(), writer, shared };
    let mut stop = conn.shared.stop.clone();
    let name = spindle_rt::select! {
        name = conn.register() => name,
        _ = stop.changed() => None,
    };
    let Some((name, inbox)) = name else {
        let _ = conn.send("* server shutting down").await;
        return;
    };
    let end = conn.session(id, &name, inbox, &mut stop).await;
    conn.shared.directory().remove(&name);
    let _ = conn.shared.room.send(RoomMsg { from: id, line: format!("* {name} left").into() });
    if let End::Shutdown = end {
        let _ = conn.send("* server shutting down").await;
    }
    // Dropping the halves closes the connection.
}

/// A client's connection: its lines in, its writes out.
struct Conn {
    lines: spindle_rt::io::Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
    shared: Arc<Shared>,
}

impl Conn {
    /// Writes `line` and a newline, within the write timeout.
    async fn send(&mut self, line: &str) -> io::Result<()> {
        let mut out = String::with_capacity(line.len() + 1);
        out.push_str(line);
        out.push('\n');
        match timeout(self.shared.config.write_timeout, self.writer.write_all(out.as_bytes())).await {
            Ok(written) => written,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "the client reads nothing")),
        }
    }

    /// Reads lines until one is a free name; registers it with a new
    /// inbox. `None` if the client leaves (or idles) first.
    async fn register(&mut self) -> Option<(String, mpsc::Receiver<String>)> {
        loop {
            let line = timeout(self.shared.config.idle_timeout, self.lines.next_line()).await;
            let name = line.ok()?.ok()??.trim().to_owned();
            if name.is_empty() || name.contains(char::is_whitespace) || name.starts_with(['*', '/', '[']) {
                self.send("* a name is one word").await.ok()?;
                continue;
            }
            let (tx, rx) = mpsc::channel(self.shared.config.inbox_capacity);
            let free = {
                let mut directory = self.shared.directory();
                let free = !directory.contains_key(&name);
                if free {
                    directory.insert(name.clone(), tx);
                }
                free
            };
            if free {
                return Some((name, rx));
            }
            self.send("* name taken").await.ok()?;
        }
    }

    /// The chat itself: the client's lines, the room, the inbox and the
    /// stop signal, whichever comes first, until one ends it.
    async fn session(
        &mut self,
        id: u64,
        name: &str,
        mut inbox: mpsc::Receiver<String>,
        stop: &mut watch::Receiver<bool>,
    ) -> End {
        // Subscribe before the welcome, so that a client that has read its
        // welcome sees every message sent after it.
        let mut room = self.shared.room.subscribe();
        if self.send(&format!("* welcome {name}")).await.is_err() {
            return End::Gone;
        }
        let _ = self.shared.room.send(RoomMsg { from: id, line: format!("* {name} joined").into() });
        let mut idle_deadline = Instant::now() + self.shared.config.idle_timeout;
        loop {
            let sent = spindle_rt::select! {
                // `next_line` is cancel safe: a line half read when another
                // branch wins stays buffered for the next turn.
                line = timeout_at(idle_deadline, self.lines.next_line()) => match line {
                    Err(_elapsed) => {
                        let _ = self.send("* idle timeout").await;
                        return End::Gone;
                    }
                    // End of stream (a partial last line came as a line
                    // before it) or an error such as a reset: gone.
                    Ok(Ok(None) | Err(_)) => return End::Gone,
                    Ok(Ok(Some(line))) => {
                        idle_deadline = Instant::now() + self.shared.config.idle_timeout;
                        match self.command(id, name, &line) {
                            Some(reply) => self.send(&reply).await,
                            None if line.trim() == "/quit" => {
                                let _ = self.send("* bye").await;
                                return End::Gone;
                            }
                            None => Ok(()),
                        }
                    }
                },
                msg = room.recv() => match msg {
                    Ok(msg) if msg.from == id => Ok(()),
                    Ok(msg) => self.send(&msg.line).await,
                    // This client fell behind (it was not reading); the
                    // room went on without it.
                    Err(RecvError::Lagged(n)) => self.send(&format!("* missed {n} messages")).await,
                    Err(RecvError::Closed) => return End::Shutdown,
                },
                Some(private) = inbox.recv() => self.send(&private).await,
                // The only change is to `true`; a dropped sender means the same.
                _ = stop.changed() => return End::Shutdown,
            };
            if sent.is_err() {
                return End::Gone;
            }
        }
    }

    /// Handles a line that is a command or a message; returns the reply
    /// to this client, if any. `/quit` is the caller's.
    fn command(&self, id: u64, name: &str, line: &str) -> Option<String> {
        if line.trim() == "/who" {
            let mut names: Vec<String> = self.shared.directory().keys().cloned().collect();
            names.sort();
            return Some(format!("* online: {}", names.join(", ")));
        }
        if line.trim() == "/quit" {
            return None;
        }
        if let Some(rest) = line.strip_prefix("/msg ") {
            let (to, text) = rest.split_once(' ').unwrap_or((rest, ""));
            let inbox = self.shared.directory().get(to).cloned();
            return match inbox.map(|tx| tx.try_send(format!("[{name}] {text}"))) {
                None => Some(format!("* no such user: {to}")),
                Some(Ok(())) => None,
                Some(Err(_)) => Some(format!("* {to} is not keeping up")),
            };
        }
        let _ = self.shared.room.send(RoomMsg { from: id, line: format!("{name}: {line}").into() });
        None
    }
}

/// Completes on Ctrl-C (`SIGINT`) or `SIGTERM`. The listeners are set up
/// before this returns, so a signal from then on stops the server instead
/// of killing the process.
///
/// # Errors
/// If a signal cannot be listened for.
pub fn shutdown_signal() -> io::Result<impl Future<Output = ()>> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        spindle_rt::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}

#[spindle_rt::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7880".to_owned());
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("listening on {}", listener.local_addr()?);
    let summary = serve(listener, Config::default(), shutdown).await?;
    println!(
        "stopped: {} clients served, {} online at shutdown, {} cancelled after the grace period",
        summary.accepted, summary.at_shutdown, summary.cancelled
    );
    Ok(())
}
