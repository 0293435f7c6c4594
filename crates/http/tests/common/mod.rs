//! A server on a thread and small raw clients for the tests.
#![allow(dead_code)]

pub mod nginx;

use spindle_cluster::{App, ControlHandle, WorkerCtx};
use spindle_http::{HttpApp, HttpConfig, Overrides};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Server {
    pub addr: SocketAddr,
    pub root: PathBuf,
    pub dir: PathBuf,
    pub control: ControlHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Server {
    /// A server over a fresh temporary root (with `index.html`, `1k.bin`,
    /// `a.txt`, `sub/index.html`, `empty/`), configured by `tune`.
    pub fn start(tune: impl FnOnce(&mut HttpConfig)) -> Server {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("spindle-http-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("index.html"), "<h1>home</h1>\n").unwrap();
        std::fs::write(root.join("a.txt"), "hello, world\n").unwrap();
        std::fs::write(root.join("sub/index.html"), "sub index\n").unwrap();
        std::fs::write(root.join("1k.bin"), vec![b'x'; 1024]).unwrap();
        std::fs::write(dir.join("secret.txt"), "TOP SECRET\n").unwrap();
        let app = HttpApp::new(None, Overrides { root: Some(root.clone()), ..Overrides::default() });
        let mut cfg = app.load().unwrap().app;
        tune(&mut cfg);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = spindle_rt::Builder::new_current_thread().build().unwrap();
            rt.block_on(async move {
                let listener = spindle_rt::net::TcpListener::from_std(listener).unwrap();
                let (ctx, control) = WorkerCtx::standalone(listener);
                tx.send(control).unwrap();
                app.worker(cfg, ctx).await;
            });
        });
        let control = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        let root = root.canonicalize().unwrap();
        Server { addr, root, dir, control, thread: Some(thread) }
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// Drains and waits (bounded) for the worker future to return.
    pub fn join_within(&mut self, limit: Duration) -> bool {
        let t = self.thread.take().unwrap();
        let deadline = Instant::now() + limit;
        while !t.is_finished() {
            if Instant::now() > deadline {
                self.thread = Some(t);
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        t.join().unwrap();
        true
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.control.stop();
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads responses off one connection.
pub struct Reader {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Reader {
    pub fn new(stream: TcpStream) -> Reader {
        Reader { stream, buf: Vec::new() }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    fn more(&mut self) -> usize {
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                n
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
            Err(e) => panic!("read: {e}"),
        }
    }

    /// The next response; `head_only` for a HEAD (no body follows).
    pub fn response(&mut self, head_only: bool) -> Option<Response> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if self.more() == 0 {
                return None;
            }
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_string(), v.trim().to_string())
            })
            .collect();
        let len: usize = if head_only || status == 304 {
            0
        } else {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().unwrap())
        };
        while self.buf.len() < end + len {
            assert!(self.more() > 0, "connection closed inside a body");
        }
        let body = self.buf[end..end + len].to_vec();
        self.buf.drain(..end + len);
        Some(Response { status, headers, body })
    }

    /// Whether the server closed the connection (bounded by the read
    /// timeout): reads to end of stream.
    pub fn closed(&mut self) -> bool {
        loop {
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// One request on a fresh connection.
pub fn request(server: &Server, req: &str) -> Response {
    let mut r = Reader::new(server.connect());
    r.send(req.as_bytes());
    r.response(req.starts_with("HEAD")).expect("a response")
}

pub fn get(server: &Server, path: &str) -> Response {
    request(server, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"))
}

/// Polls `f` until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    f()
}

/// Reads up to the end of the head of the answer on `c` (and whatever
/// of the body came with it); returns what was read.
pub fn read_head(c: &mut std::net::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = std::io::Read::read(c, &mut chunk).unwrap();
        assert!(n > 0, "closed before the head ended");
        got.extend_from_slice(&chunk[..n]);
    }
    got
}
