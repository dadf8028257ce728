use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

#[actix_rt::test]
async fn another_users_task_is_indistinguishable_from_a_missing_one_on_every_route() {
    let app = spawn_app().await;
    let adas = app.create_task("ada", "Ada's secret").await;
    let id = adas["id"].to_string();
    let bob = "bob";
    let missing = "987654";
    for task_path in [id.as_str(), missing] {
        let answers = [
            app.on_task(Method::GET, bob, task_path, None).await,
            app.on_task(
                Method::PUT,
                bob,
                task_path,
                Some(&json!({"title": "pwned"})),
            )
            .await,
            app.on_task(Method::PATCH, bob, &format!("{task_path}/complete"), None)
                .await,
            app.on_task(Method::DELETE, bob, task_path, None).await,
        ];
        for response in answers {
            let problem = assert_problem(response, 404).await;
            assert_eq!(problem["detail"], "Task not found");
        }
    }
    let unchanged: Value = app
        .on_task(Method::GET, "ada", &id, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, adas);
}

#[actix_rt::test]
async fn each_user_lists_only_their_own_tasks() {
    let app = spawn_app().await;
    app.create_task("ada", "Ada 1").await;
    app.create_task("bob", "Bob 1").await;
    app.create_task("ada", "Ada 2").await;
    for (user, expected) in [("ada", vec!["Ada 1", "Ada 2"]), ("bob", vec!["Bob 1"])] {
        let response = app.list(user, "").await;
        assert_eq!(
            response.headers()["x-total-count"],
            expected.len().to_string().as_str()
        );
        let tasks: Vec<Value> = response.json().await.unwrap();
        assert_eq!(
            tasks
                .iter()
                .map(|t| t["title"].as_str().unwrap())
                .collect::<Vec<_>>(),
            expected
        );
        assert!(tasks.iter().all(|t| t["user_id"] == user));
    }
}
