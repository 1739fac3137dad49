//! `LocalSet` and `spawn_local`: tasks whose futures are not `Send`, run on one thread.
//!
//! `spawn` asks for `Send` futures because a multi-thread runtime may poll a task on any
//! worker. A future that holds an `Rc`, or a `RefCell` borrow across an `.await`, cannot move
//! like that. A `LocalSet` is a small run queue of its own for such tasks: they run only
//! while the set itself is being driven (by [`LocalSet::run_until`], [`LocalSet::block_on`],
//! or by awaiting the set), always on the thread that owns the set. Inside, the set looks like
//! a runtime: `spawn_local` puts a task on it, and the task's `JoinHandle`, `abort`, panic
//! handling and budget are the ordinary ones, because each local task *is* an ordinary task
//! whose future is wrapped in [`ThreadBound`] (`local_future.rs`).
//!
//! A waker may still be used on any thread: waking a local task from elsewhere puts it on the
//! set's queue (behind a mutex) and wakes whoever is driving the set.
//!
//! Corners cut, against tokio's `LocalSet`: one queue behind a mutex, where tokio keeps a
//! lock-free local queue for wakes on the owner thread and a locked one for the rest; the
//! outputs of local tasks must be `Send` (tokio allows any `'static` output); and there is no
//! `unhandled_panic` setting or `LocalRuntime`.

use super::local_future::ThreadBound;
use crate::executor::owned::OwnedTasks;
use crate::executor::spawn::spawn_on;
use crate::primitives::Mutex;
use crate::task::{JoinHandle, Schedule, TaskRef};
use crate::util::lock;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// How many local tasks one poll of the set runs before it yields back to the runtime, so
/// that the runtime's own tasks and its I/O get their turn (tokio uses the same figure).
const TASKS_PER_TICK: usize = 61;

thread_local! {
    /// The set being driven on this thread, for [`spawn_local`].
    static CURRENT: RefCell<Option<Rc<LocalSetInner>>> = const { RefCell::new(None) };
}

/// A set of `!Send` tasks that run together on the thread that drives the set.
///
/// ```
/// use std::rc::Rc;
/// use asincrono::task::{self, LocalSet};
///
/// let rt = asincrono::runtime::Builder::new_current_thread().build().unwrap();
/// let local = LocalSet::new();
/// let sum = local.block_on(&rt, async {
///     let shared = Rc::new(20); // an `Rc` cannot cross threads: `spawn` would refuse it
///     let inner = shared.clone();
///     let task = task::spawn_local(async move { *inner + 1 });
///     task.await.unwrap() + *shared
/// });
/// assert_eq!(sum, 41);
/// ```
pub struct LocalSet {
    /// `Rc`, not `Arc`: this is what makes a `LocalSet` stay on its thread (`!Send`).
    inner: Rc<LocalSetInner>,
}

/// The part `spawn_local` finds through the thread-local.
struct LocalSetInner {
    /// The part wakers reach, from any thread.
    shared: Arc<LocalQueue>,
}

/// The queue of woken local tasks, and who to tell when it grows.
struct LocalQueue {
    state: Mutex<QueueState>,
    /// Every live task of the set, so that dropping the set can drop their futures.
    owned: OwnedTasks,
}

struct QueueState {
    ready: VecDeque<TaskRef>,
    /// The waker of whoever drives the set (the task polling `run_until`, or the set itself).
    driver: Option<Waker>,
    /// The set was dropped: a late wake has nothing left to run.
    closed: bool,
}

impl Schedule for LocalQueue {
    fn schedule(&self, task: TaskRef) {
        let mut state = lock(&self.state);
        if state.closed {
            return; // the task was already shut down with the set; the reference just goes
        }
        state.ready.push_back(task);
        let driver = state.driver.clone();
        drop(state); // wake with the lock released: the driver may be polled right away
        if let Some(driver) = driver {
            driver.wake();
        }
    }

    fn release(&self, owner_key: usize) {
        self.owned.remove(owner_key);
    }
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        let shared = Arc::new(LocalQueue {
            state: Mutex::new(QueueState {
                ready: VecDeque::new(),
                driver: None,
                closed: false,
            }),
            owned: OwnedTasks::new(),
        });
        LocalSet {
            inner: Rc::new(LocalSetInner { shared }),
        }
    }

    /// Puts a `!Send` future on this set. It starts running once the set is driven.
    ///
    /// Unlike the free function [`spawn_local`], this works outside the set too.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `future` on `runtime`, with this set's tasks running beside it, until `future`
    /// completes. Tasks still unfinished then stay in the set.
    #[track_caller]
    pub fn block_on<F: Future>(&self, runtime: &crate::runtime::Runtime, future: F) -> F::Output {
        runtime.block_on(self.run_until(future))
    }

    /// Drives `future` and this set's tasks, turn about, until `future` completes. Must be
    /// awaited inside a runtime (the tasks may use its timers and I/O).
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| {
            let _entered = self.enter();
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(output);
            }
            self.inner.tick(cx);
            Poll::Pending
        })
        .await
    }

    /// Makes this set the one [`spawn_local`] uses on this thread until the guard drops.
    pub fn enter(&self) -> LocalEnterGuard {
        // `try_with`: a set dropped while this thread's thread-locals are being torn down
        // (one kept in a thread-local itself) enters nothing, rather than panicking.
        let previous = CURRENT
            .try_with(|current| current.replace(Some(self.inner.clone())))
            .ok()
            .flatten();
        LocalEnterGuard {
            previous,
            _not_send: std::marker::PhantomData,
        }
    }
}

impl LocalSetInner {
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.shared, &self.shared.owned, ThreadBound::new(future))
    }

    // ANCHOR: tick
    /// Runs up to [`TASKS_PER_TICK`] woken tasks. Leaves `cx`'s waker as the one to wake for
    /// new work, and wakes it at once if work is left over, so the runtime polls us again
    /// after its other tasks.
    fn tick(&self, cx: &mut Context<'_>) {
        self.set_driver(cx.waker());
        for _ in 0..TASKS_PER_TICK {
            let next = lock(&self.shared.state).ready.pop_front();
            match next {
                Some(task) => task.run(),
                None => return,
            }
        }
        if !lock(&self.shared.state).ready.is_empty() {
            cx.waker().wake_by_ref();
        }
    }
    // ANCHOR_END: tick

    fn set_driver(&self, waker: &Waker) {
        let mut state = lock(&self.shared.state);
        match &state.driver {
            Some(driver) if driver.will_wake(waker) => {}
            _ => state.driver = Some(waker.clone()),
        }
    }
}

/// Awaiting a set runs its tasks until every one of them has finished.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _entered = self.enter();
        self.inner.tick(cx);
        if self.inner.shared.owned.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    /// Drops every unfinished task's future, here on the set's own thread, with the set
    /// entered so that their destructors may still call `spawn_local` (those tasks are
    /// cancelled at once).
    fn drop(&mut self) {
        let _entered = self.enter();
        let shared = &self.inner.shared;
        for task in shared.owned.close_and_take() {
            task.shutdown();
        }
        let queued = {
            let mut state = lock(&shared.state);
            state.closed = true;
            state.driver = None;
            std::mem::take(&mut state.ready)
        };
        drop(queued); // their futures are gone already; these are the last references
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").finish_non_exhaustive()
    }
}

/// Returned by [`LocalSet::enter`]: while it lives, [`spawn_local`] spawns onto that set.
pub struct LocalEnterGuard {
    previous: Option<Rc<LocalSetInner>>,
    /// The guard restores this thread's thread-local, so it must drop on this thread.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for LocalEnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

/// Spawns a `!Send` future onto the [`LocalSet`] being driven on this thread.
///
/// # Panics
/// Outside a `LocalSet` (not inside `run_until`, `block_on` or a poll of the set, nor under
/// [`LocalSet::enter`]).
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    let current = CURRENT.with(|current| current.borrow().clone());
    match current {
        Some(set) => set.spawn(future),
        None => panic!("`spawn_local` called from outside of a `task::LocalSet`"),
    }
}
