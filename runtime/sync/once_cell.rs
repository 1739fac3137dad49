//! `OnceCell`: a value set once, perhaps by an async initialiser, then shared by reference.
//!
//! Two parts, each doing what it is good at. The value lives in a `std::sync::OnceLock`,
//! which hands out `&T` to everyone once it is set, with no lock on that path. Who gets to
//! *run* the initialiser is decided by a [`Semaphore`] with one permit: the first caller
//! of `get_or_init` takes it, the others queue (fairly, and parked as tasks, not threads)
//! until the value is set or the initialiser gives up. An initialiser that fails, panics
//! or is cancelled drops the permit, and the next caller in the queue tries its own.
//!
//! tokio's `OnceCell` is built the same way, with an `UnsafeCell` and an atomic flag where
//! this one has std's `OnceLock` (which does that part for us without `unsafe` here).

use super::Semaphore;
use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

/// A cell written at most once; after that, every reader gets `&T`.
///
/// ```
/// use asincrono::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
///
/// asincrono::block_on(async {
///     let config = CONFIG
///         .get_or_init(|| async { "loaded once".to_string() })
///         .await;
///     assert_eq!(config, "loaded once");
///     assert!(CONFIG.set("too late".to_string()).is_err());
/// });
/// ```
pub struct OnceCell<T> {
    /// The value, once set.
    value: OnceLock<T>,
    /// One permit: held by whoever is running an initialiser right now.
    initialising: Semaphore,
}

/// Why [`OnceCell::set`] did not store the value; the value is inside either way.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum SetError<T> {
    /// The cell holds a value already.
    AlreadyInitializedError(T),
    /// An initialiser is running right now (it may or may not succeed).
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell was set already.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether an initialiser was running.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("the OnceCell is set already"),
            SetError::InitializingError(_) => f.write_str("the OnceCell is being initialised"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell::const_new()
    }

    const_unless_loom! {
        /// An empty cell; `const`, so it can be a `static`.
        pub fn const_new() -> OnceCell<T> {
            OnceCell {
                value: OnceLock::new(),
                initialising: Semaphore::const_new(1),
            }
        }
    }

    /// A cell holding `value` if it is `Some`, empty otherwise.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let cell = OnceCell::new();
        if let Some(value) = value {
            let _ = cell.value.set(value);
        }
        cell
    }

    /// The value, if it is set.
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value, mutably, if it is set: `&mut self` means nobody else can look.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Whether the value is set.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Sets the value, unless it is set already or an initialiser is running.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        let Ok(_turn) = self.initialising.try_acquire() else {
            return Err(SetError::InitializingError(value));
        };
        // Holding the turn, nobody else can be setting it; but a set may have completed
        // between the check above and taking the turn.
        self.value
            .set(value)
            .map_err(SetError::AlreadyInitializedError)
    }

    /// The value, running `init` to make it if the cell is empty. Only one initialiser
    /// runs at a time; the other callers wait for its result.
    ///
    /// # Cancel safety
    /// Cancel-safe: a caller dropped while it waits loses its place in the queue; one
    /// dropped while its initialiser runs cancels that initialiser, and the next caller
    /// runs its own.
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(init().await) })
            .await
        {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_init`](OnceCell::get_or_init) with an initialiser that may fail:
    /// its error is returned, the cell stays empty, and the next caller tries its own.
    ///
    /// # Cancel safety
    /// As for [`get_or_init`](OnceCell::get_or_init).
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        let Ok(_turn) = self.initialising.acquire().await else {
            unreachable!("a OnceCell never closes its semaphore");
        };
        // The caller before us may have set it while we waited.
        if let Some(value) = self.get() {
            return Ok(value);
        }
        let value = init().await?;
        Ok(self.value.get_or_init(|| value))
        // `_turn` goes back here, after the value is in: whoever waits finds it set.
    }

    /// The value, if it is set, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        self.value.take()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};
    use std::task::Poll;

    #[test]
    fn a_second_caller_waits_for_the_first_initialiser_and_does_not_run_its_own() {
        let cell = OnceCell::new();
        let (first, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let (release_tx, release_rx) = crate::sync::oneshot::channel::<u32>();
        let mut running = Box::pin(cell.get_or_init(|| async { release_rx.await.unwrap() }));
        assert!(poll_once(running.as_mut(), &first_waker).is_pending());
        let mut waiting = Box::pin(cell.get_or_init(|| async { panic!("must not run") }));
        assert!(poll_once(waiting.as_mut(), &second_waker).is_pending());
        assert!(cell.set(9).unwrap_err().is_initializing_err());
        release_tx.send(7).unwrap();
        assert_eq!(first.wakes(), 1);
        assert_eq!(poll_once(running.as_mut(), &first_waker), Poll::Ready(&7));
        assert_eq!(second.wakes(), 1);
        assert_eq!(poll_once(waiting.as_mut(), &second_waker), Poll::Ready(&7));
        assert!(cell.set(9).unwrap_err().is_already_init_err());
    }

    #[test]
    fn a_failed_or_cancelled_initialiser_lets_the_next_caller_try() {
        let cell = OnceCell::new();
        let (_, waker) = CountingWaker::new();
        let mut failing = Box::pin(cell.get_or_try_init(|| async { Err::<u8, _>("no") }));
        assert_eq!(poll_once(failing.as_mut(), &waker), Poll::Ready(Err("no")));
        let mut cancelled = Box::pin(cell.get_or_init(std::future::pending::<u8>));
        assert!(poll_once(cancelled.as_mut(), &waker).is_pending());
        drop(cancelled);
        let mut succeeding = Box::pin(cell.get_or_init(|| async { 3 }));
        assert_eq!(poll_once(succeeding.as_mut(), &waker), Poll::Ready(&3));
    }
}
