//! Stage 1 of the build-your-own track: `block_on` that polls in a loop.
//!
//! The smallest thing that runs a future: poll it, and if it says `Pending`, poll it again.
//! The waker does nothing, so the loop cannot know when polling is worth it: it spins, and
//! burns a core while the future waits. Stage 2 gives it a real waker. (A real runtime
//! never spins; see the book's chapter "Build your own runtime".)
//!
//! `cargo run --example stage1` prints `PASS` when the self-check at the bottom holds.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

// ANCHOR: stage1_block_on
/// Runs `future` to completion on this thread, polling it again and again.
fn block_on<F: Future>(future: F) -> (F::Output, u64) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return (output, polls);
        }
        // Nothing tells us when to try again, so try again at once: a busy loop.
    }
}
// ANCHOR_END: stage1_block_on

// ANCHOR: stage1_sleep
/// A timer that checks the clock each time it is polled: `Pending` until its deadline.
struct Sleep {
    deadline: Instant,
}

fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now() + duration,
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending // and no one will say when to look again
        }
    }
}
// ANCHOR_END: stage1_sleep

/// The self-check: two sleeps in a row, awaited from an `async` block.
fn main() {
    let started = Instant::now();
    let (answer, polls) = block_on(async {
        sleep(Duration::from_millis(20)).await;
        sleep(Duration::from_millis(20)).await;
        42
    });
    let took = started.elapsed();
    println!(
        "stage 1: answer {answer} after {} ms and {polls} polls",
        took.as_millis()
    );
    // It works, and the poll count shows the price: thousands of polls for two waits.
    let pass = answer == 42 && took >= Duration::from_millis(40) && polls > 100;
    println!("{}", if pass { "PASS" } else { "FAIL" });
}
