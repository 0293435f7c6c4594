//! Hash and set commands run straight through the command table: reply
//! shapes in RESP3 and RESP2, encodings and conversions, dirty counts.

use crate::cmd::{call, OwnedArgs};
use crate::server::client::Client;
use crate::server::{Config, Server};
use std::os::fd::OwnedFd;

struct Harness {
    srv: Server,
    c: Client,
    _peer: std::os::unix::net::UnixStream,
}

impl Harness {
    fn new(proto: u8) -> Harness {
        let (a, b) = std::os::unix::net::UnixStream::pair().expect("socketpair");
        let srv = Server::new(Config::default());
        let mut c = Client::new(1, OwnedFd::from(a), "test".into(), "test".into(), 0);
        c.proto = proto;
        Harness { srv, c, _peer: b }
    }

    fn run(&mut self, cmd: &str) -> String {
        let args = OwnedArgs::from_slices(cmd.split(' ').map(str::as_bytes));
        self.c.out.clear();
        call(&mut self.srv, &mut self.c, args.as_args());
        String::from_utf8_lossy(&self.c.out).into_owned()
    }
}

#[test]
fn set_replies_are_sets_in_resp3() {
    let mut h = Harness::new(3);
    assert_eq!(h.run("sadd s 1 2 3"), ":3\r\n");
    assert_eq!(h.run("smembers s"), "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    assert_eq!(h.run("smembers nokey"), "~0\r\n");
    assert_eq!(h.run("sunion s"), "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    assert_eq!(h.run("sdiff s"), "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    assert_eq!(h.run("sinter s nokey"), "~0\r\n");
    assert_eq!(h.run("spop s 0"), "~0\r\n");
    assert_eq!(h.run("spop nokey 2"), "~0\r\n");
    assert_eq!(h.run("smismember s 1 x"), "*2\r\n:1\r\n:0\r\n");
    // SRANDMEMBER replies arrays, even for the whole set.
    assert_eq!(h.run("srandmember s 5"), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    assert_eq!(h.run("srandmember s 0"), "*0\r\n");
    assert_eq!(h.run("srandmember nokey 3"), "*0\r\n");
    assert!(h.run("spop s 2").starts_with("~2\r\n"));
    assert!(h.run("spop s 5").starts_with("~1\r\n"));
    assert_eq!(h.run("exists s"), ":0\r\n");
    assert_eq!(h.run("srandmember nokey"), "_\r\n");
}

#[test]
fn spop_returns_the_rest_as_a_set_and_deletes_the_key() {
    let mut h = Harness::new(3);
    h.run("sadd s a");
    assert_eq!(h.run("spop s 5"), "~1\r\n$1\r\na\r\n");
    assert_eq!(h.run("scard s"), ":0\r\n");
}

#[test]
fn hash_shapes_in_resp3() {
    let mut h = Harness::new(3);
    assert_eq!(h.run("hset h a 1 b 2"), ":2\r\n");
    assert_eq!(h.run("hgetall h"), "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(h.run("hgetall nokey"), "%0\r\n");
    assert_eq!(
        h.run("hrandfield h 5 withvalues"),
        "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    let neg = h.run("hrandfield h -3 withvalues");
    assert!(neg.starts_with("*3\r\n*2\r\n"), "{neg}");
    assert_eq!(neg.matches("*2\r\n").count(), 3);
    assert_eq!(h.run("hrandfield nokey 1 withvalues"), "*0\r\n");
    assert_eq!(h.run("hget h x"), "_\r\n");
    assert_eq!(h.run("hscan h 0"), "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
}

#[test]
fn hash_shapes_in_resp2() {
    let mut h = Harness::new(2);
    h.run("hset h a 1 b 2");
    assert_eq!(h.run("hgetall h"), "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(h.run("hrandfield h 5 withvalues"), "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert!(h.run("hrandfield h -3 withvalues").starts_with("*6\r\n$1\r\n"));
    assert_eq!(h.run("smembers nokey"), "*0\r\n");
    assert_eq!(h.run("hget h x"), "$-1\r\n");
}

impl Harness {
    /// The encoding of `key`'s value, as OBJECT ENCODING would name it.
    fn encoding(&mut self, key: &str) -> &'static str {
        self.srv.dbs[0].keys.get(key.as_bytes()).map_or("none", |e| e.value.encoding())
    }
}

#[test]
fn sets_are_created_and_converted_as_redis_does() {
    let mut h = Harness::new(2);
    h.srv.config.encoding.set_max_intset_entries = 4;
    h.srv.config.encoding.set_max_listpack_entries = 6;
    h.run("sadd i 1 2 3");
    assert_eq!(h.encoding("i"), "intset");
    h.run("sadd i 4 5");
    assert_eq!(h.encoding("i"), "hashtable", "past set-max-intset-entries");
    h.run("sadd l 1 a");
    assert_eq!(h.encoding("l"), "listpack", "a string joins the integers");
    h.run("sadd l b c d e f");
    assert_eq!(h.encoding("l"), "hashtable", "past set-max-listpack-entries");
    // setTypeCreate sizes a new set for SADD's argument count.
    h.run("sadd big 1 2 3 4 5 6 7");
    assert_eq!(h.encoding("big"), "hashtable");
    h.run("sadd mid 1 2 3 4 5");
    assert_eq!(h.encoding("mid"), "listpack");
    // A store builds its result from an intset.
    h.run("sadd x 1 2");
    h.run("sunionstore d x");
    assert_eq!(h.encoding("d"), "intset");
    h.run("smove l d a");
    assert_eq!(h.encoding("d"), "listpack");
    h.run("smove l new b");
    assert_eq!(h.encoding("new"), "listpack");
    assert_eq!(h.run("srem new b"), ":1\r\n");
    assert_eq!(h.encoding("new"), "none", "an emptied set is deleted");
}

#[test]
fn hashes_convert_through_the_commands() {
    let mut h = Harness::new(2);
    h.srv.config.encoding.hash_max_listpack_entries = 2;
    h.srv.config.encoding.hash_max_listpack_value = 4;
    h.run("hset h a 1 b 2");
    assert_eq!(h.encoding("h"), "listpack");
    h.run("hset h c 3");
    assert_eq!(h.encoding("h"), "hashtable");
    h.run("hset g a 1");
    h.run("hincrbyfloat g a 0.125");
    assert_eq!(h.encoding("g"), "hashtable", "a value past hash-max-listpack-value");
    h.run("hsetnx k long-field 1");
    assert_eq!(h.encoding("k"), "hashtable");
    h.run("hdel k long-field");
    assert_eq!(h.encoding("k"), "none");
}

#[test]
fn writes_count_their_changes() {
    let mut h = Harness::new(2);
    let d0 = h.srv.dirty;
    h.run("hset h a 1 b 2");
    assert_eq!(h.srv.dirty - d0, 2);
    h.run("hdel h zz");
    h.run("hsetnx h a 1");
    h.run("sadd s 1");
    assert_eq!(h.srv.dirty - d0, 3, "no-op writes change nothing");
    h.run("sadd s 1 2 3");
    assert_eq!(h.srv.dirty - d0, 5);
    h.run("srem s 1 2 9");
    assert_eq!(h.srv.dirty - d0, 7);
    h.run("spop s");
    assert_eq!(h.srv.dirty - d0, 8);
    h.run("hincrby h n 1");
    h.run("hincrbyfloat h n 1");
    assert_eq!(h.srv.dirty - d0, 10);
    h.run("sinterstore d nokey");
    assert_eq!(h.srv.dirty - d0, 10, "nothing to delete, nothing stored");
}
