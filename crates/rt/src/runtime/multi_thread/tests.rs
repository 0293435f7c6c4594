//! Unit tests of the multi-thread runtime's bookkeeping.

use crate::runtime::{Builder, Kind};

/// Each `block_in_place` makes its thread a placed one; a service calling
/// it all day must not keep a handle per call once those threads exit.
#[test]
fn placed_threads_that_exited_are_forgotten() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        crate::spawn(async {
            for _ in 0..100 {
                crate::block_in_place(|| {});
                // A new poll, on a worker that has its P: the next call
                // places another thread.
                crate::yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    let Kind::MultiThread(mt) = &rt.kind else { unreachable!("a multi-thread runtime") };
    let kept = crate::lock(&mt.shared().placed).threads.len();
    assert!(kept < 10, "{kept} handles of placed threads kept after 100 block_in_place calls");
}
