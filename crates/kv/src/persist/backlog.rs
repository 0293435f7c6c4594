//! The replication backlog: the last `repl-backlog-size` bytes of the
//! replication stream, kept so that a replica whose link broke for a
//! moment can continue from where it stopped (`PSYNC <replid> <offset>`
//! answered `+CONTINUE`) instead of loading a whole new snapshot.
//!
//! Offsets count the stream's bytes from the start of this replication
//! history (INFO's `master_repl_offset`). The backlog holds the bytes
//! `[end - histlen, end)`, where `end` is the master offset after the
//! last flush; a replica that has processed `n` bytes asks for
//! `PSYNC <replid> <n + 1>` (Redis numbers the first missing byte from 1),
//! and can continue when `end - histlen <= n <= end`.
//!
//! The buffer is a ring: it grows as bytes come, up to the configured
//! size, and then overwrites its oldest bytes. A replica that was away
//! long enough for the ring to wrap past its offset gets a full resync.

/// A ring buffer of the most recent stream bytes.
#[derive(Debug)]
pub struct Backlog {
    /// The bytes; once `buf.len() == size`, a ring whose oldest byte is
    /// at `head`.
    buf: Vec<u8>,
    /// Where the next byte goes once the ring is full.
    head: usize,
    size: usize,
    /// The stream offset just past the newest byte.
    end: u64,
}

impl Backlog {
    /// An empty backlog of `size` bytes (at least 16 KiB, as Redis's
    /// minimum) whose history starts at stream offset `offset`.
    pub fn new(size: usize, offset: u64) -> Backlog {
        Backlog { buf: Vec::new(), head: 0, size: size.max(16 * 1024), end: offset }
    }

    /// Appends stream bytes, dropping the oldest past the size.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        self.end += bytes.len() as u64;
        if bytes.len() >= self.size {
            // Only the newest `size` bytes can be kept.
            bytes = &bytes[bytes.len() - self.size..];
            self.buf.clear();
            self.buf.extend_from_slice(bytes);
            self.head = 0;
            return;
        }
        if self.buf.len() < self.size {
            let room = self.size - self.buf.len();
            let n = room.min(bytes.len());
            self.buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if bytes.is_empty() {
                return;
            }
        }
        // The ring is full: overwrite from `head`, wrapping once at most.
        let first = (self.size - self.head).min(bytes.len());
        self.buf[self.head..self.head + first].copy_from_slice(&bytes[..first]);
        let rest = &bytes[first..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.head = (self.head + bytes.len()) % self.size;
    }

    /// Bytes of history held (INFO's `repl_backlog_histlen`).
    pub fn histlen(&self) -> usize {
        self.buf.len()
    }

    /// The configured size (INFO's `repl_backlog_size`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Memory held by the buffer (INFO's `mem_replication_backlog`).
    pub fn memory(&self) -> usize {
        self.buf.capacity()
    }

    /// The offset of the oldest byte held, numbered from 1 as Redis does
    /// (INFO's `repl_backlog_first_byte_offset`).
    pub fn first_byte_offset(&self) -> u64 {
        self.end - self.buf.len() as u64 + 1
    }

    /// The stream from offset `from` (bytes already processed by the
    /// replica) to the end, or `None` if the backlog no longer (or never)
    /// held all of it.
    pub fn since(&self, from: u64) -> Option<Vec<u8>> {
        let start = self.end - self.buf.len() as u64;
        if from < start || from > self.end {
            return None;
        }
        let skip = (from - start) as usize;
        let n = self.buf.len() - skip;
        let mut out = Vec::with_capacity(n);
        if self.buf.len() < self.size {
            out.extend_from_slice(&self.buf[skip..]);
        } else {
            // Oldest bytes are at `head`.
            let at = (self.head + skip) % self.size;
            let first = (self.size - at).min(n);
            out.extend_from_slice(&self.buf[at..at + first]);
            out.extend_from_slice(&self.buf[..n - first]);
        }
        Some(out)
    }

    /// Changes the size (CONFIG SET repl-backlog-size), keeping the newest
    /// bytes that fit.
    pub fn resize(&mut self, size: usize) {
        let size = size.max(16 * 1024);
        if size == self.size {
            return;
        }
        let start = self.end - self.buf.len() as u64;
        let all = self.since(start).unwrap_or_default();
        let keep = &all[all.len().saturating_sub(size)..];
        self.buf = keep.to_vec();
        self.head = 0;
        self.size = size;
    }
}

#[cfg(test)]
mod tests {
    use super::Backlog;

    /// The stream as a sequence of distinct bytes, to check what comes back.
    fn stream(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn returns_the_stream_from_any_offset_it_still_holds() {
        let s = stream(100_000);
        let mut b = Backlog::new(16 * 1024, 1000);
        // Fed in uneven pieces, so the ring wraps at odd places.
        let mut at = 0;
        for (i, len) in [1usize, 5000, 12000, 3, 20000, 777, 59220].iter().cycle().enumerate() {
            if at >= s.len() || i > 50 {
                break;
            }
            let end = (at + len).min(s.len());
            b.feed(&s[at..end]);
            at = end;
            let held = b.histlen();
            assert_eq!(held, at.min(16 * 1024));
            assert_eq!(b.first_byte_offset(), 1000 + (at - held) as u64 + 1);
            for back in [0, 1, held / 2, held] {
                let from = at - back;
                assert_eq!(b.since(1000 + from as u64).as_deref(), Some(&s[from..at]), "from {from} at {at}");
            }
            if held < at {
                // The byte before the oldest one held is gone.
                assert_eq!(b.since(1000 + (at - held) as u64 - 1), None);
            }
        }
        assert_eq!(at, s.len());
        // Ahead of the stream, or before this history: no.
        assert_eq!(b.since(1000 + s.len() as u64 + 1), None);
        assert_eq!(b.since(999), None);
    }

    #[test]
    fn resizing_keeps_the_newest_bytes() {
        let s = stream(50_000);
        let mut b = Backlog::new(32 * 1024, 0);
        b.feed(&s);
        b.resize(16 * 1024);
        assert_eq!(b.histlen(), 16 * 1024);
        assert_eq!(b.since(50_000 - 16 * 1024).as_deref(), Some(&s[50_000 - 16 * 1024..]));
        b.resize(64 * 1024);
        b.feed(&s[..10]);
        assert_eq!(b.histlen(), 16 * 1024 + 10);
        let mut want = s[50_000 - 16 * 1024..].to_vec();
        want.extend_from_slice(&s[..10]);
        assert_eq!(b.since(50_000 - 16 * 1024).unwrap(), want);
    }
}
