//! The chat example (`examples/chat_server.rs`), run for real: its `serve` on a loopback
//! listener, and clients that connect, talk, leave, reset, misbehave and stop reading.
//!
//! No test sleeps to let the server catch up: each waits for the line it expects. A client
//! that has read its welcome is on the room's list; a line that has arrived was sent after
//! everything the room sent that client before it.

mod common;

// `main` and its argument parsing belong to the example, not to these tests.
#[allow(dead_code)]
#[path = "../examples/chat_server.rs"]
mod chat_server;

use asincrono::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, ErrorKind, Lines};
use asincrono::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use chat_server::{MAX_LINE, OUTBOX_LINES};
use common::on_each_flavour;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Starts the chat on a free port; returns its address.
async fn start_chat() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    asincrono::spawn(async move {
        chat_server::serve(listener).await;
    });
    addr
}

/// A test client: a connection to the chat, read line by line.
struct Client {
    /// The name the others see: the address it connects from, until it picks a `/nick`.
    name: String,
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

impl Client {
    /// Connects, and waits for the welcome: once it is here, the room has the client on its
    /// list, so whatever anyone says next reaches it.
    async fn join(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let name = stream.local_addr().expect("local addr").to_string();
        let (reader, writer) = stream.into_split();
        let mut client = Client {
            name,
            lines: BufReader::new(reader).lines(),
            writer,
        };
        let welcome = client.next().await;
        assert_welcome(&welcome, &client.name);
        client
    }

    async fn say(&mut self, line: &str) {
        self.send_raw(format!("{line}\n").as_bytes()).await;
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("send");
    }

    /// The next line from the server.
    async fn next(&mut self) -> String {
        let line = self.lines.next_line().await;
        let line = line.unwrap_or_else(|err| panic!("{}: read failed: {err}", self.name));
        line.unwrap_or_else(|| panic!("{}: the server closed the connection", self.name))
    }

    async fn expect(&mut self, expected: &str) {
        let line = self.next().await;
        assert_eq!(line, expected, "what {} received", self.name);
    }

    /// Picks a name, and waits until the room has announced it (to this client too).
    async fn nick(&mut self, new: &str) {
        self.say(&format!("/nick {new}")).await;
        self.expect(&format!("* {} is now {new}", self.name)).await;
        self.name = new.to_string();
    }
}

fn assert_welcome(line: &str, name: &str) {
    let expected = format!("* welcome, {name}!");
    assert!(line.starts_with(&expected), "expected a welcome: {line:?}");
}

/// Connects `N` clients one after the other. Each join is announced to the clients already
/// there, and they read it, so every stream is at a clean point afterwards.
async fn join_several<const N: usize>(addr: SocketAddr) -> [Client; N] {
    let mut clients: Vec<Client> = Vec::new();
    for _ in 0..N {
        let newcomer = Client::join(addr).await;
        for earlier in &mut clients {
            earlier.expect(&format!("* {} joined", newcomer.name)).await;
        }
        clients.push(newcomer);
    }
    match clients.try_into() {
        Ok(clients) => clients,
        Err(_) => unreachable!("exactly N clients were pushed"),
    }
}

#[test]
fn a_line_reaches_every_other_client_once_with_the_senders_name() {
    on_each_flavour(|| async {
        let addr = start_chat().await;
        let [mut alice, mut bob, mut carol] = join_several(addr).await;

        alice.say("hello").await;
        let hello = format!("{}: hello", alice.name);
        bob.expect(&hello).await;
        carol.expect(&hello).await;

        // Had alice received her own "hello", or carol received it twice, that copy would
        // come before bob's line: an outbox keeps the order in which the room filled it.
        bob.say("hi alice").await;
        let hi = format!("{}: hi alice", bob.name);
        alice.expect(&hi).await;
        carol.expect(&hi).await;
    });
}

#[test]
fn nick_and_who_work_and_command_replies_go_only_to_their_sender() {
    on_each_flavour(|| async {
        let addr = start_chat().await;
        let [mut alice, mut bob] = join_several(addr).await;

        let address = alice.name.clone();
        alice.nick("alice").await;
        bob.expect(&format!("* {address} is now alice")).await;

        bob.say("/nick alice").await;
        bob.expect("* the name alice is taken").await;
        bob.say("/nick *alice*").await;
        bob.expect("* a name is 1 to 32 letters, digits, '-', '_' or '.'")
            .await;
        bob.say("/nick two words").await;
        bob.expect("* commands: /nick NAME, /who").await;
        bob.say("/dance").await;
        bob.expect("* commands: /nick NAME, /who").await;
        bob.say("/who").await;
        bob.expect(&format!("* here: alice, {}", bob.name)).await;

        // Nothing of that reached alice: the next line she gets is bob's message.
        bob.say("done").await;
        alice.expect(&format!("{}: done", bob.name)).await;
    });
}

#[test]
fn a_client_that_closes_or_resets_is_reported_to_the_others() {
    on_each_flavour(|| async {
        let addr = start_chat().await;
        let [mut alice, bob, mut carol] = join_several(addr).await;

        // Dropping both halves closes the connection: the server reads the end of stream.
        let bob_name = bob.name.clone();
        drop(bob);
        alice.expect(&format!("* {bob_name} left")).await;
        carol.expect(&format!("* {bob_name} left")).await;

        // Closing with SO_LINGER 0 sends a reset instead: the server's read fails with
        // ConnectionReset. The stream is kept whole (not split), since dropping a write
        // half would send a FIN first.
        let dave = std::net::TcpStream::connect(addr).expect("connect");
        common::set_linger_zero(&dave);
        let dave = TcpStream::from_std(dave).expect("from_std");
        let dave_name = dave.local_addr().expect("local addr").to_string();
        let mut dave_lines = BufReader::new(dave).lines();
        let welcome = dave_lines.next_line().await.expect("read").expect("a line");
        assert_welcome(&welcome, &dave_name);
        alice.expect(&format!("* {dave_name} joined")).await;
        carol.expect(&format!("* {dave_name} joined")).await;
        drop(dave_lines);
        alice
            .expect(&format!("* {dave_name} left (connection lost)"))
            .await;
        carol
            .expect(&format!("* {dave_name} left (connection lost)"))
            .await;

        // The others carry on.
        carol.say("still here").await;
        alice.expect(&format!("{}: still here", carol.name)).await;
    });
}

#[test]
fn a_line_too_long_or_not_utf8_is_refused_and_its_sender_carries_on() {
    on_each_flavour(|| async {
        let addr = start_chat().await;
        let [mut alice, mut bob] = join_several(addr).await;
        let too_long = format!("* not sent: the line is longer than {MAX_LINE} bytes");

        let mut line = vec![b'x'; MAX_LINE + 1];
        line.push(b'\n');
        alice.send_raw(&line).await;
        alice.expect(&too_long).await;

        // Many times the buffer's size: the reader throws it away as it comes.
        let mut line = vec![b'z'; 100 * MAX_LINE];
        line.push(b'\n');
        alice.send_raw(&line).await;
        alice.expect(&too_long).await;

        alice.send_raw(b"caf\xe9\n").await; // Latin-1, not UTF-8
        alice.expect("* not sent: the line is not UTF-8 text").await;

        // A line of exactly MAX_LINE bytes goes through, and a `\r\n` ending is removed.
        // They are the first lines bob gets: the refused ones reached nobody.
        let longest = "y".repeat(MAX_LINE);
        alice.say(&longest).await;
        alice.send_raw(b"crlf\r\n").await;
        bob.expect(&format!("{}: {longest}", alice.name)).await;
        bob.expect(&format!("{}: crlf", alice.name)).await;
    });
}

#[test]
fn a_client_that_never_reads_is_disconnected_and_the_others_carry_on() {
    /// Lines alice sends before bob reads them all: well under OUTBOX_LINES, so bob, who
    /// reads, never has that many waiting, while carol's outbox fills and stays full.
    const LINES_PER_ROUND: usize = 64;
    const _: () = assert!(LINES_PER_ROUND < OUTBOX_LINES / 2);
    /// Far more than the socket buffers between the server and carol can hold, plus her
    /// outbox: if carol is still there after this, the server never disconnects anyone.
    const GIVE_UP_AFTER_BYTES: usize = 64 << 20;
    const LINE_BYTES: usize = 1000;

    on_each_flavour(|| async {
        let addr = start_chat().await;
        let [mut alice, mut bob, mut carol] = join_several(addr).await;
        let carol_name = carol.name.clone();
        let disconnected = format!("* {carol_name} was disconnected: too slow to keep up");

        // From here on carol reads nothing, until the end. Alice sends rounds of long
        // lines and bob reads each round whole, until bob hears that carol is gone.
        let filler = "x".repeat(LINE_BYTES);
        let mut bob_heard_it = false;
        let mut round = 0;
        while !bob_heard_it {
            assert!(
                round * LINES_PER_ROUND * LINE_BYTES < GIVE_UP_AFTER_BYTES,
                "carol was not disconnected after {GIVE_UP_AFTER_BYTES} bytes"
            );
            let mut batch = String::new();
            for i in 0..LINES_PER_ROUND {
                writeln!(batch, "flood {round}.{i} {filler}").unwrap();
            }
            alice.send_raw(batch.as_bytes()).await;
            let mut received = 0;
            while received < LINES_PER_ROUND {
                let line = bob.next().await;
                if line == disconnected {
                    assert!(!bob_heard_it, "bob heard twice that carol was disconnected");
                    bob_heard_it = true;
                } else {
                    let expected = format!("{}: flood {round}.{received} {filler}", alice.name);
                    assert!(line == expected, "bob received {line:.60?}…");
                    received += 1;
                }
            }
            round += 1;
        }
        alice.expect(&disconnected).await;

        // The room goes on without carol.
        alice.say("after carol").await;
        bob.expect(&format!("{}: after carol", alice.name)).await;

        // Carol's connection was closed: reading now gives her the lines that were still in
        // the socket buffers, then the end of the stream. She never gets what was said
        // after she was disconnected, nor the notice about it.
        let mut flood_lines = 0;
        loop {
            match carol.lines.next_line().await {
                Ok(Some(line)) => {
                    assert!(line.contains(": flood "), "carol received {line:.60?}…");
                    flood_lines += 1;
                }
                Ok(None) => break,
                // A close with data still unsent may end in a reset instead.
                Err(err) if err.kind() == ErrorKind::ConnectionReset => break,
                Err(err) => panic!("carol: read failed: {err}"),
            }
        }
        assert!(flood_lines > 0, "carol received none of the flood");
    });
}
