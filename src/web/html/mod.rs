//! Server-rendered pages (maud, French). One layout, small components, forms that keep what
//! was typed and show each error beside its field. Pages work without JavaScript.

mod account;
mod allocation;
mod audit;
mod booking_list;
mod bookings;
mod calendar;
mod catalogue;
mod directory;
mod home;
mod notifications;
mod paging;
mod planning;
mod staff;
mod users;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{html, Markup, DOCTYPE};

use super::extract::PageActor;
use super::problem::{status_of, title_of};
use super::AppState;
use crate::app::auth::SessionActor;
use crate::app::authz::{self, Actor};
use crate::app::App;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::dashboard))
        .route("/assets/app.css", get(stylesheet))
        .route(
            "/assets/calendar.js",
            get(|| script(include_str!("../../../assets/calendar.js"))),
        )
        .route(
            "/assets/booking.js",
            get(|| script(include_str!("../../../assets/booking.js"))),
        )
        .route(
            "/setup",
            get(account::setup_form).post(account::setup_submit),
        )
        .route(
            "/login",
            get(account::login_form).post(account::login_submit),
        )
        .route(
            "/password/forgot",
            get(account::forgot_form).post(account::forgot_submit),
        )
        .route(
            "/password/reset/{token}",
            get(account::reset_form).post(account::reset_submit),
        )
        .route("/logout", post(account::logout))
        .route("/account", get(account::account_page))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/account/notifications",
            get(notifications::preferences_page).post(notifications::save_preferences),
        )
        .route(
            "/account/calendars",
            get(notifications::calendars_page).post(notifications::create_feed),
        )
        .route(
            "/account/calendars/{id}/delete",
            post(notifications::delete_feed),
        )
        .route("/admin/outbox", get(notifications::outbox_page))
        .route("/admin/audit", get(audit::audit_page))
        .route("/admin/outbox/{id}/resend", post(notifications::resend))
        .route("/members", get(directory::list).post(directory::create))
        .route("/members.csv", get(directory::list_csv))
        .route("/members/new", get(directory::new_form))
        .route(
            "/members/{id}",
            get(directory::show).post(directory::update),
        )
        .route("/members/{id}/edit", get(directory::edit_form))
        .route("/members/{id}/archive", post(directory::archive))
        .route("/members/{id}/restore", post(directory::restore))
        .route("/resources", get(catalogue::list).post(catalogue::create))
        .route("/resources.csv", get(catalogue::list_csv))
        .route("/resources/new", get(catalogue::new_form))
        .route(
            "/resources/{id}",
            get(catalogue::show).post(catalogue::update),
        )
        .route("/resources/{id}/edit", get(catalogue::edit_form))
        .route("/resources/{id}/archive", post(catalogue::archive))
        .route("/resources/{id}/restore", post(catalogue::restore))
        .route(
            "/closures",
            get(catalogue::closures_page).post(catalogue::create_closure),
        )
        .route("/closures/{id}/delete", post(catalogue::delete_closure))
        .route("/staff", get(staff::list).post(staff::create))
        .route("/staff/new", get(staff::new_form))
        .route("/staff/week", get(planning::week))
        .route("/staff/free", get(planning::free))
        .route("/staff/ledger", get(planning::ledger_page))
        .route("/staff/ledger.csv", get(planning::ledger_csv))
        .route("/staff/hours", get(planning::member_hours))
        .route("/staff/{id}/month", get(planning::month))
        .route("/staff/{id}", get(staff::show).post(staff::update))
        .route("/staff/{id}/edit", get(staff::edit_form))
        .route("/staff/{id}/archive", post(staff::archive))
        .route("/staff/{id}/restore", post(staff::restore))
        .route("/users", get(users::list).post(users::create))
        .route("/users/new", get(users::new_form))
        .route("/users/{id}", get(users::edit_form).post(users::update))
        .route("/bookings", get(booking_list::list).post(bookings::create))
        .route("/bookings.csv", get(booking_list::csv))
        .route("/bookings/new", get(bookings::new_form))
        .route("/bookings/estimate", get(bookings::estimate_fragment))
        .route("/bookings/{id}", get(bookings::show))
        .route("/bookings/{id}/move", post(bookings::move_booking))
        .route("/bookings/{id}/cancel", post(bookings::cancel))
        .route("/bookings/{id}/approve", post(bookings::approve))
        .route("/bookings/{id}/reject", post(bookings::reject))
        .route("/approvals", get(bookings::approvals))
        .route("/calendar", get(calendar::day))
        .route("/resources/{id}/week", get(calendar::week))
        .route("/resources/{id}/month", get(calendar::month))
        .route("/allocations", get(allocation::month_page))
        .route("/allocations/verify", get(allocation::verify_page))
        .route(
            "/allocations/settings",
            get(allocation::settings_page).post(allocation::save_statement_settings),
        )
        .route(
            "/allocations/settings/coefficients",
            post(allocation::add_coefficient),
        )
        .route(
            "/allocations/settings/coefficients/delete",
            post(allocation::delete_coefficient),
        )
        .route(
            "/allocations/settings/kinds/{kind}",
            post(allocation::save_kind_rule),
        )
        .route(
            "/allocations/costs/{id}",
            get(allocation::cost_page).post(allocation::update_cost),
        )
        .route(
            "/allocations/costs/{id}/delete",
            post(allocation::delete_cost),
        )
        // `{month}.csv` (matchit has no suffixes: the handler strips it).
        .route("/allocations/{month}", get(allocation::month_file))
        .route("/allocations/{month}/fec.txt", get(allocation::fec))
        .route(
            "/allocations/{month}/members/{member_id}",
            get(allocation::statement_page),
        )
        .route(
            "/allocations/{month}/costs",
            get(allocation::costs_page).post(allocation::create_cost),
        )
        .route(
            "/allocations/{month}/adjustments",
            post(allocation::create_adjustment),
        )
        .route(
            "/allocations/{month}/adjustments/{id}/delete",
            post(allocation::delete_adjustment),
        )
        .route("/allocations/{month}/close", post(allocation::close))
        .route("/allocations/{month}/reopen", post(allocation::reopen))
        .fallback(not_found)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../assets/app.css"),
    )
        .into_response()
}

/// The pages' few scripts: each page works without them.
async fn script(text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        text,
    )
        .into_response()
}

async fn not_found(State(s): State<AppState>, maybe: super::extract::MaybePageActor) -> Response {
    error_page(&s, maybe.0.as_deref(), AppError::NotFound)
}

/// Everything the layout needs about the request.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub session: Option<&'a SessionActor>,
}

impl<'a> Ctx<'a> {
    pub fn new(state: &'a AppState, page: &'a PageActor) -> Self {
        Self {
            state,
            session: Some(&page.0),
        }
    }
    pub fn actor(&self) -> Option<&Actor> {
        self.session.map(|s| &s.actor)
    }
    pub fn csrf(&self) -> &str {
        self.session.map(|s| s.csrf_token.as_str()).unwrap_or("")
    }
    pub fn tz(&self) -> Tz {
        self.state.tz()
    }
    pub fn app(&self) -> &'a App {
        &self.state.app
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Resources,
    Members,
    Closures,
    Users,
    Account,
    Bookings,
    Calendar,
    Approvals,
    Staff,
    Allocation,
    None,
}

pub fn layout(ctx: &Ctx, title: &str, nav: Nav, notice: Option<&str>, body: Markup) -> Markup {
    let pole = &ctx.state.app.config().pole_name;
    // A member's users reach their own statement of the current month (the first member's,
    // which links to the others).
    let statement_link = ctx.actor().and_then(|a| {
        let m = a.memberships.first()?;
        let month = crate::domain::month::Month::containing(ctx.state.app.now(), ctx.tz());
        Some(format!("/allocations/{month}/members/{}", m.member_id))
    });
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (pole) " · Mutualise" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body {
                a.skip href="#contenu" { "Aller au contenu" }
                header.top {
                    a.brand href="/" { "Mutualise" span.pole { (pole) } }
                    @if let Some(actor) = ctx.actor() {
                        // A disclosure on a phone; on a wider screen the stylesheet shows its
                        // content and hides « Menu » (no JavaScript either way).
                        details.menu {
                            summary { "Menu" }
                            nav aria-label="Navigation principale" {
                                ul {
                                    (nav_item("/", "Tableau de bord", nav == Nav::Home))
                                    (nav_item("/bookings", "Réservations", nav == Nav::Bookings))
                                    (nav_item("/calendar", "Planning", nav == Nav::Calendar))
                                    @if authz::can_decide(actor) {
                                        (approvals_item(ctx.session.and_then(|s| s.requests_to_decide), nav == Nav::Approvals))
                                    }
                                    (nav_item("/resources", "Ressources", nav == Nav::Resources))
                                    (nav_item("/staff", "Salariés partagés", nav == Nav::Staff))
                                    (nav_item("/members", "Structures", nav == Nav::Members))
                                    (nav_item("/closures", "Fermetures", nav == Nav::Closures))
                                    @if authz::can_manage_allocation(actor) {
                                        (nav_item("/allocations", "Répartition", nav == Nav::Allocation))
                                    } @else if let Some(href) = &statement_link {
                                        (nav_item(href, "Mon relevé", nav == Nav::Allocation))
                                    }
                                    @if authz::can_see_users_page(actor) {
                                        (nav_item("/users", "Utilisateurs", nav == Nav::Users))
                                    }
                                    (nav_item("/account", "Mon compte", nav == Nav::Account))
                                }
                            }
                            form.logout method="post" action="/logout" {
                                input type="hidden" name="_csrf" value=(ctx.csrf());
                                span.who { (actor.name) }
                                button.link type="submit" { "Se déconnecter" }
                            }
                        }
                    }
                }
                main #contenu {
                    @if let Some(n) = notice {
                        p.notice role="status" { (n) }
                    }
                    (body)
                }
                footer { "Mutualise — réservations et partage des coûts du pôle." }
            }
        }
    }
}

fn nav_item(href: &str, label: &str, current: bool) -> Markup {
    html! {
        li { a href=(href) aria-current=[current.then_some("page")] { (label) } }
    }
}

/// « Validation », with the number of requests waiting when there are some: « (3) » for the
/// eye, « 3 demandes en attente » for screen readers.
fn approvals_item(waiting: Option<i64>, current: bool) -> Markup {
    html! {
        li { a href="/approvals" aria-current=[current.then_some("page")] {
            "Validation"
            @if let Some(n) = waiting.filter(|n| *n > 0) {
                " " span.count aria-hidden="true" { "(" (n) ")" }
                span.visually-hidden { " : " (n) @if n > 1 { " demandes en attente" } @else { " demande en attente" } }
            }
        } }
    }
}

pub fn page(ctx: &Ctx, title: &str, nav: Nav, notice: Option<&str>, body: Markup) -> Response {
    layout(ctx, title, nav, notice, body).into_response()
}

pub fn page_with_status(
    status: StatusCode,
    ctx: &Ctx,
    title: &str,
    nav: Nav,
    body: Markup,
) -> Response {
    (status, layout(ctx, title, nav, None, body)).into_response()
}

/// Renders an error as a page; internal causes are logged, never shown.
pub fn error_page(state: &AppState, session: Option<&SessionActor>, err: AppError) -> Response {
    err.log();
    let ctx = Ctx { state, session };
    let status = status_of(&err);
    let body = html! {
        h1 { (title_of(&err)) }
        p { (err.detail()) }
        @if let AppError::Validation(errors) = &err {
            (error_summary(errors))
        }
        p { a href="/" { "Retour au tableau de bord" } }
    };
    (status, layout(&ctx, title_of(&err), Nav::None, None, body)).into_response()
}

/// Maps an `app` error for a page: `Err` carries the page to send. (A response is large, but
/// it is returned at once by the handler: boxing it would buy nothing.)
#[allow(clippy::result_large_err)]
pub fn or_page<T>(ctx: &Ctx, r: Result<T, AppError>) -> Result<T, Response> {
    r.map_err(|e| error_page(ctx.state, ctx.session, e))
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The one shape of a form's submission: what was typed is parsed, the use case called; on
/// success the browser is sent on (POST → redirect → GET), on field errors the form is shown
/// again with the user's input and each error beside its field, and any other error is an
/// error page.
pub async fn submit<I, T>(
    ctx: &Ctx<'_>,
    parsed: Result<I, FieldErrors>,
    call: impl AsyncFnOnce(I) -> AppResult<T>,
    done: impl FnOnce(T) -> String,
    again: impl AsyncFnOnce(FieldErrors) -> Response,
) -> Response {
    let input = match parsed {
        Ok(i) => i,
        Err(errors) => return again(errors).await,
    };
    match call(input).await {
        Ok(value) => see_other(&done(value)),
        Err(AppError::Validation(errors)) => again(errors).await,
        Err(e) => error_page(ctx.state, ctx.session, e),
    }
}

/// Archive or restore something from its page, then back to that page with a notice.
pub async fn set_archived<T>(
    ctx: &Ctx<'_>,
    page: &str,
    archived: bool,
    call: impl AsyncFnOnce(bool) -> AppResult<T>,
) -> Response {
    match call(archived).await {
        Ok(_) => see_other(&format!(
            "{page}?notice={}",
            if archived { "archived" } else { "restored" }
        )),
        Err(e) => error_page(ctx.state, ctx.session, e),
    }
}

/// The errors of parsing a form (numbers, dates…) completed with the domain's checks of the
/// rest, so the form reports every problem at once.
pub fn with_checks<I, D>(
    mut parse_errors: FieldErrors,
    input: I,
    check: impl FnOnce(&I) -> Result<D, FieldErrors>,
) -> Result<I, FieldErrors> {
    if let Err(more) = check(&input) {
        for f in more.0 {
            if parse_errors.get(&f.field).is_none() {
                parse_errors.0.push(f);
            }
        }
    }
    if parse_errors.is_empty() {
        Ok(input)
    } else {
        Err(parse_errors)
    }
}

pub fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "created" => "Enregistrement créé.",
        "saved" => "Modifications enregistrées.",
        "archived" => "Élément archivé.",
        "restored" => "Élément restauré.",
        "deleted" => "Élément supprimé.",
        "password" => "Mot de passe modifié. Vos autres sessions ont été fermées.",
        "revoked" => "Jeton révoqué.",
        "welcome" => "Bienvenue ! Votre compte administrateur est prêt.",
        "password_reset" => {
            "Nouveau mot de passe enregistré : vous êtes connecté(e). Vos autres sessions et vos jetons d'API ont été fermés."
        }
        _ => return None,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

// ---- components ----

pub fn error_summary(errors: &FieldErrors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.errors role="alert" {
                p { "Le formulaire contient des erreurs :" }
                ul { @for e in &errors.0 { li { a href={ "#f-" (e.field.replace('.', "-")) } { (e.message) } } } }
            }
        }
    }
}

pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="_csrf" value=(ctx.csrf()); }
}

/// A labelled input with its error beside it.
pub fn field(
    label: &str,
    name: &str,
    value: &str,
    kind: &str,
    errors: &FieldErrors,
    hint: Option<&str>,
) -> Markup {
    field_for(label, name, name, value, kind, errors, hint)
}

/// Like `field`, where the error key differs from the form name (e.g. euros vs cents).
pub fn field_for(
    label: &str,
    name: &str,
    error_key: &str,
    value: &str,
    kind: &str,
    errors: &FieldErrors,
    hint: Option<&str>,
) -> Markup {
    let id = format!("f-{}", error_key.replace('.', "-"));
    let err = errors.get(error_key);
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            @if let Some(h) = hint { small.hint { (h) } }
            input id=(id) name=(name) type=(kind) value=(value) aria-invalid=[err.map(|_| "true")];
            @if let Some(e) = err { p.field-error { (e) } }
        }
    }
}

pub fn textarea(label: &str, name: &str, value: &str, errors: &FieldErrors) -> Markup {
    let id = format!("f-{name}");
    let err = errors.get(name);
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows="3" { (value) }
            @if let Some(e) = err { p.field-error { (e) } }
        }
    }
}

pub fn select(
    label: &str,
    name: &str,
    options: &[(String, String)],
    selected: &str,
    errors: &FieldErrors,
) -> Markup {
    let id = format!("f-{name}");
    let err = errors.get(name);
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
            @if let Some(e) = err { p.field-error { (e) } }
        }
    }
}

pub fn checkbox(label: &str, name: &str, checked: bool) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field.check {
            input id=(id) type="checkbox" name=(name) value="on" checked[checked];
            label for=(id) { (label) }
        }
    }
}

/// A POST button in its own small form (archive, revoke…).
pub fn action_button(ctx: &Ctx, action: &str, label: &str, class: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_field(ctx))
            button type="submit" class=(class) { (label) }
        }
    }
}

pub fn fmt_local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string()
}

/// Value for a `datetime-local` input.
pub fn input_local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

pub fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.is_empty() && v != "off")
}
