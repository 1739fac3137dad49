//! The multi-thread scheduler's sleep protocol and `Parker` against a push from another
//! thread.

use super::support::{model, model_with_preemption_bound};
use crate::executor::multi_thread::{Idle, Parker};
use crate::primitives::Mutex;
use crate::util::lock;
use loom::sync::Arc;
use loom::thread;
use std::collections::VecDeque;

/// An `unpark` racing a `park`: the parked thread always wakes up, whether the wake-up
/// comes before it sleeps (then `park` returns at once) or after.
/// Would catch: `park_on_condvar` checking the state before taking its lock (the
/// notification then slips between the check and the wait: loom reports a deadlock).
#[test]
fn an_unpark_racing_a_park_is_never_lost() {
    model(|| {
        let parker = Arc::new(Parker::new());
        let unparker = {
            let parker = parker.clone();
            thread::spawn(move || parker.unpark(|| unreachable!("not parked in a driver")))
        };
        parker.park(None);
        unparker.join().unwrap();
    });
}

// ANCHOR: model_sleep_vs_push
/// One worker runs out of work and goes to sleep while another thread pushes a task and
/// notifies. Whatever the interleaving, the worker ends up with the task: either its last
/// look finds it, or the pusher sees it on the sleepers' list and unparks it. A lost
/// wake-up leaves the worker parked for ever, which loom reports as a deadlock.
/// Would catch: the worker taking its last look at the queue before announcing that it
/// sleeps. (Not the pusher's fence: here the queue is a mutex, which orders the two sides
/// by itself; the fence matters for the lock-free injector, which loom cannot see into.)
#[test]
fn a_worker_going_to_sleep_never_misses_a_push() {
    model(|| {
        let idle = Arc::new(Idle::new(1));
        let parker = Arc::new(Parker::new());
        let queue = Arc::new(Mutex::new(VecDeque::new()));

        let pusher = {
            let (idle, parker, queue) = (idle.clone(), parker.clone(), queue.clone());
            thread::spawn(move || {
                lock(&*queue).push_back("task");
                idle.notify_one(None, |_| parker.unpark(|| unreachable!("no driver")));
            })
        };

        // The worker, as `Worker::run` does it: take work, or sleep until there is some.
        let mut searching = false;
        let task = loop {
            if let Some(task) = lock(&*queue).pop_front() {
                break task;
            }
            let work_waiting = || !lock(&*queue).is_empty();
            idle.sleep(0, &mut searching, work_waiting, || parker.park(None));
        };
        if searching {
            idle.stop_searching();
        }
        pusher.join().unwrap();
        assert_eq!(task, "task");
    });
}
// ANCHOR_END: model_sleep_vs_push

/// The same with two pushers on two threads: the worker gets both tasks, however the two
/// pushes, the two notifications and its own sleeps interleave. (A pusher that finds the
/// worker already counted as searching wakes no one: the worker must find the second task
/// by its own last look.)
#[test]
fn a_worker_gets_every_task_pushed_while_it_sleeps() {
    // Three threads: unbounded, this one runs for longer than anyone would wait; a bound
    // of 4 explores about 40,000 interleavings in a few seconds.
    model_with_preemption_bound(4, || {
        let idle = Arc::new(Idle::new(1));
        let parker = Arc::new(Parker::new());
        let queue = Arc::new(Mutex::new(VecDeque::new()));

        let pushers = [1, 2].map(|task| {
            let (idle, parker, queue) = (idle.clone(), parker.clone(), queue.clone());
            thread::spawn(move || {
                lock(&*queue).push_back(task);
                idle.notify_one(None, |_| parker.unpark(|| unreachable!("no driver")));
            })
        });

        let mut searching = false;
        let mut got = Vec::new();
        while got.len() < 2 {
            if let Some(task) = lock(&*queue).pop_front() {
                if std::mem::take(&mut searching) {
                    idle.stop_searching();
                }
                got.push(task);
                continue;
            }
            let work_waiting = || !lock(&*queue).is_empty();
            idle.sleep(0, &mut searching, work_waiting, || parker.park(None));
        }
        for pusher in pushers {
            pusher.join().unwrap();
        }
        got.sort();
        assert_eq!(got, [1, 2]);
    });
}
