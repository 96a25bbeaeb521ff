//! Resources and closures.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::app::closures::{self, ClosureOut};
use crate::app::resources::{self, ResourceOut};
use crate::domain::closure::ClosureInput;
use crate::domain::resource::{ResourceInput, ResourceKind};
use crate::error::{AppError, AppResult};
use crate::store::resources::ResourceFilter;
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ResourceQuery {
    /// room, desk, vehicle, equipment, staff
    kind: Option<String>,
    #[serde(default)]
    include_archived: bool,
    /// Part of the name.
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/resources", tag = "resources", params(ResourceQuery), responses((status = 200, body = Vec<ResourceOut>)))]
pub async fn list_resources(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> AppResult<Json<Vec<ResourceOut>>> {
    if let Some(k) = &q.kind {
        if ResourceKind::parse(k).is_none() {
            return Err(AppError::validation(
                "kind",
                "Type inconnu (room, desk, vehicle, equipment, staff).",
            ));
        }
    }
    let filter = ResourceFilter {
        kind: q.kind,
        include_archived: q.include_archived,
        search: q.q,
    };
    Ok(Json(
        s.db.run(move |c| {
            Ok(resources::list(c, &a, &filter)?
                .iter()
                .map(|r| ResourceOut::of(r, &a))
                .collect())
        })
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/resources", tag = "resources", request_body = ResourceInput,
    responses((status = 201, body = ResourceOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<ResourceInput>,
) -> AppResult<(StatusCode, Json<ResourceOut>)> {
    let now = s.now();
    let out =
        s.db.run(move |c| Ok(ResourceOut::of(&resources::create(c, &a, &input, now)?, &a)))
            .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(get, path = "/api/v1/resources/{id}", tag = "resources", params(("id" = i64, Path)),
    responses((status = 200, body = ResourceOut), (status = 404, body = super::Problem)))]
pub async fn get_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ResourceOut>> {
    Ok(Json(
        s.db.run(move |c| Ok(ResourceOut::of(&resources::get(c, &a, id)?, &a)))
            .await?,
    ))
}

/// JSON merge patch (RFC 7396) over the resource's fields.
#[utoipa::path(patch, path = "/api/v1/resources/{id}", tag = "resources", params(("id" = i64, Path)), request_body = Value,
    responses((status = 200, body = ResourceOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<Json<ResourceOut>> {
    let now = s.now();
    Ok(Json(
        s.db.run(move |c| {
            Ok(ResourceOut::of(
                &resources::patch(c, &a, id, patch, now)?,
                &a,
            ))
        })
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/archive", tag = "resources", params(("id" = i64, Path)), responses((status = 200, body = ResourceOut)))]
pub async fn archive_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ResourceOut>> {
    let now = s.now();
    Ok(Json(
        s.db.run(move |c| {
            Ok(ResourceOut::of(
                &resources::set_archived(c, &a, id, true, now)?,
                &a,
            ))
        })
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/restore", tag = "resources", params(("id" = i64, Path)), responses((status = 200, body = ResourceOut)))]
pub async fn restore_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ResourceOut>> {
    let now = s.now();
    Ok(Json(
        s.db.run(move |c| {
            Ok(ResourceOut::of(
                &resources::set_archived(c, &a, id, false, now)?,
                &a,
            ))
        })
        .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ClosureQuery {
    /// Closures of this resource and pole-wide ones.
    resource_id: Option<i64>,
    /// Only closures ending after this instant.
    from: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/v1/closures", tag = "closures", params(ClosureQuery), responses((status = 200, body = Vec<ClosureOut>)))]
pub async fn list_closures(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ClosureQuery>,
) -> AppResult<Json<Vec<ClosureOut>>> {
    Ok(Json(
        s.db.run(move |c| {
            Ok(closures::list(c, &a, q.resource_id, q.from)?
                .iter()
                .map(ClosureOut::from)
                .collect())
        })
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/closures", tag = "closures", request_body = ClosureInput,
    responses((status = 201, body = ClosureOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_closure(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<ClosureInput>,
) -> AppResult<(StatusCode, Json<ClosureOut>)> {
    let now = s.now();
    let tz = s.config.timezone;
    let out =
        s.db.run(move |c| Ok(ClosureOut::from(&closures::create(c, &a, &input, tz, now)?)))
            .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(delete, path = "/api/v1/closures/{id}", tag = "closures", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::Problem)))]
pub async fn delete_closure(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    s.db.run(move |c| closures::delete(c, &a, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
