//! `cargo run --release -p asincrono-bench --bin serve -- {http|kv|hyper} {tokio|asincrono}
//! {current_thread|multi_thread} [--addr HOST:PORT]`
//!
//! Starts one comparison server (see `servers` in the library: the same source on either
//! runtime; `hyper` is the one hyper service of `hyper_service`, on either runtime's
//! adapters), prints `listening on ADDR` once it accepts, and serves until killed. The
//! address defaults to `127.0.0.1:0`, any free port: read the printed line to find it.
//! `scripts/compare-servers.sh` starts these one after the other and loads them with `wrk`
//! and `redis-benchmark`.
//!
//! A binary of its own rather than a subcommand of `asincrono-bench`: a server runs until it
//! is killed and its whole process belongs to one runtime, while the bench binary runs
//! both runtimes in turn and exits with a report.

use asincrono_bench::hyper_service;
use asincrono_bench::servers::{self, Server};
use asincrono_bench::{Flavour, Named, Runtime};
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage: serve {http|kv|hyper} {tokio|asincrono} {current_thread|multi_thread} [--addr HOST:PORT]";

/// Which server: one of the compiled-twice `servers`, or the hyper one.
#[derive(Clone, Copy)]
enum Which {
    Plain(Server),
    Hyper,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Plain(server) => server.name(),
            Which::Hyper => "hyper",
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (server, runtime, flavour, addr) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("serve: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let on_ready = |bound| {
        println!(
            "{} on {} ({}) listening on {bound}",
            server.name(),
            runtime.name(),
            flavour.name()
        );
        let _ = std::io::stdout().flush();
    };
    let outcome = match server {
        Which::Plain(server) => servers::serve(server, runtime, flavour, addr, on_ready),
        Which::Hyper => hyper_service::serve(runtime, flavour, addr, on_ready),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("serve: {addr}: {err}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<(Which, Runtime, Flavour, SocketAddr), String> {
    let mut positional = Vec::new();
    let mut addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--addr" {
            let value = args.next().ok_or("--addr needs HOST:PORT")?;
            addr = value
                .parse()
                .map_err(|_| format!("--addr {value:?} is not HOST:PORT (e.g. 127.0.0.1:8080)"))?;
        } else if arg.starts_with('-') {
            return Err(format!("unknown option {arg:?}"));
        } else {
            positional.push(arg.as_str());
        }
    }
    let [server, runtime, flavour] = positional[..] else {
        return Err(format!(
            "expected 3 words (server, runtime, flavour), got {}",
            positional.len()
        ));
    };
    let server = match server {
        "hyper" => Which::Hyper,
        other => Which::Plain(named(other, "server (or hyper)")?),
    };
    Ok((
        server,
        named(runtime, "runtime")?,
        named(flavour, "flavour")?,
    ))
    .map(|(server, runtime, flavour)| (server, runtime, flavour, addr))
}

fn named<T: Named>(word: &str, what: &str) -> Result<T, String> {
    T::from_name(word).ok_or_else(|| {
        let choices: Vec<&str> = T::ALL.iter().map(|value| value.name()).collect();
        format!(
            "no {what} named {word:?}; there are: {}",
            choices.join(", ")
        )
    })
}
