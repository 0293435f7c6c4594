//! Whole RDB files: `REDIS` + 4-digit version, auxiliary fields, then per
//! database a SELECTDB and RESIZEDB opcode followed by its keys (each with an
//! optional expiry opcode before it), and finally EOF and the CRC-64 of
//! everything before the checksum (little-endian; 0 means "not computed").
//!
//! Both ends stream: [`RdbWriter`] writes key by key (or element by element
//! through its [`Encoder`]), and [`RdbReader`] yields one [`RdbItem`] at a
//! time, so neither ever holds the whole keyspace. Give them buffered I/O
//! (`BufWriter` / `BufReader`): they issue many small writes and reads.

use std::io::{self, Read, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use super::consts::*;
use super::crc64::{Crc64Reader, Crc64Writer};
use super::encode::value_type;
use super::{Decoder, Encoder, RdbError, RdbValue, RDB_MAX_READ_VERSION, RDB_VERSION};

/// What [`RdbWriter`] puts in the file header.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// LZF-compress strings longer than 20 bytes (Redis's `rdbcompression`).
    pub compress: bool,
    /// The `redis-ver` aux field: the Redis version we present as.
    pub redis_ver: String,
    /// The `ctime` aux field, Unix seconds; `None` for now.
    pub ctime: Option<i64>,
    /// The `used-mem` aux field, bytes.
    pub used_mem: u64,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { compress: false, redis_ver: "7.0.15".to_string(), ctime: None, used_mem: 0 }
    }
}

/// Writes an RDB file (version 10, which Redis 7.0 and newer load).
#[derive(Debug)]
pub struct RdbWriter<W: Write> {
    enc: Encoder<Crc64Writer<W>>,
}

impl<W: Write> RdbWriter<W> {
    /// Writes the header with default [`WriterOptions`].
    pub fn new(w: W) -> io::Result<Self> {
        Self::with_options(w, &WriterOptions::default())
    }

    /// Writes the magic, the version and the aux fields `redis-ver`,
    /// `redis-bits`, `ctime`, `used-mem` and `aof-base`.
    pub fn with_options(w: W, opts: &WriterOptions) -> io::Result<Self> {
        let mut enc = Encoder::with_compression(Crc64Writer::new(w), opts.compress);
        enc.write_raw(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        let mut me = RdbWriter { enc };
        let ctime = opts.ctime.unwrap_or_else(|| {
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
        });
        me.aux(b"redis-ver", opts.redis_ver.as_bytes())?;
        me.aux(b"redis-bits", b"64")?;
        me.aux(b"ctime", ctime.to_string().as_bytes())?;
        me.aux(b"used-mem", opts.used_mem.to_string().as_bytes())?;
        me.aux(b"aof-base", b"0")?;
        Ok(me)
    }

    /// Writes an auxiliary field.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.enc.write_u8(OPCODE_AUX)?;
        self.enc.write_string(key)?;
        self.enc.write_string(value)
    }

    /// Starts database `db`: the keys written next belong to it.
    pub fn select_db(&mut self, db: u64) -> io::Result<()> {
        self.enc.write_u8(OPCODE_SELECTDB)?;
        self.enc.write_len(db)
    }

    /// Tells the loader how many keys (and keys with an expiry) the current
    /// database has, so it can size its tables once.
    pub fn resize_db(&mut self, keys: u64, expires: u64) -> io::Result<()> {
        self.enc.write_u8(OPCODE_RESIZEDB)?;
        self.enc.write_len(keys)?;
        self.enc.write_len(expires)
    }

    /// Writes the LFU access counter of the key written next
    /// (`RDB_OPCODE_FREQ`, which Redis saves under an LFU policy).
    pub fn write_freq(&mut self, freq: u8) -> io::Result<()> {
        self.enc.write_u8(OPCODE_FREQ)?;
        self.enc.write_u8(freq)
    }

    /// Writes the LRU idle time, in seconds, of the key written next
    /// (`RDB_OPCODE_IDLE`, which Redis saves under an LRU policy).
    pub fn write_idle(&mut self, seconds: u64) -> io::Result<()> {
        self.enc.write_u8(OPCODE_IDLE)?;
        self.enc.write_len(seconds)
    }

    /// Writes one key with its value and optional absolute expiry (Unix ms).
    pub fn write_entry(&mut self, key: &[u8], value: &RdbValue, expire_at_ms: Option<i64>) -> io::Result<()> {
        self.write_expire_and_key(key, expire_at_ms, value_type(value))?;
        self.enc.write_value_body(value)
    }

    /// Streaming form of [`write_entry`](Self::write_entry): writes the
    /// expiry, `object_type` (see [`super::consts`]) and key, then returns the
    /// encoder for the caller to write the body (see
    /// [`Encoder::begin_object`] for what each type's body is).
    pub fn begin_entry(
        &mut self,
        key: &[u8],
        object_type: u8,
        expire_at_ms: Option<i64>,
    ) -> io::Result<&mut Encoder<Crc64Writer<W>>> {
        self.write_expire_and_key(key, expire_at_ms, object_type)?;
        Ok(&mut self.enc)
    }

    fn write_expire_and_key(&mut self, key: &[u8], expire_at_ms: Option<i64>, ty: u8) -> io::Result<()> {
        if let Some(ms) = expire_at_ms {
            self.enc.write_u8(OPCODE_EXPIRETIME_MS)?;
            self.enc.write_raw(&ms.to_le_bytes())?;
        }
        self.enc.begin_object(ty)?;
        self.enc.write_string(key)
    }

    /// The low-level encoder, for anything this type has no method for.
    pub fn encoder(&mut self) -> &mut Encoder<Crc64Writer<W>> {
        &mut self.enc
    }

    /// Writes EOF and the checksum, flushes, and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.enc.write_u8(OPCODE_EOF)?;
        let crc = self.enc.get_mut().crc();
        self.enc.write_raw(&crc.to_le_bytes())?;
        let mut w = self.enc.into_inner().into_inner();
        w.flush()?;
        Ok(w)
    }
}

/// One item of an RDB file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbItem {
    /// An auxiliary field (`redis-ver`, `ctime`, ...).
    Aux {
        /// The field name.
        key: Vec<u8>,
        /// The field value (integers in decimal).
        value: Vec<u8>,
    },
    /// The following keys belong to this database.
    SelectDb(u64),
    /// Size hints for the current database.
    ResizeDb {
        /// Number of keys.
        db_size: u64,
        /// Number of keys with an expiry.
        expires_size: u64,
    },
    /// A key and its value.
    Entry {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: RdbValue,
        /// Absolute expiry, Unix milliseconds (second-resolution expiries of
        /// old files are converted).
        expire_at_ms: Option<i64>,
        /// The LFU access counter a server under an LFU policy saved with
        /// the key (`RDB_OPCODE_FREQ`).
        freq: Option<u8>,
        /// Seconds since the key was last used, which a server under an LRU
        /// policy saved with it (`RDB_OPCODE_IDLE`).
        idle: Option<u64>,
    },
    /// The end of the file; the checksum has been verified.
    Eof,
}

/// Reads an RDB file item by item (versions 1 to 12).
///
/// Redis 7.4's slot info is skipped; functions and module
/// aux data are an [`RdbError::UnsupportedOpcode`].
#[derive(Debug)]
pub struct RdbReader<R: Read> {
    dec: Decoder<Crc64Reader<R>>,
    version: u16,
    done: bool,
    verify_checksum: bool,
}

impl<R: Read> RdbReader<R> {
    /// Reads and checks the magic and version.
    pub fn new(r: R) -> Result<Self, RdbError> {
        let mut dec = Decoder::new(Crc64Reader::new(r));
        let magic: [u8; 9] = dec.read_array()?;
        if &magic[..5] != b"REDIS" || !magic[5..].iter().all(u8::is_ascii_digit) {
            return Err(RdbError::BadMagic);
        }
        let version: u16 = std::str::from_utf8(&magic[5..]).expect("digits").parse().expect("4 digits fit");
        if version == 0 || version > RDB_MAX_READ_VERSION {
            return Err(RdbError::UnsupportedVersion(version));
        }
        Ok(RdbReader { dec, version, done: false, verify_checksum: true })
    }

    /// The file's RDB version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Whether the checksum at the end is compared (by default it is;
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION turns it off).
    pub fn verify_checksum(&mut self, on: bool) {
        self.verify_checksum = on;
    }

    /// The next item; `Ok(None)` after [`RdbItem::Eof`].
    pub fn next_item(&mut self) -> Result<Option<RdbItem>, RdbError> {
        if self.done {
            return Ok(None);
        }
        let r = self.read_item();
        if !matches!(r, Ok(Some(ref item)) if *item != RdbItem::Eof) {
            self.done = true;
        }
        r
    }

    fn read_item(&mut self) -> Result<Option<RdbItem>, RdbError> {
        let mut expire_at_ms = None;
        let mut freq = None;
        let mut idle = None;
        loop {
            let op = self.dec.read_u8()?;
            match op {
                OPCODE_EXPIRETIME_MS => expire_at_ms = Some(i64::from_le_bytes(self.dec.read_array()?)),
                OPCODE_EXPIRETIME => {
                    expire_at_ms = Some(i64::from(i32::from_le_bytes(self.dec.read_array()?)) * 1000)
                }
                OPCODE_FREQ => freq = Some(self.dec.read_u8()?),
                OPCODE_IDLE => idle = Some(self.dec.read_len()?),
                OPCODE_SLOT_INFO => {
                    for _ in 0..3 {
                        self.dec.read_len()?;
                    }
                }
                OPCODE_AUX => {
                    let key = self.dec.read_string()?;
                    let value = self.dec.read_string()?;
                    return Ok(Some(RdbItem::Aux { key, value }));
                }
                OPCODE_SELECTDB => return Ok(Some(RdbItem::SelectDb(self.dec.read_len()?))),
                OPCODE_RESIZEDB => {
                    let db_size = self.dec.read_len()?;
                    let expires_size = self.dec.read_len()?;
                    return Ok(Some(RdbItem::ResizeDb { db_size, expires_size }));
                }
                OPCODE_MODULE_AUX => {
                    return Err(RdbError::UnsupportedOpcode { code: op, name: "module aux data" })
                }
                OPCODE_FUNCTION2 | OPCODE_FUNCTION_PRE_GA => {
                    return Err(RdbError::UnsupportedOpcode { code: op, name: "function library" })
                }
                OPCODE_EOF => {
                    if self.version >= 5 {
                        let computed = self.dec.get_mut().crc();
                        let stored = u64::from_le_bytes(self.dec.read_array()?);
                        if self.verify_checksum && stored != 0 && stored != computed {
                            return Err(RdbError::ChecksumMismatch { stored, computed });
                        }
                    }
                    return Ok(Some(RdbItem::Eof));
                }
                ty => {
                    let key = self.dec.read_string()?;
                    let value = self.dec.read_object(ty)?;
                    return Ok(Some(RdbItem::Entry { key, value, expire_at_ms, freq, idle }));
                }
            }
        }
    }
}

impl<R: Read> Iterator for RdbReader<R> {
    type Item = Result<RdbItem, RdbError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Vec<u8> {
        v.as_bytes().to_vec()
    }

    fn sample_file(compress: bool) -> Vec<u8> {
        let opts = WriterOptions { compress, ctime: Some(1_700_000_000), ..Default::default() };
        let mut w = RdbWriter::with_options(Vec::new(), &opts).unwrap();
        w.select_db(0).unwrap();
        w.resize_db(2, 1).unwrap();
        w.write_entry(b"s", &RdbValue::String(s(&"long ".repeat(20))), Some(4_102_444_800_000)).unwrap();
        w.write_entry(b"l", &RdbValue::List(vec![s("a"), s("2")]), None).unwrap();
        w.select_db(3).unwrap();
        let e = w.begin_entry(b"z", TYPE_ZSET_2, None).unwrap();
        e.write_len(1).unwrap();
        e.write_string(b"m").unwrap();
        e.write_double(2.5).unwrap();
        w.finish().unwrap()
    }

    fn items(bytes: &[u8]) -> Vec<RdbItem> {
        RdbReader::new(bytes).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
    }

    #[test]
    fn a_saved_lfu_counter_comes_back_with_its_key() {
        let mut w = RdbWriter::with_options(Vec::new(), &WriterOptions::default()).unwrap();
        w.select_db(0).unwrap();
        w.write_freq(42).unwrap();
        w.write_entry(b"k", &RdbValue::String(s("v")), Some(4_102_444_800_000)).unwrap();
        w.write_entry(b"n", &RdbValue::String(s("v")), None).unwrap();
        let got = items(&w.finish().unwrap());
        let entries: Vec<_> = got
            .into_iter()
            .filter_map(|i| match i {
                RdbItem::Entry { key, freq, expire_at_ms, .. } => Some((key, freq, expire_at_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(entries, [(s("k"), Some(42), Some(4_102_444_800_000)), (s("n"), None, None)]);
    }

    #[test]
    fn a_saved_idle_time_comes_back_with_its_key() {
        let mut w = RdbWriter::with_options(Vec::new(), &WriterOptions::default()).unwrap();
        w.select_db(0).unwrap();
        w.write_idle(90_000).unwrap();
        w.write_entry(b"k", &RdbValue::String(s("v")), None).unwrap();
        w.write_entry(b"n", &RdbValue::String(s("v")), None).unwrap();
        let idles: Vec<_> = items(&w.finish().unwrap())
            .into_iter()
            .filter_map(|i| match i {
                RdbItem::Entry { idle, .. } => Some(idle),
                _ => None,
            })
            .collect();
        assert_eq!(idles, [Some(90_000), None]);
    }

    #[test]
    fn writes_and_reads_back() {
        for compress in [false, true] {
            let file = sample_file(compress);
            assert_eq!(&file[..9], b"REDIS0010");
            let got = items(&file);
            let aux: Vec<_> = got
                .iter()
                .filter_map(|i| match i {
                    RdbItem::Aux { key, value } => {
                        Some((String::from_utf8_lossy(key).into_owned(), value.clone()))
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(aux[0], ("redis-ver".into(), s("7.0.15")));
            assert_eq!(aux[1], ("redis-bits".into(), s("64")));
            assert_eq!(aux[2], ("ctime".into(), s("1700000000")));
            let rest: Vec<_> = got.into_iter().filter(|i| !matches!(i, RdbItem::Aux { .. })).collect();
            assert_eq!(
                rest,
                vec![
                    RdbItem::SelectDb(0),
                    RdbItem::ResizeDb { db_size: 2, expires_size: 1 },
                    RdbItem::Entry {
                        key: s("s"),
                        value: RdbValue::String(s(&"long ".repeat(20))),
                        expire_at_ms: Some(4_102_444_800_000),
                        freq: None,
                        idle: None
                    },
                    RdbItem::Entry {
                        key: s("l"),
                        value: RdbValue::List(vec![s("a"), s("2")]),
                        expire_at_ms: None,
                        freq: None,
                        idle: None
                    },
                    RdbItem::SelectDb(3),
                    RdbItem::Entry {
                        key: s("z"),
                        value: RdbValue::ZSet(vec![(s("m"), 2.5)]),
                        expire_at_ms: None,
                        freq: None,
                        idle: None
                    },
                    RdbItem::Eof,
                ]
            );
        }
    }

    #[test]
    fn checksum_is_verified_and_zero_disables_it() {
        let mut file = sample_file(false);
        let n = file.len();
        file[n - 1] ^= 0xff;
        let err = RdbReader::new(&file[..]).unwrap().find_map(Result::err).unwrap();
        assert!(matches!(err, RdbError::ChecksumMismatch { .. }), "{err}");
        file[n - 8..].fill(0);
        assert_eq!(items(&file).last(), Some(&RdbItem::Eof));
    }

    #[test]
    fn old_second_expiry_freq_and_idle_are_handled() {
        let mut f = b"REDIS0009".to_vec();
        f.extend_from_slice(&[OPCODE_SELECTDB, 0, OPCODE_EXPIRETIME]);
        f.extend_from_slice(&2_000_000_000i32.to_le_bytes());
        f.extend_from_slice(&[
            OPCODE_FREQ,
            5,
            OPCODE_IDLE,
            0x40,
            0x80,
            TYPE_STRING,
            1,
            b'k',
            1,
            b'v',
            OPCODE_EOF,
        ]);
        f.extend_from_slice(&0u64.to_le_bytes());
        let got = items(&f);
        assert_eq!(
            got[1],
            RdbItem::Entry {
                key: s("k"),
                value: RdbValue::String(s("v")),
                expire_at_ms: Some(2_000_000_000_000),
                freq: Some(5),
                idle: Some(0x80)
            }
        );
    }

    #[test]
    fn functions_and_module_aux_are_unsupported() {
        for op in [OPCODE_FUNCTION2, OPCODE_MODULE_AUX] {
            let mut f = b"REDIS0010".to_vec();
            f.extend_from_slice(&[op, 0, 0]);
            let mut r = RdbReader::new(&f[..]).unwrap();
            let e = r.next().unwrap().unwrap_err();
            assert!(matches!(e, RdbError::UnsupportedOpcode { .. }), "{e}");
            assert!(r.next().is_none(), "the reader stops after an error");
        }
    }

    #[test]
    fn bad_headers() {
        assert!(matches!(RdbReader::new(&b"REDIX0010"[..]), Err(RdbError::BadMagic)));
        assert!(matches!(RdbReader::new(&b"REDIS0013"[..]), Err(RdbError::UnsupportedVersion(13))));
        assert!(matches!(RdbReader::new(&b"RED"[..]), Err(RdbError::UnexpectedEof)));
    }
}
