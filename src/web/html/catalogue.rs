//! Resource catalogue pages (list by kind, detail, forms, archive) and closures.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::paging;
use super::{
    action_button, checked, csrf_field, error_summary, field, field_for, fmt_local, or_page, page,
    page_with_status, see_other, select, submit, textarea, with_checks, Ctx, Nav, NoticeQuery,
};
use crate::app::authz;
use crate::app::closures::{self, ClosureView};
use crate::app::feeds::FeedScope;
use crate::app::guard::{self, BrokenBooking, Guarded};
use crate::app::members;
use crate::app::resources::{self, ResourceQuery, ResourceView};
use crate::domain::closure::ClosureInput;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::member::{category_label, DEFAULT_CATEGORIES};
use crate::domain::money::{format_amount, format_euros, parse_euros};
use crate::domain::resource::{
    format_day_slots, parse_day_slots, ResourceInput, ResourceKind, TariffInput, ENERGIES, WEEKDAYS,
};
use crate::domain::validation::{parse_int, FieldErrors};
use crate::error::AppError;
use crate::export;
use crate::web::download;
use crate::web::extract::{CsrfForm, PageActor};
use crate::web::AppState;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    kind: Option<String>,
    q: Option<String>,
    archived: Option<String>,
    /// active (default) or archived.
    status: Option<String>,
    /// required or none.
    approval: Option<String>,
    page: Option<String>,
    notice: Option<String>,
}

fn tariff_summary(r: &ResourceView) -> String {
    let t = &r.tariff;
    let mut parts = Vec::new();
    if t.hourly_cents > 0 {
        parts.push(format!("{} / h", format_euros(t.hourly_cents)));
    }
    if let Some(cap) = t.daily_cap_cents {
        parts.push(format!("plafond {} / jour", format_euros(cap)));
    }
    if let Some(km) = t.per_km_cents {
        parts.push(format!("{} / km", format_euros(km)));
    }
    if parts.is_empty() {
        "gratuit".into()
    } else {
        parts.join(", ")
    }
}

/// The catalogue, fifty resources a page by kind then name, filtered by kind, name, state and
/// approval.
pub async fn list(State(s): State<AppState>, p: PageActor, Query(q): Query<ListQuery>) -> Response {
    let ctx = Ctx::new(&s, &p);
    let mut errors = FieldErrors::new();
    let number = paging::page_number(q.page.as_deref(), &mut errors);
    let kind = q.kind.as_deref().and_then(ResourceKind::parse);
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let keep: Vec<(&'static str, String)> = [
        ("kind", text(&q.kind)),
        ("q", text(&q.q)),
        ("status", text(&q.status)),
        ("approval", text(&q.approval)),
        ("archived", text(&q.archived)),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let query = ResourceQuery {
        kind: q.kind.clone(),
        include_archived: checked(&q.archived),
        q: q.q.clone(),
        status: q.status.clone(),
        approval: q.approval.clone(),
    };
    let listed = if errors.is_empty() {
        match resources::page(&s.app, p.actor(), query, number, paging::PAGE_SIZE).await {
            Ok(l) => Some(l),
            Err(AppError::Validation(e)) => {
                errors = e;
                None
            }
            Err(e) => return super::error_page(&s, Some(&p.0), e),
        }
    } else {
        None
    };
    let statuses: Vec<(String, String)> = [("", "En service"), ("archived", "Archivées")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let approvals: Vec<(String, String)> = [
        ("", "Toutes"),
        ("required", "Soumises à validation"),
        ("none", "Sans validation"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let body = html! {
        h1 { "Ressources partagées" }
        @if authz::can_manage_any_resource(p.actor()) {
            p { a.button href={ "/resources/new" @if let Some(k) = kind { "?kind=" (k.as_str()) } } { "Ajouter une ressource" } }
        }
        nav.tabs aria-label="Types de ressources" {
            a href="/resources" aria-current=[kind.is_none().then_some("page")] { "Toutes" }
            @for k in ResourceKind::ALL {
                a href={ "/resources?kind=" (k.as_str()) } aria-current=[(kind == Some(k)).then_some("page")] { (k.plural_label()) }
            }
        }
        (error_summary(&errors))
        form.filters method="get" action="/resources" {
            @if let Some(k) = kind { input type="hidden" name="kind" value=(k.as_str()); }
            (field("Rechercher", "q", &text(&q.q), "search", &errors, None))
            (select("État", "status", &statuses, &text(&q.status), &errors))
            (select("Validation", "approval", &approvals, &text(&q.approval), &errors))
            (super::checkbox("Inclure les ressources archivées", "archived", checked(&q.archived)))
            button type="submit" { "Filtrer" }
        }
        @if let Some(l) = &listed {
            (paging::pager("/resources", &keep, number, l.items.len(), l.total))
            @if l.total > 0 {
                p.exports { "Exporter ces " (l.total) " ressource(s) : "
                    a href=(paging::link("/resources.csv", &keep, &[("format", "semicolon".into())])) download { "CSV pour tableur (point-virgule)" } " · "
                    a href=(paging::link("/resources.csv", &keep, &[("format", "comma".into())])) download { "CSV (virgule, UTF-8)" } }
            }
            table {
                thead { tr { th { "Nom" } th { "Type" } th { "Lieu" } th { "Capacité" } th { "Tarif" } } }
                tbody { @for r in &l.items {
                    tr {
                        td { a href={ "/resources/" (r.id) } { (r.name) } @if r.archived { " (archivée)" } }
                        td { (r.kind.label()) }
                        td { (r.location) }
                        td { (r.capacity) }
                        td { (tariff_summary(r)) }
                    }
                } }
            }
            @if l.items.is_empty() { p { "Aucune ressource." } }
        }
    };
    let status = if listed.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        super::layout(
            &ctx,
            "Ressources",
            Nav::Resources,
            super::notice_text(q.notice.as_deref()),
            body,
        ),
    )
        .into_response()
}

/// The catalogue with the page's filters, every page, as a CSV file (`format=semicolon`, the
/// default, or `comma`).
pub async fn list_csv(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<ListQuery>,
    Query(f): Query<super::directory::FormatQuery>,
) -> Response {
    let dialect = match crate::web::download::dialect(f.format.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            return super::error_page(
                &s,
                Some(&p.0),
                AppError::BadQuery(FieldErrors::single("format", e)),
            )
        }
    };
    let query = ResourceQuery {
        kind: q.kind.clone(),
        include_archived: checked(&q.archived),
        q: q.q.clone(),
        status: q.status.clone(),
        approval: q.approval.clone(),
    };
    match resources::list(&s.app, p.actor(), query).await {
        Ok(list) => download::csv(&export::directory::resources(&list), dialect, "ressources"),
        Err(e) => super::error_page(&s, Some(&p.0), e.in_query()),
    }
}

fn minutes_text(m: Option<i32>) -> String {
    match m {
        None => "—".into(),
        Some(m) if m % 60 == 0 => format!("{} h", m / 60),
        Some(m) if m > 60 => format!("{} h {:02}", m / 60, m % 60),
        Some(m) => format!("{m} min"),
    }
}

pub async fn show(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let detail = match or_page(&ctx, resources::detail(&s.app, p.actor(), id).await) {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    let r = &detail.resource;
    let subscribe = if r.kind == crate::domain::resource::ResourceKind::Staff {
        html! {}
    } else {
        super::notifications::subscribe_for(&ctx, FeedScope::Resource, r.id.0).await
    };
    let body = html! {
        h1 { (r.name) }
        @if !r.archived {
            div.actions {
                a.button href={ "/bookings/new?resource_id=" (r.id) } { "Réserver" }
                a href={ "/resources/" (r.id) "/week" } { "Voir la semaine" }
            }
        }
        p.meta { (r.kind.label()) @if !r.location.is_empty() { " · " (r.location) } @if r.archived { " · archivée" } }
        @if !r.description.is_empty() { p { (r.description) } }
        dl {
            dt { "Capacité" } dd { (r.capacity) " unité(s) utilisable(s) en même temps" }
            @if let Some(seats) = r.seats { dt { "Places assises" } dd { (seats) } }
            dt { "Durée de réservation" } dd {
                @match (r.min_duration_minutes, r.max_duration_minutes) {
                    (None, None) => "libre",
                    (Some(_), None) => { "au moins " (minutes_text(r.min_duration_minutes)) },
                    (None, Some(_)) => { "au plus " (minutes_text(r.max_duration_minutes)) },
                    (Some(_), Some(_)) => { "de " (minutes_text(r.min_duration_minutes)) " à " (minutes_text(r.max_duration_minutes)) },
                }
            }
            dt { "Battement avant / après" } dd { (r.buffer_before_minutes) " min / " (r.buffer_after_minutes) " min" }
            dt { "Validation" } dd { @if r.requires_approval { "soumise à validation par la coordination" } @else { "confirmation immédiate" } }
            dt { "Catégories autorisées" } dd { @if r.allowed_categories.is_empty() { "toutes" } @else { (r.allowed_categories.iter().map(|c| category_label(c)).collect::<Vec<_>>().join(", ")) } }
            dt { "Tarif" } dd { (tariff_summary(r)) ", facturé par tranche de " (r.tariff.billing_unit_minutes) " min" }
            @if let Some(plate) = &r.plate { dt { "Immatriculation" } dd { (plate) } }
            @if let Some(energy) = &r.energy { dt { "Énergie" } dd { (ENERGIES.iter().find(|(k, _)| k == energy).map(|(_, l)| *l).unwrap_or("—")) } }
            @if let Some(km) = r.odometer_km { dt { "Compteur" } dd { (km) " km" } }
            @if let Some(e) = &detail.employer_name { dt { "Employeur" } dd { (e) } }
            @if let Some(h) = r.weekly_contract_hours { dt { "Contrat hebdomadaire" } dd { (minutes_text(Some((h * 60.0).round() as i32))) } }
            @if let Some(c) = r.hourly_cost_cents { dt { "Coût horaire" } dd { (format_euros(c)) } }
        }
        h2 { "Horaires d'ouverture" }
        @if r.slots.is_empty() {
            p { "Accessible à toute heure." }
        } @else {
            table.hours { tbody { @for (i, day) in WEEKDAYS.iter().enumerate() {
                @let slots = format_day_slots(&r.slots, (i + 1) as u8);
                tr { th scope="row" { (day) } td { @if slots.is_empty() { "fermé" } @else { (slots) } } }
            } } }
        }
        h2 { "Fermetures à venir" }
        (closure_table(&ctx, &detail.closures, false))
        (subscribe)
        @if r.can_manage {
            div.actions {
                a.button href={ "/resources/" (r.id) "/edit" } { "Modifier" }
                @if !r.archived {
                    (action_button(&ctx, &format!("/resources/{}/archive", r.id), "Archiver", "danger"))
                } @else {
                    (action_button(&ctx, &format!("/resources/{}/restore", r.id), "Restaurer", ""))
                }
            }
        }
    };
    page(
        &ctx,
        &r.name,
        Nav::Resources,
        super::notice_text(q.notice.as_deref()),
        body,
    )
}

/// What the resource form posts: text as typed (euros, "HH:MM-HH:MM" per weekday).
#[derive(Deserialize, Default, Clone)]
pub struct ResourceForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    hours_1: String,
    #[serde(default)]
    hours_2: String,
    #[serde(default)]
    hours_3: String,
    #[serde(default)]
    hours_4: String,
    #[serde(default)]
    hours_5: String,
    #[serde(default)]
    hours_6: String,
    #[serde(default)]
    hours_7: String,
    #[serde(default)]
    min_duration_minutes: String,
    #[serde(default)]
    max_duration_minutes: String,
    #[serde(default)]
    buffer_before_minutes: String,
    #[serde(default)]
    buffer_after_minutes: String,
    requires_approval: Option<String>,
    #[serde(default)]
    allowed_categories: Vec<String>,
    #[serde(default)]
    hourly: String,
    #[serde(default)]
    daily_cap: String,
    #[serde(default)]
    per_km: String,
    #[serde(default)]
    billing_unit_minutes: String,
    #[serde(default)]
    tariff_from: String,
    #[serde(default)]
    pool: String,
    #[serde(default)]
    seats: String,
    #[serde(default)]
    plate: String,
    #[serde(default)]
    energy: String,
    #[serde(default)]
    odometer_km: String,
    #[serde(default)]
    employer_member_id: String,
    #[serde(default)]
    weekly_contract_hours: String,
    #[serde(default)]
    hourly_cost: String,
    #[serde(default)]
    parent_id: String,
    /// "1" when the manager confirmed a change that cancels bookings.
    #[serde(default)]
    force: String,
}

impl ResourceForm {
    fn hours(&self) -> [&str; 7] {
        [
            &self.hours_1,
            &self.hours_2,
            &self.hours_3,
            &self.hours_4,
            &self.hours_5,
            &self.hours_6,
            &self.hours_7,
        ]
    }

    fn of(r: &ResourceView) -> Self {
        let i = r.input();
        let h = |d: u8| format_day_slots(&r.slots, d);
        let opt = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        let money = |v: Option<i64>| v.map(format_amount).unwrap_or_default();
        Self {
            kind: i.kind,
            name: i.name,
            description: i.description,
            location: i.location,
            capacity: i.capacity.to_string(),
            hours_1: h(1),
            hours_2: h(2),
            hours_3: h(3),
            hours_4: h(4),
            hours_5: h(5),
            hours_6: h(6),
            hours_7: h(7),
            min_duration_minutes: opt(i.min_duration_minutes),
            max_duration_minutes: opt(i.max_duration_minutes),
            buffer_before_minutes: i.buffer_before_minutes.to_string(),
            buffer_after_minutes: i.buffer_after_minutes.to_string(),
            requires_approval: i.requires_approval.then(|| "on".into()),
            allowed_categories: i.allowed_categories,
            hourly: format_amount(i.tariff.hourly_cents),
            daily_cap: money(i.tariff.daily_cap_cents),
            per_km: money(i.tariff.per_km_cents),
            billing_unit_minutes: i.tariff.billing_unit_minutes.to_string(),
            tariff_from: String::new(),
            pool: i.pool.unwrap_or_default(),
            seats: opt(i.seats),
            plate: i.plate.unwrap_or_default(),
            energy: i.energy.unwrap_or_default(),
            odometer_km: i.odometer_km.map(|v| v.to_string()).unwrap_or_default(),
            employer_member_id: i
                .employer_member_id
                .map(|v| v.to_string())
                .unwrap_or_default(),
            weekly_contract_hours: i
                .weekly_contract_hours
                .map(|h| format!("{h}").replace('.', ","))
                .unwrap_or_default(),
            hourly_cost: money(i.hourly_cost_cents),
            parent_id: i.parent_id.map(|v| v.to_string()).unwrap_or_default(),
            force: String::new(),
        }
    }

    /// Parses what was typed; fields of other kinds than the chosen one are ignored, since
    /// the form shows them all (no JavaScript needed).
    fn to_input(&self) -> Result<ResourceInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = ResourceKind::parse(&self.kind);
        let is = |k: ResourceKind| kind == Some(k);
        let int = |e: &mut FieldErrors, field: &str, raw: &str| -> Option<i64> {
            e.check(field, parse_int(raw)).flatten()
        };
        let i32_of = |v: Option<i64>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
        let mut opening_hours = Vec::new();
        for (i, text) in self.hours().iter().enumerate() {
            if let Some(slots) = e.check("opening_hours", parse_day_slots((i + 1) as u8, text)) {
                opening_hours.extend(slots);
            }
        }
        let capacity = i32_of(int(&mut e, "capacity", &self.capacity)).unwrap_or(1);
        let min = i32_of(int(
            &mut e,
            "min_duration_minutes",
            &self.min_duration_minutes,
        ));
        let max = i32_of(int(
            &mut e,
            "max_duration_minutes",
            &self.max_duration_minutes,
        ));
        let before = i32_of(int(
            &mut e,
            "buffer_before_minutes",
            &self.buffer_before_minutes,
        ))
        .unwrap_or(0);
        let after = i32_of(int(
            &mut e,
            "buffer_after_minutes",
            &self.buffer_after_minutes,
        ))
        .unwrap_or(0);
        let hourly = e
            .check("tariff.hourly_cents", parse_euros(&self.hourly, false))
            .flatten()
            .unwrap_or(0);
        let daily_cap = e
            .check(
                "tariff.daily_cap_cents",
                parse_euros(&self.daily_cap, false),
            )
            .flatten();
        let per_km = e
            .check("tariff.per_km_cents", parse_euros(&self.per_km, false))
            .flatten();
        let unit = i32_of(int(
            &mut e,
            "tariff.billing_unit_minutes",
            &self.billing_unit_minutes,
        ))
        .unwrap_or(60);
        let seats = if is(ResourceKind::Room) {
            i32_of(int(&mut e, "seats", &self.seats))
        } else {
            None
        };
        let vehicle = is(ResourceKind::Vehicle);
        let odometer = if vehicle || is(ResourceKind::Equipment) {
            int(&mut e, "odometer_km", &self.odometer_km)
        } else {
            None
        };
        let staff = is(ResourceKind::Staff);
        let employer = if staff {
            int(&mut e, "employer_member_id", &self.employer_member_id).map(MemberId)
        } else {
            None
        };
        let hours = if staff && !self.weekly_contract_hours.trim().is_empty() {
            e.check(
                "weekly_contract_hours",
                self.weekly_contract_hours
                    .trim()
                    .replace(',', ".")
                    .parse::<f64>()
                    .map_err(|_| "Nombre d'heures attendu.".to_string()),
            )
        } else {
            None
        };
        let hourly_cost = if staff {
            e.check("hourly_cost_cents", parse_euros(&self.hourly_cost, false))
                .flatten()
        } else {
            None
        };
        let input = ResourceInput {
            kind: self.kind.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            location: self.location.clone(),
            capacity,
            opening_hours,
            min_duration_minutes: min,
            max_duration_minutes: max,
            buffer_before_minutes: before,
            buffer_after_minutes: after,
            requires_approval: checked(&self.requires_approval),
            allowed_categories: self
                .allowed_categories
                .iter()
                .filter(|c| !c.trim().is_empty())
                .cloned()
                .collect(),
            tariff: TariffInput {
                hourly_cents: hourly,
                daily_cap_cents: daily_cap,
                per_km_cents: per_km,
                billing_unit_minutes: unit,
            },
            tariff_from: match self.tariff_from.trim() {
                "" => None,
                d => e.check(
                    "tariff_from",
                    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|_| "Date attendue (AAAA-MM-JJ).".to_string()),
                ),
            },
            pool: Some(self.pool.clone()).filter(|p| !p.trim().is_empty()),
            seats,
            plate: vehicle
                .then(|| self.plate.clone())
                .filter(|p| !p.trim().is_empty()),
            energy: vehicle
                .then(|| self.energy.clone())
                .filter(|p| !p.trim().is_empty()),
            odometer_km: odometer,
            employer_member_id: employer,
            weekly_contract_hours: hours,
            hourly_cost_cents: hourly_cost,
            parent_id: int(&mut e, "parent_id", &self.parent_id).map(ResourceId),
        };
        with_checks(e, input, ResourceInput::validate)
    }
}

/// The bookings a change would cancel, and what confirming does.
fn breaks_notice(ctx: &Ctx, list: &[BrokenBooking]) -> Markup {
    html! {
        @if !list.is_empty() {
            div.errors #breaks role="alert" {
                p { strong { (guard::summary(list.len())) " :" } }
                ul { @for b in list {
                    li {
                        a href={ "/bookings/" (b.id) } { (b.resource_name) ", " (fmt_local(b.start, ctx.tz())) " – " (fmt_local(b.end, ctx.tz())) }
                        " — " (b.member_name)
                        @if b.quantity > 1 { " (" (b.quantity) " unités)" }
                        ", " (b.status.label().to_lowercase()) " : " (b.reason) "."
                    }
                } }
                p { "Rien n'est modifié sans votre confirmation. En confirmant, ces réservations sont annulées et leurs réservants prévenus par courriel." }
            }
        }
    }
}

/// The button that posts the form again with the change confirmed.
fn confirm_button(list: &[BrokenBooking]) -> Markup {
    html! {
        @if !list.is_empty() {
            " " button.danger type="submit" name="force" value="1" { "Confirmer et prévenir les réservants" }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn form_view(
    s: &AppState,
    p: &PageActor,
    action: &str,
    title: &str,
    form: &ResourceForm,
    errors: &FieldErrors,
    breaks: &[BrokenBooking],
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let data = async {
        Ok((
            members::list(&s.app, actor, Default::default()).await?,
            resources::list(&s.app, actor, Default::default()).await?,
        ))
    };
    let (members, all_resources) = match or_page(&ctx, data.await) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let mut parents = vec![(String::new(), "— (ressource indépendante)".to_string())];
    parents.extend(
        all_resources
            .iter()
            .filter(|r| r.parent_id.is_none() && r.name != form.name)
            .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.kind.label()))),
    );
    let actor = p.actor();
    let kinds: Vec<(String, String)> = ResourceKind::ALL
        .iter()
        .filter(|k| authz::can_manage_resource_kind(actor, **k))
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    let mut energies = vec![(String::new(), "—".to_string())];
    energies.extend(ENERGIES.iter().map(|(k, l)| (k.to_string(), l.to_string())));
    let mut employers = vec![(String::new(), "—".to_string())];
    employers.extend(members.iter().map(|m| (m.id.to_string(), m.name.clone())));
    let mut categories: Vec<String> = DEFAULT_CATEGORIES
        .iter()
        .map(|(c, _)| c.to_string())
        .collect();
    for c in &form.allowed_categories {
        if !categories.contains(c) {
            categories.push(c.clone());
        }
    }
    let body = html! {
        h1 { (title) }
        (error_summary(errors))
        (breaks_notice(&ctx, breaks))
        form method="post" action=(action) novalidate {
            (csrf_field(&ctx))
            fieldset {
                legend { "Description" }
                (select("Type", "kind", &kinds, &form.kind, errors))
                (field("Nom", "name", &form.name, "text", errors, None))
                (textarea("Description", "description", &form.description, errors))
                (field("Lieu", "location", &form.location, "text", errors, None))
                (field("Capacité", "capacity", &form.capacity, "number", errors, Some("Unités utilisables en même temps (ex. 12 postes de coworking).")))
                (select("Partie de (ressource composée)", "parent_id", &parents, &form.parent_id, errors))
            }
            fieldset {
                legend { "Horaires d'ouverture (heure du pôle)" }
                p.hint { "Une ou plusieurs plages par jour, par exemple « 08:00-12:00, 14:00-18:00 » ; « 24:00 » pour minuit. Laissez tous les jours vides pour une ressource accessible à toute heure." }
                @if let Some(e) = errors.get("opening_hours") { p.field-error #f-opening_hours { (e) } }
                @for (i, day) in WEEKDAYS.iter().enumerate() {
                    (field(day, &format!("hours_{}", i + 1), form.hours()[i], "text", &FieldErrors::new(), None))
                }
            }
            fieldset {
                legend { "Règles de réservation" }
                (field("Durée minimale (minutes)", "min_duration_minutes", &form.min_duration_minutes, "number", errors, None))
                (field("Durée maximale (minutes)", "max_duration_minutes", &form.max_duration_minutes, "number", errors, None))
                (field("Battement avant (minutes)", "buffer_before_minutes", &form.buffer_before_minutes, "number", errors, Some("Installation, préparation.")))
                (field("Battement après (minutes)", "buffer_after_minutes", &form.buffer_after_minutes, "number", errors, Some("Rangement, nettoyage, recharge.")))
                (super::checkbox("Réservation soumise à validation", "requires_approval", checked(&form.requires_approval)))
                div.field #f-allowed_categories {
                    span.label { "Catégories tarifaires autorisées (aucune cochée = toutes)" }
                    @for c in &categories {
                        label.inline { input type="checkbox" name="allowed_categories" value=(c) checked[form.allowed_categories.contains(c)]; " " (category_label(c)) }
                    }
                    @if let Some(e) = errors.get("allowed_categories") { p.field-error { (e) } }
                }
            }
            fieldset {
                legend { "Tarif" }
                (field_for("Prix horaire (€)", "hourly", "tariff.hourly_cents", &form.hourly, "text", errors, None))
                (field_for("Plafond journalier (€)", "daily_cap", "tariff.daily_cap_cents", &form.daily_cap, "text", errors, None))
                (field_for("Prix au kilomètre (€)", "per_km", "tariff.per_km_cents", &form.per_km, "text", errors, Some("Véhicules.")))
                (field_for("Unité de facturation (minutes)", "billing_unit_minutes", "tariff.billing_unit_minutes", &form.billing_unit_minutes, "number", errors, None))
                @if action != "/resources" {
                    (field("En vigueur à partir du", "tariff_from", &form.tariff_from, "date", errors, Some("Un tarif modifié s'applique aux réservations qui commencent ce jour-là ou après (aujourd'hui si vide) ; les précédentes gardent leur tarif.")))
                }
                (field("Groupe de ressources", "pool", &form.pool, "text", errors, Some("Ex. « bâtiment », « flotte » : les coûts d'un groupe se répartissent ensemble.")))
            }
            fieldset {
                legend { "Salles" }
                (field("Places assises", "seats", &form.seats, "number", errors, None))
            }
            fieldset {
                legend { "Véhicules et équipements" }
                (field("Immatriculation", "plate", &form.plate, "text", errors, None))
                (select("Énergie", "energy", &energies, &form.energy, errors))
                (field("Compteur (km)", "odometer_km", &form.odometer_km, "number", errors, None))
            }
            fieldset {
                legend { "Salariés partagés" }
                (select("Structure employeuse", "employer_member_id", &employers, &form.employer_member_id, errors))
                (field("Durée hebdomadaire du contrat (heures)", "weekly_contract_hours", &form.weekly_contract_hours, "text", errors, None))
                (field_for("Coût horaire employeur (€)", "hourly_cost", "hourly_cost_cents", &form.hourly_cost, "text", errors, None))
            }
            button type="submit" { "Enregistrer" }
            (confirm_button(breaks))
            " " a href="/resources" { "Annuler" }
        }
    };
    page_with_status(status, &ctx, title, Nav::Resources, body)
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    kind: Option<String>,
}

pub async fn new_form(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NewQuery>,
) -> Response {
    if !authz::can_manage_any_resource(p.actor()) {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    let kind = q
        .kind
        .as_deref()
        .and_then(ResourceKind::parse)
        .unwrap_or(ResourceKind::Room);
    let form = ResourceForm {
        kind: kind.as_str().into(),
        capacity: "1".into(),
        buffer_before_minutes: "0".into(),
        buffer_after_minutes: "0".into(),
        billing_unit_minutes: "60".into(),
        hourly: "0,00".into(),
        ..Default::default()
    };
    form_view(
        &s,
        &p,
        "/resources",
        "Nouvelle ressource",
        &form,
        &FieldErrors::new(),
        &[],
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<ResourceForm>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    submit(
        &ctx,
        form.to_input(),
        async |input| resources::create(&s.app, p.actor(), input).await,
        |r| format!("/resources/{}?notice=created", r.id),
        async |errors| {
            form_view(
                &s,
                &p,
                "/resources",
                "Nouvelle ressource",
                &form,
                &errors,
                &[],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}

pub async fn edit_form(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let r = match or_page(&ctx, resources::get(&s.app, p.actor(), id).await) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if !r.can_manage {
        return super::error_page(&s, Some(&p.0), AppError::Forbidden);
    }
    form_view(
        &s,
        &p,
        &format!("/resources/{id}"),
        &format!("Modifier {}", r.name),
        &ResourceForm::of(&r),
        &FieldErrors::new(),
        &[],
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    CsrfForm(form): CsrfForm<ResourceForm>,
) -> Response {
    let action = format!("/resources/{id}");
    let again = async |errors: FieldErrors, breaks: &[BrokenBooking], status| {
        form_view(
            &s,
            &p,
            &action,
            "Modifier la ressource",
            &form,
            &errors,
            breaks,
            status,
        )
        .await
    };
    let input = match form.to_input() {
        Ok(i) => i,
        Err(errors) => return again(errors, &[], StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let force = form.force == "1";
    match resources::replace(&s.app, p.actor(), id, input, force).await {
        Ok(Guarded::Done(_)) => see_other(&format!("/resources/{id}?notice=saved")),
        Ok(Guarded::WouldBreak(list)) => {
            again(FieldErrors::new(), &list, StatusCode::CONFLICT).await
        }
        Err(AppError::Validation(errors)) => {
            again(errors, &[], StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

pub async fn archive(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    super::set_archived(&ctx, &format!("/resources/{id}"), true, async |a| {
        resources::set_archived(&s.app, p.actor(), id, a).await
    })
    .await
}

pub async fn restore(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    super::set_archived(&ctx, &format!("/resources/{id}"), false, async |a| {
        resources::set_archived(&s.app, p.actor(), id, a).await
    })
    .await
}

// ---- closures ----

fn closure_table(ctx: &Ctx, list: &[ClosureView], with_actions: bool) -> Markup {
    html! {
        @if list.is_empty() {
            p { "Aucune fermeture à venir." }
        } @else {
            table {
                thead { tr { th { "Début" } th { "Fin" } th { "Motif" } th { "Portée" } @if with_actions { th { span.visually-hidden { "Actions" } } } } }
                tbody { @for c in list {
                    tr {
                        td { (fmt_local(c.start, ctx.tz())) }
                        td { (fmt_local(c.end, ctx.tz())) }
                        td { (c.reason) }
                        td { @match (c.resource_id, &c.resource_name) {
                            (Some(r), Some(name)) => a href={ "/resources/" (r) } { (name) },
                            (Some(r), None) => a href={ "/resources/" (r) } { "ressource n° " (r) },
                            (None, _) => "tout le pôle",
                        } }
                        @if with_actions { td { (action_button(ctx, &format!("/closures/{}/delete", c.id), "Supprimer", "danger")) } }
                    }
                } }
            }
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct ClosureForm {
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    reason: String,
    /// "1" when the manager confirmed a closure that cancels bookings.
    #[serde(default)]
    force: String,
}

async fn closures_view(
    s: &AppState,
    p: &PageActor,
    form: &ClosureForm,
    errors: &FieldErrors,
    breaks: &[BrokenBooking],
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let ctx = Ctx::new(s, p);
    let actor = p.actor();
    let data = async {
        Ok((
            closures::coming(&s.app, actor).await?,
            resources::list(&s.app, actor, Default::default()).await?,
        ))
    };
    let (list, all_resources) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let manage = authz::can_manage_closures(p.actor());
    let mut options = vec![(String::new(), "Tout le pôle".to_string())];
    options.extend(
        all_resources
            .iter()
            .map(|r| (r.id.to_string(), r.name.clone())),
    );
    let body = html! {
        h1 { "Fermetures" }
        p { "Périodes de maintenance ou de congés pendant lesquelles une ressource, ou tout le pôle, ne peut être réservé." }
        (closure_table(&ctx, &list, manage))
        @if manage {
            h2 { "Nouvelle fermeture" }
            (error_summary(errors))
            (breaks_notice(&ctx, breaks))
            form method="post" action="/closures" novalidate {
                (csrf_field(&ctx))
                (select("Ressource", "resource_id", &options, &form.resource_id, errors))
                (field("Début (heure du pôle)", "start", &form.start, "datetime-local", errors, None))
                (field("Fin (heure du pôle)", "end", &form.end, "datetime-local", errors, None))
                (field("Motif", "reason", &form.reason, "text", errors, Some("Par exemple : congés d'été, révision du véhicule.")))
                button type="submit" { "Enregistrer la fermeture" }
                (confirm_button(breaks))
            }
        }
    };
    (
        status,
        page(&ctx, "Fermetures", Nav::Closures, notice, body),
    )
        .into_response()
}

pub async fn closures_page(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    closures_view(
        &s,
        &p,
        &ClosureForm::default(),
        &FieldErrors::new(),
        &[],
        super::notice_text(q.notice.as_deref()),
        StatusCode::OK,
    )
    .await
}

pub async fn create_closure(
    State(s): State<AppState>,
    p: PageActor,
    CsrfForm(form): CsrfForm<ClosureForm>,
) -> Response {
    let parsed = match form.resource_id.trim() {
        "" => Ok(None),
        raw => raw
            .parse::<ResourceId>()
            .map(Some)
            .map_err(|_| FieldErrors::single("resource_id", "Ressource inconnue.")),
    }
    .map(|resource_id| ClosureInput {
        resource_id,
        start: form.start.clone(),
        end: form.end.clone(),
        reason: form.reason.clone(),
    });
    let again = async |errors: FieldErrors, breaks: &[BrokenBooking], status| {
        closures_view(&s, &p, &form, &errors, breaks, None, status).await
    };
    let input = match parsed {
        Ok(i) => i,
        Err(errors) => return again(errors, &[], StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let force = form.force == "1";
    match closures::create(&s.app, p.actor(), input, force).await {
        Ok(Guarded::Done(_)) => see_other("/closures?notice=created"),
        Ok(Guarded::WouldBreak(list)) => {
            again(FieldErrors::new(), &list, StatusCode::CONFLICT).await
        }
        Err(AppError::Validation(errors)) => {
            again(errors, &[], StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}

pub async fn delete_closure(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<super::account::Empty>,
) -> Response {
    match closures::delete(&s.app, p.actor(), id).await {
        Ok(()) => see_other("/closures?notice=deleted"),
        Err(e) => super::error_page(&s, Some(&p.0), e),
    }
}
