//! A value set once, by the first caller, with an async initializer.

use super::Mutex;
use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

/// A cell set once, whose initializer may await: the async face of
/// [`std::sync::OnceLock`], for a client, a pool or a config that is built
/// lazily by the first task that needs it.
///
/// Concurrent callers of [`get_or_init`](OnceCell::get_or_init) queue on an
/// async lock, so one initializer runs at a time and the others park until
/// it is done, then find the value. If the running initializer is
/// cancelled (its future dropped) or fails, the next caller in the queue
/// runs its own.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use spindle_rt::sync::OnceCell;
///
/// let config: OnceCell<String> = OnceCell::new();
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let first = config.get_or_init(|| async { "loaded".to_owned() }).await;
///     let again = config.get_or_init(|| async { unreachable!("already set") }).await;
///     assert_eq!((first.as_str(), again.as_str()), ("loaded", "loaded"));
/// });
/// # Ok(())
/// # }
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    /// Held by the initializer running now; others wait on it.
    init: Mutex<()>,
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell { value: OnceLock::new(), init: Mutex::new(()) }
    }

    /// [`new`](OnceCell::new) as a `const fn`, for a cell in a `static`
    /// (tokio's `const_new`). Not under `--cfg loom`.
    #[cfg(not(loom))]
    pub const fn const_new() -> OnceCell<T> {
        OnceCell { value: OnceLock::new(), init: Mutex::const_new(()) }
    }

    /// A cell holding `value` if it is `Some`, else empty. As tokio's
    /// `new_with`.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        value.map_or_else(OnceCell::new, OnceCell::from)
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// Whether the value is set.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Sets the value now, if the cell is empty and no initializer is
    /// running (as tokio's `set`).
    ///
    /// # Errors
    ///
    /// Gives `value` back: in [`SetError::AlreadyInitializedError`] if
    /// the cell is set, in [`SetError::InitializingError`] if a
    /// [`get_or_init`](OnceCell::get_or_init) is making the value now (its
    /// value will stand).
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        // Initializers hold `init` while they run; holding it here keeps
        // one from starting until the value is in.
        let Ok(_turn) = self.init.try_lock() else {
            return Err(SetError::InitializingError(value));
        };
        self.value.set(value).map_err(SetError::AlreadyInitializedError)
    }

    /// The value, running `init` to make it if the cell is empty; see the
    /// type's docs for concurrent callers.
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self.get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(init().await) }).await {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// The value, running the fallible `init` to make it if the cell is
    /// empty. An error leaves the cell empty for the next caller.
    ///
    /// # Errors
    ///
    /// `init`'s error.
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        let _turn = self.init.lock().await;
        if let Some(value) = self.value.get() {
            // Set by the initializer we queued behind.
            return Ok(value);
        }
        let value = init().await?;
        // `set` takes `init` too, so nothing raced us: the cell is empty.
        let _ = self.value.set(value);
        Ok(self.value.get().expect("set just above"))
    }

    /// The value, if set, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        self.value.take()
    }
}

/// Why [`OnceCell::set`] refused a value, which it hands back (tokio's
/// `SetError`).
#[derive(Clone, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell was already set.
    AlreadyInitializedError(T),
    /// An initializer was running; its value will be the cell's.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell was already set.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether an initializer was running.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }

    /// The value that was not set.
    pub fn into_inner(self) -> T {
        match self {
            SetError::AlreadyInitializedError(value) | SetError::InitializingError(value) => value,
        }
    }
}

/// Names the case, without the value (so `T` need not be `Debug`).
impl<T> fmt::Debug for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError(..)"),
            SetError::InitializingError(_) => f.write_str("InitializingError(..)"),
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("the OnceCell is already set"),
            SetError::InitializingError(_) => f.write_str("the OnceCell is being initialized"),
        }
    }
}

impl<T> std::error::Error for SetError<T> {}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

/// A new cell holding a clone of this one's value, if it is set (as
/// tokio's).
impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        match self.get() {
            Some(value) => OnceCell::from(value.clone()),
            None => OnceCell::new(),
        }
    }
}

/// A cell already set to `value`.
impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell { value: OnceLock::from(value), init: Mutex::new(()) }
    }
}

/// Equal when both are unset, or both set to equal values.
impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell").field("value", &self.value.get()).finish()
    }
}
