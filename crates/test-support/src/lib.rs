//! Test support for both services, named only in `[dev-dependencies]`: a fresh database per
//! test, SQLite by default or PostgreSQL when `TEST_DATABASE_URL` names a server; a TCP relay
//! that can cut the line to a database and restore it, to test what a service does when its
//! database is lost; a private PostgreSQL cluster to stop and start; service binaries as child
//! processes, their command line included; and a raw HTTP/1.1 sender for requests no
//! well-behaved client library would send.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL server")
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("TEST_DATABASE_URL's role must be allowed to create databases");
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("TEST_DATABASE_URL needs a database name");
                Self {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}/test.db", dir.path().display());
                Self {
                    url,
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Forwards TCP connections to `target` while it is up; `cut` drops every open connection and
/// refuses new ones, `restore` lets them through again.
pub struct Relay {
    pub address: SocketAddr,
    up: Arc<AtomicBool>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Relay {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a relay port");
        let address = listener.local_addr().expect("relay address");
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(tokio::sync::watch::channel(0u64).0);
        let (up_, generation_) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up_.load(Ordering::SeqCst) {
                    continue;
                }
                let mut cut = generation_.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            address,
            up,
            generation,
        }
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Sends `request` as raw bytes to `address` and returns the status of the answer, or `None`
/// when the server closed the connection without one (as it may for a request head it refuses
/// to read to the end). Gives up after five seconds, so that a hang fails the test.
pub async fn send_raw(address: SocketAddr, request: &[u8]) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = TcpStream::connect(address).await.ok()?;
        // A refused head may be cut off mid-write; the answer is what counts.
        let _ = stream.write_all(request).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let status_line = answer.split(|b| *b == b'\n').next()?;
        std::str::from_utf8(status_line)
            .ok()?
            .split(' ')
            .nth(1)?
            .parse()
            .ok()
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), exchange)
        .await
        .expect("the server answers or closes within 5 s")
}

/// A service binary started for a test, with its standard error collected. It is killed when
/// dropped.
pub struct Process {
    child: std::process::Child,
    pub port: u16,
    logs: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Process {
    /// Starts `command` (which should bind port 0) and waits for its "listening on … port"
    /// line. Panics with the logs so far if it exits first.
    pub fn start(mut command: std::process::Command) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut stderr = std::io::BufReader::new(child.stderr.take().expect("piped stderr"));
        let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let port = loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap_or(0) == 0 {
                panic!(
                    "the process exited before listening:\n{}",
                    logs.lock().unwrap()
                );
            }
            logs.lock().unwrap().push_str(&line);
            if line.contains("listening on")
                && let Some(port) = line
                    .trim()
                    .rsplit([':', ' '])
                    .next()
                    .and_then(|p| p.parse().ok())
            {
                break port;
            }
        };
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let mut logs = sink.lock().unwrap();
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        Self { child, port, logs }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything the process has written to standard error so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks a service binary's command line: `--help` and `--version` answer and exit 0, the one
/// naming each of `subcommands`, the other `version`; an unknown argument is refused with a
/// non-zero exit. None of them starts a server: each is run in an empty directory with a port
/// taken, and must leave the directory empty (no `data/`) and exit within seconds.
pub fn assert_command_line(binary: &str, version: &str, subcommands: &[&str]) {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = taken.local_addr().expect("its address").port().to_string();
    let run = |argument: &str| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let started = std::time::Instant::now();
        let output = std::process::Command::new(binary)
            .arg(argument)
            .current_dir(dir.path())
            .env("PORT", &port)
            .output()
            .expect("the binary runs");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{argument}: took {:?}",
            started.elapsed()
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{argument} left files behind: {left:?}");
        output
    };
    let help = run("--help");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "--help: {help:?}");
    assert!(text.contains("Usage:"), "--help: {text}");
    for subcommand in subcommands {
        assert!(
            text.contains(subcommand),
            "--help names {subcommand}: {text}"
        );
    }
    let shown = run("--version");
    assert!(shown.status.success(), "--version: {shown:?}");
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains(version),
        "--version: {shown:?}"
    );
    let unknown = run("--no-such-option");
    assert!(!unknown.status.success(), "an unknown argument must fail");
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("--no-such-option"),
        "the error names the argument: {unknown:?}"
    );
}

/// A PostgreSQL server of the test's own, in a temporary directory on a free port, that the test
/// may stop and start at will (the machine's shared server must never be stopped).
pub struct PrivateCluster {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivateCluster {
    /// Creates and starts the cluster; `None`, saying why, where PostgreSQL's server programs
    /// are not installed.
    pub fn start() -> Option<Self> {
        let Some(bin) = postgres_bin() else {
            eprintln!(
                "skipped: needs PostgreSQL's initdb and pg_ctl (on PATH or /usr/lib/postgresql/*/bin)"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self { bin, dir, port };
        if running_as_root() {
            // initdb refuses root: the cluster belongs to the postgres user.
            cluster.run("chown", &["-R", "postgres", &cluster.path()]);
        }
        let data = cluster.data();
        cluster.run_pg(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        cluster.resume();
        Some(cluster)
    }

    /// A URL for `database`, created on first use.
    pub fn url(&self, database: &str) -> String {
        let url = format!("postgres://postgres@127.0.0.1:{}/", self.port);
        PgConnection::establish(&format!("{url}postgres"))
            .expect("the private cluster answers")
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .expect("create a database");
        format!("{url}{database}")
    }

    /// Stops the server at once, as a crash or a lost host would: clients are cut off.
    pub fn halt(&self) {
        self.run_pg(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    /// Starts the server again on the same port and data.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.path()
        );
        let log = format!("{}/server.log", self.path());
        self.run_pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn path(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn data(&self) -> String {
        format!("{}/data", self.path())
    }

    fn run_pg(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program).display().to_string();
        if running_as_root() {
            let mut all = vec!["-u", "postgres", "--", program.as_str()];
            all.extend_from_slice(args);
            self.run("runuser", &all);
        } else {
            self.run(&program, args);
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = std::process::Command::new(program)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{program} runs: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let pid_file = self.dir.path().join("data/postmaster.pid");
        if pid_file.exists() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.halt()));
        }
    }
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// The directory of `initdb` and `pg_ctl`: on PATH, or Debian's versioned directory.
fn postgres_bin() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(debian)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        // A link on PATH (/usr/local/bin/initdb) leads to the directory with the server itself.
        .and_then(|dir| std::fs::canonicalize(dir.join("initdb")).ok())
        .and_then(|initdb| initdb.parent().map(std::path::Path::to_path_buf))
}

/// Runs `workers` client loops made by `client` on a thread of their own, with its own runtime,
/// so that the test's thread stays free to halt a database or kill a process meanwhile.
fn clients<F, Fut>(workers: usize, client: F) -> std::thread::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the clients");
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            let loops: Vec<_> = (0..workers)
                .map(|_| tokio::task::spawn_local(client()))
                .collect();
            for each in loops {
                let _ = each.await;
            }
        });
    })
}

/// What clients saw while a cluster was halted and after it came back.
#[derive(Debug)]
pub struct Outage {
    /// The status of every request that started and ended while the database was down (0: the
    /// connection to the service failed).
    pub statuses_while_down: Vec<u16>,
    pub slowest_while_down: std::time::Duration,
    /// From the restart of the database to the first success, if one came.
    pub recovered_after: Option<std::time::Duration>,
}

impl Outage {
    /// The contract for a lost database: requests flowed while it was down, every one got 503
    /// within 5 s (no hang, no 500, no dead process), and service resumed by itself within 15 s
    /// of its return. `logs` (the service's) are shown when it does not hold.
    pub fn assert_contract_held(&self, logs: &str) {
        use std::time::Duration;
        assert!(
            self.statuses_while_down.len() >= 4,
            "requests flowed while the database was down: {self:?}"
        );
        assert!(
            self.statuses_while_down.iter().all(|s| *s == 503),
            "every request got 503 while the database was down: {self:?}\n{logs}"
        );
        assert!(
            self.slowest_while_down < Duration::from_secs(5),
            "no request hung: {self:?}"
        );
        assert!(
            self.recovered_after
                .is_some_and(|t| t < Duration::from_secs(15)),
            "the service resumed by itself: {self:?}\n{logs}"
        );
    }
}

/// Halts `cluster` while `workers` clients keep sending `request` (which answers the status it
/// got, 0 for no answer), keeps it down for `down_for`, resumes it, and waits at most 30 s for a
/// request to succeed again.
pub fn outage<F, Fut>(
    cluster: &PrivateCluster,
    workers: usize,
    down_for: std::time::Duration,
    request: F,
) -> Outage
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = u16>,
{
    use std::sync::Mutex;
    use std::sync::atomic::AtomicU8;
    use std::time::{Duration, Instant};
    const UP: u8 = 0;
    const DOWN: u8 = 1;
    const BACK: u8 = 2;
    let phase = Arc::new(AtomicU8::new(UP));
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<(u8, u8, u16, Duration, Instant)>::new()));
    let flow = {
        let (phase, stop, seen, request) =
            (phase.clone(), stop.clone(), seen.clone(), Arc::new(request));
        clients(workers, move || {
            let (phase, stop, seen, request) =
                (phase.clone(), stop.clone(), seen.clone(), request.clone());
            async move {
                while !stop.load(Ordering::SeqCst) {
                    let before = phase.load(Ordering::SeqCst);
                    let started = Instant::now();
                    let status = request().await;
                    let after = phase.load(Ordering::SeqCst);
                    let record = (before, after, status, started.elapsed(), Instant::now());
                    seen.lock().unwrap().push(record);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    cluster.halt();
    phase.store(DOWN, Ordering::SeqCst);
    std::thread::sleep(down_for);
    phase.store(BACK, Ordering::SeqCst);
    cluster.resume();
    let resumed = Instant::now();
    let success = |status: u16| (200..300).contains(&status);
    while resumed.elapsed() < Duration::from_secs(30)
        && !seen
            .lock()
            .unwrap()
            .iter()
            .any(|(before, _, status, _, _)| *before == BACK && success(*status))
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    flow.join().expect("the clients ran");
    let seen = seen.lock().unwrap();
    let while_down: Vec<_> = seen
        .iter()
        .filter(|(before, after, ..)| *before == DOWN && *after == DOWN)
        .collect();
    Outage {
        statuses_while_down: while_down
            .iter()
            .map(|(_, _, status, ..)| *status)
            .collect(),
        slowest_while_down: while_down
            .iter()
            .map(|(_, _, _, took, _)| *took)
            .max()
            .unwrap_or_default(),
        recovered_after: seen
            .iter()
            .filter(|(before, _, status, ..)| *before == BACK && success(*status))
            .map(|(.., done)| done.saturating_duration_since(resumed))
            .min(),
    }
}

/// Sends `request(n)` from `workers` clients at once (n counts up across them) and SIGKILLs
/// `process` once `kill_after` requests were acknowledged; returns everything acknowledged
/// (`Some`) before the kill took effect.
pub fn kill_during_burst<F, Fut, T>(
    process: Process,
    workers: usize,
    kill_after: usize,
    request: F,
) -> Vec<T>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<T>>,
    T: Send + 'static,
{
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicUsize::new(0));
    let burst = {
        let (acknowledged, stop, request) = (acknowledged.clone(), stop.clone(), Arc::new(request));
        clients(workers, move || {
            let (acknowledged, stop, counter, request) = (
                acknowledged.clone(),
                stop.clone(),
                counter.clone(),
                request.clone(),
            );
            async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    if let Some(item) = request(n).await {
                        acknowledged.lock().unwrap().push(item);
                    }
                }
            }
        })
    };
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < kill_after
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Dropping the process SIGKILLs it: no shutdown hook, no flush, as in a crash.
    drop(process);
    stop.store(true, Ordering::SeqCst);
    burst.join().expect("the clients ran");
    std::mem::take(&mut *acknowledged.lock().unwrap())
}

/// Asserts that `response` is an RFC 9457 problem with `status`, as both services answer every
/// error, and that a 422 names the fields at fault; returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: serde_json::Value = response.json().await.expect("a JSON problem body");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], "about:blank");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    if status == 422 {
        assert!(!fields(&body).is_empty(), "a 422 names the field: {body}");
    }
    body
}

/// The field names listed in a 422 body.
pub fn fields(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}
