use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

#[actix_rt::test]
async fn creating_a_task_returns_201_the_task_and_its_location() {
    let app = spawn_app().await;
    let response = app
        .create(
            "ada",
            &json!({"title": "  Buy milk  ", "description": "Two litres"}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let task: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/ada/tasks/{}", task["id"]));
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["description"], "Two litres");
    assert_eq!(task["completed"], false);
    assert_eq!(task["user_id"], "ada");
    assert_eq!(task["created_at"], task["updated_at"]);
    let read: Value = app
        .request(Method::GET, &location, Some(&token_for("ada")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, task);
}

#[actix_rt::test]
async fn any_subject_gets_a_location_that_leads_back_to_its_task() {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let app = spawn_app().await;
    for subject in [
        "ada lovelace",
        "a\u{1}b",
        "tab\there",
        "zoë",
        "a?b#c",
        "100%",
        "a/b",
        "a+b",
        "%41",
        "a\"b<c>`{d}",
        "\u{7f}",
    ] {
        let token = token_for(subject);
        let tasks = format!(
            "/api/{}/tasks",
            utf8_percent_encode(subject, NON_ALPHANUMERIC)
        );
        let response = app
            .request(Method::POST, &tasks, Some(&token))
            .json(&json!({"title": "Mine"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201, "{subject:?}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["user_id"], subject);
        let read = app
            .request(Method::GET, &location, Some(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status().as_u16(), 200, "{subject:?}: {location}");
        assert_eq!(read.json::<Value>().await.unwrap(), created);
    }
    // But a NUL, which PostgreSQL refuses in text: the token names no one.
    let response = app
        .request(Method::POST, "/api/a%00b/tasks", Some(&token_for("a\0b")))
        .json(&json!({"title": "Mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[actix_rt::test]
async fn a_task_without_description_has_null() {
    let app = spawn_app().await;
    let task = app.create_task("ada", "Plain").await;
    assert_eq!(task["description"], Value::Null);
    assert!(chrono::DateTime::parse_from_rfc3339(task["created_at"].as_str().unwrap()).is_ok());
}

#[actix_rt::test]
async fn invalid_tasks_give_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "é".repeat(201)}), "title"),
        (
            json!({"title": "ok", "description": "é".repeat(2001)}),
            "description",
        ),
        (json!({"title": 5}), "title"),
        (json!({"description": "no title"}), "title"),
        (json!({"title": "nul\u{0}"}), "title"),
        (json!({"title": "\u{200B}\u{200D}"}), "title"),
        (json!({"title": " \u{FEFF}\u{00AD} "}), "title"),
    ];
    for (body, field) in cases {
        let problem = assert_problem(app.create("ada", &body).await, 422).await;
        assert_eq!(fields(&problem), [field], "{body}");
    }
    let response = app
        .create(
            "ada",
            &json!({"title": "é".repeat(200), "description": "é".repeat(2000)}),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201, "limits count characters");
}

#[actix_rt::test]
async fn bodies_that_are_not_json_too_large_or_undeclared_get_their_4xx() {
    let app = spawn_app().await;
    let post = |content_type: &'static str, body: String| {
        app.request(Method::POST, "/api/ada/tasks", Some(&token_for("ada")))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_problem(post("application/json", "{".into()).await.unwrap(), 400).await;
    assert_problem(post("application/json", String::new()).await.unwrap(), 400).await;
    assert_problem(
        post("text/plain", r#"{"title": "x"}"#.into())
            .await
            .unwrap(),
        415,
    )
    .await;
    let huge = json!({"title": "x", "description": "y".repeat(70_000)}).to_string();
    assert_problem(post("application/json", huge).await.unwrap(), 413).await;
}

#[actix_rt::test]
async fn the_list_is_oldest_first_with_the_total_count() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.create_task("ada", &format!("task {i}")).await;
    }
    let response = app.list("ada", "").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-total-count"], "3");
    let tasks: Vec<Value> = response.json().await.unwrap();
    let titles: Vec<_> = tasks.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["task 0", "task 1", "task 2"]);
}

#[actix_rt::test]
async fn the_list_filters_by_completion_and_pages() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.create_task("ada", &format!("task {i}")).await["id"].clone());
    }
    for id in [&ids[1], &ids[3]] {
        app.on_task(Method::PATCH, "ada", &format!("{id}/complete"), None)
            .await;
    }
    let response = app.list("ada", "?completed=true").await;
    assert_eq!(response.headers()["x-total-count"], "2");
    let done: Vec<Value> = response.json().await.unwrap();
    assert_eq!(
        done.iter().map(|t| t["id"].clone()).collect::<Vec<_>>(),
        [ids[1].clone(), ids[3].clone()]
    );
    let response = app.list("ada", "?completed=false&limit=2&offset=1").await;
    assert_eq!(response.headers()["x-total-count"], "3");
    let page: Vec<Value> = response.json().await.unwrap();
    assert_eq!(
        page.iter().map(|t| t["id"].clone()).collect::<Vec<_>>(),
        [ids[2].clone(), ids[4].clone()]
    );
    let beyond: Vec<Value> = app.list("ada", "?offset=10").await.json().await.unwrap();
    assert!(beyond.is_empty());
}

#[actix_rt::test]
async fn list_parameters_out_of_range_give_422_naming_them() {
    let app = spawn_app().await;
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?limit=x", "limit"),
        ("?offset=-1", "offset"),
        ("?completed=yes", "completed"),
    ] {
        let problem = assert_problem(app.list("ada", query).await, 422).await;
        assert_eq!(fields(&problem), [field], "{query}");
    }
    assert_eq!(app.list("ada", "?limit=500").await.status().as_u16(), 200);
}

#[actix_rt::test]
async fn put_changes_given_fields_keeps_absent_ones_and_null_clears_the_description() {
    let app = spawn_app().await;
    let created: Value = app
        .create("ada", &json!({"title": "Old", "description": "Keep me"}))
        .await
        .json()
        .await
        .unwrap();
    let id = &created["id"];
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let response = app
        .on_task(
            Method::PUT,
            "ada",
            &id.to_string(),
            Some(&json!({"title": " New "})),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["title"], "New");
    assert_eq!(changed["description"], "Keep me");
    assert_eq!(changed["completed"], false);
    assert_eq!(changed["created_at"], created["created_at"]);
    assert!(changed["updated_at"].as_str().unwrap() > created["updated_at"].as_str().unwrap());

    let cleared: Value = app
        .on_task(
            Method::PUT,
            "ada",
            &id.to_string(),
            Some(&json!({"description": null, "completed": true})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["completed"], true);
    assert_eq!(cleared["title"], "New");
    let read: Value = app
        .on_task(Method::GET, "ada", &id.to_string(), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, cleared);
}

#[actix_rt::test]
async fn put_validates_like_create() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Task").await["id"].to_string();
    let problem = assert_problem(
        app.on_task(
            Method::PUT,
            "ada",
            &id,
            Some(&json!({"title": "", "description": "d".repeat(2001)})),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(fields(&problem), ["title", "description"]);
    let problem = assert_problem(
        app.on_task(Method::PUT, "ada", &id, Some(&json!({"completed": "yes"})))
            .await,
        422,
    )
    .await;
    assert_eq!(fields(&problem), ["completed"]);
}

#[actix_rt::test]
async fn a_field_a_route_does_not_take_or_a_null_it_cannot_hold_is_a_422_naming_it() {
    let app = spawn_app().await;
    let task = app.create_task("ada", "Task").await;
    let id = task["id"].to_string();
    let cases = [
        (
            Method::POST,
            json!({"title": "Mine", "titel": "typo"}),
            "titel",
            "is not an accepted field",
        ),
        (
            Method::POST,
            json!({"title": "Mine", "user_id": "mallory"}),
            "user_id",
            "is not an accepted field",
        ),
        (
            Method::POST,
            json!({"title": "Mine", "completed": true}),
            "completed",
            "is not an accepted field",
        ),
        (
            Method::POST,
            json!({"title": null}),
            "title",
            "must not be null",
        ),
        (
            Method::PUT,
            json!({"titel": "typo"}),
            "titel",
            "is not an accepted field",
        ),
        (
            Method::PUT,
            json!({"title": "Renamed", "id": 99}),
            "id",
            "is not an accepted field",
        ),
        (
            Method::PUT,
            json!({"title": null}),
            "title",
            "must not be null",
        ),
        (
            Method::PUT,
            json!({"completed": null}),
            "completed",
            "must not be null",
        ),
    ];
    for (method, body, field, message) in cases {
        let response = match method {
            Method::POST => app.create("ada", &body).await,
            _ => app.on_task(method.clone(), "ada", &id, Some(&body)).await,
        };
        let problem = assert_problem(response, 422).await;
        assert_eq!(fields(&problem), [field], "{method} {body}");
        assert_eq!(problem["errors"][0]["message"], message, "{method} {body}");
    }
    let listed: Value = app.list("ada", "").await.json().await.unwrap();
    assert_eq!(
        listed,
        json!([task]),
        "nothing refused was saved or changed"
    );
    let cleared = app
        .on_task(Method::PUT, "ada", &id, Some(&json!({"description": null})))
        .await;
    assert_eq!(
        cleared.status().as_u16(),
        200,
        "null still clears a description"
    );
}

#[actix_rt::test]
async fn patch_complete_toggles() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Task").await["id"].to_string();
    let once: Value = app
        .on_task(Method::PATCH, "ada", &format!("{id}/complete"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(once["completed"], true);
    let twice: Value = app
        .on_task(Method::PATCH, "ada", &format!("{id}/complete"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(twice["completed"], false);
}

#[actix_rt::test]
async fn delete_answers_the_id_and_a_second_delete_is_404() {
    let app = spawn_app().await;
    let id = app.create_task("ada", "Task").await["id"].clone();
    let response = app
        .on_task(Method::DELETE, "ada", &id.to_string(), None)
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "deleted", "task_id": id})
    );
    assert_problem(
        app.on_task(Method::DELETE, "ada", &id.to_string(), None)
            .await,
        404,
    )
    .await;
    assert_problem(
        app.on_task(Method::GET, "ada", &id.to_string(), None).await,
        404,
    )
    .await;
}

#[actix_rt::test]
async fn a_task_id_that_is_not_a_positive_integer_is_404_on_every_method() {
    let app = spawn_app().await;
    for task_path in ["abc", "0", "-1", "1.5", "99999999999999999999", "424242"] {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let body = (method == Method::PUT).then(|| json!({"title": "x"}));
            assert_problem(
                app.on_task(method.clone(), "ada", task_path, body.as_ref())
                    .await,
                404,
            )
            .await;
        }
        assert_problem(
            app.on_task(Method::PATCH, "ada", &format!("{task_path}/complete"), None)
                .await,
            404,
        )
        .await;
    }
}

#[actix_rt::test]
async fn a_restart_keeps_every_task() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..10 {
        created.push(app.create_task("ada", &format!("task {i}")).await);
    }
    let app = app.restart().await;
    let listed: Vec<Value> = app.list("ada", "").await.json().await.unwrap();
    assert_eq!(listed, created);
}

#[actix_rt::test]
async fn a_hundred_parallel_creates_give_a_hundred_distinct_tasks() {
    let app = spawn_app().await;
    let bodies: Vec<Value> = (0..100)
        .map(|i| json!({"title": format!("task {i}")}))
        .collect();
    let responses =
        futures_util::future::join_all(bodies.iter().map(|body| app.create("ada", body))).await;
    let mut ids = std::collections::BTreeSet::new();
    for response in responses {
        assert_eq!(response.status().as_u16(), 201);
        ids.insert(
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(ids.len(), 100);
    let response = app.list("ada", "?limit=500").await;
    assert_eq!(response.headers()["x-total-count"], "100");
    let listed: Vec<Value> = response.json().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect::<std::collections::BTreeSet<_>>(),
        ids
    );
}

#[actix_rt::test]
async fn health_ready_and_openapi_answer_without_a_token() {
    let app = spawn_app().await;
    for path in ["/health", "/ready"] {
        assert_eq!(
            app.request(Method::GET, path, None)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200,
            "{path}"
        );
    }
    let document = app.openapi().await;
    for path in [
        "/api/{user_id}/tasks",
        "/api/{user_id}/tasks/{task_id}",
        "/api/{user_id}/tasks/{task_id}/complete",
    ] {
        assert!(document["paths"][path].is_object(), "{path}");
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    test_support::assert_refs_resolve(&document);
}

#[actix_rt::test]
async fn an_unknown_route_and_a_wrong_method_get_problem_json() {
    let app = spawn_app().await;
    assert_problem(
        app.request(Method::GET, "/api/ada/other", Some(&token_for("ada")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_problem(
        app.request(Method::PATCH, "/api/ada/tasks", Some(&token_for("ada")))
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
}
