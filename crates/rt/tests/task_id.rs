//! `task::id()` and `task::try_id()`, as tokio has them: the current task's
//! id inside a task (the one its `JoinHandle` and `AbortHandle` report),
//! `None` (or a panic from `id()`) outside one.

mod rt_support;

use rt_support::{both, bounded, panic_message, rt};
use spindle_rt as tokio;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::{self, Id};

#[test]
fn outside_a_task_try_id_is_none_and_id_panics() {
    assert_eq!(task::try_id(), None);
    let err = std::panic::catch_unwind(task::id).unwrap_err();
    assert!(panic_message(&*err).contains("outside a task"), "{}", panic_message(&*err));
    let rt = rt();
    // `block_on`'s own future is not a task.
    assert_eq!(rt.block_on(async { task::try_id() }), None);
    assert_eq!(rt.block_on(async { tokio::spawn(async {}).await.map(|()| task::try_id()) }).unwrap(), None);
}

#[test]
fn inside_a_task_it_is_the_handles_id_across_awaits() {
    bounded(|| {
        for (name, rt) in both() {
            rt.block_on(async {
                let mut handles = Vec::new();
                for _ in 0..16 {
                    handles.push(tokio::spawn(async {
                        let first = task::id();
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        tokio::task::yield_now().await;
                        assert_eq!(task::try_id(), Some(first));
                        first
                    }));
                }
                let mut seen = HashSet::new();
                for h in handles {
                    let expected: Id = h.id();
                    assert_eq!(h.abort_handle().id(), expected);
                    assert_eq!(h.await.unwrap(), expected, "{name}");
                    assert!(seen.insert(expected), "{name}: ids are unique");
                }
                // Back in the main future: not a task.
                assert_eq!(task::try_id(), None, "{name}");
            });
        }
    });
}

#[test]
fn spawn_local_and_join_set_tasks_see_their_ids() {
    bounded(|| {
        let rt = rt();
        rt.block_on(async {
            let local = tokio::task::spawn_local(async { std::rc::Rc::new(task::id()) });
            let expected = local.id();
            assert_eq!(*local.await.unwrap(), expected);

            let mut set = task::JoinSet::new();
            let abort = set.spawn(async { task::id() });
            assert_eq!(set.join_next().await.unwrap().unwrap(), abort.id());
        });
    });
}

#[test]
fn a_cancelled_tasks_destructor_sees_its_id() {
    bounded(|| {
        for (name, rt) in both() {
            let seen = Arc::new(Mutex::new(None));
            struct OnDrop(Arc<Mutex<Option<Option<Id>>>>);
            impl Drop for OnDrop {
                fn drop(&mut self) {
                    *self.0.lock().unwrap() = Some(task::try_id());
                }
            }
            let guard = OnDrop(seen.clone());
            let h = rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            let expected = h.id();
            h.abort();
            assert!(rt.block_on(h).unwrap_err().is_cancelled(), "{name}");
            assert_eq!(*seen.lock().unwrap(), Some(Some(expected)), "{name}");
        }
    });
}
