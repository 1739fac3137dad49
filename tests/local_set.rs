//! `task::LocalSet` and `spawn_local`: `!Send` tasks on one thread, woken from anywhere,
//! aborted from anywhere, always dropped on their own thread.

mod common;

use asincrono::sync::oneshot;
use asincrono::task::{self, LocalSet};
use common::{FLAVOURS, TEST_DEADLINE, runtime, within};
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::rc::Rc;
use std::thread::{self, ThreadId};
use std::time::Duration;

/// Runs `body` inside `LocalSet::block_on` on a fresh runtime of each flavour.
fn on_each_flavour_locally<Fut>(body: fn() -> Fut)
where
    Fut: std::future::Future<Output = ()> + 'static,
{
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            LocalSet::new().block_on(&rt, body());
        });
    }
}

/// A `!Send` value that records the thread it was dropped on.
struct DropWitness {
    created_on: ThreadId,
    dropped_on: Rc<Cell<Option<ThreadId>>>,
    _not_send: PhantomData<*const ()>,
}

impl DropWitness {
    fn new() -> (DropWitness, Rc<Cell<Option<ThreadId>>>) {
        let dropped_on = Rc::new(Cell::new(None));
        let witness = DropWitness {
            created_on: thread::current().id(),
            dropped_on: dropped_on.clone(),
            _not_send: PhantomData,
        };
        (witness, dropped_on)
    }
}

impl Drop for DropWitness {
    fn drop(&mut self) {
        self.dropped_on.set(Some(thread::current().id()));
        assert_eq!(
            thread::current().id(),
            self.created_on,
            "dropped on another thread"
        );
    }
}

#[test]
fn local_tasks_share_rc_state_and_return_through_join_handles() {
    on_each_flavour_locally(|| async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..3 {
            let log = log.clone();
            handles.push(task::spawn_local(async move {
                task::yield_now().await;
                log.borrow_mut().push(i);
                i * 10
            }));
        }
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        assert_eq!(sum, 30);
        let mut seen = log.borrow().clone();
        seen.sort();
        assert_eq!(seen, [0, 1, 2]);
    });
}

#[test]
fn a_local_task_woken_from_another_thread_runs() {
    on_each_flavour_locally(|| async {
        let (tx, rx) = oneshot::channel::<u32>();
        let not_send = Rc::new(5);
        let task = task::spawn_local(async move { rx.await.unwrap() + *not_send });
        let sender = thread::spawn(move || tx.send(37).unwrap());
        assert_eq!(task.await.unwrap(), 42);
        sender.join().unwrap();
    });
}

#[test]
fn local_tasks_use_the_runtimes_timers_and_spawn_onto_it() {
    on_each_flavour_locally(|| async {
        let here = Rc::new(1);
        let task = task::spawn_local(async move {
            asincrono::time::sleep(Duration::from_millis(5)).await;
            let on_runtime = asincrono::spawn(async { 2 }).await.unwrap();
            *here + on_runtime
        });
        assert_eq!(task.await.unwrap(), 3);
    });
}

#[test]
fn a_panicking_local_task_becomes_a_join_error() {
    on_each_flavour_locally(|| async {
        let task = task::spawn_local(async {
            if Rc::new(true).as_ref() == &true {
                panic!("boom in a local task");
            }
        });
        let error = task.await.unwrap_err();
        assert!(error.is_panic());
    });
}

#[test]
fn awaiting_the_set_runs_every_task_to_completion() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let local = LocalSet::new();
            let count = Rc::new(Cell::new(0));
            for _ in 0..5 {
                let count = count.clone();
                // Spawned from outside any runtime: they run once the set is awaited.
                local.spawn_local(async move {
                    task::yield_now().await;
                    count.set(count.get() + 1);
                });
            }
            assert_eq!(count.get(), 0);
            rt.block_on(local);
            assert_eq!(count.get(), 5);
        });
    }
}

#[test]
fn aborting_a_local_task_from_another_thread_drops_it_on_its_own_thread() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let local = LocalSet::new();
            let (witness, dropped_on) = DropWitness::new();
            let (started_tx, started_rx) = std::sync::mpsc::channel();
            let handle = local.spawn_local(async move {
                let _witness = witness;
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            });
            let aborter = thread::spawn(move || {
                started_rx.recv().unwrap(); // the task is parked in `pending`
                handle.abort();
            });
            rt.block_on(local); // ends when the aborted task has finished
            aborter.join().unwrap();
            assert_eq!(dropped_on.get(), Some(thread::current().id()));
        });
    }
}

#[test]
fn dropping_the_set_drops_unfinished_futures_on_its_thread() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let local = LocalSet::new();
            let (witness, dropped_on) = DropWitness::new();
            let handle = local.spawn_local(async move {
                let _witness = witness;
                std::future::pending::<()>().await;
            });
            local.block_on(&rt, task::yield_now()); // the task starts and parks
            assert_eq!(dropped_on.get(), None);
            drop(local);
            assert_eq!(dropped_on.get(), Some(thread::current().id()));
            let error = rt.block_on(handle).unwrap_err();
            assert!(error.is_cancelled());
        });
    }
}

#[test]
fn run_until_returns_with_tasks_left_and_they_resume_next_time() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let rt = runtime(flavour);
            let local = LocalSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            let waiting = local.spawn_local(async move { rx.await.is_ok() });
            local.block_on(&rt, task::yield_now());
            assert!(!waiting.is_finished());
            tx.send(()).unwrap();
            assert!(local.block_on(&rt, waiting).unwrap());
        });
    }
}

#[test]
fn spawn_local_outside_a_set_panics_with_a_message() {
    let panic = std::panic::catch_unwind(|| {
        drop(task::spawn_local(async {}));
    })
    .unwrap_err();
    let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("LocalSet"), "message was {message:?}");
}
