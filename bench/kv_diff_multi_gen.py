"""Random multi-client steps for kv_diff_multi.py.

A step is (client, command) with client an index into the sequence's
connections, or ("sleep", seconds). In a command, ID(n), ADDR(n) and
LADDR(n) stand for client n's id, address and local address on each
server; the driver substitutes them.
"""

from kv_diff_gen import KEYS, MEMBERS, gen_command, pick, some

BKEYS = KEYS[:3]  # blocking and waking meet on few keys
CHANNELS = [b"ch1", b"ch2", b"__keyspace@0__:a", b"__keyevent@0__:lpush", b"x"]
PATTERNS = [b"ch*", b"__key*__:*", b"__keyevent@0__:*", b"__keyspace@*__:a", b"*", b"ch[12]"]
NOTIFY_FLAGS = b"KEg$lshzxetmdnA"


def ID(n):
    return b"\x00ID%d" % n


def ADDR(n):
    return b"\x00ADDR%d" % n


def LADDR(n):
    return b"\x00LADDR%d" % n


def block_timeout(r):
    """0 (forever: woken by a push, CLIENT UNBLOCK or never), or short
    enough to expire before the driver's read of it gives up."""
    return pick(r, [b"0", b"0", b"0", b"0.01", b"0.02", b"100", b"-1", b"x", b"0.0"])


def g_block(r):
    t = block_timeout(r)
    ks = some(r, BKEYS, 1, 2)
    side = lambda: pick(r, [b"LEFT", b"RIGHT"])
    c = r.randrange(8)
    if c == 0:
        return [pick(r, [b"BLPOP", b"BRPOP"])] + ks + [t]
    if c == 1:
        return [b"BLMOVE", pick(r, BKEYS), pick(r, BKEYS), side(), side(), t]
    if c == 2:
        return [b"BRPOPLPUSH", pick(r, BKEYS), pick(r, BKEYS), t]
    if c == 3:
        return [pick(r, [b"BZPOPMIN", b"BZPOPMAX"])] + ks + [t]
    if c == 4:
        return [b"BLMPOP", t, str(len(ks)).encode()] + ks + [side()] + (
            [b"COUNT", pick(r, [b"1", b"2", b"3"])] if r.random() < 0.5 else [])
    if c == 5:
        return [b"BZMPOP", t, str(len(ks)).encode()] + ks + [pick(r, [b"MIN", b"MAX"])] + (
            [b"COUNT", pick(r, [b"1", b"2", b"3"])] if r.random() < 0.5 else [])
    if c == 6:
        return [pick(r, [b"BLPOP", b"BZPOPMIN"]), pick(r, BKEYS), b"0"]
    return [b"BLPOP", pick(r, BKEYS), b"0"]


def g_wake(r):
    k = pick(r, BKEYS)
    m = lambda: pick(r, MEMBERS[:6])
    c = r.randrange(14)
    if c < 4:
        return [pick(r, [b"LPUSH", b"RPUSH"]), k] + [m() for _ in range(r.randint(1, 3))]
    if c < 7:
        return [b"ZADD", k] + [x for i in range(r.randint(1, 3)) for x in (str(r.randint(0, 5)).encode(), m())]
    if c == 7:
        return [b"LMOVE", pick(r, BKEYS), k, pick(r, [b"LEFT", b"RIGHT"]), pick(r, [b"LEFT", b"RIGHT"])]
    if c == 8:
        return [b"RPOPLPUSH", pick(r, BKEYS), k]
    if c == 9:
        return [pick(r, [b"RENAME", b"COPY", b"SMOVE"]), pick(r, KEYS), k] + ([m()] if r.random() < 0 else [])
    if c == 10:
        return [b"SET", k, b"v"]
    if c == 11:
        return [b"SWAPDB", b"0", b"1"]
    if c == 12:
        return [pick(r, [b"DEL", b"FLUSHDB", b"FLUSHALL"])] + ([k] if r.random() < 0.7 else [])
    return [pick(r, [b"LPUSHX", b"RPUSHX"]), k, m()]


def g_pubsub(r):
    c = r.randrange(12)
    if c < 2:
        return [b"SUBSCRIBE"] + some(r, CHANNELS, 1, 3)
    if c < 4:
        return [b"PSUBSCRIBE"] + some(r, PATTERNS, 1, 3)
    if c == 4:
        return [b"UNSUBSCRIBE"] + some(r, CHANNELS, 0, 2)
    if c == 5:
        return [b"PUNSUBSCRIBE"] + some(r, PATTERNS, 0, 2)
    if c in (6, 7, 8):
        return [b"PUBLISH", pick(r, CHANNELS), pick(r, [b"hi", b"", b"\x00x"])]
    if c == 9:
        sub = pick(r, [b"NUMSUB", b"NUMPAT", b"CHANNELS"])
        args = some(r, CHANNELS, 0, 2) if sub == b"NUMSUB" else (some(r, PATTERNS, 0, 1) if sub == b"CHANNELS" else [])
        return [b"PUBSUB", sub] + args
    if c == 10:
        return [b"PING"] + some(r, [b"x"], 0, 1)
    return [pick(r, [b"RESET", b"HELLO"])] + ([pick(r, [b"2", b"3"])] if r.random() < 0.5 else [])


def g_notify(r):
    flags = bytes(pick(r, NOTIFY_FLAGS) for _ in range(r.randint(0, 5)))
    return [b"CONFIG", b"SET", b"notify-keyspace-events", flags]


def g_client(r, n):
    who = r.randrange(n)
    c = r.randrange(14)
    if c < 3:
        a = [b"CLIENT", b"KILL"]
        for _ in range(r.randint(1, 2)):
            f = pick(r, [b"ID", b"TYPE", b"ADDR", b"LADDR", b"SKIPME", b"USER", b"MAXAGE", b"BOGUS"])
            a.append(f)
            a.append({b"ID": ID(who), b"TYPE": pick(r, [b"normal", b"pubsub", b"replica", b"master", b"x"]),
                      b"ADDR": ADDR(who), b"LADDR": LADDR(who), b"SKIPME": pick(r, [b"yes", b"no", b"x"]),
                      b"USER": pick(r, [b"default", b"nobody"]), b"MAXAGE": b"100000",
                      b"BOGUS": b"1"}[f])
        return a
    if c == 3:
        return [b"CLIENT", b"KILL", ADDR(who)]
    if c in (4, 5):
        return [b"CLIENT", b"UNBLOCK", pick(r, [ID(who), b"999999", b"x"])] + (
            [pick(r, [b"TIMEOUT", b"ERROR", b"error", b"BOGUS"])] if r.random() < 0.7 else [])
    if c == 6:
        return [b"CLIENT", b"REPLY", pick(r, [b"OFF", b"SKIP", b"ON", b"x"])]
    if c == 7:
        return [b"CLIENT", b"NO-EVICT", pick(r, [b"on", b"off", b"x"])]
    if c in (8, 9):
        # Not ALL (nor no mode, which means ALL): UNPAUSE would wait too.
        return [b"CLIENT", b"PAUSE", pick(r, [b"100000", b"x", b"-1"]), pick(r, [b"WRITE", b"write", b"BOGUS"])]
    if c == 10:
        return [b"CLIENT", b"UNPAUSE"]
    if c == 11:
        return [b"CLIENT", pick(r, [b"ID", b"GETNAME", b"INFO"])]
    return [b"CLIENT", b"SETNAME", pick(r, [b"c%d" % who, b"", b"a b"])]


def g_watch(r, n):
    """WATCH on one client, something on another, then MULTI/EXEC."""
    i, j = r.randrange(n), r.randrange(n)
    ks = some(r, KEYS[:3], 1, 2)
    steps = [(i, [b"WATCH"] + ks)]
    c = r.randrange(8)
    if c == 0:
        steps.append((j, [b"SET", pick(r, ks), b"w"]))
    elif c == 1:
        steps.append((j, [b"PEXPIRE", pick(r, ks), b"250"]))
        steps.append(("sleep", 0.4))
    elif c == 2:
        steps.append((j, [pick(r, [b"FLUSHDB", b"FLUSHALL"])]))
    elif c == 3:
        steps.append((j, [b"SWAPDB", b"0", pick(r, [b"1", b"0"])]))
    elif c == 4:
        steps.append((j, gen_command(r)))
    elif c == 5:
        steps.append((j, [b"GET", pick(r, ks)]))
    elif c == 6:
        steps.append((j, [b"DEL", pick(r, KEYS)]))
    steps.append((i, [b"MULTI"]))
    for _ in range(r.randint(0, 2)):
        steps.append((i, pick(r, [[b"INCR", pick(r, ks)], [b"LPUSH", pick(r, BKEYS), b"m"], [b"GET", pick(r, ks)]])))
    if r.random() < 0.3:
        steps.append((j, [b"SET", pick(r, ks), b"late"]))
    steps.append((i, [pick(r, [b"EXEC", b"EXEC", b"EXEC", b"DISCARD"])]))
    return steps


def g_multi_block(r, n):
    """A blocking command queued in MULTI does not block."""
    i = r.randrange(n)
    return [(i, [b"MULTI"]), (i, g_block(r)), (i, g_wake(r)), (i, [b"EXEC"])]


def g_pause_all(r, n):
    """CLIENT PAUSE ALL, a command or two that wait it out, then a sleep
    past its end (UNPAUSE itself would wait)."""
    i = r.randrange(n)
    steps = [(i, [b"CLIENT", b"PAUSE", b"1000", b"ALL"])]
    for _ in range(r.randint(1, 2)):
        steps.append((r.randrange(n), pick(r, [g_wake(r), [b"GET", pick(r, KEYS)], g_block(r)])))
    steps.append(("sleep", 1.3))
    return steps


def prelude(r, n):
    """Often: keyspace notifications on and a subscriber to them, so the
    commands that follow are compared by their events too."""
    if r.random() < 0.4:
        return []
    flags = pick(r, [b"KEA", b"KEA", b"Kg$lshz", b"Exe", b"KEd", b"KEn", b"Em", b"AKE", b"Klz"])
    sub = [b"PSUBSCRIBE", pick(r, [b"__key*__:*", b"__keyspace@0__:*", b"__keyevent@*__:*"])]
    steps = [(0, [b"CONFIG", b"SET", b"notify-keyspace-events", flags]), (n - 1, sub)]
    if r.random() < 0.3:
        steps.append((r.randrange(n - 1), [b"SUBSCRIBE", b"__keyevent@0__:lpush", b"ch1"]))
    return steps


def gen_steps(r, n, length):
    """About length steps on n clients."""
    out = prelude(r, n)
    while len(out) < length:
        c = r.randrange(100)
        i = r.randrange(n)
        if c < 20:
            out.append((i, g_block(r)))
        elif c < 38:
            out.append((i, g_wake(r)))
        elif c < 50:
            out.append((i, gen_command(r)))
        elif c < 64:
            out.append((i, g_pubsub(r)))
        elif c < 68:
            out.append((i, g_notify(r)))
        elif c < 80:
            out.append((i, g_client(r, n)))
        elif c < 88:
            out += g_watch(r, n)
        elif c < 92:
            out += g_multi_block(r, n)
        elif c < 94:
            out += g_pause_all(r, n)
        elif c < 96:
            out.append((i, [b"SELECT", pick(r, [b"0", b"1"])]))
        else:
            out.append(("sleep", 0.05))
    return out
