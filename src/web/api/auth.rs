//! API sign-in: bearer tokens (issued, listed, revoked) and the current user.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::{auth, users::UserOut};
use crate::error::{AppError, AppResult};
use crate::store::{auth as auth_store, from_db, users as user_store};
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ClientIp};
use crate::web::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    email: String,
    password: String,
    /// A label to recognise the token later (default "API").
    #[serde(default)]
    name: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    id: i64,
    name: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked: bool,
}

/// Exchange e-mail and password for a bearer token (stored only as a hash).
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()), request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn create_token(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<TokenRequest>,
) -> AppResult<Json<TokenResponse>> {
    let now = s.now();
    let issued =
        s.db.run(move |conn| {
            let actor = auth::authenticate(conn, &req.email, &req.password, &ip, now)?;
            auth::issue_token(
                conn,
                actor.user_id,
                req.name.as_deref().unwrap_or("API"),
                now,
            )
        })
        .await?;
    Ok(Json(TokenResponse {
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// The caller's tokens.
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth", responses((status = 200, body = Vec<TokenInfo>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Vec<TokenInfo>>> {
    let rows =
        s.db.run(move |conn| auth_store::list_tokens(conn, a.user_id))
            .await?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TokenInfo {
                id: t.id,
                name: t.name,
                created_at: from_db(t.created_at),
                expires_at: from_db(t.expires_at),
                last_used_at: t.last_used_at.map(from_db),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
    ))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::Problem)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    let now = s.now();
    let revoked = s
        .db
        .run(move |conn| auth_store::revoke_token(conn, a.user_id, id, crate::store::to_db(now)))
        .await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// The signed-in user, with roles and memberships.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = UserOut)))]
pub async fn me(State(s): State<AppState>, ApiActor(a): ApiActor) -> AppResult<Json<UserOut>> {
    let u =
        s.db.run(move |conn| {
            let user = user_store::find(conn, a.user_id)?;
            user_store::with_roles(conn, user)
        })
        .await?;
    Ok(Json(UserOut::from(&u)))
}
