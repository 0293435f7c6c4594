//! HyperLogLog commands for the generator: PFADD with a few elements or
//! enough to cross from sparse to dense, PFCOUNT of one key (which writes
//! the cached cardinality back) and of several, PFMERGE, PFDEBUG, and the
//! reads and writes that expose or damage an HLL's bytes: GET, GETRANGE,
//! SETRANGE and APPEND on them, and SET of hand-made HLL strings (valid,
//! truncated, dense with saturated registers). `hll-sparse-max-bytes` is
//! changed now and then so promotion happens at other sizes too.
//!
//! HLLs live mostly on keys of their own (k8, k9), where they can grow
//! past the sparse limit, and on k0, where string commands meet them; now
//! and then on any key, for WRONGTYPE.

use super::{Cmd, Gen};

/// Elements PFADD sends: repeats are common, so many adds change nothing.
fn element(g: &mut Gen) -> Vec<u8> {
    match g.below(20) {
        0 => Vec::new(),
        1 => vec![0xff, 0x00, b'x'],
        2 => "long element ".repeat(10).into_bytes(),
        _ => format!("e{}", g.below(3000)).into_bytes(),
    }
}

/// A header for a hand-made HLL: `encoding`, cached cardinality `card`.
fn header(encoding: u8, card: u64) -> Vec<u8> {
    let mut h = b"HYLL".to_vec();
    h.extend_from_slice(&[encoding, 0, 0, 0]);
    h.extend_from_slice(&card.to_le_bytes());
    h
}

/// A string that is, or almost is, an HLL.
fn crafted(g: &mut Gen) -> Vec<u8> {
    let invalid = 1 << 63;
    let mut v = match g.below(9) {
        // A fresh sparse HLL, with a valid cached 0 or a stale 7.
        0 => header(1, 0),
        1 => header(1, 7),
        // Sparse, too few registers (an empty body).
        2 => return header(1, invalid),
        // Dense, every register at 51 (the estimate overflows) or at 63.
        3 => {
            let mut v = header(0, invalid);
            // 51 = 0b110011, repeating every 3 bytes as 0xf3 0x3c 0xcf.
            for _ in 0..4096 {
                v.extend_from_slice(&[0xf3, 0x3c, 0xcf]);
            }
            return v;
        }
        4 => {
            let mut v = header(0, invalid);
            v.resize(v.len() + 12288, 0xff);
            return v;
        }
        // Dense with one byte too many: not an HLL.
        5 => {
            let mut v = header(0, invalid);
            v.resize(v.len() + 12289, 0);
            return v;
        }
        // A bad magic or an unknown encoding.
        6 => return b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff".to_vec(),
        7 => return b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff".to_vec(),
        // Sparse whose runs end one register early.
        _ => {
            let mut v = header(1, invalid);
            v.extend_from_slice(&[0x7f, 0xfe]);
            return v;
        }
    };
    // The one XZERO covering all 16384 registers.
    v.extend_from_slice(&[0x7f, 0xff]);
    v
}

fn bytes(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// One HyperLogLog command.
pub fn command(g: &mut Gen) -> Cmd {
    g.home = &[8, 9, 0];
    let k = bytes(&g.key());
    // Damage goes mostly to k0, so k8 and k9 are valid HLLs most of the
    // time and grow.
    let damaged = if g.chance(70) { bytes("k0") } else { k.clone() };
    match g.below(64) {
        0..=23 | 62..=63 => {
            let n = match g.below(20) {
                0 => 0,
                1..=2 => 50 + g.below(250),
                3 => 800 + g.below(1200),
                _ => 1 + g.below(5),
            };
            let mut c = vec![bytes("PFADD"), k];
            c.extend((0..n).map(|_| element(g)));
            c
        }
        24..=31 => vec![bytes("PFCOUNT"), k],
        32..=35 => {
            let mut c = vec![bytes("PFCOUNT"), k];
            c.extend((0..1 + g.below(2)).map(|_| bytes(&g.key())));
            c
        }
        36..=41 => {
            let mut c = vec![bytes("PFMERGE"), k];
            c.extend((0..g.below(4)).map(|_| bytes(&g.key())));
            c
        }
        42..=44 => vec![bytes("GET"), k],
        45 => vec![bytes("GETRANGE"), k, bytes("0"), bytes("17")],
        46 if g.chance(50) => {
            // Damage a header or opcode byte.
            let (at, with): (&str, &[u8]) = match g.below(7) {
                0 => ("0", b"X"),
                1 => ("4", b"\x00"),
                2 => ("4", b"\x02"),
                3 => ("15", b"\x00"),
                4 => ("15", b"\x80"),
                5 => ("16", b"\x80\x81"),
                _ => ("20", b"\xff"),
            };
            vec![bytes("SETRANGE"), damaged, bytes(at), with.to_vec()]
        }
        46 => {
            let tail: &[u8] = match g.below(4) {
                0 => b"\x00",
                1 => b"a",
                2 => b"\x84\x84",
                _ => b"\x7f\xff",
            };
            vec![bytes("APPEND"), damaged, tail.to_vec()]
        }
        47 => vec![bytes("SET"), damaged, crafted(g)],
        48..=51 => {
            let sub = match g.below(10) {
                0 => "GETREG",
                1..=3 => "DECODE",
                4..=6 => "ENCODING",
                7..=8 => "TODENSE",
                _ => "NOSUCH",
            };
            vec![bytes("PFDEBUG"), bytes(sub), k]
        }
        52 => {
            let v = ["3000", "3000", "200", "1000", "0", "1kb", "-1"][g.below(7) as usize];
            vec![bytes("CONFIG"), bytes("SET"), bytes("hll-sparse-max-bytes"), bytes(v)]
        }
        53..=57 => vec![bytes("DEL"), k],
        58..=59 => {
            if g.chance(50) {
                vec![bytes("OBJECT"), bytes("ENCODING"), k]
            } else {
                vec![bytes("TYPE"), k]
            }
        }
        60 => vec![bytes("RENAME"), k, bytes(&g.key())],
        _ => {
            let c = ["PFADD", "PFCOUNT", "PFMERGE", "PFDEBUG", "PFSELFTEST"][g.below(5) as usize];
            let mut cmd = vec![bytes(c)];
            if c == "PFDEBUG" {
                cmd.push(bytes("ENCODING"));
            }
            // PFSELFTEST with an argument is an arity error; the others
            // are one short.
            if c == "PFSELFTEST" {
                cmd.push(k);
            }
            cmd
        }
    }
}
