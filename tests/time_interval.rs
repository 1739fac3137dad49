//! `Interval` and `Sleep` in the corners tokio's own tests check: the three missed-tick
//! behaviours, the four resets, cancel-safety of `tick`, the wakes `poll_tick` arranges (and
//! those it must not), periods of `Duration::MAX`, and `Sleep::is_elapsed`.
//!
//! The tests that depend on exact instants run on a paused clock (current-thread only, as in
//! tokio), where `advance` stands in for a task that was busy; each runs under the watchdog.
//! The ones where the scheduler could matter run on both flavours, on the real clock, with
//! periods long enough that nothing depends on how fast the machine is.

mod common;

use asincrono::time::{self, Duration, Instant, Interval, MissedTickBehavior, interval_at};
use common::{TEST_DEADLINE, on_each_flavour, within};
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `body` on a current-thread runtime whose clock starts paused, under the watchdog.
fn on_a_paused_clock(label: &str, body: impl Future<Output = ()> + Send + 'static) {
    within(TEST_DEADLINE, label, move || {
        asincrono::runtime::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .expect("the runtime builds")
            .block_on(body)
    });
}

/// A waker that counts how often it is woken.
#[derive(Default)]
struct WakeCounter(AtomicUsize);

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl WakeCounter {
    fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Polls the interval once with `waker`.
fn poll_once(ticks: &mut Interval, waker: &Waker) -> Poll<Instant> {
    ticks.poll_tick(&mut Context::from_waker(waker))
}

/// The deadlines of the ticks that are due now, in order, and the offset from `start` of
/// each (a tick that is not due yet ends the list).
fn due_ticks(ticks: &mut Interval, start: Instant) -> Vec<u64> {
    let mut due = Vec::new();
    while let Poll::Ready(deadline) = poll_once(ticks, Waker::noop()) {
        due.push((deadline - start).as_millis() as u64);
        assert!(due.len() < 100, "an interval never bursts without end");
    }
    due
}

/// A 100 ms interval from `start`, its first tick taken, then a stall of 350 ms: what each
/// behaviour makes of the ticks after it.
async fn ticks_after_a_stall(behaviour: MissedTickBehavior) -> Vec<Vec<u64>> {
    let start = Instant::now();
    let mut ticks = interval_at(start, ms(100));
    ticks.set_missed_tick_behavior(behaviour);
    assert_eq!(ticks.missed_tick_behavior(), behaviour);
    let mut seen = vec![due_ticks(&mut ticks, start)];
    time::advance(ms(350)).await; // the task was busy past three deadlines
    seen.push(due_ticks(&mut ticks, start));
    for _ in 0..3 {
        time::advance(ms(100)).await;
        seen.push(due_ticks(&mut ticks, start));
    }
    seen
}

#[test]
fn each_missed_tick_behaviour_places_the_ticks_after_a_stall_as_tokio_documents() {
    on_a_paused_clock("missed_tick_behaviours", async {
        assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
        // Seen at 350, 450, 550, 650.
        assert_eq!(
            ticks_after_a_stall(MissedTickBehavior::Burst).await,
            [
                vec![0],
                vec![100, 200, 300],
                vec![400],
                vec![500],
                vec![600]
            ],
            "burst: the missed ticks at once, then the original grid"
        );
        assert_eq!(
            ticks_after_a_stall(MissedTickBehavior::Delay).await,
            [vec![0], vec![100], vec![450], vec![550], vec![650]],
            "delay: a new grid one period after the late tick was seen"
        );
        assert_eq!(
            ticks_after_a_stall(MissedTickBehavior::Skip).await,
            [vec![0], vec![100], vec![400], vec![500], vec![600]],
            "skip: the original grid, without the missed ticks"
        );
    });
}

#[test]
fn a_tick_late_by_less_than_five_milliseconds_is_not_a_missed_tick() {
    on_a_paused_clock("late_tolerance", async {
        for behaviour in [MissedTickBehavior::Delay, MissedTickBehavior::Skip] {
            let start = Instant::now();
            let mut ticks = interval_at(start, ms(100));
            ticks.set_missed_tick_behavior(behaviour);
            assert_eq!(due_ticks(&mut ticks, start), [0]);
            time::advance(ms(105)).await; // 5 ms late: still on time
            assert_eq!(due_ticks(&mut ticks, start), [100], "{behaviour:?}");
            time::advance(ms(95)).await;
            assert_eq!(
                due_ticks(&mut ticks, start),
                [200],
                "{behaviour:?}: grid kept"
            );
        }
    });
}

#[test]
fn resets_move_the_next_tick_and_the_ticks_after_it_follow_from_there() {
    on_a_paused_clock("resets", async {
        let start = Instant::now();
        let mut ticks = interval_at(start, ms(100));
        assert_eq!(due_ticks(&mut ticks, start), [0]);
        time::advance(ms(30)).await;

        ticks.reset(); // next: 30 + 100
        time::advance(ms(99)).await;
        assert_eq!(due_ticks(&mut ticks, start), Vec::<u64>::new());
        time::advance(ms(1)).await;
        assert_eq!(due_ticks(&mut ticks, start), [130]);

        ticks.reset_immediately(); // next: now, 130
        assert_eq!(due_ticks(&mut ticks, start), [130]);

        ticks.reset_after(ms(20)); // next: 150, then 250
        time::advance(ms(20)).await;
        assert_eq!(due_ticks(&mut ticks, start), [150]);

        ticks.reset_at(start + ms(500)); // more than a period away: no tick before it
        time::advance(ms(349)).await;
        assert_eq!(due_ticks(&mut ticks, start), Vec::<u64>::new());
        time::advance(ms(1)).await;
        assert_eq!(due_ticks(&mut ticks, start), [500]);
        time::advance(ms(100)).await;
        assert_eq!(due_ticks(&mut ticks, start), [600]);
        assert_eq!(ticks.period(), ms(100));
    });
}

#[test]
fn a_reset_while_a_tick_is_awaited_wakes_that_waiter_at_the_new_deadline() {
    on_a_paused_clock("reset_while_waiting", async {
        let start = Instant::now();
        let mut ticks = interval_at(start, ms(100));
        let counter = Arc::new(WakeCounter::default());
        let waker = Waker::from(counter.clone());
        assert_eq!(poll_once(&mut ticks, &waker), Poll::Ready(start));
        assert!(poll_once(&mut ticks, &waker).is_pending()); // armed for 100
        ticks.reset_after(ms(10));
        time::advance(ms(10)).await;
        assert_eq!(
            counter.wakes(),
            1,
            "the waiter is woken at the new deadline"
        );
        assert_eq!(poll_once(&mut ticks, &waker), Poll::Ready(start + ms(10)));
    });
}

#[test]
fn poll_tick_arranges_a_wake_on_pending_and_none_on_ready() {
    on_a_paused_clock("poll_tick_wakes", async {
        let start = Instant::now();
        let mut ticks = interval_at(start, ms(10));
        let counter = Arc::new(WakeCounter::default());
        let waker = Waker::from(counter.clone());

        assert_eq!(poll_once(&mut ticks, &waker), Poll::Ready(start));
        time::advance(ms(50)).await; // several periods, and nobody polls
        assert_eq!(counter.wakes(), 0, "a Ready tick leaves no timer armed");

        assert_eq!(poll_once(&mut ticks, &waker), Poll::Ready(start + ms(10)));
        let due = due_ticks(&mut ticks, start); // the burst that catches up
        assert_eq!(due, [20, 30, 40, 50]);
        assert_eq!(counter.wakes(), 0);

        assert!(poll_once(&mut ticks, &waker).is_pending());
        time::advance(ms(10)).await;
        assert_eq!(
            counter.wakes(),
            1,
            "a Pending tick is woken at its deadline"
        );
    });
}

#[test]
fn dropping_a_tick_that_is_waiting_loses_no_tick() {
    on_a_paused_clock("tick_cancel_safe", async {
        let start = Instant::now();
        let mut ticks = interval_at(start, ms(100));
        assert_eq!(ticks.tick().await, start);
        for round in 1..=3 {
            // Give up on the tick after 30 ms, twice (at 30 and 60 past the last tick),
            // then wait for it: it comes at its deadline, neither lost nor moved.
            for _ in 0..2 {
                let gave_up = time::timeout(ms(30), ticks.tick()).await;
                assert!(gave_up.is_err());
            }
            assert_eq!(ticks.tick().await, start + ms(100) * round);
            assert_eq!(Instant::now(), start + ms(100) * round, "on time, not late");
        }
    });
}

#[test]
fn a_period_of_duration_max_neither_panics_nor_ticks_twice() {
    on_each_flavour(|| async {
        let mut ticks = time::interval(Duration::MAX);
        assert_eq!(ticks.period(), Duration::MAX);
        let first = ticks.tick().await;
        assert!(first <= Instant::now());
        assert!(poll_once(&mut ticks, Waker::noop()).is_pending());
        ticks.reset();
        ticks.reset_after(Duration::MAX);
        assert!(poll_once(&mut ticks, Waker::noop()).is_pending());
        for behaviour in [MissedTickBehavior::Delay, MissedTickBehavior::Skip] {
            ticks.set_missed_tick_behavior(behaviour);
            ticks.reset_at(Instant::now() - ms(50)); // a tick seen late, with a huge period
            assert!(poll_once(&mut ticks, Waker::noop()).is_ready());
            assert!(poll_once(&mut ticks, Waker::noop()).is_pending());
        }
    });
}

#[test]
fn reset_immediately_ticks_without_waiting_for_the_period_on_both_flavours() {
    on_each_flavour(|| async {
        let mut ticks = time::interval(Duration::from_secs(3600));
        ticks.tick().await;
        let before = Instant::now();
        ticks.reset_immediately();
        let tick = ticks.tick().await;
        assert!(tick >= before, "the tick is the reset instant");
        assert!(before.elapsed() < Duration::from_secs(10), "not an hour");
        assert!(poll_once(&mut ticks, Waker::noop()).is_pending());
    });
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn a_zero_period_panics() {
    let _ = interval_at(Instant::now(), Duration::ZERO);
}

#[test]
fn a_sleep_is_elapsed_once_it_completed_and_not_after_a_reset() {
    on_a_paused_clock("sleep_is_elapsed", async {
        let now = Instant::now();
        let mut sleep = pin!(time::sleep_until(now));
        assert!(!sleep.is_elapsed(), "never polled: not elapsed, though due");
        sleep.as_mut().await;
        assert!(sleep.is_elapsed());

        sleep.as_mut().reset(now + ms(10));
        assert!(!sleep.is_elapsed(), "a reset starts it over");
        let poll_noop = |sleep: std::pin::Pin<&mut time::Sleep>| {
            sleep.poll(&mut Context::from_waker(Waker::noop()))
        };
        assert!(poll_noop(sleep.as_mut()).is_pending());
        assert!(!sleep.is_elapsed());
        time::advance(ms(10)).await;
        assert!(
            sleep.is_elapsed(),
            "armed and due: elapsed before it is polled"
        );
        assert!(poll_noop(sleep.as_mut()).is_ready());
        assert!(poll_noop(sleep.as_mut()).is_ready(), "and stays ready");
    });
}

#[test]
fn sleeping_for_duration_max_on_a_paused_clock_neither_panics_nor_returns_at_once() {
    on_a_paused_clock("sleep_max", async {
        let start = Instant::now();
        let real = std::time::Instant::now();
        poll_fn(|cx| {
            let mut sleep = pin!(time::sleep(Duration::MAX));
            assert!(sleep.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        time::sleep(Duration::MAX - ms(1)).await; // the clock jumps, some decades on
        assert!(start.elapsed() > Duration::from_secs(86_400 * 365 * 10));
        assert!(real.elapsed() < Duration::from_secs(10));
    });
}
