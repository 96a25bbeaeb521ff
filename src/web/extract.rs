//! Extractors: the signed-in actor for the API and for pages, CSRF-checked forms, and JSON,
//! path and query extractors whose rejections become problem+json.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderValue;
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
        crate::app::read_json(value).map(ApiJson)
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
            JsonRejection::JsonDataError(e) => AppError::validation(
                "body",
                crate::domain::validation::french_data_error(&e.body_text()),
            ),
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
                "Le corps doit être du JSON (Content-Type: application/json).".into(),
            ),
            JsonRejection::JsonSyntaxError(_) => AppError::BadRequest(
                "JSON illisible : le corps n'est pas un document JSON complet et valide.".into(),
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
        let text = r.body_text();
        let detail = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        AppError::BadRequest(format!(
            "Paramètres invalides : {}",
            crate::domain::validation::french_data_error(detail)
        ))
    }
}

/// The client's address: the one place that decides it, for throttling, the security journal
/// and the logs. The `client_address` layer (see `web::build_app`) computes it once per
/// request; the extractor reads it ("unknown" when the router is driven without a socket).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .cloned()
            .unwrap_or_else(|| {
                ClientIp(
                    parts
                        .extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip().to_canonical().to_string())
                        .unwrap_or_else(|| "unknown".into()),
                )
            }))
    }
}

/// The client behind a request. From a peer that is not a trusted proxy, the peer itself:
/// `X-Forwarded-For` is ignored, so spoofing it changes nothing. From a trusted proxy, the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy (each proxy appends
/// the address it received the request from; what lies left of the first untrusted entry was
/// written by the client and proves nothing). An entry that is not an address stops the walk
/// at the last trusted hop.
pub fn client_address<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a HeaderValue>,
    trusted: &[ipnet::IpNet],
) -> String {
    let Some(peer) = peer.map(|p| p.to_canonical()) else {
        return "unknown".into();
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer.to_string();
    }
    // Every header line, in order, as one list.
    let entries: Vec<&str> = forwarded_for
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_forwarded_ip(entry) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client.to_string()
}

/// `203.0.113.7`, `2001:db8::1`, and the forms with a port some proxies write
/// (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
fn parse_forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
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
        // The form decoder replaces invalid UTF-8 with U+FFFD: refuse it instead of storing
        // text the user never typed. U+0000 too: PostgreSQL cannot store it (an error, not a
        // refusal) and SQLite would keep it; the API refuses it the same way.
        if !is_utf8_form(&bytes) {
            return Err((
                axum::http::StatusCode::BAD_REQUEST,
                "Formulaire illisible : caractères invalides (UTF-8 sans caractère nul attendu).",
            )
                .into_response());
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

/// Whether an `application/x-www-form-urlencoded` body is UTF-8 once percent-decoded, without
/// U+0000.
fn is_utf8_form(body: &[u8]) -> bool {
    if std::str::from_utf8(body).is_err() {
        return false;
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    body.split(|b| *b == b'&').all(|pair| {
        let mut out = Vec::with_capacity(pair.len());
        let mut i = 0;
        while i < pair.len() {
            match (
                pair[i],
                pair.get(i + 1).copied().and_then(hex),
                pair.get(i + 2).copied().and_then(hex),
            ) {
                (b'%', Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        !out.contains(&0) && std::str::from_utf8(&out).is_ok()
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {

    use super::*;

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter()
            .map(|n| {
                n.parse()
                    .unwrap_or_else(|_| ipnet::IpNet::from(n.parse::<IpAddr>().unwrap()))
            })
            .collect()
    }

    fn addr(peer: &str, xff: &[&str], trusted: &[&str]) -> String {
        let values: Vec<HeaderValue> = xff
            .iter()
            .map(|v| HeaderValue::from_str(v).unwrap())
            .collect();
        client_address(Some(peer.parse().unwrap()), values.iter(), &nets(trusted))
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        // No trusted proxy: the header is ignored.
        assert_eq!(addr("198.51.100.4", &["203.0.113.7"], &[]), "198.51.100.4");
        // An untrusted peer spoofing the header changes nothing.
        assert_eq!(
            addr("198.51.100.4", &["203.0.113.7"], &["10.0.0.0/8"]),
            "198.51.100.4"
        );
        // Behind a trusted proxy: the entry it appended.
        assert_eq!(
            addr("10.0.0.2", &["203.0.113.7"], &["10.0.0.0/8"]),
            "203.0.113.7"
        );
        // What the client wrote left of it proves nothing.
        assert_eq!(
            addr("10.0.0.2", &["1.2.3.4, 203.0.113.7"], &["10.0.0.0/8"]),
            "203.0.113.7"
        );
        // Two trusted proxies, over two header lines.
        assert_eq!(
            addr(
                "10.0.0.2",
                &["1.2.3.4, 203.0.113.7", "10.0.0.9"],
                &["10.0.0.0/8"]
            ),
            "203.0.113.7"
        );
        // Everything trusted: the left-most hop. No header: the proxy itself.
        assert_eq!(addr("10.0.0.2", &["10.0.0.3"], &["10.0.0.0/8"]), "10.0.0.3");
        assert_eq!(addr("10.0.0.2", &[], &["10.0.0.0/8"]), "10.0.0.2");
        // Garbage stops the walk at the last trusted hop; ports and IPv6 are read.
        assert_eq!(addr("10.0.0.2", &["nonsense"], &["10.0.0.0/8"]), "10.0.0.2");
        assert_eq!(
            addr("10.0.0.2", &["[2001:db8::1]:4711"], &["10.0.0.0/8"]),
            "2001:db8::1"
        );
        assert_eq!(
            addr("::ffff:10.0.0.2", &["203.0.113.7:80"], &["10.0.0.2"]),
            "203.0.113.7"
        );
        assert_eq!(client_address(None, std::iter::empty(), &[]), "unknown");
    }

    #[test]
    fn forms_must_decode_to_utf8() {
        assert!(is_utf8_form(b"name=Caf%C3%A9+%26+Cie&x=%"));
        assert!(is_utf8_form("name=Café".as_bytes()));
        assert!(!is_utf8_form(b"name=Asso%FF"));
        assert!(!is_utf8_form(b"name=Asso\xff"));
        assert!(!is_utf8_form(b"n%C3me=x"));
        assert!(!is_utf8_form(b"name=Asso%00"));
        assert!(!is_utf8_form(b"name=Asso\x00"));
        assert!(is_utf8_form(b"name=Asso%2500"));
    }
}
