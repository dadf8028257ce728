//! tasks-api's routes. Every one takes the `Owner` that the auth middleware verified: the
//! token's subject, who is the path's `{user_id}`.

use crate::auth::Owner;
use crate::db::{self, Task};
use crate::domain::{
    CreateTaskRequest, ListFilter, ListQuery, NewTask, TaskChanges, TaskId, UpdateTaskRequest,
};
use crate::error::{ApiError, NoValidToken, NotTheOwner, TaskNotFound};
use crate::state::TasksApi;
use actix_web::http::header::{ContentType, LOCATION};
use actix_web::{HttpResponse, web};
use database::Timestamp;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use service::http::{Json, Problem};
use service::responses::{BadJson, DatabaseUnreachable, InvalidField, NotJson, TooLarge};

/// A task as shown: the row, and the id of the user it belongs to, who is the caller.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskView<'a> {
    #[schema(example = 1)]
    id: i64,
    user_id: &'a str,
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
    fn new(owner: &'a Owner, task: &'a Task) -> Self {
        Self {
            id: task.id,
            user_id: owner.user_id(),
            title: &task.title,
            description: task.description.as_deref(),
            completed: task.completed,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Deleted {
    #[schema(example = "deleted")]
    status: &'static str,
    task_id: i64,
}

fn task_id(raw: &str) -> Result<TaskId, ApiError> {
    TaskId::parse(raw).ok_or(ApiError::TaskNotFound)
}

/// List the user's tasks, oldest first.
#[utoipa::path(get, path = "/api/{user_id}/tasks", tag = "tasks", params(("user_id" = String, Path), ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of tasks", body = [TaskView],
            headers(("X-Total-Count" = i64, description = "How many tasks match, across all pages"))),
        (status = 400, description = "A query parameter appears twice", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = NoValidToken),
        (status = 403, response = NotTheOwner),
        (status = 422, description = "A query parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = DatabaseUnreachable),
    ))]
pub async fn list(
    api: web::Data<TasksApi>,
    owner: Owner,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = ListFilter::try_from(query.into_inner())?;
    let page = api
        .lists
        .page(&api.pool, &owner, filter, |tasks| {
            let views: Vec<_> = tasks
                .iter()
                .map(|task| TaskView::new(&owner, task))
                .collect();
            serde_json::to_vec(&views)
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
        (status = 400, response = BadJson),
        (status = 401, response = NoValidToken),
        (status = 403, response = NotTheOwner),
        (status = 413, response = TooLarge),
        (status = 415, response = NotJson),
        (status = 422, response = InvalidField),
        (status = 503, response = DatabaseUnreachable),
    ))]
pub async fn create(
    api: web::Data<TasksApi>,
    owner: Owner,
    body: Json<CreateTaskRequest>,
) -> Result<HttpResponse, ApiError> {
    let task = NewTask::try_from(body.0)?;
    let writer = owner.clone();
    let task = database::write(&api.pool, move |conn| db::insert(conn, &writer, task)).await??;
    // Nothing between the commit and the answer may fail: a subject holding a control
    // character or a space would be an invalid header value (a 500 for a task that was saved).
    let location = format!(
        "/api/{}/tasks/{}",
        utf8_percent_encode(owner.user_id(), PATH_SEGMENT),
        task.id
    );
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, location))
        .json(TaskView::new(&owner, &task)))
}

/// What a path segment must not hold as it is: the URL Standard's path percent-encode set, and
/// `/` and `%`, which would end the segment or start an escape. Non-ASCII is always encoded.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// Read one task.
#[utoipa::path(get, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks",
    params(("user_id" = String, Path), ("task_id" = i64, Path, minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The task", body = TaskView),
        (status = 401, response = NoValidToken),
        (status = 403, response = NotTheOwner),
        (status = 404, response = TaskNotFound),
        (status = 503, response = DatabaseUnreachable),
    ))]
pub async fn read(
    api: web::Data<TasksApi>,
    owner: Owner,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path.1)?;
    let reader = owner.clone();
    let task = database::run(&api.pool, move |conn| db::get(conn, &reader, id)).await?;
    Ok(HttpResponse::Ok().json(TaskView::new(&owner, &task)))
}

/// Change any of title, description (`null` clears it) and completed; absent fields stay.
#[utoipa::path(put, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks",
    params(("user_id" = String, Path), ("task_id" = i64, Path, minimum = 1)),
    request_body = UpdateTaskRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed task", body = TaskView),
        (status = 400, response = BadJson),
        (status = 401, response = NoValidToken),
        (status = 403, response = NotTheOwner),
        (status = 404, response = TaskNotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = NotJson),
        (status = 422, response = InvalidField),
        (status = 503, response = DatabaseUnreachable),
    ))]
pub async fn update(
    api: web::Data<TasksApi>,
    owner: Owner,
    path: web::Path<(String, String)>,
    body: Json<UpdateTaskRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path.1)?;
    let changes = TaskChanges::try_from(body.0)?;
    let writer = owner.clone();
    let task = database::write(&api.pool, move |conn| {
        db::update(conn, &writer, id, changes)
    })
    .await??;
    Ok(HttpResponse::Ok().json(TaskView::new(&owner, &task)))
}

/// Delete a task.
#[utoipa::path(delete, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks",
    params(("user_id" = String, Path), ("task_id" = i64, Path, minimum = 1)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 401, response = NoValidToken),
        (status = 403, response = NotTheOwner),
        (status = 404, response = TaskNotFound),
        (status = 503, response = DatabaseUnreachable),
    ))]
pub async fn delete(
    api: web::Data<TasksApi>,
    owner: Owner,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path.1)?;
    let deleted = database::write(&api.pool, move |conn| db::delete(conn, &owner, id)).await??;
    if !deleted {
        return Err(ApiError::TaskNotFound);
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
        (status = 401, response = NoValidToken),
        (status = 403, response = NotTheOwner),
        (status = 404, response = TaskNotFound),
        (status = 503, response = DatabaseUnreachable),
    ))]
pub async fn toggle(
    api: web::Data<TasksApi>,
    owner: Owner,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path.1)?;
    let writer = owner.clone();
    let task = database::write(&api.pool, move |conn| db::toggle(conn, &writer, id)).await??;
    Ok(HttpResponse::Ok().json(TaskView::new(&owner, &task)))
}
