//! A file truncated while its body is being sent: the connection closes
//! short of the promised length, and the error log says so, as nginx's
//! `sendfile() reported that "..." was truncated` alert does (the client
//! alone could not tell the operator why its download broke off).

mod common;

use common::{wait_until, Server};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The log lines, captured.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[test]
fn a_file_truncated_while_being_sent_ends_the_connection_short_and_is_logged() {
    let log = Capture::default();
    tracing_subscriber::fmt().with_writer(log.clone()).with_ansi(false).init();
    let s = Server::start(|c| c.cache.sendfile_chunk = 64 << 10);
    let path = s.root.join("big.bin");
    let size = 32usize << 20;
    std::fs::write(&path, vec![b'z'; size]).unwrap();
    let mut c = s.connect();
    c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 65536];
    // The head and the first bytes are here: the body is being sent, a
    // few megabytes ahead of us at most (socket buffers).
    let mut total = c.read(&mut buf).unwrap();
    assert!(total > 0);
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(1 << 20).unwrap();
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) => panic!("the connection should end, not {e}"),
        }
    }
    assert!(total < size, "all {total} bytes arrived although the file shrank");
    let logged = || String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(
        wait_until(Duration::from_secs(5), || logged().contains("big.bin\" was truncated")),
        "{}",
        logged()
    );
}
