//! A command stream: the commands that changed the data, in RESP, with a
//! `SELECT` whenever the database changes and transactions wrapped in
//! `MULTI` ... `EXEC`. The AOF writes one to its file; replication sends
//! one to each replica (see [`super::repl`]). They are kept apart because
//! each tracks its own selected database: a replica that attached after
//! the AOF's last SELECT must get one of its own.

use super::aof::select_cmd;

/// One stream's pending bytes and bookkeeping.
#[derive(Debug, Default)]
pub struct CommandStream {
    /// Commands not yet written out.
    pub buf: Vec<u8>,
    /// The database the stream has selected (`None`: unknown, the next
    /// command writes a SELECT).
    pub db: Option<usize>,
    /// Commands fed so far (to see how many a transaction wrote).
    pub fed: u64,
    /// Where in `buf` the last SELECT written since the last
    /// [`CommandStream::transaction_mark`] sits (start, end), so that a
    /// transaction's MULTI goes after it, as Redis propagates MULTI with
    /// the first command's database.
    select_span: Option<(usize, usize)>,
}

impl CommandStream {
    /// Appends a command (already in RESP) that ran against `db`.
    pub fn feed(&mut self, db: usize, cmd: &[u8]) {
        if self.db != Some(db) {
            let start = self.buf.len();
            self.buf.extend_from_slice(&select_cmd(db));
            self.select_span = Some((start, self.buf.len()));
            self.db = Some(db);
        }
        self.buf.extend_from_slice(cmd);
        self.fed += 1;
    }

    /// Where a transaction's commands start in the buffer, for
    /// [`CommandStream::wrap_transaction`]: (buffer length, commands fed).
    pub fn transaction_mark(&mut self) -> (usize, u64) {
        self.select_span = None;
        (self.buf.len(), self.fed)
    }

    /// After EXEC: wraps what the transaction fed in MULTI ... EXEC, as
    /// Redis 7.0 propagates it, when it fed two commands or more (a single
    /// command is atomic by itself). A reader that stops mid-stream (a
    /// crash while the AOF was written, a replica's broken link) then
    /// never applies part of a transaction.
    pub fn wrap_transaction(&mut self, (at, fed_before): (usize, u64)) {
        if self.fed < fed_before + 2 || self.buf.len() < at {
            return;
        }
        // The first command's SELECT stays in front: `SELECT; MULTI; ...`.
        let at = match self.select_span {
            Some((start, end)) if start == at => end,
            _ => at,
        };
        self.buf.splice(at..at, b"*1\r\n$5\r\nMULTI\r\n".iter().copied());
        self.buf.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
    }
}
