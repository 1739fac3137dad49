//! `asincrono::process`: output and exit codes, pipes both ways (through `cat`, larger than a
//! pipe's buffer), a program that does not exist, `kill` in the middle of a stream (ours, or
//! a signal from outside),
//! `kill_on_drop` and dropped children leaving no zombie behind (checked in `/proc`), and
//! many children at once, on both scheduler flavours.

mod common;

use asincrono::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use asincrono::process::Command;
use asincrono::time;
use common::{TEST_DEADLINE, on_each_flavour};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn output_captures_stdout_and_stderr_and_the_exit_code() {
    on_each_flavour(|| async {
        let output = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .output()
            .await
            .expect("run sh");
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
    });
}

#[test]
fn status_reports_exit_codes_and_signals() {
    on_each_flavour(|| async {
        assert!(Command::new("true").status().await.expect("true").success());
        let seven = Command::new("sh").args(["-c", "exit 7"]).status().await;
        assert_eq!(seven.expect("sh").code(), Some(7));
        let killed = Command::new("sh")
            .args(["-c", "kill -TERM $$"])
            .status()
            .await;
        assert_eq!(killed.expect("sh").signal(), Some(libc::SIGTERM));
    });
}

#[test]
fn environment_and_directory_reach_the_child() {
    on_each_flavour(|| async {
        let output = Command::new("sh")
            .args(["-c", "echo \"$GREETING:$HOME\"; pwd"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs([("GREETING", "hi")])
            .env("HOME", "gone")
            .env_remove("HOME")
            .current_dir("/")
            .output()
            .await
            .expect("run sh");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "hi:\n/\n");
    });
}

#[test]
fn piped_stdin_comes_back_through_cat_even_past_the_pipe_buffer() {
    on_each_flavour(|| async {
        // 1 MiB: far more than a pipe holds (64 KiB), so writing and reading must overlap.
        let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run cat");
        let mut stdin = cat.stdin.take().expect("piped");
        let sent = data.clone();
        let writer = asincrono::spawn(async move {
            stdin.write_all(&sent).await.expect("write to cat");
            // Dropping stdin closes it: cat sees the end of its input.
        });
        let mut back = Vec::new();
        let mut stdout = cat.stdout.take().expect("piped");
        stdout.read_to_end(&mut back).await.expect("read from cat");
        writer.await.expect("the writer");
        assert!(
            back == data,
            "{} bytes came back of {}",
            back.len(),
            data.len()
        );
        assert!(cat.wait().await.expect("wait").success());
    });
}

#[test]
fn wait_closes_stdin_first_so_a_child_reading_it_can_end() {
    on_each_flavour(|| async {
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("run cat");
        let status = time::timeout(TEST_DEADLINE, cat.wait()).await;
        assert!(status.expect("cat ended").expect("wait").success());
        assert!(cat.stdin.is_none());
    });
}

#[test]
fn wait_with_output_reads_both_streams_at_once() {
    on_each_flavour(|| async {
        // 200 KB on each: a child blocked on a full stderr would never finish its stdout.
        let script = "head -c 200000 /dev/zero; head -c 200000 /dev/zero >&2";
        let output = Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run sh")
            .wait_with_output()
            .await
            .expect("wait_with_output");
        assert!(output.status.success());
        assert_eq!(
            (output.stdout.len(), output.stderr.len()),
            (200_000, 200_000)
        );
    });
}

#[test]
fn a_program_that_does_not_exist_is_not_found_by_name() {
    on_each_flavour(|| async {
        let err = Command::new("no-such-program-asincrono")
            .spawn()
            .expect_err("there is no such program");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains("no-such-program-asincrono"),
            "{err}"
        );
        let err = Command::new("/").status().await.expect_err("a directory");
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
    });
}

#[test]
fn spawning_outside_a_runtime_is_an_error_and_starts_nothing() {
    let err = Command::new("true").spawn().expect_err("no runtime");
    assert!(err.to_string().contains("runtime"), "{err}");
}

#[test]
fn kill_in_the_middle_of_a_stream_ends_the_child_and_the_stream() {
    on_each_flavour(|| async {
        let mut yes = Command::new("yes")
            .stdout(Stdio::piped())
            .spawn()
            .expect("run yes");
        let mut lines = BufReader::new(yes.stdout.take().expect("piped")).lines();
        for _ in 0..100 {
            assert_eq!(lines.next_line().await.expect("read").as_deref(), Some("y"));
        }
        let pid = yes.id().expect("running");
        assert!(
            yes.try_wait().expect("try_wait").is_none(),
            "yes never ends"
        );
        yes.kill().await.expect("kill");
        assert_eq!(
            yes.try_wait().expect("try_wait").and_then(|s| s.signal()),
            Some(9)
        );
        assert_eq!(yes.id(), None, "reaped: the pid is no longer ours");
        assert!(!is_alive(pid));
        // What was in the pipe can still be read; then the stream ends.
        while let Some(line) = lines.next_line().await.expect("read") {
            assert!(line.starts_with('y'), "{line:?}");
        }
        let err = yes.start_kill().expect_err("already reaped");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn a_child_killed_by_someone_else_mid_stream_ends_its_stream_and_wait_names_the_signal() {
    on_each_flavour(|| async {
        let mut yes = Command::new("yes")
            .stdout(Stdio::piped())
            .spawn()
            .expect("run yes");
        let pid = yes.id().expect("running");
        let mut lines = BufReader::new(yes.stdout.take().expect("piped")).lines();
        assert_eq!(lines.next_line().await.expect("read").as_deref(), Some("y"));
        // Not `kill()`: the signal comes from outside, as from a user's `kill PID`.
        common::child::send_signal(pid, libc::SIGTERM);
        // What was in the pipe is read, then the stream ends: no hang.
        let drained = time::timeout(TEST_DEADLINE, async {
            while let Some(line) = lines.next_line().await? {
                assert!(line.starts_with('y'), "{line:?}");
            }
            io::Result::Ok(())
        });
        drained.await.expect("the stream ends").expect("read");
        let status = time::timeout(TEST_DEADLINE, yes.wait())
            .await
            .expect("wait returns")
            .expect("wait");
        assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
        assert_eq!(status.code(), None, "killed, not exited");
        assert!(!status.success());
        gone_from_proc(pid).await;
    });
}

#[test]
fn kill_on_drop_kills_and_reaps_no_zombie_left() {
    on_each_flavour(|| async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .expect("run sleep");
        let pid = child.id().expect("running");
        assert!(is_alive(pid));
        drop(child);
        gone_from_proc(pid).await;
    });
}

#[test]
fn a_dropped_child_runs_on_and_is_reaped_when_it_exits() {
    on_each_flavour(|| async {
        let mut child = Command::new("sh")
            .args(["-c", "read line; echo \"$line\""])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run sh");
        let pid = child.id().expect("running");
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        drop(child); // no kill_on_drop: it carries on
        stdin.write_all(b"still here\n").await.expect("write");
        let mut said = String::new();
        stdout.read_to_string(&mut said).await.expect("read");
        assert_eq!(said, "still here\n");
        gone_from_proc(pid).await;
    });
}

#[test]
fn many_children_at_once() {
    on_each_flavour(|| async {
        let started = Instant::now();
        let children: Vec<_> = (0..50)
            .map(|i| {
                asincrono::spawn(async move {
                    let script = format!("sleep 0.2; echo {i}");
                    let out = Command::new("sh").args(["-c", &script]).output().await;
                    (i, out.expect("run sh"))
                })
            })
            .collect();
        for child in children {
            let (i, output) = child.await.expect("the task ran");
            assert!(output.status.success());
            assert_eq!(String::from_utf8_lossy(&output.stdout), format!("{i}\n"));
        }
        // Fifty 0.2 s sleeps one after another would take 10 s.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "they ran at once"
        );
    });
}

/// Whether `pid` exists at all (running, or a zombie nobody reaped).
fn is_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits (at most `TEST_DEADLINE`) until `pid` has left `/proc`, which happens only once it
/// has been reaped: a zombie stays there in state `Z`. The reaping is done by a task of the
/// runtime, so this yields to it between looks (there is nothing else to wait on).
async fn gone_from_proc(pid: u32) {
    let deadline = Instant::now() + TEST_DEADLINE;
    while is_alive(pid) {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(Instant::now() < deadline, "pid {pid} still there: {state}");
        time::sleep(Duration::from_millis(5)).await;
    }
}
