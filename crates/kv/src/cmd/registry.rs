//! The dispatch table: every command by name and, for a container
//! (CONFIG, CLIENT, OBJECT, ...), its subcommands, each with a [`Slot`]: a
//! small index that the per-command statistics (INFO commandstats and
//! latencystats, LATENCY HISTOGRAM) and CLIENT LIST's `cmd=` use instead
//! of a name.
//!
//! Redis 7 counts a container's calls under the subcommand that ran
//! (`cmdstat_config|get`), and its `lookupCommand` finds that subcommand
//! before any other check: a container called alone is the container
//! itself (refused for its arity, counted as `cmdstat_config`), and an
//! unknown subcommand is refused as such, counted under no command.
//! [`resolve`] does the same once per request, so everything after it
//! (arity, stats, CLIENT LIST) works from the slot it returns. A command
//! that is not a container pays for nothing beyond the name lookup it
//! always had: its slot is stored in its table entry.

use super::{command::SUBCOMMANDS, Args, Command};
use std::sync::OnceLock;

/// Index of a command or subcommand in the statistics tables, valid for
/// the life of the process (the table is fixed when first used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(u16);

impl Slot {
    /// The index, from 0 to [`slot_count`] - 1.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The full name: `get`, or `config|get` for a subcommand.
    pub fn name(self) -> &'static str {
        &registry().names[self.index()]
    }
}

/// A request as dispatched: the table entry whose handler runs it, and
/// the command or subcommand it called.
#[derive(Debug, Clone, Copy)]
pub struct Called {
    /// The command (for a subcommand, its container).
    pub cmd: &'static Command,
    /// The command or subcommand called.
    pub slot: Slot,
    /// The arity of what was called: the subcommand's for a subcommand.
    pub arity: i32,
}

impl Called {
    /// Whether `argc` arguments satisfy the arity (Redis's
    /// `commandCheckArity`).
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= a.unsigned_abs() as usize)
    }
}

/// What a request's first arguments name.
#[derive(Debug, Clone, Copy)]
pub enum Resolved {
    /// A command, or a container's subcommand.
    Found(Called),
    /// No such command.
    UnknownCommand,
    /// This container has no such subcommand.
    UnknownSubcommand(&'static Command),
}

struct Sub {
    name: &'static str,
    arity: i32,
    slot: Slot,
}

struct Entry {
    cmd: &'static Command,
    slot: Slot,
    subs: Box<[Sub]>,
}

/// Longest command name the table holds (and so the longest looked up).
const MAX_NAME: usize = 32;

/// Names are found by their shape: the bucket of their length and first
/// letter, then a case-blind comparison with the few names there. No
/// hashing and no lower-cased copy: a pipelined `SET` spent 12% of its
/// user time in the lookup when it lower-cased the name and hashed it.
fn shape(name: &[u8]) -> Option<usize> {
    let (&first, len) = (name.first()?, name.len());
    (len <= MAX_NAME).then(|| (len - 1) * 32 + usize::from(first & 0x1f))
}

/// Whether `name`, in any case, is `own` (a lower-case name).
fn is_named(own: &str, name: &[u8]) -> bool {
    own.len() == name.len() && own.bytes().zip(name).all(|(o, &n)| o == n.to_ascii_lowercase())
}

struct Registry {
    entries: Vec<Entry>,
    /// Indexes into `entries`, bucketed by [`shape`].
    shapes: Vec<Vec<u16>>,
    /// Full names by slot.
    names: Vec<String>,
    /// Every slot, sorted by full name (the order INFO prints).
    sorted: Vec<Slot>,
}

impl Registry {
    /// The command called `name`, in any case, ignoring renames.
    fn find(&self, name: &[u8]) -> Option<&Entry> {
        let bucket = self.shapes.get(shape(name)?)?;
        bucket.iter().map(|&i| &self.entries[usize::from(i)]).find(|e| is_named(e.cmd.name, name))
    }
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(build)
}

fn build() -> Registry {
    let mut names: Vec<String> = Vec::new();
    let mut next = |name: String| {
        let slot = Slot(u16::try_from(names.len()).expect("fewer than 65536 commands"));
        names.push(name);
        slot
    };
    let mut entries = Vec::new();
    let mut shapes = vec![Vec::new(); MAX_NAME * 32];
    for cmd in super::all_commands() {
        let slot = next(cmd.name.to_string());
        let subs = SUBCOMMANDS
            .iter()
            .filter(|(parent, _, _)| *parent == cmd.name)
            .map(|&(parent, name, arity)| Sub { name, arity, slot: next(format!("{parent}|{name}")) })
            .collect();
        assert!(cmd.name.bytes().all(|b| !b.is_ascii_uppercase()), "{}: names are lower-case", cmd.name);
        let at = shape(cmd.name.as_bytes())
            .unwrap_or_else(|| panic!("{}: a name of 1 to {MAX_NAME} bytes", cmd.name));
        shapes[at].push(u16::try_from(entries.len()).expect("fewer than 65536 commands"));
        entries.push(Entry { cmd, slot, subs });
    }
    let mut sorted: Vec<Slot> = (0..names.len()).map(|i| Slot(i as u16)).collect();
    sorted.sort_by(|a, b| names[a.index()].cmp(&names[b.index()]));
    Registry { entries, shapes, names, sorted }
}

#[inline]
fn entry(name: &[u8]) -> Option<&'static Entry> {
    let registry = registry();
    if !super::rename::any() {
        return registry.find(name);
    }
    let mut buf = [0u8; MAX_NAME];
    if name.len() > buf.len() {
        return None;
    }
    let low = &mut buf[..name.len()];
    for (d, s) in low.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    match super::rename::lookup(low) {
        super::rename::Lookup::Unchanged => registry.find(low),
        super::rename::Lookup::Command(own) => registry.find(own.as_bytes()),
        super::rename::Lookup::Hidden => None,
    }
}

/// The command's own name for the lower-case `name`, ignoring renames.
pub(super) fn own_name(name: &[u8]) -> Option<&'static str> {
    registry().find(name).map(|e| e.cmd.name)
}

/// The command called `name`, in any case.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    entry(name).map(|e| e.cmd)
}

/// What `args` call, as Redis's `lookupCommand` finds it: the command, or
/// for a container given a second argument, that subcommand.
#[inline]
pub fn resolve(args: &Args<'_>) -> Resolved {
    let Some(e) = entry(args.get(0)) else {
        return Resolved::UnknownCommand;
    };
    if e.subs.is_empty() || args.len() < 2 {
        return Resolved::Found(Called { cmd: e.cmd, slot: e.slot, arity: e.cmd.arity });
    }
    let name = args.get(1);
    match e.subs.iter().find(|s| s.name.as_bytes().eq_ignore_ascii_case(name)) {
        Some(s) => Resolved::Found(Called { cmd: e.cmd, slot: s.slot, arity: s.arity }),
        None => Resolved::UnknownSubcommand(e.cmd),
    }
}

/// How many slots there are.
pub fn slot_count() -> usize {
    registry().names.len()
}

/// Every slot, in the order of their full names.
pub fn sorted_slots() -> &'static [Slot] {
    &registry().sorted
}

/// What `name` names for LATENCY HISTOGRAM, as Redis's
/// `lookupCommandBySds` reads it (any case): `get`; `config|get`; or a
/// container, `config`, followed by its subcommands. Empty if there is no
/// such command.
pub fn named(name: &[u8]) -> Vec<Slot> {
    let mut parts = name.split(|&b| b == b'|');
    let (Some(first), second, None) = (parts.next(), parts.next(), parts.next()) else {
        return Vec::new();
    };
    let Some(e) = entry(first) else { return Vec::new() };
    match second {
        None => std::iter::once(e.slot).chain(e.subs.iter().map(|s| s.slot)).collect(),
        Some(sub) => {
            e.subs.iter().filter(|s| s.name.as_bytes().eq_ignore_ascii_case(sub)).map(|s| s.slot).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn called(req: &[&str]) -> Resolved {
        let buf: Vec<u8> = req.concat().into_bytes();
        let mut ranges = Vec::new();
        let mut at = 0;
        for a in req {
            ranges.push(at..at + a.len());
            at += a.len();
        }
        resolve(&Args::new(&buf, &ranges))
    }

    fn name_of(r: Resolved) -> String {
        match r {
            Resolved::Found(c) => c.slot.name().to_string(),
            Resolved::UnknownCommand => "?".into(),
            Resolved::UnknownSubcommand(c) => format!("{}|?", c.name),
        }
    }

    #[test]
    fn containers_resolve_to_their_subcommand_in_any_case() {
        assert_eq!(name_of(called(&["GET", "k"])), "get");
        assert_eq!(name_of(called(&["config", "GET", "x"])), "config|get");
        assert_eq!(name_of(called(&["Config"])), "config");
        assert_eq!(name_of(called(&["config", "nosuch"])), "config|?");
        assert_eq!(name_of(called(&["nosuch"])), "?");
        // Not a container: the second argument is only an argument.
        assert_eq!(name_of(called(&["get", "get"])), "get");
        let Resolved::Found(c) = called(&["config", "get"]) else { panic!() };
        assert_eq!((c.cmd.name, c.arity, c.arity_ok(2), c.arity_ok(3)), ("config", -3, false, true));
    }

    #[test]
    fn every_command_is_found_by_its_name_and_no_near_miss_is() {
        for cmd in crate::cmd::all_commands() {
            let upper = cmd.name.to_ascii_uppercase();
            assert_eq!(lookup(upper.as_bytes()).map(|c| c.name), Some(cmd.name));
            // A name one byte short, one byte long, or with its last byte
            // changed is another word (names of 8 and 16 bytes end on a
            // word boundary of the hasher, the rest part way through one).
            let name = cmd.name.as_bytes();
            let mut longer = name.to_vec();
            longer.push(b'x');
            let mut changed = name.to_vec();
            *changed.last_mut().expect("no empty names") ^= 1;
            for other in [&name[..name.len() - 1], &longer[..], &changed[..]] {
                if let Some(found) = lookup(other) {
                    assert_eq!(found.name.as_bytes(), other, "{} found for {:?}", found.name, other);
                }
            }
        }
        // A trailing NUL is not padding.
        assert!(lookup(b"get\0").is_none());
    }

    #[test]
    fn every_slot_has_one_name_and_the_sorted_list_covers_them() {
        let mut names: Vec<&str> = (0..slot_count()).map(|i| Slot(i as u16).name()).collect();
        let sorted: Vec<&str> = sorted_slots().iter().map(|s| s.name()).collect();
        names.sort();
        assert_eq!(names, sorted);
        names.dedup();
        assert_eq!(names.len(), slot_count());
        assert!(names.contains(&"client|list") && names.contains(&"get"));
    }

    #[test]
    fn names_for_reports_follow_lookup_command_by_sds() {
        let show = |n: &str| named(n.as_bytes()).iter().map(|s| s.name()).collect::<Vec<_>>();
        assert_eq!(show("GET"), ["get"]);
        assert_eq!(show("CONFIG|Get"), ["config|get"]);
        let config = show("config");
        assert_eq!(config[0], "config");
        assert!(config.contains(&"config|resetstat"), "{config:?}");
        assert!(show("get|x").is_empty());
        assert!(show("config|get|x").is_empty());
        assert!(show("config|nosuch").is_empty());
        assert!(show("nosuch").is_empty());
        assert!(show("").is_empty());
    }
}
