//! The task's `Waker`: a `RawWakerVTable` over the cell pointer.
//!
//! Each `Waker` owns one counted reference to the cell, so a waker kept by
//! a socket or a timer keeps the cell (and the scheduler in it) alive after
//! the task completed and every other handle is gone: a late wake then
//! finds `COMPLETE`, does nothing, and drops its reference, perhaps the
//! last. The vtable is one static, not one per task type: everything typed
//! is reached through the header's own vtable.

use super::raw::{Header, RawTask};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// One static, so that `Waker::will_wake` recognises two wakers of the
/// same task.
static WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

/// A waker for the duration of a poll that borrows the runner's reference
/// instead of taking one (a clone takes its own).
///
/// # Safety
///
/// The caller holds a reference to `raw` for as long as the returned waker
/// (or any borrow of it) is used; the waker must not be dropped as a
/// `Waker` (it is in a `ManuallyDrop`).
pub(crate) unsafe fn waker_ref(raw: RawTask) -> ManuallyDrop<Waker> {
    let raw_waker = RawWaker::new(raw.as_ptr().as_ptr() as *const (), &WAKER_VTABLE);
    // SAFETY: the vtable's functions uphold the RawWaker contract for a
    // pointer to a live cell (see each function).
    ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker) })
}

/// # Safety
///
/// `ptr` came from a `RawWaker` built with `WAKER_VTABLE`: a live cell's
/// header, with a reference held by (or borrowed for) that waker.
unsafe fn raw_task(ptr: *const ()) -> RawTask {
    // SAFETY: non-null and live by the caller's contract; the reference
    // travels with the waker.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: called by `Waker` on one of ours (the RawWaker contract).
    let raw = unsafe { raw_task(ptr) };
    raw.ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: as `clone_waker`; the waker's reference is consumed.
    unsafe { raw_task(ptr).wake_by_val() }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: as `clone_waker`; the waker's reference keeps the cell alive.
    unsafe { raw_task(ptr) }.wake_by_ref()
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: as `clone_waker`; the waker's reference is given up.
    unsafe { raw_task(ptr).drop_reference() }
}
