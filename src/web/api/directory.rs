//! Members and users.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use crate::app::members::{self, MemberOut};
use crate::app::users::{self, UserOut};
use crate::domain::member::MemberInput;
use crate::domain::user::UserInput;
use crate::error::AppResult;
use crate::store::members::MemberFilter;
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct MemberQuery {
    /// Include archived members.
    #[serde(default)]
    include_archived: bool,
    /// Part of the name.
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/members", tag = "members", params(MemberQuery), responses((status = 200, body = Vec<MemberOut>)))]
pub async fn list_members(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<MemberQuery>,
) -> AppResult<Json<Vec<MemberOut>>> {
    let filter = MemberFilter {
        include_archived: q.include_archived,
        ids: None,
        search: q.q,
    };
    Ok(Json(
        s.db.run(move |c| {
            Ok(members::list(c, &a, &filter)?
                .iter()
                .map(|m| MemberOut::of(m, &a))
                .collect())
        })
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/members", tag = "members", request_body = MemberInput,
    responses((status = 201, body = MemberOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<MemberInput>,
) -> AppResult<(StatusCode, Json<MemberOut>)> {
    let now = s.now();
    let out =
        s.db.run(move |c| Ok(MemberOut::of(&members::create(c, &a, &input, now)?, &a)))
            .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members", params(("id" = i64, Path)),
    responses((status = 200, body = MemberOut), (status = 404, body = super::Problem)))]
pub async fn get_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<MemberOut>> {
    Ok(Json(
        s.db.run(move |c| Ok(MemberOut::of(&members::get(c, &a, id)?, &a)))
            .await?,
    ))
}

/// JSON merge patch (RFC 7396) over the member's fields.
#[utoipa::path(patch, path = "/api/v1/members/{id}", tag = "members", params(("id" = i64, Path)), request_body = Value,
    responses((status = 200, body = MemberOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<Json<MemberOut>> {
    let now = s.now();
    Ok(Json(
        s.db.run(move |c| Ok(MemberOut::of(&members::patch(c, &a, id, patch, now)?, &a)))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/members/{id}/archive", tag = "members", params(("id" = i64, Path)), responses((status = 200, body = MemberOut)))]
pub async fn archive_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<MemberOut>> {
    let now = s.now();
    Ok(Json(
        s.db.run(move |c| {
            Ok(MemberOut::of(
                &members::set_archived(c, &a, id, true, now)?,
                &a,
            ))
        })
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/members/{id}/restore", tag = "members", params(("id" = i64, Path)), responses((status = 200, body = MemberOut)))]
pub async fn restore_member(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<MemberOut>> {
    let now = s.now();
    Ok(Json(
        s.db.run(move |c| {
            Ok(MemberOut::of(
                &members::set_archived(c, &a, id, false, now)?,
                &a,
            ))
        })
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<UserOut>)))]
pub async fn list_users(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Vec<UserOut>>> {
    Ok(Json(
        s.db.run(move |c| Ok(users::list(c, &a)?.iter().map(UserOut::from).collect()))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = UserOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<UserInput>,
) -> AppResult<(StatusCode, Json<UserOut>)> {
    let now = s.now();
    let out =
        s.db.run(move |c| Ok(UserOut::from(&users::create(c, &a, &input, now)?)))
            .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserOut), (status = 404, body = super::Problem)))]
pub async fn get_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<UserOut>> {
    Ok(Json(
        s.db.run(move |c| Ok(UserOut::from(&users::get(c, &a, id)?)))
            .await?,
    ))
}

/// JSON merge patch over email, name, password, roles, memberships, active.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = Value,
    responses((status = 200, body = UserOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_user(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<Json<UserOut>> {
    let now = s.now();
    Ok(Json(
        s.db.run(move |c| Ok(UserOut::from(&users::patch(c, &a, id, patch, now)?)))
            .await?,
    ))
}
