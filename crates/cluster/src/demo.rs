//! A small application to exercise the cluster with: each connection gets
//! one line naming who served it.
//!
//! The client sends one line and gets one line back:
//!
//! * anything: `pid=<pid> gen=<generation> worker=<id> reopens=<n> reply=<text>`;
//! * `slow`: the worker waits for a second line before answering (a
//!   request in flight, to watch a graceful stop finish it);
//! * `stats`: one line per stats slot in use,
//!   `slot=<i> accepts=<n> handled=<n> wakeups=<n> futile=<n> tries=<n> held=<n> active=<n>`,
//!   then `end`.
//!
//! Every worker prints `worker-start pid=<pid> gen=<n> worker=<id>` on
//! stderr as it starts, and the master prints `listening <addr>` on stdout
//! for each bound address.
//!
//! Settings come from flags (`--config FILE`, `--listen ADDR` (repeatable),
//! `--workers N`, `--accept STRATEGY`, `--pid-file PATH`, `--user
//! USER[:GROUP]`, `--error-log PATH`, `--worker-connections N`) and from
//! the file, which is read again on every `SIGHUP` and wins over the
//! flags. The file has `key=value` lines (`#` starts a comment):
//! `workers`, `accept`, `reply`, `crash_at_start` (true/false), `listen`
//! (comma-separated), `shutdown_timeout_ms`, `accept_mutex_delay_ms`,
//! `user`, `error_log`, `worker_connections`. A line it does not
//! understand (an unknown user, say) is a load error. Started as root
//! without `user`, its workers run as `nobody`, like any cluster's
//! (see [`user`](crate::user)).
//!
//! ```no_run
//! use spindle_cluster::demo::Demo;
//!
//! let demo = Demo::from_args(["--listen", "127.0.0.1:0", "--workers", "2", "--accept", "exclusive"])?;
//! spindle_cluster::run(demo)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::app::{App, Loaded};
use crate::config::ClusterConfig;
use crate::master::STATS_SLOTS;
use crate::stats::Counter;
use crate::worker::{select2, Control, Phase, WorkerCtx};
use crate::Stats;
use spindle_rt::net::TcpStream;
use spindle_rt::sync::Notify;
use std::cell::Cell;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

/// The demo's own settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoConfig {
    /// Text appended to every reply (`reply=`).
    pub reply: String,
    /// Make every worker exit with status 3 as soon as it starts (to test
    /// the master's respawn back-off).
    pub crash_at_start: bool,
}

/// The demo application: flags, plus a config file read on every load.
#[derive(Clone, Debug, Default)]
pub struct Demo {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// The cluster settings the flags give (the file may override them).
    pub cluster: ClusterConfig,
}

impl Demo {
    /// Parses the demo's flags (without the program name).
    ///
    /// # Errors
    /// An unknown flag, a missing or malformed value.
    pub fn from_args<I, S>(args: I) -> Result<Demo, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut demo = Demo::default();
        let mut listen = Vec::new();
        let mut it = args.into_iter().map(Into::into);
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--config" => demo.config = Some(PathBuf::from(value()?)),
                "--listen" => listen.push(value()?.parse().map_err(|e| format!("--listen: {e}"))?),
                "--workers" => demo.cluster.workers = parse_workers(&value()?)?,
                "--accept" => demo.cluster.accept = value()?.parse()?,
                "--pid-file" => demo.cluster.pid_file = Some(PathBuf::from(value()?)),
                "--user" => demo.cluster.user = Some(value()?.parse().map_err(|e| format!("--user: {e}"))?),
                "--error-log" => demo.cluster.error_log = Some(PathBuf::from(value()?)),
                "--worker-connections" => demo.cluster.worker_connections = parse_connections(&value()?)?,
                other => return Err(format!("unknown flag '{other}'")),
            }
        }
        if !listen.is_empty() {
            demo.cluster.listen = listen;
        }
        Ok(demo)
    }
}

fn parse_workers(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(format!("workers must be a number from 1 to 100, not '{v}'")),
    }
}

fn parse_connections(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if (1..=crate::config::MAX_WORKER_CONNECTIONS).contains(&n) => Ok(n),
        _ => Err(format!(
            "worker_connections must be a number from 1 to {}, not '{v}'",
            crate::config::MAX_WORKER_CONNECTIONS
        )),
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("expected true or false, not '{v}'")),
    }
}

/// Applies the `key=value` lines of `text` to `cluster` and `app`.
///
/// # Errors
/// `line N: ...` for the first line it cannot use.
pub fn parse_config(text: &str, cluster: &mut ClusterConfig, app: &mut DemoConfig) -> Result<(), String> {
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", n + 1);
        let (key, value) =
            line.split_once('=').ok_or_else(|| at(format!("expected key=value, got '{line}'")))?;
        let (key, value) = (key.trim(), value.trim());
        let ms = |v: &str| v.parse::<u64>().map(Duration::from_millis).map_err(|e| format!("{key}: {e}"));
        match key {
            "workers" => cluster.workers = parse_workers(value).map_err(at)?,
            "accept" => cluster.accept = value.parse().map_err(at)?,
            "reply" => app.reply = value.to_string(),
            "crash_at_start" => app.crash_at_start = parse_bool(value).map_err(at)?,
            "listen" => {
                cluster.listen = value
                    .split(',')
                    .map(|a| a.trim().parse::<SocketAddr>().map_err(|e| at(format!("listen '{a}': {e}"))))
                    .collect::<Result<_, _>>()?
            }
            "shutdown_timeout_ms" => cluster.shutdown_timeout = ms(value).map_err(at)?,
            "accept_mutex_delay_ms" => cluster.accept_mutex_delay = ms(value).map_err(at)?,
            "user" => cluster.user = Some(value.parse().map_err(at)?),
            "error_log" => cluster.error_log = Some(PathBuf::from(value)),
            "worker_connections" => cluster.worker_connections = parse_connections(value).map_err(at)?,
            "worker_slots" => {
                cluster.worker_slots = match value.parse::<usize>() {
                    Ok(n) if (1..=crate::master::MASTER_SLOT).contains(&n) => n,
                    _ => {
                        return Err(at(format!(
                            "worker_slots: '{value}' is not from 1 to the slots there are"
                        )))
                    }
                }
            }
            other => return Err(at(format!("unknown setting '{other}'"))),
        }
    }
    Ok(())
}

impl App for Demo {
    type Config = DemoConfig;

    fn load(&self) -> Result<Loaded<DemoConfig>, String> {
        let mut cluster = self.cluster.clone();
        let mut app = DemoConfig::default();
        if let Some(path) = &self.config {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            parse_config(&text, &mut cluster, &mut app).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(Loaded { cluster, app })
    }

    fn on_listening(&self, addrs: &[SocketAddr]) {
        let mut out = std::io::stdout().lock();
        for a in addrs {
            let _ = writeln!(out, "listening {a}");
        }
        let _ = out.flush();
    }

    fn worker(&self, config: DemoConfig, ctx: WorkerCtx) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(worker(config, ctx))
    }
}

async fn worker(config: DemoConfig, ctx: WorkerCtx) {
    let pid = std::process::id();
    let generation = ctx.control.generation();
    if config.crash_at_start {
        say(&format!("worker-crash pid={pid} gen={generation} worker={}", ctx.id));
        std::process::exit(3);
    }
    say(&format!("worker-start pid={pid} gen={generation} worker={}", ctx.id));
    let WorkerCtx { mut incoming, control, stats, id, .. } = ctx;
    let live = Rc::new(Cell::new(0usize));
    let done = Rc::new(Notify::new());
    let info = Rc::new(format!("pid={pid} gen={generation} worker={id}"));
    let reply = Rc::new(config.reply);
    while let Some(next) = incoming.accept().await {
        let (stream, _) = match next {
            Ok(c) => c,
            Err(e) => {
                say(&format!("worker {pid}: accept: {e}"));
                continue;
            }
        };
        live.set(live.get() + 1);
        let (live, done, control, stats) = (live.clone(), done.clone(), control.clone(), stats.clone());
        let (info, reply) = (info.clone(), reply.clone());
        spindle_rt::spawn_local(async move {
            stats.add(Counter::Active, 1);
            let stop = control.reached(Phase::Stopping);
            let _ = select2(serve(stream, &info, &reply, &control, &stats), stop).await;
            stats.add(Counter::Active, -1);
            live.set(live.get() - 1);
            done.notify_one();
        });
    }
    // Draining: let the connections in flight finish, unless told to stop.
    while live.get() > 0 && control.phase() != Phase::Stopping {
        let next = done.notified();
        let _ = select2(next, control.changed()).await;
    }
}

/// One line on stderr in a single `write` (so that lines of several
/// processes sharing the pipe do not interleave).
fn say(line: &str) {
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

async fn serve(mut s: TcpStream, info: &str, reply: &str, control: &Control, stats: &Stats) {
    let Some(line) = read_line(&mut s).await else { return };
    let out = match line.as_str() {
        "stats" => stats_text(stats),
        "slow" => {
            if read_line(&mut s).await.is_none() {
                return;
            }
            format!("{info} reopens={} reply={reply}\n", control.reopens())
        }
        _ => format!("{info} reopens={} reply={reply}\n", control.reopens()),
    };
    stats.add(Counter::Requests, 1);
    let _ = s.write_all(out.as_bytes()).await;
}

fn stats_text(stats: &Stats) -> String {
    let mut out = String::new();
    for (i, t) in stats.per_worker().iter().enumerate().take(STATS_SLOTS) {
        if t.get(Counter::Accepts) == 0 && t.get(Counter::Wakeups) == 0 && t.get(Counter::MutexTries) == 0 {
            continue;
        }
        out.push_str(&format!(
            "slot={i} accepts={} handled={} wakeups={} futile={} tries={} held={} active={}\n",
            t.get(Counter::Accepts),
            t.get(Counter::Handled),
            t.get(Counter::Wakeups),
            t.get(Counter::FutileWakeups),
            t.get(Counter::MutexTries),
            t.get(Counter::MutexHeld),
            t.get(Counter::Active),
        ));
    }
    out.push_str("end\n");
    out
}

/// One line (without its newline), at most 1 KiB; `None` at end of
/// stream or on error.
async fn read_line(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while buf.len() < 1024 {
        match s.read(&mut byte).await {
            Ok(1) if byte[0] == b'\n' => return Some(String::from_utf8_lossy(&buf).trim().to_string()),
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AcceptStrategy;

    #[test]
    fn config_lines_apply_and_bad_lines_name_themselves() {
        let mut c = ClusterConfig::default();
        let mut a = DemoConfig::default();
        parse_config(
            "# demo\nworkers = 3\naccept=mutex\nreply=hi there\n\ncrash_at_start=no\n",
            &mut c,
            &mut a,
        )
        .unwrap();
        assert_eq!((c.workers, c.accept), (3, AcceptStrategy::Mutex));
        assert_eq!(a, DemoConfig { reply: "hi there".into(), crash_at_start: false });
        for (bad, says) in [
            ("workers=0", "line 1"),
            ("reply=x\naccept=herd", "line 2: unknown accept strategy"),
            ("colour=blue", "unknown setting"),
            ("just words", "expected key=value"),
            ("listen=127.0.0.1:80,nope", "listen 'nope'"),
            ("user=no-such-user-here", "line 1: unknown user"),
            ("worker_connections=0", "worker_connections"),
        ] {
            let e = parse_config(bad, &mut c, &mut a).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn flags_parse_and_unknown_ones_are_refused() {
        let d = Demo::from_args(["--listen", "127.0.0.1:0", "--workers", "2", "--accept", "shared"]).unwrap();
        assert_eq!(d.cluster.workers, 2);
        assert_eq!(d.cluster.accept, AcceptStrategy::Shared);
        assert!(Demo::from_args(["--bogus"]).unwrap_err().contains("--bogus"));
        assert!(Demo::from_args(["--workers"]).unwrap_err().contains("needs a value"));
    }
}
