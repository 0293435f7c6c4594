//! A demo master run as a real child process, for the integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEMO: &str = env!("CARGO_BIN_EXE_spindle-cluster-demo");
pub const WAIT: Duration = Duration::from_secs(10);

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A scratch directory removed on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!(
            "spindle-cluster-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: Dir,
    pub config: PathBuf,
    pub pid_file: PathBuf,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
}

fn collect(r: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(line);
        }
    });
}

/// Polls `cond` until it holds or `within` passes.
pub fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).stderr(Stdio::null()).status();
}

pub fn alive(pid: u32) -> bool {
    // A zombie still has /proc/PID; check its state.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

impl Server {
    /// Starts the demo with `config` as its file and `args` as flags, and
    /// waits for its `listening` line.
    pub fn start(config: &str, args: &[&str]) -> Server {
        Server::start_exe(std::path::Path::new(DEMO), config, args)
    }

    /// [`Server::start`] from the executable at `exe` (a copy of the demo).
    pub fn start_exe(exe: &std::path::Path, config: &str, args: &[&str]) -> Server {
        let dir = Dir::new("t");
        let config_path = dir.0.join("demo.conf");
        std::fs::write(&config_path, config).unwrap();
        let pid_file = dir.0.join("demo.pid");
        let spawn = || {
            Command::new(exe)
                .arg("--config")
                .arg(&config_path)
                .arg("--pid-file")
                .arg(&pid_file)
                .args(["--listen", "127.0.0.1:0"])
                .args(args)
                .env("RUST_LOG", "info")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        };
        // A freshly copied executable is "busy" (ETXTBSY) while a process
        // another test thread forked still holds the copy's write end
        // until it execs: try again for a moment.
        let mut tries = 0;
        let mut child = loop {
            match spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.unwrap(),
            }
        };
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), out.clone());
        collect(child.stderr.take().unwrap(), err.clone());
        let mut s = Server { child, port: 0, dir, config: config_path, pid_file, out, err };
        let found = wait_until(WAIT, || {
            let port = s
                .out
                .lock()
                .unwrap()
                .iter()
                .find_map(|l| l.strip_prefix("listening ")?.rsplit(':').next()?.parse().ok());
            if let Some(p) = port {
                s.port = p;
            }
            port.is_some()
        });
        assert!(found, "no listening line; stderr: {:?}", s.stderr());
        s
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> Vec<String> {
        self.err.lock().unwrap().clone()
    }

    pub fn stdout(&self) -> Vec<String> {
        self.out.lock().unwrap().clone()
    }

    /// Pids of `worker-start` lines so far.
    pub fn started(&self) -> Vec<(u32, u64)> {
        self.stderr()
            .iter()
            .filter_map(|l| {
                let rest = l.strip_prefix("worker-start pid=")?;
                let mut it = rest.split_whitespace();
                let pid = it.next()?.parse().ok()?;
                let generation = it.next()?.strip_prefix("gen=")?.parse().ok()?;
                Some((pid, generation))
            })
            .collect()
    }

    /// Waits until `n` workers of generation `g` have started.
    pub fn wait_workers(&self, g: u64, n: usize) -> Vec<u32> {
        let mut pids = Vec::new();
        let ok = wait_until(WAIT, || {
            pids = self.started().into_iter().filter(|&(_, gen)| gen == g).map(|(p, _)| p).collect();
            pids.len() >= n
        });
        assert!(ok, "only {} of {n} workers of gen {g} started; stderr: {:?}", pids.len(), self.stderr());
        pids
    }

    pub fn signal(&self, sig: &str) {
        signal(self.pid(), sig);
    }

    /// Sends `line` on a new connection and returns the whole answer.
    pub fn ask(&self, line: &str) -> std::io::Result<String> {
        ask(self.port, line)
    }

    /// Waits for the master to exit, up to `within`.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn set_config(&self, text: &str) {
        std::fs::write(&self.config, text).unwrap();
    }
}

pub fn ask(port: u16, line: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(WAIT))?;
    s.write_all(format!("{line}\n").as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// `pid=` of a reply line.
pub fn reply_pid(reply: &str) -> Option<u32> {
    reply.strip_prefix("pid=")?.split_whitespace().next()?.parse().ok()
}

/// The value of `key=` in a reply line.
pub fn field<'a>(reply: &'a str, key: &str) -> Option<&'a str> {
    reply.split_whitespace().find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

impl Drop for Server {
    fn drop(&mut self) {
        // Kill the master, every worker it reported, and a new master from
        // an upgrade (its pid is in the pid file).
        let _ = self.child.kill();
        if let Ok(p) = std::fs::read_to_string(&self.pid_file) {
            if let Ok(pid) = p.trim().parse::<u32>() {
                signal(pid, "KILL");
            }
        }
        for (pid, _) in self.started() {
            signal(pid, "KILL");
        }
        let _ = self.child.wait();
    }
}
