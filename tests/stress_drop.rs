//! Dropping a runtime in the middle of everything: 10,000 pending tasks, armed timers, open
//! sockets and a blocking job still running. The drop must return within a second, drop
//! every future, close every file descriptor and end every thread the runtime started.
//!
//! `harness = false` (see Cargo.toml): the test counts the entries of `/proc/self/fd` and
//! `/proc/self/task` before and after, which only means something when no other test runs
//! in the same process. The counts scale with `ASINCRONO_STRESS_SCALE`, like
//! `tests/stress.rs`.

#[path = "common/bare.rs"]
mod bare;
mod common;

use asincrono::io::AsyncReadExt;
use asincrono::net::{TcpListener, TcpStream, UnixStream};
use asincrono::time::{sleep, timeout};
use bare::{BareTest, catching};
use common::{DropCounter, FLAVOURS, TEST_DEADLINE, runtime, within};
use std::future::pending;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// Pending tasks (a third wait forever, a third on an hour-long sleep, a third on an
/// hour-long timeout).
const PENDING_TASKS: usize = 10_000;
/// TCP connections (both ends held by tasks) and Unix socket pairs.
const CONNECTIONS: usize = 50;
/// How long the blocking job still runs once the drop starts.
const BLOCKING_JOB: Duration = Duration::from_millis(100);
/// The most a drop may take.
const DROP_LIMIT: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    bare::main(&[BareTest {
        name: "dropping_a_loaded_runtime_drops_every_future_and_closes_every_fd",
        run: || catching(|| FLAVOURS.map(drop_a_loaded_runtime).join("; ")),
    }])
}

fn scale() -> usize {
    std::env::var("ASINCRONO_STRESS_SCALE")
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|&factor| factor > 0)
        .unwrap_or(1)
}

/// Entries in a `/proc/self` directory (`fd` or `task`).
fn count_entries(dir: &str) -> usize {
    // `read_dir` holds one descriptor of its own while it reads: the same one every time.
    std::fs::read_dir(dir).expect("read /proc").count()
}

/// What the extra descriptors point at, for the failure message.
fn describe_fds() -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .flatten()
        .map(|entry| {
            let target = std::fs::read_link(entry.path())
                .map(|path| path.display().to_string())
                .unwrap_or_else(|_| "?".to_owned());
            format!("{} -> {target}", entry.file_name().to_string_lossy())
        })
        .collect()
}

fn drop_a_loaded_runtime(flavour: &'static str) -> String {
    let pending_tasks = PENDING_TASKS * scale();
    let fds_before = count_entries("/proc/self/fd");
    let fd_list_before = describe_fds();
    let threads_before = count_entries("/proc/self/task");
    let (drop_took, dropped, handed_out) = within(TEST_DEADLINE, flavour, move || {
        let rt = runtime(flavour);
        let drops = DropCounter::default();
        let handed_out = Arc::new(AtomicUsize::new(0));
        let track = || {
            handed_out.fetch_add(1, SeqCst);
            drops.track()
        };
        // Pending tasks, spawned from outside `block_on`.
        for task in 0..pending_tasks {
            let guard = track();
            drop(rt.spawn(async move {
                let _guard = guard;
                match task % 3 {
                    0 => pending::<()>().await,
                    1 => sleep(Duration::from_secs(3600)).await,
                    _ => {
                        let _ = timeout(Duration::from_secs(3600), pending::<()>()).await;
                    }
                }
            }));
        }
        // A blocking job that is running when the drop starts; the task awaiting it. It
        // waits to be told the drop is starting, then works for `BLOCKING_JOB` more: on a
        // slow machine (valgrind) a job timed from its own start could end before the drop.
        let (started_tx, started_rx) = mpsc::channel();
        let (dropping_tx, dropping_rx) = mpsc::channel::<()>();
        let job_guard = track();
        let job = rt.spawn_blocking(move || {
            let _guard = job_guard;
            started_tx.send(()).expect("the test waits");
            let _ = dropping_rx.recv_timeout(TEST_DEADLINE);
            std::thread::sleep(BLOCKING_JOB);
        });
        let guard = track();
        drop(rt.spawn(async move {
            let _guard = guard;
            let _ = job.await;
        }));
        // Sockets: both ends of each connection held by tasks blocked reading them.
        let socket_guards: Vec<_> = (0..CONNECTIONS * 4).map(|_| track()).collect();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("local addr");
            let mut guards = socket_guards.into_iter();
            for _ in 0..CONNECTIONS {
                let client = TcpStream::connect(addr).await.expect("connect");
                let (server, _) = listener.accept().await.expect("accept");
                let (unix_a, unix_b) = UnixStream::pair().expect("socketpair");
                for mut stream in [client, server] {
                    let guard = guards.next().expect("enough guards");
                    asincrono::spawn(async move {
                        let _guard = guard;
                        let _ = stream.read(&mut [0; 8]).await;
                    });
                }
                for mut stream in [unix_a, unix_b] {
                    let guard = guards.next().expect("enough guards");
                    asincrono::spawn(async move {
                        let _guard = guard;
                        let _ = stream.read(&mut [0; 8]).await;
                    });
                }
            }
            // The listener stays open too, in a task waiting for a connection.
            asincrono::spawn(async move {
                let _ = listener.accept().await;
            });
            // Let every task start and park (the pending ones spawned from outside included).
            sleep(Duration::from_millis(20)).await;
        });
        started_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the blocking job starts");
        assert_eq!(drops.dropped(), 0, "nothing is dropped before the runtime");
        dropping_tx
            .send(())
            .expect("the blocking job waits for this");
        let dropping = Instant::now();
        drop(rt);
        let took = dropping.elapsed();
        (took, drops.dropped(), handed_out.load(SeqCst))
    });

    assert!(
        drop_took < DROP_LIMIT,
        "[{flavour}] the drop took {drop_took:?}"
    );
    assert_eq!(
        dropped, handed_out,
        "[{flavour}] every future and the blocking closure are dropped"
    );
    let fds_after = count_entries("/proc/self/fd");
    assert_eq!(
        fds_after,
        fds_before,
        "[{flavour}] descriptors left open\nbefore: {fd_list_before:?}\nafter: {:?}",
        describe_fds()
    );
    // Threads end just after they say they have (joined workers are gone at once; blocking
    // pool threads signal their exit a moment before it happens): give them a little time.
    let waiting = Instant::now();
    let mut threads_after = count_entries("/proc/self/task");
    while threads_after > threads_before && waiting.elapsed() < DROP_LIMIT {
        std::thread::sleep(Duration::from_millis(5));
        threads_after = count_entries("/proc/self/task");
    }
    assert_eq!(
        threads_after, threads_before,
        "[{flavour}] threads left running after the drop"
    );
    format!(
        "{flavour}: {handed_out} futures dropped, drop took {drop_took:.1?}, \
         {fds_before} fds before and after"
    )
}
