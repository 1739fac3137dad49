//! First steps with asincrono: the handful of tools every async program uses, one after the
//! other, each small enough to read at a glance. The book's chapter "Using async Rust" walks
//! through it.
//!
//! ```text
//! cargo run --example first_steps
//! ```
//!
//! It runs in well under a second: `spawn` and `async move`, `join!`, `select!`, `timeout`,
//! a channel read like a stream, and `spawn_local` for a future that is not `Send`. Every
//! part checks what it printed, and the program ends with `PASS` (or `FAIL` and the part
//! that went wrong), so it doubles as a test (`tests/stages.rs` runs it).

use asincrono::sync::mpsc;
use asincrono::task::{self, LocalSet};
use asincrono::time::{self, Duration, Instant};
use std::rc::Rc;

// ANCHOR: main
#[asincrono::main]
async fn main() {
    let checks = [
        ("spawn", spawn_and_move().await),
        ("join!", join_two().await),
        ("select!", select_the_first().await),
        ("timeout", give_up_in_time().await),
        ("stream", read_a_stream().await),
        ("spawn_local", stay_on_this_thread().await),
    ];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| *name)
        .collect();
    if failed.is_empty() {
        println!("PASS");
    } else {
        println!("FAIL: {}", failed.join(", "));
    }
}
// ANCHOR_END: main

// ANCHOR: spawn_and_move
/// A task per job. `async move` hands each task its own copy of what it uses, because a
/// spawned task may outlive the function that spawned it.
async fn spawn_and_move() -> bool {
    let mut handles = Vec::new();
    for number in 1..=3 {
        let name = format!("job-{number}");
        handles.push(task::spawn(async move {
            time::sleep(Duration::from_millis(10 * number)).await;
            format!("{name} done")
        }));
    }
    let mut answers = Vec::new();
    for handle in handles {
        // `?`-free for brevity: a task that panicked would show up here as an `Err`.
        answers.push(handle.await.expect("the task did not panic"));
    }
    println!("spawn:   {answers:?}");
    answers == ["job-1 done", "job-2 done", "job-3 done"]
}
// ANCHOR_END: spawn_and_move

// ANCHOR: join_two
/// Two futures in one task, polled in turn: the pair takes as long as the slower one, and
/// the second, faster one finishes first (one after the other, it would finish last).
async fn join_two() -> bool {
    let started = Instant::now();
    let finished = std::cell::RefCell::new(Vec::new());
    let (a, b) = asincrono::join!(
        async {
            time::sleep(Duration::from_millis(50)).await;
            finished.borrow_mut().push("slow");
            "slow"
        },
        async {
            time::sleep(Duration::from_millis(20)).await;
            finished.borrow_mut().push("fast");
            "fast"
        },
    );
    let took = started.elapsed();
    println!("join!:   ({a}, {b}) in {} ms", took.as_millis());
    (a, b) == ("slow", "fast") && *finished.borrow() == ["fast", "slow"]
}
// ANCHOR_END: join_two

// ANCHOR: select_the_first
/// Whichever finishes first wins; the other branch is dropped, which cancels it.
async fn select_the_first() -> bool {
    let winner = asincrono::select! {
        _ = time::sleep(Duration::from_millis(200)) => "the slow timer",
        _ = time::sleep(Duration::from_millis(10)) => "the fast timer",
    };
    println!("select!: {winner} won");
    winner == "the fast timer"
}
// ANCHOR_END: select_the_first

// ANCHOR: give_up_in_time
/// A deadline around any future: `Err(Elapsed)` if it is not done in time.
async fn give_up_in_time() -> bool {
    let never = std::future::pending::<()>();
    let result = time::timeout(Duration::from_millis(20), never).await;
    println!("timeout: {result:?}");
    result.is_err()
}
// ANCHOR_END: give_up_in_time

// ANCHOR: read_a_stream
/// Values that arrive over time, read one `.await` at a time until the senders are gone.
async fn read_a_stream() -> bool {
    let (sender, mut receiver) = mpsc::channel(4);
    task::spawn(async move {
        for value in 1..=5 {
            if sender.send(value).await.is_err() {
                return; // the receiver is gone: nobody to send to
            }
        }
        // `sender` drops here, which ends the loop below.
    });
    let mut total = 0;
    while let Some(value) = receiver.recv().await {
        total += value;
    }
    println!("stream:  the values added up to {total}");
    total == 15
}
// ANCHOR_END: read_a_stream

// ANCHOR: stay_on_this_thread
/// An `Rc` is not `Send`, so a future holding one across an `.await` cannot be given to
/// `spawn`. A `LocalSet` runs such futures on the thread that drives it.
async fn stay_on_this_thread() -> bool {
    let local = LocalSet::new();
    let length = local
        .run_until(async {
            let shared = Rc::new(String::from("kept on one thread"));
            let for_the_task = Rc::clone(&shared);
            let handle = task::spawn_local(async move {
                task::yield_now().await;
                for_the_task.len()
            });
            handle.await.expect("the local task did not panic")
        })
        .await;
    println!("local:   a string of {length} bytes");
    length == "kept on one thread".len()
}
// ANCHOR_END: stay_on_this_thread
