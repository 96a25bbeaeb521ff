//! Secret calendar feed URLs, and the bookings a feed shows with what its version (ETag)
//! is computed from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::bookings::{Labelled, LABELLED};
use super::schema::{bookings, feeds, members, resources};
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{MemberId, ResourceId, UserId};
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
/// revisions and the latest change.
pub fn version(
    conn: &mut DbConn,
    filter: FeedFilter,
    since: NaiveDateTime,
) -> AppResult<(i64, i64, Option<NaiveDateTime>)> {
    let (count, revisions, latest): (i64, Option<i64>, Option<NaiveDateTime>) = db_run!(conn => scoped!(filter, since, bookings::table.into_boxed())
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::sum(bookings::sequence),
            diesel::dsl::max(bookings::updated_at),
        ))
        .get_result(conn))?;
    Ok((count, revisions.unwrap_or(0), latest))
}

/// The bookings of a feed that end after `since`, by start.
pub fn bookings(
    conn: &mut DbConn,
    filter: FeedFilter,
    since: NaiveDateTime,
) -> AppResult<Vec<Labelled>> {
    Ok(db_run!(conn => scoped!(filter, since, bookings::table
        .inner_join(resources::table)
        .inner_join(members::table)
        .into_boxed())
        .order((bookings::start_at, bookings::id))
        .select(LABELLED)
        .load(conn))?)
}
