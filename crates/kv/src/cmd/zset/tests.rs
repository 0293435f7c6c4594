//! Unit tests: reply shapes in RESP2 and RESP3.

use super::reply_pairs;
use crate::resp::reply::Reply;

fn with(proto: u8, f: impl FnOnce(&mut Reply<'_>)) -> String {
    let mut out = Vec::new();
    f(&mut Reply::new(&mut out, proto));
    String::from_utf8(out).unwrap()
}

#[test]
fn pairs_are_flat_in_resp2_and_nested_in_resp3() {
    let pairs = [(&b"a"[..], 1.0), (&b"b"[..], 2.5)];
    assert_eq!(with(2, |r| reply_pairs(r, pairs, false)), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(with(3, |r| reply_pairs(r, pairs, false)), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(
        with(2, |r| reply_pairs(r, pairs, true)),
        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
    );
    assert_eq!(
        with(3, |r| reply_pairs(r, pairs, true)),
        "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    );
    assert_eq!(with(3, |r| reply_pairs(r, [], true)), "*0\r\n");
}
