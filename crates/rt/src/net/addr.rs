//! Addresses for [`TcpStream::connect`](super::TcpStream::connect), and
//! [`lookup_host`]: host names are resolved on the blocking pool, never on
//! a runtime thread.
//!
//! ## Why name resolution leaves the loop
//!
//! `getaddrinfo` is a blocking call with no non-blocking form: it reads
//! `/etc/hosts`, then may ask a DNS server and wait seconds for an answer
//! that is slow or lost. Called on a runtime thread, it stops every task
//! that thread runs for that long; on a current-thread runtime, the whole
//! server. So event loops hand it to a thread pool: libuv's `uv_getaddrinfo`
//! (and with it Node's `dns.lookup`) runs on the same worker pool as file
//! IO, and this module sends it to [`spawn_blocking`]. An address that is
//! already a literal (`"127.0.0.1:6379"`, `"[::1]:80"`, a `SocketAddr`) is
//! parsed on the spot and costs no thread hop.

use crate::blocking::spawn_blocking;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What [`TcpStream::connect`](super::TcpStream::connect),
/// [`TcpListener::bind`](super::TcpListener::bind), the
/// [`UdpSocket`](super::UdpSocket)'s `bind`, `connect` and `send_to`, and
/// [`lookup_host`] accept: the same forms as [`std::net::ToSocketAddrs`]
/// (a `SocketAddr`, an `(ip, port)` pair, `"host:port"`, `("host",
/// port)`, a slice of addresses), resolved without blocking the runtime.
///
/// Sealed: it is implemented here for those forms only, so that the
/// runtime decides where each is resolved.
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// The hidden half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait Sealed {
        /// Literal addresses, or the name to look up.
        fn resolve(&self) -> Resolve;

        /// The one address this value is, when it is a literal one: the
        /// no-allocation path of a per-datagram `send_to`.
        fn single(&self) -> Option<SocketAddr> {
            None
        }
    }

    /// How one address value is to be turned into socket addresses
    /// (public in a private module: nameable only inside this crate).
    pub enum Resolve {
        /// Known without asking anyone (a literal, or a parse error).
        Ready(io::Result<Vec<SocketAddr>>),
        /// A host name and port for `getaddrinfo`, on the blocking pool.
        Lookup(String, u16),
    }
}

use sealed::{Resolve, Sealed};

/// Resolves `addr`: literals here, names on the blocking pool.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    match addr.resolve() {
        Resolve::Ready(addrs) => addrs,
        Resolve::Lookup(host, port) => {
            let found = spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)).map(Iterator::collect)
            });
            found.await.map_err(io::Error::other)?
        }
    }
}

/// The first address `addr` resolves to (tokio's choice for `send_to`):
/// a literal `SocketAddr` without allocating, a name on the blocking pool.
pub(crate) async fn resolve_first(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    if let Some(a) = addr.single() {
        return Ok(a);
    }
    resolve(addr)
        .await?
        .first()
        .copied()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to"))
}

/// Resolves `host` (`"example.com:443"`, `("example.com", 443)`, or a
/// literal address) to its socket addresses, with `getaddrinfo` on the
/// blocking pool so that no runtime thread waits for DNS.
///
/// As tokio's, the addresses come as an iterator, so
/// `lookup_host(addr).await?.next()` is the first one:
///
/// ```
/// let rt = spindle_rt::Builder::new_current_thread().build()?;
/// let mut addrs = rt.block_on(spindle_rt::net::lookup_host("localhost:8080"))?;
/// let first = addrs.next().expect("localhost resolves");
/// assert!(first.ip().is_loopback() && first.port() == 8080);
/// assert!(addrs.all(|a| a.ip().is_loopback() && a.port() == 8080));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// A string that is neither `host:port` nor a literal address
/// (`InvalidInput`), or the resolver's error for a name it cannot resolve.
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(host).await?.into_iter())
}

/// A `"host:port"` string: a literal is parsed, anything else is split at
/// its last colon into a name to look up and a port.
fn from_str(s: &str) -> Resolve {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Resolve::Ready(Ok(vec![addr]));
    }
    let invalid =
        || Resolve::Ready(Err(io::Error::new(io::ErrorKind::InvalidInput, "invalid socket address")));
    let Some((host, port)) = s.rsplit_once(':') else {
        return invalid();
    };
    match port.parse::<u16>() {
        Ok(port) => from_host(host, port),
        Err(_) => Resolve::Ready(Err(io::Error::new(io::ErrorKind::InvalidInput, "invalid port value"))),
    }
}

/// A host and a port: a literal IP is used as is, a name is looked up.
fn from_host(host: &str, port: u16) -> Resolve {
    match host.parse::<IpAddr>() {
        Ok(ip) => Resolve::Ready(Ok(vec![SocketAddr::new(ip, port)])),
        Err(_) => Resolve::Lookup(host.to_owned(), port),
    }
}

/// Implements the trait for address types that need no lookup.
macro_rules! literal {
    ($($t:ty),*) => {$(
        impl ToSocketAddrs for $t {}
        impl Sealed for $t {
            fn resolve(&self) -> Resolve {
                Resolve::Ready(Ok(vec![SocketAddr::from(*self)]))
            }

            fn single(&self) -> Option<SocketAddr> {
                Some(SocketAddr::from(*self))
            }
        }
    )*};
}

literal!(SocketAddr, SocketAddrV4, SocketAddrV6, (IpAddr, u16), (Ipv4Addr, u16), (Ipv6Addr, u16));

impl ToSocketAddrs for [SocketAddr] {}
impl Sealed for [SocketAddr] {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(Ok(self.to_vec()))
    }
}

impl<const N: usize> ToSocketAddrs for [SocketAddr; N] {}
impl<const N: usize> Sealed for [SocketAddr; N] {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(Ok(self.to_vec()))
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {}
impl Sealed for Vec<SocketAddr> {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(Ok(self.clone()))
    }
}

impl ToSocketAddrs for str {}
impl Sealed for str {
    fn resolve(&self) -> Resolve {
        from_str(self)
    }
}

impl ToSocketAddrs for String {}
impl Sealed for String {
    fn resolve(&self) -> Resolve {
        from_str(self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Sealed for (&str, u16) {
    fn resolve(&self) -> Resolve {
        from_host(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Sealed for (String, u16) {
    fn resolve(&self) -> Resolve {
        from_host(&self.0, self.1)
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: Sealed + ?Sized> Sealed for &T {
    fn resolve(&self) -> Resolve {
        (**self).resolve()
    }

    fn single(&self) -> Option<SocketAddr> {
        (**self).single()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(r: Resolve) -> io::Result<Vec<SocketAddr>> {
        match r {
            Resolve::Ready(addrs) => addrs,
            Resolve::Lookup(host, port) => panic!("{host}:{port} would be looked up"),
        }
    }

    #[test]
    fn literals_are_parsed_without_a_lookup() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:443".parse().unwrap();
        assert_eq!(ready("127.0.0.1:80".resolve()).unwrap(), vec![v4]);
        assert_eq!(ready("[::1]:443".resolve()).unwrap(), vec![v6]);
        assert_eq!(ready(("::1", 443).resolve()).unwrap(), vec![v6]);
        assert_eq!(ready((String::from("127.0.0.1"), 80).resolve()).unwrap(), vec![v4]);
        assert_eq!(ready((Ipv4Addr::LOCALHOST, 80).resolve()).unwrap(), vec![v4]);
        assert_eq!(ready([v4, v6].resolve()).unwrap(), vec![v4, v6]);
        assert_eq!(ready(Sealed::resolve(&&v4)).unwrap(), vec![v4]);
    }

    #[test]
    fn names_are_left_for_the_pool() {
        for r in ["localhost:6379".resolve(), ("example.com", 443).resolve(), String::from("a.b:1").resolve()]
        {
            assert!(matches!(r, Resolve::Lookup(..)));
        }
        match "db.internal:5432".resolve() {
            Resolve::Lookup(host, port) => assert_eq!((host.as_str(), port), ("db.internal", 5432)),
            Resolve::Ready(_) => panic!("a name must be looked up"),
        }
    }

    #[test]
    fn malformed_strings_are_refused_at_once() {
        for s in ["no-port", "host:", "host:99999", "host:http", ""] {
            let err = ready(s.resolve()).expect_err(s);
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{s}");
        }
    }
}
