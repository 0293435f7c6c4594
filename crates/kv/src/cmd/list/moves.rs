//! LMOVE, RPOPLPUSH and LMPOP (whose arguments `cmd::mpop` parses).

use super::{lookup_write, push_event, rewrite, split, take, Found};
use crate::cmd::mpop::parse_mpop;
use crate::cmd::{Ctx, SYNTAX};
use crate::db::{Value, WRONGTYPE};
use crate::server::notify::LIST;

/// Parses LEFT or RIGHT (`getListPositionFromObjectOrReply`): true for
/// LEFT, replying a syntax error for anything else.
pub(super) fn side(ctx: &mut Ctx<'_>, i: usize) -> Option<bool> {
    match ctx.arg(i) {
        w if w.eq_ignore_ascii_case(b"left") => Some(true),
        w if w.eq_ignore_ascii_case(b"right") => Some(false),
        _ => {
            ctx.error(SYNTAX);
            None
        }
    }
}

/// What the keys of an [M]POP offer.
pub(super) enum Offer {
    /// The first key holding a non-empty list.
    At(usize),
    /// A key holds another type (replied).
    WrongType,
    /// Every key is missing.
    Nothing,
}

/// Finds the first key in `keys` (argument indices) holding a non-empty
/// list; replies WRONGTYPE when an earlier key holds another type.
pub(super) fn first_list(ctx: &mut Ctx<'_>, keys: impl Iterator<Item = usize>) -> Offer {
    let db = ctx.c.db;
    for i in keys {
        match lookup_write(ctx.srv, db, ctx.args.get(i)) {
            Found::Missing => {}
            Found::WrongType => {
                ctx.error(WRONGTYPE);
                return Offer::WrongType;
            }
            Found::List(l, _) if l.is_empty() => {}
            Found::List(..) => return Offer::At(i),
        }
    }
    Offer::Nothing
}

/// Pops up to `count` elements from the list at argument `i` and replies
/// `[key, [elements]]`, logged as `LPOP|RPOP key n`.
pub(super) fn pop_range_with_key(ctx: &mut Ctx<'_>, i: usize, left: bool, count: usize) {
    let key = ctx.arg(i);
    let values = take(ctx, key, left, count);
    let mut r = ctx.reply();
    r.array_len(2);
    r.bulk(key);
    r.array_len(values.len());
    for v in &values {
        r.bulk(v);
    }
    super::elements_removed(ctx, key, left, values.len());
    let n = values.len().to_string();
    rewrite(ctx, &[if left { b"LPOP" } else { b"RPOP" }, key, n.as_bytes()]);
}

/// LMPOP numkeys key... LEFT|RIGHT [COUNT n].
pub(super) fn lmpop(ctx: &mut Ctx<'_>) {
    let Some(p) = parse_mpop(ctx, 1, (b"left", b"right")) else { return };
    match first_list(ctx, p.keys) {
        Offer::At(i) => pop_range_with_key(ctx, i, p.first, p.count),
        Offer::WrongType => {}
        Offer::Nothing => ctx.reply().null_array(),
    }
}

/// LMOVE (and RPOPLPUSH, BLMOVE, BRPOPLPUSH once the source has
/// elements): moves one element from the list at argument 1 to the list
/// at argument 2 (`lmoveGenericCommand`). Returns false when the source
/// is missing, having replied nothing.
pub(super) fn move_element(ctx: &mut Ctx<'_>, from_left: bool, to_left: bool) -> bool {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let (srv, db, mut r) = split(ctx);
    let lru = srv.lru_clock;
    match lookup_write(srv, db, src) {
        Found::Missing => return false,
        Found::WrongType => {
            r.error(WRONGTYPE);
            return true;
        }
        Found::List(l, _) if l.is_empty() => {
            r.null();
            return true;
        }
        Found::List(..) => {}
    }
    match lookup_write(srv, db, dst) {
        Found::WrongType => {
            r.error(WRONGTYPE);
            return true;
        }
        Found::Missing => {
            srv.dbs[db].insert_new(dst, Value::List(Box::default()), lru);
        }
        Found::List(..) => {}
    }
    let Found::List(l, _) = lookup_write(srv, db, src) else { unreachable!("checked above") };
    let value = if from_left { l.pop_front() } else { l.pop_back() }.expect("the list is not empty");
    let Found::List(l, cfg) = lookup_write(srv, db, dst) else { unreachable!("created above") };
    if to_left {
        l.push_front(&value, cfg);
    } else {
        l.push_back(&value, cfg);
    }
    ctx.touched(dst);
    // The push event, the reply, then the pop event, as Redis's
    // lmoveHandlePush orders them: a RESP3 client subscribed to its own
    // keyspace events sees them around the reply in that order.
    ctx.notify(LIST, push_event(to_left), dst);
    ctx.reply().bulk(&value);
    ctx.notify(LIST, super::pop_event(from_left), src);
    super::delete_if_empty(ctx, src);
    ctx.touched(src);
    ctx.dirty(1);
    true
}

/// The AOF form of a move: `LMOVE src dst LEFT|RIGHT LEFT|RIGHT`, or
/// `RPOPLPUSH src dst`.
pub(super) fn rewrite_move(ctx: &mut Ctx<'_>, from_left: bool, to_left: bool, rpoplpush: bool) {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let word = |left: bool| -> &'static [u8] {
        if left {
            b"LEFT"
        } else {
            b"RIGHT"
        }
    };
    if rpoplpush {
        rewrite(ctx, &[b"RPOPLPUSH", src, dst]);
    } else {
        rewrite(ctx, &[b"LMOVE", src, dst, word(from_left), word(to_left)]);
    }
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT.
pub(super) fn lmove(ctx: &mut Ctx<'_>) {
    let Some(from) = side(ctx, 3) else { return };
    let Some(to) = side(ctx, 4) else { return };
    if !move_element(ctx, from, to) {
        ctx.reply().null();
    }
}

/// RPOPLPUSH source destination.
pub(super) fn rpoplpush(ctx: &mut Ctx<'_>) {
    if !move_element(ctx, false, true) {
        ctx.reply().null();
    }
}
