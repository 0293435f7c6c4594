//! Why a task has no output: [`JoinError`].

use super::TaskId;
use std::any::Any;
use std::fmt;

/// A task ended without an output: it was cancelled (aborted through its
/// [`JoinHandle`](super::JoinHandle), or shut down with its runtime), or its
/// future panicked (in `poll`, or in its destructor).
pub struct JoinError {
    id: TaskId,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic {
        payload: Payload,
        /// The payload's message if it was a string, copied out at capture
        /// time so that `Display` need not look into the payload.
        message: Option<String>,
    },
}

/// A panic payload.
struct Payload(Box<dyn Any + Send + 'static>);

// SAFETY: the payload is never reached through a shared reference: it is
// only moved (into `JoinError::into_panic`), and everything `&JoinError`
// offers reads `message` instead. So sharing a `&JoinError` across threads
// cannot touch the `!Sync` payload.
unsafe impl Sync for Payload {}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError { id, repr: Repr::Cancelled }
    }

    pub(crate) fn panic(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_owned())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        JoinError { id, repr: Repr::Panic { payload: Payload(payload), message } }
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task's future panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic { .. })
    }

    /// The id of the task.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicked.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().expect("`JoinError` reason is not a panic")
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic { payload, .. } => Ok(payload.0),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic { message: Some(m), .. } => write!(f, "task {} panicked with message {m:?}", self.id),
            Repr::Panic { message: None, .. } => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panic { message: Some(m), .. } => write!(f, "JoinError::Panic({}, {m:?}, ...)", self.id),
            Repr::Panic { message: None, .. } => write!(f, "JoinError::Panic({}, ...)", self.id),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
