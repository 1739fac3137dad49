//! The unbounded flavour: the bare [`Chan`]. A send never waits; the queue grows as needed.

use super::chan::{Chan, Taken};
use super::error::SendError;
use std::sync::Arc;

/// Creates a channel with no limit on how many messages it holds. Sending never waits,
/// so it works from plain threads and `Drop` impls too; the price is that a producer
/// faster than its consumer fills memory instead of slowing down.
///
/// ```
/// use asincrono::sync::mpsc;
///
/// asincrono::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     std::thread::spawn(move || tx.send("from a plain thread").unwrap());
///     assert_eq!(rx.recv().await, Some("from a plain thread"));
///     assert_eq!(rx.recv().await, None); // the thread's sender is gone
/// });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver {
            chan,
            taken: Taken::new(),
        },
    )
}

/// The sending half of an unbounded channel. Clone it for more producers.
pub struct UnboundedSender<T> {
    /// The channel.
    chan: Arc<Chan<T>>,
}

/// The receiving half of an unbounded channel.
pub struct UnboundedReceiver<T> {
    /// The channel.
    chan: Arc<Chan<T>>,
    /// Messages taken out of the channel's queue in one go and not handed out yet (see
    /// `chan.rs`): only the receiver touches them, so they need no lock.
    taken: Taken<T>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once (it never waits). Fails, handing the value back, if the
    /// receiver is gone or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value).map_err(SendError)
    }
}

channel_ends!(UnboundedSender, UnboundedReceiver, WeakUnboundedSender);
