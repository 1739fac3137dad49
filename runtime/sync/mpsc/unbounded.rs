//! The unbounded flavour: the bare [`Chan`]. A send never waits; the queue grows as needed.

use super::chan::Chan;
use super::error::{SendError, TryRecvError};
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

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
        UnboundedReceiver { chan },
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
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once (it never waits). Fails, handing the value back, if the
    /// receiver is gone or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value).map_err(SendError)
    }

    /// Whether the receiver is gone or closed, so that every send fails.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Waits until the receiver is gone or closed.
    ///
    /// # Cancel safety
    /// Cancel-safe: it consumes nothing.
    pub async fn closed(&self) {
        self.chan.closed().await
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> UnboundedReceiver<T> {
    /// Waits for the next message. Returns `None` once every sender is gone (or the
    /// receiver was closed) and the messages already sent have all been received.
    ///
    /// # Cancel safety
    /// Cancel-safe: a message is taken out of the channel only in the poll that returns it,
    /// so a dropped `recv` loses nothing.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](UnboundedReceiver::recv), for hand-written futures:
    /// `Pending` means `cx`'s task will be woken when a message arrives or the last sender
    /// goes.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Takes the next message if one is queued; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Closes the channel from the receiving end: sends fail from now on, while the
    /// messages already queued can still be received.
    pub fn close(&mut self) {
        self.chan.close();
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    /// Closes the channel and drops the messages still queued.
    fn drop(&mut self) {
        self.chan.close_and_discard();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver").finish_non_exhaustive()
    }
}
