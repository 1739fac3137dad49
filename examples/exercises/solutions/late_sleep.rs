// The reference answer to `examples/exercise_late_sleep.rs`, shown in the book's solutions page. The
// exercise includes this file in place of its wrong part when it is built with
// `--cfg exercise_solved`, which is how `cargo test --test exercises` checks that the
// answer makes it print PASS. (An included file cannot have a `//!` doc, hence `//`.)

// ANCHOR: answer
use std::sync::{Arc, Mutex};

/// Completes at `deadline`, woken by a thread of its own.
struct Delay {
    /// When the future completes.
    deadline: Instant,
    /// The waker of the latest poll, shared with the timer thread once it is started.
    waker: Option<Arc<Mutex<Waker>>>,
}

impl Delay {
    fn new(after: Duration) -> Delay {
        Delay {
            deadline: Instant::now() + after,
            waker: None,
        }
    }
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Store this poll's waker *before* looking at the clock. The race: the thread may
        // fire between our look at the clock and our store. Stored first, either the thread
        // fires after the store (and wakes this waker), or it fired before it, and then the
        // deadline has passed and the look at the clock below returns Ready.
        match &self.waker {
            Some(shared) => {
                let mut stored = shared.lock().unwrap();
                if !stored.will_wake(cx.waker()) {
                    *stored = cx.waker().clone();
                }
            }
            None => {
                let shared = Arc::new(Mutex::new(cx.waker().clone()));
                let for_thread = shared.clone();
                let deadline = self.deadline;
                thread::spawn(move || {
                    thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    for_thread.lock().unwrap().wake_by_ref();
                });
                self.waker = Some(shared);
            }
        }
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        // Pending: the timer thread wakes the waker stored above, which is this poll's.
        Poll::Pending
    }
}
// ANCHOR_END: answer
