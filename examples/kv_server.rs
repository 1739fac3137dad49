//! An in-memory key-value server that speaks RESP2, the protocol of Redis, so that
//! `redis-cli` and `redis-benchmark` can talk to it.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example kv_server                          # 127.0.0.1:6380
//! cargo run --release --example kv_server -- --addr 0.0.0.0:7000   # or any address
//! ```
//!
//! then try `redis-cli -p 6380 set greeting hello ex 10`, `redis-cli -p 6380 ttl greeting`,
//! `redis-benchmark -p 6380 -q -t set,get -n 100000`, or type `PING` into
//! `nc 127.0.0.1 6380` (inline commands work too).
//!
//! Commands: GET, SET (with EX/PX and NX/XX), DEL, EXISTS, INCR, EXPIRE, PEXPIRE, TTL, PTTL,
//! DBSIZE, PING, ECHO, QUIT, and stubs of COMMAND and CONFIG GET, which `redis-cli` and
//! `redis-benchmark` send when they start.
//!
//! What it teaches:
//!
//! * **Framing a byte stream.** TCP delivers bytes, not messages: a read may hold half a
//!   command or ten. `parse_frame` looks at the bytes buffered so far and says "here is a
//!   whole command, and it took N bytes", "not enough yet", or "this is not RESP".
//! * **Pipelining for free.** A client may send many commands before reading any reply.
//!   The connection answers every whole command in its buffer, in order, into a
//!   `BufWriter`, and flushes only once the buffer holds no whole command: one `write`
//!   system call for a whole batch of replies.
//! * **Shared state without holding a lock across `.await`.** The keys live in a
//!   `std::sync::Mutex<Db>` that each command locks, uses and releases without awaiting
//!   in between, so a plain (blocking) mutex is right here: it is never held while a task
//!   is suspended.
//! * **Expiry driven by timers.** One task, `expire_keys`, sleeps until the earliest
//!   deadline and removes what is due; reads also check the deadline (*lazy* expiry), so a
//!   key is never seen after its time even if the task is late. `expire_keys` says why one
//!   task and a heap, rather than a timer per key.
//!
//! * **Stopping gracefully.** Ctrl-C or `SIGTERM` stops the accepting; a connection in the
//!   middle of a command answers it, one waiting between commands closes (see
//!   `support/shutdown.rs`, shared with the other servers).
//!
//! Corners cut, compared with Redis: strings only (no lists, hashes, …), no persistence,
//! no databases other than 0, no `AUTH`, no `MULTI`, and a frame is re-parsed from its
//! start each time more of it arrives (cheap for the small commands this serves).

use asincrono::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use asincrono::net::{OwnedWriteHalf, TcpListener, TcpStream};
use asincrono::sync::Notify;
use asincrono::task;
use asincrono::time::{self, Instant};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

#[path = "support/shutdown.rs"]
mod shutdown;
use shutdown::{InFlight, Shutdown};

const DEFAULT_ADDR: &str = "127.0.0.1:6380";

/// How long to wait after a failed `accept` before trying again (see `serve`).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Exit code for a bad command line, as most command-line tools do.
const EXIT_USAGE: u8 = 2;

/// The largest bulk string (a key or a value) accepted, in bytes. Redis allows 512 MiB;
/// a teaching server has no need to let one client make it buffer that much.
pub const MAX_BULK: usize = 16 * 1024 * 1024;

/// The most arguments one command may have (Redis allows about a billion).
pub const MAX_ARGS: usize = 64 * 1024;

/// The longest inline command, or the longest `*N` / `$N` header line, in bytes.
pub const MAX_INLINE: usize = 64 * 1024;

#[asincrono::main]
async fn main() -> ExitCode {
    run(std::env::args().skip(1)).await
}

/// The whole program, given its arguments: bind, serve until Ctrl-C or SIGTERM, then finish
/// the commands in flight (see `support/shutdown.rs`).
pub async fn run(args: impl Iterator<Item = String>) -> ExitCode {
    let addr = match addr_from_args(args) {
        Ok(addr) => addr,
        Err(message) => {
            eprintln!("kv_server: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(listener) => listener,
        // Typically "address in use" (a real Redis on that port?), "permission denied" (a
        // port below 1024), or a name that does not resolve; the error says which.
        Err(err) => {
            eprintln!("kv_server: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => {
            println!("kv server listening on {local}");
            println!(
                "try it:  redis-cli -h {} -p {} ping",
                local.ip(),
                local.port()
            );
        }
        // Cannot happen for a listener just bound; and the server works anyway.
        Err(err) => eprintln!("kv server listening on {addr} (local_addr failed: {err})"),
    }
    let shutdown = Shutdown::default();
    let server = serve_until(listener, shutdown.clone());
    shutdown::run_until_signal("kv_server", shutdown, server).await
}

/// `--addr HOST:PORT`, or the default. Anything else is a usage error.
fn addr_from_args(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let mut addr = DEFAULT_ADDR.to_string();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => match args.next() {
                Some(value) => addr = value,
                None => return Err("--addr needs a value, such as 127.0.0.1:6380".into()),
            },
            "-h" | "--help" => return Err("usage: kv_server [--addr HOST:PORT]".into()),
            other => {
                return Err(format!(
                    "unexpected argument {other:?} (usage: kv_server [--addr HOST:PORT])"
                ));
            }
        }
    }
    Ok(addr)
}

/// Serves the key-value store on `listener`, for ever: starts the expiry task, then
/// accepts connections, one task each.
pub async fn serve(listener: TcpListener) -> ! {
    serve_until(listener, Shutdown::default()).await;
    unreachable!("nobody can stop a `Shutdown` that nobody else holds")
}

/// Serves the store on `listener` until `shutdown` begins; connections then answer the
/// command they are receiving and close.
pub async fn serve_until(listener: TcpListener, shutdown: Shutdown) {
    let shared = Arc::new(Shared::default());
    task::spawn(expire_keys(shared.clone()));
    while let Some(accepted) = shutdown.unless_stopping(listener.accept()).await {
        match accepted {
            Ok((stream, peer)) => {
                // Dropping the handle detaches the task: it serves the client while this
                // loop goes back to `accept`. Counted as in flight from now on.
                let in_flight = shutdown.track();
                let shutdown = shutdown.clone();
                task::spawn(connection(
                    stream,
                    peer,
                    shared.clone(),
                    shutdown,
                    in_flight,
                ));
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

// ---------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------

/// What every connection and the expiry task share.
#[derive(Default)]
struct Shared {
    /// The keys, and the deadlines the expiry task works through.
    db: Mutex<Db>,
    /// Wakes the expiry task when a deadline earlier than all the others is set, so that
    /// it stops sleeping until a later one. (A permit is stored if the task is not waiting
    /// yet, so a notification sent between its look at the heap and its wait is not lost.)
    earlier_deadline: Notify,
}

impl Shared {
    /// Locks the store. A panic while it was locked (there is none on any path here, but
    /// a poisoned lock must not take every later client down) leaves the map consistent:
    /// every change is a single insert or remove. So the poison is ignored.
    fn db(&self) -> MutexGuard<'_, Db> {
        self.db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Default)]
struct Db {
    /// Every key with its value and deadline, expired ones included until they are
    /// removed (by a read that finds them, or by the expiry task).
    entries: HashMap<Vec<u8>, Entry>,
    /// `(deadline, key)` for every deadline ever set, earliest first. A deadline that no
    /// longer applies (the key was deleted, overwritten or given another deadline) stays
    /// here until its time comes, and is then skipped: cheaper than finding it in the heap.
    deadlines: BinaryHeap<Reverse<(Instant, Vec<u8>)>>,
}

struct Entry {
    value: Vec<u8>,
    /// When the key disappears; `None` for a key that lives until deleted.
    expires_at: Option<Instant>,
}

impl Db {
    /// The live entry for `key`, removing it first if its time has come (lazy expiry).
    fn live(&mut self, key: &[u8], now: Instant) -> Option<&mut Entry> {
        let expired = match self.entries.get(key) {
            None => return None,
            Some(entry) => entry.expires_at.is_some_and(|at| at <= now),
        };
        if expired {
            self.entries.remove(key);
            return None;
        }
        self.entries.get_mut(key)
    }

    /// Gives `key` the deadline `at` (or none), remembering it for the expiry task.
    /// Returns true if `at` is earlier than every deadline the task knew of.
    fn set_deadline(&mut self, key: &[u8], at: Option<Instant>) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        entry.expires_at = at;
        let Some(at) = at else { return false };
        let earliest = match self.deadlines.peek() {
            None => true,
            Some(Reverse((first, _))) => at < *first,
        };
        self.deadlines.push(Reverse((at, key.to_vec())));
        earliest
    }

    /// Removes the keys whose deadline has passed, and returns the next deadline.
    fn remove_expired(&mut self, now: Instant) -> Option<Instant> {
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                return Some(*at);
            }
            let Some(Reverse((at, key))) = self.deadlines.pop() else {
                break;
            };
            // Only if this deadline is still the key's: see `deadlines`.
            if self
                .entries
                .get(&key)
                .is_some_and(|e| e.expires_at == Some(at))
            {
                self.entries.remove(&key);
            }
        }
        None
    }
}

/// Removes keys as their deadlines pass, for as long as the server runs.
///
/// One task for every key, rather than a timer (or a task) per key: a `SET … EX` then
/// costs a push on a heap, not a timer registration, and overwriting or deleting a key
/// needs no timer to be found and cancelled: its stale heap entry is skipped when it
/// comes up. Redis itself does something else again (it samples random keys with a
/// deadline ten times a second); a heap keeps this exact, which makes it easy to test.
///
/// Reads check deadlines too (`Db::live`), so this task only reclaims memory: a key whose
/// time has passed is never returned, even if this task has not run yet.
async fn expire_keys(shared: Arc<Shared>) {
    loop {
        let next = shared.db().remove_expired(Instant::now());
        // The lock is released here, before waiting: never hold it across `.await`.
        match next {
            Some(deadline) => {
                asincrono::select! {
                    _ = time::sleep_until(deadline) => {}
                    _ = shared.earlier_deadline.notified() => {}
                }
            }
            None => shared.earlier_deadline.notified().await,
        }
    }
}

// ---------------------------------------------------------------------------------------
// RESP: frames in, replies out
// ---------------------------------------------------------------------------------------

/// What `parse_frame` found at the start of the buffer.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A whole command (its arguments, the name first) that took `used` bytes.
    Command { args: Vec<Vec<u8>>, used: usize },
    /// The buffer holds only the beginning of a command: read more.
    Incomplete,
}

/// Bytes that are not RESP. After one of these the connection cannot know where the next
/// command starts (a wrong length may have swallowed part of it, or left part of a value
/// behind), so the server replies with the error and closes the connection, as Redis does.
#[derive(Debug, PartialEq)]
pub struct ProtocolError(pub String);

/// Parses one command from the start of `buf`.
///
/// A client sends either an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`), which
/// is what every client library sends, or an *inline* command, a line of words
/// (`GET k\r\n`), which is what someone typing into `nc` sends.
pub fn parse_frame(buf: &[u8]) -> Result<Frame, ProtocolError> {
    if buf.is_empty() {
        return Ok(Frame::Incomplete);
    }
    if buf[0] != b'*' {
        return parse_inline(buf);
    }
    let Some((count, mut at)) = header(buf, 0)? else {
        return Ok(Frame::Incomplete);
    };
    let count = number(count, "invalid multibulk length")?;
    if count > MAX_ARGS as i64 {
        return Err(ProtocolError("invalid multibulk length".into()));
    }
    // `*-1` is a null array, and `*0` an empty one: neither is a command; Redis skips them.
    let count = count.max(0) as usize;
    let mut args = Vec::with_capacity(count.min(16));
    for _ in 0..count {
        if at >= buf.len() {
            return Ok(Frame::Incomplete);
        }
        if buf[at] != b'$' {
            let got = char::from(buf[at]).escape_default();
            return Err(ProtocolError(format!("expected '$', got '{got}'")));
        }
        let Some((length, data)) = header(buf, at)? else {
            return Ok(Frame::Incomplete);
        };
        let length = number(length, "invalid bulk length")?;
        if length < 0 || length > MAX_BULK as i64 {
            return Err(ProtocolError("invalid bulk length".into()));
        }
        let end = data + length as usize;
        if buf.len() < end + 2 {
            return Ok(Frame::Incomplete);
        }
        // The length said where the string ends; `\r\n` must be there. If it is not, the
        // length was wrong, and nothing tells where the string really ended.
        if &buf[end..end + 2] != b"\r\n" {
            return Err(ProtocolError(
                "bulk string does not end where its length says".into(),
            ));
        }
        args.push(buf[data..end].to_vec());
        at = end + 2;
    }
    Ok(Frame::Command { args, used: at })
}

/// The text of the header line that starts at `start` (`*3`, `$5`) without its marker,
/// and where the next line starts; `None` if its `\r\n` has not arrived yet.
fn header(buf: &[u8], start: usize) -> Result<Option<(&[u8], usize)>, ProtocolError> {
    let rest = &buf[start + 1..];
    match rest.windows(2).position(|pair| pair == b"\r\n") {
        Some(end) => Ok(Some((&rest[..end], start + 1 + end + 2))),
        None if rest.len() > MAX_INLINE => Err(ProtocolError("header line too long".into())),
        None => Ok(None),
    }
}

/// A length in a header line: digits, maybe after a `-`. Not a `+`, which `parse` takes
/// but Redis does not.
fn number(text: &[u8], what: &str) -> Result<i64, ProtocolError> {
    Some(text)
        .filter(|text| !text.starts_with(b"+"))
        .and_then(|text| std::str::from_utf8(text).ok())
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| ProtocolError(what.to_string()))
}

/// An inline command: words separated by spaces, ended by `\n` (a `\r` before it is
/// dropped). No quoting: a value with a space in it needs the array form.
fn parse_inline(buf: &[u8]) -> Result<Frame, ProtocolError> {
    let Some(newline) = buf.iter().position(|&byte| byte == b'\n') else {
        if buf.len() > MAX_INLINE {
            return Err(ProtocolError("too big inline request".into()));
        }
        return Ok(Frame::Incomplete);
    };
    let args = buf[..newline]
        .split(|byte| byte.is_ascii_whitespace())
        .filter(|word| !word.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    Ok(Frame::Command {
        args,
        used: newline + 1,
    })
}

/// A reply, written in RESP by `Reply::encode`.
#[derive(Debug, PartialEq)]
enum Reply {
    /// `+OK`: a short status line.
    Status(&'static str),
    /// `-ERR …`: an error; the text must not contain `\r` or `\n`.
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    /// `$-1`: "no such key".
    Nil,
    Array(Vec<Reply>),
}

impl Reply {
    fn error(text: impl Into<String>) -> Reply {
        Reply::Error(text.into())
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Status(text) => out.extend_from_slice(format!("+{text}\r\n").as_bytes()),
            Reply::Error(text) => {
                // Keep the line one line whatever an argument quoted in it contained.
                let text = text.replace(['\r', '\n'], " ");
                out.extend_from_slice(format!("-{text}\r\n").as_bytes());
            }
            Reply::Integer(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
            Reply::Bulk(bytes) => {
                out.extend_from_slice(format!("${}\r\n", bytes.len()).as_bytes());
                out.extend_from_slice(bytes);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// What the connection does after a command's reply.
#[derive(PartialEq)]
enum After {
    Continue,
    Close,
}

/// Runs one command; never fails: a bad command is an error *reply*.
fn execute(shared: &Shared, args: &[Vec<u8>]) -> (Reply, After) {
    let Some(name) = args.first() else {
        // Cannot come here (empty commands are skipped), but an error reply is harmless.
        return (Reply::error("ERR empty command"), After::Continue);
    };
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    let args = &args[1..];
    let wrong_arity = || {
        Reply::error(format!(
            "ERR wrong number of arguments for '{name}' command"
        ))
    };
    let now = Instant::now();
    let reply = match (name.as_str(), args) {
        ("ping", []) => Reply::Status("PONG"),
        ("ping", [message]) => Reply::Bulk(message.clone()),
        ("echo", [message]) => Reply::Bulk(message.clone()),
        ("quit", _) => return (Reply::Status("OK"), After::Close),
        ("get", [key]) => match shared.db().live(key, now) {
            Some(entry) => Reply::Bulk(entry.value.clone()),
            None => Reply::Nil,
        },
        ("set", [key, value, options @ ..]) => set(shared, key, value, options, now),
        ("del", keys) if !keys.is_empty() => {
            let mut db = shared.db();
            let removed = keys
                .iter()
                .filter(|key| {
                    // An expired key counts as absent, but goes all the same.
                    let live = db.live(key, now).is_some();
                    db.entries.remove(key.as_slice());
                    live
                })
                .count();
            Reply::Integer(removed as i64)
        }
        ("exists", keys) if !keys.is_empty() => {
            let mut db = shared.db();
            // A key named twice counts twice, as in Redis.
            let found = keys
                .iter()
                .filter(|key| db.live(key, now).is_some())
                .count();
            Reply::Integer(found as i64)
        }
        ("incr", [key]) => incr(shared, key, now),
        ("expire", [key, seconds]) => expire(shared, key, seconds, 1000, now),
        ("pexpire", [key, millis]) => expire(shared, key, millis, 1, now),
        ("ttl", [key]) => ttl(shared, key, now, 1000),
        ("pttl", [key]) => ttl(shared, key, now, 1),
        // Keys in the map, expired ones not yet removed included, as Redis counts them.
        ("dbsize", []) => Reply::Integer(shared.db().entries.len() as i64),
        // `redis-cli` asks for the command table when it starts interactively; an empty
        // one only costs it its hints.
        ("command", _) => Reply::Array(Vec::new()),
        // `redis-benchmark` asks for `save` and `appendonly` when it starts: answer as a
        // server that persists nothing; any other parameter is unknown (an empty array).
        ("config", [sub, parameter]) if sub.eq_ignore_ascii_case(b"get") => {
            let value: &[u8] = match parameter.to_ascii_lowercase().as_slice() {
                b"save" => b"",
                b"appendonly" => b"no",
                _ => return (Reply::Array(Vec::new()), After::Continue),
            };
            Reply::Array(vec![
                Reply::Bulk(parameter.clone()),
                Reply::Bulk(value.to_vec()),
            ])
        }
        (
            "ping" | "echo" | "get" | "set" | "del" | "exists" | "incr" | "expire" | "pexpire"
            | "ttl" | "pttl" | "dbsize" | "config",
            _,
        ) => wrong_arity(),
        _ => {
            let shown: String = name.chars().take(64).collect();
            Reply::error(format!("ERR unknown command '{shown}'"))
        }
    };
    (reply, After::Continue)
}

fn set(shared: &Shared, key: &[u8], value: &[u8], options: &[Vec<u8>], now: Instant) -> Reply {
    let mut expires_at = None;
    let (mut only_if_absent, mut only_if_present) = (false, false);
    let mut options = options.iter();
    while let Some(option) = options.next() {
        let option = option.to_ascii_uppercase();
        match option.as_slice() {
            b"NX" => only_if_absent = true,
            b"XX" => only_if_present = true,
            b"EX" | b"PX" => {
                let unit = if option == b"EX" { 1000 } else { 1 };
                let Some(amount) = options.next() else {
                    return Reply::error("ERR syntax error");
                };
                let Some(amount) = integer(amount) else {
                    return Reply::error("ERR value is not an integer or out of range");
                };
                match deadline(now, amount, unit) {
                    Some(at) if amount > 0 && expires_at.is_none() => expires_at = Some(at),
                    _ => return Reply::error("ERR invalid expire time in 'set' command"),
                }
            }
            _ => return Reply::error("ERR syntax error"),
        }
    }
    if only_if_absent && only_if_present {
        return Reply::error("ERR syntax error");
    }
    let mut db = shared.db();
    let exists = db.live(key, now).is_some();
    if (only_if_absent && exists) || (only_if_present && !exists) {
        return Reply::Nil;
    }
    let entry = Entry {
        value: value.to_vec(),
        expires_at: None,
    };
    db.entries.insert(key.to_vec(), entry);
    if db.set_deadline(key, expires_at) {
        shared.earlier_deadline.notify_one();
    }
    Reply::Status("OK")
}

fn incr(shared: &Shared, key: &[u8], now: Instant) -> Reply {
    let mut db = shared.db();
    let Some(entry) = db.live(key, now) else {
        let entry = Entry {
            value: b"1".to_vec(),
            expires_at: None,
        };
        db.entries.insert(key.to_vec(), entry);
        return Reply::Integer(1);
    };
    // As in Redis, the key keeps its deadline.
    match integer(&entry.value).and_then(|n| n.checked_add(1)) {
        Some(n) => {
            entry.value = n.to_string().into_bytes();
            Reply::Integer(n)
        }
        None => Reply::error("ERR value is not an integer or out of range"),
    }
}

/// EXPIRE (`unit` = 1000 ms) and PEXPIRE (`unit` = 1 ms). A time of zero or less deletes
/// the key at once, as in Redis.
fn expire(shared: &Shared, key: &[u8], amount: &[u8], unit: i64, now: Instant) -> Reply {
    let Some(amount) = integer(amount) else {
        return Reply::error("ERR value is not an integer or out of range");
    };
    let mut db = shared.db();
    if db.live(key, now).is_none() {
        return Reply::Integer(0);
    }
    if amount <= 0 {
        db.entries.remove(key);
        return Reply::Integer(1);
    }
    let Some(at) = deadline(now, amount, unit) else {
        return Reply::error("ERR invalid expire time in 'expire' command");
    };
    if db.set_deadline(key, Some(at)) {
        shared.earlier_deadline.notify_one();
    }
    Reply::Integer(1)
}

/// TTL (`unit` = 1000 ms) and PTTL (`unit` = 1 ms): -2 for no such key, -1 for a key
/// without a deadline, else the time left, rounded to the nearest unit.
fn ttl(shared: &Shared, key: &[u8], now: Instant, unit: u128) -> Reply {
    let mut db = shared.db();
    match db.live(key, now) {
        None => Reply::Integer(-2),
        Some(Entry {
            expires_at: None, ..
        }) => Reply::Integer(-1),
        Some(Entry {
            expires_at: Some(at),
            ..
        }) => {
            let left = at.saturating_duration_since(now).as_millis();
            Reply::Integer(((left + unit / 2) / unit) as i64)
        }
    }
}

/// `now` plus `amount` units of `unit` milliseconds; `None` if that overflows (a client
/// asking for a deadline in a billion years gets an error, not a panic).
fn deadline(now: Instant, amount: i64, unit: i64) -> Option<Instant> {
    let millis = u64::try_from(amount.checked_mul(unit)?).ok()?;
    now.checked_add(Duration::from_millis(millis))
}

fn integer(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

// ---------------------------------------------------------------------------------------
// A connection
// ---------------------------------------------------------------------------------------

/// Serves one client until it quits, closes, breaks the protocol or breaks the connection,
/// or shutdown finds it between two commands; `_in_flight` is dropped when it is over.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Shutdown,
    _in_flight: InFlight,
) {
    match serve_commands(stream, &shared, &shutdown).await {
        Ok(()) => {}
        // The client vanished without closing properly (killed, or its network went
        // away): normal for a server, and only this connection's business.
        Err(err) if is_disconnect(&err) => {}
        // A protocol error (already answered) or something unexpected: still only this
        // connection's business, so say so and let the others carry on.
        Err(err) => eprintln!("{peer}: connection closed: {err}"),
    }
}

async fn serve_commands(stream: TcpStream, shared: &Shared, shutdown: &Shutdown) -> io::Result<()> {
    // No Nagle delay: a reply is flushed when the client has nothing more queued, and
    // should leave at once (redis-benchmark waits for it before sending more).
    stream.set_nodelay(true)?;
    let (mut reader, writer) = stream.into_split();
    let mut writer = BufWriter::new(writer);
    // Bytes received and not yet parsed; `start` is where the unparsed part begins.
    let mut input: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut start = 0;
    let mut chunk = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    loop {
        // Answer every whole command already here, in order.
        loop {
            match parse_frame(&input[start..]) {
                Ok(Frame::Incomplete) => break,
                Ok(Frame::Command { args, used }) => {
                    start += used;
                    if args.is_empty() {
                        continue; // an empty line, or `*0`: nothing to answer
                    }
                    let (reply, after) = execute(shared, &args);
                    reply.encode(&mut out);
                    writer.write_all(&out).await?;
                    out.clear();
                    if after == After::Close {
                        return finish(writer).await;
                    }
                }
                // Bytes that are not RESP: answer, then close (see `ProtocolError`).
                Err(ProtocolError(what)) => {
                    Reply::error(format!("ERR Protocol error: {what}")).encode(&mut out);
                    writer.write_all(&out).await?;
                    finish(writer).await?;
                    return Err(io::Error::new(
                        ErrorKind::InvalidData,
                        format!("protocol error: {what}"),
                    ));
                }
            }
        }
        // Forget what has been parsed, keeping the start of an unfinished command.
        input.drain(..start);
        start = 0;
        // Nothing whole left to answer: send the replies before waiting for more. With
        // pipelining, this is where a whole batch leaves in one write.
        writer.flush().await?;
        // Between two commands, shutdown closes the connection; inside one, it waits.
        let received = match input.is_empty() {
            true => match shutdown.unless_stopping(reader.read(&mut chunk)).await {
                Some(received) => received?,
                // A command may have arrived that the reactor has not reported yet.
                None => match shutdown::arrived_meanwhile(reader.try_read(&mut chunk)) {
                    Some(received) => received?,
                    None => return finish(writer).await,
                },
            },
            false => reader.read(&mut chunk).await?,
        };
        if received == 0 {
            // The client closed its side. Unparsed bytes are the start of a command that
            // will never be finished (a connection closed mid-frame): nothing to answer.
            return Ok(());
        }
        input.extend_from_slice(&chunk[..received]);
    }
}

/// Sends what is buffered and closes the sending side.
async fn finish(mut writer: BufWriter<OwnedWriteHalf>) -> io::Result<()> {
    writer.flush().await?;
    writer.shutdown().await
}

fn is_disconnect(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
    )
}
