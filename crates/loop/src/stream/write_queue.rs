//! A stream's write queue: the bytes the kernel has not taken yet, and the
//! completion callbacks waiting for them.
//!
//! The bytes live in **one contiguous buffer** (`buf[head..]`), not one
//! allocation per write request: appending copies into spare capacity, and
//! once the buffer has grown to a connection's working size, queueing
//! allocates nothing. Flushing is one `send` of the whole unsent range, so
//! the queue needs no `writev` to batch many small writes.
//!
//! Requests are remembered only when they have a callback, as the *absolute*
//! position of their last byte in the stream of queued bytes
//! (`sent + len` at the time of the write). Sending `n` bytes advances
//! `sent`; every request whose end is now `<= sent` is complete, in order.
//! A write without a callback costs no bookkeeping at all.

use super::WriteCb;
use std::collections::VecDeque;

/// Capacity kept after the queue drains; a burst that grew the buffer past
/// this gives the memory back. (Redis keeps a 16 KiB reply buffer per
/// client; a little more here since the buffer also absorbs bulk writes.)
const RETAIN_CAPACITY: usize = 64 * 1024;

#[derive(Default)]
pub(crate) struct WriteQueue {
    /// Queued bytes; `buf[..head]` were sent already.
    buf: Vec<u8>,
    head: usize,
    /// Bytes sent from this queue since the stream was made.
    sent: u64,
    /// Callback-bearing requests: (end position, callback), in write order.
    reqs: VecDeque<(u64, WriteCb)>,
}

impl WriteQueue {
    /// Unsent bytes.
    pub(crate) fn unsent(&self) -> usize {
        self.buf.len() - self.head
    }

    /// Whether nothing is waiting: no bytes and no callbacks.
    pub(crate) fn is_empty(&self) -> bool {
        self.unsent() == 0 && self.reqs.is_empty()
    }

    /// How many requests with a callback are waiting.
    pub(crate) fn callbacks(&self) -> usize {
        self.reqs.len()
    }

    /// The unsent bytes, for the next `send`.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    /// Queues a copy of `data`, and `cb` to run once all of it is sent.
    pub(crate) fn push(&mut self, data: &[u8], cb: Option<WriteCb>) {
        self.make_room();
        self.buf.extend_from_slice(data);
        self.push_cb(cb);
    }

    /// Queues `data[from..]` without copying when the queue is empty (the
    /// vector becomes the buffer), by copying otherwise.
    pub(crate) fn push_vec(&mut self, data: Vec<u8>, from: usize, cb: Option<WriteCb>) {
        if self.unsent() == 0 {
            self.buf = data;
            self.head = from;
            self.push_cb(cb);
        } else {
            self.push(&data[from..], cb);
        }
    }

    fn push_cb(&mut self, cb: Option<WriteCb>) {
        if let Some(cb) = cb {
            let end = self.sent + self.unsent() as u64;
            self.reqs.push_back((end, cb));
        }
    }

    /// Before appending: drop sent bytes so the buffer does not creep. A
    /// fully sent buffer is just cleared (the common case); a half-sent one
    /// is compacted, moving at most as many bytes as were already sent.
    fn make_room(&mut self) {
        if self.head == 0 {
            return;
        }
        if self.head == self.buf.len() {
            self.buf.clear();
        } else if self.head >= self.buf.len() / 2 {
            self.buf.drain(..self.head);
        } else {
            return;
        }
        self.head = 0;
    }

    /// Records that the kernel took `n` bytes; returns, in order, the
    /// callbacks of requests that are now completely sent.
    pub(crate) fn consume(&mut self, n: usize, mut done: impl FnMut(WriteCb)) {
        debug_assert!(n <= self.unsent());
        self.head += n;
        self.sent += n as u64;
        while let Some(&(end, _)) = self.reqs.front() {
            if end > self.sent {
                break;
            }
            if let Some((_, cb)) = self.reqs.pop_front() {
                done(cb);
            }
        }
        if self.unsent() == 0 {
            self.reset();
        }
    }

    /// Empties the queue (the connection failed or closed); returns every
    /// waiting callback in order.
    pub(crate) fn clear(&mut self, mut each: impl FnMut(WriteCb)) {
        self.sent += self.unsent() as u64;
        self.head = self.buf.len();
        self.reset();
        for (_, cb) in self.reqs.drain(..) {
            each(cb);
        }
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.head = 0;
        if self.buf.capacity() > RETAIN_CAPACITY {
            self.buf = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    fn cb(log: &Rc<RefCell<Vec<u32>>>, n: u32) -> Option<WriteCb> {
        let log = log.clone();
        Some(Box::new(move |_, _, _| log.borrow_mut().push(n)))
    }

    /// Completion needs a loop to call the callbacks with; count them instead.
    fn count(q: &mut WriteQueue, n: usize) -> usize {
        let mut c = 0;
        q.consume(n, |_| c += 1);
        c
    }

    #[test]
    fn requests_complete_when_their_last_byte_is_sent() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut q = WriteQueue::default();
        q.push(b"abc", cb(&log, 1));
        q.push(b"", cb(&log, 2));
        q.push(b"de", None);
        q.push(b"f", cb(&log, 3));
        assert_eq!(q.pending(), b"abcdef");
        assert_eq!(q.callbacks(), 3);
        assert_eq!(count(&mut q, 2), 0);
        assert_eq!(count(&mut q, 1), 2);
        assert_eq!(q.pending(), b"def");
        assert_eq!(count(&mut q, 2), 0);
        assert_eq!(count(&mut q, 1), 1);
        assert!(q.is_empty());
    }

    #[test]
    fn appending_after_a_partial_send_keeps_order_and_compacts() {
        let mut q = WriteQueue::default();
        q.push(b"0123456789", None);
        assert_eq!(count(&mut q, 6), 0);
        q.push(b"ab", None);
        assert_eq!(q.pending(), b"6789ab");
        assert_eq!(q.head, 0, "more than half was sent: compacted");
        assert_eq!(count(&mut q, 6), 0);
        assert_eq!(q.unsent(), 0);
    }

    #[test]
    fn push_vec_adopts_the_vector_when_empty() {
        let mut q = WriteQueue::default();
        let v = b"hello world".to_vec();
        let ptr = v.as_ptr();
        q.push_vec(v, 6, None);
        assert_eq!(q.pending(), b"world");
        assert_eq!(q.buf.as_ptr(), ptr);
        q.push_vec(b"!!".to_vec(), 0, None);
        assert_eq!(q.pending(), b"world!!");
    }

    #[test]
    fn clear_returns_every_callback_and_big_buffers_are_released() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut q = WriteQueue::default();
        q.push(&vec![0; RETAIN_CAPACITY * 2], cb(&log, 1));
        q.push(b"x", cb(&log, 2));
        let mut n = 0;
        q.clear(|_| n += 1);
        assert_eq!(n, 2);
        assert!(q.is_empty());
        assert!(q.buf.capacity() <= RETAIN_CAPACITY);
    }
}
