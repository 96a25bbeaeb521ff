//! The folded copies of names and purposes (`name_key`, `purpose_key`) that searches and name
//! order use in SQL: filled in at start for rows written before they existed.

use diesel::prelude::*;

use super::schema::{bookings, members, resources};
use super::DbConn;
use crate::db_run;
use crate::domain::text::fold;
use crate::error::AppResult;

const BATCH: i64 = 1000;

/// Folds every name and purpose whose key is still empty; returns how many rows it wrote.
/// Cheap once done: each pass reads only rows with an empty key.
pub fn backfill(conn: &mut DbConn) -> AppResult<usize> {
    let mut written = 0;
    let mut last = 0i64;
    loop {
        let rows: Vec<(i64, String)> = db_run!(conn => members::table
            .filter(members::name_key.eq("").and(members::name.ne("")).and(members::id.gt(last)))
            .select((members::id, members::name))
            .order(members::id.asc())
            .limit(BATCH)
            .load(conn))?;
        let Some((id, _)) = rows.last() else { break };
        last = *id;
        written += rows.len();
        conn.write(|c| {
            for (id, name) in &rows {
                db_run!(c => diesel::update(members::table.find(id))
                    .set(members::name_key.eq(fold(name)))
                    .execute(c))?;
            }
            Ok(())
        })?;
    }
    last = 0;
    loop {
        let rows: Vec<(i64, String)> = db_run!(conn => resources::table
            .filter(resources::name_key.eq("").and(resources::name.ne("")).and(resources::id.gt(last)))
            .select((resources::id, resources::name))
            .order(resources::id.asc())
            .limit(BATCH)
            .load(conn))?;
        let Some((id, _)) = rows.last() else { break };
        last = *id;
        written += rows.len();
        conn.write(|c| {
            for (id, name) in &rows {
                db_run!(c => diesel::update(resources::table.find(id))
                    .set(resources::name_key.eq(fold(name)))
                    .execute(c))?;
            }
            Ok(())
        })?;
    }
    last = 0;
    loop {
        let rows: Vec<(i64, String)> = db_run!(conn => bookings::table
            .filter(bookings::purpose_key.eq("").and(bookings::purpose.ne("")).and(bookings::id.gt(last)))
            .select((bookings::id, bookings::purpose))
            .order(bookings::id.asc())
            .limit(BATCH)
            .load(conn))?;
        let Some((id, _)) = rows.last() else { break };
        last = *id;
        written += rows.len();
        conn.write(|c| {
            for (id, purpose) in &rows {
                db_run!(c => diesel::update(bookings::table.find(id))
                    .set(bookings::purpose_key.eq(fold(purpose)))
                    .execute(c))?;
            }
            Ok(())
        })?;
    }
    Ok(written)
}
