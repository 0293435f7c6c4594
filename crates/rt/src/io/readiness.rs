//! The readiness bits a [`ScheduledIo`](super::ScheduledIo) latches, the two
//! directions a task waits in, and the event a wait returns.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// A set of readiness flags: a union of [`READABLE`](Readiness::READABLE),
/// [`WRITABLE`](Readiness::WRITABLE), [`READ_CLOSED`](Readiness::READ_CLOSED),
/// [`WRITE_CLOSED`](Readiness::WRITE_CLOSED) and [`ERROR`](Readiness::ERROR),
/// possibly empty.
///
/// The bits are those of [`spindle_poll::Event::flags`], so a driver turns a
/// poller event into readiness with [`Readiness::from_event`] and no table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Readiness(u8);

impl Readiness {
    /// Nothing is ready.
    pub const EMPTY: Readiness = Readiness(0);
    /// A read would not block.
    pub const READABLE: Readiness = Readiness(spindle_poll::Event::READABLE);
    /// A write would not block.
    pub const WRITABLE: Readiness = Readiness(spindle_poll::Event::WRITABLE);
    /// The peer will send no more (it shut down its write side, or hung up).
    /// Final: never cleared by [`ScheduledIo::clear_readiness`](super::ScheduledIo::clear_readiness).
    pub const READ_CLOSED: Readiness = Readiness(spindle_poll::Event::READ_CLOSED);
    /// Writes can no longer succeed (the peer hung up). Final, like
    /// [`READ_CLOSED`](Readiness::READ_CLOSED).
    pub const WRITE_CLOSED: Readiness = Readiness(spindle_poll::Event::WRITE_CLOSED);
    /// An error is pending on the descriptor; the next read or write returns
    /// it. Wakes waiters in both directions.
    pub const ERROR: Readiness = Readiness(spindle_poll::Event::ERROR);
    /// Every flag.
    pub const ALL: Readiness = Readiness(
        Self::READABLE.0 | Self::WRITABLE.0 | Self::READ_CLOSED.0 | Self::WRITE_CLOSED.0 | Self::ERROR.0,
    );

    /// The readiness a poller event reports.
    pub const fn from_event(ev: &spindle_poll::Event) -> Readiness {
        Readiness(ev.flags() & Self::ALL.0)
    }

    /// The flags as bits (those of [`spindle_poll::Event`]).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The readiness with these bits; bits outside [`ALL`](Readiness::ALL)
    /// are dropped.
    pub const fn from_bits_truncate(bits: u8) -> Readiness {
        Readiness(bits & Self::ALL.0)
    }

    /// No flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Every flag of `other` is set in `self`.
    pub const fn contains(self, other: Readiness) -> bool {
        self.0 & other.0 == other.0
    }

    /// Some flag of `other` is set in `self`.
    pub const fn intersects(self, other: Readiness) -> bool {
        self.0 & other.0 != 0
    }

    /// The flags set in both.
    pub const fn intersection(self, other: Readiness) -> Readiness {
        Readiness(self.0 & other.0)
    }

    /// The flags of `self` not in `other`.
    pub const fn difference(self, other: Readiness) -> Readiness {
        Readiness(self.0 & !other.0)
    }

    /// [`READABLE`](Readiness::READABLE) is set.
    pub const fn is_readable(self) -> bool {
        self.intersects(Self::READABLE)
    }

    /// [`WRITABLE`](Readiness::WRITABLE) is set.
    pub const fn is_writable(self) -> bool {
        self.intersects(Self::WRITABLE)
    }

    /// [`READ_CLOSED`](Readiness::READ_CLOSED) is set.
    pub const fn is_read_closed(self) -> bool {
        self.intersects(Self::READ_CLOSED)
    }

    /// [`WRITE_CLOSED`](Readiness::WRITE_CLOSED) is set.
    pub const fn is_write_closed(self) -> bool {
        self.intersects(Self::WRITE_CLOSED)
    }

    /// [`ERROR`](Readiness::ERROR) is set.
    pub const fn is_error(self) -> bool {
        self.intersects(Self::ERROR)
    }
}

impl BitOr for Readiness {
    type Output = Readiness;
    fn bitor(self, rhs: Readiness) -> Readiness {
        Readiness(self.0 | rhs.0)
    }
}

impl BitOrAssign for Readiness {
    fn bitor_assign(&mut self, rhs: Readiness) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Readiness, &str); 5] = [
            (Readiness::READABLE, "READABLE"),
            (Readiness::WRITABLE, "WRITABLE"),
            (Readiness::READ_CLOSED, "READ_CLOSED"),
            (Readiness::WRITE_CLOSED, "WRITE_CLOSED"),
            (Readiness::ERROR, "ERROR"),
        ];
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                f.write_str(if first { "" } else { " | " })?;
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("EMPTY")?;
        }
        Ok(())
    }
}

/// Tokio's name for [`Readiness`], which
/// [`TcpStream::ready`](crate::net::TcpStream::ready) and the
/// [`AsyncFd`](crate::io::unix::AsyncFd) guards return: the same flags,
/// `is_readable`, `is_writable`, `is_read_closed`, `is_write_closed`,
/// `is_error`, `is_empty`.
pub type Ready = Readiness;

/// Which half of a descriptor a task waits for. Each direction has its own
/// waker slot, so a reader and a writer on one socket never wake each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Waits for [`READABLE`](Readiness::READABLE) or
    /// [`READ_CLOSED`](Readiness::READ_CLOSED) (or [`ERROR`](Readiness::ERROR)).
    Read,
    /// Waits for [`WRITABLE`](Readiness::WRITABLE) or
    /// [`WRITE_CLOSED`](Readiness::WRITE_CLOSED) (or [`ERROR`](Readiness::ERROR)).
    Write,
}

impl Direction {
    /// The flags that end a wait in this direction. An error ends both: the
    /// next read and the next write both report it.
    pub const fn mask(self) -> Readiness {
        match self {
            Direction::Read => {
                Readiness(Readiness::READABLE.0 | Readiness::READ_CLOSED.0 | Readiness::ERROR.0)
            }
            Direction::Write => {
                Readiness(Readiness::WRITABLE.0 | Readiness::WRITE_CLOSED.0 | Readiness::ERROR.0)
            }
        }
    }
}

/// What [`ScheduledIo::poll_ready`](super::ScheduledIo::poll_ready) saw: the
/// ready flags of the direction waited in, and the tick (the generation of
/// the readiness word) at which it saw them. Hand it back to
/// [`ScheduledIo::clear_readiness`](super::ScheduledIo::clear_readiness) on
/// `WouldBlock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyEvent {
    pub(crate) ready: Readiness,
    pub(crate) tick: usize,
    pub(crate) shutdown: bool,
}

impl ReadyEvent {
    /// The flags that were ready, limited to the direction waited in. After
    /// [`shutdown`](super::ScheduledIo::shutdown) this is the whole
    /// direction's mask, so that IO is attempted and fails rather than hangs;
    /// check [`is_shutdown`](ReadyEvent::is_shutdown) first.
    pub const fn ready(&self) -> Readiness {
        self.ready
    }

    /// The tick at which the flags were seen. Only its equality with a later
    /// tick means anything (it wraps).
    pub const fn tick(&self) -> usize {
        self.tick
    }

    /// The driver shut down: no further readiness will ever be reported, and
    /// the IO object should fail its operation with an error instead of
    /// trying the system call.
    pub const fn is_shutdown(&self) -> bool {
        self.shutdown
    }
}
