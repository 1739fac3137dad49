//! A channel that holds one value, the latest: the sender replaces it, receivers look at
//! it and wait for it to change.
//!
//! For state that many tasks watch (a configuration, a shutdown flag, a connection's
//! status): a receiver that falls behind does not see every value, only the newest, and a
//! send never waits. Each send bumps a **version**; each receiver remembers the version it
//! last saw, so "has it changed?" is one comparison, and `changed().await` waits until the
//! version moves past it.
//!
//! ```
//! use asincrono::sync::watch;
//!
//! asincrono::block_on(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!     let watcher = asincrono::spawn(async move {
//!         rx.wait_for(|state| *state == "ready").await.is_ok()
//!     });
//!     tx.send("loading").unwrap();
//!     tx.send("ready").unwrap();
//!     assert!(watcher.await.unwrap());
//! });
//! ```
//!
//! # How it is built, and what tokio does instead
//!
//! The value sits in a `std::sync::RwLock`, so that [`Ref`]s (the borrows that `borrow`
//! returns) can coexist; everything else (the version, who is still there, the receivers
//! waiting in `changed` and the senders waiting in `closed`) sits in one short
//! `std::sync::Mutex`. A send takes the value's write lock, stores, bumps the version under
//! the state lock **while still holding the write lock**, then lets go of both and wakes
//! the waiters. A receiver that borrows and marks the value seen reads the version while
//! it holds the read lock, so the version it records is always the version of the value it
//! read. tokio keeps the version in an atomic word beside the same kind of lock, and its
//! waiters in a `Notify`. As in tokio, a `Ref` held for long keeps the sender waiting: do
//! not hold one across an `.await`.

use super::wait_queue::{Ticket, WaitQueue, WakeList};
use crate::util::lock;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll, Waker, ready};

/// The errors of the watch channel.
pub mod error {
    use std::fmt;

    /// The error of [`Sender::send`](super::Sender::send) when no receiver is left; the
    /// value, which was not stored, is inside.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    /// The error of waiting on a [`Receiver`](super::Receiver) whose senders are all gone:
    /// the value will never change again.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub struct RecvError(pub(super) ());

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("every receiver of the watch channel is gone")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("every sender of the watch channel is gone")
        }
    }

    impl std::error::Error for RecvError {}
}

use error::{RecvError, SendError};

/// Creates a watch channel holding `init`, with one sender and one receiver. The
/// receiver counts `init` as seen.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let sender = Sender::new(init);
    let receiver = sender.subscribe();
    (sender, receiver)
}

/// What the senders and receivers of one channel share.
struct Shared<T> {
    /// The value. Its own lock, so that several `Ref`s can read it at once.
    value: RwLock<T>,
    /// Everything else, behind one short lock.
    state: Mutex<State>,
}

/// A watch channel's bookkeeping.
struct State {
    /// Bumped by every send that changes the value. A `u64` does not wrap in practice.
    version: u64,
    /// Live senders; at zero, receivers waiting in `changed` fail.
    senders: usize,
    /// Live receivers; at zero, sends fail and `closed` completes.
    receivers: usize,
    /// Receivers waiting in `changed` (or `wait_for`).
    changed_waiters: WaitQueue<Waker>,
    /// Senders waiting in `closed`.
    closed_waiters: WaitQueue<Waker>,
}

/// The sending half: replaces the value and tells the receivers. Clone it for more
/// senders; the channel ends for the receivers when the last one is dropped.
pub struct Sender<T> {
    /// The channel.
    shared: Arc<Shared<T>>,
}

/// A receiving half: looks at the value and waits for it to change. Clone it (or
/// `subscribe`) for more receivers; each keeps its own idea of what it has seen.
pub struct Receiver<T> {
    /// The channel.
    shared: Arc<Shared<T>>,
    /// The version of the value this receiver last marked seen.
    seen: u64,
}

/// A borrow of the value, from [`Sender::borrow`] or a receiver's `borrow`. It holds the
/// value's read lock: sends wait until it is dropped, so keep it short and never hold it
/// across an `.await`.
pub struct Ref<'a, T> {
    /// The read lock on the value.
    guard: RwLockReadGuard<'a, T>,
    /// Whether the value was new to the receiver that borrowed it.
    changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value was one the receiver had not yet marked seen when it borrowed
    /// it (always `false` for a sender's borrow).
    pub fn has_changed(&self) -> bool {
        self.changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> Shared<T> {
    /// The value's read lock. A panic in a `send_modify` closure leaves the value as the
    /// closure left it, as in tokio; the lock's poisoning is ignored.
    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value's write lock.
    fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Borrows the value; with `seen`, also marks it seen for that receiver.
    fn borrow(&self, seen: Option<&mut u64>) -> Ref<'_, T> {
        let guard = self.read();
        // Read under the value's read lock: no send can come between the two.
        let version = lock(&self.state).version;
        let changed = match seen {
            None => false,
            Some(seen) => std::mem::replace(seen, version) != version,
        };
        Ref { guard, changed }
    }
}

impl<T> Sender<T> {
    /// A sender with no receiver yet ([`subscribe`](Sender::subscribe) makes them).
    pub fn new(init: T) -> Sender<T> {
        Sender {
            shared: Arc::new(Shared {
                value: RwLock::new(init),
                state: Mutex::new(State {
                    version: 0,
                    senders: 1,
                    receivers: 0,
                    changed_waiters: WaitQueue::new(),
                    closed_waiters: WaitQueue::new(),
                }),
            }),
        }
    }

    /// Replaces the value and wakes the receivers waiting for a change. Fails, without
    /// storing the value, when no receiver is left.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if lock(&self.shared.state).receivers == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value whether or not anyone watches, and returns the old one.
    pub fn send_replace(&self, value: T) -> T {
        let mut value = Some(value);
        let mut old = None;
        self.send_if_modified(|current| {
            old = Some(std::mem::replace(
                current,
                value.take().expect("called once"),
            ));
            true
        });
        old.expect("the closure ran")
    }

    /// Changes the value in place through `modify`, and tells the receivers, whether or
    /// not anyone watches.
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Lets `modify` change the value in place; tells the receivers only if it returns
    /// `true` (it should return whether it changed anything). Returns what it returned.
    /// `modify` runs under the value's write lock: it must not borrow the value itself.
    // ANCHOR: watch_send
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut value = self.shared.write();
        if !modify(&mut value) {
            return false;
        }
        let to_wake = {
            let mut state = lock(&self.shared.state);
            // Bumped while the write lock is still held: see the module's note.
            state.version += 1;
            let mut to_wake = WakeList::new();
            to_wake.extend(state.changed_waiters.take_all());
            to_wake
        };
        drop(value);
        to_wake.wake_all();
        true
    }
    // ANCHOR_END: watch_send

    /// Borrows the value (see [`Ref`]).
    pub fn borrow(&self) -> Ref<'_, T> {
        self.shared.borrow(None)
    }

    /// A new receiver, which counts the current value as seen.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = lock(&self.shared.state);
        state.receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: state.version,
        }
    }

    /// How many receivers exist.
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.state).receivers
    }

    /// How many senders exist.
    pub fn sender_count(&self) -> usize {
        lock(&self.shared.state).senders
    }

    /// Whether every receiver is gone, so that `send` fails.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Whether `self` and `other` belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until every receiver is gone.
    ///
    /// # Cancel safety
    /// Cancel-safe: it consumes nothing.
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            ticket: None,
        }
        .await
    }
}

impl<T> Receiver<T> {
    /// Borrows the value without marking it seen (see [`Ref`]).
    pub fn borrow(&self) -> Ref<'_, T> {
        let mut seen = self.seen;
        self.shared.borrow(Some(&mut seen))
    }

    /// Borrows the value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        self.shared.borrow(Some(&mut self.seen))
    }

    /// Whether a value this receiver has not marked seen is there. Fails once every sender
    /// is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = lock(&self.shared.state);
        if state.senders == 0 {
            return Err(RecvError(()));
        }
        Ok(state.version != self.seen)
    }

    /// Counts the current value as not seen, so that `changed` completes at once.
    pub fn mark_changed(&mut self) {
        self.seen = lock(&self.shared.state).version.wrapping_sub(1);
    }

    /// Counts the current value as seen.
    pub fn mark_unchanged(&mut self) {
        self.seen = lock(&self.shared.state).version;
    }

    /// Waits for a value this receiver has not seen, and marks it seen (borrow it next).
    /// Completes at once if there is one already. Fails once every sender is gone and
    /// every value was seen.
    ///
    /// # Cancel safety
    /// Cancel-safe: nothing is marked seen unless it completes.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed {
            shared: &self.shared,
            seen: &mut self.seen,
            ticket: None,
        }
        .await
    }

    /// Waits until the value satisfies `condition` and returns a borrow of it, marked seen.
    /// The current value is checked first, even if it was seen already. Fails if every
    /// sender goes before a value satisfies it.
    ///
    /// # Cancel safety
    /// Cancel-safe: what it marked seen was checked and did not satisfy `condition`.
    pub async fn wait_for(
        &mut self,
        mut condition: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        // Split borrows: the borrow returned comes from `shared` alone, so returning it
        // from inside the loop does not hold on to `seen`.
        let shared = &*self.shared;
        let seen = &mut self.seen;
        // A loop of `wait_for`s that are all satisfied at once must still yield now and
        // then: one unit of budget per call.
        std::future::poll_fn(crate::task::poll_proceed).await;
        loop {
            // A scope of its own: the borrow (a lock guard, not `Send`) must not be alive
            // across the `.await` below, or the future could not move between threads.
            {
                let current = shared.borrow(Some(&mut *seen));
                if condition(&current) {
                    return Ok(current);
                }
            }
            Changed {
                shared,
                seen: &mut *seen,
                ticket: None,
            }
            .await?;
        }
    }

    /// Whether every sender is gone, so that the value will never change again.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).senders == 0
    }

    /// Whether `self` and `other` belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// The future behind `changed`.
struct Changed<'a, T> {
    /// The channel.
    shared: &'a Shared<T>,
    /// The receiver's seen version, updated when it completes.
    seen: &'a mut u64,
    /// Its entry among the waiters, once it has polled.
    ticket: Option<Ticket>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(crate::task::poll_proceed(cx));
        let this = self.get_mut();
        let mut state = lock(&this.shared.state);
        if state.version != *this.seen {
            *this.seen = state.version;
            return Poll::Ready(Ok(()));
        }
        if state.senders == 0 {
            return Poll::Ready(Err(RecvError(())));
        }
        let stale = state.changed_waiters.file(&mut this.ticket, cx.waker());
        drop(state);
        drop(stale);
        // Waker contract: our waker is among `changed_waiters`; every send that changes the
        // value, and the last sender's drop, wakes them all after unlocking.
        Poll::Pending
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            let removed = lock(&self.shared.state).changed_waiters.remove(ticket);
            drop(removed);
        }
    }
}

/// The future behind `Sender::closed`.
struct Closed<'a, T> {
    /// The channel.
    shared: &'a Shared<T>,
    /// Its entry among the waiters, once it has polled.
    ticket: Option<Ticket>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        ready!(crate::task::poll_proceed(cx));
        let this = self.get_mut();
        let mut state = lock(&this.shared.state);
        if state.receivers == 0 {
            return Poll::Ready(());
        }
        let stale = state.closed_waiters.file(&mut this.ticket, cx.waker());
        drop(state);
        drop(stale);
        // Waker contract: our waker is among `closed_waiters`; the last receiver's drop
        // wakes them all after unlocking.
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            let removed = lock(&self.shared.state).closed_waiters.remove(ticket);
            drop(removed);
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared.state).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let to_wake = {
            let mut state = lock(&self.shared.state);
            state.senders -= 1;
            let mut to_wake = WakeList::new();
            if state.senders == 0 {
                to_wake.extend(state.changed_waiters.take_all());
            }
            to_wake
        };
        to_wake.wake_all();
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        lock(&self.shared.state).receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let to_wake = {
            let mut state = lock(&self.shared.state);
            state.receivers -= 1;
            let mut to_wake = WakeList::new();
            if state.receivers == 0 {
                to_wake.extend(state.closed_waiters.take_all());
            }
            to_wake
        };
        to_wake.wake_all();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*self.shared.read())
            .finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*self.shared.read())
            .finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};

    #[test]
    fn a_send_wakes_every_waiting_receiver_once_and_each_sees_only_the_newest() {
        let (tx, mut first) = channel(0);
        let mut second = first.clone();
        let counters = [CountingWaker::new(), CountingWaker::new()];
        {
            let mut a = Box::pin(first.changed());
            let mut b = Box::pin(second.changed());
            assert!(poll_once(a.as_mut(), &counters[0].1).is_pending());
            assert!(poll_once(b.as_mut(), &counters[1].1).is_pending());
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            assert_eq!((counters[0].0.wakes(), counters[1].0.wakes()), (1, 1));
            assert_eq!(poll_once(a.as_mut(), &counters[0].1), Poll::Ready(Ok(())));
        }
        assert_eq!(*first.borrow(), 2);
        assert_eq!(first.has_changed(), Ok(false), "changed() marked it seen");
        let value = second.borrow_and_update();
        assert!(value.has_changed());
        assert_eq!(*value, 2);
    }

    #[test]
    fn the_last_sender_leaving_fails_the_waiting_receiver_once_all_was_seen() {
        let (tx, mut rx) = channel("a");
        tx.send("b").unwrap();
        drop(tx);
        assert_eq!(rx.has_changed(), Err(RecvError(())));
        let (_, waker) = CountingWaker::new();
        let mut changed = Box::pin(rx.changed());
        assert_eq!(poll_once(changed.as_mut(), &waker), Poll::Ready(Ok(())));
        drop(changed);
        let mut changed = Box::pin(rx.changed());
        assert_eq!(
            poll_once(changed.as_mut(), &waker),
            Poll::Ready(Err(RecvError(())))
        );
    }

    #[test]
    fn sends_fail_without_receivers_but_send_replace_and_modify_still_store() {
        let (tx, rx) = channel(1);
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(2), Err(SendError(2)));
        assert_eq!(*tx.borrow(), 1);
        assert_eq!(tx.send_replace(3), 1);
        tx.send_modify(|value| *value += 1);
        assert!(!tx.send_if_modified(|_| false));
        assert_eq!(*tx.subscribe().borrow(), 4);
    }

    #[test]
    fn a_dropped_changed_leaves_no_waker_behind() {
        let (tx, mut rx) = channel(());
        let (counter, waker) = CountingWaker::new();
        let mut changed = Box::pin(rx.changed());
        assert!(poll_once(changed.as_mut(), &waker).is_pending());
        drop(changed);
        tx.send(()).unwrap();
        assert_eq!(counter.wakes(), 0);
        assert_eq!(Arc::strong_count(&counter), 2, "the test and `waker` only");
    }
}
