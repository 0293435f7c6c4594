//! A TCP proxy on spindle-rt, written as a tokio user writes one: accept,
//! connect upstream within a timeout, `copy_bidirectional` (which passes a
//! half-close on in both directions), at most `max_connections` at once
//! through a `Semaphore`, and a graceful stop on Ctrl-C or `SIGTERM`.
//!
//! ```text
//! cargo run -p spindle-rt --example proxy -- 127.0.0.1:7881 127.0.0.1:7879 [MAX]
//! ```
//!
//! listens on the first address and forwards each connection to the
//! second (the `echo` example's default address), at most `MAX` (default
//! 1024) at once: further clients wait in the listen backlog until a slot
//! frees. A client whose upstream refuses, or does not answer within the
//! connect timeout, is closed; the proxy goes on serving.
//!
//! `serve` is the proxy, given a listener, a [`Config`] and a shutdown
//! future; `main` passes Ctrl-C or `SIGTERM`. The integration test
//! `tests/example_proxy.rs` includes this file and drives `serve` with
//! real TCP clients and upstreams.

use spindle_rt::io::copy_bidirectional;
use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::signal::unix::{signal, SignalKind};
use spindle_rt::sync::Semaphore;
use spindle_rt::task::JoinSet;
use spindle_rt::time::timeout;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// The proxy's knobs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where every connection is forwarded.
    pub upstream: SocketAddr,
    /// How long connecting upstream may take.
    pub connect_timeout: Duration,
    /// How many connections are proxied at once.
    pub max_connections: usize,
    /// How long shutdown waits for open connections before closing them.
    pub grace: Duration,
}

/// Counters a running proxy keeps (read them any time).
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Connections whose upstream refused or timed out.
    pub upstream_failed: AtomicU64,
    /// Connections that ended with an IO error mid-copy.
    pub copy_failed: AtomicU64,
    /// Bytes from clients to the upstream.
    pub bytes_up: AtomicU64,
    /// Bytes from the upstream to clients.
    pub bytes_down: AtomicU64,
}

/// Proxies connections from `listener` to `config.upstream` until
/// `shutdown` completes; then stops accepting, waits up to `config.grace`
/// for open connections, and closes the rest. Counts into `stats`.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    stats: Arc<Stats>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limit = Arc::new(Semaphore::new(config.max_connections));
    let mut conns = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Take a slot before accepting: over the limit, clients wait in
        // the kernel's backlog instead of being accepted and starved.
        let permit = spindle_rt::select! {
            permit = Arc::clone(&limit).acquire_owned() => permit.expect("the semaphore is never closed"),
            Some(_) = conns.join_next() => continue,
            () = &mut shutdown => break,
        };
        let (client, _peer) = spindle_rt::select! {
            conn = listener.accept() => match conn {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            },
            Some(_) = conns.join_next() => continue,
            () = &mut shutdown => break,
        };
        stats.accepted.fetch_add(1, Relaxed);
        let (stats, config) = (Arc::clone(&stats), config.clone());
        conns.spawn(async move {
            // Held until the connection is done: that frees its slot.
            let _permit = permit;
            proxy(client, &config, &stats).await;
        });
    }
    drop(listener);
    if timeout(config.grace, async { while conns.join_next().await.is_some() {} }).await.is_err() {
        conns.shutdown().await;
    }
    Ok(())
}

/// Connects `client` to the upstream and copies both ways until both
/// sides are done.
async fn proxy(mut client: TcpStream, config: &Config, stats: &Stats) {
    let mut upstream = match timeout(config.connect_timeout, TcpStream::connect(config.upstream)).await {
        Ok(Ok(upstream)) => upstream,
        Ok(Err(e)) => {
            eprintln!("upstream {}: {e}", config.upstream);
            stats.upstream_failed.fetch_add(1, Relaxed);
            return; // dropping `client` closes it
        }
        Err(_elapsed) => {
            eprintln!("upstream {}: no answer within {:?}", config.upstream, config.connect_timeout);
            stats.upstream_failed.fetch_add(1, Relaxed);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    match copy_bidirectional(&mut client, &mut upstream).await {
        Ok((up, down)) => {
            stats.bytes_up.fetch_add(up, Relaxed);
            stats.bytes_down.fetch_add(down, Relaxed);
        }
        Err(e) => {
            eprintln!("proxy: {e}");
            stats.copy_failed.fetch_add(1, Relaxed);
        }
    }
}

#[spindle_rt::main]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:7881".to_owned());
    let upstream = args.next().unwrap_or_else(|| "127.0.0.1:7879".to_owned());
    let max_connections = args.next().map_or(Ok(1024), |n| n.parse()).map_err(io::Error::other)?;
    let upstream = spindle_rt::net::lookup_host(upstream.as_str())
        .await?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the upstream resolves to nothing"))?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind(listen.as_str()).await?;
    println!("listening on {}, forwarding to {upstream}", listener.local_addr()?);
    let config = Config {
        upstream,
        connect_timeout: Duration::from_secs(5),
        max_connections,
        grace: Duration::from_secs(5),
    };
    let stats = Arc::new(Stats::default());
    serve(listener, config, Arc::clone(&stats), async move {
        spindle_rt::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
    .await?;
    println!(
        "stopped: {} connections, {} upstream failures, {} bytes up, {} bytes down",
        stats.accepted.load(Relaxed),
        stats.upstream_failed.load(Relaxed),
        stats.bytes_up.load(Relaxed),
        stats.bytes_down.load(Relaxed)
    );
    Ok(())
}
