//! Small helpers shared by the whole runtime.

use std::fmt::Display;
use std::io;
use std::sync::PoisonError;

/// Locks `mutex`, ignoring poisoning.
///
/// A `std::sync::Mutex` is "poisoned" when a thread panicked while holding it. The runtime
/// catches every panic that user code can raise *before* it can unwind through one of its
/// locks, and the data behind each lock is kept consistent at every step, so a poisoned lock
/// carries no broken invariant here. Ignoring the flag means a panicking task can never turn
/// into a panicking runtime.
///
/// It takes std's mutex and, under `--cfg loom`, loom's too (see `primitives.rs`).
pub(crate) fn lock<M: Lock + ?Sized>(mutex: &M) -> M::Guard<'_> {
    mutex.lock_ignoring_poison()
}

/// A mutex [`lock`] can take.
pub(crate) trait Lock {
    /// What locking gives.
    type Guard<'a>
    where
        Self: 'a;
    /// Locks, ignoring poisoning.
    fn lock_ignoring_poison(&self) -> Self::Guard<'_>;
}

impl<T: ?Sized> Lock for std::sync::Mutex<T> {
    type Guard<'a>
        = std::sync::MutexGuard<'a, T>
    where
        T: 'a;
    fn lock_ignoring_poison(&self) -> Self::Guard<'_> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// So that `lock(&shared)` works on an `Arc<Mutex<T>>` too (a generic parameter gets no
/// automatic deref).
impl<M: Lock + ?Sized> Lock for std::sync::Arc<M> {
    type Guard<'a>
        = M::Guard<'a>
    where
        M: 'a;
    fn lock_ignoring_poison(&self) -> Self::Guard<'_> {
        (**self).lock_ignoring_poison()
    }
}

#[cfg(loom)]
impl<T: ?Sized> Lock for loom::sync::Mutex<T> {
    type Guard<'a>
        = loom::sync::MutexGuard<'a, T>
    where
        T: 'a;
    fn lock_ignoring_poison(&self) -> Self::Guard<'_> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The same error kind, with what was being done and to what in the message:
/// `with_context(err, "connect to", addr)` reads "connect to 127.0.0.1:80: Connection refused
/// (os error 111)"; `fs` names paths the same way. The kind is what callers match on, so it
/// is never changed.
pub(crate) fn with_context(err: io::Error, what: &str, target: impl Display) -> io::Error {
    io::Error::new(err.kind(), format!("{what} {target}: {err}"))
}
