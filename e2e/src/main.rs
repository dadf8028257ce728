//! The end-to-end suite: one program that drives a deployed system through its reverse proxy
//! (docker compose, or the same topology as plain processes) and checks the contract's journey
//! and error rows.
//!
//! ```sh
//! e2e http://127.0.0.1:8080        # or E2E_BASE_URL=…; default http://127.0.0.1:8080
//! ```
//!
//! Prints one line per check (`ok  <what>` or `FAIL <what>: <why>`), a summary, and exits
//! non-zero when any check failed. Every run signs up fresh users, so it can run again and again
//! against the same deployment.

use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
const PASSWORD: &str = "correct horse battery staple";
/// How long to wait for the deployment to come up, and for the rate limiters of an earlier run
/// to refill. `E2E_WAIT_SECONDS` overrides it.
const DEFAULT_WAIT_SECONDS: u64 = 60;
/// How many rapid sign-ins the rate-limit check sends at most before it expects a 429.
const RATE_LIMIT_ATTEMPTS: usize = 80;

type Outcome<T = ()> = Result<T, String>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let base = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("E2E_BASE_URL").ok())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    let wait = std::env::var("E2E_WAIT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_WAIT_SECONDS);
    let client = match Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            eprintln!("cannot build an HTTP client: {}", describe(&e));
            return ExitCode::FAILURE;
        }
    };
    let api = Api {
        client,
        base: base.trim_end_matches('/').to_owned(),
        wait: Duration::from_secs(wait),
    };
    println!("e2e against {}", api.base);
    let mut report = Report::default();
    run(&api, &mut report).await;
    report.finish()
}

/// The whole journey. A check whose result later checks need stops the run when it fails.
async fn run(api: &Api, r: &mut Report) {
    if r.record(
        "the deployment answers through the proxy",
        api.wait_until_up().await,
    )
    .is_none()
    {
        return r.stop("nothing answers");
    }
    proxy(api, r).await;

    // Accounts.
    let (email_a, email_b) = (unique_email("a"), unique_email("b"));
    let Some(id_a) = r.record("sign-up of user A: 201", sign_up(api, &email_a).await) else {
        return r.stop("user A is needed");
    };
    let Some(id_b) = r.record("sign-up of user B: 201", sign_up(api, &email_b).await) else {
        return r.stop("user B is needed");
    };
    let Some(a) = r.record(
        "sign-in of user A: 200",
        sign_in(api, &email_a, &id_a).await,
    ) else {
        return r.stop("user A's token is needed");
    };
    let Some(b) = r.record(
        "sign-in of user B: 200",
        sign_in(api, &email_b, &id_b).await,
    ) else {
        return r.stop("user B's token is needed");
    };
    r.record(
        "sign-up with a registered email (other case): 409",
        duplicate_sign_up(api, &email_a).await,
    );
    r.record(
        "sign-up with a short password: 422 naming password",
        short_password(api).await,
    );
    r.record(
        "sign-in with a wrong password: 401",
        wrong_password(api, &email_a).await,
    );

    // Tokens at tasks-api.
    r.record(
        "tasks without a token: 401, WWW-Authenticate: Bearer",
        no_token(api, &a).await,
    );
    r.record(
        "tasks with a garbage token: 401, error=\"invalid_token\"",
        garbage_token(api, &a).await,
    );
    r.record(
        "a token from /signin is accepted by tasks-api: empty list",
        list_is(api, &a, "", &[]).await,
    );

    // A's tasks.
    let Some(t1) = r.record(
        "create a task: 201, Location, the task",
        create(
            api,
            &a,
            json!({"title": "Buy milk", "description": "two litres"}),
        )
        .await,
    ) else {
        return r.stop("a task is needed");
    };
    let Some(t2) = r.record(
        "create a task without description: 201, title trimmed, description null",
        create_untrimmed(api, &a).await,
    ) else {
        return r.stop("a second task is needed");
    };
    r.record(
        "list: both, oldest first, X-Total-Count: 2",
        list_is(api, &a, "", &[t1, t2]).await,
    );
    r.record("read one: 200, the task", read(api, &a, t1).await);
    r.record(
        "PUT title and description null: description cleared",
        put_clears_description(api, &a, t1).await,
    );
    r.record(
        "PUT only completed: other fields stay",
        put_completed(api, &a, t1).await,
    );
    r.record(
        "PATCH …/complete toggles completed (twice)",
        toggle_twice(api, &a, t1).await,
    );
    r.record(
        "list ?completed=true: only the completed task",
        list_is(api, &a, "?completed=true", &[t1]).await,
    );

    // Validation and other error rows.
    r.record(
        "create with an empty title: 422 naming title",
        invalid_title(api, &a, Method::POST, &a.tasks()).await,
    );
    r.record(
        "PUT with an empty title: 422 naming title",
        invalid_title(api, &a, Method::PUT, &a.task(t1)).await,
    );
    r.record("a body that is not JSON: 400", not_json(api, &a).await);
    r.record(
        "a task_id that is not a positive integer: 404",
        bad_task_ids(api, &a).await,
    );

    // Isolation: B's token on A's path, and A's task id on B's path.
    let before = read(api, &a, t1).await.ok();
    for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        r.record(
            &format!("{method} of A's task with B's token on A's path: 403"),
            foreign(api, &b, &method, &a.id, t1, 403).await,
        );
        r.record(
            &format!("{method} of A's task id on B's path: 404"),
            foreign(api, &b, &method, &b.id, t1, 404).await,
        );
    }
    r.record(
        "listing A's tasks with B's token: 403",
        expect_problem(
            api.send(Method::GET, &a.tasks(), Some(&b.token), Body::Empty)
                .await,
            403,
        ),
    );
    r.record(
        "A's task is unchanged after B's attempts",
        unchanged(api, &a, t1, before).await,
    );
    r.record("B's own list is empty", list_is(api, &b, "", &[]).await);

    // Delete.
    r.record(
        "delete: 200 {\"status\":\"deleted\",\"task_id\":N}",
        delete(api, &a, t2).await,
    );
    r.record(
        "delete again: 404",
        expect_problem(
            api.send(Method::DELETE, &a.task(t2), Some(&a.token), Body::Empty)
                .await,
            404,
        ),
    );
    r.record(
        "read a deleted task: 404",
        expect_problem(
            api.send(Method::GET, &a.task(t2), Some(&a.token), Body::Empty)
                .await,
            404,
        ),
    );
    r.record(
        "list after delete: one left",
        list_is(api, &a, "", &[t1]).await,
    );

    // Sessions at the issuer, through the proxy.
    r.record(
        "a session's list, then its sign-out: 204, its token refused by the issuer, and by tasks-api within 2 s",
        sign_out(api, &email_a, &id_a).await,
    );

    // Recovery by mail, after the sign-out: each of these spends the proxy's allowance for the
    // password routes, which the sign-out's checks of /account share.
    r.record(
        "forgot password: 202, one body for a known and an unknown address",
        forgot(api, &email_a).await,
    );
    r.record(
        "a reset or verification secret that is no link's: 400",
        unusable_links(api).await,
    );
    r.record(
        "the account's activity lists its sign-up and sign-in",
        account_activity(api, &a).await,
    );

    // The proxy's own limits; the rate limit last, as it spends this address's allowance.
    r.record("a body over 64 KiB: 413", too_large(api, &a).await);
    r.record(
        "rapid sign-ins from one address: 429 with Retry-After",
        rate_limited(api).await,
    );
}

// ---------------------------------------------------------------------------------------------
// The checks.

async fn proxy(api: &Api, r: &mut Report) {
    let reply = api
        .send(Method::GET, "/no-such-path", None, Body::Empty)
        .await;
    let Some(reply) = r.record(
        "an unknown path: 404 problem+json",
        reply.and_then(|reply| expect_problem(Ok(reply.clone()), 404).map(|_| reply)),
    ) else {
        return;
    };
    r.record(
        "security headers on the proxy's own answers",
        security_headers(&reply),
    );
    r.record(
        "the Server header names no version",
        match reply.header("server") {
            Some(server) if server.contains('/') => Err(format!("Server: {server}")),
            _ => Ok(()),
        },
    );
    r.record(
        "the feed of ended sessions is not routed: 404",
        expect_problem(
            api.send(Method::GET, "/internal/session-ends", None, Body::Empty)
                .await,
            404,
        )
        .map(|_| ()),
    );
    r.record(
        "the proxy's own answer carries its request id, in the header and the problem",
        request_id(&reply),
    );
    let proxied = api
        .send(Method::GET, "/api/e2e-probe/tasks", None, Body::Empty)
        .await;
    r.record(
        "security headers on proxied answers",
        proxied.and_then(|reply| security_headers(&reply)),
    );
    // A client's id that could forge a log line is never the request's.
    let forged = "forged id\tlevel=INFO";
    r.record(
        "a proxied answer carries its request id, never one a client forged",
        api.send_with_request_id("/api/e2e-probe/tasks", forged)
            .await
            .and_then(|reply| request_id(&reply))
            .and_then(|id| match id == forged {
                true => Err("the forged id came back".into()),
                false => Ok(()),
            }),
    );
}

/// The answer's `X-Request-Id`: there, short and plain, and its problem's `request_id` too.
fn request_id(reply: &Reply) -> Outcome<String> {
    let id = reply.header("x-request-id").ok_or("no X-Request-Id")?;
    let plain = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if id.is_empty() || id.len() > 64 || !plain {
        return Err(format!("X-Request-Id {id:?} is not short and plain"));
    }
    let problem: Value =
        serde_json::from_str(&reply.text).map_err(|e| format!("the body is not JSON: {e}"))?;
    match problem["request_id"].as_str() {
        Some(in_body) if in_body == id => Ok(id.to_owned()),
        other => Err(format!(
            "request_id {other:?} in the body, {id} in the header"
        )),
    }
}

fn security_headers(reply: &Reply) -> Outcome {
    let expected = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in expected {
        match reply.header(name) {
            Some(v) if v.eq_ignore_ascii_case(value) => {}
            other => return Err(format!("{name} is {other:?}, expected {value:?}")),
        }
    }
    Ok(())
}

async fn sign_up(api: &Api, email: &str) -> Outcome<String> {
    let reply = api
        .auth(
            "/signup",
            json!({"email": email, "password": PASSWORD, "name": "E2E User"}),
        )
        .await?;
    let body = reply.expect(201)?.json()?;
    let user = token_response(&body)?;
    ensure(user.email == email, || {
        format!("user.email is {:?}, expected {email:?}", user.email)
    })?;
    Ok(user.id)
}

async fn sign_in(api: &Api, email: &str, id: &str) -> Outcome<User> {
    let reply = api
        .auth("/signin", json!({"email": email, "password": PASSWORD}))
        .await?;
    let body = reply.expect(200)?.json()?;
    let user = token_response(&body)?;
    ensure(user.id == id, || {
        format!("user.id is {:?}, sign-up said {id:?}", user.id)
    })?;
    Ok(user)
}

/// Signs in anew, finds the new session among the account's, signs it out, and sees its token
/// refused by the issuer.
async fn sign_out(api: &Api, email: &str, id: &str) -> Outcome {
    let user = sign_in(api, email, id).await?;
    let token = Some(user.token.as_str());
    let sessions = api
        .send(Method::GET, "/account/sessions", token, Body::Empty)
        .await?
        .expect(200)?
        .json()?;
    let current = sessions
        .as_array()
        .map(|all| all.iter().filter(|s| s["current"] == true).count());
    ensure(current == Some(1), || {
        format!(
            "one current session expected: {}",
            snippet(&sessions.to_string())
        )
    })?;
    api.send(Method::POST, "/signout", token, Body::Empty)
        .await?
        .expect(204)?;
    expect_problem(
        api.send(Method::GET, "/account", token, Body::Empty).await,
        401,
    )?;
    // tasks-api learns of it from the issuer's feed: within 2 s.
    let signed_out = Instant::now();
    loop {
        let reply = api
            .send(Method::GET, &user.tasks(), token, Body::Empty)
            .await?;
        match reply.status.as_u16() {
            401 => return Ok(()),
            _ if signed_out.elapsed() > Duration::from_secs(2) => {
                return Err(format!(
                    "tasks-api still answers {} 2 s after the sign-out",
                    reply.status
                ));
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Checks the shape shared by sign-up and sign-in and returns who signed in.
fn token_response(body: &Value) -> Outcome<User> {
    let text = |v: &Value, name: &str| -> Outcome<String> {
        match v.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            other => Err(format!("{name} is {other:?}, expected a non-empty string")),
        }
    };
    ensure(body["token_type"] == "Bearer", || {
        format!("token_type is {}", body["token_type"])
    })?;
    ensure(body["expires_in"].is_u64(), || {
        format!("expires_in is {}", body["expires_in"])
    })?;
    let user = body.get("user").ok_or("no user in the body")?;
    Ok(User {
        id: text(user, "id")?,
        email: text(user, "email")?,
        token: text(body, "token")?,
    })
}

async fn duplicate_sign_up(api: &Api, email: &str) -> Outcome {
    let body = json!({"email": email.to_uppercase(), "password": PASSWORD, "name": "Twin"});
    expect_problem(api.auth("/signup", body).await, 409).map(drop)
}

async fn short_password(api: &Api) -> Outcome {
    let body = json!({"email": unique_email("short"), "password": "short", "name": "Shorty"});
    let problem = expect_problem(api.auth("/signup", body).await, 422)?;
    names_field(&problem, "password")
}

async fn wrong_password(api: &Api, email: &str) -> Outcome {
    let body = json!({"email": email, "password": "not the right password"});
    expect_problem(api.auth("/signin", body).await, 401).map(drop)
}

async fn forgot(api: &Api, email: &str) -> Outcome {
    let known = api
        .auth("/password/forgot", json!({"email": email}))
        .await?
        .expect(202)?
        .json()?;
    let unknown = api
        .auth("/password/forgot", json!({"email": unique_email("nobody")}))
        .await?
        .expect(202)?
        .json()?;
    ensure(known == unknown, || {
        format!("{known} differs from {unknown}")
    })
}

async fn unusable_links(api: &Api) -> Outcome {
    let secret = "A".repeat(43);
    let reset = json!({"token": secret, "new_password": "a brand new passphrase"});
    expect_problem(api.auth("/password/reset", reset).await, 400)?;
    expect_problem(
        api.auth("/email/verify", json!({"token": secret})).await,
        400,
    )
    .map(drop)
}

/// The activity, under /account/ (not limited by the proxy, unlike /account itself).
async fn account_activity(api: &Api, a: &User) -> Outcome {
    let token = Some(a.token.as_str());
    let activity = api
        .send(Method::GET, "/account/activity", token, Body::Empty)
        .await?
        .expect(200)?
        .json()?;
    let events: Vec<&str> = activity
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event| event["event"].as_str())
        .collect();
    ensure(
        events.contains(&"signup") && events.contains(&"signin"),
        || format!("events: {events:?}"),
    )
}

async fn no_token(api: &Api, a: &User) -> Outcome {
    let reply = api.send(Method::GET, &a.tasks(), None, Body::Empty).await?;
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_default()
        .to_owned();
    expect_problem(Ok(reply), 401)?;
    ensure(challenge.to_ascii_lowercase().starts_with("bearer"), || {
        format!("WWW-Authenticate is {challenge:?}")
    })
}

async fn garbage_token(api: &Api, a: &User) -> Outcome {
    let reply = api
        .send(Method::GET, &a.tasks(), Some("not.a.token"), Body::Empty)
        .await?;
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_default()
        .to_owned();
    expect_problem(Ok(reply), 401)?;
    ensure(
        challenge.to_ascii_lowercase().starts_with("bearer")
            && challenge.contains("error=\"invalid_token\""),
        || format!("WWW-Authenticate is {challenge:?}"),
    )
}

async fn create(api: &Api, user: &User, body: Value) -> Outcome<i64> {
    let reply = api
        .send(
            Method::POST,
            &user.tasks(),
            Some(&user.token),
            Body::Json(body.clone()),
        )
        .await?;
    let task = reply.expect(201)?.json()?;
    let id = task_id(&task)?;
    let location = reply.header("location").unwrap_or_default();
    ensure(location.ends_with(&user.task(id)), || {
        format!(
            "Location is {location:?}, expected it to end with {}",
            user.task(id)
        )
    })?;
    ensure(task["user_id"] == user.id.as_str(), || {
        format!("user_id is {}", task["user_id"])
    })?;
    ensure(task["title"] == body["title"], || {
        format!("title is {}", task["title"])
    })?;
    ensure(task["description"] == body["description"], || {
        format!("description is {}", task["description"])
    })?;
    ensure(task["completed"] == false, || {
        format!("completed is {}", task["completed"])
    })?;
    for stamp in ["created_at", "updated_at"] {
        ensure(task[stamp].is_string(), || {
            format!("{stamp} is {}", task[stamp])
        })?;
    }
    Ok(id)
}

async fn create_untrimmed(api: &Api, a: &User) -> Outcome<i64> {
    let reply = api
        .send(
            Method::POST,
            &a.tasks(),
            Some(&a.token),
            Body::Json(json!({"title": "  Walk the dog  "})),
        )
        .await?;
    let task = reply.expect(201)?.json()?;
    ensure(task["title"] == "Walk the dog", || {
        format!("title is {}", task["title"])
    })?;
    ensure(task["description"].is_null(), || {
        format!("description is {}", task["description"])
    })?;
    task_id(&task)
}

async fn list_is(api: &Api, user: &User, query: &str, ids: &[i64]) -> Outcome {
    let path = format!("{}{query}", user.tasks());
    let reply = api
        .send(Method::GET, &path, Some(&user.token), Body::Empty)
        .await?;
    let body = reply.expect(200)?.json()?;
    let listed = body
        .as_array()
        .ok_or_else(|| format!("not a JSON array: {}", snippet(&reply.text)))?
        .iter()
        .map(task_id)
        .collect::<Outcome<Vec<_>>>()?;
    ensure(listed == ids, || {
        format!("ids are {listed:?}, expected {ids:?}")
    })?;
    let total = reply.header("x-total-count").unwrap_or_default();
    ensure(total == ids.len().to_string(), || {
        format!("X-Total-Count is {total:?}, expected {}", ids.len())
    })
}

async fn read(api: &Api, a: &User, id: i64) -> Outcome<Value> {
    let reply = api
        .send(Method::GET, &a.task(id), Some(&a.token), Body::Empty)
        .await?;
    let task = reply.expect(200)?.json()?;
    ensure(task_id(&task)? == id, || format!("id is {}", task["id"]))?;
    Ok(task)
}

async fn unchanged(api: &Api, a: &User, id: i64, before: Option<Value>) -> Outcome {
    let before = before.ok_or("could not read the task before")?;
    let after = read(api, a, id).await?;
    ensure(after == before, || format!("was {before}, now {after}"))
}

async fn put(api: &Api, a: &User, id: i64, body: Value) -> Outcome<Value> {
    let reply = api
        .send(Method::PUT, &a.task(id), Some(&a.token), Body::Json(body))
        .await?;
    reply.expect(200)?.json()
}

async fn put_clears_description(api: &Api, a: &User, id: i64) -> Outcome {
    let task = put(
        api,
        a,
        id,
        json!({"title": "Buy oat milk", "description": null}),
    )
    .await?;
    ensure(task["title"] == "Buy oat milk", || {
        format!("title is {}", task["title"])
    })?;
    ensure(task["description"].is_null(), || {
        format!("description is {}", task["description"])
    })?;
    ensure(task["completed"] == false, || {
        format!("completed is {}", task["completed"])
    })?;
    let again = read(api, a, id).await?;
    ensure(again["description"].is_null(), || {
        format!("description read back is {}", again["description"])
    })
}

async fn put_completed(api: &Api, a: &User, id: i64) -> Outcome {
    let task = put(api, a, id, json!({"completed": true})).await?;
    ensure(task["completed"] == true, || {
        format!("completed is {}", task["completed"])
    })?;
    ensure(task["title"] == "Buy oat milk", || {
        format!("title is {}", task["title"])
    })?;
    ensure(task["description"].is_null(), || {
        format!("description is {}", task["description"])
    })
}

async fn toggle_twice(api: &Api, a: &User, id: i64) -> Outcome {
    let path = format!("{}/complete", a.task(id));
    for expected in [false, true] {
        let reply = api
            .send(Method::PATCH, &path, Some(&a.token), Body::Empty)
            .await?;
        let task = reply.expect(200)?.json()?;
        ensure(task["completed"] == expected, || {
            format!("completed is {}, expected {expected}", task["completed"])
        })?;
    }
    Ok(())
}

async fn invalid_title(api: &Api, a: &User, method: Method, path: &str) -> Outcome {
    let reply = api
        .send(
            method,
            path,
            Some(&a.token),
            Body::Json(json!({"title": ""})),
        )
        .await;
    names_field(&expect_problem(reply, 422)?, "title")
}

async fn not_json(api: &Api, a: &User) -> Outcome {
    let body = Body::Raw("application/json", "{\"title\": ".to_owned());
    let reply = api
        .send(Method::POST, &a.tasks(), Some(&a.token), body)
        .await;
    expect_problem(reply, 400).map(drop)
}

async fn bad_task_ids(api: &Api, a: &User) -> Outcome {
    for bad in ["abc", "0", "-1", "1.5"] {
        let path = format!("{}/{bad}", a.tasks());
        let reply = api
            .send(Method::GET, &path, Some(&a.token), Body::Empty)
            .await;
        expect_problem(reply, 404).map_err(|why| format!("task_id {bad:?}: {why}"))?;
    }
    Ok(())
}

/// `who` tries `method` on task `id` under `owner`'s path.
async fn foreign(
    api: &Api,
    who: &User,
    method: &Method,
    owner: &str,
    id: i64,
    status: u16,
) -> Outcome {
    let task = format!("/api/{owner}/tasks/{id}");
    let (path, body) = match *method {
        Method::PUT => (task, Body::Json(json!({"title": "taken over"}))),
        Method::PATCH => (format!("{task}/complete"), Body::Empty),
        _ => (task, Body::Empty),
    };
    let reply = api
        .send(method.clone(), &path, Some(&who.token), body)
        .await;
    expect_problem(reply, status).map(drop)
}

async fn delete(api: &Api, a: &User, id: i64) -> Outcome {
    let reply = api
        .send(Method::DELETE, &a.task(id), Some(&a.token), Body::Empty)
        .await?;
    let body = reply.expect(200)?.json()?;
    let expected = json!({"status": "deleted", "task_id": id});
    ensure(body == expected, || {
        format!("body is {body}, expected {expected}")
    })
}

async fn too_large(api: &Api, a: &User) -> Outcome {
    let body = json!({"title": "x".repeat(70 * 1024)}).to_string();
    let reply = api
        .send(
            Method::POST,
            &a.tasks(),
            Some(&a.token),
            Body::Raw("application/json", body),
        )
        .await;
    expect_problem(reply, 413).map(drop)
}

async fn rate_limited(api: &Api) -> Outcome {
    let body = json!({"email": unique_email("flood"), "password": PASSWORD});
    let mut seen = Vec::new();
    for attempt in 1..=RATE_LIMIT_ATTEMPTS {
        let reply = api
            .send(Method::POST, "/signin", None, Body::Json(body.clone()))
            .await?;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = reply.header("retry-after").map(str::to_owned);
            expect_problem(Ok(reply), 429)?;
            return match retry_after {
                Some(seconds) if seconds.trim().parse::<u64>().is_ok() => {
                    println!("     (429 after {attempt} attempts, Retry-After: {seconds})");
                    Ok(())
                }
                other => Err(format!("Retry-After is {other:?}, expected seconds")),
            };
        }
        seen.push(reply.status.as_u16());
    }
    seen.dedup();
    Err(format!(
        "no 429 in {RATE_LIMIT_ATTEMPTS} attempts (statuses seen: {seen:?})"
    ))
}

// ---------------------------------------------------------------------------------------------
// Plumbing.

/// A signed-in user.
struct User {
    id: String,
    email: String,
    token: String,
}

impl User {
    fn tasks(&self) -> String {
        format!("/api/{}/tasks", self.id)
    }

    fn task(&self, id: i64) -> String {
        format!("/api/{}/tasks/{id}", self.id)
    }
}

enum Body {
    Empty,
    Json(Value),
    Raw(&'static str, String),
}

/// One HTTP answer, read in full.
#[derive(Clone)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn expect(&self, status: u16) -> Outcome<&Self> {
        ensure(self.status.as_u16() == status, || {
            format!(
                "expected {status}, got {} {}",
                self.status.as_u16(),
                snippet(&self.text)
            )
        })?;
        Ok(self)
    }

    fn json(&self) -> Outcome<Value> {
        serde_json::from_str(&self.text)
            .map_err(|_| format!("body is not JSON: {}", snippet(&self.text)))
    }
}

/// Expects `status` with an `application/problem+json` body that repeats it; returns the body.
fn expect_problem(reply: Outcome<Reply>, status: u16) -> Outcome<Value> {
    let reply = reply?;
    reply.expect(status)?;
    let content_type = reply.header("content-type").unwrap_or_default();
    ensure(content_type.starts_with("application/problem+json"), || {
        format!("Content-Type is {content_type:?}, expected application/problem+json")
    })?;
    let body = reply.json()?;
    ensure(body["status"] == status, || {
        format!("body's status is {}", body["status"])
    })?;
    Ok(body)
}

fn names_field(problem: &Value, field: &str) -> Outcome {
    let named = problem["errors"]
        .as_array()
        .is_some_and(|errors| errors.iter().any(|e| e["field"] == field));
    ensure(named, || {
        format!("errors do not name {field:?}: {}", problem["errors"])
    })
}

fn task_id(task: &Value) -> Outcome<i64> {
    task["id"]
        .as_i64()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("id is {}, expected a positive integer", task["id"]))
}

fn ensure(condition: bool, why: impl FnOnce() -> String) -> Outcome {
    if condition { Ok(()) } else { Err(why()) }
}

fn unique_email(who: &str) -> String {
    format!("e2e-{who}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The start of a body, for a failure message.
fn snippet(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// An error with its causes, which is where reqwest keeps the useful part.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends `request` and reads its whole answer; `what` names it in an error.
async fn exchange(request: reqwest::RequestBuilder, what: String) -> Outcome<Reply> {
    let failed = |e: reqwest::Error| format!("{what}: {}", describe(&e.without_url()));
    let response = request.send().await.map_err(failed)?;
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.map_err(failed)?;
    Ok(Reply {
        status,
        headers,
        text,
    })
}

struct Api {
    client: Client,
    base: String,
    wait: Duration,
}

impl Api {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Body,
    ) -> Outcome<Reply> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = match body {
            Body::Empty => request,
            Body::Json(value) => request.json(&value),
            Body::Raw(content_type, text) => {
                request.header("content-type", content_type).body(text)
            }
        };
        exchange(request, format!("{method} {path}")).await
    }

    /// A tokenless GET that names its own `X-Request-Id`.
    async fn send_with_request_id(&self, path: &str, id: &str) -> Outcome<Reply> {
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .header("x-request-id", id);
        exchange(request, format!("GET {path}")).await
    }

    /// A sign-up or sign-in. It waits out a 429 (a rate limiter still full from an earlier run)
    /// and a 502/503/504 (a service still starting) for up to the wait time.
    async fn auth(&self, path: &str, body: Value) -> Outcome<Reply> {
        let deadline = Instant::now() + self.wait;
        loop {
            let reply = self
                .send(Method::POST, path, None, Body::Json(body.clone()))
                .await?;
            let transient = matches!(reply.status.as_u16(), 429 | 502 | 503 | 504);
            if !transient || Instant::now() >= deadline {
                return Ok(reply);
            }
            let seconds = reply
                .header("retry-after")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(2u64)
                .clamp(1, 30);
            tokio::time::sleep(Duration::from_secs(seconds)).await;
        }
    }

    /// Waits until the proxy forwards to tasks-api (a 401 for a tokenless list).
    async fn wait_until_up(&self) -> Outcome {
        let deadline = Instant::now() + self.wait;
        loop {
            let last = match self
                .send(Method::GET, "/api/e2e-probe/tasks", None, Body::Empty)
                .await
            {
                Ok(reply) if reply.status == StatusCode::UNAUTHORIZED => return Ok(()),
                Ok(reply) => format!("GET /api/e2e-probe/tasks answered {}", reply.status),
                Err(why) => why,
            };
            if Instant::now() >= deadline {
                return Err(format!("still down after {:?}: {last}", self.wait));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

#[derive(Default)]
struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    fn record<T>(&mut self, what: &str, outcome: Outcome<T>) -> Option<T> {
        match outcome {
            Ok(value) => {
                println!("ok  {what}");
                self.passed += 1;
                Some(value)
            }
            Err(why) => {
                println!("FAIL {what}: {why}");
                self.failed += 1;
                None
            }
        }
    }

    fn stop(&mut self, why: &str) {
        println!("FAIL the remaining checks were not run: {why}");
        self.failed += 1;
    }

    fn finish(self) -> ExitCode {
        println!(
            "\n{} checks: {} passed, {} failed",
            self.passed + self.failed,
            self.passed,
            self.failed
        );
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}
