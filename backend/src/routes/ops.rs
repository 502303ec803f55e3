//! Health and metrics for operators and load balancers.

use crate::error::AppError;
use crate::fanout::PubSubStatus;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use shared::HealthResponse;

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let db_ok = state
        .db
        .run(|conn| conn.batch_execute("SELECT 1").map_err(AppError::from))
        .await
        .is_ok();
    let pubsub = state.hub.pubsub_status();
    let healthy = db_ok && pubsub != PubSubStatus::Down;
    let body = HealthResponse {
        status: if healthy { "ok" } else { "unavailable" }.into(),
        db: if db_ok { "ok" } else { "down" }.into(),
        pubsub: pubsub.as_str().into(),
    };
    if healthy {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
