//! Idempotency keys: a client's retried request gets the first answer instead of acting twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::DbConn;
use crate::db_run;
use crate::domain::ids::UserId;
use crate::error::AppResult;

/// A stored answer: the hash of the request it answered and the answer itself.
pub struct Stored {
    pub request_hash: String,
    pub body: String,
}

pub fn find(conn: &mut DbConn, user_id: UserId, key: &str) -> AppResult<Option<Stored>> {
    let row: Option<(String, String)> = db_run!(conn => idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::key.eq(key))
        .select((idempotency_keys::request_hash, idempotency_keys::body))
        .get_result(conn)
        .optional())?;
    Ok(row.map(|(request_hash, body)| Stored { request_hash, body }))
}

/// Claims a key for a request before acting on it. On PostgreSQL a concurrent claim of the
/// same key waits for the first transaction and then finds the row: the retry replays the
/// first answer instead of racing it. False when the key was already taken.
pub fn claim(
    conn: &mut DbConn,
    user_id: UserId,
    key: &str,
    hash: &str,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let inserted = db_run!(conn => diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash),
            idempotency_keys::status.eq(0),
            idempotency_keys::body.eq(""),
            idempotency_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn))?;
    Ok(inserted == 1)
}

/// Stores the answer given to a claimed key, in the same transaction as the action.
pub fn complete(conn: &mut DbConn, user_id: UserId, key: &str, body: &str) -> AppResult<()> {
    db_run!(conn => diesel::update(
        idempotency_keys::table.filter(idempotency_keys::user_id.eq(user_id)).filter(idempotency_keys::key.eq(key)),
    )
    .set((idempotency_keys::status.eq(201), idempotency_keys::body.eq(body)))
    .execute(conn))?;
    Ok(())
}

/// Keys older than `before` are forgotten: a retry comes within minutes, not days.
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> AppResult<usize> {
    Ok(
        db_run!(conn => diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before))).execute(conn))?,
    )
}
