//! Bookings, series, quotas, closed months and idempotency keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{bookings, idempotency_keys, month_closings, quotas, resources, series};
use super::DbConn;
use crate::db_run;
use crate::error::AppResult;

pub const PENDING: &str = "pending";
pub const CONFIRMED: &str = "confirmed";
pub const CANCELLED: &str = "cancelled";
pub const REJECTED: &str = "rejected";
pub const ACTIVE: [&str; 2] = [PENDING, CONFIRMED];

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = bookings)]
pub struct BookingRow {
    pub id: i64,
    pub resource_id: i64,
    pub member_id: i64,
    pub created_by: Option<i64>,
    pub series_id: Option<i64>,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub block_start_at: NaiveDateTime,
    pub block_end_at: NaiveDateTime,
    pub quantity: i32,
    pub exclusive: bool,
    pub status: String,
    pub purpose: String,
    pub beneficiary: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl BookingRow {
    pub fn is_active(&self) -> bool {
        ACTIVE.contains(&self.status.as_str())
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = bookings)]
pub struct NewBooking<'a> {
    pub resource_id: i64,
    pub member_id: i64,
    pub created_by: Option<i64>,
    pub series_id: Option<i64>,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub block_start_at: NaiveDateTime,
    pub block_end_at: NaiveDateTime,
    pub quantity: i32,
    pub exclusive: bool,
    pub status: &'a str,
    pub purpose: &'a str,
    pub beneficiary: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, b: &NewBooking) -> AppResult<BookingRow> {
    Ok(db_run!(conn => diesel::insert_into(bookings::table)
        .values(b)
        .returning(BookingRow::as_returning())
        .get_result(conn))?)
}

pub fn find(conn: &mut DbConn, id: i64) -> AppResult<BookingRow> {
    Ok(db_run!(conn => bookings::table.find(id).select(BookingRow::as_select()).get_result(conn))?)
}

/// Locks resource rows until the transaction ends, in id order so two writers never wait on
/// each other in a cycle. SQLite needs nothing: `BEGIN IMMEDIATE` already holds the database.
pub fn lock_resources(conn: &mut DbConn, ids: &[i64]) -> AppResult<()> {
    if let DbConn::Postgres(c) = conn {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        let c: &mut diesel::PgConnection = &mut *c;
        resources::table
            .filter(resources::id.eq_any(&ids))
            .order(resources::id.asc())
            .select(resources::id)
            .for_update()
            .load::<i64>(c)?;
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
    resource_ids: &[i64],
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
    pub id: i64,
    pub resource_id: i64,
    pub member_id: i64,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub quantity: i32,
}

/// `active_blocking` reduced to `BookingSpan`s, for the rule checks on every booking: SQLite
/// stores timestamps as text, and parsing the full rows' six of them was a tenth of the
/// server's time under booking load.
pub fn active_spans(
    conn: &mut DbConn,
    resource_ids: &[i64],
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

/// Raises the resource's longest blocked span if this booking is longer.
pub fn note_span(conn: &mut DbConn, resource_id: i64, minutes: i64) -> AppResult<()> {
    let minutes = i32::try_from(minutes).unwrap_or(i32::MAX);
    db_run!(conn => diesel::update(resources::table.find(resource_id).filter(resources::longest_block_minutes.lt(minutes)))
        .set(resources::longest_block_minutes.eq(minutes))
        .execute(conn))?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct BookingFilter {
    pub resource_ids: Option<Vec<i64>>,
    pub member_ids: Option<Vec<i64>>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub statuses: Option<Vec<String>>,
    pub series_id: Option<i64>,
    pub limit: Option<i64>,
}

pub fn list(conn: &mut DbConn, f: &BookingFilter) -> AppResult<Vec<BookingRow>> {
    Ok(db_run!(conn => {
        let mut q = bookings::table.select(BookingRow::as_select()).order((bookings::start_at.asc(), bookings::id.asc())).into_boxed();
        if let Some(r) = &f.resource_ids {
            q = q.filter(bookings::resource_id.eq_any(r.clone()));
        }
        if let Some(m) = &f.member_ids {
            q = q.filter(bookings::member_id.eq_any(m.clone()));
        }
        if let Some(from) = f.from {
            // No booking lasts more than 366 days: the start bound keeps the scan on the index.
            q = q.filter(bookings::end_at.gt(from)).filter(bookings::start_at.gt(from - chrono::Duration::days(367)));
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
        q.limit(f.limit.unwrap_or(5000)).load(conn)
    })?)
}

/// Changes the status of a booking that is still in one of `from` states; `NotFound` when it
/// no longer is (another writer decided first).
pub fn set_status(
    conn: &mut DbConn,
    id: i64,
    from: &[&str],
    status: &str,
    reason: Option<&str>,
    decided_by: Option<i64>,
    now: NaiveDateTime,
) -> AppResult<BookingRow> {
    Ok(
        db_run!(conn => diesel::update(bookings::table.find(id).filter(bookings::status.eq_any(from)))
        .set((
            bookings::status.eq(status),
            bookings::decision_reason.eq(reason),
            bookings::decided_by.eq(decided_by),
            bookings::decided_at.eq(Some(now)),
            bookings::updated_at.eq(now),
        ))
        .returning(BookingRow::as_returning())
        .get_result(conn))?,
    )
}

pub struct Move<'a> {
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub block_start_at: NaiveDateTime,
    pub block_end_at: NaiveDateTime,
    pub quantity: i32,
    pub purpose: &'a str,
    pub beneficiary: Option<&'a str>,
}

pub fn apply_move(
    conn: &mut DbConn,
    id: i64,
    m: &Move,
    now: NaiveDateTime,
) -> AppResult<BookingRow> {
    Ok(
        db_run!(conn => diesel::update(bookings::table.find(id).filter(bookings::status.eq_any(ACTIVE)))
        .set((
            bookings::start_at.eq(m.start_at),
            bookings::end_at.eq(m.end_at),
            bookings::block_start_at.eq(m.block_start_at),
            bookings::block_end_at.eq(m.block_end_at),
            bookings::quantity.eq(m.quantity),
            bookings::purpose.eq(m.purpose),
            bookings::beneficiary.eq(m.beneficiary),
            bookings::updated_at.eq(now),
        ))
        .returning(BookingRow::as_returning())
        .get_result(conn))?,
    )
}

/// Pending bookings whose start has come without a decision are rejected.
pub fn reject_stale_pending(conn: &mut DbConn, now: NaiveDateTime) -> AppResult<usize> {
    Ok(db_run!(conn => diesel::update(
        bookings::table.filter(bookings::status.eq(PENDING)).filter(bookings::start_at.le(now)),
    )
    .set((
        bookings::status.eq(REJECTED),
        bookings::decision_reason.eq("Non validée avant son début : refusée automatiquement."),
        bookings::decided_at.eq(Some(now)),
        bookings::updated_at.eq(now),
    ))
    .execute(conn))?)
}

pub fn insert_series(
    conn: &mut DbConn,
    resource_id: i64,
    member_id: i64,
    rule: &str,
    created_by: i64,
    now: NaiveDateTime,
) -> AppResult<i64> {
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

// ---- quotas ----

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = quotas)]
pub struct Quota {
    pub id: i64,
    pub member_id: Option<i64>,
    pub resource_id: Option<i64>,
    pub kind: Option<String>,
    pub max_minutes_per_month: Option<i32>,
    pub max_future_bookings: Option<i32>,
    pub created_at: NaiveDateTime,
}

pub struct NewQuota {
    pub member_id: Option<i64>,
    pub resource_id: Option<i64>,
    pub kind: Option<String>,
    pub max_minutes_per_month: Option<i32>,
    pub max_future_bookings: Option<i32>,
}

pub fn insert_quota(conn: &mut DbConn, q: &NewQuota, now: NaiveDateTime) -> AppResult<Quota> {
    Ok(db_run!(conn => diesel::insert_into(quotas::table)
        .values((
            quotas::member_id.eq(q.member_id),
            quotas::resource_id.eq(q.resource_id),
            quotas::kind.eq(&q.kind),
            quotas::max_minutes_per_month.eq(q.max_minutes_per_month),
            quotas::max_future_bookings.eq(q.max_future_bookings),
            quotas::created_at.eq(now),
        ))
        .returning(Quota::as_returning())
        .get_result(conn))?)
}

pub fn delete_quota(conn: &mut DbConn, id: i64) -> AppResult<bool> {
    Ok(db_run!(conn => diesel::delete(quotas::table.find(id)).execute(conn))? == 1)
}

pub fn list_quotas(conn: &mut DbConn) -> AppResult<Vec<Quota>> {
    Ok(
        db_run!(conn => quotas::table.select(Quota::as_select()).order(quotas::id.asc()).load(conn))?,
    )
}

/// Active bookings of a member on these resources that overlap `[from, to)`.
pub fn member_bookings_overlapping(
    conn: &mut DbConn,
    member_id: i64,
    resource_ids: &[i64],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<BookingRow>> {
    // No booking lasts more than 366 days: bounds the index scan on start_at.
    let lower = from - chrono::Duration::days(367);
    Ok(db_run!(conn => bookings::table
        .filter(bookings::member_id.eq(member_id))
        .filter(bookings::resource_id.eq_any(resource_ids))
        .filter(bookings::status.eq_any(ACTIVE))
        .filter(bookings::start_at.ge(lower))
        .filter(bookings::start_at.lt(to))
        .filter(bookings::end_at.gt(from))
        .select(BookingRow::as_select())
        .load(conn))?)
}

/// How many active bookings of a member on these resources start after `now`.
pub fn count_future(
    conn: &mut DbConn,
    member_id: i64,
    resource_ids: &[i64],
    now: NaiveDateTime,
    ignore: &[i64],
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

// ---- closed months ----

/// The first of `months` ("YYYY-MM") that the treasurer closed, if any.
pub fn first_closed_month(conn: &mut DbConn, months: &[String]) -> AppResult<Option<String>> {
    // Months are "YYYY-MM" and consecutive: a range is the same set, in a cacheable query.
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(None);
    };
    Ok(db_run!(conn => month_closings::table
        .filter(month_closings::month.ge(first))
        .filter(month_closings::month.le(last))
        .select(month_closings::month)
        .order(month_closings::month.asc())
        .get_result(conn)
        .optional())?)
}

pub fn close_month(conn: &mut DbConn, month: &str, by: i64, now: NaiveDateTime) -> AppResult<()> {
    db_run!(conn => diesel::insert_into(month_closings::table)
        .values((month_closings::month.eq(month), month_closings::closed_at.eq(now), month_closings::closed_by.eq(by)))
        .execute(conn))?;
    Ok(())
}

// ---- idempotency ----

pub fn find_idempotent(
    conn: &mut DbConn,
    user_id: i64,
    key: &str,
) -> AppResult<Option<(String, i32, String)>> {
    Ok(db_run!(conn => idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::key.eq(key))
        .select((idempotency_keys::request_hash, idempotency_keys::status, idempotency_keys::body))
        .get_result(conn)
        .optional())?)
}

/// Claims a key for a request before acting on it. On PostgreSQL a concurrent claim of the
/// same key waits for the first transaction and then finds the row: the retry replays the
/// first answer instead of racing it. False when the key was already taken.
pub fn claim_idempotent(
    conn: &mut DbConn,
    user_id: i64,
    key: &str,
    hash: &str,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let inserted = db_run!(conn => diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::status.eq(0),
            idempotency_keys::body.eq(""),
            idempotency_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn))?;
    Ok(inserted == 1)
}

/// Stores the answer given to a claimed key, in the same transaction as the booking.
pub fn complete_idempotent(
    conn: &mut DbConn,
    user_id: i64,
    key: &str,
    status: i32,
    body: &str,
) -> AppResult<()> {
    db_run!(conn => diesel::update(
        idempotency_keys::table.filter(idempotency_keys::user_id.eq(user_id)).filter(idempotency_keys::key.eq(key)),
    )
    .set((idempotency_keys::status.eq(status), idempotency_keys::body.eq(body)))
    .execute(conn))?;
    Ok(())
}
