//! [`Child`]: a running child process, its pipes, and its exit.
//!
//! The exit is noticed by `exit.rs` (a pidfd, or a pool thread) and the child reaped by
//! std's `try_wait`. A `Child` dropped before its exit was seen is handed to a small task on
//! its runtime that waits for the exit and reaps it (after killing it first, with
//! `kill_on_drop`), so that no zombie is left behind; tokio keeps such children on an
//! "orphan queue" that it looks at on each `SIGCHLD`. If that runtime has already shut down,
//! the child is reaped by nobody until this process ends.

use super::exit::ExitWatch;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use crate::executor::context::Handle;
use crate::io::AsyncReadExt;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::process::{self, ExitStatus, Output};
use std::task::{Context, Poll};

/// A child process started by [`Command::spawn`](super::Command::spawn).
///
/// The pipes asked for with `Stdio::piped()` are in the public fields, to be taken (with
/// `take()`) and used on their own. Dropping a `Child` does not kill it unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set; either way it is reaped once it
/// exits.
pub struct Child {
    /// The child's standard input, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// Running (with what it takes to notice its exit), or exited with a status.
    state: State,
}

enum State {
    Running(Running),
    Exited(ExitStatus),
    /// Only while `Drop` moves the running child out.
    Gone,
}

/// A child not yet reaped.
struct Running {
    /// std's handle: its pid, `kill`, and `try_wait`, which reaps.
    std: process::Child,
    /// What tells us the child has exited.
    exit: ExitWatch,
    /// Kill it if the `Child` is dropped while it runs.
    kill_on_drop: bool,
    /// The runtime it was spawned on, where a dropped child is reaped.
    handle: Handle,
}

impl Child {
    /// Wraps a just-spawned std child: its pipes go on the reactor, its exit gets watched.
    /// If that fails, the child is killed and reaped before the error is returned, so that a
    /// failed `spawn` leaves no process behind.
    pub(crate) fn new(
        mut std: process::Child,
        kill_on_drop: bool,
        handle: Handle,
    ) -> io::Result<Child> {
        let pipes = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        let registered = (|| {
            Ok::<_, io::Error>((
                pipes.0.map(ChildStdin::from_std).transpose()?,
                pipes.1.map(ChildStdout::from_std).transpose()?,
                pipes.2.map(ChildStderr::from_std).transpose()?,
            ))
        })();
        let (stdin, stdout, stderr) = match registered {
            Ok(pipes) => pipes,
            Err(err) => {
                let _ = std.kill();
                let _ = std.wait(); // killed: returns as soon as the kernel is done with it
                return Err(err);
            }
        };
        let exit = ExitWatch::new(std.id(), &handle);
        Ok(Child {
            stdin,
            stdout,
            stderr,
            state: State::Running(Running {
                std,
                exit,
                kill_on_drop,
                handle,
            }),
        })
    }

    /// The child's process id, or `None` once it has been reaped (its number may then belong
    /// to another process).
    pub fn id(&self) -> Option<u32> {
        match &self.state {
            State::Running(running) => Some(running.std.id()),
            _ => None,
        }
    }

    /// Sends `SIGKILL` without waiting for the child to die; [`wait`](Child::wait) (or
    /// dropping the `Child`) reaps it.
    ///
    /// # Errors
    /// If the child has already been reaped, or if `kill(2)` fails.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Running(running) => running.std.kill(),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot kill a child process that has already exited and been waited for",
            )),
        }
    }

    /// Sends `SIGKILL` and waits for the child to end.
    ///
    /// # Errors
    /// As [`start_kill`](Child::start_kill) and [`wait`](Child::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Waits for the child to exit and returns its status. Closes `stdin` first (a child
    /// waiting for the end of its input would otherwise never exit).
    ///
    /// Cancel-safe: dropping the future loses nothing, and the next `wait` picks up.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let status = match &mut self.state {
            State::Exited(status) => return Poll::Ready(Ok(*status)),
            State::Running(running) => {
                std::task::ready!(running.exit.poll_exit(cx, &mut running.std))?
            }
            State::Gone => unreachable!("only `Drop` leaves a child gone"),
        };
        self.state = State::Exited(status);
        Poll::Ready(Ok(status))
    }

    /// The child's status if it has exited (then it is reaped), `None` if it still runs.
    /// Never waits.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let status = match &mut self.state {
            State::Exited(status) => return Ok(Some(*status)),
            State::Running(running) => running.std.try_wait()?,
            State::Gone => unreachable!("only `Drop` leaves a child gone"),
        };
        if let Some(status) = status {
            self.state = State::Exited(status);
        }
        Ok(status)
    }

    /// Waits for the child to exit while reading all of its piped stdout and stderr (at the
    /// same time: a child blocked writing to a full stderr pipe would never finish its
    /// stdout). Streams that were not piped come back empty.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        let (mut stdout, mut stderr) = (self.stdout.take(), self.stderr.take());
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (status, _, _) = crate::try_join!(
            self.wait(),
            read_all(stdout.as_mut(), &mut out),
            read_all(stderr.as_mut(), &mut err),
        )?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }
}

/// Reads `pipe` to its end into `into`; nothing if there is no pipe.
async fn read_all<R: crate::io::AsyncRead + Unpin>(
    pipe: Option<&mut R>,
    into: &mut Vec<u8>,
) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read_to_end(into).await,
        None => Ok(0),
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let State::Running(mut running) = std::mem::replace(&mut self.state, State::Gone) else {
            return;
        };
        if running.kill_on_drop {
            let _ = running.std.kill();
        }
        if let Ok(Some(_)) = running.std.try_wait() {
            return; // already over, and now reaped
        }
        // Still running (or dying): a task reaps it when it exits. Its `JoinHandle` is dropped,
        // which detaches it.
        let handle = running.handle.clone();
        drop(handle.spawn(async move {
            let Running {
                mut std, mut exit, ..
            } = running;
            let _ = poll_fn(|cx| exit.poll_exit(cx, &mut std)).await;
        }));
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.id())
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}
