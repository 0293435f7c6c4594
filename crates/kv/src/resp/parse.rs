//! The request parser: Redis's `processMultibulkBuffer` and
//! `processInlineBuffer`, incremental and zero-copy.
//!
//! A client's bytes arrive in arbitrary pieces, so the parser keeps its
//! progress between calls (how many arguments are still expected, the length
//! of the bulk being read, how far a line was already searched for its end)
//! and a command that trickles in byte by byte is still scanned once.
//! Arguments are never copied: the parser hands out ranges into the caller's
//! buffer. Inline commands are unquoted in place, which is possible because
//! an unquoted argument is never longer than its quoted text.
//!
//! One deliberate difference from Redis: Redis searches for line ends with
//! `strchr`, which stops at a NUL byte, so a NUL before the end of a line makes
//! it wait (until the 64 KiB limit) instead of failing. Here lines are found
//! with a plain byte search; a NUL inside a number then fails as an invalid
//! length, and an inline line is cut at its first NUL, as `sdssplitargs`
//! reads it.

use std::ops::Range;

use crate::util::num::parse_i64;

/// Longest inline line or length line (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;
/// Most arguments an unauthenticated client may announce.
const UNAUTH_MAX_MULTIBULK: i64 = 10;
/// Longest bulk an unauthenticated client may announce.
const UNAUTH_MAX_BULK: i64 = 16384;

/// The limits that depend on the server's configuration and the client.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`: the longest bulk argument accepted (512 MiB by default).
    pub max_bulk_len: i64,
    /// Whether the client is authenticated; an unauthenticated client may send
    /// at most 10 arguments of at most 16 KiB each, so a few bytes on the wire
    /// cannot make the server reserve a lot of memory.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bulk_len: 512 * 1024 * 1024, authenticated: true }
    }
}

/// A protocol error. Its `Display` is the exact text Redis sends after
/// `-ERR ` before closing the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// An inline line without a newline within 64 KiB.
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    /// An inline line with an unterminated quote, or a closing quote not
    /// followed by a space.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// A `*` line without `\r` within 64 KiB.
    #[error("Protocol error: too big mbulk count string")]
    TooBigMbulkCount,
    /// A `*` count that is not an integer or exceeds `i32::MAX`.
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    /// More than 10 arguments from an unauthenticated client.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    /// A `$` line without `\r` within 64 KiB.
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    /// An argument header that does not start with `$` (the byte seen; Redis
    /// prints it raw, except that `\r` and `\n` become spaces).
    #[error("Protocol error: expected '$', got '{}'", shown(*.0))]
    ExpectedDollar(u8),
    /// A bulk length that is not an integer, is negative, or exceeds
    /// `proto-max-bulk-len`.
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    /// A bulk longer than 16 KiB from an unauthenticated client.
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
}

/// How Redis's error formatting shows a byte (it maps `\r` and `\n` to spaces).
fn shown(b: u8) -> char {
    match b {
        b'\r' | b'\n' => ' ',
        _ => char::from(b),
    }
}

impl ProtocolError {
    /// The exact bytes of the message (`Display` shows a non-ASCII byte of
    /// [`ProtocolError::ExpectedDollar`] as a Latin-1 character; Redis sends
    /// the raw byte).
    pub fn message_bytes(&self) -> Vec<u8> {
        match *self {
            ProtocolError::ExpectedDollar(b) => {
                let mut m = b"Protocol error: expected '$', got '".to_vec();
                m.push(if b == b'\r' || b == b'\n' { b' ' } else { b });
                m.push(b'\'');
                m
            }
            other => other.to_string().into_bytes(),
        }
    }
}

/// Which kind of request is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Nothing read yet: the first byte decides.
    Start,
    /// A line of space-separated words.
    Inline,
    /// `*N\r\n` then N times `$len\r\n<bytes>\r\n`.
    Multibulk,
}

/// A reusable, incremental parser of client requests (one per client).
#[derive(Debug)]
pub struct RequestParser {
    mode: Mode,
    /// The argument ranges of the command being read (capacity is kept).
    args: Vec<Range<usize>>,
    /// Arguments still expected; 0 before the `*` line is read.
    multibulk_len: usize,
    /// Length of the bulk being read, once its `$` line is read.
    bulk_len: Option<usize>,
    /// Start of the next unread line or bulk.
    pos: usize,
    /// Where the search for the current line's end resumes.
    scan: usize,
    /// Length of the buffer at the last call (for `pending_bulk`).
    seen: usize,
}

impl Default for RequestParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestParser {
    /// A parser waiting for the first byte of a command.
    pub fn new() -> Self {
        RequestParser {
            mode: Mode::Start,
            args: Vec::new(),
            multibulk_len: 0,
            bulk_len: None,
            pos: 0,
            scan: 0,
            seen: 0,
        }
    }

    /// The argument ranges (into the buffer last passed to
    /// [`RequestParser::parse`]) of the command it just completed.
    pub fn args(&self) -> &[Range<usize>] {
        &self.args
    }

    /// Bytes still missing for the bulk argument being read, so the caller
    /// can read exactly that much (Redis reads big bulks exactly), or `None`
    /// when no bulk length is pending.
    pub fn pending_bulk(&self) -> Option<usize> {
        let len = self.bulk_len?;
        let have = self.seen.saturating_sub(self.pos);
        Some((len + 2).saturating_sub(have))
    }

    /// Where the line or bulk being read starts, counted from the start of
    /// the command; 0 between commands and in an inline command.
    ///
    /// The bytes before it are parsed: Redis has already taken them out of
    /// its query buffer (the arguments into the client's `argv`, the length
    /// lines dropped), so its CLIENT LIST `qbuf` counts only the bytes from
    /// here on. For a big bulk (32 KiB or more) that is exactly the bulk's
    /// bytes received so far.
    pub fn element_start(&self) -> usize {
        self.pos
    }

    /// The total length of the arguments already read of a command not yet
    /// complete (Redis's `argv_len_sum` between reads, CLIENT LIST
    /// `argv-mem`); 0 between commands.
    pub fn partial_args_len(&self) -> usize {
        if self.mode != Mode::Multibulk {
            return 0;
        }
        self.args.iter().map(|r| r.len()).sum()
    }

    /// Heap bytes of the argument list (its capacity kept between commands).
    pub fn heap_size(&self) -> usize {
        self.args.capacity() * std::mem::size_of::<Range<usize>>()
    }

    /// Between commands, gives back the memory of the argument list if a
    /// command with more than `keep` arguments grew it (Redis frees a
    /// client's argv after each command). The caller must be done with the
    /// last command's [`RequestParser::args`].
    pub fn release_args(&mut self, keep: usize) {
        if self.mode == Mode::Start && self.args.capacity() > keep {
            self.args = Vec::new();
        }
    }

    /// Forgets any partial command, ready for the next one (the argument
    /// ranges of the last complete command stay readable until then).
    fn reset(&mut self) {
        self.mode = Mode::Start;
        self.multibulk_len = 0;
        self.bulk_len = None;
        self.pos = 0;
        self.scan = 0;
    }

    /// Parses the command at the start of `buf`.
    ///
    /// `buf` must start at the first byte of the current command and only grow
    /// between calls until the command completes (the caller drains consumed
    /// bytes). Returns `Ok(None)` when more bytes are needed and
    /// `Ok(Some(consumed))` when `buf[..consumed]` holds a complete command,
    /// whose arguments are then in [`RequestParser::args`]. A complete
    /// command with no arguments (an empty line, `*0`, `*-1`) is to be
    /// skipped. On an error the parser resets; the server replies with the
    /// error and closes the connection.
    pub fn parse(&mut self, buf: &mut [u8], limits: &Limits) -> Result<Option<usize>, ProtocolError> {
        self.seen = buf.len();
        if self.mode == Mode::Start {
            match buf.first() {
                None => return Ok(None),
                Some(b'*') => self.mode = Mode::Multibulk,
                Some(_) => self.mode = Mode::Inline,
            }
            self.args.clear();
        }
        let result = match self.mode {
            Mode::Multibulk => self.parse_multibulk(buf, limits),
            _ => self.parse_inline(buf),
        };
        if !matches!(result, Ok(None)) {
            self.reset();
        }
        result
    }

    /// `processInlineBuffer`: one line, split like `sdssplitargs`.
    fn parse_inline(&mut self, buf: &mut [u8]) -> Result<Option<usize>, ProtocolError> {
        let Some(nl) = find_byte(&buf[self.scan..], b'\n').map(|i| i + self.scan) else {
            if buf.len() > INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigInline);
            }
            self.scan = buf.len();
            return Ok(None);
        };
        let mut end = nl;
        if end > 0 && buf[end - 1] == b'\r' {
            end -= 1;
        }
        // sdssplitargs reads a C string: the line ends at its first NUL.
        let end = find_byte(&buf[..end], 0).unwrap_or(end);
        split_args(&mut buf[..end], &mut self.args)?;
        Ok(Some(nl + 1))
    }

    /// `processMultibulkBuffer`.
    fn parse_multibulk(&mut self, buf: &mut [u8], limits: &Limits) -> Result<Option<usize>, ProtocolError> {
        if self.multibulk_len == 0 {
            let (count, cr) = match plain_length_line(buf, 0) {
                Some(line) => line,
                None => {
                    let Some(cr) = self.find_line_end(buf) else {
                        if buf.len() > INLINE_MAX_SIZE {
                            return Err(ProtocolError::TooBigMbulkCount);
                        }
                        return Ok(None);
                    };
                    if cr + 1 >= buf.len() {
                        return Ok(None); // the '\n' is not there yet
                    }
                    (parse_i64(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?, cr)
                }
            };
            if count > i64::from(i32::MAX) {
                return Err(ProtocolError::InvalidMultibulkLength);
            }
            if count > UNAUTH_MAX_MULTIBULK && !limits.authenticated {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            self.pos = cr + 2;
            if count <= 0 {
                return Ok(Some(self.pos));
            }
            self.multibulk_len = count as usize;
            // Like Redis, trust the announced count only up to a point.
            self.args.reserve(self.multibulk_len.min(1024));
        }

        while self.multibulk_len > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let quick = match buf.get(self.pos) {
                        Some(b'$') => plain_length_line(buf, self.pos),
                        _ => None,
                    };
                    let (len, cr) = match quick {
                        Some(line) => line,
                        None => {
                            let Some(cr) = self.find_line_end(buf) else {
                                if buf.len() - self.pos > INLINE_MAX_SIZE {
                                    return Err(ProtocolError::TooBigBulkCount);
                                }
                                return Ok(None);
                            };
                            if cr + 1 >= buf.len() {
                                return Ok(None);
                            }
                            if buf[self.pos] != b'$' {
                                return Err(ProtocolError::ExpectedDollar(buf[self.pos]));
                            }
                            (parse_i64(&buf[self.pos + 1..cr]).ok_or(ProtocolError::InvalidBulkLength)?, cr)
                        }
                    };
                    if len < 0 || len > limits.max_bulk_len {
                        return Err(ProtocolError::InvalidBulkLength);
                    }
                    if len > UNAUTH_MAX_BULK && !limits.authenticated {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    self.pos = cr + 2;
                    let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidBulkLength)?;
                    self.bulk_len = Some(len);
                    len
                }
            };
            // The bulk and the two bytes after it (which, like Redis, are
            // skipped without checking that they are "\r\n").
            if buf.len() - self.pos < len + 2 {
                return Ok(None);
            }
            self.args.push(self.pos..self.pos + len);
            self.pos += len + 2;
            self.bulk_len = None;
            self.multibulk_len -= 1;
        }
        Ok(Some(self.pos))
    }

    /// Finds the `\r` ending the line at `self.pos`, resuming where the last
    /// search stopped. Remembers how far it looked.
    fn find_line_end(&mut self, buf: &[u8]) -> Option<usize> {
        let from = self.scan.max(self.pos);
        match find_byte(&buf[from..], b'\r') {
            Some(i) => {
                self.scan = from + i;
                Some(from + i)
            }
            None => {
                self.scan = buf.len();
                None
            }
        }
    }
}

/// The common case of a length line, `*3\r\n` or `$16\r\n`, read in one
/// pass: the number after the marker at `at` and the index of its `\r`,
/// when the whole line is there (its `\n` included) and the number is
/// plain: 1 to 18 digits, no sign, no leading zero (so no overflow, and
/// every number taken here is one `parse_i64` takes too). Anything else
/// (a partial line, a sign, a stray byte, a long number) is `None`, and
/// the general path (find the line's end, then parse it) decides, with
/// its errors.
#[inline]
fn plain_length_line(buf: &[u8], at: usize) -> Option<(i64, usize)> {
    let digits = buf.get(at + 1..)?;
    let mut n: i64 = 0;
    for (i, &b) in digits.iter().enumerate().take(19) {
        match b {
            b'0'..=b'9' => {
                if (i > 0 && n == 0) || i == 18 {
                    return None; // a leading zero, or a 19th digit
                }
                n = n * 10 + i64::from(b - b'0');
            }
            b'\r' if i > 0 && digits.len() > i + 1 => return Some((n, at + 1 + i)),
            _ => return None,
        }
    }
    None
}

/// The index of the first `needle` in `hay`, eight bytes at a time.
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO.wrapping_mul(u64::from(needle));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ pattern;
        // A zero byte in x sets its high bit here (exact for the lowest one).
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&b| b == needle).map(|i| base + i)
}

/// C's `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The value of a hexadecimal digit.
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments the way `sdssplitargs` does, unquoting in
/// place: the write cursor never passes the read cursor because every
/// escape or quote is at least as long as what it produces.
fn split_args(line: &mut [u8], args: &mut Vec<Range<usize>>) -> Result<(), ProtocolError> {
    let end = line.len();
    // Reads past the end give 0, as the C string's terminator would.
    let at = |line: &[u8], i: usize| if i < end { line[i] } else { 0 };
    let (mut r, mut w) = (0usize, 0usize);
    loop {
        while r < end && is_space(line[r]) {
            r += 1;
        }
        if r >= end {
            return Ok(());
        }
        let start = w;
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = at(line, r);
            if in_dq {
                let hex = (at(line, r + 1) == b'x')
                    .then(|| Some(hex_val(at(line, r + 2))? * 16 + hex_val(at(line, r + 3))?))
                    .flatten();
                if c == b'\\' && hex.is_some() {
                    line[w] = hex.unwrap_or(0);
                    w += 1;
                    r += 3;
                } else if c == b'\\' && at(line, r + 1) != 0 {
                    r += 1;
                    line[w] = match line[r] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    };
                    w += 1;
                } else if c == b'"' {
                    let next = at(line, r + 1);
                    if next != 0 && !is_space(next) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    r += 1;
                    break;
                } else if c == 0 {
                    return Err(ProtocolError::UnbalancedQuotes);
                } else {
                    line[w] = c;
                    w += 1;
                }
            } else if in_sq {
                if c == b'\\' && at(line, r + 1) == b'\'' {
                    r += 1;
                    line[w] = b'\'';
                    w += 1;
                } else if c == b'\'' {
                    let next = at(line, r + 1);
                    if next != 0 && !is_space(next) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    r += 1;
                    break;
                } else if c == 0 {
                    return Err(ProtocolError::UnbalancedQuotes);
                } else {
                    line[w] = c;
                    w += 1;
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            r += 1;
                        }
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    _ => {
                        line[w] = c;
                        w += 1;
                    }
                }
            }
            r += 1;
        }
        args.push(start..w);
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
