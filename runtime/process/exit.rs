//! How a child's exit is noticed: a pidfd on the reactor, or a blocking-pool thread.
//!
//! Both only *notice* the exit and leave the child unreaped (a zombie, holding its pid);
//! std's `Child::try_wait` then reaps it and reads its status. So between noticing and
//! reaping, the pid cannot go to another process, and `kill` can never hit a stranger.
//!
//! - **pidfd** (Linux 5.3 and later): `pidfd_open(pid)` gives a file descriptor that turns
//!   readable when the child exits. It is registered with the reactor like a socket, so
//!   waiting costs one descriptor and no thread: the exit wakes the waiting task out of
//!   `epoll_wait` directly.
//! - **the blocking pool**, when `pidfd_open` fails (an older kernel, or a sandbox that
//!   forbids it): a pool thread sits in `waitid(WNOWAIT)` until the child exits. That costs a
//!   thread per running child, and a runtime that shuts down waits (up to its shutdown
//!   timeout) for those threads.
//!
//! tokio, by default, listens for `SIGCHLD` and on each one calls `try_wait` on every child
//! it has (cheap per child, but each exit costs a look at all of them), with an "orphan queue"
//! for children dropped before they were reaped; with its unstable pidfd feature it does what
//! this file does first.

use super::sys;
use crate::blocking::Mandatory;
use crate::driver::Direction;
use crate::executor::context::Handle;
use crate::net::registered::Registered;
use crate::task::JoinHandle;
use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::process::{self, ExitStatus};
use std::task::{Context, Poll, ready};

/// Watches one child for its exit.
pub(crate) enum ExitWatch {
    /// Readable once the child has exited.
    PidFd(Registered<PidFd>),
    /// A pool job that returns once the child has exited; `None` once it has.
    Pool(Option<JoinHandle<io::Result<()>>>),
}

/// A pidfd as a mio source, so that the reactor can watch it.
pub(crate) struct PidFd(OwnedFd);

impl ExitWatch {
    /// A pidfd for `pid` on `handle`'s reactor if the kernel gives one, else a pool thread.
    pub(crate) fn new(pid: u32, handle: &Handle) -> ExitWatch {
        let on_reactor = sys::pidfd_open(pid)
            .and_then(|fd| Registered::new(PidFd(fd), "asincrono::process::Command::spawn"));
        match on_reactor {
            Ok(pidfd) => ExitWatch::PidFd(pidfd),
            Err(_) => ExitWatch::on_pool(pid, handle),
        }
    }

    /// The fallback: a pool thread in `waitid(WNOWAIT)`.
    pub(crate) fn on_pool(pid: u32, handle: &Handle) -> ExitWatch {
        let job = handle.spawn_blocking(Mandatory::No, move || sys::wait_for_exit_unreaped(pid));
        ExitWatch::Pool(Some(job))
    }

    // ANCHOR: poll_exit
    /// `Ready` with `child`'s status once it has exited (and is reaped, by std), else
    /// `Pending` with the waker on the pidfd or on the pool job.
    pub(crate) fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        child: &mut process::Child,
    ) -> Poll<io::Result<ExitStatus>> {
        match self {
            // The pidfd's readiness says "exited"; `try_wait` reaps. `None` means the event was
            // stale (a spurious wake-up), so it counts as `WouldBlock`: wait for the next.
            ExitWatch::PidFd(pidfd) => pidfd.poll_io(cx, Direction::Read, |_| {
                child
                    .try_wait()?
                    .ok_or_else(|| io::ErrorKind::WouldBlock.into())
            }),
            ExitWatch::Pool(job) => {
                if let Some(running) = job {
                    let outcome = ready!(Pin::new(running).poll(cx));
                    *job = None;
                    outcome.map_err(io::Error::other)??;
                }
                // `waitid` said the child has exited, so reaping it cannot wait.
                Poll::Ready(child.try_wait()?.ok_or_else(|| {
                    io::Error::other("waitid reported an exit that waitpid does not see")
                }))
            }
        }
    }
    // ANCHOR_END: poll_exit
}

impl Source for PidFd {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).register(registry, token, interest)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interest)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::ExitWatch;
    use crate::executor::context;
    use std::future::poll_fn;
    use std::process::Command;

    /// Runs `sh -c 'exit 5'` and waits for it through the watch `make` builds.
    fn exit_code_through(make: fn(u32, &context::Handle) -> ExitWatch) -> (bool, Option<i32>) {
        crate::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let mut child = Command::new("sh").args(["-c", "exit 5"]).spawn().unwrap();
                let handle = context::current("test");
                let mut watch = make(child.id(), &handle);
                let on_pidfd = matches!(watch, ExitWatch::PidFd(_));
                let status = poll_fn(|cx| watch.poll_exit(cx, &mut child)).await.unwrap();
                (on_pidfd, status.code())
            })
    }

    #[test]
    fn the_exit_is_seen_through_a_pidfd_where_the_kernel_has_them() {
        let (on_pidfd, code) = exit_code_through(ExitWatch::new);
        assert_eq!(code, Some(5));
        // Linux 5.3 and later; a sandbox may still refuse the call, and then the pool is used.
        if !on_pidfd {
            eprintln!("note: no pidfd here, the blocking pool was used");
        }
    }

    #[test]
    fn the_exit_is_seen_from_the_blocking_pool_without_a_pidfd() {
        let (on_pidfd, code) = exit_code_through(ExitWatch::on_pool);
        assert!(!on_pidfd);
        assert_eq!(code, Some(5));
    }
}
