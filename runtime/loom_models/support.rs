//! What the models share: a run queue that checks "queued at most once", a drop-counting
//! token, and a future that waits for one wake.

use crate::primitives::Mutex;
use crate::task::{JoinHandle, Schedule, TaskRef, new_task};
use crate::util::lock;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A scheduler's run queue, reduced to what the task code sees: `schedule` pushes,
/// `release` counts. It panics if a task is pushed while already in the queue: that is the
/// "double scheduling" bug the state word exists to prevent.
#[derive(Default)]
pub(super) struct Queue {
    tasks: Mutex<VecDeque<TaskRef>>,
    released: AtomicUsize,
}

impl Schedule for Queue {
    fn schedule(&self, task: TaskRef) {
        let mut tasks = lock(&self.tasks);
        assert!(
            !tasks.iter().any(|queued| Arc::ptr_eq(queued, &task)),
            "a task was queued twice"
        );
        tasks.push_back(task);
    }

    fn release(&self, _owner_key: usize) {
        self.released.fetch_add(1, SeqCst);
    }
}

impl Queue {
    pub(super) fn new() -> Arc<Queue> {
        Arc::new(Queue::default())
    }

    /// Creates a task for `future` on this queue (queued, as `spawn` leaves it).
    pub(super) fn spawn<F>(self: &Arc<Self>, future: F) -> (TaskRef, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, join) = new_task(future, self.clone());
        self.schedule(task.clone());
        (task, JoinHandle::new(join))
    }

    /// The next queued task, if any.
    pub(super) fn pop(&self) -> Option<TaskRef> {
        lock(&self.tasks).pop_front()
    }

    /// Runs queued tasks until the queue is empty.
    pub(super) fn run_all(&self) {
        while let Some(task) = self.pop() {
            task.run();
        }
    }

    pub(super) fn len(&self) -> usize {
        lock(&self.tasks).len()
    }

    /// How many tasks completed (each completion releases its task once).
    pub(super) fn released(&self) -> usize {
        self.released.load(SeqCst)
    }
}

/// Counts the drops of whatever holds a clone of it. A loom `Arc`, so a clone that is
/// never dropped (a leaked task) fails the model at its end.
#[derive(Clone, Default)]
pub(super) struct Tracked(loom::sync::Arc<AtomicUsize>);

impl Tracked {
    /// A new token to put inside one future or output.
    pub(super) fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    /// How many tokens were dropped.
    pub(super) fn drops(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Dropping it counts one drop in its [`Tracked`].
pub(super) struct DropToken(loom::sync::Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Pending on its first poll (leaving a clone of its waker for another thread), ready with
/// `value` on the next.
pub(super) struct ReadyOnSecondPoll<T> {
    probe: Probe,
    value: Option<T>,
    _token: DropToken,
}

/// What a model sees of a [`ReadyOnSecondPoll`]: the waker it left, and its poll count.
#[derive(Clone)]
pub(super) struct Probe {
    waker: loom::sync::Arc<Mutex<Option<Waker>>>,
    polls: loom::sync::Arc<AtomicUsize>,
}

impl<T> ReadyOnSecondPoll<T> {
    pub(super) fn new(value: T, tracked: &Tracked) -> (Self, Probe) {
        let probe = Probe {
            waker: Default::default(),
            polls: Default::default(),
        };
        let future = ReadyOnSecondPoll {
            probe: probe.clone(),
            value: Some(value),
            _token: tracked.token(),
        };
        (future, probe)
    }
}

impl<T: Unpin> Future for ReadyOnSecondPoll<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if self.probe.polls.fetch_add(1, SeqCst) == 0 {
            *lock(&*self.probe.waker) = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(self.value.take().expect("ready only once"))
        }
    }
}

impl Probe {
    /// Takes the waker as soon as the future has left one (spinning with
    /// `loom::thread::yield_now`, which tells loom to run another thread meanwhile).
    pub(super) fn wait_for_waker(&self) -> Waker {
        loop {
            if let Some(waker) = lock(&*self.waker).take() {
                return waker;
            }
            loom::thread::yield_now();
        }
    }

    /// A clone of the waker: the future must already have been polled.
    pub(super) fn waker(&self) -> Waker {
        lock(&*self.waker)
            .clone()
            .expect("the future was polled and left its waker")
    }

    /// How many times the future was polled.
    pub(super) fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }
}

/// `loom::model`, which also says how many interleavings it ran (seen with `--nocapture`,
/// which `scripts/loom.sh` passes).
pub(super) fn model(f: impl Fn() + Sync + Send + 'static) {
    explore(loom::model::Builder::new(), f);
}

/// [`model`], exploring only the interleavings in which threads are switched against
/// their will at most `bound` times: the models whose full space is too large to finish
/// in minutes. Most bugs need very few such switches to show (loom's documentation
/// suggests 2 or 3), so a bound keeps nearly all of the power.
pub(super) fn model_with_preemption_bound(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(bound); // LOOM_MAX_PREEMPTIONS, if set, wins
    }
    explore(builder, f);
}

fn explore(builder: loom::model::Builder, f: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    builder.check(move || {
        counter.fetch_add(1, Relaxed);
        f();
    });
    let name = std::thread::current().name().unwrap_or("model").to_owned();
    println!("{name}: {} interleavings", runs.load(Relaxed));
}
