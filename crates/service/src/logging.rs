//! Logs on `log` and `env_logger`: `RUST_LOG` says what (`info` by default), `LOG_FORMAT` how.
//! `text` (the default) is a line for people; `json` is one JSON object a line, for log shippers.
//! Either way a line written while a request is served carries its id.

use crate::observe::RequestId;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

impl Format {
    fn parse(value: Option<&str>) -> Result<Self, String> {
        match value {
            None | Some("text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(format!(
                "LOG_FORMAT must be `text` or `json`, not {other:?}"
            )),
        }
    }
}

/// Starts logging as `RUST_LOG` and `LOG_FORMAT` say; an unknown format is an error naming it.
pub fn init() -> Result<(), String> {
    let format = Format::parse(std::env::var("LOG_FORMAT").ok().as_deref())?;
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(move |out, record| {
            let time = out.timestamp_micros();
            let request_id = RequestId::current();
            let request_id = request_id.as_ref().map(RequestId::as_str);
            match format {
                Format::Text => {
                    let level = record.level();
                    write!(
                        out,
                        "[{time} {level:<5} {}] {}",
                        record.target(),
                        record.args()
                    )?;
                    match request_id {
                        Some(id) => writeln!(out, " request_id={id}"),
                        None => writeln!(out),
                    }
                }
                Format::Json => {
                    let line = serde_json::json!({
                        "time": time.to_string(),
                        "level": record.level().as_str(),
                        "target": record.target(),
                        "message": record.args().to_string(),
                        "request_id": request_id,
                    });
                    writeln!(out, "{line}")
                }
            }
        })
        .init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_text_json_or_an_error_naming_the_variable() {
        assert_eq!(Format::parse(None), Ok(Format::Text));
        assert_eq!(Format::parse(Some("text")), Ok(Format::Text));
        assert_eq!(Format::parse(Some("json")), Ok(Format::Json));
        let error = Format::parse(Some("JSON ")).unwrap_err();
        assert!(error.contains("LOG_FORMAT"), "{error}");
    }
}
