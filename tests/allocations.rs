//! A spawn costs one heap allocation: the task's header, future and output slot together.
//!
//! This binary installs a counting global allocator, so it lives in its own test file. The
//! count is per thread, so the test harness's other threads cannot disturb it.

use asincrono::runtime::Builder;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds the
// `GlobalAlloc` contract; the thread-local counter is a const-initialised `Cell`, which
// never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout, via `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during(work: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    work();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn spawning_a_task_allocates_once() {
    let runtime = Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        const TASKS: usize = 1_000;
        // Warm up: let the owner list and the run queue grow to size once.
        let warm: Vec<_> = (0..TASKS)
            .map(|i| asincrono::spawn(async move { i }))
            .collect();
        for handle in warm {
            handle.await.expect("no panic");
        }
        let mut handles = Vec::with_capacity(TASKS);
        let spawned = allocations_during(|| {
            for i in 0..TASKS {
                handles.push(asincrono::spawn(async move { i }));
            }
        });
        assert_eq!(spawned, TASKS, "one allocation per spawn");
        let joined = allocations_during(|| {
            drop(handles.drain(..TASKS / 2));
        });
        assert_eq!(joined, 0, "detaching allocates nothing");
        for handle in handles {
            handle.await.expect("no panic");
        }
    });
}

fn allocations_so_far() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn polling_yielding_and_joining_a_task_allocate_nothing() {
    let runtime = Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let job = || async {
            asincrono::task::yield_now().await;
            7
        };
        // Warm up: the queues, the deferred-wake list and the driver's buffers grow once.
        for _ in 0..10 {
            asincrono::spawn(job()).await.expect("no panic");
        }
        let handle = asincrono::spawn(job());
        // Everything between these two counts runs on this thread: the task is polled,
        // yields, is polled again, completes, and its output is handed to us.
        let before = allocations_so_far();
        let output = handle.await.expect("no panic");
        assert_eq!(
            allocations_so_far() - before,
            0,
            "no allocation after the spawn"
        );
        assert_eq!(output, 7);
    });
}

#[test]
fn waiting_for_socket_readiness_allocates_nothing() {
    use asincrono::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let (mut ping, mut pong) = asincrono::net::UnixStream::pair().expect("pair");
        let echo = asincrono::spawn(async move {
            let mut byte = [0u8; 1];
            while pong.read(&mut byte).await.expect("read") == 1 {
                pong.write_all(&byte).await.expect("write");
            }
        });
        let mut byte = [0u8; 1];
        let mut round_trip = async || {
            ping.write_all(b"x").await.expect("write");
            ping.read_exact(&mut byte).await.expect("read");
        };
        for _ in 0..10 {
            round_trip().await; // warm up
        }
        // Each round trip parks both tasks on their sockets and wakes them from the reactor.
        let before = allocations_so_far();
        for _ in 0..100 {
            round_trip().await;
        }
        assert_eq!(
            allocations_so_far() - before,
            0,
            "no allocation per readiness wait"
        );
        drop(ping);
        echo.await.expect("no panic");
    });
}
