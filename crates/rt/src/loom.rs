//! One shim for every synchronisation primitive the lock-free core uses, so
//! that `--cfg loom` swaps them all for loom's model-checked versions (as
//! tokio does). Code in this crate imports atomics, `Arc`, `Mutex` and
//! `UnsafeCell` from here, never from `std` directly, wherever loom should
//! see them.

#![allow(unused_imports, dead_code)]

#[cfg(loom)]
pub(crate) use loom::{cell::UnsafeCell, hint, sync, thread};

#[cfg(not(loom))]
pub(crate) use std::{hint, sync, thread};

/// `std`'s `UnsafeCell` with loom's access API (`with`, `with_mut`), so
/// the same code compiles under both.
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a shared raw pointer to the contents.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a mutable raw pointer to the contents.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
