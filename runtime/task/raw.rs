//! `Task<F>`: one heap allocation that holds everything a spawned future needs.
//!
//! ```text
//! Arc<Task<F>> ─┬─ id, state word, owner key      (the header)
//!               ├─ scheduler: "where do I go when woken?"
//!               ├─ stage: UnsafeCell<Pending(F) | Finished(output) | Consumed>
//!               └─ join_waker: who to wake when the output is ready
//! ```
//!
//! The same `Arc` is seen three ways, through three small traits, without a second allocation:
//! as a [`Waker`] (`std::task::Wake`), as a [`Runnable`] on a run queue, and as a [`Join`]
//! target inside a `JoinHandle<T>`.

use super::Id;
use super::coop;
use super::defer;
use super::join::{Abort, Join, JoinError};
use super::schedule::{Runnable, Schedule, TaskRef};
use super::state::{AfterPending, AfterWake, Claim, State};
use crate::primitives::Mutex;
use crate::primitives::atomic::AtomicUsize;
use crate::primitives::cell::UnsafeCell;
use crate::util::lock;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Wake, Waker};

/// The life of the future inside a task.
enum Stage<F: Future> {
    /// Not finished: the future itself.
    Pending(F),
    /// Finished (or cancelled, or panicked): the result waiting for the `JoinHandle`.
    Finished(Result<F::Output, JoinError>),
    /// The result was taken by the `JoinHandle`, or dropped because nobody wanted it.
    Consumed,
}

/// Drops the future of a stage in place if a poll unwinds past it (see `poll_future`).
struct DropFutureOnUnwind<'a, F: Future> {
    stage: &'a mut Stage<F>,
    /// Cleared once the poll has returned normally: then the future stays.
    armed: bool,
}

impl<F: Future> Drop for DropFutureOnUnwind<'_, F> {
    fn drop(&mut self) {
        if self.armed {
            // An assignment drops the old value where it lies: the future is never moved,
            // which is what its `Pin` promised.
            *self.stage = Stage::Consumed;
        }
    }
}

// ANCHOR: task_struct
/// A spawned future, its state and its output slot, in one allocation.
pub(crate) struct Task<F: Future> {
    /// Names the task in a `JoinError`.
    id: Id,
    /// Who may do what next: see `state.rs`.
    state: State,
    /// Where the scheduler's list of live tasks keeps this one (for shutdown).
    owner_key: AtomicUsize,
    /// Where a wake sends the task: the one interface between tasks and schedulers.
    scheduler: Arc<dyn Schedule>,
    /// The future, then its output. No lock: the state word decides who may touch it, one
    /// party at a time (see [`Task::with_stage`]).
    stage: UnsafeCell<Stage<F>>,
    /// The waker of whoever awaits the `JoinHandle`.
    join_waker: Mutex<Option<Waker>>,
}
// ANCHOR_END: task_struct

// ANCHOR: task_sync
// SAFETY: a task is shared between threads: it is its own waker. All its fields are `Sync`
// except the stage's `UnsafeCell`, and the state word lets one thread at a time reach the
// stage (see `with_stage`). The future and its output are moved from thread to thread but
// never used by two at once, so they need `Send`, which `new_task` requires.
unsafe impl<F: Future + Send> Sync for Task<F> where F::Output: Send {}
// ANCHOR_END: task_sync

/// Creates a task. The caller (a scheduler) adds it to its owner list and queues it.
pub(crate) fn new_task<F>(
    future: F,
    scheduler: Arc<dyn Schedule>,
) -> (TaskRef, Arc<dyn Join<F::Output>>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let task = Arc::new(Task {
        id: Id::next(),
        state: State::new(),
        owner_key: AtomicUsize::new(usize::MAX),
        scheduler,
        stage: UnsafeCell::new(Stage::Pending(future)),
        join_waker: Mutex::new(None),
    });
    (task.clone(), task)
}

// ANCHOR: wake
impl<F> Wake for Task<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // One body for both: queueing needs a reference of its own either way, and the one a
    // by-value wake consumes is released when it returns.
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        crate::trace::wake(self.id);
        if self.state.wake() == AfterWake::Queue {
            // We moved the task from idle to scheduled: it is ours to queue.
            self.scheduler.schedule(self.clone());
        }
    }
}
// ANCHOR_END: wake

impl<F> Runnable for Task<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // ANCHOR: run
    fn run(self: Arc<Self>) {
        let Some(snapshot) = self.state.start_running() else {
            return; // shutdown claimed it, or it finished: this queue entry is stale
        };
        if snapshot.is_cancelled() {
            return self.finish(Err(JoinError::cancelled(self.id)));
        }
        let polling = defer::polling(Arc::as_ptr(&self).cast());
        let polled = self.poll_future();
        let yielded = polling.end();
        match polled {
            Poll::Ready(result) => self.finish(result),
            Poll::Pending => match self.state.stop_running(yielded) {
                AfterPending::Idle => {} // a waker holds a reference and will bring it back
                // It yielded: it waits for the driver's turn, holding the queue's reference.
                AfterPending::Reschedule if yielded => {
                    if let Err(task) = defer::defer_task(self) {
                        task.queue_again();
                    }
                }
                AfterPending::Reschedule => self.scheduler.schedule(self.clone()),
                AfterPending::Cancel => self.finish(Err(JoinError::cancelled(self.id))),
            },
        }
    }
    // ANCHOR_END: run

    fn queue_again(self: Arc<Self>) {
        self.scheduler.schedule(self.clone());
    }

    fn shutdown(self: Arc<Self>) {
        if self.state.claim_for_shutdown() == Claim::Claimed {
            self.finish(Err(JoinError::cancelled(self.id)));
        }
        // Otherwise a runner on another thread is polling it right now; it sees CANCELLED
        // when the poll ends and finishes the task itself.
    }

    fn set_owner_key(&self, key: usize) {
        self.owner_key.store(key, Ordering::Release);
    }
}

impl<F> Task<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // ANCHOR: poll_future
    /// Polls the future once, catching a panic so that it becomes the task's result instead
    /// of unwinding into the scheduler.
    fn poll_future(self: &Arc<Self>) -> Poll<Result<F::Output, JoinError>> {
        let _traced = crate::trace::poll(self.id); // ends when this function returns
        let waker = self.borrowed_waker();
        let mut cx = Context::from_waker(&waker);
        // SAFETY: for `with_stage`, `run` won `start_running`, so this thread holds `RUNNING`
        // and is the stage's only owner. For `Pin::new_unchecked`: the future lives inside
        // the `Arc` allocation, which never moves, and it is never moved out of it: `finish`
        // and `DropFutureOnUnwind` replace the stage by assignment, which drops the future
        // in place, and
        // `take_output`, the only code that moves a stage out, refuses a `Pending` one.
        // Those are exactly the guarantees `Pin` asks for. (Pinning it safely would need
        // `Box::pin`: a second allocation per spawn.)
        let polled = unsafe {
            self.with_stage(|stage| {
                catch_unwind(AssertUnwindSafe(|| {
                    // If `poll` panics, the guard drops the future in place while the panic
                    // is still unwinding, as tokio does: its destructor then sees
                    // `thread::panicking()`, like any value dropped by a panic. (A destructor
                    // that panics then aborts the process, as any double panic does.)
                    let mut guard = DropFutureOnUnwind { stage, armed: true };
                    let Stage::Pending(future) = &mut *guard.stage else {
                        unreachable!(
                            "only a task holding RUNNING polls, and it finishes the stage once"
                        );
                    };
                    let future = Pin::new_unchecked(future);
                    let poll = coop::with_budget(|| future.poll(&mut cx));
                    guard.armed = false;
                    poll
                }))
            })
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(JoinError::panic(self.id, payload))),
        }
    }
    // ANCHOR_END: poll_future

    // ANCHOR: borrowed_waker
    /// The task's waker, lent to one poll without touching the reference count.
    ///
    /// `Waker::from(self.clone())` would cost two atomic operations per poll (the clone, and
    /// the drop afterwards), and most polls never keep the waker. Measured with the
    /// benchmark's `yield_many`, lending it instead took the asincrono ÷ tokio ratio from
    /// about 1.55 to about 1.24. A future that wants to keep the waker clones it, and that
    /// clone counts as usual.
    fn borrowed_waker(self: &Arc<Self>) -> ManuallyDrop<Waker> {
        // SAFETY: `Arc::as_ptr` gives the same pointer `Arc::into_raw` would, so
        // `Arc::from_raw` rebuilds an `Arc` to this live task without incrementing the count.
        // That `Arc` is owned by the returned `Waker`, which is wrapped in `ManuallyDrop` and
        // so never dropped: the count is never decremented either. The caller only lends it
        // out as `&Waker` (through `Context`), which cannot consume or drop it, and `self`
        // keeps the task alive for as long as the caller holds the borrow.
        let this = unsafe { Arc::from_raw(Arc::as_ptr(self)) };
        ManuallyDrop::new(Waker::from(this))
    }
    // ANCHOR_END: borrowed_waker

    // ANCHOR: finish
    /// Drops the future (if still there), stores the result, marks the task complete and
    /// hands the result to the `JoinHandle` — or drops it, if the handle is gone.
    fn finish(self: &Arc<Self>, result: Result<F::Output, JoinError>) {
        let store = |stage: &mut Stage<F>| {
            // Dropping a future runs user destructors, which may panic. The panic is caught
            // here and becomes the task's result (as the poll's own panics do), so an abort
            // whose cleanup panicked is reported as a panic, not as a quiet cancellation.
            let dropped = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
            let result = match dropped {
                Ok(()) => result,
                Err(payload) => {
                    let _ = catch_unwind(AssertUnwindSafe(move || drop(result)));
                    Err(JoinError::panic(self.id, payload))
                }
            };
            *stage = Stage::Finished(result);
        };
        // SAFETY: our caller holds `RUNNING` (a runner after its poll, or shutdown after
        // `claim_for_shutdown`) and `COMPLETE` is not set yet: the stage is ours alone.
        unsafe { self.with_stage(store) };
        let before = self.state.complete();
        if before.has_join_interest() {
            // The window: the JoinHandle may be registering its waker right now. It stores
            // the waker, then re-reads the state; we set COMPLETE, then take the waker. With
            // the lock ordering the two, one of us always sees the other. The waker is
            // taken out in a statement of its own, so that the guard is gone before `wake`:
            // in the `if let`, it would live through the block, and the woken `JoinHandle`
            // (often on another thread, at once) could find the lock still held and sleep
            // on it, a futex wait and wake more (seen with `strace -f -k`).
            let waker = lock(&self.join_waker).take();
            if let Some(waker) = waker {
                waker.wake();
            }
        } else {
            // SAFETY: `complete` saw no join interest, so the `JoinHandle` is gone and will
            // never read the stage; having set `COMPLETE`, we are its last owner.
            unsafe { self.drop_output() };
        }
        self.scheduler
            .release(self.owner_key.load(Ordering::Acquire));
    }
    // ANCHOR_END: finish

    // ANCHOR: with_stage
    /// Lends the stage to `f`.
    ///
    /// This replaces a mutex that was never contended, because the state word already
    /// decides who may touch the stage, one party at a time. Two atomic operations fewer
    /// per poll took the benchmark's `yield_many` from 1.31 and 1.28 times tokio's time to
    /// 1.10 and 1.07 on the current-thread runtime (two runs each), and from 1.51 and 1.39
    /// to 1.24 and 1.20 on the multi-thread one.
    ///
    /// # Safety
    /// The caller must be the stage's one owner at this moment:
    /// - before `COMPLETE`, the thread holding `RUNNING`: a runner that won
    ///   `start_running`, or shutdown after `claim_for_shutdown`;
    /// - after `COMPLETE`, the `JoinHandle` if it still existed when `complete` ran (it
    ///   reads the stage only after loading `COMPLETE`), or else whoever set `COMPLETE`.
    ///   `complete` and `drop_join_interest` change the same word, so exactly one of them
    ///   finds the other side gone.
    ///
    /// Under loom (chapter 13), `with_mut` records each access, and a model fails if two of
    /// them are not ordered one before the other.
    unsafe fn with_stage<R>(&self, f: impl FnOnce(&mut Stage<F>) -> R) -> R {
        // SAFETY: our caller is the stage's only owner (see above), so this is the only
        // reference to it for as long as `f` runs.
        self.stage.with_mut(|stage| f(unsafe { &mut *stage }))
    }
    // ANCHOR_END: with_stage

    /// Drops an output nobody will read. Its destructor is user code: a panic there is
    /// contained, so that it cannot escape from a `JoinHandle` drop or a worker.
    ///
    /// # Safety
    /// As for [`Task::with_stage`], after `COMPLETE`.
    unsafe fn drop_output(&self) {
        // SAFETY: our caller's promise.
        let output = unsafe { self.take_output() };
        let _ = catch_unwind(AssertUnwindSafe(move || drop(output)));
    }

    /// Moves the result out of the stage, leaving `Consumed`; `None` if there is no result
    /// (not finished yet, or already taken). This is the only place a stage is moved out
    /// of, and it never moves a `Pending` one: the future is only ever dropped in place.
    ///
    /// # Safety
    /// As for [`Task::with_stage`], after `COMPLETE`.
    unsafe fn take_output(&self) -> Option<Result<F::Output, JoinError>> {
        let take = |stage: &mut Stage<F>| match stage {
            Stage::Finished(_) => match std::mem::replace(stage, Stage::Consumed) {
                Stage::Finished(result) => Some(result),
                _ => unreachable!("matched Finished just above"),
            },
            Stage::Pending(_) | Stage::Consumed => None,
        };
        // SAFETY: our caller's promise.
        unsafe { self.with_stage(take) }
    }
}

impl<F> Join<F::Output> for Task<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // ANCHOR: poll_join
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        if !self.state.load().is_complete() {
            *lock(&self.join_waker) = Some(cx.waker().clone());
            // Re-check after publishing the waker: see the window described in `finish`.
            if !self.state.load().is_complete() {
                return Poll::Pending;
            }
        }
        // SAFETY: we loaded `COMPLETE` (with `Acquire`, so the runner's store of the output
        // is visible), and the runner saw this handle's interest when it set it: from now on
        // the stage is the handle's alone.
        match unsafe { self.take_output() } {
            Some(result) => Poll::Ready(result),
            None => panic!("JoinHandle polled again after it returned its output"),
        }
    }
    // ANCHOR_END: poll_join

    fn drop_join_handle(&self) {
        if self.state.drop_join_interest().is_complete() {
            // SAFETY: the task completed while this handle still existed, so the runner
            // left the output to us and will not touch the stage again.
            unsafe { self.drop_output() };
        }
        lock(&self.join_waker).take();
    }

    fn as_abort(self: Arc<Self>) -> Arc<dyn Abort> {
        self
    }
}

impl<F> Abort for Task<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn abort(self: Arc<Self>) {
        if self.state.cancel() == AfterWake::Queue {
            // The task was idle: queue it so that a runner comes by and drops the future.
            self.scheduler.schedule(self.clone());
        }
    }

    fn is_finished(&self) -> bool {
        self.state.load().is_complete()
    }

    fn id(&self) -> Id {
        self.id
    }
}

/// The task by hand, with no runtime: a scheduler that only queues, and futures that keep
/// their waker, wake themselves, borrow themselves or panic. Polls, wakes and drops are
/// counted. These are the tests `scripts/miri.sh` runs to check the `unsafe` code above (and,
/// through its leak check, that a lent waker never loses or gains a count).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{JoinHandle, yield_now};
    use std::collections::VecDeque;
    use std::sync::atomic::AtomicBool;

    /// A scheduler that queues woken tasks for the test to run, and checks on the way that
    /// a task is never queued twice (each test has one task).
    #[derive(Default)]
    struct Queue {
        tasks: Mutex<VecDeque<TaskRef>>,
        released: AtomicUsize,
    }

    impl Schedule for Queue {
        fn schedule(&self, task: TaskRef) {
            let mut tasks = lock(&self.tasks);
            assert!(tasks.is_empty(), "the task was queued while already queued");
            tasks.push_back(task);
        }
        fn release(&self, _owner_key: usize) {
            self.released.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Queue {
        fn pop(&self) -> Option<TaskRef> {
            lock(&self.tasks).pop_front()
        }
        /// Runs queued tasks until none is left; returns how many runs that took. A task
        /// that is queued again after every run fails the test rather than hanging it.
        fn run_all(&self) -> usize {
            let mut runs = 0;
            while let Some(task) = self.pop() {
                task.run();
                runs += 1;
                assert!(runs < 1000, "the task never stops coming back");
            }
            runs
        }
    }

    /// Spawns `future` on a fresh `Queue`, queued as a scheduler would.
    fn spawn<F>(future: F) -> (Arc<Queue>, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let queue = Arc::new(Queue::default());
        let (task, join) = new_task(future, queue.clone());
        queue.schedule(task);
        (queue, JoinHandle::new(join))
    }

    /// Counts its drops (one per value, if all goes well).
    #[derive(Clone, Default)]
    struct Drops(Arc<AtomicUsize>);
    struct Tracked(Drops);
    impl Drop for Tracked {
        fn drop(&mut self) {
            (self.0).0.fetch_add(1, Ordering::SeqCst);
        }
    }
    impl Drops {
        fn track(&self) -> Tracked {
            Tracked(self.clone())
        }
        fn count(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// A waker that counts its wakes, to poll a `JoinHandle` with.
    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_handle<T>(handle: &mut JoinHandle<T>) -> (Poll<Result<T, JoinError>>, usize) {
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let polled = Pin::new(handle).poll(&mut Context::from_waker(&waker));
        (polled, wakes.0.load(Ordering::SeqCst))
    }

    /// Pending until `ready`, keeping a clone of the waker of its latest poll in `waker`.
    struct Parked {
        ready: Arc<AtomicBool>,
        waker: Arc<Mutex<Option<Waker>>>,
        _tracked: Tracked,
        output: Option<Tracked>,
    }

    impl Future for Parked {
        type Output = Tracked;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Tracked> {
            if self.ready.load(Ordering::SeqCst) {
                return Poll::Ready(self.output.take().expect("polled after Ready"));
            }
            *lock(&self.waker) = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    #[test]
    fn a_clone_of_the_lent_waker_keeps_a_detached_task_alive_and_brings_it_back() {
        let (future_drops, output_drops) = (Drops::default(), Drops::default());
        let ready = Arc::new(AtomicBool::new(false));
        let kept = Arc::new(Mutex::new(None));
        let (queue, handle) = spawn(Parked {
            ready: ready.clone(),
            waker: kept.clone(),
            _tracked: future_drops.track(),
            output: Some(output_drops.track()),
        });
        assert_eq!(queue.run_all(), 1);
        drop(handle); // detached: the kept waker is now the task's only owner
        assert_eq!(future_drops.count(), 0, "a parked task is not dropped");

        ready.store(true, Ordering::SeqCst);
        let waker = lock(&kept).take().expect("the poll kept a waker");
        std::thread::spawn(move || waker.wake()).join().unwrap();
        assert_eq!(
            queue.run_all(),
            1,
            "the wake from another thread queued it once"
        );
        assert_eq!(
            future_drops.count(),
            1,
            "the future is dropped once, when done"
        );
        assert_eq!(
            output_drops.count(),
            1,
            "the unwanted output is dropped once"
        );
        assert_eq!(queue.released.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_task_that_wakes_itself_while_polled_runs_again_and_hands_over_its_output() {
        let (queue, mut handle) = spawn(async {
            for _ in 0..3 {
                yield_now().await; // wakes through the lent waker, by reference
            }
            std::future::poll_fn(|cx| {
                // And through a clone (which counts), consumed by the wake.
                let clone = cx.waker().clone();
                clone.wake();
                Poll::Ready(())
            })
            .await;
            42
        });
        let (polled, _) = poll_handle(&mut handle);
        assert!(polled.is_pending());
        assert_eq!(queue.run_all(), 4, "one run per yield, and the last one");
        let (polled, _) = poll_handle(&mut handle);
        assert!(matches!(polled, Poll::Ready(Ok(42))));
    }

    #[test]
    fn a_future_that_borrows_itself_is_polled_in_place_from_two_threads() {
        let (queue, mut handle) = spawn(async {
            let data = [7u8; 32];
            let inside = &data[5..]; // a reference into the future itself, across awaits
            yield_now().await;
            yield_now().await;
            inside.iter().map(|&byte| usize::from(byte)).sum::<usize>()
        });
        let first = queue.pop().expect("queued at spawn");
        first.run();
        let second = queue.pop().expect("the yield queued it");
        std::thread::spawn(move || second.run()).join().unwrap();
        assert_eq!(queue.run_all(), 1);
        let (polled, _) = poll_handle(&mut handle);
        assert!(matches!(polled, Poll::Ready(Ok(189))));
    }

    #[test]
    fn the_join_handle_waiting_on_another_thread_is_woken_with_the_output() {
        let ready = Arc::new(AtomicBool::new(false));
        let kept = Arc::new(Mutex::new(None));
        let output_drops = Drops::default();
        let (queue, mut handle) = spawn(Parked {
            ready: ready.clone(),
            waker: kept.clone(),
            _tracked: Drops::default().track(),
            output: Some(output_drops.track()),
        });
        queue.run_all();
        // Finish the task on another thread while the handle's waker is registered.
        let join_wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let join_waker = Waker::from(join_wakes.clone());
        assert!(
            Pin::new(&mut handle)
                .poll(&mut Context::from_waker(&join_waker))
                .is_pending()
        );
        ready.store(true, Ordering::SeqCst);
        let waker = lock(&kept).take().expect("kept");
        let runner = queue.clone();
        std::thread::spawn(move || {
            waker.wake();
            runner.run_all();
        })
        .join()
        .unwrap();
        assert_eq!(join_wakes.0.load(Ordering::SeqCst), 1);
        let (polled, _) = poll_handle(&mut handle);
        let Poll::Ready(Ok(output)) = polled else {
            panic!("the output is ready")
        };
        drop(output);
        assert_eq!(output_drops.count(), 1);
    }

    #[test]
    fn abort_drops_an_idle_future_once_and_a_panic_in_its_drop_becomes_the_result() {
        struct PanicsOnDrop {
            _tracked: Tracked,
        }
        impl Drop for PanicsOnDrop {
            fn drop(&mut self) {
                panic!("a destructor that panics");
            }
        }
        let drops = Drops::default();
        let guard = PanicsOnDrop {
            _tracked: drops.track(),
        };
        let (queue, mut handle) = spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        });
        queue.run_all();
        handle.abort();
        assert_eq!(queue.run_all(), 1, "abort queued the idle task once");
        assert_eq!(drops.count(), 1);
        let (polled, _) = poll_handle(&mut handle);
        let Poll::Ready(Err(err)) = polled else {
            panic!("the task ended with an error")
        };
        assert!(err.is_panic(), "{err}");

        let (queue, mut handle) = spawn(async { std::future::pending::<()>().await });
        handle.abort(); // while queued: the runner sees CANCELLED and never polls
        assert_eq!(queue.run_all(), 1);
        let (polled, _) = poll_handle(&mut handle);
        assert!(matches!(polled, Poll::Ready(Err(err)) if err.is_cancelled()));
    }

    #[test]
    fn a_panic_in_poll_becomes_a_join_error_and_the_future_is_dropped_once() {
        let drops = Drops::default();
        let tracked = drops.track();
        let (queue, mut handle) = spawn(async move {
            let _tracked = tracked;
            yield_now().await;
            panic!("boom");
        });
        assert_eq!(queue.run_all(), 2);
        assert_eq!(drops.count(), 1);
        let (polled, _) = poll_handle(&mut handle);
        assert!(matches!(polled, Poll::Ready(Err(err)) if err.is_panic()));
    }

    #[test]
    fn wakes_from_three_threads_during_runs_never_queue_the_task_twice() {
        const WAKES: usize = 20;
        let finish = Arc::new(AtomicBool::new(false));
        let kept = Arc::new(Mutex::new(None));
        let polls = Arc::new(AtomicUsize::new(0));
        let (queue, mut handle) = spawn({
            let (finish, kept, polls) = (finish.clone(), kept.clone(), polls.clone());
            std::future::poll_fn(move |cx| {
                polls.fetch_add(1, Ordering::SeqCst);
                if finish.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                *lock(&kept) = Some(cx.waker().clone());
                Poll::Pending
            })
        });
        queue.run_all();
        let waker = lock(&kept).clone().expect("kept");
        let wakers_done = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..3 {
                let (waker, done) = (waker.clone(), wakers_done.clone());
                scope.spawn(move || {
                    for _ in 0..WAKES {
                        waker.wake_by_ref();
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
            // Run the task whenever it is queued, while the wakes keep coming (`Queue`
            // fails the test if a wake queues it a second time).
            while wakers_done.load(Ordering::SeqCst) < 3 {
                match queue.pop() {
                    Some(task) => task.run(),
                    None => std::thread::yield_now(),
                }
            }
        });
        queue.run_all();
        let polls_before_finish = polls.load(Ordering::SeqCst);
        assert!((1..=1 + 3 * WAKES).contains(&polls_before_finish));
        finish.store(true, Ordering::SeqCst);
        waker.wake();
        assert_eq!(queue.run_all(), 1);
        drop(lock(&kept).take());
        let (polled, _) = poll_handle(&mut handle);
        assert!(matches!(polled, Poll::Ready(Ok(()))));
    }

    /// Polls the future inside with a waker of its own, which passes wakes on to the
    /// task's: what a `JoinSet` does for the futures it holds.
    struct BehindOwnWaker<F>(Pin<Box<F>>);
    struct PassOn(Waker);
    impl Wake for PassOn {
        fn wake(self: Arc<Self>) {
            self.0.wake_by_ref();
        }
    }
    impl<F: Future> Future for BehindOwnWaker<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let waker = Waker::from(Arc::new(PassOn(cx.waker().clone())));
            self.0.as_mut().poll(&mut Context::from_waker(&waker))
        }
    }

    #[test]
    fn a_yield_waits_for_its_deferred_turn_whichever_waker_it_sees() {
        // The task's own waker takes the short way (the task itself goes on the list), any
        // other the long way (a clone of it does): from outside, the same behaviour.
        fn check(future: impl Future<Output = ()> + Send + 'static, seen: &str) {
            let list = defer::enter();
            let (queue, mut handle) = spawn(future);
            assert_eq!(queue.run_all(), 1, "{seen}: the first poll yields");
            assert!(defer::any(), "{seen}: the task waits in the list");
            assert!(defer::wake_all());
            assert_eq!(queue.run_all(), 1, "{seen}: its turn comes, once");
            let (polled, _) = poll_handle(&mut handle);
            assert!(matches!(polled, Poll::Ready(Ok(()))), "{seen}");
            drop(list);
        }
        check(yield_now(), "the task's own waker");
        check(
            BehindOwnWaker(Box::pin(yield_now())),
            "a waker of the future's own",
        );
    }

    #[test]
    fn without_a_deferred_list_a_yield_queues_the_task_at_once() {
        let (queue, mut handle) = spawn(yield_now());
        assert_eq!(
            queue.run_all(),
            2,
            "yielded, queued again at once, finished"
        );
        let (polled, _) = poll_handle(&mut handle);
        assert!(matches!(polled, Poll::Ready(Ok(()))));
    }

    #[test]
    fn a_task_aborted_while_it_waits_for_its_deferred_turn_is_cancelled_when_the_turn_comes() {
        let list = defer::enter();
        let (queue, mut handle) = spawn(async {
            loop {
                yield_now().await;
            }
        });
        assert_eq!(queue.run_all(), 1);
        handle.abort(); // `Queue` fails the test if this queues it a second time
        assert!(
            queue.pop().is_none(),
            "marked scheduled already: abort leaves it be"
        );
        defer::wake_all();
        assert_eq!(queue.run_all(), 1, "the deferred turn drops the future");
        let (polled, _) = poll_handle(&mut handle);
        assert!(matches!(polled, Poll::Ready(Err(e)) if e.is_cancelled()));
        drop(list);
    }
}
