//! The accept loop when the process is out of file descriptors.
//!
//! With connections waiting in the listen backlog and the descriptor table full, `accept(2)`
//! fails at once with `EMFILE`, and keeps failing until a descriptor is freed: the connection
//! stays in the backlog. Two ways a runtime goes wrong here:
//!
//! - it retries inside `accept` (or keeps the task awake), spinning at 100 % CPU;
//! - it treats the error like `WouldBlock` and clears the listener's readiness: the backlog
//!   makes no new edge for epoll, so once descriptors are free, `accept` waits forever.
//!
//! The test returns the error to a caller that backs off 10 ms each time, for 200 ms, and
//! checks the number of errors and the CPU time spent; then frees descriptors and checks
//! that the waiting connections, and a new one, are accepted.
//!
//! It runs in a child process started with `ulimit -n 256`: this same test binary, run
//! again through `sh -c 'ulimit -n 256 && exec BINARY --child'`. The child checks its limit,
//! fills its descriptor table, does the checks above on each scheduler flavour, and prints
//! what it measured; the parent waits for it (a bounded time, then kills it) and passes or
//! fails on its exit status. (`harness = false` in Cargo.toml: this file has its own `main`.)

#[path = "common/bare.rs"]
mod bare;
mod common;

use asincrono::net::TcpListener;
use asincrono::time::{sleep, timeout};
use bare::{BareTest, catching};
use common::{FLAVOURS, TEST_DEADLINE, runtime, within};
use std::fs::File;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The child's descriptor limit, as `ulimit -n` sets it.
const FD_LIMIT: u64 = 256;
/// How long the caller keeps retrying, and how long it backs off after each error.
const RETRYING: Duration = Duration::from_millis(200);
const BACK_OFF: Duration = Duration::from_millis(10);
/// Connections waiting in the backlog while the table is full.
const WAITING: usize = 2;
/// How long the parent waits for the child: one watchdog per flavour, and a margin.
const CHILD_DEADLINE: Duration = TEST_DEADLINE.saturating_mul(FLAVOURS.len() as u32 + 1);

fn main() -> ExitCode {
    if std::env::args().any(|arg| arg == "--child") {
        return child();
    }
    bare::main(&[BareTest {
        name: "accept_returns_emfile_without_spinning_and_recovers",
        run: run_child,
    }])
}

/// The parent: starts the child under `ulimit -n 256` and reads its verdict.
fn run_child() -> Result<String, String> {
    let binary = std::env::current_exe().map_err(|err| err.to_string())?;
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {FD_LIMIT} && exec \"$0\" --child"))
        .arg(binary)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("start the child process: {err}"))?;
    let pid = child.id();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(child.wait_with_output());
    });
    let output = match done_rx.recv_timeout(CHILD_DEADLINE) {
        Ok(output) => output.map_err(|err| format!("wait for the child: {err}"))?,
        Err(_) => {
            // The child is stuck (the waiting thread still holds it): kill it by its id.
            // SAFETY: `kill` takes two integers and touches no memory of ours.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            return Err(format!(
                "the child did not finish within {CHILD_DEADLINE:?}"
            ));
        }
    };
    let said = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_owned();
    if output.status.success() {
        Ok(format!(
            "child under `ulimit -n {FD_LIMIT}`: {}",
            said(&output.stdout)
        ))
    } else {
        Err(format!(
            "the child failed ({}): {}{}",
            output.status,
            said(&output.stdout),
            said(&output.stderr)
        ))
    }
}

/// The child: checks its limit, then both flavours; prints the summary or the failure.
fn child() -> ExitCode {
    let verdict = catching(|| {
        let limit = get_limit();
        assert_eq!(
            limit.rlim_cur, FD_LIMIT,
            "the child runs under `ulimit -n {FD_LIMIT}`"
        );
        FLAVOURS.map(accept_at_the_fd_limit).join("; ")
    });
    match verdict {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("{problem}");
            ExitCode::FAILURE
        }
    }
}

fn get_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a pointer to a live, correctly typed
    // local.
    let status = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(status, 0, "getrlimit");
    limit
}

/// CPU time this process has used so far (all threads).
fn cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through a pointer to a live, correctly
    // typed local.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn accept_at_the_fd_limit(flavour: &'static str) -> String {
    within(TEST_DEADLINE, flavour, move || {
        let rt = runtime(flavour);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("local addr");
        // Clients whose connections the kernel completes into the backlog, unaccepted.
        let clients: Vec<_> = (0..WAITING)
            .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
            .collect();

        let mut fillers = Vec::new();
        let full = loop {
            match File::open("/dev/null") {
                Ok(file) => fillers.push(file),
                Err(err) => break err,
            }
        };
        assert_eq!(
            full.raw_os_error(),
            Some(libc::EMFILE),
            "table full: {full}"
        );

        let (errors, cpu, accepted) = rt.block_on(async {
            let cpu_before = cpu_time();
            let started = Instant::now();
            let mut errors = 0;
            while started.elapsed() < RETRYING {
                match timeout(Duration::from_secs(1), listener.accept()).await {
                    Ok(Err(err)) if err.raw_os_error() == Some(libc::EMFILE) => {
                        errors += 1;
                        sleep(BACK_OFF).await;
                    }
                    Ok(Err(err)) => panic!("[{flavour}] accept failed with {err}, not EMFILE"),
                    Ok(Ok(_)) => panic!("[{flavour}] accepted with no descriptor free"),
                    Err(_) => panic!("[{flavour}] accept waited instead of failing"),
                }
            }
            let cpu = cpu_time() - cpu_before;

            // Free the table: the waiting connections, and a new one, are accepted.
            drop(fillers);
            let mut accepted = 0;
            for _ in 0..WAITING {
                let accept = timeout(Duration::from_secs(2), listener.accept()).await;
                let (stream, _) = accept
                    .unwrap_or_else(|_| panic!("[{flavour}] accept hangs after fds freed"))
                    .expect("accept once fds are free");
                drop(stream);
                accepted += 1;
            }
            let late = std::net::TcpStream::connect(addr).expect("connect a new client");
            let accept = timeout(Duration::from_secs(2), listener.accept()).await;
            accept
                .expect("a new connection is accepted after the backlog is drained")
                .expect("accept");
            drop(late);
            accepted += 1;
            (errors, cpu, accepted)
        });
        drop(clients);

        let most = (RETRYING.as_millis() / BACK_OFF.as_millis()) as usize + 1;
        assert!(
            (1..=most).contains(&errors),
            "[{flavour}] {errors} EMFILE errors in {RETRYING:?} with a {BACK_OFF:?} back-off"
        );
        assert!(
            cpu < RETRYING / 2,
            "[{flavour}] {cpu:?} of CPU in {RETRYING:?} of backing off: something spins"
        );
        format!(
            "{flavour}: {errors} EMFILE errors, {cpu:.1?} CPU in {RETRYING:?}, {accepted} accepted after"
        )
    })
}
