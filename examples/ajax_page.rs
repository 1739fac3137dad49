//! The web's side of the idea: a page that asks a server for data and carries on, served by
//! a server that does the same.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example ajax_page                 # http://127.0.0.1:8081/
//! cargo run --release --example ajax_page -- --addr 0.0.0.0:9001
//! ```
//!
//! and open the address it prints in a browser. The page (`ajax_page.html`, embedded with
//! `include_str!`) fires five `fetch()` calls at the JSON endpoints below, all at once or one
//! after another, and shows each answer as it arrives while an animation and a click
//! counter keep going:
//!
//! | route | answers |
//! |---|---|
//! | `/` | the page |
//! | `/api/slow?ms=N` | after `N` ms (at most 10 000) on a timer: `{"slept_ms":N,…}` |
//! | `/api/stats` | the server's counters: requests answered, requests in flight, uptime |
//! | `/api/file` | the size of the page's own source, read through `asincrono::fs` |
//!
//! The server side of the same idea: each connection is a task, a slow answer is a task
//! that is simply not polled until its timer fires, and the file is read without waiting
//! for the disk (from the kernel's cache at once if it is there, otherwise on the blocking
//! pool), so five requests in flight cost five small tasks and no thread is ever blocked.
//!
//! Corners cut: the request head is parsed by `http_server`'s `parse_head` (this file
//! includes that example as a module rather than copying it), no request bodies (a request
//! that announces one is answered, then the connection closed), the JSON is written with
//! `format!` (every string in it is one this file chose), and there is no static-file
//! serving besides the page. A real service would use hyper or axum on tokio, with
//! `serde_json` for the JSON; the shape of each handler would be the same.

use asincrono::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use asincrono::net::{OwnedReadHalf, TcpListener, TcpStream};
use asincrono::time::{self, Instant};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

// `parse_head` and `MAX_HEAD` come from there; the rest of that server is not used.
#[allow(dead_code)]
#[path = "http_server.rs"]
mod http_server;
// `http_server` has its own private copy of this module; this one is the one used here.
#[allow(clippy::duplicate_mod)]
#[path = "support/shutdown.rs"]
mod shutdown;
use http_server::{MAX_HEAD, Request, parse_head};
use shutdown::{InFlight, Shutdown};

const DEFAULT_ADDR: &str = "127.0.0.1:8081";

/// Exit code for a bad command line.
const EXIT_USAGE: u8 = 2;

/// The page, served at `/`.
const PAGE: &str = include_str!("ajax_page.html");

/// The file `/api/file` reads.
const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ajax_page.html");

/// The longest delay `/api/slow` accepts.
const MAX_SLOW_MS: u64 = 10_000;

/// How long a connection may sit between two requests (or in the middle of a head).
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

#[asincrono::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = match (args.next().as_deref(), args.next(), args.next()) {
        (None, _, _) => DEFAULT_ADDR.to_string(),
        (Some("--addr"), Some(addr), None) => addr,
        _ => {
            eprintln!("usage: ajax_page [--addr HOST:PORT]");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("ajax_page: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("ajax_page: open http://{local}/ in a browser"),
        Err(_) => println!("ajax_page: listening on {addr}"),
    }
    let shutdown = Shutdown::default();
    let server = serve_until(listener, shutdown.clone());
    shutdown::run_until_signal("ajax_page", shutdown, server).await
}

/// What every connection shares: the counters `/api/stats` reports.
struct Counters {
    started: Instant,
    /// Requests answered.
    requests: AtomicU64,
    /// Requests received and not yet answered.
    in_flight: AtomicU64,
}

/// Serves the page and its endpoints on `listener`, for ever (what `tests/browser.rs` runs).
pub async fn serve(listener: TcpListener) {
    serve_until(listener, Shutdown::default()).await;
}

/// Serves the page and its endpoints on `listener` until `shutdown` begins.
pub async fn serve_until(listener: TcpListener, shutdown: Shutdown) {
    let counters = Arc::new(Counters {
        started: Instant::now(),
        requests: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
    });
    while let Some(accepted) = shutdown.unless_stopping(listener.accept()).await {
        match accepted {
            Ok((stream, _)) => {
                let work = shutdown.track();
                asincrono::spawn(connection(stream, counters.clone(), shutdown.clone(), work));
            }
            // Out of descriptors, most likely: wait a little rather than spin.
            Err(err) => {
                eprintln!("ajax_page: accept failed: {err}");
                time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One client: request after request (the browser keeps the connection alive), until it
/// closes, goes quiet for `IDLE_TIMEOUT`, or the server stops between two requests.
async fn connection(
    stream: TcpStream,
    counters: Arc<Counters>,
    shutdown: Shutdown,
    _work: InFlight,
) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    loop {
        let next = time::timeout(IDLE_TIMEOUT, read_head(&mut reader));
        let head = match shutdown.unless_stopping(next).await {
            Some(Ok(Ok(Some(head)))) => head,
            Some(Ok(Err(status))) => {
                let _ = writer
                    .write_all(&error(status, status_text(status)).bytes(true))
                    .await;
                return;
            }
            // Closed, quiet for too long, or the server is stopping.
            _ => return,
        };
        let (answer, close) = match parse_head(&head) {
            Ok(request) => (answer(&request, &counters).await, request.close),
            Err(status) => (error(status, "malformed request"), true),
        };
        counters.requests.fetch_add(1, Ordering::Relaxed);
        if writer.write_all(&answer.bytes(close)).await.is_err() || close {
            return;
        }
    }
}

/// Reads one request head, up to and including its blank line: `Ok(None)` if the client
/// closed first, `Err(431)` if the head is longer than `MAX_HEAD`, `Err(400)` if the
/// connection fails half-way.
async fn read_head(reader: &mut BufReader<OwnedReadHalf>) -> Result<Option<Vec<u8>>, u16> {
    let mut head = Vec::new();
    loop {
        let start = head.len();
        let read = reader
            .read_until(b'\n', &mut head)
            .await
            .map_err(|_| 400u16)?;
        if read == 0 {
            return if head.is_empty() { Ok(None) } else { Err(400) };
        }
        if head.len() > MAX_HEAD {
            return Err(431);
        }
        if &head[start..] == b"\r\n" {
            return Ok(Some(head));
        }
    }
}

/// An answer: a status and a body, JSON unless it is the page.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn json(body: String) -> Answer {
        Answer {
            status: 200,
            content_type: "application/json",
            body,
        }
    }

    /// The whole response, head and body.
    fn bytes(&self, close: bool) -> Vec<u8> {
        let connection = if close { "close" } else { "keep-alive" };
        format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
             Connection: {connection}\r\n\r\n{}",
            self.status,
            status_text(self.status),
            self.content_type,
            self.body.len(),
            self.body
        )
        .into_bytes()
    }
}

fn error(status: u16, why: &str) -> Answer {
    Answer {
        status,
        body: format!("{{\"error\":\"{why}\"}}"),
        ..Answer::json(String::new())
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Error",
    }
}

/// Routes one request. Each `await` here lets the connection's task step aside: a slow
/// answer costs a timer, not a thread.
async fn answer(request: &Request, counters: &Counters) -> Answer {
    if request.method != "GET" {
        return error(405, "only GET here");
    }
    counters.in_flight.fetch_add(1, Ordering::Relaxed);
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let answer = match path {
        "/" => Answer {
            content_type: "text/html; charset=utf-8",
            ..Answer::json(PAGE.to_string())
        },
        "/api/slow" => slow(query).await,
        "/api/stats" => stats(counters),
        "/api/file" => file().await,
        _ => error(404, "no such route"),
    };
    counters.in_flight.fetch_sub(1, Ordering::Relaxed);
    answer
}

/// `/api/slow?ms=N`: sleeps `N` ms on a timer, then says how long it slept and on which
/// thread it woke.
async fn slow(query: &str) -> Answer {
    let ms = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .map(str::parse::<u64>);
    let ms = match ms {
        Some(Ok(ms)) if ms <= MAX_SLOW_MS => ms,
        Some(Ok(_)) => return error(400, "ms is at most 10000"),
        Some(Err(_)) => return error(400, "ms must be a whole number"),
        None => return error(400, "ms is missing: /api/slow?ms=300"),
    };
    let started = Instant::now();
    time::sleep(Duration::from_millis(ms)).await;
    // Thread names are the runtime's own (`main`, `asincrono-worker-N`): plain ASCII, safe
    // to put in a JSON string as they are.
    Answer::json(format!(
        "{{\"slept_ms\":{},\"asked_ms\":{ms},\"thread\":\"{}\"}}",
        started.elapsed().as_millis(),
        std::thread::current()
            .name()
            .unwrap_or("a thread without a name")
    ))
}

/// `/api/stats`: the counters.
fn stats(counters: &Counters) -> Answer {
    Answer::json(format!(
        "{{\"requests\":{},\"in_flight\":{},\"uptime_ms\":{}}}",
        counters.requests.load(Ordering::Relaxed),
        counters.in_flight.load(Ordering::Relaxed),
        counters.started.elapsed().as_millis()
    ))
}

/// `/api/file`: reads the page's source through `asincrono::fs` (from the page cache at
/// once if it is there, on the blocking pool otherwise).
async fn file() -> Answer {
    match asincrono::fs::read(FILE).await {
        Ok(bytes) => Answer::json(format!(
            "{{\"name\":\"examples/ajax_page.html\",\"bytes\":{},\"lines\":{}}}",
            bytes.len(),
            bytes.iter().filter(|&&b| b == b'\n').count()
        )),
        Err(err) => error(500, &format!("cannot read the file ({:?})", err.kind())),
    }
}
