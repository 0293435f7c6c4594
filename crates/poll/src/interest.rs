//! What a registration asks for: [`Token`], [`Interest`] and [`Mode`].

use std::fmt;
use std::ops::BitOr;

/// The caller's name for a registration, handed back in every [`Event`].
///
/// Usually an index into the caller's table of connections.
///
/// [`Event`]: crate::Event
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub usize);

/// Which readiness to report: readable, writable, or both. Never empty.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

const READ: u8 = 0b01;
const WRITE: u8 = 0b10;

impl Interest {
    /// Report when a read would not block (data, end of stream, a pending
    /// connection on a listener, or an error).
    pub const READABLE: Interest = Interest(READ);
    /// Report when a write would not block (space in the send buffer, a
    /// finished non-blocking connect, or an error).
    pub const WRITABLE: Interest = Interest(WRITE);
    /// Both.
    pub const BOTH: Interest = Interest(READ | WRITE);

    /// Whether readability is asked for.
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Whether writability is asked for.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// `self` with `other` added.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without `other`, or `None` if nothing would be left (an
    /// interest is never empty: to stop watching, delete the registration).
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        if left == 0 {
            None
        } else {
            Some(Interest(left))
        }
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            _ => f.write_str("WRITABLE"),
        }
    }
}

/// How and how often readiness is reported; see the [crate docs](crate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Reported on every wait while the condition holds.
    #[default]
    Level,
    /// Reported when the condition changes; the caller must drain until
    /// `WouldBlock`. epoll only.
    Edge,
    /// Level-triggered, reported once, then disarmed until
    /// [`Poller::modify`](crate::Poller::modify).
    Oneshot,
    /// Level-triggered, and only one of several pollers watching the same
    /// file is woken per event (`EPOLLEXCLUSIVE`). epoll only; may be given to
    /// [`Poller::add`](crate::Poller::add) but not to `modify` (the kernel
    /// forbids changing an exclusive registration: delete and add again).
    /// The kernel also refuses `EPOLLRDHUP` beside it, so a peer's half-close
    /// is not reported as [`Event::READ_CLOSED`](crate::Event::READ_CLOSED);
    /// the read returning 0 says it.
    Exclusive,
}

impl Mode {
    /// The mode's name as used in error messages and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Level => "level",
            Mode::Edge => "edge",
            Mode::Oneshot => "oneshot",
            Mode::Exclusive => "exclusive",
        }
    }
}
