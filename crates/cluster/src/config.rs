//! What the master needs to know: where to listen, how many workers, and
//! how connections reach them.

use crate::affinity::CpuAffinity;
use crate::user::WorkerUser;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// How accepted connections reach the workers. Each is a different answer
/// to one question: when a connection arrives, which of the sleeping
/// workers does the kernel wake?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AcceptStrategy {
    /// A listener per worker, all bound to the same port with
    /// `SO_REUSEPORT`; the kernel hashes each connection to one of them,
    /// so exactly one worker wakes. Balanced by hash, not by load.
    Reuseport,
    /// One shared listener registered with `EPOLLEXCLUSIVE` in every
    /// worker: the kernel wakes one waiter (occasionally a few) per event.
    Exclusive,
    /// One shared listener and nginx's `accept_mutex`: a lock in shared
    /// memory; only the worker holding it has the listener in its poller.
    /// The others retry after `accept_mutex_delay`.
    Mutex,
    /// The master alone accepts and hands each connection to the next
    /// worker, round-robin, over the worker's channel (`SCM_RIGHTS`): Node
    /// cluster's default.
    Master,
    /// One shared listener in every worker's poller with no precaution:
    /// every worker wakes for every connection and all but one find
    /// nothing (the thundering herd). Here to be measured.
    Shared,
}

impl AcceptStrategy {
    /// Every strategy, in the order tables print them.
    pub const ALL: [AcceptStrategy; 5] = [
        AcceptStrategy::Reuseport,
        AcceptStrategy::Exclusive,
        AcceptStrategy::Mutex,
        AcceptStrategy::Master,
        AcceptStrategy::Shared,
    ];

    /// The name used in configuration files and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            AcceptStrategy::Reuseport => "reuseport",
            AcceptStrategy::Exclusive => "exclusive",
            AcceptStrategy::Mutex => "mutex",
            AcceptStrategy::Master => "master",
            AcceptStrategy::Shared => "shared",
        }
    }
}

impl fmt::Display for AcceptStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AcceptStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AcceptStrategy::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            format!("unknown accept strategy '{s}' (expected one of: reuseport, exclusive, mutex, master, shared)")
        })
    }
}

/// The master's configuration. The application reads it with its own
/// settings in [`App::load`](crate::App::load), at start-up and on every
/// `SIGHUP`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterConfig {
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// Number of worker processes; from 1 to [`MAX_WORKERS`].
    pub workers: usize,
    /// How connections reach the workers.
    pub accept: AcceptStrategy,
    /// `listen(2)` backlog.
    pub backlog: u32,
    /// With [`AcceptStrategy::Mutex`], how long a worker that did not get
    /// the mutex waits before trying again (nginx's `accept_mutex_delay`).
    pub accept_mutex_delay: Duration,
    /// How long a gracefully stopping worker may take to finish its
    /// connections before it is stopped fast (nginx's
    /// `worker_shutdown_timeout`).
    pub shutdown_timeout: Duration,
    /// Where the master writes its process id (and, during a binary
    /// upgrade, renames it with an `.oldbin` suffix), if anywhere.
    pub pid_file: Option<PathBuf>,
    /// The account workers run as when the master is root (nginx's
    /// `user`); ignored, with a warning, when it is not. `None` in a root
    /// master means [`DEFAULT_USER`](crate::user::DEFAULT_USER), `nobody`,
    /// filled in when the master loads the configuration; set it to root
    /// to keep the workers as root. See [`user`](crate::user).
    pub user: Option<WorkerUser>,
    /// Where the master's and the workers' log output goes (nginx's
    /// `error_log`); `None`: standard error. See [`ErrorLog`](crate::ErrorLog).
    pub error_log: Option<PathBuf>,
    /// Files the application's workers write (an access log): the master
    /// creates them and gives them to [`user`](Self::user) at start, on
    /// reload and on `USR1`, before the workers open them.
    pub log_files: Vec<PathBuf>,
    /// Directories the application's workers read by name (a web server's
    /// root): at start and on reload a root master checks that the
    /// worker user may read and search each, and warns when it may not.
    pub worker_reads: Vec<PathBuf>,
    /// Most connections one worker serves at once (nginx's
    /// `worker_connections`). A worker at the limit stops accepting (its
    /// listeners leave its poller, so the kernel wakes another worker or
    /// keeps the connection queued) until one of its connections closes;
    /// with [`AcceptStrategy::Mutex`] a worker above 7/8 of it stops
    /// contending for the mutex for a while (nginx's
    /// `ngx_accept_disabled`). Counted from [`Counter::Active`](crate::Counter::Active),
    /// which the application must keep.
    pub worker_connections: usize,
    /// Which CPUs each worker is bound to (nginx's `worker_cpu_affinity`);
    /// off by default. See [`affinity`](crate::affinity).
    pub worker_cpu_affinity: CpuAffinity,
    /// The open-descriptor limit the workers get (nginx's
    /// `worker_rlimit_nofile`); 0, the default, means twice
    /// `worker_connections` plus 64 (a connection's socket, a file it
    /// sends, and some to spare). The master raises its soft limit to this
    /// before it forks, as far as the hard limit lets it; see
    /// [`worker_nofile`](Self::worker_nofile).
    pub worker_rlimit_nofile: u64,
    /// How many workers, of every generation, may run at once: each has
    /// a stats slot, and a worker that finds none free waits until an
    /// exiting one gives its slot back. The default,
    /// [`MASTER_SLOT`](crate::master::MASTER_SLOT) (every slot), lets two
    /// generations of [`MAX_WORKERS`] overlap during a reload; a lower
    /// value (never above the default) is for tests of that wait.
    pub worker_slots: usize,
    /// Batching of a busy worker's polls, spindle's own setting: interrupt
    /// moderation in user space (`spindle_loop::Loop::set_coalesce` has the
    /// mechanism and [`Coalesce`](spindle_loop::Coalesce) the fields).
    /// While at least `min_active` connections were ready within the last
    /// millisecond, the worker sleeps `wait` before each poll, off the
    /// poller's wait queue, and the poll then takes everything that arrived
    /// meanwhile as one batch; below that load it polls at once. `None`
    /// (the default here; `spindle http` turns it on) never waits.
    ///
    /// Why a server with several workers gains in latency as well as CPU: a
    /// worker asleep in `epoll_wait` is woken by the client's `write`, and
    /// the kernel treats a socket's wake-up as *synchronous* (it expects
    /// the writer to sleep soon), so when the worker's own CPU is busy it
    /// may place the worker on the writer's CPU, behind a writer that keeps
    /// running until its time slice ends. A worker that sleeps a fixed time
    /// instead is woken by its own timer, on its own CPU.
    /// `bench/RESULTS.md` has the measurements.
    pub io_coalesce: Option<spindle_loop::Coalesce>,
}

impl ClusterConfig {
    /// The descriptor limit the workers need: [`worker_rlimit_nofile`]
    /// if set, otherwise `2 × worker_connections + 64`.
    ///
    /// Why the master raises it: each connection is a descriptor, and
    /// most systems still start a login shell's processes with a soft
    /// limit of 1024. Left there, a worker hits `EMFILE` near a thousand
    /// connections, far below `worker_connections`.
    ///
    /// [`worker_rlimit_nofile`]: Self::worker_rlimit_nofile
    pub fn worker_nofile(&self) -> u64 {
        match self.worker_rlimit_nofile {
            0 => 2 * self.worker_connections as u64 + 64,
            n => n,
        }
    }
}

/// The default [`ClusterConfig::worker_connections`]: 10240, not nginx's
/// 1024 (nginx's counts listeners and upstreams too), so that one worker
/// holds the 1000-connection benchmarks with room to spare.
pub const WORKER_CONNECTIONS: usize = 10_240;

/// The most workers one generation may have (nginx's limit on processes
/// is 1024): half the stats slots, so that a reload's new generation
/// finds a slot for every worker while the old one drains. The default
/// worker count (one per CPU) is capped to it.
pub const MAX_WORKERS: usize = crate::master::MASTER_SLOT / 2;

/// The largest accepted [`ClusterConfig::worker_connections`].
pub const MAX_WORKER_CONNECTIONS: usize = 1 << 24;

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 8080))],
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_WORKERS),
            accept: AcceptStrategy::Reuseport,
            backlog: 511,
            accept_mutex_delay: Duration::from_millis(500),
            shutdown_timeout: Duration::from_secs(30),
            pid_file: None,
            user: None,
            error_log: None,
            log_files: Vec::new(),
            worker_reads: Vec::new(),
            worker_connections: WORKER_CONNECTIONS,
            worker_cpu_affinity: CpuAffinity::Off,
            worker_rlimit_nofile: 0,
            worker_slots: crate::master::MASTER_SLOT,
            io_coalesce: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_nofile_defaults_to_twice_the_connections() {
        let mut c = ClusterConfig { worker_connections: 100, ..ClusterConfig::default() };
        assert_eq!(c.worker_nofile(), 264);
        c.worker_rlimit_nofile = 5000;
        assert_eq!(c.worker_nofile(), 5000);
    }

    #[test]
    fn strategy_names_round_trip() {
        for a in AcceptStrategy::ALL {
            assert_eq!(a.name().parse::<AcceptStrategy>().unwrap(), a);
        }
        assert!("herd".parse::<AcceptStrategy>().unwrap_err().contains("reuseport"));
    }
}
