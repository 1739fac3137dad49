//! How often a multi-thread worker looks at the injector, tuned to how long tasks take.
//!
//! A worker with a busy local queue looks at the injector (the queue of tasks woken from
//! outside its workers) only every so many tasks. With a fixed count, the wait of an injected
//! task grows with the length of the tasks: 61 tasks of 50 µs each keep it waiting 3 ms, 61
//! of 100 ns only 6 µs. So the count is tuned instead, to aim at one look every
//! [`TARGET`] of polling: after each look, the worker measures the average poll time since
//! the previous one (one clock read per look, not per task), keeps a moving average of it,
//! and sets the next count to `TARGET / average`, between [`MIN`] and [`MAX`].
//!
//! tokio tunes the same quantity toward the same 200 µs target, with the same bounds. A
//! count set with `Builder::global_queue_interval` turns the tuning off, as in tokio.

use std::time::{Duration, Instant};

/// How much polling, at most, an injected task should wait for (tokio's target too).
const TARGET: Duration = Duration::from_micros(200);

/// The fewest tasks between two looks: looking after every task would make every local task
/// pay for a look at a shared queue.
const MIN: u32 = 2;

/// The most tasks between two looks, however short the tasks.
const MAX: u32 = 127;

/// The weight of the newest measurement in the moving average: a tenth, so that one odd
/// batch (a task that blocked) moves the count only a little.
const NEW_WEIGHT: f64 = 0.1;

/// One worker's count of tasks between two looks at the injector.
#[derive(Debug)]
pub(crate) struct InjectorInterval {
    /// The current count.
    interval: u32,
    /// `None` when the user fixed the count: then it never changes.
    tuning: Option<Tuning>,
}

/// The measurements behind a tuned count.
#[derive(Debug)]
struct Tuning {
    /// The moving average of one poll's duration, in nanoseconds.
    average_poll_nanos: f64,
    /// When the tasks counted since the last look started being polled.
    since: Instant,
}

impl InjectorInterval {
    /// A count fixed by the user, or, for `None`, one tuned from 61.
    pub(crate) fn new(fixed: Option<u32>, initial: u32) -> InjectorInterval {
        let tuning = fixed.is_none().then(|| Tuning {
            average_poll_nanos: TARGET.as_nanos() as f64 / f64::from(initial),
            since: Instant::now(),
        });
        InjectorInterval {
            interval: fixed.unwrap_or(initial),
            tuning,
        }
    }

    /// How many tasks to poll before the next look.
    pub(crate) fn get(&self) -> u32 {
        self.interval
    }

    /// The worker looks at the injector after polling `polled` tasks since the last look:
    /// fold their average poll time in and set the next count.
    pub(crate) fn looked(&mut self, polled: u32) {
        let Some(tuning) = &mut self.tuning else {
            return;
        };
        let now = Instant::now();
        if polled > 0 {
            let per_poll = now.duration_since(tuning.since).as_nanos() as f64 / f64::from(polled);
            tuning.average_poll_nanos =
                NEW_WEIGHT * per_poll + (1.0 - NEW_WEIGHT) * tuning.average_poll_nanos;
            let count = TARGET.as_nanos() as f64 / tuning.average_poll_nanos.max(1.0);
            self.interval = (count as u32).clamp(MIN, MAX);
        }
        tuning.since = now;
    }

    /// The worker slept: time spent asleep is not polling, so measure afresh from now.
    pub(crate) fn woke_up(&mut self) {
        if let Some(tuning) = &mut self.tuning {
            tuning.since = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `rounds` looks of `polled` tasks, each batch taking `per_task` of real time.
    fn after(rounds: u32, polled: u32, per_task: Duration) -> u32 {
        let mut interval = InjectorInterval::new(None, 61);
        for _ in 0..rounds {
            std::thread::sleep(per_task * polled);
            interval.looked(polled);
        }
        interval.get()
    }

    #[test]
    fn slow_tasks_make_the_worker_look_often_and_fast_ones_rarely() {
        assert!(after(20, 4, Duration::from_micros(100)) <= 4);
        let mut fast = InjectorInterval::new(None, 61);
        for _ in 0..50 {
            fast.looked(127); // no time passes to speak of: tasks of a few nanoseconds
        }
        assert_eq!(fast.get(), MAX);
    }

    #[test]
    fn a_count_the_user_fixed_never_moves() {
        let mut fixed = InjectorInterval::new(Some(5), 61);
        std::thread::sleep(Duration::from_millis(2));
        fixed.looked(1);
        assert_eq!(fixed.get(), 5);
    }
}
