//! LATENCY DOCTOR: Redis 7.0's `createLatencyReport` (latency.c), the
//! same sentences for the same conditions: each event class with its
//! spikes' average, mean deviation and period, then the advice its
//! classes call for.

use crate::server::Server;
use std::fmt::Write;

/// One event class's figures (Redis's `analyzeLatencyForEvent`).
struct Stats {
    samples: u64,
    avg: u64,
    mad: u64,
    /// Seconds from the oldest sample to now (1 at least).
    period: i64,
}

fn analyze(samples: &std::collections::VecDeque<(i64, u64)>, now_s: i64) -> Stats {
    let n = samples.len() as u64;
    if n == 0 {
        return Stats { samples: 0, avg: 0, mad: 0, period: 0 };
    }
    let avg = samples.iter().map(|&(_, ms)| ms).sum::<u64>() / n;
    let oldest = samples.iter().map(|&(t, _)| t).min().unwrap_or(now_s);
    let period = (now_s - oldest).max(0);
    let mad = samples.iter().map(|&(_, ms)| (avg as i64 - ms as i64).unsigned_abs()).sum::<u64>() / n;
    Stats { samples: n, avg, mad, period: if period == 0 { 1 } else { period } }
}

/// Bytes of transparent huge pages the process uses (`AnonHugePages` in
/// /proc/self/smaps_rollup): any at all earns Redis's THP advice.
fn anon_huge_pages() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else { return 0 };
    text.lines()
        .filter_map(|l| l.strip_prefix("AnonHugePages:"))
        .filter_map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum()
}

/// The advice flags, in the order Redis prints them.
#[derive(Default)]
struct Advice {
    better_vm: bool,
    slowlog_enabled: bool,
    slowlog_tuning: bool,
    slowlog_inspect: bool,
    scheduler: bool,
    large_objects: bool,
    hz: bool,
    disable_thp: bool,
    count: u32,
}

/// The report.
pub fn report(srv: &Server) -> String {
    let threshold = srv.config.latency_monitor_threshold;
    let events: Vec<_> = srv.latency.events().collect();
    if events.is_empty() && threshold == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
    }
    let now_s = srv.now_ms / 1000;
    let mut out = String::new();
    let mut a = Advice::default();
    for (i, (event, series)) in events.iter().enumerate() {
        if i == 0 {
            out.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let ls = analyze(&series.samples, now_s);
        let _ = write!(
            out,
            "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            i + 1,
            event,
            ls.samples,
            ls.avg,
            ls.mad,
            ls.period as f64 / ls.samples.max(1) as f64,
            series.max
        );
        match *event {
            "fork" => {
                let rate = srv.stats.fork_rate;
                let quality = if rate < 10.0 {
                    "terrible"
                } else if rate < 25.0 {
                    "poor"
                } else if rate < 100.0 {
                    "good"
                } else {
                    "excellent"
                };
                if rate < 25.0 {
                    a.better_vm = true;
                    a.count += 1;
                }
                let _ = write!(out, " Fork rate is {rate:.2} GB/sec ({quality}).");
            }
            "command" => {
                let slower_than = srv.config.slowlog_log_slower_than;
                if slower_than < 0 || srv.config.slowlog_max_len == 0 {
                    a.slowlog_enabled = true;
                    a.count += 1;
                } else if slower_than / 1000 > threshold as i64 {
                    a.slowlog_tuning = true;
                    a.count += 1;
                }
                a.slowlog_inspect = true;
                a.large_objects = true;
                a.count += 2;
            }
            "fast-command" => {
                a.scheduler = true;
                a.count += 1;
            }
            "expire-cycle" => {
                a.hz = true;
                a.large_objects = true;
                a.count += 2;
            }
            _ => {}
        }
        out.push('\n');
    }
    if anon_huge_pages() > 0 {
        a.disable_thp = true;
        a.count += 1;
    }
    if events.is_empty() && a.count == 0 {
        out.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
    } else if !events.is_empty() && a.count == 0 {
        out.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
    } else {
        advise(&mut out, &a, srv);
    }
    out
}

/// The advice section ("I have a few advices for you").
fn advise(out: &mut String, a: &Advice, srv: &Server) {
    let threshold_us = srv.config.latency_monitor_threshold * 1000;
    out.push_str("\nI have a few advices for you:\n\n");
    if a.better_vm {
        out.push_str("- If you are using a virtual machine, consider upgrading it with a faster one using a hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() performance. Even in the context of the same VM provider, certain kinds of instances can execute fork faster than others.\n");
    }
    if a.slowlog_enabled {
        let _ = writeln!(out, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold_us}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.");
    }
    if a.slowlog_tuning {
        let _ = writeln!(out, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold_us}'.");
    }
    if a.slowlog_inspect {
        out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if a.scheduler {
        out.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
    }
    if a.hz && srv.config.hz < 100 {
        out.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    }
    if a.large_objects {
        out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
    if a.disable_thp {
        out.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
    }
}
