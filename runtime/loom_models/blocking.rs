//! The blocking pool: a job finishing on its pool thread while the runtime shuts down.
//!
//! This model builds a real current-thread runtime. Its driver opens a real epoll instance
//! (loom cannot see it, and the model never waits in it); the pool's lock, condvars and
//! threads are loom's.

use super::support::{Tracked, model};
use crate::runtime::Builder;

/// `spawn_blocking`, then drop the runtime while the pool thread may be starting, running
/// or finishing the job. Whatever the order: the closure runs at most once, it is dropped
/// exactly once (run or cancelled), the runtime's drop returns (a pool thread left waiting
/// for ever would be a loom deadlock), and the `JoinHandle` resolves, to the output or to
/// a cancellation.
/// Would catch: shutdown not waking the idle pool threads (they wait on `job_ready` for
/// ever), or a queued job that shutdown neither runs nor cancels (its handle never
/// resolves).
#[test]
fn a_blocking_job_finishing_during_shutdown_is_never_lost() {
    model(|| {
        let tracked = Tracked::default();
        let runtime = Builder::new_current_thread().build().unwrap();
        let token = tracked.token();
        let job = runtime.spawn_blocking(move || {
            drop(token);
            7
        });
        drop(runtime); // races the pool thread

        match loom::future::block_on(job) {
            Ok(output) => assert_eq!(output, 7),
            Err(err) => assert!(err.is_cancelled(), "{err}"),
        }
        assert_eq!(tracked.drops(), 1, "the closure's capture is dropped once");
    });
}

/// Two blocking jobs, the first of which cannot finish until the second has run. The pool
/// starts one thread at a time, so whether the second job is pushed while the first thread
/// is still on its way, or after it has taken the first job, some thread must start for
/// it: the first thread's arrival, or the push itself.
/// Would catch: a push that counts on the thread on its way for every queued job, and a
/// newcomer that does not start the next thread before running its own job (the second
/// job would wait for ever behind the first: a loom deadlock).
#[test]
fn a_job_that_waits_for_a_later_job_does_not_keep_it_from_a_thread() {
    use loom::sync::{Arc, Condvar, Mutex};
    // Three threads (this one and two pool threads) and two locks: the full space does not
    // finish in minutes; two preemptions cover the orders named above.
    super::support::model_with_preemption_bound(2, || {
        let runtime = Builder::new_current_thread().build().unwrap();
        let second_ran = Arc::new((Mutex::new(false), Condvar::new()));
        let first = runtime.spawn_blocking({
            let second_ran = second_ran.clone();
            move || {
                let (ran, changed) = &*second_ran;
                let mut ran = ran.lock().unwrap();
                while !*ran {
                    ran = changed.wait(ran).unwrap();
                }
            }
        });
        let second = runtime.spawn_blocking(move || {
            let (ran, changed) = &*second_ran;
            *ran.lock().unwrap() = true;
            changed.notify_one();
        });
        loom::future::block_on(second).unwrap();
        loom::future::block_on(first).unwrap();
        drop(runtime);
    });
}
