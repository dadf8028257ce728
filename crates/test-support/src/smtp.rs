//! A real SMTP server for tests: aiosmtpd, the server Debian packages as python3-aiosmtpd, run by
//! `smtp/server.py` in the mode a test asks for, keeping what it receives in a folder of its own.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Debian's Python, the one that sees Debian's aiosmtpd.
const PYTHON: &str = "/usr/bin/python3";

/// How the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    Plain,
    /// Offers STARTTLS; a client may go on without it.
    StartTls,
    /// Refuses mail until the client has said STARTTLS.
    StartTlsRequired,
    /// TLS from the first byte.
    Smtps,
}

/// One message the server accepted.
#[derive(Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// Whether the connection it came over was encrypted.
    pub tls: bool,
    /// Who authenticated, if anyone.
    pub user: Option<String>,
    pub message: String,
}

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    inbox: TempDir,
    /// The PEM certificate it presents (for `localhost` and 127.0.0.1), to trust in a test.
    pub certificate: Vec<u8>,
}

impl SmtpServer {
    /// Starts a server on a free port; with `auth` it wants that user and password. `None` when
    /// aiosmtpd is not installed, saying so, except under CI (`CI` set), where that is a failure.
    pub fn start(mode: SmtpMode, auth: Option<(&str, &str)>) -> Option<Self> {
        Self::launch(mode, auth, None)
    }

    /// A plain server on `port`: a mail server that was down coming up.
    pub fn start_on(port: u16) -> Option<Self> {
        Self::launch(SmtpMode::Plain, None, Some(port))
    }

    fn launch(mode: SmtpMode, auth: Option<(&str, &str)>, port: Option<u16>) -> Option<Self> {
        let installed = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !installed {
            assert!(
                std::env::var_os("CI").is_none(),
                "aiosmtpd is missing: apt-get install python3-aiosmtpd"
            );
            eprintln!("skipped: no SMTP server to test against (apt-get install python3-aiosmtpd)");
            return None;
        }
        let inbox = tempfile::tempdir().expect("a folder for the inbox");
        let (certificate, key) = (inbox.path().join("cert.pem"), inbox.path().join("key.pem"));
        make_certificate(&certificate, &key);
        let mode_name = match mode {
            SmtpMode::Plain => "plain",
            SmtpMode::StartTls => "starttls",
            SmtpMode::StartTlsRequired => "starttls-required",
            SmtpMode::Smtps => "smtps",
        };
        let mut command = Command::new(PYTHON);
        command
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/smtp/server.py"))
            .arg(mode_name)
            .arg(inbox.path().join("messages"))
            .arg("--cert")
            .arg(&certificate)
            .arg("--key")
            .arg(&key)
            .stdout(Stdio::piped());
        if let Some((user, password)) = auth {
            command.arg("--auth").arg(format!("{user}:{password}"));
        }
        if let Some(port) = port {
            command.arg("--port").arg(port.to_string());
        }
        let mut child = command.spawn().expect("start the SMTP server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its output"))
            .read_line(&mut line)
            .expect("the SMTP server's port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        Some(Self {
            child,
            port,
            certificate: std::fs::read(&certificate).expect("the certificate"),
            inbox,
        })
    }

    /// Stops the server, as a mail server that is down; [`SmtpServer::port`] stays closed.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What it has accepted so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let folder = self.inbox.path().join("messages");
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return Vec::new();
        };
        let mut messages: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "eml"))
            .map(|path| {
                let modified = path.metadata().and_then(|m| m.modified()).ok();
                let facts: Value = serde_json::from_slice(
                    &std::fs::read(path.with_extension("json")).expect("the envelope"),
                )
                .expect("JSON");
                let received = Received {
                    mail_from: facts["mail_from"].as_str().unwrap_or_default().to_owned(),
                    rcpt_tos: facts["rcpt_tos"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    tls: facts["tls"].as_bool().unwrap_or_default(),
                    user: facts["user"].as_str().map(str::to_owned),
                    message: std::fs::read_to_string(&path).expect("the message"),
                };
                (modified, received)
            })
            .collect();
        messages.sort_by_key(|(modified, _)| *modified);
        messages.into_iter().map(|(_, received)| received).collect()
    }

    /// Waits until it has accepted `count` messages (at most `within`), and returns them all.
    /// It waits asynchronously: what is to deliver them may run on the same thread.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1 that is not a CA's (rustls refuses a
/// CA's certificate presented by a server).
fn make_certificate(certificate: &Path, key: &Path) {
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(certificate)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl could not make a certificate");
}
