//! The typed side of the vtable: running, completing, cancelling, joining
//! and freeing a task whose future and scheduler types are known.
//!
//! Every function here is instantiated for one `(F, S)` and reached only
//! through the cell's own vtable, so the cast from `NonNull<Header>` to
//! `NonNull<Cell<F, S>>` is always to the type the cell was allocated with.

use super::error::JoinError;
use super::handle::{Notified, Task};
use super::id::CurrentGuard;
use super::raw::{Cell, Core, Header, RawTask, Trailer};
use super::state::{RefDec, Snapshot, TransitionToIdle, TransitionToRunning, TransitionToShutdown};
use super::waker::waker_ref;
use super::{Schedule, TaskId};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// A typed view of a cell.
///
/// Invariant: `cell` was allocated by `RawTask::new::<F, S>` and is alive
/// (the caller of each vtable function holds a reference) until the
/// function that frees it.
struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

/// What `poll_inner` leaves to `poll`.
#[must_use]
enum PollFuture {
    /// Store done; set `COMPLETE`, notify the `JoinHandle`, release.
    Complete,
    /// Woken during the poll: push the task again.
    Notified,
    /// Nothing more to do (idle, or the `Notified` was stale).
    Done,
    /// The last reference is gone: free the cell.
    Dealloc,
}

impl<F: Future + 'static, S: Schedule> Harness<F, S> {
    /// # Safety
    ///
    /// `ptr` is the header of a live cell allocated for `(F, S)`.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Harness<F, S> {
        Harness { cell: ptr.cast() }
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the cell is alive and the caller's reference goes with it
        // (the invariant on `cell`).
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    fn header(&self) -> &Header {
        // SAFETY: the cell is alive (the invariant on `cell`); cell fields
        // are only ever borrowed shared (mutation goes through atomics and
        // `UnsafeCell`).
        unsafe { &self.cell.as_ref().header }
    }

    fn core(&self) -> &Core<F, S> {
        // SAFETY: as `header`.
        unsafe { &self.cell.as_ref().core }
    }

    fn trailer(&self) -> &Trailer {
        // SAFETY: as `header`.
        unsafe { &self.cell.as_ref().trailer }
    }

    fn id(&self) -> TaskId {
        self.header().id
    }

    /// Runs the task once; the `Notified`'s reference is ours.
    fn poll(self) {
        match self.poll_inner() {
            PollFuture::Complete => self.complete(),
            PollFuture::Notified => {
                // SAFETY: transition_to_idle took a reference for this new
                // Notified and left NOTIFIED set.
                let notified = Notified(unsafe { Task::from_raw(self.raw()) });
                self.core().scheduler.yield_now(notified);
                // SAFETY: the runner's reference, kept until now so the
                // scheduler in the cell outlived `yield_now` even if the
                // scheduler dropped the task.
                unsafe { self.raw().drop_reference() }
            }
            PollFuture::Done => {}
            // SAFETY: the last reference is gone.
            PollFuture::Dealloc => unsafe { self.dealloc() },
        }
    }

    fn poll_inner(&self) -> PollFuture {
        match self.header().state.transition_to_running() {
            TransitionToRunning::Success => {
                // SAFETY: the runner's reference outlives this borrowed waker.
                let waker = unsafe { waker_ref(self.raw()) };
                let mut cx = Context::from_waker(&waker);
                // SAFETY: we hold RUNNING.
                if unsafe { poll_future(self.core(), self.id(), &mut cx) }.is_ready() {
                    return PollFuture::Complete;
                }
                match self.header().state.transition_to_idle() {
                    TransitionToIdle::Ok => PollFuture::Done,
                    TransitionToIdle::OkNotified => PollFuture::Notified,
                    TransitionToIdle::OkDealloc => PollFuture::Dealloc,
                    TransitionToIdle::Cancelled => {
                        // SAFETY: we still hold RUNNING.
                        unsafe { cancel_task(self.core(), self.id()) };
                        PollFuture::Complete
                    }
                }
            }
            TransitionToRunning::Cancelled => {
                // SAFETY: we hold RUNNING.
                unsafe { cancel_task(self.core(), self.id()) };
                PollFuture::Complete
            }
            TransitionToRunning::Failed => PollFuture::Done,
            TransitionToRunning::Dealloc => PollFuture::Dealloc,
        }
    }

    /// The output is stored and we hold `RUNNING` and one reference: set
    /// `COMPLETE`, hand the output to the `JoinHandle` or drop it, release
    /// the task from the scheduler, drop the references.
    fn complete(self) {
        let snapshot = self.header().state.transition_to_complete();
        self.notify_join_handle(snapshot);

        // A borrowed `Task`, not counted: only for `release` to look at.
        // SAFETY: our reference keeps the cell alive for its lifetime.
        let me = ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.raw()) });
        let released = match self.core().scheduler.release(&me) {
            Some(task) => {
                debug_assert!(task.raw == me.raw, "Schedule::release returned another task");
                // Its reference is dropped with ours below.
                std::mem::forget(task);
                2
            }
            None => 1,
        };
        if self.header().state.transition_to_terminal(released) == RefDec::Dealloc {
            // SAFETY: the last references are gone.
            unsafe { self.dealloc() }
        }
    }

    /// Just after `COMPLETE`: drop the output if nobody will join, or wake
    /// the joiner. User destructors and wakers may panic; the panic is
    /// swallowed so the scheduler keeps running (the output it concerns has
    /// no one to report to).
    fn notify_join_handle(&self, snapshot: Snapshot) {
        if !snapshot.is_join_interested() {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: COMPLETE set with JOIN_INTEREST already clear: the
                // stage is ours alone (the invariant on `Core::stage`).
                unsafe { self.core().drop_future_or_output() }
            }));
        } else if snapshot.is_join_waker_set() {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: COMPLETE and JOIN_WAKER set: rule 3.
                unsafe { self.trailer().wake_join() }
            }));
            if !self.header().state.unset_waker_after_complete().is_join_interested() {
                // SAFETY: the JoinHandle is gone and left the slot to us
                // (it saw JOIN_WAKER set): rule 3.
                unsafe { self.trailer().set_waker(None) }
            }
        }
    }

    /// # Safety
    ///
    /// The reference count is zero.
    unsafe fn dealloc(self) {
        // SAFETY: allocated by `Box::new` as a `Cell<F, S>` in RawTask::new
        // (the invariant on `cell`), and no references remain. The stage is
        // normally `Consumed` by now; if a task is dropped without having
        // been completed or shut down, the future is dropped here (allowed
        // by `new_local_task`'s contract only where that is sound).
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) })
    }
}

/// Polls the future, catching a panic; on `Ready` or a panic drops the
/// future (on this thread) and stores the result.
///
/// # Safety
///
/// The caller holds `RUNNING`.
unsafe fn poll_future<F: Future, S>(core: &Core<F, S>, id: TaskId, cx: &mut Context<'_>) -> Poll<()> {
    // `task::id()` for the future's poll and drop; restored before the
    // output is stored (its destructor may run in the `JoinHandle`).
    let current = CurrentGuard::enter(id);
    let polled = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: RUNNING is held (caller).
        let poll = unsafe { core.poll(cx) };
        if poll.is_ready() {
            // SAFETY: as above. The future goes before the output is stored.
            unsafe { core.drop_future_or_output() }
        }
        poll
    }));
    let output = match polled {
        Ok(Poll::Pending) => return Poll::Pending,
        Ok(Poll::Ready(output)) => Ok(output),
        Err(payload) => {
            // The future panicked in `poll` or in its destructor. Drop what
            // is left (nothing, if the destructor ran); a second panic from
            // it is dropped on the floor.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: RUNNING is held.
                unsafe { core.drop_future_or_output() }
            }));
            Err(JoinError::panic(id, payload))
        }
    };
    drop(current);
    // SAFETY: RUNNING is held and the stage is `Consumed`.
    unsafe { core.store_output(output) };
    Poll::Ready(())
}

/// Drops the future (on this thread) and stores a `JoinError`: cancelled, or
/// panicked if the future's destructor panicked.
///
/// # Safety
///
/// The caller holds `RUNNING`.
unsafe fn cancel_task<F: Future, S>(core: &Core<F, S>, id: TaskId) {
    let current = CurrentGuard::enter(id);
    let dropped = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: RUNNING is held (caller).
        unsafe { core.drop_future_or_output() }
    }));
    let err = match dropped {
        Ok(()) => JoinError::cancelled(id),
        Err(payload) => JoinError::panic(id, payload),
    };
    drop(current);
    // SAFETY: RUNNING is held and the stage is `Consumed`.
    unsafe { core.store_output(Err(err)) }
}

// The vtable entries. Each: `ptr` is a live cell's header allocated for
// `(F, S)` (guaranteed by `RawTask`'s vtable dispatch), and the reference
// named in `Vtable`'s docs comes with it.

/// `Vtable::poll`.
///
/// # Safety
///
/// See above; on a thread allowed to poll the future.
pub(super) unsafe fn poll<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: see above.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll()
}

/// `Vtable::schedule`.
///
/// # Safety
///
/// See above; the transferred reference and `NOTIFIED` are the caller's.
pub(super) unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: see above.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: the caller took a reference for this Notified.
    let notified = Notified(unsafe { Task::from_raw(harness.raw()) });
    // The caller holds a second reference across this call, so the
    // scheduler borrowed from the cell outlives it.
    harness.core().scheduler.schedule(notified);
}

/// `Vtable::dealloc`.
///
/// # Safety
///
/// See above; the reference count is zero.
pub(super) unsafe fn dealloc<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: see above.
    unsafe { Harness::<F, S>::from_raw(ptr).dealloc() }
}

/// `Vtable::try_read_output`.
///
/// # Safety
///
/// See above; `dst` points to a `Poll<Result<F::Output, JoinError>>`.
pub(super) unsafe fn try_read_output<F: Future + 'static, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: see above.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if can_read_output(harness.header(), harness.trailer(), waker) {
        // SAFETY: COMPLETE was observed by the JoinHandle.
        let output = unsafe { harness.core().take_output() };
        // SAFETY: `dst`'s type is the caller's contract; the old value there
        // (a `Poll::Pending` or an earlier result) is dropped.
        unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(output) };
    }
}

/// Whether the task is complete; if not, makes sure `waker` is the join
/// waker the runtime will wake.
fn can_read_output(header: &Header, trailer: &Trailer, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    if snapshot.is_complete() {
        return true;
    }
    let stored = if snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER is set: the slot is read-only (rule 2).
        if unsafe { trailer.will_wake(waker) } {
            return false;
        }
        // Take the slot back (rule 1), then store the new waker.
        header.state.unset_waker().and_then(|_| set_join_waker(header, trailer, waker.clone()))
    } else {
        set_join_waker(header, trailer, waker.clone())
    };
    match stored {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            true
        }
    }
}

/// Stores `waker` and sets `JOIN_WAKER`, unless the task completed first.
fn set_join_waker(header: &Header, trailer: &Trailer, waker: Waker) -> Result<Snapshot, Snapshot> {
    // SAFETY: JOIN_WAKER is clear and we are the JoinHandle: rule 1.
    unsafe { trailer.set_waker(Some(waker)) };
    let res = header.state.set_join_waker();
    if res.is_err() {
        // SAFETY: completed first, so JOIN_WAKER stayed clear: still rule 1.
        unsafe { trailer.set_waker(None) };
    }
    res
}

/// `Vtable::drop_join_handle`.
///
/// # Safety
///
/// See above; the caller is the `JoinHandle`.
pub(super) unsafe fn drop_join_handle<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: see above.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let cleanup = harness.header().state.transition_to_join_handle_dropped();
    if cleanup.drop_output {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: COMPLETE was set while JOIN_INTEREST was: the stage is
            // the JoinHandle's (the invariant on `Core::stage`).
            unsafe { harness.core().drop_future_or_output() }
        }));
    }
    if cleanup.drop_waker {
        // SAFETY: the transition left JOIN_WAKER clear for us: rule 1.
        unsafe { harness.trailer().set_waker(None) }
    }
    // SAFETY: the JoinHandle's reference.
    unsafe { harness.raw().drop_reference() }
}

/// `Vtable::shutdown`.
///
/// # Safety
///
/// See above; on a thread allowed to drop the future.
pub(super) unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: see above.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    match harness.header().state.transition_to_shutdown() {
        TransitionToShutdown::Cancel => {
            // SAFETY: the transition gave us RUNNING.
            unsafe { cancel_task(harness.core(), harness.id()) };
            // The Task's reference now plays the runner's part.
            harness.complete();
        }
        // SAFETY: the Task's reference; the runner will see CANCELLED.
        TransitionToShutdown::NotIdle => unsafe { harness.raw().drop_reference() },
    }
}
