//! Reading and dropping a `Transfer-Encoding: chunked` request body.
//!
//! A static file server has no use for a request body, but it must still
//! read one to find where the next request on the connection begins: a
//! body left unread would be parsed as the next request (which is also how
//! request smuggling starts). nginx does this in
//! `ngx_http_discard_request_body`; [`Discard`] is the same idea as a small
//! state machine fed whatever bytes arrived. It keeps no data and no
//! buffer, only its place in the grammar (RFC 9112 §7.1):
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! last-chunk   = 1*("0") [ chunk-ext ] CRLF
//! ```
//!
//! so a body split across reads at any byte (inside a size line, between
//! CR and LF) decodes the same. Chunk extensions and trailer fields are
//! skipped; a bare LF is accepted where CRLF is due, as nginx accepts it.
//! The decoded size is counted against the body limit, checked as soon as
//! a chunk's size line ends, before its data arrives. A size line is at
//! most [`MAX_LINE`] bytes and the trailer section at most [`MAX_TRAILER`],
//! so extensions and trailers cannot stretch a body without bound.

/// Longest chunk-size line (size and extensions), in bytes.
pub const MAX_LINE: usize = 4096;
/// Largest trailer section, in bytes.
pub const MAX_TRAILER: usize = 16 << 10;

/// Where the decoder is in the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In the hex digits of a chunk size (`digits` read so far).
    Size {
        digits: u8,
    },
    /// After the size: optional whitespace and `;` extensions, to the end
    /// of the line.
    Ext,
    /// Saw CR at the end of a size line.
    SizeLf,
    /// Inside a chunk's data, with this many bytes to go.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer line.
    Trailer,
    /// Saw CR at the end of a trailer line.
    TrailerLf,
    /// Saw CR of the final empty line.
    FinalLf,
    /// The body is over.
    Done,
}

/// What feeding bytes led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The body goes on: feed more.
    More,
    /// The body ended; the bytes after those consumed belong to the next
    /// request.
    Done,
    /// The decoded body would exceed the limit (413).
    TooLarge,
    /// The framing is broken (400).
    Malformed,
}

/// A chunked body being read and dropped.
///
/// ```
/// use spindle_http::chunked::{Discard, Progress};
/// let mut d = Discard::new(1 << 20);
/// let wire = b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: y\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n";
/// // Any split decodes the same.
/// let (n1, p1) = d.feed(&wire[..3]);
/// assert_eq!((n1, p1), (3, Progress::More));
/// let (n2, p2) = d.feed(&wire[3..]);
/// assert_eq!(p2, Progress::Done);
/// assert_eq!(&wire[3 + n2..], b"GET / HTTP/1.1\r\nHost: x\r\n");
/// assert_eq!(d.decoded(), 5);
/// ```
#[derive(Clone, Debug)]
pub struct Discard {
    state: State,
    /// The size being read, then the size of the current chunk.
    size: u64,
    /// Decoded bytes so far (sizes of the chunks whose size line ended).
    total: u64,
    limit: u64,
    /// Bytes of the current size line.
    line: usize,
    /// Bytes of the trailer section.
    trailer: usize,
    /// Set once the body failed; the decoder then stays put.
    failed: Option<Progress>,
}

impl Discard {
    /// A decoder for a body of at most `limit` decoded bytes.
    pub fn new(limit: u64) -> Discard {
        Discard {
            state: State::Size { digits: 0 },
            size: 0,
            total: 0,
            limit,
            line: 0,
            trailer: 0,
            failed: None,
        }
    }

    /// The decoded size so far.
    pub fn decoded(&self) -> u64 {
        self.total
    }

    /// Consumes what it can of `data`: returns how many bytes it used and
    /// where that left the body. After `Done`, `TooLarge` or `Malformed`
    /// the decoder stays there and consumes nothing more.
    pub fn feed(&mut self, data: &[u8]) -> (usize, Progress) {
        if let Some(p) = self.failed {
            return (0, p);
        }
        let mut i = 0;
        while i < data.len() {
            let c = data[i];
            match self.state {
                State::Done => return (i, Progress::Done),
                State::Data(n) => {
                    // The only state that takes more than one byte a step.
                    let take = n.min((data.len() - i) as u64);
                    i += take as usize;
                    self.state = if take == n { State::DataCr } else { State::Data(n - take) };
                    continue;
                }
                State::Size { digits } => {
                    self.line += 1;
                    if self.line > MAX_LINE {
                        return self.fail(i, Progress::Malformed);
                    }
                    if let Some(v) = (c as char).to_digit(16) {
                        // A size past the limit fails at once (and can
                        // then never overflow); leading zeros are fine.
                        match self.size.checked_mul(16) {
                            Some(s) if s | u64::from(v) <= self.limit => self.size = s | u64::from(v),
                            _ => return self.fail(i, Progress::TooLarge),
                        }
                        self.state = State::Size { digits: digits.saturating_add(1) };
                    } else if digits == 0 {
                        return self.fail(i, Progress::Malformed);
                    } else {
                        match c {
                            b' ' | b'\t' | b';' => self.state = State::Ext,
                            b'\r' => self.state = State::SizeLf,
                            b'\n' => {
                                if let Some(p) = self.size_line_done() {
                                    return self.fail(i, p);
                                }
                            }
                            _ => return self.fail(i, Progress::Malformed),
                        }
                    }
                }
                State::Ext => {
                    self.line += 1;
                    if self.line > MAX_LINE {
                        return self.fail(i, Progress::Malformed);
                    }
                    match c {
                        b'\r' => self.state = State::SizeLf,
                        b'\n' => {
                            if let Some(p) = self.size_line_done() {
                                return self.fail(i, p);
                            }
                        }
                        _ => {}
                    }
                }
                State::SizeLf => {
                    if c != b'\n' {
                        return self.fail(i, Progress::Malformed);
                    }
                    if let Some(p) = self.size_line_done() {
                        return self.fail(i, p);
                    }
                }
                State::DataCr => match c {
                    b'\r' => self.state = State::DataLf,
                    b'\n' => self.next_chunk(),
                    _ => return self.fail(i, Progress::Malformed),
                },
                State::DataLf => {
                    if c != b'\n' {
                        return self.fail(i, Progress::Malformed);
                    }
                    self.next_chunk();
                }
                State::TrailerStart => match c {
                    b'\r' => self.state = State::FinalLf,
                    b'\n' => {
                        self.state = State::Done;
                        return (i + 1, Progress::Done);
                    }
                    _ => self.state = State::Trailer,
                },
                State::Trailer => match c {
                    b'\r' => self.state = State::TrailerLf,
                    b'\n' => self.state = State::TrailerStart,
                    _ => {}
                },
                State::TrailerLf => {
                    if c != b'\n' {
                        return self.fail(i, Progress::Malformed);
                    }
                    self.state = State::TrailerStart;
                }
                State::FinalLf => {
                    if c != b'\n' {
                        return self.fail(i, Progress::Malformed);
                    }
                    self.state = State::Done;
                    return (i + 1, Progress::Done);
                }
            }
            if matches!(self.state, State::Trailer | State::TrailerLf | State::TrailerStart) {
                self.trailer += 1;
                if self.trailer > MAX_TRAILER {
                    return self.fail(i, Progress::Malformed);
                }
            }
            i += 1;
        }
        (i, if self.state == State::Done { Progress::Done } else { Progress::More })
    }

    /// The size line ended: start the chunk's data, or the trailers after
    /// the last chunk. Returns the failure if the limit is passed.
    fn size_line_done(&mut self) -> Option<Progress> {
        self.line = 0;
        if self.size == 0 {
            self.state = State::TrailerStart;
            return None;
        }
        self.total = self.total.saturating_add(self.size);
        if self.total > self.limit {
            return Some(Progress::TooLarge);
        }
        self.state = State::Data(self.size);
        None
    }

    fn next_chunk(&mut self) {
        self.state = State::Size { digits: 0 };
        self.size = 0;
        self.line = 0;
    }

    /// Stays failed: later feeds consume nothing.
    fn fail(&mut self, i: usize, p: Progress) -> (usize, Progress) {
        self.failed = Some(p);
        (i, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `wire` in the given pieces; returns the outcome and how many
    /// bytes of `wire` were consumed in all.
    fn run(limit: u64, wire: &[u8], cuts: &[usize]) -> (Progress, usize, u64) {
        let mut d = Discard::new(limit);
        let mut at = 0;
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(wire.len())).collect();
        bounds.sort_unstable();
        bounds.push(wire.len());
        let mut last = Progress::More;
        for b in bounds {
            if b < at {
                continue;
            }
            let (n, p) = d.feed(&wire[at..b]);
            at += n;
            last = p;
            if p != Progress::More {
                break;
            }
            assert_eq!(at, b, "More must consume everything");
        }
        (last, at, d.decoded())
    }

    fn whole(limit: u64, wire: &[u8]) -> (Progress, usize, u64) {
        run(limit, wire, &[])
    }

    #[test]
    fn valid_bodies() {
        let w = b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\nNEXT";
        assert_eq!(whole(100, w), (Progress::Done, w.len() - 4, 23));
        // Extensions, whitespace before them, trailers, bare LF, upper and
        // lower case hex, leading zeros.
        let w = b"a ; name=\"v;x\"\r\n0123456789\r\n0000A;x\n0123456789\n0;last\r\nA: b\r\nC: d\r\n\r\n";
        assert_eq!(whole(100, w), (Progress::Done, w.len(), 20));
        assert_eq!(whole(100, b"0\r\n\r\n"), (Progress::Done, 5, 0));
        assert_eq!(whole(100, b"0\n\n"), (Progress::Done, 3, 0));
        // Incomplete: More, everything consumed.
        assert_eq!(whole(100, b"5\r\nhel"), (Progress::More, 6, 5));
        assert_eq!(whole(100, b"0\r\nTrailer: x"), (Progress::More, 13, 0));
    }

    #[test]
    fn limit() {
        assert_eq!(whole(10, b"a\r\n0123456789\r\n0\r\n\r\n").0, Progress::Done);
        assert_eq!(whole(10, b"b\r\n").0, Progress::TooLarge);
        // Caught at the size line, before the data.
        assert_eq!(whole(10, b"6\r\nabcdef\r\n5\r\n"), (Progress::TooLarge, 13, 11));
        // Sizes that would overflow.
        assert_eq!(whole(u64::MAX, b"fffffffffffffffff\r\n").0, Progress::TooLarge);
        assert_eq!(whole(100, b"ffffffffffffffffffffffffffffffff\r\n").0, Progress::TooLarge);
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"\r\n"[..],
            b"x\r\n",
            b"-1\r\n",
            b"5\rX",
            b"5\r\nhelloX",
            b"5\r\nhello\rX",
            b"5 x\r\r",
            b"0\r\n\rX",
            b"0\r\nA: b\rX",
            b"+5\r\n",
        ] {
            assert_eq!(whole(100, bad).0, Progress::Malformed, "{:?}", String::from_utf8_lossy(bad));
        }
        let long_ext = format!("1;{}\r\n", "e".repeat(MAX_LINE));
        assert_eq!(whole(100, long_ext.as_bytes()).0, Progress::Malformed);
        let long_trailer = format!("0\r\nX: {}\r\n\r\n", "t".repeat(MAX_TRAILER));
        assert_eq!(whole(100, long_trailer.as_bytes()).0, Progress::Malformed);
        // A failed decoder stays failed.
        let mut d = Discard::new(100);
        assert_eq!(d.feed(b"zz").1, Progress::Malformed);
        assert_eq!(d.feed(b"0\r\n\r\n"), (0, Progress::Malformed));
    }

    /// A valid encoding of `chunks` (each a data length), with extensions
    /// and trailers chosen by the flags.
    fn encode(chunks: &[usize], ext: bool, trailers: bool, lf_only: bool) -> (Vec<u8>, u64) {
        let nl: &[u8] = if lf_only { b"\n" } else { b"\r\n" };
        let mut w = Vec::new();
        let mut total = 0u64;
        for (i, &n) in chunks.iter().enumerate() {
            w.extend_from_slice(format!("{n:x}").as_bytes());
            if ext {
                w.extend_from_slice(format!(";i={i}").as_bytes());
            }
            w.extend_from_slice(nl);
            w.extend((0..n).map(|k| b"0123456789\r\n"[k % 12]));
            w.extend_from_slice(nl);
            total += n as u64;
        }
        w.extend_from_slice(b"0");
        w.extend_from_slice(nl);
        if trailers {
            w.extend_from_slice(b"X-Sum: 1");
            w.extend_from_slice(nl);
        }
        w.extend_from_slice(nl);
        (w, total)
    }

    proptest! {
        #[test]
        fn any_split_decodes_the_same(
            chunks in proptest::collection::vec(1usize..300, 0..8),
            ext in any::<bool>(),
            trailers in any::<bool>(),
            lf_only in any::<bool>(),
            cuts in proptest::collection::vec(0usize..3000, 0..40),
        ) {
            let (mut wire, total) = encode(&chunks, ext, trailers, lf_only);
            let body_len = wire.len();
            wire.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            let (p, used, decoded) = run(1 << 20, &wire, &cuts);
            prop_assert_eq!(p, Progress::Done);
            prop_assert_eq!(used, body_len);
            prop_assert_eq!(decoded, total);
            // One byte at a time, too.
            let every: Vec<usize> = (0..wire.len()).collect();
            prop_assert_eq!(run(1 << 20, &wire, &every), (Progress::Done, body_len, total));
        }

        #[test]
        fn truncated_is_never_done(
            chunks in proptest::collection::vec(1usize..100, 1..5),
            cut in any::<prop::sample::Index>(),
        ) {
            let (wire, _) = encode(&chunks, true, true, false);
            let at = cut.index(wire.len());
            let (p, used, _) = run(1 << 20, &wire[..at], &[]);
            prop_assert_eq!((p, used), (Progress::More, at));
        }
    }
}
