//! spindle_rt::process: real children (`sh`, `cat`, `sleep`) spawned on
//! both runtimes; output and exit codes, a megabyte through `cat`'s pipes
//! both ways at once, kill, kill-on-drop, many children at once, a missing
//! program. Every wait is bounded by `bounded`.

mod rt_support;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use rt_support::{both, bounded, mt, rt};
use spindle_rt::process::{Command, Stdio};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;

#[test]
fn output_captures_both_streams_and_the_exit_code() {
    bounded(|| {
        for (name, rt) in both() {
            let out = rt
                .block_on(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 42"]).output())
                .unwrap();
            assert_eq!(out.stdout, b"out\n", "{name}");
            assert_eq!(out.stderr, b"err\n", "{name}");
            assert_eq!(out.status.code(), Some(42), "{name}");
        }
    });
}

#[test]
fn a_megabyte_through_cat_both_ways_at_once() {
    bounded(|| {
        // Far more than a pipe holds (64 KiB): the writer must wait for cat
        // to read, and cat for us to read, or this deadlocks.
        let data: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
        for (name, rt) in both() {
            let sent = data.clone();
            let back = rt.block_on(async move {
                let mut child =
                    Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
                let mut stdin = child.stdin.take().unwrap();
                let mut stdout = child.stdout.take().unwrap();
                let writer = spindle_rt::spawn(async move {
                    stdin.write_all(&sent).await.unwrap();
                    stdin.close().await.unwrap();
                });
                let mut back = Vec::new();
                stdout.read_to_end(&mut back).await.unwrap();
                writer.await.unwrap();
                assert!(child.wait().await.unwrap().success());
                back
            });
            assert_eq!(back.len(), data.len(), "{name}");
            assert!(back == data, "{name}: the bytes came back changed");
        }
    });
}

#[test]
fn wait_sees_a_later_exit_and_repeats_it() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                // The child waits for its stdin to close, so it is certainly
                // still running when wait() starts; wait() closes stdin.
                let mut child = Command::new("sh")
                    .args(["-c", "cat >/dev/null; exit 7"])
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap();
                assert!(child.id().is_some());
                assert_eq!(child.try_wait().unwrap(), None, "{name}: still reading stdin");
                let status = child.wait().await.unwrap();
                assert_eq!(status.code(), Some(7), "{name}");
                assert_eq!(child.wait().await.unwrap(), status, "{name}: the same status again");
                assert_eq!(child.try_wait().unwrap(), Some(status));
                assert_eq!(child.id(), None, "{name}: a reaped child has no pid");
            });
        }
    });
}

#[test]
fn kill_ends_a_long_sleep() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut child = Command::new("sleep").arg("100").spawn().unwrap();
                child.kill().await.unwrap();
                let status = child.wait().await.unwrap();
                assert_eq!(status.signal(), Some(libc::SIGKILL), "{name}");
                // Killing a reaped child is a no-op, not a stray signal.
                child.start_kill().unwrap();
            });
        }
    });
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    bounded(|| {
        let rt = rt();
        let pidfd = rt.block_on(async {
            let child = Command::new("sleep").arg("100").kill_on_drop(true).spawn().unwrap();
            let pidfd = spindle_poll::process::pidfd_open(child.id().unwrap()).unwrap();
            drop(child);
            pidfd
        });
        // The pidfd turns readable when the process has exited.
        let poller = spindle_poll::Poller::new(spindle_poll::Backend::Epoll).unwrap();
        poller
            .add(
                pidfd.as_raw_fd(),
                spindle_poll::Token(0),
                spindle_poll::Interest::READABLE,
                spindle_poll::Mode::Level,
            )
            .unwrap();
        let mut events = spindle_poll::Events::with_capacity(1);
        let n = poller.wait(&mut events, Some(std::time::Duration::from_secs(8))).unwrap();
        assert_eq!(n, 1, "the dropped child did not exit within 8 s");
    });
}

#[test]
fn many_children_at_once_on_the_multi_thread_runtime() {
    bounded(|| {
        let rt = mt(2);
        let codes = rt.block_on(async {
            let mut set = spindle_rt::task::JoinSet::new();
            for i in 0..40 {
                set.spawn(async move {
                    let status =
                        Command::new("sh").args(["-c", &format!("exit {i}")]).status().await.unwrap();
                    status.code().unwrap()
                });
            }
            let mut codes = Vec::new();
            while let Some(code) = set.join_next().await {
                codes.push(code.unwrap());
            }
            codes
        });
        let mut codes = codes;
        codes.sort_unstable();
        assert_eq!(codes, (0..40).collect::<Vec<_>>());
    });
}

#[test]
fn a_missing_program_is_not_found() {
    bounded(|| {
        let err =
            rt().block_on(async { Command::new("/nonexistent/spindle-no-such-program").spawn().map(drop) });
        assert_eq!(err.unwrap_err().kind(), ErrorKind::NotFound);
    });
}
