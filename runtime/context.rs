//! "Which runtime am I in?" — the thread-local that lets `spawn`, `sleep` and
//! `TcpStream::connect` find their runtime without one being passed around.
//!
//! `Runtime::block_on` and `Runtime::enter` set it for the current thread, and put back what
//! was there before when they end (guards, so a panic restores it too).

use crate::executor::Handle;
use crate::trace;
use std::cell::{Cell, RefCell};
use std::io;

thread_local! {
    /// The runtime whose context this thread is in, if any.
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// Whether this thread is inside `block_on` (which must not nest).
    static IN_BLOCK_ON: Cell<bool> = const { Cell::new(false) };
}

/// The current runtime's handle.
///
/// # Panics
/// Outside a runtime, naming `what` was called and how to fix it.
#[track_caller]
pub(crate) fn current(what: &str) -> Handle {
    try_current().unwrap_or_else(|| panic!("{}", outside_runtime_message(what)))
}

/// The current runtime's handle, or `None` outside a runtime.
pub(crate) fn try_current() -> Option<Handle> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// Runs `f` on the current runtime's handle without cloning it; `None` outside a runtime.
pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| current.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// What to tell someone who used `what` outside a runtime.
pub(crate) fn outside_runtime_message(what: &str) -> String {
    format!(
        "{what} must be called from inside an asincrono runtime \
         (inside Runtime::block_on, a spawned task, #[asincrono::main], or after Runtime::enter)"
    )
}

/// The current runtime's handle, or an error saying that `what` needs one. I/O operations
/// use this and report the mistake as an `io::Error` (they already return `io::Result`),
/// where `spawn`, which has no error to return, panics.
pub(crate) fn current_or_error(what: &str) -> io::Result<Handle> {
    try_current().ok_or_else(|| io::Error::other(outside_runtime_message(what)))
}

/// Restores the previous context when dropped.
pub(crate) struct EnterGuard {
    previous: Option<Handle>,
    /// The trace recorder this thread used before (see `trace::enter`).
    trace: trace::Entered,
}

/// Makes `handle` the current runtime of this thread until the guard drops.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let trace = trace::enter(handle.recorder());
    let previous = CURRENT.with(|current| current.replace(Some(handle)));
    EnterGuard { previous, trace }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        trace::leave(&mut self.trace);
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
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
        let _ = IN_BLOCK_ON.try_with(|flag| flag.set(false));
    }
}
