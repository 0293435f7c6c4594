//! Keyspace commands: DEL, EXISTS, TYPE, DBSIZE, FLUSHDB, FLUSHALL.

use super::{Command, Ctx, FAST, NO_KEYS, READONLY, WRITE};

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $first:expr, $last:expr, $h:expr) => {
        Command {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            step: ($first != 0) as i32,
            group: "generic",
            handler: $h,
        }
    };
}

/// The keyspace commands.
pub static COMMANDS: &[Command] = &[
    cmd!("del", -2, WRITE, 1, -1, del),
    cmd!("exists", -2, READONLY | FAST, 1, -1, exists),
    cmd!("type", 2, READONLY | FAST, 1, 1, type_),
    cmd!("dbsize", 1, READONLY | FAST | NO_KEYS, 0, 0, dbsize),
    cmd!("flushdb", -1, WRITE | NO_KEYS, 0, 0, flushdb),
    cmd!("flushall", -1, WRITE | NO_KEYS, 0, 0, flushall),
];

fn del(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms();
    let mut n = 0;
    for i in 1..ctx.argc() {
        let k = ctx.arg(i);
        let db = ctx.db();
        if db.contains(k, now) && db.remove(k).is_some() {
            n += 1;
            ctx.touched(k);
        }
    }
    ctx.dirty(n);
    ctx.reply().int(n as i64);
}

fn exists(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms();
    let n = (1..ctx.argc()).filter(|&i| ctx.srv.dbs[ctx.c.db].contains(ctx.args.get(i), now)).count();
    ctx.reply().int(n as i64);
}

fn type_(ctx: &mut Ctx<'_>) {
    let k = ctx.arg(1);
    let t = ctx.lookup(k).map_or("none", |e| e.value.type_name());
    ctx.reply().simple(t);
}

fn dbsize(ctx: &mut Ctx<'_>) {
    let n = ctx.db().len();
    ctx.reply().int(n as i64);
}

fn flushdb(ctx: &mut Ctx<'_>) {
    let n = ctx.db().len();
    ctx.srv.touched_db(ctx.c.db);
    drop(ctx.db().take_all());
    ctx.dirty(n as u64);
    ctx.ok();
}

fn flushall(ctx: &mut Ctx<'_>) {
    let mut n = 0;
    (0..ctx.srv.dbs.len()).for_each(|db| ctx.srv.touched_db(db));
    for db in &mut ctx.srv.dbs {
        n += db.len();
        drop(db.take_all());
    }
    ctx.dirty(n as u64);
    ctx.ok();
}
