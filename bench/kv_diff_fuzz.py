#!/usr/bin/env python3
"""Differential fuzzer: spindle kv against redis-server 7.0, byte for byte.

Starts a fresh redis-server (on a unix socket) and a fresh `spindle kv`
(on a port it picks), both without persistence, then sends the same random
command sequences (kv_diff_gen.py) to both over raw RESP and compares the
replies. Each sequence starts from FLUSHALL on a new connection, in RESP2
or (for a share of them) after HELLO 3. A difference is minimised
(commands dropped while the last reply still differs) and printed with its
sequence; the run goes on and reports each distinct difference once. A
server that exits is reported (with the end of spindle's log) and both are
restarted.

    cargo build -p spindle && bench/kv_diff_fuzz.py --seconds 60
    bench/kv_diff_fuzz.py --seconds 600 --seed 7 --spindle target/release/spindle

Normalised before comparing, as Redis leaves them open: the order of
unordered replies (SMEMBERS, HKEYS, KEYS, RESP3 sets and maps, SORT by a
pattern without `*` or ALPHA ties), TTL values, random commands (shape
only), DUMP payloads (shape only: spindle writes the older RDB types, and
each server RESTOREs the other's), and replies that depend on time or
memory (SLOWLOG, LATENCY, MEMORY, CLIENT LIST). Lex ranges over a sorted
set with unequal scores are not sent. The differences in ALLOWED are
counted and listed at the end, not reported: what spindle takes from
Redis 7.2 on purpose (score text, small list and set encoding names,
ZRANK WITHSCORE), what it lacks (client tracking), and Redis 7.0
artefacts (SORT's stale errno, LPOS RANK LONG_MIN overflow, OBJECT
REFCOUNT inside EXEC).

Exit status: 0 if no difference was seen, 1 otherwise.
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from kv_diff_gen import gen_command

# --------------------------------------------------------------- RESP wire


class Conn:
    """A blocking RESP connection that returns each reply as (bytes, tree)."""

    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(10)
        self.buf = bytearray()

    def _fill(self):
        chunk = self.s.recv(1 << 16)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def _line(self, pos):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return self.buf[pos:end], end + 2
            self._fill()

    def _need(self, n):
        while len(self.buf) < n:
            self._fill()

    def _parse(self, pos):
        line, pos = self._line(pos)
        t, body = bytes(line[:1]), bytes(line[1:])
        if t in (b"+", b"-", b":", b",", b"_", b"#", b"("):
            return (t, body), pos
        if t in (b"$", b"=", b"!"):
            n = int(body)
            if n < 0:
                return (t, None), pos
            self._need(pos + n + 2)
            return (t, bytes(self.buf[pos : pos + n])), pos + n + 2
        if t in (b"*", b"~", b">", b"%", b"|"):
            n = int(body)
            if n < 0:
                return (t, None), pos
            if t in (b"%", b"|"):
                n *= 2
            items = []
            for _ in range(n):
                item, pos = self._parse(pos)
                items.append(item)
            return (t, items), pos
        raise ValueError("bad RESP type %r" % line)

    def read(self):
        tree, pos = self._parse(0)
        raw = bytes(self.buf[:pos])
        del self.buf[:pos]
        return raw, tree

    def send(self, cmds):
        out = []
        for c in cmds:
            out.append(b"*%d\r\n" % len(c))
            for a in c:
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))

    def call(self, cmd):
        self.send([cmd])
        return self.read()

    def close(self):
        self.s.close()


# ---------------------------------------------------------------- servers


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """redis-server and spindle kv as children, killed on close()."""

    def __init__(self, spindle, redis, extra=()):
        self.argv = (spindle, redis)
        self.extra = list(extra)
        self._start(spindle, redis)

    def revive(self):
        """Restarts both servers if either has exited (a crash, reported
        by run_seq as a connection error)."""
        if self.redis.poll() is not None or self.spindle.poll() is not None:
            self.close()
            self._start(*self.argv)

    def _start(self, spindle, redis):
        self.tmp = tempfile.mkdtemp(prefix="kvfuzz-")
        rdir = os.path.join(self.tmp, "redis")
        sdir = os.path.join(self.tmp, "spindle")
        os.mkdir(rdir)
        os.mkdir(sdir)
        self.sock = os.path.join(rdir, "redis.sock")
        common = ["--save", "", "--appendonly", "no"] + self.extra
        # A TCP port too, for kv_diff_multi.py (CLIENT KILL ADDR needs
        # distinct client addresses, which unix socket clients lack).
        self.redis_port = free_port()
        self.redis = subprocess.Popen(
            [redis, "--port", str(self.redis_port), "--unixsocket", self.sock, "--dir", rdir,
             "--logfile", os.path.join(rdir, "log")] + common,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.spindle_log = os.path.join(sdir, "log")
        try:
            with open(self.spindle_log, "wb") as log:
                self.spindle = subprocess.Popen(
                    spindle + ["kv", "--port", "0", "--dir", sdir] + common,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        except OSError:
            # No spindle binary, say: redis-server and the folder must not
            # outlive the run.
            self.redis.kill()
            self.redis.wait()
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self.port = self._spindle_port()
        deadline = time.monotonic() + 20
        while True:
            try:
                self.redis_conn().call([b"PING"])
                break
            except OSError:
                if time.monotonic() > deadline or self.redis.poll() is not None:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)

    def _spindle_port(self):
        # spindle prints "spindle kv listening on 127.0.0.1:PORT" on stdout.
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.spindle.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 20
        seen = b""
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0, deadline - time.monotonic())):
                break
            chunk = os.read(self.spindle.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
            m = re.search(rb"listening on [0-9.]+:(\d+)", seen)
            if m:
                return int(m.group(1))
        raise RuntimeError("spindle kv did not start: %r" % seen)

    def exits(self):
        """Which server has exited (waiting a little for it), with the tail
        of spindle's log if it was spindle."""
        out = []
        for name, p in (("spindle", self.spindle), ("redis-server", self.redis)):
            try:
                out.append("%s exited with %s" % (name, p.wait(timeout=2)))
            except subprocess.TimeoutExpired:
                continue
        if self.spindle.poll() is not None:
            with open(self.spindle_log, "rb") as f:
                out.append("spindle's log ends: %r" % f.read()[-1500:])
        return "; ".join(out) or "both still running"

    def redis_conn(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        return Conn(s)

    def redis_tcp_conn(self):
        return Conn(socket.create_connection(("127.0.0.1", self.redis_port), timeout=10))

    def spindle_conn(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return Conn(s)

    def close(self):
        for p in (self.redis, self.spindle):
            p.kill()
            p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ------------------------------------------------------------ comparison

UNORDERED = {
    b"SMEMBERS", b"SINTER", b"SUNION", b"SDIFF", b"HKEYS", b"HVALS", b"KEYS",
}
PAIRS_UNORDERED = {b"HGETALL"}
RANDOM = {b"SRANDMEMBER", b"HRANDFIELD", b"ZRANDMEMBER", b"RANDOMKEY", b"SPOP"}
# Compared by shape only. DUMP: spindle writes the older RDB types (plain
# list, set, zset and hash records) where 7.0 writes listpacks; each
# server RESTOREs the other's payloads to the same value.
SHAPE_ONLY = {b"DUMP"}
# Replies that depend on time, memory layout or connection ids (and
# COMMAND COUNT and LIST: spindle has no streams, GEO, scripting or ACL):
# only whether they are errors, and which, is compared.
NONDETERMINISTIC = {b"SLOWLOG", b"LATENCY", b"MEMORY"}
NONDETERMINISTIC_SUBS = {(b"CLIENT", b"LIST"), (b"CLIENT", b"INFO"), (b"CLIENT", b"ID")}
TTLS = {b"TTL", b"PTTL", b"EXPIRETIME", b"PEXPIRETIME"}
# Commands whose replies hold sorted-set scores.
SCORED = {
    b"ZSCORE", b"ZMSCORE", b"ZINCRBY", b"ZADD", b"ZRANGE", b"ZRANGEBYSCORE",
    b"ZREVRANGEBYSCORE", b"ZREVRANGE", b"ZPOPMIN", b"ZPOPMAX", b"ZMPOP",
    b"ZUNION", b"ZINTER", b"ZDIFF", b"ZRANDMEMBER", b"BZPOPMIN", b"BZPOPMAX",
    b"ZRANK", b"ZREVRANK", b"SORT",
}


def shape(t):
    ty, v = t
    if ty in (b"+", b":", b",", b"$", b"=", b"(") and v is not None:
        return (ty, b"")
    if isinstance(v, list):
        return (ty, [shape(x) for x in v])
    return t


def key_of(t):
    return repr(t)


def sort_order(cmd):
    """How much of a SORT reply's order Redis fixes: None (all of it), or
    (gets, limited) where the order is unspecified: a BY pattern without
    `*` (even followed by another BY) skips sorting (a set's order), and
    ALPHA BY leaves ties unbroken. gets is the number of reply entries per
    element; limited means a LIMIT picks which elements, so only the shape
    can be compared."""
    if cmd_name(cmd) not in (b"SORT", b"SORT_RO"):
        return None
    alpha = limited = dontsort = by = False
    gets, j = 0, 2
    while j < len(cmd):
        a = cmd[j].upper()
        if a == b"ALPHA":
            alpha = True
        elif a == b"LIMIT":
            limited, j = True, j + 2
        elif a in (b"BY", b"GET", b"STORE"):
            if a == b"BY" and j + 1 < len(cmd):
                by = True
                dontsort |= b"*" not in cmd[j + 1]
            gets += a == b"GET"
            j += 1
        j += 1
    if not (dontsort or (alpha and by)):
        return None
    return max(gets, 1), limited


def c_str(b):
    return b.split(b"\0", 1)[0] if isinstance(b, bytes) else b


def sort_alpha_ties(cmd, ty, v):
    """SORT ALPHA compares elements as C strings (strcoll), so elements
    equal up to a NUL tie, and Redis does not break those ties: each run of
    them is put in one order."""
    if cmd_name(cmd) not in (b"SORT", b"SORT_RO") or not any(a.upper() == b"ALPHA" for a in cmd):
        return (ty, v)
    out, i = [], 0
    while i < len(v):
        j = i + 1
        while j < len(v) and c_str(v[j][1]) == c_str(v[i][1]):
            j += 1
        out += sorted(v[i:j], key=key_of)
        i = j
    return (ty, out)


def normalise(cmd, t):
    """t with what Redis leaves open put into one canonical form."""
    name = cmd_name(cmd)
    ty, v = t
    if name == b"HELLO" and isinstance(v, list) and (b"$", b"id") in v:
        # The connection id counts every connection the server has had.
        i = v.index((b"$", b"id"))
        v = v[: i + 1] + [shape(v[i + 1])] + v[i + 2 :]
    sub = cmd[1].upper() if len(cmd) > 1 else b""
    if name in NONDETERMINISTIC or (name, sub) in NONDETERMINISTIC_SUBS or (
            name == b"COMMAND" and sub in (b"COUNT", b"LIST")):
        return t if ty == b"-" else (b"ok", None)
    if name in RANDOM or name in SHAPE_ONLY:
        return shape(t)
    if ty == b"~" or (name in UNORDERED and isinstance(v, list)):
        return (ty, sorted(v, key=key_of))
    if ty == b"%" or (name in PAIRS_UNORDERED and isinstance(v, list)):
        pairs = sorted(zip(v[0::2], v[1::2]), key=key_of)
        return (ty, [x for p in pairs for x in p])
    if name in TTLS and ty == b":" and not v.startswith(b"-"):
        return (ty, b"1")
    order = sort_order(cmd)
    if not order and isinstance(v, list):
        return sort_alpha_ties(cmd, ty, v)
    if order and isinstance(v, list):
        per, limited = order
        if limited:
            return shape((ty, v))
        groups = sorted((v[i : i + per] for i in range(0, len(v), per)), key=key_of)
        return (ty, [x for g in groups for x in g])
    return (ty, v)


def as_float(b):
    try:
        return float(b)
    except (TypeError, ValueError):
        return None


def same_but_float_text(a, b):
    """True if a and b differ only in leaves that read as the same double."""
    if a == b:
        return True
    (ta, va), (tb, vb) = a, b
    if ta != tb:
        return False
    if isinstance(va, list) and isinstance(vb, list):
        return len(va) == len(vb) and all(same_but_float_text(x, y) for x, y in zip(va, vb))
    if isinstance(va, bytes) and isinstance(vb, bytes) and ta in (b"$", b","):
        fa, fb = as_float(va), as_float(vb)
        if fa is None or fb is None:
            return False
        return fa == fb or (fa != fa and fb != fb)
    return False


def is_object(cmd, sub):
    return len(cmd) == 3 and cmd_name(cmd) == b"OBJECT" and cmd[1].upper() == sub


def cmd_name(cmd):
    return cmd[0].upper() if cmd else b""


def show(cmd):
    def one(a):
        s = repr(a)[2:-1]
        if len(s) > 40:
            s = s[:20] + "..(%d bytes)" % len(a)
        return s if s and " " not in s else '"%s"' % s
    return " ".join(one(a) for a in cmd)


# Differences spindle keeps on purpose, or that are artefacts of Redis's
# implementation: counted, not reported.
ALLOWED = {"score-text": 0, "encoding-name": 0, "refcount-in-exec": 0, "lpos-rank-long-min": 0,
           "sort-stale-errno": 0, "zrank-withscore": 0, "client-tracking": 0}


def allowed(cmd, a, b, in_exec):
    """The name of the allowance that covers a != b, or None."""
    name = cmd_name(cmd)
    if is_object(cmd, b"ENCODING") and a == (b"$", b"listpack") and b in (
        (b"$", b"quicklist"), (b"$", b"hashtable")):
        return "encoding-name"  # small lists and sets: 7.2's names
    if name in SCORED and same_but_float_text(a, b):
        return "score-text"  # 7.2's shortest round-trip doubles
    if in_exec and is_object(cmd, b"REFCOUNT"):
        return "refcount-in-exec"  # MULTI's queued argv holds a reference
    if name == b"CLIENT" and len(cmd) > 1 and cmd[1].upper() in (
            b"HELP", b"TRACKING", b"TRACKINGINFO", b"GETREDIR", b"CACHING"):
        return "client-tracking"  # no client-side caching in spindle
    if name in (b"ZRANK", b"ZREVRANK") and len(cmd) > 3:
        return "zrank-withscore"  # 7.2's WITHSCORE: arity -3, not 3
    if name == b"LPOS" and b"-9223372036854775808" in cmd:
        # 7.0 negates the rank and overflows (as RANK -1, COUNT ignored);
        # 7.2 refuses it (redis#12167); spindle finds no such match.
        return "lpos-rank-long-min"
    return None


def same(cmd, a, b, queued, in_exec=False):
    """True if the replies a and b (parsed) agree, allowances counted."""
    if a == b:
        return True
    if cmd_name(cmd) == b"EXEC" and isinstance(a[1], list) and isinstance(b[1], list) \
            and a[0] == b[0] and len(a[1]) == len(b[1]) == len(queued):
        return all(same(c, x, y, (), True) for c, x, y in zip(queued, a[1], b[1]))
    na, nb = normalise(cmd, a), normalise(cmd, b)
    if na == nb:
        return True
    why = allowed(cmd, na, nb, in_exec)
    if why:
        ALLOWED[why] += 1
        return True
    return False


def compare(cmd, ra, rb, queued):
    """None if the replies agree, else a description."""
    (raw_a, a), (raw_b, b) = ra, rb
    if raw_a == raw_b or same(cmd, a, b, queued):
        return None
    return "spindle: %r\n    redis:   %r" % (raw_a[:600], raw_b[:600])


# -------------------------------------------------------------- sequences


def lex_source(cmd):
    """The key a lex-range command reads, if cmd is one."""
    name = cmd_name(cmd)
    bylex = any(a.upper() == b"BYLEX" for a in cmd)
    if name in (b"ZRANGEBYLEX", b"ZREVRANGEBYLEX", b"ZLEXCOUNT", b"ZREMRANGEBYLEX") or (
            name == b"ZRANGE" and bylex):
        return cmd[1] if len(cmd) > 1 else None
    if name == b"ZRANGESTORE" and bylex and len(cmd) > 2:
        return cmd[2]
    return None


def lex_order_is_defined(conns, key):
    """False if redis-server holds a sorted set at key with unequal
    scores: Redis leaves lex ranges over those unspecified. The same reads
    go to both servers (a read can expire a key)."""
    for c in conns:
        lo = c.call([b"ZRANGE", key, b"0", b"0", b"WITHSCORES"])[1]
        hi = c.call([b"ZRANGE", key, b"-1", b"-1", b"WITHSCORES"])[1]
    if lo[0] == b"-" or not lo[1] or not hi[1]:
        return True
    flat = lambda t: [x for y in t[1] for x in (y[1] if isinstance(y[1], list) else [y])]
    return flat(lo)[1:] == flat(hi)[1:]


SORT_ERANGE = (b"-", b"ERR One or more scores can't be converted into double")


def sort_stale_errno(cb, cmd, ra, rb):
    """Redis 7.0's SORT tests errno after strtod without clearing it first,
    so an ERANGE left by an earlier command (ZADD 1e309, a subnormal ...)
    fails it. If clearing errno (a no-op ZADD XX parses a score with errno
    reset) makes redis-server agree, the difference is that bug's."""
    if cmd_name(cmd) not in (b"SORT", b"SORT_RO") or rb[1] != SORT_ERANGE or ra[1] == SORT_ERANGE:
        return False
    cb.call([b"ZADD", b"__kvfuzz_errno", b"XX", b"1", b"m"])
    if compare(cmd, ra, cb.call(cmd), ()) is None:
        ALLOWED["sort-stale-errno"] += 1
        return True
    return False


def run_seq(srv, seq, resp3):
    """Runs seq on both servers from an empty keyspace; returns the index
    of the first differing reply and its description, or None."""
    srv.revive()
    ca, cb = srv.spindle_conn(), srv.redis_conn()
    i = 0
    try:
        for c in (ca, cb):
            c.call([b"SELECT", b"0"])
            c.call([b"FLUSHALL"])
            if resp3:
                c.call([b"HELLO", b"3"])
        queued, in_multi, tainted = [], False, False
        for i, cmd in enumerate(seq):
            src = lex_source(cmd)
            if src is not None and (in_multi or not lex_order_is_defined((ca, cb), src)):
                continue
            if sort_order(cmd) and any(a.upper() == b"STORE" for a in cmd):
                continue  # the stored list's order would be unspecified
            ra, rb = ca.call(cmd), cb.call(cmd)
            name = cmd_name(cmd)
            if name == b"EXEC" and tainted:
                # A command one server queued and the other refused was
                # allowed (say ZRANK's 7.2 arity): one EXEC ran what the
                # other aborted, so the keyspaces differ from here on.
                return None
            q = queued
            if in_multi:
                if name in (b"EXEC", b"DISCARD"):
                    in_multi = False
                    queued = []
                elif rb[1] == (b"+", b"QUEUED"):
                    queued.append(cmd)
            elif name == b"MULTI" and rb[1] == (b"+", b"OK"):
                in_multi = True
            before = sum(ALLOWED.values())
            diff = compare(cmd, ra, rb, q)
            if diff and not (not in_multi and sort_stale_errno(cb, cmd, ra, rb)):
                return i, diff
            if in_multi and ra[1] != rb[1] and sum(ALLOWED.values()) > before:
                tainted = True
        return None
    except OSError as e:
        return i, "connection error %r; %s" % (e, srv.exits())
    finally:
        ca.close()
        cb.close()


def minimise(srv, seq, resp3):
    """Drops commands (never the last) while the last reply still differs."""
    seq = list(seq)
    chunk = max(1, len(seq) // 2)
    while chunk >= 1:
        i = 0
        while i < len(seq) - 1:
            trial = seq[:i] + seq[i + chunk :] if i + chunk < len(seq) else None
            if trial:
                r = run_seq(srv, trial, resp3)
                if r and r[0] == len(trial) - 1:
                    seq = trial
                    continue
            i += chunk
        chunk //= 2
    return seq


def signature(cmd, diff):
    """What makes two differences "the same": the command and the start
    of both replies, digits blanked."""
    replies = [re.sub(r"[0-9]+", "N", line.strip())[:48] for line in diff.split("\n")[:2]]
    return cmd_name(cmd) + b" | " + " / ".join(replies).encode()


def start_run(args):
    """Resolves --spindle (the debug build under CARGO_TARGET_DIR by
    default), makes a plain kill stop both servers (through the caller's
    finally), prints the seed and returns the run's random generator."""
    if args.spindle is None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        tgt = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
        args.spindle = os.path.join(tgt, "debug", "spindle")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
    seed = args.seed if args.seed is not None else int(time.time())
    print("seed %d" % seed, flush=True)
    return random.Random(seed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60, help="stop after this long (default 60)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    ap.add_argument("--length", type=int, default=40, help="commands per sequence (default 40)")
    ap.add_argument("--resp3", type=float, default=0.3, help="share of sequences in RESP3")
    ap.add_argument("--spindle", default=None, help="spindle binary (default: target/debug/spindle)")
    ap.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--max-diffs", type=int, default=30, help="stop after this many distinct diffs")
    args = ap.parse_args()
    rng = start_run(args)

    srv = Servers([args.spindle], args.redis)
    seen, n_seq, n_cmd = {}, 0, 0
    end = time.monotonic() + args.seconds
    try:
        while time.monotonic() < end and len(seen) < args.max_diffs:
            resp3 = rng.random() < args.resp3
            seq = [gen_command(rng) for _ in range(args.length)]
            r = run_seq(srv, seq, resp3)
            n_seq += 1
            n_cmd += len(seq) if r is None else r[0] + 1
            if r is None:
                continue
            i, diff = r
            sig = signature(seq[i], diff)
            if sig in seen:
                seen[sig] += 1
                continue
            small = minimise(srv, seq[: i + 1], resp3)
            final = run_seq(srv, small, resp3)
            seen[sig] = 1
            print("\n=== difference #%d (%s) at command %d" % (len(seen), "RESP3" if resp3 else "RESP2", len(small)))
            for c in small:
                print("  " + show(c))
            print("    " + (final[1] if final else diff), flush=True)
    finally:
        srv.close()
    print("\n%d sequences, %d commands compared, %d distinct differences; allowed: %s"
          % (n_seq, n_cmd, len(seen), ALLOWED))
    for sig, n in seen.items():
        print("  %4d x %s" % (n, sig.decode(errors="replace")))
    return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
