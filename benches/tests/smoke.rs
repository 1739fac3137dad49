//! Every workload runs once, at a tiny size, on both runtimes and every flavour, and returns
//! one finite, non-negative value per declared metric. (No timing is asserted: speed is
//! for the benchmark run, not for `cargo test`.)

use asincrono_bench::{FLAVOURS, Flavour, Named, Runtime, Size, WORKLOADS};

#[test]
fn every_workload_runs_on_both_runtimes() {
    for workload in WORKLOADS {
        for &flavour in FLAVOURS.iter().chain([Flavour::MultiThread].iter()) {
            for runtime in [Runtime::Tokio, Runtime::Asincrono] {
                let values = workload.run_here(runtime, flavour, Size::Smoke);
                let context = format!(
                    "{} on {} ({})",
                    workload.name,
                    runtime.name(),
                    flavour.name()
                );
                assert_eq!(
                    values.len(),
                    workload.metrics.len(),
                    "{context}: one value per metric"
                );
                for value in values {
                    assert!(
                        value.is_finite() && value >= 0.0,
                        "{context}: measured {value}"
                    );
                }
            }
        }
    }
}

#[test]
fn an_isolated_workload_runs_in_a_child_process() {
    // The child is this crate's bench binary, which cargo builds for integration tests.
    let bench_binary = std::path::Path::new(env!("CARGO_BIN_EXE_asincrono-bench"));
    let memory = WORKLOADS
        .iter()
        .find(|workload| workload.isolated)
        .expect("an isolated workload");
    let values = memory
        .run(
            Runtime::Asincrono,
            Flavour::CurrentThread,
            Size::Smoke,
            bench_binary,
        )
        .expect("the child runs");
    assert_eq!(values.len(), memory.metrics.len());
}
