//! Bookings and recurring series.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::members::Member;
use super::months::{lock_months_shared, MONTH_LOCK_SPACE};
use super::resources::ResourceRow;
use super::schema::{bookings, members, resources, series};
use super::types::StoredInstant;
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{BookingId, MemberId, ResourceId, SeriesId, UserId};
use crate::domain::labour::Activity;
use crate::domain::month::Month;
use crate::domain::resource::ResourceKind;
use crate::domain::status::BookingStatus;
use crate::domain::text::{fold, Search};
use crate::error::AppResult;

const PENDING: BookingStatus = BookingStatus::Pending;
const CONFIRMED: BookingStatus = BookingStatus::Confirmed;
const ACTIVE: [BookingStatus; 2] = BookingStatus::ACTIVE;

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = bookings)]
pub struct BookingRow {
    pub id: BookingId,
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub created_by: Option<UserId>,
    pub series_id: Option<SeriesId>,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub block_start_at: NaiveDateTime,
    pub block_end_at: NaiveDateTime,
    pub quantity: i32,
    pub exclusive: bool,
    pub status: BookingStatus,
    pub purpose: String,
    pub beneficiary: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub cancelled_at: Option<NaiveDateTime>,
    pub cancelled_by: Option<UserId>,
    pub activity: Activity,
    /// Revision: grows on every change (iCalendar SEQUENCE).
    pub sequence: i32,
}

/// `None` is written as NULL, not as `DEFAULT`: one statement shape, so diesel keeps it prepared
/// (with `DEFAULT` for absent values it is compiled again on every booking).
#[derive(Debug, Insertable)]
#[diesel(table_name = bookings, treat_none_as_default_value = false)]
pub struct NewBooking<'a> {
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub created_by: Option<UserId>,
    pub series_id: Option<SeriesId>,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub block_start_at: NaiveDateTime,
    pub block_end_at: NaiveDateTime,
    pub quantity: i32,
    pub exclusive: bool,
    pub status: BookingStatus,
    pub purpose: &'a str,
    pub beneficiary: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub activity: Activity,
}

pub fn insert(conn: &mut DbConn, b: &NewBooking) -> AppResult<BookingRow> {
    super::allocation::forget_usage(conn, &[b.start_at])?;
    let purpose_key = fold(b.purpose);
    Ok(db_run!(conn => diesel::insert_into(bookings::table)
        .values((b, bookings::purpose_key.eq(&purpose_key)))
        .returning(BookingRow::as_returning())
        .get_result(conn))?)
}

pub fn find(conn: &mut DbConn, id: BookingId) -> AppResult<BookingRow> {
    Ok(db_run!(conn => bookings::table.find(id).select(BookingRow::as_select()).get_result(conn))?)
}

/// Locks resource rows until the transaction ends, in id order so two writers never wait on
/// each other in a cycle. SQLite needs nothing: `BEGIN IMMEDIATE` already holds the database.
pub fn lock_resources(conn: &mut DbConn, ids: &[ResourceId]) -> AppResult<()> {
    if let DbConn::Postgres(c) = conn {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        let c: &mut diesel::PgConnection = &mut *c;
        resources::table
            .filter(resources::id.eq_any(&ids))
            .order(resources::id.asc())
            .select(resources::id)
            .for_update()
            .load::<ResourceId>(c)?;
    }
    Ok(())
}

/// [`lock_resources`], and in the same statement the months in shared mode
/// (`months::lock_open`): before the booking reads the rules epoch, no close of those months
/// can commit until it does. One round trip for both on every booking.
pub fn lock_resources_holding(
    conn: &mut DbConn,
    ids: &[ResourceId],
    months: &[Month],
) -> AppResult<()> {
    if months.is_empty() {
        return lock_resources(conn, ids);
    }
    if let DbConn::Postgres(c) = conn {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        let keys: Vec<i32> = months.iter().map(|m| m.key()).collect();
        let c: &mut diesel::PgConnection = &mut *c;
        resources::table
            .filter(resources::id.eq_any(&ids))
            .filter(lock_months_shared(MONTH_LOCK_SPACE, keys).eq(0))
            .order(resources::id.asc())
            .select(resources::id)
            .for_update()
            .load::<ResourceId>(c)?;
    }
    Ok(())
}

/// Active bookings of one resource whose blocked span meets `[from, to)` and starts at or
/// after `lower`. One query per resource, of a fixed shape: diesel keeps its prepared
/// statement (a variable-length IN list would be prepared again on every booking).
macro_rules! active_meeting {
    ($id:expr, $lower:expr, $from:expr, $to:expr) => {
        bookings::table
            .filter(bookings::resource_id.eq($id))
            .filter(bookings::block_start_at.ge($lower))
            .filter(bookings::block_start_at.lt($to))
            .filter(bookings::block_end_at.gt($from))
            .filter(
                bookings::status
                    .eq(PENDING)
                    .or(bookings::status.eq(CONFIRMED)),
            )
    };
}

/// Active bookings of these resources whose blocked span meets `[from, to)`. The lower bound
/// on `block_start_at` (from − the longest span ever booked there) keeps the index scan short.
pub fn active_blocking(
    conn: &mut DbConn,
    resource_ids: &[ResourceId],
    from: NaiveDateTime,
    to: NaiveDateTime,
    longest_minutes: i64,
) -> AppResult<Vec<BookingRow>> {
    let lower = from - chrono::Duration::minutes(longest_minutes.max(0));
    let mut out = Vec::new();
    for id in resource_ids {
        let rows: Vec<BookingRow> = db_run!(conn => active_meeting!(*id, lower, from, to)
            .select(BookingRow::as_select())
            .load(conn))?;
        out.extend(rows);
    }
    Ok(out)
}

/// What the capacity rule needs of an existing booking: no text, two timestamps.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = bookings)]
pub struct BookingSpan {
    pub id: BookingId,
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    #[diesel(deserialize_as = StoredInstant)]
    pub start_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredInstant)]
    pub end_at: NaiveDateTime,
    pub quantity: i32,
}

/// `active_blocking` reduced to `BookingSpan`s, for the rule checks on every booking: SQLite
/// stores timestamps as text, and parsing the full rows' six of them was a tenth of the
/// server's time under booking load.
pub fn active_spans(
    conn: &mut DbConn,
    resource_ids: &[ResourceId],
    from: NaiveDateTime,
    to: NaiveDateTime,
    longest_minutes: i64,
) -> AppResult<Vec<BookingSpan>> {
    let lower = from - chrono::Duration::minutes(longest_minutes.max(0));
    let mut out = Vec::new();
    for id in resource_ids {
        let rows: Vec<BookingSpan> = db_run!(conn => active_meeting!(*id, lower, from, to)
            .select(BookingSpan::as_select())
            .load(conn))?;
        out.extend(rows);
    }
    Ok(out)
}

/// What free time needs of an existing booking: which resource (this one, its whole or a
/// part), when, and how many units.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = bookings)]
pub struct UsageRow {
    pub resource_id: ResourceId,
    #[diesel(deserialize_as = StoredInstant)]
    pub start_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredInstant)]
    pub end_at: NaiveDateTime,
    pub quantity: i32,
}

/// The availability view's read: active bookings of these resources whose blocked span starts
/// in `[from - longest, to)`, four columns each, straight from the covering index. Unlike
/// [`active_spans`] it leaves out neither the few that ended before `from` (the caller's
/// overlap test does) nor anything else: on SQLite each comparison on a timestamp column
/// first tries to read the text as a number, and a month of a dense pool is ~2 000 rows.
pub fn usage(
    conn: &mut DbConn,
    resource_ids: &[ResourceId],
    from: NaiveDateTime,
    to: NaiveDateTime,
    longest_minutes: i64,
) -> AppResult<Vec<UsageRow>> {
    let lower = from - chrono::Duration::minutes(longest_minutes.max(0));
    let mut out = Vec::new();
    for id in resource_ids {
        let rows: Vec<UsageRow> = db_run!(conn => bookings::table
            .filter(bookings::resource_id.eq(*id))
            .filter(bookings::block_start_at.ge(lower))
            .filter(bookings::block_start_at.lt(to))
            .filter(bookings::status.eq(PENDING).or(bookings::status.eq(CONFIRMED)))
            .select(UsageRow::as_select())
            .load(conn))?;
        out.extend(rows);
    }
    Ok(out)
}

/// Raises the resource's longest blocked span if this booking is longer.
pub fn note_span(conn: &mut DbConn, resource_id: ResourceId, minutes: i64) -> AppResult<()> {
    let minutes = i32::try_from(minutes).unwrap_or(i32::MAX);
    db_run!(conn => diesel::update(resources::table.find(resource_id).filter(resources::longest_block_minutes.lt(minutes)))
        .set(resources::longest_block_minutes.eq(minutes))
        .execute(conn))?;
    Ok(())
}

/// What the working-time rules need of an employee's booking.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = bookings)]
pub struct StoredShift {
    pub id: BookingId,
    #[diesel(deserialize_as = StoredInstant)]
    pub start_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredInstant)]
    pub end_at: NaiveDateTime,
    pub activity: Activity,
}

/// The active bookings of one employee (a staff resource) meeting `[from, to)`, at every
/// member, in time order. `longest_minutes` (the longest span ever booked on it) bounds the
/// index scan, so only the weeks asked for are read, never the employee's whole history.
///
/// The database only walks the index range; the overlap test and the order are done here.
/// On SQLite each of those comparisons on a timestamp column first tries to read the text as
/// a number, and an `ORDER BY start_at` copies every row through a sorter: together they were
/// two thirds of the query's time on the ~110 shifts a working-time check reads.
pub fn shifts(
    conn: &mut DbConn,
    resource_id: ResourceId,
    from: NaiveDateTime,
    to: NaiveDateTime,
    longest_minutes: i64,
) -> AppResult<Vec<StoredShift>> {
    let lower = from - chrono::Duration::minutes(longest_minutes.max(0));
    let mut rows: Vec<StoredShift> = db_run!(conn => bookings::table
        .filter(bookings::resource_id.eq(resource_id))
        .filter(bookings::block_start_at.ge(lower))
        .filter(bookings::block_start_at.lt(to))
        .filter(bookings::status.eq(PENDING).or(bookings::status.eq(CONFIRMED)))
        .select(StoredShift::as_select())
        .load(conn))?;
    rows.retain(|s| s.start_at < to && s.end_at > from);
    rows.sort_unstable_by_key(|s| (s.start_at, s.id));
    Ok(rows)
}

/// An employee's booking as the planning and the hours ledger read it.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = bookings)]
pub struct StaffShift {
    pub id: BookingId,
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub series_id: Option<SeriesId>,
    #[diesel(deserialize_as = StoredInstant)]
    pub start_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredInstant)]
    pub end_at: NaiveDateTime,
    pub status: BookingStatus,
    pub activity: Activity,
    pub purpose: String,
}

/// The active bookings of these employees meeting `[from, to)`, at every member, in time
/// order. The longest span ever booked on them bounds the index scan.
pub fn staff_shifts(
    conn: &mut DbConn,
    resource_ids: &[ResourceId],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<StaffShift>> {
    let mut out = Vec::new();
    for ids in resource_ids.chunks(500) {
        let longest: Option<i32> = db_run!(conn => resources::table
            .filter(resources::id.eq_any(ids))
            .select(diesel::dsl::max(resources::longest_block_minutes))
            .get_result(conn))?;
        let lower = from - chrono::Duration::minutes(i64::from(longest.unwrap_or(0).max(0)));
        let rows: Vec<StaffShift> = db_run!(conn => bookings::table
            .filter(bookings::resource_id.eq_any(ids))
            .filter(bookings::block_start_at.ge(lower))
            .filter(bookings::block_start_at.lt(to))
            .filter(bookings::start_at.lt(to))
            .filter(bookings::end_at.gt(from))
            .filter(bookings::status.eq_any(ACTIVE))
            .select(StaffShift::as_select())
            .load(conn))?;
        out.extend(rows);
    }
    out.sort_by_key(|s| (s.start_at, s.id));
    Ok(out)
}

/// A booking's times and the span it blocks.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = bookings)]
pub struct StoredBlock {
    pub id: BookingId,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub block_start_at: NaiveDateTime,
    pub block_end_at: NaiveDateTime,
}

/// The blocked spans of a resource's active bookings ending after `since`, to bring them in
/// line with new buffers.
pub fn blocks_after(
    conn: &mut DbConn,
    resource_id: ResourceId,
    since: NaiveDateTime,
) -> AppResult<Vec<StoredBlock>> {
    Ok(db_run!(conn => bookings::table
        .filter(bookings::resource_id.eq(resource_id))
        .filter(bookings::status.eq_any(ACTIVE))
        .filter(bookings::block_end_at.gt(since))
        .select(StoredBlock::as_select())
        .load(conn))?)
}

pub fn set_block(
    conn: &mut DbConn,
    id: BookingId,
    block_start: NaiveDateTime,
    block_end: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => diesel::update(bookings::table.find(id))
        .set((bookings::block_start_at.eq(block_start), bookings::block_end_at.eq(block_end)))
        .execute(conn))?;
    Ok(())
}

/// Where a listing resumes: after this start and id (keyset pagination, stable under inserts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub start_at: NaiveDateTime,
    pub id: BookingId,
}

#[derive(Debug, Default, Clone)]
pub struct BookingFilter {
    pub resource_ids: Option<Vec<ResourceId>>,
    pub member_ids: Option<Vec<MemberId>>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub statuses: Option<Vec<BookingStatus>>,
    pub series_id: Option<SeriesId>,
    /// Bookings of resources of this kind.
    pub kind: Option<ResourceKind>,
    /// Text found in the resource's name, the member's name or the purpose (accents and case
    /// ignored, see `domain::text`).
    pub search: Option<Search>,
    /// Whose purposes the search may look into (`None`: everyone's). Others' purposes are not
    /// shown to the caller, so they must not be findable either.
    pub purpose_of: Option<Vec<MemberId>>,
    /// Which assignments of shared employees to keep (`None`: all of them): see `StaffSeen`.
    pub staff_seen: Option<StaffSeen>,
}

/// The assignments of shared employees a caller may see: those at these members, and those of
/// the employees of these groups. Bookings of other resources are kept whatever it says.
#[derive(Debug, Clone, Default)]
pub struct StaffSeen {
    pub members: Vec<MemberId>,
    pub employers: Vec<MemberId>,
}

macro_rules! filtered {
    ($f:expr, $q:expr) => {{
        let f = $f;
        let mut q = $q;
        if let Some(r) = &f.resource_ids {
            q = q.filter(bookings::resource_id.eq_any(r.clone()));
        }
        if let Some(m) = &f.member_ids {
            q = q.filter(bookings::member_id.eq_any(m.clone()));
        }
        if let Some(from) = f.from {
            // No booking lasts more than 366 days: the start bound keeps the scan on the index.
            q = q
                .filter(bookings::end_at.gt(from))
                .filter(bookings::start_at.gt(from - chrono::Duration::days(367)));
        }
        if let Some(to) = f.to {
            q = q.filter(bookings::start_at.lt(to));
        }
        if let Some(s) = &f.statuses {
            q = q.filter(bookings::status.eq_any(s.clone()));
        }
        if let Some(s) = f.series_id {
            q = q.filter(bookings::series_id.eq(s));
        }
        if let Some(k) = f.kind {
            q = q.filter(
                bookings::resource_id.eq_any(
                    resources::table
                        .filter(resources::kind.eq(k))
                        .select(resources::id),
                ),
            );
        }
        if let Some(seen) = &f.staff_seen {
            let staff = resources::table
                .filter(resources::kind.eq(ResourceKind::Staff))
                .select(resources::id);
            let employed = resources::table
                .filter(resources::employer_member_id.eq_any(seen.employers.clone()))
                .select(resources::id);
            q = q.filter(
                diesel::dsl::not(bookings::resource_id.eq_any(staff))
                    .or(bookings::member_id.eq_any(seen.members.clone()))
                    .or(bookings::resource_id.eq_any(employed)),
            );
        }
        if let Some(search) = &f.search {
            let pattern = search.like_pattern();
            let by_resource = bookings::resource_id.eq_any(
                resources::table
                    .filter(resources::name_key.like(pattern.clone()).escape('\\'))
                    .select(resources::id),
            );
            let by_member = bookings::member_id.eq_any(
                members::table
                    .filter(members::name_key.like(pattern.clone()).escape('\\'))
                    .select(members::id),
            );
            let purpose = bookings::purpose_key.like(pattern).escape('\\');
            q = match &f.purpose_of {
                None => q.filter(by_resource.or(by_member).or(purpose)),
                Some(ids) => q.filter(
                    by_resource
                        .or(by_member)
                        .or(purpose.and(bookings::member_id.eq_any(ids.clone()))),
                ),
            };
        }
        q
    }};
}

/// The active (pending or confirmed) bookings of a resource that end after `since`, by start:
/// what a change of the resource or of its employee would touch.
pub fn active_after(
    conn: &mut DbConn,
    resource_id: ResourceId,
    since: NaiveDateTime,
) -> AppResult<Vec<BookingRow>> {
    list(
        conn,
        &BookingFilter {
            resource_ids: Some(vec![resource_id]),
            from: Some(since),
            statuses: Some(ACTIVE.to_vec()),
            ..Default::default()
        },
        None,
        i64::MAX,
    )
}

/// Bookings in start order, at most `limit` of them, resuming after `after`.
pub fn list(
    conn: &mut DbConn,
    f: &BookingFilter,
    after: Option<After>,
    limit: i64,
) -> AppResult<Vec<BookingRow>> {
    list_from(conn, f, after, 0, limit)
}

/// As `list`, skipping the first `offset` rows (numbered pages).
pub fn list_from(
    conn: &mut DbConn,
    f: &BookingFilter,
    after: Option<After>,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<BookingRow>> {
    Ok(db_run!(conn => {
        let mut q = filtered!(f, bookings::table
            .select(BookingRow::as_select())
            .order((bookings::start_at.asc(), bookings::id.asc()))
            .into_boxed());
        if let Some(a) = after {
            q = q.filter(
                bookings::start_at
                    .gt(a.start_at)
                    .or(bookings::start_at.eq(a.start_at).and(bookings::id.gt(a.id))),
            );
        }
        q.limit(limit).offset(offset).load(conn)
    })?)
}

pub fn count(conn: &mut DbConn, f: &BookingFilter) -> AppResult<i64> {
    Ok(db_run!(conn => filtered!(f, bookings::table.into_boxed()).count().get_result(conn))?)
}

/// Records a decision on a booking still pending; `NotFound` when it no longer is (another
/// writer decided first).
pub fn decide(
    conn: &mut DbConn,
    id: BookingId,
    status: BookingStatus,
    reason: Option<&str>,
    decided_by: UserId,
    now: NaiveDateTime,
) -> AppResult<BookingRow> {
    let row: BookingRow = db_run!(conn => diesel::update(bookings::table.find(id).filter(bookings::status.eq(PENDING)))
        .set((
            bookings::status.eq(status),
            bookings::decision_reason.eq(reason),
            bookings::decided_by.eq(Some(decided_by)),
            bookings::decided_at.eq(Some(now)),
            bookings::updated_at.eq(now),
            bookings::sequence.eq(bookings::sequence + 1),
        ))
        .returning(BookingRow::as_returning())
        .get_result(conn))?;
    super::allocation::forget_usage(conn, &[row.start_at])?;
    Ok(row)
}

/// Cancels an active booking; `NotFound` when it is no longer active. With a `reason` (the
/// resource changed under it: a closure, a lowered capacity…) the reason is recorded as the
/// decision's; without, any approval decision is kept as it was.
pub fn cancel(
    conn: &mut DbConn,
    id: BookingId,
    by: UserId,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> AppResult<BookingRow> {
    let row: BookingRow = db_run!(conn => diesel::update(bookings::table.find(id).filter(bookings::status.eq_any(ACTIVE)))
        .set((
            bookings::status.eq(BookingStatus::Cancelled),
            reason.map(|r| bookings::decision_reason.eq(r)),
            bookings::cancelled_by.eq(Some(by)),
            bookings::cancelled_at.eq(Some(now)),
            bookings::updated_at.eq(now),
            bookings::sequence.eq(bookings::sequence + 1),
        ))
        .returning(BookingRow::as_returning())
        .get_result(conn))?;
    super::allocation::forget_usage(conn, &[row.start_at])?;
    Ok(row)
}

pub struct Move<'a> {
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub block_start_at: NaiveDateTime,
    pub block_end_at: NaiveDateTime,
    pub quantity: i32,
    pub purpose: &'a str,
    pub beneficiary: Option<&'a str>,
    /// Back to a request awaiting a decision (`domain::status::status_after_move`): the
    /// earlier decision is forgotten.
    pub to_request: bool,
}

pub fn apply_move(
    conn: &mut DbConn,
    id: BookingId,
    m: &Move,
    now: NaiveDateTime,
) -> AppResult<BookingRow> {
    let before: NaiveDateTime =
        db_run!(conn => bookings::table.find(id).select(bookings::start_at).get_result(conn))?;
    let purpose_key = fold(m.purpose);
    super::allocation::forget_usage(conn, &[before, m.start_at])?;
    if m.to_request {
        db_run!(conn => diesel::update(bookings::table.find(id).filter(bookings::status.eq_any(ACTIVE)))
            .set((
                bookings::status.eq(BookingStatus::Pending),
                bookings::decided_by.eq(None::<i64>),
                bookings::decided_at.eq(None::<NaiveDateTime>),
                bookings::decision_reason.eq(None::<String>),
            ))
            .execute(conn))?;
    }
    Ok(
        db_run!(conn => diesel::update(bookings::table.find(id).filter(bookings::status.eq_any(ACTIVE)))
        .set((
            bookings::start_at.eq(m.start_at),
            bookings::end_at.eq(m.end_at),
            bookings::block_start_at.eq(m.block_start_at),
            bookings::block_end_at.eq(m.block_end_at),
            bookings::quantity.eq(m.quantity),
            bookings::purpose.eq(m.purpose),
            bookings::purpose_key.eq(&purpose_key),
            bookings::beneficiary.eq(m.beneficiary),
            bookings::updated_at.eq(now),
            bookings::sequence.eq(bookings::sequence + 1),
        ))
        .returning(BookingRow::as_returning())
        .get_result(conn))?,
    )
}

/// Rejects one pending booking with `reason` and no decider (the automatic rejection).
pub fn reject_overdue(
    conn: &mut DbConn,
    id: BookingId,
    now: NaiveDateTime,
    reason: &str,
) -> AppResult<()> {
    db_run!(conn => diesel::update(bookings::table.find(id).filter(bookings::status.eq(PENDING)))
        .set((
            bookings::status.eq(BookingStatus::Rejected),
            bookings::decision_reason.eq(reason),
            bookings::decided_at.eq(Some(now)),
            bookings::updated_at.eq(now),
            bookings::sequence.eq(bookings::sequence + 1),
        ))
        .execute(conn))?;
    Ok(())
}

/// Rejects, with `reason`, the pending bookings that start at or before `now`; returns them.
pub fn reject_pending_started(
    conn: &mut DbConn,
    now: NaiveDateTime,
    reason: &str,
) -> AppResult<Vec<BookingRow>> {
    Ok(db_run!(conn => diesel::update(
        bookings::table.filter(bookings::status.eq(PENDING)).filter(bookings::start_at.le(now)),
    )
    .set((
        bookings::status.eq(BookingStatus::Rejected),
        bookings::decision_reason.eq(reason),
        bookings::decided_at.eq(Some(now)),
        bookings::updated_at.eq(now),
        bookings::sequence.eq(bookings::sequence + 1),
    ))
    .returning(BookingRow::as_returning())
    .get_results(conn))?)
}

pub fn insert_series(
    conn: &mut DbConn,
    resource_id: ResourceId,
    member_id: MemberId,
    rule: &str,
    created_by: UserId,
    now: NaiveDateTime,
) -> AppResult<SeriesId> {
    Ok(db_run!(conn => diesel::insert_into(series::table)
        .values((
            series::resource_id.eq(resource_id),
            series::member_id.eq(member_id),
            series::rule.eq(rule),
            series::created_by.eq(created_by),
            series::created_at.eq(now),
        ))
        .returning(series::id)
        .get_result(conn))?)
}

/// Start and end of a member's active bookings on these resources that overlap `[from, to)`.
pub fn member_spans_overlapping(
    conn: &mut DbConn,
    member_id: MemberId,
    resource_ids: &[ResourceId],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<(BookingId, NaiveDateTime, NaiveDateTime)>> {
    // No booking lasts more than 366 days: bounds the index scan on start_at.
    let lower = from - chrono::Duration::days(367);
    Ok(db_run!(conn => bookings::table
        .filter(bookings::member_id.eq(member_id))
        .filter(bookings::resource_id.eq_any(resource_ids))
        .filter(bookings::status.eq_any(ACTIVE))
        .filter(bookings::start_at.ge(lower))
        .filter(bookings::start_at.lt(to))
        .filter(bookings::end_at.gt(from))
        .select((bookings::id, bookings::start_at, bookings::end_at))
        .load(conn))?)
}

/// The employees (staff resources) that worked for a member in `[from, to)`: its confirmed
/// assignments there, in id order.
pub fn staff_worked_for(
    conn: &mut DbConn,
    member_id: MemberId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<ResourceId>> {
    // No booking lasts more than 366 days: bounds the index scan on start_at.
    let lower = from - chrono::Duration::days(367);
    Ok(db_run!(conn => bookings::table
        .inner_join(resources::table)
        .filter(bookings::member_id.eq(member_id))
        .filter(resources::kind.eq(crate::domain::resource::ResourceKind::Staff))
        .filter(bookings::status.eq(CONFIRMED))
        .filter(bookings::start_at.ge(lower))
        .filter(bookings::start_at.lt(to))
        .filter(bookings::end_at.gt(from))
        .select(bookings::resource_id)
        .distinct()
        .order(bookings::resource_id.asc())
        .load(conn))?)
}

/// How many active bookings of a member on these resources start after `now`.
pub fn count_future(
    conn: &mut DbConn,
    member_id: MemberId,
    resource_ids: &[ResourceId],
    now: NaiveDateTime,
    ignore: &[BookingId],
) -> AppResult<i64> {
    Ok(db_run!(conn => bookings::table
        .filter(bookings::member_id.eq(member_id))
        .filter(bookings::resource_id.eq_any(resource_ids))
        .filter(bookings::status.eq_any(ACTIVE))
        .filter(bookings::start_at.gt(now))
        .filter(bookings::id.ne_all(ignore))
        .count()
        .get_result(conn))?)
}

/// A booking with the names a message or a calendar shows.
#[derive(Debug, Clone, Queryable)]
pub struct Labelled {
    pub id: BookingId,
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub created_by: Option<UserId>,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub status: BookingStatus,
    pub quantity: i32,
    pub purpose: String,
    pub sequence: i32,
    pub updated_at: NaiveDateTime,
    pub resource_kind: ResourceKind,
    pub resource_name: String,
    pub location: String,
    pub member_name: String,
    pub member_email: Option<String>,
    pub activity: Activity,
    pub created_at: NaiveDateTime,
}

impl Labelled {
    /// A booking just written, labelled with what the caller read of its resource and member
    /// in the same transaction: what `labelled` would read again.
    pub fn of(row: &BookingRow, resource: &ResourceRow, member: &Member) -> Labelled {
        Labelled {
            id: row.id,
            resource_id: row.resource_id,
            member_id: row.member_id,
            created_by: row.created_by,
            start_at: row.start_at,
            end_at: row.end_at,
            status: row.status,
            quantity: row.quantity,
            purpose: row.purpose.clone(),
            sequence: row.sequence,
            updated_at: row.updated_at,
            resource_kind: resource.kind,
            resource_name: resource.name.clone(),
            location: resource.location.clone(),
            member_name: member.name.clone(),
            member_email: member.email.clone(),
            activity: row.activity,
            created_at: row.created_at,
        }
    }
}

/// Bookings joined to their resource and member, selecting the columns of `Labelled`.
macro_rules! labelled_query {
    () => {
        bookings::table
            .inner_join(resources::table)
            .inner_join(members::table)
            .order((bookings::start_at, bookings::id))
            .select((
                bookings::id,
                bookings::resource_id,
                bookings::member_id,
                bookings::created_by,
                bookings::start_at,
                bookings::end_at,
                bookings::status,
                bookings::quantity,
                bookings::purpose,
                bookings::sequence,
                bookings::updated_at,
                resources::kind,
                resources::name,
                resources::location,
                members::name,
                members::email,
                bookings::activity,
                bookings::created_at,
            ))
    };
}

/// The bookings `ids` with their names, by start.
pub fn labelled(conn: &mut DbConn, ids: &[BookingId]) -> AppResult<Vec<Labelled>> {
    // One booking (nearly every write) by `=`: a statement of fixed shape stays prepared,
    // where SQLite's `IN (?, …)` is compiled again on each call.
    if let [id] = ids {
        return Ok(db_run!(conn => labelled_query!()
            .filter(bookings::id.eq(*id))
            .load(conn))?);
    }
    Ok(db_run!(conn => labelled_query!()
        .filter(bookings::id.eq_any(ids))
        .load(conn))?)
}

/// Active bookings starting in `[from, to)` made by a user, with their names: the reminders
/// to consider.
pub fn starting_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<Labelled>> {
    Ok(db_run!(conn => labelled_query!()
        .filter(bookings::status.eq_any(ACTIVE))
        .filter(bookings::start_at.ge(from))
        .filter(bookings::start_at.lt(to))
        .filter(bookings::created_by.is_not_null())
        .load(conn))?)
}

/// Requests still to decide: pending and not yet begun (those begun are left to the automatic
/// rejection). One `COUNT` on the `(status, start_at)` index: the navigation shows it on
/// every page a decider opens.
pub fn count_requests(conn: &mut DbConn, now: NaiveDateTime) -> AppResult<i64> {
    Ok(db_run!(conn => bookings::table
        .filter(bookings::status.eq(PENDING))
        .filter(bookings::start_at.gt(now))
        .count()
        .get_result(conn))?)
}

/// The first `limit` requests still to decide, soonest first.
pub fn first_requests(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> AppResult<Vec<BookingRow>> {
    Ok(db_run!(conn => bookings::table
        .filter(bookings::status.eq(PENDING))
        .filter(bookings::start_at.gt(now))
        .select(BookingRow::as_select())
        .order((bookings::start_at.asc(), bookings::id.asc()))
        .limit(limit)
        .load(conn))?)
}
