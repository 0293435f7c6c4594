//! `bare_epoll_echo`: the limit for Spindle's overhead.
//!
//! A single-threaded, level-triggered epoll echo server with no framework:
//! the fewest syscalls per message a careful hand-written loop makes, so
//! Spindle's echo can be measured against it (CPU per message).
//!
//! Per readable connection it reads once into a 64 KiB buffer, reading
//! again only while a read fills the buffer (a short read means the socket
//! is drained, so the extra `read` that would return `EAGAIN` is skipped;
//! libuv's heuristic, capped at 32 reads per event like libuv's `uv__read`),
//! and writes each chunk straight back. Only a partial write keeps the rest
//! and switches the connection's interest from READABLE to WRITABLE until
//! the rest is written; not reading meanwhile is the back-pressure that
//! stops a client that does not read from growing our buffers.
//!
//! With `--edge` connections are watched edge-triggered instead: epoll
//! then polls a socket once per arrival of bytes, where level-triggered
//! polls every reported socket again at the next wait to see whether it is
//! still ready (at one request per connection per wait, a wasted
//! `tcp_poll` per request). `spindle kv` watches its clients that way, so
//! `bench/kv.sh --floor` runs this loop with `--edge`.
//!
//! With `--resp-ok` it is instead the floor for a Redis-like server under
//! `redis-benchmark`: it answers `+OK` to every command it reads, counting
//! commands by their `*` array markers (redis-benchmark's keys and values
//! hold none), and stores nothing. It makes the same system calls as a
//! real server (one read and one write per readable event at `-P 1`) with
//! no work between them.
//!
//! With `--coalesce-us N` it batches its wake-ups as `spindle kv` does
//! (spindle-loop's `Coalesce`): while at least `--coalesce-min-clients`
//! distinct connections were ready in the last millisecond, it sleeps N µs
//! before each `epoll_wait`. kv's floor runs with kv's defaults, so the
//! floor keeps making the same system calls per request as spindle.
//!
//! Prints `listening on HOST:PORT` on stdout once bound (port 0 picks a free
//! port and the real one is printed), then serves until killed.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use spindle_bench::sys::{self, Epoll, READABLE, WRITABLE};

/// Bare single-threaded epoll echo server (the overhead baseline).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on, HOST:PORT (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Answer `+OK` to every RESP command read (one `*` each) instead of
    /// echoing: the floor for `spindle kv` under redis-benchmark.
    #[arg(long)]
    resp_ok: bool,

    /// Watch connections edge-triggered (`EPOLLET`): each socket is polled
    /// once per arrival of bytes instead of again at the next wait, and a
    /// readable event is read until a short read.
    #[arg(long)]
    edge: bool,

    /// Sleep this many microseconds before each `epoll_wait` while the
    /// loop is busy (see `--coalesce-min-clients`); 0: never.
    #[arg(long, default_value_t = 0)]
    coalesce_us: u64,

    /// Coalesce only while at least this many distinct connections were
    /// ready within the last millisecond.
    #[arg(long, default_value_t = 16)]
    coalesce_min_clients: usize,
}

/// Size of the one read buffer all connections share (the loop is single
/// threaded and echoes each chunk before the next read).
const READ_BUFFER: usize = 64 * 1024;

/// Reads per readable event before yielding to other connections; libuv's
/// `uv__read` uses the same 32.
const READS_PER_EVENT: usize = 32;

/// Events taken from the kernel per `epoll_wait`.
const EVENTS_PER_WAIT: usize = 1024;

/// One client connection.
struct Conn {
    fd: OwnedFd,
    /// The coalescing epoch this connection was last counted in.
    seen: u32,
    /// Echo bytes the kernel has not taken yet; empty unless the connection
    /// is waiting for WRITABLE (and then it is not reading).
    pending: Vec<u8>,
}

/// The server: the listener, and connections indexed by descriptor number
/// (descriptors are small and dense, as in Redis's `ae`), which is also
/// their epoll token.
struct Server {
    epoll: Epoll,
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    buf: Box<[u8]>,
    /// `--resp-ok`: reply `+OK` per command instead of echoing.
    resp_ok: bool,
    /// Reply bytes built per read in `--resp-ok` mode.
    reply: Vec<u8>,
    /// `EPOLLET` with `--edge`, else 0: or-ed into every connection's
    /// interest.
    mode: u32,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(args.listen).with_context(|| format!("bind {}", args.listen))?;
    listener.set_nonblocking(true).context("O_NONBLOCK")?;
    let epoll = Epoll::new().context("epoll_create1")?;
    let listen_fd = listener.as_raw_fd();
    epoll.add(listener.as_fd(), token(listen_fd), READABLE).context("epoll_ctl ADD listener")?;

    let addr = listener.local_addr().context("local_addr")?;
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()?;
    drop(out);

    let mut server = Server {
        epoll,
        listener,
        conns: Vec::new(),
        buf: vec![0; READ_BUFFER].into_boxed_slice(),
        resp_ok: args.resp_ok,
        reply: Vec::new(),
        mode: if args.edge { libc::EPOLLET as u32 } else { 0 },
    };
    let mut events = sys::event_buffer(EVENTS_PER_WAIT);
    let mut batch = Batching::new(args.coalesce_us, args.coalesce_min_clients);
    let mut n = 0;
    loop {
        batch.before_wait(n);
        n = server.epoll.wait(&mut events, None).context("epoll_wait")?;
        for event in &events[..n] {
            let fd = event.u64 as RawFd;
            if fd == listen_fd {
                server.accept_all();
            } else {
                // Level-triggered with exactly one interest at a time, so
                // the connection's state says what to do; the event bits
                // (including ERR/HUP) only say "go and look", and the
                // read or write reports any error.
                if let Some(Some(conn)) = server.conns.get_mut(fd as usize) {
                    batch.note(&mut conn.seen);
                }
                server.on_ready(fd);
            }
        }
        batch.after_wait();
    }
}

/// `--coalesce-us`: spindle-loop's coalescing, reduced to its rule.
struct Batching {
    wait: Option<Duration>,
    min_active: usize,
    epoch: u32,
    epoch_end: Instant,
    distinct: usize,
    active: usize,
}

impl Batching {
    fn new(us: u64, min_active: usize) -> Batching {
        let wait = (us > 0).then(|| Duration::from_micros(us));
        if wait.is_some() {
            // Or the 40 µs sleep lasts up to 90 µs (timer slack).
            if let Err(e) = spindle_poll::thread::set_timer_slack(1_000) {
                eprintln!("bare_epoll_echo: timer slack: {e}");
            }
        }
        Batching { wait, min_active, epoch: 1, epoch_end: Instant::now(), distinct: 0, active: 0 }
    }

    /// Counts a ready connection once per epoch.
    fn note(&mut self, seen: &mut u32) {
        if self.wait.is_some() && *seen != self.epoch {
            *seen = self.epoch;
            self.distinct += 1;
        }
    }

    /// Closes the epoch if a millisecond has passed.
    fn after_wait(&mut self) {
        if self.wait.is_none() {
            return;
        }
        let now = Instant::now();
        if now >= self.epoch_end {
            let idle = now.duration_since(self.epoch_end) >= EPOCH;
            self.active = if idle { 0 } else { self.distinct };
            self.distinct = 0;
            self.epoch = self.epoch.wrapping_add(1).max(1);
            self.epoch_end = now + EPOCH;
        }
    }

    /// Sleeps before a wait if the last one returned `events` and enough
    /// connections are active.
    fn before_wait(&self, events: usize) {
        if let Some(wait) = self.wait {
            if events > 0 && self.active >= self.min_active {
                std::thread::sleep(wait);
            }
        }
    }
}

/// The coalescing's counting epoch.
const EPOCH: Duration = Duration::from_millis(1);

fn token(fd: RawFd) -> u64 {
    fd as u64
}

impl Server {
    /// Accepts until the backlog is empty.
    fn accept_all(&mut self) {
        loop {
            match sys::accept_nonblocking(self.listener.as_fd()) {
                Ok(fd) => {
                    let raw = fd.as_raw_fd();
                    if let Err(e) = self.epoll.add(fd.as_fd(), token(raw), READABLE | self.mode) {
                        eprintln!("bare_epoll_echo: epoll_ctl ADD: {e}");
                        continue; // `fd` is dropped: closed.
                    }
                    let slot = raw as usize;
                    if slot >= self.conns.len() {
                        self.conns.resize_with(slot + 1, || None);
                    }
                    self.conns[slot] = Some(Conn { fd, seen: 0, pending: Vec::new() });
                }
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock => return,
                    // The peer gave up before we accepted: the next one.
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted => {}
                    // Out of descriptors or memory: stop for now; the
                    // listener stays readable, so we retry next wait.
                    _ => {
                        eprintln!("bare_epoll_echo: accept: {e}");
                        return;
                    }
                },
            }
        }
    }

    fn on_ready(&mut self, fd: RawFd) {
        let Some(Some(conn)) = self.conns.get_mut(fd as usize) else {
            return;
        };
        let keep = if conn.pending.is_empty() {
            let reply = if self.resp_ok { Some(&mut self.reply) } else { None };
            echo_readable(&self.epoll, conn, &mut self.buf, reply, self.mode)
        } else {
            flush_pending(&self.epoll, conn, self.mode)
        };
        if let Err(e) = keep {
            if !is_disconnect(&e) {
                eprintln!("bare_epoll_echo: connection {fd}: {e}");
            }
            // Closing the descriptor also removes it from the epoll set.
            self.conns[fd as usize] = None;
        }
    }
}

/// Reads and echoes what is available (or, given `reply`, answers `+OK`
/// per command read). `Err` means "close it" (end of stream is reported as
/// `UnexpectedEof`).
fn echo_readable(
    epoll: &Epoll,
    conn: &mut Conn,
    buf: &mut [u8],
    mut reply: Option<&mut Vec<u8>>,
    mode: u32,
) -> io::Result<()> {
    // Edge-triggered, the event will not come again for bytes already
    // there: read until a short read, however many reads that takes.
    let reads = if mode != 0 { usize::MAX } else { READS_PER_EVENT };
    for _ in 0..reads {
        let n = match sys::read(conn.fd.as_fd(), buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut chunk = &buf[..n];
        if let Some(reply) = reply.as_deref_mut() {
            reply.clear();
            for _ in chunk.iter().filter(|&&b| b == b'*') {
                reply.extend_from_slice(b"+OK\r\n");
            }
            chunk = reply;
        }
        let n_out = chunk.len();
        let written = write_once(conn.fd.as_fd(), chunk)?;
        if written < n_out {
            conn.pending.extend_from_slice(&chunk[written..]);
            return epoll.modify(conn.fd.as_fd(), token(conn.fd.as_raw_fd()), WRITABLE | mode);
        }
        if n < buf.len() {
            return Ok(()); // A short read: the socket is drained.
        }
    }
    Ok(()) // Level-triggered: the rest wakes us again.
}

/// Writes pending echo bytes; once they are all out, reads again.
fn flush_pending(epoll: &Epoll, conn: &mut Conn, mode: u32) -> io::Result<()> {
    let written = write_once(conn.fd.as_fd(), &conn.pending)?;
    conn.pending.drain(..written);
    if conn.pending.is_empty() {
        conn.pending.shrink_to(READ_BUFFER);
        epoll.modify(conn.fd.as_fd(), token(conn.fd.as_raw_fd()), READABLE | mode)?;
    }
    Ok(())
}

/// One `write`, retried only on `EINTR`; a full send buffer is 0 bytes.
fn write_once(fd: BorrowedFd<'_>, bytes: &[u8]) -> io::Result<usize> {
    loop {
        match sys::write(fd, bytes) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Errors that just mean the client went away.
fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}
