//! Members and users.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use crate::app::members::{self, MemberQuery, MemberView};
use crate::app::users::{self, UserView};
use crate::domain::ids::{MemberId, UserId};
use crate::domain::member::MemberInput;
use crate::domain::user::UserInput;
use crate::error::{AppError, AppResult};
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::web::AppState;

#[utoipa::path(get, path = "/api/v1/members", tag = "members", params(MemberQuery), responses((status = 200, body = Vec<MemberView>), (status = 400, description = "invalid_query: a filter cannot be read", body = super::Problem)))]
pub async fn list_members(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<MemberQuery>,
) -> AppResult<Json<Vec<MemberView>>> {
    Ok(Json(
        members::list(&s.app, &a, q)
            .await
            .map_err(AppError::in_query)?,
    ))
}

#[utoipa::path(post, path = "/api/v1/members", tag = "members", request_body = MemberInput,
    responses((status = 201, body = MemberView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<MemberInput>,
) -> AppResult<(StatusCode, Json<MemberView>)> {
    Ok((
        StatusCode::CREATED,
        Json(members::create(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members", params(("id" = i64, Path)),
    responses((status = 200, body = MemberView), (status = 404, body = super::Problem)))]
pub async fn get_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<MemberId>,
) -> AppResult<Json<MemberView>> {
    Ok(Json(members::get(&s.app, &a, id).await?))
}

/// JSON merge patch (RFC 7396) over the member's fields.
#[utoipa::path(patch, path = "/api/v1/members/{id}", tag = "members", params(("id" = i64, Path)), request_body = super::MergePatch,
    responses((status = 200, body = MemberView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<MemberId>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<Json<MemberView>> {
    Ok(Json(members::patch(&s.app, &a, id, patch).await?))
}

#[utoipa::path(post, path = "/api/v1/members/{id}/archive", tag = "members", params(("id" = i64, Path)), responses((status = 200, body = MemberView)))]
pub async fn archive_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<MemberId>,
) -> AppResult<Json<MemberView>> {
    Ok(Json(members::set_archived(&s.app, &a, id, true).await?))
}

#[utoipa::path(post, path = "/api/v1/members/{id}/restore", tag = "members", params(("id" = i64, Path)), responses((status = 200, body = MemberView)))]
pub async fn restore_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<MemberId>,
) -> AppResult<Json<MemberView>> {
    Ok(Json(members::set_archived(&s.app, &a, id, false).await?))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<UserView>)))]
pub async fn list_users(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Vec<UserView>>> {
    Ok(Json(users::list(&s.app, &a).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = UserView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<UserInput>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(users::create(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 404, body = super::Problem)))]
pub async fn get_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<UserId>,
) -> AppResult<Json<UserView>> {
    Ok(Json(users::get(&s.app, &a, id).await?))
}

/// JSON merge patch over email, name, password, roles, memberships, active.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = super::MergePatch,
    responses((status = 200, body = UserView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<UserId>,
    ClientIp(ip): ClientIp,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<Json<UserView>> {
    Ok(Json(users::patch(&s.app, &a, id, patch, &ip).await?))
}
