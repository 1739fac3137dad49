//! [`AsincronoExecutor`]: hyper's background futures run as asincrono tasks.
//!
//! Some of hyper's work does not belong to any one future the caller awaits: an HTTP/2
//! connection's stream tasks and ping timer, or the connection a pooled client (hyper-util's
//! `legacy::Client`) keeps alive between requests. hyper hands each such future to an
//! `Executor` and forgets it. Here that is [`asincrono::spawn`]: the future becomes a task
//! of the current runtime, and its `JoinHandle` is dropped at once, which detaches the task
//! (as in tokio); it runs to its end or until the runtime shuts down.
//!
//! Where the models meet: hyper requires nothing of the executor beyond "run this future
//! eventually", so the task's wakes are the runtime's own; a wake from hyper's future goes
//! to that task's waker, which pushes the task onto the scheduler that owns it. The futures
//! hyper spawns are `Send`, so they may run on any worker of a multi-thread runtime.
//!
//! What hyper-util does instead: its `TokioExecutor` calls `tokio::spawn`, exactly this. The
//! corner cut, in both: the executor holds no handle, so `execute` must be called inside a
//! runtime (it panics otherwise, as `spawn` does). hyper only calls it while a connection
//! future is being polled, which is inside one.

use std::future::Future;

/// Spawns every future hyper hands it with [`asincrono::spawn`], detached.
///
/// ```
/// use asincrono_hyper::AsincronoExecutor;
/// use hyper::rt::Executor;
///
/// asincrono::block_on(async {
///     let (done, finished) = asincrono::sync::oneshot::channel();
///     AsincronoExecutor::new().execute(async move {
///         let _ = done.send("ran");
///     });
///     assert_eq!(finished.await.unwrap(), "ran");
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct AsincronoExecutor;

impl AsincronoExecutor {
    /// The executor (it has no state: the runtime is the current one at each `execute`).
    pub fn new() -> AsincronoExecutor {
        AsincronoExecutor
    }
}

// ANCHOR: executor
impl<F> hyper::rt::Executor<F> for AsincronoExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Dropping the `JoinHandle` detaches the task: hyper never asks for its output.
        drop(asincrono::spawn(future));
    }
}
// ANCHOR_END: executor

#[cfg(test)]
mod tests {
    use super::*;
    use asincrono::runtime::Builder;
    use hyper::rt::Executor;
    use std::sync::mpsc;

    /// Hands `count` futures to the executor on `runtime`; each reports the thread it ran on.
    fn run_many(runtime: asincrono::Runtime, count: usize) -> Vec<std::thread::ThreadId> {
        let (report, reports) = mpsc::channel();
        runtime.block_on(async move {
            let (all_done, finished) = asincrono::sync::mpsc::channel::<()>(1);
            for _ in 0..count {
                let report = report.clone();
                let all_done = all_done.clone();
                AsincronoExecutor::new().execute(async move {
                    asincrono::task::yield_now().await;
                    report.send(std::thread::current().id()).unwrap();
                    drop(all_done);
                });
            }
            drop(all_done);
            // The receiver ends once every spawned future has dropped its sender.
            let mut finished = finished;
            assert!(finished.recv().await.is_none());
        });
        reports.try_iter().collect()
    }

    #[test]
    fn every_future_runs_to_its_end_on_a_current_thread_runtime() {
        let runtime = Builder::new_current_thread().build().unwrap();
        let here = std::thread::current().id();
        let threads = run_many(runtime, 50);
        assert_eq!(threads.len(), 50);
        assert!(threads.iter().all(|thread| *thread == here), "one thread");
    }

    #[test]
    fn every_future_runs_to_its_end_on_a_multi_thread_runtime() {
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        assert_eq!(run_many(runtime, 50).len(), 50);
    }

    #[test]
    fn a_spawned_future_outlives_the_call_that_spawned_it() {
        // Detached: the future keeps running after `execute` returned and its caller ended.
        let runtime = Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (done, finished) = asincrono::sync::oneshot::channel();
            {
                let executor = AsincronoExecutor::new();
                executor.execute(async move {
                    asincrono::time::sleep(std::time::Duration::from_millis(5)).await;
                    let _ = done.send(());
                });
            }
            finished.await.expect("the detached task finished");
        });
    }
}
