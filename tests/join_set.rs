//! `task::JoinSet`: outputs in the order tasks finish, abort on drop, detach, shutdown.

mod common;

use asincrono::sync::oneshot;
use asincrono::task::JoinSet;
use common::on_each_flavour;
use std::time::Duration;

#[test]
fn outputs_come_in_the_order_the_tasks_finish() {
    on_each_flavour(|| async {
        let mut set = JoinSet::new();
        let mut senders = Vec::new();
        for i in 0..4u32 {
            let (tx, rx) = oneshot::channel::<()>();
            senders.push(tx);
            set.spawn(async move {
                rx.await.unwrap();
                i
            });
        }
        // Release them in the order 2, 0, 3, 1; each output must come before the next release.
        for i in [2usize, 0, 3, 1] {
            senders[i].take_send();
            let output = set.join_next().await.expect("a task is left").unwrap();
            assert_eq!(output as usize, i);
        }
        assert!(set.join_next().await.is_none());
        assert!(set.is_empty());
    });
}

/// Sends once, consuming the sender out of a `Vec` slot.
trait TakeSend {
    fn take_send(&mut self);
}

impl TakeSend for oneshot::Sender<()> {
    fn take_send(&mut self) {
        let (replacement, _) = oneshot::channel();
        let sender = std::mem::replace(self, replacement);
        sender.send(()).unwrap();
    }
}

#[test]
fn dropping_the_set_aborts_what_is_still_in_it() {
    on_each_flavour(|| async {
        let (dropped_tx, mut dropped_rx) = asincrono::sync::mpsc::unbounded_channel();
        let mut set = JoinSet::new();
        for _ in 0..3 {
            let dropped_tx = dropped_tx.clone();
            let report = common::OnDrop(Some(move || dropped_tx.send(()).unwrap()));
            set.spawn(async move {
                let _report = report;
                std::future::pending::<()>().await
            });
        }
        assert_eq!(set.len(), 3);
        drop(set);
        for _ in 0..3 {
            asincrono::time::timeout(Duration::from_secs(10), dropped_rx.recv())
                .await
                .expect("each aborted task is dropped by its scheduler")
                .unwrap();
        }
    });
}

#[test]
fn abort_all_then_join_next_gives_cancellations_and_shutdown_empties_the_set() {
    on_each_flavour(|| async {
        let mut set = JoinSet::new();
        for _ in 0..3 {
            set.spawn(std::future::pending::<()>());
        }
        set.abort_all();
        let mut cancelled = 0;
        while let Some(output) = set.join_next().await {
            assert!(output.unwrap_err().is_cancelled());
            cancelled += 1;
        }
        assert_eq!(cancelled, 3);
        set.spawn(std::future::pending::<()>());
        set.shutdown().await;
        assert!(set.is_empty());
    });
}

#[test]
fn detached_tasks_run_on_and_try_join_next_does_not_wait() {
    on_each_flavour(|| async {
        let mut set = JoinSet::new();
        let (tx, rx) = oneshot::channel();
        set.spawn(async move { tx.send(7u8).unwrap() });
        set.detach_all();
        assert!(set.is_empty() && set.try_join_next().is_none());
        assert_eq!(rx.await.unwrap(), 7, "the detached task still ran");
        set.spawn(std::future::pending::<()>());
        assert!(set.try_join_next().is_none(), "nothing has finished");
    });
}

#[test]
fn join_all_collects_and_blocking_jobs_join_the_set_too() {
    on_each_flavour(|| async {
        let mut set = JoinSet::new();
        for i in 0..10u64 {
            set.spawn(async move { i });
            set.spawn_blocking(move || i * 100);
        }
        let mut outputs = set.join_all().await;
        outputs.sort_unstable();
        let expected: u64 = (0..10).map(|i| i + i * 100).sum();
        assert_eq!(outputs.iter().sum::<u64>(), expected);
        assert_eq!(outputs.len(), 20);
    });
}

#[test]
fn an_abort_handle_from_spawn_stops_its_task() {
    on_each_flavour(|| async {
        let mut set = JoinSet::new();
        let handle = set.spawn(std::future::pending::<()>());
        handle.abort();
        let output = set.join_next().await.unwrap();
        assert!(output.unwrap_err().is_cancelled());
        assert!(handle.is_finished());
    });
}
