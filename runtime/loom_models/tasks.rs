//! The task's state word, output slot and owner list against wakes from other threads.

use super::support::{Queue, ReadyOnSecondPoll, Tracked, model};
use crate::executor::owned::OwnedTasks;
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls a `JoinHandle` once with a waker that does nothing.
fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    pin!(future).poll(&mut Context::from_waker(Waker::noop()))
}

// ANCHOR: model_wake_during_poll
/// A wake that lands while the task is being polled must not be lost: the runner sees it
/// when the poll ends (`stop_running` → `Reschedule`) and queues the task again.
/// Would catch: `stop_running` clearing `SCHEDULED` along with `RUNNING`, or a waker that
/// queues a running task itself (then the model's queue sees it twice).
#[test]
fn a_wake_during_the_poll_is_not_lost() {
    model(|| {
        let tracked = Tracked::default();
        let queue = Queue::new();
        let (future, probe) = ReadyOnSecondPoll::new(7, &tracked);
        let (_task, handle) = queue.spawn(future);

        let waker_thread = thread::spawn(move || probe.wait_for_waker().wake());
        queue.pop().expect("spawn queued it").run(); // first poll, racing the wake
        waker_thread.join().unwrap();
        queue.run_all();

        assert!(matches!(poll_once(handle), Poll::Ready(Ok(7))));
        assert_eq!(queue.released(), 1);
        assert_eq!(tracked.drops(), 1, "the future is dropped exactly once");
    });
}
// ANCHOR_END: model_wake_during_poll

/// Two threads wake the same idle task at once: exactly one of them queues it.
/// Would catch: a wake that tests `SCHEDULED` and then sets it in two steps.
#[test]
fn two_wakes_at_once_queue_the_task_once() {
    model(|| {
        let tracked = Tracked::default();
        let queue = Queue::new();
        let (future, probe) = ReadyOnSecondPoll::new((), &tracked);
        let (_task, handle) = queue.spawn(future);
        queue.pop().unwrap().run(); // Pending: now idle, its waker in the probe

        let wakers = [probe.waker(), probe.waker()];
        let threads = wakers.map(|waker| thread::spawn(move || waker.wake_by_ref()));
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(queue.len(), 1, "queued once, by one of the two");

        queue.run_all();
        assert_eq!(probe.polls(), 2);
        assert!(matches!(poll_once(handle), Poll::Ready(Ok(()))));
        assert_eq!(tracked.drops(), 1);
    });
}

/// A wake that arrives after the task completed does not run it again.
/// Would catch: a complete task that looks idle to `wake` *and* to `start_running` (either
/// check alone is enough to stop the second poll).
#[test]
fn a_wake_after_completion_does_nothing() {
    model(|| {
        let tracked = Tracked::default();
        let queue = Queue::new();
        let (future, probe) = ReadyOnSecondPoll::new((), &tracked);
        let (_task, _handle) = queue.spawn(future);
        queue.pop().unwrap().run();
        let waker = probe.waker();
        waker.wake_by_ref(); // queued for its second, final poll

        let late = thread::spawn(move || waker.wake());
        queue.run_all(); // completes, racing the late wake
        late.join().unwrap();
        queue.run_all(); // a stale entry, if the late wake queued one, must do nothing

        assert_eq!(probe.polls(), 2, "never polled after it completed");
        assert_eq!(tracked.drops(), 1);
    });
}

/// The task completes on one thread while its `JoinHandle` is dropped on another: the
/// output is dropped exactly once, by whichever comes second.
/// Would catch: `drop_join_interest` and `complete` each assuming the other drops it
/// (a leak), or both dropping it.
#[test]
fn the_output_is_dropped_once_when_the_handle_goes_during_completion() {
    model(|| {
        let tracked = Tracked::default();
        let queue = Queue::new();
        let output = tracked.token();
        let (future, _probe) = ReadyOnSecondPoll::new(output, &tracked);
        let (_task, handle) = queue.spawn(future);
        queue.pop().unwrap().run();
        _probe.waker().wake();

        let dropper = thread::spawn(move || drop(handle));
        queue.run_all(); // completes, storing the output
        dropper.join().unwrap();

        assert_eq!(tracked.drops(), 2, "the future once and the output once");
    });
}

/// Awaiting a `JoinHandle` while the task completes on another thread: the awaiting
/// thread registers its waker as the task stores its output. Whatever the order, the
/// awaiter is woken and gets the output; a lost join wake would leave it blocked for ever,
/// which loom reports as a deadlock.
/// Would catch: `poll_join` not re-reading the state after storing its waker, or
/// `finish` taking the join waker before setting `COMPLETE`.
#[test]
fn the_join_handle_sees_an_output_stored_while_it_registers() {
    model(|| {
        let tracked = Tracked::default();
        let queue = Queue::new();
        let (future, probe) = ReadyOnSecondPoll::new(5, &tracked);
        let (_task, handle) = queue.spawn(future);
        queue.pop().unwrap().run();
        probe.waker().wake();

        let runner = {
            let queue = queue.clone();
            thread::spawn(move || queue.run_all())
        };
        let output = loom::future::block_on(handle);
        runner.join().unwrap();

        assert_eq!(output.unwrap(), 5);
        assert_eq!(tracked.drops(), 1);
    });
}

/// The runtime shuts down (closes the owner list and cancels every task) while another
/// thread wakes a task and runs the queue. The future is dropped exactly once, by one side
/// or the other, never polled after that, and the handle reports it.
/// Would catch: `claim_for_shutdown` not setting `RUNNING` (both sides drop the future),
/// or a runner polling a task that shutdown already claimed.
#[test]
fn shutdown_racing_a_wake_drops_the_future_once() {
    model(|| {
        let tracked = Tracked::default();
        let queue = Queue::new();
        let owned = std::sync::Arc::new(OwnedTasks::new());
        let (future, probe) = ReadyOnSecondPoll::new((), &tracked);
        let (task, handle) = queue.spawn(future);
        assert!(owned.bind(&task));
        drop(task);
        queue.pop().unwrap().run(); // idle, waiting for its waker
        let waker = probe.waker();

        let shutdown = {
            let owned = owned.clone();
            thread::spawn(move || {
                for task in owned.close_and_take() {
                    task.shutdown();
                }
            })
        };
        waker.wake();
        queue.run_all();
        shutdown.join().unwrap();
        queue.run_all();

        assert_eq!(tracked.drops(), 1, "dropped once");
        assert_eq!(queue.released(), 1, "finished once");
        assert!(probe.polls() <= 2);
        match poll_once(handle) {
            Poll::Ready(Ok(())) => assert_eq!(probe.polls(), 2, "it completed first"),
            Poll::Ready(Err(err)) => assert!(err.is_cancelled()),
            Poll::Pending => panic!("the task neither completed nor was cancelled"),
        }
    });
}
