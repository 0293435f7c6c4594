#!/usr/bin/env python3
"""Regenerates what COMMAND reports about each command from a live
redis-server 7, for every command and subcommand Spindle implements:

- crates/kv/src/cmd/meta_table.rs: COMMAND INFO's flags, ACL categories,
  tips and key specs, as a Rust table;
- crates/kv/src/cmd/command_docs.resp: COMMAND DOCS's entries (summary,
  since, group, complexity, history, arguments, subcommands), as the RESP3
  frames redis-server sends, name then docs, one pair per command.

Usage: start redis-server 7 and spindle kv, then
    python3 crates/kv/tools/gen_command_meta.py REDIS_PORT SPINDLE_PORT
The names come from Spindle's own COMMAND reply, so only commands we
implement get an entry; the descriptions come from redis-server's.
"""
import os
import socket
import sys


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.f = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t in b"+":
            return ("simple", rest.decode())
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t in (b"$", b"="):
            return ("bulk", self.f.read(int(rest) + 2)[:-2].decode())
        if t in (b"*", b"~"):
            return [self.read() for _ in range(int(rest))]
        if t == b"%":
            return {self.read()[1]: self.read() for _ in range(int(rest))}
        raise RuntimeError("unexpected reply %r" % line)


def read_raw(f):
    """One RESP3 frame as (type, payload), keeping every type marker."""
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t in (b"$", b"="):
        return (t, f.read(int(rest) + 2)[:-2])
    if t in (b"*", b"~"):
        return (t, [read_raw(f) for _ in range(int(rest))])
    if t == b"%":
        return (t, [read_raw(f) for _ in range(2 * int(rest))])
    return (t, rest)


def write_raw(frame, out):
    t, payload = frame
    if t in (b"$", b"="):
        out += t + b"%d\r\n" % len(payload) + payload + b"\r\n"
    elif t in (b"*", b"~", b"%"):
        n = len(payload) // 2 if t == b"%" else len(payload)
        out += t + b"%d\r\n" % n
        for item in payload:
            write_raw(item, out)
    else:
        out += t + payload + b"\r\n"


def docs_blob(redis, wanted):
    """COMMAND DOCS for the wanted commands, containers listing only the
    wanted subcommands."""
    redis.sock.sendall(b"*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n")
    _, pairs = read_raw(redis.f)
    entries = []
    for name, docs in zip(pairs[0::2], pairs[1::2]):
        if name[1].decode() not in wanted:
            continue
        fields = docs[1]
        for i in range(0, len(fields), 2):
            if fields[i][1] == b"subcommands":
                subs = fields[i + 1][1]
                # Sorted: redis-server's order is its dict's, seeded per
                # process, and the file should change only when Redis does.
                pairs_kept = sorted(
                    (subs[j], subs[j + 1]) for j in range(0, len(subs), 2) if subs[j][1].decode() in wanted
                )
                fields[i + 1] = (b"%", [f for pair in pairs_kept for f in pair])
        entries.append((name[1], name, docs))
    out = bytearray()
    for _, name, docs in sorted(entries):
        write_raw(name, out)
        write_raw(docs, out)
    return bytes(out)


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def strs(items):
    return "&[" + ", ".join(rust_str(i[1]) for i in items) + "]"


def begin(b):
    kind, spec = b["type"][1], b["spec"]
    if kind == "index":
        return "Begin::Index(%d)" % spec["index"]
    if kind == "keyword":
        return "Begin::Keyword(%s, %d)" % (rust_str(spec["keyword"][1]), spec["startfrom"])
    return "Begin::Unknown"


def find(f):
    kind, spec = f["type"][1], f["spec"]
    if kind == "range":
        return "Find::Range(%d, %d, %d)" % (spec["lastkey"], spec["keystep"], spec["limit"])
    if kind == "keynum":
        return "Find::Keynum(%d, %d, %d)" % (spec["keynumidx"], spec["firstkey"], spec["keystep"])
    return "Find::Unknown"


def key_spec(ks):
    notes = "Some(%s)" % rust_str(ks["notes"][1]) if "notes" in ks else "None"
    return "KeySpec { notes: %s, flags: %s, begin: %s, find: %s }" % (
        notes,
        strs(ks["flags"]),
        begin(ks["begin_search"]),
        find(ks["find_keys"]),
    )


def entry(info):
    name = info[0][1]
    specs = ", ".join(key_spec(ks) for ks in info[8])
    return "    Meta { name: %s, flags: %s, acl: %s, tips: %s, key_specs: &[%s] }," % (
        rust_str(name),
        strs(info[2]),
        strs(info[6]),
        strs(info[7]),
        specs,
    )


def main():
    redis, ours = Conn(int(sys.argv[1])), Conn(int(sys.argv[2]))
    redis.call("HELLO", "3")
    ours.call("HELLO", "3")
    wanted = set()
    for info in ours.call("COMMAND"):
        wanted.add(info[0][1])
        wanted.update(sub[0][1] for sub in info[9])
    version = redis.call("INFO", "server")[1].split("redis_version:")[1].split()[0]
    rows = []
    for info in redis.call("COMMAND"):
        for i in [info] + info[9]:
            if i[0][1] in wanted:
                rows.append(entry(i))
    rows.sort()
    here = os.path.dirname(os.path.abspath(__file__))
    cmd_dir = os.path.join(here, "..", "src", "cmd")
    with open(os.path.join(cmd_dir, "command_docs.resp"), "wb") as out:
        out.write(docs_blob(redis, wanted))
    sys.stdout = open(os.path.join(cmd_dir, "meta_table.rs"), "w")
    print("// @generated by crates/kv/tools/gen_command_meta.py from redis-server %s." % version)
    print("// Do not edit by hand: rerun the script against a redis-server 7.")
    print("//! Redis's COMMAND INFO metadata for the commands Spindle implements.")
    print()
    print("use super::meta::{Begin, Find, KeySpec, Meta};")
    print()
    print("/// One entry per command and subcommand, sorted by name.")
    print("#[rustfmt::skip]")
    print("pub(super) const TABLE: &[Meta] = &[")
    print("\n".join(rows))
    print("];")


main()
