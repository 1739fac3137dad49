//! The primitives beyond the first five: `watch`, `broadcast`, `RwLock`, `Barrier` and
//! `OnceCell`, each across real tasks on both scheduler flavours, under the watchdog (a
//! lost wake-up fails the test instead of hanging it). No test sleeps to synchronise:
//! where an order matters, the test polls the futures once from its own body, in that
//! order, before handing each to a task (`queue_now`).

mod common;

use asincrono::sync::{Barrier, OnceCell, RwLock, broadcast, watch};
use asincrono::task::{JoinHandle, yield_now};
use common::on_each_flavour;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

/// Polls `future` once and asserts that it waits: from then on it holds its place in the
/// queue it waits in.
async fn queue_now<F: Future + Unpin>(future: &mut F) {
    poll_fn(|cx| {
        assert!(
            Pin::new(&mut *future).poll(cx).is_pending(),
            "expected the future to wait"
        );
        Poll::Ready(())
    })
    .await
}

/// Awaits every handle, failing on a panicked task.
async fn join_all<T>(handles: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("no task panics"));
    }
    outputs
}

// ---------------------------------------------------------------------------------------
// watch

#[test]
fn watch_receivers_see_the_latest_value_and_never_an_older_one_after_a_newer() {
    const UPDATES: u64 = 2_000;
    on_each_flavour(|| async {
        let (tx, rx) = watch::channel(0u64);
        let watchers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.clone();
                asincrono::spawn(async move {
                    let mut last = 0;
                    while rx.changed().await.is_ok() {
                        let now = *rx.borrow_and_update();
                        assert!(now > last, "went back from {last} to {now}");
                        last = now;
                    }
                    // The sender is gone; what it sent last is still there to read.
                    *rx.borrow()
                })
            })
            .collect();
        drop(rx);
        for value in 1..=UPDATES {
            tx.send(value).expect("the watchers listen");
            if value % 64 == 0 {
                yield_now().await;
            }
        }
        drop(tx);
        assert_eq!(join_all(watchers).await, [UPDATES; 3]);
    });
}

#[test]
fn watch_wait_for_and_sender_closed_across_tasks() {
    on_each_flavour(|| async {
        let (tx, mut rx) = watch::channel("starting");
        let waiter = asincrono::spawn(async move {
            let ready = *rx.wait_for(|state| *state == "ready").await.expect("open");
            assert_eq!(ready, "ready");
        });
        tx.send_modify(|state| *state = "loading");
        tx.send("ready").ok();
        waiter.await.expect("the waiter");
        // Every receiver is gone now: `closed` completes and sends fail.
        tx.closed().await;
        assert!(tx.send("nobody listens").is_err());
    });
}

// ---------------------------------------------------------------------------------------
// broadcast

#[test]
fn broadcast_every_receiver_gets_every_message_in_order() {
    const MESSAGES: usize = 5_000;
    on_each_flavour(|| async {
        // Room for all of them: nobody may lag, whatever the schedule.
        let (tx, rx) = broadcast::channel(MESSAGES);
        let receivers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.resubscribe();
                asincrono::spawn(async move {
                    let mut got = 0;
                    while let Ok(message) = rx.recv().await {
                        assert_eq!(message, got, "in order, none missed");
                        got += 1;
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for message in 0..MESSAGES {
            tx.send(message).expect("the receivers listen");
        }
        drop(tx);
        assert_eq!(join_all(receivers).await, [MESSAGES; 3]);
    });
}

#[test]
fn broadcast_a_slow_receiver_lags_and_resumes_while_a_fast_one_loses_nothing() {
    on_each_flavour(|| async {
        let (tx, mut fast) = broadcast::channel(4);
        let mut slow = tx.subscribe();
        for message in 0..10 {
            tx.send(message).expect("two receivers");
            assert_eq!(fast.recv().await, Ok(message));
        }
        // The slow one read nothing: 6 of the 10 were overwritten, 4 are kept.
        assert_eq!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(6))
        );
        for message in 6..10 {
            assert_eq!(slow.recv().await, Ok(message));
        }
        // A receiver waiting in another task is woken by the next send.
        let mut waiting = Box::pin(async move { slow.recv().await });
        queue_now(&mut waiting).await;
        let task = asincrono::spawn(waiting);
        tx.send(10).expect("open");
        assert_eq!(task.await.expect("the slow receiver"), Ok(10));
    });
}

// ---------------------------------------------------------------------------------------
// RwLock

#[test]
fn rwlock_readers_share_and_a_writer_excludes_everyone() {
    const TASKS: usize = 8;
    const ROUNDS: usize = 200;
    on_each_flavour(|| async {
        let lock = Arc::new(RwLock::new((0usize, 0usize)));
        let readers_inside = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|id| {
                let (lock, readers_inside) = (lock.clone(), readers_inside.clone());
                asincrono::spawn(async move {
                    for _ in 0..ROUNDS {
                        if id % 2 == 0 {
                            let mut guard = lock.write().await;
                            assert_eq!(readers_inside.load(Ordering::SeqCst), 0);
                            guard.0 += 1;
                            yield_now().await; // still exclusive across the await
                            guard.1 += 1;
                        } else {
                            let guard = lock.read().await;
                            readers_inside.fetch_add(1, Ordering::SeqCst);
                            assert_eq!(guard.0, guard.1, "never half a write");
                            yield_now().await;
                            readers_inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        join_all(tasks).await;
        let writes = TASKS / 2 * ROUNDS;
        assert_eq!(*lock.read().await, (writes, writes));
    });
}

#[test]
fn rwlock_a_queued_writer_goes_before_readers_that_came_after_it() {
    on_each_flavour(|| async {
        let lock = Arc::new(RwLock::new(Vec::new()));
        let first_reader = lock.clone().read_owned().await;
        let mut writer = Box::pin({
            let lock = lock.clone();
            async move { lock.write().await.push("writer") }
        });
        queue_now(&mut writer).await;
        let mut late_reader = Box::pin({
            let lock = lock.clone();
            async move { lock.read().await.clone() }
        });
        queue_now(&mut late_reader).await;
        let (writer, late_reader) = (asincrono::spawn(writer), asincrono::spawn(late_reader));
        drop(first_reader);
        writer.await.expect("the writer");
        assert_eq!(late_reader.await.expect("the reader"), ["writer"]);
    });
}

// ---------------------------------------------------------------------------------------
// Barrier

#[test]
fn barrier_releases_each_round_together_with_one_leader() {
    const TASKS: usize = 5;
    const ROUNDS: usize = 50;
    on_each_flavour(|| async {
        let barrier = Arc::new(Barrier::new(TASKS));
        let arrivals = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (barrier, arrivals) = (barrier.clone(), arrivals.clone());
                asincrono::spawn(async move {
                    let mut led = 0;
                    for round in 0..ROUNDS {
                        arrivals.fetch_add(1, Ordering::SeqCst);
                        let result = barrier.wait().await;
                        // Nobody leaves a round before everyone has arrived at it.
                        assert!(arrivals.load(Ordering::SeqCst) >= (round + 1) * TASKS);
                        led += result.is_leader() as usize;
                    }
                    led
                })
            })
            .collect();
        let leaders: usize = join_all(tasks).await.into_iter().sum();
        assert_eq!(leaders, ROUNDS, "one leader per round");
    });
}

// ---------------------------------------------------------------------------------------
// OnceCell

#[test]
fn once_cell_runs_one_initialiser_however_many_tasks_ask() {
    on_each_flavour(|| async {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..10)
            .map(|id| {
                let (cell, runs) = (cell.clone(), runs.clone());
                asincrono::spawn(async move {
                    *cell
                        .get_or_init(|| async move {
                            runs.fetch_add(1, Ordering::SeqCst);
                            yield_now().await; // the others queue meanwhile
                            id
                        })
                        .await
                })
            })
            .collect();
        let values = join_all(tasks).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(values.iter().all(|value| *value == values[0]));
        assert_eq!(cell.get(), Some(&values[0]));
    });
}

#[test]
fn once_cell_a_failing_initialiser_leaves_it_empty_for_the_next() {
    on_each_flavour(|| async {
        let cell = OnceCell::new();
        let failed = cell
            .get_or_try_init(|| async { Err::<u8, _>("not yet") })
            .await;
        assert_eq!(failed, Err("not yet"));
        assert!(!cell.initialized());
        let value = cell.get_or_try_init(|| async { Ok::<_, ()>(7) }).await;
        assert_eq!(value, Ok(&7));
    });
}
