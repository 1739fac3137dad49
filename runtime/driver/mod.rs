//! The driver: what a scheduler thread does when it has no task to run.
//!
//! It blocks in `epoll_wait` (through `mio::Poll`) until one of three things happens:
//! a registered socket becomes ready (the reactor wakes the task waiting on it), the nearest
//! timer's deadline passes (the timeout we give `epoll_wait`), or another thread wants this
//! one awake (it writes to a `mio::Waker`, an eventfd registered under a reserved token).
//! That is what "idle means asleep in the kernel" means: no spinning, no polling loop.
//!
//! ```text
//!  scheduler ──park()──▶ Driver::park ──epoll_wait(timeout = next timer)──▶ kernel
//!      ▲                     │ I/O event: reactor sets readiness, wakes the I/O waiter
//!      │                     │ deadline:  timer queue wakes the sleepers
//!      └── task wakers ◀─────┘ unpark:    nothing to dispatch, just return
//! ```
//!
//! This directory is layer 2 of the runtime (see `lib.rs`): the reactor (`reactor.rs`), the
//! timer queue (`timer_queue.rs`, on the timing wheel of `timer_wheel.rs`) and the clock
//! (`clock.rs`), below the executors and above
//! the task core. It knows no scheduler and no thread-local context: it is handed what it
//! needs, and the only things that leave it are `Waker`s. The user-level types built on it
//! (`net`'s `Registered` sockets, `time::Sleep`) live in the public layer.

mod clock;
mod reactor;
mod timer_queue;
mod timer_wheel;

pub(crate) use clock::Clock;
pub(crate) use reactor::{
    Direction, ERROR, READ_CLOSED, READABLE, Reactor, ReadyEvent, ScheduledIo, WRITABLE,
    WRITE_CLOSED,
};
pub(crate) use timer_queue::{Registered, TimerKey, TimerQueue};

use crate::trace;
use mio::{Events, Poll, Token};
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

/// The token of the `mio::Waker`; no I/O registration can have it (the slab never grows
/// that large).
const UNPARK_TOKEN: Token = Token(usize::MAX);

/// How many readiness events one `epoll_wait` may return; more wait for the next call.
const EVENTS_PER_POLL: usize = 1024;

/// The part of the driver that only the parked thread touches.
pub(crate) struct Driver {
    /// The epoll instance.
    poll: Poll,
    /// Buffer for the events one `epoll_wait` returns; reused.
    events: Events,
    /// Buffer for the wakers of expired timers; reused, woken after the timer lock is released.
    expired: Vec<Waker>,
    /// The shared half.
    handle: Arc<DriverHandle>,
}

/// The part of the driver that everyone shares: I/O resources register here, timers are
/// inserted here, and other threads unpark the driver through it.
pub(crate) struct DriverHandle {
    /// I/O registrations and their readiness.
    pub(crate) reactor: Reactor,
    /// Pending timers.
    pub(crate) timers: TimerQueue,
    /// What the timers read the time from; can be paused in tests.
    pub(crate) clock: Clock,
    /// Interrupts a blocked `epoll_wait` from another thread.
    unparker: mio::Waker,
}

impl Driver {
    /// Creates the epoll instance, the reactor and the timer queue.
    pub(crate) fn new() -> io::Result<Driver> {
        let poll = Poll::new()?;
        let unparker = mio::Waker::new(poll.registry(), UNPARK_TOKEN)?;
        let handle = Arc::new(DriverHandle {
            reactor: Reactor::new(poll.registry().try_clone()?),
            timers: TimerQueue::new(),
            clock: Clock::new(),
            unparker,
        });
        Ok(Driver {
            poll,
            events: Events::with_capacity(EVENTS_PER_POLL),
            expired: Vec::new(),
            handle,
        })
    }

    pub(crate) fn handle(&self) -> &Arc<DriverHandle> {
        &self.handle
    }

    // ANCHOR: park
    /// Waits for I/O, the next timer, or an unpark — at most `max_wait` (`None`: as long as
    /// it takes; `Some(ZERO)`: just look) — then wakes the tasks whose I/O or timers are due.
    pub(crate) fn park(&mut self, max_wait: Option<Duration>) {
        let before = self.handle.clock.now();
        let mut timeout = self.handle.timers.prepare_to_park(before, max_wait);
        // With the clock paused, waiting for a timer would wait for ever (or for real time):
        // just look for I/O, and if there is none, jump to the timer (see `clock.rs`).
        let jump_to = self.auto_advance_target(timeout);
        if jump_to.is_some() {
            timeout = Some(Duration::ZERO);
        }
        // A look (timeout zero) is not a park: only a wait that may block shows in a trace.
        let parked = (timeout != Some(Duration::ZERO)).then(|| trace::park(trace::Park::Driver));
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal interrupted epoll_wait: nothing happened, the caller loops anyway.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => panic!("asincrono: epoll_wait failed, the runtime cannot go on: {err}"),
        }
        drop(parked);
        self.handle.timers.woke_up();
        // One walk over the events: dispatch each, and count them for the trace.
        let cause = trace::cause(trace::Cause::Io); // wakes in `dispatch` are I/O readiness
        let mut io_events = 0;
        for event in self.events.iter() {
            if event.token() != UNPARK_TOKEN {
                self.handle.reactor.dispatch(event);
                io_events += 1;
            }
        }
        drop(cause);
        trace::reactor_events(|| io_events);
        if let Some(deadline) = jump_to.filter(|_| self.events.is_empty()) {
            self.handle.clock.advance_to(deadline);
        }
        let after = self.handle.clock.now();
        self.handle.timers.expire(after, &mut self.expired);
        let _cause = trace::cause(trace::Cause::Timer); // and these are deadlines passing
        for waker in self.expired.drain(..) {
            waker.wake();
        }
    }
    // ANCHOR_END: park
}

impl Driver {
    // ANCHOR: auto_advance_target
    /// The deadline to jump to instead of blocking, if the clock is paused, the caller was
    /// going to block, and a timer is armed.
    fn auto_advance_target(&self, timeout: Option<Duration>) -> Option<Instant> {
        if timeout == Some(Duration::ZERO) || !self.handle.clock.may_auto_advance() {
            return None;
        }
        self.handle.timers.next_deadline()
    }
    // ANCHOR_END: auto_advance_target
}

impl DriverHandle {
    /// Makes a parked `Driver::park` return (from any thread). Cheap if it is not parked:
    /// the next `epoll_wait` simply returns at once.
    pub(crate) fn unpark(&self) {
        trace::unpark();
        // An eventfd write; it can only fail if the eventfd is gone, and then nothing is
        // parked on it.
        let _ = self.unparker.wake();
    }

    /// Whether a thread in `epoll_wait` would be waiting for anything: an armed timer or a
    /// registered I/O source. (With neither, only an unpark could end the wait.)
    pub(crate) fn watches_anything(&self) -> bool {
        !self.timers.is_empty() || !self.reactor.is_empty()
    }

    /// The runtime is going away: fail every I/O waiter and wake every sleeper, so that no
    /// future that outlives the runtime waits for ever. (An I/O operation polled after this
    /// returns an error; a `Sleep` cannot return one, so it panics with a message saying its
    /// runtime has shut down, as tokio's does.)
    pub(crate) fn shutdown(&self) {
        self.reactor.shutdown();
        for waker in self.timers.shutdown() {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_watches_something_while_a_timer_is_armed_or_a_source_registered() {
        let driver = Driver::new().expect("a driver");
        let handle = driver.handle();
        assert!(!handle.watches_anything(), "a new driver watches nothing");

        let deadline = Instant::now() + Duration::from_secs(3600);
        let mut key = None;
        let _ = handle.timers.register(&mut key, deadline, Waker::noop());
        assert!(handle.watches_anything(), "an armed timer is watched");
        handle.timers.cancel(key.expect("armed"), deadline);
        assert!(!handle.watches_anything(), "the timer is gone");

        let mut socket = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let io = handle.reactor.register(&mut socket).expect("registered");
        assert!(handle.watches_anything(), "a registered socket is watched");
        handle.reactor.deregister(&mut socket, &io);
        assert!(!handle.watches_anything(), "the socket is gone");
    }
}
