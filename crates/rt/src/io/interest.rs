//! [`Interest`]: which readiness a caller waits for (tokio's type of the
//! same name and shape).

use super::readiness::{Direction, Readiness};
use std::fmt;
use std::ops::{BitOr, BitOrAssign};

const READ: u8 = 0b01;
const WRITE: u8 = 0b10;

/// The readiness an IO object is registered for, or that a wait asks
/// about: [`READABLE`](Interest::READABLE), [`WRITABLE`](Interest::WRITABLE),
/// or both (`Interest::READABLE | Interest::WRITABLE`). Never empty.
///
/// Each maps to a [`Direction`] of the readiness latch; a wait for both
/// returns as soon as either direction is ready. A wait for one direction
/// also returns on that direction's closed and error flags (see
/// [`Direction::mask`]), so a reader learns of a hang-up.
///
/// ```
/// use spindle_rt::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert!(!Interest::READABLE.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Interest in reading: data, end of stream, a hang-up or an error.
    pub const READABLE: Interest = Interest(READ);
    /// Interest in writing: buffer space, a hang-up or an error.
    pub const WRITABLE: Interest = Interest(WRITE);

    /// Includes [`READABLE`](Interest::READABLE).
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Includes [`WRITABLE`](Interest::WRITABLE).
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// The union of `self` and `other` (the `|` operator, usable in
    /// `const`).
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// Every flag of `other` is in `self`.
    pub const fn contains(self, other: Interest) -> bool {
        self.0 & other.0 == other.0
    }

    /// The latch flags that end a wait for this interest: the union of
    /// its directions' [masks](Direction::mask).
    pub(crate) const fn mask(self) -> Readiness {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => {
                Readiness::from_bits_truncate(Direction::Read.mask().bits() | Direction::Write.mask().bits())
            }
            (false, true) => Direction::Write.mask(),
            _ => Direction::Read.mask(),
        }
    }

    /// The one direction this interest names, or `None` for both.
    pub(crate) const fn direction(self) -> Option<Direction> {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => None,
            (false, true) => Some(Direction::Write),
            _ => Some(Direction::Read),
        }
    }

    /// The same interest in the poller's terms.
    pub(crate) const fn to_poll(self) -> spindle_poll::Interest {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => spindle_poll::Interest::BOTH,
            (false, true) => spindle_poll::Interest::WRITABLE,
            _ => spindle_poll::Interest::READABLE,
        }
    }
}

impl From<Direction> for Interest {
    fn from(direction: Direction) -> Interest {
        match direction {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }
}

impl BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, rhs: Interest) {
        *self = self.add(rhs);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (false, true) => f.write_str("WRITABLE"),
            _ => f.write_str("READABLE"),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn masks_follow_the_directions() {
        assert_eq!(Interest::READABLE.mask(), Direction::Read.mask());
        assert_eq!(Interest::WRITABLE.mask(), Direction::Write.mask());
        let both = Interest::READABLE | Interest::WRITABLE;
        assert_eq!(both.mask(), Direction::Read.mask() | Direction::Write.mask());
        assert_eq!(both.direction(), None);
        assert_eq!(Interest::WRITABLE.direction(), Some(Direction::Write));
        assert!(both.contains(Interest::WRITABLE) && !Interest::READABLE.contains(both));
        assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
    }
}
