//! The list's kept pages (`list_cache`): a list read again shows every change, whoever made it,
//! and a kept page is sent again only while its user's list is unchanged.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};
use test_support::TestDatabase;

/// The titles a list shows, and its `X-Total-Count`.
async fn titles(app: &TestApp, user: &str, query: &str) -> (Vec<String>, String) {
    let response = app.list(user, query).await;
    assert_eq!(response.status().as_u16(), 200);
    let total = response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .to_owned();
    let tasks: Vec<Value> = response.json().await.unwrap();
    let titles = tasks
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned());
    (titles.collect(), total)
}

fn shown(titles: &[&str], total: usize) -> (Vec<String>, String) {
    (
        titles.iter().map(|t| t.to_string()).collect(),
        total.to_string(),
    )
}

/// Sends `method` to ada's `task_path`, which must answer 200.
async fn change(app: &TestApp, method: Method, task_path: &str, body: Option<Value>) {
    let response = app.on_task(method, "ada", task_path, body.as_ref()).await;
    assert_eq!(response.status().as_u16(), 200);
}

#[actix_rt::test]
async fn a_list_read_again_shows_every_kind_of_write() {
    let app = spawn_app().await;
    let first = app.create_task("ada", "one").await["id"].to_string();
    let queries = ["", "?completed=false", "?limit=1&offset=1"];
    for query in queries {
        titles(&app, "ada", query).await;
    }

    let second = app.create_task("ada", "two").await["id"].to_string();
    assert_eq!(titles(&app, "ada", "").await, shown(&["one", "two"], 2));
    assert_eq!(titles(&app, "ada", queries[2]).await, shown(&["two"], 2));

    change(&app, Method::PUT, &first, Some(json!({"title": "uno"}))).await;
    assert_eq!(titles(&app, "ada", "").await, shown(&["uno", "two"], 2));

    change(&app, Method::PATCH, &format!("{second}/complete"), None).await;
    assert_eq!(titles(&app, "ada", queries[1]).await, shown(&["uno"], 1));

    change(&app, Method::DELETE, &first, None).await;
    assert_eq!(titles(&app, "ada", "").await, shown(&["two"], 1));
    assert_eq!(titles(&app, "ada", queries[1]).await, shown(&[], 0));
}

#[actix_rt::test]
async fn a_change_made_through_another_replica_shows_at_once() {
    let app = spawn_app().await;
    let replica = app.replica().await;
    let first = app.create_task("ada", "one").await["id"].to_string();
    assert_eq!(titles(&app, "ada", "").await, shown(&["one"], 1));

    replica.create_task("ada", "two").await;
    assert_eq!(titles(&app, "ada", "").await, shown(&["one", "two"], 2));

    change(&replica, Method::PUT, &first, Some(json!({"title": "uno"}))).await;
    assert_eq!(titles(&app, "ada", "").await, shown(&["uno", "two"], 2));
}

#[actix_rt::test]
async fn a_change_made_in_the_database_directly_shows_at_once() {
    let app = spawn_app().await;
    app.create_task("ada", "one").await;
    app.create_task("bob", "his").await;
    assert_eq!(titles(&app, "ada", "").await, shown(&["one"], 1));
    assert_eq!(titles(&app, "bob", "").await, shown(&["his"], 1));

    app.execute_sql("UPDATE tasks SET title = 'by hand' WHERE user_id = 'ada'");
    assert_eq!(titles(&app, "ada", "").await, shown(&["by hand"], 1));

    app.execute_sql("DELETE FROM tasks WHERE user_id = 'ada'");
    assert_eq!(titles(&app, "ada", "").await, shown(&[], 0));

    app.execute_sql(
        "INSERT INTO tasks (user_id, title, completed, created_at, updated_at) \
         VALUES ('ada', 'inserted', FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    );
    assert_eq!(titles(&app, "ada", "").await, shown(&["inserted"], 1));

    // A task moved to another user leaves one list and joins the other.
    app.execute_sql("UPDATE tasks SET user_id = 'bob' WHERE user_id = 'ada'");
    assert_eq!(titles(&app, "ada", "").await, shown(&[], 0));
    assert_eq!(
        titles(&app, "bob", "").await,
        shown(&["his", "inserted"], 2)
    );

    if app.database.is_postgres() {
        app.execute_sql("TRUNCATE tasks");
        assert_eq!(titles(&app, "bob", "").await, shown(&[], 0));
    }
}

#[actix_rt::test]
async fn an_unchanged_list_is_sent_as_kept_unless_nothing_may_be_kept() {
    // A change made by hand with the list's version set back is one that a kept page cannot
    // see: it shows only when no page is kept.
    for (cache, expected) in [(None, "one"), (Some("0"), "hidden")] {
        let mut settings = vec![SECRET_SETTING];
        settings.extend(cache.map(|bytes| ("LIST_CACHE_BYTES", bytes)));
        let app = spawn_app_with(TestDatabase::new(), &settings).await;
        app.create_task("ada", "one").await;
        assert_eq!(titles(&app, "ada", "").await, shown(&["one"], 1));

        app.execute_sql(
            "CREATE TABLE kept AS SELECT version FROM task_lists WHERE user_id = 'ada'; \
             UPDATE tasks SET title = 'hidden' WHERE user_id = 'ada'; \
             UPDATE task_lists SET version = (SELECT version FROM kept) WHERE user_id = 'ada'",
        );
        assert_eq!(
            titles(&app, "ada", "").await,
            shown(&[expected], 1),
            "LIST_CACHE_BYTES={cache:?}"
        );
    }
}

/// A restore as `pg_restore --disable-triggers` or a copied SQLite file leaves it: every row as
/// the backup had it, the lists' versions included.
const BACK_UP: &str = "CREATE TABLE backup_tasks AS SELECT * FROM tasks; \
                       CREATE TABLE backup_lists AS SELECT * FROM task_lists";
const RESTORE: &str = "DELETE FROM tasks; INSERT INTO tasks SELECT * FROM backup_tasks; \
                       DELETE FROM task_lists; INSERT INTO task_lists SELECT * FROM backup_lists";

#[actix_rt::test]
async fn a_database_restored_from_an_older_backup_never_brings_back_a_kept_page() {
    let app = spawn_app().await;
    app.create_task("ada", "one").await;
    app.execute_sql(BACK_UP);
    app.create_task("ada", "two").await;
    app.create_task("ada", "three").await;
    assert_eq!(
        titles(&app, "ada", "").await,
        shown(&["one", "two", "three"], 3)
    );

    // Back to the backup, then as many changes as there were after it: a version that counted
    // changes would now be the one the page above is kept under.
    app.execute_sql(RESTORE);
    app.create_task("ada", "four").await;
    app.create_task("ada", "five").await;
    assert_eq!(
        titles(&app, "ada", "").await,
        shown(&["one", "four", "five"], 3)
    );
}
