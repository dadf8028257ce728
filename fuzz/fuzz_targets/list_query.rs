//! Any query string for the task list, decoded as actix decodes it: never a panic, and what is
//! accepted stays within the documented ranges.
#![no_main]

use actix_web::web::Query;
use libfuzzer_sys::fuzz_target;
use tasks_api::domain::{ListFilter, ListQuery, MAX_LIMIT};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(query) = Query::<ListQuery>::from_query(text) else {
        return;
    };
    match ListFilter::try_from(query.into_inner()) {
        Ok(filter) => {
            assert!((1..=MAX_LIMIT).contains(&filter.limit));
            assert!(filter.offset >= 0);
        }
        Err(problem) => {
            assert_eq!(problem.status().as_u16(), 422);
            assert!(!problem.errors().is_empty());
        }
    }
});
