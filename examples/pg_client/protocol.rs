//! PostgreSQL's wire protocol (version 3.0) as plain functions over bytes: the messages
//! the server sends, parsed, and the few the client sends, built. Nothing here does I/O
//! or awaits, so every function can be driven from a test (or a fuzzer) with a byte slice.
//!
//! Every message after the client's first has the same frame: one type byte, then a
//! big-endian `i32` length that counts itself and the body but not the type byte, then the
//! body. [`parse_header`] checks the five header bytes, [`parse_body`] turns a body into a
//! [`Message`], and [`parse_message`] puts the two together over a buffer that may hold
//! half a message or several.
//!
//! Corners cut, compared with a driver such as `tokio-postgres`: only the messages of
//! startup, authentication and the *simple* query protocol are understood (no extended
//! protocol with `Parse`/`Bind`/`Execute`, no `COPY`, no binary formats), and each parsed
//! message owns its strings, where a driver would borrow from its read buffer.

use std::fmt;

/// The largest message accepted from the server, in bytes. PostgreSQL allows a field up to
/// 1 GiB; a teaching client refuses earlier, before allocating, so that a corrupt length
/// cannot make it reserve gigabytes.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Bytes in every frame's header: the type byte and the `i32` length.
pub const HEADER_LEN: usize = 5;

/// The protocol version the startup message asks for: 3.0, as major << 16 | minor.
const PROTOCOL_VERSION: i32 = 3 << 16;

/// One message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `R`: a step of the login: done, or "prove who you are" in one of several ways.
    Authentication(Auth),
    /// `S`: a run-time setting the server reports, such as `server_version`.
    ParameterStatus {
        /// The setting's name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `K`: the key a client would need to cancel a running query (not used here).
    BackendKeyData {
        /// The server process serving this connection.
        process_id: i32,
        /// The secret that goes with it.
        secret_key: i32,
    },
    /// `Z`: the server is ready for the next query; the byte is the transaction state
    /// (`I` idle, `T` in a transaction, `E` in a failed transaction).
    ReadyForQuery(u8),
    /// `T`: the columns of the rows that follow.
    RowDescription(Vec<Column>),
    /// `D`: one row, each value as text, `None` for SQL `NULL`.
    DataRow(Vec<Option<String>>),
    /// `C`: one statement finished; the tag says what it did (`SELECT 3`, `INSERT 0 1`).
    CommandComplete(String),
    /// `I`: the query string held no statement at all.
    EmptyQueryResponse,
    /// `E`: the statement (or the login) failed.
    ErrorResponse(ServerError),
    /// `N`: a warning or a notice; the query goes on.
    NoticeResponse(ServerError),
    /// A message type that exists in the protocol but that this client never asks for
    /// (`COPY` data, the extended protocol's replies, notifications): kept as its type byte
    /// so the caller can say what arrived.
    Other(u8),
}

/// The authentication request inside an `R` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Code 0: the login succeeded.
    Ok,
    /// Code 3: send the password as it is.
    CleartextPassword,
    /// Code 5: send `md5(md5(password + user) + salt)`, in hex, after `"md5"`.
    Md5Password {
        /// Four random bytes, new for each login, so the answer cannot be replayed.
        salt: [u8; 4],
    },
    /// Code 10: start a SASL exchange with one of these mechanisms.
    Sasl {
        /// The mechanisms the server offers, such as `SCRAM-SHA-256`.
        mechanisms: Vec<String>,
    },
    /// Code 11: the server's next SASL message.
    SaslContinue(Vec<u8>),
    /// Code 12: the server's last SASL message (its proof).
    SaslFinal(Vec<u8>),
    /// Any other code (Kerberos, GSSAPI, SSPI): not supported here.
    Unsupported(i32),
}

/// One column of a `RowDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name (or `?column?` for an unnamed expression).
    pub name: String,
    /// The type's object id in `pg_type` (23 is `int4`, 25 is `text`).
    pub type_oid: i32,
}

/// The fields of an `ErrorResponse` or a `NoticeResponse`: each a one-byte code and a text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerError {
    /// The fields in the order the server sent them.
    pub fields: Vec<(u8, String)>,
}

impl ServerError {
    /// The field with this code, if the server sent it.
    pub fn field(&self, code: u8) -> Option<&str> {
        self.fields
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, text)| text.as_str())
    }

    /// `ERROR`, `FATAL`, `WARNING`…: the untranslated `V` field, else the local `S` one.
    pub fn severity(&self) -> &str {
        self.field(b'V').or(self.field(b'S')).unwrap_or("ERROR")
    }

    /// The SQLSTATE code, such as `42P01` (undefined table) or `28P01` (wrong password).
    pub fn code(&self) -> &str {
        self.field(b'C').unwrap_or("")
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        self.field(b'M').unwrap_or("(no message)")
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity(), self.code(), self.message())?;
        if let Some(detail) = self.field(b'D') {
            write!(f, " (detail: {detail})")?;
        }
        if let Some(hint) = self.field(b'H') {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Bytes from the server that do not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// A length below 4 (it counts itself) or above [`MAX_MESSAGE`].
    BadLength {
        /// The message's type byte.
        tag: u8,
        /// The length it announced.
        length: i32,
    },
    /// A type byte the protocol does not define.
    UnknownType(u8),
    /// The body ended in the middle of a field.
    Truncated {
        /// The message's type byte.
        tag: u8,
    },
    /// The body went on after its last field.
    TrailingBytes {
        /// The message's type byte.
        tag: u8,
        /// How many bytes were left over.
        extra: usize,
    },
    /// A count or a field length below what the protocol allows (`-1` means `NULL`).
    BadCount {
        /// The message's type byte.
        tag: u8,
        /// The value found.
        count: i32,
    },
    /// Text that is not UTF-8 (the client asks for `client_encoding=UTF8` at startup).
    NotUtf8 {
        /// The message's type byte.
        tag: u8,
    },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ProtocolError::BadLength { tag, length } => write!(
                f,
                "message {} announces a length of {length} bytes (allowed: 4 to {MAX_MESSAGE})",
                show(tag)
            ),
            ProtocolError::UnknownType(tag) => write!(f, "unknown message type {}", show(tag)),
            ProtocolError::Truncated { tag } => {
                write!(f, "message {} ends in the middle of a field", show(tag))
            }
            ProtocolError::TrailingBytes { tag, extra } => {
                write!(
                    f,
                    "message {} has {extra} bytes after its last field",
                    show(tag)
                )
            }
            ProtocolError::BadCount { tag, count } => {
                write!(f, "message {} holds an impossible count {count}", show(tag))
            }
            ProtocolError::NotUtf8 { tag } => {
                write!(f, "message {} holds text that is not UTF-8", show(tag))
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// A type byte as a reader would like to see it: `'T'`, or `0x00` if it is not printable.
fn show(tag: u8) -> String {
    if tag.is_ascii_graphic() {
        format!("'{}'", tag as char)
    } else {
        format!("0x{tag:02x}")
    }
}

// ANCHOR: parse_message
/// Parses the first message in `buf`. `Ok(None)`: `buf` holds only the start of one, read
/// more. `Ok(Some((message, used)))`: the message, and how many bytes of `buf` it took.
pub fn parse_message(buf: &[u8]) -> Result<Option<(Message, usize)>, ProtocolError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let (tag, body_len) = parse_header(header)?;
    let Some(body) = buf[HEADER_LEN..].get(..body_len) else {
        return Ok(None);
    };
    Ok(Some((parse_body(tag, body)?, HEADER_LEN + body_len)))
}

/// Checks a frame's header; returns its type byte and the length of the body that follows.
/// The length is checked here, before anyone allocates a buffer for the body.
pub fn parse_header(header: &[u8; HEADER_LEN]) -> Result<(u8, usize), ProtocolError> {
    let tag = header[0];
    let length = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    match usize::try_from(length) {
        Ok(len) if (4..=MAX_MESSAGE).contains(&len) => Ok((tag, len - 4)),
        _ => Err(ProtocolError::BadLength { tag, length }),
    }
}
// ANCHOR_END: parse_message

/// Parses the body of a message whose type byte is `tag`.
pub fn parse_body(tag: u8, body: &[u8]) -> Result<Message, ProtocolError> {
    let mut fields = Fields { rest: body, tag };
    let message = match tag {
        b'R' => Message::Authentication(parse_auth(&mut fields)?),
        b'S' => Message::ParameterStatus {
            name: fields.string()?,
            value: fields.string()?,
        },
        b'K' => Message::BackendKeyData {
            process_id: fields.i32()?,
            secret_key: fields.i32()?,
        },
        b'Z' => Message::ReadyForQuery(fields.u8()?),
        b'T' => Message::RowDescription(parse_columns(&mut fields)?),
        b'D' => Message::DataRow(parse_values(&mut fields)?),
        b'C' => Message::CommandComplete(fields.string()?),
        b'I' => Message::EmptyQueryResponse,
        b'E' => Message::ErrorResponse(parse_error_fields(&mut fields)?),
        b'N' => Message::NoticeResponse(parse_error_fields(&mut fields)?),
        // Real messages of features this client never uses: COPY, the extended protocol,
        // notifications, function calls, protocol negotiation.
        b'A' | b'G' | b'H' | b'W' | b'd' | b'c' | b'n' | b't' | b's' | b'1' | b'2' | b'3'
        | b'V' | b'v' => {
            fields.rest = &[];
            Message::Other(tag)
        }
        _ => return Err(ProtocolError::UnknownType(tag)),
    };
    fields.finish()?;
    Ok(message)
}

fn parse_auth(fields: &mut Fields<'_>) -> Result<Auth, ProtocolError> {
    Ok(match fields.i32()? {
        0 => Auth::Ok,
        3 => Auth::CleartextPassword,
        5 => {
            let salt = fields.bytes(4)?;
            Auth::Md5Password {
                salt: [salt[0], salt[1], salt[2], salt[3]],
            }
        }
        10 => {
            // A list of names, each ending in a NUL, closed by an empty name.
            let mut mechanisms = Vec::new();
            loop {
                let name = fields.string()?;
                if name.is_empty() {
                    break;
                }
                mechanisms.push(name);
            }
            Auth::Sasl { mechanisms }
        }
        11 => Auth::SaslContinue(fields.take_rest()),
        12 => Auth::SaslFinal(fields.take_rest()),
        code => {
            fields.take_rest();
            Auth::Unsupported(code)
        }
    })
}

fn parse_columns(fields: &mut Fields<'_>) -> Result<Vec<Column>, ProtocolError> {
    let count = fields.count()?;
    let mut columns = Vec::with_capacity(count.min(fields.rest.len()));
    for _ in 0..count {
        let name = fields.string()?;
        let _table_oid = fields.i32()?;
        let _column_number = fields.i16()?;
        let type_oid = fields.i32()?;
        let _type_size = fields.i16()?;
        let _type_modifier = fields.i32()?;
        let _format = fields.i16()?; // 0: text, which is all the simple protocol sends
        columns.push(Column { name, type_oid });
    }
    Ok(columns)
}

fn parse_values(fields: &mut Fields<'_>) -> Result<Vec<Option<String>>, ProtocolError> {
    let count = fields.count()?;
    // Capacity from what the body can hold, not from the count it claims.
    let mut values = Vec::with_capacity(count.min(fields.rest.len() / 4));
    for _ in 0..count {
        let len = fields.i32()?;
        values.push(match len {
            -1 => None,
            len if len >= 0 => Some(fields.text(len as usize)?),
            _ => {
                return Err(ProtocolError::BadCount {
                    tag: fields.tag,
                    count: len,
                });
            }
        });
    }
    Ok(values)
}

fn parse_error_fields(fields: &mut Fields<'_>) -> Result<ServerError, ProtocolError> {
    let mut error = ServerError::default();
    loop {
        match fields.u8()? {
            0 => return Ok(error),
            code => error.fields.push((code, fields.string()?)),
        }
    }
}

/// A cursor over a message body, reading the protocol's field types in order.
struct Fields<'a> {
    /// What is left of the body.
    rest: &'a [u8],
    /// The message's type byte, for the errors.
    tag: u8,
}

impl<'a> Fields<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        if self.rest.len() < n {
            return Err(ProtocolError::Truncated { tag: self.tag });
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.bytes(1)?[0])
    }

    fn i16(&mut self) -> Result<i16, ProtocolError> {
        let b = self.bytes(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, ProtocolError> {
        let b = self.bytes(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An `i16` count of the fields or columns that follow.
    fn count(&mut self) -> Result<usize, ProtocolError> {
        let count = self.i16()?;
        usize::try_from(count).map_err(|_| ProtocolError::BadCount {
            tag: self.tag,
            count: count.into(),
        })
    }

    /// `n` bytes of UTF-8 text.
    fn text(&mut self, n: usize) -> Result<String, ProtocolError> {
        let bytes = self.bytes(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ProtocolError::NotUtf8 { tag: self.tag })
    }

    /// A NUL-terminated string (the NUL is consumed, not returned).
    fn string(&mut self) -> Result<String, ProtocolError> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(ProtocolError::Truncated { tag: self.tag })?;
        let text = self.text(end)?;
        self.rest = &self.rest[1..];
        Ok(text)
    }

    fn take_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.rest).to_vec()
    }

    fn finish(&self) -> Result<(), ProtocolError> {
        match self.rest.len() {
            0 => Ok(()),
            extra => Err(ProtocolError::TrailingBytes {
                tag: self.tag,
                extra,
            }),
        }
    }
}

// ---- What the client sends ----

/// A frame: the type byte, the length (which counts itself), the body.
fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.push(tag);
    out.extend_from_slice(&length_field(body.len()));
    out.extend_from_slice(body);
    out
}

/// The `i32` length of a body of `body_len` bytes, counting the length field itself.
fn length_field(body_len: usize) -> [u8; 4] {
    be_i32(body_len + 4)
}

/// A size as the protocol's big-endian `i32`. Every message the client builds is far
/// below 2 GiB: the SQL comes from a command line, the rest from this program.
fn be_i32(n: usize) -> [u8; 4] {
    i32::try_from(n)
        .expect("a client message under 2 GiB")
        .to_be_bytes()
}

fn push_cstr(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
    out.push(0);
}

// ANCHOR: startup_message
/// The first message of a connection. It is the one message without a type byte (it
/// predates them): the length, the protocol version, then `name\0value\0` pairs and a NUL.
pub fn startup_message(params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = PROTOCOL_VERSION.to_be_bytes().to_vec();
    for (name, value) in params {
        push_cstr(&mut body, name);
        push_cstr(&mut body, value);
    }
    body.push(0);
    let mut out = length_field(body.len()).to_vec();
    out.extend_from_slice(&body);
    out
}
// ANCHOR_END: startup_message

/// `Q`: run these statements with the simple query protocol.
pub fn query_message(sql: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(sql.len() + 1);
    push_cstr(&mut body, sql);
    frame(b'Q', &body)
}

/// `p`: a password (cleartext or MD5), as a NUL-terminated string.
pub fn password_message(password: &str) -> Vec<u8> {
    let mut body = Vec::new();
    push_cstr(&mut body, password);
    frame(b'p', &body)
}

/// `p` again, as `SASLInitialResponse`: the chosen mechanism and the client's first message.
pub fn sasl_initial_response(mechanism: &str, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    push_cstr(&mut body, mechanism);
    body.extend_from_slice(&be_i32(data.len()));
    body.extend_from_slice(data);
    frame(b'p', &body)
}

/// `p` once more, as `SASLResponse`: the client's next SASL message, unframed.
pub fn sasl_response(data: &[u8]) -> Vec<u8> {
    frame(b'p', data)
}

/// `X`: the client is leaving; the server closes the connection without logging an error.
pub fn terminate_message() -> Vec<u8> {
    frame(b'X', &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend message framed as the server would send it.
    fn server_frame(tag: u8, body: &[u8]) -> Vec<u8> {
        frame(tag, body)
    }

    #[test]
    fn a_partial_message_asks_for_more_and_a_whole_one_says_how_long_it_was() {
        let whole = server_frame(b'Z', b"I");
        for cut in 0..whole.len() {
            assert_eq!(parse_message(&whole[..cut]), Ok(None), "cut at {cut}");
        }
        let mut two = whole.clone();
        two.extend(server_frame(b'C', b"SELECT 1\0"));
        let (first, used) = parse_message(&two).unwrap().unwrap();
        assert_eq!(first, Message::ReadyForQuery(b'I'));
        assert_eq!(used, whole.len());
        let (second, _) = parse_message(&two[used..]).unwrap().unwrap();
        assert_eq!(second, Message::CommandComplete("SELECT 1".into()));
    }

    #[test]
    fn rows_and_their_description_parse_as_text_with_nulls() {
        let mut body = 2i16.to_be_bytes().to_vec();
        for (name, oid) in [("n", 23), ("word", 25)] {
            push_cstr(&mut body, name);
            body.extend(0i32.to_be_bytes());
            body.extend(0i16.to_be_bytes());
            body.extend(i32::to_be_bytes(oid));
            body.extend((-1i16).to_be_bytes());
            body.extend((-1i32).to_be_bytes());
            body.extend(0i16.to_be_bytes());
        }
        let columns = parse_body(b'T', &body).unwrap();
        let expected = vec![
            Column {
                name: "n".into(),
                type_oid: 23,
            },
            Column {
                name: "word".into(),
                type_oid: 25,
            },
        ];
        assert_eq!(columns, Message::RowDescription(expected));

        let mut row = 2i16.to_be_bytes().to_vec();
        row.extend(2i32.to_be_bytes());
        row.extend(b"42");
        row.extend((-1i32).to_be_bytes());
        let parsed = parse_body(b'D', &row).unwrap();
        assert_eq!(parsed, Message::DataRow(vec![Some("42".into()), None]));
    }

    #[test]
    fn authentication_requests_parse() {
        let auth = |body: &[u8]| parse_body(b'R', body).unwrap();
        assert_eq!(auth(&0i32.to_be_bytes()), Message::Authentication(Auth::Ok));
        let mut md5 = 5i32.to_be_bytes().to_vec();
        md5.extend(b"salt");
        let salt = *b"salt";
        assert_eq!(
            auth(&md5),
            Message::Authentication(Auth::Md5Password { salt })
        );
        let mut sasl = 10i32.to_be_bytes().to_vec();
        sasl.extend(b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0");
        let mechanisms = vec!["SCRAM-SHA-256-PLUS".into(), "SCRAM-SHA-256".into()];
        assert_eq!(
            auth(&sasl),
            Message::Authentication(Auth::Sasl { mechanisms })
        );
        assert_eq!(
            auth(&7i32.to_be_bytes()),
            Message::Authentication(Auth::Unsupported(7))
        );
    }

    #[test]
    fn an_error_response_keeps_its_fields_and_reads_well() {
        let body = b"SERROR\0VERROR\0C42P01\0Mrelation \"nope\" does not exist\0\0";
        let Message::ErrorResponse(error) = parse_body(b'E', body).unwrap() else {
            panic!("not an error response");
        };
        assert_eq!(error.code(), "42P01");
        assert_eq!(
            error.to_string(),
            "ERROR 42P01: relation \"nope\" does not exist"
        );
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let bad_length = |len: i32| {
            let mut header = vec![b'Z'];
            header.extend(len.to_be_bytes());
            parse_message(&header)
        };
        for len in [-1, 0, 3, i32::MAX] {
            assert_eq!(
                bad_length(len),
                Err(ProtocolError::BadLength {
                    tag: b'Z',
                    length: len
                })
            );
        }
        let cases: &[(u8, &[u8], ProtocolError)] = &[
            (b'!', b"", ProtocolError::UnknownType(b'!')),
            (b'Z', b"", ProtocolError::Truncated { tag: b'Z' }),
            (
                b'Z',
                b"II",
                ProtocolError::TrailingBytes {
                    tag: b'Z',
                    extra: 1,
                },
            ),
            (b'C', b"SELECT 1", ProtocolError::Truncated { tag: b'C' }),
            (b'C', b"\xff\0", ProtocolError::NotUtf8 { tag: b'C' }),
            (
                b'D',
                b"\xff\xff",
                ProtocolError::BadCount {
                    tag: b'D',
                    count: -1,
                },
            ),
            (
                b'D',
                b"\0\x01\xff\xff\xff\xfe",
                ProtocolError::BadCount {
                    tag: b'D',
                    count: -2,
                },
            ),
            // A row that claims 1000 values but holds none.
            (b'D', b"\x03\xe8", ProtocolError::Truncated { tag: b'D' }),
            (
                b'D',
                b"\0\x01\0\0\0\x09abc",
                ProtocolError::Truncated { tag: b'D' },
            ),
            (b'E', b"Mno end", ProtocolError::Truncated { tag: b'E' }),
            (
                b'R',
                b"\0\0\0\x05ab",
                ProtocolError::Truncated { tag: b'R' },
            ),
        ];
        for (tag, body, expected) in cases {
            let framed = server_frame(*tag, body);
            assert_eq!(parse_message(&framed).as_ref(), Err(expected), "{framed:?}");
            // Every error reads as a sentence naming the message type.
            assert!(expected.to_string().contains("message"));
        }
    }

    #[test]
    fn every_prefix_of_every_valid_message_is_either_incomplete_or_whole() {
        // A small fuzz by hand: no prefix of a valid stream panics or misparses.
        let mut stream = server_frame(b'R', &0i32.to_be_bytes());
        stream.extend(server_frame(b'S', b"server_version\x0015.0\0"));
        stream.extend(server_frame(b'K', &[0, 0, 0, 1, 0, 0, 0, 2]));
        stream.extend(server_frame(b'Z', b"I"));
        let mut offset = 0;
        let mut parsed = 0;
        while offset < stream.len() {
            let (_, whole) = parse_message(&stream[offset..]).unwrap().unwrap();
            for end in offset..=stream.len() {
                match parse_message(&stream[offset..end]).unwrap() {
                    None => assert!(end - offset < whole, "{end}: incomplete only when short"),
                    Some((_, used)) => assert_eq!(used, whole, "{end}: the same message"),
                }
            }
            offset += whole;
            parsed += 1;
        }
        assert_eq!(parsed, 4);
    }

    #[test]
    fn client_messages_have_the_documented_layout() {
        let startup = startup_message(&[("user", "ann")]);
        assert_eq!(startup, b"\0\0\0\x12\0\x03\0\0user\0ann\0\0");
        assert_eq!(query_message("SELECT 1"), b"Q\0\0\0\x0dSELECT 1\0");
        assert_eq!(password_message("pw"), b"p\0\0\0\x07pw\0");
        assert_eq!(
            sasl_initial_response("M", b"abc"),
            b"p\0\0\0\x0dM\0\0\0\0\x03abc"
        );
        assert_eq!(terminate_message(), b"X\0\0\0\x04");
    }
}
