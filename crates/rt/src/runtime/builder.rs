//! [`Builder`]: configures and builds a [`Runtime`].

use super::current_thread::Core;
use super::Runtime;
use spindle_loop::{Backend, Loop};
use std::io;

/// Configures a [`Runtime`].
///
/// ```
/// use spindle_rt::runtime::Builder;
///
/// let rt = Builder::new_current_thread().build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    backend: Option<Backend>,
}

impl Builder {
    /// A builder for the current-thread runtime: every task runs on the
    /// thread that builds it and calls [`Runtime::block_on`].
    pub fn new_current_thread() -> Builder {
        Builder { backend: None }
    }

    /// The poller backend of the runtime's loop (default: the one named by
    /// `SPINDLE_POLLER`, epoll if unset; see [`Loop::new`]).
    pub fn backend(&mut self, backend: Backend) -> &mut Builder {
        self.backend = Some(backend);
        self
    }

    /// Builds the runtime on a new spindle-loop `Loop`.
    ///
    /// # Errors
    /// The kernel refusing a poller, or an unknown `SPINDLE_POLLER`.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let lp = match self.backend {
            Some(b) => Loop::with_backend(b)?,
            None => Loop::new()?,
        };
        let core = Core::new(lp)?;
        Ok(Runtime::from_core(core))
    }
}
