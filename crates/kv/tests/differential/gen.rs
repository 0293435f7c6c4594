//! A seeded generator of command sequences over a small key space, so
//! types collide (WRONGTYPE), counts cross the compact-encoding thresholds
//! and the edge cases of each command's arguments come up.
//!
//! The bitmap commands are generated in `gen_bitmap.rs`.
//!
//! Scores and sorted-set increments are multiples of 1/4 (or infinite): both
//! Redis 7.0's `%.17g` and 7.2's shortest round-trip print those the same.

#[path = "gen_bitmap.rs"]
mod bitmap;
#[path = "gen_hll.rs"]
mod hll;
#[path = "gen_misc.rs"]
pub mod misc;

/// One command as its arguments.
pub type Cmd = Vec<Vec<u8>>;

/// A xorshift64* generator with a fixed seed.
pub struct Gen {
    s: u64,
    /// The keys the current command prefers (its type's "home"), so that
    /// most commands find a key of their type and WRONGTYPE stays a
    /// minority.
    home: &'static [u64],
}

impl Gen {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Gen {
        Gen { s: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, home: &[] }
    }

    fn next(&mut self) -> u64 {
        self.s ^= self.s >> 12;
        self.s ^= self.s << 25;
        self.s ^= self.s >> 27;
        self.s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }

    fn key(&mut self) -> String {
        if !self.home.is_empty() && self.chance(85) {
            let home = self.home;
            return format!("k{}", home[self.below(home.len() as u64) as usize]);
        }
        format!("k{}", self.below(8))
    }

    fn keys(&mut self, max: u64) -> Vec<String> {
        (0..1 + self.below(max)).map(|_| self.key()).collect()
    }

    /// A string value: numbers (good, huge, bad), short text, long text.
    fn value(&mut self) -> String {
        match self.below(10) {
            0 => self.pick(&["0", "1", "-7", "42", "007", " 3", "3 ", "+5", "-0"]).into(),
            1 => self.pick(&["9223372036854775807", "-9223372036854775808", "9223372036854775808"]).into(),
            2 => self.pick(&["1.5", "-0.25", "1e3", "inf", "0x10", "3.0", ""]).into(),
            3 => "v".repeat(40 + self.below(30) as usize),
            _ => self.pick(&["a", "b", "c", "foo", "bar", "hello world"]).into(),
        }
    }

    fn int_arg(&mut self) -> String {
        match self.below(8) {
            0 => self.pick(&["9223372036854775807", "-9223372036854775808", "x", "1.5", ""]).into(),
            _ => (self.below(41) as i64 - 20).to_string(),
        }
    }

    fn float_arg(&mut self) -> String {
        self.pick(&[
            "0.1", "1.5", "-2", "3", "1e2", "-0.5", "abc", "inf", "1e308", "5.0e-1", " 1", "nan", "2.25",
        ])
        .into()
    }

    fn index(&mut self) -> String {
        match self.below(10) {
            0 => self.pick(&["9223372036854775807", "-9223372036854775808", "1000", "-1000", "x"]).into(),
            _ => (self.below(25) as i64 - 12).to_string(),
        }
    }

    fn count_arg(&mut self) -> String {
        self.pick(&["0", "1", "2", "3", "5", "-1", "x", "200"]).into()
    }

    fn ttl(&mut self) -> String {
        match self.below(12) {
            0 => self.pick(&["-1", "0", "x", "9223372036854775807", "-9223372036854775808"]).into(),
            _ => ((1 + self.below(9)) * 100_000).to_string(),
        }
    }

    fn list_item(&mut self) -> String {
        match self.below(12) {
            0 => "w".repeat(70),
            _ => self.pick(&["a", "b", "c", "d", "1", "2"]).into(),
        }
    }

    fn set_member(&mut self) -> String {
        match self.below(12) {
            0 => self.pick(&["m", "x", "-0", "01", "9223372036854775807"]).into(),
            _ => (self.below(30) as i64 - 3).to_string(),
        }
    }

    fn field(&mut self) -> String {
        format!("f{}", self.below(12))
    }

    fn zmember(&mut self) -> String {
        match self.below(10) {
            0 => "z".repeat(70),
            1 => (self.below(5)).to_string(),
            _ => self.pick(&["a", "b", "c", "d", "e", "f", "g", "h"]).into(),
        }
    }

    fn score(&mut self) -> String {
        match self.below(14) {
            0 => self.pick(&["inf", "-inf", "+inf", "x", "nan", "1e3", ""]).into(),
            _ => {
                let q = self.below(41) as i64 - 20;
                format!("{}", q as f64 / 4.0)
            }
        }
    }

    fn score_bound(&mut self) -> String {
        match self.below(8) {
            0 => self.pick(&["-inf", "+inf", "inf", "(inf", "x", "(x", "(-inf"]).into(),
            1 => format!("({}", self.below(9) as i64 - 4),
            _ => format!("{}", (self.below(21) as i64 - 10) as f64 / 2.0),
        }
    }

    fn lex_bound(&mut self) -> String {
        match self.below(6) {
            0 => self.pick(&["-", "+", "a", "", "[", "("]).into(),
            _ => format!("{}{}", self.pick(&["[", "("]), self.pick(&["a", "b", "c", "d", "e", "g", "z"])),
        }
    }

    fn limit(&mut self, args: &mut Vec<String>) {
        if self.chance(30) {
            args.push("LIMIT".into());
            args.push(self.pick(&["0", "1", "2", "-1", "x"]).into());
            args.push(self.pick(&["1", "2", "5", "-1", "0", "x"]).into());
        }
    }

    fn fill<F: FnMut(&mut Gen, usize) -> Vec<String>>(&mut self, n: usize, mut f: F) -> Vec<String> {
        (0..n).flat_map(|i| f(self, i)).collect()
    }

    /// The next command of the sequence.
    pub fn command(&mut self) -> Cmd {
        let mut a: Vec<String> = Vec::new();
        let which = self.below(110);
        self.home = match which {
            0..=12 => &[0, 1],
            13..=25 => &[2, 3],
            26..=34 => &[4],
            35..=43 => &[5, 6, 7],
            44..=62 => &[6, 7],
            _ => &[],
        };
        let k = self.key();
        let push = |a: &mut Vec<String>, xs: &[&str]| a.extend(xs.iter().map(|s| s.to_string()));
        match which {
            // Strings.
            0..=2 => {
                push(&mut a, &["SET", &k]);
                a.push(self.value());
                if self.chance(30) {
                    a.push(self.pick(&["NX", "XX"]).into());
                }
                if self.chance(20) {
                    a.push("GET".into());
                }
                if self.chance(30) {
                    let o = self.pick(&["EX", "PX", "EXAT", "PXAT", "KEEPTTL"]);
                    a.push(o.into());
                    match o {
                        "KEEPTTL" => {}
                        "EXAT" | "PXAT" => a.push(format!("{}", 4_000_000_000_000u64 + self.below(9))),
                        _ => a.push(self.ttl()),
                    }
                }
                if self.chance(5) {
                    a.push(self.pick(&["NX", "XX", "EX", "KEEPTTL", "BOGUS"]).into());
                }
            }
            3 => push(&mut a, &["GET", &k]),
            4 => {
                let c = self.pick(&["INCR", "DECR"]);
                push(&mut a, &[c, &k]);
            }
            5 => {
                let c = self.pick(&["INCRBY", "DECRBY"]);
                push(&mut a, &[c, &k]);
                a.push(self.int_arg());
            }
            6 => {
                push(&mut a, &["INCRBYFLOAT", &k]);
                a.push(self.float_arg());
            }
            7 => {
                push(&mut a, &["APPEND", &k]);
                a.push(self.value());
            }
            8 => {
                let c = self.pick(&["STRLEN", "GETDEL", "SETNX", "GETSET"]);
                push(&mut a, &[c, &k]);
                if c == "SETNX" || c == "GETSET" {
                    a.push(self.value());
                }
            }
            9 => {
                push(&mut a, &["GETRANGE", &k]);
                a.push(self.index());
                a.push(self.index());
            }
            10 => {
                push(&mut a, &["SETRANGE", &k]);
                a.push(self.pick(&["0", "1", "3", "10", "100", "-1", "x", "536870912", "536870999"]).into());
                a.push(self.pick(&["", "x", "hello", "12"]).into());
            }
            11 => {
                push(&mut a, &["GETEX", &k]);
                match self.below(7) {
                    0 => a.push("PERSIST".into()),
                    1 => push(&mut a, &["EX", "100000"]),
                    2 => push(&mut a, &["PX", "0"]),
                    3 => push(&mut a, &["EXAT", "4000000000"]),
                    4 => push(&mut a, &["EX", "10", "PERSIST"]),
                    _ => {}
                }
            }
            12 => {
                let c = self.pick(&["MSET", "MSETNX", "MGET"]);
                a.push(c.into());
                for _ in 0..1 + self.below(3) {
                    a.push(self.key());
                    if c != "MGET" {
                        a.push(self.value());
                    }
                }
                if c != "MGET" && self.chance(10) {
                    a.pop();
                }
            }
            // Lists.
            13..=16 => {
                let c = self.pick(&["LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]);
                push(&mut a, &[c, &k]);
                let n = if self.chance(5) { 120 + self.below(20) } else { 1 + self.below(4) };
                for _ in 0..n {
                    a.push(self.list_item());
                }
            }
            17..=18 => {
                let c = self.pick(&["LPOP", "RPOP"]);
                push(&mut a, &[c, &k]);
                if self.chance(40) {
                    a.push(self.count_arg());
                }
            }
            19 => {
                push(&mut a, &["LRANGE", &k]);
                a.push(self.index());
                a.push(self.index());
            }
            20 => {
                let c = self.pick(&["LINDEX", "LSET", "LLEN"]);
                push(&mut a, &[c, &k]);
                if c != "LLEN" {
                    a.push(self.index());
                }
                if c == "LSET" {
                    a.push(self.list_item());
                }
            }
            21 => {
                push(&mut a, &["LREM", &k]);
                a.push(self.pick(&["0", "1", "-1", "2", "-2", "x"]).into());
                a.push(self.list_item());
            }
            22 => {
                push(&mut a, &["LTRIM", &k]);
                a.push(self.index());
                a.push(self.index());
            }
            23 => {
                push(&mut a, &["LINSERT", &k]);
                a.push(self.pick(&["BEFORE", "AFTER", "before", "MIDDLE"]).into());
                a.push(self.list_item());
                a.push(self.list_item());
            }
            24 => {
                push(&mut a, &["LPOS", &k]);
                a.push(self.list_item());
                for _ in 0..self.below(3) {
                    match self.below(3) {
                        0 => push(&mut a, &["RANK", self.pick(&["1", "2", "-1", "-2", "0", "x"])]),
                        1 => push(&mut a, &["COUNT", self.pick(&["0", "1", "2", "-1"])]),
                        _ => push(&mut a, &["MAXLEN", self.pick(&["0", "1", "3", "-1"])]),
                    }
                }
            }
            25 => {
                if self.chance(50) {
                    a.push("LMOVE".into());
                    a.push(k);
                    a.push(self.key());
                    a.push(self.pick(&["LEFT", "RIGHT", "left", "UP"]).into());
                    a.push(self.pick(&["LEFT", "RIGHT"]).into());
                } else {
                    push(&mut a, &["RPOPLPUSH", &k]);
                    a.push(self.key());
                }
            }
            // Hashes.
            26..=29 => {
                let c = self.pick(&["HSET", "HSET", "HMSET", "HSETNX"]);
                push(&mut a, &[c, &k]);
                let n = if c == "HSETNX" {
                    1
                } else if self.chance(5) {
                    // Around hash-max-listpack-entries (512).
                    505 + self.below(10)
                } else {
                    1 + self.below(3)
                };
                let big = self.chance(8);
                for i in 0..n {
                    if n > 100 {
                        a.push(format!("g{i}"));
                    } else {
                        a.push(self.field());
                    }
                    a.push(if big { "h".repeat(65) } else { self.value() });
                }
                if self.chance(5) {
                    a.pop();
                }
            }
            30 => {
                let c = self.pick(&["HGET", "HEXISTS", "HSTRLEN", "HDEL"]);
                push(&mut a, &[c, &k]);
                a.push(self.field());
            }
            31 => {
                let c = self.pick(&["HMGET", "HDEL"]);
                push(&mut a, &[c, &k]);
                for _ in 0..1 + self.below(3) {
                    a.push(self.field());
                }
            }
            32 => {
                push(&mut a, &["HINCRBY", &k]);
                a.push(self.field());
                a.push(self.int_arg());
            }
            33 => {
                push(&mut a, &["HINCRBYFLOAT", &k]);
                a.push(self.field());
                a.push(self.float_arg());
            }
            34 => {
                let c = self.pick(&["HGETALL", "HKEYS", "HVALS", "HLEN"]);
                push(&mut a, &[c, &k]);
            }
            // Sets.
            35..=38 => {
                let c = self.pick(&["SADD", "SADD", "SADD", "SREM"]);
                push(&mut a, &[c, &k]);
                let n = match self.below(40) {
                    0 => 510 + self.below(10),
                    1 => 125 + self.below(10),
                    _ => 1 + self.below(4),
                };
                if n > 100 {
                    let strings = self.chance(30);
                    let base = self.below(50);
                    a.extend(self.fill(n as usize, |_, i| {
                        vec![if strings { format!("s{i}") } else { (base + i as u64).to_string() }]
                    }));
                } else {
                    for _ in 0..n {
                        a.push(self.set_member());
                    }
                }
            }
            39 => {
                let c = self.pick(&["SISMEMBER", "SMISMEMBER", "SCARD", "SMEMBERS"]);
                push(&mut a, &[c, &k]);
                if c == "SISMEMBER" || c == "SMISMEMBER" {
                    a.push(self.set_member());
                }
                if c == "SMISMEMBER" {
                    a.push(self.set_member());
                }
            }
            40..=41 => {
                let c = self.pick(&["SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
                a.push(c.into());
                a.extend(self.keys(3));
            }
            42 => {
                a.push("SINTERCARD".into());
                let ks = self.keys(3);
                a.push(self.pick(&["1", "2", "3", "0", "x"]).into());
                a.extend(ks);
                if self.chance(40) {
                    push(&mut a, &["LIMIT", self.pick(&["0", "1", "3", "-1"])]);
                }
            }
            43 => {
                push(&mut a, &["SMOVE", &k]);
                a.push(self.key());
                a.push(self.set_member());
            }
            // Sorted sets.
            44..=48 => {
                push(&mut a, &["ZADD", &k]);
                for _ in 0..self.below(3) {
                    a.push(self.pick(&["NX", "XX", "GT", "LT", "CH", "INCR"]).into());
                }
                let n = if self.chance(4) { 125 + self.below(10) } else { 1 + self.below(3) };
                if n > 100 {
                    a.extend(self.fill(n as usize, |_, i| vec![(i as u64 % 7).to_string(), format!("n{i}")]));
                } else {
                    for _ in 0..n {
                        a.push(self.score());
                        a.push(self.zmember());
                    }
                }
                if self.chance(4) {
                    a.pop();
                }
            }
            49 => {
                let c = self.pick(&["ZSCORE", "ZRANK", "ZREVRANK", "ZREM", "ZMSCORE"]);
                push(&mut a, &[c, &k]);
                a.push(self.zmember());
                if c == "ZMSCORE" || c == "ZREM" {
                    a.push(self.zmember());
                }
            }
            50 => {
                push(&mut a, &["ZINCRBY", &k]);
                a.push(self.score());
                a.push(self.zmember());
            }
            51 => {
                let c = self.pick(&["ZCARD", "ZCOUNT", "ZLEXCOUNT"]);
                push(&mut a, &[c, &k]);
                match c {
                    "ZCOUNT" => {
                        a.push(self.score_bound());
                        a.push(self.score_bound());
                    }
                    "ZLEXCOUNT" => {
                        a.push(self.lex_bound());
                        a.push(self.lex_bound());
                    }
                    _ => {}
                }
            }
            52..=54 => self.zrange(&mut a, k, "ZRANGE"),
            55 => {
                let c = self.pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]);
                push(&mut a, &[c, &k]);
                a.push(self.score_bound());
                a.push(self.score_bound());
                if self.chance(50) {
                    a.push("WITHSCORES".into());
                }
                self.limit(&mut a);
            }
            56 => {
                let c = self.pick(&["ZRANGEBYLEX", "ZREVRANGEBYLEX"]);
                push(&mut a, &[c, &k]);
                a.push(self.lex_bound());
                a.push(self.lex_bound());
                self.limit(&mut a);
            }
            57 => {
                push(&mut a, &["ZREVRANGE", &k]);
                a.push(self.index());
                a.push(self.index());
                if self.chance(50) {
                    a.push("WITHSCORES".into());
                }
            }
            58 => {
                let c = self.pick(&["ZPOPMIN", "ZPOPMAX"]);
                push(&mut a, &[c, &k]);
                if self.chance(50) {
                    a.push(self.count_arg());
                }
            }
            59 => {
                let dst = self.key();
                self.zrange(&mut a, k, "ZRANGESTORE");
                a.insert(1, dst);
            }
            60..=61 => {
                let c = self.pick(&["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZUNION", "ZINTER", "ZDIFF"]);
                a.push(c.into());
                if c.ends_with("STORE") {
                    a.push(k);
                }
                let ks = self.keys(3);
                a.push(if self.chance(5) { "0".into() } else { ks.len().to_string() });
                a.extend(ks.iter().cloned());
                if self.chance(40) && c != "ZDIFF" && c != "ZDIFFSTORE" {
                    a.push("WEIGHTS".into());
                    for _ in 0..ks.len() {
                        a.push(self.pick(&["1", "2", "-1", "0.5", "0", "x"]).into());
                    }
                }
                if self.chance(40) && c != "ZDIFF" && c != "ZDIFFSTORE" {
                    push(&mut a, &["AGGREGATE", self.pick(&["SUM", "MIN", "MAX", "max", "AVG"])]);
                }
                if !c.ends_with("STORE") && self.chance(50) {
                    a.push("WITHSCORES".into());
                }
            }
            62 => {
                let c = self.pick(&["ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX"]);
                push(&mut a, &[c, &k]);
                for _ in 0..2 {
                    match c {
                        "ZREMRANGEBYRANK" => a.push(self.index()),
                        "ZREMRANGEBYSCORE" => a.push(self.score_bound()),
                        _ => a.push(self.lex_bound()),
                    }
                }
            }
            // Keyspace.
            63..=64 => {
                let c = self.pick(&["DEL", "EXISTS", "UNLINK", "EXISTS"]);
                a.push(c.into());
                a.extend(self.keys(3));
            }
            65..=67 => {
                let c = self.pick(&[
                    "TYPE",
                    "OBJECT",
                    "OBJECT",
                    "TTL",
                    "PTTL",
                    "PERSIST",
                    "EXPIRETIME",
                    "PEXPIRETIME",
                ]);
                if c == "OBJECT" {
                    a.push(c.into());
                    // Not REFCOUNT: a COPY of a shared integer has refcount 1 in Redis,
                    // which spindle does not model. Not IDLETIME: it follows the clock.
                    a.push(self.pick(&["ENCODING", "ENCODING", "ENCODING", "FREQ", "BOGUS"]).into());
                } else {
                    a.push(c.into());
                }
                a.push(k);
            }
            68 => {
                let c = self.pick(&["RENAME", "RENAMENX"]);
                push(&mut a, &[c, &k]);
                a.push(self.key());
            }
            69 => {
                push(&mut a, &["COPY", &k]);
                a.push(self.key());
                if self.chance(30) {
                    push(&mut a, &["DB", self.pick(&["0", "1", "2", "99", "x"])]);
                }
                if self.chance(40) {
                    a.push("REPLACE".into());
                }
            }
            70..=72 => {
                let c = self.pick(&["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]);
                push(&mut a, &[c, &k]);
                match c {
                    "EXPIREAT" => a.push(format!("{}", 4_000_000_000u64 + self.below(5) * 1000)),
                    "PEXPIREAT" => a.push(format!("{}", 4_000_000_000_000u64 + self.below(5) * 1_000_000)),
                    _ => {
                        let t = self.ttl();
                        a.push(if c == "PEXPIRE" && t.ends_with("00000") { format!("{t}000") } else { t });
                    }
                }
                // GT and LT only with absolute times: two relative TTLs of
                // the same length compare by when each command ran.
                let absolute = c.ends_with("AT");
                if self.chance(40) {
                    let flags = if absolute {
                        &["NX", "XX", "GT", "LT", "nx", "BOGUS"][..]
                    } else {
                        &["NX", "XX", "xx", "BOGUS"]
                    };
                    a.push(self.pick(flags).into());
                }
                if self.chance(5) {
                    a.push(self.pick(&["NX", if absolute { "GT" } else { "XX" }]).into());
                }
            }
            73 => {
                let c = self.pick(&["DBSIZE", "KEYS", "SELECT", "SELECT", "SWAPDB"]);
                a.push(c.into());
                match c {
                    "KEYS" => a.push(self.pick(&["*", "k[0-3]", "k?", "*1"]).into()),
                    "SELECT" => a.push(self.pick(&["0", "0", "1", "2", "16", "x", "-1"]).into()),
                    "SWAPDB" => {
                        a.push(self.pick(&["0", "1", "2", "x"]).into());
                        a.push(self.pick(&["0", "1", "2", "16"]).into());
                    }
                    _ => {}
                }
            }
            74 => {
                push(&mut a, &["MOVE", &k]);
                a.push(self.pick(&["0", "1", "2", "16", "x"]).into());
            }
            // Errors: wrong arity and unknown commands.
            75 => {
                let c = self.pick(&[
                    "GET",
                    "SET",
                    "LPUSH",
                    "HSET",
                    "ZADD",
                    "SADD",
                    "INCRBY",
                    "LRANGE",
                    "ZRANGE",
                    "EXPIRE",
                    "FOOBAR",
                    "getx",
                    "MULTI",
                    "EXEC",
                    "DISCARD",
                    "SINTERCARD",
                    "ZUNIONSTORE",
                    "LPOS",
                ]);
                a.push(c.into());
                for _ in 0..self.below(3) {
                    a.push(self.key());
                }
            }
            // The random commands: only their replies' shape is compared.
            76 => {
                let c = self.pick(&["SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "RANDOMKEY"]);
                a.push(c.into());
                if c != "RANDOMKEY" {
                    a.push(k);
                    if self.chance(60) {
                        a.push(self.pick(&["0", "1", "3", "-3", "1000", "-5", "x"]).into());
                        if c != "SRANDMEMBER" && self.chance(50) {
                            a.push(if c == "HRANDFIELD" { "WITHVALUES" } else { "WITHSCORES" }.into());
                        }
                    }
                }
            }
            77 => {
                let c = self.pick(&["SETEX", "PSETEX", "SUBSTR", "TOUCH", "ECHO", "ZINTERCARD"]);
                a.push(c.into());
                match c {
                    "SETEX" | "PSETEX" => {
                        a.push(k);
                        a.push(self.ttl());
                        a.push(self.value());
                    }
                    "SUBSTR" => {
                        a.push(k);
                        a.push(self.index());
                        a.push(self.index());
                    }
                    "ECHO" => a.push(self.value()),
                    "TOUCH" => a.extend(self.keys(3)),
                    _ => {
                        let ks = self.keys(3);
                        a.push(self.pick(&["1", "2", "3", "0"]).into());
                        a.extend(ks);
                        if self.chance(40) {
                            push(&mut a, &["LIMIT", self.pick(&["0", "1", "3", "-1"])]);
                        }
                    }
                }
            }
            78 => {
                let c = self.pick(&["LMPOP", "ZMPOP"]);
                self.home = if c == "LMPOP" { &[2, 3] } else { &[6, 7] };
                a.push(c.into());
                let ks = self.keys(3);
                a.push(if self.chance(5) { "0".into() } else { ks.len().to_string() });
                a.extend(ks);
                a.push(
                    if c == "LMPOP" {
                        self.pick(&["LEFT", "RIGHT", "UP"])
                    } else {
                        self.pick(&["MIN", "MAX", "mid"])
                    }
                    .into(),
                );
                if self.chance(50) {
                    push(&mut a, &["COUNT", self.pick(&["1", "2", "10", "0", "-1"])]);
                }
            }
            // Bitmaps (gen_bitmap.rs).
            79..=86 => return self.bitmap_command(),
            // SORT, SORT_RO, LCS and the keys SORT's patterns read.
            87..=90 => return misc::command(self),
            // HyperLogLog.
            91..=95 => return hll::command(self),
            // Back to the more common commands.
            96 => return self.command(),
            _ => {
                let c = self.pick(&["GET", "LRANGE", "ZRANGE", "SMEMBERS", "HGETALL", "TYPE", "OBJECT"]);
                self.home = match c {
                    "GET" => &[0, 1],
                    "LRANGE" => &[2, 3],
                    "HGETALL" => &[4],
                    "SMEMBERS" => &[5, 6, 7],
                    "ZRANGE" => &[6, 7],
                    _ => &[],
                };
                let k = self.key();
                a.push(c.into());
                match c {
                    "LRANGE" | "ZRANGE" => push(&mut a, &[&k, "0", "-1"]),
                    "OBJECT" => push(&mut a, &["ENCODING", &k]),
                    _ => a.push(k),
                }
            }
        }
        a.into_iter().map(String::into_bytes).collect()
    }

    fn zrange(&mut self, a: &mut Vec<String>, k: String, name: &str) {
        a.push(name.into());
        a.push(k);
        let mode = self.below(4);
        match mode {
            0 => {
                a.push(self.score_bound());
                a.push(self.score_bound());
                a.push("BYSCORE".into());
            }
            1 => {
                a.push(self.lex_bound());
                a.push(self.lex_bound());
                a.push("BYLEX".into());
            }
            _ => {
                a.push(self.index());
                a.push(self.index());
            }
        }
        if self.chance(40) {
            a.push("REV".into());
        }
        if mode < 2 || self.chance(10) {
            self.limit(a);
        }
        if name == "ZRANGE" && self.chance(40) {
            a.push("WITHSCORES".into());
        }
    }
}

/// A MULTI block's commands, or `None` when the next step is one command.
pub fn maybe_multi(g: &mut Gen) -> Option<(Vec<Cmd>, bool)> {
    if !g.chance(3) {
        return None;
    }
    let n = 1 + g.below(5);
    let cmds = (0..n).map(|_| g.command()).collect();
    let discard = g.chance(20);
    Some((cmds, discard))
}
