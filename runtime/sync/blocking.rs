//! The `blocking_*` methods' engine: drive one future to completion on a plain thread,
//! parking the thread (not a task) while it waits.
//!
//! A plain thread has no executor to come back to it, so the waker handed to the future
//! unparks the thread, and the loop polls again after each unpark. A spurious unpark
//! only costs one extra poll, which is why `std::thread::park` is good enough here.
//!
//! The loop is the executor's own `park_until_ready` (the one `Handle::block_on` uses).
//! As in tokio, it refuses only on threads that drive a runtime (its workers, a thread
//! inside `block_on`): a `blocking_recv` from a `spawn_blocking` job is fine.

use crate::executor::block_on::{drives_a_runtime, park_until_ready};
use std::future::Future;

// ANCHOR: blocking_block_on
/// Runs `future` to completion on this thread, parking between polls.
///
/// # Panics
/// Inside a runtime (see the module's note), naming `what` was called.
#[track_caller]
pub(super) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    if drives_a_runtime() {
        panic!(
            "Cannot block the current thread from within a runtime: {what} parks the thread, \
             which would stall the tasks this runtime runs there. Use the async method with \
             `.await` instead, or call it from a thread of your own."
        );
    }
    park_until_ready(future)
}
// ANCHOR_END: blocking_block_on
