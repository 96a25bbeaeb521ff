//! Errors as HTTP: the status each error gets, and its `application/problem+json` body
//! (RFC 9457) with the machine `code` and, for a refused booking, every reason, who holds the
//! slot and what else is free. The only place that maps the app's errors to HTTP.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::domain::refusal::Refusal;
use crate::domain::violation::RefusalKind;
use crate::error::AppError;

/// A refused request is invalid (422) or refused by the state of the pole (409).
pub fn refusal_status(r: &Refusal) -> StatusCode {
    match r.kind() {
        RefusalKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        RefusalKind::Conflict => StatusCode::CONFLICT,
    }
}

/// `Retry-After` of a response for this error, in seconds: the real remaining wait of a
/// throttled request; a few seconds for a database out of reach.
pub fn retry_after(e: &AppError) -> Option<u64> {
    match e {
        AppError::TooManyRequests(t) => Some(t.retry_after_secs.max(1)),
        AppError::Unavailable(_) => Some(5),
        _ => None,
    }
}

pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::Refused(r) => refusal_status(r),
        AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::BadRequest(_) | AppError::BadQuery(_) => StatusCode::BAD_REQUEST,
        AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A short French title for the error (problem `title`, page heading).
pub fn title_of(e: &AppError) -> &'static str {
    match e {
        AppError::Validation(_) => "Données invalides",
        AppError::Unauthorized(_) => "Authentification requise",
        AppError::Forbidden => "Accès refusé",
        AppError::NotFound => "Introuvable",
        AppError::Conflict { .. } => "Conflit",
        AppError::Refused(r) if r.kind() == RefusalKind::Conflict => "Réservation impossible",
        AppError::Refused(_) => "Réservation invalide",
        AppError::TooManyRequests(_) => "Trop de tentatives",
        AppError::BadRequest(_) => "Requête invalide",
        AppError::BadQuery(_) => "Paramètres invalides",
        AppError::TooLarge(_) => "Requête trop volumineuse",
        AppError::UnsupportedMediaType(_) => "Format non pris en charge",
        AppError::MethodNotAllowed => "Méthode non permise",
        AppError::Unavailable(_) => "Service indisponible",
        AppError::Internal(_) => "Erreur interne",
    }
}

/// The problem+json body.
pub fn problem_body(e: &AppError) -> Value {
    let status = status_of(e);
    let mut body = json!({
        "type": format!("https://mutualise.coop/problems/{}", e.code()),
        "title": title_of(e),
        "status": status.as_u16(),
        "detail": e.detail(),
        "code": e.code(),
    });
    if let AppError::Validation(errors) | AppError::BadQuery(errors) = e {
        body["errors"] = json!(errors.0);
    }
    if let AppError::TooManyRequests(t) = e {
        body["retry_after"] = json!(t.retry_after_secs.max(1));
    }
    if let AppError::Refused(r) = e {
        if !r.fields.is_empty() {
            body["errors"] = json!(r.fields.0);
        }
        body["violations"] = json!(r.violations);
        body["conflicts"] = json!(r.conflicts);
        body["suggestions"] = json!(r.suggestions);
        if !r.occurrences.is_empty() {
            body["occurrences"] = json!(r.occurrences);
        }
    }
    body
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (status_of(&self), axum::Json(problem_body(&self))).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after(&self) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if matches!(self, AppError::Unauthorized(_)) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A problem+json body for answers given outside the application's errors (the server's own
/// limits: request deadline, connection limit), in the same shape as `problem_body`.
pub fn plain_problem(status: StatusCode, code: &str, title: &str, detail: &str) -> Value {
    json!({
        "type": format!("https://mutualise.coop/problems/{code}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
    })
}
