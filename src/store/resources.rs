//! Resources and their opening hours.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{opening_hours, resources, rules_epoch};
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::resource::{OpeningSlot, ResourceDraft, ResourceKind};
use crate::domain::text::{fold, Search};
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = resources)]
pub struct ResourceRow {
    pub id: ResourceId,
    pub kind: ResourceKind,
    pub name: String,
    pub description: String,
    pub location: String,
    pub capacity: i32,
    pub min_duration_minutes: Option<i32>,
    pub max_duration_minutes: Option<i32>,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    pub requires_approval: bool,
    pub allowed_categories: String,
    pub seats: Option<i32>,
    pub plate: Option<String>,
    pub energy: Option<String>,
    pub odometer_km: Option<i64>,
    pub employer_member_id: Option<MemberId>,
    pub weekly_contract_minutes: Option<i32>,
    pub hourly_cost_cents: Option<i64>,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub parent_id: Option<ResourceId>,
    pub longest_block_minutes: i32,
    pub pool: Option<String>,
}

/// A resource with its opening hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub row: ResourceRow,
    pub opening_hours: Vec<OpeningSlot>,
}

impl Resource {
    pub fn allowed_categories(&self) -> Vec<String> {
        self.row
            .allowed_categories
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = resources, treat_none_as_null = true)]
struct ResourceFields<'a> {
    kind: ResourceKind,
    name: &'a str,
    description: &'a str,
    location: &'a str,
    capacity: i32,
    min_duration_minutes: Option<i32>,
    max_duration_minutes: Option<i32>,
    buffer_before_minutes: i32,
    buffer_after_minutes: i32,
    requires_approval: bool,
    allowed_categories: String,
    pool: Option<&'a str>,
    seats: Option<i32>,
    plate: Option<&'a str>,
    energy: Option<&'a str>,
    odometer_km: Option<i64>,
    employer_member_id: Option<MemberId>,
    weekly_contract_minutes: Option<i32>,
    hourly_cost_cents: Option<i64>,
    parent_id: Option<ResourceId>,
    updated_at: NaiveDateTime,
    /// `fold(name)`: searched and sorted in SQL.
    name_key: String,
}

impl<'a> ResourceFields<'a> {
    fn from_draft(d: &'a ResourceDraft, now: NaiveDateTime) -> Self {
        Self {
            kind: d.kind,
            name: &d.name,
            description: &d.description,
            location: &d.location,
            capacity: d.capacity,
            min_duration_minutes: d.min_duration_minutes,
            max_duration_minutes: d.max_duration_minutes,
            buffer_before_minutes: d.buffer_before_minutes,
            buffer_after_minutes: d.buffer_after_minutes,
            requires_approval: d.requires_approval,
            allowed_categories: d.allowed_categories.join(","),
            pool: d.pool.as_deref(),
            seats: d.seats,
            plate: d.plate.as_deref(),
            energy: d.energy.as_deref(),
            odometer_km: d.odometer_km,
            employer_member_id: d.employer_member_id,
            weekly_contract_minutes: d.weekly_contract_minutes,
            hourly_cost_cents: d.hourly_cost_cents,
            parent_id: d.parent_id,
            updated_at: now,
            name_key: fold(&d.name),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct ResourceFilter {
    pub kind: Option<ResourceKind>,
    pub include_archived: bool,
    pub search: Option<String>,
    /// Only archived resources (with `include_archived`).
    pub archived_only: bool,
    /// Only resources needing (true) or not needing (false) an approval.
    pub requires_approval: Option<bool>,
}

macro_rules! resources_filtered {
    ($f:expr, $q:expr) => {{
        let f: &ResourceFilter = $f;
        let mut q = $q;
        if f.archived_only {
            q = q.filter(resources::archived_at.is_not_null());
        } else if !f.include_archived {
            q = q.filter(resources::archived_at.is_null());
        }
        if let Some(k) = &f.kind {
            q = q.filter(resources::kind.eq(*k));
        }
        if let Some(a) = f.requires_approval {
            q = q.filter(resources::requires_approval.eq(a));
        }
        if let Some(search) = f.search.as_deref().and_then(Search::new) {
            q = q.filter(resources::name_key.like(search.like_pattern()).escape('\\'));
        }
        q
    }};
}

fn replace_hours(
    conn: &mut DbConn,
    resource_id: ResourceId,
    slots: &[OpeningSlot],
) -> AppResult<()> {
    db_run!(conn => {
        diesel::delete(opening_hours::table.filter(opening_hours::resource_id.eq(resource_id))).execute(conn)?;
        for s in slots {
            diesel::insert_into(opening_hours::table)
                .values((
                    opening_hours::resource_id.eq(resource_id),
                    opening_hours::weekday.eq(i32::from(s.weekday)),
                    opening_hours::open_minute.eq(i32::from(s.open_minute)),
                    opening_hours::close_minute.eq(i32::from(s.close_minute)),
                ))
                .execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

pub fn insert(conn: &mut DbConn, d: &ResourceDraft, now: NaiveDateTime) -> AppResult<Resource> {
    let fields = ResourceFields::from_draft(d, now);
    let row: ResourceRow = db_run!(conn => diesel::insert_into(resources::table)
        .values((&fields, resources::created_at.eq(now)))
        .returning(ResourceRow::as_returning())
        .get_result(conn))?;
    replace_hours(conn, row.id, &d.opening_hours)?;
    // The tariff given at creation is in force since always: its first version.
    super::pricing::set_tariff(
        conn,
        row.id,
        super::pricing::SINCE_ALWAYS,
        &d.tariff,
        None,
        now,
    )?;
    Ok(Resource {
        row,
        opening_hours: d.opening_hours.clone(),
    })
}

pub fn update(
    conn: &mut DbConn,
    id: ResourceId,
    d: &ResourceDraft,
    now: NaiveDateTime,
) -> AppResult<Resource> {
    let fields = ResourceFields::from_draft(d, now);
    // Its kind or approval rule may change what its bookings count for in the cost keys.
    super::allocation::forget_all_usage(conn)?;
    let row: ResourceRow = db_run!(conn => diesel::update(resources::table.find(id))
        .set(&fields)
        .returning(ResourceRow::as_returning())
        .get_result(conn))?;
    replace_hours(conn, id, &d.opening_hours)?;
    Ok(Resource {
        row,
        opening_hours: d.opening_hours.clone(),
    })
}

pub fn set_archived(
    conn: &mut DbConn,
    id: ResourceId,
    at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => diesel::update(resources::table.find(id))
        .set((
            resources::archived_at.eq(at),
            resources::updated_at.eq(now),
        ))
        .execute(conn))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: ResourceId) -> AppResult<Resource> {
    let row: ResourceRow = db_run!(conn => resources::table.find(id).select(ResourceRow::as_select()).get_result(conn))?;
    // Fixed-shape query (no IN list) so its prepared statement is reused: on every booking.
    let hours: Vec<(i32, i32, i32)> = db_run!(conn => opening_hours::table
        .filter(opening_hours::resource_id.eq(id))
        .select((opening_hours::weekday, opening_hours::open_minute, opening_hours::close_minute))
        .order((opening_hours::weekday.asc(), opening_hours::open_minute.asc()))
        .load(conn))?;
    Ok(Resource {
        opening_hours: hours
            .into_iter()
            .map(|h| OpeningSlot {
                weekday: h.0 as u8,
                open_minute: h.1 as u16,
                close_minute: h.2 as u16,
            })
            .collect(),
        row,
    })
}

/// Every resource the filter keeps, by kind then name (accents ignored).
pub fn list(conn: &mut DbConn, filter: &ResourceFilter) -> AppResult<Vec<Resource>> {
    page(conn, filter, 0, i64::MAX)
}

/// At most `limit` resources the filter keeps, after the first `offset`, by kind then name.
pub fn page(
    conn: &mut DbConn,
    filter: &ResourceFilter,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<Resource>> {
    let rows: Vec<ResourceRow> = db_run!(conn => {
        let q = resources_filtered!(filter, resources::table
            .select(ResourceRow::as_select())
            .order((resources::kind.asc(), resources::name_key.asc(), resources::id.asc()))
            .into_boxed());
        q.limit(limit).offset(offset).load(conn)
    })?;
    attach_hours(conn, rows)
}

/// How many resources the filter keeps, all pages together.
pub fn count_matching(conn: &mut DbConn, filter: &ResourceFilter) -> AppResult<i64> {
    Ok(
        db_run!(conn => resources_filtered!(filter, resources::table.into_boxed()).count().get_result(conn))?,
    )
}

fn attach_hours(conn: &mut DbConn, rows: Vec<ResourceRow>) -> AppResult<Vec<Resource>> {
    let ids: Vec<ResourceId> = rows.iter().map(|r| r.id).collect();
    let hours: Vec<(ResourceId, i32, i32, i32)> = db_run!(conn => opening_hours::table
        .filter(opening_hours::resource_id.eq_any(&ids))
        .select((opening_hours::resource_id, opening_hours::weekday, opening_hours::open_minute, opening_hours::close_minute))
        .order((opening_hours::weekday.asc(), opening_hours::open_minute.asc()))
        .load(conn))?;
    Ok(rows
        .into_iter()
        .map(|row| Resource {
            opening_hours: hours
                .iter()
                .filter(|h| h.0 == row.id)
                .map(|h| OpeningSlot {
                    weekday: h.1 as u8,
                    open_minute: h.2 as u16,
                    close_minute: h.3 as u16,
                })
                .collect(),
            row,
        })
        .collect())
}

/// The longest span booked on the resource and the rules epoch (raised by triggers on every
/// change of what the booking rules read of the settings: migration `rules_epoch`), in one
/// read: what a booking that kept its target from an earlier request reads under the lock.
pub fn span_and_epoch(conn: &mut DbConn, id: ResourceId) -> AppResult<(i32, i64)> {
    let (span, epoch): (i32, Option<i64>) = db_run!(conn => resources::table
        .find(id)
        .select((
            resources::longest_block_minutes,
            rules_epoch::table.select(rules_epoch::version).single_value(),
        ))
        .get_result(conn))?;
    Ok((span, epoch.unwrap_or(0)))
}

/// A shared employee's shifts version (raised by every write of its bookings, migration
/// `shifts_version`) and the longest span booked on it.
pub fn shifts_version(conn: &mut DbConn, id: ResourceId) -> AppResult<(i64, i32)> {
    Ok(db_run!(conn => resources::table
        .find(id)
        .select((resources::shifts_version, resources::longest_block_minutes))
        .get_result(conn))?)
}

/// The rules epoch alone (see `span_and_epoch`).
pub fn rules_epoch(conn: &mut DbConn) -> AppResult<i64> {
    Ok(db_run!(conn => rules_epoch::table.select(rules_epoch::version).get_result(conn))?)
}

/// The longest span ever booked on a resource, in minutes.
pub fn longest_block(conn: &mut DbConn, id: ResourceId) -> AppResult<i32> {
    Ok(
        db_run!(conn => resources::table.find(id).select(resources::longest_block_minutes).get_result(conn))?,
    )
}

/// The resource, its parts and its whole, if any: the rows a booking of it must lock. Empty
/// when the resource does not exist.
pub fn composition(conn: &mut DbConn, id: ResourceId) -> AppResult<Vec<ResourceId>> {
    let rows: Vec<(ResourceId, Option<ResourceId>)> = db_run!(conn => resources::table
        .filter(resources::id.eq(id).or(resources::parent_id.eq(id)))
        .select((resources::id, resources::parent_id))
        .load(conn))?;
    let mut ids: Vec<ResourceId> = rows.iter().map(|r| r.0).collect();
    ids.extend(rows.iter().filter(|r| r.0 == id).filter_map(|r| r.1));
    Ok(ids)
}

/// Ids of the parts of a composite resource.
pub fn children(conn: &mut DbConn, id: ResourceId) -> AppResult<Vec<ResourceId>> {
    Ok(
        db_run!(conn => resources::table.filter(resources::parent_id.eq(id)).select(resources::id).load(conn))?,
    )
}

/// What lists show of a resource beside other things, and what authorisation needs of it.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = resources)]
pub struct ResourceLabel {
    pub id: ResourceId,
    pub name: String,
    pub kind: ResourceKind,
    pub employer_member_id: Option<MemberId>,
}

/// Labels of these resources.
pub fn labels(conn: &mut DbConn, ids: &[ResourceId]) -> AppResult<Vec<ResourceLabel>> {
    Ok(db_run!(conn => resources::table
        .filter(resources::id.eq_any(ids))
        .select(ResourceLabel::as_select())
        .load(conn))?)
}

/// Active resources of one kind, id and name, in name order.
pub fn of_kind(
    conn: &mut DbConn,
    kind: ResourceKind,
    include_archived: bool,
) -> AppResult<Vec<(ResourceId, String)>> {
    Ok(db_run!(conn => {
        let mut q = resources::table
            .filter(resources::kind.eq(kind))
            .select((resources::id, resources::name))
            .order((resources::name_key.asc(), resources::id.asc()))
            .into_boxed();
        if !include_archived {
            q = q.filter(resources::archived_at.is_null());
        }
        q.load(conn)
    })?)
}

/// A resource of a kind as the alternatives to a refusal try it: its name, the longest span
/// booked on it and its shifts version (shared employees), read with the rules epoch for all
/// of them at once (see [`span_and_epoch`], [`shifts_version`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub id: ResourceId,
    pub name: String,
    pub span: i32,
    pub shifts_version: i64,
}

/// The first `limit` active resources of `kind` in name order, `except` left out, and the
/// rules epoch, in one statement of one shape (the few left out are dropped here: a list in
/// the statement would have it compiled again at every call on SQLite).
pub fn peers_of_kind(
    conn: &mut DbConn,
    kind: ResourceKind,
    except: &[ResourceId],
    limit: i64,
) -> AppResult<(i64, Vec<Peer>)> {
    type Row = (ResourceId, String, i32, i64, Option<i64>);
    let rows: Vec<Row> = db_run!(conn => resources::table
        .filter(resources::kind.eq(kind))
        .filter(resources::archived_at.is_null())
        .select((
            resources::id,
            resources::name,
            resources::longest_block_minutes,
            resources::shifts_version,
            rules_epoch::table.select(rules_epoch::version).single_value(),
        ))
        .order((resources::name_key.asc(), resources::id.asc()))
        .limit(limit.saturating_add(i64::try_from(except.len()).unwrap_or(i64::MAX)))
        .load(conn))?;
    let epoch = rows.first().and_then(|r| r.4).unwrap_or(0);
    let peers = rows
        .into_iter()
        .filter(|r| !except.contains(&r.0))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|(id, name, span, shifts_version, _)| Peer {
            id,
            name,
            span,
            shifts_version,
        })
        .collect();
    Ok((epoch, peers))
}

/// Every resource id, archived ones included.
pub fn all_ids(conn: &mut DbConn) -> AppResult<Vec<ResourceId>> {
    Ok(
        db_run!(conn => resources::table.select(resources::id).order(resources::id.asc()).load(conn))?,
    )
}

pub fn count(conn: &mut DbConn) -> AppResult<i64> {
    Ok(
        db_run!(conn => resources::table.filter(resources::archived_at.is_null()).count().get_result(conn))?,
    )
}

/// The kinds of the resources in the catalogue (archived ones aside), in the enum's order.
pub fn kinds_in_use(conn: &mut DbConn) -> AppResult<Vec<ResourceKind>> {
    let mut kinds: Vec<ResourceKind> = db_run!(conn => resources::table
        .filter(resources::archived_at.is_null())
        .select(resources::kind)
        .distinct()
        .load(conn))?;
    kinds.sort_by_key(|k| ResourceKind::ALL.iter().position(|x| x == k));
    Ok(kinds)
}
