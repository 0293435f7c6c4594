//! A command's arguments: ranges into a buffer, borrowed or owned.

use std::ops::Range;

/// Borrowed arguments: slices of the client's query buffer, so running a
/// command copies nothing it does not keep.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a> {
    buf: &'a [u8],
    ranges: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    /// Arguments at `ranges` of `buf`.
    pub fn new(buf: &'a [u8], ranges: &'a [Range<usize>]) -> Args<'a> {
        Args { buf, ranges }
    }

    /// Argument `i`.
    ///
    /// # Panics
    /// When `i` is out of range; commands check their arity first.
    pub fn get(&self, i: usize) -> &'a [u8] {
        &self.buf[self.ranges[i].clone()]
    }

    /// Number of arguments, the command's name included.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Each argument in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let buf = self.buf;
        self.ranges.iter().map(move |r| &buf[r.clone()])
    }

    /// An owned copy (MULTI's queue, a blocked command, the AOF).
    pub fn to_owned(&self) -> OwnedArgs {
        OwnedArgs::from_slices(self.iter())
    }
}

/// Owned arguments: one buffer and the ranges in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnedArgs {
    buf: Vec<u8>,
    ranges: Vec<Range<usize>>,
}

impl OwnedArgs {
    /// Builds owned arguments from slices.
    pub fn from_slices<'b>(it: impl IntoIterator<Item = &'b [u8]>) -> OwnedArgs {
        let mut o = OwnedArgs::default();
        for a in it {
            o.push(a);
        }
        o
    }

    /// Appends an argument.
    pub fn push(&mut self, a: &[u8]) {
        let s = self.buf.len();
        self.buf.extend_from_slice(a);
        self.ranges.push(s..self.buf.len());
    }

    /// Borrowed view.
    pub fn as_args(&self) -> Args<'_> {
        Args::new(&self.buf, &self.ranges)
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Heap bytes held: the arguments' bytes and their positions.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity() + self.ranges.capacity() * std::mem::size_of::<Range<usize>>()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}
