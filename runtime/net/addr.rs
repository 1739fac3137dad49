//! Addresses: what `bind`, `connect` and `send_to` accept, and how a host name is looked up
//! without blocking a scheduler thread.
//!
//! `std::net::ToSocketAddrs` resolves inside its one method, calling the system resolver,
//! which blocks for as long as DNS takes: on a scheduler thread, every other task would wait
//! too. Its method also cannot tell "this is a number, here it is" from "this needs a
//! lookup". So asincrono has its own [`ToSocketAddrs`] (tokio's name and idea), implemented
//! for the same types as std's: numeric addresses are parsed at once, and only a real host
//! name goes to the blocking pool for `std`'s lookup.

use crate::blocking::Mandatory;
use crate::util::with_context;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Anything that names one or more socket addresses: a `SocketAddr`, `"127.0.0.1:8080"`,
/// `"localhost:8080"`, `("example.com", 80)`, `(IpAddr, u16)`, `&[SocketAddr]`, … — the types
/// `std::net::ToSocketAddrs` accepts. A host name is looked up on the blocking pool, so
/// the lookup never stops the tasks that share the thread.
///
/// The trait is sealed: its method is internal, and only these types implement it.
pub trait ToSocketAddrs: sealed::Resolve {}

/// What an address turned into before any lookup.
pub(crate) use sealed::Resolution;

mod sealed {
    use std::net::SocketAddr;

    /// How an address type says what it holds. Private, so no one outside the crate can
    /// implement [`ToSocketAddrs`](super::ToSocketAddrs) or call this.
    pub trait Resolve {
        /// The addresses, if they are numbers; otherwise what to look up.
        fn resolve(&self) -> Resolution;
    }

    /// The two cases.
    #[derive(Debug)]
    pub enum Resolution {
        /// Numeric: no lookup needed.
        Ready(Vec<SocketAddr>),
        /// A host name and a port, to look up.
        Lookup(String, u16),
        /// Text that is neither an address nor `host:port`.
        Invalid(String),
    }
}

// ANCHOR: resolve
/// Turns `addr` into socket addresses, looking a host name up on the blocking pool.
/// Errors name the address and say what was being done (`what`: "connect to", "bind", …).
pub(crate) async fn resolve(
    addr: &(impl ToSocketAddrs + ?Sized),
    what: &str,
) -> io::Result<Vec<SocketAddr>> {
    match addr.resolve() {
        Resolution::Ready(addrs) if addrs.is_empty() => {
            Err(no_address(what, "an empty list of addresses"))
        }
        Resolution::Ready(addrs) => Ok(addrs),
        Resolution::Invalid(text) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{what} {text:?}: not an address (expected \"host:port\" or an IP address and port)"
            ),
        )),
        Resolution::Lookup(host, port) => {
            // Only a real name pays for formatting it (for the error messages).
            let name = format!("{host}:{port}");
            let runtime = crate::executor::context::current_or_error(what)?;
            let lookup = runtime.spawn_blocking(Mandatory::No, move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                    .map(Iterator::collect::<Vec<_>>)
            });
            let addrs = lookup
                .await
                .map_err(io::Error::from)?
                .map_err(|err| with_context(err, what, &name))?;
            if addrs.is_empty() {
                return Err(no_address(what, &name));
            }
            Ok(addrs)
        }
    }
}

/// The error for an address that stands for no socket address at all.
fn no_address(what: &str, name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} {name}: the name resolved to no address"),
    )
}
// ANCHOR_END: resolve

/// Splits `"host:port"` (or `"[v6]:port"`) into its parts, numeric or not.
fn resolve_text(text: &str) -> Resolution {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Resolution::Ready(vec![addr]);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Resolution::Invalid(text.to_string());
    };
    match port.parse::<u16>() {
        Ok(port) => resolve_host(host, port),
        Err(_) => Resolution::Invalid(text.to_string()),
    }
}

/// A host and port: an IP address needs no lookup.
fn resolve_host(host: &str, port: u16) -> Resolution {
    match host.parse::<IpAddr>() {
        Ok(ip) => Resolution::Ready(vec![SocketAddr::new(ip, port)]),
        Err(_) => Resolution::Lookup(host.to_string(), port),
    }
}

/// Implements the trait for types that are already numeric addresses.
macro_rules! numeric {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Resolve for $ty {
            fn resolve(&self) -> Resolution {
                Resolution::Ready(vec![SocketAddr::from(*self)])
            }
        }
    )*};
}

numeric!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16),
    ([u16; 8], u16)
);

impl ToSocketAddrs for str {}
impl sealed::Resolve for str {
    fn resolve(&self) -> Resolution {
        resolve_text(self)
    }
}

impl ToSocketAddrs for String {}
impl sealed::Resolve for String {
    fn resolve(&self) -> Resolution {
        resolve_text(self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Resolve for (&str, u16) {
    fn resolve(&self) -> Resolution {
        resolve_host(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Resolve for (String, u16) {
    fn resolve(&self) -> Resolution {
        resolve_host(&self.0, self.1)
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Resolve for [SocketAddr] {
    fn resolve(&self) -> Resolution {
        Resolution::Ready(self.to_vec())
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Resolve for &T {
    fn resolve(&self) -> Resolution {
        (**self).resolve()
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Resolve;
    use super::*;

    fn ready(resolution: Resolution) -> Vec<SocketAddr> {
        match resolution {
            Resolution::Ready(addrs) => addrs,
            _ => panic!("expected numbers, not a lookup"),
        }
    }

    #[test]
    fn numeric_addresses_need_no_lookup() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(ready("127.0.0.1:80".resolve()), [v4]);
        assert_eq!(ready("[::1]:80".resolve()), [v6]);
        assert_eq!(ready(("127.0.0.1", 80).resolve()), [v4]);
        assert_eq!(ready((Ipv4Addr::LOCALHOST, 80).resolve()), [v4]);
        assert_eq!(ready(v4.resolve()), [v4]);
        assert_eq!(ready([v4, v6][..].resolve()), [v4, v6]);
        assert_eq!(ready(String::from("127.0.0.1:80").resolve()), [v4]);
    }

    #[test]
    fn host_names_are_looked_up_and_garbage_is_refused() {
        assert!(matches!("localhost:80".resolve(), Resolution::Lookup(h, 80) if h == "localhost"));
        assert!(
            matches!(("example.com", 443).resolve(), Resolution::Lookup(h, 443) if h == "example.com")
        );
        assert!(matches!("no port".resolve(), Resolution::Invalid(_)));
        assert!(matches!("host:notaport".resolve(), Resolution::Invalid(_)));
    }
}
