//! The one error type of the service and its policy.
//!
//! Business refusals are data (field errors, violations) so the API and the HTML forms show
//! the same reasons. Internal causes are logged once, here, and never shown to the client.
//! The API renders errors as `application/problem+json` (RFC 9457) with a machine `code`;
//! HTML handlers re-render their form or show an error page (see `web::html`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::domain::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("données invalides")]
    Validation(FieldErrors),
    #[error("{0}")]
    Unauthorized(String),
    #[error("action non autorisée")]
    Forbidden,
    #[error("introuvable")]
    NotFound,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A business refusal with its reasons (booking rules): 409 or 422 with the details.
    #[error("{}", .0.detail)]
    Refused(Box<Refusal>),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("service indisponible")]
    Unavailable(String),
    #[error("erreur interne")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{e}"))
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, message))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Refused(r) => r.status,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict { code, .. } => code,
            AppError::Refused(r) => r.code,
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::BadRequest(_) => "bad_request",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "Données invalides",
            AppError::Unauthorized(_) => "Authentification requise",
            AppError::Forbidden => "Accès refusé",
            AppError::NotFound => "Introuvable",
            AppError::Conflict { .. } => "Conflit",
            AppError::Refused(r) if r.status == StatusCode::CONFLICT => "Réservation impossible",
            AppError::Refused(_) => "Réservation invalide",
            AppError::TooManyRequests(_) => "Trop de tentatives",
            AppError::BadRequest(_) => "Requête invalide",
            AppError::Unavailable(_) => "Service indisponible",
            AppError::Internal(_) => "Erreur interne",
        }
    }

    /// Human detail, safe to show: internal causes are replaced by a generic sentence.
    pub fn detail(&self) -> String {
        match self {
            AppError::Validation(errors) => errors.summary(),
            AppError::Forbidden => "Votre rôle ne permet pas cette action.".into(),
            AppError::NotFound => {
                "Cette ressource n'existe pas ou n'est pas visible pour vous.".into()
            }
            AppError::Internal(_) => {
                "Une erreur inattendue est survenue ; elle a été journalisée.".into()
            }
            other => other.to_string(),
        }
    }

    /// Logs internal causes exactly once, where the error becomes a response.
    pub fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = %e, "internal error"),
            AppError::Unavailable(e) => tracing::warn!(error = %e, "unavailable"),
            _ => {}
        }
    }

    pub fn problem_json(&self) -> Value {
        let mut body = json!({
            "type": format!("https://mutualise.coop/problems/{}", self.code()),
            "title": self.title(),
            "status": self.status().as_u16(),
            "detail": self.detail(),
            "code": self.code(),
        });
        if let AppError::Validation(errors) = self {
            body["errors"] = serde_json::to_value(&errors.0).unwrap_or(Value::Null);
        }
        if let AppError::Refused(r) = self {
            if let Value::Object(extra) = serde_json::to_value(&r.body).unwrap_or(Value::Null) {
                for (k, v) in extra {
                    body[k] = v;
                }
            }
        }
        body
    }
}

/// Why a booking was refused and what could be had instead.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Serialised next to the problem's fields: violations, conflicts, suggestions…
    pub body: Value,
    /// Alternatives to look for once the write transaction is over (they are read-only and
    /// would otherwise hold the write lock): see `app::bookings::fill_suggestions`.
    pub suggest: Option<SuggestRequest>,
}

/// What to suggest instead of a refused booking.
#[derive(Debug, Clone)]
pub struct SuggestRequest {
    pub resource_id: i64,
    pub member_id: i64,
    pub start: chrono::DateTime<chrono::Utc>,
    pub end: chrono::DateTime<chrono::Utc>,
    pub quantity: i32,
    /// Bookings being moved, which must not count against their own new place.
    pub ignore: Vec<i64>,
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => AppError::Conflict {
                code: "already_exists",
                detail: format!(
                    "Cet élément existe déjà ({}).",
                    info.constraint_name().unwrap_or("contrainte d'unicité")
                ),
            },
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => AppError::Conflict {
                code: "referenced",
                detail: "Cet élément est lié à d'autres données.".into(),
            },
            Error::DatabaseError(_, info)
                if info.constraint_name() == Some("bookings_no_overlap")
                    || info.message().contains("bookings_no_overlap") =>
            {
                AppError::Conflict {
                    code: "conflict",
                    detail: "Ce créneau vient d'être pris.".into(),
                }
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(format!("database pool: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (self.status(), axum::Json(self.problem_json())).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, AppError::Unauthorized(_)) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
