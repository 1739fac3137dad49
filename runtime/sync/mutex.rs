//! `Mutex`: a lock whose guard may be held across an `.await`.

use super::semaphore::{Acquire, Semaphore, TryAcquireError};
use crate::util::lock;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, PoisonError};

/// An asynchronous mutual-exclusion lock: waiting for it parks the task, not the thread, and
/// its guard may be held across an `.await`.
///
/// Prefer `std::sync::Mutex` when the lock is only ever held between two awaits: it is
/// cheaper. Reach for this one when the critical section itself must await (a socket write
/// under the lock, say).
///
/// **Fair:** tasks get the lock in the order they asked for it; an unlock hands it straight
/// to the oldest waiter, so a task that calls `lock` just then cannot barge in.
///
/// **No poisoning:** a task that panics while holding the guard drops it while unwinding,
/// which puts the value back and unlocks. The next holder sees the value as the panicking
/// task left it; unlike `std::sync::Mutex`, nothing marks it as suspect.
///
/// # How it works, and what tokio does instead
///
/// The lock is a [`Semaphore`] with one permit, which gives fairness and cancellation for
/// free. The value sits in a slot (a `std::sync::Mutex<Option<T>>`) whenever nobody holds
/// the lock. Taking the lock moves the value out of the slot into the guard; dropping the
/// guard moves it back, then returns the permit. The slot's own lock is only ever taken
/// for that move, by the one task holding the permit, so it is never contended.
///
/// The price of staying without `unsafe`: two moves of `T` per lock (cheap for small
/// values; box a large one), and a leaked guard (`mem::forget`) takes the value with it.
/// tokio keeps the value in an `UnsafeCell` that the guard reaches through a pointer, and
/// argues, in a `SAFETY` comment, that the permit makes that access exclusive: no moves,
/// and `T` may be unsized. The guard is `Send` whenever `T` is, here as in tokio.
///
/// ```
/// use asincrono::sync::Mutex;
/// use std::sync::Arc;
///
/// asincrono::block_on(async {
///     let count = Arc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let count = count.clone();
///             asincrono::spawn(async move {
///                 let mut guard = count.lock().await;
///                 asincrono::task::yield_now().await; // still ours across the await
///                 *guard += 1;
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(*count.lock().await, 10);
/// });
/// ```
// ANCHOR: mutex_fields
pub struct Mutex<T> {
    /// Whose turn it is: one permit, given to the oldest waiter first.
    turn: Semaphore,
    /// The value while nobody holds the lock; the guard carries it out and brings it back.
    slot: std::sync::Mutex<Option<T>>,
}
// ANCHOR_END: mutex_fields

/// The error of [`Mutex::try_lock`] (and of `RwLock`'s `try_read` and `try_write`): somebody
/// holds the lock (or is next in line for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(
    /// Private, so that only the mutex and the `RwLock` make one.
    pub(super) (),
);

impl<T> Mutex<T> {
    const_unless_loom! {
        /// A new, unlocked mutex holding `value`. `const`, so it can live in a `static`.
        pub fn new(value: T) -> Mutex<T> {
            Mutex {
                turn: Semaphore::new(1),
                slot: std::sync::Mutex::new(Some(value)),
            }
        }
    }

    const_unless_loom! {
        /// The same as [`new`](Mutex::new), under tokio's name for the `const` constructor.
        pub fn const_new(value: T) -> Mutex<T> {
            Mutex::new(value)
        }
    }

    /// Waits for the lock, then returns a guard that gives access to the value and unlocks
    /// when dropped.
    ///
    /// # Cancel safety
    /// Dropping the future loses only its place in the queue. If the lock had just been
    /// handed to it, the lock passes on to the next waiter.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.wait_for_turn().await;
        MutexGuard {
            mutex: self,
            value: Some(self.take_value()),
        }
    }

    /// [`lock`](Mutex::lock) with a guard that owns a reference to the mutex, so that it can
    /// be moved into a spawned task.
    ///
    /// ```
    /// use asincrono::sync::Mutex;
    /// use std::sync::Arc;
    ///
    /// asincrono::block_on(async {
    ///     let shared = Arc::new(Mutex::new(Vec::new()));
    ///     let mut guard = shared.clone().lock_owned().await;
    ///     asincrono::spawn(async move { guard.push(1) }).await.unwrap();
    ///     assert_eq!(*shared.lock().await, [1]);
    /// });
    /// ```
    ///
    /// # Cancel safety
    /// As for [`lock`](Mutex::lock): only the place in the queue is lost.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.wait_for_turn().await;
        let value = self.take_value();
        OwnedMutexGuard {
            mutex: self,
            value: Some(value),
        }
    }

    /// [`lock`](Mutex::lock) for a plain thread: parks the thread until the lock is ours.
    /// The way synchronous code shares data with tasks.
    ///
    /// ```
    /// use asincrono::sync::Mutex;
    /// use std::sync::Arc;
    ///
    /// let shared = Arc::new(Mutex::new(1));
    /// let from_thread = shared.clone();
    /// std::thread::spawn(move || *from_thread.blocking_lock() += 1).join().unwrap();
    /// assert_eq!(*shared.blocking_lock(), 2);
    /// ```
    ///
    /// # Panics
    /// Inside a runtime: parking a thread there would stall its tasks.
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        super::blocking::block_on("Mutex::blocking_lock", self.lock())
    }

    /// [`lock_owned`](Mutex::lock_owned) for a plain thread.
    ///
    /// # Panics
    /// Inside a runtime.
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        super::blocking::block_on("Mutex::blocking_lock_owned", self.lock_owned())
    }

    /// Takes the lock if it is free and nobody is waiting for it; never waits.
    ///
    /// ```
    /// use asincrono::sync::Mutex;
    ///
    /// let mutex = Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(mutex.try_lock().is_err());
    /// drop(guard);
    /// assert_eq!(*mutex.try_lock().unwrap(), 1);
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.try_take_turn()?;
        Ok(MutexGuard {
            mutex: self,
            value: Some(self.take_value()),
        })
    }

    /// [`try_lock`](Mutex::try_lock) with an owning guard.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        self.try_take_turn()?;
        let value = self.take_value();
        Ok(OwnedMutexGuard {
            mutex: self,
            value: Some(value),
        })
    }

    /// The value, through an exclusive borrow of the mutex: no locking needed, since no
    /// guard can exist while `&mut self` does.
    ///
    /// # Panics
    /// If a guard was leaked with `mem::forget`: the value left with it.
    pub fn get_mut(&mut self) -> &mut T {
        self.slot
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .expect(LEAKED_GUARD)
    }

    /// Consumes the mutex and returns the value.
    ///
    /// # Panics
    /// If a guard was leaked with `mem::forget`: the value left with it.
    pub fn into_inner(self) -> T {
        self.slot
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .expect(LEAKED_GUARD)
    }

    /// Waits until the turn (the one permit) is ours.
    async fn wait_for_turn(&self) {
        if Acquire::new(&self.turn, 1).await.is_err() {
            unreachable!("a Mutex never closes its semaphore");
        }
    }

    /// Takes the turn if it is free.
    fn try_take_turn(&self) -> Result<(), TryLockError> {
        match self.turn.try_take(1) {
            Ok(()) => Ok(()),
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => Err(TryLockError(())),
        }
    }

    // ANCHOR: mutex_take_and_unlock
    /// Moves the value out of the slot. Called only by the holder of the turn, who always
    /// finds it there: the previous holder put it back before giving the turn up, and a
    /// leaked guard leaks the turn as well.
    fn take_value(&self) -> T {
        lock(&self.slot)
            .take()
            .expect("the holder of a Mutex's turn finds the value in its slot")
    }

    /// Puts the value back and gives up the turn, in that order (the next holder must find
    /// the value there).
    fn unlock(&self, value: T) {
        *lock(&self.slot) = Some(value);
        self.turn.release(1);
    }
    // ANCHOR_END: mutex_take_and_unlock
}

/// Why `get_mut` and `into_inner` can find the slot empty.
const LEAKED_GUARD: &str = "the Mutex's value left with a guard that was leaked (mem::forget)";

/// Access to the value of a locked [`Mutex`]; dropping it unlocks.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    /// The mutex to give the value back to.
    mutex: &'a Mutex<T>,
    /// The value, moved out of the mutex for as long as the guard lives. `None` only inside
    /// `drop`, after it has been handed back.
    value: Option<T>,
}

/// Like [`MutexGuard`], but keeps the mutex alive through an `Arc`, so it is `'static` and
/// can move into a spawned task.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T> {
    /// The mutex to give the value back to.
    mutex: Arc<Mutex<T>>,
    /// The value, moved out of the mutex for as long as the guard lives. `None` only inside
    /// `drop`, after it has been handed back.
    value: Option<T>,
}

/// Why a guard's `value` is always `Some` outside its `drop`.
const GUARD_HOLDS_VALUE: &str = "a MutexGuard holds the value until it is dropped";

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect(GUARD_HOLDS_VALUE)
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect(GUARD_HOLDS_VALUE)
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.mutex.unlock(value);
        }
    }
}

impl<T> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.mutex
    }
}

impl<T> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect(GUARD_HOLDS_VALUE)
    }
}

impl<T> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect(GUARD_HOLDS_VALUE)
    }
}

impl<T> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.mutex.unlock(value);
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    /// Shows the value only if the lock is free right now (it never waits).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => out.field("data", &*guard),
            Err(_) => out.field("data", &format_args!("<locked>")),
        };
        out.finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mutex is locked")
    }
}

impl std::error::Error for TryLockError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};
    use std::cell::Cell;
    use std::task::Poll;

    fn assert_send_and_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn mutex_is_sync_when_the_value_is_only_send_and_its_futures_are_send() {
        assert_send_and_sync::<Mutex<Cell<u8>>>();
        let mutex = Mutex::new(0_u8);
        assert_send(&mutex.lock());
        assert_send(&Arc::new(Mutex::new(0_u8)).lock_owned());
        let guard = mutex.try_lock().unwrap();
        assert_send(&guard);
    }

    #[test]
    fn unlocking_hands_the_lock_to_the_oldest_waiter_only() {
        let mutex = Mutex::new(0);
        let guard = mutex.try_lock().unwrap();
        let (first, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let mut first_lock = Box::pin(mutex.lock());
        let mut second_lock = Box::pin(mutex.lock());
        assert!(poll_once(first_lock.as_mut(), &first_waker).is_pending());
        assert!(poll_once(second_lock.as_mut(), &second_waker).is_pending());

        drop(guard);
        assert_eq!((first.wakes(), second.wakes()), (1, 0));
        assert!(mutex.try_lock().is_err(), "the lock was handed over");
        let Poll::Ready(mut guard) = poll_once(first_lock.as_mut(), &first_waker) else {
            panic!("the oldest waiter has the lock");
        };
        *guard += 1;
        drop(guard);
        assert_eq!(second.wakes(), 1);
        let Poll::Ready(guard) = poll_once(second_lock.as_mut(), &second_waker) else {
            panic!("then the next one");
        };
        assert_eq!(*guard, 1);
    }

    #[test]
    fn a_lock_future_dropped_after_it_was_handed_the_lock_passes_it_on() {
        let mutex = Mutex::new(());
        let guard = mutex.try_lock().unwrap();
        let (_, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let mut first_lock = Box::pin(mutex.lock());
        let mut second_lock = Box::pin(mutex.lock());
        assert!(poll_once(first_lock.as_mut(), &first_waker).is_pending());
        assert!(poll_once(second_lock.as_mut(), &second_waker).is_pending());
        drop(guard);
        drop(first_lock);
        assert_eq!(second.wakes(), 1);
        assert!(poll_once(second_lock.as_mut(), &second_waker).is_ready());
    }

    #[test]
    fn get_mut_and_into_inner_reach_the_value_without_locking() {
        let mut mutex = Mutex::new(vec![1]);
        mutex.get_mut().push(2);
        assert_eq!(mutex.into_inner(), [1, 2]);
    }

    #[test]
    #[should_panic(expected = "leaked")]
    fn into_inner_after_a_leaked_guard_says_where_the_value_went() {
        let mutex = Mutex::new(1);
        std::mem::forget(mutex.try_lock().unwrap());
        mutex.into_inner();
    }
}
