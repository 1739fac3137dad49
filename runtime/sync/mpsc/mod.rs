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
//! # Permits, and what `close` waits for
//!
//! A bounded sender can take a slot before it has a message: [`Sender::reserve`] waits
//! for room (in the same first-come queue as `send`) and returns a [`Permit`], whose
//! `send` cannot wait or fail. That is the back-pressure pattern for a message that is
//! expensive to build, and the cancel-safe way to send from a `select!`: a dropped
//! `reserve` holds no message to lose. `reserve_many` takes several slots at once,
//! `reserve_owned` gives an [`OwnedPermit`] that owns its sender, and the `try_` forms
//! never wait. A permit is a slot of the channel's own count, not of a second semaphore.
//!
//! Permits taken before the receiver calls [`Receiver::close`] may still send after it:
//! the receiver keeps receiving until the queue is empty **and** every slot is back, and
//! whoever returns the last slot wakes it. Only then does `recv` return `None` (and
//! `try_recv` `Disconnected`). That is tokio's rule.
//!
//! # How it is built
//!
//! Both flavours share one core (`chan.rs`): a `VecDeque` of messages and the receiver's
//! waker behind one `std::sync::Mutex`, and behind a second one the count of live senders,
//! the `closed` flag and, for the bounded flavour, the senders waiting for a slot (a
//! semaphore's queue, without the semaphore's own lock). A bounded channel keeps its free
//! slots in an atomic word while nobody waits (`free_slots.rs`), so a send that finds room
//! is one compare-and-swap and one short lock to push. The receiver takes the whole queue
//! at once into a batch of its own and hands it out without locking, freeing each
//! message's slot as it goes. The fairness among waiting senders, and the clean-up when a
//! waiting send is dropped, are still the semaphore's, written and tested once. tokio's
//! channel has the same parts, with a lock-free linked list of message blocks instead of a
//! locked `VecDeque`, and a separate semaphore whose fast path is one compare-and-swap.
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
/// sender's `is_closed`, `closed`, `same_channel`, counts, `downgrade`, `Clone` and `Drop`;
/// the weak sender, whole; the receiver's `recv`, `recv_many`, their polls and blocking
/// forms, `try_recv`, `close`, `len`, `is_empty`, `is_closed`, counts and `Drop`; and the
/// `Debug`s. Written once, so that the flavours cannot drift apart. Each flavour's file has
/// what differs: how a sender sends.
macro_rules! channel_ends {
    ($sender:ident, $receiver:ident, $weak:ident) => {
        #[doc = concat!(
            "A [`", stringify!($sender), "`] that does not keep the channel open: it cannot ",
            "send, but [`upgrade`](", stringify!($weak), "::upgrade) turns it back into a ",
            "sender while at least one sender is left. Made by `downgrade`."
        )]
        pub struct $weak<T> {
            /// The channel.
            chan: std::sync::Arc<super::chan::Chan<T>>,
        }

        impl<T> $sender<T> {
            /// Whether the receiver is gone or closed, so that every send fails.
            pub fn is_closed(&self) -> bool {
                self.chan.is_closed()
            }

            /// Whether `self` and `other` send into the same channel.
            pub fn same_channel(&self, other: &Self) -> bool {
                std::sync::Arc::ptr_eq(&self.chan, &other.chan)
            }

            /// A weak sender of this channel, which does not keep it open.
            pub fn downgrade(&self) -> $weak<T> {
                self.chan.add_weak_sender();
                $weak {
                    chan: self.chan.clone(),
                }
            }

            /// How many senders of this channel exist (permits that own one included).
            pub fn strong_count(&self) -> usize {
                self.chan.sender_counts().0
            }

            /// How many weak senders of this channel exist.
            pub fn weak_count(&self) -> usize {
                self.chan.sender_counts().1
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

        impl<T> $weak<T> {
            /// A sender again, if at least one sender of the channel is still alive.
            pub fn upgrade(&self) -> Option<$sender<T>> {
                self.chan.upgrade().then(|| $sender {
                    chan: self.chan.clone(),
                })
            }

            /// How many senders of this channel exist.
            pub fn strong_count(&self) -> usize {
                self.chan.sender_counts().0
            }

            /// How many weak senders of this channel exist.
            pub fn weak_count(&self) -> usize {
                self.chan.sender_counts().1
            }
        }

        impl<T> Clone for $weak<T> {
            fn clone(&self) -> $weak<T> {
                self.chan.add_weak_sender();
                $weak {
                    chan: self.chan.clone(),
                }
            }
        }

        impl<T> Drop for $weak<T> {
            fn drop(&mut self) {
                self.chan.drop_weak_sender();
            }
        }

        impl<T> std::fmt::Debug for $weak<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($weak)).finish_non_exhaustive()
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
                self.chan.poll_recv(cx, self.taken.get_mut())
            }

            /// Waits for messages, then moves up to `limit` of them to the end of `buffer`
            /// and returns how many it moved. Returns 0 at once if `limit` is 0, and once
            /// nothing more can arrive (as `recv` returns `None`); otherwise at least 1.
            ///
            /// # Cancel safety
            /// Cancel-safe, as `recv`: messages leave the channel only in the poll that
            /// moves them into `buffer`.
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                std::future::poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
            }

            /// The poll behind [`recv_many`](Self::recv_many).
            pub fn poll_recv_many(
                &mut self,
                cx: &mut std::task::Context<'_>,
                buffer: &mut Vec<T>,
                limit: usize,
            ) -> std::task::Poll<usize> {
                self.chan.poll_recv_many(cx, self.taken.get_mut(), buffer, limit)
            }

            /// [`recv`](Self::recv) for a plain thread: parks it until a message comes.
            ///
            /// # Panics
            /// Inside a runtime: parking a thread there would stall its tasks.
            #[track_caller]
            pub fn blocking_recv(&mut self) -> Option<T> {
                crate::sync::blocking::block_on(
                    concat!("mpsc::", stringify!($receiver), "::blocking_recv"),
                    self.recv(),
                )
            }

            /// [`recv_many`](Self::recv_many) for a plain thread.
            ///
            /// # Panics
            /// Inside a runtime.
            #[track_caller]
            pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                crate::sync::blocking::block_on(
                    concat!("mpsc::", stringify!($receiver), "::blocking_recv_many"),
                    self.recv_many(buffer, limit),
                )
            }

            /// Takes the next message if one is queued; never waits. `Disconnected` once
            /// nothing more can arrive; `Empty` while something still may (after `close`,
            /// that is while permits taken before it are out).
            pub fn try_recv(&mut self) -> Result<T, super::error::TryRecvError> {
                self.chan.try_recv(self.taken.get_mut())
            }

            /// How many messages are queued.
            pub fn len(&self) -> usize {
                self.chan.len(&self.taken)
            }

            /// Whether no message is queued.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether the channel is closed: every sender is gone, or
            /// [`close`](Self::close) was called. Messages may still be queued.
            pub fn is_closed(&self) -> bool {
                self.chan.is_closed_for_receiver()
            }

            /// How many senders of this channel exist.
            pub fn sender_strong_count(&self) -> usize {
                self.chan.sender_counts().0
            }

            /// How many weak senders of this channel exist.
            pub fn sender_weak_count(&self) -> usize {
                self.chan.sender_counts().1
            }

            /// Closes the channel from the receiving end: sends fail from now on (in a
            /// bounded channel, those waiting for room too), while the messages already
            /// queued, and those sent through permits reserved before the close, can still
            /// be received.
            pub fn close(&mut self) {
                self.chan.close();
            }
        }

        // ANCHOR: receiver_drop
        impl<T> Drop for $receiver<T> {
            /// Closes the channel, wakes every sender waiting for room with an error, and
            /// drops the messages still queued.
            fn drop(&mut self) {
                self.chan.close_and_discard(&mut self.taken);
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
mod free_slots;
mod permit;
mod unbounded;

pub use bounded::{Receiver, Sender, WeakSender, channel};
pub use permit::{OwnedPermit, Permit, PermitIterator};
pub use unbounded::{UnboundedReceiver, UnboundedSender, WeakUnboundedSender, unbounded_channel};
