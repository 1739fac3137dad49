//! `lookup_host`: the addresses a name stands for, looked up without blocking a scheduler
//! thread.
//!
//! It is the lookup `connect` and `bind` already use (`addr.rs`: numbers are parsed at once,
//! a host name goes to the blocking pool), made public as tokio has it. tokio returns an
//! iterator over the addresses; so does this, over the `Vec` the lookup produced.

use super::ToSocketAddrs;
use super::addr::resolve;
use std::io;
use std::net::SocketAddr;

/// Looks up `host` (`"localhost:80"`, `("example.com", 443)`, a `SocketAddr`, …) and
/// returns the socket addresses it names. A host name is resolved on the blocking pool;
/// an unknown one fails with an error that names it.
///
/// ```
/// asincrono::block_on(async {
///     let addrs: Vec<_> = asincrono::net::lookup_host("127.0.0.1:80").await?.collect();
///     assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
///     std::io::Result::Ok(())
/// }).unwrap();
/// ```
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(&host, "look up").await?.into_iter())
}
