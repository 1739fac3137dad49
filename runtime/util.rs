//! Small helpers shared by the whole runtime.

use std::fmt::Display;
use std::io;
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

/// The same error kind, with what was being done and to what in the message:
/// `with_context(err, "connect to", addr)` reads "connect to 127.0.0.1:80: Connection refused
/// (os error 111)"; `fs` names paths the same way. The kind is what callers match on, so it
/// is never changed.
pub(crate) fn with_context(err: io::Error, what: &str, target: impl Display) -> io::Error {
    io::Error::new(err.kind(), format!("{what} {target}: {err}"))
}
