//! The master's side of replication: a replica (a redis-server started
//! with `replicaof`, or `redis-cli --replica`) gets a snapshot and then
//! every write, as a command stream, for as long as it stays connected.
//!
//! # A full resynchronization
//!
//! 1. The replica says `PSYNC ? -1` (or the older `SYNC`), or a `PSYNC
//!    <id> <offset>` that cannot continue (see below). The answer is a
//!    full resync: `+FULLRESYNC <replid> <offset>`, sent when the BGSAVE
//!    that will serve it forks (see [`super::sync`]).
//! 2. From that fork on, every write the server does is also appended to
//!    this replica's *pending* stream: the snapshot holds the data as of
//!    the fork, and the stream holds everything after it, so snapshot plus
//!    stream is exactly the master's data, with nothing lost or applied
//!    twice. This is why the stream must start at the fork, not at PSYNC
//!    (a BGSAVE already running when PSYNC came is waited out).
//! 3. When the snapshot is written, it is sent as `$<len>\r\n<bytes>`
//!    from the file (`sendfile`), and the pending stream right after it.
//!    From then on the replica is *online*: each write is added to its
//!    output buffer as the command runs, and goes out before the loop
//!    sleeps, with the replies.
//!
//! The stream is the AOF's format ([`super::stream::CommandStream`]):
//! SELECT when the database changes, commands rewritten to be
//! deterministic (relative TTLs made absolute, expired keys as DEL),
//! transactions in MULTI ... EXEC. Every `repl-ping-replica-period`
//! (10 s) a PING is added, so a replica can tell a quiet master from a
//! dead link (it drops the link after `repl-timeout` of silence). The
//! replica's `REPLCONF ACK <offset>` messages, once a second, get no reply
//! (a reply would land in the replica's stream); the offset is shown in
//! INFO.
//!
//! # A partial resynchronization
//!
//! A link that breaks for a moment need not cost a whole snapshot. From
//! the first replica on, the stream also goes into the *backlog*
//! ([`super::backlog`]), the last `repl-backlog-size` bytes (1 MB). A
//! replica that comes back says `PSYNC <replid> <offset + 1>`, the
//! history it follows and the first byte it misses; if that history is
//! this server's (its replication ID, or the previous one up to the offset
//! where it changed, see below) and the backlog still holds that byte,
//! the answer is `+CONTINUE <replid>` followed by the missing bytes, and
//! the replica is online at once. Otherwise it is a full resync. INFO
//! counts both (`sync_full`, `sync_partial_ok`, `sync_partial_err`).
//!
//! The replication ID names a history of the data, and the offset counts
//! its bytes. A replica takes its master's ID and offset at a full sync
//! and passes the master's stream on byte for byte to its own replicas
//! and backlog (Redis's PSYNC2), so a whole chain shares one history: a
//! replica of a replica can continue from either, and after a failover a
//! replica can continue from its promoted sibling. The ID changes when
//! the backlog is created on a master (writes made before it were never
//! counted) and at `REPLICAOF NO ONE`; at that last one, the old ID stays
//! valid as `master_replid2` up to `second_repl_offset`, so replicas of
//! the old master continue. The backlog is freed after `repl-backlog-ttl`
//! seconds (1 hour) without replicas, on a master only.
//!
//! # WAIT
//!
//! `WAIT numreplicas timeout` blocks its client until that many replicas
//! acknowledged the stream up to the client's last write. To get their
//! acknowledgements at once rather than within the second, the master
//! adds `REPLCONF GETACK *` to the stream before the loop sleeps.
//!
//! The replicas' output buffers and the backlog are left out of
//! `maxmemory` (see [`buffers_memory`]). Being a replica is
//! [`super::replica`]; handing the master role over is
//! [`super::failover`]. Not done: diskless sync (the snapshot always goes
//! through a file), and Redis 7's shared replication buffer (each
//! replica's output buffer holds its own copy of the stream, and the
//! backlog never grows past its size to keep what a slow replica has not
//! read).

use super::backlog::Backlog;
use super::stream::CommandStream;
use crate::server::Server;
use std::collections::HashMap;

/// What a client said in `REPLCONF` before its SYNC.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handshake {
    /// `REPLCONF listening-port`: where the replica itself listens (INFO).
    pub listening_port: u16,
    /// `REPLCONF rdb-only 1` (`redis-cli --rdb`): only the snapshot is
    /// wanted; the connection closes after it.
    pub rdb_only: bool,
    /// `REPLCONF rdb-filter-only <filters>` (`redis-cli --functions-rdb`):
    /// the snapshot leaves the keys out. Its only filter, `functions`,
    /// keeps the functions, which this server does not have.
    pub exclude_data: bool,
    /// `REPLCONF capa psync2`: it understands `+CONTINUE <replid>` (an
    /// older replica gets a bare `+CONTINUE`).
    pub psync2: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for its snapshot; the stream accumulates in `pending`.
    WaitSnapshot,
    /// Receiving the snapshot and then the stream, as its output.
    Online,
}

#[derive(Debug)]
struct Replica {
    slot: usize,
    id: u64,
    state: State,
    pending: Vec<u8>,
    listening_port: u16,
    /// The offset of its last `REPLCONF ACK`.
    ack_offset: u64,
    /// When that came (Unix ms).
    ack_ms: i64,
}

impl Replica {
    /// The IP its connection comes from, while its client is still there.
    fn ip<'s>(&self, srv: &'s Server) -> Option<&'s str> {
        let c = srv.clients.get(self.slot)?.as_ref().filter(|c| c.id == self.id)?;
        Some(c.addr.rsplit_once(':').map_or(c.addr.as_str(), |(ip, _)| ip))
    }
}

/// The replication state of a master.
#[derive(Debug, Default)]
pub struct Replication {
    /// The stream's bytes produced since the last [`flush`].
    pub stream: CommandStream,
    /// Bytes of stream produced so far (`master_repl_offset`).
    pub offset: u64,
    replicas: Vec<Replica>,
    handshakes: HashMap<u64, Handshake>,
    last_ping_ms: i64,
    /// `+FULLRESYNC` lines for a client whose own PSYNC started the
    /// snapshot (it is out of the client table while its command runs):
    /// its command handler sends them.
    unsent: Vec<(u64, String)>,
    /// The last stream bytes, for partial resyncs; created with the first
    /// replica.
    pub backlog: Option<Backlog>,
    /// The previous replication ID and the stream offset where it ended:
    /// a replica of that history that processed at most this many bytes
    /// can continue (INFO's `master_replid2`, and `second_repl_offset`,
    /// one more, as Redis numbers it).
    pub replid2: Option<(String, u64)>,
    /// When the last replica left (Unix ms), for `repl-backlog-ttl`.
    no_replicas_since_ms: i64,
    /// A WAIT is blocked: ask the replicas for their offsets before the
    /// loop sleeps.
    pub want_acks: bool,
    /// INFO's `sync_full`, `sync_partial_ok`, `sync_partial_err`.
    pub sync_full: u64,
    /// See `sync_full`.
    pub sync_partial_ok: u64,
    /// See `sync_full`.
    pub sync_partial_err: u64,
    /// This server is a replica: its stream is its master's, passed on as
    /// it came (see `replica::applied`), not made of its own writes.
    pub proxying: bool,
    /// `min-replicas-to-write` and `min-replicas-max-lag` (seconds), read
    /// by [`refresh_settings`]: writes are refused unless that many
    /// replicas acknowledged within that lag (0 for either: no check).
    pub min_replicas: (usize, i64),
    /// A `FAILOVER` under way (see [`super::failover`]).
    pub failover: Option<super::failover::Failover>,
    /// `replica-serve-stale-data no`: a replica whose link is down refuses
    /// all but a few commands (`-MASTERDOWN`).
    pub refuse_stale: bool,
    /// `repl-backlog-size` in bytes, read by [`refresh_settings`] (a
    /// replica's output limit is at least this).
    pub backlog_setting: u64,
    /// `replica-read-only no`: a replica takes other clients' writes
    /// (kept to itself; by default it refuses them).
    pub replica_writable: bool,
}

impl Replication {
    /// Whether writes must be streamed: some replica is attached, or the
    /// backlog keeps the stream for one that comes back.
    pub fn active(&self) -> bool {
        !self.replicas.is_empty() || self.backlog.is_some()
    }

    /// Whether this server's own writes go into the stream: some replica
    /// or the backlog wants it, and this server is not a replica (whose
    /// stream is its master's).
    pub fn wants_writes(&self) -> bool {
        !self.proxying && self.active()
    }

    /// How many online replicas acknowledged within the last `max_lag`
    /// seconds (Redis's "good" replicas, for `min-replicas-to-write`).
    pub fn good_replicas(&self, now_ms: i64, max_lag: i64) -> usize {
        self.replicas
            .iter()
            .filter(|r| r.state == State::Online && (now_ms - r.ack_ms) / 1000 <= max_lag)
            .count()
    }

    /// Whether `min-replicas-to-write` refuses a write now: the check is
    /// on (a master with both options above 0) and too few replicas are
    /// good.
    pub fn too_few_replicas(&self, now_ms: i64) -> bool {
        let (n, lag) = self.min_replicas;
        n > 0 && lag > 0 && !self.proxying && self.good_replicas(now_ms, lag) < n
    }

    /// How many online replicas acknowledged the stream up to `offset`
    /// (WAIT's answer).
    pub fn acked(&self, offset: u64) -> usize {
        self.replicas.iter().filter(|r| r.state == State::Online && r.ack_offset >= offset).count()
    }

    /// The master offset, the stream not yet flushed included.
    pub fn master_offset(&self) -> u64 {
        self.offset + self.stream.buf.len() as u64
    }

    /// Records `REPLCONF` options of client `id`.
    pub fn handshake(&mut self, id: u64) -> &mut Handshake {
        self.handshakes.entry(id).or_default()
    }

    /// What client `id` said in REPLCONF, if anything.
    pub fn handshake_of(&self, id: u64) -> Handshake {
        self.handshakes.get(&id).copied().unwrap_or_default()
    }

    /// Whether client `id` is an attached replica (its REPLCONF ACKs get no
    /// reply).
    pub fn is_replica(&self, id: u64) -> bool {
        self.replicas.iter().any(|r| r.id == id)
    }

    /// The `+FULLRESYNC` line for client `id` that [`attach`] could not
    /// queue because `id`'s own command is running.
    pub fn take_unsent(&mut self, id: u64) -> Option<String> {
        let i = self.unsent.iter().position(|(c, _)| *c == id)?;
        Some(self.unsent.swap_remove(i).1)
    }

    /// A `REPLCONF ACK` from replica `id`.
    pub fn ack(&mut self, id: u64, offset: u64, now_ms: i64) {
        if let Some(r) = self.replicas.iter_mut().find(|r| r.id == id) {
            r.ack_offset = offset;
            r.ack_ms = now_ms;
        }
    }

    /// INFO's `connected_slaves` and `slaveN:` lines: (ip, listening
    /// port, state, ack offset, lag in seconds) for each replica.
    pub fn info_lines(&self, srv: &Server) -> Vec<String> {
        self.replicas
            .iter()
            .filter_map(|r| {
                let ip = r.ip(srv)?;
                let state = if r.state == State::Online { "online" } else { "wait_bgsave" };
                let lag = if r.ack_ms == 0 { 0 } else { (srv.now_ms - r.ack_ms).max(0) / 1000 };
                Some(format!(
                    "ip={ip},port={},state={state},offset={},lag={lag}",
                    r.listening_port, r.ack_offset
                ))
            })
            .collect()
    }
}

impl Replication {
    /// Replicas attached, online or waiting for their snapshot.
    pub fn replica_count(&self) -> usize {
        self.replicas.len()
    }

    /// Whether a replica has this address (its IP and the port it
    /// listens on): `Some(online)`, or `None`.
    pub fn find_replica(&self, srv: &Server, host: &str, port: u16) -> Option<bool> {
        self.replicas.iter().find_map(|r| {
            let ip = r.ip(srv)?;
            (ip == host && r.listening_port == port).then_some(r.state == State::Online)
        })
    }

    /// The online replicas (ip, listening port) whose acknowledged offset
    /// is exactly `offset`.
    pub fn acked_at(&self, srv: &Server, offset: u64) -> Vec<(String, u16)> {
        self.role_entries(srv).into_iter().filter(|e| e.2 == offset).map(|(ip, port, _)| (ip, port)).collect()
    }

    /// Whether every replica acknowledged the stream up to `offset` (true
    /// without replicas): Redis's `isReadyToShutdown`.
    pub fn all_acked(&self, offset: u64) -> bool {
        self.replicas.iter().all(|r| r.ack_offset == offset)
    }

    /// The replicas that have not acknowledged the stream up to `offset`,
    /// for a shutdown's wait and its log (Redis's `finishShutdown`).
    pub fn lagging(&self, srv: &Server, offset: u64) -> Vec<Lagging> {
        self.replicas
            .iter()
            .filter(|r| r.ack_offset != offset)
            .map(|r| {
                let ip = r.ip(srv).unwrap_or("?");
                let online = r.state == State::Online;
                Lagging {
                    name: format!("{ip}:{}", r.listening_port),
                    behind: offset as i64 - r.ack_offset as i64,
                    lag_s: if online { (srv.now_ms - r.ack_ms).max(0) / 1000 } else { 0 },
                    state: if online { "online" } else { "wait_bgsave" },
                }
            })
            .collect()
    }

    /// ROLE's list of online replicas: (ip, listening port, ack offset).
    pub fn role_entries(&self, srv: &Server) -> Vec<(String, u16, u64)> {
        self.replicas
            .iter()
            .filter(|r| r.state == State::Online)
            .filter_map(|r| {
                let ip = r.ip(srv)?;
                Some((ip.to_string(), r.listening_port, r.ack_offset))
            })
            .collect()
    }
}

/// A replica behind the master's offset (see [`Replication::lagging`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lagging {
    /// `ip:listening-port`.
    pub name: String,
    /// How many bytes of the stream it has not acknowledged.
    pub behind: i64,
    /// Seconds since its last acknowledgement (0 while it syncs).
    pub lag_s: i64,
    /// `online` or `wait_bgsave`.
    pub state: &'static str,
}

/// The memory held in replicas' output buffers (the stream and snapshot
/// headers not yet sent), the backlog, and the stream not yet flushed to
/// them: Redis's `mem_clients_slaves`, which maxmemory
/// does not count, so that a slow replica cannot make the master evict.
pub fn buffers_memory(srv: &Server) -> usize {
    srv.repl.backlog.as_ref().map_or(0, Backlog::memory)
        + srv
            .repl
            .replicas
            .iter()
            .filter_map(|r| srv.clients.get(r.slot)?.as_ref().filter(|c| c.id == r.id))
            .map(|c| c.out.capacity() + c.after_tail.capacity())
            .sum::<usize>()
        + srv.repl.replicas.iter().map(|r| r.pending.capacity()).sum::<usize>()
        + srv.repl.stream.buf.capacity()
}

/// A BGSAVE for SYNC clients is forking now: each of `clients` (slot, id,
/// sent PSYNC) that wants the stream becomes a replica waiting for that
/// snapshot, and one that sent PSYNC is told `+FULLRESYNC`. Called just
/// before the fork, so that the stream produced so far (already in the
/// snapshot) goes to the replicas attached before, not to these.
pub fn attach(srv: &mut Server, clients: &[(usize, u64, bool)]) {
    flush(srv);
    let wants_stream = clients.iter().any(|&(_, id, _)| !srv.repl.handshake_of(id).rdb_only);
    if srv.repl.backlog.is_none() && wants_stream && !srv.repl.proxying {
        // Writes made so far were not counted in any backlog: a new ID, so
        // that no replica of an older history continues into a gap.
        srv.replid = crate::server::random_hex40();
        srv.repl.replid2 = None;
        srv.repl.backlog = Some(Backlog::new(backlog_size(srv), srv.repl.offset));
    }
    let offset = srv.repl.offset;
    for &(slot, id, psync) in clients {
        let hs = srv.repl.handshake_of(id);
        if psync {
            let line = format!("+FULLRESYNC {} {offset}\r\n", srv.replid);
            if !with_client(srv, slot, id, |c| c.out.extend_from_slice(line.as_bytes())) {
                srv.repl.unsent.push((id, line));
            }
        }
        srv.repl.sync_full += 1;
        if hs.rdb_only {
            continue;
        }
        with_client(srv, slot, id, |c| c.replica = true);
        srv.repl.replicas.push(Replica {
            slot,
            id,
            state: State::WaitSnapshot,
            pending: Vec::new(),
            listening_port: hs.listening_port,
            ack_offset: 0,
            ack_ms: 0,
        });
        // The stream restarts for the newcomers: a SELECT comes first.
        srv.repl.stream.db = None;
        if srv.repl.replicas.len() == 1 {
            // The first PING a period from now, as Redis's cron would.
            srv.repl.last_ping_ms = srv.now_ms;
        }
        tracing::info!(client = id, "Replica asks for synchronization; full resync at offset {offset}");
    }
}

/// The snapshot for replica (`slot`, `id`) is about to be sent: returns
/// the stream it missed meanwhile (to follow the snapshot), and marks it
/// online. `None` if the client is not a replica (an rdb-only SYNC).
pub fn snapshot_sent(srv: &mut Server, slot: usize, id: u64) -> Option<Vec<u8>> {
    flush(srv);
    let now = srv.now_ms;
    let r = srv.repl.replicas.iter_mut().find(|r| r.slot == slot && r.id == id)?;
    r.state = State::Online;
    // Counted as acknowledged from now, not as lagging since 1970.
    r.ack_ms = now;
    tracing::info!(client = id, "Synchronization with replica succeeded");
    Some(std::mem::take(&mut r.pending))
}

/// The snapshot for replica `id` failed: it is dropped (its connection
/// gets the error and closes).
pub fn snapshot_failed(srv: &mut Server, id: u64) {
    srv.repl.replicas.retain(|r| r.id != id);
}

/// Moves the stream produced since the last flush to every replica: into
/// its pending stream while it waits for its snapshot, into its output
/// once online. Replicas whose connection is gone are forgotten here.
/// Called before the loop sleeps, and before a replica attaches.
pub fn flush(srv: &mut Server) {
    if srv.repl.stream.buf.is_empty() {
        return;
    }
    let buf = std::mem::take(&mut srv.repl.stream.buf);
    srv.repl.offset += buf.len() as u64;
    if let Some(b) = srv.repl.backlog.as_mut() {
        b.feed(&buf);
    }
    let mut replicas = std::mem::take(&mut srv.repl.replicas);
    replicas.retain_mut(|r| match r.state {
        State::WaitSnapshot => {
            // An empty slot may be the client whose command is running;
            // the cron drops a replica whose connection is really gone.
            let taken = srv.clients.get(r.slot).and_then(Option::as_ref).is_some_and(|c| c.id != r.id);
            if !taken {
                r.pending.extend_from_slice(&buf);
            }
            !taken
        }
        State::Online => with_client(srv, r.slot, r.id, |c| c.queue_after_file(&buf)),
    });
    srv.repl.replicas = replicas;
    // The buffer is reused while small; one grown by a burst of writes
    // (a large value, a deep pipeline) is freed, not held for good.
    if buf.capacity() <= STREAM_KEEP {
        let mut buf = buf;
        buf.clear();
        srv.repl.stream.buf = buf;
    }
}

/// The largest stream buffer [`flush`] keeps for reuse: a loop iteration
/// that writes more is a burst, whose buffer is freed (its regrowth costs
/// little next to the copies into the backlog and each replica's output).
const STREAM_KEEP: usize = 64 * 1024;

/// `PSYNC replid offset` from client (`slot`, `id`): if `offset` (the
/// first byte the replica misses, numbered from 1) continues this
/// server's history and the backlog still holds it, the client becomes an
/// online replica and gets `+CONTINUE` and the missing bytes (returned,
/// for the caller to reply). `None`: a full resync is needed.
pub fn try_partial(srv: &mut Server, slot: usize, id: u64, replid: &[u8], offset: &[u8]) -> Option<Vec<u8>> {
    if replid == b"?" {
        return None;
    }
    let Some(want) = crate::util::num::parse_i64(offset).filter(|&o| o > 0).map(|o| o as u64 - 1) else {
        srv.repl.sync_partial_err += 1;
        return None;
    };
    flush(srv);
    let ours = replid == srv.replid.as_bytes()
        || srv.repl.replid2.as_ref().is_some_and(|(id2, upto)| replid == id2.as_bytes() && want <= *upto);
    let missing = if ours { srv.repl.backlog.as_ref().and_then(|b| b.since(want)) } else { None };
    let Some(missing) = missing else {
        let why = if ours { "the backlog no longer holds that offset" } else { "another replication ID" };
        tracing::info!(client = id, "Partial resynchronization not accepted: {why}; full resync");
        srv.repl.sync_partial_err += 1;
        return None;
    };
    let hs = srv.repl.handshake_of(id);
    let mut reply = if hs.psync2 {
        format!("+CONTINUE {}\r\n", srv.replid).into_bytes()
    } else {
        b"+CONTINUE\r\n".to_vec()
    };
    tracing::info!(
        client = id,
        "Partial resynchronization request accepted. Sending {} bytes of backlog starting from offset {}.",
        missing.len(),
        want + 1
    );
    reply.extend_from_slice(&missing);
    srv.repl.replicas.push(Replica {
        slot,
        id,
        state: State::Online,
        pending: Vec::new(),
        listening_port: hs.listening_port,
        ack_offset: 0,
        ack_ms: srv.now_ms,
    });
    srv.repl.sync_partial_ok += 1;
    if srv.repl.replicas.len() == 1 {
        srv.repl.last_ping_ms = srv.now_ms;
    }
    Some(reply)
}

/// Before the loop sleeps, with a WAIT blocked: asks every replica for
/// its offset with `REPLCONF GETACK *` in the stream.
pub fn request_acks(srv: &mut Server) {
    if std::mem::take(&mut srv.repl.want_acks) && !srv.repl.replicas.is_empty() {
        srv.repl.stream.buf.extend_from_slice(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
    }
}

/// Reads the replication options the command path checks on every write
/// (`min-replicas-*`, `replica-read-only`), at start and after CONFIG SET.
pub fn refresh_settings(srv: &mut Server) {
    let get = |name: &str| srv.config.inert.get(name).and_then(|v| v.parse::<i64>().ok());
    let to_write = get("min-replicas-to-write").unwrap_or(0).max(0) as usize;
    let max_lag = get("min-replicas-max-lag").unwrap_or(10);
    srv.repl.min_replicas = (to_write, max_lag);
    srv.repl.backlog_setting = backlog_size(srv) as u64;
    srv.repl.refuse_stale = srv.config.inert.get("replica-serve-stale-data").is_some_and(|v| v == "no");
    srv.repl.replica_writable = srv.config.inert.get("replica-read-only").is_some_and(|v| v == "no");
}

/// The size `repl-backlog-size` asks for.
pub fn backlog_size(srv: &Server) -> usize {
    srv.config
        .inert
        .get("repl-backlog-size")
        .and_then(|v| crate::util::num::parse_i64(v.as_bytes()))
        .map_or(1 << 20, |n| n.max(0) as usize)
}

/// Disconnects every replica (this server's data is about to be replaced
/// by its own master's): they reconnect and resync.
pub fn disconnect_all(srv: &mut Server) {
    for r in std::mem::take(&mut srv.repl.replicas) {
        srv.close_client_asap(r.slot, r.id);
    }
}

/// From the cron: forgets handshakes of clients that are gone, and feeds
/// the periodic PING (every `repl-ping-replica-period` seconds) while
/// replicas are attached.
pub fn cron(srv: &mut Server) {
    let clients = &srv.clients;
    srv.repl.handshakes.retain(|id, _| clients.iter().flatten().any(|c| c.id == *id));
    // No command runs now: a replica not in its slot is gone.
    srv.repl.replicas.retain(|r| clients.get(r.slot).and_then(Option::as_ref).is_some_and(|c| c.id == r.id));
    if srv.repl.replicas.is_empty() {
        if srv.repl.no_replicas_since_ms == 0 {
            srv.repl.no_replicas_since_ms = srv.now_ms;
        }
        let ttl_s =
            srv.config.inert.get("repl-backlog-ttl").and_then(|v| v.parse::<i64>().ok()).unwrap_or(3600);
        // A replica keeps its backlog (its master may be promoted away and
        // its own replicas come back), as Redis's does.
        if srv.repl.backlog.is_some()
            && srv.master.is_none()
            && ttl_s > 0
            && srv.now_ms - srv.repl.no_replicas_since_ms >= ttl_s * 1000
        {
            tracing::info!("Replication backlog freed after {ttl_s} seconds without connected replicas.");
            srv.repl.backlog = None;
        }
        return;
    }
    srv.repl.no_replicas_since_ms = 0;
    let period_ms = srv
        .config
        .inert
        .get("repl-ping-replica-period")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(10)
        .max(1)
        * 1000;
    // A replica passes on its master's PINGs instead; a failover waits
    // for the offsets to match, which a PING would move.
    if !srv.repl.proxying && srv.repl.failover.is_none() && srv.now_ms - srv.repl.last_ping_ms >= period_ms {
        srv.repl.last_ping_ms = srv.now_ms;
        // No SELECT for a PING: it reads no database.
        srv.repl.stream.buf.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    }
}

/// Runs `f` on client (`slot`, `id`) and queues its output; `false` if it
/// is gone.
fn with_client(
    srv: &mut Server,
    slot: usize,
    id: u64,
    f: impl FnOnce(&mut crate::server::client::Client),
) -> bool {
    let Some(mut c) = srv.clients.get_mut(slot).and_then(Option::take) else { return false };
    let alive = c.id == id;
    if alive {
        f(&mut c);
        srv.queue_write(slot, &mut c);
    }
    srv.clients[slot] = Some(c);
    alive
}
