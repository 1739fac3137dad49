//! The task's state word: five bits in one atomic, so that a wake-up, a poll, an abort and
//! the drop of a `JoinHandle` can race on any threads and still agree on what happens next.
//!
//! | bit             | set by                                   | cleared by                        | meaning |
//! |-----------------|------------------------------------------|-----------------------------------|---------|
//! | `SCHEDULED`     | a waker, `abort`, `spawn`                | the runner, as it starts to poll  | the task sits in a run queue (or is about to) |
//! | `RUNNING`       | the runner, as it starts to poll; shutdown, as it claims an idle task | the runner, after the poll | one thread owns the future right now (polling or dropping it) |
//! | `COMPLETE`      | the runner, once the output is stored    | never                             | the future is gone; the stage holds the output |
//! | `CANCELLED`     | `JoinHandle::abort`, runtime shutdown    | never                             | the next time the runner sees the task, it drops the future |
//! | `JOIN_INTEREST` | `spawn` (a `JoinHandle` exists)          | dropping the `JoinHandle`         | someone will read the output |
//!
//! The invariant that makes "queued exactly once" work: **a task is pushed on a run queue only
//! by the thread that moved `SCHEDULED` from 0 to 1 while `RUNNING` and `COMPLETE` were 0**, or
//! by the runner itself when a wake arrived during the poll. So at most one queue entry exists
//! per task at any moment, and a queue entry always finds `SCHEDULED = 1, RUNNING = 0` — except
//! when shutdown has claimed the task, which is why [`State::start_running`] can refuse.

use crate::primitives::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

// ANCHOR: state_bits
/// In a run queue, or about to be: set only by the thread that must then queue the task.
const SCHEDULED: usize = 1 << 0;
/// One thread owns the future now (polls or drops it); no other thread may touch the stage.
const RUNNING: usize = 1 << 1;
/// The future is gone and the stage holds the output (or nothing); never cleared.
const COMPLETE: usize = 1 << 2;
/// Aborted or shut down: whoever next owns the task drops the future; never cleared.
const CANCELLED: usize = 1 << 3;
/// A `JoinHandle` exists and will read the output; cleared once, when it drops.
const JOIN_INTEREST: usize = 1 << 4;
// ANCHOR_END: state_bits

/// The atomic state word of one task.
pub(crate) struct State(AtomicUsize);

/// A copy of the state word taken at one instant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn has_join_interest(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    /// Idle: not queued, not being polled, not finished — waiting for a waker. Taken just
    /// before a wake or cancel, this says whether that caller must queue the task.
    fn queue_if_idle(self) -> AfterWake {
        if self.0 & (SCHEDULED | RUNNING | COMPLETE) == 0 {
            AfterWake::Queue
        } else {
            AfterWake::Nothing
        }
    }
}

/// What the runner must do once a poll has returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "each outcome asks the runner to do something different with the task"]
pub(crate) enum AfterPending {
    /// Nobody woke the task during the poll: it now waits for its waker.
    Idle,
    /// A wake arrived while the future was being polled: queue the task again.
    Reschedule,
    /// `abort` or shutdown arrived during the poll: drop the future now.
    Cancel,
}

/// What the caller of [`State::wake`] or [`State::cancel`] must do next.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a task that must be queued and is not would never run again"]
pub(crate) enum AfterWake {
    /// The task was idle and is now `SCHEDULED`: the caller must put it on a run queue.
    Queue,
    /// The task is queued, running or complete already: whoever has it sees the new bits.
    Nothing,
}

/// Who drops the future, after [`State::claim_for_shutdown`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a claimed task is the caller's to finish: no one else will"]
pub(crate) enum Claim {
    /// Shutdown set `RUNNING` on an idle task: it must drop the future itself, now.
    Claimed,
    /// A runner is polling it (and will see `CANCELLED`), or it already completed.
    NotOurs,
}

impl State {
    /// A new task is already scheduled (spawn queues it) and has a `JoinHandle`.
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(SCHEDULED | JOIN_INTEREST))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    // ANCHOR: state_wake
    /// A waker fired. Returns [`AfterWake::Queue`] when the caller must put the task on a run
    /// queue: only the wake that finds the task idle does, so a task is never queued twice.
    /// A wake that finds the task running only sets `SCHEDULED`; the runner sees it after
    /// the poll.
    pub(crate) fn wake(&self) -> AfterWake {
        Snapshot(self.0.fetch_or(SCHEDULED, AcqRel)).queue_if_idle()
    }
    // ANCHOR_END: state_wake

    /// `abort()` or shutdown: mark the task cancelled and, like a wake, report whether the
    /// caller must queue it so that a runner comes by and drops the future.
    pub(crate) fn cancel(&self) -> AfterWake {
        Snapshot(self.0.fetch_or(CANCELLED | SCHEDULED, AcqRel)).queue_if_idle()
    }

    /// A runner popped the task from a queue: `SCHEDULED` → `RUNNING`. Returns `None` when the
    /// task is not the runner's to poll (shutdown claimed it, or it already completed).
    #[must_use = "only a runner that got `Some` may poll the future"]
    pub(crate) fn start_running(&self) -> Option<Snapshot> {
        self.0
            .fetch_update(AcqRel, Acquire, |s| {
                (s & (RUNNING | COMPLETE) == 0).then_some((s & !SCHEDULED) | RUNNING)
            })
            .ok()
            .map(|prev| Snapshot((prev & !SCHEDULED) | RUNNING))
    }

    // ANCHOR: stop_running
    /// The poll returned `Pending`: leave `RUNNING`, unless a cancel arrived meanwhile, in
    /// which case the runner keeps the task to drop its future. A task that `yielded` is
    /// marked `SCHEDULED` in the same step, as a wake of its own would have marked it: the
    /// runner queues it (after the driver's turn) instead of waiting for a waker.
    pub(crate) fn stop_running(&self, yielded: bool) -> AfterPending {
        let requeue = if yielded { SCHEDULED } else { 0 };
        let prev = self.0.fetch_update(AcqRel, Acquire, |s| {
            if s & CANCELLED != 0 {
                Some(s) // stay RUNNING: the runner will finish the task
            } else {
                Some((s & !RUNNING) | requeue)
            }
        });
        let prev = Snapshot(prev.unwrap_or_else(|s| s));
        if prev.is_cancelled() {
            AfterPending::Cancel
        } else if yielded || prev.0 & SCHEDULED != 0 {
            AfterPending::Reschedule
        } else {
            AfterPending::Idle
        }
    }
    // ANCHOR_END: stop_running

    /// Shutdown wants to drop the future of a task that no runner is polling. Returns
    /// [`Claim::Claimed`] when shutdown now owns the task (it set `RUNNING`, so no runner will
    /// touch it); [`Claim::NotOurs`] when a runner is polling it right now (that runner will
    /// see `CANCELLED` and finish it) or it already completed.
    pub(crate) fn claim_for_shutdown(&self) -> Claim {
        let prev = self.0.fetch_update(AcqRel, Acquire, |s| {
            if s & (RUNNING | COMPLETE) == 0 {
                Some(s | RUNNING | CANCELLED)
            } else {
                Some(s | CANCELLED)
            }
        });
        let prev = prev.unwrap_or_else(|s| s);
        if prev & (RUNNING | COMPLETE) == 0 {
            Claim::Claimed
        } else {
            Claim::NotOurs
        }
    }

    /// The output is stored: `RUNNING` → `COMPLETE`. Returns the state just before.
    #[must_use = "the state before says whether anyone will read the output"]
    pub(crate) fn complete(&self) -> Snapshot {
        Snapshot(
            self.0
                .fetch_update(AcqRel, Acquire, |s| Some((s & !RUNNING) | COMPLETE))
                .unwrap_or_else(|s| s),
        )
    }

    /// The `JoinHandle` is being dropped. Returns the state just before: if it was already
    /// `COMPLETE`, the output is in the stage and the handle must drop it.
    #[must_use = "if the task completed first, the output is the caller's to drop"]
    pub(crate) fn drop_join_interest(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!JOIN_INTEREST, AcqRel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state that has been through `start_running`, as during a poll.
    fn running() -> State {
        let state = State::new();
        state.start_running().expect("a new task can start running");
        state
    }

    #[test]
    fn a_new_task_is_scheduled_so_a_wake_does_not_queue_it_again() {
        let state = State::new();
        assert_eq!(state.wake(), AfterWake::Nothing, "already queued by spawn");
    }

    #[test]
    fn wake_while_running_asks_the_runner_to_reschedule() {
        let state = running();
        assert_eq!(
            state.wake(),
            AfterWake::Nothing,
            "the waker must not queue a running task"
        );
        assert_eq!(state.wake(), AfterWake::Nothing, "nor twice");
        assert_eq!(state.stop_running(false), AfterPending::Reschedule);
    }

    #[test]
    fn a_task_that_yielded_leaves_its_poll_scheduled_so_no_wake_queues_it_twice() {
        let state = running();
        assert_eq!(state.stop_running(true), AfterPending::Reschedule);
        assert_eq!(
            state.wake(),
            AfterWake::Nothing,
            "the runner queues it: a wake meanwhile must not"
        );
        assert!(state.start_running().is_some(), "and it can run again");
    }

    #[test]
    fn without_a_wake_the_task_goes_idle_and_the_next_wake_queues_it_once() {
        let state = running();
        assert_eq!(state.stop_running(false), AfterPending::Idle);
        assert_eq!(
            state.wake(),
            AfterWake::Queue,
            "the first wake of an idle task queues it"
        );
        assert_eq!(
            state.wake(),
            AfterWake::Nothing,
            "the second finds it queued"
        );
    }

    #[test]
    fn wake_after_completion_does_nothing() {
        let state = running();
        let _ = state.complete();
        assert_eq!(state.wake(), AfterWake::Nothing);
        assert!(
            state.start_running().is_none(),
            "a complete task never runs again"
        );
    }

    #[test]
    fn abort_while_queued_is_seen_by_the_runner() {
        let state = State::new();
        assert_eq!(
            state.cancel(),
            AfterWake::Nothing,
            "already queued: the queue entry suffices"
        );
        let snapshot = state.start_running().expect("the queued entry runs");
        assert!(snapshot.is_cancelled());
    }

    #[test]
    fn abort_of_an_idle_task_queues_it() {
        let state = running();
        assert_eq!(state.stop_running(false), AfterPending::Idle);
        assert_eq!(
            state.cancel(),
            AfterWake::Queue,
            "someone must come by to drop the future"
        );
    }

    #[test]
    fn abort_while_running_makes_the_runner_cancel() {
        let state = running();
        assert_eq!(state.cancel(), AfterWake::Nothing, "the runner owns it");
        assert_eq!(state.stop_running(false), AfterPending::Cancel);
    }

    #[test]
    fn join_handle_dropped_before_completion_leaves_the_output_to_the_task() {
        let state = running();
        assert!(!state.drop_join_interest().is_complete());
        assert!(
            !state.complete().has_join_interest(),
            "the task drops the output"
        );
    }

    #[test]
    fn join_handle_dropped_after_completion_drops_the_output_itself() {
        let state = running();
        assert!(state.complete().has_join_interest());
        assert!(state.drop_join_interest().is_complete());
    }

    #[test]
    fn shutdown_claims_idle_tasks_but_not_running_ones() {
        let idle = running();
        assert_eq!(idle.stop_running(false), AfterPending::Idle);
        assert_eq!(idle.claim_for_shutdown(), Claim::Claimed);
        assert!(
            idle.start_running().is_none(),
            "a stale queue entry must not run it"
        );

        let busy = running();
        assert_eq!(busy.claim_for_shutdown(), Claim::NotOurs);
        assert_eq!(busy.stop_running(false), AfterPending::Cancel);
    }
}
