//! `RuntimeContext`: what a thread the runtime starts needs of the runtime, handed down.
//!
//! A blocking-pool thread (and a multi-thread worker) must *enter* its runtime's context, so
//! that `spawn`, `sleep` and the socket constructors called from it find their runtime. The
//! context lives in the executor layer, above this one. Rather than import it, the pool
//! takes this trait, and the executor's `Handle` implements it: the pool is generic over
//! "something it can enter", and only that value travels up. The loom model of the pool
//! enters nothing (`()`-like stand-ins would do as well).
//!
//! tokio does not make this split: its blocking pool holds the runtime's handle directly.

use super::BlockingPool;
use crate::driver::DriverHandle;
use std::sync::Arc;

/// A runtime, as the layers below the executor see it.
pub(crate) trait RuntimeContext: Clone + Send + Sync + 'static {
    /// What `enter` returns: while it lives, this runtime is the thread's current one.
    type Entered;

    /// Makes this runtime the calling thread's current one until the result drops.
    fn enter(&self) -> Self::Entered;

    /// The runtime's blocking pool.
    fn blocking_pool(&self) -> &Arc<BlockingPool>;

    /// The runtime's I/O and timer driver (a blocking job holds its clock, see `pool.rs`).
    fn driver(&self) -> &Arc<DriverHandle>;
}
