//! `asyncio.to_thread` / `loop.run_in_executor` (and what libuv's thread pool does for Node's
//! `fs`) in asincrono: `spawn_blocking`. Chapter "Coming from JavaScript or asyncio".
//!
//! ```text
//! cargo run --example from_js_to_thread
//! ```

use asincrono::task;
use asincrono::time::{self, Duration, Instant};

#[asincrono::main(flavor = "current_thread")]
async fn main() {
    // ANCHOR: to_thread
    // asyncio: result = await asyncio.to_thread(blocking_call)
    // A blocking call made straight from a task would stop this thread, and with it every
    // task on it. `spawn_blocking` runs it on the blocking pool and awaits its result.
    let started = Instant::now();
    let blocking = task::spawn_blocking(|| {
        std::thread::sleep(Duration::from_millis(200)); // stands for a slow library call
        42
    });
    // Meanwhile this thread keeps running its tasks: here, a ticker.
    let mut ticks = 0;
    let mut every = time::interval(Duration::from_millis(20));
    while !blocking.is_finished() {
        every.tick().await;
        ticks += 1;
    }
    let answer = blocking.await.expect("the blocking call did not panic");
    println!(
        "spawn_blocking: {answer} after {} ms, {ticks} ticks meanwhile",
        started.elapsed().as_millis()
    );
    // ANCHOR_END: to_thread

    let pass = answer == 42 && ticks >= 5;
    println!("{}", if pass { "PASS" } else { "FAIL" });
}
