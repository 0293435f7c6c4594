//! maxmemory and the eviction policies. One test function: the memory
//! counter is process-wide, so the scenarios must not run concurrently.

mod common;
use common::*;
use redis::Commands;
use spindle_kv::server::config::EvictionPolicy;

const VALUE: usize = 1024;
const LIMIT_HEADROOM: u64 = 8 << 20;

fn fill(c: &mut redis::Connection, prefix: &str, n: usize, ttl: bool) -> Vec<redis::RedisResult<()>> {
    let v = vec![b'x'; VALUE];
    let mut out = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let mut p = redis::pipe();
        for i in chunk {
            if ttl {
                p.cmd("SET").arg(format!("{prefix}{i}")).arg(&v).arg("EX").arg(3600);
            } else {
                p.cmd("SET").arg(format!("{prefix}{i}")).arg(&v);
            }
        }
        let r: Vec<redis::RedisResult<()>> = match p.query::<Vec<redis::Value>>(c) {
            Ok(vals) => vals.into_iter().map(|_| Ok(())).collect(),
            Err(e) => vec![Err(e)],
        };
        out.extend(r);
    }
    out
}

fn used() -> u64 {
    spindle_kv::alloc::used_memory() as u64
}

#[test]
fn eviction_policies_keep_memory_under_maxmemory() {
    // allkeys-lru: writing 5x the headroom succeeds and memory stays bounded.
    for policy in [EvictionPolicy::AllKeysLru, EvictionPolicy::AllKeysRandom] {
        let limit = used() + LIMIT_HEADROOM;
        let srv = start_with(|cfg| {
            cfg.maxmemory = limit;
            cfg.maxmemory_policy = policy;
        });
        let mut c = conn(&srv);
        let n = (5 * LIMIT_HEADROOM as usize) / VALUE;
        for r in fill(&mut c, "k", n, false) {
            r.unwrap_or_else(|e| panic!("{policy:?}: a write failed: {e}"));
        }
        let size: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert!(size < n, "{policy:?}: nothing was evicted ({size} keys)");
        assert!(size > n / 20, "{policy:?}: evicted far too much ({size} keys)");
        assert!(used() < limit + (4 << 20), "{policy:?}: used {} over limit {}", used(), limit);
        drop(c);
        srv.stop().unwrap();
    }

    // noeviction: writes are refused with Redis's error, reads and DEL work.
    let limit = used() + LIMIT_HEADROOM;
    let srv = start_with(|cfg| {
        cfg.maxmemory = limit;
        cfg.maxmemory_policy = EvictionPolicy::NoEviction;
    });
    let mut c = conn(&srv);
    let n = (3 * LIMIT_HEADROOM as usize) / VALUE;
    let mut refused = None;
    for i in 0..n {
        if let Err(e) = c.set::<_, _, ()>(format!("k{i}"), vec![b'x'; VALUE]) {
            refused = Some((i, e));
            break;
        }
    }
    let (i, e) = refused.expect("noeviction never refused a write");
    assert!(e.to_string().contains("command not allowed when used memory > 'maxmemory'"), "{e}");
    assert_eq!(c.get::<_, Vec<u8>>("k0").unwrap().len(), VALUE, "reads still work");
    let deleted: usize = c.del((0..i).map(|j| format!("k{j}")).collect::<Vec<_>>()).unwrap();
    assert_eq!(deleted, i);
    c.set::<_, _, ()>("after", "ok").expect("writes work again once memory was freed");
    drop(c);
    srv.stop().unwrap();

    // volatile-ttl: only keys with a TTL go; without any, writes are refused.
    let limit = used() + LIMIT_HEADROOM;
    let srv = start_with(|cfg| {
        cfg.maxmemory = limit;
        cfg.maxmemory_policy = EvictionPolicy::VolatileTtl;
    });
    let mut c = conn(&srv);
    let persistent = (LIMIT_HEADROOM as usize / 2) / VALUE;
    for r in fill(&mut c, "p", persistent, false) {
        r.unwrap();
    }
    let volatile = (3 * LIMIT_HEADROOM as usize) / VALUE;
    let results = fill(&mut c, "v", volatile, true);
    assert!(results.iter().all(|r| r.is_ok()));
    for i in 0..persistent {
        assert!(c.exists::<_, bool>(format!("p{i}")).unwrap(), "key p{i} without a TTL was evicted");
    }
    drop(c);
    srv.stop().unwrap();
}
