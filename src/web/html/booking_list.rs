//! « Réservations »: the bookings the user may list, filtered (resource, kind, member, state,
//! local dates, text), fifty a page, and the same rows as a CSV file.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::bookings::status_badge;
use super::paging::{self, PAGE_SIZE};
use super::{field, fmt_local, or_page, select, Ctx, Nav};
use crate::app::bookings::{self as app, BookingQuery, BookingView};
use crate::app::{authz, members, quotas, resources};
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::resource::ResourceKind;
use crate::domain::status::BookingStatus;
use crate::domain::validation::FieldErrors;
use crate::error::AppError;
use crate::export;
use crate::web::download;
use crate::web::extract::PageActor;
use crate::web::AppState;

/// The filters as the form sends them: text, so that a bad value is shown beside its field.
#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    resource_id: Option<String>,
    kind: Option<String>,
    member_id: Option<String>,
    status: Option<String>,
    /// Absent: from today. Present and empty: no lower bound.
    from_date: Option<String>,
    to_date: Option<String>,
    q: Option<String>,
    page: Option<String>,
    /// CSV only: `comma` or `semicolon` (the default: French spreadsheets).
    format: Option<String>,
    notice: Option<String>,
}

/// The filters read, and what they keep in the links (page and notice aside).
struct Filters {
    query: BookingQuery,
    keep: Vec<(&'static str, String)>,
    errors: FieldErrors,
    from_date: String,
}

fn id_of<T: std::str::FromStr>(
    raw: &Option<String>,
    field: &str,
    message: &str,
    e: &mut FieldErrors,
) -> Option<T> {
    let raw = raw.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let parsed = raw.parse::<T>().ok();
    if parsed.is_none() {
        e.add(field, message);
    }
    parsed
}

fn filters(s: &AppState, q: &ListQuery) -> Filters {
    let mut errors = FieldErrors::new();
    let resource_id: Option<ResourceId> = id_of(
        &q.resource_id,
        "resource_id",
        "Choisissez une ressource de la liste.",
        &mut errors,
    );
    let member_id: Option<MemberId> = id_of(
        &q.member_id,
        "member_id",
        "Choisissez une structure de la liste.",
        &mut errors,
    );
    let page = paging::page_number(q.page.as_deref(), &mut errors);
    let from_date = q.from_date.clone().unwrap_or_else(|| {
        s.app
            .now()
            .with_timezone(&s.tz())
            .format("%Y-%m-%d")
            .to_string()
    });
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let mut keep: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in [
        ("resource_id", text(&q.resource_id)),
        ("kind", text(&q.kind)),
        ("member_id", text(&q.member_id)),
        ("status", text(&q.status)),
        ("to_date", text(&q.to_date)),
        ("q", text(&q.q)),
    ] {
        if !v.is_empty() {
            keep.push((k, v));
        }
    }
    // Always kept, empty or not: absent means « from today ».
    keep.push(("from_date", from_date.trim().to_string()));
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    Filters {
        query: BookingQuery {
            resource_id,
            member_id,
            status: nonempty(&q.status),
            kind: nonempty(&q.kind),
            from_date: Some(from_date.clone()),
            to_date: nonempty(&q.to_date),
            q: nonempty(&q.q),
            mine: true,
            page: Some(page),
            limit: Some(PAGE_SIZE),
            ..Default::default()
        },
        keep,
        errors,
        from_date,
    }
}

fn booking_table(ctx: &Ctx, list: &[BookingView]) -> Markup {
    html! {
        @if list.is_empty() {
            p { "Aucune réservation." }
        } @else {
            table {
                thead { tr { th { "Ressource" } th { "Structure" } th { "Début" } th { "Fin" } th { "Qté" } th { "Objet" } th { "État" } } }
                tbody { @for b in list {
                    tr {
                        td { a href={ "/bookings/" (b.id) } { (b.resource_name) } }
                        td { (b.member_name) }
                        td { (fmt_local(b.start, ctx.tz())) }
                        td { (fmt_local(b.end, ctx.tz())) }
                        td { (b.quantity) }
                        td { @match &b.purpose { Some(p) => (p), None => span.muted { (export::bookings::HIDDEN) } } }
                        td { (status_badge(b.status)) }
                    }
                } }
            }
        }
    }
}

fn notice_of(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "cancelled" => "Réservation annulée.",
        "moved" => "Réservation déplacée.",
        "approved" => "Réservation validée.",
        "rejected" => "Réservation refusée.",
        other => super::notice_text(Some(other))?,
    })
}

/// "Réservations": the bookings of the members the user acts for (everyone's for the team),
/// fifty a page.
pub async fn list(State(s): State<AppState>, p: PageActor, Query(q): Query<ListQuery>) -> Response {
    let ctx = Ctx::new(&s, &p);
    let actor = p.actor();
    let Filters {
        query,
        keep,
        mut errors,
        from_date,
    } = filters(&s, &q);
    let page = query.page.unwrap_or(1);
    let listed = if errors.is_empty() {
        match app::list(&s.app, actor, query).await {
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
    let data = async {
        Ok((
            quotas::list(&s.app, actor).await?,
            resources::list(&s.app, actor, Default::default()).await?,
            members::list(&s.app, actor, Default::default()).await?,
        ))
    };
    let (quotas, all_resources, all_members) = match or_page(&ctx, data.await) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let any = || (String::new(), "Toutes".to_string());
    let mut resource_options = vec![any()];
    resource_options.extend(
        all_resources
            .iter()
            .map(|r| (r.id.to_string(), format!("{} — {}", r.name, r.kind.label()))),
    );
    let mut kind_options = vec![(String::new(), "Tous".to_string())];
    kind_options.extend(
        ResourceKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.plural_label().to_string())),
    );
    // The members whose bookings the list holds: the user's own, or all for the team.
    let listed_members = authz::listed_members(actor);
    let mut member_options = vec![any()];
    member_options.extend(
        all_members
            .iter()
            .filter(|m| {
                listed_members
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&m.id))
            })
            .map(|m| (m.id.to_string(), m.name.clone())),
    );
    let mut statuses = vec![(String::new(), "Actives".to_string())];
    statuses.extend(
        BookingStatus::ALL
            .iter()
            .map(|st| (st.as_str().to_string(), st.plural_label().to_string())),
    );
    statuses.push(("all".into(), "Toutes".into()));
    let value = |v: &Option<String>| v.as_deref().unwrap_or("").to_string();
    let csv =
        |format: &str| paging::link("/bookings.csv", &keep, &[("format", format.to_string())]);
    let body = html! {
        h1 { "Réservations" }
        p { a.button href="/bookings/new" { "Nouvelle réservation" } " " a href="/calendar" { "Planning du jour" } " " a href="/account/calendars" { "Mes réservations dans mon agenda" } }
        (super::error_summary(&errors))
        form.filters method="get" action="/bookings" {
            (field("Rechercher (ressource, structure, objet)", "q", &value(&q.q), "search", &errors, None))
            (select("Ressource", "resource_id", &resource_options, &value(&q.resource_id), &errors))
            (select("Type", "kind", &kind_options, &value(&q.kind), &errors))
            (select("Structure", "member_id", &member_options, &value(&q.member_id), &errors))
            (select("État", "status", &statuses, &value(&q.status), &errors))
            (field("Du (inclus)", "from_date", &from_date, "date", &errors, None))
            (field("Au (inclus)", "to_date", &value(&q.to_date), "date", &errors, None))
            button type="submit" { "Filtrer" }
        }
        @if let Some(l) = &listed {
            (paging::pager("/bookings", &keep, page, l.items.len(), l.total))
            (booking_table(&ctx, &l.items))
            @if l.total > 0 {
                p.exports { "Exporter ces " (l.total) " réservation(s) : "
                    a href=(csv("semicolon")) download { "CSV pour tableur (point-virgule)" } " · "
                    a href=(csv("comma")) download { "CSV (virgule, UTF-8)" } }
            }
        } @else {
            p { "Corrigez les filtres pour voir les réservations." }
        }
        @if !quotas.is_empty() {
            h2 { "Quotas de réservation" }
            ul { @for q in &quotas { li { (q.description) } } }
        }
    };
    let layout = super::layout(
        &ctx,
        "Réservations",
        Nav::Bookings,
        notice_of(q.notice.as_deref()),
        body,
    );
    let status = if listed.is_some() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, layout).into_response()
}

/// The bookings of the listing, every page, as a CSV file (`format=semicolon`, the default,
/// for French spreadsheets; `format=comma` for scripts).
pub async fn csv(State(s): State<AppState>, p: PageActor, Query(q): Query<ListQuery>) -> Response {
    let Filters {
        query, mut errors, ..
    } = filters(&s, &q);
    let dialect = match download::dialect(q.format.as_deref()) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.add("format", e);
            None
        }
    };
    let (Some(dialect), true) = (dialect, errors.is_empty()) else {
        return super::error_page(&s, Some(&p.0), AppError::BadQuery(errors));
    };
    match app::list_all(&s.app, p.actor(), query).await {
        Ok(rows) => download::csv(
            &export::bookings::table(&rows, s.tz()),
            dialect,
            "reservations",
        ),
        Err(e) => super::error_page(&s, Some(&p.0), e.in_query()),
    }
}
