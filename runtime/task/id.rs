//! A task's identity: a number unique for the life of the process.
//!
//! It sits at the bottom of the layers, beside `trace.rs`, because the trace names tasks by
//! it and needs nothing else of the task. tokio's `task::Id` is the same idea (a 64-bit
//! counter); tokio also offers `task::id()` for the running task, which asincrono does not.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's identity, unique for the life of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

impl Id {
    /// The next unused identity. `Relaxed` is enough: the counter orders nothing but itself.
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Id(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The number inside, for trace files.
    pub(crate) fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
