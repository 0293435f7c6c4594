//! RDB serialization: Redis's snapshot format, also used by DUMP/RESTORE.
//!
//! An RDB stream is a run of one-byte opcodes and typed objects. Lengths use a
//! variable-width encoding whose top two bits pick 6, 14, 32 or 64 bits, or
//! flag a "special" string (a small integer stored in binary, or an
//! LZF-compressed blob). Values are written in the plain encodings (one length
//! followed by the elements), which every Redis version loads; when reading,
//! the compact in-memory encodings Redis dumps as blobs (ziplist, listpack,
//! intset, zipmap, quicklist) are decoded too.
//!
//! The model here, [`RdbValue`], is neutral: the server converts to and from
//! its own value types, so this module depends on nothing else in the crate.
//!
//! - [`crc64`]: Redis's CRC-64 (Jones polynomial) and checksumming adapters.
//! - [`lzf`]: LZF compression and decompression.
//! - [`encode`]: the streaming low-level [`Encoder`] and [`encode_value`].
//! - [`decode`]: object decoding from any reader.
//! - [`file`](mod@file): whole files: [`RdbWriter`] and [`RdbReader`].
//! - DUMP payloads: [`dump_payload`] and [`parse_dump_payload`].

pub mod crc64;
pub mod decode;
pub mod encode;
pub mod file;
pub mod lzf;
mod packed;

#[cfg(test)]
mod fixture_tests;

pub use decode::{decode_value, Decoder};
pub use encode::{encode_value, Encoder};
pub use file::{RdbItem, RdbReader, RdbWriter, WriterOptions};

/// The RDB version this module writes (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;
/// The newest RDB version this module reads (Redis 7.4's).
pub const RDB_MAX_READ_VERSION: u16 = 12;

/// RDB object type bytes and opcodes, as in Redis's `rdb.h`.
pub mod consts {
    /// A string.
    pub const TYPE_STRING: u8 = 0;
    /// A list as a plain sequence of strings.
    pub const TYPE_LIST: u8 = 1;
    /// A set as a plain sequence of strings.
    pub const TYPE_SET: u8 = 2;
    /// A sorted set with scores as decimal strings (pre-RDB 8).
    pub const TYPE_ZSET: u8 = 3;
    /// A hash as a plain sequence of field, value pairs.
    pub const TYPE_HASH: u8 = 4;
    /// A sorted set with scores as binary doubles.
    pub const TYPE_ZSET_2: u8 = 5;
    /// A module value (4.0 release candidates).
    pub const TYPE_MODULE_PRE_GA: u8 = 6;
    /// A module value.
    pub const TYPE_MODULE_2: u8 = 7;
    /// A hash as a zipmap blob (Redis 2.x).
    pub const TYPE_HASH_ZIPMAP: u8 = 9;
    /// A list as a ziplist blob.
    pub const TYPE_LIST_ZIPLIST: u8 = 10;
    /// A set of integers as an intset blob.
    pub const TYPE_SET_INTSET: u8 = 11;
    /// A sorted set as a ziplist blob.
    pub const TYPE_ZSET_ZIPLIST: u8 = 12;
    /// A hash as a ziplist blob.
    pub const TYPE_HASH_ZIPLIST: u8 = 13;
    /// A list as a quicklist of ziplist nodes (Redis 3.2 to 6.2).
    pub const TYPE_LIST_QUICKLIST: u8 = 14;
    /// A stream (listpacks).
    pub const TYPE_STREAM_LISTPACKS: u8 = 15;
    /// A hash as a listpack blob.
    pub const TYPE_HASH_LISTPACK: u8 = 16;
    /// A sorted set as a listpack blob.
    pub const TYPE_ZSET_LISTPACK: u8 = 17;
    /// A list as a quicklist of plain or listpack nodes (Redis 7.0+).
    pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
    /// A stream (listpacks, version 2).
    pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
    /// A set as a listpack blob (Redis 7.2+).
    pub const TYPE_SET_LISTPACK: u8 = 20;
    /// A stream (listpacks, version 3).
    pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;

    /// Slot information (Redis 7.4 cluster), skipped when reading.
    pub const OPCODE_SLOT_INFO: u8 = 244;
    /// A function library.
    pub const OPCODE_FUNCTION2: u8 = 245;
    /// A function library (7.0 release candidates).
    pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;
    /// Module auxiliary data.
    pub const OPCODE_MODULE_AUX: u8 = 247;
    /// LRU idle time of the next key.
    pub const OPCODE_IDLE: u8 = 248;
    /// LFU frequency of the next key.
    pub const OPCODE_FREQ: u8 = 249;
    /// An auxiliary field (key, value strings).
    pub const OPCODE_AUX: u8 = 250;
    /// Hash table size hints for the current database.
    pub const OPCODE_RESIZEDB: u8 = 251;
    /// Absolute expiry of the next key, milliseconds (8 bytes LE).
    pub const OPCODE_EXPIRETIME_MS: u8 = 252;
    /// Absolute expiry of the next key, seconds (4 bytes LE).
    pub const OPCODE_EXPIRETIME: u8 = 253;
    /// Selects the database of the following keys.
    pub const OPCODE_SELECTDB: u8 = 254;
    /// End of file, followed by the CRC-64.
    pub const OPCODE_EOF: u8 = 255;
}

/// A value as RDB carries it, independent of the server's representation.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbValue {
    /// A string (binary safe).
    String(Vec<u8>),
    /// A list, head first.
    List(Vec<Vec<u8>>),
    /// A set's members, in no particular order.
    Set(Vec<Vec<u8>>),
    /// A hash's field, value pairs, in no particular order.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A sorted set's member, score pairs, in no particular order.
    ZSet(Vec<(Vec<u8>, f64)>),
}

/// Errors from reading or writing RDB data.
#[derive(Debug, thiserror::Error)]
pub enum RdbError {
    /// The underlying reader or writer failed.
    #[error("RDB I/O error: {0}")]
    Io(std::io::Error),
    /// The data ended in the middle of an item.
    #[error("unexpected end of RDB data")]
    UnexpectedEof,
    /// The file does not start with `REDIS` and four digits.
    #[error("not an RDB file (bad magic)")]
    BadMagic,
    /// The RDB version is newer than this reader understands.
    #[error("unsupported RDB version {0}")]
    UnsupportedVersion(u16),
    /// The stored CRC-64 does not match the data.
    #[error("Wrong RDB checksum expected: ({computed:x}) got: ({stored:x}): RDB CRC error")]
    ChecksumMismatch {
        /// The checksum stored in the data.
        stored: u64,
        /// The checksum computed over the data.
        computed: u64,
    },
    /// A DUMP payload too short to hold the version and checksum footer.
    #[error("DUMP payload too short ({0} bytes)")]
    PayloadTooShort(usize),
    /// An object type this module does not read (streams, modules, ...).
    #[error("unsupported RDB object type {code} ({name})")]
    UnsupportedType {
        /// The type byte.
        code: u8,
        /// What the type is.
        name: &'static str,
    },
    /// An opcode this module does not read (functions, module aux data).
    #[error("unsupported RDB opcode {code} ({name})")]
    UnsupportedOpcode {
        /// The opcode byte.
        code: u8,
        /// What the opcode carries.
        name: &'static str,
    },
    /// The data is malformed.
    #[error("corrupt RDB data: {0}")]
    Corrupt(String),
}

impl RdbError {
    /// True for the errors that RESTORE reports as "DUMP payload version or
    /// checksum are wrong" (as opposed to "Bad data format").
    pub fn is_version_or_checksum(&self) -> bool {
        matches!(
            self,
            RdbError::UnsupportedVersion(_)
                | RdbError::ChecksumMismatch { .. }
                | RdbError::PayloadTooShort(_)
        )
    }

    pub(crate) fn corrupt(msg: impl Into<String>) -> Self {
        RdbError::Corrupt(msg.into())
    }
}

impl From<std::io::Error> for RdbError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            RdbError::UnexpectedEof
        } else {
            RdbError::Io(e)
        }
    }
}

/// Serializes `value` as a DUMP payload: the type byte and object, the RDB
/// version (2 bytes LE) and the CRC-64 of all that (8 bytes LE). Version 10,
/// so Redis 7.0 and newer RESTORE it. Strings are not LZF-compressed.
pub fn dump_payload(value: &RdbValue) -> Vec<u8> {
    let mut out = Vec::new();
    encode_value(value, &mut out);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Parses a DUMP payload (RDB versions up to 12, i.e. Redis up to 7.4).
///
/// A short payload, a newer version or a wrong checksum give an error for
/// which [`RdbError::is_version_or_checksum`] is true; a checksum of 0 is not
/// special here (Redis only skips it for files). Bytes between the object and
/// the footer are ignored, as Redis does. Without `verify_checksum` (DEBUG
/// SET-SKIP-CHECKSUM-VALIDATION, for tests that corrupt payloads on
/// purpose) the checksum is not compared.
pub fn parse_dump_payload(payload: &[u8], verify_checksum: bool) -> Result<RdbValue, RdbError> {
    if payload.len() < 10 {
        return Err(RdbError::PayloadTooShort(payload.len()));
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_MAX_READ_VERSION {
        return Err(RdbError::UnsupportedVersion(version));
    }
    let stored = u64::from_le_bytes(footer[2..10].try_into().expect("8 bytes"));
    let computed = crc64::crc64(0, &payload[..payload.len() - 8]);
    if verify_checksum && stored != computed {
        return Err(RdbError::ChecksumMismatch { stored, computed });
    }
    let mut dec = Decoder::new(body);
    let ty = dec.read_u8()?;
    dec.read_object(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_values() -> Vec<RdbValue> {
        vec![
            RdbValue::String(b"hello".to_vec()),
            RdbValue::String(b"-12345".to_vec()),
            RdbValue::String(vec![b'z'; 300]),
            RdbValue::List(vec![b"a".to_vec(), b"17".to_vec(), vec![b'q'; 100]]),
            RdbValue::Set(vec![b"x".to_vec(), b"y".to_vec()]),
            RdbValue::Hash(vec![(b"f".to_vec(), b"v".to_vec()), (b"n".to_vec(), b"1".to_vec())]),
            RdbValue::ZSet(vec![
                (b"m".to_vec(), 1.5),
                (b"i".to_vec(), f64::INFINITY),
                (b"j".to_vec(), -0.25),
            ]),
        ]
    }

    #[test]
    fn dump_payload_round_trips() {
        for v in sample_values() {
            let p = dump_payload(&v);
            assert_eq!(&p[p.len() - 10..p.len() - 8], &[10, 0]);
            assert_eq!(parse_dump_payload(&p, true).unwrap(), v);
        }
    }

    #[test]
    fn dump_payload_of_a_string_matches_redis_bytes() {
        // `redis-cli DUMP` of SET k hello: "\x00\x05hello\n\x00" + CRC.
        let p = dump_payload(&RdbValue::String(b"hello".to_vec()));
        assert_eq!(&p[..9], b"\x00\x05hello\x0a\x00");
    }

    #[test]
    fn bad_checksum_and_version_are_distinct_errors() {
        let mut p = dump_payload(&RdbValue::String(b"hello".to_vec()));
        let n = p.len();
        p[n - 1] ^= 1;
        let e = parse_dump_payload(&p, true).unwrap_err();
        assert!(matches!(e, RdbError::ChecksumMismatch { .. }), "{e}");
        assert!(e.is_version_or_checksum());

        let mut p = dump_payload(&RdbValue::String(b"hello".to_vec()));
        p[n - 10] = 13;
        let body_len = n - 8;
        let crc = crc64::crc64(0, &p[..body_len]);
        p[body_len..].copy_from_slice(&crc.to_le_bytes());
        let e = parse_dump_payload(&p, true).unwrap_err();
        assert!(matches!(e, RdbError::UnsupportedVersion(13)), "{e}");
        assert!(e.is_version_or_checksum());

        assert!(parse_dump_payload(b"short", true).unwrap_err().is_version_or_checksum());
    }

    #[test]
    fn version_12_payload_is_accepted() {
        let mut p = dump_payload(&RdbValue::String(b"v".to_vec()));
        let n = p.len();
        p[n - 10] = 12;
        let crc = crc64::crc64(0, &p[..n - 8]);
        p[n - 8..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(parse_dump_payload(&p, true).unwrap(), RdbValue::String(b"v".to_vec()));
    }

    #[test]
    fn garbage_body_is_a_format_error_not_a_panic() {
        let mut body = vec![4u8, 0xC0 | 3, 0x7f, 0x7f];
        body.extend_from_slice(&10u16.to_le_bytes());
        let crc = crc64::crc64(0, &body);
        body.extend_from_slice(&crc.to_le_bytes());
        let e = parse_dump_payload(&body, true).unwrap_err();
        assert!(!e.is_version_or_checksum(), "{e}");
    }
}
