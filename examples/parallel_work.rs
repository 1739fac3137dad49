//! CPU-bound work spread across worker threads, while the runtime stays responsive.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example parallel_work
//! ```
//!
//! It counts the primes below a bound twice: first as one task, then split into one task per
//! worker. On a multi-thread runtime the split version runs on all workers at once, so it
//! takes about `1 / workers` of the time (about half on a two-core machine). Meanwhile a
//! ticker task prints a tick every 100 ms and measures how late each tick is: because the
//! counting tasks `yield_now` after every slice of work, the ticker keeps its rhythm even
//! though every worker is busy. (Try removing the `yield_now` in `count_primes`: the ticks
//! stop while the counting runs, because a task that never yields keeps its worker.)

use asincrono::task::yield_now;
use asincrono::time::{Instant, interval};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Count the primes below this.
const LIMIT: u64 = 6_000_000;
/// Numbers tested between two yields: about a millisecond of work.
const SLICE: u64 = 10_000;
/// The ticker's period.
const TICK: Duration = Duration::from_millis(100);

#[asincrono::main]
async fn main() {
    let workers = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    println!("multi-thread runtime, {workers} workers; counting primes below {LIMIT}\n");

    let stop_ticking = Arc::new(AtomicBool::new(false));
    let worst_lateness_us = Arc::new(AtomicU64::new(0));
    let ticker = asincrono::spawn(tick_until(stop_ticking.clone(), worst_lateness_us.clone()));

    let started = Instant::now();
    let alone = count_primes(2, LIMIT, 1).await;
    let one_task = started.elapsed();
    println!("\n  one task:            {alone} primes in {one_task:.2?}");

    let started = Instant::now();
    let split = count_split(workers as u64).await;
    let many_tasks = started.elapsed();
    println!("\n  {workers} tasks in parallel: {split} primes in {many_tasks:.2?}");

    assert_eq!(alone, split, "both ways count the same primes");
    stop_ticking.store(true, Ordering::SeqCst);
    ticker.await.expect("the ticker does not panic");
    println!(
        "\nspeed-up: {:.2}x with {workers} workers (ideal: {workers}x)",
        one_task.as_secs_f64() / many_tasks.as_secs_f64()
    );
    println!(
        "worst tick lateness while every worker was busy: {:.1} ms",
        worst_lateness_us.load(Ordering::SeqCst) as f64 / 1000.0
    );
}

/// Deals the slices of `2..LIMIT` out to `parts` tasks, like cards (slice 0 to task 0, slice
/// 1 to task 1, …), so each gets as many large numbers as small ones; adds up their counts.
async fn count_split(parts: u64) -> u64 {
    let tasks: Vec<_> = (0..parts)
        .map(|part| asincrono::spawn(count_primes(2 + part * SLICE, LIMIT, parts)))
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("counting does not panic");
    }
    total
}

/// Counts the primes in every `stride`-th slice of `SLICE` numbers from `start` up to `end`,
/// yielding after each slice so that the other tasks on this worker (the ticker, for one)
/// get their turn.
async fn count_primes(start: u64, end: u64, stride: u64) -> u64 {
    let mut count = 0;
    let mut slice_start = start;
    while slice_start < end {
        let slice_end = (slice_start + SLICE).min(end);
        count += (slice_start..slice_end).filter(|&n| is_prime(n)).count() as u64;
        slice_start += SLICE * stride;
        yield_now().await;
    }
    count
}

/// Trial division: slow on purpose, so there is work to spread.
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let mut divisor = 3;
    while divisor * divisor <= n {
        if n % divisor == 0 {
            return false;
        }
        divisor += 2;
    }
    true
}

/// Prints a tick every `TICK` until told to stop, recording the worst lateness.
async fn tick_until(stop: Arc<AtomicBool>, worst_lateness_us: Arc<AtomicU64>) {
    let mut ticks = interval(TICK);
    let mut count = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let due = ticks.tick().await;
        let late = due.elapsed();
        worst_lateness_us.fetch_max(late.as_micros() as u64, Ordering::SeqCst);
        count += 1;
        println!(
            "  tick {count:3}  ({:.1} ms late)",
            late.as_secs_f64() * 1000.0
        );
    }
}
