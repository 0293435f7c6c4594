//! `rename-command`: a config-file directive that gives a command another
//! name, or none, so that clients can no longer call it by the one they
//! know. Operators use it to hide FLUSHALL, CONFIG or DEBUG from
//! applications (`rename-command FLUSHALL ""`) or to keep them for
//! themselves under a secret name (`rename-command CONFIG b840fc02`).
//!
//! As in Redis, the directives are applied in order to the command table
//! as it stands: a command renamed once is no longer there under its old
//! name to be renamed again, and a new name may not be one the table
//! already has. Only top-level commands are renamed; their subcommands
//! keep their names (`rename-command CONFIG cfg` then `CFG GET port`).
//!
//! The table is per server, and every lookup of a command by name goes
//! through [`registry`](super::registry), so the server installs its
//! renames in a thread-local of its own thread ([`install`]) before it
//! loads its data. A server with no renames pays one thread-local load per
//! lookup. Reading an AOF also accepts the original names
//! ([`with_originals`]), as Redis's `lookupCommandOrOriginal`: the file may
//! hold commands the server logged under their own names.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// The renames of one server, by lower-case name.
#[derive(Debug, Default)]
pub struct Renames {
    /// New name → the command's own name.
    to_original: HashMap<Vec<u8>, &'static str>,
    /// Own names that no longer call anything (renamed, or removed).
    hidden: HashSet<Vec<u8>>,
}

/// What a name means under a server's renames.
pub(super) enum Lookup {
    /// The command with this own name.
    Command(&'static str),
    /// Nothing: a renamed or removed command's old name.
    Hidden,
    /// Not affected by any rename.
    Unchanged,
}

impl Renames {
    /// Applies `pairs` (own or current name, new name; an empty new name
    /// removes the command) in order, as Redis reads `rename-command`
    /// lines.
    ///
    /// # Errors
    /// Redis's words: "No such command in rename-command" for a name the
    /// table does not have (at that point), "Target command name already
    /// exists" for a new name it has.
    pub fn build(pairs: &[(String, String)]) -> Result<Renames, String> {
        let mut r = Renames::default();
        for (from, to) in pairs {
            let (from, to) = (from.to_ascii_lowercase().into_bytes(), to.to_ascii_lowercase().into_bytes());
            let own = match r.lookup(&from) {
                Lookup::Command(own) => Some(own),
                Lookup::Hidden => None,
                Lookup::Unchanged => super::registry::own_name(&from),
            };
            let Some(own) = own else { return Err("No such command in rename-command".into()) };
            // Off the table under the name it was called by.
            if r.to_original.remove(&from).is_none() {
                r.hidden.insert(from);
            }
            if to.is_empty() {
                continue;
            }
            let taken = match r.lookup(&to) {
                Lookup::Command(_) => true,
                Lookup::Hidden => false,
                Lookup::Unchanged => super::registry::own_name(&to).is_some(),
            };
            if taken {
                return Err("Target command name already exists".into());
            }
            r.hidden.remove(&to);
            r.to_original.insert(to, own);
        }
        Ok(r)
    }

    /// Whether nothing is renamed.
    pub fn is_empty(&self) -> bool {
        self.to_original.is_empty() && self.hidden.is_empty()
    }

    /// What the lower-case `name` means under these renames.
    pub(super) fn lookup(&self, name: &[u8]) -> Lookup {
        if let Some(&own) = self.to_original.get(name) {
            Lookup::Command(own)
        } else if self.hidden.contains(name) {
            Lookup::Hidden
        } else {
            Lookup::Unchanged
        }
    }
}

thread_local! {
    /// The renames of the server running on this thread, if any.
    static ACTIVE: Cell<Option<&'static Renames>> = const { Cell::new(None) };
    /// Set while an AOF is read: hidden own names call their command.
    static ORIGINALS: Cell<bool> = const { Cell::new(false) };
}

/// Makes `renames` the command table's renames on this thread (the
/// server's); `None`, or empty renames, for none. The table lives as long
/// as the process, as a server's command table does.
pub fn install(renames: Option<Renames>) {
    let leaked = renames.filter(|r| !r.is_empty()).map(|r| &*Box::leak(Box::new(r)));
    ACTIVE.with(|a| a.set(leaked));
}

/// Runs `f` with the own names of renamed and removed commands callable
/// too (reading an AOF).
pub fn with_originals<R>(f: impl FnOnce() -> R) -> R {
    let before = ORIGINALS.with(|o| o.replace(true));
    let out = f();
    ORIGINALS.with(|o| o.set(before));
    out
}

/// Whether this thread's server renamed or removed any command.
pub(super) fn any() -> bool {
    ACTIVE.with(Cell::get).is_some()
}

/// What the lower-case `name` means on this thread.
pub(super) fn lookup(name: &[u8]) -> Lookup {
    let Some(r) = ACTIVE.with(Cell::get) else { return Lookup::Unchanged };
    match r.lookup(name) {
        Lookup::Hidden if ORIGINALS.with(Cell::get) => Lookup::Unchanged,
        other => other,
    }
}

/// Whether the command whose own name is `own` is in this thread's
/// command table under some name: false only for a removed one
/// (`rename-command NAME ""`). COMMAND, COMMAND COUNT and COMMAND LIST
/// leave removed commands out, as Redis's iterate a table they are no
/// longer in; a renamed one is listed, under its own name, as Redis
/// lists it.
pub fn listed(own: &str) -> bool {
    let Some(r) = ACTIVE.with(Cell::get) else { return true };
    // Called by its own name (not hidden, not taken by another command),
    // or by a new one.
    let own_name_calls_it = !r.hidden.contains(own.as_bytes()) && !r.to_original.contains_key(own.as_bytes());
    own_name_calls_it || r.to_original.values().any(|&o| o == own)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn renames_apply_in_order_to_the_table_as_it_stands() {
        let r = Renames::build(&pairs(&[("FLUSHALL", ""), ("config", "cfg"), ("CFG", "Settings")])).unwrap();
        assert!(matches!(r.lookup(b"flushall"), Lookup::Hidden));
        assert!(matches!(r.lookup(b"config"), Lookup::Hidden));
        assert!(!matches!(r.lookup(b"cfg"), Lookup::Command(_)), "an intermediate name is gone");
        assert!(matches!(r.lookup(b"settings"), Lookup::Command("config")));
        assert!(matches!(r.lookup(b"get"), Lookup::Unchanged));
    }

    #[test]
    fn a_removed_command_is_not_listed_even_when_its_name_is_reused() {
        let r = Renames::build(&pairs(&[("get", ""), ("set", "get")])).unwrap();
        let leaked: &'static Renames = Box::leak(Box::new(r));
        ACTIVE.with(|a| a.set(Some(leaked)));
        assert!(!listed("get"), "GET was removed; its name now calls SET");
        assert!(listed("set"), "SET is called by the name get");
        assert!(listed("del"));
        ACTIVE.with(|a| a.set(None));
    }

    #[test]
    fn bad_renames_get_redis_errors() {
        let e = |v: &[(&str, &str)]| Renames::build(&pairs(v)).unwrap_err();
        assert_eq!(e(&[("nosuch", "x")]), "No such command in rename-command");
        assert_eq!(e(&[("set", "a"), ("set", "b")]), "No such command in rename-command");
        assert_eq!(e(&[("set", "get")]), "Target command name already exists");
        // A name freed by an earlier rename may be taken.
        assert!(Renames::build(&pairs(&[("get", "fetch"), ("set", "get")])).is_ok());
    }
}
