//! [`AsincronoTimer`] and [`AsincronoSleep`]: hyper's timeouts on asincrono's timer queue.
//!
//! hyper keeps no clock of its own. For a header-read timeout, a keep-alive ping or a
//! pooled connection's idle limit it asks its `Timer` for a `Sleep`, a boxed future that
//! completes at a deadline, and, to move a deadline, for a `reset`. Here each `Sleep` is an
//! [`asincrono::time::Sleep`], so hyper's deadlines sit in the same timer queue as the
//! program's own, and a paused test clock ([`asincrono::time::pause`]) pauses them too.
//!
//! Where the models meet:
//!
//! * **Instants.** hyper speaks `std::time::Instant`; asincrono's [`Instant`] wraps one, so a
//!   deadline converts both ways without loss. [`Timer::now`](hyper::rt::Timer::now) answers
//!   with the runtime's clock, so hyper measures "now" on the same clock that fires its
//!   timers, paused or not.
//! * **Resetting.** hyper's default `reset` drops the old `Sleep` and boxes a new one. This
//!   one recognises its own `AsincronoSleep` (hyper's `downcast_mut_pin`) and moves its
//!   deadline in place, which keeps the allocation and re-files the timer.
//! * **What a wake crosses.** When the deadline passes, the driver wakes the waker of the
//!   last poll, which is the waker of the asincrono task running hyper's connection; that
//!   task polls hyper, which polls the `Sleep` and sees it ready.
//!
//! What hyper-util does instead: its `TokioTimer` is the same wrapper around `tokio::time`,
//! and it moves a deadline in place the same way. The corner cut: a sleep must be polled
//! inside a runtime with timers (it panics otherwise, as asincrono's `sleep` does); hyper
//! polls its sleeps from the connection future, which runs in one.

use asincrono::time::Instant;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Gives hyper [`AsincronoSleep`]s on the current runtime's timer queue.
///
/// ```
/// use asincrono_hyper::AsincronoTimer;
/// use hyper::rt::Timer;
/// use std::time::Duration;
///
/// asincrono::block_on(async {
///     let start = asincrono::time::Instant::now();
///     AsincronoTimer::new().sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct AsincronoTimer;

impl AsincronoTimer {
    /// The timer (it has no state: the runtime is the one each sleep is first polled in).
    pub fn new() -> AsincronoTimer {
        AsincronoTimer
    }
}

pin_project_lite::pin_project! {
    /// A hyper `Sleep`: an [`asincrono::time::Sleep`] behind hyper's trait.
    #[derive(Debug)]
    pub struct AsincronoSleep {
        #[pin]
        inner: asincrono::time::Sleep,
    }
}

// ANCHOR: timer
impl hyper::rt::Timer for AsincronoTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let inner = asincrono::time::sleep(duration);
        Box::pin(AsincronoSleep { inner })
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let inner = asincrono::time::sleep_until(Instant::from_std(deadline));
        Box::pin(AsincronoSleep { inner })
    }

    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<AsincronoSleep>() {
            Some(ours) => ours.project().inner.reset(Instant::from_std(new_deadline)),
            // Some other timer's sleep: replace it, as hyper's default does.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
// ANCHOR_END: timer

impl Future for AsincronoSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // On `Pending`, asincrono's `Sleep` has filed `cx`'s waker with the timer queue.
        self.project().inner.poll(cx)
    }
}

impl hyper::rt::Sleep for AsincronoSleep {}

#[cfg(test)]
mod tests {
    use super::*;
    use asincrono::runtime::Builder;
    use hyper::rt::Timer;

    /// Runs `body` on a current-thread runtime whose clock starts paused: sleeps end as soon
    /// as nothing else can run, and the clock then shows exactly their deadline.
    fn paused(body: impl Future<Output = ()>) {
        let runtime = Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            asincrono::time::pause();
            body.await
        });
    }

    #[test]
    fn a_sleep_ends_at_its_deadline_on_the_runtime_clock() {
        paused(async {
            let start = Instant::now();
            AsincronoTimer.sleep(Duration::from_secs(30)).await;
            assert_eq!(start.elapsed(), Duration::from_secs(30));
        });
    }

    #[test]
    fn now_is_the_runtime_clock_so_a_paused_clock_stays_still() {
        paused(async {
            let before = AsincronoTimer.now();
            std::thread::sleep(Duration::from_millis(5)); // real time passes; the clock does not
            assert_eq!(AsincronoTimer.now(), before);
            AsincronoTimer
                .sleep_until(before + Duration::from_secs(2))
                .await;
            assert_eq!(AsincronoTimer.now(), before + Duration::from_secs(2));
        });
    }

    #[test]
    fn reset_moves_the_deadline_of_the_same_sleep() {
        paused(async {
            let start = AsincronoTimer.now();
            let mut sleep = AsincronoTimer.sleep(Duration::from_secs(60));
            let before: *const dyn hyper::rt::Sleep = &*sleep;
            AsincronoTimer.reset(&mut sleep, start + Duration::from_secs(3));
            assert!(
                std::ptr::addr_eq(before, &*sleep),
                "moved in place, not re-boxed"
            );
            sleep.await;
            assert_eq!(AsincronoTimer.now(), start + Duration::from_secs(3));
        });
    }

    /// A `Sleep` from some other timer: ready at once.
    struct Foreign;

    impl Future for Foreign {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }

    impl hyper::rt::Sleep for Foreign {}

    #[test]
    fn reset_replaces_a_sleep_it_did_not_make() {
        paused(async {
            let start = AsincronoTimer.now();
            let mut sleep: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Foreign);
            AsincronoTimer.reset(&mut sleep, start + Duration::from_secs(4));
            assert!(
                sleep
                    .as_mut()
                    .downcast_mut_pin::<AsincronoSleep>()
                    .is_some()
            );
            sleep.await;
            assert_eq!(AsincronoTimer.now(), start + Duration::from_secs(4));
        });
    }

    #[test]
    fn a_sleep_is_woken_on_a_multi_thread_runtime() {
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let sleeping = asincrono::spawn(AsincronoTimer.sleep(Duration::from_millis(20)));
            let outcome = asincrono::time::timeout(Duration::from_secs(10), sleeping).await;
            outcome.expect("woken well within 10 s").unwrap();
        });
    }
}
