//! Copies a large file with `asincrono::fs::File` while a progress bar and a tick counter
//! keep moving on the same thread.
//!
//! Run it with:
//!
//! ```text
//! cargo run --release --example copy_with_progress [SOURCE DEST]
//! ```
//!
//! With `SOURCE DEST`, it copies SOURCE to DEST (creating DEST, or replacing what it held),
//! then checks the copy. With no arguments it tests itself: it writes 256 MiB of
//! pseudo-random bytes to a file in the temp directory, copies that file, checks the copy
//! and removes both files, also when something fails on the way.
//!
//! Three tasks share one scheduler thread while a copy runs:
//!
//! * `copy`: reads the source in 1 MiB chunks and writes each chunk to the destination,
//!   through two `fs::File`s, then flushes and syncs the destination;
//! * `progress`: redraws a bar, `[#########...........]  45%   115 MiB   412 MiB/s`, every
//!   100 ms when stdout is a terminal, and prints a plain line every 0.5 s otherwise (a
//!   file or a pipe would only fill up with redraws);
//! * `ticker`: an `interval` of 10 ms that counts its ticks and how late each one came.
//!   Its count is the last figure on the progress line.
//!
//! # Why the disk does not stop the thread
//!
//! A socket can be handed to epoll, which says when it is ready, and the thread runs other
//! tasks meanwhile. A regular file cannot: `epoll_ctl` refuses it (`EPERM`), since a file
//! is always "ready" even when a `read(2)` of it will wait for the disk. So asincrono runs
//! every file operation as a job on its *blocking pool*, a set of threads that may block,
//! and the job wakes the task when it is done. The scheduler thread only hands chunks over
//! and takes them back; the reading and writing happen on pool threads. That is what the
//! ticker measures: if the disk work stopped the scheduler thread, its ticks would come
//! late, and the tick count would fall behind the clock.
//!
//! What to look for:
//!
//! * the bar and the tick count move together, smoothly; at the end the ticker has ticked
//!   about as often as the time allows (one tick per 10 ms), and its worst lateness is a
//!   millisecond or so, not the length of a disk write;
//! * the last lines: bytes, time, throughput, how many times the bar was drawn, and the
//!   check that the copy is exact (same length, same checksum);
//! * an error, for instance with `/no/such/file /tmp/copy` as arguments: one line naming
//!   the path and what went wrong, and exit code 1 (`echo $?`).
//!
//! The test source has just been written, so the copy mostly reads it from the page cache,
//! not from the disk: copy a large file you have not read lately to see the disk's speed.
//! Interrupted with Ctrl-C, the self-test leaves its files in the temp directory (asincrono
//! has no signal handling); their names start with `asincrono-copy-`.

use asincrono::fs::{self, File};
use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::task::{self, JoinHandle};
use asincrono::time::{self, Instant};
use std::ffi::OsString;
use std::fmt::Display;
use std::io::{self, IsTerminal, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{self, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Bytes per read and per write. `fs::File` moves at most 1 MiB per job, so a bigger chunk
/// would only be cut into 1 MiB jobs; a smaller one would mean more hand-offs per byte.
const CHUNK: usize = 1 << 20;

/// The size of the file the self-test creates.
const SELF_TEST_SIZE: u64 = 256 << 20;

/// How often the progress task wakes up (and redraws, on a terminal).
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// When stdout is not a terminal, a plain line every this many wake-ups (every 0.5 s).
const PLAIN_LINE_EVERY: u64 = 5;

/// The ticker's period: short, so that a stalled thread would show at once.
const TICK_PERIOD: Duration = Duration::from_millis(10);

/// Characters between the brackets of the bar.
const BAR_WIDTH: u64 = 20;

const MIB: f64 = (1 << 20) as f64;

// `current_thread`: the copy, the progress bar and the ticker all run on the thread that
// runs `main`. One scheduler thread is enough, because the only work that blocks (the
// reads and writes) happens on the blocking pool. The default multi-thread runtime would
// work just the same.
#[asincrono::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let outcome = match args.as_slice() {
        [] => self_test().await,
        [source, dest] => copy_and_check(Path::new(source), Path::new(dest)).await,
        _ => {
            eprintln!("usage: copy_with_progress [SOURCE DEST]");
            eprintln!("       (without arguments: copy a 256 MiB test file in the temp directory)");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("copy_with_progress: {err}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------
// The self-test and the checked copy
// ---------------------------------------------------------------------------------------

/// Creates a test file in the temp directory, copies it, checks the copy, and removes both
/// files whatever happened.
async fn self_test() -> io::Result<()> {
    let dir = std::env::temp_dir();
    let source = dir.join(format!("asincrono-copy-{}.src", process::id()));
    let dest = dir.join(format!("asincrono-copy-{}.dst", process::id()));

    let outcome = create_then_copy(&source, &dest).await;

    // On the error paths too: a failed run must not leave 256 MiB behind. Only files that
    // exist are removed: a run that failed early may not have created them.
    for path in [&source, &dest] {
        if fs::metadata(path).await.is_err() {
            continue;
        }
        if let Err(err) = fs::remove_file(path).await {
            eprintln!("copy_with_progress: could not clean up: {err}");
        }
    }
    if outcome.is_ok() {
        println!("removed the two test files");
    }
    outcome
}

async fn create_then_copy(source: &Path, dest: &Path) -> io::Result<()> {
    println!(
        "no SOURCE DEST given: creating a {} MiB test file, {}",
        SELF_TEST_SIZE >> 20,
        source.display()
    );
    let watch = Watch::start("create", SELF_TEST_SIZE);
    let started = Instant::now();
    let creating = task::spawn(create_test_file(
        source.to_path_buf(),
        SELF_TEST_SIZE,
        watch.counter(),
    ));
    let created = creating.await;
    // Stop the bar before reporting anything, success or error, so that its line is ended.
    watch.stop().await?;
    created??;
    println!("created in {:.2} s", started.elapsed().as_secs_f64());

    copy_and_check(source, dest).await
}

/// Copies `source` to `dest` under a progress bar, then checks the copy.
async fn copy_and_check(source: &Path, dest: &Path) -> io::Result<()> {
    // Open both files here, before any bar is drawn, so that a missing source or an
    // unwritable destination gives one clean error line. The errors of `fs` already name
    // the operation and the path ("open /no/such: No such file or directory").
    let reader = File::open(source)
        .await
        .map_err(failed("cannot open the source file"))?;
    let info = reader.metadata().await.map_err(failed(format!(
        "cannot read the size of {}",
        source.display()
    )))?;
    if !info.is_file() {
        // A directory opens fine on Linux; only the first read would fail.
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", source.display()),
        ));
    }
    // `File::create` empties the file it opens: if DEST were SOURCE (or a hard link to it),
    // the source would be gone before the first byte is read. Ask before creating.
    if is_same_file(&info, dest).await {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} and {} are the same file",
                source.display(),
                dest.display()
            ),
        ));
    }
    let writer = File::create(dest)
        .await
        .map_err(failed("cannot create the destination file"))?;

    let total = info.len();
    println!(
        "copying {} ({:.1} MiB) to {}",
        source.display(),
        total as f64 / MIB,
        dest.display()
    );
    let watch = Watch::start("copy", total);
    let started = Instant::now();
    let copying = task::spawn(copy_file(
        reader,
        writer,
        source.to_path_buf(),
        dest.to_path_buf(),
        watch.counter(),
    ));
    let copied = copying.await;
    let took = started.elapsed();
    let watched = watch.stop().await?;
    let copied = copied??;

    check_copy(source, dest).await?;

    let seconds = took.as_secs_f64();
    println!(
        "copied {} bytes in {seconds:.2} s ({:.2} s of it in sync_all): {:.0} MiB/s, {} progress redraws",
        copied.bytes,
        copied.sync_took.as_secs_f64(),
        copied.bytes as f64 / MIB / seconds.max(f64::EPSILON),
        watched.redraws,
    );
    println!(
        "meanwhile, on the scheduler thread: {} ticks (one per {} ms makes {}), the worst {:.2} ms late",
        watched.ticks,
        TICK_PERIOD.as_millis(),
        watched.ran_for.as_millis() / TICK_PERIOD.as_millis() + 1,
        watched.worst_lateness.as_secs_f64() * 1000.0,
    );
    Ok(())
}

/// Whether `dest` exists and is the file `source_info` describes (same device, same
/// inode: this also catches a second name for the same file).
async fn is_same_file(source_info: &std::fs::Metadata, dest: &Path) -> bool {
    match fs::metadata(dest).await {
        Ok(dest_info) => {
            dest_info.dev() == source_info.dev() && dest_info.ino() == source_info.ino()
        }
        // Most often NotFound: a new file. Any other problem shows up in `File::create`.
        Err(_) => false,
    }
}

/// An error with what we were doing in front of it, keeping its kind.
fn failed(doing: impl Display) -> impl FnOnce(io::Error) -> io::Error {
    move |err| io::Error::new(err.kind(), format!("{doing}: {err}"))
}

// ---------------------------------------------------------------------------------------
// The work: creating the test file, copying
// ---------------------------------------------------------------------------------------

/// Writes `size` pseudo-random bytes to a new file at `path`, adding each chunk to `done`.
async fn create_test_file(path: PathBuf, size: u64, done: Arc<AtomicU64>) -> io::Result<()> {
    let mut file = File::create(&path)
        .await
        .map_err(failed("cannot create the test file"))?;
    let write_failed = || failed(format!("cannot write {}", path.display()));
    let mut bytes = PseudoRandom(0x5EED);
    let mut chunk = vec![0u8; CHUNK];
    let mut left = size;
    while left > 0 {
        let this_chunk = &mut chunk[..left.min(CHUNK as u64) as usize];
        // A megabyte of this takes well under a millisecond: short enough to do on the
        // scheduler thread between two awaits. Longer work would go to `spawn_blocking`.
        bytes.fill(this_chunk);
        // `write_all` copies the chunk into the `File`'s own buffer, starts a pool job that
        // writes it, and returns: the next chunk is computed while the pool writes this one.
        file.write_all(this_chunk).await.map_err(write_failed())?;
        done.fetch_add(this_chunk.len() as u64, Ordering::Relaxed);
        left -= this_chunk.len() as u64;
    }
    // The last write is still running on the pool: only `flush` tells whether it worked.
    file.flush().await.map_err(write_failed())
}

/// What `copy_file` reports.
struct Copied {
    bytes: u64,
    /// How long the final `sync_all` took: the part of the time spent waiting for the disk
    /// to confirm what the page cache had already accepted.
    sync_took: Duration,
}

/// Copies everything `reader` holds into `writer`, chunk by chunk, adding each chunk to
/// `done`; then flushes and syncs `writer`. The paths only serve the error messages.
///
/// `done` is shared with the progress task through an `Arc<AtomicU64>`: this task adds to
/// it, the progress task reads it, and neither ever waits for the other. `Relaxed` is
/// enough: the number is only shown, no other memory is published through it.
async fn copy_file(
    mut reader: File,
    mut writer: File,
    source: PathBuf,
    dest: PathBuf,
    done: Arc<AtomicU64>,
) -> io::Result<Copied> {
    let read_failed = || failed(format!("cannot read {}", source.display()));
    let write_failed = || failed(format!("cannot write {}", dest.display()));

    // Our chunk, allocated once. Each `File` has a buffer of its own as well (at most
    // 1 MiB, also allocated once, then reused by every job): the job on the pool thread
    // reads into it, or writes from it, while this task holds on to `chunk`. That hand-over
    // is what lets a `File`'s data cross to another thread without our borrow of `chunk`
    // having to last until a pool thread is done with it.
    let mut chunk = vec![0u8; CHUNK];
    let mut bytes = 0u64;
    loop {
        // Waits (Pending, the thread runs other tasks) while a pool thread reads up to
        // 1 MiB into the reader's buffer; then copies it into `chunk`. 0: end of file.
        let n = reader.read(&mut chunk).await.map_err(read_failed())?;
        if n == 0 {
            break;
        }
        // Copies the chunk into the writer's buffer and starts a write job; returns
        // without waiting for it (it only waits for the *previous* write, if that one is
        // still running). So while one pool thread writes chunk N, the next `read` has
        // another pool thread read chunk N+1. A failed write is reported by the next call
        // on `writer`; the message names the destination whichever call it is.
        writer
            .write_all(&chunk[..n])
            .await
            .map_err(write_failed())?;
        bytes += n as u64;
        // Counted when handed to its write job: the bar runs at most one chunk ahead of
        // what the OS has.
        done.fetch_add(n as u64, Ordering::Relaxed);
    }

    // The copy is not complete yet: the last chunk's write job may still be running (or
    // may have failed, with no one told). `flush` waits for it and returns its error:
    // only when `flush` returns `Ok` have all the bytes reached the operating system.
    writer.flush().await.map_err(write_failed())?;
    // Reaching the OS means the page cache. `sync_all` waits until the disk has the data
    // and the metadata: after a power cut, the copy would still be there.
    let syncing = Instant::now();
    writer
        .sync_all()
        .await
        .map_err(failed(format!("cannot sync {}", dest.display())))?;
    Ok(Copied {
        bytes,
        sync_took: syncing.elapsed(),
    })
}

/// A fast pseudo-random byte source (SplitMix64): bytes that no file system compresses or
/// deduplicates, and that catch a chunk copied twice or out of order.
struct PseudoRandom(u64);

impl PseudoRandom {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill(&mut self, bytes: &mut [u8]) {
        let mut words = bytes.chunks_exact_mut(8);
        for word in &mut words {
            word.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let tail = words.into_remainder();
        let last = self.next_u64().to_le_bytes();
        tail.copy_from_slice(&last[..tail.len()]);
    }
}

// ---------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------

/// Compares the lengths of `source` and `dest`, then their checksums.
async fn check_copy(source: &Path, dest: &Path) -> io::Result<()> {
    let source_len = fs::metadata(source).await?.len();
    let dest_len = fs::metadata(dest).await?.len();
    if source_len != dest_len {
        return Err(io::Error::other(format!(
            "the copy is wrong: {} has {source_len} bytes, {} has {dest_len}",
            source.display(),
            dest.display()
        )));
    }

    let started = Instant::now();
    // Reading 2 × 256 MiB and hashing it is blocking work (file reads) and CPU work: both
    // belong on the pool, not on the scheduler thread. `spawn_blocking` starts each job at
    // once, so the two run side by side on two pool threads; awaiting one handle and then
    // the other does not serialise them. The `?`s: the first for a job that panicked, the
    // second for a read that failed.
    let source_sum = task::spawn_blocking({
        let source = source.to_path_buf();
        move || checksum(&source)
    });
    let dest_sum = task::spawn_blocking({
        let dest = dest.to_path_buf();
        move || checksum(&dest)
    });
    let (source_sum, dest_sum) = (source_sum.await??, dest_sum.await??);
    if source_sum != dest_sum {
        return Err(io::Error::other(format!(
            "the copy is wrong: same length, but the checksum of {} is {source_sum:016x} \
             and that of {} is {dest_sum:016x}",
            source.display(),
            dest.display()
        )));
    }
    println!(
        "check: both files have {dest_len} bytes and checksum {dest_sum:016x} \
         (computed on two pool threads in {:.2} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The 64-bit FNV-1a hash of the file at `path`, read with plain blocking `std` calls:
/// this runs on a pool thread, where blocking is what threads are for.
fn checksum(path: &Path) -> io::Result<u64> {
    let read_failed = failed(format!("cannot read {} to check it", path.display()));
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) => return Err(read_failed(err)),
    };
    let mut chunk = vec![0u8; CHUNK];
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => return Ok(hash),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(read_failed(err)),
        };
        for &byte in &chunk[..n] {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The progress bar and the ticker
// ---------------------------------------------------------------------------------------

/// A progress task and a ticker task, watching one piece of work.
struct Watch {
    /// Bytes done so far: the worker adds to it, the progress task reads it.
    done: Arc<AtomicU64>,
    /// Raised by `stop`; both tasks look at it on each of their wake-ups.
    stop: Arc<AtomicBool>,
    /// Returns how many times it drew the bar.
    progress: JoinHandle<u64>,
    /// Returns what it counted.
    ticker: JoinHandle<Ticks>,
    /// When the watch started, to know how many ticks the time allowed.
    started: Instant,
}

/// What a `Watch` saw, from `stop`.
struct Watched {
    redraws: u64,
    ticks: u64,
    worst_lateness: Duration,
    ran_for: Duration,
}

impl Watch {
    /// Spawns the two tasks; `total` is the number of bytes the work will report.
    fn start(label: &'static str, total: u64) -> Watch {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let ticks = Arc::new(AtomicU64::new(0));
        let ticker = task::spawn(run_ticker(ticks.clone(), stop.clone()));
        let progress = task::spawn(show_progress(
            label,
            total,
            done.clone(),
            ticks,
            stop.clone(),
        ));
        Watch {
            done,
            stop,
            progress,
            ticker,
            started: Instant::now(),
        }
    }

    /// The counter the work adds its bytes to.
    fn counter(&self) -> Arc<AtomicU64> {
        self.done.clone()
    }

    /// Stops both tasks (the progress task draws its last frame and ends its line first)
    /// and returns what they saw.
    async fn stop(self) -> io::Result<Watched> {
        let ran_for = self.started.elapsed();
        self.stop.store(true, Ordering::Relaxed);
        let redraws = self.progress.await?;
        let ticks = self.ticker.await?;
        Ok(Watched {
            redraws,
            ticks: ticks.count,
            worst_lateness: ticks.worst_lateness,
            ran_for,
        })
    }
}

/// Draws the bar until `stop` is raised, then once more; returns how many times it drew.
///
/// The frames go out through `asincrono::io::stdout()`, whose writes run on the blocking
/// pool like a file's: a terminal that is slow to draw, or a pipe that nobody reads, would
/// otherwise stop the scheduler thread in the middle of a `print!`.
async fn show_progress(
    label: &'static str,
    total: u64,
    done: Arc<AtomicU64>,
    ticks: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> u64 {
    let terminal = io::stdout().is_terminal();
    let mut out = asincrono::io::stdout();
    let mut wake_ups = time::interval(REDRAW_EVERY);
    let mut redraws = 0;
    // The speed shown is the one since the previous frame: what the disk does now.
    let mut previous = (Instant::now(), 0u64);
    for wake_up in 0u64.. {
        wake_ups.tick().await;
        let last = stop.load(Ordering::Relaxed);
        if !(terminal || last || (wake_up > 0 && wake_up % PLAIN_LINE_EVERY == 0)) {
            continue;
        }
        let now = (Instant::now(), done.load(Ordering::Relaxed));
        let seconds = (now.0 - previous.0).as_secs_f64().max(f64::EPSILON);
        let speed = (now.1 - previous.1) as f64 / MIB / seconds;
        previous = now;
        let line = format!(
            "{label:<6} {}  {:9.1} MiB  {speed:5.0} MiB/s  ticks {}",
            bar(now.1, total),
            now.1 as f64 / MIB,
            ticks.load(Ordering::Relaxed)
        );
        // On a terminal: back to the start of the line, erase it, draw; a newline only at
        // the end. Elsewhere: one line per frame.
        let frame = match (terminal, last) {
            (true, false) => format!("\r\x1b[2K{line}"),
            (true, true) => format!("\r\x1b[2K{line}\n"),
            (false, _) => format!("{line}\n"),
        };
        // A frame that cannot be written (stdout closed) is no reason to stop the copy.
        if out.write_all(frame.as_bytes()).await.is_ok() && out.flush().await.is_ok() {
            redraws += 1;
        }
        if last {
            break;
        }
    }
    redraws
}

/// `[#########...........]  45%`
fn bar(done: u64, total: u64) -> String {
    // An empty file is done at once; a file that grew while we copied stops at 100%.
    let permille = if total == 0 {
        1000
    } else {
        (u128::from(done) * 1000 / u128::from(total)).min(1000) as u64
    };
    let filled = (permille * BAR_WIDTH / 1000) as usize;
    let empty = BAR_WIDTH as usize - filled;
    format!(
        "[{}{}] {:3}%",
        "#".repeat(filled),
        ".".repeat(empty),
        permille / 10
    )
}

/// What the ticker counted.
struct Ticks {
    count: u64,
    /// The most any tick came after its deadline: the longest the thread was busy with
    /// something else when a tick was due.
    worst_lateness: Duration,
}

/// Ticks every `TICK_PERIOD` until `stop` is raised, publishing its count in `ticks`.
async fn run_ticker(ticks: Arc<AtomicU64>, stop: Arc<AtomicBool>) -> Ticks {
    let mut every_tick = time::interval(TICK_PERIOD);
    let mut seen = Ticks {
        count: 0,
        worst_lateness: Duration::ZERO,
    };
    loop {
        let deadline = every_tick.tick().await;
        if stop.load(Ordering::Relaxed) {
            return seen;
        }
        seen.count += 1;
        seen.worst_lateness = seen.worst_lateness.max(deadline.elapsed());
        ticks.store(seen.count, Ordering::Relaxed);
    }
}
