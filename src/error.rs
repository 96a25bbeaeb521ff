//! The one error type of the service and its policy.
//!
//! Business refusals are data (field errors, typed refusals with their violations) so the API
//! and the HTML forms show the same reasons. Internal causes are logged once, where the error
//! becomes a response, and never shown to the client. Nothing here speaks HTTP: the web layer
//! alone chooses statuses and bodies (`web::problem`).

use crate::domain::refusal::Refusal;
use crate::domain::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that cannot be read or is out of range, field by field.
    #[error("données invalides")]
    Validation(FieldErrors),
    #[error("{0}")]
    Unauthorized(String),
    #[error("action non autorisée")]
    Forbidden,
    #[error("introuvable")]
    NotFound,
    /// The state of the pole forbids the action (already decided, month closed…).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A booking rule said no: every reason, who holds the slot, what else is free.
    #[error("{}", .0.detail())]
    Refused(Box<Refusal>),
    /// Too many attempts: what to say, and when to come back.
    #[error("{0}")]
    TooManyRequests(Throttled),
    #[error("{0}")]
    BadRequest(String),
    /// Query parameters (a listing's filters) that cannot be read or are out of range, field
    /// by field: the request itself is wrong, not data it carries.
    #[error("paramètres invalides")]
    BadQuery(FieldErrors),
    /// The request's body is over the size the service accepts.
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The address exists, not with this HTTP method.
    #[error("Cette adresse n'accepte pas cette méthode HTTP : le document OpenAPI (/api/v1/openapi.json) dit lesquelles.")]
    MethodNotAllowed,
    #[error("service indisponible")]
    Unavailable(String),
    #[error("erreur interne")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// A throttled request: the French sentence, and the remaining wait in whole seconds (rounded
/// up), which the web layer sends as `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Throttled {
    pub detail: String,
    pub retry_after_secs: u64,
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!("{e}"))
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, message))
    }

    pub fn refused(r: Refusal) -> Self {
        AppError::Refused(Box::new(r))
    }

    /// The machine code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict { code, .. } => code,
            AppError::Refused(r) => r.code(),
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::BadRequest(_) => "bad_request",
            AppError::BadQuery(_) => "invalid_query",
            AppError::TooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// Human detail, safe to show: internal causes are replaced by a generic sentence.
    pub fn detail(&self) -> String {
        match self {
            AppError::Validation(errors) | AppError::BadQuery(errors) => errors.summary(),
            AppError::Forbidden => "Votre rôle ne permet pas cette action.".into(),
            AppError::NotFound => {
                "Cette ressource n'existe pas ou n'est pas visible pour vous.".into()
            }
            AppError::Unavailable(_) => {
                "Le service est momentanément indisponible ; réessayez dans un instant.".into()
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
            AppError::TooManyRequests(_) => tracing::warn!("request throttled (429)"),
            _ => {}
        }
    }

    /// Field errors of a listing's filters, as the API answers them (400).
    pub fn in_query(self) -> AppError {
        match self {
            AppError::Validation(errors) => AppError::BadQuery(errors),
            other => other,
        }
    }

    /// A unique-constraint conflict becomes an error on the field the user can fix.
    pub fn on_duplicate(self, field: &str, message: &str) -> AppError {
        match self {
            AppError::Conflict {
                code: "already_exists",
                ..
            } => AppError::validation(field, message),
            other => other,
        }
    }
}
