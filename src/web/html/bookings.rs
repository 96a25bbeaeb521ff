//! Booking pages: the booking form (with reasons and one-click alternatives when refused),
//! "my bookings", a booking's page and the approvals queue (the calendars are `calendar`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    csrf_field, error_summary, field, fmt_local, input_local, or_page, page, page_with_status,
    see_other, select, Ctx, Nav,
};
use crate::app::allocation::{self, Estimate};
use crate::app::auth::random_secret;
use crate::app::bookings::{
    self as app, BookingChanges, BookingInput, Decision, IdempotencyKey, RecurrenceInput, Scope,
    IDEMPOTENCY_FIELD,
};
use crate::app::{authz, members, resources};
use crate::domain::ids::{BookingId, MemberId, ResourceId};
use crate::domain::labour::Activity;
use crate::domain::refusal::Refusal;
use crate::domain::resource::ResourceKind;
use crate::domain::status::BookingStatus;

use crate::domain::money::format_euros;
use crate::domain::time::{
    format_day, format_local, format_minutes, format_when, parse_instant, Interval,
};
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

/// What the form starts with: a slot clicked in a calendar, or everything typed in a form
/// whose session had expired (carried through the sign-in page, see `web::resume`).
#[derive(Deserialize, Default)]
pub struct NewQuery {
    resource_id: Option<ResourceId>,
    start: Option<String>,
    end: Option<String>,
    /// Without a resource: the kind to choose one of.
    kind: Option<String>,
    member_id: Option<String>,
    quantity: Option<String>,
    purpose: Option<String>,
    beneficiary: Option<String>,
    repeat: Option<String>,
    count: Option<String>,
    activity: Option<String>,
    skip_conflicts: Option<String>,
}

const REPEATS: [(&str, &str); 6] = [
    ("none", "Ne pas répéter"),
    ("daily", "Chaque jour"),
    ("weekdays", "Chaque jour ouvré (lundi–vendredi)"),
    ("weekly", "Chaque semaine"),
    ("biweekly", "Toutes les deux semaines"),
    ("monthly", "Chaque mois"),
];

/// The reasons of a refusal: each broken rule, who holds the slot, which occurrences failed,
/// with dates as people say them.
fn refusal_markup(r: &Refusal, w: &Words) -> Markup {
    html! {
        div.errors role="alert" {
            p { strong { "Réservation impossible :" } }
            @if let Some(summary) = &r.summary { p { (summary) } }
            ul { @for v in &r.violations { li { (v.message) } } }
            @if !r.conflicts.is_empty() {
                p { "Déjà réservé sur ce créneau :" }
                ul { @for c in &r.conflicts {
                    li { (c.member_name) ", " (w.span(c.start, c.end))
                        @if c.quantity > 1 { " (" (c.quantity) " unités)" } }
                } }
            }
            @if r.occurrences.len() > 1 {
                p { "Occurrences impossibles :" }
                ul { @for o in &r.occurrences {
                    li { (w.span(o.start, o.end)) " : "
                        (o.violations.iter().map(|v| v.message.as_str()).collect::<Vec<_>>().join(" ")) }
                } }
            }
        }
    }
}

/// Dates and times the way the pages say them: « mardi 8 décembre, 9 h – 10 h », the year
/// only when it is not this one.
pub(super) struct Words {
    pub tz: chrono_tz::Tz,
    pub year: i32,
}

impl Words {
    pub fn of(ctx: &Ctx) -> Words {
        let tz = ctx.tz();
        Words {
            tz,
            year: ctx.app().now().with_timezone(&tz).year(),
        }
    }

    pub fn span(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        match Interval::new(start, end) {
            Some(iv) => format_when(iv, self.tz, self.year),
            None => fmt_local(start, self.tz),
        }
    }
}

/// « 1 réservation créée », « 10 réservations créées ».
fn count_words(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A suggestion as the form shows it: its price and whether it waits for a decision.
struct Offer<'a> {
    suggestion: &'a crate::domain::refusal::Suggestion,
    requires_approval: bool,
    estimate: Option<Estimate>,
}

/// The estimate of what the form describes, when it reads (resource, member, times).
async fn estimate_of(
    s: &AppState,
    actor: &crate::app::authz::Actor,
    resource: ResourceId,
    member: &str,
    start: &str,
    end: &str,
    quantity: &str,
) -> Option<Estimate> {
    let tz = s.tz();
    let member = member.parse::<MemberId>().ok()?;
    let iv = Interval::new(parse_instant(start, tz).ok()?, parse_instant(end, tz).ok()?)?;
    let quantity = quantity.trim().parse::<i32>().unwrap_or(1).max(1);
    allocation::estimate(&s.app, actor, member, resource, iv, quantity)
        .await
        .ok()
        .flatten()
}

/// The price box: the estimate and how it is reached, or why there is none.
fn estimate_markup(
    e: Option<&Estimate>,
    requires_approval: bool,
    has_times: bool,
    staff: bool,
) -> Markup {
    html! {
        div #estimate.estimate aria-live="polite" {
            @if staff {
                // A shared employee has no tariff: the month's hours are billed (ledger).
                p.hint { "Mise à disposition facturée au relevé du mois : les heures travaillées au coût horaire chargé du salarié, avec les majorations d'heures supplémentaires et les frais de gestion du groupement." }
            } @else if let Some(e) = e {
                p { strong { "Prix estimé : " (format_euros(e.amount_cents)) }
                    @if e.coefficient_permille != 1000 { " (coefficient de votre structure ×" (crate::domain::money::format_permille(e.coefficient_permille)) ")" } }
                p.hint { (e.basis) @if e.free_minutes > 0 { " — dont " (format_minutes(e.free_minutes)) " dans le forfait gratuit du mois" } ". Estimation : le relevé du mois fait foi." }
            } @else if has_times {
                p.hint { "Pas de tarif pour cette ressource : rien à payer à la réservation (les charges partagées restent réparties au relevé)." }
            } @else {
                p.hint { "Le prix estimé s'affiche une fois les horaires choisis." }
            }
            @if requires_approval { p.hint { strong { "Soumise à validation : " } "la coordination du pôle confirme la demande ; le créneau vous est réservé en attendant." } }
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
    let mut sorted: Vec<&resources::ResourceView> = all.iter().collect();
    sorted.sort_by_cached_key(|r| (r.kind.plural_label(), crate::domain::text::fold(&r.name)));
    let resource_options: Vec<(String, String)> = sorted
        .iter()
        .map(|r| (r.id.to_string(), format!("{} — {}", r.name, r.kind.label())))
        .collect();
    let chosen = form
        .resource_id
        .parse::<ResourceId>()
        .ok()
        .and_then(|id| all.iter().find(|r| r.id == id));
    let activities: Vec<(String, String)> = Activity::ALL
        .iter()
        .map(|a| (a.as_str().to_string(), a.label().to_string()))
        .collect();
    let repeats: Vec<(String, String)> = REPEATS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let w = Words::of(&ctx);
    let tz = w.tz;
    let estimate = match chosen {
        Some(r) => {
            estimate_of(
                s,
                actor,
                r.id,
                &form.member_id,
                &form.start,
                &form.end,
                &form.quantity,
            )
            .await
        }
        None => None,
    };
    let suggestions = refused.map(|r| r.suggestions.as_slice()).unwrap_or(&[]);
    let mut offers = Vec::with_capacity(suggestions.len());
    for sug in suggestions {
        offers.push(Offer {
            suggestion: sug,
            requires_approval: all
                .iter()
                .any(|r| r.id == sug.resource_id && r.requires_approval),
            estimate: estimate_of(
                s,
                actor,
                sug.resource_id,
                &form.member_id,
                &input_local(sug.start, tz),
                &input_local(sug.end, tz),
                &form.quantity,
            )
            .await,
        });
    }
    let times = parse_instant(&form.start, tz)
        .ok()
        .zip(parse_instant(&form.end, tz).ok())
        .and_then(|(a, b)| Interval::new(a, b));
    let member_name = members
        .iter()
        .find(|m| m.id.to_string() == form.member_id)
        .map(|m| m.name.as_str());
    let kind = chosen.map(|r| r.kind);
    let repeating = !matches!(form.repeat.as_str(), "" | "none")
        || errors.get("repeat").is_some()
        || errors.get("count").is_some();
    let body = html! {
        h1 { "Réserver" @if let Some(r) = chosen { " " (r.name) } }
        (error_summary(errors))
        @if let Some(r) = refused { (refusal_markup(r, &w)) }
        @if !offers.is_empty() {
            section.suggestions {
                h2 { "Créneaux disponibles" }
                ul { @for o in &offers {
                    @let sug = o.suggestion;
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
                            button type="submit" { "Réserver " (sug.resource_name) ", " (w.span(sug.start, sug.end)) }
                        }
                        " "
                        span.offer-terms {
                            @match &o.estimate { Some(e) => { (format_euros(e.amount_cents)) }, None => { "sans tarif" } }
                            @if o.requires_approval { " · " span.badge.pending { "soumise à validation" } }
                            @if sug.resource_id.to_string() != form.resource_id { " · autre ressource" }
                        }
                    }
                } }
            }
        }
        @if let Some(r) = chosen {
            p.summary role="status" {
                strong { (r.name) }
                @if let Some(m) = member_name { " pour " (m) }
                @if let Some(iv) = times { ", " (format_when(iv, tz, w.year)) }
                @if r.capacity > 1 { @if let Ok(q) = form.quantity.trim().parse::<i32>() { " — " (q) " sur " (r.capacity) } }
            }
        }
        form #booking-form method="post" action="/bookings" novalidate {
            (csrf_field(&ctx))
            input type="hidden" name="idempotency_key" value=(form.idempotency_key);
            (select("Ressource", "resource_id", &resource_options, &form.resource_id, errors))
            (select("Pour la structure", "member_id", &member_options, &form.member_id, errors))
            (field("Début (heure du pôle)", "start", &form.start, "datetime-local", errors, None))
            (field("Fin (heure du pôle)", "end", &form.end, "datetime-local", errors, None))
            @match chosen {
                Some(r) if r.capacity > 1 => {
                    (field("Quantité", "quantity", &form.quantity, "number", errors, Some(&format!("Unités voulues, sur {} (par exemple 3 postes de coworking).", r.capacity))))
                }
                Some(_) => { input type="hidden" name="quantity" value="1"; }
                None => { (field("Quantité", "quantity", &form.quantity, "number", errors, Some("Par exemple 3 des 12 postes de coworking."))) }
            }
            (field("Objet", "purpose", &form.purpose, "text", errors, None))
            @if kind.is_none() || kind == Some(ResourceKind::Vehicle) {
                (field("Bénéficiaire accompagné (facultatif)", "beneficiary", &form.beneficiary, "text", errors, Some("Pour un véhicule prêté à une personne accompagnée.")))
            }
            // Training and absences are the group's to record; members assign work only.
            @if (kind.is_none() || kind == Some(ResourceKind::Staff)) && authz::manages_some_employer(actor) {
                (select("Pour un salarié partagé", "activity", &activities, if form.activity.is_empty() { "work" } else { &form.activity }, errors))
            }
            @if let Some(r) = chosen { (estimate_markup(estimate.as_ref(), r.requires_approval, times.is_some(), r.kind == ResourceKind::Staff)) }
            details.repeat open[repeating] {
                summary { "Répéter cette réservation" }
                fieldset {
                    legend { "Répétition" }
                    (select("Répéter", "repeat", &repeats, if form.repeat.is_empty() { "none" } else { &form.repeat }, errors))
                    (field("Nombre d'occurrences", "count", &form.count, "number", errors, None))
                    (super::checkbox("Réserver les occurrences possibles et ignorer les autres", "skip_conflicts", super::checked(&form.skip_conflicts)))
                }
            }
            button type="submit" { "Réserver" }
        }
        script src="/assets/booking.js" defer {}
    };
    page_with_status(status, &ctx, "Réserver", Nav::Bookings, body)
}

/// The price box alone, for the form's script: `GET /bookings/estimate?` with the form's
/// fields.
pub async fn estimate_fragment(
    State(s): State<AppState>,
    p: PageActor,
    Query(form): Query<BookingForm>,
) -> Response {
    let Ok(resource) = form.resource_id.parse::<ResourceId>() else {
        return (StatusCode::BAD_REQUEST, "ressource attendue").into_response();
    };
    let (requires_approval, staff) = match resources::get(&s.app, p.actor(), resource).await {
        Ok(r) => (r.requires_approval, r.kind == ResourceKind::Staff),
        Err(e) => return super::error_page(&s, Some(&p.0), e),
    };
    let tz = s.tz();
    let has_times = parse_instant(&form.start, tz).is_ok() && parse_instant(&form.end, tz).is_ok();
    let e = estimate_of(
        &s,
        p.actor(),
        resource,
        &form.member_id,
        &form.start,
        &form.end,
        &form.quantity,
    )
    .await;
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        estimate_markup(e.as_ref(), requires_approval, has_times, staff),
    )
        .into_response()
}

pub async fn new_form(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NewQuery>,
) -> Response {
    let Some(resource_id) = q.resource_id else {
        return choose_resource(&s, &p, &q).await;
    };
    let member_id = p
        .actor()
        .memberships
        .first()
        .map(|m| m.member_id.to_string())
        .unwrap_or_default();
    let form = BookingForm {
        resource_id: resource_id.to_string(),
        member_id: q.member_id.unwrap_or(member_id),
        start: q.start.unwrap_or_default(),
        end: q.end.unwrap_or_default(),
        quantity: q.quantity.unwrap_or_else(|| "1".into()),
        count: q.count.unwrap_or_else(|| "10".into()),
        purpose: q.purpose.unwrap_or_default(),
        beneficiary: q.beneficiary.unwrap_or_default(),
        repeat: q.repeat.unwrap_or_default(),
        activity: q.activity.unwrap_or_default(),
        skip_conflicts: q.skip_conflicts,
        idempotency_key: random_secret(),
    };
    form_view(&s, &p, &form, &FieldErrors::new(), None, StatusCode::OK).await
}

/// The first step of a booking without a resource: what to book, by kind, with its terms.
async fn choose_resource(s: &AppState, p: &PageActor, q: &NewQuery) -> Response {
    let ctx = Ctx::new(s, p);
    let all = match or_page(
        &ctx,
        resources::list(&s.app, p.actor(), Default::default()).await,
    ) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let kind = q.kind.as_deref().and_then(ResourceKind::parse);
    let mut shown: Vec<&resources::ResourceView> = all
        .iter()
        .filter(|r| !r.archived && kind.is_none_or(|k| r.kind == k))
        .collect();
    shown.sort_by_cached_key(|r| (r.kind.plural_label(), crate::domain::text::fold(&r.name)));
    let carry = |r: &resources::ResourceView| {
        let mut pairs = vec![("resource_id", r.id.to_string())];
        if let Some(v) = q.start.as_deref().filter(|v| !v.is_empty()) {
            pairs.push(("start", v.to_string()));
        }
        if let Some(v) = q.end.as_deref().filter(|v| !v.is_empty()) {
            pairs.push(("end", v.to_string()));
        }
        format!(
            "/bookings/new?{}",
            serde_html_form::to_string(&pairs).unwrap_or_default()
        )
    };
    let body = html! {
        h1 { "Réserver" }
        p { "Que voulez-vous réserver ?" }
        nav.tabs aria-label="Types de ressources" {
            a href="/bookings/new" aria-current=[kind.is_none().then_some("page")] { "Tout" }
            @for k in ResourceKind::ALL {
                @if all.iter().any(|r| r.kind == k && !r.archived) {
                    a href={ "/bookings/new?kind=" (k.as_str()) } aria-current=[(kind == Some(k)).then_some("page")] { (k.plural_label()) }
                }
            }
        }
        @if shown.is_empty() { p { "Aucune ressource à réserver." } }
        ul.choices {
            @for r in &shown {
                li {
                    a.choice href=(carry(r)) {
                        strong { (r.name) }
                        span.meta { " — " (r.kind.label())
                            @if r.capacity > 1 { ", " (r.capacity) " unités" }
                            @if !r.location.is_empty() { ", " (r.location) } }
                    }
                    " "
                    @if r.requires_approval { span.badge.pending { "soumise à validation" } " " }
                    a href={ "/resources/" (r.id) "/week" } { "Planning" span.visually-hidden { " de " (r.name) } }
                }
            }
        }
    };
    page(&ctx, "Réserver", Nav::Bookings, None, body)
}

/// Where a booking made from the form leads: its page, with what became of the request (for
/// a series: how many were made, and the first skipped dates).
fn after_booking(b: &app::Booked, tz: chrono_tz::Tz) -> String {
    match (b.series_id, b.bookings.first()) {
        (Some(_), Some(first)) => {
            let skipped: Vec<String> = b
                .skipped
                .iter()
                .take(SKIPPED_SHOWN)
                .map(|o| o.start.with_timezone(&tz).format("%Y-%m-%d").to_string())
                .collect();
            format!(
                "/bookings/{}?created={}&skipped={}&skipped_on={}&notice=series",
                first.id,
                b.bookings.len(),
                b.skipped.len(),
                skipped.join(",")
            )
        }
        (None, Some(one)) if one.status == BookingStatus::Pending => {
            format!("/bookings/{}?notice=requested", one.id)
        }
        (None, Some(one)) => format!("/bookings/{}?notice=created", one.id),
        (_, None) => "/bookings".into(),
    }
}

/// Skipped dates a series' notice names; beyond, it counts them.
const SKIPPED_SHOWN: usize = 10;

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
        Ok(booked) => see_other(&after_booking(&booked, s.tz())),
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
    /// The first skipped dates of a series ("YYYY-MM-DD", comma-separated).
    skipped_on: Option<String>,
}

fn booking_notice(q: &ShowQuery, this_year: i32) -> Option<String> {
    Some(match q.notice.as_deref()? {
        "created" => "Réservation confirmée.".into(),
        "requested" => {
            "Demande envoyée : en attente de validation par la coordination du pôle. Le créneau vous est réservé en attendant ; la décision vous sera envoyée par e-mail."
                .into()
        }
        "series" => {
            let created = count_words(q.created.unwrap_or(0), "réservation créée", "réservations créées");
            match q.skipped.unwrap_or(0) {
                0 => format!("{created}."),
                k => {
                    let days: Vec<String> = q
                        .skipped_on
                        .as_deref()
                        .unwrap_or("")
                        .split(',')
                        .filter_map(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
                        .take(SKIPPED_SHOWN)
                        .map(|d| format_day(d, this_year))
                        .collect();
                    let more = k.saturating_sub(days.len());
                    let mut list = days.join(", ");
                    if more > 0 {
                        list.push_str(&format!(" et {more} autre{}", if more > 1 { "s" } else { "" }));
                    }
                    if list.is_empty() {
                        format!("{created}, {} (créneaux déjà pris ou fermés).", count_words(k, "ignorée", "ignorées"))
                    } else {
                        format!("{created}, {} (créneaux déjà pris ou fermés) : {list}.", count_words(k, "ignorée", "ignorées"))
                    }
                }
            }
        }
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
    let year = s.app.now().with_timezone(&s.tz()).year();
    let view = ShowView {
        notice: booking_notice(&q, year),
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
    let w = Words::of(&ctx);
    let tz = w.tz;
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
            dt { "Quand" } dd { (w.span(b.start, b.end)) }
            @if b.quantity > 1 { dt { "Quantité" } dd { (b.quantity) } }
            @if let Some(purpose) = &b.purpose { @if !purpose.is_empty() { dt { "Objet" } dd { (purpose) } } }
            @if let Some(ben) = &b.beneficiary { dt { "Bénéficiaire" } dd { (ben) } }
            @if let Some(r) = &b.decision_reason { dt { "Décision" } dd { (r) } }
            @if let Some(at) = b.cancelled_at { dt { "Annulée le" } dd { (format_local(at, tz)) } }
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
                    (refusal_markup(r, &w))
                    @let here: Vec<_> = r.suggestions.iter().filter(|x| x.resource_id == b.resource_id).collect();
                    @if !here.is_empty() {
                        p { "Créneaux libres au plus près :" }
                        ul { @for sug in here {
                            li { form.inline method="post" action={ "/bookings/" (b.id) "/move" } {
                                (csrf_field(&ctx))
                                input type="hidden" name="start" value=(input_local(sug.start, tz));
                                input type="hidden" name="end" value=(input_local(sug.end, tz));
                                @if following { input type="hidden" name="following" value="on"; }
                                button type="submit" { "Déplacer : " (w.span(sug.start, sug.end)) }
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
                // Two steps, and the second says what goes: this booking, or the series from it.
                details.confirm {
                    summary.button.danger { "Annuler la réservation…" }
                    div {
                        form method="post" action={ "/bookings/" (b.id) "/cancel" } {
                            (csrf_field(&ctx))
                            @if b.series_id.is_some() {
                                fieldset {
                                    legend { "Que faut-il annuler ?" }
                                    label.inline { input type="radio" name="following" value="" checked; " Seulement celle du " (w.span(b.start, b.end)) }
                                    label.inline { input type="radio" name="following" value="on"; " Celle-ci et toutes les suivantes de la série, à partir du " (format_day(b.start.with_timezone(&tz).date_naive(), w.year)) }
                                }
                            } @else {
                                p { "Annuler " (b.resource_name) ", " (w.span(b.start, b.end)) " ? Le créneau sera libéré pour les autres structures." }
                            }
                            button.danger type="submit" { "Oui, annuler" }
                        }
                    }
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

// ---- the approvals queue (the list of bookings: booking_list.rs) ----

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
