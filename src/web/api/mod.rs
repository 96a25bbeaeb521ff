//! JSON API v1: bearer-token authentication, problem+json errors, and the OpenAPI document
//! generated from the handlers' annotations (`/api/v1/openapi.json`).

mod allocation;
mod audit;
mod auth;
mod bookings;
mod catalogue;
mod directory;
mod doc;
mod notifications;
mod staff;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

use super::AppState;
use crate::error::AppError;
use doc::{BearerAuth, ErrorResponses};
pub use doc::{MergePatch, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/auth/token", post(auth::create_token))
        .route("/auth/tokens", get(auth::list_tokens))
        .route("/auth/tokens/{id}", delete(auth::revoke_token))
        .route("/me", get(auth::me))
        .route("/audit", get(audit::list_audit))
        .route(
            "/members",
            get(directory::list_members).post(directory::create_member),
        )
        .route(
            "/members/{id}",
            get(directory::get_member).patch(directory::patch_member),
        )
        .route("/members/{id}/archive", post(directory::archive_member))
        .route("/members/{id}/restore", post(directory::restore_member))
        .route(
            "/users",
            get(directory::list_users).post(directory::create_user),
        )
        .route(
            "/users/{id}",
            get(directory::get_user).patch(directory::patch_user),
        )
        .route(
            "/resources",
            get(catalogue::list_resources).post(catalogue::create_resource),
        )
        .route(
            "/resources/{id}",
            get(catalogue::get_resource).patch(catalogue::patch_resource),
        )
        .route("/resources/{id}/archive", post(catalogue::archive_resource))
        .route("/resources/{id}/restore", post(catalogue::restore_resource))
        .route(
            "/closures",
            get(catalogue::list_closures).post(catalogue::create_closure),
        )
        .route("/closures/{id}", delete(catalogue::delete_closure))
        .route("/resources/{id}/availability", get(bookings::availability))
        .route(
            "/bookings",
            get(bookings::list_bookings).post(bookings::create_booking),
        )
        .route(
            "/bookings/{id}",
            get(bookings::get_booking).patch(bookings::patch_booking),
        )
        .route("/bookings/{id}/cancel", post(bookings::cancel_booking))
        .route("/bookings/{id}/approve", post(bookings::approve_booking))
        .route("/bookings/{id}/reject", post(bookings::reject_booking))
        .route(
            "/quotas",
            get(bookings::list_quotas).post(bookings::create_quota),
        )
        .route("/quotas/{id}", delete(bookings::delete_quota))
        .route("/allocations/verify", get(allocation::verify))
        .route("/allocations/{month}", get(allocation::get_allocation))
        .route(
            "/allocations/{month}/members/{member_id}",
            get(allocation::get_statement),
        )
        .route("/allocations/{month}/fec", get(allocation::get_fec))
        .route("/allocations/{month}/close", post(allocation::close_month))
        .route(
            "/allocations/{month}/reopen",
            post(allocation::reopen_month),
        )
        .route(
            "/costs",
            get(allocation::list_costs).post(allocation::create_cost),
        )
        .route("/costs/what-if", post(allocation::what_if))
        .route(
            "/costs/{id}",
            get(allocation::get_cost)
                .put(allocation::update_cost)
                .delete(allocation::delete_cost),
        )
        .route(
            "/adjustments",
            get(allocation::list_adjustments).post(allocation::create_adjustment),
        )
        .route("/adjustments/{id}", delete(allocation::delete_adjustment))
        .route(
            "/resources/{id}/tariffs",
            get(allocation::list_tariffs).post(allocation::set_tariff),
        )
        .route(
            "/resources/{id}/tariffs/{effective_from}",
            delete(allocation::delete_tariff),
        )
        .route("/pricing", get(allocation::get_pricing))
        .route("/pricing/coefficients", post(allocation::set_coefficient))
        .route(
            "/pricing/coefficients/{category}/{effective_from}",
            delete(allocation::delete_coefficient),
        )
        .route(
            "/pricing/kinds/{kind}",
            axum::routing::put(allocation::set_kind_rule),
        )
        .route(
            "/pricing/statements",
            axum::routing::put(allocation::set_statement_settings),
        )
        .route(
            "/employees",
            get(staff::list_employees).post(staff::create_employee),
        )
        .route(
            "/employees/{id}",
            get(staff::get_employee).patch(staff::patch_employee),
        )
        .route("/employees/{id}/archive", post(staff::archive_employee))
        .route("/employees/{id}/restore", post(staff::restore_employee))
        .route("/employees/{id}/month/{month}", get(staff::employee_month))
        .route("/staff/week", get(staff::week))
        .route("/staff/free", get(staff::free))
        .route("/staff/ledger/{month}", get(staff::ledger))
        .route(
            "/members/{id}/staff-hours/{month}",
            get(staff::member_hours),
        )
        .route(
            "/feeds",
            get(notifications::list_feeds).post(notifications::create_feed),
        )
        .route("/feeds/{id}", delete(notifications::delete_feed))
        .route(
            "/me/notifications",
            get(notifications::get_preferences).put(notifications::put_preferences),
        )
        .route("/outbox", get(notifications::list_outbox))
        .route("/outbox/counts", get(notifications::outbox_counts))
        .route("/outbox/{id}/resend", post(notifications::resend))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> Response {
    AppError::NotFound.into_response()
}

async fn method_not_allowed() -> Response {
    AppError::MethodNotAllowed.into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Mutualise API", version = "1", description = "Réservations et partage des coûts d'un pôle territorial de coopération économique."),
    paths(
        auth::create_token, auth::list_tokens, auth::revoke_token, auth::me,
        directory::list_members, directory::create_member, directory::get_member, directory::patch_member,
        directory::archive_member, directory::restore_member,
        directory::list_users, directory::create_user, directory::get_user, directory::patch_user,
        catalogue::list_resources, catalogue::create_resource, catalogue::get_resource, catalogue::patch_resource,
        catalogue::archive_resource, catalogue::restore_resource,
        catalogue::list_closures, catalogue::create_closure, catalogue::delete_closure,
        bookings::create_booking, bookings::list_bookings, bookings::get_booking, bookings::patch_booking,
        bookings::cancel_booking, bookings::approve_booking, bookings::reject_booking, bookings::availability,
        bookings::list_quotas, bookings::create_quota, bookings::delete_quota,
        allocation::get_allocation, allocation::get_statement, allocation::get_fec,
        allocation::close_month, allocation::reopen_month, allocation::verify,
        allocation::list_costs, allocation::create_cost, allocation::get_cost, allocation::update_cost,
        allocation::delete_cost, allocation::what_if,
        allocation::list_adjustments, allocation::create_adjustment, allocation::delete_adjustment,
        allocation::list_tariffs, allocation::set_tariff, allocation::delete_tariff,
        allocation::get_pricing, allocation::set_coefficient, allocation::delete_coefficient,
        allocation::set_kind_rule, allocation::set_statement_settings,
        staff::list_employees, staff::create_employee, staff::get_employee, staff::patch_employee,
        staff::archive_employee, staff::restore_employee,
        staff::week, staff::employee_month, staff::free, staff::ledger, staff::member_hours,
        notifications::create_feed, notifications::list_feeds, notifications::delete_feed,
        notifications::get_preferences, notifications::put_preferences,
        notifications::list_outbox, notifications::outbox_counts, notifications::resend,
        audit::list_audit,
    ),
    components(schemas(Problem, MergePatch, bookings::SeriesBody, crate::domain::allocation::BlendPart)),
    modifiers(&BearerAuth, &ErrorResponses),
    security(("bearer" = []))
)]
pub struct ApiDoc;

async fn openapi_json() -> Response {
    (StatusCode::OK, Json(ApiDoc::openapi())).into_response()
}
