//! INFO's server, clients and CPU sections.

use super::{field, REDIS_VERSION};
use crate::server::Server;

/// The kernel's name, release and machine, as `uname -srm` prints them
/// (Redis's `os` field).
fn os_name() -> String {
    // SAFETY: `utsname` is plain data for which all-zero is valid.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to an owned utsname, which uname fills in.
    if unsafe { libc::uname(&mut u) } != 0 {
        return format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    }
    let text = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", text(&u.sysname), text(&u.release), text(&u.machine))
}

/// `# Server`.
pub(super) fn server(srv: &Server, out: &mut String) {
    let now = srv.now_ms;
    let uptime = ((now - srv.started_ms) / 1000).max(0);
    field!(out, "# Server");
    field!(out, "redis_version:{REDIS_VERSION}");
    field!(out, "redis_git_sha1:00000000");
    field!(out, "redis_git_dirty:0");
    field!(out, "redis_build_id:0");
    field!(out, "redis_mode:standalone");
    field!(out, "os:{}", os_name());
    field!(out, "arch_bits:{}", usize::BITS);
    field!(out, "monotonic_clock:POSIX clock_gettime");
    field!(out, "multiplexing_api:epoll");
    field!(out, "atomicvar_api:c11-builtin");
    field!(out, "gcc_version:0.0.0");
    field!(out, "process_id:{}", std::process::id());
    field!(out, "process_supervised:no");
    field!(out, "run_id:{}", srv.run_id);
    field!(out, "tcp_port:{}", srv.config.port);
    field!(out, "server_time_usec:{}", now * 1000);
    field!(out, "uptime_in_seconds:{uptime}");
    field!(out, "uptime_in_days:{}", uptime / 86400);
    field!(out, "hz:{}", srv.config.hz);
    field!(out, "configured_hz:{}", srv.config.hz);
    field!(out, "lru_clock:{}", srv.lru_clock);
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    field!(out, "executable:{exe}");
    let cf = srv.config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    field!(out, "config_file:{cf}");
    field!(out, "io_threads_active:0");
    if let Some(w) = &srv.shutdown_wait {
        field!(out, "shutdown_in_milliseconds:{}", w.deadline_ms - srv.now_ms);
    }
}

/// `# Clients`.
pub(super) fn clients(srv: &Server, out: &mut String) {
    field!(out, "# Clients");
    // Replicas are not counted, as in Redis (`server.clients` less
    // `server.slaves`).
    field!(out, "connected_clients:{}", srv.client_count() - srv.repl.replica_count());
    field!(out, "cluster_connections:0");
    field!(out, "maxclients:{}", srv.config.maxclients);
    field!(out, "client_recent_max_input_buffer:{}", srv.clients_peak.recent_max_input());
    field!(out, "client_recent_max_output_buffer:{}", srv.clients_peak.recent_max_output());
    field!(out, "blocked_clients:{}", srv.blocked_clients + srv.postponed.len());
    field!(out, "tracking_clients:0");
    field!(out, "clients_in_timeout_table:0");
}

/// CPU time (system, user) `who` used: the process, its reaped children,
/// or the calling thread; in Redis's `%ld.%06ld` form.
fn cpu_time(who: libc::c_int) -> (String, String) {
    // SAFETY: `rusage` is plain data for which all-zero is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid `who` and a valid pointer to an owned rusage, which
    // getrusage only writes into. On failure it stays zeroed.
    let _ = unsafe { libc::getrusage(who, &mut ru) };
    let secs = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (secs(ru.ru_stime), secs(ru.ru_utime))
}

/// `# CPU`. INFO runs on the event-loop thread, so `RUSAGE_THREAD` gives
/// that thread's time: Redis's `*_main_thread` figures.
pub(super) fn cpu(out: &mut String) {
    let (sys, user) = cpu_time(libc::RUSAGE_SELF);
    let (csys, cuser) = cpu_time(libc::RUSAGE_CHILDREN);
    let (msys, muser) = cpu_time(libc::RUSAGE_THREAD);
    field!(out, "# CPU");
    field!(out, "used_cpu_sys:{sys}");
    field!(out, "used_cpu_user:{user}");
    field!(out, "used_cpu_sys_children:{csys}");
    field!(out, "used_cpu_user_children:{cuser}");
    field!(out, "used_cpu_sys_main_thread:{msys}");
    field!(out, "used_cpu_user_main_thread:{muser}");
}
