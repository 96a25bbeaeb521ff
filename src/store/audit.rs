//! The security journal: one row per event, written in the transaction of the action it
//! records, read back newest first by filters, kept a year.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_events;
use super::DbConn;
use crate::db_run;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub kind: String,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub subject_email: Option<String>,
    pub ip: String,
    pub detail: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditRow<'a> {
    pub occurred_at: NaiveDateTime,
    pub kind: &'a str,
    pub actor_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub subject_email: Option<&'a str>,
    pub ip: &'a str,
    pub detail: &'a str,
}

/// What a listing keeps: events of one kind, touching one user (as actor or subject), within
/// `[from, to)`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub kind: Option<String>,
    pub user_id: Option<i64>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &NewAuditRow) -> AppResult<()> {
    db_run!(conn => diesel::insert_into(audit_events::table).values(row).execute(conn))?;
    Ok(())
}

/// The filtered query, boxed for the backend of `$conn`.
macro_rules! filtered {
    ($f:expr) => {{
        let f: &AuditFilter = $f;
        let mut q = audit_events::table.into_boxed();
        if let Some(k) = &f.kind {
            q = q.filter(audit_events::kind.eq(k.clone()));
        }
        if let Some(u) = f.user_id {
            q = q.filter(
                audit_events::actor_id
                    .eq(u)
                    .or(audit_events::subject_id.eq(u)),
            );
        }
        if let Some(t) = f.from {
            q = q.filter(audit_events::occurred_at.ge(t));
        }
        if let Some(t) = f.to {
            q = q.filter(audit_events::occurred_at.lt(t));
        }
        q
    }};
}

/// One page of events, newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &AuditFilter,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<AuditRow>> {
    Ok(db_run!(conn => filtered!(filter)
        .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn))?)
}

pub fn count(conn: &mut DbConn, filter: &AuditFilter) -> AppResult<i64> {
    Ok(db_run!(conn => filtered!(filter).count().get_result(conn))?)
}

/// Events older than `before` leave the journal, at most `limit` of them.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime, limit: i64) -> AppResult<usize> {
    Ok(db_run!(conn => {
        let old: Vec<i64> = audit_events::table
            .filter(audit_events::occurred_at.lt(before))
            .select(audit_events::id)
            .limit(limit)
            .load(conn)?;
        diesel::delete(audit_events::table.filter(audit_events::id.eq_any(old))).execute(conn)
    })?)
}
