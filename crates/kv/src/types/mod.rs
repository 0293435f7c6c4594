//! The values a key can hold, each with Redis's compact and large encodings.
//!
//! Redis keeps a small aggregate in one contiguous buffer (a *listpack*, or an
//! *intset* for a set of integers): no per-element allocation, good cache use,
//! and linear scans that beat hashing while the aggregate is small. Past a
//! threshold (see [`EncodingConfig`]) the value converts, once, to the large
//! form (a hash table, a skiplist, a quicklist). `OBJECT ENCODING` reports
//! the current form under Redis's names.
//!
//! [`hll`] is not a type of its own: a HyperLogLog is a string value whose
//! bytes follow Redis's HLL layout, read and written by the PF commands.

pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod zset;

/// The conversion thresholds, under Redis's option names, with Redis 7.2's
/// defaults. The server owns one and passes it to every mutating call.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodingConfig {
    /// `list-max-listpack-size` (alias `list-max-ziplist-size`): a positive
    /// value caps the entries of one listpack node; -1..=-5 cap its bytes at
    /// 4, 8, 16, 32 or 64 KiB.
    pub list_max_listpack_size: i64,
    /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`).
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`): the longest
    /// field or value a listpack hash may hold, in bytes.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `set-max-listpack-entries`.
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value`.
    pub set_max_listpack_value: usize,
    /// `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`).
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value` (alias `zset-max-ziplist-value`).
    pub zset_max_listpack_value: usize,
}

impl Default for EncodingConfig {
    fn default() -> EncodingConfig {
        EncodingConfig {
            list_max_listpack_size: -2,
            // 512, not 128: redis-server 7.0.15 (and 7.2) start with 512.
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}
