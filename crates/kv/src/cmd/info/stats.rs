//! INFO's stats and replication sections.
//!
//! This server has no active defragmentation, client-side caching
//! (tracking) or reply-buffer resizing: their fields print what an idle
//! redis-server prints.

use super::field;
use crate::server::Server;

/// `# Stats`.
pub(super) fn stats(srv: &Server, out: &mut String) {
    let s = &srv.stats;
    let kbps = |r: &crate::server::stats::RateSampler| r.per_sec() as f32 / 1024.0;
    field!(out, "# Stats");
    field!(out, "total_connections_received:{}", s.connections);
    field!(out, "total_commands_processed:{}", s.commands);
    field!(out, "instantaneous_ops_per_sec:{}", srv.ops.ops.per_sec());
    field!(out, "total_net_input_bytes:{}", s.net_input);
    field!(out, "total_net_output_bytes:{}", s.net_output);
    field!(out, "total_net_repl_input_bytes:0");
    field!(out, "total_net_repl_output_bytes:0");
    field!(out, "instantaneous_input_kbps:{:.2}", kbps(&srv.ops.net_input));
    field!(out, "instantaneous_output_kbps:{:.2}", kbps(&srv.ops.net_output));
    field!(out, "instantaneous_input_repl_kbps:0.00");
    field!(out, "instantaneous_output_repl_kbps:0.00");
    field!(out, "rejected_connections:{}", s.rejected);
    field!(out, "sync_full:{}", srv.repl.sync_full);
    field!(out, "sync_partial_ok:{}", srv.repl.sync_partial_ok);
    field!(out, "sync_partial_err:{}", srv.repl.sync_partial_err);
    field!(out, "expired_keys:{}", s.expired_keys);
    field!(out, "expired_stale_perc:{:.2}", s.expire.stale_perc * 100.0);
    field!(out, "expired_time_cap_reached_count:{}", s.expire.time_cap_reached);
    field!(out, "expire_cycle_cpu_milliseconds:{}", s.expire.cycle_us / 1000);
    field!(out, "evicted_keys:{}", s.evicted_keys);
    field!(out, "evicted_clients:{}", s.evicted_clients);
    field!(out, "total_eviction_exceeded_time:{}", s.eviction_exceeded.total_us() / 1000);
    field!(out, "current_eviction_exceeded_time:{}", s.eviction_exceeded.current_us() / 1000);
    field!(out, "keyspace_hits:{}", s.keyspace_hits);
    field!(out, "keyspace_misses:{}", s.keyspace_misses);
    field!(out, "pubsub_channels:{}", srv.pubsub.channel_count());
    field!(out, "pubsub_patterns:{}", srv.pubsub.pattern_count());
    field!(out, "pubsubshard_channels:{}", srv.pubsub.shard_count());
    field!(out, "latest_fork_usec:{}", s.latest_fork_usec);
    field!(out, "total_forks:{}", s.total_forks);
    field!(out, "migrate_cached_sockets:{}", srv.migrate_sockets.len());
    field!(out, "slave_expires_tracked_keys:0");
    field!(out, "active_defrag_hits:0");
    field!(out, "active_defrag_misses:0");
    field!(out, "active_defrag_key_hits:0");
    field!(out, "active_defrag_key_misses:0");
    field!(out, "total_active_defrag_time:0");
    field!(out, "current_active_defrag_time:0");
    field!(out, "tracking_total_keys:0");
    field!(out, "tracking_total_items:0");
    field!(out, "tracking_total_prefixes:0");
    field!(out, "unexpected_error_replies:0");
    field!(out, "total_error_replies:{}", s.cmd.total_error_replies);
    // Redis counts deep sanitizations of RESTORE payloads, off by default
    // (`sanitize-dump-payload no`), which this server never does.
    field!(out, "dump_payload_sanitizations:0");
    field!(out, "total_reads_processed:{}", s.reads_processed);
    field!(out, "total_writes_processed:{}", s.writes_processed);
    field!(out, "io_threaded_reads_processed:{}", s.io_threaded_reads);
    field!(out, "io_threaded_writes_processed:{}", s.io_threaded_writes);
    field!(out, "reply_buffer_shrinks:{}", s.reply_buffer_shrinks);
    field!(out, "reply_buffer_expands:{}", s.reply_buffer_expands);
}

/// `# Replication`: a master or a replica, its replicas, and the backlog.
pub(super) fn replication(srv: &Server, out: &mut String) {
    field!(out, "# Replication");
    match &srv.master {
        None => field!(out, "role:master"),
        Some(m) => {
            let now = srv.now_ms;
            field!(out, "role:slave");
            field!(out, "master_host:{}", m.host);
            field!(out, "master_port:{}", m.port);
            field!(out, "master_link_status:{}", if m.is_up() { "up" } else { "down" });
            field!(out, "master_last_io_seconds_ago:{}", m.last_io_seconds(now));
            field!(out, "master_sync_in_progress:{}", u8::from(m.syncing()));
            field!(out, "slave_read_repl_offset:{}", m.offset);
            field!(out, "slave_repl_offset:{}", m.offset);
            if !m.is_up() {
                field!(out, "master_link_down_since_seconds:{}", m.down_seconds(now));
            }
            field!(out, "slave_priority:100");
            field!(out, "slave_read_only:1");
            field!(out, "replica_announced:1");
        }
    }
    let replicas = srv.repl.info_lines(srv);
    field!(out, "connected_slaves:{}", replicas.len());
    for (i, line) in replicas.iter().enumerate() {
        field!(out, "slave{i}:{line}");
    }
    let (min_write, max_lag) = srv.repl.min_replicas;
    if min_write > 0 && max_lag > 0 {
        field!(out, "min_slaves_good_slaves:{}", srv.repl.good_replicas(srv.now_ms, max_lag));
    }
    field!(out, "master_failover_state:{}", crate::persist::failover::state_name(srv));
    field!(out, "master_replid:{}", srv.replid);
    match &srv.repl.replid2 {
        Some((id2, upto)) => {
            field!(out, "master_replid2:{id2}");
            field!(out, "master_repl_offset:{}", srv.repl.master_offset());
            field!(out, "second_repl_offset:{}", upto + 1);
        }
        None => {
            field!(out, "master_replid2:{:040x}", 0);
            field!(out, "master_repl_offset:{}", srv.repl.master_offset());
            field!(out, "second_repl_offset:-1");
        }
    }
    let b = srv.repl.backlog.as_ref();
    field!(out, "repl_backlog_active:{}", u8::from(b.is_some()));
    field!(out, "repl_backlog_size:{}", b.map_or(crate::persist::repl::backlog_size(srv), |b| b.size()));
    field!(out, "repl_backlog_first_byte_offset:{}", b.map_or(0, |b| b.first_byte_offset()));
    field!(out, "repl_backlog_histlen:{}", b.map_or(0, |b| b.histlen()));
}
