//! `#[asincrono::test]` and `#[asincrono::main]` expand into working code.

use asincrono::task::yield_now;
use std::time::Duration;

#[asincrono::test]
async fn the_default_test_runs_its_body_on_a_runtime() {
    let task = asincrono::spawn(async { 40 + 2 });
    assert_eq!(task.await.expect("no panic"), 42);
}

#[asincrono::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_thread_test_runs_its_body_on_a_runtime() {
    asincrono::time::sleep(Duration::from_millis(1)).await;
    yield_now().await;
}

#[asincrono::test(flavor = "current_thread")]
async fn a_test_may_return_a_result() -> std::io::Result<()> {
    let socket = asincrono::net::UdpSocket::bind("127.0.0.1:0").await?;
    socket.local_addr()?;
    Ok(())
}

#[asincrono::test]
#[should_panic(expected = "a failing assertion inside the async body")]
async fn a_panic_in_the_body_fails_the_test() {
    yield_now().await;
    panic!("a failing assertion inside the async body");
}

mod entry_point {
    // `#[asincrono::main]` is an ordinary function once expanded: call it like one.
    #[asincrono::main(flavor = "current_thread")]
    pub async fn main() -> u32 {
        asincrono::spawn(async { 7 }).await.expect("no panic")
    }
}

#[test]
fn main_expands_into_a_plain_function_that_blocks_on_its_body() {
    assert_eq!(entry_point::main(), 7);
}

#[asincrono::test(start_paused = true)]
async fn start_paused_starts_the_test_with_its_clock_stopped() {
    let frozen = asincrono::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(2)); // real time moves on
    assert_eq!(frozen.elapsed(), std::time::Duration::ZERO);
}

/// The runtime crate under another path, as a crate that re-exports it (or renames it in
/// `Cargo.toml`) would see it.
mod reexported {
    pub use asincrono as rt;
}

#[asincrono::test(crate = "reexported::rt")]
async fn crate_names_the_path_the_expansion_calls() {
    assert_eq!(
        reexported::rt::spawn(async { 5 }).await.expect("no panic"),
        5
    );
}

#[asincrono::test(crate = "::asincrono", flavor = "multi_thread", worker_threads = 1)]
async fn crate_may_be_an_absolute_path_beside_other_options() {
    yield_now().await;
}

/// A method with `self`: `#[asincrono::main]` on a function other than `main` keeps its
/// parameters and moves them into the body it blocks on.
struct Counter(u32);

impl Counter {
    #[asincrono::main(flavor = "current_thread")]
    async fn add_on_a_runtime(self, more: u32) -> u32 {
        let more = asincrono::spawn(async move { more })
            .await
            .expect("no panic");
        self.0 + more
    }
}

trait Finish {
    fn finish(self) -> String;
}

impl Finish for String {
    #[asincrono::main]
    async fn finish(self) -> String {
        yield_now().await;
        self + "!"
    }
}

#[test]
fn main_on_a_method_takes_self_and_its_parameters() {
    assert_eq!(Counter(40).add_on_a_runtime(2), 42);
    assert_eq!(String::from("done").finish(), "done!");
}
