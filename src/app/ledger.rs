//! The hours ledger of shared employees for one month: per employee and per member, the
//! minutes worked, in training, absent, the overtime at +25 % and +50 %, and what each member
//! is charged (the rules: `domain::ledger`). It is what the monthly allocation bills for
//! shared staff; only confirmed assignments count.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::authz::{self, Actor};
use super::employees::{all_staff_on, MemberRef, Staff};
use super::planning::{month_lines, Shifts};
use super::App;
use crate::domain::employee::ManagementFee;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::ledger::{self, Charge, Hours, Rates};
use crate::domain::month::Month;
use crate::error::AppResult;
use crate::store::members as member_store;
use crate::store::DbConn;

/// The month's ledger of every employee the actor may see the costs of.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ledger {
    #[schema(value_type = String, example = "2027-01")]
    pub month: Month,
    /// Employees with hours in the month, by name.
    pub employees: Vec<EmployeeLedger>,
    /// Per member: its hours of every employee and what it is charged, by name.
    pub members: Vec<MemberLedger>,
    pub total: Totals,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmployeeLedger {
    pub employee_id: ResourceId,
    pub employee_name: String,
    pub employer: MemberRef,
    pub hourly_cost_cents: i64,
    pub fee: Option<ManagementFee>,
    pub lines: Vec<LedgerLine>,
    pub total: Totals,
}

/// One employee at one member.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LedgerLine {
    pub member: MemberRef,
    #[serde(flatten)]
    pub charge: Charge,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberLedger {
    pub member: MemberRef,
    #[serde(flatten)]
    pub total: Totals,
}

/// Hours and amounts summed.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct Totals {
    #[serde(flatten)]
    pub hours: Hours,
    pub cost_cents: i64,
    pub overtime_premium_cents: i64,
    pub fee_cents: i64,
    pub total_cents: i64,
}

impl Totals {
    fn add(&mut self, c: &Charge) {
        self.hours.add(&c.hours);
        self.cost_cents += c.cost_cents;
        self.overtime_premium_cents += c.overtime_premium_cents;
        self.fee_cents += c.fee_cents;
        self.total_cents += c.total_cents;
    }
}

/// The ledger of these employees (no authorisation: the caller's), on a connection.
pub(crate) fn ledger_on(
    conn: &mut DbConn,
    staff: &[Staff],
    month: Month,
    tz: chrono_tz::Tz,
) -> AppResult<Ledger> {
    let ids: Vec<ResourceId> = staff.iter().map(|s| s.row.id).collect();
    let shifts = Shifts::load(conn, &ids, ledger::load_range(month, tz))?;
    let mut member_ids: Vec<MemberId> = shifts.all().iter().map(|s| s.member_id).collect();
    member_ids.extend(staff.iter().filter_map(|s| s.row.employer_member_id));
    member_ids.sort();
    member_ids.dedup();
    let names: HashMap<MemberId, String> = member_store::names(conn, &member_ids)?
        .into_iter()
        .collect();
    let named = |id: MemberId| MemberRef {
        id,
        name: names.get(&id).cloned().unwrap_or_default(),
    };
    let mut employees = Vec::new();
    let mut members: BTreeMap<MemberId, Totals> = BTreeMap::new();
    let mut total = Totals::default();
    for s in staff {
        let lines = month_lines(&shifts.of(s.row.id), month, tz);
        if lines.is_empty() {
            continue;
        }
        let rates = Rates {
            employer: s.row.employer_member_id.unwrap_or(MemberId(0)),
            hourly_cost_cents: s.row.hourly_cost_cents.unwrap_or(0),
            fee: s.facts.fee,
        };
        let mut employee_total = Totals::default();
        let lines: Vec<LedgerLine> = ledger::charges(&lines, &rates)
            .into_iter()
            .map(|c| {
                employee_total.add(&c);
                members.entry(c.member_id).or_default().add(&c);
                total.add(&c);
                LedgerLine {
                    member: named(c.member_id),
                    charge: c,
                }
            })
            .collect();
        employees.push(EmployeeLedger {
            employee_id: s.row.id,
            employee_name: s.row.name.clone(),
            employer: named(rates.employer),
            hourly_cost_cents: rates.hourly_cost_cents,
            fee: rates.fee,
            lines,
            total: employee_total,
        });
    }
    employees.sort_by(|a, b| {
        a.employee_name
            .cmp(&b.employee_name)
            .then(a.employee_id.cmp(&b.employee_id))
    });
    let mut members: Vec<MemberLedger> = members
        .into_iter()
        .map(|(id, total)| MemberLedger {
            member: named(id),
            total,
        })
        .collect();
    members.sort_by(|a, b| {
        a.member
            .name
            .cmp(&b.member.name)
            .then(a.member.id.cmp(&b.member.id))
    });
    Ok(Ledger {
        month,
        employees,
        members,
        total,
    })
}

/// The month's ledger of the employees whose costs the actor sees (the treasurer: all; an
/// employer-group manager: the group's), optionally of one employer group.
pub async fn ledger(
    app: &App,
    actor: &Actor,
    month: Month,
    employer: Option<MemberId>,
) -> AppResult<Ledger> {
    authz::require(authz::sees_some_staff_ledger(actor))?;
    let (actor, tz) = (actor.clone(), app.tz());
    let today = app.now().with_timezone(&tz).date_naive();
    app.db()
        .run(move |c| {
            let staff: Vec<Staff> = all_staff_on(c, &actor, today)?
                .into_iter()
                .filter(|s| authz::sees_staff_ledger(&actor, s.row.employer_member_id))
                .filter(|s| employer.is_none_or(|e| s.row.employer_member_id == Some(e)))
                .collect();
            ledger_on(c, &staff, month, tz)
        })
        .await
}
