//! The current-thread scheduler: every task runs on the thread that calls `block_on`.
//!
//! ```text
//!   wake on this thread ──▶ local queue (VecDeque in a thread-local) ──┐
//!   wake on another thread ─▶ remote queue (crossbeam channel) ─┐      │
//!                             + unpark the driver if parked     └──▶ run loop ──▶ task.run()
//!                                                                      │ nothing ready
//!                                                                      ▼
//!                                                   Driver::park (epoll_wait until I/O, timer, unpark)
//! ```
//!
//! **Fairness.** The loop runs at most `EVENT_INTERVAL` (61, `executor/mod.rs`) tasks, then looks at the driver (a
//! non-blocking `epoll_wait`) and at `block_on`'s own future, even while tasks stay ready, so
//! a busy task set cannot starve I/O, timers or the main future. Remote wakes join the local
//! queue at each such turn.
//!
//! **Parking without losing a wake-up.** Between the loop's last look at the queues and
//! `epoll_wait`, another thread may queue a task. If it saw no one parked, it would not
//! unpark, and we would sleep with work waiting (tokio #525 was this bug). So the loop first
//! publishes `parked = true`, *then* looks at the queues one last time; a waker first queues,
//! *then* reads `parked`. With a sequentially consistent fence on both sides, at least one of
//! them sees the other: either we find the task, or the waker finds us parked and writes the
//! `mio::Waker`, making `epoll_wait` return at once.

use super::SchedulerConfig;
use super::block_on::{enter_block_on, thread_waker};
use super::owned::OwnedTasks;
use crate::blocking::RuntimeContext;
use crate::driver::{Driver, DriverHandle};
use crate::primitives::Mutex;
use crate::primitives::atomic::{AtomicBool, fence};
use crate::primitives::channel::{self, Receiver, Sender};
use crate::primitives::thread;
use crate::task::defer;
use crate::task::{Schedule, TaskRef, with_budget};
use crate::util::lock;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// What the `Runtime` owns.
pub(crate) struct CurrentThread {
    /// The half shared with tasks, wakers and handles.
    shared: Arc<Shared>,
    /// The run-loop state, and who waits for it.
    core: Mutex<CoreSlot>,
}

/// The core, and the `block_on` threads that want it.
struct CoreSlot {
    /// Taken by the thread inside `block_on` that drives the tasks, `None` meanwhile.
    core: Option<Core>,
    /// The other `block_on` threads, woken when the core comes back so that one of them
    /// takes it over. Meanwhile each polls its own future (see `block_on`).
    waiting: Vec<Waker>,
}

/// What wakers, `spawn` and I/O resources reach through a `Handle`.
pub(crate) struct Shared {
    /// The event interval and the user's park callbacks, from the `Builder`.
    config: SchedulerConfig,
    /// Wakes from other threads arrive here.
    remote_tx: Sender<TaskRef>,
    remote_rx: Receiver<TaskRef>,
    /// Every live task, for shutdown.
    owned: OwnedTasks,
    /// The I/O and timer driver's shared half.
    driver: Arc<DriverHandle>,
    /// The run loop is (about to be) blocked in `epoll_wait`: a remote wake must unpark it.
    parked: AtomicBool,
    /// The runtime is shutting down: wakes drop their task instead of queueing it.
    shutting_down: AtomicBool,
}

/// The run loop's own state.
struct Core {
    /// The local queue while no `block_on` runs (it lives in `LOCAL` meanwhile).
    local: VecDeque<TaskRef>,
    /// The epoll instance and the timer expiry.
    driver: Driver,
}

/// The local run queue of the scheduler this thread is driving, if any.
struct LocalQueue {
    /// Which scheduler (the address of its `Shared`, compared, never dereferenced).
    owner: usize,
    /// Tasks ready to run, in the order they were woken.
    tasks: VecDeque<TaskRef>,
}

thread_local! {
    static LOCAL: RefCell<Option<LocalQueue>> = const { RefCell::new(None) };
}

impl CurrentThread {
    pub(crate) fn new(driver: Driver, config: SchedulerConfig) -> (CurrentThread, Arc<Shared>) {
        let (remote_tx, remote_rx) = channel::unbounded();
        let shared = Arc::new(Shared {
            config,
            remote_tx,
            remote_rx,
            owned: OwnedTasks::new(),
            driver: driver.handle().clone(),
            parked: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
        });
        let core = Core {
            local: VecDeque::new(),
            driver,
        };
        let scheduler = CurrentThread {
            shared: shared.clone(),
            core: Mutex::new(CoreSlot {
                core: Some(core),
                waiting: Vec::new(),
            }),
        };
        (scheduler, shared)
    }

    // ANCHOR: block_on
    /// Runs `future` to completion on this thread, running the spawned tasks meanwhile.
    ///
    /// Several threads may call it at once (on an `Arc<Runtime>`). One holds the core and
    /// drives the tasks, the driver and its own future; each of the others polls its own
    /// future when woken and sleeps in between, and takes the core over when it comes back.
    /// A thread that only waited for the core would never poll its future, and two futures
    /// waiting for each other, one on each thread, would wait for ever (tokio's rule is the
    /// same: every `block_on` keeps polling its own future).
    pub(crate) fn block_on<F: Future>(
        &self,
        runtime: &impl RuntimeContext,
        future: F,
    ) -> F::Output {
        let _context = runtime.enter();
        let _not_nested = enter_block_on();
        let mut future = pin!(future);
        let waker = thread_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Some(mut core) = self.take_core_or_wait(&waker) {
                return core.run_until(future);
            }
            // Waker contract: our future's waker and the core's return both unpark us.
            if let Poll::Ready(output) = with_budget(|| future.as_mut().poll(&mut cx)) {
                return output;
            }
            thread::park();
        }
    }
    // ANCHOR_END: block_on

    /// Takes the core, or, if another thread holds it, leaves `waker` to be woken when it
    /// comes back.
    fn take_core_or_wait(&self, waker: &Waker) -> Option<CoreGuard<'_>> {
        let mut slot = lock(&self.core);
        let Some(mut core) = slot.core.take() else {
            slot.waiting.push(waker.clone());
            return None;
        };
        drop(slot);
        let tasks = std::mem::take(&mut core.local);
        LOCAL.with(|local| {
            *local.borrow_mut() = Some(LocalQueue {
                owner: self.shared.id(),
                tasks,
            })
        });
        Some(CoreGuard {
            scheduler: self,
            core: Some(core),
            _deferred: defer::enter(),
        })
    }

    // ANCHOR: shutdown
    /// Drops every task and wakes every waiter, so that nothing leaks or hangs. Called when
    /// the `Runtime` drops.
    pub(crate) fn shutdown(&self, runtime: &impl RuntimeContext) {
        // Destructors of futures may call `spawn` or `sleep`: let them find the runtime (a
        // task spawned now is cancelled at once, since the owner list is closed).
        let _context = runtime.enter();
        self.shared.shutting_down.store(true, SeqCst);
        fence(SeqCst);
        // 1. Drop every future, with no runtime lock held: their destructors may wake tasks
        //    (dropped, since we are shutting down) or drop other tasks' JoinHandles.
        for task in self.shared.owned.close_and_take() {
            task.shutdown();
        }
        // 2. Drop the queue entries (the tasks are shells now) and the epoll instance.
        let core = lock(&self.core).core.take();
        drop(core);
        self.shared.drain_remote();
        // 3. Fail the I/O waiters and wake the sleepers that live outside this runtime.
        self.shared.driver.shutdown();
    }
    // ANCHOR_END: shutdown
}

/// Holds the core while a thread is inside `block_on`; gives it back however that ends.
struct CoreGuard<'a> {
    scheduler: &'a CurrentThread,
    core: Option<Core>,
    /// Yielded tasks wait here for the next driver visit. Dropped after `drop` below has
    /// removed the local queue, so what is left is woken through the remote queue and runs
    /// in the next `block_on`.
    _deferred: defer::DeferGuard,
}

impl CoreGuard<'_> {
    // ANCHOR: run_until
    /// The run loop: poll the main future when it is woken, run a batch of tasks, visit the
    /// driver (blocking only when there is nothing to do), again and again.
    fn run_until<F: Future>(&mut self, mut future: Pin<&mut F>) -> F::Output {
        let shared = self.scheduler.shared.clone();
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            shared: shared.clone(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let driver = &mut self.core.as_mut().expect("the guard holds the core").driver;
        loop {
            if main.woken.swap(false, SeqCst) {
                if let Poll::Ready(output) = with_budget(|| future.as_mut().poll(&mut cx)) {
                    return output;
                }
            }
            let ran = shared.run_batch();
            shared.visit_driver(driver, &main.woken, ran == shared.config.event_interval);
        }
    }
    // ANCHOR_END: run_until
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        if let Some(mut core) = self.core.take() {
            let local = LOCAL
                .try_with(|local| local.borrow_mut().take())
                .ok()
                .flatten();
            core.local = local.map(|queue| queue.tasks).unwrap_or_default();
            let waiting = {
                let mut slot = lock(&self.scheduler.core);
                slot.core = Some(core);
                std::mem::take(&mut slot.waiting)
            };
            // Outside the lock: each woken thread comes to take the core (one wins; the
            // others go back to polling their futures and waiting).
            waiting.into_iter().for_each(Waker::wake);
        }
    }
}

/// The waker of `block_on`'s own future: it only raises a flag (and unparks the loop).
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        // On the loop's own thread (an I/O event dispatched in `park`, a task in the batch)
        // the loop is not in `epoll_wait`: it is running us, and it reads `woken` before it
        // next blocks. An unpark here would be a wasted eventfd write on every wake.
        if !on_loop_thread(self.shared.id()) {
            self.shared.unpark_if_parked();
        }
    }
}

impl Shared {
    pub(crate) fn owned(&self) -> &OwnedTasks {
        &self.owned
    }

    pub(crate) fn driver(&self) -> &Arc<DriverHandle> {
        &self.driver
    }

    /// Identifies this scheduler in the thread-local queue.
    fn id(&self) -> usize {
        self as *const Shared as usize
    }

    // ANCHOR: run_batch
    /// Runs up to `event_interval` tasks (61 unless the `Builder` says otherwise); returns
    /// how many ran.
    fn run_batch(&self) -> u32 {
        // Remote wakes join the back of the local queue once per batch.
        LOCAL.with(|local| {
            if let Some(queue) = local.borrow_mut().as_mut() {
                queue.tasks.extend(self.remote_rx.try_iter());
            }
        });
        let batch = self.config.event_interval;
        for ran in 0..batch {
            match pop_local() {
                Some(task) => task.run(),
                None => return ran,
            }
        }
        batch
    }
    // ANCHOR_END: run_batch

    // ANCHOR: visit_driver
    /// Lets the driver dispatch I/O events and expire timers. If there is work waiting (the
    /// batch was cut short, or something was woken), it only looks; otherwise it parks.
    fn visit_driver(&self, driver: &mut Driver, main_woken: &AtomicBool, busy: bool) {
        if busy {
            driver.park(Some(Duration::ZERO));
        } else {
            // The user's `on_thread_park` runs first: it may wake or defer tasks, which the
            // last look below then sees.
            self.config.hooks.before_park();
            // Publish "I am going to sleep" *before* the last look at the queues (see the
            // module doc): a waker that pushes after our look is bound to see `parked`.
            self.parked.store(true, SeqCst);
            fence(SeqCst);
            let work_waiting =
                main_woken.load(SeqCst) || has_local_work() || !self.remote_rx.is_empty();
            driver.park(if work_waiting {
                Some(Duration::ZERO)
            } else {
                None
            });
            self.parked.store(false, SeqCst);
            self.config.hooks.after_unpark();
        }
        // The driver has had its turn: the tasks that yielded may run again.
        defer::wake_all();
    }
    // ANCHOR_END: visit_driver

    // ANCHOR: unpark_if_parked
    /// Wakes the run loop if it is (about to be) blocked in `epoll_wait`. Called after
    /// making new work visible.
    fn unpark_if_parked(&self) {
        fence(SeqCst);
        if self.parked.swap(false, SeqCst) {
            self.driver.unpark();
        }
    }
    // ANCHOR_END: unpark_if_parked

    /// Drops every task reference waiting in the remote queue.
    fn drain_remote(&self) {
        while let Ok(task) = self.remote_rx.try_recv() {
            drop(task);
        }
    }
}

// ANCHOR: schedule_impl
impl Schedule for Shared {
    fn schedule(&self, task: TaskRef) {
        if self.shutting_down.load(SeqCst) {
            return; // dropped: shutdown drops every future through the owner list
        }
        let Some(task) = push_local(self.id(), task) else {
            return; // we are the thread running this scheduler: no one to wake
        };
        // Another thread (or this one, outside `block_on`).
        let _ = self.remote_tx.send(task); // cannot fail: `self` holds the receiver
        fence(SeqCst);
        if self.shutting_down.load(SeqCst) {
            // Shutdown began after our first check and may have drained the queue already:
            // drain it ourselves, so the task is not left behind (tokio #2535).
            return self.drain_remote();
        }
        self.unpark_if_parked();
    }

    fn release(&self, owner_key: usize) {
        self.owned.remove(owner_key);
    }
}
// ANCHOR_END: schedule_impl

/// Pushes on this thread's local queue if it belongs to scheduler `owner`; otherwise hands
/// the task back.
fn push_local(owner: usize, task: TaskRef) -> Option<TaskRef> {
    let mut task = Some(task);
    let _ = LOCAL.try_with(|local| {
        if let Some(queue) = local
            .borrow_mut()
            .as_mut()
            .filter(|queue| queue.owner == owner)
        {
            queue.tasks.extend(task.take());
        }
    });
    task
}

/// Whether this thread is the one running the scheduler `owner` (its local queue is here).
fn on_loop_thread(owner: usize) -> bool {
    LOCAL
        .try_with(|local| {
            // Borrowed elsewhere (cannot happen today, but cheap to allow): say no, and the
            // caller takes the always-correct path of unparking.
            local
                .try_borrow()
                .is_ok_and(|queue| queue.as_ref().is_some_and(|queue| queue.owner == owner))
        })
        .unwrap_or(false)
}

fn pop_local() -> Option<TaskRef> {
    LOCAL.with(|local| {
        local
            .borrow_mut()
            .as_mut()
            .and_then(|queue| queue.tasks.pop_front())
    })
}

/// Whether a task is queued or waiting to be woken after the driver visit.
fn has_local_work() -> bool {
    LOCAL.with(|local| {
        local
            .borrow()
            .as_ref()
            .is_some_and(|queue| !queue.tasks.is_empty())
    }) || defer::any()
}
