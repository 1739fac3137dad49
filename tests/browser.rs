//! The two pages, in a real browser: a headless Chromium, driven through its DevTools
//! protocol (`browser/cdp.rs`, over the small WebSocket client in `browser/websocket.rs`).
//!
//! * The AJAX page (`examples/ajax_page.rs`), served by its own `serve` on a loopback
//!   listener, on each scheduler flavour: fired all at once, the five requests are all back
//!   in about the slowest one's time while the page's animation and click counter keep
//!   going; one after another, they take about the sum.
//! * The trace page the tour writes (`cargo run --example tour -- --trace` →
//!   `target/tour-trace.html`): it draws one track per thread and exactly the polls and
//!   wakes the JSON beside it holds, hover shows a poll's task id, zooming draws fewer, and
//!   `0` puts them all back.
//! * Without a browser: the AJAX endpoints answer bad input (a bad `ms`, an unknown route,
//!   a `POST`, an oversized or malformed head) with a status and a JSON error.
//!
//! Screenshots go to `target/browser/*.png`, the AJAX timings to
//! `target/browser/ajax-timings.txt`. Without Chromium the browser tests say so on stderr
//! and pass, except under `CI=true`, where that is a failure (see `common::skip`).

mod common;

// `main` and the command line belong to the example, not to these tests.
#[allow(dead_code)]
#[path = "../examples/ajax_page.rs"]
mod ajax_page;
#[path = "browser/cdp.rs"]
mod cdp;
#[path = "browser/websocket.rs"]
mod websocket;

use asincrono::net::TcpListener;
use asincrono::sync::oneshot;
use cdp::Browser;
use common::json::{Parser, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, mpsc};
use std::time::Duration;

/// The page's three slow requests ask for these delays (`ajax_page.html`).
const DELAYS_MS: [f64; 3] = [300.0, 600.0, 1200.0];

/// Slack on the timings, for a loaded machine: generous, since the point is the shape
/// (slowest versus sum, 1.2 s versus 2.1 s), not the speed.
const SLACK_MS: f64 = 600.0;

/// The two tests take turns: the tour's busy tasks would otherwise share two cores with
/// the AJAX page's timings.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser")
}

/// A headless Chromium with a fresh profile under `target/browser/`, or `None` (a loud
/// skip, a failure under `CI=true`) if it is not installed.
fn browser(name: &str) -> Option<Browser> {
    let Some(chromium) = cdp::find_chromium() else {
        return common::skip(
            "chromium is not installed (apt-get install chromium): no browser tests",
        );
    };
    let profile = out_dir().join(format!("profile-{name}"));
    Some(Browser::launch(&chromium, &profile).unwrap_or_else(|why| panic!("{why}")))
}

#[test]
fn the_ajax_page_asks_all_at_once_in_the_slowest_ones_time() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    let Some(mut browser) = browser("ajax") else {
        return;
    };
    let report = common::within(Duration::from_secs(180), "ajax", move || {
        common::FLAVOURS.map(|flavour| check_ajax_page(&mut browser, flavour))
    });
    let report = report.join("\n");
    eprintln!("{report}");
    std::fs::write(out_dir().join("ajax-timings.txt"), report + "\n").expect("write timings");
}

/// Loads the page from a server on `flavour`, runs it both ways, checks the timings and
/// keeps a screenshot; returns a line with the figures.
fn check_ajax_page(browser: &mut Browser, flavour: &'static str) -> String {
    let server = Server::start(flavour);
    browser
        .open(&format!("http://{}/", server.addr))
        .unwrap_or_else(|why| panic!("[{flavour}] {why}"));
    let clicker = centre_of(browser, "clicker");
    let concurrent = run(browser, "concurrent", clicker, 3);
    let sequential = run(browser, "sequential", clicker, 0);
    let (slowest, sum) = (DELAYS_MS[2], DELAYS_MS.iter().sum::<f64>());
    let figure = |run: &Value, name: &str| run.num(name);
    let (at_once, in_turn) = (figure(&concurrent, "total"), figure(&sequential, "total"));

    for run in [&concurrent, &sequential] {
        let answers = run
            .get("answers")
            .and_then(Value::as_array)
            .expect("answers");
        assert_eq!(answers.len(), 5, "[{flavour}] five answers");
        for answer in answers {
            assert_eq!(answer.num("status"), 200.0, "[{flavour}] {answer:?}");
        }
    }
    assert!(
        at_once >= slowest && at_once < slowest + SLACK_MS,
        "[{flavour}] all at once took {at_once:.0} ms; the slowest asks for {slowest} ms"
    );
    assert!(
        in_turn >= sum && in_turn < sum + 2.0 * SLACK_MS,
        "[{flavour}] one after another took {in_turn:.0} ms; the delays add up to {sum} ms"
    );
    // The page kept living while it waited: frames drawn.
    assert!(
        figure(&concurrent, "frames") >= 10.0,
        "[{flavour}] the animation stalled: {concurrent:?}"
    );
    // (`run` has checked that each click sent while the run waited was counted.)
    let arrived = browser
        .eval("document.querySelectorAll('td.arrived').length")
        .expect("count the cells");
    assert_eq!(arrived, Value::Num(10.0), "[{flavour}] every answer shown");
    browser
        .screenshot(&out_dir().join(format!("ajax-{flavour}.png")))
        .expect("screenshot");
    format!(
        "[{flavour}] all at once {at_once:.0} ms (slowest asked {slowest} ms, slowest measured {:.0} ms), \
         one after another {in_turn:.0} ms (sum asked {sum} ms, sum measured {:.0} ms); \
         {} frames drawn and {} clicks counted while waiting",
        figure(&concurrent, "slowest"),
        figure(&sequential, "sum"),
        figure(&concurrent, "frames"),
        figure(&concurrent, "clicks"),
    )
}

/// Runs the page's `run(mode)` (what its buttons do), clicking the counter `clicks` times
/// while it is in flight; the figures the page kept.
fn run(browser: &mut Browser, mode: &str, clicker: (f64, f64), clicks: usize) -> Value {
    let pending = browser
        .start_eval(&format!("run('{mode}')"))
        .expect("start the run");
    // The clicks must not overtake the start of the run. Input events reach the page by
    // another path than evaluations, so a click sent now may be handled before `run` has
    // set `running` (the flake hunt saw one click of three counted). Evaluations run in
    // the order they were sent, and `run` sets `running` before its first `await`, so once
    // this one answers, the run has begun.
    let begun = browser.eval("running !== null").expect("look at the run");
    assert_eq!(begun, Value::Bool(true), "{mode}: the run has begun");
    for _ in 0..clicks {
        browser.click(clicker).expect("click");
    }
    // Each click above returned once the page had handled it. If the run is still waiting
    // now, every one of them landed while it waited and must have been counted. (On a
    // machine so loaded that three clicks take longer than the run, they need not have.)
    let still_waiting = browser
        .eval("running === null ? -1 : running.clicks")
        .expect("look at the run");
    if clicks > 0 {
        match still_waiting {
            Value::Num(counted) if counted >= 0.0 => {
                assert_eq!(
                    counted, clicks as f64,
                    "{mode}: clicks handled while waiting"
                )
            }
            _ => eprintln!(
                "note: {mode}: the run ended before {clicks} clicks could be sent;                  the clicks counted while waiting are not checked this time"
            ),
        }
    }
    let result = browser.value(pending).expect("the run finishes");
    assert!(
        result.get("total").is_some(),
        "{mode}: no result: {result:?}"
    );
    result
}

/// The middle of the element with id `id`, in page coordinates.
fn centre_of(browser: &mut Browser, id: &str) -> (f64, f64) {
    let expression = format!(
        "(() => {{ const r = document.getElementById('{id}').getBoundingClientRect(); \
         return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
    );
    point(&browser.eval(&expression).expect("find the element"))
}

fn point(value: &Value) -> (f64, f64) {
    match value.as_array().map(Vec::as_slice) {
        Some([Value::Num(x), Value::Num(y)]) => (*x, *y),
        _ => panic!("not a point: {value:?}"),
    }
}

#[test]
fn the_ajax_endpoints_answer_bad_input_with_a_clear_error() {
    // No browser needed: a plain client with hand-written requests.
    for flavour in common::FLAVOURS {
        let server = Server::start(flavour);
        let ask = |request: &str| exchange(server.addr, request);
        let get = |target: &str| {
            ask(&format!(
                "GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            ))
        };
        for (target, status, says) in [
            ("/api/slow?ms=abc", "400", "whole number"),
            ("/api/slow?ms=20000", "400", "at most"),
            ("/api/slow", "400", "missing"),
            ("/nowhere", "404", "no such route"),
            ("/api/slow?ms=5", "200", "\"slept_ms\":"),
            ("/api/stats", "200", "\"requests\":"),
            ("/api/file", "200", "\"bytes\":"),
        ] {
            let answer = get(target);
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {status} ")) && answer.contains(says),
                "[{flavour}] GET {target}: {answer}"
            );
        }
        let post = ask("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        assert!(
            post.starts_with("HTTP/1.1 405 "),
            "[{flavour}] POST: {post}"
        );
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "x".repeat(10_000));
        assert!(
            ask(&huge).starts_with("HTTP/1.1 431 "),
            "[{flavour}] a huge head"
        );
        assert!(
            ask("NONSENSE\r\n\r\n").starts_with("HTTP/1.1 400 "),
            "[{flavour}] garbage"
        );
    }
}

/// Sends `request` to `addr` and reads until the server closes (or a POST's answer is in:
/// the server keeps that connection open, so read what one answer holds).
fn exchange(addr: SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(common::TEST_DEADLINE))
        .unwrap();
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !complete(&answer) {
        match stream.read(&mut chunk).expect("read within the deadline") {
            0 => break,
            n => answer.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Whether `answer` holds a whole response: a head and as many bytes as it announces.
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|n| n.parse::<usize>().ok());
    length.is_some_and(|length| body.len() >= length)
}

/// `ajax_page::serve` on a runtime of its own thread, until dropped.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    stopped: mpsc::Receiver<()>,
}

impl Server {
    fn start(flavour: &'static str) -> Server {
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let (stopped_tx, stopped) = mpsc::channel();
        std::thread::spawn(move || {
            common::runtime(flavour).block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                addr_tx.send(listener.local_addr().expect("addr")).unwrap();
                asincrono::select! {
                    () = ajax_page::serve(listener) => {}
                    _ = stop_rx => {}
                }
            });
            let _ = stopped_tx.send(());
        });
        let addr = addr_rx
            .recv_timeout(common::TEST_DEADLINE)
            .expect("the server starts");
        Server {
            addr,
            stop: Some(stop),
            stopped,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let stopped = self.stopped.recv_timeout(common::TEST_DEADLINE);
        if stopped.is_err() && !std::thread::panicking() {
            panic!("the AJAX server did not stop");
        }
    }
}

#[test]
fn the_tour_trace_page_draws_every_thread_and_poll() {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    let Some(mut browser) = browser("trace") else {
        return;
    };
    common::within(Duration::from_secs(300), "trace", move || {
        let json = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tour-trace.json");
        run_the_tour_traced();
        let text = std::fs::read_to_string(&json).expect("the tour wrote its trace");
        let expected = counts(&Parser::parse(&text).expect("the trace is JSON"));
        let page = json.with_extension("html");
        browser
            .open(&format!("file://{}", page.display()))
            .expect("the trace page loads");
        let drawn = drawn(&mut browser);
        assert_eq!(
            drawn, expected,
            "drawn (tracks, polls, wakes) versus the JSON"
        );
        browser
            .screenshot(&out_dir().join("trace.png"))
            .expect("screenshot");
        zoom_hover_and_reset(&mut browser, expected);
        eprintln!(
            "trace page: {} tracks, {} polls, {} wakes, as in the JSON",
            expected.0, expected.1, expected.2
        );
    });
}

/// `cargo run --example tour -- --trace`, which writes `target/tour-trace.{json,html}`.
fn run_the_tour_traced() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["run", "--quiet", "--example", "tour", "--", "--trace"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // A plain build, whatever flags built this test (see tests/stages.rs).
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTDOCFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the tour failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// (threads, polls, wakes) in a Chrome trace: `thread_name` metadata, poll begins, wakes.
fn counts(trace: &Value) -> (usize, usize, usize) {
    let events = trace
        .get("traceEvents")
        .and_then(Value::as_array)
        .expect("events");
    let count = |ph: &str, cat: &str, name: Option<&str>| {
        events
            .iter()
            .filter(|e| e.str("ph") == ph && name.is_none_or(|n| e.str("name") == n))
            .filter(|e| cat.is_empty() || e.get("cat").and_then(Value::as_str) == Some(cat))
            .count()
    };
    (
        count("M", "", Some("thread_name")),
        count("B", "task", None),
        count("i", "", Some("wake")),
    )
}

/// What the viewer says its last draw put on the canvas: (tracks, polls, wakes).
fn drawn(browser: &mut Browser) -> (usize, usize, usize) {
    let drawn = browser.eval("window.traceViewer").expect("the viewer ran");
    let n = |key: &str| drawn.num(key) as usize;
    (n("tracks"), n("polls"), n("wakes"))
}

/// Zooms in with the wheel around the first blocking job (fewer polls drawn), pans with `D`,
/// hovers over a poll in view (its task id shows), then presses `0` (all drawn again).
fn zoom_hover_and_reset(browser: &mut Browser, all: (usize, usize, usize)) {
    let around = point(
        &browser
            .eval(
                "(() => { const jobs = tracks.flatMap((t) => t.others.filter((s) => s.cat === 'blocking')); \
                 const at = jobs.length ? Math.min(...jobs.map((s) => s.start)) : tracks[0].polls[0].start; \
                 return [xOf(at), canvas.getBoundingClientRect().top + AXIS_HEIGHT]; })()",
            )
            .expect("find a wake"),
    );
    for _ in 0..18 {
        browser
            .mouse("mouseWheel", around, r#","deltaX":0,"deltaY":-120"#)
            .expect("wheel");
    }
    let zoomed = drawn(browser);
    assert!(
        zoomed.1 < all.1,
        "zooming in draws fewer polls: {zoomed:?} of {all:?}"
    );
    // Pan right by four tenths of the view, bringing the job towards the middle.
    let from = |browser: &mut Browser| browser.eval("view.from").expect("view").as_num();
    let before = from(browser);
    for _ in 0..4 {
        browser.key('d').expect("press d");
    }
    let after = from(browser);
    assert!(after > before, "D pans right: {before:?} → {after:?}");
    let poll = point(
        &browser
            .eval(
                "(() => { for (const [i, t] of tracks.entries()) { \
                   const s = t.polls.find((s) => s.start >= view.from && s.end <= view.to); \
                   if (s) return [(xOf(s.start) + xOf(s.end)) / 2, canvas.getBoundingClientRect().top \
                     + AXIS_HEIGHT + i * TRACK_HEIGHT + ROW.poll[0] + ROW.poll[1] / 2]; } })()",
            )
            .expect("find a poll in view"),
    );
    browser.mouse("mouseMoved", poll, "").expect("hover");
    let tooltip = browser
        .eval("document.getElementById('tooltip').textContent")
        .expect("tooltip");
    assert!(
        tooltip.as_str().is_some_and(|t| t.contains("task id:")),
        "hovering a poll shows its task: {tooltip:?}"
    );
    browser
        .screenshot(&out_dir().join("trace-zoomed.png"))
        .expect("screenshot");
    browser.key('0').expect("press 0");
    assert_eq!(drawn(browser), all, "0 resets the view");
}
