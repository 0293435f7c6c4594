//! `spindle http` started as root with no `--user`: the workers run as
//! `nobody` (nginx's default), not root, and everything they open still
//! works: the site, the stub_status page, the access log and its
//! rotation (`USR1`), and a reload (`HUP`) whose new workers drop root
//! again. `--user root` keeps root. A root with the served folder
//! unreadable by `nobody` is warned about at start. Every test is
//! skipped, with a reason, when not run as root; every wait polls under
//! a deadline; the server is killed when the test ends.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(15);

fn skip_unless_root(test: &str) -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    let root = unsafe { libc::geteuid() == 0 };
    if !root {
        eprintln!("skipped {test}: the default worker user applies only to a master started as root");
    }
    !root
}

/// `nobody`'s uid and primary gid, from the password file.
fn nobody() -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").unwrap();
    let f: Vec<&str> =
        passwd.lines().find(|l| l.starts_with("nobody:")).expect("a nobody user").split(':').collect();
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A master and its workers, killed on drop; the scratch folder removed.
struct Running {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
    error: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        for pid in workers(self.child.id()) {
            // SAFETY: kill(2) with a pid of our own server's worker.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Running {
    fn error_log(&self) -> String {
        read(&self.error)
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) with our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

/// A folder `tag` in the temporary directory with a site in `root/`
/// (`index.html`), readable by everyone: the test fixture, not the
/// subject, so `nobody` must be able to serve it.
fn site(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spindle-http-user-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("root")).unwrap();
    fs::write(dir.join("root/index.html"), "<h1>user</h1>\n").unwrap();
    for d in [&dir, &dir.join("root")] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// Starts `spindle http ARGS` on port 0 serving `dir/root`, logging to
/// `dir/error.log` and `dir/access.log`; waits for its address.
fn start(dir: PathBuf, args: &[&str]) -> Running {
    let (access, error) = (dir.join("access.log"), dir.join("error.log"));
    start_logging_to(dir, &access, &error, args)
}

/// [`start`] with the access log at `access` and the error log at `error`.
fn start_logging_to(dir: PathBuf, access: &Path, error: &Path, args: &[&str]) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_spindle"))
        .args(["http", "--listen", "127.0.0.1:0", "--status", "/status"])
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--access-log")
        .arg(access)
        .arg("--error-log")
        .arg(error)
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut run =
        Running { child, dir, addr: SocketAddr::from(([127, 0, 0, 1], 0)), error: error.to_path_buf() };
    let mut addr = None;
    wait_until("the listening line in the error log", || {
        addr = run.error_log().lines().find_map(|l| l.split("listening on ").nth(1)?.trim().parse().ok());
        addr.is_some()
    });
    run.addr = addr.unwrap();
    run
}

fn workers(master: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for t in fs::read_dir(format!("/proc/{master}/task")).into_iter().flatten().flatten() {
        if let Ok(s) = fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    out
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_default()
}

/// The `Uid:` line of `/proc/PID/status`.
fn uid_line(pid: u32) -> String {
    let status = read(Path::new(&format!("/proc/{pid}/status")));
    status.lines().find(|l| l.starts_with("Uid:")).unwrap_or("").to_string()
}

fn get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Waits until the master has `n` workers and each has taken `uid`
/// (a worker is visible from its `fork`, a moment before it drops root).
fn wait_workers_as(run: &Running, n: usize, uid: u32) -> Vec<u32> {
    let want = format!("Uid:\t{uid}\t{uid}\t{uid}\t{uid}");
    let mut pids = Vec::new();
    wait_until(&format!("{n} workers with {want:?}"), || {
        pids = workers(run.child.id());
        pids.len() == n && pids.iter().all(|&p| uid_line(p) == want)
    });
    pids
}

#[test]
fn a_root_master_without_user_runs_its_workers_as_nobody() {
    if skip_unless_root("a_root_master_without_user_runs_its_workers_as_nobody") {
        return;
    }
    let (uid, gid) = nobody();
    let run = start(site("default"), &["--workers", "2"]);
    let first = wait_workers_as(&run, 2, uid);
    for &pid in &first {
        let status = read(Path::new(&format!("/proc/{pid}/status")));
        let gids = status.lines().find(|l| l.starts_with("Gid:")).unwrap_or("");
        assert_eq!(gids, format!("Gid:\t{gid}\t{gid}\t{gid}\t{gid}"), "worker {pid}: nobody's primary group");
    }
    let log = run.error_log();
    assert_eq!(log.matches("no `user` is set: the workers run as nobody").count(), 1, "{log}");
    assert!(
        !log.contains("cannot read directory") && !log.contains("cannot open log file"),
        "nothing to warn about with a readable site and log folder: {log}"
    );

    // The site and the status page are served by the unprivileged workers.
    let page = get(run.addr, "/");
    assert!(page.starts_with("HTTP/1.1 200") && page.ends_with("<h1>user</h1>\n"), "{page}");
    assert!(get(run.addr, "/status").contains("Active connections:"));

    // The access log was created by the master and given to nobody; a
    // rotation gives a new file the workers reopen and write.
    let access = run.dir.join("access.log");
    wait_until("the first access log line", || read(&access).contains("\"GET / HTTP/1.1\" 200"));
    assert_eq!(fs::metadata(&access).unwrap().uid(), uid);
    fs::rename(&access, run.dir.join("access.log.1")).unwrap();
    run.signal(libc::SIGUSR1);
    wait_until("both workers to reopen their logs", || {
        run.error_log().matches("worker reopened its logs").count() == 2
    });
    assert_eq!(fs::metadata(&access).unwrap().uid(), uid, "the master gave the new file to nobody");
    assert!(get(run.addr, "/index.html").starts_with("HTTP/1.1 200"));
    wait_until("a line in the new access log", || read(&access).contains("\"GET /index.html HTTP/1.1\" 200"));
    assert!(!read(&run.dir.join("access.log.1")).contains("index.html"), "a line went to the rotated file");

    // A reload's workers drop root again; the notice is not repeated.
    run.signal(libc::SIGHUP);
    let second = {
        let mut pids = Vec::new();
        wait_until("the old workers to be replaced", || {
            pids = wait_workers_as(&run, 2, uid);
            pids.iter().all(|p| !first.contains(p))
        });
        pids
    };
    assert_eq!(second.len(), 2);
    assert!(get(run.addr, "/").starts_with("HTTP/1.1 200"));
    assert_eq!(run.error_log().matches("no `user` is set").count(), 1);
}

#[test]
fn user_root_keeps_the_workers_as_root() {
    if skip_unless_root("user_root_keeps_the_workers_as_root") {
        return;
    }
    let run = start(site("root"), &["--workers", "1", "--user", "root"]);
    // Once it has served a request the worker is past any privilege drop.
    assert!(get(run.addr, "/").starts_with("HTTP/1.1 200"));
    let pids = wait_workers_as(&run, 1, 0);
    assert_eq!(uid_line(pids[0]), "Uid:\t0\t0\t0\t0");
    assert!(!run.error_log().contains("no `user` is set"), "{}", run.error_log());
}

#[test]
fn a_root_nobody_cannot_read_is_warned_about_and_gets_403() {
    if skip_unless_root("a_root_nobody_cannot_read_is_warned_about_and_gets_403") {
        return;
    }
    let dir = site("private");
    let root = dir.join("root");
    fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();
    let run = start(dir, &["--workers", "1"]);
    let log = run.error_log();
    let warning =
        log.lines().find(|l| l.contains("WARN") && l.contains("cannot read directory")).unwrap_or("");
    for part in [root.to_str().unwrap(), "nobody", "user = \"root\"", "readable"] {
        assert!(warning.contains(part), "the warning names {part:?}: {log}");
    }
    let reply = get(run.addr, "/");
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
}

/// The master opens the logs as root, the workers inherit them (as
/// nginx's do) and, after a rotation, get the reopened files from the
/// master over their channels (where nginx's reopen by name and fail): a
/// log folder `nobody` cannot enter (0700, root's) gets every line, before
/// and after `USR1`. The workers opened the access log by name after
/// dropping root, failed, and ran with logging off; and after a rotation
/// they could not reopen either log.
#[test]
fn logs_in_a_folder_nobody_cannot_enter_are_written_and_rotated() {
    if skip_unless_root("logs_in_a_folder_nobody_cannot_enter_are_written_and_rotated") {
        return;
    }
    let dir = site("logdir");
    let logs = dir.join("logs");
    fs::create_dir(&logs).unwrap();
    fs::set_permissions(&logs, fs::Permissions::from_mode(0o700)).unwrap();
    let (access, error) = (logs.join("access.log"), logs.join("error.log"));
    let run = start_logging_to(dir, &access, &error, &["--workers", "2"]);
    let (uid, _) = nobody();
    wait_workers_as(&run, 2, uid);
    assert!(get(run.addr, "/").starts_with("HTTP/1.1 200"));
    wait_until("the access log line", || read(&access).contains("\"GET / HTTP/1.1\" 200"));

    fs::rename(&access, logs.join("access.log.1")).unwrap();
    fs::rename(&error, logs.join("error.log.1")).unwrap();
    run.signal(libc::SIGUSR1);
    wait_until("both workers to reopen their logs, in the new error log", || {
        read(&error).matches("worker reopened its logs").count() == 2
    });
    assert!(get(run.addr, "/index.html").starts_with("HTTP/1.1 200"));
    wait_until("the line in the new access log", || {
        read(&access).contains("\"GET /index.html HTTP/1.1\" 200")
    });
    assert!(!read(&logs.join("access.log.1")).contains("index.html"), "a line went to the rotated file");
    let all = read(&logs.join("error.log.1")) + &read(&error);
    assert!(!all.contains("cannot open") && !all.contains("cannot reopen"), "{all}");
}

/// A binary upgrade (`USR2`): the new master, started by the old one, is
/// root again (to bind and reopen) and its workers drop to `nobody` again.
#[test]
fn an_upgraded_master_is_root_and_its_workers_drop_again() {
    if skip_unless_root("an_upgraded_master_is_root_and_its_workers_drop_again") {
        return;
    }
    let (uid, _) = nobody();
    let dir = site("upgrade");
    let pid_file = dir.join("spindle.pid");
    let run = start(dir, &["--workers", "1", "--pid-file", pid_file.to_str().unwrap()]);
    wait_workers_as(&run, 1, uid);
    run.signal(libc::SIGUSR2);
    let mut new_master = 0;
    wait_until("the new master's pid file", || {
        new_master = read(&pid_file).trim().parse().unwrap_or(0);
        new_master != 0 && new_master != run.child.id()
    });
    // Killed when the test ends, whatever happens (before the old master,
    // whose drop kills only its own children).
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            for pid in workers(self.0).into_iter().chain([self.0]) {
                // SAFETY: kill(2) with the pid of a process this test started.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
    }
    let _kill = Kill(new_master);
    assert_eq!(uid_line(new_master), "Uid:\t0\t0\t0\t0", "the new master keeps root");
    let want = format!("Uid:\t{uid}\t{uid}\t{uid}\t{uid}");
    wait_until("the new master's worker to drop root", || {
        let w = workers(new_master);
        w.len() == 1 && uid_line(w[0]) == want
    });
    // The old master's generation stops; the new one serves.
    run.signal(libc::SIGQUIT);
    wait_until("the old workers to exit", || workers(run.child.id()).is_empty());
    assert!(get(run.addr, "/").starts_with("HTTP/1.1 200"));
}

/// A file the worker user may not read gets 403, and the error log says
/// why, as nginx's does (`open() "..." failed (13: Permission denied)`):
/// with workers no longer root by default, that line is how an operator
/// finds the file to fix. spindle answered 403 and logged nothing.
#[test]
fn a_file_nobody_cannot_read_is_a_403_explained_in_the_error_log() {
    if skip_unless_root("a_file_nobody_cannot_read_is_a_403_explained_in_the_error_log") {
        return;
    }
    let dir = site("private-file");
    let secret = dir.join("root/secret.txt");
    fs::write(&secret, "root only\n").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let run = start(dir, &["--workers", "1"]);
    let reply = get(run.addr, "/secret.txt");
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    let want = format!("open() \"{}\" failed", secret.display());
    wait_until("the error log line", || {
        run.error_log()
            .lines()
            .any(|l| l.contains("ERROR") && l.contains(&want) && l.contains("Permission denied"))
    });
    assert!(get(run.addr, "/").starts_with("HTTP/1.1 200"));
    assert_eq!(run.error_log().matches("ERROR").count(), 1, "{}", run.error_log());
}

/// Removing `user` from the configuration and reloading brings the
/// default in: the new workers run as `nobody`, and the notice says so
/// (it had not been said at start, with `user = "root"`).
#[test]
fn a_reload_without_user_drops_the_new_workers_to_nobody() {
    if skip_unless_root("a_reload_without_user_drops_the_new_workers_to_nobody") {
        return;
    }
    let (uid, _) = nobody();
    let dir = site("reload");
    let config = dir.join("spindle.toml");
    fs::write(&config, "workers = 1\nuser = \"root\"\n").unwrap();
    let run = start(dir, &["--config", config.to_str().unwrap()]);
    assert!(get(run.addr, "/").starts_with("HTTP/1.1 200"));
    wait_workers_as(&run, 1, 0);
    assert!(!run.error_log().contains("no `user` is set"));
    fs::write(&config, "workers = 1\n").unwrap();
    run.signal(libc::SIGHUP);
    wait_workers_as(&run, 1, uid);
    assert!(get(run.addr, "/").starts_with("HTTP/1.1 200"));
    wait_until("the notice", || run.error_log().contains("no `user` is set: the workers run as nobody"));
}
