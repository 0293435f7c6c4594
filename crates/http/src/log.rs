//! The clock a worker formats dates with, and the access log.
//!
//! The access log uses nginx's `combined` format:
//! `$remote_addr - $remote_user [$time_local] "$request" $status
//! $body_bytes_sent "$http_referer" "$http_user_agent"`. Lines collect in a
//! buffer that is written when it reaches 64 KiB, every second, and when
//! the worker exits (nginx's `access_log ... buffer=64k flush=1s`): one
//! `write` per many requests instead of one each. On `USR1` the file is
//! reopened by name, so that a log rotator can rename it first.

use crate::sys;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Dates formatted once a second.
#[derive(Debug)]
pub struct Clock {
    sec: u64,
    /// The current time as an HTTP date (`Date:` header).
    pub http: String,
    /// The current local time as nginx's `$time_local`.
    pub local: String,
    want_local: bool,
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

impl Clock {
    /// A clock; `want_local` formats `$time_local` too (for the log).
    pub fn new(want_local: bool) -> Clock {
        let mut c = Clock { sec: u64::MAX, http: String::new(), local: String::new(), want_local };
        c.refresh();
        c
    }

    /// The Unix time, in whole seconds, as of the last refresh.
    pub fn secs(&self) -> u64 {
        self.sec
    }

    /// Reformats the dates if the second moved.
    pub fn refresh(&mut self) {
        let now = SystemTime::now();
        let sec = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if sec == self.sec {
            return;
        }
        self.sec = sec;
        self.http = httpdate::fmt_http_date(now);
        if self.want_local {
            let (y, mo, d, h, mi, s, off) = sys::local_time(sec as i64);
            let sign = if off < 0 { '-' } else { '+' };
            let off = off.unsigned_abs() / 60;
            self.local = format!(
                "{d:02}/{}/{y}:{h:02}:{mi:02}:{s:02} {sign}{:02}{:02}",
                MONTHS[(mo as usize - 1) % 12],
                off / 60,
                off % 60
            );
        }
    }
}

/// A buffered access log file.
#[derive(Debug)]
pub struct AccessLog {
    path: PathBuf,
    file: Option<File>,
    buf: Vec<u8>,
}

/// How much the log buffers before it writes.
pub const LOG_BUFFER: usize = 64 << 10;

/// One request as the log records it.
#[derive(Debug)]
pub struct LogLine<'a> {
    /// The client.
    pub peer: SocketAddr,
    /// The request line, as received.
    pub request: &'a [u8],
    /// The response status.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// The `Referer` header.
    pub referer: Option<&'a [u8]>,
    /// The `User-Agent` header.
    pub user_agent: Option<&'a [u8]>,
    /// `$remote_user`: the user name of Basic credentials the client
    /// sent ([`remote_user`]).
    pub user: Option<&'a [u8]>,
}

/// nginx's `$remote_user` from an `Authorization` header: the user name
/// of `Basic` credentials (base64 of `user:password`), whether or not
/// anything asked for them; `None` for another scheme, bad base64, no
/// `:` or an empty name, as `ngx_http_auth_basic_user` reads it. Log
/// analysers count visitors by it.
pub fn remote_user(authorization: &[u8]) -> Option<Vec<u8>> {
    let (scheme, rest) = authorization.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"Basic ") {
        return None;
    }
    let encoded = rest.trim_ascii_start();
    // As nginx's decoder: the symbols up to the first `=`, every one from
    // the standard alphabet, never 1 more than a multiple of 4.
    let encoded = &encoded[..encoded.iter().position(|&c| c == b'=').unwrap_or(encoded.len())];
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    if encoded.is_empty() || encoded.len() % 4 == 1 {
        return None;
    }
    let mut decoded = Vec::with_capacity(encoded.len() * 3 / 4);
    for group in encoded.chunks(4) {
        let mut bits = 0u32;
        for &c in group {
            bits = bits << 6 | value(c)?;
        }
        bits <<= 6 * (4 - group.len()) as u32;
        decoded.extend_from_slice(&bits.to_be_bytes()[1..group.len()]);
    }
    let colon = decoded.iter().position(|&c| c == b':')?;
    if colon == 0 {
        return None;
    }
    decoded.truncate(colon);
    Some(decoded)
}

/// Appends `v` as nginx logs a variable: `-` when absent, bytes outside
/// printable ASCII and `"` and `\` as `\xHH`.
fn escaped(out: &mut Vec<u8>, v: Option<&[u8]>) {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        out.push(b'-');
        return;
    };
    for &c in v {
        if c == b'"' || c == b'\\' || !(0x20..0x7f).contains(&c) {
            let _ = write!(out, "\\x{c:02X}");
        } else {
            out.push(c);
        }
    }
}

impl AccessLog {
    /// Opens (creating, appending) the log at `path`.
    ///
    /// # Errors
    /// The system's `open` error.
    pub fn open(path: PathBuf) -> io::Result<AccessLog> {
        let file = Some(Self::open_file(&path)?);
        Ok(AccessLog { path, file, buf: Vec::with_capacity(LOG_BUFFER) })
    }

    /// The log at `path`, written to `file`, already open (appending).
    pub fn with_file(path: PathBuf, file: File) -> AccessLog {
        AccessLog { path, file: Some(file), buf: Vec::with_capacity(LOG_BUFFER) }
    }

    fn open_file(path: &PathBuf) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).open(path)
    }

    /// Adds one line; writes the buffer out once it holds 64 KiB.
    pub fn record(&mut self, time_local: &str, l: &LogLine<'_>) {
        let out = &mut self.buf;
        let _ = write!(out, "{} - ", l.peer.ip());
        escaped(out, l.user);
        let _ = write!(out, " [{time_local}] \"");
        escaped(out, Some(l.request));
        let _ = write!(out, "\" {} {} \"", l.status, l.bytes);
        escaped(out, l.referer);
        out.extend_from_slice(b"\" \"");
        escaped(out, l.user_agent);
        out.extend_from_slice(b"\"\n");
        if self.buf.len() >= LOG_BUFFER {
            self.flush();
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if let Some(f) = &mut self.file {
            if let Err(e) = f.write_all(&self.buf) {
                tracing::warn!(path = %self.path.display(), error = %e, "access log write failed");
            }
        }
        self.buf.clear();
    }

    /// The path the log was opened from.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Flushes, then goes on in `file`, the path opened anew by someone
    /// else (the master, after a rotation).
    pub fn reopen_with(&mut self, file: File) {
        self.flush();
        self.file = Some(file);
    }

    /// Flushes, then reopens the file by its name (after a rotation).
    pub fn reopen(&mut self) {
        self.flush();
        match Self::open_file(&self.path) {
            Ok(f) => self.file = Some(f),
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "cannot reopen the access log")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_format_escapes() {
        let p = std::env::temp_dir().join(format!("spindle-http-log-{}", std::process::id()));
        let mut log = AccessLog::open(p.clone()).unwrap();
        log.record(
            "01/Jan/2026:00:00:00 +0000",
            &LogLine {
                peer: "127.0.0.1:5".parse().unwrap(),
                request: b"GET /a\"b\x01 HTTP/1.1",
                status: 200,
                bytes: 12,
                referer: None,
                user_agent: Some(b"curl/8"),
                user: None,
            },
        );
        log.flush();
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        assert_eq!(text, "127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] \"GET /a\\x22b\\x01 HTTP/1.1\" 200 12 \"-\" \"curl/8\"\n");
    }

    #[test]
    fn remote_user_is_nginx_s() {
        let u = |h: &str| remote_user(h.as_bytes()).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(u("Basic Ym9iOnB3").as_deref(), Some("bob")); // bob:pw
        assert_eq!(u("basic   Ym9iOnB3").as_deref(), Some("bob"));
        assert_eq!(u("Basic Ym9iOg==").as_deref(), Some("bob")); // bob:
        assert_eq!(u("Basic Ym9iOg").as_deref(), Some("bob"));
        assert_eq!(u("Basic YTpiOmM=").as_deref(), Some("a")); // a:b:c
        assert_eq!(u("Basic w6k6eA==").as_deref(), Some("\u{e9}")); // é:x
        for bad in
            ["Basic Ym9i", "Basic OnB3", "Basic ", "Basic Ym9i*npw", "Bearer Ym9iOnB3", "Basic Y", "Basi"]
        {
            assert_eq!(u(bad), None, "{bad}");
        }
    }

    #[test]
    fn clock_formats() {
        let c = Clock::new(true);
        assert_eq!(c.http.len(), 29);
        assert!(c.http.ends_with(" GMT"));
        assert_eq!(c.local.len(), 26, "{}", c.local);
    }
}
