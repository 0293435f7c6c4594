//! HyperLogLog, byte for byte as Redis 7.0 stores it.
//!
//! # The idea
//!
//! A HyperLogLog estimates how many *distinct* elements were added to it
//! in a fixed 12 KiB, whatever that number is. Each element is hashed to 64
//! bits (MurmurHash64A, seed `0xadc83b19`). The low 14 bits pick one of
//! 16384 *registers*; in the remaining 50 bits (with bit 50 forced to 1 so
//! the count is bounded) the position of the lowest set bit, counted from
//! 1, is the element's *pattern length*: `1` for `...1`, `2` for `...10`,
//! `3` for `...100`. A register keeps the largest pattern length it has
//! seen. A run of `k - 1` zeros has probability `2^-k`, so a register that
//! saw a `k` has seen about `2^k` distinct elements; averaging (harmonically)
//! over 16384 registers turns that coarse guess into an estimate with a
//! standard error of 1.04/√16384 ≈ 0.81%. Adding an element twice changes
//! nothing, and two HLLs merge by taking each register's maximum.
//!
//! # The estimator
//!
//! The raw harmonic-mean estimate `α·m²/Σ2^-M[i]` is biased at both ends:
//! with few elements most registers are still 0 and the mean says little
//! (classic HLL switched to "linear counting" of the empty registers
//! there), and near the hash's range registers saturate at their maximum.
//! Redis 7 uses Otmar Ertl's improved estimator ("New cardinality
//! estimation algorithms for HyperLogLog sketches", arXiv:1702.01284),
//! which folds both corrections into the sum itself from the histogram of
//! register values: `σ(C₀/m)` accounts for the registers still at 0 and
//! `τ(1 - C₅₁/m)` for those at the maximum, so one formula is accurate
//! from 0 to 2^64 with no threshold to switch at. (With 64-bit hashes the
//! upper correction only matters near 2^64, past what a reply can show;
//! σ is the one that makes small counts exact.) [`count`] follows
//! `hllCount` operation for operation, so the estimates are Redis's to the
//! last unit.
//!
//! # The bytes
//!
//! An HLL is a plain string value. Its 16-byte header is the magic
//! `"HYLL"`, an encoding byte ([`DENSE`] or [`SPARSE`]), three unused
//! bytes, and the cached cardinality as 8 little-endian bytes whose top bit
//! marks the cache invalid (every change sets it; PFCOUNT recomputes and
//! stores the count).
//!
//! - **Dense**: 16384 registers of 6 bits packed little-endian, register
//!   `i` in bits `6i..6i+6` of the data: 12288 bytes, 12304 in all.
//! - **Sparse**: run-length opcodes for mostly-empty HLLs, so a key with a
//!   few hundred distinct elements takes hundreds of bytes, not 12 KiB.
//!   `00xxxxxx`
//!   (ZERO) is 1 to 64 registers at 0; `01xxxxxx yyyyyyyy` (XZERO) is 1 to
//!   16384 registers at 0; `1vvvvvxx` (VAL) is 1 to 4 registers at value
//!   1 to 32. A new HLL is one XZERO covering all 16384 registers:
//!   18 bytes. Setting a register splits the opcode covering it
//!   (into up to XZERO-VAL-XZERO) and then merges equal adjacent VALs.
//!
//! A sparse HLL is promoted to dense, once and for good, when a register
//! needs a value over 32 or when the string would grow past
//! `hll-sparse-max-bytes` (3000 by default). Corrupt strings are read the
//! way Redis reads them, so the same garbage gives the same error.

/// Bits of the hash that pick the register.
pub const P: u32 = 14;
/// Bits of the hash left for the pattern length.
pub const Q: u32 = 64 - P;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Bits per dense register.
const BITS: usize = 6;
/// Largest value a dense register holds.
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Size of the header.
pub const HDR_SIZE: usize = 16;
/// Size of a dense HLL, header included.
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * BITS).div_ceil(8);
/// The dense encoding byte.
pub const DENSE: u8 = 0;
/// The sparse encoding byte.
pub const SPARSE: u8 = 1;
/// `hll-sparse-max-bytes`'s default.
pub const DEFAULT_SPARSE_MAX_BYTES: usize = 3000;
/// The seed Redis hashes elements with.
pub const SEED: u64 = 0xadc8_3b19;

const ENCODING_AT: usize = 4;
const CARD_AT: usize = 8;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
/// 0.5/ln(2), the bias constant for m → ∞.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The bytes are an HLL whose registers cannot be read: a sparse run that
/// covers too many or too few registers (Redis's INVALIDOBJ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Austin Appleby's MurmurHash64A, as Redis's copy computes it on a
/// little-endian machine.
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register `ele` lands in and its pattern length (1 to [`Q`] + 1).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(ele, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty HLL: sparse, one XZERO covering every register, cached
/// cardinality 0 (valid).
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.resize(HDR_SIZE, 0);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(XZERO_MAX_LEN);
        v.extend_from_slice(&xzero_op(n));
        left -= n;
    }
    v
}

/// Whether `bytes` pass Redis's `isHLLObjectOrReply` check: a header with
/// the magic, a known encoding, and exactly [`DENSE_SIZE`] bytes if dense.
pub fn is_valid(bytes: &[u8]) -> bool {
    bytes.len() >= HDR_SIZE
        && bytes.starts_with(b"HYLL")
        && bytes[ENCODING_AT] <= SPARSE
        && (bytes[ENCODING_AT] != DENSE || bytes.len() == DENSE_SIZE)
}

/// The encoding byte ([`DENSE`] or [`SPARSE`]) of a valid HLL.
pub fn encoding(hll: &[u8]) -> u8 {
    hll[ENCODING_AT]
}

/// The cached cardinality, unless it is marked invalid.
pub fn cached(hll: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(hll[CARD_AT..HDR_SIZE].try_into().expect("8 bytes"));
    (card >> 63 == 0).then_some(card)
}

/// Stores `card` as the cached cardinality.
pub fn set_cached(hll: &mut [u8], card: u64) {
    hll[CARD_AT..HDR_SIZE].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality invalid.
pub fn invalidate(hll: &mut [u8]) {
    hll[HDR_SIZE - 1] |= 0x80;
}

/// Adds `ele` to a valid HLL; `Ok(true)` if a register changed. A sparse
/// HLL may be promoted to dense on the way (see the module docs).
///
/// # Errors
/// [`Corrupt`] if a sparse HLL's opcodes do not cover the registers.
pub fn add(hll: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    set_register(hll, index, count, sparse_max)
}

/// Raises register `index` to `count` if it is lower; `Ok(true)` if it
/// changed. Sparse HLLs may be promoted.
///
/// # Errors
/// [`Corrupt`] if a sparse HLL's opcodes do not cover the registers.
pub fn set_register(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if hll[ENCODING_AT] == DENSE {
        Ok(dense_raise(&mut hll[HDR_SIZE..], index, count))
    } else {
        sparse_set(hll, index, count, sparse_max)
    }
}

/// Register `i` of dense register bytes. Past the last byte reads as 0,
/// as Redis's read of the string's terminating NUL does.
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

/// Sets register `i` of dense register bytes to `v` (at most 63).
pub fn dense_put(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = v as u32;
    regs[byte] &= !((REGISTER_MAX as u32) << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *next |= (v >> (8 - fb)) as u8;
    }
}

fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

// Sparse opcodes.

fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

fn zero_len(op: u8) -> usize {
    (op & 0x3f) as usize + 1
}

fn xzero_len(op: u8, next: u8) -> usize {
    ((((op & 0x3f) as usize) << 8) | next as usize) + 1
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

fn val_len(op: u8) -> usize {
    (op & 0x3) as usize + 1
}

fn val_op(value: u8, len: usize) -> u8 {
    ((value - 1) << 2) | (len - 1) as u8 | 0x80
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// The byte at `i`, or 0 past the end: the NUL Redis's strings end with,
/// which an XZERO cut short by the end of the string reads as its second
/// byte.
fn at(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

/// One sparse opcode read at `p`.
#[derive(Clone, Copy)]
enum Op {
    /// Registers at 0 (ZERO or XZERO), with the opcode's size in bytes.
    Zero(usize, usize),
    /// `len` registers at `value`.
    Val(u8, usize),
}

fn op_at(v: &[u8], p: usize) -> Op {
    let op = v[p];
    if is_zero(op) {
        Op::Zero(zero_len(op), 1)
    } else if is_xzero(op) {
        Op::Zero(xzero_len(op, at(v, p + 1)), 2)
    } else {
        Op::Val(val_value(op), val_len(op))
    }
}

/// Redis's `hllSparseSet`: raises register `index` of a sparse HLL to
/// `count`, rewriting the opcode that covers it in place.
fn sparse_set(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let end = hll.len();
    let (mut p, mut first, mut span) = (HDR_SIZE, 0, 0);
    let mut prev = None;
    while p < end {
        let oplen;
        (span, oplen) = match op_at(hll, p) {
            Op::Zero(n, size) => (n, size),
            Op::Val(_, n) => (n, 1),
        };
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let op = hll[p];
    // Step 2: the cases updated in place without a change of length.
    let in_place = if is_val(op) {
        if val_value(op) >= count {
            return Ok(false);
        }
        val_len(op) == 1
    } else {
        is_zero(op) && zero_len(op) == 1
    };
    if in_place {
        hll[p] = val_op(count, 1);
    } else {
        // The general case: split the opcode into up to three.
        let mut seq = Vec::with_capacity(5);
        let last = first + span - 1;
        if is_val(op) {
            let cur = val_value(op);
            if index != first {
                seq.push(val_op(cur, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(cur, last - index));
            }
        } else {
            let zeros = |seq: &mut Vec<u8>, len: usize| {
                if len > ZERO_MAX_LEN {
                    seq.extend_from_slice(&xzero_op(len));
                } else {
                    seq.push((len - 1) as u8);
                }
            };
            if index != first {
                zeros(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                zeros(&mut seq, last - index);
            }
        }
        // Step 3: put the new sequence in place of the old opcode.
        let oldlen = if is_xzero(op) { 2 } else { 1 };
        let new_len = end + seq.len() - oldlen;
        if new_len > end && new_len > sparse_max {
            return promote(hll, index, count);
        }
        hll.splice(p..(p + oldlen).min(end), seq);
        // An XZERO cut short by the end of the string counted its missing
        // byte: Redis's length moves by the same delta regardless.
        hll.truncate(new_len);
    }
    // Step 4: merge adjacent VALs of the same value, scanning up to five
    // opcodes from the one before the change.
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = 5;
    while p < hll.len() && scan > 0 {
        scan -= 1;
        let op = hll[p];
        if is_xzero(op) {
            p += 2;
            continue;
        }
        if is_zero(op) {
            p += 1;
            continue;
        }
        if p + 1 < hll.len() && is_val(hll[p + 1]) {
            let next = hll[p + 1];
            let len = val_len(op) + val_len(next);
            if val_value(op) == val_value(next) && len <= VAL_MAX_LEN {
                hll[p + 1] = val_op(val_value(op), len);
                hll.remove(p);
                continue;
            }
        }
        p += 1;
    }
    invalidate(hll);
    Ok(true)
}

fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(hll)?;
    // A promotion only happens for a register that must grow, so this is
    // always a change (Redis asserts it).
    Ok(dense_raise(&mut hll[HDR_SIZE..], index, count))
}

/// Converts a sparse HLL to dense, keeping the header (the cached
/// cardinality included); `Ok(false)` if it already was dense.
///
/// # Errors
/// [`Corrupt`] if the opcodes do not cover exactly [`REGISTERS`]
/// registers; the value is left as it was.
pub fn sparse_to_dense(hll: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if hll[ENCODING_AT] == DENSE {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR_SIZE].copy_from_slice(&hll[..HDR_SIZE]);
    dense[ENCODING_AT] = DENSE;
    let regs = &mut dense[HDR_SIZE..];
    let (mut idx, mut p) = (0, HDR_SIZE);
    while p < hll.len() {
        match op_at(hll, p) {
            Op::Zero(n, size) => {
                idx += n;
                p += size;
            }
            Op::Val(v, n) => {
                // Redis 7.0.15 as Debian ships it (with the fix for
                // CVE-2025-32023) refuses a run past the last register
                // outright, even one that starts right after it.
                if idx + n > REGISTERS {
                    return Err(Corrupt);
                }
                for i in idx..idx + n {
                    dense_put(regs, i, v);
                }
                idx += n;
                p += 1;
            }
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *hll = dense;
    Ok(true)
}

/// Raises each of `max`'s [`REGISTERS`] byte-per-register values to the
/// HLL's register (PFMERGE, PFCOUNT of several keys).
///
/// # Errors
/// [`Corrupt`] for a sparse HLL whose opcodes do not cover the registers
/// (`max` may have been partly raised).
pub fn merge_into(max: &mut [u8], hll: &[u8]) -> Result<(), Corrupt> {
    if hll[ENCODING_AT] == DENSE {
        let regs = &hll[HDR_SIZE..];
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let (mut i, mut p) = (0, HDR_SIZE);
    while p < hll.len() {
        match op_at(hll, p) {
            Op::Zero(n, size) => {
                i += n;
                p += size;
            }
            Op::Val(v, n) => {
                // As in `sparse_to_dense`: a run past the end is corrupt.
                if i + n > REGISTERS {
                    return Err(Corrupt);
                }
                for m in &mut max[i..i + n] {
                    *m = (*m).max(v);
                }
                i += n;
                p += 1;
            }
        }
    }
    if i == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// The estimated cardinality of a valid HLL (its registers, not the cache).
///
/// # Errors
/// [`Corrupt`] for a sparse HLL whose opcodes do not cover exactly
/// [`REGISTERS`] registers.
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0i64; 64];
    if hll[ENCODING_AT] == DENSE {
        let regs = &hll[HDR_SIZE..];
        for i in 0..REGISTERS {
            histo[dense_get(regs, i) as usize] += 1;
        }
    } else {
        let (mut idx, mut p) = (0, HDR_SIZE);
        while p < hll.len() {
            match op_at(hll, p) {
                Op::Zero(n, size) => {
                    histo[0] += n as i64;
                    idx += n;
                    p += size;
                }
                Op::Val(v, n) => {
                    histo[v as usize] += n as i64;
                    idx += n;
                    p += 1;
                }
            }
        }
        if idx != REGISTERS {
            return Err(Corrupt);
        }
    }
    Ok(estimate(&histo))
}

/// The estimated cardinality of byte-per-register values (the union
/// [`merge_into`] built).
pub fn count_registers(max: &[u8]) -> u64 {
    let mut histo = [0i64; 64];
    for &r in &max[..REGISTERS] {
        histo[(r & 63) as usize] += 1;
    }
    estimate(&histo)
}

/// Ertl's σ: the correction for registers still at 0 (`x` is their share).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Ertl's τ: the correction for registers at the maximum (`x` is the share
/// of those below it).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        // Redis's `pow(1 - x, 2)`, which compilers turn into this product.
        z -= (1.0 - x) * (1.0 - x) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// `hllCount`'s estimate from the histogram of register values, with its
/// conversions: `llroundl` (ties away from zero; out of range gives
/// `i64::MIN`) into a double, then to an unsigned 64-bit integer.
fn estimate(histo: &[i64; 64]) -> u64 {
    let m = REGISTERS as f64;
    // τ's term is halved Q times below, so it only shows when every
    // register is at 50 or 51, and then the estimate is past 2^63 anyway:
    // it is kept for fidelity to `hllCount`, not for any visible effect.
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    let e = ALPHA_INF * m * m / z;
    let rounded = e.round();
    let two_63 = (1u64 << 63) as f64;
    let ll =
        if rounded.is_nan() || !(-two_63..two_63).contains(&rounded) { i64::MIN } else { rounded as i64 };
    let as_double = ll as f64;
    if as_double < 0.0 {
        as_double as i64 as u64
    } else {
        as_double as u64
    }
}

/// PFDEBUG DECODE's text for a sparse HLL: `z:N` (ZERO), `Z:N` (XZERO)
/// and `v:VALUE,N` (VAL), space-separated.
pub fn decode_sparse(hll: &[u8]) -> String {
    let mut out = Vec::new();
    let mut p = HDR_SIZE;
    while p < hll.len() {
        let op = hll[p];
        match op_at(hll, p) {
            Op::Zero(n, 1) => out.push(format!("z:{n}")),
            Op::Zero(n, _) => out.push(format!("Z:{n}")),
            Op::Val(v, n) => out.push(format!("v:{v},{n}")),
        }
        p += if is_xzero(op) { 2 } else { 1 };
    }
    out.join(" ")
}

/// Redis's PFSELFTEST: dense registers keep what is stored in them without
/// disturbing their neighbours, and over 10 million distinct elements a
/// sparse and a dense HLL agree and stay within six standard errors.
/// `rng` supplies the random register values and element seed.
///
/// # Errors
/// The failure, worded as Redis words it.
pub fn self_test(sparse_max: usize, rng: &mut impl FnMut() -> u64) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (rng() & REGISTER_MAX as u64) as u8;
            dense_put(&mut dense[HDR_SIZE..], i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = dense_get(&dense[HDR_SIZE..], i);
            if got != b {
                return Err(format!("TESTFAILED Register {i} should be {b} but is {got}"));
            }
        }
    }
    dense[HDR_SIZE..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let seed = rng();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, c) = pattern(&ele);
        dense_raise(&mut dense[HDR_SIZE..], index, c);
        add(&mut sparse, &ele, sparse_max).map_err(|_| "TESTFAILED corrupt sparse HLL".to_string())?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && sparse[ENCODING_AT] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).map_err(|_| "TESTFAILED corrupt dense HLL".to_string())?;
        if count(&sparse) != Ok(card) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - card as i64).unsigned_abs();
        let maxerr = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64).ceil() as u64 };
        if abserr > maxerr {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
