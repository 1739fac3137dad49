//! The scaling mode (`--scale`): how the cost of one item grows with the number of items.
//!
//! The main benchmark times each workload at one size. Here three workloads
//! (`scale_workloads.rs`, compiled against both runtimes like `workloads.rs`) run at sizes
//! from 10³ to 10⁶, and each run reports its cost per item. A runtime whose structures suit
//! the load draws a flat line; a queue that scans or a structure that degrades draws a rising
//! one. The lines are written as tables and as a chart by `scale_report.rs`.
//!
//! The corner it cuts: one process runs everything, so memory an earlier size left with the
//! allocator is there for the next one (the main benchmark's isolated rows use a child process
//! per sample instead). The idle connections' client ends do live in a child process, started
//! from the bench binary with [`IDLE_CLIENTS_FLAG`], so that the fd limit is spent on the
//! runtime's side only: one fd per idle connection here, one there.

use crate::{Flavour, Named, Runtime};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::scale_report::{Curve, Point};

/// The scaling workloads, compiled against tokio.
pub mod on_tokio {
    use crate::on_tokio::{echo_until_closed, runtime, spawn_then_await};
    use ::tokio as rt;
    include!("scale_workloads.rs");
}

/// The same scaling workloads, compiled against asincrono.
pub mod on_asincrono {
    use crate::on_asincrono::{echo_until_closed, runtime, spawn_then_await};
    use ::asincrono as rt;
    include!("scale_workloads.rs");
}

/// How many connections do echo round trips while the idle ones are held open.
pub const ACTIVE_CONNECTIONS: usize = 4;
/// Round trips per active connection.
pub const ROUND_TRIPS: usize = 2_000;
/// The most idle connections a run holds, whatever the fd limit.
pub const MOST_IDLE_CONNECTIONS: usize = 20_000;
/// File descriptors kept free for everything else (listener, epoll, eventfds, stdio, the
/// active connections' two ends each).
const SPARE_FDS: usize = 64 + 2 * ACTIVE_CONNECTIONS;

/// The sizes of a full run.
pub const SIZES: &[usize] = &[1_000, 10_000, 100_000, 1_000_000];
/// The sizes of `--scale --quick`.
pub const QUICK_SIZES: &[usize] = &[1_000, 10_000, 100_000];

/// One scaling workload, both builds of it.
pub type ScaleFn = fn(Flavour, usize, &Path) -> Result<f64, String>;

/// A workload of the scaling mode.
pub struct Scaled {
    /// Its name, in the tables and the chart.
    pub name: &'static str,
    /// What one item's cost is: which clock, per what.
    pub measures: &'static str,
    /// Whether its size is a number of connections, so capped by the fd limit.
    pub needs_fds: bool,
    /// The tokio build.
    pub tokio: ScaleFn,
    /// The asincrono build.
    pub asincrono: ScaleFn,
}

/// Every scaling workload, in report order.
pub const SCALED: &[Scaled] = &[
    Scaled {
        name: "spawn_and_await",
        measures: "wall time per task",
        needs_fds: false,
        tokio: on_tokio::spawn_and_await,
        asincrono: on_asincrono::spawn_and_await,
    },
    Scaled {
        name: "timers",
        measures: "CPU time per timer",
        needs_fds: false,
        tokio: on_tokio::timers,
        asincrono: on_asincrono::timers,
    },
    Scaled {
        name: "idle_plus_active",
        measures: "wall time per active round trip; size = idle connections",
        needs_fds: true,
        tokio: on_tokio::idle_plus_active,
        asincrono: on_asincrono::idle_plus_active,
    },
];

/// What a scaling run does.
pub struct Plan {
    /// The sizes, smallest first.
    pub sizes: Vec<usize>,
    /// One run per point instead of several (for `--quick` and the smoke test).
    pub quick: bool,
    /// The most idle connections the fd limit allows (see [`connection_cap`]).
    pub connection_cap: usize,
    /// Only the workloads whose name contains this (`--filter`).
    pub filter: Option<String>,
}

impl Plan {
    /// The sizes `workload` runs at: the plan's, with connection counts capped (a size the
    /// cap cuts is run once, at the cap).
    pub fn sizes_of(&self, workload: &Scaled) -> Vec<usize> {
        let mut sizes: Vec<usize> = self
            .sizes
            .iter()
            .map(|&size| match workload.needs_fds {
                true => size.min(self.connection_cap),
                false => size,
            })
            .collect();
        sizes.dedup();
        sizes
    }

    /// Runs per point: enough for a median at small sizes, few where one run takes seconds.
    pub fn runs_at(&self, size: usize) -> usize {
        match self.quick {
            true => 1,
            false => (50_000 / size.max(1)).clamp(3, 7),
        }
    }
}

/// Runs every workload of `plan` on both runtimes and both flavours, alternating which
/// runtime goes first, and returns one curve per workload × runtime × flavour, each point the
/// median of its runs. `progress` is told what runs next.
pub fn run(
    plan: &Plan,
    bench_binary: &Path,
    mut progress: impl FnMut(&str),
) -> Result<Vec<Curve>, String> {
    let mut curves = Vec::new();
    let chosen = SCALED.iter().filter(|workload| {
        plan.filter
            .as_ref()
            .is_none_or(|filter| workload.name.contains(filter.as_str()))
    });
    for workload in chosen {
        for &flavour in Flavour::ALL {
            let sizes = plan.sizes_of(workload);
            let mut samples = [vec![Vec::new(); sizes.len()], vec![Vec::new(); sizes.len()]];
            // A warm-up at the smallest size on each runtime, not kept.
            for runtime in Runtime::ALL {
                run_one(workload, *runtime, flavour, sizes[0], bench_binary)?;
            }
            for (index, &size) in sizes.iter().enumerate() {
                for round in 0..plan.runs_at(size) {
                    for (slot, runtime) in runtimes_in_turn(round) {
                        let cost = run_one(workload, runtime, flavour, size, bench_binary)?;
                        samples[slot][index].push(cost);
                    }
                }
                let median = |slot: usize| Point::of(size, &samples[slot][index]).cost.median * 1e9;
                progress(&format!(
                    "{} on {} at {size}: tokio {:.0} ns, asincrono {:.0} ns",
                    workload.name,
                    flavour.name(),
                    median(0),
                    median(1)
                ));
            }
            for (slot, runtime) in Runtime::ALL.iter().enumerate() {
                curves.push(Curve {
                    workload: workload.name,
                    measures: workload.measures,
                    runtime: *runtime,
                    flavour,
                    points: sizes
                        .iter()
                        .zip(&samples[slot])
                        .map(|(&size, runs)| Point::of(size, runs))
                        .collect(),
                });
            }
        }
    }
    Ok(curves)
}

/// Both runtimes with their index in `Runtime::ALL`, tokio first in even rounds.
fn runtimes_in_turn(round: usize) -> [(usize, Runtime); 2] {
    let order = [(0, Runtime::ALL[0]), (1, Runtime::ALL[1])];
    if round % 2 == 0 {
        order
    } else {
        [order[1], order[0]]
    }
}

fn run_one(
    workload: &Scaled,
    runtime: Runtime,
    flavour: Flavour,
    size: usize,
    bench_binary: &Path,
) -> Result<f64, String> {
    let build = match runtime {
        Runtime::Tokio => workload.tokio,
        Runtime::Asincrono => workload.asincrono,
    };
    build(flavour, size, bench_binary).map_err(|err| {
        format!(
            "{} on {} ({}) at {size}: {err}",
            workload.name,
            runtime.name(),
            flavour.name()
        )
    })
}

/// The flag that runs one scaling workload once, for a profiler:
/// `--scale-once WORKLOAD RUNTIME FLAVOUR SIZE` prints its cost per item in seconds.
pub const SCALE_ONCE_FLAG: &str = "--scale-once";

/// The side of [`SCALE_ONCE_FLAG`]: runs the workload named on the command line and prints
/// its cost per item.
pub fn once_main(args: &[String], bench_binary: &Path) -> Result<(), String> {
    let [workload, runtime, flavour, size] = args else {
        return Err(format!(
            "usage: {SCALE_ONCE_FLAG} WORKLOAD RUNTIME FLAVOUR SIZE"
        ));
    };
    let workload = SCALED
        .iter()
        .find(|candidate| candidate.name == workload)
        .ok_or_else(|| format!("no scaling workload named {workload}"))?;
    let runtime =
        Runtime::from_name(runtime).ok_or_else(|| format!("no runtime named {runtime}"))?;
    let flavour =
        Flavour::from_name(flavour).ok_or_else(|| format!("no flavour named {flavour}"))?;
    let size: usize = size
        .parse()
        .ok()
        .filter(|&size| size > 0)
        .ok_or_else(|| format!("size {size:?} is not a positive whole number"))?;
    raise_fd_limit().map_err(|err| format!("cannot read the fd limit: {err}"))?;
    println!(
        "{}",
        run_one(workload, runtime, flavour, size, bench_binary)?
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// File descriptors

/// Raises this process's soft limit on open files to its hard limit (a process may, without
/// privileges) and returns the soft limit now in force.
pub fn raise_fd_limit() -> io::Result<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a pointer to a live one.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `setrlimit` only reads the `rlimit` behind a pointer to a live one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    Ok(usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX))
}

/// The most idle connections a process with `fd_limit` open files can hold, the other ends
/// being in a child process: at most [`MOST_IDLE_CONNECTIONS`], and at most half the
/// ephemeral port range (`ephemeral_ports`), rounded down to a thousand when over one.
///
/// Why half the range: all the idle connections go to one address and port, so each needs a
/// local port of its own, and Linux's `connect` tries the even ports of the range first.
/// Once those are taken, every further `connect` walks all of them before trying an odd one,
/// and setting up 19,000 connections took minutes instead of a second.
pub fn connection_cap(fd_limit: usize, ephemeral_ports: usize) -> usize {
    let cap = fd_limit
        .saturating_sub(SPARE_FDS)
        .min(ephemeral_ports / 2)
        .min(MOST_IDLE_CONNECTIONS);
    if cap >= 1_000 {
        cap / 1_000 * 1_000
    } else {
        cap
    }
}

/// How many local ports `connect` may choose from (`/proc/sys/net/ipv4/ip_local_port_range`;
/// Linux's default, 28,232, if that cannot be read).
pub fn ephemeral_ports() -> usize {
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut bounds = range.split_whitespace().map(|n| n.parse::<usize>().ok());
    match (bounds.next().flatten(), bounds.next().flatten()) {
        (Some(low), Some(high)) if high >= low => high - low + 1,
        _ => 28_232,
    }
}

// ---------------------------------------------------------------------------------------------
// The idle connections' client ends, in a child process

/// The flag that makes the bench binary the idle connections' client process:
/// `--idle-clients ADDR COUNT`. It connects `COUNT` plain blocking sockets to `ADDR`, a batch
/// each time a byte arrives on its standard input, holds them until that input closes, then
/// exits.
pub const IDLE_CLIENTS_FLAG: &str = "--idle-clients";

/// Connections per batch. The kernel completes a loopback handshake without waiting for
/// `accept`, so a client connecting as fast as it can outruns the accepting task and the
/// listener's queue overflows; each handshake dropped then costs a one-second SYN
/// retransmission (`nstat` counted them as `TcpExtListenOverflows`: with batches of 256,
/// 2,000 connections took 2–3 s to set up; with 32, 0.2 s). So the parent asks for the next
/// batch only once it has accepted this one.
pub const IDLE_BATCH: usize = 32;

/// The child process holding the client ends of the idle connections.
pub struct IdleClients {
    child: Child,
}

impl IdleClients {
    /// Starts the child, which will connect `count` sockets to `addr`, [`IDLE_BATCH`] at a
    /// time, each batch when asked for by [`IdleClients::next_batch`].
    pub fn start(
        bench_binary: &Path,
        addr: SocketAddr,
        count: usize,
    ) -> Result<IdleClients, String> {
        Command::new(bench_binary)
            .args([IDLE_CLIENTS_FLAG, &addr.to_string(), &count.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map(|child| IdleClients { child })
            .map_err(|err| format!("cannot start {}: {err}", bench_binary.display()))
    }

    /// Asks the child for its next batch of connections.
    pub fn next_batch(&mut self) -> Result<(), String> {
        let stdin = self
            .child
            .stdin
            .as_mut()
            .ok_or("the idle clients were already told to end")?;
        stdin
            .write_all(b"+")
            .and_then(|()| stdin.flush())
            .map_err(|err| format!("cannot reach the idle-client process: {err}"))
    }

    /// Why connections stopped arriving after `accepted`: the child's own message if it
    /// ended, else that it went quiet (and it is stopped).
    pub fn failure(&mut self, accepted: usize) -> String {
        let ended = self.child.try_wait().ok().flatten();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut said = String::new();
        if let Some(stderr) = self.child.stderr.as_mut() {
            let _ = stderr.read_to_string(&mut said);
        }
        match ended {
            Some(status) => format!(
                "the idle-client process ended ({status}) after {accepted} connections: {}",
                said.trim()
            ),
            None => format!(
                "no idle connection arrived for a while after {accepted}; the idle-client process was stopped"
            ),
        }
    }

    /// Closes the child's standard input, which ends it, and waits (10 s at most) for it.
    pub fn finish(mut self) -> Result<(), String> {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!("the idle-client process failed: {status}"));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)), // polling an exit
                Err(err) => return Err(format!("cannot wait for the idle-client process: {err}")),
            }
        }
        Err("the idle-client process did not end within 10 s of its input closing".into())
    }
}

impl Drop for IdleClients {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The child's side of [`IDLE_CLIENTS_FLAG`]: `ADDR COUNT`.
pub fn idle_clients_main(args: &[String]) -> Result<(), String> {
    let [addr, count] = args else {
        return Err(format!("usage: {IDLE_CLIENTS_FLAG} ADDR COUNT"));
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|err| format!("address {addr:?}: {err}"))?;
    let count: usize = count
        .parse()
        .map_err(|err| format!("count {count:?}: {err}"))?;
    raise_fd_limit().map_err(|err| format!("cannot read the fd limit: {err}"))?;
    let mut held = Vec::with_capacity(count);
    let mut stdin = io::stdin().lock();
    while held.len() < count {
        // One byte from the parent per batch; end of input means stop (the parent gave up).
        if stdin
            .read(&mut [0u8])
            .map_err(|err| format!("reading the parent: {err}"))?
            == 0
        {
            return Ok(());
        }
        for _ in 0..IDLE_BATCH.min(count - held.len()) {
            let stream =
                TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|err| {
                    format!("connection {} of {count} to {addr}: {err}", held.len() + 1)
                })?;
            held.push(stream);
        }
    }
    // Held until the parent closes our input (or dies, which closes it too).
    let _ = stdin.read_to_end(&mut Vec::new());
    Ok(())
}
