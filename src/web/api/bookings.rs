//! Bookings, availability, quotas and month closing.

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::bookings::{
    self, Availability, Booked, BookingChanges, BookingInput, BookingQuery, BookingView, Decision,
    IdempotencyKey, Scope,
};
use crate::app::quotas::{self, QuotaView};
use crate::domain::ids::{BookingId, ResourceId, SeriesId};
use crate::domain::quota::QuotaInput;
use crate::domain::refusal::RefusedOccurrence;
use crate::error::{AppError, AppResult};
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

/// A series as the API answers it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SeriesBody {
    pub series_id: SeriesId,
    pub bookings: Vec<BookingView>,
    /// Occurrences left out (`skip_conflicts`), each with its reasons.
    pub skipped: Vec<RefusedOccurrence>,
}

/// A booking request's answer: the booking, or the series.
fn booked_body(b: Booked) -> AppResult<Value> {
    match b.series_id {
        Some(series_id) => serde_json::to_value(SeriesBody {
            series_id,
            bookings: b.bookings,
            skipped: b.skipped,
        }),
        None => match b.bookings.into_iter().next() {
            Some(one) => serde_json::to_value(one),
            None => return Err(AppError::internal("a booking answer without booking")),
        },
    }
    .map_err(AppError::internal)
}

/// Book a resource once, or a series with `recurrence`. An `Idempotency-Key` header makes a
/// retried request return the first answer instead of booking twice.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings", request_body = BookingInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key, same request: same answer, booked once.")),
    responses(
        (status = 201, description = "Booked (a series answers SeriesBody); may carry `warnings`", body = BookingView),
        (status = 400, description = "unreadable body or Idempotency-Key", body = super::Problem),
        (status = 401, body = super::Problem),
        (status = 409, description = "conflict (with conflicts and suggestions), month_closed, quota_exceeded", body = super::Problem),
        (status = 422, description = "invalid_interval, duration_out_of_bounds, outside_opening_hours, closed, in_past, beyond_horizon, not_allowed, invalid_recurrence, validation", body = super::Problem)))]
pub async fn create_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    ApiJson(input): ApiJson<BookingInput>,
) -> AppResult<Response> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(IdempotencyKey::parse(v.to_str().map_err(|_| {
            AppError::BadRequest("Idempotency-Key illisible.".into())
        })?)?),
        None => None,
    };
    let booked = bookings::book(&s.app, &a, input, key).await?;
    let replayed = booked.replayed;
    let mut response = (StatusCode::CREATED, Json(booked_body(booked)?)).into_response();
    if replayed {
        response.headers_mut().insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

/// Bookings in start order, a page at a time: follow the `Link: <…>; rel="next"` header (or
/// pass `next` cursor back as `cursor`) until it is absent. `X-Total-Count` gives the number of
/// bookings matching the filters.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(BookingQuery),
    responses((status = 200, body = Vec<BookingView>,
        headers(("X-Total-Count" = i64, description = "Bookings matching the filters, all pages together"),
                ("Link" = String, description = "rel=\"next\": the next page, absent on the last one"))),
        (status = 400, description = "invalid_query: a filter cannot be read (`errors` names it)", body = super::Problem),
        (status = 401, body = super::Problem)))]
pub async fn list_bookings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<BookingQuery>,
) -> AppResult<Response> {
    let page = bookings::list(&s.app, &a, q)
        .await
        .map_err(AppError::in_query)?;
    let mut response = Json(page.items).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&page.total.to_string()) {
        h.insert(HeaderName::from_static("x-total-count"), v);
    }
    if let Some(cursor) = page.next_cursor {
        let mut params: Vec<(String, String)> = uri
            .query()
            .map(|q| serde_html_form::from_str(q).unwrap_or_default())
            .unwrap_or_default();
        params.retain(|(k, _)| k != "cursor");
        params.push(("cursor".into(), cursor));
        let query = serde_html_form::to_string(&params).map_err(AppError::internal)?;
        if let Ok(v) = HeaderValue::from_str(&format!("<{}?{query}>; rel=\"next\"", uri.path())) {
            h.insert(header::LINK, v);
        }
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "bookings", params(("id" = i64, Path)),
    responses((status = 200, body = BookingView), (status = 404, body = super::Problem)))]
pub async fn get_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<BookingId>,
) -> AppResult<Json<BookingView>> {
    Ok(Json(bookings::get(&s.app, &a, id).await?))
}

/// Move or resize a booking; `scope: "following"` moves this and the later occurrences of
/// its series by the same shift in local time. Answers the bookings as they now are.
#[utoipa::path(patch, path = "/api/v1/bookings/{id}", tag = "bookings", params(("id" = i64, Path)), request_body = BookingChanges,
    responses((status = 200, body = Vec<BookingView>), (status = 403, description = "another member's booking", body = super::Problem), (status = 404, body = super::Problem), (status = 409, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<BookingId>,
    ApiJson(changes): ApiJson<BookingChanges>,
) -> AppResult<Json<Vec<BookingView>>> {
    Ok(Json(bookings::move_booking(&s.app, &a, id, changes).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CancelBody {
    /// `one` (default) or `following`.
    #[serde(default)]
    #[schema(value_type = Option<Scope>)]
    scope: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "bookings", params(("id" = i64, Path)), request_body(content = Option<CancelBody>, description = "Optional: no body cancels this occurrence only."),
    responses((status = 200, body = Vec<BookingView>), (status = 403, description = "another member's booking", body = super::Problem), (status = 404, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn cancel_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<BookingId>,
    body: axum::body::Bytes,
) -> AppResult<Json<Vec<BookingView>>> {
    let scope = match optional_json::<CancelBody>(&body)?.scope {
        Some(raw) => Scope::parse(&raw)
            .ok_or_else(|| AppError::validation("scope", "Portée attendue : one ou following."))?,
        None => Scope::One,
    };
    Ok(Json(bookings::cancel(&s.app, &a, id, scope).await?))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct DecisionBody {
    /// Required to reject; sent to the member.
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/approve", tag = "bookings", params(("id" = i64, Path)), request_body(content = Option<DecisionBody>, description = "Optional."),
    responses((status = 200, body = BookingView), (status = 403, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn approve_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<BookingId>,
    body: axum::body::Bytes,
) -> AppResult<Json<BookingView>> {
    let reason = optional_json::<DecisionBody>(&body)?.reason;
    Ok(Json(
        bookings::decide(&s.app, &a, id, Decision::Approve, reason).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/reject", tag = "bookings", params(("id" = i64, Path)), request_body = DecisionBody,
    responses((status = 200, body = BookingView), (status = 403, body = super::Problem), (status = 409, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn reject_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<BookingId>,
    body: axum::body::Bytes,
) -> AppResult<Json<BookingView>> {
    let reason = optional_json::<DecisionBody>(&body)?.reason;
    Ok(Json(
        bookings::decide(&s.app, &a, id, Decision::Reject, reason).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// RFC 3339 or local time.
    from: String,
    to: String,
    /// Only where at least this many units are free; touching stretches are merged and carry
    /// the fewest units free along them.
    #[param(minimum = 1, maximum = 10000)]
    min_quantity: Option<i32>,
}

/// Free intervals with the free quantity (buffers, opening hours and closures honoured).
#[utoipa::path(get, path = "/api/v1/resources/{id}/availability", tag = "bookings", params(("id" = i64, Path), AvailabilityQuery),
    responses((status = 200, body = Availability), (status = 404, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn availability(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> AppResult<Json<Availability>> {
    Ok(Json(
        bookings::availability(&s.app, &a, id, &q.from, &q.to, q.min_quantity).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/quotas", tag = "bookings", responses((status = 200, body = Vec<QuotaView>)))]
pub async fn list_quotas(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Vec<QuotaView>>> {
    Ok(Json(quotas::list(&s.app, &a).await?))
}

#[utoipa::path(post, path = "/api/v1/quotas", tag = "bookings", request_body = QuotaInput,
    responses((status = 201, body = QuotaView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_quota(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<QuotaInput>,
) -> AppResult<(StatusCode, Json<QuotaView>)> {
    Ok((
        StatusCode::CREATED,
        Json(quotas::create(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/quotas/{id}", tag = "bookings", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = super::Problem)))]
pub async fn delete_quota(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    quotas::delete(&s.app, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An optional JSON body: empty means defaults.
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> AppResult<T> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(T::default());
    }
    if crate::web::extract::json_has_nul(body) {
        return Err(crate::web::extract::nul_refused("body"));
    }
    serde_json::from_slice(body).map_err(|e| AppError::BadRequest(format!("JSON illisible : {e}")))
}
