//! A line-based chat server: every line a client types goes to every other client, with
//! the sender's name in front.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example chat_server              # listens on 127.0.0.1:7879
//! cargo run --release --example chat_server 0.0.0.0:9000 # or any address you name
//! ```
//!
//! then run `nc 127.0.0.1 7879` in several terminals. A line typed in one shows up in all
//! the others as `127.0.0.1:53422: hello`; joins and leaves are announced with a `*`. Two
//! commands: `/nick NAME` shows NAME instead of the address, `/who` lists who is here.
//! Leave with Ctrl-C in `nc`. Stop the server with Ctrl-C (or `SIGTERM`): it stops accepting,
//! delivers the lines already queued, says goodbye to everyone, and exits once each client's
//! outbox is empty (at most 5 s; see `support/shutdown.rs`). The server prints a line for
//! each join (`+`), leave (`-`), client it disconnects (`!`) and name change (`~`).
//!
//! What it teaches: **broadcast through channels.**
//!
//! ```text
//!              events: one bounded mpsc              outboxes: one bounded mpsc each
//!  connection 1 ─┐                                ┌─▶ connection 1 ─▶ socket 1
//!  connection 2 ─┼─ Joined / Said / Left ─▶ room ─┼─▶ connection 2 ─▶ socket 2
//!  connection 3 ─┘      (send().await)            └─▶ connection 3 ─▶ socket 3
//!                                                      (try_send, never waits)
//! ```
//!
//! * **One task owns the list of clients.** The room task keeps it in a plain `BTreeMap`
//!   that no other task can see, so there is nothing to lock, and each event is handled
//!   whole before the next one: a line can never go out to half the room while someone
//!   joins. The usual alternative, a shared `Mutex<Vec<..>>` that each connection locks
//!   to broadcast, invites holding that lock while writing to sockets, where one stuck
//!   client would then stall every other.
//! * **Connections talk to the room through one channel of events**: `Joined` (with the
//!   means to reach the client), `Said` (a line it typed), `Refused` (a line it typed that
//!   cannot be passed on) and `Left`. One connection's events arrive in the order it sent
//!   them, so its `Joined` always comes before its `Said`s and its `Left` after them.
//! * **The room talks to each client through that client's own bounded outbox**, with
//!   `try_send`, which never waits. See `Room::deliver` for what happens when an outbox is
//!   full, and why that is the whole point.
//!
//! Each connection is one task, reading the client's lines and writing its outbox to the
//! socket at the same time with `select!`; `connection` says why one task and not two.

use asincrono::io::{AsyncBufRead, AsyncWriteExt, BufReader};
use asincrono::net::{OwnedReadHalf, TcpListener, TcpStream};
use asincrono::sync::mpsc::{self, error::TrySendError};
use asincrono::sync::oneshot;
use asincrono::{task, time};
use std::collections::BTreeMap;
use std::future::poll_fn;
use std::io::{self, ErrorKind};
use std::mem;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

#[path = "support/shutdown.rs"]
mod shutdown;
use shutdown::{InFlight, Shutdown};

const DEFAULT_ADDR: &str = "127.0.0.1:7879";

/// How long to wait after a failed `accept` before trying again (see `serve`).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Exit code for a bad command line, as most command-line tools do.
const EXIT_USAGE: u8 = 2;

/// The longest line a client may send, in bytes, not counting the `\n` (a `\r` before it
/// counts). Without a limit, a client sending endless bytes and no newline would make the
/// server buffer them all; `LineReader` says what happens to a longer line.
pub const MAX_LINE: usize = 1024;

/// How many lines may wait in a client's outbox. Enough to ride out a burst (someone
/// pastes a few hundred lines) and the moments when the client's task is not running;
/// a client that falls this far behind is disconnected (see `Room::deliver`). A line is
/// shared by every outbox it is in, so a full outbox is 256 pointers, keeping alive at
/// most 256 lines of at most `MAX_LINE` bytes.
pub const OUTBOX_LINES: usize = 256;

/// How many events may wait for the room. When it falls behind, connections wait in
/// `send().await` to hand it the next line, and stop reading meanwhile: TCP then slows
/// down the clients who type, never the ones who listen.
const ROOM_EVENTS: usize = 64;

/// The longest name `/nick` accepts, in characters.
const MAX_NAME: usize = 32;

#[asincrono::main]
async fn main() -> ExitCode {
    run(std::env::args().skip(1)).await
}

/// The whole program, given its arguments: bind, chat until Ctrl-C or SIGTERM, then deliver
/// the lines on their way and say goodbye (see `support/shutdown.rs`).
pub async fn run(args: impl Iterator<Item = String>) -> ExitCode {
    let addr = match addr_from_args(args) {
        Ok(addr) => addr,
        Err(usage) => {
            eprintln!("chat_server: {usage}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(listener) => listener,
        // Typically "address in use" (another server on that port), "permission denied"
        // (a port below 1024), or an address that does not parse or resolve. The error
        // says which address, or that the name did not resolve.
        Err(err) => {
            eprintln!("chat_server: cannot listen: {err}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => {
            println!("chat server listening on {local}");
            println!(
                "try it:  nc {} {}   (in several terminals)",
                local.ip(),
                local.port()
            );
        }
        // Cannot happen for a listener that was just bound; and the server works anyway.
        Err(err) => eprintln!("chat server listening on {addr} (local_addr failed: {err})"),
    }
    let shutdown = Shutdown::default();
    let server = serve_until(listener, shutdown.clone());
    shutdown::run_until_signal("chat_server", shutdown, server).await
}

/// The address to listen on: the one optional argument, as written. Unlike `echo_server`,
/// it is not resolved here: `TcpListener::bind` resolves it, and a bad one is reported as
/// a failure to listen.
fn addr_from_args(mut args: impl Iterator<Item = String>) -> Result<String, &'static str> {
    let addr = args.next().unwrap_or_else(|| DEFAULT_ADDR.to_string());
    match args.next() {
        None => Ok(addr),
        Some(_) => Err("usage: chat_server [ADDR]   (for example 127.0.0.1:7879)"),
    }
}

/// Runs the chat on `listener`, for ever: starts the room, then accepts connections and
/// gives each one a task.
pub async fn serve(listener: TcpListener) -> ! {
    serve_until(listener, Shutdown::default()).await;
    unreachable!("nobody can stop a `Shutdown` that nobody else holds")
}

/// Runs the chat on `listener` until `shutdown` begins; then the room delivers what it has
/// queued, says goodbye, and lets every connection close once its outbox is empty.
pub async fn serve_until(listener: TcpListener, shutdown: Shutdown) {
    let (events, inbox) = mpsc::channel(ROOM_EVENTS);
    task::spawn(run_room(inbox));
    // Numbers, not addresses, tell clients apart: an address can come back (a client
    // reconnecting from the same port) while the room has not yet heard that its previous
    // owner left, since two connections' events may arrive in either order.
    let mut next_id: ClientId = 0;
    while let Some(accepted) = shutdown.unless_stopping(listener.accept()).await {
        match accepted {
            Ok((stream, addr)) => {
                next_id += 1;
                // Dropping the handle detaches the task: it serves the client while this
                // loop goes back to `accept`. Counted as in flight from now on.
                let in_flight = shutdown.track();
                task::spawn(connection(stream, addr, next_id, events.clone(), in_flight));
            }
            // Most accept errors are about the process, not the client: EMFILE/ENFILE (out
            // of file descriptors) or ENOBUFS/ENOMEM. They last until some connection
            // closes, and the listener stays readable meanwhile, so accepting again at once
            // would fail again at once: the loop would spin at 100% CPU and crowd out the
            // connection tasks whose closing would fix the problem. So wait a little.
            Err(err) => {
                eprintln!(
                    "accept failed: {err} (retrying in {} ms)",
                    ACCEPT_BACKOFF.as_millis()
                );
                time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    // Fails only if the room is gone, which it is not while `events` is alive.
    let _ = events.send(Event::Closing).await;
}

// ---------------------------------------------------------------------------------------
// The room
// ---------------------------------------------------------------------------------------

/// Tells connections apart, in the room's list and in its events.
type ClientId = u64;

/// What a connection tells the room.
enum Event {
    /// A client connected. The room keeps `outbox` and `hang_up` to reach it.
    Joined {
        id: ClientId,
        addr: SocketAddr,
        outbox: mpsc::Sender<Arc<str>>,
        hang_up: oneshot::Sender<()>,
    },
    /// The client typed a line: a message for the others, or a command.
    Said { id: ClientId, text: String },
    /// The client typed a line that cannot be passed on; the room tells it why.
    Refused { id: ClientId, why: String },
    /// The connection is over.
    Left { id: ClientId, ending: Ending },
    /// The server is shutting down (sent once, by `serve_until`).
    Closing,
}

/// What the room knows about a client.
struct Client {
    /// Shown in front of the client's lines: its address until it picks a `/nick`.
    name: String,
    /// Where it connected from, for the server's console.
    addr: SocketAddr,
    /// The room's end of the client's outbox; its connection writes what arrives there.
    outbox: mpsc::Sender<Arc<str>>,
    /// Sending on it (dropping it does the same) makes the connection close the socket.
    hang_up: oneshot::Sender<()>,
}

impl Client {
    /// How the server's console names the client: its name, and its address if the name
    /// is not the address.
    fn label(&self) -> String {
        if self.name == self.addr.to_string() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.addr)
        }
    }
}

/// Who a line is for.
#[derive(Clone, Copy)]
enum To {
    Everyone,
    EveryoneBut(ClientId),
    Only(ClientId),
}

/// The room: the list of clients, owned by the one task that runs `run_room`.
#[derive(Default)]
struct Room {
    /// Every client, by id. A `BTreeMap` keeps them in the order they joined, for `/who`.
    clients: BTreeMap<ClientId, Client>,
    /// Set by `Event::Closing`: the room takes nobody in any more.
    closing: bool,
    /// The hang-up senders of the clients sent away at shutdown, kept so that their
    /// connections end when their outbox runs dry, not before (see `Room::close`).
    parting: Vec<oneshot::Sender<()>>,
}

/// Handles events, one at a time, for as long as the server runs.
async fn run_room(mut events: mpsc::Receiver<Event>) {
    let mut room = Room::default();
    // `recv` returns `None` only once every sender is gone: `serve_until` keeps one for as
    // long as it accepts connections, and each connection one until it ends. So the room
    // ends after a shutdown, once the last connection has closed.
    while let Some(event) = events.recv().await {
        room.handle(event);
    }
}

impl Room {
    fn handle(&mut self, event: Event) {
        match event {
            Event::Joined {
                id,
                addr,
                outbox,
                hang_up,
            } => {
                let name = addr.to_string();
                let others = self.clients.len();
                println!("+ {name} joined ({} here now)", others + 1);
                let client = Client {
                    name: name.clone(),
                    addr,
                    outbox,
                    hang_up,
                };
                self.clients.insert(id, client);
                if self.closing {
                    // Accepted just before the shutdown: tell it, and let it go.
                    return self.close();
                }
                self.send(
                    To::Only(id),
                    &format!(
                        "* welcome, {name}! {others} other(s) here. \
                         /nick NAME to pick a name, /who to see who is here"
                    ),
                );
                self.send(To::EveryoneBut(id), &format!("* {name} joined"));
            }
            Event::Said { id, text } => self.said(id, &text),
            Event::Refused { id, why } => self.send(To::Only(id), &format!("* not sent: {why}")),
            Event::Left { id, ending } => {
                // Not on the list if the room hung up on it already (see `send`), which
                // announced it then.
                let Some(client) = self.clients.remove(&id) else {
                    return;
                };
                let (name, label) = (&client.name, client.label());
                let notice = match &ending {
                    Ending::Closed => {
                        println!("- {label} left");
                        format!("* {name} left")
                    }
                    Ending::Lost(err) => {
                        println!("- {label} left: connection lost ({err})");
                        format!("* {name} left (connection lost)")
                    }
                    Ending::Failed(err) => {
                        eprintln!("- {label} left: error: {err}");
                        format!("* {name} left (connection error)")
                    }
                    // The connection only hangs up when the room told it to, and then the
                    // client is off the list already; announce it anyway, to be safe.
                    Ending::HungUp => {
                        println!("- {label} left: hung up");
                        format!("* {name} left")
                    }
                };
                self.send(To::Everyone, &notice);
            }
            Event::Closing => {
                self.closing = true;
                let count = self.clients.len();
                self.close();
                println!("* shutting down: said goodbye to {count} client(s)");
            }
        }
    }

    /// Says goodbye to every client and lets go of its outbox, so that its connection writes
    /// what is queued there, goodbye last, and then closes (its `outbox.recv()` returns
    /// `None`). The hang-up senders are kept: dropping them would close the connections at
    /// once, with lines still unsent.
    fn close(&mut self) {
        self.send(To::Everyone, "* the server is shutting down: bye");
        let clients = mem::take(&mut self.clients);
        self.parting
            .extend(clients.into_values().map(|client| client.hang_up));
    }

    /// A line from client `id`: a command if it starts with `/`, otherwise a message.
    fn said(&mut self, id: ClientId, text: &str) {
        // Not on the list: the room hung up on it while this line was on its way.
        let Some(client) = self.clients.get(&id) else {
            return;
        };
        if text.trim().is_empty() {
            return; // an empty line says nothing
        }
        let name = client.name.clone();
        match text.strip_prefix('/') {
            Some(command) => self.command(id, &name, command),
            None => self.send(To::EveryoneBut(id), &format!("{name}: {text}")),
        }
    }

    fn command(&mut self, id: ClientId, name: &str, command: &str) {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words[..] {
            ["nick", new] => self.rename(id, name, new),
            ["who"] => {
                let names: Vec<&str> = self.clients.values().map(|c| c.name.as_str()).collect();
                let list = format!("* here: {}", names.join(", "));
                self.send(To::Only(id), &list);
            }
            _ => self.send(To::Only(id), "* commands: /nick NAME, /who"),
        }
    }

    fn rename(&mut self, id: ClientId, old: &str, new: &str) {
        // Letters, digits and `-_.` only: no control characters, and nothing that could
        // pass for a notice (`*`) or for someone else's line (`bob: hi`).
        let allowed = |c: char| c.is_alphanumeric() || "-_.".contains(c);
        let refusal = if new.chars().count() > MAX_NAME || !new.chars().all(allowed) {
            Some(format!(
                "* a name is 1 to {MAX_NAME} letters, digits, '-', '_' or '.'"
            ))
        } else if self.clients.values().any(|c| c.name == new) {
            Some(format!("* the name {new} is taken"))
        } else {
            None
        };
        if let Some(refusal) = refusal {
            self.send(To::Only(id), &refusal);
            return;
        }
        if let Some(client) = self.clients.get_mut(&id) {
            client.name = new.to_string();
        }
        println!("~ {old} is now {new}");
        self.send(To::Everyone, &format!("* {old} is now {new}"));
    }

    /// Queues `text` for the clients `to` names, without ever waiting, and hangs up on
    /// those whose outbox is full. Announcing that goes through here too, and may find
    /// more clients to hang up on; the work list sees each of them through.
    fn send(&mut self, to: To, text: &str) {
        let mut too_slow = self.deliver(to, text);
        while let Some(id) = too_slow.pop() {
            let Some(client) = self.clients.remove(&id) else {
                continue;
            };
            println!(
                "! {} disconnected: {OUTBOX_LINES} lines waiting, too slow to keep up",
                client.label()
            );
            // Fails if the connection has ended already (its `Left` is on the way, and
            // will find nobody): there is nobody left to tell.
            let _ = client.hang_up.send(());
            let notice = format!("* {} was disconnected: too slow to keep up", client.name);
            too_slow.extend(self.deliver(To::Everyone, &notice));
        }
    }

    /// Puts `text` in the outboxes `to` names; returns the clients whose outbox was full.
    fn deliver(&self, to: To, text: &str) -> Vec<ClientId> {
        // One allocation for the line, whatever the number of clients: each outbox gets a
        // pointer to it.
        let line: Arc<str> = format!("{text}\n").into();
        let mut too_slow = Vec::new();
        for (&id, client) in &self.clients {
            let wanted = match to {
                To::Everyone => true,
                To::EveryoneBut(sender) => id != sender,
                To::Only(recipient) => id == recipient,
            };
            if !wanted {
                continue;
            }
            match client.outbox.try_send(line.clone()) {
                Ok(()) => {}
                // The outbox is full: this client has not taken its last OUTBOX_LINES lines
                // (it does not read, or reads more slowly than the room talks). There is no
                // good way to wait for it. `send(..).await` here would stop the room, and
                // with it every other client, until this one reads. An unbounded outbox
                // would let the lines pile up in memory for as long as it does not read,
                // which may be for ever. So the room hangs up on it, and the others carry
                // on. (A client that wants everything can reconnect; a real server might
                // drop lines for it instead, or tell it how many it missed.)
                Err(TrySendError::Full(_)) => too_slow.push(id),
                // The connection has ended (its end of the outbox is gone): its `Left` is
                // already on its way, and takes it off the list when it comes.
                Err(TrySendError::Closed(_)) => {}
            }
        }
        too_slow
    }
}

// ---------------------------------------------------------------------------------------
// A connection
// ---------------------------------------------------------------------------------------

/// Why a connection ended.
enum Ending {
    /// The client closed the connection (end of stream): the normal way to leave. A
    /// client that only shuts down its sending side (as `nc -N` does at the end of its
    /// input) counts as gone too, to keep things simple: it could still listen, but a
    /// chat has little use for that.
    Closed,
    /// The connection broke (reset, aborted, broken pipe): the client was killed, or its
    /// network went away. Normal for a server, and only this client's business.
    Lost(io::Error),
    /// Any other error: unexpected, but still only this connection's business.
    Failed(io::Error),
    /// The room hung up on the client (see `Room::deliver`).
    HungUp,
}

impl Ending {
    fn from_error(err: io::Error) -> Ending {
        match err.kind() {
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
                Ending::Lost(err)
            }
            _ => Ending::Failed(err),
        }
    }
}

/// Serves one client: its lines go to the room, its outbox goes to its socket.
///
/// One task does both, with `select!`, rather than a reader task and a writer task. Two
/// tasks would each own a half of the socket, and the socket closes only once both halves
/// are gone: when the client leaves, the reader would have to stop the writer, and when
/// the room hangs up on a client that never reads, the writer (stuck in a write that will
/// never finish) would have to stop the reader. With one task, ending the task closes the
/// socket, whichever side ended it. The price is that every future in the `select!` must
/// be cancel-safe (each iteration drops the ones that did not finish), which is why the
/// writing below uses `write`, not `write_all`.
async fn connection(
    stream: TcpStream,
    addr: SocketAddr,
    id: ClientId,
    room: mpsc::Sender<Event>,
    _in_flight: InFlight,
) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = LineReader::new(reader);
    let (outbox_sender, mut outbox) = mpsc::channel(OUTBOX_LINES);
    let (hang_up_sender, mut hang_up) = oneshot::channel();
    let joined = Event::Joined {
        id,
        addr,
        outbox: outbox_sender,
        hang_up: hang_up_sender,
    };
    // Fails only if the room is gone, and it never goes (see `run_room`). Were it to, this
    // client would have nobody to talk to: closing the connection is all there is to do.
    if room.send(joined).await.is_err() {
        return;
    }

    // The line being written, minus what the socket has taken so far.
    let mut unsent: Vec<u8> = Vec::new();
    let ending = loop {
        asincrono::select! {
            // Cancel-safe: a partial line stays in `lines` (see `LineReader`).
            heard = lines.next_line() => {
                let event = match heard {
                    Ok(Heard::Line(text)) => Event::Said { id, text },
                    Ok(Heard::TooLong) => Event::Refused {
                        id,
                        why: format!("the line is longer than {MAX_LINE} bytes"),
                    },
                    Ok(Heard::NotUtf8) => Event::Refused {
                        id,
                        why: "the line is not UTF-8 text".to_string(),
                    },
                    Ok(Heard::End) => break Ending::Closed,
                    // A reset shows up here, when the client was killed or unplugged.
                    Err(err) => break Ending::from_error(err),
                };
                // Waits while the room's queue is full (see ROOM_EVENTS). Fails only if the
                // room is gone, which never happens (see `run_room`).
                if room.send(event).await.is_err() {
                    break Ending::HungUp;
                }
            }
            // Takes the next line only once the last one is written, so that the lines a
            // slow client has not taken yet stay in its outbox, where the room sees them
            // pile up. Cancel-safe: a line leaves the outbox only in the poll that returns it.
            line = outbox.recv(), if unsent.is_empty() => match line {
                Some(line) => unsent.extend_from_slice(line.as_bytes()),
                // Every sender is gone: the room has let go of this client (and `hang_up`
                // is firing too).
                None => break Ending::HungUp,
            },
            // `write`, not `write_all`: `write` is cancel-safe (it writes in the poll that
            // reports it, or not at all), so dropping it when another branch wins loses
            // nothing, and `unsent` remembers where we are.
            written = writer.write(&unsent), if !unsent.is_empty() => match written {
                Ok(0) => {
                    // A socket that takes 0 bytes of a non-empty buffer cannot take any:
                    // retrying would spin. (TCP does not do this; the branch is for safety.)
                    break Ending::Failed(ErrorKind::WriteZero.into());
                }
                Ok(taken) => {
                    unsent.drain(..taken);
                }
                // A reset or a broken pipe: the client went away while we wrote to it.
                Err(err) => break Ending::from_error(err),
            },
            // The room hung up on us: it sent `()` or dropped the sender, either will do.
            // Cancel-safe, given as `&mut`: the receiver lives across iterations.
            _ = &mut hang_up => break Ending::HungUp,
        }
    };
    // Tell the room, which announces it. After a hang-up the room knows already and
    // ignores this. Fails only if the room is gone (never, see above).
    let _ = room.send(Event::Left { id, ending }).await;
    // Returning drops both halves: the socket closes, and lines still unsent are dropped.
}

/// What `LineReader::next_line` heard.
enum Heard {
    /// A line, without its `\n` or `\r\n`.
    Line(String),
    /// A line longer than `MAX_LINE` bytes: read to its end and thrown away.
    TooLong,
    /// A line that is not valid UTF-8: read and thrown away.
    NotUtf8,
    /// The end of the stream: the client closed its side of the connection.
    End,
}

/// Reads lines of at most `MAX_LINE` bytes.
///
/// `BufReader::lines()` would read lines too, but it keeps however much the client sends
/// until a newline comes, without a limit. This reader keeps at most `MAX_LINE` bytes of a
/// line: once a line grows past that, the reader throws away what it had and what follows,
/// up to the newline, and then reports `Heard::TooLong`. So the client learns that its
/// line was not sent, and carries on with the next one.
///
/// Cancel-safe, like `Lines`: the line so far lives in the `LineReader`, not in the
/// future, and bytes are consumed from the `BufReader` only once they are copied (or
/// deliberately thrown away), in the same poll.
struct LineReader {
    /// The socket, with a buffer to look for newlines in.
    reader: BufReader<OwnedReadHalf>,
    /// The current line so far, without its `\n`.
    line: Vec<u8>,
    /// The current line has grown past `MAX_LINE`: throw the rest away, up to its `\n`.
    too_long: bool,
}

impl LineReader {
    fn new(reader: OwnedReadHalf) -> LineReader {
        LineReader {
            reader: BufReader::new(reader),
            line: Vec::new(),
            too_long: false,
        }
    }

    /// Reads until the end of the next line, or of the stream.
    async fn next_line(&mut self) -> io::Result<Heard> {
        poll_fn(|cx| self.poll_next_line(cx)).await
    }

    fn poll_next_line(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Heard>> {
        loop {
            // Waker contract: if this returns `Pending`, the socket has stored `cx`'s waker
            // and wakes it when more bytes arrive; nothing here has changed meanwhile.
            let buffered = ready!(Pin::new(&mut self.reader).poll_fill_buf(cx))?;
            if buffered.is_empty() {
                // End of stream. A last line without a `\n` still counts as a line; the
                // next call finds nothing more and reports the end.
                if self.line.is_empty() && !self.too_long {
                    return Poll::Ready(Ok(Heard::End));
                }
                return Poll::Ready(Ok(self.take_line()));
            }
            let newline = buffered.iter().position(|&byte| byte == b'\n');
            let content = &buffered[..newline.unwrap_or(buffered.len())];
            if self.too_long || self.line.len() + content.len() > MAX_LINE {
                self.too_long = true;
                self.line = Vec::new(); // gives the memory back, too
            } else {
                self.line.extend_from_slice(content);
            }
            let used = content.len() + usize::from(newline.is_some());
            Pin::new(&mut self.reader).consume(used);
            if newline.is_some() {
                return Poll::Ready(Ok(self.take_line()));
            }
            // No newline in what was buffered: all of it is taken, read some more. (A client
            // that sends bytes faster than we read cannot keep us in this loop: each read
            // spends the task's cooperative budget, and `poll_fill_buf` returns `Pending`
            // when it runs out.)
        }
    }

    /// Hands out the line just ended, and starts the next one.
    fn take_line(&mut self) -> Heard {
        let mut line = mem::take(&mut self.line);
        if mem::take(&mut self.too_long) {
            return Heard::TooLong;
        }
        if line.last() == Some(&b'\r') {
            line.pop(); // `\r\n`, as telnet and some `nc`s send
        }
        match String::from_utf8(line) {
            Ok(text) => Heard::Line(text),
            Err(_) => Heard::NotUtf8,
        }
    }
}
