//! Executors: what runs the tasks (layer 4 of the runtime, see `lib.rs`).
//!
//! A scheduler owns run queues and a [`Driver`](crate::driver::Driver); it pops tasks and
//! polls them, and when none is ready it parks in the driver. Tasks reach it only through
//! the [`Schedule`](crate::task::Schedule) trait ("schedule me"), so a new scheduler plugs in
//! without touching the task code.
//!
//! There are two:
//! - [`current_thread`] runs every task on the thread that calls `block_on`;
//! - [`multi_thread`] runs them on a pool of worker threads, one per core by default.
//!
//! Both share the owner list (`owned.rs`, how shutdown finds every task), `spawn_on`
//! (`spawn.rs`) and the rule that `block_on` does not nest (`block_on.rs`). Above them sits
//! `context.rs`: the runtime's `Handle` (one of the two schedulers, the blocking pool, the
//! trace recorder) and the thread-local that holds the current one. The imports go one
//! way: `context.rs` names the schedulers, the schedulers never name it.

pub(crate) mod block_on;
pub(crate) mod context;
pub(crate) mod current_thread;
pub(crate) mod multi_thread;
pub(crate) mod owned;
pub(crate) mod spawn;
mod spin_then_park;
mod tuning;

use crate::blocking::ThreadHooks;
use std::sync::Arc;

// ANCHOR: event_interval
/// Tasks a scheduler thread polls between two looks outside its own queue: at the driver
/// (both flavours) and at the injector (a multi-thread worker). tokio uses 61 too: a prime,
/// so that it does not fall into step with a periodic workload.
///
/// Defined here, beside the module list and nothing else, so that both schedulers can read
/// it without this file importing anything back from them.
pub(crate) const EVENT_INTERVAL: u32 = 61;
// ANCHOR_END: event_interval

/// What a scheduler is told when it is built: the `Builder`'s tuning and the user's thread
/// callbacks. (A plain struct of values, so that this file imports nothing from above.)
#[derive(Clone, Debug)]
pub(crate) struct SchedulerConfig {
    /// Tasks polled between two looks at the driver (`Builder::event_interval`; default
    /// [`EVENT_INTERVAL`]).
    pub(crate) event_interval: u32,
    /// Tasks a multi-thread worker polls between two looks at the injector, if the user
    /// fixed it (`Builder::global_queue_interval`); `None`: tuned to the tasks' length
    /// (`tuning.rs`). A current-thread runtime looks at its remote queue at every driver
    /// visit instead.
    pub(crate) global_queue_interval: Option<u32>,
    /// The user's `on_thread_*` callbacks.
    pub(crate) hooks: Arc<ThreadHooks>,
}

impl Default for SchedulerConfig {
    fn default() -> SchedulerConfig {
        SchedulerConfig {
            event_interval: EVENT_INTERVAL,
            global_queue_interval: None,
            hooks: Arc::default(),
        }
    }
}
