//! Just enough of a WebSocket client (RFC 6455) to talk to Chromium's DevTools endpoint on
//! the loopback interface: the upgrade handshake, masked text frames out, text frames in
//! (fragmented or not), pings answered.
//!
//! Corners cut, because the peer is a local browser this test started: the server's
//! `Sec-WebSocket-Accept` is not checked, the masking key is a constant (masking defends
//! proxies against a hostile page; there is no proxy here), and binary frames and close
//! reasons are not understood. A general client (the `tungstenite` crate) does all of that;
//! these hundred lines spare the tests a dependency.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// An open WebSocket connection.
pub struct WebSocket {
    stream: TcpStream,
}

/// The frame opcodes this client acts on.
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// Any four bytes do: see the module's doc.
const MASK: [u8; 4] = [0x5a, 0x17, 0xc3, 0x88];

impl WebSocket {
    /// Connects to `url` (`ws://host:port/path`); every later read waits at most `timeout`.
    pub fn connect(url: &str, timeout: Duration) -> io::Result<WebSocket> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| invalid(format!("not a ws:// URL: {url}")))?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let stream = TcpStream::connect(host)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut socket = WebSocket { stream };
        let request = format!(
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: YXNpbmNyb25vLXRlc3RzIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        socket.stream.write_all(request.as_bytes())?;
        let head = socket.read_head()?;
        if !head.starts_with("HTTP/1.1 101") {
            return Err(invalid(format!("the upgrade was refused: {head}")));
        }
        Ok(socket)
    }

    /// The server's answer to the upgrade, up to its blank line (byte by byte, so that no
    /// frame that follows is read into a buffer).
    fn read_head(&mut self) -> io::Result<String> {
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            self.stream.read_exact(&mut byte)?;
            head.push(byte[0]);
            if head.len() > 16 * 1024 {
                return Err(invalid("an endless upgrade answer".into()));
            }
        }
        Ok(String::from_utf8_lossy(&head).into_owned())
    }

    /// Sends `text` as one text frame.
    pub fn send(&mut self, text: &str) -> io::Result<()> {
        self.send_frame(TEXT, text.as_bytes())
    }

    fn send_frame(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mut frame = vec![0x80 | opcode]; // FIN: the whole message in this frame
        // A client masks every frame: the length byte's top bit says so.
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&MASK);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
        self.stream.write_all(&frame)
    }

    /// The next text message, its fragments joined; pings are answered on the way.
    pub fn receive(&mut self) -> io::Result<String> {
        let mut message = Vec::new();
        loop {
            let (fin, opcode, payload) = self.read_frame()?;
            match opcode {
                TEXT | CONTINUATION => {
                    message.extend_from_slice(&payload);
                    if fin {
                        return String::from_utf8(message).map_err(|e| invalid(e.to_string()));
                    }
                }
                PING => self.send_frame(PONG, &payload)?,
                PONG => {}
                CLOSE => return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "closed")),
                other => return Err(invalid(format!("unexpected frame type {other}"))),
            }
        }
    }

    /// One frame: whether it is the last of its message, its opcode, its payload.
    fn read_frame(&mut self) -> io::Result<(bool, u8, Vec<u8>)> {
        let mut two = [0u8; 2];
        self.stream.read_exact(&mut two)?;
        let (fin, opcode, masked) = (two[0] & 0x80 != 0, two[0] & 0x0f, two[1] & 0x80 != 0);
        let length = match two[1] & 0x7f {
            126 => {
                let mut n = [0u8; 2];
                self.stream.read_exact(&mut n)?;
                u16::from_be_bytes(n) as u64
            }
            127 => {
                let mut n = [0u8; 8];
                self.stream.read_exact(&mut n)?;
                u64::from_be_bytes(n)
            }
            n => n as u64,
        };
        if masked {
            return Err(invalid("a server must not mask its frames".into()));
        }
        let mut payload = vec![0u8; usize::try_from(length).map_err(|e| invalid(e.to_string()))?];
        self.stream.read_exact(&mut payload)?;
        Ok((fin, opcode, payload))
    }
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}
