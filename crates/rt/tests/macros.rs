//! `#[spindle_rt::test]` (and through it the expansion `#[spindle_rt::main]`
//! shares): both flavors, `Result` tests, attributes kept.

use std::collections::HashSet;
use std::io;
use std::time::{Duration, Instant};

#[spindle_rt::test]
async fn current_thread_spawns_and_sleeps() {
    let caller = std::thread::current().id();
    let task = spindle_rt::spawn(async move {
        spindle_rt::time::sleep(Duration::from_millis(5)).await;
        // The current-thread runtime polls every task on the test's thread.
        assert_eq!(std::thread::current().id(), caller);
        6 * 7
    });
    let start = Instant::now();
    spindle_rt::time::sleep(Duration::from_millis(10)).await;
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert_eq!(task.await.expect("the task ran"), 42);
}

#[spindle_rt::test(flavor = "current_thread")]
async fn current_thread_runs_local_tasks() {
    // `spawn_local` needs the current-thread runtime, so this also checks the
    // flavor the attribute chose.
    let shared = std::rc::Rc::new(std::cell::Cell::new(1));
    let s = std::rc::Rc::clone(&shared);
    spindle_rt::spawn_local(async move { s.set(2) }).await.expect("the task ran");
    assert_eq!(shared.get(), 2);
}

#[spindle_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_uses_at_most_two_workers() {
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            spindle_rt::spawn(async {
                spindle_rt::yield_now().await;
                let thread = std::thread::current();
                (thread.id(), thread.name().map(str::to_owned))
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        let (id, name) = task.await.expect("the task ran");
        let name = name.expect("workers are named");
        assert!(name.starts_with("spindle-rt-worker-"), "ran on {name}");
        ids.insert(id);
    }
    assert!((1..=2).contains(&ids.len()), "{} worker threads", ids.len());
}

#[spindle_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_allows_block_in_place() {
    let sum = spindle_rt::spawn(async {
        let data = [1u64, 2, 3];
        // On a worker: hands its P to another thread while this one blocks.
        spindle_rt::block_in_place(|| {
            std::thread::sleep(Duration::from_millis(5));
            data.iter().sum::<u64>()
        })
    });
    // Other tasks still run meanwhile.
    assert_eq!(spindle_rt::spawn(async { 7 }).await.expect("the task ran"), 7);
    assert_eq!(sum.await.expect("the task ran"), 6);
}

#[spindle_rt::test]
async fn returns_a_result() -> Result<(), io::Error> {
    let listener = spindle_rt::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = spindle_rt::spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        stream.write_all(b"pong").await
    });
    let mut client = spindle_rt::net::TcpStream::connect(addr).await?;
    let mut buf = [0; 4];
    let mut got = 0;
    while got < buf.len() {
        match client.read(&mut buf[got..]).await? {
            0 => break,
            n => got += n,
        }
    }
    assert_eq!(&buf, b"pong");
    server.await.expect("the server task ran")?;
    Ok(())
}

#[spindle_rt::test]
async fn returns_unit_explicitly() -> () {
    spindle_rt::yield_now().await;
}

#[spindle_rt::test]
#[should_panic(expected = "the task's panic reached the test")]
async fn should_panic_is_kept() {
    spindle_rt::yield_now().await;
    panic!("the task's panic reached the test");
}

#[spindle_rt::test]
#[should_panic(expected = "`block_in_place` needs the multi-thread runtime")]
async fn block_in_place_panics_on_the_default_flavor() {
    spindle_rt::block_in_place(|| ());
}

#[spindle_rt::test]
#[ignore = "checks that #[ignore] is kept: this must never run"]
async fn ignore_is_kept() {
    panic!("an #[ignore]d test ran");
}

/// `#[spindle_rt::main]` on a function other than `main`, called from a
/// plain test: the function blocks until its body is done.
#[spindle_rt::main(flavor = "multi_thread", worker_threads = 2)]
async fn sum_on_workers() -> u64 {
    let tasks: Vec<_> = (1..=10).map(|i| spindle_rt::spawn(async move { i })).collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.expect("the task ran");
    }
    sum
}

#[test]
fn main_attribute_on_a_helper() {
    assert_eq!(sum_on_workers(), 55);
}

/// `#[spindle_rt::main]` with no flavor runs the multi-thread runtime, as
/// `#[tokio::main]` does (a ported `main` keeps its meaning), and takes
/// `worker_threads` alone, as tokio's does.
#[spindle_rt::main]
async fn main_default_flavor() -> u32 {
    // Panics on the current-thread runtime.
    spindle_rt::block_in_place(|| 1)
}

#[spindle_rt::main(worker_threads = 2)]
async fn main_worker_threads_alone() -> u32 {
    spindle_rt::block_in_place(|| 2)
}

#[test]
fn main_defaults_to_the_multi_thread_runtime_as_tokio_does() {
    assert_eq!(main_default_flavor() + main_worker_threads_alone(), 3);
}
