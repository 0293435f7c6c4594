//! `http_hello` end to end on every runtime: a real server on an ephemeral
//! port, requests from a plain `std::net::TcpStream`, exact responses
//! checked, every wait bounded (read timeouts, startup deadline).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use spindle_bench::process::ChildProcess;
use spindle_bench::report::LoadReport;

/// Bound on the server announcing its address and on every socket read.
const TIMEOUT: Duration = Duration::from_secs(10);

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n";

/// Every runtime and flavor the server can run today.
const SERVERS: &[(&str, &str)] =
    &[("spindle", "current"), ("spindle", "multi"), ("tokio", "current"), ("tokio", "multi")];

fn start(runtime: &str, flavor: &str) -> (ChildProcess, SocketAddr) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_http_hello"));
    cmd.args(["--runtime", runtime, "--flavor", flavor, "--workers", "2", "--listen", "127.0.0.1:0"]);
    let mut server =
        ChildProcess::spawn(&format!("http_hello-{runtime}-{flavor}"), cmd).expect("server starts");
    let addr = server.wait_listening(TIMEOUT).expect("server announces its address");
    assert_ne!(addr.port(), 0, "the real port is printed, not 0");
    (server, addr)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Reads exactly `n` responses and checks every byte.
fn expect_responses(stream: &mut TcpStream, n: usize, what: &str) {
    let mut got = vec![0u8; RESPONSE.len() * n];
    stream.read_exact(&mut got).unwrap_or_else(|e| panic!("{what}: reading {n} responses: {e}"));
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&RESPONSE.repeat(n)), "{what}");
}

/// After the client's half-close, the server closes too and sent nothing
/// more.
fn expect_close(stream: &mut TcpStream, what: &str) {
    stream.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty(), "{what}: unexpected bytes {:?}", String::from_utf8_lossy(&rest)),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("{what}: waiting for the server to close: {e}"),
    }
}

#[test]
fn keep_alive_requests_on_one_connection() {
    for &(runtime, flavor) in SERVERS {
        let what = format!("{runtime}-{flavor} keep-alive");
        let (mut server, addr) = start(runtime, flavor);
        let mut stream = connect(addr);
        for _ in 0..3 {
            stream.write_all(REQUEST).unwrap();
            expect_responses(&mut stream, 1, &what);
        }
        expect_close(&mut stream, &what);
        server.stop(Duration::from_secs(2)).expect("server stops");
    }
}

#[test]
fn pipelined_requests_in_one_write() {
    for &(runtime, flavor) in SERVERS {
        let what = format!("{runtime}-{flavor} pipelined");
        let (mut server, addr) = start(runtime, flavor);
        let mut stream = connect(addr);
        stream.write_all(&REQUEST.repeat(5)).unwrap();
        expect_responses(&mut stream, 5, &what);
        // A head split over two writes is answered once it is complete
        // (whether the server reads it in one piece or two).
        let (first, second) = REQUEST.split_at(REQUEST.len() - 3);
        stream.write_all(first).unwrap();
        stream.write_all(second).unwrap();
        expect_responses(&mut stream, 1, &what);
        expect_close(&mut stream, &what);
        server.stop(Duration::from_secs(2)).expect("server stops");
    }
}

#[test]
fn many_connections_at_once() {
    for &(runtime, flavor) in SERVERS {
        let what = format!("{runtime}-{flavor} concurrent");
        let (mut server, addr) = start(runtime, flavor);
        let mut streams: Vec<TcpStream> = (0..20).map(|_| connect(addr)).collect();
        for stream in &mut streams {
            stream.write_all(&REQUEST.repeat(2)).unwrap();
        }
        for stream in &mut streams {
            expect_responses(stream, 2, &what);
        }
        server.stop(Duration::from_secs(2)).expect("server stops");
    }
}

/// Runs `http_load` against `addr` with no warm-up; returns its result
/// line, that line parsed, and its exit status (it must exit by itself).
fn http_load(addr: SocketAddr, connections: &str, duration: &str) -> (String, LoadReport, ExitStatus) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_http_load"));
    cmd.arg("--addr").arg(addr.to_string());
    cmd.args(["--connections", connections, "--duration", duration, "--warmup", "0s"]);
    let mut client = ChildProcess::spawn("http_load", cmd).expect("http_load starts");
    let line = client.wait_line(TIMEOUT, |l| l.starts_with("messages=").then(|| l.to_owned()));
    let line = line.expect("http_load prints its result line");
    let status = client.wait_exit(TIMEOUT).expect("http_load exits by itself");
    let report = LoadReport::parse(&line).expect("a LoadReport line");
    (line, report, status)
}

/// `http_load` (the deep-tail client of `bench/http_tail.sh`) against
/// every server: it counts whole responses and no errors, and it exits by
/// itself when its window ends.
#[test]
fn http_load_counts_whole_responses() {
    for &(runtime, flavor) in SERVERS {
        let (mut server, addr) = start(runtime, flavor);
        let (line, report, status) = http_load(addr, "8", "300ms");
        assert!(status.success(), "http_load exited with {status}");
        assert!(report.messages > 0, "{runtime}-{flavor}: {line}");
        assert_eq!(report.errors, 0, "{runtime}-{flavor}: {line}");
        assert!(line.contains(" max_us="), "{line}");
        server.stop(Duration::from_secs(2)).expect("server stops");
    }
}

/// A response that is not 2xx is an error for `http_load`, not a round
/// trip: the connection is closed and counted.
#[test]
fn http_load_counts_a_non_2xx_response_as_an_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).unwrap();
        stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").unwrap();
        // Hold the connection until the client has closed it.
        let _ = stream.read(&mut buf);
    });
    let (line, report, _status) = http_load(addr, "1", "2s");
    assert_eq!((report.messages, report.errors), (0, 1), "{line}");
    server.join().unwrap();
}
