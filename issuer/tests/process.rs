//! Tests of the issuer as a process: how it refuses to start, and what its logs never contain.

use std::process::Command;
use std::time::{Duration, Instant};
use test_support::Process;

const SECRET: &str = "process-test-secret-of-at-least-32-bytes!";

fn issuer() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_issuer"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn a_missing_secret_stops_the_start_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = issuer().current_dir(dir.path()).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("BETTER_AUTH_SECRET is required"));
}

#[test]
fn a_placeholder_secret_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = issuer()
        .current_dir(dir.path())
        .env("BETTER_AUTH_SECRET", "your-secret-key-here")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BETTER_AUTH_SECRET is invalid"), "{stderr}");
    assert!(
        !stderr.contains("your-secret-key-here"),
        "the refused secret must not be echoed: {stderr}"
    );
}

#[test]
fn rs256_signing_stops_the_start_naming_the_advisory_and_what_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let output = issuer()
        .current_dir(dir.path())
        .env("JWT_ALGORITHM", "RS256")
        .env("PORT", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for named in ["JWT_ALGORITHM", "RUSTSEC-2023-0071", "EdDSA or ES256"] {
        assert!(stderr.contains(named), "{named}: {stderr}");
    }
    assert!(!dir.path().join("data").exists(), "refused before any file");
}

#[test]
fn under_a_permissive_umask_its_data_is_private_and_exposed_secrets_stop_the_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    // `umask 000` would let everyone read what the process creates, were it left to the umask.
    let mut command = Command::new("sh");
    command
        .args([
            "-c",
            &format!("umask 000 && exec {}", env!("CARGO_BIN_EXE_issuer")),
        ])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("PORT", "0");
    let process = Process::start(command);
    drop(process);
    let data = dir.path().join("data");
    assert_eq!(mode(&data), 0o700);
    for file in ["issuer.db", "issuer.db-wal", "issuer.db-shm"] {
        let path = data.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
    assert_eq!(mode(&data.join("issuer.db")), 0o600);

    // A database others may read is refused, named, and left as it was.
    let database = data.join("issuer.db");
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = issuer()
        .current_dir(dir.path())
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("PORT", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("data/issuer.db") && stderr.contains("chmod 600"),
        "{stderr}"
    );

    // So is a private key file others may read, before a byte of it is read.
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "not a key").unwrap();
    let start_with_key = |key_mode| {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(key_mode)).unwrap();
        let output = issuer()
            .current_dir(dir.path())
            .env("JWT_ALGORITHM", "EdDSA")
            .env("JWT_PRIVATE_KEY_FILE", &key)
            .env("DATABASE_URL", "sqlite://keyed/issuer.db")
            .env("PORT", "0")
            .output()
            .unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let exposed = start_with_key(0o644);
    assert!(
        exposed.contains("key.pem") && exposed.contains("chmod 600"),
        "{exposed}"
    );
    let private = start_with_key(0o600);
    assert!(
        !private.contains("chmod"),
        "a private key file passes the check: {private}"
    );
}

#[test]
fn an_unreachable_database_is_retried_then_named_with_its_password_masked() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = issuer()
        .current_dir(dir.path())
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("DATABASE_URL", "postgres://app:hunter2@127.0.0.1:1/issuer")
        .env("DATABASE_STARTUP_TIMEOUT_SECONDS", "2")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(started.elapsed() < Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("retrying"), "it retries first: {stderr}");
    assert!(
        stderr.contains("postgres://app:***@127.0.0.1:1/issuer"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn logs_never_show_a_password_a_token_a_hash_or_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = issuer();
    command
        .current_dir(dir.path())
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("PORT", "0")
        .env("ARGON2_MEMORY_KIB", "1024")
        .env("RUST_LOG", "trace");
    let process = Process::start(command);
    let password = "a-very-distinctive-password";
    let body = serde_json::json!({"email": "ada@example.com", "password": password, "name": "Ada"});
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime.block_on(async {
        let client = reqwest::Client::new();
        let created: serde_json::Value = client
            .post(process.url("/signup"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        client
            .post(process.url("/signin"))
            .json(&serde_json::json!({"email": "ada@example.com", "password": password}))
            .send()
            .await
            .unwrap();
        client
            .post(process.url("/signin"))
            .json(&serde_json::json!({"email": "ada@example.com", "password": "wrong-password!"}))
            .send()
            .await
            .unwrap();
        client
            .get(process.url("/nowhere?token=abc"))
            .bearer_auth(created["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        // The links: mailed to data/mail (the default MAIL_DIR), then used.
        client
            .post(process.url("/password/forgot"))
            .json(&serde_json::json!({"email": "ada@example.com"}))
            .send()
            .await
            .unwrap();
        let secrets = mailed_secrets(&dir.path().join("data/mail"), 2).await;
        for secret in &secrets {
            let body =
                serde_json::json!({"token": secret, "new_password": "another-long-password"});
            for path in ["/password/reset", "/email/verify"] {
                client
                    .post(process.url(path))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
            }
        }
        (created, secrets)
    });
    let (response, secrets) = response;
    std::thread::sleep(Duration::from_millis(300));
    let logs = process.logs();
    let token = response["token"].as_str().unwrap();
    assert!(
        logs.contains("POST /signup 201"),
        "requests are logged: {logs}"
    );
    for (what, needle) in [
        ("password", password),
        ("token", token),
        ("secret", SECRET),
        ("hash", "$argon2id$"),
        ("query", "token=abc"),
    ] {
        assert!(!logs.contains(needle), "the {what} appears in the logs");
    }
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !logs.contains(signature),
        "part of the token appears in the logs"
    );
    assert!(logs.contains("POST /password/reset 204"), "{logs}");
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a link's secret appears in the logs"
        );
    }
}

/// The secrets of the links in the `.eml` files in `folder`, waiting for `count` of them.
async fn mailed_secrets(folder: &std::path::Path, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let secrets: Vec<String> = std::fs::read_dir(folder)
            .into_iter()
            .flatten()
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .filter_map(|message| {
                let unfolded = message.replace("=\r\n", "").replace("=3D", "=");
                let start = unfolded.find("/#")? + 2;
                let link = &unfolded[start..];
                let secret = &link[link.find('=')? + 1..];
                Some(
                    secret
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect(),
                )
            })
            .collect();
        if secrets.len() >= count || Instant::now() > deadline {
            assert_eq!(secrets.len(), count, "the verification and reset links");
            return secrets;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn the_command_line_answers_help_and_version_and_refuses_what_it_does_not_know() {
    test_support::assert_command_line(
        env!("CARGO_BIN_EXE_issuer"),
        env!("CARGO_PKG_VERSION"),
        &["rotate-key"],
    );
}

#[test]
fn env_vars_lists_the_variables_the_issuer_reads() {
    test_support::assert_env_vars(
        env!("CARGO_BIN_EXE_issuer"),
        &[
            "DATABASE_URL",
            "BETTER_AUTH_SECRET",
            "JWT_PRIVATE_KEY_FILE",
            "SESSION_FEED_SECRET",
            "ARGON2_MEMORY_KIB",
            "RUST_LOG",
        ],
        &["SESSION_FEED_URL", "JWKS_URL", "LIST_CACHE_BYTES"],
    );
}

/// A request that fails with a 500 (its table renamed away under the running process) answers
/// with its id, and the log's lines about it (the cause and the request) carry the same id, in
/// the JSON format.
#[test]
fn a_500_is_logged_with_the_request_id_it_answered_with() {
    use diesel::{Connection, RunQueryDsl};
    let dir = tempfile::tempdir().unwrap();
    let mut command = issuer();
    command
        .current_dir(dir.path())
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("PORT", "0")
        .env("LOG_FORMAT", "json");
    let process = Process::start(command);
    let database = dir.path().join("data/issuer.db");
    let mut conn = diesel::SqliteConnection::establish(database.to_str().unwrap()).unwrap();
    diesel::sql_query("ALTER TABLE users RENAME TO users_gone")
        .execute(&mut conn)
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, id, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(process.url("/signin"))
            .json(&serde_json::json!({"email": "ada@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let status = response.status().as_u16();
        (status, id, response.json::<serde_json::Value>().await.unwrap())
    });
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["request_id"], id.as_str());
    std::thread::sleep(Duration::from_millis(300));
    let lines: Vec<serde_json::Value> = process
        .logs()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();
    let about = |level: &str, text: &str| {
        lines.iter().any(|line| {
            line["request_id"] == id.as_str()
                && line["level"] == level
                && line["message"].as_str().unwrap().contains(text)
        })
    };
    assert!(about("ERROR", "database error"), "the cause: {lines:?}");
    assert!(about("INFO", "POST /signin 500"), "the request: {lines:?}");
}
