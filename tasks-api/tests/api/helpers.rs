use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use test_support::TestDatabase;
pub use test_support::{assert_problem, fields};

pub const SECRET: &str = "integration-test-secret-of-at-least-32-bytes";
/// The one setting every test app needs besides its database and address.
pub const SECRET_SETTING: (&str, &str) = ("BETTER_AUTH_SECRET", SECRET);

pub struct TestApp {
    pub address: String,
    pub client: Client,
    /// Shared by the replicas started on it; dropped with the last of them.
    pub database: Arc<TestDatabase>,
    pub stop: actix_web::dev::ServerHandle,
}

/// A token as the issuer would mint it for `user_id`.
pub fn token_for(user_id: &str) -> String {
    token_of_session(user_id, test_support::SESSION)
}

/// A token signed as the issuer signs, for `user_id` and naming `session`, whatever they hold.
pub fn token_of_session(user_id: &str, session: &str) -> String {
    test_support::hs256_token(SECRET, user_id, session)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_on(TestDatabase::new()).await
}

pub async fn spawn_app_on(database: TestDatabase) -> TestApp {
    spawn_app_with(database, &[SECRET_SETTING]).await
}

/// Starts tasks-api on `database` with `settings`: the token's (the secret, or the algorithm and
/// where its public keys are) and any other.
pub async fn spawn_app_with(database: TestDatabase, settings: &[(&str, &str)]) -> TestApp {
    serve(Arc::new(database), settings).await
}

async fn serve(database: Arc<TestDatabase>, extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![
        ("DATABASE_URL", database.url.as_str()),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ];
    settings.extend_from_slice(extra);
    let config = tasks_api::Config::from_pairs(settings).expect("a valid test configuration");
    let service = tasks_api::bind(config).await.expect("tasks-api starts");
    let address = format!("http://127.0.0.1:{}", service.port());
    let stop = service.handle();
    actix_rt::spawn(service.run_until_stopped());
    TestApp {
        address,
        client: Client::new(),
        database,
        stop,
    }
}

impl TestApp {
    /// Stops this instance and starts a new one on the same database.
    pub async fn restart(self) -> TestApp {
        self.stop.stop(true).await;
        serve(self.database, &[SECRET_SETTING]).await
    }

    /// A second instance on the same database, as a replica behind the proxy would be.
    pub async fn replica(&self) -> TestApp {
        serve(self.database.clone(), &[SECRET_SETTING]).await
    }

    /// Runs `sql` on the database directly, as another program or an operator would.
    pub fn execute_sql(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        let url = database::DatabaseUrl::parse(&self.database.url).unwrap();
        let settings = database::PoolSettings::default();
        let pool = database::connect(&url, &tasks_api::db::MIGRATIONS, &settings).unwrap();
        pool.get().unwrap().batch_execute(sql).unwrap();
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{path}", self.address));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// The OpenAPI document the running service serves.
    pub async fn openapi(&self) -> Value {
        self.request(Method::GET, "/openapi.json", None)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn create(&self, user: &str, body: &Value) -> Response {
        self.request(
            Method::POST,
            &format!("/api/{user}/tasks"),
            Some(&token_for(user)),
        )
        .json(body)
        .send()
        .await
        .unwrap()
    }

    /// Creates a task and returns it.
    pub async fn create_task(&self, user: &str, title: &str) -> Value {
        let response = self.create(user, &json!({"title": title})).await;
        assert_eq!(response.status().as_u16(), 201);
        response.json().await.unwrap()
    }

    pub async fn list(&self, user: &str, query: &str) -> Response {
        self.request(
            Method::GET,
            &format!("/api/{user}/tasks{query}"),
            Some(&token_for(user)),
        )
        .send()
        .await
        .unwrap()
    }

    pub async fn on_task(
        &self,
        method: Method,
        user: &str,
        task_path: &str,
        body: Option<&Value>,
    ) -> Response {
        let request = self.request(
            method,
            &format!("/api/{user}/tasks/{task_path}"),
            Some(&token_for(user)),
        );
        match body {
            Some(body) => request.json(body),
            None => request,
        }
        .send()
        .await
        .unwrap()
    }
}
