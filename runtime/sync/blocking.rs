//! The `blocking_*` methods' engine: drive one future to completion on a plain thread,
//! parking the thread (not a task) while it waits.
//!
//! A plain thread has no executor to come back to it, so the waker handed to the future
//! unparks the thread, and the loop polls again after each unpark. A spurious unpark
//! only costs one extra poll, which is why `std::thread::park` is good enough here.
//!
//! Corner cut: the check that refuses to block inside a runtime looks at the runtime
//! context of the thread, so it also refuses on a `spawn_blocking` thread (which enters
//! the context so that `spawn` works there). tokio only refuses on threads that drive a
//! runtime (its workers and `block_on`), and so allows a `blocking_recv` from
//! `spawn_blocking`. The one function below is where that rule lives.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// A waker that unparks the thread that made it.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Whether this thread is inside a runtime, where parking it would stop the very tasks
/// that `future` may be waiting for.
fn in_runtime() -> bool {
    crate::executor::context::with_current(|_| ()).is_ok()
}

// ANCHOR: blocking_block_on
/// Runs `future` to completion on this thread, parking between polls.
///
/// # Panics
/// Inside a runtime (see the module's note), naming `what` was called.
#[track_caller]
pub(super) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    if in_runtime() {
        panic!(
            "Cannot block the current thread from within a runtime: {what} parks the thread, \
             which would stall the tasks this runtime runs there. Use the async method with \
             `.await` instead, or call it from a thread of your own."
        );
    }
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // Waker contract: the future filed `waker` wherever it waits; its wake unparks us.
        // An unpark that comes before this park is not lost: it leaves the thread's token
        // set, and `park` returns at once.
        thread::park();
    }
}
// ANCHOR_END: blocking_block_on
