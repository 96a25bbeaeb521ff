//! What the employees table adds to a staff resource, and the members of their agreements.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{employee_members, employees};
use super::DbConn;
use crate::db_run;
use crate::domain::employee::{ContractType, EmployeeDraft, ManagementFee};
use crate::domain::ids::{MemberId, ResourceId};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = employees)]
struct EmployeeRow {
    resource_id: ResourceId,
    contract_type: String,
    contract_end: Option<NaiveDate>,
    birth_date: Option<NaiveDate>,
    fee_permille: Option<i32>,
    fee_monthly_cents: Option<i64>,
    skills: String,
    email: Option<String>,
}

/// An employee's contract and the rest, as stored. A staff resource without a row (made
/// through the catalogue) reads as a CDI with no fee, no agreement and no skill.
#[derive(Debug, Clone, PartialEq)]
pub struct EmployeeFacts {
    pub resource_id: ResourceId,
    pub contract_type: ContractType,
    pub contract_end: Option<NaiveDate>,
    pub birth_date: Option<NaiveDate>,
    pub fee: Option<ManagementFee>,
    pub skills: Vec<String>,
    pub agreement_member_ids: Vec<MemberId>,
    pub email: Option<String>,
}

impl EmployeeFacts {
    pub fn default_for(resource_id: ResourceId) -> EmployeeFacts {
        EmployeeFacts {
            resource_id,
            contract_type: ContractType::Cdi,
            contract_end: None,
            birth_date: None,
            fee: None,
            skills: Vec::new(),
            agreement_member_ids: Vec::new(),
            email: None,
        }
    }
}

fn facts(row: EmployeeRow, agreements: Vec<MemberId>) -> AppResult<EmployeeFacts> {
    Ok(EmployeeFacts {
        resource_id: row.resource_id,
        contract_type: ContractType::parse(&row.contract_type).ok_or_else(|| {
            AppError::internal(format!(
                "contract type {:?} in the database",
                row.contract_type
            ))
        })?,
        contract_end: row.contract_end,
        birth_date: row.birth_date,
        fee: match (row.fee_permille, row.fee_monthly_cents) {
            (Some(p), _) => Some(ManagementFee::CoefficientPermille(p)),
            (None, Some(c)) => Some(ManagementFee::MonthlyCents(c)),
            (None, None) => None,
        },
        skills: row
            .skills
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        agreement_member_ids: agreements,
        email: row.email,
    })
}

/// Writes the employee's part of a draft for this resource (insert or replace).
pub fn save(conn: &mut DbConn, id: ResourceId, d: &EmployeeDraft) -> AppResult<()> {
    let (permille, monthly) = match d.fee {
        Some(ManagementFee::CoefficientPermille(p)) => (Some(p), None),
        Some(ManagementFee::MonthlyCents(c)) => (None, Some(c)),
        None => (None, None),
    };
    let skills = d.skills.join(",");
    db_run!(conn => {
        diesel::delete(employees::table.find(id)).execute(conn)?;
        diesel::insert_into(employees::table)
            .values((
                employees::resource_id.eq(id),
                employees::contract_type.eq(d.contract_type.as_str()),
                employees::contract_end.eq(d.contract_end),
                employees::birth_date.eq(d.birth_date),
                employees::fee_permille.eq(permille),
                employees::fee_monthly_cents.eq(monthly),
                employees::skills.eq(&skills),
                employees::email.eq(&d.email),
            ))
            .execute(conn)?;
        diesel::delete(employee_members::table.filter(employee_members::resource_id.eq(id))).execute(conn)?;
        for m in &d.agreement_member_ids {
            diesel::insert_into(employee_members::table)
                .values((employee_members::resource_id.eq(id), employee_members::member_id.eq(*m)))
                .execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// The facts of one employee (defaults when the staff resource has no row).
pub fn find(conn: &mut DbConn, id: ResourceId) -> AppResult<EmployeeFacts> {
    let row: Option<EmployeeRow> = db_run!(conn => employees::table
        .find(id)
        .select(EmployeeRow::as_select())
        .get_result(conn)
        .optional())?;
    let agreements: Vec<MemberId> = db_run!(conn => employee_members::table
        .filter(employee_members::resource_id.eq(id))
        .select(employee_members::member_id)
        .order(employee_members::member_id.asc())
        .load(conn))?;
    match row {
        Some(r) => facts(r, agreements),
        None => Ok(EmployeeFacts {
            agreement_member_ids: agreements,
            ..EmployeeFacts::default_for(id)
        }),
    }
}

/// The facts of these employees, two queries whatever their number.
pub fn find_many(conn: &mut DbConn, ids: &[ResourceId]) -> AppResult<Vec<EmployeeFacts>> {
    let rows: Vec<EmployeeRow> = db_run!(conn => employees::table
        .filter(employees::resource_id.eq_any(ids))
        .select(EmployeeRow::as_select())
        .load(conn))?;
    let agreements: Vec<(ResourceId, MemberId)> = db_run!(conn => employee_members::table
        .filter(employee_members::resource_id.eq_any(ids))
        .select((employee_members::resource_id, employee_members::member_id))
        .order((employee_members::resource_id.asc(), employee_members::member_id.asc()))
        .load(conn))?;
    let of = |id: ResourceId| -> Vec<MemberId> {
        agreements
            .iter()
            .filter(|(r, _)| *r == id)
            .map(|(_, m)| *m)
            .collect()
    };
    ids.iter()
        .map(|id| match rows.iter().find(|r| r.resource_id == *id) {
            Some(r) => facts(r.clone(), of(*id)),
            None => Ok(EmployeeFacts {
                agreement_member_ids: of(*id),
                ..EmployeeFacts::default_for(*id)
            }),
        })
        .collect()
}

/// Where an employee hears about their assignments, if anywhere.
pub fn email_of(conn: &mut DbConn, id: ResourceId) -> AppResult<Option<String>> {
    let email: Option<Option<String>> = db_run!(conn => employees::table
        .find(id)
        .select(employees::email)
        .get_result(conn)
        .optional())?;
    Ok(email.flatten().filter(|e| !e.trim().is_empty()))
}
