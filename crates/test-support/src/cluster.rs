//! A private PostgreSQL cluster, to stop and start.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

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
