//! The reference redis-server ([`crate::common::redis_server`]: a child on
//! a unix socket, killed on drop), with connections speaking this test's
//! RESP client.

use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::common::redis_server::RedisServer;
use crate::resp::Client;

/// Every read and write on a test connection is bounded by this.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The running reference server.
pub struct Redis {
    server: RedisServer,
}

impl Redis {
    /// Starts redis-server (no persistence) and waits, bounded, for PING.
    /// Fails if redis-server is not installed: CI installs it.
    pub fn start() -> Redis {
        Redis { server: RedisServer::start(&["--enable-debug-command", "yes"]) }
    }

    /// A new connection.
    pub fn client(&self) -> Client {
        let s = UnixStream::connect(&self.server.sock).expect("connect to redis-server");
        s.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
        s.set_write_timeout(Some(IO_TIMEOUT)).expect("write timeout");
        Client::new(Box::new(s))
    }
}
