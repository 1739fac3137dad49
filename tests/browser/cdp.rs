//! A headless Chromium driven through the DevTools protocol (CDP): JSON commands and
//! answers over a WebSocket, each command with an `id` its answer repeats, and events (no
//! `id`) in between. One browser, one page (a target attached in "flat" mode, so that the
//! page's commands travel on the browser's socket with a `sessionId`).
//!
//! What a full client (puppeteer, playwright, chromiumoxide) adds: typed commands, many
//! pages, waiting for selectors, network interception. The tests need six commands.

use crate::common::json::{Parser, Value};
use crate::websocket::WebSocket;
use asincrono::trace::json_string;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any one command (a page load included) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The page's size, so that screenshots are the same on every machine.
pub const VIEWPORT: (u32, u32) = (1000, 720);

/// Where Chromium is, if it is installed.
pub fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A running headless Chromium with one page open; killed when dropped.
pub struct Browser {
    child: Child,
    socket: WebSocket,
    session: String,
    next_id: u64,
    /// Messages read while waiting for something else: answers to other commands, events.
    unclaimed: Vec<Value>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts `chromium` with a fresh profile in `profile` (emptied first) and opens a page.
    pub fn launch(chromium: &Path, profile: &Path) -> Result<Browser, String> {
        let _ = std::fs::remove_dir_all(profile);
        std::fs::create_dir_all(profile).map_err(|e| format!("{}: {e}", profile.display()))?;
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
        let url = match devtools_url(&mut child) {
            Ok(url) => url,
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(why);
            }
        };
        let socket = WebSocket::connect(&url, COMMAND_TIMEOUT)
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 1,
            unclaimed: Vec::new(),
        };
        let target = browser.call("Target.createTarget", r#"{"url":"about:blank"}"#)?;
        let target = json_string(target.str("targetId"));
        let attached = browser.call(
            "Target.attachToTarget",
            &format!(r#"{{"targetId":{target},"flatten":true}}"#),
        )?;
        browser.session = attached.str("sessionId").to_owned();
        browser.call("Page.enable", "{}")?;
        let (width, height) = VIEWPORT;
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            &format!(
                r#"{{"width":{width},"height":{height},"deviceScaleFactor":1,"mobile":false}}"#
            ),
        )?;
        Ok(browser)
    }

    /// Sends a command (to the page, once there is one) without waiting; its id.
    pub fn send(&mut self, method: &str, params: &str) -> Result<u64, String> {
        let id = self.next_id;
        self.next_id += 1;
        let session = match self.session.as_str() {
            "" => String::new(),
            session => format!(r#","sessionId":{}"#, json_string(session)),
        };
        let message = format!(r#"{{"id":{id},"method":"{method}","params":{params}{session}}}"#);
        self.socket
            .send(&message)
            .map_err(|e| format!("{method}: {e}"))?;
        Ok(id)
    }

    /// Sends a command and waits for its answer's `result`.
    pub fn call(&mut self, method: &str, params: &str) -> Result<Value, String> {
        let id = self.send(method, params)?;
        self.answer(id).map_err(|e| format!("{method}: {e}"))
    }

    /// Waits for the answer to command `id`: its `result`, or its `error` as `Err`.
    pub fn answer(&mut self, id: u64) -> Result<Value, String> {
        let message =
            self.next_matching(|m| m.get("id").and_then(Value::as_num) == Some(id as f64))?;
        if let Some(error) = message.get("error") {
            return Err(format!("{error:?}"));
        }
        Ok(message.get("result").cloned().unwrap_or(Value::Null))
    }

    /// Waits for the event `method` (one that arrived earlier counts).
    pub fn event(&mut self, method: &str) -> Result<Value, String> {
        self.next_matching(|m| m.get("method").and_then(Value::as_str) == Some(method))
    }

    /// The first message, already read or still to come, that `wanted` picks.
    fn next_matching(&mut self, wanted: impl Fn(&Value) -> bool) -> Result<Value, String> {
        if let Some(at) = self.unclaimed.iter().position(&wanted) {
            return Ok(self.unclaimed.remove(at));
        }
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        while Instant::now() < deadline {
            let text = self
                .socket
                .receive()
                .map_err(|e| format!("reading from the browser: {e}"))?;
            let message =
                Parser::parse(&text).map_err(|e| format!("the browser sent bad JSON: {e}"))?;
            if wanted(&message) {
                return Ok(message);
            }
            self.unclaimed.push(message);
        }
        Err(format!("nothing came within {COMMAND_TIMEOUT:?}"))
    }

    /// Opens `url` and waits until it has loaded.
    pub fn open(&mut self, url: &str) -> Result<(), String> {
        self.unclaimed.clear(); // a load event of an earlier page must not count
        self.call(
            "Page.navigate",
            &format!(r#"{{"url":{}}}"#, json_string(url)),
        )?;
        self.event("Page.loadEventFired").map(drop)
    }

    /// Starts evaluating `expression` in the page, awaiting it if it is a promise; the id
    /// to pass to [`Browser::value`].
    pub fn start_eval(&mut self, expression: &str) -> Result<u64, String> {
        let params = format!(
            r#"{{"expression":{},"awaitPromise":true,"returnByValue":true}}"#,
            json_string(expression)
        );
        self.send("Runtime.evaluate", &params)
    }

    /// The value of the evaluation `id` started (an exception in the page is an `Err`).
    pub fn value(&mut self, id: u64) -> Result<Value, String> {
        let result = self.answer(id)?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(format!("the page threw: {exception:?}"));
        }
        let value = result.get("result").and_then(|r| r.get("value"));
        Ok(value.cloned().unwrap_or(Value::Null))
    }

    /// Evaluates `expression` in the page and returns its value.
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let id = self.start_eval(expression)?;
        self.value(id)
    }

    /// A mouse event of `kind` (`mouseMoved`, `mousePressed`, `mouseReleased`, `mouseWheel`)
    /// at (x, y) in the page's CSS pixels; `extra` is more of its fields, each with a
    /// leading comma.
    pub fn mouse(&mut self, kind: &str, (x, y): (f64, f64), extra: &str) -> Result<(), String> {
        let params = format!(r#"{{"type":"{kind}","x":{x},"y":{y}{extra}}}"#);
        self.call("Input.dispatchMouseEvent", &params).map(drop)
    }

    /// A left click at (x, y).
    pub fn click(&mut self, at: (f64, f64)) -> Result<(), String> {
        let button = r#","button":"left","clickCount":1"#;
        self.mouse("mousePressed", at, button)?;
        self.mouse("mouseReleased", at, button)
    }

    /// Presses and releases the key that types `key` (a letter or digit).
    pub fn key(&mut self, key: char) -> Result<(), String> {
        for kind in ["keyDown", "keyUp"] {
            let params = format!(r#"{{"type":"{kind}","key":"{key}","text":"{key}"}}"#);
            self.call("Input.dispatchKeyEvent", &params)?;
        }
        Ok(())
    }

    /// Saves what the page shows as a PNG, cut at the bottom of its content.
    pub fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        let (width, height) = VIEWPORT;
        let content = self.eval("Math.ceil(document.body.getBoundingClientRect().bottom) + 16")?;
        let height = content
            .as_num()
            .map_or(height as f64, |h| h.min(height as f64));
        let params = format!(
            r#"{{"format":"png","clip":{{"x":0,"y":0,"width":{width},"height":{height},"scale":1}}}}"#
        );
        let shot = self.call("Page.captureScreenshot", &params)?;
        let png = base64_decode(shot.str("data"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Reads Chromium's stderr until it says where its DevTools endpoint listens (it picked a
/// free port, as asked with `--remote-debugging-port=0`), then keeps draining it so the
/// browser never blocks on a full pipe.
fn devtools_url(child: &mut Child) -> Result<String, String> {
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (found, url) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("ws://") {
                let _ = found.send(Ok(line[at..].trim().to_owned()));
            } else if seen.len() < 20 {
                seen.push(line);
            }
        }
        let _ = found.send(Err(seen.join("\n")));
    });
    match url.recv_timeout(COMMAND_TIMEOUT) {
        Ok(Ok(url)) => Ok(url),
        Ok(Err(said)) => Err(format!(
            "chromium exited without a DevTools endpoint:\n{said}"
        )),
        Err(_) => Err(format!(
            "chromium gave no DevTools endpoint within {COMMAND_TIMEOUT:?}"
        )),
    }
}

/// Standard base64 (with `=` padding), as CDP sends screenshots.
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| match c {
        b'A'..=b'Z' => Ok(c - b'A'),
        b'a'..=b'z' => Ok(c - b'a' + 26),
        b'0'..=b'9' => Ok(c - b'0' + 52),
        b'+' => Ok(62),
        b'/' => Ok(63),
        _ => Err(format!("not base64: {:?}", c as char)),
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut held) = (0u32, 0);
    for &c in text.as_bytes().iter().filter(|&&c| c != b'=') {
        bits = (bits << 6) | digit(c)? as u32;
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
        }
    }
    Ok(out)
}
