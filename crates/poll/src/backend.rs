//! Choosing a backend by name: `--poller` and `SPINDLE_POLLER`.

use std::fmt;
use std::io;
use std::str::FromStr;

/// The kernel interface a [`Poller`](crate::Poller) runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// `epoll(7)`: the kernel keeps the interest set and a ready list.
    #[default]
    Epoll,
    /// `poll(2)`: the whole set is copied in and scanned on every call.
    Poll,
    /// `select(2)`: like poll, with three fixed-size bitmaps that cannot
    /// hold a descriptor at or above `FD_SETSIZE` (1024).
    Select,
}

/// The environment variable that picks the backend.
pub const POLLER_ENV: &str = "SPINDLE_POLLER";

impl Backend {
    /// Every backend, in order of preference.
    pub const ALL: [Backend; 3] = [Backend::Epoll, Backend::Poll, Backend::Select];

    /// The backend's name: `epoll`, `poll` or `select`.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Epoll => "epoll",
            Backend::Poll => "poll",
            Backend::Select => "select",
        }
    }

    /// The backend named by `SPINDLE_POLLER`, or epoll when it is unset or
    /// empty.
    ///
    /// # Errors
    /// `InvalidInput` naming the bad value and the accepted ones.
    pub fn from_env() -> io::Result<Backend> {
        match std::env::var(POLLER_ENV) {
            Ok(v) if !v.trim().is_empty() => v.parse(),
            _ => Ok(Backend::default()),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = io::Error;
    fn from_str(s: &str) -> io::Result<Backend> {
        match s.trim().to_ascii_lowercase().as_str() {
            "epoll" => Ok(Backend::Epoll),
            "poll" => Ok(Backend::Poll),
            "select" => Ok(Backend::Select),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown poller backend {other:?}: expected epoll, poll or select"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_rejects_others() {
        for b in Backend::ALL {
            assert_eq!(b.name().parse::<Backend>().unwrap(), b);
        }
        assert_eq!(" EPOLL ".parse::<Backend>().unwrap(), Backend::Epoll);
        let err = "kqueue".parse::<Backend>().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("kqueue"), "{err}");
    }
}
