//! The bounded flavour: a [`Chan`] behind a semaphore that counts the free slots.
//!
//! A sender takes a permit before it pushes, and the receiver gives one back for every
//! message it takes out; so at most `capacity` messages are ever queued, and a sender that
//! finds no permit waits in the semaphore's queue, which is first come, first served, and
//! cleans up after a sender that gives up. Closing the receiver closes the semaphore, which
//! wakes every waiting sender with an error. tokio builds its bounded channel the same way.

use super::chan::Chan;
use super::error::{SendError, TryRecvError, TrySendError};
use crate::sync::semaphore::{Acquire, Semaphore, TryAcquireError};
use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// What the senders and the receiver of a bounded channel share.
struct Bounded<T> {
    /// The messages.
    chan: Chan<T>,
    /// The free slots, one permit each. A message holds its slot from the moment its
    /// sender takes the permit until the receiver takes the message out.
    room: Semaphore,
}

impl<T> Bounded<T> {
    /// The receiver took a message out: its slot is free again.
    fn slot_freed(&self) {
        self.room.release(1);
    }
}

/// Creates a bounded channel holding at most `capacity` messages: senders wait for room
/// when it is full (back-pressure).
///
/// ```
/// use asincrono::sync::mpsc;
///
/// asincrono::block_on(async {
///     let (tx, mut rx) = mpsc::channel(16);
///     let producer = asincrono::spawn(async move {
///         for i in 0..100 {
///             tx.send(i).await.unwrap(); // waits whenever 16 are queued
///         }
///     });
///     let mut total = 0;
///     while let Some(i) = rx.recv().await {
///         total += i;
///     }
///     assert_eq!(total, 4950);
///     producer.await.unwrap();
/// });
/// ```
///
/// # Panics
/// If `capacity` is zero (there is no rendezvous channel here, as in tokio), or larger
/// than [`Semaphore::MAX_PERMITS`].
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel: the capacity must be at least 1 (use a oneshot or an unbounded channel)"
    );
    assert!(
        capacity <= Semaphore::MAX_PERMITS,
        "mpsc::channel: the capacity must be at most Semaphore::MAX_PERMITS"
    );
    let shared = Arc::new(Bounded {
        chan: Chan::new(),
        room: Semaphore::new(capacity),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// The sending half of a bounded channel. Clone it for more producers.
pub struct Sender<T> {
    /// The channel.
    shared: Arc<Bounded<T>>,
}

/// The receiving half of a bounded channel.
pub struct Receiver<T> {
    /// The channel.
    shared: Arc<Bounded<T>>,
}

impl<T> Sender<T> {
    // ANCHOR: bounded_send
    /// Sends `value`, first waiting for a free slot if the channel is full. Senders that
    /// wait get their slots in the order they started waiting.
    ///
    /// Fails, handing the value back, if the receiver is gone or closed (also while this
    /// waits for room).
    ///
    /// # Cancel safety
    /// Not cancel-safe for the value: if the future is dropped before it completes, the
    /// value (which it owns) is dropped unsent. Nothing else is lost: no slot stays taken,
    /// and the other waiting senders keep their order. The value is never half sent: once
    /// the slot is granted, the push happens in the same poll.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if Acquire::new(&self.shared.room, 1).await.is_err() {
            return Err(SendError(value)); // the room closes when the receiver closes
        }
        self.push_into_taken_slot(value).map_err(SendError)
    }
    // ANCHOR_END: bounded_send

    /// Sends `value` if there is room right now (and nobody waiting for room before us);
    /// never waits.
    ///
    /// ```
    /// use asincrono::sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, _rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.shared.room.try_take(1) {
            Ok(()) => self
                .push_into_taken_slot(value)
                .map_err(TrySendError::Closed),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Pushes into the slot whose permit we hold; if the receiver closed meanwhile, gives
    /// the slot back and returns the value.
    fn push_into_taken_slot(&self, value: T) -> Result<(), T> {
        self.shared.chan.push(value).inspect_err(|_| {
            self.shared.slot_freed();
        })
    }

    /// Whether the receiver is gone or closed, so that every send fails.
    pub fn is_closed(&self) -> bool {
        self.shared.chan.is_closed()
    }

    /// Waits until the receiver is gone or closed.
    ///
    /// # Cancel safety
    /// Cancel-safe: it consumes nothing.
    pub async fn closed(&self) {
        self.shared.chan.closed().await
    }

    /// How many messages could be sent right now without waiting.
    pub fn capacity(&self) -> usize {
        self.shared.room.available_permits()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.chan.add_sender();
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.chan.drop_sender();
    }
}

impl<T> Receiver<T> {
    /// Waits for the next message. Returns `None` once every sender is gone (or the
    /// receiver was closed) and the messages already sent have all been received.
    ///
    /// # Cancel safety
    /// Cancel-safe: a message is taken out of the channel only in the poll that returns it,
    /// so a dropped `recv` loses nothing.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    // ANCHOR: bounded_poll_recv
    /// The poll behind [`recv`](Receiver::recv), for hand-written futures: `Pending` means
    /// `cx`'s task will be woken when a message arrives or the last sender goes.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let message = ready!(self.shared.chan.poll_recv(cx));
        if message.is_some() {
            self.shared.slot_freed();
        }
        Poll::Ready(message)
    }
    // ANCHOR_END: bounded_poll_recv

    /// Takes the next message if one is queued; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let message = self.shared.chan.try_recv()?;
        self.shared.slot_freed();
        Ok(message)
    }

    /// Closes the channel from the receiving end: sends fail from now on (waiting ones
    /// too), while the messages already queued can still be received.
    pub fn close(&mut self) {
        self.shared.chan.close();
        self.shared.room.close();
    }
}

// ANCHOR: bounded_receiver_drop
impl<T> Drop for Receiver<T> {
    /// Closes the channel, wakes every waiting sender with an error, and drops the
    /// messages still queued.
    fn drop(&mut self) {
        self.shared.chan.close_and_discard();
        self.shared.room.close();
    }
}
// ANCHOR_END: bounded_receiver_drop

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};

    #[test]
    fn sends_wake_a_waiting_receiver_once() {
        let (tx, mut rx) = channel(8);
        let (receiver, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        for i in 0..3 {
            tx.try_send(i).unwrap();
        }
        assert_eq!(receiver.wakes(), 1);
        for i in 0..3 {
            assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(i)));
        }
    }

    #[test]
    fn a_freed_slot_wakes_exactly_one_waiting_sender() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let (first, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let mut first_send = Box::pin(tx.send(1));
        let mut second_send = Box::pin(tx.send(2));
        assert!(poll_once(first_send.as_mut(), &first_waker).is_pending());
        assert!(poll_once(second_send.as_mut(), &second_waker).is_pending());

        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!((first.wakes(), second.wakes()), (1, 0));
        assert!(poll_once(first_send.as_mut(), &first_waker).is_ready());
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(second.wakes(), 1);
    }

    #[test]
    fn a_dropped_waiting_send_does_not_strand_the_one_behind_it() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let (_, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let mut first_send = Box::pin(tx.send(1));
        let mut second_send = Box::pin(tx.send(2));
        assert!(poll_once(first_send.as_mut(), &first_waker).is_pending());
        assert!(poll_once(second_send.as_mut(), &second_waker).is_pending());

        drop(first_send);
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(second.wakes(), 1);
        assert!(poll_once(second_send.as_mut(), &second_waker).is_ready());
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.capacity(), 1, "no slot was lost");
    }

    #[test]
    fn dropping_the_receiver_wakes_a_waiting_sender_which_gets_its_value_back() {
        let (tx, rx) = channel(1);
        tx.try_send(0).unwrap();
        let (sender, waker) = CountingWaker::new();
        let mut send = Box::pin(tx.send(1));
        assert!(poll_once(send.as_mut(), &waker).is_pending());
        drop(rx);
        assert_eq!(sender.wakes(), 1);
        assert!(matches!(
            poll_once(send.as_mut(), &waker),
            Poll::Ready(Err(SendError(1)))
        ));
    }

    #[test]
    fn the_last_sender_leaving_wakes_the_receiver_which_then_gets_none() {
        let (tx, mut rx) = channel::<u8>(1);
        let second_tx = tx.clone();
        let (receiver, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        drop(tx);
        assert_eq!(receiver.wakes(), 0, "one sender is left");
        drop(second_tx);
        assert_eq!(receiver.wakes(), 1);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn try_send_reports_full_then_closed() {
        let (tx, mut rx) = channel(1);
        tx.try_send(1).unwrap();
        assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
        rx.close();
        assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
        assert_eq!(rx.try_recv(), Ok(1), "queued messages survive close");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    #[should_panic(expected = "capacity must be at least 1")]
    fn a_zero_capacity_panics() {
        let _ = channel::<u8>(0);
    }
}
