//! A minimal RESP2/RESP3 client over a std stream: requests go out as
//! arrays of bulk strings, replies come back as a tree that keeps every
//! type marker and payload byte, so two servers' replies compare exactly.

use std::io::{BufRead, BufReader, Read, Write};

/// One reply frame, exactly as received.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Frame {
    /// A one-line frame: `+`, `-`, `:`, `_`, `,`, `#`, `(`.
    Line(u8, Vec<u8>),
    /// A length-prefixed frame: `$`, `!`, `=`; `None` is `$-1`.
    Bulk(u8, Option<Vec<u8>>),
    /// An aggregate: `*`, `~`, `>`, `%`, `|`; `None` is `*-1`. Maps and
    /// attributes hold their keys and values interleaved.
    Agg(u8, Option<Vec<Frame>>),
}

impl Frame {
    /// The frame written back out as RESP, without the final CRLF (for
    /// failure messages).
    pub fn to_resp(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Line(t, s) => {
                out.push(*t);
                out.extend_from_slice(s);
            }
            Frame::Bulk(t, None) => {
                out.push(*t);
                out.extend_from_slice(b"-1");
            }
            Frame::Bulk(t, Some(b)) => {
                out.push(*t);
                out.extend_from_slice(format!("{}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
            }
            Frame::Agg(t, None) => {
                out.push(*t);
                out.extend_from_slice(b"-1");
            }
            Frame::Agg(t, Some(items)) => {
                let n = if matches!(t, b'%' | b'|') { items.len() / 2 } else { items.len() };
                out.push(*t);
                out.extend_from_slice(n.to_string().as_bytes());
                for i in items {
                    out.extend_from_slice(b"\r\n");
                    i.write(out);
                }
            }
        }
    }

    /// The frame as readable text for failure messages.
    pub fn show(&self) -> String {
        String::from_utf8_lossy(&self.to_resp()).replace("\r\n", "\\r\\n")
    }

    /// True for `-` and `!` error frames.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Line(b'-', _) | Frame::Bulk(b'!', Some(_)))
    }
}

/// Anything a client can talk over.
pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// A connection to one server.
pub struct Client {
    r: BufReader<Box<dyn Stream>>,
}

/// Appends `args` as a RESP array of bulk strings.
fn encode(args: &[Vec<u8>], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// A command given as text, as the clients send it.
pub fn args(a: &[&str]) -> Vec<Vec<u8>> {
    a.iter().map(|s| s.as_bytes().to_vec()).collect()
}

impl Client {
    /// Wraps a connected stream (with timeouts already set).
    pub fn new(s: Box<dyn Stream>) -> Client {
        Client { r: BufReader::new(s) }
    }

    /// Connects over TCP (to a spindle test server), every read and write
    /// bounded by `timeout`.
    pub fn connect(addr: std::net::SocketAddr, timeout: std::time::Duration) -> Client {
        let s = std::net::TcpStream::connect_timeout(&addr, timeout).expect("connect to spindle");
        s.set_read_timeout(Some(timeout)).unwrap();
        s.set_write_timeout(Some(timeout)).unwrap();
        s.set_nodelay(true).unwrap();
        Client::new(Box::new(s))
    }

    /// Sends one command and reads its reply.
    pub fn call(&mut self, args: &[Vec<u8>]) -> Frame {
        let mut out = Vec::new();
        encode(args, &mut out);
        self.r.get_mut().write_all(&out).expect("write request");
        self.read()
    }

    /// Sends commands in one write (a pipeline) and reads their replies.
    /// Fails if a server sends more replies than commands (when the extra
    /// bytes arrive with the last reply).
    pub fn pipeline(&mut self, cmds: &[Vec<Vec<u8>>]) -> Vec<Frame> {
        let mut out = Vec::new();
        for c in cmds {
            encode(c, &mut out);
        }
        self.r.get_mut().write_all(&out).expect("write requests");
        let replies: Vec<Frame> = cmds.iter().map(|_| self.read()).collect();
        assert!(
            self.r.buffer().is_empty(),
            "more replies than commands; extra bytes: {:?}",
            String::from_utf8_lossy(self.r.buffer())
        );
        replies
    }

    /// Reads one reply frame.
    pub fn read(&mut self) -> Frame {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).expect("read reply");
        assert!(line.ends_with(b"\r\n"), "truncated reply line {:?}", String::from_utf8_lossy(&line));
        line.truncate(line.len() - 2);
        let t = line[0];
        let rest = line[1..].to_vec();
        let num = || -> i64 {
            std::str::from_utf8(&rest)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad length in {:?}", String::from_utf8_lossy(&line)))
        };
        match t {
            b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Frame::Line(t, rest.clone()),
            b'$' | b'!' | b'=' => {
                let n = num();
                if n < 0 {
                    return Frame::Bulk(t, None);
                }
                let mut b = vec![0; n as usize + 2];
                self.r.read_exact(&mut b).expect("read bulk");
                b.truncate(n as usize);
                Frame::Bulk(t, Some(b))
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let n = num();
                if n < 0 {
                    return Frame::Agg(t, None);
                }
                let n = if matches!(t, b'%' | b'|') { 2 * n } else { n };
                let items = (0..n).map(|_| self.read()).collect();
                Frame::Agg(t, Some(items))
            }
            _ => panic!("unknown reply type in {:?}", String::from_utf8_lossy(&line)),
        }
    }
}
