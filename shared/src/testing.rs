//! Test support for both services (feature `testing`): a fresh database per test, SQLite by
//! default or PostgreSQL when `TEST_DATABASE_URL` names a server, a TCP relay that can cut the
//! line to a database and restore it, to test what a service does when its database is lost, and
//! a raw HTTP/1.1 sender for requests no well-behaved client library would send.

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
