//! The few queries only the bench needs (dataset bounds, its resources, clean-up). They sit
//! here rather than in `store/` so the bench stays one self-contained module; they follow the
//! store's rules: diesel, both backends through `db_run!`, no value formatted into SQL.

use chrono::NaiveDateTime;
use diesel::dsl::{max, min};
use diesel::prelude::*;

use super::{
    BENCH_EMAIL_DOMAIN, BENCH_RESOURCE_DESCRIPTION, BENCH_RUN_PURPOSE, BENCH_STAFF_DESCRIPTION,
};
use crate::db_run;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::resource::ResourceKind;
use crate::error::AppResult;
use crate::store::schema::{bookings, outbox, resources};
use crate::store::DbConn;

#[derive(Debug, Clone, Queryable)]
pub struct BenchResource {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub capacity: i32,
}

/// Resources created by `bench seed`, in id order.
pub fn bench_resources(conn: &mut DbConn) -> AppResult<Vec<BenchResource>> {
    Ok(db_run!(conn => resources::table
        .filter(resources::description.eq(BENCH_RESOURCE_DESCRIPTION))
        .filter(resources::archived_at.is_null())
        .order(resources::id.asc())
        .select((resources::id, resources::kind, resources::name, resources::capacity))
        .load(conn))?)
}

/// First start and last end of the seeded bookings of the general dataset (not those
/// `bench run` made, nor the employer group's assignments).
pub fn dataset_span(
    conn: &mut DbConn,
) -> AppResult<(Option<NaiveDateTime>, Option<NaiveDateTime>)> {
    Ok(db_run!(conn => bookings::table
        .inner_join(resources::table)
        .filter(resources::description.eq(BENCH_RESOURCE_DESCRIPTION))
        .filter(bookings::purpose.ne(BENCH_RUN_PURPOSE))
        .select((min(bookings::start_at), max(bookings::end_at)))
        .first(conn))?)
}

/// Bookings of the general dataset's resources.
pub fn booking_count(conn: &mut DbConn) -> AppResult<i64> {
    Ok(db_run!(conn => bookings::table
        .inner_join(resources::table)
        .filter(resources::description.eq(BENCH_RESOURCE_DESCRIPTION))
        .count()
        .get_result(conn))?)
}

/// A shared employee made by `bench seed --staff`.
#[derive(Debug, Clone, Queryable)]
pub struct BenchEmployee {
    pub id: ResourceId,
    pub name: String,
    pub weekly_contract_minutes: Option<i32>,
    pub employer_member_id: Option<MemberId>,
    pub longest_block_minutes: i32,
}

/// The employees `bench seed --staff` created, in id order.
pub fn bench_staff(conn: &mut DbConn) -> AppResult<Vec<BenchEmployee>> {
    Ok(db_run!(conn => resources::table
        .filter(resources::description.eq(BENCH_STAFF_DESCRIPTION))
        .filter(resources::kind.eq(ResourceKind::Staff))
        .filter(resources::archived_at.is_null())
        .order(resources::id.asc())
        .select((
            resources::id,
            resources::name,
            resources::weekly_contract_minutes,
            resources::employer_member_id,
            resources::longest_block_minutes,
        ))
        .load(conn))?)
}

/// First start, last end and number of the seeded assignments of these employees.
pub fn staff_span(
    conn: &mut DbConn,
    ids: &[ResourceId],
) -> AppResult<(Option<NaiveDateTime>, Option<NaiveDateTime>, i64)> {
    let mut out: (Option<NaiveDateTime>, Option<NaiveDateTime>, i64) = (None, None, 0);
    for chunk in ids.chunks(500) {
        let (first, last, n): (Option<NaiveDateTime>, Option<NaiveDateTime>, i64) = db_run!(conn => bookings::table
                .filter(bookings::resource_id.eq_any(chunk))
                .filter(bookings::purpose.ne(BENCH_RUN_PURPOSE))
                .select((min(bookings::start_at), max(bookings::end_at), diesel::dsl::count_star()))
                .first(conn))?;
        out.0 = match (out.0, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        out.1 = match (out.1, last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        out.2 += n;
    }
    Ok(out)
}

pub fn id_range(conn: &mut DbConn) -> AppResult<(Option<i64>, Option<i64>)> {
    Ok(db_run!(conn => bookings::table
        .select((min(bookings::id), max(bookings::id)))
        .first(conn))?)
}

/// Removes what earlier runs booked, and the messages they queued (the seed queues none: every
/// message to the dataset's addresses comes from a run), so every run starts from the seeded
/// dataset. Left there, a run's ~2 messages per assignment piled up in the outbox (no mail
/// worker sends them here) and every later run inserted into a larger index.
pub fn delete_run_bookings(conn: &mut DbConn) -> AppResult<usize> {
    let n = db_run!(conn => diesel::delete(bookings::table.filter(bookings::purpose.eq(BENCH_RUN_PURPOSE)))
        .execute(conn))?;
    let to_dataset = format!("%@{BENCH_EMAIL_DOMAIN}");
    db_run!(conn => diesel::delete(outbox::table.filter(outbox::recipient.like(&to_dataset)))
        .execute(conn))?;
    crate::store::allocation::forget_all_usage(conn)?;
    // The deletion's pages would otherwise stay in the WAL file after this process exits,
    // and the next run would count them in its WAL peak.
    conn.truncate_wal()?;
    Ok(n)
}

/// Confirmed bookings among `ids` on `resource_ids` starting in `[from, to)`: slots known to
/// be taken, for requests that must be refused.
pub fn taken_slots(
    conn: &mut DbConn,
    ids: &[i64],
    resource_ids: &[i64],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<(i64, NaiveDateTime, NaiveDateTime)>> {
    Ok(db_run!(conn => bookings::table
        .filter(bookings::id.eq_any(ids))
        .filter(bookings::resource_id.eq_any(resource_ids))
        .filter(bookings::status.eq(crate::domain::status::BookingStatus::Confirmed))
        .filter(bookings::start_at.ge(from))
        .filter(bookings::start_at.lt(to))
        .select((bookings::resource_id, bookings::start_at, bookings::end_at))
        .load(conn))?)
}
