//! The task cell (one heap allocation per task) and the type-erased pointer
//! to it, [`RawTask`], through which every handle reaches the cell.
//!
//! The cell is `#[repr(C)]` with the non-generic [`Header`] first, so a
//! pointer to the header is a pointer to the cell. Handles that do not know
//! the future's type (`JoinHandle<T>`, `Waker`) or know neither type reach
//! the typed code through the header's [`Vtable`], whose functions are
//! instantiated for one `(F, S)` pair in `harness.rs`.

use super::error::JoinError;
use super::harness;
use super::state::TransitionToNotifiedByVal;
use super::state::{RefDec, State, TransitionToNotifiedAndCancel, TransitionToNotifiedByRef};
use super::{Schedule, TaskId};
use crate::loom::UnsafeCell;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// The part of the cell every handle can read without knowing `F` or `S`.
pub(crate) struct Header {
    /// Flags and reference count; see `state.rs`.
    pub(crate) state: State,
    /// The functions for this cell's `(F, S)`. Invariant: instantiated with
    /// the very types the cell was allocated with (set once, in `Cell::new`).
    pub(crate) vtable: &'static Vtable,
    /// The scheduler-given id, for errors, debugging and reporting.
    pub(crate) id: TaskId,
    /// Where the task was spawned (`#[track_caller]` up to the spawn call),
    /// for a sysmon-style "task held a worker too long" report.
    pub(crate) spawned_at: &'static Location<'static>,
    /// The task's slot in its scheduler's owned-task list, so removal needs
    /// no lookup. Written when the task is bound, before any other thread
    /// can see it, and read under the list's lock: `Relaxed` suffices.
    pub(crate) owned_slot: std::sync::atomic::AtomicUsize,
}

/// The type-erased operations on a cell. Each takes a pointer to a live
/// cell's header, and each documents which reference it consumes.
pub(crate) struct Vtable {
    /// Runs the task once; consumes the `Notified`'s reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hands a new `Notified` to the scheduler; transfers one reference.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the cell; the reference count must be zero.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: if complete, writes `Poll::Ready(output)` to the
    /// `*mut Poll<Result<F::Output, JoinError>>` it is given; otherwise
    /// registers the waker. Borrows the `JoinHandle`'s reference.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The `JoinHandle`'s drop; consumes its reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// `Task::shutdown`; consumes the `Task`'s reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

/// The vtable for `(F, S)`, a promoted constant (one per instantiation).
fn vtable<F: Future + 'static, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: harness::poll::<F, S>,
        schedule: harness::schedule::<F, S>,
        dealloc: harness::dealloc::<F, S>,
        try_read_output: harness::try_read_output::<F, S>,
        drop_join_handle: harness::drop_join_handle::<F, S>,
        shutdown: harness::shutdown::<F, S>,
    }
}

/// One task: header, scheduler and stage, join waker.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    /// First, so that `*mut Cell` and `*mut Header` are the same address.
    pub(crate) header: Header,
    /// The generic part that a runner uses.
    pub(crate) core: Core<F, S>,
    /// The generic-free part the `JoinHandle` shares with the runner.
    pub(crate) trailer: Trailer,
}

/// The scheduler and the future or its output.
pub(crate) struct Core<F: Future, S> {
    /// The scheduler this task belongs to. It lives in the cell (rather than
    /// in each handle) so that a `Waker`, which is two words, can reach it.
    /// Dropped with the cell, by whoever drops the last reference.
    pub(crate) scheduler: S,
    /// Invariant: accessed only by the holder of `RUNNING` while the task is
    /// not `COMPLETE`; after `COMPLETE`, only by the `JoinHandle` (if
    /// `JOIN_INTEREST` was set at completion) or else by the completing
    /// runner; and by the thread that frees the cell. The future is pinned:
    /// it is polled and dropped in place and never moved.
    stage: UnsafeCell<Stage<F>>,
}

/// What the cell holds of the task's work.
pub(crate) enum Stage<F: Future> {
    /// The future, not yet complete.
    Running(F),
    /// Its output, or why there is none; waiting for the `JoinHandle`.
    Finished(Result<F::Output, JoinError>),
    /// Neither: dropped, or taken by the `JoinHandle`.
    Consumed,
}

/// The join-waker slot.
pub(crate) struct Trailer {
    /// Invariant: the access rules 1-3 in `state.rs` (by `JOIN_INTEREST`,
    /// `JOIN_WAKER` and `COMPLETE`).
    waker: UnsafeCell<Option<Waker>>,
}

impl<F: Future, S> Core<F, S> {
    /// Polls the future.
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING` and the stage is `Running`.
    pub(crate) unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.stage.with_mut(|ptr| {
            // SAFETY: the caller holds RUNNING, so this is the only access
            // to the stage (the invariant on `stage`).
            let Stage::Running(future) = (unsafe { &mut *ptr }) else {
                unreachable!("a task was polled after it completed");
            };
            // SAFETY: the future lives in the heap cell, which never moves,
            // and it is dropped in place (`set_stage`): it stays pinned.
            let future = unsafe { Pin::new_unchecked(future) };
            future.poll(cx)
        })
    }

    /// Drops the future or the output, in place, on the calling thread.
    /// The stage is `Consumed` afterwards even if a destructor panics.
    ///
    /// # Safety
    ///
    /// The caller has exclusive access to the stage (the invariant on it).
    pub(crate) unsafe fn drop_future_or_output(&self) {
        // SAFETY: passed on from the caller.
        unsafe { self.set_stage(Stage::Consumed) }
    }

    /// Stores the output.
    ///
    /// # Safety
    ///
    /// As `drop_future_or_output`, and the stage is already `Consumed`.
    pub(crate) unsafe fn store_output(&self, output: Result<F::Output, JoinError>) {
        // SAFETY: passed on from the caller.
        unsafe { self.set_stage(Stage::Finished(output)) }
    }

    /// Takes the output out, leaving `Consumed`.
    ///
    /// # Safety
    ///
    /// The caller is the `JoinHandle` and has seen `COMPLETE`.
    pub(crate) unsafe fn take_output(&self) -> Result<F::Output, JoinError> {
        self.stage.with_mut(|ptr| {
            // SAFETY: after COMPLETE with JOIN_INTEREST set the stage is the
            // JoinHandle's alone (the invariant on `stage`).
            match std::mem::replace(unsafe { &mut *ptr }, Stage::Consumed) {
                Stage::Finished(output) => output,
                _ => panic!("JoinHandle polled after completion"),
            }
        })
    }

    /// # Safety
    ///
    /// The caller has exclusive access to the stage.
    unsafe fn set_stage(&self, stage: Stage<F>) {
        // SAFETY: exclusive access by the caller's contract. An assignment
        // drops the old value in place (the future never moves) and, if that
        // drop panics, still writes the new value while unwinding.
        self.stage.with_mut(|ptr| unsafe { *ptr = stage })
    }
}

impl Trailer {
    /// Replaces the join waker, dropping the old one.
    ///
    /// # Safety
    ///
    /// The caller owns the slot (rule 1, or rule 3 for the runtime).
    pub(crate) unsafe fn set_waker(&self, waker: Option<Waker>) {
        // SAFETY: exclusive access by the caller's contract.
        self.waker.with_mut(|ptr| unsafe { *ptr = waker })
    }

    /// Whether the stored waker would wake the same task as `waker`.
    ///
    /// # Safety
    ///
    /// `JOIN_WAKER` is set (the slot is read-only, rule 2) and the caller is
    /// the `JoinHandle`, whose presence keeps the slot from being dropped.
    pub(crate) unsafe fn will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: shared access by the caller's contract.
        self.waker.with(|ptr| unsafe { &*ptr }.as_ref().is_some_and(|w| w.will_wake(waker)))
    }

    /// Wakes the join waker.
    ///
    /// # Safety
    ///
    /// The caller is the runtime after setting `COMPLETE`, with `JOIN_WAKER`
    /// set (rule 3).
    pub(crate) unsafe fn wake_join(&self) {
        // SAFETY: the runtime owns the slot by the caller's contract; the
        // JoinHandle may still read it concurrently (will_wake), which is
        // also a shared access.
        self.waker.with(|ptr| match unsafe { &*ptr } {
            Some(waker) => waker.wake_by_ref(),
            None => unreachable!("JOIN_WAKER set but no join waker stored"),
        })
    }
}

/// A type-erased pointer to a task cell.
///
/// Invariant: every `RawTask` value is either owned by a handle (`Task`,
/// `Notified`, `JoinHandle`, `Waker`) that holds one counted reference, or
/// copied from such a handle for the duration of a call made while it is
/// alive. So the cell is alive whenever a `RawTask` is used, except in the
/// functions that explicitly consume the last reference.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

impl RawTask {
    /// Allocates a cell with three references (see `State::new`).
    pub(crate) fn new<F: Future + 'static, S: Schedule>(
        future: F,
        scheduler: S,
        id: TaskId,
        spawned_at: &'static Location<'static>,
    ) -> RawTask {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: vtable::<F, S>(),
                id,
                spawned_at,
                owned_slot: std::sync::atomic::AtomicUsize::new(usize::MAX),
            },
            core: Core { scheduler, stage: UnsafeCell::new(Stage::Running(future)) },
            trailer: Trailer { waker: UnsafeCell::new(None) },
        });
        RawTask { ptr: NonNull::from(Box::leak(cell)).cast() }
    }

    /// # Safety
    ///
    /// `ptr` points to a live cell's header, and the caller passes on (or
    /// borrows) one counted reference with it.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    /// The pointer, for a `RawWaker`.
    pub(crate) fn as_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    /// The header.
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the cell is alive while a RawTask is used (the invariant on
        // RawTask), and the header is only ever accessed through shared
        // references (its mutable part is atomic).
        unsafe { self.ptr.as_ref() }
    }

    /// The state word.
    pub(crate) fn state(&self) -> &State {
        &self.header().state
    }

    /// Runs the task; consumes a `Notified`'s reference.
    ///
    /// # Safety
    ///
    /// The caller gives up a `Notified`'s reference, on a thread allowed to
    /// poll this future.
    pub(crate) unsafe fn poll(self) {
        let poll = self.header().vtable.poll;
        // SAFETY: the vtable matches the cell (the invariant on `vtable`);
        // the reference is passed on from the caller.
        unsafe { poll(self.ptr) }
    }

    /// Hands a `Notified` to the scheduler.
    ///
    /// # Safety
    ///
    /// The caller has taken a reference for the `Notified` and set `NOTIFIED`.
    pub(crate) unsafe fn schedule(self) {
        let schedule = self.header().vtable.schedule;
        // SAFETY: as `poll`; the reference is the caller's new one.
        unsafe { schedule(self.ptr) }
    }

    /// Frees the cell.
    ///
    /// # Safety
    ///
    /// The reference count has reached zero.
    pub(crate) unsafe fn dealloc(self) {
        let dealloc = self.header().vtable.dealloc;
        // SAFETY: the vtable matches; no references remain (caller).
        unsafe { dealloc(self.ptr) }
    }

    /// See `Vtable::try_read_output`.
    ///
    /// # Safety
    ///
    /// The caller is the `JoinHandle` and `dst` points to a
    /// `Poll<Result<F::Output, JoinError>>` for this cell's `F`.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        let f = self.header().vtable.try_read_output;
        // SAFETY: passed on from the caller.
        unsafe { f(self.ptr, dst, waker) }
    }

    /// The `JoinHandle`'s drop.
    ///
    /// # Safety
    ///
    /// The caller is the `JoinHandle`, giving up its reference.
    pub(crate) unsafe fn drop_join_handle(self) {
        let f = self.header().vtable.drop_join_handle;
        // SAFETY: passed on from the caller.
        unsafe { f(self.ptr) }
    }

    /// `Task::shutdown`.
    ///
    /// # Safety
    ///
    /// The caller gives up a `Task`'s reference, on a thread allowed to drop
    /// this future.
    pub(crate) unsafe fn shutdown(self) {
        let f = self.header().vtable.shutdown;
        // SAFETY: passed on from the caller.
        unsafe { f(self.ptr) }
    }

    /// Takes one more reference (for a new handle).
    pub(crate) fn ref_inc(self) {
        self.state().ref_inc();
    }

    /// Drops one reference, freeing the cell if it was the last.
    ///
    /// # Safety
    ///
    /// The caller gives up one counted reference and does not use this
    /// `RawTask` again.
    pub(crate) unsafe fn drop_reference(self) {
        if self.state().ref_dec() == RefDec::Dealloc {
            // SAFETY: that was the last reference.
            unsafe { self.dealloc() }
        }
    }

    /// A wake that consumes a waker's reference.
    ///
    /// # Safety
    ///
    /// The caller gives up one counted reference.
    pub(crate) unsafe fn wake_by_val(self) {
        match self.state().transition_to_notified_by_val() {
            TransitionToNotifiedByVal::Submit => {
                // SAFETY: the transition took the Notified's reference and
                // set NOTIFIED. Our own reference keeps the cell (and the
                // scheduler in it) alive across `schedule`; then we drop it.
                unsafe {
                    self.schedule();
                    self.drop_reference();
                }
            }
            TransitionToNotifiedByVal::DoNothing => {}
            // SAFETY: the transition dropped the last reference.
            TransitionToNotifiedByVal::Dealloc => unsafe { self.dealloc() },
        }
    }

    /// A wake through a borrowed waker (whose reference keeps the cell alive).
    pub(crate) fn wake_by_ref(self) {
        if self.state().transition_to_notified_by_ref() == TransitionToNotifiedByRef::Submit {
            // SAFETY: the transition took the Notified's reference and set
            // NOTIFIED; the borrowed reference keeps the cell alive.
            unsafe { self.schedule() }
        }
    }

    /// `JoinHandle::abort` (the handle's reference keeps the cell alive).
    pub(crate) fn remote_abort(self) {
        if self.state().transition_to_notified_and_cancel() == TransitionToNotifiedAndCancel::Submit {
            // SAFETY: as in `wake_by_ref`: a runner on the scheduler's thread
            // will see CANCELLED and drop the future there.
            unsafe { self.schedule() }
        }
    }
}
