//! RENAME, RENAMENX, MOVE and COPY: a value changing name or database,
//! its deadline going with it.

use super::super::{Ctx, SYNTAX};
use super::{db_index, free_value, int32_arg, read_entry, DB_OUT_OF_RANGE};
use crate::db::Entry;

/// Redis's `shared.sameobjecterr`.
const SAME_OBJECT: &str = "ERR source and destination objects are the same";

pub(super) fn rename(ctx: &mut Ctx<'_>) {
    rename_generic(ctx, false);
}

pub(super) fn renamenx(ctx: &mut Ctx<'_>) {
    rename_generic(ctx, true);
}

/// Redis's `renameGenericCommand`.
fn rename_generic(ctx: &mut Ctx<'_>, nx: bool) {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let now = ctx.now_ms();
    if ctx.db().get(src, now).is_none() {
        return ctx.error("ERR no such key");
    }
    if src == dst {
        return if nx { ctx.reply().int(0) } else { ctx.ok() };
    }
    if ctx.db().get(dst, now).is_some() {
        if nx {
            return ctx.reply().int(0);
        }
        let old = ctx.db().remove(dst).expect("looked up above");
        let lazy = ctx.srv.config.lazyfree_lazy_server_del;
        free_value(ctx.srv, old, lazy);
    }
    let (entry, at) = ctx.db().take(src).expect("looked up above");
    ctx.db().put(dst, entry, at);
    ctx.touched(src);
    ctx.touched(dst);
    ctx.notify(crate::server::notify::GENERIC, "rename_from", src);
    ctx.notify(crate::server::notify::GENERIC, "rename_to", dst);
    ctx.dirty(1);
    if nx {
        ctx.reply().int(1);
    } else {
        ctx.ok();
    }
}

/// MOVE key db: 1 if moved, 0 if the key is missing here or present there.
pub(super) fn move_(ctx: &mut Ctx<'_>) {
    let Some(id) = int32_arg(ctx, 2, None) else { return };
    let Some(dst) = db_index(ctx.srv, id) else { return ctx.error(DB_OUT_OF_RANGE) };
    let src = ctx.c.db;
    if src == dst {
        return ctx.error(SAME_OBJECT);
    }
    let key = ctx.arg(1);
    let now = ctx.now_ms();
    if ctx.srv.dbs[src].get(key, now).is_none() || ctx.srv.dbs[dst].get(key, now).is_some() {
        return ctx.reply().int(0);
    }
    let (entry, at) = ctx.srv.dbs[src].take(key).expect("looked up above");
    ctx.srv.dbs[dst].put(key, entry, at);
    ctx.srv.touched_key(src, key);
    ctx.srv.touched_key(dst, key);
    ctx.notify_db(crate::server::notify::GENERIC, "move_from", key, src);
    ctx.notify_db(crate::server::notify::GENERIC, "move_to", key, dst);
    ctx.dirty(1);
    ctx.reply().int(1);
}

/// COPY source destination [DB destination-db] [REPLACE].
pub(super) fn copy(ctx: &mut Ctx<'_>) {
    let src_db = ctx.c.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < ctx.argc() {
        let opt = ctx.arg(i);
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"db") && i + 1 < ctx.argc() {
            let Some(id) = int32_arg(ctx, i + 1, None) else { return };
            let Some(d) = db_index(ctx.srv, id) else { return ctx.error(DB_OUT_OF_RANGE) };
            dst_db = d;
            i += 1;
        } else {
            return ctx.error(SYNTAX);
        }
        i += 1;
    }
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    if src_db == dst_db && src == dst {
        return ctx.error(SAME_OBJECT);
    }
    if read_entry(ctx.srv, src_db, src, false).is_none() {
        return ctx.reply().int(0);
    }
    let expire_at = ctx.srv.dbs[src_db].expire_at(src);
    let now = ctx.now_ms();
    if ctx.srv.dbs[dst_db].get(dst, now).is_some() {
        if !replace {
            return ctx.reply().int(0);
        }
        let old = ctx.srv.dbs[dst_db].remove(dst).expect("looked up above");
        let lazy = ctx.srv.config.lazyfree_lazy_server_del;
        free_value(ctx.srv, old, lazy);
    }
    let value = ctx.srv.dbs[src_db].keys.get(src).expect("looked up above").value.deep_clone();
    let lru = ctx.srv.lru_clock;
    ctx.srv.dbs[dst_db].put(dst, Entry::new(value, lru), expire_at);
    ctx.srv.touched_key(dst_db, dst);
    ctx.notify_db(crate::server::notify::GENERIC, "copy_to", dst, dst_db);
    ctx.dirty(1);
    ctx.reply().int(1);
}
