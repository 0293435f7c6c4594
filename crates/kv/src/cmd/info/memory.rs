//! INFO's memory section: `genRedisInfoString`'s memory fields, computed
//! as Redis's `getMemoryOverheadData` computes them, from the same
//! [`MemorySample`] and [`Overhead`] MEMORY STATS reports.

use super::{field, human_bytes};
use crate::cmd::memory::{diff, MemorySample, Overhead};
use crate::server::client::Client;
use crate::server::Server;

/// What an idle redis-server 7.0.15 reports for its scripting engines,
/// which this server does not have: the bytes of a fresh Lua VM for EVAL
/// (`used_memory_vm_eval`, and `used_memory_lua`) and for FUNCTION
/// (`used_memory_vm_functions`), and the empty function library's
/// dictionaries (`used_memory_functions`). None of it is memory this
/// server holds, so none of it is in `used_memory_overhead`.
mod idle_scripting {
    pub const VM_EVAL: u64 = 32768;
    pub const VM_FUNCTIONS: u64 = 33792;
    pub const FUNCTIONS_CACHES: u64 = 200;
}

/// `# Memory`; `me` is the client running INFO.
pub(super) fn memory(srv: &Server, me: &Client, out: &mut String) {
    use idle_scripting::*;
    let m = MemorySample::take(srv);
    let o = Overhead::measure(srv, me);
    let (used, rss, peak) = (m.used as u64, m.rss as u64, m.peak as u64);
    let overhead = o.total();
    // Net of the startup memory (1 byte at least), as Redis.
    let net = if m.used > o.startup { m.used - o.startup } else { 1 };
    let dataset = m.used.wrapping_sub(overhead);
    let system = crate::alloc::system_memory();
    let a = m.alloc;
    field!(out, "# Memory");
    field!(out, "used_memory:{used}");
    field!(out, "used_memory_human:{}", human_bytes(used));
    field!(out, "used_memory_rss:{rss}");
    field!(out, "used_memory_rss_human:{}", human_bytes(rss));
    field!(out, "used_memory_peak:{peak}");
    field!(out, "used_memory_peak_human:{}", human_bytes(peak));
    field!(out, "used_memory_peak_perc:{:.2}%", m.used as f32 * 100.0 / m.peak.max(1) as f32);
    field!(out, "used_memory_overhead:{overhead}");
    field!(out, "used_memory_startup:{}", o.startup);
    field!(out, "used_memory_dataset:{dataset}");
    field!(out, "used_memory_dataset_perc:{:.2}%", dataset as f32 * 100.0 / net as f32);
    field!(out, "allocator_allocated:{}", a.allocated);
    field!(out, "allocator_active:{}", a.active);
    field!(out, "allocator_resident:{}", a.resident);
    field!(out, "total_system_memory:{system}");
    field!(out, "total_system_memory_human:{}", human_bytes(system));
    field!(out, "used_memory_lua:{VM_EVAL}");
    field!(out, "used_memory_vm_eval:{VM_EVAL}");
    field!(out, "used_memory_lua_human:{}", human_bytes(VM_EVAL));
    field!(out, "used_memory_scripts_eval:0");
    field!(out, "number_of_cached_scripts:0");
    field!(out, "number_of_functions:0");
    field!(out, "number_of_libraries:0");
    field!(out, "used_memory_vm_functions:{VM_FUNCTIONS}");
    field!(out, "used_memory_vm_total:{}", VM_EVAL + VM_FUNCTIONS);
    field!(out, "used_memory_vm_total_human:{}", human_bytes(VM_EVAL + VM_FUNCTIONS));
    field!(out, "used_memory_functions:{FUNCTIONS_CACHES}");
    field!(out, "used_memory_scripts:{FUNCTIONS_CACHES}");
    field!(out, "used_memory_scripts_human:{}", human_bytes(FUNCTIONS_CACHES));
    field!(out, "maxmemory:{}", srv.config.maxmemory);
    field!(out, "maxmemory_human:{}", human_bytes(srv.config.maxmemory));
    let policy = (crate::server::config_table::find("maxmemory-policy").expect("option").get)(&srv.config);
    field!(out, "maxmemory_policy:{policy}");
    field!(out, "allocator_frag_ratio:{:.2}", m.allocator_frag());
    // Unsigned in Redis (`%zu`), signed below (`%zd`): printed alike.
    field!(out, "allocator_frag_bytes:{}", a.active.wrapping_sub(a.allocated));
    field!(out, "allocator_rss_ratio:{:.2}", m.allocator_rss());
    field!(out, "allocator_rss_bytes:{}", diff(a.resident, a.active));
    field!(out, "rss_overhead_ratio:{:.2}", m.rss_overhead());
    field!(out, "rss_overhead_bytes:{}", diff(m.rss, a.resident));
    field!(out, "mem_fragmentation_ratio:{:.2}", m.fragmentation());
    field!(out, "mem_fragmentation_bytes:{}", diff(m.rss, m.used));
    field!(out, "mem_not_counted_for_evict:{}", crate::server::evict::not_counted(srv));
    field!(out, "mem_replication_backlog:{}", o.repl_backlog);
    field!(out, "mem_total_replication_buffers:{}", crate::persist::repl::buffers_memory(srv));
    field!(out, "mem_clients_slaves:{}", o.clients_slaves);
    field!(out, "mem_clients_normal:{}", o.clients_normal);
    field!(out, "mem_cluster_links:0");
    field!(out, "mem_aof_buffer:{}", o.aof_buffer);
    field!(out, "mem_allocator:{}", crate::alloc::allocator_name());
    field!(out, "active_defrag_running:0");
    field!(out, "lazyfree_pending_objects:{}", srv.lazyfree.pending());
    field!(out, "lazyfreed_objects:{}", srv.lazyfree.freed());
}
