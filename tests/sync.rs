//! Synchronisation between tasks: mpsc and oneshot channels, Mutex, Notify, Semaphore. Every
//! test runs on both scheduler flavours under the watchdog, so a lost wake-up fails the
//! test instead of hanging it.
//!
//! Where a test needs waiters queued in a known order, it polls their futures once from
//! the test body, in that order, before moving each into a task of its own
//! (`queue_in_order`): the order then does not depend on how the scheduler runs tasks.

mod common;

use asincrono::sync::mpsc::error::{SendError, TryRecvError};
use asincrono::sync::{Mutex, Notify, Semaphore, mpsc, oneshot};
use asincrono::task::{JoinHandle, yield_now};
use asincrono::time::timeout;
use common::{DropCounter, on_each_flavour};
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

/// Polls `future` once and asserts that it is waiting: from here on it holds its place in
/// whatever queue it waits in, whichever task polls it next.
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
// mpsc

const PRODUCERS: usize = 4;
const MESSAGES_PER_PRODUCER: usize = 50_000;

/// Checks one received `(producer, sequence)` pair against the next sequence number
/// expected from that producer: each message must arrive exactly once, in sending order.
fn check_per_producer_order(next_expected: &mut [usize], (producer, sequence): (usize, usize)) {
    assert_eq!(
        sequence, next_expected[producer],
        "producer {producer}: message out of order, duplicated or lost"
    );
    next_expected[producer] += 1;
}

#[test]
fn four_producers_through_a_small_bounded_channel_arrive_once_and_in_order() {
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::channel(16);
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let tx = tx.clone();
                asincrono::spawn(async move {
                    for sequence in 0..MESSAGES_PER_PRODUCER {
                        tx.send((producer, sequence))
                            .await
                            .expect("the receiver lives");
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next_expected = [0; PRODUCERS];
        while let Some(message) = rx.recv().await {
            check_per_producer_order(&mut next_expected, message);
        }
        assert_eq!(next_expected, [MESSAGES_PER_PRODUCER; PRODUCERS]);
        join_all(producers).await;
    });
}

#[test]
fn four_producers_through_an_unbounded_channel_arrive_once_and_in_order() {
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let tx = tx.clone();
                asincrono::spawn(async move {
                    for sequence in 0..MESSAGES_PER_PRODUCER {
                        tx.send((producer, sequence)).expect("the receiver lives");
                        if sequence % 64 == 0 {
                            yield_now().await; // interleave the producers
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next_expected = [0; PRODUCERS];
        while let Some(message) = rx.recv().await {
            check_per_producer_order(&mut next_expected, message);
        }
        assert_eq!(next_expected, [MESSAGES_PER_PRODUCER; PRODUCERS]);
        join_all(producers).await;
    });
}

#[test]
fn messages_from_a_plain_thread_reach_a_task_on_a_parked_runtime() {
    const ROUNDS: usize = 200;
    on_each_flavour(|| async {
        let (unbounded_tx, mut unbounded_rx) = mpsc::unbounded_channel();
        let (bounded_tx, mut bounded_rx) = mpsc::channel(1);
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            for round in 0..ROUNDS {
                go_rx.recv().expect("the task asks for the next message");
                if round == 0 {
                    // Give the runtime time to run out of work and block in epoll_wait:
                    // that is the state under test, not a synchronisation. Later rounds
                    // race the park, which is worth covering too.
                    std::thread::sleep(Duration::from_millis(50));
                }
                if round % 2 == 0 {
                    unbounded_tx.send(round).expect("the task listens");
                } else {
                    bounded_tx
                        .try_send(round)
                        .expect("one message in flight at most");
                }
            }
        });
        for round in 0..ROUNDS {
            go_tx.send(()).expect("the thread listens");
            let received = if round % 2 == 0 {
                unbounded_rx.recv().await
            } else {
                bounded_rx.recv().await
            };
            assert_eq!(received, Some(round));
        }
        assert_eq!(
            unbounded_rx.recv().await,
            None,
            "the thread's sender is gone"
        );
        assert_eq!(bounded_rx.recv().await, None);
        thread.join().expect("the sending thread");
    });
}

#[test]
fn a_dropped_receiver_fails_later_sends_with_the_value_and_drops_what_was_queued() {
    on_each_flavour(|| async {
        let drops = DropCounter::default();
        let (tx, rx) = mpsc::channel(8);
        let (unbounded_tx, unbounded_rx) = mpsc::unbounded_channel();
        for _ in 0..3 {
            tx.send(drops.track()).await.expect("room for three");
            unbounded_tx.send(drops.track()).expect("open");
        }
        drop(rx);
        drop(unbounded_rx);
        assert_eq!(
            drops.dropped(),
            6,
            "the queued messages are dropped with the receiver"
        );
        assert!(tx.is_closed() && unbounded_tx.is_closed());

        let SendError(returned) = tx.send(drops.track()).await.expect_err("closed");
        let SendError(returned_too) = unbounded_tx.send(drops.track()).expect_err("closed");
        assert!(matches!(
            tx.try_send(drops.track()),
            Err(mpsc::error::TrySendError::Closed(_))
        ));
        assert_eq!(
            drops.dropped(),
            7,
            "only the one try_send handed back and we dropped"
        );
        drop((returned, returned_too));
        assert_eq!(drops.dropped(), 9);
    });
}

#[test]
fn a_sender_waiting_for_room_is_woken_with_an_error_when_the_receiver_drops() {
    on_each_flavour(|| async {
        let (tx, rx) = mpsc::channel(1);
        tx.send(0).await.expect("room for one");
        let mut waiting_send = Box::pin(async move { tx.send(1).await });
        queue_now(&mut waiting_send).await;
        let sender = asincrono::spawn(waiting_send);
        drop(rx);
        let SendError(value) = sender
            .await
            .expect("no panic")
            .expect_err("the receiver is gone");
        assert_eq!(value, 1, "the value comes back");
    });
}

#[test]
fn a_send_cancelled_while_waiting_for_room_takes_no_slot_with_it() {
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(0).await.expect("room for one");
        let cancelled = timeout(Duration::from_millis(5), tx.send(1)).await;
        assert!(cancelled.is_err(), "the channel was full");
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(tx.capacity(), 1, "the cancelled send left the slot free");
        tx.try_send(2).expect("room again");
        assert_eq!(rx.recv().await, Some(2));
    });
}

/// Polls `tx.send(value)` at most twice, yielding after each poll, and drops it if it has
/// not completed by then: a sender that gives up, either still queued for a slot or granted
/// one during the last yield and never back to collect it. Returns whether it was sent.
async fn send_or_give_up<T>(tx: &mpsc::Sender<T>, value: T) -> bool {
    let mut send = pin!(tx.send(value));
    for _ in 0..2 {
        if let Poll::Ready(result) = poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await {
            result.expect("the receiver lives");
            return true;
        }
        yield_now().await;
    }
    false
}

#[test]
fn senders_that_give_up_at_any_point_lose_no_slot_and_no_sent_message() {
    const CAPACITY: usize = 4;
    const ATTEMPTS: usize = 5_000;
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::channel::<(usize, Option<usize>)>(CAPACITY);
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let tx = tx.clone();
                asincrono::spawn(async move {
                    // Each message carries the number of messages this producer sent before
                    // it, so a lost, duplicated or reordered one shows at the receiver.
                    let mut sent = 0;
                    for _ in 0..ATTEMPTS {
                        if send_or_give_up(&tx, (producer, Some(sent))).await {
                            sent += 1;
                        }
                    }
                    tx.send((producer, None)).await.expect("the receiver lives");
                    sent
                })
            })
            .collect();
        let mut next_expected = [0; PRODUCERS];
        let mut finished = 0;
        let mut received = 0;
        while finished < PRODUCERS {
            match rx.recv().await.expect("a sender is alive") {
                (_, None) => finished += 1,
                (producer, Some(sequence)) => {
                    check_per_producer_order(&mut next_expected, (producer, sequence));
                    received += 1;
                    if received % 3 == 0 {
                        yield_now().await; // let the senders find the channel full
                    }
                }
            }
        }
        let sent = join_all(producers).await;
        assert_eq!(
            next_expected.to_vec(),
            sent,
            "every completed send arrived once"
        );
        assert!(
            sent.iter().sum::<usize>() < PRODUCERS * ATTEMPTS,
            "some senders gave up"
        );
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Empty),
            "no message was left over"
        );
        assert_eq!(tx.capacity(), CAPACITY, "every slot is free again");
    });
}

#[test]
fn recv_returns_none_once_every_sender_is_gone_and_the_queue_is_empty() {
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::channel(4);
        let senders: Vec<_> = (0..5)
            .map(|id| {
                let tx = tx.clone();
                asincrono::spawn(async move { tx.send(id).await.expect("open") })
            })
            .collect();
        // One more sender leaves without sending, on a signal given just before the last
        // `recv`: the receiver is then (most likely) waiting, and only the drop can wake it.
        let leave = Arc::new(Notify::new());
        let silent = {
            let leave = leave.clone();
            asincrono::spawn(async move {
                leave.notified().await;
                drop(tx);
            })
        };
        let mut received = Vec::new();
        for _ in 0..5 {
            received.push(rx.recv().await.expect("five messages"));
        }
        received.sort();
        assert_eq!(received, [0, 1, 2, 3, 4]);
        leave.notify_one();
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        join_all(senders).await;
        silent.await.expect("no panic");
    });
}

#[test]
fn closing_the_receiver_wakes_closed_and_keeps_the_queued_messages() {
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::channel(4);
        tx.send("queued").await.expect("open");
        let watcher = {
            let tx = tx.clone();
            asincrono::spawn(async move { tx.closed().await })
        };
        rx.close();
        watcher.await.expect("closed() completes");
        assert!(tx.send("late").await.is_err());
        assert_eq!(rx.recv().await, Some("queued"));
        assert_eq!(rx.recv().await, None);
    });
}

// ---------------------------------------------------------------------------------------
// oneshot

#[test]
fn oneshot_carries_a_value_from_one_task_to_another() {
    on_each_flavour(|| async {
        let (tx, rx) = oneshot::channel();
        let receiver = asincrono::spawn(rx);
        yield_now().await;
        tx.send(String::from("answer")).expect("the receiver waits");
        assert_eq!(receiver.await.expect("no panic").as_deref(), Ok("answer"));
    });
}

#[test]
fn oneshot_sender_dropped_without_sending_gives_recv_error() {
    on_each_flavour(|| async {
        let (tx, rx) = oneshot::channel::<u32>();
        let receiver = asincrono::spawn(rx);
        asincrono::spawn(async move { drop(tx) });
        let error = receiver
            .await
            .expect("no panic")
            .expect_err("nothing was sent");
        assert!(error.to_string().contains("dropped"), "{error}");
    });
}

#[test]
fn oneshot_closed_completes_when_the_receiver_goes_and_send_hands_the_value_back() {
    on_each_flavour(|| async {
        let (mut tx, rx) = oneshot::channel();
        asincrono::spawn(async move { drop(rx) });
        tx.closed().await;
        assert!(tx.is_closed());
        assert_eq!(tx.send(5), Err(5));
    });
}

#[test]
fn awaiting_a_oneshot_receiver_through_a_reference_is_cancel_safe() {
    on_each_flavour(|| async {
        let (tx, mut rx) = oneshot::channel();
        let early = timeout(Duration::from_millis(5), &mut rx).await;
        assert!(early.is_err(), "nothing sent yet");
        tx.send(9).expect("the receiver lives");
        assert_eq!(rx.await, Ok(9));
    });
}

// ---------------------------------------------------------------------------------------
// Mutex

#[test]
fn mutex_excludes_other_tasks_across_awaits() {
    const TASKS: usize = 20;
    const ROUNDS: usize = 50;
    on_each_flavour(|| async {
        let count = Arc::new(Mutex::new(0));
        let inside = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (count, inside) = (count.clone(), inside.clone());
                asincrono::spawn(async move {
                    for _ in 0..ROUNDS {
                        let mut guard = count.lock().await;
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "alone inside");
                        let seen = *guard;
                        yield_now().await; // the others run now, and must not get in
                        *guard = seen + 1;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        join_all(tasks).await;
        assert_eq!(*count.lock().await, TASKS * ROUNDS);
    });
}

#[test]
fn mutex_hands_the_lock_out_in_the_order_it_was_asked_for() {
    on_each_flavour(|| async {
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = order.lock().await;
        let mut waiters = Vec::new();
        for id in 0..10 {
            let mut lock = Box::pin(order.clone().lock_owned());
            queue_now(&mut lock).await;
            waiters.push(asincrono::spawn(async move { lock.await.push(id) }));
        }
        drop(held);
        join_all(waiters).await;
        assert_eq!(*order.lock().await, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn a_panic_while_holding_the_guard_unlocks_without_poisoning() {
    on_each_flavour(|| async {
        let shared = Arc::new(Mutex::new(1));
        let doomed = {
            let shared = shared.clone();
            asincrono::spawn(async move {
                let mut guard = shared.lock().await;
                *guard = 2;
                panic!("failing on purpose while holding the lock");
            })
        };
        assert!(doomed.await.expect_err("it panicked").is_panic());
        assert_eq!(*shared.lock().await, 2, "the value as the task left it");
    });
}

// ---------------------------------------------------------------------------------------
// Notify

#[test]
fn a_notify_one_before_anyone_awaits_is_not_lost() {
    on_each_flavour(|| async {
        let notify = Arc::new(Notify::new());
        notify.notify_one();
        let waiter = {
            let notify = notify.clone();
            asincrono::spawn(async move { notify.notified().await })
        };
        waiter.await.expect("the stored permit completes it");
    });
}

#[test]
fn notify_one_from_another_task_wakes_the_waiter() {
    on_each_flavour(|| async {
        let notify = Arc::new(Notify::new());
        let notifier = notify.clone();
        asincrono::spawn(async move {
            yield_now().await;
            notifier.notify_one();
        });
        notify.notified().await;
    });
}

#[test]
fn notify_waiters_wakes_every_notified_that_exists_even_unpolled() {
    const WAITERS: usize = 8;
    on_each_flavour(|| async {
        let notify = Arc::new(Notify::new());
        let (exists_tx, mut exists_rx) = mpsc::unbounded_channel();
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| {
                let (notify, exists_tx) = (notify.clone(), exists_tx.clone());
                asincrono::spawn(async move {
                    let notified = notify.notified();
                    exists_tx.send(()).expect("the test listens");
                    notified.await;
                })
            })
            .collect();
        for _ in 0..WAITERS {
            exists_rx.recv().await.expect("each waiter reports in");
        }
        // Some waiters may not have polled their `Notified` yet: they still count.
        notify.notify_waiters();
        join_all(waiters).await;
    });
}

#[test]
fn a_notified_dropped_after_notify_one_chose_it_passes_the_notification_on() {
    on_each_flavour(|| async {
        let notify = Arc::new(Notify::new());
        let mut chosen = Box::pin(notify.notified());
        queue_now(&mut chosen).await;
        let next = {
            let notify = notify.clone();
            let (queued_tx, queued_rx) = oneshot::channel();
            let task = asincrono::spawn(async move {
                let mut notified = Box::pin(notify.notified());
                queue_now(&mut notified).await;
                queued_tx.send(()).expect("the test listens");
                notified.await;
            });
            queued_rx.await.expect("the second waiter is queued");
            task
        };
        notify.notify_one(); // chooses `chosen`, the oldest
        drop(chosen);
        next.await
            .expect("the notification reached the next waiter");
    });
}

// ---------------------------------------------------------------------------------------
// Semaphore

#[test]
fn a_semaphore_limits_how_many_tasks_run_at_once() {
    const PERMITS: usize = 3;
    on_each_flavour(|| async {
        let semaphore = Arc::new(Semaphore::new(PERMITS));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_in_flight = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let semaphore = semaphore.clone();
                let (in_flight, most) = (in_flight.clone(), most_in_flight.clone());
                asincrono::spawn(async move {
                    let _permit = semaphore.acquire().await.expect("never closed");
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    for _ in 0..5 {
                        yield_now().await;
                    }
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        join_all(tasks).await;
        let most = most_in_flight.load(Ordering::SeqCst);
        assert!((1..=PERMITS).contains(&most), "{most} tasks ran at once");
        assert_eq!(
            semaphore.available_permits(),
            PERMITS,
            "every permit came back"
        );
    });
}

#[test]
fn every_permit_can_be_held_at_once_and_no_more() {
    on_each_flavour(|| async {
        let semaphore = Arc::new(Semaphore::new(3));
        let release = Arc::new(Notify::new());
        let (holding_tx, mut holding_rx) = mpsc::unbounded_channel();
        let holders: Vec<_> = (0..3)
            .map(|_| {
                let (semaphore, release) = (semaphore.clone(), release.clone());
                let holding_tx = holding_tx.clone();
                asincrono::spawn(async move {
                    let released = release.notified();
                    let _permit = semaphore.acquire_owned().await.expect("open");
                    holding_tx.send(()).expect("the test listens");
                    released.await;
                })
            })
            .collect();
        for _ in 0..3 {
            holding_rx.recv().await.expect("each holder reports in");
        }
        assert!(semaphore.try_acquire().is_err(), "all three are out");
        release.notify_waiters();
        join_all(holders).await;
        assert_eq!(semaphore.available_permits(), 3);
    });
}

#[test]
fn acquire_many_at_the_head_is_served_before_smaller_requests_behind_it() {
    on_each_flavour(|| async {
        let semaphore = Arc::new(Semaphore::new(2));
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let held = semaphore.clone().acquire_owned().await.expect("open");
        let mut tasks = Vec::new();
        for (name, permits) in [("big", 2), ("small 1", 1), ("small 2", 1)] {
            let mut acquire = Box::pin(semaphore.clone().acquire_many_owned(permits));
            queue_now(&mut acquire).await;
            let order = order.clone();
            tasks.push(asincrono::spawn(async move {
                let _permits = acquire.await.expect("open");
                order.lock().unwrap().push(name);
            }));
        }
        // The free permit went to the big request as a down payment. It would have been
        // enough for a small one, but they are behind the big one and must wait.
        yield_now().await;
        assert!(
            order.lock().unwrap().is_empty(),
            "nobody overtook the big request"
        );
        drop(held);
        join_all(tasks).await;
        assert_eq!(order.lock().unwrap()[0], "big");
        assert_eq!(semaphore.available_permits(), 2);
    });
}

#[test]
fn closing_a_semaphore_wakes_its_waiters_with_an_error() {
    on_each_flavour(|| async {
        let semaphore = Arc::new(Semaphore::new(0));
        let mut waiters = Vec::new();
        for _ in 0..4 {
            let mut acquire = Box::pin(semaphore.clone().acquire_owned());
            queue_now(&mut acquire).await;
            waiters.push(asincrono::spawn(acquire));
        }
        semaphore.close();
        for outcome in join_all(waiters).await {
            assert!(outcome.is_err(), "a closed semaphore grants nothing");
        }
        assert!(semaphore.acquire().await.is_err(), "nor later");
    });
}

#[test]
fn a_cancelled_acquire_gives_back_the_permits_it_had_collected() {
    on_each_flavour(|| async {
        let semaphore = Arc::new(Semaphore::new(2));
        let held = semaphore.clone().acquire_owned().await.expect("open");
        // Takes the one free permit as a down payment and waits for the second.
        let cancelled = timeout(Duration::from_millis(5), semaphore.acquire_many(2)).await;
        assert!(cancelled.is_err(), "only one permit was free");
        assert_eq!(
            semaphore.available_permits(),
            1,
            "the down payment came back"
        );

        let mut behind = Box::pin(semaphore.clone().acquire_many_owned(2));
        queue_now(&mut behind).await;
        let waiter = asincrono::spawn(behind);
        drop(held);
        let permits = waiter.await.expect("no panic").expect("open");
        assert_eq!(permits.num_permits(), 2);
    });
}

// ---------------------------------------------------------------------------------------
// tokio's shape: permits, the blocking bridges, notify_last, permit juggling

#[test]
fn a_permit_reserved_in_one_task_is_filled_in_another_after_the_receiver_closed() {
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::channel::<String>(2);
        let permit = tx.clone().reserve_owned().await.expect("room");
        // One slot is free, two are asked for: it waits, holding the free one.
        let mut blocked = Box::pin(tx.reserve_many(2));
        queue_now(&mut blocked).await;
        rx.close();
        assert!(
            blocked.await.is_err(),
            "turned away, it gives its slot back"
        );
        let filler = asincrono::spawn(async move {
            yield_now().await;
            // Built only now that the slot is ours; the close does not undo the permit.
            permit.send("late but reserved".to_string());
        });
        assert_eq!(rx.recv().await.as_deref(), Some("late but reserved"));
        assert_eq!(rx.recv().await, None, "every slot is back: the end");
        filler.await.expect("the filler");
    });
}

#[test]
fn blocking_send_and_blocking_recv_bridge_threads_and_tasks() {
    const MESSAGES: usize = 1000;
    on_each_flavour(|| async {
        let (to_task, mut from_thread) = mpsc::channel(4);
        let (to_thread, mut from_task) = mpsc::channel(4);
        let thread = std::thread::spawn(move || {
            for i in 0..MESSAGES {
                to_task.blocking_send(i).expect("the task listens");
                assert_eq!(from_task.blocking_recv(), Some(i * 2));
            }
            drop(to_task); // ends the task's loop, which then drops its sender
            assert_eq!(from_task.blocking_recv(), None);
        });
        while let Some(i) = from_thread.recv().await {
            to_thread.send(i * 2).await.expect("the thread listens");
        }
        drop(to_thread);
        thread.join().expect("the bridging thread");
    });
}

#[test]
fn a_blocking_call_inside_a_runtime_panics_instead_of_stalling_it() {
    on_each_flavour(|| async {
        let (_tx, mut rx) = mpsc::channel::<()>(1);
        let task = asincrono::spawn(async move { rx.blocking_recv() });
        let error = task.await.expect_err("it panics");
        assert!(error.is_panic());
        let semaphore = Arc::new(Semaphore::new(1));
        let task = asincrono::spawn(async move { semaphore.blocking_acquire().map(drop) });
        assert!(task.await.expect_err("it panics").is_panic());
    });
}

#[test]
fn blocking_calls_in_a_spawn_blocking_job_wait_for_the_tasks_instead_of_panicking() {
    // A pool thread drives no runtime, so parking it stalls no task: tokio allows the
    // `blocking_*` calls there (its `rt_spawn_blocking` parks jobs in `blocking_recv`).
    // asincrono once refused them on any thread inside a runtime's context, pool included.
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::channel::<usize>(1);
        let mutex = Arc::new(Mutex::new(0));
        let guard = mutex.clone().lock_owned().await;
        let in_the_job = mutex.clone();
        let job = asincrono::task::spawn_blocking(move || {
            let sent = rx
                .blocking_recv()
                .expect("the task sends before it drops the sender");
            *in_the_job.blocking_lock() += sent;
            rx.blocking_recv()
        });
        tx.send(5).await.expect("the job listens");
        drop(tx);
        drop(guard); // the job may already be waiting in `blocking_lock`
        assert_eq!(
            job.await.expect("the job's blocking calls do not panic"),
            None,
            "the sender is gone"
        );
        assert_eq!(*mutex.lock().await, 5);
    });
}

#[test]
fn blocking_lock_and_blocking_acquire_wait_for_a_task_to_let_go() {
    on_each_flavour(|| async {
        let mutex = Arc::new(Mutex::new(0));
        let semaphore = Arc::new(Semaphore::new(0));
        let guard = mutex.clone().lock_owned().await;
        let (thread_mutex, thread_semaphore) = (mutex.clone(), semaphore.clone());
        let thread = std::thread::spawn(move || {
            let permits = thread_semaphore.blocking_acquire_many(2).expect("open");
            *thread_mutex.blocking_lock() += permits.num_permits();
        });
        semaphore.add_permits(2);
        drop(guard);
        asincrono::task::spawn_blocking(move || thread.join().expect("the thread"))
            .await
            .expect("the join");
        assert_eq!(*mutex.lock().await, 2);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

#[test]
fn send_timeout_hands_the_value_back_when_no_room_comes() {
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send_timeout(1, Duration::from_secs(5))
            .await
            .expect("room for one");
        let error = tx
            .send_timeout(2, Duration::from_millis(20))
            .await
            .expect_err("full");
        assert!(matches!(error, mpsc::error::SendTimeoutError::Timeout(2)));
        assert_eq!(rx.recv().await, Some(1));
        drop(rx);
        let error = tx
            .send_timeout(3, Duration::from_secs(5))
            .await
            .expect_err("closed");
        assert!(matches!(error, mpsc::error::SendTimeoutError::Closed(3)));
    });
}

#[test]
fn polling_a_waiting_reservation_by_hand_does_not_spend_the_tasks_budget() {
    on_each_flavour(|| async {
        // The shape of tokio's own test: each round completes one reservation and polls a
        // waiting one by hand. If waiting polls spent budget, a round would run out of it
        // in the hand-polled future, which would then never complete.
        for n in 1..100 {
            let (tx, _rx) = mpsc::channel::<()>(n);
            let held = tx.reserve_many(n).await.expect("room");
            let mut waiting = Box::pin(tx.reserve_many(n));
            queue_now(&mut waiting).await;
            drop(held);
            let granted = poll_fn(|cx| Poll::Ready(waiting.as_mut().poll(cx))).await;
            assert!(matches!(granted, Poll::Ready(Ok(_))), "round {n}");
        }
    });
}

/// A waker that only records that it was woken.
struct WokenFlag(std::sync::atomic::AtomicBool);

impl std::task::Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn woken_flag() -> (Arc<WokenFlag>, std::task::Waker) {
    let flag = Arc::new(WokenFlag(std::sync::atomic::AtomicBool::new(false)));
    (flag.clone(), flag.into())
}

#[test]
fn a_lock_polled_out_of_budget_still_takes_its_place_in_line() {
    // tokio's `mutex_fifo_with_coop_budget`: a task that has spent its budget asks for a
    // held mutex, then a second task asks. The first must be queued, and so served, first.
    on_each_flavour(|| async {
        let mutex = Arc::new(Mutex::new(()));
        let held = mutex.clone().lock_owned().await;
        let (first_woken, first_waker) = woken_flag();
        let (second_woken, second_waker) = woken_flag();
        let mut first = pin!(mutex.clone().lock_owned());
        let mut second = pin!(mutex.clone().lock_owned());
        poll_fn(|cx| {
            while pin!(asincrono::task::consume_budget()).poll(cx).is_ready() {}
            let mut first_cx = std::task::Context::from_waker(&first_waker);
            assert!(first.as_mut().poll(&mut first_cx).is_pending());
            Poll::Ready(())
        })
        .await;
        let mut second_cx = std::task::Context::from_waker(&second_waker);
        assert!(second.as_mut().poll(&mut second_cx).is_pending());
        drop(held);
        assert!(
            first_woken.0.load(Ordering::SeqCst),
            "the first in line gets the lock"
        );
        assert!(
            !second_woken.0.load(Ordering::SeqCst),
            "the second must wait its turn"
        );
    });
}

#[test]
fn a_dropped_receiver_lets_go_of_its_waker_while_the_senders_live() {
    // tokio's `release_waker_on_rx_drop`: a waker can hold the last reference to its task,
    // so a receiver that waited and is then dropped must not leave its waker in the channel
    // for as long as a sender lives. asincrono's receivers once did, on both kinds.
    on_each_flavour(|| async {
        let (flag, waker) = woken_flag();
        let mut cx = std::task::Context::from_waker(&waker);
        let (bounded_tx, mut bounded) = mpsc::channel::<()>(1);
        let (unbounded_tx, mut unbounded) = mpsc::unbounded_channel::<()>();
        assert!(bounded.poll_recv(&mut cx).is_pending());
        assert!(unbounded.poll_recv(&mut cx).is_pending());
        assert_eq!(Arc::strong_count(&flag), 4, "each channel keeps a clone");
        drop(bounded);
        drop(unbounded);
        assert_eq!(
            Arc::strong_count(&flag),
            2,
            "the receivers' drops released their clones"
        );
        drop((bounded_tx, unbounded_tx));
    });
}

#[test]
fn notify_last_wakes_the_task_that_came_last() {
    on_each_flavour(|| async {
        let notify = Arc::new(Notify::new());
        let woken = Arc::new(AtomicUsize::new(usize::MAX));
        let mut tasks = Vec::new();
        for id in 0..3 {
            let (notify, woken) = (notify.clone(), woken.clone());
            let mut waiting = Box::pin(async move {
                notify.notified().await;
                woken.store(id, Ordering::SeqCst);
            });
            queue_now(&mut waiting).await;
            tasks.push(asincrono::spawn(waiting));
        }
        notify.notify_last();
        let last = tasks.pop().expect("three tasks");
        last.await.expect("the last waiter");
        assert_eq!(woken.load(Ordering::SeqCst), 2);
        notify.notify_waiters();
        join_all(tasks).await;
    });
}

#[test]
fn weak_unbounded_senders_upgrade_only_while_a_sender_lives() {
    on_each_flavour(|| async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let weak = tx.downgrade();
        let task = asincrono::spawn(async move {
            let tx = weak.upgrade().expect("the first sender is alive");
            tx.send("through an upgraded weak sender").expect("open");
            weak
        });
        let weak = task.await.expect("the task");
        drop(tx);
        assert_eq!(rx.recv().await, Some("through an upgraded weak sender"));
        assert_eq!(rx.recv().await, None, "the weak sender keeps nothing open");
        assert!(weak.upgrade().is_none());
    });
}
