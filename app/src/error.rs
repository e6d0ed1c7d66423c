//! `AppError`: the one error type of Baton's API, on both the server and the WASM side.
//!
//! On the wire every error is `{"error": {"code": "...", "message": "..."}}` with the
//! HTTP status that belongs to its code (see `../shared/API.md`). Codes are stable
//! snake_case strings the UI can match on; messages are for people.

use serde::{Deserialize, Serialize};
use server_fn_compat::{FromServerFnError, JsonEncoding, ServerFnErrorErr};

/// Re-exports under one name so the rest of this file reads the same on both targets.
mod server_fn_compat {
    pub use leptos::server_fn::codec::JsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[derive(Serialize, Deserialize)]
#[serde(into = "ErrorBody", from = "ErrorBody")]
pub enum AppError {
    /// 400: empty text, a bad email, malformed JSON, an unknown frame.
    #[error("{0}")]
    InvalidInput(String),
    /// 401: no session, or a wrong visitor token.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// 404: also for ids of another workspace or another visitor's conversation.
    #[error("not found")]
    NotFound,
    /// 409: claim lost, reply without the claim, wrong state.
    #[error("{0}")]
    Conflict(String),
    /// 413: over a size limit.
    #[error("{0}")]
    TooLarge(String),
    /// 422: a help desk (or another outside service) refused what the admin entered;
    /// the message says what is wrong in plain words.
    #[error("{0}")]
    VerificationFailed(String),
    /// 429: slow down; retry after this many seconds.
    #[error("too many requests: try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 503: a dependency (the database) is not answering.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a fault on our side. The cause is logged on the server, never sent.
    #[error("something went wrong on our side; please try again")]
    Internal,
    /// The browser could not reach the server at all. Never sent by the server.
    #[error("cannot reach Baton: {0}")]
    Network(String),
}

impl AppError {
    /// A fault on our side (storage, a dependency): `err` is logged with its cause,
    /// the caller only learns that something went wrong.
    #[cfg(feature = "ssr")]
    pub fn internal(err: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %err, "internal error");
        AppError::Internal
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::InvalidInput(_) => "invalid_input",
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge(_) => "too_large",
            AppError::VerificationFailed(_) => "verification_failed",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal => "internal",
            AppError::Network(_) => "network",
        }
    }

    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::InvalidInput(_) => S::BAD_REQUEST,
            AppError::Unauthenticated(_) => S::UNAUTHORIZED,
            AppError::Forbidden(_) => S::FORBIDDEN,
            AppError::NotFound => S::NOT_FOUND,
            AppError::Conflict(_) => S::CONFLICT,
            AppError::TooLarge(_) => S::PAYLOAD_TOO_LARGE,
            AppError::VerificationFailed(_) => S::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => S::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => S::SERVICE_UNAVAILABLE,
            AppError::Internal | AppError::Network(_) => S::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The wire shape: `{"error": {"code", "message", "retry_after"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl From<AppError> for ErrorBody {
    fn from(err: AppError) -> Self {
        let retry_after = match err {
            AppError::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        ErrorBody {
            error: ErrorDetail { code: err.code().to_owned(), message: err.to_string(), retry_after },
        }
    }
}

impl From<ErrorBody> for AppError {
    fn from(body: ErrorBody) -> Self {
        let ErrorDetail { code, message, retry_after } = body.error;
        match code.as_str() {
            "invalid_input" => AppError::InvalidInput(message),
            "unauthenticated" => AppError::Unauthenticated(message),
            "forbidden" => AppError::Forbidden(message),
            "not_found" => AppError::NotFound,
            "conflict" => AppError::Conflict(message),
            "too_large" => AppError::TooLarge(message),
            "verification_failed" => AppError::VerificationFailed(message),
            "rate_limited" => AppError::RateLimited { retry_after_secs: retry_after.unwrap_or(1) },
            "unavailable" => AppError::Unavailable(message),
            "network" => AppError::Network(message),
            _ => AppError::Internal,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request body could not be read as this call's arguments: `wire::read`
            // already said why in plain words.
            ServerFnErrorErr::Deserialization(msg) if cfg!(feature = "ssr") => AppError::InvalidInput(msg),
            ServerFnErrorErr::Args(msg)
            | ServerFnErrorErr::MissingArg(msg)
            | ServerFnErrorErr::Deserialization(msg) => {
                AppError::InvalidInput(format!("malformed request: {msg}"))
            }
            // On the server a request error means the body could not be read; in the
            // browser, that the server could not be reached.
            ServerFnErrorErr::Request(msg) if cfg!(feature = "ssr") => {
                AppError::InvalidInput(format!("could not read the request: {msg}"))
            }
            ServerFnErrorErr::Request(msg) | ServerFnErrorErr::Response(msg) => AppError::Network(msg),
            _ => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = self.status();
        let retry_after = match self {
            AppError::RateLimited { retry_after_secs } => Some(retry_after_secs),
            _ => None,
        };
        let mut response = (status, axum::Json(ErrorBody::from(self))).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips_through_its_wire_shape() {
        let all = [
            AppError::InvalidInput("text is empty".into()),
            AppError::Unauthenticated("sign in first".into()),
            AppError::Forbidden("admins only".into()),
            AppError::NotFound,
            AppError::Conflict("Ana holds this conversation".into()),
            AppError::TooLarge("over 4000 characters".into()),
            AppError::VerificationFailed("Zendesk refused the API token".into()),
            AppError::RateLimited { retry_after_secs: 7 },
            AppError::Unavailable("database is not answering".into()),
            AppError::Internal,
        ];
        for err in all {
            let json = serde_json::to_string(&err).unwrap();
            let back: AppError = serde_json::from_str(&json).unwrap();
            assert_eq!(back, err, "{json}");
        }
    }

    #[test]
    fn wire_shape_matches_the_api_contract() {
        let json = serde_json::to_value(AppError::RateLimited { retry_after_secs: 3 }).unwrap();
        assert_eq!(json["error"]["code"], "rate_limited");
        assert_eq!(json["error"]["retry_after"], 3);
        assert!(json["error"]["message"].as_str().unwrap().contains("3 s"));
    }

    #[test]
    fn unknown_codes_become_internal_not_a_panic() {
        let back: AppError =
            serde_json::from_str(r#"{"error":{"code":"teapot","message":"short and stout"}}"#).unwrap();
        assert_eq!(back, AppError::Internal);
    }
}
