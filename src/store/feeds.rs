//! Secret calendar feed URLs, and the bookings a feed shows with what its version (ETag)
//! is computed from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{bookings, feeds, members, resources};
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{BookingId, MemberId, ResourceId, UserId};
use crate::domain::status::BookingStatus;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = feeds)]
pub struct FeedRow {
    pub id: i64,
    pub token: String,
    pub user_id: UserId,
    pub scope: String,
    pub scope_id: i64,
    pub created_at: NaiveDateTime,
}

/// Creates the user's feed of a scope, replacing (and so revoking) the previous token.
pub fn replace(
    conn: &mut DbConn,
    user: UserId,
    scope: &str,
    scope_id: i64,
    token: &str,
    now: NaiveDateTime,
) -> AppResult<FeedRow> {
    db_run!(conn => diesel::delete(
        feeds::table
            .filter(feeds::user_id.eq(user))
            .filter(feeds::scope.eq(scope))
            .filter(feeds::scope_id.eq(scope_id)),
    )
    .execute(conn))?;
    Ok(db_run!(conn => diesel::insert_into(feeds::table)
        .values((
            feeds::token.eq(token),
            feeds::user_id.eq(user),
            feeds::scope.eq(scope),
            feeds::scope_id.eq(scope_id),
            feeds::created_at.eq(now),
        ))
        .returning(FeedRow::as_returning())
        .get_result(conn))?)
}

pub fn by_token(conn: &mut DbConn, token: &str) -> AppResult<Option<FeedRow>> {
    Ok(db_run!(conn => feeds::table
        .filter(feeds::token.eq(token))
        .select(FeedRow::as_select())
        .get_result(conn)
        .optional())?)
}

pub fn of_user(conn: &mut DbConn, user: UserId) -> AppResult<Vec<FeedRow>> {
    Ok(db_run!(conn => feeds::table
        .filter(feeds::user_id.eq(user))
        .order(feeds::id)
        .select(FeedRow::as_select())
        .load(conn))?)
}

pub fn delete(conn: &mut DbConn, id: i64, user: UserId) -> AppResult<bool> {
    let n = db_run!(conn => diesel::delete(feeds::table.find(id).filter(feeds::user_id.eq(user))).execute(conn))?;
    Ok(n == 1)
}

/// Which bookings a feed is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFilter {
    Resource(ResourceId),
    Member(MemberId),
    CreatedBy(UserId),
}

macro_rules! scoped {
    ($filter:expr, $since:expr, $q:expr) => {{
        let q = $q.filter(bookings::block_end_at.ge($since));
        match $filter {
            FeedFilter::Resource(id) => q.filter(bookings::resource_id.eq(id)),
            FeedFilter::Member(id) => q.filter(bookings::member_id.eq(id)),
            FeedFilter::CreatedBy(id) => q.filter(bookings::created_by.eq(Some(id))),
        }
    }};
}

/// What changes whenever a feed's content does: how many bookings, the sum of their
/// revisions, the latest change of a booking, and the latest change of a resource or a
/// member (their names and places are in the events).
pub fn version(
    conn: &mut DbConn,
    filter: FeedFilter,
    since: NaiveDateTime,
) -> AppResult<(i64, i64, Option<NaiveDateTime>, Option<NaiveDateTime>)> {
    let (count, revisions, latest): (i64, Option<i64>, Option<NaiveDateTime>) = db_run!(conn => scoped!(filter, since, bookings::table.into_boxed())
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::sum(bookings::sequence),
            diesel::dsl::max(bookings::updated_at),
        ))
        .get_result(conn))?;
    let resources_changed: Option<NaiveDateTime> = db_run!(conn => resources::table
        .select(diesel::dsl::max(resources::updated_at))
        .get_result(conn))?;
    let members_changed: Option<NaiveDateTime> = db_run!(conn => members::table
        .select(diesel::dsl::max(members::updated_at))
        .get_result(conn))?;
    Ok((
        count,
        revisions.unwrap_or(0),
        latest,
        resources_changed.max(members_changed),
    ))
}

/// One booking as a feed needs it; names come apart (`names`), once per resource and member
/// rather than on each of a year's rows.
#[derive(Debug, Clone, Queryable)]
pub struct FeedBooking {
    pub id: BookingId,
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub status: BookingStatus,
    pub quantity: i32,
    pub purpose: String,
    pub sequence: i32,
    pub updated_at: NaiveDateTime,
}

/// The bookings of a feed that end after `since`, by start.
pub fn bookings(
    conn: &mut DbConn,
    filter: FeedFilter,
    since: NaiveDateTime,
) -> AppResult<Vec<FeedBooking>> {
    Ok(
        db_run!(conn => scoped!(filter, since, bookings::table.into_boxed())
        .order((bookings::start_at, bookings::id))
        .select((
            bookings::id,
            bookings::resource_id,
            bookings::member_id,
            bookings::start_at,
            bookings::end_at,
            bookings::status,
            bookings::quantity,
            bookings::purpose,
            bookings::sequence,
            bookings::updated_at,
        ))
        .load(conn))?,
    )
}

/// Names and places of these resources, names of these members.
#[allow(clippy::type_complexity)]
pub fn names(
    conn: &mut DbConn,
    resource_ids: &[ResourceId],
    member_ids: &[MemberId],
) -> AppResult<(Vec<(ResourceId, String, String)>, Vec<(MemberId, String)>)> {
    let r = db_run!(conn => resources::table
        .filter(resources::id.eq_any(resource_ids))
        .select((resources::id, resources::name, resources::location))
        .load(conn))?;
    let m = db_run!(conn => members::table
        .filter(members::id.eq_any(member_ids))
        .select((members::id, members::name))
        .load(conn))?;
    Ok((r, m))
}
