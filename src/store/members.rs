//! Members table: rows, the fields written on insert/update, and queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::members;
use super::DbConn;
use crate::db_run;
use crate::domain::ids::MemberId;
use crate::domain::member::MemberDraft;
use crate::domain::text::{fold, Search};
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = members)]
pub struct Member {
    pub id: MemberId,
    pub name: String,
    pub legal_form: String,
    pub pricing_category: String,
    pub siret: Option<String>,
    pub email: Option<String>,
    pub headcount_hundredths: i32,
    pub turnover_cents: i64,
    pub surface_m2: i32,
    pub active: bool,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = members, treat_none_as_null = true)]
struct MemberFields<'a> {
    name: &'a str,
    legal_form: &'a str,
    pricing_category: &'a str,
    siret: Option<&'a str>,
    email: Option<&'a str>,
    headcount_hundredths: i32,
    turnover_cents: i64,
    surface_m2: i32,
    active: bool,
    updated_at: NaiveDateTime,
    /// `fold(name)`: searched and sorted in SQL.
    name_key: String,
}

impl<'a> MemberFields<'a> {
    fn from_draft(d: &'a MemberDraft, now: NaiveDateTime) -> Self {
        Self {
            name: &d.name,
            legal_form: d.legal_form.as_str(),
            pricing_category: &d.pricing_category,
            siret: d.siret.as_deref(),
            email: d.email.as_deref(),
            headcount_hundredths: d.headcount_hundredths,
            turnover_cents: d.turnover_cents,
            surface_m2: d.surface_m2,
            active: d.active,
            updated_at: now,
            name_key: fold(&d.name),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct MemberFilter {
    pub include_archived: bool,
    pub ids: Option<Vec<MemberId>>,
    pub search: Option<String>,
    /// Only active (true) or only inactive (false) members.
    pub active: Option<bool>,
    /// Only archived members (with `include_archived`).
    pub archived_only: bool,
    pub legal_form: Option<String>,
}

macro_rules! members_filtered {
    ($f:expr, $q:expr) => {{
        let f: &MemberFilter = $f;
        let mut q = $q;
        if f.archived_only {
            q = q.filter(members::archived_at.is_not_null());
        } else if !f.include_archived {
            q = q.filter(members::archived_at.is_null());
        }
        if let Some(ids) = &f.ids {
            q = q.filter(members::id.eq_any(ids.clone()));
        }
        if let Some(active) = f.active {
            q = q.filter(members::active.eq(active));
        }
        if let Some(form) = &f.legal_form {
            q = q.filter(members::legal_form.eq(form.clone()));
        }
        if let Some(search) = f.search.as_deref().and_then(Search::new) {
            q = q.filter(members::name_key.like(search.like_pattern()).escape('\\'));
        }
        q
    }};
}

pub fn insert(conn: &mut DbConn, d: &MemberDraft, now: NaiveDateTime) -> AppResult<Member> {
    let fields = MemberFields::from_draft(d, now);
    Ok(db_run!(conn => diesel::insert_into(members::table)
        .values((&fields, members::created_at.eq(now)))
        .returning(Member::as_returning())
        .get_result(conn))?)
}

pub fn update(
    conn: &mut DbConn,
    id: MemberId,
    d: &MemberDraft,
    now: NaiveDateTime,
) -> AppResult<Member> {
    let fields = MemberFields::from_draft(d, now);
    Ok(db_run!(conn => diesel::update(members::table.find(id))
        .set(&fields)
        .returning(Member::as_returning())
        .get_result(conn))?)
}

pub fn set_archived(
    conn: &mut DbConn,
    id: MemberId,
    at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> AppResult<Member> {
    Ok(db_run!(conn => diesel::update(members::table.find(id))
        .set((members::archived_at.eq(at), members::updated_at.eq(now)))
        .returning(Member::as_returning())
        .get_result(conn))?)
}

/// Locks the member's row until the transaction ends, so that bookings of one member counted
/// against a quota are checked one after the other even on different resources. SQLite needs
/// nothing: `BEGIN IMMEDIATE` already holds the database.
pub fn lock(conn: &mut DbConn, id: MemberId) -> AppResult<()> {
    if let DbConn::Postgres(c) = conn {
        let c: &mut diesel::PgConnection = &mut *c;
        members::table
            .find(id)
            .select(members::id)
            .for_update()
            .load::<MemberId>(c)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: MemberId) -> AppResult<Member> {
    Ok(db_run!(conn => members::table.find(id).select(Member::as_select()).get_result(conn))?)
}

/// Every member the filter keeps, in name order (accents ignored: « Élan » among the E).
pub fn list(conn: &mut DbConn, filter: &MemberFilter) -> AppResult<Vec<Member>> {
    page(conn, filter, 0, i64::MAX)
}

/// At most `limit` members the filter keeps, after the first `offset`, in name order.
pub fn page(
    conn: &mut DbConn,
    filter: &MemberFilter,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<Member>> {
    Ok(db_run!(conn => {
        let q = members_filtered!(filter, members::table
            .select(Member::as_select())
            .order((members::name_key.asc(), members::id.asc()))
            .into_boxed());
        // SQLite wants a LIMIT before an OFFSET; i64::MAX is "no limit" on both backends.
        q.limit(limit).offset(offset).load(conn)
    })?)
}

/// How many members the filter keeps, all pages together.
pub fn count_matching(conn: &mut DbConn, filter: &MemberFilter) -> AppResult<i64> {
    Ok(
        db_run!(conn => members_filtered!(filter, members::table.into_boxed()).count().get_result(conn))?,
    )
}

pub fn count(conn: &mut DbConn) -> AppResult<i64> {
    Ok(db_run!(conn => members::table.count().get_result(conn))?)
}

pub fn names(conn: &mut DbConn, ids: &[MemberId]) -> AppResult<Vec<(MemberId, String)>> {
    Ok(db_run!(conn => members::table
        .filter(members::id.eq_any(ids))
        .select((members::id, members::name))
        .load(conn))?)
}

/// The pricing categories members use, in order.
pub fn pricing_categories(conn: &mut DbConn) -> AppResult<Vec<String>> {
    Ok(db_run!(conn => members::table
        .select(members::pricing_category)
        .distinct()
        .order(members::pricing_category.asc())
        .load(conn))?)
}
