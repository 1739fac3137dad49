//! An HTTP/1.1 client written with [hyper](https://hyper.rs), running on asincrono through the
//! adapters of `compat/hyper`: it fetches many URLs concurrently, at most N at a time, over
//! connections it keeps alive, and prints each result as it comes and the total time.
//!
//! Try it against the hyper example server, in two terminals:
//!
//! ```text
//! cargo run --release --example hyper_server
//! cargo run --release --example hyper_client -- --limit 4 \
//!     http://127.0.0.1:8081/ http://127.0.0.1:8081/slow http://127.0.0.1:8081/slow \
//!     http://127.0.0.1:8081/slow http://127.0.0.1:8081/nope http://127.0.0.1:8081/stats
//! ```
//!
//! `--limit N` (default 4) is how many requests are in flight at once, and so how many
//! connections are open; `--timeout SECS` (default 10) bounds each request, from connecting
//! to the last byte of the body. The exit code is 0 when every URL answered with a 2xx
//! status, 1 when any did not, 2 for a bad command line.
//!
//! What it teaches:
//!
//! * **hyper's client without a pool.** `hyper::client::conn::http1::handshake` turns one
//!   connection (a `TcpStream` in an `AsincronoIo`) into a `SendRequest`, for asking, and a
//!   `Connection` future, which does the reading and writing and must be polled: it is
//!   spawned as a task of its own. hyper-util's pooled client does the same underneath.
//! * **Bounding concurrency with workers that own connections.** An HTTP/1.1 connection
//!   carries one request at a time, so a limit on requests in flight is a limit on
//!   connections: `limit` worker tasks (a `JoinSet`) take URLs from one queue, and each keeps
//!   its connection for the next URL to the same host (keep-alive). `examples/fetch.rs`
//!   bounds the same thing with a `Semaphore` and a connection per request; here the
//!   connection is the thing to share, so the workers are.
//! * **Every failure is a result.** A URL that does not parse, a host that refuses, a
//!   timeout, a server that closes mid-answer: each is printed for its URL, and the other
//!   URLs carry on.
//!
//! Corners cut: `http://` only (no TLS), no redirects, bodies over `MAX_BODY` fail, and a
//! reused connection that the server closed meanwhile costs one retry on a fresh one.

use asincrono::net::TcpStream;
use asincrono::sync::mpsc;
use asincrono::task::JoinSet;
use asincrono::time::{self, Instant};
use asincrono_hyper::AsincronoIo;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode, Uri};
use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Requests in flight at once (and so connections), unless `--limit` says otherwise.
const DEFAULT_LIMIT: usize = 4;

/// The time limit per request, unless `--timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest response body accepted.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Exit code for a bad command line.
const EXIT_USAGE: u8 = 2;

/// What one URL gave.
#[derive(Debug)]
pub struct Fetched {
    /// The response's status.
    pub status: StatusCode,
    /// The whole body.
    pub body: Bytes,
    /// From taking the URL off the queue to the last byte of the body.
    pub took: Duration,
    /// Whether it went over a connection kept from an earlier request.
    pub reused: bool,
}

/// Everything one run fetched.
#[derive(Debug)]
pub struct Report {
    /// One outcome per URL, in the order given.
    pub outcomes: Vec<Result<Fetched, String>>,
    /// How many connections were opened in all.
    pub connections: usize,
    /// From the start to the last answer.
    pub elapsed: Duration,
}

#[asincrono::main]
async fn main() -> ExitCode {
    let (urls, limit, timeout) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("hyper_client: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let report = fetch_all(urls.clone(), limit, timeout, |index, outcome| {
        println!("{}", describe(&urls[index], outcome));
    })
    .await;
    let failed = report
        .outcomes
        .iter()
        .filter(|outcome| !matches!(outcome, Ok(fetched) if fetched.status.is_success()))
        .count();
    println!(
        "{} URL(s) in {:.3} s over {} connection(s), at most {limit} at a time; {failed} not 2xx",
        urls.len(),
        report.elapsed.as_secs_f64(),
        report.connections
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `[--limit N] [--timeout SECS] URL...`
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> Result<(Vec<String>, usize, Duration), String> {
    let usage = "usage: hyper_client [--limit N] [--timeout SECS] URL...";
    let (mut urls, mut limit, mut timeout) = (Vec::new(), DEFAULT_LIMIT, DEFAULT_TIMEOUT);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value ({usage})"));
        match arg.as_str() {
            "--limit" => {
                limit = match value()?.parse() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--limit needs a whole number above 0 ({usage})")),
                }
            }
            "--timeout" => {
                let seconds: f64 = value()?.parse().map_err(|_| "--timeout needs seconds")?;
                timeout = Duration::try_from_secs_f64(seconds)
                    .map_err(|_| format!("--timeout {seconds}: not a duration"))?;
            }
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag} ({usage})"));
            }
            _ => urls.push(arg),
        }
    }
    if urls.is_empty() {
        return Err(format!("no URL given ({usage})"));
    }
    Ok((urls, limit, timeout))
}

/// One line for one URL's outcome.
pub fn describe(url: &str, outcome: &Result<Fetched, String>) -> String {
    match outcome {
        Ok(fetched) => format!(
            "{:>3} {url}  {} bytes in {:.1} ms{}",
            fetched.status.as_u16(),
            fetched.body.len(),
            fetched.took.as_secs_f64() * 1000.0,
            if fetched.reused {
                " (kept-alive connection)"
            } else {
                ""
            }
        ),
        Err(why) => format!("ERR {url}  {why}"),
    }
}

/// The URLs not yet taken, each with its index; shared by the workers.
type Queue = Arc<Mutex<VecDeque<(usize, String)>>>;

// ANCHOR: fetch_all
/// Fetches every URL, `limit` at a time, each within `timeout`; calls `on_result` with each
/// outcome as it arrives, and returns them all in the order of `urls`.
pub async fn fetch_all(
    urls: Vec<String>,
    limit: usize,
    timeout: Duration,
    mut on_result: impl FnMut(usize, &Result<Fetched, String>),
) -> Report {
    let start = Instant::now();
    let count = urls.len();
    let queue: Queue = Arc::new(Mutex::new(urls.into_iter().enumerate().collect()));
    let (results, mut arrivals) = mpsc::unbounded_channel();
    let mut workers = JoinSet::new();
    for _ in 0..limit.clamp(1, count.max(1)) {
        workers.spawn(worker(queue.clone(), results.clone(), timeout));
    }
    drop(results); // the channel closes once every worker has finished
    let mut outcomes: Vec<Option<Result<Fetched, String>>> = (0..count).map(|_| None).collect();
    while let Some((index, outcome)) = arrivals.recv().await {
        on_result(index, &outcome);
        outcomes[index] = Some(outcome);
    }
    let mut connections = 0;
    while let Some(opened) = workers.join_next().await {
        connections += opened.unwrap_or(0); // a worker that panicked counts none
    }
    let outcomes = outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| Err("its worker failed".to_string())))
        .collect();
    Report {
        outcomes,
        connections,
        elapsed: start.elapsed(),
    }
}
// ANCHOR_END: fetch_all

/// A kept-alive connection: which host and port it goes to, and how to send on it.
struct Kept {
    authority: String,
    sender: SendRequest<Empty<Bytes>>,
}

// ANCHOR: worker
/// Takes URLs off `queue` until it is empty, fetching each within `timeout` and sending
/// the outcome on `results`; returns how many connections it opened.
async fn worker(
    queue: Queue,
    results: mpsc::UnboundedSender<(usize, Result<Fetched, String>)>,
    timeout: Duration,
) -> usize {
    let mut kept: Option<Kept> = None;
    let mut opened = 0;
    loop {
        // The lock is held for the `pop_front` only, never across an `.await`.
        let Some((index, url)) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front() else {
            return opened;
        };
        let start = Instant::now();
        let outcome = match time::timeout(timeout, fetch(&url, &mut kept, &mut opened)).await {
            Ok(Ok((status, body, reused))) => Ok(Fetched {
                status,
                body,
                took: start.elapsed(),
                reused,
            }),
            Ok(Err(why)) => Err(why),
            // The fetch was dropped wherever it stood; so was its connection, if half-used.
            Err(_) => {
                kept = None;
                Err(format!("no answer within {:.1} s", timeout.as_secs_f64()))
            }
        };
        if results.send((index, outcome)).is_err() {
            return opened; // nobody is listening any more
        }
    }
}
// ANCHOR_END: worker

/// One GET: over the kept connection if it goes to the same place and is still open,
/// otherwise over a new one (which is then kept). Returns the status, the body and whether
/// the connection was reused.
async fn fetch(
    url: &str,
    kept: &mut Option<Kept>,
    opened: &mut usize,
) -> Result<(StatusCode, Bytes, bool), String> {
    let uri: Uri = url.parse().map_err(|err| format!("not a URL: {err}"))?;
    let authority = authority_of(&uri)?;
    let same_place = |kept: &&mut Kept| kept.authority == authority && !kept.sender.is_closed();
    if let Some(old) = kept.as_mut().filter(same_place) {
        // The server may have closed it since the last answer: then try once more, afresh.
        if let Ok((status, body)) = get(old, &uri).await {
            return Ok((status, body, true));
        }
    }
    *kept = None;
    let mut fresh = connect(&authority).await?;
    *opened += 1;
    let (status, body) = get(&mut fresh, &uri).await?;
    *kept = Some(fresh);
    Ok((status, body, false))
}

/// `host:port` of an `http://` URL (port 80 unless it says).
fn authority_of(uri: &Uri) -> Result<String, String> {
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => return Err("https is not supported (no TLS here)".to_string()),
        Some(other) => return Err(format!("unsupported scheme {other:?}")),
        None => return Err("no scheme: write http://HOST/PATH".to_string()),
    }
    let host = uri.host().ok_or("no host in the URL")?;
    Ok(format!("{host}:{}", uri.port_u16().unwrap_or(80)))
}

// ANCHOR: connect
/// Opens a connection to `authority` and hands it to hyper; the half of it that reads and
/// writes runs as a task of its own, until the connection closes.
async fn connect(authority: &str) -> Result<Kept, String> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|err| format!("cannot connect: {err}"))?;
    let (sender, connection) = http1::handshake(AsincronoIo::new(stream))
        .await
        .map_err(|err| format!("HTTP handshake with {authority}: {err}"))?;
    asincrono::spawn(async move {
        // An error here also fails the request in flight, which reports it; nothing to add.
        let _ = connection.await;
    });
    Ok(Kept {
        authority: authority.to_string(),
        sender,
    })
}
// ANCHOR_END: connect

/// Sends `GET uri` on `kept` and reads the whole answer.
async fn get(kept: &mut Kept, uri: &Uri) -> Result<(StatusCode, Bytes), String> {
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let request = Request::get(path)
        .header(hyper::header::HOST, kept.authority.as_str())
        .body(Empty::<Bytes>::new())
        .map_err(|err| format!("building the request: {err}"))?;
    // Waits until the connection can take a request (the previous answer has been read).
    kept.sender
        .ready()
        .await
        .map_err(|err| format!("connection: {err}"))?;
    let response = kept
        .sender
        .send_request(request)
        .await
        .map_err(|err| format!("request: {err}"))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|err| format!("reading the body: {err}"))?;
    Ok((status, body.to_bytes()))
}
