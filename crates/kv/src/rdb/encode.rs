//! Writing RDB objects.
//!
//! [`Encoder`] is the streaming, low-level writer: a snapshotting child can
//! walk its keyspace and emit each value element by element
//! (`begin_object`, `write_len`, then `write_string`s / `write_double`s)
//! without first building an [`RdbValue`]. [`encode_value`] is the
//! convenience form for one whole value.
//!
//! Only the plain encodings are written (type 0, 1, 2, 4 and 5: a length and
//! then the elements); they load in every Redis version, which converts them
//! to its compact in-memory encodings itself.

use std::io::{self, Write};

use super::consts::*;
use super::{lzf, RdbValue};

/// Strings longer than this are LZF-compressed when compression is on (as
/// Redis does: shorter ones rarely shrink).
const LZF_MIN_LEN: usize = 20;

/// A streaming writer of RDB primitives over any [`Write`].
#[derive(Debug)]
pub struct Encoder<W> {
    w: W,
    compress: bool,
}

/// Returns `s` as an `i64` if it is the canonical decimal form of one (no
/// sign on positives, no leading zeros, no "-0"), as Redis requires before it
/// stores a string as an integer.
pub fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let v: i64 = text.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

impl<W: Write> Encoder<W> {
    /// A writer that stores strings uncompressed.
    pub fn new(w: W) -> Self {
        Encoder { w, compress: false }
    }

    /// A writer that LZF-compresses strings longer than 20 bytes when that
    /// saves at least 4 bytes (Redis's `rdbcompression yes`).
    pub fn with_compression(w: W, compress: bool) -> Self {
        Encoder { w, compress }
    }

    /// The wrapped writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }

    /// Unwraps the writer.
    pub fn into_inner(self) -> W {
        self.w
    }

    /// Writes bytes as they are.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.w.write_all(bytes)
    }

    /// Writes one byte (an opcode or an object type).
    pub fn write_u8(&mut self, b: u8) -> io::Result<()> {
        self.w.write_all(&[b])
    }

    /// Starts an object by writing its type byte (see [`super::consts`]);
    /// the caller then writes the body: for a string one `write_string`; for
    /// a list or set `write_len(n)` and n strings; for a hash `write_len(n)`
    /// and n field, value string pairs; for `TYPE_ZSET_2` `write_len(n)` and
    /// n (member string, `write_double` score) pairs.
    pub fn begin_object(&mut self, object_type: u8) -> io::Result<()> {
        self.write_u8(object_type)
    }

    /// Writes a length: 6 bits (`00xxxxxx`), 14 bits (`01xxxxxx xxxxxxxx`,
    /// big-endian), or a `0x80` / `0x81` marker followed by a 32 / 64-bit
    /// big-endian number.
    pub fn write_len(&mut self, len: u64) -> io::Result<()> {
        if len < 1 << 6 {
            self.write_u8(len as u8)
        } else if len < 1 << 14 {
            self.write_raw(&[0x40 | (len >> 8) as u8, len as u8])
        } else if len <= u64::from(u32::MAX) {
            self.write_u8(0x80)?;
            self.write_raw(&(len as u32).to_be_bytes())
        } else {
            self.write_u8(0x81)?;
            self.write_raw(&len.to_be_bytes())
        }
    }

    /// Writes a string: as an 8/16/32-bit little-endian integer (`0xC0`,
    /// `0xC1`, `0xC2`) if it is a canonical integer that fits, LZF-compressed
    /// (`0xC3`, compressed length, original length, data) if compression is
    /// on and pays, else as a length and the raw bytes.
    pub fn write_string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11 {
            if let Some(v) = canonical_int(s) {
                if let Ok(v) = i8::try_from(v) {
                    return self.write_raw(&[0xC0, v as u8]);
                }
                if let Ok(v) = i16::try_from(v) {
                    self.write_u8(0xC1)?;
                    return self.write_raw(&v.to_le_bytes());
                }
                if let Ok(v) = i32::try_from(v) {
                    self.write_u8(0xC2)?;
                    return self.write_raw(&v.to_le_bytes());
                }
            }
        }
        if self.compress && s.len() > LZF_MIN_LEN {
            if let Some(c) = lzf::compress(s, s.len() - 4) {
                self.write_u8(0xC3)?;
                self.write_len(c.len() as u64)?;
                self.write_len(s.len() as u64)?;
                return self.write_raw(&c);
            }
        }
        self.write_len(s.len() as u64)?;
        self.write_raw(s)
    }

    /// Writes a double as 8 little-endian IEEE 754 bytes (`TYPE_ZSET_2`).
    pub fn write_double(&mut self, d: f64) -> io::Result<()> {
        self.write_raw(&d.to_le_bytes())
    }

    /// Writes a whole value: its type byte and body.
    pub fn write_value(&mut self, value: &RdbValue) -> io::Result<()> {
        self.begin_object(value_type(value))?;
        self.write_value_body(value)
    }

    /// Writes a value's body (after its type byte, and in a file its key).
    pub fn write_value_body(&mut self, value: &RdbValue) -> io::Result<()> {
        match value {
            RdbValue::String(s) => self.write_string(s),
            RdbValue::List(items) | RdbValue::Set(items) => {
                self.write_len(items.len() as u64)?;
                items.iter().try_for_each(|i| self.write_string(i))
            }
            RdbValue::Hash(pairs) => {
                self.write_len(pairs.len() as u64)?;
                pairs.iter().try_for_each(|(f, v)| {
                    self.write_string(f)?;
                    self.write_string(v)
                })
            }
            RdbValue::ZSet(pairs) => {
                self.write_len(pairs.len() as u64)?;
                pairs.iter().try_for_each(|(m, s)| {
                    self.write_string(m)?;
                    self.write_double(*s)
                })
            }
        }
    }
}

/// The object type byte [`Encoder::write_value`] uses for `value`: the plain
/// encodings (0, 1, 2, 4 and 5).
pub fn value_type(value: &RdbValue) -> u8 {
    match value {
        RdbValue::String(_) => TYPE_STRING,
        RdbValue::List(_) => TYPE_LIST,
        RdbValue::Set(_) => TYPE_SET,
        RdbValue::Hash(_) => TYPE_HASH,
        RdbValue::ZSet(_) => TYPE_ZSET_2,
    }
}

/// Appends `value`'s type byte and body to `out` (uncompressed): the first
/// part of a DUMP payload, or of a key's record in a file.
pub fn encode_value(value: &RdbValue, out: &mut Vec<u8>) {
    Encoder::new(out).write_value(value).expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Encoder<&mut Vec<u8>>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut Encoder::new(&mut out));
        out
    }

    #[test]
    fn length_encodings() {
        assert_eq!(enc(|e| e.write_len(0).unwrap()), [0x00]);
        assert_eq!(enc(|e| e.write_len(63).unwrap()), [0x3f]);
        assert_eq!(enc(|e| e.write_len(64).unwrap()), [0x40, 0x40]);
        assert_eq!(enc(|e| e.write_len(16383).unwrap()), [0x7f, 0xff]);
        assert_eq!(enc(|e| e.write_len(16384).unwrap()), [0x80, 0, 0, 0x40, 0]);
        assert_eq!(enc(|e| e.write_len(u64::from(u32::MAX)).unwrap()), [0x80, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(enc(|e| e.write_len(1 << 32).unwrap()), [0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn integer_strings() {
        assert_eq!(enc(|e| e.write_string(b"0").unwrap()), [0xC0, 0]);
        assert_eq!(enc(|e| e.write_string(b"-128").unwrap()), [0xC0, 0x80]);
        assert_eq!(enc(|e| e.write_string(b"128").unwrap()), [0xC1, 0x80, 0x00]);
        assert_eq!(enc(|e| e.write_string(b"-32769").unwrap()), [0xC2, 0xff, 0x7f, 0xff, 0xff]);
        assert_eq!(enc(|e| e.write_string(b"2147483647").unwrap()), [0xC2, 0xff, 0xff, 0xff, 0x7f]);
        // Out of 32-bit range, or not canonical: stored raw.
        assert_eq!(enc(|e| e.write_string(b"2147483648").unwrap())[0], 10);
        for raw in [&b"007"[..], b"+1", b"-0", b" 1", b"1 ", b""] {
            let out = enc(|e| e.write_string(raw).unwrap());
            assert_eq!(out[0] as usize, raw.len());
            assert_eq!(&out[1..], raw);
        }
    }

    #[test]
    fn compression_only_when_on_and_long() {
        let long = vec![b'a'; 100];
        let plain = enc(|e| e.write_string(&long).unwrap());
        assert_eq!(plain.len(), 2 + 100);
        let mut out = Vec::new();
        Encoder::with_compression(&mut out, true).write_string(&long).unwrap();
        assert_eq!(out[0], 0xC3);
        assert!(out.len() < 20);
        let mut out = Vec::new();
        Encoder::with_compression(&mut out, true).write_string(&[b'a'; 20]).unwrap();
        assert_eq!(out[0], 20, "20 bytes is not compressed");
    }

    #[test]
    fn canonical_int_rules() {
        assert_eq!(canonical_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(canonical_int(b"9223372036854775808"), None);
        assert_eq!(canonical_int(b"01"), None);
        assert_eq!(canonical_int(b"1a"), None);
    }

    #[test]
    fn zset_body_uses_binary_doubles() {
        let mut out = Vec::new();
        encode_value(&RdbValue::ZSet(vec![(b"a".to_vec(), 1.0)]), &mut out);
        let mut want = vec![TYPE_ZSET_2, 1, 1, b'a'];
        want.extend_from_slice(&1.0f64.to_le_bytes());
        assert_eq!(out, want);
    }
}
