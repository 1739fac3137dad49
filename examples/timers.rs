//! Timers: `sleep`, `timeout`, `interval`, and cancelling a timer by dropping it.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example timers
//! ```
//!
//! It runs four short demonstrations, about two seconds in all, and says before each one
//! what it shows. What to look for:
//!
//! 1. `sleep` wakes never early and only a little late (timers have millisecond
//!    resolution);
//! 2. `timeout` returns the value of a future that is fast enough, and `Err(Elapsed)` right
//!    at the deadline for one that is not (that future is dropped, so it stops);
//! 3. `interval`'s first tick is immediate, and its deadlines stay exactly one period apart
//!    even when the work between two ticks overruns a period: the tick after the overrun
//!    is late, and the next one is back on schedule;
//! 4. a task sleeping for ten seconds is aborted after 100 ms: dropping a `Sleep` removes
//!    its timer, so the program does not wait for it, and the task's locals are dropped.

use asincrono::task;
use asincrono::time::{self, Instant};
use std::time::Duration;

#[asincrono::main]
async fn main() {
    let started = Instant::now();
    sleep_demo().await;
    timeout_demo().await;
    interval_demo().await;
    cancel_demo().await;
    println!("\nAll done in {:.2} s.", started.elapsed().as_secs_f64());
}

fn heading(title: &str) {
    println!("\n== {title}");
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn sleep_demo() {
    heading("1. sleep: park this task until a deadline; the thread is free meanwhile");
    let before = Instant::now();
    time::sleep(Duration::from_millis(300)).await;
    println!(
        "sleep(300 ms) returned after {:.1} ms",
        millis(before.elapsed())
    );

    // `sleep_until` takes the deadline itself, handy when it was computed earlier.
    let deadline = before + Duration::from_millis(500);
    time::sleep_until(deadline).await;
    println!(
        "sleep_until(start + 500 ms) returned at start + {:.1} ms",
        millis(before.elapsed())
    );
}

/// Stands in for a request whose answer takes `delay`.
async fn slow_lookup(delay: Duration) -> &'static str {
    time::sleep(delay).await;
    "the answer"
}

async fn timeout_demo() {
    heading("2. timeout: give a future a deadline");
    for (limit, takes) in [(500, 100), (200, 2_000)] {
        let (limit, takes) = (Duration::from_millis(limit), Duration::from_millis(takes));
        let before = Instant::now();
        let outcome = time::timeout(limit, slow_lookup(takes)).await;
        let waited = millis(before.elapsed());
        let limit = millis(limit);
        let takes = millis(takes);
        match outcome {
            Ok(answer) => {
                println!(
                    "limit {limit} ms, lookup takes {takes} ms: Ok({answer:?}) after {waited:.1} ms"
                )
            }
            // The lookup future was dropped when the limit passed: its own timer went with
            // it, so nothing is left running, and the 2 s it would have taken are not spent.
            Err(elapsed) => {
                println!(
                    "limit {limit} ms, lookup takes {takes} ms: Err({elapsed}) after {waited:.1} ms"
                );
                println!("  (the lookup was dropped at the deadline: it does not run on unseen)");
            }
        }
    }
}

async fn interval_demo() {
    const PERIOD: Duration = Duration::from_millis(200);
    // Work done after each tick; the second one overruns the period.
    const WORK_AFTER_TICK: [u64; 5] = [50, 350, 50, 50, 0];
    heading("3. interval(200 ms): ticks on a fixed grid, whatever the work in between takes");
    println!("tick  deadline   returned at   late by   then works");

    let mut ticks = time::interval(PERIOD);
    let mut origin = None;
    let mut deadlines = Vec::new();
    let mut latest_tick = (0, Duration::ZERO); // (tick number, how late)
    for (number, work_ms) in (1..).zip(WORK_AFTER_TICK) {
        let deadline = ticks.tick().await;
        let late_by = deadline.elapsed();
        let origin = *origin.get_or_insert(deadline);
        println!(
            "{number:4}  +{:5.0} ms  +{:7.1} ms   {:5.1} ms   {work_ms} ms",
            millis(deadline - origin),
            millis(deadline - origin + late_by),
            millis(late_by),
        );
        deadlines.push(deadline);
        if late_by > latest_tick.1 {
            latest_tick = (number, late_by);
        }
        // Stands in for work that takes a while (awaiting a request, say).
        time::sleep(Duration::from_millis(work_ms)).await;
    }

    let gaps: Vec<Duration> = deadlines.windows(2).map(|pair| pair[1] - pair[0]).collect();
    let gaps_ms: Vec<f64> = gaps.iter().map(|gap| millis(*gap)).collect();
    let all_one_period = gaps.iter().all(|gap| *gap == PERIOD);
    println!("gaps between deadlines: {gaps_ms:?} ms; all exactly one period: {all_one_period}");
    let (number, late_by) = latest_tick;
    println!(
        "tick {number} came {:.1} ms late because the work before it overran, yet the grid did not shift",
        millis(late_by)
    );
}

/// Prints when it is dropped, to show when a cancelled task's state goes away.
struct SaysWhenDropped(Instant);

impl Drop for SaysWhenDropped {
    fn drop(&mut self) {
        println!(
            "  the sleeping task's locals are dropped, {:.1} ms after it started",
            millis(self.0.elapsed())
        );
    }
}

async fn cancel_demo() {
    heading("4. cancelling: a timer is cancelled by dropping it");
    let started = Instant::now();
    let sleeper = task::spawn(async move {
        let _witness = SaysWhenDropped(started);
        time::sleep(Duration::from_secs(10)).await;
        println!("  this line is never printed: the task is aborted first");
    });
    time::sleep(Duration::from_millis(100)).await;
    println!("after 100 ms: abort the task that sleeps for 10 s");
    // Aborting drops the task's future, and with it the `Sleep` inside, which takes its
    // entry out of the timer queue. Dropping a `Sleep` you hold directly does the same.
    sleeper.abort();
    match sleeper.await {
        Err(err) if err.is_cancelled() => {
            println!(
                "awaiting its handle gives: {err} ({:.1} ms in)",
                millis(started.elapsed())
            )
        }
        Err(err) => println!("the task failed in an unexpected way: {err}"),
        Ok(()) => println!("the task finished before it could be aborted (unexpected)"),
    }
}
