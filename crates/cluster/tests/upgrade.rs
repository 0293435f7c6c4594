//! nginx's binary upgrade: USR2 starts a new master on the inherited
//! listeners, QUIT to the old one leaves the new one serving, and no
//! connection is refused meanwhile.

mod common;

use common::{alive, field, reply_pid, wait_until, Server, WAIT};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn upgrade_under_load(accept: &str) {
    let mut s = Server::start("", &["--workers", "2", "--accept", accept]);
    let old_workers = s.wait_workers(1, 2);
    let old_master = s.pid();
    let port = s.port;

    // Clients hammer the port through the whole sequence.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut ok, mut failed) = (0u32, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    match common::ask(port, "hi") {
                        Ok(r) if r.starts_with("pid=") => ok += 1,
                        Ok(r) => failed.push(format!("bad reply {r:?}")),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                (ok, failed)
            })
        })
        .collect();

    s.signal("USR2");
    let oldbin = {
        let mut p = s.pid_file.clone().into_os_string();
        p.push(".oldbin");
        std::path::PathBuf::from(p)
    };
    // The new master writes the pid file; the old one's is renamed.
    let mut new_master = 0;
    assert!(wait_until(WAIT, || {
        new_master =
            std::fs::read_to_string(&s.pid_file).ok().and_then(|p| p.trim().parse().ok()).unwrap_or(0);
        new_master != 0 && new_master != old_master && oldbin.exists()
    }));
    // Both generations run; the new master's workers are generation 1 too.
    assert!(wait_until(WAIT, || s.started().len() >= 4), "{:?}", s.stderr());
    let new_workers: Vec<u32> =
        s.started().into_iter().map(|(p, _)| p).filter(|p| !old_workers.contains(p)).collect();
    s.signal("QUIT");
    assert!(s.wait_exit(WAIT).expect("old master exits").success());
    assert!(old_workers.iter().all(|&p| !alive(p)));
    assert!(!oldbin.exists(), "the old master removes its .oldbin pid file");
    // Only the new master's workers answer now.
    for _ in 0..10 {
        let r = common::ask(port, "hi").unwrap();
        assert!(new_workers.contains(&reply_pid(&r).unwrap()), "{r}");
        assert_eq!(field(&r, "gen"), Some("1"));
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for c in clients {
        let (ok, failed) = c.join().unwrap();
        assert!(failed.is_empty(), "{accept}: failed requests during the upgrade: {failed:?}");
        total += ok;
    }
    assert!(total > 10, "the client loop ran ({total} requests)");
    assert!(alive(new_master));
    common::signal(new_master, "QUIT");
    assert!(wait_until(WAIT, || !alive(new_master)));
}

#[test]
fn usr2_then_quit_hands_over_without_a_refused_connection_reuseport() {
    upgrade_under_load("reuseport");
}

#[test]
fn usr2_then_quit_hands_over_without_a_refused_connection_master() {
    upgrade_under_load("master");
}

#[test]
fn a_new_binary_that_fails_gives_the_pid_file_back() {
    let s = Server::start("reply=one\n", &["--workers", "1"]);
    s.wait_workers(1, 1);
    // The new binary reads the same config file: break it so it exits.
    s.set_config("workers=zero\n");
    s.signal("USR2");
    assert!(
        wait_until(WAIT, || s.stderr().iter().any(|l| l.contains("the new binary exited"))),
        "{:?}",
        s.stderr()
    );
    let pid: u32 = std::fs::read_to_string(&s.pid_file).unwrap().trim().parse().unwrap();
    assert_eq!(pid, s.pid());
    let mut oldbin = s.pid_file.clone().into_os_string();
    oldbin.push(".oldbin");
    assert!(!std::path::Path::new(&oldbin).exists());
    assert_eq!(field(&s.ask("hi").unwrap(), "reply"), Some("one"));
}

/// USR2 sent to the new master while the old one still runs (nginx
/// ignores it then) used to start a third master, which renamed the pid
/// file over the old master's `.oldbin`: the first master's pid was in no
/// file any more. It is refused until the old master is gone.
#[test]
fn usr2_to_a_new_master_is_refused_while_the_old_one_runs() {
    let mut s = Server::start("", &["--workers", "1"]);
    s.wait_workers(1, 1);
    let old_master = s.pid();
    let oldbin = {
        let mut p = s.pid_file.clone().into_os_string();
        p.push(".oldbin");
        std::path::PathBuf::from(p)
    };
    let read = |p: &std::path::Path| -> u32 {
        std::fs::read_to_string(p).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
    };
    s.signal("USR2");
    let mut new_master = 0;
    assert!(wait_until(WAIT, || {
        new_master = read(&s.pid_file);
        new_master != 0 && new_master != old_master && read(&oldbin) == old_master
    }));
    assert!(wait_until(WAIT, || s.started().len() >= 2), "{:?}", s.stderr());
    common::signal(new_master, "USR2");
    assert!(
        wait_until(WAIT, || s.stderr().iter().any(|l| l.contains("binary upgrade refused"))),
        "{:?}",
        s.stderr()
    );
    assert_eq!((read(&s.pid_file), read(&oldbin)), (new_master, old_master));
    assert_eq!(s.started().len(), 2, "no third master's worker");
    // Once the old master is gone, the new one may upgrade in turn.
    s.signal("QUIT");
    assert!(s.wait_exit(WAIT).expect("old master exits").success());
    assert!(wait_until(WAIT, || !oldbin.exists()));
    common::signal(new_master, "USR2");
    let mut third = 0;
    assert!(wait_until(WAIT, || {
        third = read(&s.pid_file);
        third != new_master && third != 0 && read(&oldbin) == new_master
    }));
    common::signal(new_master, "QUIT");
    assert!(wait_until(WAIT, || !alive(new_master)));
    common::signal(third, "QUIT");
    assert!(wait_until(WAIT, || !alive(third)));
}

/// The usual upgrade: the new binary is installed over the old one (a new
/// file renamed over it, as `install`, package managers and cargo do),
/// then USR2. The master asked the kernel for its executable at USR2
/// time, got the old, deleted inode ("demo (deleted)") and could not
/// start the new binary at all.
#[test]
fn usr2_starts_the_binary_installed_over_the_running_one() {
    let bin = common::Dir::new("bin");
    let exe = bin.0.join("demo");
    std::fs::copy(common::DEMO, &exe).unwrap();
    let mut s = Server::start_exe(&exe, "", &["--workers", "1"]);
    s.wait_workers(1, 1);
    let old_master = s.pid();
    // The new binary: another inode, renamed over the running one. A hard
    // link, not a copy, so that no write end of it can be open (a copy
    // could be "busy", ETXTBSY, when the master execs it).
    let staged = bin.0.join("demo.new");
    // (A copy where the temporary folder is on another file system.)
    std::fs::hard_link(common::DEMO, &staged)
        .or_else(|_| std::fs::copy(common::DEMO, &staged).map(drop))
        .unwrap();
    std::fs::rename(&staged, &exe).unwrap();
    s.signal("USR2");
    let mut new_master = 0;
    let started = wait_until(WAIT, || {
        new_master =
            std::fs::read_to_string(&s.pid_file).ok().and_then(|p| p.trim().parse().ok()).unwrap_or(0);
        new_master != 0 && new_master != old_master
    });
    assert!(started, "no new master: {:?}", s.stderr());
    assert!(wait_until(WAIT, || s.started().len() >= 2), "{:?}", s.stderr());
    s.signal("QUIT");
    assert!(s.wait_exit(WAIT).expect("old master exits").success());
    assert!(field(&s.ask("hi").unwrap(), "pid").is_some());
    common::signal(new_master, "QUIT");
    assert!(wait_until(WAIT, || !alive(new_master)));
}
