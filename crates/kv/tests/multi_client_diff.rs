//! Differences from redis-server 7.0 that bench/kv_diff_multi.py (the
//! several-clients differential fuzzer) found: each test pins Redis's
//! reply.

mod common;

use common::{start, Raw};

#[test]
fn client_pause_checks_its_mode_before_its_timeout() {
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"CLIENT PAUSE 100 BOGUS\r\n", b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    r.roundtrip(b"CLIENT PAUSE x BOGUS\r\n", b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    r.roundtrip(b"CLIENT PAUSE x WRITE\r\n", b"-ERR timeout is not an integer or out of range\r\n");
}

#[test]
fn client_kill_has_no_maxage_filter_in_7_0() {
    // MAXAGE came with Redis 7.4; 7.0 calls it a syntax error.
    let srv = start();
    let mut r = Raw::connect(&srv);
    r.roundtrip(b"CLIENT KILL MAXAGE 10\r\n", b"-ERR syntax error\r\n");
    r.roundtrip(b"CLIENT KILL MAXAGE 10 SKIPME no\r\n", b"-ERR syntax error\r\n");
}
