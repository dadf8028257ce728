//! The issuer's feed of ended sessions (`GET /internal/session-ends?after=N`), as the issuer
//! writes it and tasks-api reads it.

use serde::{Deserialize, Serialize};

/// One answer of the feed: the ends after the reader's `seq`, oldest first.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    pub ends: Vec<FeedEntry>,
    /// Whether more ends follow this page.
    pub more: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub seq: i64,
    pub user_id: String,
    /// The ended session; `null` when the account was deleted.
    pub session_id: Option<String>,
    /// When no token of the session (or of the deleted account) can still be accepted, leeway
    /// included (seconds since the epoch): a verifier refuses them until then. An account's
    /// deletion stays in the feed after it, for a reader that has still to delete its data.
    pub forget_after: i64,
}
