//! The error answers that several operations document, each described once: an operation names
//! one as `(status = 413, response = TooLarge)`, and the API document holds it under
//! `components/responses`. Every one is a [`Problem`](crate::http::Problem) in
//! `application/problem+json`.

use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};

/// A reusable problem+json response: a unit type per answer, named as the document names it.
#[macro_export]
macro_rules! reusable_problems {
    ($($(#[$meta:meta])* $name:ident = $description:literal;)*) => {
        $(
            $(#[$meta])*
            pub struct $name;

            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (&'r str, utoipa::openapi::RefOr<utoipa::openapi::response::Response>) {
                    (stringify!($name), $crate::responses::problem($description))
                }
            }
        )*
    };
}

/// A response described by `description` whose body is a `Problem`.
pub fn problem(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", content)
        .build()
        .into()
}

reusable_problems! {
    /// 400 from the JSON extractor.
    BadJson = "The body is not JSON";
    /// 413 from the payload limit.
    TooLarge = "Body over 64 KiB";
    /// 415 from the JSON extractor.
    NotJson = "Not application/json, or compressed";
    /// 422 naming each field at fault.
    InvalidField = "A field is invalid";
    /// 503 with `Retry-After`.
    DatabaseUnreachable = "Database unreachable";
}
