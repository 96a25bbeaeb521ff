//! Booking pages: the booking form (with reasons and one-click alternatives when refused),
//! "my bookings", a booking's page and the approvals queue (the calendars are `calendar`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    csrf_field, error_summary, field, fmt_local, input_local, or_page, page, page_with_status,
    see_other, select, Ctx, Nav,
};
use crate::app::auth::random_secret;
use crate::app::bookings::{
    self as app, BookingChanges, BookingInput, BookingQuery, BookingView, Decision, IdempotencyKey,
    RecurrenceInput, Scope, IDEMPOTENCY_FIELD,
};
use crate::app::{authz, members, quotas, resources};
use crate::domain::ids::{BookingId, MemberId, ResourceId};
use crate::domain::labour::Activity;
use crate::domain::refusal::Refusal;
use crate::domain::resource::ResourceKind;
use crate::domain::status::BookingStatus;

use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::problem::refusal_status;
use crate::web::AppState;

pub(super) fn status_badge(status: BookingStatus) -> Markup {
    html! { span class={ "badge " (status.as_str()) } { (status.label()) } }
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
    /// Shared employees: work (default), training, absence.
    #[serde(default)]
    activity: String,
    /// One per form shown: submitting the same form twice (a double tap, a reload) books once.
    #[serde(default)]
    idempotency_key: String,
}

impl BookingForm {
    fn to_input(&self) -> Result<BookingInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let resource_id = e.check(
            "resource_id",
            self.resource_id
                .parse::<ResourceId>()
                .map_err(|_| "Choisissez une ressource.".to_string()),
        );
        let member_id = e.check(
            "member_id",
            self.member_id
                .parse::<MemberId>()
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
        let activity = match self.activity.trim() {
            "" => None,
            raw => {
                let a = Activity::parse(raw);
                if a.is_none() {
                    e.add("activity", "Activité inconnue.");
                }
                a
            }
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
                activity,
            }),
            _ => Err(e),
        }
    }

    fn key(&self) -> Option<IdempotencyKey> {
        IdempotencyKey::parse(&self.idempotency_key).ok()
    }
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    resource_id: Option<ResourceId>,
    start: Option<String>,
    end: Option<String>,
}

const REPEATS: [(&str, &str); 6] = [
    ("none", "Ne pas répéter"),
    ("daily", "Chaque jour"),
    ("weekdays", "Chaque jour ouvré (lundi–vendredi)"),
    ("weekly", "Chaque semaine"),
    ("biweekly", "Toutes les deux semaines"),
    ("monthly", "Chaque mois"),
];

/// The reasons of a refusal: each broken rule, who holds the slot, which occurrences failed.
fn refusal_markup(r: &Refusal, tz: chrono_tz::Tz) -> Markup {
    html! {
        div.errors role="alert" {
            p { strong { "Réservation impossible :" } }
            @if let Some(summary) = &r.summary { p { (summary) } }
            ul { @for v in &r.violations { li { (v.message) } } }
            @if !r.conflicts.is_empty() {
                p { "Déjà réservé sur ce créneau :" }
                ul { @for c in &r.conflicts {
                    li { (c.member_name) ", du " (fmt_local(c.start, tz)) " au " (fmt_local(c.end, tz)) " (" (c.quantity) " unité(s))" }
                } }
            }
            @if r.occurrences.len() > 1 {
                p { "Occurrences impossibles :" }
                ul { @for o in &r.occurrences {
                    li { (fmt_local(o.start, tz)) " : "
                        (o.violations.iter().map(|v| v.message.as_str()).collect::<Vec<_>>().join(" ")) }
                } }
            }
        }
    }
}

async fn form_view(
    s: &AppState,
    p: &PageActor,
    form: &BookingForm,
    errors: &FieldErrors,
    refused: Option<&Refusal>,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let data = async {
        Ok((
            resources::list(&s.app, actor, Default::default()).await?,
            members::list(&s.app, actor, Default::default()).await?,
        ))
    };
    let (all, members) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let allowed = authz::bookable_members(actor);
    let member_options: Vec<(String, String)> = members
        .iter()
        .filter(|m| allowed.as_ref().is_none_or(|ids| ids.contains(&m.id)))
        .map(|m| (m.id.to_string(), m.name.clone()))
        .collect();
    let resource_options: Vec<(String, String)> = all
        .iter()
        .map(|r| (r.id.to_string(), format!("{} — {}", r.name, r.kind.label())))
        .collect();
    let activities: Vec<(String, String)> = Activity::ALL
        .iter()
        .map(|a| (a.as_str().to_string(), a.label().to_string()))
        .collect();
    let repeats: Vec<(String, String)> = REPEATS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let tz = ctx.tz();
    let suggestions = refused.map(|r| r.suggestions.as_slice()).unwrap_or(&[]);
    let body = html! {
        h1 { "Réserver" }
        (error_summary(errors))
        @if let Some(r) = refused { (refusal_markup(r, tz)) }
        @if !suggestions.is_empty() {
            section.suggestions {
                h2 { "Créneaux disponibles" }
                ul { @for sug in suggestions {
                    li {
                        form.inline method="post" action="/bookings" {
                            (csrf_field(&ctx))
                            input type="hidden" name="idempotency_key" value=(random_secret());
                            input type="hidden" name="resource_id" value=(sug.resource_id);
                            input type="hidden" name="member_id" value=(form.member_id);
                            input type="hidden" name="start" value=(input_local(sug.start, tz));
                            input type="hidden" name="end" value=(input_local(sug.end, tz));
                            input type="hidden" name="quantity" value=(form.quantity);
                            input type="hidden" name="purpose" value=(form.purpose);
                            input type="hidden" name="beneficiary" value=(form.beneficiary);
                            button type="submit" { "Réserver " (sug.resource_name) " du " (fmt_local(sug.start, tz)) " au " (fmt_local(sug.end, tz)) }
                        }
                    }
                } }
            }
        }
        form method="post" action="/bookings" novalidate {
            (csrf_field(&ctx))
            input type="hidden" name="idempotency_key" value=(form.idempotency_key);
            (select("Ressource", "resource_id", &resource_options, &form.resource_id, errors))
            (select("Pour la structure", "member_id", &member_options, &form.member_id, errors))
            (field("Début (heure du pôle)", "start", &form.start, "datetime-local", errors, None))
            (field("Fin (heure du pôle)", "end", &form.end, "datetime-local", errors, None))
            (field("Quantité", "quantity", &form.quantity, "number", errors, Some("Par exemple 3 des 12 postes de coworking.")))
            (field("Objet", "purpose", &form.purpose, "text", errors, None))
            (field("Bénéficiaire accompagné (facultatif)", "beneficiary", &form.beneficiary, "text", errors, Some("Pour un véhicule prêté à une personne accompagnée.")))
            (select("Pour un salarié partagé", "activity", &activities, if form.activity.is_empty() { "work" } else { &form.activity }, errors))
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
    let member_id = p
        .actor()
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
        idempotency_key: random_secret(),
        ..Default::default()
    };
    form_view(&s, &p, &form, &FieldErrors::new(), None, StatusCode::OK).await
}

/// Where a booking made from the form leads: its page, with what became of the request.
fn after_booking(b: &app::Booked) -> String {
    match (b.series_id, b.bookings.first()) {
        (Some(_), Some(first)) => format!(
            "/bookings/{}?created={}&skipped={}&notice=series",
            first.id,
            b.bookings.len(),
            b.skipped.len()
        ),
        (None, Some(one)) if one.status == BookingStatus::Pending => {
            format!("/bookings/{}?notice=requested", one.id)
        }
        (None, Some(one)) => format!("/bookings/{}?notice=created", one.id),
        (_, None) => "/bookings".into(),
    }
}

pub async fn create(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<BookingForm>,
) -> Response {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let input = match form.to_input() {
        Ok(i) => i,
        Err(e) => return form_view(&s, &p, &form, &e, None, unprocessable).await,
    };
    match app::book(&s.app, p.actor(), input, form.key()).await {
        Ok(booked) => see_other(&after_booking(&booked)),
        Err(AppError::Validation(errors)) if errors.get(IDEMPOTENCY_FIELD).is_some() => {
            // The same form sent again with other values (back button, then edited): a new
            // form, with a word of warning, rather than a silent second booking.
            let fresh = BookingForm {
                idempotency_key: random_secret(),
                ..form.clone()
            };
            let errors = FieldErrors::single(
                "start",
                "Ce formulaire avait déjà été envoyé : vérifiez vos réservations, puis envoyez-le à nouveau si besoin.",
            );
            form_view(&s, &p, &fresh, &errors, None, StatusCode::CONFLICT).await
        }
        Err(AppError::Validation(errors)) => {
            form_view(&s, &p, &form, &errors, None, unprocessable).await
        }
        // Fields that could not be read: beside each field.
        Err(AppError::Refused(r)) if !r.fields.is_empty() => {
            form_view(&s, &p, &form, &r.fields, None, unprocessable).await
        }
        Err(AppError::Refused(r)) => {
            form_view(
                &s,
                &p,
                &form,
                &FieldErrors::new(),
                Some(&r),
                refusal_status(&r),
            )
            .await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

// ---- a booking's page ----

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    notice: Option<String>,
    created: Option<usize>,
    skipped: Option<usize>,
}

fn booking_notice(q: &ShowQuery) -> Option<String> {
    Some(match q.notice.as_deref()? {
        "created" => "Réservation confirmée.".into(),
        "requested" => {
            "Demande enregistrée : le créneau vous est réservé en attendant la validation de la coordination."
                .into()
        }
        "series" => match (q.created, q.skipped) {
            (Some(n), Some(0)) | (Some(n), None) => format!("Série créée : {n} réservation(s)."),
            (Some(n), Some(k)) => format!(
                "Série créée : {n} réservation(s) ; {k} occurrence(s) impossible(s) ignorée(s)."
            ),
            _ => "Série de réservations créée.".into(),
        },
        "moved" => "Réservation déplacée.".into(),
        "cancelled" => "Réservation annulée.".into(),
        "approved" => "Réservation validée.".into(),
        "rejected" => "Réservation refusée.".into(),
        other => super::notice_text(Some(other))?.into(),
    })
}

pub async fn show(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<BookingId>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let view = ShowView {
        notice: booking_notice(&q),
        ..Default::default()
    };
    show_view(&s, &p, id, &view, StatusCode::OK).await
}

/// What a booking's page shows beside the booking: a notice, or a refused move with what was
/// typed, its reasons and the free slots nearby.
#[derive(Default)]
struct ShowView {
    notice: Option<String>,
    typed: MoveForm,
    errors: FieldErrors,
    refused: Option<Refusal>,
}

async fn show_view(
    s: &AppState,
    p: &PageActor,
    id: BookingId,
    v: &ShowView,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let b = match or_page(&ctx, app::get(&s.app, p.actor(), id).await) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let tz = ctx.tz();
    let typed_or = |typed: &str, t: DateTime<Utc>| {
        if typed.is_empty() {
            input_local(t, tz)
        } else {
            typed.to_string()
        }
    };
    let (start, end) = (
        typed_or(&v.typed.start, b.start),
        typed_or(&v.typed.end, b.end),
    );
    let following = super::checked(&v.typed.following);
    let body = html! {
        h1 { (b.resource_name) }
        p.meta { (status_badge(b.status)) " · " (b.member_name) }
        @for w in &b.warnings { p.notice.warning role="status" { (w.message) } }
        dl {
            dt { "Début" } dd { (fmt_local(b.start, tz)) }
            dt { "Fin" } dd { (fmt_local(b.end, tz)) }
            dt { "Quantité" } dd { (b.quantity) }
            @if let Some(purpose) = &b.purpose { @if !purpose.is_empty() { dt { "Objet" } dd { (purpose) } } }
            @if let Some(ben) = &b.beneficiary { dt { "Bénéficiaire" } dd { (ben) } }
            @if let Some(r) = &b.decision_reason { dt { "Décision" } dd { (r) } }
            @if let Some(at) = b.cancelled_at { dt { "Annulée le" } dd { (fmt_local(at, tz)) } }
            @if b.series_id.is_some() { dt { "Série" } dd { "Réservation récurrente" } }
        }
        p {
            a href={ "/resources/" (b.resource_id) "/week?date=" (b.start.with_timezone(&tz).format("%Y-%m-%d")) } { "Voir la semaine de la ressource" }
            @if b.resource_kind == ResourceKind::Staff && crate::app::authz::plans_some_staff(p.actor()) {
                " · " a href={ "/staff/week?date=" (b.start.with_timezone(&tz).format("%Y-%m-%d")) } { "Voir le planning des salariés partagés" }
            }
        }
        @if b.can_move {
            section {
                h2 { "Déplacer" }
                (error_summary(&v.errors))
                @if let Some(r) = &v.refused {
                    (refusal_markup(r, tz))
                    @let here: Vec<_> = r.suggestions.iter().filter(|x| x.resource_id == b.resource_id).collect();
                    @if !here.is_empty() {
                        p { "Créneaux libres au plus près :" }
                        ul { @for sug in here {
                            li { form.inline method="post" action={ "/bookings/" (b.id) "/move" } {
                                (csrf_field(&ctx))
                                input type="hidden" name="start" value=(input_local(sug.start, tz));
                                input type="hidden" name="end" value=(input_local(sug.end, tz));
                                @if following { input type="hidden" name="following" value="on"; }
                                button type="submit" { "Déplacer du " (fmt_local(sug.start, tz)) " au " (fmt_local(sug.end, tz)) }
                            } }
                        } }
                    }
                }
                form method="post" action={ "/bookings/" (b.id) "/move" } novalidate {
                    (csrf_field(&ctx))
                    (field("Début", "start", &start, "datetime-local", &v.errors, None))
                    (field("Fin", "end", &end, "datetime-local", &v.errors, None))
                    @if b.series_id.is_some() { (super::checkbox("Appliquer aussi aux occurrences suivantes", "following", following)) }
                    button type="submit" { "Déplacer" }
                }
            }
        }
        @if b.can_cancel {
            section {
                h2 { "Annuler" }
                form method="post" action={ "/bookings/" (b.id) "/cancel" } {
                    (csrf_field(&ctx))
                    @if b.series_id.is_some() { (super::checkbox("Annuler aussi les occurrences suivantes", "following", false)) }
                    button.danger type="submit" { "Annuler la réservation" }
                }
            }
        }
        @if b.can_decide { (decision_forms(&ctx, b.id, false)) }
    };
    (
        status,
        page(
            &ctx,
            "Réservation",
            Nav::Bookings,
            v.notice.as_deref(),
            body,
        ),
    )
        .into_response()
}

fn decision_forms(ctx: &Ctx, id: BookingId, from_queue: bool) -> Markup {
    html! {
        div.actions {
            form.inline method="post" action={ "/bookings/" (id) "/approve" } {
                (csrf_field(ctx))
                @if from_queue { input type="hidden" name="back" value="queue"; }
                button type="submit" { "Valider" }
            }
            form.inline method="post" action={ "/bookings/" (id) "/reject" } {
                (csrf_field(ctx))
                @if from_queue { input type="hidden" name="back" value="queue"; }
                label for={ "reason-" (id) } { "Motif du refus" }
                input id={ "reason-" (id) } type="text" name="reason" required;
                button.danger type="submit" { "Refuser" }
            }
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct MoveForm {
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    following: Option<String>,
}

fn scope_of(following: &Option<String>) -> Scope {
    if super::checked(following) {
        Scope::Following
    } else {
        Scope::One
    }
}

pub async fn move_booking(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<BookingId>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> Response {
    let changes = BookingChanges {
        start: Some(form.start.clone()),
        end: Some(form.end.clone()),
        scope: Some(scope_of(&form.following)),
        ..Default::default()
    };
    let (view, status) = match app::move_booking(&s.app, p.actor(), id, changes).await {
        Ok(_) => return see_other(&format!("/bookings/{id}?notice=moved")),
        Err(AppError::Validation(errors)) => (
            ShowView {
                typed: form,
                errors,
                ..Default::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Refused(r)) if !r.fields.is_empty() => (
            ShowView {
                typed: form,
                errors: r.fields,
                ..Default::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Refused(r)) => {
            let status = refusal_status(&r);
            (
                ShowView {
                    typed: form,
                    refused: Some(*r),
                    ..Default::default()
                },
                status,
            )
        }
        Err(e) => return super::error_page(&s, Some(&p.0), e),
    };
    show_view(&s, &p, id, &view, status).await
}

#[derive(Deserialize, Default)]
pub struct CancelForm {
    following: Option<String>,
}

pub async fn cancel(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<BookingId>,
    CsrfForm(form): CsrfForm<CancelForm>,
) -> Response {
    match app::cancel(&s.app, p.actor(), id, scope_of(&form.following)).await {
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

async fn decide(
    s: AppState,
    p: PageActor,
    id: BookingId,
    decision: Decision,
    form: DecisionForm,
) -> Response {
    match app::decide(&s.app, p.actor(), id, decision, Some(form.reason)).await {
        Ok(_) if form.back == "queue" => see_other("/approvals?notice=saved"),
        Ok(_) => see_other(&format!(
            "/bookings/{id}?notice={}",
            match decision {
                Decision::Approve => "approved",
                Decision::Reject => "rejected",
            }
        )),
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

pub async fn approve(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<BookingId>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    decide(s, p, id, Decision::Approve, form).await
}

pub async fn reject(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<BookingId>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    decide(s, p, id, Decision::Reject, form).await
}

// ---- lists ----

#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    from: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

fn booking_table(ctx: &Ctx, list: &[BookingView]) -> Markup {
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
                        td { (status_badge(b.status)) }
                    }
                } }
            }
        }
    }
}

/// "My bookings": the bookings of the members the user acts for (everyone's for the team),
/// a page at a time.
pub async fn list(State(s): State<AppState>, p: PageActor, Query(q): Query<ListQuery>) -> Response {
    let ctx = Ctx::new(&s, &p);
    let tz = s.tz();
    let from = q.from.clone().filter(|f| !f.is_empty()).unwrap_or_else(|| {
        s.app
            .now()
            .with_timezone(&tz)
            .format("%Y-%m-%dT00:00")
            .to_string()
    });
    let status = q.status.clone().filter(|s| !s.is_empty());
    let query = BookingQuery {
        from: Some(from.clone()),
        status: status.clone(),
        mine: true,
        cursor: q.cursor.clone(),
        limit: Some(100),
        ..Default::default()
    };
    let data = async {
        Ok((
            app::list(&s.app, p.actor(), query).await?,
            quotas::list(&s.app, p.actor()).await?,
        ))
    };
    let (list, quotas) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mut statuses = vec![(String::new(), "Actives".to_string())];
    statuses.extend(
        BookingStatus::ALL
            .iter()
            .map(|st| (st.as_str().to_string(), st.plural_label().to_string())),
    );
    let next = list.next_cursor.as_ref().map(|c| {
        let mut params = vec![("from", from.as_str()), ("cursor", c.as_str())];
        if let Some(st) = &status {
            params.push(("status", st));
        }
        format!(
            "/bookings?{}",
            serde_html_form::to_string(&params).unwrap_or_default()
        )
    });
    let body = html! {
        h1 { "Réservations" }
        p { a.button href="/bookings/new" { "Nouvelle réservation" } " " a href="/calendar" { "Planning du jour" } " " a href="/account/calendars" { "Mes réservations dans mon agenda" } }
        form.filters method="get" action="/bookings" {
            (select("État", "status", &statuses, status.as_deref().unwrap_or(""), &FieldErrors::new()))
            (field("À partir du", "from", &from, "datetime-local", &FieldErrors::new(), None))
            button type="submit" { "Filtrer" }
        }
        p { (list.total) " réservation(s)" @if list.total > list.items.len() as i64 { ", " (list.items.len()) " sur cette page" } "." }
        (booking_table(&ctx, &list.items))
        @if let Some(next) = &next { p { a href=(next) { "Réservations suivantes →" } } }
        @if !quotas.is_empty() {
            h2 { "Quotas de réservation" }
            ul { @for q in &quotas { li { (q.description) } } }
        }
    };
    let notice = booking_notice(&ShowQuery {
        notice: q.notice.clone(),
        ..Default::default()
    });
    page(&ctx, "Réservations", Nav::Bookings, notice.as_deref(), body)
}

pub async fn approvals(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<super::NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let list = match or_page(&ctx, app::approval_queue(&s.app, p.actor()).await) {
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
                @if b.can_decide { (decision_forms(&ctx, b.id, true)) }
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
