//! Stage 2 of the build-your-own track: a real waker, and an executor fed by a channel.
//!
//! Stage 1 spun. Now a future that returns `Pending` keeps the `Waker` it was given and
//! calls it when it can make progress; the executor polls only tasks that were woken. A
//! task is a boxed future plus a way back onto the queue: waking it sends it down a
//! channel, and the executor sleeps in `recv` until a task arrives. `Sleep` gets its wake
//! from a thread of its own that sleeps until the deadline (stage 3 replaces that thread
//! with a timer queue).
//!
//! `cargo run --example stage2` prints `PASS` when the self-check at the bottom holds.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

// ANCHOR: stage2_task
/// A spawned future, and the queue a wake sends it back to.
struct Task {
    future: Mutex<Option<BoxFuture>>,
    queue: Sender<Arc<Task>>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        // The executor may be gone already (the program is ending): nothing to do then.
        let _ = self.queue.send(self.clone());
    }
}
// ANCHOR_END: stage2_task

thread_local! {
    /// The queue of the executor running on this thread: how `spawn` finds it.
    static QUEUE: RefCell<Option<Sender<Arc<Task>>>> = const { RefCell::new(None) };
}

/// Tasks spawned and not finished yet: the executor stops when none is left.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Every poll of every task, for the self-check.
static POLLS: AtomicU64 = AtomicU64::new(0);

/// Queues `future` as a new task on the current executor.
fn spawn(future: impl Future<Output = ()> + Send + 'static) {
    let queue = QUEUE
        .with(|q| q.borrow().clone())
        .expect("spawn outside run");
    LIVE.fetch_add(1, Ordering::SeqCst);
    let task = Arc::new(Task {
        future: Mutex::new(Some(Box::pin(future))),
        queue: queue.clone(),
    });
    queue.send(task).expect("the executor is running");
}

// ANCHOR: stage2_run
/// Runs `main` and every task it spawns, until all have finished.
fn run(main: impl Future<Output = ()> + Send + 'static) {
    let (sender, receiver) = channel::<Arc<Task>>();
    QUEUE.with(|q| *q.borrow_mut() = Some(sender));
    spawn(main);
    while LIVE.load(Ordering::SeqCst) > 0 {
        // Sleeps until some task is woken: no spinning.
        let task = receiver.recv().expect("a live task can still be woken");
        let mut slot = task.future.lock().unwrap();
        let Some(future) = slot.as_mut() else {
            continue; // woken again after it finished
        };
        let waker = Waker::from(task.clone());
        POLLS.fetch_add(1, Ordering::SeqCst);
        if future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            *slot = None;
            LIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }
    QUEUE.with(|q| q.borrow_mut().take());
}
// ANCHOR_END: stage2_run

// ANCHOR: stage2_sleep
/// A timer whose wake comes from a thread that sleeps until the deadline.
struct Sleep {
    deadline: Instant,
    waker: Option<Arc<Mutex<Option<Waker>>>>,
}

fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now() + duration,
        waker: None,
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        match &self.waker {
            // Polled again before the deadline: keep the newest waker.
            Some(slot) => *slot.lock().unwrap() = Some(cx.waker().clone()),
            None => {
                let slot = Arc::new(Mutex::new(Some(cx.waker().clone())));
                let for_thread = slot.clone();
                let deadline = self.deadline;
                std::thread::spawn(move || {
                    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    if let Some(waker) = for_thread.lock().unwrap().take() {
                        waker.wake();
                    }
                });
                self.waker = Some(slot);
            }
        }
        Poll::Pending
    }
}
// ANCHOR_END: stage2_sleep

/// The self-check: ten tasks sleep at once, and each sleep costs exactly two polls.
fn main() {
    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let counted = done.clone();
    run(async move {
        for _ in 0..10 {
            let done = counted.clone();
            spawn(async move {
                sleep(Duration::from_millis(50)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    let took = started.elapsed();
    let polls = POLLS.load(Ordering::SeqCst);
    let done = done.load(Ordering::SeqCst);
    println!(
        "stage 2: {done} tasks in {} ms, {polls} polls",
        took.as_millis()
    );
    // 1 poll for main, 2 for each task (before and after its sleep): 21, not thousands.
    let pass = done == 10 && polls == 21 && took < Duration::from_millis(400);
    println!("{}", if pass { "PASS" } else { "FAIL" });
}
