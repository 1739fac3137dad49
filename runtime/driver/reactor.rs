//! The reactor: turns "this socket is ready" (from epoll, via mio) into "wake that task".
//!
//! Every socket the runtime uses is registered once, for both reading and writing, under a
//! [`mio::Token`] that is its index in a [`Slab`]. The slab entry, a [`ScheduledIo`], remembers
//! the readiness the kernel last reported and the wakers of the tasks waiting to read and to
//! write. When the driver gets an event for a token, it sets the readiness bits and wakes
//! those tasks ([`Reactor::dispatch`]).
//!
//! **mio is edge-triggered.** epoll tells us when a socket *becomes* readable, once; it does
//! not tell us again while it stays readable. So the I/O types never wait first and read
//! second: they try the syscall, and only when the kernel answers `WouldBlock` do they clear
//! the readiness and wait (`Registered::poll_io`, in `net/registered.rs`). A reader that stopped early (say after
//! one short read) and waited for a new event would wait forever: no new edge would come.
//!
//! What a production runtime does instead: tokio packs readiness and a tick into one atomic
//! and keeps the waiters in an intrusive linked list inside the futures themselves, so no
//! allocation and no lock is needed. asincrono keeps a small list of reader wakers and one of
//! writer wakers behind a mutex: several tasks may wait on one socket (two tasks calling
//! `recv` on a shared `UdpSocket`, say), and an event wakes every waiter in its direction.

use crate::util::lock;
use mio::event::{Event, Source};
use mio::{Interest, Registry, Token};
use slab::Slab;
use std::io;
use std::mem::take;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

// ANCHOR: readiness_bits
/// Readiness bits, as last reported by the kernel (`io::Ready` shows the same bits to users).
pub(crate) const READABLE: u8 = 1 << 0;
pub(crate) const WRITABLE: u8 = 1 << 1;
pub(crate) const READ_CLOSED: u8 = 1 << 2;
pub(crate) const WRITE_CLOSED: u8 = 1 << 3;
pub(crate) const ERROR: u8 = 1 << 4;
// ANCHOR_END: readiness_bits

/// Which half of a socket an operation waits on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction proceed: a closed or
    /// failed socket counts as ready, so the syscall runs and reports EOF or the error.
    pub(crate) fn mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

/// Every I/O registration of one runtime.
pub(crate) struct Reactor {
    /// Where sources are registered with epoll (a clone of the `mio::Poll`'s registry, so
    /// that any thread can register while another is blocked in `epoll_wait`).
    registry: Registry,
    /// The live registrations; the slab index is the mio `Token`.
    resources: Mutex<Resources>,
}

struct Resources {
    slab: Slab<Arc<ScheduledIo>>,
    /// Set when the runtime shuts down: no new registrations after that.
    shut_down: bool,
}

/// The readiness and the waiters of one registered source.
pub(crate) struct ScheduledIo {
    /// The slab index, which is also the mio token.
    key: usize,
    state: Mutex<IoState>,
}

struct IoState {
    /// Readiness bits not yet consumed by a `WouldBlock`.
    ready: u8,
    /// Counts events; lets `clear_readiness` tell whether a new event arrived since the
    /// readiness it wants to clear was read (see [`ReadyEvent`]).
    tick: u32,
    /// The tasks waiting to read.
    readers: Waiters,
    /// The tasks waiting to write.
    writers: Waiters,
    /// The runtime is gone: every wait ends with an error.
    shut_down: bool,
}

/// The tasks waiting on one direction of one socket.
///
/// Nearly always none or one, so the first waiter is kept inline and only further ones go in
/// a `Vec`: waiting on a socket costs no allocation in the common case (a test counts).
#[derive(Default)]
struct Waiters {
    first: Option<Waker>,
    others: Vec<Waker>,
}

impl Waiters {
    /// Adds `waker`, unless it would wake a task already waiting (a task polled twice
    /// before the event keeps one entry).
    fn register(&mut self, waker: &Waker) {
        if self
            .first
            .iter()
            .chain(&self.others)
            .any(|waiting| waiting.will_wake(waker))
        {
            return;
        }
        match self.first {
            None => self.first = Some(waker.clone()),
            Some(_) => self.others.push(waker.clone()),
        }
    }

    fn wake_all(self) {
        self.first
            .into_iter()
            .chain(self.others)
            .for_each(Waker::wake);
    }
}

/// Readiness handed to an I/O operation, stamped with the tick at which it was read.
///
/// The race it closes: a task reads readiness, tries `read`, gets `WouldBlock` — and between
/// the syscall and clearing the bit, the driver on another thread stores a *new* event. A
/// blind clear would erase that event and the task would sleep forever. So a clear only
/// applies if the tick is unchanged.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    tick: u32,
    ready: u8,
}

impl ReadyEvent {
    /// The readiness bits it carries (those of its direction only).
    pub(crate) fn bits(self) -> u8 {
        self.ready
    }
}

impl Reactor {
    pub(crate) fn new(registry: Registry) -> Reactor {
        Reactor {
            registry,
            resources: Mutex::new(Resources {
                slab: Slab::new(),
                shut_down: false,
            }),
        }
    }

    /// Registers `source` for both reading and writing (edge-triggered).
    pub(crate) fn register(&self, source: &mut impl Source) -> io::Result<Arc<ScheduledIo>> {
        let io = {
            let mut resources = lock(&self.resources);
            if resources.shut_down {
                return Err(runtime_gone());
            }
            let entry = resources.slab.vacant_entry();
            let io = Arc::new(ScheduledIo::new(entry.key()));
            entry.insert(io.clone());
            io
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(err) = self.registry.register(source, Token(io.key), interest) {
            lock(&self.resources).slab.try_remove(io.key);
            return Err(err);
        }
        Ok(io)
    }

    /// Removes a registration. The slot (and token) may then be reused by a new source; an
    /// event for the old source still in flight at that moment is delivered to the new one as
    /// a spurious readiness, which is harmless: its next syscall just says `WouldBlock`.
    pub(crate) fn deregister(&self, source: &mut impl Source, io: &ScheduledIo) {
        // Fails only if the epoll instance is gone, which deregisters everything anyway.
        let _ = self.registry.deregister(source);
        lock(&self.resources).slab.try_remove(io.key);
    }

    /// Whether no I/O source is registered: then no event can come but an unpark.
    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.resources).slab.is_empty()
    }

    /// Called by the driver for each event epoll returned.
    pub(crate) fn dispatch(&self, event: &Event) {
        let io = lock(&self.resources).slab.get(event.token().0).cloned();
        if let Some(io) = io {
            io.set_readiness(readiness_of(event));
        }
    }

    /// The runtime is going away: fail every waiter, refuse new registrations.
    pub(crate) fn shutdown(&self) {
        let all: Vec<Arc<ScheduledIo>> = {
            let mut resources = lock(&self.resources);
            resources.shut_down = true;
            resources.slab.iter().map(|(_, io)| io.clone()).collect()
        };
        for io in all {
            io.shut_down();
        }
    }
}

/// The readiness bits of a mio event.
fn readiness_of(event: &Event) -> u8 {
    let mut ready = 0;
    if event.is_readable() {
        ready |= READABLE;
    }
    if event.is_writable() {
        ready |= WRITABLE;
    }
    if event.is_read_closed() {
        ready |= READ_CLOSED;
    }
    if event.is_write_closed() {
        ready |= WRITE_CLOSED;
    }
    if event.is_error() {
        ready |= ERROR;
    }
    ready
}

/// The error an I/O operation gets once its runtime has shut down.
fn runtime_gone() -> io::Error {
    io::Error::other("the asincrono runtime that owns this I/O resource has shut down")
}

impl ScheduledIo {
    fn new(key: usize) -> ScheduledIo {
        ScheduledIo {
            key,
            state: Mutex::new(IoState {
                ready: 0,
                tick: 0,
                readers: Waiters::default(),
                writers: Waiters::default(),
                shut_down: false,
            }),
        }
    }

    // ANCHOR: set_readiness
    /// Stores new readiness and wakes the waiters it concerns.
    fn set_readiness(&self, ready: u8) {
        let (readers, writers) = {
            let mut state = lock(&self.state);
            state.ready |= ready;
            state.tick = state.tick.wrapping_add(1);
            let readers = if ready & Direction::Read.mask() != 0 {
                take(&mut state.readers)
            } else {
                Waiters::default()
            };
            let writers = if ready & Direction::Write.mask() != 0 {
                take(&mut state.writers)
            } else {
                Waiters::default()
            };
            (readers, writers)
        };
        // Woken after the lock is released: a waker may run arbitrary code.
        readers.wake_all();
        writers.wake_all();
    }
    // ANCHOR_END: set_readiness

    fn shut_down(&self) {
        let (readers, writers) = {
            let mut state = lock(&self.state);
            state.shut_down = true;
            (take(&mut state.readers), take(&mut state.writers))
        };
        readers.wake_all();
        writers.wake_all();
    }

    // ANCHOR: poll_ready
    /// Ready with the current readiness for `direction`, or `Pending` with the task's waker
    /// stored, to be woken by the next event for that direction.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let mut state = lock(&self.state);
        if state.shut_down {
            return Poll::Ready(Err(runtime_gone()));
        }
        let ready = state.ready & direction.mask();
        if ready != 0 {
            return Poll::Ready(Ok(ReadyEvent {
                tick: state.tick,
                ready,
            }));
        }
        // Waker contract: we return Pending, so the waker must be where the driver will find
        // it. It is stored under the same lock `set_readiness` takes, so an event cannot slip
        // in between our check above and this store.
        let waiters = match direction {
            Direction::Read => &mut state.readers,
            Direction::Write => &mut state.writers,
        };
        waiters.register(cx.waker());
        Poll::Pending
    }
    // ANCHOR_END: poll_ready

    /// Records `ready` as if the kernel had reported it, before any event came: a socket
    /// known to be ready at birth (freshly accepted, one of a new pair) is then tried at once
    /// instead of after the driver's first turn. Wrong guesses cost one `WouldBlock`.
    pub(crate) fn assume_ready(&self, ready: u8) {
        lock(&self.state).ready |= ready;
    }

    /// The readiness for `direction` as it is now, without waiting and without storing a
    /// waker: for the `try_*` operations, which must not leave a waker behind.
    pub(crate) fn ready_now(&self, direction: Direction) -> io::Result<Option<ReadyEvent>> {
        let state = lock(&self.state);
        if state.shut_down {
            return Err(runtime_gone());
        }
        let ready = state.ready & direction.mask();
        Ok((ready != 0).then_some(ReadyEvent {
            tick: state.tick,
            ready,
        }))
    }

    // ANCHOR: clear_readiness
    /// The syscall said `WouldBlock`: forget the readiness it was tried with — unless an
    /// event arrived since (the tick moved), which must not be lost. Closed and error bits
    /// are final and never cleared.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let mut state = lock(&self.state);
        if state.tick == event.tick {
            state.ready &= !(event.ready & (READABLE | WRITABLE));
        }
    }
    // ANCHOR_END: clear_readiness
}
