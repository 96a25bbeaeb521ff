//! The security journal (administrators only).

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::app::audit::{self, AuditEventView, AuditQuery};
use crate::error::AppResult;
use crate::web::extract::{ApiActor, ApiQuery};
use crate::web::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Events the filters keep, in all.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// Newest first.
    pub events: Vec<AuditEventView>,
}

/// Security events, newest first, fifty a page: sign-ins (failed, throttled, succeeded),
/// password resets, API tokens, role changes, (de)activations, sessions ended.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = super::Problem),
        (status = 401, body = super::Problem), (status = 403, body = super::Problem)))]
pub async fn list_audit(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<AuditPage>> {
    let page = audit::list(&s.app, &a, &q)
        .await
        .map_err(|e| e.in_query())?;
    let number = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1);
    Ok(Json(AuditPage {
        total: page.total,
        page: number,
        per_page: audit::PAGE_SIZE,
        events: page.items,
    }))
}
