//! The listings a worker's connections are sending, shared and within a
//! budget.
//!
//! A listing is sent from memory as the client takes it, so it is held
//! until its last byte left or the send timeout ended the connection: a
//! directory of 100,000 long names makes an 86 MB page, and every client
//! that asks for it and does not read used to hold its own copy (four
//! such clients held 448 MB). Two things bound that now:
//!
//! * the listings being sent are shared: a connection whose newly read
//!   listing is byte for byte the one another connection is sending for
//!   the same path sends that one, and drops its own at once. The
//!   directory is still read for every request (as nginx reads it), so
//!   nothing is ever served stale: the sizes and times of the entries
//!   change without the directory's own times changing, so a listing
//!   kept while the directory's `mtime` and `ctime` stay the same could
//!   show a file's old size; comparing the bytes cannot;
//! * the distinct listings held by a worker's connections stay within
//!   `autoindex_max_memory` ([`crate::config::Autoindex::max_memory`]):
//!   a new one that would go past it is refused with a 503 (and a
//!   warning saying which setting to raise), unless it is the only one,
//!   so any directory can still be listed. A worker therefore holds at
//!   most the budget, or one listing larger than it, however many clients
//!   ask and do not read.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// The bytes of one listing, shared by the connections sending it; their
/// size counts against the worker's budget until the last one is done.
pub(crate) struct Listing {
    body: Box<[u8]>,
    held: Rc<Cell<usize>>,
}

impl Listing {
    /// The listing's body.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        self.held.set(self.held.get() - self.body.len());
    }
}

/// A worker's listings in flight, by the request path they list.
pub(crate) struct Listings {
    budget: usize,
    held: Rc<Cell<usize>>,
    live: RefCell<HashMap<Box<[u8]>, Weak<Listing>>>,
    /// When a refusal was last logged (at most one a second).
    last_warned: Cell<Option<std::time::Instant>>,
}

/// What [`Listings::share`] made of a listing.
pub(crate) enum Shared {
    /// Send this (the one given, or an identical one already held).
    Send(Rc<Listing>),
    /// Over the budget: answer 503.
    Refused,
}

impl Listings {
    /// No listing held yet; at most `budget` bytes of them (beyond one).
    pub fn new(budget: usize) -> Listings {
        Listings {
            budget,
            held: Rc::new(Cell::new(0)),
            live: RefCell::new(HashMap::new()),
            last_warned: Cell::new(None),
        }
    }

    /// Bytes held by the distinct listings being sent.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.held.get()
    }

    /// Distinct listings being sent.
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.live.borrow().values().filter(|l| l.strong_count() > 0).count()
    }

    /// The listing `body` of `path` as it is to be sent: the one already
    /// held for `path` if it has the same bytes, else `body` itself if the
    /// budget takes it.
    pub fn share(&self, path: &[u8], body: Vec<u8>) -> Shared {
        let mut live = self.live.borrow_mut();
        if let Some(same) = live.get(path).and_then(Weak::upgrade) {
            if same.body[..] == body[..] {
                return Shared::Send(same);
            }
        }
        let held = self.held.get();
        if held > 0 && held + body.len() > self.budget {
            let now = std::time::Instant::now();
            if self.last_warned.get().is_none_or(|t| now - t >= std::time::Duration::from_secs(1)) {
                self.last_warned.set(Some(now));
                tracing::warn!(
                    "listings being sent hold {held} bytes, {} more would pass autoindex_max_memory \
                     ({} bytes): 503 until clients take theirs",
                    body.len(),
                    self.budget
                );
            }
            return Shared::Refused;
        }
        live.retain(|_, l| l.strong_count() > 0);
        let body = body.into_boxed_slice();
        self.held.set(held + body.len());
        let listing = Rc::new(Listing { body, held: self.held.clone() });
        live.insert(path.into(), Rc::downgrade(&listing));
        Shared::Send(listing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_listings_are_shared_and_the_budget_holds() {
        let l = Listings::new(100);
        let Shared::Send(a) = l.share(b"/a/", vec![b'a'; 60]) else { panic!("refused") };
        // The same bytes for the same path: the same buffer, counted once.
        let Shared::Send(a2) = l.share(b"/a/", vec![b'a'; 60]) else { panic!("refused") };
        assert!(Rc::ptr_eq(&a, &a2));
        assert_eq!((l.held(), l.count()), (60, 1));
        // Changed bytes are never served from the old one; past the
        // budget while another is held, refused.
        assert!(matches!(l.share(b"/a/", vec![b'b'; 60]), Shared::Refused));
        let Shared::Send(c) = l.share(b"/c/", vec![b'c'; 40]) else { panic!("refused") };
        assert_eq!((l.held(), l.count()), (100, 2));
        drop((a, a2, c));
        assert_eq!((l.held(), l.count()), (0, 0));
        // Alone, a listing larger than the budget is sent.
        let Shared::Send(big) = l.share(b"/a/", vec![b'b'; 500]) else { panic!("refused") };
        assert_eq!(big.bytes(), &[b'b'; 500][..]);
        assert!(matches!(l.share(b"/d/", vec![b'd'; 1]), Shared::Refused));
    }
}
