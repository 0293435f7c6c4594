use super::*;

/// MurmurHash64A of each input with Redis's seed and with seed 0, from
/// Austin Appleby's reference code compiled as C.
const VECTORS: &[(&[u8], u64, u64)] = &[
    (b"", 0xd8df_ea65_85bc_9732, 0x0000_0000_0000_0000),
    (b"a", 0x53d2_470a_9b43_b1a7, 0x0717_17d2_d36b_6b11),
    (b"abc", 0x77ec_90ae_b374_e502, 0x9cc9_c334_98a9_5efb),
    (b"hello", 0x0f65_6f01_eecf_e400, 0x1e68_d17c_457b_f117),
    (b"12345678", 0x95eb_b863_8913_2953, 0x758f_67d1_62b2_d202),
    (b"123456789", 0x2175_32cb_09f2_a44d, 0x4977_4902_5167_4330),
    (b"The quick brown fox jumps over the lazy dog", 0x5160_6c5c_5b56_1ace, 0x5589_ca33_042a_861b),
    (b"foo", 0xe646_09b8_b014_1cb4, 0xcdde_3835_8fd2_5b01),
];

#[test]
fn murmurhash64a_matches_the_reference_vectors() {
    for &(input, with_seed, seed0) in VECTORS {
        assert_eq!(murmurhash64a(input, SEED), with_seed, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(murmurhash64a(input, 0), seed0, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn pattern_matches_redis_registers() {
    // PFADD h <ele> then PFDEBUG DECODE h on redis-server 7.0: the one VAL
    // opcode is at the register index with the pattern length.
    assert_eq!(pattern(b"a"), (12711, 2));
    assert_eq!(pattern(b"hello"), (9216, 1));
    assert_eq!(pattern(b"foo"), (7348, 5));
    assert_eq!(pattern(b"abc"), (9474, 1));
}

fn sparse_with(elements: impl IntoIterator<Item = Vec<u8>>, max: usize) -> Vec<u8> {
    let mut h = new_sparse();
    for e in elements {
        add(&mut h, &e, max).expect("valid");
    }
    h
}

#[test]
fn a_new_hll_is_one_xzero_and_counts_zero() {
    let h = new_sparse();
    assert_eq!(h, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
    assert!(is_valid(&h));
    assert_eq!(cached(&h), Some(0));
    assert_eq!(count(&h), Ok(0));
    assert_eq!(decode_sparse(&h), "Z:16384");
}

#[test]
fn three_elements_give_redis_bytes() {
    // PFADD h a b c; PFCOUNT h; GET h on redis-server 7.0.
    let mut h = sparse_with([b"a".to_vec(), b"b".to_vec(), b"c".to_vec()], DEFAULT_SPARSE_MAX_BYTES);
    assert_eq!(cached(&h), None);
    let n = count(&h).unwrap();
    assert_eq!(n, 3);
    set_cached(&mut h, n);
    let redis = b"HYLL\x01\0\0\0\x03\0\0\0\0\0\0\0\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a";
    assert_eq!(h, redis);
}

#[test]
fn adding_twice_changes_nothing() {
    let mut h = sparse_with([b"x".to_vec()], DEFAULT_SPARSE_MAX_BYTES);
    let before = h.clone();
    assert_eq!(add(&mut h, b"x", DEFAULT_SPARSE_MAX_BYTES), Ok(false));
    assert_eq!(h, before);
}

/// Registers of any valid HLL, one byte each.
fn registers(h: &[u8]) -> Vec<u8> {
    let mut r = vec![0; REGISTERS];
    merge_into(&mut r, h).unwrap();
    r
}

#[test]
fn sparse_and_dense_round_trip() {
    let elements: Vec<Vec<u8>> = (0..2000).map(|i| format!("element:{i}").into_bytes()).collect();
    // A sparse HLL allowed to grow, and the registers computed directly.
    let sparse = sparse_with(elements.clone(), usize::MAX);
    assert_eq!(encoding(&sparse), SPARSE);
    let mut direct = vec![0u8; REGISTERS];
    for e in &elements {
        let (i, c) = pattern(e);
        direct[i] = direct[i].max(c);
    }
    assert_eq!(registers(&sparse), direct);

    let mut dense = sparse.clone();
    assert_eq!(sparse_to_dense(&mut dense), Ok(true));
    assert_eq!(dense.len(), DENSE_SIZE);
    assert_eq!(encoding(&dense), DENSE);
    assert_eq!(&dense[..4], b"HYLL");
    assert_eq!(dense[8..16], sparse[8..16], "the cached cardinality is kept");
    assert_eq!(registers(&dense), direct);
    for (i, &d) in direct.iter().enumerate() {
        assert_eq!(dense_get(&dense[HDR_SIZE..], i), d, "register {i}");
    }
    assert_eq!(sparse_to_dense(&mut dense), Ok(false));
    assert_eq!(count(&sparse), count(&dense));
    assert_eq!(count(&sparse).unwrap(), count_registers(&direct));

    // The same elements added to a dense HLL give the same bytes.
    let mut dense2 = new_sparse();
    sparse_to_dense(&mut dense2).unwrap();
    for e in &elements {
        add(&mut dense2, e, DEFAULT_SPARSE_MAX_BYTES).unwrap();
    }
    invalidate(&mut dense);
    invalidate(&mut dense2);
    assert!(dense2 == dense, "dense adds and the converted sparse differ");
}

#[test]
fn sparse_opcodes_stay_canonical() {
    // Every register set through the sparse path decodes back, opcode by
    // opcode, to runs that cover all registers.
    let h = sparse_with((0..300).map(|i| format!("{i}").into_bytes()), usize::MAX);
    let text = decode_sparse(&h);
    let mut total = 0;
    for op in text.split(' ') {
        let n: usize = match op.split_once(':').unwrap() {
            ("v", rest) => {
                let (v, n) = rest.split_once(',').unwrap();
                assert!((1..=32).contains(&v.parse::<u8>().unwrap()));
                n.parse().unwrap()
            }
            (_, n) => n.parse().unwrap(),
        };
        total += n;
    }
    assert_eq!(total, REGISTERS);
}

#[test]
fn dense_registers_do_not_disturb_neighbours() {
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    for i in 0..REGISTERS {
        dense_put(&mut regs, i, (i % 64) as u8);
    }
    for i in 0..REGISTERS {
        assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
    }
    dense_put(&mut regs, REGISTERS - 1, 0);
    assert_eq!(dense_get(&regs, REGISTERS - 2), ((REGISTERS - 2) % 64) as u8);
    assert_eq!(dense_get(&regs, REGISTERS - 1), 0);
}

#[test]
fn promotion_happens_past_the_sparse_limit() {
    let max = 300;
    let mut h = new_sparse();
    let mut i = 0;
    while encoding(&h) == SPARSE {
        let before = h.len();
        add(&mut h, format!("p{i}").as_bytes(), max).unwrap();
        if encoding(&h) == SPARSE {
            assert!(h.len() <= max, "sparse grew to {} bytes", h.len());
        } else {
            // Promoted because a split (at most 3 bytes more) would not fit.
            assert!(before + 3 > max, "promoted early at {before} bytes");
        }
        i += 1;
        assert!(i < 10_000, "never promoted");
    }
    assert_eq!(h.len(), DENSE_SIZE);
}

#[test]
fn a_register_over_32_promotes() {
    let mut h = new_sparse();
    assert_eq!(set_register(&mut h, 5, 33, usize::MAX), Ok(true));
    assert_eq!(encoding(&h), DENSE);
    assert_eq!(registers(&h)[5], 33);
}

#[test]
fn corrupt_sparse_hlls_are_detected() {
    // Too few registers: the last XZERO dropped.
    let mut short = new_sparse();
    short.truncate(HDR_SIZE);
    assert!(is_valid(&short));
    assert_eq!(count(&short), Err(Corrupt));
    assert_eq!(sparse_to_dense(&mut short.clone()), Err(Corrupt));
    assert_eq!(merge_into(&mut [0; REGISTERS], &short), Err(Corrupt));
    assert_eq!(add(&mut short, b"a", DEFAULT_SPARSE_MAX_BYTES), Err(Corrupt));
    // Too many: an extra ZERO after a valid body.
    let mut long = new_sparse();
    long.push(0x00);
    assert_eq!(count(&long), Err(Corrupt));
    assert_eq!(sparse_to_dense(&mut long.clone()), Err(Corrupt));
    // A VAL right after the last register: Redis 7.0.15 (patched for
    // CVE-2025-32023) calls it corrupt where older releases ignored it.
    let mut trailing = new_sparse();
    trailing.push(val_op(2, 1));
    assert_eq!(merge_into(&mut [0; REGISTERS], &trailing), Err(Corrupt));
    assert_eq!(sparse_to_dense(&mut trailing.clone()), Err(Corrupt));
    assert_eq!(count(&trailing), Err(Corrupt));
    // A VAL that runs past the last register.
    let mut over = new_sparse();
    over.truncate(HDR_SIZE);
    over.extend_from_slice(&xzero_op(16383));
    over.push(val_op(3, 2));
    assert_eq!(sparse_to_dense(&mut over.clone()), Err(Corrupt));
    assert_eq!(merge_into(&mut [0; REGISTERS], &over), Err(Corrupt));
}

#[test]
fn headers_are_checked_as_redis_does() {
    assert!(!is_valid(b"HYLL"));
    assert!(!is_valid(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff"));
    assert!(!is_valid(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0\x7f\xff"));
    // Dense must be exactly 12304 bytes.
    assert!(!is_valid(b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\0\x7f\xff"));
    let mut d = new_sparse();
    sparse_to_dense(&mut d).unwrap();
    assert!(is_valid(&d));
    d.push(0);
    assert!(!is_valid(&d));
}

#[test]
fn the_cache_bit_is_the_top_bit() {
    let mut h = new_sparse();
    set_cached(&mut h, 0x0012_3456_789a_bcde);
    assert_eq!(cached(&h), Some(0x0012_3456_789a_bcde));
    invalidate(&mut h);
    assert_eq!(cached(&h), None);
    assert_eq!(h[15], 0x80);
}

#[test]
fn estimates_stay_within_a_few_standard_errors() {
    let mut h = new_sparse();
    let mut next = 0u64;
    for target in [10u64, 100, 1000, 10_000, 100_000] {
        while next < target {
            add(&mut h, &next.to_le_bytes(), DEFAULT_SPARSE_MAX_BYTES).unwrap();
            next += 1;
        }
        let n = count(&h).unwrap();
        let err = (n as f64 - target as f64).abs() / target as f64;
        assert!(err < 0.05, "{target} elements estimated as {n}");
    }
}

#[test]
fn saturated_and_empty_registers_convert_as_redis_does() {
    // All registers 0: sigma(1) is infinite, the estimate 0.
    assert_eq!(count_registers(&[0; REGISTERS]), 0);
    // All registers at the maximum: the estimate is infinite, and
    // llroundl's out-of-range result survives as 2^63.
    assert_eq!(count_registers(&[51; REGISTERS]), 1 << 63);
}

#[test]
fn merged_registers_are_the_maximum() {
    let a = sparse_with((0..500).map(|i| format!("a{i}").into_bytes()), DEFAULT_SPARSE_MAX_BYTES);
    let b = sparse_with((0..500).map(|i| format!("b{i}").into_bytes()), DEFAULT_SPARSE_MAX_BYTES);
    let both = sparse_with(
        (0..500).flat_map(|i| [format!("a{i}"), format!("b{i}")]).map(String::into_bytes),
        DEFAULT_SPARSE_MAX_BYTES,
    );
    let mut max = vec![0; REGISTERS];
    merge_into(&mut max, &a).unwrap();
    merge_into(&mut max, &b).unwrap();
    assert_eq!(max, registers(&both));
    assert_eq!(count_registers(&max), count(&both).unwrap());
}

#[test]
fn registers_at_the_maximum_go_through_tau() {
    // PFCOUNT on redis-server 7.0 of dense HLLs with these registers.
    let regs = |n51: usize, rest: u8| {
        let mut r = vec![rest; REGISTERS];
        r[..n51].fill(51);
        r
    };
    assert_eq!(count_registers(&regs(8192, 0)), 13_268);
    assert_eq!(count_registers(&regs(8192, 1)), 47_274);
    assert_eq!(count_registers(&regs(100, 3)), 95_129);
    assert_eq!(count_registers(&regs(1, 10)), 12_102_942);
    // The same through the dense encoding.
    let mut d = new_sparse();
    sparse_to_dense(&mut d).unwrap();
    for (i, &v) in regs(100, 3).iter().enumerate() {
        dense_put(&mut d[HDR_SIZE..], i, v);
    }
    assert_eq!(count(&d), Ok(95_129));
}
