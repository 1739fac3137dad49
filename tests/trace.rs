//! The window into the runtime (`runtime/trace.rs`): a traced run of a small program writes a
//! trace file that is valid JSON in the Chrome trace-event shape, with the events a learner
//! expects to see, in an order that makes sense.
//!
//! The program: one task sleeps, one does a loopback TCP round trip, and one closure runs on
//! the blocking pool. The file is read back with a small JSON parser written below (the
//! runtime writes its JSON by hand; checking it with an independent parser, however small,
//! is the point), then checked event by event.

mod common;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::{TcpListener, TcpStream};
use asincrono::runtime::Builder;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

#[test]
fn traced_run_on_a_current_thread_runtime() {
    traced_run("current_thread");
}

#[test]
fn traced_run_on_a_multi_thread_runtime() {
    traced_run("multi_thread");
}

#[test]
fn an_untraced_runtime_writes_nothing_and_labels_are_ignored() {
    common::within(common::TEST_DEADLINE, "untraced", || {
        if std::env::var_os("ASINCRONO_TRACE").is_some() {
            return; // the whole test process is traced: nothing to check here
        }
        let runtime = Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let task = asincrono::spawn(async { 7 });
            asincrono::trace::label(task.id(), "seven");
            assert_eq!(task.await.unwrap(), 7);
        });
    });
}

/// The ids of the program's three tasks.
struct Ids {
    sleeper: u64,
    tcp: u64,
    job: u64,
}

fn traced_run(flavour: &'static str) {
    let path = std::env::temp_dir().join(format!(
        "asincrono-trace-test-{}-{flavour}.json",
        std::process::id()
    ));
    let ids = {
        let path = path.clone();
        common::within(common::TEST_DEADLINE, flavour, move || {
            run_program(flavour, path)
        })
    };
    let text = std::fs::read_to_string(&path).expect("the runtime wrote the trace file");
    let _ = std::fs::remove_file(&path);
    let trace = Parser::parse(&text).unwrap_or_else(|err| panic!("[{flavour}] not JSON: {err}"));
    check(flavour, &trace, &ids);
}

/// Runs the small program on a traced runtime, drops the runtime (which writes the file),
/// and returns the tasks' ids.
fn run_program(flavour: &str, path: PathBuf) -> Ids {
    let mut builder = match flavour {
        "current_thread" => Builder::new_current_thread(),
        _ => {
            let mut builder = Builder::new_multi_thread();
            builder.worker_threads(2);
            builder
        }
    };
    let runtime = builder.trace_to(path).build().expect("the runtime builds");
    let ids = runtime.block_on(async {
        let sleeper = asincrono::spawn(async {
            asincrono::time::sleep(Duration::from_millis(20)).await;
        });
        asincrono::trace::label(sleeper.id(), "sleeper");
        let tcp = asincrono::spawn(round_trip());
        asincrono::trace::label(tcp.id(), "tcp");
        let job = asincrono::task::spawn_blocking(|| (1..=10u32).sum::<u32>());
        let ids = Ids {
            sleeper: id_number(sleeper.id()),
            tcp: id_number(tcp.id()),
            job: id_number(job.id()),
        };
        sleeper.await.unwrap();
        tcp.await.unwrap();
        assert_eq!(job.await.unwrap(), 55);
        ids
    });
    drop(runtime);
    ids
}

/// A task id as the trace file writes it.
fn id_number(id: asincrono::task::Id) -> u64 {
    id.to_string().parse().unwrap()
}

/// Connects to a listener of its own, sends `ping`, and reads it back. The read on the
/// server side starts before the client writes, so it has to wait for readiness: the task is
/// woken by the reactor at least once.
async fn round_trip() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted, connected) = asincrono::join!(listener.accept(), TcpStream::connect(addr));
    let (mut server, _) = accepted.unwrap();
    let mut client = connected.unwrap();
    let serve = async {
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        server.write_all(&buf).await.unwrap();
    };
    let ask = async {
        asincrono::task::yield_now().await;
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
    };
    asincrono::join!(serve, ask);
}

/// The checks on a parsed trace.
fn check(flavour: &str, trace: &Value, ids: &Ids) {
    let events = trace
        .get("traceEvents")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("[{flavour}] no traceEvents array"));
    let mut thread_names = HashMap::new();
    let mut timed = Vec::new();
    for event in events {
        let phase = event.str("ph");
        event.num("pid");
        let tid = event.num("tid") as u64;
        event.str("name");
        if phase == "M" {
            if event.str("name") == "thread_name" {
                let name = event.get("args").unwrap().str("name").to_owned();
                thread_names.insert(tid, name);
            }
            continue;
        }
        assert!(
            ["B", "E", "i"].contains(&phase),
            "[{flavour}] unexpected phase {phase}"
        );
        timed.push(event);
    }

    // Time only flows forwards through the file.
    let times: Vec<f64> = timed.iter().map(|event| event.num("ts")).collect();
    assert!(
        times.windows(2).all(|pair| pair[0] <= pair[1]),
        "[{flavour}] events out of time order"
    );

    // Every begin has its end, on the same thread, properly nested.
    let mut open: HashMap<u64, Vec<&str>> = HashMap::new();
    for event in &timed {
        let tid = event.num("tid") as u64;
        assert!(
            thread_names.contains_key(&tid),
            "[{flavour}] thread {tid} has no thread_name"
        );
        match event.str("ph") {
            "B" => open.entry(tid).or_default().push(event.str("name")),
            "E" => {
                let begun = open.entry(tid).or_default().pop();
                assert_eq!(
                    begun,
                    Some(event.str("name")),
                    "[{flavour}] an end on thread {tid} that does not close what began there"
                );
            }
            _ => {}
        }
    }
    for (tid, left) in &open {
        assert!(
            left.is_empty(),
            "[{flavour}] spans never ended on thread {tid}: {left:?}"
        );
    }

    let task_of = |event: &Value| {
        event
            .get("args")
            .and_then(|args| args.get("task"))
            .map(Value::as_num)
    };
    let of_task = |task: u64, phase: &str, name_prefix: &str| -> Vec<&Value> {
        timed
            .iter()
            .copied()
            .filter(|event| {
                task_of(event) == Some(Some(task as f64))
                    && event.str("ph") == phase
                    && event.str("name").starts_with(name_prefix)
            })
            .collect()
    };

    // Each task is spawned before it is first polled, and is polled at least once.
    for (what, task) in [("sleeper", ids.sleeper), ("tcp", ids.tcp), ("job", ids.job)] {
        let spawns = of_task(task, "i", "spawn");
        assert_eq!(spawns.len(), 1, "[{flavour}] {what}: one spawn event");
        let polls = of_task(task, "B", "poll");
        assert!(!polls.is_empty(), "[{flavour}] {what} was never polled");
        assert!(
            spawns[0].num("ts") <= polls[0].num("ts"),
            "[{flavour}] {what} polled before it was spawned"
        );
    }
    // The labels made it into the names.
    assert!(of_task(ids.sleeper, "B", "poll sleeper (task").len() >= 2);

    // The sleeper is woken by its timer.
    let cause = |event: &&Value| event.get("args").unwrap().str("cause").to_owned();
    let sleeper_wakes: Vec<String> = of_task(ids.sleeper, "i", "wake")
        .iter()
        .map(cause)
        .collect();
    assert!(
        sleeper_wakes.iter().any(|cause| cause == "timer"),
        "[{flavour}] the sleeper's wakes: {sleeper_wakes:?}"
    );
    // The TCP task waits for readiness at least once.
    let tcp_wakes: Vec<String> = of_task(ids.tcp, "i", "wake").iter().map(cause).collect();
    assert!(
        tcp_wakes.iter().any(|cause| cause == "io"),
        "[{flavour}] the TCP task's wakes: {tcp_wakes:?}"
    );

    // The blocking job is marked as such and runs on a pool thread, inside a job span.
    let spawn = of_task(ids.job, "i", "spawn")[0];
    assert_eq!(
        spawn.get("args").unwrap().get("blocking"),
        Some(&Value::Bool(true))
    );
    let job_polls = of_task(ids.job, "B", "poll");
    assert_eq!(
        job_polls.len(),
        1,
        "[{flavour}] a blocking job is polled once"
    );
    let pool_thread = job_polls[0].num("tid") as u64;
    assert!(
        thread_names[&pool_thread].ends_with("-blocking"),
        "[{flavour}] the job ran on {:?}, not a pool thread",
        thread_names[&pool_thread]
    );
    let job_span = |phase: &str| {
        timed.iter().any(|event| {
            event.str("name") == "blocking job"
                && event.str("ph") == phase
                && event.num("tid") as u64 == pool_thread
        })
    };
    assert!(
        job_span("B") && job_span("E"),
        "[{flavour}] no job span on the pool thread"
    );

    // Some thread parked in the driver while the sleeper slept.
    assert!(
        timed
            .iter()
            .any(|event| event.str("name") == "park (driver)"),
        "[{flavour}] nobody parked in the driver"
    );
}

// ---------------------------------------------------------------------------------------
// A small JSON parser: enough to tell valid JSON from invalid and to look inside it.
// ---------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The string field `key`; panics (failing the test) if there is none.
    fn str(&self, key: &str) -> &str {
        match self.get(key) {
            Some(Value::Str(s)) => s,
            other => panic!("field {key:?} is not a string: {other:?} in {self:?}"),
        }
    }

    /// The number field `key`; panics if there is none.
    fn num(&self, key: &str) -> f64 {
        self.get(key)
            .and_then(Value::as_num)
            .unwrap_or_else(|| panic!("field {key:?} is not a number in {self:?}"))
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn parse(text: &str) -> Result<Value, String> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            at: 0,
        };
        let value = parser.value()?;
        parser.space();
        if parser.at != parser.bytes.len() {
            return Err(format!("trailing text at byte {}", parser.at));
        }
        Ok(value)
    }

    fn space(&mut self) {
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at byte {}", byte as char, self.at))
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(format!("bad literal at byte {}", self.at))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(format!("expected a value at byte {}", self.at)),
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        self.expect(b'{')?;
        let mut fields = Vec::new();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(fields));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(format!("expected a key at byte {}", self.at));
            }
            let key = self.string()?;
            self.expect(b':')?;
            fields.push((key, self.value()?));
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(fields));
                }
                _ => return Err(format!("expected , or }} at byte {}", self.at)),
            }
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(format!("expected , or ] at byte {}", self.at)),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(&byte) = self.bytes.get(self.at) else {
                return Err("unterminated string".into());
            };
            self.at += 1;
            match byte {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let escaped = *self.bytes.get(self.at).ok_or("unterminated escape")?;
                    self.at += 1;
                    match escaped {
                        b'"' | b'\\' | b'/' => out.push(escaped),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self.bytes.get(self.at..self.at + 4).ok_or("short \\u")?;
                            let hex = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                            let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            self.at += 4;
                            let c = char::from_u32(code).ok_or("bad \\u escape")?;
                            out.extend_from_slice(c.to_string().as_bytes());
                        }
                        _ => return Err(format!("bad escape at byte {}", self.at)),
                    }
                }
                0..0x20 => return Err(format!("raw control character at byte {}", self.at)),
                _ => out.push(byte),
            }
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        while self.at < self.bytes.len()
            && matches!(
                self.bytes[self.at],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).unwrap();
        text.parse()
            .map(Value::Num)
            .map_err(|_| format!("bad number {text:?} at byte {start}"))
    }
}
