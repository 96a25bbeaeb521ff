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

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    action_button, checkbox, checked, csrf_field, error_summary, field, field_for, fmt_local,
    layout, or_page, see_other, select, textarea, with_checks, Ctx, Nav,
};
use crate::app::allocation::{
    self, AdjustmentInput, Allocation, CostInput, CostView, MonthStatus, Trend, WhatIf,
};
use crate::app::authz;
use crate::app::members::{self, MemberView};
use crate::app::months;
use crate::app::pricing::{self, CoefficientVersion, KindRule, PricingSettings, StatementSettings};
use crate::app::resources::{self, ResourceView};
use crate::domain::allocation::{Among, BlendPart, KeySpec, Method};
use crate::domain::ids::{AdjustmentId, CostId, MemberId};
use crate::domain::member::{category_label, DEFAULT_CATEGORIES};
use crate::domain::money::{div_round, format_amount, format_euros, format_permille, parse_euros};
use crate::domain::month::{label_fr, Month};
use crate::domain::resource::ResourceKind;
use crate::domain::statement::{format_rate, Line, MemberStatement, Source};
use crate::domain::validation::{parse_int, required_text, FieldErrors};
use crate::error::AppError;
use crate::export::{self, Dialect};
use crate::web::download;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::AppState;

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

/// A month typed in a filter: the current one when empty, an error beside the field when
/// unreadable.
fn filter_month(errors: &mut FieldErrors, raw: &Option<String>, s: &AppState) -> Month {
    let current = current_month(s);
    match raw.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => current,
        Some(v) => errors
            .check("month", v.parse::<Month>().map_err(|e| e.to_string()))
            .unwrap_or(current),
    }
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

/// Euros rounded to the unit (« 1 235 € »), for the dense trend table.
fn whole_euros(cents: i64) -> String {
    if cents == 0 {
        return "—".into();
    }
    let euros = div_round(i128::from(cents), 100);
    format!(
        "{} €",
        format_amount(euros.saturating_mul(100)).trim_end_matches(",00")
    )
}

/// « +12,50 € » / « -3,00 € »: a difference.
fn signed_euros(cents: i64) -> String {
    if cents > 0 {
        format!("+{}", format_euros(cents))
    } else {
        format_euros(cents)
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

const MONTHS_SHORT: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

fn month_short(m: Month) -> String {
    format!(
        "{} {:02}",
        MONTHS_SHORT[(m.number() as usize).saturating_sub(1) % 12],
        m.year() % 100
    )
}

/// A decimal number as typed (« 1,5 », « 0.25 »), non-negative, with at most `places`
/// decimals, scaled to an integer (`places` = 2: hundredths). Empty is `None`.
fn parse_decimal(raw: &str, places: u32) -> Result<Option<i64>, String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .collect::<String>()
        .replace(',', ".");
    if cleaned.is_empty() {
        return Ok(None);
    }
    let err = || "Nombre attendu (exemple : 1,5).".to_string();
    let (units, decimals) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if (units.is_empty() && decimals.is_empty())
        || !units.chars().all(|c| c.is_ascii_digit())
        || !decimals.chars().all(|c| c.is_ascii_digit())
    {
        return Err(err());
    }
    if decimals.len() > places as usize {
        return Err(format!("Au plus {places} décimale(s)."));
    }
    if units.len() > 9 {
        return Err("Nombre trop grand.".into());
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units.parse().map_err(|_| err())?
    };
    let scale = 10_i64.pow(places);
    let mut fraction: i64 = if decimals.is_empty() {
        0
    } else {
        decimals.parse().map_err(|_| err())?
    };
    for _ in decimals.len()..places as usize {
        fraction *= 10;
    }
    Ok(Some(units * scale + fraction))
}

/// A percentage as typed (« 12,5 », « 12,5 % »).
fn parse_percent(raw: &str) -> Result<f64, String> {
    let cleaned: String = raw
        .trim()
        .trim_end_matches('%')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}')
        .collect::<String>()
        .replace(',', ".");
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| "Pourcentage attendu (exemple : 12,5).".to_string())
}

fn percent_text(v: f64) -> String {
    format!("{v}").replace('.', ",")
}

/// Hours as typed (« 1,5 ») in minutes; empty is `None`.
fn parse_hours(raw: &str) -> Result<Option<i32>, String> {
    Ok(parse_decimal(raw, 2)?.map(|hundredths| {
        i32::try_from(div_round(i128::from(hundredths) * 60, 100)).unwrap_or(i32::MAX)
    }))
}

/// Minutes as hours for a field (« 1,5 »).
fn hours_text(minutes: i32) -> String {
    format_permille(div_round(i128::from(minutes) * 100, 60) * 10)
}

fn date_text(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

// ---------------------------------------------------------------------------------------
// Charts (inline SVG, drawn on the server)

/// A horizontal bar per member, credits (negative totals) to the left of the zero line.
fn bar_chart(members: &[MemberStatement], month: Month) -> Markup {
    const WIDTH: i64 = 720;
    const NAME: i64 = 200;
    const VALUE: i64 = 130;
    const ROW: i64 = 28;
    if members.is_empty() {
        return html! {};
    }
    let plot = WIDTH - NAME - VALUE - 20;
    let max = members
        .iter()
        .map(|m| m.total_cents.max(0))
        .max()
        .unwrap_or(0);
    let min = members
        .iter()
        .map(|m| m.total_cents.min(0))
        .min()
        .unwrap_or(0);
    let span = (max - min).max(1);
    let x_of =
        |v: i64| NAME + 10 + div_round(i128::from(v - min) * i128::from(plot), i128::from(span));
    let zero = x_of(0);
    let height = ROW * members.len() as i64 + 10;
    let label = format!(
        "Total de chaque structure pour {} : {}.",
        label_fr(month),
        members
            .iter()
            .map(|m| format!("{} {}", m.member_name, format_euros(m.total_cents)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    html! {
        figure.chart {
            svg.bars viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-label=(label) {
                @for (i, m) in members.iter().enumerate() {
                    @let y = 5 + i as i64 * ROW;
                    @let x = x_of(m.total_cents);
                    g {
                        title { (m.member_name) " : " (format_euros(m.total_cents)) }
                        text x=(NAME) y=(y + 18) text-anchor="end" { (truncate(&m.member_name, 26)) }
                        rect class=(if m.total_cents < 0 { "bar credit" } else { "bar" })
                            x=(x.min(zero)) y=(y + 4) width=((x - zero).abs().max(1)) height=(ROW - 8) {}
                        text.value x=(WIDTH - 5) y=(y + 18) text-anchor="end" { (format_euros(m.total_cents)) }
                    }
                }
                line.axis x1=(zero) x2=(zero) y1="0" y2=(height) {}
            }
            figcaption.meta { "Total du mois par structure (les montants figurent dans le tableau ci-dessus)." }
        }
    }
}

/// Twelve monthly totals as a small line, the last month marked.
fn sparkline(name: &str, months: &[Month], cents: &[i64]) -> Markup {
    const W: i64 = 120;
    const H: i64 = 30;
    const PAD: i64 = 3;
    let n = cents.len() as i64;
    if n == 0 {
        return html! {};
    }
    let max = cents.iter().copied().max().unwrap_or(0);
    let min = cents.iter().copied().min().unwrap_or(0);
    let span = (max - min).max(1);
    let point = |i: i64, v: i64| {
        let x = PAD
            + if n > 1 {
                (W - 2 * PAD) * i / (n - 1)
            } else {
                0
            };
        let y = H
            - PAD
            - if max == min {
                (H - 2 * PAD) / 2
            } else {
                div_round(
                    i128::from(v - min) * i128::from(H - 2 * PAD),
                    i128::from(span),
                )
            };
        (x, y)
    };
    let points = cents
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (x, y) = point(i as i64, *v);
            format!("{x},{y}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    let (lx, ly) = point(n - 1, cents[cents.len() - 1]);
    let first = months.first().map(|m| label_fr(*m)).unwrap_or_default();
    let last = months.last().map(|m| label_fr(*m)).unwrap_or_default();
    let label = format!(
        "{name} sur 12 mois : {} en {first}, {} en {last} ; au plus {}, au moins {}.",
        format_euros(cents[0]),
        format_euros(cents[cents.len() - 1]),
        format_euros(max),
        format_euros(min)
    );
    html! {
        svg.sparkline viewBox={ "0 0 " (W) " " (H) } width=(W) height=(H) role="img" aria-label=(label) {
            title { (label) }
            polyline points=(points) {}
            circle cx=(lx) cy=(ly) r="2.5" {}
        }
    }
}

fn trend_view(t: &Trend) -> Markup {
    html! {
        @if t.members.is_empty() {
            p { "Aucun relevé sur les douze derniers mois." }
        } @else {
            div.scroll {
                table.trend {
                    caption { "Total de chaque structure, mois par mois (arrondi à l'euro ; mois clôturés tels qu'enregistrés, mois ouverts tels que calculés aujourd'hui)." }
                    thead { tr {
                        th scope="col" { "Structure" }
                        th scope="col" { "Évolution" }
                        @for m in &t.months { th.num scope="col" { abbr title=(label_fr(*m)) { (month_short(*m)) } } }
                    } }
                    tbody { @for r in &t.members {
                        tr {
                            th scope="row" { (r.member_name) }
                            td { (sparkline(&r.member_name, &t.months, &r.cents)) }
                            @for c in &r.cents { td.num { (whole_euros(*c)) } }
                        }
                    } }
                }
            }
        }
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
        let member = match self.member_id.trim() {
            "" => {
                e.add("member_id", "Choisissez la structure.");
                None
            }
            raw => e.check(
                "member_id",
                raw.parse::<MemberId>()
                    .map_err(|_| "Structure inconnue.".to_string()),
            ),
        };
        let amount = match e.check("amount_cents", parse_euros(&self.amount, true)) {
            Some(Some(c)) => Some(c),
            Some(None) => {
                e.add(
                    "amount_cents",
                    "Indiquez le montant (négatif pour un avoir).",
                );
                None
            }
            None => None,
        };
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
            a href={ "/allocations?month=" (month.previous()) } { "← " (label_fr(month.previous())) }
            a href={ "/allocations?month=" (month.next()) } { (label_fr(month.next())) " →" }
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
            div.scroll {
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
            div.scroll {
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
            nav.actions aria-label="Téléchargements" {
                a href={ "/allocations/" (month) ".csv?dialect=semicolon" } download { "CSV pour tableur (« ; »)" }
                a href={ "/allocations/" (month) ".csv" } download { "CSV (« , »)" }
            }
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
            allocation::trend(&s.app, actor, month).await?,
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
    let mut member_options = vec![(String::new(), "— choisir —".to_string())];
    member_options.extend(
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
            a href={ "/allocations/" (month) ".csv?dialect=semicolon" } download { "CSV pour tableur (« ; »)" }
            a href={ "/allocations/" (month) ".csv" } download { "CSV (« , »)" }
            a href={ "/allocations/" (month) "/fec.txt" } download { "Écritures comptables (FEC)" }
            a href="/allocations/verify" { "Vérifier la chaîne des relevés" }
            a href="/allocations/settings" { "Paramètres de tarification" }
        }
        h2 { "Par structure" }
        (members_table(&a))
        (bar_chart(&a.members, month))
        h2 { "Tendance sur douze mois" }
        (trend_view(&trend))
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
            @if authz::can_close_months(actor) {
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
        Err(e) => match again(e) {
            Ok(a) => {
                let alert = a.alert.or_else(|| Some(a.errors.summary()));
                month_view(
                    &s,
                    &p,
                    month,
                    MonthView {
                        alert,
                        status: a.status,
                        ..Default::default()
                    },
                )
                .await
            }
            Err(e) => super::error_page(&s, Some(&p.0), e),
        },
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
        Err(e) => match again(e) {
            Ok(a) => {
                month_view(
                    &s,
                    &p,
                    month,
                    MonthView {
                        reopen: form,
                        reopen_errors: a.errors,
                        alert: a.alert,
                        status: a.status,
                        ..Default::default()
                    },
                )
                .await
            }
            Err(e) => super::error_page(&s, Some(&p.0), e),
        },
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
    let result = match form.to_input(month) {
        Ok(input) => allocation::create_adjustment(&s.app, p.actor(), input)
            .await
            .map_err(again),
        Err(errors) => Err(Ok(Again {
            errors,
            alert: None,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        })),
    };
    match result {
        Ok(_) => see_other(&format!(
            "/allocations?month={month}&notice=adjusted#regularisations"
        )),
        Err(Ok(a)) => {
            month_view(
                &s,
                &p,
                month,
                MonthView {
                    adjustment: form,
                    adjustment_errors: a.errors,
                    alert: a.alert,
                    status: a.status,
                    ..Default::default()
                },
            )
            .await
        }
        Err(Err(e)) => super::error_page(&s, Some(&p.0), e),
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
        Err(e) => match again(e) {
            Ok(a) => {
                let alert = a.alert.or_else(|| Some(a.errors.summary()));
                month_view(
                    &s,
                    &p,
                    month,
                    MonthView {
                        alert,
                        status: a.status,
                        ..Default::default()
                    },
                )
                .await
            }
            Err(e) => super::error_page(&s, Some(&p.0), e),
        },
    }
}

// ---------------------------------------------------------------------------------------
// A member's statement

fn quantity_text(l: &Line) -> String {
    format!("{} {}", format_permille(l.quantity_milli), l.unit)
}

fn unit_price_text(l: &Line) -> String {
    match l.unit.as_str() {
        "h" | "km" => format!("{} / {}", format_euros(l.unit_price_cents), l.unit),
        _ => format_euros(l.unit_price_cents),
    }
}

/// A line's label with what it stands for: its bookings, the employee's month, the cost.
fn line_label(l: &Line, month: Month, manage: bool) -> Markup {
    html! {
        @match l.source {
            Source::Tariff => {
                @if let [only] = l.refs.bookings.as_slice() {
                    a href={ "/bookings/" (only) } { (l.label) }
                } @else {
                    (l.label)
                    @for b in &l.refs.bookings { " " a.ref href={ "/bookings/" (b) } { "réservation n° " (b) } }
                }
            },
            Source::Staff => {
                @if let Some(e) = l.refs.employee_id {
                    a href={ "/staff/" (e) "/month?month=" (month) } { (l.label) }
                } @else { (l.label) }
            },
            Source::CostShare => {
                @match (manage, l.refs.cost_id) {
                    (true, Some(c)) => a href={ "/allocations/costs/" (c) } { (l.label) },
                    _ => (l.label),
                }
            },
            Source::Adjustment => (l.label),
        }
    }
}

/// `GET /allocations/{month}/members/{member_id}`: the printable statement.
pub async fn statement_page(
    State(s): State<AppState>,
    p: PageActor,
    Path((raw_month, raw_member)): Path<(String, String)>,
) -> Response {
    let month = match path_month(&s, &p, &raw_month) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Ok(member) = raw_member.parse::<MemberId>() else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let ctx = Ctx::new(&s, &p);
    let actor = p.actor();
    let data = async {
        Ok((
            allocation::statement(&s.app, actor, month, member).await?,
            pricing::statement_settings(&s.app, actor).await?,
        ))
    };
    let ((a, st), settings) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let manage = authz::can_manage_allocation(actor);
    let pole = &s.app.config().pole_name;
    let link = |m: Month| format!("/allocations/{m}/members/{member}");
    let others: Vec<_> = actor
        .memberships
        .iter()
        .filter(|m| m.member_id != member)
        .collect();
    let title = format!("Relevé {} — {}", st.member_name, label_fr(month));
    let body = html! {
        nav.actions.no-print aria-label="Mois" {
            a href=(link(month.previous())) { "← " (label_fr(month.previous())) }
            a href=(link(month.next())) { (label_fr(month.next())) " →" }
            @if manage { a href={ "/allocations?month=" (month) } { "Répartition du mois" } }
        }
        p.print-hint.no-print { "Pour imprimer ce relevé ou l'enregistrer en PDF, utilisez la commande « Imprimer » de votre navigateur (Ctrl+P, ou ⌘P) : le menu et les boutons ne sont pas imprimés." }
        article.statement {
            header.statement-head {
                div.issuer {
                    strong { (pole) }
                    @if !settings.pole_details.is_empty() { p.pole-details { (settings.pole_details) } }
                }
                div.recipient {
                    span.meta { "Structure membre" }
                    strong { (st.member_name) }
                }
            }
            h1 { "Relevé de répartition — " (label_fr(month)) }
            @match (&a.status, &a.closing) {
                (MonthStatus::Closed, Some(c)) => p.meta { "Relevé définitif : mois clôturé le " (fmt_local(c.closed_at, ctx.tz())) ". Empreinte " code.hash { (c.hash) } },
                (MonthStatus::Closed, None) => p.meta { "Relevé définitif : mois clôturé." },
                _ => p.meta.provisional { "Relevé provisoire : le mois n'est pas clôturé, les montants peuvent encore changer." },
            }
            @if st.lines.is_empty() {
                p { "Aucune somme pour ce mois." }
            }
            @for source in Source::ALL {
                @let lines: Vec<&Line> = st.lines.iter().filter(|l| l.source == source).collect();
                @if !lines.is_empty() {
                    section.statement-group {
                        h2 { (source.label()) }
                        table.statement-lines {
                            thead { tr {
                                th scope="col" { "Libellé" }
                                th scope="col" { "Base de calcul" }
                                th.num scope="col" { "Quantité" }
                                th.num scope="col" { "Prix unitaire" }
                                th.num scope="col" { "Montant" }
                            } }
                            tbody {
                                @for l in &lines {
                                    tr {
                                        td { (line_label(l, month, manage)) }
                                        td.basis { (l.basis) }
                                        td.num { (quantity_text(l)) }
                                        td.num { (unit_price_text(l)) }
                                        td.num { (format_euros(l.amount_cents)) }
                                    }
                                }
                                tr.total {
                                    th scope="row" colspan="4" { "Sous-total " (source.label().to_lowercase()) }
                                    td.num { strong { (format_euros(st.total_of(source))) } }
                                }
                            }
                        }
                    }
                }
            }
            p.statement-total { "Total du mois : " strong { (format_euros(st.total_cents)) } }
            @if settings.cgi_261b {
                p.legal { "Répartition établie selon l'article 261 B du CGI." }
            }
        }
        @if !others.is_empty() {
            p.no-print { "Vos autres structures : "
                @for (i, m) in others.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={ "/allocations/" (month) "/members/" (m.member_id) } { (m.member_name) }
                }
            }
        }
    };
    respond(StatusCode::OK, &ctx, &title, None, body)
}

// ---------------------------------------------------------------------------------------
// Cost entries

/// The keys a blend's part, or the comparison, may use (`equal_users`: equal parts among the
/// members that used the entry's resources).
const SUB_KEYS: [(&str, &str); 7] = [
    ("usage_hours", "Heures d'utilisation"),
    ("equal", "Parts égales entre les membres actifs"),
    ("equal_users", "Parts égales entre les membres utilisateurs"),
    ("headcount", "Effectif (ETP)"),
    ("turnover", "Chiffre d'affaires"),
    ("surface", "Surface (m²)"),
    ("percentages", "Pourcentages fixes (saisis par structure)"),
];

fn sub_code(spec: &KeySpec) -> String {
    match (spec.method, spec.among) {
        (Method::Equal, Some(Among::Users)) => "equal_users".into(),
        (m, _) => m.as_str().into(),
    }
}

fn sub_spec(code: &str) -> Option<KeySpec> {
    if code == "equal_users" {
        return Some(KeySpec {
            among: Some(Among::Users),
            ..KeySpec::simple(Method::Equal)
        });
    }
    Method::parse(code)
        .filter(|m| !matches!(m, Method::Blend | Method::Amounts))
        .map(KeySpec::simple)
}

fn options(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect()
}

/// What the cost form posts, as typed. Per-member weights come as two parallel lists (the
/// member of each input, then its value): percentages or euros, as the key says.
#[derive(Deserialize, Default, Clone)]
pub struct CostForm {
    #[serde(default)]
    month: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    amount: String,
    /// pole, resource or pool.
    #[serde(default)]
    target: String,
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    pool: String,
    recurring: Option<String>,
    #[serde(default)]
    until: String,
    /// The method (`Method::as_str`).
    #[serde(default)]
    key: String,
    #[serde(default)]
    among: String,
    #[serde(default)]
    weight_member: Vec<String>,
    #[serde(default)]
    weight: Vec<String>,
    #[serde(default)]
    blend1: String,
    #[serde(default)]
    blend1_percent: String,
    #[serde(default)]
    blend2: String,
    #[serde(default)]
    blend2_percent: String,
    /// The key to compare with (`SUB_KEYS`).
    #[serde(default)]
    other: String,
    /// save or compare: the button pressed.
    #[serde(default)]
    action: String,
}

impl CostForm {
    fn new(month: Month) -> Self {
        CostForm {
            month: month.to_string(),
            target: "pole".into(),
            key: Method::UsageHours.as_str().into(),
            among: "active".into(),
            blend1: "surface".into(),
            blend1_percent: "50".into(),
            blend2: "usage_hours".into(),
            blend2_percent: "50".into(),
            other: "equal".into(),
            ..Default::default()
        }
    }

    fn of(c: &CostView) -> Self {
        let mut f = CostForm::new(c.month);
        f.label = c.label.clone();
        f.amount = format_amount(c.amount_cents);
        match (c.resource_id, &c.pool) {
            (Some(r), _) => {
                f.target = "resource".into();
                f.resource_id = r.to_string();
            }
            (None, Some(pool)) => {
                f.target = "pool".into();
                f.pool = pool.clone();
            }
            (None, None) => f.target = "pole".into(),
        }
        f.recurring = c.recurring.then(|| "on".into());
        f.until = c.until.map(|m| m.to_string()).unwrap_or_default();
        f.key = c.key.method.as_str().into();
        f.among = match c.key.among {
            Some(Among::Users) => "users".into(),
            _ => "active".into(),
        };
        let set_weights = |f: &mut CostForm, spec: &KeySpec, euros: bool| {
            f.weight_member = spec.weights.keys().map(|m| m.to_string()).collect();
            f.weight = spec
                .weights
                .values()
                .map(|v| {
                    if euros {
                        format_amount(*v as i64)
                    } else {
                        percent_text(*v)
                    }
                })
                .collect();
        };
        match c.key.method {
            Method::Percentages => set_weights(&mut f, &c.key, false),
            Method::Amounts => set_weights(&mut f, &c.key, true),
            Method::Blend => {
                for (i, part) in c.key.parts.iter().take(2).enumerate() {
                    let (code, pct) = (sub_code(&part.key), percent_text(part.weight_percent));
                    if i == 0 {
                        (f.blend1, f.blend1_percent) = (code, pct);
                    } else {
                        (f.blend2, f.blend2_percent) = (code, pct);
                    }
                    if part.key.method == Method::Percentages {
                        set_weights(&mut f, &part.key, false);
                    }
                }
            }
            _ => {}
        }
        if f.key == "usage_hours" {
            f.other = "equal".into();
        } else {
            f.other = "usage_hours".into();
        }
        f
    }

    /// The value typed for a member.
    fn weight_of(&self, member: MemberId) -> &str {
        let id = member.to_string();
        self.weight_member
            .iter()
            .zip(&self.weight)
            .find(|(m, _)| **m == id)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    fn typed_members(&self) -> Vec<MemberId> {
        self.weight_member
            .iter()
            .zip(&self.weight)
            .filter(|(_, v)| !v.trim().is_empty())
            .filter_map(|(m, _)| m.parse().ok())
            .collect()
    }

    fn parse_weights(&self, e: &mut FieldErrors, euros: bool) -> BTreeMap<MemberId, f64> {
        let mut out = BTreeMap::new();
        for (id, raw) in self.weight_member.iter().zip(&self.weight) {
            let raw = raw.trim();
            let Ok(member) = id.parse::<MemberId>() else {
                continue;
            };
            if raw.is_empty() {
                continue;
            }
            let field = format!("weights.{member}");
            let value = if euros {
                e.check(&field, parse_euros(raw, true))
                    .flatten()
                    .map(|c| c as f64)
            } else {
                e.check(&field, parse_percent(raw))
            };
            if let Some(v) = value {
                out.insert(member, v);
            }
        }
        out
    }

    fn key_spec(&self, e: &mut FieldErrors) -> KeySpec {
        let method = match Method::parse(&self.key) {
            Some(m) => m,
            None => {
                e.add("key", "Choisissez une clé de répartition.");
                Method::Equal
            }
        };
        let mut spec = KeySpec::simple(method);
        match method {
            Method::Equal if self.among == "users" => spec.among = Some(Among::Users),
            Method::Percentages => spec.weights = self.parse_weights(e, false),
            Method::Amounts => spec.weights = self.parse_weights(e, true),
            Method::Blend => {
                for (code, pct, field) in [
                    (&self.blend1, &self.blend1_percent, "blend1"),
                    (&self.blend2, &self.blend2_percent, "blend2"),
                ] {
                    let mut key = match sub_spec(code) {
                        Some(k) => k,
                        None => {
                            e.add(field, "Choisissez une clé.");
                            continue;
                        }
                    };
                    if key.method == Method::Percentages {
                        key.weights = self.parse_weights(e, false);
                    }
                    let pct_field = format!("{field}_percent");
                    if let Some(weight_percent) = e.check(&pct_field, parse_percent(pct)) {
                        spec.parts.push(BlendPart {
                            weight_percent,
                            key,
                        });
                    }
                }
            }
            _ => {}
        }
        spec
    }

    /// The entry and the key to compare it with; parse errors and the key's own checks
    /// together.
    fn to_input(&self, fallback: Month) -> Result<(CostInput, KeySpec), FieldErrors> {
        let mut e = FieldErrors::new();
        let month = e
            .check(
                "month",
                self.month.parse::<Month>().map_err(|x| x.to_string()),
            )
            .unwrap_or(fallback);
        let amount_cents = match e.check("amount_cents", parse_euros(&self.amount, true)) {
            Some(Some(c)) => c,
            Some(None) => {
                e.add("amount_cents", "Indiquez le montant de la dépense.");
                0
            }
            None => 0,
        };
        let (resource_id, pool) = match self.target.as_str() {
            "resource" => match self.resource_id.trim().parse() {
                Ok(id) => (Some(id), None),
                Err(_) => {
                    e.add("resource_id", "Choisissez la ressource.");
                    (None, None)
                }
            },
            "pool" => {
                let pool = self.pool.trim();
                if pool.is_empty() {
                    e.add("pool", "Indiquez le groupe de ressources.");
                }
                (None, Some(pool.to_string()))
            }
            _ => (None, None),
        };
        let recurring = checked(&self.recurring);
        let until = match self.until.trim() {
            "" => None,
            _ if !recurring => None,
            raw => e.check("until", raw.parse::<Month>().map_err(|x| x.to_string())),
        };
        let key = self.key_spec(&mut e);
        let other = sub_spec(&self.other)
            .filter(|k| k.method != Method::Percentages)
            .unwrap_or_else(|| KeySpec::simple(Method::Equal));
        let input = CostInput {
            month,
            label: self.label.clone(),
            amount_cents,
            resource_id,
            pool,
            recurring,
            until,
            key,
        };
        with_checks(e, (input, other), |(i, _)| {
            let mut more = FieldErrors::new();
            if self.action != "compare" {
                more.check("label", required_text(&i.label, 200));
            }
            more.check("key", i.key.to_key());
            more.into_result()
        })
    }
}

/// What a cost page shows besides the entries.
#[derive(Default)]
struct CostPage {
    form: CostForm,
    errors: FieldErrors,
    whatif: Option<WhatIf>,
    alert: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
}

/// What the form needs: the resources, the pools, the members that may carry a weight.
struct FormData {
    resources: Vec<ResourceView>,
    members: Vec<MemberView>,
}

impl FormData {
    async fn load(s: &AppState, p: &PageActor) -> Result<FormData, AppError> {
        Ok(FormData {
            resources: resources::list(&s.app, p.actor(), Default::default()).await?,
            members: members::list(&s.app, p.actor(), Default::default()).await?,
        })
    }

    fn pools(&self) -> Vec<String> {
        let mut pools: Vec<String> = self
            .resources
            .iter()
            .filter_map(|r| r.pool.clone())
            .collect();
        pools.sort();
        pools.dedup();
        pools
    }

    fn resource_name(&self, id: crate::domain::ids::ResourceId) -> String {
        self.resources
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| format!("ressource n° {id}"))
    }
}

fn scope_text(c: &CostView, data: &FormData) -> Markup {
    html! {
        @match (c.resource_id, &c.pool) {
            (Some(r), _) => a href={ "/resources/" (r) } { (data.resource_name(r)) },
            (None, Some(pool)) => { "groupe « " (pool) " »" },
            (None, None) => "tout le pôle",
        }
    }
}

fn whatif_view(w: &WhatIf) -> Markup {
    let total = |i: usize| -> i64 { w.rows.iter().map(|r| r.cents[i]).sum() };
    html! {
        section.whatif #comparaison aria-labelledby="comparaison-titre" {
            h3 #comparaison-titre { "Comparaison — rien n'est enregistré" }
            @for (i, err) in w.errors.iter().enumerate() {
                @if let Some(err) = err { p.field-error { "« " (w.keys[i]) " » : " (err) } }
            }
            @if w.rows.is_empty() {
                p { "Aucune structure ne paierait rien avec ces clés." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "Structure" }
                        th.num scope="col" { (w.keys[0]) }
                        th.num scope="col" { (w.keys[1]) }
                        th.num scope="col" { "Écart" }
                    } }
                    tbody {
                        @for r in &w.rows {
                            tr {
                                th scope="row" { (r.member_name) }
                                td.num { (format_euros(r.cents[0])) }
                                td.num { (format_euros(r.cents[1])) }
                                td.num { (signed_euros(r.cents[1] - r.cents[0])) }
                            }
                        }
                        tr.total {
                            th scope="row" { "Total" }
                            td.num { (format_euros(total(0))) }
                            td.num { (format_euros(total(1))) }
                            td.num { (signed_euros(total(1) - total(0))) }
                        }
                    }
                }
            }
        }
    }
}

fn cost_form(
    ctx: &Ctx,
    action: &str,
    back: &str,
    page: &CostPage,
    data: &FormData,
    show_month: bool,
) -> Markup {
    let (form, errors) = (&page.form, &page.errors);
    let mut resource_options = vec![(String::new(), "— choisir —".to_string())];
    resource_options.extend(
        data.resources
            .iter()
            .filter(|r| !r.archived || form.resource_id == r.id.to_string())
            .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.kind.label()))),
    );
    let methods: Vec<(String, String)> = Method::ALL
        .iter()
        .map(|m| (m.as_str().to_string(), m.label().to_string()))
        .collect();
    let among = options(&[
        ("active", "les membres actifs"),
        (
            "users",
            "les membres qui ont utilisé la portée dans le mois",
        ),
    ]);
    // One input per active member, plus any member a saved key names.
    let typed = form.typed_members();
    let weighted: Vec<&MemberView> = data
        .members
        .iter()
        .filter(|m| (m.active && !m.archived) || typed.contains(&m.id))
        .collect();
    let pool_error = errors.get("pool");
    let target = form.target.as_str();
    html! {
        (error_summary(errors))
        form.cost method="post" action=(action) novalidate {
            (csrf_field(ctx))
            fieldset {
                legend { "Dépense" }
                @if show_month {
                    (field("Mois", "month", &form.month, "month", errors, None))
                } @else {
                    input type="hidden" name="month" value=(form.month);
                }
                (field("Libellé", "label", &form.label, "text", errors, Some("Par exemple : loyer, assurance, électricité.")))
                (field_for("Montant (€)", "amount", "amount_cents", &form.amount, "text", errors, Some("Un montant négatif (subvention, remboursement) se répartit de la même façon, en avoir.")))
            }
            fieldset {
                legend { "Portée" }
                p.hint { "Ce que la dépense concerne : c'est l'utilisation de ces ressources que lit la clé « heures d'utilisation »." }
                div.field #f-target {
                    label.inline { input type="radio" name="target" value="pole" checked[target != "resource" && target != "pool"]; " Tout le pôle (frais généraux)" }
                    label.inline { input type="radio" name="target" value="resource" checked[target == "resource"]; " Une ressource" }
                    label.inline { input type="radio" name="target" value="pool" checked[target == "pool"]; " Un groupe de ressources" }
                }
                (select("Ressource (si « une ressource »)", "resource_id", &resource_options, &form.resource_id, errors))
                div.field.invalid[pool_error.is_some()] {
                    label for="f-pool" { "Groupe (si « un groupe de ressources »)" }
                    input id="f-pool" name="pool" type="text" list="pools" value=(form.pool) aria-invalid=[pool_error.map(|_| "true")];
                    datalist id="pools" { @for pool in data.pools() { option value=(pool) {} } }
                    @if let Some(e) = pool_error { p.field-error { (e) } }
                }
            }
            fieldset {
                legend { "Récurrence" }
                (checkbox("Dépense récurrente : reprise chaque mois suivant", "recurring", checked(&form.recurring)))
                (field("Jusqu'à (inclus)", "until", &form.until, "month", errors, Some("Vide : sans fin. Ignoré pour une dépense ponctuelle.")))
            }
            fieldset {
                legend { "Clé de répartition" }
                (select("Clé", "key", &methods, &form.key, errors))
                (select("Parts égales : entre", "among", &among, &form.among, errors))
                fieldset.weights #f-weights {
                    legend { "Pourcentages fixes ou montants exacts, par structure" }
                    p.hint { "Pourcentages fixes : en %, ils font 100 % au total. Montants exacts : en €, ils font le montant de la dépense. Une structure laissée vide ne paie rien. Ignoré pour les autres clés." }
                    @if weighted.is_empty() {
                        p { "Aucune structure active." }
                    } @else {
                        table.weights {
                            thead { tr { th scope="col" { "Structure" } th scope="col" { "Part (% ou €)" } } }
                            tbody { @for m in &weighted {
                                @let key = format!("weights.{}", m.id);
                                @let id = format!("f-weights-{}", m.id);
                                @let err = errors.get(&key);
                                tr.invalid[err.is_some()] {
                                    td { label for=(id) { (m.name) } }
                                    td {
                                        input type="hidden" name="weight_member" value=(m.id);
                                        input id=(id) name="weight" type="text" inputmode="decimal" size="10" value=(form.weight_of(m.id)) aria-invalid=[err.map(|_| "true")];
                                        @if let Some(e) = err { p.field-error { (e) } }
                                    }
                                }
                            } }
                        }
                    }
                }
                fieldset.blend {
                    legend { "Clé composée" }
                    p.hint { "Deux clés, chacune sur une part du montant ; les deux parts font 100 %. Par exemple : 50 % surface + 50 % heures d'utilisation." }
                    div.row {
                        (select("Première clé", "blend1", &options(&SUB_KEYS), &form.blend1, errors))
                        (field("Part (%)", "blend1_percent", &form.blend1_percent, "text", errors, None))
                    }
                    div.row {
                        (select("Seconde clé", "blend2", &options(&SUB_KEYS), &form.blend2, errors))
                        (field("Part (%)", "blend2_percent", &form.blend2_percent, "text", errors, None))
                    }
                }
            }
            fieldset.compare {
                legend { "Comparer avant d'enregistrer" }
                (select("Comparer avec la clé", "other", &options(&SUB_KEYS[..6]), &form.other, errors))
                @if let Some(w) = &page.whatif { (whatif_view(w)) }
            }
            div.actions {
                button type="submit" name="action" value="save" { "Enregistrer" }
                button.secondary type="submit" name="action" value="compare" { "Comparer" }
                a href=(back) { "Annuler" }
            }
        }
    }
}

/// `GET`/re-display of `/allocations/{month}/costs`: the month's entries and a new one.
async fn costs_view(s: &AppState, p: &PageActor, month: Month, page: CostPage) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let data = async {
        Ok((
            allocation::costs(&s.app, actor, month).await?,
            allocation::allocation(&s.app, actor, month).await?,
            FormData::load(s, p).await?,
        ))
    };
    let (costs, a, data) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let open = a.status == MonthStatus::Open;
    let problem_of = |id: CostId| a.problems.iter().find(|p| p.cost_id == id);
    let total: i64 = costs.iter().map(|c| c.amount_cents).sum();
    let title = format!("Dépenses — {}", label_fr(month));
    let body = html! {
        h1 { "Dépenses à répartir — " (label_fr(month)) }
        nav.actions aria-label="Mois" {
            a href={ "/allocations/" (month.previous()) "/costs" } { "← " (label_fr(month.previous())) }
            a href={ "/allocations/" (month.next()) "/costs" } { (label_fr(month.next())) " →" }
            a href={ "/allocations?month=" (month) } { "Répartition du mois" }
        }
        (alert_box(&page.alert))
        @if !open {
            p.notice.warning { "Ce mois est clôturé : ses dépenses ne changent plus. Saisissez une correction comme régularisation dans un mois ouvert." }
        }
        @if costs.is_empty() {
            p { "Aucune dépense ce mois-ci." }
        } @else {
            div.scroll {
                table.costs {
                    thead { tr {
                        th scope="col" { "Libellé" }
                        th scope="col" { "Portée" }
                        th.num scope="col" { "Montant" }
                        th scope="col" { "Clé" }
                        th scope="col" { "Récurrence" }
                    } }
                    tbody {
                        @for c in &costs {
                            tr {
                                th scope="row" {
                                    a href={ "/allocations/costs/" (c.id) } { (c.label) }
                                    @if let Some(pb) = problem_of(c.id) {
                                        div.field-error { span.badge.violation { "non répartissable" } " " (pb.message) }
                                    }
                                }
                                td { (scope_text(c, &data)) }
                                td.num { (format_euros(c.amount_cents)) }
                                td { (c.key_text) }
                                td {
                                    @if c.recurring {
                                        "chaque mois"
                                        @if let Some(u) = c.until { " jusqu'en " (label_fr(u)) }
                                    } @else if let Some(g) = c.generated_from {
                                        "reprise de la " a href={ "/allocations/costs/" (g) } { "dépense récurrente n° " (g) }
                                    } @else { "ponctuelle" }
                                }
                            }
                        }
                        tr.total {
                            th scope="row" colspan="2" { "Total" }
                            td.num { strong { (format_euros(total)) } }
                            td colspan="2" {}
                        }
                    }
                }
            }
        }
        @if open {
            h2 #nouvelle { "Nouvelle dépense" }
            (cost_form(&ctx, &format!("/allocations/{month}/costs"), &format!("/allocations?month={month}"), &page, &data, false))
        }
    };
    respond(page.status, &ctx, &title, page.notice, body)
}

/// `GET` (and re-display) of `/allocations/costs/{id}`.
async fn cost_edit_view(
    s: &AppState,
    p: &PageActor,
    id: CostId,
    page: Option<CostPage>,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let c = match or_page(&ctx, allocation::cost(&s.app, actor, id).await) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let data = async {
        Ok((
            allocation::allocation(&s.app, actor, c.month).await?,
            FormData::load(s, p).await?,
        ))
    };
    let (a, data) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let page = page.unwrap_or_else(|| CostPage {
        form: CostForm::of(&c),
        ..Default::default()
    });
    let open = a.status == MonthStatus::Open;
    let problem = a.problems.iter().find(|pb| pb.cost_id == id);
    let back = format!("/allocations/{}/costs", c.month);
    let title = format!("Dépense « {} »", c.label);
    let body = html! {
        h1 { "Dépense « " (c.label) " »" }
        p.meta {
            a href=(back) { "Dépenses de " (label_fr(c.month)) }
            " · " (format_euros(c.amount_cents)) " · " (scope_text(&c, &data)) " · " (c.key_text)
        }
        (alert_box(&page.alert))
        @if let Some(pb) = problem {
            div.errors role="alert" { p { "Cette dépense ne peut pas être répartie : " (pb.message) } }
        }
        @if let Some(g) = c.generated_from {
            p.meta { "Reprise ce mois-ci de la " a href={ "/allocations/costs/" (g) } { "dépense récurrente n° " (g) } " : la modifier ici ne change que " (label_fr(c.month)) "." }
        }
        @if c.recurring {
            p.meta { "Dépense récurrente : reprise chaque mois à partir de " (label_fr(c.month))
                @if let Some(u) = c.until { " jusqu'en " (label_fr(u)) } "." }
        }
        @if open {
            (cost_form(&ctx, &format!("/allocations/costs/{id}"), &back, &page, &data, true))
            h2 { "Supprimer" }
            (action_button(&ctx, &format!("/allocations/costs/{id}/delete"), "Supprimer cette dépense", "danger"))
        } @else {
            p.notice.warning { "Le mois de " (label_fr(c.month)) " est clôturé : cette dépense ne change plus. Saisissez une correction comme régularisation dans un mois ouvert." }
        }
    };
    respond(page.status, &ctx, &title, page.notice, body)
}

/// The result of a posted cost form.
enum Posted {
    Saved(CostView),
    Again(Box<CostPage>),
    Failed(AppError),
}

/// Saves the entry, or compares its key with another without saving.
async fn save_or_compare(
    s: &AppState,
    p: &PageActor,
    form: CostForm,
    fallback: Month,
    save: impl AsyncFnOnce(CostInput) -> Result<CostView, AppError>,
) -> Posted {
    let (input, other) = match form.to_input(fallback) {
        Ok(v) => v,
        Err(errors) => {
            return Posted::Again(Box::new(CostPage {
                form,
                errors,
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..Default::default()
            }))
        }
    };
    let refused = |form: CostForm, e: AppError| match again(e) {
        Ok(a) => Posted::Again(Box::new(CostPage {
            form,
            errors: a.errors,
            alert: a.alert,
            status: a.status,
            ..Default::default()
        })),
        Err(e) => Posted::Failed(e),
    };
    if form.action == "compare" {
        match allocation::what_if(&s.app, p.actor(), input, other).await {
            Ok(w) => Posted::Again(Box::new(CostPage {
                form,
                whatif: Some(w),
                ..Default::default()
            })),
            Err(e) => refused(form, e),
        }
    } else {
        match save(input).await {
            Ok(c) => Posted::Saved(c),
            Err(e) => refused(form, e),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct NoticeOnly {
    notice: Option<String>,
}

/// `GET /allocations/{month}/costs`.
pub async fn costs_page(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    Query(q): Query<NoticeOnly>,
) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    costs_view(
        &s,
        &p,
        month,
        CostPage {
            form: CostForm::new(month),
            notice: notice_of(q.notice.as_deref()),
            ..Default::default()
        },
    )
    .await
}

/// `POST /allocations/{month}/costs`: a new entry (or a comparison).
pub async fn create_cost(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<CostForm>,
) -> Response {
    let month = match path_month(&s, &p, &raw) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let posted = save_or_compare(&s, &p, form, month, async |input| {
        allocation::create_cost(&s.app, p.actor(), input).await
    })
    .await;
    match posted {
        Posted::Saved(c) => see_other(&format!("/allocations/{}/costs?notice=created", c.month)),
        Posted::Again(page) => costs_view(&s, &p, month, *page).await,
        Posted::Failed(e) => super::error_page(&s, Some(&p.0), e),
    }
}

/// `GET /allocations/costs/{id}`.
pub async fn cost_page(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<CostId>,
    Query(q): Query<NoticeOnly>,
) -> Response {
    let notice = notice_of(q.notice.as_deref());
    if notice.is_some() {
        let ctx = Ctx::new(&s, &p);
        let c = match or_page(&ctx, allocation::cost(&s.app, p.actor(), id).await) {
            Ok(c) => c,
            Err(r) => return r,
        };
        let page = CostPage {
            form: CostForm::of(&c),
            notice,
            ..Default::default()
        };
        return cost_edit_view(&s, &p, id, Some(page)).await;
    }
    cost_edit_view(&s, &p, id, None).await
}

/// `POST /allocations/costs/{id}`: saves the entry (or compares).
pub async fn update_cost(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<CostId>,
    CsrfForm(form): CsrfForm<CostForm>,
) -> Response {
    let fallback = form.month.parse().unwrap_or_else(|_| current_month(&s));
    let posted = save_or_compare(&s, &p, form, fallback, async |input| {
        allocation::update_cost(&s.app, p.actor(), id, input).await
    })
    .await;
    match posted {
        Posted::Saved(c) => see_other(&format!("/allocations/{}/costs?notice=saved", c.month)),
        Posted::Again(page) => cost_edit_view(&s, &p, id, Some(*page)).await,
        Posted::Failed(e) => super::error_page(&s, Some(&p.0), e),
    }
}

/// `POST /allocations/costs/{id}/delete`.
pub async fn delete_cost(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<CostId>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let c = match or_page(&ctx, allocation::cost(&s.app, p.actor(), id).await) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match allocation::delete_cost(&s.app, p.actor(), id).await {
        Ok(()) => see_other(&format!("/allocations/{}/costs?notice=deleted", c.month)),
        Err(e) => match again(e) {
            Ok(a) => {
                let page = CostPage {
                    form: CostForm::of(&c),
                    alert: a.alert.or_else(|| Some(a.errors.summary())),
                    status: a.status,
                    ..Default::default()
                };
                cost_edit_view(&s, &p, id, Some(page)).await
            }
            Err(e) => super::error_page(&s, Some(&p.0), e),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Pricing settings

#[derive(Deserialize, Default, Clone)]
pub struct CoefficientForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    coefficient: String,
}

impl CoefficientForm {
    fn to_version(&self) -> Result<CoefficientVersion, FieldErrors> {
        let mut e = FieldErrors::new();
        if self.category.trim().is_empty() {
            e.add("category", "Choisissez la catégorie tarifaire.");
        }
        let from = match self.effective_from.trim() {
            "" => {
                e.add("effective_from", "Indiquez la date d'effet.");
                None
            }
            raw => e.check(
                "effective_from",
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| "Date attendue (AAAA-MM-JJ).".to_string()),
            ),
        };
        let permille = match e.check("coefficient_permille", parse_decimal(&self.coefficient, 3)) {
            Some(Some(v)) => Some(i32::try_from(v).unwrap_or(i32::MAX)),
            Some(None) => {
                e.add(
                    "coefficient_permille",
                    "Indiquez le coefficient (1 = plein tarif, 0,5 = moitié prix).",
                );
                None
            }
            None => None,
        };
        match (from, permille) {
            (Some(effective_from), Some(coefficient_permille)) if e.is_empty() => {
                Ok(CoefficientVersion {
                    category: self.category.trim().to_string(),
                    effective_from,
                    coefficient_permille,
                })
            }
            _ => Err(e),
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct CoefficientDeleteForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    effective_from: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct KindForm {
    #[serde(default)]
    late_notice_hours: String,
    #[serde(default)]
    late_charged_percent: String,
    #[serde(default)]
    free_hours: String,
}

impl KindForm {
    fn of(r: &KindRule) -> Self {
        KindForm {
            late_notice_hours: r.late_notice_minutes.map(hours_text).unwrap_or_default(),
            late_charged_percent: r.late_charged_percent.to_string(),
            free_hours: hours_text(r.free_minutes_per_month),
        }
    }

    fn to_rule(&self, kind: ResourceKind) -> Result<KindRule, FieldErrors> {
        let mut e = FieldErrors::new();
        let notice = e
            .check("late_notice_minutes", parse_hours(&self.late_notice_hours))
            .flatten();
        let percent = e
            .check(
                "late_charged_percent",
                parse_int(&self.late_charged_percent),
            )
            .flatten()
            .unwrap_or(0);
        let free = e
            .check("free_minutes_per_month", parse_hours(&self.free_hours))
            .flatten()
            .unwrap_or(0);
        e.into_result()?;
        Ok(KindRule {
            kind,
            late_notice_minutes: notice,
            late_charged_percent: i32::try_from(percent).unwrap_or(i32::MAX),
            free_minutes_per_month: free,
        })
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct StatementForm {
    cgi_261b: Option<String>,
    #[serde(default)]
    pole_details: String,
    #[serde(default)]
    journal_code: String,
    #[serde(default)]
    journal_label: String,
    #[serde(default)]
    customer_account: String,
    #[serde(default)]
    tariff_account: String,
    #[serde(default)]
    cost_share_account: String,
    #[serde(default)]
    staff_account: String,
    #[serde(default)]
    adjustment_account: String,
}

impl StatementForm {
    fn of(s: &StatementSettings) -> Self {
        StatementForm {
            cgi_261b: s.cgi_261b.then(|| "on".into()),
            pole_details: s.pole_details.clone(),
            journal_code: s.journal_code.clone(),
            journal_label: s.journal_label.clone(),
            customer_account: s.customer_account.clone(),
            tariff_account: s.tariff_account.clone(),
            cost_share_account: s.cost_share_account.clone(),
            staff_account: s.staff_account.clone(),
            adjustment_account: s.adjustment_account.clone(),
        }
    }

    fn to_settings(&self) -> StatementSettings {
        let t = |v: &str| v.trim().to_string();
        StatementSettings {
            cgi_261b: checked(&self.cgi_261b),
            pole_details: self.pole_details.replace("\r\n", "\n").trim().to_string(),
            journal_code: t(&self.journal_code),
            journal_label: t(&self.journal_label),
            customer_account: t(&self.customer_account),
            tariff_account: t(&self.tariff_account),
            cost_share_account: t(&self.cost_share_account),
            staff_account: t(&self.staff_account),
            adjustment_account: t(&self.adjustment_account),
        }
    }
}

#[derive(Default)]
struct SettingsView {
    coefficient: CoefficientForm,
    coefficient_errors: FieldErrors,
    /// The kind form posted, kept with its errors.
    kind: Option<(ResourceKind, KindForm, FieldErrors)>,
    statements: Option<StatementForm>,
    statement_errors: FieldErrors,
    alert: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
}

fn category_options(settings: &PricingSettings) -> Vec<(String, String)> {
    let mut cats: Vec<String> = DEFAULT_CATEGORIES
        .iter()
        .map(|(c, _)| c.to_string())
        .collect();
    for c in settings
        .categories
        .iter()
        .chain(settings.coefficients.iter().map(|v| &v.category))
    {
        if !cats.contains(c) {
            cats.push(c.clone());
        }
    }
    let mut out = vec![(String::new(), "— choisir —".to_string())];
    out.extend(cats.into_iter().map(|c| {
        let label = category_label(&c);
        (c, label)
    }));
    out
}

fn kind_form(ctx: &Ctx, rule: &KindRule, v: &SettingsView) -> Markup {
    let kind = rule.kind;
    let (form, errors) = match &v.kind {
        Some((k, f, e)) if *k == kind => (f.clone(), e.clone()),
        _ => (KindForm::of(rule), FieldErrors::new()),
    };
    // Error keys carry the kind, so each form's ids are its own.
    let mut keyed = FieldErrors::new();
    for e in &errors.0 {
        keyed.add(&format!("{}.{}", kind.as_str(), e.field), e.message.clone());
    }
    let key = |f: &str| format!("{}.{f}", kind.as_str());
    html! {
        form.kind-rule method="post" action={ "/allocations/settings/kinds/" (kind.as_str()) } novalidate {
            (csrf_field(ctx))
            fieldset {
                legend { (kind.plural_label()) }
                (error_summary(&keyed))
                div.row {
                    (field_for("Annulation tardive : moins de (heures avant le début)", "late_notice_hours", &key("late_notice_minutes"), &form.late_notice_hours, "text", &keyed, Some("Vide : une annulation n'est jamais facturée.")))
                    (field_for("Part facturée (%)", "late_charged_percent", &key("late_charged_percent"), &form.late_charged_percent, "number", &keyed, None))
                    (field_for("Heures gratuites par structure et par mois", "free_hours", &key("free_minutes_per_month"), &form.free_hours, "text", &keyed, None))
                }
                button type="submit" { "Enregistrer" }
            }
        }
    }
}

async fn settings_view(s: &AppState, p: &PageActor, v: SettingsView) -> Response {
    let ctx = Ctx::new(s, p);
    let settings = match or_page(&ctx, pricing::settings(&s.app, p.actor()).await) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let st = v
        .statements
        .clone()
        .unwrap_or_else(|| StatementForm::of(&settings.statements));
    let se = &v.statement_errors;
    let ce = &v.coefficient_errors;
    let body = html! {
        h1 { "Paramètres de tarification" }
        nav.actions { a href="/allocations" { "← Répartition du mois" } a href="/allocations/verify" { "Vérifier la chaîne des relevés" } }
        (alert_box(&v.alert))
        p.meta { "Chaque changement prend effet à une date : un mois clôturé n'est jamais modifié. Les tarifs de chaque ressource se règlent sur sa fiche (" a href="/resources" { "Ressources" } ")." }

        h2 #coefficients { "Coefficients par catégorie tarifaire" }
        p.hint { "Le coefficient multiplie le tarif des ressources pour les structures de la catégorie : 0,5 = moitié prix, 1 = plein tarif (sans version, le plein tarif s'applique)." }
        @if settings.coefficients.is_empty() {
            p { "Aucun coefficient : toutes les catégories paient le plein tarif." }
        } @else {
            table {
                thead { tr { th { "Catégorie" } th { "À partir du" } th.num { "Coefficient" } th { span.visually-hidden { "Action" } } } }
                tbody { @for c in &settings.coefficients {
                    tr {
                        td { (category_label(&c.category)) }
                        td { (date_text(c.effective_from)) }
                        td.num { "× " (format_permille(i64::from(c.coefficient_permille))) }
                        td {
                            form.inline method="post" action="/allocations/settings/coefficients/delete" {
                                (csrf_field(&ctx))
                                input type="hidden" name="category" value=(c.category);
                                input type="hidden" name="effective_from" value=(c.effective_from);
                                button.danger type="submit" { "Supprimer" }
                            }
                        }
                    }
                } }
            }
        }
        h3 { "Nouvelle version" }
        (error_summary(ce))
        form.filters method="post" action="/allocations/settings/coefficients" novalidate {
            (csrf_field(&ctx))
            (select("Catégorie", "category", &category_options(&settings), &v.coefficient.category, ce))
            (field("À partir du", "effective_from", &v.coefficient.effective_from, "date", ce, None))
            (field_for("Coefficient", "coefficient", "coefficient_permille", &v.coefficient.coefficient, "text", ce, Some("ex. 0,5")))
            button type="submit" { "Ajouter" }
        }

        h2 #types { "Règles par type de ressource" }
        p.hint { "Une annulation moins de N heures avant le début est facturée pour la part indiquée ; les heures gratuites s'imputent dans l'ordre des réservations du mois. Les salariés partagés sont facturés d'après le relevé des heures." }
        @for rule in settings.kinds.iter().filter(|r| r.kind != ResourceKind::Staff) {
            (kind_form(&ctx, rule, &v))
        }

        h2 #releves { "Relevés et export comptable" }
        (error_summary(se))
        form method="post" action="/allocations/settings" novalidate {
            (csrf_field(&ctx))
            fieldset {
                legend { "Relevés" }
                (checkbox("Mentionner « Répartition établie selon l'article 261 B du CGI » sur les relevés", "cgi_261b", checked(&st.cgi_261b)))
                (textarea("Coordonnées du pôle (nom, adresse, SIRET), imprimées sur les relevés", "pole_details", &st.pole_details, se))
            }
            fieldset {
                legend { "Export comptable (FEC)" }
                (field("Code journal", "journal_code", &st.journal_code, "text", se, None))
                (field("Libellé du journal", "journal_label", &st.journal_label, "text", se, None))
                (field("Compte des structures membres", "customer_account", &st.customer_account, "text", se, Some("Chaque structure a un compte auxiliaire : ce préfixe suivi de son numéro.")))
                (field("Compte des utilisations (tarifs)", "tariff_account", &st.tariff_account, "text", se, None))
                (field("Compte des quotes-parts de coûts", "cost_share_account", &st.cost_share_account, "text", se, None))
                (field("Compte des salariés partagés", "staff_account", &st.staff_account, "text", se, None))
                (field("Compte des régularisations", "adjustment_account", &st.adjustment_account, "text", se, None))
            }
            button type="submit" { "Enregistrer" }
        }
    };
    respond(v.status, &ctx, "Paramètres de tarification", v.notice, body)
}

/// `GET /allocations/settings`.
pub async fn settings_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NoticeOnly>,
) -> Response {
    settings_view(
        &s,
        &p,
        SettingsView {
            notice: notice_of(q.notice.as_deref()),
            ..Default::default()
        },
    )
    .await
}

/// The settings page again after a refused form, or an error page.
async fn settings_again(
    s: &AppState,
    p: &PageActor,
    e: AppError,
    keep: impl FnOnce(FieldErrors, &mut SettingsView),
) -> Response {
    match again(e) {
        Ok(a) => {
            let mut v = SettingsView {
                alert: a.alert,
                status: a.status,
                ..Default::default()
            };
            keep(a.errors, &mut v);
            settings_view(s, p, v).await
        }
        Err(e) => super::error_page(s, Some(&p.0), e),
    }
}

/// `POST /allocations/settings`: the statement and accounting settings.
pub async fn save_statement_settings(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<StatementForm>,
) -> Response {
    match pricing::set_statement_settings(&s.app, p.actor(), form.to_settings()).await {
        Ok(()) => see_other("/allocations/settings?notice=saved#releves"),
        Err(e) => {
            settings_again(&s, &p, e, |errors, v| {
                v.statements = Some(form);
                v.statement_errors = errors;
            })
            .await
        }
    }
}

/// `POST /allocations/settings/coefficients`: a new coefficient version.
pub async fn add_coefficient(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<CoefficientForm>,
) -> Response {
    let result = match form.to_version() {
        Ok(version) => pricing::set_coefficient(&s.app, p.actor(), version).await,
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match result {
        Ok(()) => see_other("/allocations/settings?notice=saved#coefficients"),
        Err(e) => {
            settings_again(&s, &p, e, |errors, v| {
                v.coefficient = form;
                v.coefficient_errors = errors;
            })
            .await
        }
    }
}

/// `POST /allocations/settings/coefficients/delete`.
pub async fn delete_coefficient(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<CoefficientDeleteForm>,
) -> Response {
    let Ok(from) = NaiveDate::parse_from_str(form.effective_from.trim(), "%Y-%m-%d") else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    match pricing::delete_coefficient(&s.app, p.actor(), form.category.clone(), from).await {
        Ok(()) => see_other("/allocations/settings?notice=deleted#coefficients"),
        Err(e) => {
            settings_again(&s, &p, e, |errors, v| {
                if !errors.is_empty() {
                    v.alert = Some(errors.summary());
                }
            })
            .await
        }
    }
}

/// `POST /allocations/settings/kinds/{kind}`: one resource kind's rules.
pub async fn save_kind_rule(
    State(s): State<AppState>,
    p: PageActor,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<KindForm>,
) -> Response {
    let Some(kind) = ResourceKind::parse(&raw) else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let result = match form.to_rule(kind) {
        Ok(rule) => pricing::set_kind_rule(&s.app, p.actor(), rule).await,
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match result {
        Ok(()) => see_other("/allocations/settings?notice=saved#types"),
        Err(e) => {
            settings_again(&s, &p, e, |errors, v| {
                v.kind = Some((kind, form, errors));
            })
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------
// The hash chain

/// `GET /allocations/verify`: every closed month's statement checked against its hash and
/// the previous month's, and the reopenings on record.
pub async fn verify_page(State(s): State<AppState>, p: PageActor) -> Response {
    let ctx = Ctx::new(&s, &p);
    let data = async {
        Ok((
            months::verify(&s.app, p.actor()).await?,
            months::reopenings(&s.app, p.actor()).await?,
        ))
    };
    let (checks, reopenings) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let broken = checks.iter().filter(|c| !c.ok).count();
    let body = html! {
        h1 { "Vérification de la chaîne des relevés" }
        nav.actions { a href="/allocations" { "← Répartition du mois" } }
        p.meta { "À la clôture, le relevé de chaque structure est enregistré avec une empreinte (SHA-256) calculée sur ses lignes et sur l'empreinte du mois clôturé avant lui. Chaque mois est recalculé ici à partir des lignes enregistrées : une ligne modifiée, supprimée ou ajoutée après coup rompt la chaîne." }
        @if checks.is_empty() {
            p { "Aucun mois clôturé." }
        } @else if broken == 0 {
            p.notice role="status" { "Chaîne intègre : " (checks.len()) " mois clôturé(s) vérifié(s)." }
        } @else {
            div.errors role="alert" { p { (broken) " mois sur " (checks.len()) " ne correspondent plus à leur empreinte." } }
        }
        @if !checks.is_empty() {
            table.chain {
                thead { tr { th { "Mois" } th { "État" } th { "Empreinte" } th { "Constat" } } }
                tbody { @for c in &checks {
                    tr.ko[!c.ok] {
                        td { a href={ "/allocations?month=" (c.month) } { (label_fr(c.month)) } }
                        td { @if c.ok { span.badge.confirmed { "OK" } } @else { span.badge.violation { "KO" } } }
                        td { (short_hash(&c.hash)) }
                        td { (c.problem.as_deref().unwrap_or("—")) }
                    }
                } }
            }
        }
        h2 { "Réouvertures" }
        @if reopenings.is_empty() {
            p { "Aucun mois rouvert." }
        } @else {
            table {
                thead { tr { th { "Mois" } th { "Rouvert le" } th { "Motif" } th { "Empreinte mise de côté" } } }
                tbody { @for r in &reopenings {
                    tr {
                        td { (label_fr(r.month)) }
                        td { (fmt_local(r.reopened_at, ctx.tz())) }
                        td { (r.reason) }
                        td { (short_hash(&r.statement_hash)) }
                    }
                } }
            }
        }
    };
    respond(
        StatusCode::OK,
        &ctx,
        "Vérification de la chaîne des relevés",
        None,
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_hours() {
        assert_eq!(parse_decimal("0,5", 3), Ok(Some(500)));
        assert_eq!(parse_decimal("1", 3), Ok(Some(1000)));
        assert_eq!(parse_decimal(" 1.25 ", 2), Ok(Some(125)));
        assert_eq!(parse_decimal("", 2), Ok(None));
        assert!(parse_decimal("1,234", 2).is_err());
        assert!(parse_decimal("-1", 2).is_err());
        assert!(parse_decimal("abc", 2).is_err());
        assert_eq!(parse_hours("1,5"), Ok(Some(90)));
        assert_eq!(hours_text(90), "1,5");
        assert_eq!(hours_text(20), "0,33");
        assert_eq!(parse_hours(&hours_text(20)), Ok(Some(20)));
        assert_eq!(parse_percent("12,5 %"), Ok(12.5));
        assert!(parse_percent("douze").is_err());
        assert_eq!(whole_euros(123_456), "1\u{202f}235 €");
        assert_eq!(whole_euros(0), "—");
    }

    #[test]
    fn cost_form_reads_a_blend_and_weights() {
        let form = CostForm {
            month: "2027-01".into(),
            label: "Loyer".into(),
            amount: "1 000,00".into(),
            target: "pool".into(),
            pool: "bâtiment".into(),
            key: "blend".into(),
            blend1: "surface".into(),
            blend1_percent: "50".into(),
            blend2: "percentages".into(),
            blend2_percent: "50".into(),
            weight_member: vec!["1".into(), "2".into(), "3".into()],
            weight: vec!["60".into(), "40".into(), "".into()],
            other: "equal_users".into(),
            ..Default::default()
        };
        let fallback = Month::new(2027, 2).unwrap();
        let (input, other) = form.to_input(fallback).unwrap();
        assert_eq!(input.month.to_string(), "2027-01");
        assert_eq!(input.amount_cents, 100_000);
        assert_eq!(input.pool.as_deref(), Some("bâtiment"));
        assert_eq!(input.key.method, Method::Blend);
        assert_eq!(input.key.parts.len(), 2);
        assert_eq!(input.key.parts[1].key.weights.len(), 2);
        assert_eq!(other.among, Some(Among::Users));
        // And back to the form, as saved.
        let view = CostView {
            id: CostId(1),
            month: input.month,
            label: input.label.clone(),
            amount_cents: input.amount_cents,
            resource_id: None,
            pool: input.pool.clone(),
            recurring: false,
            until: None,
            generated_from: None,
            key_text: input.key.describe(),
            key: input.key.clone(),
        };
        let again = CostForm::of(&view);
        assert_eq!(again.blend2, "percentages");
        assert_eq!(again.weight_of(MemberId(1)), "60");
        assert_eq!(again.target, "pool");
    }

    #[test]
    fn cost_form_reports_every_error() {
        let form = CostForm {
            month: "2027-01".into(),
            amount: "douze".into(),
            target: "resource".into(),
            key: "percentages".into(),
            weight_member: vec!["1".into()],
            weight: vec!["x".into()],
            ..Default::default()
        };
        let errors = form.to_input(Month::new(2027, 1).unwrap()).unwrap_err();
        assert!(errors.get("amount_cents").is_some());
        assert!(errors.get("resource_id").is_some());
        assert!(errors.get("weights.1").is_some());
        assert!(errors.get("key").is_some());
    }
}
