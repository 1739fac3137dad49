//! The key-value example (`examples/kv_server.rs`), run for real: its `serve` on a loopback
//! listener, driven by asincrono's own `TcpStream` speaking raw RESP, and by `redis-cli`
//! and `redis-benchmark` when they are installed.
//!
//! No test sleeps to let the server catch up: each reads the exact reply it expects. The
//! expiry test runs on a paused clock and moves it by hand.

mod common;

// `main` and its argument parsing belong to the example, not to these tests.
#[allow(dead_code)]
#[path = "../examples/kv_server.rs"]
mod kv_server;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::runtime::Builder;
use asincrono::time;
use common::{TEST_DEADLINE, on_each_flavour, within};
use kv_server::{Frame, ProtocolError, parse_frame};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

/// Starts the server on a free port; returns its address.
async fn start_kv() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    asincrono::spawn(async move {
        kv_server::serve(listener).await;
    });
    addr
}

/// A command in RESP's array form, as client libraries send it.
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// Sends `command` and checks that the next bytes from the server are exactly `reply`.
async fn check(stream: &mut TcpStream, command: &[&str], reply: &str) {
    stream.write_all(&resp(command)).await.expect("send");
    expect(stream, reply, command).await;
}

async fn expect(stream: &mut TcpStream, reply: &str, what: &[&str]) {
    let mut got = vec![0u8; reply.len()];
    stream.read_exact(&mut got).await.expect("read the reply");
    assert_eq!(String::from_utf8_lossy(&got), reply, "reply to {what:?}");
}

/// Reads until the server closes the connection; returns all it sent.
async fn rest(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await.expect("read to the end");
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn every_command_does_what_redis_does() {
    on_each_flavour(|| async {
        let addr = start_kv().await;
        let mut c = TcpStream::connect(addr).await.expect("connect");
        check(&mut c, &["PING"], "+PONG\r\n").await;
        check(&mut c, &["ping", "hi"], "$2\r\nhi\r\n").await;
        check(&mut c, &["ECHO", "a b\r\nc"], "$6\r\na b\r\nc\r\n").await;
        check(&mut c, &["GET", "k"], "$-1\r\n").await;
        check(&mut c, &["SET", "k", "v"], "+OK\r\n").await;
        check(&mut c, &["GET", "k"], "$1\r\nv\r\n").await;
        check(&mut c, &["SET", "k", "w", "NX"], "$-1\r\n").await;
        check(&mut c, &["SET", "k", "w", "XX"], "+OK\r\n").await;
        check(&mut c, &["SET", "new", "x", "XX"], "$-1\r\n").await;
        check(&mut c, &["SET", "new", "x", "NX"], "+OK\r\n").await;
        check(&mut c, &["GET", "k"], "$1\r\nw\r\n").await;
        check(&mut c, &["EXISTS", "k", "new", "none", "k"], ":3\r\n").await;
        check(&mut c, &["DEL", "k", "none"], ":1\r\n").await;
        check(&mut c, &["EXISTS", "k"], ":0\r\n").await;
        check(&mut c, &["INCR", "n"], ":1\r\n").await;
        check(&mut c, &["INCR", "n"], ":2\r\n").await;
        check(&mut c, &["TTL", "n"], ":-1\r\n").await;
        check(&mut c, &["TTL", "none"], ":-2\r\n").await;
        check(&mut c, &["EXPIRE", "n", "100"], ":1\r\n").await;
        check(&mut c, &["EXPIRE", "none", "100"], ":0\r\n").await;
        check(&mut c, &["TTL", "n"], ":100\r\n").await;
        check(&mut c, &["SET", "e", "1", "EX", "50"], "+OK\r\n").await;
        check(&mut c, &["TTL", "e"], ":50\r\n").await;
        check(&mut c, &["SET", "p", "1", "PX", "20000"], "+OK\r\n").await;
        check(&mut c, &["TTL", "p"], ":20\r\n").await;
        check(&mut c, &["EXPIRE", "p", "0"], ":1\r\n").await; // deletes it
        check(&mut c, &["GET", "p"], "$-1\r\n").await;
        check(&mut c, &["DBSIZE"], ":3\r\n").await; // new, n, e
        check(&mut c, &["COMMAND", "DOCS"], "*0\r\n").await;
        check(
            &mut c,
            &["CONFIG", "GET", "save"],
            "*2\r\n$4\r\nsave\r\n$0\r\n\r\n",
        )
        .await;
        // Inline commands, as typed into `nc`.
        c.write_all(b"PING\r\nGET new\n\r\n").await.expect("send");
        expect(&mut c, "+PONG\r\n$1\r\nx\r\n", &["inline"]).await;
        check(&mut c, &["QUIT"], "+OK\r\n").await;
        assert_eq!(rest(&mut c).await, "", "QUIT closes the connection");
    });
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    on_each_flavour(|| async {
        let addr = start_kv().await;
        let mut c = TcpStream::connect(addr).await.expect("connect");
        let mut batch = Vec::new();
        let mut expected = String::new();
        for i in 0..500 {
            batch.extend(resp(&["INCR", "counter"]));
            batch.extend(resp(&["ECHO", &i.to_string()]));
            expected += &format!(":{}\r\n${}\r\n{i}\r\n", i + 1, i.to_string().len());
        }
        // One write for all 1000 commands; the replies come back in the same order.
        c.write_all(&batch).await.expect("send");
        expect(&mut c, &expected, &["the batch"]).await;
    });
}

#[test]
fn bad_commands_get_an_error_and_the_connection_carries_on() {
    on_each_flavour(|| async {
        let addr = start_kv().await;
        let mut c = TcpStream::connect(addr).await.expect("connect");
        check(&mut c, &["FLY"], "-ERR unknown command 'fly'\r\n").await;
        let arity = "-ERR wrong number of arguments for 'get' command\r\n";
        check(&mut c, &["GET"], arity).await;
        check(&mut c, &["GET", "a", "b"], arity).await;
        check(&mut c, &["SET", "s", "text"], "+OK\r\n").await;
        let not_integer = "-ERR value is not an integer or out of range\r\n";
        check(&mut c, &["INCR", "s"], not_integer).await;
        check(&mut c, &["SET", "big", "9223372036854775807"], "+OK\r\n").await;
        check(&mut c, &["INCR", "big"], not_integer).await;
        check(&mut c, &["SET", "k", "v", "EX", "soon"], not_integer).await;
        let bad_time = "-ERR invalid expire time in 'set' command\r\n";
        check(&mut c, &["SET", "k", "v", "EX", "0"], bad_time).await;
        check(
            &mut c,
            &["SET", "k", "v", "EX", "9223372036854775807"],
            bad_time,
        )
        .await;
        check(&mut c, &["SET", "k", "v", "EX"], "-ERR syntax error\r\n").await;
        check(
            &mut c,
            &["SET", "k", "v", "NX", "XX"],
            "-ERR syntax error\r\n",
        )
        .await;
        check(
            &mut c,
            &["SET", "k", "v", "FOREVER"],
            "-ERR syntax error\r\n",
        )
        .await;
        check(&mut c, &["EXPIRE", "s", "later"], not_integer).await;
        // A line break in a name must not break the reply's framing.
        check(&mut c, &["A\r\nB"], "-ERR unknown command 'a  b'\r\n").await;
        // Still the same connection, still served.
        check(&mut c, &["GET", "s"], "$4\r\ntext\r\n").await;
    });
}

#[test]
fn a_frame_with_a_wrong_length_gets_an_error_and_the_connection_closes() {
    on_each_flavour(|| async {
        let addr = start_kv().await;
        let cases: [(&[u8], &str); 4] = [
            // `$3` but four bytes before the `\r\n`: nothing says where the value ends.
            (
                b"*2\r\n$3\r\nGET\r\n$3\r\nabcd\r\n",
                "bulk string does not end where its length says",
            ),
            (b"*x\r\n", "invalid multibulk length"),
            (b"*1\r\n$-5\r\n", "invalid bulk length"),
            (b"*1\r\n:5\r\n", "expected '$', got ':'"),
        ];
        for (frame, error) in cases {
            let mut c = TcpStream::connect(addr).await.expect("connect");
            // A good command first: its reply comes before the error.
            let mut bytes = resp(&["PING"]);
            bytes.extend_from_slice(frame);
            c.write_all(&bytes).await.expect("send");
            let expected = format!("+PONG\r\n-ERR Protocol error: {error}\r\n");
            assert_eq!(rest(&mut c).await, expected, "for {frame:?}");
        }
        // The server carries on for everyone else.
        let mut c = TcpStream::connect(addr).await.expect("connect");
        check(&mut c, &["PING"], "+PONG\r\n").await;
    });
}

#[test]
fn a_connection_closed_mid_frame_is_dropped_and_the_server_carries_on() {
    on_each_flavour(|| async {
        let addr = start_kv().await;
        let mut c = TcpStream::connect(addr).await.expect("connect");
        check(&mut c, &["SET", "k", "before"], "+OK\r\n").await;
        // Half a SET, then the client goes away.
        c.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\naft")
            .await
            .expect("send");
        c.shutdown().await.expect("shutdown");
        assert_eq!(rest(&mut c).await, "", "no reply to half a command");
        let mut c = TcpStream::connect(addr).await.expect("connect");
        check(&mut c, &["GET", "k"], "$6\r\nbefore\r\n").await;
    });
}

#[test]
fn a_frame_split_into_single_bytes_still_parses() {
    let whole = resp(&["SET", "key", "value"]);
    for end in 0..whole.len() {
        assert_eq!(
            parse_frame(&whole[..end]),
            Ok(Frame::Incomplete),
            "{end} bytes"
        );
    }
    let args = ["SET", "key", "value"]
        .map(|a| a.as_bytes().to_vec())
        .to_vec();
    let used = whole.len();
    assert_eq!(parse_frame(&whole), Ok(Frame::Command { args, used }));
    let error = ProtocolError("invalid bulk length".into());
    assert_eq!(parse_frame(b"*1\r\n$99999999999\r\n"), Err(error));
}

/// Keys expire on asincrono's clock: paused here, and moved by hand, so the test takes no
/// real time. A current-thread runtime, since only that kind can be paused.
#[test]
fn keys_expire_on_time_read_or_not() {
    within(TEST_DEADLINE, "paused", || {
        let runtime = Builder::new_current_thread()
            .start_paused(true)
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let addr = start_kv().await;
            let mut c = TcpStream::connect(addr).await.expect("connect");
            check(&mut c, &["SET", "read", "1", "EX", "10"], "+OK\r\n").await;
            check(&mut c, &["SET", "unread", "1", "PX", "3000"], "+OK\r\n").await;
            check(&mut c, &["SET", "kept", "1"], "+OK\r\n").await;
            time::advance(Duration::from_secs(4)).await;
            // Nobody read `unread`: the expiry task removed it when its time came.
            check(&mut c, &["DBSIZE"], ":2\r\n").await;
            check(&mut c, &["TTL", "read"], ":6\r\n").await;
            check(&mut c, &["PTTL", "read"], ":6000\r\n").await;
            // A later EXPIRE replaces the deadline; the old one, when it comes, is ignored.
            check(&mut c, &["EXPIRE", "read", "20"], ":1\r\n").await;
            time::advance(Duration::from_secs(10)).await;
            check(&mut c, &["GET", "read"], "$1\r\n1\r\n").await;
            time::advance(Duration::from_secs(10)).await;
            check(&mut c, &["GET", "read"], "$-1\r\n").await;
            check(&mut c, &["DBSIZE"], ":1\r\n").await;
            check(&mut c, &["GET", "kept"], "$1\r\n1\r\n").await;
        });
    });
}

// ---------------------------------------------------------------------------------------
// The real tools
// ---------------------------------------------------------------------------------------

/// Runs the server on a multi-thread runtime (its workers serve it while this thread runs
/// a blocking child process), calls `client` with its address, then drops the runtime.
fn with_server_in_background(client: impl FnOnce(SocketAddr) + Send + 'static) {
    within(TEST_DEADLINE, "tool", move || {
        let runtime = common::runtime("multi_thread");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        runtime.spawn(async move {
            kv_server::serve(listener).await;
        });
        client(addr);
    });
}

fn run(tool: &str, addr: SocketAddr, args: &[&str]) -> String {
    let port = addr.port().to_string();
    let out = Command::new(tool)
        .args(["-h", "127.0.0.1", "-p", &port])
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("run {tool}: {err}"));
    assert!(out.status.success(), "{tool} {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_cli_talks_to_it() {
    let Some(()) = common::require_tool("redis-cli", "redis-tools") else {
        return;
    };
    with_server_in_background(|addr| {
        assert_eq!(run("redis-cli", addr, &["PING"]), "PONG\n");
        assert_eq!(
            run("redis-cli", addr, &["SET", "k", "v", "EX", "60"]),
            "OK\n"
        );
        assert_eq!(run("redis-cli", addr, &["GET", "k"]), "v\n");
        assert_eq!(run("redis-cli", addr, &["TTL", "k"]), "60\n");
        assert_eq!(run("redis-cli", addr, &["INCR", "n"]), "1\n");
        assert_eq!(run("redis-cli", addr, &["DEL", "k", "n"]), "2\n");
        assert_eq!(run("redis-cli", addr, &["GET", "k"]), "\n"); // nil, in --no-raw
        let error = run("redis-cli", addr, &["NOPE"]);
        assert!(error.contains("ERR unknown command 'nope'"), "{error:?}");
    });
}

#[test]
fn redis_benchmark_runs_against_it() {
    let Some(()) = common::require_tool("redis-benchmark", "redis-tools") else {
        return;
    };
    with_server_in_background(|addr| {
        let out = run(
            "redis-benchmark",
            addr,
            &["-n", "2000", "-q", "-t", "set,get"],
        );
        println!("{out}");
        // One summary line per test, such as "SET: 51282.05 requests per second, …".
        for test in ["SET", "GET"] {
            let line = out
                .lines()
                .rev()
                .find(|line| line.contains(&format!("{test}: ")));
            let line = line.unwrap_or_else(|| panic!("no {test} result in {out:?}"));
            assert!(line.contains("requests per second"), "{line:?}");
        }
    });
}
