use crate::helpers::*;
use serde_json::Value;
use std::time::{Duration, Instant};
use test_support::{Relay, TestDatabase};

#[actix_rt::test]
async fn health_and_ready_answer_200_without_a_token() {
    let app = spawn_app().await;
    for path in ["/health", "/ready"] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
}

#[actix_rt::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let document: Value = app
        .client
        .get(format!("{}/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/signup",
        "/signin",
        "/health",
        "/ready",
        "/password/forgot",
        "/password/reset",
        "/email/verify",
        "/account/email",
        "/account/email/verification",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    assert!(
        document["components"]["schemas"]["UserView"]["properties"]["email_verified"].is_object(),
        "the account shows whether its address is verified"
    );
    let signin = &document["paths"]["/signin"]["post"]["responses"];
    for status in ["200", "400", "401", "413", "415", "422", "429", "503"] {
        assert!(signin[status].is_object(), "/signin {status} missing");
    }
    // A shared answer is described once, under `components`, and every reference resolves.
    assert_eq!(
        signin["413"]["$ref"], "#/components/responses/TooLarge",
        "{signin}"
    );
    let too_large = &document["components"]["responses"]["TooLarge"];
    assert!(
        too_large["content"]["application/problem+json"]["schema"]["$ref"]
            .as_str()
            .is_some_and(|schema| schema.ends_with("/Problem")),
        "{too_large}"
    );
    test_support::assert_refs_resolve(&document);
}

#[actix_rt::test]
async fn an_unknown_route_and_a_wrong_method_get_problem_json() {
    let app = spawn_app().await;
    assert_problem(
        app.client
            .get(format!("{}/nowhere", app.address))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    let response = app
        .client
        .get(format!("{}/signin", app.address))
        .send()
        .await
        .unwrap();
    assert_problem(response, 405).await;
}

#[actix_rt::test]
async fn cors_allows_only_the_configured_origins() {
    let app = spawn_app_with(&[("CORS_ORIGINS", "https://app.example.com")]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/signin", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[actix_rt::test]
async fn a_lost_database_gives_503_and_the_service_recovers_when_it_returns() {
    let database = TestDatabase::new();
    if !database.is_postgres() {
        eprintln!("skipped: needs TEST_DATABASE_URL (a SQLite file cannot be lost)");
        return;
    }
    let target = database_address(&database.url);
    let relay = Relay::start(target).await;
    let relayed_url = database
        .url
        .replacen(&target.to_string(), &relay.address.to_string(), 1);
    let app = spawn_app_on(database, &[("DATABASE_URL", &relayed_url)]).await;
    assert_eq!(
        app.signup("ada@example.com", PASSWORD, "Ada")
            .await
            .status()
            .as_u16(),
        201
    );

    relay.cut();
    let started = Instant::now();
    let response = app.signin("ada@example.com", PASSWORD).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no hang: {:?}",
        started.elapsed()
    );
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503).await;
    let ready = app
        .client
        .get(format!("{}/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 503);

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = app
            .signin("ada@example.com", PASSWORD)
            .await
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the service did not recover (last status {status})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn database_address(url: &str) -> std::net::SocketAddr {
    let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    host_port
        .replace("localhost", "127.0.0.1")
        .parse()
        .expect("TEST_DATABASE_URL with a numeric host")
}

/// Swagger UI at /docs/, from the binary's own files, pointed at this service's document, under
/// a policy that lets its own scripts and styles run and nothing from elsewhere.
#[actix_rt::test]
async fn the_docs_page_serves_swagger_ui_for_the_openapi_document() {
    let app = spawn_app().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = no_redirect
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status().as_u16(), 302);
    assert_eq!(bare.headers()["location"], "/docs/");
    let page = app
        .client
        .get(format!("{}/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'") && policy.contains("default-src 'none'"));
    assert!(
        !policy.contains("unsafe-eval") && !policy.contains("http"),
        "{policy}"
    );
    assert!(page.text().await.unwrap().contains("swagger-ui-bundle.js"));
    let initializer = app
        .client
        .get(format!("{}/docs/swagger-initializer.js", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains(r#""url": "/openapi.json""#),
        "{initializer}"
    );
    let bundle = app
        .client
        .get(format!("{}/docs/swagger-ui-bundle.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status().as_u16(), 200);
    // The API keeps its own, stricter policy.
    let api = app
        .client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
}
