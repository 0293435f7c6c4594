//! `echo_load`: a closed-loop echo load client.
//!
//! Each of `--connections` connections sends one message of `--size` bytes,
//! waits for the whole echo, records the round trip, and sends the next:
//! one message in flight per connection. The client is one thread over its
//! own level-triggered epoll with non-blocking sockets, so it costs as
//! little as possible; it is the load, not the system under test (see
//! [`spindle_bench::closed_loop`]).
//!
//! After `--warmup` (not counted) it prints [`MEASURE_MARKER`] on its own
//! line, so a driver can sample server CPU time exactly at the start of the
//! measured window; after `--duration` it prints one [`LoadReport`] line and
//! exits. Every wait is bounded by those deadlines: a server that stops
//! answering cannot keep the client running. A connect failure is an error
//! exit (status 1) before any load is sent.
//!
//! [`MEASURE_MARKER`]: spindle_bench::report::MEASURE_MARKER
//! [`LoadReport`]: spindle_bench::report::LoadReport

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Parser;
use spindle_bench::closed_loop::{self, LoadArgs, Progress, Protocol};

/// Closed-loop echo load client (one message in flight per connection).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    load: LoadArgs,
    /// Message size in bytes.
    #[arg(long, default_value_t = 64)]
    size: usize,
}

/// The echo exchange: a fixed message, and a reply that must be the same
/// bytes, never more than were sent so far.
struct Echo {
    payload: Vec<u8>,
}

impl Echo {
    fn new(size: usize) -> Result<Echo> {
        if size == 0 {
            bail!("--size must be at least 1");
        }
        Ok(Echo { payload: (0..size).map(|i| (i % 251) as u8).collect() })
    }
}

impl Protocol for Echo {
    /// Bytes of the echo received so far.
    type Reply = usize;

    fn request(&self) -> &[u8] {
        &self.payload
    }

    fn on_bytes(&self, received: &mut usize, bytes: &[u8], written: usize) -> Progress {
        let start = *received;
        if start + bytes.len() > written || bytes != &self.payload[start..start + bytes.len()] {
            return Progress::Bad("echo does not match what was sent".into());
        }
        *received += bytes.len();
        if *received == self.payload.len() {
            Progress::Done
        } else {
            Progress::More
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    closed_loop::main("echo_load", Echo::new(args.size), &args.load, false)
}
