//! Loom models: the races that break runtimes, run through every interleaving.
//!
//! Built only with `RUSTFLAGS="--cfg loom"` and run by `scripts/loom.sh`. Each test calls
//! `loom::model`, which runs its closure again and again, each time choosing a different
//! order for the threads' atomic operations and lock acquisitions, until every order
//! (up to the preemption bound the script sets) has been seen. An assertion that fails in
//! one order, a deadlock (every thread blocked), or a loom `Arc` still alive at the end (a
//! leaked task) fails the test and prints the order that led there.
//!
//! The models drive the runtime's own code: the task (`task/raw.rs`, `task/state.rs`), the
//! owner list (`executor/owned.rs`), the multi-thread scheduler's sleep protocol and
//! `Parker` (`executor/multi_thread.rs`) and the timer queue (`driver/timer_queue.rs`). What
//! they cannot run is the reactor (epoll is outside loom's world) and thread-locals; the
//! stand-in for a scheduler's run queue is [`support::Queue`].
//!
//! Every future in a model holds a [`support::Tracked`] token: it counts how often the
//! future is dropped (exactly once, or the model fails) and, being a loom `Arc`, makes
//! loom report a task that is never freed.

mod blocking;
mod support;
mod sync;
mod tasks;
mod timers;
mod workers;
