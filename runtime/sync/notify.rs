//! `Notify`: wake one waiting task, or all of them, with no data attached.

use super::wait_queue::{Ticket, WaitQueue, WakeList, replace_waker};
use crate::util::lock;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// A way for one task to tell others "something changed, go and look", carrying no data.
///
/// * [`notify_one`](Notify::notify_one) wakes the task that has waited longest. If nobody
///   waits, it leaves a **permit** behind, so the next [`notified`](Notify::notified)
///   completes at once: a notification sent just before the other task awaits is not lost.
///   At most one permit is stored; notifying twice with nobody waiting stores one.
/// * [`notify_waiters`](Notify::notify_waiters) wakes every [`Notified`] future that exists
///   at the time of the call, even one created but not yet polled, and stores no permit.
///
/// ```
/// use asincrono::sync::Notify;
/// use std::sync::Arc;
///
/// asincrono::block_on(async {
///     let ready = Arc::new(Notify::new());
///     let signal = ready.clone();
///     asincrono::spawn(async move { signal.notify_one() });
///     ready.notified().await; // completes whether the task ran before or after this line
/// });
/// ```
///
/// # The generation counter
///
/// `notify_waiters` must also reach futures that were created before the call but have
/// not yet polled, so they are in no queue. Each call therefore bumps a counter, and each
/// [`Notified`] remembers the counter's value from its creation: when it polls and finds
/// another value, it was notified. tokio does the same with an atomic counter.
pub struct Notify {
    /// Everything that changes, behind one short lock.
    state: Mutex<State>,
}

/// A `Notify`'s state.
struct State {
    /// A `notify_one` that found nobody waiting, kept for the next waiter.
    permit: bool,
    /// How many times `notify_waiters` has been called.
    generation: u64,
    /// `Notified` futures that polled (or were enabled) and now wait, oldest first, each
    /// with its task's waker; `None` for one enabled but never polled.
    waiting: WaitQueue<Option<Waker>>,
    /// Waiters that `notify_one` or `notify_last` chose and woke but that have not polled
    /// since, with which end of the queue chose them. One that is dropped instead passes
    /// its notification on, to the same end, so that it is not lost.
    chosen: BTreeMap<Ticket, End>,
}

/// Which waiter a single notification goes to.
#[derive(Clone, Copy)]
enum End {
    /// The one that has waited longest (`notify_one`).
    Oldest,
    /// The one that started waiting last (`notify_last`).
    Newest,
}

impl Notify {
    /// A `Notify` with nobody waiting and no permit stored. `const`, so it can live in a
    /// `static`.
    pub const fn new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                generation: 0,
                waiting: WaitQueue::new(),
                chosen: BTreeMap::new(),
            }),
        }
    }

    /// The same as [`new`](Notify::new), under tokio's name for the `const` constructor.
    pub const fn const_new() -> Notify {
        Notify::new()
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// It counts as existing, for [`notify_waiters`](Notify::notify_waiters), from this
    /// call on; for [`notify_one`](Notify::notify_one), from its first poll.
    ///
    /// # Cancel safety
    /// Dropping a `Notified` before it completes is safe: if `notify_one` had already chosen
    /// it, the notification passes on to the next waiter (or becomes the stored permit).
    /// Only a wake from `notify_waiters` is lost, and that one was meant for the futures
    /// existing at the time, this one included.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: lock(&self.state).generation,
            stage: Stage::Unpolled,
        }
    }

    /// [`notified`](Notify::notified) with a future that owns a reference to the `Notify`,
    /// so that it is `'static` and can move into a spawned task.
    ///
    /// # Cancel safety
    /// As for `notified`.
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        let generation = lock(&self.state).generation;
        OwnedNotified {
            notify: self,
            generation,
            stage: Stage::Unpolled,
        }
    }

    /// Wakes the task that has waited longest, or, if none waits, stores a permit for the
    /// next one (if one is stored already, nothing changes).
    ///
    /// ```
    /// use asincrono::sync::Notify;
    ///
    /// asincrono::block_on(async {
    ///     let notify = Notify::new();
    ///     notify.notify_one(); // nobody waits yet: a permit is stored
    ///     notify.notified().await; // takes the permit, completes at once
    /// });
    /// ```
    pub fn notify_one(&self) {
        let chosen = lock(&self.state).notify(End::Oldest);
        if let Some(waker) = chosen {
            waker.wake();
        }
    }

    /// Like [`notify_one`](Notify::notify_one), but wakes the task that started waiting
    /// last. With nobody waiting, it stores the same permit.
    pub fn notify_last(&self) {
        let chosen = lock(&self.state).notify(End::Newest);
        if let Some(waker) = chosen {
            waker.wake();
        }
    }

    /// Wakes every [`Notified`] future that exists now, whether or not it has been polled.
    /// Stores no permit: a future created after this call waits for the next notification.
    ///
    /// ```
    /// use asincrono::sync::Notify;
    ///
    /// asincrono::block_on(async {
    ///     let notify = Notify::new();
    ///     let first = notify.notified();
    ///     let second = notify.notified();
    ///     notify.notify_waiters();
    ///     first.await;
    ///     second.await;
    /// });
    /// ```
    pub fn notify_waiters(&self) {
        let to_wake = {
            let mut state = lock(&self.state);
            state.generation = state.generation.wrapping_add(1);
            let mut to_wake = WakeList::new();
            to_wake.extend(state.waiting.take_all().flatten());
            to_wake
        };
        to_wake.wake_all();
    }
}

impl State {
    /// `notify_one` or `notify_last` under the lock: returns the chosen waiter's waker (if
    /// it has one: an enabled, never polled waiter has none), to wake after the lock.
    fn notify(&mut self, end: End) -> Option<Waker> {
        let chosen = match end {
            End::Oldest => self.waiting.pop_front(),
            End::Newest => self.waiting.pop_back(),
        };
        match chosen {
            Some((ticket, waker)) => {
                self.chosen.insert(ticket, end);
                waker
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .finish_non_exhaustive()
    }
}

/// Where a [`Notified`] stands.
enum Stage {
    /// Not polled yet: only `notify_waiters` (through the generation) can reach it.
    Unpolled,
    /// In the queue under this ticket (or chosen by `notify_one` and not yet told).
    Waiting(Ticket),
    /// Completed.
    Done,
}

/// The future returned by [`Notify::notified`].
///
/// It is `Unpin`, so it can be polled by hand without pinning: asincrono keeps waiters in a
/// map, not in a list threaded through the futures themselves as tokio does.
///
/// # Cancel safety
/// Dropping it before it completes loses nothing: if `notify_one` had already chosen it,
/// the notification passes on to the next waiter (or becomes the stored permit).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    /// The `Notify` it waits on.
    notify: &'a Notify,
    /// The `notify_waiters` count when it was created: a different count means it was
    /// woken by `notify_waiters`.
    generation: u64,
    /// Where it stands.
    stage: Stage,
}

impl Notify {
    /// One poll of a `Notified` in `stage`, created at `generation`: has it been notified?
    /// If not, it is queued with `waker` (or, from `enable`, with no waker, keeping the one
    /// it has if it is queued already). Also returns the stale waker it replaced, for the
    /// caller to drop after the lock.
    fn check(
        &self,
        stage: &mut Stage,
        generation: u64,
        waker: Option<&Waker>,
    ) -> (bool, Option<Waker>) {
        let mut state = lock(&self.state);
        match *stage {
            Stage::Done => (true, None),
            Stage::Unpolled => {
                if state.generation != generation || std::mem::take(&mut state.permit) {
                    *stage = Stage::Done;
                    (true, None)
                } else {
                    *stage = Stage::Waiting(state.waiting.push_back(waker.cloned()));
                    (false, None)
                }
            }
            Stage::Waiting(ticket) => {
                if state.chosen.remove(&ticket).is_some() {
                    *stage = Stage::Done;
                    return (true, None);
                }
                match state.waiting.get_mut(ticket) {
                    Some(queued) => match (queued, waker) {
                        (Some(queued), Some(waker)) => (false, replace_waker(queued, waker)),
                        (queued @ None, Some(waker)) => (false, queued.replace(waker.clone())),
                        (_, None) => (false, None),
                    },
                    None => {
                        // Neither queued nor chosen: `notify_waiters` emptied the queue.
                        *stage = Stage::Done;
                        (true, None)
                    }
                }
            }
        }
    }
}

impl Notified<'_> {
    /// Puts this future in the queue without polling it, so that from now on a
    /// `notify_one` can choose it (an unpolled `Notified` is otherwise reachable only by
    /// `notify_waiters`). Returns whether it has been notified already; if so, the next
    /// poll completes at once. No task is woken for it until it has been polled.
    ///
    /// Takes `Pin<&mut Self>` for tokio's signature; the future is `Unpin` here.
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        let (notified, _stale) = this.notify.check(&mut this.stage, this.generation, None);
        notified
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let (notified, _stale_waker) =
            this.notify
                .check(&mut this.stage, this.generation, Some(cx.waker()));
        if notified {
            Poll::Ready(())
        } else {
            // Waker contract: our current waker is in the queue. `notify_one` wakes the
            // oldest entry and `notify_waiters` wakes them all, each after unlocking.
            Poll::Pending
        }
    }
}

// ANCHOR: notified_drop
impl Notify {
    /// A `Notified` in `stage` is dropped: out of the queue, and a notification it was
    /// chosen for passes on.
    fn leave(&self, stage: &Stage) {
        let Stage::Waiting(ticket) = *stage else {
            return;
        };
        let (passed_on, _removed) = {
            let mut state = lock(&self.state);
            match state.chosen.remove(&ticket) {
                // Chosen by a notification but dropped before it saw it: pass it on.
                Some(end) => (state.notify(end), None),
                None => (None, state.waiting.remove(ticket).flatten()),
            }
        };
        if let Some(waker) = passed_on {
            waker.wake();
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.notify.leave(&self.stage);
    }
}
// ANCHOR_END: notified_drop

/// The future returned by [`Notify::notified_owned`]: a [`Notified`] that keeps its
/// `Notify` alive through an `Arc`. Everything else is the same.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct OwnedNotified {
    /// The `Notify` it waits on.
    notify: Arc<Notify>,
    /// As in [`Notified`].
    generation: u64,
    /// As in [`Notified`].
    stage: Stage,
}

impl OwnedNotified {
    /// As [`Notified::enable`].
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        let (notified, _stale) = this.notify.check(&mut this.stage, this.generation, None);
        notified
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let (notified, _stale_waker) =
            this.notify
                .check(&mut this.stage, this.generation, Some(cx.waker()));
        if notified {
            Poll::Ready(())
        } else {
            // Waker contract: as for `Notified`.
            Poll::Pending
        }
    }
}

impl Drop for OwnedNotified {
    fn drop(&mut self) {
        self.notify.leave(&self.stage);
    }
}

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNotified").finish_non_exhaustive()
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};

    #[test]
    fn notify_one_wakes_exactly_one_waiter_the_oldest() {
        let notify = Notify::new();
        let (first, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let mut first_notified = notify.notified();
        let mut second_notified = notify.notified();
        assert!(poll_once(Pin::new(&mut first_notified), &first_waker).is_pending());
        assert!(poll_once(Pin::new(&mut second_notified), &second_waker).is_pending());

        notify.notify_one();
        assert_eq!((first.wakes(), second.wakes()), (1, 0));
        assert!(poll_once(Pin::new(&mut first_notified), &first_waker).is_ready());
        assert!(poll_once(Pin::new(&mut second_notified), &second_waker).is_pending());
    }

    #[test]
    fn notify_one_with_nobody_waiting_stores_one_permit_only() {
        let notify = Notify::new();
        let (_, waker) = CountingWaker::new();
        notify.notify_one();
        notify.notify_one();
        assert!(poll_once(Pin::new(&mut notify.notified()), &waker).is_ready());
        assert!(poll_once(Pin::new(&mut notify.notified()), &waker).is_pending());
    }

    #[test]
    fn notify_waiters_reaches_unpolled_futures_but_not_later_ones() {
        let notify = Notify::new();
        let (polled, polled_waker) = CountingWaker::new();
        let (_, waker) = CountingWaker::new();
        let mut waiting = notify.notified();
        assert!(poll_once(Pin::new(&mut waiting), &polled_waker).is_pending());
        let mut unpolled = notify.notified();

        notify.notify_waiters();
        assert_eq!(polled.wakes(), 1);
        assert!(poll_once(Pin::new(&mut waiting), &polled_waker).is_ready());
        assert!(poll_once(Pin::new(&mut unpolled), &waker).is_ready());
        assert!(
            poll_once(Pin::new(&mut notify.notified()), &waker).is_pending(),
            "no permit is stored"
        );
    }

    #[test]
    fn a_chosen_waiter_that_is_dropped_passes_the_notification_on() {
        let notify = Notify::new();
        let (_, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let mut first_notified = notify.notified();
        let mut second_notified = notify.notified();
        assert!(poll_once(Pin::new(&mut first_notified), &first_waker).is_pending());
        assert!(poll_once(Pin::new(&mut second_notified), &second_waker).is_pending());

        notify.notify_one();
        drop(first_notified);
        assert_eq!(second.wakes(), 1);
        assert!(poll_once(Pin::new(&mut second_notified), &second_waker).is_ready());
    }

    #[test]
    fn a_chosen_waiter_dropped_with_nobody_behind_it_leaves_the_permit() {
        let notify = Notify::new();
        let (_, waker) = CountingWaker::new();
        let mut notified = notify.notified();
        assert!(poll_once(Pin::new(&mut notified), &waker).is_pending());
        notify.notify_one();
        drop(notified);
        assert!(poll_once(Pin::new(&mut notify.notified()), &waker).is_ready());
    }

    #[test]
    fn a_waiter_dropped_before_it_was_chosen_takes_nothing_with_it() {
        let notify = Notify::new();
        let (_, waker) = CountingWaker::new();
        let mut notified = notify.notified();
        assert!(poll_once(Pin::new(&mut notified), &waker).is_pending());
        drop(notified);
        notify.notify_one(); // nobody waits any more: stored
        assert!(poll_once(Pin::new(&mut notify.notified()), &waker).is_ready());
    }

    #[test]
    fn notify_last_wakes_the_newest_waiter_and_a_dropped_choice_passes_to_the_next_newest() {
        let notify = Notify::new();
        let counters: Vec<_> = (0..3).map(|_| CountingWaker::new()).collect();
        let mut waiters: Vec<_> = (0..3).map(|_| notify.notified()).collect();
        for (waiter, (_, waker)) in waiters.iter_mut().zip(&counters) {
            assert!(poll_once(Pin::new(waiter), waker).is_pending());
        }
        notify.notify_last();
        let wakes = || counters.iter().map(|(c, _)| c.wakes()).collect::<Vec<_>>();
        assert_eq!(wakes(), [0, 0, 1]);
        drop(waiters.pop());
        assert_eq!(wakes(), [0, 1, 1]);
        assert!(poll_once(Pin::new(&mut waiters[1]), &counters[1].1).is_ready());
        assert!(poll_once(Pin::new(&mut waiters[0]), &counters[0].1).is_pending());
    }

    #[test]
    fn an_enabled_future_can_be_chosen_before_it_is_ever_polled() {
        let notify = Notify::new();
        let mut notified = notify.notified();
        assert!(!Pin::new(&mut notified).enable());
        notify.notify_one(); // chooses it: no permit is stored
        assert!(Pin::new(&mut notified).enable());
        let (_, waker) = CountingWaker::new();
        assert!(poll_once(Pin::new(&mut notify.notified()), &waker).is_pending());
        assert!(poll_once(Pin::new(&mut notified), &waker).is_ready());
    }
}
