//! What a month's allocation reads and writes besides prices: its bookings, cost entries
//! (with the generation of recurring ones), adjustments, and the statements frozen at the
//! close with their hash chain.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    adjustments, bookings, costs, month_closings, month_reopenings, month_usage, month_usage_state,
    statement_lines,
};
use super::types::StoredInstant;
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{AdjustmentId, BookingId, CostId, MemberId, ResourceId, UserId};
use crate::domain::month::Month;
use crate::domain::status::BookingStatus;
use crate::error::AppResult;

/// A booking as the allocation reads it: the month's confirmed ones, and its cancelled ones
/// (a late cancellation is charged).
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = bookings)]
pub struct BilledBooking {
    pub id: BookingId,
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    #[diesel(deserialize_as = StoredInstant)]
    pub start_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredInstant)]
    pub end_at: NaiveDateTime,
    pub quantity: i32,
    pub status: BookingStatus,
    pub cancelled_at: Option<NaiveDateTime>,
    /// When a request was approved (or rejected); `None` for bookings confirmed at once.
    pub decided_at: Option<NaiveDateTime>,
}

/// Confirmed and cancelled bookings starting in `[from, to)`, of one member or of all: a
/// booking belongs to the month of its start, as its tariff does.
pub fn billed_bookings(
    conn: &mut DbConn,
    member: Option<MemberId>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<BilledBooking>> {
    let statuses = [BookingStatus::Confirmed, BookingStatus::Cancelled];
    Ok(db_run!(conn => {
        let mut q = bookings::table
            .filter(bookings::status.eq_any(statuses))
            .filter(bookings::start_at.ge(from))
            .filter(bookings::start_at.lt(to))
            .select(BilledBooking::as_select())
            .into_boxed();
        if let Some(m) = member {
            q = q.filter(bookings::member_id.eq(m));
        }
        q.load(conn)
    })?)
}

/// Whether any booking that counts in a month (confirmed, or cancelled: a late cancellation
/// is charged) meets `[from, to)`: a month without one, nor costs nor adjustments, has nothing
/// to allocate.
pub fn any_billed_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<bool> {
    let statuses = [BookingStatus::Confirmed, BookingStatus::Cancelled];
    Ok(db_run!(conn => {
        diesel::select(diesel::dsl::exists(
            bookings::table
                .filter(bookings::status.eq_any(statuses))
                .filter(bookings::start_at.lt(to))
                .filter(bookings::end_at.gt(from)),
        ))
        .get_result::<bool>(conn)
    })?)
}

/// Unit-minutes each member used each resource in the bookings starting in `[from, to)`, as
/// the keys weigh them: confirmed bookings, and the part used of those cancelled once begun
/// (not requests cancelled before anyone approved them); for shared employees, work only.
/// Minutes are whole, counted down (a booking of 59 s uses 0 min), as `Duration::num_minutes`.
pub fn usage(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<(MemberId, ResourceId, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        member_id: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        resource_id: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        minutes: i64,
    }
    // Milliseconds first (exact in both backends), then whole minutes by integer division.
    const SQLITE: &str = "CAST(ROUND((julianday(CASE WHEN b.status = 'cancelled' THEN MIN(b.cancelled_at, b.end_at) ELSE b.end_at END) - julianday(b.start_at)) * 86400000) AS BIGINT) / 60000 * MAX(b.quantity, 1)";
    const POSTGRES: &str = "CAST(FLOOR(EXTRACT(EPOCH FROM (CASE WHEN b.status = 'cancelled' THEN LEAST(b.cancelled_at, b.end_at) ELSE b.end_at END) - b.start_at) * 1000) AS BIGINT) / 60000 * GREATEST(b.quantity, 1)";
    // SQLite's planner prefers a skip-scan of the member index here, twice as slow as the
    // month's range of the (status, start_at) one: it is named.
    let query = |minutes: &str, hint: &str| {
        format!(
            "SELECT b.member_id, b.resource_id, CAST(SUM({minutes}) AS BIGINT) AS minutes \
             FROM bookings b {hint} JOIN resources r ON r.id = b.resource_id \
             WHERE b.status IN ('confirmed', 'cancelled') \
               AND b.start_at >= $1 AND b.start_at < $2 \
               AND (b.status = 'confirmed' \
                    OR (b.cancelled_at > b.start_at \
                        AND NOT (r.requires_approval AND b.decided_at IS NULL))) \
               AND (r.kind <> 'staff' OR b.activity = 'work') \
             GROUP BY b.member_id, b.resource_id"
        )
    };
    let rows: Vec<Row> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            query(SQLITE, "INDEXED BY bookings_status_idx")
                .replace("$1", "?")
                .replace("$2", "?"),
        )
        .bind::<diesel::sql_types::Timestamp, _>(from)
        .bind::<diesel::sql_types::Timestamp, _>(to)
        .load(&mut **c)?,
        DbConn::Postgres(c) => diesel::sql_query(query(POSTGRES, ""))
            .bind::<diesel::sql_types::Timestamp, _>(from)
            .bind::<diesel::sql_types::Timestamp, _>(to)
            .load(&mut ***c)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| (MemberId(r.member_id), ResourceId(r.resource_id), r.minutes))
        .collect())
}

/// Forgets the kept use of the months a booking starting at these instants may belong to,
/// whatever the pole's time zone (within a day of UTC): every booking write calls it.
pub fn forget_usage(conn: &mut DbConn, starts: &[NaiveDateTime]) -> AppResult<()> {
    let mut months: Vec<Month> = starts
        .iter()
        .flat_map(|s| {
            [
                *s - chrono::Duration::days(1),
                *s + chrono::Duration::days(1),
            ]
        })
        .filter_map(|t| Month::new(chrono::Datelike::year(&t), chrono::Datelike::month(&t)))
        .collect();
    months.sort();
    months.dedup();
    // One or two months for a booking: a prepared `=` each, not an `IN (?, …)` that SQLite
    // compiles again on every booking.
    for month in months {
        db_run!(conn => diesel::delete(month_usage_state::table.filter(month_usage_state::month.eq(month))).execute(conn))?;
    }
    Ok(())
}

/// Forgets the kept use of every month (a resource's settings changed what counts).
pub fn forget_all_usage(conn: &mut DbConn) -> AppResult<()> {
    db_run!(conn => diesel::delete(month_usage_state::table).execute(conn))?;
    Ok(())
}

/// Whether a month's kept use is current.
pub fn usage_is_kept(conn: &mut DbConn, month: Month) -> AppResult<bool> {
    let n: i64 = db_run!(conn => month_usage_state::table
        .filter(month_usage_state::month.eq(month))
        .count()
        .get_result(conn))?;
    Ok(n > 0)
}

/// The kept use of a month, if current.
pub fn kept_usage(
    conn: &mut DbConn,
    month: Month,
) -> AppResult<Option<Vec<(MemberId, ResourceId, i64)>>> {
    let current: Option<Month> = db_run!(conn => month_usage_state::table
        .find(month)
        .select(month_usage_state::month)
        .get_result(conn)
        .optional())?;
    if current.is_none() {
        return Ok(None);
    }
    Ok(Some(db_run!(conn => month_usage::table
        .filter(month_usage::month.eq(month))
        .select((month_usage::member_id, month_usage::resource_id, month_usage::minutes))
        .load(conn))?))
}

/// Keeps a month's use, summed now, as current.
pub fn keep_usage(
    conn: &mut DbConn,
    month: Month,
    rows: &[(MemberId, ResourceId, i64)],
    now: NaiveDateTime,
) -> AppResult<()> {
    let values: Vec<_> = rows
        .iter()
        .map(|(m, r, minutes)| {
            (
                month_usage::month.eq(month),
                month_usage::member_id.eq(*m),
                month_usage::resource_id.eq(*r),
                month_usage::minutes.eq(*minutes),
            )
        })
        .collect();
    db_run!(conn => {
        diesel::delete(month_usage::table.filter(month_usage::month.eq(month))).execute(conn)?;
        diesel::delete(month_usage_state::table.find(month)).execute(conn)?;
        for chunk in values.chunks(5_000) {
            diesel::insert_into(month_usage::table).values(chunk).execute(conn)?;
        }
        diesel::insert_into(month_usage_state::table)
            .values((month_usage_state::month.eq(month), month_usage_state::computed_at.eq(now)))
            .execute(conn)
    })?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = costs)]
pub struct CostRow {
    pub id: CostId,
    pub month: Month,
    pub label: String,
    pub amount_cents: i64,
    pub resource_id: Option<ResourceId>,
    pub pool: Option<String>,
    /// The key as the client wrote it (`domain::allocation::KeySpec`, JSON).
    pub split_key: String,
    pub recurring: bool,
    pub until_month: Option<Month>,
    pub generated_from: Option<CostId>,
    pub deleted_at: Option<NaiveDateTime>,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = costs, treat_none_as_null = true)]
pub struct CostFields {
    pub month: Month,
    pub label: String,
    pub amount_cents: i64,
    pub resource_id: Option<ResourceId>,
    pub pool: Option<String>,
    pub split_key: String,
    pub recurring: bool,
    pub until_month: Option<Month>,
    pub updated_at: NaiveDateTime,
}

/// The month's cost entries, in entry order.
pub fn costs_of(conn: &mut DbConn, month: Month) -> AppResult<Vec<CostRow>> {
    Ok(db_run!(conn => costs::table
        .filter(costs::month.eq(month))
        .filter(costs::deleted_at.is_null())
        .select(CostRow::as_select())
        .order(costs::id.asc())
        .load(conn))?)
}

pub fn find_cost(conn: &mut DbConn, id: CostId) -> AppResult<Option<CostRow>> {
    Ok(db_run!(conn => costs::table
        .find(id)
        .filter(costs::deleted_at.is_null())
        .select(CostRow::as_select())
        .get_result(conn)
        .optional())?)
}

/// Entries generated from a recurring one (tombstones included).
pub fn generated_count(conn: &mut DbConn, template: CostId) -> AppResult<i64> {
    Ok(db_run!(conn => costs::table
        .filter(costs::generated_from.eq(template))
        .count()
        .get_result(conn))?)
}

/// Inserts the month's entry generated from a recurring one, unless another transaction
/// (another server process) did it first.
pub fn insert_generated(
    conn: &mut DbConn,
    f: &CostFields,
    template: CostId,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> AppResult<()> {
    db_run!(conn => diesel::insert_into(costs::table)
        .values((f, costs::generated_from.eq(template), costs::created_by.eq(by), costs::created_at.eq(now)))
        .on_conflict((costs::generated_from, costs::month))
        .do_nothing()
        .execute(conn))?;
    Ok(())
}

pub fn insert_cost(
    conn: &mut DbConn,
    f: &CostFields,
    generated_from: Option<CostId>,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> AppResult<CostRow> {
    Ok(db_run!(conn => diesel::insert_into(costs::table)
        .values((f, costs::generated_from.eq(generated_from), costs::created_by.eq(by), costs::created_at.eq(now)))
        .returning(CostRow::as_returning())
        .get_result(conn))?)
}

pub fn update_cost(conn: &mut DbConn, id: CostId, f: &CostFields) -> AppResult<CostRow> {
    Ok(db_run!(conn => diesel::update(costs::table.find(id))
        .set(f)
        .returning(CostRow::as_returning())
        .get_result(conn))?)
}

/// Deletes an entry; one generated from a recurring entry stays as a tombstone, so that
/// month's entry is not generated again.
/// Ends a recurring entry after `until` (or never, with `None`).
pub fn set_until(
    conn: &mut DbConn,
    id: CostId,
    until: Option<Month>,
    now: NaiveDateTime,
) -> AppResult<CostRow> {
    Ok(db_run!(conn => diesel::update(costs::table.find(id))
        .set((costs::until_month.eq(until), costs::updated_at.eq(now)))
        .returning(CostRow::as_returning())
        .get_result(conn))?)
}

pub fn delete_cost(conn: &mut DbConn, row: &CostRow, now: NaiveDateTime) -> AppResult<()> {
    if row.generated_from.is_some() {
        db_run!(conn => diesel::update(costs::table.find(row.id))
            .set(costs::deleted_at.eq(Some(now)))
            .execute(conn))?;
    } else {
        db_run!(conn => diesel::delete(costs::table.find(row.id)).execute(conn))?;
    }
    Ok(())
}

/// Recurring entries of earlier months still running in `month` that have not generated
/// its entry yet.
pub fn recurring_due(conn: &mut DbConn, month: Month) -> AppResult<Vec<CostRow>> {
    let templates: Vec<CostRow> = db_run!(conn => costs::table
        .filter(costs::recurring.eq(true))
        .filter(costs::deleted_at.is_null())
        .filter(costs::month.lt(month))
        .filter(costs::until_month.is_null().or(costs::until_month.ge(month)))
        .select(CostRow::as_select())
        .order(costs::id.asc())
        .load(conn))?;
    if templates.is_empty() {
        return Ok(templates);
    }
    // Tombstones count: a deleted entry was generated.
    let done: Vec<Option<CostId>> = db_run!(conn => costs::table
        .filter(costs::month.eq(month))
        .filter(costs::generated_from.is_not_null())
        .select(costs::generated_from)
        .load(conn))?;
    Ok(templates
        .into_iter()
        .filter(|t| !done.contains(&Some(t.id)))
        .collect())
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = adjustments)]
pub struct AdjustmentRow {
    pub id: AdjustmentId,
    pub month: Month,
    pub member_id: MemberId,
    pub label: String,
    pub amount_cents: i64,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

pub fn adjustments_of(conn: &mut DbConn, month: Month) -> AppResult<Vec<AdjustmentRow>> {
    Ok(db_run!(conn => adjustments::table
        .filter(adjustments::month.eq(month))
        .select(AdjustmentRow::as_select())
        .order(adjustments::id.asc())
        .load(conn))?)
}

pub fn find_adjustment(conn: &mut DbConn, id: AdjustmentId) -> AppResult<Option<AdjustmentRow>> {
    Ok(
        db_run!(conn => adjustments::table.find(id).select(AdjustmentRow::as_select()).get_result(conn).optional())?,
    )
}

pub fn insert_adjustment(
    conn: &mut DbConn,
    month: Month,
    member: MemberId,
    label: &str,
    amount_cents: i64,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> AppResult<AdjustmentRow> {
    Ok(db_run!(conn => diesel::insert_into(adjustments::table)
        .values((
            adjustments::month.eq(month),
            adjustments::member_id.eq(member),
            adjustments::label.eq(label),
            adjustments::amount_cents.eq(amount_cents),
            adjustments::created_by.eq(by),
            adjustments::created_at.eq(now),
        ))
        .returning(AdjustmentRow::as_returning())
        .get_result(conn))?)
}

pub fn delete_adjustment(conn: &mut DbConn, id: AdjustmentId) -> AppResult<()> {
    db_run!(conn => diesel::delete(adjustments::table.find(id)).execute(conn))?;
    Ok(())
}

/// A stored line of a closed statement.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = statement_lines)]
pub struct StoredLine {
    pub month: Month,
    pub member_id: MemberId,
    pub position: i32,
    pub member_name: String,
    pub source: String,
    pub resource_id: Option<ResourceId>,
    pub label: String,
    pub basis: String,
    pub quantity_milli: i64,
    pub unit: String,
    pub unit_price_cents: i64,
    pub amount_cents: i64,
    /// `domain::statement::Refs` as JSON.
    pub refs: String,
}

/// Stores a closed month's statement: its total and hashes on the closing row, then its lines.
pub fn store_statement(
    conn: &mut DbConn,
    month: Month,
    total_cents: i64,
    previous_hash: &str,
    hash: &str,
    lines: &[StoredLine],
) -> AppResult<()> {
    db_run!(conn => {
        diesel::update(month_closings::table.find(month))
            .set((
                month_closings::total_cents.eq(total_cents),
                month_closings::previous_hash.eq(previous_hash),
                month_closings::hash.eq(hash),
            ))
            .execute(conn)?;
        // In chunks: PostgreSQL binds at most 65 535 parameters per statement.
        for chunk in lines.chunks(2_000) {
            diesel::insert_into(statement_lines::table).values(chunk).execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// The stored lines of a closed month, by member then position.
pub fn statement_lines(
    conn: &mut DbConn,
    month: Month,
    member: Option<MemberId>,
) -> AppResult<Vec<StoredLine>> {
    Ok(db_run!(conn => {
        let mut q = statement_lines::table
            .filter(statement_lines::month.eq(month))
            .select(StoredLine::as_select())
            .order((statement_lines::member_id.asc(), statement_lines::position.asc()))
            .into_boxed();
        if let Some(m) = member {
            q = q.filter(statement_lines::member_id.eq(m));
        }
        q.load(conn)
    })?)
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = month_closings)]
pub struct ClosedMonth {
    pub month: Month,
    pub closed_at: NaiveDateTime,
    pub closed_by: Option<UserId>,
    pub total_cents: i64,
    pub previous_hash: String,
    pub hash: String,
}

/// Every closed month, oldest first.
pub fn closed_months(conn: &mut DbConn) -> AppResult<Vec<ClosedMonth>> {
    Ok(db_run!(conn => month_closings::table
        .select(ClosedMonth::as_select())
        .order(month_closings::month.asc())
        .load(conn))?)
}

/// Totals of the closed months in `[from, to]` per member, for the trend.
pub fn closed_totals(
    conn: &mut DbConn,
    from: Month,
    to: Month,
) -> AppResult<Vec<(Month, MemberId, i64)>> {
    let rows: Vec<(Month, MemberId, i64)> = db_run!(conn => statement_lines::table
        .filter(statement_lines::month.ge(from))
        .filter(statement_lines::month.le(to))
        .select((statement_lines::month, statement_lines::member_id, statement_lines::amount_cents))
        .load(conn))?;
    let mut sums: std::collections::BTreeMap<(Month, MemberId), i64> = Default::default();
    for (m, member, a) in rows {
        *sums.entry((m, member)).or_default() += a;
    }
    Ok(sums.into_iter().map(|((m, id), a)| (m, id, a)).collect())
}

/// Reopens a closed month: its closing row and stored lines go, the reopening is recorded.
pub fn reopen(
    conn: &mut DbConn,
    month: Month,
    by: Option<UserId>,
    now: NaiveDateTime,
    reason: &str,
    statement_hash: &str,
) -> AppResult<()> {
    db_run!(conn => {
        diesel::delete(statement_lines::table.filter(statement_lines::month.eq(month))).execute(conn)?;
        diesel::delete(month_closings::table.find(month)).execute(conn)?;
        diesel::insert_into(month_reopenings::table)
            .values((
                month_reopenings::month.eq(month),
                month_reopenings::reopened_by.eq(by),
                month_reopenings::reopened_at.eq(now),
                month_reopenings::reason.eq(reason),
                month_reopenings::statement_hash.eq(statement_hash),
            ))
            .execute(conn)
    })?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = month_reopenings)]
pub struct Reopening {
    pub id: i64,
    pub month: Month,
    pub reopened_by: Option<UserId>,
    pub reopened_at: NaiveDateTime,
    pub reason: String,
    pub statement_hash: String,
}

pub fn reopenings(conn: &mut DbConn, month: Option<Month>) -> AppResult<Vec<Reopening>> {
    Ok(db_run!(conn => {
        let mut q = month_reopenings::table
            .select(Reopening::as_select())
            .order(month_reopenings::id.desc())
            .into_boxed();
        if let Some(m) = month {
            q = q.filter(month_reopenings::month.eq(m));
        }
        q.load(conn)
    })?)
}
