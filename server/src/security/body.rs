//! API request bodies are read whole, up to `MAX_BODY_BYTES`, before any call sees
//! them, so an oversized body is a 413 `too_large` however it is sent: with a
//! `Content-Length` (refused before it is read) or chunked (refused once the limit is
//! crossed), never a 400 from somewhere deeper.

use app::AppError;
use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::LengthLimitError;

/// Largest request body any API call accepts, but for a knowledge file's import.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest `settings/knowledge/import` body: a knowledge file of about a megabyte.
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024 + 4 * 1024;
const IMPORT_PATH: &str = "/api/v1/settings/knowledge/import";

fn too_large(limit: usize) -> AppError {
    AppError::TooLarge(format!("request bodies are limited to {limit} bytes"))
}

/// True when `err`, or anything it was caused by, is a body-length limit.
fn is_length_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<LengthLimitError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

pub async fn buffered_api_body(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = if request.uri().path() == IMPORT_PATH { MAX_IMPORT_BYTES } else { MAX_BODY_BYTES };
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large(limit).into_response();
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(err) if is_length_limit(&err) => return too_large(limit).into_response(),
        Err(_) => return AppError::InvalidInput("the request body could not be read".into()).into_response(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
