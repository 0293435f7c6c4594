//! The body of a `multipart/byteranges` response (RFC 9110 §14.6), laid
//! out as nginx lays it out:
//!
//! ```text
//! CRLF "--" boundary CRLF
//! "Content-Type: " type CRLF
//! "Content-Range: bytes " first "-" last "/" size CRLF
//! CRLF
//! ...the range's bytes...
//! (the same for each further range)
//! CRLF "--" boundary "--" CRLF
//! ```
//!
//! The leading CRLF is a (valid, empty) multipart preamble; every other
//! CRLF before a `--boundary` belongs to the delimiter, not to the data.
//! The part heads are small and built up front, so the response's
//! `Content-Length` is known before anything is sent and the bytes of each
//! range can still go by `sendfile` between the heads. The boundary is a
//! 20-digit number, as nginx's, taken per response from a per-thread
//! sequence with a random start (nginx counts from a fixed one).

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

/// One part: its head, then `len` bytes of the file from `start`.
#[derive(Debug)]
pub(crate) struct Part {
    pub head: Vec<u8>,
    pub start: u64,
    pub len: u64,
}

/// The parts of a multipart body and its closing delimiter.
#[derive(Debug)]
pub(crate) struct Multipart {
    boundary: [u8; 20],
    pub parts: Vec<Part>,
    pub tail: Vec<u8>,
}

thread_local! {
    static NEXT: Cell<u64> = Cell::new({
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(std::process::id().into());
        h.finish()
    });
}

/// The next boundary number of this thread.
fn next_boundary() -> u64 {
    NEXT.with(|n| {
        let v = n.get();
        // An odd step visits every u64 before repeating.
        n.set(v.wrapping_add(0x9E37_79B9_7F4A_7C15));
        v
    })
}

impl Multipart {
    /// The parts for `ranges` (inclusive, in order) of a file of `size`
    /// bytes whose type is `content_type`.
    pub fn new(content_type: &str, size: u64, ranges: &[(u64, u64)]) -> Multipart {
        // u64::MAX has 20 digits.
        let mut boundary = [b'0'; 20];
        let mut n = next_boundary();
        for d in boundary.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let parts = ranges
            .iter()
            .map(|&(a, b)| {
                let mut head = Vec::with_capacity(64 + content_type.len());
                head.extend_from_slice(b"\r\n--");
                head.extend_from_slice(&boundary);
                head.extend_from_slice(b"\r\nContent-Type: ");
                head.extend_from_slice(content_type.as_bytes());
                head.extend_from_slice(format!("\r\nContent-Range: bytes {a}-{b}/{size}\r\n\r\n").as_bytes());
                Part { head, start: a, len: b - a + 1 }
            })
            .collect();
        let mut tail = Vec::with_capacity(28);
        tail.extend_from_slice(b"\r\n--");
        tail.extend_from_slice(&boundary);
        tail.extend_from_slice(b"--\r\n");
        Multipart { boundary, parts, tail }
    }

    /// The `Content-Type` header line of the response.
    pub fn content_type_line(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"Content-Type: multipart/byteranges; boundary=");
        out.extend_from_slice(&self.boundary);
        out.extend_from_slice(b"\r\n");
    }

    /// The length of the whole body (the response's `Content-Length`).
    pub fn len(&self) -> u64 {
        let parts: u64 = self.parts.iter().map(|p| p.head.len() as u64 + p.len).sum();
        parts + self.tail.len() as u64
    }

    /// Writes the whole body, taking the ranges' bytes from `file` (the
    /// file's contents, held in memory).
    pub fn write(&self, out: &mut Vec<u8>, file: &[u8]) {
        for p in &self.parts {
            out.extend_from_slice(&p.head);
            out.extend_from_slice(&file[p.start as usize..(p.start + p.len) as usize]);
        }
        out.extend_from_slice(&self.tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_length() {
        let file: Vec<u8> = (0..100u8).collect();
        let m = Multipart::new("text/plain", 100, &[(0, 1), (98, 99)]);
        let mut body = Vec::new();
        m.write(&mut body, &file);
        assert_eq!(body.len() as u64, m.len());
        let b = std::str::from_utf8(&m.boundary).unwrap();
        let mut want =
            format!("\r\n--{b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/100\r\n\r\n")
                .into_bytes();
        want.extend_from_slice(&[0, 1]);
        want.extend_from_slice(
            format!("\r\n--{b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 98-99/100\r\n\r\n")
                .as_bytes(),
        );
        want.extend_from_slice(&[98, 99]);
        want.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        assert_eq!(body, want);
        let mut line = Vec::new();
        m.content_type_line(&mut line);
        assert_eq!(line, format!("Content-Type: multipart/byteranges; boundary={b}\r\n").as_bytes());
        // A fresh boundary per response.
        assert_ne!(Multipart::new("x", 1, &[(0, 0)]).boundary, m.boundary);
    }
}
