//! Server CPU time from `/proc/PID/stat`.
//!
//! On a 2-core machine the load client saturates a core, so throughput
//! alone mostly measures the client; CPU time the server spent per message
//! is the figure that compares servers. `/proc/PID/stat` of a process
//! (a thread-group leader) sums user and system time over all of its
//! threads, including threads that have already exited, so one read covers
//! a multi-threaded runtime too. Children are not included: a server made
//! of a master and worker processes (nginx, `spindle http`) is measured as
//! a [`TreeTicks`], the master and every descendant read one by one.

use std::io;
use std::path::Path;

/// User and system CPU time of a process, in clock ticks
/// (see [`clock_ticks_per_second`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTicks {
    /// Field 14 of `/proc/PID/stat`: time scheduled in user mode.
    pub utime: u64,
    /// Field 15 of `/proc/PID/stat`: time scheduled in kernel mode.
    pub stime: u64,
}

impl CpuTicks {
    /// User plus system ticks.
    pub fn total(self) -> u64 {
        self.utime.saturating_add(self.stime)
    }
}

/// Parses `utime` and `stime` (fields 14 and 15) out of the text of a
/// `/proc/PID/stat` file.
///
/// Field 2, the command name, is wrapped in parentheses and may itself
/// contain spaces and parentheses (a thread can name itself `a) (b`), so
/// the fields are counted from after the *last* `)`: the text there starts
/// with field 3, the state.
pub fn parse_stat_cpu_ticks(stat: &str) -> io::Result<CpuTicks> {
    let bad = |what: &str| {
        io::Error::new(io::ErrorKind::InvalidData, format!("malformed /proc/PID/stat ({what}): {stat:?}"))
    };
    let close = stat.rfind(')').ok_or_else(|| bad("no ')' after comm"))?;
    // Fields after comm: index 0 is field 3 (state), so field N is N - 3.
    let mut fields = stat[close + 1..].split_ascii_whitespace().skip(14 - 3);
    let mut next_number = |name: &str| -> io::Result<u64> {
        fields
            .next()
            .ok_or_else(|| bad(&format!("missing {name}")))?
            .parse()
            .map_err(|_| bad(&format!("non-numeric {name}")))
    };
    let utime = next_number("utime")?;
    let stime = next_number("stime")?;
    Ok(CpuTicks { utime, stime })
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of the
/// `/proc/PID/stat` times; 100 on every mainstream Linux.
pub fn clock_ticks_per_second() -> u64 {
    // sysconf returns -1 only for an unknown name; _SC_CLK_TCK is POSIX.
    u64::try_from(crate::sys::sysconf_clk_tck()).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// CPU ticks (user and system, all threads) a live process has used.
pub fn proc_cpu_ticks(pid: u32) -> io::Result<CpuTicks> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {path}: {e}")))?;
    parse_stat_cpu_ticks(&text)
}

/// CPU seconds (user plus system, all threads) a live process has used:
/// `(utime + stime) / sysconf(_SC_CLK_TCK)`. The resolution is one tick,
/// 10 ms at the usual 100 Hz, so measure over seconds, not milliseconds.
pub fn proc_cpu_seconds(pid: u32) -> io::Result<f64> {
    let ticks = proc_cpu_ticks(pid)?.total();
    Ok(ticks as f64 / clock_ticks_per_second() as f64)
}

/// A reading of a server's cumulative CPU ticks that a later reading can
/// be compared with: one process ([`CpuTicks`]) or a master and its
/// workers ([`TreeTicks`]).
pub trait CpuReading {
    /// The ticks used between `earlier` and this reading.
    fn since(&self, earlier: &Self) -> CpuTicks;
}

impl CpuReading for CpuTicks {
    fn since(&self, earlier: &Self) -> CpuTicks {
        CpuTicks {
            utime: self.utime.saturating_sub(earlier.utime),
            stime: self.stime.saturating_sub(earlier.stime),
        }
    }
}

/// Parses the parent pid (field 4) out of the text of a `/proc/PID/stat`
/// file; the command name is skipped as in [`parse_stat_cpu_ticks`].
pub fn parse_stat_ppid(stat: &str) -> io::Result<u32> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("malformed /proc/PID/stat: {stat:?}"));
    let close = stat.rfind(')').ok_or_else(bad)?;
    stat[close + 1..].split_ascii_whitespace().nth(4 - 3).and_then(|f| f.parse().ok()).ok_or_else(bad)
}

/// The direct children of a live process.
///
/// A child is listed under the thread that forked it, so this reads
/// `/proc/PID/task/*/children` for every thread. Kernels built without
/// `CONFIG_PROC_CHILDREN` have no such file; then every `/proc/N/stat` is
/// scanned for parent `pid` instead (slower, same answer).
pub fn proc_children(pid: u32) -> io::Result<Vec<u32>> {
    let mut children = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("children");
        match std::fs::read_to_string(&path) {
            Ok(text) => children.extend(text.split_ascii_whitespace().filter_map(|c| c.parse::<u32>().ok())),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !path.parent().is_some_and(Path::exists) => {
                // The thread exited meanwhile; its children moved on too.
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return children_by_scan(pid),
            Err(e) => return Err(e),
        }
    }
    children.sort_unstable();
    children.dedup();
    Ok(children)
}

/// [`proc_children`] the slow way: every process whose parent is `pid`.
fn children_by_scan(pid: u32) -> io::Result<Vec<u32>> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(n) = entry?.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        // A process may exit between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{n}/stat")) else { continue };
        if parse_stat_ppid(&stat).ok() == Some(pid) {
            children.push(n);
        }
    }
    children.sort_unstable();
    Ok(children)
}

/// A live process and all its descendants, parents before children.
/// Processes that exit while the tree is walked are left out; the root
/// must be there.
pub fn process_tree(root: u32) -> io::Result<Vec<u32>> {
    let mut tree = vec![root];
    let mut next = 0;
    while next < tree.len() {
        match proc_children(tree[next]) {
            Ok(children) => {
                let new: Vec<u32> = children.into_iter().filter(|c| !tree.contains(c)).collect();
                tree.extend(new);
            }
            Err(e) if next == 0 => return Err(e),
            Err(_) => {}
        }
        next += 1;
    }
    Ok(tree)
}

/// CPU ticks of every process of a tree (a master and its workers), read
/// at one moment: compare two readings with [`CpuReading::since`].
///
/// ```no_run
/// use spindle_bench::procstat::{CpuReading as _, TreeTicks};
///
/// let master = 4242;
/// let before = TreeTicks::read(master)?;
/// // ... load the server ...
/// let after = TreeTicks::read(master)?;
/// let used = after.since(&before);
/// println!("{} ticks, same processes: {}", used.total(), after.same_processes(&before));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeTicks {
    /// (pid, ticks), the root first.
    pub processes: Vec<(u32, CpuTicks)>,
}

impl TreeTicks {
    /// Reads the ticks of `root` and every descendant (see
    /// [`process_tree`]); fails only if `root` cannot be read.
    pub fn read(root: u32) -> io::Result<Self> {
        let mut processes = Vec::new();
        for (i, pid) in process_tree(root)?.into_iter().enumerate() {
            match proc_cpu_ticks(pid) {
                Ok(ticks) => processes.push((pid, ticks)),
                Err(e) if i == 0 => return Err(e),
                Err(_) => {} // exited since it was listed
            }
        }
        Ok(Self { processes })
    }

    /// Whether both readings saw the same set of processes.
    pub fn same_processes(&self, other: &Self) -> bool {
        let pids = |t: &Self| {
            let mut pids: Vec<u32> = t.processes.iter().map(|&(p, _)| p).collect();
            pids.sort_unstable();
            pids
        };
        pids(self) == pids(other)
    }
}

impl CpuReading for TreeTicks {
    /// The CPU used since `earlier`, summed over the processes of this
    /// reading: a process absent from `earlier` counts from zero (it
    /// started in between). A process of `earlier` that is gone now took
    /// its last ticks with it; [`same_processes`](Self::same_processes)
    /// tells whether that can have happened.
    fn since(&self, earlier: &Self) -> CpuTicks {
        let mut used = CpuTicks { utime: 0, stime: 0 };
        for (pid, now) in &self.processes {
            let then = earlier.processes.iter().find(|(p, _)| p == pid).map(|&(_, t)| t);
            let then = then.unwrap_or(CpuTicks { utime: 0, stime: 0 });
            used.utime += now.utime.saturating_sub(then.utime);
            used.stime += now.stime.saturating_sub(then.stime);
        }
        used
    }
}

/// Parses the busy time of the whole machine, in clock ticks, from the
/// text of `/proc/stat`: the first (`cpu `) line's user, nice, system, irq,
/// softirq and steal columns. Idle and iowait are not busy; guest time is
/// already inside user.
pub fn parse_system_busy_ticks(stat: &str) -> io::Result<u64> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed /proc/stat cpu line");
    let line = stat.lines().find(|l| l.starts_with("cpu ")).ok_or_else(bad)?;
    let columns: Vec<u64> =
        line.split_ascii_whitespace().skip(1).map(str::parse).collect::<Result<_, _>>().map_err(|_| bad())?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal, ..] = columns[..] else {
        return Err(bad());
    };
    Ok(user + nice + system + irq + softirq + steal)
}

/// CPU seconds the whole machine has been busy (all CPUs, all processes)
/// since boot; the difference over a run, minus the server's and client's
/// own time, is what *other* processes took, which makes figures noisy.
pub fn system_busy_seconds() -> io::Result<f64> {
    let text = std::fs::read_to_string("/proc/stat")?;
    Ok(parse_system_busy_ticks(&text)? as f64 / clock_ticks_per_second() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real line from a 5.x kernel, trimmed after field 20.
    const PLAIN: &str = "4242 (bare_epoll_echo) S 1 4242 4242 0 -1 4194560 \
                         120 0 0 0 731 1502 0 0 20 0 1";

    #[test]
    fn plain_comm() {
        let ticks = parse_stat_cpu_ticks(PLAIN).unwrap();
        assert_eq!(ticks, CpuTicks { utime: 731, stime: 1502 });
        assert_eq!(ticks.total(), 2233);
    }

    #[test]
    fn comm_with_spaces_and_parentheses() {
        let stat = "77 (a) (b c)) R 1 77 77 0 -1 4194560 1 2 3 4 5 6 0 0 20 0 1\n";
        assert_eq!(parse_stat_cpu_ticks(stat).unwrap(), CpuTicks { utime: 5, stime: 6 });
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(parse_stat_cpu_ticks("").is_err());
        assert!(parse_stat_cpu_ticks("1 (x) S 1 2 3").is_err());
        assert!(parse_stat_cpu_ticks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 x y").is_err());
    }

    #[test]
    fn parent_pid() {
        assert_eq!(parse_stat_ppid(PLAIN).unwrap(), 1);
        assert_eq!(parse_stat_ppid("77 (a) (b c)) S 42 77 77 0").unwrap(), 42);
        assert!(parse_stat_ppid("77 (a) S").is_err());
    }

    #[test]
    fn tree_of_a_shell_and_its_children() {
        use std::process::{Command, Stdio};
        use std::time::{Duration, Instant};
        // sh forks two sleeps and waits for them.
        let mut sh = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let tree = loop {
            let tree = process_tree(sh.id()).unwrap();
            if tree.len() == 3 || Instant::now() > deadline {
                break tree;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(tree.len(), 3, "{tree:?}");
        assert_eq!(tree[0], sh.id());
        assert_eq!(children_by_scan(sh.id()).unwrap(), proc_children(sh.id()).unwrap());
        let first = TreeTicks::read(sh.id()).unwrap();
        let second = TreeTicks::read(sh.id()).unwrap();
        assert!(second.same_processes(&first));
        assert!(second.since(&first).total() < 100, "sleeping processes use no CPU");
        for pid in &tree[1..] {
            crate::sys::send_signal(*pid, libc::SIGKILL).unwrap();
        }
        let _ = sh.kill();
        let _ = sh.wait();
    }

    #[test]
    fn tree_deltas() {
        let t = |u, s| CpuTicks { utime: u, stime: s };
        let before = TreeTicks { processes: vec![(1, t(10, 5)), (2, t(100, 50))] };
        let after = TreeTicks { processes: vec![(1, t(12, 5)), (2, t(110, 60)), (3, t(1, 1))] };
        assert_eq!(after.since(&before), t(2 + 10 + 1, 10 + 1));
        assert!(!after.same_processes(&before));
        assert!(before.same_processes(&before.clone()));
    }

    #[test]
    fn system_busy_ticks() {
        let stat = "cpu  40501 7 8435 58550 386 1 1527 1625 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
        assert_eq!(parse_system_busy_ticks(stat).unwrap(), 40501 + 7 + 8435 + 1 + 1527 + 1625);
        assert!(parse_system_busy_ticks("cpu  1 2 3\n").is_err());
        assert!(parse_system_busy_ticks("intr 1 2\n").is_err());
        assert!(system_busy_seconds().unwrap() > 0.0);
    }

    #[test]
    fn own_process_has_cpu_time() {
        let pid = std::process::id();
        // Burn a little CPU so at least the parse path sees live numbers.
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let secs = proc_cpu_seconds(pid).unwrap();
        assert!(secs >= 0.0);
        assert!(proc_cpu_seconds(u32::MAX).is_err());
    }
}
