//! Closure use cases: list, record and remove maintenance or holiday periods.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::authz::{self, Actor};
use super::App;
use crate::domain::closure::ClosureInput;
use crate::domain::ids::ResourceId;
use crate::error::{AppError, AppResult};
use crate::store::closures::{self as store, Closure};
use crate::store::{from_db, resources as resource_store, to_db, DbConn};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClosureView {
    pub id: i64,
    /// null = the whole pole.
    pub resource_id: Option<ResourceId>,
    /// The closed resource's name; null for the whole pole.
    pub resource_name: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
}

fn views(conn: &mut DbConn, list: Vec<Closure>) -> AppResult<Vec<ClosureView>> {
    let ids: Vec<ResourceId> = list.iter().filter_map(|c| c.resource_id).collect();
    let names: HashMap<ResourceId, String> = resource_store::labels(conn, &ids)?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    Ok(list
        .into_iter()
        .map(|c| ClosureView {
            id: c.id,
            resource_id: c.resource_id,
            resource_name: c.resource_id.and_then(|r| names.get(&r).cloned()),
            start: from_db(c.start_at),
            end: from_db(c.end_at),
            reason: c.reason,
        })
        .collect())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClosureQuery {
    /// Closures of this resource and pole-wide ones.
    pub resource_id: Option<ResourceId>,
    /// Only closures ending after this instant.
    pub from: Option<DateTime<Utc>>,
}

pub async fn list(app: &App, _actor: &Actor, q: ClosureQuery) -> AppResult<Vec<ClosureView>> {
    app.db()
        .run(move |c| {
            let list = store::list(c, q.resource_id, q.from.map(to_db), None)?;
            views(c, list)
        })
        .await
}

/// Every closure ending after now (the dashboard, the closures page).
pub async fn coming(app: &App, _actor: &Actor) -> AppResult<Vec<ClosureView>> {
    let now = app.now();
    app.db().run(move |c| coming_on(c, None, now)).await
}

pub(crate) fn coming_on(
    conn: &mut DbConn,
    resource_id: Option<ResourceId>,
    now: DateTime<Utc>,
) -> AppResult<Vec<ClosureView>> {
    let list = store::list(conn, resource_id, Some(to_db(now)), None)?;
    views(conn, list)
}

pub async fn create(app: &App, actor: &Actor, input: ClosureInput) -> AppResult<ClosureView> {
    authz::require(authz::can_manage_closures(actor))?;
    let draft = input.validate(app.tz()).map_err(AppError::Validation)?;
    let (by, now) = (actor.user_id, app.now());
    app.db()
        .run(move |c| {
            c.write(|c| {
                if let Some(r) = draft.resource_id {
                    match resource_store::find(c, r) {
                        Err(AppError::NotFound) => {
                            return Err(AppError::validation("resource_id", "Ressource inconnue."))
                        }
                        other => {
                            other?;
                        }
                    }
                }
                let closure = store::insert(c, &draft, by, to_db(now))?;
                views(c, vec![closure]).map(|mut v| v.remove(0))
            })
        })
        .await
}

pub async fn delete(app: &App, actor: &Actor, id: i64) -> AppResult<()> {
    authz::require(authz::can_manage_closures(actor))?;
    match app
        .db()
        .run(move |c| c.write(|c| store::delete(c, id)))
        .await?
    {
        true => Ok(()),
        false => Err(AppError::NotFound),
    }
}
