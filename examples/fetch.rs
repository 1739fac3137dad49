//! A concurrent HTTP/1.1 client: fetches many URLs at once, a few at a time, with a time
//! limit per request, a live progress display and a summary table at the end.
//!
//! Try it against the example server, in two terminals:
//!
//! ```text
//! cargo run --release --example http_server
//! cargo run --release --example fetch -- http://127.0.0.1:8080/README.md \
//!     http://127.0.0.1:8080/slow http://127.0.0.1:8080/stats http://127.0.0.1:8080/nope
//! cargo run --release --example fetch -- --concurrency 2 --timeout 0.5 --file urls.txt
//! ```
//!
//! `--file PATH` reads one URL per line (blank lines and lines starting with `#` are
//! skipped); `--concurrency N` (default 8) bounds the requests in flight; `--timeout SECS`
//! (default 30, fractions allowed) bounds each request, from looking up the host to the last
//! byte of the body. The exit code is 0 when every URL answered with a 2xx status, 1 when
//! any did not (an error, or a status such as 404), 2 for a bad command line.
//!
//! What it teaches:
//!
//! * **Bounding concurrency with a `Semaphore`.** Every URL gets its own task at once; a
//!   task holds a permit while its request is in flight, so at most N are. See `fetch_all_with`
//!   for why this beats N worker tasks.
//! * **One time limit around a whole exchange.** `time::timeout` wraps the lookup, the
//!   connect, the request and the response in one future: when time runs out, that future
//!   is dropped wherever it stands, which closes the socket.
//! * **Reading a protocol by hand.** The response head is read up to its blank line, then
//!   the body is framed one of the three ways HTTP/1.1 allows: by `Content-Length`, by
//!   `Transfer-Encoding: chunked`, or by the server closing the connection.
//! * **A progress display that shares state without waiting.** The fetching tasks write
//!   their phase and byte counts into a `Board`; a separate task reads it every 100 ms and
//!   draws it. Neither ever waits for the other.
//!
//! Corners cut: plain `http://` only: there is no TLS, so `https://` URLs are refused with a
//! message; no redirects (a 301 is reported as a 301); no keep-alive (each request asks for
//! `Connection: close` and gets a connection of its own); no compression; no proxies. A
//! host name is looked up with the system resolver on the blocking pool (a lookup blocks).
//! Bodies are counted, not saved; a body over `MAX_BODY` (64 MiB) fails its request.

use asincrono::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use asincrono::net::TcpStream;
use asincrono::sync::Semaphore;
use asincrono::task;
use asincrono::time::{self, Instant};
use std::fmt;
use std::future::Future;
use std::io::{self, IsTerminal};
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Requests in flight at once, unless `--concurrency` says otherwise.
const DEFAULT_CONCURRENCY: usize = 8;

/// The time limit per request, unless `--timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest body accepted. Past it, the request fails with "body too large", the bytes
/// received so far are thrown away and the connection is closed without reading the rest:
/// a server that sends without end cannot fill our memory.
pub const MAX_BODY: u64 = 64 << 20;

/// The largest response head (status line and headers), and the longest chunk-size line.
const MAX_HEAD: usize = 64 * 1024;
const MAX_CHUNK_LINE: usize = 4 * 1024;

/// How often the progress display is redrawn on a terminal.
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// Elsewhere (a file, a pipe), one plain line every this many redraw periods (1 s).
const PLAIN_LINE_EVERY: u64 = 10;

/// At most this many per-URL lines in the live display.
const MAX_LIVE_LINES: usize = 20;

/// Exit code for a bad command line.
const EXIT_USAGE: u8 = 2;

#[asincrono::main]
async fn main() -> ExitCode {
    let (urls, options) = match args().await {
        Ok(args) => args,
        Err(message) => {
            eprintln!("fetch: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let board = Arc::new(Board::new(&urls));
    let stop = Arc::new(AtomicBool::new(false));
    let display = task::spawn(show_progress(board.clone(), stop.clone()));
    let outcomes = fetch_all_with(urls, options, board.clone()).await;
    stop.store(true, Ordering::Relaxed);
    // The display draws its last frame, and ends its lines, before the table is printed.
    let _ = display.await;
    print_summary(&outcomes, board.started.elapsed());
    if outcomes.iter().all(Outcome::succeeded) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The URLs (from the command line, then from each `--file`) and the options.
async fn args() -> Result<(Vec<String>, Options), String> {
    let usage = "usage: fetch [--concurrency N] [--timeout SECS] [--file PATH]... [URL]...";
    let mut options = Options::default();
    let mut urls = Vec::new();
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if !arg.starts_with("--") {
            urls.push(arg);
            continue;
        }
        let value = match arg.as_str() {
            "--concurrency" | "--timeout" | "--file" => args
                .next()
                .ok_or(format!("{arg} needs a value ({usage})"))?,
            other => return Err(format!("unknown option {other:?} ({usage})")),
        };
        match arg.as_str() {
            "--concurrency" => {
                options.concurrency = value.parse().ok().filter(|&n| n > 0).ok_or(format!(
                    "--concurrency {value:?}: expected a whole number > 0"
                ))?;
            }
            "--timeout" => {
                let seconds = value
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
                    .ok_or(format!(
                        "--timeout {value:?}: expected seconds > 0, as 2 or 0.5"
                    ))?;
                options.timeout = Duration::from_secs_f64(seconds);
            }
            _ => files.push(value),
        }
    }
    for file in files {
        let text = asincrono::fs::read_to_string(&file)
            .await
            .map_err(|err| format!("--file {file}: {err}"))?;
        let lines = text.lines().map(str::trim);
        urls.extend(
            lines
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(String::from),
        );
    }
    if urls.is_empty() {
        return Err(format!("no URL given ({usage})"));
    }
    Ok((urls, options))
}

// ---------------------------------------------------------------------------------------
// What a fetch gives back
// ---------------------------------------------------------------------------------------

/// How to fetch.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Requests in flight at once (0 counts as 1).
    pub concurrency: usize,
    /// The limit for each request, from the host lookup to the end of the body. Time spent
    /// waiting for a permit does not count.
    pub timeout: Duration,
    /// Keep each body in its `Fetched` (the tests compare them); otherwise only count it.
    pub keep_bodies: bool,
    /// The largest body accepted (`MAX_BODY` by default).
    pub max_body: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            concurrency: DEFAULT_CONCURRENCY,
            timeout: DEFAULT_TIMEOUT,
            keep_bodies: false,
            max_body: MAX_BODY,
        }
    }
}

/// What happened to one URL.
#[derive(Debug)]
pub struct Outcome {
    pub url: String,
    pub result: Result<Fetched, FetchError>,
    /// From getting a permit to the end (success, error or timeout).
    pub took: Duration,
}

impl Outcome {
    /// A response arrived whole, with a 2xx status.
    pub fn succeeded(&self) -> bool {
        matches!(&self.result, Ok(fetched) if (200..300).contains(&fetched.status))
    }
}

/// A response that arrived whole.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub reason: String,
    /// Bytes of body (after undoing the chunked encoding).
    pub bytes: u64,
    /// The body itself, if `Options::keep_bodies`; empty otherwise.
    pub body: Vec<u8>,
    /// How the body was framed.
    pub framing: Framing,
}

/// The three ways an HTTP/1.1 body can end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// After `Content-Length` bytes (also 0 for a status that has no body, like 204).
    Length(u64),
    /// After a chunk of size 0.
    Chunked,
    /// When the server closes the connection.
    UntilClose,
}

/// Why a URL failed. Each message names what it was doing and with what.
#[derive(Debug)]
pub enum FetchError {
    /// Not a URL this client can fetch: the message says why.
    BadUrl(String),
    /// The host name did not resolve.
    Resolve { host: String, error: String },
    /// No address of the host accepted a connection: each address with its error.
    Connect(Vec<(SocketAddr, String)>),
    /// Sending or receiving failed after connecting (a reset, say).
    Io { doing: &'static str, error: String },
    /// The time limit passed; `phase` is what the request was doing then.
    Timeout { limit: Duration, phase: String },
    /// The server sent something that is not HTTP/1.x.
    Malformed(String),
    /// The body was bigger than the limit.
    TooLarge { limit: u64 },
    /// The task fetching this URL panicked (a bug in this program).
    Internal(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::BadUrl(why) => write!(f, "bad URL: {why}"),
            FetchError::Resolve { host, error } => write!(f, "cannot resolve {host}: {error}"),
            FetchError::Connect(tries) => {
                f.write_str("cannot connect to ")?;
                for (i, (addr, error)) in tries.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", nor to " };
                    write!(f, "{sep}{addr} ({error})")?;
                }
                Ok(())
            }
            FetchError::Io { doing, error } => write!(f, "{doing} failed: {error}"),
            FetchError::Timeout { limit, phase } => {
                write!(f, "timed out after {:.1} s ({phase})", limit.as_secs_f64())
            }
            FetchError::Malformed(why) => write!(f, "malformed response: {why}"),
            FetchError::TooLarge { limit } => {
                write!(f, "body too large: more than {} bytes", limit)
            }
            FetchError::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The board: what each request is doing, for the display
// ---------------------------------------------------------------------------------------

/// Where each URL stands, written by the fetching tasks and read by the display.
pub struct Board {
    /// When fetching started, for the rate.
    started: Instant,
    /// Body bytes received so far, all URLs together.
    total: AtomicU64,
    /// One per URL, in the order given.
    slots: Vec<Slot>,
}

/// One URL's line on the board.
struct Slot {
    url: String,
    /// Its phase. A `std` mutex is fine in async code when, as here, it is held for a few
    /// instructions and never across an `.await`: nobody can be left waiting on it.
    phase: Mutex<Phase>,
    /// Body bytes received so far.
    bytes: AtomicU64,
}

/// What a request is doing.
#[derive(Clone, Debug)]
enum Phase {
    Waiting,
    Resolving,
    Connecting,
    Sending,
    /// Waiting for, or reading, the response; the byte count is in `Slot::bytes`.
    Receiving,
    Done(u16),
    Failed(String),
}

impl Board {
    pub fn new(urls: &[String]) -> Board {
        Board {
            started: Instant::now(),
            total: AtomicU64::new(0),
            slots: urls
                .iter()
                .map(|url| Slot {
                    url: url.clone(),
                    phase: Mutex::new(Phase::Waiting),
                    bytes: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    fn set(&self, index: usize, phase: Phase) {
        *lock(&self.slots[index].phase) = phase;
    }

    fn phase(&self, index: usize) -> Phase {
        lock(&self.slots[index].phase).clone()
    }

    /// Body bytes received so far, all URLs together (the console example shows it live).
    pub fn received(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    fn add_bytes(&self, index: usize, n: u64) {
        // `Relaxed`: the numbers are only shown; nothing else is published through them.
        self.slots[index].bytes.fetch_add(n, Ordering::Relaxed);
        self.total.fetch_add(n, Ordering::Relaxed);
    }
}

/// Locks `mutex`, also after a panic elsewhere left it poisoned (a phase is always whole).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------
// Fetching many
// ---------------------------------------------------------------------------------------

/// Fetches every URL, at most `concurrency` at a time, each within `timeout`; keeps the
/// bodies. The outcomes come back in the order of `urls`.
pub async fn fetch_all(urls: Vec<String>, concurrency: usize, timeout: Duration) -> Vec<Outcome> {
    let options = Options {
        concurrency,
        timeout,
        keep_bodies: true,
        ..Options::default()
    };
    let board = Arc::new(Board::new(&urls));
    fetch_all_with(urls, options, board).await
}

/// Fetches every URL with `options`, keeping `board` up to date.
///
/// Why a semaphore and not N worker tasks pulling URLs from a queue: here each URL is its
/// own task from the start, holding its own index, board slot and clock, and it returns its
/// own `Outcome` through its `JoinHandle`: no queue to share, no channel to send results
/// back on, no question of which worker had which URL when something goes wrong. The
/// semaphore only decides *when* a task may start, and being fair it lets them start in the
/// order given. A waiting task costs a few hundred bytes and no CPU (it is not polled until
/// a permit comes back). With a million URLs, workers would win on memory; here, clarity.
pub async fn fetch_all_with(
    urls: Vec<String>,
    options: Options,
    board: Arc<Board>,
) -> Vec<Outcome> {
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let tasks: Vec<_> = urls
        .iter()
        .enumerate()
        .map(|(index, url)| {
            let (permits, board, url) = (permits.clone(), board.clone(), url.clone());
            task::spawn(async move {
                // Never fails: nobody closes this semaphore. Held until the task ends,
                // after the connection has been dropped.
                let _permit = permits.acquire_owned().await;
                fetch_timed(url, index, &options, &board).await
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for (task, url) in tasks.into_iter().zip(urls) {
        outcomes.push(match task.await {
            Ok(outcome) => outcome,
            // A panic in `fetch_one` would be a bug; report it for this URL and go on.
            Err(err) => Outcome {
                url,
                result: Err(FetchError::Internal(err.to_string())),
                took: Duration::ZERO,
            },
        });
    }
    outcomes
}

/// Fetches `url` within `options.timeout`, keeping slot `index` of `board` up to date. The
/// request belongs to this future: dropping it mid-way closes the socket (the console
/// example cancels a download that way).
pub async fn fetch_timed(url: String, index: usize, options: &Options, board: &Board) -> Outcome {
    let started = Instant::now();
    let exchange = fetch_one(&url, index, options, board);
    // When time runs out, `exchange` is dropped wherever it stands: a pending connect or
    // read is abandoned and the socket closed.
    let result = match time::timeout(options.timeout, exchange).await {
        Ok(result) => result,
        Err(_elapsed) => Err(FetchError::Timeout {
            limit: options.timeout,
            phase: describe(&board.phase(index), &board.slots[index]),
        }),
    };
    board.set(
        index,
        match &result {
            Ok(fetched) => Phase::Done(fetched.status),
            Err(err) => Phase::Failed(err.to_string()),
        },
    );
    Outcome {
        url,
        result,
        took: started.elapsed(),
    }
}

// ---------------------------------------------------------------------------------------
// Fetching one
// ---------------------------------------------------------------------------------------

/// The parts of an `http://` URL.
#[derive(Debug, PartialEq, Eq)]
pub struct Url {
    /// The host as written (brackets removed from an IPv6 address).
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`; the fragment is dropped (it is never sent).
    pub target: String,
    /// The `Host` header: host, and port if one was written.
    pub authority: String,
}

/// Splits `http://host[:port][/path][?query][#fragment]`.
pub fn parse_url(url: &str) -> Result<Url, FetchError> {
    let bad = |why: &str| Err(FetchError::BadUrl(format!("{url:?}: {why}")));
    let Some((scheme, rest)) = url.split_once("://") else {
        return bad("expected http://HOST[:PORT]/PATH");
    };
    if scheme.eq_ignore_ascii_case("https") {
        return bad("https is not supported (this client has no TLS); use http://");
    }
    if !scheme.eq_ignore_ascii_case("http") {
        return bad("only http:// URLs are supported");
    }
    let rest = rest.split('#').next().unwrap_or("");
    let (authority, target) = match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('?') => (&rest[..at], format!("/{}", &rest[at..])),
        Some(at) => (&rest[..at], rest[at..].to_string()),
        None => (rest, "/".to_string()),
    };
    if authority.contains('@') {
        return bad("user names and passwords in URLs are not supported");
    }
    if target.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return bad("spaces and control characters must be percent-encoded");
    }
    // `[v6 address]:port`, or `host:port`, or either without the port.
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return bad("unclosed [ in the host");
        };
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return bad("no host");
    }
    let port = match port {
        None | Some("") => 80,
        Some(port) => match port.parse() {
            Ok(port) if port > 0 => port,
            _ => return bad("the port must be a number from 1 to 65535"),
        },
    };
    Ok(Url {
        host: host.to_string(),
        port,
        target,
        authority: authority.to_string(),
    })
}

/// Resolves, connects, sends the request and reads the response.
async fn fetch_one(
    url: &str,
    index: usize,
    options: &Options,
    board: &Board,
) -> Result<Fetched, FetchError> {
    let url = parse_url(url)?;

    board.set(index, Phase::Resolving);
    let addrs = resolve(&url.host, url.port).await?;

    board.set(index, Phase::Connecting);
    let mut stream = connect(&addrs).await?;

    board.set(index, Phase::Sending);
    // `Connection: close`: one request per connection, and a body without a length ends
    // when the server closes.
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: asincrono-fetch\r\nAccept: */*\r\n\
         Connection: close\r\n\r\n",
        url.target, url.authority
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|err| io_error("sending the request", err))?;

    board.set(index, Phase::Receiving);
    let mut input = Input {
        stream,
        buffered: Vec::with_capacity(8 * 1024),
    };
    let body = Body {
        keep: options.keep_bodies,
        limit: options.max_body,
        data: Vec::new(),
        count: 0,
        board,
        index,
    };
    read_response(&mut input, body).await
}

/// The addresses of `host`. The system resolver (`getaddrinfo`) blocks, possibly for
/// seconds, so it runs on the blocking pool; if the time limit passes first, the lookup
/// finishes there unobserved. (`TcpStream::connect("name:80")` would look the name up on
/// the scheduler thread, stalling every other request meanwhile.)
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, FetchError> {
    let name = host.to_string();
    let lookup = task::spawn_blocking(move || {
        (name.as_str(), port)
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>())
    });
    let failed = |error: String| FetchError::Resolve {
        host: host.to_string(),
        error,
    };
    match lookup.await {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(failed("no address found".into())),
        Ok(Err(err)) => Err(failed(err.to_string())),
        Err(err) => Err(failed(err.to_string())),
    }
}

/// Connects to the first address that accepts, trying them in order.
async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, FetchError> {
    let mut tries = Vec::new();
    for &addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            // asincrono's message already says "connect to ADDR: "; ours names the
            // address once, in front of all the tries.
            Err(err) => {
                let message = err.to_string();
                let prefix = format!("connect to {addr}: ");
                let reason = message.strip_prefix(&prefix).unwrap_or(&message);
                tries.push((addr, reason.to_string()));
            }
        }
    }
    Err(FetchError::Connect(tries))
}

/// The operating system's words for `err` ("Connection refused (os error 111)"), without
/// the context a wrapper may have put in front (we name the address ourselves).
fn os_message(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code).to_string(),
        None => err.to_string(),
    }
}

fn io_error(doing: &'static str, err: io::Error) -> FetchError {
    FetchError::Io {
        doing,
        error: os_message(&err),
    }
}

// ---------------------------------------------------------------------------------------
// Reading the response
// ---------------------------------------------------------------------------------------

/// Parses a whole response given as bytes, as if a server had sent them and then closed
/// the connection: the status line, the headers and the body, framed by its length, by
/// the chunked encoding or by the end of the bytes, with the body kept (up to `max_body`).
///
/// It runs the very code that reads a response from a socket ([`read_response`]), over a
/// byte slice instead. Reading a slice never has to wait, so a single poll, with a waker
/// that does nothing, runs the reading to its end: no runtime, no I/O. This is the entry
/// point of the parser tests and fuzz targets (tests/parsers_fuzz.rs, fuzz/).
pub fn parse_response(bytes: &[u8], max_body: u64) -> Result<Fetched, FetchError> {
    let board = Board::new(&[String::new()]);
    let body = Body {
        keep: true,
        limit: max_body,
        data: Vec::new(),
        count: 0,
        board: &board,
        index: 0,
    };
    let mut input = Input {
        stream: bytes,
        buffered: Vec::new(),
    };
    let reading = pin!(read_response(&mut input, body));
    match reading.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        // Only a reader that can wait makes the reading wait; a slice cannot.
        Poll::Pending => Err(FetchError::Internal("reading a byte slice waited".into())),
    }
}

/// Reads a response from `input`: the head, then the body the way the head frames it.
async fn read_response<R: AsyncRead + Unpin>(
    input: &mut Input<R>,
    mut body: Body<'_>,
) -> Result<Fetched, FetchError> {
    let (status, reason, framing) = read_head(input).await?;
    match framing {
        Framing::Length(length) => read_length(input, &mut body, length).await?,
        Framing::Chunked => read_chunked(input, &mut body).await?,
        Framing::UntilClose => read_until_close(input, &mut body).await?,
    }
    Ok(Fetched {
        status,
        reason,
        bytes: body.count,
        body: body.data,
        framing,
    })
}

/// The connection (a `TcpStream`, or a byte slice in [`parse_response`]), and the bytes
/// read from it but not used yet.
struct Input<R> {
    stream: R,
    /// Read ahead: the head is read in blocks, so the block that ends it usually holds the
    /// first bytes of the body, or a whole small body.
    buffered: Vec<u8>,
}

impl<R: AsyncRead + Unpin> Input<R> {
    /// Reads more into `buffered`; returns how many bytes came (0: the server closed).
    async fn fill(&mut self) -> Result<usize, FetchError> {
        let mut block = [0u8; 16 * 1024];
        let n = self
            .stream
            .read(&mut block)
            .await
            .map_err(|err| io_error("receiving the response", err))?;
        self.buffered.extend_from_slice(&block[..n]);
        Ok(n)
    }

    /// The next line (without its CRLF), reading more as needed; at most `limit` bytes.
    async fn line(&mut self, limit: usize, what: &str) -> Result<String, FetchError> {
        loop {
            if let Some(end) = find(&self.buffered, b"\r\n") {
                let line: Vec<u8> = self.buffered.drain(..end + 2).take(end).collect();
                return String::from_utf8(line)
                    .map_err(|_| FetchError::Malformed(format!("{what} is not text")));
            }
            if self.buffered.len() > limit {
                return Err(FetchError::Malformed(format!(
                    "{what} longer than {limit} bytes"
                )));
            }
            if self.fill().await? == 0 {
                return Err(FetchError::Malformed(format!(
                    "the connection closed in the middle of the {what}"
                )));
            }
        }
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The body as it arrives: counted, checked against the limit, kept if asked, and shown.
struct Body<'a> {
    keep: bool,
    limit: u64,
    data: Vec<u8>,
    count: u64,
    board: &'a Board,
    index: usize,
}

impl Body<'_> {
    fn push(&mut self, bytes: &[u8]) -> Result<(), FetchError> {
        let n = bytes.len() as u64;
        if self.count + n > self.limit {
            return Err(FetchError::TooLarge { limit: self.limit });
        }
        self.count += n;
        if self.keep {
            self.data.extend_from_slice(bytes);
        }
        self.board.add_bytes(self.index, n);
        Ok(())
    }
}

/// Reads the status line and headers; returns the status, its reason phrase and how the
/// body is framed. Informational answers (`100 Continue` and the like) are skipped: a
/// final answer follows them.
async fn read_head<R: AsyncRead + Unpin>(
    input: &mut Input<R>,
) -> Result<(u16, String, Framing), FetchError> {
    loop {
        let end = loop {
            if let Some(blank) = find(&input.buffered, b"\r\n\r\n") {
                break blank + 4;
            }
            if input.buffered.len() > MAX_HEAD {
                return Err(FetchError::Malformed(format!(
                    "the head is longer than {MAX_HEAD} bytes"
                )));
            }
            if input.fill().await? == 0 {
                return Err(FetchError::Malformed(if input.buffered.is_empty() {
                    "the server closed the connection without answering".into()
                } else {
                    "the connection closed in the middle of the head".into()
                }));
            }
        };
        let head: Vec<u8> = input.buffered.drain(..end).collect();
        let (status, reason, framing) = parse_head(&head)?;
        if (100..200).contains(&status) {
            continue;
        }
        return Ok((status, reason, framing));
    }
}

/// Parses a response head (up to and including its blank line).
pub fn parse_head(head: &[u8]) -> Result<(u16, String, Framing), FetchError> {
    let malformed = |why: String| FetchError::Malformed(why);
    let text = std::str::from_utf8(head).map_err(|_| malformed("the head is not text".into()))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    // `HTTP/1.1 200 OK`: version, a three-digit code, and a reason phrase (maybe empty).
    let mut parts = status_line.splitn(3, ' ');
    let (version, code, reason) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    if !version.is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(malformed(format!(
            "not an HTTP/1.x status line: {status_line:?}"
        )));
    }
    // Three digits, from 100 (RFC 9110, 15: the first digit is the class, 1 to 5; an
    // unknown class above 5 still reads as a status).
    let status = code
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|&status| status >= 100)
        .ok_or_else(|| malformed(format!("no status code in {status_line:?}")))?;

    let (mut length, mut chunked, mut other_coding) = (None::<u64>, false, false);
    for line in lines.take_while(|line| !line.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(malformed(format!(
                "a header line without a colon: {line:?}"
            )));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            // Digits only: `parse` would also take a sign (`+5`), which the grammar does not.
            let parsed = Some(value)
                .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| malformed(format!("Content-Length {value:?} is not a number")))?;
            // Two different lengths: no way to tell which one is true (RFC 9112, 6.3).
            if length.is_some_and(|l| l != parsed) {
                return Err(malformed("two different Content-Length headers".into()));
            }
            length = Some(parsed);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Only the last coding frames the body; anything else (gzip alone, say) means
            // the body runs until the connection closes.
            let last = value.rsplit(',').next().unwrap_or("").trim();
            chunked = last.eq_ignore_ascii_case("chunked");
            other_coding = !chunked;
        }
    }
    // No body at all for these, whatever the headers say (RFC 9112, 6.3).
    let framing = if status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if other_coding {
        Framing::UntilClose
    } else {
        length.map_or(Framing::UntilClose, Framing::Length)
    };
    Ok((status, reason.to_string(), framing))
}

/// Exactly `length` bytes of body.
async fn read_length<R: AsyncRead + Unpin>(
    input: &mut Input<R>,
    body: &mut Body<'_>,
    length: u64,
) -> Result<(), FetchError> {
    // Refuse at once, rather than after 64 MiB of reading.
    if length > body.limit {
        return Err(FetchError::TooLarge { limit: body.limit });
    }
    take(input, body, length).await
}

/// Moves `n` bytes from the connection into the body.
async fn take<R: AsyncRead + Unpin>(
    input: &mut Input<R>,
    body: &mut Body<'_>,
    mut n: u64,
) -> Result<(), FetchError> {
    let expected = n;
    while n > 0 {
        if input.buffered.is_empty() && input.fill().await? == 0 {
            return Err(FetchError::Malformed(format!(
                "the connection closed after {} of {expected} bytes",
                expected - n
            )));
        }
        let here = input
            .buffered
            .len()
            .min(usize::try_from(n).unwrap_or(usize::MAX));
        body.push(&input.buffered[..here])?;
        input.buffered.drain(..here);
        n -= here as u64;
    }
    Ok(())
}

/// A chunked body: `SIZE-IN-HEX[;extensions]\r\n`, that many bytes, `\r\n`, again, until a
/// chunk of size 0; then optional trailer lines and a blank line.
async fn read_chunked<R: AsyncRead + Unpin>(
    input: &mut Input<R>,
    body: &mut Body<'_>,
) -> Result<(), FetchError> {
    loop {
        let line = input.line(MAX_CHUNK_LINE, "chunk-size line").await?;
        let digits = line.split(';').next().unwrap_or("").trim();
        // Hex digits only: `from_str_radix` would also take a sign (`+5`).
        let size = Some(digits)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|d| u64::from_str_radix(d, 16).ok())
            .ok_or_else(|| FetchError::Malformed(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            break;
        }
        if body.count.saturating_add(size) > body.limit {
            return Err(FetchError::TooLarge { limit: body.limit });
        }
        take(input, body, size).await?;
        if !input
            .line(MAX_CHUNK_LINE, "end of a chunk")
            .await?
            .is_empty()
        {
            return Err(FetchError::Malformed("a chunk longer than its size".into()));
        }
    }
    // Trailers (headers after the body): read and ignored.
    while !input.line(MAX_HEAD, "trailer").await?.is_empty() {}
    Ok(())
}

/// Everything until the server closes.
async fn read_until_close<R: AsyncRead + Unpin>(
    input: &mut Input<R>,
    body: &mut Body<'_>,
) -> Result<(), FetchError> {
    loop {
        let here = std::mem::take(&mut input.buffered);
        body.push(&here)?;
        if input.fill().await? == 0 {
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Showing it
// ---------------------------------------------------------------------------------------

/// How a slot's phase reads on screen.
fn describe(phase: &Phase, slot: &Slot) -> String {
    match phase {
        Phase::Waiting => "waiting".into(),
        Phase::Resolving => "resolving".into(),
        Phase::Connecting => "connecting".into(),
        Phase::Sending => "sending".into(),
        Phase::Receiving => match slot.bytes.load(Ordering::Relaxed) {
            0 => "waiting for the answer".into(),
            n => format!("{n} bytes"),
        },
        Phase::Done(status) => format!("done {status}"),
        Phase::Failed(why) => format!("error: {why}"),
    }
}

/// Redraws the board every 100 ms until `stop` is raised, then once more.
///
/// On a terminal (stderr, so that the summary on stdout can go to a file) the frame is
/// drawn over the previous one: the cursor goes back up as many lines as were drawn. In a
/// file or a pipe, redrawing would only pile up frames: one totals line per second instead.
/// The frames go through `asincrono::io::stderr()`, whose writes run on the blocking pool:
/// a slow terminal must not stall the fetching tasks.
async fn show_progress(board: Arc<Board>, stop: Arc<AtomicBool>) {
    let terminal = io::stderr().is_terminal();
    let mut out = asincrono::io::stderr();
    let mut wake_ups = time::interval(REDRAW_EVERY);
    let mut drawn_lines = 0;
    for wake_up in 0u64.. {
        wake_ups.tick().await;
        let last = stop.load(Ordering::Relaxed);
        let mut frame = String::new();
        if terminal {
            if drawn_lines > 0 {
                frame.push_str(&format!("\x1b[{drawn_lines}A"));
            }
            let lines = frame_lines(&board);
            drawn_lines = lines.len();
            for line in lines {
                frame.push_str(&format!("\r\x1b[2K{line}\n"));
            }
        } else if last || (wake_up > 0 && wake_up % PLAIN_LINE_EVERY == 0) {
            frame = format!("{}\n", totals_line(&board));
        }
        // A frame that cannot be written (stderr closed) is no reason to stop fetching.
        if !frame.is_empty() {
            let _ = out.write_all(frame.as_bytes()).await;
            let _ = out.flush().await;
        }
        if last {
            return;
        }
    }
}

/// `3/10 done, 1 failed, 2 in flight, 1.2 MiB at 3.4 MiB/s`
fn totals_line(board: &Board) -> String {
    let (mut done, mut failed, mut waiting) = (0, 0, 0);
    for slot in &board.slots {
        match *lock(&slot.phase) {
            Phase::Done(_) => done += 1,
            Phase::Failed(_) => failed += 1,
            Phase::Waiting => waiting += 1,
            _ => {}
        }
    }
    let bytes = board.total.load(Ordering::Relaxed);
    let seconds = board.started.elapsed().as_secs_f64().max(1e-3);
    format!(
        "{}/{} finished, {failed} failed, {} in flight, {}, {}/s",
        done + failed,
        board.slots.len(),
        board.slots.len() - done - failed - waiting,
        human(bytes),
        human((bytes as f64 / seconds) as u64),
    )
}

/// The totals line, then one line per URL: all of them if they fit in `MAX_LIVE_LINES`,
/// otherwise only those in flight (the summary lists everything at the end).
fn frame_lines(board: &Board) -> Vec<String> {
    let mut lines = vec![totals_line(board)];
    let all = board.slots.len() <= MAX_LIVE_LINES;
    let mut hidden = 0;
    for slot in &board.slots {
        let phase = lock(&slot.phase).clone();
        let shown = all
            || !matches!(phase, Phase::Waiting | Phase::Done(_) | Phase::Failed(_))
                && lines.len() <= MAX_LIVE_LINES;
        if shown {
            lines.push(format!(
                "  {:<50} {}",
                clip(&slot.url, 50),
                describe(&phase, slot)
            ));
        } else if !all && !matches!(phase, Phase::Waiting | Phase::Done(_) | Phase::Failed(_)) {
            hidden += 1;
        }
    }
    if hidden > 0 {
        lines.push(format!("  … and {hidden} more in flight"));
    }
    lines
}

/// The summary: one row per URL, then the totals.
fn print_summary(outcomes: &[Outcome], took: Duration) {
    let width = outcomes
        .iter()
        .map(|o| o.url.chars().count())
        .max()
        .unwrap_or(3)
        .clamp(3, 60);
    println!();
    println!(
        "{:<width$}  {:<6} {:>12} {:>8}",
        "URL", "STATUS", "BYTES", "TIME"
    );
    let mut bytes = 0;
    for outcome in outcomes {
        let seconds = format!("{:.3}s", outcome.took.as_secs_f64());
        let url = clip(&outcome.url, width);
        match &outcome.result {
            Ok(fetched) => {
                bytes += fetched.bytes;
                println!(
                    "{url:<width$}  {:<6} {:>12} {seconds:>8}",
                    fetched.status, fetched.bytes
                );
            }
            Err(err) => println!(
                "{url:<width$}  {:<6} {:>12} {seconds:>8}  {err}",
                "error", "-"
            ),
        }
    }
    let ok = outcomes.iter().filter(|o| o.succeeded()).count();
    let seconds = took.as_secs_f64().max(1e-3);
    println!(
        "{} URLs: {ok} succeeded, {} failed (an error or a status other than 2xx); \
         {bytes} bytes ({}) in {seconds:.2} s, {}/s",
        outcomes.len(),
        outcomes.len() - ok,
        human(bytes),
        human((bytes as f64 / seconds) as u64),
    );
}

/// `text` cut to `width` characters, with `…` where it was cut.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// `1536` → `1.5 KiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
