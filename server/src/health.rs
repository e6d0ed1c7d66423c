//! Liveness and readiness probes for load balancers and orchestrators.

use axum::{extract::State, Json};
use serde_json::{json, Value};

use app::AppError;

use crate::startup::AppState;

/// 200 while the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 when the database answers, 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(AppError::Unavailable("the database is not answering".to_owned()))
        }
    }
}
