//! Which commands reach the AOF, and in what form.
//!
//! A command is logged when its execution increased the server's dirty
//! counter. Most are logged as they came; those whose effect depends on
//! when or how they ran are rewritten, as Redis does, so that replaying
//! the file later gives the same data:
//!
//! - EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT → `PEXPIREAT key <abs ms>`;
//! - SETEX, PSETEX, and SET with EX/PX/EXAT/PXAT → `SET key value PXAT <abs ms>`;
//! - GETEX with EX/PX/EXAT/PXAT → `PEXPIREAT`, GETEX PERSIST → `PERSIST`;
//! - INCRBYFLOAT → `SET key <new value> KEEPTTL`;
//! - RESTORE with a relative TTL → `RESTORE key <abs ms> payload ... ABSTTL`;
//! - SPOP → `SREM key <the members it popped>` (read from its reply);
//! - any of these whose key is gone afterwards (a deadline in the past) →
//!   `DEL key`;
//! - a key found expired while a command ran → `DEL key`, before that
//!   command.
//!
//! The deadlines are read back from the key after the command ran, so the
//! translation never re-parses the command's options.

use super::aof::encode_command;
use crate::cmd::{Args, Command};
use crate::db::{Value, NO_EXPIRE};
use crate::server::client::Client;
use crate::server::Server;

/// The hook `cmd::call` runs after every command: drains the expired-key
/// log and logs the command if it changed the data.
pub fn after_command(
    srv: &mut Server,
    c: &Client,
    db: usize,
    args: Args<'_>,
    cmd: &Command,
    dirty_before: u64,
    out_before: usize,
) {
    // Keys this command found expired were drained (and logged as DEL,
    // ahead of the command itself) by `Server::drain_expired`.
    // A command that changed nothing is not logged, except FLUSHDB and
    // FLUSHALL (`force_log`, set only by them; the common path only reads
    // it).
    if srv.persist.force_log {
        srv.persist.force_log = false;
    } else if srv.dirty <= dirty_before {
        return;
    }
    // EXEC's commands were logged one by one as they ran (and EXEC wraps
    // them in MULTI ... EXEC itself); EXEC must not be logged again.
    if srv.persist.loading || !(srv.persist.aof.is_on() || srv.repl.wants_writes()) || cmd.name == "exec" {
        return;
    }
    let mut out = Vec::new();
    if let Some(r) = &c.rewritten {
        // The command chose its logged form (BLPOP as LPOP, LMPOP as LPOP
        // with a count).
        encode_command(&mut out, r.as_args().iter().collect::<Vec<_>>().into_iter());
    } else {
        let argv: Vec<&[u8]> = args.iter().collect();
        translate(srv, c, db, &argv, cmd.name, out_before, &mut out);
    }
    if !out.is_empty() {
        feed(srv, db, &out);
    }
}

/// Logs `DEL key` for a key that expired (lazily or in the active cycle)
/// or was evicted, so that replaying the AOF, and every replica, deletes
/// it too.
pub fn log_deletion(srv: &mut Server, db: usize, key: &[u8]) {
    if (srv.persist.aof.is_on() || srv.repl.wants_writes()) && !srv.persist.loading {
        let mut out = Vec::new();
        encode_command(&mut out, [&b"DEL"[..], key].into_iter());
        feed(srv, db, &out);
    }
}

/// Appends `cmd` to the AOF buffer (after a timestamp annotation when
/// they are on and due) and to the replication stream, each if in use.
fn feed(srv: &mut Server, db: usize, cmd: &[u8]) {
    if srv.persist.aof.is_on() {
        if srv.config.aof_timestamp_enabled {
            srv.persist.aof.annotate((srv.now_ms / 1000) as u64);
        }
        srv.persist.aof.log.feed(db, cmd);
    }
    if srv.repl.wants_writes() {
        srv.repl.stream.feed(db, cmd);
    }
}

fn has_expire_option(opts: &[&[u8]]) -> bool {
    opts.iter().any(|o| {
        o.eq_ignore_ascii_case(b"ex")
            || o.eq_ignore_ascii_case(b"px")
            || o.eq_ignore_ascii_case(b"exat")
            || o.eq_ignore_ascii_case(b"pxat")
    })
}

fn emit(out: &mut Vec<u8>, argv: &[&[u8]]) {
    encode_command(out, argv.iter().copied());
}

/// Appends the RESP of what `argv` (already run against `db`) is logged as.
fn translate(
    srv: &Server,
    c: &Client,
    db: usize,
    argv: &[&[u8]],
    name: &str,
    out_before: usize,
    out: &mut Vec<u8>,
) {
    let key = argv.get(1).copied().unwrap_or_default();
    // The key after the command, without expiring it.
    let entry = srv.dbs[db].keys.get(key);
    let deadline = entry.map(|_| srv.dbs[db].expire_at(key));
    match name {
        "expire" | "pexpire" | "expireat" | "pexpireat" => match deadline {
            Some(at) if at != NO_EXPIRE => emit(out, &[b"PEXPIREAT", key, at.to_string().as_bytes()]),
            Some(_) => emit(out, argv),
            None => emit(out, &[b"DEL", key]),
        },
        "setex" | "psetex" => match deadline {
            Some(at) if at != NO_EXPIRE => {
                emit(out, &[b"SET", key, argv[3], b"PXAT", at.to_string().as_bytes()])
            }
            _ => emit(out, argv),
        },
        "set" if has_expire_option(&argv[3..]) => match deadline {
            Some(at) if at != NO_EXPIRE => {
                emit(out, &[b"SET", key, argv[2], b"PXAT", at.to_string().as_bytes()])
            }
            Some(_) => emit(out, argv),
            None => emit(out, &[b"DEL", key]),
        },
        // As Redis 7: GETSET goes as SET, and SET's GET option is dropped
        // (the reply is the client's business, not the data's).
        "getset" => emit(out, &[b"SET", key, argv[2]]),
        "set" if argv[3..].iter().any(|a| a.eq_ignore_ascii_case(b"get")) => {
            let kept: Vec<&[u8]> = argv
                .iter()
                .enumerate()
                .filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"get"))
                .map(|(_, a)| *a)
                .collect();
            emit(out, &kept)
        }
        "getex" => match deadline {
            None => emit(out, &[b"DEL", key]),
            Some(at) if has_expire_option(&argv[2..]) && at != NO_EXPIRE => {
                emit(out, &[b"PEXPIREAT", key, at.to_string().as_bytes()])
            }
            Some(_) => emit(out, &[b"PERSIST", key]),
        },
        "incrbyfloat" => match entry.map(|e| &e.value) {
            Some(Value::Str(s)) => emit(out, &[b"SET", key, &s.to_vec(), b"KEEPTTL"]),
            _ => emit(out, argv),
        },
        "restore" => match deadline {
            None => emit(out, &[b"DEL", key]),
            // As Redis: a TTL of 0, or one already absolute, goes as sent.
            Some(at) if at == NO_EXPIRE || argv[4..].iter().any(|a| a.eq_ignore_ascii_case(b"absttl")) => {
                emit(out, argv)
            }
            Some(at) => {
                let ttl = at.to_string();
                let mut v: Vec<&[u8]> = vec![argv[0], key, ttl.as_bytes(), argv[3]];
                v.extend(&argv[4..]);
                v.push(b"ABSTTL");
                emit(out, &v);
            }
        },
        "spop" => {
            let members = reply_strings(&c.out[out_before.min(c.out.len())..]);
            if !members.is_empty() {
                let mut v: Vec<&[u8]> = vec![b"SREM", key];
                v.extend(members.iter().map(Vec::as_slice));
                emit(out, &v);
            }
        }
        _ => emit(out, argv),
    }
}

/// The bulk strings of a reply: one bulk, or an array or set of bulks.
fn reply_strings(r: &[u8]) -> Vec<Vec<u8>> {
    fn line(r: &[u8], at: usize) -> Option<(&[u8], usize)> {
        let end = at + r.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        Some((&r[at..end], end + 2))
    }
    fn bulk(r: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
        let (head, next) = line(r, at)?;
        let n: usize = std::str::from_utf8(head.strip_prefix(b"$")?).ok()?.parse().ok()?;
        Some((r.get(next..next + n)?.to_vec(), next + n + 2))
    }
    let mut out = Vec::new();
    match r.first() {
        Some(b'$') => out.extend(bulk(r, 0).map(|(b, _)| b)),
        Some(b'*' | b'~') => {
            let Some((head, mut at)) = line(r, 0) else { return out };
            let n: usize = std::str::from_utf8(&head[1..]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
            for _ in 0..n {
                let Some((b, next)) = bulk(r, at) else { break };
                out.push(b);
                at = next;
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::reply_strings;

    #[test]
    fn reply_strings_reads_bulks_arrays_and_sets() {
        assert_eq!(reply_strings(b"$3\r\nabc\r\n"), vec![b"abc".to_vec()]);
        assert_eq!(reply_strings(b"*2\r\n$1\r\na\r\n$2\r\nbc\r\n"), vec![b"a".to_vec(), b"bc".to_vec()]);
        assert_eq!(reply_strings(b"~1\r\n$1\r\nz\r\n"), vec![b"z".to_vec()]);
        assert!(reply_strings(b"$-1\r\n").is_empty());
        assert!(reply_strings(b"*0\r\n").is_empty());
    }
}
