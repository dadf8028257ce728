//! Service binaries as child processes, their command line included.

/// The port a "listening on" log line names (`… listening on port 8001`, `… listening on
/// http://127.0.0.1:8000`), in either log format: the last number before the line, or its JSON
/// string, ends.
fn listening_port(line: &str) -> Option<u16> {
    let (_, after) = line.split_once("listening on")?;
    let message = after.split('"').next()?;
    message
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|digits| !digits.is_empty())?
        .parse()
        .ok()
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
            if let Some(port) = listening_port(&line) {
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

/// Runs `binary argument` as an argument that must not start a server: in an empty directory,
/// with its port taken, it must exit within seconds and leave the directory empty (no `data/`).
fn run_without_serving(binary: &str, argument: &str) -> std::process::Output {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = taken.local_addr().expect("its address").port().to_string();
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
}

/// Checks a service binary's command line: `--help` and `--version` answer and exit 0, the one
/// naming each of `subcommands`, the other `version`; an unknown argument is refused with a
/// non-zero exit. None of them starts a server ([`run_without_serving`]).
pub fn assert_command_line(binary: &str, version: &str, subcommands: &[&str]) {
    let run = |argument| run_without_serving(binary, argument);
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

/// Checks a service binary's `--env-vars`: it exits 0 without starting anything
/// ([`run_without_serving`]), and lists, one a line and sorted, the variable names it reads:
/// every one of `read`, none of `not_read`.
pub fn assert_env_vars(binary: &str, read: &[&str], not_read: &[&str]) {
    let output = run_without_serving(binary, "--env-vars");
    assert!(output.status.success(), "--env-vars: {output:?}");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let names: Vec<&str> = text.lines().collect();
    assert!(names.is_sorted(), "{names:?}");
    for name in &names {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "not a variable name: {name:?}"
        );
    }
    for name in read {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    for name in not_read {
        assert!(!names.contains(name), "{name} listed: {names:?}");
    }
}
