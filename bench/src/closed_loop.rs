//! The closed-loop load clients' common machinery (`echo_load`,
//! `http_load`): connections, one request in flight on each, a latency
//! histogram, and the warm-up / measured-window protocol.
//!
//! Each connection writes its request, reads until the [`Protocol`] says
//! the reply is whole, records the round trip, and writes the next request
//! at once. The client is one thread over its own level-triggered epoll
//! with non-blocking sockets, so it costs as little as possible: it is the
//! load, not the system under test. After the warm-up (not counted) it
//! prints [`MEASURE_MARKER`] on its own line, so a driver can sample server
//! CPU time exactly at the start of the measured window; it returns at the
//! window's end. Every wait is bounded by those deadlines. A connection
//! whose reply is wrong, or that fails, is closed and counted; the others
//! carry on.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;

use crate::parse_duration;
use crate::report::{LoadReport, MEASURE_MARKER};
use crate::sys::{self, Epoll, READABLE, WRITABLE};

/// Longest latency the histogram records; slower round trips saturate.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// How many connection errors are described on stderr before we only count.
const ERRORS_DESCRIBED: u64 = 5;

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// What a reply's bytes amount to so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// Need more bytes.
    More,
    /// The reply is whole (and nothing followed it).
    Done,
    /// The reply is wrong; the text says how.
    Bad(String),
}

/// A request/reply exchange: what to send, and when the reply is whole.
pub trait Protocol {
    /// What one connection remembers of the reply in progress.
    type Reply: Default;

    /// The request, sent whole for every round trip.
    fn request(&self) -> &[u8];

    /// Takes `bytes` just read for the reply in progress (`written` bytes of
    /// the request have been sent so far).
    fn on_bytes(&self, reply: &mut Self::Reply, bytes: &[u8], written: usize) -> Progress;
}

/// One connection and the request it has in flight.
struct Conn<R> {
    fd: OwnedFd,
    /// Bytes of the request written so far.
    written: usize,
    reply: R,
    /// When the request's first byte was handed to the kernel.
    sent_at: Instant,
    /// Whether WRITABLE is registered (only while a write is unfinished).
    wants_write: bool,
}

/// The run's figures.
#[derive(Debug)]
pub struct Outcome {
    /// Round trips, errors and latency quantiles over the measured window.
    pub report: LoadReport,
    /// The longest round trip in the window, microseconds.
    pub max_us: f64,
}

/// The options every closed-loop client takes (`#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct LoadArgs {
    /// Server address, HOST:PORT.
    #[arg(long)]
    pub addr: SocketAddr,
    /// Number of concurrent connections.
    #[arg(long, default_value_t = 100)]
    pub connections: usize,
    /// Measured duration (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Warm-up before measuring, not counted (e.g. 2s, 0s).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Bound on each connect.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
}

/// A client's whole life: runs `protocol` as `args` say, then prints the
/// report line (with ` max_us=` after it if `with_max`). A failure is
/// printed as `NAME: error: ...` and gives exit status 1.
pub fn main<P: Protocol>(
    name: &str,
    protocol: Result<P>,
    args: &LoadArgs,
    with_max: bool,
) -> std::process::ExitCode {
    let result = protocol.and_then(|protocol| {
        let outcome = run(name, protocol, args)?;
        let mut out = io::stdout().lock();
        if with_max {
            writeln!(out, "{} max_us={:.1}", outcome.report, outcome.max_us)?;
        } else {
            writeln!(out, "{}", outcome.report)?;
        }
        out.flush()?;
        Ok(())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Connects, runs the warm-up and the measured window, and returns what
/// was measured. `name` prefixes the errors described on stderr.
pub fn run<P: Protocol>(name: &str, protocol: P, args: &LoadArgs) -> Result<Outcome> {
    let LoadArgs { addr, connections, duration, warmup, connect_timeout } = *args;
    if connections == 0 {
        bail!("--connections must be at least 1");
    }
    let epoll = Epoll::new().context("epoll_create1")?;
    let mut conns = Vec::with_capacity(connections);
    let start = Instant::now();
    for i in 0..connections {
        let stream = TcpStream::connect_timeout(&addr, connect_timeout)
            .with_context(|| format!("connect {} to {addr} failed", i + 1))?;
        stream.set_nodelay(true).context("TCP_NODELAY")?;
        stream.set_nonblocking(true).context("O_NONBLOCK")?;
        let fd = OwnedFd::from(stream);
        epoll.add(fd.as_fd(), i as u64, READABLE).context("epoll_ctl ADD")?;
        conns.push(Some(Conn {
            fd,
            written: 0,
            reply: P::Reply::default(),
            sent_at: start,
            wants_write: false,
        }));
    }
    let measure_start = Instant::now() + warmup;
    let mut client = Client {
        name,
        protocol,
        epoll,
        live: conns.len(),
        conns,
        scratch: vec![0; READ_CHUNK],
        histogram: Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).context("histogram bounds")?,
        measure_start,
        end: measure_start + duration,
        replies: 0,
        errors: 0,
    };
    client.run()?;
    let quantile_us = |q: f64| client.histogram.value_at_quantile(q) as f64 / 1000.0;
    Ok(Outcome {
        report: LoadReport {
            messages: client.replies,
            seconds: duration.as_secs_f64(),
            p50_us: quantile_us(0.5),
            p99_us: quantile_us(0.99),
            p999_us: quantile_us(0.999),
            errors: client.errors,
        },
        max_us: client.histogram.max() as f64 / 1000.0,
    })
}

/// The whole client: connections, the protocol, and what was measured.
struct Client<'a, P: Protocol> {
    name: &'a str,
    protocol: P,
    epoll: Epoll,
    /// `None` once a connection has failed and been closed.
    conns: Vec<Option<Conn<P::Reply>>>,
    scratch: Vec<u8>,
    histogram: Histogram<u64>,
    measure_start: Instant,
    end: Instant,
    replies: u64,
    errors: u64,
    live: usize,
}

impl<P: Protocol> Client<'_, P> {
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
        conn.reply = P::Reply::default();
        conn.sent_at = now;
        self.on_writable(token);
    }

    /// Writes the rest of the request; registers WRITABLE while the
    /// kernel's send buffer is full, drops it once all is written.
    fn on_writable(&mut self, token: usize) {
        let Some(conn) = self.conns[token].as_mut() else {
            return;
        };
        let request = self.protocol.request();
        while conn.written < request.len() {
            match sys::write(conn.fd.as_fd(), &request[conn.written..]) {
                Ok(n) => conn.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return self.fail(token, &format!("write: {e}")),
            }
        }
        let wants_write = conn.written < request.len();
        if wants_write != conn.wants_write {
            conn.wants_write = wants_write;
            let interest = if wants_write { READABLE | WRITABLE } else { READABLE };
            if let Err(e) = self.epoll.modify(conn.fd.as_fd(), token as u64, interest) {
                self.fail(token, &format!("epoll_ctl MOD: {e}"));
            }
        }
    }

    /// Reads what the socket has; on a whole reply records the round trip
    /// and sends the next request.
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
            match self.protocol.on_bytes(&mut conn.reply, &self.scratch[..n], conn.written) {
                Progress::More => continue,
                Progress::Bad(why) => return self.fail(token, &why),
                Progress::Done => {}
            }
            let now = Instant::now();
            if now >= self.measure_start && now < self.end {
                let nanos = u64::try_from((now - conn.sent_at).as_nanos()).unwrap_or(u64::MAX);
                self.histogram.saturating_record(nanos.max(1));
                self.replies += 1;
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
                eprintln!("{}: connection {token}: {why}", self.name);
            }
        }
    }
}
