//! Exercise: write `join_all`, which runs a list of futures at the same time.
//!
//! **The task.** Rewrite [`join_all`] below so that it polls *every* future each time it is
//! polled itself, keeps each output as it arrives, and returns the outputs in the order of
//! the input, once all of them are ready. The version shipped here awaits the futures one
//! after the other: it compiles, it is tidy, and it is wrong, because the second future does
//! not start until the first one has finished. Two futures that need each other then wait
//! for ever. Only `join_all` needs to change; leave the checks alone.
//!
//! Hints: `std::future::poll_fn` turns a closure over `&mut Context` into a future; the
//! futures need pinning before they can be polled (`Box::pin` is the simple way); and a
//! future must not be polled again once it has returned `Ready`.
//!
//! **Run it** with `cargo run --example exercise_join_all`.
//!
//! **What you see.** As shipped, the handshake check fails and the program exits with
//! status 1:
//!
//! ```text
//! ok:   outputs come back in input order
//! FAIL: the futures run at the same time: the handshake did not finish within 1 s: ...
//! ok:   an empty list gives an empty list
//! FAIL: 1 of 3 checks failed
//! ```
//!
//! When `join_all` is right, every line starts with `ok:` and the last one is `PASS` (exit
//! status 0). The reference solution is in `docs/src/solutions.md`; try first.

use asincrono::sync::oneshot;
use asincrono::time::{sleep, timeout};
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

/// The checks' output: one line each, then PASS or FAIL (shared by the three exercises).
#[path = "exercises/check.rs"]
mod check;

// The reference answer replaces the part marked THE EXERCISE when the tests build this file
// with `--cfg exercise_solved` (`cargo test --test exercises`); a plain build uses yours.
#[cfg(exercise_solved)]
include!("exercises/solutions/join_all.rs");

#[cfg(not(exercise_solved))]
/// Runs every future in `futures` to completion and returns their outputs in input order.
///
/// THE EXERCISE: this version awaits one future after the other, so they do not overlap.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut outputs = Vec::with_capacity(futures.len());
    for future in futures {
        outputs.push(future.await);
    }
    outputs
}

/// The checks hand `join_all` futures of different bodies, so they are boxed to one type.
type Job = Pin<Box<dyn Future<Output = u32>>>;

/// The outputs come back in the order of the input, not in the order the futures finish:
/// the first future here is the slowest.
async fn outputs_in_order() -> Result<(), String> {
    let jobs: Vec<Job> = [30, 10, 20]
        .into_iter()
        .enumerate()
        .map(|(index, millis)| -> Job {
            Box::pin(async move {
                sleep(Duration::from_millis(millis)).await;
                index as u32
            })
        })
        .collect();
    let outputs = timeout(Duration::from_secs(1), join_all(jobs))
        .await
        .map_err(|_| "join_all did not finish within 1 s".to_string())?;
    if outputs == [0, 1, 2] {
        Ok(())
    } else {
        Err(format!("expected [0, 1, 2], got {outputs:?}"))
    }
}

/// Two futures that can only finish together: the answerer waits for a question, the asker
/// sends one and waits for the answer. Awaited one after the other, the first waits for
/// something only the second can do, and neither finishes.
async fn futures_run_at_the_same_time() -> Result<(), String> {
    let (question_tx, question_rx) = oneshot::channel::<u32>();
    let (answer_tx, answer_rx) = oneshot::channel::<u32>();
    let answerer: Job = Box::pin(async move {
        let question = question_rx.await.unwrap_or(0);
        let _ = answer_tx.send(question + 1);
        question
    });
    let asker: Job = Box::pin(async move {
        let _ = question_tx.send(41);
        answer_rx.await.unwrap_or(0)
    });
    let outputs = timeout(Duration::from_secs(1), join_all(vec![answerer, asker]))
        .await
        .map_err(|_| {
            "the handshake did not finish within 1 s: the second future never started while \
             the first waited for it, so the futures are awaited one after the other"
                .to_string()
        })?;
    if outputs == [41, 42] {
        Ok(())
    } else {
        Err(format!("expected [41, 42], got {outputs:?}"))
    }
}

/// No futures: the result is ready at once, and empty.
async fn empty_list() -> Result<(), String> {
    let outputs = timeout(Duration::from_secs(1), join_all(Vec::<Job>::new()))
        .await
        .map_err(|_| "join_all of nothing never finished".to_string())?;
    if outputs.is_empty() {
        Ok(())
    } else {
        Err(format!("expected no outputs, got {outputs:?}"))
    }
}

async fn run() -> ExitCode {
    let results = [
        ("outputs come back in input order", outputs_in_order().await),
        (
            "the futures run at the same time",
            futures_run_at_the_same_time().await,
        ),
        ("an empty list gives an empty list", empty_list().await),
    ];
    check::report(&results)
}

fn main() -> ExitCode {
    asincrono::block_on(run())
}
