//! Files on the blocking pool (`asincrono::fs`), the pool itself (`spawn_blocking`: caps,
//! panics, shutdown) and the standard streams. Every body runs on both scheduler flavours
//! under the watchdog; the few that need their own runtime settings build them per flavour
//! inside `within`. Synchronisation is by channels and the pool's FIFO queue, never sleeps.

mod common;

use asincrono::fs::{self, File, OpenOptions};
use asincrono::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};
use asincrono::runtime::{Builder, Runtime};
use asincrono::task::spawn_blocking;
use common::{FLAVOURS, TEST_DEADLINE, on_each_flavour, within};
use std::collections::BTreeSet;
use std::future::{Future, poll_fn};
use std::io::{ErrorKind, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A fresh directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "asincrono-test-fs-{}-{label}-{unique}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create the test directory");
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A runtime of the named flavour with a blocking pool of at most `blocking_threads`.
fn runtime_with_pool(flavour: &str, blocking_threads: usize) -> Runtime {
    let mut builder = match flavour {
        "current_thread" => Builder::new_current_thread(),
        "multi_thread" => {
            let mut builder = Builder::new_multi_thread();
            builder.worker_threads(2);
            builder
        }
        other => panic!("unknown flavour {other}"),
    };
    builder
        .max_blocking_threads(blocking_threads)
        .build()
        .expect("the runtime builds")
}

/// Runs `body(flavour)` once per flavour, each under the watchdog.
fn for_each_flavour(body: impl Fn(&'static str) + Send + Sync + Clone + 'static) {
    for flavour in FLAVOURS {
        let body = body.clone();
        within(TEST_DEADLINE, flavour, move || body(flavour));
    }
}

/// Polls `future` once; `Some(output)` if that was enough.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    poll_fn(|cx| match Pin::new(&mut *future).poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// Bytes that are not periodic with any buffer size used here.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Sends on its channel when dropped: lets a runtime's shutdown (which drops pending tasks)
/// release a blocking job.
struct SendOnDrop(mpsc::Sender<()>);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[test]
fn write_then_read_round_trips_small_and_multi_megabyte_files() {
    on_each_flavour(|| async {
        let dir = TempDir::new("round-trip");
        fs::write(dir.join("small.txt"), "hello, disk")
            .await
            .unwrap();
        assert_eq!(
            fs::read(dir.join("small.txt")).await.unwrap(),
            b"hello, disk"
        );
        assert_eq!(
            fs::read_to_string(dir.join("small.txt")).await.unwrap(),
            "hello, disk"
        );

        let big = pattern(5 << 20);
        fs::write(dir.join("big.bin"), &big).await.unwrap();
        assert!(fs::read(dir.join("big.bin")).await.unwrap() == big);

        // The same through `File`: several 1 MiB chunks each way.
        let mut file = File::create(dir.join("big-file.bin")).await.unwrap();
        file.write_all(&big).await.unwrap();
        file.flush().await.unwrap();
        let mut back = Vec::new();
        File::open(dir.join("big-file.bin"))
            .await
            .unwrap()
            .read_to_end(&mut back)
            .await
            .unwrap();
        assert!(back == big, "the bytes read back differ");
    });
}

#[test]
fn a_file_written_in_small_chunks_reads_back_through_small_reads_and_lines() {
    on_each_flavour(|| async {
        let dir = TempDir::new("chunks");
        let path = dir.join("lines.txt");
        let lines: Vec<String> = (0..1500).map(|i| format!("line number {i}")).collect();
        let mut file = File::create(&path).await.unwrap();
        for line in &lines {
            file.write_all(line.as_bytes()).await.unwrap();
            file.write_all(b"\n").await.unwrap();
        }
        file.flush().await.unwrap();
        let expected: String = lines.iter().map(|line| format!("{line}\n")).collect();

        let mut file = File::open(&path).await.unwrap();
        let mut head = [0u8; 7];
        file.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"line nu");
        let mut rest = Vec::new();
        file.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, &expected.as_bytes()[7..]);

        let mut read_back = Vec::new();
        let mut reader = BufReader::new(File::open(&path).await.unwrap()).lines();
        while let Some(line) = reader.next_line().await.unwrap() {
            read_back.push(line);
        }
        assert_eq!(read_back, lines);
    });
}

/// Writes `contents` to a new file at `path` and opens it for reading and writing.
async fn open_holding(path: &std::path::Path, contents: &str) -> fs::File {
    fs::write(path, contents).await.unwrap();
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .await
        .unwrap()
}

#[test]
fn seek_moves_where_reads_and_writes_happen() {
    on_each_flavour(|| async {
        let dir = TempDir::new("seek");
        let path = dir.join("digits");
        let mut file = open_holding(&path, "0123456789").await;
        assert_eq!(file.seek(SeekFrom::Start(3)).await.unwrap(), 3);
        let mut two = [0; 2];
        file.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"34");
        assert_eq!(file.seek(SeekFrom::Current(2)).await.unwrap(), 7);
        let mut tail = String::new();
        file.read_to_string(&mut tail).await.unwrap();
        assert_eq!(tail, "789");
        assert_eq!(file.seek(SeekFrom::End(-4)).await.unwrap(), 6);
        file.write_all(b"AB").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "012345AB89");
        let error = file.seek(SeekFrom::Current(-100)).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
fn a_dropped_read_keeps_its_bytes_and_later_writes_and_seeks_land_where_the_reader_is() {
    for_each_flavour(|flavour| {
        // One pool thread, kept busy by `blocker` while a read is started and dropped: the
        // read's job waits behind it in the pool's queue, so the read is surely pending.
        let runtime = runtime_with_pool(flavour, 1);
        runtime.block_on(async {
            let dir = TempDir::new("dropped-read");
            let path = dir.join("letters");
            let mut file = open_holding(&path, "abcdefghij").await;

            start_and_drop_a_read(&mut file, 4).await;

            // The dropped read fetched "abcd"; the next reads get those bytes first.
            let mut two = [0; 2];
            file.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"ab");
            // "cd" is read ahead and not handed out: a write must land at 2, not at 4.
            file.write_all(b"XY").await.unwrap();
            file.flush().await.unwrap();
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 4);
            assert_eq!(fs::read_to_string(&path).await.unwrap(), "abXYefghij");

            // Again, then a relative seek: it counts from where the reader is (0).
            file.seek(SeekFrom::Start(0)).await.unwrap();
            start_and_drop_a_read(&mut file, 3).await;
            assert_eq!(file.seek(SeekFrom::Current(1)).await.unwrap(), 1);
            let mut rest = String::new();
            file.read_to_string(&mut rest).await.unwrap();
            assert_eq!(rest, "bXYefghij");
        });
    });
}

/// Starts a read of `len` bytes while the pool's one thread is kept busy (so the read's job
/// is surely still queued), drops the read, then lets the pool go on: the job still runs.
async fn start_and_drop_a_read(file: &mut File, len: usize) {
    let (release, released) = mpsc::channel::<()>();
    let blocker = spawn_blocking(move || released.recv());
    let mut buffer = vec![0; len];
    let mut read = file.read(&mut buffer);
    assert!(
        poll_once(&mut read).await.is_none(),
        "queued behind the blocker"
    );
    drop(read);
    release.send(()).unwrap();
    blocker.await.unwrap().unwrap();
}

#[test]
fn sync_all_set_len_and_metadata() {
    on_each_flavour(|| async {
        let dir = TempDir::new("sync");
        let path = dir.join("synced");
        let mut file = File::create(&path).await.unwrap();
        file.write_all(&pattern(1000)).await.unwrap();
        file.sync_all().await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 1000);
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 1000);
        assert!(fs::metadata(&path).await.unwrap().is_file());

        file.set_len(10).await.unwrap();
        file.sync_data().await.unwrap();
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 10);
        assert_eq!(fs::read(&path).await.unwrap(), pattern(10));
    });
}

#[test]
fn a_missing_file_is_not_found_and_the_message_names_the_path() {
    on_each_flavour(|| async {
        let dir = TempDir::new("missing");
        let missing = dir.join("no-such-file");
        let shown = missing.display().to_string();
        let errors = [
            fs::read(&missing).await.unwrap_err(),
            fs::read_to_string(&missing).await.unwrap_err(),
            fs::metadata(&missing).await.unwrap_err(),
            fs::remove_file(&missing).await.unwrap_err(),
            fs::read_dir(&missing).await.unwrap_err(),
            File::open(&missing).await.unwrap_err(),
        ];
        for error in errors {
            assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
            assert!(error.to_string().contains(&shown), "no path in: {error}");
        }
    });
}

#[test]
fn create_dir_all_then_read_dir_lists_exactly_the_files_made() {
    on_each_flavour(|| async {
        let dir = TempDir::new("listing");
        let nested = dir.join("a/b/c");
        fs::create_dir_all(&nested).await.unwrap();
        fs::create_dir_all(&nested).await.unwrap(); // existing: still fine
        // More entries than one batch (32), so the listing takes several jobs.
        let made: BTreeSet<String> = (0..75).map(|i| format!("file-{i:02}")).collect();
        for name in &made {
            fs::write(nested.join(name), name).await.unwrap();
        }

        let mut listed = BTreeSet::new();
        let mut entries = fs::read_dir(&nested).await.unwrap();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            let name = entry.file_name().into_string().unwrap();
            assert_eq!(entry.path(), nested.join(&name));
            assert!(entry.file_type().await.unwrap().is_file());
            assert_eq!(entry.metadata().await.unwrap().len(), name.len() as u64);
            assert!(listed.insert(name), "an entry came twice");
        }
        assert_eq!(listed, made);
        assert!(
            entries.next_entry().await.unwrap().is_none(),
            "the end stays the end"
        );
    });
}

#[test]
fn remove_file_removes_it() {
    on_each_flavour(|| async {
        let dir = TempDir::new("remove");
        let path = dir.join("doomed");
        fs::write(&path, "x").await.unwrap();
        fs::remove_file(&path).await.unwrap();
        let error = fs::metadata(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(!path.exists());
    });
}

#[test]
fn a_failed_background_write_is_reported_by_flush() {
    on_each_flavour(|| async {
        let dir = TempDir::new("write-error");
        let path = dir.join("read-only-handle");
        fs::write(&path, "data").await.unwrap();
        // Opened for reading only: the write is accepted (copied), then fails on the pool.
        let mut file = File::open(&path).await.unwrap();
        assert_eq!(file.write(b"more").await.unwrap(), 4);
        assert!(
            file.flush().await.is_err(),
            "flush reports the failed write"
        );
        file.flush().await.expect("the error is reported once");
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "data");
    });
}

#[test]
fn a_file_dropped_right_after_write_all_still_reaches_the_disk_when_the_runtime_drops() {
    for_each_flavour(|flavour| {
        let dir = TempDir::new("drop-unflushed");
        let path = dir.join("unflushed");
        let data = pattern(700_000); // less than one chunk: write_all returns at once
        let runtime = runtime_with_pool(flavour, 1);
        let mut file = runtime.block_on(File::create(&path)).unwrap();
        // Keep the only pool thread busy until shutdown drops the task holding the guard:
        // the write job waits in the queue when the runtime starts to drop.
        let (release, released) = mpsc::channel::<()>();
        runtime.spawn_blocking(move || released.recv());
        runtime.spawn(async move {
            let _guard = SendOnDrop(release);
            std::future::pending::<()>().await;
        });
        runtime.block_on(async {
            file.write_all(&data).await.unwrap();
            drop(file); // no flush
        });
        drop(runtime);
        assert!(std::fs::read(&path).unwrap() == data, "the write was lost");
    });
}

#[test]
fn dropping_a_runtime_waits_for_a_running_blocking_job() {
    for_each_flavour(|flavour| {
        let runtime = common::runtime(flavour);
        let done = Arc::new(AtomicUsize::new(0));
        let (release, released) = mpsc::channel::<()>();
        let (started, has_started) = mpsc::channel::<()>();
        let job_done = done.clone();
        runtime.spawn_blocking(move || {
            started.send(()).unwrap();
            // Released only when the runtime's shutdown drops the task below.
            let _ = released.recv();
            job_done.store(1, Ordering::SeqCst);
        });
        runtime.spawn(async move {
            let _guard = SendOnDrop(release);
            std::future::pending::<()>().await;
        });
        has_started.recv().unwrap(); // the job is running, blocked on `released`
        drop(runtime);
        assert_eq!(
            done.load(Ordering::SeqCst),
            1,
            "drop returned before the job ended"
        );
    });
}

#[test]
fn shutdown_timeout_returns_while_a_job_is_still_blocked() {
    for_each_flavour(|flavour| {
        let runtime = common::runtime(flavour);
        let (release, released) = mpsc::channel::<()>();
        let (started, has_started) = mpsc::channel::<()>();
        let (finished, has_finished) = mpsc::channel::<()>();
        runtime.spawn_blocking(move || {
            started.send(()).unwrap();
            released.recv().unwrap();
            finished.send(()).unwrap();
        });
        has_started.recv().unwrap();
        runtime.shutdown_timeout(Duration::from_millis(50));
        // Returned while the job is blocked: it cannot have finished.
        assert!(has_finished.try_recv().is_err());
        release.send(()).unwrap();
        has_finished
            .recv()
            .expect("the job finishes on its own after the runtime");
    });
}

#[test]
fn a_panic_in_spawn_blocking_is_a_join_error() {
    on_each_flavour(|| async {
        let error = spawn_blocking(|| -> u8 { panic!("blocking job fails") })
            .await
            .unwrap_err();
        assert!(error.is_panic());
        let payload = error.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"blocking job fails"));
        // The pool is still usable.
        assert_eq!(spawn_blocking(|| 5).await.unwrap(), 5);
    });
}

#[test]
fn spawn_blocking_queues_past_max_blocking_threads() {
    const JOBS: usize = 8;
    for_each_flavour(|flavour| {
        let runtime = runtime_with_pool(flavour, 2);
        // (jobs running now, gate open?), and the most that ever ran at once.
        let running = Arc::new((Mutex::new((0usize, false)), Condvar::new()));
        let most = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..JOBS)
            .map(|i| {
                let running = running.clone();
                let most = most.clone();
                runtime.spawn_blocking(move || {
                    let (lock, changed) = &*running;
                    let mut state = lock.lock().unwrap();
                    state.0 += 1;
                    most.fetch_max(state.0, Ordering::SeqCst);
                    changed.notify_all();
                    while !state.1 {
                        state = changed.wait(state).unwrap();
                    }
                    state.0 -= 1;
                    i
                })
            })
            .collect();
        {
            // Wait until the pool is full (two jobs in, the other six queued), then open.
            let (lock, changed) = &*running;
            let mut state = lock.lock().unwrap();
            while state.0 < 2 {
                state = changed.wait(state).unwrap();
            }
            state.1 = true;
            changed.notify_all();
        }
        let results = runtime.block_on(async {
            let mut results = Vec::new();
            for handle in handles {
                results.push(handle.await.unwrap());
            }
            results
        });
        assert_eq!(results, (0..JOBS).collect::<Vec<_>>());
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "never more than the cap at once"
        );
    });
}

#[test]
fn spawn_blocking_works_from_inside_a_blocking_job() {
    on_each_flavour(|| async {
        let outer = spawn_blocking(|| {
            // The pool thread is inside the runtime's context: this finds the runtime.
            spawn_blocking(|| 6 * 7)
        });
        let inner = outer.await.unwrap();
        assert_eq!(inner.await.unwrap(), 42);
    });
}

#[test]
fn stdout_and_stderr_write_and_flush() {
    on_each_flavour(|| async {
        let mut out = asincrono::io::stdout();
        out.write_all(b"[asincrono fs test] stdout works\n")
            .await
            .unwrap();
        out.flush().await.unwrap();
        let mut err = asincrono::io::stderr();
        err.write_all(b"[asincrono fs test] stderr works\n")
            .await
            .unwrap();
        err.shutdown().await.unwrap();
    });
}

#[test]
fn fs_outside_a_runtime_is_an_error_not_a_panic() {
    within(TEST_DEADLINE, "outside", || {
        let mut read = pin!(fs::read(Path::new("/whatever")));
        let mut cx = Context::from_waker(Waker::noop());
        match read.as_mut().poll(&mut cx) {
            Poll::Ready(Err(error)) => assert!(
                error
                    .to_string()
                    .contains("must be called from inside an asincrono runtime"),
                "{error}"
            ),
            other => panic!(
                "expected an error at once, got {:?}",
                other.map(|r| r.is_ok())
            ),
        }
    });
}

// ---- Directories, names and links -------------------------------------------------------

#[test]
fn create_dir_dir_builder_and_remove_dir_all() {
    on_each_flavour(|| async {
        let dir = TempDir::new("dirs");
        let one = dir.join("one");
        fs::create_dir(&one).await.unwrap();
        assert!(one.is_dir());
        let again = fs::create_dir(&one).await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{again}");
        let orphan = fs::create_dir(dir.join("no/parent")).await.unwrap_err();
        assert_eq!(orphan.kind(), ErrorKind::NotFound, "{orphan}");
        assert!(orphan.to_string().contains("no/parent"), "{orphan}");

        let deep = dir.join("a/b/c");
        let not_recursive = fs::DirBuilder::new().create(&deep).await.unwrap_err();
        assert_eq!(not_recursive.kind(), ErrorKind::NotFound);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&deep)
            .await
            .unwrap();
        let mode = fs::metadata(&deep).await.unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // Recursive accepts a directory that exists.
        fs::DirBuilder::new()
            .recursive(true)
            .create(&deep)
            .await
            .unwrap();

        fs::write(deep.join("leaf"), "x").await.unwrap();
        let not_empty = fs::remove_dir(dir.join("a")).await.unwrap_err();
        assert_eq!(not_empty.kind(), ErrorKind::DirectoryNotEmpty);
        fs::remove_dir_all(dir.join("a")).await.unwrap();
        assert!(!fs::try_exists(dir.join("a")).await.unwrap());
        assert!(fs::try_exists(&one).await.unwrap());
        let gone = fs::remove_dir_all(dir.join("a")).await.unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn copy_rename_and_their_errors_name_both_paths() {
    on_each_flavour(|| async {
        let dir = TempDir::new("names");
        let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
        fs::write(&a, "contents").await.unwrap();
        fs::set_permissions(&a, std::fs::Permissions::from_mode(0o640))
            .await
            .unwrap();
        assert_eq!(fs::copy(&a, &b).await.unwrap(), 8);
        assert_eq!(fs::read_to_string(&b).await.unwrap(), "contents");
        let copied_mode = fs::metadata(&b).await.unwrap().permissions().mode();
        assert_eq!(copied_mode & 0o777, 0o640, "copy keeps the permission bits");

        fs::rename(&b, &c).await.unwrap();
        assert!(!fs::try_exists(&b).await.unwrap());
        assert_eq!(fs::read_to_string(&c).await.unwrap(), "contents");

        let missing = dir.join("missing");
        for error in [
            fs::copy(&missing, &b).await.unwrap_err(),
            fs::rename(&missing, &b).await.unwrap_err(),
        ] {
            assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
            let shown = error.to_string();
            assert!(shown.contains(&missing.display().to_string()), "{shown}");
            assert!(shown.contains(&b.display().to_string()), "{shown}");
        }
    });
}

#[test]
fn hard_links_symlinks_and_what_they_resolve_to() {
    on_each_flavour(|| async {
        let dir = TempDir::new("links");
        let (target, hard, soft) = (dir.join("target"), dir.join("hard"), dir.join("soft"));
        fs::write(&target, "linked").await.unwrap();

        fs::hard_link(&target, &hard).await.unwrap();
        assert_eq!(fs::metadata(&target).await.unwrap().nlink(), 2);
        let taken = fs::hard_link(&target, &hard).await.unwrap_err();
        assert_eq!(taken.kind(), ErrorKind::AlreadyExists);
        assert!(taken.to_string().contains(" as "), "{taken}");

        fs::symlink("target", &soft).await.unwrap();
        assert_eq!(fs::read_link(&soft).await.unwrap(), Path::new("target"));
        assert!(fs::symlink_metadata(&soft).await.unwrap().is_symlink());
        assert!(fs::metadata(&soft).await.unwrap().is_file(), "followed");
        assert_eq!(fs::read_to_string(&soft).await.unwrap(), "linked");
        assert_eq!(
            fs::canonicalize(&soft).await.unwrap(),
            std::fs::canonicalize(&target).unwrap()
        );
        let not_a_link = fs::read_link(&target).await.unwrap_err();
        assert_eq!(not_a_link.kind(), ErrorKind::InvalidInput);

        // A dangling link exists as a link, not as a file.
        fs::remove_file(&target).await.unwrap();
        assert!(!fs::try_exists(&soft).await.unwrap());
        assert!(fs::symlink_metadata(&soft).await.is_ok());
        let dangling = fs::canonicalize(&soft).await.unwrap_err();
        assert_eq!(dangling.kind(), ErrorKind::NotFound);
        assert_eq!(fs::read_to_string(&hard).await.unwrap(), "linked");
    });
}

#[test]
fn read_dir_entries_know_their_inode_and_poll_next_entry_ends_with_none() {
    on_each_flavour(|| async {
        let dir = TempDir::new("ino");
        fs::write(dir.join("only"), "1").await.unwrap();
        let mut entries = fs::read_dir(&dir.0).await.unwrap();
        let entry = poll_fn(|cx| entries.poll_next_entry(cx))
            .await
            .unwrap()
            .expect("one entry");
        assert_eq!(entry.ino(), fs::metadata(entry.path()).await.unwrap().ino());
        assert!(format!("{entry:?}").contains("only"));
        assert!(
            poll_fn(|cx| entries.poll_next_entry(cx))
                .await
                .unwrap()
                .is_none()
        );
    });
}

// ---- OpenOptions -------------------------------------------------------------------------

#[test]
fn open_options_create_new_mode_append_truncate_and_custom_flags() {
    on_each_flavour(|| async {
        let dir = TempDir::new("options");
        let path = dir.join("new");
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .await
            .unwrap();
        file.write_all(b"first").await.unwrap();
        file.flush().await.unwrap();
        let mode = fs::metadata(&path).await.unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let exists = File::create_new(&path).await.unwrap_err();
        assert_eq!(exists.kind(), ErrorKind::AlreadyExists, "{exists}");
        assert!(exists.to_string().contains(&path.display().to_string()));

        let mut log = File::options().append(true).open(&path).await.unwrap();
        log.write_all(b"+more").await.unwrap();
        log.flush().await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "first+more");

        OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 0);

        // No access mode at all is refused with a clear error, not a panic.
        let no_access = OpenOptions::new().open(&path).await.unwrap_err();
        assert_eq!(no_access.kind(), ErrorKind::InvalidInput, "{no_access}");

        // custom_flags reaches open(2): O_NOFOLLOW refuses a symbolic link.
        let link = dir.join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let refused = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&link)
            .await
            .unwrap_err();
        // The message keeps the OS's error number (the kind, `FilesystemLoop`, is unstable).
        let eloop = format!("(os error {})", libc::ELOOP);
        assert!(refused.to_string().contains(&eloop), "{refused}");

        // Options built by blocking code work too.
        let mut std_options = std::fs::OpenOptions::new();
        std_options.read(true);
        let from_std = OpenOptions::from(std_options);
        assert!(from_std.open(&path).await.is_ok());
    });
}

// ---- File: buffer size, conversions, operations that wait for the one in flight ----------

#[test]
fn set_max_buf_size_limits_each_read_and_write() {
    on_each_flavour(|| async {
        let dir = TempDir::new("max-buf");
        let path = dir.join("f");
        let mut file = open_holding(&path, "0123456789").await;
        assert_eq!(file.max_buf_size(), 1 << 20);
        file.set_max_buf_size(3);
        assert_eq!(file.max_buf_size(), 3);
        let mut buffer = [0; 10];
        assert_eq!(file.read(&mut buffer).await.unwrap(), 3);
        assert_eq!(&buffer[..3], b"012");
        assert_eq!(file.write(b"abcdef").await.unwrap(), 3);
        file.flush().await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "012abc6789");

        // A larger limit takes effect at the next operation.
        file.set_max_buf_size(100);
        assert_eq!(file.read(&mut buffer).await.unwrap(), 4);
        assert_eq!(&buffer[..4], b"6789");
    });
}

#[test]
#[should_panic(expected = "`max_buf_size` must be greater than 0")]
fn set_max_buf_size_of_zero_panics_as_in_tokio() {
    let runtime = Builder::new_current_thread().build().unwrap();
    let dir = TempDir::new("max-buf-zero");
    let path = dir.join("f");
    runtime.block_on(async {
        let mut file = File::create(&path).await.unwrap();
        file.set_max_buf_size(0);
    });
}

#[test]
fn try_clone_shares_the_position_and_keeps_the_buffer_size() {
    on_each_flavour(|| async {
        let dir = TempDir::new("clone");
        let path = dir.join("f");
        let mut file = open_holding(&path, "abcdef").await;
        file.set_max_buf_size(2);
        let mut clone = file.try_clone().await.unwrap();
        assert_eq!(clone.max_buf_size(), 2);
        let mut two = [0; 2];
        file.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"ab");
        clone.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"cd", "one position for both");
        assert_ne!(file.as_raw_fd(), clone.as_raw_fd());
    });
}

#[test]
fn into_std_gives_back_the_file_where_the_async_reader_stopped() {
    for_each_flavour(|flavour| {
        let runtime = runtime_with_pool(flavour, 1);
        runtime.block_on(async {
            let dir = TempDir::new("into-std");
            let path = dir.join("letters");
            let mut file = open_holding(&path, "abcdefghij").await;
            // A dropped read leaves "abcd" read ahead; the reader takes only "a".
            start_and_drop_a_read(&mut file, 4).await;
            let mut one = [0; 1];
            file.read_exact(&mut one).await.unwrap();
            let mut std_file = file.into_std().await;
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut std_file, &mut rest).unwrap();
            assert_eq!(rest, "bcdefghij", "the read-ahead bytes were given back");

            // A write in flight is finished first.
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"written").await.unwrap();
            let std_file = file.into_std().await;
            assert_eq!(std_file.metadata().unwrap().len(), 7);
        });
    });
}

#[test]
fn try_into_std_refuses_while_a_write_is_in_flight() {
    for_each_flavour(|flavour| {
        let runtime = runtime_with_pool(flavour, 1);
        runtime.block_on(async {
            let dir = TempDir::new("try-into-std");
            let path = dir.join("f");
            let mut file = File::create(&path).await.unwrap();
            // The pool's one thread is busy, so the write surely waits in the queue.
            let (release, released) = mpsc::channel::<()>();
            let blocker = spawn_blocking(move || released.recv());
            file.write_all(b"queued").await.unwrap();
            let mut file = file.try_into_std().expect_err("a write is in flight");
            release.send(()).unwrap();
            blocker.await.unwrap().unwrap();
            file.flush().await.unwrap();
            let std_file = file.try_into_std().expect("idle now");
            assert_eq!(std_file.metadata().unwrap().len(), 6);
        });
    });
}

#[test]
fn raw_descriptors_and_from_conversions() {
    on_each_flavour(|| async {
        let dir = TempDir::new("raw-fd");
        let path = dir.join("f");
        fs::write(&path, "raw").await.unwrap();

        let file = File::open(&path).await.unwrap();
        assert_eq!(file.as_raw_fd(), file.as_fd().as_raw_fd());
        let debug = format!("{file:?}");
        assert!(
            debug.starts_with("asincrono::fs::File { std: File { fd:"),
            "{debug}"
        );
        let raw = file.into_std().await.into_raw_fd();
        // SAFETY: `raw` was just released by `into_raw_fd`; nothing else owns it.
        let mut file = unsafe { File::from_raw_fd(raw) };
        let mut text = String::new();
        file.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "raw");

        let owned = std::os::fd::OwnedFd::from(std::fs::File::open(&path).unwrap());
        let mut text = String::new();
        File::from(owned).read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "raw");
        let mut text = String::new();
        File::from(std::fs::File::open(&path).unwrap())
            .read_to_string(&mut text)
            .await
            .unwrap();
        assert_eq!(text, "raw");
    });
}

#[test]
fn set_len_and_seek_wait_for_the_write_in_flight() {
    for_each_flavour(|flavour| {
        let runtime = runtime_with_pool(flavour, 1);
        runtime.block_on(async {
            let dir = TempDir::new("in-flight");
            let path = dir.join("f");
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .await
                .unwrap();
            // Hold the pool so that the write is surely still queued when set_len starts.
            let (release, released) = mpsc::channel::<()>();
            let blocker = spawn_blocking(move || released.recv());
            file.write_all(b"0123456789").await.unwrap();
            {
                let mut set_len = pin!(file.set_len(4));
                assert!(
                    poll_once(&mut set_len).await.is_none(),
                    "waits for the write"
                );
                release.send(()).unwrap();
                set_len.await.unwrap();
            }
            blocker.await.unwrap().unwrap();
            assert_eq!(fs::read_to_string(&path).await.unwrap(), "0123");

            // The position stayed at 10: the next write leaves a gap of zeros.
            file.write_all(b"!").await.unwrap();
            assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
            let mut back = Vec::new();
            file.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, b"0123\0\0\0\0\0\0!");
        });
    });
}

#[test]
fn set_permissions_and_set_times_on_an_open_file() {
    on_each_flavour(|| async {
        let dir = TempDir::new("file-meta");
        let path = dir.join("f");
        let file = File::create(&path).await.unwrap();
        file.set_permissions(std::fs::Permissions::from_mode(0o604))
            .await
            .unwrap();
        let modified = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
        let accessed = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        file.set_times(
            fs::FileTimes::new()
                .set_accessed(accessed)
                .set_modified(modified),
        )
        .await
        .unwrap();
        let metadata = file.metadata().await.unwrap();
        assert_eq!(metadata.permissions().mode() & 0o777, 0o604);
        assert_eq!(metadata.modified().unwrap(), modified);
        assert_eq!(metadata.accessed().unwrap(), accessed);
        let later = modified + Duration::from_secs(60);
        file.set_modified(later).await.unwrap();
        assert_eq!(
            fs::metadata(&path).await.unwrap().modified().unwrap(),
            later
        );
    });
}

#[test]
fn the_new_functions_fail_outside_a_runtime_and_name_the_missing_path() {
    within(TEST_DEADLINE, "outside", || {
        let mut cx = Context::from_waker(Waker::noop());
        let mut exists = pin!(fs::try_exists("/whatever"));
        match exists.as_mut().poll(&mut cx) {
            Poll::Ready(Err(error)) => assert!(
                error.to_string().contains("asincrono::fs::try_exists"),
                "{error}"
            ),
            other => panic!("expected an error at once, got {other:?}"),
        }
    });
    on_each_flavour(|| async {
        let dir = TempDir::new("missing-new");
        let missing = dir.join("no-such-thing");
        let shown = missing.display().to_string();
        let errors = [
            fs::remove_dir_all(&missing).await.unwrap_err(),
            fs::read_link(&missing).await.unwrap_err(),
            fs::symlink_metadata(&missing).await.unwrap_err(),
            fs::set_permissions(&missing, std::fs::Permissions::from_mode(0o600))
                .await
                .unwrap_err(),
            fs::canonicalize(&missing).await.unwrap_err(),
            fs::hard_link(&missing, dir.join("other"))
                .await
                .unwrap_err(),
        ];
        for error in errors {
            assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
            assert!(error.to_string().contains(&shown), "no path in: {error}");
        }
    });
}

#[test]
fn stream_position_counts_what_was_handed_out_not_what_was_read_ahead() {
    on_each_flavour(|| async {
        let dir = TempDir::new("position");
        let path = dir.join("letters");
        fs::write(&path, b"abcdefghijklmnopqrstuvwxyz")
            .await
            .unwrap();
        let mut file = File::open(&path).await.unwrap();
        assert_eq!(file.stream_position().await.unwrap(), 0);
        let mut first = [0u8; 5];
        file.read_exact(&mut first).await.unwrap(); // the pool reads ahead past these five
        assert_eq!(&first, b"abcde");
        assert_eq!(file.stream_position().await.unwrap(), 5);
        // Asking did not move anything: the next bytes are still the sixth on.
        let mut next = [0u8; 3];
        file.read_exact(&mut next).await.unwrap();
        assert_eq!(&next, b"fgh");
        assert_eq!(file.seek(SeekFrom::End(-1)).await.unwrap(), 25);
        assert_eq!(file.stream_position().await.unwrap(), 25);

        let mut out = File::create(dir.join("out")).await.unwrap();
        out.write_all(b"0123456").await.unwrap();
        assert_eq!(
            out.stream_position().await.unwrap(),
            7,
            "the write lands first"
        );
    });
}

/// Why a small cached file could fail to be read in place.
const IN_PLACE_REFUSED: &str = "a small cached file is read with no pool job \
    (does this file system refuse RESOLVE_CACHED or RWF_NOWAIT?)";

#[test]
fn a_small_cached_file_is_read_in_place_while_a_large_one_waits_for_the_pool() {
    // The pool's one thread is kept busy until the end: a read that needs a job waits for
    // it, one served in place from the kernel's caches (`fs/in_place.rs`) does not.
    for_each_flavour(|flavour| {
        let dir = TempDir::new("in-place");
        let small = dir.join("small.txt");
        let large = dir.join("large.bin");
        std::fs::write(&small, "in the page cache\n").unwrap();
        std::fs::write(&large, vec![1u8; 256 * 1024]).unwrap();
        let rt = runtime_with_pool(flavour, 1);
        rt.block_on(async move {
            let (release, gate) = mpsc::channel::<()>();
            let busy = spawn_blocking(move || gate.recv());
            let large_read = asincrono::spawn(fs::read(large));
            let small_read = fs::read_to_string(&small);
            let small_read = asincrono::time::timeout(Duration::from_secs(5), small_read)
                .await
                .expect(IN_PLACE_REFUSED);
            assert_eq!(small_read.unwrap(), "in the page cache\n");
            assert!(
                !large_read.is_finished(),
                "the large read needs the busy pool"
            );
            release.send(()).unwrap();
            busy.await.unwrap().unwrap();
            assert_eq!(large_read.await.unwrap().unwrap().len(), 256 * 1024);
        });
    });
}

#[test]
fn reading_a_fifo_waits_on_the_pool_not_on_the_scheduler_thread() {
    // Opening a FIFO for reading blocks until a writer comes: the fast path must not do
    // that on a scheduler thread, and must not take the FIFO for an empty file either.
    on_each_flavour(|| async {
        let dir = TempDir::new("fifo");
        let fifo = make_fifo(&dir);
        let read = asincrono::spawn(fs::read(fifo.clone()));
        // The scheduler thread is free meanwhile: this task runs and writes the FIFO.
        asincrono::task::yield_now().await;
        spawn_blocking(move || std::fs::write(fifo, "through the pipe"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.await.unwrap().unwrap(), b"through the pipe");
        drop(dir);
    });
}

#[test]
fn a_writer_waiting_on_a_fifo_is_not_let_through_by_a_read_that_only_looks() {
    // A writer blocks in `open` until the FIFO has a reader. The fast path of `fs::read`
    // only looks at the path (`O_PATH`): were it to open the FIFO for reading and close it
    // again, the writer would get through with no reader left, and fail with EPIPE.
    on_each_flavour(|| async {
        let dir = TempDir::new("fifo-writer-first");
        let fifo = make_fifo(&dir);
        let (tid_tx, tid_rx) = mpsc::channel();
        let writer = std::thread::spawn({
            let fifo = fifo.clone();
            move || {
                let me = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
                tid_tx.send(me).unwrap();
                std::fs::write(fifo, "from a waiting writer")
            }
        });
        wait_until_blocked_in_open(&tid_rx.recv().unwrap());
        assert_eq!(fs::read(&fifo).await.unwrap(), b"from a waiting writer");
        writer
            .join()
            .unwrap()
            .expect("the writer's write (EPIPE if let through)");
        drop(dir);
    });
}

/// A FIFO named `fifo` in `dir`.
fn make_fifo(dir: &TempDir) -> PathBuf {
    let fifo = dir.join("fifo");
    let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `name` is a NUL-terminated path alive for the call.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
    fifo
}

/// Returns once the thread `task` (a `/proc/thread-self` link: `PID/task/TID`) is blocked in
/// `openat`, as `/proc/PID/task/TID/syscall` shows; at most 10 s.
fn wait_until_blocked_in_open(task: &Path) {
    let syscall_file = Path::new("/proc").join(task).join("syscall");
    let openat = libc::SYS_openat.to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let now = std::fs::read_to_string(&syscall_file).unwrap_or_default();
        if now.split_whitespace().next() == Some(openat.as_str()) {
            return;
        }
        std::thread::yield_now();
    }
    panic!("the writer never blocked in openat");
}
