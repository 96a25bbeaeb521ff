//! Shared employees of employer groups.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use crate::app::employees::{self, EmployeeQuery, EmployeeView};
use crate::app::ledger::{self, Ledger};
use crate::app::planning::{
    self, Candidate, EmployeeMonth, FreeQuery, MemberStaffHours, WeekPlan, WeekQuery,
};
use crate::domain::employee::EmployeeInput;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::month::Month;
use crate::error::{AppError, AppResult};
use crate::export::{self, Dialect};
use crate::web::download;
use crate::web::extract::{ApiActor, ApiJson, ApiPath, ApiQuery};
use crate::web::AppState;

/// Employees the caller may see; `skill` finds those with a skill (« chariot »).
#[utoipa::path(get, path = "/api/v1/employees", tag = "staff", params(EmployeeQuery),
    responses((status = 200, body = Vec<EmployeeView>), (status = 401, body = super::Problem)))]
pub async fn list_employees(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<EmployeeQuery>,
) -> AppResult<Json<Vec<EmployeeView>>> {
    Ok(Json(employees::list(&s.app, &a, q).await?))
}

/// A new employee of an employer group (its managers and administrators).
#[utoipa::path(post, path = "/api/v1/employees", tag = "staff", request_body = EmployeeInput,
    responses((status = 201, body = EmployeeView), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(input): ApiJson<EmployeeInput>,
) -> AppResult<(StatusCode, Json<EmployeeView>)> {
    Ok((
        StatusCode::CREATED,
        Json(employees::create(&s.app, &a, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/employees/{id}", tag = "staff", params(("id" = i64, Path)),
    responses((status = 200, body = EmployeeView), (status = 404, body = super::Problem)))]
pub async fn get_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<EmployeeView>> {
    Ok(Json(employees::get(&s.app, &a, id).await?))
}

/// JSON merge patch (RFC 7396) over the employee's fields.
#[utoipa::path(patch, path = "/api/v1/employees/{id}", tag = "staff", params(("id" = i64, Path)), request_body = super::MergePatch,
    responses((status = 200, body = EmployeeView), (status = 403, body = super::Problem), (status = 404, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn patch_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
    ApiJson(patch): ApiJson<Value>,
) -> AppResult<Json<EmployeeView>> {
    Ok(Json(employees::patch(&s.app, &a, id, patch).await?))
}

#[utoipa::path(post, path = "/api/v1/employees/{id}/archive", tag = "staff", params(("id" = i64, Path)),
    responses((status = 200, body = EmployeeView), (status = 403, body = super::Problem),
        (status = 409, description = "future_assignments: the employee still has assignments to come (cancel them first)", body = super::Problem)))]
pub async fn archive_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<EmployeeView>> {
    Ok(Json(employees::set_archived(&s.app, &a, id, true).await?))
}

#[utoipa::path(post, path = "/api/v1/employees/{id}/restore", tag = "staff", params(("id" = i64, Path)),
    responses((status = 200, body = EmployeeView), (status = 403, body = super::Problem)))]
pub async fn restore_employee(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<ResourceId>,
) -> AppResult<Json<EmployeeView>> {
    Ok(Json(employees::set_archived(&s.app, &a, id, false).await?))
}

/// The week grid of the employees the caller plans (employer-group managers: their groups';
/// the pole's coordination: all): every member's assignments, the week's totals, and what the
/// working-time rules say of it.
#[utoipa::path(get, path = "/api/v1/staff/week", tag = "staff", params(WeekQuery),
    responses((status = 200, body = WeekPlan), (status = 403, body = super::Problem)))]
pub async fn week(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<WeekQuery>,
) -> AppResult<Json<WeekPlan>> {
    Ok(Json(planning::week(&s.app, &a, q).await?))
}

/// One employee's month: its weeks and the hours at each member.
#[utoipa::path(get, path = "/api/v1/employees/{id}/month/{month}", tag = "staff",
    params(("id" = i64, Path), ("month" = String, Path, pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2027-01")),
    responses((status = 200, body = EmployeeMonth), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn employee_month(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, month)): ApiPath<(ResourceId, String)>,
) -> AppResult<Json<EmployeeMonth>> {
    let month: Month = month.parse().map_err(|_| AppError::NotFound)?;
    Ok(Json(planning::employee_month(&s.app, &a, id, month).await?))
}

/// Who is free for a slot (with a skill, for a member): available first, each with what the
/// working-time rules would say of the assignment.
#[utoipa::path(get, path = "/api/v1/staff/free", tag = "staff", params(FreeQuery),
    responses((status = 200, body = Vec<Candidate>), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn free(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<FreeQuery>,
) -> AppResult<Json<Vec<Candidate>>> {
    Ok(Json(planning::free(&s.app, &a, q).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Only the employees of this employer group.
    pub employer_id: Option<MemberId>,
    /// For `.csv`: `comma` (default) or `semicolon` (BOM, decimal commas, French headers).
    #[param(inline, value_type = Option<super::doc::CsvDialect>)]
    pub format: Option<String>,
}

/// The month's hours ledger: per employee and member, hours worked, in training, absent,
/// overtime at +25 % and +50 %, and what each member is charged. `{month}.csv` gives it as
/// CSV.
#[utoipa::path(get, path = "/api/v1/staff/ledger/{month}", tag = "staff",
    params(("month" = String, Path, pattern = r"^[0-9]{4}-[0-9]{2}(\.json|\.csv)?$", example = "2027-01", description = "YYYY-MM, YYYY-MM.json or YYYY-MM.csv"), LedgerQuery),
    responses((status = 200, description = "JSON, or CSV for .csv", content((Ledger = "application/json"), (String = "text/csv"))), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn ledger(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(month): ApiPath<String>,
    ApiQuery(q): ApiQuery<LedgerQuery>,
) -> AppResult<Response> {
    let (month, csv) = match month.strip_suffix(".csv") {
        Some(m) => (m, true),
        None => (month.strip_suffix(".json").unwrap_or(&month), false),
    };
    let month: Month = month.parse().map_err(|_| AppError::NotFound)?;
    let dialect: Dialect = q
        .format
        .as_deref()
        .unwrap_or("")
        .parse()
        .map_err(AppError::BadRequest)?;
    let ledger = ledger::ledger(&s.app, &a, month, q.employer_id).await?;
    Ok(if csv {
        download::csv(
            &export::ledger::table(&ledger),
            dialect,
            &format!("heures-salaries-partages-{month}"),
        )
    } else {
        Json(ledger).into_response()
    })
}

/// The shared-staff hours a member received in a month (its people and the pole's team).
#[utoipa::path(get, path = "/api/v1/members/{id}/staff-hours/{month}", tag = "staff",
    params(("id" = i64, Path), ("month" = String, Path, pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2027-01")),
    responses((status = 200, body = MemberStaffHours), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn member_hours(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, month)): ApiPath<(MemberId, String)>,
) -> AppResult<Json<MemberStaffHours>> {
    let month: Month = month.parse().map_err(|_| AppError::NotFound)?;
    Ok(Json(planning::member_hours(&s.app, &a, id, month).await?))
}
