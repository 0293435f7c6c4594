//! Server CPU time from `/proc/PID/stat`.
//!
//! On a 2-core machine the load client saturates a core, so throughput
//! alone mostly measures the client; CPU time the server spent per message
//! is the figure that compares servers. `/proc/PID/stat` of a process
//! (a thread-group leader) sums user and system time over all of its
//! threads, including threads that have already exited, so one read covers
//! a multi-threaded runtime too. Children are not included.

use std::io;

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
    // SAFETY: sysconf takes no pointers and has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // sysconf returns -1 only for an unknown name; _SC_CLK_TCK is POSIX.
    u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100)
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
