//! Reference answers to the chapter exercises that ask for a test ("your test" in the book's
//! appendix "How to check each exercise"). Each test is named after its chapter and
//! exercise, and asserts what the exercise says the runtime does, so `cargo test` keeps
//! the exercises true as the runtime changes: an exercise whose claim stops holding fails
//! here, not in a reader's hands. Write your own first; then compare, and run yours and
//! these under the change the exercise names (they must fail, or hang until the watchdog
//! in `tests/common/mod.rs` reports it).

mod common;

use asincrono::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, ReadBuf};
use asincrono::net::UnixStream;
use asincrono::task::yield_now;
use asincrono::time::{sleep, timeout};
use common::{TEST_DEADLINE, on_each_flavour, within};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

/// Chapter 1, exercise 1: pending until polled `remaining` more times, waking itself first.
struct Countdown {
    remaining: u32,
    polls: Arc<AtomicUsize>,
}

impl Future for Countdown {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.remaining == 0 {
            return Poll::Ready(());
        }
        self.remaining -= 1;
        cx.waker().wake_by_ref(); // delete this line: the task is never polled again
        Poll::Pending
    }
}

#[test]
fn ch01_1_countdown_5_is_polled_exactly_six_times() {
    on_each_flavour(|| async {
        let polls = Arc::new(AtomicUsize::new(0));
        Countdown {
            remaining: 5,
            polls: polls.clone(),
        }
        .await;
        assert_eq!(polls.load(Ordering::SeqCst), 6);
    });
}

#[test]
fn ch01_2_a_buffer_held_across_an_await_is_stored_in_the_future() {
    let held = async {
        let mut buffer = [0u8; 4096];
        buffer.fill(1);
        asincrono::task::yield_now().await;
        buffer.iter().map(|&b| b as u32).sum::<u32>()
    };
    let dropped = async {
        // The block ends the buffer's scope before the await; a `drop(buffer)` would not
        // (an array of `u8` is `Copy`, and a variable's storage lasts to its scope's end).
        let sum = {
            let mut buffer = [0u8; 4096];
            buffer.fill(1);
            buffer.iter().map(|&b| b as u32).sum::<u32>()
        };
        asincrono::task::yield_now().await;
        sum
    };
    assert!(std::mem::size_of_val(&held) > 4096);
    assert!(std::mem::size_of_val(&dropped) < 100);
}

#[test]
fn ch02_1_a_wake_during_the_first_poll_costs_exactly_one_more_poll() {
    on_each_flavour(|| async {
        let polls = Arc::new(AtomicUsize::new(0));
        let counted = polls.clone();
        let task = asincrono::spawn(poll_fn(move |cx| {
            if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                cx.waker().wake_by_ref();
            }
            Poll::<()>::Pending
        }));
        sleep(Duration::from_millis(20)).await; // the runtime goes idle
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        task.abort();
    });
}

#[test]
fn ch03_1_a_task_that_wakes_itself_directly_cannot_starve_timers() {
    on_each_flavour(|| async {
        let spinner = asincrono::spawn(poll_fn(|cx| {
            cx.waker().wake_by_ref();
            Poll::<()>::Pending
        }));
        sleep(Duration::from_millis(20)).await; // completes only if the driver still runs
        spinner.abort();
        assert!(spinner.await.expect_err("aborted").is_cancelled());
    });
}

#[test]
fn ch04_1_one_byte_at_a_time_from_a_writer_kept_open_gets_every_byte() {
    on_each_flavour(|| async {
        let (mut writer, mut reader) = UnixStream::pair().unwrap();
        for part in [&b"first "[..], b"second ", b"third"] {
            writer.write_all(part).await.unwrap();
        }
        let mut got = Vec::new();
        for _ in 0..18 {
            let mut byte = [0];
            assert_eq!(reader.read(&mut byte).await.unwrap(), 1);
            got.push(byte[0]);
        }
        assert_eq!(got, b"first second third");
        drop(writer); // only now: an open writer means no end-of-stream event helps
    });
}

/// A stream that has `first` to read at once, and gets `then` (and its end) only after the
/// reader's `select!` has given up once and said so through the sender returned.
///
/// The exercises race the read against a 1 ms `sleep` and write the second part 5 ms
/// later. Here the other branch is `yield_now()`, which is `Pending` on its first poll and
/// ready on the next: so the read is always polled once (and takes `first`) before it is
/// dropped, and `then` is written only after that, whatever the machine's load.
async fn staged(
    first: &'static [u8],
    then: &'static [u8],
) -> (UnixStream, Option<asincrono::sync::oneshot::Sender<()>>) {
    let (mut writer, reader) = UnixStream::pair().unwrap();
    writer.write_all(first).await.unwrap();
    let (go, gone) = asincrono::sync::oneshot::channel::<()>();
    asincrono::spawn(async move {
        if gone.await.is_ok() {
            writer.write_all(then).await.unwrap();
        }
    });
    // A new socket's readiness is learnt from the reactor: wait for it, so that the first
    // poll of the read in the loop does take `first`.
    reader.readable().await.unwrap();
    (reader, Some(go))
}

/// What the `select!` branch that gave up does: tells the writer to go on, once.
fn give_up(go: &mut Option<asincrono::sync::oneshot::Sender<()>>) {
    if let Some(go) = go.take() {
        let _ = go.send(());
    }
}

/// Chapter 6, exercise 1: at most three bytes a call, and `Pending` every other call.
struct Grudging {
    data: Vec<u8>,
    position: usize,
    refuse_next: bool,
}

impl AsyncRead for Grudging {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.refuse_next = !self.refuse_next;
        if self.refuse_next {
            cx.waker().wake_by_ref(); // the contract: Pending with a wake arranged
            return Poll::Pending;
        }
        let end = (self.position + 3).min(self.data.len());
        let n = (end - self.position).min(buf.remaining());
        buf.put_slice(&self.data[self.position..self.position + n]);
        self.position += n;
        Poll::Ready(Ok(()))
    }
}

fn grudging(text: &str) -> Grudging {
    Grudging {
        data: text.as_bytes().to_vec(),
        position: 0,
        refuse_next: false,
    }
}

#[test]
fn ch06_1_a_reader_that_makes_you_wait_still_gives_the_right_bytes() {
    on_each_flavour(|| async {
        let mut exact = [0; 11];
        grudging("hello world")
            .read_exact(&mut exact)
            .await
            .unwrap();
        assert_eq!(&exact, b"hello world");
        let mut all = Vec::new();
        grudging("hello world").read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"hello world");
        let mut line = String::new();
        let mut lines = BufReader::new(grudging("one line\nand more"));
        lines.read_line(&mut line).await.unwrap();
        assert_eq!(line, "one line\n");
    });
}

#[test]
fn ch06_2_read_u32_dropped_by_select_loses_the_bytes_read_so_far() {
    on_each_flavour(|| async {
        let (mut reader, mut go) = staged(&[0, 0], &[1, 2, 0, 0, 0, 7]).await;
        let number = loop {
            asincrono::select! {
                number = reader.read_u32() => break number.unwrap(),
                _ = yield_now() => give_up(&mut go),
            }
        };
        // The [0, 0] went with the dropped future: [1, 2] and the next number's first two.
        assert_eq!(number, 0x0102_0000);
    });
}

/// Chapter 6, exercise 3: hands out `data` 64 KiB a call, through `initialize_unfilled`
/// (or `put_slice`), counting the bytes it had to zero.
struct Zeroing {
    data: Vec<u8>,
    position: usize,
    use_put_slice: bool,
    zeroed: usize,
}

impl AsyncRead for Zeroing {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let n = (this.data.len() - this.position)
            .min(64 << 10)
            .min(buf.remaining());
        let chunk = &this.data[this.position..this.position + n];
        if this.use_put_slice {
            buf.put_slice(chunk);
        } else {
            let before = buf.initialized().len();
            buf.initialize_unfilled()[..n].copy_from_slice(chunk);
            this.zeroed += buf.initialized().len() - before;
            buf.advance(n);
        }
        this.position += n;
        Poll::Ready(Ok(()))
    }
}

#[test]
fn ch06_3_read_to_end_zeroes_its_spare_capacity_once() {
    asincrono::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            for use_put_slice in [false, true] {
                let mut reader = Zeroing {
                    data: vec![7; 64 << 20],
                    position: 0,
                    use_put_slice,
                    zeroed: 0,
                };
                let mut out = Vec::with_capacity(64 << 20);
                reader.read_to_end(&mut out).await.unwrap();
                assert_eq!(out.len(), 64 << 20);
                // 64 MiB once, and the 32-byte probe that finds the end; none with put_slice.
                let expected = if use_put_slice { 0 } else { (64 << 20) + 32 };
                assert_eq!(reader.zeroed, expected);
            }
        });
}

#[test]
fn ch07_1_two_jobs_pushed_back_to_back_onto_one_idle_thread_both_run() {
    on_each_flavour(|| async {
        asincrono::task::spawn_blocking(|| ()).await.unwrap();
        sleep(Duration::from_millis(50)).await; // the pool now has one idle thread
        let (tx, rx) = std::sync::mpsc::channel();
        let a = asincrono::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(10)));
        let b = asincrono::task::spawn_blocking(move || tx.send(42).unwrap());
        b.await.unwrap();
        assert_eq!(a.await.unwrap(), Ok(42));
    });
}

#[test]
fn ch07_2_a_job_queued_behind_a_running_one_never_runs_after_shutdown_background() {
    within(TEST_DEADLINE, "shutdown_background", || {
        let runtime = asincrono::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        runtime.block_on(async move {
            drop(asincrono::task::spawn_blocking(move || {
                started_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(500));
            }));
            drop(asincrono::task::spawn_blocking(move || {
                set.store(true, Ordering::SeqCst)
            }));
        });
        started_rx.recv().unwrap();
        runtime.shutdown_background();
        // The long job ends after 500 ms (the exercise's takes 30 s); a queued job would run
        // right after it if it could. An absence has no event to wait for: wait it out.
        std::thread::sleep(Duration::from_millis(800));
        assert!(!flag.load(Ordering::SeqCst));
    });
}

#[test]
fn files_2_metadata_does_not_wait_for_a_failed_write_and_flush_reports_it() {
    on_each_flavour(|| async {
        let path = std::env::temp_dir().join(format!(
            "asincrono-exercise-files-2-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        asincrono::fs::write(&path, "data").await.unwrap();
        let mut file = asincrono::fs::File::open(&path).await.unwrap(); // read-only
        assert_eq!(file.write(b"more").await.unwrap(), 4);
        assert!(file.metadata().await.is_ok());
        assert!(file.flush().await.is_err());
        asincrono::fs::remove_file(&path).await.unwrap();
    });
}

/// Chapter 9, exercise 1: a message that holds a sender of its own channel.
struct Msg(#[allow(dead_code)] Option<asincrono::sync::mpsc::UnboundedSender<Msg>>);

#[test]
fn ch09_1_dropping_a_receiver_whose_queue_holds_its_own_sender_does_not_deadlock() {
    on_each_flavour(|| async {
        let (tx, rx) = asincrono::sync::mpsc::unbounded_channel::<Msg>();
        tx.send(Msg(Some(tx.clone()))).unwrap();
        drop(rx); // drops the message, and with it a sender, while closing
        assert!(tx.is_closed());
    });
}

/// Chapter 10: says on a channel when it is dropped, on whichever thread that happens.
struct DropSignal(Option<asincrono::sync::oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(signal) = self.0.take() {
            let _ = signal.send(());
        }
    }
}

/// A task that is pending for ever, holding a `DropSignal`, and the receiving end.
fn pending_task() -> (
    asincrono::task::JoinHandle<()>,
    asincrono::sync::oneshot::Receiver<()>,
) {
    let (signal, dropped) = asincrono::sync::oneshot::channel();
    let guard = DropSignal(Some(signal));
    let task = asincrono::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    (task, dropped)
}

/// Chapter 10: prints (here: records) its drop.
struct Noisy(Arc<std::sync::Mutex<Vec<&'static str>>>);

impl Drop for Noisy {
    fn drop(&mut self) {
        self.0.lock().unwrap().push("dropped");
    }
}

#[test]
fn ch10_1_timeout_drops_the_future_before_it_returns_and_abort_drops_a_task() {
    on_each_flavour(|| async {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let noisy = Noisy(log.clone());
        let never = async move {
            let _noisy = noisy;
            std::future::pending::<()>().await
        };
        assert!(timeout(Duration::from_millis(5), never).await.is_err());
        log.lock().unwrap().push("timeout returned");
        assert_eq!(*log.lock().unwrap(), ["dropped", "timeout returned"]);

        let (task, mut dropped) = pending_task();
        let abort = task.abort_handle();
        drop(task); // detaches: the task goes on
        sleep(Duration::from_millis(10)).await;
        assert!(
            dropped.try_recv().is_err(),
            "a detached task is not dropped"
        );
        abort.abort();
        let drop_seen = timeout(Duration::from_secs(5), dropped).await;
        assert!(drop_seen.is_ok(), "an aborted task's future is dropped");
    });
}

#[test]
fn ch10_2_read_exact_under_select_loses_bytes_and_three_ways_keep_them() {
    on_each_flavour(|| async {
        // Lost: each dropped read_exact takes its bytes with it.
        let (mut reader, mut go) = staged(b"AAAA", b"BBBB").await;
        let mut buf = [0u8; 8];
        let result = loop {
            asincrono::select! {
                result = reader.read_exact(&mut buf) => break result,
                _ = yield_now() => give_up(&mut go),
            }
        };
        assert_eq!(
            result.unwrap_err().kind(),
            std::io::ErrorKind::UnexpectedEof
        );

        // One: the same read_exact, pinned once, polled by reference.
        let (mut reader, mut go) = staged(b"AAAA", b"BBBB").await;
        let mut buf = [0u8; 8];
        {
            let mut read = std::pin::pin!(reader.read_exact(&mut buf));
            loop {
                asincrono::select! {
                    result = &mut read => { result.unwrap(); break; }
                    _ = yield_now() => give_up(&mut go),
                }
            }
        }
        assert_eq!(&buf, b"AAAABBBB");

        // Two: the count of bytes kept outside the loop; `read` is cancel-safe.
        let (mut reader, mut go) = staged(b"AAAA", b"BBBB").await;
        let mut buf = [0u8; 8];
        let mut count = 0;
        while count < 8 {
            asincrono::select! {
                n = reader.read(&mut buf[count..]) => count += n.unwrap(),
                _ = yield_now() => give_up(&mut go),
            }
        }
        assert_eq!(&buf, b"AAAABBBB");

        // Three: read into a Vec kept outside the loop.
        let (mut reader, mut go) = staged(b"AAAA", b"BBBB").await;
        let mut kept = Vec::new();
        while kept.len() < 8 {
            let mut chunk = [0u8; 8];
            asincrono::select! {
                n = reader.read(&mut chunk) => kept.extend_from_slice(&chunk[..n.unwrap()]),
                _ = yield_now() => give_up(&mut go),
            }
        }
        assert_eq!(kept, b"AAAABBBB");
    });
}

/// Chapter 10, exercise 3: a `JoinHandle` that aborts its task when dropped.
struct AbortOnDrop<T>(asincrono::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, asincrono::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

#[test]
fn ch10_3_an_abort_on_drop_guard_drops_its_task_and_still_gives_its_output() {
    on_each_flavour(|| async {
        assert_eq!(AbortOnDrop(asincrono::spawn(async { 7 })).await.unwrap(), 7);
        let (task, dropped) = pending_task();
        drop(AbortOnDrop(task));
        let drop_seen = timeout(Duration::from_secs(5), dropped).await;
        assert!(
            drop_seen.is_ok(),
            "dropping the guard drops the task's future"
        );
    });
}

#[test]
fn ch10_4_read_line_dropped_by_select_loses_the_partial_line() {
    on_each_flavour(|| async {
        let (reader, mut go) = staged(b"ab", b"c\n").await;
        let mut reader = BufReader::new(reader);
        let mut line = String::new();
        loop {
            asincrono::select! {
                read = reader.read_line(&mut line) => { read.unwrap(); break; }
                _ = yield_now() => give_up(&mut go),
            }
        }
        assert_eq!(line, "c\n"); // the "ab" went with a dropped future
    });
}
