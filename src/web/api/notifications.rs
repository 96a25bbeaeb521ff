//! Notifications and calendars: the caller's preferences, their calendar feeds (secret URLs),
//! and the mail outbox for administrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::app::feeds::{self, FeedRequest, FeedScope, FeedView};
use crate::app::notify::{self, Preferences};
use crate::app::outbox::{self, OutboxCounts, OutboxEntry};
use crate::error::AppResult;
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

/// A calendar feed with its secret URL.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedLink {
    pub id: i64,
    pub scope: FeedScope,
    pub scope_id: i64,
    pub name: String,
    /// The feed (text/calendar); whoever has it reads the feed.
    pub url: String,
    /// The same for one-click subscription.
    pub webcal_url: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn link(s: &AppState, f: FeedView) -> FeedLink {
    let (url, webcal_url) = crate::web::feeds::urls(&s.app.config().public_url, &f.token);
    FeedLink {
        id: f.id,
        scope: f.scope,
        scope_id: f.scope_id,
        name: f.name,
        url,
        webcal_url,
        created_at: f.created_at,
    }
}

/// Creates the caller's feed of a resource, member, employee or of their own bookings; posting
/// again regenerates the URL (the old one then answers 404).
#[utoipa::path(post, path = "/api/v1/feeds", tag = "calendars", request_body = FeedRequest,
    responses((status = 201, body = FeedLink), (status = 403, body = super::Problem), (status = 404, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_feed(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<FeedRequest>,
) -> AppResult<(StatusCode, Json<FeedLink>)> {
    let f = feeds::create(&s.app, &a, req).await?;
    Ok((StatusCode::CREATED, Json(link(&s, f))))
}

#[utoipa::path(get, path = "/api/v1/feeds", tag = "calendars",
    responses((status = 200, body = Vec<FeedLink>)))]
pub async fn list_feeds(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Vec<FeedLink>>> {
    let list = feeds::list(&s.app, &a).await?;
    Ok(Json(list.into_iter().map(|f| link(&s, f)).collect()))
}

#[utoipa::path(delete, path = "/api/v1/feeds/{id}", tag = "calendars", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::Problem)))]
pub async fn delete_feed(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    feeds::delete(&s.app, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications",
    responses((status = 200, body = Preferences)))]
pub async fn get_preferences(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Preferences>> {
    Ok(Json(notify::preferences(&s.app, &a).await?))
}

/// Which notifications the caller receives, and the reminder lead time (hours, or null).
#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "notifications", request_body = Preferences,
    responses((status = 200, body = Preferences), (status = 422, body = super::Problem)))]
pub async fn put_preferences(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(p): ApiJson<Preferences>,
) -> AppResult<Json<Preferences>> {
    Ok(Json(notify::save_preferences(&s.app, &a, p).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// pending, sent or dead; all when absent.
    #[serde(default)]
    #[param(inline, value_type = Option<super::doc::OutboxFilter>)]
    pub status: Option<String>,
    #[serde(default)]
    pub offset: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// The mail outbox, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "notifications", params(OutboxQuery),
    responses((status = 200, body = Vec<OutboxEntry>), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn list_outbox(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> AppResult<Json<Vec<OutboxEntry>>> {
    let status = outbox::parse_status(q.status.as_deref().unwrap_or(""))?;
    Ok(Json(
        outbox::list(
            &s.app,
            &a,
            status,
            q.offset.unwrap_or(0),
            q.limit.unwrap_or(100),
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/outbox/counts", tag = "notifications",
    responses((status = 200, body = OutboxCounts), (status = 403, body = super::Problem)))]
pub async fn outbox_counts(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<OutboxCounts>> {
    Ok(Json(outbox::counts(&s.app, &a).await?))
}

/// Puts a message set aside (or already sent) back in the queue.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/resend", tag = "notifications", params(("id" = i64, Path)),
    responses((status = 200, body = OutboxEntry), (status = 404, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn resend(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<OutboxEntry>> {
    Ok(Json(outbox::resend(&s.app, &a, id).await?))
}
