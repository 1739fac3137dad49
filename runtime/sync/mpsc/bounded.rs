//! The bounded flavour: a [`Chan`] whose state also counts the free slots.
//!
//! A sender takes a slot before it pushes, and the receiver frees one for every message it
//! takes out; so at most `capacity` messages are ever queued, and a sender that finds no
//! slot waits in the channel's queue of senders, which is first come, first served, and
//! cleans up after a sender that gives up: a semaphore's rules, whose state (`Permits` in
//! `semaphore.rs`) lives inside the channel's state, while the free slots themselves sit in
//! an atomic word as long as nobody waits (see `chan.rs` and `free_slots.rs`). Closing the
//! receiver closes the slots too, which wakes every waiting sender with an error. tokio's
//! bounded channel is the same idea, with a separate, lock-free semaphore.

use super::chan::{Chan, Taken};
use super::error::{SendError, SendTimeoutError, TrySendError};
use crate::sync::Semaphore;
use std::sync::Arc;
use std::time::Duration;

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
    let chan = Arc::new(Chan::new(Some(capacity)));
    (
        Sender { chan: chan.clone() },
        Receiver {
            chan,
            taken: Taken::new(),
        },
    )
}

/// The sending half of a bounded channel. Clone it for more producers.
pub struct Sender<T> {
    /// The channel.
    pub(super) chan: Arc<Chan<T>>,
}

/// The receiving half of a bounded channel.
pub struct Receiver<T> {
    /// The channel.
    chan: Arc<Chan<T>>,
    /// Messages taken out of the channel's queue in one go and not handed out yet (see
    /// `chan.rs`): only the receiver touches them, so they need no lock.
    taken: Taken<T>,
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
    /// and the other waiting senders keep their order. The value is never half sent: the
    /// slot is taken and the value pushed in the same poll.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send(value).await
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
        self.chan.try_send(value)
    }

    /// How many messages could be sent right now without waiting: the slots neither
    /// holding a message nor reserved by a permit.
    pub fn capacity(&self) -> usize {
        self.chan.free_slots()
    }

    /// The channel's number of slots, as given to [`channel`]; it never changes.
    pub fn max_capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// [`send`](Sender::send), giving up after `timeout`. The value comes back in the
    /// error either way: it is only moved into the channel once a slot is ours.
    ///
    /// # Cancel safety
    /// As for [`send`](Sender::send): a dropped future drops the value unsent.
    ///
    /// # Panics
    /// When polled outside a runtime while it has to wait (the timer needs one).
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        match crate::time::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Ok(Err(SendError(()))) => Err(SendTimeoutError::Closed(value)),
            Err(_elapsed) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// [`send`](Sender::send) for a plain thread: parks it until there is room. The way
    /// synchronous code feeds a task.
    ///
    /// ```
    /// use asincrono::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         tx.blocking_send(i).unwrap(); // parks while the slot is taken
    ///     }
    /// });
    /// let total = asincrono::block_on(async move {
    ///     let mut total = 0;
    ///     while let Some(i) = rx.recv().await {
    ///         total += i;
    ///     }
    ///     total
    /// });
    /// producer.join().unwrap();
    /// assert_eq!(total, 3);
    /// ```
    ///
    /// # Panics
    /// Inside a runtime: parking a thread there would stall its tasks.
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::sync::blocking::block_on("mpsc::Sender::blocking_send", self.send(value))
    }
}

impl<T> Receiver<T> {
    /// How many more messages the channel could hold right now: its slots neither holding
    /// a message nor reserved by a permit.
    pub fn capacity(&self) -> usize {
        self.chan.free_slots()
    }

    /// The channel's number of slots, as given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.chan.capacity()
    }
}

channel_ends!(Sender, Receiver, WeakSender);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::mpsc::error::TryRecvError;
    use crate::sync::test_support::{CountingWaker, poll_once};
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    /// The future of one `send`, boxed so that it can be polled by hand.
    type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError<i32>>> + 'a>>;

    /// Fills `tx`'s channel (of one slot) and starts two sends, of 1 and then 2, that wait
    /// for the slot in that order. Each comes with its wake counter and the waker it was
    /// polled with.
    fn two_waiting_sends(tx: &Sender<i32>) -> [(SendFuture<'_>, Arc<CountingWaker>, Waker); 2] {
        tx.try_send(0).unwrap();
        [1, 2].map(|value| {
            let (counter, waker) = CountingWaker::new();
            let mut send: SendFuture<'_> = Box::pin(tx.send(value));
            assert!(poll_once(send.as_mut(), &waker).is_pending());
            (send, counter, waker)
        })
    }

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
        // The second send stays alive, waiting, to the end.
        let [
            (mut first_send, first, first_waker),
            (_second_send, second, _),
        ] = two_waiting_sends(&tx);

        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!((first.wakes(), second.wakes()), (1, 0));
        assert!(poll_once(first_send.as_mut(), &first_waker).is_ready());
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(second.wakes(), 1);
    }

    #[test]
    fn a_dropped_waiting_send_does_not_strand_the_one_behind_it() {
        let (tx, mut rx) = channel(1);
        let [(first_send, _, _), (mut second_send, second, second_waker)] = two_waiting_sends(&tx);

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
    fn a_granted_send_dropped_before_it_polls_again_passes_its_slot_on() {
        let (tx, mut rx) = channel(1);
        let [
            (first_send, first, _),
            (mut second_send, second, second_waker),
        ] = two_waiting_sends(&tx);

        assert_eq!(rx.try_recv(), Ok(0)); // the freed slot is granted to the first send
        assert_eq!((first.wakes(), second.wakes()), (1, 0));
        assert!(
            matches!(tx.try_send(9), Err(TrySendError::Full(9))),
            "granted, not free"
        );
        drop(first_send); // woken, but never polled again
        assert_eq!(second.wakes(), 1, "the slot went on to the next sender");
        assert!(poll_once(second_send.as_mut(), &second_waker).is_ready());
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Empty),
            "the dropped value was not sent"
        );
        assert_eq!(tx.capacity(), 1, "no slot was lost");
    }

    #[test]
    fn waiting_senders_push_in_the_order_they_started_waiting() {
        let (tx, mut rx) = channel(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let wakers: Vec<_> = (0..3).map(|_| CountingWaker::new()).collect();
        let mut sends: Vec<_> = (2..5).map(|value| Some(Box::pin(tx.send(value)))).collect();
        for (send, (_, waker)) in sends.iter_mut().zip(&wakers) {
            assert!(poll_once(send.as_mut().unwrap().as_mut(), waker).is_pending());
        }
        let mut received = Vec::new();
        for _ in 0..5 {
            received.push(rx.try_recv().unwrap());
            // Poll every unfinished send, newest first: only one granted a slot completes.
            for (slot, (_, waker)) in sends.iter_mut().zip(&wakers).rev() {
                if let Some(send) = slot {
                    if poll_once(send.as_mut(), waker).is_ready() {
                        *slot = None;
                    }
                }
            }
        }
        assert_eq!(received, [0, 1, 2, 3, 4]);
        assert_eq!(tx.capacity(), 2);
    }

    #[test]
    fn every_received_message_frees_its_slot_whatever_the_receiver_does_with_it() {
        let (tx, mut rx) = channel(3);
        let (_, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        for round in 0..10 {
            for i in 0..3 {
                tx.try_send(Box::new(round * 3 + i)).unwrap();
            }
            assert_eq!(tx.capacity(), 0);
            drop(rx.try_recv().unwrap()); // taken by try_recv, dropped at once
            assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(Some(_)))); // by poll_recv
            let _ = rx.try_recv().unwrap();
            assert_eq!(tx.capacity(), 3, "round {round}: every slot is free again");
        }
    }

    #[test]
    fn closing_the_receiver_after_a_slot_was_granted_hands_the_value_back() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let (sender, waker) = CountingWaker::new();
        let mut send = Box::pin(tx.send(1));
        assert!(poll_once(send.as_mut(), &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // grants the slot to `send`...
        rx.close(); // ...which has not collected it yet
        assert_eq!(sender.wakes(), 1);
        assert!(matches!(
            poll_once(send.as_mut(), &waker),
            Poll::Ready(Err(SendError(1)))
        ));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        assert_eq!(tx.capacity(), 1, "the granted slot came back");
    }

    #[test]
    fn close_wakes_every_waiting_sender_with_its_value() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let wakers: Vec<_> = (0..2).map(|_| CountingWaker::new()).collect();
        let mut sends: Vec<_> = (1..3).map(|value| Box::pin(tx.send(value))).collect();
        for (send, (_, waker)) in sends.iter_mut().zip(&wakers) {
            assert!(poll_once(send.as_mut(), waker).is_pending());
        }
        rx.close();
        for (value, (send, (counter, waker))) in (1..3).zip(sends.iter_mut().zip(&wakers)) {
            assert_eq!(counter.wakes(), 1);
            match poll_once(send.as_mut(), waker) {
                Poll::Ready(Err(SendError(back))) => assert_eq!(back, value),
                _ => panic!("a send waiting at close fails with its value"),
            }
        }
        assert_eq!(
            rx.try_recv(),
            Ok(0),
            "what was queued before the close stays"
        );
    }

    #[test]
    #[should_panic(expected = "after completion")]
    fn a_send_polled_after_it_completed_panics() {
        let (tx, _rx) = channel(1);
        let (_, waker) = CountingWaker::new();
        let mut send = Box::pin(tx.send(1));
        assert!(poll_once(send.as_mut(), &waker).is_ready());
        let _ = poll_once(send.as_mut(), &waker);
    }

    #[test]
    #[should_panic(expected = "capacity must be at least 1")]
    fn a_zero_capacity_panics() {
        let _ = channel::<u8>(0);
    }

    #[test]
    fn a_permit_holds_its_slot_until_it_sends_or_drops() {
        let (tx, mut rx) = channel(2);
        let permit = tx.try_reserve().unwrap();
        let mut permits = tx.try_reserve_many(1).unwrap();
        assert_eq!((tx.capacity(), tx.max_capacity()), (0, 2));
        assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
        let (sender, waker) = CountingWaker::new();
        let mut send = Box::pin(tx.send(3));
        assert!(poll_once(send.as_mut(), &waker).is_pending());
        permit.send(1);
        assert_eq!(sender.wakes(), 0, "a sent permit's slot holds the message");
        drop(permits.next()); // an unused permit gives its slot back...
        assert_eq!(sender.wakes(), 1, "...to the sender waiting for one");
        assert!(poll_once(send.as_mut(), &waker).is_ready());
        assert!(permits.next().is_none());
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(tx.capacity(), 2, "no slot was lost");
    }

    #[test]
    fn a_closed_receiver_waits_for_the_permits_taken_before_the_close() {
        let (tx, mut rx) = channel(4);
        let first = tx.try_reserve().unwrap();
        let second = tx.clone().try_reserve_owned().unwrap();
        rx.close();
        assert!(
            tx.try_reserve().is_err(),
            "no new reservation after the close"
        );
        let (receiver, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Empty),
            "permits are still out"
        );
        assert!(rx.poll_recv(&mut cx).is_pending());
        first.send(1);
        assert_eq!(receiver.wakes(), 1);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
        assert!(rx.poll_recv(&mut cx).is_pending());
        let sender = second.release(); // the last slot comes back: the end
        assert_eq!(receiver.wakes(), 2);
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
        drop(sender);
    }

    #[test]
    fn reservations_beyond_the_capacity_fail_at_once() {
        let (tx, _rx) = channel::<()>(2);
        assert!(matches!(
            tx.try_reserve_many(3),
            Err(TrySendError::Full(()))
        ));
        let (_, waker) = CountingWaker::new();
        let mut reserve = Box::pin(tx.reserve_many(3));
        assert!(matches!(
            poll_once(reserve.as_mut(), &waker),
            Poll::Ready(Err(SendError(())))
        ));
        assert_eq!(tx.try_reserve_many(0).unwrap().len(), 0);
    }

    #[test]
    fn a_dropped_receiver_drops_its_waker_and_what_permits_send_later() {
        let (tx, mut rx) = channel(2);
        let (counter, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        let permit = tx.try_reserve().unwrap();
        assert_eq!(
            Arc::strong_count(&counter),
            3,
            "the test, `waker`, the channel"
        );
        drop(rx);
        assert_eq!(
            Arc::strong_count(&counter),
            2,
            "the channel let go of the waker"
        );
        let value = Arc::new(());
        permit.send(value.clone());
        assert_eq!(Arc::strong_count(&value), 1, "nobody can read it: dropped");
        assert_eq!(tx.capacity(), 2);
    }

    #[test]
    fn weak_senders_neither_keep_the_channel_open_nor_outlive_the_last_sender() {
        let (tx, mut rx) = channel::<u8>(1);
        let weak = tx.downgrade();
        let weak_clone = weak.clone();
        assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
        let upgraded = weak.upgrade().expect("a sender is alive");
        assert_eq!(rx.sender_strong_count(), 2);
        drop((tx, upgraded));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        assert!(weak_clone.upgrade().is_none());
        drop(weak);
        assert_eq!(rx.sender_weak_count(), 1);
    }

    #[test]
    fn recv_many_takes_up_to_its_limit_and_frees_their_slots() {
        let (tx, mut rx) = channel(4);
        for i in 0..4 {
            tx.try_send(i).unwrap();
        }
        let (_, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        let mut buffer = vec![-1];
        assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 0), Poll::Ready(0));
        assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 3), Poll::Ready(3));
        assert_eq!((buffer, rx.len(), tx.capacity()), (vec![-1, 0, 1, 2], 1, 3));
        drop(tx);
        let mut rest = Vec::new();
        assert_eq!(rx.poll_recv_many(&mut cx, &mut rest, 8), Poll::Ready(1));
        assert_eq!(rx.poll_recv_many(&mut cx, &mut rest, 8), Poll::Ready(0));
        assert!(rx.is_empty() && rx.is_closed());
    }

    #[test]
    fn messages_in_the_receivers_batch_keep_their_slots_until_handed_out() {
        let (tx, mut rx) = channel(4);
        for i in 0..4 {
            tx.try_send(i).unwrap();
        }
        // The first receive takes all four into the receiver's batch, and hands out one.
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(tx.capacity(), 1, "three messages still hold their slots");
        assert_eq!(rx.len(), 3, "the batch counts as queued");
        tx.try_send(4).unwrap();
        assert!(matches!(tx.try_send(5), Err(TrySendError::Full(5))));
        // Order is kept across the batch and the shared queue.
        let received: Vec<i32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(received, [1, 2, 3, 4]);
        assert_eq!(tx.capacity(), 4);
    }

    #[test]
    fn a_receiver_dropped_with_a_full_batch_frees_every_slot_and_drops_every_message() {
        let (tx, mut rx) = channel(3);
        let values: Vec<Arc<()>> = (0..3).map(|_| Arc::new(())).collect();
        for value in &values {
            tx.try_send(value.clone()).unwrap();
        }
        drop(rx.try_recv().unwrap());
        drop(rx);
        assert!(
            values.iter().all(|value| Arc::strong_count(value) == 1),
            "the two messages left in the batch were dropped with the receiver"
        );
        assert_eq!(tx.capacity(), 3);
        assert!(tx.is_closed());
    }

    #[test]
    fn a_receiver_is_unpin_and_sync_whatever_its_messages_are() {
        // Checked by the compiler: this test fails to build if the batch changes either.
        fn unpin_and_sync<X: Unpin + Sync>() {}
        unpin_and_sync::<Receiver<std::marker::PhantomPinned>>();
        unpin_and_sync::<Receiver<std::cell::Cell<u8>>>();
        unpin_and_sync::<super::super::UnboundedReceiver<std::cell::Cell<u8>>>();
    }
}
