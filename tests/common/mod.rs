//! Helpers shared by the integration tests: run a test body on every scheduler flavour,
//! each under a watchdog, so that a hang fails the test instead of stalling CI.
#![allow(dead_code)] // each test binary uses a different subset

pub mod child;
pub mod json;

use asincrono::runtime::{Builder, Runtime};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long any single test body may take before it counts as hung.
pub const TEST_DEADLINE: Duration = Duration::from_secs(20);

/// The scheduler flavours a runtime can be built with; `multi_thread` runs two workers.
pub const FLAVOURS: [&str; 2] = ["current_thread", "multi_thread"];

/// Builds a runtime of the named flavour.
pub fn runtime(flavour: &str) -> Runtime {
    match flavour {
        "current_thread" => Builder::new_current_thread().enable_all().build(),
        "multi_thread" => Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
        other => panic!("unknown flavour {other}"),
    }
    .expect("the runtime builds")
}

/// A connected TCP pair on loopback: (client, server).
pub async fn tcp_pair() -> (asincrono::net::TcpStream, asincrono::net::TcpStream) {
    use asincrono::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (client, accepted) = asincrono::join!(TcpStream::connect(addr), listener.accept());
    (client.expect("connect"), accepted.expect("accept").0)
}

/// Runs `body` to completion on a fresh runtime of every flavour, each under the watchdog.
pub fn on_each_flavour<F, Fut>(body: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    on_each(body, runtime);
}

/// Runs `body` on both flavours with one thread running tasks: a current-thread runtime and
/// a multi-thread runtime with a single worker. For tests about the *order* in which a
/// scheduler runs tasks, which two workers running in parallel would not keep.
pub fn on_each_flavour_one_thread<F, Fut>(body: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    on_each(body, |flavour| {
        match flavour {
            "multi_thread" => Builder::new_multi_thread().worker_threads(1).build(),
            _ => Builder::new_current_thread().build(),
        }
        .expect("the runtime builds")
    });
}

/// Runs `body` on the runtime `build` makes for each flavour, each under the watchdog.
fn on_each<F, Fut>(body: F, build: fn(&str) -> Runtime)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    let body = Arc::new(body);
    for flavour in FLAVOURS {
        let body = body.clone();
        within(TEST_DEADLINE, flavour, move || {
            build(flavour).block_on(body())
        });
    }
}

/// Runs `work` on its own thread and waits at most `limit` for it. A panic in `work` is
/// re-raised here; running out of time fails the test (the stuck thread is left behind,
/// which is fine in a test process that is about to report failure).
pub fn within<T: Send + 'static>(
    limit: Duration,
    label: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done_tx, done_rx) = mpsc::channel();
    let test = test_name();
    let worker = thread::Builder::new()
        .name(format!("test-{label}"))
        .spawn(move || {
            TEST_NAME.set(test);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = done_tx.send(result);
        })
        .expect("spawn the test thread");
    match done_rx.recv_timeout(limit) {
        Ok(Ok(value)) => {
            let _ = worker.join();
            value
        }
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("[{label}] the test did not finish within {limit:?}: something hangs"),
    }
}

/// Counts how many of the values it hands out have been dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

/// Bumps its counter when dropped.
pub struct Tracked(Arc<AtomicUsize>);

impl DropCounter {
    pub fn track(&self) -> Tracked {
        Tracked(self.0.clone())
    }

    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sets SO_LINGER to 0: closing the socket then sends a reset (RST) instead of a FIN.
pub fn set_linger_zero(stream: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `setsockopt` reads `size_of::<linger>()` bytes from a pointer to a live,
    // correctly typed `linger`, on a descriptor `stream` owns for the whole call.
    let status = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(status, 0, "setsockopt(SO_LINGER)");
}

/// The variable naming the file in which [`skip`] records each skipped test, one
/// `binary::test<TAB>reason` line each (`.ci/run` sets it to `target/skipped.txt` and
/// counts them in its summary line: a skipped test shows as passed in libtest's own count).
pub const SKIP_LOG_VAR: &str = "ASINCRONO_SKIP_LOG";

/// A test that cannot run (`why`: a tool or a server missing) says so on stderr and returns
/// `None`; under `CI=true` that is a failure instead (a panic), so CI never passes a test it
/// did not run. Written to stderr directly, past the test harness's capture of `eprintln!`,
/// so the note shows in a passing run too; once per reason, not once per test. Each skipped
/// test is also recorded, once, in the file [`SKIP_LOG_VAR`] names, if it is set.
pub fn skip<T>(why: &str) -> Option<T> {
    use std::io::Write;
    static NOTED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let test = format!(
        "{}::{}",
        test_binary(),
        test_name().as_deref().unwrap_or("?")
    );
    let mut noted = NOTED.lock().unwrap_or_else(|poison| poison.into_inner());
    if !noted.iter().any(|(_, seen)| seen == why) {
        let _ = writeln!(std::io::stderr(), "skipped: {why}");
    }
    let under_ci = std::env::var("CI").is_ok_and(|ci| ci == "true");
    let first_for_this_test = !noted.iter().any(|(seen, _)| *seen == test);
    if first_for_this_test && !under_ci {
        record_skip(&test, why);
    }
    noted.push((test, why.to_string()));
    drop(noted);
    if under_ci {
        panic!("under CI=true a test may not skip: {why}");
    }
    None
}

/// Appends `test<TAB>why` to the skip log, if one is named. One `write` call per line on a
/// file opened for appending, so that test binaries running at once do not mix their lines.
fn record_skip(test: &str, why: &str) {
    use std::io::Write;
    let Some(path) = std::env::var_os(SKIP_LOG_VAR) else {
        return;
    };
    let line = format!("{test}\t{}\n", why.replace(['\t', '\n'], " "));
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(err) = written {
        panic!(
            "cannot record the skip in {}: {err}",
            path.to_string_lossy()
        );
    }
}

thread_local! {
    /// The name of the test a [`within`] thread works for (libtest names each test's own
    /// thread after the test; the watchdog's threads carry the name on here).
    static TEST_NAME: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The running test's name: carried by [`within`], or the thread's own name under libtest.
fn test_name() -> Option<String> {
    TEST_NAME
        .with_borrow(Clone::clone)
        .or_else(|| thread::current().name().map(str::to_string))
        .filter(|name| name != "main")
}

/// The test binary's name without cargo's hash: `http` for `target/debug/deps/http-1f2e…`.
fn test_binary() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe.file_stem().unwrap_or_default().to_string_lossy();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
        _ => stem.into_owned(),
    }
}

/// `Some(())` if `tool` is on the PATH; otherwise a [`skip`] naming the Debian `package`
/// that provides it.
pub fn require_tool(tool: &str, package: &str) -> Option<()> {
    if installed(tool) {
        return Some(());
    }
    skip(&format!("{tool} not installed (apt-get install {package})"))
}

/// Whether `tool` is an executable file in one of the `PATH`'s folders. Looked up here
/// rather than by running `which`, which a minimal system may lack and which a process out
/// of file descriptors cannot start: neither means the tool is missing.
pub fn installed(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|folder| {
        std::fs::metadata(folder.join(tool))
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

/// Calls its closure when dropped: to observe, from outside, that a future was dropped.
pub struct OnDrop<F: FnOnce()>(pub Option<F>);

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A `cargo` command in the crate's root, for tests that build and run the examples. The
/// examples are built without the flags that built the test: under scripts/asan.sh the
/// sanitizer flags would reach the proc-macro crate, which cannot load the sanitizer
/// runtime (the script keeps them off it with `--target`).
pub fn cargo() -> std::process::Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = std::process::Command::new(cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTDOCFLAGS");
    command
}
