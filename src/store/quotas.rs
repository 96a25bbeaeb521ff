//! Quotas per member on a resource, a kind or everything.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::quotas;
use super::DbConn;
use crate::db_run;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::quota::{Quota, QuotaScope};
use crate::domain::resource::ResourceKind;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = quotas)]
struct QuotaRow {
    id: i64,
    member_id: Option<MemberId>,
    resource_id: Option<ResourceId>,
    kind: Option<ResourceKind>,
    max_minutes_per_month: Option<i32>,
    max_future_bookings: Option<i32>,
}

impl From<QuotaRow> for Quota {
    fn from(r: QuotaRow) -> Quota {
        Quota {
            id: r.id,
            member_id: r.member_id,
            scope: match (r.resource_id, r.kind) {
                (Some(id), _) => QuotaScope::Resource(id),
                (None, Some(k)) => QuotaScope::Kind(k),
                (None, None) => QuotaScope::Everything,
            },
            max_minutes_per_month: r.max_minutes_per_month,
            max_future_bookings: r.max_future_bookings,
        }
    }
}

pub fn insert(conn: &mut DbConn, q: &Quota, now: NaiveDateTime) -> AppResult<Quota> {
    let (resource_id, kind) = match q.scope {
        QuotaScope::Resource(r) => (Some(r), None),
        QuotaScope::Kind(k) => (None, Some(k)),
        QuotaScope::Everything => (None, None),
    };
    let row: QuotaRow = db_run!(conn => diesel::insert_into(quotas::table)
        .values((
            quotas::member_id.eq(q.member_id),
            quotas::resource_id.eq(resource_id),
            quotas::kind.eq(kind),
            quotas::max_minutes_per_month.eq(q.max_minutes_per_month),
            quotas::max_future_bookings.eq(q.max_future_bookings),
            quotas::created_at.eq(now),
        ))
        .returning(QuotaRow::as_returning())
        .get_result(conn))?;
    Ok(row.into())
}

pub fn delete(conn: &mut DbConn, id: i64) -> AppResult<()> {
    match db_run!(conn => diesel::delete(quotas::table.find(id)).execute(conn))? {
        1 => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

pub fn list(conn: &mut DbConn) -> AppResult<Vec<Quota>> {
    let rows: Vec<QuotaRow> = db_run!(conn => quotas::table
        .select(QuotaRow::as_select())
        .order(quotas::id.asc())
        .load(conn))?;
    Ok(rows.into_iter().map(Quota::from).collect())
}
