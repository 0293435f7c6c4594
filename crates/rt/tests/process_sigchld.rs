//! spindle_rt::process without pidfds (`SPINDLE_NO_PIDFD=1`): children's
//! exits are learned from SIGCHLD. One test in this binary, so the variable
//! is set before any child exists and no other test sees it.

mod rt_support;

use rt_support::{both, bounded};
use spindle_rt::process::{Command, Stdio};

#[test]
fn exits_are_learned_from_sigchld() {
    std::env::set_var("SPINDLE_NO_PIDFD", "1");
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let out = Command::new("sh").args(["-c", "echo hi; exit 5"]).output().await.unwrap();
                assert_eq!((out.stdout.as_slice(), out.status.code()), (&b"hi\n"[..], Some(5)), "{name}");
                // Running when wait() starts: only a SIGCHLD can end the wait.
                let mut child = Command::new("sh")
                    .args(["-c", "cat >/dev/null; exit 9"])
                    .stdin(Stdio::piped())
                    .spawn()
                    .unwrap();
                assert_eq!(child.try_wait().unwrap(), None);
                assert_eq!(child.wait().await.unwrap().code(), Some(9), "{name}");
                // Several at once: one SIGCHLD may stand for several exits.
                let mut children: Vec<_> = (0..8)
                    .map(|i| Command::new("sh").args(["-c", &format!("exit {i}")]).spawn().unwrap())
                    .collect();
                for (i, child) in children.iter_mut().enumerate() {
                    assert_eq!(child.wait().await.unwrap().code(), Some(i as i32), "{name}");
                }
            });
        }
    });
}
