//! `DEBUG HTSTATS` and `DEBUG HTSTATS-KEY`: the hash tables' bucket and
//! chain figures, in Redis 7.0's text (see [`crate::dict::Dict::stats`]).
//!
//! The keyspace, the expires table, and hashes, sets and sorted sets in
//! their table encodings are all [`crate::dict::Dict`]s, chained tables
//! built as Redis's `dict`, so every figure is measured, not made up. Redis
//! 7.2's trailing `full` argument is taken too; 7.0's report is always the
//! full one, and so is this.

use super::Ctx;

/// Whether the optional argument at `i` (Redis 7.2's `full`) is absent or
/// `full`; replies with DEBUG's syntax error otherwise.
fn full_arg_ok(ctx: &mut Ctx<'_>, i: usize) -> bool {
    if ctx.argc() > i && !ctx.arg(i).eq_ignore_ascii_case(b"full") {
        ctx.error(super::SYNTAX);
        return false;
    }
    true
}

/// DEBUG HTSTATS dbid [full]: the keyspace and expires tables of one
/// database, each under its own heading.
pub(crate) fn htstats(ctx: &mut Ctx<'_>) {
    let Some(id) = ctx.int_arg(2) else { return };
    if !full_arg_ok(ctx, 3) {
        return;
    }
    let Some(db) = usize::try_from(id).ok().and_then(|i| ctx.srv.dbs.get(i)) else {
        return ctx.error("ERR Out of range database");
    };
    let text = format!("[Dictionary HT]\n{}[Expires HT]\n{}", db.keys.stats(), db.volatile.stats());
    ctx.reply().verbatim(text.as_bytes());
}

/// DEBUG HTSTATS-KEY key [full]: the hash table of a hash, set or sorted
/// set value, when it has one.
pub(crate) fn htstats_key(ctx: &mut Ctx<'_>) {
    if !full_arg_ok(ctx, 3) {
        return;
    }
    let now = ctx.srv.now_ms;
    let (db, key) = (ctx.c.db, ctx.arg(2));
    let Some(e) = ctx.srv.dbs[db].peek_mut(key, now) else {
        return ctx.error("ERR no such key");
    };
    match e.value.ht_stats() {
        Some(text) => ctx.reply().verbatim(text.as_bytes()),
        None => ctx.error("ERR The value stored at the specified key is not represented using an hash table"),
    }
}
