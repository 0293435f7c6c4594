//! Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, DUMP,
//! RESTORE, and [`debug_reload`] and [`debug_loadaof`] for DEBUG RELOAD
//! and DEBUG LOADAOF.

use super::{Command, Ctx, ADMIN, DENYOOM, FAST, NO_KEYS, NO_MULTI, READONLY, WRITE};
use crate::db::{Entry, NO_EXPIRE};
use crate::persist::{aof_load, aof_rewrite, convert, snapshot, ChildKind};
use crate::rdb::parse_dump_payload;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $group:expr, $h:expr) => {
        command!($group, $name, $arity, $flags, $first, $last, ($first != 0) as i32, $h)
    };
}

/// The persistence commands.
pub static COMMANDS: &[Command] = &[
    cmd!("save", 1, ADMIN | NO_KEYS | NO_MULTI, 0, 0, "server", save),
    cmd!("bgsave", -1, ADMIN | NO_KEYS, 0, 0, "server", bgsave),
    cmd!("bgrewriteaof", 1, ADMIN | NO_KEYS, 0, 0, "server", bgrewriteaof),
    cmd!("lastsave", 1, FAST | NO_KEYS, 0, 0, "server", lastsave),
    cmd!("dump", 2, READONLY, 1, 1, "generic", dump),
    cmd!("restore", -4, WRITE | DENYOOM, 1, 1, "generic", restore),
    cmd!("sync", 1, ADMIN | NO_KEYS | NO_MULTI, 0, 0, "server", sync),
    cmd!("psync", -3, ADMIN | NO_KEYS | NO_MULTI, 0, 0, "server", psync),
    cmd!("replconf", -1, ADMIN | NO_KEYS, 0, 0, "server", replconf),
    cmd!("replicaof", 3, ADMIN | NO_KEYS, 0, 0, "server", replicaof),
    cmd!("slaveof", 3, ADMIN | NO_KEYS, 0, 0, "server", replicaof),
    cmd!("failover", -1, ADMIN | NO_KEYS, 0, 0, "server", failover),
];

fn child_kind(ctx: &Ctx<'_>) -> Option<ChildKind> {
    ctx.srv.persist.child.as_ref().map(|c| c.kind)
}

fn save(ctx: &mut Ctx<'_>) {
    if child_kind(ctx) == Some(ChildKind::Rdb) {
        return ctx.error("ERR Background save already in progress");
    }
    ctx.srv.stats.rdb_saves += 1;
    match snapshot::save(ctx.srv) {
        Ok(()) => ctx.ok(),
        Err(_) => ctx.error("ERR"),
    }
}

fn bgsave(ctx: &mut Ctx<'_>) {
    let schedule = match ctx.argc() {
        1 => false,
        2 if ctx.arg(1).eq_ignore_ascii_case(b"schedule") => true,
        _ => return ctx.error(super::SYNTAX),
    };
    match child_kind(ctx) {
        Some(ChildKind::Rdb) => ctx.error("ERR Background save already in progress"),
        Some(_) if schedule => {
            ctx.srv.persist.bgsave_scheduled = true;
            ctx.reply().simple("Background saving scheduled");
        }
        Some(_) => ctx.error(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. \
             Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        ),
        None => match snapshot::bgsave(ctx.srv) {
            Ok(()) => {
                crate::dict::set_resize_avoided(true);
                ctx.reply().simple("Background saving started")
            }
            Err(_) => ctx.error("ERR"),
        },
    }
}

fn bgrewriteaof(ctx: &mut Ctx<'_>) {
    match child_kind(ctx) {
        Some(ChildKind::AofRewrite) => ctx.error("ERR Background append only file rewriting already in progress"),
        Some(_) => schedule_rewrite(ctx),
        None if ctx.srv.persist.in_exec => schedule_rewrite(ctx),
        None => match aof_rewrite::bgrewrite(ctx.srv) {
            Ok(()) => {
                crate::dict::set_resize_avoided(true);
                ctx.reply().simple("Background append only file rewriting started")
            }
            Err(_) => ctx.error(
                "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
            ),
        },
    }
}

/// BGREWRITEAOF while another child runs or inside EXEC: the cron starts
/// it when it can, and a manual request is not held back by the back-off
/// after failed rewrites (Redis resets the failure count here).
fn schedule_rewrite(ctx: &mut Ctx<'_>) {
    ctx.srv.persist.aof_rewrite_scheduled = true;
    ctx.srv.stats.aof_rewrite_failures = 0;
    ctx.reply().simple("Background append only file rewriting scheduled");
}

fn lastsave(ctx: &mut Ctx<'_>) {
    let t = ctx.srv.rdb_last_save_time;
    ctx.reply().int(t);
}

fn dump(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    // lookupKeyRead: a hit or miss counted, a miss announced (`keymiss`).
    let db = ctx.c.db;
    let payload = super::typed::lookup_value(ctx.srv, db, key).map(|v| convert::dump(v));
    match payload {
        Some(p) => ctx.reply().bulk(&p),
        None => ctx.reply().null(),
    }
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], with
/// Redis's checks in Redis's order.
fn restore(ctx: &mut Ctx<'_>) {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq) = (-1i64, -1i64);
    let mut j = 4;
    while j < ctx.argc() {
        let a = ctx.arg(j);
        let more = ctx.argc() - j - 1;
        if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if a.eq_ignore_ascii_case(b"absttl") {
            absttl = true;
        } else if a.eq_ignore_ascii_case(b"idletime") && more >= 1 && freq == -1 {
            let Some(v) = ctx.int_arg(j + 1) else { return };
            if v < 0 {
                return ctx.error("ERR Invalid IDLETIME value, must be >= 0");
            }
            idle = v;
            j += 1;
        } else if a.eq_ignore_ascii_case(b"freq") && more >= 1 && idle == -1 {
            let Some(v) = ctx.int_arg(j + 1) else { return };
            if !(0..=255).contains(&v) {
                return ctx.error("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            freq = v;
            j += 1;
        } else {
            return ctx.error(super::SYNTAX);
        }
        j += 1;
    }
    let key = ctx.arg(1);
    if !replace && ctx.lookup(key).is_some() {
        return ctx.error("BUSYKEY Target key name already exists.");
    }
    let Some(mut ttl) = ctx.int_arg(2) else { return };
    if ttl < 0 {
        return ctx.error("ERR Invalid TTL value, must be >= 0");
    }
    let checksum = !ctx.srv.skip_checksum_validation;
    let parsed =
        parse_dump_payload(ctx.arg(3), checksum).map_err(|e| (e.is_version_or_checksum(), e.to_string()));
    let value = match parsed.and_then(|v| {
        if convert::is_empty_aggregate(&v) {
            return Err((false, "empty keys are not allowed".to_string()));
        }
        convert::from_rdb(v, &ctx.srv.config.encoding).map_err(|why| (false, why.to_string()))
    }) {
        Ok(v) => v,
        Err((true, _)) => return ctx.error("ERR DUMP payload version or checksum are wrong"),
        Err((false, why)) => {
            // As Redis's rdbReportCorruptRDB, the reason goes to the log.
            tracing::warn!("Internal error in RDB reading a RESTORE payload -> {why}");
            return ctx.error("ERR Bad data format");
        }
    };
    let deleted = replace && ctx.db().remove(key).is_some();
    if ttl > 0 && !absttl {
        ttl = ttl.saturating_add(ctx.now_ms());
    }
    if ttl > 0 && ctx.srv.already_expired(ttl) {
        if deleted {
            ctx.touched(key);
            ctx.notify(crate::server::notify::GENERIC, "del", key);
            ctx.dirty(1);
        }
        return ctx.ok();
    }
    let clock = ctx.srv.lru_clock;
    let lru = if idle > 0 { crate::server::evict::lru_before(clock, idle as u64) } else { clock };
    let mut e = Entry::new(value, lru);
    // FREQ sets the LFU counter, as Redis's objectSetLRUOrLFU does under an
    // LFU policy (IDLETIME is for the LRU clock).
    if freq >= 0 && ctx.srv.config.maxmemory_policy.is_lfu() {
        e.lfu_counter = freq as u8;
    }
    ctx.db().put(key, e, if ttl > 0 { ttl } else { NO_EXPIRE });
    ctx.touched(key);
    ctx.notify(crate::server::notify::GENERIC, "restore", key);
    ctx.dirty(1);
    ctx.ok();
}

/// DEBUG RELOAD: saves the snapshot, empties the databases, and loads it
/// back. For the DEBUG command's owner to call.
pub fn debug_reload(ctx: &mut Ctx<'_>) {
    if snapshot::save(ctx.srv).is_err() {
        return ctx.error("ERR");
    }
    for db in &mut ctx.srv.dbs {
        drop(db.take_all());
    }
    let path = snapshot::rdb_path(ctx.srv);
    match snapshot::load_rdb(ctx.srv, &path) {
        Ok(_) => {
            // The reload itself changed nothing.
            ctx.srv.dirty = 0;
            ctx.ok()
        }
        Err(e) => {
            tracing::error!(error = %e, "DEBUG RELOAD failed to load the dump");
            ctx.error("ERR Error trying to load the RDB dump, check server logs.")
        }
    }
}

/// DEBUG LOADAOF: writes out the AOF buffer, empties the databases and
/// loads the AOF back from its files (manifest first), as Redis's does; a
/// quick check that the AOF alone holds the dataset. With AOF off, the
/// files left from when it was on (or written by BGREWRITEAOF) load.
/// Refused when there is no manifest (Redis then exits). A failed load is
/// logged and answered with an error; what loaded before it stays.
pub fn debug_loadaof(ctx: &mut Ctx<'_>) {
    let folder = crate::persist::aof::folder(ctx.srv);
    let manifest = crate::persist::manifest::manifest_name(&ctx.srv.config.appendfilename);
    if !folder.join(manifest).is_file() {
        return ctx.error("ERR there is no AOF to load");
    }
    let policy = ctx.srv.config.appendfsync;
    ctx.srv.persist.aof.flush(policy);
    for db in &mut ctx.srv.dbs {
        drop(db.take_all());
    }
    match aof_load::load_at_start(ctx.srv) {
        Ok(_) => {
            aof_rewrite::delete_history(ctx.srv);
            ctx.srv.dirty = 0;
            tracing::warn!("append only file loaded by DEBUG LOADAOF");
            ctx.ok()
        }
        Err(e) => {
            tracing::error!(error = %e, "DEBUG LOADAOF failed to load the AOF");
            ctx.error("ERR Error trying to load the AOF, check server logs.")
        }
    }
}

/// SYNC: the dataset as an RDB payload (`$<length>\r\n` and the file), as
/// a master sends it to a replica at a full sync, then the command stream
/// (see `start_sync`). `redis-cli --rdb backup.rdb` takes a backup of a
/// running server this way (it says `REPLCONF rdb-only 1` first, and the
/// connection closes after the payload).
///
/// The payload is a BGSAVE's snapshot taken after the SYNC arrived: one
/// starts at once if no child runs, else the SYNC waits for the child to
/// end and then for a new BGSAVE (see [`crate::persist::sync`]).
fn sync(ctx: &mut Ctx<'_>) {
    start_sync(ctx, false);
}

/// SYNC and PSYNC: the client waits for a snapshot that starts after this
/// command, then (unless it said `REPLCONF rdb-only 1`) stays as a replica
/// and gets every write (see `persist::repl`). A PSYNC that can continue
/// from the backlog skips the snapshot: `+CONTINUE` and the missing
/// stream.
fn start_sync(ctx: &mut Ctx<'_>, psync: bool) {
    let (slot, id) = (ctx.c.slot, ctx.c.id);
    if ctx.srv.repl.is_replica(id) {
        // Redis ignores a second SYNC on the same connection.
        return;
    }
    if psync && ctx.argc() > 3 && ctx.arg(3).eq_ignore_ascii_case(b"failover") {
        // Its master hands over its role (`FAILOVER`): this server is
        // promoted first, then continues the history for it.
        tracing::warn!("Failover request received for replid {}.", String::from_utf8_lossy(ctx.arg(1)));
        if ctx.srv.master.is_none() {
            return ctx.error("ERR PSYNC FAILOVER can't be sent to a master.");
        }
        if ctx.arg(1) != ctx.srv.replid.as_bytes() {
            return ctx.error("ERR PSYNC FAILOVER replid must match my replid.");
        }
        crate::persist::replica::unfollow(ctx.srv);
        ctx.srv.config.inert.remove("replicaof");
        tracing::info!("MASTER MODE enabled (failover request from '{}')", ctx.c.addr);
    }
    if ctx.srv.repl.failover.is_some() {
        return ctx.error("NOMASTERLINK Can't SYNC while failing over");
    }
    if ctx.srv.master.as_ref().is_some_and(|m| !m.is_up()) {
        // A replica between masters has no stream to offer yet.
        return ctx.error("NOMASTERLINK Can't SYNC while not connected with my master");
    }
    if psync && crate::util::num::parse_i64(ctx.arg(2)).is_none() {
        tracing::warn!("Replica {} asks for synchronization but with a wrong offset", ctx.c.addr);
        return ctx.error(super::NOT_INTEGER);
    }
    if ctx.srv.repl.handshake_of(id).exclude_data {
        return keyless_snapshot(ctx, psync);
    }
    if psync {
        let continued =
            crate::persist::repl::try_partial(ctx.srv, slot, id, ctx.args.get(1), ctx.args.get(2));
        if let Some(bytes) = continued {
            ctx.reply().raw(&bytes);
            ctx.c.replica = true;
            return;
        }
    }
    crate::persist::sync::wait_for_snapshot(ctx.srv, slot, id, psync);
    // The snapshot started now, with this client's own command running:
    // its `+FULLRESYNC` comes from here. Otherwise it comes (or came)
    // when its snapshot starts, and the file when it is written.
    if let Some(line) = ctx.srv.repl.take_unsent(id) {
        ctx.reply().raw(line.as_bytes());
    }
    if ctx.srv.repl.is_replica(id) {
        ctx.c.replica = true;
    }
}

/// A SYNC or PSYNC after `REPLCONF rdb-filter-only`: an RDB without
/// keys, which is all of it here (there are no functions), written at
/// once into the reply. `redis-cli --functions-rdb` (which also said
/// `rdb-only`) is then closed; `redis-cli --replica` (filter "") stays
/// as a replica and gets the command stream from the snapshot's offset.
fn keyless_snapshot(ctx: &mut Ctx<'_>, psync: bool) {
    use crate::persist::repl;
    let (slot, id) = (ctx.c.slot, ctx.c.id);
    repl::attach(ctx.srv, &[(slot, id, psync)]);
    if let Some(line) = ctx.srv.repl.take_unsent(id) {
        ctx.reply().raw(line.as_bytes());
    }
    let info = crate::persist::rdb_repl::to_save(ctx.srv);
    let compress = ctx.srv.config.rdbcompression;
    let rdb = match crate::persist::snapshot::write_rdb(
        &[],
        Vec::new(),
        compress,
        false,
        info.as_ref(),
        &mut || {},
    ) {
        Ok(rdb) => rdb,
        Err(e) => {
            repl::snapshot_failed(ctx.srv, id);
            ctx.c.close_after_reply = true;
            return ctx.error(&format!("ERR can't write the snapshot for SYNC: {e}"));
        }
    };
    let header = format!("${}\r\n", rdb.len());
    ctx.reply().raw(header.as_bytes());
    ctx.reply().raw(&rdb);
    match repl::snapshot_sent(ctx.srv, slot, id) {
        Some(stream) => {
            ctx.reply().raw(&stream);
            ctx.c.replica = true;
        }
        None => ctx.c.close_after_reply = true,
    }
}

/// REPLICAOF host port | NO ONE (and its old name SLAVEOF): follow a
/// master, or stop following (see `persist::replica`). The link is made
/// by the cron; the reply does not wait for it.
fn replicaof(ctx: &mut Ctx<'_>) {
    if ctx.c.replica {
        return ctx.error("ERR Command is not valid when client is a replica.");
    }
    if ctx.srv.repl.failover.is_some() {
        return ctx.error("ERR REPLICAOF not allowed while failing over.");
    }
    let host = String::from_utf8_lossy(ctx.arg(1)).into_owned();
    if host.eq_ignore_ascii_case("no") && ctx.arg(2).eq_ignore_ascii_case(b"one") {
        crate::persist::replica::unfollow(ctx.srv);
        ctx.srv.config.inert.remove("replicaof");
        return ctx.ok();
    }
    let Some(port) = crate::util::num::parse_i64(ctx.arg(2)).filter(|p| (0..=65535).contains(p)) else {
        return ctx.error("ERR Invalid master port");
    };
    if !crate::persist::replica::follow(ctx.srv, &host, port as u16) {
        return ctx.reply().simple("OK Already connected to specified master");
    }
    ctx.srv.config.inert.insert("replicaof", format!("{host} {port}"));
    // This server's own replicas had another history: they resync.
    crate::persist::repl::disconnect_all(ctx.srv);
    ctx.ok()
}

/// FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | ABORT: hands this
/// master's role to a caught-up replica (see `persist::failover`).
fn failover(ctx: &mut Ctx<'_>) {
    use crate::persist::failover;
    if ctx.argc() == 2 && ctx.arg(1).eq_ignore_ascii_case(b"abort") {
        if ctx.srv.repl.failover.is_none() {
            return ctx.error("ERR No failover in progress.");
        }
        failover::abort(ctx.srv, "Failover manually aborted");
        return ctx.ok();
    }
    let (mut timeout, mut force, mut target) = (0i64, false, None);
    let mut j = 1;
    while j < ctx.argc() {
        let opt = ctx.arg(j);
        if opt.eq_ignore_ascii_case(b"timeout") && j + 1 < ctx.argc() && timeout == 0 {
            let Some(t) = ctx.int_arg(j + 1) else { return };
            if t <= 0 {
                return ctx.error("ERR FAILOVER timeout must be greater than 0");
            }
            timeout = t;
            j += 2;
        } else if opt.eq_ignore_ascii_case(b"to") && j + 2 < ctx.argc() && target.is_none() {
            let Some(port) = ctx.int_arg(j + 2) else { return };
            let host = String::from_utf8_lossy(ctx.arg(j + 1)).into_owned();
            target = Some((host, u16::try_from(port).unwrap_or(0)));
            j += 3;
        } else if opt.eq_ignore_ascii_case(b"force") && !force {
            force = true;
            j += 1;
        } else {
            return ctx.error(super::SYNTAX);
        }
    }
    match failover::start(ctx.srv, target, timeout, force) {
        Ok(()) => ctx.ok(),
        Err(e) => ctx.error(e),
    }
}

/// PSYNC replid offset: a partial resync from the backlog if the replica
/// follows this server's history and the backlog still holds `offset`,
/// else a full resync.
fn psync(ctx: &mut Ctx<'_>) {
    start_sync(ctx, true);
}

/// REPLCONF option value ...: what a replica (or `redis-cli --rdb`) says
/// before SYNC (`listening-port`, `ip-address`, `capa`, `rdb-only`,
/// `rdb-filter-only`) and, once attached, `ACK <offset>` each second,
/// which gets no reply: it would land in the replica's stream. `GETACK`
/// is for a master to send.
fn replconf(ctx: &mut Ctx<'_>) {
    if ctx.argc() % 2 == 0 {
        return ctx.error(super::SYNTAX);
    }
    let id = ctx.c.id;
    for i in (1..ctx.argc()).step_by(2) {
        let opt = ctx.arg(i).to_ascii_lowercase();
        let val = ctx.arg(i + 1);
        match opt.as_slice() {
            b"getack" if ctx.c.master => {
                // The master asks where the stream got to: the answer is a
                // command sent back to it, which a dropped reply is not.
                let off = ctx.srv.master.as_ref().map_or(0, |m| m.offset).to_string();
                let start = ctx.c.out.len();
                let msg = format!("*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n${}\r\n{off}\r\n", off.len());
                ctx.c.out.extend_from_slice(msg.as_bytes());
                ctx.c.mark_push(start);
                return;
            }
            b"ack" => {
                let offset = crate::util::num::parse_i64(val).unwrap_or(0).max(0) as u64;
                let now = ctx.now_ms();
                ctx.srv.repl.ack(id, offset, now);
                return;
            }
            b"listening-port" => {
                let Some(port) = crate::util::num::parse_i64(val).filter(|p| (0..=65535).contains(p)) else {
                    return ctx.error(super::NOT_INTEGER);
                };
                ctx.srv.repl.handshake(id).listening_port = port as u16;
            }
            b"rdb-only" => match val {
                b"0" | b"1" => ctx.srv.repl.handshake(id).rdb_only = val == b"1",
                _ => return ctx.error(super::SYNTAX),
            },
            b"rdb-filter-only" => {
                // Redis's include list: "" keeps nothing, `functions` the
                // functions; the keys go either way.
                let filters = String::from_utf8_lossy(val).into_owned();
                if let Some(f) =
                    filters.split_ascii_whitespace().find(|f| !f.eq_ignore_ascii_case("functions"))
                {
                    return ctx.error(&format!("ERR Unsupported rdb-filter-only option: {f}"));
                }
                ctx.srv.repl.handshake(id).exclude_data = true;
            }
            b"capa" if val.eq_ignore_ascii_case(b"psync2") => ctx.srv.repl.handshake(id).psync2 = true,
            b"ip-address" | b"capa" | b"getack" => {}
            _ => {
                let o = String::from_utf8_lossy(ctx.arg(i)).into_owned();
                return ctx.error(&format!("ERR Unrecognized REPLCONF option: {o}"));
            }
        }
    }
    ctx.ok()
}
