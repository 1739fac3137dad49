//! The fetch example (`examples/fetch.rs`), run for real: its `fetch_all` against the
//! example HTTP server over a temporary folder, and against tiny servers written here for
//! what `http_server` never sends (a chunked body) or to count connections.
//!
//! No test sleeps to let something happen: the concurrency test holds its answers back
//! until two requests are in flight, and the timeout test uses `/slow`, whose delay is far
//! longer than the time limit.

mod common;

#[allow(dead_code)]
#[path = "../examples/fetch.rs"]
mod fetch;

// `main` and its argument parsing belong to the example, not to these tests.
#[allow(dead_code)]
#[path = "../examples/http_server.rs"]
mod http_server;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::sync::Semaphore;
use common::on_each_flavour;
use fetch::{FetchError, Framing, Options, fetch_all};
use http_server::Limits;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(10);

/// A fresh folder with a few files: text, an empty one, and 300 KiB of binary.
fn make_root(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("asincrono-fetch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("mkdir");
    for (file, contents) in files() {
        std::fs::write(root.join(file), contents).expect("write");
    }
    root
}

fn files() -> Vec<(&'static str, Vec<u8>)> {
    let big: Vec<u8> = (0..300 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    vec![
        ("a.txt", b"hello\n".to_vec()),
        ("empty.txt", Vec::new()),
        ("big.bin", big),
    ]
}

/// `http_server` on a free loopback port; `/slow` waits `slow_delay`.
async fn start_http(root: PathBuf, slow_delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let limits = Limits {
        slow_delay,
        ..Limits::default()
    };
    asincrono::spawn(async move {
        http_server::serve_with(listener, root, limits).await;
    });
    addr
}

/// A server written here: each connection reads a request head, then sends `answer`
/// (after `before_answer` is done) and closes.
async fn start_tiny<F, Fut>(answer: &'static [u8], before_answer: F) -> SocketAddr
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let before_answer = Arc::new(before_answer);
    asincrono::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let before_answer = before_answer.clone();
            asincrono::spawn(async move {
                read_head(&mut stream).await;
                before_answer().await;
                // The client may have given up already: not this server's concern.
                let _ = stream.write_all(answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

async fn read_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
}

#[test]
fn files_arrive_byte_for_byte_and_a_404_is_a_404() {
    let root = make_root("files");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root, LONG).await;
            let mut urls: Vec<String> = files()
                .iter()
                .map(|(name, _)| format!("http://{addr}/{name}"))
                .collect();
            urls.push(format!("http://{addr}/nope"));
            let outcomes = fetch_all(urls.clone(), 3, LONG).await;
            assert_eq!(outcomes.len(), 4);
            for ((name, contents), outcome) in files().iter().zip(&outcomes) {
                assert_eq!(outcome.url, format!("http://{addr}/{name}"));
                let fetched = outcome.result.as_ref().expect(name);
                assert_eq!(fetched.status, 200, "{name}");
                assert_eq!(fetched.framing, Framing::Length(contents.len() as u64));
                assert_eq!(fetched.bytes, contents.len() as u64);
                assert!(fetched.body == *contents, "{name}: the body differs");
                assert!(outcome.succeeded());
            }
            let missing = outcomes[3].result.as_ref().expect("an answer");
            assert_eq!(
                (missing.status, missing.reason.as_str()),
                (404, "Not Found")
            );
            assert!(!outcomes[3].succeeded(), "a 404 is not a success");
        }
    });
}

#[test]
fn no_more_than_two_requests_are_in_flight() {
    on_each_flavour(|| async {
        // The server counts the connections it has accepted and not yet answered: a request
        // is in flight on the client for at least that long, so this count can only
        // understate the client's. It holds every answer until two are open at once, so
        // the limit is reached (with a limit of 1 this would hang, and the watchdog fail).
        let open = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(0));
        let gate_opened = Arc::new(AtomicBool::new(false));
        let addr = start_tiny(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", {
            let (open, most, gate) = (open.clone(), most.clone(), gate.clone());
            let gate_opened = gate_opened.clone();
            move || {
                let (open, most, gate) = (open.clone(), most.clone(), gate.clone());
                let gate_opened = gate_opened.clone();
                async move {
                    let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Opened once, for good: `now` can come back to 2 later, and a second
                    // `add_permits(MAX_PERMITS)` would overflow the semaphore (it panics).
                    if now == 2 && !gate_opened.swap(true, Ordering::SeqCst) {
                        gate.add_permits(Semaphore::MAX_PERMITS);
                    }
                    drop(gate.acquire().await.expect("never closed"));
                    open.fetch_sub(1, Ordering::SeqCst);
                }
            }
        })
        .await;
        let urls = (0..8).map(|i| format!("http://{addr}/{i}")).collect();
        let outcomes = fetch_all(urls, 2, LONG).await;
        for outcome in &outcomes {
            assert!(outcome.succeeded(), "{outcome:?}");
            assert_eq!(outcome.result.as_ref().unwrap().body, b"ok");
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "the most in flight at once");
    });
}

#[test]
fn a_slow_request_times_out_while_the_others_succeed() {
    let root = make_root("slow");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root, LONG).await;
            let urls = vec![
                format!("http://{addr}/a.txt"),
                format!("http://{addr}/slow"),
                format!("http://{addr}/big.bin"),
            ];
            let outcomes = fetch_all(urls, 8, Duration::from_millis(200)).await;
            assert!(outcomes[0].succeeded(), "{:?}", outcomes[0]);
            assert!(outcomes[2].succeeded(), "{:?}", outcomes[2]);
            match &outcomes[1].result {
                Err(err @ FetchError::Timeout { .. }) => {
                    let message = err.to_string();
                    assert!(message.starts_with("timed out after 0.2 s"), "{message}");
                }
                other => panic!("expected a timeout, got {other:?}"),
            }
            assert!(outcomes[1].took >= Duration::from_millis(200));
        }
    });
}

#[test]
fn a_refused_connection_names_the_address() {
    on_each_flavour(|| async {
        // A port that was free a moment ago: nothing listens on it now.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        drop(listener);
        let outcomes = fetch_all(vec![format!("http://{addr}/x")], 1, LONG).await;
        let err = outcomes[0].result.as_ref().expect_err("nothing listens");
        let message = err.to_string();
        assert!(matches!(err, FetchError::Connect(_)), "{message}");
        let expected = format!("cannot connect to {addr} (Connection refused");
        assert!(message.starts_with(&expected), "{message}");
        assert_eq!(message.matches(&addr.to_string()).count(), 1, "{message}");
    });
}

#[test]
fn a_chunked_body_is_put_back_together() {
    on_each_flavour(|| async {
        let answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                       5\r\nhello\r\n1;ext=1\r\n,\r\nA\r\n chunked!\n\r\n0\r\nTrailer: x\r\n\r\n";
        let addr = start_tiny(answer, || async {}).await;
        let outcomes = fetch_all(vec![format!("http://{addr}/")], 1, LONG).await;
        let fetched = outcomes[0].result.as_ref().expect("a response");
        assert_eq!(fetched.framing, Framing::Chunked);
        assert_eq!(fetched.body, b"hello, chunked!\n");
        assert_eq!(fetched.bytes, 16);
    });
}

#[test]
fn a_body_without_a_length_ends_when_the_server_closes() {
    on_each_flavour(|| async {
        let addr = start_tiny(b"HTTP/1.0 200 OK\r\n\r\nall of it", || async {}).await;
        let outcomes = fetch_all(vec![format!("http://{addr}/")], 1, LONG).await;
        let fetched = outcomes[0].result.as_ref().expect("a response");
        assert_eq!(fetched.framing, Framing::UntilClose);
        assert_eq!(fetched.body, b"all of it");
    });
}

#[test]
fn bad_answers_and_bad_urls_are_errors_with_reasons() {
    on_each_flavour(|| async {
        let garbage = start_tiny(b"SSH-2.0-OpenSSH\r\n\r\n", || async {}).await;
        let short = start_tiny(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            || async {},
        )
        .await;
        let bad_chunk = start_tiny(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            || async {},
        )
        .await;
        let urls = vec![
            format!("http://{garbage}/"),
            format!("http://{short}/"),
            format!("http://{bad_chunk}/"),
            "https://example.com/".to_string(),
            "ftp://example.com/".to_string(),
            "http://:80/".to_string(),
            "http://127.0.0.1:99999/".to_string(),
            "no scheme".to_string(),
        ];
        let outcomes = fetch_all(urls, 4, LONG).await;
        let messages: Vec<String> = outcomes
            .iter()
            .map(|o| o.result.as_ref().expect_err(&o.url).to_string())
            .collect();
        let expected = [
            "malformed response: not an HTTP/1.x status line",
            "malformed response: the connection closed after 3 of 10 bytes",
            "malformed response: bad chunk size \"zz\"",
            "bad URL: \"https://example.com/\": https is not supported (this client has no TLS)",
            "bad URL: \"ftp://example.com/\": only http://",
            "bad URL: \"http://:80/\": no host",
            "bad URL: \"http://127.0.0.1:99999/\": the port must be",
            "bad URL: \"no scheme\": expected http://",
        ];
        for (message, start) in messages.iter().zip(expected) {
            assert!(
                message.starts_with(start),
                "{message:?} should start with {start:?}"
            );
        }
    });
}

#[test]
fn a_body_over_the_limit_fails_its_request() {
    let root = make_root("limit");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let http = start_http(root, LONG).await;
            let chunked = start_tiny(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
                || async {},
            )
            .await;
            let until_close =
                start_tiny(b"HTTP/1.1 200 OK\r\n\r\n0123456789abcdef", || async {}).await;
            let urls = vec![
                format!("http://{http}/big.bin"),
                format!("http://{chunked}/"),
                format!("http://{until_close}/"),
                format!("http://{http}/a.txt"),
            ];
            let options = Options {
                max_body: 10,
                keep_bodies: true,
                ..Options::default()
            };
            let board = Arc::new(fetch::Board::new(&urls));
            let outcomes = fetch::fetch_all_with(urls, options, board).await;
            for outcome in &outcomes[..3] {
                let err = outcome.result.as_ref().expect_err(&outcome.url);
                assert!(matches!(err, FetchError::TooLarge { limit: 10 }), "{err}");
                assert_eq!(err.to_string(), "body too large: more than 10 bytes");
            }
            assert!(outcomes[3].succeeded(), "6 bytes are within the limit");
        }
    });
}
