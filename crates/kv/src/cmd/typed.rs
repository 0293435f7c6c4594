//! Type-checked access to a key's value, shared by the aggregate families
//! (Redis's `lookupKeyRead` / `lookupKeyWrite` followed by `checkType`).

use super::Ctx;
use crate::db::Value;
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::types::hash::HashValue;
use crate::types::list::ListValue;
use crate::types::set::SetValue;
use crate::types::zset::ZSetValue;
use crate::types::EncodingConfig;

/// A value type a command family works on: how to find it in a [`Value`].
pub(crate) trait Typed {
    /// The value as this type, if it is one.
    fn of(v: &Value) -> Option<&Self>;
    /// The value as this type for writing, if it is one.
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
}

macro_rules! typed {
    ($t:ty, $variant:ident) => {
        impl Typed for $t {
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
        }
    };
}

typed!(HashValue, Hash);
typed!(ListValue, List);
typed!(SetValue, Set);
typed!(ZSetValue, ZSet);

/// The live value at `key` for reading: counts a keyspace hit or miss (a
/// miss may raise a `keymiss` event) and refreshes the key's LRU clock.
pub(crate) fn lookup_value<'s>(srv: &'s mut Server, db: usize, key: &[u8]) -> Option<&'s mut Value> {
    let (now, lru) = (srv.now_ms, srv.lru_clock);
    match srv.dbs[db].get_mut(key, now) {
        None => {
            crate::server::notify::log_miss(&mut srv.stats, &mut srv.miss_log, db, key);
            None
        }
        Some(e) => {
            e.lru = lru;
            srv.stats.keyspace_hits += 1;
            Some(&mut e.value)
        }
    }
}

/// The `T` at `key` for reading: `Ok(None)` if missing, `Err(())` if the
/// key holds another type. A value whose hash table is resizing takes one
/// rehash step, as a lookup in Redis's `dict` does.
pub(crate) fn read<'s, T: Typed>(srv: &'s mut Server, db: usize, key: &[u8]) -> Result<Option<&'s T>, ()> {
    match lookup_value(srv, db, key) {
        None => Ok(None),
        Some(v) => {
            v.rehash_step();
            T::of(v).map(Some).ok_or(())
        }
    }
}

/// The `T` at `key` for writing; when missing and `create` is given, the
/// value it makes (from the encoding thresholds) is stored first.
/// `Err(())` if the key holds another type. Returns the thresholds too.
pub(crate) fn write<'s, T: Typed>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    create: Option<impl FnOnce(&EncodingConfig) -> Value>,
) -> Result<Option<(&'s mut T, &'s EncodingConfig)>, ()> {
    let (now, lru) = (srv.now_ms, srv.lru_clock);
    let Server { dbs, config, .. } = srv;
    let db = &mut dbs[db];
    // One lookup (one hash of the key), creating the value if asked.
    let e = match create {
        Some(make) => db.get_mut_or_insert(key, now, lru, || make(&config.encoding)).0,
        None => match db.get_mut(key, now) {
            Some(e) => e,
            None => return Ok(None),
        },
    };
    if T::of(&e.value).is_none() {
        return Err(());
    }
    e.lru = lru;
    let v = T::of_mut(&mut e.value).expect("type checked above");
    Ok(Some((v, &config.encoding)))
}

/// Splits a context into the server, the client's database and a reply
/// writer for the client.
pub(crate) fn split<'c>(ctx: &'c mut Ctx<'_>) -> (&'c mut Server, usize, Reply<'c>) {
    let db = ctx.c.db;
    (&mut *ctx.srv, db, Reply::new(&mut ctx.c.out, ctx.c.proto))
}
