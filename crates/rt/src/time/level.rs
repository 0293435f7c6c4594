//! One level of the wheel: 64 slot lists and a bitmap of the non-empty ones.
//!
//! Level `L` has slots `64^L` ticks wide and spans `64^(L+1)` ticks. Where a
//! deadline goes is decided by the highest bit in which it differs from the
//! wheel's now (`now ^ deadline`): differing only in bits 0..6 means level 0,
//! in bits 6..12 level 1, and so on. So a level only ever holds deadlines in
//! the same `64^(L+1)`-aligned block as now, every occupied slot is at or
//! after now's own slot in that level, and a slot never holds two different
//! laps of the wheel. Finding the next occupied slot is then one shift and
//! one `trailing_zeros` of the occupancy bitmap, never a scan of 64 lists.

use super::entry::List;

/// Slots per level (a `u64` bitmap's worth).
pub const SLOTS: usize = 64;

/// log2 of [`SLOTS`].
pub(crate) const SLOT_BITS: u32 = 6;

/// Levels in the wheel; together they span `64^6` ms, about 2.2 years.
pub const LEVELS: usize = 6;

/// Ticks the wheel's levels span: a deadline `d` with `now ^ d` at or above
/// this goes to the overflow list. `2^36` ms is about 795 days.
pub const WHEEL_SPAN: u64 = 1 << (SLOT_BITS as u64 * LEVELS as u64);

/// The level `deadline` belongs on when the wheel is at `now`, or `LEVELS`
/// for the overflow list. `deadline` must be `>= now`.
pub(crate) fn level_for(now: u64, deadline: u64) -> usize {
    // `| (SLOTS - 1)` makes equal values land on level 0 rather than
    // asking for the leading zeros of 0.
    let masked = (now ^ deadline) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros();
    ((significant / SLOT_BITS) as usize).min(LEVELS)
}

/// Width of one slot of `level`, in ticks.
pub(crate) fn slot_width(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * level)
}

/// The index of `tick`'s slot in `level`.
pub(crate) fn slot_of(level: usize, tick: u64) -> usize {
    ((tick >> (SLOT_BITS as usize * level)) as usize) & (SLOTS - 1)
}

/// One level: its slots and which of them are non-empty.
pub(crate) struct Level {
    /// Bit `i` is set exactly when `slots[i]` is non-empty.
    pub(crate) occupied: u64,
    pub(crate) slots: [List; SLOTS],
}

impl Level {
    pub(crate) const fn new() -> Self {
        Level { occupied: 0, slots: [List::EMPTY; SLOTS] }
    }

    /// The first occupied slot at or after `now`'s slot in this level, and
    /// the tick it starts at. Slots before now's are always empty (see the
    /// module docs), so no wrap-around is needed.
    pub(crate) fn next_occupied(&self, level: usize, now: u64) -> Option<(usize, u64)> {
        let current = slot_of(level, now);
        let ahead = self.occupied & (u64::MAX << current);
        if ahead == 0 {
            return None;
        }
        let slot = ahead.trailing_zeros() as usize;
        let width = slot_width(level);
        // Start of the block this level spans, then the slot within it; at
        // the top level the block is the whole wheel span.
        let block = now & !(width * SLOTS as u64 - 1);
        let start = block + slot as u64 * width;
        // now's own slot started before now; it is due at now.
        Some((slot, start.max(now)))
    }

    /// Records that `slot` has just become non-empty or empty.
    pub(crate) fn set_occupied(&mut self, slot: usize, occupied: bool) {
        if occupied {
            self.occupied |= 1 << slot;
        } else {
            self.occupied &= !(1 << slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_boundaries_from_zero() {
        assert_eq!(level_for(0, 0), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(0, 4095), 1);
        assert_eq!(level_for(0, 4096), 2);
        assert_eq!(level_for(0, (1 << 18) - 1), 2);
        assert_eq!(level_for(0, 1 << 18), 3);
        assert_eq!(level_for(0, (1 << 24) - 1), 3);
        assert_eq!(level_for(0, 1 << 24), 4);
        assert_eq!(level_for(0, (1 << 30) - 1), 4);
        assert_eq!(level_for(0, 1 << 30), 5);
        assert_eq!(level_for(0, WHEEL_SPAN - 1), 5);
        assert_eq!(level_for(0, WHEEL_SPAN), LEVELS);
        assert_eq!(level_for(0, u64::MAX), LEVELS);
    }

    #[test]
    fn level_depends_on_alignment_not_distance() {
        // One tick ahead, but across a 64-tick boundary: level 1.
        assert_eq!(level_for(63, 64), 1);
        // 63 ticks ahead inside one block: level 0.
        assert_eq!(level_for(64, 127), 0);
    }

    #[test]
    fn slot_math() {
        assert_eq!(slot_of(0, 65), 1);
        assert_eq!(slot_of(1, 65), 1);
        assert_eq!(slot_of(1, 4095), 63);
        assert_eq!(slot_width(2), 4096);
    }

    #[test]
    fn next_occupied_uses_bitmap() {
        let mut l = Level::new();
        assert_eq!(l.next_occupied(1, 0), None);
        l.set_occupied(3, true);
        assert_eq!(l.next_occupied(1, 0), Some((3, 192)));
        assert_eq!(l.next_occupied(1, 4096 + 10), Some((3, 4096 + 192)));
        l.set_occupied(3, false);
        assert_eq!(l.next_occupied(1, 0), None);
    }
}
