//! Child processes: [`Command`] starts one, [`Child`] waits for it, kills it, and holds its
//! piped standard streams ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`]) as async I/O.
//! Exit statuses and collected output are std's types (`std::process::{ExitStatus, Output,
//! Stdio}`), as in tokio.
//!
//! | file | what it holds |
//! |---|---|
//! | `command.rs` | the builder over std's `Command`, `spawn`, `status`, `output` |
//! | `child.rs` | `Child`: `wait`, `try_wait`, `kill`, `wait_with_output`, reaping on drop |
//! | `pipes.rs` | the three pipe ends, non-blocking on the reactor |
//! | `exit.rs` | how the exit is noticed: a pidfd, or a blocking-pool thread |
//! | `sys.rs` | the two system calls std lacks (`pidfd_open`, `waitid`), and all the `unsafe` |
//!
//! # How the exit is noticed, and what it costs
//!
//! The kernel keeps an exited child as a *zombie* (its pid and status) until the parent
//! *reaps* it with `waitpid`. A runtime must learn when to reap, without a thread blocked in
//! `waitpid` per child if it can help it:
//!
//! - **A pidfd, first.** `pidfd_open(pid)` (Linux 5.3 and later) returns a file descriptor
//!   that becomes readable when the child exits. asincrono registers it with the reactor, so
//!   a child costs one descriptor, and its exit wakes the task in `wait` straight out of
//!   `epoll_wait`. Then std's `try_wait` reaps it.
//! - **The blocking pool, if there is no pidfd** (an older kernel, a sandbox that forbids the
//!   call): a pool thread waits in `waitid(…, WNOWAIT)`, which returns at the exit without
//!   reaping, and `try_wait` reaps as before. That is a thread for each running child, and a
//!   runtime dropped while children run waits for those threads up to its shutdown timeout.
//!
//! Both leave the reaping to std's `try_wait`, on the task's side: until then the zombie keeps
//! the pid, so `kill` can never reach another process that was given the same number.
//!
//! tokio, by default, installs a `SIGCHLD` handler (through its signal driver) and on each
//! `SIGCHLD` calls `try_wait` on every child it is waiting for, since one signal may stand
//! for several exits; children dropped before they exit go on an *orphan queue* that is
//! looked at on each `SIGCHLD` too. A pidfd is what tokio uses under an unstable feature.
//!
//! Corners cut: Unix only (Linux's pidfd); no `pre_exec`; pipes cannot be turned back into
//! std ones. A `Child` dropped before it exits is reaped by a small task on the runtime it
//! was spawned on (with `kill_on_drop`, after `SIGKILL`); if that runtime is gone by then,
//! nobody reaps it until this process ends.

mod child;
mod command;
mod exit;
mod pipes;
mod sys;

pub use child::Child;
pub use command::Command;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
