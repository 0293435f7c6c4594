//! Keys, stored inline when short.
//!
//! Most keys are short (`user:1000`, `session:ab12`). A boxed slice would
//! cost a separate allocation per key (16 bytes of fat pointer in the dict
//! node, plus a heap block of at least 16 bytes). A [`Key`] keeps up to
//! [`INLINE_MAX`] bytes inside itself, in the dict node; only longer keys
//! go to the heap. With a million keys that is a million fewer
//! allocations and about 16 MB less memory.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest key kept inline.
pub const INLINE_MAX: usize = 22;

/// A key's bytes: inline up to [`INLINE_MAX`] bytes, boxed beyond.
///
/// It dereferences to `[u8]`, hashes and compares exactly as the slice
/// does, and borrows as `[u8]`, so a dict keyed by `Key` is looked up with
/// a plain `&[u8]`.
///
/// ```
/// use spindle_kv::key::Key;
/// let k = Key::from(&b"user:1000"[..]);
/// assert_eq!(&*k, b"user:1000");
/// assert_eq!(std::mem::size_of::<Key>(), 24);
/// ```
#[derive(Clone)]
pub enum Key {
    /// Short keys: the length and the bytes.
    Inline(u8, [u8; INLINE_MAX]),
    /// Long keys.
    Heap(Box<[u8]>),
}

impl Key {
    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline(len, buf) => &buf[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

/// `b` packed for an inline variant holding up to `N` bytes (`N` below
/// 256): its length and a zero-padded copy, or `None` if it does not fit.
/// Keys and short string values are stored this way.
#[inline]
pub(crate) fn pack_inline<const N: usize>(b: &[u8]) -> Option<(u8, [u8; N])> {
    (b.len() <= N).then(|| {
        let mut buf = [0; N];
        buf[..b.len()].copy_from_slice(b);
        (b.len() as u8, buf)
    })
}

impl From<&[u8]> for Key {
    fn from(b: &[u8]) -> Key {
        match pack_inline::<INLINE_MAX>(b) {
            Some((len, buf)) => Key::Inline(len, buf),
            None => Key::Heap(b.into()),
        }
    }
}

impl From<&Vec<u8>> for Key {
    fn from(b: &Vec<u8>) -> Key {
        Key::from(b.as_slice())
    }
}

impl From<Vec<u8>> for Key {
    fn from(b: Vec<u8>) -> Key {
        if b.len() <= INLINE_MAX {
            Key::from(b.as_slice())
        } else {
            Key::Heap(b.into_boxed_slice())
        }
    }
}

impl From<Box<[u8]>> for Key {
    fn from(b: Box<[u8]>) -> Key {
        if b.len() <= INLINE_MAX {
            Key::from(&*b)
        } else {
            Key::Heap(b)
        }
    }
}

impl<const N: usize> From<&[u8; N]> for Key {
    fn from(b: &[u8; N]) -> Key {
        Key::from(&b[..])
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key::from(s.as_bytes())
    }
}

impl Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Exactly as `[u8]` hashes, which `Borrow<[u8]>` requires.
        self.as_bytes().hash(state)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialEq<[u8]> for Key {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?})", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::HashMap;

    fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn short_keys_are_inline_and_long_ones_boxed() {
        assert!(matches!(Key::from(&[7u8; 22][..]), Key::Inline(22, _)));
        assert!(matches!(Key::from(&[7u8; 23][..]), Key::Heap(_)));
        assert!(matches!(Key::from(Vec::new()), Key::Inline(0, _)));
        assert_eq!(std::mem::size_of::<Key>(), 24);
    }

    #[test]
    fn keys_hash_compare_and_borrow_as_their_bytes() {
        for n in [0, 1, 21, 22, 23, 100] {
            let bytes: Vec<u8> = (0..n as u8).collect();
            let k = Key::from(bytes.as_slice());
            assert_eq!(&*k, bytes.as_slice());
            assert_eq!(hash_of(&k), hash_of(bytes.as_slice()));
            assert_eq!(k, Key::from(bytes.clone()));
            assert_eq!(k, Key::from(bytes.clone().into_boxed_slice()));
        }
        let mut m: HashMap<Key, i32> = HashMap::new();
        m.insert(Key::from("a-long-key-that-lives-on-the-heap"), 1);
        m.insert(Key::from("short"), 2);
        assert_eq!(m.get(&b"a-long-key-that-lives-on-the-heap"[..]), Some(&1));
        assert_eq!(m.get(&b"short"[..]), Some(&2));
        assert!(Key::from("a") < Key::from("b"));
    }
}
