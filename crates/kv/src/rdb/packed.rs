//! Decoding the compact blobs Redis dumps as they sit in memory: listpack,
//! ziplist, intset and zipmap. Each packs small collections into one
//! contiguous allocation (no per-element pointers), which is why Redis uses
//! them below its `*-max-*-entries` thresholds and why RDB can store them as a
//! single string. Integers are given back in decimal, as Redis shows them.
//!
//! Every read is bounds-checked: these blobs come from files and RESTORE
//! payloads, i.e. from untrusted input.

use super::RdbError;

type Result<T> = std::result::Result<T, RdbError>;

/// A blob that fails its checks, named as Redis logs it ("ziplist
/// integrity check failed"): `what` starts with the structure's name.
fn corrupt(what: &str) -> RdbError {
    let (kind, detail) = what.split_once([' ', ':']).unwrap_or((what, ""));
    let detail = detail.trim_start_matches([':', ' ']);
    RdbError::corrupt(format!("{kind} integrity check failed: {detail}"))
}

fn bytes<'a>(blob: &'a [u8], pos: usize, len: usize, what: &str) -> Result<&'a [u8]> {
    pos.checked_add(len)
        .and_then(|end| blob.get(pos..end))
        .ok_or_else(|| corrupt(&format!("{what}: entry past the end of the blob")))
}

fn le_int(b: &[u8]) -> i64 {
    // Sign-extend a little-endian two's complement integer of 1..=8 bytes.
    let mut v: u64 = 0;
    for (i, &x) in b.iter().enumerate() {
        v |= u64::from(x) << (8 * i);
    }
    let shift = 64 - 8 * b.len() as u32;
    ((v << shift) as i64) >> shift
}

fn int_entry(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// Bytes a listpack back-length takes for an entry of `len` bytes.
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Whether `back` is the back-length of an entry of `len` bytes (Redis's
/// `lpEncodeBacklen`): 7 bits a byte, most significant first, every byte
/// but the first with its high bit set. `back` has the size
/// [`backlen_size`] gives for `len`.
fn backlen_says(back: &[u8], len: usize) -> bool {
    let n = back.len();
    back.iter().enumerate().all(|(i, &b)| {
        let group = ((len >> (7 * (n - 1 - i))) & 127) as u8;
        b == if i == 0 { group } else { group | 128 }
    })
}

/// The elements of a listpack.
///
/// Layout: total bytes (u32 LE), element count (u16 LE), entries, `0xFF`.
/// An entry is an encoding byte (with the length or a small integer folded
/// into it), the data, and a back-length (for reverse traversal, skipped).
pub(crate) fn listpack(blob: &[u8]) -> Result<Vec<Vec<u8>>> {
    const W: &str = "listpack";
    if blob.len() < 7 {
        return Err(corrupt("listpack shorter than its header"));
    }
    let total = u32::from_le_bytes(blob[0..4].try_into().expect("4 bytes")) as usize;
    if total != blob.len() {
        return Err(corrupt("listpack size header disagrees with its length"));
    }
    let count = u16::from_le_bytes([blob[4], blob[5]]);
    let mut out = Vec::with_capacity(usize::from(count).min(blob.len()));
    let mut pos = 6;
    loop {
        let b = *blob.get(pos).ok_or_else(|| corrupt("listpack without terminator"))?;
        if b == 0xFF {
            if pos + 1 != blob.len() {
                return Err(corrupt("listpack terminator before the end"));
            }
            break;
        }
        let (value, len) = if b & 0x80 == 0 {
            (int_entry(i64::from(b & 0x7f)), 1)
        } else if b & 0xC0 == 0x80 {
            let n = usize::from(b & 0x3f);
            (bytes(blob, pos + 1, n, W)?.to_vec(), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            let lo = bytes(blob, pos + 1, 1, W)?[0];
            let uv = (i64::from(b & 0x1f) << 8) | i64::from(lo);
            let v = if uv >= 1 << 12 { uv - (1 << 13) } else { uv };
            (int_entry(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let lo = bytes(blob, pos + 1, 1, W)?[0];
            let n = (usize::from(b & 0x0f) << 8) | usize::from(lo);
            (bytes(blob, pos + 2, n, W)?.to_vec(), 2 + n)
        } else {
            match b {
                0xF0 => {
                    let n = u32::from_le_bytes(bytes(blob, pos + 1, 4, W)?.try_into().expect("4")) as usize;
                    (bytes(blob, pos + 5, n, W)?.to_vec(), 5 + n)
                }
                0xF1 => (int_entry(le_int(bytes(blob, pos + 1, 2, W)?)), 3),
                0xF2 => (int_entry(le_int(bytes(blob, pos + 1, 3, W)?)), 4),
                0xF3 => (int_entry(le_int(bytes(blob, pos + 1, 4, W)?)), 5),
                0xF4 => (int_entry(le_int(bytes(blob, pos + 1, 8, W)?)), 9),
                _ => return Err(corrupt(&format!("listpack: invalid entry encoding {b:#04x}"))),
            }
        };
        // The back-length lets a reader walk backwards: it must say `len`.
        let back = bytes(blob, pos + len, backlen_size(len), W)?;
        if !backlen_says(back, len) {
            return Err(corrupt("listpack: entry back-length disagrees with its size"));
        }
        pos += len + backlen_size(len);
        out.push(value);
    }
    if count != u16::MAX && usize::from(count) != out.len() {
        return Err(corrupt("listpack element count disagrees with its entries"));
    }
    Ok(out)
}

/// The elements of a ziplist (the listpack's predecessor, Redis < 7.0).
///
/// Layout: total bytes (u32 LE), tail offset (u32 LE), count (u16 LE),
/// entries, `0xFF`. An entry is the previous entry's length (1 byte, or
/// `0xFE` + u32), an encoding (string lengths big-endian in 6, 14 or 32 bits;
/// or an integer type: 8/16/24/32/64-bit LE, or 0..=12 in the byte itself),
/// and the data.
pub(crate) fn ziplist(blob: &[u8]) -> Result<Vec<Vec<u8>>> {
    const W: &str = "ziplist";
    if blob.len() < 11 {
        return Err(corrupt("ziplist shorter than its header"));
    }
    let total = u32::from_le_bytes(blob[0..4].try_into().expect("4 bytes")) as usize;
    if total != blob.len() {
        return Err(corrupt("ziplist size header disagrees with its length"));
    }
    let tail = u32::from_le_bytes(blob[4..8].try_into().expect("4 bytes")) as usize;
    let count = u16::from_le_bytes([blob[8], blob[9]]);
    let mut out = Vec::with_capacity(usize::from(count).min(blob.len()));
    let mut pos = 10;
    // Where the last entry started, and its size: each entry records the
    // size of the one before it (0 for the first), and the header the
    // offset of the last, so a reader can walk backwards.
    let (mut last, mut prev_size) = (10, 0usize);
    loop {
        let b = *blob.get(pos).ok_or_else(|| corrupt("ziplist without terminator"))?;
        if b == 0xFF {
            if pos + 1 != blob.len() {
                return Err(corrupt("ziplist terminator before the end"));
            }
            break;
        }
        let start = pos;
        let prevlen = match b {
            0..=253 => {
                pos += 1;
                usize::from(b)
            }
            _ => {
                pos += 5;
                u32::from_le_bytes(bytes(blob, start + 1, 4, W)?.try_into().expect("4")) as usize
            }
        };
        if prevlen != prev_size {
            return Err(corrupt("ziplist: an entry's previous-entry length is wrong"));
        }
        let enc = bytes(blob, pos, 1, W)?[0];
        let (value, len) = match enc >> 6 {
            0 => {
                let n = usize::from(enc & 0x3f);
                (bytes(blob, pos + 1, n, W)?.to_vec(), 1 + n)
            }
            1 => {
                let n = (usize::from(enc & 0x3f) << 8) | usize::from(bytes(blob, pos + 1, 1, W)?[0]);
                (bytes(blob, pos + 2, n, W)?.to_vec(), 2 + n)
            }
            2 => {
                let n = u32::from_be_bytes(bytes(blob, pos + 1, 4, W)?.try_into().expect("4")) as usize;
                (bytes(blob, pos + 5, n, W)?.to_vec(), 5 + n)
            }
            _ => match enc {
                0xC0 => (int_entry(le_int(bytes(blob, pos + 1, 2, W)?)), 3),
                0xD0 => (int_entry(le_int(bytes(blob, pos + 1, 4, W)?)), 5),
                0xE0 => (int_entry(le_int(bytes(blob, pos + 1, 8, W)?)), 9),
                0xF0 => (int_entry(le_int(bytes(blob, pos + 1, 3, W)?)), 4),
                0xFE => (int_entry(le_int(bytes(blob, pos + 1, 1, W)?)), 2),
                0xF1..=0xFD => (int_entry(i64::from(enc & 0x0f) - 1), 1),
                _ => return Err(corrupt(&format!("ziplist: invalid entry encoding {enc:#04x}"))),
            },
        };
        pos += len;
        (last, prev_size) = (start, pos - start);
        out.push(value);
    }
    if tail != last {
        return Err(corrupt("ziplist tail offset does not point at the last entry"));
    }
    if count != u16::MAX && usize::from(count) != out.len() {
        return Err(corrupt("ziplist element count disagrees with its entries"));
    }
    Ok(out)
}

/// The members of an intset: encoding width (u32 LE: 2, 4 or 8), count
/// (u32 LE), then the sorted integers, little-endian, all of that width.
pub(crate) fn intset(blob: &[u8]) -> Result<Vec<Vec<u8>>> {
    if blob.len() < 8 {
        return Err(corrupt("intset shorter than its header"));
    }
    let width = u32::from_le_bytes(blob[0..4].try_into().expect("4 bytes")) as usize;
    let count = u32::from_le_bytes(blob[4..8].try_into().expect("4 bytes")) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(corrupt(&format!("intset: invalid encoding {width}")));
    }
    if count.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(blob.len()) {
        return Err(corrupt("intset length disagrees with its header"));
    }
    Ok(blob[8..].chunks_exact(width).map(|c| int_entry(le_int(c))).collect())
}

/// The field, value pairs of a zipmap (Redis 2.x hashes).
///
/// Layout: a count byte, then entries: key length, key, value length, a
/// "free" byte, value, that many unused bytes; `0xFF` ends it. Lengths are
/// one byte below 254, or 254 followed by a u32 LE.
pub(crate) fn zipmap(blob: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    const W: &str = "zipmap";
    fn len_at(blob: &[u8], pos: &mut usize) -> Result<Option<usize>> {
        let b = bytes(blob, *pos, 1, W)?[0];
        match b {
            255 => Ok(None),
            254 => {
                let n = u32::from_le_bytes(bytes(blob, *pos + 1, 4, W)?.try_into().expect("4"));
                *pos += 5;
                Ok(Some(n as usize))
            }
            n => {
                *pos += 1;
                Ok(Some(usize::from(n)))
            }
        }
    }
    let mut out = Vec::new();
    let mut pos = 1;
    while let Some(klen) = len_at(blob, &mut pos)? {
        let key = bytes(blob, pos, klen, W)?.to_vec();
        pos += klen;
        let vlen = len_at(blob, &mut pos)?.ok_or_else(|| corrupt("zipmap: key without value"))?;
        let free = usize::from(bytes(blob, pos, 1, W)?[0]);
        pos += 1;
        let value = bytes(blob, pos, vlen, W)?.to_vec();
        pos += vlen + free;
        out.push((key, value));
    }
    if pos + 1 != blob.len() {
        return Err(corrupt("zipmap terminator before the end"));
    }
    Ok(out)
}

/// Builders for test blobs, writing every entry form the decoders accept.
#[cfg(test)]
pub(crate) mod build {
    /// `Ok(int)` or `Err(string)`.
    pub type Item<'a> = std::result::Result<i64, &'a [u8]>;

    /// A listpack entry: `Ok(int)` picks the smallest integer encoding,
    /// `Err(bytes)` a string encoding by length.
    pub fn listpack(items: &[Item<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        for item in items {
            let mut e = Vec::new();
            match *item {
                Ok(v) if (0..=127).contains(&v) => e.push(v as u8),
                Ok(v) if (-4096..4096).contains(&v) => {
                    let u = (v & 0x1fff) as u16;
                    e.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
                }
                Ok(v) if i16::try_from(v).is_ok() => {
                    e.push(0xF1);
                    e.extend_from_slice(&(v as i16).to_le_bytes());
                }
                Ok(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                    e.push(0xF2);
                    e.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
                }
                Ok(v) if i32::try_from(v).is_ok() => {
                    e.push(0xF3);
                    e.extend_from_slice(&(v as i32).to_le_bytes());
                }
                Ok(v) => {
                    e.push(0xF4);
                    e.extend_from_slice(&v.to_le_bytes());
                }
                Err(s) if s.len() < 64 => {
                    e.push(0x80 | s.len() as u8);
                    e.extend_from_slice(s);
                }
                Err(s) if s.len() < 4096 => {
                    e.extend_from_slice(&[0xE0 | (s.len() >> 8) as u8, s.len() as u8]);
                    e.extend_from_slice(s);
                }
                Err(s) => {
                    e.push(0xF0);
                    e.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    e.extend_from_slice(s);
                }
            }
            let l = e.len();
            body.extend_from_slice(&e);
            // Back-length: 7 bits per byte, most significant group first,
            // continuation bit on all but the first byte written.
            let n = super::backlen_size(l);
            for i in (0..n).rev() {
                let g = ((l >> (7 * i)) & 0x7f) as u8;
                body.push(if i + 1 == n { g } else { g | 0x80 });
            }
        }
        let total = 6 + body.len() + 1;
        let mut out = (total as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&(items.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(0xFF);
        out
    }

    /// A ziplist, with the same item convention as [`listpack`].
    pub fn ziplist(items: &[Item<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        for item in items {
            let mut e = Vec::new();
            if prev < 254 {
                e.push(prev as u8);
            } else {
                e.push(254);
                e.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match *item {
                Ok(v) if (0..=12).contains(&v) => e.push(0xF1 + v as u8),
                Ok(v) if i8::try_from(v).is_ok() => e.extend_from_slice(&[0xFE, v as u8]),
                Ok(v) if i16::try_from(v).is_ok() => {
                    e.push(0xC0);
                    e.extend_from_slice(&(v as i16).to_le_bytes());
                }
                Ok(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                    e.push(0xF0);
                    e.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
                }
                Ok(v) if i32::try_from(v).is_ok() => {
                    e.push(0xD0);
                    e.extend_from_slice(&(v as i32).to_le_bytes());
                }
                Ok(v) => {
                    e.push(0xE0);
                    e.extend_from_slice(&v.to_le_bytes());
                }
                Err(s) if s.len() < 64 => {
                    e.push(s.len() as u8);
                    e.extend_from_slice(s);
                }
                Err(s) if s.len() < 16384 => {
                    e.extend_from_slice(&[0x40 | (s.len() >> 8) as u8, s.len() as u8]);
                    e.extend_from_slice(s);
                }
                Err(s) => {
                    e.push(0x80);
                    e.extend_from_slice(&(s.len() as u32).to_be_bytes());
                    e.extend_from_slice(s);
                }
            }
            prev = e.len();
            body.extend_from_slice(&e);
        }
        let total = 10 + body.len() + 1;
        let mut out = (total as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&((total - 1 - prev) as u32).to_le_bytes());
        out.extend_from_slice(&(items.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(0xFF);
        out
    }

    /// An intset of `width`-byte integers.
    pub fn intset(width: usize, items: &[i64]) -> Vec<u8> {
        let mut out = (width as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&(items.len() as u32).to_le_bytes());
        for v in items {
            out.extend_from_slice(&v.to_le_bytes()[..width]);
        }
        out
    }

    /// A zipmap; each value gets `free` unused trailing bytes.
    pub fn zipmap(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
        let mut out = vec![pairs.len() as u8];
        let len = |out: &mut Vec<u8>, n: usize| {
            if n < 254 {
                out.push(n as u8);
            } else {
                out.push(254);
                out.extend_from_slice(&(n as u32).to_le_bytes());
            }
        };
        for (k, v) in pairs {
            len(&mut out, k.len());
            out.extend_from_slice(k);
            len(&mut out, v.len());
            out.push(free);
            out.extend_from_slice(v);
            out.extend(std::iter::repeat_n(0u8, usize::from(free)));
        }
        out.push(255);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn mixed_items(big: &[u8]) -> Vec<build::Item<'_>> {
        vec![
            Ok(0),
            Ok(127),
            Ok(-1),
            Ok(4095),
            Ok(-4096),
            Ok(12),
            Ok(-100),
            Ok(30000),
            Ok(-32768),
            Ok(8_000_000),
            Ok(-8_388_608),
            Ok(2_000_000_000),
            Ok(i64::MIN),
            Ok(i64::MAX),
            Err(b""),
            Err(b"hello"),
            Err(&big[..100]),
            Err(big),
        ]
    }

    fn mixed_expected(big: &[u8]) -> Vec<Vec<u8>> {
        let mut want = strs(&[
            "0",
            "127",
            "-1",
            "4095",
            "-4096",
            "12",
            "-100",
            "30000",
            "-32768",
            "8000000",
            "-8388608",
            "2000000000",
            "-9223372036854775808",
            "9223372036854775807",
            "",
            "hello",
        ]);
        want.push(big[..100].to_vec());
        want.push(big.to_vec());
        want
    }

    #[test]
    fn listpack_every_entry_form() {
        let big = vec![b'x'; 20_000];
        let blob = build::listpack(&mixed_items(&big));
        assert_eq!(listpack(&blob).unwrap(), mixed_expected(&big));
    }

    #[test]
    fn ziplist_every_entry_form() {
        let big = vec![b'y'; 20_000];
        let blob = build::ziplist(&mixed_items(&big));
        assert_eq!(ziplist(&blob).unwrap(), mixed_expected(&big));
    }

    #[test]
    fn intset_widths() {
        assert_eq!(intset(&build::intset(2, &[-3, 7])).unwrap(), strs(&["-3", "7"]));
        assert_eq!(intset(&build::intset(4, &[-70000, 70000])).unwrap(), strs(&["-70000", "70000"]));
        assert_eq!(intset(&build::intset(8, &[i64::MIN, 1])).unwrap(), strs(&["-9223372036854775808", "1"]));
        assert!(intset(&build::intset(3, &[1])).is_err());
        let mut short = build::intset(4, &[1, 2]);
        short.pop();
        assert!(intset(&short).is_err());
    }

    #[test]
    fn zipmap_pairs() {
        let long = vec![b'v'; 300];
        let blob = build::zipmap(&[(b"a", b"1"), (b"key", &long)], 2);
        let got = zipmap(&blob).unwrap();
        assert_eq!(got, vec![(b"a".to_vec(), b"1".to_vec()), (b"key".to_vec(), long)]);
    }

    #[test]
    fn truncated_blobs_are_errors() {
        let blob = build::listpack(&[Err(b"hello"), Ok(5)]);
        for cut in 0..blob.len() {
            assert!(listpack(&blob[..cut]).is_err());
        }
        let blob = build::ziplist(&[Err(b"hello"), Ok(500)]);
        for cut in 0..blob.len() {
            assert!(ziplist(&blob[..cut]).is_err());
        }
        let blob = build::zipmap(&[(b"a", b"b")], 0);
        for cut in 0..blob.len() {
            assert!(zipmap(&blob[..cut]).is_err());
        }
        assert!(listpack(&[7, 0, 0, 0, 0, 0, 0xF9]).is_err());
    }
}
