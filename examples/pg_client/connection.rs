//! One PostgreSQL connection over asincrono: the frames of `protocol.rs` read and written
//! through a `BufReader` and a `BufWriter`, the login conversation, and the simple query
//! protocol.
//!
//! A connection runs one query at a time, and each `.await` inside it is a point where the
//! task gives its thread back while the server works: that is what lets a few connections
//! keep many queries in flight from one thread (the example's `run_batch`).
//!
//! Corners cut, compared with `tokio-postgres`: no TLS (the client never sends an
//! `SSLRequest`), no pipelining of queries on one connection, no cancel requests, and a
//! query future that is dropped half-way leaves the connection in an unknown state, so
//! the connection must be dropped with it (a driver would track that, or finish reading
//! the reply in the background).

use super::md5::postgres_md5_answer;
use super::protocol::{
    self, Auth, Column, HEADER_LEN, Message, ProtocolError, ServerError, parse_body, parse_header,
};
use super::scram::{ScramClient, random_nonce};
use asincrono::io::{
    AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, ReadHalf, WriteHalf,
    split,
};
use asincrono::net::{TcpStream, UnixStream};
use asincrono::time;
use std::fmt;
use std::io::{self, ErrorKind};
use std::time::Duration;

/// Anything a connection can run over: a TCP socket, a Unix socket, or a test's stream.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host name or address and a port.
    Tcp {
        /// The host.
        host: String,
        /// The port.
        port: u16,
    },
    /// A Unix socket: PostgreSQL names it `.s.PGSQL.PORT` inside its socket directory.
    Unix {
        /// The socket's path.
        path: String,
    },
}

impl Target {
    /// As libpq reads `PGHOST`: a host starting with `/` is a socket directory.
    pub fn new(host: &str, port: u16) -> Target {
        if host.starts_with('/') {
            let path = format!("{}/.s.PGSQL.{port}", host.trim_end_matches('/'));
            Target::Unix { path }
        } else {
            let host = host.to_string();
            Target::Tcp { host, port }
        }
    }

    async fn open(&self) -> io::Result<Box<dyn Transport>> {
        Ok(match self {
            Target::Tcp { host, port } => {
                let stream = TcpStream::connect((host.as_str(), *port)).await?;
                // Queries are small messages that should leave at once.
                stream.set_nodelay(true)?;
                Box::new(stream)
            }
            Target::Unix { path } => Box::new(UnixStream::connect(path).await?),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            Target::Unix { path } => write!(f, "{path}"),
        }
    }
}

/// Who logs in, to which database.
#[derive(Debug, Clone)]
pub struct Login {
    /// The role to log in as.
    pub user: String,
    /// The database to connect to.
    pub database: String,
    /// The password, if the server asks for one.
    pub password: Option<String>,
}

/// What a conversation was doing when it went wrong, for the error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Between connecting and the first `ReadyForQuery`.
    Login,
    /// Between sending a query and its `ReadyForQuery`.
    Query,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Login => "during the login",
            Stage::Query => "in the middle of a query",
        })
    }
}

/// Everything that can go wrong, each with a message that says what to do about it.
#[derive(Debug)]
pub enum ClientError {
    /// The server could not be reached.
    Connect {
        /// Where we tried.
        target: String,
        /// Why it failed.
        source: io::Error,
    },
    /// The server refused the login: a wrong password, an unknown role or database.
    LoginRefused(ServerError),
    /// The login cannot go on: no password to give, a method this client lacks, a SCRAM
    /// exchange that did not add up.
    Auth(String),
    /// The query failed on the server; the connection can run the next one.
    Query(ServerError),
    /// The server closed the connection.
    Closed(Stage),
    /// Reading or writing failed for another reason.
    Io(Stage, io::Error),
    /// The server sent bytes that are not the protocol.
    Protocol(Stage, ProtocolError),
    /// The server sent a valid message that makes no sense at this point.
    Unexpected(Stage, String),
    /// Connecting and logging in took longer than allowed.
    TimedOut(Duration),
    /// Input this client cannot send (a NUL byte inside a string, a huge query).
    InvalidInput(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Connect { target, source } => {
                write!(f, "cannot connect to {target}: {source}")
            }
            ClientError::LoginRefused(error) => write!(f, "login refused: {error}"),
            ClientError::Auth(why) => write!(f, "cannot log in: {why}"),
            ClientError::Query(error) => write!(f, "query failed: {error}"),
            ClientError::Closed(stage) => {
                write!(f, "the server closed the connection {stage}")
            }
            ClientError::Io(stage, error) => write!(f, "connection error {stage}: {error}"),
            ClientError::Protocol(stage, error) => {
                write!(f, "protocol error {stage}: {error}")
            }
            ClientError::Unexpected(stage, what) => {
                write!(f, "protocol error {stage}: the server sent {what}")
            }
            ClientError::TimedOut(limit) => {
                write!(f, "connecting and logging in took longer than {limit:?}")
            }
            ClientError::InvalidInput(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// What one statement of a query returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResult {
    /// The columns, empty for a statement that returns no rows (`INSERT`, `CREATE`…).
    pub columns: Vec<Column>,
    /// The rows, each value as text, `None` for `NULL`.
    pub rows: Vec<Vec<Option<String>>>,
    /// What the server says it did: `SELECT 3`, `INSERT 0 1`.
    pub tag: String,
}

/// A logged-in connection, ready for queries.
pub struct Connection {
    /// Buffered, so that reading a 5-byte header and then a body costs one system call
    /// for many small messages rather than two per message.
    reader: BufReader<ReadHalf<Box<dyn Transport>>>,
    /// Buffered, so that a message built in pieces leaves in one write at `flush`.
    writer: BufWriter<WriteHalf<Box<dyn Transport>>>,
    /// The settings the server reported (`server_version`, `TimeZone`…), latest last.
    parameters: Vec<(String, String)>,
}

/// Connects to `target` and logs in, all within `limit`.
pub async fn connect(
    target: &Target,
    login: &Login,
    limit: Duration,
) -> Result<Connection, ClientError> {
    let attempt = async {
        let stream = target.open().await.map_err(|source| ClientError::Connect {
            target: target.to_string(),
            source,
        })?;
        Connection::handshake(stream, login).await
    };
    time::timeout(limit, attempt)
        .await
        .unwrap_or(Err(ClientError::TimedOut(limit)))
}

impl Connection {
    // ANCHOR: handshake
    /// Logs in over an open stream: the startup message, then whatever the server asks
    /// for, until it says it is ready for a query.
    pub async fn handshake(
        stream: Box<dyn Transport>,
        login: &Login,
    ) -> Result<Connection, ClientError> {
        for text in [&login.user, &login.database] {
            check_sendable(text)?;
        }
        let (read_half, write_half) = split(stream);
        let mut connection = Connection {
            reader: BufReader::new(read_half),
            writer: BufWriter::new(write_half),
            parameters: Vec::new(),
        };
        let startup = protocol::startup_message(&[
            ("user", &login.user),
            ("database", &login.database),
            ("client_encoding", "UTF8"),
            ("application_name", "asincrono pg_client"),
        ]);
        connection.send(&startup, Stage::Login).await?;
        loop {
            match connection.receive(Stage::Login).await? {
                Message::Authentication(Auth::Ok) => {} // settings follow, then Z
                Message::Authentication(request) => connection.answer(request, login).await?,
                Message::ParameterStatus { name, value } => {
                    connection.parameters.push((name, value))
                }
                Message::BackendKeyData { .. } | Message::NoticeResponse(_) => {}
                Message::ReadyForQuery(_) => return Ok(connection),
                Message::ErrorResponse(error) => return Err(ClientError::LoginRefused(error)),
                other => return Err(unexpected(Stage::Login, &other)),
            }
        }
    }
    // ANCHOR_END: handshake

    /// Answers one authentication request.
    async fn answer(&mut self, request: Auth, login: &Login) -> Result<(), ClientError> {
        let password = || {
            login.password.as_deref().ok_or_else(|| {
                ClientError::Auth(format!(
                    "the server asks for a password for role \"{}\": set PGPASSWORD",
                    login.user
                ))
            })
        };
        match request {
            Auth::CleartextPassword => {
                let password = password()?;
                check_sendable(password)?;
                self.send(&protocol::password_message(password), Stage::Login)
                    .await
            }
            Auth::Md5Password { salt } => {
                let answer = postgres_md5_answer(&login.user, password()?, salt);
                self.send(&protocol::password_message(&answer), Stage::Login)
                    .await
            }
            Auth::Sasl { mechanisms } if mechanisms.iter().any(|m| m == "SCRAM-SHA-256") => {
                self.scram(password()?).await
            }
            Auth::Sasl { mechanisms } => Err(ClientError::Auth(format!(
                "the server offers only SASL mechanisms {mechanisms:?}"
            ))),
            Auth::Unsupported(code) => Err(ClientError::Auth(format!(
                "the server asks for authentication method {code}, which this client lacks \
                 (it knows trust, password, md5 and scram-sha-256)"
            ))),
            Auth::Ok | Auth::SaslContinue(_) | Auth::SaslFinal(_) => Err(ClientError::Unexpected(
                Stage::Login,
                "a SASL step that no exchange had started".into(),
            )),
        }
    }

    /// The three SCRAM-SHA-256 messages (see `scram.rs`), with the server's proof checked.
    async fn scram(&mut self, password: &str) -> Result<(), ClientError> {
        let nonce = random_nonce().map_err(|err| ClientError::Io(Stage::Login, err))?;
        let mut scram = ScramClient::new("", password, nonce);
        let first =
            protocol::sasl_initial_response("SCRAM-SHA-256", scram.client_first().as_bytes());
        self.send(&first, Stage::Login).await?;
        let server_first = match self.receive(Stage::Login).await? {
            Message::Authentication(Auth::SaslContinue(data)) => data,
            other => return Err(self.refused_or_unexpected(other)),
        };
        let last = scram
            .client_final(&server_first)
            .map_err(ClientError::Auth)?;
        self.send(&protocol::sasl_response(last.as_bytes()), Stage::Login)
            .await?;
        match self.receive(Stage::Login).await? {
            Message::Authentication(Auth::SaslFinal(data)) => {
                scram.verify_server_final(&data).map_err(ClientError::Auth)
            }
            other => Err(self.refused_or_unexpected(other)),
        }
    }

    /// A wrong password ends a SCRAM exchange with an `ErrorResponse`, not a SASL step.
    fn refused_or_unexpected(&self, message: Message) -> ClientError {
        match message {
            Message::ErrorResponse(error) => ClientError::LoginRefused(error),
            other => unexpected(Stage::Login, &other),
        }
    }

    /// A setting the server reported, such as `server_version`.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        let mut matching = self.parameters.iter().filter(|(n, _)| n == name);
        matching.next_back().map(|(_, value)| value.as_str())
    }

    // ANCHOR: simple_query
    /// Runs `sql` (one statement or several, separated by `;`) with the simple query
    /// protocol and collects what each statement returned. A failed statement is a
    /// [`ClientError::Query`], read to the end, so the connection stays usable.
    pub async fn simple_query(&mut self, sql: &str) -> Result<Vec<QueryResult>, ClientError> {
        check_sendable(sql)?;
        self.send(&protocol::query_message(sql), Stage::Query)
            .await?;
        let mut results = Vec::new();
        let mut current: Option<QueryResult> = None;
        let mut failure = None;
        loop {
            match self.receive(Stage::Query).await? {
                Message::RowDescription(columns) => {
                    let (rows, tag) = (Vec::new(), String::new());
                    current = Some(QueryResult { columns, rows, tag });
                }
                Message::DataRow(values) => match current.as_mut() {
                    Some(result) if result.columns.len() == values.len() => {
                        result.rows.push(values)
                    }
                    Some(result) => {
                        let what = format!(
                            "a row of {} values for {} columns",
                            values.len(),
                            result.columns.len()
                        );
                        return Err(ClientError::Unexpected(Stage::Query, what));
                    }
                    None => return Err(unexpected(Stage::Query, &Message::DataRow(values))),
                },
                Message::CommandComplete(tag) => {
                    let mut result = current.take().unwrap_or(QueryResult {
                        columns: Vec::new(),
                        rows: Vec::new(),
                        tag: String::new(),
                    });
                    result.tag = tag;
                    results.push(result);
                }
                Message::EmptyQueryResponse | Message::NoticeResponse(_) => {}
                Message::ParameterStatus { name, value } => self.parameters.push((name, value)),
                // After an error the server skips the rest of the statements and still
                // ends with ReadyForQuery: wait for it, so the next query starts clean.
                Message::ErrorResponse(error) => failure = Some(error),
                Message::ReadyForQuery(_) => {
                    return match failure {
                        Some(error) => Err(ClientError::Query(error)),
                        None => Ok(results),
                    };
                }
                other => return Err(unexpected(Stage::Query, &other)),
            }
        }
    }
    // ANCHOR_END: simple_query

    /// Says goodbye (`Terminate`), so the server does not log an unexpected disconnect.
    pub async fn close(mut self) {
        let _ = self
            .send(&protocol::terminate_message(), Stage::Query)
            .await;
    }

    // ANCHOR: receive
    /// Reads one whole message: the header first, checked before anything is allocated,
    /// then exactly the body it announces. `BufReader` makes both `read_exact` calls cheap.
    async fn receive(&mut self, stage: Stage) -> Result<Message, ClientError> {
        let mut header = [0u8; HEADER_LEN];
        self.reader
            .read_exact(&mut header)
            .await
            .map_err(|err| io_error(stage, err))?;
        let (tag, body_len) =
            parse_header(&header).map_err(|err| ClientError::Protocol(stage, err))?;
        let mut body = vec![0u8; body_len];
        self.reader
            .read_exact(&mut body)
            .await
            .map_err(|err| io_error(stage, err))?;
        parse_body(tag, &body).map_err(|err| ClientError::Protocol(stage, err))
    }
    // ANCHOR_END: receive

    async fn send(&mut self, message: &[u8], stage: Stage) -> Result<(), ClientError> {
        let written = async {
            self.writer.write_all(message).await?;
            self.writer.flush().await
        };
        written.await.map_err(|err| io_error(stage, err))
    }
}

/// The end of the stream, or a reset, means the server went away; anything else is an
/// I/O error worth showing as it is.
fn io_error(stage: Stage, err: io::Error) -> ClientError {
    match err.kind() {
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => {
            ClientError::Closed(stage)
        }
        _ => ClientError::Io(stage, err),
    }
}

fn unexpected(stage: Stage, message: &Message) -> ClientError {
    let what = match message {
        Message::Other(tag) => format!(
            "message '{}', which this client does not handle",
            *tag as char
        ),
        other => format!("{other:?} where it makes no sense"),
    };
    ClientError::Unexpected(stage, what)
}

/// Strings travel NUL-terminated, so they cannot hold a NUL; and no message may pass
/// the size the server accepts either.
fn check_sendable(text: &str) -> Result<(), ClientError> {
    if text.contains('\0') {
        return Err(ClientError::InvalidInput(
            "a string to send holds a NUL byte".into(),
        ));
    }
    if text.len() > protocol::MAX_MESSAGE {
        return Err(ClientError::InvalidInput(format!(
            "a string to send is longer than {} bytes",
            protocol::MAX_MESSAGE
        )));
    }
    Ok(())
}
