//! Quota use cases: everyone sees the quotas; the coordination sets and removes them.

use std::collections::HashMap;

use serde::Serialize;

use super::authz::{self, Actor};
use super::App;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::quota::{Quota, QuotaInput, QuotaScope};
use crate::error::{AppError, AppResult};
use crate::store::{
    members as member_store, quotas as store, resources as resource_store, to_db, DbConn,
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaView {
    pub id: i64,
    pub member_id: Option<MemberId>,
    pub resource_id: Option<ResourceId>,
    pub kind: Option<String>,
    pub max_minutes_per_month: Option<i32>,
    pub max_future_bookings: Option<i32>,
    /// Plain French, e.g. "20 h par mois au plus — salles, par structure".
    pub description: String,
}

fn views(conn: &mut DbConn, quotas: Vec<Quota>) -> AppResult<Vec<QuotaView>> {
    let resource_ids: Vec<ResourceId> = quotas
        .iter()
        .filter_map(|q| match q.scope {
            QuotaScope::Resource(r) => Some(r),
            _ => None,
        })
        .collect();
    let resources: HashMap<ResourceId, String> = resource_store::labels(conn, &resource_ids)?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    let member_ids: Vec<MemberId> = quotas.iter().filter_map(|q| q.member_id).collect();
    let members: HashMap<MemberId, String> = member_store::names(conn, &member_ids)?
        .into_iter()
        .collect();
    Ok(quotas
        .into_iter()
        .map(|q| {
            let (resource_id, kind) = match q.scope {
                QuotaScope::Resource(r) => (Some(r), None),
                QuotaScope::Kind(k) => (None, Some(k.as_str().to_string())),
                QuotaScope::Everything => (None, None),
            };
            let description = q.describe(
                resource_id
                    .and_then(|r| resources.get(&r))
                    .map(String::as_str),
                q.member_id
                    .and_then(|m| members.get(&m))
                    .map(String::as_str),
            );
            QuotaView {
                id: q.id,
                member_id: q.member_id,
                resource_id,
                kind,
                max_minutes_per_month: q.max_minutes_per_month,
                max_future_bookings: q.max_future_bookings,
                description,
            }
        })
        .collect())
}

pub async fn list(app: &App, _actor: &Actor) -> AppResult<Vec<QuotaView>> {
    app.db()
        .run(|c| {
            let quotas = store::list(c)?;
            views(c, quotas)
        })
        .await
}

pub async fn create(app: &App, actor: &Actor, input: QuotaInput) -> AppResult<QuotaView> {
    authz::require(authz::can_manage_quotas(actor))?;
    let quota = input.validate().map_err(AppError::Validation)?;
    let now = app.now();
    app.db()
        .run(move |c| {
            c.write(|c| {
                if let QuotaScope::Resource(r) = quota.scope {
                    if resource_store::labels(c, &[r])?.is_empty() {
                        return Err(AppError::validation("resource_id", "Ressource inconnue."));
                    }
                }
                if let Some(m) = quota.member_id {
                    if member_store::names(c, &[m])?.is_empty() {
                        return Err(AppError::validation("member_id", "Structure inconnue."));
                    }
                }
                let q = store::insert(c, &quota, to_db(now))?;
                views(c, vec![q]).map(|mut v| v.remove(0))
            })
        })
        .await
}

pub async fn delete(app: &App, actor: &Actor, id: i64) -> AppResult<()> {
    authz::require(authz::can_manage_quotas(actor))?;
    app.db()
        .run(move |c| c.write(|c| store::delete(c, id)))
        .await
}
