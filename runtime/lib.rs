//! # asincrono
//!
//! A small, hand-written async runtime: a waker-based task queue on a mio reactor, written to
//! be read. The contract is tokio's API (same names, same behaviour), so a tokio user feels
//! at home and one benchmark source compiles against both.
//!
//! ## The layers
//!
//! The runtime is built in floors. A file imports only from its own layer or the ones below
//! it, and no files import each other in a circle; `tests/layers.rs` reads this table and
//! the `use` lines of every file, and fails on an import that goes up or round. What the
//! lower layers need from above travels up only as values: an `Arc<dyn Schedule>` in each
//! task, a `Waker`, a `RuntimeContext` handed to the blocking pool and the workers.
//!
//! | layer | what it holds | files |
//! |---|---|---|
//! | 0 · leaves | small helpers, the std-or-loom facade, the trace recorder, the task id | `util.rs` `primitives.rs` `trace.rs` `task/id.rs` |
//! | 1 · task core | a task's allocation, state word, `JoinHandle`, budget, deferred wakes, and `Schedule`, its one way up | `task/{raw,state,join,coop,coop_api,defer,schedule,yield_now,local_future}.rs` |
//! | 2 · driver | `epoll_wait`, the reactor, the timer queue (handed the time), the clock | `driver/` |
//! | 3 · blocking | the blocking pool, the offloaded handle of files and stdio, and `RuntimeContext`, what they need from above | `blocking/` |
//! | 4 · executor | both schedulers, the owner list, the `Handle` and the thread-local context | `executor/` |
//! | 5 · public API | `spawn`, `time`, `net`, `io`, `fs`, `sync`, `signal`, `process`, `join!`/`select!`, `Runtime` | `lib.rs` `runtime.rs` `runtime/` `task/mod.rs` `task/block_in_place.rs` `task/join_set.rs` `task/local_set.rs` `time/` `net/` `io/` `fs/` `sync/` `signal/` `process/` `combinators/` |
//!
//! Data flows one way, and the imports follow it: user code → task/`JoinHandle` →
//! scheduler → driver (reactor, timers) → wakers → back to the scheduler.
//!
//! ## Where each idea lives
//!
//! | idea | module |
//! |---|---|
//! | a task: future + state word + output slot, one allocation | [`task`] (`task/raw.rs`, `task/state.rs`) |
//! | `JoinHandle`, `JoinError`, `spawn`, `yield_now` | [`task`] |
//! | the run loop, local and remote queues, parking (one thread) | `executor/current_thread.rs` |
//! | worker threads, work stealing, the sleepers' list | `executor/multi_thread.rs` |
//! | `spawn_blocking`: threads for work that would block | `blocking/pool.rs` |
//! | sleeping in `epoll_wait` until I/O, a timer or a wake-up | `driver/mod.rs` |
//! | readiness → wakers, edge-triggered retry loop | `driver/reactor.rs`, `net/registered.rs` |
//! | `sleep`, `timeout`, `interval`; the timer queue | [`time`]; `driver/timer_queue.rs` |
//! | TCP, UDP, Unix sockets | [`net`] |
//! | Ctrl-C and Unix signals: a handler, a self-pipe on the reactor, a count per signal | [`signal`] |
//! | child processes: pipes on the reactor, the exit through a pidfd or the blocking pool | [`process`] |
//! | files on the blocking pool: `fs::read`, `File` (one buffer, one job in flight) | [`fs`] (`blocking/offload.rs`) |
//! | `stdin` (one process-wide reader thread), `stdout`, `stderr` | [`io`] (`io/stdin.rs`, `io/stdio.rs`) |
//! | `AsyncRead`/`AsyncWrite` and friends | [`io`] |
//! | channels, `Mutex`, `Notify`, `Semaphore`: a locked state plus a queue of wakers | [`sync`] |
//! | `join!`, `try_join!`, `select!`: one future that polls several; cancelling by dropping | [`combinators`] |
//! | `Runtime`, `Builder`, `block_on` | [`runtime`] |
//! | "which runtime am I in?": the `Handle` and the thread-local context | `executor/context.rs` |
//! | recording spawns, polls, wakes and parks as a timeline (`ASINCRONO_TRACE`) | [`trace`] |
//!
//! ```
//! use std::time::Duration;
//!
//! asincrono::block_on(async {
//!     let slow = asincrono::spawn(async {
//!         asincrono::time::sleep(Duration::from_millis(20)).await;
//!         "slow"
//!     });
//!     let fast = asincrono::spawn(async { "fast" });
//!     assert_eq!(fast.await.unwrap(), "fast");
//!     assert_eq!(slow.await.unwrap(), "slow");
//! });
//! ```

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks)]

// The macros expand to `::asincrono::…`; this lets that path resolve inside this crate too.
extern crate self as asincrono;

mod blocking;
pub mod combinators;
mod driver;
mod executor;
pub mod fs;
pub mod io;
pub mod net;
mod primitives;
// The loom models of the races in the task and scheduler code: see `scripts/loom.sh`.
#[cfg(all(loom, test))]
mod loom_models;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;
pub mod trace;
mod util;

pub use runtime::{Runtime, block_on};
pub use task::spawn;

/// Marks `async fn main` as the program's entry point: builds a runtime and blocks on the
/// body. Arguments: `flavor = "current_thread" | "multi_thread"`, `worker_threads = N`.
///
/// ```
/// #[asincrono::main(flavor = "current_thread")]
/// async fn main() {
///     asincrono::task::yield_now().await;
/// }
/// ```
pub use asincrono_macros::main;

/// Marks `async fn` as a test that runs on a fresh runtime (current-thread by default).
/// Arguments: `flavor = "current_thread" | "multi_thread"`, `worker_threads = N`,
/// `start_paused = true` (the clock starts paused; see [`time::pause`]).
///
/// ```
/// use std::time::Duration;
///
/// // In a test file, `cargo test` runs it; this example only shows that it compiles.
/// #[asincrono::test(start_paused = true)]
/// async fn a_long_timeout_fires_at_once() {
///     let never = std::future::pending::<()>();
///     let result = asincrono::time::timeout(Duration::from_secs(3600), never).await;
///     assert!(result.is_err(), "an hour passed on the paused clock");
/// }
/// ```
pub use asincrono_macros::test;
