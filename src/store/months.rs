//! Closed months, and the locks that keep a booking from landing in a month being closed.
//!
//! Protocol on PostgreSQL (several processes may share the database): every write that
//! depends on a month being open takes that month's advisory lock in shared mode before
//! reading `month_closings`; closing a month takes it in exclusive mode, so the close waits
//! for the writes in flight and any later write sees the closing row. Both are transaction
//! locks, released at commit. SQLite needs none of it: `BEGIN IMMEDIATE` serialises writers.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, Integer};

use super::schema::month_closings;
use super::DbConn;
use crate::db_run;
use crate::domain::ids::UserId;
use crate::domain::month::Month;
use crate::error::AppResult;

/// First key of the two-key advisory locks taken on months (the second is `Month::key`).
pub(crate) const MONTH_LOCK_SPACE: i32 = 7_270_143;

diesel::define_sql_function! {
    /// Returns `void`, never read: the statement is only executed.
    fn pg_advisory_xact_lock_shared(space: Integer, key: Integer) -> Integer;
}

diesel::define_sql_function! {
    /// `pg_advisory_xact_lock_shared(space, k)` for each key (migration
    /// `closed_months_in_rules_epoch`); returns 0.
    fn lock_months_shared(space: Integer, keys: Array<Integer>) -> Integer;
}

/// Shared lock on each month: no close of those months can commit until this transaction ends.
pub fn lock_open(conn: &mut DbConn, months: &[Month]) -> AppResult<()> {
    if let DbConn::Postgres(c) = conn {
        let c: &mut diesel::PgConnection = &mut *c;
        for m in months {
            // A typed call rather than SQL text: diesel keeps it prepared (every booking
            // takes it).
            diesel::select(pg_advisory_xact_lock_shared(MONTH_LOCK_SPACE, m.key())).execute(c)?;
        }
    }
    Ok(())
}

/// Exclusive lock on the chain of closed months, taken by every close and reopening before
/// reading which months are closed: two of them never chain to the same month.
pub fn lock_chain(conn: &mut DbConn) -> AppResult<()> {
    if let DbConn::Postgres(c) = conn {
        let c: &mut diesel::PgConnection = &mut *c;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, 0)")
            .bind::<Integer, _>(MONTH_LOCK_SPACE)
            .execute(c)?;
    }
    Ok(())
}

/// Exclusive lock on a month, taken by the close.
pub fn lock_for_close(conn: &mut DbConn, month: Month) -> AppResult<()> {
    if let DbConn::Postgres(c) = conn {
        let c: &mut diesel::PgConnection = &mut *c;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<Integer, _>(MONTH_LOCK_SPACE)
            .bind::<Integer, _>(month.key())
            .execute(c)?;
    }
    Ok(())
}

/// Every closed month, in order (a dozen a year): what a booking's kept target knows of them
/// (`app::bookings::target`), current while the rules epoch has not moved.
pub fn all_closed(conn: &mut DbConn) -> AppResult<Vec<Month>> {
    Ok(db_run!(conn => month_closings::table
        .select(month_closings::month)
        .order(month_closings::month.asc())
        .load::<Month>(conn))?)
}

/// The first of `months` (consecutive, in order) that the treasurer closed, if any.
pub fn first_closed(conn: &mut DbConn, months: &[Month]) -> AppResult<Option<Month>> {
    // Months are consecutive: a range is the same set, in a query whose statement is kept.
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(None);
    };
    Ok(db_run!(conn => month_closings::table
        .filter(month_closings::month.ge(first))
        .filter(month_closings::month.le(last))
        .select(month_closings::month)
        .order(month_closings::month.asc())
        .get_result::<Month>(conn)
        .optional())?)
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = month_closings)]
pub struct Closing {
    pub month: Month,
    pub closed_at: NaiveDateTime,
    pub closed_by: Option<UserId>,
}

pub fn find(conn: &mut DbConn, month: Month) -> AppResult<Option<Closing>> {
    Ok(db_run!(conn => month_closings::table
        .find(month)
        .select(Closing::as_select())
        .get_result(conn)
        .optional())?)
}

pub fn close(
    conn: &mut DbConn,
    month: Month,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> AppResult<Closing> {
    Ok(db_run!(conn => diesel::insert_into(month_closings::table)
        .values((month_closings::month.eq(month), month_closings::closed_at.eq(now), month_closings::closed_by.eq(by)))
        .returning(Closing::as_returning())
        .get_result(conn))?)
}
