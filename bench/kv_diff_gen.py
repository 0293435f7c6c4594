"""Random commands for kv_diff_fuzz.py: a tiny key space (so types collide
and encodings cross their thresholds) and arguments full of edge cases
(bad numbers, infinities, huge offsets, repeated and misordered options)."""

KEYS = [b"a", b"b", b"c", b"d", b"e"]
FIELDS = [b"f1", b"f2", b"f3", b"x", b"", b"1"]
MEMBERS = [b"a", b"b", b"c", b"1", b"2", b"3", b"-1", b"10", b"", b"x y", b"\x00\xff"]
INTS = [
    b"0", b"1", b"-1", b"2", b"3", b"10", b"-10", b"100", b"9223372036854775807",
    b"-9223372036854775808", b"9223372036854775808", b"-9223372036854775809", b"",
    b"x", b" 1", b"1 ", b"+1", b"01", b"-0", b"1.0", b"1e3", b"0x10",
]
FLOATS = [
    b"0", b"1.5", b"-2.5", b"0.1", b"0.25", b"3", b"-7", b"inf", b"-inf", b"+inf", b"nan",
    b"1e308", b"-1e308", b"1e309", b"", b"1e", b"0x10", b"-0", b"-0.0", b"3.0e2", b".5",
    b"5.", b" 1", b"1 ", b"1e-320", b"123456789012345678901234567890", b"Infinity", b"-infinity",
    b"1.7976931348623157e308", b"4.9e-324", b"10.5", b"0.5e1",
]
STRINGS = [
    b"", b"a", b"hello", b"\x00\xff\x01", b"123", b"-5", b"3.5", b"9223372036854775807",
    b"x" * 50, b"y" * 70, b"0", b"10", b" 7", b"1e2", b"e" * 44, b"e" * 45, b"12345678901234567890",
]
DBS = [b"0", b"1", b"2", b"15", b"16", b"-1", b"x", b"0 "]


def pick(r, xs):
    return xs[r.randrange(len(xs))]


def some(r, xs, lo=1, hi=4):
    return [pick(r, xs) for _ in range(r.randint(lo, hi))]


def small_int(r):
    return str(r.randint(-6, 6)).encode() if r.random() < 0.8 else pick(r, INTS)


def float_arg(r):
    return str(r.randint(-8, 8) / 2).encode() if r.random() < 0.4 else pick(r, FLOATS)


def ttl(r):
    # At least 10 s even as ms: a key must not expire mid-sequence on one
    # server and not the other.
    if r.random() < 0.7:
        return str(r.randint(10000, 100000)).encode()
    return pick(r, [b"0", b"-1", b"x", b"9223372036854775807", b"-9223372036854775808",
                    b"9223372036854775", b"9223372036854776", b"1.5", b""])


def at_time(r):
    now = 1_800_000_000
    return pick(r, [str(now + r.randint(1, 100000)).encode(), b"1", b"0", b"-5",
                    b"9223372036854775807", str(now * 1000).encode()])


def score(r):
    if r.random() < 0.6:
        return str(r.randint(-8, 8) / pick(r, [1, 2, 4, 10, 3])).encode()
    return pick(r, FLOATS)


def score_bound(r):
    s = score(r)
    return pick(r, [s, b"(" + s, b"-inf", b"+inf", b"(-inf", b"(+inf", b"inf", b"[1", b"(", b"((1"])


def lex_bound(r):
    return pick(r, [b"-", b"+", b"[a", b"(a", b"[b", b"(c", b"[", b"(", b"a", b"[1", b"(x y", b"+a", b"-a", b""])


def opt(r, p, *xs):
    return list(pick(r, xs)) if r.random() < p else []


def shuffled(r, xs):
    xs = list(xs)
    r.shuffle(xs)
    return xs


# Each entry builds one command's arguments (after the name).
def g_set(r):
    k = pick(r, KEYS)
    a = [b"SET", k, pick(r, STRINGS)]
    opts = []
    for _ in range(r.randint(0, 3)):
        o = pick(r, [b"NX", b"XX", b"GET", b"KEEPTTL", b"EX", b"PX", b"EXAT", b"PXAT", b"ex", b"BOGUS"])
        opts.append(o)
        if o.upper() in (b"EX", b"PX"):
            if r.random() < 0.9:
                opts.append(ttl(r))
        elif o.upper() in (b"EXAT", b"PXAT"):
            if r.random() < 0.9:
                opts.append(at_time(r))
    return a + opts


def g_getex(r):
    a = [b"GETEX", pick(r, KEYS)]
    for _ in range(r.randint(0, 2)):
        o = pick(r, [b"EX", b"PX", b"EXAT", b"PXAT", b"PERSIST", b"KEEPTTL", b"px"])
        a.append(o)
        if o.upper() in (b"EX", b"PX"):
            if r.random() < 0.9:
                a.append(ttl(r))
        elif o.upper() in (b"EXAT", b"PXAT"):
            a.append(at_time(r))
    return a


def g_expire(r):
    name = pick(r, [b"EXPIRE", b"PEXPIRE", b"EXPIREAT", b"PEXPIREAT"])
    t = ttl(r) if not name.endswith(b"AT") else at_time(r)
    if name in (b"EXPIRE", b"PEXPIRE") and r.random() < 0.1:
        t = pick(r, [b"9223372036854775807", b"-9223372036854775808", b"9223372036854775", b"-9223372036854775"])
    a = [name, pick(r, KEYS), t]
    a += some(r, [b"NX", b"XX", b"GT", b"LT", b"gt", b"FOO"], 0, 2)
    return a


def g_strings(r):
    k = pick(r, KEYS)
    c = r.randrange(23)
    if c == 0:
        return [b"INCRBYFLOAT", k, float_arg(r)]
    if c == 1:
        return [b"INCRBY", k, pick(r, INTS)]
    if c == 2:
        return [b"DECRBY", k, pick(r, INTS)]
    if c == 3:
        return [pick(r, [b"INCR", b"DECR", b"GET", b"STRLEN", b"GETDEL"]), k]
    if c == 4:
        off = pick(r, [b"0", b"1", b"5", b"-1", b"536870911", b"536870912", b"x", b"100", b"9223372036854775807"])
        val = pick(r, STRINGS) if off != b"536870911" else b""
        return [b"SETRANGE", k, off, val]
    if c == 5:
        return [pick(r, [b"GETRANGE", b"SUBSTR"]), k, pick(r, INTS + [b"-100", b"-2"]), pick(r, INTS + [b"-100", b"-2"])]
    if c == 6:
        return [b"APPEND", k, pick(r, STRINGS)]
    if c == 7:
        return [b"MSET"] + [x for _ in range(r.randint(1, 3)) for x in (pick(r, KEYS), pick(r, STRINGS))] + opt(r, 0.1, [b"a"])
    if c == 8:
        return [b"MSETNX"] + [x for _ in range(r.randint(1, 3)) for x in (pick(r, KEYS), pick(r, STRINGS))]
    if c == 9:
        return [b"MGET"] + some(r, KEYS)
    if c == 10:
        return [pick(r, [b"SETEX", b"PSETEX"]), k, ttl(r), pick(r, STRINGS)]
    if c == 11:
        return [b"SETNX", k, pick(r, STRINGS)]
    if c == 12:
        return [b"GETSET", k, pick(r, STRINGS)]
    if c == 13:
        return [b"LCS", k, pick(r, KEYS)] + some(r, [b"LEN", b"IDX", b"WITHMATCHLEN", b"MINMATCHLEN", b"1", b"0", b"-1"], 0, 3)
    if c == 14:
        return [b"SETBIT", k, pick(r, [b"0", b"7", b"100", b"-1", b"4294967296", b"x"]), pick(r, [b"0", b"1", b"2"])]
    if c == 15:
        return [b"GETBIT", k, pick(r, [b"0", b"7", b"100", b"-1", b"x", b"4294967296"])]
    if c == 16:
        return [b"BITCOUNT", k] + some(r, [b"0", b"-1", b"1", b"BIT", b"BYTE", b"x", b"-100"], 0, 3)
    if c == 17:
        return [b"BITPOS", k, pick(r, [b"0", b"1", b"2"])] + some(r, [b"0", b"-1", b"2", b"BIT", b"BYTE", b"x"], 0, 3)
    if c == 18:
        return [b"INCRBYFLOAT", k, pick(r, [b"1e308", b"-1e308", b"inf", b"nan", b"0.1", b"1.7976931348623157e308", b"5e-324", b"-0"])]
    if c == 19:
        return [b"SET", k, pick(r, [b"1.5", b"1e308", b"0x10", b"inf", b"1e-5", b" 1", b"10.0", b"3.000", b"-0", b"1e400", b"17.2"])]
    if c == 20:
        return [b"GETEX", k]
    if c == 21:
        return bitfield(r, k)
    return [b"SET", k, small_int(r)]


def bitfield(r, k):
    """BITFIELD with types, offsets and OVERFLOW modes at their edges."""
    a = [pick(r, [b"BITFIELD", b"BITFIELD", b"BITFIELD_RO"]), k]
    for _ in range(r.randint(1, 4)):
        op = pick(r, [b"GET", b"SET", b"INCRBY", b"OVERFLOW", b"BOGUS"])
        a.append(op)
        if op == b"OVERFLOW":
            a.append(pick(r, [b"WRAP", b"SAT", b"FAIL", b"x"]))
            continue
        a.append(pick(r, [b"i8", b"u8", b"i1", b"u1", b"i64", b"u63", b"u64", b"i65", b"x", b"I8", b"u0"]))
        if op == b"GET":
            a.append(pick(r, [b"0", b"7", b"#1", b"-1", b"4294967295", b"4294967296", b"x", b"100"]))
        else:
            # No offset near 2^32 here: it would grow the string to 512 MB.
            a.append(pick(r, [b"0", b"7", b"#1", b"#0", b"-1", b"4294967296", b"x", b"100"]))
            a.append(pick(r, INTS))
    return a


def g_keys(r):
    k = pick(r, KEYS)
    c = r.randrange(20)
    if c == 0:
        return [b"DEL"] + some(r, KEYS)
    if c == 1:
        return [b"EXISTS"] + some(r, KEYS)
    if c == 2:
        return [b"TYPE", k]
    if c == 3:
        return [pick(r, [b"RENAME", b"RENAMENX"]), k, pick(r, KEYS)]
    if c == 4:
        return [b"COPY", k, pick(r, KEYS)] + some(r, [b"DB", pick(r, DBS), b"REPLACE", b"replace"], 0, 3)
    if c == 5:
        return [b"MOVE", k, pick(r, DBS)]
    if c == 6:
        return [b"SELECT", pick(r, DBS[:4])]
    if c == 7:
        return [b"KEYS", pick(r, [b"*", b"?", b"[a-c]", b"[^a]", b"[!a]", b"\\a", b"[", b"[a-", b"a*", b"*[", b"[]]", b"[c-a]", b"[\\]]"])]
    if c == 8:
        return [pick(r, [b"TTL", b"PTTL", b"PERSIST", b"EXPIRETIME", b"PEXPIRETIME"]), k]
    if c == 9:
        return [b"OBJECT", b"ENCODING", k]
    if c == 10:
        return [b"OBJECT", pick(r, [b"REFCOUNT", b"FREQ", b"HELP", b"BOGUS", b"encoding"])] + ([k] if r.random() < 0.8 else [])
    if c == 11:
        return [b"DBSIZE"]
    if c == 12:
        return [b"SWAPDB", pick(r, DBS[:5]), pick(r, DBS[:5])]
    if c == 13:
        return [b"TOUCH"] + some(r, KEYS)
    if c == 14:
        return [b"UNLINK"] + some(r, KEYS)
    if c == 15:
        return [b"DUMP", k]
    if c == 16:
        return [b"SORT", k] + sort_opts(r)
    if c == 17:
        return [b"SORT_RO", k] + sort_opts(r)
    if c == 18:
        return [pick(r, [b"ECHO", b"PING"])] + some(r, STRINGS, 0, 2)
    return [b"EXISTS", k, k]


def sort_opts(r):
    a = []
    for _ in range(r.randint(0, 4)):
        o = pick(r, [b"ALPHA", b"DESC", b"ASC", b"LIMIT", b"BY", b"GET", b"STORE", b"BOGUS"])
        a.append(o)
        if o == b"LIMIT":
            a += [pick(r, [b"0", b"1", b"-1", b"x"]), pick(r, [b"1", b"2", b"-1", b"0", b"x"])]
        elif o == b"BY":
            a.append(pick(r, [b"nosort", b"w_*", b"h*->f1", b"*", b"x"]))
        elif o == b"GET":
            a.append(pick(r, [b"#", b"w_*", b"h*->f1", b"*->", b"x"]))
        elif o == b"STORE":
            a.append(pick(r, KEYS))
    return a


def g_list(r):
    k = pick(r, KEYS)
    c = r.randrange(20)
    item = lambda: pick(r, MEMBERS + [b"z" * 70])
    if c in (0, 1):
        return [pick(r, [b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]), k] + [item() for _ in range(r.randint(1, 5))]
    if c == 2:
        return [pick(r, [b"LPOP", b"RPOP"]), k] + opt(r, 0.5, [pick(r, [b"0", b"1", b"2", b"-1", b"x", b"100"])])
    if c == 3:
        return [b"LRANGE", k, small_int(r), small_int(r)]
    if c == 4:
        return [b"LINDEX", k, small_int(r)]
    if c == 5:
        return [b"LSET", k, small_int(r), item()]
    if c == 6:
        return [b"LINSERT", k, pick(r, [b"BEFORE", b"AFTER", b"after", b"MIDDLE"]), item(), item()]
    if c == 7:
        return [b"LREM", k, small_int(r), item()]
    if c == 8:
        return [b"LTRIM", k, small_int(r), small_int(r)]
    if c == 9:
        a = [b"LPOS", k, item()]
        for _ in range(r.randint(0, 3)):
            o = pick(r, [b"RANK", b"COUNT", b"MAXLEN", b"BOGUS"])
            a.append(o)
            if o != b"BOGUS" and r.random() < 0.95:
                a.append(pick(r, [b"0", b"1", b"2", b"-1", b"-2", b"x", b"-9223372036854775808", b"9223372036854775807"]))
        return a
    if c == 10:
        return [b"LMOVE", k, pick(r, KEYS), pick(r, [b"LEFT", b"RIGHT", b"UP"]), pick(r, [b"LEFT", b"RIGHT", b"left"])]
    if c == 11:
        return [b"RPOPLPUSH", k, pick(r, KEYS)]
    if c == 12:
        ks = some(r, KEYS, 1, 3)
        a = [b"LMPOP", pick(r, [str(len(ks)).encode(), b"0", b"-1", b"x", b"5"])] + ks + [pick(r, [b"LEFT", b"RIGHT", b"MIDDLE"])]
        return a + opt(r, 0.5, [b"COUNT", pick(r, [b"1", b"2", b"0", b"-1", b"x"])], [b"COUNT"], [b"COUNT", b"1", b"COUNT", b"2"])
    if c == 13:
        return [b"LLEN", k]
    if c == 14:
        # Never blocks: the timeout is tiny and what happens is compared.
        return [pick(r, [b"BLPOP", b"BRPOP"])] + some(r, KEYS, 1, 2) + [pick(r, [b"0.01", b"-1", b"x"])]
    if c == 15:
        return [b"RPUSH", k] + [str(i).encode() for i in range(r.randint(100, 140))]
    return [b"RPUSH", k] + [item() for _ in range(r.randint(1, 3))]


def g_hash(r):
    k = pick(r, KEYS)
    f = lambda: pick(r, FIELDS)
    c = r.randrange(18)
    if c in (0, 1):
        return [pick(r, [b"HSET", b"HMSET"]), k] + [x for _ in range(r.randint(1, 3)) for x in (f(), pick(r, STRINGS))] + opt(r, 0.05, [b"f"])
    if c == 2:
        return [b"HSETNX", k, f(), pick(r, STRINGS)]
    if c == 3:
        return [pick(r, [b"HGET", b"HEXISTS", b"HSTRLEN"]), k, f()]
    if c == 4:
        return [b"HDEL", k] + some(r, FIELDS)
    if c == 5:
        return [b"HINCRBY", k, f(), pick(r, INTS)]
    if c == 6:
        return [b"HINCRBYFLOAT", k, f(), float_arg(r)]
    if c == 7:
        return [pick(r, [b"HGETALL", b"HKEYS", b"HVALS", b"HLEN"]), k]
    if c == 8:
        return [b"HMGET", k] + some(r, FIELDS)
    if c == 9:
        return [b"HRANDFIELD", k] + opt(r, 0.7, [pick(r, [b"0", b"1", b"-3", b"5", b"x", b"-9223372036854775808"])], [b"2", b"WITHVALUES"], [b"-2", b"withvalues"], [b"1", b"BOGUS"])
    if c == 10:
        return [b"HSET", k] + [x for i in range(r.randint(130, 140)) for x in (b"f%d" % i, b"v")]
    if c == 11:
        return [b"HSET", k, f(), b"v" * r.choice([10, 64, 65, 100])]
    return [b"HSET", k, f(), small_int(r)]


def g_set_type(r):
    k = pick(r, KEYS)
    m = lambda: pick(r, MEMBERS + INTS[:12])
    c = r.randrange(18)
    if c in (0, 1, 2):
        return [b"SADD", k] + [m() for _ in range(r.randint(1, 5))]
    if c == 3:
        return [b"SREM", k] + [m() for _ in range(r.randint(1, 3))]
    if c == 4:
        return [pick(r, [b"SMEMBERS", b"SCARD"]), k]
    if c == 5:
        return [b"SISMEMBER", k, m()]
    if c == 6:
        return [b"SMISMEMBER", k] + [m() for _ in range(r.randint(1, 3))]
    if c == 7:
        return [pick(r, [b"SINTER", b"SUNION", b"SDIFF"])] + some(r, KEYS)
    if c == 8:
        return [pick(r, [b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"]), k] + some(r, KEYS)
    if c == 9:
        ks = some(r, KEYS, 1, 3)
        return [b"SINTERCARD", pick(r, [str(len(ks)).encode(), b"0", b"x", b"9", b"-1"])] + ks + opt(r, 0.5, [b"LIMIT", pick(r, [b"0", b"1", b"2", b"-1", b"x"])], [b"LIMIT"], [b"LIMIT", b"1", b"LIMIT", b"2"])
    if c == 10:
        return [b"SMOVE", k, pick(r, KEYS), m()]
    if c == 11:
        return [b"SRANDMEMBER", k] + opt(r, 0.7, [pick(r, [b"0", b"1", b"-3", b"5", b"x", b"-9223372036854775808"])])
    if c == 12:
        return [b"SADD", k] + [str(i).encode() for i in range(r.randint(120, 140))]
    if c == 13:
        return [b"SADD", k] + [b"m%d" % i for i in range(r.randint(120, 140))]
    if c == 14:
        # Only counts that pop nothing or everything: the keyspaces must
        # not drift apart.
        return [b"SPOP", k, pick(r, [b"0", b"-1", b"x", b"1000"])]
    return [b"SADD", k, small_int(r)]


def zadd(r, k):
    a = [b"ZADD", k]
    flags = [b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR", b"nx"]
    a += [pick(r, flags) for _ in range(r.randint(0, 2))] if r.random() < 0.5 else []
    n = r.randint(1, 3) if r.random() < 0.9 else 0
    for _ in range(n):
        a += [score(r), pick(r, MEMBERS)]
    if r.random() < 0.05:
        a.append(b"orphan")
    return a


def g_zset(r):
    k = pick(r, KEYS)
    m = lambda: pick(r, MEMBERS)
    c = r.randrange(28)
    if c in (0, 1, 2, 3):
        return zadd(r, k)
    if c == 4:
        return [b"ZINCRBY", k, score(r), m()]
    if c == 5:
        # Not WITHSCORE: a Redis 7.2 option that spindle takes on purpose.
        return [pick(r, [b"ZSCORE", b"ZRANK", b"ZREVRANK"]), k, m()]
    if c == 6:
        return [b"ZMSCORE", k] + some(r, MEMBERS)
    if c == 7:
        return [b"ZREM", k] + some(r, MEMBERS)
    if c in (8, 9, 10):
        return [b"ZRANGE", k] + zrange_args(r)
    if c == 11:
        return [b"ZRANGESTORE", pick(r, KEYS), k] + zrange_args(r)
    if c == 12:
        name = pick(r, [b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE"])
        return [name, k, score_bound(r), score_bound(r)] + some(r, [b"WITHSCORES", b"LIMIT", b"0", b"1", b"-1"], 0, 4)
    if c == 13:
        name = pick(r, [b"ZRANGEBYLEX", b"ZREVRANGEBYLEX", b"ZLEXCOUNT", b"ZREMRANGEBYLEX"])
        a = [name, k, lex_bound(r), lex_bound(r)]
        return a + (opt(r, 0.3, [b"LIMIT", small_int(r), small_int(r)]) if b"RANGEBY" in name else [])
    if c == 14:
        return [pick(r, [b"ZCOUNT", b"ZREMRANGEBYSCORE"]), k, score_bound(r), score_bound(r)]
    if c == 15:
        return [pick(r, [b"ZREMRANGEBYRANK", b"ZREVRANGE"]), k, small_int(r), small_int(r)] + opt(r, 0.3, [b"WITHSCORES"])
    if c == 16:
        return [pick(r, [b"ZPOPMIN", b"ZPOPMAX"]), k] + opt(r, 0.5, [pick(r, [b"0", b"1", b"2", b"-1", b"x", b"100"])])
    if c == 17:
        ks = some(r, KEYS, 1, 3)
        return [b"ZMPOP", pick(r, [str(len(ks)).encode(), b"0", b"x", b"9"])] + ks + [pick(r, [b"MIN", b"MAX", b"MID"])] + opt(r, 0.5, [b"COUNT", pick(r, [b"1", b"2", b"0", b"-1"])])
    if c in (18, 19):
        name = pick(r, [b"ZUNION", b"ZINTER", b"ZDIFF", b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE", b"ZINTERCARD"])
        ks = some(r, KEYS, 1, 3)
        a = [name] + ([pick(r, KEYS)] if name.endswith(b"STORE") else [])
        a += [pick(r, [str(len(ks)).encode()] * 4 + [b"0", b"x", b"9", b"-1"])] + ks
        for _ in range(r.randint(0, 3)):
            o = pick(r, [b"WEIGHTS", b"AGGREGATE", b"WITHSCORES", b"LIMIT"])
            a.append(o)
            if o == b"WEIGHTS":
                a += [float_arg(r) for _ in range(len(ks) if r.random() < 0.8 else 1)]
            elif o == b"AGGREGATE":
                a.append(pick(r, [b"SUM", b"MIN", b"MAX", b"avg"]))
            elif o == b"LIMIT":
                a.append(pick(r, [b"0", b"1", b"-1"]))
        return a
    if c == 20:
        return [b"ZCARD", k]
    if c == 21:
        return [b"ZRANDMEMBER", k] + opt(r, 0.6, [pick(r, [b"0", b"1", b"-3", b"5", b"x"])], [b"2", b"WITHSCORES"])
    if c == 22:
        return [b"ZADD", k] + [x for i in range(r.randint(125, 135)) for x in (b"%d" % i, b"m%d" % i)]
    if c == 23:
        return [b"ZADD", k, score(r), b"z" * r.choice([64, 65])]
    if c == 24:
        return [b"ZINCRBY", k, pick(r, [b"inf", b"-inf", b"nan", b"1e308"]), m()]
    return [b"ZADD", k, score(r), m()]


def zrange_args(r):
    kind = r.randrange(4)
    if kind == 0:
        a = [small_int(r), small_int(r)]
    elif kind == 1:
        a = [score_bound(r), score_bound(r), b"BYSCORE"]
    elif kind == 2:
        a = [lex_bound(r), lex_bound(r), b"BYLEX"]
    else:
        a = [small_int(r), small_int(r)] + some(r, [b"BYSCORE", b"BYLEX"], 1, 2)
    for _ in range(r.randint(0, 3)):
        o = pick(r, [b"REV", b"WITHSCORES", b"LIMIT", b"LIMIT", b"rev", b"BOGUS"])
        a.append(o)
        if o == b"LIMIT":
            a += [pick(r, [b"0", b"1", b"-1", b"x"])] + opt(r, 0.95, [pick(r, [b"1", b"2", b"-1", b"0", b"x"])])
    return a


def g_misc(r):
    c = r.randrange(12)
    if c == 0:
        return [pick(r, [b"GET", b"SET", b"HSET", b"LPUSH", b"ZADD", b"SADD", b"EXPIRE", b"LPOS", b"ZRANGE", b"OBJECT", b"COPY", b"SORT", b"GETEX", b"LMOVE", b"SINTERCARD", b"ZRANGESTORE"])]
    if c == 1:
        return [pick(r, [b"NOSUCHCOMMAND", b"get\x00", b"", b"CONFIG", b"DEBUG", b"CLIENT"])] + some(r, STRINGS, 0, 2)
    if c == 2:
        return [pick(r, [b"MULTI", b"EXEC", b"DISCARD"])]
    if c == 3:
        return [b"WATCH"] + some(r, KEYS)
    if c == 4:
        return [b"UNWATCH"]
    if c == 5:
        return [b"MULTI"]
    if c == 6:
        return [b"EXEC"]
    if c == 7:
        return [b"HELLO", pick(r, [b"2", b"3", b"4", b"x", b"1"])]
    if c == 8:
        return [b"OBJECT", b"ENCODING", pick(r, KEYS)]
    if c == 9:
        # Not a bare COMMAND (or COUNT): spindle lists fewer commands.
        return [b"COMMAND", pick(r, [b"INFO", b"GETKEYS", b"BOGUS"])] + some(r, [b"get", b"set", b"a", b"b", b"zadd"], 1, 3)
    return [b"EXISTS", pick(r, KEYS)]


# Commands of every type, for arity and argument errors: sent with 0 to 5
# random arguments.
ALL_COMMANDS = [
    b"APPEND", b"BITCOUNT", b"BITFIELD", b"BITFIELD_RO", b"BITOP", b"BITPOS", b"BLMOVE", b"BLMPOP",
    b"BLPOP", b"BRPOP", b"BRPOPLPUSH", b"BZMPOP", b"BZPOPMAX", b"BZPOPMIN", b"COPY", b"DBSIZE",
    b"DECR", b"DECRBY", b"DEL", b"DUMP", b"ECHO", b"EXISTS", b"EXPIRE", b"EXPIREAT", b"EXPIRETIME",
    b"GET", b"GETBIT", b"GETDEL", b"GETEX", b"GETRANGE", b"GETSET", b"HDEL", b"HEXISTS", b"HGET",
    b"HGETALL", b"HINCRBY", b"HINCRBYFLOAT", b"HKEYS", b"HLEN", b"HMGET", b"HMSET", b"HRANDFIELD",
    b"HSCAN", b"HSET", b"HSETNX", b"HSTRLEN", b"HVALS", b"INCR", b"INCRBY", b"INCRBYFLOAT", b"KEYS",
    b"LCS", b"LINDEX", b"LINSERT", b"LLEN", b"LMOVE", b"LMPOP", b"LPOP", b"LPOS", b"LPUSH", b"LPUSHX",
    b"LRANGE", b"LREM", b"LSET", b"LTRIM", b"MGET", b"MOVE", b"MSET", b"MSETNX", b"OBJECT", b"PERSIST",
    b"PEXPIRE", b"PEXPIREAT", b"PEXPIRETIME", b"PFADD", b"PFCOUNT", b"PFMERGE", b"PING", b"PSETEX",
    b"PTTL", b"RENAME", b"RENAMENX", b"RESTORE", b"RPOP", b"RPOPLPUSH", b"RPUSH", b"RPUSHX", b"SADD",
    b"SCAN", b"SCARD", b"SDIFF", b"SDIFFSTORE", b"SELECT", b"SET", b"SETBIT", b"SETEX", b"SETNX",
    b"SETRANGE", b"SINTER", b"SINTERCARD", b"SINTERSTORE", b"SISMEMBER", b"SMEMBERS", b"SMISMEMBER",
    b"SMOVE", b"SORT", b"SORT_RO", b"SPOP", b"SRANDMEMBER", b"SREM", b"SSCAN", b"STRLEN", b"SUBSTR",
    b"SUNION", b"SUNIONSTORE", b"SWAPDB", b"TOUCH", b"TTL", b"TYPE", b"UNLINK", b"WATCH", b"ZADD",
    b"ZCARD", b"ZCOUNT", b"ZDIFF", b"ZDIFFSTORE", b"ZINCRBY", b"ZINTER", b"ZINTERCARD", b"ZINTERSTORE",
    b"ZLEXCOUNT", b"ZMPOP", b"ZMSCORE", b"ZPOPMAX", b"ZPOPMIN", b"ZRANDMEMBER", b"ZRANGE",
    b"ZRANGEBYLEX", b"ZRANGEBYSCORE", b"ZRANGESTORE", b"ZRANK", b"ZREM", b"ZREMRANGEBYLEX",
    b"ZREMRANGEBYRANK", b"ZREMRANGEBYSCORE", b"ZREVRANGE", b"ZREVRANGEBYLEX", b"ZREVRANGEBYSCORE",
    b"ZREVRANK", b"ZSCAN", b"ZSCORE", b"ZUNION", b"ZUNIONSTORE", b"CLIENT", b"CONFIG", b"COMMAND",
    b"MEMORY", b"LATENCY", b"SLOWLOG", b"PUBSUB",
]  # Not streams, GEO, scripting or ACL: spindle does not have them.
ARG_POOL = KEYS + [b"0", b"1", b"-1", b"2", b"x", b"", b"1.5", b"inf", b"LIMIT", b"COUNT", b"WITHSCORES",
                   b"BYSCORE", b"REV", b"NX", b"XX", b"EX", b"GET", b"STORE", b"LEFT", b"RIGHT", b"HELP"]


def g_arity(r):
    """Any command with a few arguments: arity, syntax and type errors, and
    the odd success."""
    # Blocking commands only with a tiny timeout last, so nothing blocks
    # for long; no blocking command in MULTI blocks at all.
    name = pick(r, ALL_COMMANDS)
    args = [pick(r, ARG_POOL) for _ in range(r.randint(0, 5))]
    if name == b"COMMAND" and not args:
        args = [b"HELP"]
    if name.startswith(b"B") and name not in (b"BITCOUNT", b"BITFIELD", b"BITFIELD_RO", b"BITOP", b"BITPOS"):
        args.append(b"0.01")
    if name in (b"SPOP",):
        args = args[:1]  # no count: the keyspaces must not drift apart
    if name in (b"SCAN", b"HSCAN", b"SSCAN", b"ZSCAN", b"SRANDMEMBER", b"HRANDFIELD", b"ZRANDMEMBER",
                b"PSETEX", b"PEXPIRE", b"GETEX", b"SET"):
        # Random order, or a TTL of a few ms that could run out between
        # the two servers' replies.
        return [b"TYPE", pick(r, KEYS)]
    return [name] + args


GENS = [
    (g_set, 8), (g_getex, 3), (g_expire, 5), (g_strings, 12), (g_keys, 10),
    (g_list, 12), (g_hash, 10), (g_set_type, 10), (g_zset, 18), (g_misc, 6), (g_arity, 8),
]
_TABLE = [g for g, w in GENS for _ in range(w)]


def gen_command(r):
    """One random command (a list of bytes arguments)."""
    return _TABLE[r.randrange(len(_TABLE))](r)
