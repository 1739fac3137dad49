//! `ThreadHooks`: the user's callbacks for the threads a runtime starts and parks
//! (`Builder::on_thread_start`, `on_thread_stop`, `on_thread_park`, `on_thread_unpark`).
//!
//! The blocking pool and both schedulers are handed one shared set when the runtime is
//! built, so none of them needs to know the `Builder`. A thread the runtime starts (a worker,
//! a blocking-pool thread) calls `on_start` first and `on_stop` last, through the guard of
//! [`ThreadHooks::run_thread`], so `on_stop` runs even when the thread unwinds. A scheduler
//! thread calls `before_park` just before it may block with nothing to do, and `after_unpark`
//! when it wakes. tokio calls the same four at the same points; it also calls the park
//! hooks around a zero-timeout look at the driver, which asincrono does not count as a park.

use std::fmt;
use std::sync::Arc;

/// One user callback.
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync>;

/// The four callbacks, each optional.
#[derive(Clone, Default)]
pub(crate) struct ThreadHooks {
    /// Runs first on every thread the runtime starts.
    pub(crate) on_start: Option<Hook>,
    /// Runs last on every thread the runtime starts.
    pub(crate) on_stop: Option<Hook>,
    /// Runs before a scheduler thread blocks for want of work.
    pub(crate) before_park: Option<Hook>,
    /// Runs after a scheduler thread that blocked wakes up.
    pub(crate) after_unpark: Option<Hook>,
}

impl ThreadHooks {
    /// Calls `on_start` now, and `on_stop` when the returned guard drops.
    pub(crate) fn run_thread(&self) -> ThreadStopGuard<'_> {
        call(&self.on_start);
        ThreadStopGuard(self)
    }

    /// Calls `before_park`, if set.
    pub(crate) fn before_park(&self) {
        call(&self.before_park);
    }

    /// Calls `after_unpark`, if set.
    pub(crate) fn after_unpark(&self) {
        call(&self.after_unpark);
    }
}

fn call(hook: &Option<Hook>) {
    if let Some(hook) = hook {
        hook();
    }
}

/// Calls `on_stop` when dropped.
pub(crate) struct ThreadStopGuard<'a>(&'a ThreadHooks);

impl Drop for ThreadStopGuard<'_> {
    fn drop(&mut self) {
        call(&self.0.on_stop);
    }
}

impl fmt::Debug for ThreadHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadHooks")
            .field("on_start", &self.on_start.is_some())
            .field("on_stop", &self.on_stop.is_some())
            .field("before_park", &self.before_park.is_some())
            .field("after_unpark", &self.after_unpark.is_some())
            .finish()
    }
}
