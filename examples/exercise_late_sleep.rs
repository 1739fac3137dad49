//! Exercise: a timer that wakes late, and the waker contract it breaks.
//!
//! [`Delay`] below is a tiny `sleep` of its own: on its first poll it starts a thread that
//! sleeps until the deadline and then calls the waker. It does not use asincrono's timers
//! at all, so all of the waker business is in plain sight.
//!
//! **First, predict.** Read `Delay::poll`. The rule it must keep is "every `Pending` must
//! arrange a wake *of the waker passed to this poll*" (chapter 1, the waker contract). A
//! future can be polled with a different waker from one poll to the next: it may be moved
//! to another task, or polled once by `select!` or a `timeout` before being awaited
//! elsewhere. Which of the three checks below do you expect to fail, and with what
//! message? Then run it and compare.
//!
//! **Then fix it.** Make `Delay` keep the *latest* waker where its timer thread can find it
//! (an `Arc<Mutex<Waker>>` that each poll updates, using `Waker::will_wake` to skip the
//! clone when it has not changed), and make the thread wake whatever is stored there at the
//! deadline. Mind the race between a poll storing a new waker and the thread firing.
//!
//! **Run it** with `cargo run --example exercise_late_sleep`.
//!
//! **What you see.** As shipped, the program exits with status 1:
//!
//! ```text
//! ok:   awaited by the task that first polled it, it completes on time
//! FAIL: polled once elsewhere, then awaited next to a 300 ms sleep: ... (late)
//! FAIL: polled once elsewhere, then awaited alone: never woke: only the 1 s timeout ...
//! FAIL: 2 of 3 checks failed
//! ```
//!
//! The second check is the instructive one: the lost wake does not look like a hang there,
//! only like a timer that fires late, because another future in the same task happens to
//! wake it. Many "my timer is late" reports are lost wakes in disguise. With the fix, every
//! line starts with `ok:` and the last is `PASS` (exit status 0). The reference solution is
//! in `docs/src/solutions.md`.

use asincrono::time::{sleep, timeout};
use std::future::Future;
use std::pin::{Pin, pin};
use std::process::ExitCode;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// The checks' output: one line each, then PASS or FAIL (shared by the three exercises).
#[path = "exercises/check.rs"]
mod check;

// The reference answer replaces the part marked THE EXERCISE when the tests build this file
// with `--cfg exercise_solved` (`cargo test --test exercises`); a plain build uses yours.
#[cfg(exercise_solved)]
include!("exercises/solutions/late_sleep.rs");

#[cfg(not(exercise_solved))]
/// Completes at `deadline`, woken by a thread of its own.
///
/// THE EXERCISE: this version hands the waker of its *first* poll to the timer thread and
/// never looks at a later one.
struct Delay {
    /// When the future completes.
    deadline: Instant,
    /// Whether the timer thread has been started (it is started on the first poll).
    timer_started: bool,
}

#[cfg(not(exercise_solved))]
impl Delay {
    fn new(after: Duration) -> Delay {
        Delay {
            deadline: Instant::now() + after,
            timer_started: false,
        }
    }
}

#[cfg(not(exercise_solved))]
impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.timer_started {
            self.timer_started = true;
            let waker = cx.waker().clone();
            let deadline = self.deadline;
            thread::spawn(move || {
                thread::sleep(deadline.saturating_duration_since(Instant::now()));
                waker.wake();
            });
        }
        // Pending: the timer thread wakes the task at the deadline.
        Poll::Pending
    }
}

/// How long a `Delay` may overrun its deadline and still count as on time: a thread's
/// sleep and a task's wake-up take a little while, but not this long.
const SLACK: Duration = Duration::from_millis(60);

/// The easy case: one task polls the delay from start to end, always with the same waker.
async fn on_time_when_awaited_directly() -> Result<(), String> {
    let started = Instant::now();
    timeout(
        Duration::from_secs(1),
        Delay::new(Duration::from_millis(100)),
    )
    .await
    .map_err(|_| "never woke within 1 s".to_string())?;
    check_on_time(started.elapsed(), Duration::from_millis(100))
}

/// Polls `delay` once with a waker that does nothing, as a `select!` whose other branch won
/// or a `timeout` that gave up would, before the delay is awaited for real.
fn poll_once_elsewhere(delay: Pin<&mut Delay>) {
    let _ = delay.poll(&mut Context::from_waker(Waker::noop()));
}

/// The delay is first polled elsewhere, then awaited in a task that also sleeps 300 ms. The
/// delay's deadline is at 100 ms; the task must be woken then, not when the sleep ends.
async fn on_time_next_to_a_longer_sleep() -> Result<(), String> {
    let started = Instant::now();
    let mut delay = pin!(Delay::new(Duration::from_millis(100)));
    poll_once_elsewhere(delay.as_mut());
    let delay_done = async {
        delay.await;
        started.elapsed()
    };
    let (took, _) = asincrono::join!(delay_done, sleep(Duration::from_millis(300)));
    check_on_time(took, Duration::from_millis(100)).map_err(|why| {
        format!(
            "{why} (late: it completed only when the 300 ms sleep woke the task and it was \
             polled by chance; its own wake went to the waker of its first poll)"
        )
    })
}

/// The same, with nothing else in the task: a lost wake is now a hang, which the 1 s
/// `timeout` ends (its timer wakes the task, and the delay, polled by chance, is then ready).
async fn wakes_when_alone() -> Result<(), String> {
    let started = Instant::now();
    let mut delay = pin!(Delay::new(Duration::from_millis(100)));
    poll_once_elsewhere(delay.as_mut());
    let _ = timeout(Duration::from_secs(1), delay).await;
    let took = started.elapsed();
    if took >= Duration::from_millis(900) {
        return Err(format!(
            "never woke: only the 1 s timeout woke the task (after {} ms, deadline 100 ms). \
             The Pending returned to this task arranged no wake for it; the wake went to \
             the waker of an earlier poll",
            took.as_millis()
        ));
    }
    check_on_time(took, Duration::from_millis(100))
}

/// `Ok` if `took` is between `deadline` and `deadline + SLACK`.
fn check_on_time(took: Duration, deadline: Duration) -> Result<(), String> {
    if took < deadline {
        Err(format!(
            "completed early: after {took:?}, deadline {deadline:?}"
        ))
    } else if took > deadline + SLACK {
        Err(format!(
            "completed after {} ms, deadline {} ms",
            took.as_millis(),
            deadline.as_millis()
        ))
    } else {
        Ok(())
    }
}

async fn run() -> ExitCode {
    let results = [
        (
            "awaited by the task that first polled it, it completes on time",
            on_time_when_awaited_directly().await,
        ),
        (
            "polled once elsewhere, then awaited next to a 300 ms sleep",
            on_time_next_to_a_longer_sleep().await,
        ),
        (
            "polled once elsewhere, then awaited alone",
            wakes_when_alone().await,
        ),
    ];
    check::report(&results)
}

fn main() -> ExitCode {
    asincrono::block_on(run())
}
