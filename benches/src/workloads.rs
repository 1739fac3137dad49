// The workloads, written once. This file is compiled twice (see `lib.rs`): once inside
// `on_tokio`, where `rt` names tokio, and once inside `on_asincrono`, where `rt` names
// asincrono. Only the API names the two runtimes share appear here, so both compile the
// very same text.
//
// Each workload builds its own runtime (not timed), runs, and returns its measurements in
// the units its entry in `WORKLOADS` declares. The sizes come from `Size::pick`:
// (smoke test, --quick, full run).

use crate::{Flavour, Size};
use rt::io::{AsyncReadExt, AsyncWriteExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

// ANCHOR: runtime
/// A runtime of the flavour under test, set up as idiomatic code would (`enable_all`).
pub(crate) fn runtime(flavour: Flavour) -> rt::runtime::Runtime {
    let mut builder = match flavour {
        Flavour::CurrentThread => rt::runtime::Builder::new_current_thread(),
        Flavour::MultiThread => {
            let mut builder = rt::runtime::Builder::new_multi_thread();
            builder.worker_threads(2);
            builder
        }
    };
    builder.enable_all().build().expect("build the runtime")
}

/// Runs `future` on a fresh runtime and returns how long it took (runtime creation and
/// shutdown excluded).
fn timed<F: std::future::Future>(flavour: Flavour, future: F) -> Vec<f64> {
    let runtime = runtime(flavour);
    let started = Instant::now();
    runtime.block_on(future);
    vec![started.elapsed().as_secs_f64()]
}
// ANCHOR_END: runtime

/// Spawns many small tasks from inside a task and awaits them all.
pub fn spawn_inside(flavour: Flavour, size: Size) -> Vec<f64> {
    timed(flavour, spawn_then_await(size.pick(100, 20_000, 100_000)))
}

/// `tasks` tiny tasks spawned from the calling task, then awaited in spawn order (also the
/// scaling mode's `spawn_and_await`).
pub(crate) async fn spawn_then_await(tasks: usize) {
    let handles: Vec<_> = (0..tasks).map(|i| rt::spawn(async move { i })).collect();
    for handle in handles {
        handle.await.expect("task");
    }
}

/// Spawns many small tasks from outside the runtime (through `Runtime::spawn`), then
/// awaits them with `block_on`.
pub fn spawn_outside(flavour: Flavour, size: Size) -> Vec<f64> {
    let tasks = size.pick(100, 20_000, 100_000);
    let runtime = runtime(flavour);
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks).map(|i| runtime.spawn(async move { i })).collect();
    runtime.block_on(async move {
        for handle in handles {
            handle.await.expect("task");
        }
    });
    vec![started.elapsed().as_secs_f64()]
}

// ANCHOR: yield_many
/// Many tasks, each yielding many times.
pub fn yield_many(flavour: Flavour, size: Size) -> Vec<f64> {
    let (tasks, yields) = (size.pick(10, 100, 100), size.pick(10, 500, 2_000));
    timed(flavour, async move {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                rt::spawn(async move {
                    for _ in 0..yields {
                        rt::task::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("task");
        }
    })
}
// ANCHOR_END: yield_many

/// Each task spawns the next and awaits it: a chain of spawns.
pub fn chained_spawn(flavour: Flavour, size: Size) -> Vec<f64> {
    fn link(left: usize) -> rt::task::JoinHandle<()> {
        rt::spawn(async move {
            if left > 0 {
                link(left - 1).await.expect("task");
            }
        })
    }
    let depth = size.pick(100, 2_000, 10_000);
    timed(flavour, async move { link(depth).await.expect("task") })
}

/// Many concurrent timers with spread deadlines; a quarter are cancelled by a timeout.
pub fn timers(flavour: Flavour, size: Size) -> Vec<f64> {
    let count = size.pick(100, 5_000, 20_000);
    timed(flavour, async move {
        let handles: Vec<_> = (0..count)
            .map(|i| {
                rt::spawn(async move {
                    let delay = Duration::from_millis((i % 10) as u64);
                    if i % 4 == 0 {
                        let never = rt::time::sleep(Duration::from_secs(60));
                        let _ = rt::time::timeout(delay, never).await;
                    } else {
                        rt::time::sleep(delay).await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("task");
        }
    })
}

/// A loopback echo server with many client connections, each doing round trips of a small
/// message. Returns the total time and the 99th-percentile round-trip latency.
pub fn tcp_echo(flavour: Flavour, size: Size) -> Vec<f64> {
    let (connections, round_trips) = (size.pick(4, 50, 100), size.pick(10, 100, 200));
    let runtime = runtime(flavour);
    runtime.block_on(async move {
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = rt::spawn(async move {
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.expect("accept");
                rt::spawn(echo_until_closed(stream));
            }
        });
        let started = Instant::now();
        let clients: Vec<_> = (0..connections)
            .map(|_| {
                rt::spawn(async move {
                    let mut stream = rt::net::TcpStream::connect(addr).await.expect("connect");
                    stream.set_nodelay(true).expect("nodelay");
                    let mut latencies = Vec::with_capacity(round_trips);
                    let (message, mut echo) = ([7u8; 64], [0u8; 64]);
                    for _ in 0..round_trips {
                        let sent = Instant::now();
                        stream.write_all(&message).await.expect("send");
                        stream.read_exact(&mut echo).await.expect("receive");
                        latencies.push(sent.elapsed().as_secs_f64());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::with_capacity(connections * round_trips);
        for client in clients {
            latencies.extend(client.await.expect("client"));
        }
        let total = started.elapsed().as_secs_f64();
        server.await.expect("server");
        latencies.sort_by(f64::total_cmp);
        let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
        vec![total, p99]
    })
}

/// Bulk throughput: one connection, one writer, one reader, large writes.
pub fn tcp_bulk(flavour: Flavour, size: Size) -> Vec<f64> {
    let bytes: usize = size.pick(1 << 20, 64 << 20, 256 << 20);
    let runtime = runtime(flavour);
    runtime.block_on(async move {
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let started = Instant::now();
        let writer = rt::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let chunk = vec![42u8; 64 << 10];
            let mut sent = 0;
            while sent < bytes {
                stream.write_all(&chunk).await.expect("write");
                sent += chunk.len();
            }
        });
        let mut stream = rt::net::TcpStream::connect(addr).await.expect("connect");
        let mut buf = vec![0u8; 64 << 10];
        let mut received = 0;
        while received < bytes {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "the writer closed early");
            received += n;
        }
        writer.await.expect("writer");
        vec![started.elapsed().as_secs_f64()]
    })
}

/// Round trips of one datagram between two UDP sockets on loopback.
pub fn udp_ping_pong(flavour: Flavour, size: Size) -> Vec<f64> {
    let round_trips = size.pick(10, 5_000, 20_000);
    timed(flavour, async move {
        let ping = rt::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let pong = rt::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        ping.connect(pong.local_addr().expect("addr")).await.expect("connect");
        pong.connect(ping.local_addr().expect("addr")).await.expect("connect");
        let echo = rt::spawn(async move {
            let mut buf = [0u8; 32];
            for _ in 0..round_trips {
                let n = pong.recv(&mut buf).await.expect("recv");
                pong.send(&buf[..n]).await.expect("send");
            }
        });
        let mut buf = [0u8; 32];
        for _ in 0..round_trips {
            ping.send(b"ping").await.expect("send");
            ping.recv(&mut buf).await.expect("recv");
        }
        echo.await.expect("echo");
    })
}

/// Four producer tasks push messages through one small bounded channel to one consumer:
/// back-pressure, senders waiting for room, the receiver waking them.
pub fn mpsc_bounded(flavour: Flavour, size: Size) -> Vec<f64> {
    let per_producer = size.pick(100, 25_000, 100_000);
    timed(flavour, async move {
        let (tx, mut rx) = rt::sync::mpsc::channel::<usize>(128);
        for _ in 0..4 {
            let tx = tx.clone();
            rt::spawn(async move {
                for i in 0..per_producer {
                    tx.send(i).await.expect("the receiver is alive");
                }
            });
        }
        drop(tx);
        let mut received = 0;
        while rx.recv().await.is_some() {
            received += 1;
        }
        assert_eq!(received, 4 * per_producer);
    })
}

/// Two tasks bounce a message back and forth over two bounded channels of capacity 1: the
/// cost of one wake-up and one hand-over, with nothing to do in between.
pub fn mpsc_ping_pong(flavour: Flavour, size: Size) -> Vec<f64> {
    let round_trips = size.pick(100, 20_000, 100_000);
    timed(flavour, async move {
        let (ping_tx, mut ping_rx) = rt::sync::mpsc::channel::<usize>(1);
        let (pong_tx, mut pong_rx) = rt::sync::mpsc::channel::<usize>(1);
        let echo = rt::spawn(async move {
            while let Some(n) = ping_rx.recv().await {
                pong_tx.send(n).await.expect("the pinger is alive");
            }
        });
        let pinger = rt::spawn(async move {
            for i in 0..round_trips {
                ping_tx.send(i).await.expect("the echo is alive");
                assert_eq!(pong_rx.recv().await, Some(i));
            }
        });
        pinger.await.expect("pinger");
        echo.await.expect("echo");
    })
}

/// Request and reply, actor style: each request carries a fresh `oneshot` sender, and the
/// server task answers through it.
pub fn oneshot_ping_pong(flavour: Flavour, size: Size) -> Vec<f64> {
    let round_trips = size.pick(100, 20_000, 100_000);
    timed(flavour, async move {
        let (requests, mut inbox) = rt::sync::mpsc::channel::<(usize, rt::sync::oneshot::Sender<usize>)>(1);
        let server = rt::spawn(async move {
            while let Some((n, reply)) = inbox.recv().await {
                let _ = reply.send(n);
            }
        });
        let client = rt::spawn(async move {
            for i in 0..round_trips {
                let (reply, answer) = rt::sync::oneshot::channel();
                requests.send((i, reply)).await.expect("the server is alive");
                assert_eq!(answer.await.expect("an answer"), i);
            }
        });
        client.await.expect("client");
        server.await.expect("server");
    })
}

/// Many short blocking jobs through `spawn_blocking`, awaited together.
pub fn spawn_blocking_many(flavour: Flavour, size: Size) -> Vec<f64> {
    let jobs = size.pick(50, 5_000, 20_000);
    timed(flavour, async move {
        let handles: Vec<_> = (0..jobs)
            .map(|i| rt::task::spawn_blocking(move || i * 2))
            .collect();
        for handle in handles {
            handle.await.expect("job");
        }
    })
}

/// Writes many small files with `fs::write`, reads them back with `fs::read` and removes
/// them, all concurrently: file work going through each runtime's blocking pool. On a
/// RAM-backed file system where there is one (`files_dir`), so the disk stays out of it.
pub fn files(flavour: Flavour, size: Size) -> Vec<f64> {
    let count = size.pick(8, 200, 1_000);
    // Rounds never overlap, and each removes the directory at its end.
    let dir = crate::files_dir().join(format!("asincrono-bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    let contents: Arc<Vec<u8>> = Arc::new((0..16 * 1024).map(|i| i as u8).collect());
    let result = timed(flavour, {
        let dir = dir.clone();
        async move {
            let handles: Vec<_> = (0..count)
                .map(|i| {
                    let path = dir.join(format!("file-{i}"));
                    let contents = contents.clone();
                    rt::spawn(async move {
                        rt::fs::write(&path, &contents[..]).await.expect("write");
                        let back = rt::fs::read(&path).await.expect("read");
                        assert_eq!(back.len(), contents.len());
                        rt::fs::remove_file(&path).await.expect("remove");
                    })
                })
                .collect();
            for handle in handles {
                handle.await.expect("task");
            }
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Resident memory per task for many tasks parked on a long timer. Run in a child process
/// of its own, so that no earlier workload's memory muddies the reading.
pub fn memory_per_idle_task(flavour: Flavour, size: Size) -> Vec<f64> {
    let tasks = size.pick(1_000, 50_000, 100_000);
    let runtime = runtime(flavour);
    runtime.block_on(async move {
        let before = crate::resident_bytes();
        let started = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let started = started.clone();
                rt::spawn(async move {
                    // Counted in the same poll that arms the timer below.
                    started.fetch_add(1, Ordering::Relaxed);
                    rt::time::sleep(Duration::from_secs(3600)).await;
                })
            })
            .collect();
        while started.load(Ordering::Relaxed) < tasks {
            rt::task::yield_now().await;
        }
        let after = crate::resident_bytes();
        drop(handles); // detached; the runtime drops the tasks when it goes
        vec![after.saturating_sub(before) as f64 / tasks as f64]
    })
}

/// CPU time used by a runtime whose only task sleeps for a while. Run in a child process.
pub fn idle_cpu(flavour: Flavour, size: Size) -> Vec<f64> {
    let idle = Duration::from_millis(size.pick(50, 300, 1_000) as u64);
    let runtime = runtime(flavour);
    let before = crate::cpu_seconds();
    runtime.block_on(async move {
        rt::spawn(rt::time::sleep(idle)).await.expect("sleeper");
    });
    vec![crate::cpu_seconds() - before]
}

/// The echo side of a connection: sends back what arrives, in chunks of up to 64 bytes,
/// until the peer closes (shared by `tcp_echo` and the scaling mode's active connections).
pub(crate) async fn echo_until_closed(mut stream: rt::net::TcpStream) {
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => stream.write_all(&buf[..n]).await.expect("echo"),
        }
    }
}
