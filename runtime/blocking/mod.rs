//! The blocking layer (layer 3 of the runtime, see `lib.rs`): threads for work that would
//! stop a scheduler thread, and the helper that runs a blocking handle's I/O on them.
//!
//! - `pool.rs`: the pool itself, `spawn_blocking`'s scheduler, and `RuntimeContext`, what
//!   the pool needs of the runtime above it, as a trait, so that it knows no executor;
//! - `offload.rs`: `Offloaded<H>`, one blocking handle (a file, stdout) whose operations run
//!   on the pool one at a time through one buffer; `fs::File` and `io::Stdout` sit on it;
//! - `hooks.rs`: the user's thread callbacks, which the pool and the schedulers call.

mod hooks;
pub(crate) mod offload;
mod pool;

pub(crate) use hooks::{Hook, ThreadHooks};
pub use pool::DEFAULT_SHUTDOWN_WAIT;
pub(crate) use pool::{Adopted, BlockingPool, KEEP_ALIVE, Mandatory, RuntimeContext};
