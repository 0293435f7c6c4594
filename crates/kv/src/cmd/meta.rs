//! The descriptive half of COMMAND INFO: flags, ACL categories, tips and
//! key specifications, as Redis 7 reports them.
//!
//! Our command table ([`super::Command`]) carries the flag bits the server
//! acts on (`write` refuses under `maxmemory` pressure with `denyoom`,
//! `no_auth` runs before AUTH, ...). Redis reports more than that: flags
//! that only matter to its own scripting, loading and replication
//! (`noscript`, `loading`, `stale`, `allow_busy`, ...), ACL categories that
//! are chosen per command rather than implied by flags (`@dangerous` on
//! KEYS, `@keyspace` on DBSIZE), request-routing tips for cluster clients
//! (`nondeterministic_output`, `request_policy:all_shards`), and *key
//! specifications*: where the keys are (`begin_search`: at an index, or
//! after a keyword such as `STREAMS`), how many there are (`find_keys`: a
//! range, or a count argument), and what the command does with them (`RO`,
//! `RW`, `OW`, `RM`; `access`, `update`, `insert`, `delete`). Cluster-aware
//! clients route commands by the key specs; tools such as redis-cli read
//! the flags and categories.
//!
//! Writing that by hand for every command would drift from Redis, so the
//! table (`cmd/meta_table.rs`) is generated from a live redis-server 7 by
//! `crates/kv/tools/gen_command_meta.py`, keeping only the commands we
//! implement. A command Redis 7.0 does not know (a 7.2 subcommand such as
//! CLIENT NO-TOUCH) has no entry and is described from our flag bits.

use super::meta_table::TABLE;
use crate::resp::reply::Reply;

/// Redis's description of one command or subcommand (`parent|sub`).
#[derive(Debug)]
pub struct Meta {
    /// Lower-case name; subcommands as `parent|sub`.
    pub name: &'static str,
    /// Flag names in Redis's order (`write`, `denyoom`, `fast`, ...).
    pub flags: &'static [&'static str],
    /// ACL categories with their `@`.
    pub acl: &'static [&'static str],
    /// Tips for clients (`nondeterministic_output`, `request_policy:...`).
    pub tips: &'static [&'static str],
    /// Where the keys are and what the command does with them.
    pub key_specs: &'static [KeySpec],
}

/// One key specification.
#[derive(Debug)]
pub struct KeySpec {
    /// Redis's note on the spec, if it has one.
    pub notes: Option<&'static str>,
    /// Access flags (`RO`, `RW`, `OW`, `RM`, `access`, `update`, ...).
    pub flags: &'static [&'static str],
    /// Where the search for the keys begins.
    pub begin: Begin,
    /// How the keys are found from there.
    pub find: Find,
}

/// `begin_search` of a key spec.
#[derive(Debug)]
pub enum Begin {
    /// The first key is at this argument index.
    Index(i64),
    /// The keys follow this keyword, searched for from `startfrom`
    /// (negative: from the end).
    Keyword(&'static str, i64),
    /// Only the command itself can tell.
    Unknown,
}

/// `find_keys` of a key spec.
#[derive(Debug)]
pub enum Find {
    /// `(lastkey, keystep, limit)`: keys up to `lastkey` (relative to the
    /// first; negative counts from the end), every `keystep`, and with
    /// `limit` > 1 only that fraction of the remaining arguments.
    Range(i64, i64, i64),
    /// `(keynumidx, firstkey, keystep)`: the number of keys is at
    /// `keynumidx`, the keys start `firstkey` after it.
    Keynum(i64, i64, i64),
    /// Only the command itself can tell.
    Unknown,
}

/// Redis's metadata for `name` (a command, or `parent|sub`), if Redis 7.0
/// has the command.
pub fn lookup(name: &str) -> Option<&'static Meta> {
    TABLE.binary_search_by(|m| m.name.cmp(name)).ok().map(|i| &TABLE[i])
}

impl Meta {
    /// Writes the flags as a set of simple strings, `movablekeys` included
    /// where Redis lists it.
    pub fn write_flags(&self, r: &mut Reply<'_>) {
        write_set(r, self.flags, false);
    }

    /// Writes the ACL categories, tips and key specs: fields 7 to 9 of a
    /// COMMAND INFO entry.
    pub fn write_acl_tips_specs(&self, r: &mut Reply<'_>) {
        write_set(r, self.acl, false);
        write_set(r, self.tips, true);
        r.set_len(self.key_specs.len());
        for spec in self.key_specs {
            spec.write(r);
        }
    }
}

impl KeySpec {
    fn write(&self, r: &mut Reply<'_>) {
        r.map_len(3 + usize::from(self.notes.is_some()));
        if let Some(notes) = self.notes {
            r.bulk(b"notes");
            r.bulk(notes.as_bytes());
        }
        r.bulk(b"flags");
        write_set(r, self.flags, false);
        r.bulk(b"begin_search");
        r.map_len(2);
        r.bulk(b"type");
        match self.begin {
            Begin::Index(index) => {
                r.bulk(b"index");
                r.bulk(b"spec");
                r.map_len(1);
                r.bulk(b"index");
                r.int(index);
            }
            Begin::Keyword(keyword, startfrom) => {
                r.bulk(b"keyword");
                r.bulk(b"spec");
                r.map_len(2);
                r.bulk(b"keyword");
                r.bulk(keyword.as_bytes());
                r.bulk(b"startfrom");
                r.int(startfrom);
            }
            Begin::Unknown => {
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map_len(0);
            }
        }
        r.bulk(b"find_keys");
        r.map_len(2);
        r.bulk(b"type");
        let fields: [(&[u8], i64); 3] = match self.find {
            Find::Range(lastkey, keystep, limit) => {
                r.bulk(b"range");
                [(b"lastkey", lastkey), (b"keystep", keystep), (b"limit", limit)]
            }
            Find::Keynum(keynumidx, firstkey, keystep) => {
                r.bulk(b"keynum");
                [(b"keynumidx", keynumidx), (b"firstkey", firstkey), (b"keystep", keystep)]
            }
            Find::Unknown => {
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map_len(0);
                return;
            }
        };
        r.bulk(b"spec");
        r.map_len(3);
        for (key, value) in fields {
            r.bulk(key);
            r.int(value);
        }
    }
}

/// A set of strings: simple strings (flags, categories) or bulk (tips),
/// as Redis writes each.
fn write_set(r: &mut Reply<'_>, items: &[&str], bulk: bool) {
    r.set_len(items.len());
    for item in items {
        if bulk {
            r.bulk(item.as_bytes());
        } else {
            r.simple(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::command::{FLAG_NAMES, SUBCOMMANDS};
    use super::super::{all_commands, Command, NO_MULTI};
    use super::*;

    #[test]
    fn table_is_sorted_and_unique_so_lookup_finds_every_entry() {
        for pair in TABLE.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
        }
        for m in TABLE {
            assert_eq!(lookup(m.name).map(|f| f.name), Some(m.name));
        }
        assert!(lookup("no-such-command").is_none());
    }

    /// The bits the server acts on and the flags it reports must agree, or
    /// a client would be told one thing and served another.
    #[test]
    fn reported_flags_agree_with_the_behavioural_bits() {
        // Every reported bit but `no_multi`: our table sets it on the
        // transaction commands it handles inside MULTI itself, where Redis
        // 7.0 does not report it.
        let bits = FLAG_NAMES.iter().copied().filter(|(bit, _)| *bit != NO_MULTI);
        let containers: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.0).collect();
        let mut checked = 0;
        let mut differ = Vec::new();
        for cmd in all_commands().filter(|c: &&Command| !containers.contains(&c.name)) {
            let Some(meta) = lookup(cmd.name) else { continue };
            for (bit, name) in bits.clone() {
                if (cmd.flags & bit != 0) != meta.flags.contains(&name) {
                    differ.push(format!("{} `{name}`", cmd.name));
                }
            }
            checked += 1;
        }
        assert!(differ.is_empty(), "our bits and Redis's flags disagree: {differ:?}");
        assert!(checked > 150, "only {checked} commands had metadata");
    }

    #[test]
    fn every_command_we_implement_has_redis_metadata_unless_newer_than_7_0() {
        // Redis 7.2 additions; described from our own bits.
        let newer = ["client|no-touch", "client|setinfo"];
        let mut missing: Vec<String> = all_commands()
            .map(|c| c.name.to_string())
            .chain(SUBCOMMANDS.iter().map(|(p, s, _)| format!("{p}|{s}")))
            .filter(|n| lookup(n).is_none() && !newer.contains(&n.as_str()))
            .collect();
        missing.sort();
        assert!(missing.is_empty(), "no Redis metadata for {missing:?}");
    }
}
