//! Member use cases: list, show, create, edit, archive.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::authz::{self, Actor};
use crate::domain::member::MemberInput;
use crate::error::{AppError, AppResult};
use crate::store::members::{self as store, Member, MemberFilter};
use crate::store::{to_db, DbConn};

/// A member as shown to an actor; private fields only when the actor may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberOut {
    pub id: i64,
    pub name: String,
    pub legal_form: String,
    pub active: bool,
    pub archived: bool,
    #[serde(flatten)]
    pub private: Option<MemberPrivate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberPrivate {
    pub pricing_category: String,
    pub siret: Option<String>,
    pub email: Option<String>,
    /// Full-time equivalents.
    pub headcount: f64,
    pub turnover_cents: i64,
    pub surface_m2: i32,
}

impl MemberOut {
    pub fn of(m: &Member, actor: &Actor) -> Self {
        Self {
            id: m.id,
            name: m.name.clone(),
            legal_form: m.legal_form.clone(),
            active: m.active,
            archived: m.archived_at.is_some(),
            private: authz::can_view_member_private(actor, m.id).then(|| MemberPrivate {
                pricing_category: m.pricing_category.clone(),
                siret: m.siret.clone(),
                email: m.email.clone(),
                headcount: f64::from(m.headcount_hundredths) / 100.0,
                turnover_cents: m.turnover_cents,
                surface_m2: m.surface_m2,
            }),
        }
    }
}

pub fn input_of(m: &Member) -> MemberInput {
    MemberInput {
        name: m.name.clone(),
        legal_form: m.legal_form.clone(),
        pricing_category: m.pricing_category.clone(),
        siret: m.siret.clone(),
        email: m.email.clone(),
        headcount: f64::from(m.headcount_hundredths) / 100.0,
        turnover_cents: m.turnover_cents,
        surface_m2: m.surface_m2,
        active: m.active,
    }
}

pub fn list(conn: &mut DbConn, actor: &Actor, filter: &MemberFilter) -> AppResult<Vec<Member>> {
    let _ = actor; // every signed-in user sees the directory; private fields are filtered by MemberOut
    store::list(conn, filter)
}

pub fn get(conn: &mut DbConn, _actor: &Actor, id: i64) -> AppResult<Member> {
    store::find(conn, id)
}

const NAME_TAKEN: &str = "Une structure porte déjà ce nom.";

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: &MemberInput,
    now: DateTime<Utc>,
) -> AppResult<Member> {
    authz::require(authz::can_manage_members(actor))?;
    let draft = input.validate().map_err(AppError::Validation)?;
    conn.write(|conn| store::insert(conn, &draft, to_db(now)))
        .map_err(|e| super::unique_as_field(e, "name", NAME_TAKEN))
}

pub fn replace(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: &MemberInput,
    now: DateTime<Utc>,
) -> AppResult<Member> {
    authz::require(authz::can_manage_members(actor))?;
    let draft = input.validate().map_err(AppError::Validation)?;
    conn.write(|conn| {
        store::find(conn, id)?;
        store::update(conn, id, &draft, to_db(now))
    })
    .map_err(|e| super::unique_as_field(e, "name", NAME_TAKEN))
}

pub fn patch(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    patch: Value,
    now: DateTime<Utc>,
) -> AppResult<Member> {
    authz::require(authz::can_manage_members(actor))?;
    let current = store::find(conn, id)?;
    let input = super::merge_patch(&input_of(&current), patch)?;
    replace(conn, actor, id, &input, now)
}

pub fn set_archived(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    archived: bool,
    now: DateTime<Utc>,
) -> AppResult<Member> {
    authz::require(authz::can_manage_members(actor))?;
    conn.write(|conn| {
        store::find(conn, id)?;
        store::set_archived(conn, id, archived.then(|| to_db(now)), to_db(now))
    })
}
