use crate::helpers::*;
use serde_json::{Value, json};

#[actix_rt::test]
async fn signing_up_returns_201_and_a_token_for_the_new_account() {
    let app = spawn_app().await;
    let response = app.signup("ada@example.com", PASSWORD, "Ada").await;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 604_800);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["name"], "Ada");
    assert!(body["user"]["created_at"].as_str().unwrap().ends_with('Z'));
    let identity = verifier()
        .decode(body["token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(identity.subject, body["user"]["id"].as_str().unwrap());
    assert!(identity.session.is_some(), "the token names its session");
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    let in_seven_days = chrono::Utc::now() + chrono::Duration::days(7);
    assert!((expires_at.timestamp() - in_seven_days.timestamp()).abs() < 60);
}

#[actix_rt::test]
async fn the_email_is_stored_trimmed_and_lower_cased_and_the_name_trimmed() {
    let app = spawn_app().await;
    let body: Value = app
        .signup("  Ada@Example.COM ", PASSWORD, "  Ada Lovelace ")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["name"], "Ada Lovelace");
    assert_eq!(
        app.signin("ada@example.com", PASSWORD)
            .await
            .status()
            .as_u16(),
        200
    );
}

#[actix_rt::test]
async fn an_email_registered_in_another_case_gives_409() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup("ada@example.com", PASSWORD, "Ada")
            .await
            .status()
            .as_u16(),
        201
    );
    let problem = assert_problem(
        app.signup("ADA@example.com", PASSWORD, "Other Ada").await,
        409,
    )
    .await;
    assert_eq!(problem["detail"], "This email is already registered");
}

#[actix_rt::test]
async fn spellings_that_show_as_one_email_are_one_account_and_hidden_characters_are_refused() {
    let app = spawn_app().await;
    assert_eq!(
        app.signup("josé@example.com", PASSWORD, "José")
            .await
            .status()
            .as_u16(),
        201
    );
    for same in ["jose\u{301}@example.com", "ＪＯＳÉ@ｅｘａｍｐｌｅ.ｃｏｍ"] {
        assert_eq!(
            app.signup(same, PASSWORD, "Twin").await.status().as_u16(),
            409,
            "{same}"
        );
        assert_eq!(
            app.signin(same, PASSWORD).await.status().as_u16(),
            200,
            "{same}"
        );
    }
    for hidden in [
        "jos\u{200B}é@example.com",
        "\u{FEFF}ada@example.com",
        "ada@exa\u{00AD}mple.com",
    ] {
        let problem = assert_problem(app.signup(hidden, PASSWORD, "Hidden").await, 422).await;
        assert_eq!(fields(&problem), ["email"], "{hidden:?}");
    }
    let problem = assert_problem(
        app.signup("ada@example.com", PASSWORD, "\u{200B}\u{200D}")
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&problem), ["name"]);
}

#[actix_rt::test]
async fn two_simultaneous_signups_with_one_email_give_exactly_one_201_and_one_409() {
    let app = spawn_app().await;
    for round in 0..5 {
        let email = format!("race{round}@example.com");
        let (a, b) = tokio::join!(
            app.signup(&email, PASSWORD, "A"),
            app.signup(&email, PASSWORD, "B")
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "round {round}");
    }
}

#[actix_rt::test]
async fn the_password_is_stored_as_an_argon2id_hash_with_the_configured_cost() {
    let app = spawn_app().await;
    app.signup("ada@example.com", PASSWORD, "Ada").await;
    let hash = app.stored_hash("ada@example.com");
    assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[actix_rt::test]
async fn invalid_fields_give_422_naming_every_one() {
    let app = spawn_app().await;
    let problem = assert_problem(app.signup("not-an-email", "short", "   ").await, 422).await;
    assert_eq!(fields(&problem), ["email", "password", "name"]);
    let cases = [
        (
            json!({"email": "a@b", "password": PASSWORD, "name": "A"}),
            "email",
        ),
        (
            json!({"email": format!("{}@example.com", "a".repeat(250)), "password": PASSWORD, "name": "A"}),
            "email",
        ),
        (
            json!({"email": "a@b.co", "password": "x".repeat(129), "name": "A"}),
            "password",
        ),
        (
            json!({"email": "a@b.co", "password": "ééééééé", "name": "A"}),
            "password",
        ),
        (
            json!({"email": "a@b.co", "password": PASSWORD, "name": "n".repeat(101)}),
            "name",
        ),
        (
            json!({"email": "a@b.co", "password": PASSWORD, "name": "bad\u{0}name"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let problem = assert_problem(app.post_json("/signup", &body).await, 422).await;
        assert_eq!(fields(&problem), [field], "{body}");
    }
}

#[actix_rt::test]
async fn limits_count_characters_not_bytes() {
    let app = spawn_app().await;
    let response = app
        .signup("u@example.com", &"é".repeat(128), &"名".repeat(100))
        .await;
    assert_eq!(response.status().as_u16(), 201);
}

#[actix_rt::test]
async fn json_of_the_wrong_shape_gives_422_naming_the_field() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.post_json("/signup", &json!({"email": "a@b.co", "name": "A"}))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&problem), ["password"]);
    let problem = assert_problem(
        app.post_json(
            "/signup",
            &json!({"email": 42, "password": PASSWORD, "name": "A"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&problem), ["email"]);
    let problem = assert_problem(app.post_json("/signup", &json!(["a", "b"])).await, 422).await;
    assert_eq!(fields(&problem), ["body"]);
}

#[actix_rt::test]
async fn a_field_the_route_does_not_take_or_a_null_is_a_422_naming_it() {
    let app = spawn_app().await;
    let cases = [
        (
            "/signup",
            json!({"email": "a@b.co", "password": PASSWORD, "name": "A", "role": "admin"}),
            "role",
            "is not an accepted field",
        ),
        (
            "/signup",
            json!({"email": "a@b.co", "password": PASSWORD, "nmae": "A"}),
            "nmae",
            "is not an accepted field",
        ),
        (
            "/signup",
            json!({"email": "a@b.co", "password": null, "name": "A"}),
            "password",
            "must not be null",
        ),
        (
            "/signin",
            json!({"email": "a@b.co", "password": PASSWORD, "remember": true}),
            "remember",
            "is not an accepted field",
        ),
    ];
    for (path, body, field, message) in cases {
        let problem = assert_problem(app.post_json(path, &body).await, 422).await;
        assert_eq!(fields(&problem), [field], "{path} {body}");
        assert_eq!(problem["errors"][0]["message"], message, "{path} {body}");
    }
    let problem = assert_problem(app.signin("a@b.co", PASSWORD).await, 401).await;
    assert_eq!(
        problem["status"], 401,
        "no account was made by a refused sign-up"
    );
}

#[actix_rt::test]
async fn a_body_that_is_not_json_gives_400() {
    let app = spawn_app().await;
    for body in ["", "{", "email=a@b.co", "{\"email\": \"a@b.co\",}"] {
        let response = app
            .client
            .post(format!("{}/signup", app.address))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(response, 400).await;
    }
}

#[actix_rt::test]
async fn a_body_that_is_not_declared_as_json_gives_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/signup", app.address))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(response, 415).await;
}

#[actix_rt::test]
async fn a_body_over_64_kib_gives_413() {
    let app = spawn_app().await;
    let body = json!({"email": "a@b.co", "password": PASSWORD, "name": "x".repeat(70 * 1024)});
    assert_problem(app.post_json("/signup", &body).await, 413).await;
}

#[actix_rt::test]
async fn signups_beyond_the_rate_limit_get_429_with_retry_after() {
    let app = spawn_app_with(&[("RATE_LIMIT_PER_MINUTE", "1"), ("RATE_LIMIT_BURST", "2")]).await;
    for i in 0..2 {
        assert_eq!(
            app.signup(&format!("u{i}@example.com"), PASSWORD, "U")
                .await
                .status()
                .as_u16(),
            201
        );
    }
    let response = app.signup("u3@example.com", PASSWORD, "U").await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(response, 429).await;
}
