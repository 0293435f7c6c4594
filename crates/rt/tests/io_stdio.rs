//! `io::stdin`, `io::stdout` and `io::stderr`, as a tokio command-line
//! tool uses them: read stdin line by line through a `BufReader`, answer
//! on stdout, report on stderr, flush before exit. The test binary runs
//! itself as the child (`stdio_child`), with real pipes on all three.

use spindle_rt::io::{self, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "SPINDLE_RT_STDIO_CHILD";

/// The child's side: echoes each stdin line to stdout, then a summary to
/// stderr. A no-op unless the parent test started it.
#[test]
fn stdio_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let rt = spindle_rt::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(async {
        let mut lines = BufReader::new(io::stdin()).lines();
        let mut out = io::stdout();
        let mut n = 0;
        while let Some(line) = lines.next_line().await.expect("read stdin") {
            out.write_all(format!("echo: {line}\n").as_bytes()).await.expect("write stdout");
            n += 1;
        }
        out.flush().await.expect("flush stdout");
        let mut err = io::stderr();
        err.write_all(format!("lines: {n}\n").as_bytes()).await.expect("write stderr");
        err.flush().await.expect("flush stderr");
    });
}

/// Runs the test binary's `stdio_child` with `input` on its stdin.
fn run_child(mode: &str, input: &[u8]) -> (String, String) {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([mode, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child");
    child.stdin.take().expect("stdin").write_all(input).expect("feed stdin");
    let (mut out, mut err) = (child.stdout.take().expect("stdout"), child.stderr.take().expect("stderr"));
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).expect("read stderr");
        s
    });
    let mut stdout = String::new();
    out.read_to_string(&mut stdout).expect("read stdout");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "child did not exit");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "child failed: {stdout}");
    (stdout, reader.join().expect("stderr reader"))
}

#[test]
fn stdin_lines_in_stdout_and_stderr_out() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let (out, err) = run_child("stdio_child", b"one\ntwo\nthree");
    assert!(out.contains("echo: one\necho: two\necho: three\n"), "stdout: {out}");
    assert!(err.contains("lines: 3\n"), "stderr: {err}");
}

/// `read_to_end` on stdin sees everything up to the end, in order, across
/// many pool reads.
#[test]
fn stdin_read_to_end_gets_every_byte() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let (out, _) = run_child("stdio_count_child", &big);
    assert!(out.contains(&format!("bytes: {} sum: {}\n", big.len(), sum(&big))), "stdout: {out}");
}

fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// The child for [`stdin_read_to_end_gets_every_byte`].
#[test]
fn stdio_count_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let rt = spindle_rt::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(async {
        let mut all = Vec::new();
        io::stdin().read_to_end(&mut all).await.expect("read stdin");
        let mut out = io::stdout();
        out.write_all(format!("bytes: {} sum: {}\n", all.len(), sum(&all)).as_bytes()).await.expect("write");
        out.flush().await.expect("flush");
    });
}
