//! `Promise.all` and `asyncio.gather` in asincrono: `join!`, and `try_join!` for the
//! "first failure wins" of `Promise.all`. Chapter "Coming from JavaScript or asyncio".
//!
//! ```text
//! cargo run --example from_js_promise_all
//! ```

use asincrono::time::{self, Duration, Instant};

/// Stands for a request that takes `millis` and then answers, or fails if `fail`.
async fn fetch(name: &str, millis: u64, fail: bool) -> Result<String, String> {
    time::sleep(Duration::from_millis(millis)).await;
    if fail {
        Err(format!("{name} failed"))
    } else {
        Ok(format!("{name}: 200"))
    }
}

#[asincrono::main(flavor = "current_thread")]
async fn main() {
    // ANCHOR: gather
    // JavaScript: const [a, b] = await Promise.all([fetch("a"), fetch("b")]);
    // asyncio:    a, b = await asyncio.gather(fetch("a"), fetch("b"))
    let started = Instant::now();
    let (a, b) = asincrono::join!(fetch("a", 100, false), fetch("b", 150, false));
    let together = started.elapsed();
    println!("join!:     {a:?} {b:?} after {} ms", together.as_millis());

    // Promise.all rejects as soon as one promise rejects: that is `try_join!`, which also
    // drops (cancels) the others at that moment.
    let started = Instant::now();
    let failed = asincrono::try_join!(fetch("c", 500, false), fetch("d", 50, true));
    let short_circuit = started.elapsed();
    println!(
        "try_join!: {failed:?} after {} ms",
        short_circuit.as_millis()
    );
    // ANCHOR_END: gather

    let pass = together < Duration::from_millis(240)
        && a.is_ok()
        && b.is_ok()
        && failed == Err("d failed".to_string())
        && short_circuit < Duration::from_millis(400);
    println!("{}", if pass { "PASS" } else { "FAIL" });
}
