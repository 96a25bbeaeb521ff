//! What the booking rules need from the database, loaded (and on PostgreSQL locked) inside the
//! write transaction: the resource and its rules, the parts or whole it is composed with, the
//! quotas that apply, the closures and the active bookings near a window.

use crate::app::authz;
use crate::app::kept::Kept;
use crate::domain::booking::{ClosurePeriod, ExistingBooking, ResourceRules, Usage};
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::labour;
use crate::domain::month::Month;
use crate::domain::quota::{Quota, QuotaScope};
use crate::domain::resource::ResourceKind;
use crate::domain::time::Interval;
use crate::error::{AppError, AppResult};
use crate::store::bookings as store;
use crate::store::resources::{self as resource_store, Resource};
use crate::store::{
    closures as closure_store, employees as employee_store, from_db, months as month_store,
    quotas as quota_store, to_db, Backend, DbConn,
};
use chrono::NaiveDateTime;

use super::BookingEnv;

/// What the working-time rules need of a shared employee.
#[derive(Clone, Debug)]
pub(crate) struct StaffRules {
    pub employee: labour::Employee,
    pub employer: Option<MemberId>,
    /// Members named in the mise-à-disposition agreements (empty: every member).
    pub agreements: Vec<MemberId>,
    /// The last day of a fixed-term contract.
    pub contract_end: Option<chrono::NaiveDate>,
    /// Where the employee hears about their assignments, if anywhere.
    pub email: Option<String>,
}

/// The booked resource as the rules see it.
#[derive(Clone)]
pub(crate) struct Target {
    pub resource: Resource,
    pub rules: ResourceRules,
    /// The whole and the parts this resource is composed with: their bookings block it fully.
    pub related: Vec<ResourceId>,
    pub longest_minutes: i64,
    /// Quotas that cover this resource, each with the resources it counts over.
    pub quotas: Vec<(Quota, Vec<ResourceId>)>,
    /// A shared employee: what working-time law needs.
    pub staff: Option<StaffRules>,
    /// Closures of this resource and of the whole pole, by start (a change of any raises the
    /// rules epoch, so a kept target's are current).
    pub closures: Vec<ClosurePeriod>,
    /// The months the treasurer closed, in order (closing or reopening one raises the rules
    /// epoch too).
    pub closed_months: Vec<Month>,
}

impl Target {
    pub fn id(&self) -> ResourceId {
        self.resource.row.id
    }

    pub fn kind(&self) -> ResourceKind {
        self.resource.row.kind
    }

    /// What authorisation needs to know of it.
    pub fn bookable(&self) -> authz::Bookable {
        authz::Bookable {
            kind: self.resource.row.kind,
            employer: self.resource.row.employer_member_id,
        }
    }

    pub fn name(&self) -> &str {
        &self.resource.row.name
    }

    /// The resource and its whole or parts: the resources whose bookings block it.
    pub fn blocking_ids(&self) -> Vec<ResourceId> {
        let mut ids = self.related.clone();
        ids.push(self.id());
        ids
    }

    /// The bookings that block this resource (its own, its whole's, its parts') over `window`,
    /// read by one of the store's readers of `bookings` (each reads only what its caller
    /// needs), the index scan bounded by the longest span ever booked on them.
    pub fn blocking_over<R>(
        &self,
        conn: &mut DbConn,
        window: Interval,
        read: BlockingReader<R>,
    ) -> AppResult<Vec<R>> {
        read(
            conn,
            &self.blocking_ids(),
            to_db(window.start),
            to_db(window.end),
            self.longest_minutes,
        )
    }

    /// The first of `months` (consecutive, in order) that is closed, as the target knows it.
    pub fn first_closed(&self, months: &[Month]) -> Option<Month> {
        months
            .iter()
            .find(|m| self.closed_months.binary_search(m).is_ok())
            .copied()
    }

    /// The closures that meet `window`.
    pub fn closures_over(&self, window: Interval) -> Vec<ClosurePeriod> {
        self.closures
            .iter()
            .filter(|c| c.interval.start < window.end && window.start < c.interval.end)
            .cloned()
            .collect()
    }

    /// Units of this resource a booking of `quantity` on `resource_id` holds: its own units on
    /// this resource, all of them on its whole or a part.
    pub fn units_held(&self, resource_id: ResourceId, quantity: i32) -> i32 {
        if resource_id == self.id() {
            quantity
        } else {
            self.rules.capacity
        }
    }
}

/// A reader of the bookings of some resources meeting `[from, to)`, given the longest span
/// ever booked on them (`store::bookings::active_spans`, `usage`, `active_blocking`).
pub(crate) type BlockingReader<R> =
    fn(&mut DbConn, &[ResourceId], NaiveDateTime, NaiveDateTime, i64) -> AppResult<Vec<R>>;

pub(crate) fn rules_of(r: &Resource, horizon_days: i32) -> ResourceRules {
    ResourceRules {
        capacity: r.row.capacity,
        min_duration_minutes: r.row.min_duration_minutes,
        max_duration_minutes: r.row.max_duration_minutes,
        buffer_before_minutes: r.row.buffer_before_minutes,
        buffer_after_minutes: r.row.buffer_after_minutes,
        opening_hours: r.opening_hours.clone(),
        allowed_categories: r.allowed_categories(),
        horizon_days,
        archived: r.row.archived_at.is_some(),
    }
}

/// Loads the target; an unknown resource is a field error of the request.
pub(crate) fn load(
    conn: &mut DbConn,
    resource_id: ResourceId,
    env: &BookingEnv,
) -> AppResult<Target> {
    let resource = match resource_store::find(conn, resource_id) {
        Err(AppError::NotFound) => {
            return Err(AppError::validation("resource_id", "Ressource inconnue."))
        }
        other => other?,
    };
    let mut related = resource_store::children(conn, resource_id)?;
    if let Some(parent) = resource.row.parent_id {
        related.push(parent);
    }
    let mut longest = i64::from(resource.row.longest_block_minutes);
    for id in &related {
        longest = longest.max(i64::from(resource_store::longest_block(conn, *id)?));
    }
    let kind = resource.row.kind;
    let mut quotas = Vec::new();
    for q in quota_store::list(conn)? {
        if !q.covers(resource_id, kind) {
            continue;
        }
        let scope = match q.scope {
            QuotaScope::Resource(r) => vec![r],
            QuotaScope::Kind(k) => resource_store::of_kind(conn, k, true)?
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
            QuotaScope::Everything => resource_store::all_ids(conn)?,
        };
        quotas.push((q, scope));
    }
    let staff = match kind {
        ResourceKind::Staff => {
            let facts = employee_store::find(conn, resource_id)?;
            Some(StaffRules {
                employee: labour::Employee {
                    birth_date: facts.birth_date,
                    weekly_contract_minutes: resource.row.weekly_contract_minutes.unwrap_or(0),
                },
                employer: resource.row.employer_member_id,
                agreements: facts.agreement_member_ids,
                contract_end: facts.contract_end,
                email: facts.email.filter(|e| !e.trim().is_empty()),
            })
        }
        _ => None,
    };
    let closures = closures_of(closure_store::list(conn, Some(resource_id), None, None)?);
    Ok(Target {
        closures,
        closed_months: month_store::all_closed(conn)?,
        rules: rules_of(&resource, env.horizon_days),
        related,
        longest_minutes: longest,
        quotas,
        staff,
        resource,
    })
}

/// Booking targets kept between requests, by resource, each with the rules epoch it was read
/// at (`store::resources::span_and_epoch`: triggers raise the epoch in the transaction of any
/// change of what the rules read of the settings). A booking on a kept target reads only the
/// epoch and the spans under the lock, and the whole target again once the epoch moved. One
/// entry per resource booked.
#[derive(Default)]
pub struct TargetCache(Kept<ResourceId, Target>);

impl TargetCache {
    /// What the working-time rules knew of the resource as a shared employee when it was last
    /// kept; `None` for any other resource (a hint: the booking itself reads the target under
    /// the lock and judges again whatever was judged for other rules).
    pub(crate) fn kept_employee(&self, resource_id: ResourceId) -> Option<labour::Employee> {
        self.0
            .inspect(&resource_id, |t| t.staff.as_ref().map(|s| s.employee))
            .flatten()
    }

    /// Keeps a target a write read whole, once that write has committed.
    pub(crate) fn keep_committed(&self, read: ReadTarget) {
        self.0.keep(read.resource_id, read.epoch, read.target);
    }
}

/// The kept targets as one write transaction uses them: a kept target is used under the lock,
/// but one read whole inside the transaction is kept only once the write has committed
/// ([`TargetCache::keep_committed`] with [`WriteTargets::into_read`]). Kept at once, a target
/// read in a SQLite batch after another job's uncommitted change of the rules would outlive
/// the batch should it fail, stamped with an epoch that the next real change takes again.
pub struct WriteTargets<'a> {
    cache: &'a TargetCache,
    read: Option<ReadTarget>,
}

/// A target read whole inside a write, with the rules epoch read before it.
pub struct ReadTarget {
    resource_id: ResourceId,
    epoch: i64,
    target: Target,
}

impl<'a> WriteTargets<'a> {
    pub fn new(cache: &'a TargetCache) -> Self {
        WriteTargets { cache, read: None }
    }

    /// The target read whole, to keep once the write has committed.
    pub fn into_read(self) -> Option<ReadTarget> {
        self.read
    }
}

/// The target as the rules must see it under the write lock (`BEGIN IMMEDIATE` on SQLite; on
/// PostgreSQL the rows of the resource and of the parts or whole it is composed with, locked
/// `FOR UPDATE` before anything is read, so nothing the rules read can change before the
/// commit). With `kept`, a target kept from an earlier booking is used when the rules epoch
/// has not moved since (PostgreSQL locks its composition first, then reads the epoch: a change
/// that committed meanwhile is seen); otherwise the target is read whole, to be kept once the
/// write has committed. `months` are held in shared mode with the first lock (PostgreSQL:
/// `store::bookings::lock_resources_holding`), before the epoch is read: no close of them can
/// commit before this write, so what the target knows of them holds until then
/// (`rules::MonthLocks::holding`).
pub(crate) fn under_lock(
    conn: &mut DbConn,
    resource_id: ResourceId,
    kept: Option<&mut WriteTargets>,
    env: &BookingEnv,
    months: &[Month],
) -> AppResult<Target> {
    let Some(kept) = kept else {
        return read_whole(conn, resource_id, env, months);
    };
    let lock = Lock::Take { months };
    let (target, read_at) = kept_or_read(conn, resource_id, kept.cache, env, lock)?;
    if let Some(epoch) = read_at {
        kept.read = Some(ReadTarget {
            resource_id,
            epoch,
            target: target.clone(),
        });
    }
    Ok(target)
}

/// The target as a read-only use case sees it (the alternatives to a refusal): the kept one
/// while the rules epoch has not moved, read whole and kept otherwise; nothing locked. What
/// it reads is advice: a booking made from it is judged again under the lock.
pub(crate) fn kept(
    conn: &mut DbConn,
    resource_id: ResourceId,
    cache: &TargetCache,
    env: &BookingEnv,
) -> AppResult<Target> {
    // On a reader connection: what is read has committed, and is kept at once.
    let (target, read_at) = kept_or_read(conn, resource_id, cache, env, Lock::Leave)?;
    if let Some(epoch) = read_at {
        cache.0.keep(resource_id, epoch, target.clone());
    }
    Ok(target)
}

/// [`kept`] with the resource's span and the rules epoch read already (with those of the other
/// resources tried, `store::resources::peers_of_kind`): nothing more is read when the kept
/// target is at that epoch.
pub(crate) fn kept_at(
    conn: &mut DbConn,
    resource_id: ResourceId,
    cache: &TargetCache,
    env: &BookingEnv,
    (span, epoch): (i32, i64),
) -> AppResult<Target> {
    match cache.0.at(&resource_id, epoch) {
        Some(target) => with_spans(conn, target, span),
        None => kept(conn, resource_id, cache, env),
    }
}

/// Whether the target's composition is locked before it is read (the write path), with the
/// months to hold in shared mode.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lock<'m> {
    Take { months: &'m [Month] },
    Leave,
}

/// The kept target while the rules epoch has not moved, or the target read whole with the
/// epoch it was read at (for the caller to keep: at once on a reader, after the commit on a
/// write).
fn kept_or_read(
    conn: &mut DbConn,
    resource_id: ResourceId,
    cache: &TargetCache,
    env: &BookingEnv,
    lock: Lock,
) -> AppResult<(Target, Option<i64>)> {
    if let Some((epoch, target)) = cache.0.get(&resource_id) {
        if let Lock::Take { months } = lock {
            store::lock_resources_holding(conn, &target.blocking_ids(), months)?;
        }
        let (span, now) = resource_store::span_and_epoch(conn, resource_id)?;
        if now == epoch {
            return Ok((with_spans(conn, target, span)?, None));
        }
    }
    // Read before the target: a change committed in between only makes the kept target newer
    // than its epoch, and the next booking reads it again.
    let epoch = resource_store::rules_epoch(conn)?;
    let target = match lock {
        Lock::Take { months } => read_whole(conn, resource_id, env, months)?,
        Lock::Leave => load(conn, resource_id, env)?,
    };
    Ok((target, Some(epoch)))
}

fn read_whole(
    conn: &mut DbConn,
    resource_id: ResourceId,
    env: &BookingEnv,
    months: &[Month],
) -> AppResult<Target> {
    match conn.backend() {
        Backend::Sqlite => load(conn, resource_id, env),
        Backend::Postgres => lock_and_load(conn, resource_id, env, months),
    }
}

/// The longest span of the resource (`span`, just read) and of its parts bounds the overlap
/// query: it changes with bookings, so it is read under the lock.
fn with_spans(conn: &mut DbConn, mut target: Target, span: i32) -> AppResult<Target> {
    target.resource.row.longest_block_minutes = span;
    let mut longest = i64::from(span);
    for id in &target.related {
        longest = longest.max(i64::from(resource_store::longest_block(conn, *id)?));
    }
    target.longest_minutes = longest;
    Ok(target)
}

/// PostgreSQL: locks the rows of the resource, its parts and its whole (`FOR UPDATE`, in id
/// order), then reads the target under those locks, so nothing the rules read can change
/// before the commit. The composition can change between reading it and locking it (a part
/// attached meanwhile): it is read again until every related row is locked. Rows locked on a
/// later pass may break the id order; PostgreSQL then reports a deadlock and `Db::write`
/// retries the whole transaction.
fn lock_and_load(
    conn: &mut DbConn,
    resource_id: ResourceId,
    env: &BookingEnv,
    months: &[Month],
) -> AppResult<Target> {
    let mut locked: Vec<ResourceId> = Vec::new();
    for _ in 0..3 {
        let mut ids = resource_store::composition(conn, resource_id)?;
        ids.retain(|id| !locked.contains(id));
        // The months with the first rows (taken again, they are already held).
        let holding = if locked.is_empty() { months } else { &[] };
        store::lock_resources_holding(conn, &ids, holding)?;
        locked.extend(ids);
        let target = load(conn, resource_id, env)?;
        if target
            .related
            .iter()
            .chain([&resource_id])
            .all(|id| locked.contains(id))
        {
            return Ok(target);
        }
    }
    Err(AppError::Unavailable(
        "La composition de la ressource change en ce moment : réessayez.".into(),
    ))
}

/// Raises the resource's longest blocked span (the bound of the overlap queries) when `block`
/// is longer. The span was read under the lock, so the usual booking, no longer than the
/// longest so far, costs no statement.
pub(crate) fn note_block(conn: &mut DbConn, target: &Target, block: Interval) -> AppResult<()> {
    let minutes = block.duration().num_minutes() + 1;
    if minutes <= i64::from(target.resource.row.longest_block_minutes) {
        return Ok(());
    }
    store::note_span(conn, target.id(), minutes)
}

pub(crate) fn closures_over(
    conn: &mut DbConn,
    resource_id: ResourceId,
    window: Interval,
) -> AppResult<Vec<ClosurePeriod>> {
    Ok(closures_of(closure_store::overlapping(
        conn,
        resource_id,
        to_db(window.start),
        to_db(window.end),
    )?))
}

fn closures_of(rows: Vec<closure_store::Closure>) -> Vec<ClosurePeriod> {
    rows.into_iter()
        .filter_map(|c| {
            Some(ClosurePeriod {
                interval: Interval::new(from_db(c.start_at), from_db(c.end_at))?,
                reason: c.reason,
            })
        })
        .collect()
}

/// Active bookings that can interact with `window`, as the rules see them: a booked whole or
/// part takes this resource entirely.
pub(crate) fn existing_over(
    conn: &mut DbConn,
    target: &Target,
    window: Interval,
) -> AppResult<Vec<ExistingBooking>> {
    let rows = target.blocking_over(conn, window, store::active_spans)?;
    Ok(rows
        .iter()
        .filter_map(|b| {
            Some(ExistingBooking {
                id: b.id,
                member_id: b.member_id,
                interval: Interval::new(from_db(b.start_at), from_db(b.end_at))?,
                quantity: target.units_held(b.resource_id, b.quantity),
            })
        })
        .collect())
}

/// What free time needs of the same bookings as [`existing_over`] (when and how many units),
/// plus a few that ended before `window`, which the free-time sweep leaves out by itself.
pub(crate) fn usage_over(
    conn: &mut DbConn,
    target: &Target,
    window: Interval,
) -> AppResult<Vec<Usage>> {
    let rows = target.blocking_over(conn, window, store::usage)?;
    Ok(rows
        .iter()
        .filter_map(|b| {
            Some(Usage {
                interval: Interval::new(from_db(b.start_at), from_db(b.end_at))?,
                quantity: target.units_held(b.resource_id, b.quantity),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;
    use crate::store::scratch::{self, sql};

    fn capacity_under_lock(
        conn: &mut DbConn,
        cache: &TargetCache,
        env: &BookingEnv,
    ) -> AppResult<(i32, Option<ReadTarget>)> {
        let mut kept = WriteTargets::new(cache);
        let target = under_lock(conn, ResourceId(1), Some(&mut kept), env, &[])?;
        Ok((target.rules.capacity, kept.into_read()))
    }

    /// A target read inside a write that rolls back is not kept: the rules epoch it was read
    /// at is taken again by the next real change, which would then find the settings rolled
    /// back (a change of the rules and a booking in one SQLite batch that fails as a whole).
    #[test]
    fn a_target_read_in_a_write_rolled_back_is_not_kept() {
        let (_dir, db) = scratch::database();
        let mut conn = db.get().unwrap();
        sql(
            &mut conn,
            "INSERT INTO resources (id, kind, name, capacity, created_at, updated_at) \
             VALUES (1, 'room', 'Salle A', 1, '2027-01-01 00:00:00', '2027-01-01 00:00:00')",
        );
        let env = BookingEnv {
            tz: chrono_tz::Europe::Paris,
            now: "2027-01-04T08:00:00Z".parse().unwrap(),
            horizon_days: 365,
        };
        let cache = TargetCache::default();

        let failed = conn.write(|c| {
            sql(c, "UPDATE resources SET capacity = 3 WHERE id = 1");
            let (capacity, _) = capacity_under_lock(c, &cache, &env)?;
            assert_eq!(capacity, 3);
            Err::<(), _>(AppError::internal("the batch failed"))
        });
        assert!(failed.is_err());

        // Another change takes the same epoch for real: the capacity is still 1.
        sql(
            &mut conn,
            "UPDATE resources SET name = 'Salle B' WHERE id = 1",
        );
        let (capacity, read) = conn
            .write(|c| capacity_under_lock(c, &cache, &env))
            .unwrap();
        assert_eq!(capacity, 1);
        // Read whole, kept once committed: the next write uses it without reading it again.
        cache.keep_committed(read.expect("read whole"));
        let (capacity, read) = conn
            .write(|c| capacity_under_lock(c, &cache, &env))
            .unwrap();
        assert_eq!(capacity, 1);
        assert!(read.is_none(), "the kept target was read again");
    }
}
