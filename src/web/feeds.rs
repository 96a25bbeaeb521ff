//! The calendar feeds at their secret URLs (`/feeds/{token}.ics`): no session, the token is
//! the key. Calendar apps poll every few minutes, so the answer is cheap when nothing changed:
//! the version (one aggregate query) gives `ETag` and `Last-Modified`, a matching
//! `If-None-Match` (or `If-Modified-Since`) gets `304`, and the last text rendered for each
//! feed is kept in memory for the same version.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::app::feeds::{self, FeedVersion};
use crate::error::AppError;
use crate::mail::host_of;
use crate::web::AppState;

/// The URL of a feed's token, and its `webcal://` twin for one-click subscription.
pub fn urls(public_url: &str, token: &str) -> (String, String) {
    let url = format!("{public_url}/feeds/{token}.ics");
    let webcal = match url.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => url.clone(),
    };
    (url, webcal)
}

/// Rendered feeds by token, with the version they were rendered at.
#[derive(Default)]
pub struct FeedCache {
    entries: Mutex<HashMap<String, (String, Bytes)>>,
}

/// Feeds kept rendered; beyond, the cache starts afresh (a pole has a few hundred feeds).
const CACHE_ENTRIES: usize = 1024;

impl FeedCache {
    fn get(&self, token: &str, etag: &str) -> Option<Bytes> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(token)
            .filter(|(e, _)| e == etag)
            .map(|(_, b)| b.clone())
    }

    fn put(&self, token: &str, etag: &str, body: Bytes) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_ENTRIES && !entries.contains_key(token) {
                entries.clear();
            }
            entries.insert(token.to_string(), (etag.to_string(), body));
        }
    }
}

pub type SharedFeedCache = Arc<FeedCache>;

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn not_modified(headers: &HeaderMap, v: &FeedVersion) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
    {
        return inm
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == v.etag || t == "*");
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|h| h.to_str().ok())
        .and_then(|s| DateTime::parse_from_rfc2822(s).ok())
        .is_some_and(|since| v.last_modified.timestamp() <= since.timestamp())
}

fn with_validators(mut r: Response, v: &FeedVersion) -> Response {
    let h = r.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&v.etag) {
        h.insert(header::ETAG, etag);
    }
    if let Ok(lm) = HeaderValue::from_str(&http_date(v.last_modified)) {
        h.insert(header::LAST_MODIFIED, lm);
    }
    // Private data behind a secret URL: no shared cache keeps it; clients revalidate.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    r
}

/// A token is 64 hexadecimal digits; anything else is not looked up.
fn token_of(file: &str) -> Option<&str> {
    let token = file.strip_suffix(".ics").unwrap_or(file);
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

pub async fn feed(
    State(s): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = token_of(&file) else {
        return AppError::NotFound.into_response();
    };
    let version = match feeds::version(&s.app, token.to_string()).await {
        Ok(Some(v)) => v,
        Ok(None) => return AppError::NotFound.into_response(),
        Err(e) => return e.into_response(),
    };
    if not_modified(&headers, &version) {
        return with_validators(StatusCode::NOT_MODIFIED.into_response(), &version);
    }
    if let Some(body) = s.feeds.get(token, &version.etag) {
        return with_validators(calendar_response(body), &version);
    }
    let content = match feeds::content(&s.app, token.to_string()).await {
        Ok(Some(c)) => c,
        Ok(None) => return AppError::NotFound.into_response(),
        Err(e) => return e.into_response(),
    };
    let domain = host_of(&s.app.config().public_url);
    let text = crate::ical::calendar(
        &format!("{} — {}", content.name, s.app.config().pole_name),
        &content.events,
        &domain,
    );
    let body = Bytes::from(text);
    s.feeds.put(token, &content.version.etag, body.clone());
    with_validators(calendar_response(body), &content.version)
}

fn calendar_response(body: Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response()
}
