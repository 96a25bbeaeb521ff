//! Resources and closures.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::closures::{self, ClosureQuery, ClosureView};
use crate::app::guard::{self, BrokenBooking, Guarded};
use crate::app::resources::{self, ResourceQuery, ResourceView};
use crate::domain::closure::ClosureInput;
use crate::domain::ids::ResourceId;
use crate::domain::resource::ResourceInput;
use crate::error::{AppError, AppResult};
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

#[utoipa::path(get, path = "/api/v1/resources", tag = "resources", params(ResourceQuery),
    responses((status = 200, body = Vec<ResourceView>), (status = 400, description = "invalid_query: a filter cannot be read", body = super::Problem)))]
pub async fn list_resources(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> AppResult<Json<Vec<ResourceView>>> {
    Ok(Json(
        resources::list(&s.app, &a, q)
            .await
            .map_err(AppError::in_query)?,
    ))
}

#[utoipa::path(post, path = "/api/v1/resources", tag = "resources", request_body = ResourceInput,
    responses((status = 201, body = ResourceView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<ResourceInput>,
) -> AppResult<(StatusCode, Json<ResourceView>)> {
    Ok((
        StatusCode::CREATED,
        Json(resources::create(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/resources/{id}", tag = "resources", params(("id" = i64, Path)),
    responses((status = 200, body = ResourceView), (status = 404, body = super::Problem)))]
pub async fn get_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<ResourceView>> {
    Ok(Json(resources::get(&s.app, &a, id).await?))
}

/// A change refused because it would cancel bookings: code `breaks_bookings`, the bookings
/// listed. Nothing changed; send the request again with `"force": true` to confirm.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BreaksBookingsProblem {
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// `breaks_bookings`
    pub code: String,
    /// The bookings the change would cancel, by start.
    pub bookings: Vec<BrokenBooking>,
}

/// The answer to a guarded change: `ok` with the value, or 409 `breaks_bookings`.
fn guarded<T: Serialize>(outcome: Guarded<T>, ok: StatusCode) -> Response {
    match outcome {
        Guarded::Done(v) => (ok, Json(v)).into_response(),
        Guarded::WouldBreak(list) => {
            let e = AppError::Conflict {
                code: "breaks_bookings",
                detail: format!(
                    "{}. Renvoyez la demande avec \"force\": true pour confirmer : elles seront \
                     annulées et leurs réservants prévenus.",
                    guard::summary(list.len())
                ),
            };
            let mut body = crate::web::problem::problem_body(&e);
            body["bookings"] = serde_json::json!(list);
            let mut r = (StatusCode::CONFLICT, Json(body)).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            r
        }
    }
}

/// Body of `PATCH /resources/{id}`: any field of the resource (`ResourceInput`), merged into
/// its settings (JSON merge patch, RFC 7396), and `force`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResourcePatch {
    /// Confirms a change of capacity, buffers or opening hours that would break bookings:
    /// they are cancelled and their bookers told by mail. Without it such a change answers
    /// 409 `breaks_bookings` and changes nothing.
    #[serde(default)]
    pub force: bool,
    /// The fields of `ResourceInput` to change.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub changes: serde_json::Map<String, Value>,
}

/// JSON merge patch (RFC 7396) over the resource's fields.
#[utoipa::path(patch, path = "/api/v1/resources/{id}", tag = "resources", params(("id" = i64, Path)), request_body = ResourcePatch,
    responses((status = 200, body = ResourceView), (status = 403, body = super::Problem),
        (status = 409, description = "breaks_bookings: the change would cancel the bookings listed (send force: true to confirm)", body = BreaksBookingsProblem),
        (status = 422, body = super::Problem)))]
pub async fn patch_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
    ApiJson(patch): ApiJson<ResourcePatch>,
) -> AppResult<Response> {
    let outcome =
        resources::patch(&s.app, &a, id, Value::Object(patch.changes), patch.force).await?;
    Ok(guarded(outcome, StatusCode::OK))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/archive", tag = "resources", params(("id" = i64, Path)), responses((status = 200, body = ResourceView)))]
pub async fn archive_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<ResourceView>> {
    Ok(Json(resources::set_archived(&s.app, &a, id, true).await?))
}

#[utoipa::path(post, path = "/api/v1/resources/{id}/restore", tag = "resources", params(("id" = i64, Path)), responses((status = 200, body = ResourceView)))]
pub async fn restore_resource(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<ResourceView>> {
    Ok(Json(resources::set_archived(&s.app, &a, id, false).await?))
}

#[utoipa::path(get, path = "/api/v1/closures", tag = "closures", params(ClosureQuery), responses((status = 200, body = Vec<ClosureView>)))]
pub async fn list_closures(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ClosureQuery>,
) -> AppResult<Json<Vec<ClosureView>>> {
    Ok(Json(closures::list(&s.app, &a, q).await?))
}

/// Body of `POST /closures`: the closure, and `force`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewClosure {
    #[serde(flatten)]
    pub closure: ClosureInput,
    /// Confirms a closure over bookings: they are cancelled and their bookers told by mail.
    /// Without it such a closure answers 409 `breaks_bookings` and is not recorded.
    #[serde(default)]
    pub force: bool,
}

#[utoipa::path(post, path = "/api/v1/closures", tag = "closures", request_body = NewClosure,
    responses((status = 201, body = ClosureView), (status = 403, body = super::Problem),
        (status = 409, description = "breaks_bookings: the closure would cancel the bookings listed (send force: true to confirm)", body = BreaksBookingsProblem),
        (status = 422, body = super::Problem)))]
pub async fn create_closure(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<NewClosure>,
) -> AppResult<Response> {
    let outcome = closures::create(&s.app, &a, input.closure, input.force).await?;
    Ok(guarded(outcome, StatusCode::CREATED))
}

#[utoipa::path(delete, path = "/api/v1/closures/{id}", tag = "closures", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::Problem)))]
pub async fn delete_closure(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    closures::delete(&s.app, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
