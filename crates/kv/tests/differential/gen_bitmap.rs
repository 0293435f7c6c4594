//! The bitmap part of the generator: SETBIT, GETBIT, BITCOUNT, BITPOS,
//! BITOP, BITFIELD and BITFIELD_RO with the arguments where their edge
//! cases are (offsets at byte boundaries, negative and reversed ranges,
//! BYTE/BIT units, bad types and bits, every OVERFLOW mode, i64/u63
//! extremes, `#` offsets), on the string keys so the other string commands
//! read what they wrote and the other types give WRONGTYPE.

use super::{Cmd, Gen};

/// Byte strings worth counting and searching: all ones, all zeros, mixed,
/// text, empty, and an integer (stored as `int`).
const VALUES: &[&[u8]] = &[
    b"\xff\xf0\x00",
    b"\x00\xff\xf0",
    b"\x00\x00\x00",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x01",
    b"foobar",
    b"",
    b"\x80",
    b"\x7f\xff\xff\xff\xff\xff\xff\xff",
    b"12345",
    b"\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55\xaa\x55",
];

impl Gen {
    /// A bit offset: mostly near byte and word boundaries, sometimes far,
    /// sometimes not an offset at all.
    fn bit_offset(&mut self) -> String {
        match self.below(12) {
            0 => self
                .pick(&["-1", "x", "4294967296", "1.5", "", "#3", " 1", "+1", "9223372036854775807"])
                .into(),
            1 => self.pick(&["1000", "4095", "8191", "100"]).into(),
            2..=5 => {
                let base = 8 * self.below(9) as i64;
                (base + [-1, 0, 1, 7][self.below(4) as usize]).max(0).to_string()
            }
            _ => self.below(72).to_string(),
        }
    }

    /// A BITCOUNT/BITPOS range end: byte-sized or bit-sized, either sign,
    /// sometimes extreme or not a number.
    fn bit_index(&mut self) -> String {
        match self.below(10) {
            0 => self.pick(&["9223372036854775807", "-9223372036854775808", "x", "1.0"]).into(),
            1..=3 => (self.below(161) as i64 - 80).to_string(),
            _ => (self.below(25) as i64 - 12).to_string(),
        }
    }

    fn range_unit(&mut self) -> String {
        self.pick(&["BIT", "BYTE", "bit", "byte", "Bit", "BITS", ""]).into()
    }

    /// `[start [end [unit]]]`, `need_end` for BITCOUNT's pairs; sometimes
    /// the wrong number of them.
    fn bit_range(&mut self, a: &mut Vec<String>, need_end: bool) {
        let n = match self.below(10) {
            0 => self.below(5),
            1..=2 => 0,
            _ if need_end => 2 + self.below(2),
            _ => 1 + self.below(3),
        };
        for i in 0..n {
            a.push(if i == 2 {
                self.range_unit()
            } else if i > 2 {
                "x".into()
            } else {
                self.bit_index()
            });
        }
    }

    /// A BITFIELD type, now and then an invalid one.
    fn field_type(&mut self) -> String {
        match self.below(25) {
            0 => self.pick(&["u64", "i65", "I8", "i0", "u", "x8", "i08", "U8"]).into(),
            1..=5 => self.pick(&["i64", "u63", "i63", "u1", "i1"]).into(),
            _ => format!("{}{}", self.pick(&["i", "u"]), self.pick(&["8", "4", "16", "5", "3", "32", "12"])),
        }
    }

    fn field_offset(&mut self) -> String {
        match self.below(20) {
            0 => self.pick(&["-1", "x", "#-1", "#x", "4294967296", "##1", "#"]).into(),
            1..=6 => format!("#{}", self.below(6)),
            _ => self.below(70).to_string(),
        }
    }

    fn field_value(&mut self) -> String {
        match self.below(8) {
            0 => self
                .pick(&[
                    "9223372036854775807",
                    "-9223372036854775808",
                    "x",
                    "9223372036854775808",
                    "4611686018427387904",
                    "-4611686018427387905",
                ])
                .into(),
            1 => self.pick(&["255", "256", "-128", "-129", "127", "128", "15", "16", "-8", "-9"]).into(),
            _ => (self.below(601) as i64 - 300).to_string(),
        }
    }

    /// BITFIELD's operations: GET, SET, INCRBY and OVERFLOW in any order,
    /// the last one sometimes cut short or misnamed.
    fn field_ops(&mut self, a: &mut Vec<String>, read_only: bool) {
        for _ in 0..self.below(5) {
            let op = if read_only && self.chance(95) {
                "GET"
            } else {
                self.pick(&["GET", "SET", "INCRBY", "INCRBY", "OVERFLOW", "get", "incrby", "overflow"])
            };
            a.push(op.into());
            if op.eq_ignore_ascii_case("OVERFLOW") {
                let mode = if self.chance(93) {
                    self.pick(&["WRAP", "SAT", "FAIL", "sat", "fail"])
                } else {
                    "BOGUS"
                };
                a.push(mode.into());
                continue;
            }
            a.push(self.field_type());
            a.push(self.field_offset());
            if !op.eq_ignore_ascii_case("GET") {
                a.push(self.field_value());
            }
        }
        if self.chance(5) {
            a.push(self.pick(&["GET", "SET", "INCRBY", "OVERFLOW", "FOO"]).into());
        } else if self.chance(5) && a.len() > 2 {
            a.pop();
        }
    }

    /// One bitmap command (or a SET / GET / STRLEN / OBJECT ENCODING of a
    /// bitmap key, to seed and check what the others see).
    pub(super) fn bitmap_command(&mut self) -> Cmd {
        self.home = &[0, 1];
        let k = self.key();
        let mut a: Vec<String> = Vec::new();
        match self.below(20) {
            0..=1 => {
                let v = VALUES[self.below(VALUES.len() as u64) as usize];
                return vec![b"SET".to_vec(), k.into_bytes(), v.to_vec()];
            }
            2 => {
                let c = self.pick(&["GET", "STRLEN", "OBJECT"]);
                a.push(c.into());
                if c == "OBJECT" {
                    a.push("ENCODING".into());
                }
                a.push(k);
            }
            3..=5 => {
                a.extend(["SETBIT".into(), k, self.bit_offset()]);
                let bit = if self.chance(85) {
                    self.pick(&["0", "1"])
                } else {
                    self.pick(&["2", "-1", "x", "01", ""])
                };
                a.push(bit.into());
            }
            6..=7 => a.extend(["GETBIT".into(), k, self.bit_offset()]),
            8..=9 => {
                a.extend(["BITCOUNT".into(), k]);
                self.bit_range(&mut a, true);
            }
            10..=11 => {
                a.extend(["BITPOS".into(), k]);
                let bit = if self.chance(88) { self.pick(&["0", "1"]) } else { self.pick(&["2", "-1", "x"]) };
                a.push(bit.into());
                self.bit_range(&mut a, false);
            }
            12..=13 => {
                a.push("BITOP".into());
                let op = self.pick(&["AND", "OR", "XOR", "NOT", "and", "not", "NAND", "or"]);
                a.push(op.into());
                a.push(k);
                let n = if op.eq_ignore_ascii_case("NOT") && self.chance(85) { 1 } else { 1 + self.below(3) };
                for _ in 0..n {
                    a.push(self.key());
                }
            }
            14..=17 => {
                a.extend(["BITFIELD".into(), k]);
                self.field_ops(&mut a, false);
            }
            _ => {
                a.extend(["BITFIELD_RO".into(), k]);
                self.field_ops(&mut a, true);
            }
        }
        a.into_iter().map(String::into_bytes).collect()
    }
}
