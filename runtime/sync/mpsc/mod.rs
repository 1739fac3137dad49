//! Multi-producer, single-consumer channels: many tasks send, one task receives, in order.
//!
//! Two flavours, with tokio's names:
//!
//! | | create | `send` | when the receiver is slow |
//! |---|---|---|---|
//! | bounded | [`channel(capacity)`](channel) | `send(v).await`, or `try_send(v)` | senders wait for room |
//! | unbounded | [`unbounded_channel()`](unbounded_channel) | `send(v)` (never waits) | the queue grows |
//!
//! Prefer the bounded one: its back-pressure slows producers down to the consumer's pace
//! instead of letting the queue eat memory.
//!
//! Messages from one sender arrive in the order that sender sent them; messages from
//! different senders interleave in the order their sends completed. `recv` returns `None`
//! once every sender is gone and the queue is empty. Dropping the receiver makes every
//! later send fail (the error hands the value back) and drops the messages still queued.
//!
//! # How it is built
//!
//! Both flavours share one core (`chan.rs`): a `VecDeque` of messages, a count of live
//! senders, a `closed` flag and the receiver's waker, all behind one `std::sync::Mutex`.
//! The bounded flavour adds the free slots to that state: a semaphore's count and queue of
//! waiting senders, without the semaphore's own lock. A send is "take a slot and push", a
//! receive "pop and free the slot", each under the one lock. The fairness among waiting
//! senders, and the clean-up when a waiting send is dropped, are still the semaphore's,
//! written and tested once. tokio's channel has the same parts, with a lock-free linked
//! list of message blocks instead of a locked `VecDeque`, and a separate semaphore whose
//! fast path is one compare-and-swap.
//!
//! ```
//! use asincrono::sync::mpsc;
//!
//! asincrono::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(8);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         asincrono::spawn(async move { tx.send(id).await.unwrap() });
//!     }
//!     drop(tx); // otherwise `recv` would wait for it forever
//!     let mut got = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         got.push(id);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

/// What the two flavours' ends do the same way, by forwarding to the shared `Chan`: the
/// sender's `is_closed`, `closed`, `Clone` and `Drop`; the receiver's `recv`, `poll_recv`,
/// `try_recv`, `close` and `Drop`; and both `Debug`s. Written once, so that the flavours
/// cannot drift apart. Each flavour's file has what differs: how a sender sends.
macro_rules! channel_ends {
    ($sender:ident, $receiver:ident) => {
        impl<T> $sender<T> {
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

        impl<T> Clone for $sender<T> {
            fn clone(&self) -> $sender<T> {
                self.chan.add_sender();
                $sender {
                    chan: self.chan.clone(),
                }
            }
        }

        impl<T> Drop for $sender<T> {
            fn drop(&mut self) {
                self.chan.drop_sender();
            }
        }

        impl<T> $receiver<T> {
            /// Waits for the next message. Returns `None` once every sender is gone (or the
            /// receiver was closed) and the messages already sent have all been received.
            ///
            /// # Cancel safety
            /// Cancel-safe: a message is taken out of the channel only in the poll that
            /// returns it, so a dropped `recv` loses nothing.
            pub async fn recv(&mut self) -> Option<T> {
                std::future::poll_fn(|cx| self.poll_recv(cx)).await
            }

            /// The poll behind [`recv`](Self::recv), for hand-written futures: `Pending`
            /// means `cx`'s task will be woken when a message arrives or the last sender
            /// goes.
            pub fn poll_recv(
                &mut self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.chan.poll_recv(cx)
            }

            /// Takes the next message if one is queued; never waits.
            pub fn try_recv(&mut self) -> Result<T, super::error::TryRecvError> {
                self.chan.try_recv()
            }

            /// Closes the channel from the receiving end: sends fail from now on (in a
            /// bounded channel, those waiting for room too), while the messages already
            /// queued can still be received.
            pub fn close(&mut self) {
                self.chan.close();
            }
        }

        // ANCHOR: receiver_drop
        impl<T> Drop for $receiver<T> {
            /// Closes the channel, wakes every sender waiting for room with an error, and
            /// drops the messages still queued.
            fn drop(&mut self) {
                self.chan.close_and_discard();
            }
        }
        // ANCHOR_END: receiver_drop

        impl<T> std::fmt::Debug for $sender<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($sender)).finish_non_exhaustive()
            }
        }

        impl<T> std::fmt::Debug for $receiver<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($receiver))
                    .finish_non_exhaustive()
            }
        }
    };
}

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use bounded::{Receiver, Sender, channel};
pub use unbounded::{UnboundedReceiver, UnboundedSender, unbounded_channel};
