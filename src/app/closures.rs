//! Closure use cases: list, record and remove maintenance or holiday periods. Recording one
//! over bookings goes through the guard rails of `app::guard`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::authz::{self, Actor};
use super::bookings::BookingEnv;
use super::guard::{self, BrokenBooking, Guarded, ResourceChange};
use super::App;
use crate::domain::booking::ClosurePeriod;
use crate::domain::closure::ClosureInput;
use crate::domain::guard::{Broken, Cause};
use crate::domain::ids::ResourceId;
use crate::domain::time::Interval;
use crate::error::{AppError, AppResult};
use crate::store::closures::{self as store, Closure};
use crate::store::{
    bookings as booking_store, from_db, resources as resource_store, to_db, DbConn,
};

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

/// Records a closure. When it would break bookings (of the resource, or of every resource for
/// a pole-wide one), answers them and records nothing, unless `force`: then they are cancelled
/// and their bookers told, in the same transaction.
pub async fn create(
    app: &App,
    actor: &Actor,
    input: ClosureInput,
    force: bool,
) -> AppResult<Guarded<ClosureView>> {
    authz::require(authz::can_manage_closures(actor))?;
    let draft = input.validate(app.tz()).map_err(AppError::Validation)?;
    let (actor, env) = (actor.clone(), BookingEnv::of(app));
    // Through the booking writer, the resources locked as booking writes lock them: no
    // booking slips in between the check and the closure.
    app.db()
        .write(move |c| {
            let targets = match draft.resource_id {
                Some(r) => match resource_store::find(c, r) {
                    Err(AppError::NotFound) => {
                        return Err(AppError::validation("resource_id", "Ressource inconnue."))
                    }
                    other => vec![other?.row.id],
                },
                None => resource_store::all_ids(c)?,
            };
            booking_store::lock_resources(c, &targets)?;
            let new = ClosurePeriod {
                interval: Interval::new(draft.start, draft.end)
                    .ok_or_else(|| AppError::validation("end", "La fin doit suivre le début."))?,
                reason: draft.reason.clone(),
            };
            let mut broken: Vec<Vec<(Broken, String)>> = Vec::new();
            for id in targets {
                let found = broken_by(c, id, &new, &env)?;
                if !found.is_empty() {
                    broken.push(found);
                }
            }
            if !broken.is_empty() && !force {
                let mut list: Vec<BrokenBooking> = Vec::new();
                for found in &broken {
                    list.extend(guard::describe(c, found)?);
                }
                list.sort_by_key(|b| (b.start, b.id));
                return Ok(Guarded::WouldBreak(list));
            }
            let closure = store::insert(c, &draft, actor.user_id, to_db(env.now))?;
            for found in &broken {
                guard::cancel_broken(c, &actor, found, &env)?;
            }
            let view = views(c, vec![closure])?.into_iter().next();
            Ok(Guarded::Done(view.ok_or_else(|| {
                AppError::internal("a recorded closure has no view")
            })?))
        })
        .await
}

/// The bookings of one resource that the closure `new` would break.
fn broken_by(
    conn: &mut DbConn,
    id: ResourceId,
    new: &ClosurePeriod,
    env: &BookingEnv,
) -> AppResult<Vec<(Broken, String)>> {
    let r = resource_store::find(conn, id)?;
    let rules = crate::app::bookings::rules_of(&r, 0);
    let before = guard::closures_of(conn, id, env.now - Duration::days(2))?;
    let mut after = before.clone();
    after.push(new.clone());
    let change = ResourceChange {
        resource_id: id,
        before: (&rules, &before),
        after: (&rules, &after),
    };
    let tz = env.tz;
    guard::breaks(conn, &change, env.now, tz, |cause| match cause {
        Cause::Closure(c) => guard::closure_words(c, tz),
        Cause::OpeningHours => "hors des horaires d'ouverture".into(),
        Cause::Capacity | Cause::Composition(_) => "capacité dépassée".into(),
    })
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
