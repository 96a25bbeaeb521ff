//! Bookings, availability and quotas.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::app::auth::sha256_hex;
use crate::app::bookings::{
    self, Availability, BookOutcome, BookingChanges, BookingEnv, BookingInput, BookingOut,
    BookingQuery, QuotaInput, QuotaOut,
};
use crate::error::{AppError, AppResult};
use crate::store::bookings as store;
use crate::store::{to_db, Backend};
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

pub fn env(s: &AppState) -> BookingEnv {
    BookingEnv {
        tz: s.config.timezone,
        now: s.now(),
        horizon_days: s.config.booking_horizon_days,
    }
}

/// Completes a refusal with its alternatives, looked for on a read connection once the write
/// transaction is over.
pub async fn with_alternatives(s: &AppState, err: AppError) -> AppError {
    match err {
        AppError::Refused(r) if r.suggest.is_some() => {
            let env = env(s);
            let fallback = r.clone();
            let mut r = r;
            match s
                .db
                .run(move |c| {
                    bookings::fill_suggestions(c, &mut r, &env)?;
                    Ok(r)
                })
                .await
            {
                Ok(r) => AppError::Refused(r),
                Err(e) => {
                    e.log();
                    AppError::Refused(fallback)
                }
            }
        }
        other => other,
    }
}

/// What a create returns: a fresh outcome, or the stored answer to a repeated request.
enum Created {
    Fresh(BookOutcome),
    Replay(i32, String),
}

/// Book a resource once, or a series with `recurrence`. An `Idempotency-Key` header makes a
/// retried request return the first answer instead of booking twice.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings", request_body = BookingInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key, same request: same answer, booked once.")),
    responses(
        (status = 201, description = "Booked (a series answers {series_id, bookings, skipped})", body = BookingOut),
        (status = 409, description = "conflict (with conflicts and suggestions), month_closed, quota_exceeded", body = super::Problem),
        (status = 422, description = "invalid_interval, duration_out_of_bounds, outside_opening_hours, closed, in_past, beyond_horizon, not_allowed, invalid_recurrence, validation", body = super::Problem)))]
pub async fn create_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    ApiJson(input): ApiJson<BookingInput>,
) -> AppResult<Response> {
    let env = env(&s);
    let key = match headers.get("idempotency-key") {
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| AppError::BadRequest("Idempotency-Key illisible.".into()))?
                .trim()
                .to_string();
            if k.is_empty() || k.len() > 200 {
                return Err(AppError::BadRequest(
                    "Idempotency-Key : 1 à 200 caractères.".into(),
                ));
            }
            Some(k)
        }
        None => None,
    };
    let hash = sha256_hex(&serde_json::to_string(&input).map_err(AppError::internal)?);
    // Read-only preparation off the write lock; on failure the booking itself reports why.
    let resource_id = input.resource_id;
    // (PostgreSQL reads it all under the row locks instead: see `target_under_lock`.)
    let prepared = match s.db.backend() {
        Backend::Sqlite => {
            s.db.run(move |c| bookings::prepare(c, resource_id, &env))
                .await
                .ok()
        }
        Backend::Postgres => None,
    };
    let created =
        s.db.write(move |c| {
            if let Some(k) = &key {
                if !store::claim_idempotent(c, a.user_id, k, &hash, to_db(env.now))? {
                    let (stored_hash, status, body) = store::find_idempotent(c, a.user_id, k)?
                        .ok_or_else(|| AppError::internal("idempotency key vanished"))?;
                    if stored_hash != hash {
                        return Err(AppError::validation(
                            "Idempotency-Key",
                            "Cette clé a déjà servi pour une autre requête.",
                        ));
                    }
                    return Ok(Created::Replay(status, body));
                }
            }
            let outcome = bookings::book_prepared_tx(c, &a, &input, &env, prepared.clone())?;
            if let Some(k) = &key {
                let body = serde_json::to_string(&outcome).map_err(AppError::internal)?;
                store::complete_idempotent(c, a.user_id, k, 201, &body)?;
            }
            Ok(Created::Fresh(outcome))
        })
        .await;
    let created = match created {
        Ok(c) => c,
        Err(e) => return Err(with_alternatives(&s, e).await),
    };
    Ok(match created {
        Created::Fresh(outcome) => (StatusCode::CREATED, Json(outcome)).into_response(),
        Created::Replay(status, body) => (
            StatusCode::from_u16(status as u16).unwrap_or(StatusCode::CREATED),
            [
                (axum::http::header::CONTENT_TYPE, "application/json"),
                (
                    axum::http::HeaderName::from_static("idempotent-replayed"),
                    "true",
                ),
            ],
            body,
        )
            .into_response(),
    })
}

#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(BookingQuery), responses((status = 200, body = Vec<BookingOut>)))]
pub async fn list_bookings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<BookingQuery>,
) -> AppResult<Json<Vec<BookingOut>>> {
    let tz = s.config.timezone;
    Ok(Json(
        s.db.run(move |c| bookings::list(c, &a, &q, tz)).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "bookings", params(("id" = i64, Path)),
    responses((status = 200, body = BookingOut), (status = 404, body = super::Problem)))]
pub async fn get_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<BookingOut>> {
    Ok(Json(s.db.run(move |c| bookings::get(c, &a, id)).await?))
}

/// Move or resize a booking; `scope: "following"` moves this and the later occurrences of
/// its series by the same shift in local time. Answers the bookings as they now are.
#[utoipa::path(patch, path = "/api/v1/bookings/{id}", tag = "bookings", params(("id" = i64, Path)), request_body = BookingChanges,
    responses((status = 200, body = Vec<BookingOut>), (status = 409, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<BookingChanges>,
) -> AppResult<Json<Vec<BookingOut>>> {
    let env = env(&s);
    match s
        .db
        .write(move |c| bookings::move_tx(c, &a, id, &changes, &env))
        .await
    {
        Ok(out) => Ok(Json(out)),
        Err(e) => Err(with_alternatives(&s, e).await),
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CancelBody {
    /// "one" (default) or "following".
    #[serde(default)]
    scope: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "bookings", params(("id" = i64, Path)), request_body = Option<CancelBody>,
    responses((status = 200, body = Vec<BookingOut>), (status = 409, body = super::Problem)))]
pub async fn cancel_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> AppResult<Json<Vec<BookingOut>>> {
    let env = env(&s);
    let scope = optional_json::<CancelBody>(&body)?.scope;
    Ok(Json(
        s.db.write(move |c| bookings::cancel_tx(c, &a, id, scope.as_deref(), &env))
            .await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct DecisionBody {
    /// Required to reject; sent to the member.
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/approve", tag = "bookings", params(("id" = i64, Path)), request_body = Option<DecisionBody>,
    responses((status = 200, body = BookingOut), (status = 403, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn approve_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> AppResult<Json<BookingOut>> {
    let env = env(&s);
    let reason = optional_json::<DecisionBody>(&body)?.reason;
    s.db.write(move |c| bookings::sweep_tx(c, env.now)).await?;
    Ok(Json(
        s.db.write(move |c| bookings::decide_tx(c, &a, id, true, reason.as_deref(), &env))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/reject", tag = "bookings", params(("id" = i64, Path)), request_body = DecisionBody,
    responses((status = 200, body = BookingOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn reject_booking(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> AppResult<Json<BookingOut>> {
    let env = env(&s);
    let reason = optional_json::<DecisionBody>(&body)?.reason;
    s.db.write(move |c| bookings::sweep_tx(c, env.now)).await?;
    Ok(Json(
        s.db.write(move |c| bookings::decide_tx(c, &a, id, false, reason.as_deref(), &env))
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AvailabilityQuery {
    /// RFC 3339 or local time.
    from: String,
    to: String,
}

/// Free intervals with the free quantity (buffers, opening hours and closures honoured).
#[utoipa::path(get, path = "/api/v1/resources/{id}/availability", tag = "bookings", params(("id" = i64, Path), AvailabilityQuery),
    responses((status = 200, body = Availability), (status = 422, body = super::Problem)))]
pub async fn availability(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> AppResult<Json<Availability>> {
    let env = env(&s);
    Ok(Json(
        s.db.run(move |c| bookings::availability(c, &a, id, &q.from, &q.to, &env))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/quotas", tag = "bookings", responses((status = 200, body = Vec<QuotaOut>)))]
pub async fn list_quotas(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Vec<QuotaOut>>> {
    Ok(Json(s.db.run(move |c| bookings::list_quotas(c, &a)).await?))
}

#[utoipa::path(post, path = "/api/v1/quotas", tag = "bookings", request_body = QuotaInput,
    responses((status = 201, body = QuotaOut), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_quota(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<QuotaInput>,
) -> AppResult<(StatusCode, Json<QuotaOut>)> {
    let now = s.now();
    Ok((
        StatusCode::CREATED,
        Json(
            s.db.run(move |c| bookings::create_quota(c, &a, &input, now))
                .await?,
        ),
    ))
}

#[utoipa::path(delete, path = "/api/v1/quotas/{id}", tag = "bookings", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = super::Problem)))]
pub async fn delete_quota(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    s.db.run(move |c| bookings::delete_quota(c, &a, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An optional JSON body: empty means defaults.
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> AppResult<T> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| AppError::BadRequest(format!("JSON illisible : {e}")))
}
