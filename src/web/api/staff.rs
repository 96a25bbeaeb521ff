//! Shared employees of employer groups.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use crate::app::employees::{self, EmployeeQuery, EmployeeView};
use crate::domain::employee::EmployeeInput;
use crate::domain::ids::ResourceId;
use crate::error::AppResult;
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

/// Employees the caller may see; `skill` finds those with a skill (« chariot »).
#[utoipa::path(get, path = "/api/v1/employees", tag = "staff", params(EmployeeQuery),
    responses((status = 200, body = Vec<EmployeeView>), (status = 401, body = super::Problem)))]
pub async fn list_employees(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<EmployeeQuery>,
) -> AppResult<Json<Vec<EmployeeView>>> {
    Ok(Json(employees::list(&s.app, &a, q).await?))
}

/// A new employee of an employer group (its managers and administrators).
#[utoipa::path(post, path = "/api/v1/employees", tag = "staff", request_body = EmployeeInput,
    responses((status = 201, body = EmployeeView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<EmployeeInput>,
) -> AppResult<(StatusCode, Json<EmployeeView>)> {
    Ok((
        StatusCode::CREATED,
        Json(employees::create(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/employees/{id}", tag = "staff", params(("id" = i64, Path)),
    responses((status = 200, body = EmployeeView), (status = 404, body = super::Problem)))]
pub async fn get_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<EmployeeView>> {
    Ok(Json(employees::get(&s.app, &a, id).await?))
}

/// JSON merge patch (RFC 7396) over the employee's fields.
#[utoipa::path(patch, path = "/api/v1/employees/{id}", tag = "staff", params(("id" = i64, Path)), request_body = Value,
    responses((status = 200, body = EmployeeView), (status = 403, body = super::Problem), (status = 404, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<Json<EmployeeView>> {
    Ok(Json(employees::patch(&s.app, &a, id, patch).await?))
}

#[utoipa::path(post, path = "/api/v1/employees/{id}/archive", tag = "staff", params(("id" = i64, Path)),
    responses((status = 200, body = EmployeeView), (status = 403, body = super::Problem)))]
pub async fn archive_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<EmployeeView>> {
    Ok(Json(employees::set_archived(&s.app, &a, id, true).await?))
}

#[utoipa::path(post, path = "/api/v1/employees/{id}/restore", tag = "staff", params(("id" = i64, Path)),
    responses((status = 200, body = EmployeeView), (status = 403, body = super::Problem)))]
pub async fn restore_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<EmployeeView>> {
    Ok(Json(employees::set_archived(&s.app, &a, id, false).await?))
}
