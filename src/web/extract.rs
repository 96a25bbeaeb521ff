//! Extractors: the signed-in actor for the API and for pages, CSRF-checked forms, and JSON,
//! path and query extractors whose rejections become problem+json.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;

use super::{Identity, ANON_CSRF_COOKIE};
use crate::app::auth::SessionActor;
use crate::app::authz::Actor;
use crate::error::AppError;

/// The caller of an API route, authenticated by a bearer token.
pub struct ApiActor(pub Arc<Actor>);

impl<S: Send + Sync> FromRequestParts<S> for ApiActor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Identity>() {
            Some(Identity::Token(actor)) => Ok(ApiActor(actor.clone())),
            _ => Err(AppError::Unauthorized(
                "Jeton d'accès manquant, expiré ou révoqué (en-tête Authorization: Bearer …)."
                    .into(),
            )),
        }
    }
}

/// A JSON body. Strings may not hold U+0000: PostgreSQL cannot store it and SQLite would, so
/// it is refused here, the same on both backends.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        if value_has_nul(&value) {
            return Err(nul_refused("body"));
        }
        match serde_json::from_value(value) {
            Ok(v) => Ok(ApiJson(v)),
            Err(e) => Err(AppError::validation("body", e.to_string())),
        }
    }
}

fn value_has_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(value_has_nul),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains('\0') || value_has_nul(v)),
        _ => false,
    }
}

/// Refusal of text holding U+0000 (`%00` in a URL, `\u0000` in JSON).
pub fn nul_refused(field: &str) -> AppError {
    AppError::validation(field, "Le caractère nul (U+0000) n'est pas accepté.")
}

/// Whether a JSON document holds U+0000 in a string (for bodies read by hand).
pub fn json_has_nul(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| value_has_nul(&v))
}

/// A URL part with an encoded U+0000.
fn url_has_nul(raw: &str) -> bool {
    raw.contains("%00")
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::TooLarge("Corps de requête trop volumineux (2 Mo au plus).".into());
        }
        match r {
            JsonRejection::JsonDataError(e) => AppError::validation("body", e.body_text()),
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
                "Le corps doit être du JSON (Content-Type: application/json).".into(),
            ),
            other => AppError::BadRequest(format!("JSON illisible : {}", other.body_text())),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; one that cannot be read names nothing that exists (404).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if url_has_nul(parts.uri.path()) {
            return Err(AppError::NotFound);
        }
        let axum::extract::Path(v) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(v))
    }
}

impl From<PathRejection> for AppError {
    fn from(_: PathRejection) -> Self {
        AppError::NotFound
    }
}

/// Query parameters; one that cannot be read is a bad request (400).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(url_has_nul) {
            return Err(nul_refused("query").in_query());
        }
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(v))
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest(format!("Paramètres invalides : {}", r.body_text()))
    }
}

/// The client address, for login throttling ("unknown" when the router is driven in-process).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

/// The signed-in user of a page; anonymous visitors are sent to the login page.
#[derive(Clone)]
pub struct PageActor(pub Arc<SessionActor>);

impl PageActor {
    pub fn actor(&self) -> &Actor {
        &self.0.actor
    }
    pub fn csrf(&self) -> &str {
        &self.0.csrf_token
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageActor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Identity>() {
            Some(Identity::Session(s)) => Ok(PageActor(s.clone())),
            _ => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let target = if next == "/" {
                    "/login".to_string()
                } else {
                    format!("/login?next={}", urlencode(next))
                };
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// An optional signed-in user (login and setup pages).
pub struct MaybePageActor(pub Option<Arc<SessionActor>>);

impl<S: Send + Sync> FromRequestParts<S> for MaybePageActor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybePageActor(match parts.extensions.get::<Identity>() {
            Some(Identity::Session(s)) => Some(s.clone()),
            _ => None,
        }))
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A form body whose `_csrf` field matched the session's token (or, before sign-in, the
/// anonymous CSRF cookie: double-submit). Forms may be repeated fields (checkbox lists).
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let expected = match parts.extensions.get::<Identity>() {
            Some(Identity::Session(s)) => Some(s.csrf_token.clone()),
            _ => CookieJar::from_request_parts(&mut parts, state)
                .await
                .ok()
                .and_then(|jar| jar.get(ANON_CSRF_COOKIE).map(|c| c.value().to_string())),
        };
        let bytes = axum::body::to_bytes(body, 1024 * 1024).await.map_err(|_| {
            (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "Formulaire trop volumineux.",
            )
                .into_response()
        })?;
        let field: CsrfField = serde_html_form::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        let ok = expected.as_deref().is_some_and(|e| {
            !e.is_empty() && constant_time_eq(e.as_bytes(), field.csrf.as_bytes())
        });
        if !ok {
            return Err(expired_form());
        }
        let value: T = serde_html_form::from_bytes(&bytes).map_err(|e| {
            (
                axum::http::StatusCode::BAD_REQUEST,
                format!("Formulaire illisible : {e}"),
            )
                .into_response()
        })?;
        Ok(CsrfForm(value))
    }
}

/// A form whose CSRF token is missing or stale: a page of its own, since the session (and with
/// it the layout) may be what is missing.
fn expired_form() -> Response {
    (
        axum::http::StatusCode::FORBIDDEN,
        maud::html! {
            (maud::DOCTYPE)
            html lang="fr" {
                head { meta charset="utf-8"; title { "Formulaire expiré · Mutualise" } link rel="stylesheet" href="/assets/app.css"; }
                body { main { h1 { "Formulaire expiré" }
                    p { "Ce formulaire n'est plus valide (jeton de sécurité absent ou périmé). Rechargez la page et recommencez." }
                    p { a href="/" { "Retour à l'accueil" } } } }
            }
        },
    )
        .into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
