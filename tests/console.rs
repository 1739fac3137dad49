//! The console example (`examples/console.rs`) as a program: this test binary runs itself
//! again as the console (the ignored test `console_child`), on each scheduler flavour, and
//! types commands into its stdin through a pipe.
//!
//! What is checked: each command is answered within `ANSWER_BOUND` while a count that
//! would take days runs on the blocking pool, and the ticker keeps ticking meanwhile; an
//! unknown command, a bad argument or a line that is not text gets a message, not a job; a
//! download from a server started here reports its bytes, a failed one says why, and
//! `quit` cancels one in the middle of its body and closes its socket; at the end of the
//! input the console waits for its jobs and says which; `quit` and Ctrl-C cancel them;
//! every way out exits 0. With a pseudo-terminal for its stdout, the status line is redrawn
//! in place instead of printed as plain lines.
//!
//! Every wait has a deadline (`common::child`), and a console left running by a failing
//! test is killed when its `Child` is dropped.

mod common;

#[allow(dead_code)]
#[path = "../examples/console.rs"]
mod console;

use common::child::{Child, this_test_binary_running};
use common::{FLAVOURS, TEST_DEADLINE, runtime, skip};
use console::{Command, parse};
use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How soon a command must be answered. The count in the background takes days, so an
/// answer within this bound came while it ran; the bound is generous for a loaded machine.
const ANSWER_BOUND: Duration = Duration::from_secs(1);

/// A count that would take days: it is still running whenever the test looks.
const ENDLESS_CRUNCH: &str = "crunch 100000";

/// The environment variable that turns this test binary into the console.
const CHILD_ENV: &str = "ASINCRONO_CONSOLE_FLAVOUR";

/// Not a test of its own: the body of the child processes below. With `CHILD_ENV` set to
/// a flavour it runs the console on a runtime of that flavour and exits with its status.
#[test]
#[ignore = "not a test: the body of the console child processes the other tests start"]
fn console_child() {
    let flavour = std::env::var(CHILD_ENV).expect("run only by the tests, which set it");
    let code = runtime(&flavour).block_on(console::run());
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
}

/// The console on a runtime of `flavour`, once it has said hello (by then it listens for
/// Ctrl-C).
fn start(flavour: &str) -> Child {
    eprintln!("[{flavour}]"); // in the failure output: which flavour failed
    let mut command = this_test_binary_running("console_child");
    command.env(CHILD_ENV, flavour);
    let mut console = Child::spawn(command, true);
    console.expect_line("type help for the commands", TEST_DEADLINE);
    console
}

/// Types `command`, and waits for a line containing `answer`; fails unless it came within
/// `ANSWER_BOUND`.
fn ask(console: &mut Child, command: &str, answer: &str) -> String {
    let sent = Instant::now();
    console.send_line(command);
    let line = console.expect_line(answer, TEST_DEADLINE);
    let took = sent.elapsed();
    eprintln!("{command:?} answered in {took:?}"); // seen with --nocapture, or on failure
    assert!(
        took < ANSWER_BOUND,
        "{command:?} was answered after {took:?}, more than {ANSWER_BOUND:?}: {line:?}"
    );
    line
}

/// Waits for the timer `job` to ring, and checks it did not ring before `seconds` (late
/// is fine: a loaded machine may wake it late).
fn expect_ring(console: &mut Child, job: &str, seconds: f64) {
    let line = console.expect_line(&format!("{job}: rang after "), TEST_DEADLINE);
    let after: f64 = line
        .rsplit("rang after ")
        .next()
        .and_then(|rest| rest.strip_suffix(" s"))
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no time in {line:?}"));
    assert!(after >= seconds, "rang early: {line:?}");
}

/// Waits for the goodbye and a clean exit.
fn expect_bye(console: &mut Child) {
    console.expect_line("bye", TEST_DEADLINE);
    let status = console.exit_status(TEST_DEADLINE);
    assert_eq!(status.code(), Some(0), "{:#?}", console.seen);
}

#[test]
fn commands_are_understood_or_refused_with_a_clear_message() {
    let understood = [
        ("", None),
        ("   ", None),
        ("help", Some(Command::Help)),
        ("status", Some(Command::Status)),
        ("  quit  ", Some(Command::Quit)),
        ("exit", Some(Command::Quit)),
        ("crunch 20", Some(Command::Crunch(20))),
        (
            "timer 0.5",
            Some(Command::Timer(Duration::from_millis(500))),
        ),
        ("sleep 2", Some(Command::Timer(Duration::from_secs(2)))),
        (
            "fetch http://h/x",
            Some(Command::Fetch("http://h/x".into())),
        ),
    ];
    for (line, command) in understood {
        assert_eq!(parse(line), Ok(command), "{line:?}");
    }
    let refused = [
        ("frob", "unknown command \"frob\": type help for the list"),
        ("crunch", "crunch needs an argument (type help)"),
        (
            "crunch 0",
            "expected a whole number of millions from 1 to 100000",
        ),
        ("crunch -3", "expected a whole number of millions"),
        ("crunch 100001", "expected a whole number of millions"),
        ("crunch 2.5", "expected a whole number of millions"),
        ("timer -1", "timer \"-1\": expected seconds from 0 to 86400"),
        ("sleep NaN", "sleep \"NaN\": expected seconds"),
        ("timer inf", "expected seconds"),
        (
            "fetch ftp://h/",
            "fetch: bad URL: \"ftp://h/\": only http:// URLs",
        ),
        ("fetch https://h/", "https is not supported"),
        ("help me", "help takes no argument (got \"me\")"),
        ("timer 1 2", "timer: one argument at most, not \"2\" too"),
    ];
    for (line, message) in refused {
        let err = parse(line).expect_err(line);
        assert!(err.contains(message), "{line:?}: {err:?}");
    }
}

#[test]
fn every_command_is_answered_at_once_while_a_heavy_job_runs() {
    for flavour in FLAVOURS {
        let mut console = start(flavour);
        ask(&mut console, ENDLESS_CRUNCH, "#1 crunch 100000: started");
        ask(&mut console, "help", "crunch N    count the primes");
        let status = ask(&mut console, "status", "status: ");
        assert!(status.contains("1 running: #1 crunch"), "{status}");
        ask(&mut console, "frob", "unknown command \"frob\"");
        ask(&mut console, "crunch lots", "expected a whole number");
        let sent = Instant::now();
        console.send_bytes(b"\xff\xfe not text\n");
        console.expect_line("that line is not UTF-8 text: ignored", TEST_DEADLINE);
        assert!(sent.elapsed() < ANSWER_BOUND, "answered at once");
        ask(&mut console, "timer 0.2", "#2 timer 0.2 s: started");
        expect_ring(&mut console, "#2 timer 0.2 s", 0.2);
        // The ticker ticks on, and the plain status line (stdout is a pipe) shows it.
        console.expect_line_where("status line at tick 2 or later", TEST_DEADLINE, |line| {
            line.strip_prefix("[tick ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|ticks| ticks.parse::<u64>().ok())
                .is_some_and(|ticks| ticks >= 2)
        });
        // All of that happened while the count ran: it still does.
        let status = ask(&mut console, "status", "status: ");
        assert!(status.contains("1 running: #1 crunch"), "{status}");
        assert!(status.contains("1 finished"), "{status}");
        ask(
            &mut console,
            "quit",
            "quit: cancelling 1 job(s): #1 crunch 100000",
        );
        // The count looks at the stop flag every few milliseconds.
        let cancelled = Instant::now();
        console.expect_line("#1 crunch 100000: cancelled at ", TEST_DEADLINE);
        assert!(cancelled.elapsed() < ANSWER_BOUND, "cancelled promptly");
        expect_bye(&mut console);
    }
}

// ---- On a terminal ---------------------------------------------------------------------

/// A pseudo-terminal: its master end (read here) and its slave end (the child's stdout,
/// which then is a terminal); or why there is none.
fn pseudo_terminal() -> Result<(File, File), String> {
    let failed = |call: &str| format!("{call}: {}", std::io::Error::last_os_error());
    // SAFETY: `posix_openpt` takes flags and returns a new descriptor or -1; nothing of
    // ours is touched.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
    if master < 0 {
        return Err(failed("posix_openpt"));
    }
    // SAFETY: `master` is a descriptor we just opened and own from here on.
    let master = unsafe { File::from_raw_fd(master) };
    // SAFETY: both take a descriptor we own and touch no memory of ours.
    if unsafe { libc::grantpt(master.as_raw_fd()) } != 0 {
        return Err(failed("grantpt"));
    }
    // SAFETY: as above.
    if unsafe { libc::unlockpt(master.as_raw_fd()) } != 0 {
        return Err(failed("unlockpt"));
    }
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: `ptsname_r` writes at most `name.len()` bytes, NUL included, into `name`.
    if unsafe { libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) } != 0 {
        return Err(failed("ptsname_r"));
    }
    // SAFETY: `ptsname_r` succeeded, so `name` holds a NUL-terminated path.
    let path = unsafe { CStr::from_ptr(name.as_ptr()) };
    let path = path
        .to_str()
        .map_err(|_| "a slave path that is not UTF-8".to_string())?;
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)
        .map_err(|err| format!("open {path}: {err}"))?;
    Ok((master, slave))
}

#[test]
fn on_a_terminal_the_status_line_is_redrawn_in_place() {
    for flavour in FLAVOURS {
        eprintln!("[{flavour}]");
        // (Whether the terminal turns `\n` into `\r\n` depends on its settings: the lines
        // are compared without a final `\r`.)
        let (master, slave) = match pseudo_terminal() {
            Ok(ends) => ends,
            Err(why) => {
                skip::<()>(&format!("no pseudo-terminal for the console: {why}"));
                return;
            }
        };
        let mut command = this_test_binary_running("console_child");
        command.env(CHILD_ENV, flavour).stdout(slave);
        // `command` holds our copy of the slave end until it is dropped, after the spawn.
        let mut console = Child::spawn_reading(command, true, master);
        const ERASE: &str = "\r\x1b[2K";
        // Each message erases the status line, prints itself, then draws it again below.
        let hello = console.expect_line("type help for the commands", TEST_DEADLINE);
        assert!(
            hello.trim_end_matches('\r').ends_with(&format!(
                "{ERASE}asincrono console: type help for the commands"
            )),
            "{hello:?}"
        );
        ask(&mut console, "timer 0.6", "#1 timer 0.6 s: started");
        // Until the timer rings, the status line is redrawn over itself every 250 ms, with
        // no newline: the line that ends with the ring holds every redraw.
        let line = console.expect_line("#1 timer 0.6 s: rang after", TEST_DEADLINE);
        let mut parts: Vec<&str> = line.split(ERASE).collect();
        let rang = parts.pop().expect("the message");
        assert!(rang.starts_with("#1 timer 0.6 s: rang after"), "{line:?}");
        let redrawn = parts
            .iter()
            .filter(|part| part.starts_with("tick ") && part.contains("1 running: #1 timer"))
            .count();
        // The first is drawn after "started"; the others are the redraws, due every 250 ms
        // while the timer runs for 600.
        assert!(
            redrawn >= 2,
            "the status line was drawn, then redrawn: {line:?}"
        );
        assert!(
            parts
                .iter()
                .all(|part| part.is_empty() || part.starts_with("tick ")),
            "only status lines between the two messages: {line:?}"
        );
        ask(&mut console, "quit", "bye");
        let status = console.exit_status(TEST_DEADLINE);
        assert_eq!(status.code(), Some(0), "{:#?}", console.seen);
    }
}

// ---- Downloads, from servers started here ----------------------------------------------

/// How a test server answers its one connection.
enum Answer {
    /// `200 OK` and this many bytes of body, then close.
    Whole(usize),
    /// A head announcing 1 MB, 1000 bytes of body, then nothing: reports on the channel
    /// when the client closes its end.
    Stall(mpsc::Sender<()>),
}

/// A server on a free loopback port, for one connection, on a thread of its own.
fn serve_once(answer: Answer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(TEST_DEADLINE))
            .expect("a read timeout");
        read_request_head(&mut stream);
        match answer {
            Answer::Whole(length) => {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n");
                stream.write_all(head.as_bytes()).expect("send the head");
                stream
                    .write_all(&vec![b'x'; length])
                    .expect("send the body");
            }
            Answer::Stall(closed) => {
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
                stream.write_all(head.as_bytes()).expect("send the head");
                stream.write_all(&[b'x'; 1000]).expect("send some body");
                // The client sends nothing more: a read ends only when it closes.
                if stream.read(&mut [0; 16]).is_ok_and(|n| n == 0) {
                    let _ = closed.send(());
                }
            }
        }
    });
    addr
}

fn read_request_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read the request");
        assert_eq!(n, 1, "the client closed in the middle of its request");
        head.push(byte[0]);
    }
}

/// A loopback port nobody listens on (it was free a moment ago).
fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local addr")
}

#[test]
fn a_download_reports_its_bytes_and_a_failed_one_says_why() {
    for flavour in FLAVOURS {
        let mut console = start(flavour);
        let url = format!("http://{}/file", serve_once(Answer::Whole(100_000)));
        ask(&mut console, &format!("fetch {url}"), "#1 fetch ");
        console.expect_line(
            &format!("#1 fetch {url}: 200 OK, 97.7 KiB in "),
            TEST_DEADLINE,
        );
        let status = ask(&mut console, "status", "status: ");
        assert!(
            status.ends_with("0 running · 1 finished · 97.7 KiB downloaded"),
            "{status}"
        );
        let nobody = format!("http://{}/", closed_port());
        ask(&mut console, &format!("fetch {nobody}"), "#2 fetch ");
        let failed = console.expect_line(&format!("#2 fetch {nobody}: failed: "), TEST_DEADLINE);
        assert!(failed.contains("cannot connect to"), "{failed}");
        console.close_stdin();
        expect_bye(&mut console);
    }
}

#[test]
fn quit_cancels_a_download_in_the_middle_of_its_body_and_closes_its_socket() {
    for flavour in FLAVOURS {
        let mut console = start(flavour);
        let (closed, client_closed) = mpsc::channel();
        let url = format!("http://{}/big", serve_once(Answer::Stall(closed)));
        ask(&mut console, &format!("fetch {url}"), "#1 fetch ");
        // The status line shows the bytes as they arrive.
        console.expect_line("#1 fetch 1000 B", TEST_DEADLINE);
        ask(&mut console, "quit", "quit: cancelling 1 job(s): #1 fetch ");
        console.expect_line(
            &format!("#1 fetch {url}: cancelled after 1000 B"),
            TEST_DEADLINE,
        );
        client_closed
            .recv_timeout(TEST_DEADLINE)
            .expect("the console closed the connection");
        expect_bye(&mut console);
    }
}

// ---- The ways out --------------------------------------------------------------------

#[test]
fn the_end_of_the_input_waits_for_the_jobs_says_which_and_exits_0() {
    for flavour in FLAVOURS {
        let mut console = start(flavour);
        ask(&mut console, "timer 0.5", "#1 timer 0.5 s: started");
        console.close_stdin();
        console.expect_line(
            "end of input: waiting for 1 job(s): #1 timer 0.5 s (Ctrl-C cancels them)",
            TEST_DEADLINE,
        );
        expect_ring(&mut console, "#1 timer 0.5 s", 0.5);
        expect_bye(&mut console);

        // With nothing running, it just says bye.
        let mut console = start(flavour);
        console.close_stdin();
        expect_bye(&mut console);
        assert!(
            !console.seen.iter().any(|line| line.contains("waiting")),
            "{:#?}",
            console.seen
        );
    }
}

#[test]
fn ctrl_c_cancels_the_jobs_and_exits_0_also_while_waiting_at_the_end_of_the_input() {
    for flavour in FLAVOURS {
        let mut console = start(flavour);
        ask(&mut console, ENDLESS_CRUNCH, "#1 crunch 100000: started");
        console.signal(libc::SIGINT);
        console.expect_line(
            "Ctrl-C: cancelling 1 job(s): #1 crunch 100000",
            TEST_DEADLINE,
        );
        console.expect_line("#1 crunch 100000: cancelled at ", TEST_DEADLINE);
        expect_bye(&mut console);

        let mut console = start(flavour);
        ask(&mut console, ENDLESS_CRUNCH, "#1 crunch 100000: started");
        console.close_stdin();
        console.expect_line(
            "end of input: waiting for 1 job(s): #1 crunch",
            TEST_DEADLINE,
        );
        console.signal(libc::SIGINT);
        console.expect_line(
            "Ctrl-C: cancelling 1 job(s): #1 crunch 100000",
            TEST_DEADLINE,
        );
        console.expect_line("#1 crunch 100000: cancelled at ", TEST_DEADLINE);
        expect_bye(&mut console);
    }
}
