//! The atomics, locks, threads and cross-thread queue that the task and scheduler code are
//! built from, in one place, so that a model checker can stand in for all of them.
//!
//! In a normal build these are std's (and crossbeam's channel). Built with
//! `RUSTFLAGS="--cfg loom"` (what `scripts/loom.sh` does), they are [loom]'s: look-alikes
//! that let a test run a few threads through *every* interleaving of their atomic
//! operations and lock acquisitions, instead of the handful a real machine happens to
//! produce. A lost wake-up that a stress test meets once in a million runs, loom meets on
//! purpose, and prints the schedule that led to it. The models live in `loom_models/`.
//!
//! The rule that makes this work: **the task, scheduler, blocking-pool and timer-queue code
//! take their `Mutex`, `Condvar`, atomics, threads and channel from here, never from `std`
//! directly.** So do the `sync` primitives that have models of their own (the semaphore,
//! `broadcast`, the `RwLock`'s slot, the mpsc channel's two locks and its slot word).
//! Everything else (sockets, files, the trace writer, the rest of `sync`) keeps std's: the
//! models never reach it.
//!
//! Two things deliberately stay std's even under loom:
//! - `Arc`: a task *is* an `Arc<Task>` because `std::task::Wake` turns exactly that into a
//!   `Waker`. Loom still checks every task for leaks and double drops, through a loom `Arc`
//!   that each model's future holds (see `loom_models/`).
//! - Thread-locals (the current runtime, the worker's LIFO slot, the deferred wakes). The
//!   models drive the pieces that do not need them.
//!
//! [loom]: https://docs.rs/loom

#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};

/// Atomic integers and fences.
pub(crate) mod atomic {
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, fence};

    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, fence};
}

/// A cell whose contents may be changed through a shared reference, when some other rule
/// (for a task's stage: the state word) makes sure nobody else touches them meanwhile.
/// Under loom, every access is recorded, and two that are not ordered by a happens-before
/// edge fail the model: loom checks the rule instead of trusting it.
pub(crate) mod cell {
    #[cfg(loom)]
    pub(crate) use loom::cell::UnsafeCell;

    /// std's `UnsafeCell` with loom's way in (`with_mut` lends a raw pointer for the length
    /// of one closure), so that the code using it reads the same in both builds.
    #[cfg(not(loom))]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        pub(crate) fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// Starting threads (scheduler workers, blocking-pool threads).
pub(crate) mod thread {
    #[cfg(not(loom))]
    pub(crate) use std::thread::{Builder, JoinHandle, Thread, current, park};

    #[cfg(loom)]
    pub(crate) use loom::thread::{Builder, JoinHandle, Thread, current, park};
}

/// The unbounded multi-producer queue that carries tasks woken on other threads to a
/// scheduler: crossbeam's channel normally, a locked `VecDeque` under loom (crossbeam's
/// own atomics are invisible to loom, so its interleavings could not be explored).
pub(crate) mod channel {
    #[cfg(not(loom))]
    pub(crate) use crossbeam_channel::{Receiver, Sender, unbounded};

    #[cfg(loom)]
    pub(crate) use stand_in::{Receiver, Sender, unbounded};

    #[cfg(loom)]
    mod stand_in {
        use super::super::Mutex;
        use std::collections::VecDeque;
        use std::sync::Arc;

        /// The sending half: pushes to the back.
        pub(crate) struct Sender<T>(Arc<Mutex<VecDeque<T>>>);
        /// The receiving half: pops from the front.
        pub(crate) struct Receiver<T>(Arc<Mutex<VecDeque<T>>>);

        /// A new empty queue.
        pub(crate) fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
            let queue = Arc::new(Mutex::new(VecDeque::new()));
            (Sender(queue.clone()), Receiver(queue))
        }

        impl<T> Clone for Sender<T> {
            fn clone(&self) -> Self {
                Sender(self.0.clone())
            }
        }

        impl<T> Sender<T> {
            /// Never fails: the receiver lives as long as the scheduler that sends to it.
            pub(crate) fn send(&self, value: T) -> Result<(), T> {
                crate::util::lock(&*self.0).push_back(value);
                Ok(())
            }
        }

        impl<T> Receiver<T> {
            pub(crate) fn try_recv(&self) -> Result<T, ()> {
                crate::util::lock(&*self.0).pop_front().ok_or(())
            }

            pub(crate) fn is_empty(&self) -> bool {
                crate::util::lock(&*self.0).is_empty()
            }

            pub(crate) fn try_iter(&self) -> impl Iterator<Item = T> + '_ {
                std::iter::from_fn(|| self.try_recv().ok())
            }
        }
    }
}
