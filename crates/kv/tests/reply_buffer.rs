//! The reply buffer's size between replies, as Redis 7.0 sizes it (its
//! unit/replybufsize): an idle client's shrinks to 1 KiB, a busy one's
//! grows to 16 KiB and no further, whatever size its replies are; DEBUG
//! REPLYBUFFER tunes the cron for tests; INFO counts the resizes.

mod common;
use common::*;

fn rbs(c: &mut redis::Connection, name: &str) -> usize {
    client_field(&client_line(c, name).expect("client connected"), "rbs")
}

#[test]
fn idle_buffers_shrink_and_busy_ones_grow_to_16k() {
    let srv = start();
    let mut r = conn(&srv);
    let _: () = q(&mut r, &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"]);
    let mut tc = conn(&srv);
    let _: () = q(&mut tc, &["CLIENT", "SETNAME", "test_client"]);
    wait_until("the idle client's buffer to shrink to 1 KiB", || {
        (1024..2046).contains(&rbs(&mut r, "test_client"))
    });
    assert!(common::info_u64(&mut r, "stats", "reply_buffer_shrinks") > 0);

    let big = "x".repeat(32768);
    let _: () = q(&mut r, &["SET", "bigval", &big]);
    let _: () = q(&mut r, &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never"]);
    wait_until("the busy client's buffer to grow to 16 KiB", || {
        let v: String = q(&mut tc, &["GET", "bigval"]);
        assert_eq!(v.len(), 32768);
        // A reply larger than the buffer does not stay in it once sent.
        let size = rbs(&mut r, "test_client");
        assert!(size < 32768, "rbs={size}");
        size >= 16384
    });
    assert!(common::info_u64(&mut r, "stats", "reply_buffer_expands") > 0);
    let _: () = q(&mut r, &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset"]);
    let _: () = q(&mut r, &["DEBUG", "REPLYBUFFER", "RESIZING", "0"]);
    let _: () = q(&mut r, &["DEBUG", "REPLYBUFFER", "RESIZING", "1"]);
}

#[test]
fn debug_replybuffer_errors() {
    let srv = start();
    let mut raw = Raw::connect(&srv);
    check(
        &mut raw,
        &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "soon"],
        "-ERR value is not an integer or out of range\r\n",
    );
    for args in [&["DEBUG", "REPLYBUFFER", "SIZE", "1"][..], &["DEBUG", "REPLYBUFFER", "RESIZING"]] {
        check(
            &mut raw,
            args,
            "-ERR unknown subcommand or wrong number of arguments for 'REPLYBUFFER'. Try DEBUG HELP.\r\n",
        );
    }
}
