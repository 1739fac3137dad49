//! `task::block_in_place`: a worker that blocks hands its other tasks to a new thread.

mod common;

use asincrono::runtime::{Builder, Handle};
use asincrono::task::{block_in_place, yield_now};
use common::{TEST_DEADLINE, within};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

fn one_worker() -> asincrono::Runtime {
    Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap()
}

#[test]
fn the_other_tasks_run_while_the_closure_blocks_the_only_worker() {
    within(TEST_DEADLINE, "multi_thread", || {
        let rt = one_worker();
        rt.block_on(async {
            let (tx, rx) = mpsc::channel::<u32>();
            // Blocks the one worker until the other task has run: only possible if that
            // task found another thread to run on.
            let blocker = asincrono::spawn(async move {
                block_in_place(|| rx.recv_timeout(Duration::from_secs(10)))
            });
            let sender = asincrono::spawn(async move { tx.send(9).unwrap() });
            sender.await.unwrap();
            assert_eq!(blocker.await.unwrap(), Ok(9));
        });
    });
}

#[test]
fn the_closure_may_block_on_a_future_that_yields() {
    within(TEST_DEADLINE, "multi_thread", || {
        let rt = one_worker();
        let out = rt.block_on(async {
            asincrono::spawn(async {
                block_in_place(|| {
                    Handle::current().block_on(async {
                        yield_now().await;
                        asincrono::time::sleep(Duration::from_millis(1)).await;
                        3
                    })
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 3);
    });
}

#[test]
fn the_closure_may_wait_in_blocking_recv_for_another_task() {
    // tokio's `rt_threaded` parks a `block_in_place` closure in `blocking_recv`: its thread
    // has handed the worker on, so parking it stalls no task. asincrono once refused every
    // `blocking_*` call on a thread inside a runtime's context, this one included.
    within(TEST_DEADLINE, "multi_thread", || {
        let rt = one_worker();
        rt.block_on(async {
            let (started_tx, started_rx) = asincrono::sync::oneshot::channel::<()>();
            let (tx, mut rx) = asincrono::sync::mpsc::channel::<u32>(1);
            let blocker = asincrono::spawn(async move {
                block_in_place(|| {
                    started_tx.send(()).unwrap();
                    rx.blocking_recv()
                })
            });
            let sender = asincrono::spawn(async move {
                started_rx.await.unwrap();
                tx.send(7).await.unwrap();
            });
            sender.await.unwrap();
            let received = blocker.await.expect("blocking_recv does not panic here");
            assert_eq!(received, Some(7));
        });
    });
}

#[test]
fn the_task_goes_on_after_the_closure_and_so_do_the_others() {
    within(TEST_DEADLINE, "multi_thread", || {
        let rt = one_worker();
        let total = rt.block_on(async {
            let tasks: Vec<_> = (0..20u32)
                .map(|i| {
                    asincrono::spawn(async move {
                        let doubled = block_in_place(|| i * 2);
                        yield_now().await; // now on a thread that is no worker any more
                        block_in_place(|| doubled + 1) // runs in place there
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.unwrap();
            }
            total
        });
        assert_eq!(total, (0..20).map(|i| i * 2 + 1).sum::<u32>());
    });
}

#[test]
fn outside_a_runtime_and_in_block_on_the_closure_simply_runs() {
    assert_eq!(block_in_place(|| 5), 5);
    let rt = one_worker();
    assert_eq!(rt.block_on(async { block_in_place(|| 6) }), 6);
}

#[test]
fn on_a_current_thread_runtime_it_panics_with_a_message() {
    let rt = Builder::new_current_thread().build().unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { block_in_place(|| ()) })
    }))
    .expect_err("its one thread cannot block");
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(
        message.contains("needs a multi-thread runtime"),
        "{message}"
    );
}

#[test]
fn a_dropped_runtime_waits_for_the_closure_and_every_thread_runs_its_stop_callback() {
    within(TEST_DEADLINE, "multi_thread", || {
        let started = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicUsize::new(0));
        let (on_start, on_stop) = (started.clone(), stopped.clone());
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(move || {
                on_start.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_stop(move || {
                on_stop.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (entered_tx, entered_rx) = mpsc::channel();
        let (finished_tx, finished_rx) = mpsc::channel();
        rt.spawn(async move {
            block_in_place(|| {
                entered_tx.send(()).unwrap();
                // Returns once the runtime's shutdown drops the task holding `release_tx`.
                let _ = release_rx.recv();
                finished_tx.send(()).unwrap();
            });
        });
        rt.spawn(async move {
            let _release = release_tx;
            std::future::pending::<()>().await
        });
        entered_rx.recv().unwrap();
        drop(rt);
        assert!(
            finished_rx.try_recv().is_ok(),
            "drop waited for the closure"
        );
        let started = started.load(Ordering::SeqCst);
        assert!(started >= 3, "two workers and a successor, saw {started}");
        assert_eq!(stopped.load(Ordering::SeqCst), started);
    });
}
