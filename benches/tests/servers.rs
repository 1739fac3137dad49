//! Each comparison server starts on both runtimes and both flavours, on a free loopback port
//! in this process, and answers a plain `std::net::TcpStream`: one HTTP request, one
//! pipelined pair, garbage; RESP `PING`, `SET`, `GET`, and a malformed frame. Every read has
//! a timeout, so a server that never answers fails the test instead of hanging it.

use asincrono_bench::servers::{self, Server};
use asincrono_bench::{FLAVOURS, Named, Runtime};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Every (runtime, flavour) pair, with a server of `server` started on it.
fn each_server(server: Server) -> Vec<(String, SocketAddr)> {
    let mut started = Vec::new();
    for &flavour in FLAVOURS {
        for runtime in [Runtime::Tokio, Runtime::Asincrono] {
            let context = format!(
                "{} on {} ({})",
                server.name(),
                runtime.name(),
                flavour.name()
            );
            let addr = servers::start(server, runtime, flavour)
                .unwrap_or_else(|err| panic!("{context}: start: {err}"));
            started.push((context, addr));
        }
    }
    started
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    stream
}

/// Reads until the input ends with `ending` (or the connection closes), at most 64 KiB.
fn read_until_ends_with(stream: &mut TcpStream, ending: &[u8], context: &str) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while !received.ends_with(ending) && received.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(read) => received.extend_from_slice(&buf[..read]),
            Err(err) => panic!(
                "{context}: no full answer ({err}); got {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    received
}

/// Reads until the server closes the connection.
fn read_to_close(stream: &mut TcpStream, context: &str) -> String {
    let mut received = Vec::new();
    stream
        .read_to_end(&mut received)
        .unwrap_or_else(|err| panic!("{context}: the server did not close ({err})"));
    String::from_utf8_lossy(&received).into_owned()
}

#[test]
fn the_http_server_answers_on_both_runtimes() {
    let body = std::str::from_utf8(servers::on_tokio::HTTP_BODY).expect("utf-8");
    for (context, addr) in each_server(Server::Http) {
        // One request, then two pipelined on the same (kept-alive) connection.
        let mut stream = connect(addr);
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            .expect("send");
        let answer = read_until_ends_with(&mut stream, body.as_bytes(), &context);
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 200 OK\r\n"),
            "{context}: {answer:?}"
        );
        stream
            .write_all(
                b"GET /hello HTTP/1.1\r\n\r\nGET /missing HTTP/1.1\r\nConnection: close\r\n\r\n",
            )
            .expect("send");
        let answer = read_to_close(&mut stream, &context);
        assert!(
            answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.contains("\r\n\r\nhello\n"),
            "{context}: {answer:?}"
        );
        assert!(
            answer.contains("HTTP/1.1 404 Not Found\r\n"),
            "{context}: {answer:?}"
        );

        // The small file, read from disk for each request, twice on one connection.
        let file = std::fs::read_to_string(servers::on_tokio::STATIC_FILE).expect("the file");
        let mut stream = connect(addr);
        stream
            .write_all(b"GET /file HTTP/1.1\r\n\r\nGET /file HTTP/1.1\r\nConnection: close\r\n\r\n")
            .expect("send");
        let answer = read_to_close(&mut stream, &context);
        assert_eq!(
            answer.matches(&format!("\r\n\r\n{file}")).count(),
            2,
            "{context}: {answer:?}"
        );

        // Garbage gets a 400 and the connection is closed.
        let mut stream = connect(addr);
        stream.write_all(b"NONSENSE\r\n\r\n").expect("send");
        let answer = read_to_close(&mut stream, &context);
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{context}: {answer:?}"
        );
    }
}

#[test]
fn the_kv_server_answers_on_both_runtimes() {
    for (context, addr) in each_server(Server::Kv) {
        let mut stream = connect(addr);
        let mut ask = |request: &[u8], expected: &[u8]| {
            stream.write_all(request).expect("send");
            let answer = read_until_ends_with(&mut stream, expected, &context);
            assert_eq!(
                String::from_utf8_lossy(&answer),
                String::from_utf8_lossy(expected),
                "{context}: the answer to {:?}",
                String::from_utf8_lossy(request)
            );
        };
        ask(b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n");
        ask(
            b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
            b"+OK\r\n",
        );
        ask(b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n", b"$5\r\nvalue\r\n");
        // Pipelined: three commands in one write, three answers.
        ask(
            b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n",
            b":1\r\n:2\r\n$-1\r\n",
        );

        // A bulk string longer than its declared length: an error, then the server closes.
        let mut stream = connect(addr);
        stream.write_all(b"*1\r\n$2\r\nPING\r\n").expect("send");
        let answer = read_to_close(&mut stream, &context);
        assert!(
            answer.starts_with("-ERR Protocol error"),
            "{context}: {answer:?}"
        );
    }
}
