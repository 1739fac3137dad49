//! [`Command`]: std's `Command` builder, with a [`spawn`](Command::spawn) that puts the
//! child's pipes and its exit on the reactor, and `kill_on_drop`.
//!
//! The process itself is started by std (`fork`/`exec`, or `posix_spawn`, with all the care
//! that takes in a threaded program); only what happens after is asincrono's.

use super::child::Child;
use crate::executor::context;
use std::ffi::OsStr;
use std::future::Future;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{self, ExitStatus, Output, Stdio};

/// A process to start: the program, its arguments, environment, directory and standard
/// streams. Every setter returns `&mut Command`, to chain them, as with std's.
///
/// ```
/// use asincrono::process::Command;
///
/// asincrono::block_on(async {
///     let output = Command::new("echo").arg("hello").output().await.unwrap();
///     assert!(output.status.success());
///     assert_eq!(output.stdout, b"hello\n");
/// });
/// ```
pub struct Command {
    /// std's builder, which does the starting.
    std: process::Command,
    /// Whether a `Child` dropped while its process runs kills it.
    kill_on_drop: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` if it has no `/`), with no
    /// arguments, this process's environment and directory, and inherited standard streams.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(process::Command::new(program))
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets the name the program sees as its own (`argv[0]`).
    pub fn arg0(&mut self, arg0: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg0(arg0);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds afterwards).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's standard input: `Stdio::piped()` gives a [`ChildStdin`](super::ChildStdin)
    /// in `Child::stdin`, `Stdio::null()` an empty input, `Stdio::inherit()` (the default
    /// for `spawn` and `status`) ours.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// Sets the child's standard output (see [`stdin`](Command::stdin)).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// Sets the child's standard error (see [`stdin`](Command::stdin)).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether a [`Child`] dropped while its process runs sends it `SIGKILL` (default: no,
    /// the process carries on, and is reaped when it exits, as in tokio and std).
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The `kill_on_drop` setting.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// Runs the child as user `id`.
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// Runs the child as group `id`.
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// Puts the child in process group `pgroup` (0: a new group of its own).
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// std's builder, to read its settings.
    pub fn as_std(&self) -> &process::Command {
        &self.std
    }

    /// std's builder, for settings this type does not offer.
    pub fn as_std_mut(&mut self) -> &mut process::Command {
        &mut self.std
    }

    /// Gives std's builder back.
    pub fn into_std(self) -> process::Command {
        self.std
    }

    // ANCHOR: spawn
    /// Starts the process. Its piped streams are registered with the current runtime, and
    /// so is what notices its exit (see the [module](super) documentation).
    ///
    /// # Errors
    /// Outside a runtime (checked before anything starts). If the program cannot be started
    /// the error keeps std's kind (`NotFound` for a program that does not exist,
    /// `PermissionDenied` for one that is not executable) and names the program.
    pub fn spawn(&mut self) -> io::Result<Child> {
        let handle = context::current_or_error("asincrono::process::Command::spawn")?;
        let child = self.std.spawn().map_err(|err| {
            let program = self.std.get_program().to_string_lossy();
            io::Error::new(err.kind(), format!("cannot run {program:?}: {err}"))
        })?;
        Child::new(child, self.kill_on_drop, handle)
    }
    // ANCHOR_END: spawn

    /// Starts the process, closes whatever streams were piped, and waits for it to exit.
    /// Streams not set are inherited.
    ///
    /// The process starts when this is called, not when the future is first polled.
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + use<> {
        let child = self.spawn();
        async move {
            let mut child = child?;
            // A child writing to a pipe nobody reads, or reading one nobody writes, would
            // never end: close them all before waiting.
            drop((child.stdin.take(), child.stdout.take(), child.stderr.take()));
            child.wait().await
        }
    }

    /// Starts the process with its stdout and stderr piped, and collects both while waiting
    /// for it to exit. Stdin stays as set (inherited by default, as in tokio; std's `output`
    /// makes it empty).
    ///
    /// The process starts when this is called, not when the future is first polled.
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> + use<> {
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        async move { child?.wait_with_output().await }
    }
}

impl From<process::Command> for Command {
    fn from(std: process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
        }
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
