//! Resource catalogue use cases: list, show, create, edit, archive.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::authz::{self, Actor};
use crate::domain::resource::{
    OpeningSlotInput, ResourceDraft, ResourceInput, ResourceKind, TariffInput,
};
use crate::error::{AppError, AppResult};
use crate::store::resources::{self as store, Resource, ResourceFilter};
use crate::store::{members as member_store, to_db, DbConn};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceOut {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub location: String,
    pub capacity: i32,
    pub opening_hours: Vec<OpeningSlotInput>,
    pub min_duration_minutes: Option<i32>,
    pub max_duration_minutes: Option<i32>,
    pub buffer_before_minutes: i32,
    pub buffer_after_minutes: i32,
    pub requires_approval: bool,
    pub allowed_categories: Vec<String>,
    pub tariff: TariffInput,
    pub seats: Option<i32>,
    pub plate: Option<String>,
    pub energy: Option<String>,
    pub odometer_km: Option<i64>,
    pub employer_member_id: Option<i64>,
    pub weekly_contract_hours: Option<f64>,
    /// Shown to the pole's team only: it reveals a salary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hourly_cost_cents: Option<i64>,
    /// Composite resources: the whole this resource is a part of.
    pub parent_id: Option<i64>,
    pub archived: bool,
}

impl ResourceOut {
    pub fn of(r: &Resource, actor: &Actor) -> Self {
        let input = input_of(r);
        Self {
            id: r.row.id,
            kind: input.kind,
            name: input.name,
            description: input.description,
            location: input.location,
            capacity: input.capacity,
            opening_hours: input.opening_hours,
            min_duration_minutes: input.min_duration_minutes,
            max_duration_minutes: input.max_duration_minutes,
            buffer_before_minutes: input.buffer_before_minutes,
            buffer_after_minutes: input.buffer_after_minutes,
            requires_approval: input.requires_approval,
            allowed_categories: input.allowed_categories,
            tariff: input.tariff,
            seats: input.seats,
            plate: input.plate,
            energy: input.energy,
            odometer_km: input.odometer_km,
            employer_member_id: input.employer_member_id,
            weekly_contract_hours: input.weekly_contract_hours,
            hourly_cost_cents: if actor.is_pole_team() {
                input.hourly_cost_cents
            } else {
                None
            },
            parent_id: input.parent_id,
            archived: r.row.archived_at.is_some(),
        }
    }
}

pub fn input_of(r: &Resource) -> ResourceInput {
    let row = &r.row;
    ResourceInput {
        kind: row.kind.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        location: row.location.clone(),
        capacity: row.capacity,
        opening_hours: r.opening_hours.iter().map(OpeningSlotInput::from).collect(),
        min_duration_minutes: row.min_duration_minutes,
        max_duration_minutes: row.max_duration_minutes,
        buffer_before_minutes: row.buffer_before_minutes,
        buffer_after_minutes: row.buffer_after_minutes,
        requires_approval: row.requires_approval,
        allowed_categories: r.allowed_categories(),
        tariff: TariffInput {
            hourly_cents: row.hourly_cents,
            daily_cap_cents: row.daily_cap_cents,
            per_km_cents: row.per_km_cents,
            billing_unit_minutes: row.billing_unit_minutes,
        },
        seats: row.seats,
        plate: row.plate.clone(),
        energy: row.energy.clone(),
        odometer_km: row.odometer_km,
        employer_member_id: row.employer_member_id,
        weekly_contract_hours: row.weekly_contract_minutes.map(|m| f64::from(m) / 60.0),
        hourly_cost_cents: row.hourly_cost_cents,
        parent_id: row.parent_id,
    }
}

pub fn list(
    conn: &mut DbConn,
    _actor: &Actor,
    filter: &ResourceFilter,
) -> AppResult<Vec<Resource>> {
    store::list(conn, filter)
}

pub fn get(conn: &mut DbConn, _actor: &Actor, id: i64) -> AppResult<Resource> {
    store::find(conn, id)
}

fn validate(conn: &mut DbConn, actor: &Actor, input: &ResourceInput) -> AppResult<ResourceDraft> {
    // Authorise on the kind asked for before reporting field errors, so a caller without the
    // right learns nothing from validation.
    if let Some(kind) = ResourceKind::parse(&input.kind) {
        authz::require(authz::can_manage_resource_kind(actor, kind))?;
    } else {
        authz::require(
            actor.is_admin() || actor.has(crate::domain::role::PoleRole::ResourceManager),
        )?;
    }
    let draft = input.validate().map_err(AppError::Validation)?;
    if let Some(employer) = draft.employer_member_id {
        if member_store::names(conn, &[employer])?.is_empty() {
            return Err(AppError::validation(
                "employer_member_id",
                "Structure employeuse inconnue.",
            ));
        }
    }
    if let Some(parent) = draft.parent_id {
        let p = match store::find(conn, parent) {
            Err(AppError::NotFound) => {
                return Err(AppError::validation(
                    "parent_id",
                    "Ressource parente inconnue.",
                ))
            }
            other => other?,
        };
        if p.row.parent_id.is_some() || ResourceKind::parse(&p.row.kind) != Some(draft.kind) {
            return Err(AppError::validation(
                "parent_id",
                "La ressource parente doit être du même type et ne pas être elle-même une partie.",
            ));
        }
    }
    Ok(draft)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    input: &ResourceInput,
    now: DateTime<Utc>,
) -> AppResult<Resource> {
    let draft = validate(conn, actor, input)?;
    conn.write(|conn| store::insert(conn, &draft, to_db(now)))
}

pub fn replace(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    input: &ResourceInput,
    now: DateTime<Utc>,
) -> AppResult<Resource> {
    let current = store::find(conn, id)?;
    authz::require(authz::can_manage_resource_kind(actor, kind_of(&current)))?;
    let draft = validate(conn, actor, input)?;
    if draft.parent_id == Some(id) {
        return Err(AppError::validation(
            "parent_id",
            "Une ressource ne peut être une partie d'elle-même.",
        ));
    }
    if draft.parent_id.is_some() && !store::children(conn, id)?.is_empty() {
        return Err(AppError::validation(
            "parent_id",
            "Cette ressource a déjà des parties : elle ne peut être une partie.",
        ));
    }
    conn.write(|conn| store::update(conn, id, &draft, to_db(now)))
}

pub fn patch(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    patch: Value,
    now: DateTime<Utc>,
) -> AppResult<Resource> {
    let current = store::find(conn, id)?;
    authz::require(authz::can_manage_resource_kind(actor, kind_of(&current)))?;
    let input = super::merge_patch(&input_of(&current), patch)?;
    replace(conn, actor, id, &input, now)
}

pub fn set_archived(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    archived: bool,
    now: DateTime<Utc>,
) -> AppResult<Resource> {
    let current = store::find(conn, id)?;
    authz::require(authz::can_manage_resource_kind(actor, kind_of(&current)))?;
    conn.write(|conn| {
        store::set_archived(conn, id, archived.then(|| to_db(now)), to_db(now))?;
        store::find(conn, id)
    })
}

pub fn kind_of(r: &Resource) -> ResourceKind {
    ResourceKind::parse(&r.row.kind).unwrap_or(ResourceKind::Equipment)
}
