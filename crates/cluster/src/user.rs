//! The user workers run as (nginx's `user USER [GROUP]`).
//!
//! A master started as root binds privileged ports and opens its files,
//! then each worker gives root up right after `fork` and before it runs
//! the application, so that a bug in request handling runs with the
//! rights of an unprivileged account. The order is forced by the kernel:
//! the supplementary groups (`setgroups`) and the group ids (`setresgid`)
//! can only be changed while still root, so they go first, and the user
//! ids (`setresuid`, real, effective *and* saved) last. Setting all three
//! user ids is what makes the drop permanent: with the saved id left at 0
//! the process could `setuid(0)` back. The worker checks exactly
//! that afterwards with `getresuid`, and that `setuid(0)` now fails.
//!
//! The kernel also marks a process that changed its ids as not dumpable
//! (no core file, `/proc/PID` owned by root); like nginx, the worker sets
//! `PR_SET_DUMPABLE` back on, so that its crashes leave a core.
//!
//! The names are resolved when the configuration is loaded (an unknown
//! user or group is a configuration error, refused like any other: on
//! `SIGHUP` the old workers keep serving), not in the worker, which must
//! not depend on the name service after `fork`. Unlike nginx, whose group
//! defaults to a group *named* like the user (so `user nobody;` fails on
//! Debian, where nobody's group is `nogroup`), the group defaults to the
//! user's primary group from the password database.
//!
//! A master that is not root cannot change users: the setting is then
//! ignored with a warning, as nginx does.

use crate::sys;
use std::fmt;
use std::io;
use std::str::FromStr;

/// An account to run the workers as, resolved from its name.
///
/// ```
/// use spindle_cluster::WorkerUser;
///
/// let root: WorkerUser = "root".parse()?;
/// assert_eq!((root.uid, root.gid), (0, 0));
/// assert!("no-such-user-here".parse::<WorkerUser>().unwrap_err().contains("unknown user"));
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerUser {
    /// The user's name.
    pub name: String,
    /// The group's name, if one was given (`user:group`).
    pub group: Option<String>,
    /// The user id.
    pub uid: u32,
    /// The group id: the named group's, or the user's primary group.
    pub gid: u32,
    /// The supplementary groups the user belongs to (as `initgroups`
    /// would set them), including `gid`.
    pub groups: Vec<u32>,
}

impl WorkerUser {
    /// Resolves `USER` or `USER:GROUP` with the password and group
    /// databases.
    ///
    /// # Errors
    /// An empty name, an unknown user or group, or a failing lookup.
    pub fn lookup(spec: &str) -> Result<WorkerUser, String> {
        let (name, group) = match spec.split_once(':') {
            Some((u, g)) => (u.trim(), Some(g.trim())),
            None => (spec.trim(), None),
        };
        if name.is_empty() || group.is_some_and(str::is_empty) {
            return Err(format!("'{spec}' is not USER or USER:GROUP"));
        }
        let (uid, primary) = sys::lookup_user(name)
            .map_err(|e| format!("looking up user '{name}': {e}"))?
            .ok_or_else(|| format!("unknown user '{name}'"))?;
        let gid = match group {
            Some(g) => sys::lookup_group(g)
                .map_err(|e| format!("looking up group '{g}': {e}"))?
                .ok_or_else(|| format!("unknown group '{g}'"))?,
            None => primary,
        };
        let groups = sys::group_list(name, gid).map_err(|e| format!("groups of user '{name}': {e}"))?;
        Ok(WorkerUser { name: name.to_string(), group: group.map(str::to_string), uid, gid, groups })
    }
}

impl FromStr for WorkerUser {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WorkerUser::lookup(s)
    }
}

impl fmt::Display for WorkerUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.group {
            Some(g) => write!(f, "{}:{g}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The user the workers really switch to: `user` if set and this process
/// is root, else none.
pub(crate) fn in_effect(user: Option<&WorkerUser>) -> Option<&WorkerUser> {
    user.filter(|_| sys::geteuid() == 0)
}

/// Warns, as nginx does, when a configured user will be ignored because
/// the master is not root. Called on each load of the configuration.
pub(crate) fn warn_if_ignored(user: Option<&WorkerUser>) {
    if let Some(u) = user.filter(|_| sys::geteuid() != 0) {
        tracing::warn!(user = %u, "the `user` setting makes sense only if the master runs as root; ignored");
    }
}

/// In a freshly forked worker of a root master: becomes `u` for good
/// (groups, then group ids, then user ids), checks that root cannot be
/// regained, and makes the process dumpable again.
///
/// # Errors
/// The failing call, or a check that shows the drop did not hold; the
/// worker must then exit rather than serve as root.
pub(crate) fn drop_privileges(u: &WorkerUser) -> io::Result<()> {
    let ctx = |what: &str, e: io::Error| io::Error::new(e.kind(), format!("{what} for user {u}: {e}"));
    sys::set_groups(&u.groups).map_err(|e| ctx("setgroups", e))?;
    sys::set_gids(u.gid).map_err(|e| ctx("setresgid", e))?;
    sys::set_uids(u.uid).map_err(|e| ctx("setresuid", e))?;
    let (ruid, euid, suid) = sys::get_uids()?;
    let (rgid, egid, sgid) = sys::get_gids()?;
    if [ruid, euid, suid] != [u.uid; 3] || [rgid, egid, sgid] != [u.gid; 3] {
        return Err(io::Error::other(format!(
            "privileges not dropped: uids {ruid}/{euid}/{suid}, gids {rgid}/{egid}/{sgid}, wanted {}/{}",
            u.uid, u.gid
        )));
    }
    if u.uid != 0 && sys::set_uids(0).is_ok() {
        return Err(io::Error::other("privileges not dropped: setuid(0) succeeded"));
    }
    sys::set_dumpable().map_err(|e| ctx("prctl(PR_SET_DUMPABLE)", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_resolve_and_bad_ones_say_why() {
        let r = WorkerUser::lookup("root:root").unwrap();
        assert_eq!((r.uid, r.gid, r.group.as_deref()), (0, 0, Some("root")));
        assert!(r.groups.contains(&0));
        assert_eq!(r.to_string(), "root:root");
        assert!(WorkerUser::lookup("root:no-such-group-here").unwrap_err().contains("unknown group"));
        assert!(WorkerUser::lookup("").unwrap_err().contains("USER"));
        assert!(WorkerUser::lookup("root:").unwrap_err().contains("USER:GROUP"));
    }
}
