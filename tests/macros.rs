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
