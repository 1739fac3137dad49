//! Stage 4 of the build-your-own track: several worker threads.
//!
//! Stage 3 ran every task on the thread that called `run`. Now `run` starts `WORKERS`
//! threads that share its queue, so two tasks can run at the same time. Each worker pops a
//! task and polls it; one with nothing to run either takes the mio poll (only one thread
//! may sleep in it) or, if another worker holds it, sleeps on a `Condvar`. A wake pushes the
//! task, wakes one sleeping worker and rings mio, since the thread in `poll` might be the
//! only one idle. A timer that becomes the earliest rings mio too: the thread asleep there
//! chose its timeout before the timer existed.
//!
//! The corner cut: one queue and one lock for every worker, and a task woken while it runs
//! can be popped by a second worker, which then waits on the task's lock. tokio (and
//! asincrono, the book's chapter 8) gives each worker a queue of its own, steals between
//! them, and queues a task at most once through its state word.
//!
//! `cargo run --example stage4` prints `PASS` when the self-check at the bottom holds.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Token};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The token of the mio waker that `Task::wake` rings from other threads.
const WAKE_TOKEN: Token = Token(0);
/// The threads that run tasks, the caller of `run` included.
const WORKERS: usize = 2;

// ANCHOR: stage4_runtime
/// Everything the workers share: the queue of woken tasks and the workers asleep on it,
/// the mio poll with the wakers of the sockets registered on it, and the timers.
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
}
// ANCHOR_END: stage4_runtime

/// A spawned future, and the runtime a wake sends it back to.
struct Task {
    future: Mutex<Option<BoxFuture>>,
    runtime: Arc<Runtime>,
}

// ANCHOR: stage4_wake
impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.runtime.queue.lock().unwrap().push_back(self.clone());
        // A worker may be asleep on the condvar, and another in `mio::Poll::poll`: the one
        // in mio may be the only idle one, so it is rung as well.
        self.runtime.idle.notify_one();
        let _ = self.runtime.ring.wake();
    }
}
// ANCHOR_END: stage4_wake

thread_local! {
    /// The runtime this thread works for: how `spawn`, sockets and timers find it.
    static CURRENT: RefCell<Option<Arc<Runtime>>> = const { RefCell::new(None) };
}

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

/// Queues `future` as a new task; its output goes to the returned handle.
fn spawn<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> JoinHandle<T> {
    let joint = Arc::new(Mutex::new(Joint {
        output: None,
        waker: None,
    }));
    let for_task = joint.clone();
    let runtime = current();
    runtime.live.fetch_add(1, Ordering::SeqCst);
    let task = Arc::new(Task {
        future: Mutex::new(Some(Box::pin(async move {
            let output = future.await;
            let mut joint = for_task.lock().unwrap();
            joint.output = Some(output);
            if let Some(waker) = joint.waker.take() {
                waker.wake();
            }
        }))),
        runtime: runtime.clone(),
    });
    // Queued as a woken task is, so that a worker asleep in mio hears of it too.
    task.wake();
    JoinHandle { joint }
}

// ANCHOR: stage4_run
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
fn work(runtime: Arc<Runtime>) -> io::Result<()> {
    CURRENT.with(|c| *c.borrow_mut() = Some(runtime.clone()));
    let mut events = Events::with_capacity(64);
    while runtime.live.load(Ordering::SeqCst) > 0 {
        let next = runtime.queue.lock().unwrap().pop_front();
        match next {
            Some(task) => run_task(&task),
            None => match runtime.poll.try_lock() {
                Ok(poll) => drive(&runtime, poll, &mut events)?,
                Err(_) => wait_for_work(&runtime),
            },
        }
    }
    Ok(())
}

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

/// Nothing to run: sleep in mio until a socket is ready, a wake rings, or the next timer is
/// due; then wake whoever waits for what happened.
fn drive(
    runtime: &Runtime,
    mut poll: MutexGuard<mio::Poll>,
    events: &mut Events,
) -> io::Result<()> {
    let next_deadline = runtime
        .timers
        .lock()
        .unwrap()
        .keys()
        .next()
        .map(|(at, _)| *at);
    let timeout = next_deadline.map(|at| at.saturating_duration_since(Instant::now()));
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
// ANCHOR_END: stage4_run

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

// ANCHOR: stage4_sleep
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
// ANCHOR_END: stage4_sleep

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

/// The self-check: stage 3's checks still hold on several threads, and two tasks run at
/// the same time.
fn main() {
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
        *out.lock().unwrap() = Some((squares, echoed.ok(), met));
    });
    let took = started.elapsed();
    let result = result.lock().unwrap().take();
    println!("stage 4: {result:?} in {} ms", took.as_millis());
    let pass = ran.is_ok()
        && result == Some((vec![1, 4, 9, 16], Some(11), true))
        && took >= Duration::from_millis(100)
        && took < Duration::from_millis(400);
    println!("{}", if pass { "PASS" } else { "FAIL" });
}
