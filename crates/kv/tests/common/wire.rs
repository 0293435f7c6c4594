//! A raw client that reads whole replies as bytes, for tests that check
//! the exact encoding (RESP2 and RESP3).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;

/// Reads one whole RESP2/RESP3 reply and returns its raw bytes.
pub fn read_reply(r: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).expect("reply line");
    assert!(line.ends_with(b"\r\n"), "truncated reply: {:?}", String::from_utf8_lossy(&line));
    let head = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    let mut out = line.clone();
    match line[0] {
        b'$' | b'=' | b'!' => {
            let n: i64 = head.parse().unwrap();
            if n >= 0 {
                let mut body = vec![0; n as usize + 2];
                r.read_exact(&mut body).unwrap();
                out.extend_from_slice(&body);
            }
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n: i64 = head.parse().unwrap();
            let n = if line[0] == b'%' { 2 * n } else { n };
            for _ in 0..n.max(0) {
                out.extend(read_reply(r));
            }
        }
        _ => {}
    }
    out
}

/// Reads one RESP command (an array of bulk strings) from `rd`, as a
/// replica or a master sends them.
pub fn read_command(rd: &mut BufReader<TcpStream>) -> Vec<String> {
    let mut line = String::new();
    rd.read_line(&mut line).expect("a command");
    let n: usize = line.trim().strip_prefix('*').and_then(|n| n.parse().ok()).expect("an array");
    (0..n)
        .map(|_| {
            let mut head = String::new();
            rd.read_line(&mut head).unwrap();
            let len: usize = head.trim()[1..].parse().unwrap();
            let mut arg = vec![0; len + 2];
            rd.read_exact(&mut arg).unwrap();
            String::from_utf8_lossy(&arg[..len]).into_owned()
        })
        .collect()
}

/// A raw connection that reads whole replies (RESP2 or RESP3) as their
/// exact bytes.
pub struct Conn {
    /// The buffered stream (tests read to the close from it).
    pub r: BufReader<TcpStream>,
}

impl Conn {
    /// Connects to `srv`.
    pub fn new(srv: &spindle_kv::server::ServerThread) -> Conn {
        let raw = super::Raw::connect(srv);
        Conn { r: BufReader::new(raw.stream) }
    }

    /// Sends `args` as one request, without reading the reply.
    pub fn send(&mut self, args: &[&str]) {
        use std::io::Write;
        self.r.get_mut().write_all(&super::req(args)).unwrap();
    }

    /// Sends `args` and returns the whole reply's bytes as text.
    pub fn call(&mut self, args: &[&str]) -> String {
        self.send(args);
        String::from_utf8_lossy(&read_reply(&mut self.r)).into_owned()
    }
}
