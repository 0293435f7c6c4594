//! Converting between the server's values and the RDB model.
//!
//! Three directions:
//!
//! - [`to_rdb`]: a [`Value`] as an [`RdbValue`] (DUMP, tests);
//! - [`from_rdb`]: an [`RdbValue`] as a [`Value`], choosing the compact or
//!   large encoding by the server's [`EncodingConfig`], exactly as a run of
//!   writes would (a small hash loads as a listpack);
//! - [`write_entry`]: a key and its value streamed into an [`RdbWriter`]
//!   element by element, so saving never builds a second copy of a big
//!   value.
//!
//! Lists and sorted sets go through [`listzset`], one small module written
//! against the list and sorted-set API (`iter`, `from_items`, `from_pairs`).

use crate::db::{Entry, Str, Value, NO_EXPIRE};
use crate::rdb::consts::{TYPE_HASH, TYPE_LIST, TYPE_SET, TYPE_STRING, TYPE_ZSET_2};
use crate::rdb::{Encoder, RdbValue, RdbWriter};
use crate::types::hash::HashValue;
use crate::types::set::SetValue;
use crate::types::EncodingConfig;
use std::io::{self, Write};

/// The value as RDB carries it (a copy).
pub fn to_rdb(v: &Value) -> RdbValue {
    match v {
        Value::Str(s) => RdbValue::String(s.to_vec()),
        Value::Hash(h) => RdbValue::Hash(h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()),
        Value::Set(s) => RdbValue::Set(s.iter().map(|m| m.into_owned()).collect()),
        Value::List(l) => RdbValue::List(listzset::list_items(l)),
        Value::ZSet(z) => RdbValue::ZSet(listzset::zset_pairs(z)),
    }
}

/// The server's value for `v`, in the encoding `cfg` picks for its size.
///
/// # Errors
/// Redis's words for a field or member that appears twice (corrupt
/// data, which RESTORE and loading refuse).
pub fn from_rdb(v: RdbValue, cfg: &EncodingConfig) -> Result<Value, &'static str> {
    // A field or member twice is corruption Redis refuses (its dictAdd
    // fails): building the value drops the repeat, so the count tells.
    Ok(match v {
        RdbValue::String(s) => Value::Str(Str::from_bytes(&s)),
        RdbValue::Hash(pairs) => {
            let n = pairs.len();
            let h = HashValue::from_pairs(pairs, cfg);
            if h.len() != n {
                return Err("Duplicate hash fields detected");
            }
            Value::Hash(Box::new(h))
        }
        RdbValue::Set(members) => {
            let n = members.len();
            let s = SetValue::from_members(members, cfg);
            if s.len() != n {
                return Err("Duplicate set members detected");
            }
            Value::Set(Box::new(s))
        }
        RdbValue::List(items) => Value::List(Box::new(listzset::list_from(items, cfg))),
        RdbValue::ZSet(pairs) => {
            let n = pairs.len();
            let z = listzset::zset_from(pairs, cfg);
            if z.len() != n {
                return Err("Duplicate zset fields detected");
            }
            Value::ZSet(Box::new(z))
        }
    })
}

/// Whether an RDB value is empty (an aggregate with no elements): such a
/// key is skipped on load, as Redis does.
pub fn is_empty_aggregate(v: &RdbValue) -> bool {
    match v {
        RdbValue::String(_) => false,
        RdbValue::List(x) | RdbValue::Set(x) => x.is_empty(),
        RdbValue::Hash(x) => x.is_empty(),
        RdbValue::ZSet(x) => x.is_empty(),
    }
}

/// The RDB object type [`write_body`] writes for `v`.
pub fn object_type(v: &Value) -> u8 {
    match v {
        Value::Str(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST,
        Value::Set(_) => TYPE_SET,
        Value::Hash(_) => TYPE_HASH,
        Value::ZSet(_) => TYPE_ZSET_2,
    }
}

/// Writes one key: its expiry (if any), type, name and value, streaming.
///
/// # Errors
/// The writer's.
pub fn write_entry<W: Write>(w: &mut RdbWriter<W>, key: &[u8], e: &Entry, expire_at: i64) -> io::Result<()> {
    let expire = (expire_at != NO_EXPIRE).then_some(expire_at);
    let enc = w.begin_entry(key, object_type(&e.value), expire)?;
    write_body(enc, &e.value)
}

/// Writes the body of `v` (after its type byte) in the plain encodings.
///
/// # Errors
/// The writer's.
pub fn write_body<W: Write>(enc: &mut Encoder<W>, v: &Value) -> io::Result<()> {
    match v {
        Value::Str(s) => {
            let mut buf = [0; 20];
            enc.write_string(s.bytes(&mut buf))
        }
        Value::Hash(h) => {
            enc.write_len(h.len() as u64)?;
            h.iter().try_for_each(|(f, v)| {
                enc.write_string(f)?;
                enc.write_string(v)
            })
        }
        Value::Set(s) => {
            enc.write_len(s.len() as u64)?;
            s.iter().try_for_each(|m| enc.write_string(&m))
        }
        Value::List(l) => listzset::write_list(enc, l),
        Value::ZSet(z) => listzset::write_zset(enc, z),
    }
}

/// A DUMP payload of `v` (type, body, RDB version, CRC-64), streamed from
/// the value without an intermediate [`RdbValue`].
pub fn dump(v: &Value) -> Vec<u8> {
    let mut enc = Encoder::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = enc.begin_object(object_type(v));
    let _ = write_body(&mut enc, v);
    let mut out = enc.into_inner();
    out.extend_from_slice(&crate::rdb::RDB_VERSION.to_le_bytes());
    let crc = crate::rdb::crc64::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Lists and sorted sets: the only code that depends on the list and
/// sorted-set API (`ListValue::iter` yielding `&[u8]`,
/// `ListValue::from_items(items, cfg)`, `ZSetValue::iter` yielding
/// `(&[u8], f64)` in ascending order, `ZSetValue::from_pairs(pairs, cfg)`).
pub mod listzset {
    use crate::rdb::Encoder;
    use crate::types::list::ListValue;
    use crate::types::zset::ZSetValue;
    use crate::types::EncodingConfig;
    use std::io::{self, Write};

    /// The list's elements, head first.
    pub fn list_items(l: &ListValue) -> Vec<Vec<u8>> {
        l.iter().map(|x| x.to_vec()).collect()
    }

    /// The sorted set's `(member, score)` pairs.
    pub fn zset_pairs(z: &ZSetValue) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    /// A list from its elements.
    pub fn list_from(items: Vec<Vec<u8>>, cfg: &EncodingConfig) -> ListValue {
        ListValue::from_items(items, cfg)
    }

    /// A sorted set from its pairs.
    pub fn zset_from(pairs: Vec<(Vec<u8>, f64)>, cfg: &EncodingConfig) -> ZSetValue {
        ZSetValue::from_pairs(pairs, cfg)
    }

    /// Writes a list's body (`TYPE_LIST`: length and elements).
    ///
    /// # Errors
    /// The writer's.
    pub fn write_list<W: Write>(enc: &mut Encoder<W>, l: &ListValue) -> io::Result<()> {
        enc.write_len(l.len() as u64)?;
        l.iter().try_for_each(|x| enc.write_string(x))
    }

    /// Writes a sorted set's body (`TYPE_ZSET_2`: length, then member and
    /// binary score pairs).
    ///
    /// # Errors
    /// The writer's.
    pub fn write_zset<W: Write>(enc: &mut Encoder<W>, z: &ZSetValue) -> io::Result<()> {
        enc.write_len(z.len() as u64)?;
        z.iter().try_for_each(|(m, s)| {
            enc.write_string(m)?;
            enc.write_double(s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::{parse_dump_payload, RdbItem, RdbReader};

    fn cfg() -> EncodingConfig {
        EncodingConfig::default()
    }

    #[test]
    fn small_hash_loads_as_listpack_and_big_as_hashtable() {
        let small = RdbValue::Hash(vec![(b"f".to_vec(), b"v".to_vec())]);
        assert_eq!(from_rdb(small, &cfg()).unwrap().encoding(), "listpack");
        let big = RdbValue::Hash((0..600).map(|i| (format!("f{i}").into_bytes(), b"v".to_vec())).collect());
        assert_eq!(from_rdb(big, &cfg()).unwrap().encoding(), "hashtable");
        let long = RdbValue::Hash(vec![(b"f".to_vec(), vec![b'x'; 100])]);
        assert_eq!(from_rdb(long, &cfg()).unwrap().encoding(), "hashtable");
    }

    #[test]
    fn a_field_or_member_twice_is_refused() {
        let a = || b"a".to_vec();
        let h = RdbValue::Hash(vec![(a(), a()), (a(), b"b".to_vec())]);
        assert_eq!(from_rdb(h, &cfg()).err(), Some("Duplicate hash fields detected"));
        let s = RdbValue::Set(vec![a(), b"b".to_vec(), a()]);
        assert_eq!(from_rdb(s, &cfg()).err(), Some("Duplicate set members detected"));
        let z = RdbValue::ZSet(vec![(a(), 1.0), (a(), 2.0)]);
        assert_eq!(from_rdb(z, &cfg()).err(), Some("Duplicate zset fields detected"));
        // Lists may repeat.
        assert!(from_rdb(RdbValue::List(vec![a(), a()]), &cfg()).is_ok());
    }

    #[test]
    fn sets_pick_intset_listpack_or_hashtable() {
        let ints = RdbValue::Set(vec![b"1".to_vec(), b"2".to_vec()]);
        assert_eq!(from_rdb(ints, &cfg()).unwrap().encoding(), "intset");
        let strs = RdbValue::Set(vec![b"a".to_vec(), b"2".to_vec()]);
        assert_eq!(from_rdb(strs, &cfg()).unwrap().encoding(), "listpack");
        let many = RdbValue::Set((0..300).map(|i| format!("m{i}").into_bytes()).collect());
        assert_eq!(from_rdb(many, &cfg()).unwrap().encoding(), "hashtable");
    }

    #[test]
    fn strings_keep_their_encodings_and_round_trip() {
        for s in [&b"12345"[..], b"hello", &[b'z'; 100]] {
            let v = from_rdb(RdbValue::String(s.to_vec()), &cfg()).unwrap();
            assert_eq!(v.encoding(), Str::from_bytes(s).encoding());
            assert_eq!(to_rdb(&v), RdbValue::String(s.to_vec()));
            assert_eq!(parse_dump_payload(&dump(&v), true).unwrap(), RdbValue::String(s.to_vec()));
        }
    }

    #[test]
    fn streamed_dump_matches_the_codec_for_hashes_and_sets() {
        let h = from_rdb(
            RdbValue::Hash(vec![(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), b"2".to_vec())]),
            &cfg(),
        )
        .unwrap();
        assert_eq!(dump(&h), crate::rdb::dump_payload(&to_rdb(&h)));
        let s = from_rdb(RdbValue::Set(vec![b"7".to_vec(), b"x".to_vec()]), &cfg()).unwrap();
        let mut back = match parse_dump_payload(&dump(&s), true).unwrap() {
            RdbValue::Set(m) => m,
            other => panic!("{other:?}"),
        };
        back.sort();
        assert_eq!(back, vec![b"7".to_vec(), b"x".to_vec()]);
    }

    #[test]
    fn write_entry_keeps_the_deadline() {
        let mut w = RdbWriter::new(Vec::new()).unwrap();
        let e = Entry::new(Value::Str(Str::from_bytes(b"v")), 0);
        write_entry(&mut w, b"k", &e, 123_456).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = RdbReader::new(&bytes[..]).unwrap();
        let mut found = false;
        while let Some(item) = r.next_item().unwrap() {
            if let RdbItem::Entry { key, value, expire_at_ms, .. } = item {
                assert_eq!(
                    (key, value, expire_at_ms),
                    (b"k".to_vec(), RdbValue::String(b"v".to_vec()), Some(123_456))
                );
                found = true;
            }
        }
        assert!(found);
    }
}
