//! The load client against the peer servers, end to end: real servers on
//! ephemeral ports, real sockets, every wait bounded.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use spindle_bench::process::ChildProcess;
use spindle_bench::report::LoadReport;

/// Bound on a server announcing its address, and slack on the client's own
/// deadlines.
const TIMEOUT: Duration = Duration::from_secs(10);

fn start(name: &str, program: &str, extra: &[&str]) -> (ChildProcess, SocketAddr) {
    let mut cmd = Command::new(program);
    cmd.args(["--listen", "127.0.0.1:0"]).args(extra);
    let mut server = ChildProcess::spawn(name, cmd).expect("server starts");
    let addr = server.wait_listening(TIMEOUT).expect("server announces its address");
    assert_ne!(addr.port(), 0, "the real port is printed, not 0");
    (server, addr)
}

fn load(addr: SocketAddr, connections: usize, size: usize, duration: &str) -> LoadReport {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echo_load"));
    cmd.arg("--addr")
        .arg(addr.to_string())
        .args(["--duration", duration, "--warmup", "0s"])
        .arg("--connections")
        .arg(connections.to_string())
        .arg("--size")
        .arg(size.to_string());
    let mut client = ChildProcess::spawn("echo_load", cmd).expect("echo_load starts");
    let report = client.wait_line(TIMEOUT, LoadReport::parse).expect("echo_load prints its result line");
    let status = client.wait_exit(TIMEOUT).expect("echo_load exits");
    assert!(status.success(), "echo_load exited with {status}");
    report
}

fn assert_healthy(report: LoadReport) {
    assert!(report.messages > 0, "{report}");
    assert_eq!(report.errors, 0, "{report}");
}

#[test]
fn bare_epoll_echo_serves_small_messages() {
    let (mut server, addr) = start("bare", env!("CARGO_BIN_EXE_bare_epoll_echo"), &[]);
    assert_healthy(load(addr, 4, 64, "300ms"));
    server.stop(Duration::from_secs(2)).expect("server stops");
}

/// Messages far larger than the socket buffers force partial writes on both
/// sides: the client's WRITABLE path and the server's pending-bytes path.
/// (A longer window: a debug-build client on a busy machine needs it.)
#[test]
fn bare_epoll_echo_survives_partial_writes() {
    let (mut server, addr) = start("bare", env!("CARGO_BIN_EXE_bare_epoll_echo"), &[]);
    assert_healthy(load(addr, 2, 1 << 20, "1s"));
    server.stop(Duration::from_secs(2)).expect("server stops");
}

#[test]
fn tokio_echo_serves_both_flavors() {
    for flavor in ["current", "multi"] {
        let (mut server, addr) = start("tokio", env!("CARGO_BIN_EXE_tokio_echo"), &["--flavor", flavor]);
        assert_healthy(load(addr, 4, 64, "300ms"));
        server.stop(Duration::from_secs(2)).expect("server stops");
    }
}

#[test]
fn unreachable_server_is_a_clear_error_exit() {
    // Bind, learn a free port, and close it again so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("ephemeral port")
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echo_load"));
    cmd.arg("--addr").arg(format!("127.0.0.1:{port}"));
    let mut client = ChildProcess::spawn("echo_load", cmd).expect("echo_load starts");
    let status = client.wait_exit(TIMEOUT).expect("echo_load exits by itself");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn binaries_exist() {
    for bin in [
        env!("CARGO_BIN_EXE_echo_bench"),
        env!("CARGO_BIN_EXE_echo_load"),
        env!("CARGO_BIN_EXE_bare_epoll_echo"),
        env!("CARGO_BIN_EXE_tokio_echo"),
    ] {
        assert!(Path::new(bin).is_file(), "{bin}");
    }
}
