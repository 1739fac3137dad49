//! Rust futures are lazy; JavaScript promises and asyncio tasks are eager. `spawn` is the
//! eager one, like `asyncio.create_task`. Chapter "Coming from JavaScript or asyncio".
//!
//! ```text
//! cargo run --example from_js_lazy
//! ```

use asincrono::task;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raises `flag` the moment its body starts running.
async fn mark(flag: Arc<AtomicBool>) {
    flag.store(true, Ordering::SeqCst);
}

#[asincrono::main(flavor = "current_thread")]
async fn main() {
    // ANCHOR: lazy
    // JavaScript: mark(flag) starts running at once; the promise only carries the result.
    // Rust: calling an async fn only builds the future. Nothing runs until it is polled.
    let lazy_flag = Arc::new(AtomicBool::new(false));
    let future = mark(lazy_flag.clone());
    task::yield_now().await; // give anything that was started a chance to run
    let ran_before_await = lazy_flag.load(Ordering::SeqCst);
    future.await; // now it runs
    let ran_after_await = lazy_flag.load(Ordering::SeqCst);
    println!("a future:  ran before .await? {ran_before_await}; after? {ran_after_await}");

    // asyncio.create_task(mark(flag)): `spawn` hands the future to the runtime, which runs
    // it as soon as this task lets go of the thread, whether or not anyone awaits it.
    let eager_flag = Arc::new(AtomicBool::new(false));
    let handle = task::spawn(mark(eager_flag.clone()));
    task::yield_now().await;
    let spawned_ran = eager_flag.load(Ordering::SeqCst);
    println!("a task:    ran before anyone awaited it? {spawned_ran}");
    drop(handle); // dropping a JoinHandle detaches the task; it does not cancel it
    // ANCHOR_END: lazy

    let pass = !ran_before_await && ran_after_await && spawned_ran;
    println!("{}", if pass { "PASS" } else { "FAIL" });
}
