//! Classification of Atlantic HTTP responses and transport errors into [`AtlanticError`]s,
//! with the API key removed from every message.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::AtlanticConfig;
use crate::prover::api::ApiErrorBody;
use crate::prover::api_key::ApiKey;
use crate::prover::error::AtlanticError;

/// Maximum number of response-body characters kept in error messages.
const BODY_EXCERPT_CHARS: usize = 300;

/// Reads the body and turns transport errors, non-2xx statuses and HTML pages into errors.
pub(super) async fn read_body(
    operation: &'static str,
    response: Result<Response, reqwest::Error>,
    config: &AtlanticConfig,
) -> Result<(StatusCode, String), AtlanticError> {
    let response = response.map_err(|error| transport_error(operation, error, config))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .text()
        .await
        .map_err(|error| transport_error(operation, error, config))?;
    let body = config.api_key.redact(&body);

    if is_html(&headers, &body) {
        return Err(AtlanticError::HtmlResponse {
            operation,
            status: status.as_u16(),
        });
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(AtlanticError::RateLimited {
            operation,
            retry_after: retry_after(&headers),
        });
    }
    if status.is_server_error() {
        return Err(AtlanticError::ServerError {
            operation,
            status: status.as_u16(),
            body: excerpt(&body),
        });
    }
    if !status.is_success() {
        // A JSON message means the API itself rejected the request. Anything else came from
        // the infrastructure in front of it, so a retry may pass.
        return Err(match serde_json::from_str::<ApiErrorBody>(&body) {
            Ok(error) => AtlanticError::Rejected {
                operation,
                status: status.as_u16(),
                message: error.message,
            },
            Err(_) => AtlanticError::InvalidResponse {
                operation,
                status: status.as_u16(),
                message: format!("error body is not an API error: {}", excerpt(&body)),
            },
        });
    }
    Ok((status, body))
}

/// Parses a success body.
pub(super) fn parse_json<T: DeserializeOwned>(
    operation: &'static str,
    status: StatusCode,
    body: &str,
) -> Result<T, AtlanticError> {
    serde_json::from_str(body).map_err(|error| AtlanticError::InvalidResponse {
        operation,
        status: status.as_u16(),
        message: format!("{error}; body starts with {}", excerpt(body)),
    })
}

fn transport_error(
    operation: &'static str,
    error: reqwest::Error,
    config: &AtlanticConfig,
) -> AtlanticError {
    if error.is_timeout() {
        return AtlanticError::Timeout {
            operation,
            timeout: config.request_timeout,
        };
    }
    AtlanticError::Connection {
        operation,
        message: describe_transport_error(error, &config.api_key),
    }
}

/// Formats a reqwest error with its sources, without the URL (which may carry the key in a
/// query parameter) and with any remaining occurrence of the key replaced.
pub(super) fn describe_transport_error(error: reqwest::Error, api_key: &ApiKey) -> String {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    api_key.redact(&message)
}

/// Appends path segments to `base`, keeping any path it already has.
pub(super) fn join_url(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

fn is_html(headers: &HeaderMap, body: &str) -> bool {
    let content_type_html = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("text/html"));
    let trimmed = body.trim_start();
    content_type_html
        || trimmed.starts_with("<!")
        || trimmed.to_ascii_lowercase().starts_with("<html")
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

fn excerpt(body: &str) -> String {
    let mut excerpt: String = body.chars().take(BODY_EXCERPT_CHARS).collect();
    if excerpt.len() < body.len() {
        excerpt.push('…');
    }
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_url_keeps_base_path() {
        let base: Url = "http://127.0.0.1:1/v1/".parse().unwrap();
        assert_eq!(
            join_url(&base, &["atlantic-query", "q1"]).as_str(),
            "http://127.0.0.1:1/v1/atlantic-query/q1"
        );
        let base: Url = "http://127.0.0.1:1".parse().unwrap();
        assert_eq!(
            join_url(&base, &["atlantic-query"]).as_str(),
            "http://127.0.0.1:1/atlantic-query"
        );
    }

    #[test]
    fn html_is_detected_by_body_or_header() {
        let empty = HeaderMap::new();
        assert!(is_html(&empty, "  <!DOCTYPE html><html></html>"));
        assert!(is_html(&empty, "<HTML><body>404</body></HTML>"));
        assert!(!is_html(&empty, "{\"message\":\"<b>\"}"));
        let mut html = HeaderMap::new();
        html.insert(CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
        assert!(is_html(&html, "Not Found"));
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn excerpt_truncates_long_bodies() {
        let body = "x".repeat(BODY_EXCERPT_CHARS + 10);
        assert_eq!(excerpt(&body).chars().count(), BODY_EXCERPT_CHARS + 1);
        assert_eq!(excerpt("short"), "short");
    }
}
