//! What every tasks-api handler shares besides the token verifier: [`TasksApi`], made once at
//! start.

use crate::config::Config;
use crate::db::MIGRATIONS;
use crate::ended_sessions::EndedSessions;
use crate::list_cache::ListCache;
use database::Pool;
use service::{Readiness, StartupError};
use std::sync::Arc;

/// Everything a tasks-api handler needs besides the token verifier.
pub struct TasksApi {
    pub pool: Pool,
    pub lists: ListCache,
}

impl TasksApi {
    /// Connects (retrying while the database is not up yet) and migrates.
    pub fn connect(config: &Config) -> Result<Self, StartupError> {
        Ok(Self {
            pool: config.common.connect(&MIGRATIONS)?,
            lists: ListCache::new(config.list_cache_bytes),
        })
    }

    /// What tasks-api's `/ready` checks: its database, and with a session feed, that it has
    /// read it lately enough to serve a token.
    pub fn readiness(&self, ended: Option<&Arc<EndedSessions>>) -> Readiness {
        let readiness = Readiness::default().database(self.pool.clone(), &MIGRATIONS);
        match ended {
            Some(ended) => {
                let ended = ended.clone();
                readiness.check(
                    "The session feed has not been read lately: no token can be served",
                    move || ended.is_fresh(),
                )
            }
            None => readiness,
        }
    }
}
