//! A child process for tests that talk to an example as a program: its stdout read line by
//! line on a thread of its own, so that every wait for a line, or for the exit, has a
//! deadline; killed and reaped when dropped, so that a failing test leaves nothing running.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs this test binary again, as the ignored test `entry` only (whose body, seeing an
/// environment variable the caller sets, becomes the program under test).
pub fn this_test_binary_running(entry: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command.args([
        entry,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    command
}

/// Starts `command`, with a piped stdin if asked.
fn start(mut command: Command, piped_stdin: bool) -> std::process::Child {
    if piped_stdin {
        command.stdin(Stdio::piped());
    }
    command.spawn().expect("start the child process")
}

/// The lines of `output`, read on a thread of their own until it ends or fails.
fn read_lines(output: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    lines
}

/// Sends `signum` to the process `pid` (a child, or this very process).
pub fn send_signal(pid: u32, signum: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("a pid fits");
    // SAFETY: `kill` takes two integers and touches no memory of ours.
    assert_eq!(
        unsafe { libc::kill(pid, signum) },
        0,
        "kill({pid}, {signum})"
    );
}

/// A running child, its stdout as lines.
pub struct Child {
    process: std::process::Child,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    pub seen: Vec<String>,
}

impl Child {
    /// Starts `command` with its stdout piped (and stdin too, if `piped_stdin`).
    pub fn spawn(mut command: Command, piped_stdin: bool) -> Child {
        command.stdout(Stdio::piped());
        let mut process = start(command, piped_stdin);
        let stdout = process.stdout.take().expect("piped");
        Child {
            process,
            lines: read_lines(stdout),
            seen: Vec::new(),
        }
    }

    /// Starts `command`, whose stdout the caller has already set, and reads its lines from
    /// `output`, the other end of that stdout (a pseudo-terminal's master, say).
    pub fn spawn_reading(
        command: Command,
        piped_stdin: bool,
        output: impl Read + Send + 'static,
    ) -> Child {
        Child {
            process: start(command, piped_stdin),
            lines: read_lines(output),
            seen: Vec::new(),
        }
    }

    pub fn id(&self) -> u32 {
        self.process.id()
    }

    /// Sends `signum` to the child.
    pub fn signal(&self, signum: libc::c_int) {
        let pid = libc::pid_t::try_from(self.id()).expect("a pid fits");
        // SAFETY: `kill` takes two integers and touches no memory of ours.
        assert_eq!(
            unsafe { libc::kill(pid, signum) },
            0,
            "kill({pid}, {signum})"
        );
    }

    /// Writes `line` and a newline to the child's stdin.
    pub fn send_line(&mut self, line: &str) {
        self.send_bytes(format!("{line}\n").as_bytes());
    }

    /// Writes `bytes` to the child's stdin, as they are.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin();
        stdin.write_all(bytes).expect("write to the child's stdin");
        stdin.flush().expect("flush the child's stdin");
    }

    fn stdin(&mut self) -> &mut ChildStdin {
        self.process
            .stdin
            .as_mut()
            .expect("a piped stdin, not closed yet")
    }

    /// Closes the child's stdin: it reads the end of its input.
    pub fn close_stdin(&mut self) {
        drop(self.process.stdin.take());
    }

    /// Waits at most `limit` for a line containing `needle`; returns it. Lines before it
    /// are kept in `seen` and skipped.
    pub fn expect_line(&mut self, needle: &str, limit: Duration) -> String {
        self.expect_line_where(&format!("line with {needle:?}"), limit, |line| {
            line.contains(needle)
        })
    }

    /// Waits at most `limit` for a line that `wanted` accepts (`what` names it, as in
    /// "line with …", for the failure message); returns it. Lines before it are kept in `seen` and skipped.
    pub fn expect_line_where(
        &mut self,
        what: &str,
        limit: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "no {what} within {limit:?}; the child said {:#?}",
                    self.seen
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                    "the child closed its stdout before any {what}; it said {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Waits at most `limit` for the child to exit.
    pub fn exit_status(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.process.try_wait().expect("try_wait") {
                return status;
            }
            // Nothing to wait on but the process itself: look again shortly.
            assert!(
                Instant::now() < deadline,
                "the child did not exit within {limit:?}; it said {:#?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
