//! A channel for exactly one value: one sender, one receiver.
//!
//! The usual way to hand a single result back from a spawned task, or to send a request
//! together with the means to answer it (`(request, oneshot::Sender<Response>)` over an
//! [`mpsc`](super::mpsc) channel).
//!
//! Both halves share one small state behind a lock: the value, whether each side is gone,
//! and a waker slot per side. The receiver waits for the value; the sender may wait, in
//! [`Sender::closed`], for the receiver to lose interest.
//!
//! ```
//! use asincrono::sync::oneshot;
//!
//! asincrono::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     asincrono::spawn(async move {
//!         tx.send(6 * 7).unwrap();
//!     });
//!     assert_eq!(rx.await, Ok(42));
//! });
//! ```

use super::wait_queue::store_waker;
use crate::util::lock;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};

/// The errors of a oneshot channel.
pub mod error {
    use std::fmt;

    /// The error of awaiting a [`Receiver`](super::Receiver): the sender was dropped without
    /// sending (or the receiver was closed before a value arrived).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RecvError(
        /// Private, so that only the channel makes one.
        pub(super) (),
    );

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; one may still come.
        Empty,
        /// No value, and none will ever come: the sender is gone or the receiver closed.
        Closed,
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the oneshot sender was dropped without sending a value")
        }
    }

    impl std::error::Error for RecvError {}

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("no value has been sent yet"),
                TryRecvError::Closed => f.write_str("the oneshot channel is closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

/// Creates a oneshot channel: a [`Sender`] for one value and the [`Receiver`] that awaits it.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            value: None,
            sender_done: false,
            receiver_closed: false,
            receiver_waker: None,
            sender_waker: None,
        }),
    });
    let sender = Sender {
        shared: Some(shared.clone()),
    };
    (
        sender,
        Receiver {
            shared: Some(shared),
        },
    )
}

/// What the two halves share.
struct Shared<T> {
    /// Everything that changes, behind one short lock.
    state: Mutex<State<T>>,
}

/// A oneshot channel's state.
struct State<T> {
    /// The value, between `send` and its receipt.
    value: Option<T>,
    /// The sender has sent or been dropped: no value will come after this.
    sender_done: bool,
    /// The receiver closed or was dropped: a value sent now would never be read.
    receiver_closed: bool,
    /// The receiver's task, while it waits for the value.
    receiver_waker: Option<Waker>,
    /// The sender's task, while it waits in `closed()`.
    sender_waker: Option<Waker>,
}

/// The sending half: sends one value, consuming itself.
pub struct Sender<T> {
    /// The shared state; `None` only inside `send`, which consumes the sender (so its
    /// `Drop` knows there is nothing left to do).
    shared: Option<Arc<Shared<T>>>,
}

/// The receiving half. It is itself the future that waits for the value: `rx.await`.
///
/// # Cancel safety
/// Awaiting `&mut receiver` is cancel-safe: if that future is dropped, a value sent later
/// (or already) stays in the channel for the next await or `try_recv`. Dropping the
/// `Receiver` itself closes the channel and drops any value in it.
pub struct Receiver<T> {
    /// The shared state, until the receiver has its answer: the value, or the news that
    /// none will come. Then it lets go at once (`finished`), and its `Drop` has nothing to
    /// lock: one lock less in the usual life of a oneshot (created, sent, received,
    /// dropped). Measured with callgrind on the benchmark's current-thread
    /// `oneshot_ping_pong`: 34 atomic read-modify-writes per request instead of 36 (the
    /// lock and unlock in `Drop`), 1,780 instructions instead of 1,791.
    shared: Option<Arc<Shared<T>>>,
}

impl<T> Sender<T> {
    // ANCHOR: oneshot_send
    /// Sends `value`, waking the receiver. Never waits.
    ///
    /// Fails, giving the value back, if the receiver was dropped or closed.
    ///
    /// ```
    /// use asincrono::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("lost?"), Err("lost?")); // no: handed back
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let shared = self.shared.take().expect(SENDER_HAS_STATE);
        let receiver = {
            let mut state = lock(&shared.state);
            state.sender_done = true;
            if state.receiver_closed {
                return Err(value);
            }
            state.value = Some(value);
            state.receiver_waker.take()
        };
        if let Some(waker) = receiver {
            waker.wake();
        }
        Ok(())
    }
    // ANCHOR_END: oneshot_send

    /// Whether the receiver was dropped or closed, so that a send would fail.
    pub fn is_closed(&self) -> bool {
        lock(&self.state().state).receiver_closed
    }

    /// Waits until the receiver is dropped or closed: lets a task stop working on an answer
    /// that nobody wants any more.
    ///
    /// ```
    /// use asincrono::sync::oneshot;
    ///
    /// asincrono::block_on(async {
    ///     let (mut tx, rx) = oneshot::channel::<u32>();
    ///     asincrono::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    ///
    /// # Cancel safety
    /// Cancel-safe: it consumes nothing, and a new call waits just the same.
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// The poll behind [`closed`](Sender::closed): `Ready` once the receiver is gone or
    /// closed; otherwise `Pending`, and `cx`'s task is woken when that happens.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.state().state);
        if state.receiver_closed {
            return Poll::Ready(());
        }
        let stale = store_waker(&mut state.sender_waker, cx.waker());
        drop(state);
        drop(stale);
        // Waker contract: our waker is in `sender_waker`; the receiver's `close` or drop
        // takes it and wakes it after unlocking.
        Poll::Pending
    }

    /// The shared state, present until `send` consumes the sender.
    fn state(&self) -> &Shared<T> {
        self.shared.as_ref().expect(SENDER_HAS_STATE)
    }
}

/// Why a live `Sender` always has its state.
const SENDER_HAS_STATE: &str = "a oneshot Sender keeps its state until `send` consumes it";

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return; // `send` has been here
        };
        let receiver = {
            let mut state = lock(&shared.state);
            state.sender_done = true;
            state.receiver_waker.take()
        };
        if let Some(waker) = receiver {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived; never waits.
    ///
    /// ```
    /// use asincrono::sync::oneshot::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(shared) = &self.shared else {
            return Err(TryRecvError::Closed); // the answer was given already
        };
        let result = {
            let mut state = lock(&shared.state);
            match state.value.take() {
                Some(value) => Ok(value),
                None if state.sender_done || state.receiver_closed => Err(TryRecvError::Closed),
                None => return Err(TryRecvError::Empty),
            }
        };
        self.finished();
        result
    }

    /// Stops the sender from sending: a later `send` fails and hands the value back. A value
    /// sent before the close can still be taken with [`try_recv`](Receiver::try_recv) (or
    /// by awaiting the receiver).
    pub fn close(&mut self) {
        let Some(shared) = &self.shared else {
            return; // the answer was given already: nothing left to stop
        };
        let sender = {
            let mut state = lock(&shared.state);
            state.receiver_closed = true;
            state.sender_waker.take()
        };
        if let Some(waker) = sender {
            waker.wake();
        }
    }

    /// Whether the receiver has given its answer (the value, or that none will come)
    /// through `try_recv` or by being awaited; polling it again would panic.
    pub fn is_terminated(&self) -> bool {
        self.shared.is_none()
    }

    /// Whether no value is waiting to be taken: none was sent yet, it was taken already, or
    /// none will come.
    pub fn is_empty(&self) -> bool {
        match &self.shared {
            None => true,
            Some(shared) => lock(&shared.state).value.is_none(),
        }
    }

    /// Waits for the value on a plain thread, parking it: the bridge from synchronous code
    /// to a task that answers.
    ///
    /// ```
    /// use asincrono::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// let runtime = asincrono::Runtime::new().unwrap();
    /// runtime.spawn(async move { tx.send(7).unwrap() });
    /// assert_eq!(rx.blocking_recv(), Ok(7));
    /// ```
    ///
    /// # Panics
    /// Inside a runtime: parking a thread there would stall its tasks.
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        super::blocking::block_on("oneshot::Receiver::blocking_recv", self)
    }

    /// The receiver has its answer (the value, or that none will come): it lets go of the
    /// shared state. Nothing there concerns it any more: the value is out, and the sender is
    /// gone or can only fail (its `send` sees `receiver_closed` and hands the value back), so
    /// there is nothing for `close` or `Drop` to do.
    fn finished(&mut self) {
        self.shared = None;
    }
}

/// Awaiting the receiver yields the value, or [`RecvError`] if the sender was dropped
/// without sending (or the receiver was closed before a value came).
///
/// # Panics
/// When polled again after it gave its answer (or after `try_recv` gave one), as in tokio:
/// the channel is spent, and [`is_terminated`](Receiver::is_terminated) says so.
impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(crate::task::poll_proceed(cx));
        let this = self.get_mut();
        let Some(shared) = &this.shared else {
            panic!("a oneshot::Receiver was polled after it completed");
        };
        let result = {
            let mut state = lock(&shared.state);
            if let Some(value) = state.value.take() {
                Ok(value)
            } else if state.sender_done || state.receiver_closed {
                Err(RecvError(()))
            } else {
                let stale = store_waker(&mut state.receiver_waker, cx.waker());
                drop(state);
                drop(stale);
                // Waker contract: our waker is in `receiver_waker`; `send`, or the sender's
                // drop, takes it and wakes it after unlocking.
                return Poll::Pending;
            }
        };
        this.finished();
        Poll::Ready(result)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let Some(shared) = &self.shared else {
            return; // finished: nothing to close, nobody to tell
        };
        let (sender, _unread) = {
            let mut state = lock(&shared.state);
            state.receiver_closed = true;
            (state.sender_waker.take(), state.value.take())
        };
        // `_unread` (a value nobody will read) is dropped at the end of this function,
        // after the lock: its destructor is user code.
        if let Some(waker) = sender {
            waker.wake();
        }
    }
}

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
    fn send_wakes_the_waiting_receiver_once_and_hands_over_the_value() {
        let (tx, mut rx) = channel();
        let (receiver, waker) = CountingWaker::new();
        assert!(poll_once(Pin::new(&mut rx), &waker).is_pending());
        tx.send(7).unwrap();
        assert_eq!(receiver.wakes(), 1);
        assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(7)));
    }

    #[test]
    fn dropping_the_sender_wakes_the_receiver_with_an_error() {
        let (tx, mut rx) = channel::<u8>();
        let (receiver, waker) = CountingWaker::new();
        assert!(poll_once(Pin::new(&mut rx), &waker).is_pending());
        drop(tx);
        assert_eq!(receiver.wakes(), 1);
        assert_eq!(
            poll_once(Pin::new(&mut rx), &waker),
            Poll::Ready(Err(RecvError(())))
        );
    }

    #[test]
    fn closing_the_receiver_wakes_the_sender_in_closed_and_fails_the_send() {
        let (mut tx, mut rx) = channel();
        let (sender, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        assert!(tx.poll_closed(&mut cx).is_pending());
        rx.close();
        assert_eq!(sender.wakes(), 1);
        assert!(tx.poll_closed(&mut cx).is_ready());
        assert_eq!(tx.send(3), Err(3));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn the_receiver_lets_go_of_the_state_once_it_has_its_answer_and_stays_answered() {
        let (tx, mut rx) = channel();
        let (_, waker) = CountingWaker::new();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert!(poll_once(Pin::new(&mut rx), &waker).is_pending());
        assert!(rx.shared.is_some(), "no answer yet: it keeps the state");
        tx.send(5).unwrap();
        assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(5)));
        assert!(rx.shared.is_none(), "answered: the state is let go");
        assert!(rx.is_terminated() && rx.is_empty());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        rx.close(); // nothing left to close
    }

    #[test]
    #[should_panic(expected = "polled after it completed")]
    fn a_receiver_polled_after_its_answer_panics() {
        let (tx, mut rx) = channel();
        let (_, waker) = CountingWaker::new();
        tx.send(5).unwrap();
        assert_eq!(poll_once(Pin::new(&mut rx), &waker), Poll::Ready(Ok(5)));
        let _ = poll_once(Pin::new(&mut rx), &waker);
    }

    #[test]
    fn is_empty_and_is_terminated_follow_the_value() {
        let (tx, mut rx) = channel();
        assert!(rx.is_empty() && !rx.is_terminated());
        tx.send(1).unwrap();
        assert!(!rx.is_empty() && !rx.is_terminated());
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(rx.is_empty() && rx.is_terminated());
    }

    #[test]
    fn a_receiver_answered_by_try_recv_or_by_the_senders_drop_lets_go_too() {
        let (tx, mut rx) = channel();
        tx.send("value").unwrap();
        assert_eq!(rx.try_recv(), Ok("value"));
        assert!(rx.shared.is_none());

        let (tx, mut rx) = channel::<u8>();
        drop(tx);
        let (_, waker) = CountingWaker::new();
        assert_eq!(
            poll_once(Pin::new(&mut rx), &waker),
            Poll::Ready(Err(RecvError(())))
        );
        assert!(rx.shared.is_none());
    }

    #[test]
    fn a_sender_outliving_a_closed_and_answered_receiver_still_gets_its_value_back() {
        let (mut tx, mut rx) = channel();
        let (_, waker) = CountingWaker::new();
        rx.close();
        assert_eq!(
            poll_once(Pin::new(&mut rx), &waker),
            Poll::Ready(Err(RecvError(())))
        );
        assert!(rx.shared.is_none());
        drop(rx);
        let mut cx = Context::from_waker(&waker);
        assert!(tx.poll_closed(&mut cx).is_ready());
        assert_eq!(tx.send(8), Err(8));
    }

    #[test]
    fn a_value_sent_before_close_can_still_be_taken() {
        let (tx, mut rx) = channel();
        tx.send("kept").unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok("kept"));
    }
}
