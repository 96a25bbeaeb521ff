//! Resource catalogue use cases: list, show, create, edit, archive — and keeping the stored
//! bookings in line when a resource's settings change (narrowed blocks for lowered buffers; the
//! guard rails of `app::guard` for changes that would break bookings).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::authz::{self, Actor};
use super::bookings::BookingEnv;
use super::closures::{self, ClosureView};
use super::guard::{self, Guarded, ResourceChange};
use super::{App, Numbered};
use crate::domain::booking::{block_after_buffer_change, OpeningSlot, ResourceRules};
use crate::domain::guard::{Cause, Side};
use crate::domain::ids::{BookingId, MemberId, ResourceId};
use crate::domain::pricing::{in_force, Tariff};
use crate::domain::resource::{
    OpeningSlotInput, ResourceDraft, ResourceInput, ResourceKind, TariffInput,
};
use crate::domain::time::Interval;
use crate::error::{AppError, AppResult};
use crate::store::pricing as pricing_store;
use crate::store::resources::{self as store, Resource, ResourceFilter};
use crate::store::{bookings as booking_store, from_db, members as member_store, to_db, DbConn};

/// A resource as one actor sees it: the hourly cost of a shared employee only for the pole's
/// team (it reveals a salary), and what the actor may do with it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceView {
    pub id: ResourceId,
    pub kind: ResourceKind,
    pub name: String,
    pub description: String,
    pub location: String,
    pub capacity: i32,
    pub opening_hours: Vec<OpeningSlotInput>,
    pub min_duration_minutes: Option<i32>,
    pub max_duration_minutes: Option<i32>,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    pub requires_approval: bool,
    pub allowed_categories: Vec<String>,
    /// The tariff in force today (`GET /resources/{id}/tariffs` lists every version).
    pub tariff: TariffInput,
    /// The named pool of resources whose costs are split together.
    pub pool: Option<String>,
    pub seats: Option<i32>,
    pub plate: Option<String>,
    pub energy: Option<String>,
    pub odometer_km: Option<i64>,
    pub employer_member_id: Option<MemberId>,
    pub weekly_contract_hours: Option<f64>,
    /// Shown to the pole's team only: it reveals a salary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hourly_cost_cents: Option<i64>,
    /// Composite resources: the whole this resource is a part of.
    pub parent_id: Option<ResourceId>,
    pub archived: bool,
    /// The actor may edit, archive or restore it.
    pub can_manage: bool,
    /// Opening hours as the rules read them (pages format them per weekday).
    #[serde(skip)]
    pub slots: Vec<OpeningSlot>,
}

impl ResourceView {
    pub fn of(r: &Resource, tariff: Tariff, actor: &Actor) -> Self {
        let row = &r.row;
        ResourceView {
            id: row.id,
            kind: row.kind,
            name: row.name.clone(),
            description: row.description.clone(),
            location: row.location.clone(),
            capacity: row.capacity,
            opening_hours: r.opening_hours.iter().map(OpeningSlotInput::from).collect(),
            min_duration_minutes: row.min_duration_minutes,
            max_duration_minutes: row.max_duration_minutes,
            buffer_before_minutes: row.buffer_before_minutes,
            buffer_after_minutes: row.buffer_after_minutes,
            requires_approval: row.requires_approval,
            allowed_categories: r.allowed_categories(),
            tariff: tariff.into(),
            pool: row.pool.clone(),
            seats: row.seats,
            plate: row.plate.clone(),
            energy: row.energy.clone(),
            odometer_km: row.odometer_km,
            employer_member_id: row.employer_member_id,
            weekly_contract_hours: row.weekly_contract_minutes.map(|m| f64::from(m) / 60.0),
            hourly_cost_cents: row.hourly_cost_cents.filter(|_| actor.is_pole_team()),
            parent_id: row.parent_id,
            archived: row.archived_at.is_some(),
            can_manage: authz::can_manage_resource(actor, bookable(r)),
            slots: r.opening_hours.clone(),
        }
    }

    /// The resource's settings as an input, to edit them (a form, a JSON merge patch).
    pub fn input(&self) -> ResourceInput {
        ResourceInput {
            kind: self.kind.as_str().to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            location: self.location.clone(),
            capacity: self.capacity,
            opening_hours: self.opening_hours.clone(),
            min_duration_minutes: self.min_duration_minutes,
            max_duration_minutes: self.max_duration_minutes,
            buffer_before_minutes: self.buffer_before_minutes,
            buffer_after_minutes: self.buffer_after_minutes,
            requires_approval: self.requires_approval,
            allowed_categories: self.allowed_categories.clone(),
            tariff: self.tariff.clone(),
            tariff_from: None,
            pool: self.pool.clone(),
            seats: self.seats,
            plate: self.plate.clone(),
            energy: self.energy.clone(),
            odometer_km: self.odometer_km,
            employer_member_id: self.employer_member_id,
            weekly_contract_hours: self.weekly_contract_hours,
            hourly_cost_cents: self.hourly_cost_cents,
            parent_id: self.parent_id,
        }
    }
}

/// A listing's filters, for the API and the pages.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceQuery {
    /// room, desk, vehicle, equipment, staff
    pub kind: Option<String>,
    #[serde(default)]
    pub include_archived: bool,
    /// Part of the name (case, accents and ligatures ignored).
    pub q: Option<String>,
    /// active (the default) or archived.
    pub status: Option<String>,
    /// required (resources whose bookings wait for approval) or none.
    pub approval: Option<String>,
}

fn filter_of(q: ResourceQuery) -> AppResult<ResourceFilter> {
    let mut e = crate::domain::validation::FieldErrors::new();
    let kind = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => {
            let parsed = ResourceKind::parse(k);
            if parsed.is_none() {
                e.add(
                    "kind",
                    "Type inconnu (room, desk, vehicle, equipment, staff).",
                );
            }
            parsed
        }
        None => None,
    };
    let mut archived_only = false;
    match q.status.as_deref().map(str::trim).unwrap_or("") {
        "" | "active" => {}
        "archived" => archived_only = true,
        _ => e.add("status", "État attendu : active ou archived."),
    }
    let requires_approval = match q.approval.as_deref().map(str::trim).unwrap_or("") {
        "" => None,
        "required" => Some(true),
        "none" => Some(false),
        _ => {
            e.add("approval", "Validation attendue : required ou none.");
            None
        }
    };
    e.into_result().map_err(AppError::Validation)?;
    Ok(ResourceFilter {
        kind,
        include_archived: q.include_archived || archived_only,
        search: q.q.filter(|s| !s.trim().is_empty()),
        archived_only,
        requires_approval,
    })
}

pub async fn list(app: &App, actor: &Actor, q: ResourceQuery) -> AppResult<Vec<ResourceView>> {
    let filter = filter_of(q)?;
    let (actor, today) = (actor.clone(), app.today());
    app.db()
        .run(move |c| {
            let resources = store::list(c, &filter)?;
            let ids: Vec<ResourceId> = resources.iter().map(|r| r.row.id).collect();
            let tariffs = tariffs_on(c, &ids, today)?;
            Ok(resources
                .iter()
                .map(|r| ResourceView::of(r, tariff_of(&tariffs, r.row.id), &actor))
                .collect())
        })
        .await
}

/// One numbered page of the catalogue (from 1, `per_page` resources), by kind then name, and
/// how many resources the filters keep in all.
pub async fn page(
    app: &App,
    actor: &Actor,
    q: ResourceQuery,
    page: i64,
    per_page: i64,
) -> AppResult<Numbered<ResourceView>> {
    let filter = filter_of(q)?;
    let (actor, today) = (actor.clone(), app.today());
    app.db()
        .run(move |c| {
            let resources = store::page(c, &filter, (page - 1) * per_page, per_page)?;
            let ids: Vec<ResourceId> = resources.iter().map(|r| r.row.id).collect();
            let tariffs = tariffs_on(c, &ids, today)?;
            Ok(Numbered {
                items: resources
                    .iter()
                    .map(|r| ResourceView::of(r, tariff_of(&tariffs, r.row.id), &actor))
                    .collect(),
                total: store::count_matching(c, &filter)?,
            })
        })
        .await
}

/// The tariffs of these resources in force on a date.
pub(crate) fn tariffs_on(
    conn: &mut DbConn,
    ids: &[ResourceId],
    date: NaiveDate,
) -> AppResult<HashMap<ResourceId, Tariff>> {
    let rows = pricing_store::tariffs(conn, Some(ids))?;
    let mut versions: HashMap<ResourceId, Vec<(NaiveDate, Tariff)>> = HashMap::new();
    for r in rows {
        versions
            .entry(r.resource_id)
            .or_default()
            .push((r.effective_from, r.tariff()));
    }
    Ok(versions
        .into_iter()
        .filter_map(|(id, v)| Some((id, in_force(&v, date)?)))
        .collect())
}

fn tariff_of(tariffs: &HashMap<ResourceId, Tariff>, id: ResourceId) -> Tariff {
    tariffs.get(&id).copied().unwrap_or(FREE)
}

/// What a resource without any tariff version costs: nothing.
const FREE: Tariff = Tariff {
    hourly_cents: 0,
    daily_cap_cents: None,
    per_km_cents: None,
    billing_unit_minutes: 60,
};

/// The resource as the actor sees it, with today's tariff.
pub(crate) fn view_on(
    conn: &mut DbConn,
    r: &Resource,
    actor: &Actor,
    today: NaiveDate,
) -> AppResult<ResourceView> {
    let tariffs = tariffs_on(conn, &[r.row.id], today)?;
    Ok(ResourceView::of(r, tariff_of(&tariffs, r.row.id), actor))
}

pub async fn get(app: &App, actor: &Actor, id: ResourceId) -> AppResult<ResourceView> {
    let (actor, today) = (actor.clone(), app.today());
    app.db()
        .run(move |c| {
            let r = store::find(c, id)?;
            view_on(c, &r, &actor, today)
        })
        .await
}

/// What the resource's page shows: the resource, its coming closures, its employer's name.
pub struct ResourceDetail {
    pub resource: ResourceView,
    pub closures: Vec<ClosureView>,
    pub employer_name: Option<String>,
}

pub async fn detail(app: &App, actor: &Actor, id: ResourceId) -> AppResult<ResourceDetail> {
    let (actor, now, today) = (actor.clone(), app.now(), app.today());
    app.db()
        .run(move |c| {
            let r = store::find(c, id)?;
            let employer_name = match r.row.employer_member_id {
                Some(m) => member_store::names(c, &[m])?.pop().map(|(_, n)| n),
                None => None,
            };
            Ok(ResourceDetail {
                resource: view_on(c, &r, &actor, today)?,
                closures: closures::coming_on(c, Some(id), now)?,
                employer_name,
            })
        })
        .await
}

/// The one validator of a resource's settings: the domain's checks of every field, then
/// what only the database knows (the employer exists, the whole is a valid parent). `id` is
/// the resource being edited, `None` for a new one.
fn validate(
    conn: &mut DbConn,
    actor: &Actor,
    id: Option<ResourceId>,
    input: &ResourceInput,
) -> AppResult<ResourceDraft> {
    // Authorise on the kind asked for before reporting field errors, so a caller without the
    // right learns nothing from validation.
    match ResourceKind::parse(&input.kind) {
        Some(kind) => authz::require(authz::can_manage_resource_kind(actor, kind))?,
        None => authz::require(authz::can_manage_any_resource(actor))?,
    }
    let draft = input.validate().map_err(AppError::Validation)?;
    authz::require(authz::can_manage_resource(
        actor,
        authz::Bookable {
            kind: draft.kind,
            employer: draft.employer_member_id,
        },
    ))?;
    if let Some(employer) = draft.employer_member_id {
        if member_store::names(conn, &[employer])?.is_empty() {
            return Err(AppError::validation(
                "employer_member_id",
                "Structure employeuse inconnue.",
            ));
        }
    }
    if let Some(parent) = draft.parent_id {
        if Some(parent) == id {
            return Err(AppError::validation(
                "parent_id",
                "Une ressource ne peut être une partie d'elle-même.",
            ));
        }
        let p = match store::find(conn, parent) {
            Err(AppError::NotFound) => {
                return Err(AppError::validation(
                    "parent_id",
                    "Ressource parente inconnue.",
                ))
            }
            other => other?,
        };
        if p.row.parent_id.is_some() || p.row.kind != draft.kind {
            return Err(AppError::validation(
                "parent_id",
                "La ressource parente doit être du même type et ne pas être elle-même une partie.",
            ));
        }
        if let Some(id) = id {
            if !store::children(conn, id)?.is_empty() {
                return Err(AppError::validation(
                    "parent_id",
                    "Cette ressource a déjà des parties : elle ne peut être une partie.",
                ));
            }
        }
    }
    Ok(draft)
}

pub async fn create(app: &App, actor: &Actor, input: ResourceInput) -> AppResult<ResourceView> {
    let (actor, now, today) = (actor.clone(), app.now(), app.today());
    app.db()
        .run(move |c| {
            c.write(|c| {
                let draft = validate(c, &actor, None, &input)?;
                let r = store::insert(c, &draft, to_db(now))?;
                view_on(c, &r, &actor, today)
            })
        })
        .await
}

/// Replaces the resource's settings. A change of capacity, buffers or opening hours that would
/// break bookings answers them and changes nothing, unless `force`: then they are cancelled
/// and their bookers told, in the same transaction (see `app::guard`).
pub async fn replace(
    app: &App,
    actor: &Actor,
    id: ResourceId,
    input: ResourceInput,
    force: bool,
) -> AppResult<Guarded<ResourceView>> {
    let (actor, env) = (actor.clone(), BookingEnv::of(app));
    // Through the booking writer: on SQLite the group commit, on PostgreSQL a transaction
    // locking the resource row as booking writes do, so no booking slips in between the
    // check and the change.
    app.db()
        .write(move |c| replace_tx(c, &actor, id, &input, force, &env))
        .await
}

/// JSON merge patch (RFC 7396) over the resource's settings: the whole is validated again.
pub async fn patch(
    app: &App,
    actor: &Actor,
    id: ResourceId,
    patch: Value,
    force: bool,
) -> AppResult<Guarded<ResourceView>> {
    let (actor, env) = (actor.clone(), BookingEnv::of(app));
    let today = env.now.with_timezone(&env.tz).date_naive();
    app.db()
        .write(move |c| {
            booking_store::lock_resources(c, &[id])?;
            let current = managed(c, &actor, id)?;
            let input =
                super::merge_patch(&view_on(c, &current, &actor, today)?.input(), patch.clone())?;
            replace_tx(c, &actor, id, &input, force, &env)
        })
        .await
}

fn bookable(r: &Resource) -> authz::Bookable {
    authz::Bookable {
        kind: r.row.kind,
        employer: r.row.employer_member_id,
    }
}

/// The resource, when the actor manages it.
fn managed(conn: &mut DbConn, actor: &Actor, id: ResourceId) -> AppResult<Resource> {
    let current = store::find(conn, id)?;
    authz::require(authz::can_manage_resource(actor, bookable(&current)))?;
    Ok(current)
}

fn replace_tx(
    conn: &mut DbConn,
    actor: &Actor,
    id: ResourceId,
    input: &ResourceInput,
    force: bool,
    env: &BookingEnv,
) -> AppResult<Guarded<ResourceView>> {
    let (now, tz) = (env.now, env.tz);
    booking_store::lock_resources(conn, &[id])?;
    let current = managed(conn, actor, id)?;
    let draft = validate(conn, actor, Some(id), input)?;
    let broken = broken_by(conn, &current, &draft, now, tz)?;
    if !broken.is_empty() && !force {
        return Ok(Guarded::WouldBreak(guard::describe(conn, &broken)?));
    }
    let today = now.with_timezone(&tz).date_naive();
    // A changed tariff is a new version from its date (today unless said): bookings that
    // start before it keep the tariff they had.
    let from = draft.tariff_from.unwrap_or(today);
    if tariffs_on(conn, &[id], from)?.get(&id) != Some(&draft.tariff) {
        super::pricing::check_open_from(conn, from)?;
        pricing_store::set_tariff(
            conn,
            id,
            from,
            &draft.tariff,
            Some(actor.user_id),
            to_db(now),
        )?;
    }
    let updated = store::update(conn, id, &draft, to_db(now))?;
    let lowered = draft.buffer_before_minutes < current.row.buffer_before_minutes
        || draft.buffer_after_minutes < current.row.buffer_after_minutes;
    if lowered {
        narrow_blocks(conn, &updated, now)?;
    }
    guard::cancel_broken(conn, actor, &broken, env)?;
    Ok(Guarded::Done(view_on(conn, &updated, actor, today)?))
}

/// The bookings of `current` that the settings of `draft` would break, with the reason each
/// booker is given: its own under new capacity, buffers or opening hours; with new buffers,
/// those of it and of its whole or parts that would now meet; when it becomes a part of a
/// whole, those of it and of the whole that would meet.
fn broken_by(
    conn: &mut DbConn,
    current: &Resource,
    draft: &ResourceDraft,
    now: DateTime<Utc>,
    tz: Tz,
) -> AppResult<Vec<(crate::domain::guard::Broken, String)>> {
    let before = crate::app::bookings::rules_of(current, 0);
    let after = ResourceRules {
        capacity: draft.capacity,
        buffer_before_minutes: draft.buffer_before_minutes,
        buffer_after_minutes: draft.buffer_after_minutes,
        opening_hours: draft.opening_hours.clone(),
        ..before.clone()
    };
    let mut broken = Vec::new();
    if after != before {
        // Buffers reach at most a day each way.
        let closures = guard::closures_of(conn, current.row.id, now - Duration::days(2))?;
        let change = ResourceChange {
            resource_id: current.row.id,
            before: (&before, &closures),
            after: (&after, &closures),
        };
        broken = guard::breaks(conn, &change, now, tz, |cause| match cause {
            Cause::Closure(c) => guard::closure_words(c, tz),
            Cause::OpeningHours => "horaires d'ouverture réduits".into(),
            Cause::Capacity if after.capacity < before.capacity => format!(
                "capacité réduite de {} à {}",
                before.capacity, after.capacity
            ),
            Cause::Capacity | Cause::Composition(_) => {
                "temps de battement allongé entre deux réservations".into()
            }
        })?;
    }
    // Longer buffers also keep this resource's bookings further from those of its whole or
    // parts (a booking of one takes all of the other).
    let buffers = |r: &ResourceRules| (r.buffer_before_minutes, r.buffer_after_minutes);
    if buffers(&after) != buffers(&before) {
        let mut beside = Vec::new();
        if let Some(parent) = current
            .row
            .parent_id
            .filter(|p| draft.parent_id == Some(*p))
        {
            let whole = store::find(conn, parent)?;
            beside.push((
                parent,
                crate::app::bookings::rules_of(&whole, 0),
                Side::Whole,
            ));
        }
        for part in store::children(conn, current.row.id)? {
            let part_row = store::find(conn, part)?;
            beside.push((
                part,
                crate::app::bookings::rules_of(&part_row, 0),
                Side::Part,
            ));
        }
        let already: Vec<BookingId> = broken.iter().map(|(b, _)| b.id).collect();
        let change = guard::Rebuffered {
            id: current.row.id,
            before: &before,
            after: &after,
            beside: &beside,
        };
        broken.extend(guard::breaks_beside(conn, &change, &already, now)?);
    }
    let Some(whole_id) = draft
        .parent_id
        .filter(|w| current.row.parent_id != Some(*w))
    else {
        return Ok(broken);
    };
    let whole = store::find(conn, whole_id)?;
    let whole_rules = crate::app::bookings::rules_of(&whole, 0);
    let already: Vec<BookingId> = broken.iter().map(|(b, _)| b.id).collect();
    let attaching = guard::Attaching {
        part: (current.row.id, &draft.name, &after),
        whole: (whole_id, &whole.row.name, &whole_rules),
    };
    broken.extend(guard::breaks_attaching(conn, &attaching, &already, now)?);
    Ok(broken)
}

/// Brings the blocked spans of the resource's active bookings in line with lowered buffers
/// (see `block_after_buffer_change`). Bookings over more than a day ago cannot meet a new
/// booking, so they are left as they were.
fn narrow_blocks(conn: &mut DbConn, r: &Resource, now: DateTime<Utc>) -> AppResult<()> {
    let rules = crate::app::bookings::rules_of(r, 0);
    for b in booking_store::blocks_after(conn, r.row.id, to_db(now - Duration::days(1)))? {
        let (Some(booked), Some(stored)) = (
            Interval::new(from_db(b.start_at), from_db(b.end_at)),
            Interval::new(from_db(b.block_start_at), from_db(b.block_end_at)),
        ) else {
            continue;
        };
        let block = block_after_buffer_change(booked, stored, &rules);
        if block != stored {
            booking_store::set_block(conn, b.id, to_db(block.start), to_db(block.end))?;
        }
    }
    Ok(())
}

pub async fn set_archived(
    app: &App,
    actor: &Actor,
    id: ResourceId,
    archived: bool,
) -> AppResult<ResourceView> {
    let (actor, now, today) = (actor.clone(), app.now(), app.today());
    app.db()
        .run(move |c| {
            c.write(|c| {
                managed(c, &actor, id)?;
                store::set_archived(c, id, archived.then(|| to_db(now)), to_db(now))?;
                let r = store::find(c, id)?;
                view_on(c, &r, &actor, today)
            })
        })
        .await
}
