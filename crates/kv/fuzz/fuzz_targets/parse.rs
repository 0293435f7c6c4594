//! Feeds arbitrary bytes to the request parser as a server would: the bytes
//! arrive in chunks (all at once, one byte at a time, seven at a time), every
//! complete command is drained from the buffer, and both the default and
//! tight (unauthenticated, small bulk) limits are tried. Asserts that the
//! parser never panics and that every range it returns is in bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_kv::resp::parse::{Limits, RequestParser};

fn run(input: &[u8], chunk: usize, limits: &Limits) {
    let mut parser = RequestParser::new();
    let mut buf: Vec<u8> = Vec::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match parser.parse(&mut buf, limits) {
                Ok(Some(consumed)) => {
                    assert!(consumed > 0 && consumed <= buf.len());
                    for r in parser.args() {
                        assert!(r.start <= r.end && r.end <= consumed);
                    }
                    buf.drain(..consumed);
                }
                Ok(None) => {
                    if let Some(missing) = parser.pending_bulk() {
                        assert!(missing > 0);
                    }
                    break;
                }
                Err(_) => return, // the server closes the connection
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let tight = Limits { max_bulk_len: 64, authenticated: false };
    for limits in [Limits::default(), tight] {
        for chunk in [data.len().max(1), 1, 7] {
            run(data, chunk, &limits);
        }
    }
});
