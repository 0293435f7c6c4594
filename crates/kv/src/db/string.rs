//! String values and their encodings (`int`, `embstr`, `raw`).
//!
//! Most values are short (redis-benchmark's default is 3 bytes, and
//! session tokens, flags and counters-as-text are a few dozen at most).
//! A short string written once sits inside the value itself
//! ([`Str::Inline`]), so a SET of one costs no allocation and overwriting
//! one frees nothing; longer strings take one exact-size heap block.

/// Longest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// Longest string kept inside the value, without a heap block: what fits
/// beside the enum's tag and a length byte in the 24 bytes the value
/// takes anyway.
pub const STR_INLINE_MAX: usize = 22;

/// A string value in one of Redis's three encodings.
///
/// The enum is 24 bytes (16 of payload plus its tag): a key's entry then
/// fits a 64-byte allocation with its dict node, which matters with
/// millions of keys. A short string written once lives inline (`Inline`),
/// a longer one in one exact-size allocation (`Emb`); only a string
/// modified in place (APPEND, SETRANGE, bit and HLL writes) pays for a
/// growable buffer (`Raw`). `Inline` and `Emb` are both Redis's `embstr`
/// (or `raw` past [`EMBSTR_MAX`]); the choice between them is invisible.
#[derive(Debug, Clone, PartialEq)]
pub enum Str {
    /// A canonical decimal integer stored as a number (`int`).
    Int(i64),
    /// A string of at most [`STR_INLINE_MAX`] bytes written once
    /// (`embstr`): its length and its bytes, the rest of the array zero
    /// (so the derived equality compares only the string).
    Inline(u8, [u8; STR_INLINE_MAX]),
    /// A longer string written once: `embstr` up to 44 bytes, `raw` beyond.
    Emb(Box<[u8]>),
    /// A string modified in place (`raw`).
    Raw(Box<Vec<u8>>),
}

// The keyspace entry's size depends on it (see `db::Entry`).
const _: () = assert!(std::mem::size_of::<Str>() == 24);

impl Str {
    /// The string for `bytes`, choosing the encoding Redis would.
    pub fn from_bytes(bytes: &[u8]) -> Str {
        if bytes.len() <= 20 {
            if let Some(n) = crate::util::num::parse_i64(bytes) {
                return Str::Int(n);
            }
        }
        Str::plain(bytes)
    }

    /// `bytes` as a string even if it reads as an integer (`embstr`, or
    /// `raw` past 44 bytes), as Redis stores INCRBYFLOAT's result.
    pub fn plain(bytes: &[u8]) -> Str {
        match crate::key::pack_inline::<STR_INLINE_MAX>(bytes) {
            Some((len, buf)) => Str::Inline(len, buf),
            None => Str::Emb(bytes.into()),
        }
    }

    /// The bytes of a string not stored as an integer; `None` for `int`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Str::Int(_) => None,
            Str::Inline(len, buf) => Some(&buf[..*len as usize]),
            Str::Emb(b) => Some(b),
            Str::Raw(v) => Some(v),
        }
    }

    /// The bytes, formatting an integer into `buf`.
    pub fn bytes<'a>(&'a self, buf: &'a mut [u8; 20]) -> &'a [u8] {
        match self {
            Str::Int(n) => crate::resp::reply::fmt_i64(*n, buf),
            Str::Inline(len, b) => &b[..*len as usize],
            Str::Emb(b) => b,
            Str::Raw(v) => v,
        }
    }

    /// The bytes as an owned vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = [0; 20];
        self.bytes(&mut buf).to_vec()
    }

    /// Length in bytes (STRLEN).
    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => {
                let mut buf = [0; 20];
                crate::resp::reply::fmt_i64(*n, &mut buf).len()
            }
            Str::Inline(len, _) => *len as usize,
            Str::Emb(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A mutable byte vector, converting to `raw` (APPEND, SETRANGE): an
    /// inline string moves to the heap, as Redis's `dbUnshareStringValue`
    /// turns an `embstr` into a `raw` however short.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            *self = Str::Raw(Box::new(self.to_vec()));
        }
        match self {
            Str::Raw(v) => v,
            _ => unreachable!("converted above"),
        }
    }

    /// Redis's name for the encoding.
    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Inline(..) => "embstr",
            Str::Emb(b) if b.len() <= EMBSTR_MAX => "embstr",
            _ => "raw",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_take_redis_encodings() {
        assert_eq!(Str::from_bytes(b"123").encoding(), "int");
        assert_eq!(Str::from_bytes(b"0123").encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'a'; 45]).encoding(), "raw");
        let mut x = Str::from_bytes(b"-7");
        assert_eq!(x.len(), 2);
        x.make_raw().push(b'1');
        assert_eq!(x.to_vec(), b"-71");
        assert_eq!(x.encoding(), "raw");
    }

    #[test]
    fn a_string_value_stays_24_bytes() {
        assert_eq!(std::mem::size_of::<Str>(), 24);
        assert_eq!(std::mem::size_of::<crate::db::Value>(), 24);
    }

    #[test]
    fn short_strings_are_inline_and_still_embstr() {
        let max = [b'a'; STR_INLINE_MAX];
        let s = Str::from_bytes(&max);
        assert!(matches!(s, Str::Inline(..)), "{s:?}");
        assert_eq!((s.len(), s.to_vec(), s.encoding()), (STR_INLINE_MAX, max.to_vec(), "embstr"));
        assert_eq!(s.as_bytes(), Some(&max[..]));
        let over = [b'b'; STR_INLINE_MAX + 1];
        let s = Str::from_bytes(&over);
        assert!(matches!(s, Str::Emb(_)), "{s:?}");
        assert_eq!((s.len(), s.to_vec(), s.encoding()), (STR_INLINE_MAX + 1, over.to_vec(), "embstr"));
        let empty = Str::from_bytes(b"");
        assert!(matches!(empty, Str::Inline(0, _)));
        assert_eq!((empty.len(), empty.as_bytes(), empty.encoding()), (0, Some(&b""[..]), "embstr"));
        // Equality compares the strings, however they were built.
        assert_eq!(Str::from_bytes(b"abc"), Str::plain(b"abc"));
        assert_ne!(Str::from_bytes(b"abc"), Str::from_bytes(b"abd"));
        assert_eq!(Str::from_bytes(b"7").as_bytes(), None);
    }

    #[test]
    fn plain_keeps_a_number_as_text() {
        let s = Str::plain(b"3");
        assert_eq!((s.encoding(), s.to_vec()), ("embstr", b"3".to_vec()));
        let long = Str::plain(&[b'1'; 45]);
        assert_eq!((long.encoding(), long.len()), ("raw", 45));
    }

    #[test]
    fn modifying_an_inline_string_makes_it_raw() {
        let mut s = Str::from_bytes(b"abc");
        s.make_raw().extend_from_slice(&[b'd'; STR_INLINE_MAX]);
        assert!(matches!(s, Str::Raw(_)));
        assert_eq!(s.encoding(), "raw");
        assert_eq!(s.len(), 3 + STR_INLINE_MAX);
        let mut t = Str::from_bytes(b"x");
        t.make_raw();
        assert_eq!((t.encoding(), t.to_vec()), ("raw", b"x".to_vec()));
    }
}
