//! Booking pages: the booking form (with reasons and one-click alternatives when refused),
//! the week view of a resource, the day view of a kind, "my bookings", a booking's page and
//! the approvals queue.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    csrf_field, error_summary, field, fmt_local, input_local, or_page, page, page_with_status,
    see_other, select, Ctx, Nav,
};
use crate::app::bookings::{
    self as app, BookOutcome, BookingChanges, BookingEnv, BookingInput, BookingOut, BookingQuery,
    RecurrenceInput,
};
use crate::app::resources;
use crate::domain::resource::ResourceKind;
use crate::domain::time::{format_date_fr, local_to_utc, Interval};
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::store::resources::ResourceFilter;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::AppState;

fn env(s: &AppState) -> BookingEnv {
    crate::web::api::booking_env(s)
}

fn status_badge(status: &str) -> Markup {
    html! { span class={ "badge " (status) } { (app::status_label(status)) } }
}

/// A local date from `?date=`, today by default.
fn day_of(raw: Option<&str>, s: &AppState) -> NaiveDate {
    raw.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|d| (2000..=2199).contains(&d.year()))
        .unwrap_or_else(|| s.now().with_timezone(&s.config.timezone).date_naive())
}

fn local_instant(date: NaiveDate, minutes: i64, s: &AppState) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::new(date, NaiveTime::MIN) + Duration::minutes(minutes);
    local_to_utc(naive, s.config.timezone).ok().or_else(|| {
        // A wall-clock hour that does not exist (spring change): the next one does.
        local_to_utc(naive + Duration::hours(1), s.config.timezone).ok()
    })
}

// ---- the booking form ----

#[derive(Deserialize, Default, Clone)]
pub struct BookingForm {
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    beneficiary: String,
    /// none, daily, weekdays, weekly, biweekly, monthly
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    count: String,
    skip_conflicts: Option<String>,
}

impl BookingForm {
    fn to_input(&self) -> Result<BookingInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let resource_id = e.check(
            "resource_id",
            self.resource_id
                .trim()
                .parse::<i64>()
                .map_err(|_| "Choisissez une ressource.".to_string()),
        );
        let member_id = e.check(
            "member_id",
            self.member_id
                .trim()
                .parse::<i64>()
                .map_err(|_| "Choisissez la structure.".to_string()),
        );
        let quantity = if self.quantity.trim().is_empty() {
            None
        } else {
            e.check(
                "quantity",
                self.quantity
                    .trim()
                    .parse::<i32>()
                    .map_err(|_| "Nombre entier attendu.".to_string()),
            )
        };
        let rule = match self.repeat.as_str() {
            "" | "none" => None,
            "daily" => Some("FREQ=DAILY"),
            "weekdays" => Some("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
            "weekly" => Some("FREQ=WEEKLY"),
            "biweekly" => Some("FREQ=WEEKLY;INTERVAL=2"),
            "monthly" => Some("FREQ=MONTHLY"),
            _ => {
                e.add("repeat", "Répétition inconnue.");
                None
            }
        };
        let recurrence = match rule {
            Some(r) => match self.count.trim().parse::<u32>() {
                Ok(n) if (1..=366).contains(&n) => Some(RecurrenceInput {
                    rrule: format!("{r};COUNT={n}"),
                    exdates: vec![],
                }),
                _ => {
                    e.add("count", "Nombre d'occurrences attendu, de 1 à 366.");
                    None
                }
            },
            None => None,
        };
        match (resource_id, member_id) {
            (Some(resource_id), Some(member_id)) if e.is_empty() => Ok(BookingInput {
                resource_id,
                member_id,
                start: self.start.clone(),
                end: self.end.clone(),
                quantity,
                purpose: Some(self.purpose.clone()),
                beneficiary: Some(self.beneficiary.clone()),
                recurrence,
                skip_conflicts: super::checked(&self.skip_conflicts),
            }),
            _ => Err(e),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    resource_id: Option<i64>,
    start: Option<String>,
    end: Option<String>,
}

/// What the form shows after a refusal: the reasons, who holds the slot, what else is free.
#[derive(Default)]
struct Refused {
    violations: Vec<(String, String)>,
    conflicts: Vec<serde_json::Value>,
    suggestions: Vec<serde_json::Value>,
    occurrences: Vec<serde_json::Value>,
}

async fn form_view(
    s: &AppState,
    p: &PageActor,
    form: &BookingForm,
    errors: &FieldErrors,
    refused: &Refused,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor().clone();
    let data =
        s.db.run(move |c| {
            let all = resources::list(c, &actor, &ResourceFilter::default())?;
            let members = crate::app::members::list(c, &actor, &Default::default())?;
            Ok((all, members))
        })
        .await;
    let (all, members) = match or_page(&ctx, data) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let actor = p.actor();
    let allowed = app::bookable_members(actor);
    let member_options: Vec<(String, String)> = members
        .iter()
        .filter(|m| allowed.as_ref().is_none_or(|ids| ids.contains(&m.id)))
        .map(|m| (m.id.to_string(), m.name.clone()))
        .collect();
    let resource_options: Vec<(String, String)> = all
        .iter()
        .map(|r| {
            (
                r.row.id.to_string(),
                format!("{} — {}", r.row.name, resources::kind_of(r).label()),
            )
        })
        .collect();
    let repeats: Vec<(String, String)> = [
        ("none", "Ne pas répéter"),
        ("daily", "Chaque jour"),
        ("weekdays", "Chaque jour ouvré (lundi–vendredi)"),
        ("weekly", "Chaque semaine"),
        ("biweekly", "Toutes les deux semaines"),
        ("monthly", "Chaque mois"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let tz = ctx.tz();
    let at = |v: &serde_json::Value| -> String {
        v.as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok())
            .map(|t| fmt_local(t, tz))
            .unwrap_or_default()
    };
    let local_input = |v: &serde_json::Value| -> String {
        v.as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok())
            .map(|t| input_local(t, tz))
            .unwrap_or_default()
    };
    let body = html! {
        h1 { "Réserver" }
        (error_summary(errors))
        @if !refused.violations.is_empty() {
            div.errors role="alert" {
                p { strong { "Réservation impossible :" } }
                ul { @for (_, m) in &refused.violations { li { (m) } } }
                @if !refused.conflicts.is_empty() {
                    p { "Déjà réservé sur ce créneau :" }
                    ul { @for c in &refused.conflicts {
                        li { (c["member_name"].as_str().unwrap_or("")) ", du " (at(&c["start"])) " au " (at(&c["end"])) " (" (c["quantity"]) " unité(s))" }
                    } }
                }
                @if !refused.occurrences.is_empty() {
                    p { "Occurrences impossibles :" }
                    ul { @for o in &refused.occurrences {
                        li { (at(&o["start"])) " : "
                            (o["violations"].as_array().map(|v| v.iter().filter_map(|x| x["message"].as_str()).collect::<Vec<_>>().join(" ")).unwrap_or_default()) }
                    } }
                }
            }
        }
        @if !refused.suggestions.is_empty() {
            section.suggestions {
                h2 { "Créneaux disponibles" }
                ul { @for sug in &refused.suggestions {
                    li {
                        form.inline method="post" action="/bookings" {
                            (csrf_field(&ctx))
                            input type="hidden" name="resource_id" value=(sug["resource_id"]);
                            input type="hidden" name="member_id" value=(form.member_id);
                            input type="hidden" name="start" value=(local_input(&sug["start"]));
                            input type="hidden" name="end" value=(local_input(&sug["end"]));
                            input type="hidden" name="quantity" value=(form.quantity);
                            input type="hidden" name="purpose" value=(form.purpose);
                            input type="hidden" name="beneficiary" value=(form.beneficiary);
                            button type="submit" { "Réserver " (sug["resource_name"].as_str().unwrap_or("")) " du " (at(&sug["start"])) " au " (at(&sug["end"])) }
                        }
                    }
                } }
            }
        }
        form method="post" action="/bookings" novalidate {
            (csrf_field(&ctx))
            (select("Ressource", "resource_id", &resource_options, &form.resource_id, errors))
            (select("Pour la structure", "member_id", &member_options, &form.member_id, errors))
            (field("Début (heure du pôle)", "start", &form.start, "datetime-local", errors, None))
            (field("Fin (heure du pôle)", "end", &form.end, "datetime-local", errors, None))
            (field("Quantité", "quantity", &form.quantity, "number", errors, Some("Par exemple 3 des 12 postes de coworking.")))
            (field("Objet", "purpose", &form.purpose, "text", errors, None))
            (field("Bénéficiaire accompagné (facultatif)", "beneficiary", &form.beneficiary, "text", errors, Some("Pour un véhicule prêté à une personne accompagnée.")))
            fieldset {
                legend { "Répétition" }
                (select("Répéter", "repeat", &repeats, if form.repeat.is_empty() { "none" } else { &form.repeat }, errors))
                (field("Nombre d'occurrences", "count", &form.count, "number", errors, None))
                (super::checkbox("Réserver les occurrences possibles et ignorer les autres", "skip_conflicts", super::checked(&form.skip_conflicts)))
            }
            button type="submit" { "Réserver" }
        }
    };
    page_with_status(status, &ctx, "Réserver", Nav::Bookings, body)
}

pub async fn new_form(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NewQuery>,
) -> Response {
    let actor = p.actor();
    let member_id = actor
        .memberships
        .first()
        .map(|m| m.member_id.to_string())
        .unwrap_or_default();
    let form = BookingForm {
        resource_id: q.resource_id.map(|r| r.to_string()).unwrap_or_default(),
        member_id,
        start: q.start.unwrap_or_default(),
        end: q.end.unwrap_or_default(),
        quantity: "1".into(),
        count: "10".into(),
        ..Default::default()
    };
    form_view(
        &s,
        &p,
        &form,
        &FieldErrors::new(),
        &Refused::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<BookingForm>,
) -> Response {
    let input = match form.to_input() {
        Ok(i) => i,
        Err(e) => {
            return form_view(
                &s,
                &p,
                &form,
                &e,
                &Refused::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let actor = p.actor().clone();
    let env = env(&s);
    match s
        .db
        .write(move |c| app::book_tx(c, &actor, &input, &env))
        .await
    {
        Ok(BookOutcome::Single(b)) => see_other(&format!("/bookings/{}?notice=created", b.id)),
        Ok(BookOutcome::Series(series)) => match series.bookings.first() {
            Some(first) => see_other(&format!("/bookings/{}?notice=series", first.id)),
            None => see_other("/bookings"),
        },
        Err(AppError::Validation(errors)) => {
            form_view(
                &s,
                &p,
                &form,
                &errors,
                &Refused::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ AppError::Refused(_)) => {
            let AppError::Refused(r) = crate::web::api::with_alternatives(&s, e).await else {
                return super::error_page(&s, Some(&p.0), AppError::internal("refusal lost"));
            };
            let list = |k: &str| r.body[k].as_array().cloned().unwrap_or_default();
            let mut errors = FieldErrors::new();
            for e in list("errors") {
                errors.add(
                    e["field"].as_str().unwrap_or("start"),
                    e["message"].as_str().unwrap_or(""),
                );
            }
            let refused = Refused {
                violations: if errors.is_empty() {
                    list("violations")
                        .iter()
                        .map(|v| {
                            (
                                v["code"].as_str().unwrap_or("").to_string(),
                                v["message"].as_str().unwrap_or("").to_string(),
                            )
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                conflicts: list("conflicts"),
                suggestions: list("suggestions"),
                occurrences: list("occurrences"),
            };
            form_view(&s, &p, &form, &errors, &refused, r.status).await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

// ---- a booking's page ----

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    notice: Option<String>,
}

fn booking_notice(code: Option<&str>) -> Option<&'static str> {
    match code {
        Some("series") => Some("Série de réservations créée."),
        Some("moved") => Some("Réservation déplacée."),
        Some("cancelled") => Some("Réservation annulée."),
        Some("approved") => Some("Réservation validée."),
        Some("rejected") => Some("Réservation refusée."),
        other => super::notice_text(other),
    }
}

pub async fn show(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Response {
    show_view(
        &s,
        &p,
        id,
        booking_notice(q.notice.as_deref()),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

async fn show_view(
    s: &AppState,
    p: &PageActor,
    id: i64,
    notice: Option<&str>,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor().clone();
    let b = match or_page(&ctx, s.db.run(move |c| app::get(c, &actor, id)).await) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let actor = p.actor();
    let tz = ctx.tz();
    let mine = actor.member_role(b.member_id).is_some()
        || actor.is_admin()
        || actor.has(crate::domain::role::PoleRole::ResourceManager);
    let active = b.status == "pending" || b.status == "confirmed";
    let body = html! {
        h1 { (b.resource_name) }
        p.meta { (status_badge(&b.status)) " · " (b.member_name) }
        dl {
            dt { "Début" } dd { (fmt_local(b.start, tz)) }
            dt { "Fin" } dd { (fmt_local(b.end, tz)) }
            dt { "Quantité" } dd { (b.quantity) }
            @if let Some(purpose) = &b.purpose { @if !purpose.is_empty() { dt { "Objet" } dd { (purpose) } } }
            @if let Some(ben) = &b.beneficiary { dt { "Bénéficiaire" } dd { (ben) } }
            @if let Some(r) = &b.decision_reason { dt { "Décision" } dd { (r) } }
            @if b.series_id.is_some() { dt { "Série" } dd { "Réservation récurrente" } }
        }
        p { a href={ "/resources/" (b.resource_id) "/week?date=" (b.start.with_timezone(&tz).format("%Y-%m-%d")) } { "Voir la semaine de la ressource" } }
        @if mine && active {
            section {
                h2 { "Déplacer" }
                (error_summary(errors))
                form method="post" action={ "/bookings/" (b.id) "/move" } novalidate {
                    (csrf_field(&ctx))
                    (field("Début", "start", &input_local(b.start, tz), "datetime-local", errors, None))
                    (field("Fin", "end", &input_local(b.end, tz), "datetime-local", errors, None))
                    @if b.series_id.is_some() { (super::checkbox("Appliquer aussi aux occurrences suivantes", "following", false)) }
                    button type="submit" { "Déplacer" }
                }
                h2 { "Annuler" }
                form method="post" action={ "/bookings/" (b.id) "/cancel" } {
                    (csrf_field(&ctx))
                    @if b.series_id.is_some() { (super::checkbox("Annuler aussi les occurrences suivantes", "following", false)) }
                    button.danger type="submit" { "Annuler la réservation" }
                }
            }
        }
        @if b.status == "pending" && app::can_decide(actor) { (decision_forms(&ctx, b.id)) }
    };
    (
        status,
        page(&ctx, "Réservation", Nav::Bookings, notice, body),
    )
        .into_response()
}

fn decision_forms(ctx: &Ctx, id: i64) -> Markup {
    html! {
        div.actions {
            form.inline method="post" action={ "/bookings/" (id) "/approve" } {
                (csrf_field(ctx))
                button type="submit" { "Valider" }
            }
            form.inline method="post" action={ "/bookings/" (id) "/reject" } {
                (csrf_field(ctx))
                label for={ "reason-" (id) } { "Motif du refus" }
                input id={ "reason-" (id) } type="text" name="reason" required;
                button.danger type="submit" { "Refuser" }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct MoveForm {
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    following: Option<String>,
}

pub async fn move_booking(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> Response {
    let actor = p.actor().clone();
    let env = env(&s);
    let changes = BookingChanges {
        start: Some(form.start.clone()),
        end: Some(form.end.clone()),
        scope: super::checked(&form.following).then(|| "following".into()),
        ..Default::default()
    };
    match s
        .db
        .write(move |c| app::move_tx(c, &actor, id, &changes, &env))
        .await
    {
        Ok(_) => see_other(&format!("/bookings/{id}?notice=moved")),
        Err(AppError::Refused(r)) => {
            let mut errors = FieldErrors::new();
            let messages: Vec<String> = r.body["violations"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(|x| x["message"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            errors.add(
                "start",
                if messages.is_empty() {
                    r.detail.clone()
                } else {
                    messages.join(" ")
                },
            );
            show_view(&s, &p, id, None, &errors, r.status).await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

#[derive(Deserialize, Default)]
pub struct CancelForm {
    following: Option<String>,
}

pub async fn cancel(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<CancelForm>,
) -> Response {
    let actor = p.actor().clone();
    let env = env(&s);
    let scope = super::checked(&form.following).then_some("following");
    match s
        .db
        .write(move |c| app::cancel_tx(c, &actor, id, scope, &env))
        .await
    {
        Ok(_) => see_other(&format!("/bookings/{id}?notice=cancelled")),
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    back: String,
}

async fn decide(s: AppState, p: PageActor, id: i64, approve: bool, form: DecisionForm) -> Response {
    let actor = p.actor().clone();
    let env = env(&s);
    let reason = form.reason.clone();
    if let Err(e) = s.db.write(move |c| app::sweep_tx(c, env.now)).await {
        return super::error_page(&s, Some(&p.0), e);
    }
    match s
        .db
        .write(move |c| app::decide_tx(c, &actor, id, approve, Some(&reason), &env))
        .await
    {
        Ok(_) if form.back == "queue" => see_other("/approvals?notice=saved"),
        Ok(_) => see_other(&format!(
            "/bookings/{id}?notice={}",
            if approve { "approved" } else { "rejected" }
        )),
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

pub async fn approve(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    decide(s, p, id, true, form).await
}

pub async fn reject(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    decide(s, p, id, false, form).await
}

// ---- lists ----

#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    from: Option<String>,
    notice: Option<String>,
}

fn booking_table(ctx: &Ctx, list: &[BookingOut]) -> Markup {
    html! {
        @if list.is_empty() {
            p { "Aucune réservation." }
        } @else {
            table {
                thead { tr { th { "Ressource" } th { "Structure" } th { "Début" } th { "Fin" } th { "Qté" } th { "État" } } }
                tbody { @for b in list {
                    tr {
                        td { a href={ "/bookings/" (b.id) } { (b.resource_name) } }
                        td { (b.member_name) }
                        td { (fmt_local(b.start, ctx.tz())) }
                        td { (fmt_local(b.end, ctx.tz())) }
                        td { (b.quantity) }
                        td { (status_badge(&b.status)) }
                    }
                } }
            }
        }
    }
}

/// "My bookings": the bookings of the members the user acts for (everyone's for the team).
pub async fn list(State(s): State<AppState>, p: PageActor, Query(q): Query<ListQuery>) -> Response {
    let ctx = Ctx::new(&s, &p);
    let actor = p.actor().clone();
    let tz = s.config.timezone;
    let from = q.from.clone().filter(|f| !f.is_empty()).unwrap_or_else(|| {
        s.now()
            .with_timezone(&tz)
            .format("%Y-%m-%dT00:00")
            .to_string()
    });
    let status = q.status.clone().filter(|s| !s.is_empty());
    let ids = app::bookable_members(&actor);
    let query_status = status.clone();
    let from_q = from.clone();
    let data =
        s.db.run(move |c| {
            let mut all = Vec::new();
            match ids {
                None => {
                    all = app::list(
                        c,
                        &actor,
                        &BookingQuery {
                            from: Some(from_q),
                            status: query_status,
                            ..Default::default()
                        },
                        tz,
                    )?
                }
                Some(ids) => {
                    for m in ids {
                        all.extend(app::list(
                            c,
                            &actor,
                            &BookingQuery {
                                member_id: Some(m),
                                from: Some(from_q.clone()),
                                status: query_status.clone(),
                                ..Default::default()
                            },
                            tz,
                        )?);
                    }
                    all.sort_by_key(|b| (b.start, b.id));
                }
            }
            let quotas = app::list_quotas(c, &actor)?;
            Ok((all, quotas))
        })
        .await;
    let (list, quotas) = match or_page(&ctx, data) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let statuses: Vec<(String, String)> = [
        ("", "Actives"),
        ("pending", "En attente"),
        ("confirmed", "Confirmées"),
        ("cancelled", "Annulées"),
        ("rejected", "Refusées"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let body = html! {
        h1 { "Réservations" }
        p { a.button href="/bookings/new" { "Nouvelle réservation" } " " a href="/calendar" { "Planning du jour" } }
        form.filters method="get" action="/bookings" {
            (select("État", "status", &statuses, status.as_deref().unwrap_or(""), &FieldErrors::new()))
            (field("À partir du", "from", &from, "datetime-local", &FieldErrors::new(), None))
            button type="submit" { "Filtrer" }
        }
        (booking_table(&ctx, &list))
        @if !quotas.is_empty() {
            h2 { "Quotas de réservation" }
            ul { @for q in &quotas { li { (q.description) } } }
        }
    };
    page(
        &ctx,
        "Réservations",
        Nav::Bookings,
        booking_notice(q.notice.as_deref()),
        body,
    )
}

pub async fn approvals(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<super::NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let actor = p.actor().clone();
    let env = env(&s);
    let list = match or_page(
        &ctx,
        s.db.run(move |c| app::approval_queue(c, &actor, &env))
            .await,
    ) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let body = html! {
        h1 { "Réservations à valider" }
        @if list.is_empty() { p { "Aucune demande en attente." } }
        @for b in &list {
            article.card {
                h2 { a href={ "/bookings/" (b.id) } { (b.resource_name) } " — " (b.member_name) }
                p { (fmt_local(b.start, ctx.tz())) " → " (fmt_local(b.end, ctx.tz())) @if let Some(pp) = &b.purpose { @if !pp.is_empty() { " · " (pp) } } }
                div.actions {
                    form.inline method="post" action={ "/bookings/" (b.id) "/approve" } {
                        (csrf_field(&ctx)) input type="hidden" name="back" value="queue";
                        button type="submit" { "Valider" }
                    }
                    form.inline method="post" action={ "/bookings/" (b.id) "/reject" } {
                        (csrf_field(&ctx)) input type="hidden" name="back" value="queue";
                        label for={ "reason-" (b.id) } { "Motif du refus" }
                        input id={ "reason-" (b.id) } type="text" name="reason" required;
                        button.danger type="submit" { "Refuser" }
                    }
                }
            }
        }
    };
    page(
        &ctx,
        "Validation",
        Nav::Approvals,
        super::notice_text(q.notice.as_deref()),
        body,
    )
}

// ---- calendars ----

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    date: Option<String>,
    kind: Option<String>,
}

/// Slot length of the calendars, and the hours shown when a resource is always open.
const SLOT_MINUTES: i64 = 60;

struct Cell {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    open: bool,
    past: bool,
    used: i32,
    holders: Vec<String>,
}

fn cells_for(
    cal: &app::Calendar,
    day: NaiveDate,
    from_min: i64,
    to_min: i64,
    s: &AppState,
) -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut m = from_min;
    while m < to_min {
        if let (Some(start), Some(end)) = (
            local_instant(day, m, s),
            local_instant(day, m + SLOT_MINUTES, s),
        ) {
            if start < end {
                let iv = Interval { start, end };
                let open = cal.bookable.iter().any(|b| b.covers(&iv));
                let overlapping: Vec<&BookingOut> = cal
                    .bookings
                    .iter()
                    .filter(|b| {
                        b.resource_id == cal.resource.row.id && b.start < end && b.end > start
                    })
                    .collect();
                let blocked_by_related = cal.bookings.iter().any(|b| {
                    b.resource_id != cal.resource.row.id && b.start < end && b.end > start
                });
                let used = if blocked_by_related {
                    cal.resource.row.capacity
                } else {
                    overlapping.iter().map(|b| b.quantity).sum()
                };
                cells.push(Cell {
                    start,
                    end,
                    open,
                    past: start < s.now(),
                    used,
                    holders: overlapping.iter().map(|b| b.member_name.clone()).collect(),
                });
            }
        }
        m += SLOT_MINUTES;
    }
    cells
}

/// Hours to show: from the earliest opening to the latest closing of the week (07–21 when
/// always open).
fn hour_range(r: &crate::store::resources::Resource) -> (i64, i64) {
    if r.opening_hours.is_empty() {
        return (7 * 60, 21 * 60);
    }
    let open = r
        .opening_hours
        .iter()
        .map(|s| i64::from(s.open_minute))
        .min()
        .unwrap_or(0)
        / 60
        * 60;
    let close = r
        .opening_hours
        .iter()
        .map(|s| i64::from(s.close_minute))
        .max()
        .unwrap_or(1440)
        .saturating_add(59)
        / 60
        * 60;
    (open, close)
}

fn cell_markup(
    cell: &Cell,
    capacity: i32,
    resource_id: i64,
    tz: chrono_tz::Tz,
    bookable: bool,
) -> Markup {
    let free = capacity - cell.used;
    html! {
        @if !cell.open {
            td.closed { "fermé" }
        } @else if free <= 0 {
            td.full title=(cell.holders.join(", ")) { (cell.holders.join(", ")) }
        } @else if cell.past {
            td.closed { "passé" }
        } @else {
            td.free {
                @if bookable {
                    a href={ "/bookings/new?resource_id=" (resource_id) "&start=" (input_local(cell.start, tz)) "&end=" (input_local(cell.end, tz)) } {
                        @if capacity > 1 { (free) "/" (capacity) " libres" } @else { "libre" }
                    }
                } @else { "libre" }
                @if !cell.holders.is_empty() { br; small { (cell.holders.join(", ")) } }
            }
        }
    }
}

pub async fn week(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let day = day_of(q.date.as_deref(), &s);
    let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let (Some(from), Some(to)) = (
        local_instant(monday, 0, &s),
        local_instant(monday + Duration::days(7), 0, &s),
    ) else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let actor = p.actor().clone();
    let env = env(&s);
    let cal = match or_page(
        &ctx,
        s.db.run(move |c| {
            app::calendar(
                c,
                &actor,
                id,
                Interval {
                    start: from,
                    end: to,
                },
                &env,
            )
        })
        .await,
    ) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (from_min, to_min) = hour_range(&cal.resource);
    let days: Vec<NaiveDate> = (0..7).map(|i| monday + Duration::days(i)).collect();
    let columns: Vec<Vec<Cell>> = days
        .iter()
        .map(|d| cells_for(&cal, *d, from_min, to_min, &s))
        .collect();
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    let tz = ctx.tz();
    let bookable = cal.resource.row.archived_at.is_none();
    let body = html! {
        h1 { (cal.resource.row.name) " — semaine du " (format_date_fr(monday)) }
        nav.tabs aria-label="Semaines" {
            a href={ "/resources/" (id) "/week?date=" (monday - Duration::days(7)) } { "← Semaine précédente" }
            a href={ "/resources/" (id) "/week" } { "Cette semaine" }
            a href={ "/resources/" (id) "/week?date=" (monday + Duration::days(7)) } { "Semaine suivante →" }
            a href={ "/resources/" (id) } { "Fiche de la ressource" }
        }
        table.calendar {
            caption { "Créneaux d'une heure, heure du pôle. Cliquez sur un créneau libre pour réserver." }
            thead { tr { th { "Heure" } @for d in &days { th scope="col" { (crate::domain::time::weekday_fr(d.weekday().number_from_monday() as u8)) " " (d.format("%d/%m")) } } } }
            tbody {
                @for i in 0..rows {
                    tr {
                        th scope="row" { @if let Some(c) = columns.iter().find_map(|col| col.get(i)) { (c.start.with_timezone(&tz).format("%H:%M")) } }
                        @for col in &columns {
                            @if let Some(cell) = col.get(i) { (cell_markup(cell, cal.resource.row.capacity, id, tz, bookable)) } @else { td {} }
                        }
                    }
                }
            }
        }
    };
    page(
        &ctx,
        &format!("{} — semaine", cal.resource.row.name),
        Nav::Resources,
        None,
        body,
    )
}

/// Day view across every resource of a kind.
pub async fn day(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let day = day_of(q.date.as_deref(), &s);
    let kind = q
        .kind
        .as_deref()
        .and_then(ResourceKind::parse)
        .unwrap_or(ResourceKind::Room);
    let (Some(from), Some(to)) = (
        local_instant(day, 0, &s),
        local_instant(day + Duration::days(1), 0, &s),
    ) else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let actor = p.actor().clone();
    let env = env(&s);
    let data =
        s.db.run(move |c| {
            let list = resources::list(
                c,
                &actor,
                &ResourceFilter {
                    kind: Some(kind.as_str().into()),
                    ..Default::default()
                },
            )?;
            let mut cals = Vec::new();
            for r in list {
                cals.push(app::calendar(
                    c,
                    &actor,
                    r.row.id,
                    Interval {
                        start: from,
                        end: to,
                    },
                    &env,
                )?);
            }
            Ok(cals)
        })
        .await;
    let cals = match or_page(&ctx, data) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (from_min, to_min) = (7 * 60, 21 * 60);
    let tz = ctx.tz();
    let hours: Vec<i64> = (0..(to_min - from_min) / SLOT_MINUTES)
        .map(|i| from_min + i * SLOT_MINUTES)
        .collect();
    let body = html! {
        h1 { "Planning du " (format_date_fr(day)) }
        nav.tabs aria-label="Types de ressources" {
            @for k in ResourceKind::ALL {
                a href={ "/calendar?kind=" (k.as_str()) "&date=" (day) } aria-current=[(k == kind).then_some("page")] { (k.plural_label()) }
            }
        }
        nav.tabs aria-label="Jours" {
            a href={ "/calendar?kind=" (kind.as_str()) "&date=" (day - Duration::days(1)) } { "← Veille" }
            a href={ "/calendar?kind=" (kind.as_str()) } { "Aujourd'hui" }
            a href={ "/calendar?kind=" (kind.as_str()) "&date=" (day + Duration::days(1)) } { "Lendemain →" }
        }
        @if cals.is_empty() { p { "Aucune ressource de ce type." } }
        @else {
            table.calendar {
                thead { tr { th { "Ressource" } @for h in &hours { th scope="col" { (format!("{:02}h", h / 60)) } } } }
                tbody { @for cal in &cals {
                    @let cells = cells_for(cal, day, from_min, to_min, &s);
                    tr {
                        th scope="row" { a href={ "/resources/" (cal.resource.row.id) "/week?date=" (day) } { (cal.resource.row.name) } }
                        @for cell in &cells { (cell_markup(cell, cal.resource.row.capacity, cal.resource.row.id, tz, cal.resource.row.archived_at.is_none())) }
                    }
                } }
            }
        }
    };
    page(&ctx, "Planning", Nav::Calendar, None, body)
}
