//! String values and their encodings (`int`, `embstr`, `raw`).

/// A string value in one of Redis's three encodings.
///
/// The enum is kept to 16 bytes of payload: a key's entry then fits a
/// 64-byte allocation with its dict node, which matters with millions of
/// keys. A string written once is one exact-size allocation (`Emb`); only a
/// string modified in place (APPEND, SETRANGE) pays for a growable buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Str {
    /// A canonical decimal integer stored as a number (`int`).
    Int(i64),
    /// A string written once: `embstr` up to 44 bytes, `raw` beyond.
    Emb(Box<[u8]>),
    /// A string modified in place (`raw`).
    Raw(Box<Vec<u8>>),
}

/// Longest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

impl Str {
    /// The string for `bytes`, choosing the encoding Redis would.
    pub fn from_bytes(bytes: &[u8]) -> Str {
        if bytes.len() <= 20 {
            if let Some(n) = crate::util::num::parse_i64(bytes) {
                return Str::Int(n);
            }
        }
        Str::Emb(bytes.into())
    }

    /// The bytes, formatting an integer into `buf`.
    pub fn bytes<'a>(&'a self, buf: &'a mut [u8; 20]) -> &'a [u8] {
        match self {
            Str::Int(n) => crate::resp::reply::fmt_i64(*n, buf),
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
            Str::Emb(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A mutable byte vector, converting to `raw` (APPEND, SETRANGE).
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
}
