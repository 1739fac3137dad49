//! tokio's socket surface beyond read and write, on real sockets: readiness (`ready`,
//! `readable`, `try_read`, `poll_read_ready`, …), borrowed and owned halves with `reunite`,
//! the UDP `try_`/`peek`/`recv_buf` family, `TcpSocket`, `UnixDatagram`, `into_std`/
//! `from_std` and `lookup_host`. Every body runs on both scheduler flavours, under the
//! watchdog of `common`.

mod common;

use asincrono::io::{AsyncReadExt, AsyncWriteExt, Interest};
use asincrono::net::{
    TcpListener, TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixStream, lookup_host,
};
use common::{on_each_flavour, tcp_pair};
use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;

/// Whether `poll_read_ready` would wait right now (polled once, never awaited).
async fn would_wait_to_read(stream: &UnixStream) -> bool {
    poll_fn(|cx| Poll::Ready(stream.poll_read_ready(cx).is_pending())).await
}

/// Reads with `try_read` until `WouldBlock`; returns the bytes read.
fn drain(stream: &UnixStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::WouldBlock, "{err}");
                return got;
            }
        }
    }
}

#[test]
fn try_read_says_would_block_until_data_arrives_and_readable_waits_for_it() {
    on_each_flavour(|| async {
        let (a, b) = UnixStream::pair().expect("pair");
        let err = b.try_read(&mut [0u8; 8]).expect_err("nothing sent yet");
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        assert!(
            would_wait_to_read(&b).await,
            "no data, so the reader must wait"
        );

        // A new pair is writable at once, without a turn of the driver.
        assert!(poll_fn(|cx| Poll::Ready(a.poll_write_ready(cx).is_ready())).await);
        assert_eq!(a.try_write(b"hello").expect("room to write"), 5);

        b.readable().await.expect("readable");
        assert_eq!(drain(&b), b"hello");
        // The `WouldBlock` that ended the drain cleared the readiness: waiting waits again.
        assert!(would_wait_to_read(&b).await);

        let halves = [std::io::IoSlice::new(b"ab"), std::io::IoSlice::new(b"cd")];
        assert_eq!(a.try_write_vectored(&halves).expect("vectored"), 4);
        b.readable().await.expect("readable");
        let mut buf = Vec::with_capacity(2);
        let mut got = 0;
        while got < 4 {
            match b.try_read_buf(&mut buf) {
                Ok(n) => got += n,
                Err(err) if err.kind() == ErrorKind::WouldBlock => b.readable().await.unwrap(),
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(buf, b"abcd", "try_read_buf appends, growing a full vector");
    });
}

#[test]
fn a_short_read_forgets_the_readiness_and_the_next_bytes_bring_it_back() {
    on_each_flavour(|| async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        a.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(b.read(&mut buf).await.unwrap(), 5);
        // Fewer bytes than asked for: the buffer was emptied, and the stream knows it
        // without trying again (and failing with `WouldBlock`).
        assert!(would_wait_to_read(&b).await, "a short read leaves nothing");

        a.write_all(b"again").await.unwrap();
        assert_eq!(b.read(&mut buf).await.unwrap(), 5, "the new bytes' event");

        // A read that fills the buffer proves nothing: the readiness stays.
        a.write_all(b"12345678").await.unwrap();
        b.readable().await.unwrap();
        let mut half = [0u8; 4];
        assert_eq!(b.read(&mut half).await.unwrap(), 4);
        assert!(!would_wait_to_read(&b).await, "four bytes are still there");
        assert_eq!(b.read(&mut half).await.unwrap(), 4);
        assert_eq!(&half, b"5678");

        // And the end of the stream is still seen after a short read.
        a.write_all(b"bye").await.unwrap();
        drop(a);
        assert_eq!(b.read(&mut buf).await.unwrap(), 3);
        assert_eq!(b.read(&mut buf).await.unwrap(), 0, "end of stream");
    });
}

#[test]
fn short_reads_against_a_writer_on_another_task_lose_no_bytes() {
    // Many small writes, each read by a large buffer: most reads are short and clear the
    // readiness, while the writer's next bytes race with the clearing. A lost event would
    // hang the reader (and the watchdog would fail the test).
    const WRITES: usize = 2_000;
    on_each_flavour(|| async {
        let (mut client, mut server) = tcp_pair().await;
        let writer = asincrono::spawn(async move {
            for i in 0..WRITES {
                client.write_all(&[(i % 251) as u8; 7]).await.unwrap();
                if i % 3 == 0 {
                    asincrono::task::yield_now().await;
                }
            }
        });
        let mut got = Vec::with_capacity(WRITES * 7);
        let mut buf = [0u8; 4096];
        while got.len() < WRITES * 7 {
            let n = server.read(&mut buf).await.unwrap();
            assert!(n > 0, "the writer closed early");
            got.extend_from_slice(&buf[..n]);
        }
        writer.await.unwrap();
        let expected: Vec<u8> = (0..WRITES).flat_map(|i| [(i % 251) as u8; 7]).collect();
        assert!(got == expected, "bytes lost or reordered");
    });
}

#[test]
fn a_short_write_fills_the_send_buffer_and_writing_resumes_when_it_drains() {
    on_each_flavour(|| async {
        let (mut client, mut server) = tcp_pair().await;
        let chunk = vec![9u8; 1 << 20];
        // Offer far more than the kernel takes at once: some writes are short.
        let total = 16 << 20;
        let reader = asincrono::spawn(async move {
            let mut buf = vec![0u8; 64 << 10];
            let mut received = 0;
            while received < total {
                let n = server.read(&mut buf).await.unwrap();
                assert!(n > 0, "the writer closed early");
                assert!(buf[..n].iter().all(|&byte| byte == 9));
                received += n;
            }
            received
        });
        let mut sent = 0;
        let mut short_writes = 0;
        while sent < total {
            let n = client
                .write(&chunk[..(total - sent).min(chunk.len())])
                .await
                .unwrap();
            short_writes += usize::from(n < chunk.len());
            sent += n;
        }
        assert_eq!(reader.await.unwrap(), total);
        assert!(
            short_writes > 0,
            "no write was ever short: the test proves nothing"
        );
    });
}

#[test]
fn a_vectored_write_cut_short_by_the_slice_limit_does_not_forget_the_room_left() {
    // `writev` takes at most `IOV_MAX` (1,024) slices: offered more, it writes what the
    // first 1,024 hold and returns that count, although the send buffer has room to spare.
    // So a short vectored write proves nothing; had it cleared the readiness, the next write
    // would wait for an edge that never comes (the watchdog would fail the test).
    on_each_flavour(|| async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        let byte = [7u8; 1];
        let slices: Vec<std::io::IoSlice<'_>> =
            (0..2_000).map(|_| std::io::IoSlice::new(&byte)).collect();
        let written = a.write_vectored(&slices).await.unwrap();
        assert!(written < 2_000, "the slice limit cut it short: {written}");
        a.write_all(b"and more").await.unwrap();
        let mut got = vec![0u8; written + 8];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[written..], b"and more");
    });
}

#[test]
fn ready_reports_the_peer_hanging_up_as_read_closed() {
    on_each_flavour(|| async {
        let (client, server) = tcp_pair().await;
        let ready = client.ready(Interest::WRITABLE).await.expect("writable");
        assert!(ready.is_writable() && !ready.is_read_closed(), "{ready:?}");
        drop(client);
        loop {
            let ready = server.ready(Interest::READABLE).await.expect("ready");
            if ready.is_read_closed() {
                break;
            }
            // Readable (assumed at accept) comes first; the closed bit arrives with the
            // driver's event, so let the driver run (`ready` alone never yields, as in tokio).
            asincrono::task::yield_now().await;
        }
        assert_eq!(
            server.try_read(&mut [0u8; 16]).expect("EOF, not an error"),
            0
        );
    });
}

#[test]
fn borrowed_halves_read_and_write_at_the_same_time() {
    on_each_flavour(|| async {
        let (mut client, mut server) = tcp_pair().await;
        let (mut read, mut write) = server.split();
        let echo = async {
            let mut buf = [0u8; 5];
            read.read_exact(&mut buf).await.expect("read");
            write.write_all(&buf).await.expect("write back");
            write.shutdown().await.expect("shutdown");
        };
        let talk = async {
            client.write_all(b"hello").await.expect("send");
            let mut back = Vec::new();
            client.read_to_end(&mut back).await.expect("read to EOF");
            back
        };
        let ((), back) = asincrono::join!(echo, talk);
        assert_eq!(back, b"hello");
    });
}

#[test]
fn peek_leaves_the_bytes_for_the_next_read() {
    on_each_flavour(|| async {
        let (mut client, server) = tcp_pair().await;
        client.write_all(b"look").await.expect("send");
        let (mut read, _write) = server.into_split();
        let mut buf = [0u8; 8];
        let n = read.peek(&mut buf).await.expect("peek");
        assert_eq!(&buf[..n], b"look");
        let n = read.read(&mut buf).await.expect("read");
        assert_eq!(&buf[..n], b"look");
    });
}

#[test]
fn owned_halves_reunite_only_with_their_own_other_half() {
    on_each_flavour(|| async {
        let (one, mut peer) = tcp_pair().await;
        let (two, _peer_two) = tcp_pair().await;
        let (read_one, write_one) = one.into_split();
        let (_read_two, write_two) = two.into_split();
        let err = read_one
            .reunite(write_two)
            .expect_err("halves of two streams");
        assert!(
            err.to_string().contains("not from the same socket"),
            "{err}"
        );
        let mut whole = err.0.reunite(write_one).expect("halves of one stream");
        // Reuniting did not shut the writing down: the stream still sends.
        whole.write_all(b"still open").await.expect("write");
        let mut buf = [0u8; 10];
        peer.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"still open");
    });
}

#[test]
fn unix_halves_split_and_into_split_like_tcp() {
    on_each_flavour(|| async {
        let (mut a, b) = UnixStream::pair().expect("pair");
        let (read_b, mut write_b) = b.into_split();
        let (mut read_a, mut write_a) = a.split();
        write_a.write_all(b"ping").await.expect("a sends");
        write_b.write_all(b"pong").await.expect("b sends");
        drop(write_b); // shuts down b's writing: a reads EOF after "pong"
        let mut got = Vec::new();
        read_a.read_to_end(&mut got).await.expect("a reads");
        assert_eq!(got, b"pong");
        let mut buf = [0u8; 4];
        read_b.readable().await.expect("readable");
        assert_eq!(read_b.try_read(&mut buf).expect("b reads"), 4);
        assert_eq!(&buf, b"ping");
    });
}

#[test]
fn udp_try_methods_peek_and_recv_buf() {
    on_each_flavour(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.expect("bind a");
        let b = UdpSocket::bind("127.0.0.1:0").await.expect("bind b");
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let err = b.try_recv_from(&mut [0u8; 8]).expect_err("nothing sent");
        assert_eq!(err.kind(), ErrorKind::WouldBlock);

        a.writable().await.expect("writable");
        assert_eq!(a.try_send_to(b"one", b_addr).expect("send"), 3);
        assert_eq!(b.peek_sender().await.expect("peek sender"), a_addr);
        let mut buf = [0u8; 8];
        let (n, from) = b.peek_from(&mut buf).await.expect("peek");
        assert_eq!((&buf[..n], from), (&b"one"[..], a_addr));
        let mut vec = Vec::with_capacity(16);
        let (n, from) = b.recv_buf_from(&mut vec).await.expect("recv");
        assert_eq!((n, &vec[..], from), (3, &b"one"[..], a_addr));

        poll_fn(|cx| a.poll_send_to(cx, b"two", b_addr))
            .await
            .expect("poll send");
        loop {
            b.readable().await.expect("readable");
            match b.try_recv_from(&mut buf) {
                Ok((n, from)) => {
                    assert_eq!((&buf[..n], from), (&b"two"[..], a_addr));
                    break;
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => continue,
                Err(err) => panic!("{err}"),
            }
        }
        b.set_ttl(33).expect("ttl");
        assert_eq!(b.ttl().expect("ttl"), 33);
        b.set_tos_v4(0x10).expect("tos");
        assert_eq!(b.tos_v4().expect("tos"), 0x10);
    });
}

#[test]
fn tcp_socket_sets_options_then_listens_and_connects() {
    on_each_flavour(|| async {
        let server = TcpSocket::new_v4().expect("socket");
        assert!(!server.reuseaddr().unwrap());
        server.set_reuseaddr(true).expect("reuseaddr");
        assert!(server.reuseaddr().unwrap());
        server.set_recv_buffer_size(8192).expect("rcvbuf");
        assert!(server.recv_buffer_size().unwrap() >= 8192);
        server.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let addr = server.local_addr().expect("addr");
        let listener = server.listen(16).expect("listen");

        let client = TcpSocket::new_v4().expect("socket");
        client.set_zero_linger().expect("linger");
        assert_eq!(client.linger().unwrap(), Some(Duration::ZERO));
        let (stream, accepted) = asincrono::join!(client.connect(addr), listener.accept());
        let (mut stream, (mut accepted, peer)) = (stream.expect("connect"), accepted.unwrap());
        assert_eq!(peer, stream.local_addr().unwrap());
        stream.write_all(b"hi").await.expect("write");
        let mut buf = [0u8; 2];
        accepted.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"hi");
    });
}

#[test]
fn tcp_socket_errors_name_the_address_and_keep_the_kind() {
    on_each_flavour(|| async {
        let taken = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = taken.local_addr().unwrap();
        let socket = TcpSocket::new_v4().expect("socket");
        let err = socket.bind(addr).expect_err("port in use");
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");

        drop(taken);
        let err = TcpSocket::new_v4()
            .unwrap()
            .connect(addr)
            .await
            .expect_err("nothing listens");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
        let err = TcpSocket::new_v4()
            .unwrap()
            .set_send_buffer_size(u32::MAX)
            .expect_err("beyond c_int");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
fn unix_datagrams_by_pair_and_by_path() {
    on_each_flavour(|| async {
        let (a, b) = UnixDatagram::pair().expect("pair");
        assert_eq!(
            a.try_send(b"now").expect("a new pair is writable at once"),
            3
        );
        let mut buf = [0u8; 8];
        let n = b.recv(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"now");

        let dir = std::env::temp_dir().join(format!("asincrono-dgram-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let (path_a, path_b) = (dir.join("a"), dir.join("b"));
        let _ = (std::fs::remove_file(&path_a), std::fs::remove_file(&path_b));
        let a = UnixDatagram::bind(&path_a).expect("bind a");
        let b = UnixDatagram::bind(&path_b).expect("bind b");
        a.send_to(b"hello", &path_b).await.expect("send");
        let (n, from) = b.recv_from(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"hello");
        assert_eq!(from.as_pathname(), Some(path_a.as_path()));
        let err = UnixDatagram::bind(&path_a).expect_err("the file exists");
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(
            err.to_string().contains(&path_a.display().to_string()),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}

#[test]
fn into_std_and_back_keeps_the_connection() {
    on_each_flavour(|| async {
        let (mut client, server) = tcp_pair().await;
        let mut std_server = server.into_std().expect("into_std");
        std_server.set_nonblocking(false).expect("blocking");
        client.write_all(b"to std").await.expect("send");
        let mut buf = [0u8; 6];
        std::io::Read::read_exact(&mut std_server, &mut buf).expect("blocking read");
        assert_eq!(&buf, b"to std");

        let mut server = TcpStream::from_std(std_server).expect("from_std");
        client.write_all(b"back").await.expect("send");
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.expect("async read again");
        assert_eq!(&buf, b"back");

        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = udp.local_addr().unwrap();
        let udp = UdpSocket::from_std(udp.into_std().expect("into_std")).expect("from_std");
        assert_eq!(udp.local_addr().unwrap(), addr);
    });
}

#[test]
fn lookup_host_parses_numbers_and_looks_names_up() {
    on_each_flavour(|| async {
        let addrs: Vec<SocketAddr> = lookup_host("127.0.0.1:7").await.expect("numbers").collect();
        assert_eq!(addrs, ["127.0.0.1:7".parse().unwrap()]);
        let local: Vec<SocketAddr> = lookup_host(("localhost", 7)).await.expect("name").collect();
        assert!(!local.is_empty() && local.iter().all(|a| a.ip().is_loopback() && a.port() == 7));
        let err = lookup_host("no-such-host.invalid:80")
            .await
            .err()
            .expect("an unknown name fails");
        assert!(err.to_string().contains("no-such-host.invalid:80"), "{err}");
    });
}
