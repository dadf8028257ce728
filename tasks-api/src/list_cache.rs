//! The pages of task lists that tasks-api has written out, kept so that a list that has not
//! changed is sent again without reading its rows or writing its JSON: most of a list request's
//! work (the figures, with and without it, are in bench/RESULTS.md).
//!
//! A page is kept with the version its user's list had when it was read (`task_lists`: a random
//! number that triggers set anew in the transaction of every write to `tasks`, whoever makes
//! it), and is sent again only while the database still holds that version. Each request reads
//! the version, one primary-key lookup, so no page outlives a change: not one made through this
//! process, through another replica, or by hand. Being random rather than a count, a version
//! never comes back after a restore from an older backup with other rows behind it.

use crate::auth::Owner;
use crate::db::{self, Task};
use crate::domain::ListFilter;
use crate::error::ApiError;
use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use database::Pool;
use quick_cache::{Equivalent, Weighter, sync::Cache};
use std::sync::Arc;

/// One page of a user's list as sent: its JSON body and its `X-Total-Count`.
pub struct Page {
    pub body: Bytes,
    pub total: HeaderValue,
    /// The version of the user's list that the page shows.
    version: i64,
}

#[derive(Hash, PartialEq, Eq)]
struct Key {
    user_id: String,
    filter: ListFilter,
}

/// A [`Key`] borrowed, so that a lookup allocates nothing. It hashes as the key does: the same
/// fields in the same order, `&str` as `String`.
#[derive(Hash)]
struct KeyRef<'a> {
    user_id: &'a str,
    filter: &'a ListFilter,
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.user_id == key.user_id && *self.filter == key.filter
    }
}

/// A page weighs what it holds, plus about what the cache keeps beside it.
#[derive(Clone)]
struct Size;

impl Weighter<Key, Arc<Page>> for Size {
    fn weight(&self, key: &Key, page: &Arc<Page>) -> u64 {
        (key.user_id.len() + page.body.len() + page.total.len() + 128) as u64
    }
}

/// What the database said of a kept page.
enum Read {
    Unchanged(Arc<Page>),
    Changed {
        /// The version read before the rows.
        version: i64,
        /// Whether the list was still at `version` after its rows were read.
        keep: bool,
        tasks: Vec<Task>,
        total: i64,
    },
}

pub struct ListCache {
    pages: Cache<Key, Arc<Page>, Size>,
}

impl ListCache {
    /// A cache that holds at most `bytes` of pages (0: none), evicting the least used first.
    pub fn new(bytes: u64) -> Self {
        // A page of 20 tasks is about 4 KiB.
        let pages = usize::try_from(bytes / 4096).unwrap_or(usize::MAX).max(1);
        Self {
            pages: Cache::with_weighter(pages, bytes, Size),
        }
    }

    /// The page of the owner's tasks that `filter` selects: the kept one while the list is still
    /// at its version, or else one read now, written out by `write` and kept.
    pub async fn page(
        &self,
        pool: &Pool,
        owner: &Owner,
        filter: ListFilter,
        write: impl FnOnce(&[Task]) -> serde_json::Result<Vec<u8>>,
    ) -> Result<Arc<Page>, ApiError> {
        let kept = self.pages.get(&KeyRef {
            user_id: owner.user_id(),
            filter: &filter,
        });
        let reader = owner.clone();
        let read = database::run(pool, move |conn| {
            let version = db::list_version(conn, &reader)?;
            if let Some(page) = kept.filter(|page| page.version == version) {
                return Ok(Read::Unchanged(page));
            }
            let (tasks, total) = db::list(conn, &reader, &filter)?;
            // A write between the two reads would leave rows newer than `version`: such a
            // page is sent, but kept only when the version still holds after the rows.
            let keep = db::list_version(conn, &reader)? == version;
            Ok(Read::Changed {
                version,
                keep,
                tasks,
                total,
            })
        })
        .await?;
        Ok(match read {
            Read::Unchanged(page) => page,
            Read::Changed {
                version,
                keep,
                tasks,
                total,
            } => {
                let page = Arc::new(Page {
                    body: write(&tasks)?.into(),
                    total: HeaderValue::from(total),
                    version,
                });
                if keep {
                    let key = Key {
                        user_id: owner.user_id().to_owned(),
                        filter,
                    };
                    self.pages.insert(key, page.clone());
                }
                page
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_key_hashes_and_compares_as_the_key_it_stands_for() {
        let hasher = quick_cache::DefaultHashBuilder::default();
        let filter = ListFilter {
            completed: Some(true),
            limit: 20,
            offset: 40,
        };
        let key = Key {
            user_id: "ada".into(),
            filter,
        };
        let same = KeyRef {
            user_id: "ada",
            filter: &filter,
        };
        assert_eq!(hasher.hash_one(&same), hasher.hash_one(&key));
        assert!(same.equivalent(&key));
        let other_page = ListFilter {
            offset: 0,
            ..filter
        };
        for other in [
            KeyRef {
                user_id: "bob",
                filter: &filter,
            },
            KeyRef {
                user_id: "ada",
                filter: &other_page,
            },
        ] {
            assert!(!other.equivalent(&key));
        }
    }
}
