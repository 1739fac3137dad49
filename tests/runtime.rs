//! The runtime's own API in tokio's shape: `runtime::Handle` (current, try_current, spawn,
//! spawn_blocking, block_on, enter, name, flavour) and the `Builder`'s options (names, the
//! `on_thread_*` callbacks, keep-alive, the two intervals).

mod common;

use asincrono::runtime::{Builder, Handle, RuntimeFlavor};
use common::{FLAVOURS, TEST_DEADLINE, on_each_flavour, runtime, within};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn handle_current_inside_a_task_spawns_onto_the_same_runtime() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let expected = if flavour == "current_thread" {
                RuntimeFlavor::CurrentThread
            } else {
                RuntimeFlavor::MultiThread
            };
            rt.block_on(async move {
                let handle = Handle::current();
                assert_eq!(handle.runtime_flavor(), expected);
                let inner = handle.spawn(async { Handle::current().runtime_flavor() });
                assert_eq!(inner.await.unwrap(), expected);
                let blocking = handle.spawn_blocking(|| Handle::try_current().is_ok());
                assert!(
                    blocking.await.unwrap(),
                    "a blocking job runs in the runtime"
                );
            });
        });
    }
}

#[test]
fn try_current_outside_a_runtime_says_the_context_is_missing() {
    let err = Handle::try_current().expect_err("no runtime on a test thread");
    assert!(err.is_missing_context());
    assert!(!err.is_thread_local_destroyed());
    assert!(
        err.to_string().contains("inside an asincrono runtime"),
        "{err}"
    );
}

#[test]
fn a_plain_thread_spawns_and_blocks_through_a_handle() {
    within(TEST_DEADLINE, "multi_thread", || {
        let rt = runtime("multi_thread");
        let handle = rt.handle().clone();
        let from_thread = std::thread::spawn(move || {
            let task = handle.spawn(async {
                asincrono::time::sleep(Duration::from_millis(5)).await;
                7
            });
            handle.block_on(async move { task.await.unwrap() * 6 })
        });
        assert_eq!(from_thread.join().unwrap(), 42);
    });
}

#[test]
fn handle_block_on_on_a_current_thread_runtime_is_driven_by_runtime_block_on() {
    within(TEST_DEADLINE, "current_thread", || {
        let rt = Arc::new(runtime("current_thread"));
        let (tx, rx) = asincrono::sync::oneshot::channel::<u32>();
        let handle = rt.handle().clone();
        // The other thread only polls its future; the task that answers it runs here.
        let waiter = std::thread::spawn(move || handle.block_on(rx).unwrap());
        rt.block_on(async move {
            asincrono::spawn(async move { tx.send(5).unwrap() })
                .await
                .unwrap();
        });
        assert_eq!(waiter.join().unwrap(), 5);
    });
}

#[test]
fn enter_makes_the_handle_current_until_the_guard_drops() {
    let rt = runtime("current_thread");
    let handle = rt.handle().clone();
    {
        let _guard = handle.enter();
        assert!(Handle::try_current().is_ok());
    }
    assert!(Handle::try_current().is_err());
}

#[test]
fn a_runtime_has_the_name_it_was_given_and_none_otherwise() {
    let unnamed = Builder::new_current_thread().build().unwrap();
    assert_eq!(unnamed.handle().name(), None);
    let named = Builder::new_multi_thread()
        .worker_threads(1)
        .name("orders")
        .build()
        .unwrap();
    assert_eq!(named.handle().name(), Some("orders"));
}

/// A builder of the named flavour, with one worker if it is multi-threaded.
fn one_worker_builder(flavour: &str) -> Builder {
    if flavour == "current_thread" {
        return Builder::new_current_thread();
    }
    let mut builder = Builder::new_multi_thread();
    builder.worker_threads(1);
    builder
}

/// A counter that callbacks bump, shared with the test.
fn counter() -> (Arc<AtomicUsize>, impl Fn() + Send + Sync + 'static) {
    let count = Arc::new(AtomicUsize::new(0));
    let bump = {
        let count = count.clone();
        move || {
            count.fetch_add(1, Ordering::SeqCst);
        }
    };
    (count, bump)
}

#[test]
fn every_thread_started_has_run_its_stop_callback_when_drop_returns() {
    within(TEST_DEADLINE, "multi_thread", || {
        let (started, on_start) = counter();
        let (stopped, on_stop) = counter();
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(on_start)
            .on_thread_stop(on_stop)
            .build()
            .unwrap();
        rt.block_on(async {
            // A blocking job too: pool threads are the runtime's threads.
            asincrono::task::spawn_blocking(|| ()).await.unwrap();
        });
        drop(rt);
        let started = started.load(Ordering::SeqCst);
        assert!(started >= 3, "two workers and a pool thread, saw {started}");
        assert_eq!(stopped.load(Ordering::SeqCst), started);
    });
}

#[test]
fn an_idle_blocking_thread_stops_after_its_keep_alive() {
    within(TEST_DEADLINE, "current_thread", || {
        let (stop_tx, stop_rx) = mpsc::channel();
        let stop_tx = std::sync::Mutex::new(stop_tx);
        let rt = Builder::new_current_thread()
            .thread_keep_alive(Duration::from_millis(20))
            .on_thread_stop(move || {
                let _ = stop_tx.lock().unwrap().send(());
            })
            .build()
            .unwrap();
        rt.block_on(async { asincrono::task::spawn_blocking(|| ()).await.unwrap() });
        // The runtime is still alive: only the keep-alive can stop the pool thread.
        stop_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the idle pool thread retires long before 10 s");
        drop(rt);
    });
}

#[test]
fn blocking_jobs_that_wait_for_each_other_each_get_a_thread() {
    // The pool starts one thread at a time (each newcomer starts the next while jobs wait),
    // but every job must still get a thread of its own: none of these can finish until all
    // of them are running.
    const JOBS: usize = 64;
    on_each_flavour(|| async {
        let all_running = Arc::new(std::sync::Barrier::new(JOBS));
        let jobs: Vec<_> = (0..JOBS)
            .map(|i| {
                let all_running = all_running.clone();
                asincrono::task::spawn_blocking(move || {
                    all_running.wait();
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for job in jobs {
            sum += job.await.unwrap();
        }
        assert_eq!(sum, JOBS * (JOBS - 1) / 2);
    });
}

#[test]
fn a_burst_of_tiny_blocking_jobs_does_not_start_a_thread_per_job() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let (started, on_start) = counter();
            let mut builder = one_worker_builder(flavour);
            let rt = builder.on_thread_start(on_start).build().unwrap();
            let workers = started.load(Ordering::SeqCst);
            rt.block_on(async {
                let jobs: Vec<_> = (0..10_000)
                    .map(|i| asincrono::task::spawn_blocking(move || i))
                    .collect();
                for job in jobs {
                    job.await.unwrap();
                }
            });
            // A thread per job that found no idle thread came to between 117 and 512 here
            // (the cap); one thread on its way at a time keeps the count to how many can
            // start, one after another, while the burst lasts: 10 to 25 here.
            let pool_threads = started.load(Ordering::SeqCst) - workers;
            assert!(
                (1..100).contains(&pool_threads),
                "[{flavour}] {pool_threads} pool threads for 10,000 tiny jobs"
            );
            drop(rt);
        });
    }
}

#[test]
fn the_park_callbacks_run_around_each_sleep_and_what_they_defer_is_seen() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let (parks, on_park) = counter();
            let (unparks, on_unpark) = counter();
            let mut builder = one_worker_builder(flavour);
            let rt = builder
                .on_thread_park(on_park)
                .on_thread_unpark(on_unpark)
                .build()
                .unwrap();
            rt.block_on(async {
                // Each sleep leaves the runtime with nothing to do until the timer fires.
                for _ in 0..3 {
                    asincrono::spawn(asincrono::time::sleep(Duration::from_millis(2)))
                        .await
                        .unwrap();
                }
            });
            drop(rt);
            let parks = parks.load(Ordering::SeqCst);
            assert!(parks >= 3, "[{flavour}] parked {parks} times");
            assert!(unparks.load(Ordering::SeqCst) >= parks - 1, "[{flavour}]");
        });
    }
}

/// Wakes a `Notify` when woken.
struct NotifyOnWake(asincrono::sync::Notify);

impl std::task::Wake for NotifyOnWake {
    fn wake(self: Arc<Self>) {
        self.0.notify_one();
    }
}

#[test]
fn a_park_callback_that_defers_a_wake_keeps_the_runtime_from_sleeping() {
    within(TEST_DEADLINE, "current_thread", || {
        let notify = Arc::new(NotifyOnWake(asincrono::sync::Notify::new()));
        let waker = std::task::Waker::from(notify.clone());
        let once = std::sync::atomic::AtomicBool::new(false);
        let rt = Builder::new_current_thread()
            .on_thread_park(move || {
                if !once.swap(true, Ordering::SeqCst) {
                    // A yield on the scheduler thread defers this waker until after the next
                    // driver visit: if the runtime went to sleep without looking at the
                    // deferred list again, nothing would ever wake it.
                    let mut cx = std::task::Context::from_waker(&waker);
                    let _ = std::pin::pin!(asincrono::task::yield_now())
                        .as_mut()
                        .poll(&mut cx);
                }
            })
            .build()
            .unwrap();
        rt.block_on(notify.0.notified());
    });
}

#[test]
fn zero_intervals_are_refused() {
    for build in [
        Builder::new_current_thread().event_interval(0).build(),
        Builder::new_multi_thread().global_queue_interval(0).build(),
    ] {
        let err = build.expect_err("a zero interval would never look outside");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}

#[test]
fn tasks_still_run_to_completion_with_intervals_of_one() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let mut builder = if flavour == "current_thread" {
                Builder::new_current_thread()
            } else {
                let mut builder = Builder::new_multi_thread();
                builder.worker_threads(2);
                builder
            };
            let rt = builder
                .event_interval(1)
                .global_queue_interval(1)
                .build()
                .unwrap();
            let total = rt.block_on(async {
                let tasks: Vec<_> = (0..200u64)
                    .map(|i| {
                        asincrono::spawn(async move {
                            asincrono::task::yield_now().await;
                            i
                        })
                    })
                    .collect();
                let mut total = 0;
                for task in tasks {
                    total += task.await.unwrap();
                }
                total
            });
            assert_eq!(total, (0..200).sum::<u64>());
        });
    }
}

#[test]
fn two_threads_in_block_on_of_one_current_thread_runtime_can_wait_for_each_other() {
    within(TEST_DEADLINE, "current_thread", || {
        let rt = Arc::new(runtime("current_thread"));
        let (first_tx, first_rx) = asincrono::sync::oneshot::channel::<()>();
        let (second_tx, second_rx) = asincrono::sync::oneshot::channel::<()>();
        let rt_a = rt.clone();
        // Whichever thread takes the core first, the other must still poll its own future:
        // `a` waits for `b`'s message, and `b` waits for `a`'s answer, with timers between.
        let a = std::thread::spawn(move || {
            rt_a.block_on(async move {
                second_rx.await.unwrap();
                asincrono::time::sleep(Duration::from_millis(5)).await;
                first_tx.send(()).unwrap();
            })
        });
        let rt_b = rt.clone();
        let b = std::thread::spawn(move || {
            rt_b.block_on(async move {
                second_tx.send(()).unwrap();
                asincrono::time::sleep(Duration::from_millis(5)).await;
                first_rx.await.unwrap();
                // Only a thread holding the core drives this timer: `b` must take it over
                // once `a` has returned.
                asincrono::time::sleep(Duration::from_millis(5)).await;
            })
        });
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn shutdown_timeout_of_duration_max_waits_for_the_running_job_instead_of_panicking() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let (started_tx, started_rx) = mpsc::channel();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let (finished_tx, finished_rx) = mpsc::channel();
            rt.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                let _ = release_rx.recv();
                finished_tx.send(()).unwrap();
            });
            started_rx.recv().unwrap();
            // Release the job from another thread once shutdown is under way.
            let releaser = std::thread::spawn(move || release_tx.send(()).unwrap());
            rt.shutdown_timeout(Duration::MAX);
            assert!(
                finished_rx.try_recv().is_ok(),
                "[{flavour}] an unlimited wait returns only after the job has finished"
            );
            releaser.join().unwrap();
        });
    }
}

#[test]
fn a_runtime_dropped_by_a_thread_local_destructor_shuts_down_cleanly() {
    thread_local! {
        static KEPT: std::cell::RefCell<Option<asincrono::Runtime>> =
            const { std::cell::RefCell::new(None) };
    }
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let (dropped_tx, dropped_rx) = mpsc::channel();
            std::thread::spawn(move || {
                let rt = runtime(flavour);
                // A task left pending: its future is dropped by the shutdown, whose path
                // must not need this thread's (already destroyed) thread-locals.
                let report = common::OnDrop(Some(move || dropped_tx.send(()).unwrap()));
                rt.spawn(async move {
                    let _report = report;
                    std::future::pending::<()>().await
                });
                KEPT.with(|kept| *kept.borrow_mut() = Some(rt));
                // Another runtime, built and dropped while the thread exits normally.
                let _also = runtime(flavour);
            })
            .join()
            .expect("the thread exits without a panic or an abort");
            dropped_rx
                .recv_timeout(Duration::from_secs(5))
                .expect("the pending task was dropped");
        });
    }
}

#[test]
fn a_long_poll_on_one_worker_does_not_stall_the_timers_of_the_other() {
    within(TEST_DEADLINE, "multi_thread", || {
        let rt = runtime("multi_thread"); // two workers
        let kept_period = rt.block_on(async {
            let ticks = Arc::new(AtomicUsize::new(0));
            let counted = ticks.clone();
            let ticker = asincrono::spawn(async move {
                let mut every = asincrono::time::interval(Duration::from_millis(50));
                loop {
                    every.tick().await;
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            });
            let computing = asincrono::spawn(async move {
                // Woken by a timer while both workers sleep: the worker in the driver runs
                // this task itself, and the other stays asleep.
                asincrono::time::sleep(Duration::from_millis(20)).await;
                let seen = ticks.load(Ordering::SeqCst);
                let give_up = std::time::Instant::now() + Duration::from_secs(10);
                // Compute without ever yielding until the ticker has ticked three more
                // times: that needs the other worker to be in the driver for its timer.
                while ticks.load(Ordering::SeqCst) < seen + 3 {
                    if std::time::Instant::now() > give_up {
                        return false;
                    }
                    std::hint::spin_loop();
                }
                true
            });
            let kept = computing.await.unwrap();
            ticker.abort();
            kept
        });
        assert!(
            kept_period,
            "the ticker stalled for 10 s while the other worker computed"
        );
    });
}
