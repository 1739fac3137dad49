//! asincrono and tokio, side by side.
//!
//! Every workload is written once, in `workloads.rs`, against the API names the two runtimes
//! share, and compiled twice: in [`on_tokio`] the name `rt` means tokio, in
//! [`on_asincrono`] it means asincrono. The runner (`main.rs`) runs each workload on both in
//! alternation, round after round, and reports the medians and their ratio
//! (asincrono ÷ tokio: below 1.0, asincrono was faster or smaller).
//!
//! Workloads that measure the whole process (memory per idle task, idle CPU) run in a child
//! process each: the bench binary starts itself again with `--child`, so that one
//! runtime's memory or threads never count against the other.
//!
//! The scaling mode (`--scale`, [`scale`]) runs three more workloads at sizes from 10³ to
//! 10⁶ and reports how the cost of one item grows with the number of items.

#![deny(missing_docs)]

pub mod ratio;
pub mod report;
pub mod rounds;
pub mod scale;
pub mod scale_report;
pub mod steal;

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

// ANCHOR: compiled_twice
/// The same workload source, compiled against tokio.
pub mod on_tokio {
    use ::tokio as rt;
    include!("workloads.rs");
}

/// The same workload source, compiled against asincrono.
pub mod on_asincrono {
    use ::asincrono as rt;
    include!("workloads.rs");
}
// ANCHOR_END: compiled_twice

/// The comparison servers: a compact HTTP/1.1 server and a compact RESP2 key-value server,
/// written once in `servers.rs` and compiled against both runtimes, for `wrk` and
/// `redis-benchmark` to load (the `serve` binary, `scripts/compare-servers.sh`).
///
/// They are deliberately smaller than `examples/http_server.rs` and `examples/kv_server.rs`
/// (no files, timers or expiry), so that the comparison measures the runtime, not the
/// features; and the very same text runs on tokio and on asincrono.
pub mod servers {
    use crate::{Flavour, Named, Runtime};
    use std::io;
    use std::net::SocketAddr;

    /// The servers, compiled against tokio.
    pub mod on_tokio {
        use ::tokio as rt;
        include!("servers.rs");
    }

    /// The same servers, compiled against asincrono.
    pub mod on_asincrono {
        use ::asincrono as rt;
        include!("servers.rs");
    }

    /// Which of the two servers.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Server {
        /// HTTP/1.1: `GET /` and `GET /hello` answer a fixed body, `GET /file` a small file read
        /// from disk; keep-alive, pipelining.
        Http,
        /// RESP2: PING, GET, SET, DEL, INCR, and what `redis-benchmark` asks first.
        Kv,
    }

    impl Named for Server {
        const ALL: &'static [Server] = &[Server::Http, Server::Kv];

        fn name(self) -> &'static str {
            match self {
                Server::Http => "http",
                Server::Kv => "kv",
            }
        }
    }

    /// Serves `server` on `runtime` of `flavour` at `addr` in this thread, until the process
    /// ends; `on_ready` is called with the bound address once the server accepts.
    pub fn serve(
        server: Server,
        runtime: Runtime,
        flavour: Flavour,
        addr: SocketAddr,
        on_ready: impl FnOnce(SocketAddr),
    ) -> io::Result<()> {
        match runtime {
            Runtime::Tokio => on_tokio::serve(server, flavour, addr, on_ready),
            Runtime::Asincrono => on_asincrono::serve(server, flavour, addr, on_ready),
        }
    }

    /// Starts `server` on a thread of its own, on a free loopback port, and returns its
    /// address once it accepts. The server lives until the process ends (for tests).
    pub fn start(server: Server, runtime: Runtime, flavour: Flavour) -> io::Result<SocketAddr> {
        let name = format!("{}-{}", server.name(), runtime.name());
        start_on_thread(name, move |addr, on_ready| {
            serve(server, runtime, flavour, addr, on_ready)
        })
    }

    /// Runs `serve` (given a loopback address with a free port, and what to call once it
    /// accepts) on a thread named `name`, and returns the bound address once it accepts.
    pub(crate) fn start_on_thread(
        name: String,
        serve: impl FnOnce(SocketAddr, &mut dyn FnMut(SocketAddr)) -> io::Result<()> + Send + 'static,
    ) -> io::Result<SocketAddr> {
        let (ready, bound) = std::sync::mpsc::channel();
        let failed = ready.clone();
        std::thread::Builder::new().name(name).spawn(move || {
            let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
            let outcome = serve(loopback, &mut |addr| {
                let _ = ready.send(Ok(addr));
            });
            if let Err(err) = outcome {
                let _ = failed.send(Err(err));
            }
        })?;
        bound
            .recv()
            .map_err(|_| io::Error::other("the server thread ended before it was ready"))?
    }
}

pub mod hyper_service;

/// A small enum whose values have names, for reports and for the child's command line.
pub trait Named: Copy + 'static {
    /// Every value.
    const ALL: &'static [Self];

    /// The value's name.
    fn name(self) -> &'static str;

    /// The value with this name.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.name() == name)
    }
}

/// Which scheduler a runtime is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Every task on the thread that calls `block_on`.
    CurrentThread,
    /// A pool of two worker threads (the machine has two cores).
    MultiThread,
}

impl Named for Flavour {
    const ALL: &'static [Flavour] = &[Flavour::CurrentThread, Flavour::MultiThread];

    fn name(self) -> &'static str {
        match self {
            Flavour::CurrentThread => "current_thread",
            Flavour::MultiThread => "multi_thread",
        }
    }
}

/// The flavours the benchmark compares.
pub const FLAVOURS: &[Flavour] = Flavour::ALL;

/// How big each workload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Tiny: `cargo test` runs every workload once at this size.
    Smoke,
    /// `--quick`: about a minute for the whole run.
    Quick,
    /// The default.
    Full,
}

impl Size {
    /// The value for this size among (smoke, quick, full).
    pub fn pick(self, smoke: usize, quick: usize, full: usize) -> usize {
        match self {
            Size::Smoke => smoke,
            Size::Quick => quick,
            Size::Full => full,
        }
    }
}

impl Named for Size {
    const ALL: &'static [Size] = &[Size::Smoke, Size::Quick, Size::Full];

    fn name(self) -> &'static str {
        match self {
            Size::Smoke => "smoke",
            Size::Quick => "quick",
            Size::Full => "full",
        }
    }
}

/// One run of a workload on one runtime: its measurements, in the order of `Workload::metrics`.
pub type RunFn = fn(Flavour, Size) -> Vec<f64>;

/// A workload and what it reports.
pub struct Workload {
    /// Its name, as in the report and for `--filter`.
    pub name: &'static str,
    /// What each measurement is called (the row name suffix) and its unit.
    pub metrics: &'static [(&'static str, report::Unit)],
    /// Whether it must run in a child process of its own (it measures the whole process).
    pub isolated: bool,
    /// The tokio build of it.
    pub tokio: RunFn,
    /// The asincrono build of it.
    pub asincrono: RunFn,
}

/// The two runtimes being compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// tokio, idiomatic, release build, `enable_all()`.
    Tokio,
    /// asincrono.
    Asincrono,
}

impl Named for Runtime {
    const ALL: &'static [Runtime] = &[Runtime::Tokio, Runtime::Asincrono];

    fn name(self) -> &'static str {
        match self {
            Runtime::Tokio => "tokio",
            Runtime::Asincrono => "asincrono",
        }
    }
}

macro_rules! workload {
    ($name:ident, isolated: $isolated:expr, $($metric:expr => $unit:ident),+) => {
        Workload {
            name: stringify!($name),
            metrics: &[$(($metric, report::Unit::$unit)),+],
            isolated: $isolated,
            tokio: on_tokio::$name,
            asincrono: on_asincrono::$name,
        }
    };
}

/// Every workload, in report order.
pub const WORKLOADS: &[Workload] = &[
    workload!(spawn_inside, isolated: false, "" => Seconds),
    workload!(spawn_outside, isolated: false, "" => Seconds),
    workload!(yield_many, isolated: false, "" => Seconds),
    workload!(chained_spawn, isolated: false, "" => Seconds),
    workload!(timers, isolated: false, "" => Seconds),
    workload!(tcp_echo, isolated: false, "" => Seconds, "p99 latency" => Seconds),
    workload!(tcp_bulk, isolated: false, "" => Seconds),
    workload!(udp_ping_pong, isolated: false, "" => Seconds),
    workload!(mpsc_bounded, isolated: false, "" => Seconds),
    workload!(mpsc_ping_pong, isolated: false, "" => Seconds),
    workload!(oneshot_ping_pong, isolated: false, "" => Seconds),
    workload!(spawn_blocking_many, isolated: false, "" => Seconds),
    workload!(files, isolated: false, "" => Seconds),
    workload!(memory_per_idle_task, isolated: true, "" => Bytes),
    workload!(idle_cpu, isolated: true, "" => CpuSeconds),
];

impl Workload {
    /// Runs this workload once on `runtime`: in this process, or, for an isolated workload,
    /// in a child process started from `bench_binary` (the bench binary itself).
    pub fn run(
        &self,
        runtime: Runtime,
        flavour: Flavour,
        size: Size,
        bench_binary: &Path,
    ) -> io::Result<Vec<f64>> {
        if self.isolated {
            return run_in_child(bench_binary, self.name, runtime, flavour, size);
        }
        Ok(self.run_here(runtime, flavour, size))
    }

    /// Runs this workload once on `runtime`, in this process.
    pub fn run_here(&self, runtime: Runtime, flavour: Flavour, size: Size) -> Vec<f64> {
        match runtime {
            Runtime::Tokio => (self.tokio)(flavour, size),
            Runtime::Asincrono => (self.asincrono)(flavour, size),
        }
    }
}

/// The flag that makes the bench binary a child that runs one workload and prints its
/// measurements: `--child WORKLOAD RUNTIME FLAVOUR SIZE`.
pub const CHILD_FLAG: &str = "--child";

fn run_in_child(
    bench_binary: &Path,
    workload: &str,
    runtime: Runtime,
    flavour: Flavour,
    size: Size,
) -> io::Result<Vec<f64>> {
    let output = Command::new(bench_binary)
        .args([
            CHILD_FLAG,
            workload,
            runtime.name(),
            flavour.name(),
            size.name(),
        ])
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "the child process for {workload} on {} failed: {}",
            runtime.name(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(|value| {
            value
                .parse::<f64>()
                .map_err(|err| io::Error::other(format!("child printed {value:?}: {err}")))
        })
        .collect()
}

/// The child's side: runs the workload named on the command line and prints its values.
pub fn child_main(args: &[String]) -> Result<(), String> {
    let [workload, runtime, flavour, size] = args else {
        return Err(format!("usage: {CHILD_FLAG} WORKLOAD RUNTIME FLAVOUR SIZE"));
    };
    let workload = WORKLOADS
        .iter()
        .find(|candidate| candidate.name == workload)
        .ok_or_else(|| format!("no workload named {workload}"))?;
    let runtime =
        Runtime::from_name(runtime).ok_or_else(|| format!("no runtime named {runtime}"))?;
    let flavour =
        Flavour::from_name(flavour).ok_or_else(|| format!("no flavour named {flavour}"))?;
    let size = Size::from_name(size).ok_or_else(|| format!("no size named {size}"))?;
    let values = workload.run_here(runtime, flavour, size);
    println!(
        "{}",
        values
            .iter()
            .map(f64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}

/// Where the `files` workload makes its files: a RAM-backed file system if the machine has
/// one (`/dev/shm`, a tmpfs on Linux), so that what is measured is each runtime's file path
/// (the blocking pool, the hand-offs, the system calls), not the disk.
///
/// Why not the disk: on this project's build machine (ext4 on a virtual disk, mounted with
/// `discard`), the same workload on the same runtime took anywhere from 56 ms to 1 s, with
/// the journal's commits and the writeback of earlier rounds landing in some samples and not
/// others; on tmpfs, 28 to 104 ms for both runtimes (chapter 11). A spread ten times the
/// difference under test drowns it whichever way it points.
pub fn files_dir() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let writable =
        shm.is_dir() && std::fs::metadata(shm).is_ok_and(|meta| !meta.permissions().readonly());
    if writable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// This process's resident memory, from `/proc/self/status` (Linux), in bytes.
pub fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

/// CPU time (user + system) this process has used so far, all threads, in seconds.
pub fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the `rusage` behind the pointer, which points to a live,
    // zero-initialised value of the right type; `RUSAGE_SELF` is a valid `who`.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if status != 0 {
        return f64::NAN;
    }
    // SAFETY: zero-initialised above, and filled by a successful `getrusage`.
    let usage = unsafe { usage.assume_init() };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
