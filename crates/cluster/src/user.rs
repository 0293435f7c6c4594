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
//!
//! # The default: `nobody`
//!
//! A root master with no `user` setting runs its workers as
//! [`DEFAULT_USER`], `nobody` (with its primary group, `nogroup` on
//! Debian), as nginx does with its compiled-in default. This is privilege
//! separation: the master keeps root, which it needs to bind ports below
//! 1024, to create and hand over the log files on `USR1` and to start a
//! new binary on `USR2`; the workers, which parse whatever the network
//! sends, do not, so a bug in request handling does not run as root. It
//! says so once, at start, in the error log. `user = "root"` keeps the
//! workers as root, explicitly. A master that is not root is unchanged:
//! its workers run as whoever started it.
//!
//! The log files need nothing of the worker user: the master opens them,
//! as root, and the workers inherit them, as nginx's do, and on `USR1`
//! the master hands the files it reopened to the workers over their
//! channels (where nginx's workers reopen by name, and fail in a folder
//! they cannot enter): see [`ErrorLog`](crate::ErrorLog). What they serve
//! they open by name, so they must reach it as their user: the
//! application declares the directories it serves
//! ([`ClusterConfig::worker_reads`]), and the master, at start and on
//! every reload, asks the kernel whether the worker user may read and
//! search them (in a child that takes the user's ids, so that ACLs
//! count), and warns, naming the directory, the user and the fix, when it
//! may not. It warns rather than refuses, as nginx (which does not check
//! at all, and answers 403) would start: the permissions may be fixed
//! while it runs, and the warning says what a 403 would not.

use crate::config::ClusterConfig;
use crate::sys;
use std::fmt;
use std::io;
use std::path::Path;
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

/// The user a root master runs its workers as when no `user` is set
/// (nginx's compiled-in default).
pub const DEFAULT_USER: &str = "nobody";

/// The user the workers really switch to: `user` if set and this process
/// is root, else none.
pub(crate) fn in_effect(user: Option<&WorkerUser>) -> Option<&WorkerUser> {
    user.filter(|_| sys::geteuid() == 0)
}

/// Fills in the default: in a root master with no `user` set, sets it to
/// [`DEFAULT_USER`] and returns it (for the start-up notice, see
/// [`announce_default`]); otherwise changes nothing and returns `None`.
///
/// # Errors
/// The default user does not exist (or cannot be looked up): refused
/// like a bad `user` setting, as nginx refuses to start, rather than
/// running the workers as root without being asked to.
pub(crate) fn apply_default(cluster: &mut ClusterConfig) -> Result<Option<WorkerUser>, String> {
    if cluster.user.is_some() || sys::geteuid() != 0 {
        return Ok(None);
    }
    let u = WorkerUser::lookup(DEFAULT_USER).map_err(|e| {
        format!(
            "no `user` is set, so the workers would run as '{DEFAULT_USER}', but: {e}; \
             set `user` (`user = \"root\"` keeps the workers as root)"
        )
    })?;
    cluster.user = Some(u.clone());
    Ok(Some(u))
}

/// The start-up notice that the workers run as the default user.
pub(crate) fn announce_default(u: &WorkerUser) {
    tracing::info!(
        user = %u.name,
        uid = u.uid,
        gid = u.gid,
        "no `user` is set: the workers run as {}, not root (privilege separation, as nginx does); \
         set `user` to choose the account, `user = \"root\"` to keep root",
        u.name
    );
}

/// Warns about each [`ClusterConfig::worker_reads`] directory the
/// workers of a root master cannot read and search as their user. Called
/// in the master at start and on reload.
pub(crate) fn warn_unreachable(cluster: &ClusterConfig) {
    let Some(u) = in_effect(cluster.user.as_ref()).filter(|u| u.uid != 0) else { return };
    let fix = "set `user` to an account that can (`user = \"root\"` keeps the workers as root)";
    for dir in &cluster.worker_reads {
        if !may(u, dir, libc::R_OK | libc::X_OK) {
            tracing::warn!(
                "the workers run as {u} (uid {}), which cannot read directory {}: every request for it \
                 will get 403 Forbidden; make it and each directory above it readable and searchable \
                 by {u} (chmod o+rx), or {fix}",
                u.uid,
                dir.display()
            );
        }
    }
}

/// Whether `u` may access `path` with `mode`; true when it cannot be
/// told (the check itself failed: logged, and nothing to warn about).
fn may(u: &WorkerUser, path: &Path, mode: libc::c_int) -> bool {
    sys::access_as(path, mode, u.uid, u.gid, &u.groups).unwrap_or_else(|e| {
        tracing::debug!(path = %path.display(), error = %e, "cannot check the workers' access");
        true
    })
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

    #[test]
    fn a_root_master_defaults_to_nobody_and_keeps_an_explicit_root() {
        let mut c = ClusterConfig::default();
        let filled = apply_default(&mut c).unwrap();
        if sys::geteuid() != 0 {
            eprintln!("not root: checking only that nothing is filled in");
            assert_eq!((filled, c.user), (None, None));
            return;
        }
        let u = filled.expect("the default user");
        assert_eq!(u.name, DEFAULT_USER);
        assert_ne!(u.uid, 0);
        assert_eq!(c.user.as_ref(), Some(&u));
        assert_eq!(apply_default(&mut c).unwrap(), None, "already set");
        let mut c = ClusterConfig { user: Some("root".parse().unwrap()), ..ClusterConfig::default() };
        assert_eq!(apply_default(&mut c).unwrap(), None);
        assert_eq!(c.user.unwrap().uid, 0);
    }

    #[test]
    fn access_is_checked_with_the_workers_ids() {
        if sys::geteuid() != 0 {
            eprintln!("skipped: taking another user's ids needs root");
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        let nobody = WorkerUser::lookup(DEFAULT_USER).unwrap();
        let root = WorkerUser::lookup("root").unwrap();
        let dir = std::env::temp_dir().join(format!("spindle-user-access-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rx = libc::R_OK | libc::X_OK;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(!may(&nobody, &dir, rx));
        assert!(may(&root, &dir, rx));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(may(&nobody, &dir, rx));
        assert!(!may(&nobody, &dir, libc::W_OK));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
