//! `RwLock`: many readers or one writer, whose guards may be held across an `.await`.
//!
//! # How it works
//!
//! Whose turn it is comes from a [`Semaphore`] with `max_readers` permits: a reader takes
//! one, a writer takes all of them. The semaphore is first come, first served, and a large
//! request at the head of its queue collects permits as they come back while the requests
//! behind it wait; so a writer that asks is not overtaken by readers that ask after it
//! (the lock is **write-preferring**), and readers queued behind a writer are not starved
//! either (it is **fair**). tokio builds its `RwLock` on its semaphore the same way.
//!
//! Where the value lives is the part that differs, because asincrono has no `unsafe`.
//! Several readers need `&T` at once, for as long as their guards live, across awaits and
//! threads. So the first reader moves the value into an `Arc` (one allocation, kept from
//! then on) and every read guard holds a clone of that `Arc`. A writer takes the `Arc` out
//! of the lock: it is then the only holder (the semaphore has shut every reader out, and
//! each read guard dropped its clone before giving its permit back), so `Arc::get_mut`
//! gives it `&mut T`. The price: a reader's atomic increment and decrement, a short lock
//! around the slot at each acquire and release, and no guard `map`s (a mapped guard would
//! borrow from the `Arc` it holds). tokio keeps the value in an `UnsafeCell` that the
//! guards reach through a pointer, with the semaphore as the argument that this is safe.

use super::mutex::TryLockError;
use super::semaphore::{Acquire, Semaphore, TryAcquireError};
use crate::primitives::Mutex;
use crate::util::lock;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// The most readers a `RwLock` admits at once unless told otherwise: tokio's number.
const MAX_READS: u32 = u32::MAX >> 3;

/// A reader-writer lock for tasks: any number of readers, or one writer, at a time; the
/// waiting is done by parking the task, not the thread.
///
/// Fair and write-preferring: requests are served in the order they were made, and a
/// waiting writer holds back the readers that come after it.
///
/// ```
/// use asincrono::sync::RwLock;
///
/// asincrono::block_on(async {
///     let lock = RwLock::new(5);
///     {
///         let (one, two) = (lock.read().await, lock.read().await);
///         assert_eq!(*one + *two, 10); // two readers at once
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T> {
    /// Whose turn it is: `max_readers` permits, one per reader, all of them for a writer.
    turn: Semaphore,
    /// How many permits a writer takes.
    max_readers: u32,
    /// Where the value is while nobody writes.
    slot: Mutex<Slot<T>>,
}

/// Where a `RwLock`'s value is.
enum Slot<T> {
    /// Never read yet: the value itself, so that a lock only ever written costs no
    /// allocation (and `new` can be `const`).
    Alone(T),
    /// Read at least once: shared with the read guards alive, each holding a clone.
    Shared(Arc<T>),
    /// Out with the writer.
    Out,
}

/// The value as a write guard holds it: alone, or in the `Arc` no reader holds any more.
enum Held<T> {
    /// Never shared.
    Alone(T),
    /// Shared once; every reader has let go, so this is the only reference.
    Shared(Arc<T>),
}

impl<T> Held<T> {
    /// The value, to read.
    fn get(&self) -> &T {
        match self {
            Held::Alone(value) => value,
            Held::Shared(value) => value,
        }
    }

    /// The value, to write.
    fn get_mut(&mut self) -> &mut T {
        match self {
            Held::Alone(value) => value,
            Held::Shared(value) => {
                Arc::get_mut(value).expect("a writer is the only holder of a RwLock's value")
            }
        }
    }

    /// Back into the slot, as it was.
    fn into_slot(self) -> Slot<T> {
        match self {
            Held::Alone(value) => Slot::Alone(value),
            Held::Shared(value) => Slot::Shared(value),
        }
    }
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock::const_new(value)
    }

    const_unless_loom! {
        /// The same as [`new`](RwLock::new), `const` so that it can be a `static`.
        pub fn const_new(value: T) -> RwLock<T> {
            RwLock::const_with_max_readers(value, MAX_READS)
        }
    }

    /// A lock that admits at most `max_readers` readers at once.
    ///
    /// # Panics
    /// If `max_readers` is 0 or more than `u32::MAX >> 3`.
    pub fn with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
        RwLock::const_with_max_readers(value, max_readers)
    }

    const_unless_loom! {
        /// [`with_max_readers`](RwLock::with_max_readers), `const`.
        ///
        /// # Panics
        /// As for `with_max_readers`.
        pub fn const_with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
            assert!(
                max_readers > 0,
                "a RwLock may not be created with 0 readers"
            );
            assert!(
                max_readers <= MAX_READS,
                "a RwLock admits at most u32::MAX >> 3 readers"
            );
            RwLock {
                turn: Semaphore::const_new(max_readers as usize),
                max_readers,
                slot: Mutex::new(Slot::Alone(value)),
            }
        }
    }

    /// Waits until no writer holds or waits for the lock ahead of us, then reads.
    ///
    /// # Cancel safety
    /// Dropping the future loses only its place in the queue.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.wait_for_turn(1).await;
        RwLockReadGuard {
            lock: self,
            value: Some(self.share()),
        }
    }

    /// [`read`](RwLock::read) with a guard that owns a reference to the lock, so that it
    /// can move into a spawned task.
    ///
    /// # Cancel safety
    /// As for `read`.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.wait_for_turn(1).await;
        let value = Some(self.share());
        OwnedRwLockReadGuard { lock: self, value }
    }

    /// Waits until nobody reads or writes, then writes.
    ///
    /// # Cancel safety
    /// Dropping the future loses only its place in the queue; permits it had collected go
    /// to the next in line.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.wait_for_turn(self.max_readers).await;
        RwLockWriteGuard {
            lock: self,
            value: Some(self.take()),
        }
    }

    /// [`write`](RwLock::write) with an owning guard.
    ///
    /// # Cancel safety
    /// As for `write`.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.wait_for_turn(self.max_readers).await;
        let value = Some(self.take());
        OwnedRwLockWriteGuard { lock: self, value }
    }

    /// Reads if that is possible right now; never waits.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.try_take_turn(1)?;
        Ok(RwLockReadGuard {
            lock: self,
            value: Some(self.share()),
        })
    }

    /// [`try_read`](RwLock::try_read) with an owning guard.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.try_take_turn(1)?;
        let value = Some(self.share());
        Ok(OwnedRwLockReadGuard { lock: self, value })
    }

    /// Writes if that is possible right now; never waits.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.try_take_turn(self.max_readers)?;
        Ok(RwLockWriteGuard {
            lock: self,
            value: Some(self.take()),
        })
    }

    /// [`try_write`](RwLock::try_write) with an owning guard.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.try_take_turn(self.max_readers)?;
        let value = Some(self.take());
        Ok(OwnedRwLockWriteGuard { lock: self, value })
    }

    /// [`read`](RwLock::read) for a plain thread: parks it until it may read.
    ///
    /// # Panics
    /// Inside a runtime: parking a thread there would stall its tasks.
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        super::blocking::block_on("RwLock::blocking_read", self.read())
    }

    /// [`write`](RwLock::write) for a plain thread.
    ///
    /// # Panics
    /// Inside a runtime.
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        super::blocking::block_on("RwLock::blocking_write", self.write())
    }

    /// The value, through an exclusive borrow of the lock: no guard can exist meanwhile.
    ///
    /// # Panics
    /// If a write guard was leaked with `mem::forget`: the value left with it.
    pub fn get_mut(&mut self) -> &mut T {
        let slot = self
            .slot
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot {
            Slot::Alone(value) => value,
            Slot::Shared(value) => Arc::get_mut(value).expect(LEAKED_GUARD),
            Slot::Out => panic!("{LEAKED_GUARD}"),
        }
    }

    /// Consumes the lock and returns the value.
    ///
    /// # Panics
    /// If a guard was leaked with `mem::forget`.
    pub fn into_inner(self) -> T {
        let slot = self
            .slot
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot {
            Slot::Alone(value) => value,
            Slot::Shared(value) => Arc::into_inner(value).expect(LEAKED_GUARD),
            Slot::Out => panic!("{LEAKED_GUARD}"),
        }
    }

    /// Waits until `permits` of the turn are ours.
    async fn wait_for_turn(&self, permits: u32) {
        if Acquire::new(&self.turn, permits as usize).await.is_err() {
            unreachable!("a RwLock never closes its semaphore");
        }
    }

    /// Takes `permits` of the turn if they are free.
    fn try_take_turn(&self, permits: u32) -> Result<(), TryLockError> {
        match self.turn.try_take(permits as usize) {
            Ok(()) => Ok(()),
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => Err(TryLockError(())),
        }
    }

    // ANCHOR: rwlock_share
    /// A reader's share of the value. Called with a reader's permit held, so no writer has
    /// it out.
    fn share(&self) -> Arc<T> {
        let mut slot = lock(&self.slot);
        match std::mem::replace(&mut *slot, Slot::Out) {
            Slot::Alone(value) => {
                let shared = Arc::new(value);
                *slot = Slot::Shared(shared.clone());
                shared
            }
            Slot::Shared(shared) => {
                *slot = Slot::Shared(shared.clone());
                shared
            }
            Slot::Out => unreachable!("a reader's permit means no writer has the value"),
        }
    }

    // ANCHOR_END: rwlock_share

    /// The writer takes the value out. Called with every permit held.
    fn take(&self) -> Held<T> {
        match std::mem::replace(&mut *lock(&self.slot), Slot::Out) {
            Slot::Alone(value) => Held::Alone(value),
            Slot::Shared(value) => Held::Shared(value),
            Slot::Out => unreachable!("the holder of every permit finds the value in its slot"),
        }
    }

    /// A reader lets go: its clone first, then its permit, so that a writer let in by the
    /// permit finds itself the only holder.
    fn unlock_read(&self, value: Arc<T>) {
        drop(value);
        self.turn.release(1);
    }

    /// The writer puts the value back, then gives up every permit.
    fn unlock_write(&self, value: Held<T>) {
        *lock(&self.slot) = value.into_slot();
        self.turn.release(self.max_readers as usize);
    }

    /// The writer becomes a reader: the value goes back (shared now), and every permit but
    /// one goes back to the queue, which may let other readers in.
    fn downgrade(&self, value: Held<T>) -> Arc<T> {
        let shared = match value {
            Held::Alone(value) => Arc::new(value),
            Held::Shared(value) => value,
        };
        *lock(&self.slot) = Slot::Shared(shared.clone());
        self.turn.release(self.max_readers as usize - 1);
        shared
    }
}

/// Why `get_mut` and `into_inner` can find the value missing or shared.
const LEAKED_GUARD: &str = "the RwLock's value left with a guard that was leaked (mem::forget)";

/// Why a guard's value is `Some` outside its `drop` and `downgrade`.
const GUARD_HOLDS_VALUE: &str = "a RwLock guard holds the value until it is dropped";

/// Shared access to the value of a [`RwLock`]; dropping it lets go.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T> {
    /// The lock.
    lock: &'a RwLock<T>,
    /// This reader's share of the value; `None` only inside `drop`.
    value: Option<Arc<T>>,
}

/// [`RwLockReadGuard`] that keeps the lock alive through an `Arc`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T> {
    /// The lock.
    lock: Arc<RwLock<T>>,
    /// This reader's share of the value; `None` only inside `drop`.
    value: Option<Arc<T>>,
}

/// Exclusive access to the value of a [`RwLock`]; dropping it lets go.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T> {
    /// The lock.
    lock: &'a RwLock<T>,
    /// The value, out of the lock; `None` only inside `drop` and `downgrade`.
    value: Option<Held<T>>,
}

/// [`RwLockWriteGuard`] that keeps the lock alive through an `Arc`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T> {
    /// The lock.
    lock: Arc<RwLock<T>>,
    /// The value, out of the lock; `None` only inside `drop` and `downgrade`.
    value: Option<Held<T>>,
}

impl<'a, T> RwLockWriteGuard<'a, T> {
    /// Turns the write guard into a read guard without letting another writer in between.
    /// Readers waiting behind nobody else may come in at once.
    pub fn downgrade(mut self) -> RwLockReadGuard<'a, T> {
        let value = self.value.take().expect(GUARD_HOLDS_VALUE);
        RwLockReadGuard {
            lock: self.lock,
            value: Some(self.lock.downgrade(value)),
        }
    }
}

impl<T> OwnedRwLockWriteGuard<T> {
    /// [`RwLockWriteGuard::downgrade`] for the owning guard.
    pub fn downgrade(mut self) -> OwnedRwLockReadGuard<T> {
        let value = self.value.take().expect(GUARD_HOLDS_VALUE);
        let shared = self.lock.downgrade(value);
        OwnedRwLockReadGuard {
            lock: self.lock.clone(),
            value: Some(shared),
        }
    }

    /// The lock this guard holds.
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.lock
    }
}

impl<T> OwnedRwLockReadGuard<T> {
    /// The lock this guard holds.
    pub fn rwlock(&self) -> &Arc<RwLock<T>> {
        &self.lock
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect(GUARD_HOLDS_VALUE)
    }
}

impl<T> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect(GUARD_HOLDS_VALUE)
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect(GUARD_HOLDS_VALUE).get()
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect(GUARD_HOLDS_VALUE).get_mut()
    }
}

impl<T> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect(GUARD_HOLDS_VALUE).get()
    }
}

impl<T> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect(GUARD_HOLDS_VALUE).get_mut()
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.lock.unlock_read(value);
        }
    }
}

impl<T> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.lock.unlock_read(value);
        }
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.lock.unlock_write(value);
        }
    }
}

impl<T> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.lock.unlock_write(value);
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => out.field("data", &&*guard),
            Err(_) => out.field("data", &format_args!("<locked>")),
        };
        out.finish()
    }
}

/// `Debug` for the four guards: the value.
macro_rules! debug_guards {
    ($($guard:ty),*) => {$(
        impl<T: fmt::Debug> fmt::Debug for $guard {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}

debug_guards!(
    RwLockReadGuard<'_, T>,
    OwnedRwLockReadGuard<T>,
    RwLockWriteGuard<'_, T>,
    OwnedRwLockWriteGuard<T>
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};

    #[test]
    fn a_waiting_writer_holds_back_the_readers_that_come_after_it() {
        let lock = RwLock::new(0);
        let reader = lock.try_read().unwrap();
        let (writer, writer_waker) = CountingWaker::new();
        let (late, late_waker) = CountingWaker::new();
        let mut write = Box::pin(lock.write());
        let mut late_read = Box::pin(lock.read());
        assert!(poll_once(write.as_mut(), &writer_waker).is_pending());
        assert!(poll_once(late_read.as_mut(), &late_waker).is_pending());
        assert!(
            lock.try_read().is_err(),
            "the writer is owed the lock first"
        );
        drop(reader);
        assert_eq!((writer.wakes(), late.wakes()), (1, 0));
        let std::task::Poll::Ready(mut guard) = poll_once(write.as_mut(), &writer_waker) else {
            panic!("the writer goes first");
        };
        *guard += 1;
        drop(guard);
        assert_eq!(late.wakes(), 1);
        let std::task::Poll::Ready(read) = poll_once(late_read.as_mut(), &late_waker) else {
            panic!("then the reader");
        };
        assert_eq!(*read, 1);
    }

    #[test]
    fn a_writer_after_readers_owns_the_only_reference_to_the_value() {
        let lock = RwLock::new(String::from("a"));
        let readers: Vec<_> = (0..3).map(|_| lock.try_read().unwrap()).collect();
        assert!(readers.iter().all(|reader| **reader == "a"));
        drop(readers);
        lock.try_write().unwrap().push('b');
        let downgraded = lock.try_write().unwrap().downgrade();
        let other = lock
            .try_read()
            .expect("readers may join a downgraded writer");
        assert!(lock.try_write().is_err());
        assert_eq!((downgraded.as_str(), other.as_str()), ("ab", "ab"));
        drop((downgraded, other));
        assert_eq!(lock.into_inner(), "ab");
    }

    #[test]
    #[should_panic(expected = "0 readers")]
    fn zero_readers_panics() {
        let _ = RwLock::with_max_readers((), 0);
    }
}
