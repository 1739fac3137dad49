// The scaling mode's workloads, written once. Like `workloads.rs`, this file is compiled
// twice (see `scale.rs`): `rt` names tokio in one copy and asincrono in the other, and
// `runtime`, `spawn_then_await` and `echo_until_closed` come from the matching copy of
// `workloads.rs`.
//
// Each takes its size N and returns the cost of one item, in seconds: the runtime is built
// before the clock starts and dropped after it stops, and what the clock measures is named
// in each function's doc (and in `Scaled::measures`).

use crate::Flavour;
use crate::scale::{ACTIVE_CONNECTIONS, IDLE_BATCH, IdleClients, ROUND_TRIPS};
use rt::io::{AsyncReadExt, AsyncWriteExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long one accept may take before the setup gives up (the client process died, or the
/// kernel refused a connection).
const ACCEPT_LIMIT: Duration = Duration::from_secs(10);

/// `tasks` tiny tasks spawned from a task, then awaited: wall time per task.
pub fn spawn_and_await(flavour: Flavour, tasks: usize, _: &Path) -> Result<f64, String> {
    let runtime = runtime(flavour);
    let started = Instant::now();
    runtime.block_on(spawn_then_await(tasks));
    Ok(started.elapsed().as_secs_f64() / tasks as f64)
}

/// `count` tasks, each sleeping until its own deadline, all awaited. The deadlines lie 0 to
/// 10 ms (in a shuffled order) after a start far enough off (3 µs per timer) that every timer
/// is armed before the first fires, so all `count` are in the timer structure at once. CPU
/// time (every thread of the process) per timer: wall time would mostly measure the waiting.
pub fn timers(flavour: Flavour, count: usize, _: &Path) -> Result<f64, String> {
    let runtime = runtime(flavour);
    let start = 1_000 + 3 * count as u64; // µs
    let before = crate::cpu_seconds();
    runtime.block_on(async move {
        let handles: Vec<_> = (0..count)
            .map(|i| {
                // 7,919 is prime, so i × 7,919 mod 10,000 visits the spread out of order.
                let delay = Duration::from_micros(start + (i as u64 * 7_919) % 10_000);
                rt::spawn(rt::time::sleep(delay))
            })
            .collect();
        for handle in handles {
            handle.await.expect("sleeper");
        }
    });
    Ok((crate::cpu_seconds() - before) / count as f64)
}

/// `idle` connections held open (each accepted end parked on a read in a task of its own,
/// the other ends in a child process), while `ACTIVE_CONNECTIONS` others do `ROUND_TRIPS`
/// echo round trips of 64 bytes each: wall time per active round trip.
pub fn idle_plus_active(flavour: Flavour, idle: usize, bench_binary: &Path) -> Result<f64, String> {
    let runtime = runtime(flavour);
    let (per_round_trip, clients) = runtime.block_on(async move {
        let listener = rt::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("local address: {e}"))?;
        let mut clients = IdleClients::start(bench_binary, addr, idle)?;
        for accepted in 0..idle {
            if accepted % IDLE_BATCH == 0 {
                clients.next_batch()?;
            }
            let (mut stream, _) = match rt::time::timeout(ACCEPT_LIMIT, listener.accept()).await {
                Ok(Ok(connection)) => connection,
                Ok(Err(err)) => {
                    return Err(format!("accept after {accepted} idle connections: {err}"));
                }
                Err(_) => return Err(clients.failure(accepted)),
            };
            rt::spawn(async move {
                let mut byte = [0u8; 1];
                let _ = stream.read(&mut byte).await; // ends when the client process exits
            });
        }
        let server = rt::spawn(async move {
            for _ in 0..ACTIVE_CONNECTIONS {
                let (stream, _) = listener
                    .accept()
                    .await
                    .expect("accept an active connection");
                rt::spawn(echo_until_closed(stream));
            }
        });
        let mut active = Vec::with_capacity(ACTIVE_CONNECTIONS);
        for _ in 0..ACTIVE_CONNECTIONS {
            let stream = rt::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream
                .set_nodelay(true)
                .map_err(|e| format!("nodelay: {e}"))?;
            active.push(stream);
        }
        server
            .await
            .map_err(|e| format!("the accepting task failed: {e}"))?;
        let started = Instant::now();
        let pingers: Vec<_> = active
            .into_iter()
            .map(|mut stream| {
                rt::spawn(async move {
                    let (message, mut echo) = ([7u8; 64], [0u8; 64]);
                    for _ in 0..ROUND_TRIPS {
                        stream.write_all(&message).await.expect("send");
                        stream.read_exact(&mut echo).await.expect("receive");
                    }
                })
            })
            .collect();
        for pinger in pingers {
            pinger.await.map_err(|e| format!("a pinger failed: {e}"))?;
        }
        let per_round_trip =
            started.elapsed().as_secs_f64() / (ACTIVE_CONNECTIONS * ROUND_TRIPS) as f64;
        Ok::<_, String>((per_round_trip, clients))
    })?;
    // Our ends close first (the runtime drops the parked tasks and their sockets), so the
    // TIME_WAIT entries land on the listener's port, not on the client process's ephemeral
    // ports: the next run's connections would otherwise have to search for free ones.
    drop(runtime);
    clients.finish()?;
    Ok(per_round_trip)
}
