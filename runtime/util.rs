//! Small helpers shared by the whole runtime.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, ignoring poisoning.
///
/// A `std::sync::Mutex` is "poisoned" when a thread panicked while holding it. The runtime
/// catches every panic that user code can raise *before* it can unwind through one of its
/// locks, and the data behind each lock is kept consistent at every step, so a poisoned lock
/// carries no broken invariant here. Ignoring the flag means a panicking task can never turn
/// into a panicking runtime.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
