//! # asincrono-hyper
//!
//! [hyper](https://hyper.rs) 1.x on asincrono. hyper is written against no runtime: it asks
//! its caller for three things, and this crate supplies each, one file per adapter:
//!
//! | hyper asks for | this crate gives | file |
//! |---|---|---|
//! | a connection it can read and write: `hyper::rt::{Read, Write}` | [`AsincronoIo`] around any asincrono `AsyncRead + AsyncWrite` (and the reverse) | `io.rs` |
//! | somewhere to run its background futures: `hyper::rt::Executor` | [`AsincronoExecutor`], which calls `asincrono::spawn` | `executor.rs` |
//! | deadlines for its timeouts: `hyper::rt::{Timer, Sleep}` | [`AsincronoTimer`], whose sleeps are `asincrono::time::Sleep`s | `timer.rs` |
//!
//! The asincrono library itself does not depend on hyper; this crate sits between the two,
//! as hyper-util's `rt::tokio` module (`TokioIo`, `TokioExecutor`, `TokioTimer`) sits between
//! hyper and tokio. Each file's documentation says where the two models meet and what a
//! wake crosses. An HTTP/1.1 server, with the request-header timeout on the timer:
//!
//! ```no_run
//! use asincrono_hyper::{AsincronoIo, AsincronoTimer};
//! use hyper::server::conn::http1;
//! use hyper::service::service_fn;
//! use std::time::Duration;
//!
//! async fn hello(
//!     _request: hyper::Request<hyper::body::Incoming>,
//! ) -> Result<hyper::Response<String>, std::convert::Infallible> {
//!     Ok(hyper::Response::new("hello\n".to_string()))
//! }
//!
//! #[asincrono::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = asincrono::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         asincrono::spawn(async move {
//!             let connection = http1::Builder::new()
//!                 .timer(AsincronoTimer::new())
//!                 .header_read_timeout(Duration::from_secs(10))
//!                 .serve_connection(AsincronoIo::new(stream), service_fn(hello));
//!             if let Err(err) = connection.await {
//!                 eprintln!("connection: {err}");
//!             }
//!         });
//!     }
//! }
//! ```
//!
//! `examples/hyper_server.rs` and `examples/hyper_client.rs` at the workspace root are the
//! whole programs; chapter 17 of the book walks through the adapters.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod executor;
mod io;
mod timer;

pub use executor::AsincronoExecutor;
pub use io::AsincronoIo;
pub use timer::{AsincronoSleep, AsincronoTimer};
