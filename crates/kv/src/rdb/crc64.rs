//! CRC-64 exactly as Redis computes it (`crc64.c`).
//!
//! Redis uses the Jones polynomial (`0xad93d23594c935a9`) in its reflected
//! form: bits are processed least significant first, there is no initial
//! value beyond the caller's running CRC and no final XOR. Reflection lets the
//! register shift right, so a 256-entry table indexed by the low byte of the
//! register processes one input byte per lookup.

/// The Jones polynomial, bit-reversed for the reflected (LSB-first) algorithm.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

const TABLE: [u64; 256] = build_table();

const fn build_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ POLY_REFLECTED } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Extends the running checksum `crc` with `data` (start with 0).
///
/// `crc64(crc64(0, a), b) == crc64(0, a ++ b)`, so a file can be checksummed
/// as it streams.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    for &b in data {
        crc = TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// A writer adapter that checksums everything written through it.
#[derive(Debug)]
pub struct Crc64Writer<W> {
    inner: W,
    crc: u64,
}

impl<W> Crc64Writer<W> {
    /// Wraps `inner`, starting the checksum at 0.
    pub fn new(inner: W) -> Self {
        Crc64Writer { inner, crc: 0 }
    }

    /// The checksum of everything written so far.
    pub fn crc(&self) -> u64 {
        self.crc
    }

    /// The wrapped writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Unwraps the writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: std::io::Write> std::io::Write for Crc64Writer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc = crc64(self.crc, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader adapter that checksums everything read through it.
#[derive(Debug)]
pub struct Crc64Reader<R> {
    inner: R,
    crc: u64,
}

impl<R> Crc64Reader<R> {
    /// Wraps `inner`, starting the checksum at 0.
    pub fn new(inner: R) -> Self {
        Crc64Reader { inner, crc: 0 }
    }

    /// The checksum of everything read so far.
    pub fn crc(&self) -> u64 {
        self.crc
    }

    /// The wrapped reader (reading through it bypasses the checksum).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: std::io::Read> std::io::Read for Crc64Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc = crc64(self.crc, &buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn redis_test_vector() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn table_matches_bitwise_definition() {
        // The reflected algorithm, one bit at a time.
        fn bitwise(data: &[u8]) -> u64 {
            let mut crc = 0u64;
            for &b in data {
                crc ^= u64::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 { (crc >> 1) ^ POLY_REFLECTED } else { crc >> 1 };
                }
            }
            crc
        }
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 3) as u8).collect();
        assert_eq!(crc64(0, &data), bitwise(&data));
        assert_eq!(POLY_REFLECTED.reverse_bits(), 0xad93_d235_94c9_35a9, "the Jones polynomial");
    }

    #[test]
    fn incremental_equals_whole() {
        let data = b"hello, crc world";
        let (a, b) = data.split_at(5);
        assert_eq!(crc64(crc64(0, a), b), crc64(0, data));
        assert_eq!(crc64(0, b""), 0);
    }

    #[test]
    fn adapters_track_the_checksum() {
        let mut w = Crc64Writer::new(Vec::new());
        w.write_all(b"1234").unwrap();
        w.write_all(b"56789").unwrap();
        assert_eq!(w.crc(), 0xe9c6_d914_c4b8_d9ca);
        let buf = w.into_inner();
        let mut r = Crc64Reader::new(&buf[..]);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(r.crc(), 0xe9c6_d914_c4b8_d9ca);
    }
}
