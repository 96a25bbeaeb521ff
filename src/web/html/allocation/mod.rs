//! The treasurer's pages of the monthly allocation (DESIGN.md §5): the month with every
//! member's total, a bar chart and the twelve-month trend, what each resource cost and
//! recovered, the problems that block the close, adjustments, closing and reopening; each
//! member's printable statement; the month's cost entries with their split keys (and a
//! comparison of two keys before saving); the pricing settings; the check of the statements'
//! hash chain; the CSV and FEC files.
//!
//! Everything goes through `app::allocation`, `app::months` and `app::pricing`, which
//! authorise: a member's users reach their own statements only. Charts are inline SVG drawn
//! on the server, confirmations are `<details>`: nothing needs JavaScript.
//!
//! This module holds the helpers the pages share, the month page, its CSV and FEC files,
//! closing, reopening and adjustments; `statement` the printable statement, `costs` the cost
//! entries, `settings` the pricing settings and the chain's verification, `charts` the SVG.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    action_button, csrf_field, error_summary, field, field_for, fmt_local, layout, or_page,
    see_other, select, textarea, Ctx, Nav,
};
use crate::app::allocation::{self, AdjustmentInput, Allocation, MonthStatus};
use crate::app::authz;
use crate::app::members;
use crate::app::months;
use crate::app::pricing;
use crate::domain::ids::{AdjustmentId, MemberId};
use crate::domain::money::{format_euros, parse_euros};
use crate::domain::month::{label_fr, Month};
use crate::domain::statement::{format_rate, Source};
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::export::{self, Dialect};
use crate::web::download;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::AppState;

mod charts;
mod costs;
mod settings;
mod statement;

pub use costs::{cost_page, costs_page, create_cost, delete_cost, update_cost};
pub use settings::{
    add_coefficient, delete_coefficient, save_kind_rule, save_statement_settings, settings_page,
    verify_page,
};
pub use statement::statement_page;

// ---------------------------------------------------------------------------------------
// Small helpers

fn current_month(s: &AppState) -> Month {
    Month::containing(s.app.now(), s.tz())
}

/// The month of a path (`2027-01`); anything else is a page that does not exist.
#[allow(clippy::result_large_err)]
fn path_month(s: &AppState, p: &PageActor, raw: &str) -> Result<Month, Response> {
    raw.parse()
        .map_err(|_| super::error_page(s, Some(&p.0), AppError::NotFound))
}

/// A month as typed in a form (`2027-01`).
fn parse_month(raw: &str) -> Result<Month, String> {
    raw.parse::<Month>().map_err(|e| e.to_string())
}

/// A field read only when filled: `Ok(None)` when empty (or blank), else what `parse` makes
/// of the trimmed text.
fn filled<T>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match raw.trim() {
        "" => Ok(None),
        v => parse(v).map(Some),
    }
}

/// A field that must be filled: `parsed` is what reading it gave (`Ok(None)`: left empty,
/// then `missing` says what to type). Either error goes beside the field.
fn required<T>(
    e: &mut FieldErrors,
    field: &str,
    parsed: Result<Option<T>, String>,
    missing: &str,
) -> Option<T> {
    match e.check(field, parsed) {
        Some(Some(v)) => Some(v),
        Some(None) => {
            e.add(field, missing);
            None
        }
        None => None,
    }
}

/// A number as typed, ready to parse: spaces (non-breaking and thin ones too) dropped, the
/// decimal comma made a point.
fn number_text(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .collect::<String>()
        .replace(',', ".")
}

/// A month typed in a filter: the current one when empty, an error beside the field when
/// unreadable.
fn filter_month(errors: &mut FieldErrors, raw: &Option<String>, s: &AppState) -> Month {
    errors
        .check("month", filled(raw.as_deref().unwrap_or(""), parse_month))
        .flatten()
        .unwrap_or_else(|| current_month(s))
}

/// The options of a select that starts with « — choisir — » (nothing chosen yet).
fn choose(list: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "— choisir —".to_string())];
    out.extend(list);
    out
}

/// A page of this section with its status and notice.
fn respond(
    status: StatusCode,
    ctx: &Ctx,
    title: &str,
    notice: Option<&str>,
    body: Markup,
) -> Response {
    (status, layout(ctx, title, Nav::Allocation, notice, body)).into_response()
}

fn notice_of(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "closed" => {
            "Mois clôturé : les relevés sont enregistrés et chaînés à ceux du mois précédent."
        }
        "reopened" => {
            "Mois rouvert : ses relevés sont de nouveau calculés, jusqu'à sa prochaine clôture."
        }
        "adjusted" => "Régularisation enregistrée.",
        other => return super::notice_text(Some(other)),
    })
}

/// What a form shows again after the app refused it: field errors (422), or a refusal by the
/// state of the pole — closed month, closing order, a cost that cannot be split (409) — as a
/// message at the top of the page. Anything else becomes an error page.
struct Again {
    errors: FieldErrors,
    alert: Option<String>,
    status: StatusCode,
}

fn again(e: AppError) -> Result<Again, AppError> {
    match e {
        AppError::Validation(errors) => Ok(Again {
            errors,
            alert: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }),
        AppError::Conflict { detail, .. } => Ok(Again {
            errors: FieldErrors::new(),
            alert: Some(detail),
            status: StatusCode::CONFLICT,
        }),
        other => Err(other),
    }
}

/// Calls the app with what a form parsed; the form's own errors are refused as the app's
/// would be, so one `again` shows them.
async fn with_parsed<I, T>(
    parsed: Result<I, FieldErrors>,
    call: impl AsyncFnOnce(I) -> Result<T, AppError>,
) -> Result<T, AppError> {
    call(parsed.map_err(AppError::Validation)?).await
}

/// A refusal of an action with no form of its own (close, delete): its field errors become
/// the message at the top of the page, unless the app already gave one.
fn errors_as_alert(alert: Option<String>, errors: &FieldErrors) -> Option<String> {
    alert.or_else(|| Some(errors.summary()))
}

fn alert_box(alert: &Option<String>) -> Markup {
    html! {
        @if let Some(a) = alert {
            div.errors role="alert" { p { (a) } }
        }
    }
}

/// The first characters of a hash, the whole of it in a tooltip.
fn short_hash(h: &str) -> Markup {
    html! {
        @if h.is_empty() { "—" } @else {
            code title=(h) { (h.get(..12).unwrap_or(h)) "…" }
        }
    }
}

/// The links to the previous and the next month; `link` gives a month's address.
fn prev_next(month: Month, link: impl Fn(Month) -> String) -> Markup {
    html! {
        a href=(link(month.previous())) { "← " (label_fr(month.previous())) }
        a href=(link(month.next())) { (label_fr(month.next())) " →" }
    }
}

/// The month's statements as CSV, for a spreadsheet (« ; ») and plain.
fn csv_links(month: Month) -> Markup {
    html! {
        a href={ "/allocations/" (month) ".csv?dialect=semicolon" } download { "CSV pour tableur (« ; »)" }
        a href={ "/allocations/" (month) ".csv" } download { "CSV (« , »)" }
    }
}

// ---------------------------------------------------------------------------------------
// The month

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    month: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct AdjustmentForm {
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    amount: String,
}

impl AdjustmentForm {
    fn to_input(&self, month: Month) -> Result<AdjustmentInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let member = required(
            &mut e,
            "member_id",
            filled(&self.member_id, |raw| {
                raw.parse::<MemberId>()
                    .map_err(|_| "Structure inconnue.".to_string())
            }),
            "Choisissez la structure.",
        );
        let amount = required(
            &mut e,
            "amount_cents",
            parse_euros(&self.amount, true),
            "Indiquez le montant (négatif pour un avoir).",
        );
        if self.label.trim().is_empty() {
            e.add("label", "Indiquez le motif : il figure sur le relevé.");
        }
        match (member, amount) {
            (Some(member_id), Some(amount_cents)) if e.is_empty() => Ok(AdjustmentInput {
                month,
                member_id,
                label: self.label.clone(),
                amount_cents,
            }),
            _ => Err(e),
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct ReopenForm {
    #[serde(default)]
    reason: String,
}

/// What the month page shows besides the month itself.
#[derive(Default)]
struct MonthView {
    month_errors: FieldErrors,
    adjustment: AdjustmentForm,
    adjustment_errors: FieldErrors,
    reopen: ReopenForm,
    reopen_errors: FieldErrors,
    alert: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
}

fn month_nav(month: Month, errors: &FieldErrors) -> Markup {
    html! {
        nav.actions.month-nav aria-label="Mois" {
            (prev_next(month, |m| format!("/allocations?month={m}")))
        }
        (error_summary(errors))
        form.filters.no-print method="get" action="/allocations" {
            (field("Mois", "month", &month.to_string(), "month", errors, None))
            button type="submit" { "Afficher" }
        }
    }
}

fn status_line(ctx: &Ctx, a: &Allocation) -> Markup {
    html! {
        p.month-status {
            @match (&a.status, &a.closing) {
                (MonthStatus::Closed, Some(c)) => {
                    span.badge.confirmed { "Clôturé le " (fmt_local(c.closed_at, ctx.tz())) }
                    " — empreinte " (short_hash(&c.hash))
                    @if !c.previous_hash.is_empty() { " (maillon précédent " (short_hash(&c.previous_hash)) ")" }
                },
                (MonthStatus::Closed, None) => { span.badge.confirmed { "Clôturé" } },
                _ => {
                    span.badge.pending { "Ouvert" }
                    " — montants provisoires, recalculés à chaque consultation jusqu'à la clôture."
                },
            }
        }
    }
}

fn members_table(a: &Allocation) -> Markup {
    let sum = |s: Source| -> i64 { a.members.iter().map(|m| m.total_of(s)).sum() };
    html! {
        @if a.members.is_empty() {
            p { "Aucune ligne ce mois-ci." }
        } @else {
            div.scroll role="region" tabindex="0" aria-label="Répartition par structure" {
                table.allocation {
                    thead { tr {
                        th scope="col" { "Structure" }
                        th.num scope="col" { "Utilisation" }
                        th.num scope="col" { "Quotes-parts" }
                        th.num scope="col" { "Salariés" }
                        th.num scope="col" { "Régularisations" }
                        th.num scope="col" { "Total" }
                    } }
                    tbody {
                        @for m in &a.members {
                            tr {
                                th scope="row" { a href={ "/allocations/" (a.month) "/members/" (m.member_id) } { (m.member_name) } }
                                @for s in Source::ALL { td.num { (format_euros(m.total_of(s))) } }
                                td.num { strong { (format_euros(m.total_cents)) } }
                            }
                        }
                        tr.total {
                            th scope="row" { "Total" }
                            @for s in Source::ALL { td.num { (format_euros(sum(s))) } }
                            td.num { strong { (format_euros(a.total_cents)) } }
                        }
                    }
                }
            }
        }
    }
}

fn resources_table(a: &Allocation) -> Markup {
    html! {
        @if a.status == MonthStatus::Closed {
            p.meta { "Mois clôturé : seuls les relevés sont conservés ; le détail par ressource se calcule pour un mois ouvert." }
        } @else if a.resources.is_empty() {
            p { "Aucune ressource." }
        } @else {
            div.scroll role="region" tabindex="0" aria-label="Répartition par ressource" {
                table.resources {
                    thead { tr {
                        th scope="col" { "Ressource ou groupe" }
                        th.num scope="col" { "Coûts" }
                        th.num scope="col" { "Récupéré par l'usage" }
                        th.num scope="col" { "Non récupéré" }
                        th scope="col" { "Taux d'occupation" }
                    } }
                    tbody { @for r in &a.resources {
                        tr.pool[r.resource_id.is_none()] {
                            th scope="row" {
                                @if let Some(id) = r.resource_id { a href={ "/resources/" (id) } { (r.name) } } @else { (r.name) }
                                @if let (Some(_), Some(pool)) = (r.resource_id, &r.pool) { div.meta { "groupe « " (pool) " »" } }
                            }
                            td.num { (format_euros(r.costs_cents)) }
                            td.num { (format_euros(r.recovered_cents)) }
                            td.num.unrecovered[r.unrecovered_cents > 0] { (format_euros(r.unrecovered_cents)) }
                            td.occupancy {
                                @if r.open_minutes > 0 {
                                    meter min="0" max="1000" value=(r.occupancy_permille.clamp(0, 1000)) aria-hidden="true" {}
                                    " " (format_rate(r.occupancy_permille))
                                } @else { "—" }
                            }
                        }
                    } }
                }
            }
            p.meta { "Non récupéré : la part des coûts que les tarifs n'ont pas couverte (capacité inutilisée), répartie par les clés des dépenses. Taux d'occupation : heures réservées sur heures d'ouverture, capacité comprise." }
        }
    }
}

fn problems_view(a: &Allocation) -> Markup {
    html! {
        @if !a.problems.is_empty() {
            div.errors.problems role="alert" {
                h2 { "Dépenses impossibles à répartir" }
                p { "Le mois ne peut pas être clôturé tant qu'elles ne sont pas corrigées." }
                ul { @for p in &a.problems {
                    li { a href={ "/allocations/costs/" (p.cost_id) } { (p.label) } " : " (p.message) }
                } }
            }
        }
    }
}

/// The month page of a member's users: their own statements only.
fn member_month_body(a: &Allocation, v: &MonthView) -> Markup {
    let month = a.month;
    html! {
        h1 { "Relevés — " (label_fr(month)) }
        (month_nav(month, &v.month_errors))
        (alert_box(&v.alert))
        @if a.status == MonthStatus::Closed { p { span.badge.confirmed { "Mois clôturé" } " — relevés définitifs." } }
        @else { p { span.badge.pending { "Mois ouvert" } " — montants provisoires." } }
        (members_table(a))
        @if !a.members.is_empty() {
            nav.actions aria-label="Téléchargements" { (csv_links(month)) }
        }
    }
}

async fn month_view(s: &AppState, p: &PageActor, month: Month, v: MonthView) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let a = match or_page(&ctx, allocation::allocation(&s.app, actor, month).await) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let title = format!("Répartition — {}", label_fr(month));
    if !authz::can_manage_allocation(actor) {
        let body = member_month_body(&a, &v);
        let title = format!("Relevés — {}", label_fr(month));
        return respond(v.status, &ctx, &title, v.notice, body);
    }
    let data = async {
        Ok((
            allocation::trend_beside(&s.app, actor, month, Some(&a)).await?,
            allocation::adjustments(&s.app, actor, month).await?,
            allocation::costs(&s.app, actor, month).await?,
            members::list(&s.app, actor, Default::default()).await?,
        ))
    };
    let (trend, adjustments, costs, all_members) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let open = a.status == MonthStatus::Open;
    let mut names: HashMap<MemberId, String> =
        all_members.iter().map(|m| (m.id, m.name.clone())).collect();
    for m in &a.members {
        names
            .entry(m.member_id)
            .or_insert_with(|| m.member_name.clone());
    }
    let member_options = choose(
        all_members
            .iter()
            .filter(|m| !m.archived)
            .map(|m| (m.id.to_string(), m.name.clone())),
    );
    let costs_total: i64 = costs.iter().map(|c| c.amount_cents).sum();
    let body = html! {
        h1 { "Répartition — " (label_fr(month)) }
        (month_nav(month, &v.month_errors))
        (alert_box(&v.alert))
        (status_line(&ctx, &a))
        p.month-total { "Total réparti : " strong { (format_euros(a.total_cents)) } " entre " (a.members.len()) " structure(s)." }
        (problems_view(&a))
        nav.actions aria-label="Dépenses, exports et contrôles" {
            a.button href={ "/allocations/" (month) "/costs" } { "Dépenses du mois (" (costs.len()) ", " (format_euros(costs_total)) ")" }
            (csv_links(month))
            a href={ "/allocations/" (month) "/fec.txt" } download { "Écritures comptables (FEC)" }
            a href="/allocations/verify" { "Vérifier la chaîne des relevés" }
            a href="/allocations/settings" { "Paramètres de tarification" }
        }
        h2 { "Par structure" }
        (members_table(&a))
        (charts::bar_chart(&a.members, month))
        h2 { "Tendance sur douze mois" }
        (charts::trend_view(&trend))
        h2 { "Par ressource et groupe" }
        (resources_table(&a))
        h2 #regularisations { "Régularisations" }
        @if adjustments.is_empty() {
            p { "Aucune régularisation ce mois-ci." }
        } @else {
            table {
                thead { tr { th { "Structure" } th { "Motif" } th.num { "Montant" } @if open { th { span.visually-hidden { "Action" } } } } }
                tbody { @for adj in &adjustments {
                    tr {
                        td { a href={ "/allocations/" (month) "/members/" (adj.member_id) } { (names.get(&adj.member_id).map(String::as_str).unwrap_or("?")) } }
                        td { (adj.label) }
                        td.num { (format_euros(adj.amount_cents)) }
                        @if open { td { (action_button(&ctx, &format!("/allocations/{month}/adjustments/{}/delete", adj.id), "Supprimer", "danger")) } }
                    }
                } }
            }
        }
        @if open {
            (adjustment_form(&ctx, month, &member_options, &v.adjustment, &v.adjustment_errors))
        }
        h2 { "Clôture" }
        @if open {
            @if !month.is_over(s.app.now(), s.app.tz()) {
                p.meta { "Le mois se clôture une fois terminé, à partir du " (crate::domain::time::format_date_fr(month.next().first_day())) "." }
            } @else if authz::can_close_months(actor) {
                details.confirm {
                    summary.button { "Clôturer le mois" }
                    div {
                        p { "La clôture fige les réservations de " (label_fr(month)) " et enregistre le relevé de chaque structure, avec une empreinte chaînée à celle du mois clôturé avant lui. Les mois se clôturent dans l'ordre ; seul un administrateur peut rouvrir un mois, en donnant un motif." }
                        @if !a.problems.is_empty() { p.field-error { "Des dépenses ne peuvent pas être réparties : la clôture sera refusée tant qu'elles ne sont pas corrigées." } }
                        form method="post" action={ "/allocations/" (month) "/close" } {
                            (csrf_field(&ctx))
                            button type="submit" { "Confirmer la clôture de " (label_fr(month)) }
                        }
                    }
                }
            } @else {
                p.meta { "La trésorerie clôture le mois." }
            }
        } @else {
            p { "Ce mois est clôturé : ses relevés ne changent plus. Une correction se saisit comme régularisation dans un mois ouvert." }
            @if authz::can_reopen_months(actor) {
                details.confirm open[!v.reopen_errors.is_empty()] {
                    summary.button.danger { "Rouvrir" }
                    div {
                        p { "Rouvrir le mois met de côté son relevé enregistré (l'empreinte et le motif sont conservés) ; il est de nouveau calculé jusqu'à sa prochaine clôture. Seul le dernier mois clôturé peut être rouvert." }
                        (error_summary(&v.reopen_errors))
                        form method="post" action={ "/allocations/" (month) "/reopen" } novalidate {
                            (csrf_field(&ctx))
                            (textarea("Motif de la réouverture (obligatoire)", "reason", &v.reopen.reason, &v.reopen_errors))
                            button.danger type="submit" { "Rouvrir " (label_fr(month)) }
                        }
                    }
                }
            }
        }
    };
    respond(v.status, &ctx, &title, v.notice, body)
}

fn adjustment_form(
    ctx: &Ctx,
    month: Month,
    members: &[(String, String)],
    form: &AdjustmentForm,
    errors: &FieldErrors,
) -> Markup {
    html! {
        h3 { "Nouvelle régularisation" }
        (error_summary(errors))
        form.adjustment method="post" action={ "/allocations/" (month) "/adjustments" } novalidate {
            (csrf_field(ctx))
            (select("Structure", "member_id", members, &form.member_id, errors))
            (field("Motif", "label", &form.label, "text", errors, Some("Il figure sur le relevé de la structure.")))
            (field_for("Montant (€)", "amount", "amount_cents", &form.amount, "text", errors, Some("Positif : la structure doit davantage ; négatif : un avoir.")))
            button type="submit" { "Ajouter la régularisation" }
        }
    }
}

/// `GET /allocations?month=YYYY-MM`: the month (the current one by default).
pub async fn month_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<MonthQuery>,
) -> Response {
    let mut month_errors = FieldErrors::new();
    let month = filter_month(&mut month_errors, &q.month, &s);
    let status = if month_errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    month_view(
        &s,
        &p,
        month,
        MonthView {
            month_errors,
            notice: notice_of(q.notice.as_deref()),
            status,
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct FileQuery {
    dialect: Option<String>,
    format: Option<String>,
}

/// `GET /allocations/{month}.csv[?dialect=semicolon]`; `/allocations/{month}` alone is the
/// month page.
pub async fn month_file(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    Query(q): Query<FileQuery>,
) -> Response {
    let Some(stem) = raw.strip_suffix(".csv") else {
        return match path_month(&s, &p, &raw) {
            Ok(m) => see_other(&format!("/allocations?month={m}")),
            Err(r) => r,
        };
    };
    let month = match path_month(&s, &p, stem) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let dialect: Dialect = match q.dialect.or(q.format).as_deref().unwrap_or("").parse() {
        Ok(d) => d,
        Err(e) => return super::error_page(&s, Some(&p.0), AppError::BadRequest(e)),
    };
    let ctx = Ctx::new(&s, &p);
    match or_page(&ctx, allocation::allocation(&s.app, p.actor(), month).await) {
        Ok(a) => download::csv(
            &export::allocation::table(&a),
            dialect,
            &format!("repartition-{month}"),
        ),
        Err(r) => r,
    }
}

/// `GET /allocations/{month}/fec.txt`: the month's entries for the accounting software.
pub async fn fec(State(s): State<AppState>, p: PageActor, Path(raw): Path<String>) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if !authz::can_manage_allocation(p.actor()) {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    let ctx = Ctx::new(&s, &p);
    let data = async {
        Ok((
            allocation::allocation(&s.app, p.actor(), month).await?,
            pricing::statement_settings(&s.app, p.actor()).await?,
        ))
    };
    match or_page(&ctx, data.await) {
        Ok((a, settings)) => (
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
            export::allocation::fec(&a, &settings),
        )
            .into_response(),
        Err(r) => r,
    }
}

/// The month page again after the app refused a form or an action (`keep` puts the form
/// and its errors back), or an error page.
async fn month_again(
    s: &AppState,
    p: &PageActor,
    month: Month,
    e: AppError,
    keep: impl FnOnce(FieldErrors, &mut MonthView),
) -> Response {
    match again(e) {
        Ok(a) => {
            let mut v = MonthView {
                alert: a.alert,
                status: a.status,
                ..Default::default()
            };
            keep(a.errors, &mut v);
            month_view(s, p, month, v).await
        }
        Err(e) => super::error_page(s, Some(&p.0), e),
    }
}

/// `POST /allocations/{month}/close`.
pub async fn close(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match months::close(&s.app, p.actor(), month).await {
        Ok(_) => see_other(&format!("/allocations?month={month}&notice=closed")),
        Err(e) => {
            month_again(&s, &p, month, e, |errors, v| {
                v.alert = errors_as_alert(v.alert.take(), &errors);
            })
            .await
        }
    }
}

/// `POST /allocations/{month}/reopen` (administrators, with a reason).
pub async fn reopen(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<ReopenForm>,
) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match months::reopen(&s.app, p.actor(), month, &form.reason).await {
        Ok(()) => see_other(&format!("/allocations?month={month}&notice=reopened")),
        Err(e) => {
            month_again(&s, &p, month, e, |errors, v| {
                v.reopen = form;
                v.reopen_errors = errors;
            })
            .await
        }
    }
}

/// `POST /allocations/{month}/adjustments`.
pub async fn create_adjustment(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<AdjustmentForm>,
) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let result = with_parsed(form.to_input(month), async |input| {
        allocation::create_adjustment(&s.app, p.actor(), input).await
    })
    .await;
    match result {
        Ok(_) => see_other(&format!(
            "/allocations?month={month}&notice=adjusted#regularisations"
        )),
        Err(e) => {
            month_again(&s, &p, month, e, |errors, v| {
                v.adjustment = form;
                v.adjustment_errors = errors;
            })
            .await
        }
    }
}

/// `POST /allocations/{month}/adjustments/{id}/delete`.
pub async fn delete_adjustment(
    State(s): State<AppState>,
    p: PageActor,
    Path((raw, id)): Path<(String, AdjustmentId)>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match allocation::delete_adjustment(&s.app, p.actor(), id).await {
        Ok(()) => see_other(&format!(
            "/allocations?month={month}&notice=deleted#regularisations"
        )),
        Err(e) => {
            month_again(&s, &p, month, e, |errors, v| {
                v.alert = errors_as_alert(v.alert.take(), &errors);
            })
            .await
        }
    }
}
