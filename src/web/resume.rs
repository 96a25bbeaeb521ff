//! A form sent after its session expired keeps what was typed: instead of a bare redirect to
//! the sign-in page (which loses the body), the fields go along in `next`, as the query of
//! the page showing that form again, and the person lands back on it once signed in.
//!
//! Only forms listed here (a POST path and the page that shows the form prefilled from query
//! parameters), only to those same-site relative paths, and never the CSRF token, the
//! idempotency key or anything named like a password.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::extract::urlencode;
use super::Identity;

/// (where the form is sent, the page showing it again from query parameters)
const RESUMABLE: &[(&str, &str)] = &[("/bookings", "/bookings/new")];

/// Fields and length a `next` may carry: enough for any form here, short enough for a URL.
const MAX_FIELDS: usize = 32;
const MAX_NEXT_LEN: usize = 4000;

fn kept(name: &str, value: &str) -> bool {
    !value.trim().is_empty()
        && !name.starts_with('_')
        && name != "idempotency_key"
        && !name.to_ascii_lowercase().contains("password")
}

/// The path to come back to, with what the form held.
pub fn resume_path(form_page: &str, body: &[u8]) -> String {
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(body).unwrap_or_default();
    let fields: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| kept(k, v))
        .take(MAX_FIELDS)
        .collect();
    let query = serde_html_form::to_string(&fields).unwrap_or_default();
    let path = if query.is_empty() {
        form_page.to_string()
    } else {
        format!("{form_page}?{query}")
    };
    if path.len() > MAX_NEXT_LEN {
        form_page.to_string()
    } else {
        path
    }
}

pub async fn resume_after_sign_in(req: Request, next: Next) -> Response {
    let anonymous = !matches!(
        req.extensions().get::<Identity>(),
        Some(Identity::Session(_) | Identity::Token(_))
    );
    let form_page = RESUMABLE
        .iter()
        .find(|(posted, _)| *posted == req.uri().path())
        .map(|(_, page)| *page);
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (true, Some(form_page), true) = (
        anonymous && req.method() == Method::POST,
        form_page,
        is_form,
    ) else {
        return next.run(req).await;
    };
    let body = to_bytes(req.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let back = resume_path(form_page, &body);
    Redirect::to(&format!("/login?expired=1&next={}", urlencode(&back))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_behind_and_the_rest_comes_back() {
        let body = b"_csrf=abc&idempotency_key=k&resource_id=3&purpose=R%C3%A9union+du+bureau&password=x&new_password=y&start=2027-01-05T09%3A00&end=";
        assert_eq!(
            resume_path("/bookings/new", body),
            "/bookings/new?resource_id=3&purpose=R%C3%A9union+du+bureau&start=2027-01-05T09%3A00"
        );
        assert_eq!(resume_path("/bookings/new", b""), "/bookings/new");
        let long = format!("purpose={}", "a".repeat(5000));
        assert_eq!(
            resume_path("/bookings/new", long.as_bytes()),
            "/bookings/new"
        );
    }
}
