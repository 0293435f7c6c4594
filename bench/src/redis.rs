//! Pieces of the Redis side-by-side benchmark (`kv_bench`): what
//! `redis-benchmark --csv`, `INFO` and `/proc/PID/status` print, parsed; a
//! minimal blocking RESP client for loading keys and reading `INFO`; and
//! `redis-benchmark` run with every wait bounded.
//!
//! `redis-benchmark -t set -n N --csv` (7.0) prints a header and one row
//! per test, every field quoted:
//!
//! ```text
//! "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
//! "SET","51282.05","0.066","0.008","0.039","0.055","0.127","10.543"
//! ```
//!
//! On the first error reply it prints `Error from server: ...` on stderr
//! and exits with status 1, before any row: that is how a command the
//! server does not support shows up ([`BenchOutcome::Unsupported`]).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::process::{command_on_cpu, wait_timeout};

/// One data row of `redis-benchmark --csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    /// The `test` column: `SET`, `MSET (10 keys)`, or a custom command line.
    pub test: String,
    /// Requests per second.
    pub rps: f64,
    /// Mean latency, milliseconds.
    pub avg_ms: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency, milliseconds.
    pub p99_ms: f64,
}

/// Splits one CSV line into fields: comma-separated, each optionally
/// wrapped in double quotes, `""` inside quotes standing for one quote.
/// `None` for an unterminated quote or text after a closing quote.
pub fn split_csv_line(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.trim_end_matches(['\r', '\n']).chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Some(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return None,
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Some(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

/// Parses the whole stdout of `redis-benchmark --csv`: the header names
/// the columns (so their order may change), every later line is a row.
/// Lines that do not parse, or lack `test` or `rps`, are skipped; `None`
/// when there is no header.
pub fn parse_benchmark_csv(output: &str) -> Option<Vec<CsvRow>> {
    let mut lines = output.lines().filter(|l| !l.trim().is_empty());
    let is_header = |f: &Vec<String>| f.iter().any(|h| h == "test") && f.iter().any(|h| h == "rps");
    let header = lines.find_map(|l| split_csv_line(l).filter(is_header))?;
    let column = |name: &str| header.iter().position(|h| h == name);
    let (test, rps) = (column("test")?, column("rps")?);
    let number = |fields: &[String], index: Option<usize>| -> f64 {
        index.and_then(|i| fields.get(i)).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    };
    let rows = lines
        .filter_map(split_csv_line)
        .filter_map(|fields| {
            let rps_value: f64 = fields.get(rps)?.parse().ok()?;
            Some(CsvRow {
                test: fields.get(test)?.clone(),
                rps: rps_value,
                avg_ms: number(&fields, column("avg_latency_ms")),
                p50_ms: number(&fields, column("p50_latency_ms")),
                p99_ms: number(&fields, column("p99_latency_ms")),
            })
        })
        .collect();
    Some(rows)
}

/// The value of `field` in an `INFO` reply (`name:value` lines, `#`
/// section headers), if present and numeric.
pub fn parse_info_field(info: &str, field: &str) -> Option<u64> {
    info.lines().find_map(|l| l.trim_end().strip_prefix(field)?.strip_prefix(':')?.parse().ok())
}

/// `VmRSS` in bytes from the text of `/proc/PID/status`
/// (`VmRSS:\t  12345 kB`).
pub fn parse_vm_rss(status: &str) -> Option<u64> {
    let rest = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let mut words = rest.split_whitespace();
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next()? == "kB").then_some(kib * 1024)
}

/// Resident set size of a live process, bytes.
pub fn proc_vm_rss(pid: u32) -> io::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)?;
    parse_vm_rss(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("no VmRSS in {path}")))
}

/// Whether `pid` is a live process: its `/proc/PID/stat` exists and its
/// state is not zombie (`Z`) or dead (`X`).
pub fn proc_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let state = stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, None | Some("Z" | "X"))
}

/// How many descriptors a live process has open (entries of
/// `/proc/PID/fd`).
pub fn proc_fd_count(pid: u32) -> io::Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// A load shape: `clients` connections, each with `pipeline` requests in
/// flight (`redis-benchmark -c C -P P`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Load {
    /// `-c`.
    pub clients: usize,
    /// `-P`.
    pub pipeline: usize,
}

/// Parses `CLIENTSxPIPELINE`, e.g. `50x16`; both at least 1.
pub fn parse_load(text: &str) -> Result<Load, String> {
    let bad = || format!("invalid load {text:?}: expected CLIENTSxPIPELINE, e.g. 50x16");
    let (clients, pipeline) = text.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let clients: usize = clients.parse().map_err(|_| bad())?;
    let pipeline: usize = pipeline.parse().map_err(|_| bad())?;
    if clients == 0 || pipeline == 0 {
        return Err(bad());
    }
    Ok(Load { clients, pipeline })
}

/// The tests `redis-benchmark -t` knows (7.0), lower case.
pub const BENCHMARK_TESTS: &[&str] = &[
    "ping_inline",
    "ping_mbulk",
    "set",
    "get",
    "incr",
    "lpush",
    "rpush",
    "lpop",
    "rpop",
    "sadd",
    "hset",
    "spop",
    "zadd",
    "zpopmin",
    "lrange_100",
    "lrange_300",
    "lrange_500",
    "lrange_600",
    "mset",
];

/// What one `redis-benchmark` run gave.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchOutcome {
    /// It finished: its row, and the CPU seconds it used itself.
    Done {
        /// The CSV row of the test.
        row: CsvRow,
        /// User plus system time of `redis-benchmark`.
        client_cpu_s: f64,
    },
    /// The server answered with an error (`Error from server: ...`).
    Unsupported(String),
}

/// Finds the server's error in `redis-benchmark`'s stderr.
pub fn server_error(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|l| l.split_once("Error from server:").map(|(_, e)| e.trim().to_owned()))
}

/// User plus system CPU seconds of this process's reaped children.
pub fn children_cpu_seconds() -> f64 {
    let Ok(usage) = crate::sys::children_rusage() else { return 0.0 };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// One `redis-benchmark` run: `redis-benchmark -h HOST -p PORT -n N -c C
/// -P P [-r R] -t TEST --csv`.
#[derive(Debug, Clone)]
pub struct BenchRun<'a> {
    /// The redis-benchmark program.
    pub program: &'a Path,
    /// The CPU to pin it to (see [`command_on_cpu`]).
    pub cpu: Option<usize>,
    /// The server.
    pub addr: SocketAddr,
    /// `-n`.
    pub requests: u64,
    /// `-c` and `-P`.
    pub load: Load,
    /// `-r`, if any.
    pub keyspace: Option<u64>,
    /// `-t`: one test.
    pub test: &'a str,
    /// Bound on the whole run; it is killed then.
    pub timeout: Duration,
}

impl BenchRun<'_> {
    /// redis-benchmark's arguments.
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "-h".into(),
            self.addr.ip().to_string(),
            "-p".into(),
            self.addr.port().to_string(),
            "-n".into(),
            self.requests.to_string(),
            "-c".into(),
            self.load.clients.to_string(),
            "-P".into(),
            self.load.pipeline.to_string(),
        ];
        if let Some(r) = self.keyspace {
            args.extend(["-r".into(), r.to_string()]);
        }
        args.extend(["-t".into(), self.test.to_owned(), "--csv".into()]);
        args
    }

    /// Runs it to completion (or its timeout) and parses its row.
    pub fn run(&self) -> Result<BenchOutcome> {
        let (test, timeout) = (self.test, self.timeout);
        let mut cmd = command_on_cpu(self.program, self.cpu);
        cmd.args(self.args());
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let before = children_cpu_seconds();
        let mut child = cmd.spawn().with_context(|| format!("cannot start {cmd:?}"))?;
        let mut stdout = child.stdout.take().context("stdout was piped")?;
        let mut stderr = child.stderr.take().context("stderr was piped")?;
        let out = thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err = thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let status = match wait_timeout(&mut child, timeout)? {
            Some(status) => status,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("redis-benchmark -t {test}: still running after {timeout:?}, killed");
            }
        };
        let client_cpu_s = children_cpu_seconds() - before;
        // The pipes are closed now that the process is gone.
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        if let Some(error) = server_error(&stderr) {
            return Ok(BenchOutcome::Unsupported(error));
        }
        ensure!(status.success(), "redis-benchmark -t {test} exited with {status}:\n{stdout}{stderr}");
        let rows = parse_benchmark_csv(&stdout)
            .with_context(|| format!("redis-benchmark -t {test}: no CSV header in:\n{stdout}{stderr}"))?;
        let row = rows
            .into_iter()
            .find(|r| r.test.to_ascii_lowercase().starts_with(test))
            .with_context(|| format!("redis-benchmark -t {test}: no {test} row in:\n{stdout}"))?;
        Ok(BenchOutcome::Done { row, client_cpu_s })
    }
}

/// The version line of a Redis program (`redis-server --version`).
pub fn program_version(program: &Path) -> Result<String> {
    let mut child = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("{} not runnable", program.display()))?;
    let mut stdout = child.stdout.take().context("stdout was piped")?;
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    if wait_timeout(&mut child, Duration::from_secs(5))?.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        bail!("{} --version did not exit", program.display());
    }
    Ok(reader.join().unwrap_or_default().trim().to_owned())
}

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then
/// closed); another process could take it in between, which a server
/// start then reports.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A RESP reply, as much of RESP2 as the driver needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+text`.
    Simple(String),
    /// `-text`.
    Error(String),
    /// `:n`.
    Integer(i64),
    /// `$n` bulk string; `None` for the null bulk.
    Bulk(Option<Vec<u8>>),
    /// `*n` array; `None` for the null array.
    Array(Option<Vec<Reply>>),
}

/// Appends `args` to `buf` as a RESP multibulk command.
pub fn encode_command(buf: &mut Vec<u8>, args: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        buf.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        buf.extend_from_slice(arg);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Reads one RESP2 reply. Malformed input is `InvalidData`.
pub fn read_reply(reader: &mut impl BufRead) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad reply: {what}"));
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let text = line.strip_suffix(b"\r\n").ok_or_else(|| bad("line without CRLF"))?;
    let (kind, rest) = text.split_first().ok_or_else(|| bad("empty line"))?;
    let rest = String::from_utf8_lossy(rest).into_owned();
    let number = |s: &str| s.parse::<i64>().map_err(|_| bad(&format!("not a number: {s:?}")));
    Ok(match kind {
        b'+' => Reply::Simple(rest),
        b'-' => Reply::Error(rest),
        b':' => Reply::Integer(number(&rest)?),
        b'$' => match number(&rest)? {
            -1 => Reply::Bulk(None),
            n if n >= 0 => {
                let mut data = vec![0; n as usize + 2];
                reader.read_exact(&mut data)?;
                if !data.ends_with(b"\r\n") {
                    return Err(bad("bulk without CRLF"));
                }
                data.truncate(n as usize);
                Reply::Bulk(Some(data))
            }
            _ => return Err(bad("negative bulk length")),
        },
        b'*' => match number(&rest)? {
            -1 => Reply::Array(None),
            n if n >= 0 => Reply::Array(Some((0..n).map(|_| read_reply(reader)).collect::<io::Result<_>>()?)),
            _ => return Err(bad("negative array length")),
        },
        other => return Err(bad(&format!("unknown type byte {:?}", *other as char))),
    })
}

/// A blocking RESP connection with every read and write bounded by a
/// timeout.
#[derive(Debug)]
pub struct RespConn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl RespConn {
    /// Connects to `addr`, with `timeout` on the connect and on every
    /// later read and write.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Self { reader: BufReader::with_capacity(64 * 1024, stream.try_clone()?), writer: stream })
    }

    /// Sends one command and reads its reply.
    pub fn command(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        let mut buf = Vec::new();
        encode_command(&mut buf, args);
        self.writer.write_all(&buf)?;
        read_reply(&mut self.reader)
    }

    /// `INFO section` as text; `Ok(None)` if the server answers with an
    /// error (it has no INFO, or not that section).
    pub fn info(&mut self, section: &str) -> io::Result<Option<String>> {
        match self.command(&[b"INFO", section.as_bytes()])? {
            Reply::Bulk(Some(text)) => Ok(Some(String::from_utf8_lossy(&text).into_owned())),
            _ => Ok(None),
        }
    }

    /// Stores `count` distinct keys `key:0` .. `key:{count-1}`, each with a
    /// `value_size`-byte value, by `SET`s pipelined `batch` at a time;
    /// fails on any reply other than `+OK`.
    pub fn load_keys(&mut self, count: u64, value_size: usize, batch: usize) -> io::Result<()> {
        let value = vec![b'x'; value_size];
        let batch = batch.max(1) as u64;
        let mut buf = Vec::new();
        let mut next = 0;
        while next < count {
            let end = (next + batch).min(count);
            buf.clear();
            for i in next..end {
                encode_command(&mut buf, &[b"SET", format!("key:{i}").as_bytes(), &value]);
            }
            self.writer.write_all(&buf)?;
            for i in next..end {
                match read_reply(&mut self.reader)? {
                    Reply::Simple(ok) if ok == "OK" => {}
                    other => {
                        return Err(io::Error::other(format!("SET key:{i} answered {other:?}")));
                    }
                }
            }
            next = end;
        }
        Ok(())
    }
}

/// Opens `count` idle connections to `addr` (connect only, nothing sent),
/// failing if the whole lot takes longer than `timeout`.
pub fn open_idle_connections(addr: SocketAddr, count: usize, timeout: Duration) -> Result<Vec<TcpStream>> {
    let deadline = Instant::now() + timeout;
    let mut conns = Vec::with_capacity(count);
    for i in 0..count {
        let left = deadline.saturating_duration_since(Instant::now());
        ensure!(!left.is_zero(), "opened only {i} of {count} connections in {timeout:?}");
        let conn = TcpStream::connect_timeout(&addr, left)
            .with_context(|| format!("connection {} of {count} (descriptor limit?)", i + 1))?;
        conns.push(conn);
    }
    Ok(conns)
}

/// Polls until `pid` has at least `want` descriptors open, for at most
/// `timeout`; returns the count seen last.
pub fn wait_fd_count(pid: u32, want: usize, timeout: Duration) -> Result<usize> {
    let deadline = Instant::now() + timeout;
    loop {
        let n = proc_fd_count(pid).with_context(|| format!("/proc/{pid}/fd"))?;
        if n >= want {
            return Ok(n);
        }
        ensure!(
            Instant::now() < deadline,
            "server has {n} descriptors open, expected {want}, after {timeout:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_encode_as_multibulk() {
        let mut buf = Vec::new();
        encode_command(&mut buf, &[b"SET", b"k", b""]);
        assert_eq!(buf, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn children_cpu_is_monotonic() {
        let a = children_cpu_seconds();
        assert!(a >= 0.0);
        assert!(children_cpu_seconds() >= a);
    }
}
