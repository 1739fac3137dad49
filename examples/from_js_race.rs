//! `Promise.race`, `asyncio.wait(..., return_when=FIRST_COMPLETED)` and
//! `asyncio.wait_for` in asincrono: `select!` and `timeout`, and what cancelling means when
//! it is a drop. Chapter "Coming from JavaScript or asyncio".
//!
//! ```text
//! cargo run --example from_js_race
//! ```

use asincrono::time::{self, Duration};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts, in `cleanups`, that its owner was dropped: the `finally` a cancelled future gets.
struct Cleanup(Arc<AtomicUsize>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Synchronous code only: there is no `.await` in a destructor.
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sleeps for `millis`, then records that it finished in `finished`.
async fn slow_job(millis: u64, cleanups: Arc<AtomicUsize>, finished: Arc<AtomicUsize>) -> u64 {
    let _cleanup = Cleanup(cleanups);
    time::sleep(Duration::from_millis(millis)).await;
    finished.fetch_add(1, Ordering::SeqCst); // never reached by a cancelled job
    millis
}

#[asincrono::main(flavor = "current_thread")]
async fn main() {
    let cleanups = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let job = |millis| slow_job(millis, cleanups.clone(), finished.clone());

    // ANCHOR: race
    // JavaScript: await Promise.race([job(30), job(300)])
    // asyncio:    await asyncio.wait([...], return_when=FIRST_COMPLETED)
    // The loser is dropped on the spot: cancelled, not left running in the background.
    let winner = asincrono::select! {
        millis = job(30) => millis,
        millis = job(300) => millis,
    };
    println!("select!:  the {winner} ms job won; the other was dropped");

    // asyncio: await asyncio.wait_for(job(300), timeout=0.05)
    let timed_out = time::timeout(Duration::from_millis(50), job(300)).await;
    println!("timeout:  {timed_out:?}");
    // ANCHOR_END: race

    // Three jobs started, one finished; all three ran their (synchronous) cleanup.
    let (cleaned, done) = (
        cleanups.load(Ordering::SeqCst),
        finished.load(Ordering::SeqCst),
    );
    println!("cleanups: {cleaned} destructors ran, {done} job finished");
    let pass = winner == 30 && timed_out.is_err() && cleaned == 3 && done == 1;
    println!("{}", if pass { "PASS" } else { "FAIL" });
}
