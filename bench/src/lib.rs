//! Shared pieces of Spindle's side-by-side benchmarks.
//!
//! The binaries in `src/bin` are the load client (`echo_load`), the peer
//! servers Spindle is measured against (`bare_epoll_echo`, the limit for our
//! overhead, and `tokio_echo`), and the driver (`echo_bench`) that runs them
//! all under the same load. This library holds what they share:
//!
//! - [`sys`]: the few syscalls the bare server and the load client make
//!   (epoll, non-blocking read/write/accept), each wrapped once so the
//!   binaries themselves hold no `unsafe`;
//! - [`procstat`]: server CPU time from `/proc/PID/stat`, of one process
//!   or of a master and all its workers;
//! - [`report`]: the load client's one-line result, printed and parsed,
//!   medians and the header and warning lines every driver prints;
//! - [`table`]: summary tables as aligned text or Markdown;
//! - [`process`]: starting, pinning, reading and stopping child processes
//!   with every wait bounded;
//! - [`wrk`]: running `wrk` and parsing what it prints;
//! - [`redis`] and [`kv_report`]: `kv_bench`'s pieces (`spindle kv`
//!   against `redis-server` under `redis-benchmark`): output parsers, a
//!   small RESP client, and the summary tables;
//! - [`parse_duration`] and [`parse_listening_addr`]: the command-line and
//!   stdout conventions every binary follows.

pub mod closed_loop;
pub mod kv_report;
pub mod micro;
pub mod process;
pub mod procstat;
pub mod redis;
pub mod report;
pub mod sys;
pub mod table;
pub mod wrk;

use std::net::SocketAddr;
use std::time::Duration;

/// The marker every server prints on stdout once it is bound, followed by
/// `HOST:PORT`; Spindle's own servers may put words before it
/// (`spindle echo listening on 127.0.0.1:PORT (poller: epoll)`).
pub const LISTENING_ON: &str = "listening on ";

/// Parses a human duration such as `10s`, `500ms`, `1.5s`, `2m`, `250us`
/// or `0s`. A bare number is taken as seconds.
///
/// Units: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`. Negative, non-finite
/// and unknown-unit values are rejected with a message naming the input.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 =
        number.parse().map_err(|_| format!("invalid duration {text:?}: expected e.g. 10s or 500ms"))?;
    let seconds_per_unit = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("invalid duration {text:?}: unknown unit {other:?}")),
    };
    Duration::try_from_secs_f64(value * seconds_per_unit)
        .map_err(|e| format!("invalid duration {text:?}: {e}"))
}

/// Finds the address a server announced in a stdout line: the token right
/// after `listening on `, up to the next whitespace, parsed as `HOST:PORT`.
///
/// Returns `None` for lines without the marker or with an unparsable
/// address, so callers can skip unrelated output.
pub fn parse_listening_addr(line: &str) -> Option<SocketAddr> {
    let start = line.find(LISTENING_ON)? + LISTENING_ON.len();
    let token = line[start..].split_whitespace().next()?;
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("10 parsecs").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn listening_lines_from_every_server() {
        let want: SocketAddr = "127.0.0.1:4242".parse().unwrap();
        assert_eq!(parse_listening_addr("listening on 127.0.0.1:4242"), Some(want));
        assert_eq!(
            parse_listening_addr("spindle echo listening on 127.0.0.1:4242 (poller: epoll)"),
            Some(want)
        );
        assert_eq!(parse_listening_addr("listening on [::1]:80"), Some("[::1]:80".parse().unwrap()));
        assert_eq!(parse_listening_addr("starting up"), None);
        assert_eq!(parse_listening_addr("listening on nowhere"), None);
    }
}
