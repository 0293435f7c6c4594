//! The arguments LMPOP, BLMPOP, ZMPOP and BZMPOP share:
//! `numkeys key... <LEFT|RIGHT or MIN|MAX> [COUNT n]`.

use crate::cmd::{Ctx, SYNTAX};
use crate::util::num::parse_i64;

/// The parsed tail of LMPOP, BLMPOP, ZMPOP and BZMPOP.
pub(crate) struct MPop {
    /// Indices of the keys in the arguments.
    pub keys: std::ops::Range<usize>,
    /// LEFT (or MIN): true.
    pub first: bool,
    /// COUNT, 1 when not given.
    pub count: usize,
}

/// Parses `numkeys key... <first|other> [COUNT n]` from argument
/// `numkeys_idx` (`lmpopGenericCommand`), with `first`/`other` the two
/// accepted words (LEFT/RIGHT or MIN/MAX). Replies the error when it fails.
pub(crate) fn parse_mpop(ctx: &mut Ctx<'_>, numkeys_idx: usize, words: (&[u8], &[u8])) -> Option<MPop> {
    let numkeys = match parse_i64(ctx.arg(numkeys_idx)) {
        Some(n) if n >= 1 => n as u64,
        _ => {
            ctx.error("ERR numkeys should be greater than 0");
            return None;
        }
    };
    let argc = ctx.argc() as u64;
    let where_idx = numkeys_idx as u64 + numkeys + 1;
    if where_idx >= argc {
        ctx.error(SYNTAX);
        return None;
    }
    let where_idx = where_idx as usize;
    let first = match ctx.arg(where_idx) {
        w if w.eq_ignore_ascii_case(words.0) => true,
        w if w.eq_ignore_ascii_case(words.1) => false,
        _ => {
            ctx.error(SYNTAX);
            return None;
        }
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < ctx.argc() {
        if count.is_none() && ctx.arg(j).eq_ignore_ascii_case(b"count") && j + 1 < ctx.argc() {
            j += 1;
            match parse_i64(ctx.arg(j)) {
                Some(n) if n >= 1 => count = Some(n as usize),
                _ => {
                    ctx.error("ERR count should be greater than 0");
                    return None;
                }
            }
        } else {
            ctx.error(SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(MPop { keys: numkeys_idx + 1..where_idx, first, count: count.unwrap_or(1) })
}
