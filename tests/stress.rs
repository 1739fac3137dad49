//! Stress and fault tests: many tasks, many wake-ups from foreign threads, a runtime that
//! goes idle thousands of times, panics, destructors that wake or spawn during shutdown,
//! connections reset mid-read, and a storm of timers.
//!
//! Every test is bounded by a watchdog ([`common::within`]): a lost wake-up shows up as a
//! failed test naming the round, not as a CI job that hangs. The counts here are sized for a
//! debug build on two cores (the whole file takes a few seconds); `scripts/soak.sh` runs the
//! same tests in release with `ASINCRONO_STRESS_SCALE=10`, which multiplies every count (and
//! the watchdog) by ten. Each test prints its counts and timings: run with `--nocapture`.
//!
//! Two more stress checks need a process of their own, because they count file descriptors
//! or lower the descriptor limit: `tests/stress_drop.rs` and `tests/accept_emfile.rs`.

mod common;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::TcpListener;
use asincrono::sync::Notify;
use asincrono::task::{JoinHandle, yield_now};
use asincrono::time::{sleep, timeout};
use common::{DropCounter, FLAVOURS, TEST_DEADLINE, runtime, within};
use std::future::{Future, pending, poll_fn};
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once, mpsc};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Scale, watchdog and reporting.

/// The factor `ASINCRONO_STRESS_SCALE` sets (1 when unset): every count is multiplied by it.
fn scale() -> usize {
    std::env::var("ASINCRONO_STRESS_SCALE")
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|&factor| factor > 0)
        .unwrap_or(1)
}

/// `count` times the scale factor.
fn scaled(count: usize) -> usize {
    count * scale()
}

/// The watchdog for one flavour of one test: the common deadline, times the scale factor.
fn deadline() -> Duration {
    TEST_DEADLINE * scale() as u32
}

/// Runs `body` on a fresh runtime of each flavour under the (scaled) watchdog, and prints
/// how long each took.
fn on_each_flavour_timed<F, Fut>(name: &'static str, body: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    let body = Arc::new(body);
    for flavour in FLAVOURS {
        let body = body.clone();
        let started = Instant::now();
        within(deadline(), flavour, move || {
            runtime(flavour).block_on(body())
        });
        println!("{name} [{flavour}]: {:.2?}", started.elapsed());
    }
}

/// Runs `work(flavour)` for each flavour under the (scaled) watchdog, and prints how long each
/// took. For tests that drive the runtime from outside (`Runtime::spawn`, drop).
fn for_each_flavour_timed(name: &'static str, work: fn(&'static str)) {
    for flavour in FLAVOURS {
        let started = Instant::now();
        within(deadline(), flavour, move || work(flavour));
        println!("{name} [{flavour}]: {:.2?}", started.elapsed());
    }
}

/// A small deterministic random generator (xorshift64*), so that a failing run can be
/// replayed: the seed is printed.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Random {
        Random(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

// ---------------------------------------------------------------------------------------
// Many spawns.

/// Tasks spawned per flavour (half from `block_on`'s future, half from inside tasks).
const SPAWNS: usize = 100_000;

#[test]
fn a_hundred_thousand_spawns_each_hand_back_their_output_exactly_once() {
    let count = scaled(SPAWNS);
    on_each_flavour_timed("spawns", move || async move {
        let runs = Arc::new(AtomicUsize::new(0));
        let task = |index: usize, runs: Arc<AtomicUsize>| async move {
            runs.fetch_add(1, SeqCst);
            index
        };
        // The first half from outside any task (on a multi-thread runtime: the injector).
        let outside: Vec<JoinHandle<usize>> = (0..count / 2)
            .map(|index| asincrono::spawn(task(index, runs.clone())))
            .collect();
        // The second half from inside ten spawner tasks (a worker's local queue, LIFO slot).
        const SPAWNERS: usize = 10;
        let per_spawner = (count - count / 2).div_ceil(SPAWNERS);
        let spawners: Vec<JoinHandle<Vec<usize>>> = (0..SPAWNERS)
            .map(|spawner| {
                let runs = runs.clone();
                asincrono::spawn(async move {
                    let first = count / 2 + spawner * per_spawner;
                    let last = (first + per_spawner).min(count);
                    let children: Vec<_> = (first..last)
                        .map(|index| asincrono::spawn(task(index, runs.clone())))
                        .collect();
                    let mut outputs = Vec::with_capacity(children.len());
                    for child in children {
                        outputs.push(child.await.expect("no task panics"));
                    }
                    outputs
                })
            })
            .collect();
        let mut seen = vec![false; count];
        let mut mark = |index: usize| {
            assert!(!seen[index], "output {index} arrived twice");
            seen[index] = true;
        };
        for handle in outside {
            mark(handle.await.expect("no task panics"));
        }
        for spawner in spawners {
            spawner
                .await
                .expect("no spawner panics")
                .into_iter()
                .for_each(&mut mark);
        }
        let missing = seen.iter().filter(|arrived| !**arrived).count();
        assert_eq!(missing, 0, "outputs that never arrived");
        assert_eq!(runs.load(SeqCst), count, "every task ran exactly once");
    });
}

// ---------------------------------------------------------------------------------------
// Cross-thread wakes.

/// A hand-written bell a foreign thread rings and a task waits on: the smallest future that
/// depends on a wake from another thread.
#[derive(Default)]
struct Doorbell {
    /// Rings the waiting task has not seen yet.
    rings: AtomicUsize,
    /// The waiting task's waker, stored at every poll.
    waker: Mutex<Option<Waker>>,
}

impl Doorbell {
    fn ring(&self) {
        self.rings.fetch_add(1, SeqCst);
        // Taken after the count is raised: a poll that stored its waker before our increment
        // either sees the increment or is woken here.
        let waker = self.waker.lock().unwrap().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Waits for at least one ring; returns how many arrived since the last wait.
    async fn wait(&self) -> usize {
        poll_fn(|cx| {
            // The waker is stored *before* the count is read: a ring after the read finds it.
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            match self.rings.swap(0, SeqCst) {
                0 => Poll::Pending,
                seen => Poll::Ready(seen),
            }
        })
        .await
    }
}

/// Wakes sent per flavour in the ping-pong test, over [`WAKER_THREADS`] threads.
const PING_PONG_WAKES: usize = 100_000;
/// Foreign threads (and as many tasks) in the cross-thread tests.
const WAKER_THREADS: usize = 4;
/// How long one wake may take to be seen before it counts as lost.
const WAKE_LIMIT: Duration = Duration::from_secs(5);

#[test]
fn wakes_from_foreign_threads_are_never_lost_one_at_a_time() {
    // Each foreign thread wakes its task and waits for the task to answer before it wakes it
    // again, so every single wake must get through: a lost one stalls that pair, which the
    // thread reports with the number of the wake. Half the pairs use the hand-written
    // doorbell, half `sync::Notify`.
    for_each_flavour_timed("ping-pong wakes", |flavour| {
        let per_thread = scaled(PING_PONG_WAKES) / WAKER_THREADS;
        let rt = runtime(flavour);
        let bells: Vec<Arc<Doorbell>> = (0..WAKER_THREADS).map(|_| Arc::default()).collect();
        let notifies: Vec<Arc<Notify>> = (0..WAKER_THREADS).map(|_| Arc::default()).collect();
        let received = Arc::new(AtomicUsize::new(0));
        thread::scope(|scope| {
            let mut answers = Vec::new();
            for pair in 0..WAKER_THREADS {
                let (answer_tx, answer_rx) = mpsc::channel::<()>();
                answers.push(answer_tx);
                let bell = bells[pair].clone();
                let notify = notifies[pair].clone();
                scope.spawn(move || {
                    for wake in 0..per_thread {
                        if pair % 2 == 0 {
                            bell.ring();
                        } else {
                            notify.notify_one();
                        }
                        if answer_rx.recv_timeout(WAKE_LIMIT).is_err() {
                            panic!("[{flavour}] pair {pair}: wake {wake} was lost");
                        }
                    }
                });
            }
            rt.block_on(async {
                let tasks: Vec<_> = answers
                    .into_iter()
                    .enumerate()
                    .map(|(pair, answer)| {
                        let bell = bells[pair].clone();
                        let notify = notifies[pair].clone();
                        let received = received.clone();
                        asincrono::spawn(async move {
                            for _ in 0..per_thread {
                                if pair % 2 == 0 {
                                    assert_eq!(bell.wait().await, 1, "one ring at a time");
                                } else {
                                    notify.notified().await;
                                }
                                received.fetch_add(1, SeqCst);
                                answer.send(()).expect("the thread waits for the answer");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("no task panics");
                }
            });
        });
        assert_eq!(received.load(SeqCst), per_thread * WAKER_THREADS);
        println!("  {} wakes sent and received", per_thread * WAKER_THREADS);
    });
}

/// Rings per flavour in the flood test.
const FLOOD_WAKES: usize = 100_000;

#[test]
fn a_flood_of_wakes_from_foreign_threads_ends_with_every_ring_seen() {
    // The threads ring as fast as they can without waiting for an answer, so wakes coalesce;
    // the task counts the rings it sees and stops when it has them all. If the last wake of a
    // burst were lost, the task would sleep with rings pending until the watchdog fires.
    for_each_flavour_timed("wake flood", |flavour| {
        let per_thread = scaled(FLOOD_WAKES) / WAKER_THREADS;
        let total = per_thread * WAKER_THREADS;
        let rt = runtime(flavour);
        let bell = Arc::new(Doorbell::default());
        let wakes_seen = Arc::new(AtomicUsize::new(0));
        thread::scope(|scope| {
            for _ in 0..WAKER_THREADS {
                let bell = bell.clone();
                scope.spawn(move || {
                    for ring in 0..per_thread {
                        bell.ring();
                        if ring % 1024 == 0 {
                            thread::yield_now(); // let the task sleep now and then
                        }
                    }
                });
            }
            let bell = bell.clone();
            let wakes_seen = wakes_seen.clone();
            let seen = rt.block_on(async move {
                asincrono::spawn(async move {
                    let mut seen = 0;
                    while seen < total {
                        seen += bell.wait().await;
                        wakes_seen.fetch_add(1, SeqCst);
                    }
                    seen
                })
                .await
                .expect("no panic")
            });
            assert_eq!(seen, total, "every ring counted once");
        });
        println!(
            "  {total} rings sent, seen in {} wake-ups",
            wakes_seen.load(SeqCst)
        );
    });
}

// ---------------------------------------------------------------------------------------
// Idle, then a spawn from outside.

/// Rounds per flavour.
const IDLE_ROUNDS: usize = 10_000;

#[test]
fn a_spawn_from_outside_always_wakes_an_idle_runtime() {
    // The lost-wake-up window of both schedulers: every worker finds nothing to do and heads
    // for sleep while the test thread spawns a task. On even rounds the test thread first
    // sleeps a little, so the workers are surely asleep (in epoll_wait or on a condvar); on odd
    // rounds it spawns at once, racing them on their way to sleep. A lost wake-up leaves the
    // task unrun: the round fails after WAKE_LIMIT.
    for_each_flavour_timed("idle then spawn", |flavour| {
        let rounds = scaled(IDLE_ROUNDS);
        let rt = Arc::new(runtime(flavour));
        // A current-thread runtime runs tasks only inside `block_on`: give it a thread that
        // sits there for the whole test. A multi-thread runtime has its workers.
        let stop = Arc::new(Notify::new());
        let sitter = (flavour == "current_thread").then(|| {
            let (rt, stop) = (rt.clone(), stop.clone());
            thread::spawn(move || rt.block_on(stop.notified()))
        });
        for round in 0..rounds {
            if round % 2 == 0 {
                thread::sleep(Duration::from_micros(50));
            }
            let (done_tx, done_rx) = mpsc::channel();
            let handle = rt.spawn(async move {
                let _ = done_tx.send(round);
            });
            if flavour == "multi_thread" && round % 4 == 1 {
                // The other way to wait: `block_on` of the handle on the test thread.
                rt.block_on(handle).expect("no panic");
                assert_eq!(done_rx.try_recv(), Ok(round));
            } else {
                match done_rx.recv_timeout(WAKE_LIMIT) {
                    Ok(seen) => assert_eq!(seen, round),
                    Err(_) => panic!("[{flavour}] round {round}: the spawned task never ran"),
                }
            }
        }
        stop.notify_one();
        if let Some(sitter) = sitter {
            sitter.join().expect("the block_on thread returns");
        }
        println!("  {rounds} rounds");
    });
}

// ---------------------------------------------------------------------------------------
// Panics.

/// The message of the panics these tests cause on purpose.
const PLANNED_PANIC: &str = "stress: a planned panic";

/// Installs, once per process, a panic hook that keeps quiet about [`PLANNED_PANIC`] and hands
/// every other panic to the hook that was there before (other tests run in this process).
fn silence_planned_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
            if message != Some(PLANNED_PANIC) {
                previous(info);
            }
        }));
    });
}

/// Tasks per flavour; one in [`PANIC_EVERY`] panics.
const PANIC_TASKS: usize = 100_000;
const PANIC_EVERY: usize = 1_000;

#[test]
fn one_task_in_a_thousand_panics_and_all_the_others_finish() {
    silence_planned_panics();
    let count = scaled(PANIC_TASKS);
    on_each_flavour_timed("panics", move || async move {
        let handles: Vec<_> = (0..count)
            .map(|index| {
                asincrono::spawn(async move {
                    yield_now().await; // panic on a later poll, not the first
                    if index % PANIC_EVERY == PANIC_EVERY - 1 {
                        std::panic::panic_any(PLANNED_PANIC);
                    }
                    index
                })
            })
            .collect();
        let (mut panicked, mut finished, mut sum) = (0, 0, 0);
        for (index, handle) in handles.into_iter().enumerate() {
            match handle.await {
                Ok(output) => {
                    assert_eq!(output, index);
                    finished += 1;
                    sum += output;
                }
                Err(err) => {
                    assert!(err.is_panic(), "task {index}: {err}");
                    assert_eq!(
                        index % PANIC_EVERY,
                        PANIC_EVERY - 1,
                        "task {index} panicked"
                    );
                    panicked += 1;
                }
            }
        }
        let expected_panics = count / PANIC_EVERY;
        assert_eq!(panicked, expected_panics);
        assert_eq!(finished, count - expected_panics);
        let all: usize = (0..count).sum();
        let doomed: usize = (0..count)
            .filter(|index| index % PANIC_EVERY == PANIC_EVERY - 1)
            .sum();
        assert_eq!(sum, all - doomed);
        // And the runtime still runs tasks.
        assert_eq!(asincrono::spawn(async { 1 }).await.expect("no panic"), 1);
    });
}

// ---------------------------------------------------------------------------------------
// Destructors during shutdown.

/// Wakes the waker in its slot when dropped.
struct WakeOnDrop(Arc<Mutex<Option<Waker>>>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        let waker = self.0.lock().unwrap().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Spawns a task holding a tracked value when dropped (during shutdown, that task must be
/// dropped too, not leaked); counts the values it hands out.
struct SpawnOnDrop {
    drops: DropCounter,
    handed_out: Arc<AtomicUsize>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let guard = self.drops.track();
        self.handed_out.fetch_add(1, SeqCst);
        drop(asincrono::spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        }));
    }
}

/// Runtimes built and dropped per flavour, and tasks in each.
const SHUTDOWN_ROUNDS: usize = 50;
const SHUTDOWN_TASKS: usize = 500;

#[test]
fn destructors_that_wake_spawn_or_abort_do_not_deadlock_the_runtime_drop() {
    // Each task's future holds: a guard that wakes its neighbour (a task that may be parked,
    // queued, being dropped or gone), a guard that spawns a new task, and the JoinHandle of
    // its other neighbour, aborted when dropped. Some tasks are parked, some woken (queued)
    // just before the drop, and some spawned too late to be polled at all. The drop must
    // return, and every future (the late spawns included) must be dropped.
    for_each_flavour_timed("destructors at shutdown", |flavour| {
        for _ in 0..scaled(SHUTDOWN_ROUNDS) {
            let rt = runtime(flavour);
            let drops = DropCounter::default();
            let handed_out = Arc::new(AtomicUsize::new(0));
            let slots: Vec<Arc<Mutex<Option<Waker>>>> =
                (0..SHUTDOWN_TASKS).map(|_| Arc::default()).collect();
            let parked = Arc::new(AtomicUsize::new(0));
            let mut previous: Option<JoinHandle<()>> = None;
            for task in 0..SHUTDOWN_TASKS {
                let my_slot = slots[task].clone();
                let wake_neighbour = WakeOnDrop(slots[(task + 1) % SHUTDOWN_TASKS].clone());
                let spawn_on_drop = SpawnOnDrop {
                    drops: drops.clone(),
                    handed_out: handed_out.clone(),
                };
                let abort_neighbour = previous.take().map(AbortOnDrop);
                let guard = drops.track();
                handed_out.fetch_add(1, SeqCst);
                let parked = parked.clone();
                let handle = rt.spawn(async move {
                    let _held = (guard, wake_neighbour, spawn_on_drop, abort_neighbour);
                    let mut counted = false;
                    poll_fn(|cx| {
                        *my_slot.lock().unwrap() = Some(cx.waker().clone());
                        if !counted {
                            counted = true;
                            parked.fetch_add(1, SeqCst);
                        }
                        Poll::<()>::Pending
                    })
                    .await;
                });
                previous = Some(handle);
            }
            drop(previous);
            // Let every task run once and park.
            rt.block_on(async {
                while parked.load(SeqCst) < SHUTDOWN_TASKS {
                    yield_now().await;
                }
            });
            // Queue some of them again, and add tasks that will never be polled (on a
            // current-thread runtime; on a multi-thread one they race the drop).
            for slot in slots.iter().step_by(3) {
                if let Some(waker) = slot.lock().unwrap().take() {
                    waker.wake();
                }
            }
            for _ in 0..SHUTDOWN_TASKS / 10 {
                let guard = drops.track();
                handed_out.fetch_add(1, SeqCst);
                drop(rt.spawn(async move {
                    let _guard = guard;
                    pending::<()>().await;
                }));
            }
            drop(rt); // must return: the watchdog fails the test otherwise
            assert_eq!(
                drops.dropped(),
                handed_out.load(SeqCst),
                "[{flavour}] every future, the ones spawned during shutdown too, is dropped"
            );
        }
        println!(
            "  {} runtimes of {SHUTDOWN_TASKS} tasks dropped",
            scaled(SHUTDOWN_ROUNDS)
        );
    });
}

/// Aborts the task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

// ---------------------------------------------------------------------------------------
// A peer that resets mid-read.

/// Connections per flavour.
const RESET_CONNECTIONS: usize = 50;
/// Bytes each client sends before it resets.
const BEFORE_RESET: usize = 50;

#[test]
fn peers_that_reset_mid_read_give_connection_reset_errors_not_panics() {
    // Each server task reads what its client sent, tells the client thread so, and reads
    // again: it is parked in that read (or about to be) when the client closes with SO_LINGER
    // 0, which sends a reset. The read must fail with ConnectionReset, and a write after it
    // must fail too (BrokenPipe or ConnectionReset), without a panic or a SIGPIPE.
    on_each_flavour_timed("reset mid-read", || async {
        // Two descriptors per connection in this process: capped to stay under a 1024 limit.
        let connections = scaled(RESET_CONNECTIONS).min(400);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (read_tx, read_rx) = mpsc::channel::<()>();
        let clients = thread::spawn(move || {
            let streams: Vec<std::net::TcpStream> = (0..connections)
                .map(|_| {
                    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
                    common::set_linger_zero(&stream);
                    stream.write_all(&[7; BEFORE_RESET]).expect("send");
                    stream
                })
                .collect();
            for _ in 0..connections {
                read_rx
                    .recv_timeout(WAKE_LIMIT)
                    .expect("every server task reads its bytes");
            }
            drop(streams); // a reset on every connection
        });
        let mut servers = Vec::new();
        for _ in 0..connections {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let read_tx = read_tx.clone();
            servers.push(asincrono::spawn(async move {
                let mut received = [0; BEFORE_RESET];
                stream
                    .read_exact(&mut received)
                    .await
                    .expect("the bytes sent");
                read_tx.send(()).expect("the client thread waits");
                let mut more = [0; 16];
                let read_err = stream
                    .read(&mut more)
                    .await
                    .expect_err("the peer reset instead of sending more");
                let write_err = stream
                    .write_all(b"too late")
                    .await
                    .expect_err("writing to a reset connection fails");
                (read_err.kind(), write_err.kind())
            }));
        }
        for server in servers {
            let (read_err, write_err) = server.await.expect("no server task panics");
            assert_eq!(read_err, ErrorKind::ConnectionReset);
            assert!(
                matches!(
                    write_err,
                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                ),
                "write after reset: {write_err:?}"
            );
        }
        clients.join().expect("the client thread finishes");
    });
}

// ---------------------------------------------------------------------------------------
// A timer storm.

/// Sleeps per flavour, of 0 to [`STORM_MAX_MS`] ms; one in [`STORM_CANCEL_EVERY`] more is
/// cancelled (half by `timeout`, half by `abort`).
const STORM_SLEEPS: usize = 100_000;
const STORM_MAX_MS: u64 = 20;
const STORM_CANCEL_EVERY: usize = 10;
/// Timers spawned between two rounds of aborts.
const ABORT_BATCH: usize = 1_000;

/// What one timer of the storm reported.
enum Outcome {
    /// A plain sleep finished; how late after its deadline (`None`: it fired early).
    Slept(Option<Duration>),
    /// A `timeout` around a far longer sleep elapsed; as above for the timeout's deadline.
    TimedOut(Option<Duration>),
}

#[test]
fn a_storm_of_timers_fires_none_early_and_loses_none() {
    on_each_flavour_timed("timer storm", || async {
        let count = scaled(STORM_SLEEPS);
        let seed = 0x5eed_0000 + count as u64;
        let mut random = Random::new(seed);
        let fired_after_abort = Arc::new(AtomicUsize::new(0));
        let mut timers = Vec::with_capacity(count);
        let mut aborted = Vec::new();
        let mut aborted_so_far = 0;
        for index in 0..count {
            let wait = Duration::from_micros(random.below(STORM_MAX_MS * 1_000 + 1));
            match index % STORM_CANCEL_EVERY {
                0 => {
                    // Cancelled by `timeout`: the inner sleep would take an hour longer.
                    // (With a second, a slow run could see both ready at the same poll, and
                    // the inner future, polled first, wins: valgrind did.)
                    timers.push(asincrono::spawn(async move {
                        let deadline = Instant::now() + wait;
                        let result = timeout(wait, sleep(wait + Duration::from_secs(3600))).await;
                        assert!(result.is_err(), "the timeout elapsed first");
                        Outcome::TimedOut(Instant::now().checked_duration_since(deadline))
                    }));
                }
                1 => {
                    // Cancelled by `abort` (below, in batches), long before it could fire.
                    let fired = fired_after_abort.clone();
                    aborted.push(asincrono::spawn(async move {
                        sleep(Duration::from_millis(500) + wait).await;
                        fired.fetch_add(1, SeqCst);
                    }));
                }
                _ => timers.push(asincrono::spawn(async move {
                    let deadline = Instant::now() + wait;
                    sleep(wait).await;
                    Outcome::Slept(Instant::now().checked_duration_since(deadline))
                })),
            }
            if index % ABORT_BATCH == ABORT_BATCH - 1 || index == count - 1 {
                // Abort the batch spawned since the last one, a few ms at most after their
                // spawn (spawning all of them first would take longer than their sleeps at
                // full scale). Yield first, so that they have run and armed their timers.
                yield_now().await;
                for handle in &aborted[aborted_so_far..] {
                    handle.abort();
                }
                aborted_so_far = aborted.len();
            }
        }
        let (mut slept, mut timed_out, mut early, mut latest) = (0, 0, 0, Duration::ZERO);
        for timer in timers {
            let lateness = match timer.await.expect("no timer task panics") {
                Outcome::Slept(lateness) => {
                    slept += 1;
                    lateness
                }
                Outcome::TimedOut(lateness) => {
                    timed_out += 1;
                    lateness
                }
            };
            match lateness {
                Some(late) => latest = latest.max(late),
                None => early += 1,
            }
        }
        let cancelled = aborted.len();
        for handle in aborted {
            let err = handle.await.expect_err("aborted");
            assert!(err.is_cancelled(), "{err}");
        }
        assert_eq!(
            early, 0,
            "timers that fired before their deadline (seed {seed})"
        );
        assert_eq!(fired_after_abort.load(SeqCst), 0, "an aborted sleep fired");
        assert_eq!(
            slept + timed_out + cancelled,
            count,
            "every timer accounted for"
        );
        println!("  {slept} sleeps and {timed_out} timeouts, none early, latest {latest:.2?}");
    });
}

/// Rounds per flavour of the earlier-timer test.
const EARLIER_TIMER_ROUNDS: usize = 200;

#[test]
fn an_earlier_timer_from_another_thread_cuts_a_long_driver_wait_short() {
    // A task sleeps for an hour, so the thread parked in the driver waits in epoll_wait with
    // an hour-long timeout. Then the test thread, which is not a worker, sleeps a few ms in
    // `block_on`: its timer is earlier than the one the driver waits for, so the driver must
    // be woken to wait less (tokio #3190 hung here). Each round is bounded: a missed wake-up
    // shows as a sleep that took seconds instead of milliseconds.
    for_each_flavour_timed("earlier timer", |flavour| {
        let rounds = scaled(EARLIER_TIMER_ROUNDS);
        let rt = runtime(flavour);
        let _long = rt.spawn(sleep(Duration::from_secs(3600)));
        let mut random = Random::new(0xea51e5);
        let mut latest = Duration::ZERO;
        for round in 0..rounds {
            let wait = Duration::from_micros(random.below(3_000));
            // Let the workers settle into the driver (and on condvars) first, now and then.
            if round % 2 == 0 {
                thread::sleep(Duration::from_micros(200));
            }
            let started = Instant::now();
            rt.block_on(sleep(wait));
            let took = started.elapsed();
            assert!(took >= wait, "[{flavour}] round {round}: woke early");
            assert!(
                took < wait + Duration::from_secs(1),
                "[{flavour}] round {round}: a {wait:?} sleep took {took:?}"
            );
            latest = latest.max(took - wait);
        }
        println!("  {rounds} rounds, latest {latest:.2?}");
    });
}

// ---------------------------------------------------------------------------------------
// Runtimes dropped where no runtime expects to be: in a thread-local's destructor.

/// Threads per flavour, each of which leaves a busy runtime to its thread-locals.
const THREAD_LOCAL_DROPS: usize = 200;

thread_local! {
    /// Dropped when its thread exits, after the runtime's own thread-locals may be gone.
    static LEFT_BEHIND: std::cell::RefCell<Option<asincrono::Runtime>> =
        const { std::cell::RefCell::new(None) };
}

#[test]
fn runtimes_dropped_by_thread_local_destructors_drop_every_task_and_never_abort() {
    // tokio's tests found that a runtime dropped from a thread-local destructor aborted the
    // process: shutdown reached for the context, budget and deferred-wake thread-locals,
    // which are destroyed by then. The regression test in tests/runtime.rs drops one such
    // runtime; this one drops hundreds, each with pending tasks, armed timers, a finished
    // blocking job and an open listener, so that every shutdown path runs from there.
    for_each_flavour_timed("thread-local drops", |flavour| {
        let threads = scaled(THREAD_LOCAL_DROPS);
        let tasks_per_runtime = 8;
        let (dropped_tx, dropped_rx) = mpsc::channel::<()>();
        for round in 0..threads {
            let dropped_tx = dropped_tx.clone();
            let (built_tx, built_rx) = mpsc::channel();
            let thread = thread::spawn(move || {
                let rt = runtime(flavour);
                for task in 0..tasks_per_runtime {
                    let dropped_tx = dropped_tx.clone();
                    let report = common::OnDrop(Some(move || {
                        let _ = dropped_tx.send(());
                    }));
                    rt.spawn(async move {
                        let _report = report;
                        if task % 2 == 0 {
                            sleep(Duration::from_secs(3600)).await;
                        } else {
                            pending::<()>().await;
                        }
                    });
                }
                let listener = rt
                    .block_on(async {
                        asincrono::task::spawn_blocking(|| ()).await.unwrap();
                        TcpListener::bind("127.0.0.1:0").await
                    })
                    .expect("bind");
                rt.spawn(async move {
                    let _ = listener.accept().await;
                });
                LEFT_BEHIND.with(|left| *left.borrow_mut() = Some(rt));
                built_tx.send(()).unwrap();
            });
            built_rx.recv().expect("the runtime was built");
            thread
                .join()
                .unwrap_or_else(|_| panic!("[{flavour}] round {round}: the thread panicked"));
        }
        // Each thread's exit dropped its runtime, and with it every task's future.
        drop(dropped_tx);
        for task in 0..threads * tasks_per_runtime {
            dropped_rx
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("[{flavour}] only {task} task futures were dropped"));
        }
        println!("  {threads} runtimes dropped from thread-local destructors");
    });
}

// ---------------------------------------------------------------------------------------
// Two threads in `block_on` of one runtime.

/// Round trips per flavour between the two `block_on` threads.
const TWO_BLOCK_ON_ROUNDS: usize = 2_000;

#[test]
fn two_threads_in_block_on_of_one_runtime_pass_every_message_and_both_return() {
    // On a current-thread runtime only one `block_on` at a time holds the core (the task
    // queue and the driver); the other polls its own future and must take the core over
    // when the first returns, or the tasks and timers only it could drive stall. Here each
    // thread enters and leaves `block_on` once per round, so the core changes hands
    // thousands of times, with a spawned task and a timer on the path of every message.
    for_each_flavour_timed("two block_on threads", |flavour| {
        let rounds = scaled(TWO_BLOCK_ON_ROUNDS);
        let rt = Arc::new(runtime(flavour));
        let (ping_tx, mut ping_rx) = asincrono::sync::mpsc::unbounded_channel::<usize>();
        let (pong_tx, mut pong_rx) = asincrono::sync::mpsc::unbounded_channel::<usize>();
        let asker = {
            let rt = rt.clone();
            thread::spawn(move || {
                for round in 0..rounds {
                    let answer = rt.block_on(async {
                        ping_tx.send(round).unwrap();
                        pong_rx.recv().await
                    });
                    assert_eq!(answer, Some(round), "[{flavour}] round {round}");
                }
            })
        };
        let answerer = {
            let rt = rt.clone();
            thread::spawn(move || {
                let mut random = Random::new(0xb10c_0e0e);
                for round in 0..rounds {
                    let wait = Duration::from_micros(random.below(50));
                    rt.block_on(async {
                        let asked = ping_rx.recv().await.expect("the asker is alive");
                        assert_eq!(asked, round, "[{flavour}] round {round}");
                        // The answer goes out from a spawned task after a timer: whichever
                        // thread holds the core must run it, and drive the timer.
                        let pong_tx = pong_tx.clone();
                        asincrono::spawn(async move {
                            sleep(wait).await;
                            pong_tx.send(asked).unwrap();
                        });
                    });
                }
            })
        };
        asker.join().expect("the asking thread");
        answerer.join().expect("the answering thread");
        println!("  {rounds} round trips between two block_on threads");
    });
}
