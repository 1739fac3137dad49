//! Tasks: spawn and join, panics, abort, detaching, waking from other threads, and what
//! happens to tasks when the runtime is dropped.

mod common;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::{TcpListener, UnixStream};
use asincrono::task::{JoinHandle, yield_now};
use asincrono::time::sleep;
use common::{
    DropCounter, FLAVOURS, TEST_DEADLINE, on_each_flavour, on_each_flavour_one_thread, runtime,
    within,
};
use std::future::{Future, pending, poll_fn};
use std::io::Read;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

const FOREVER: Duration = Duration::from_secs(3600);

#[test]
fn spawned_tasks_run_and_hand_back_their_output() {
    on_each_flavour(|| async {
        let handles: Vec<JoinHandle<u64>> = (0..100)
            .map(|i| asincrono::spawn(async move { i * 2 }))
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("no task panics");
        }
        assert_eq!(sum, 2 * (0..100).sum::<u64>());
    });
}

#[test]
fn tasks_spawned_before_block_on_run_inside_it() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let handle = rt.spawn(async { "ran" });
            assert_eq!(rt.block_on(handle).expect("no panic"), "ran");
        });
    }
}

#[test]
fn a_panicking_task_becomes_a_join_error_and_the_others_carry_on() {
    on_each_flavour(|| async {
        let doomed = asincrono::spawn(async { panic!("failing on purpose") });
        let healthy = asincrono::spawn(async {
            yield_now().await;
            7
        });
        let err = doomed.await.expect_err("the task panicked");
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert!(
            err.to_string().contains("failing on purpose"),
            "message: {err}"
        );
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"failing on purpose"));
        assert_eq!(healthy.await.expect("no panic"), 7);
    });
}

#[test]
fn abort_drops_a_waiting_task_and_reports_it_cancelled() {
    on_each_flavour(|| async {
        let drops = DropCounter::default();
        let guard = drops.track();
        let waiting = asincrono::spawn(async move {
            let _guard = guard;
            sleep(FOREVER).await;
        });
        yield_now().await; // let it start and park on its timer
        assert!(!waiting.is_finished());
        waiting.abort();
        let err = (&mut { waiting }).await.expect_err("aborted");
        assert!(err.is_cancelled() && !err.is_panic(), "{err}");
        assert_eq!(drops.dropped(), 1, "the future is dropped");
    });
}

#[test]
fn a_task_aborted_before_its_first_poll_is_never_polled() {
    // The spawning code runs as a task on the one thread that runs tasks, so the new task
    // waits in that thread's queue until the spawner yields. (From `block_on`'s thread on a
    // multi-thread runtime, a worker could pick the new task up at once, before `abort`.)
    on_each_flavour_one_thread(|| async {
        let spawner = asincrono::spawn(async {
            let polled = Arc::new(AtomicBool::new(false));
            let flag = polled.clone();
            let handle = asincrono::spawn(async move { flag.store(true, Ordering::SeqCst) });
            handle.abort(); // still in the run queue: we have not yielded yet
            assert!(handle.await.expect_err("aborted").is_cancelled());
            assert!(!polled.load(Ordering::SeqCst));
        });
        spawner.await.expect("the assertions hold");
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    on_each_flavour(|| async {
        let handle = asincrono::spawn(async { 5 });
        while !handle.is_finished() {
            yield_now().await;
        }
        handle.abort();
        assert_eq!(handle.await.expect("finished before the abort"), 5);
    });
}

#[test]
fn dropping_the_join_handle_detaches_the_task_which_keeps_running() {
    on_each_flavour(|| async {
        let (mut to_main, mut from_task) = UnixStream::pair().expect("socketpair");
        let handle = asincrono::spawn(async move {
            sleep(Duration::from_millis(10)).await;
            to_main.write_all(b"still alive").await.expect("write");
        });
        drop(handle);
        let mut message = String::new();
        from_task.read_to_string(&mut message).await.expect("read");
        assert_eq!(message, "still alive");
    });
}

#[test]
fn the_output_of_a_detached_task_is_dropped_once_it_finishes() {
    on_each_flavour(|| async {
        let drops = DropCounter::default();
        let output = drops.track();
        let handle = asincrono::spawn(async move { output });
        while !handle.is_finished() {
            yield_now().await;
        }
        assert_eq!(
            drops.dropped(),
            0,
            "the output waits in the task for its handle"
        );
        drop(handle);
        assert_eq!(drops.dropped(), 1, "dropping the handle drops the output");
    });
}

/// An output whose destructor panics.
struct PanicsOnDrop;
impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("an output destructor panicked");
    }
}

#[test]
fn a_panicking_output_destructor_does_not_escape_the_join_handle_drop() {
    on_each_flavour(|| async {
        let handle = asincrono::spawn(async { PanicsOnDrop });
        while !handle.is_finished() {
            yield_now().await;
        }
        drop(handle); // must not panic here (tokio #4412)
        let after = asincrono::spawn(async { "the runtime is fine" });
        assert_eq!(after.await.expect("no panic"), "the runtime is fine");
    });
}

#[test]
fn yield_now_lets_the_other_tasks_run() {
    // About the order on one thread: two workers would run `a` and `b` side by side. Both
    // are spawned from a task, so that on a multi-thread runtime `b` is queued before `a`
    // can run (from the `block_on` thread, `a` could finish before `b` was even spawned).
    on_each_flavour_one_thread(|| async {
        asincrono::spawn(a_and_b_take_turns())
            .await
            .expect("no panic");
    });
}

async fn a_and_b_take_turns() {
    {
        let log = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let log = log.clone();
                asincrono::spawn(async move {
                    for _ in 0..5 {
                        log.lock().unwrap().push(name);
                        yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("no panic");
        }
        let log = log.lock().unwrap();
        let first_b = log.iter().position(|name| *name == "b").expect("b ran");
        let last_a = log.iter().rposition(|name| *name == "a").expect("a ran");
        assert!(first_b < last_a, "the tasks interleave: {log:?}");
    }
}

#[test]
fn a_task_that_is_always_ready_cannot_starve_timers() {
    on_each_flavour(|| async {
        let spinner = asincrono::spawn(async {
            loop {
                yield_now().await;
            }
        });
        sleep(Duration::from_millis(20)).await; // completes only if the loop visits the driver
        spinner.abort();
        assert!(spinner.await.expect_err("aborted").is_cancelled());
    });
}

/// A future that stays pending until `released` is set, handing its waker to `waker_slot`.
fn wait_for_release(
    released: Arc<AtomicBool>,
    waker_slot: std::sync::mpsc::Sender<Waker>,
) -> impl Future<Output = ()> {
    let mut sent = false;
    poll_fn(move |cx: &mut Context<'_>| {
        if released.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if !sent {
            let _ = waker_slot.send(cx.waker().clone());
            sent = true;
        }
        Poll::Pending
    })
}

#[test]
fn a_wake_from_a_foreign_thread_reaches_a_task_on_a_parked_runtime() {
    on_each_flavour(|| async {
        let released = Arc::new(AtomicBool::new(false));
        let (waker_tx, waker_rx) = std::sync::mpsc::channel();
        let task = asincrono::spawn(wait_for_release(released.clone(), waker_tx));
        let waker_thread = std::thread::spawn(move || {
            let waker = waker_rx.recv().expect("the task sends its waker");
            // Give the runtime time to run out of work and block in epoll_wait: this is
            // the state under test, not a synchronisation.
            std::thread::sleep(Duration::from_millis(50));
            released.store(true, Ordering::SeqCst);
            waker.wake();
        });
        task.await.expect("the task completes once woken");
        waker_thread.join().expect("the waker thread");
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_message_that_says_so() {
    let panic = std::panic::catch_unwind(|| asincrono::spawn(async {})).expect_err("must panic");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("inside an asincrono runtime"), "{message}");
}

#[test]
fn block_on_inside_a_runtime_panics_instead_of_deadlocking() {
    on_each_flavour(|| async {
        let nested = std::panic::catch_unwind(|| asincrono::block_on(async {}));
        let panic = nested.expect_err("nested block_on must panic");
        let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.contains("block_on called from inside"), "{message}");
        // From a spawned task (on a worker thread, for the multi-thread flavour) too.
        let in_task = asincrono::spawn(async { asincrono::block_on(async {}) }).await;
        let err = in_task.expect_err("nested block_on in a task must panic");
        assert!(
            err.to_string().contains("block_on called from inside"),
            "{err}"
        );
        // The outer runtime still works.
        assert_eq!(asincrono::spawn(async { 1 }).await.expect("no panic"), 1);
    });
}

#[test]
fn dropping_the_runtime_drops_every_pending_task() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let drops = DropCounter::default();
            let rt = runtime(flavour);
            let handles: Vec<_> = (0..100)
                .map(|i| {
                    let guard = drops.track();
                    rt.spawn(async move {
                        let _guard = guard;
                        if i % 2 == 0 {
                            sleep(FOREVER).await; // parked on a timer
                        } else {
                            pending::<()>().await; // parked with no waker anywhere
                        }
                    })
                })
                .collect();
            rt.block_on(yield_now()); // let every task start and park
            assert_eq!(drops.dropped(), 0);
            drop(rt);
            assert_eq!(
                drops.dropped(),
                100,
                "every future is dropped with the runtime"
            );
            for handle in handles {
                let err = futures_block_on(handle).expect_err("cancelled by shutdown");
                assert!(err.is_cancelled());
            }
        });
    }
}

#[test]
fn dropping_the_runtime_closes_the_sockets_its_tasks_held() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
            let addr = listener.local_addr().expect("addr");
            let mut client = std::net::TcpStream::connect(addr).expect("connect");
            let (mut accepted_tx, mut accepted_rx) =
                rt.block_on(async { UnixStream::pair() }).expect("pair");
            rt.spawn(async move {
                let (mut conn, _) = listener.accept().await.expect("accept");
                accepted_tx.write_all(b"!").await.expect("signal");
                let mut buf = [0; 1];
                let _ = conn.read(&mut buf).await; // waits for ever: the client sends nothing
            });
            rt.block_on(accepted_rx.read_exact(&mut [0; 1]))
                .expect("the task accepted");
            drop(rt);
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut buf = [0; 1];
            assert_eq!(
                client.read(&mut buf).expect("EOF, not a timeout"),
                0,
                "the server side closed"
            );
        });
    }
}

/// Wakes a stored waker when dropped.
struct WakeOnDrop(Arc<Mutex<Option<Waker>>>);
impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        if let Some(waker) = self.0.lock().unwrap().take() {
            waker.wake();
        }
    }
}

#[test]
fn a_destructor_that_wakes_or_spawns_during_shutdown_does_not_deadlock() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let slot = Arc::new(Mutex::new(None));
            let waker_slot = slot.clone();
            rt.spawn(poll_fn(move |cx| {
                *waker_slot.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            }));
            let waker_of_first = WakeOnDrop(slot);
            rt.spawn(async move {
                let _wake_on_drop = waker_of_first;
                struct SpawnOnDrop;
                impl Drop for SpawnOnDrop {
                    fn drop(&mut self) {
                        let late = asincrono::spawn(async { unreachable!("never polled") });
                        drop(late);
                    }
                }
                let _spawn_on_drop = SpawnOnDrop;
                pending::<()>().await;
            });
            rt.block_on(yield_now());
            drop(rt); // returns: the watchdog fails the test otherwise
        });
    }
}

/// Polls a future to completion on the calling thread, outside any runtime (for handles
/// whose runtime is gone: they must complete without one).
fn futures_block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
    panic!("the future did not complete without a runtime");
}

#[test]
fn the_main_future_and_the_tasks_all_make_progress() {
    on_each_flavour(|| async {
        let progress = Arc::new(AtomicUsize::new(0));
        let counter = progress.clone();
        let worker = asincrono::spawn(async move {
            for _ in 0..1000 {
                counter.fetch_add(1, Ordering::SeqCst);
                yield_now().await;
            }
        });
        // The main future yields until the task has made progress: on one thread that only
        // ends if the task runs between two polls of main (the watchdog fails it otherwise).
        while progress.load(Ordering::SeqCst) == 0 {
            yield_now().await;
        }
        worker.await.expect("no panic");
        assert_eq!(progress.load(Ordering::SeqCst), 1000);
    });
}

#[test]
fn a_yielding_task_lets_the_driver_run_before_it_runs_again() {
    // A datagram is already waiting, so the receiver is woken by the very next driver visit.
    // If `yield_now` put the yielder straight back on the queue, it would run a whole batch
    // (61 polls) before the driver got a turn. One thread runs tasks in both flavours: with
    // two workers, the yielder could spin on its own core while the other sleeps in epoll.
    on_each_flavour_one_thread(|| async {
        let receiver = asincrono::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let sender = asincrono::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let receiver_addr = receiver.local_addr().expect("addr");
        let received = Arc::new(AtomicBool::new(false));
        let flag = received.clone();
        let waiting = asincrono::spawn(async move {
            let mut buf = [0u8; 8];
            receiver.recv_from(&mut buf).await.expect("recv");
            flag.store(true, Ordering::SeqCst);
        });
        yield_now().await; // the receiver parks on its socket
        sender.send_to(b"x", receiver_addr).await.expect("send");
        let yielder = asincrono::spawn(async move {
            let mut yields = 0;
            while !received.load(Ordering::SeqCst) {
                yield_now().await;
                yields += 1;
            }
            yields
        });
        let yields = yielder.await.expect("no panic");
        waiting.await.expect("no panic");
        assert!(
            yields <= 3,
            "the yielder ran {yields} times before the driver delivered the datagram"
        );
    });
}

/// A one-shot flag another thread can raise, waking whoever waits on it.
#[derive(Default)]
struct Flag {
    raised: AtomicBool,
    waiter: Mutex<Option<Waker>>,
}

impl Flag {
    fn raise(&self) {
        self.raised.store(true, Ordering::SeqCst);
        if let Some(waker) = self.waiter.lock().unwrap().take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            *self.waiter.lock().unwrap() = Some(cx.waker().clone());
            if self.raised.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

#[test]
fn wakes_and_spawns_from_other_threads_are_never_lost_as_the_runtime_parks() {
    // Each round, the runtime runs out of work and heads for epoll_wait while another thread
    // wakes a task (or spawns one) at about the same moment: the window between "the queue
    // looked empty" and "asleep" (tokio #525). A lost wake-up hangs a round, and the watchdog
    // fails the test.
    const ROUNDS: usize = 2_000;
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            std::thread::scope(|scope| {
                for round in 0..ROUNDS {
                    let flag = Arc::new(Flag::default());
                    let raiser = flag.clone();
                    if round % 2 == 0 {
                        // A wake from a foreign thread.
                        scope.spawn(move || raiser.raise());
                    } else {
                        // A spawn from a foreign thread; the new task raises the flag.
                        let rt = &rt;
                        scope.spawn(move || drop(rt.spawn(async move { raiser.raise() })));
                    }
                    rt.block_on(flag.wait());
                }
            });
        });
    }
}

#[test]
fn a_destructor_that_panics_while_an_abort_drops_the_future_is_reported_as_a_panic() {
    on_each_flavour(|| async {
        let armed = Arc::new(AtomicBool::new(false));
        let arming = armed.clone();
        let doomed = asincrono::spawn(async move {
            let _bomb = PanicsOnDrop;
            arming.store(true, Ordering::SeqCst);
            pending::<()>().await;
        });
        while !armed.load(Ordering::SeqCst) {
            yield_now().await; // let it start and hold its guard
        }
        doomed.abort();
        let err = doomed.await.expect_err("aborted");
        assert!(
            err.is_panic(),
            "the destructor's panic is the task's result: {err}"
        );
        assert!(
            err.to_string().contains("an output destructor panicked"),
            "{err}"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The multi-thread scheduler.
// ---------------------------------------------------------------------------------------

#[test]
fn two_tasks_run_at_the_same_time_on_two_workers() {
    // Each task spins, without ever yielding, until both have started: on one thread the
    // second could never start, so finishing proves the two polls overlapped in time.
    within(TEST_DEADLINE, "parallel", || {
        runtime("multi_thread").block_on(async {
            let started = Arc::new(AtomicUsize::new(0));
            let spinners: Vec<_> = (0..2)
                .map(|_| {
                    let started = started.clone();
                    asincrono::spawn(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        while started.load(Ordering::SeqCst) < 2 {
                            std::hint::spin_loop();
                        }
                    })
                })
                .collect();
            for spinner in spinners {
                spinner.await.expect("no panic");
            }
        })
    });
}

#[test]
fn a_task_in_the_middle_of_a_poll_at_shutdown_finishes_that_poll_and_is_then_dropped() {
    // `busy` spins inside its poll until `idle`'s future is dropped, which the shutdown
    // does before it joins the workers: so the drop starts while `busy` is mid-poll.
    within(TEST_DEADLINE, "mid-poll shutdown", || {
        let rt = runtime("multi_thread");
        let busy_dropped = DropCounter::default();
        let polled_after_yield = Arc::new(AtomicBool::new(false));
        let release = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        rt.block_on({
            let (busy_guard, polled_after_yield) =
                (busy_dropped.track(), polled_after_yield.clone());
            let (release, started) = (release.clone(), started.clone());
            async move {
                let idle_release = release.clone();
                asincrono::spawn(async move {
                    let _on_drop = SetOnDrop(idle_release);
                    pending::<()>().await;
                });
                let busy_started = started.clone();
                asincrono::spawn(async move {
                    let _guard = busy_guard;
                    busy_started.store(true, Ordering::SeqCst);
                    while !release.load(Ordering::SeqCst) {
                        std::hint::spin_loop();
                    }
                    yield_now().await; // shutdown has begun: the task is cancelled here
                    polled_after_yield.store(true, Ordering::SeqCst);
                });
                while !started.load(Ordering::SeqCst) {
                    yield_now().await;
                }
            }
        });
        drop(rt);
        assert!(
            release.load(Ordering::SeqCst),
            "the idle task's future was dropped"
        );
        assert_eq!(
            busy_dropped.dropped(),
            1,
            "the busy task was dropped after its poll"
        );
        assert!(
            !polled_after_yield.load(Ordering::SeqCst),
            "and never polled again"
        );
    });
}

/// Sets its flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn many_tasks_spawned_from_inside_and_outside_all_run_exactly_once() {
    on_each_flavour(|| async {
        let runs = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for _ in 0..100 {
            let runs = runs.clone();
            handles.push(asincrono::spawn(async move {
                let mut inner = Vec::new();
                for _ in 0..100 {
                    let runs = runs.clone();
                    inner.push(asincrono::spawn(async move {
                        yield_now().await;
                        runs.fetch_add(1, Ordering::SeqCst);
                    }));
                }
                for task in inner {
                    task.await.expect("no panic");
                }
            }));
        }
        for handle in handles {
            handle.await.expect("no panic");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 100 * 100);
    });
}

/// Checks, when dropped, that a panic is unwinding, and reports what it saw.
struct SeesTheUnwind(Option<std::sync::mpsc::Sender<bool>>);

impl Future for SeesTheUnwind {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        panic!("the task's poll panics on purpose");
    }
}

impl Drop for SeesTheUnwind {
    fn drop(&mut self) {
        if let Some(report) = self.0.take() {
            let _ = report.send(std::thread::panicking());
        }
    }
}

#[test]
fn a_panicking_task_s_future_is_dropped_while_the_panic_unwinds() {
    on_each_flavour(|| async {
        let (report, seen) = std::sync::mpsc::channel();
        let result = asincrono::spawn(SeesTheUnwind(Some(report))).await;
        assert!(result.expect_err("the poll panicked").is_panic());
        let panicking = seen
            .recv_timeout(Duration::from_secs(5))
            .expect("the future was dropped");
        assert!(
            panicking,
            "its destructor runs during the unwind, as in tokio"
        );
    });
}

#[test]
fn join_error_debug_reads_as_tokio_s() {
    on_each_flavour(|| async {
        let panicked = asincrono::spawn(async {
            let n = 7;
            panic!("boom {n}")
        })
        .await
        .unwrap_err();
        let text = format!("{panicked:?}");
        assert!(
            text.starts_with("JoinError::Panic(Id(") && text.ends_with("), \"boom 7\", ...)"),
            "{text}"
        );
        let opaque = asincrono::spawn(async { std::panic::panic_any(5u8) })
            .await
            .unwrap_err();
        let text = format!("{opaque:?}");
        assert!(
            text.starts_with("JoinError::Panic(Id(") && text.ends_with("), ...)"),
            "{text}"
        );
        let task = asincrono::spawn(std::future::pending::<()>());
        task.abort();
        let text = format!("{:?}", task.await.unwrap_err());
        assert!(text.starts_with("JoinError::Cancelled(Id("), "{text}");
    });
}
