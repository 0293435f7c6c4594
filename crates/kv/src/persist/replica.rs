//! The replica's side of replication: `REPLICAOF host port` makes this
//! server a copy of another (a redis-server or a spindle master).
//!
//! # The link, step by step
//!
//! 1. **Handshake and snapshot, on a thread.** A sync thread connects to
//!    the master, says `PING`, `AUTH` (with `masteruser`/`masterauth`),
//!    `REPLCONF listening-port` and `REPLCONF capa psync2`, then `PSYNC ?
//!    -1`, and reads `+FULLRESYNC <replid> <offset>` and the snapshot
//!    (`$<len>` then the RDB bytes) into a temporary file. All of that is
//!    blocking IO bounded by `repl-timeout`, and the master may take long
//!    to write its snapshot; on the server thread it would stop every
//!    client meanwhile, so it runs on its own thread and touches no data.
//!    Meanwhile the replica keeps serving its old data, as Redis's
//!    `replica-serve-stale-data yes` does.
//! 2. **Load, on the server thread.** The cron finds the thread's result:
//!    the file becomes the `dbfilename` snapshot, the databases are
//!    emptied and loaded from it, and the socket, positioned right after
//!    the snapshot, becomes the *master client*.
//! 3. **Stream.** The master client's commands run like any client's,
//!    except that their replies are dropped (the master does not read
//!    them) and read-only mode does not apply to them. Its offset grows
//!    by each command's bytes; every second (and on `REPLCONF GETACK`)
//!    the replica sends `REPLCONF ACK <offset>`. The replica takes the
//!    master's replication ID and offset, and passes each command's bytes
//!    on, as they came, to its own replicas and backlog ([`applied`]);
//!    its own writes (keys it expires) go to its AOF only.
//! 4. **Broken link.** If the master client's connection closes, the
//!    link goes back to step 1 a second later, but the handshake asks to
//!    continue: `PSYNC <replid> <offset + 1>` (a master that becomes a
//!    replica offers its own history the same way). A master whose
//!    backlog still holds that offset answers `+CONTINUE` and the missing
//!    stream: nothing is loaded, and the new master client starts in the
//!    database the old one had selected (the stream does not repeat its
//!    SELECT). Otherwise the answer is `+FULLRESYNC` and step 2 follows.
//!    The offset counts a transaction only once its EXEC ran, so a link
//!    lost between MULTI and EXEC resumes at the MULTI.
//!
//! While this server is a replica, other clients' write commands are
//! refused with `-READONLY` (`replica-read-only yes`, Redis's default).

use crate::server::Server;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    /// Waiting to start a sync thread (at `retry_at_ms`).
    Connect,
    /// A sync thread is at work.
    Syncing,
    /// The master client is attached and streaming.
    Connected,
}

/// Turns a synced connection (and the stream bytes already read from it)
/// into the master client; its slot and id.
pub type Adopt<'a> = dyn FnMut(&mut Server, TcpStream, Vec<u8>) -> Option<(usize, u64)> + 'a;

/// What a finished sync thread hands over.
struct Synced {
    stream: TcpStream,
    replid: String,
    offset: u64,
    /// Stream bytes read past the snapshot (or past `+CONTINUE`).
    rest: Vec<u8>,
    /// The snapshot's file; `None` when the master continued the stream.
    rdb: Option<PathBuf>,
}

/// This server's link to its master.
pub struct MasterLink {
    /// The master's host, as REPLICAOF named it.
    pub host: String,
    /// The master's port.
    pub port: u16,
    state: LinkState,
    retry_at_ms: i64,
    rx: Option<mpsc::Receiver<Result<Synced, SyncError>>>,
    /// A snapshot received and waiting to be loaded (see [`load_due`]).
    pending_load: Option<Synced>,
    /// The master client (slot, id), while connected.
    client: Option<(usize, u64)>,
    /// Stream bytes processed (`slave_repl_offset`).
    pub offset: u64,
    /// The bytes of a transaction whose EXEC has not come yet.
    in_multi: Vec<u8>,
    /// The database the last master client had selected, once it is
    /// gone: the link can continue from `offset` in it.
    resume_db: Option<usize>,
    last_io_ms: i64,
    last_ack_ms: i64,
    /// When the link went down (Unix ms), for INFO.
    down_since_ms: i64,
}

impl std::fmt::Debug for MasterLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterLink").field("host", &self.host).field("port", &self.port).finish()
    }
}

impl MasterLink {
    /// Whether the link is up (INFO's `master_link_status`).
    pub fn is_up(&self) -> bool {
        self.state == LinkState::Connected
    }

    /// Whether a sync is under way (INFO's `master_sync_in_progress`).
    pub fn syncing(&self) -> bool {
        self.state == LinkState::Syncing
    }

    /// The database the master's stream has selected: the master
    /// client's, or the one a broken link would resume in.
    pub fn stream_db(&self, srv: &Server) -> Option<usize> {
        self.client
            .and_then(|(slot, id)| srv.clients.get(slot)?.as_ref().filter(|c| c.id == id).map(|c| c.db))
            .or(self.resume_db)
    }

    /// ROLE's link state: `connect` (waiting to retry), `sync` (the
    /// handshake and snapshot are under way), `connected`.
    pub fn role_state(&self) -> &'static str {
        match self.state {
            LinkState::Connect => "connect",
            LinkState::Syncing => "sync",
            LinkState::Connected => "connected",
        }
    }

    /// Seconds since the master last sent something.
    pub fn last_io_seconds(&self, now_ms: i64) -> i64 {
        if self.is_up() {
            (now_ms - self.last_io_ms).max(0) / 1000
        } else {
            -1
        }
    }

    /// Seconds the link has been down.
    pub fn down_seconds(&self, now_ms: i64) -> i64 {
        (now_ms - self.down_since_ms).max(0) / 1000
    }
}

/// `REPLICAOF host port`: starts (or restarts) following that master;
/// `false` if it is already the master being followed.
pub fn follow(srv: &mut Server, host: &str, port: u16) -> bool {
    if srv.master.as_ref().is_some_and(|m| m.host == host && m.port == port) {
        return false;
    }
    // The history to offer the new master: this server's own (a master
    // becoming a replica, Redis's `replicationCacheMasterUsingMyself`), or
    // the one it followed so far, in the database the stream had selected.
    super::repl::flush(srv);
    let resume_db = match srv.master.as_ref() {
        None => Some(srv.repl.stream.db.unwrap_or(0)),
        Some(m) => m
            .client
            .and_then(|(slot, id)| srv.clients.get(slot)?.as_ref().filter(|c| c.id == id).map(|c| c.db))
            .or(m.resume_db),
    };
    drop_link(srv);
    // Clients blocked on this server's data (BLPOP, WAIT) get an error.
    crate::server::blocking::disconnect_all_blocked(srv);
    tracing::info!("Connecting to MASTER {host}:{port}");
    let _ = srv.oom.apply(&srv.config, crate::server::oom::Class::Replica);
    srv.repl.proxying = true;
    let offset = srv.repl.offset;
    srv.master = Some(MasterLink {
        host: host.to_string(),
        port,
        state: LinkState::Connect,
        retry_at_ms: 0,
        rx: None,
        pending_load: None,
        client: None,
        offset,
        in_multi: Vec::new(),
        resume_db,
        last_io_ms: 0,
        last_ack_ms: 0,
        down_since_ms: srv.now_ms,
    });
    crate::server::pause::role_changed(srv);
    true
}

/// `REPLICAOF NO ONE`: stops following; the data stays, writes are
/// accepted again, and the server takes a new replication ID (its history
/// now differs from the master's). The old ID, its master's, stays valid
/// up to this offset: this server's replicas, and the other replicas of
/// its old master, can continue from it (Redis's PSYNC2 failover).
pub fn unfollow(srv: &mut Server) {
    if srv.master.is_some() {
        drop_link(srv);
        srv.master = None;
        // This server's own replicas followed the old ID up to here; they
        // may continue with it (PSYNC2's second ID).
        super::repl::flush(srv);
        srv.repl.proxying = false;
        crate::server::pause::role_changed(srv);
        // Its keys now expire in the active cycle, its own included.
        srv.replica_own_ttls.clear();
        let old = std::mem::replace(&mut srv.replid, crate::server::random_hex40());
        srv.repl.replid2 = Some((old, srv.repl.offset));
        // The next command of its own stream selects its database.
        srv.repl.stream.db = None;
        let _ = srv.oom.apply(&srv.config, crate::server::oom::Class::Server);
        tracing::info!("MASTER MODE enabled (user request)");
    }
}

/// Closes the master client, if any (a running sync thread finishes on
/// its own; its result is ignored).
fn drop_link(srv: &mut Server) {
    let Some(link) = srv.master.as_mut() else { return };
    let client = link.client.take();
    link.rx = None;
    if let Some(rdb) = link.pending_load.take().and_then(|p| p.rdb) {
        let _ = std::fs::remove_file(rdb);
    }
    if let Some((slot, id)) = client {
        srv.close_client_asap(slot, id);
    }
}

/// What the cron does for the link: start a sync, finish one, notice a
/// lost connection, and send the ACK each second. `adopt` turns a synced
/// socket into the master client (the listener's code), returning its
/// slot and id.
pub fn cron(srv: &mut Server, adopt: &mut Adopt<'_>) {
    let Some(state) = srv.master.as_ref().map(|m| m.state) else { return };
    let now = srv.now_ms;
    match state {
        LinkState::Connect if srv.master.as_ref().is_some_and(|m| now >= m.retry_at_ms) => start_sync(srv),
        LinkState::Syncing => {
            let got = srv.master.as_ref().and_then(|m| m.rx.as_ref()).map(|rx| rx.try_recv());
            if super::failover::in_progress(srv) {
                // As Redis: a target that cannot be reached (or fails the
                // handshake) is tried again; once the PSYNC went out, any
                // answer but a sync ends the failover.
                match &got {
                    Some(Ok(Ok(_))) => super::failover::finished(srv),
                    Some(Ok(Err(e))) if e.psync_sent => {
                        return super::failover::abort(srv, "Failover target rejected psync request");
                    }
                    Some(Err(mpsc::TryRecvError::Disconnected)) => {
                        return super::failover::abort(srv, "Failover target rejected psync request");
                    }
                    _ => {}
                }
            }
            match got {
                Some(Ok(Ok(synced))) => finish_sync(srv, synced, adopt),
                Some(Ok(Err(e))) => sync_failed(srv, &e.why),
                Some(Err(mpsc::TryRecvError::Disconnected)) => sync_failed(srv, "the sync thread ended"),
                _ => {}
            }
        }
        LinkState::Connected => {
            let Some((slot, id)) = srv.master.as_ref().and_then(|m| m.client) else { return };
            let alive = srv.clients.get(slot).and_then(Option::as_ref).is_some_and(|c| c.id == id);
            if !alive {
                tracing::warn!("Connection with master lost; resyncing in 1 second");
                if let Some(m) = srv.master.as_mut() {
                    m.state = LinkState::Connect;
                    m.client = None;
                    m.retry_at_ms = now + 1000;
                    m.down_since_ms = now;
                }
                return;
            }
            if srv.master.as_ref().is_some_and(|m| now - m.last_ack_ms >= 1000) {
                send_ack(srv);
            }
        }
        LinkState::Connect => {}
    }
}

/// The master client is being freed: the link may continue from its
/// offset, in the database it had selected. Its open transaction, if any,
/// is dropped (its bytes were not counted).
pub fn master_client_closed(srv: &mut Server, c: &crate::server::client::Client) {
    let now = srv.now_ms;
    let Some(m) = srv.master.as_mut() else { return };
    if m.client.is_some_and(|(_, id)| id == c.id) {
        m.resume_db = Some(c.db);
        m.in_multi.clear();
        // The link is down from now (INFO, ROLE, -MASTERDOWN), not from
        // the next cron; the retry is a second away, as Redis's.
        tracing::warn!("Connection with master lost; resyncing in 1 second");
        m.state = LinkState::Connect;
        m.client = None;
        m.retry_at_ms = now + 1000;
        m.down_since_ms = now;
    }
}

/// The master client ran a command whose bytes are `bytes`: the offset
/// moves past them and they go on, as they are, to this server's own
/// replicas and backlog, so that its history is byte for byte its
/// master's. A transaction's bytes wait for its EXEC (`in_multi`): a link
/// lost inside it resumes at its MULTI, as Redis's does.
pub fn applied(srv: &mut Server, bytes: &[u8], in_multi: bool) {
    let Some(m) = srv.master.as_mut() else { return };
    m.last_io_ms = srv.now_ms;
    if in_multi {
        m.in_multi.extend_from_slice(bytes);
        return;
    }
    let stream = &mut srv.repl.stream.buf;
    if !m.in_multi.is_empty() {
        m.offset += m.in_multi.len() as u64;
        stream.extend_from_slice(&m.in_multi);
        m.in_multi.clear();
    }
    m.offset += bytes.len() as u64;
    stream.extend_from_slice(bytes);
}

/// Sends `REPLCONF ACK <offset>` to the master (each second, and when the
/// master asks with `REPLCONF GETACK`).
pub fn send_ack(srv: &mut Server) {
    let Some(m) = srv.master.as_mut() else { return };
    m.last_ack_ms = srv.now_ms;
    let Some((slot, id)) = m.client else { return };
    let off = m.offset.to_string();
    let msg = format!("*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n${}\r\n{off}\r\n", off.len());
    if let Some(mut c) = srv.clients.get_mut(slot).and_then(Option::take) {
        if c.id == id {
            c.out.extend_from_slice(msg.as_bytes());
            srv.queue_write(slot, &mut c);
        }
        srv.clients[slot] = Some(c);
    }
}

fn sync_failed(srv: &mut Server, why: &str) {
    tracing::warn!("MASTER <-> REPLICA sync failed: {why}; retrying in 1 second");
    let now = srv.now_ms;
    if let Some(m) = srv.master.as_mut() {
        m.state = LinkState::Connect;
        m.retry_at_ms = now + 1000;
        m.rx = None;
    }
}

fn start_sync(srv: &mut Server) {
    let Some(m) = srv.master.as_mut() else { return };
    let (tx, rx) = mpsc::channel();
    let host = m.host.clone();
    let port = m.port;
    m.rx = Some(rx);
    m.state = LinkState::Syncing;
    let get = |name: &str| srv.config.inert.get(name).cloned().unwrap_or_default();
    let auth = (get("masteruser"), get("masterauth"));
    let timeout = srv.config.inert.get("repl-timeout").and_then(|v| v.parse().ok()).unwrap_or(60u64);
    let listening_port = srv.config.port;
    let rdb = srv.config.dir.join(format!("temp-{}-repl.rdb", std::process::id()));
    let resume = m.resume_db.map(|_| (srv.replid.clone(), m.offset));
    let failover = super::failover::in_progress(srv);
    let spawned = std::thread::Builder::new().name("repl-sync".into()).spawn(move || {
        let link = Link { host: &host, port, auth: &auth, listening_port, resume, failover };
        let mut psync_sent = false;
        let result = sync_with_master(&link, &rdb, Duration::from_secs(timeout.max(1)), &mut psync_sent);
        let _ = tx.send(result.map_err(|e| SyncError { why: e.to_string(), psync_sent }));
    });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the replication sync thread: {e}");
        if let Some(m) = srv.master.as_mut() {
            m.state = LinkState::Connect;
            m.retry_at_ms = srv.now_ms + 1000;
        }
    }
}

/// The sync thread is done: a continued stream is adopted at once; a
/// snapshot waits in [`MasterLink::pending_load`] for the server's run
/// loop to load it ([`load_due`]).
fn finish_sync(srv: &mut Server, synced: Synced, adopt: &mut Adopt<'_>) {
    if synced.rdb.is_none() {
        return continue_sync(srv, synced, adopt);
    }
    if let Some(m) = srv.master.as_mut() {
        m.rx = None;
        m.pending_load = Some(synced);
    }
}

/// Whether the master's snapshot waits to be loaded: the loop must stop
/// so that the server can load it while serving `-LOADING`
/// (`server::start`), which it cannot from inside the loop's callbacks.
pub fn load_due(srv: &Server) -> bool {
    srv.master.as_ref().is_some_and(|m| m.pending_load.is_some())
}

/// First step of loading the master's snapshot: the file becomes the
/// `dbfilename` snapshot, this server's own replicas are dropped, it takes
/// its master's history, and the old data goes. Returns the file to load
/// (with [`super::snapshot::load_rdb`], serving clients meanwhile), or
/// `None` if no snapshot waits.
pub fn begin_load(srv: &mut Server) -> Option<PathBuf> {
    let synced = srv.master.as_ref()?.pending_load.as_ref()?;
    let (rdb, replid, offset) = (synced.rdb.clone()?, synced.replid.clone(), synced.offset);
    let target = super::snapshot::rdb_path(srv);
    if let Err(e) = std::fs::rename(&rdb, &target) {
        tracing::warn!("cannot rename the master's snapshot: {e}");
    }
    // The data is replaced: this server's own replicas cannot continue.
    super::repl::disconnect_all(srv);
    // From now on this server's history is its master's: its ID and
    // offset, and a backlog of its stream for its own replicas.
    srv.repl.stream.buf.clear();
    srv.repl.stream.db = None;
    srv.replid = replid;
    srv.repl.replid2 = None;
    srv.repl.offset = offset;
    srv.repl.backlog = Some(super::backlog::Backlog::new(super::repl::backlog_size(srv), offset));
    tracing::info!("MASTER <-> REPLICA sync: Flushing old data");
    for db in &mut srv.dbs {
        drop(db.take_all());
    }
    tracing::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    Some(target)
}

/// Last step: with the snapshot loaded (`loaded` is the loader's result),
/// the AOF starts over and the master's socket becomes the master client;
/// if it failed, the link retries in a second.
pub fn end_load(srv: &mut Server, loaded: Result<(), String>, adopt: &mut Adopt<'_>) {
    let Some(synced) = srv.master.as_mut().and_then(|m| m.pending_load.take()) else { return };
    let now = srv.now_ms;
    if let Err(e) = loaded {
        tracing::warn!("Failed trying to load the MASTER synchronization DB from disk: {e}");
        if let Some(m) = srv.master.as_mut() {
            m.state = LinkState::Connect;
            m.retry_at_ms = now + 1000;
        }
        return;
    }
    srv.dirty = 0;
    if srv.aof_enabled {
        // The AOF holds the old data's history: a restart would replay it
        // under the master's stream. As Redis's `restartAOFAfterSYNC`, it
        // starts over from a rewrite of the new data (the old files stay
        // in the manifest until that rewrite is done).
        super::aof::stop(srv);
        if let Err(e) = super::aof::start(srv) {
            tracing::warn!("Failed enabling the AOF after successful master synchronization: {e}");
        }
    }
    // The stream after the snapshot goes on in the database it had
    // selected, which a master passing on its own master's stream cannot
    // repeat: the snapshot says which (`repl-stream-db`), as in Redis.
    let db =
        std::mem::take(&mut srv.persist.rdb_repl).stream_db().filter(|&db| db < srv.dbs.len()).unwrap_or(0);
    let client = adopt(srv, synced.stream, synced.rest);
    if let Some((slot, id)) = client {
        if let Some(c) = srv.clients.get_mut(slot).and_then(Option::as_mut).filter(|c| c.id == id) {
            c.db = db;
        }
    }
    if let Some(m) = srv.master.as_mut() {
        m.offset = synced.offset;
        m.in_multi.clear();
        m.resume_db = None;
        m.last_io_ms = now;
        m.client = client;
        m.state = if client.is_some() { LinkState::Connected } else { LinkState::Connect };
        m.retry_at_ms = now + 1000;
    }
    tracing::info!("MASTER <-> REPLICA sync: Finished with success");
}

/// The master continued the stream (`+CONTINUE`): no data to load; the
/// new master client picks up in the old one's database.
fn continue_sync(srv: &mut Server, synced: Synced, adopt: &mut Adopt<'_>) {
    let db = srv.master.as_ref().and_then(|m| m.resume_db).unwrap_or(0);
    let now = srv.now_ms;
    if synced.replid != srv.replid {
        // The master has a new ID (it was promoted): ours follows, the old
        // one stays valid up to here, and our own replicas reconnect to
        // learn it.
        super::repl::flush(srv);
        let old = std::mem::replace(&mut srv.replid, synced.replid.clone());
        srv.repl.replid2 = Some((old, srv.repl.offset));
        super::repl::disconnect_all(srv);
    }
    if srv.repl.backlog.is_none() {
        srv.repl.backlog =
            Some(super::backlog::Backlog::new(super::repl::backlog_size(srv), srv.repl.offset));
    }
    let client = adopt(srv, synced.stream, synced.rest);
    if let Some((slot, id)) = client {
        if let Some(c) = srv.clients.get_mut(slot).and_then(Option::as_mut).filter(|c| c.id == id) {
            c.db = db;
        }
    }
    if let Some(m) = srv.master.as_mut() {
        m.rx = None;
        m.last_io_ms = now;
        m.client = client;
        m.state = if client.is_some() { LinkState::Connected } else { LinkState::Connect };
        m.retry_at_ms = now + 1000;
        if client.is_some() {
            m.resume_db = None;
        }
    }
    tracing::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
}

/// Where and how the sync thread reaches the master.
struct Link<'a> {
    host: &'a str,
    port: u16,
    /// `masteruser`, `masterauth`.
    auth: &'a (String, String),
    listening_port: u16,
    /// The history to continue, (master's replid, offset processed), if
    /// the last link ended cleanly enough to try.
    resume: Option<(String, u64)>,
    /// This server is handing its master role to this replica: the PSYNC
    /// says `FAILOVER` (see `super::failover`).
    failover: bool,
}

/// Why a sync failed, and whether it got as far as sending the PSYNC (a
/// failover gives up then, and retries before).
#[derive(Debug)]
struct SyncError {
    why: String,
    psync_sent: bool,
}

/// The sync thread's work: handshake, PSYNC, and the snapshot into `rdb`
/// (unless the master continues the stream). `psync_sent` is set when the
/// PSYNC is about to be written.
fn sync_with_master(
    link: &Link<'_>,
    rdb: &std::path::Path,
    timeout: Duration,
    psync_sent: &mut bool,
) -> io::Result<Synced> {
    let (host, port, listening_port) = (link.host, link.port, link.listening_port);
    let (user, pass) = link.auth;
    let addrs: Vec<_> = (host, port).to_socket_addrs()?.collect();
    let mut last = io::Error::other("no address");
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let stream = stream.ok_or(last)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let _ = stream.set_nodelay(true);
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream.try_clone()?);
    let mut ask = |argv: &[&str]| -> io::Result<String> {
        let mut out = format!("*{}\r\n", argv.len());
        for a in argv {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        w.write_all(out.as_bytes())?;
        read_line(&mut r)
    };
    let pong = ask(&["PING"])?;
    if pong.starts_with('-') && !pong.starts_with("-NOAUTH") {
        return Err(io::Error::other(format!("Error reply to PING from master: {pong}")));
    }
    if !pass.is_empty() {
        let reply = if user.is_empty() { ask(&["AUTH", pass])? } else { ask(&["AUTH", user, pass])? };
        if reply.starts_with('-') {
            return Err(io::Error::other(format!("Unable to AUTH to MASTER: {reply}")));
        }
    }
    // Errors here are not fatal (an old master may not know them).
    let _ = ask(&["REPLCONF", "listening-port", &listening_port.to_string()])?;
    let _ = ask(&["REPLCONF", "capa", "psync2"])?;
    *psync_sent = true;
    let reply = match (&link.resume, link.failover) {
        (Some((replid, offset)), true) => ask(&["PSYNC", replid, &(offset + 1).to_string(), "FAILOVER"])?,
        (Some((replid, offset)), false) => ask(&["PSYNC", replid, &(offset + 1).to_string()])?,
        (None, _) => ask(&["PSYNC", "?", "-1"])?,
    };
    let mut words = reply.split(' ');
    match (words.next(), &link.resume) {
        (Some("+FULLRESYNC"), _) => {}
        (Some("+CONTINUE"), Some((replid, offset))) => {
            // `+CONTINUE <replid>`: the master may have a new ID (it was
            // promoted); a bare `+CONTINUE` (an old master) keeps ours.
            let replid = words.next().map_or_else(|| replid.clone(), str::to_string);
            let rest = r.buffer().to_vec();
            return Ok(Synced { stream, replid, offset: *offset, rest, rdb: None });
        }
        _ => return Err(io::Error::other(format!("Unexpected reply to PSYNC from master: {reply}"))),
    }
    let replid = words.next().unwrap_or_default().to_string();
    let offset = words.next().and_then(|o| o.parse().ok()).unwrap_or(0);
    // The snapshot: `$<len>` (the master may send bare newlines while it
    // writes it, to keep the link alive).
    let header = read_line(&mut r)?;
    let len: u64 = header.strip_prefix('$').and_then(|n| n.parse().ok()).ok_or_else(|| {
        io::Error::other(format!("Bad protocol from MASTER, the first byte is not '$': {header}"))
    })?;
    let mut file = std::fs::File::create(rdb)?;
    let copied = io::copy(&mut (&mut r).take(len), &mut file)?;
    if copied != len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    file.sync_all()?;
    let rest = r.buffer().to_vec();
    Ok(Synced { stream, replid, offset, rest, rdb: Some(rdb.to_path_buf()) })
}

/// One reply line, CRLF cut, bare keep-alive newlines skipped.
fn read_line(r: &mut BufReader<TcpStream>) -> io::Result<String> {
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if !line.is_empty() {
            return Ok(line.to_string());
        }
    }
}
