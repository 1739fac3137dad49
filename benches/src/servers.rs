// The two comparison servers, written once. Like `workloads.rs`, this file is compiled twice
// (see `servers` in `lib.rs`): inside `servers::on_tokio`, where `rt` names tokio, and inside
// `servers::on_asincrono`, where it names asincrono. Every runtime name goes through `rt::`,
// and only names both runtimes share appear, so the two builds are the very same text.
//
// They are deliberately much smaller than `examples/http_server.rs` and
// `examples/kv_server.rs`: no files, no timers, no expiry, no slow-loris guard. What is left
// is what a load generator exercises — accept, one task per connection, read, parse, answer,
// write — so that `wrk` and `redis-benchmark` measure the runtime underneath, not features
// that only one side has.
//
// Both servers work the same way on a connection: read whatever has arrived, answer every
// complete request in it into a `BufWriter`, and flush once the input holds no complete
// request any more. A client that pipelines (sends many requests before reading) thus gets
// its answers in one write, and one that does not gets each answer at once.

use crate::Flavour;
use rt::io::{AsyncReadExt, AsyncWriteExt};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// How much one read may bring in.
const READ_CHUNK: usize = 16 * 1024;
/// The largest request (HTTP head, or one RESP command) a connection may hold unanswered.
const MAX_REQUEST: usize = 1024 * 1024;

/// What parsing the front of a connection's input found.
enum Parsed {
    /// A whole request, `consumed` bytes long, now answered into the output.
    Answered { consumed: usize, close: bool },
    /// Not a whole request yet: read more.
    Incomplete,
    /// Garbage, answered with an error: answer, flush and close.
    Rejected,
    /// A whole request for [`STATIC_FILE`], `consumed` bytes long, not yet answered: the
    /// connection reads the file (a blocking-pool job on either runtime) and answers.
    ReadFile {
        consumed: usize,
        close: bool,
        head_only: bool,
    },
}

/// A runtime of `flavour`, built as an ordinary server would build it.
pub(crate) fn runtime(flavour: Flavour) -> io::Result<rt::runtime::Runtime> {
    let mut builder = match flavour {
        Flavour::CurrentThread => rt::runtime::Builder::new_current_thread(),
        Flavour::MultiThread => {
            let mut builder = rt::runtime::Builder::new_multi_thread();
            builder.worker_threads(2);
            builder
        }
    };
    builder.enable_all().build()
}

/// Builds a runtime of `flavour`, binds `addr`, calls `on_ready` with the bound address, and
/// serves `server` until the process ends (or accepting fails for good).
pub fn serve(
    server: super::Server,
    flavour: Flavour,
    addr: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    let runtime = runtime(flavour)?;
    runtime.block_on(async move {
        let listener = rt::net::TcpListener::bind(addr).await?;
        on_ready(listener.local_addr()?);
        let store = Store::default();
        loop {
            let stream = accept_or_back_off(&listener).await;
            match server {
                super::Server::Http => {
                    rt::spawn(connection(stream, |input: &[u8], output: &mut Vec<u8>| {
                        http_request(input, output)
                    }));
                }
                super::Server::Kv => {
                    let store = store.clone();
                    rt::spawn(connection(stream, move |input: &[u8], output: &mut Vec<u8>| {
                        resp_command(input, output, &store)
                    }));
                }
            }
        }
    })
}

/// The next connection, with `TCP_NODELAY` set. A failed accept (out of descriptors and the
/// like) is retried after a short pause instead of in a spin. Shared with the hyper server.
pub(crate) async fn accept_or_back_off(listener: &rt::net::TcpListener) -> rt::net::TcpStream {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                return stream;
            }
            Err(_) => rt::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// One connection: read, answer every whole request, flush when none is left, repeat.
///
/// `answer` looks at the unanswered input and appends at most one answer to the output.
async fn connection(
    stream: rt::net::TcpStream,
    mut answer: impl FnMut(&[u8], &mut Vec<u8>) -> Parsed,
) {
    let mut stream = rt::io::BufWriter::with_capacity(64 * 1024, stream);
    let mut input: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut output = Vec::with_capacity(1024);
    loop {
        let read = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        input.extend_from_slice(&chunk[..read]);
        let mut start = 0;
        let mut close = false;
        loop {
            output.clear();
            let mut parsed = answer(&input[start..], &mut output);
            if let Parsed::ReadFile {
                consumed,
                close,
                head_only,
            } = parsed
            {
                parsed = answer_with_the_file(&mut output, consumed, close, head_only).await;
            }
            if !output.is_empty() && stream.write_all(&output).await.is_err() {
                return;
            }
            match parsed {
                Parsed::Answered { consumed, close: last } => {
                    start += consumed;
                    if last {
                        close = true;
                        break;
                    }
                }
                Parsed::Incomplete => break,
                Parsed::Rejected => {
                    close = true;
                    break;
                }
                Parsed::ReadFile { .. } => unreachable!("answered with the file above"),
            }
        }
        input.drain(..start);
        // No whole request left in the input: time to send what has been answered.
        if stream.flush().await.is_err() || close || input.len() > 2 * MAX_REQUEST {
            // (The parsers reject anything over `MAX_REQUEST`; the last test is a backstop.)
            return;
        }
    }
}

/// Reads [`STATIC_FILE`] with the runtime's `fs::read` (one job on its blocking pool) and
/// appends the response: what a static-file server does for each request.
async fn answer_with_the_file(
    output: &mut Vec<u8>,
    consumed: usize,
    close: bool,
    head_only: bool,
) -> Parsed {
    match rt::fs::read(STATIC_FILE).await {
        Ok(body) => http_response(output, "200 OK", &body, head_only, close),
        Err(_) => http_response(output, "500 Internal Server Error", b"", head_only, close),
    }
    Parsed::Answered { consumed, close }
}

// ---------------------------------------------------------------------------------------
// HTTP/1.1: a fixed answer per path, a small file at `/file`, keep-alive and pipelining.

/// What `GET /` answers.
pub const HTTP_BODY: &[u8] = b"Hello from the comparison server.\n";

/// The file `GET /file` answers with, read from disk at every request (18 bytes, in the page
/// cache after the first): the cost measured is the trip to the blocking pool and back.
pub const STATIC_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/static/small.txt");

/// Answers the request at the front of `input`, if it is whole.
fn http_request(input: &[u8], output: &mut Vec<u8>) -> Parsed {
    let Some(head_end) = find(input, b"\r\n\r\n") else {
        if input.len() > 16 * 1024 {
            http_response(output, "431 Request Header Fields Too Large", b"", false, true);
            return Parsed::Rejected;
        }
        return Parsed::Incomplete;
    };
    let head = &input[..head_end];
    let mut lines = head.split(|&byte| byte == b'\n').map(|line| {
        // Every line but the last kept its `\r` (the last lost it to the search above).
        line.strip_suffix(b"\r").unwrap_or(line)
    });
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(|&byte| byte == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        http_response(output, "400 Bad Request", b"bad request line\n", false, true);
        return Parsed::Rejected;
    };
    let mut keep_alive = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        _ => {
            http_response(output, "400 Bad Request", b"bad version\n", false, true);
            return Parsed::Rejected;
        }
    };
    let mut body_length = 0usize;
    for line in lines {
        let Some(colon) = line.iter().position(|&byte| byte == b':') else {
            http_response(output, "400 Bad Request", b"bad header\n", false, true);
            return Parsed::Rejected;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"connection") {
            if value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            match std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                Some(length) if length <= MAX_REQUEST => body_length = length,
                _ => {
                    http_response(output, "400 Bad Request", b"bad length\n", false, true);
                    return Parsed::Rejected;
                }
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            http_response(output, "501 Not Implemented", b"", false, true);
            return Parsed::Rejected;
        }
    }
    // A body, if any, is read past and ignored.
    let consumed = head_end + 4 + body_length;
    if input.len() < consumed {
        return Parsed::Incomplete; // (`body_length` is at most `MAX_REQUEST`.)
    }
    let head_only = method == b"HEAD";
    if method != b"GET" && !head_only {
        http_response(output, "405 Method Not Allowed", b"", head_only, !keep_alive);
    } else {
        match target {
            b"/" | b"/index.html" => http_response(output, "200 OK", HTTP_BODY, head_only, !keep_alive),
            b"/hello" => http_response(output, "200 OK", b"hello\n", head_only, !keep_alive),
            b"/file" => {
                return Parsed::ReadFile {
                    consumed,
                    close: !keep_alive,
                    head_only,
                };
            }
            _ => http_response(output, "404 Not Found", b"not found\n", head_only, !keep_alive),
        }
    }
    Parsed::Answered {
        consumed,
        close: !keep_alive,
    }
}

/// Appends a whole response.
fn http_response(output: &mut Vec<u8>, status: &str, body: &[u8], head_only: bool, close: bool) {
    use std::io::Write;
    let connection = if close { "close" } else { "keep-alive" };
    let _ = write!(
        output,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    if !head_only {
        output.extend_from_slice(body);
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

// ---------------------------------------------------------------------------------------
// RESP2: a key-value store with just what `redis-benchmark -t set,get` and `redis-cli` need.

/// The keys and values every connection shares.
type Store = Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>;

/// The largest number of arguments, and the largest argument, one command may have.
const MAX_ARGUMENTS: usize = 1024 * 1024;

/// Reads one `\r\n`-terminated line at `at`: the line and where the next one starts.
fn resp_line(input: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let end = at + find(&input[at..], b"\r\n")?;
    Some((&input[at..end], end + 2))
}

/// Parses the decimal number after a RESP type byte (`*3`, `$5`).
fn resp_number(line: &[u8]) -> Option<usize> {
    std::str::from_utf8(line).ok()?.parse().ok()
}

/// A whole command: its arguments (the name first) and how many bytes it took.
type Frame<'a> = (Vec<&'a [u8]>, usize);

/// The command at the front of `input`: `Ok(Some(frame))` if whole, `Ok(None)` if not yet,
/// `Err(reason)` if it is not RESP.
fn resp_frame(input: &[u8]) -> Result<Option<Frame<'_>>, &'static str> {
    let Some((first, mut at)) = resp_line(input, 0) else {
        return if input.len() > MAX_REQUEST {
            Err("line too long")
        } else {
            Ok(None)
        };
    };
    let Some(count) = first.strip_prefix(b"*") else {
        // An inline command, as typed into telnet: words separated by spaces.
        let words = first
            .split(|&byte| byte == b' ')
            .filter(|word| !word.is_empty())
            .collect();
        return Ok(Some((words, at)));
    };
    let count = resp_number(count)
        .filter(|&count| count <= MAX_ARGUMENTS)
        .ok_or("invalid multibulk length")?;
    let mut arguments = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let Some((header, data_start)) = resp_line(input, at) else {
            return Ok(None);
        };
        let length = header
            .strip_prefix(b"$")
            .and_then(resp_number)
            .filter(|&length| length <= MAX_REQUEST)
            .ok_or("expected '$' and a valid bulk length")?;
        let data_end = data_start + length;
        if input.len() < data_end + 2 {
            return Ok(None);
        }
        if &input[data_end..data_end + 2] != b"\r\n" {
            return Err("bulk string longer than its length");
        }
        arguments.push(&input[data_start..data_end]);
        at = data_end + 2;
    }
    Ok(Some((arguments, at)))
}

/// Answers the command at the front of `input`, if it is whole.
fn resp_command(input: &[u8], output: &mut Vec<u8>, store: &Store) -> Parsed {
    let frame = match resp_frame(input) {
        Ok(None) if input.len() > MAX_REQUEST => Err("request too large"),
        other => other,
    };
    let (arguments, consumed) = match frame {
        Ok(Some(frame)) => frame,
        Ok(None) => return Parsed::Incomplete,
        Err(reason) => {
            output.extend_from_slice(b"-ERR Protocol error: ");
            output.extend_from_slice(reason.as_bytes());
            output.extend_from_slice(b"\r\n");
            return Parsed::Rejected;
        }
    };
    let Some((name, rest)) = arguments.split_first() else {
        // An empty inline line: nothing to answer.
        return Parsed::Answered {
            consumed,
            close: false,
        };
    };
    let name = name.to_ascii_uppercase();
    let mut close = false;
    match (name.as_slice(), rest) {
        (b"PING", []) => output.extend_from_slice(b"+PONG\r\n"),
        (b"PING", [message]) => resp_bulk(output, Some(message)),
        (b"GET", [key]) => resp_bulk(output, lock(store).get(*key).map(Vec::as_slice)),
        (b"SET", [key, value]) => {
            lock(store).insert(key.to_vec(), value.to_vec());
            output.extend_from_slice(b"+OK\r\n");
        }
        (b"DEL", keys) if !keys.is_empty() => {
            let mut store = lock(store);
            let removed = keys.iter().filter(|key| store.remove(**key).is_some()).count();
            resp_integer(output, removed as i64);
        }
        (b"INCR", [key]) => {
            let mut store = lock(store);
            let value = store.entry(key.to_vec()).or_insert_with(|| b"0".to_vec());
            let next = std::str::from_utf8(value)
                .ok()
                .and_then(|text| text.parse::<i64>().ok())
                .and_then(|number| number.checked_add(1));
            match next {
                Some(next) => {
                    *value = next.to_string().into_bytes();
                    resp_integer(output, next);
                }
                None => output
                    .extend_from_slice(b"-ERR value is not an integer or out of range\r\n"),
            }
        }
        // `redis-benchmark` asks for these two settings before it starts.
        (b"CONFIG", [get, parameter]) if get.eq_ignore_ascii_case(b"GET") => {
            let answer: &[u8] = if parameter.eq_ignore_ascii_case(b"save") {
                b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
            } else if parameter.eq_ignore_ascii_case(b"appendonly") {
                b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
            } else {
                b"*0\r\n"
            };
            output.extend_from_slice(answer);
        }
        // `redis-cli` asks for the command table when it starts; an empty one will do.
        (b"COMMAND", _) => output.extend_from_slice(b"*0\r\n"),
        (b"QUIT", []) => {
            output.extend_from_slice(b"+OK\r\n");
            close = true;
        }
        (b"PING" | b"GET" | b"SET" | b"DEL" | b"INCR" | b"CONFIG" | b"QUIT", _) => {
            output.extend_from_slice(b"-ERR wrong number of arguments for '");
            output.extend_from_slice(&name.to_ascii_lowercase());
            output.extend_from_slice(b"' command\r\n");
        }
        _ => {
            output.extend_from_slice(b"-ERR unknown command '");
            output.extend(name.iter().filter(|byte| byte.is_ascii_graphic()));
            output.extend_from_slice(b"'\r\n");
        }
    }
    Parsed::Answered { consumed, close }
}

/// The store, even if a thread panicked while holding it (no entry is ever half-written).
fn lock(store: &Store) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Vec<u8>>> {
    store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Appends a bulk string, or the null bulk string for `None`.
fn resp_bulk(output: &mut Vec<u8>, value: Option<&[u8]>) {
    use std::io::Write;
    match value {
        Some(value) => {
            let _ = write!(output, "${}\r\n", value.len());
            output.extend_from_slice(value);
            output.extend_from_slice(b"\r\n");
        }
        None => output.extend_from_slice(b"$-1\r\n"),
    }
}

/// Appends an integer.
fn resp_integer(output: &mut Vec<u8>, value: i64) {
    use std::io::Write;
    let _ = write!(output, ":{value}\r\n");
}
