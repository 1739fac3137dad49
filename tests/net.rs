//! Sockets against real loopback connections: echo, big transfers, edge-triggered draining,
//! and the errors a peer, a port or a path can cause.

mod common;

use asincrono::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use asincrono::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use asincrono::time::{sleep, timeout};
use common::{FLAVOURS, TEST_DEADLINE, on_each_flavour, runtime, within};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Starts a line-echo server; returns its address.
async fn start_line_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    asincrono::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            asincrono::spawn(async move {
                let (reader, mut writer) = stream.into_split();
                let mut lines = BufReader::new(reader).lines();
                while let Some(line) = lines.next_line().await.expect("read a line") {
                    writer
                        .write_all(format!("{line}\n").as_bytes())
                        .await
                        .expect("echo");
                }
            });
        }
    });
    addr
}

#[test]
fn tcp_echo_serves_many_concurrent_clients() {
    on_each_flavour(|| async {
        let addr = start_line_echo_server().await;
        let clients: Vec<_> = (0..50)
            .map(|client| {
                asincrono::spawn(async move {
                    let stream = TcpStream::connect(addr).await.expect("connect");
                    stream.set_nodelay(true).expect("nodelay");
                    let (reader, mut writer) = stream.into_split();
                    let sent: Vec<String> = (0..20)
                        .map(|line| format!("client {client} line {line}"))
                        .collect();
                    for line in &sent {
                        writer
                            .write_all(format!("{line}\n").as_bytes())
                            .await
                            .expect("send");
                    }
                    let mut lines = BufReader::new(reader).lines();
                    for line in &sent {
                        assert_eq!(lines.next_line().await.expect("read").as_ref(), Some(line));
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client finished");
        }
    });
}

/// The byte at `position` of the test pattern (not periodic with any buffer size used).
fn pattern(position: usize) -> u8 {
    (position % 251) as u8
}

#[test]
fn a_large_transfer_arrives_whole_and_in_order() {
    // 8 MiB is far more than the socket buffers: the writer meets WouldBlock many times and
    // must wait for writability; the reader must drain each edge.
    const LEN: usize = 8 << 20;
    on_each_flavour(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let writer = asincrono::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let data: Vec<u8> = (0..LEN).map(pattern).collect();
            for chunk in data.chunks(64 << 10) {
                stream.write_all(chunk).await.expect("write");
            }
            stream.shutdown().await.expect("shutdown");
        });
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut received = Vec::new();
        stream
            .read_to_end(&mut received)
            .await
            .expect("read to end");
        writer.await.expect("writer finished");
        assert_eq!(received.len(), LEN);
        assert!(
            received
                .iter()
                .enumerate()
                .all(|(i, byte)| *byte == pattern(i)),
            "bytes out of order"
        );
    });
}

#[test]
fn a_reader_taking_one_byte_at_a_time_still_gets_every_byte() {
    // Edge-triggered readiness: one event for three writes. A reader that waited for a new
    // event after its first short read would hang; ours retries until WouldBlock.
    on_each_flavour(|| async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        for part in [&b"first "[..], b"second ", b"third"] {
            a.write_all(part).await.expect("write");
        }
        drop(a);
        let mut received = Vec::new();
        let mut byte = [0u8; 1];
        while b.read(&mut byte).await.expect("read") == 1 {
            received.push(byte[0]);
        }
        assert_eq!(received, b"first second third");
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused_and_the_error_names_the_address() {
    on_each_flavour(|| async {
        let addr = {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            listener.local_addr().expect("addr")
        }; // dropped: nothing listens there now
        let err = TcpStream::connect(addr).await.expect_err("nothing listens");
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

#[test]
fn binding_a_port_in_use_fails_with_addr_in_use_naming_the_address() {
    on_each_flavour(|| async {
        let taken = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = taken.local_addr().expect("addr");
        let err = TcpListener::bind(addr)
            .await
            .expect_err("the port is taken");
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

/// Connects a plain std socket to `addr` and closes it with SO_LINGER 0, which makes the
/// kernel send RST instead of FIN: the peer sees a reset connection.
fn connect_and_reset(addr: SocketAddr) {
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    common::set_linger_zero(&stream);
    drop(stream);
}

#[test]
fn a_peer_that_resets_gives_connection_reset_not_a_panic() {
    on_each_flavour(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (mut server_side, _) = {
            let accept = listener.accept();
            std::thread::spawn(move || connect_and_reset(addr))
                .join()
                .expect("client thread");
            accept.await.expect("accept")
        };
        let mut buf = [0u8; 16];
        let err = server_side
            .read(&mut buf)
            .await
            .expect_err("the peer reset");
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        let peer = server_side
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        assert!(
            err.to_string().starts_with("read from 127.0.0.1:"),
            "the error names the peer: {err} ({peer})"
        );
        // And the runtime carries on.
        assert_eq!(asincrono::spawn(async { 1 }).await.expect("no panic"), 1);
    });
}

#[test]
fn dropping_the_write_half_lets_the_peer_read_eof() {
    on_each_flavour(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = TcpStream::connect(addr).await.expect("connect");
        let (mut server_side, _) = listener.accept().await.expect("accept");
        let (_read_half, mut write_half) = client.into_split();
        write_half.write_all(b"bye").await.expect("write");
        drop(write_half);
        let mut everything = String::new();
        server_side
            .read_to_string(&mut everything)
            .await
            .expect("read to EOF");
        assert_eq!(everything, "bye");
    });
}

#[test]
fn udp_datagrams_go_both_ways_addressed_and_connected() {
    on_each_flavour(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.expect("bind a");
        let b = UdpSocket::bind("127.0.0.1:0").await.expect("bind b");
        let (a_addr, b_addr) = (a.local_addr().expect("a"), b.local_addr().expect("b"));
        a.send_to(b"ping", b_addr).await.expect("send_to");
        let mut buf = [0u8; 64];
        let (len, from) = b.recv_from(&mut buf).await.expect("recv_from");
        assert_eq!((&buf[..len], from), (&b"ping"[..], a_addr));

        b.connect(a_addr).await.expect("connect");
        b.send(b"pong").await.expect("send");
        let (len, from) = a.recv_from(&mut buf).await.expect("recv_from");
        assert_eq!((&buf[..len], from), (&b"pong"[..], b_addr));
        assert_eq!(b.peer_addr().expect("peer"), a_addr);

        let nothing = timeout(Duration::from_millis(20), b.recv(&mut buf)).await;
        assert!(nothing.is_err(), "no datagram was sent, so recv waits");
    });
}

/// A fresh socket path in the temp dir.
fn socket_path(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("asincrono-{}-{name}-{n}.sock", std::process::id()))
}

#[test]
fn unix_sockets_connect_by_path_and_errors_name_the_path() {
    on_each_flavour(|| async {
        let path = socket_path("echo");
        let listener = UnixListener::bind(&path).expect("bind");
        let server = asincrono::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut message = String::new();
            stream.read_to_string(&mut message).await.expect("read");
            message
        });
        let mut client = UnixStream::connect(&path).await.expect("connect");
        client.write_all(b"over a path").await.expect("write");
        client.shutdown().await.expect("shutdown");
        assert_eq!(server.await.expect("server"), "over a path");

        let err = UnixListener::bind(&path).expect_err("the file exists");
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        std::fs::remove_file(&path).expect("clean up");

        let err = UnixStream::connect(&path)
            .await
            .expect_err("nothing there now");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    });
}

#[test]
fn io_on_a_socket_whose_runtime_is_gone_fails_instead_of_hanging() {
    for flavour in FLAVOURS {
        within(TEST_DEADLINE, flavour, move || {
            let first = runtime(flavour);
            let (mut a, _b) = first.block_on(async { UnixStream::pair() }).expect("pair");
            drop(first);
            let second = runtime(flavour);
            let mut buf = [0u8; 8];
            let err = second
                .block_on(a.read(&mut buf))
                .expect_err("the reactor is gone");
            assert!(err.to_string().contains("shut down"), "{err}");
        });
    }
}

#[test]
fn sockets_made_outside_a_runtime_report_an_error_instead_of_panicking() {
    let err = UnixStream::pair().expect_err("no runtime");
    assert!(
        err.to_string().contains("inside an asincrono runtime"),
        "{err}"
    );
}

#[test]
fn a_slow_reader_applies_back_pressure_without_losing_data() {
    // The writer fills the socket buffers and must wait; the reader sleeps between reads.
    on_each_flavour(|| async {
        let (mut a, mut b) = UnixStream::pair().expect("pair");
        let total = 1 << 20;
        let writer = asincrono::spawn(async move {
            let data: Vec<u8> = (0..total).map(pattern).collect();
            a.write_all(&data).await.expect("write");
        });
        let mut received = Vec::with_capacity(total);
        let mut buf = vec![0u8; 128 << 10];
        while received.len() < total {
            sleep(Duration::from_millis(1)).await;
            let n = b.read(&mut buf).await.expect("read");
            assert!(n > 0, "EOF before all data arrived");
            received.extend_from_slice(&buf[..n]);
        }
        writer.await.expect("writer");
        assert!(
            received
                .iter()
                .enumerate()
                .all(|(i, byte)| *byte == pattern(i))
        );
    });
}

#[test]
fn several_tasks_can_wait_on_one_socket_at_once() {
    // Two tasks await `recv` on one shared socket. If the reactor kept a single waker per
    // direction, the second would overwrite the first and one task would never wake.
    on_each_flavour(|| async {
        let shared = std::sync::Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
        let addr = shared.local_addr().expect("addr");
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let socket = shared.clone();
                asincrono::spawn(async move {
                    let mut buf = [0u8; 16];
                    socket.recv_from(&mut buf).await.expect("recv").0
                })
            })
            .collect();
        asincrono::task::yield_now().await; // both receivers now wait on the socket
        let sender = UdpSocket::bind("127.0.0.1:0").await.expect("bind sender");
        sender.send_to(b"one", addr).await.expect("send");
        sender.send_to(b"two", addr).await.expect("send");
        for receiver in receivers {
            assert_eq!(receiver.await.expect("each receiver gets a datagram"), 3);
        }
    });
}

#[test]
fn host_names_are_looked_up_off_the_scheduler_and_bad_ones_are_named_in_the_error() {
    on_each_flavour(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        // "localhost" needs a lookup (on the blocking pool); it must still connect.
        let (connected, accepted) = asincrono::join!(
            asincrono::net::TcpStream::connect(("localhost", port)),
            listener.accept()
        );
        connected.expect("connect to localhost");
        accepted.expect("accept");

        let err = asincrono::net::TcpStream::connect("no-such-host.invalid:80")
            .await
            .expect_err("an unknown host cannot connect");
        assert!(err.to_string().contains("no-such-host.invalid:80"), "{err}");

        let err = asincrono::net::TcpStream::connect("not an address")
            .await
            .expect_err("text without a port is refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("not an address"), "{err}");
    });
}
