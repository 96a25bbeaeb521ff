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
    // One table's empty keys, a batch at a time in id order, each batch one write.
    macro_rules! fill {
        ($table:ident, $key:ident, $source:ident) => {{
            let mut written = 0;
            let mut last = 0i64;
            loop {
                // Literal, not bound: a partial index of the rows still to fold serves the
                // query only when its condition is spelt out.
                let unfolded = diesel::dsl::sql::<diesel::sql_types::Bool>(concat!(
                    stringify!($key), " = '' AND ", stringify!($source), " <> ''"
                ));
                let rows: Vec<(i64, String)> = db_run!(conn => $table::table
                    .filter(unfolded.and($table::id.gt(last)))
                    .select(($table::id, $table::$source))
                    .order($table::id.asc())
                    .limit(BATCH)
                    .load(conn))?;
                let Some((id, _)) = rows.last() else { break };
                last = *id;
                written += rows.len();
                conn.write(|c| {
                    for (id, text) in &rows {
                        db_run!(c => diesel::update($table::table.find(id))
                            .set($table::$key.eq(fold(text)))
                            .execute(c))?;
                    }
                    Ok(())
                })?;
            }
            written
        }};
    }
    let written = fill!(members, name_key, name)
        + fill!(resources, name_key, name)
        + fill!(bookings, purpose_key, purpose);
    Ok(written)
}
