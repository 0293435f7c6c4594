//! Pieces of reading a request head that httparse leaves to us, each as
//! nginx does it: the version at the end of the request line (505 for
//! HTTP/2 and up, later HTTP/1 minors read as HTTP/1.1), the host
//! checks of `ngx_http_validate_host`, for the `Host` header and for the
//! host of an absolute-form target, and the `Content-Length` value; and
//! [`HeadScan`], which says when a head is worth parsing.

/// What the version at the end of a request line says, when httparse
/// would not take it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// HTTP/1.0 or HTTP/1.1, or not a version at all: httparse decides.
    Usual,
    /// To be parsed as another version: a later HTTP/1 minor (`HTTP/1.2`,
    /// `HTTP/1.10`) as HTTP/1.1, as nginx serves it, or a version followed
    /// by spaces (which nginx's parser skips) as itself without them; the
    /// offset and length to replace, and what with.
    Rewrite(usize, usize, &'static [u8]),
    /// HTTP/2 and up: nginx's 505.
    Unsupported,
}

/// Reads the version of a complete request `line` (up to its `\n`) as
/// nginx does: `HTTP/` and a major version from 1 to 99 (a first digit of
/// 2 or more already means 505), a dot and a minor version up to 99, then
/// any number of spaces.
pub(crate) fn version(line: &[u8]) -> Version {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let spaces = line.iter().rev().take_while(|&&c| c == b' ').count();
    let trimmed = &line[..line.len() - spaces];
    for v in [&b"HTTP/1.1"[..], b"HTTP/1.0"] {
        if trimmed.strip_suffix(v).is_some_and(|l| l.ends_with(b" ")) {
            return match spaces {
                0 => Version::Usual,
                _ => Version::Rewrite(trimmed.len() - v.len(), v.len() + spaces, v),
            };
        }
    }
    let line = trimmed;
    let Some(sp) = line.iter().rposition(|&c| c == b' ') else { return Version::Usual };
    let Some(v) = line[sp + 1..].strip_prefix(b"HTTP/") else { return Version::Usual };
    match v {
        [b'2'..=b'9', ..] => Version::Unsupported,
        [b'1', b'.', minor @ ..]
            if (1..=2).contains(&minor.len())
                && minor.iter().all(u8::is_ascii_digit)
                && minor.iter().any(|&c| c != b'0') =>
        {
            Version::Rewrite(sp + 1, line.len() - sp - 1 + spaces, b"HTTP/1.1")
        }
        _ => Version::Usual,
    }
}

/// Whether a `Host` value is one nginx accepts (`ngx_http_validate_host`):
/// no `/`, no NUL or other control byte, space or DEL, no empty label
/// (`a..b`), and something left once the port and one trailing dot are
/// set aside (so not empty, `.` or `:80`). As in nginx, a leading dot is
/// allowed. An IPv6 literal keeps its brackets.
pub(crate) fn valid_host(h: &[u8]) -> bool {
    #[derive(PartialEq)]
    enum State {
        Usual,
        Literal,
        Rest,
    }
    let mut state = State::Usual;
    let mut host_len = h.len();
    let mut dot: Option<usize> = None;
    for (i, &c) in h.iter().enumerate() {
        match c {
            b'.' => {
                if i > 0 && dot == Some(i - 1) {
                    return false;
                }
                dot = Some(i);
            }
            b':' if state == State::Usual => {
                host_len = i;
                state = State::Rest;
            }
            b'[' if i == 0 => state = State::Literal,
            b']' if state == State::Literal => {
                host_len = i + 1;
                state = State::Rest;
            }
            b'/' => return false,
            c if c <= 0x20 || c == 0x7f => return false,
            _ => {}
        }
    }
    if host_len > 0 && dot == Some(host_len - 1) {
        host_len -= 1;
    }
    host_len > 0
}

/// Adds line `v` of a list header to what `field` holds: a header sent
/// on several lines is one list, their values joined with commas (RFC
/// 9110 §5.3), where the last line alone used to count. Borrowed for the
/// usual single line; joined into an owned value only for a repeat.
pub(crate) fn join_list<'a>(field: &mut Option<std::borrow::Cow<'a, [u8]>>, v: &'a [u8]) {
    *field = Some(match field.take() {
        None => std::borrow::Cow::Borrowed(v),
        Some(old) => {
            let mut joined = old.into_owned();
            joined.extend_from_slice(b", ");
            joined.extend_from_slice(v);
            std::borrow::Cow::Owned(joined)
        }
    });
}

/// Whether an absolute-form request target (`http://HOST/path`) names a
/// host nginx accepts: `false` only for an absolute-form target whose
/// authority is not what nginx's request line parser takes, or fails
/// [`valid_host`] (nginx: "client sent invalid request" or "invalid host
/// in request line", 400, even when a good `Host` header came too, since
/// the target's host is the one that counts). An origin-form target
/// (`/path`) has no host to check.
///
/// nginx's parser takes a host of letters, digits, `.` and `-`, or an
/// IPv6 literal in brackets, then an optional `:` and digits, ended by
/// `/`, `?` or the end of the target; anything else is a 400. Notably a
/// user name (`http://user@host/`, which RFC 9110 §4.2.4 says to treat as
/// an error: `http://trusted.example@evil.example/` is a phishing
/// classic) was served as if absent.
pub(crate) fn valid_target_host(target: &[u8]) -> bool {
    let Some(rest) = crate::path::after_scheme(target) else { return true };
    let end = rest.iter().position(|&c| matches!(c, b'/' | b'?')).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_end = if authority.first() == Some(&b'[') {
        let Some(close) = authority.iter().position(|&c| c == b']') else { return false };
        let literal_ok = authority[1..close].iter().all(|&c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b':' | b'-'
                        | b'.'
                        | b'_'
                        | b'~'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                )
        });
        if !literal_ok {
            return false;
        }
        close + 1
    } else {
        authority
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'.' || c == b'-'))
            .unwrap_or(authority.len())
    };
    let port_ok = match &authority[host_end..] {
        [] => true,
        [b':', digits @ ..] => digits.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    port_ok && valid_host(authority)
}

/// Where a request head that is still arriving stands, found by looking
/// at each byte once: the empty lines before it (RFC 9112 §2.2), the end
/// of its request line, and whether the blank line that ends the head has
/// come.
///
/// Why: httparse parses a head from its start every time, so parsing after
/// every read makes a head that trickles in a byte per segment cost time
/// quadratic in its length (a 20 kB head sent a byte at a time kept a
/// worker 80% busy; nginx parses incrementally). The head is parsed when
/// its request line is complete (so a bad line is refused at once, as
/// nginx does) and when the head is; in between, only the limits are
/// checked, from what this keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeadScan {
    /// Bytes looked at, from the start of the request.
    seen: usize,
    /// Where the request line starts, once a byte other than CR or LF came.
    lead: Option<usize>,
    /// Where the `\n` ending the request line is.
    line_end: Option<usize>,
    /// After the request line: 0 inside a line, 1 just after its `\n`,
    /// 2 after `\n\r`.
    blank: u8,
    /// The blank line ending the head came.
    complete: bool,
}

/// What [`HeadScan::feed`] found in the new bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scanned {
    /// The request line or the whole head became complete: parse it.
    Parse,
    /// Nothing new to parse: check the limits ([`HeadScan::lead`],
    /// [`HeadScan::line_end`]) and wait for more.
    Wait,
}

impl HeadScan {
    /// Looks at the bytes of `data` (the request so far, from its start)
    /// not looked at before.
    pub fn feed(&mut self, data: &[u8]) -> Scanned {
        if self.complete {
            return Scanned::Parse;
        }
        // The usual case, a whole head in one read: the bytes start with
        // the request line and end with an empty line, so the first head
        // ends somewhere in them (at that line or before it), and no byte
        // needs looking at. A keep-alive request then costs the scan two
        // comparisons.
        if self.seen == 0
            && data.first().is_some_and(|&c| c != b'\r' && c != b'\n')
            && (data.ends_with(b"\n\r\n") || data.ends_with(b"\n\n"))
        {
            self.complete = true;
            return Scanned::Parse;
        }
        let mut line_done = false;
        for (i, &c) in data.iter().enumerate().skip(self.seen) {
            if self.lead.is_none() {
                if c != b'\r' && c != b'\n' {
                    self.lead = Some(i);
                }
                continue;
            }
            if self.line_end.is_none() {
                if c == b'\n' {
                    self.line_end = Some(i);
                    self.blank = 1;
                    line_done = true;
                }
                continue;
            }
            self.blank = match (self.blank, c) {
                (1 | 2, b'\n') => {
                    self.complete = true;
                    self.seen = i + 1;
                    return Scanned::Parse;
                }
                (1, b'\r') => 2,
                (_, b'\n') => 1,
                _ => 0,
            };
        }
        self.seen = data.len();
        if line_done {
            Scanned::Parse
        } else {
            Scanned::Wait
        }
    }

    /// Where the request line starts (`seen` when only empty lines came).
    pub fn lead(&self) -> usize {
        self.lead.unwrap_or(self.seen)
    }

    /// The request line's length up to its `\n`, once that came.
    pub fn line_len(&self) -> Option<usize> {
        Some(self.line_end? - self.lead?)
    }
}

/// A `Content-Length` value as RFC 9110 §8.6 has it and nginx's
/// `ngx_atoof` reads it: digits only, with the spaces or tabs around a
/// field value set aside; `None` (a 400) for anything else, including a
/// sign (`+5`), other white space (a no-break space) and a number past
/// `i64::MAX` (nginx's `off_t`). A lenient reading here is a request
/// smuggling hazard: a proxy in front that refuses or ignores the value
/// frames the body differently from us.
pub(crate) fn content_length(v: &[u8]) -> Option<u64> {
    let is_ows = |c: &u8| *c == b' ' || *c == b'\t';
    let start = v.iter().position(|c| !is_ows(c))?;
    let end = v.iter().rposition(|c| !is_ows(c))? + 1;
    let digits = &v[start..end];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits
        .iter()
        .try_fold(0u64, |n, &c| n.checked_mul(10)?.checked_add(u64::from(c - b'0')))
        .filter(|&n| n <= i64::MAX as u64)
}

#[cfg(test)]
mod tests {
    use super::{content_length, valid_host, valid_target_host};

    #[test]
    fn head_scan_parses_twice_whatever_the_split() {
        use super::{HeadScan, Scanned};
        let head = b"\r\nGET / HTTP/1.1\r\nHost: x\r\nA: b\n\r\nrest";
        // Fed a byte at a time: a parse when the line ends, one when the
        // head ends, never otherwise.
        let mut scan = HeadScan::default();
        let parses: Vec<usize> =
            (1..=head.len()).filter(|&n| scan.feed(&head[..n]) == Scanned::Parse).collect();
        assert_eq!(&parses[..2], &[18, 34]);
        assert!(parses[2..].iter().enumerate().all(|(i, &n)| n == 35 + i), "complete stays complete");
        assert_eq!((scan.lead(), scan.line_len()), (2, Some(15)));
        // Fed at once: the same.
        let mut once = HeadScan::default();
        assert_eq!(once.feed(&head[..34]), Scanned::Parse);
        assert_eq!((once.lead(), once.line_len()), (2, Some(15)));
        // Bare LF ends the head too; only empty lines: nothing to parse.
        assert_eq!(HeadScan::default().feed(b"GET / HTTP/1.0\n\n"), Scanned::Parse);
        let mut empty = HeadScan::default();
        assert_eq!(empty.feed(b"\r\n\r\n\n"), Scanned::Wait);
        assert_eq!((empty.lead(), empty.line_len()), (5, None));
        // A whole head in one read, alone or with more pipelined after it
        // up to an empty line: complete at once (the fast path).
        for whole in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nA: b\r\n\r\n",
        ] {
            let mut scan = HeadScan::default();
            assert_eq!(scan.feed(whole), Scanned::Parse);
            assert_eq!(scan.feed(whole), Scanned::Parse, "complete stays complete");
        }
        // A request line alone is not a whole head.
        let mut line = HeadScan::default();
        assert_eq!(line.feed(b"GET / HTTP/1.1\r\n"), Scanned::Parse);
        assert_eq!(line.feed(b"GET / HTTP/1.1\r\nHost"), Scanned::Wait);
        let mut partial = HeadScan::default();
        assert_eq!(partial.feed(b"GET /lo"), Scanned::Wait);
        assert_eq!((partial.lead(), partial.line_len()), (0, None));
    }

    #[test]
    fn content_length_is_digits_only() {
        for (v, n) in
            [("0", 0), ("5", 5), (" 5 ", 5), ("\t5", 5), ("007", 7), ("9223372036854775807", i64::MAX as u64)]
        {
            assert_eq!(content_length(v.as_bytes()), Some(n), "{v:?}");
        }
        for bad in [
            "",
            " ",
            "+5",
            "-0",
            "5 5",
            "0x5",
            "5\u{a0}",
            "\u{a0}5",
            "5,5",
            "9223372036854775808",
            "99999999999999999999",
        ] {
            assert_eq!(content_length(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn versions_as_nginx_reads_them() {
        use super::{version, Version};
        assert_eq!(version(b"GET / HTTP/1.1\r"), Version::Usual);
        assert_eq!(version(b"GET / HTTP/1.0"), Version::Usual);
        assert_eq!(version(b"GET / HTTP/2.0\r"), Version::Unsupported);
        assert_eq!(version(b"GET / HTTP/3"), Version::Unsupported);
        assert_eq!(version(b"GET / HTTP/1.2\r"), Version::Rewrite(6, 8, b"HTTP/1.1"));
        assert_eq!(version(b"GET / HTTP/1.10"), Version::Rewrite(6, 9, b"HTTP/1.1"));
        assert_eq!(version(b"GET / HTTP/1.1 \r"), Version::Rewrite(6, 9, b"HTTP/1.1"));
        assert_eq!(version(b"GET / HTTP/1.0   "), Version::Rewrite(6, 11, b"HTTP/1.0"));
        assert_eq!(version(b"GET / HTTP/1.2  \r"), Version::Rewrite(6, 10, b"HTTP/1.1"));
        assert_eq!(version(b"GET / HTTP/2.0 \r"), Version::Unsupported);
        for other in [
            &b"GET / HTTP/1.100"[..],
            b"GET / HTTP/01.1",
            b"GET / HTTX/1.1",
            b"GET /",
            b"GET / HTTP/1.",
            b"GET / HTTP/1.1 x",
            b"GET / HTTP/1.1\t",
            b"GET /HTTP/1.1 ",
            b"GET / ",
        ] {
            assert_eq!(version(other), Version::Usual, "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn hosts_as_nginx_validates_them() {
        let good = [
            "example.com",
            "example.com.",
            "localhost:8080",
            "[::1]:80",
            "[::1]",
            "a.b.c",
            ".example.com",
            "x",
        ];
        for ok in good {
            assert!(valid_host(ok.as_bytes()), "{ok}");
        }
        for bad in ["", ".", ":80", "a..b", "a/b", "a\0b", "a b", "a\x7fb", "..", "a\tb"] {
            assert!(!valid_host(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn absolute_targets_have_their_host_checked() {
        for ok in [
            "/a",
            "*",
            "http://example.com/a",
            "HTTP://h:8080",
            "http://[::1]/x?y",
            "https://h.?q",
            "http://h:/a",
            "http://[::1]:80",
        ] {
            assert!(valid_target_host(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "http://a..b/x",
            "http:///x",
            "http://:80/",
            "http://a\0b/",
            "http://a b/",
            "http://user@h/",
            "http://u:p@h/",
            "http://a_b/",
            "http://h:8x/",
            "http://[::1]x/",
            "http://[::1/",
            "http://h#f",
        ] {
            assert!(!valid_target_host(bad.as_bytes()), "{bad:?}");
        }
    }
}
