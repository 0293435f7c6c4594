//! MONITOR's feed: the clients in monitor mode and the line each executed
//! command becomes (Redis's `replicationFeedMonitors`).
//!
//! After a command has run (so a SELECT shows the database it selected,
//! and AUTH's password is already redacted), the server writes one line to
//! every monitor:
//!
//! ```text
//! +1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v"
//! ```
//!
//! the Unix time in seconds and microseconds, the database and peer address
//! of the client that ran it, and each argument quoted as Redis's
//! `sdscatrepr` quotes it. The line is a simple string in RESP2 and RESP3
//! alike. It is appended to the monitor's reply buffer at once (so a
//! monitor sees its own commands after their replies, as with Redis) and
//! counts against the monitor's output-buffer limit: a monitor is a
//! *normal* client there (Redis's `getClientType`), or a pub/sub one if it
//! also subscribed, and one that stops reading is closed once it passes
//! the limit, without slowing the others.

use super::client::Client;
use super::pubsub::enforce_output_limit;
use super::Server;
use std::fmt::Write as _;

/// One client in monitor mode: its id (to tell a reused slot) and slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Monitor {
    id: u64,
    slot: usize,
}

/// The clients in monitor mode, in the order they entered it.
#[derive(Debug, Default)]
pub struct Monitors {
    list: Vec<Monitor>,
}

impl Monitors {
    /// Whether no client is monitoring (the feed's fast path).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Number of monitoring clients.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Puts `c` in monitor mode; false if it already was.
    pub fn add(&mut self, c: &mut Client) -> bool {
        if c.monitor {
            return false;
        }
        c.monitor = true;
        self.list.push(Monitor { id: c.id, slot: c.slot });
        true
    }

    /// Takes `c` out of monitor mode (RESET, disconnect).
    pub fn remove(&mut self, c: &mut Client) {
        if std::mem::take(&mut c.monitor) {
            self.list.retain(|m| m.id != c.id);
        }
    }
}

/// Appends `arg` quoted as Redis's `sdscatrepr`: in double quotes, with
/// `\\`, `\"`, `\n`, `\r`, `\t`, `\a` and `\b` escaped, other printable
/// ASCII as is, and every other byte as `\xHH`.
pub fn push_repr(out: &mut String, arg: &[u8]) {
    out.push('"');
    for &b in arg {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

/// The monitor line for a command `c` ran, without the leading time: `[db
/// addr] "arg" ...`, with the arguments at the positions in `c.redacted`
/// shown as `(redacted)`. A client of the `unixsocket` is `unix:<path>`
/// there, as Redis names it (its CLIENT LIST address is `<path>:0`).
pub fn describe(c: &Client, args: impl Iterator<Item = impl AsRef<[u8]>>) -> String {
    let mut line = String::with_capacity(64);
    match c.addr.strip_suffix(":0").filter(|_| c.unix) {
        Some(path) => _ = write!(line, "[{} unix:{path}]", c.db),
        None => _ = write!(line, "[{} {}]", c.db, c.addr),
    }
    for (i, a) in args.enumerate() {
        line.push(' ');
        if c.redacted.contains(&i) {
            push_repr(&mut line, b"(redacted)");
        } else {
            push_repr(&mut line, a.as_ref());
        }
    }
    line
}

/// Whether a monitor accepts more output: Redis's `prepareClientToWrite`
/// refuses clients about to close and clients with replies off.
fn writable(m: &Client) -> bool {
    !m.close_after_reply && !m.close_asap && !m.reply_off
}

impl Server {
    /// Sends every monitor the line for the command client `c` just ran
    /// (`body` from [`describe`]). `c` is not in the slab while its command
    /// runs, so if it is a monitor itself it is written to directly.
    pub fn feed_monitors(&mut self, c: &mut Client, body: &str) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let line = format!("+{}.{:06} {body}\r\n", now.as_secs(), now.subsec_micros());
        let limits = self.config.client_output_buffer_limit;
        let now_ms = self.now_ms;
        for m in &self.monitors.list {
            if m.id == c.id {
                if writable(c) {
                    c.out.extend_from_slice(line.as_bytes());
                    enforce_output_limit(c, &limits, now_ms);
                }
                continue;
            }
            let Some(mc) = self.clients.get_mut(m.slot).and_then(|x| x.as_deref_mut()) else { continue };
            if mc.id != m.id || !writable(mc) {
                continue;
            }
            mc.out.extend_from_slice(line.as_bytes());
            enforce_output_limit(mc, &limits, now_ms);
            if !mc.pending_write {
                mc.pending_write = true;
                self.pending_writes.push(m.slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(b: &[u8]) -> String {
        let mut s = String::new();
        push_repr(&mut s, b);
        s
    }

    #[test]
    fn arguments_are_quoted_as_sdscatrepr_quotes_them() {
        assert_eq!(repr(b"SET"), "\"SET\"");
        assert_eq!(repr(b""), "\"\"");
        assert_eq!(repr(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(repr(b"\n\r\t\x07\x08"), "\"\\n\\r\\t\\a\\b\"");
        assert_eq!(repr(b"\x00\x7f\xff \xc3\xa9~"), "\"\\x00\\x7f\\xff \\xc3\\xa9~\"");
    }

    #[test]
    fn a_line_names_the_database_and_peer_and_redacts_what_the_command_hid() {
        let fd = std::fs::File::open("/dev/null").unwrap().into();
        let mut c = Client::new(1, fd, "127.0.0.1:5000".into(), String::new(), 0);
        c.db = 3;
        c.redacted = vec![1];
        let args: [&[u8]; 2] = [b"AUTH", b"secret"];
        assert_eq!(describe(&c, args.iter()), "[3 127.0.0.1:5000] \"AUTH\" \"(redacted)\"");
    }
}
