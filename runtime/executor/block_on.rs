//! The rule that `block_on` does not nest, kept per thread.
//!
//! A thread inside `block_on`, or a multi-thread worker, is the thread that drives some
//! runtime's tasks. If code running there called `block_on` again, it would stop that very
//! thread, and the tasks the outer future waits for might never run. So such a thread is
//! marked, and a second `block_on` on it panics with a message saying what to do instead.
//! tokio enforces the same rule, with the same kind of flag in its thread-local context.

use std::cell::Cell;

thread_local! {
    /// Whether this thread drives a runtime right now. Set by [`enter_block_on`], cleared
    /// by the guard it returns; no one else touches it.
    static IN_BLOCK_ON: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as inside `block_on` until the guard drops.
pub(crate) struct BlockOnGuard(());

/// Marks the thread as blocking on a future.
///
/// # Panics
/// When the thread is already inside `block_on`: blocking there would stop the very thread
/// that drives the tasks the outer future waits for, so it could never finish.
#[track_caller]
pub(crate) fn enter_block_on() -> BlockOnGuard {
    if IN_BLOCK_ON.with(|flag| flag.replace(true)) {
        panic!(
            "block_on called from inside an asincrono runtime: it would block the thread that \
             runs the tasks. Use `.await` on the future instead, or spawn it."
        );
    }
    BlockOnGuard(())
}

impl Drop for BlockOnGuard {
    fn drop(&mut self) {
        // `try_with`: the guard may drop while the thread's locals are being destroyed.
        let _ = IN_BLOCK_ON.try_with(|flag| flag.set(false));
    }
}
