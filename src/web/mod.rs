//! HTTP: the router, shared state, identity resolution (session cookie or bearer token),
//! extractors, error mapping, and the two front doors — `html` (maud pages) and `api` (JSON
//! v1). Handlers parse, call one `app` function, and render; they never touch the database.

pub mod api;
pub mod download;
pub mod extract;
pub mod feeds;
pub mod html;
pub mod problem;
pub mod resume;
pub mod server;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use chrono_tz::Tz;
use serde_json::json;
use tower_http::trace::TraceLayer;

use crate::app::auth::{self as auth, SessionActor};
use crate::app::authz::Actor;
use crate::app::App;

pub const SESSION_COOKIE: &str = "mutualise_session";
pub const ANON_CSRF_COOKIE: &str = "mutualise_csrf";

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// The calendar feeds last rendered, by token.
    pub feeds: feeds::SharedFeedCache,
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self {
            app,
            feeds: Default::default(),
        }
    }

    pub fn tz(&self) -> Tz {
        self.app.tz()
    }
}

/// Who is calling, resolved once per request by `identify`.
#[derive(Clone)]
pub enum Identity {
    Anonymous,
    Session(Arc<SessionActor>),
    Token(Arc<Actor>),
}

pub fn build_app(app: App) -> Router {
    let state = AppState::new(app);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/feeds/{file}", get(feeds::feed))
        .nest("/api/v1", api::router())
        .merge(html::router())
        // Inside `identify`: it needs to know whether the session is still there.
        .layer(middleware::from_fn(resume::resume_after_sign_in))
        .layer(middleware::from_fn_with_state(state.clone(), identify))
        .layer(middleware::from_fn(refuse_oversized_bodies))
        .layer(middleware::from_fn(security_headers))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let client = req
                .extensions()
                .get::<extract::ClientIp>()
                .map(|c| c.0.as_str())
                .unwrap_or("unknown");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri(), client)
        }))
        // Outermost: the client's address is known to the logs and every handler.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client_address,
        ))
        .with_state(state)
}

/// Decides the client's address once per request (`extract::client_address`, with the
/// configured trusted proxies) and hands it on as `extract::ClientIp`.
async fn client_address(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let client = extract::client_address(
        peer,
        req.headers().get_all("x-forwarded-for").iter(),
        &state.app.config().trusted_proxies,
    );
    req.extensions_mut().insert(extract::ClientIp(client));
    next.run(req).await
}

async fn healthz(State(s): State<AppState>) -> Response {
    let backend = s.app.backend_name();
    match s.app.health().await {
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
        match auth::resolve_token(&state.app, &token).await {
            Ok(Some(actor)) => Identity::Token(Arc::new(actor)),
            Ok(None) => Identity::Anonymous,
            Err(e) => return e.into_response(),
        }
    } else if let Some(cookie) = jar
        .get(SESSION_COOKIE)
        .filter(|_| !is_api && !req.uri().path().starts_with("/assets/"))
    {
        // Only a page read shows the navigation: a form's POST answers with a redirect.
        let shows_nav = req.method() == axum::http::Method::GET;
        match auth::resolve_session(&state.app, cookie.value(), shows_nav).await {
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

/// The largest body a route reads: axum's default limit, which the JSON extractor applies
/// (forms stop at 1 MB).
const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;
/// A body declared larger than the limit is read and dropped up to this size before the 413.
const DRAIN_BYTES: u64 = 64 * 1024 * 1024;

/// Answers 413 to a body whose declared length is over the limit, before anything else reads
/// it. The body is read and dropped first (up to `DRAIN_BYTES`, within the request deadline):
/// closing a connection on unread data resets it, and the client, still sending, would see a
/// broken pipe instead of the answer. A client that waits for `100 Continue` gets the 413
/// without sending its body.
async fn refuse_oversized_bodies(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(length) = declared.filter(|l| *l > MAX_BODY_BYTES) else {
        return next.run(req).await;
    };
    let api = req.uri().path().starts_with("/api/");
    let waits = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if length <= DRAIN_BYTES && !waits {
        use axum::body::HttpBody;
        let mut body = req.into_body();
        while let Some(Ok(_)) =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
        {}
    }
    let mut answer = if api {
        crate::error::AppError::TooLarge("Corps de requête trop volumineux (2 Mo au plus).".into())
            .into_response()
    } else {
        (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "Formulaire trop volumineux (2 Mo au plus).",
        )
            .into_response()
    };
    answer.headers_mut().insert(
        header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    answer
}

async fn security_headers(req: Request, next: Next) -> Response {
    // What a signed-in person sees is theirs: no cache (shared or the browser's history) keeps it.
    let signed_in = req.headers().contains_key(header::AUTHORIZATION)
        || req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .any(|c| c.contains(SESSION_COOKIE));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if signed_in {
        h.entry(header::CACHE_CONTROL)
            .or_insert(header::HeaderValue::from_static("no-store"));
    }
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
