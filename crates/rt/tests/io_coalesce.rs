//! `Builder::io_coalesce`: a current-thread runtime that sleeps before its
//! polls under load still serves every connection, in order, and its
//! timers still fire. (That the loop counts the runtime's sockets and does
//! sleep is spindle-loop's test `foreign_descriptors_count_towards_coalescing`.)

use spindle_rt::net::{TcpListener, TcpStream};
use spindle_rt::runtime::Builder;
use spindle_rt::time::{sleep, timeout};
use spindle_rt::{spawn_local, Runtime};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);
const CLIENTS: usize = 24;
const ROUND_TRIPS: u32 = 300;

fn coalescing_rt() -> Runtime {
    // A low threshold, so that the wait is taken for most of the test.
    Builder::new_current_thread().io_coalesce(Duration::from_micros(100), 4).build().expect("runtime")
}

async fn echo(mut s: TcpStream) {
    let mut buf = vec![0; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A blocking client on its own thread: `ROUND_TRIPS` numbered messages,
/// each echo checked before the next is sent.
fn client(addr: SocketAddr, id: usize) -> Result<(), String> {
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.set_nodelay(true).unwrap();
    for i in 0..ROUND_TRIPS {
        let msg = format!("{id:04}:{i:08}\n");
        s.write_all(msg.as_bytes()).map_err(|e| e.to_string())?;
        let mut back = vec![0; msg.len()];
        s.read_exact(&mut back).map_err(|e| format!("client {id}, message {i}: {e}"))?;
        if back != msg.as_bytes() {
            return Err(format!("client {id}, message {i}: got {:?}", String::from_utf8_lossy(&back)));
        }
    }
    Ok(())
}

#[test]
fn a_coalescing_runtime_answers_every_client_in_order() {
    let rt = coalescing_rt();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        spawn_local(async move {
            while let Ok((s, _)) = listener.accept().await {
                spawn_local(echo(s));
            }
        });
        let (tx, rx) = mpsc::channel();
        for id in 0..CLIENTS {
            let tx = tx.clone();
            thread::spawn(move || tx.send(client(addr, id)));
        }
        drop(tx);
        // Timers keep running while the loop coalesces: this one fires
        // while the clients are still going.
        let ticks = spawn_local(async {
            let mut n = 0;
            for _ in 0..5 {
                sleep(Duration::from_millis(2)).await;
                n += 1;
            }
            n
        });
        // Collect the clients' results without blocking the runtime's
        // thread: poll the channel between short sleeps of the runtime.
        let results = timeout(LIMIT, async {
            let mut results = Vec::new();
            while results.len() < CLIENTS {
                match rx.try_recv() {
                    Ok(r) => results.push(r),
                    Err(mpsc::TryRecvError::Empty) => sleep(Duration::from_millis(1)).await,
                    Err(mpsc::TryRecvError::Disconnected) => break,
                }
            }
            results
        })
        .await
        .expect("the clients finished in time");
        assert_eq!(results.len(), CLIENTS);
        for r in results {
            r.unwrap();
        }
        assert_eq!(timeout(LIMIT, ticks).await.expect("timer task finished").unwrap(), 5);
    });
}

#[test]
fn a_zero_wait_is_off() {
    let rt = Builder::new_current_thread().io_coalesce(Duration::ZERO, 1).build().expect("runtime");
    let out = rt.block_on(async {
        sleep(Duration::from_millis(1)).await;
        7
    });
    assert_eq!(out, 7);
    assert!(format!("{:?}", Builder::new_current_thread().io_coalesce(Duration::ZERO, 1))
        .contains("io_coalesce: None"));
}
