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

/// Largest request body any API call accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn too_large() -> AppError {
    AppError::TooLarge(format!("request bodies are limited to {MAX_BODY_BYTES} bytes"))
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
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return too_large().into_response();
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) if is_length_limit(&err) => return too_large().into_response(),
        Err(_) => return AppError::InvalidInput("the request body could not be read".into()).into_response(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
