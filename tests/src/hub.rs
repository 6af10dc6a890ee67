//! `TestHub`: one running `grove serve` with its own data dir and database.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::database::{Backend, ServiceConfig, TestDatabase};
use crate::http::Resp;

/// How long `grove serve` may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one CLI command may run.
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
/// The prefix of the one line `grove serve` prints to stdout.
const LISTENING: &str = "listening on http://";

/// Environment variables of the contract that must not leak from the caller's environment into
/// the processes under test (the tests pass everything explicitly).
const GROVE_ENV: &[&str] = &[
    "GROVE_DATA_DIR",
    "GROVE_DATABASE_URL",
    "GROVE_LISTEN",
    "GROVE_STORAGE_URL",
    "GROVE_PUBLIC_URL",
    "GROVE_LOG_FORMAT",
    "GROVE_DISABLE_SIGNUP",
];

/// The `grove` binary under test: `$GROVE_BIN`, else `<dir of the test executable>/../grove`
/// (test executables live in `target/<profile>/deps`). Panics when it does not exist.
pub fn grove_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("GROVE_BIN").filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "GROVE_BIN={} does not exist or is not a file",
            bin.display()
        );
        return bin;
    }
    let exe = std::env::current_exe().expect("cannot find the test executable's path");
    let dir = exe
        .parent()
        .expect("the test executable has no parent directory");
    let bin = dir
        .join("..")
        .join(format!("grove{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the grove binary is missing at {}: build it first with \
         `cargo build -p grove-hub --bin grove`, or set GROVE_BIN",
        bin.display()
    );
    bin
}

/// Where a hub keeps its objects.
#[derive(Debug, Clone, Default)]
enum Storage {
    /// S3 when the environment configures it (with PostgreSQL), else the default.
    #[default]
    Auto,
    /// No `--storage-url`: the default `file://<data-dir>/objects`.
    Default,
}

/// Options for starting a hub; `TestHub::builder()`.
#[derive(Debug, Default)]
pub struct HubBuilder {
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    storage: Storage,
}

impl HubBuilder {
    /// An extra argument to `grove serve`.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Extra arguments to `grove serve`.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// An environment variable for `grove serve`.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// `--disable-signup`.
    pub fn disable_signup(self) -> Self {
        self.arg("--disable-signup")
    }

    /// Never pass `--storage-url`, so the hub uses its default `file://<data-dir>/objects` even
    /// when the environment configures S3.
    pub fn default_storage(mut self) -> Self {
        self.storage = Storage::Default;
        self
    }

    /// Starts the hub and waits until it listens.
    pub fn start(self) -> TestHub {
        TestHub::start_with(self)
    }
}

/// A running `grove serve` on a free port with a fresh data dir and database. Dropping it kills
/// the process and removes the data dir (and the PostgreSQL database).
pub struct TestHub {
    child: Child,
    base: String,
    client: Client,
    stdout: Arc<Mutex<Vec<String>>>,
    bin: PathBuf,
    storage_url: Option<String>,
    /// The extra `serve` arguments and environment, for restarts.
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    // Dropped after the process is killed (field order): first the database, then the files.
    db: TestDatabase,
    data_dir: TempDir,
}

impl std::fmt::Debug for TestHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestHub")
            .field("base", &self.base)
            .field("data_dir", &self.data_dir.path())
            .field("db", &self.db)
            .finish()
    }
}

/// A user created by `TestHub::user`.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub password: String,
    /// The account JSON `grove user create` printed.
    pub account: Value,
}

/// What a CLI command did.
#[derive(Debug)]
pub struct CliOutput {
    /// The command line, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// The exit code (None if killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panics unless the command succeeded; returns its stdout.
    #[track_caller]
    pub fn success(&self) -> &str {
        assert!(
            self.status.success(),
            "`{}` failed with {}:\nstdout: {}\nstderr: {}",
            self.command,
            self.status,
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Panics unless the command failed with a message on stderr; returns the exit code.
    #[track_caller]
    pub fn failure(&self) -> i32 {
        let code = self.status.code().unwrap_or_else(|| {
            panic!("`{}` was killed by a signal: {}", self.command, self.status)
        });
        assert_ne!(
            code, 0,
            "`{}` succeeded but should have failed: {}",
            self.command, self.stdout
        );
        assert!(
            !self.stderr.trim().is_empty(),
            "`{}` failed (exit {code}) without a message on stderr",
            self.command
        );
        code
    }

    /// stdout as JSON; panics when it is not.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "`{}` did not print JSON ({e}): {:?}",
                self.command, self.stdout
            )
        })
    }
}

/// A CLI command being prepared: `hub.cli_cmd(["user", "create", "x"]).stdin("pw").run()`.
#[derive(Debug)]
pub struct Cli<'a> {
    hub: &'a TestHub,
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    envs: Vec<(OsString, OsString)>,
    config_by_env: bool,
}

impl Cli<'_> {
    /// Bytes to write to the command's stdin (otherwise stdin is empty).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// An environment variable for the command.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Give the data dir and database URL as `GROVE_DATA_DIR` / `GROVE_DATABASE_URL` instead of
    /// `--data-dir` / `--database-url`.
    pub fn config_by_env(mut self) -> Self {
        self.config_by_env = true;
        self
    }

    /// Runs the command to completion (at most a minute).
    pub fn run(self) -> CliOutput {
        let hub = self.hub;
        let mut cmd = Command::new(&hub.bin);
        cmd.args(&self.args);
        for key in GROVE_ENV {
            cmd.env_remove(key);
        }
        if self.config_by_env {
            cmd.env("GROVE_DATA_DIR", hub.data_dir());
            if let Some(url) = hub.db.url() {
                cmd.env("GROVE_DATABASE_URL", url);
            }
        } else {
            cmd.arg("--data-dir").arg(hub.data_dir());
            if let Some(url) = hub.db.url() {
                cmd.arg("--database-url").arg(url);
            }
        }
        cmd.envs(self.envs.iter().map(|(k, v)| (k, v)));
        let command = format!(
            "grove {}",
            cmd.get_args()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{command}`: {e}"));
        if let Some(input) = self.stdin {
            let mut stdin = child.stdin.take().unwrap();
            // The command may exit before reading everything; that is its business.
            let _ = stdin.write_all(&input);
        }
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > CLI_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{command}` did not finish within {CLI_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        CliOutput {
            command,
            status,
            stdout: String::from_utf8_lossy(&stdout.join().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
        }
    }
}

fn drain(mut reader: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = reader.read_to_end(&mut buf);
        buf
    })
}

/// A blocking client that sends cookies only when told, never uses a proxy and gives up after
/// 30 seconds.
fn new_client(cookie_store: bool) -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(cookie_store)
        .build()
        .expect("cannot build an HTTP client")
}

impl TestHub {
    /// Starts a hub with the default options.
    pub fn start() -> TestHub {
        HubBuilder::default().start()
    }

    /// Options for starting a hub.
    pub fn builder() -> HubBuilder {
        HubBuilder::default()
    }

    fn start_with(builder: HubBuilder) -> TestHub {
        let bin = grove_binary();
        let data_dir = tempfile::Builder::new()
            .prefix("grove-test-")
            .tempdir()
            .expect("cannot create a temporary data dir");
        let config = ServiceConfig::from_env();
        let db = TestDatabase::create(&config);
        let storage_url = match builder.storage {
            Storage::Default => None,
            Storage::Auto => config
                .s3_bucket
                .as_ref()
                .map(|bucket| format!("s3://{bucket}/{}", uuid::Uuid::new_v4().simple())),
        };

        let (child, addr, stdout_lines) = spawn_serve(
            &bin,
            data_dir.path(),
            db.url(),
            storage_url.as_deref(),
            &builder.args,
            &builder.envs,
        );
        TestHub {
            child,
            base: format!("http://{addr}"),
            client: new_client(false),
            stdout: stdout_lines,
            bin,
            storage_url,
            args: builder.args,
            envs: builder.envs,
            db,
            data_dir,
        }
    }

    /// Stops the server (the data dir and database stay).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server if it runs and starts it again over the same data dir, database and
    /// storage (on a new port).
    pub fn restart(&mut self) {
        self.stop();
        let (child, addr, stdout) = spawn_serve(
            &self.bin,
            self.data_dir.path(),
            self.db.url(),
            self.storage_url.as_deref(),
            &self.args,
            &self.envs,
        );
        self.child = child;
        self.base = format!("http://{addr}");
        self.stdout = stdout;
    }

    /// A second `grove serve` over the same data dir, database and storage (as a second node
    /// behind a load balancer would run); killed when dropped.
    pub fn start_sibling(&self) -> Sibling {
        let (child, addr, _) = spawn_serve(
            &self.bin,
            self.data_dir.path(),
            self.db.url(),
            self.storage_url.as_deref(),
            &self.args,
            &self.envs,
        );
        Sibling {
            child,
            base: format!("http://{addr}"),
        }
    }

    // ---- where things are ----

    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `http://ADDR`, as printed by `grove serve`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The data dir (`--data-dir`).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Which database this hub runs on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The `--database-url` passed, if any (None: the default SQLite file).
    pub fn database_url(&self) -> Option<&str> {
        self.db.url()
    }

    /// The `--storage-url` passed, if any.
    pub fn storage_url(&self) -> Option<&str> {
        self.storage_url.as_deref()
    }

    /// Everything the hub wrote to stderr so far (`<data-dir>/hub.log`).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.data_dir().join("hub.log")).expect("cannot read hub.log")
    }

    /// Every line the hub wrote to stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// The session HMAC key: the trimmed content of `<data-dir>/session.key`.
    pub fn session_key(&self) -> String {
        let path = self.data_dir().join("session.key");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
            .trim()
            .to_string()
    }

    /// True when `needle` occurs anywhere in the hub's database (SQLite: the bytes of the
    /// `grove.db*` files; PostgreSQL: the JSON text of every row of every table).
    pub fn database_contains(&self, needle: &str) -> bool {
        self.db.contains(self.data_dir(), needle)
    }

    /// Runs one SQL statement on the hub's database (white-box: for states the API cannot
    /// reach, such as a token past its expiry); returns the number of rows touched.
    pub fn execute_sql(&self, sql: &str) -> usize {
        self.db.execute(self.data_dir(), sql)
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    // ---- HTTP ----

    /// The shared client: no cookie store, no proxy.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A new client with a cookie store of its own.
    pub fn cookie_client(&self) -> Client {
        new_client(true)
    }

    /// A request on the shared client, with `Authorization: Bearer` when `bearer` is given.
    pub fn request(&self, method: Method, path: &str, bearer: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match bearer {
            Some(token) => rb.bearer_auth(token),
            None => rb,
        }
    }

    /// Sends a request and reads the whole response.
    pub fn send(&self, rb: RequestBuilder) -> Resp {
        let (client, request) = rb.build_split();
        let request = request.expect("cannot build the request");
        let line = format!("{} {}", request.method(), request.url().path());
        let response = client
            .execute(request)
            .unwrap_or_else(|e| panic!("{line}: request failed: {e}\nhub logs:\n{}", self.logs()));
        Resp::read(line, response)
    }

    pub fn get(&self, path: &str, bearer: Option<&str>) -> Resp {
        self.send(self.request(Method::GET, path, bearer))
    }

    pub fn post(&self, path: &str, bearer: Option<&str>, body: &Value) -> Resp {
        self.send(self.request(Method::POST, path, bearer).json(body))
    }

    pub fn put(&self, path: &str, bearer: Option<&str>, body: &Value) -> Resp {
        self.send(self.request(Method::PUT, path, bearer).json(body))
    }

    pub fn delete(&self, path: &str, bearer: Option<&str>) -> Resp {
        self.send(self.request(Method::DELETE, path, bearer))
    }

    /// `POST path` with a raw body and content type.
    pub fn post_raw(
        &self,
        path: &str,
        bearer: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> Resp {
        let mut rb = self
            .request(Method::POST, path, bearer)
            .body(body.to_string());
        if let Some(ct) = content_type {
            rb = rb.header("content-type", ct);
        }
        self.send(rb)
    }

    /// `GET /metrics` as text.
    pub fn metrics_text(&self) -> String {
        let resp = self.get("/metrics", None);
        resp.expect_status(200);
        resp.body
    }

    /// `GET /metrics`, parsed.
    pub fn metrics(&self) -> Vec<crate::metrics::Sample> {
        crate::metrics::parse(&self.metrics_text())
    }

    // ---- CLI ----

    /// A `grove` command against this hub's data dir and database (flags appended after `args`).
    pub fn cli_cmd<I, S>(&self, args: I) -> Cli<'_>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Cli {
            hub: self,
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            stdin: None,
            envs: Vec::new(),
            config_by_env: false,
        }
    }

    /// Runs a `grove` command against this hub's data dir and database.
    pub fn cli<I, S>(&self, args: I) -> CliOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cli_cmd(args).run()
    }

    /// Runs a `grove` command with `stdin` as its input.
    pub fn cli_stdin<I, S>(&self, args: I, stdin: &str) -> CliOutput
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cli_cmd(args).stdin(stdin).run()
    }

    // ---- one-liners ----

    /// The password `user` gives every user it creates (distinct per user, so leaks are
    /// attributable).
    pub fn password_for(name: &str) -> String {
        format!("pw-{name}-Correct-Horse-7")
    }

    /// Creates a user with `grove user create NAME --password-stdin`.
    pub fn user(&self, name: &str) -> TestUser {
        self.user_with(name, &[])
    }

    /// Creates a user with extra `grove user create` arguments (`--admin`, `--email E`, ...).
    pub fn user_with(&self, name: &str, extra: &[&str]) -> TestUser {
        let password = Self::password_for(name);
        let mut args = vec!["user", "create", name, "--password-stdin"];
        args.extend_from_slice(extra);
        let out = self.cli_stdin(&args, &password);
        out.success();
        TestUser {
            name: name.to_string(),
            password,
            account: out.json(),
        }
    }

    /// Creates an API token for `user` with `grove token create USER --scope SCOPE`.
    pub fn token(&self, user: &str, scope: &str) -> String {
        let out = self.cli(["token", "create", user, "--scope", scope]);
        out.success().trim().to_string()
    }

    /// Commits `files` (path, bytes) to model `repo` on `main` through the commit endpoint;
    /// returns the commit id.
    pub fn commit_files(&self, token: &str, repo: &str, files: &[(&str, Vec<u8>)]) -> String {
        use base64::Engine;
        let mut body = json!({"key": "header", "value": {"summary": "add files"}}).to_string();
        body.push('\n');
        for (path, bytes) in files {
            let line = json!({"key": "file", "value": {
                "content": base64::engine::general_purpose::STANDARD.encode(bytes),
                "path": path, "encoding": "base64"}});
            body.push_str(&line.to_string());
            body.push('\n');
        }
        let resp = self.post_raw(
            &format!("/api/models/{repo}/commit/main"),
            Some(token),
            Some("application/x-ndjson"),
            &body,
        );
        resp.expect(200)["commitOid"].as_str().unwrap().to_string()
    }

    /// Creates an organisation owned by `owner` with `grove org create NAME --owner OWNER`.
    pub fn org(&self, name: &str, owner: &str) -> Value {
        let out = self.cli(["org", "create", name, "--owner", owner]);
        out.success();
        out.json()
    }

    /// `POST /api/signup`.
    pub fn signup(&self, name: &str, password: &str) -> Resp {
        self.post(
            "/api/signup",
            None,
            &json!({"username": name, "password": password}),
        )
    }

    /// `POST /api/login`; panics unless it succeeds; returns the session JWT.
    pub fn login(&self, name: &str, password: &str) -> String {
        let resp = self.post(
            "/api/login",
            None,
            &json!({"username": name, "password": password}),
        );
        let body = resp.expect(200);
        body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login response has no token: {body}"))
            .to_string()
    }

    /// Creates a user and logs in; returns the user and a session JWT.
    pub fn user_session(&self, name: &str) -> (TestUser, String) {
        let user = self.user(name);
        let jwt = self.login(&user.name, &user.password);
        (user, jwt)
    }

    /// `PUT /api/organizations/{org}/members/{user}` with `{"role": role}`.
    pub fn set_member(&self, bearer: &str, org: &str, user: &str, role: &str) -> Resp {
        self.put(
            &format!("/api/organizations/{org}/members/{user}"),
            Some(bearer),
            &json!({"role": role}),
        )
    }

    /// `GET /api/whoami-v2`; panics unless 200.
    pub fn whoami(&self, bearer: &str) -> Value {
        self.get("/api/whoami-v2", Some(bearer)).expect(200)
    }
}

/// Starts `grove serve` on a free port over `data_dir` (and the given database and storage) and
/// waits until it prints its address: (process, address, stdout lines so far).
fn spawn_serve(
    bin: &Path,
    data_dir: &Path,
    db_url: Option<&str>,
    storage_url: Option<&str>,
    args: &[OsString],
    envs: &[(OsString, OsString)],
) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let log_path = data_dir.join("hub.log");
    let log = File::create(&log_path).expect("cannot create hub.log");
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(data_dir);
    if let Some(url) = db_url {
        cmd.arg("--database-url").arg(url);
    }
    if let Some(url) = storage_url {
        cmd.arg("--storage-url").arg(url);
    }
    cmd.args(args);
    for key in GROVE_ENV {
        cmd.env_remove(key);
    }
    cmd.envs(envs.iter().map(|(k, v)| (k, v)));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} serve: {e}", bin.display()));

    let stdout_lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel::<String>();
    {
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::clone(&stdout_lines);
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line.clone());
                // The receiver is gone once the hub listens; keep collecting anyway.
                let _ = tx.send(line);
            }
        });
    }

    let deadline = Instant::now() + START_TIMEOUT;
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(addr) = line.trim().strip_prefix(LISTENING) {
                    break addr.trim().trim_end_matches('/').to_string();
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                panic!(
                    "grove serve exited ({status}) before printing `{LISTENING}…`; \
                         stdout: {:?}\nstderr:\n{}",
                    stdout_lines.lock().unwrap(),
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "grove serve did not print `{LISTENING}…` within {START_TIMEOUT:?}; \
                         stdout: {:?}\nstderr:\n{}",
                    stdout_lines.lock().unwrap(),
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        }
    };

    (child, addr, stdout_lines)
}

/// A second server of a [`TestHub`].
#[derive(Debug)]
pub struct Sibling {
    child: Child,
    pub base: String,
}

impl Drop for Sibling {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            let logs = std::fs::read_to_string(self.data_dir().join("hub.log")).unwrap_or_default();
            let lines: Vec<&str> = logs.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            eprintln!("---- grove serve stderr (last {} lines) ----", tail.len());
            for line in tail {
                eprintln!("{line}");
            }
            eprintln!("---- end of grove serve stderr ----");
        }
    }
}
