//! `bench seed --staff`: an employer group (GE / GEIQ) with shared employees, the members they
//! are put at the disposal of, and a year of their assignments — each one legal under
//! working-time law by construction — and [`free_slots`], the legal assignments `bench run`
//! proposes on top of them.
//!
//! # The year
//! [`WEEKS_BEFORE`] weeks before the week of `--start`, the rest after (52 weeks in all by
//! default): `bench run` fixes the service's clock at `--start`, so it sees a past quarter and
//! three quarters of planning ahead, and the booking horizon covers the rest.
//!
//! # An employee's week (the pole's local time)
//! A workday is 08:00–12:00 at one member, then 13:00–16:30 at another, or 13:00–14:45 and
//! 14:45–16:30 at two more: 7 h 30 of work, stretches of 4 h and 3 h 30 apart by an hour, and
//! 15 h 30 of rest each night. Full-time employees (35 h contracts) work four weekdays (30 h),
//! part-time ones (28 h and 24 h contracts) three (22 h 30); one weekday (two for part-time)
//! is left free. Public holidays are never worked. Apprentices and professionalisation
//! contracts spend one workday a week in training at the group, the others one every 13
//! weeks; about one workday in 60 is a sick day (an absence at the group, 08:00–16:30); four
//! weeks a year are paid leave, one absence from Monday 00:00 to Saturday 00:00 each. So no
//! day passes 7 h 30, no stretch 4 h, no week 30 h (the limits: 10 h, 6 h, 48 h and 44 h on
//! average), the weekend rest lasts 63 h 30 (35 h), and part-time weeks stay under their
//! contract. Members are taken from the employee's agreements (a seventh of the employees
//! have none: every member may have them).
//!
//! # What is left free
//! [`free_slots`] reads the stored shifts and, week by week, proposes blocks on the employee's
//! free days (08:00–10:00, 10:00–12:00, 13:00–14:45, 14:45–16:30, and for full-time contracts
//! Saturday 08:00–10:00 and 10:00–12:00) while the week stays legal: up to 41 h 30 on a full-time contract (under the 44 h average
//! and 48 h, a sixth day at most, still 44 h of rest from Saturday noon to Monday), up to the
//! complementary hours of a part-time one (a tenth of the contract, under 35 h). Weeks with an
//! absence are left alone. Fewer hours never break a limit, so any subset of the proposals is
//! legal too, and concurrent clients may take them in any order.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration as StdDuration, Instant};

use anyhow::bail;
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::seed::{insert_rows, member_input, SeedBooking, ROWS_PER_TRANSACTION};
use super::{BENCH_GE_MANAGER_EMAIL, BENCH_PASSWORD, BENCH_STAFF_DESCRIPTION};
use crate::app::users;
use crate::db_run;
use crate::domain::employee::EmployeeInput;
use crate::domain::holidays;
use crate::domain::ids::{MemberId, ResourceId};
use crate::domain::labour::{self, Activity, LEGAL_WEEK_MINUTES};
use crate::domain::member::MemberInput;
use crate::domain::status::BookingStatus;
use crate::domain::time::Interval;
use crate::domain::user::{MembershipInput, UserInput};
use crate::error::AppError;
use crate::store::schema::resources;
use crate::store::{
    self, employees as employee_store, members as member_store, resources as resource_store, DbConn,
};

/// Weeks of assignments before the week of `--start`.
pub const WEEKS_BEFORE: u32 = 13;
/// The skill half of the employees share, so the week grid can be asked for half of them.
pub const SHARED_SKILL: &str = "Cariste";
/// Other skills, one or two per employee.
const OTHER_SKILLS: [&str; 9] = [
    "Magasinier",
    "Comptabilité",
    "Accueil",
    "Entretien des espaces verts",
    "Secrétariat",
    "Soudure",
    "Conduite poids lourd",
    "Maraîchage",
    "Paie",
];
const FIRST_NAMES: [&str; 20] = [
    "Camille",
    "Dominique",
    "Claude",
    "Alex",
    "Sacha",
    "Morgane",
    "Yannick",
    "Maxime",
    "Charlie",
    "Lou",
    "Noa",
    "Eden",
    "Andréa",
    "Stéphane",
    "Frédérique",
    "Loïc",
    "Inès",
    "Malik",
    "Rose",
    "Hugo",
];
const LAST_NAMES: [&str; 20] = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard",
];
pub const GROUP_NAME: &str = "Groupement d'employeurs du banc d'essai";

/// Blocks of a day, in local minutes from midnight.
const MORNING: (u32, u32) = (8 * 60, 12 * 60);
const AFTERNOON: (u32, u32) = (13 * 60, 16 * 60 + 30);
const AFTERNOON_1: (u32, u32) = (13 * 60, 14 * 60 + 45);
const AFTERNOON_2: (u32, u32) = (14 * 60 + 45, 16 * 60 + 30);
/// The proposals cut the morning in two: a free day offers four assignments.
const MORNING_1: (u32, u32) = (8 * 60, 10 * 60);
const MORNING_2: (u32, u32) = (10 * 60, 12 * 60);
/// A full-time week may reach 41 h 30 with the proposals: 5 days of 7 h 30 and a Saturday
/// morning, under the 44 h average of any 12 weeks.
const FULL_TIME_WEEK_CAP: i64 = 41 * 60 + 30;

#[derive(Debug, Clone)]
pub struct StaffOptions {
    /// Shared employees of the group.
    pub employees: usize,
    /// Members the employees are put at the disposal of: the seeded members first, more
    /// created when there are fewer.
    pub members: usize,
    /// Weeks of assignments, [`WEEKS_BEFORE`] of them before the week of `--start`.
    pub weeks: u32,
    /// The pole's time zone: workdays are local.
    pub tz: Tz,
}

#[derive(Debug, Clone)]
pub struct StaffReport {
    pub group: MemberId,
    pub employees: usize,
    /// Employees with [`SHARED_SKILL`].
    pub with_shared_skill: usize,
    pub members: usize,
    /// Members created because the seeded ones were fewer than asked.
    pub members_created: usize,
    pub work: u64,
    pub training: u64,
    pub absences: u64,
    pub first_monday: NaiveDate,
    pub weeks: u32,
    pub insert_time: StdDuration,
}

impl StaffReport {
    pub fn rows(&self) -> u64 {
        self.work + self.training + self.absences
    }
}

/// Who an employee is and how their weeks go.
#[derive(Debug, Clone)]
pub struct EmployeePlan {
    pub input: EmployeeInput,
    /// Indexes into the members the employees work for: the agreements (empty: every
    /// member) and the three members the workdays rotate over.
    pub agreements: Vec<usize>,
    pub work_members: Vec<usize>,
    /// Weekdays never worked (0 = Monday).
    pub free_days: Vec<u32>,
    /// Apprentices and professionalisation contracts: a training day every week.
    pub trains_weekly: bool,
    /// Weeks of paid leave (indexes from the first week).
    pub leave_weeks: Vec<u32>,
}

/// The plan of employee `e` (0-based) of `members` members, for a dataset starting on `start`.
pub fn employee_plan(
    e: usize,
    members: usize,
    group: MemberId,
    start: NaiveDate,
    rng: &mut impl Rng,
) -> EmployeePlan {
    let r = e % 20;
    let (contract_type, hours) = match r {
        3 => ("apprenticeship", 35.0),
        8 => ("professionalisation", 35.0),
        5 | 11 => ("cdd", 35.0),
        0..=13 => ("cdi", 35.0),
        14..=16 => ("cdi", 28.0),
        _ => ("cdi", 24.0),
    };
    let alternance = matches!(contract_type, "apprenticeship" | "professionalisation");
    let contract_end =
        (contract_type != "cdi").then(|| start + Duration::days(2 * 365 + (e % 90) as i64));
    let age = if alternance {
        19 + (e % 6) as i32
    } else {
        22 + (e * 7 % 39) as i32
    };
    let birth_date =
        NaiveDate::from_ymd_opt(start.year() - age, 1 + (e % 12) as u32, 1 + (e % 28) as u32);
    let mut skills = Vec::new();
    if e % 2 == 0 {
        skills.push(SHARED_SKILL.to_string());
        skills.push(OTHER_SKILLS[(e / 2) % OTHER_SKILLS.len()].to_string());
    } else {
        skills.push(OTHER_SKILLS[e % OTHER_SKILLS.len()].to_string());
        if e % 3 == 0 {
            skills.push(OTHER_SKILLS[(e + 4) % OTHER_SKILLS.len()].to_string());
        }
    }
    let mut picks: Vec<usize> = Vec::new();
    while picks.len() < 3.min(members) {
        let m = rng.gen_range(0..members);
        if !picks.contains(&m) {
            picks.push(m);
        }
    }
    let agreements = if e % 7 == 0 {
        Vec::new()
    } else {
        picks.clone()
    };
    let name = if e < 400 {
        // e = 20q + r: the last name (q + 3r) % 20 differs for each q, so names are unique.
        format!(
            "{} {}",
            FIRST_NAMES[e % 20],
            LAST_NAMES[(e / 20 + 3 * (e % 20)) % 20]
        )
    } else {
        format!(
            "{} {} {}",
            FIRST_NAMES[e % 20],
            LAST_NAMES[(e / 20) % 20],
            e + 1
        )
    };
    let free = (e % 5) as u32;
    let free_days = if hours < 35.0 {
        vec![free, (free + 2) % 5]
    } else {
        vec![free]
    };
    let first_leave = (e * 5 % 13) as u32;
    let input = EmployeeInput {
        name,
        employer_member_id: group,
        contract_type: contract_type.into(),
        contract_end,
        weekly_contract_hours: hours,
        birth_date,
        hourly_cost_cents: 2_200 + (e as i64 * 37) % 1_200,
        fee_coefficient: (e % 4 != 0).then(|| 1.12 + (e % 5) as f64 / 100.0),
        fee_monthly_cents: (e % 4 == 0).then_some(25_000),
        agreement_member_ids: Vec::new(),
        skills,
        email: None,
        location: "Site du banc d'essai".into(),
        description: BENCH_STAFF_DESCRIPTION.into(),
    };
    EmployeePlan {
        input,
        agreements,
        work_members: picks,
        free_days,
        trains_weekly: alternance,
        leave_weeks: vec![
            first_leave,
            first_leave + 13,
            first_leave + 26,
            first_leave + 27,
        ],
    }
}

/// Who a planned shift is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The employer group itself (training, absences).
    Group,
    /// One of the members, by index.
    Member(usize),
}

/// One shift of the plan, in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedShift {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub activity: Activity,
    pub who: Who,
}

fn at(date: NaiveDate, minutes: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minutes))
}

/// The local wall-clock time as an instant: the earlier one when a DST change repeats it, an
/// hour later when it skips it (none of the plan's times is near 02:00 in Europe/Paris).
pub fn local_instant(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| local.and_utc())
}

/// Employee `e`'s week `week` (0-based) starting on `monday`.
pub fn plan_week(
    p: &EmployeePlan,
    e: usize,
    week: u32,
    monday: NaiveDate,
    rng: &mut impl Rng,
) -> Vec<PlannedShift> {
    if p.leave_weeks.contains(&week) {
        return vec![PlannedShift {
            start: at(monday, 0),
            end: at(monday + Duration::days(5), 0),
            activity: Activity::Absence,
            who: Who::Group,
        }];
    }
    let mut out = Vec::new();
    let workdays: Vec<u32> = (0..5).filter(|d| !p.free_days.contains(d)).collect();
    let trains = p.trains_weekly || week % 13 == (e % 13) as u32;
    let split_days = if p.free_days.len() > 1 { 1 } else { 3 };
    let member = |k: usize| Who::Member(p.work_members[k % p.work_members.len().max(1)]);
    for (position, day) in workdays.iter().enumerate() {
        let date = monday + Duration::days(i64::from(*day));
        if holidays::is_public_holiday(date) {
            continue;
        }
        if rng.gen_ratio(1, 60) {
            out.push(PlannedShift {
                start: at(date, MORNING.0),
                end: at(date, AFTERNOON.1),
                activity: Activity::Absence,
                who: Who::Group,
            });
            continue;
        }
        let block = |(from, to): (u32, u32), activity, who| PlannedShift {
            start: at(date, from),
            end: at(date, to),
            activity,
            who,
        };
        if trains && position == 0 {
            out.push(block(MORNING, Activity::Training, Who::Group));
            out.push(block(AFTERNOON, Activity::Training, Who::Group));
            continue;
        }
        let k = position + week as usize;
        out.push(block(MORNING, Activity::Work, member(k)));
        if position < split_days {
            out.push(block(AFTERNOON_1, Activity::Work, member(k + 1)));
            out.push(block(AFTERNOON_2, Activity::Work, member(k + 2)));
        } else {
            out.push(block(AFTERNOON, Activity::Work, member(k + 1)));
        }
    }
    out
}

fn purpose_of(s: &PlannedShift) -> &'static str {
    match (s.activity, (s.end - s.start).num_hours() >= 24) {
        (Activity::Work, _) => "Mise à disposition",
        (Activity::Training, _) => "Formation en alternance",
        (Activity::Absence, true) => "Congés payés",
        (Activity::Absence, false) => "Arrêt maladie",
    }
}

/// Adds the employer group, its manager, its employees and their assignments. Runs after the
/// general dataset; `members` are its members, reused for the agreements (more are created
/// when there are fewer than `opts.members`).
#[allow(clippy::too_many_arguments)]
pub fn seed_staff(
    conn: &mut DbConn,
    opts: &StaffOptions,
    start: NaiveDate,
    members: &[MemberId],
    password_hash: &str,
    now: DateTime<Utc>,
    rng_seed: u64,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> anyhow::Result<StaffReport> {
    if opts.employees == 0 || opts.members == 0 {
        bail!("--employees and --staff-members must each be at least 1");
    }
    if opts.employees > 10_000 || opts.members > 10_000 {
        bail!("--employees and --staff-members are limited to 10 000");
    }
    if opts.weeks <= WEEKS_BEFORE || opts.weeks > 520 {
        bail!(
            "--staff-weeks: {} to 520 ({WEEKS_BEFORE} of them before --start)",
            WEEKS_BEFORE + 1
        );
    }
    let setup = |e: AppError| anyhow::anyhow!("{}", e.detail());
    let first_monday = labour::week_start(start) - Duration::weeks(i64::from(WEEKS_BEFORE));
    let created_at = store::to_db(now);

    // Members, the group and its manager: a few hundred rows through the store functions.
    let mut staff_members: Vec<MemberId> = members.iter().take(opts.members).copied().collect();
    let members_created = opts.members - staff_members.len();
    let mut group = MemberId(0);
    conn.write(|c| {
        for i in members.len()..members.len() + members_created {
            let draft = member_input(i).validate().map_err(AppError::Validation)?;
            staff_members.push(member_store::insert(c, &draft, created_at)?.id);
        }
        let input = MemberInput {
            name: GROUP_NAME.into(),
            legal_form: "ge_geiq".into(),
            pricing_category: "standard".into(),
            siret: None,
            email: Some("ge@bench.mutualise.test".into()),
            headcount: opts.employees as f64,
            turnover_cents: 100_000_000,
            surface_m2: 40,
            active: true,
        };
        let draft = input.validate().map_err(AppError::Validation)?;
        group = member_store::insert(c, &draft, created_at)?.id;
        Ok(())
    })
    .map_err(setup)?;
    let manager = UserInput {
        email: BENCH_GE_MANAGER_EMAIL.into(),
        name: "Planning du groupement (banc d'essai)".into(),
        password: Some(BENCH_PASSWORD.into()),
        roles: vec!["ge_manager".into()],
        memberships: vec![MembershipInput {
            member_id: group,
            role: "member_admin".into(),
        }],
        active: true,
    };
    let draft = manager.validate(true).map_err(|e| anyhow::anyhow!("{e}"))?;
    let manager_id = users::create_unchecked(conn, &draft, password_hash, now)
        .map_err(setup)?
        .user
        .id;

    // Employees: a staff resource and its employees row each, agreements included.
    let mut rng = StdRng::seed_from_u64(rng_seed ^ 0x57AF_F5EE);
    let plans: Vec<EmployeePlan> = (0..opts.employees)
        .map(|e| {
            let mut p = employee_plan(e, staff_members.len(), group, start, &mut rng);
            p.input.agreement_member_ids = p.agreements.iter().map(|m| staff_members[*m]).collect();
            p
        })
        .collect();
    let mut ids: Vec<ResourceId> = Vec::with_capacity(plans.len());
    conn.write(|c| {
        for p in &plans {
            let draft = p.input.validate(start).map_err(AppError::Validation)?;
            let id = resource_store::insert(c, &draft.resource, created_at)?
                .row
                .id;
            employee_store::save(c, id, &draft)?;
            ids.push(id);
        }
        Ok(())
    })
    .map_err(setup)?;

    // Assignments, week by week for every employee (rows of one employee are spread over the
    // table as real ones are), planned first so the total is known.
    let mut rows: Vec<SeedBooking> = Vec::new();
    let mut longest = vec![0i64; plans.len()];
    let (mut work, mut training, mut absences) = (0u64, 0u64, 0u64);
    for w in 0..opts.weeks {
        let monday = first_monday + Duration::weeks(i64::from(w));
        let week_start = rows.len();
        for (e, p) in plans.iter().enumerate() {
            for s in plan_week(p, e, w, monday, &mut rng) {
                let (start_at, end_at) = (
                    store::to_db(local_instant(s.start, opts.tz)),
                    store::to_db(local_instant(s.end, opts.tz)),
                );
                longest[e] = longest[e].max((end_at - start_at).num_minutes());
                match s.activity {
                    Activity::Work => work += 1,
                    Activity::Training => training += 1,
                    Activity::Absence => absences += 1,
                }
                let created = start_at.min(created_at) - Duration::days(7);
                rows.push(SeedBooking {
                    resource_id: ids[e],
                    member_id: match s.who {
                        Who::Group => group,
                        Who::Member(m) => staff_members[m],
                    },
                    created_by: Some(manager_id),
                    series_id: None,
                    start_at,
                    end_at,
                    // No buffers on staff: the blocked span is the assignment itself.
                    block_start_at: start_at,
                    block_end_at: end_at,
                    quantity: 1,
                    exclusive: true,
                    status: BookingStatus::Confirmed,
                    purpose: purpose_of(&s),
                    beneficiary: None,
                    created_at: created,
                    updated_at: created,
                    activity: s.activity,
                });
            }
        }
        rows[week_start..].sort_by_key(|r| r.start_at);
    }
    let total = rows.len() as u64;
    progress("assignments", 0, total);
    let started = Instant::now();
    let mut done = 0u64;
    for batch in rows.chunks(ROWS_PER_TRANSACTION) {
        conn.write(|c| insert_rows(c, batch))
            .map_err(|e| anyhow::anyhow!("inserting assignments: {}", e.detail()))?;
        done += batch.len() as u64;
        progress("assignments", done, total);
    }
    let insert_time = started.elapsed();
    // The overlap queries look back by the longest span ever booked on the employee (store::
    // bookings::note_span keeps it for the service's own bookings): blocked minutes + 1.
    conn.write(|c| {
        for (e, minutes) in longest.iter().enumerate() {
            let value = i32::try_from(minutes + 1).unwrap_or(i32::MAX);
            db_run!(c => diesel::update(resources::table.find(ids[e]))
                .set(resources::longest_block_minutes.eq(value))
                .execute(c))?;
        }
        Ok(())
    })
    .map_err(setup)?;
    Ok(StaffReport {
        group,
        employees: plans.len(),
        with_shared_skill: plans
            .iter()
            .filter(|p| p.input.skills.iter().any(|s| s == SHARED_SKILL))
            .count(),
        members: staff_members.len(),
        members_created,
        work,
        training,
        absences,
        first_monday,
        weeks: opts.weeks,
        insert_time,
    })
}

// ---- what `bench run` proposes ----

/// A stored shift of an employee, as [`free_slots`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownShift {
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub interval: Interval,
    pub activity: Activity,
}

/// An employee as [`free_slots`] sees them.
#[derive(Debug, Clone)]
pub struct SlotEmployee {
    pub id: ResourceId,
    pub weekly_contract_minutes: i32,
    /// Members the proposals go to, in turn (members the employee may work for).
    pub members: Vec<MemberId>,
}

/// One assignment to propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    pub interval: Interval,
}

/// Most working minutes a week of this contract may hold with the proposals.
fn week_cap(contract_minutes: i32) -> i64 {
    let c = i64::from(contract_minutes);
    if c <= 0 || c >= LEGAL_WEEK_MINUTES {
        FULL_TIME_WEEK_CAP
    } else {
        // Complementary hours: a tenth of the contract at most, and never 35 h.
        (c + c / 10).min(LEGAL_WEEK_MINUTES - 1)
    }
}

/// Legal assignments on the employees' free days, `weeks` weeks from `first_monday`, given
/// their stored shifts (see the module's doc). Ordered week by week, and within a week by
/// rank, employees varying fastest: consecutive proposals go to different employees.
pub fn free_slots(
    employees: &[SlotEmployee],
    shifts: &[KnownShift],
    first_monday: NaiveDate,
    weeks: u32,
    tz: Tz,
) -> Vec<Proposal> {
    let mut by_employee: HashMap<ResourceId, Vec<&KnownShift>> = HashMap::new();
    for s in shifts {
        by_employee.entry(s.resource_id).or_default().push(s);
    }
    let mut out = Vec::new();
    for w in 0..weeks {
        let monday = first_monday + Duration::weeks(i64::from(w));
        let bounds = labour::week_bounds(monday, tz);
        let mut lists: Vec<Vec<Proposal>> = Vec::with_capacity(employees.len());
        for emp in employees.iter().filter(|e| !e.members.is_empty()) {
            let mine: Vec<&KnownShift> = by_employee
                .get(&emp.id)
                .map(|v| {
                    v.iter()
                        .filter(|s| s.interval.overlaps(&bounds))
                        .copied()
                        .collect()
                })
                .unwrap_or_default();
            if mine.iter().any(|s| s.activity == Activity::Absence) {
                lists.push(Vec::new());
                continue;
            }
            let mut worked: i64 = mine
                .iter()
                .filter(|s| s.activity.is_working_time())
                .filter_map(|s| s.interval.intersection(&bounds))
                .map(|iv| iv.duration().num_minutes())
                .sum();
            let busy: BTreeSet<NaiveDate> = mine
                .iter()
                .flat_map(|s| labour::split_by_day(s.interval, tz))
                .map(|(d, _)| d)
                .collect();
            let cap = week_cap(emp.weekly_contract_minutes);
            let full_time = cap == FULL_TIME_WEEK_CAP;
            let mut list = Vec::new();
            for d in 0..6 {
                let date = monday + Duration::days(d);
                if busy.contains(&date) || holidays::is_public_holiday(date) {
                    continue;
                }
                let blocks: &[(u32, u32)] = if date.weekday() == Weekday::Sat {
                    if full_time {
                        &[MORNING_1, MORNING_2]
                    } else {
                        &[]
                    }
                } else {
                    &[MORNING_1, MORNING_2, AFTERNOON_1, AFTERNOON_2]
                };
                for (from, to) in blocks {
                    let minutes = i64::from(to - from);
                    if worked + minutes > cap {
                        continue;
                    }
                    worked += minutes;
                    let k = list.len() + w as usize;
                    list.push(Proposal {
                        resource_id: emp.id,
                        member_id: emp.members[k % emp.members.len()],
                        interval: Interval {
                            start: local_instant(at(date, *from), tz),
                            end: local_instant(at(date, *to), tz),
                        },
                    });
                }
            }
            lists.push(list);
        }
        let ranks = lists.iter().map(Vec::len).max().unwrap_or(0);
        for r in 0..ranks {
            out.extend(lists.iter().filter_map(|l| l.get(r)).copied());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::labour::{Employee, Shift};
    use chrono::Timelike;

    const PARIS: Tz = chrono_tz::Europe::Paris;

    /// Every shift of a plan as the labour rules see it.
    fn shifts_of(plan: &[PlannedShift]) -> Vec<Shift> {
        plan.iter()
            .enumerate()
            .map(|(i, s)| Shift {
                id: i as i64,
                interval: Interval {
                    start: local_instant(s.start, PARIS),
                    end: local_instant(s.end, PARIS),
                },
                activity: s.activity,
            })
            .collect()
    }

    #[test]
    fn a_year_of_every_kind_of_employee_is_legal_with_all_its_free_slots() {
        let start = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
        let first_monday = start - Duration::weeks(i64::from(WEEKS_BEFORE));
        let mut rng = StdRng::seed_from_u64(5);
        // One employee of each contract pattern (e % 20), over 40 weeks with Easter and May.
        for e in [0, 3, 8, 5, 14, 17, 21] {
            let p = employee_plan(e, 60, MemberId(999), start, &mut rng);
            let draft = p.input.validate(start).expect("valid employee");
            let employee = Employee {
                birth_date: draft.birth_date,
                weekly_contract_minutes: draft.resource.weekly_contract_minutes.unwrap(),
            };
            let mut planned = Vec::new();
            for w in 0..40 {
                planned.extend(plan_week(
                    &p,
                    e,
                    w,
                    first_monday + Duration::weeks(w.into()),
                    &mut rng,
                ));
            }
            let seeded = shifts_of(&planned);
            let verdict = labour::check(&employee, &[], &seeded, PARIS);
            assert!(verdict.is_accepted(), "e={e}: {:?}", verdict.violations);
            let known: Vec<KnownShift> = seeded
                .iter()
                .map(|s| KnownShift {
                    resource_id: ResourceId(1),
                    member_id: MemberId(1),
                    interval: s.interval,
                    activity: s.activity,
                })
                .collect();
            let slot_employee = SlotEmployee {
                id: ResourceId(1),
                weekly_contract_minutes: employee.weekly_contract_minutes,
                members: vec![MemberId(1), MemberId(2)],
            };
            // The proposals cover the seeded weeks after the first quarter, and weeks beyond.
            let proposals = free_slots(&[slot_employee], &known, start, 35, PARIS);
            assert!(proposals.len() > 20, "e={e}: {} proposals", proposals.len());
            let mut all = seeded.clone();
            all.extend(proposals.iter().enumerate().map(|(i, p)| Shift {
                id: -1 - i as i64,
                interval: p.interval,
                activity: Activity::Work,
            }));
            for (i, a) in all.iter().enumerate() {
                for b in &all[i + 1..] {
                    assert!(!a.interval.overlaps(&b.interval), "e={e}: {a:?} {b:?}");
                }
            }
            let verdict = labour::check(&employee, &[], &all, PARIS);
            assert!(
                verdict.is_accepted(),
                "e={e}: with the proposals {:?}",
                verdict.violations
            );
            // What `bench run` sends to be refused: an evening after a full seeded day.
            let day = planned
                .iter()
                .find(|s| s.activity == Activity::Work && s.start.time().hour() == 8)
                .unwrap()
                .start
                .date();
            let evening = Shift {
                id: -1,
                interval: Interval {
                    start: local_instant(at(day, 18 * 60), PARIS),
                    end: local_instant(at(day, 21 * 60), PARIS),
                },
                activity: Activity::Work,
            };
            let verdict = labour::check(&employee, &seeded, &[evening], PARIS);
            assert!(!verdict.is_accepted(), "e={e}: an evening of a full day");
        }
    }

    #[test]
    fn half_the_employees_share_the_skill_and_names_are_unique() {
        let mut rng = StdRng::seed_from_u64(1);
        let start = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
        let plans: Vec<EmployeePlan> = (0..200)
            .map(|e| employee_plan(e, 60, MemberId(1), start, &mut rng))
            .collect();
        let shared = plans
            .iter()
            .filter(|p| {
                crate::domain::employee::has_skill(&p.input.skills, &SHARED_SKILL.to_lowercase())
            })
            .count();
        assert_eq!(shared, 100);
        let names: BTreeSet<&str> = plans.iter().map(|p| p.input.name.as_str()).collect();
        assert_eq!(names.len(), 200);
        assert!(plans.iter().any(|p| p.agreements.is_empty()));
        assert!(plans.iter().all(|p| p.work_members.len() == 3));
    }
}
