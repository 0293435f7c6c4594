//! MIGRATE: moves keys to another server (Redis or spindle) as DUMP
//! payloads sent with RESTORE, then deletes them here.
//!
//! `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw |
//! AUTH2 user pw] [KEYS key ...]`. As in Redis, the transfer is
//! synchronous: the server thread connects, writes every RESTORE and reads
//! every reply itself, each step bounded by `timeout` milliseconds, and
//! serves nobody else meanwhile. That is the price of atomicity as MIGRATE
//! defines it: a key is deleted here only once the target has acknowledged
//! its RESTORE, so no client ever sees it on neither server (nor, without
//! COPY, on both after the reply).
//!
//! Connections are kept for reuse ([`Sockets`], Redis's
//! `migrate_cached_sockets`): a resharding tool moves thousands of keys to
//! the same target one MIGRATE at a time, and a connect per key would cost
//! more than the keys. A cached connection idle for 10 seconds is closed by
//! the cron; one that fails is closed and, if nothing was acknowledged on
//! it and the failure was not a timeout, the command is retried once on a
//! fresh connection, since a cached socket the target has closed is the
//! common case.
//!
//! Replies: `+OK`; `+NOKEY` when none of the keys exists; `-IOERR ...`
//! when the target cannot be reached, written to or read from; `-ERR
//! Target instance replied with error: ...` when it refused (keys it
//! accepted before the error are still deleted here). Without COPY, the
//! AOF logs the keys that moved as one `DEL`.

use super::{Command, Ctx, OwnedArgs, WRITE};
use crate::persist::{aof::encode_command, convert};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The command.
pub static COMMANDS: &[Command] = &[command!("generic", "migrate", -6, WRITE, 3, 3, 1, migrate)];

/// How long a cached connection may stay unused (Redis's
/// `MIGRATE_SOCKET_CACHE_TTL`).
const CACHE_TTL: Duration = Duration::from_secs(10);

/// Cached connections at most (Redis's `MIGRATE_SOCKET_CACHE_ITEMS`).
const CACHE_ITEMS: usize = 64;

/// A connection to a target, kept between MIGRATEs.
#[derive(Debug)]
struct Cached {
    stream: TcpStream,
    /// The database last selected on it (`None`: unknown, SELECT first).
    db: Option<i64>,
    last_use: Instant,
}

/// The cached connections, by `host:port` as the command named them.
#[derive(Debug, Default)]
pub struct Sockets {
    by_target: HashMap<Vec<u8>, Cached>,
}

impl Sockets {
    /// Closes the connections idle for longer than the cache's lifetime
    /// (from the cron).
    pub fn close_idle(&mut self) {
        self.by_target.retain(|_, c| c.last_use.elapsed() <= CACHE_TTL);
    }

    /// How many connections are cached.
    pub fn len(&self) -> usize {
        self.by_target.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_target.is_empty()
    }
}

/// MIGRATE's options.
struct Options {
    copy: bool,
    replace: bool,
    auth: Option<(Option<Vec<u8>>, Vec<u8>)>,
    keys: Vec<Vec<u8>>,
}

/// Parses the options after the fixed arguments; `None` after replying
/// with the error.
fn parse_options(ctx: &mut Ctx<'_>) -> Option<Options> {
    let argc = ctx.argc();
    let mut o = Options { copy: false, replace: false, auth: None, keys: vec![ctx.arg(3).to_vec()] };
    let mut j = 6;
    while j < argc {
        let more = argc - 1 - j;
        let a = ctx.arg(j).to_ascii_lowercase();
        match a.as_slice() {
            b"copy" => o.copy = true,
            b"replace" => o.replace = true,
            b"auth" if more >= 1 => {
                // The password stays out of the slow log and MONITOR.
                ctx.c.redacted.push(j + 1);
                o.auth = Some((None, ctx.arg(j + 1).to_vec()));
                j += 1;
            }
            b"auth2" if more >= 2 => {
                ctx.c.redacted.extend([j + 1, j + 2]);
                o.auth = Some((Some(ctx.arg(j + 1).to_vec()), ctx.arg(j + 2).to_vec()));
                j += 2;
            }
            b"keys" => {
                if !ctx.arg(3).is_empty() {
                    ctx.error(
                        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                    );
                    return None;
                }
                o.keys = (j + 1..argc).map(|i| ctx.arg(i).to_vec()).collect();
                break;
            }
            _ => {
                ctx.error(super::SYNTAX);
                return None;
            }
        }
        j += 1;
    }
    Some(o)
}

/// How an attempt failed at the socket level.
enum SocketError {
    Connect,
    Write(io::Error),
    Read(io::Error),
}

fn migrate(ctx: &mut Ctx<'_>) {
    let Some(opts) = parse_options(ctx) else { return };
    let Some(timeout) = ctx.int_arg(5) else { return };
    let Some(db) = ctx.int_arg(4) else { return };
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    // The keys that exist now (a read lookup each: expired ones go).
    let cur = ctx.c.db;
    let keys: Vec<Vec<u8>> =
        opts.keys.into_iter().filter(|k| super::typed::lookup_value(ctx.srv, cur, k).is_some()).collect();
    if keys.is_empty() {
        return ctx.reply().simple("NOKEY");
    }
    let target = [ctx.arg(1), b":", ctx.arg(2)].concat();
    let (host, port) =
        (String::from_utf8_lossy(ctx.arg(1)).into_owned(), String::from_utf8_lossy(ctx.arg(2)));
    let port: u16 = port.trim().parse().unwrap_or(0);
    let mut may_retry = true;
    loop {
        match attempt(ctx, &target, (&host, port), timeout, db, &opts.auth, opts.replace, opts.copy, &keys) {
            Ok(()) => return,
            Err((e, acknowledged)) => {
                ctx.srv.migrate_sockets.by_target.remove(&target);
                let timed_out = match &e {
                    SocketError::Connect => {
                        return ctx.error("IOERR error or timeout connecting to the client");
                    }
                    SocketError::Write(e) | SocketError::Read(e) => {
                        matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
                    }
                };
                if may_retry && !acknowledged && !timed_out {
                    may_retry = false;
                    continue;
                }
                let what = if matches!(e, SocketError::Write(_)) { "writing" } else { "reading" };
                return ctx.error(&format!("IOERR error or timeout {what} to target instance"));
            }
        }
    }
}

/// One try: sends everything, reads the replies, deletes what moved and
/// replies, or fails at the socket level (`true` with the error: the
/// target answered some RESTORE, so the command must not be retried).
#[allow(clippy::too_many_arguments)]
fn attempt(
    ctx: &mut Ctx<'_>,
    target: &[u8],
    (host, port): (&str, u16),
    timeout: Duration,
    db: i64,
    auth: &Option<(Option<Vec<u8>>, Vec<u8>)>,
    replace: bool,
    copy: bool,
    keys: &[Vec<u8>],
) -> Result<(), (SocketError, bool)> {
    let sockets = &mut ctx.srv.migrate_sockets.by_target;
    if !sockets.contains_key(target) {
        if sockets.len() >= CACHE_ITEMS {
            // Too many: drop one, as Redis drops one at random.
            let victim = sockets.keys().next().cloned();
            victim.map(|k| sockets.remove(&k));
        }
        let stream = connect(host, port, timeout).ok_or((SocketError::Connect, false))?;
        sockets.insert(target.to_vec(), Cached { stream, db: None, last_use: Instant::now() });
    }
    let cached = sockets.get_mut(target).expect("inserted above");
    cached.last_use = Instant::now();
    let select = cached.db != Some(db);

    // The request: [AUTH] [SELECT] RESTORE ... for each live key.
    let mut out = Vec::new();
    if let Some((user, pw)) = auth {
        let mut argv: Vec<&[u8]> = vec![b"AUTH"];
        argv.extend(user.as_deref());
        argv.push(pw);
        encode_command(&mut out, argv.into_iter());
    }
    if select {
        encode_command(&mut out, [&b"SELECT"[..], db.to_string().as_bytes()].into_iter());
    }
    let now = ctx.now_ms();
    let cur = ctx.c.db;
    let mut sent: Vec<&[u8]> = Vec::new();
    for key in keys {
        let deadline = ctx.srv.dbs[cur].expire_at(key);
        let ttl = if deadline == crate::db::NO_EXPIRE {
            0
        } else if deadline - now < 0 {
            continue; // expired since the lookup
        } else {
            (deadline - now).max(1)
        };
        let Some(entry) = ctx.srv.dbs[cur].keys.get(&key[..]) else { continue };
        let payload = convert::dump(&entry.value);
        let ttl = ttl.to_string();
        let mut argv: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), &payload];
        if replace {
            argv.push(b"REPLACE");
        }
        encode_command(&mut out, argv.into_iter());
        sent.push(key);
    }

    let cached = ctx.srv.migrate_sockets.by_target.get_mut(target).expect("cached above");
    let stream = &mut cached.stream;
    stream.set_write_timeout(Some(timeout)).map_err(|e| (SocketError::Write(e), false))?;
    stream.write_all(&out).map_err(|e| (SocketError::Write(e), false))?;
    // The first error the target sent: AUTH's or SELECT's fails every
    // RESTORE; a RESTORE's fails that key only.
    let mut target_error: Option<Vec<u8>> = None;
    let mut prelude_failed = false;
    let read = |stream: &mut TcpStream| read_line(stream, timeout);
    for asked in [auth.is_some(), select] {
        if asked {
            let line = read(stream).map_err(|e| (SocketError::Read(e), false))?;
            if line.first() == Some(&b'-') {
                prelude_failed = true;
                target_error.get_or_insert(line);
            }
        }
    }
    let mut moved: Vec<&[u8]> = Vec::new();
    let mut replies = 0;
    let mut socket_error = None;
    for key in &sent {
        let line = match read(stream) {
            Ok(l) => l,
            Err(e) => {
                socket_error = Some(e);
                break;
            }
        };
        replies += 1;
        if prelude_failed || line.first() == Some(&b'-') {
            target_error.get_or_insert(line);
        } else if !copy {
            moved.push(key);
        }
    }
    if target_error.is_some() {
        cached.db = None;
    }
    for key in &moved {
        let lazy = ctx.srv.config.lazyfree_lazy_server_del;
        if let Some(v) = ctx.db().remove(key) {
            super::keys::free_value(ctx.srv, v, lazy);
        }
        ctx.touched(key);
        ctx.notify(crate::server::notify::GENERIC, "del", key);
        ctx.dirty(1);
    }
    if !moved.is_empty() {
        // Logged as the DEL of what moved, not as MIGRATE (which replayed
        // later would move keys again).
        let argv = std::iter::once(&b"DEL"[..]).chain(moved.iter().copied());
        ctx.c.rewritten = Some(OwnedArgs::from_slices(argv));
    }
    if let Some(e) = socket_error {
        if target_error.is_none() {
            // Retried only if no RESTORE was answered.
            return Err((SocketError::Read(e), replies > 0));
        }
    }
    match target_error {
        Some(line) => {
            let text = String::from_utf8_lossy(&line[1..]).into_owned();
            ctx.error(&format!("ERR Target instance replied with error: {text}"));
        }
        None => {
            if let Some(c) = ctx.srv.migrate_sockets.by_target.get_mut(target) {
                c.db = Some(db);
            }
            ctx.ok();
        }
    }
    Ok(())
}

/// Connects to `host:port` within `timeout`, trying each address the name
/// resolves to.
fn connect(host: &str, port: u16, timeout: Duration) -> Option<TcpStream> {
    let addrs = (host, port).to_socket_addrs().ok()?;
    for addr in addrs {
        if let Ok(s) = TcpStream::connect_timeout(&addr, timeout) {
            let _ = s.set_nodelay(true);
            return Some(s);
        }
    }
    None
}

/// Reads one reply line (without CRLF) within `timeout`, a byte at a time
/// so that nothing past it is consumed (Redis's `syncReadLine`). A reply
/// other than a line (the target is not a Redis server) reads as its first
/// line, which does not start with `-` and so counts as accepted only if
/// the target sent one; that is Redis's behaviour too.
fn read_line(stream: &mut TcpStream, timeout: Duration) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut byte) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) if byte[0] == b'\n' => {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            Ok(_) if line.len() < 1024 => line.push(byte[0]),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
