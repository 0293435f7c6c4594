//! `echo_load`: a closed-loop echo load client.
//!
//! Each of `--connections` connections sends one message of `--size` bytes,
//! waits for the whole echo, records the round trip, and sends the next:
//! one message in flight per connection. The client is one thread over its
//! own level-triggered epoll with non-blocking sockets, so it costs as
//! little as possible; it is the load, not the system under test.
//!
//! After `--warmup` (not counted) it prints [`MEASURE_MARKER`] on its own
//! line, so a driver can sample server CPU time exactly at the start of the
//! measured window; after `--duration` it prints one [`LoadReport`] line and
//! exits. Every wait is bounded by those deadlines: a server that stops
//! answering cannot keep the client running. A connect failure is an error
//! exit (status 1) before any load is sent.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use hdrhistogram::Histogram;
use spindle_bench::parse_duration;
use spindle_bench::report::{LoadReport, MEASURE_MARKER};
use spindle_bench::sys::{self, Epoll, READABLE, WRITABLE};

/// Closed-loop echo load client (one message in flight per connection).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Server address, HOST:PORT.
    #[arg(long)]
    addr: SocketAddr,
    /// Number of concurrent connections.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// Message size in bytes.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Measured duration (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Warm-up before measuring, not counted (e.g. 2s, 0s).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Bound on each connect.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    connect_timeout: Duration,
}

/// Longest latency the histogram records; slower round trips saturate.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// How many connection errors are described on stderr before we only count.
const ERRORS_DESCRIBED: u64 = 5;

/// One connection and the message it has in flight.
struct Conn {
    fd: OwnedFd,
    /// Bytes of the current message written so far.
    written: usize,
    /// Bytes of its echo received so far; never more than `written`.
    received: usize,
    /// When the current message's first byte was handed to the kernel.
    sent_at: Instant,
    /// Whether WRITABLE is registered (only while a write is unfinished).
    wants_write: bool,
}

/// The whole client: connections, the message, and what was measured.
struct Client {
    epoll: Epoll,
    /// `None` once a connection has failed and been closed.
    conns: Vec<Option<Conn>>,
    payload: Vec<u8>,
    scratch: Vec<u8>,
    histogram: Histogram<u64>,
    measure_start: Instant,
    end: Instant,
    messages: u64,
    errors: u64,
    live: usize,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_load: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    if args.connections == 0 || args.size == 0 {
        bail!("--connections and --size must be at least 1");
    }
    let epoll = Epoll::new().context("epoll_create1")?;
    let mut fds = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let stream = TcpStream::connect_timeout(&args.addr, args.connect_timeout)
            .with_context(|| format!("connect {} to {} failed", i + 1, args.addr))?;
        stream.set_nodelay(true).context("TCP_NODELAY")?;
        stream.set_nonblocking(true).context("O_NONBLOCK")?;
        let fd = OwnedFd::from(stream);
        epoll.add(fd.as_fd(), i as u64, READABLE).context("epoll_ctl ADD")?;
        fds.push(fd);
    }

    let start = Instant::now();
    let measure_start = start + args.warmup;
    let mut client = Client {
        epoll,
        live: fds.len(),
        conns: fds
            .into_iter()
            .map(|fd| Some(Conn { fd, written: 0, received: 0, sent_at: start, wants_write: false }))
            .collect(),
        payload: (0..args.size).map(|i| (i % 251) as u8).collect(),
        scratch: vec![0; args.size.min(64 * 1024)],
        histogram: Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).context("histogram bounds")?,
        measure_start,
        end: measure_start + args.duration,
        messages: 0,
        errors: 0,
    };
    client.run()?;

    let quantile_us = |q: f64| client.histogram.value_at_quantile(q) as f64 / 1000.0;
    let report = LoadReport {
        messages: client.messages,
        seconds: args.duration.as_secs_f64(),
        p50_us: quantile_us(0.5),
        p99_us: quantile_us(0.99),
        p999_us: quantile_us(0.999),
        errors: client.errors,
    };
    let mut out = io::stdout().lock();
    writeln!(out, "{report}")?;
    out.flush()?;
    Ok(())
}

impl Client {
    /// Runs warm-up then the measured window; returns at `end` (or earlier
    /// if every connection has failed).
    fn run(&mut self) -> Result<()> {
        let mut events = sys::event_buffer(256);
        for token in 0..self.conns.len() {
            self.start_message(token, Instant::now());
        }
        let mut measuring = false;
        loop {
            let now = Instant::now();
            if !measuring && now >= self.measure_start {
                measuring = true;
                let mut out = io::stdout().lock();
                writeln!(out, "{MEASURE_MARKER}")?;
                out.flush()?;
            }
            if now >= self.end || self.live == 0 {
                return Ok(());
            }
            let deadline = if measuring { self.end } else { self.measure_start };
            let n = self.epoll.wait(&mut events, Some(deadline - now)).context("epoll_wait")?;
            for event in &events[..n] {
                let token = event.u64 as usize;
                let ready = event.events;
                if ready & WRITABLE != 0 {
                    self.on_writable(token);
                }
                // Errors and hang-ups show up as readable too: the read
                // that follows reports them.
                if ready & !WRITABLE != 0 {
                    self.on_readable(token);
                }
            }
        }
    }

    /// Begins a new message on `token` and writes as much as the kernel
    /// takes now.
    fn start_message(&mut self, token: usize, now: Instant) {
        let Some(conn) = self.conns[token].as_mut() else {
            return;
        };
        conn.written = 0;
        conn.received = 0;
        conn.sent_at = now;
        self.on_writable(token);
    }

    /// Writes the rest of the current message; registers WRITABLE while
    /// the kernel's send buffer is full, drops it once all is written.
    fn on_writable(&mut self, token: usize) {
        let Some(conn) = self.conns[token].as_mut() else {
            return;
        };
        while conn.written < self.payload.len() {
            match sys::write(conn.fd.as_fd(), &self.payload[conn.written..]) {
                Ok(n) => conn.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return self.fail(token, &format!("write: {e}")),
            }
        }
        let wants_write = conn.written < self.payload.len();
        if wants_write != conn.wants_write {
            conn.wants_write = wants_write;
            let interest = if wants_write { READABLE | WRITABLE } else { READABLE };
            if let Err(e) = self.epoll.modify(conn.fd.as_fd(), token as u64, interest) {
                self.fail(token, &format!("epoll_ctl MOD: {e}"));
            }
        }
    }

    /// Reads the echo of the current message (possibly in pieces), checks
    /// it byte for byte, and on the last byte records the round trip and
    /// sends the next message.
    fn on_readable(&mut self, token: usize) {
        let size = self.payload.len();
        loop {
            let Some(conn) = self.conns[token].as_mut() else {
                return;
            };
            let want = (size - conn.received).min(self.scratch.len());
            if want == 0 {
                // Not expecting anything; a correct server sends nothing.
                return self.fail(token, "data arrived with no message in flight");
            }
            let n = match sys::read(conn.fd.as_fd(), &mut self.scratch[..want]) {
                Ok(0) => return self.fail(token, "server closed the connection"),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => return self.fail(token, &format!("read: {e}")),
            };
            let start = conn.received;
            if start + n > conn.written || self.scratch[..n] != self.payload[start..start + n] {
                return self.fail(token, "echo does not match what was sent");
            }
            conn.received += n;
            if conn.received < size {
                continue;
            }
            let now = Instant::now();
            if now >= self.measure_start && now < self.end {
                let nanos = u64::try_from((now - conn.sent_at).as_nanos()).unwrap_or(u64::MAX);
                self.histogram.saturating_record(nanos.max(1));
                self.messages += 1;
            }
            if now < self.end {
                self.start_message(token, now);
            }
            return;
        }
    }

    /// Closes a failed connection and counts it; the rest carry on.
    fn fail(&mut self, token: usize, why: &str) {
        if self.conns[token].take().is_some() {
            self.errors += 1;
            self.live -= 1;
            if self.errors <= ERRORS_DESCRIBED {
                eprintln!("echo_load: connection {token}: {why}");
            }
        }
    }
}
