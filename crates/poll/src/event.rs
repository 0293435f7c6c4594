//! Readiness events and the reusable buffer [`Poller::wait`](crate::Poller::wait) fills.

use crate::Token;

/// One readiness report: a token and what the descriptor is ready for.
///
/// Several flags can be set at once. A hang-up or an error is reported even
/// without interest in it (the kernel always reports them), and a descriptor
/// that hung up is also reported readable, because a read will not block: it
/// returns end-of-stream or the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    token: Token,
    flags: u8,
}

impl Event {
    /// Readable: data, end of stream, a pending connection, or an error.
    pub const READABLE: u8 = 0b0_0001;
    /// Writable: send buffer space, or a finished connect.
    pub const WRITABLE: u8 = 0b0_0010;
    /// The peer shut down its sending side (`EPOLLRDHUP`, `POLLRDHUP`) or the
    /// whole connection hung up; reads will return end-of-stream.
    pub const READ_CLOSED: u8 = 0b0_0100;
    /// The connection hung up completely (`EPOLLHUP`, `POLLHUP`); writes will
    /// fail.
    pub const WRITE_CLOSED: u8 = 0b0_1000;
    /// An error is pending on the descriptor (`EPOLLERR`, `POLLERR`,
    /// `POLLNVAL`); the next IO call returns it.
    pub const ERROR: u8 = 0b1_0000;

    /// Builds an event; `flags` is a union of the constants above.
    pub const fn new(token: Token, flags: u8) -> Event {
        Event { token, flags }
    }

    /// The token the descriptor was registered with.
    pub const fn token(&self) -> Token {
        self.token
    }
    /// The raw flag bits.
    pub const fn flags(&self) -> u8 {
        self.flags
    }
    /// See [`Event::READABLE`].
    pub const fn is_readable(&self) -> bool {
        self.flags & Self::READABLE != 0
    }
    /// See [`Event::WRITABLE`].
    pub const fn is_writable(&self) -> bool {
        self.flags & Self::WRITABLE != 0
    }
    /// See [`Event::READ_CLOSED`].
    pub const fn is_read_closed(&self) -> bool {
        self.flags & Self::READ_CLOSED != 0
    }
    /// See [`Event::WRITE_CLOSED`].
    pub const fn is_write_closed(&self) -> bool {
        self.flags & Self::WRITE_CLOSED != 0
    }
    /// See [`Event::ERROR`].
    pub const fn is_error(&self) -> bool {
        self.flags & Self::ERROR != 0
    }
}

/// A reusable buffer of [`Event`]s; allocate once, pass to every wait.
#[derive(Debug)]
pub struct Events {
    list: Vec<Event>,
    capacity: usize,
}

impl Events {
    /// A buffer that takes at most `capacity` events per wait (at least 1).
    pub fn with_capacity(capacity: usize) -> Events {
        let capacity = capacity.max(1);
        Events { list: Vec::with_capacity(capacity), capacity }
    }

    /// Changes how many events the next waits take (at least 1); the
    /// buffer grows if it must.
    ///
    /// Events a wait leaves untaken are not lost: epoll keeps them on its
    /// ready list, in the order they became ready, and the poll and select
    /// backends keep those registrations armed, so a later wait reports
    /// them. A caller with room for only a few more tasks can take only
    /// that many and leave the rest queued in the kernel.
    ///
    /// ```
    /// use spindle_poll::Events;
    ///
    /// let mut events = Events::with_capacity(1024);
    /// events.set_capacity(16);
    /// assert_eq!(events.capacity(), 16);
    /// events.set_capacity(0);
    /// assert_eq!(events.capacity(), 1);
    /// ```
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
    }

    /// The most events one wait reports.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many events the last wait reported.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the last wait reported nothing.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The events of the last wait, in the kernel's order.
    pub fn iter(&self) -> std::slice::Iter<'_, Event> {
        self.list.iter()
    }

    /// The `i`th event of the last wait.
    pub fn get(&self, i: usize) -> Option<Event> {
        self.list.get(i).copied()
    }

    /// Empties the buffer (done by every wait).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// Appends an event; backends call this. Returns `false` when full.
    pub fn push(&mut self, event: Event) -> bool {
        if self.list.len() >= self.capacity {
            return false;
        }
        self.list.push(event);
        true
    }

    /// Whether there is room for another event.
    pub fn is_full(&self) -> bool {
        self.list.len() >= self.capacity
    }

    /// Removes every event for `token`; reports whether there was one.
    pub(crate) fn remove_token(&mut self, token: Token) -> bool {
        let before = self.list.len();
        self.list.retain(|e| e.token != token);
        self.list.len() != before
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
