//! The hyper comparison server: one hyper service, served on tokio through hyper-util's
//! adapters (`TokioIo`, `TokioTimer`) and on asincrono through `asincrono-hyper`'s
//! (`AsincronoIo`, `AsincronoTimer`), for `wrk` to load (`serve hyper ...`,
//! `scripts/compare-servers.sh`).
//!
//! Here the HTTP is hyper's on both sides: the parser, the keep-alive, the response
//! framing, even the header-read timer per request. What differs is only what hyper asks of
//! its runtime (a socket to read and write, wakes, a timer), so the ratio measures the
//! runtime and its adapters under a real HTTP stack, where the `http` row measures it under
//! the compact hand-written server of `servers.rs`.
//!
//! The accept loop is written once, as a macro expanded in [`on_tokio`] and in
//! [`on_asincrono`] with `rt` naming the runtime and `Io`/`Timer` its hyper adapters, in the
//! spirit of `servers.rs`'s compile-it-twice. No executor: hyper's HTTP/1 server spawns
//! nothing in the background (hyper-util's `TokioExecutor` and asincrono-hyper's
//! `AsincronoExecutor` would only come in with HTTP/2).

use crate::servers::on_tokio::HTTP_BODY;
use crate::{Flavour, Named, Runtime};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;

/// The header-read timeout both servers set: it arms a timer for every request head, so the
/// runtimes' timers are part of what is compared.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The service, the same on both runtimes: `GET /` answers [`HTTP_BODY`] (what the `http`
/// server answers), `GET /hello` a short line, anything else a 404 or 405.
pub async fn respond<B>(request: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body): (StatusCode, &'static [u8]) = match (request.method(), request.uri().path())
    {
        (&Method::GET, "/" | "/index.html") => (StatusCode::OK, HTTP_BODY),
        (&Method::GET, "/hello") => (StatusCode::OK, b"hello\n"),
        (&Method::GET, _) => (StatusCode::NOT_FOUND, b"not found\n"),
        _ => (StatusCode::METHOD_NOT_ALLOWED, b""),
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body)));
    *response.status_mut() = status;
    Ok(response)
}

/// Defines `serve(flavour, addr, on_ready)` for one runtime.
macro_rules! hyper_server_on {
    ($runtime:ident) => {
        /// Builds a runtime of `flavour` (as the other comparison servers do), binds `addr`,
        /// calls `on_ready` with the bound address, and serves the hyper service until the
        /// process ends.
        pub fn serve(
            flavour: Flavour,
            addr: SocketAddr,
            on_ready: impl FnOnce(SocketAddr),
        ) -> io::Result<()> {
            let runtime = crate::servers::$runtime::runtime(flavour)?;
            runtime.block_on(async move {
                let listener = rt::net::TcpListener::bind(addr).await?;
                on_ready(listener.local_addr()?);
                loop {
                    let stream = crate::servers::$runtime::accept_or_back_off(&listener).await;
                    rt::spawn(async move {
                        let connection = hyper::server::conn::http1::Builder::new()
                            .timer(Timer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .serve_connection(Io::new(stream), hyper::service::service_fn(respond));
                        // A client that breaks off is only this connection's business.
                        let _ = connection.await;
                    });
                }
            })
        }
    };
}

/// The hyper server on tokio, through hyper-util's adapters.
pub mod on_tokio {
    use super::*;
    use ::tokio as rt;
    use hyper_util::rt::{TokioIo as Io, TokioTimer as Timer};
    hyper_server_on!(on_tokio);
}

/// The same hyper server on asincrono, through asincrono-hyper's adapters.
pub mod on_asincrono {
    use super::*;
    use ::asincrono as rt;
    use asincrono_hyper::{AsincronoIo as Io, AsincronoTimer as Timer};
    hyper_server_on!(on_asincrono);
}

/// Serves the hyper service on `runtime` of `flavour` at `addr` in this thread, until the
/// process ends; `on_ready` is called with the bound address once the server accepts.
pub fn serve(
    runtime: Runtime,
    flavour: Flavour,
    addr: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    match runtime {
        Runtime::Tokio => on_tokio::serve(flavour, addr, on_ready),
        Runtime::Asincrono => on_asincrono::serve(flavour, addr, on_ready),
    }
}

/// Starts the hyper server on a thread of its own, on a free loopback port, and returns its
/// address once it accepts. The server lives until the process ends (for tests).
pub fn start(runtime: Runtime, flavour: Flavour) -> io::Result<SocketAddr> {
    let name = format!("hyper-{}", runtime.name());
    crate::servers::start_on_thread(name, move |addr, on_ready| {
        serve(runtime, flavour, addr, on_ready)
    })
}
