//! The I/O utilities through the public API, on a real runtime, both flavours.
//!
//! The first tests are regression tests for the cooperative budget: a copy or a
//! `read_to_end` between an always-ready reader and writer used to run without ever
//! returning `Pending`, so nothing else on its thread ever ran (tokio's
//! `io_copy::copy_is_cooperative` hung). Each test races such an operation against a
//! `yield_now` with `biased` (the I/O first): the yield can only win if the I/O steps aside.
//! The race runs on its own thread and the test waits at most 10 s for it, so a
//! regression fails instead of hanging.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use asincrono::io::{self, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use asincrono::runtime::Builder;

/// Runs `race` on a fresh runtime of each flavour in a thread of its own; fails if it does
/// not finish within 10 s.
fn finishes_on_both_flavours(race: fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) {
    for multi_thread in [false, true] {
        let (done, finished) = mpsc::channel();
        thread::spawn(move || {
            let runtime = if multi_thread {
                Builder::new_multi_thread().worker_threads(2).build()
            } else {
                Builder::new_current_thread().build()
            }
            .unwrap();
            runtime.block_on(async move { asincrono::spawn(race()).await.unwrap() });
            let _ = done.send(());
        });
        finished
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| {
                panic!("the I/O never let the yield run (multi_thread: {multi_thread})")
            });
    }
}

#[test]
fn copy_between_always_ready_ends_yields() {
    finishes_on_both_flavours(|| {
        Box::pin(async {
            asincrono::select! {
                biased;
                _ = async {
                    loop {
                        let mut reader: &[u8] = b"hello";
                        let mut writer = Vec::new();
                        let _ = io::copy(&mut reader, &mut writer).await;
                    }
                } => unreachable!("the copy loop never ends"),
                _ = asincrono::task::yield_now() => {}
            }
        })
    });
}

#[test]
fn copy_buf_between_always_ready_ends_yields() {
    finishes_on_both_flavours(|| {
        Box::pin(async {
            asincrono::select! {
                biased;
                _ = async {
                    loop {
                        let mut reader: &[u8] = b"hello";
                        let mut writer = Vec::new();
                        let _ = io::copy_buf(&mut reader, &mut writer).await;
                    }
                } => unreachable!("the copy loop never ends"),
                _ = asincrono::task::yield_now() => {}
            }
        })
    });
}

/// Always ready with one more byte, and (unlike `io::repeat`) spends no budget itself: only
/// the future reading it can make the task step aside.
struct OneByteForever;

impl io::AsyncRead for OneByteForever {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        buf.put_slice(b"x");
        std::task::Poll::Ready(Ok(()))
    }
}

#[test]
fn read_to_end_of_an_endless_reader_yields() {
    finishes_on_both_flavours(|| {
        Box::pin(async {
            let mut all = Vec::new();
            let mut endless = OneByteForever;
            asincrono::select! {
                biased;
                _ = endless.read_to_end(&mut all) => unreachable!("repeat never ends"),
                _ = asincrono::task::yield_now() => {}
            }
        })
    });
}

#[test]
fn copying_from_an_endless_reader_into_a_sink_yields() {
    finishes_on_both_flavours(|| {
        Box::pin(async {
            let (mut endless, mut sink) = (io::repeat(1), io::sink());
            asincrono::select! {
                biased;
                _ = io::copy(&mut endless, &mut sink) => unreachable!("repeat never ends"),
                _ = asincrono::task::yield_now() => {}
            }
        })
    });
}

#[asincrono::test]
async fn duplex_carries_both_ways_and_ends_on_drop() {
    duplex_round_trip().await;
}

#[asincrono::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplex_carries_both_ways_and_ends_on_drop_multi_thread() {
    duplex_round_trip().await;
}

async fn duplex_round_trip() {
    let (mut client, mut server) = io::duplex(8);
    let echo = asincrono::spawn(async move {
        let (mut reader, mut writer) = io::split(&mut server);
        io::copy(&mut reader, &mut writer).await
    });
    let data: Vec<u8> = (0..5_000).map(|i| (i % 251) as u8).collect();
    let (mut rx, mut tx) = io::split(client);
    let sender = {
        let data = data.clone();
        asincrono::spawn(async move {
            tx.write_all(&data).await.unwrap();
            tx.shutdown().await.unwrap();
            tx
        })
    };
    let mut echoed = Vec::new();
    rx.read_to_end(&mut echoed).await.unwrap();
    assert_eq!(echoed, data);
    assert_eq!(echo.await.unwrap().unwrap(), 5_000);
    client = rx.unsplit(sender.await.unwrap());
    drop(client);
}

#[asincrono::test]
async fn numbers_take_and_chain_through_a_buffered_stream() {
    let (near, far) = io::duplex(64);
    let mut near = io::BufStream::new(near);
    near.write_u32(0xdead_beef).await.unwrap();
    near.write_i16_le(-5).await.unwrap();
    near.write_all(b"line\nrest").await.unwrap();
    near.flush().await.unwrap();
    drop(near);

    let mut far = io::BufReader::new(far);
    assert_eq!(far.read_u32().await.unwrap(), 0xdead_beef);
    assert_eq!(far.read_i16_le().await.unwrap(), -5);
    let mut line = String::new();
    far.read_line(&mut line).await.unwrap();
    assert_eq!(line, "line\n");
    let mut rest = String::new();
    far.take(2)
        .chain(&b"!"[..])
        .read_to_string(&mut rest)
        .await
        .unwrap();
    assert_eq!(rest, "re!");
}
