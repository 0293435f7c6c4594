//! Reading RDB objects: every encoding Redis up to 7.4 writes for strings,
//! lists, sets, hashes and sorted sets.
//!
//! The plain types are a length and that many elements. The others are one
//! string holding an in-memory blob (ziplist, listpack, intset, zipmap; see
//! `packed`), or for lists a quicklist: a count of nodes, each a blob (or,
//! in quicklist 2, a PLAIN node holding one large element as is).

use std::io::Read;

use super::consts::*;
use super::{lzf, packed, RdbError, RdbValue};

type Result<T> = std::result::Result<T, RdbError>;

/// Up-front reservation cap for counts read from untrusted data.
const MAX_PREALLOC: usize = 4096;

/// Quicklist 2 node containers.
const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// A length field, or a "special encoding" marker (`11xxxxxx`).
enum Len {
    Plain(u64),
    Encoded(u8),
}

/// A streaming reader of RDB primitives over any [`Read`].
#[derive(Debug)]
pub struct Decoder<R> {
    r: R,
}

fn to_usize(n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| RdbError::corrupt(format!("length {n} too large")))
}

fn parse_score(s: &[u8]) -> Result<f64> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| RdbError::corrupt(format!("invalid score {:?}", String::from_utf8_lossy(s))))
}

fn pairs(items: Vec<Vec<u8>>, what: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    if items.len() % 2 != 0 {
        return Err(RdbError::corrupt(format!("{what} with an odd number of entries")));
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

fn zset_pairs(items: Vec<Vec<u8>>, what: &str) -> Result<Vec<(Vec<u8>, f64)>> {
    pairs(items, what)?.into_iter().map(|(m, s)| Ok((m, parse_score(&s)?))).collect()
}

impl<R: Read> Decoder<R> {
    /// Reads from `r`.
    pub fn new(r: R) -> Self {
        Decoder { r }
    }

    /// The wrapped reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.r
    }

    /// Unwraps the reader.
    pub fn into_inner(self) -> R {
        self.r
    }

    /// Reads one byte (an opcode or an object type).
    pub fn read_u8(&mut self) -> Result<u8> {
        let mut b = [0u8; 1];
        self.r.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// Reads exactly `N` bytes.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        Ok(b)
    }

    /// Reads `n` raw bytes, growing the buffer only as data arrives (a bogus
    /// huge length fails at the end of input instead of allocating it).
    pub fn read_bytes(&mut self, n: u64) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(to_usize(n)?.min(1 << 16));
        (&mut self.r).take(n).read_to_end(&mut v)?;
        if (v.len() as u64) < n {
            return Err(RdbError::UnexpectedEof);
        }
        Ok(v)
    }

    fn read_len_or_enc(&mut self) -> Result<Len> {
        let b = self.read_u8()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(self.read_u8()?)),
            2 => match b {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.read_array()?))),
                0x81 => Len::Plain(u64::from_be_bytes(self.read_array()?)),
                _ => return Err(RdbError::corrupt(format!("invalid length marker {b:#04x}"))),
            },
            _ => Len::Encoded(b & 0x3f),
        })
    }

    /// Reads a length (6, 14, 32 or 64-bit form).
    pub fn read_len(&mut self) -> Result<u64> {
        match self.read_len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(e) => {
                Err(RdbError::corrupt(format!("encoded value (type {e}) where a length was expected")))
            }
        }
    }

    /// Reads a string in any of its forms (raw, 8/16/32-bit integer, LZF);
    /// integers come back in decimal.
    pub fn read_string(&mut self) -> Result<Vec<u8>> {
        match self.read_len_or_enc()? {
            Len::Plain(n) => self.read_bytes(n),
            Len::Encoded(0) => Ok((self.read_u8()? as i8).to_string().into_bytes()),
            Len::Encoded(1) => Ok(i16::from_le_bytes(self.read_array()?).to_string().into_bytes()),
            Len::Encoded(2) => Ok(i32::from_le_bytes(self.read_array()?).to_string().into_bytes()),
            Len::Encoded(3) => {
                let clen = self.read_len()?;
                let len = to_usize(self.read_len()?)?;
                let compressed = self.read_bytes(clen)?;
                lzf::decompress(&compressed, len).map_err(RdbError::corrupt)
            }
            Len::Encoded(e) => Err(RdbError::corrupt(format!("unknown string encoding {e}"))),
        }
    }

    /// Reads a binary double (8 bytes LE), as `TYPE_ZSET_2` stores scores.
    pub fn read_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.read_array()?))
    }

    /// Reads an old-style double (`TYPE_ZSET`): a length byte (253 = NaN,
    /// 254 = +inf, 255 = -inf) and that many ASCII characters.
    pub fn read_string_double(&mut self) -> Result<f64> {
        match self.read_u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => parse_score(&self.read_bytes(u64::from(n))?),
        }
    }

    fn read_strings(&mut self, n: u64) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::with_capacity(to_usize(n)?.min(MAX_PREALLOC));
        for _ in 0..n {
            out.push(self.read_string()?);
        }
        Ok(out)
    }

    /// Reads the body of an object of type `ty` (the type byte already read).
    pub fn read_object(&mut self, ty: u8) -> Result<RdbValue> {
        Ok(match ty {
            TYPE_STRING => RdbValue::String(self.read_string()?),
            TYPE_LIST => {
                let n = self.read_len()?;
                RdbValue::List(self.read_strings(n)?)
            }
            TYPE_SET => {
                let n = self.read_len()?;
                RdbValue::Set(self.read_strings(n)?)
            }
            TYPE_HASH => {
                let n = self.read_len()?;
                let items = self.read_strings(
                    n.checked_mul(2).ok_or_else(|| RdbError::corrupt("hash size overflows"))?,
                )?;
                RdbValue::Hash(pairs(items, "hash")?)
            }
            TYPE_ZSET | TYPE_ZSET_2 => {
                let n = self.read_len()?;
                let mut out = Vec::with_capacity(to_usize(n)?.min(MAX_PREALLOC));
                for _ in 0..n {
                    let m = self.read_string()?;
                    let s = if ty == TYPE_ZSET_2 { self.read_double()? } else { self.read_string_double()? };
                    if s.is_nan() {
                        return Err(RdbError::corrupt("sorted set score is NaN"));
                    }
                    out.push((m, s));
                }
                RdbValue::ZSet(out)
            }
            TYPE_HASH_ZIPMAP => RdbValue::Hash(named(packed::zipmap(&self.read_string()?), "")?),
            TYPE_LIST_ZIPLIST => RdbValue::List(named(packed::ziplist(&self.read_string()?), "List ")?),
            TYPE_SET_INTSET => RdbValue::Set(named(packed::intset(&self.read_string()?), "")?),
            TYPE_ZSET_ZIPLIST => RdbValue::ZSet(zset_pairs(
                named(packed::ziplist(&self.read_string()?), "Zset ")?,
                "zset ziplist",
            )?),
            TYPE_HASH_ZIPLIST => {
                RdbValue::Hash(pairs(named(packed::ziplist(&self.read_string()?), "Hash ")?, "hash ziplist")?)
            }
            TYPE_LIST_QUICKLIST => {
                let nodes = self.read_len()?;
                let mut out = Vec::new();
                for _ in 0..nodes {
                    out.extend(named(packed::ziplist(&self.read_string()?), "Quicklist ")?);
                }
                RdbValue::List(out)
            }
            TYPE_HASH_LISTPACK => RdbValue::Hash(pairs(
                named(packed::listpack(&self.read_string()?), "Hash ")?,
                "hash listpack",
            )?),
            TYPE_ZSET_LISTPACK => RdbValue::ZSet(zset_pairs(
                named(packed::listpack(&self.read_string()?), "Zset ")?,
                "zset listpack",
            )?),
            TYPE_LIST_QUICKLIST_2 => {
                let nodes = self.read_len()?;
                let mut out = Vec::new();
                for _ in 0..nodes {
                    let container = self.read_len()?;
                    let data = self.read_string()?;
                    // Redis refuses an empty node of either kind.
                    if data.is_empty() {
                        return Err(RdbError::corrupt("quicklist integrity check failed: an empty node"));
                    }
                    match container {
                        QUICKLIST_NODE_PLAIN => out.push(data),
                        QUICKLIST_NODE_PACKED => out.extend(named(packed::listpack(&data), "Quicklist ")?),
                        c => return Err(RdbError::corrupt(format!("unknown quicklist node container {c}"))),
                    }
                }
                RdbValue::List(out)
            }
            TYPE_SET_LISTPACK => RdbValue::Set(named(packed::listpack(&self.read_string()?), "Set ")?),
            TYPE_MODULE_PRE_GA | TYPE_MODULE_2 => {
                return Err(RdbError::UnsupportedType { code: ty, name: "module value" })
            }
            TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
                return Err(RdbError::UnsupportedType { code: ty, name: "stream" })
            }
            22..=25 => {
                return Err(RdbError::UnsupportedType { code: ty, name: "hash with field expiration" })
            }
            _ => return Err(RdbError::UnsupportedType { code: ty, name: "unknown type" }),
        })
    }
}

/// Names the object a packed blob's error belongs to, as Redis logs it
/// ("Zset ziplist integrity check failed"): `prefix` goes before the
/// blob's message, or, when empty, the message gets a capital letter.
fn named<T>(r: Result<T>, prefix: &str) -> Result<T> {
    r.map_err(|e| match e {
        RdbError::Corrupt(msg) if prefix.is_empty() => {
            let mut chars = msg.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
            RdbError::Corrupt(first.chain(chars).collect())
        }
        RdbError::Corrupt(msg) => RdbError::Corrupt(format!("{prefix}{msg}")),
        other => other,
    })
}

/// Decodes one object from `bytes`: its type byte and body (the form
/// [`super::encode_value`] writes).
pub fn decode_value(bytes: &[u8]) -> Result<RdbValue> {
    let mut d = Decoder::new(bytes);
    let ty = d.read_u8()?;
    d.read_object(ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::encode::{encode_value, Encoder};
    use crate::rdb::packed::build;

    fn s(v: &str) -> Vec<u8> {
        v.as_bytes().to_vec()
    }

    /// Type byte + a string holding `blob`, compressed or not.
    fn blob_object(ty: u8, blob: &[u8], compress: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = Encoder::with_compression(&mut out, compress);
        e.begin_object(ty).unwrap();
        e.write_string(blob).unwrap();
        out
    }

    #[test]
    fn lengths_round_trip() {
        for n in [0u64, 1, 63, 64, 16383, 16384, 1 << 31, u64::from(u32::MAX), 1 << 32, u64::MAX] {
            let mut out = Vec::new();
            Encoder::new(&mut out).write_len(n).unwrap();
            assert_eq!(Decoder::new(&out[..]).read_len().unwrap(), n);
        }
    }

    #[test]
    fn strings_round_trip_in_every_form() {
        let long = s(&"abcdefgh".repeat(40));
        for v in [s(""), s("7"), s("-128"), s("300"), s("-70000"), s("2147483648"), s("007"), long] {
            for compress in [false, true] {
                let mut out = Vec::new();
                Encoder::with_compression(&mut out, compress).write_string(&v).unwrap();
                assert_eq!(Decoder::new(&out[..]).read_string().unwrap(), v);
            }
        }
    }

    #[test]
    fn plain_values_round_trip() {
        let vals = [
            RdbValue::String(s("x")),
            RdbValue::List(vec![s("a"), s("1")]),
            RdbValue::Set(vec![s("m")]),
            RdbValue::Hash(vec![(s("f"), s("v"))]),
            RdbValue::ZSet(vec![(s("a"), 1.25), (s("b"), f64::NEG_INFINITY)]),
            RdbValue::List(vec![]),
        ];
        for v in vals {
            let mut out = Vec::new();
            encode_value(&v, &mut out);
            assert_eq!(decode_value(&out).unwrap(), v);
        }
    }

    #[test]
    fn old_zset_with_string_scores() {
        let mut b = vec![TYPE_ZSET, 3];
        b.extend_from_slice(&[1, b'a', 3, b'1', b'.', b'5']);
        b.extend_from_slice(&[1, b'b', 254]);
        b.extend_from_slice(&[1, b'c', 255]);
        let want = vec![(s("a"), 1.5), (s("b"), f64::INFINITY), (s("c"), f64::NEG_INFINITY)];
        assert_eq!(decode_value(&b).unwrap(), RdbValue::ZSet(want));
    }

    #[test]
    fn zipmap_hash() {
        let blob = build::zipmap(&[(b"f1", b"v1"), (b"f2", b"22")], 1);
        let want = RdbValue::Hash(vec![(s("f1"), s("v1")), (s("f2"), s("22"))]);
        assert_eq!(decode_value(&blob_object(TYPE_HASH_ZIPMAP, &blob, false)).unwrap(), want);
    }

    #[test]
    fn ziplist_types() {
        let list = build::ziplist(&[Err(b"a"), Ok(5), Ok(-300)]);
        assert_eq!(
            decode_value(&blob_object(TYPE_LIST_ZIPLIST, &list, false)).unwrap(),
            RdbValue::List(vec![s("a"), s("5"), s("-300")])
        );
        let zset = build::ziplist(&[Err(b"m"), Ok(3), Err(b"n"), Err(b"2.5"), Err(b"o"), Err(b"-inf")]);
        assert_eq!(
            decode_value(&blob_object(TYPE_ZSET_ZIPLIST, &zset, false)).unwrap(),
            RdbValue::ZSet(vec![(s("m"), 3.0), (s("n"), 2.5), (s("o"), f64::NEG_INFINITY)])
        );
        let hash = build::ziplist(&[Err(b"f"), Err(b"v"), Err(b"n"), Ok(10)]);
        assert_eq!(
            decode_value(&blob_object(TYPE_HASH_ZIPLIST, &hash, true)).unwrap(),
            RdbValue::Hash(vec![(s("f"), s("v")), (s("n"), s("10"))])
        );
        let odd = build::ziplist(&[Err(b"f")]);
        assert!(decode_value(&blob_object(TYPE_HASH_ZIPLIST, &odd, false)).is_err());
    }

    #[test]
    fn intset_set() {
        let blob = build::intset(2, &[1, 2, 300]);
        assert_eq!(
            decode_value(&blob_object(TYPE_SET_INTSET, &blob, false)).unwrap(),
            RdbValue::Set(vec![s("1"), s("2"), s("300")])
        );
    }

    #[test]
    fn listpack_types() {
        let hash = build::listpack(&[Err(b"f"), Err(b"v"), Err(b"g"), Ok(-5)]);
        assert_eq!(
            decode_value(&blob_object(TYPE_HASH_LISTPACK, &hash, false)).unwrap(),
            RdbValue::Hash(vec![(s("f"), s("v")), (s("g"), s("-5"))])
        );
        let zset = build::listpack(&[Err(b"a"), Ok(1), Err(b"b"), Err(b"1.5e+20")]);
        assert_eq!(
            decode_value(&blob_object(TYPE_ZSET_LISTPACK, &zset, false)).unwrap(),
            RdbValue::ZSet(vec![(s("a"), 1.0), (s("b"), 1.5e20)])
        );
        let set = build::listpack(&[Err(b"x"), Ok(99)]);
        assert_eq!(
            decode_value(&blob_object(TYPE_SET_LISTPACK, &set, true)).unwrap(),
            RdbValue::Set(vec![s("x"), s("99")])
        );
    }

    #[test]
    fn quicklists() {
        let z1 = build::ziplist(&[Err(b"a"), Ok(1)]);
        let z2 = build::ziplist(&[Err(b"b")]);
        let mut b = Vec::new();
        let mut e = Encoder::new(&mut b);
        e.begin_object(TYPE_LIST_QUICKLIST).unwrap();
        e.write_len(2).unwrap();
        e.write_string(&z1).unwrap();
        e.write_string(&z2).unwrap();
        assert_eq!(decode_value(&b).unwrap(), RdbValue::List(vec![s("a"), s("1"), s("b")]));

        let big = vec![b'p'; 5000];
        let lp = build::listpack(&[Err(b"x"), Ok(2)]);
        let mut b = Vec::new();
        let mut e = Encoder::with_compression(&mut b, true);
        e.begin_object(TYPE_LIST_QUICKLIST_2).unwrap();
        e.write_len(3).unwrap();
        e.write_len(QUICKLIST_NODE_PACKED).unwrap();
        e.write_string(&lp).unwrap();
        e.write_len(QUICKLIST_NODE_PLAIN).unwrap();
        e.write_string(&big).unwrap();
        e.write_len(QUICKLIST_NODE_PACKED).unwrap();
        e.write_string(&lp).unwrap();
        assert_eq!(decode_value(&b).unwrap(), RdbValue::List(vec![s("x"), s("2"), big, s("x"), s("2")]));

        let bad = [TYPE_LIST_QUICKLIST_2, 1, 3, 0];
        assert!(matches!(decode_value(&bad), Err(RdbError::Corrupt(_))));
    }

    #[test]
    fn unsupported_types_say_so() {
        for (ty, name) in
            [(15, "stream"), (19, "stream"), (21, "stream"), (6, "module value"), (7, "module value")]
        {
            let e = decode_value(&[ty, 0]).unwrap_err();
            assert!(matches!(e, RdbError::UnsupportedType { code, .. } if code == ty));
            assert!(e.to_string().contains(name), "{e}");
        }
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut out = Vec::new();
        encode_value(&RdbValue::Hash(vec![(s("field"), s("value"))]), &mut out);
        for cut in 0..out.len() {
            assert!(decode_value(&out[..cut]).is_err());
        }
        // A huge claimed length does not allocate it.
        let bogus = [TYPE_STRING, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(decode_value(&bogus), Err(RdbError::UnexpectedEof | RdbError::Corrupt(_))));
    }

    fn arb_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            (-100_000i64..100_000).prop_map(|n| n.to_string().into_bytes()),
            (0usize..200).prop_map(|n| b"ab".repeat(n)),
        ]
    }

    /// Packed-structure entries: integers or short strings.
    fn arb_items() -> impl proptest::strategy::Strategy<Value = Vec<std::result::Result<i64, Vec<u8>>>> {
        use proptest::prelude::*;
        proptest::collection::vec(
            prop_oneof![
                any::<i64>().prop_map(Ok),
                proptest::collection::vec(any::<u8>(), 0..20).prop_map(Err)
            ],
            0..12,
        )
    }

    fn arb_value() -> impl proptest::strategy::Strategy<Value = RdbValue> {
        use proptest::collection::vec;
        use proptest::prelude::*;
        prop_oneof![
            arb_bytes().prop_map(RdbValue::String),
            vec(arb_bytes(), 0..20).prop_map(RdbValue::List),
            vec(arb_bytes(), 0..20).prop_map(RdbValue::Set),
            vec((arb_bytes(), arb_bytes()), 0..20).prop_map(RdbValue::Hash),
            vec((arb_bytes(), -1e300f64..1e300), 0..20).prop_map(RdbValue::ZSet),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn any_value_round_trips(v in arb_value(), compress in proptest::bool::ANY) {
            let mut out = Vec::new();
            Encoder::with_compression(&mut out, compress).write_value(&v).unwrap();
            proptest::prop_assert_eq!(decode_value(&out).unwrap(), v);
        }

        #[test]
        fn corrupted_objects_never_panic(
            kind in 0usize..9,
            items in arb_items(),
            flips in proptest::collection::vec(
                (proptest::prelude::any::<proptest::sample::Index>(), 1u8..=255),
                1..4,
            ),
            cut in proptest::prelude::any::<Option<proptest::sample::Index>>(),
        ) {
            // Valid objects of every packed type, then a few bytes flipped
            // and perhaps the end cut off (a corrupt DUMP payload whose
            // checksum was faked): decoding and building the value may
            // fail, never panic.
            let refs: Vec<build::Item<'_>> = items.iter().map(|i| i.as_ref().copied().map_err(|v| v.as_slice())).collect();
            let ints: Vec<i64> = items.iter().map(|i| *i.as_ref().unwrap_or(&7)).collect();
            let mut obj = match kind {
                0 => blob_object(TYPE_HASH_LISTPACK, &build::listpack(&refs), false),
                1 => blob_object(TYPE_ZSET_LISTPACK, &build::listpack(&refs), false),
                2 => blob_object(TYPE_SET_LISTPACK, &build::listpack(&refs), false),
                3 => blob_object(TYPE_HASH_ZIPLIST, &build::ziplist(&refs), false),
                4 => blob_object(TYPE_ZSET_ZIPLIST, &build::ziplist(&refs), false),
                5 => blob_object(TYPE_LIST_ZIPLIST, &build::ziplist(&refs), true),
                6 => blob_object(TYPE_SET_INTSET, &build::intset(8, &ints), false),
                7 => {
                    let mut b = Vec::new();
                    let mut e = Encoder::new(&mut b);
                    e.begin_object(TYPE_LIST_QUICKLIST_2).unwrap();
                    e.write_len(1).unwrap();
                    e.write_len(QUICKLIST_NODE_PACKED).unwrap();
                    e.write_string(&build::listpack(&refs)).unwrap();
                    b
                }
                _ => {
                    let pairs = items.iter().map(|i| (format!("{i:?}").into_bytes(), s("v"))).collect();
                    let mut b = Vec::new();
                    encode_value(&RdbValue::Hash(pairs), &mut b);
                    b
                }
            };
            for (at, x) in flips {
                let i = at.index(obj.len());
                obj[i] ^= x;
            }
            if let Some(cut) = cut {
                obj.truncate(cut.index(obj.len() + 1));
            }
            if let Ok(v) = decode_value(&obj) {
                let _ = crate::persist::convert::from_rdb(v, &crate::types::EncodingConfig::default());
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = decode_value(&bytes);
            let _ = crate::rdb::parse_dump_payload(&bytes, false);
            let _ = packed::listpack(&bytes);
            let _ = packed::ziplist(&bytes);
            let _ = packed::zipmap(&bytes);
            let _ = packed::intset(&bytes);
        }
    }
}
