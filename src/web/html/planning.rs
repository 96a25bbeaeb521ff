//! Planning pages of shared employees: the week grid of the employer group, an employee's
//! month, « qui est libre ? », the hours ledger with its CSV, and a member's received hours.
//! Each block opens the assignment's page, where moving or cancelling it goes through the
//! booking engine and its working-time checks again.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use maud::{html, Markup};
use serde::Deserialize;

use super::{error_summary, field, or_page, page, select, Ctx, Nav};
use crate::app::authz;
use crate::app::employees;
use crate::app::ledger::{self, Ledger, Totals};
use crate::app::members;
use crate::app::planning::{
    self, Candidate, EmployeeWeek, FreeQuery, LegendEntry, PlanBlock, PlanDay, WeekQuery,
};
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::labour::{self, Activity};
use crate::domain::ledger::Hours;
use crate::domain::money::format_euros;
use crate::domain::month::{self, Month};
use crate::domain::status::BookingStatus;
use crate::domain::time::{format_date_fr, format_minutes, weekday_fr};
use crate::domain::validation::FieldErrors;
use crate::domain::violation::{Violation, Warning};
use crate::error::AppError;
use crate::export;
use crate::web::download;
use crate::web::extract::PageActor;
use crate::web::AppState;

fn today(s: &AppState) -> NaiveDate {
    s.app.now().with_timezone(&s.tz()).date_naive()
}

/// An optional id typed in a filter ("" is none).
fn opt_id<T: std::str::FromStr>(raw: &Option<String>) -> Option<T> {
    raw.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
}

/// A date of a filter: none when empty, an error beside the field when unreadable.
fn filter_date(errors: &mut FieldErrors, field: &str, raw: &Option<String>) -> Option<NaiveDate> {
    let raw = raw.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    errors.check(
        field,
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| "Date attendue (AAAA-MM-JJ).".into()),
    )
}

/// A month of a filter: the current one when empty, an error beside the field when unreadable.
fn filter_month(errors: &mut FieldErrors, raw: &Option<String>, s: &AppState) -> Month {
    let current = Month::containing(s.app.now(), s.tz());
    match raw.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => current,
        Some(v) => errors
            .check("month", v.parse::<Month>().map_err(|e| e.to_string()))
            .unwrap_or(current),
    }
}

fn previous_month(m: Month) -> Month {
    let d = m.first_day() - Duration::days(1);
    Month::new(d.year(), d.month()).unwrap_or(m)
}

fn day_heading(date: NaiveDate) -> String {
    format!(
        "{} {}",
        weekday_fr(date.weekday().number_from_monday() as u8),
        date.format("%d/%m")
    )
}

fn activity_label(a: Activity) -> &'static str {
    match a {
        Activity::Work => "",
        Activity::Training => "Formation",
        Activity::Absence => "Absence",
    }
}

/// One block: the member's code and name (not colour alone), the hours, what it is.
fn block_view(b: &PlanBlock) -> Markup {
    let class = match b.activity {
        Activity::Work => format!("block m{}", b.colour),
        Activity::Training => "block training".into(),
        Activity::Absence => "block absence".into(),
    };
    let what = match b.activity {
        Activity::Work => b.member.name.clone(),
        other => activity_label(other).to_string(),
    };
    html! {
        a class=(class) href={ "/bookings/" (b.booking_id) } title=(format!("{what}, {}–{}", b.from, b.to)) {
            @if b.activity == Activity::Work { span.code { (b.code) } " " }
            span.hours { (b.from) "–" (b.to) }
            span.what { " " (what) }
            @if b.status == BookingStatus::Pending { " " span.badge.pending { "en attente" } }
            @if b.recurring { span.visually-hidden { " (série)" } " ↻" }
        }
    }
}

fn day_cell(day: &PlanDay, employee: ResourceId, can_add: bool, holiday: bool) -> Markup {
    html! {
        td.day.holiday[holiday] {
            @for b in &day.blocks { (block_view(b)) }
            @if day.worked_minutes > 0 { div.daytotal { (format_minutes(day.worked_minutes)) } }
            @if can_add {
                a.add href={ "/bookings/new?resource_id=" (employee) "&start=" (day.date) "T08:00&end=" (day.date) "T12:00" }
                    title={ "Mettre à disposition le " (format_date_fr(day.date)) } { "+" span.visually-hidden { " mettre à disposition le " (format_date_fr(day.date)) } }
            }
        }
    }
}

fn findings(violations: &[Violation], warnings: &[Warning]) -> Markup {
    html! {
        @if !violations.is_empty() || !warnings.is_empty() {
            ul.findings {
                @for v in violations { li.violation { strong { "Limite dépassée : " } (v.message) } }
                @for w in warnings { li.warning { strong { "Alerte : " } (w.message) } }
            }
        }
    }
}

fn week_total(w: &EmployeeWeek) -> Markup {
    let over = w.contract_minutes > 0 && w.worked_minutes > w.contract_minutes;
    html! {
        td.total {
            strong.over[over] { (format_minutes(w.worked_minutes)) }
            " / " (format_minutes(w.contract_minutes))
            @if w.overtime_25_minutes + w.overtime_50_minutes > 0 {
                div.badge.overtime { "dont " (format_minutes(w.overtime_25_minutes + w.overtime_50_minutes)) " suppl." }
            }
            @if w.absence_minutes > 0 { div.meta { "absence " (format_minutes(w.absence_minutes)) } }
            @if !w.violations.is_empty() { div.badge.violation { (w.violations.len()) " limite(s)" } }
            @if !w.warnings.is_empty() { div.badge.warning { (w.warnings.len()) " alerte(s)" } }
        }
    }
}

fn legend_view(legend: &[LegendEntry]) -> Markup {
    html! {
        ul.legend aria-label="Légende" {
            @for l in legend {
                li { span class={ "swatch m" (l.colour) } { (l.code) } " " (l.member.name) }
            }
            // Training and absences carry their word, never a letter a member could have.
            li { span.swatch.training { (activity_label(Activity::Training)) } " temps de formation, au groupement (non facturé)" }
            li { span.swatch.absence { (activity_label(Activity::Absence)) } " absence (congé, maladie…), hors temps de travail" }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct WeekPageQuery {
    date: Option<String>,
    employer_id: Option<String>,
    skill: Option<String>,
}

/// The week grid: employees × days, every member at once.
pub async fn week(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<WeekPageQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let mut errors = FieldErrors::new();
    let date = filter_date(&mut errors, "date", &q.date);
    let query = WeekQuery {
        date,
        employer_id: opt_id::<MemberId>(&q.employer_id),
        skill: q.skill.clone(),
    };
    let data = async {
        Ok((
            planning::week(&s.app, p.actor(), query).await?,
            employees::employers(&s.app, p.actor()).await?,
        ))
    };
    let (plan, employers) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let filters = |monday: NaiveDate| {
        let mut pairs = vec![("date", monday.to_string())];
        if let Some(e) = opt_id::<MemberId>(&q.employer_id) {
            pairs.push(("employer_id", e.to_string()));
        }
        if let Some(k) = q.skill.as_deref().filter(|k| !k.trim().is_empty()) {
            pairs.push(("skill", k.to_string()));
        }
        format!(
            "/staff/week?{}",
            serde_html_form::to_string(&pairs).unwrap_or_default()
        )
    };
    let sunday = plan.monday + Duration::days(6);
    let mut employer_options = vec![(String::new(), "Tous".to_string())];
    employer_options.extend(employers.iter().map(|m| (m.id.to_string(), m.name.clone())));
    let title = format!(
        "Planning des salariés partagés — semaine du {}",
        format_date_fr(plan.monday)
    );
    let body = html! {
        h1 { "Planning des salariés partagés" }
        p.meta { "Semaine du " (format_date_fr(plan.monday)) " au " (format_date_fr(sunday)) " — toutes structures confondues : les limites du droit du travail valent pour le salarié, pas pour chaque structure." }
        nav.actions aria-label="Semaines" {
            a href=(filters(plan.monday - Duration::days(7))) { "← Semaine précédente" }
            a href=(filters(labour::week_start(today(&s)))) { "Cette semaine" }
            a href=(filters(plan.monday + Duration::days(7))) { "Semaine suivante →" }
            a href="/staff/free" { "Qui est libre ?" }
            @if authz::sees_some_staff_ledger(p.actor()) {
                a href={ "/staff/ledger?month=" (Month::new(plan.monday.year(), plan.monday.month()).map(|m| m.to_string()).unwrap_or_default()) } { "Relevé des heures" }
            }
        }
        (error_summary(&errors))
        form.filters method="get" action="/staff/week" {
            (field("Semaine du", "date", &plan.monday.to_string(), "date", &errors, None))
            @if employers.len() > 1 {
                (select("Groupement", "employer_id", &employer_options, q.employer_id.as_deref().unwrap_or(""), &errors))
            }
            (field("Compétence", "skill", q.skill.as_deref().unwrap_or(""), "search", &errors, None))
            button type="submit" { "Afficher" }
        }
        (legend_view(&plan.legend))
        @if plan.employees.is_empty() {
            p { "Aucun salarié partagé à planifier." }
        } @else {
            div.scroll role="region" tabindex="0" aria-label="Planning de la semaine" {
                table.grid {
                    caption { "Chaque bloc porte la lettre de la structure (voir la légende) ; ouvrez-le pour le déplacer ou l'annuler : tout est vérifié à nouveau." }
                    thead { tr {
                        th scope="col" { "Salarié" }
                        @for d in &plan.days {
                            th scope="col" .holiday[d.holiday.is_some()] {
                                (day_heading(d.date))
                                @if let Some(h) = &d.holiday { br; span.meta { (h) } }
                            }
                        }
                        th scope="col" { "Semaine / contrat" }
                    } }
                    tbody {
                        @for w in &plan.employees {
                            tr {
                                th scope="row" {
                                    a href={ "/staff/" (w.employee.id) "/month?month=" (Month::new(plan.monday.year(), plan.monday.month()).map(|m| m.to_string()).unwrap_or_default()) } { (w.employee.name) }
                                    @if w.employee.private.as_ref().is_some_and(|p| p.minor) { " " span.badge { "mineur" } }
                                    @if let Some(e) = &w.employee.employer { div.meta { (e.name) } }
                                }
                                @for (d, heading) in w.days.iter().zip(&plan.days) {
                                    (day_cell(d, w.employee.id, !w.employee.archived, heading.holiday.is_some()))
                                }
                                (week_total(w))
                            }
                            @if !w.violations.is_empty() || !w.warnings.is_empty() {
                                tr.findings-row { td colspan="9" { (findings(&w.violations, &w.warnings)) } }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&ctx, &title, Nav::Staff, None, body)
}

#[derive(Deserialize, Default)]
pub struct MonthPageQuery {
    month: Option<String>,
}

/// One employee's month: its weeks, and the hours at each member.
pub async fn month(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    Query(q): Query<MonthPageQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let mut errors = FieldErrors::new();
    let month = filter_month(&mut errors, &q.month, &s);
    let m = match or_page(
        &ctx,
        planning::employee_month(&s.app, p.actor(), id, month).await,
    ) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let title = format!("{} — {}", m.employee.name, month::label_fr(month));
    // The treasurer reads the month; those who plan the employee also assign from it.
    let plans = authz::plans_some_staff(p.actor());
    let body = html! {
        h1 { (m.employee.name) " — " (month::label_fr(month)) }
        nav.actions aria-label="Mois" {
            a href={ "/staff/" (id) "/month?month=" (previous_month(month)) } { "← Mois précédent" }
            a href={ "/staff/" (id) "/month?month=" (month.next()) } { "Mois suivant →" }
            a href={ "/staff/" (id) } { "Fiche du salarié" }
            @if plans { a href={ "/staff/week?date=" (month.first_day()) } { "Planning de la semaine" } }
        }
        (error_summary(&errors))
        (legend_view(&m.legend))
        div.scroll role="region" tabindex="0" aria-label="Planning du mois" {
            table.grid {
                caption { "Les semaines qui touchent le mois, du lundi au dimanche." }
                thead { tr {
                    th scope="col" { "Semaine" }
                    @for i in 1..=7u8 { th scope="col" { (weekday_fr(i)) } }
                    th scope="col" { "Semaine / contrat" }
                } }
                tbody {
                    @for w in &m.weeks {
                        tr {
                            th scope="row" { (w.days.first().map(|d| d.date.format("%d/%m").to_string()).unwrap_or_default()) }
                            @for d in &w.days {
                                @if d.date.month() == month.number() {
                                    (day_cell(d, id, plans && !m.employee.archived, crate::domain::holidays::is_public_holiday(d.date)))
                                } @else {
                                    td.day.outside { span.meta { (d.date.format("%d/%m")) } @for b in &d.blocks { (block_view(b)) } }
                                }
                            }
                            (week_total(w))
                        }
                        @if !w.violations.is_empty() || !w.warnings.is_empty() {
                            tr.findings-row { td colspan="9" { (findings(&w.violations, &w.warnings)) } }
                        }
                    }
                }
            }
        }
        h2 { "Heures du mois par structure" }
        p.meta { "Mises à disposition confirmées ; les heures supplémentaires reviennent à la structure dont la mise à disposition fait passer la semaine au-delà de 35 h." }
        div.scroll role="region" tabindex="0" aria-label="Heures du mois par structure" { table {
            thead { tr { th { "Structure" } th { "Travail" } th { "Formation" } th { "Absence" } th { "Suppl. 25 %" } th { "Suppl. 50 %" } } }
            tbody {
                @for l in &m.members {
                    tr { td { (l.member.name) } (hours_cells(&l.hours)) }
                }
                tr.total { th scope="row" { "Total" } (hours_cells(&m.total)) }
            }
        } }
    };
    page(&ctx, &title, Nav::Staff, None, body)
}

fn hours_cells(h: &Hours) -> Markup {
    let cell = |m: i64| {
        if m == 0 {
            "—".to_string()
        } else {
            format_minutes(m)
        }
    };
    html! {
        td { (cell(h.worked_minutes)) }
        td { (cell(h.training_minutes)) }
        td { (cell(h.absence_minutes)) }
        td { (cell(h.overtime_25_minutes)) }
        td { (cell(h.overtime_50_minutes)) }
    }
}

#[derive(Deserialize, Default)]
pub struct FreePageQuery {
    date: Option<String>,
    from: Option<String>,
    to: Option<String>,
    skill: Option<String>,
    member_id: Option<String>,
}

fn candidate_status(c: &Candidate) -> Markup {
    html! {
        @if c.available {
            span.badge.confirmed { "Disponible" }
            @for w in &c.warnings { div.warning { "Alerte : " (w.message) } }
        } @else if !c.free {
            span.badge.cancelled { "Occupé ou absent" }
        } @else if c.outside_agreements {
            span.badge.cancelled { "Hors convention de mise à disposition" }
        } @else {
            span.badge.pending { "Libre, mais une limite serait dépassée" }
            @for v in &c.violations { div.violation { (v.message) } }
        }
    }
}

/// « Qui est libre jeudi après-midi et sait conduire un chariot ? »
pub async fn free(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<FreePageQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    if !authz::plans_some_staff(p.actor()) {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    let all_members = match or_page(
        &ctx,
        members::list(&s.app, p.actor(), Default::default()).await,
    ) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let value = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let (date, from, to) = (value(&q.date), value(&q.from), value(&q.to));
    let asked = !date.is_empty();
    let mut errors = FieldErrors::new();
    let mut results: Option<Vec<Candidate>> = None;
    if asked {
        let query = FreeQuery {
            start: format!("{date}T{from}"),
            end: format!("{date}T{to}"),
            skill: q.skill.clone(),
            member_id: opt_id(&q.member_id),
        };
        match planning::free(&s.app, p.actor(), query).await {
            Ok(r) => results = Some(r),
            Err(AppError::Validation(e)) => {
                for f in e.0 {
                    let field = if f.field == "start" { "from" } else { "to" };
                    errors.add(field, f.message);
                }
            }
            Err(e) => return super::error_page(&s, Some(&p.0), e),
        }
    }
    let mut member_options = vec![(String::new(), "Peu importe".to_string())];
    member_options.extend(
        all_members
            .iter()
            .map(|m| (m.id.to_string(), m.name.clone())),
    );
    let default_date = today(&s).to_string();
    let body = html! {
        h1 { "Qui est libre ?" }
        p.meta { "Les salariés partagés libres sur un créneau, avec une compétence : chaque proposition est vérifiée contre le droit du travail, toutes structures confondues." }
        (error_summary(&errors))
        form.filters method="get" action="/staff/free" {
            (field("Jour", "date", if date.is_empty() { &default_date } else { &date }, "date", &errors, None))
            (field("De", "from", if from.is_empty() { "14:00" } else { &from }, "time", &errors, None))
            (field("À", "to", if to.is_empty() { "18:00" } else { &to }, "time", &errors, None))
            (field("Compétence", "skill", q.skill.as_deref().unwrap_or(""), "search", &errors, Some("ex. chariot")))
            (select("Pour la structure", "member_id", &member_options, q.member_id.as_deref().unwrap_or(""), &errors))
            button type="submit" { "Chercher" }
        }
        @if let Some(results) = &results {
            @if results.is_empty() {
                p { "Aucun salarié partagé ne correspond." }
            } @else {
                table {
                    thead { tr { th { "Salarié" } th { "Compétences" } th { "Semaine" } th { "Verdict" } th { span.visually-hidden { "Action" } } } }
                    tbody { @for c in results {
                        tr {
                            td { a href={ "/staff/" (c.employee.id) } { (c.employee.name) } @if let Some(e) = &c.employee.employer { div.meta { (e.name) } } }
                            td { (c.employee.skills.join(", ")) }
                            td { (format_minutes(c.week_worked_minutes)) " / " (format_minutes(c.contract_minutes)) }
                            td { (candidate_status(c)) }
                            td { @if c.available {
                                a.button href={ "/bookings/new?resource_id=" (c.employee.id) "&start=" (date) "T" (from) "&end=" (date) "T" (to) } { "Mettre à disposition" }
                            } }
                        }
                    } }
                }
            }
        }
    };
    page(&ctx, "Qui est libre ?", Nav::Staff, None, body)
}

#[derive(Deserialize, Default)]
pub struct LedgerPageQuery {
    month: Option<String>,
    employer_id: Option<String>,
    format: Option<String>,
}

fn money_cells(t: &Totals) -> Markup {
    html! {
        td.num { (format_euros(t.cost_cents)) }
        td.num { (format_euros(t.overtime_premium_cents)) }
        td.num { (format_euros(t.fee_cents)) }
        td.num { strong { (format_euros(t.total_cents)) } }
    }
}

fn ledger_view(l: &Ledger, employer: Option<MemberId>, errors: &FieldErrors) -> Markup {
    let month = l.month;
    let csv = |dialect: &str| {
        let mut link = format!("/staff/ledger.csv?month={month}&format={dialect}");
        if let Some(e) = employer {
            link.push_str(&format!("&employer_id={e}"));
        }
        link
    };
    html! {
        h1 { "Relevé des heures — " (month::label_fr(month)) }
        nav.actions aria-label="Mois" {
            a href={ "/staff/ledger?month=" (previous_month(month)) } { "← Mois précédent" }
            a href={ "/staff/ledger?month=" (month.next()) } { "Mois suivant →" }
            a href=(csv("semicolon")) download { "Télécharger (CSV pour tableur, « ; »)" }
            a href=(csv("comma")) download { "Télécharger (CSV « , »)" }
        }
        (error_summary(errors))
        form.filters method="get" action="/staff/ledger" {
            (field("Mois", "month", &month.to_string(), "month", errors, None))
            button type="submit" { "Afficher" }
        }
        p.meta { "Mises à disposition confirmées du mois. Coût = heures travaillées × coût horaire chargé ; majorations de 25 % et 50 % sur les heures supplémentaires, à la charge de la structure qui les a causées ; frais de gestion du groupement (coefficient, ou forfait mensuel réparti au prorata des heures, au centime près). Le groupement ne se facture pas lui-même : formation et absences sont montrées, non facturées." }
        h2 { "Par structure" }
        @if l.members.is_empty() { p { "Aucune heure ce mois-ci." } } @else {
            div.scroll role="region" tabindex="0" aria-label="Heures par structure" { table {
                thead { tr { th { "Structure" } th { "Travail" } th { "Formation" } th { "Absence" } th { "Suppl. 25 %" } th { "Suppl. 50 %" } th { "Coût" } th { "Majorations" } th { "Frais de gestion" } th { "Total" } } }
                tbody {
                    @for m in &l.members { tr { td { (m.member.name) } (hours_cells(&m.total.hours)) (money_cells(&m.total)) } }
                    tr.total { th scope="row" { "Total" } (hours_cells(&l.total.hours)) (money_cells(&l.total)) }
                }
            } }
        }
        h2 { "Par salarié" }
        @for e in &l.employees {
            article.card {
                h3 { a href={ "/staff/" (e.employee_id) "/month?month=" (month) } { (e.employee_name) } }
                p.meta { (e.employer.name) " · coût horaire chargé " (format_euros(e.hourly_cost_cents))
                    " · frais de gestion " @match e.fee { Some(f) => (f.describe()), None => "aucun" } }
                div.scroll role="region" tabindex="0" aria-label={ "Heures de " (e.employee_name) } { table {
                    thead { tr { th { "Structure" } th { "Travail" } th { "Formation" } th { "Absence" } th { "Suppl. 25 %" } th { "Suppl. 50 %" } th { "Coût" } th { "Majorations" } th { "Frais de gestion" } th { "Total" } } }
                    tbody {
                        @for line in &e.lines {
                            tr {
                                td { (line.member.name) @if !line.charge.billed { " " span.badge { "non facturé" } } }
                                (hours_cells(&line.charge.hours))
                                td.num { (format_euros(line.charge.cost_cents)) }
                                td.num { (format_euros(line.charge.overtime_premium_cents)) }
                                td.num { (format_euros(line.charge.fee_cents)) }
                                td.num { strong { (format_euros(line.charge.total_cents)) } }
                            }
                        }
                        tr.total { th scope="row" { "Total" } (hours_cells(&e.total.hours)) (money_cells(&e.total)) }
                    }
                } }
            }
        }
    }
}

/// The month's hours ledger (treasurer, employer-group managers).
pub async fn ledger_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<LedgerPageQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let mut errors = FieldErrors::new();
    let month = filter_month(&mut errors, &q.month, &s);
    let employer = opt_id::<MemberId>(&q.employer_id);
    let l = match or_page(
        &ctx,
        ledger::ledger(&s.app, p.actor(), month, employer).await,
    ) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let title = format!("Relevé des heures — {}", month::label_fr(month));
    page(
        &ctx,
        &title,
        Nav::Staff,
        None,
        ledger_view(&l, employer, &errors),
    )
}

/// The ledger as a CSV file.
pub async fn ledger_csv(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<LedgerPageQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let mut errors = FieldErrors::new();
    let month = filter_month(&mut errors, &q.month, &s);
    let dialect = match crate::web::download::dialect(q.format.as_deref()) {
        Ok(d) if errors.is_empty() => d,
        Ok(_) => return super::error_page(&s, Some(&p.0), AppError::Validation(errors)),
        Err(e) => return super::error_page(&s, Some(&p.0), AppError::BadRequest(e)),
    };
    match or_page(
        &ctx,
        ledger::ledger(&s.app, p.actor(), month, opt_id(&q.employer_id)).await,
    ) {
        Ok(l) => download::csv(
            &export::ledger::table(&l),
            dialect,
            &format!("heures-salaries-partages-{month}"),
        ),
        Err(r) => r,
    }
}

#[derive(Deserialize, Default)]
pub struct HoursPageQuery {
    member_id: Option<String>,
    month: Option<String>,
}

/// The shared-staff hours a member received in a month.
pub async fn member_hours(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<HoursPageQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let mut errors = FieldErrors::new();
    let month = filter_month(&mut errors, &q.month, &s);
    let actor = p.actor();
    // The pole's team picks among every member; a member's people among their own.
    let mine: Vec<(String, String)> = if actor.is_pole_team() {
        match or_page(&ctx, members::list(&s.app, actor, Default::default()).await) {
            Ok(all) => all
                .into_iter()
                .map(|m| (m.id.to_string(), m.name))
                .collect(),
            Err(r) => return r,
        }
    } else {
        actor
            .memberships
            .iter()
            .map(|m| (m.member_id.to_string(), m.member_name.clone()))
            .collect()
    };
    let member = opt_id::<MemberId>(&q.member_id)
        .or_else(|| actor.member_ids().first().copied())
        .or_else(|| {
            mine.first()
                .and_then(|(id, _)| id.parse().ok().map(MemberId))
        });
    let Some(member) = member else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let h = match or_page(
        &ctx,
        planning::member_hours(&s.app, actor, member, month).await,
    ) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let only_theirs = if actor.member_role(member).is_some() {
        "Seules vos heures sont montrées."
    } else {
        "Seules les heures de cette structure sont montrées."
    };
    let title = format!(
        "Heures de salariés partagés — {} — {}",
        h.member.name,
        month::label_fr(month)
    );
    let link = |m: Month| format!("/staff/hours?member_id={member}&month={m}");
    let body = html! {
        h1 { "Heures de salariés partagés" }
        p.meta { (h.member.name) " — " (month::label_fr(month)) }
        nav.actions aria-label="Mois" {
            a href=(link(previous_month(month))) { "← Mois précédent" }
            a href=(link(month.next())) { "Mois suivant →" }
        }
        (error_summary(&errors))
        @if mine.len() > 1 {
            form.filters method="get" action="/staff/hours" {
                (select("Structure", "member_id", &mine, &member.to_string(), &errors))
                input type="hidden" name="month" value=(month);
                button type="submit" { "Afficher" }
            }
        }
        @if h.employees.is_empty() {
            p { "Aucune heure de salarié partagé ce mois-ci." }
        } @else {
            div.scroll role="region" tabindex="0" aria-label="Heures des salariés partagés" { table {
                thead { tr { th { "Salarié" } th { "Travail" } th { "Formation" } th { "Absence" } th { "Suppl. 25 %" } th { "Suppl. 50 %" } } }
                tbody {
                    @for e in &h.employees { tr { td { (e.employee_name) } (hours_cells(&e.hours)) } }
                    tr.total { th scope="row" { "Total" } (hours_cells(&h.total)) }
                }
            } }
            p.meta { (only_theirs) " Les heures supplémentaires sont celles que ses mises à disposition ont fait passer au-delà de 35 h dans la semaine du salarié." }
        }
    };
    page(&ctx, &title, Nav::Staff, None, body)
}
