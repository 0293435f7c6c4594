//! LZF, the small LZ77 compressor Redis uses for strings in RDB files.
//!
//! The stream is a sequence of chunks, each introduced by a control byte:
//! below 32 it announces a literal run of `ctrl + 1` bytes copied as is;
//! otherwise its top 3 bits are a match length (7 = "read one more length
//! byte") and its low 5 bits plus the next byte are a 13-bit distance back
//! into the output already produced. A match may overlap the bytes it is
//! producing (distance < length), which is how runs compress; so it is copied
//! byte by byte. Redis stores the compressed and uncompressed lengths in the
//! RDB string header, so no framing is needed here.

/// Longest back-reference a control byte can describe (3-bit length, plus one
/// extension byte, plus the implicit 2).
const MAX_MATCH: usize = 7 + 255 + 2;
/// Farthest a back-reference can reach (13 bits, plus the implicit 1).
const MAX_DISTANCE: usize = 1 << 13;
/// Longest literal run one control byte can announce.
const MAX_LITERAL: usize = 32;
const HASH_BITS: u32 = 14;

/// Decompresses `input`, which must expand to exactly `expected_len` bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, &'static str> {
    // Cap the up-front reservation: the length comes from untrusted data.
    let mut out = Vec::with_capacity(expected_len.min(input.len().saturating_mul(4) + 64));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip + run).ok_or("LZF literal run past input end")?;
            if out.len() + run > expected_len {
                return Err("LZF output longer than announced");
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or("LZF truncated match length")?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or("LZF truncated match offset")?);
            ip += 1;
            let distance = ((ctrl & 0x1f) << 8) + low + 1;
            let len = len + 2;
            if distance > out.len() {
                return Err("LZF back-reference before output start");
            }
            if out.len() + len > expected_len {
                return Err("LZF output longer than announced");
            }
            let start = out.len() - distance;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    if out.len() != expected_len {
        return Err("LZF output shorter than announced");
    }
    Ok(out)
}

fn hash3(b: &[u8]) -> usize {
    let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

fn flush_literals(out: &mut Vec<u8>, lits: &[u8]) {
    for chunk in lits.chunks(MAX_LITERAL) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// Compresses `input`; `None` if the result would exceed `max_out` bytes
/// (Redis stores a string compressed only when that saves at least 4 bytes).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = Vec::with_capacity(max_out.min(n + n / 32 + 1));
    // Position + 1 of the last occurrence of each 3-byte hash (0 = none).
    let mut table = vec![0usize; 1 << HASH_BITS];
    let mut lit_start = 0;
    let mut i = 0;
    while i + 2 < n {
        let h = hash3(&input[i..]);
        let cand = table[h];
        table[h] = i + 1;
        if cand != 0 {
            let r = cand - 1;
            if i - r <= MAX_DISTANCE && input[r..r + 3] == input[i..i + 3] {
                let max_len = MAX_MATCH.min(n - i);
                let mut len = 3;
                while len < max_len && input[r + len] == input[i + len] {
                    len += 1;
                }
                flush_literals(&mut out, &input[lit_start..i]);
                let off = i - r - 1;
                let l = len - 2;
                if l < 7 {
                    out.push(((l << 5) | (off >> 8)) as u8);
                } else {
                    out.push(((7 << 5) | (off >> 8)) as u8);
                    out.push((l - 7) as u8);
                }
                out.push((off & 0xff) as u8);
                // Index the positions the match skipped so later data can
                // refer to them.
                for j in i + 1..(i + len).min(n.saturating_sub(2)) {
                    table[hash3(&input[j..])] = j + 1;
                }
                i += len;
                lit_start = i;
                if out.len() > max_out {
                    return None;
                }
                continue;
            }
        }
        i += 1;
    }
    flush_literals(&mut out, &input[lit_start..]);
    if out.len() > max_out {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_repetitive() {
        let data: Vec<u8> = b"abcabcabcabcabcabcabcabcabcabcabcabc-hello-hello-hello".repeat(50);
        let c = compress(&data, data.len()).unwrap();
        assert!(c.len() < data.len() / 5, "{} vs {}", c.len(), data.len());
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn long_run_uses_extended_lengths() {
        let data = vec![b'x'; 10_000];
        let c = compress(&data, data.len()).unwrap();
        assert!(c.len() < 200);
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn incompressible_gives_none_when_bound_is_tight() {
        let data: Vec<u8> = (0..=255u8).collect();
        assert!(compress(&data, data.len() - 4).is_none());
        let c = compress(&data, data.len() + 16).unwrap();
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn hand_made_stream_decodes() {
        // Literal "ab", then a match of length 6 at distance 2: "abababab".
        let stream = [1, b'a', b'b', (4 << 5), 1];
        assert_eq!(decompress(&stream, 8).unwrap(), b"abababab");
    }

    #[test]
    fn malformed_streams_are_errors() {
        assert!(decompress(&[5, b'a'], 6).is_err()); // truncated literal
        assert!(decompress(&[0, b'a', (1 << 5), 9], 4).is_err()); // reference too far back
        assert!(decompress(&[0, b'a'], 2).is_err()); // too short
        assert!(decompress(&[1, b'a', b'b'], 1).is_err()); // too long
        assert!(decompress(&[0xe0], 10).is_err()); // truncated
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn round_trip(data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..1000)) {
            let c = compress(&data, data.len() + data.len() / 16 + 8).unwrap();
            prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
        }
    }
}
