//! `Barrier`: a meeting point where a fixed number of tasks wait for each other.
//!
//! The state is a count of arrivals, a generation number and the tasks waiting, behind
//! one short lock. The task whose arrival completes the count is the **leader**: it
//! starts the next generation and wakes the others, who see the generation move on and
//! leave. Counting generations is what lets the barrier be reused at once: a task that
//! arrives for the next round cannot be confused with one still leaving the last.
//!
//! Corner cut, shared with tokio: an arrival is not taken back if its `wait` future is
//! dropped, so a cancelled waiter still counts towards the round it joined. tokio builds
//! the same thing from a `watch` channel carrying the generation.

use super::wait_queue::{Ticket, WaitQueue, WakeList, replace_waker};
use crate::util::lock;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker, ready};

/// A barrier for `n` tasks: each calls [`wait`](Barrier::wait), and all of them continue
/// once the `n`-th has arrived. Then it is ready for the next round.
///
/// ```
/// use asincrono::sync::Barrier;
/// use std::sync::Arc;
///
/// asincrono::block_on(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = barrier.clone();
///             asincrono::spawn(async move { barrier.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for task in tasks {
///         leaders += task.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1, "exactly one task of each round leads");
/// });
/// ```
pub struct Barrier {
    /// How many tasks make a round; at least 1.
    size: usize,
    /// Everything that changes, behind one short lock.
    state: Mutex<State>,
}

/// A barrier's state.
struct State {
    /// Tasks that have arrived in the current round.
    arrived: usize,
    /// Rounds completed so far; a waiter leaves once it moves past its own.
    generation: u64,
    /// The tasks of the current round waiting for the rest.
    waiting: WaitQueue<Waker>,
}

/// What [`Barrier::wait`] returns: whether this task was the round's leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the one whose arrival completed the round (one per round).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for rounds of `n` tasks. `n` of 0 behaves as 1, as in tokio: every wait
    /// completes at once, as its round's leader.
    pub fn new(n: usize) -> Barrier {
        Barrier {
            size: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                generation: 0,
                waiting: WaitQueue::new(),
            }),
        }
    }

    /// Arrives and waits until the round is complete.
    ///
    /// # Cancel safety
    /// Not cancel-safe: dropping the future after its first poll leaves its arrival
    /// counted, so the round can complete one task short of its size (tokio does the
    /// same). A future dropped before it was polled has not arrived.
    pub async fn wait(&self) -> BarrierWaitResult {
        Wait {
            barrier: self,
            stage: Stage::Unpolled,
        }
        .await
    }
}

/// Where a [`Wait`] stands.
enum Stage {
    /// Not arrived yet.
    Unpolled,
    /// Arrived in the round of this generation, waiting under this ticket.
    Waiting(u64, Ticket),
    /// Completed.
    Done,
}

/// The future behind [`Barrier::wait`].
struct Wait<'a> {
    /// The barrier.
    barrier: &'a Barrier,
    /// Where it stands.
    stage: Stage,
}

impl Future for Wait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        ready!(crate::task::poll_proceed(cx));
        let this = self.get_mut();
        let mut state = lock(&this.barrier.state);
        let stale = match this.stage {
            Stage::Done => panic!("a barrier wait was polled after it completed"),
            Stage::Unpolled => {
                state.arrived += 1;
                if state.arrived == this.barrier.size {
                    // The last arrival leads: the next round starts, this one's waiters go.
                    state.arrived = 0;
                    state.generation += 1;
                    let mut to_wake = WakeList::new();
                    to_wake.extend(state.waiting.take_all());
                    drop(state);
                    to_wake.wake_all();
                    this.stage = Stage::Done;
                    return Poll::Ready(BarrierWaitResult(true));
                }
                let ticket = state.waiting.push_back(cx.waker().clone());
                this.stage = Stage::Waiting(state.generation, ticket);
                None
            }
            Stage::Waiting(generation, _) if generation != state.generation => {
                // The leader emptied the queue, our entry included.
                this.stage = Stage::Done;
                return Poll::Ready(BarrierWaitResult(false));
            }
            Stage::Waiting(_, ticket) => state
                .waiting
                .get_mut(ticket)
                .and_then(|queued| replace_waker(queued, cx.waker())),
        };
        drop(state);
        drop(stale);
        // Waker contract: our waker is in `waiting`; the round's leader wakes every entry
        // after unlocking.
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Stage::Waiting(_, ticket) = self.stage {
            // Only the waker goes; the arrival stays counted (see `Barrier::wait`).
            let removed = lock(&self.barrier.state).waiting.remove(ticket);
            drop(removed);
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Barrier")
            .field("size", &self.size)
            .field("arrived", &state.arrived)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::{CountingWaker, poll_once};

    #[test]
    fn the_last_arrival_leads_and_wakes_the_others_and_the_barrier_is_reusable() {
        let barrier = Barrier::new(3);
        for _round in 0..3 {
            let counters: Vec<_> = (0..2).map(|_| CountingWaker::new()).collect();
            let mut waits: Vec<_> = (0..2).map(|_| Box::pin(barrier.wait())).collect();
            for (wait, (_, waker)) in waits.iter_mut().zip(&counters) {
                assert!(poll_once(wait.as_mut(), waker).is_pending());
            }
            let (_, waker) = CountingWaker::new();
            let mut last = Box::pin(barrier.wait());
            assert_eq!(
                poll_once(last.as_mut(), &waker),
                Poll::Ready(BarrierWaitResult(true))
            );
            for (wait, (counter, waker)) in waits.iter_mut().zip(&counters) {
                assert_eq!(counter.wakes(), 1);
                assert_eq!(
                    poll_once(wait.as_mut(), waker),
                    Poll::Ready(BarrierWaitResult(false))
                );
            }
        }
    }

    #[test]
    fn a_barrier_of_zero_never_waits() {
        let barrier = Barrier::new(0);
        let (_, waker) = CountingWaker::new();
        assert!(poll_once(Box::pin(barrier.wait()).as_mut(), &waker).is_ready());
    }
}
