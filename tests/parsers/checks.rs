//! What the parsers must do with any input, as checks that panic when they do not: shared
//! by the stable mutation test (tests/parsers_fuzz.rs) and the cargo-fuzz targets (fuzz/),
//! which include this file with `#[path]`, as they include the examples' files.

#[allow(dead_code)]
#[path = "../../examples/fetch.rs"]
pub mod fetch;

#[allow(dead_code)]
#[path = "../../examples/http_server.rs"]
pub mod http_server;

#[allow(dead_code)]
#[path = "../../examples/kv_server.rs"]
pub mod kv_server;

#[allow(dead_code)]
#[path = "../../examples/pg_client/protocol.rs"]
pub mod protocol;

use fetch::{FetchError, Framing, parse_response};
use kv_server::{Frame, ProtocolError, parse_frame};
use std::path::Component;

/// The body limit `parse_response` is given: small, so that "too large" is reached too.
pub const MAX_BODY: u64 = 64 * 1024;

/// What the server answers `input` (the start of a connection's bytes) with, as its
/// connection loop decides: the parsed request, or the error status; `None` to wait.
pub fn http_answer(input: &[u8]) -> Option<Result<http_server::Request, u16>> {
    match http_server::head_end(input) {
        Some(end) => Some(http_server::parse_head(&input[..end])),
        None if input.len() > http_server::MAX_HEAD => Some(Err(431)),
        None => None,
    }
}

/// The request head: parsed into a request that follows the grammar, or refused with a
/// 400, 431 or 505; never a wait past the head limit. Returns what the answer was.
pub fn check_http(input: &[u8]) -> &'static str {
    match http_answer(input) {
        None => {
            assert!(input.len() <= http_server::MAX_HEAD);
            "waits for more"
        }
        Some(Ok(request)) => {
            // What parsed follows the grammar the server promises, checked again here
            // line by line, independently of the parser.
            assert!(request.method.bytes().all(|b| b.is_ascii_alphabetic()));
            let end = http_server::head_end(input).unwrap();
            let head = std::str::from_utf8(&input[..end]).unwrap();
            let headers = head
                .split("\r\n")
                .skip(1)
                .take_while(|line| !line.is_empty());
            for line in headers {
                let (name, value) = line.split_once(':').unwrap();
                let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
                assert!(!name.is_empty() && name.bytes().all(tchar), "name {name:?}");
                assert!(!value.bytes().any(|b| b.is_ascii_control() && b != b'\t'));
            }
            assert!(
                !request
                    .target
                    .bytes()
                    .any(|b| b.is_ascii_control() || b == b' ')
            );
            if let Ok(path) = http_server::relative_path(&request.target) {
                // Whatever the encoding, the path stays under the root.
                assert!(path.components().all(|c| matches!(c, Component::Normal(_))));
            }
            "a request"
        }
        Some(Err(400)) => "400",
        Some(Err(431)) => "431",
        Some(Err(505)) => "505",
        Some(Err(status)) => panic!("status {status}"),
    }
}

/// Parses `input` frame after frame, as the connection does, until it needs more bytes
/// or meets an error; returns the commands and the error's text.
pub fn resp_commands(input: &[u8]) -> (Vec<Vec<Vec<u8>>>, Option<String>) {
    let (mut start, mut commands) = (0, Vec::new());
    loop {
        match parse_frame(&input[start..]) {
            Ok(Frame::Command { args, used }) => {
                // Each command moves forward, and never past the bytes there are.
                assert!(used > 0 && start + used <= input.len());
                assert!(args.len() <= kv_server::MAX_ARGS);
                start += used;
                commands.push(args);
            }
            Ok(Frame::Incomplete) => return (commands, None),
            Err(ProtocolError(what)) => return (commands, Some(what)),
        }
    }
}

/// RESP: commands that move forward through the bytes, or an error that fits on the
/// `-ERR Protocol error: …` line. Returns how the bytes ended.
pub fn check_resp(input: &[u8]) -> &'static str {
    match resp_commands(input) {
        (_, Some(what)) => {
            // It goes back as `-ERR Protocol error: {what}\r\n`: one line of text.
            assert!(!what.is_empty() && !what.contains(['\r', '\n']), "{what:?}");
            "a protocol error"
        }
        (_, None) => "commands, then a wait for more",
    }
}

/// A response: a final status with the body its framing announced, or `Malformed` or
/// `TooLarge`, nothing else. Returns which.
pub fn check_fetch(input: &[u8]) -> &'static str {
    match parse_response(input, MAX_BODY) {
        Ok(fetched) => {
            assert!(
                (200..1000).contains(&fetched.status),
                "status {}",
                fetched.status
            );
            assert!(fetched.bytes <= MAX_BODY && fetched.body.len() as u64 == fetched.bytes);
            if let Framing::Length(length) = fetched.framing {
                assert!(fetched.status == 204 || fetched.status == 304 || length == fetched.bytes);
            }
            "a response"
        }
        Err(FetchError::Malformed(why)) => {
            assert!(!why.is_empty());
            "malformed"
        }
        Err(FetchError::TooLarge { limit }) => {
            assert_eq!(limit, MAX_BODY);
            "too large"
        }
        Err(other) => panic!("not an answer to bad bytes: {other:?}"),
    }
}

/// Parses `input` message after message, as the connection does; returns how many were
/// whole and the error, if one came before the bytes ran out.
pub fn pg_messages(input: &[u8]) -> (Vec<protocol::Message>, Option<protocol::ProtocolError>) {
    let (mut start, mut messages) = (0, Vec::new());
    loop {
        match protocol::parse_message(&input[start..]) {
            Ok(Some((message, used))) => {
                assert!(used >= protocol::HEADER_LEN && start + used <= input.len());
                assert!(used <= protocol::HEADER_LEN + protocol::MAX_MESSAGE);
                start += used;
                messages.push(message);
            }
            Ok(None) => return (messages, None),
            Err(error) => return (messages, Some(error)),
        }
    }
}

/// PostgreSQL: whole messages within the length limit, or a `ProtocolError` that reads.
/// Returns how the bytes ended.
pub fn check_pg(input: &[u8]) -> &'static str {
    match pg_messages(input) {
        (_, Some(error)) => {
            assert!(!error.to_string().is_empty());
            "a protocol error"
        }
        (_, None) => "messages, then a wait for more",
    }
}
