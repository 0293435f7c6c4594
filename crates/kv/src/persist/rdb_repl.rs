//! The replication ID and offset in a snapshot's aux fields
//! (`repl-stream-db`, `repl-id`, `repl-offset`, Redis's `rdbSaveInfo`),
//! so that a server restarted from its snapshot can continue replication
//! without a full resync:
//!
//! - a **replica** restarted (with `replicaof` in its config) takes the
//!   saved ID and offset as its own and asks its master `PSYNC <id>
//!   <offset + 1>`, continuing in the saved database;
//! - a **master** restarted keeps a new ID, but the saved one stays valid
//!   as its second ID up to the saved offset, and its backlog starts
//!   there: a replica that had everything up to the shutdown continues.
//!   Keys that expired while it was down are skipped by the load; their
//!   DELs go into that backlog, or such a replica (which never expires
//!   keys itself) would keep them.
//!
//! The fields are written by every snapshot of a master with a backlog and
//! of a replica that knows its stream's database (SAVE, BGSAVE, the final
//! save of a shutdown), and read only by the load at start-up.

use super::backlog::Backlog;
use crate::server::Server;

/// A snapshot's replication fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplInfo {
    /// The database the stream had selected.
    pub stream_db: i64,
    /// The replication ID.
    pub id: String,
    /// The stream offset the data corresponds to.
    pub offset: u64,
}

/// What a snapshot being loaded said of replication, field by field.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    stream_db: Option<i64>,
    id: Option<String>,
    offset: Option<u64>,
}

impl Loaded {
    /// Records an aux field if it is one of the three.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) {
        let text = std::str::from_utf8(value).ok();
        match key {
            b"repl-stream-db" => self.stream_db = text.and_then(|v| v.parse().ok()),
            b"repl-id" => self.id = text.filter(|v| v.len() == 40).map(str::to_string),
            b"repl-offset" => self.offset = text.and_then(|v| v.parse().ok()),
            _ => {}
        }
    }

    /// `repl-stream-db`, if the snapshot had it.
    pub fn stream_db(&self) -> Option<usize> {
        self.stream_db.and_then(|db| usize::try_from(db).ok())
    }

    /// The three fields, if all were there and usable.
    fn valid(&self) -> Option<ReplInfo> {
        let stream_db = self.stream_db.filter(|&db| db >= 0)?;
        Some(ReplInfo { stream_db, id: self.id.clone()?, offset: self.offset? })
    }
}

/// What a snapshot of `srv` now should record (Redis's
/// `rdbPopulateSaveInfo`): `None` for a master without a backlog (no
/// replica can continue from it) or a replica that does not know which
/// database its stream is in.
pub fn to_save(srv: &Server) -> Option<ReplInfo> {
    let stream_db = match srv.master.as_ref() {
        Some(m) => m.stream_db(srv)?,
        None if srv.repl.backlog.is_some() => srv.repl.stream.db.unwrap_or(0),
        None => return None,
    };
    Some(ReplInfo { stream_db: stream_db as i64, id: srv.replid.clone(), offset: srv.repl.master_offset() })
}

/// Whether a key that expired while the server was down must be deleted
/// in the stream: a master restarting from a snapshot with replication
/// fields (see the module docs).
pub fn feeds_expired(srv: &Server) -> bool {
    srv.load_state.is_some()
        && srv.master.is_none()
        && !is_configured_replica(srv)
        && srv.persist.rdb_repl.valid().is_some()
}

/// Whether the config names a master (`replicaof`), which the server will
/// follow once loaded.
fn is_configured_replica(srv: &Server) -> bool {
    srv.config.inert.get("replicaof").is_some_and(|v| !v.is_empty())
}

/// After the load at start-up: takes up the replication history the
/// snapshot recorded, as a replica (its own ID and offset, to continue
/// from) or as a master (its second ID, and a backlog from there).
pub fn restore_at_start(srv: &mut Server) {
    let Some(info) = std::mem::take(&mut srv.persist.rdb_repl).valid() else {
        srv.repl.stream.buf.clear();
        return;
    };
    let size = super::repl::backlog_size(srv);
    if is_configured_replica(srv) {
        srv.replid = info.id;
        srv.repl.offset = info.offset;
        srv.repl.stream.db = Some(info.stream_db as usize);
        srv.repl.backlog = Some(Backlog::new(size, info.offset));
        tracing::info!(offset = info.offset, "Restored the replication ID and offset from the snapshot");
        return;
    }
    srv.repl.replid2 = Some((info.id, info.offset));
    srv.repl.offset = info.offset;
    srv.repl.backlog = Some(Backlog::new(size, info.offset));
    // The DELs of keys that expired meanwhile follow that offset.
    super::repl::flush(srv);
    tracing::info!(offset = info.offset, "Replicas of the saved replication history may continue");
}
