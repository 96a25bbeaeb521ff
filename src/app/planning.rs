//! The planning of shared employees, as the employer group sees it: the week grid (employees ×
//! days, every member at once, with the week's total against the contract and what the
//! working-time rules say of it), one employee's month, the search for an employee free at a
//! given time with a given skill, and, for a member, the shared-staff hours it received.
//! Assignments themselves are bookings: creating, moving and cancelling them goes through
//! `app::bookings`, which checks the working-time rules again.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::authz::{self, Actor};
use super::employees::{all_staff_on, EmployeeView, MemberRef, Staff};
use super::App;
use crate::domain::employee::{has_skill, may_work_for};
use crate::domain::holidays;
use crate::domain::ids::{BookingId, MemberId, ResourceId};
use crate::domain::labour::{self, Activity, Shift};
use crate::domain::ledger::{self, Assignment, Hours};
use crate::domain::month::Month;
use crate::domain::status::BookingStatus;
use crate::domain::time::{format_hhmm, parse_instant, Interval};
use crate::domain::validation::FieldErrors;
use crate::domain::violation::{Violation, Warning};
use crate::error::{AppError, AppResult};
use crate::store::bookings::{self as booking_store, StaffShift};
use crate::store::members as member_store;
use crate::store::{from_db, to_db, DbConn};

/// The week grid's filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WeekQuery {
    /// Any day of the week shown ("YYYY-MM-DD"); default: today.
    pub date: Option<NaiveDate>,
    /// Only the employees of this employer group.
    pub employer_id: Option<MemberId>,
    /// Only the employees with this skill (part of it; case and accents ignored).
    pub skill: Option<String>,
}

/// The week grid: every employee the actor plans, day by day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekPlan {
    /// The Monday of the week.
    pub monday: NaiveDate,
    pub days: Vec<DayHeading>,
    /// The members met in the week, with the code their blocks carry (the grid's legend
    /// does not rely on colour alone).
    pub legend: Vec<LegendEntry>,
    pub employees: Vec<EmployeeWeek>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayHeading {
    pub date: NaiveDate,
    /// The public holiday's French name, if the day is one.
    pub holiday: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LegendEntry {
    pub member: MemberRef,
    /// « A », « B »… shown in each block of the member.
    pub code: String,
    /// 0 to 7: the palette entry of the member's blocks.
    pub colour: u8,
}

/// One employee's week.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmployeeWeek {
    pub employee: EmployeeView,
    /// Monday to Sunday.
    pub days: Vec<PlanDay>,
    /// Working time of the week (work and training), in minutes.
    pub worked_minutes: i64,
    pub training_minutes: i64,
    pub absence_minutes: i64,
    pub contract_minutes: i64,
    pub overtime_25_minutes: i64,
    pub overtime_50_minutes: i64,
    /// Limits the week's assignments break (assignments made before a rule applied, a date
    /// of birth corrected since…): each one is for the manager to resolve.
    pub violations: Vec<Violation>,
    /// Overtime, complementary hours, Sunday work, 1 May.
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanDay {
    pub date: NaiveDate,
    /// Working time of the day, in minutes.
    pub worked_minutes: i64,
    pub blocks: Vec<PlanBlock>,
}

/// The part of an assignment that falls in one day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanBlock {
    pub booking_id: BookingId,
    pub member: MemberRef,
    /// The member's legend code.
    pub code: String,
    pub colour: u8,
    pub activity: Activity,
    pub status: BookingStatus,
    /// Local "HH:MM" of the part in this day ("24:00" when it runs to midnight).
    pub from: String,
    pub to: String,
    /// The whole assignment.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub recurring: bool,
    pub purpose: String,
}

/// The legend's code of the n-th member: A…Z, then AA, AB…
fn legend_code(n: usize) -> String {
    let letter = |i: usize| char::from(b'A' + (i % 26) as u8);
    if n < 26 {
        letter(n).to_string()
    } else {
        format!("{}{}", letter(n / 26 - 1), letter(n % 26))
    }
}

pub(crate) fn to_shift(s: &StaffShift) -> Option<Shift> {
    Some(Shift {
        id: s.id.0,
        interval: Interval::new(from_db(s.start_at), from_db(s.end_at))?,
        activity: s.activity,
    })
}

/// Members' names, and the legend codes of those whose work is shown.
struct Legend {
    entries: Vec<LegendEntry>,
    names: HashMap<MemberId, String>,
}

impl Legend {
    /// Codes go to the members of the work shown, in name order (training and absences are
    /// the employer group's and have their own marks).
    fn new(conn: &mut DbConn, shifts: &[StaffShift]) -> AppResult<Legend> {
        let mut ids: Vec<MemberId> = shifts.iter().map(|s| s.member_id).collect();
        ids.sort();
        ids.dedup();
        let names: HashMap<MemberId, String> =
            member_store::names(conn, &ids)?.into_iter().collect();
        let mut working: Vec<(MemberId, String)> = shifts
            .iter()
            .filter(|s| s.activity == Activity::Work)
            .map(|s| {
                (
                    s.member_id,
                    names.get(&s.member_id).cloned().unwrap_or_default(),
                )
            })
            .collect();
        working.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        working.dedup();
        Ok(Legend {
            entries: working
                .into_iter()
                .enumerate()
                .map(|(i, (id, name))| LegendEntry {
                    member: MemberRef { id, name },
                    code: legend_code(i),
                    colour: (i % 8) as u8,
                })
                .collect(),
            names,
        })
    }

    fn member(&self, id: MemberId) -> MemberRef {
        MemberRef {
            id,
            name: self.names.get(&id).cloned().unwrap_or_default(),
        }
    }

    fn of(&self, id: MemberId) -> (MemberRef, String, u8) {
        match self.entries.iter().find(|e| e.member.id == id) {
            Some(e) => (e.member.clone(), e.code.clone(), e.colour),
            None => (self.member(id), String::new(), 0),
        }
    }
}

fn hhmm(t: DateTime<Utc>, day: NaiveDate, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    if local.date_naive() != day {
        return "24:00".into();
    }
    format_hhmm((local.hour() * 60 + local.minute()) as u16)
}

/// One employee's week from their shifts around it (the week and a few days on each side,
/// for the rests): blocks per day, totals, and what the rules say of the week's assignments
/// against their neighbours.
fn employee_week(
    staff: &Staff,
    shifts: &[&StaffShift],
    monday: NaiveDate,
    legend: &Legend,
    tz: Tz,
) -> EmployeeWeek {
    let bounds = labour::week_bounds(monday, tz);
    let (mut inside, mut around) = (Vec::new(), Vec::new());
    for s in shifts {
        if let Some(shift) = to_shift(s) {
            if shift.interval.overlaps(&bounds) {
                inside.push(shift);
            } else {
                around.push(shift);
            }
        }
    }
    let verdict = labour::check(&staff.labour(), &around, &inside, tz);
    let by_day = labour::work_minutes_by_day(&inside, tz);
    let mut days: Vec<PlanDay> = (0..7)
        .map(|i| {
            let date = monday + Duration::days(i);
            PlanDay {
                date,
                worked_minutes: by_day.get(&date).copied().unwrap_or(0),
                blocks: Vec::new(),
            }
        })
        .collect();
    for s in shifts {
        let Some(iv) = Interval::new(from_db(s.start_at), from_db(s.end_at)) else {
            continue;
        };
        for (date, piece) in labour::split_by_day(iv, tz) {
            let Some(day) = days.iter_mut().find(|d| d.date == date) else {
                continue;
            };
            let (member, code, colour) = legend.of(s.member_id);
            day.blocks.push(PlanBlock {
                booking_id: s.id,
                member,
                code,
                colour,
                activity: s.activity,
                status: s.status,
                from: hhmm(piece.start, date, tz),
                to: hhmm(piece.end, date, tz),
                start: iv.start,
                end: iv.end,
                recurring: s.series_id.is_some(),
                purpose: s.purpose.clone(),
            });
        }
    }
    let minutes = |activities: &[Activity]| -> i64 {
        labour::minutes_by_week(&inside, activities, tz)
            .get(&monday)
            .copied()
            .unwrap_or(0)
    };
    let worked = minutes(&[Activity::Work, Activity::Training]);
    let overtime = labour::overtime(worked);
    EmployeeWeek {
        employee: staff.view.clone(),
        days,
        worked_minutes: worked,
        training_minutes: minutes(&[Activity::Training]),
        absence_minutes: minutes(&[Activity::Absence]),
        contract_minutes: i64::from(staff.row.weekly_contract_minutes.unwrap_or(0)),
        overtime_25_minutes: overtime.at_25,
        overtime_50_minutes: overtime.at_50,
        violations: verdict.violations,
        warnings: verdict.warnings,
    }
}

/// The active shifts of some employees over a span, at every member, grouped by employee.
pub(crate) struct Shifts {
    all: Vec<StaffShift>,
    by_employee: HashMap<ResourceId, Vec<usize>>,
}

impl Shifts {
    /// One query whatever the number of employees.
    pub fn load(conn: &mut DbConn, ids: &[ResourceId], span: Interval) -> AppResult<Shifts> {
        let all = booking_store::staff_shifts(conn, ids, to_db(span.start), to_db(span.end))?;
        let mut by_employee: HashMap<ResourceId, Vec<usize>> = HashMap::new();
        for (i, s) in all.iter().enumerate() {
            by_employee.entry(s.resource_id).or_default().push(i);
        }
        Ok(Shifts { all, by_employee })
    }

    pub fn all(&self) -> &[StaffShift] {
        &self.all
    }

    /// One employee's, in time order.
    pub fn of(&self, id: ResourceId) -> Vec<&StaffShift> {
        self.by_employee
            .get(&id)
            .map(|v| v.iter().map(|i| &self.all[*i]).collect())
            .unwrap_or_default()
    }
}

/// The span read around a week: two days on each side, for the rests between days.
fn around_week(monday: NaiveDate, tz: Tz) -> Interval {
    let b = labour::week_bounds(monday, tz);
    b.widen(Duration::days(2), Duration::days(2))
}

fn today(app: &App) -> NaiveDate {
    app.now().with_timezone(&app.tz()).date_naive()
}

/// The week grid of the employees the actor plans.
pub async fn week(app: &App, actor: &Actor, q: WeekQuery) -> AppResult<WeekPlan> {
    authz::require(authz::plans_some_staff(actor))?;
    let (actor, tz, today) = (actor.clone(), app.tz(), today(app));
    let monday = labour::week_start(q.date.unwrap_or(today));
    app.db()
        .run(move |c| {
            let staff: Vec<Staff> = all_staff_on(c, &actor, today)?
                .into_iter()
                .filter(|s| !s.view.archived)
                .filter(|s| authz::plans_staff(&actor, s.row.employer_member_id))
                .filter(|s| {
                    q.employer_id
                        .is_none_or(|e| s.row.employer_member_id == Some(e))
                })
                .filter(|s| {
                    q.skill
                        .as_deref()
                        .filter(|k| !k.trim().is_empty())
                        .is_none_or(|k| has_skill(&s.facts.skills, k))
                })
                .collect();
            let ids: Vec<ResourceId> = staff.iter().map(|s| s.row.id).collect();
            let shifts = Shifts::load(c, &ids, around_week(monday, tz))?;
            let bounds = labour::week_bounds(monday, tz);
            let in_week: Vec<StaffShift> = shifts
                .all()
                .iter()
                .filter(|s| from_db(s.start_at) < bounds.end && from_db(s.end_at) > bounds.start)
                .cloned()
                .collect();
            let legend = Legend::new(c, &in_week)?;
            let employees = staff
                .iter()
                .map(|s| employee_week(s, &shifts.of(s.row.id), monday, &legend, tz))
                .collect();
            Ok(WeekPlan {
                monday,
                days: (0..7)
                    .map(|i| {
                        let date = monday + Duration::days(i);
                        DayHeading {
                            date,
                            holiday: holidays::name(date).map(str::to_string),
                        }
                    })
                    .collect(),
                legend: legend.entries,
                employees,
            })
        })
        .await
}

/// One employee's month: the weeks that touch it, and the month's hours per member.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmployeeMonth {
    pub employee: EmployeeView,
    #[schema(value_type = String, example = "2027-01")]
    pub month: Month,
    pub legend: Vec<LegendEntry>,
    pub weeks: Vec<EmployeeWeek>,
    /// Hours of the month at each member (confirmed assignments).
    pub members: Vec<MemberHours>,
    pub total: Hours,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberHours {
    pub member: MemberRef,
    #[serde(flatten)]
    pub hours: Hours,
}

/// Hours per member of one employee in a month, from their confirmed assignments around it.
pub(crate) fn month_lines(shifts: &[&StaffShift], month: Month, tz: Tz) -> Vec<ledger::HoursLine> {
    let assignments: Vec<Assignment> = shifts
        .iter()
        .filter(|s| s.status == BookingStatus::Confirmed)
        .filter_map(|s| {
            Some(Assignment {
                member: s.member_id,
                shift: to_shift(s)?,
            })
        })
        .collect();
    ledger::month_hours(&assignments, month, tz)
}

pub async fn employee_month(
    app: &App,
    actor: &Actor,
    id: ResourceId,
    month: Month,
) -> AppResult<EmployeeMonth> {
    let (actor, tz, today) = (actor.clone(), app.tz(), today(app));
    app.db()
        .run(move |c| {
            let staff = all_staff_on(c, &actor, today)?
                .into_iter()
                .find(|s| s.row.id == id)
                .ok_or(AppError::NotFound)?;
            // Those who plan the employee, and the treasurer who bills the month (from the
            // ledger and the statements).
            authz::require(
                authz::plans_staff(&actor, staff.row.employer_member_id)
                    || authz::sees_staff_ledger(&actor, staff.row.employer_member_id),
            )?;
            let range = ledger::load_range(month, tz);
            let span = range.widen(Duration::days(2), Duration::days(2));
            let shifts = Shifts::load(c, &[id], span)?;
            let legend = Legend::new(c, shifts.all())?;
            let all = shifts.of(id);
            let mut weeks = Vec::new();
            let mut monday = labour::week_start(month.first_day());
            while labour::week_bounds(monday, tz).start < range.end {
                weeks.push(employee_week(&staff, &all, monday, &legend, tz));
                monday += Duration::days(7);
            }
            let lines = month_lines(&all, month, tz);
            let mut total = Hours::default();
            let members = lines
                .iter()
                .map(|l| {
                    total.add(&l.hours);
                    MemberHours {
                        member: legend.member(l.member),
                        hours: l.hours,
                    }
                })
                .collect();
            Ok(EmployeeMonth {
                employee: staff.view,
                month,
                legend: legend.entries,
                weeks,
                members,
                total,
            })
        })
        .await
}

/// An employee for the free search.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    pub employee: EmployeeView,
    /// No assignment or absence meets the interval.
    pub free: bool,
    /// Free, allowed for the member asked about, and no working-time limit broken: the
    /// assignment would be accepted.
    pub available: bool,
    /// The member asked about is outside the employee's agreements.
    pub outside_agreements: bool,
    /// Working time of the week of the interval so far, in minutes.
    pub week_worked_minutes: i64,
    pub contract_minutes: i64,
    pub violations: Vec<Violation>,
    pub warnings: Vec<Warning>,
}

/// « Qui est libre jeudi après-midi et sait conduire un chariot ? »
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FreeQuery {
    /// Start of the slot: RFC 3339, or local "YYYY-MM-DDTHH:MM".
    pub start: String,
    /// End of the slot (24 h after the start at most).
    pub end: String,
    /// A skill, or part of one (case and accents ignored).
    pub skill: Option<String>,
    /// The member the employee would work for: its agreements then count.
    pub member_id: Option<MemberId>,
}

/// The slot of a free search, or every field's error.
fn slot(q: &FreeQuery, tz: Tz) -> AppResult<Interval> {
    let mut e = FieldErrors::new();
    let start = e.check(
        "start",
        parse_instant(&q.start, tz).map_err(|x| x.to_string()),
    );
    let end = e.check("end", parse_instant(&q.end, tz).map_err(|x| x.to_string()));
    if let (Some(start), Some(end)) = (start, end) {
        match Interval::new(start, end) {
            Some(iv) if iv.duration() <= Duration::hours(24) => return Ok(iv),
            Some(_) => e.add("end", "Un créneau de 24 h au plus."),
            None => e.add("end", "La fin doit suivre le début."),
        }
    }
    Err(AppError::Validation(e))
}

/// The employees the actor plans who could work `interval`: the available ones first (the
/// least busy week first), then those free but held back by a rule, then the busy ones.
pub async fn free(app: &App, actor: &Actor, search: FreeQuery) -> AppResult<Vec<Candidate>> {
    authz::require(authz::plans_some_staff(actor))?;
    let (actor, tz, today) = (actor.clone(), app.tz(), today(app));
    let interval = slot(&search, tz)?;
    app.db()
        .run(move |c| {
            let staff: Vec<Staff> = all_staff_on(c, &actor, today)?
                .into_iter()
                .filter(|s| !s.view.archived)
                .filter(|s| authz::plans_staff(&actor, s.row.employer_member_id))
                .filter(|s| {
                    search
                        .skill
                        .as_deref()
                        .filter(|k| !k.trim().is_empty())
                        .is_none_or(|k| has_skill(&s.facts.skills, k))
                })
                .collect();
            let ids: Vec<ResourceId> = staff.iter().map(|s| s.row.id).collect();
            let range = labour::lookup_range(&[interval], tz);
            let shifts = Shifts::load(c, &ids, range)?;
            let week_of = labour::week_start(interval.start.with_timezone(&tz).date_naive());
            let mut out: Vec<Candidate> = staff
                .into_iter()
                .map(|s| {
                    let mine: Vec<Shift> = shifts
                        .of(s.row.id)
                        .into_iter()
                        .filter_map(to_shift)
                        .collect();
                    let free = !mine.iter().any(|m| m.interval.overlaps(&interval));
                    let outside_agreements = search.member_id.is_some_and(|m| {
                        !may_work_for(&s.facts.agreement_member_ids, s.row.employer_member_id, m)
                    });
                    let proposed = Shift {
                        id: i64::MIN,
                        interval,
                        activity: Activity::Work,
                    };
                    let verdict = if free {
                        labour::check(&s.labour(), &mine, &[proposed], tz)
                    } else {
                        labour::LabourVerdict::default()
                    };
                    let week_worked_minutes = labour::work_minutes_by_week(&mine, tz)
                        .get(&week_of)
                        .copied()
                        .unwrap_or(0);
                    Candidate {
                        available: free && !outside_agreements && verdict.is_accepted(),
                        free,
                        outside_agreements,
                        week_worked_minutes,
                        contract_minutes: i64::from(s.row.weekly_contract_minutes.unwrap_or(0)),
                        violations: verdict.violations,
                        warnings: verdict.warnings,
                        employee: s.view,
                    }
                })
                .collect();
            out.sort_by_key(|c| {
                (
                    !c.available,
                    !c.free,
                    c.week_worked_minutes,
                    c.employee.name.clone(),
                )
            });
            Ok(out)
        })
        .await
}

/// The shared-staff hours one member received in a month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberStaffHours {
    pub member: MemberRef,
    #[schema(value_type = String, example = "2027-01")]
    pub month: Month,
    pub employees: Vec<EmployeeHours>,
    pub total: Hours,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmployeeHours {
    pub employee_id: ResourceId,
    pub employee_name: String,
    #[serde(flatten)]
    pub hours: Hours,
}

/// The member's own hours only: each employee's week is judged whole (overtime goes to the
/// member whose assignment passes 35 h), but nothing of the other members is shown.
pub async fn member_hours(
    app: &App,
    actor: &Actor,
    member_id: MemberId,
    month: Month,
) -> AppResult<MemberStaffHours> {
    authz::require(authz::sees_member_staff_hours(actor, member_id))?;
    let (tz, actor) = (app.tz(), actor.clone());
    app.db()
        .run(move |c| {
            let member = member_store::find(c, member_id)?;
            let bounds = month.bounds(tz);
            let worked = booking_store::staff_worked_for(
                c,
                member_id,
                to_db(bounds.start),
                to_db(bounds.end),
            )?;
            // A group's manager sees the hours of its own employees only.
            let names: BTreeMap<ResourceId, String> = crate::store::resources::labels(c, &worked)?
                .into_iter()
                .filter(|l| authz::sees_staff_booking(&actor, member_id, l.employer_member_id))
                .map(|l| (l.id, l.name))
                .collect();
            let ids: Vec<ResourceId> = names.keys().copied().collect();
            let shifts = Shifts::load(c, &ids, ledger::load_range(month, tz))?;
            let mut total = Hours::default();
            let mut employees = Vec::new();
            for (&id, name) in &names {
                if let Some(line) = month_lines(&shifts.of(id), month, tz)
                    .into_iter()
                    .find(|l| l.member == member_id)
                {
                    total.add(&line.hours);
                    employees.push(EmployeeHours {
                        employee_id: id,
                        employee_name: name.clone(),
                        hours: line.hours,
                    });
                }
            }
            employees.sort_by(|a, b| a.employee_name.cmp(&b.employee_name));
            Ok(MemberStaffHours {
                member: MemberRef {
                    id: member.id,
                    name: member.name,
                },
                month,
                employees,
                total,
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_codes_are_letters_then_pairs() {
        assert_eq!(legend_code(0), "A");
        assert_eq!(legend_code(25), "Z");
        assert_eq!(legend_code(26), "AA");
        assert_eq!(legend_code(27), "AB");
        assert_eq!(legend_code(52), "BA");
    }

    #[test]
    fn a_block_running_to_midnight_ends_at_24() {
        let tz: Tz = chrono_tz::Europe::Paris;
        let day = NaiveDate::from_ymd_opt(2027, 1, 12).unwrap();
        let midnight = labour::day_bounds(day, tz).end;
        assert_eq!(hhmm(midnight, day, tz), "24:00");
        assert_eq!(hhmm(labour::day_bounds(day, tz).start, day, tz), "00:00");
    }
}
