//! Redis's intset: sorted distinct integers in one `Vec<u8>`, all stored at
//! the narrowest width (2, 4 or 8 bytes, little-endian) that fits the
//! widest. A set of small integers takes 2 bytes a member; adding a wider
//! one upgrades every element once. Membership is a binary search.

/// Sorted integers at a common width; see the module docs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct IntSet {
    width: usize,
    data: Vec<u8>,
}

fn width_for(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl Default for IntSet {
    fn default() -> IntSet {
        IntSet { width: 2, data: Vec::new() }
    }
}

impl IntSet {
    pub(crate) fn new() -> IntSet {
        IntSet::default()
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len() / self.width
    }

    /// Bytes per element: 2, 4 or 8.
    #[cfg(test)]
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> i64 {
        let b = &self.data[i * self.width..(i + 1) * self.width];
        match self.width {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => i64::from_le_bytes(b.try_into().expect("8 bytes")),
        }
    }

    fn encode(width: usize, v: i64, out: &mut [u8]) {
        match width {
            2 => out.copy_from_slice(&(v as i16).to_le_bytes()),
            4 => out.copy_from_slice(&(v as i32).to_le_bytes()),
            _ => out.copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// `Ok(index)` of `v`, or `Err(insertion point)`.
    pub(crate) fn search(&self, v: i64) -> Result<usize, usize> {
        if width_for(v) > self.width {
            // Wider than every element: below the first or past the last.
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub(crate) fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Inserts `v`; returns whether it was absent.
    pub(crate) fn insert(&mut self, v: i64) -> bool {
        let w = width_for(v);
        if w > self.width {
            self.upgrade(w);
        }
        match self.search(v) {
            Ok(_) => false,
            Err(i) => {
                let at = i * self.width;
                let mut bytes = [0u8; 8];
                IntSet::encode(self.width, v, &mut bytes[..self.width]);
                self.data.splice(at..at, bytes[..self.width].iter().copied());
                true
            }
        }
    }

    /// Re-encodes every element at `width` bytes.
    fn upgrade(&mut self, width: usize) {
        let mut data = vec![0u8; self.len() * width];
        for i in 0..self.len() {
            IntSet::encode(width, self.get(i), &mut data[i * width..(i + 1) * width]);
        }
        self.width = width;
        self.data = data;
    }

    /// Removes `v`; returns whether it was present. (Never downgrades, as
    /// Redis.)
    pub(crate) fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(i) => {
                self.remove_at(i);
                true
            }
            Err(_) => false,
        }
    }

    pub(crate) fn remove_at(&mut self, i: usize) -> i64 {
        let v = self.get(i);
        self.data.drain(i * self.width..(i + 1) * self.width);
        v
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// The smallest and largest elements.
    pub(crate) fn min_max(&self) -> Option<(i64, i64)> {
        if self.len() == 0 {
            None
        } else {
            Some((self.get(0), self.get(self.len() - 1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_with_width_upgrades() {
        let mut s = IntSet::new();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!((s.width(), s.len()), (2, 2));
        assert!(s.insert(100_000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width(), 8);
        assert!(s.insert(i64::MAX));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -3, 5, 100_000, i64::MAX]);
        assert!(s.contains(100_000) && !s.contains(6));
        assert_eq!(s.min_max(), Some((i64::MIN, i64::MAX)));
        assert!(s.remove(i64::MIN));
        assert!(!s.remove(i64::MIN));
        assert_eq!(s.width(), 8);
        assert_eq!(s.remove_at(0), -3);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn narrow_search_of_wide_values() {
        let mut s = IntSet::new();
        for v in [1, 2, 3] {
            s.insert(v);
        }
        assert_eq!(s.search(1 << 40), Err(3));
        assert_eq!(s.search(-(1 << 40)), Err(0));
        assert_eq!(s.search(2), Ok(1));
        assert_eq!(IntSet::new().min_max(), None);
    }
}
