//! `http_load`: a closed-loop HTTP/1.1 keep-alive load client that reports
//! the deep tail (p99.9 and the maximum), not only p99.
//!
//! Each of `--connections` connections sends `GET PATH`, reads the whole
//! response (its head parsed with httparse, its body by `Content-Length`),
//! records the round trip, and sends the next request at once: one request
//! in flight per connection, as `wrk` without pipelining. The client is
//! one thread over its own level-triggered epoll with non-blocking sockets
//! (see [`spindle_bench::closed_loop`]).
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
//!
//! [`MEASURE_MARKER`]: spindle_bench::report::MEASURE_MARKER
//! [`LoadReport`]: spindle_bench::report::LoadReport

use std::process::ExitCode;

use clap::Parser;
use spindle_bench::closed_loop::{self, LoadArgs, Progress, Protocol};

/// Closed-loop HTTP/1.1 keep-alive load (one request in flight per
/// connection), reporting p50, p99, p99.9 and the maximum.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(flatten)]
    load: LoadArgs,
    /// The path to request.
    #[arg(long, default_value = "/")]
    path: String,
}

/// Largest response head kept while waiting for its end.
const MAX_HEAD: usize = 16 * 1024;

/// The HTTP exchange: one GET, and a response that must be 2xx with a
/// `Content-Length`.
struct Get {
    request: Vec<u8>,
}

/// A response in progress.
#[derive(Default)]
struct Response {
    /// The head's bytes so far, until it is parsed.
    head: Vec<u8>,
    /// Body bytes still to come, once the head is parsed.
    body_left: Option<usize>,
}

impl Protocol for Get {
    type Reply = Response;

    fn request(&self) -> &[u8] {
        &self.request
    }

    fn on_bytes(&self, response: &mut Response, bytes: &[u8], _written: usize) -> Progress {
        let body = match response.body_left {
            Some(_) => bytes,
            None => {
                response.head.extend_from_slice(bytes);
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut parsed = httparse::Response::new(&mut headers);
                let head_len = match parsed.parse(&response.head) {
                    Ok(httparse::Status::Complete(len)) => len,
                    Ok(httparse::Status::Partial) if response.head.len() < MAX_HEAD => return Progress::More,
                    Ok(httparse::Status::Partial) => return Progress::Bad("response head too large".into()),
                    Err(e) => return Progress::Bad(format!("bad response head: {e}")),
                };
                let status = parsed.code.unwrap_or(0);
                if !(200..300).contains(&status) {
                    return Progress::Bad(format!("status {status}"));
                }
                let length = parsed
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok());
                let Some(length) = length else {
                    return Progress::Bad("response without Content-Length".into());
                };
                response.body_left = Some(length);
                // What followed the head in this read is body.
                let already = response.head.len() - head_len;
                &bytes[bytes.len() - already..]
            }
        };
        let left = response.body_left.expect("set above");
        if body.len() > left {
            return Progress::Bad("bytes arrived with no request in flight".into());
        }
        response.body_left = Some(left - body.len());
        if body.len() == left {
            Progress::Done
        } else {
            Progress::More
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let request = format!("GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", args.path, args.load.addr).into_bytes();
    closed_loop::main("http_load", Ok(Get { request }), &args.load, true)
}
