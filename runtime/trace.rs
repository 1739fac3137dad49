//! The window: a recording of what the runtime did, to open as a timeline.
//!
//! Tracing is **off** unless a runtime is built with the environment variable
//! `ASINCRONO_TRACE=path.json` set, or with
//! [`Builder::trace_to`](crate::runtime::Builder::trace_to). When that runtime is dropped it
//! writes every event it recorded to the file, in the Chrome trace-event format, and beside
//! it (`path.html`) a page that draws the same events as a timeline.
//!
//! ## What is recorded
//!
//! Every event carries a timestamp (microseconds since the runtime was built) and the thread
//! it happened on (a small number; a metadata event gives each its name):
//!
//! | event | where the hook is | shown as |
//! |---|---|---|
//! | a task is spawned (with its id; blocking jobs too) | `executor::spawn_on`, `BlockingPool::spawn` | instant `spawn` |
//! | a poll of a task begins and ends | `Task::poll_future` (`task/raw.rs`) | span `poll <task>` |
//! | a task is woken, by whom and why: `io` (the reactor dispatching readiness), `timer` (the timer queue expiring a deadline) or `other` (a channel, a join handle, a yield, user code) | `Task`'s `Wake` impl | instant `wake` |
//! | a thread parks in the driver (`epoll_wait`) or on a condvar, until it is woken | `Driver::park`, `Parker::park_on_condvar` | span `park (driver)` / `park (condvar)` |
//! | someone interrupts a parked driver | `DriverHandle::unpark` | instant `unpark` |
//! | the readiness events one `epoll_wait` returned (their count) | `Driver::park` | instant `reactor events` |
//! | a blocking-pool thread runs a job | `BlockingPool::thread_main` | span `blocking job` |
//!
//! The cause of a wake is known without asking anyone: the driver sets a thread-local
//! "current cause" while it dispatches readiness (`io`) and while it wakes expired timers
//! (`timer`); any wake outside those two windows is `other`. Give a task a readable name in
//! the file with [`label`].
//!
//! ## The format
//!
//! `{"traceEvents":[…]}`, one event per line. Polls, parks and jobs are `"ph":"B"` / `"E"`
//! pairs on the same thread (a begin and its end, properly nested); spawn, wake, unpark and
//! reactor events are instants (`"ph":"i"`) with their details in `"args"`; `"ph":"M"`
//! metadata events name the process and the threads. The JSON is written by hand (a few
//! `write!`s and one string-escaping function): the runtime takes no serialisation crate.
//!
//! The page is `trace_viewer.html` (a file of its own, HTML and JavaScript, embedded here
//! with `include_str!`) with the JSON pasted into one of its `<script>` tags: one
//! self-contained file, no network, no external script.
//!
//! ## How to look at it
//!
//! Open the `.html` file in a browser (`xdg-open target/tour-trace.html`, or drag it onto a
//! browser window). Each thread is a track: polls are coloured spans (one colour per task),
//! parks grey, blocking jobs yellow, and wakes small marks above them, coloured by cause
//! (I/O, timer, other). Hover for the task id and cause; zoom with the wheel or `W`/`S`,
//! pan by dragging or with `A`/`D`, `0` resets. The JSON opens in the bigger viewers too:
//! <https://ui.perfetto.dev> (*Open trace file*; it stays on your machine) or Chrome's
//! `chrome://tracing`. `cargo run --example tour -- --trace` writes both
//! (`target/tour-trace.json` and `.html`) and prints a text timeline as well.
//!
//! ## What it costs
//!
//! When off, each hook is one relaxed load of a global counter (how many traced runtimes are
//! alive) and a branch the CPU predicts right every time: no thread-local, no clock read, no
//! allocation. The work sits behind that branch in functions marked `#[cold]`. The
//! benchmark's `yield_many` (a poll and a wake per iteration) is how to check it.
//!
//! When on, an event is a clock read and a push onto a buffer that belongs to the thread
//! (`thread_local!`). A full buffer (or a thread leaving the runtime, or exiting) moves its
//! events into the runtime's list under one lock, so threads do not contend event by event.
//!
//! ## Corners cut
//!
//! - The switch is global: while *any* traced runtime lives, every runtime's hooks take the
//!   slow path (a thread-local lookup finds no recorder and returns).
//! - An event is recorded into the runtime whose context the *thread* is in. A wake from a
//!   thread outside any runtime (a plain `std::thread`) is not recorded; one from another
//!   traced runtime's thread lands in that runtime's file.
//! - Events of a blocking job still running when the runtime gives up waiting for it at
//!   shutdown are lost. If the file cannot be written, a line on stderr says so.
//! - The buffers grow without limit: trace a short run, not a server for a week.
//! - The page embeds the whole JSON and draws every span: a few seconds of a busy program
//!   make a page of tens of megabytes that takes a moment to open.
//!
//! What a production runtime does instead: tokio emits `tracing` spans and events (behind
//! the `tracing` feature and `--cfg tokio_unstable`), and a subscriber decides what to keep
//! and where it goes; `console-subscriber` streams them to tokio-console, a live `top` for
//! tasks (polls, wakes, busy and idle time, tasks that were never woken). Any `tracing`
//! subscriber can also write a Chrome trace like this one.

use crate::task::Id;
use crate::util::lock;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many traced runtimes are alive: the one thing a hook reads when tracing is off.
static TRACED_RUNTIMES: AtomicUsize = AtomicUsize::new(0);

/// Events a thread keeps before it moves them into its runtime's list.
const BATCH: usize = 1024;

/// Whether any traced runtime is alive. Every hook starts here.
#[inline(always)]
pub(crate) fn on() -> bool {
    TRACED_RUNTIMES.load(Relaxed) != 0
}

/// Why a task was woken, as far as this thread knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Nothing in particular: a channel, a join handle, a yield, user code.
    Other,
    /// The driver dispatching I/O readiness.
    Io,
    /// The driver waking tasks whose deadline passed.
    Timer,
}

impl Cause {
    fn name(self) -> &'static str {
        match self {
            Cause::Other => "other",
            Cause::Io => "io",
            Cause::Timer => "timer",
        }
    }
}

/// Where a thread parks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Park {
    /// In `epoll_wait`, through the driver.
    Driver,
    /// On a worker's (or `block_on`'s) condvar.
    Condvar,
}

/// What happened.
#[derive(Clone, Copy, Debug)]
enum What {
    Spawn { task: u64, blocking: bool },
    PollStart { task: u64 },
    PollEnd { task: u64 },
    Wake { task: u64, cause: Cause },
    ParkStart(Park),
    ParkEnd(Park),
    Unpark,
    ReactorEvents { count: usize },
    JobStart,
    JobEnd,
}

/// One recorded event.
#[derive(Clone, Copy, Debug)]
struct Event {
    /// Nanoseconds since the recorder started (written out as microseconds).
    at: u64,
    /// The recording thread's number.
    thread: u32,
    /// What happened.
    what: What,
}

/// One traced runtime's recording; the `Handle` holds it, and every thread in that
/// runtime's context points at it.
pub(crate) struct Recorder {
    /// Time zero of the file.
    start: Instant,
    /// Where the file goes when the runtime drops.
    path: PathBuf,
    /// Events moved here from the threads' buffers, in batches.
    events: Mutex<Vec<Event>>,
    /// The threads that recorded into this runtime: (number, name).
    threads: Mutex<Vec<(u32, String)>>,
    /// Names given to tasks with [`label`].
    labels: Mutex<Vec<(u64, String)>>,
    /// `finish` ran (and took this runtime off `TRACED_RUNTIMES`).
    finished: AtomicBool,
}

impl Drop for Recorder {
    /// A runtime whose build failed half-way never calls `finish`: stop counting it here.
    fn drop(&mut self) {
        if !self.finished.swap(true, Relaxed) {
            TRACED_RUNTIMES.fetch_sub(1, Relaxed);
        }
    }
}

/// What a thread keeps for tracing.
struct Local {
    /// The recorder of the runtime this thread is in, if that runtime is traced.
    recorder: Option<Arc<Recorder>>,
    /// This thread's number in trace files (0 until first needed).
    thread: u32,
    /// Events not yet moved into the recorder.
    buffer: Vec<Event>,
}

impl Drop for Local {
    /// The thread is exiting: what it recorded must not go with it.
    fn drop(&mut self) {
        self.flush();
    }
}

impl Local {
    fn flush(&mut self) {
        if let Some(recorder) = &self.recorder {
            if !self.buffer.is_empty() {
                lock(&recorder.events).append(&mut self.buffer);
            }
        }
    }

    /// This thread's number, handing out the next one the first time.
    fn thread_number(&mut self) -> u32 {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        if self.thread == 0 {
            self.thread = NEXT.fetch_add(1, Relaxed);
        }
        self.thread
    }
}

thread_local! {
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local { recorder: None, thread: 0, buffer: Vec::new() })
    };
    /// Why a wake on this thread happens right now (set by the driver around its dispatch).
    static CAUSE: Cell<Cause> = const { Cell::new(Cause::Other) };
}

impl Recorder {
    /// The recorder a runtime built now should have: `explicit` (from the `Builder`), else
    /// the path in `ASINCRONO_TRACE`, else none.
    pub(crate) fn for_new_runtime(explicit: Option<&Path>) -> Option<Arc<Recorder>> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => PathBuf::from(std::env::var_os("ASINCRONO_TRACE").filter(|p| !p.is_empty())?),
        };
        TRACED_RUNTIMES.fetch_add(1, Relaxed);
        Some(Arc::new(Recorder {
            start: Instant::now(),
            path,
            events: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            labels: Mutex::new(Vec::new()),
            finished: AtomicBool::new(false),
        }))
    }

    /// The runtime is gone (its threads joined): write the file, and stop counting it.
    pub(crate) fn finish(&self) {
        // This thread may have recorded too (in `Runtime::drop`'s context, now left).
        let _ = LOCAL.try_with(|local| {
            let mut local = local.borrow_mut();
            if local
                .recorder
                .as_ref()
                .is_some_and(|r| std::ptr::eq(&**r, self))
            {
                local.flush();
            }
        });
        if !self.finished.swap(true, Relaxed) {
            TRACED_RUNTIMES.fetch_sub(1, Relaxed);
        }
        let json = self.json();
        let page = html_path(&self.path);
        for (path, text) in [(&self.path, &json), (&page, &viewer_page(&json))] {
            if let Err(err) = write_file(path, text) {
                eprintln!(
                    "asincrono: could not write the trace to {}: {err}",
                    path.display()
                );
            }
        }
    }

    /// The whole recording as Chrome-trace JSON.
    fn json(&self) -> String {
        let mut events = std::mem::take(&mut *lock(&self.events));
        // Stable: each thread's own events keep their order (a begin before its end).
        events.sort_by_key(|event| event.at);
        let labels = lock(&self.labels).clone();
        let name_of = |task: u64| -> String {
            match labels.iter().rev().find(|(id, _)| *id == task) {
                Some((_, label)) => format!("{label} (task {task})"),
                None => format!("task {task}"),
            }
        };
        let mut out = String::with_capacity(64 + events.len() * 110);
        out.push_str("{\"traceEvents\":[\n");
        out.push_str(
            "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"asincrono\"}}",
        );
        let mut threads = lock(&self.threads).clone();
        threads.sort();
        threads.dedup_by_key(|(number, _)| *number);
        for (number, name) in &threads {
            let _ = write!(
                out,
                ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{number},\"args\":{{\"name\":{}}}}}",
                json_string(name)
            );
        }
        for event in &events {
            let (name, category, phase, args) = match event.what {
                What::Spawn { task, blocking } => (
                    "spawn".to_string(),
                    "task",
                    "i",
                    format!(
                        "{{\"task\":{task},\"name\":{},\"blocking\":{blocking}}}",
                        json_string(&name_of(task))
                    ),
                ),
                What::PollStart { task } => (
                    format!("poll {}", name_of(task)),
                    "task",
                    "B",
                    format!("{{\"task\":{task}}}"),
                ),
                What::PollEnd { task } => (
                    format!("poll {}", name_of(task)),
                    "task",
                    "E",
                    format!("{{\"task\":{task}}}"),
                ),
                What::Wake { task, cause } => (
                    "wake".to_string(),
                    "wake",
                    "i",
                    format!(
                        "{{\"task\":{task},\"name\":{},\"cause\":\"{}\"}}",
                        json_string(&name_of(task)),
                        cause.name()
                    ),
                ),
                What::ParkStart(park) => (park_name(park).into(), "park", "B", "{}".into()),
                What::ParkEnd(park) => (park_name(park).into(), "park", "E", "{}".into()),
                What::Unpark => ("unpark".into(), "park", "i", "{}".into()),
                What::ReactorEvents { count } => (
                    "reactor events".into(),
                    "driver",
                    "i",
                    format!("{{\"count\":{count}}}"),
                ),
                What::JobStart => ("blocking job".into(), "blocking", "B", "{}".into()),
                What::JobEnd => ("blocking job".into(), "blocking", "E", "{}".into()),
            };
            // Instants are drawn on their thread's track ("s":"t").
            let scope = if phase == "i" { ",\"s\":\"t\"" } else { "" };
            let _ = write!(
                out,
                ",\n{{\"name\":{},\"cat\":\"{category}\",\"ph\":\"{phase}\"{scope},\"ts\":{}.{:03},\"pid\":1,\"tid\":{},\"args\":{args}}}",
                json_string(&name),
                event.at / 1000,
                event.at % 1000,
                event.thread,
            );
        }
        out.push_str("\n]}\n");
        out
    }
}

fn write_file(path: &Path, text: &str) -> io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// The viewer (`trace_viewer.html`, HTML and JavaScript), with its data marker replaced.
const VIEWER: &str = include_str!("trace_viewer.html");
const VIEWER_DATA_MARKER: &str = "TRACE_DATA";

/// Where the page goes: beside the JSON, `x.json` → `x.html` (any other name gets `.html`
/// added, so the page never replaces the JSON).
fn html_path(json: &Path) -> PathBuf {
    if json.extension().is_some_and(|ext| ext == "json") {
        json.with_extension("html")
    } else {
        let mut name = json.as_os_str().to_owned();
        name.push(".html");
        PathBuf::from(name)
    }
}

/// The viewer with `json` embedded in its `<script type="application/json">`. A `<` only
/// occurs inside JSON strings (a task's label), where `\u003c` means the same character:
/// escaping it keeps a label like `</script>` from ending the script early.
fn viewer_page(json: &str) -> String {
    VIEWER.replacen(VIEWER_DATA_MARKER, &json.replace('<', "\\u003c"), 1)
}

fn park_name(park: Park) -> &'static str {
    match park {
        Park::Driver => "park (driver)",
        Park::Condvar => "park (condvar)",
    }
}

/// `text` as a JSON string literal, quotes included: quotes, backslashes and control
/// characters escaped.
///
/// Public (but hidden from the docs) only so that the benchmark's report, which writes JSON
/// too, uses this one escaper instead of a copy; it is not part of the runtime's API.
#[doc(hidden)]
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What `enter` replaced, put back by `leave`.
pub(crate) struct Entered(Option<Arc<Recorder>>);

/// This thread enters a runtime's context: its events go to `recorder` (if the runtime is
/// traced) until `leave`. Called by `context::enter`, not per event.
pub(crate) fn enter(recorder: Option<&Arc<Recorder>>) -> Entered {
    if recorder.is_none() && !on() {
        return Entered(None); // nothing traced anywhere: leave the thread-local alone
    }
    let previous = LOCAL
        .try_with(|local| {
            let mut local = local.borrow_mut();
            local.flush();
            if let Some(recorder) = recorder {
                let number = local.thread_number();
                let thread = std::thread::current();
                let name = thread
                    .name()
                    .map_or_else(|| format!("thread {number}"), str::to_owned);
                lock(&recorder.threads).push((number, name));
            }
            std::mem::replace(&mut local.recorder, recorder.cloned())
        })
        .ok()
        .flatten();
    Entered(previous)
}

/// The thread leaves the context `enter` made: move its events into the recorder (so that
/// they are there when the runtime writes the file) and put back the previous one.
pub(crate) fn leave(entered: &mut Entered) {
    let previous = entered.0.take();
    if previous.is_none() && !on() {
        return;
    }
    let _ = LOCAL.try_with(|local| {
        let mut local = local.borrow_mut();
        local.flush();
        local.recorder = previous;
    });
}

/// Moves this thread's buffered events into its recorder now (a blocking-pool thread does
/// it before it reports itself gone, so shutdown does not write the file without them).
pub(crate) fn flush() {
    if on() {
        let _ = LOCAL.try_with(|local| local.borrow_mut().flush());
    }
}

#[cold]
fn record(what: What) {
    let _ = LOCAL.try_with(|local| {
        let mut local = local.borrow_mut();
        let Some(recorder) = &local.recorder else {
            return; // this thread is not in a traced runtime
        };
        let at = recorder.start.elapsed().as_nanos() as u64;
        let thread = local.thread_number();
        local.buffer.push(Event { at, thread, what });
        if local.buffer.len() >= BATCH {
            local.flush();
        }
    });
}

/// A task (or, with `blocking`, a blocking job) was created. `id` is only called when
/// tracing is on.
#[inline]
pub(crate) fn spawn(id: impl FnOnce() -> Id, blocking: bool) {
    if on() {
        record(What::Spawn {
            task: id().as_u64(),
            blocking,
        });
    }
}

/// A task was woken on this thread, for the cause the driver set (if any).
#[inline]
pub(crate) fn wake(id: Id) {
    if on() {
        record(What::Wake {
            task: id.as_u64(),
            cause: CAUSE.try_with(Cell::get).unwrap_or(Cause::Other),
        });
    }
}

/// Someone interrupts a parked driver.
#[inline]
pub(crate) fn unpark() {
    if on() {
        record(What::Unpark);
    }
}

/// One `epoll_wait` returned `count()` I/O events (recorded only when there were some;
/// `count` is only called when tracing is on).
#[inline]
pub(crate) fn reactor_events(count: impl FnOnce() -> usize) {
    if on() {
        let count = count();
        if count > 0 {
            record(What::ReactorEvents { count });
        }
    }
}

/// Records the end of a span when dropped (so a panic unwinding through it ends it too).
#[must_use = "the span ends when this guard drops"]
pub(crate) struct Span(Option<What>);

impl Drop for Span {
    #[inline]
    fn drop(&mut self) {
        if let Some(end) = self.0.take() {
            record(end);
        }
    }
}

/// Starts a span whose end is `end`, if tracing is on.
#[inline]
fn span(start: What, end: What) -> Span {
    if on() {
        record(start);
        Span(Some(end))
    } else {
        Span(None)
    }
}

/// A poll of task `id`, until the guard drops.
#[inline]
pub(crate) fn poll(id: Id) -> Span {
    let task = id.as_u64();
    span(What::PollStart { task }, What::PollEnd { task })
}

/// The thread parks (in the driver or on a condvar) until the guard drops.
#[inline]
pub(crate) fn park(place: Park) -> Span {
    span(What::ParkStart(place), What::ParkEnd(place))
}

/// A blocking-pool thread runs a job until the guard drops.
#[inline]
pub(crate) fn job() -> Span {
    span(What::JobStart, What::JobEnd)
}

/// Puts back the previous cause when dropped.
#[must_use = "the cause is unset when this guard drops"]
pub(crate) struct CauseGuard(Option<Cause>);

impl Drop for CauseGuard {
    #[inline]
    fn drop(&mut self) {
        if let Some(previous) = self.0 {
            let _ = CAUSE.try_with(|cause| cause.set(previous));
        }
    }
}

/// Wakes on this thread happen because of `cause` until the guard drops.
#[inline]
pub(crate) fn cause(cause: Cause) -> CauseGuard {
    if on() {
        CauseGuard(CAUSE.try_with(|current| current.replace(cause)).ok())
    } else {
        CauseGuard(None)
    }
}

/// Names task `id` in trace files: its polls show as `poll <name> (task <id>)` instead of
/// `poll task <id>`. Does nothing unless the current runtime is traced, so a program can
/// label its tasks unconditionally.
///
/// ```
/// let runtime = asincrono::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(async {
///     let ticker = asincrono::spawn(async { /* … */ });
///     asincrono::trace::label(ticker.id(), "ticker");
///     ticker.await.unwrap();
/// });
/// ```
pub fn label(id: Id, name: &str) {
    if !on() {
        return;
    }
    let _ = LOCAL.try_with(|local| {
        if let Some(recorder) = &local.borrow().recorder {
            lock(&recorder.labels).push((id.as_u64(), name.to_owned()));
        }
    });
}
