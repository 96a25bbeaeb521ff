//! Closure use cases: list, record and remove maintenance or holiday periods.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::authz::{self, Actor};
use crate::domain::closure::ClosureInput;
use crate::error::{AppError, AppResult};
use crate::store::closures::{self as store, Closure};
use crate::store::{from_db, resources as resource_store, to_db, DbConn};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClosureOut {
    pub id: i64,
    /// null = the whole pole.
    pub resource_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
}

impl From<&Closure> for ClosureOut {
    fn from(c: &Closure) -> Self {
        Self {
            id: c.id,
            resource_id: c.resource_id,
            start: from_db(c.start_at),
            end: from_db(c.end_at),
            reason: c.reason.clone(),
        }
    }
}

pub fn list(
    conn: &mut DbConn,
    _actor: &Actor,
    resource_id: Option<i64>,
    from: Option<DateTime<Utc>>,
) -> AppResult<Vec<Closure>> {
    store::list(conn, resource_id, from.map(to_db), None)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: &ClosureInput,
    tz: Tz,
    now: DateTime<Utc>,
) -> AppResult<Closure> {
    authz::require(authz::can_manage_closures(actor))?;
    let draft = input.validate(tz).map_err(AppError::Validation)?;
    if let Some(r) = draft.resource_id {
        match resource_store::find(conn, r) {
            Err(AppError::NotFound) => {
                return Err(AppError::validation("resource_id", "Ressource inconnue."))
            }
            other => {
                other?;
            }
        }
    }
    conn.write(|conn| store::insert(conn, &draft, actor.user_id, to_db(now)))
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
    authz::require(authz::can_manage_closures(actor))?;
    if conn.write(|conn| store::delete(conn, id))? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
