//! The channel itself, shared by both flavours: a queue of messages, the receiver's waker,
//! and who is still connected. It never refuses a message for lack of room; the bounded
//! flavour puts a semaphore in front of it for that (`bounded.rs`).

use super::error::TryRecvError;
use crate::sync::wait_queue::{Ticket, WaitQueue, WakeList, replace_waker, store_waker};
use crate::util::lock;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker, ready};

/// The state every sender and the receiver of one channel share.
pub(super) struct Chan<T> {
    /// Everything that changes, behind one short lock.
    state: Mutex<State<T>>,
}

/// A channel's state.
struct State<T> {
    /// Messages sent and not yet received, oldest first. One queue for all senders, and
    /// each sender pushes in the order it sends: that is what keeps per-sender order.
    queue: VecDeque<T>,
    /// How many senders are alive; at zero the receiver knows nothing more can come.
    senders: usize,
    /// Set when the receiver closes or is dropped: sends fail from then on.
    closed: bool,
    /// The receiver's task, while it waits for a message.
    receiver_waker: Option<Waker>,
    /// Tasks waiting in `Sender::closed()`, any number of them.
    closed_waiters: WaitQueue<Waker>,
}

impl<T> Chan<T> {
    /// An open, empty channel with one sender.
    pub(super) fn new() -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                senders: 1,
                closed: false,
                receiver_waker: None,
                closed_waiters: WaitQueue::new(),
            }),
        }
    }

    // ANCHOR: chan_push
    /// Appends `value` and wakes the receiver if it waits; hands the value back if the
    /// receiver is gone.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let receiver = {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(value);
            }
            state.queue.push_back(value);
            // Taken, not cloned: the receiver is woken once, however many messages follow
            // before it runs. It re-registers only when it finds the queue empty again.
            state.receiver_waker.take()
        };
        if let Some(waker) = receiver {
            waker.wake();
        }
        Ok(())
    }
    // ANCHOR_END: chan_push

    /// Takes the oldest message; `Ready(None)` once the queue is empty and nothing more
    /// can arrive.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        ready!(crate::task::poll_proceed(cx));
        let mut state = lock(&self.state);
        if let Some(value) = state.queue.pop_front() {
            return Poll::Ready(Some(value));
        }
        if state.closed || state.senders == 0 {
            return Poll::Ready(None);
        }
        let stale = store_waker(&mut state.receiver_waker, cx.waker());
        drop(state);
        drop(stale);
        // Waker contract: our waker is in `receiver_waker`. The next `push` takes and wakes
        // it, and so does the last sender's drop; both after unlocking.
        Poll::Pending
    }

    /// Takes the oldest message if there is one; never waits.
    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.state);
        match state.queue.pop_front() {
            Some(value) => Ok(value),
            None if state.closed || state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// The receiver closes: later sends fail, and tasks in `Sender::closed` wake up.
    /// Messages already queued stay there to be received.
    pub(super) fn close(&self) {
        let to_wake = {
            let mut state = lock(&self.state);
            state.closed = true;
            let mut to_wake = WakeList::new();
            to_wake.extend(state.closed_waiters.take_all());
            to_wake
        };
        to_wake.wake_all();
    }

    // ANCHOR: close_and_discard
    /// The receiver is dropped: close, and drop the messages nobody will read (after
    /// unlocking: their destructors are user code).
    pub(super) fn close_and_discard(&self) {
        self.close();
        let unread = std::mem::take(&mut lock(&self.state).queue);
        drop(unread);
    }
    // ANCHOR_END: close_and_discard

    /// Whether the receiver has closed or is gone.
    pub(super) fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Another sender (a clone) joins.
    pub(super) fn add_sender(&self) {
        lock(&self.state).senders += 1;
    }

    /// A sender is dropped. The last one wakes the receiver, which will find the queue
    /// drained eventually and get `None`.
    pub(super) fn drop_sender(&self) {
        let receiver = {
            let mut state = lock(&self.state);
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.receiver_waker.take()
        };
        if let Some(waker) = receiver {
            waker.wake();
        }
    }

    /// Waits until the receiver closes or is dropped.
    pub(super) async fn closed(&self) {
        Closed {
            chan: self,
            ticket: None,
        }
        .await
    }
}

/// The future behind `Sender::closed`. Cancel-safe: dropping it only takes its waker out.
struct Closed<'a, T> {
    /// The channel watched.
    chan: &'a Chan<T>,
    /// Its entry in `closed_waiters`, once it has polled.
    ticket: Option<Ticket>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = lock(&this.chan.state);
        if state.closed {
            // `close` emptied `closed_waiters`, our entry included.
            this.ticket = None;
            return Poll::Ready(());
        }
        let stale = match this
            .ticket
            .and_then(|ticket| state.closed_waiters.get_mut(ticket))
        {
            Some(queued) => replace_waker(queued, cx.waker()),
            None => {
                this.ticket = Some(state.closed_waiters.push_back(cx.waker().clone()));
                None
            }
        };
        drop(state);
        drop(stale);
        // Waker contract: our waker is in `closed_waiters`; the receiver's `close` (also run
        // when it is dropped) wakes every entry after unlocking.
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            let removed = lock(&self.chan.state).closed_waiters.remove(ticket);
            drop(removed);
        }
    }
}
