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

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use bounded::{Receiver, Sender, channel};
pub use unbounded::{UnboundedReceiver, UnboundedSender, unbounded_channel};
