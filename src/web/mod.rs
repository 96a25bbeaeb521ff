//! HTTP: the router, shared state, identity resolution (session cookie or bearer token),
//! extractors, and the two front doors — `html` (maud pages) and `api` (JSON v1).

pub mod api;
pub mod extract;
pub mod html;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde_json::json;
use tower_http::trace::TraceLayer;

use crate::app::auth::{self as auth, SessionActor};
use crate::app::authz::Actor;
use crate::config::{Clock, Config};
use crate::store::Db;

pub const SESSION_COOKIE: &str = "mutualise_session";
pub const ANON_CSRF_COOKIE: &str = "mutualise_csrf";

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> Self {
        let clock = Clock::new(config.now);
        Self {
            db,
            config: Arc::new(config),
            clock,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// Who is calling, resolved once per request by `identify`.
#[derive(Clone)]
pub enum Identity {
    Anonymous,
    Session(Arc<SessionActor>),
    Token(Arc<Actor>),
}

pub fn build_app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api::router())
        .merge(html::router())
        .layer(middleware::from_fn_with_state(state.clone(), identify))
        .layer(middleware::from_fn(security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    let backend = format!("{:?}", state.db.backend()).to_lowercase();
    match state.db.run(|conn| conn.ping()).await {
        Ok(()) => Json(json!({"status": "ok", "database": backend})).into_response(),
        Err(e) => {
            e.log();
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "error", "database": backend})),
            )
                .into_response()
        }
    }
}

/// Resolves the bearer token (API) or the session cookie (pages) into an `Identity`.
async fn identify(
    State(state): State<AppState>,
    jar: CookieJar,
    mut req: Request,
    next: Next,
) -> Response {
    let now = state.now();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let is_api = req.uri().path().starts_with("/api/");
    let identity = if let Some(token) = bearer.filter(|_| is_api) {
        match state
            .db
            .run(move |conn| auth::resolve_token(conn, &token, now))
            .await
        {
            Ok(Some((actor, touch))) => {
                if let Some(id) = touch {
                    // Recorded through the writer, in the background: a write on the request's
                    // path would wait for the write lock.
                    let db = state.db.clone();
                    tokio::spawn(async move {
                        if let Err(e) = db.write(move |c| auth::touch_token(c, id, now)).await {
                            e.log();
                        }
                    });
                }
                Identity::Token(Arc::new(actor))
            }
            Ok(None) => Identity::Anonymous,
            Err(e) => return e.into_response(),
        }
    } else if let Some(cookie) = jar
        .get(SESSION_COOKIE)
        .filter(|_| !is_api && !req.uri().path().starts_with("/assets/"))
    {
        let token = cookie.value().to_string();
        match state
            .db
            .run(move |conn| auth::resolve_session(conn, &token, now))
            .await
        {
            Ok(Some(s)) => Identity::Session(Arc::new(s)),
            Ok(None) => Identity::Anonymous,
            Err(e) => return html::error_page(&state, None, e),
        }
    } else {
        Identity::Anonymous
    };
    req.extensions_mut().insert(identity);
    next.run(req).await
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(header::HeaderValue::from_static("nosniff"));
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(header::HeaderValue::from_static("DENY"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(header::HeaderValue::from_static("same-origin"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(header::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ));
    res
}

/// Periodic housekeeping while serving: pending bookings whose start has come are rejected,
/// expired sessions and old login attempts are purged. Every instance may run it: each step
/// is an idempotent update.
pub fn spawn_maintenance(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = state.now();
            let swept = state
                .db
                .write(move |c| crate::app::bookings::sweep_tx(c, now))
                .await;
            let purged = state
                .db
                .run(move |c| {
                    let sessions = crate::store::auth::purge_expired(c, crate::store::to_db(now))?;
                    let attempts = crate::store::auth::purge_attempts(
                        c,
                        crate::store::to_db(now - chrono::Duration::days(1)),
                    )?;
                    Ok(sessions + attempts)
                })
                .await;
            match (swept, purged) {
                (Ok(n), Ok(m)) if n + m > 0 => {
                    tracing::info!(rejected = n, purged = m, "maintenance")
                }
                (Err(e), _) | (_, Err(e)) => e.log(),
                _ => {}
            }
        }
    })
}
