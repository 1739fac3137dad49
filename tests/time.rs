//! Timers against the real clock: never early, cancelled cleanly, and able to interrupt a
//! driver that is asleep on a later deadline.

mod common;

use asincrono::time::{Elapsed, Instant, interval, interval_at, sleep, sleep_until, timeout};
use common::{DropCounter, FLAVOURS, TEST_DEADLINE, on_each_flavour, runtime, within};
use std::future::{Future, pending, poll_fn};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

#[test]
fn a_sleep_made_outside_the_runtime_binds_to_the_one_it_is_polled_in() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let start = Instant::now();
            rt.block_on(sleep(Duration::from_millis(10)));
            assert!(start.elapsed() >= Duration::from_millis(10));
        });
    }
}

#[test]
fn sleep_never_completes_early() {
    on_each_flavour(|| async {
        for millis in [0, 1, 5, 20, 50] {
            let wanted = Duration::from_millis(millis);
            let start = Instant::now();
            sleep(wanted).await;
            assert!(
                start.elapsed() >= wanted,
                "sleep({wanted:?}) woke after {:?}",
                start.elapsed()
            );
        }
    });
}

#[test]
fn many_concurrent_sleepers_all_wake_and_none_early() {
    on_each_flavour(|| async {
        // A fixed pseudo-random spread of deadlines over 0..100 ms.
        let delays = (0u64..300).map(|i| Duration::from_millis(i * 37 % 100));
        let sleepers: Vec<_> = delays
            .map(|delay| {
                let deadline = Instant::now() + delay;
                asincrono::spawn(async move {
                    sleep_until(deadline).await;
                    Instant::now() >= deadline
                })
            })
            .collect();
        for sleeper in sleepers {
            assert!(
                sleeper.await.expect("no panic"),
                "a sleeper woke before its deadline"
            );
        }
    });
}

#[test]
fn timeout_passes_a_fast_result_through_and_drops_a_slow_future() {
    on_each_flavour(|| async {
        assert_eq!(timeout(Duration::from_secs(10), async { 42 }).await, Ok(42));

        let drops = DropCounter::default();
        let guard = drops.track();
        let slow = async move {
            let _guard = guard;
            pending::<()>().await
        };
        let started = Instant::now();
        let result = timeout(Duration::from_millis(20), slow).await;
        let elapsed: Elapsed = result.expect_err("the slow future loses");
        assert_eq!(elapsed.to_string(), "deadline has elapsed");
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert_eq!(
            drops.dropped(),
            1,
            "the slow future is dropped when time runs out"
        );
    });
}

#[test]
fn the_timeout_deadline_counts_from_the_call_not_from_the_first_poll() {
    on_each_flavour(|| async {
        let mut late = pin!(timeout(Duration::from_millis(10), pending::<()>()));
        sleep(Duration::from_millis(20)).await;
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            matches!(late.as_mut().poll(&mut cx), Poll::Ready(Err(_))),
            "the deadline passed while the future sat unpolled"
        );
    });
}

#[test]
fn interval_ticks_at_once_then_every_period_without_drift() {
    on_each_flavour(|| async {
        let period = Duration::from_millis(10);
        let start = Instant::now();
        let mut ticks = interval_at(start, period);
        let first = ticks.tick().await;
        assert_eq!(first, start, "the first tick is the start instant");
        let mut previous = first;
        for round in 0..5 {
            if round == 2 {
                // Slow work: longer than two periods. The missed ticks come at once, and
                // the deadlines stay on the original grid.
                sleep(period * 3).await;
            }
            let tick = ticks.tick().await;
            assert_eq!(
                tick - previous,
                period,
                "deadlines are exactly one period apart"
            );
            assert!(
                Instant::now() >= tick,
                "a tick never completes before its deadline"
            );
            previous = tick;
        }
    });
}

#[test]
fn interval_first_tick_completes_immediately() {
    on_each_flavour(|| async {
        let mut ticks = interval(Duration::from_secs(3600));
        let mut first = pin!(ticks.tick());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(first.as_mut().poll(&mut cx).is_ready());
    });
}

#[test]
fn resetting_a_sleep_to_an_earlier_deadline_wakes_it_then() {
    on_each_flavour(|| async {
        let mut long = pin!(sleep(Duration::from_secs(3600)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(long.as_mut().poll(&mut cx).is_pending());
        let soon = Instant::now() + Duration::from_millis(10);
        long.as_mut().reset(soon);
        long.await; // bounded by the watchdog: it would otherwise take an hour
        assert!(Instant::now() >= soon);
    });
}

/// A waker that sends a message on a channel when woken.
struct ChannelWaker(Mutex<mpsc::Sender<()>>);
impl Wake for ChannelWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.0.lock().unwrap().send(());
    }
}

#[test]
fn a_timer_armed_from_another_thread_interrupts_a_driver_asleep_on_a_later_one() {
    // tokio #3190: the driver sleeps in epoll_wait until a 10 s deadline; another thread
    // arms a 20 ms timer. Unless arming it wakes the driver, it fires 10 s late.
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let released = Arc::new(AtomicBool::new(false));
            let main_waker: Arc<Mutex<Option<Waker>>> = Arc::default();
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    // Let the runtime thread block on its 10 s timer (the state under test).
                    std::thread::sleep(Duration::from_millis(50));
                    let _context = rt.enter();
                    let (fired_tx, fired_rx) = mpsc::channel();
                    let waker = Waker::from(Arc::new(ChannelWaker(Mutex::new(fired_tx))));
                    let mut short = pin!(sleep(Duration::from_millis(20)));
                    assert!(
                        short
                            .as_mut()
                            .poll(&mut Context::from_waker(&waker))
                            .is_pending()
                    );
                    fired_rx
                        .recv_timeout(Duration::from_secs(5))
                        .expect("the 20 ms timer fired in time");
                    released.store(true, Ordering::SeqCst);
                    if let Some(waker) = main_waker.lock().unwrap().take() {
                        waker.wake();
                    }
                });
                let released_in_time = rt.block_on(timeout(
                    Duration::from_secs(10),
                    poll_fn(|cx| {
                        *main_waker.lock().unwrap() = Some(cx.waker().clone());
                        if released.load(Ordering::SeqCst) {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    }),
                ));
                assert!(released_in_time.is_ok());
            });
        });
    }
}

#[test]
fn polling_a_sleep_outside_a_runtime_panics_with_a_message_that_says_so() {
    let mut timer = pin!(sleep(Duration::from_secs(1))); // creating it outside is fine
    let mut cx = Context::from_waker(Waker::noop());
    let poll_outside = std::panic::AssertUnwindSafe(|| timer.as_mut().poll(&mut cx));
    let panic = std::panic::catch_unwind(poll_outside).expect_err("must panic");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("inside an asincrono runtime"), "{message}");
}

/// CPU time this thread has used, in clock ticks (1/100 s), from /proc.
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("linux /proc");
    // Fields after the ")" that closes the command name; utime and stime are 14th and 15th.
    let after_name = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
fn an_idle_runtime_sleeps_in_the_kernel_instead_of_spinning() {
    // CPU time, not wall time: a spinning loop would burn ~100 ticks in this second whatever
    // else the machine is doing; sleeping in epoll_wait burns next to none.
    within(TEST_DEADLINE, "current_thread", || {
        let rt = runtime("current_thread");
        let before = thread_cpu_ticks();
        rt.block_on(async {
            let sleeper = asincrono::spawn(sleep(Duration::from_secs(1)));
            sleeper.await.expect("no panic");
        });
        let used = thread_cpu_ticks() - before;
        assert!(
            used < 10,
            "an idle second cost {used} ticks of CPU (1 tick = 10 ms)"
        );
    });
}

#[test]
fn timeout_fires_even_when_the_inner_future_spends_the_whole_budget() {
    // The inner future completes a timer operation on every poll, so it spends the task's
    // cooperative budget each time. If the deadline check then had to wait for budget too,
    // it would never run and the timeout would never fire.
    on_each_flavour(|| async {
        let busy = async {
            loop {
                sleep(Duration::ZERO).await;
            }
        };
        let outcome = timeout(Duration::from_millis(20), busy).await;
        assert!(outcome.is_err(), "the timeout must fire");
    });
}

// ---------------------------------------------------------------------------------------
// The paused clock.
// ---------------------------------------------------------------------------------------

/// The real time a paused-clock test may take at most: far below the times it simulates.
const REAL_TIME_LIMIT: Duration = Duration::from_secs(10);

/// Runs `body` on a current-thread runtime whose clock starts paused, under the watchdog
/// (a broken auto-advance would otherwise sleep for the simulated minutes).
fn on_a_paused_clock(label: &str, body: impl Future<Output = ()> + Send + 'static) {
    within(TEST_DEADLINE, label, move || {
        asincrono::runtime::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .expect("the runtime builds")
            .block_on(body)
    });
}

#[test]
fn a_paused_clock_jumps_to_the_next_timer_when_nothing_else_can_run() {
    on_a_paused_clock(
        "a_paused_clock_jumps_to_the_next_timer_when_nothing_else_can_run",
        async {
            let real_start = std::time::Instant::now();
            let start = asincrono::time::Instant::now();
            let outcome =
                asincrono::time::timeout(Duration::from_secs(600), std::future::pending::<()>())
                    .await;
            assert!(outcome.is_err(), "the ten-minute timeout fired");
            assert!(start.elapsed() >= Duration::from_secs(600));
            assert!(real_start.elapsed() < REAL_TIME_LIMIT);
        },
    );
}

#[test]
fn paused_timers_fire_in_deadline_order() {
    on_a_paused_clock("paused_timers_fire_in_deadline_order", async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for minutes in [30u64, 10, 20] {
            let order = order.clone();
            tasks.push(asincrono::spawn(async move {
                sleep(Duration::from_secs(minutes * 60)).await;
                order.lock().unwrap().push(minutes);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [10, 20, 30]);
    });
}

#[test]
fn advance_moves_the_clock_and_fires_what_became_due() {
    on_a_paused_clock("advance_moves_the_clock_and_fires_what_became_due", async {
        let start = asincrono::time::Instant::now();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let sleeper = asincrono::spawn(async move {
            sleep(Duration::from_secs(5)).await;
            flag.store(true, Ordering::SeqCst);
        });
        asincrono::task::yield_now().await; // let the sleeper arm its timer
        asincrono::time::advance(Duration::from_secs(4)).await;
        assert!(!fired.load(Ordering::SeqCst), "4 s is not yet 5 s");
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(4),
            "the clock stands still"
        );
        asincrono::time::advance(Duration::from_secs(1)).await;
        sleeper.await.unwrap();
        assert!(fired.load(Ordering::SeqCst));
    });
}

#[test]
fn a_paused_clock_waits_for_a_blocking_job_instead_of_jumping() {
    on_a_paused_clock(
        "a_paused_clock_waits_for_a_blocking_job_instead_of_jumping",
        async {
            // The job's answer arrives in real time; the ten-minute timer must not win meanwhile.
            let (release, released) = std::sync::mpsc::channel::<()>();
            let job = asincrono::task::spawn_blocking(move || released.recv().is_ok());
            std::thread::spawn(move || release.send(()));
            let outcome = asincrono::time::timeout(Duration::from_secs(600), job).await;
            assert!(
                outcome
                    .expect("the job finished before the paused timeout")
                    .unwrap()
            );
        },
    );
}

#[test]
fn pause_and_resume_let_real_time_flow_again() {
    within(TEST_DEADLINE, "resume", || {
        runtime("current_thread").block_on(async {
            asincrono::time::pause();
            let frozen = asincrono::time::Instant::now();
            std::thread::sleep(Duration::from_millis(5)); // real time passes...
            assert_eq!(
                frozen.elapsed(),
                Duration::ZERO,
                "...but not on the paused clock"
            );
            asincrono::time::resume();
            std::thread::sleep(Duration::from_millis(5));
            assert!(frozen.elapsed() >= Duration::from_millis(5));
            // Time advanced while paused is kept after resuming: the clock never runs back.
            asincrono::time::pause();
            asincrono::time::advance(Duration::from_secs(3600)).await;
            let advanced = asincrono::time::Instant::now();
            asincrono::time::resume();
            assert!(asincrono::time::Instant::now() >= advanced);
        })
    });
}

#[test]
fn pause_on_a_multi_thread_runtime_is_refused_with_a_clear_message() {
    let rt = runtime("multi_thread");
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { asincrono::time::pause() })
    }))
    .expect_err("pause panics");
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.contains("current-thread runtime"), "{message}");
    let built = asincrono::runtime::Builder::new_multi_thread()
        .start_paused(true)
        .build();
    assert_eq!(built.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_timer_armed_right_after_a_blocking_job_still_fires_at_once_on_a_paused_clock() {
    // The job's task is woken a moment before the job lets go of the clock; a timer armed
    // in that moment must not make the runtime sleep for real until its deadline.
    on_a_paused_clock("timer after a blocking job", async {
        for _ in 0..20 {
            asincrono::task::spawn_blocking(|| ()).await.unwrap();
            sleep(Duration::from_secs(600)).await;
        }
    });
}
