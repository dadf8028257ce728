//! Any bytes as a request body of every route that reads one: `parse_json` and the conversion to
//! the domain values never panic, and every refusal is a 400 (not JSON) or a 422 that names at
//! least one field.
#![no_main]

use issuer::domain::{Credentials, NewAccount, SignInRequest, SignUpRequest};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use service::http::{Problem, parse_json};
use tasks_api::domain::{CreateTaskRequest, NewTask, TaskChanges, UpdateTaskRequest};

fn check<Request, Value>(data: &[u8])
where
    Request: DeserializeOwned,
    Value: TryFrom<Request, Error = Problem>,
{
    let refusal = match parse_json::<Request>(data) {
        Ok(request) => match Value::try_from(request) {
            Ok(_) => return,
            Err(problem) => problem,
        },
        Err(problem) => problem,
    };
    match refusal.status().as_u16() {
        400 => assert!(refusal.errors().is_empty()),
        422 => assert!(!refusal.errors().is_empty(), "a 422 names the field"),
        other => panic!("a body got {other}"),
    }
}

fuzz_target!(|data: &[u8]| {
    check::<SignUpRequest, NewAccount>(data);
    check::<SignInRequest, Credentials>(data);
    check::<CreateTaskRequest, NewTask>(data);
    check::<UpdateTaskRequest, TaskChanges>(data);
});
