//! Reading ahead (`runtime/net/read_ahead.rs`), on real sockets: a small read that fills its
//! buffer exactly still learns whether it emptied the socket; the bytes it read ahead come
//! out in order through every kind of read, and count as readable; and what cannot see them
//! (`try_io` for reading, `into_std`) is refused while some are held. Every body runs on
//! both scheduler flavours, under the watchdog of `common`.

mod common;

use asincrono::io::{AsyncReadExt, AsyncWriteExt, Interest};
use asincrono::net::{TcpStream, UnixStream};
use common::{on_each_flavour, tcp_pair};
use std::future::poll_fn;
use std::io::{ErrorKind, IoSliceMut, Read};
use std::os::fd::AsFd;
use std::task::Poll;

/// Whether `poll_read_ready` would wait right now (polled once, never awaited).
async fn would_wait_to_read(stream: &TcpStream) -> bool {
    poll_fn(|cx| Poll::Ready(stream.poll_read_ready(cx).is_pending())).await
}

/// [`would_wait_to_read`] for a Unix stream.
async fn unix_would_wait(stream: &UnixStream) -> bool {
    poll_fn(|cx| Poll::Ready(stream.poll_read_ready(cx).is_pending())).await
}

/// `count` bytes numbered from `from` (wrapping at 256), so that order can be checked.
fn numbered(from: usize, count: usize) -> Vec<u8> {
    (from..from + count).map(|i| i as u8).collect()
}

/// Sends 64 bytes and reads them with one exact read of 64: what starts a stream reading
/// ahead. Plain, as tokio reads, this read cannot tell that it emptied the socket.
async fn start_reading_ahead(client: &mut TcpStream, server: &mut TcpStream) {
    client.write_all(&[1; 64]).await.unwrap();
    let mut message = [0u8; 64];
    server.read_exact(&mut message).await.unwrap();
    assert_eq!(message, [1; 64]);
    assert!(
        !would_wait_to_read(server).await,
        "an exact read without a spare buffer keeps the readiness"
    );
}

/// Sends 110 bytes and reads 10 of them: the other 100 are then held by `server`, and its
/// socket is empty.
async fn hold_a_hundred_bytes(client: &mut TcpStream, server: &mut TcpStream) {
    start_reading_ahead(client, server).await;
    client.write_all(&numbered(0, 110)).await.unwrap();
    let mut first = [0u8; 10];
    server.read_exact(&mut first).await.unwrap();
    assert_eq!(first.to_vec(), numbered(0, 10));
}

#[test]
fn an_exact_small_read_that_empties_the_socket_forgets_the_readiness() {
    on_each_flavour(|| async {
        let (mut client, mut server) = tcp_pair().await;
        start_reading_ahead(&mut client, &mut server).await;
        // The stream reads ahead now: the same exact read, offered the spare buffer too,
        // sees that the socket is empty, and forgets the readiness without a `WouldBlock`.
        for round in 0..3 {
            client.write_all(&[round; 64]).await.unwrap();
            let mut message = [0u8; 64];
            server.read_exact(&mut message).await.unwrap();
            assert_eq!(message, [round; 64]);
            assert!(would_wait_to_read(&server).await, "round {round}");
        }
        // The next bytes bring the readiness back, and the end of the stream is still seen.
        client.write_all(b"last").await.unwrap();
        drop(client);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"last");
    });
}

#[test]
fn bytes_read_ahead_come_out_in_order_through_every_kind_of_read() {
    on_each_flavour(|| async {
        let (mut client, mut server) = tcp_pair().await;
        start_reading_ahead(&mut client, &mut server).await;
        let sent = numbered(0, 3000);
        let writer = asincrono::spawn(async move {
            for chunk in sent.chunks(1000) {
                client.write_all(chunk).await.unwrap();
            }
            client // dropped at the end of the test: end of stream
        });
        let mut got = Vec::new();
        let mut small = [0u8; 10];
        server.read_exact(&mut small).await.unwrap();
        got.extend_from_slice(&small);
        // `peek` shows the next bytes without taking them, held or not.
        let mut peeked = [0u8; 5];
        let n = server.peek(&mut peeked).await.unwrap();
        assert!(n > 0);
        assert_eq!(peeked[..n].to_vec(), numbered(got.len(), n));
        // `try_read`, `try_read_vectored`, `read` with a large buffer and small exact reads,
        // one after the other: whichever finds held bytes takes them first.
        let mut reads = 0;
        while got.len() < 3000 {
            reads += 1;
            let mut buf = vec![0u8; [7, 64, 100, 2048][reads % 4]];
            let n = match reads % 3 {
                0 => match server.try_read(&mut buf) {
                    Err(err) if err.kind() == ErrorKind::WouldBlock => {
                        server.readable().await.unwrap();
                        continue;
                    }
                    result => result.unwrap(),
                },
                1 => {
                    let (front, back) = buf.split_at_mut(3);
                    let mut both = [IoSliceMut::new(front), IoSliceMut::new(back)];
                    match server.try_read_vectored(&mut both) {
                        Err(err) if err.kind() == ErrorKind::WouldBlock => {
                            server.readable().await.unwrap();
                            continue;
                        }
                        result => result.unwrap(),
                    }
                }
                _ => server.read(&mut buf).await.unwrap(),
            };
            assert!(n > 0, "the writer is still there");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, numbered(0, 3000), "every byte once, in order");
        drop(writer.await.unwrap());
        assert_eq!(server.read(&mut small).await.unwrap(), 0, "end of stream");
    });
}

#[test]
fn held_bytes_count_as_readable_and_come_before_the_end_of_the_stream() {
    on_each_flavour(|| async {
        let (mut client, mut server) = tcp_pair().await;
        hold_a_hundred_bytes(&mut client, &mut server).await;
        // The socket is empty, but the stream is readable: it holds 100 bytes.
        assert!(!would_wait_to_read(&server).await);
        server.readable().await.unwrap();
        let ready = server.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable());
        drop(client);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, numbered(10, 100));
    });
}

#[test]
fn try_io_for_reading_is_refused_while_bytes_are_held_then_stops_reading_ahead() {
    on_each_flavour(|| async {
        let (mut client, mut server) = tcp_pair().await;
        hold_a_hundred_bytes(&mut client, &mut server).await;
        // Our own read of the descriptor (through a duplicate of it) would skip the
        // 100 bytes, so it is not even tried.
        let descriptor = std::net::TcpStream::from(server.as_fd().try_clone_to_owned().unwrap());
        let mut buf = [0u8; 256];
        let err = server
            .try_io(Interest::READABLE, || (&descriptor).read(&mut buf))
            .expect_err("100 bytes are held");
        assert!(err.to_string().contains("100 bytes ahead"), "{err}");
        // Writing is not affected.
        server.try_io(Interest::WRITABLE, || Ok(())).unwrap();
        let mut held = [0u8; 256];
        assert_eq!(server.try_read(&mut held).unwrap(), 100);
        assert_eq!(held[..100].to_vec(), numbered(10, 100));

        // From now on the stream reads nothing ahead: an exact read keeps the readiness,
        // as tokio's does, and our own reads see every byte the stream has not taken.
        client.write_all(&numbered(0, 128)).await.unwrap();
        let mut first = [0u8; 64];
        server.read_exact(&mut first).await.unwrap();
        assert!(!would_wait_to_read(&server).await);
        let n = server
            .async_io(Interest::READABLE, || (&descriptor).read(&mut buf))
            .await
            .unwrap();
        assert_eq!(buf[..n].to_vec(), numbered(64, 64));
    });
}

#[test]
fn into_std_is_refused_while_bytes_are_held() {
    on_each_flavour(|| async {
        let (mut client, mut server) = tcp_pair().await;
        hold_a_hundred_bytes(&mut client, &mut server).await;
        let err = server.into_std().expect_err("100 bytes are held");
        assert!(err.to_string().contains("100 bytes ahead"), "{err}");

        // A stream that has read ahead but holds nothing converts, and its std self reads
        // the bytes that follow.
        let (mut client, mut server) = tcp_pair().await;
        start_reading_ahead(&mut client, &mut server).await;
        let mut std_stream = server.into_std().unwrap();
        std_stream.set_nonblocking(false).unwrap();
        client.write_all(b"after").await.unwrap();
        let mut after = [0u8; 5];
        std_stream.read_exact(&mut after).unwrap();
        assert_eq!(&after, b"after");
    });
}

#[test]
fn unix_streams_read_ahead_too() {
    on_each_flavour(|| async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        let mut message = [0u8; 32];
        a.write_all(&[1; 32]).await.unwrap();
        b.read_exact(&mut message).await.unwrap();
        assert!(
            !unix_would_wait(&b).await,
            "the first exact read proves nothing"
        );
        a.write_all(&numbered(0, 96)).await.unwrap();
        b.read_exact(&mut message).await.unwrap();
        assert_eq!(message.to_vec(), numbered(0, 32));
        let mut rest = [0u8; 64];
        b.read_exact(&mut rest).await.unwrap();
        assert_eq!(rest.to_vec(), numbered(32, 64));
        assert!(
            unix_would_wait(&b).await,
            "read ahead: the socket is known empty"
        );
    });
}
