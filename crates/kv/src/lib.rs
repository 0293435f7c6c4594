//! spindle-kv: a Redis-compatible server built the way Redis is built.
//!
//! One thread owns the data and runs every command; an event loop
//! (spindle-loop) multiplexes every client. See the crate's modules:
//!
//! - [`resp`]: the RESP2/RESP3 wire protocol: the request parser and the reply writer.
//! - [`dict`]: the keyspace's hash table, with incremental rehashing and a
//!   SCAN cursor that survives resizes.
//! - [`types`]: the values (strings, lists, hashes, sets, sorted sets) with
//!   Redis's compact encodings, and the HyperLogLog layout PF commands keep
//!   in strings.
//! - [`rdb`]: Redis's RDB serialization (snapshots, DUMP and RESTORE).
//! - [`persist`]: snapshots, the append-only file, DUMP and RESTORE, and
//!   replication (a master's stream and backlog, a replica's link,
//!   FAILOVER).
//! - [`util`]: glob matching and Redis's number parsing and formatting.

pub mod alloc;
pub mod cmd;
pub mod db;
pub mod dict;
pub mod key;
pub mod lfu;
pub mod persist;
pub mod rdb;
pub mod resp;
pub mod server;
pub mod types;
pub mod util;
