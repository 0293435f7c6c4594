//! Keyspace notifications (`notify-keyspace-events`), as Redis's `notify.c`.
//!
//! Each event belongs to a class; when the class is enabled, the event is
//! published on `__keyspace@<db>__:<key>` with the event name as the
//! message (flag `K`) and on `__keyevent@<db>__:<event>` with the key as the
//! message (flag `E`).

use super::client::Client;
use super::pubsub::Kind;
use super::Server;

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted-set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: keys deleted because they expired.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: keys evicted under maxmemory.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: key misses (not part of `A`).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module key-type events.
pub const MODULE: u32 = 1 << 13;
/// `n`: new keys (not part of `A`).
pub const NEW: u32 = 1 << 14;
/// `A`: alias for `g$lshzxetd`.
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Parses a `notify-keyspace-events` flag string; `None` for a character
/// Redis rejects ("Invalid event class character").
pub fn parse_flags(s: &str) -> Option<u32> {
    let mut f = 0;
    for ch in s.chars() {
        f |= match ch {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// The flag string CONFIG GET prints for `flags` (Redis's canonical form:
/// `A` when every class of `A` is set, then `K`, `E`, `m`).
pub fn flags_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (bit, ch) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(ch);
            }
        }
    }
    for (bit, ch) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(ch);
        }
    }
    s
}

/// Counts a read that found no key (`keyspace_misses`) and, while the `m`
/// class is enabled (`log` is `Some`), logs it for its `keymiss` event.
/// Takes the two fields rather than the server, so a lookup can call it
/// while it still borrows the databases.
pub fn log_miss(
    stats: &mut super::Stats,
    log: &mut Option<Vec<(usize, crate::db::Key)>>,
    db: usize,
    key: &[u8],
) {
    stats.keyspace_misses += 1;
    if let Some(log) = log {
        log.push((db, key.into()));
    }
}

/// The parsed flags, cached against the configured string.
#[derive(Debug, Default)]
pub struct NotifyCache {
    source: String,
    flags: u32,
}

impl Server {
    /// The enabled notification classes, parsed from
    /// `config.notify_keyspace_events` (reparsed only when it changes).
    pub fn notify_flags(&mut self) -> u32 {
        let cfg = &self.config.notify_keyspace_events;
        if cfg.is_empty() {
            return 0;
        }
        if *cfg != self.notify_cache.source {
            self.notify_cache.source = cfg.clone();
            self.notify_cache.flags = parse_flags(cfg).unwrap_or(0);
        }
        self.notify_cache.flags
    }

    /// Publishes keyspace event `event` of class `class` for `key` in `db`,
    /// if enabled. `cur` is the client whose command is running, if any.
    pub fn notify(&mut self, mut cur: Option<&mut Client>, class: u32, event: &str, key: &[u8], db: usize) {
        let flags = self.notify_flags();
        if flags & class == 0 {
            return;
        }
        // Reads that missed and keys the command created come first:
        // Redis announces `keymiss` at the lookup and `new` when the key
        // is added, before the command's own event.
        if class != NEW && class != KEY_MISS && class != EXPIRED {
            // So do keys the command's lookups found expired: Redis deletes
            // and announces them at the lookup (`expired`, then the SET's
            // `set`), where spindle logs them for after the command.
            if self.dbs.first().is_some_and(|db| db.expired_flag.get()) {
                self.drain_expired(cur.as_deref_mut());
            }
        }
        if class != NEW && class != KEY_MISS {
            if self.miss_log.as_ref().is_some_and(|l| !l.is_empty()) {
                self.flush_key_misses(cur.as_deref_mut());
            }
            self.flush_new_keys(cur.as_deref_mut());
        }
        let before = cur.as_deref().map(|c| c.out.len());
        self.publish_event(cur.as_deref_mut(), flags, event, key, db);
        // Logged events flushed later go after this push.
        if let (Some(c), Some(before), Some(_)) = (cur, before, self.events_at) {
            if class != NEW && class != KEY_MISS && c.out.len() > before {
                self.events_at = Some(c.out.len());
            }
        }
    }

    /// Moves the pushes the running command's client got from `start` on
    /// (logged events just flushed) back to where they happened
    /// ([`Server::events_at`]), ahead of reply bytes written since.
    fn place_logged_events(&mut self, c: &mut Client, start: usize) {
        let Some(at) = self.events_at else { return };
        let n = c.out.len() - start;
        if n == 0 || at >= start {
            return;
        }
        c.out[at..].rotate_right(n);
        for p in c.pushes.iter_mut() {
            if p.0 >= start {
                *p = (p.0 - start + at, p.1 - start + at);
            } else if p.0 >= at {
                *p = (p.0 + n, p.1 + n);
            }
        }
        c.pushes.sort_unstable();
        self.events_at = Some(at + n);
    }

    fn publish_event(
        &mut self,
        mut cur: Option<&mut Client>,
        flags: u32,
        event: &str,
        key: &[u8],
        db: usize,
    ) {
        if flags & KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{db}__:").into_bytes();
            ch.extend_from_slice(key);
            self.publish(cur.as_deref_mut(), Kind::Channel, &ch, event.as_bytes());
        }
        if flags & KEYEVENT != 0 {
            let ch = format!("__keyevent@{db}__:{event}");
            self.publish(cur, Kind::Channel, ch.as_bytes(), key);
        }
    }

    /// Publishes the `new` events of keys the databases logged as created
    /// (only logged while the `n` class is enabled), and starts or stops
    /// that logging to follow the configuration.
    pub fn flush_new_keys(&mut self, mut cur: Option<&mut Client>) {
        let track = self.notify_flags() & NEW != 0;
        if !track && !self.tracking_new {
            return;
        }
        self.tracking_new = track;
        let start = cur.as_deref().map(|c| c.out.len());
        for db in 0..self.dbs.len() {
            let Some(log) = self.dbs[db].new_log.as_mut() else {
                if track {
                    self.dbs[db].new_log = Some(Vec::new());
                }
                continue;
            };
            if log.is_empty() {
                if !track {
                    self.dbs[db].new_log = None;
                }
                continue;
            }
            let keys = std::mem::take(log);
            for key in &keys {
                self.notify(cur.as_deref_mut(), NEW, "new", key, db);
            }
            if !track {
                self.dbs[db].new_log = None;
            }
        }
        if let (Some(c), Some(start)) = (cur, start) {
            self.place_logged_events(c, start);
        }
    }

    /// Publishes the `keymiss` events of reads that found no key (logged
    /// by [`log_miss`] while the `m` class is enabled), and starts or stops
    /// that logging to follow the configuration.
    pub fn flush_key_misses(&mut self, mut cur: Option<&mut Client>) {
        let track = self.notify_flags() & KEY_MISS != 0;
        if let Some(log) = self.miss_log.as_mut() {
            let misses = std::mem::take(log);
            let start = cur.as_deref().map(|c| c.out.len());
            for (db, key) in &misses {
                self.notify(cur.as_deref_mut(), KEY_MISS, "keymiss", key, *db);
            }
            if let (Some(c), Some(start)) = (cur, start) {
                self.place_logged_events(c, start);
            }
        }
        match (track, self.miss_log.is_some()) {
            (true, false) => self.miss_log = Some(Vec::new()),
            (false, true) => self.miss_log = None,
            _ => {}
        }
    }

    /// Handles the keys every database logged as expired since the last
    /// call: counts them (`expired_keys`), publishes their `expired`
    /// events and tells watchers (WATCH) they changed. Runs after each
    /// command and in the cron.
    pub fn drain_expired(&mut self, mut cur: Option<&mut Client>) {
        match self.dbs.first() {
            Some(db) if db.expired_flag.get() => db.expired_flag.set(false),
            _ => return,
        }
        for db in 0..self.dbs.len() {
            if self.dbs[db].expired_log.is_empty() {
                continue;
            }
            let log = std::mem::take(&mut self.dbs[db].expired_log);
            for key in &log {
                self.stats.expired_keys += 1;
                crate::persist::propagate::log_deletion(self, db, key);
                self.notify(cur.as_deref_mut(), EXPIRED, "expired", key, db);
                self.touched_key(db, key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_as_redis_prints_them() {
        assert_eq!(parse_flags(""), Some(0));
        assert_eq!(parse_flags("Q"), None);
        assert_eq!(flags_to_string(parse_flags("KEA").unwrap()), "AKE");
        assert_eq!(flags_to_string(parse_flags("Kgx$lshzetdmn").unwrap()), "AKm");
        assert_eq!(flags_to_string(parse_flags("K").unwrap()), "K");
        assert_eq!(flags_to_string(parse_flags("Ex$n").unwrap()), "$xnE");
        assert_eq!(parse_flags("A").unwrap() & (NEW | KEY_MISS), 0);
    }
}
