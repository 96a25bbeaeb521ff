//! Closures of one resource or of the whole pole.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::closures;
use super::DbConn;
use crate::db_run;
use crate::domain::closure::ClosureDraft;
use crate::domain::ids::{ResourceId, UserId};
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = closures)]
pub struct Closure {
    pub id: i64,
    pub resource_id: Option<ResourceId>,
    pub start_at: NaiveDateTime,
    pub end_at: NaiveDateTime,
    pub reason: String,
    pub created_by: Option<UserId>,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConn,
    d: &ClosureDraft,
    created_by: UserId,
    now: NaiveDateTime,
) -> AppResult<Closure> {
    Ok(db_run!(conn => diesel::insert_into(closures::table)
        .values((
            closures::resource_id.eq(d.resource_id),
            closures::start_at.eq(super::to_db(d.start)),
            closures::end_at.eq(super::to_db(d.end)),
            closures::reason.eq(&d.reason),
            closures::created_by.eq(created_by),
            closures::created_at.eq(now),
        ))
        .returning(Closure::as_returning())
        .get_result(conn))?)
}

pub fn find(conn: &mut DbConn, id: i64) -> AppResult<Closure> {
    Ok(db_run!(conn => closures::table.find(id).select(Closure::as_select()).get_result(conn))?)
}

pub fn delete(conn: &mut DbConn, id: i64) -> AppResult<bool> {
    Ok(db_run!(conn => diesel::delete(closures::table.find(id)).execute(conn))? == 1)
}

/// Closures of one resource (and pole-wide ones) meeting `[from, to)`: the booking hot path,
/// in a fixed-shape query whose prepared statement is kept.
pub fn overlapping(
    conn: &mut DbConn,
    resource_id: ResourceId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<Closure>> {
    Ok(db_run!(conn => closures::table
        .filter(closures::resource_id.eq(resource_id).or(closures::resource_id.is_null()))
        .filter(closures::end_at.gt(from))
        .filter(closures::start_at.lt(to))
        .order(closures::start_at.asc())
        .select(Closure::as_select())
        .load(conn))?)
}

/// Closures touching `[from, to)`: of the resource, or pole-wide; `resource_id = None` lists all.
pub fn list(
    conn: &mut DbConn,
    resource_id: Option<ResourceId>,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> AppResult<Vec<Closure>> {
    Ok(db_run!(conn => {
        let mut q = closures::table.select(Closure::as_select()).order(closures::start_at.asc()).into_boxed();
        if let Some(r) = resource_id {
            q = q.filter(closures::resource_id.eq(r).or(closures::resource_id.is_null()));
        }
        if let Some(f) = from {
            q = q.filter(closures::end_at.gt(f));
        }
        if let Some(t) = to {
            q = q.filter(closures::start_at.lt(t));
        }
        q.load(conn)
    })?)
}
