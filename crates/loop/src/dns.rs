//! Name resolution through the blocking-work pool (`uv_getaddrinfo`).
//!
//! `getaddrinfo` reads `/etc/hosts`, talks to the resolver over the network,
//! and may wait seconds for a slow DNS server; it offers no descriptor a
//! poller could watch. So it runs on a pool thread like file IO, which is
//! also how Node's `dns.lookup` works (and why many slow lookups can starve
//! Node's file operations: they share the pool).

use crate::{Loop, WorkId};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

impl Loop {
    /// Resolves `host` (a name or an address literal) with the system
    /// resolver on a pool thread, pairing each address with `port`, then
    /// calls `after` with the addresses on the loop thread, in the order the
    /// resolver ranked them.
    ///
    /// ```
    /// use spindle_loop::{Loop, RunMode};
    /// let mut lp = Loop::new()?;
    /// lp.getaddrinfo("127.0.0.1".to_string(), 80, |_lp, r| {
    ///     assert_eq!(r.unwrap()[0], "127.0.0.1:80".parse().unwrap());
    /// });
    /// lp.run(RunMode::Default)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// `after` gets the resolver's error for a name it cannot resolve, or the
    /// pool's (see [`queue_work`](Loop::queue_work)).
    pub fn getaddrinfo(
        &mut self,
        host: String,
        port: u16,
        after: impl FnOnce(&mut Loop, io::Result<Vec<SocketAddr>>) + 'static,
    ) -> WorkId {
        self.queue_work(
            move || (host.as_str(), port).to_socket_addrs().map(Iterator::collect),
            |lp, r| after(lp, r.and_then(|r| r)),
        )
    }
}
