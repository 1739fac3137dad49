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
use common::json::{Parser, Value};
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
            // Every runtime of this process is traced: no untraced one to check.
            common::skip::<()>("ASINCRONO_TRACE is set for the whole test process");
            return;
        }
        let runtime = Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let task = asincrono::spawn(async { 7 });
            asincrono::trace::label(task.id(), "seven");
            assert_eq!(task.await.unwrap(), 7);
        });
    });
}

#[test]
fn a_current_thread_loop_woken_on_its_own_thread_never_unparks_itself() {
    // The main future and an echo task ping-pong over UDP: every wake comes from an I/O
    // event the loop dispatches itself, so none needs the eventfd write that interrupts an
    // `epoll_wait` (which the loop is not in). The trace counts each such write.
    common::within(common::TEST_DEADLINE, "current_thread", || {
        let path = std::env::temp_dir().join(format!(
            "asincrono-trace-unpark-{}.json",
            std::process::id()
        ));
        let runtime = Builder::new_current_thread()
            .enable_all()
            .trace_to(path.clone())
            .build()
            .expect("the runtime builds");
        const ROUND_TRIPS: usize = 200;
        runtime.block_on(async {
            let ping = asincrono::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .unwrap();
            let pong = asincrono::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .unwrap();
            ping.connect(pong.local_addr().unwrap()).await.unwrap();
            pong.connect(ping.local_addr().unwrap()).await.unwrap();
            let echo = asincrono::spawn(async move {
                let mut buf = [0u8; 8];
                for _ in 0..ROUND_TRIPS {
                    let n = pong.recv(&mut buf).await.unwrap();
                    pong.send(&buf[..n]).await.unwrap();
                }
            });
            let mut buf = [0u8; 8];
            for _ in 0..ROUND_TRIPS {
                ping.send(b"ping").await.unwrap();
                assert_eq!(ping.recv(&mut buf).await.unwrap(), 4);
            }
            echo.await.unwrap();
        });
        drop(runtime);
        let text = std::fs::read_to_string(&path).expect("the runtime wrote the trace file");
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(path.with_extension("html"));
        let trace = Parser::parse(&text).unwrap_or_else(|err| panic!("not JSON: {err}"));
        let events = trace.get("traceEvents").and_then(Value::as_array).unwrap();
        let unparks = events.iter().filter(|e| e.str("name") == "unpark").count();
        assert_eq!(unparks, 0, "{ROUND_TRIPS} round trips, {unparks} unparks");
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
    let page_path = path.with_extension("html");
    let page = std::fs::read_to_string(&page_path).expect("the runtime wrote the trace page");
    let _ = std::fs::remove_file(&page_path);
    check_page(flavour, &page, &trace);
}

/// The page beside the JSON carries the same events, and nothing it would fetch: its
/// embedded data, read the way a browser reads it (up to the first `</script>`), parses to
/// exactly the file's JSON, although a task's label contains `</script>`.
fn check_page(flavour: &str, page: &str, trace: &Value) {
    let start = r#"<script id="trace-data" type="application/json">"#;
    let data = page
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(data, _)| data)
        .unwrap_or_else(|| panic!("[{flavour}] no trace-data script in the page"));
    let embedded =
        Parser::parse(data).unwrap_or_else(|err| panic!("[{flavour}] embedded data: {err}"));
    assert!(
        embedded == *trace,
        "[{flavour}] the page's data differs from the JSON file"
    );
    assert!(
        page.contains(r#"<canvas id="timeline">"#),
        "[{flavour}] no timeline"
    );
    for external in ["<script src", "<link", "http://", "https://"] {
        assert!(
            !page.contains(external),
            "[{flavour}] the page refers to something outside it: {external}"
        );
    }
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
        // A label that would end the page's data script early if it were not escaped.
        asincrono::trace::label(job.id(), "job </script><!--");
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
