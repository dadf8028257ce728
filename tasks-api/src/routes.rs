//! tasks-api's routes. Every one takes the `Owner` that the auth middleware verified: the
//! token's subject, who is the path's `{user_id}`.

use crate::auth::Owner;
use crate::db::{self, Task};
use crate::domain::{
    CreateTaskRequest, ListFilter, ListQuery, NewTask, TaskChanges, TaskId, UpdateTaskRequest,
};
use crate::startup::TasksApi;
use actix_web::http::StatusCode;
use actix_web::http::header::{ContentType, LOCATION};
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use database::{DbError, Timestamp};
use serde::Serialize;
use service::http::{Json, Problem};

/// A string as JSON text, quotes and escapes included. The owner's id is escaped once per
/// response and copied into every task shown: escaping it again for each task of a list took
/// a twentieth of the list's instructions.
pub struct JsonString(Vec<u8>);

impl JsonString {
    fn new(text: &str) -> serde_json::Result<Self> {
        serde_json::to_vec(text).map(Self)
    }
}

/// A task as shown: the row, and the id of the user it belongs to, who is the caller. The fields
/// are what the OpenAPI document shows; [`TaskView::write_json`] writes them.
#[derive(utoipa::ToSchema)]
pub struct TaskView<'a> {
    #[schema(example = 1)]
    id: i64,
    #[schema(value_type = String)]
    user_id: &'a JsonString,
    #[schema(example = "Buy milk")]
    title: &'a str,
    #[schema(nullable)]
    description: Option<&'a str>,
    completed: bool,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
}

impl<'a> TaskView<'a> {
    fn new(user_id: &'a JsonString, task: &'a Task) -> Self {
        Self {
            id: task.id,
            user_id,
            title: &task.title,
            description: task.description.as_deref(),
            completed: task.completed,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }

    /// Appends the task as a JSON object, its keys in the order above. Only the user's text
    /// goes through serde_json's escaping: with a derived `Serialize`, checking every byte of
    /// every key and timestamp for characters to escape took a sixth of a task list's
    /// instructions.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(br#"{"id":"#);
        out.extend_from_slice(itoa::Buffer::new().format(self.id).as_bytes());
        out.extend_from_slice(br#","user_id":"#);
        out.extend_from_slice(&self.user_id.0);
        out.extend_from_slice(br#","title":"#);
        serde_json::to_writer(&mut *out, self.title)?;
        out.extend_from_slice(br#","description":"#);
        serde_json::to_writer(&mut *out, &self.description)?;
        out.extend_from_slice(if self.completed {
            br#","completed":true"#.as_slice()
        } else {
            br#","completed":false"#
        });
        out.extend_from_slice(br#","created_at":"#);
        self.created_at.write_json(out);
        out.extend_from_slice(br#","updated_at":"#);
        self.updated_at.write_json(out);
        out.push(b'}');
        Ok(())
    }
}

/// The JSON text that `write` appends.
fn json(write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>) -> Result<Vec<u8>, Problem> {
    let mut body = Vec::with_capacity(256);
    write(&mut body).map_err(|e| {
        log::error!("cannot write a task as JSON: {e}");
        Problem::internal()
    })?;
    Ok(body)
}

/// `response` with the JSON body that `write` appends.
fn json_body(
    response: &mut HttpResponseBuilder,
    write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
) -> Result<HttpResponse, Problem> {
    Ok(response
        .content_type(ContentType::json())
        .body(json(write)?))
}

/// `response` with one task as its body.
fn one_task(
    response: &mut HttpResponseBuilder,
    owner: &Owner,
    task: &Task,
) -> Result<HttpResponse, Problem> {
    json_body(response, |out| {
        TaskView::new(&JsonString::new(owner.user_id())?, task).write_json(out)
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Deleted {
    #[schema(example = "deleted")]
    status: &'static str,
    task_id: i64,
}

fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "Task not found")
}

/// Maps "no such row" to 404: a missing task and another user's task look the same.
fn task_problem(e: DbError) -> Problem {
    if e.is_not_found() {
        not_found()
    } else {
        e.into()
    }
}

fn task_id(raw: &str) -> Result<TaskId, Problem> {
    TaskId::parse(raw).ok_or_else(not_found)
}

/// List the user's tasks, oldest first.
#[utoipa::path(get, path = "/api/{user_id}/tasks", tag = "tasks", params(("user_id" = String, Path), ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of tasks", body = [TaskView],
            headers(("X-Total-Count" = i64, description = "How many tasks match, across all pages"))),
        (status = 400, description = "A query parameter appears twice", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's subject is not this user", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    api: web::Data<TasksApi>,
    owner: Owner,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Problem> {
    let filter = ListFilter::try_from(query.into_inner())?;
    let page = api
        .lists
        .page(&api.pool, &owner, filter, |tasks| {
            json(|out| {
                let user_id = JsonString::new(owner.user_id())?;
                out.push(b'[');
                for (i, task) in tasks.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    TaskView::new(&user_id, task).write_json(out)?;
                }
                out.push(b']');
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", page.total.clone()))
        .content_type(ContentType::json())
        .body(page.body.clone()))
}

/// Create a task.
#[utoipa::path(post, path = "/api/{user_id}/tasks", tag = "tasks", params(("user_id" = String, Path)),
    request_body = CreateTaskRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TaskView,
            headers(("Location" = String, description = "The new task's URL"))),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's subject is not this user", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    api: web::Data<TasksApi>,
    owner: Owner,
    body: Json<CreateTaskRequest>,
) -> Result<HttpResponse, Problem> {
    let task = NewTask::try_from(body.0)?;
    let writer = owner.clone();
    let task = database::write(&api.pool, move |conn| db::insert(conn, &writer, task)).await?;
    let location = format!("/api/{}/tasks/{}", owner.user_id(), task.id);
    one_task(
        HttpResponse::Created().insert_header((LOCATION, location)),
        &owner,
        &task,
    )
}

/// Read one task.
#[utoipa::path(get, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks",
    params(("user_id" = String, Path), ("task_id" = i64, Path, minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The task", body = TaskView),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's subject is not this user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task for this user", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    api: web::Data<TasksApi>,
    owner: Owner,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let id = task_id(&path.1)?;
    let reader = owner.clone();
    let task = database::run(&api.pool, move |conn| db::get(conn, &reader, id))
        .await
        .map_err(task_problem)?;
    one_task(&mut HttpResponse::Ok(), &owner, &task)
}

/// Change any of title, description (`null` clears it) and completed; absent fields stay.
#[utoipa::path(put, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks",
    params(("user_id" = String, Path), ("task_id" = i64, Path, minimum = 1)),
    request_body = UpdateTaskRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed task", body = TaskView),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's subject is not this user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task for this user", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    api: web::Data<TasksApi>,
    owner: Owner,
    path: web::Path<(String, String)>,
    body: Json<UpdateTaskRequest>,
) -> Result<HttpResponse, Problem> {
    let id = task_id(&path.1)?;
    let changes = TaskChanges::try_from(body.0)?;
    let writer = owner.clone();
    let task = database::write(&api.pool, move |conn| {
        db::update(conn, &writer, id, changes)
    })
    .await
    .map_err(task_problem)?;
    one_task(&mut HttpResponse::Ok(), &owner, &task)
}

/// Delete a task.
#[utoipa::path(delete, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks",
    params(("user_id" = String, Path), ("task_id" = i64, Path, minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's subject is not this user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task for this user", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    api: web::Data<TasksApi>,
    owner: Owner,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let id = task_id(&path.1)?;
    let deleted = database::write(&api.pool, move |conn| db::delete(conn, &owner, id)).await?;
    if !deleted {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(Deleted {
        status: "deleted",
        task_id: id.0,
    }))
}

/// Toggle `completed`.
#[utoipa::path(patch, path = "/api/{user_id}/tasks/{task_id}/complete", tag = "tasks",
    params(("user_id" = String, Path), ("task_id" = i64, Path, minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The toggled task", body = TaskView),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's subject is not this user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task for this user", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn toggle(
    api: web::Data<TasksApi>,
    owner: Owner,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let id = task_id(&path.1)?;
    let writer = owner.clone();
    let task = database::write(&api.pool, move |conn| db::toggle(conn, &writer, id))
        .await
        .map_err(task_problem)?;
    one_task(&mut HttpResponse::Ok(), &owner, &task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(view: &TaskView) -> serde_json::Value {
        let mut out = Vec::new();
        view.write_json(&mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    fn moment(seconds: i64, micros: u32) -> Timestamp {
        Timestamp::from(
            chrono::DateTime::from_timestamp(seconds, micros * 1000)
                .unwrap()
                .naive_utc(),
        )
    }

    proptest! {
        /// Any text, however it must be escaped, and any time (years outside 0–9999 too, held at
        /// the nearest end) read back as they are shown.
        #[test]
        fn a_task_written_as_json_reads_back_as_its_values(
            id in 1i64..,
            user_id in any::<String>(),
            title in any::<String>(),
            description in proptest::option::of(any::<String>()),
            completed in any::<bool>(),
            created in -70_000_000_000i64..260_000_000_000,
            updated in -70_000_000_000i64..260_000_000_000,
            micros in 0u32..1_000_000,
        ) {
            let view = TaskView {
                id,
                user_id: &JsonString::new(&user_id).unwrap(),
                title: &title,
                description: description.as_deref(),
                completed,
                created_at: moment(created, micros),
                updated_at: moment(updated, 0),
            };
            let expected = serde_json::json!({
                "id": id,
                "user_id": user_id,
                "title": title,
                "description": description,
                "completed": completed,
                "created_at": moment(created, micros),
                "updated_at": moment(updated, 0),
            });
            prop_assert_eq!(written(&view), expected);
        }
    }

    #[test]
    fn a_task_is_written_with_the_fields_the_openapi_document_names() {
        use utoipa::OpenApi;
        let document = serde_json::to_value(crate::startup::ApiDoc::openapi()).unwrap();
        let documented = document["components"]["schemas"]["TaskView"]["properties"]
            .as_object()
            .unwrap();
        let view = TaskView {
            id: 1,
            user_id: &JsonString::new("ada").unwrap(),
            title: "Buy milk",
            description: None,
            completed: false,
            created_at: moment(0, 0),
            updated_at: moment(0, 0),
        };
        let written = written(&view);
        let names = |map: &serde_json::Map<String, serde_json::Value>| {
            map.keys().cloned().collect::<Vec<_>>()
        };
        assert_eq!(names(written.as_object().unwrap()), names(documented));
    }
}
