//! How a thread in `block_on` waits for its future's waker: it watches a flag for a few
//! microseconds first, and only then sleeps in the kernel, and it learns from the last few
//! waits whether watching is worth it.
//!
//! Why watch at all: a thread that sleeps costs twice. The waker must make a system call
//! (`futex` wake) instead of setting a flag, and the sleeper needs the kernel to schedule it
//! again, tens of microseconds when the cores are busy. When the wake-ups come thick and fast
//! (a `block_on` consuming a stream of messages that tasks on the workers send), the thread
//! would otherwise sleep and be woken thousands of times a second, and its producers would
//! pay a system call for each. Measured with `perf` on the benchmark's `mpsc_bounded` (four
//! producers on two workers, the consumer in `block_on`), per run of 400,000 messages: the
//! consumer slept about 3,200 times and the process switched threads about 12,500 times;
//! with the watch, about 75 sleeps and 1,800 switches, and the row went from about 1.3 of
//! tokio's time to about 0.7 (chapter 11).
//!
//! Why learn: a thread that waits for something slow (a timer, a connection) would burn the
//! watch's CPU on every wait for nothing. So the watch is adaptive, like the spinning of a
//! good mutex: it doubles when the wake came while watching, or soon after the thread fell
//! asleep (a longer watch would have caught it), and halves when the thread slept long. A
//! `block_on` that waits for slow things soon watches not at all, and idle stays asleep.
//!
//! Why not always: a watch is worth its CPU only on a core nobody else needs. On the same
//! `mpsc_bounded` on a two-core machine, both workers busy with the four producers, the
//! watching consumer took a core from them: on 2026-12-03 the kernel preempted it about
//! 4,000 times a run, and the row was 1.24 and 1.03 of tokio's time in two full runs. So
//! the caller says whether a core is to spare, once per wait; a multi-thread `block_on`
//! says yes when the workers running tasks leave a core free (`Shared::core_to_spare`).
//! Asking again during the watch, every few spins, did worse: a worker is often busy for
//! a moment only (it left the driver to run the task it found), and on `udp_ping_pong`,
//! whose wake-ups the watch is for, the row went from about 0.77 to 1.0–1.2.
//!
//! The corner cut: the watch counts spins, not time, so it lasts longer on a CPU whose
//! `pause` instruction is slow (about 30 ns on the build machine's AMD EPYC, about 40 ns on
//! recent Intel cores, a few ns on older ones). tokio does not watch: its `block_on` parks at
//! once, on a condition variable.

use crate::primitives::atomic::AtomicBool;
use crate::primitives::thread;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The longest watch, in spins: about 30 µs on the build machine.
const MAX_SPINS: u32 = 1024;

/// Where a watch starts again after a short sleep taught it that watching may pay.
const MIN_SPINS: u32 = 16;

/// A sleep shorter than this would probably have been caught by a longer watch.
const SHORT_SLEEP: Duration = Duration::from_micros(50);

/// One waiting thread's watch: how many spins it gives the next wake before it sleeps.
#[derive(Debug)]
pub(crate) struct SpinThenPark {
    /// Spins before the next sleep, between zero and [`MAX_SPINS`].
    spins: u32,
}

impl SpinThenPark {
    /// A watch that starts short, and grows only if the wake-ups come fast.
    pub(crate) fn new() -> SpinThenPark {
        SpinThenPark { spins: MIN_SPINS }
    }

    // ANCHOR: spin_then_park
    /// Returns once `woken` has been set (and clears it): first by watching it, if
    /// `core_to_spare` (see below), then by sleeping until the waker, which sets `woken`
    /// and then unparks this thread, ends it.
    pub(crate) fn wait(&mut self, woken: &AtomicBool, core_to_spare: bool) {
        if !core_to_spare {
            // The cores are busy with the very threads that will wake us: watching would
            // only take a core from them. Sleep, and learn nothing from it.
            return sleep_until(woken);
        }
        if self.watch(woken) {
            self.spins = longer(self.spins);
            return;
        }
        let asleep_since = Instant::now();
        sleep_until(woken);
        self.after_sleep(asleep_since.elapsed());
    }
    // ANCHOR_END: spin_then_park

    /// Watches `woken` for `self.spins` spins; `true` (and the flag cleared) if it was set.
    fn watch(&self, woken: &AtomicBool) -> bool {
        for _ in 0..self.spins {
            // Read, and write only once it changed: a watch that only reads keeps the
            // flag's cache line shared, so the waker's store stays cheap.
            if woken.load(Ordering::Relaxed) && woken.swap(false, Ordering::Acquire) {
                return true;
            }
            std::hint::spin_loop();
        }
        false
    }

    /// What a sleep of `slept` teaches: a short one means a longer watch would have
    /// caught the wake; a long one, that watching is wasted here.
    fn after_sleep(&mut self, slept: Duration) {
        self.spins = if slept < SHORT_SLEEP {
            longer(self.spins)
        } else {
            self.spins / 2
        };
    }
}

/// Sleeps until `woken` is set, and clears it. `park` may return early (an unpark left over
/// from a wake a watch caught, or none at all): the flag, not the return, says whether we
/// were woken.
fn sleep_until(woken: &AtomicBool) {
    while !woken.swap(false, Ordering::Acquire) {
        thread::park();
    }
}

/// The next watch after one that paid: twice as long, within the bounds.
fn longer(spins: u32) -> u32 {
    (spins * 2).clamp(MIN_SPINS, MAX_SPINS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_wake_that_came_first_returns_at_once_and_lengthens_the_watch() {
        let woken = AtomicBool::new(true);
        let mut watch = SpinThenPark::new();
        watch.wait(&woken, true);
        assert!(!woken.load(Ordering::Relaxed), "the wake is consumed");
        assert_eq!(watch.spins, 2 * MIN_SPINS);
    }

    /// A flag, and a thread that raises it and unparks this one, as a waker does.
    fn wake_from_another_thread() -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
        let woken = Arc::new(AtomicBool::new(false));
        let sleeper = thread::current();
        let waker = std::thread::spawn({
            let woken = woken.clone();
            move || {
                woken.store(true, Ordering::Release);
                sleeper.unpark();
            }
        });
        (woken, waker)
    }

    #[test]
    fn a_wake_from_another_thread_ends_the_wait_however_it_comes() {
        for _ in 0..100 {
            let (woken, waker) = wake_from_another_thread();
            // Caught while watching or while asleep: either way `wait` returns.
            SpinThenPark::new().wait(&woken, true);
            waker.join().unwrap();
            assert!(!woken.load(Ordering::Relaxed));
        }
    }

    #[test]
    fn with_no_core_to_spare_the_wait_sleeps_at_once_and_the_watch_learns_nothing() {
        let (woken, waker) = wake_from_another_thread();
        let mut watch = SpinThenPark { spins: MAX_SPINS };
        watch.wait(&woken, false);
        waker.join().unwrap();
        assert!(!woken.load(Ordering::Relaxed), "the wake is consumed");
        assert_eq!(watch.spins, MAX_SPINS, "no watch, so nothing to learn");
        let already = AtomicBool::new(true);
        watch.wait(&already, false);
        assert_eq!(
            watch.spins, MAX_SPINS,
            "not even from a wake that came first"
        );
    }

    #[test]
    fn long_sleeps_wear_the_watch_away_and_a_short_one_brings_it_back() {
        let mut watch = SpinThenPark { spins: MAX_SPINS };
        for _ in 0..11 {
            watch.after_sleep(SHORT_SLEEP * 2);
        }
        assert_eq!(
            watch.spins, 0,
            "a thread that waits for slow things stops watching"
        );
        watch.after_sleep(SHORT_SLEEP / 2);
        assert_eq!(watch.spins, MIN_SPINS);
        for _ in 0..10 {
            watch.after_sleep(Duration::ZERO);
        }
        assert_eq!(
            watch.spins, MAX_SPINS,
            "the watch never grows past its bound"
        );
    }
}
