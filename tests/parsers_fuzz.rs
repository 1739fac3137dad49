//! The examples' network parsers under seeded random and mutated input, on stable, in a
//! few seconds: http_server's request head, kv_server's RESP frames, fetch's responses and
//! the PostgreSQL client's messages.
//!
//! Each parser gets thousands of inputs made from valid seeds (bits flipped, bytes
//! replaced, cut short, parts doubled or spliced from another seed, huge numbers written
//! into lengths) and some pure noise. For each input the test checks that the parser
//! returns, without a panic, within a time limit (`common::within` is the watchdog), and
//! answers bad bytes the way its protocol expects: a 400 or 505 status (431 past the head
//! limit) for HTTP, a one-line error for RESP (sent as `-ERR Protocol error: …`), an error
//! value for fetch and PostgreSQL. The seeds themselves must still parse to the right
//! value, and so must the cases the fuzzer (fuzz/, run on nightly) or this test found.
//!
//! The corner it cuts: a mutation fuzzer without coverage feedback reaches only what is a
//! few random edits away from a seed. cargo-fuzz (fuzz/README.md) adds the feedback; this
//! test is the part that runs in every `cargo test`, with a fixed seed, so it is the same
//! run each time. The random numbers come from a xorshift generator written here, so that
//! no dependency is added for them.

// The HTTP and key-value servers (in checks.rs) each include `examples/support/shutdown.rs`
// as their own module, as they do when built alone: two copies here, on purpose.
#![allow(clippy::duplicate_mod)]

mod common;

#[path = "parsers/checks.rs"]
mod checks;

use checks::{
    MAX_BODY, check_fetch, check_http, check_pg, check_resp, fetch, http_answer, http_server,
    kv_server, pg_messages, protocol, resp_commands,
};
use common::within;
use fetch::{FetchError, Framing, parse_response};
use kv_server::{Frame, parse_frame};
use std::collections::BTreeMap;
use std::time::Duration;

/// Inputs per parser: a second or two each in a debug build.
const CASES: usize = 50_000;

/// The watchdog: all the cases of one parser must be done by then, or something loops.
const LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------
// Random inputs
// ---------------------------------------------------------------------------------------

/// Marsaglia's xorshift64: fast, good enough to pick mutations, and the same sequence for
/// the same seed on every machine.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that mean something to one of the protocols: worth writing over a random byte.
const SPECIAL: &[u8] = b"\r\n\0\t :;$*-+%0919fF\x7f\xff";

/// Numbers that break naive length handling when written where a length goes.
const HUGE: &[&[u8]] = &[
    b"99999999999999999999",
    b"18446744073709551616",
    b"9223372036854775808",
    b"4294967296",
    b"2147483647",
    b"16777217",
    b"-1",
    b"-9223372036854775808",
    b"+5",
    b"ffffffffffffffff0",
    b"",
];

/// Big-endian lengths for the binary protocol's `i32` fields.
const HUGE_I32: &[i32] = &[i32::MAX, i32::MIN, -1, 0, 3, 4, 16 * 1024 * 1024 + 5];

/// One to four random edits of one of `seeds`.
fn mutate(rng: &mut XorShift, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = rng.pick(seeds).clone();
    for _ in 0..1 + rng.below(4) {
        let len = input.len().max(1);
        let at = rng.below(len).min(input.len());
        let byte = at.min(input.len().saturating_sub(1));
        match rng.below(9) {
            0 if !input.is_empty() => input[byte] ^= 1 << rng.below(8),
            1 if !input.is_empty() => input[byte] = *rng.pick(SPECIAL),
            2 => input.truncate(at),
            3 => {
                // Repeat a slice in place: twice mostly, now and then hundreds of times,
                // which makes inputs past the parsers' size limits.
                let end = (at + 1 + rng.below(64)).min(input.len());
                let times = if rng.below(8) == 0 {
                    1 + rng.below(400)
                } else {
                    1
                };
                let copy = input[at..end].repeat(times);
                input.splice(at..at, copy);
            }
            4 => {
                // Splice: this input's front, another seed's back.
                let other = rng.pick(seeds);
                let from = rng.below(other.len().max(1)).min(other.len());
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            5 => {
                // A huge number where a number was (one of them, at random).
                let digits: Vec<usize> = (0..input.len())
                    .filter(|&i| {
                        input[i].is_ascii_digit() && (i == 0 || !input[i - 1].is_ascii_hexdigit())
                    })
                    .collect();
                if !digits.is_empty() {
                    let digit = *rng.pick(&digits);
                    let end = input[digit..]
                        .iter()
                        .position(|b| !b.is_ascii_hexdigit())
                        .map_or(input.len(), |n| digit + n);
                    input.splice(digit..end, rng.pick(HUGE).iter().copied());
                }
            }
            6 if input.len() >= at + 4 => {
                let n = *rng.pick(HUGE_I32);
                input[at..at + 4].copy_from_slice(&n.to_be_bytes());
            }
            7 => {
                let end = (at + 1 + rng.below(16)).min(input.len());
                input.drain(at..end);
            }
            _ => {
                let noise: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
                input.splice(at..at, noise);
            }
        }
    }
    input
}

/// Pure noise, now and then, besides the mutations.
fn noise(rng: &mut XorShift) -> Vec<u8> {
    (0..rng.below(200)).map(|_| rng.next() as u8).collect()
}

/// Runs `check` on `CASES` inputs made from `seeds`, under the watchdog. A panic names the
/// input that caused it, so that it can become a regression case below. Each kind of
/// answer in `expected` must come up at least once: mutations that never reach an error
/// path would test nothing there. The tally is printed (see it with `--nocapture`).
fn fuzz(
    label: &'static str,
    seed: u64,
    seeds: Vec<Vec<u8>>,
    check: fn(&[u8]) -> &'static str,
    expected: &[&str],
) {
    let tally = within(LIMIT, label, move || {
        let mut rng = XorShift(seed);
        let mut tally = BTreeMap::<&str, usize>::new();
        for case in 0..CASES {
            let input = match case % 10 {
                0 => noise(&mut rng),
                _ => mutate(&mut rng, &seeds),
            };
            match std::panic::catch_unwind(|| check(&input)) {
                Ok(answer) => *tally.entry(answer).or_default() += 1,
                Err(_) => panic!(
                    "case {case}: the input was {:?}",
                    String::from_utf8_lossy(&input)
                ),
            }
        }
        tally
    });
    eprintln!("{label}: {CASES} inputs: {tally:?}");
    for answer in expected {
        assert!(
            tally.contains_key(answer),
            "{label}: no input got {answer:?}: {tally:?}"
        );
    }
}

fn seeds(list: &[&[u8]]) -> Vec<Vec<u8>> {
    list.iter().map(|seed| seed.to_vec()).collect()
}

// ---------------------------------------------------------------------------------------
// http_server: the request head
// ---------------------------------------------------------------------------------------

const HTTP_SEEDS: &[&[u8]] = &[
    b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /a%20b/c.txt?q=1 HTTP/1.0\r\nConnection: keep-alive\r\nUser-Agent: t\r\n\r\n",
    b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nConnection: Close, foo\r\n\r\nhello",
    b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nGET /%2e%2e/etc HTTP/1.1\r\n\r\n",
];

#[test]
fn the_http_head_parser_answers_every_mutation_with_a_request_or_a_4xx_5xx() {
    let answers = ["a request", "400", "431", "505", "waits for more"];
    fuzz(
        "http",
        0x9e37_79b9_7f4a_7c15,
        seeds(HTTP_SEEDS),
        check_http,
        &answers,
    );
}

#[test]
fn valid_http_heads_parse_to_their_request() {
    let request = http_answer(HTTP_SEEDS[1]).unwrap().unwrap();
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("GET", "/a%20b/c.txt?q=1")
    );
    assert!(!request.close, "HTTP/1.0 with keep-alive stays open");
    let request = http_answer(HTTP_SEEDS[2]).unwrap().unwrap();
    assert_eq!(request.method, "POST");
    assert!(
        request.close,
        "a body this server does not read closes the connection"
    );
    assert!(
        http_answer(b"GET / HTTP/1.1\r\nHost: x\r\n").is_none(),
        "waits for the rest"
    );
    let path = http_server::relative_path("/a%20b/./c.txt").unwrap();
    assert_eq!(path, std::path::Path::new("a b/c.txt"));
}

#[test]
fn bad_http_heads_get_the_status_the_protocol_expects() {
    let status = |head: &[u8]| http_answer(head).map(|answer| answer.err());
    for (head, expected) in [
        (&b"GET  / HTTP/1.1\r\n\r\n"[..], 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET / FTP/1.1\r\n\r\n", 400),
        (b"G3T / HTTP/1.1\r\n\r\n", 400),
        (b"GET /\x01 HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\xff: x\r\n\r\n", 400),
        // Found while writing this test: a name with a separator, a value with a lone LF.
        (b"GET / HTTP/1.1\r\nHo(st: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\nContent-Length: 5\r\n\r\n", 400),
    ] {
        assert_eq!(
            status(head),
            Some(Some(expected)),
            "{:?}",
            String::from_utf8_lossy(head)
        );
    }
    // A head that does not end within the limit: 431, whatever it holds.
    let long = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; 9000]].concat();
    assert_eq!(status(&long), Some(Some(431)));
    // Targets: `..` in any spelling is 403; a `%` without two hex digits is 400.
    for (target, expected) in [("/%2e%2e/x", 403), ("/a/../b", 403), ("/%2F", 403)] {
        assert_eq!(
            http_server::relative_path(target),
            Err(expected),
            "{target}"
        );
    }
    // Found while writing this test: `%+1` decoded to byte 1 (`from_str_radix` takes a
    // sign).
    for target in ["/%+1", "/%-1", "/%1", "/%zz"] {
        assert_eq!(http_server::relative_path(target), Err(400), "{target}");
    }
}

// ---------------------------------------------------------------------------------------
// kv_server: RESP
// ---------------------------------------------------------------------------------------

const RESP_SEEDS: &[&[u8]] = &[
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
    b"PING\r\nSET a 1\nINCR a\r\n",
    b"*0\r\n*-1\r\n*1\r\n$0\r\n\r\n",
    b"*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n",
];

#[test]
fn the_resp_parser_answers_every_mutation_with_commands_or_a_protocol_error() {
    let answers = ["commands, then a wait for more", "a protocol error"];
    fuzz(
        "resp",
        0x2545_f491_4f6c_dd1d,
        seeds(RESP_SEEDS),
        check_resp,
        &answers,
    );
}

#[test]
fn valid_resp_parses_to_its_commands_and_every_prefix_waits_or_agrees() {
    let words = |list: &[&str]| {
        list.iter()
            .map(|w| w.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    let (commands, error) = resp_commands(RESP_SEEDS[0]);
    assert_eq!(error, None);
    assert_eq!(
        commands,
        [words(&["SET", "k", "value"]), words(&["GET", "k"])]
    );
    let (commands, _) = resp_commands(RESP_SEEDS[1]);
    assert_eq!(
        commands,
        [
            words(&["PING"]),
            words(&["SET", "a", "1"]),
            words(&["INCR", "a"])
        ]
    );
    let (commands, _) = resp_commands(RESP_SEEDS[2]);
    assert_eq!(commands, [words(&[]), words(&[]), vec![Vec::new()]]);
    // Bytes arriving in pieces: a cut never changes what the whole commands before it are.
    for seed in RESP_SEEDS {
        let (whole, _) = resp_commands(seed);
        for cut in 0..seed.len() {
            let (some, error) = resp_commands(&seed[..cut]);
            assert_eq!(error, None);
            assert_eq!(some[..], whole[..some.len()]);
        }
    }
}

#[test]
fn bad_resp_gets_a_protocol_error_and_huge_lengths_allocate_nothing() {
    for (input, expected) in [
        (&b"*2\r\n$3\r\nGET\r\n:1\r\n"[..], "expected '$', got ':'"),
        (b"*x\r\n", "invalid multibulk length"),
        (b"*99999999999999999999\r\n", "invalid multibulk length"),
        (b"*1\r\n$-5\r\n", "invalid bulk length"),
        (b"*1\r\n$99999999999\r\n", "invalid bulk length"),
        (
            b"*1\r\n$3\r\nGETX\r\n",
            "bulk string does not end where its length says",
        ),
        // Found while writing this test: a `+` sign was taken as part of a length, as
        // `parse` does and Redis does not.
        (b"*+1\r\n$3\r\nGET\r\n", "invalid multibulk length"),
        (b"*1\r\n$+3\r\nGET\r\n", "invalid bulk length"),
    ] {
        let (_, error) = resp_commands(input);
        assert_eq!(
            error.as_deref(),
            Some(expected),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    // Lines with no end in sight: refused past the limit, not buffered forever.
    let long_inline = vec![b'a'; kv_server::MAX_INLINE + 1];
    assert_eq!(
        resp_commands(&long_inline).1.as_deref(),
        Some("too big inline request")
    );
    let long_header = [b"*".as_slice(), &vec![b'1'; kv_server::MAX_INLINE + 1]].concat();
    assert_eq!(
        resp_commands(&long_header).1.as_deref(),
        Some("header line too long")
    );
    // The largest lengths allowed, with no data yet: the parser waits.
    let big = format!("*{}\r\n${}\r\n", kv_server::MAX_ARGS, kv_server::MAX_BULK);
    assert_eq!(parse_frame(big.as_bytes()), Ok(Frame::Incomplete));
}

// ---------------------------------------------------------------------------------------
// fetch: the response
// ---------------------------------------------------------------------------------------

const FETCH_SEEDS: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
      5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
    b"HTTP/1.0 404 Not Found\r\nServer: t\r\n\r\nbody until close",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
];

#[test]
fn the_response_parser_answers_every_mutation_with_a_response_or_malformed() {
    let answers = ["a response", "malformed", "too large"];
    fuzz(
        "fetch",
        0x5851_f42d_4c95_7f2d,
        seeds(FETCH_SEEDS),
        check_fetch,
        &answers,
    );
}

#[test]
fn valid_responses_parse_to_their_body_and_a_cut_body_is_malformed() {
    let expected: [(u16, &[u8], Framing); 4] = [
        (200, b"hello", Framing::Length(5)),
        (200, b"hello world", Framing::Chunked),
        (404, b"body until close", Framing::UntilClose),
        (204, b"", Framing::Length(0)),
    ];
    for (seed, (status, body, framing)) in FETCH_SEEDS.iter().zip(expected) {
        let fetched = parse_response(seed, MAX_BODY).unwrap();
        assert_eq!(
            (fetched.status, &fetched.body[..], fetched.framing),
            (status, body, framing)
        );
    }
    // The connection closing before a framed body is whole is an error, at every cut.
    for seed in &FETCH_SEEDS[..2] {
        for cut in 0..seed.len() {
            let result = parse_response(&seed[..cut], MAX_BODY);
            assert!(
                matches!(result, Err(FetchError::Malformed(_))),
                "cut at {cut}: {result:?}"
            );
        }
    }
}

#[test]
fn bad_responses_are_malformed_or_too_large() {
    let malformed = [
        &b"HTTP/2 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        // Found while writing this test: status 000 was a status; a sign was taken in a
        // length and a chunk size (`parse` and `from_str_radix` accept `+5`).
        b"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
    ];
    for input in malformed {
        let result = parse_response(input, MAX_BODY);
        assert!(
            matches!(result, Err(FetchError::Malformed(_))),
            "{:?}: {result:?}",
            String::from_utf8_lossy(input)
        );
    }
    for input in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
    ] {
        let result = parse_response(input, MAX_BODY);
        assert!(
            matches!(result, Err(FetchError::TooLarge { .. })),
            "{result:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// pg_client: the server's messages
// ---------------------------------------------------------------------------------------

/// A server message: its type byte, the length that counts itself, the body.
fn pg(tag: u8, body: &[u8]) -> Vec<u8> {
    let length = i32::try_from(body.len() + 4).unwrap();
    [&[tag][..], &length.to_be_bytes(), body].concat()
}

fn pg_seeds() -> Vec<Vec<u8>> {
    let column = [
        &b"id\0"[..],
        &[0; 4],
        &[0; 2],
        &23i32.to_be_bytes(),
        &[0, 4, 255, 255, 255, 255, 0, 0],
    ]
    .concat();
    let row = [&1i16.to_be_bytes()[..], &[0, 0, 0, 1], b"7"].concat();
    let messages = [
        pg(b'R', &0i32.to_be_bytes()),
        pg(b'R', &[&5i32.to_be_bytes()[..], b"salt"].concat()),
        pg(
            b'R',
            &[&10i32.to_be_bytes()[..], b"SCRAM-SHA-256\0\0"].concat(),
        ),
        pg(b'S', b"server_version\x0016.1\0"),
        pg(b'K', &[1, 2, 3, 4, 5, 6, 7, 8]),
        pg(b'Z', b"I"),
        pg(b'T', &[&1i16.to_be_bytes()[..], &column].concat()),
        pg(b'D', &row),
        pg(b'D', &[0, 2, 255, 255, 255, 255, 0, 0, 0, 0]),
        pg(b'C', b"SELECT 1\0"),
        pg(b'E', b"SERROR\0C42P01\0Mno such table\0\0"),
        pg(b'I', b""),
    ];
    // Each message alone, and a whole session in one buffer.
    let mut seeds = messages.to_vec();
    seeds.push(messages.concat());
    seeds
}

#[test]
fn the_pg_parser_answers_every_mutation_with_messages_or_a_protocol_error() {
    let answers = ["messages, then a wait for more", "a protocol error"];
    fuzz("pg", 0xd1b5_4a32_d192_ed03, pg_seeds(), check_pg, &answers);
}

#[test]
fn valid_pg_messages_parse_and_every_prefix_waits() {
    use protocol::{Auth, Message};
    let seeds = pg_seeds();
    let session = seeds.last().unwrap();
    let (messages, error) = pg_messages(session);
    assert_eq!((messages.len(), error), (seeds.len() - 1, None));
    assert_eq!(messages[0], Message::Authentication(Auth::Ok));
    assert_eq!(messages[7], Message::DataRow(vec![Some("7".into())]));
    assert_eq!(
        messages[8],
        Message::DataRow(vec![None, Some(String::new())])
    );
    for seed in &seeds[..seeds.len() - 1] {
        for cut in 0..seed.len() {
            assert_eq!(
                protocol::parse_message(&seed[..cut]),
                Ok(None),
                "cut at {cut}"
            );
        }
    }
}

#[test]
fn bad_pg_messages_are_protocol_errors() {
    use protocol::ProtocolError as E;
    let cases = [
        (pg(b'Z', b""), E::Truncated { tag: b'Z' }),
        (
            pg(b'Z', b"II"),
            E::TrailingBytes {
                tag: b'Z',
                extra: 1,
            },
        ),
        (pg(b'?', b""), E::UnknownType(b'?')),
        (
            pg(b'D', &[255, 255]),
            E::BadCount {
                tag: b'D',
                count: -1,
            },
        ),
        (
            pg(b'D', &[0, 1, 255, 255, 255, 254]),
            E::BadCount {
                tag: b'D',
                count: -2,
            },
        ),
        (
            pg(b'D', &[0, 1, 127, 255, 255, 255]),
            E::Truncated { tag: b'D' },
        ),
        (pg(b'C', b"\xff\0"), E::NotUtf8 { tag: b'C' }),
        (pg(b'S', b"no nul"), E::Truncated { tag: b'S' }),
    ];
    for (input, expected) in cases {
        assert_eq!(protocol::parse_message(&input), Err(expected));
    }
    // A length below 4 or above the limit is refused from the header alone, before any
    // body is waited for or allocated.
    for length in [i32::MIN, -1, 0, 3, i32::MAX] {
        let header = [&[b'D'][..], &length.to_be_bytes()].concat();
        let result = protocol::parse_message(&header);
        assert_eq!(result, Err(E::BadLength { tag: b'D', length }));
    }
}
