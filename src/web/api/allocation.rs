//! The monthly allocation: statements (JSON, CSV, FEC), closing and reopening, the hash
//! chain, cost entries, adjustments, tariffs and pricing settings.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::app::allocation::{
    self, AdjustmentInput, AdjustmentView, Allocation, CostInput, CostView, WhatIf,
};
use crate::app::months::{self, ChainCheck, MonthClosing};
use crate::app::pricing::{
    self, CoefficientVersion, KindRule, PricingSettings, StatementSettings, TariffVersion,
};
use crate::domain::allocation::KeySpec;
use crate::domain::ids::{AdjustmentId, CostId, MemberId, ResourceId};
use crate::domain::month::Month;
use crate::domain::resource::ResourceKind;
use crate::domain::statement::MemberStatement;
use crate::error::{AppError, AppResult};
use crate::export::{self, Dialect};
use crate::web::download;
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

fn month_of(raw: &str) -> AppResult<Month> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllocationQuery {
    /// CSV only: `comma` (default) or `semicolon` (French spreadsheets: BOM, `;`, decimal comma).
    #[param(inline, value_type = Option<super::doc::CsvDialect>)]
    pub format: Option<String>,
}

/// A month's statements: every member for the treasurer, its own for a member's users.
/// `{month}.csv` answers one CSV row per line.
#[utoipa::path(get, path = "/api/v1/allocations/{month}", tag = "allocations",
    params(("month" = String, Path, pattern = r"^[0-9]{4}-[0-9]{2}(\.json|\.csv)?$", example = "2027-01", description = "YYYY-MM, YYYY-MM.json or YYYY-MM.csv"), AllocationQuery),
    responses((status = 200, description = "JSON, or CSV for .csv", content((Allocation = "application/json"), (String = "text/csv"))), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn get_allocation(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(month): ApiPath<String>,
    ApiQuery(q): ApiQuery<AllocationQuery>,
) -> AppResult<Response> {
    let (raw, csv) = match month.strip_suffix(".csv") {
        Some(m) => (m, true),
        None => (month.strip_suffix(".json").unwrap_or(&month), false),
    };
    let month = month_of(raw)?;
    let dialect: Dialect = q
        .format
        .as_deref()
        .unwrap_or("")
        .parse()
        .map_err(AppError::BadRequest)?;
    let alloc = allocation::allocation(&s.app, &a, month).await?;
    Ok(if csv {
        download::csv(
            &export::allocation::table(&alloc),
            dialect,
            &format!("repartition-{month}"),
        )
    } else {
        Json(alloc).into_response()
    })
}

/// One member's statement of a month.
#[utoipa::path(get, path = "/api/v1/allocations/{month}/members/{member_id}", tag = "allocations",
    params(("month" = String, Path, pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2027-01"), ("member_id" = i64, Path)),
    responses((status = 200, body = MemberStatement), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn get_statement(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((month, member)): ApiPath<(String, MemberId)>,
) -> AppResult<Json<MemberStatement>> {
    let month = month_of(&month)?;
    Ok(Json(
        allocation::statement(&s.app, &a, month, member).await?.1,
    ))
}

/// The month in the French FEC layout (18 columns, `|`-separated), one balanced entry per
/// member (treasurer).
#[utoipa::path(get, path = "/api/v1/allocations/{month}/fec", tag = "allocations",
    params(("month" = String, Path, pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2027-01")),
    responses((status = 200, content_type = "text/plain", body = String), (status = 403, body = super::Problem)))]
pub async fn get_fec(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(month): ApiPath<String>,
) -> AppResult<Response> {
    let month = month_of(&month)?;
    crate::app::authz::require(crate::app::authz::can_manage_allocation(&a))?;
    let alloc = allocation::allocation(&s.app, &a, month).await?;
    let settings = pricing::statement_settings(&s.app, &a).await?;
    Ok(fec_response(&alloc, &settings, month))
}

/// The FEC file as an attachment (`<month>FEC.txt`).
pub fn fec_response(alloc: &Allocation, settings: &StatementSettings, month: Month) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"FEC-repartition-{month}.txt\""),
            ),
        ],
        export::allocation::fec(alloc, settings),
    )
        .into_response()
}

/// Close a month: its bookings and assignments are frozen and its statement stored, hashed
/// and chained to the previous closed month's (treasurer).
#[utoipa::path(post, path = "/api/v1/allocations/{month}/close", tag = "allocations", params(("month" = String, Path, pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2027-01")),
    responses((status = 200, body = MonthClosing), (status = 403, body = super::Problem), (status = 404, body = super::Problem),
        (status = 409, description = "month_closed, month_not_over, month_order, pending_requests, unsplittable_cost", body = super::Problem)))]
pub async fn close_month(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(month): ApiPath<String>,
) -> AppResult<Json<MonthClosing>> {
    Ok(Json(months::close(&s.app, &a, month_of(&month)?).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReopenBody {
    /// Why the month is reopened (recorded).
    pub reason: String,
}

/// Reopen the last closed month (administrator; recorded with the reason).
#[utoipa::path(post, path = "/api/v1/allocations/{month}/reopen", tag = "allocations", params(("month" = String, Path, pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2027-01")),
    request_body = ReopenBody,
    responses((status = 204), (status = 403, body = super::Problem), (status = 409, description = "month_open, month_order", body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn reopen_month(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(month): ApiPath<String>,
    ApiJson(body): ApiJson<ReopenBody>,
) -> AppResult<StatusCode> {
    months::reopen(&s.app, &a, month_of(&month)?, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the hash chain of every closed month's stored statement.
#[utoipa::path(get, path = "/api/v1/allocations/verify", tag = "allocations",
    responses((status = 200, body = Vec<ChainCheck>), (status = 403, body = super::Problem)))]
pub async fn verify(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<Vec<ChainCheck>>> {
    Ok(Json(months::verify(&s.app, &a).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2027-01")]
    pub month: String,
}

impl MonthQuery {
    fn month(&self) -> AppResult<Month> {
        self.month
            .parse()
            .map_err(|e: crate::domain::month::MonthError| {
                AppError::validation("month", e.to_string()).in_query()
            })
    }
}

#[utoipa::path(get, path = "/api/v1/costs", tag = "allocations", params(MonthQuery),
    responses((status = 200, body = Vec<CostView>), (status = 403, body = super::Problem)))]
pub async fn list_costs(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<Json<Vec<CostView>>> {
    let month = q.month()?;
    Ok(Json(allocation::costs(&s.app, &a, month).await?))
}

/// A cost entry of a month, split by its key (refused at once when the key cannot split it).
#[utoipa::path(post, path = "/api/v1/costs", tag = "allocations", request_body = CostInput,
    responses((status = 201, body = CostView), (status = 403, body = super::Problem), (status = 409, description = "month_closed", body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_cost(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<CostInput>,
) -> AppResult<(StatusCode, Json<CostView>)> {
    Ok((
        StatusCode::CREATED,
        Json(allocation::create_cost(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/costs/{id}", tag = "allocations", params(("id" = i64, Path)),
    responses((status = 200, body = CostView), (status = 404, body = super::Problem)))]
pub async fn get_cost(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<CostId>,
) -> AppResult<Json<CostView>> {
    Ok(Json(allocation::cost(&s.app, &a, id).await?))
}

#[utoipa::path(put, path = "/api/v1/costs/{id}", tag = "allocations", params(("id" = i64, Path)), request_body = CostInput,
    responses((status = 200, body = CostView), (status = 404, body = super::Problem), (status = 409, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn update_cost(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<CostId>,
    ApiJson(input): ApiJson<CostInput>,
) -> AppResult<Json<CostView>> {
    Ok(Json(allocation::update_cost(&s.app, &a, id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/costs/{id}", tag = "allocations", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn delete_cost(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<CostId>,
) -> AppResult<StatusCode> {
    allocation::delete_cost(&s.app, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WhatIfBody {
    pub cost: CostInput,
    /// The key to compare with the cost's own.
    pub other_key: KeySpec,
}

/// Each member's share of a cost entry not saved, under its key and another, side by side.
#[utoipa::path(post, path = "/api/v1/costs/what-if", tag = "allocations", request_body = WhatIfBody,
    responses((status = 200, body = WhatIf), (status = 403, body = super::Problem)))]
pub async fn what_if(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(body): ApiJson<WhatIfBody>,
) -> AppResult<Json<WhatIf>> {
    Ok(Json(
        allocation::what_if(&s.app, &a, body.cost, body.other_key).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/adjustments", tag = "allocations", params(MonthQuery),
    responses((status = 200, body = Vec<AdjustmentView>)))]
pub async fn list_adjustments(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<Json<Vec<AdjustmentView>>> {
    let month = q.month()?;
    Ok(Json(allocation::adjustments(&s.app, &a, month).await?))
}

/// A correction of a member's statement in an open month (negative: a credit).
#[utoipa::path(post, path = "/api/v1/adjustments", tag = "allocations", request_body = AdjustmentInput,
    responses((status = 201, body = AdjustmentView), (status = 409, description = "month_closed", body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_adjustment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<AdjustmentInput>,
) -> AppResult<(StatusCode, Json<AdjustmentView>)> {
    Ok((
        StatusCode::CREATED,
        Json(allocation::create_adjustment(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/adjustments/{id}", tag = "allocations", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn delete_adjustment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<AdjustmentId>,
) -> AppResult<StatusCode> {
    allocation::delete_adjustment(&s.app, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every version of a resource's tariff, oldest first.
#[utoipa::path(get, path = "/api/v1/resources/{id}/tariffs", tag = "allocations", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TariffVersion>), (status = 404, body = super::Problem)))]
pub async fn list_tariffs(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<Vec<TariffVersion>>> {
    Ok(Json(pricing::tariffs(&s.app, &a, id).await?))
}

/// Sets the tariff in force from a date (a version of the same date is replaced).
#[utoipa::path(post, path = "/api/v1/resources/{id}/tariffs", tag = "allocations", params(("id" = i64, Path)), request_body = TariffVersion,
    responses((status = 201, body = Vec<TariffVersion>), (status = 409, description = "month_closed", body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn set_tariff(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
    ApiJson(v): ApiJson<TariffVersion>,
) -> AppResult<(StatusCode, Json<Vec<TariffVersion>>)> {
    Ok((
        StatusCode::CREATED,
        Json(pricing::set_tariff(&s.app, &a, id, v).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/resources/{id}/tariffs/{effective_from}", tag = "allocations",
    params(("id" = i64, Path), ("effective_from" = NaiveDate, Path)),
    responses((status = 204), (status = 404, body = super::Problem), (status = 409, description = "last_tariff, month_closed", body = super::Problem)))]
pub async fn delete_tariff(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, from)): ApiPath<(ResourceId, NaiveDate)>,
) -> AppResult<StatusCode> {
    pricing::delete_tariff(&s.app, &a, id, from).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pricing coefficients, the rules of each resource kind and the statement settings.
#[utoipa::path(get, path = "/api/v1/pricing", tag = "allocations",
    responses((status = 200, body = PricingSettings), (status = 403, body = super::Problem)))]
pub async fn get_pricing(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> AppResult<Json<PricingSettings>> {
    Ok(Json(pricing::settings(&s.app, &a).await?))
}

/// A pricing category's coefficient from a date (social pricing: 500 = ×0.5).
#[utoipa::path(post, path = "/api/v1/pricing/coefficients", tag = "allocations", request_body = CoefficientVersion,
    responses((status = 201, body = PricingSettings), (status = 409, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn set_coefficient(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(v): ApiJson<CoefficientVersion>,
) -> AppResult<(StatusCode, Json<PricingSettings>)> {
    pricing::set_coefficient(&s.app, &a, v).await?;
    Ok((
        StatusCode::CREATED,
        Json(pricing::settings(&s.app, &a).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/pricing/coefficients/{category}/{effective_from}", tag = "allocations",
    params(("category" = String, Path), ("effective_from" = NaiveDate, Path)),
    responses((status = 204), (status = 404, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn delete_coefficient(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((category, from)): ApiPath<(String, NaiveDate)>,
) -> AppResult<StatusCode> {
    pricing::delete_coefficient(&s.app, &a, category, from).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct KindRuleBody {
    /// Cancelling less than this many minutes before the start is charged; absent: never.
    #[serde(default)]
    pub late_notice_minutes: Option<i32>,
    /// The share of the price a late cancellation costs, in percent.
    #[serde(default)]
    pub late_charged_percent: i32,
    /// Minutes free per member and month on this kind, used in booking order.
    #[serde(default)]
    pub free_minutes_per_month: i32,
}

/// The late-cancellation rule and monthly free allowance of a resource kind.
#[utoipa::path(put, path = "/api/v1/pricing/kinds/{kind}", tag = "allocations",
    params(("kind" = ResourceKind, Path)), request_body = KindRuleBody,
    responses((status = 200, body = PricingSettings), (status = 422, body = super::Problem)))]
pub async fn set_kind_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(kind): ApiPath<String>,
    ApiJson(body): ApiJson<KindRuleBody>,
) -> AppResult<Json<PricingSettings>> {
    let rule = KindRule {
        kind: ResourceKind::parse(&kind).ok_or(AppError::NotFound)?,
        late_notice_minutes: body.late_notice_minutes,
        late_charged_percent: body.late_charged_percent,
        free_minutes_per_month: body.free_minutes_per_month,
    };
    pricing::set_kind_rule(&s.app, &a, rule).await?;
    Ok(Json(pricing::settings(&s.app, &a).await?))
}

/// What statements print (art. 261 B CGI mention, the pole's details) and the FEC accounts.
#[utoipa::path(put, path = "/api/v1/pricing/statements", tag = "allocations", request_body = StatementSettings,
    responses((status = 200, body = PricingSettings), (status = 422, body = super::Problem)))]
pub async fn set_statement_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(v): ApiJson<StatementSettings>,
) -> AppResult<Json<PricingSettings>> {
    pricing::set_statement_settings(&s.app, &a, v).await?;
    Ok(Json(pricing::settings(&s.app, &a).await?))
}
