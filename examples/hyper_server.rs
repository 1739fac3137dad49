//! An HTTP/1.1 server written with [hyper](https://hyper.rs), running on asincrono through the
//! adapters of `compat/hyper` (`asincrono-hyper`).
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example hyper_server                       # 127.0.0.1:8081
//! cargo run --release --example hyper_server -- --addr 0.0.0.0:9000
//! ```
//!
//! then try `curl -v http://127.0.0.1:8081/ http://127.0.0.1:8081/stats` (two requests on one
//! connection: curl says it re-uses it, and `/stats` counts one connection),
//! `curl -d 'some text' http://127.0.0.1:8081/echo`, or `wrk -c 64 -d 5 http://127.0.0.1:8081/`.
//!
//! What it teaches:
//!
//! * **hyper does the HTTP, asincrono the waiting.** hyper parses requests, keeps the
//!   connection alive between them, and frames the answers; it never touches a socket or a
//!   clock itself. Each accepted `TcpStream` is wrapped in an `AsincronoIo`, and the
//!   header-read timeout runs on an `AsincronoTimer`, so every wait hyper makes is an
//!   asincrono wait, woken by the reactor or the timer queue.
//! * **A service is an async function.** `respond` takes a request and returns a response;
//!   hyper calls it once per request, on the connection's task.
//! * **Bad input is hyper's job.** A request hyper cannot parse gets `400 Bad Request` and the
//!   connection closes; a head longer than hyper's limit gets `431`; a client too slow to send
//!   its head is cut off after `HEADER_TIMEOUT`; a body over `MAX_BODY` gets `413` here. None
//!   of them disturbs the other connections.
//! * **Stopping gracefully.** Ctrl-C or `SIGTERM` stops the accepting, and each connection is
//!   told `graceful_shutdown`: hyper finishes the request it is on and then closes, and an
//!   idle one closes at once (`support/shutdown.rs`, shared with the other servers).
//!
//! Corners cut: HTTP/1.1 only (hyper's HTTP/2 would also use `AsincronoExecutor`), no TLS,
//! and the routes are a `match`, not a router.

use asincrono::net::{TcpListener, TcpStream};
use asincrono::time;
use asincrono_hyper::{AsincronoIo, AsincronoTimer};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[path = "support/shutdown.rs"]
mod shutdown;
use shutdown::InFlight;
// Public for tests/hyper.rs, which stops a server with it.
pub use shutdown::Shutdown;

const DEFAULT_ADDR: &str = "127.0.0.1:8081";

/// Exit code for a bad command line, as most command-line tools do.
const EXIT_USAGE: u8 = 2;

/// How long to wait after a failed `accept` before trying again: the usual failure is
/// running out of file descriptors, and retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The largest request body `/echo` accepts; a larger one gets `413 Content Too Large`.
pub const MAX_BODY: usize = 64 * 1024;

/// The settings `serve_until` runs with; `main` uses `Settings::default()`.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// How long a client has to send a whole request head (hyper's `header_read_timeout`,
    /// kept on the `AsincronoTimer`). Past it hyper closes the connection.
    pub header_timeout: Duration,
    /// How long `/slow` waits before answering.
    pub slow_delay: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            header_timeout: Duration::from_secs(10),
            slow_delay: Duration::from_secs(1),
        }
    }
}

/// Counters for `/stats`, shared by every connection.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted since the start.
    pub connections: AtomicU64,
    /// Requests that reached `respond`.
    pub requests: AtomicU64,
    /// Requests being answered now.
    pub in_flight: AtomicU64,
    /// The most requests ever answered at the same time.
    pub peak_in_flight: AtomicU64,
}

#[asincrono::main]
async fn main() -> ExitCode {
    run(std::env::args().skip(1)).await
}

/// The whole program, given its arguments: bind, serve until Ctrl-C or SIGTERM, then let
/// the connections finish the request they are on (see `support/shutdown.rs`).
pub async fn run(args: impl Iterator<Item = String>) -> ExitCode {
    let addr = match parse_args(args) {
        Ok(addr) => addr,
        Err(message) => {
            eprintln!("hyper_server: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(listener) => listener,
        // "address in use", "permission denied", a name that does not resolve: it says.
        Err(err) => {
            eprintln!("hyper_server: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => {
            println!("hyper server listening on {local}");
            println!("try it:  curl -v http://{local}/ http://{local}/stats");
        }
        Err(err) => eprintln!("hyper server listening on {addr} (local_addr failed: {err})"),
    }
    let shutdown = Shutdown::default();
    let stats = Arc::new(Stats::default());
    let server = serve_until(listener, Settings::default(), stats, shutdown.clone());
    shutdown::run_until_signal("hyper_server", shutdown, server).await
}

/// `--addr HOST:PORT`, or the default.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let usage = "usage: hyper_server [--addr HOST:PORT]";
    let mut addr = DEFAULT_ADDR.to_string();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                addr = args
                    .next()
                    .ok_or(format!("--addr needs a value ({usage})"))?
            }
            other => return Err(format!("unexpected argument {other:?} ({usage})")),
        }
    }
    Ok(addr)
}

/// What every connection shares.
struct Shared {
    settings: Settings,
    stats: Arc<Stats>,
    shutdown: Shutdown,
}

/// Accepts connections on `listener` until `shutdown` begins, each served on a task of its
/// own; then returns, while the connections finish.
pub async fn serve_until(
    listener: TcpListener,
    settings: Settings,
    stats: Arc<Stats>,
    shutdown: Shutdown,
) {
    let shared = Arc::new(Shared {
        settings,
        stats,
        shutdown: shutdown.clone(),
    });
    while let Some(accepted) = shutdown.unless_stopping(listener.accept()).await {
        match accepted {
            Ok((stream, peer)) => {
                shared.stats.connections.fetch_add(1, Ordering::Relaxed);
                let in_flight = shutdown.track();
                // Dropping the handle detaches the task; the loop goes back to `accept`.
                asincrono::spawn(connection(stream, peer, shared.clone(), in_flight));
            }
            Err(err) => {
                eprintln!(
                    "accept failed: {err} (retrying in {} ms)",
                    ACCEPT_BACKOFF.as_millis()
                );
                time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

// ANCHOR: connection
/// Serves one client with hyper, until it closes, fails, or shutdown ends it between two
/// requests; `_in_flight` is dropped when it is over.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    _in_flight: InFlight,
) {
    let service = {
        let shared = shared.clone();
        service_fn(move |request| respond(request, shared.clone()))
    };
    let mut connection = pin!(
        http1::Builder::new()
            .timer(AsincronoTimer::new())
            .header_read_timeout(shared.settings.header_timeout)
            // A client may shut down its sending side once its request is out (`nc -N`,
            // scripts) and still wait for the answer; hyper's default takes that end of
            // stream for the client leaving and drops the request.
            .half_close(true)
            .serve_connection(AsincronoIo::new(stream), service)
    );
    let outcome = match shared.shutdown.unless_stopping(connection.as_mut()).await {
        Some(outcome) => outcome,
        None => {
            // Finish the request in hand (if any), then close.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = outcome {
        // A malformed request, a timeout, a client gone mid-request: this connection's
        // business only. hyper has already answered what could be answered (400, 431).
        eprintln!("{peer}: {err}");
    }
}
// ANCHOR_END: connection

/// A response with a fixed text body.
fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

// ANCHOR: respond
/// The service: one request in, one response out. Never fails (`Infallible`): every
/// problem is a status code.
async fn respond(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let stats = &shared.stats;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    let now = stats.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    stats.peak_in_flight.fetch_max(now, Ordering::Relaxed);
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, "hello from hyper on asincrono\n"),
        (&Method::GET, "/slow") => {
            time::sleep(shared.settings.slow_delay).await;
            text(StatusCode::OK, "slow, but here\n")
        }
        (&Method::GET, "/stats") => text(StatusCode::OK, stats_text(stats)),
        (&Method::POST, "/echo") => echo(request).await,
        (_, "/" | "/slow" | "/stats" | "/echo") => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    stats.in_flight.fetch_sub(1, Ordering::Relaxed);
    Ok(response)
}
// ANCHOR_END: respond

/// The body of the request, sent back; at most `MAX_BODY` bytes of it are read.
async fn echo(request: Request<Incoming>) -> Response<Full<Bytes>> {
    match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => text(StatusCode::OK, body.to_bytes()),
        // Either over the limit or the client broke off: `Limited` says which.
        Err(err) if err.is::<http_body_util::LengthLimitError>() => text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a body of at most {MAX_BODY} bytes, please\n"),
        ),
        Err(err) => text(
            StatusCode::BAD_REQUEST,
            format!("reading the body: {err}\n"),
        ),
    }
}

/// `/stats`: one `name: value` line per counter.
fn stats_text(stats: &Stats) -> String {
    let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    format!(
        "connections: {}\nrequests: {}\npeak_in_flight: {}\n",
        read(&stats.connections),
        read(&stats.requests),
        read(&stats.peak_in_flight)
    )
}
