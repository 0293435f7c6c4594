#!/usr/bin/env python3
"""Differential fuzzer, several clients: spindle kv against redis-server 7.0.

kv_diff_fuzz.py's servers and comparison, with 2 to 4 connections per
sequence (each RESP2 or, after HELLO 3, RESP3) and steps issued on a
chosen one (kv_diff_multi_gen.py): blocking commands woken by other
clients' pushes, CLIENT UNBLOCK or their timeout; WATCH/MULTI/EXEC with
another client's writes, FLUSHDB, SWAPDB and expiries in between; pub/sub
and keyspace notifications (CONFIG SET notify-keyspace-events); CLIENT
KILL, PAUSE/UNPAUSE, UNBLOCK, REPLY, NO-EVICT.

redis-server is the oracle for when a reply comes. After each step the
driver collects, on redis-server, every frame each connection receives
(the stepping client's first one waited for up to 3 s unless the command
may block, is paused, or its reply is switched off; then until no
connection gets anything for 40 ms), then waits (up to 3 s) for spindle to
deliver as many frames to each connection and 40 ms more for any extra.
Per connection the frames must agree in order (the order across
connections is not compared); a closed connection counts as a frame. A
blocked client's reply is thus read late, when a push, CLIENT UNBLOCK or
a timeout releases it. At the end DEBUG DIGEST must agree.

Known differences, counted by command and listed at the end rather than
reported: self-push-order, a RESP3 client subscribed to its own keyspace
events getting the same pushes and replies as from Redis but interleaved
differently (for several commands Redis publishes before replying and
spindle after, or the reverse; Redis may even put a push inside an array
reply).

Normalised as nondeterministic: client ids (commands use each server's
own ids and addresses, substituted per server; CLIENT ID/INFO/LIST and
HELLO's id are compared by shape), addresses, the order in which one
message matching several of a client's patterns is delivered, the order
of channels in PUBSUB CHANNELS and in the confirmations of an UNSUBSCRIBE
(or RESET) of all channels (dict order in Redis 7.0, with a random hash
seed), `expired` events (which are left out: when a key whose time has
passed goes, by the active cycle's sampling or at its next read, is
timing; the generator sets such keys with EXAT/PXAT in the past), and
everything kv_diff_fuzz.py normalises. Timing is kept out of the comparison by
construction: blocking timeouts are 0 (forever), 100 s, or 10-20 ms
(waited for synchronously); keys meant to expire get a sleep step right
after, which ends by reading every key on a side connection (so each
server has expired them, actively or lazily) and comparing what the
clients got; CLIENT PAUSE ALL lasts 1 s and is followed by a 1.3 s sleep.

    cargo build -p spindle --bin spindle && bench/kv_diff_multi.py --seconds 120 --seed 1

Exit status: 0 if no difference was seen, 1 otherwise.
"""

import argparse
import re
import select
import shutil
import socket
import sys
import time

import kv_diff_fuzz as F
from kv_diff_gen import KEYS
from kv_diff_multi_gen import gen_steps

WINDOW = 0.04      # quiet time that ends a collection
LONG = 3.0         # wait for a reply that must come
MAYBE = 0.06       # wait for the first frame of a reply that may not come

BLOCKING = {b"BLPOP", b"BRPOP", b"BLMOVE", b"BRPOPLPUSH", b"BZPOPMIN", b"BZPOPMAX", b"BLMPOP", b"BZMPOP"}
CLOSED = (b"closed", None)
PAUSED_UNTIL = 0.0  # when the last CLIENT PAUSE sent surely ends
# What the runs reached (redis-server's frames): shown at the end.
STATS = {"late replies": 0, "pushes": 0, "closed": 0, "still blocked": 0, "errors": 0}


def block_timeout(cmd):
    name = F.cmd_name(cmd)
    if name not in BLOCKING or len(cmd) < 2:
        return None
    return cmd[1] if name in (b"BLMPOP", b"BZMPOP") else cmd[-1]


def may_block(cmd):
    return block_timeout(cmd) in (b"0", b"0.0", b"100")


class Client:
    """One logical client: a connection to each server."""

    def __init__(self, srv, resp3):
        self.resp3 = resp3
        self.conns = [srv.spindle_conn(), srv.redis_tcp_conn()]
        self.info = []
        for c in self.conns:
            if resp3:
                c.call([b"HELLO", b"3"])
            raw = c.call([b"CLIENT", b"INFO"])[1][1]
            raw = raw[4:] if raw.startswith(b"txt:") else raw
            f = dict(kv.split(b"=", 1) for kv in raw.split() if b"=" in kv)
            self.info.append({b"ID": f[b"id"], b"ADDR": f[b"addr"], b"LADDR": f[b"laddr"]})
        self.dead = [False, False]
        self.pending = False    # a command's reply has not come yet (redis)
        self.reply_off = False
        self.skip = False
        self.in_multi = False
        self.queued = []
        self.recent = []  # the last commands sent, for normalising late replies

    def close(self):
        for c in self.conns:
            c.close()


def substitute(cmd, clients, side):
    out = []
    for a in cmd:
        m = re.fullmatch(rb"\x00(ID|ADDR|LADDR)(\d)", a)
        if m:
            n = int(m.group(2))
            a = clients[n].info[side][m.group(1)] if n < len(clients) else b"0"
        out.append(a)
    return out


def frame(conn, timeout):
    """The next frame on conn within timeout, CLOSED, or None."""
    try:
        conn.s.settimeout(max(timeout, 0.0005))
        return conn.read()
    except socket.timeout:
        return None
    except (ConnectionError, OSError):
        return (b"", CLOSED)


def collect(clients, side, need, first, first_wait):
    """Frames per client on one server. need: client -> frames to wait for
    (up to LONG); first: the stepping client, whose first frame is waited
    for up to first_wait. Then frames until WINDOW passes quietly."""
    got = {i: [] for i in range(len(clients))}
    live = [i for i, c in enumerate(clients) if not c.dead[side]]

    def take(i, timeout):
        f = frame(clients[i].conns[side], timeout)
        if f is None:
            return False
        got[i].append(f[1])
        if f[1] == CLOSED:
            clients[i].dead[side] = True
            live.remove(i)
        return True

    if first is not None and first in live:
        take(first, first_wait)
    deadline = time.monotonic() + LONG
    for i, n in need.items():
        while i in live and len(got[i]) < n and time.monotonic() < deadline:
            take(i, deadline - time.monotonic())
    while live:
        socks = {clients[i].conns[side].s: i for i in live}
        ready = [i for i in live if clients[i].conns[side].buf]
        if not ready:
            r, _, _ = select.select(list(socks), [], [], WINDOW)
            ready = [socks[s] for s in r]
        if not ready:
            break
        progress = False
        for i in ready:
            if i in live:
                progress |= take(i, 0.01)
        if not progress:
            break
    return got


def pattern_order(frames):
    """Redis 7.0 keeps patterns in a dict, so a message matching several
    of one client's patterns goes out in hash order (seeded at random):
    runs of pmessages for the same channel and payload are sorted."""
    def pm(f):
        ty, v = f
        if ty in (b"*", b">") and isinstance(v, list) and len(v) == 4 and v[0][1] == b"pmessage":
            return (v[2], v[3])
        return None
    out, i = [], 0
    while i < len(frames):
        j = i + 1
        key = pm(frames[i])
        while key and j < len(frames) and pm(frames[j]) == key:
            j += 1
        out += sorted(frames[i:j], key=repr)
        i = j
    return out


# Differences counted, not reported (see the docstring).
KNOWN = {"self-push-order": {}}


def split_pushes(frames):
    """(the RESP3 pushes in frames, in order, wherever they sit; frames
    without them). Redis writes a push into a reply being built, so one
    may sit inside an array."""
    pushes = []

    def strip(t):
        ty, v = t
        if isinstance(v, list):
            kept = []
            for x in v:
                if x[0] == b">":
                    pushes.append(x)
                else:
                    kept.append(strip(x))
            return (ty, kept)
        return t

    rest = []
    for f in frames:
        if f[0] == b">":
            pushes.append(f)
        else:
            rest.append(strip(f))
    return pushes, rest


def tokens(frames):
    """frames flattened in wire order, each RESP3 push one token: the
    order of the bytes whatever the parser made of a push that Redis wrote
    inside an array reply."""
    out = []

    def walk(t):
        ty, v = t
        if ty == b">":
            out.append((b"push", repr(t)))
        elif isinstance(v, list):
            out.append((ty, None))
            for x in v:
                walk(x)
        else:
            out.append(t)
    for f in frames:
        walk(f)
    return out


def known_difference(cl, fa, fb):
    """The name of a known class of difference covering fa != fb, or None:
    self-push-order when the pushes and the replies agree but interleave
    differently (a RESP3 client subscribed to its own keyspace events: many
    commands publish before or after replying in another order than
    Redis's)."""
    (pa, ra), (pb, rb) = split_pushes(without_expired(fa)), split_pushes(without_expired(fb))
    if pa or pb:
        if pattern_order(pa) == pattern_order(pb) and len(ra) == len(rb) and all(
                a == b or any(F.same(cmd, a, b, cl.queued) for cmd in cl.recent) for a, b in zip(ra, rb)):
            return "self-push-order"
        ta, tb = tokens(without_expired(fa)), tokens(without_expired(fb))
        rest = lambda ts: [t for t in ts if t[0] != b"push"]
        pushes = lambda ts: [t for t in ts if t[0] == b"push"]
        if rest(ta) == rest(tb) and pushes(ta) == pushes(tb):
            return "self-push-order"
    return None


def channel_order(frames):
    """Redis 7.0 keeps a client's channels, and the server's, in dicts
    (hash order, seeded at random): UNSUBSCRIBE (or RESET) without
    arguments confirms them in that order, and PUBSUB CHANNELS lists them
    so. Runs of unsubscribe confirmations get their channels sorted (the
    counts keep their places); arrays of bulk strings are sorted by the
    caller for PUBSUB CHANNELS."""
    def unsub(f):
        ty, v = f
        return ty in (b"*", b">") and isinstance(v, list) and len(v) == 3 and v[0][1] == b"unsubscribe"
    out, i = list(frames), 0
    while i < len(out):
        j = i
        while j < len(out) and unsub(out[j]):
            j += 1
        if j > i + 1:
            names = sorted((f[1][1] for f in out[i:j]), key=repr)
            out[i:j] = [(f[0], [f[1][0], n, f[1][2]]) for f, n in zip(out[i:j], names)]
        i = max(j, i + 1)
    return out


def sorted_channels(cmd, t):
    if F.cmd_name(cmd) == b"PUBSUB" and len(cmd) > 1 and cmd[1].upper() in (b"CHANNELS", b"SHARDCHANNELS") \
            and isinstance(t[1], list):
        return (t[0], sorted(t[1], key=repr))
    return t


def is_expired_event(f):
    ty, v = f
    if ty not in (b"*", b">") or not isinstance(v, list) or len(v) not in (3, 4):
        return False
    if v[0][1] not in (b"message", b"pmessage"):
        return False
    channel, payload = v[-2][1], v[-1][1]
    return channel.endswith(b":expired") or (channel.startswith(b"__keyspace@") and payload == b"expired")


def without_expired(frames):
    """`expired` events leave out: when a key whose time passed goes (the
    active cycle's sampling, or the next read) is timing."""
    return [f for f in frames if not is_expired_event(f)]


def same_frames(cl, fa, fb):
    """Frames agree if each pair does under the normalisation of one of
    the commands recently sent on the client (a late reply answers an
    earlier command than the last)."""
    fa, fb = (channel_order(pattern_order(without_expired(f))) for f in (fa, fb))
    if len(fa) != len(fb):
        return False
    return all(a == b or any(F.same(cmd, sorted_channels(cmd, a), sorted_channels(cmd, b), cl.queued)
                             for cmd in cl.recent) for a, b in zip(fa, fb))


def run_seq(srv, steps, n, resp3s):
    """Runs steps on n fresh clients on both servers; returns the index of
    the first difference (len(steps) for the digest) and a description,
    or None."""
    global PAUSED_UNTIL
    time.sleep(max(0, PAUSED_UNTIL - time.monotonic()))
    srv.revive()
    try:
        for c in (srv.spindle_conn(), srv.redis_tcp_conn()):
            c.call([b"CLIENT", b"UNPAUSE"])
            c.call([b"CONFIG", b"SET", b"notify-keyspace-events", b""])
            c.call([b"FLUSHALL"])
            c.close()
    except OSError:
        # A pause left by an earlier run (say ALL, stretched by a WRITE
        # pause): start both servers afresh.
        srv.close()
        srv._start(*srv.argv)
    clients = [Client(srv, resp3s[i]) for i in range(n)]
    paused = False        # a pause (ALL, or WRITE) may hold commands
    write_paused = False  # a WRITE pause lasts until UNPAUSE
    pause_all_until = 0.0  # when an ALL pause sent ends, if one is on
    i = 0
    try:
        for i, (who, cmd) in enumerate(steps):
            if who != "sleep" and pause_all_until and time.monotonic() > pause_all_until - 0.4:
                # An ALL pause ends about now (a minimised sequence may have
                # lost its sleep): when each server lets the held commands
                # go is timing, so wait it out first.
                who, cmd = "sleep", max(0.0, pause_all_until + 0.3 - time.monotonic())
                steps_left = steps[i]
            else:
                steps_left = None
            if who == "sleep":
                time.sleep(cmd)
                paused = write_paused
                pause_all_until = 0.0
                # Whether a key that ran out during the sleep went by the
                # active cycle or waits for its next read is timing: reads
                # of every key on a side connection expire the rest, so
                # both servers have published every `expired` event.
                for mk in (srv.spindle_conn, srv.redis_tcp_conn):
                    side = mk()
                    for db in (b"0", b"1"):
                        side.call([b"SELECT", db])
                        side.call([b"EXISTS"] + KEYS)
                    side.close()
                got_r = collect(clients, 1, {}, None, 0)
                got_s = collect(clients, 0, {j: len(f) for j, f in got_r.items()}, None, 0)
                for j, c in enumerate(clients):
                    if not same_frames(c, got_s[j], got_r[j]):
                        return i, "client %d: spindle %r\n    redis:   %r" % (j, got_s[j][:6], got_r[j][:6])
                    if got_r[j]:
                        c.pending = False
                if steps_left is None:
                    continue
                who, cmd = steps_left
            cl = clients[who]
            if all(cl.dead):
                cl.close()
                cl = clients[who] = Client(srv, resp3s[who])
            if any(cl.dead):
                continue
            name = F.cmd_name(cmd)
            sub = cmd[1].upper() if len(cmd) > 1 else b""
            if name == b"CLIENT" and sub == b"PAUSE" and write_paused and (len(cmd) == 3 or cmd[3].upper() == b"ALL"):
                continue  # an ALL pause would take a running WRITE pause's 100 s
            expect = not (cl.pending or cl.reply_off or cl.skip or paused or (may_block(cmd) and not cl.in_multi)
                          or (name == b"CLIENT" and sub in (b"REPLY", b"PAUSE")))
            if name == b"CLIENT" and sub == b"PAUSE" and len(cmd) > 2 and cmd[2].isdigit() and (
                    len(cmd) == 3 or cmd[3].upper() == b"ALL"):
                PAUSED_UNTIL = max(PAUSED_UNTIL, time.monotonic() + int(cmd[2]) / 1000 + 0.1)
                pause_all_until = max(pause_all_until, time.monotonic() + int(cmd[2]) / 1000)
            for side in (0, 1):
                cl.conns[side].send([substitute(cmd, clients, side)])
            cl.recent = (cl.recent + [cmd])[-8:]
            got_r = collect(clients, 1, {}, who, LONG if expect else MAYBE)
            got_s = collect(clients, 0, {j: len(f) for j, f in got_r.items()}, None, 0)
            # Bookkeeping from redis-server's replies.
            mine = got_r[who]
            if cl.in_multi and mine and mine[0] == (b"+", b"QUEUED"):
                cl.queued.append(cmd)
            for j, c in enumerate(clients):
                for f in got_r[j]:
                    STATS["closed"] += f == CLOSED
                    STATS["errors"] += f[0] == b"-"
                    STATS["pushes"] += f[0] == b">" or (
                        f[0] == b"*" and bool(f[1]) and f[1][0][1] in (b"message", b"pmessage"))
                    STATS["late replies"] += j != who and c.pending
                if got_r[j]:
                    c.pending = False
            if not mine and not cl.reply_off and not cl.skip:
                cl.pending = True
            cl.skip = False
            if name == b"CLIENT" and sub == b"REPLY" and len(cmd) == 3:
                mode = cmd[2].upper()
                cl.reply_off = mode == b"OFF" if mode in (b"ON", b"OFF") else cl.reply_off
                cl.skip = mode == b"SKIP" and not cl.reply_off
            if name == b"CLIENT" and sub == b"PAUSE" and mine and mine[0] == (b"+", b"OK"):
                paused = True
                write_paused |= len(cmd) == 4 and cmd[3].upper() == b"WRITE"
            if name == b"CLIENT" and sub == b"UNPAUSE" and mine == [(b"+", b"OK")]:
                paused = write_paused = False
            for j, c in enumerate(clients):
                fa, fb = got_s[j], got_r[j]
                if not same_frames(c, fa, fb):
                    why = known_difference(c, fa, fb)
                    if why:
                        KNOWN[why][F.cmd_name(cmd)] = KNOWN[why].get(F.cmd_name(cmd), 0) + 1
                        continue
                    return i, "client %d: spindle %r\n    redis:   %r" % (j, fa[:6], fb[:6])
            if name == b"MULTI" and mine == [(b"+", b"OK")]:
                cl.in_multi, cl.queued = True, []
            elif name in (b"EXEC", b"DISCARD", b"RESET") and mine:
                cl.in_multi = False
        STATS["still blocked"] += sum(c.pending for c in clients)
        # Close the clients first (a command a WRITE pause still holds,
        # CLIENT KILL say, must not run when the digest's UNPAUSE lets it),
        # let the servers see them go, then compare the data.
        for c in clients:
            c.close()
        time.sleep(0.1)
        ds = []
        for mk in (srv.spindle_conn, srv.redis_tcp_conn):
            c = mk()
            c.call([b"CLIENT", b"UNPAUSE"])
            ds.append(c.call([b"DEBUG", b"DIGEST"]))
            c.close()
        if ds[0][1] != ds[1][1]:
            return len(steps), "digest: spindle %r redis %r" % (ds[0][1], ds[1][1])
        return None
    except OSError as e:
        return i, "connection error %r; %s" % (e, srv.exits())
    finally:
        for c in clients:
            c.close()


def minimise(srv, steps, n, resp3s, at):
    """Drops steps while the difference stays at the last step (or the
    digest)."""
    steps = list(steps)
    digest = at == len(steps)

    def still(trial):
        r = run_seq(srv, trial, n, resp3s)
        return r is not None and r[0] == (len(trial) if digest else len(trial) - 1)

    chunk = max(1, len(steps) // 2)
    while chunk >= 1:
        i = 0
        while i < len(steps) - (0 if digest else 1):
            trial = steps[:i] + steps[i + chunk:]
            if trial and (digest or i + chunk < len(steps)) and still(trial):
                steps = trial
                continue
            i += chunk
        chunk //= 2
    return steps


def show_step(s):
    who, cmd = s
    if who == "sleep":
        return "  (sleep %.2fs)" % cmd
    return "  c%d: %s" % (who, F.show(cmd).replace("\\x00", "$"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--length", type=int, default=30, help="steps per sequence (default 30)")
    ap.add_argument("--resp3", type=float, default=0.4, help="share of connections in RESP3")
    ap.add_argument("--spindle", default=None, help="spindle binary (default: target/debug/spindle)")
    ap.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--max-diffs", type=int, default=30)
    ap.add_argument("--no-minimise", action="store_true")
    args = ap.parse_args()
    rng = F.start_run(args)
    srv = F.Servers([args.spindle], args.redis, ["--enable-debug-command", "yes"])
    seen, n_seq, n_step = {}, 0, 0
    end = time.monotonic() + args.seconds
    try:
        while time.monotonic() < end and len(seen) < args.max_diffs:
            n = rng.randint(2, 4)
            resp3s = [rng.random() < args.resp3 for _ in range(n)]
            steps = gen_steps(rng, n, args.length)
            r = run_seq(srv, steps, n, resp3s)
            n_seq += 1
            n_step += len(steps) if r is None else r[0] + 1
            if r is None:
                continue
            at, diff = r
            cmd = steps[at][1] if at < len(steps) else [b"DIGEST"]
            sig = F.signature(cmd if isinstance(cmd, list) else [b"?"], diff)
            if sig in seen:
                seen[sig] += 1
                continue
            seen[sig] = 1
            small = steps[: at + 1] if at < len(steps) else steps
            if not args.no_minimise:
                small = minimise(srv, small, n, resp3s, at if at < len(steps) else len(small))
            final = run_seq(srv, small, n, resp3s)
            print("\n=== difference #%d (resp3 per client %s)" % (len(seen), resp3s))
            for s in small:
                print(show_step(s))
            print("    " + (final[1] if final else "(not reproduced on rerun) " + diff), flush=True)
    finally:
        srv.close()
    print("\n%d sequences, %d steps, %d distinct differences; allowed: %s" % (n_seq, n_step, len(seen), F.ALLOWED))
    print("reached: %s" % STATS)
    for why, by_cmd in KNOWN.items():
        print("known %s: %s" % (why, ", ".join("%s %d" % (k.decode(), n) for k, n in sorted(by_cmd.items()))))
    for sig, k in seen.items():
        print("  %4d x %s" % (k, sig.decode(errors="replace")))
    return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
