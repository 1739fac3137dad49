//! Exercise: a `Stream` of ticks over `asincrono::time::Interval`.
//!
//! A stream is a future that yields many values: `poll_next` returns `Ready(Some(item))`
//! for each value, `Ready(None)` when there are no more, and `Pending` when the next one is
//! not there yet. asincrono has no `Stream` trait (tokio keeps it in a separate crate too),
//! so this file defines a minimal one.
//!
//! **The task.** Implement `Stream for Ticks`, so that each item is the deadline of the
//! next tick of the interval inside. The stream never ends. The shipped `poll_next` returns
//! `Pending` and does nothing else, and that is the bug to understand before fixing it:
//! a `Pending` that arranges no wake means the task is never polled again (chapter 1, the
//! waker contract). Look at `Interval::poll_tick` in `runtime/time/interval.rs`: it keeps
//! the contract for you, if you pass it the `Context`.
//!
//! **Run it** with `cargo run --example exercise_interval_stream`.
//!
//! **What you see.** As shipped, the program exits with status 1:
//!
//! ```text
//! FAIL: four ticks arrive, one period apart: never woke: a Pending without a wake ...
//! FAIL: the first tick is immediate: never woke: a Pending without a wake ...
//! FAIL: 2 of 2 checks failed
//! ```
//!
//! With a correct `poll_next`, both lines start with `ok:` and the last is `PASS` (exit
//! status 0). The reference solution is in `docs/src/solutions.md`.

use asincrono::time::{Instant, Interval, interval, timeout};
use std::future::poll_fn;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll};
use std::time::Duration;

/// The checks' output: one line each, then PASS or FAIL (shared by the three exercises).
#[path = "exercises/check.rs"]
mod check;

/// A minimal stream: an asynchronous iterator.
trait Stream {
    /// What the stream yields.
    type Item;

    /// `Ready(Some(item))`: the next item. `Ready(None)`: the stream has ended.
    /// `Pending`: not yet, and (the waker contract) the stream has arranged for
    /// `cx.waker()` to be woken when there may be a next item.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>>;
}

/// Waits for the next item of `stream`.
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// The ticks of an interval, as a stream of their deadlines.
struct Ticks {
    /// The interval that decides when each tick is due.
    interval: Interval,
}

impl Ticks {
    fn new(period: Duration) -> Ticks {
        Ticks {
            interval: interval(period),
        }
    }

    fn period(&self) -> Duration {
        self.interval.period()
    }
}

// The reference answer replaces the part marked THE EXERCISE when the tests build this file
// with `--cfg exercise_solved` (`cargo test --test exercises`); a plain build uses yours.
#[cfg(exercise_solved)]
include!("exercises/solutions/interval_stream.rs");

#[cfg(not(exercise_solved))]
impl Stream for Ticks {
    type Item = Instant;

    /// THE EXERCISE: this returns `Pending` without arranging any wake.
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        Poll::Pending
    }
}

/// What a check says when the stream never produced the item it waited for.
const NEVER_WOKE: &str = "never woke: a Pending without a wake. poll_next returned Pending \
    and arranged no wake-up, so nothing ever polled the task again (the 1 s timeout ended it)";

/// Four ticks arrive within a second, and their deadlines are exactly one period apart.
async fn four_ticks_one_period_apart() -> Result<(), String> {
    let mut ticks = Ticks::new(Duration::from_millis(20));
    let mut deadlines = Vec::new();
    let collect = async {
        for _ in 0..4 {
            match next(&mut ticks).await {
                Some(deadline) => deadlines.push(deadline),
                None => return Err("the stream ended; an interval never ends".to_string()),
            }
        }
        Ok(())
    };
    timeout(Duration::from_secs(1), collect)
        .await
        .map_err(|_| NEVER_WOKE.to_string())??;
    let period = ticks.period();
    for pair in deadlines.windows(2) {
        let gap = pair[1] - pair[0];
        if gap != period {
            return Err(format!(
                "two deadlines are {gap:?} apart, not one period ({period:?})"
            ));
        }
    }
    Ok(())
}

/// An interval's first tick completes at once, so the first item comes without waiting.
async fn first_tick_is_immediate() -> Result<(), String> {
    let mut ticks = Ticks::new(Duration::from_secs(10));
    let started = Instant::now();
    timeout(Duration::from_secs(1), next(&mut ticks))
        .await
        .map_err(|_| NEVER_WOKE.to_string())?
        .ok_or("the stream ended; an interval never ends")?;
    let took = started.elapsed();
    if took < Duration::from_millis(50) {
        Ok(())
    } else {
        Err(format!(
            "the first tick took {took:?}; it should be immediate"
        ))
    }
}

async fn run() -> ExitCode {
    let results = [
        (
            "four ticks arrive, one period apart",
            four_ticks_one_period_apart().await,
        ),
        (
            "the first tick is immediate",
            first_tick_is_immediate().await,
        ),
    ];
    check::report(&results)
}

fn main() -> ExitCode {
    asincrono::block_on(run())
}
