//! Shared employees of employer groups: list (with a search by skill), show, create, edit,
//! archive. An employee is a `staff` resource with the facts of the employees table; what a
//! member may see of one is decided here (no date of birth, no cost).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::authz::{self, Actor};
use super::App;
use crate::domain::employee::{
    age_on, contract_violation, has_skill, ContractType, EmployeeDraft, EmployeeInput,
    ManagementFee,
};
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::labour;
use crate::domain::member::LegalForm;
use crate::domain::resource::ResourceKind;
use crate::domain::time::{format_date_fr, format_local, Interval};
use crate::error::{AppError, AppResult};
use crate::store::bookings as booking_store;
use crate::store::employees::{self as store, EmployeeFacts};
use crate::store::members as member_store;
use crate::store::resources::{self as resource_store, Resource, ResourceFilter, ResourceRow};
use crate::store::{from_db, to_db, DbConn};

/// A member, named.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberRef {
    pub id: MemberId,
    pub name: String,
}

/// An employee as one actor sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmployeeView {
    pub id: ResourceId,
    pub name: String,
    pub employer: Option<MemberRef>,
    pub contract_type: ContractType,
    pub contract_end: Option<NaiveDate>,
    pub weekly_contract_hours: f64,
    /// Members named in the mise-à-disposition agreements; empty: every member.
    pub agreement_members: Vec<MemberRef>,
    pub skills: Vec<String>,
    pub location: String,
    pub description: String,
    pub archived: bool,
    /// To those who manage the employee and to the treasurer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<EmployeePrivate>,
    /// The actor may edit or archive the employee, record training and absences.
    pub can_manage: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmployeePrivate {
    pub birth_date: Option<NaiveDate>,
    /// Under 18 today: the rules for minors apply.
    pub minor: bool,
    pub hourly_cost_cents: i64,
    pub fee: Option<ManagementFee>,
    /// Where the employee hears about their assignments.
    pub email: Option<String>,
}

impl EmployeeView {
    fn of(
        r: &Resource,
        f: &EmployeeFacts,
        names: &HashMap<MemberId, String>,
        actor: &Actor,
        today: NaiveDate,
    ) -> EmployeeView {
        let employer = r.row.employer_member_id;
        let named = |id: MemberId| MemberRef {
            id,
            name: names.get(&id).cloned().unwrap_or_default(),
        };
        EmployeeView {
            id: r.row.id,
            name: r.row.name.clone(),
            employer: employer.map(named),
            contract_type: f.contract_type,
            contract_end: f.contract_end,
            weekly_contract_hours: f64::from(r.row.weekly_contract_minutes.unwrap_or(0)) / 60.0,
            agreement_members: f.agreement_member_ids.iter().map(|m| named(*m)).collect(),
            skills: f.skills.clone(),
            location: r.row.location.clone(),
            description: r.row.description.clone(),
            archived: r.row.archived_at.is_some(),
            private: authz::sees_employee_private(actor, employer).then(|| EmployeePrivate {
                birth_date: f.birth_date,
                minor: f.birth_date.is_some_and(|b| age_on(b, today) < 18),
                hourly_cost_cents: r.row.hourly_cost_cents.unwrap_or(0),
                fee: f.fee,
                email: f.email.clone(),
            }),
            can_manage: employer.is_some_and(|e| authz::manages_employer(actor, e)),
        }
    }

    /// The employee as an input, to edit it (for those who manage it).
    pub fn input(&self) -> EmployeeInput {
        let private = self.private.as_ref();
        EmployeeInput {
            name: self.name.clone(),
            employer_member_id: self.employer.as_ref().map_or(MemberId(0), |e| e.id),
            contract_type: self.contract_type.as_str().to_string(),
            contract_end: self.contract_end,
            weekly_contract_hours: self.weekly_contract_hours,
            birth_date: private.and_then(|p| p.birth_date),
            hourly_cost_cents: private.map_or(0, |p| p.hourly_cost_cents),
            fee_coefficient: match private.and_then(|p| p.fee) {
                Some(ManagementFee::CoefficientPermille(p)) => Some(f64::from(p) / 1000.0),
                _ => None,
            },
            fee_monthly_cents: match private.and_then(|p| p.fee) {
                Some(ManagementFee::MonthlyCents(c)) => Some(c),
                _ => None,
            },
            agreement_member_ids: self.agreement_members.iter().map(|m| m.id).collect(),
            skills: self.skills.clone(),
            email: private.and_then(|p| p.email.clone()),
            location: self.location.clone(),
            description: self.description.clone(),
        }
    }
}

/// A listing's filters, for the API and the pages.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmployeeQuery {
    /// A skill, or part of one (case and accents ignored): « chariot » finds « Cariste (chariot) ».
    pub skill: Option<String>,
    /// Part of the name.
    pub q: Option<String>,
    #[serde(default)]
    pub include_archived: bool,
}

/// Who sees an employee in lists: those who manage or bill them and the pole's coordination
/// see all; a member's people see the employees they may have put at their disposal.
fn listed_for(actor: &Actor, employer: Option<MemberId>, f: &EmployeeFacts) -> bool {
    if actor.is_admin() || actor.has(crate::domain::role::PoleRole::ResourceManager) {
        return true;
    }
    if actor.has(crate::domain::role::PoleRole::GeManager) {
        return employer.is_some_and(|e| authz::manages_employer(actor, e));
    }
    if actor.has(crate::domain::role::PoleRole::Treasurer) {
        return true;
    }
    actor
        .member_ids()
        .iter()
        .any(|m| crate::domain::employee::may_work_for(&f.agreement_member_ids, employer, *m))
}

pub(crate) fn views_on(
    conn: &mut DbConn,
    actor: &Actor,
    resources: &[Resource],
    today: NaiveDate,
) -> AppResult<Vec<EmployeeView>> {
    Ok(staff_on(conn, actor, resources, today)?
        .into_iter()
        .map(|s| s.view)
        .collect())
}

/// An employee as the actor sees it, with what the rules need whatever the actor may see.
pub(crate) struct Staff {
    pub view: EmployeeView,
    pub facts: EmployeeFacts,
    pub row: ResourceRow,
}

impl Staff {
    /// The employee as the working-time rules see them.
    pub fn labour(&self) -> labour::Employee {
        labour::Employee {
            birth_date: self.facts.birth_date,
            weekly_contract_minutes: self.row.weekly_contract_minutes.unwrap_or(0),
        }
    }
}

/// The employees among `resources` the actor may see, with their facts (three queries).
pub(crate) fn staff_on(
    conn: &mut DbConn,
    actor: &Actor,
    resources: &[Resource],
    today: NaiveDate,
) -> AppResult<Vec<Staff>> {
    let ids: Vec<ResourceId> = resources.iter().map(|r| r.row.id).collect();
    let facts = store::find_many(conn, &ids)?;
    let mut member_ids: Vec<MemberId> = resources
        .iter()
        .filter_map(|r| r.row.employer_member_id)
        .collect();
    member_ids.extend(
        facts
            .iter()
            .flat_map(|f| f.agreement_member_ids.iter().copied()),
    );
    member_ids.sort();
    member_ids.dedup();
    let names: HashMap<MemberId, String> = member_store::names(conn, &member_ids)?
        .into_iter()
        .collect();
    Ok(resources
        .iter()
        .zip(facts)
        .filter(|(r, f)| listed_for(actor, r.row.employer_member_id, f))
        .map(|(r, f)| Staff {
            view: EmployeeView::of(r, &f, &names, actor, today),
            facts: f,
            row: r.row.clone(),
        })
        .collect())
}

/// Every employee (archived ones too: they worked in past months) the actor may see.
pub(crate) fn all_staff_on(
    conn: &mut DbConn,
    actor: &Actor,
    today: NaiveDate,
) -> AppResult<Vec<Staff>> {
    let resources = resource_store::list(
        conn,
        &ResourceFilter {
            kind: Some(ResourceKind::Staff),
            include_archived: true,
            search: None,
            ..Default::default()
        },
    )?;
    staff_on(conn, actor, &resources, today)
}

pub async fn list(app: &App, actor: &Actor, q: EmployeeQuery) -> AppResult<Vec<EmployeeView>> {
    let (actor, today) = (
        actor.clone(),
        app.now().with_timezone(&app.tz()).date_naive(),
    );
    app.db()
        .run(move |c| {
            let resources = resource_store::list(
                c,
                &ResourceFilter {
                    kind: Some(ResourceKind::Staff),
                    include_archived: q.include_archived,
                    search: q.q.clone().filter(|s| !s.trim().is_empty()),
                    ..Default::default()
                },
            )?;
            let mut views = views_on(c, &actor, &resources, today)?;
            if let Some(skill) = q.skill.as_deref().filter(|s| !s.trim().is_empty()) {
                views.retain(|v| has_skill(&v.skills, skill));
            }
            Ok(views)
        })
        .await
}

/// One employee; not found for those who may not see it.
fn visible(
    conn: &mut DbConn,
    actor: &Actor,
    id: ResourceId,
    today: NaiveDate,
) -> AppResult<EmployeeView> {
    let r = resource_store::find(conn, id)?;
    if r.row.kind != ResourceKind::Staff {
        return Err(AppError::NotFound);
    }
    views_on(conn, actor, &[r], today)?
        .pop()
        .ok_or(AppError::NotFound)
}

pub async fn get(app: &App, actor: &Actor, id: ResourceId) -> AppResult<EmployeeView> {
    let (actor, today) = (
        actor.clone(),
        app.now().with_timezone(&app.tz()).date_naive(),
    );
    app.db().run(move |c| visible(c, &actor, id, today)).await
}

/// The one validator of an employee: every field (domain), then what only the database knows
/// — the employer is a GE / GEIQ member the actor manages, the members of the agreements exist.
fn validate(
    conn: &mut DbConn,
    actor: &Actor,
    input: &EmployeeInput,
    today: NaiveDate,
) -> AppResult<EmployeeDraft> {
    authz::require(authz::manages_employer(actor, input.employer_member_id))?;
    let draft = input.validate(today).map_err(AppError::Validation)?;
    match member_store::find(conn, input.employer_member_id) {
        Ok(m) if LegalForm::parse(&m.legal_form) == Some(LegalForm::GeGeiq) => {}
        Ok(_) => return Err(AppError::validation(
            "employer_member_id",
            "L'employeur d'un salarié partagé est un groupement d'employeurs (forme GE / GEIQ).",
        )),
        Err(AppError::NotFound) => {
            return Err(AppError::validation(
                "employer_member_id",
                "Structure employeuse inconnue.",
            ))
        }
        Err(e) => return Err(e),
    }
    let known = member_store::names(conn, &draft.agreement_member_ids)?;
    if let Some(missing) = draft
        .agreement_member_ids
        .iter()
        .find(|m| !known.iter().any(|(k, _)| k == *m))
    {
        return Err(AppError::validation(
            "agreement_member_ids",
            format!("Structure {missing} inconnue."),
        ));
    }
    Ok(draft)
}

pub async fn create(app: &App, actor: &Actor, input: EmployeeInput) -> AppResult<EmployeeView> {
    let (actor, now) = (actor.clone(), app.now());
    let today = now.with_timezone(&app.tz()).date_naive();
    app.db()
        .run(move |c| {
            c.write(|c| {
                let draft = validate(c, &actor, &input, today)?;
                let r = resource_store::insert(c, &draft.resource, to_db(now))?;
                store::save(c, r.row.id, &draft)?;
                visible(c, &actor, r.row.id, today)
            })
        })
        .await
}

pub async fn replace(
    app: &App,
    actor: &Actor,
    id: ResourceId,
    input: EmployeeInput,
) -> AppResult<EmployeeView> {
    let (actor, now, tz) = (actor.clone(), app.now(), app.tz());
    let today = now.with_timezone(&app.tz()).date_naive();
    app.db()
        .run(move |c| {
            c.write(|c| {
                let current = visible(c, &actor, id, today)?;
                authz::require(current.can_manage)?;
                let draft = validate(c, &actor, &input, today)?;
                if let Some(end) = draft.contract_end {
                    refuse_assignments_beyond(c, id, &draft.resource.name, end, tz)?;
                }
                resource_store::update(c, id, &draft.resource, to_db(now))?;
                store::save(c, id, &draft)?;
                visible(c, &actor, id, today)
            })
        })
        .await
}

/// The employee as an input, for its edit form.
pub async fn edit_input(app: &App, actor: &Actor, id: ResourceId) -> AppResult<EmployeeInput> {
    let e = get(app, actor, id).await?;
    authz::require(e.can_manage)?;
    Ok(e.input())
}

pub async fn set_archived(
    app: &App,
    actor: &Actor,
    id: ResourceId,
    archived: bool,
) -> AppResult<EmployeeView> {
    let (actor, now, tz) = (actor.clone(), app.now(), app.tz());
    let today = now.with_timezone(&app.tz()).date_naive();
    app.db()
        .run(move |c| {
            c.write(|c| {
                let current = visible(c, &actor, id, today)?;
                authz::require(current.can_manage)?;
                if archived {
                    refuse_archive_with_assignments(c, id, &current.name, now, tz)?;
                }
                resource_store::set_archived(c, id, archived.then(|| to_db(now)), to_db(now))?;
                visible(c, &actor, id, today)
            })
        })
        .await
}

/// The active assignments of an employee that end after `since`, by start.
fn assignments_after(
    conn: &mut DbConn,
    id: ResourceId,
    since: DateTime<Utc>,
) -> AppResult<Vec<Interval>> {
    Ok(booking_store::active_after(conn, id, to_db(since))?
        .iter()
        .filter_map(|b| Interval::new(from_db(b.start_at), from_db(b.end_at)))
        .collect())
}

/// A contract may not end before assignments already made (the booking engine would refuse
/// them, `domain::employee::contract_violation`): an error on `contract_end`, nothing changed.
fn refuse_assignments_beyond(
    conn: &mut DbConn,
    id: ResourceId,
    name: &str,
    end: NaiveDate,
    tz: Tz,
) -> AppResult<()> {
    let beyond: Vec<Interval> = assignments_after(conn, id, labour::day_bounds(end, tz).end)?
        .into_iter()
        .filter(|iv| contract_violation(name, Some(end), *iv, tz).is_some())
        .collect();
    match beyond.first() {
        None => Ok(()),
        Some(first) => Err(AppError::validation(
            "contract_end",
            format!(
                "{} mise(s) à disposition de {name} vont au-delà du {} (la première le {}) : \
                 annulez-les ou déplacez-les avant d'avancer la fin du contrat.",
                beyond.len(),
                format_date_fr(end),
                format_local(first.start, tz)
            ),
        )),
    }
}

/// An archived employee leaves the planning: one with assignments to come is not archived
/// (they would go on being billed unseen): 409 `future_assignments`, nothing changed.
fn refuse_archive_with_assignments(
    conn: &mut DbConn,
    id: ResourceId,
    name: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> AppResult<()> {
    let coming = assignments_after(conn, id, now)?;
    match coming.first() {
        None => Ok(()),
        Some(first) => Err(AppError::Conflict {
            code: "future_assignments",
            detail: format!(
                "{} mise(s) à disposition de {name} restent à venir (la première le {}) : \
                 annulez-les avant d'archiver.",
                coming.len(),
                format_local(first.start, tz)
            ),
        }),
    }
}

/// The employer groups the actor may create employees in (for the form).
pub async fn employers(app: &App, actor: &Actor) -> AppResult<Vec<MemberRef>> {
    let actor = actor.clone();
    app.db()
        .run(move |c| {
            Ok(member_store::list(c, &Default::default())?
                .into_iter()
                .filter(|m| LegalForm::parse(&m.legal_form) == Some(LegalForm::GeGeiq))
                .filter(|m| authz::manages_employer(&actor, m.id))
                .map(|m| MemberRef {
                    id: m.id,
                    name: m.name,
                })
                .collect())
        })
        .await
}

/// JSON merge patch (RFC 7396) over the employee's fields: the whole is validated again.
pub async fn patch(
    app: &App,
    actor: &Actor,
    id: ResourceId,
    patch: serde_json::Value,
) -> AppResult<EmployeeView> {
    let current = edit_input(app, actor, id).await?;
    let input = super::merge_patch(&current, patch)?;
    replace(app, actor, id, input).await
}
