//! `asincrono::signal`: signals sent to this very process (`raise`, `kill(getpid())`) reach
//! one listener and several, are not lost between `signal()` and the first `recv`, are
//! merged when they come faster than a listener looks, and keep working across runtimes.
//! Then the three example servers, each run as a child process, are sent SIGINT (or
//! SIGTERM) with a request in flight: the request is answered and the server exits 0.
//!
//! Each test uses a signal of its own, since all the tests of this file share one process
//! (and a signal is delivered to the process, so to every listener in it).

// Each of the three servers includes `examples/support/shutdown.rs` as its own module, as
// it does when built alone: three copies here, on purpose.
#![allow(clippy::duplicate_mod)]

mod common;

#[allow(dead_code)]
#[path = "../examples/chat_server.rs"]
mod chat_server;
#[allow(dead_code)]
#[path = "../examples/http_server.rs"]
mod http_server;
#[allow(dead_code)]
#[path = "../examples/kv_server.rs"]
mod kv_server;

use asincrono::signal::unix::{SignalKind, signal};
use asincrono::time;
use common::child::{Child, send_signal, this_test_binary_running};
use common::{TEST_DEADLINE, on_each_flavour, runtime, within};
use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::pin::pin;
use std::process::ExitStatus;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Sends `signum` to this process from the calling thread (the handler runs before `raise`
/// returns).
fn raise(signum: libc::c_int) {
    // SAFETY: `raise` only sends a signal to this process; every test installs its handler
    // (through `signal()`) before raising.
    assert_eq!(unsafe { libc::raise(signum) }, 0, "raise({signum})");
}

/// Whether `recv` would wait: polls it once.
async fn is_pending(listener: &mut asincrono::signal::unix::Signal) -> bool {
    poll_fn(|cx| Poll::Ready(listener.poll_recv(cx).is_pending())).await
}

#[test]
fn a_signal_raised_after_signal_reaches_its_listener_even_before_the_first_recv() {
    on_each_flavour(|| async {
        let mut usr1 = signal(SignalKind::user_defined1()).expect("listen for SIGUSR1");
        raise(libc::SIGUSR1); // before anyone called recv
        assert_eq!(usr1.recv().await, Some(()));
        assert!(is_pending(&mut usr1).await, "one delivery, reported once");
    });
}

#[test]
fn several_listeners_of_one_signal_all_see_each_delivery() {
    on_each_flavour(|| async {
        let mut listeners: Vec<_> = (0..3)
            .map(|_| signal(SignalKind::user_defined2()).expect("listen for SIGUSR2"))
            .collect();
        // Two of them wait in tasks of their own (on other workers, multi-thread).
        let mut in_tasks = Vec::new();
        for mut listener in listeners.drain(1..) {
            in_tasks.push(asincrono::spawn(async move { listener.recv().await }));
        }
        asincrono::task::yield_now().await;
        raise(libc::SIGUSR2);
        assert_eq!(listeners[0].recv().await, Some(()));
        for task in in_tasks {
            assert_eq!(task.await.expect("the task ran"), Some(()));
        }
    });
}

#[test]
fn deliveries_faster_than_the_listener_looks_are_merged_into_one() {
    on_each_flavour(|| async {
        let mut winch = signal(SignalKind::window_change()).expect("listen for SIGWINCH");
        raise(libc::SIGWINCH);
        raise(libc::SIGWINCH);
        assert_eq!(winch.recv().await, Some(()));
        assert!(is_pending(&mut winch).await, "two quick deliveries are one");
        raise(libc::SIGWINCH);
        assert_eq!(winch.recv().await, Some(()), "a later one counts again");
    });
}

#[test]
fn a_signal_sent_from_another_thread_wakes_a_parked_listener() {
    on_each_flavour(|| async {
        let mut hup = signal(SignalKind::hangup()).expect("listen for SIGHUP");
        let waiting = asincrono::spawn(async move { hup.recv().await });
        // The listener's task is (or will be) parked in epoll_wait: only the pipe can wake it.
        let sender = std::thread::spawn(|| send_signal(std::process::id(), libc::SIGHUP));
        let got = time::timeout(TEST_DEADLINE, waiting).await;
        sender.join().expect("the sending thread");
        assert_eq!(got.expect("woken in time").expect("the task ran"), Some(()));
    });
}

#[test]
fn a_signal_received_before_a_listener_exists_is_not_reported_to_it() {
    on_each_flavour(|| async {
        let signum = libc::SIGRTMIN() + 1;
        let mut early = signal(SignalKind::from_raw(signum)).expect("listen");
        raise(signum);
        // Created after the delivery: it must not see it, while `early` must.
        let mut late = signal(SignalKind::from_raw(signum)).expect("listen");
        assert!(
            is_pending(&mut late).await,
            "the delivery came before `late`"
        );
        assert_eq!(early.recv().await, Some(()));
    });
}

#[test]
fn ctrl_c_resolves_on_sigint() {
    on_each_flavour(|| async {
        let mut ctrl_c = pin!(asincrono::signal::ctrl_c());
        // The handler is installed on the first poll: poll once before raising.
        poll_fn(|cx| {
            assert!(ctrl_c.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        raise(libc::SIGINT);
        ctrl_c.await.expect("ctrl_c");
    });
}

#[test]
fn signals_keep_working_in_a_runtime_built_after_another_was_dropped() {
    let signum = libc::SIGRTMIN() + 2;
    let first = runtime("current_thread");
    let mut old = first.block_on(async {
        let mut listener = signal(SignalKind::from_raw(signum)).expect("listen");
        raise(signum);
        assert_eq!(listener.recv().await, Some(()));
        listener
    });
    drop(first);
    within(TEST_DEADLINE, "second runtime", move || {
        runtime("multi_thread").block_on(async move {
            let mut listener = signal(SignalKind::from_raw(signum)).expect("listen again");
            raise(signum);
            assert_eq!(listener.recv().await, Some(()));
            // The listener of the dropped runtime reports the delivery counted meanwhile,
            // then says that no more can come.
            assert_eq!(old.recv().await, Some(()));
            assert_eq!(old.recv().await, None);
        });
    });
}

#[test]
fn signals_that_cannot_be_listened_for_are_refused_with_a_clear_error() {
    on_each_flavour(|| async {
        for signum in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -3, 65, 1000] {
            let err = signal(SignalKind::from_raw(signum)).expect_err("refused");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{signum}: {err}");
            assert!(err.to_string().contains(&signum.to_string()), "{err}");
        }
    });
    let err = signal(SignalKind::user_defined1()).expect_err("outside a runtime");
    assert!(err.to_string().contains("runtime"), "{err}");
}

#[test]
fn signal_kinds_are_their_numbers() {
    assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    assert_eq!(SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    assert_eq!(SignalKind::child().as_raw_value(), libc::SIGCHLD);
    assert_eq!(SignalKind::user_defined1().as_raw_value(), libc::SIGUSR1);
    assert_eq!(
        SignalKind::from_raw(libc::SIGUSR2),
        SignalKind::user_defined2()
    );
    assert_eq!(
        libc::c_int::from(SignalKind::from(libc::SIGQUIT)),
        libc::SIGQUIT
    );
}

// ---- The example servers, stopped by a signal ----------------------------------------------

/// The environment variable that turns this test binary into one of the example servers.
const CHILD_ENV: &str = "ASINCRONO_SERVER_CHILD";

/// Not a test of its own: the body of the child processes below. With `CHILD_ENV` set it
/// runs that example server (arguments in `ASINCRONO_SERVER_ARGS`, one per line) as its
/// `main` would, and exits with its status.
#[test]
#[ignore = "not a test: the body of the server child processes the shutdown tests start"]
fn server_child() {
    let which = std::env::var(CHILD_ENV).expect("run only by the shutdown tests, which set it");
    let args: Vec<String> = std::env::var("ASINCRONO_SERVER_ARGS")
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let args = args.into_iter();
    let code = asincrono::Runtime::new()
        .expect("runtime")
        .block_on(async move {
            match which.as_str() {
                "http_server" => http_server::run(args).await,
                "kv_server" => kv_server::run(args).await,
                "chat_server" => chat_server::run(args).await,
                other => panic!("no such server: {other}"),
            }
        });
    std::process::exit(if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    });
}

/// An example server running as a child process, with its stdout read line by line.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// Starts `which` with `args` (plus `--addr 127.0.0.1:0` or the chat's bare address)
    /// and waits for the line that says where it listens.
    fn start(which: &str, args: &[&str]) -> Server {
        let mut command = this_test_binary_running("server_child");
        command
            .env(CHILD_ENV, which)
            .env("ASINCRONO_SERVER_ARGS", args.join("\n"));
        let mut server = Server {
            child: Child::spawn(command, false),
            addr: String::new(),
        };
        let line = server.expect_line("listening on ");
        let after = line.split("listening on ").nth(1).expect("an address");
        server.addr = after
            .split([',', ' '])
            .next()
            .expect("an address")
            .to_string();
        server
    }

    /// Waits (at most `TEST_DEADLINE`) for a line containing `needle`, and returns it.
    fn expect_line(&mut self, needle: &str) -> String {
        self.child.expect_line(needle, TEST_DEADLINE)
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.addr).expect("connect to the server");
        stream
            .set_read_timeout(Some(TEST_DEADLINE))
            .expect("a read timeout");
        stream
    }

    fn signal(&self, signum: libc::c_int) {
        self.child.signal(signum);
    }

    /// Waits (at most `TEST_DEADLINE`) for the server to exit.
    fn exit_status(&mut self) -> ExitStatus {
        self.child.exit_status(TEST_DEADLINE)
    }
}

/// Reads until `stream` holds `wanted` at the end of what was read.
fn read_until_ends_with(stream: &mut TcpStream, wanted: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(wanted.as_bytes()) {
        let n = stream.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "closed early, after {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Reads everything until the server closes the connection.
fn read_to_close(stream: &mut TcpStream) -> String {
    let mut got = String::new();
    stream.read_to_string(&mut got).expect("read to the end");
    got
}

/// A root folder for the HTTP server with `a.txt`.
fn http_root() -> String {
    let root = std::env::temp_dir().join(format!("asincrono-signal-http-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("a.txt"), "hello\n").expect("write");
    root.to_string_lossy().into_owned()
}

#[test]
fn http_server_answers_the_request_in_flight_then_exits_0_on_sigint() {
    let root = http_root();
    let mut server = Server::start("http_server", &["--addr", "127.0.0.1:0", "--root", &root]);
    let mut client = server.connect();
    // One whole request first: the connection is accepted and served.
    client
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    read_until_ends_with(&mut client, "hello\n");
    // Half of the next request, then the signal: this one is in flight.
    client
        .write_all(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n")
        .expect("send");
    server.signal(libc::SIGINT);
    server.expect_line("SIGINT: no longer accepting; finishing 1 connection(s)");
    client.write_all(b"\r\n").expect("send the rest");
    let answer = read_to_close(&mut client);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("hello\n"), "{answer}");
    server.expect_line("all 1 connection(s) finished");
    assert_eq!(server.exit_status().code(), Some(0));
    assert!(
        TcpStream::connect(&server.addr).is_err(),
        "nobody listens after the exit"
    );
}

#[test]
fn kv_server_answers_the_command_in_flight_then_exits_0_on_sigterm() {
    let mut server = Server::start("kv_server", &["--addr", "127.0.0.1:0"]);
    let mut client = server.connect();
    client.write_all(b"PING\r\n").expect("send");
    read_until_ends_with(&mut client, "+PONG\r\n");
    client
        .write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1")
        .expect("send");
    server.signal(libc::SIGTERM);
    server.expect_line("SIGTERM: no longer accepting; finishing 1 connection(s)");
    client.write_all(b"\r\nv\r\n").expect("send the rest");
    assert_eq!(read_to_close(&mut client), "+OK\r\n");
    server.expect_line("all 1 connection(s) finished");
    assert_eq!(server.exit_status().code(), Some(0));
}

#[test]
fn chat_server_delivers_what_is_queued_says_goodbye_and_exits_0_on_sigint() {
    let mut server = Server::start("chat_server", &["127.0.0.1:0"]);
    let mut alice = server.connect();
    read_until_ends_with(&mut alice, "to see who is here\n");
    server.expect_line(" joined (1 here now)");
    let mut bob = server.connect();
    read_until_ends_with(&mut bob, "to see who is here\n");
    server.expect_line(" joined (2 here now)");
    alice.write_all(b"/nick alice\n").expect("send");
    // The room has handled it: the notice is queued for both.
    server.expect_line(" is now alice");
    server.signal(libc::SIGINT);
    server.expect_line("said goodbye to 2 client(s)");
    for (who, stream) in [("alice", &mut alice), ("bob", &mut bob)] {
        let rest = read_to_close(stream);
        assert!(rest.contains(" is now alice\n"), "{who}: {rest}");
        assert!(
            rest.ends_with("* the server is shutting down: bye\n"),
            "{who}: {rest}"
        );
    }
    server.expect_line("all 2 connection(s) finished");
    assert_eq!(server.exit_status().code(), Some(0));
}

#[test]
fn a_second_sigint_ends_a_server_at_once() {
    let mut server = Server::start("kv_server", &["--addr", "127.0.0.1:0"]);
    let mut client = server.connect();
    client.write_all(b"PING\r\n").expect("send");
    read_until_ends_with(&mut client, "+PONG\r\n");
    // A command that never finishes keeps the connection in flight for the whole grace.
    client.write_all(b"*2\r\n$4\r\nECHO\r\n").expect("send");
    server.signal(libc::SIGINT);
    server.expect_line("SIGINT: no longer accepting");
    let second = Instant::now();
    server.signal(libc::SIGINT);
    server.expect_line("SIGINT again: quitting at once");
    assert_eq!(server.exit_status().code(), Some(130));
    // Well under the helper's 5 s grace: it did not wait for the connection.
    assert!(second.elapsed() < Duration::from_secs(2), "quit at once");
}
