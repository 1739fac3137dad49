//! The HTTP example (`examples/http_server.rs`), run for real: its `serve_with` on a
//! loopback listener over a temporary folder, driven by asincrono's own `TcpStream` with
//! hand-written requests (good and bad), and by `curl` when it is installed.
//!
//! No test sleeps to let the server catch up: each reads until the server closes the
//! connection, or for the bytes it expects. The slow-loris client does sleep between its
//! bytes: being slow is its whole point.

mod common;

// `main` and its argument parsing belong to the example, not to these tests.
#[allow(dead_code)]
#[path = "../examples/http_server.rs"]
mod http_server;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::time;
use common::{TEST_DEADLINE, on_each_flavour, within};
use http_server::Limits;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// A fresh folder with `a.txt`, `sub/index.html`, and a symbolic link to a file outside.
fn make_root(name: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!("asincrono-http-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("root");
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("a.txt"), "hello\n").expect("write");
    std::fs::write(root.join("sub/index.html"), "<p>index</p>\n").expect("write");
    std::fs::write(base.join("secret.txt"), "SECRET\n").expect("write");
    std::os::unix::fs::symlink(base.join("secret.txt"), root.join("leak")).expect("symlink");
    root
}

async fn start_http(root: PathBuf, limits: Limits) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    asincrono::spawn(async move {
        http_server::serve_with(listener, root, limits).await;
    });
    addr
}

/// Sends `request` (all of it, then shuts down the sending side) and returns everything
/// the server sends until it closes.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    stream.shutdown().await.expect("shutdown");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").into_bytes()
}

/// The status codes of every response in `answers`, in order.
fn statuses(answers: &str) -> Vec<u16> {
    answers
        .split("HTTP/1.1 ")
        .skip(1)
        .map(|rest| rest[..3].parse().expect("a status code"))
        .collect()
}

#[test]
fn files_are_served_over_one_kept_alive_connection() {
    let root = make_root("files");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root, Limits::default()).await;
            let mut c = TcpStream::connect(addr).await.expect("connect");
            c.write_all(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
                .await
                .expect("send");
            let expected = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\
                            Content-Length: 6\r\nConnection: keep-alive\r\n\r\nhello\n";
            let mut got = vec![0u8; expected.len()];
            c.read_exact(&mut got).await.expect("read");
            assert_eq!(String::from_utf8_lossy(&got), expected);
            // The same connection serves the next one; this one asks to close.
            c.write_all(&get("/sub/")).await.expect("send");
            let mut rest = Vec::new();
            c.read_to_end(&mut rest).await.expect("read");
            let rest = String::from_utf8_lossy(&rest);
            assert!(rest.starts_with("HTTP/1.1 200 OK\r\n"), "{rest}");
            assert!(rest.contains("Connection: close\r\n"), "{rest}");
            assert!(rest.ends_with("<p>index</p>\n"), "{rest}");
            // HEAD: the headers, with the length, and no body.
            let head = exchange(addr, b"HEAD /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n").await;
            assert!(
                head.ends_with("Content-Length: 6\r\nConnection: close\r\n\r\n"),
                "{head}"
            );
        }
    });
}

#[test]
fn a_file_changed_or_removed_after_it_was_served_is_looked_up_again() {
    // The server keeps a small file it has read for a second (`StaticFiles::read`); a file
    // rewritten, replaced or removed meanwhile must still be answered as it is now.
    let root = make_root("remembered");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root.clone(), Limits::default()).await;
            let first = exchange(addr, &get("/a.txt")).await;
            assert!(first.ends_with("\r\n\r\nhello\n"), "{first}");
            std::fs::write(root.join("a.txt"), "changed\n").expect("rewrite");
            let second = exchange(addr, &get("/a.txt")).await;
            assert!(second.ends_with("\r\n\r\nchanged\n"), "{second}");
            // Saved as editors save: a new file renamed over the old one, of the same size.
            std::fs::write(root.join("a.tmp"), "renamed\n").expect("write the new file");
            std::fs::rename(root.join("a.tmp"), root.join("a.txt")).expect("rename over");
            let third = exchange(addr, &get("/a.txt")).await;
            assert!(third.ends_with("\r\n\r\nrenamed\n"), "{third}");
            std::fs::remove_file(root.join("a.txt")).expect("remove");
            assert_eq!(statuses(&exchange(addr, &get("/a.txt")).await), [404]);
            std::fs::write(root.join("a.txt"), "hello\n").expect("put back");
        }
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let root = make_root("pipelined");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root, Limits::default()).await;
            let mut batch = Vec::new();
            for path in ["/a.txt", "/nope", "/stats", "/sub/index.html"] {
                batch.extend(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
            }
            batch.extend(get("/a.txt"));
            let answers = exchange(addr, &batch).await;
            assert_eq!(statuses(&answers), [200, 404, 200, 200, 200], "{answers}");
            let order = [
                "hello\n",
                "404 Not Found",
                "requests: ",
                "<p>index</p>",
                "hello\n",
            ];
            let mut from = 0;
            for piece in order {
                let at = answers[from..].find(piece).expect(piece);
                from += at + piece.len();
            }
        }
    });
}

#[test]
fn malformed_requests_get_400_and_the_connection_closes() {
    let root = make_root("malformed");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root, Limits::default()).await;
            let bad: [&[u8]; 6] = [
                b"GARBAGE\r\n\r\n",
                b"GET /a.txt\r\n\r\n",
                b"GET  /a.txt HTTP/1.1\r\n\r\n",
                b"GET /a.txt HTTP/1.1 extra\r\n\r\n",
                b"GET /a.txt HTTP/1.1\r\nNo colon here\r\n\r\n",
                b"G\xffT /a.txt HTTP/1.1\r\n\r\n",
            ];
            for request in bad {
                let answer = exchange(addr, request).await;
                assert!(
                    answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
                    "{answer}"
                );
                assert!(answer.contains("Connection: close\r\n"), "{answer}");
            }
            let answer = exchange(addr, b"GET /a.txt HTTP/2.0\r\n\r\n").await;
            assert!(answer.starts_with("HTTP/1.1 505 "), "{answer}");
            let answer = exchange(addr, b"BREW /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n").await;
            assert!(answer.starts_with("HTTP/1.1 501 "), "{answer}");
            let answer = exchange(addr, b"POST /a.txt HTTP/1.1\r\nConnection: close\r\n\r\n").await;
            assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
            assert!(answer.contains("Allow: GET, HEAD\r\n"), "{answer}");
        }
    });
}

#[test]
fn a_one_mib_header_gets_431() {
    let root = make_root("huge");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root, Limits::default()).await;
            let mut request = b"GET /a.txt HTTP/1.1\r\nX-Big: ".to_vec();
            request.resize(request.len() + 1024 * 1024, b'x');
            request.extend_from_slice(b"\r\n\r\n");
            let answer = exchange(addr, &request).await;
            assert!(
                answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
                "{answer}"
            );
        }
    });
}

#[test]
fn a_client_too_slow_to_send_its_head_gets_408() {
    let root = make_root("slowloris");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let limits = Limits {
                header_timeout: Duration::from_millis(300),
                ..Limits::default()
            };
            let addr = start_http(root, limits).await;
            let stream = TcpStream::connect(addr).await.expect("connect");
            let (mut reader, mut writer) = stream.into_split();
            // One byte every 50 ms: the head would take over a second.
            let trickle = asincrono::spawn(async move {
                for &byte in get("/a.txt").iter() {
                    if writer.write_all(&[byte]).await.is_err() {
                        return; // the server has closed: that is the point
                    }
                    time::sleep(Duration::from_millis(50)).await;
                }
            });
            let mut answer = Vec::new();
            reader.read_to_end(&mut answer).await.expect("read");
            let answer = String::from_utf8_lossy(&answer);
            assert!(
                answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
                "{answer}"
            );
            trickle.abort();
            // An idle keep-alive connection is closed without a word.
            let mut idle = TcpStream::connect(addr).await.expect("connect");
            let mut nothing = Vec::new();
            idle.read_to_end(&mut nothing).await.expect("read");
            assert!(nothing.is_empty());
        }
    });
}

#[test]
fn paths_that_climb_out_of_the_root_get_403_or_404() {
    let root = make_root("climb");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root, Limits::default()).await;
            let attempts = [
                "/../../etc/passwd",
                "/../secret.txt",
                "/sub/../../secret.txt",
                "/%2e%2e/%2e%2e/etc/passwd",
                "/%2E%2E/secret.txt",
                "/..%2fsecret.txt",
                "/sub%2f..%2f..%2fsecret.txt",
                "/..%5csecret.txt",
                "/a.txt%00.html",
                "/etc/passwd",
                "/leak",
                "//etc/passwd",
                "http://evil/etc/passwd",
            ];
            for path in attempts {
                let answer = exchange(addr, &get(path)).await;
                let status = statuses(&answer);
                assert!(
                    status == [403] || status == [404] || status == [400],
                    "{path}: {answer}"
                );
                assert!(
                    !answer.contains("SECRET") && !answer.contains("root:"),
                    "{path}"
                );
            }
            assert_eq!(statuses(&exchange(addr, &get("/leak")).await), [403]);
            assert_eq!(
                statuses(&exchange(addr, &get("/./sub/../a.txt")).await),
                [403]
            );
            assert_eq!(statuses(&exchange(addr, &get("/./a.txt")).await), [200]);
        }
    });
}

#[test]
fn a_slow_request_does_not_hold_up_the_others() {
    let root = make_root("slow");
    on_each_flavour(move || {
        let root = root.clone();
        async move {
            let addr = start_http(root, Limits::default()).await;
            let slow = asincrono::spawn(async move { exchange(addr, &get("/slow")).await });
            // Served while /slow waits for its timer (a whole second).
            let started = std::time::Instant::now();
            let stats = exchange(addr, &get("/stats")).await;
            assert_eq!(statuses(&stats), [200]);
            assert!(stats.contains("connections_open: "), "{stats}");
            assert!(started.elapsed() < Duration::from_millis(900));
            let slow = slow.await.expect("the slow request");
            assert!(slow.ends_with("slow, but here\n"), "{slow}");
        }
    });
}

// ---------------------------------------------------------------------------------------
// The real tool
// ---------------------------------------------------------------------------------------

#[test]
fn curl_talks_to_it() {
    let Some(()) = common::require_tool("curl", "curl") else {
        return;
    };
    with_server_for_a_tool("curl", |addr| {
        let curl = |args: &[&str]| {
            let out = Command::new("curl")
                .args(["-s", "--max-time", "10"])
                .args(args)
                .output()
                .expect("run curl");
            assert!(out.status.success(), "curl {args:?}: {out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let base = format!("http://{addr}");
        // Two URLs in one curl: it reuses the connection (keep-alive).
        let both = curl(&[&format!("{base}/a.txt"), &format!("{base}/sub/")]);
        assert_eq!(both, "hello\n<p>index</p>\n");
        let code = |path: &str| {
            curl(&[
                "--path-as-is",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &format!("{base}{path}"),
            ])
        };
        assert_eq!(code("/../../etc/passwd"), "403");
        assert_eq!(code("/%2e%2e/%2e%2e/etc/passwd"), "403");
        assert_eq!(code("/nope"), "404");
        let stats = curl(&[&format!("{base}/stats")]);
        assert!(stats.contains("requests: "), "{stats}");
    });
}

#[test]
fn wrk_loads_it_without_errors() {
    let Some(()) = common::require_tool("wrk", "wrk") else {
        return;
    };
    with_server_for_a_tool("wrk", |addr| {
        // One second, a few kept-alive connections: enough to prove many requests are
        // served over each connection and none fails.
        let out = Command::new("wrk")
            .args(["-t1", "-c4", "-d1s", &format!("http://{addr}/a.txt")])
            .output()
            .expect("run wrk");
        let report = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "wrk failed: {out:?}");
        let served: u64 = report
            .lines()
            .find_map(|line| line.trim().split_once(" requests in "))
            .and_then(|(count, _)| count.trim().parse().ok())
            .unwrap_or_else(|| panic!("no request count in wrk's report:\n{report}"));
        assert!(
            served > 100,
            "only {served} requests in a second:\n{report}"
        );
        assert!(
            !report.contains("Non-2xx") && !report.contains("Socket errors"),
            "wrk saw errors:\n{report}"
        );
    });
}

/// Serves a fresh root on a multi-thread runtime (its workers serve while this thread runs
/// the tool as a child process) and calls `client` with the address, under the watchdog.
fn with_server_for_a_tool(tool: &str, client: impl FnOnce(SocketAddr) + Send + 'static) {
    let root = make_root(tool);
    within(TEST_DEADLINE, tool, move || {
        let runtime = common::runtime("multi_thread");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        runtime.spawn(http_server::serve(listener, root));
        client(addr);
    });
}
