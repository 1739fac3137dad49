//! Synchronisation between tasks: channels, locks, notifications, a semaphore.
//!
//! | primitive | what it is for |
//! |---|---|
//! | [`mpsc`] | many producers stream messages to one consumer, in order |
//! | [`oneshot`] | one value, once: a task's answer to a request |
//! | [`broadcast`] | every receiver sees every message; a slow one is told what it missed |
//! | [`watch`] | receivers see the latest value and wait for it to change |
//! | [`Mutex`] | shared data whose critical section must `.await` |
//! | [`RwLock`] | the same, with any number of readers at once |
//! | [`Notify`] | "something changed, go and look", no data attached |
//! | [`Semaphore`] | at most N tasks may do something at once |
//! | [`Barrier`] | N tasks wait for each other, round after round |
//! | [`OnceCell`] | a value set once, perhaps by an async initialiser |
//!
//! The names and the behaviour are tokio's, so code written for `tokio::sync` compiles
//! against this module unchanged (for the parts it has; see the end). The `blocking_*`
//! methods (`blocking_send`, `blocking_recv`, `blocking_lock`, `blocking_acquire`, ...)
//! let a plain thread use the same primitives, parking the thread (`blocking.rs`); inside
//! a runtime they panic, since parking a worker would stall its tasks.
//!
//! # One pattern, again and again
//!
//! Each primitive is the same three things:
//!
//! 1. **Its state behind one short `std::sync::Mutex`**: a count of permits, a queue of
//!    messages, a stored notification, plus the flags that say who is still there. The
//!    lock is taken for a few instructions at a time and never while waiting, so a plain
//!    blocking mutex is the right tool: it is cheap when uncontended and never blocks for
//!    long when contended. (`crate::util::lock` ignores poisoning: every state here is
//!    consistent at each step, so a panic elsewhere leaves nothing half-done.)
//! 2. **A queue of wakers** (`wait_queue.rs`): a task that cannot proceed puts its waker in
//!    the state and returns `Poll::Pending`; whoever changes the state so that it can
//!    proceed takes the waker out and wakes it. Each waiting future holds a ticket for its
//!    entry, so dropping the future removes exactly its own entry, and the queue is first
//!    come, first served: that is how `Mutex` and `Semaphore` are fair.
//! 3. **The rule that the lock is never held across an `.await`, while a waker is woken,
//!    or while a user value is dropped.** An `.await` under a `std::sync::Mutex` would
//!    block every other task wanting the lock for as long as this task sleeps. Waking a
//!    task or dropping a value runs code we do not control, which might come back to the
//!    same primitive and try to take the lock again: a deadlock. So each operation changes
//!    the state under the lock, collects the wakers to wake and the values to drop, lets
//!    go of the lock, and only then wakes and drops. A waker being replaced is dropped
//!    after the lock too, since it may hold the last reference to a task.
//!
//! The primitives also build on each other: [`Mutex`] is a [`Semaphore`] with one permit
//! plus a slot for the value, [`RwLock`] one with `max_readers` permits (a writer takes
//! them all), [`OnceCell`] one with a single permit for whoever runs the initialiser, and
//! a bounded [`mpsc`] channel is an unbounded one whose state also holds a semaphore's
//! count of free slots (its permits, from `reserve`, are slots of that same count). The
//! channel is also where the first rule bends, because it is the busiest primitive: its
//! messages sit behind a lock of their own, its free slots in an atomic word while nobody
//! waits, and its receiver takes the whole queue at once, so that a message costs one lock
//! to send and none of its own to receive (`mpsc/chan.rs` says why, with the figures).
//!
//! # Cancel safety
//!
//! Dropping a future before it completes is how async Rust cancels (a `select!` whose other
//! branch won, a `timeout`). Every future here says in its docs what such a drop loses:
//!
//! | future | if dropped before it completes |
//! |---|---|
//! | `mpsc` `recv` (both flavours) | nothing: a message leaves the queue only in the poll that returns it |
//! | bounded `send`, `send_timeout` | the value (the future owns it) is dropped unsent; no slot is lost |
//! | `reserve`, `reserve_many`, `reserve_owned` | nothing: a slot just granted passes on |
//! | `recv_many` | nothing: messages move into the buffer only in the poll that returns |
//! | `closed` (mpsc and oneshot senders) | nothing |
//! | `oneshot::Receiver` (awaited through `&mut`) | nothing: the value stays in the channel |
//! | `Mutex::lock`, `lock_owned` | the place in the queue; a lock just handed over passes on |
//! | `Semaphore::acquire` and friends | the place in the queue; permits already granted go back |
//! | `Notified`, `OwnedNotified` | nothing: a `notify_one` it had been chosen for passes on |
//! | `RwLock::read`, `write` and owned forms | the place in the queue, as for `Mutex::lock` |
//! | `watch` `changed`, `wait_for`; `closed` | nothing |
//! | `broadcast` `recv` | nothing: the receiver's position moves only when it returns |
//! | `Barrier::wait` | **not safe**: the arrival stays counted (as in tokio) |
//! | `OnceCell::get_or_init` | the place in the queue; a running initialiser is cancelled, the next caller runs its own |
//!
//! # Checked by loom
//!
//! The `Semaphore` (and so `Mutex`, `RwLock`, `OnceCell`), the `RwLock`'s slot and the
//! `broadcast` channel take their lock from `crate::primitives`: std's in a normal build,
//! loom's under `--cfg loom`, where `loom_models/sync.rs` runs `broadcast`'s lag accounting
//! and `RwLock`'s reader-writer hand-off through every interleaving. (Their constructors
//! are `const fn` except under loom, whose locks cannot be made in a `const` context: the
//! `const_unless_loom!` macro below.) The other primitives still use std's lock directly.
//!
//! # What a production runtime does instead
//!
//! tokio reaches the same behaviour without a lock on most fast paths: atomic state words,
//! waiter lists threaded intrusively through the pinned futures themselves (no allocation
//! per waiter, O(1) removal), a lock-free block list for channel messages, and an
//! `UnsafeCell` for the mutex's value. Each of those needs `unsafe` code and a careful
//! argument; this module has none (the attribute below makes the compiler check it) and
//! pays with a lock per operation, a `BTreeMap` node per waiter, and two moves of the
//! value per [`Mutex`] lock.
//!
//! Not here (yet): `SetOnce`, and the guards' `map` functions (a mapped guard would
//! borrow from the value its guard owns; tokio's borrow from its `UnsafeCell`).

// The claim above is enforced: the compiler rejects any `unsafe` in here.
#![forbid(unsafe_code)]

/// A constructor that is a `const fn` in a normal build and a plain `fn` under
/// `--cfg loom`, where the `Semaphore`'s lock is loom's and cannot be made in a `const`
/// context. For the constructors of `Semaphore` and of what is built on it.
macro_rules! const_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$attr])* $vis const fn $($rest)*
        #[cfg(loom)]
        $(#[$attr])* $vis fn $($rest)*
    };
}

mod barrier;
mod blocking;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod wait_queue;
pub mod watch;

#[cfg(test)]
mod test_support;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::Notify;
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// Named futures returned by this module, where tokio names them too.
pub mod futures {
    pub use super::notify::{Notified, OwnedNotified};
}
