//! A small HTTP/1.1 server: static files from a folder, with keep-alive and pipelining, a
//! `/slow` route that waits on a timer and a `/stats` route.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example http_server                             # 127.0.0.1:8080, files from .
//! cargo run --release --example http_server -- --root docs --addr 0.0.0.0:9000
//! ```
//!
//! then try `curl -v http://127.0.0.1:8080/README.md`, `curl http://127.0.0.1:8080/stats`,
//! `curl http://127.0.0.1:8080/slow` (one second) while other requests keep flowing, or
//! `wrk -c 64 -d 5 http://127.0.0.1:8080/stats`.
//!
//! What it teaches:
//!
//! * **A request at a time over one connection.** With keep-alive, a connection carries
//!   request after request; with pipelining, a client sends several before reading any
//!   answer. The connection parses every whole request in its buffer and answers them in
//!   order into a `BufWriter`, flushing once no whole request is left: the same shape as
//!   the key-value server.
//! * **Defending against clients.** Each limit is a constant with its status code: a
//!   request head must fit in `MAX_HEAD` bytes (431), arrive within a time limit (408,
//!   against slow-loris clients that trickle bytes to hold connections open), and name a
//!   file inside the root (403/404, see `StaticFiles::read`).
//! * **Files through the blocking pool.** Regular files cannot be waited for with epoll, so
//!   the disk work runs on a pool thread, and a slow disk holds up one request, never the
//!   server. A file request's disk work (is it a folder, where does it really lead, what is
//!   in it) is one `spawn_blocking` job rather than three `asincrono::fs` calls, each a
//!   hand-off to the pool and a wake-up back. A small file read less than a second ago
//!   answers from memory, once one `fstat` of its still-open descriptor has said it is
//!   unchanged (see `StaticFiles::read`).
//!
//! * **Stopping gracefully.** Ctrl-C or `SIGTERM` stops the accepting; a connection busy
//!   with a request finishes it, one waiting between requests closes (see
//!   `support/shutdown.rs`, shared with the other servers).
//!
//! The request head is parsed by hand, not with `httparse`: it is about forty lines, keeps
//! the example free of dependencies, and shows what a parser has to check. Corners cut:
//! no request bodies (a request that announces one is answered, then the connection is
//! closed, since its body would have to be read to find the next request), no chunked
//! encoding, no ranges, no caching headers, no directory listings (a directory serves its
//! `index.html`), and a file is read whole into memory before it is sent.

use asincrono::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use asincrono::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use asincrono::time::{self, Instant};
use asincrono::{fs, task};
use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[path = "support/shutdown.rs"]
mod shutdown;
use shutdown::{InFlight, Shutdown};

const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// How long to wait after a failed `accept` before trying again (see `serve_with`).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Exit code for a bad command line, as most command-line tools do.
const EXIT_USAGE: u8 = 2;

/// The largest request head (request line and headers) accepted, in bytes. A longer one
/// gets `431 Request Header Fields Too Large` (RFC 6585), which says exactly this; `413
/// Content Too Large` is about the body, which is not what is too large here.
pub const MAX_HEAD: usize = 8 * 1024;

/// How long, and how many bytes, `linger` reads before closing.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 4 * 1024 * 1024;

/// The limits `serve_with` enforces; `serve` uses `Limits::default()`.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a client has to send a whole request head, counted from the end of the
    /// previous request (or from connecting). Past it, a client that has sent part of a
    /// head gets `408 Request Timeout`; an idle keep-alive connection is simply closed.
    pub header_timeout: Duration,
    /// How long `/slow` waits before answering.
    pub slow_delay: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            slow_delay: Duration::from_secs(1),
        }
    }
}

#[asincrono::main]
async fn main() -> ExitCode {
    run(std::env::args().skip(1)).await
}

/// The whole program, given its arguments: bind, serve until Ctrl-C or SIGTERM, then finish
/// the requests in flight (see `support/shutdown.rs`).
pub async fn run(args: impl Iterator<Item = String>) -> ExitCode {
    let (addr, root) = match parse_args(args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("http_server: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(listener) => listener,
        // Typically "address in use", "permission denied" (a port below 1024), or a name
        // that does not resolve; the error says which.
        Err(err) => {
            eprintln!("http_server: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => {
            println!(
                "http server listening on {local}, serving {}",
                root.display()
            );
            println!("try it:  curl -v http://{local}/stats");
        }
        // Cannot happen for a listener just bound; and the server works anyway.
        Err(err) => eprintln!("http server listening on {addr} (local_addr failed: {err})"),
    }
    let shutdown = Shutdown::default();
    let server = serve_until(listener, root, Limits::default(), shutdown.clone());
    shutdown::run_until_signal("http_server", shutdown, server).await
}

/// `--addr HOST:PORT` and `--root DIR`, or their defaults. The root must be a directory;
/// it is made absolute, with its symbolic links resolved, once, here.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(String, PathBuf), String> {
    let usage = "usage: http_server [--addr HOST:PORT] [--root DIR]";
    let (mut addr, mut root) = (DEFAULT_ADDR.to_string(), PathBuf::from("."));
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--addr" | "--root" => args
                .next()
                .ok_or(format!("{arg} needs a value ({usage})"))?,
            other => return Err(format!("unexpected argument {other:?} ({usage})")),
        };
        match arg.as_str() {
            "--addr" => addr = value,
            _ => root = PathBuf::from(value),
        }
    }
    // Blocking calls, but before any request is served.
    let canonical =
        std::fs::canonicalize(&root).map_err(|err| format!("--root {}: {err}", root.display()))?;
    if !canonical.is_dir() {
        return Err(format!("--root {}: not a directory", root.display()));
    }
    Ok((addr, canonical))
}

/// Counters for `/stats`, shared by every connection.
#[derive(Default)]
pub struct Stats {
    /// Requests answered, whatever the status.
    requests: AtomicU64,
    /// Connections accepted and not yet closed.
    open: AtomicU64,
    /// Connections accepted since the start.
    accepted: AtomicU64,
    /// Bytes of files sent.
    file_bytes: AtomicU64,
}

/// Serves files under `root` on `listener`, for ever, with the default limits.
pub async fn serve(listener: TcpListener, root: PathBuf) -> ! {
    serve_with(listener, root, Limits::default()).await
}

/// Serves files under `root` on `listener`, for ever.
pub async fn serve_with(listener: TcpListener, root: PathBuf, limits: Limits) -> ! {
    serve_until(listener, root, limits, Shutdown::default()).await;
    unreachable!("nobody can stop a `Shutdown` that nobody else holds")
}

/// Serves files under `root` on `listener` until `shutdown` begins; connections then finish
/// the request they are on and close. `root` should be canonical (see `parse_args`); if it
/// is not, it is made so here, and if that fails every file is a 404.
pub async fn serve_until(listener: TcpListener, root: PathBuf, limits: Limits, shutdown: Shutdown) {
    let root = fs::canonicalize(&root).await.unwrap_or(root);
    let shared = Arc::new((
        StaticFiles::new(root),
        limits,
        Stats::default(),
        shutdown.clone(),
    ));
    while let Some(accepted) = shutdown.unless_stopping(listener.accept()).await {
        match accepted {
            Ok((stream, peer)) => {
                // Dropping the handle detaches the task: it serves the client while this
                // loop goes back to `accept`. Counted as in flight from now on.
                let in_flight = shutdown.track();
                task::spawn(connection(stream, peer, shared.clone(), in_flight));
            }
            // Mostly EMFILE/ENFILE (out of file descriptors) or ENOBUFS/ENOMEM: they last
            // until some connection closes, and retrying at once would spin at 100% CPU
            // and crowd out the very tasks whose closing would fix it. Wait a little.
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

type Shared = (StaticFiles, Limits, Stats, Shutdown);

/// Serves one client, and keeps the count of open connections; `_in_flight` is dropped
/// when it is over.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    _in_flight: InFlight,
) {
    let stats = &shared.2;
    stats.open.fetch_add(1, Ordering::Relaxed);
    stats.accepted.fetch_add(1, Ordering::Relaxed);
    match serve_requests(stream, &shared).await {
        Ok(()) => {}
        // The client vanished without closing properly (killed, or its network went
        // away): normal for a server, and only this connection's business.
        Err(err) if is_disconnect(&err) => {}
        // Anything else is unexpected; still only this connection's business.
        Err(err) => eprintln!("{peer}: connection closed: {err}"),
    }
    stats.open.fetch_sub(1, Ordering::Relaxed);
}

async fn serve_requests(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let (files, limits, stats, shutdown) = shared;
    let (mut reader, writer) = stream.into_split();
    let mut writer = BufWriter::new(writer);
    let mut input: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 4096];
    // The head of the next request must be complete by then (see `Limits`).
    let mut deadline = Instant::now() + limits.header_timeout;
    loop {
        // Answer every whole request head already here, in order.
        while let Some(end) = head_end(&input) {
            let answer = match parse_head(&input[..end]) {
                Ok(request) => respond(&request, files, limits, stats).await,
                Err(status) => Response::error(status, true),
            };
            input.drain(..end);
            stats.requests.fetch_add(1, Ordering::Relaxed);
            answer.write_to(&mut writer).await?;
            if answer.close {
                finish(writer).await?;
                // Unread requests may follow (pipelined after a `Connection: close`, or a
                // body this server does not read): see `linger`.
                return linger(reader).await;
            }
            deadline = Instant::now() + limits.header_timeout;
        }
        if input.len() > MAX_HEAD {
            stats.requests.fetch_add(1, Ordering::Relaxed);
            Response::error(431, true).write_to(&mut writer).await?;
            finish(writer).await?;
            return linger(reader).await;
        }
        // Nothing whole left: send the answers before waiting for more.
        writer.flush().await?;
        let next = time::timeout_at(deadline, reader.read(&mut chunk));
        // Between two requests, shutdown closes the connection; inside one, it waits.
        let next = match input.is_empty() {
            true => match shutdown.unless_stopping(next).await {
                Some(next) => Some(next),
                // Shutdown began while we waited. A request may have arrived that the
                // reactor has not reported yet: one direct read tells (see `shutdown.rs`).
                None => shutdown::arrived_meanwhile(reader.try_read(&mut chunk)).map(Ok),
            },
            false => Some(next.await),
        };
        let Some(next) = next else {
            return finish(writer).await;
        };
        let received = match next {
            Ok(received) => received?,
            // An idle keep-alive connection: close it without a word, as servers do.
            Err(_) if input.is_empty() => return finish(writer).await,
            // Part of a head, and no more in time: a slow (or slow-loris) client.
            Err(_) => {
                stats.requests.fetch_add(1, Ordering::Relaxed);
                Response::error(408, true).write_to(&mut writer).await?;
                finish(writer).await?;
                return linger(reader).await;
            }
        };
        if received == 0 {
            // The client closed its side; a partial head will never be finished.
            return finish(writer).await;
        }
        input.extend_from_slice(&chunk[..received]);
    }
}

/// Sends what is buffered and closes the sending side. A client that has gone already
/// makes this fail with a reset or a broken pipe, which the caller ignores.
async fn finish(mut writer: BufWriter<OwnedWriteHalf>) -> io::Result<()> {
    writer.flush().await?;
    writer.shutdown().await
}

/// After the answer has been sent and the sending side shut down: reads and throws away
/// what the client still sends, for a little while, before the socket is closed.
///
/// Closing a socket that has unread bytes in its receive buffer makes the kernel send a
/// reset (RST) rather than a normal close, and a reset can make the client's kernel throw
/// away our answer before the client has read it: the client sees "connection reset" and
/// never learns it sent a 431 or a 408. Reading until the client closes too (it will, on
/// seeing our FIN) avoids that; the limits keep a client that never stops from holding
/// the connection open. Web servers call this a *lingering close*.
async fn linger(mut reader: OwnedReadHalf) -> io::Result<()> {
    let mut sink = vec![0u8; 16 * 1024];
    let mut left = LINGER_BYTES;
    let drain = async {
        while left > 0 {
            match reader.read(&mut sink).await {
                Ok(0) | Err(_) => break, // the client closed (or reset): done
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    // Out of time is fine too: the socket closes either way.
    let _ = time::timeout(LINGER_TIME, drain).await;
    Ok(())
}

/// Where the first request head in `input` ends (just past its blank line), if it is all
/// there and within `MAX_HEAD`.
pub fn head_end(input: &[u8]) -> Option<usize> {
    let window = &input[..input.len().min(MAX_HEAD + 4)];
    let blank = window.windows(4).position(|four| four == b"\r\n\r\n")?;
    Some(blank + 4).filter(|&end| end <= MAX_HEAD)
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// What the server needs from a request head.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent: `/path?query`.
    pub target: String,
    /// The client asked to close after this answer, or speaks HTTP/1.0 without keep-alive,
    /// or announced a body (which this server does not read).
    pub close: bool,
}

/// Parses a request head (up to and including its blank line); `Err` is the status to
/// answer with: 400 for anything malformed, 505 for an HTTP version other than 1.x.
pub fn parse_head(head: &[u8]) -> Result<Request, u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().ok_or(400u16)?;
    // Exactly `METHOD SP TARGET SP VERSION`: single spaces, no empty parts.
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    let is_token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic());
    if !is_token(method) || target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(400);
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/") => return Err(505),
        _ => return Err(400),
    };
    let mut close = http10;
    for line in lines.take_while(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(400u16)?;
        // The name is a token: no space before the colon (RFC 9112 says to reject it:
        // request smuggling), no separators, no control bytes.
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(400);
        }
        // A control byte in a value (a lone CR or LF, a NUL) is refused rather than passed
        // on (RFC 9110, 5.5); a tab is whitespace.
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(400);
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            let tokens = value.split(',').map(str::trim);
            for token in tokens {
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    close = false;
                }
            }
        } else if (name.eq_ignore_ascii_case("content-length") && value != "0")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            close = true; // a body follows, which this server does not read
        }
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        close,
    })
}

/// A byte of a token (RFC 9110, 5.6.2): a header name, say.
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// An answer, ready to be written.
struct Response {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    /// Send the headers only (a HEAD request).
    head_only: bool,
    /// Close the connection after this answer.
    close: bool,
    /// Extra header lines, each ending in `\r\n`.
    extra: &'static str,
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            body,
            head_only: false,
            close: false,
            extra: "",
        }
    }

    fn error(status: u16, close: bool) -> Response {
        let body = format!("{status} {}\n", reason(status)).into_bytes();
        Response {
            close,
            ..Response::new(status, "text/plain; charset=utf-8", body)
        }
    }

    async fn write_to(&self, writer: &mut BufWriter<OwnedWriteHalf>) -> io::Result<()> {
        let connection = if self.close { "close" } else { "keep-alive" };
        let head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {connection}\r\n{}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len(),
            self.extra,
        );
        writer.write_all(head.as_bytes()).await?;
        if !self.head_only {
            writer.write_all(&self.body).await?;
        }
        Ok(())
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Answers one well-formed request.
async fn respond(
    request: &Request,
    files: &StaticFiles,
    limits: &Limits,
    stats: &Stats,
) -> Response {
    let head_only = match request.method.as_str() {
        "GET" => false,
        "HEAD" => true,
        // Methods HTTP defines, which this server does not allow on anything: 405, with the
        // `Allow` header that status requires.
        "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "CONNECT" | "TRACE" => {
            return Response {
                extra: "Allow: GET, HEAD\r\n",
                ..Response::error(405, request.close)
            };
        }
        // A method the server does not know at all.
        _ => return Response::error(501, request.close),
    };
    let mut response = match request.target.split(['?', '#']).next().unwrap_or("") {
        "/slow" => {
            // Other connections are served meanwhile: this task is simply not woken
            // until the timer fires.
            time::sleep(limits.slow_delay).await;
            Response::new(
                200,
                "text/plain; charset=utf-8",
                b"slow, but here\n".to_vec(),
            )
        }
        "/stats" => {
            let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
            let text = format!(
                "requests: {}\nconnections_open: {}\nconnections_accepted: {}\nfile_bytes_sent: {}\n",
                load(&stats.requests),
                load(&stats.open),
                load(&stats.accepted),
                load(&stats.file_bytes),
            );
            Response::new(200, "text/plain; charset=utf-8", text.into_bytes())
        }
        path => match files.read(path).await {
            Ok((content_type, body)) => {
                stats
                    .file_bytes
                    .fetch_add(body.len() as u64, Ordering::Relaxed);
                Response::new(200, content_type, body)
            }
            Err(status) => Response::error(status, false),
        },
    };
    response.head_only = head_only;
    response.close = request.close;
    response
}

/// The folder the server serves, and the small files it has lately read from it.
pub struct StaticFiles {
    /// The folder, canonical (see `parse_args`).
    root: PathBuf,
    /// URL paths answered lately, and what was read for each: see [`StaticFiles::read`].
    kept: std::sync::Mutex<HashMap<PathBuf, Arc<KeptFile>>>,
}

/// How long a file kept in memory may answer for its path before the path is looked up
/// and the file read again, changed or not.
const KEPT_FOR: Duration = Duration::from_secs(1);
/// How many files are kept at most (each holds a descriptor open); when full, the memory
/// starts afresh.
const KEPT_MAX: usize = 128;
/// The largest file kept in memory; a larger one is read from disk at every request.
const KEPT_SIZE_MAX: usize = 64 * 1024;

/// A small file as it was read from disk, kept to answer its path again without reading it.
struct KeptFile {
    found: FoundFile,
    read_at: Instant,
}

/// What writing to a file, or removing it, changes in its attributes.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    /// Only a regular file is kept: a FIFO kept open would keep a reader on it.
    regular: bool,
    size: u64,
    /// Modification and status-change times, in seconds and nanoseconds.
    modified: (i64, i64),
    changed: (i64, i64),
    /// The number of names the file has: 0 once it is removed, or once another file is
    /// renamed over it (as editors save).
    links: u64,
}

impl Snapshot {
    fn of(file: &std::fs::File) -> io::Result<Snapshot> {
        use std::os::unix::fs::MetadataExt;
        let attributes = file.metadata()?;
        Ok(Snapshot {
            regular: attributes.is_file(),
            size: attributes.size(),
            modified: (attributes.mtime(), attributes.mtime_nsec()),
            changed: (attributes.ctime(), attributes.ctime_nsec()),
            links: attributes.nlink(),
        })
    }
}

impl StaticFiles {
    fn new(root: PathBuf) -> StaticFiles {
        StaticFiles {
            root,
            kept: Default::default(),
        }
    }

    /// The content type and contents of the file under the root that the URL path `path`
    /// names; or the status to answer with.
    ///
    /// The path is checked first without touching the disk (see [`relative_path`]). A
    /// small file read for the same path less than [`KEPT_FOR`] ago answers from memory if
    /// it has not changed since: one `fstat` of its open descriptor says so, with no path
    /// to walk and no disk to wait for (its attributes are in the kernel's memory while it
    /// is open; a network file system may still ask its server, and this server is meant
    /// for local folders). Otherwise everything the disk is asked goes into **one**
    /// blocking job ([`read_under_root`]): is it a folder, where does it really lead, and
    /// what is in it. As three `asincrono::fs` calls, each would cross to the pool and back.
    ///
    /// Trusting a path's resolution for a second is what nginx's `open_file_cache` does
    /// for longer. What it lets through, for at most that second: a file moved away (not
    /// removed) and replaced, or swapped for a symbolic link, is still answered from the
    /// file the check approved; and a rewrite that keeps the size, within one tick of the
    /// file system's clock after the read (a few milliseconds), leaves the times as they
    /// were.
    // ANCHOR: static_files_read
    pub async fn read(&self, path: &str) -> Result<(&'static str, Vec<u8>), u16> {
        let relative = relative_path(path)?;
        if let Some(kept) = self.kept_unchanged(&relative) {
            return Ok((kept.found.content_type, kept.found.body.clone()));
        }
        let root = self.root.clone();
        let looked_up = relative.clone();
        let found = task::spawn_blocking(move || read_under_root(&root, &looked_up))
            .await
            .unwrap_or(Err(500))?;
        let answer = (found.content_type, found.body.clone());
        self.keep(relative, found);
        Ok(answer)
    }
    // ANCHOR_END: static_files_read

    /// The file kept for `relative`, if it was read less than [`KEPT_FOR`] ago and has not
    /// changed since.
    fn kept_unchanged(&self, relative: &Path) -> Option<Arc<KeptFile>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let file = Arc::clone(kept.get(relative)?);
        drop(kept); // the `fstat` below needs no lock
        let fresh = file.read_at.elapsed() < KEPT_FOR;
        let unchanged = || Snapshot::of(&file.found.opened).ok().as_ref() == Some(&file.found.seen);
        (fresh && unchanged()).then_some(file)
    }

    fn keep(&self, relative: PathBuf, found: FoundFile) {
        if !found.seen.regular || found.body.len() > KEPT_SIZE_MAX {
            return;
        }
        let read_at = Instant::now();
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= KEPT_MAX {
            kept.clear();
        }
        kept.insert(relative, Arc::new(KeptFile { found, read_at }));
    }
}

/// The URL path `path` as a path relative to the root, or the status to answer with.
///
/// It must start with `/`, and no segment may be `..` (whether written `..` or `%2e%2e`),
/// nor contain an encoded `/` or `\` or a NUL (`%2f`, `%5c`, `%00`), which would make one
/// segment into several after decoding: 403 for any of these.
pub fn relative_path(path: &str) -> Result<PathBuf, u16> {
    if !path.starts_with('/') {
        return Err(400); // `*` or an absolute URL: not for a static file server
    }
    // An encoded `/` would become a separator only after decoding: refuse it, rather
    // than guess what the client meant.
    if path.to_ascii_lowercase().contains("%2f") {
        return Err(403);
    }
    let decoded = percent_decode(path).ok_or(400u16)?;
    let mut relative = PathBuf::new();
    for segment in decoded.split(|&b| b == b'/') {
        let segment = std::str::from_utf8(segment).map_err(|_| 404u16)?;
        if segment.contains(['\\', '\0']) {
            return Err(403);
        }
        match Path::new(segment).components().next() {
            None | Some(Component::CurDir) => {}
            Some(Component::Normal(_)) => relative.push(segment),
            // `..` (or anything else that is not a plain name)
            Some(_) => return Err(403),
        }
    }
    Ok(relative)
}

/// What [`read_under_root`] found.
struct FoundFile {
    /// The content type, from the extension of the file the URL path led to (worked out
    /// once, not at every request for a kept file).
    content_type: &'static str,
    body: Vec<u8>,
    /// The file, still open: asking it whether it has changed walks no path.
    opened: std::fs::File,
    /// What the file looked like just before it was read.
    seen: Snapshot,
}

/// On a pool thread: resolves `relative` under `root` on disk and reads it. A folder serves
/// its `index.html`. After resolving (`canonicalize` follows every symbolic link) the file
/// must still be under `root` (canonical, see `parse_args`): a symbolic link inside the
/// folder that points outside it gets 403. A path that does not exist gets 404.
fn read_under_root(root: &Path, relative: &Path) -> Result<FoundFile, u16> {
    let mut file = root.join(relative);
    if file.is_dir() {
        file.push("index.html");
    }
    let status_of = |err: io::Error| match err.kind() {
        ErrorKind::PermissionDenied => 403u16,
        // Gone meanwhile, or a directory without index.html.
        ErrorKind::NotFound | ErrorKind::IsADirectory => 404,
        _ => 500,
    };
    // A path that cannot be resolved is not found, unless it is forbidden.
    let canonical = std::fs::canonicalize(&file).map_err(|err| status_of(err).min(404))?;
    if !canonical.starts_with(root) {
        return Err(403);
    }
    let mut opened = std::fs::File::open(&canonical).map_err(status_of)?;
    // Before the read: a write that comes after the snapshot changes the file's times, so
    // the next request sees a different snapshot and reads the file again.
    let seen = Snapshot::of(&opened).map_err(status_of)?;
    let mut body = Vec::with_capacity(usize::try_from(seen.size).unwrap_or(0));
    io::Read::read_to_end(&mut opened, &mut body).map_err(status_of)?;
    Ok(FoundFile {
        content_type: content_type(&canonical),
        body,
        opened,
        seen,
    })
}

/// `%41` → `A`; `None` for a `%` not followed by two hex digits.
fn percent_decode(path: &str) -> Option<Vec<u8>> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Two hex digits; `from_str_radix` alone would also take a sign (`%+1`).
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "md" | "rs" | "toml" => "text/plain; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn is_disconnect(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
    )
}
