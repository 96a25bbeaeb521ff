//! API sign-in: bearer tokens (issued, listed, revoked) and the current user.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::auth::{self, TokenView};
use crate::app::users::UserView;
use crate::error::AppResult;
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ClientIp};
use crate::web::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    #[schema(format = Email)]
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

/// Exchange e-mail and password for a bearer token (stored only as a hash).
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", security(()), request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn create_token(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<TokenRequest>,
) -> AppResult<Json<TokenResponse>> {
    let issued =
        auth::token_for_credentials(&s.app, &req.email, &req.password, &ip, req.name.as_deref())
            .await?;
    Ok(Json(TokenResponse {
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// The caller's tokens.
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Vec<TokenView>>> {
    Ok(Json(auth::list_tokens(&s.app, &a).await?))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::Problem)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ClientIp(ip): ClientIp,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    auth::revoke_token(&s.app, &a, id, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user, with roles and memberships.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = UserView)))]
pub async fn me(State(s): State<AppState>, ApiActor(a): ApiActor) -> AppResult<Json<UserView>> {
    Ok(Json(auth::me(&s.app, &a).await?))
}
