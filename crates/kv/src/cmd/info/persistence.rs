//! INFO's persistence section.
//!
//! The `current_*` fields are what the running child last reported, and
//! the `*_last_cow_size` fields the largest copy-on-write size the last
//! child of each kind reported (see [`crate::persist::childinfo`]).

use super::field;
use crate::persist::ChildKind;
use crate::server::Server;

/// `# Persistence`.
pub(super) fn persistence(srv: &Server, out: &mut String) {
    let p = &srv.persist;
    let child = p.child.as_ref();
    // Seconds the running child of `kind` has run, or -1.
    let running =
        |kind: ChildKind| child.filter(|c| c.kind == kind).map_or(-1, |c| (srv.now_ms - c.started_ms) / 1000);
    let status = |failed: bool| if failed { "err" } else { "ok" };
    field!(out, "# Persistence");
    field!(out, "loading:{}", (p.loading || srv.load_state.is_some()) as u8);
    field!(out, "async_loading:0");
    let progress = &p.progress;
    let age = progress.cow_measured.map_or(0, |t| t.elapsed().as_secs());
    field!(out, "current_cow_peak:{}", progress.cow_peak);
    field!(out, "current_cow_size:{}", progress.cow_size);
    field!(out, "current_cow_size_age:{age}");
    field!(out, "current_fork_perc:{:.2}", progress.percent());
    field!(out, "current_save_keys_processed:{}", progress.keys_processed);
    field!(out, "current_save_keys_total:{}", progress.keys_total);
    field!(out, "rdb_changes_since_last_save:{}", srv.dirty);
    field!(out, "rdb_bgsave_in_progress:{}", srv.rdb_bgsave_in_progress as u8);
    field!(out, "rdb_last_save_time:{}", srv.rdb_last_save_time);
    field!(out, "rdb_last_bgsave_status:{}", srv.rdb_last_bgsave_status);
    field!(out, "rdb_last_bgsave_time_sec:{}", p.rdb_last_bgsave_secs.unwrap_or(-1));
    field!(out, "rdb_current_bgsave_time_sec:{}", running(ChildKind::Rdb));
    field!(out, "rdb_saves:{}", srv.stats.rdb_saves);
    field!(out, "rdb_last_cow_size:{}", p.rdb_last_cow);
    field!(out, "rdb_last_load_keys_expired:{}", p.last_load.expired);
    field!(out, "rdb_last_load_keys_loaded:{}", p.last_load.loaded);
    field!(out, "aof_enabled:{}", srv.aof_enabled as u8);
    field!(out, "aof_rewrite_in_progress:{}", srv.aof_rewrite_in_progress as u8);
    field!(out, "aof_rewrite_scheduled:{}", p.aof_rewrite_scheduled as u8);
    field!(out, "aof_last_rewrite_time_sec:{}", p.aof_last_rewrite_secs.unwrap_or(-1));
    field!(out, "aof_current_rewrite_time_sec:{}", running(ChildKind::AofRewrite));
    field!(out, "aof_last_bgrewrite_status:{}", status(p.aof_last_rewrite_failed));
    field!(out, "aof_rewrites:{}", srv.stats.aof_rewrites);
    field!(out, "aof_rewrites_consecutive_failures:{}", srv.stats.aof_rewrite_failures);
    field!(out, "aof_last_write_status:{}", status(srv.persist.aof.disk_error().is_some()));
    field!(out, "aof_last_cow_size:{}", p.aof_last_cow);
    field!(out, "module_fork_in_progress:0");
    field!(out, "module_fork_last_cow_size:0");
    if srv.aof_enabled {
        let aof = &p.aof;
        let fsyncing = aof.fsync_thread.as_ref().is_some_and(|t| !t.is_finished());
        field!(out, "aof_current_size:{}", aof.current_size);
        field!(out, "aof_base_size:{}", aof.base_size);
        field!(out, "aof_pending_rewrite:{}", p.aof_rewrite_scheduled as u8);
        field!(out, "aof_buffer_length:{}", aof.log.buf.len());
        field!(out, "aof_pending_bio_fsync:{}", fsyncing as u8);
        // Writes never wait for a slow fsync here, so none is delayed.
        field!(out, "aof_delayed_fsync:0");
    }
    if let Some(load) = &srv.load_state {
        let (perc, eta) = load.perc_and_eta(srv.now_ms / 1000);
        field!(out, "loading_start_time:{}", load.start_time);
        field!(out, "loading_total_bytes:{}", load.total_bytes);
        field!(out, "loading_rdb_used_mem:{}", load.rdb_used_mem);
        field!(out, "loading_loaded_bytes:{}", load.loaded_bytes);
        field!(out, "loading_loaded_perc:{perc:.2}");
        field!(out, "loading_eta_seconds:{eta}");
    }
}
