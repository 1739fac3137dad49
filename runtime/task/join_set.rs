//! `JoinSet<T>`: a set of spawned tasks, awaited in the order they finish.
//!
//! Each task's `JoinHandle` sits in a slab, with a waker of its own that, when the task
//! finishes, puts the entry's key on a shared ready list and wakes whoever waits in
//! `join_next`. So `join_next` polls only the handles that were woken (and the new ones),
//! never all of them: waiting on a set of ten thousand tasks costs no more per finished
//! task than waiting on one. The corner it cuts: the ready list is a `Mutex<VecDeque>`, and a
//! key can appear twice (the entry is then polled once more, harmlessly). tokio keeps its
//! entries in an intrusive "idle / notified" pair of linked lists instead, with no
//! allocation per entry and no duplicates.
//!
//! Dropping a `JoinSet` aborts every task still in it, as in tokio.

use super::{AbortHandle, JoinError, JoinHandle};
use crate::util::lock;
use slab::Slab;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A collection of tasks of one output type; [`JoinSet::join_next`] gives each output as
/// its task finishes.
///
/// ```
/// asincrono::block_on(async {
///     let mut set = asincrono::task::JoinSet::new();
///     for i in 0..5u32 {
///         set.spawn(async move { i * 10 });
///     }
///     let mut sum = 0;
///     while let Some(output) = set.join_next().await {
///         sum += output.unwrap();
///     }
///     assert_eq!(sum, 100);
///     assert!(set.is_empty());
/// });
/// ```
pub struct JoinSet<T> {
    /// The tasks not yet joined, each with the waker it is polled with.
    entries: Slab<Entry<T>>,
    /// The keys of entries worth polling, and the waker of `join_next`'s caller.
    ready: Arc<ReadyList>,
}

/// One task of the set.
struct Entry<T> {
    handle: JoinHandle<T>,
    /// Puts this entry's key on the ready list (made once, at spawn).
    waker: Waker,
}

/// What the entries' wakers share with the set.
#[derive(Default)]
struct ReadyList {
    inner: Mutex<Ready>,
}

#[derive(Default)]
struct Ready {
    /// Keys woken and not yet polled, oldest first.
    keys: VecDeque<usize>,
    /// The task waiting in `join_next`, if any.
    waiter: Option<Waker>,
}

// ANCHOR: entry_waker
/// The waker an entry's `JoinHandle` is polled with.
struct EntryWaker {
    key: usize,
    ready: Arc<ReadyList>,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waiter = {
            let mut ready = lock(&self.ready.inner);
            ready.keys.push_back(self.key);
            ready.waiter.take()
        };
        // Outside the lock: waking may run the waiter's scheduler code.
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}
// ANCHOR_END: entry_waker

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            entries: Slab::new(),
            ready: Arc::default(),
        }
    }

    /// How many tasks are in the set (running, or finished and not yet joined).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a task spawned elsewhere, and returns a handle that can abort it.
    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let entry = self.entries.vacant_entry();
        let key = entry.key();
        let waker = Waker::from(Arc::new(EntryWaker {
            key,
            ready: self.ready.clone(),
        }));
        entry.insert(Entry { handle, waker });
        // A new entry has never been polled, so no waker of it is registered: it must be
        // polled once, whatever happens.
        lock(&self.ready.inner).keys.push_back(key);
        abort
    }

    /// Waits for the next task to finish and gives its output; `None` when the set is empty.
    ///
    /// # Cancel safety
    /// Safe: a task whose output was about to be given stays in the set if this future is
    /// dropped first, and the next call gives it.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like [`JoinSet::join_next`], without waiting: `None` if no task has finished yet (or
    /// the set is empty).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_join_next(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => None,
        }
    }

    /// Polls for the next finished task: `Ready(None)` on an empty set.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.entries.is_empty() {
            return Poll::Ready(None);
        }
        // The waker first, the keys after: a task finishing in between finds the waker.
        lock(&self.ready.inner).waiter = Some(cx.waker().clone());
        loop {
            let Some(key) = lock(&self.ready.inner).keys.pop_front() else {
                // Waker contract: every entry not on the list holds an `EntryWaker`, which
                // puts it back on the list and wakes the waiter stored above.
                return Poll::Pending;
            };
            let Some(entry) = self.entries.get_mut(key) else {
                continue; // a key whose entry was joined (or replaced) since: nothing to do
            };
            let mut entry_cx = Context::from_waker(&entry.waker);
            if let Poll::Ready(output) = std::pin::Pin::new(&mut entry.handle).poll(&mut entry_cx) {
                self.entries.remove(key);
                return Poll::Ready(Some(output));
            }
        }
    }

    /// Aborts every task in the set. They stay in it: `join_next` then gives their
    /// cancellation (or the output of those that finished first).
    pub fn abort_all(&mut self) {
        for (_, entry) in self.entries.iter() {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: they run on, detached.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        lock(&self.ready.inner).keys.clear();
    }

    /// Aborts every task and waits until all are gone.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and gives their outputs, in the order they finished.
    ///
    /// # Panics
    /// If a task panicked (its panic is resumed here) or was aborted.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(output) = self.join_next().await {
            match output {
                Ok(output) => outputs.push(output),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("JoinSet::join_all: {err}"),
            }
        }
        outputs
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime, into the set.
    ///
    /// # Panics
    /// Outside a runtime, as [`crate::spawn`] does.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns `future` on the runtime of `handle`, into the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &crate::runtime::Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs the blocking closure `f` on the blocking pool, into the set.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(super::spawn_blocking(f))
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

/// Dropping the set aborts the tasks still in it (their outputs are dropped with them).
impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
