//! Clients waiting for a snapshot after SYNC or PSYNC (see
//! `cmd::persist`'s `sync`): each waits for a BGSAVE that starts after its
//! request, then gets the file as one bulk payload. A replica then stays
//! and gets the command stream (see [`super::repl`]); a client that said
//! `REPLCONF rdb-only 1` (`redis-cli --rdb`) is closed after the file.
//!
//! The file is not read into memory: the client's reply carries the bulk
//! header and then streams the open file with `sendfile` as its socket
//! drains (see [`FileTail`]), as Redis sends a replica's snapshot from disk
//! a buffer at a time. A slow reader costs an open descriptor, not the
//! dataset's size in memory, and the loop never stalls reading the file.

use crate::server::client::FileTail;
use crate::server::Server;

/// A client waiting for a snapshot: its slot and id, and the BGSAVE
/// child whose file it will get (`None`: the next one to start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiter {
    /// The client's slot.
    pub slot: usize,
    /// The client's id (a slot is reused after a disconnect).
    pub id: u64,
    /// The BGSAVE it waits for.
    pub pid: Option<i32>,
    /// It sent PSYNC (it is told `+FULLRESYNC` when its BGSAVE starts),
    /// not SYNC.
    pub psync: bool,
}

/// Registers client (`slot`, `id`) for the next snapshot, starting a
/// BGSAVE now when no child runs. A running BGSAVE began before this
/// SYNC, so its file would not hold the writes acknowledged just before
/// it: the client waits for it to end and a new one.
pub fn wait_for_snapshot(srv: &mut Server, slot: usize, id: u64, psync: bool) {
    srv.persist.sync_waiters.push(Waiter { slot, id, pid: None, psync });
    start_if_idle(srv);
}

/// Starts a BGSAVE for the waiters that need one, if no child runs
/// (called after SYNC and from the cron).
pub fn start_if_idle(srv: &mut Server) {
    if srv.persist.child.is_some() || srv.persist.sync_waiters.iter().all(|w| w.pid.is_some()) {
        return;
    }
    // The replicas among them start taking the stream at the fork.
    let starting: Vec<(usize, u64, bool)> = srv
        .persist
        .sync_waiters
        .iter()
        .filter(|w| w.pid.is_none())
        .map(|w| (w.slot, w.id, w.psync))
        .collect();
    super::repl::attach(srv, &starting);
    match super::snapshot::bgsave(srv) {
        Ok(()) => {
            let pid = srv.persist.child.as_ref().map(|c| c.pid);
            for w in srv.persist.sync_waiters.iter_mut().filter(|w| w.pid.is_none()) {
                w.pid = pid;
            }
        }
        Err(e) => {
            let waiters: Vec<Waiter> = std::mem::take(&mut srv.persist.sync_waiters);
            let msg = format!("-ERR can't start a BGSAVE for SYNC: {e}\r\n");
            for w in waiters {
                super::repl::snapshot_failed(srv, w.id);
                send(srv, w, msg.as_bytes(), None);
            }
        }
    }
}

/// A BGSAVE ended: its waiters get the file (or, if it failed, an error),
/// and those who came later start the next one.
pub fn snapshot_done(srv: &mut Server, pid: i32, ok: bool) {
    let (served, rest): (Vec<Waiter>, Vec<Waiter>) =
        std::mem::take(&mut srv.persist.sync_waiters).into_iter().partition(|w| w.pid == Some(pid));
    srv.persist.sync_waiters = rest;
    if served.is_empty() {
        return;
    }
    let opened = if ok {
        std::fs::File::open(super::snapshot::rdb_path(srv))
            .and_then(|f| Ok((f.metadata()?.len(), f)))
            .map_err(|e| format!("-ERR can't read the snapshot for SYNC: {e}\r\n"))
    } else {
        Err("-ERR the background save for SYNC failed\r\n".to_string())
    };
    for w in served {
        // Each client's send has its own offset (sendfile's argument), so
        // the clones may share the descriptor's.
        let tail = match &opened {
            Ok((len, file)) => file
                .try_clone()
                .map(|file| FileTail { file, offset: 0, end: *len })
                .map_err(|e| format!("-ERR can't read the snapshot for SYNC: {e}\r\n")),
            Err(msg) => Err(msg.clone()),
        };
        match tail {
            Ok(t) => {
                tracing::info!(client = w.id, bytes = t.end, "sending the snapshot to a SYNC client");
                let header = format!("${}\r\n", t.end);
                match super::repl::snapshot_sent(srv, w.slot, w.id) {
                    Some(stream) => stream_to(srv, w, header.as_bytes(), t, stream),
                    None => send(srv, w, header.as_bytes(), Some(t)),
                }
            }
            Err(msg) => {
                super::repl::snapshot_failed(srv, w.id);
                send(srv, w, msg.as_bytes(), None)
            }
        }
    }
}

/// Queues the snapshot for a replica, then the stream it missed while the
/// snapshot was written; the connection stays open for the rest.
fn stream_to(srv: &mut Server, w: Waiter, header: &[u8], tail: FileTail, stream: Vec<u8>) {
    let Some(mut c) = srv.clients.get_mut(w.slot).and_then(Option::take) else { return };
    if c.id == w.id {
        c.out.extend_from_slice(header);
        c.tail = Some(tail);
        c.after_tail = stream;
        c.replica = true;
        srv.queue_write(w.slot, &mut c);
    }
    srv.clients[w.slot] = Some(c);
}

/// Queues `bytes` for the waiter's client, if it is still connected, and
/// closes it once they are written.
fn send(srv: &mut Server, w: Waiter, bytes: &[u8], tail: Option<FileTail>) {
    let Some(mut c) = srv.clients.get_mut(w.slot).and_then(Option::take) else { return };
    if c.id == w.id {
        c.out.extend_from_slice(bytes);
        c.tail = tail;
        c.close_after_reply = true;
        srv.queue_write(w.slot, &mut c);
    }
    srv.clients[w.slot] = Some(c);
}
