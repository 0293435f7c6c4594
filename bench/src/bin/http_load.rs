//! `http_load`: a closed-loop HTTP/1.1 keep-alive load client that reports
//! the deep tail (p99.9 and the maximum), not only p99.
//!
//! Each of `--connections` connections sends `GET PATH`, reads the whole
//! response (its head parsed with httparse, its body by `Content-Length`),
//! records the round trip, and sends the next request at once: one request
//! in flight per connection, as `wrk` without pipelining. The client is
//! one thread over its own level-triggered epoll with non-blocking sockets.
//!
//! Why another client beside wrk: wrk's one thread saturates its core at
//! a thousand connections, and much of what it reports as latency is its
//! own queueing. A scheduler that reorders requests (serves newer ones
//! while older ones wait) shows up first in the top per mille, which wrk's
//! `--latency` does not print. This client made spindle-rt's multi-thread
//! reordering at 1000 connections visible (bench/RESULTS.md, 2026-11-29).
//!
//! After `--warmup` (not counted) it prints [`MEASURE_MARKER`] on its own
//! line, so a driver can sample server CPU time at the start of the
//! measured window; after `--duration` it prints one [`LoadReport`] line
//! followed by ` max_us=...`, and exits. A response other than 2xx, a
//! response without `Content-Length`, or a closed connection counts as an
//! error and closes that connection; the others carry on.

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

/// Closed-loop HTTP/1.1 keep-alive load (one request in flight per
/// connection), reporting p50, p99, p99.9 and the maximum.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Server address, HOST:PORT.
    #[arg(long)]
    addr: SocketAddr,
    /// Number of concurrent connections.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// The path to request.
    #[arg(long, default_value = "/")]
    path: String,
    /// Measured duration (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Warm-up before measuring, not counted (e.g. 2s, 0s).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Bound on each connect.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    connect_timeout: Duration,
}

/// Longest latency the histogram records; slower round trips saturate.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// How many connection errors are described on stderr before we only count.
const ERRORS_DESCRIBED: u64 = 5;

/// Largest response head and body kept in a connection's buffer at once.
const READ_CHUNK: usize = 16 * 1024;

/// One connection and the request it has in flight.
struct Conn {
    fd: OwnedFd,
    /// Bytes of the request written so far.
    written: usize,
    /// Response bytes received but not yet consumed.
    buf: Vec<u8>,
    /// Body bytes still to come once the head is parsed.
    body_left: Option<usize>,
    /// When the request's first byte was handed to the kernel.
    sent_at: Instant,
    /// Whether WRITABLE is registered (only while a write is unfinished).
    wants_write: bool,
}

/// The whole client: connections, the request, and what was measured.
struct Client {
    epoll: Epoll,
    /// `None` once a connection has failed and been closed.
    conns: Vec<Option<Conn>>,
    request: Vec<u8>,
    scratch: Vec<u8>,
    histogram: Histogram<u64>,
    measure_start: Instant,
    end: Instant,
    responses: u64,
    errors: u64,
    live: usize,
}

/// What one read step found.
enum Progress {
    /// Need more bytes.
    More,
    /// A whole response arrived.
    Done,
    /// The response is not one we can count.
    Bad(String),
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http_load: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    if args.connections == 0 {
        bail!("--connections must be at least 1");
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
    let request = format!("GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", args.path, args.addr).into_bytes();
    let mut client = Client {
        epoll,
        live: fds.len(),
        conns: fds
            .into_iter()
            .map(|fd| {
                Some(Conn {
                    fd,
                    written: 0,
                    buf: Vec::new(),
                    body_left: None,
                    sent_at: start,
                    wants_write: false,
                })
            })
            .collect(),
        request,
        scratch: vec![0; READ_CHUNK],
        histogram: Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).context("histogram bounds")?,
        measure_start,
        end: measure_start + args.duration,
        responses: 0,
        errors: 0,
    };
    client.run()?;

    let quantile_us = |q: f64| client.histogram.value_at_quantile(q) as f64 / 1000.0;
    let report = LoadReport {
        messages: client.responses,
        seconds: args.duration.as_secs_f64(),
        p50_us: quantile_us(0.5),
        p99_us: quantile_us(0.99),
        p999_us: quantile_us(0.999),
        errors: client.errors,
    };
    let mut out = io::stdout().lock();
    writeln!(out, "{report} max_us={:.1}", client.histogram.max() as f64 / 1000.0)?;
    out.flush()?;
    Ok(())
}

impl Client {
    /// Runs warm-up then the measured window; returns at `end` (or earlier
    /// if every connection has failed).
    fn run(&mut self) -> Result<()> {
        let mut events = sys::event_buffer(256);
        for token in 0..self.conns.len() {
            self.start_request(token, Instant::now());
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

    /// Begins a new request on `token` and writes as much as the kernel
    /// takes now.
    fn start_request(&mut self, token: usize, now: Instant) {
        let Some(conn) = self.conns[token].as_mut() else {
            return;
        };
        conn.written = 0;
        conn.body_left = None;
        conn.sent_at = now;
        self.on_writable(token);
    }

    /// Writes the rest of the request; registers WRITABLE while the
    /// kernel's send buffer is full, drops it once all is written.
    fn on_writable(&mut self, token: usize) {
        let Some(conn) = self.conns[token].as_mut() else {
            return;
        };
        while conn.written < self.request.len() {
            match sys::write(conn.fd.as_fd(), &self.request[conn.written..]) {
                Ok(n) => conn.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return self.fail(token, &format!("write: {e}")),
            }
        }
        let wants_write = conn.written < self.request.len();
        if wants_write != conn.wants_write {
            conn.wants_write = wants_write;
            let interest = if wants_write { READABLE | WRITABLE } else { READABLE };
            if let Err(e) = self.epoll.modify(conn.fd.as_fd(), token as u64, interest) {
                self.fail(token, &format!("epoll_ctl MOD: {e}"));
            }
        }
    }

    /// Reads what the socket has; on a whole response records the round
    /// trip and sends the next request.
    fn on_readable(&mut self, token: usize) {
        loop {
            let Some(conn) = self.conns[token].as_mut() else {
                return;
            };
            let n = match sys::read(conn.fd.as_fd(), &mut self.scratch) {
                Ok(0) => return self.fail(token, "server closed the connection"),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => return self.fail(token, &format!("read: {e}")),
            };
            conn.buf.extend_from_slice(&self.scratch[..n]);
            match conn.advance() {
                Progress::More => continue,
                Progress::Bad(why) => return self.fail(token, &why),
                Progress::Done => {}
            }
            if !conn.buf.is_empty() {
                return self.fail(token, "bytes arrived with no request in flight");
            }
            let now = Instant::now();
            if now >= self.measure_start && now < self.end {
                let nanos = u64::try_from((now - conn.sent_at).as_nanos()).unwrap_or(u64::MAX);
                self.histogram.saturating_record(nanos.max(1));
                self.responses += 1;
            }
            if now < self.end {
                self.start_request(token, now);
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
                eprintln!("http_load: connection {token}: {why}");
            }
        }
    }
}

impl Conn {
    /// Parses the head once it is complete, then counts body bytes;
    /// consumes what it has used from `buf`.
    fn advance(&mut self) -> Progress {
        if self.body_left.is_none() {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let head_len = match response.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) if self.buf.len() < READ_CHUNK => return Progress::More,
                Ok(httparse::Status::Partial) => return Progress::Bad("response head too large".into()),
                Err(e) => return Progress::Bad(format!("bad response head: {e}")),
            };
            let status = response.code.unwrap_or(0);
            if !(200..300).contains(&status) {
                return Progress::Bad(format!("status {status}"));
            }
            let length = response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok());
            let Some(length) = length else {
                return Progress::Bad("response without Content-Length".into());
            };
            self.buf.drain(..head_len);
            self.body_left = Some(length);
        }
        let left = self.body_left.expect("set above");
        let taken = left.min(self.buf.len());
        self.buf.drain(..taken);
        self.body_left = Some(left - taken);
        if left == taken {
            Progress::Done
        } else {
            Progress::More
        }
    }
}
