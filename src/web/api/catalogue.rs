//! Resources and closures.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use crate::app::closures::{self, ClosureQuery, ClosureView};
use crate::app::resources::{self, ResourceQuery, ResourceView};
use crate::domain::closure::ClosureInput;
use crate::domain::ids::ResourceId;
use crate::domain::resource::ResourceInput;
use crate::error::{AppError, AppResult};
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

#[utoipa::path(get, path = "/api/v1/resources", tag = "resources", params(ResourceQuery),
    responses((status = 200, body = Vec<ResourceView>), (status = 400, description = "invalid_query: a filter cannot be read", body = super::Problem)))]
pub async fn list_resources(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> AppResult<Json<Vec<ResourceView>>> {
    Ok(Json(
        resources::list(&s.app, &a, q)
            .await
            .map_err(AppError::in_query)?,
    ))
}

#[utoipa::path(post, path = "/api/v1/resources", tag = "resources", request_body = ResourceInput,
    responses((status = 201, body = ResourceView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<ResourceInput>,
) -> AppResult<(StatusCode, Json<ResourceView>)> {
    Ok((
        StatusCode::CREATED,
        Json(resources::create(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/resources/{id}", tag = "resources", params(("id" = i64, Path)),
    responses((status = 200, body = ResourceView), (status = 404, body = super::Problem)))]
pub async fn get_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<ResourceView>> {
    Ok(Json(resources::get(&s.app, &a, id).await?))
}

/// JSON merge patch (RFC 7396) over the resource's fields.
#[utoipa::path(patch, path = "/api/v1/resources/{id}", tag = "resources", params(("id" = i64, Path)), request_body = super::MergePatch,
    responses((status = 200, body = ResourceView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<Json<ResourceView>> {
    Ok(Json(resources::patch(&s.app, &a, id, patch).await?))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/archive", tag = "resources", params(("id" = i64, Path)), responses((status = 200, body = ResourceView)))]
pub async fn archive_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<ResourceView>> {
    Ok(Json(resources::set_archived(&s.app, &a, id, true).await?))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/restore", tag = "resources", params(("id" = i64, Path)), responses((status = 200, body = ResourceView)))]
pub async fn restore_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<ResourceView>> {
    Ok(Json(resources::set_archived(&s.app, &a, id, false).await?))
}

#[utoipa::path(get, path = "/api/v1/closures", tag = "closures", params(ClosureQuery), responses((status = 200, body = Vec<ClosureView>)))]
pub async fn list_closures(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ClosureQuery>,
) -> AppResult<Json<Vec<ClosureView>>> {
    Ok(Json(closures::list(&s.app, &a, q).await?))
}

#[utoipa::path(post, path = "/api/v1/closures", tag = "closures", request_body = ClosureInput,
    responses((status = 201, body = ClosureView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_closure(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<ClosureInput>,
) -> AppResult<(StatusCode, Json<ClosureView>)> {
    Ok((
        StatusCode::CREATED,
        Json(closures::create(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/closures/{id}", tag = "closures", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::Problem)))]
pub async fn delete_closure(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    closures::delete(&s.app, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
