//! Non-blocking connect, shared by TCP and Unix streams.
//!
//! `connect` on a non-blocking socket returns `EINPROGRESS` at once; the
//! kernel finishes the handshake in the background and the socket becomes
//! *writable* when it is done, successfully or not. The loop watches for
//! that, then reads the outcome with `getsockopt(SO_ERROR)`: 0, or the
//! errno the connect would have returned (`ECONNREFUSED`, `ETIMEDOUT`, ...).

use super::{sys, Conn, Family, StreamId, WriteCb};
use crate::handle::HandleId;
use crate::Loop;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

impl Loop {
    /// Starts connecting `fd` to `addr`. Errors the kernel reports at once
    /// (a Unix path with no listener, ...) still go to `cb`, in the next
    /// pending phase, like every other outcome that is not an event.
    pub(crate) fn stream_connect(
        &mut self,
        fd: OwnedFd,
        family: Family,
        addr: &sys::SockAddr,
        cb: WriteCb,
    ) -> io::Result<StreamId> {
        match sys::connect(fd.as_raw_fd(), addr) {
            Ok(false) => {
                let id = self.stream_insert(fd, true, family, Conn::Connecting(Some(cb)));
                self.stream_register(id.0)?;
                Ok(id)
            }
            Ok(true) => {
                let id = self.stream_insert(fd, true, family, Conn::Open);
                self.stream_complete(id.0, cb, Ok(()));
                self.stream_settle(id.0);
                Ok(id)
            }
            Err(e) => {
                let id = self.stream_insert(fd, true, family, Conn::Open);
                self.stream_complete(id.0, cb, Err(e));
                self.stream_settle(id.0);
                Ok(id)
            }
        }
    }

    /// The connecting socket became writable (or failed): the connect is
    /// over. The callback runs now, in the poll phase, as libuv's does;
    /// queued writes go out right after it, or fail with its error.
    pub(crate) fn stream_connect_ready(&mut self, id: HandleId) {
        let Some(s) = self.stream_state(id) else { return };
        let Conn::Connecting(cb) = std::mem::replace(&mut s.conn, Conn::Open) else { return };
        let result = match s.raw_fd().map(|fd| sys::get_opt(fd, libc::SOL_SOCKET, libc::SO_ERROR)) {
            Some(Ok(0)) => Ok(()),
            Some(Ok(code)) => Err(io::Error::from_raw_os_error(code)),
            Some(Err(e)) => Err(e),
            None => Err(super::canceled()),
        };
        // Settle first: the request is over, and the callback sees a stream
        // whose interest says "open".
        self.stream_settle(id);
        let failure = result.as_ref().err().map(super::clone_error);
        if let Some(cb) = cb {
            self.timed(id, |lp| cb(lp, StreamId(id), result));
        }
        match failure {
            Some(e) => self.stream_fail_writes(id, e),
            None => self.stream_write_ready(id),
        }
        self.stream_settle(id);
    }
}
