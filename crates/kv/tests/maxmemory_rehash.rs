//! Redis's "Don't rehash if used memory exceeds maxmemory after rehash":
//! the keyspace's bucket array does not double when the new array would
//! take memory past `maxmemory`, which would then be paid for by evicting
//! keys. One test in its own binary: it reads the process-wide
//! `used_memory`, which other tests running beside it would move.

mod common;
use common::*;

fn keyspace_stats(c: &mut redis::Connection) -> String {
    q(c, &["DEBUG", "HTSTATS", "0"])
}

#[test]
fn keyspace_does_not_grow_past_maxmemory() {
    let srv = start();
    let mut c = conn(&srv);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    // 32768 keys fill a 32768-bucket table; the next key would double it,
    // a new array of 512 KiB.
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "32768", "", "1"]);
    wait_until("the keyspace to finish growing", || !keyspace_stats(&mut c).contains("rehashing target"));
    assert!(keyspace_stats(&mut c).contains(" table size: 32768\n number of elements: 32768\n"));
    let used = common::info_u64(&mut c, "memory", "used_memory");
    let limit = (used + 100 * 1024).to_string();
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", &limit]);
    let _: () = q(&mut c, &["SET", "k1", "v1"]);
    let _: () = q(&mut c, &["SET", "k2", "v2"]);
    let n: u64 = q(&mut c, &["DBSIZE"]);
    assert_eq!(n, 32770, "keys were evicted to pay for the table");
    assert_eq!(common::info_u64(&mut c, "stats", "evicted_keys"), 0);
    let stats = keyspace_stats(&mut c);
    assert!(
        stats.starts_with("[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 32768\n"),
        "{stats}"
    );
    assert!(!stats.contains("rehashing target"), "{stats}");
    // Without the limit, the next key grows the table.
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    let _: () = q(&mut c, &["SET", "k3", "v3"]);
    assert!(keyspace_stats(&mut c).contains("Hash table 1 stats (rehashing target):\n table size: 65536\n"));
}
