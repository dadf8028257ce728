//! tasks-api's request values. Each type's only constructor validates; lengths are counted in
//! characters, not bytes.

use serde::{Deserialize, Deserializer};
use service::http::{Problem, field};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_LIMIT: i64 = 500;
pub const DEFAULT_LIMIT: i64 = 100;

/// A task title: trimmed, 1 to 200 characters, no control characters, not made only of
/// characters that show nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let title = raw.trim();
        if service::text::shows_nothing(title) {
            return Err("must not be empty");
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err("must be at most 200 characters");
        }
        if title.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(title.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A task description: at most 2000 characters, kept as written; only NUL is refused (no
/// database can store it in text), so line breaks and tabs survive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDescription(String);

impl TaskDescription {
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        if raw.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err("must be at most 2000 characters");
        }
        if raw.contains('\0') {
            return Err("must not contain NUL characters");
        }
        Ok(Self(raw))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A task id from the path. Anything but a positive integer names no task (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskId(pub i64);

impl TaskId {
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = raw.as_bytes();
        if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        raw.parse().ok().filter(|id| *id > 0).map(Self)
    }
}

/// A field a route does not take is refused by name, never dropped: a typo such as `titel`
/// must not pass as "absent".
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskRequest {
    #[schema(example = "Buy milk", min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(example = "Two litres", max_length = 2000, nullable)]
    pub description: Option<String>,
}

/// An absent field stays as it is. `description` distinguishes absent (stays) from `null`
/// (clears); `title` and `completed` cannot be null, so `null` for them is refused rather than
/// read as absent.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000, nullable)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub completed: Option<bool>,
}

/// Deserializes a field that is present into `Some(..)`, whatever `T` takes (`null` only where
/// `T` is itself an `Option`); `default` leaves an absent one `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

pub struct NewTask {
    pub title: TaskTitle,
    pub description: Option<TaskDescription>,
}

#[derive(Default)]
pub struct TaskChanges {
    pub title: Option<TaskTitle>,
    pub description: Option<Option<TaskDescription>>,
    pub completed: Option<bool>,
}

impl TaskChanges {
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.completed.is_none()
    }
}

impl TryFrom<CreateTaskRequest> for NewTask {
    type Error = Problem;

    fn try_from(request: CreateTaskRequest) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        let title = field("title", TaskTitle::parse(&request.title), &mut errors);
        let description = field(
            "description",
            request.description.map(TaskDescription::parse).transpose(),
            &mut errors,
        );
        match (title, description) {
            (Some(title), Some(description)) => Ok(Self { title, description }),
            _ => Err(Problem::validation(errors)),
        }
    }
}

impl TryFrom<UpdateTaskRequest> for TaskChanges {
    type Error = Problem;

    fn try_from(request: UpdateTaskRequest) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        let title = field(
            "title",
            request.title.as_deref().map(TaskTitle::parse).transpose(),
            &mut errors,
        );
        let description = field(
            "description",
            request
                .description
                .map(|d| d.map(TaskDescription::parse).transpose())
                .transpose(),
            &mut errors,
        );
        match (title, description) {
            (Some(title), Some(description)) if errors.is_empty() => Ok(Self {
                title,
                description,
                completed: request.completed,
            }),
            _ => Err(Problem::validation(errors)),
        }
    }
}

/// The list query as it arrives: strings, so that a bad value is a 422 naming the parameter
/// rather than a generic 400.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true` or `false`
    #[param(value_type = Option<bool>)]
    pub completed: Option<String>,
    /// 1 to 500, default 100
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// 0 or more, default 0
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListFilter {
    pub completed: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

impl TryFrom<ListQuery> for ListFilter {
    type Error = Problem;

    fn try_from(query: ListQuery) -> Result<Self, Problem> {
        let mut errors = Vec::new();
        let completed = field(
            "completed",
            query
                .completed
                .as_deref()
                .map(|v| match v {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err("must be true or false"),
                })
                .transpose(),
            &mut errors,
        );
        let limit = field(
            "limit",
            query.limit.as_deref().map_or(Ok(DEFAULT_LIMIT), |v| {
                v.parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or("must be an integer from 1 to 500")
            }),
            &mut errors,
        );
        let offset = field(
            "offset",
            query.offset.as_deref().map_or(Ok(0), |v| {
                v.parse()
                    .ok()
                    .filter(|n: &i64| *n >= 0)
                    .ok_or("must be an integer of 0 or more")
            }),
            &mut errors,
        );
        match (completed, limit, offset) {
            (Some(completed), Some(limit), Some(offset)) => Ok(Self {
                completed,
                limit,
                offset,
            }),
            _ => Err(Problem::validation(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_title_is_trimmed_and_limited_in_characters() {
        assert_eq!(
            TaskTitle::parse("  Buy milk ").unwrap().into_inner(),
            "Buy milk"
        );
        assert!(TaskTitle::parse(&"é".repeat(200)).is_ok());
        assert!(TaskTitle::parse(&"é".repeat(201)).is_err());
        assert!(TaskTitle::parse(" \t\n").is_err());
        assert!(TaskTitle::parse("nul\0byte").is_err());
    }

    #[test]
    fn a_title_that_shows_nothing_is_refused_and_one_that_shows_something_is_kept_whole() {
        for blank in ["\u{200B}", " \u{200D}\u{FEFF} ", "\u{00AD}\u{2060}\u{200E}"] {
            assert!(TaskTitle::parse(blank).is_err(), "{blank:?}");
        }
        assert_eq!(
            TaskTitle::parse("👩\u{200D}💻 code").unwrap().into_inner(),
            "👩\u{200D}💻 code"
        );
    }

    #[test]
    fn a_description_keeps_its_text_and_is_limited_in_characters() {
        assert_eq!(
            TaskDescription::parse(" line\n\tnext ".into())
                .unwrap()
                .into_inner(),
            " line\n\tnext "
        );
        assert!(TaskDescription::parse("🦀".repeat(2000)).is_ok());
        assert!(TaskDescription::parse("🦀".repeat(2001)).is_err());
        assert!(TaskDescription::parse("a\0b".into()).is_err());
    }

    #[test]
    fn only_positive_integers_are_task_ids() {
        assert_eq!(TaskId::parse("42"), Some(TaskId(42)));
        for raw in [
            "0",
            "-1",
            "+1",
            "1.0",
            "abc",
            "",
            " 1",
            "99999999999999999999",
            "١",
        ] {
            assert_eq!(TaskId::parse(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn an_absent_description_differs_from_a_null_one() {
        let absent: UpdateTaskRequest = serde_json::from_str(r#"{"title": "x"}"#).unwrap();
        assert_eq!(absent.description, None);
        let null: UpdateTaskRequest = serde_json::from_str(r#"{"description": null}"#).unwrap();
        assert_eq!(null.description, Some(None));
    }

    #[test]
    fn list_parameters_out_of_range_are_named() {
        let query = ListQuery {
            completed: Some("yes".into()),
            limit: Some("0".into()),
            offset: Some("-1".into()),
        };
        let problem = ListFilter::try_from(query).err().unwrap();
        let fields: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["completed", "limit", "offset"]);
    }

    proptest! {
        #[test]
        fn any_trimmed_title_of_1_to_200_characters_is_itself(core in "[^\\s\\p{Cc}\\p{Cf}]([^\\p{Cc}]{0,198}[^\\s\\p{Cc}])?", pad in "[ \t\n]{0,4}") {
            let title = TaskTitle::parse(&format!("{pad}{core}{pad}")).unwrap();
            prop_assert_eq!(title.into_inner(), core);
        }

        #[test]
        fn whitespace_alone_is_never_a_title(s in "\\s{0,30}") {
            prop_assert!(TaskTitle::parse(&s).is_err());
        }

        #[test]
        fn any_limit_in_range_is_taken_and_any_outside_refused(n in -1000i64..1000) {
            let query = ListQuery { completed: None, limit: Some(n.to_string()), offset: None };
            prop_assert_eq!(ListFilter::try_from(query).is_ok(), (1..=500).contains(&n));
        }
    }
}
