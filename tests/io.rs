//! The I/O utilities through the public API, on a real runtime, both flavours.
//!
//! The first tests are regression tests for the cooperative budget: a copy or a
//! `read_to_end` between an always-ready reader and writer used to run without ever
//! returning `Pending`, so nothing else on its thread ever ran (tokio's
//! `io_copy::copy_is_cooperative` hung). Each test races such an operation against a
//! `yield_now` with `biased` (the I/O first): the yield can only win if the I/O steps aside.
//! The race runs on its own thread and the test waits at most 10 s for it, so a
//! regression fails instead of hanging.

mod common;

use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use asincrono::io::{self, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
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

// ---------------------------------------------------------------------------------------
// More bugs found while tokio's I/O tests were being made to pass, each kept found here.
// These run through `common`'s `on_each_flavour`, under its watchdog.

/// A reader and writer that answers every other call with `Interrupted`, as a system call
/// cut short by a signal does. The other calls read from `data` and write into `written`,
/// at most three bytes at a time.
struct Interrupting {
    data: &'static [u8],
    written: Vec<u8>,
    /// Calls so far: the odd ones are interrupted.
    calls: usize,
}

impl Interrupting {
    fn new(data: &'static [u8]) -> Interrupting {
        Interrupting {
            data,
            written: Vec::new(),
            calls: 0,
        }
    }

    /// Counts a call; `Some(error)` if this one is interrupted.
    fn interrupt(&mut self) -> Option<std::io::Error> {
        self.calls += 1;
        (self.calls % 2 == 1).then(|| std::io::Error::from(std::io::ErrorKind::Interrupted))
    }
}

impl io::AsyncRead for Interrupting {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(error) = this.interrupt() {
            return Poll::Ready(Err(error));
        }
        let n = this.data.len().min(buf.remaining()).min(3);
        buf.put_slice(&this.data[..n]);
        this.data = &this.data[n..];
        Poll::Ready(Ok(()))
    }
}

impl io::AsyncWrite for Interrupting {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(error) = this.interrupt() {
            return Poll::Ready(Err(error));
        }
        let n = buf.len().min(3);
        this.written.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn the_looping_futures_retry_an_interrupted_read_or_write() {
    // tokio's `io_read_exact`, `io_read_to_end`, `io_write_all` and `io_copy` interrupt a
    // call and expect the operation to carry on, as std's loops do. asincrono's loops used
    // to return the `Interrupted` error to the caller.
    common::on_each_flavour(|| async {
        let mut stream = Interrupting::new(b"hello, world");
        let mut hello = [0u8; 5];
        stream.read_exact(&mut hello).await.expect("read_exact");
        assert_eq!(&hello, b"hello");
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.expect("read_to_end");
        assert_eq!(rest, b", world");
        stream.write_all(b"written whole").await.expect("write_all");
        assert_eq!(stream.written, b"written whole");

        let mut from = Interrupting::new(b"copied across");
        let mut into = Interrupting::new(b"");
        assert_eq!(io::copy(&mut from, &mut into).await.expect("copy"), 13);
        assert_eq!(into.written, b"copied across");
        assert!(
            from.calls > 5 && into.calls > 5,
            "both ends were interrupted more than once"
        );
    });
}

/// A reader of the bytes `0, 1, 2, …` whose first seek fails; the seeks after it work.
struct FirstSeekFails {
    position: u64,
    seeks: usize,
}

impl io::AsyncRead for FirstSeekFails {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while buf.remaining() > 0 {
            buf.put_slice(&[this.position as u8]);
            this.position += 1;
        }
        Poll::Ready(Ok(()))
    }
}

impl io::AsyncSeek for FirstSeekFails {
    fn start_seek(self: Pin<&mut Self>, position: std::io::SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        this.seeks += 1;
        if this.seeks == 1 {
            return Err(std::io::Error::other("the first seek fails"));
        }
        this.position = match position {
            std::io::SeekFrom::Start(n) => n,
            std::io::SeekFrom::Current(n) => this.position.checked_add_signed(n).unwrap(),
            std::io::SeekFrom::End(_) => unreachable!("the test seeks from the start or here"),
        };
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.position))
    }
}

#[test]
fn a_buf_reader_whose_seek_failed_still_seeks_from_the_position_its_reader_reached() {
    // Found beside tokio's tests rather than by them (theirs never fail a seek). A failed
    // seek used to leave the `BufReader` believing a seek was under way, so the
    // next seek first "finished" it: the buffered bytes were dropped, and a
    // `SeekFrom::Current` then counted from the inner reader's position, past them.
    common::on_each_flavour(|| async {
        let mut reader = io::BufReader::with_capacity(
            4,
            FirstSeekFails {
                position: 0,
                seeks: 0,
            },
        );
        assert_eq!(reader.read_u8().await.unwrap(), 0); // bytes 1 to 3 wait in the buffer
        let failed = reader.seek(std::io::SeekFrom::Current(1)).await;
        assert_eq!(
            failed.expect_err("the first seek fails").kind(),
            std::io::ErrorKind::Other
        );
        assert_eq!(
            reader.read_u8().await.unwrap(),
            1,
            "the buffer is still there"
        );
        let position = reader.seek(std::io::SeekFrom::Current(1)).await.unwrap();
        assert_eq!(position, 3, "one past the byte read last");
        assert_eq!(reader.read_u8().await.unwrap(), 3);
    });
}

#[test]
fn copy_buf_flushes_what_it_wrote_while_the_reader_waits() {
    // Found beside tokio's tests rather than by them. The bytes copied so far sit in a
    // `BufWriter` until something flushes them. While the reader waits for more (perhaps
    // for an answer to those very bytes), `copy_buf` must flush them, as `copy` does;
    // before, they stayed in the buffer and the far end waited for ever.
    common::on_each_flavour(|| async {
        let (mut source, input) = io::duplex(64);
        let (output, mut sink) = io::duplex(64);
        let copier = asincrono::spawn(async move {
            let mut reader = io::BufReader::new(input);
            let mut writer = io::BufWriter::new(output);
            io::copy_buf(&mut reader, &mut writer).await
        });
        for line in [&b"ping\n"[..], b"again\n"] {
            source.write_all(line).await.unwrap();
            // `source` stays open: the copy's next read has to wait.
            let mut echoed = vec![0u8; line.len()];
            sink.read_exact(&mut echoed)
                .await
                .expect("flushed on its way");
            assert_eq!(echoed, line);
        }
        drop(source);
        assert_eq!(copier.await.unwrap().unwrap(), 11);
    });
}

#[test]
fn a_utf8_error_counts_the_valid_text_from_the_start_of_the_string() {
    // tokio's `io_read_line::read_line_invalid_utf8` and `io_read_to_string` look for a
    // `Utf8Error` inside the error, whose `valid_up_to` counts the text the string already
    // held. asincrono used to wrap a `FromUtf8Error` of the new bytes alone.
    common::on_each_flavour(|| async {
        let utf8_error = |error: std::io::Error| {
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
            *error
                .into_inner()
                .expect("an inner error")
                .downcast::<std::str::Utf8Error>()
                .expect("a Utf8Error")
        };
        let mut line = String::from("kept ");
        let mut reader = io::BufReader::new(&b"text \xff\n"[..]);
        let error = reader.read_line(&mut line).await.expect_err("not UTF-8");
        assert_eq!(utf8_error(error).valid_up_to(), 10);
        assert_eq!(line, "kept ", "the string is left as it was");

        let mut all = String::from("kept ");
        let error = (&b"text \xff"[..])
            .read_to_string(&mut all)
            .await
            .expect_err("not UTF-8");
        assert_eq!(utf8_error(error).valid_up_to(), 10);
        assert_eq!(all, "kept ");
    });
}
