//! Child processes: stdio pipes, exit statuses, kill, spawn errors, and the
//! SIGCHLD fallback (the whole file rerun in a child process with
//! `SPINDLE_NO_PIDFD=1`).

mod common;
use spindle_loop::{Loop, Pipes, ProcessId, ProcessOptions, ReadResult, Stdio, StreamId};
use std::cell::RefCell;
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::rc::Rc;

/// Blocks SIGCHLD in the main thread before `main` runs, so that every
/// thread of this test binary (all spawned from it) inherits the block. The
/// SIGCHLD fallback reads the signal from a signalfd, which only works when
/// no thread leaves the signal unblocked (see `Loop::signal_start`); the
/// pidfd path does not care.
#[used]
#[link_section = ".init_array"]
static BLOCK_SIGCHLD: extern "C" fn() = block_sigchld;

extern "C" fn block_sigchld() {
    // SAFETY: pthread_sigmask with a set initialised by sigemptyset and
    // sigaddset; nothing else runs yet.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn fallback() -> bool {
    std::env::var_os("SPINDLE_NO_PIDFD").is_some_and(|v| v != "0")
}

/// Runs the loop to completion (bounded) and checks every handle closed.
fn run_bounded(lp: &mut Loop) {
    common::run_bounded(lp);
    assert!(lp.handles().is_empty(), "every handle was closed: {:?}", lp.handles());
}

type Buf = Rc<RefCell<Vec<u8>>>;

/// Reads `s` to end of stream into the returned buffer, then closes it.
fn collect(lp: &mut Loop, s: StreamId) -> Buf {
    let buf: Buf = Rc::default();
    let b = buf.clone();
    lp.read_start(s, Vec::new(), move |lp, s, r| match r {
        ReadResult::Data(d) => b.borrow_mut().extend_from_slice(d),
        ReadResult::Eof => lp.close(s.handle(), None),
        ReadResult::Error(e) => panic!("reading a child's pipe: {e}"),
    })
    .unwrap();
    buf
}

/// An `on_exit` that records the status and closes the handle.
fn record(
    status: &Rc<RefCell<Option<ExitStatus>>>,
) -> impl FnOnce(&mut Loop, ProcessId, ExitStatus) + 'static {
    let status = status.clone();
    move |lp, id, st| {
        *status.borrow_mut() = Some(st);
        lp.close(id.handle(), None);
    }
}

fn sh(script: &str) -> ProcessOptions {
    ProcessOptions::new("/bin/sh").args(["-c", script])
}

#[test]
fn write_stdin_read_stdout_and_exit_status() {
    let mut lp = Loop::new().unwrap();
    let status = Rc::default();
    let opts = sh("read x; echo got:$x; exit 3").stdio(Stdio::Pipe, Stdio::Pipe, Stdio::Inherit);
    let (child, pipes) = lp.spawn(opts, record(&status)).unwrap();
    assert!(lp.pid(child).is_some_and(|p| p > 0));
    assert!(pipes.stderr.is_none());
    assert!(lp.is_active(child.handle()), "a running child keeps the loop alive");
    let stdin = pipes.stdin.unwrap();
    lp.write(
        stdin,
        b"hello\n",
        Some(Box::new(|lp, s, r| {
            r.unwrap();
            lp.close(s.handle(), None);
        })),
    )
    .unwrap();
    let out = collect(&mut lp, pipes.stdout.unwrap());
    run_bounded(&mut lp);
    assert_eq!(String::from_utf8_lossy(&out.borrow()), "got:hello\n");
    assert_eq!(status.borrow().unwrap().code(), Some(3));
}

#[test]
fn stderr_env_and_cwd() {
    let mut lp = Loop::new().unwrap();
    let status = Rc::default();
    let dir = std::env::temp_dir().canonicalize().unwrap();
    let mut opts = sh("echo $GREETING; pwd; echo oops >&2; test -z \"$HOME\"").stdio(
        Stdio::Null,
        Stdio::Pipe,
        Stdio::Pipe,
    );
    opts.env = Some(vec![("GREETING".into(), "bonjour".into())]);
    opts.cwd = Some(dir.clone());
    let (_, pipes) = lp.spawn(opts, record(&status)).unwrap();
    assert!(pipes.stdin.is_none());
    let out = collect(&mut lp, pipes.stdout.unwrap());
    let err = collect(&mut lp, pipes.stderr.unwrap());
    run_bounded(&mut lp);
    assert_eq!(String::from_utf8_lossy(&out.borrow()), format!("bonjour\n{}\n", dir.display()));
    assert_eq!(&*err.borrow(), b"oops\n");
    assert!(status.borrow().unwrap().success(), "the environment was replaced, HOME unset");
}

#[test]
fn null_stdio_gives_no_pipes() {
    let mut lp = Loop::new().unwrap();
    let status = Rc::default();
    let opts = sh("cat; exit 0").stdio(Stdio::Null, Stdio::Null, Stdio::Null);
    let (_, pipes) = lp.spawn(opts, record(&status)).unwrap();
    assert_eq!(pipes, Pipes::default());
    run_bounded(&mut lp);
    assert!(status.borrow().unwrap().success());
}

#[test]
fn kill_with_sigterm_reports_the_signal() {
    let mut lp = Loop::new().unwrap();
    let status = Rc::default();
    let opts = ProcessOptions::new("sleep").args(["30"]).stdio(Stdio::Null, Stdio::Null, Stdio::Null);
    let (child, _) = lp.spawn(opts, record(&status)).unwrap();
    lp.process_kill(child, 0).unwrap();
    lp.process_kill(child, libc::SIGTERM).unwrap();
    run_bounded(&mut lp);
    let st = status.borrow().unwrap();
    assert_eq!(st.signal(), Some(libc::SIGTERM), "{st:?}");
    assert_eq!(st.code(), None);
}

#[test]
fn kill_after_exit_is_esrch_and_bad_signals_are_refused() {
    let mut lp = Loop::new().unwrap();
    let outcome = Rc::new(RefCell::new(None));
    let o = outcome.clone();
    let opts = ProcessOptions::new("true");
    let (child, _) = lp
        .spawn(opts, move |lp, id, _| {
            *o.borrow_mut() = Some(lp.process_kill(id, libc::SIGTERM).unwrap_err().raw_os_error());
            lp.close(id.handle(), None);
        })
        .unwrap();
    let e = lp.process_kill(child, 65).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    run_bounded(&mut lp);
    assert_eq!(*outcome.borrow(), Some(Some(libc::ESRCH)));
    assert_eq!(lp.process_kill(child, libc::SIGTERM).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(lp.pid(child), None);
}

#[test]
fn spawning_a_missing_program_is_an_error() {
    let mut lp = Loop::new().unwrap();
    let opts = ProcessOptions::new("/nonexistent/spindle-no-such-program").stdio(
        Stdio::Pipe,
        Stdio::Pipe,
        Stdio::Pipe,
    );
    let e = lp.spawn(opts, |_, _, _| panic!("never started")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("spindle-no-such-program"), "{e}");
    assert!(lp.handles().is_empty(), "no handle or pipe is left behind");
    assert!(!lp.alive());

    let e = lp.spawn(ProcessOptions::new("spindle-no-such-program-on-path"), |_, _, _| {}).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    let mut opts = ProcessOptions::new("true");
    opts.cwd = Some("/nonexistent/spindle-dir".into());
    assert!(lp.spawn(opts, |_, _, _| {}).is_err());
    assert!(lp.handles().is_empty());
}

#[test]
fn many_children_at_once() {
    let mut lp = Loop::new().unwrap();
    let codes = Rc::new(RefCell::new(Vec::new()));
    for i in 0..20 {
        let c = codes.clone();
        lp.spawn(sh(&format!("exit {i}")), move |lp, id, st| {
            c.borrow_mut().push(st.code().unwrap());
            lp.close(id.handle(), None);
        })
        .unwrap();
    }
    run_bounded(&mut lp);
    let mut got = codes.borrow().clone();
    got.sort_unstable();
    assert_eq!(got, (0..20).collect::<Vec<_>>());
}

#[test]
fn a_child_that_exits_before_the_loop_runs_is_still_seen() {
    let mut lp = Loop::new().unwrap();
    let status = Rc::default();
    let (_, pipes) =
        lp.spawn(sh("echo done").stdio(Stdio::Null, Stdio::Pipe, Stdio::Null), record(&status)).unwrap();
    // Wait (bounded, blocking) until the child's output is there, so it has
    // almost surely exited before the loop looks.
    let fd = lp.stream_fd(pipes.stdout.unwrap()).unwrap();
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd; the stream owns `fd` and keeps it open.
    assert_eq!(unsafe { libc::poll(&mut pfd, 1, 10_000) }, 1);
    let out = collect(&mut lp, pipes.stdout.unwrap());
    run_bounded(&mut lp);
    assert_eq!(&*out.borrow(), b"done\n");
    assert!(status.borrow().unwrap().success());
}

/// Exit detection uses a pidfd unless `SPINDLE_NO_PIDFD` is set: count the
/// pidfds this process holds while a child runs.
#[test]
fn exit_detection_uses_pidfd_unless_disabled() {
    let mut lp = Loop::new().unwrap();
    let status = Rc::default();
    let (child, _) = lp
        .spawn(
            ProcessOptions::new("sleep").args(["30"]).stdio(Stdio::Null, Stdio::Null, Stdio::Null),
            record(&status),
        )
        .unwrap();
    let pidfds = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
        .filter(|target| target.to_string_lossy().contains("pidfd"))
        .count();
    if fallback() {
        assert_eq!(pidfds, 0);
    } else {
        assert!(pidfds >= 1);
    }
    lp.process_kill(child, libc::SIGKILL).unwrap();
    run_bounded(&mut lp);
    assert_eq!(status.borrow().unwrap().signal(), Some(libc::SIGKILL));
}

/// Reruns every other test of this file in a child process with the SIGCHLD
/// fallback forced, one test at a time (a SIGCHLD is read by only one
/// signalfd, so concurrent loops would steal each other's).
#[test]
fn the_sigchld_fallback_passes_the_same_tests() {
    if fallback() {
        return; // already the child run
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--test-threads=1", "--skip", "the_sigchld_fallback_passes_the_same_tests"])
        .env("SPINDLE_NO_PIDFD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok") && !stdout.contains(" 0 passed"),
        "fallback run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
