//! The reply writer: RESP2 and RESP3 into a client's output buffer.
//!
//! Every command writes its reply through [`Reply`], which knows the
//! protocol version the client chose with `HELLO`. RESP3 adds types that
//! RESP2 has to spell with the old ones: a map is an array of twice the
//! length, a set is an array, a double is a bulk string, a boolean is an
//! integer and the one null becomes `$-1` or `*-1` by context. Writing
//! through one type keeps that translation in one place, as Redis keeps it
//! in `networking.c`'s `addReply*` family.
//!
//! Replies go into a plain `Vec<u8>` that the server flushes before the loop
//! sleeps (Redis's `beforeSleep`), so a pipeline of commands read in one
//! `read` is answered with one `write`.
//!
//! ```
//! use spindle_kv::resp::reply::Reply;
//! let mut out = Vec::new();
//! let mut r = Reply::new(&mut out, 2);
//! r.array_len(2);
//! r.bulk(b"hello");
//! r.null();
//! assert_eq!(out, b"*2\r\n$5\r\nhello\r\n$-1\r\n");
//! ```

/// A reply being written for a client that speaks `proto` (2 or 3).
pub struct Reply<'a> {
    out: &'a mut Vec<u8>,
    resp3: bool,
}

/// A length written later: see [`Reply::defer`].
#[derive(Debug, Clone, Copy)]
#[must_use = "a deferred length must be completed"]
pub struct Deferred(usize);

impl<'a> Reply<'a> {
    /// A writer appending to `out` in protocol version `proto` (2 or 3).
    pub fn new(out: &'a mut Vec<u8>, proto: u8) -> Reply<'a> {
        Reply { out, resp3: proto >= 3 }
    }

    /// Whether the client speaks RESP3.
    pub fn is_resp3(&self) -> bool {
        self.resp3
    }

    /// The buffer written so far.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        self.out
    }

    /// Appends raw protocol bytes (a reply prepared elsewhere).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.out.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string: `+text`. `text` must not contain CR or LF.
    pub fn simple(&mut self, text: &str) {
        self.out.push(b'+');
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// An error: `-text`. The text carries its own code ("ERR ...",
    /// "WRONGTYPE ..."); CR and LF in it become spaces, as Redis does.
    pub fn error(&mut self, text: &str) {
        self.error_bytes(text.as_bytes());
    }

    /// An error from bytes that need not be UTF-8 (a client's argument
    /// quoted in it), written as [`Reply::error`] writes text.
    pub fn error_bytes(&mut self, text: &[u8]) {
        self.out.push(b'-');
        self.out.extend(text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.out.extend_from_slice(b"\r\n");
    }

    fn header(&mut self, tag: u8, n: i64) {
        self.out.push(tag);
        let mut buf = itoa_buf();
        self.out.extend_from_slice(fmt_i64(n, &mut buf));
        self.out.extend_from_slice(b"\r\n");
    }

    /// An integer: `:n`.
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.out.extend_from_slice(b":0\r\n"),
            1 => self.out.extend_from_slice(b":1\r\n"),
            _ => self.header(b':', n),
        }
    }

    /// A bulk string: `$len` then the bytes.
    pub fn bulk(&mut self, bytes: &[u8]) {
        self.header(b'$', bytes.len() as i64);
        self.out.extend_from_slice(bytes);
        self.out.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (GET of an integer-encoded string).
    pub fn bulk_i64(&mut self, n: i64) {
        let mut buf = itoa_buf();
        let s = fmt_i64(n, &mut buf);
        self.header(b'$', s.len() as i64);
        self.out.extend_from_slice(s);
        self.out.extend_from_slice(b"\r\n");
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        self.out.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3 (BLPOP's timeout).
    pub fn null_array(&mut self) {
        self.out.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    /// An array header of `n` elements; the elements follow.
    pub fn array_len(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map header of `n` pairs: `%n` in RESP3, an array of `2n` in RESP2.
    pub fn map_len(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set header: `~n` in RESP3, an array in RESP2.
    pub fn set_len(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n as i64);
    }

    /// A push header (pub/sub messages): `>n` in RESP3, an array in RESP2.
    pub fn push_len(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n as i64);
    }

    /// A double: `,d` in RESP3, a bulk string in RESP2, formatted as Redis
    /// formats scores.
    pub fn double(&mut self, d: f64) {
        let s = crate::util::num::format_double(d);
        if self.resp3 {
            self.out.push(b',');
            self.out.extend_from_slice(s.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.out.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// Verbatim text (INFO, CLIENT LIST): `=len\r\ntxt:...` in RESP3, a bulk
    /// string in RESP2.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3 {
            self.header(b'=', text.len() as i64 + 4);
            self.out.extend_from_slice(b"txt:");
            self.out.extend_from_slice(text);
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Reserves a place for an aggregate header whose length is not known
    /// yet (KEYS, ZRANGE ... LIMIT); finish with [`Reply::end_array`],
    /// [`Reply::end_map`] or [`Reply::end_set`].
    pub fn defer(&mut self) -> Deferred {
        Deferred(self.out.len())
    }

    fn end_with(&mut self, at: Deferred, tag: u8, n: i64) {
        let mut head = Vec::with_capacity(24);
        head.push(tag);
        let mut buf = itoa_buf();
        head.extend_from_slice(fmt_i64(n, &mut buf));
        head.extend_from_slice(b"\r\n");
        self.out.splice(at.0..at.0, head);
    }

    /// Completes a deferred array of `n` elements.
    pub fn end_array(&mut self, at: Deferred, n: usize) {
        self.end_with(at, b'*', n as i64);
    }

    /// Completes a deferred map of `n` pairs.
    pub fn end_map(&mut self, at: Deferred, n: usize) {
        if self.resp3 {
            self.end_with(at, b'%', n as i64);
        } else {
            self.end_with(at, b'*', 2 * n as i64);
        }
    }

    /// Completes a deferred set of `n` elements.
    pub fn end_set(&mut self, at: Deferred, n: usize) {
        self.end_with(at, if self.resp3 { b'~' } else { b'*' }, n as i64);
    }
}

/// A stack buffer for [`fmt_i64`].
fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// Formats `n` in decimal into the tail of `buf`, returning the digits.
pub fn fmt_i64(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        // i64::MIN has 19 digits, so there is always room for the sign.
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(proto: u8, f: impl FnOnce(&mut Reply<'_>)) -> String {
        let mut out = Vec::new();
        f(&mut Reply::new(&mut out, proto));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_format_like_redis() {
        assert_eq!(with(2, |r| r.int(i64::MIN)), ":-9223372036854775808\r\n");
        assert_eq!(with(2, |r| r.int(i64::MAX)), ":9223372036854775807\r\n");
        assert_eq!(with(2, |r| r.int(0)), ":0\r\n");
        assert_eq!(with(2, |r| r.bulk_i64(-12)), "$3\r\n-12\r\n");
    }

    #[test]
    fn resp3_types_degrade_to_resp2() {
        assert_eq!(with(2, |r| r.map_len(2)), "*4\r\n");
        assert_eq!(with(3, |r| r.map_len(2)), "%2\r\n");
        assert_eq!(with(2, |r| r.set_len(1)), "*1\r\n");
        assert_eq!(with(3, |r| r.set_len(1)), "~1\r\n");
        assert_eq!(with(2, |r| r.null()), "$-1\r\n");
        assert_eq!(with(3, |r| r.null()), "_\r\n");
        assert_eq!(with(2, |r| r.null_array()), "*-1\r\n");
        assert_eq!(with(2, |r| r.boolean(true)), ":1\r\n");
        assert_eq!(with(3, |r| r.boolean(false)), "#f\r\n");
        assert_eq!(with(2, |r| r.double(1.5)), "$3\r\n1.5\r\n");
        assert_eq!(with(3, |r| r.double(1.5)), ",1.5\r\n");
        assert_eq!(with(3, |r| r.verbatim(b"hi")), "=6\r\ntxt:hi\r\n");
        assert_eq!(with(3, |r| r.push_len(3)), ">3\r\n");
    }

    #[test]
    fn errors_lose_their_line_breaks() {
        assert_eq!(with(2, |r| r.error("ERR a\r\nb")), "-ERR a  b\r\n");
    }

    #[test]
    fn deferred_lengths_are_inserted_before_the_elements() {
        let s = with(2, |r| {
            r.int(7);
            let d = r.defer();
            r.bulk(b"a");
            r.bulk(b"b");
            r.end_array(d, 2);
        });
        assert_eq!(s, ":7\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        let s = with(2, |r| {
            let d = r.defer();
            r.bulk(b"k");
            r.bulk(b"v");
            r.end_map(d, 1);
        });
        assert_eq!(s, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    }
}
