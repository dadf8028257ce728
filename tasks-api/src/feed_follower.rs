//! Reads the issuer's feed of ended sessions into [`EndedSessions`], and applies the deletions of
//! accounts to tasks-api's database before reading past them.

use crate::db::{self, DeletedAccount};
use crate::ended_sessions::EndedSessions;
use database::Pool;
use shared::config::Secret;
use shared::session_feed::FeedPage;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How often the feed is read: a sign-out reaches every replica within about this, plus a
/// request's time.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Why the feed could not be read or applied; logged, then tried again.
pub type FeedError = Box<dyn std::error::Error>;

/// A page of the feed.
pub type FeedFuture<'a> = Pin<Box<dyn Future<Output = Result<FeedPage, FeedError>> + 'a>>;

/// Where the feed is read: the issuer over the network ([`HttpFeed`]), or its database in the
/// standalone process.
pub trait FeedSource: Send + Sync {
    /// The page of the feed after `seq` `after`.
    fn read(&self, after: i64) -> FeedFuture<'_>;
}

/// The issuer's `GET /internal/session-ends`, with the services' credential.
pub struct HttpFeed {
    client: reqwest::Client,
    url: String,
    bearer: String,
}

impl HttpFeed {
    pub fn new(url: String, secret: &Secret) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client with timeouts builds");
        let bearer = String::from_utf8_lossy(secret.expose()).into_owned();
        Self {
            client,
            url,
            bearer,
        }
    }
}

impl FeedSource for HttpFeed {
    fn read(&self, after: i64) -> FeedFuture<'_> {
        Box::pin(async move {
            let response = self
                .client
                .get(&self.url)
                .query(&[("after", after)])
                .bearer_auth(&self.bearer)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(reqwest::Error::without_url)?;
            Ok(response.json().await?)
        })
    }
}

/// Keeps [`EndedSessions`] and the tasks of deleted accounts up to date with a [`FeedSource`].
pub struct Follower {
    ended: Arc<EndedSessions>,
    source: Box<dyn FeedSource>,
    pool: Pool,
}

impl Follower {
    /// Follows `source` into `ended`, deleting deleted accounts' tasks in `pool`.
    pub fn new(ended: Arc<EndedSessions>, source: Box<dyn FeedSource>, pool: Pool) -> Self {
        Self {
            ended,
            source,
            pool,
        }
    }

    /// Reads the feed to its end: the tasks of each deleted account are deleted before the
    /// feed is read past its deletion, and every ended session is refused from then on. A
    /// failure is logged, and the next call tries again: meanwhile the sessions known to have
    /// ended stay refused, and the others are served until the staleness bound.
    pub async fn catch_up(&self) {
        if let Err(e) = self.read_to_end().await {
            self.ended.read_failures.inc();
            log::warn!("could not catch up with the session feed: {e}");
        }
    }

    async fn read_to_end(&self) -> Result<(), FeedError> {
        loop {
            let page = self.source.read(self.ended.cursor()).await?;
            let deleted: Vec<_> = page
                .ends
                .iter()
                .filter_map(DeletedAccount::from_feed)
                .collect();
            if !deleted.is_empty() {
                database::write(&self.pool, move |conn| db::apply_deletions(conn, &deleted))
                    .await?;
            }
            self.ended.learn(&page, chrono::Utc::now().timestamp());
            if !page.more {
                return Ok(());
            }
        }
    }

    /// Catches up every [`POLL_INTERVAL`], for as long as the process runs.
    pub async fn follow(self: Arc<Self>) {
        loop {
            self.catch_up().await;
            actix_rt::time::sleep(POLL_INTERVAL).await;
        }
    }
}
