//! Forking a persistence child, and what the child tells the parent.
//!
//! Redis's `redisFork` times the fork and counts it, and its children send
//! their copy-on-write size back through a pipe (`childinfo.c`): the
//! memory the child had to copy because the parent kept writing to pages
//! they shared, which is what a fork really costs. So do these.
//!
//! The protocol: before forking, the parent opens a pipe (non-blocking, and
//! closed on exec, so no other process keeps it). The child keeps the write
//! end and, just before it exits, sums `Private_Dirty` over its mappings
//! (Redis's `zmalloc_get_private_dirty`: right after the fork every page is
//! shared, so what is private and dirty is what was copied) and writes it,
//! 8 bytes, little-endian. The parent drops its copy of the write end at
//! once and reads the figure when it reaps the child; a child that died
//! before writing leaves nothing to read, and the figure is 0.
//!
//! Unlike Redis, the child reports only at its end, not every second while
//! it runs: the `current_cow_*` and `current_save_keys_processed` fields
//! stay 0 while a child runs.

use super::sys::{self, Forked};
use crate::server::Server;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::time::Instant;

/// What [`fork`] returned in this process.
pub enum Forking {
    /// We are the child; report through [`report_cow`] before exiting.
    Child(Option<File>),
    /// We are the parent; the child has this pid.
    Parent(i32),
}

/// Forks a persistence child (Redis's `redisFork`): times the call
/// (`latest_fork_usec`, the `fork` latency event), counts it
/// (`total_forks`), notes the keys the child will save
/// (`current_save_keys_total`), and keeps the read end of the child's
/// report pipe for [`take_cow`]. Without a pipe (out of descriptors) the
/// child still runs and reports nothing.
///
/// # Errors
/// The fork failed.
pub fn fork(srv: &mut Server) -> io::Result<Forking> {
    let pipe = sys::pipe().map_err(|e| tracing::warn!(error = %e, "no pipe for the child's report")).ok();
    let start = Instant::now();
    match sys::fork()? {
        Forked::Child => Ok(Forking::Child(pipe.map(|(_, w)| w))),
        Forked::Parent(pid) => {
            let us = start.elapsed().as_micros() as u64;
            srv.stats.latest_fork_usec = us;
            srv.stats.total_forks += 1;
            let threshold = srv.config.latency_monitor_threshold;
            srv.latency.record(threshold, "fork", srv.now_ms / 1000, us / 1000);
            srv.persist.save_keys_total = srv.dbs.iter().map(|db| db.len()).sum();
            // The write end is the child's alone from here on.
            srv.persist.child_report = pipe.map(|(r, _)| r);
            Ok(Forking::Parent(pid))
        }
    }
}

/// In the child, just before `_exit`: writes its copy-on-write size to
/// the parent. Errors are ignored (the parent then reads 0).
pub fn report_cow(pipe: Option<File>) {
    if let Some(mut w) = pipe {
        let _ = w.write_all(&(private_dirty() as u64).to_le_bytes());
    }
}

/// In the parent, once the child has exited: the size it reported, or 0.
/// Closes the pipe.
pub fn take_cow(srv: &mut Server) -> usize {
    let Some(mut r) = srv.persist.child_report.take() else { return 0 };
    let mut buf = [0u8; 8];
    match r.read_exact(&mut buf) {
        Ok(()) => u64::from_le_bytes(buf) as usize,
        Err(_) => 0,
    }
}

/// This process's private dirty memory in bytes: the `Private_Dirty` lines
/// of /proc/self/smaps_rollup (one summary) or, on kernels without it,
/// /proc/self/smaps (one per mapping), summed.
fn private_dirty() -> usize {
    let file = File::open("/proc/self/smaps_rollup").or_else(|_| File::open("/proc/self/smaps"));
    let Ok(file) = file else { return 0 };
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let kb = line.strip_prefix("Private_Dirty:")?.trim().strip_suffix("kB")?.trim().parse::<usize>();
            kb.ok()
        })
        .sum::<usize>()
        * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_private_dirty_memory() {
        let v = vec![1u8; 4 << 20];
        assert!(private_dirty() >= 4 << 20);
        drop(v);
    }
}
