//! Stage 6 of the build-your-own track: fairness, with a budget and an event interval.
//!
//! In stage 5 a task whose futures are always ready (a loop over `sleep(ZERO)`, a socket
//! that always has data) is polled once and never returns, and a worker that always finds
//! a task queued never drives, so timers and sockets wait for ever. Two rules fix it: each
//! poll of a task has a budget of `BUDGET` operations, and a leaf future that finds it
//! spent returns `Pending` after waking its own task, which goes to the back of the queue;
//! and every `EVENT_INTERVAL` tasks, a worker drives mio without waiting, whether or not
//! tasks are queued.
//!
//! The corner cut: the budget is counted only in this file's three leaf futures, and the
//! drive between tasks is a `try_lock` that a busy driver makes the worker skip. tokio's
//! budget (128, as here) is spent by every resource of the runtime, and its workers also
//! check the driver after a fixed number of tasks (61, as here).
//!
//! `cargo run --example stage6` prints `PASS` when the self-check at the bottom holds.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Token};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::{Duration, Instant};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The token of the mio waker that `Task::wake` rings from other threads.
const WAKE_TOKEN: Token = Token(0);
/// The threads that run tasks, the caller of `run` included.
const WORKERS: usize = 2;
/// The operations (timer, socket, handle polls) one poll of a task may make.
const BUDGET: u32 = 128;
/// A worker drives mio after this many tasks, even with tasks queued.
const EVENT_INTERVAL: u32 = 61;
/// How long a pool thread waits for a job before it ends.
const KEEP_ALIVE: Duration = Duration::from_secs(1);

/// A blocking call, with what to do with its output, boxed to wait in the pool's queue.
type Job = Box<dyn FnOnce() + Send>;

/// Everything the workers share: the queue of woken tasks and the workers asleep on it,
/// the mio poll with the wakers of the sockets registered on it, the timers, and the
/// blocking pool's jobs with the pool threads that wait for one.
struct Runtime {
    queue: Mutex<VecDeque<Arc<Task>>>,
    idle: Condvar,
    poll: Mutex<mio::Poll>,
    registry: mio::Registry,
    ring: mio::Waker,
    io_wakers: Mutex<HashMap<Token, Waker>>,
    timers: Mutex<BTreeMap<(Instant, u64), Waker>>,
    next_id: AtomicU64,
    live: AtomicUsize,
    pool: Mutex<Pool>,
    job_ready: Condvar,
}

/// The blocking pool's queue, and how many of its threads wait for a job.
struct Pool {
    jobs: VecDeque<Job>,
    idle: usize,
}

/// A spawned future, and the runtime a wake sends it back to.
struct Task {
    future: Mutex<Option<BoxFuture>>,
    runtime: Arc<Runtime>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.runtime.queue.lock().unwrap().push_back(self.clone());
        // A worker may be asleep on the condvar, and another in `mio::Poll::poll`: the one
        // in mio may be the only idle one, so it is rung as well.
        self.runtime.idle.notify_one();
        let _ = self.runtime.ring.wake();
    }
}

thread_local! {
    /// The runtime this thread works for: how `spawn`, sockets and timers find it.
    static CURRENT: RefCell<Option<Arc<Runtime>>> = const { RefCell::new(None) };
    /// What is left of the budget of the task this thread is polling.
    static BUDGET_LEFT: Cell<u32> = const { Cell::new(BUDGET) };
}

// ANCHOR: stage6_budget
/// Spends one unit of the running task's budget, or, when it is spent, wakes the task and
/// says `Pending`: the task goes to the back of the queue even though its future is ready.
fn poll_budget(cx: &mut Context<'_>) -> Poll<()> {
    let left = BUDGET_LEFT.get();
    if left == 0 {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    BUDGET_LEFT.set(left - 1);
    Poll::Ready(())
}
// ANCHOR_END: stage6_budget

fn current() -> Arc<Runtime> {
    CURRENT
        .with(|c| c.borrow().clone())
        .expect("used outside run")
}

/// The slot a task and its `JoinHandle` share.
struct Joint<T> {
    output: Option<T>,
    waker: Option<Waker>,
}

/// Awaits a spawned task's output.
struct JoinHandle<T> {
    joint: Arc<Mutex<Joint<T>>>,
}

impl<T> Future for JoinHandle<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        ready!(poll_budget(cx));
        let mut joint = self.joint.lock().unwrap();
        match joint.output.take() {
            Some(output) => Poll::Ready(output),
            None => {
                joint.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// An empty slot, for a task or a job and its handle.
fn joint<T>() -> Arc<Mutex<Joint<T>>> {
    Arc::new(Mutex::new(Joint {
        output: None,
        waker: None,
    }))
}

/// Stores a task's or a job's output, and wakes its handle if it is already waiting.
fn finish<T>(joint: &Mutex<Joint<T>>, output: T) {
    let mut joint = joint.lock().unwrap();
    joint.output = Some(output);
    if let Some(waker) = joint.waker.take() {
        waker.wake();
    }
}

/// Queues `future` as a new task; its output goes to the returned handle.
fn spawn<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> JoinHandle<T> {
    let joint = joint();
    let for_task = joint.clone();
    let runtime = current();
    runtime.live.fetch_add(1, Ordering::SeqCst);
    let task = Arc::new(Task {
        future: Mutex::new(Some(Box::pin(async move {
            finish(&for_task, future.await);
        }))),
        runtime: runtime.clone(),
    });
    // Queued as a woken task is, so that a worker asleep in mio hears of it too.
    task.wake();
    JoinHandle { joint }
}

/// Runs `call` on a pool thread; its output goes to the returned handle.
fn spawn_blocking<T: Send + 'static>(call: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    let joint = joint();
    let for_job = joint.clone();
    let runtime = current();
    let mut pool = runtime.pool.lock().unwrap();
    pool.jobs
        .push_back(Box::new(move || finish(&for_job, call())));
    // Every queued job needs an idle thread of its own: one already woken for an earlier
    // job will take that job, not this one.
    if pool.jobs.len() > pool.idle {
        let for_thread = runtime.clone();
        std::thread::spawn(move || pool_thread(&for_thread));
    } else {
        runtime.job_ready.notify_one();
    }
    JoinHandle { joint }
}

/// A pool thread: runs jobs as they come, and ends after `KEEP_ALIVE` without one.
fn pool_thread(runtime: &Runtime) {
    let mut pool = runtime.pool.lock().unwrap();
    loop {
        if let Some(job) = pool.jobs.pop_front() {
            drop(pool); // other jobs may be queued while this one runs
            job();
            pool = runtime.pool.lock().unwrap();
            continue;
        }
        pool.idle += 1;
        let (woken, waited) = runtime.job_ready.wait_timeout(pool, KEEP_ALIVE).unwrap();
        pool = woken;
        pool.idle -= 1;
        if waited.timed_out() && pool.jobs.is_empty() {
            return;
        }
    }
}

/// Reads a whole file on the pool, as one job: the workers go on running tasks meanwhile.
fn read_file(path: PathBuf) -> JoinHandle<io::Result<Vec<u8>>> {
    spawn_blocking(move || std::fs::read(path))
}

/// Runs `main` and every task it spawns on `WORKERS` threads, until all have finished.
fn run(main: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
    let poll = mio::Poll::new()?;
    let runtime = Arc::new(Runtime {
        registry: poll.registry().try_clone()?,
        ring: mio::Waker::new(poll.registry(), WAKE_TOKEN)?,
        poll: Mutex::new(poll),
        queue: Mutex::new(VecDeque::new()),
        idle: Condvar::new(),
        io_wakers: Mutex::new(HashMap::new()),
        timers: Mutex::new(BTreeMap::new()),
        next_id: AtomicU64::new(1),
        live: AtomicUsize::new(0),
        pool: Mutex::new(Pool {
            jobs: VecDeque::new(),
            idle: 0,
        }),
        job_ready: Condvar::new(),
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(runtime.clone()));
    drop(spawn(main));
    let results: Vec<io::Result<()>> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..WORKERS)
            .map(|_| scope.spawn(|| work(runtime.clone())))
            .collect();
        let mut results = vec![work(runtime.clone())];
        results.extend(others.into_iter().map(|t| t.join().unwrap()));
        results
    });
    CURRENT.with(|c| c.borrow_mut().take());
    results.into_iter().collect()
}

/// One worker's loop: run a task, or else drive (if no other worker is in mio), or else
/// sleep until a wake.
// ANCHOR: stage6_work
fn work(runtime: Arc<Runtime>) -> io::Result<()> {
    CURRENT.with(|c| *c.borrow_mut() = Some(runtime.clone()));
    let mut events = Events::with_capacity(64);
    let mut tasks_run: u32 = 0;
    while runtime.live.load(Ordering::SeqCst) > 0 {
        tasks_run = tasks_run.wrapping_add(1);
        if tasks_run % EVENT_INTERVAL == 0 {
            // Look at sockets and timers now, even if tasks are queued: without this, a
            // queue that is never empty would keep them waiting for ever.
            if let Ok(poll) = runtime.poll.try_lock() {
                drive(&runtime, poll, &mut events, false)?;
            }
        }
        let next = runtime.queue.lock().unwrap().pop_front();
        match next {
            Some(task) => run_task(&task),
            None => match runtime.poll.try_lock() {
                Ok(poll) => drive(&runtime, poll, &mut events, true)?,
                Err(_) => wait_for_work(&runtime),
            },
        }
    }
    Ok(())
}
// ANCHOR_END: stage6_work

/// Sleeps on the condvar until a task is queued or none is left. The checks are made
/// under the queue's lock, which every push (and the last task's end) takes too, so a
/// wake cannot slip in between the check and the sleep.
fn wait_for_work(runtime: &Runtime) {
    let queue = runtime.queue.lock().unwrap();
    if queue.is_empty() && runtime.live.load(Ordering::SeqCst) > 0 {
        drop(runtime.idle.wait(queue).unwrap());
    }
}

/// Polls one woken task once.
fn run_task(task: &Arc<Task>) {
    let mut slot = task.future.lock().unwrap();
    let Some(future) = slot.as_mut() else {
        return; // woken again after it finished
    };
    let waker = Waker::from(task.clone());
    BUDGET_LEFT.set(BUDGET);
    if future
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_ready()
    {
        *slot = None;
        if task.runtime.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            // The last task is done: every worker must see it and stop.
            let _queue = task.runtime.queue.lock().unwrap();
            task.runtime.idle.notify_all();
            let _ = task.runtime.ring.wake();
        }
    }
}

/// Asks mio what happened, sleeping (if `wait`) until a socket is ready, a wake rings, or
/// the next timer is due; then wakes whoever waits for what happened.
fn drive(
    runtime: &Runtime,
    mut poll: MutexGuard<mio::Poll>,
    events: &mut Events,
    wait: bool,
) -> io::Result<()> {
    let next_deadline = runtime
        .timers
        .lock()
        .unwrap()
        .keys()
        .next()
        .map(|(at, _)| *at);
    let timeout = match wait {
        true => next_deadline.map(|at| at.saturating_duration_since(Instant::now())),
        false => Some(Duration::ZERO),
    };
    poll.poll(events, timeout)?;
    for event in events.iter() {
        if let Some(waker) = runtime.io_wakers.lock().unwrap().remove(&event.token()) {
            waker.wake();
        }
    }
    let now = Instant::now();
    let mut timers = runtime.timers.lock().unwrap();
    while let Some(entry) = timers.first_entry() {
        if entry.key().0 > now {
            break;
        }
        entry.remove().wake();
    }
    Ok(())
}

/// A mio socket registered with the current runtime under a token of its own.
struct Async<T: mio::event::Source> {
    io: T,
    token: Token,
}

impl<T: mio::event::Source> Async<T> {
    fn new(mut io: T) -> io::Result<Async<T>> {
        let runtime = current();
        let token = Token(runtime.next_id.fetch_add(1, Ordering::SeqCst) as usize);
        let both = Interest::READABLE | Interest::WRITABLE;
        runtime.registry.register(&mut io, token, both)?;
        Ok(Async { io, token })
    }

    /// Runs `op` until it does not say `WouldBlock`, waiting for the socket in between.
    /// mio is edge-triggered: it reports a change once, so the waker is stored *before*
    /// the second try, and an event between the two tries is not lost.
    async fn io<R>(&mut self, mut op: impl FnMut(&mut T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| {
            ready!(poll_budget(cx));
            for attempt in 0..2 {
                match op(&mut self.io) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    result => return Poll::Ready(result),
                }
                if attempt == 0 {
                    let wakers = &current().io_wakers;
                    wakers
                        .lock()
                        .unwrap()
                        .insert(self.token, cx.waker().clone());
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// A timer in the runtime's queue, keyed by its deadline (and an id, to keep keys unique).
struct Sleep {
    deadline: Instant,
    id: u64,
}

fn sleep(duration: Duration) -> Sleep {
    let id = current().next_id.fetch_add(1, Ordering::SeqCst);
    Sleep {
        deadline: Instant::now() + duration,
        id,
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        ready!(poll_budget(cx));
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let key = (self.deadline, self.id);
        let runtime = current();
        let mut timers = runtime.timers.lock().unwrap();
        timers.insert(key, cx.waker().clone());
        if timers.keys().next() == Some(&key) {
            // The worker asleep in mio chose its timeout before this timer existed.
            let _ = runtime.ring.wake();
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // A cancelled timer leaves the queue, so the loop does not wake up for it.
        if let Some(runtime) = CURRENT.with(|c| c.borrow().clone()) {
            runtime
                .timers
                .lock()
                .unwrap()
                .remove(&(self.deadline, self.id));
        }
    }
}

/// An echo over loopback: the server task answers each line, the client sends three.
async fn echo_round_trips() -> io::Result<usize> {
    let mut listener = Async::new(TcpListener::bind("127.0.0.1:0".parse().unwrap())?)?;
    let address = listener.io.local_addr()?;
    let server = spawn(async move {
        let (stream, _) = listener.io(|l| l.accept()).await?;
        let mut stream = Async::new(stream)?;
        let mut buffer = [0; 64];
        loop {
            let n = stream.io(|s| s.read(&mut buffer)).await?;
            if n == 0 {
                return io::Result::Ok(());
            }
            stream.io(|s| s.write(&buffer[..n])).await?;
        }
    });
    let mut client = Async::new(TcpStream::connect(address)?)?;
    let mut echoed = 0;
    for message in [&b"one"[..], b"two", b"three"] {
        client.io(|s| s.write(message)).await?;
        let mut buffer = [0; 64];
        echoed += client.io(|s| s.read(&mut buffer)).await?;
    }
    drop(client); // the server reads 0 and ends
    server.await?;
    Ok(echoed)
}

/// Two tasks that each wait, without yielding, for the other to start: they can meet only
/// if they run at the same time, on two workers. Gives up after a second.
async fn two_tasks_meet() -> bool {
    let arrived = Arc::new(AtomicUsize::new(0));
    let handles: Vec<JoinHandle<bool>> = (0..2)
        .map(|_| {
            let arrived = arrived.clone();
            spawn(async move {
                arrived.fetch_add(1, Ordering::SeqCst);
                let give_up = Instant::now() + Duration::from_secs(1);
                while arrived.load(Ordering::SeqCst) < 2 && Instant::now() < give_up {
                    std::hint::spin_loop();
                }
                arrived.load(Ordering::SeqCst) == 2
            })
        })
        .collect();
    let mut met = true;
    for handle in handles {
        met &= handle.await;
    }
    met
}

/// Four blocking jobs that each wait, blocked, until all four have started and then until
/// a task on the workers has ticked (every 5 ms) three more times: the jobs meet only if
/// each has a thread of its own, and the ticks come only if no worker is blocked. Each wait
/// gives up after a second. Returns whether every job saw both, and the ticks.
async fn blocking_jobs_leave_the_workers_free() -> (bool, u32) {
    let arrived = Arc::new(AtomicUsize::new(0));
    let ticks = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (ticks, done) = (ticks.clone(), done.clone());
        spawn(async move {
            while done.load(Ordering::SeqCst) < 4 {
                sleep(Duration::from_millis(5)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let jobs: Vec<JoinHandle<bool>> = (0..4)
        .map(|_| {
            let (arrived, ticks, done) = (arrived.clone(), ticks.clone(), done.clone());
            spawn_blocking(move || {
                arrived.fetch_add(1, Ordering::SeqCst);
                let met = block_until(|| arrived.load(Ordering::SeqCst) == 4);
                let seen = ticks.load(Ordering::SeqCst);
                let ticked = block_until(|| ticks.load(Ordering::SeqCst) >= seen + 3);
                done.fetch_add(1, Ordering::SeqCst);
                met && ticked
            })
        })
        .collect();
    let mut met = true;
    for job in jobs {
        met &= job.await;
    }
    ticker.await;
    (met, ticks.load(Ordering::SeqCst) as u32)
}

/// Blocks this thread until `ready` holds, or a second has passed; says whether it holds.
fn block_until(ready: impl Fn() -> bool) -> bool {
    let give_up = Instant::now() + Duration::from_secs(1);
    while !ready() && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(1));
    }
    ready()
}

/// Writes a file, and reads it back through the pool.
async fn file_round_trip() -> io::Result<bool> {
    let path = std::env::temp_dir().join(format!("stage5-{}.txt", std::process::id()));
    let text = b"read on the blocking pool".to_vec();
    std::fs::write(&path, &text)?;
    let read = read_file(path.clone()).await;
    std::fs::remove_file(&path)?;
    Ok(read? == text)
}

/// `WORKERS` tasks that loop over `sleep(ZERO)`, always ready, until a timer fires 20 ms
/// later: the timer's task runs only if the loops give their workers back. Returns how
/// long the timer took.
async fn busy_tasks_let_a_timer_fire() -> Duration {
    let stop = Arc::new(AtomicUsize::new(0));
    let spinners: Vec<JoinHandle<()>> = (0..WORKERS)
        .map(|_| {
            let stop = stop.clone();
            spawn(async move {
                while stop.load(Ordering::SeqCst) == 0 {
                    sleep(Duration::ZERO).await;
                }
            })
        })
        .collect();
    let started = Instant::now();
    sleep(Duration::from_millis(20)).await;
    let took = started.elapsed();
    stop.store(1, Ordering::SeqCst);
    for spinner in spinners {
        spinner.await;
    }
    took
}

/// The self-check: stage 5's checks still hold, and tasks that are always ready cannot
/// keep a timer from firing. A watchdog says `FAIL` if the run hangs (as it does without
/// the budget or the event interval).
fn main() {
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(10));
        println!("stage 6: still running after 10 s\nFAIL");
        std::process::exit(1);
    });
    let started = Instant::now();
    let result = Arc::new(Mutex::new(None));
    let out = result.clone();
    let ran = run(async move {
        let handles: Vec<JoinHandle<u64>> = (1..=4)
            .map(|n| {
                spawn(async move {
                    sleep(Duration::from_millis(25 * n)).await;
                    n * n
                })
            })
            .collect();
        let mut squares = Vec::new();
        for handle in handles {
            squares.push(handle.await);
        }
        let echoed = echo_round_trips().await;
        let met = two_tasks_meet().await;
        let (jobs_met, ticks) = blocking_jobs_leave_the_workers_free().await;
        let file_read = file_round_trip().await.ok();
        let timer_took = busy_tasks_let_a_timer_fire().await;
        *out.lock().unwrap() = Some((
            squares,
            echoed.ok(),
            met,
            jobs_met,
            ticks,
            file_read,
            timer_took,
        ));
    });
    let took = started.elapsed();
    let result = result.lock().unwrap().take();
    println!("stage 6: {result:?} in {} ms", took.as_millis());
    let pass = ran.is_ok()
        && result.is_some_and(
            |(squares, echoed, met, jobs_met, ticks, file_read, timer_took)| {
                squares == [1, 4, 9, 16]
                    && echoed == Some(11)
                    && met
                    && jobs_met
                    && ticks >= 3
                    && file_read == Some(true)
                    && timer_took < Duration::from_millis(500)
            },
        )
        && took >= Duration::from_millis(120)
        && took < Duration::from_millis(1500);
    println!("{}", if pass { "PASS" } else { "FAIL" });
}
