//! The PostgreSQL client example (`examples/pg_client.rs`), run for real: against a
//! PostgreSQL server, and against tiny fake servers written here for what a real server
//! never does (drop the connection mid-query, send garbage, say nothing), and for a refused
//! login without needing a real server to refuse it.
//!
//! Which server: the one `PGHOST`/`PGPORT`/`PGUSER`/`PGDATABASE` name (`.ci/run` starts
//! one and exports them), else a private cluster this test starts itself with the
//! server's binaries (`initdb`, `pg_ctl`) in a temporary folder on a free port, stopped
//! when the test process exits. Its superuser creates three roles that must log in with a
//! password (`pg_hba.conf` lines `md5`, `scram-sha-256`, `password`). With no server and no
//! binaries, the server tests say so on stderr and pass, except under `CI=true`, where a
//! skip is a failure.
//!
//! The example's own unit tests (the parser, MD5, SHA-256, SCRAM, base64) run here too:
//! they are compiled in with the example's modules.
//!
//! Some tests run the example as a program, to check its output and exit code: the test
//! binary runs itself again with `PG_CLIENT_TEST_ARGS` set, and its ignored test
//! `child_process_entry` then runs the example's `command_line` and exits with its code.

mod common;

// `main` belongs to the example, not to these tests.
#[allow(dead_code)]
#[path = "../examples/pg_client.rs"]
mod pg_client;

use asincrono::io::{AsyncReadExt, AsyncWriteExt};
use asincrono::net::TcpListener;
use common::{TEST_DEADLINE, on_each_flavour, skip, within};
use pg_client::connection::{ClientError, Login, Stage, Target, connect};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const LOGIN_LIMIT: Duration = Duration::from_secs(10);

/// The roles with passwords the tests create, each with the `pg_hba.conf` method it must
/// log in by, and its password.
const PASSWORD_ROLES: [(&str, &str, &str); 3] = [
    ("asincrono_md5", "md5", "md5-secret"),
    ("asincrono_scram", "scram-sha-256", "scram-secret"),
    ("asincrono_clear", "password", "clear-secret"),
];

/// A server the tests can use.
struct Server {
    host: String,
    port: u16,
    superuser: String,
    database: String,
    /// Held, never written, for as long as the process lives: the watcher that stops a
    /// cluster this test started waits for it to close, which happens when we exit.
    _stop_on_exit: Option<Mutex<ChildStdin>>,
}

impl Server {
    fn target(&self) -> Target {
        Target::new(&self.host, self.port)
    }

    fn login(&self, user: &str, password: Option<&str>) -> Login {
        Login {
            user: user.to_string(),
            database: self.database.clone(),
            password: password.map(str::to_string),
        }
    }

    /// The environment the example reads.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PGHOST", self.host.clone()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.superuser.clone()),
            ("PGDATABASE", self.database.clone()),
        ]
    }
}

/// The server, found or started once for the whole test binary; `None` (with a note on
/// stderr) if there is none, which fails the test under `CI=true`.
fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(|| find_or_start_server().and_then(create_roles)) {
        Ok(server) => Some(server),
        Err(why) => skip(why),
    }
}

fn find_or_start_server() -> Result<Server, String> {
    let var = |name| std::env::var(name).ok();
    if var("PGHOST").is_some() || var("PGPORT").is_some() {
        let port = var("PGPORT").unwrap_or_else(|| "5432".into());
        return Ok(Server {
            host: var("PGHOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: port
                .parse()
                .map_err(|_| format!("PGPORT={port} is not a port"))?,
            superuser: var("PGUSER").unwrap_or_else(|| "postgres".into()),
            database: var("PGDATABASE").unwrap_or_else(|| "postgres".into()),
            _stop_on_exit: None,
        });
    }
    let bin = server_binaries().ok_or(
        "no PostgreSQL server: set PGHOST/PGPORT/PGUSER to one, or install the server \
         (apt-get install postgresql) so that this test can start its own",
    )?;
    start_cluster(&bin)
}

/// The folder holding `initdb` and `pg_ctl`: on the PATH, or where Debian puts them.
fn server_binaries() -> Option<PathBuf> {
    if common::installed("initdb") && common::installed("pg_ctl") {
        return Some(PathBuf::new());
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// Whether this process runs as root.
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// PostgreSQL refuses to run as root: under root, run its tools as the `postgres` user.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command.output().map_err(|err| format!("{what}: {err}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(format!("{what} failed ({}): {stderr}", out.status))
}

/// `initdb` a cluster in a fresh temporary folder, let the password roles in by their
/// methods (everyone else by trust), start it on a free port, and leave a watcher that
/// stops it and removes the folder when this process exits.
fn start_cluster(bin: &Path) -> Result<Server, String> {
    let dir = std::env::temp_dir().join(format!("asincrono-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let started = start_cluster_in(bin, &dir);
    if started.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    started
}

fn start_cluster_in(bin: &Path, dir: &Path) -> Result<Server, String> {
    let data = dir.join("data");
    std::fs::create_dir_all(dir).map_err(|err| format!("mkdir {}: {err}", dir.display()))?;
    if is_root() {
        let mut chown = Command::new("chown");
        chown.arg("postgres:").arg(dir);
        run(chown, "chown the cluster folder to postgres")?;
    }
    let mut initdb = as_server_user(&bin.join("initdb"));
    initdb
        .args(["-A", "trust", "-U", "postgres", "-D"])
        .arg(&data);
    run(initdb, "initdb")?;
    let mut hba = String::new();
    for (role, method, _) in PASSWORD_ROLES {
        hba += &format!("host all {role} 127.0.0.1/32 {method}\n");
    }
    hba += "host all all 127.0.0.1/32 trust\nlocal all all trust\n";
    std::fs::write(data.join("pg_hba.conf"), hba).map_err(|err| format!("pg_hba.conf: {err}"))?;

    let port = free_port()?;
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1",
        dir.display()
    );
    let mut start = as_server_user(&bin.join("pg_ctl"));
    start
        .arg("-D")
        .arg(&data)
        .args(["-w", "-o", &options, "-l"]);
    start.arg(dir.join("log")).arg("start");
    run(start, "pg_ctl start")?;

    // The watcher ignores Ctrl-C (which reaches the whole process group) so that it still
    // stops the server after an interrupted `cargo test`.
    let pg_ctl = bin.join("pg_ctl");
    let script = format!(
        "trap '' INT; read _; {stop} -D '{data}' -m immediate stop >/dev/null; rm -rf '{dir}'",
        stop = if is_root() {
            format!("runuser -u postgres -- '{}'", pg_ctl.display())
        } else {
            format!("'{}'", pg_ctl.display())
        },
        data = data.display(),
        dir = dir.display(),
    );
    let mut watcher = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|err| format!("start the watcher: {err}"))?;
    Ok(Server {
        host: "127.0.0.1".into(),
        port,
        superuser: "postgres".into(),
        database: "postgres".into(),
        _stop_on_exit: watcher.stdin.take().map(Mutex::new),
    })
}

/// A port nobody listens on right now (the kernel's choice for a socket bound to port 0).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|err| err.to_string())?;
    Ok(listener.local_addr().map_err(|err| err.to_string())?.port())
}

/// Creates (again) the roles that log in with a password, through the example's own
/// client, as the superuser (who gets in by trust).
fn create_roles(server: Server) -> Result<Server, String> {
    let mut sql = String::new();
    for (role, method, password) in PASSWORD_ROLES {
        // The method `md5` needs the password stored as an MD5 hash; with a SCRAM verifier
        // stored, the server would run SCRAM instead.
        let encryption = if method == "md5" {
            "md5"
        } else {
            "scram-sha-256"
        };
        sql += &format!(
            "DROP ROLE IF EXISTS {role}; SET password_encryption = '{encryption}'; \
             CREATE ROLE {role} LOGIN PASSWORD '{password}'; "
        );
    }
    let outcome = common::runtime("current_thread").block_on(async {
        let login = server.login(&server.superuser, None);
        let mut connection = connect(&server.target(), &login, LOGIN_LIMIT).await?;
        connection.simple_query(&sql).await
    });
    match outcome {
        Ok(_) => Ok(server),
        Err(err) => Err(format!(
            "cannot set up the test roles on {}: {err}",
            server.target()
        )),
    }
}

// ---- The example as a program ----

const CHILD_ARGS: &str = "PG_CLIENT_TEST_ARGS";

/// Not a test of its own: the entry point when this binary is run again as the example
/// (see the file's doc). Ignored, so that a normal run lists it as such, with the reason,
/// rather than counting it as a test that passed.
#[test]
#[ignore = "not a test: the body of the example child processes the other tests start"]
fn child_process_entry() {
    let joined = std::env::var(CHILD_ARGS).expect("run only by the tests, which set it");
    let args: Vec<String> = joined
        .split('\u{1f}')
        .filter(|arg| !arg.is_empty())
        .map(str::to_string)
        .collect();
    let env = |name: &str| std::env::var(name).ok();
    // The flavour the example's `main` asks for.
    let code = common::runtime("current_thread").block_on(pg_client::command_line(&args, &env));
    let _ = std::io::stdout().flush();
    std::process::exit(code.into());
}

/// What the example printed and how it ended.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the example with these arguments and environment (and no `PG*` variables from
/// ours), killing it if it takes longer than the test deadline.
fn run_example(args: &[&str], env: &[(&str, String)]) -> Outcome {
    let mut command = common::child::this_test_binary_running("child_process_entry");
    for var in ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"] {
        command.env_remove(var);
    }
    command
        .env(CHILD_ARGS, args.join("\u{1f}"))
        .envs(env.iter().cloned());
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the example");
    let code = wait_bounded(&mut child, TEST_DEADLINE);
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Outcome {
        code,
        stdout,
        stderr,
    }
}

/// The child's exit code; a child still running after `limit` is killed and fails the
/// test. (Its output is small enough to sit in the pipes until it is read.)
fn wait_bounded(child: &mut Child, limit: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the example") {
            return status
                .code()
                .expect("the example exits, not killed by a signal");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the example was still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The number in a line `"{prefix}{number}{suffix}"` of `output`.
fn figure(output: &str, prefix: &str, suffix: &str) -> f64 {
    let line = output
        .lines()
        .find(|line| line.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{output}"));
    let number = line[prefix.len()..]
        .strip_suffix(suffix)
        .unwrap_or_else(|| {
            panic!("{line:?} does not end in {suffix:?}");
        });
    number
        .parse()
        .unwrap_or_else(|_| panic!("no number in {line:?}"))
}

#[test]
fn the_demo_checks_its_rows_and_reports_the_speed_up() {
    let Some(server) = server() else { return };
    let args = ["--queries", "16", "--connections", "4", "--sleep", "0.05"];
    let out = run_example(&args, &server.env());
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let serial = figure(&out.stdout, "serial: 16 queries, 1 connection, ", " s");
    let concurrent = figure(&out.stdout, "concurrent: 16 queries, 4 connections, ", " s");
    assert!(out.stdout.contains("\nrows: 32 checked, all as expected\n"));
    let speed_up = figure(&out.stdout, "speed-up: ", "x");
    // Reported, not asserted: a busy machine may slow either run.
    eprintln!(
        "pg_client speed-up: {speed_up:.2}x (serial {serial:.3} s, concurrent {concurrent:.3} s)"
    );
    assert!(speed_up > 0.0 && serial >= 16.0 * 0.05, "{}", out.stdout);
    // The ticker ran while the serial queries waited on the server.
    assert!(out.stdout.contains("  serial: "), "{}", out.stdout);
}

#[test]
fn one_command_prints_a_table() {
    let Some(server) = server() else { return };
    let sql = "SELECT n, 'ñ' || n AS word, NULL AS nothing FROM generate_series(1, 2) n";
    let out = run_example(&["-c", sql], &server.env());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let table = " n | word | nothing\n\
                 ---+------+---------\n \
                 1 | ñ1   | NULL\n \
                 2 | ñ2   | NULL\n\
                 (SELECT 2)\n";
    assert!(out.stdout.contains(table), "{}", out.stdout);
}

#[test]
fn a_wrong_password_is_refused_with_a_clear_error_and_exit_code() {
    let Some(server) = server() else { return };
    let mut env = server.env();
    env.push(("PGPASSWORD", "not-the-password".into()));
    let out = run_example(&["--user", "asincrono_md5", "-c", "SELECT 1"], &env);
    if out.code == 0 {
        skip::<()>(&format!(
            "the server at {} lets asincrono_md5 in without its password: its pg_hba.conf \
             lacks the lines .ci/run writes",
            server.target()
        ));
        return;
    }
    assert_eq!(
        out.code,
        i32::from(pg_client::EXIT_LOGIN_REFUSED),
        "{}",
        out.stderr
    );
    let expected = "pg_client: login refused: FATAL 28P01: password authentication failed \
                    for user \"asincrono_md5\"\n";
    assert!(out.stderr.ends_with(expected), "{}", out.stderr);
}

#[test]
fn a_failed_query_is_a_clear_error_and_exit_code() {
    let Some(server) = server() else { return };
    let out = run_example(&["-c", "SELECT * FROM no_such_table"], &server.env());
    assert_eq!(out.code, i32::from(pg_client::EXIT_QUERY_FAILED));
    let expected =
        "pg_client: query failed: ERROR 42P01: relation \"no_such_table\" does not exist";
    assert!(out.stderr.contains(expected), "{}", out.stderr);
}

#[test]
fn a_bad_command_line_is_a_usage_error() {
    for args in [
        &["--port", "many"][..],
        &["--bogus"],
        &["--queries", "0"],
        &["-c"],
    ] {
        let out = run_example(args, &[]);
        assert_eq!(out.code, i32::from(pg_client::EXIT_USAGE), "{args:?}");
        assert!(out.stderr.contains("usage: pg_client"), "{}", out.stderr);
    }
}

// ---- The client as a library, against the server ----

#[test]
fn queries_return_their_rows_as_text() {
    let Some(server) = server() else { return };
    on_each_flavour(move || async move {
        let login = server.login(&server.superuser, None);
        let mut c = connect(&server.target(), &login, LOGIN_LIMIT)
            .await
            .expect("connect");
        let sql = "SELECT n, n * 2 AS twice, 'row ' || n AS label, NULL::text AS nothing \
                   FROM generate_series(1, 300) AS n; \
                   CREATE TEMP TABLE t (x int); INSERT INTO t VALUES (1), (2); SELECT 'é€'";
        let results = c.simple_query(sql).await.expect("the query runs");
        let tags: Vec<&str> = results.iter().map(|r| r.tag.as_str()).collect();
        assert_eq!(
            tags,
            ["SELECT 300", "CREATE TABLE", "INSERT 0 2", "SELECT 1"]
        );
        let names: Vec<&str> = results[0].columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["n", "twice", "label", "nothing"]);
        assert_eq!(results[0].columns[0].type_oid, 23, "int4");
        for (i, row) in results[0].rows.iter().enumerate() {
            let n = i + 1;
            let expected = [
                Some(n.to_string()),
                Some((2 * n).to_string()),
                Some(format!("row {n}")),
                None,
            ];
            assert_eq!(row, &expected);
        }
        assert_eq!(results[3].rows, [[Some("é€".to_string())]]);
        assert_eq!(c.simple_query("").await.expect("an empty query"), []);

        // A failed statement: a clear error, and the connection carries on.
        match c
            .simple_query("SELECT 1; SELECT * FROM nope; SELECT 2")
            .await
        {
            Err(ClientError::Query(error)) => assert_eq!(error.code(), "42P01"),
            other => panic!("expected a query error, got {other:?}"),
        }
        let again = c.simple_query("SELECT 3").await.expect("still usable");
        assert_eq!(again[0].rows, [[Some("3".to_string())]]);
        match c.simple_query("SELECT '\0'").await {
            Err(ClientError::InvalidInput(why)) => assert!(why.contains("NUL")),
            other => panic!("expected invalid input, got {other:?}"),
        }
        assert!(c.parameter("server_version").is_some());
        c.close().await;
    });
}

#[test]
fn every_password_method_logs_in() {
    let Some(server) = server() else { return };
    on_each_flavour(move || async move {
        for (role, method, password) in PASSWORD_ROLES {
            let login = server.login(role, Some(password));
            let mut c = connect(&server.target(), &login, LOGIN_LIMIT)
                .await
                .unwrap_or_else(|err| panic!("{role} by {method}: {err}"));
            let rows = c.simple_query("SELECT current_user").await.expect("query");
            assert_eq!(rows[0].rows, [[Some(role.to_string())]], "{method}");

            let wrong = server.login(role, Some("wrong"));
            match connect(&server.target(), &wrong, LOGIN_LIMIT).await {
                Err(ClientError::LoginRefused(error)) => assert_eq!(error.code(), "28P01"),
                Err(other) => panic!("{method}: expected a refusal, got {other}"),
                // A server whose pg_hba.conf does not ask: reported by the exit-code test.
                Ok(_) => {}
            }
            match connect(&server.target(), &server.login(role, None), LOGIN_LIMIT).await {
                Err(ClientError::Auth(why)) => assert!(why.contains("PGPASSWORD"), "{why}"),
                Err(other) => panic!("{method}: expected a request for a password, got {other}"),
                Ok(_) => {}
            }
        }
    });
}

#[test]
fn a_unix_socket_works_too() {
    let Some(server) = server() else { return };
    // `.ci/run` and the private cluster both put the socket in /tmp or their own folder.
    let dirs = [
        std::env::temp_dir().join(format!("asincrono-pg-{}", std::process::id())),
        "/tmp".into(),
    ];
    let Some(dir) = dirs
        .iter()
        .find(|dir| dir.join(format!(".s.PGSQL.{}", server.port)).exists())
    else {
        skip::<()>(&format!(
            "the server on port {} has no Unix socket in /tmp or the test's own folder",
            server.port
        ));
        return;
    };
    let target = Target::new(&dir.display().to_string(), server.port);
    on_each_flavour(move || {
        let target = target.clone();
        async move {
            let login = server.login(&server.superuser, None);
            let mut c = connect(&target, &login, LOGIN_LIMIT)
                .await
                .expect("connect");
            let rows = c
                .simple_query("SELECT 'over a socket'")
                .await
                .expect("query");
            assert_eq!(rows[0].rows, [[Some("over a socket".to_string())]]);
        }
    });
}

// ---- Fake servers: faults a real server does not make ----

/// A backend message: type byte, length, body.
fn backend(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// `AuthenticationOk` then `ReadyForQuery`: a login by trust.
fn logged_in() -> Vec<u8> {
    [backend(b'R', &0i32.to_be_bytes()), backend(b'Z', b"I")].concat()
}

/// What a fake server does with its one connection.
struct Script {
    /// Sent once the startup message is read.
    after_startup: Vec<u8>,
    /// Sent once a query is read; `None`: do not wait for a query.
    after_query: Option<Vec<u8>>,
    /// Keep the connection open, saying nothing, instead of closing it.
    then_hang: bool,
}

/// A server on a free loopback port that follows `script` for one connection.
async fn fake_server(script: Script) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    asincrono::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        // The startup message: a length that counts itself, then the rest.
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).await.expect("startup length");
        let mut rest = vec![0; i32::from_be_bytes(len) as usize - 4];
        stream.read_exact(&mut rest).await.expect("startup body");
        stream.write_all(&script.after_startup).await.expect("send");
        if let Some(reply) = script.after_query {
            let mut header = [0u8; 5];
            stream.read_exact(&mut header).await.expect("query header");
            let body_len = i32::from_be_bytes(header[1..].try_into().unwrap()) as usize - 4;
            stream
                .read_exact(&mut vec![0; body_len])
                .await
                .expect("query body");
            stream.write_all(&reply).await.expect("send");
        }
        if script.then_hang {
            asincrono::time::sleep(Duration::from_secs(60)).await;
        }
    });
    addr
}

fn target_of(addr: SocketAddr) -> Target {
    Target::new(&addr.ip().to_string(), addr.port())
}

fn trust_login() -> Login {
    Login {
        user: "ann".into(),
        database: "db".into(),
        password: None,
    }
}

/// Logs in to a fake server following `script` and runs one query.
async fn query_fake(script: Script, limit: Duration) -> Result<(), ClientError> {
    let addr = fake_server(script).await;
    let mut connection = connect(&target_of(addr), &trust_login(), limit).await?;
    connection.simple_query("SELECT 1").await.map(drop)
}

/// An `ErrorResponse` with these fields (code, text).
fn error_response(fields: &[(u8, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (code, text) in fields {
        body.push(*code);
        body.extend_from_slice(text.as_bytes());
        body.push(0);
    }
    body.push(0);
    backend(b'E', &body)
}

#[test]
fn a_server_that_refuses_the_login_is_a_clear_error_with_its_exit_code() {
    on_each_flavour(|| async {
        // At once, after the startup message: no pg_hba.conf line lets us in.
        let no_entry = error_response(&[
            (b'S', "FATAL"),
            (b'C', "28000"),
            (b'M', "no pg_hba.conf entry for user \"ann\""),
        ]);
        let script = Script {
            after_startup: no_entry,
            after_query: None,
            then_hang: true, // the client must stop at the error, not at a close
        };
        let err = query_fake(script, LOGIN_LIMIT).await.expect_err("refused");
        assert!(matches!(err, ClientError::LoginRefused(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "login refused: FATAL 28000: no pg_hba.conf entry for user \"ann\""
        );
        assert_eq!(pg_client::exit_code(&err), pg_client::EXIT_LOGIN_REFUSED);

        // After asking for a cleartext password (code 3) and reading it.
        let wrong_password = error_response(&[
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "28P01"),
            (b'M', "password authentication failed for user \"ann\""),
        ]);
        let script = Script {
            after_startup: backend(b'R', &3i32.to_be_bytes()),
            after_query: Some(wrong_password), // the "query" read here is the password
            then_hang: true,
        };
        let addr = fake_server(script).await;
        let login = Login {
            password: Some("not-the-password".into()),
            ..trust_login()
        };
        let Err(err) = connect(&target_of(addr), &login, LOGIN_LIMIT).await else {
            panic!("a refused login logged in");
        };
        assert_eq!(
            err.to_string(),
            "login refused: FATAL 28P01: password authentication failed for user \"ann\""
        );
        assert_eq!(pg_client::exit_code(&err), pg_client::EXIT_LOGIN_REFUSED);
    });
}

#[test]
fn a_server_that_drops_the_connection_mid_query_is_a_clear_error() {
    on_each_flavour(|| async {
        let mut row_description = 1i16.to_be_bytes().to_vec();
        row_description.extend(b"n\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0");
        for reply in [
            Vec::new(),
            backend(b'T', &row_description),
            b"D\0\0".to_vec(),
        ] {
            let script = Script {
                after_startup: logged_in(),
                after_query: Some(reply),
                then_hang: false,
            };
            let err = query_fake(script, LOGIN_LIMIT)
                .await
                .expect_err("the server is gone");
            assert!(matches!(err, ClientError::Closed(Stage::Query)), "{err:?}");
            assert_eq!(
                err.to_string(),
                "the server closed the connection in the middle of a query"
            );
            assert_eq!(pg_client::exit_code(&err), pg_client::EXIT_CONNECTION);
        }
        // And during the login.
        let script = Script {
            after_startup: Vec::new(),
            after_query: None,
            then_hang: false,
        };
        let err = query_fake(script, LOGIN_LIMIT)
            .await
            .expect_err("the server is gone");
        assert_eq!(
            err.to_string(),
            "the server closed the connection during the login"
        );
    });
}

#[test]
fn the_program_reports_a_dropped_connection_with_its_exit_code() {
    // A fake on a plain thread, since the example runs in another process.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let fake = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 512];
        let _ = stream.read(&mut buf); // the startup message (small: one read)
        stream.write_all(&logged_in()).expect("send");
        let _ = stream.read(&mut buf); // the query; then hang up without a word
    });
    let env = [
        ("PGHOST", "127.0.0.1".to_string()),
        ("PGPORT", port.to_string()),
    ];
    let out = run_example(&["-c", "SELECT 1"], &env);
    fake.join().unwrap();
    assert_eq!(
        out.code,
        i32::from(pg_client::EXIT_CONNECTION),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .ends_with("pg_client: the server closed the connection in the middle of a query\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn malformed_messages_from_the_server_are_protocol_errors() {
    on_each_flavour(|| async {
        let row = |values: &[u8]| backend(b'D', values);
        let one_column = {
            let mut body = 1i16.to_be_bytes().to_vec();
            body.extend(b"n\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0");
            backend(b'T', &body)
        };
        let during_query: Vec<(&str, Vec<u8>)> = vec![
            ("a length below 4", b"C\0\0\0\x02".to_vec()),
            ("a 2 GiB length", b"D\x7f\xff\xff\xff".to_vec()),
            ("an unknown type", backend(b'?', b"")),
            ("a truncated tag", backend(b'C', b"SELECT 1")),
            ("trailing bytes", backend(b'Z', b"II")),
            ("a row before its columns", row(b"\0\0")),
            (
                "a row too wide",
                [one_column.clone(), row(b"\0\x02\0\0\0\x011\0\0\0\x012")].concat(),
            ),
            (
                "a negative value length",
                [one_column, row(b"\0\x01\xff\xff\xff\xf0")].concat(),
            ),
            (
                "COPY, which this client never asked for",
                backend(b'G', b"\0\0\0"),
            ),
        ];
        for (what, reply) in during_query {
            let script = Script {
                after_startup: logged_in(),
                after_query: Some(reply),
                then_hang: true,
            };
            let err = query_fake(script, LOGIN_LIMIT).await.expect_err(what);
            assert!(
                matches!(
                    err,
                    ClientError::Protocol(Stage::Query, _)
                        | ClientError::Unexpected(Stage::Query, _)
                ),
                "{what}: {err:?}"
            );
            assert!(
                err.to_string()
                    .starts_with("protocol error in the middle of a query: "),
                "{err}"
            );
            assert_eq!(
                pg_client::exit_code(&err),
                pg_client::EXIT_PROTOCOL,
                "{what}"
            );
        }
        let during_login: Vec<(&str, Vec<u8>)> = vec![
            (
                "a SASL step nobody started",
                backend(b'R', &12i32.to_be_bytes()),
            ),
            ("a row", row(b"\0\0")),
            ("garbage", b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()),
        ];
        for (what, reply) in during_login {
            let script = Script {
                after_startup: reply,
                after_query: None,
                then_hang: true,
            };
            let err = query_fake(script, LOGIN_LIMIT).await.expect_err(what);
            assert!(
                err.to_string()
                    .starts_with("protocol error during the login: "),
                "{what}: {err}"
            );
        }
    });
}

#[test]
fn a_silent_server_times_out_the_login_and_an_odd_method_is_named() {
    on_each_flavour(|| async {
        let script = Script {
            after_startup: Vec::new(),
            after_query: None,
            then_hang: true,
        };
        let limit = Duration::from_millis(200);
        let err = query_fake(script, limit).await.expect_err("no answer");
        assert!(matches!(err, ClientError::TimedOut(_)), "{err:?}");
        assert_eq!(pg_client::exit_code(&err), pg_client::EXIT_CONNECTION);

        // Kerberos (code 2): a clear "cannot", not a hang or a protocol error.
        let kerberos = backend(b'R', &2i32.to_be_bytes());
        let script = Script {
            after_startup: kerberos,
            after_query: None,
            then_hang: true,
        };
        let err = query_fake(script, LOGIN_LIMIT)
            .await
            .expect_err("unsupported");
        assert!(err.to_string().contains("authentication method 2"), "{err}");
        assert_eq!(pg_client::exit_code(&err), pg_client::EXIT_LOGIN_REFUSED);
    });
}

#[test]
fn a_server_that_is_not_there_is_a_connect_error() {
    within(TEST_DEADLINE, "connect", || {
        let port = free_port().expect("a free port");
        let out = run_example(&["-c", "SELECT 1"], &[("PGPORT", port.to_string())]);
        assert_eq!(
            out.code,
            i32::from(pg_client::EXIT_CONNECTION),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("cannot connect to 127.0.0.1:"),
            "{}",
            out.stderr
        );
    });
}
