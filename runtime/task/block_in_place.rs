//! `task::block_in_place`: run blocking code on a worker thread without stalling its tasks.
//!
//! It is public API (layer 5): it finds its runtime through the context and leaves the work
//! to the multi-thread scheduler (`Shared::block_in_place` in `executor/multi_thread.rs`),
//! which gives the calling worker's place to a new thread first. The corner it cuts, and
//! what tokio does instead, are written there.

use crate::executor::context;

/// Runs the blocking closure `f` on the current thread, after handing this thread's other
/// tasks to a new worker thread, so that they go on running meanwhile.
///
/// Use it where `spawn_blocking` does not fit: `f` may borrow from the task (it need not be
/// `'static` or `Send`), and it may block on a future with `Handle::current().block_on`.
/// Each call on a worker starts a thread, so for many short jobs `spawn_blocking` is cheaper.
/// Outside a runtime, or on a thread of a multi-thread runtime that is not a worker (inside
/// `block_on`, a blocking job), `f` simply runs.
///
/// ```
/// let runtime = asincrono::runtime::Builder::new_multi_thread()
///     .worker_threads(1)
///     .build()
///     .unwrap();
/// runtime.block_on(async {
///     let words = vec!["a", "b"];
///     let joined = asincrono::spawn(async move {
///         // Borrows `words`; the one worker's other tasks move to a new thread meanwhile.
///         asincrono::task::block_in_place(|| words.join("+"))
///     });
///     assert_eq!(joined.await.unwrap(), "a+b");
/// });
/// ```
///
/// # Panics
/// On a current-thread runtime, whose one thread runs every task: there, use
/// [`spawn_blocking`](super::spawn_blocking).
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    match context::with_current(|handle| handle.clone()) {
        Ok(handle) => handle.block_in_place(f),
        Err(_) => f(),
    }
}
