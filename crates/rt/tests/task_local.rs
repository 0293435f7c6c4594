//! `!Send` futures and a `!Send` scheduler through `new_local_task`.

use spindle_rt::task::{new_local_task, JoinHandle, Notified, Schedule, Task, TaskId};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

/// A current-thread scheduler: an `Rc` queue, never shared across threads.
#[derive(Clone, Default)]
struct LocalSched {
    queue: Rc<RefCell<VecDeque<Notified<LocalSched>>>>,
    owned: Rc<RefCell<Vec<Task<LocalSched>>>>,
    schedules: Rc<Cell<usize>>,
}

impl Schedule for LocalSched {
    fn schedule(&self, task: Notified<Self>) {
        self.schedules.set(self.schedules.get() + 1);
        self.queue.borrow_mut().push_back(task);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        let mut owned = self.owned.borrow_mut();
        let pos = owned.iter().position(|t| t.id() == task.id())?;
        Some(owned.swap_remove(pos))
    }
}

impl LocalSched {
    #[track_caller]
    fn spawn_local<F: Future + 'static>(&self, future: F) -> JoinHandle<F::Output> {
        // SAFETY: this test runs every Notified and shuts every Task down on
        // this thread, keeps each Task until it is released or shut down,
        // and its futures keep their wakers on this thread.
        let (task, notified, join) = unsafe { new_local_task(future, self.clone(), TaskId::next()) };
        self.owned.borrow_mut().push(task);
        self.queue.borrow_mut().push_back(notified);
        join
    }

    fn run_all(&self) {
        loop {
            let next = self.queue.borrow_mut().pop_front();
            match next {
                Some(task) => task.run(),
                None => return,
            }
        }
    }

    fn shutdown(&self) {
        let owned = std::mem::take(&mut *self.owned.borrow_mut());
        for task in owned {
            task.shutdown();
        }
        self.queue.borrow_mut().clear();
    }
}

struct Yield(bool);
impl Future for Yield {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn rc_future_and_rc_output() {
    let sched = LocalSched::default();
    let shared = Rc::new(Cell::new(0));
    let s2 = shared.clone();
    let join = sched.spawn_local(async move {
        for _ in 0..3 {
            s2.set(s2.get() + 1);
            Yield(false).await;
        }
        s2
    });
    sched.run_all();
    assert_eq!(shared.get(), 3);
    let out = futures::executor::block_on(join).unwrap();
    assert!(Rc::ptr_eq(&out, &shared));
    drop(out);
    assert_eq!(Rc::strong_count(&shared), 1, "the future's clone was dropped");
    assert_eq!(Rc::strong_count(&sched.queue), 1, "every cell was freed");
}

#[test]
fn shutdown_drops_local_futures_on_this_thread() {
    let sched = LocalSched::default();
    let alive = Rc::new(());
    let a2 = alive.clone();
    let join = sched.spawn_local(async move {
        let _keep = a2;
        std::future::pending::<()>().await;
    });
    sched.run_all();
    assert_eq!(Rc::strong_count(&alive), 2);
    sched.shutdown();
    assert_eq!(Rc::strong_count(&alive), 1);
    assert!(futures::executor::block_on(join).unwrap_err().is_cancelled());
    assert_eq!(Rc::strong_count(&sched.queue), 1);
}

#[test]
fn tasks_wake_each_other() {
    let sched = LocalSched::default();
    let slot: Rc<RefCell<Option<std::task::Waker>>> = Rc::default();
    let flag = Rc::new(Cell::new(false));
    let (s1, f1) = (slot.clone(), flag.clone());
    let waiter = sched.spawn_local(std::future::poll_fn(move |cx| {
        if f1.get() {
            Poll::Ready(1)
        } else {
            *s1.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    }));
    let (s2, f2) = (slot.clone(), flag.clone());
    let setter = sched.spawn_local(async move {
        f2.set(true);
        if let Some(w) = s2.borrow_mut().take() {
            w.wake();
        }
    });
    sched.run_all();
    assert_eq!(sched.schedules.get(), 1);
    assert_eq!(futures::executor::block_on(waiter).unwrap(), 1);
    futures::executor::block_on(setter).unwrap();
    assert!(sched.owned.borrow().is_empty());
    assert_eq!(Rc::strong_count(&sched.queue), 1);
}
