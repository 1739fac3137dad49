//! hyper on asincrono, run for real: the example server (`examples/hyper_server.rs`) on a
//! loopback listener, driven by `curl` (keep-alive, the routes), by hand-written bytes (a
//! malformed request, an oversized head, a client that stops half-way), and by the example
//! client (`examples/hyper_client.rs`), on both scheduler flavours.
//!
//! Without curl the curl tests say so on stderr and pass, except under `CI=true`, where a
//! skip is a failure (`common::skip`). No test sleeps to let the server catch up: each reads
//! until the server answers or closes, every wait has a time limit, and the whole of each
//! test runs under `common::within`.

mod common;

#[allow(dead_code)] // `main` and its argument parsing belong to the example
#[path = "../examples/hyper_client.rs"]
mod hyper_client;
#[allow(dead_code)]
#[path = "../examples/hyper_server.rs"]
mod hyper_server;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::time;
use common::{FLAVOURS, TEST_DEADLINE, runtime, within};
use hyper_server::{Settings, Shutdown, Stats};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A generous bound on any one wait on the server (a read, a whole curl run).
const WAIT: Duration = Duration::from_secs(10);

/// Settings for the tests: a short header timeout, so that the slow-client test is quick.
fn quick_settings() -> Settings {
    Settings {
        header_timeout: Duration::from_millis(300),
        slow_delay: Duration::from_millis(150),
    }
}

/// A server started on the current runtime: its address, its counters, and the handle that
/// stops it.
struct Running {
    addr: SocketAddr,
    stats: Arc<Stats>,
    shutdown: Shutdown,
    accepting: asincrono::task::JoinHandle<()>,
}

async fn start(settings: Settings) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (stats, shutdown) = (Arc::new(Stats::default()), Shutdown::default());
    let accepting = asincrono::spawn(hyper_server::serve_until(
        listener,
        settings,
        stats.clone(),
        shutdown.clone(),
    ));
    Running {
        addr,
        stats,
        shutdown,
        accepting,
    }
}

/// Runs `body` against a fresh server on a runtime of each flavour, under the watchdog.
fn on_each_flavour_with_server<F, Fut>(settings: Settings, body: F)
where
    F: Fn(Running) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = ()>,
{
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            runtime(flavour).block_on(async move { body(start(settings).await).await })
        });
    }
}

/// Sends `request`, shuts down the sending side, and returns everything the server sends
/// until it closes (within `WAIT`).
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    stream.shutdown().await.expect("shutdown");
    read_until_closed(&mut stream).await
}

async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let outcome = time::timeout(WAIT, stream.read_to_end(&mut answer)).await;
    // A reset after the answer also ends it; only running out of time is a failure.
    assert!(
        outcome.is_ok(),
        "the server neither answered nor closed within {WAIT:?}"
    );
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
}

// ---- curl -------------------------------------------------------------------------------

/// `curl` with `args`, run on the blocking pool (so that a current-thread runtime keeps
/// serving meanwhile), bounded by `--max-time`; its stdout. `None` if curl is missing.
async fn curl(args: &[&str]) -> Option<String> {
    common::require_tool("curl", "curl")?;
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    let out = asincrono::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "10"])
            .args(&args)
            .output()
            .expect("run curl")
    })
    .await
    .expect("the curl job");
    assert!(out.status.success(), "curl failed: {out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn curl_sends_two_requests_over_one_kept_alive_connection() {
    on_each_flavour_with_server(Settings::default(), |server| async move {
        let base = format!("http://{}", server.addr);
        // Two URLs in one curl run: curl re-uses the connection, and `/stats`, answered
        // second, counts the connections the server accepted: one.
        let Some(both) = curl(&[&format!("{base}/"), &format!("{base}/stats")]).await else {
            return;
        };
        assert_eq!(
            both,
            "hello from hyper on asincrono\nconnections: 1\nrequests: 2\npeak_in_flight: 1\n"
        );
        assert_eq!(server.stats.connections.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn curl_sees_each_route_answer_with_its_status() {
    on_each_flavour_with_server(quick_settings(), |server| async move {
        let base = format!("http://{}", server.addr);
        let status = ["--output", "/dev/null", "--write-out", "%{http_code}"];
        let Some(echoed) = curl(&["--data-binary", "some text", &format!("{base}/echo")]).await
        else {
            return;
        };
        assert_eq!(echoed, "some text");
        let cases = [
            (vec![format!("{base}/slow")], "200"),
            (vec![format!("{base}/nope")], "404"),
            (
                vec!["-X".into(), "DELETE".into(), format!("{base}/")],
                "405",
            ),
            // One byte over the limit: refused with 413, not read whole.
            (
                vec![
                    "--data-binary".into(),
                    "x".repeat(hyper_server::MAX_BODY + 1),
                    format!("{base}/echo"),
                ],
                "413",
            ),
        ];
        for (args, expected) in cases {
            let mut all: Vec<&str> = status.to_vec();
            all.extend(args.iter().map(String::as_str));
            let got = curl(&all).await.expect("curl is installed");
            assert_eq!(got, expected, "curl {:?}", &args[..args.len().min(3)]);
        }
    });
}

// ---- bad input -----------------------------------------------------------------------------

#[test]
fn a_malformed_request_gets_a_400_and_the_server_keeps_serving() {
    on_each_flavour_with_server(quick_settings(), |server| async move {
        let answer = exchange(server.addr, b"THIS IS NOT HTTP\r\n\r\n").await;
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "answer: {answer:?}"
        );
        // A bare line feed in the middle of the request line is no better.
        let answer = exchange(server.addr, b"GET /\n HTTP/1.1\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 400"), "answer: {answer:?}");
        // The next client is served as if nothing had happened.
        let answer = exchange(server.addr, get("/").as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 200 OK\r\n"),
            "answer: {answer:?}"
        );
        assert!(answer.ends_with("hello from hyper on asincrono\n"));
        // Neither bad request reached the service.
        assert_eq!(server.stats.requests.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn a_head_larger_than_hypers_limit_gets_a_431() {
    on_each_flavour_with_server(quick_settings(), |server| async move {
        // hyper's read buffer stops at about 400 KiB; a head longer than that cannot fit.
        let huge = format!(
            "GET / HTTP/1.1\r\nHost: test\r\nX-Padding: {}\r\n\r\n",
            "a".repeat(1 << 20)
        );
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        // The server may stop reading (and close) before the whole head is sent.
        let _ = stream.write_all(huge.as_bytes()).await;
        let answer = read_until_closed(&mut stream).await;
        assert!(
            answer.starts_with("HTTP/1.1 431"),
            "answer: {:?}",
            &answer[..answer.len().min(80)]
        );
        let answer = exchange(server.addr, get("/").as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 200 OK\r\n"),
            "answer: {answer:?}"
        );
    });
}

#[test]
fn a_client_that_stops_half_way_through_its_head_is_cut_off_by_the_timer() {
    on_each_flavour_with_server(quick_settings(), |server| async move {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHo")
            .await
            .expect("send");
        let started = time::Instant::now();
        // The rest never comes: hyper's header-read timeout, on the AsincronoTimer, closes
        // the connection (hyper sends no 408). Bounded by WAIT, so a timer that never fires
        // fails the test instead of hanging it.
        let answer = read_until_closed(&mut stream).await;
        assert_eq!(answer, "", "closed without an answer");
        assert!(started.elapsed() >= quick_settings().header_timeout / 2);
        let answer = exchange(server.addr, get("/").as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 200 OK\r\n"),
            "answer: {answer:?}"
        );
    });
}

// ---- graceful shutdown -------------------------------------------------------------------

/// Waits (within `WAIT`) until the server is answering `count` requests.
async fn until_in_flight(stats: &Stats, count: u64) {
    let waiting = async {
        while stats.in_flight.load(Ordering::Relaxed) < count {
            time::sleep(Duration::from_millis(2)).await;
        }
    };
    time::timeout(WAIT, waiting)
        .await
        .expect("the request reached the server");
}

#[test]
fn stopping_finishes_the_request_in_flight_and_closes_idle_connections() {
    on_each_flavour_with_server(quick_settings(), |server| async move {
        // An idle kept-alive connection: one request answered, the connection left open.
        let mut idle = TcpStream::connect(server.addr).await.expect("connect");
        idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .expect("send");
        let mut first = vec![0u8; 1024];
        let n = time::timeout(WAIT, idle.read(&mut first))
            .await
            .expect("answered in time")
            .expect("read");
        assert!(first[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
        // A request in flight when shutdown begins.
        let addr = server.addr;
        let slow = asincrono::spawn(async move { exchange(addr, get("/slow").as_bytes()).await });
        until_in_flight(&server.stats, 1).await;
        server.shutdown.stop();
        let answer = slow.await.expect("the slow exchange");
        assert!(
            answer.starts_with("HTTP/1.1 200 OK\r\n"),
            "answer: {answer:?}"
        );
        assert!(answer.ends_with("slow, but here\n"));
        assert_eq!(
            read_until_closed(&mut idle).await,
            "",
            "the idle one is closed"
        );
        time::timeout(WAIT, server.accepting)
            .await
            .expect("the accept loop ends")
            .expect("without a panic");
        // No new connection is accepted: the listener is gone with the loop.
        assert!(TcpStream::connect(server.addr).await.is_err());
    });
}

// ---- the example client --------------------------------------------------------------------

#[test]
fn the_client_fetches_every_url_keeping_at_most_limit_in_flight() {
    on_each_flavour_with_server(quick_settings(), |server| async move {
        let base = format!("http://{}", server.addr);
        let mut urls: Vec<String> = (0..9).map(|_| format!("{base}/slow")).collect();
        urls.push(format!("{base}/"));
        urls.push(format!("{base}/nope"));
        let limit = 3;
        let mut seen = 0;
        let report = hyper_client::fetch_all(urls.clone(), limit, WAIT, |_, _| seen += 1).await;
        assert_eq!(seen, urls.len(), "each outcome reported as it came");
        for (url, outcome) in urls.iter().zip(&report.outcomes) {
            let fetched = outcome
                .as_ref()
                .unwrap_or_else(|err| panic!("{url}: {err}"));
            let (status, body): (u16, &[u8]) = match url.rsplit('/').next() {
                Some("slow") => (200, b"slow, but here\n"),
                Some("") => (200, b"hello from hyper on asincrono\n"),
                _ => (404, b"not found\n"),
            };
            assert_eq!(fetched.status.as_u16(), status, "{url}");
            assert_eq!(&fetched.body[..], body, "{url}");
        }
        // At most `limit` connections, each kept alive for the next URL; the server agrees.
        let accepted = server.stats.connections.load(Ordering::Relaxed) as usize;
        assert!(
            report.connections <= limit,
            "{} connections",
            report.connections
        );
        assert_eq!(accepted, report.connections);
        let reused = report
            .outcomes
            .iter()
            .filter(|outcome| outcome.as_ref().is_ok_and(|fetched| fetched.reused))
            .count();
        assert_eq!(reused, urls.len() - report.connections);
        // Never more than `limit` at once, and more than one: they did overlap.
        let peak = server.stats.peak_in_flight.load(Ordering::Relaxed) as usize;
        assert!((2..=limit).contains(&peak), "peak in flight {peak}");
    });
}

#[test]
fn the_client_reports_each_bad_url_and_carries_on() {
    let settings = Settings {
        slow_delay: Duration::from_secs(30),
        ..quick_settings()
    };
    on_each_flavour_with_server(settings, |server| async move {
        // A listener that is closed at once: its port refuses connections.
        let refused = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        let base = format!("http://{}", server.addr);
        let urls = vec![
            "https://example.com/".to_string(),
            "ftp://example.com/".to_string(),
            "http://[oops/".to_string(),
            "/only/a/path".to_string(),
            format!("http://{refused}/"),
            format!("{base}/slow"), // slower than the client's time limit
            format!("{base}/"),
        ];
        let report = hyper_client::fetch_all(urls, 2, Duration::from_millis(300), |_, _| {}).await;
        let errors: Vec<String> = report.outcomes[..6]
            .iter()
            .map(|outcome| outcome.as_ref().expect_err("a failure").clone())
            .collect();
        let expected = [
            "https is not supported",
            "unsupported scheme",
            "not a URL",
            "no scheme",
            "cannot connect",
            "no answer within 0.3 s",
        ];
        for (error, expected) in errors.iter().zip(expected) {
            assert!(
                error.contains(expected),
                "{error:?} should say {expected:?}"
            );
        }
        let last = report.outcomes[6].as_ref().expect("the good URL");
        assert_eq!(last.status.as_u16(), 200);
    });
}
