//! Blocking a thread on a future: the rule that `block_on` does not nest, kept per thread,
//! and [`park_until_ready`], the loop that polls a future on a thread that runs no tasks.
//!
//! A thread inside `block_on`, or a multi-thread worker, is the thread that drives some
//! runtime's tasks. If code running there called `block_on` again, it would stop that very
//! thread, and the tasks the outer future waits for might never run. So such a thread is
//! marked, and a second `block_on` on it panics with a message saying what to do instead.
//! tokio enforces the same rule, with the same kind of flag in its thread-local context.

use super::spin_then_park::SpinThenPark;
use crate::primitives::atomic::AtomicBool;
use crate::primitives::thread::{self, Thread};
use crate::task::with_budget;
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Wake, Waker};

thread_local! {
    /// Whether this thread drives a runtime right now. Set by [`enter_block_on`], cleared
    /// by the guard it returns; no one else touches it.
    static IN_BLOCK_ON: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread drives a runtime right now (a worker, or inside `block_on`): where
/// parking the thread would stop the tasks it runs.
pub(crate) fn drives_a_runtime() -> bool {
    IN_BLOCK_ON.try_with(Cell::get).unwrap_or(false)
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

/// Lifts the rule until the guard drops (putting back what was there): for the closure of
/// `block_in_place`, whose thread no longer drives any runtime and may block on a future.
pub(crate) fn allow_block_on() -> AllowBlockOnGuard {
    let was = IN_BLOCK_ON
        .try_with(|flag| flag.replace(false))
        .unwrap_or(false);
    AllowBlockOnGuard(was)
}

/// Puts the flag back as [`allow_block_on`] found it.
pub(crate) struct AllowBlockOnGuard(bool);

impl Drop for AllowBlockOnGuard {
    fn drop(&mut self) {
        let _ = IN_BLOCK_ON.try_with(|flag| flag.set(self.0));
    }
}

impl Drop for BlockOnGuard {
    fn drop(&mut self) {
        // `try_with`: the guard may drop while the thread's locals are being destroyed.
        let _ = IN_BLOCK_ON.try_with(|flag| flag.set(false));
    }
}

// ANCHOR: park_until_ready
/// Runs `future` to completion on this thread, which does nothing else meanwhile: it polls
/// the future, and waits until the future's waker raises its flag, watching the flag for a
/// moment and then sleeping in `thread::park` (`spin_then_park.rs`). No tasks and
/// no driver run here; on a multi-thread runtime the workers do that, and `Handle::block_on`
/// on a current-thread runtime needs another thread inside `Runtime::block_on` for timers
/// and I/O to move, as in tokio.
pub(crate) fn park_until_ready<F: Future>(future: F) -> F::Output {
    park_until_ready_sparing(future, || true)
}

/// [`park_until_ready`], whose waits watch the flag first only when `core_to_spare()` says
/// a core is free for it (see `spin_then_park.rs`).
pub(crate) fn park_until_ready_sparing<F: Future>(
    future: F,
    core_to_spare: impl Fn() -> bool,
) -> F::Output {
    let mut future = pin!(future);
    let unparker = FlagUnparker::for_current_thread();
    let waker = Waker::from(unparker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut waiting = SpinThenPark::new();
    loop {
        if let Poll::Ready(output) = with_budget(|| future.as_mut().poll(&mut cx)) {
            return output;
        }
        // Waker contract: whoever makes the future ready wakes `waker`, which raises
        // `woken` and unparks us. A wake that came during the poll left the flag up: the
        // wait returns at once.
        waiting.wait(&unparker.woken, core_to_spare());
    }
}
// ANCHOR_END: park_until_ready

/// The waker of [`park_until_ready`] (and of [`thread_waker`], and of the `io` tests' little
/// executor): it raises the flag that the waiting thread watches, then unparks the thread in
/// case it went to sleep.
pub(crate) struct FlagUnparker {
    /// Raised by every wake; lowered by the waiting thread when it sees it.
    pub(crate) woken: AtomicBool,
    /// The waiting thread.
    thread: Thread,
}

impl FlagUnparker {
    /// A waker for the calling thread, its flag down.
    pub(crate) fn for_current_thread() -> Arc<FlagUnparker> {
        Arc::new(FlagUnparker {
            woken: AtomicBool::new(false),
            thread: thread::current(),
        })
    }
}

impl Wake for FlagUnparker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release: what the waker wrote before waking is visible to the thread that sees
        // the flag (it reads it with Acquire).
        self.woken.store(true, Ordering::Release);
        // Without a sleeper this only sets std's token (no system call); the next `park`
        // returns at once and finds the flag down, and sleeps again.
        self.thread.unpark();
    }
}

/// A waker that unparks the calling thread: for a thread that sleeps in `thread::park` and
/// looks at its own state when it wakes (the current-thread `block_on` waiting for the
/// core). The same [`FlagUnparker`]; its flag simply goes unread there.
pub(crate) fn thread_waker() -> Waker {
    Waker::from(FlagUnparker::for_current_thread())
}
