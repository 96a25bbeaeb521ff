//! French working-time law for the shared employees of employer groups (issue 8 §3–§4): the
//! limits an assignment must keep, checked per employee across all members in the pole's time
//! zone, and the warnings (overtime, complementary hours, Sunday, 1 May) an accepted one
//! carries.
//!
//! # Working time
//! Work and training are working time; absences (leave, sickness) are not: they count as rest
//! and never break a rule. Overlapping shifts count once. Every duration is real elapsed time
//! between UTC instants, so the night of the October change is an hour longer; days (local
//! midnight to local midnight) and weeks (Monday 00:00 to Monday 00:00) are the pole's local
//! ones, and a shift counts in each day and week it touches, for the part it spends there.
//!
//! # The rules (adults; minors' limits in parentheses)
//! - **Daily hours** (L3121-18, L3162-1): at most 10 h (8 h) of work in a civil day.
//! - **Work without break** (L3121-16, L3162-3): pieces of work separated by less than
//!   20 minutes (30) form one stretch; a stretch holds at most 6 h (4 h 30) of work.
//! - **Weekly hours** (L3121-20, L3162-1): at most 48 h (35 h) in a week.
//! - **Average weekly hours** (L3121-22): at most 44 h a week on average over any 12
//!   consecutive weeks, i.e. 528 h in those weeks.
//! - **Daily rest** (L3131-1, L3164-1): 11 consecutive hours (12 h, 14 h under 16) "between
//!   two working days". A *working day* starts with the first work after the previous working
//!   day's rest, at instant `s`; its daily rest is the first rest (time without work) that
//!   starts before `s + 24 h` and lasts at least 11 h before `s + 24 h`. If there is none, the
//!   working day breaks the rule; its rest is then the longest one that starts before
//!   `s + 24 h` (counted up to `s + 24 h`, earliest on ties; none is 0), and the next working
//!   day starts after it. With one shift a day this is simply the gap between the end of one
//!   day's work and the start of the next. Unlike a rule on civil dates, it leaves a pause
//!   inside a night shift alone (even across midnight), catches a day shift taken 8 h after a
//!   night shift ended the same morning, and holds a working day to the 13 h span (amplitude)
//!   that French practice derives from L3131-1 (24 h − 11 h).
//! - **Working days** (L3132-1): at most 6 working days in a week, counted as the distinct
//!   local dates on which working days (as above) start in that week, so six night shifts
//!   Monday to Saturday are six days, not seven dates touched.
//! - **Weekly rest** (L3132-2, L3164-2): each week in which the employee works must be touched
//!   by a rest of at least 35 consecutive hours (24 h + the 11 h of daily rest); the rest may
//!   begin or end outside the week (a rest from Saturday evening to Monday morning serves both
//!   weeks). A minor needs two consecutive civil days without work instead, at least one of
//!   them in the week.
//! - **Night work**, minors only (L3163-2): no work between 22:00 and 06:00 local (20:00 and
//!   06:00 under 16).
//! - **Public holidays**, minors only (L3164-6): no work on a public holiday
//!   ([`super::holidays`]).
//! - **Complementary hours** (L3123-9, L3123-20): a part-time employee (contract under 35 h)
//!   may work beyond the contract by at most a tenth of it, and never 35 h or more.
//!
//! A person is a minor on every date before the 18th birthday (under 16 before the 16th; born
//! on 29 February, the birthday of a common year is 1 March). Rules of a day use that day's
//! age; a week is a minor's week when the employee is a minor on a day of it with work; a
//! stretch and a working day use the age on the date they start; a night uses each part's date.
//!
//! # Warnings
//! Accepted but reported: hours beyond 35 in a week for a full-time employee (overtime: the
//! 36th to 43rd hours at +25 %, beyond at +50 %), a part-time contract exceeded within the
//! limits above (complementary hours), work on a Sunday, an adult's work on 1 May.
//!
//! # What a proposal is blamed for
//! [`check`] judges the stored shifts alone and then with the proposal, both over the same
//! shifts, and reports a finding of the second judgement only when the first has no finding
//! of the same rule over the same period (the same day, week, stretch, working day, night or
//! 12 weeks) that is as bad (for limits on rest: as long a rest; otherwise: as large a figure).
//! So a limit that stored shifts already break elsewhere never refuses a proposal, and one it
//! makes worse does. Warnings follow the same rule (a week already in overtime is mentioned
//! again only when the proposal adds to it). Overlapping 12-week windows broken together are
//! reported once, by the worst of them.
//!
//! # What must be loaded
//! [`lookup_range`] spans 11 weeks before the first week a proposal touches and 11 weeks after
//! the last (whole local weeks): every 12-week window containing a touched week, and far more
//! than the rests on either side need. Only the 12-week average needs all of it, and only as
//! weekly totals: the other rules are judged over the work around the proposal ([`focus`]:
//! two weeks on each side, widened to a rest of 14 h or more), which gives the same verdict
//! (property-tested against judging everything everywhere). Complexity of [`check`] for `n`
//! shifts over `d` local days: O(n log² n + d log d), whatever the input: the daily-rest walk
//! uses a sparse table, and at most the 200 supported years of days are ever walked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::holidays;
use super::time::{format_date_fr, format_local, format_span, supported_range, Interval};
use super::violation::{Measure, Unit, Violation, ViolationCode, Warning, WarningCode};

/// The legal working week (L3121-27): overtime starts beyond it.
pub const LEGAL_WEEK_MINUTES: i64 = 35 * 60;
/// Overtime beyond this weekly figure is paid +50 % instead of +25 % (L3121-36).
pub const OVERTIME_50_FROM_MINUTES: i64 = 43 * 60;

const DAILY_MAX: i64 = 10 * 60;
const MINOR_DAILY_MAX: i64 = 8 * 60;
const STRETCH_MAX: i64 = 6 * 60;
const MINOR_STRETCH_MAX: i64 = 4 * 60 + 30;
const BREAK_MIN: i64 = 20;
const MINOR_BREAK_MIN: i64 = 30;
const WEEKLY_MAX: i64 = 48 * 60;
const MINOR_WEEKLY_MAX: i64 = 35 * 60;
const AVERAGE_MAX: i64 = 44 * 60;
const AVERAGE_WEEKS: i64 = 12;
const DAILY_REST: i64 = 11 * 60;
const MINOR_DAILY_REST: i64 = 12 * 60;
const UNDER_16_DAILY_REST: i64 = 14 * 60;
const WORKING_DAYS_MAX: i64 = 6;
const WEEKLY_REST: i64 = 35 * 60;
const MINOR_REST_DAYS: i64 = 2;

/// What a shift of an employee is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Work at a member: working time, billed to that member.
    Work,
    /// Training (GEIQ alternance): working time, not billed to members.
    Training,
    /// Paid leave, sickness, other absence: blocks the slot, is not working time (it is rest).
    Absence,
}

impl Activity {
    /// Every activity, in the order forms list them.
    pub const ALL: [Activity; 3] = [Activity::Work, Activity::Training, Activity::Absence];

    /// The same string serde writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Work => "work",
            Activity::Training => "training",
            Activity::Absence => "absence",
        }
    }

    /// Reads [`Activity::as_str`] back, surrounding spaces allowed.
    pub fn parse(s: &str) -> Option<Activity> {
        Self::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }

    /// For pages: "Travail", "Formation", "Absence".
    pub fn label(self) -> &'static str {
        match self {
            Activity::Work => "Travail",
            Activity::Training => "Formation",
            Activity::Absence => "Absence",
        }
    }

    /// Whether the time counts as working time for the law (work and training).
    pub fn is_working_time(self) -> bool {
        matches!(self, Activity::Work | Activity::Training)
    }

    /// Whether the time is billed to the member it is assigned to (work only).
    pub fn is_billable(self) -> bool {
        self == Activity::Work
    }
}

/// What the rules need to know of an employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Employee {
    /// Only to apply the rules for minors; `None` is taken as an adult.
    pub birth_date: Option<NaiveDate>,
    /// The contract's weekly hours, in minutes. Under 35 h is part time (complementary hours);
    /// zero or less means unknown, treated as full time.
    pub weekly_contract_minutes: i32,
}

/// How old an employee is on a date, as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Age {
    Under16,
    Minor,
    Adult,
}

impl Age {
    fn is_minor(self) -> bool {
        self != Age::Adult
    }

    /// For messages: who the stricter limit protects.
    fn whom(self) -> &'static str {
        match self {
            Age::Under16 => " pour un salarié de moins de 16 ans",
            Age::Minor => " pour un salarié de moins de 18 ans",
            Age::Adult => "",
        }
    }
}

impl Employee {
    /// Whether the employee is under 18 on `date` (the 18th birthday is the first adult day).
    pub fn is_minor_on(&self, date: NaiveDate) -> bool {
        self.age_on(date).is_minor()
    }

    fn age_on(&self, date: NaiveDate) -> Age {
        self.birthdays().age_on(date)
    }

    fn birthdays(&self) -> Birthdays {
        match self.birth_date {
            Some(birth) => Birthdays {
                sixteenth: birthday(birth, 16),
                eighteenth: birthday(birth, 18),
            },
            None => Birthdays {
                sixteenth: NaiveDate::MIN,
                eighteenth: NaiveDate::MIN,
            },
        }
    }

    fn part_time_contract(&self) -> Option<i64> {
        let c = i64::from(self.weekly_contract_minutes);
        (c > 0 && c < LEGAL_WEEK_MINUTES).then_some(c)
    }
}

/// The first days an employee is 16 and 18 (the first day of time when the birth date is
/// unknown: an adult).
#[derive(Debug, Clone, Copy)]
struct Birthdays {
    sixteenth: NaiveDate,
    eighteenth: NaiveDate,
}

impl Birthdays {
    fn age_on(self, date: NaiveDate) -> Age {
        if date >= self.eighteenth {
            Age::Adult
        } else if date >= self.sixteenth {
            Age::Minor
        } else {
            Age::Under16
        }
    }
}

/// The date someone born on `birth` turns `years`; 29 February gives 1 March in common years.
fn birthday(birth: NaiveDate, years: i32) -> NaiveDate {
    let Some(year) = birth.year().checked_add(years) else {
        return NaiveDate::MAX;
    };
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .unwrap_or(NaiveDate::MAX)
}

/// One shift of the employee, at any member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shift {
    /// The assignment's booking id; negative for shifts being proposed.
    pub id: i64,
    /// When, as stored (UTC, half-open); an invalid one holds no time.
    pub interval: Interval,
    pub activity: Activity,
}

/// The judgement of a proposal: refused when `violations` is not empty; `warnings` are shown
/// either way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabourVerdict {
    /// Each limit the proposal breaks or makes worse, in the order of their periods.
    pub violations: Vec<Violation>,
    /// What goes through but deserves a word, in the order of their periods.
    pub warnings: Vec<Warning>,
}

impl LabourVerdict {
    /// No limit broken.
    pub fn is_accepted(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Overtime minutes of one week, by rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overtime {
    /// Minutes from 35 h to 43 h: paid +25 %.
    pub at_25: i64,
    /// Minutes beyond 43 h: paid +50 %.
    pub at_50: i64,
}

impl Overtime {
    /// Both rates together.
    pub fn total(&self) -> i64 {
        self.at_25.saturating_add(self.at_50)
    }
}

/// Overtime of a week of `worked_minutes`: minutes 35 h–43 h at +25 %, beyond 43 h at +50 %
/// (the 36th to 43rd hours, then from the 44th). Negative input is no work.
pub fn overtime(worked_minutes: i64) -> Overtime {
    let over = worked_minutes.saturating_sub(LEGAL_WEEK_MINUTES).max(0);
    let at_25 = over.min(OVERTIME_50_FROM_MINUTES - LEGAL_WEEK_MINUTES);
    Overtime {
        at_25,
        at_50: over - at_25,
    }
}

/// The span of the employee's stored shifts that [`check`] needs to see to judge `proposed`:
/// from the local Monday 11 weeks before the first week a proposed interval touches to the
/// local Monday 12 weeks after the last one's Monday (every 12-week window containing a
/// touched week, and the rests before and after). Load the shifts that overlap it. Invalid
/// intervals and parts outside the supported years are ignored; with nothing left the span is
/// empty (`start == end`).
pub fn lookup_range(proposed: &[Interval], tz: Tz) -> Interval {
    let range = supported_range();
    let mut hull: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for iv in proposed.iter().filter_map(|iv| iv.intersection(&range)) {
        hull = Some(match hull {
            None => (iv.start, iv.end),
            Some((s, e)) => (s.min(iv.start), e.max(iv.end)),
        });
    }
    let Some((start, end)) = hull else {
        return Interval {
            start: range.start,
            end: range.start,
        };
    };
    let first = add_days(week_start(local_date(start, tz)), -7 * (AVERAGE_WEEKS - 1));
    let last_instant = end - Duration::nanoseconds(1);
    let last = add_days(week_start(local_date(last_instant, tz)), 7 * AVERAGE_WEEKS);
    Interval {
        start: local_at(first, NaiveTime::MIN, tz),
        end: local_at(last, NaiveTime::MIN, tz),
    }
}

/// Judges adding `proposed` to `existing` (the employee's stored shifts overlapping
/// [`lookup_range`] of the proposed intervals, at every member, with the shifts being moved
/// already left out: a stored shift with the id of a proposed one is ignored all the same).
/// Reports only what the proposal newly breaks or makes worse (see the module's doc); stored
/// shifts outside the lookup range are ignored, so the verdict never depends on how much
/// history the caller passed. Absences are never blamed. Total on any input: invalid
/// intervals are ignored, parts outside the supported years are cut off.
pub fn check(employee: &Employee, existing: &[Shift], proposed: &[Shift], tz: Tz) -> LabourVerdict {
    let proposed_intervals: Vec<Interval> = proposed.iter().map(|s| s.interval).collect();
    let range = lookup_range(&proposed_intervals, tz);
    if !range.is_valid() {
        return LabourVerdict::default();
    }
    let replaced: BTreeSet<i64> = proposed.iter().map(|s| s.id).collect();
    let mut in_range = Vec::with_capacity(existing.len());
    in_range.extend(
        existing
            .iter()
            .filter(|s| s.interval.overlaps(&range) && !replaced.contains(&s.id))
            .copied(),
    );
    let existing = in_range;
    judge(employee, &existing, proposed, tz)
}

/// Whether adding `proposed` surely breaks the daily maximum (10 h, 8 h for a minor) on a
/// day it touches, from the employee's shifts on those days alone: [`check`] then refuses it
/// with `daily_hours` (the day's work goes over the maximum and grows). `false` says nothing;
/// [`check`] decides. The alternatives to a refused assignment skip with it the days already
/// full before judging every rule: most of the nearby days of a refused long day are as full.
pub fn surely_over_daily_max(
    employee: &Employee,
    existing: &[Shift],
    proposed: &Shift,
    tz: Tz,
) -> bool {
    if !proposed.activity.is_working_time() {
        return false;
    }
    let Some(iv) = proposed.interval.intersection(&supported_range()) else {
        return false;
    };
    if !iv.is_valid() {
        return false;
    }
    let (first, last) = (
        local_date(iv.start, tz),
        local_date(iv.end - Duration::nanoseconds(1), tz),
    );
    let mut midnights = Midnights::new(tz);
    let days = Interval {
        start: midnights.of(first),
        end: midnights.of(next_day(last)),
    };
    let near: Vec<&Shift> = existing
        .iter()
        .filter(|s| s.id != proposed.id && s.interval.overlaps(&days))
        .collect();
    let before = midnights.per_day(&working_blocks(near.iter().copied()));
    let after = midnights.per_day(&working_blocks(
        near.iter().copied().chain(std::iter::once(proposed)),
    ));
    let birthdays = employee.birthdays();
    after.range(first..=last).any(|(date, worked)| {
        let limit = if birthdays.age_on(*date).is_minor() {
            MINOR_DAILY_MAX
        } else {
            DAILY_MAX
        };
        *worked > Duration::minutes(limit) && before.get(date).is_none_or(|b| worked > b)
    })
}

/// [`check`] without cutting `existing` to the lookup range: the tests compare the two.
fn judge(employee: &Employee, existing: &[Shift], proposed: &[Shift], tz: Tz) -> LabourVerdict {
    judge_with(employee, existing, proposed, tz, true)
}

/// The judgement itself. `focused`: the rules other than the 12-week average look only at
/// the work around the proposal ([`focus`]); the tests compare it with looking everywhere.
fn judge_with(
    employee: &Employee,
    existing: &[Shift],
    proposed: &[Shift],
    tz: Tz,
    focused: bool,
) -> LabourVerdict {
    let before_blocks = working_blocks(existing.iter());
    let after_blocks = working_blocks(existing.iter().chain(proposed));
    if before_blocks == after_blocks {
        // Nothing new is worked (absences only, or time already worked): nothing to blame.
        return LabourVerdict::default();
    }
    let mut midnights = Midnights::new(tz);
    let near = if focused {
        focus(&after_blocks, proposed, &mut midnights)
    } else {
        None
    };
    let (before_near, after_near, far_weeks) = match near {
        Some(near) => {
            let inside = |b: &Interval| b.start >= near.start && b.end <= near.end;
            let far: Vec<Interval> = after_blocks
                .iter()
                .filter(|b| !inside(b))
                .copied()
                .collect();
            (
                before_blocks
                    .iter()
                    .filter(|b| inside(b))
                    .copied()
                    .collect(),
                after_blocks.iter().filter(|b| inside(b)).copied().collect(),
                per_week(&midnights.per_day(&far)),
            )
        }
        None => (before_blocks, after_blocks, BTreeMap::new()),
    };
    let known: Known = evaluate(employee, &before_near, &far_weeks, &mut midnights, None)
        .into_iter()
        .map(|f| ((f.code, f.period), f.exact))
        .collect();
    let new = evaluate(
        employee,
        &after_near,
        &far_weeks,
        &mut midnights,
        Some(&known),
    );
    let mut findings = worst_of_overlapping_averages(new);
    findings.sort_by_key(|f| (f.period.start, f.period.end));
    let mut verdict = LabourVerdict::default();
    for f in findings {
        let measure = f.measure();
        match f.code {
            Code::Violation(code) => {
                verdict
                    .violations
                    .push(Violation::measured(code, f.message, measure));
            }
            Code::Warning(code) => verdict.warnings.push(Warning {
                code,
                message: f.message,
                measure: Some(measure),
            }),
        }
    }
    verdict
}

/// The stretch of time outside which the proposal cannot change a finding of any rule but the
/// 12-week average: from two weeks before the first week a proposed piece of work touches to
/// two weeks after the last one, widened on each side to the nearest rest of 14 h or more
/// (the longest daily rest). The walk over working days starts a working day after any such
/// rest, whatever came before, so inside it walks the same days as over everything; every
/// other rule looks at most a week beyond its day, stretch or week. Findings near the edges
/// are then the same with and without the proposal, and none of them is reported. The cut
/// falls between two blocks of `after` (the blocks with the proposal, which cover those
/// without it), so each block of either is wholly inside or wholly outside. `None`: no
/// proposed work.
fn focus(after: &[Interval], proposed: &[Shift], midnights: &mut Midnights) -> Option<Interval> {
    let range = supported_range();
    let (start, end) = proposed
        .iter()
        .filter(|s| s.activity.is_working_time())
        .filter_map(|s| s.interval.intersection(&range))
        .fold(None, |hull: Option<(DateTime<Utc>, DateTime<Utc>)>, iv| {
            Some(match hull {
                None => (iv.start, iv.end),
                Some((s, e)) => (s.min(iv.start), e.max(iv.end)),
            })
        })?;
    let tz = midnights.tz;
    let lo = midnights.of(add_days(week_start(local_date(start, tz)), -14));
    let last_instant = end - Duration::nanoseconds(1);
    let hi = midnights.of(add_days(week_start(local_date(last_instant, tz)), 21));
    let reset = Duration::minutes(UNDER_16_DAILY_REST);
    let rest_before = |k: usize| after[k].start - after[k - 1].end;
    let mut i = after.partition_point(|b| b.end <= lo);
    while i > 0 && i < after.len() && rest_before(i) < reset {
        i -= 1;
    }
    let mut j = after.partition_point(|b| b.start < hi);
    while j > 0 && j < after.len() && rest_before(j) < reset {
        j += 1;
    }
    if i >= j {
        return None;
    }
    Some(Interval {
        start: after[i].start,
        end: after[j - 1].end,
    })
}

/// Minutes (whole, rounded down) of the shifts of the given activities in each local day they
/// touch; overlapping shifts count once. For the ledger and the planning.
pub fn minutes_by_day(
    shifts: &[Shift],
    activities: &[Activity],
    tz: Tz,
) -> BTreeMap<NaiveDate, i64> {
    let blocks = merge(
        shifts
            .iter()
            .filter(|s| activities.contains(&s.activity))
            .map(|s| s.interval),
    );
    per_day(&blocks, tz)
        .into_iter()
        .map(|(d, t)| (d, t.num_minutes()))
        .collect()
}

/// Minutes (whole, rounded down) of the shifts of the given activities in each local ISO
/// week, keyed by the week's Monday; overlapping shifts count once.
pub fn minutes_by_week(
    shifts: &[Shift],
    activities: &[Activity],
    tz: Tz,
) -> BTreeMap<NaiveDate, i64> {
    let blocks = merge(
        shifts
            .iter()
            .filter(|s| activities.contains(&s.activity))
            .map(|s| s.interval),
    );
    per_week(&per_day(&blocks, tz))
        .into_iter()
        .map(|(d, t)| (d, t.num_minutes()))
        .collect()
}

/// Working time (work and training) in each local day, in minutes: what the daily limit reads.
pub fn work_minutes_by_day(shifts: &[Shift], tz: Tz) -> BTreeMap<NaiveDate, i64> {
    minutes_by_day(shifts, &[Activity::Work, Activity::Training], tz)
}

/// Working time (work and training) in each local week (key: its Monday), in minutes: what
/// the weekly limits and overtime read.
pub fn work_minutes_by_week(shifts: &[Shift], tz: Tz) -> BTreeMap<NaiveDate, i64> {
    minutes_by_week(shifts, &[Activity::Work, Activity::Training], tz)
}

/// The Monday of the ISO week of `date`.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    let back = i64::from(date.weekday().num_days_from_monday());
    date.checked_sub_signed(Duration::days(back))
        .unwrap_or(date)
}

/// `[local midnight of date, next local midnight)` in UTC: 23 h or 25 h on DST days.
pub fn day_bounds(date: NaiveDate, tz: Tz) -> Interval {
    Interval {
        start: local_at(date, NaiveTime::MIN, tz),
        end: local_at(next_day(date), NaiveTime::MIN, tz),
    }
}

/// `[Monday 00:00, next Monday 00:00)` local, in UTC, of the week containing `date`.
pub fn week_bounds(date: NaiveDate, tz: Tz) -> Interval {
    let monday = week_start(date);
    Interval {
        start: local_at(monday, NaiveTime::MIN, tz),
        end: local_at(add_days(monday, 7), NaiveTime::MIN, tz),
    }
}

/// Cuts an interval at local midnights: each local date it touches with the part spent in it.
/// Parts outside the supported years are left out; an invalid interval gives nothing.
pub fn split_by_day(iv: Interval, tz: Tz) -> Vec<(NaiveDate, Interval)> {
    let Some(iv) = iv.intersection(&supported_range()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut cur = iv.start;
    while cur < iv.end {
        let date = local_date(cur, tz);
        let mut next = local_at(next_day(date), NaiveTime::MIN, tz);
        if next <= cur {
            // Only a broken zone table could do this; move on rather than loop.
            next = cur + Duration::days(1);
        }
        let end = next.min(iv.end);
        out.push((date, Interval { start: cur, end }));
        cur = end;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Local time helpers.

fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

fn next_day(d: NaiveDate) -> NaiveDate {
    d.succ_opt().unwrap_or(d)
}

fn add_days(d: NaiveDate, days: i64) -> NaiveDate {
    d.checked_add_signed(Duration::days(days)).unwrap_or(d)
}

/// The instant a local wall-clock time happens; in a DST gap, the end of the gap (the first
/// instant after it: midnight does not exist on some days in Santiago or Beirut); when
/// repeated, the first time.
fn local_at(date: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_time(time);
    // Gaps last at most a couple of hours: try quarter-hours forward, then walk back to the
    // gap's end by halving, in whole seconds (zone transitions fall on whole seconds).
    for step in 0..=12 {
        let Some(n) = naive.checked_add_signed(Duration::minutes(15 * step)) else {
            break;
        };
        let Some(t) = tz.from_local_datetime(&n).earliest() else {
            continue;
        };
        let t = t.with_timezone(&Utc);
        if step == 0 {
            return t;
        }
        let reached = |secs: i64| {
            DateTime::from_timestamp(secs, 0)
                .is_none_or(|u| u.with_timezone(&tz).naive_local() >= naive)
        };
        let (mut lo, mut hi) = (t.timestamp() - 15 * 60, t.timestamp());
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if reached(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return DateTime::from_timestamp(hi, 0).unwrap_or(t);
    }
    naive.and_utc()
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn hours(minutes: i64) -> String {
    super::time::format_minutes(minutes)
}

fn minutes_ceil(d: Duration) -> i64 {
    let m = d.num_minutes();
    if d > Duration::minutes(m) {
        m + 1
    } else {
        m
    }
}

/// Seconds, the precision findings are compared at (a proposal adding 30 s to a day already
/// over its limit makes it worse).
fn exact(d: Duration) -> i64 {
    d.num_seconds()
}

fn week_label(monday: NaiveDate) -> String {
    format!("Semaine du {}", format_date_fr(monday))
}

// ---------------------------------------------------------------------------------------------
// Working time as sorted, disjoint, non-touching blocks.

fn working_blocks<'a>(shifts: impl Iterator<Item = &'a Shift>) -> Vec<Interval> {
    merge(
        shifts
            .filter(|s| s.activity.is_working_time())
            .map(|s| s.interval),
    )
}

/// Sorted union of the valid parts inside the supported years; touching intervals merge.
fn merge(intervals: impl Iterator<Item = Interval>) -> Vec<Interval> {
    let range = supported_range();
    let mut ivs: Vec<Interval> = Vec::with_capacity(intervals.size_hint().1.unwrap_or(0));
    ivs.extend(intervals.filter_map(|iv| iv.intersection(&range)));
    ivs.sort_unstable();
    let mut out: Vec<Interval> = Vec::with_capacity(ivs.len());
    for iv in ivs {
        match out.last_mut() {
            Some(last) if iv.start <= last.end => last.end = last.end.max(iv.end),
            _ => out.push(iv),
        }
    }
    out
}

/// Work per local day: the parts [`split_by_day`] cuts, each local midnight computed once.
fn per_day(blocks: &[Interval], tz: Tz) -> BTreeMap<NaiveDate, Duration> {
    Midnights::new(tz).per_day(blocks)
}

fn per_week(days: &BTreeMap<NaiveDate, Duration>) -> BTreeMap<NaiveDate, Duration> {
    let mut weeks: BTreeMap<NaiveDate, Duration> = BTreeMap::new();
    for (&date, &t) in days {
        *weeks.entry(week_start(date)).or_insert_with(Duration::zero) += t;
    }
    weeks
}

/// Work inside `window`.
fn worked_in(blocks: &[Interval], window: Interval) -> Duration {
    let first = blocks.partition_point(|b| b.end <= window.start);
    blocks[first..]
        .iter()
        .take_while(|b| b.start < window.end)
        .filter_map(|b| b.intersection(&window))
        .map(|iv| iv.duration())
        .fold(Duration::zero(), |a, b| a + b)
}

// ---------------------------------------------------------------------------------------------
// Findings: what one judgement of a set of blocks finds, before blame.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Code {
    Violation(ViolationCode),
    Warning(WarningCode),
}

#[derive(Debug, Clone)]
struct Finding {
    code: Code,
    period: Interval,
    limit: i64,
    actual: i64,
    unit: Unit,
    /// The figure at full precision (seconds, or days), to compare two judgements.
    exact: i64,
    /// A minimum (rests): a smaller figure is worse.
    lower_is_worse: bool,
    message: String,
}

/// An earlier judgement's findings: the figure of each rule over each period.
type Known = HashMap<(Code, Interval), i64>;

impl Finding {
    fn measure(&self) -> Measure {
        Measure::new(self.limit, self.actual, self.unit).over(self.period.start, self.period.end)
    }

    /// Whether this finding is absent from `known` or worse than it there.
    fn is_new(&self, known: &Known) -> bool {
        match known.get(&(self.code, self.period)) {
            None => true,
            Some(&was) if self.lower_is_worse => self.exact < was,
            Some(&was) => self.exact > was,
        }
    }
}

/// Local midnights in UTC, each computed once for both judgements of a [`check`].
struct Midnights {
    tz: Tz,
    at: HashMap<NaiveDate, DateTime<Utc>, BuildHasherDefault<DateHasher>>,
}

/// A hasher for the dates of one check, a few hundred days asked for thousands of times:
/// SipHash's defence against chosen keys is not needed for dates the check makes itself, and
/// hashing them was a tenth of the check. A multiply by the 64-bit golden ratio, the high half
/// folded into the low one where the table takes its index from (a date's low bits are those
/// of its year, the same for all of them).
#[derive(Default)]
struct DateHasher(u64);

impl Hasher for DateHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u64(u64::from(n as u32));
    }
}

impl Midnights {
    fn new(tz: Tz) -> Midnights {
        Midnights {
            tz,
            // A check asks for a few hundred days: no growing on the way.
            at: HashMap::with_capacity_and_hasher(256, BuildHasherDefault::default()),
        }
    }

    fn of(&mut self, date: NaiveDate) -> DateTime<Utc> {
        let tz = self.tz;
        *self
            .at
            .entry(date)
            .or_insert_with(|| local_at(date, NaiveTime::MIN, tz))
    }

    /// [`day_bounds`].
    fn day(&mut self, date: NaiveDate) -> Interval {
        Interval {
            start: self.of(date),
            end: self.of(next_day(date)),
        }
    }

    /// [`week_bounds`] of a Monday.
    fn week(&mut self, monday: NaiveDate) -> Interval {
        Interval {
            start: self.of(monday),
            end: self.of(add_days(monday, 7)),
        }
    }

    /// Work per local day: the parts [`split_by_day`] cuts, through the cache. A piece that
    /// falls in the day of the piece before it takes that day's date and end as they are (no
    /// conversion to local time); the days are summed in order and the map built at once from
    /// them (blocks come sorted: a sort puts any others in order first).
    fn per_day(&mut self, blocks: &[Interval]) -> BTreeMap<NaiveDate, Duration> {
        let range = supported_range();
        let mut parts: Vec<(NaiveDate, Duration)> = Vec::with_capacity(blocks.len() + 2);
        // The day of the last piece: its date, the earliest instant seen in it, its end.
        let mut day: Option<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> = None;
        for b in blocks {
            let Some(iv) = b.intersection(&range) else {
                continue;
            };
            let mut cur = iv.start;
            while cur < iv.end {
                let (date, next) = match day {
                    Some((date, seen, end)) if seen <= cur && cur < end => (date, end),
                    _ => {
                        let date = local_date(cur, self.tz);
                        let next = self.of(next_day(date));
                        if next <= cur {
                            // The next midnight came before (a change of time over midnight
                            // that goes back): a day from here, and no day kept.
                            day = None;
                            (date, cur + Duration::days(1))
                        } else {
                            day = Some((date, cur, next));
                            (date, next)
                        }
                    }
                };
                let end = next.min(iv.end);
                match parts.last_mut() {
                    Some((d, t)) if *d == date => *t += end - cur,
                    _ => parts.push((date, end - cur)),
                }
                cur = end;
            }
        }
        if !parts.is_sorted_by_key(|(d, _)| *d) {
            parts.sort_by_key(|(d, _)| *d);
        }
        let mut days: Vec<(NaiveDate, Duration)> = Vec::with_capacity(parts.len());
        for (date, t) in parts {
            match days.last_mut() {
                Some((d, sum)) if *d == date => *sum += t,
                _ => days.push((date, t)),
            }
        }
        days.into_iter().collect()
    }
}

struct Judgement<'a> {
    employee: &'a Employee,
    birthdays: Birthdays,
    blocks: &'a [Interval],
    tz: Tz,
    days: BTreeMap<NaiveDate, Duration>,
    weeks: BTreeMap<NaiveDate, Duration>,
    /// `weeks` and the work of the weeks beyond `blocks`: for the 12-week average.
    all_weeks: BTreeMap<NaiveDate, Duration>,
    midnights: &'a mut Midnights,
    /// An adult on the first day with work, so on every day judged (nobody becomes a minor
    /// again): the age of an instant needs no local date.
    adult_throughout: bool,
    /// Keep only the findings new against these, and write their messages; without them keep
    /// every finding, without message (an earlier judgement only compared with).
    known: Option<&'a Known>,
    out: Vec<Finding>,
}

/// The findings of the rules over `blocks`, the 12-week average over their weeks plus
/// `far_weeks` (work per week outside them): every one without its message, or with `known`
/// only those new against it, described.
fn evaluate(
    employee: &Employee,
    blocks: &[Interval],
    far_weeks: &BTreeMap<NaiveDate, Duration>,
    midnights: &mut Midnights,
    known: Option<&Known>,
) -> Vec<Finding> {
    if blocks.is_empty() && far_weeks.is_empty() {
        return Vec::new();
    }
    let tz = midnights.tz;
    let days = midnights.per_day(blocks);
    let weeks = per_week(&days);
    let mut all_weeks = far_weeks.clone();
    for (&monday, &t) in &weeks {
        *all_weeks.entry(monday).or_insert_with(Duration::zero) += t;
    }
    let birthdays = employee.birthdays();
    let adult_throughout = days
        .keys()
        .next()
        .is_none_or(|first| !birthdays.age_on(*first).is_minor());
    let mut j = Judgement {
        employee,
        birthdays,
        blocks,
        tz,
        days,
        weeks,
        all_weeks,
        midnights,
        adult_throughout,
        known,
        out: Vec::new(),
    };
    j.daily_hours();
    j.day_warnings_and_holidays();
    j.night_work();
    j.stretches();
    let starts = j.daily_rest();
    j.working_days(&starts);
    j.weekly_hours();
    j.weekly_rest();
    j.average();
    j.out
}

impl Judgement<'_> {
    fn push(
        &mut self,
        code: ViolationCode,
        period: Interval,
        figures: Figures,
        message: impl FnOnce() -> String,
    ) {
        self.found(Code::Violation(code), period, figures, message);
    }

    fn warn(
        &mut self,
        code: WarningCode,
        period: Interval,
        figures: Figures,
        message: impl FnOnce() -> String,
    ) {
        self.found(Code::Warning(code), period, figures, message);
    }

    fn found(
        &mut self,
        code: Code,
        period: Interval,
        figures: Figures,
        message: impl FnOnce() -> String,
    ) {
        let mut finding = figures.finding(code, period);
        if let Some(known) = self.known {
            if !finding.is_new(known) {
                return;
            }
            finding.message = message();
        }
        self.out.push(finding);
    }

    /// The age on the local date of `t`, the start of a block judged (its date is one of
    /// `days`).
    fn age_at(&self, t: DateTime<Utc>) -> Age {
        if self.adult_throughout {
            Age::Adult
        } else {
            self.birthdays.age_on(local_date(t, self.tz))
        }
    }

    /// The strictest age on a day of the week with work.
    fn week_age(&self, monday: NaiveDate) -> Age {
        self.days
            .range(monday..add_days(monday, 7))
            .filter(|(_, t)| **t > Duration::zero())
            .map(|(d, _)| self.birthdays.age_on(*d))
            .min()
            .unwrap_or(Age::Adult)
    }

    fn daily_hours(&mut self) {
        let days: Vec<(NaiveDate, Duration)> = self.days.iter().map(|(d, t)| (*d, *t)).collect();
        for (date, worked) in days {
            let age = self.birthdays.age_on(date);
            let limit = if age.is_minor() {
                MINOR_DAILY_MAX
            } else {
                DAILY_MAX
            };
            if worked > Duration::minutes(limit) {
                let actual = minutes_ceil(worked);
                let period = self.midnights.day(date);
                self.push(
                    ViolationCode::DailyHours,
                    period,
                    Figures::minutes(limit, worked),
                    move || {
                        format!(
                            "{} : {} de travail, {} au plus par jour{}.",
                            capitalised(&format_date_fr(date)),
                            hours(actual),
                            hours(limit),
                            age.whom()
                        )
                    },
                );
            }
        }
    }

    /// Sunday and 1 May warnings; public holidays refused to minors.
    fn day_warnings_and_holidays(&mut self) {
        let days: Vec<(NaiveDate, Duration)> = self.days.iter().map(|(d, t)| (*d, *t)).collect();
        for (date, worked) in days {
            let age = self.birthdays.age_on(date);
            let period = self.midnights.day(date);
            let when = move || format_date_fr(date);
            let shown = move || hours(minutes_ceil(worked));
            if age.is_minor() {
                if let Some(name) = holidays::name(date) {
                    self.push(
                        ViolationCode::PublicHoliday,
                        period,
                        Figures::minutes(0, worked),
                        move || {
                            format!(
                                "{} ({name}) : {} de travail un jour férié, interdit{}.",
                                capitalised(&when()),
                                shown(),
                                age.whom()
                            )
                        },
                    );
                }
            } else if date.month() == 5 && date.day() == 1 {
                self.warn(
                    WarningCode::MayDay,
                    period,
                    Figures::minutes(0, worked),
                    move || {
                        format!(
                        "Travail le 1er mai {} ({}) : jour férié chômé, permis seulement là où \
                         l'activité ne peut s'interrompre, et payé double.",
                        date.year(),
                        shown()
                    )
                    },
                );
            }
            if date.weekday() == Weekday::Sun {
                self.warn(
                    WarningCode::SundayWork,
                    period,
                    Figures::minutes(0, worked),
                    move || {
                        format!(
                            "Travail le {} ({}) : le repos hebdomadaire est en principe \
                         donné le dimanche.",
                            when(),
                            shown()
                        )
                    },
                );
            }
        }
    }

    /// Minors: nothing between 22:00 (20:00 under 16) and 06:00. One finding per night, named
    /// by its evening's date.
    fn night_work(&mut self) {
        // Nobody becomes a minor again: an adult on the first evening is one every night.
        let first_evening = self.days.keys().next().map(|d| d.pred_opt().unwrap_or(*d));
        if self.employee.birth_date.is_none()
            || first_evening.is_none_or(|e| !self.birthdays.age_on(e).is_minor())
        {
            return;
        }
        let mut evenings: BTreeSet<NaiveDate> = BTreeSet::new();
        for &date in self.days.keys() {
            if let Some(before) = date.pred_opt() {
                evenings.insert(before);
            }
            evenings.insert(date);
        }
        let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap_or(NaiveTime::MIN);
        for evening in evenings {
            let morning = next_day(evening);
            let (age_evening, age_morning) = (
                self.birthdays.age_on(evening),
                self.birthdays.age_on(morning),
            );
            if !age_evening.is_minor() && !age_morning.is_minor() {
                continue;
            }
            let from_hour = if age_evening == Age::Under16 { 20 } else { 22 };
            let from = NaiveTime::from_hms_opt(from_hour, 0, 0).unwrap_or(NaiveTime::MIN);
            let night_start = local_at(evening, from, self.tz);
            let midnight = self.midnights.of(morning);
            let night_end = local_at(morning, six, self.tz);
            let mut worked = Duration::zero();
            if age_evening.is_minor() && night_start < midnight {
                worked += worked_in(
                    self.blocks,
                    Interval {
                        start: night_start,
                        end: midnight,
                    },
                );
            }
            if age_morning.is_minor() && midnight < night_end {
                worked += worked_in(
                    self.blocks,
                    Interval {
                        start: midnight,
                        end: night_end,
                    },
                );
            }
            if worked > Duration::zero() {
                let age = age_evening.min(age_morning);
                self.push(
                    ViolationCode::NightWork,
                    Interval {
                        start: night_start,
                        end: night_end,
                    },
                    Figures::minutes(0, worked),
                    move || {
                        format!(
                            "Nuit du {} au {} : {} de travail entre {from_hour}:00 et 06:00, \
                         interdit{}.",
                            format_date_fr(evening),
                            format_date_fr(morning),
                            hours(minutes_ceil(worked)),
                            age.whom()
                        )
                    },
                );
            }
        }
    }

    fn stretches(&mut self) {
        let has_minor_days = self.employee.birth_date.is_some()
            && self
                .days
                .keys()
                .any(|d| self.birthdays.age_on(*d).is_minor());
        let has_adult_days = self
            .days
            .keys()
            .any(|d| !self.birthdays.age_on(*d).is_minor());
        if has_adult_days {
            self.stretches_of(false, BREAK_MIN, STRETCH_MAX);
        }
        if has_minor_days {
            self.stretches_of(true, MINOR_BREAK_MIN, MINOR_STRETCH_MAX);
        }
    }

    /// Stretches joined over gaps shorter than `break_min`, judged for the stretches that start
    /// on a minor's day (`minor`) or on an adult's.
    fn stretches_of(&mut self, minor: bool, break_min: i64, max: i64) {
        let join = Duration::minutes(break_min);
        let mut found = Vec::new();
        let mut i = 0;
        while i < self.blocks.len() {
            let start = self.blocks[i].start;
            let mut end = self.blocks[i].end;
            let mut worked = self.blocks[i].duration();
            let mut j = i + 1;
            while j < self.blocks.len() && self.blocks[j].start - end < join {
                worked += self.blocks[j].duration();
                end = self.blocks[j].end;
                j += 1;
            }
            i = j;
            let age = self.age_at(start);
            if age.is_minor() == minor && worked > Duration::minutes(max) {
                found.push((Interval { start, end }, worked, age));
            }
        }
        let tz = self.tz;
        for (span, worked, age) in found {
            self.push(
                ViolationCode::WorkWithoutBreak,
                span,
                Figures::minutes(max, worked),
                move || {
                    format!(
                    "{} de travail sans pause d'au moins {break_min} minutes ({}) : {} au plus \
                     d'affilée{}.",
                    hours(minutes_ceil(worked)),
                    format_span(span, tz),
                    hours(max),
                    age.whom()
                )
                },
            );
        }
    }

    /// Walks the working days (see the module's doc), reports those without their daily rest
    /// and returns the instants they start.
    fn daily_rest(&mut self) -> Vec<DateTime<Utc>> {
        let blocks = self.blocks;
        let n = blocks.len();
        let gaps: Vec<Duration> = blocks.windows(2).map(|w| w[1].start - w[0].end).collect();
        let table = GapTable::new(&gaps);
        let mut starts = Vec::new();
        let mut found = Vec::new();
        let mut i = 0;
        while i < n {
            let s = blocks[i].start;
            starts.push(s);
            let horizon = s + Duration::hours(24);
            let age = self.age_at(s);
            let need = Duration::minutes(match age {
                Age::Under16 => UNDER_16_DAILY_REST,
                Age::Minor => MINOR_DAILY_REST,
                Age::Adult => DAILY_REST,
            });
            // Gaps i..k start before the horizon (gap j follows block j).
            let k = i + blocks[i..].partition_point(|b| b.end < horizon);
            if k == i {
                // Work runs through the whole 24 hours: no rest at all.
                found.push((s, horizon, Duration::zero(), None, age, need));
                i += 1;
                continue;
            }
            let last = k - 1;
            let last_rest = match blocks.get(last + 1) {
                Some(next) => next.start.min(horizon) - blocks[last].end,
                None => horizon - blocks[last].end,
            };
            if let Some(j) = table.first_at_least(i, last, need) {
                i = j + 1;
                continue;
            }
            if last_rest >= need {
                i = last + 1;
                continue;
            }
            let (best, rest) = match table.argmax(i, last) {
                Some(j) if gaps[j] >= last_rest => (j, gaps[j]),
                _ => (last, last_rest),
            };
            found.push((s, horizon, rest, Some(blocks[best].end), age, need));
            i = best + 1;
        }
        let tz = self.tz;
        for (s, horizon, rest, rest_start, age, need) in found {
            let need_min = need.num_minutes();
            let rest_min = rest.num_minutes();
            let longest = move || match rest_start {
                Some(t) if rest > Duration::zero() => format!(
                    "le plus long repos ne dure que {} (à partir du {})",
                    hours(rest_min),
                    format_local(t, tz)
                ),
                _ => "il n'y a aucun repos".to_string(),
            };
            self.push(
                ViolationCode::DailyRest,
                Interval {
                    start: s,
                    end: horizon,
                },
                Figures {
                    limit: need_min,
                    actual: rest_min,
                    unit: Unit::Minutes,
                    exact: exact(rest),
                    lower_is_worse: true,
                },
                move || {
                    format!(
                        "Repos quotidien : dans les 24 h qui suivent la prise de poste du {}, {} \
                     ; il faut {} consécutives au moins entre deux journées de travail{}.",
                        format_local(s, tz),
                        longest(),
                        hours(need_min),
                        age.whom()
                    )
                },
            );
        }
        starts
    }

    fn working_days(&mut self, starts: &[DateTime<Utc>]) {
        let mut per_week: BTreeMap<NaiveDate, BTreeSet<NaiveDate>> = BTreeMap::new();
        for &s in starts {
            let date = local_date(s, self.tz);
            per_week.entry(week_start(date)).or_default().insert(date);
        }
        for (monday, dates) in per_week {
            let count = dates.len() as i64;
            if count > WORKING_DAYS_MAX {
                let period = self.midnights.week(monday);
                self.push(
                    ViolationCode::WorkingDays,
                    period,
                    Figures::count(WORKING_DAYS_MAX, count),
                    move || {
                        format!(
                        "{} : {count} jours de travail, {WORKING_DAYS_MAX} au plus par semaine.",
                        week_label(monday)
                    )
                    },
                );
            }
        }
    }

    /// Weekly hours, complementary hours and overtime.
    fn weekly_hours(&mut self) {
        let weeks: Vec<(NaiveDate, Duration)> = self.weeks.iter().map(|(d, t)| (*d, *t)).collect();
        for (monday, worked) in weeks {
            let period = self.midnights.week(monday);
            let age = self.week_age(monday);
            let label = move || week_label(monday);
            let actual = minutes_ceil(worked);
            let limit = if age.is_minor() {
                MINOR_WEEKLY_MAX
            } else {
                WEEKLY_MAX
            };
            if worked > Duration::minutes(limit) {
                self.push(
                    ViolationCode::WeeklyHours,
                    period,
                    Figures::minutes(limit, worked),
                    move || {
                        format!(
                            "{} : {} de travail, {} au plus par semaine{}.",
                            label(),
                            hours(actual),
                            hours(limit),
                            age.whom()
                        )
                    },
                );
            }
            match self.employee.part_time_contract() {
                Some(contract) if worked > Duration::minutes(contract) => {
                    let extra = actual - contract;
                    // A tenth of the contract, compared exactly: 10 × worked ≤ 11 × contract.
                    let within_tenth =
                        worked.num_seconds().saturating_mul(10) <= contract.saturating_mul(60 * 11);
                    let below_legal = worked < Duration::minutes(LEGAL_WEEK_MINUTES);
                    if within_tenth && below_legal {
                        self.warn(
                            WarningCode::ComplementaryHours,
                            period,
                            Figures::minutes(contract, worked),
                            move || {
                                format!(
                                    "{} : {} de travail pour un contrat de {}, soit {} \
                                 complémentaires.",
                                    label(),
                                    hours(actual),
                                    hours(contract),
                                    hours(extra)
                                )
                            },
                        );
                    } else {
                        let tenth_limit = contract * 11 / 10;
                        let (limit, why) = if below_legal {
                            (
                                tenth_limit,
                                format!(
                                    "au-delà du dixième du contrat ({} au plus)",
                                    hours(tenth_limit - contract)
                                ),
                            )
                        } else {
                            (
                                tenth_limit.min(LEGAL_WEEK_MINUTES - 1),
                                "qui portent le temps partiel à la durée légale de 35 h"
                                    .to_string(),
                            )
                        };
                        self.push(
                            ViolationCode::ComplementaryHours,
                            period,
                            Figures::minutes(limit, worked),
                            move || {
                                format!(
                                    "{} : {} de travail pour un contrat à temps partiel de {}, \
                                 soit {} complémentaires, {why}.",
                                    label(),
                                    hours(actual),
                                    hours(contract),
                                    hours(extra)
                                )
                            },
                        );
                    }
                }
                Some(_) => {}
                None if worked > Duration::minutes(LEGAL_WEEK_MINUTES) => {
                    self.warn(
                        WarningCode::Overtime,
                        period,
                        Figures::minutes(LEGAL_WEEK_MINUTES, worked),
                        move || {
                            let split = overtime(actual);
                            let mut parts = vec![format!("{} à +25 %", hours(split.at_25))];
                            if split.at_50 > 0 {
                                parts.push(format!("{} à +50 %", hours(split.at_50)));
                            }
                            format!(
                                "{} : {} de travail, soit {} supplémentaires au-delà de 35 h \
                                 ({}).",
                                label(),
                                hours(actual),
                                hours(split.total()),
                                parts.join(" et ")
                            )
                        },
                    );
                }
                None => {}
            }
        }
    }

    /// Each week with work is touched by a rest of 35 h (two free civil days for a minor).
    fn weekly_rest(&mut self) {
        let blocks = self.blocks;
        let mondays: Vec<NaiveDate> = self.weeks.keys().copied().collect();
        for monday in mondays {
            let period = self.midnights.week(monday);
            let age = self.week_age(monday);
            if age.is_minor() {
                let free = |d: NaiveDate| !self.days.contains_key(&d);
                let ok = (-1..7).any(|k| {
                    let d = add_days(monday, k);
                    free(d) && free(next_day(d))
                });
                if !ok {
                    let free_in_week = (0..7).filter(|&k| free(add_days(monday, k))).count();
                    let actual = i64::from(free_in_week > 0);
                    self.push(
                        ViolationCode::WeeklyRest,
                        period,
                        Figures::count(MINOR_REST_DAYS, actual).lower_is_worse(),
                        move || {
                            format!(
                                "{} : pas deux jours de repos consécutifs, dus chaque semaine{}.",
                                week_label(monday),
                                age.whom()
                            )
                        },
                    );
                }
                continue;
            }
            // Rests overlapping the week: the one before block p (open when p == 0), then
            // those after each block starting before the week ends.
            let p = blocks.partition_point(|b| b.start <= period.start);
            let mut longest = Duration::zero();
            let mut open_rest = p == 0;
            let mut j = p.saturating_sub(1);
            while !open_rest && j < blocks.len() && blocks[j].end < period.end {
                match blocks.get(j + 1) {
                    Some(next) => {
                        if next.start > period.start {
                            longest = longest.max(next.start - blocks[j].end);
                        }
                    }
                    None => open_rest = true,
                }
                j += 1;
            }
            let need = Duration::minutes(WEEKLY_REST);
            if !open_rest && longest < need {
                self.push(
                    ViolationCode::WeeklyRest,
                    period,
                    Figures {
                        limit: WEEKLY_REST,
                        actual: longest.num_minutes(),
                        unit: Unit::Minutes,
                        exact: exact(longest),
                        lower_is_worse: true,
                    },
                    move || {
                        format!(
                        "{} : aucun repos de 35 h consécutives (le plus long dure {}) ; 35 h au \
                         moins chaque semaine.",
                        week_label(monday),
                        hours(longest.num_minutes())
                    )
                    },
                );
            }
        }
    }

    /// Every 12-week window containing a week with work.
    fn average(&mut self) {
        let limit_total = Duration::minutes(AVERAGE_MAX * AVERAGE_WEEKS);
        let weeks: Vec<(NaiveDate, Duration)> =
            self.all_weeks.iter().map(|(d, t)| (*d, *t)).collect();
        let mut found = Vec::new();
        // The windows starting 0 to 11 weeks before each week with work, in order, each
        // once; `weeks[lo..hi]` are the weeks inside the current one, `total` their work.
        let (mut lo, mut hi, mut total) = (0, 0, Duration::zero());
        let mut unseen: Option<NaiveDate> = None;
        for &(monday, _) in &weeks {
            let mut first = add_days(monday, -7 * (AVERAGE_WEEKS - 1));
            if let Some(u) = unseen {
                first = first.max(u);
            }
            while first <= monday {
                let after = add_days(first, 7 * AVERAGE_WEEKS);
                while hi < weeks.len() && weeks[hi].0 < after {
                    total += weeks[hi].1;
                    hi += 1;
                }
                while lo < hi && weeks[lo].0 < first {
                    total -= weeks[lo].1;
                    lo += 1;
                }
                if total > limit_total {
                    found.push((first, after, total));
                }
                let next = add_days(first, 7);
                if next <= first {
                    break;
                }
                first = next;
            }
            unseen = Some(first);
        }
        for (first, after, total) in found {
            let average = (minutes_ceil(total) + AVERAGE_WEEKS - 1) / AVERAGE_WEEKS;
            let last_sunday = add_days(after, -1);
            let period = Interval {
                start: self.midnights.of(first),
                end: self.midnights.of(after),
            };
            self.push(
                ViolationCode::AverageWeeklyHours,
                period,
                Figures {
                    limit: AVERAGE_MAX,
                    actual: average,
                    unit: Unit::Minutes,
                    exact: exact(total),
                    lower_is_worse: false,
                },
                move || {
                    format!(
                        "Du {} au {} : {} de travail en moyenne par semaine sur 12 semaines \
                     ({} en tout), {} au plus.",
                        format_date_fr(first),
                        format_date_fr(last_sunday),
                        hours(average),
                        hours(minutes_ceil(total)),
                        hours(AVERAGE_MAX)
                    )
                },
            );
        }
    }
}

/// The figures of a finding.
struct Figures {
    limit: i64,
    actual: i64,
    unit: Unit,
    exact: i64,
    lower_is_worse: bool,
}

impl Figures {
    /// A maximum in minutes; the figure shown is rounded up, so it never equals the limit.
    fn minutes(limit: i64, actual: Duration) -> Figures {
        Figures {
            limit,
            actual: minutes_ceil(actual),
            unit: Unit::Minutes,
            exact: exact(actual),
            lower_is_worse: false,
        }
    }

    fn count(limit: i64, actual: i64) -> Figures {
        Figures {
            limit,
            actual,
            unit: Unit::Days,
            exact: actual,
            lower_is_worse: false,
        }
    }

    fn lower_is_worse(mut self) -> Figures {
        self.lower_is_worse = true;
        self
    }

    /// The finding, its message still to write.
    fn finding(self, code: Code, period: Interval) -> Finding {
        Finding {
            code,
            period,
            limit: self.limit,
            actual: self.actual,
            unit: self.unit,
            exact: self.exact,
            lower_is_worse: self.lower_is_worse,
            message: String::new(),
        }
    }
}

/// 12-week windows overlap: one heavy week breaks up to twelve of them. Keeps, of each run of
/// overlapping broken windows, the one with the highest average (the earliest on ties).
fn worst_of_overlapping_averages(findings: Vec<Finding>) -> Vec<Finding> {
    let is_average = |f: &Finding| f.code == Code::Violation(ViolationCode::AverageWeeklyHours);
    let (mut averages, mut out): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(is_average);
    averages.sort_by_key(|f| f.period.start);
    let mut run: Option<(Finding, DateTime<Utc>)> = None;
    for f in averages {
        run = Some(match run {
            Some((best, reach)) if f.period.start < reach => {
                let reach = reach.max(f.period.end);
                if f.exact > best.exact {
                    (f, reach)
                } else {
                    (best, reach)
                }
            }
            previous => {
                if let Some((best, _)) = previous {
                    out.push(best);
                }
                let reach = f.period.end;
                (f, reach)
            }
        });
    }
    if let Some((best, _)) = run {
        out.push(best);
    }
    out
}

/// Range maximum over the rests between blocks (a sparse table), so that the daily-rest walk
/// stays O(n log² n) even on hostile lists of thousands of tiny shifts a day.
struct GapTable<'a> {
    gaps: &'a [Duration],
    /// `levels[k][i]`: index of the longest gap in `i..i + 2^k`, the earliest on ties.
    levels: Vec<Vec<usize>>,
}

impl<'a> GapTable<'a> {
    fn new(gaps: &'a [Duration]) -> GapTable<'a> {
        let mut levels = vec![(0..gaps.len()).collect::<Vec<usize>>()];
        let mut width = 1;
        while width * 2 <= gaps.len() {
            let prev = &levels[levels.len() - 1];
            let next: Vec<usize> = (0..=gaps.len() - width * 2)
                .map(|i| Self::better(gaps, prev[i], prev[i + width]))
                .collect();
            levels.push(next);
            width *= 2;
        }
        GapTable { gaps, levels }
    }

    fn better(gaps: &[Duration], a: usize, b: usize) -> usize {
        if gaps[b] > gaps[a] || (gaps[b] == gaps[a] && b < a) {
            b
        } else {
            a
        }
    }

    /// The longest gap in `l..r` (the earliest on ties).
    fn argmax(&self, l: usize, r: usize) -> Option<usize> {
        if l >= r || r > self.gaps.len() {
            return None;
        }
        let k = (usize::BITS - 1 - (r - l).leading_zeros()) as usize;
        let level = self.levels.get(k)?;
        Some(Self::better(self.gaps, level[l], level[r - (1 << k)]))
    }

    /// The first gap in `l..r` of at least `need`.
    fn first_at_least(&self, l: usize, r: usize, need: Duration) -> Option<usize> {
        let best = self.argmax(l, r)?;
        if self.gaps[best] < need {
            return None;
        }
        // Smallest `m` such that `l..m` holds such a gap.
        let (mut lo, mut hi) = (l + 1, r);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.argmax(l, mid) {
                Some(j) if self.gaps[j] >= need => hi = mid,
                _ => lo = mid + 1,
            }
        }
        Some(lo - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::parse_instant;
    use proptest::prelude::*;

    const PARIS: Tz = chrono_tz::Europe::Paris;

    /// A Paris wall-clock time, `"2027-01-04T08:00"`, or an instant with its offset.
    fn at(s: &str) -> DateTime<Utc> {
        parse_instant(s, PARIS).unwrap()
    }

    fn iv(a: &str, b: &str) -> Interval {
        Interval::new(at(a), at(b)).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn employee(birth: Option<&str>, contract_hours: i32) -> Employee {
        Employee {
            birth_date: birth.map(date),
            weekly_contract_minutes: contract_hours * 60,
        }
    }

    fn adult() -> Employee {
        employee(Some("1990-06-15"), 35)
    }

    /// 17 all through 2027.
    fn minor() -> Employee {
        employee(Some("2010-03-15"), 35)
    }

    /// 15 until 15 March 2027, then 16: use it before.
    fn under_16() -> Employee {
        employee(Some("2011-03-15"), 35)
    }

    /// Shifts from `(start, end)` pairs: `"2027-01-04T08:00"` or, within `day`, `"08:00"`.
    fn shifts(day: &str, spans: &[(&str, &str)], first_id: i64, activity: Activity) -> Vec<Shift> {
        let full = |s: &str| {
            if s.len() == 5 {
                format!("{day}T{s}")
            } else {
                s.to_string()
            }
        };
        spans
            .iter()
            .enumerate()
            .map(|(k, (a, b))| Shift {
                id: first_id + if first_id < 0 { -(k as i64) } else { k as i64 },
                interval: iv(&full(a), &full(b)),
                activity,
            })
            .collect()
    }

    fn work(day: &str, spans: &[(&str, &str)]) -> Vec<Shift> {
        shifts(day, spans, 1, Activity::Work)
    }

    fn propose(day: &str, spans: &[(&str, &str)]) -> Vec<Shift> {
        shifts(day, spans, -1, Activity::Work)
    }

    /// The same day shape on consecutive dates, numbered from `first_id`.
    fn days(first: &str, count: i64, spans: &[(&str, &str)], first_id: i64) -> Vec<Shift> {
        let mut out = Vec::new();
        for k in 0..count {
            let day = add_days(date(first), k).to_string();
            let mut s = shifts(&day, spans, 0, Activity::Work);
            for (n, shift) in s.iter_mut().enumerate() {
                shift.id = first_id + k * 10 + n as i64;
            }
            out.extend(s);
        }
        out
    }

    fn codes(v: &LabourVerdict) -> Vec<&'static str> {
        v.violations.iter().map(|v| v.code.as_str()).collect()
    }

    fn warnings(v: &LabourVerdict) -> Vec<WarningCode> {
        v.warnings.iter().map(|w| w.code).collect()
    }

    fn only(v: &LabourVerdict, code: ViolationCode) -> &Violation {
        assert_eq!(v.violations.len(), 1, "{:#?}", v.violations);
        assert_eq!(v.violations[0].code, code, "{:#?}", v.violations);
        &v.violations[0]
    }

    fn measure(v: &Violation) -> &Measure {
        v.measure.as_ref().unwrap()
    }

    const DAY: &[(&str, &str)] = &[("08:00", "12:00"), ("12:30", "16:30")];
    const TEN_HOURS: &[(&str, &str)] = &[("07:00", "12:00"), ("12:30", "17:30")];

    // --- Activities, overtime, helpers --------------------------------------------------

    #[test]
    fn activities_read_and_label() {
        for a in Activity::ALL {
            assert_eq!(Activity::parse(a.as_str()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.as_str())
            );
        }
        assert_eq!(Activity::parse(" training "), Some(Activity::Training));
        assert_eq!(Activity::parse("Travail"), None);
        assert_eq!(Activity::Training.label(), "Formation");
        assert!(Activity::Training.is_working_time() && !Activity::Training.is_billable());
        assert!(Activity::Work.is_working_time() && Activity::Work.is_billable());
        assert!(!Activity::Absence.is_working_time() && !Activity::Absence.is_billable());
    }

    #[test]
    fn overtime_splits_at_35_and_43_hours() {
        let o = |m| {
            let o = overtime(m);
            (o.at_25, o.at_50)
        };
        assert_eq!(o(0), (0, 0));
        assert_eq!(o(-60), (0, 0));
        assert_eq!(o(35 * 60), (0, 0));
        assert_eq!(o(35 * 60 + 1), (1, 0));
        assert_eq!(o(43 * 60), (480, 0));
        assert_eq!(o(43 * 60 + 1), (480, 1));
        assert_eq!(o(48 * 60), (480, 300));
        assert_eq!(o(i64::MIN), (0, 0));
        assert_eq!(overtime(i64::MAX).at_25, 480);
        assert_eq!(overtime(i64::MAX).total(), i64::MAX - 2100);
    }

    #[test]
    fn hours_are_written_the_french_way() {
        assert_eq!(hours(615), "10 h 15");
        assert_eq!(hours(600), "10 h");
        assert_eq!(hours(45), "45 min");
        assert_eq!(hours(61), "1 h 01");
        assert_eq!(hours(0), "0 min");
    }

    #[test]
    fn a_night_shift_counts_in_each_day_and_week_it_touches() {
        // Sunday 10 January 22:00 to Monday 11 January 06:00: two days, two weeks.
        let night = work("2027-01-10", &[("22:00", "2027-01-11T06:00")]);
        let by_day = work_minutes_by_day(&night, PARIS);
        assert_eq!(
            by_day.into_iter().collect::<Vec<_>>(),
            vec![(date("2027-01-10"), 120), (date("2027-01-11"), 360)]
        );
        let by_week = work_minutes_by_week(&night, PARIS);
        assert_eq!(
            by_week.into_iter().collect::<Vec<_>>(),
            vec![(date("2027-01-04"), 120), (date("2027-01-11"), 360)]
        );
        // Absences are counted apart, overlaps once.
        let mut mixed = work("2027-01-12", &[("08:00", "12:00"), ("10:00", "13:00")]);
        mixed.extend(shifts(
            "2027-01-12",
            &[("14:00", "18:00")],
            9,
            Activity::Absence,
        ));
        assert_eq!(work_minutes_by_day(&mixed, PARIS)[&date("2027-01-12")], 300);
        assert_eq!(
            minutes_by_day(&mixed, &[Activity::Absence], PARIS)[&date("2027-01-12")],
            240
        );
    }

    #[test]
    fn local_days_and_weeks_follow_dst() {
        assert_eq!(
            day_bounds(date("2027-03-28"), PARIS).duration(),
            Duration::hours(23)
        );
        assert_eq!(
            day_bounds(date("2027-10-31"), PARIS).duration(),
            Duration::hours(25)
        );
        let week = week_bounds(date("2027-10-27"), PARIS);
        assert_eq!(week.start, at("2027-10-25T00:00"));
        assert_eq!(week.end, at("2027-11-01T00:00"));
        assert_eq!(week.duration(), Duration::hours(7 * 24 + 1));
        assert_eq!(week_start(date("2027-01-03")), date("2026-12-28"));
        let parts = split_by_day(iv("2027-10-30T22:00", "2027-10-31T06:00"), PARIS);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].1.duration(), Duration::hours(7));
        // A time in the spring gap is read as the end of the gap.
        let gap = local_at(
            date("2027-03-28"),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            PARIS,
        );
        assert_eq!(gap, at("2027-03-28T03:00"));
    }

    #[test]
    fn days_start_at_their_first_instant_in_every_zone() {
        // Santiago and Havana skip midnight when clocks go forward; Lord Howe moves by 30 min.
        for tz in [
            PARIS,
            chrono_tz::America::Santiago,
            chrono_tz::America::Havana,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::UTC,
        ] {
            let mut d = date("2027-01-01");
            let mut skipped = 0;
            while d.year() == 2027 {
                let b = day_bounds(d, tz);
                assert_eq!(local_date(b.start, tz), d, "{tz} {d}");
                assert_eq!(
                    local_date(b.start - Duration::seconds(1), tz),
                    d.pred_opt().unwrap()
                );
                assert!(b.duration() >= Duration::hours(22) && b.duration() <= Duration::hours(25));
                if b.start.with_timezone(&tz).time() != NaiveTime::MIN {
                    skipped += 1;
                }
                d = next_day(d);
            }
            let expected = if tz == chrono_tz::America::Santiago || tz == chrono_tz::America::Havana
            {
                1
            } else {
                0
            };
            assert_eq!(skipped, expected, "{tz}");
        }
    }

    // --- Daily hours --------------------------------------------------------------------

    #[test]
    fn ten_hours_in_a_day_are_accepted_ten_hours_one_refused() {
        let stored = work("2027-01-04", &[("07:00", "12:00")]);
        let ok = check(
            &adult(),
            &stored,
            &propose("2027-01-04", &[("12:30", "17:30")]),
            PARIS,
        );
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        let refused = check(
            &adult(),
            &stored,
            &propose("2027-01-04", &[("12:30", "17:31")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::DailyHours);
        assert_eq!(
            v.message,
            "Lundi 4 janvier 2027 : 10 h 01 de travail, 10 h au plus par jour."
        );
        let m = measure(v);
        assert_eq!((m.limit, m.actual, m.unit), (600, 601, Unit::Minutes));
        assert_eq!(m.period_start, Some(at("2027-01-04T00:00")));
        assert_eq!(m.period_end, Some(at("2027-01-05T00:00")));
        assert_eq!(v.code.refusal_code(), "labour_limit");
    }

    #[test]
    fn a_day_surely_over_the_maximum_is_found_at_its_boundary() {
        let stored = work("2027-01-04", &[("07:00", "12:00")]);
        let sure = |e: &Employee, stored: &[Shift], day: &str, span: (&str, &str)| {
            surely_over_daily_max(e, stored, &propose(day, &[span])[0], PARIS)
        };
        // 10 h exactly is not over; 10 h 01 is.
        assert!(!sure(&adult(), &stored, "2027-01-04", ("12:30", "17:30")));
        assert!(sure(&adult(), &stored, "2027-01-04", ("12:30", "17:31")));
        // Another day, or time already worked, adds nothing to that day.
        assert!(!sure(&adult(), &stored, "2027-01-05", ("07:00", "17:00")));
        let long = work("2027-01-04", &[("07:00", "18:00")]);
        assert!(!sure(&adult(), &long, "2027-01-04", ("08:00", "09:00")));
        assert!(sure(&adult(), &long, "2027-01-04", ("18:00", "18:15")));
        // A minor: 8 h.
        assert!(!sure(&minor(), &stored, "2027-01-04", ("13:00", "16:00")));
        assert!(sure(&minor(), &stored, "2027-01-04", ("13:00", "16:01")));
        // Absences are not work; training is.
        let mut absence = propose("2027-01-04", &[("12:30", "18:00")])[0];
        absence.activity = Activity::Absence;
        assert!(!surely_over_daily_max(&adult(), &stored, &absence, PARIS));
        let mut training = absence;
        training.activity = Activity::Training;
        assert!(surely_over_daily_max(&adult(), &stored, &training, PARIS));
        // A night shift counts in each day it touches: 20:00–06:00 after a 5 h day makes
        // Monday 9 h, not over.
        assert!(!sure(
            &adult(),
            &stored,
            "2027-01-04",
            ("20:00", "2027-01-05T06:00")
        ));
        let tuesday = work("2027-01-05", &[("00:00", "05:00"), ("08:00", "13:00")]);
        assert!(sure(
            &adult(),
            &tuesday,
            "2027-01-04",
            ("20:00", "2027-01-05T06:00")
        ));
    }

    #[test]
    fn the_message_names_the_day_and_the_figures() {
        let refused = check(
            &adult(),
            &[],
            &propose("2027-03-09", &[("07:00", "12:00"), ("12:30", "17:45")]),
            PARIS,
        );
        assert_eq!(
            only(&refused, ViolationCode::DailyHours).message,
            "Mardi 9 mars 2027 : 10 h 15 de travail, 10 h au plus par jour."
        );
    }

    #[test]
    fn a_night_shift_counts_towards_both_days() {
        // 20:00–23:30 and 00:00–05:00 (a pause across midnight): 5 h on Wednesday already.
        let stored = work(
            "2027-01-05",
            &[("20:00", "23:30"), ("2027-01-06T00:00", "2027-01-06T05:00")],
        );
        let ok = check(
            &adult(),
            &stored,
            &propose("2027-01-06", &[("17:00", "22:00")]),
            PARIS,
        );
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        let refused = check(
            &adult(),
            &stored,
            &propose("2027-01-06", &[("17:00", "22:01")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::DailyHours);
        assert!(
            v.message.starts_with("Mercredi 6 janvier 2027 : 10 h 01"),
            "{}",
            v.message
        );
    }

    #[test]
    fn training_is_work_and_absence_is_not() {
        let stored = work("2027-01-04", TEN_HOURS);
        let training = shifts("2027-01-04", &[("18:00", "19:00")], -1, Activity::Training);
        only(
            &check(&adult(), &stored, &training, PARIS),
            ViolationCode::DailyHours,
        );
        let absence = shifts("2027-01-04", &[("18:00", "23:00")], -1, Activity::Absence);
        assert_eq!(
            check(&adult(), &stored, &absence, PARIS),
            LabourVerdict::default()
        );
        // An absence between two days is rest: it does not join them.
        let mut stored = work("2027-01-04", &[("08:00", "12:00")]);
        stored.extend(shifts(
            "2027-01-04",
            &[("12:00", "20:00")],
            7,
            Activity::Absence,
        ));
        let next = propose("2027-01-05", &[("08:00", "12:00")]);
        assert!(check(&adult(), &stored, &next, PARIS).is_accepted());
    }

    #[test]
    fn two_members_assignments_break_a_limit_only_together() {
        // Member A has the morning, member B asks for the afternoon.
        let a = work("2027-01-04", &[("08:00", "13:00")]);
        let b = propose("2027-01-04", &[("14:00", "19:01")]);
        assert!(check(&adult(), &[], &a, PARIS).is_accepted());
        assert!(check(&adult(), &[], &b, PARIS).is_accepted());
        only(&check(&adult(), &a, &b, PARIS), ViolationCode::DailyHours);
        // And the week: 40 h at A, 9 h at B on Saturday.
        let a = days("2027-01-04", 5, DAY, 1);
        let b = propose("2027-01-09", &[("08:00", "12:00"), ("12:30", "17:30")]);
        let week = check(&adult(), &a, &b, PARIS);
        let v = only(&week, ViolationCode::WeeklyHours);
        assert_eq!(measure(v).actual, 49 * 60);
    }

    // --- Breaks -------------------------------------------------------------------------

    #[test]
    fn six_hours_without_a_break_and_the_twenty_minutes() {
        assert!(check(
            &adult(),
            &[],
            &propose("2027-01-04", &[("08:00", "14:00")]),
            PARIS
        )
        .is_accepted());
        let v = check(
            &adult(),
            &[],
            &propose("2027-01-04", &[("08:00", "14:01")]),
            PARIS,
        );
        assert_eq!(
            measure(only(&v, ViolationCode::WorkWithoutBreak)).actual,
            361
        );

        // Six hours at one member, then a 19-minute gap before another: one stretch.
        let stored = work("2027-01-04", &[("08:00", "14:00")]);
        let refused = check(
            &adult(),
            &stored,
            &propose("2027-01-04", &[("14:19", "15:00")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::WorkWithoutBreak);
        let m = measure(v);
        assert_eq!((m.limit, m.actual), (360, 401));
        assert_eq!(m.period_start, Some(at("2027-01-04T08:00")));
        assert_eq!(m.period_end, Some(at("2027-01-04T15:00")));
        assert_eq!(
            v.message,
            "6 h 41 de travail sans pause d'au moins 20 minutes (lundi 4 janvier 2027 de 08:00 \
             à 15:00) : 6 h au plus d'affilée."
        );
        let ok = check(
            &adult(),
            &stored,
            &propose("2027-01-04", &[("14:20", "15:00")]),
            PARIS,
        );
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
    }

    // --- Daily rest ---------------------------------------------------------------------

    #[test]
    fn eleven_hours_of_rest_accepted_ten_fifty_nine_refused() {
        let stored = work("2027-01-04", &[("08:00", "12:00"), ("13:00", "17:00")]);
        let ok = check(
            &adult(),
            &stored,
            &propose("2027-01-05", &[("04:00", "08:00")]),
            PARIS,
        );
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        let refused = check(
            &adult(),
            &stored,
            &propose("2027-01-05", &[("03:59", "08:00")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::DailyRest);
        let m = measure(v);
        assert_eq!((m.limit, m.actual), (660, 659));
        assert_eq!(m.period_start, Some(at("2027-01-04T08:00")));
        assert_eq!(m.period_end, Some(at("2027-01-05T08:00")));
        assert_eq!(
            v.message,
            "Repos quotidien : dans les 24 h qui suivent la prise de poste du lundi 4 janvier \
             2027 à 08:00, le plus long repos ne dure que 10 h 59 (à partir du lundi 4 janvier \
             2027 à 17:00) ; il faut 11 h consécutives au moins entre deux journées de travail."
        );
    }

    #[test]
    fn a_pause_inside_a_night_shift_is_not_a_daily_rest() {
        let night = propose(
            "2027-01-04",
            &[("21:00", "23:45"), ("2027-01-05T00:15", "2027-01-05T05:00")],
        );
        let v = check(&adult(), &[], &night, PARIS);
        assert!(v.is_accepted(), "{:#?}", v.violations);
    }

    #[test]
    fn a_day_shift_eight_hours_after_a_night_shift_is_refused() {
        let night = work(
            "2027-01-04",
            &[
                ("22:00", "2027-01-05T02:00"),
                ("2027-01-05T02:20", "2027-01-05T06:00"),
            ],
        );
        let ok = check(
            &adult(),
            &night,
            &propose("2027-01-05", &[("17:00", "21:00")]),
            PARIS,
        );
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        let refused = check(
            &adult(),
            &night,
            &propose("2027-01-05", &[("14:00", "18:00")]),
            PARIS,
        );
        assert_eq!(
            measure(only(&refused, ViolationCode::DailyRest)).actual,
            8 * 60
        );
    }

    #[test]
    fn a_split_day_longer_than_thirteen_hours_leaves_no_daily_rest() {
        let split = propose("2027-01-04", &[("06:00", "10:00"), ("17:00", "19:00")]);
        assert!(check(&adult(), &[], &split, PARIS).is_accepted());
        let split = propose("2027-01-04", &[("06:00", "10:00"), ("17:00", "19:01")]);
        let refused = check(&adult(), &[], &split, PARIS);
        let v = only(&refused, ViolationCode::DailyRest);
        assert_eq!(measure(v).actual, 10 * 60 + 59);
    }

    // --- Weeks --------------------------------------------------------------------------

    #[test]
    fn forty_eight_hours_in_a_week_accepted_forty_eight_fifteen_refused() {
        let stored = days("2027-01-04", 5, DAY, 1);
        let ok = check(&adult(), &stored, &propose("2027-01-09", DAY), PARIS);
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        assert_eq!(warnings(&ok), vec![WarningCode::Overtime]);
        assert_eq!(
            ok.warnings[0].message,
            "Semaine du lundi 4 janvier 2027 : 48 h de travail, soit 13 h supplémentaires \
             au-delà de 35 h (8 h à +25 % et 5 h à +50 %)."
        );
        let refused = check(
            &adult(),
            &stored,
            &propose("2027-01-09", &[("08:00", "12:00"), ("12:30", "16:45")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::WeeklyHours);
        let m = measure(v);
        assert_eq!((m.limit, m.actual), (2880, 2895));
        assert_eq!(
            v.message,
            "Semaine du lundi 4 janvier 2027 : 48 h 15 de travail, 48 h au plus par semaine."
        );
    }

    #[test]
    fn a_week_across_a_month_and_a_year_boundary() {
        // Monday 28 December 2026 to Sunday 3 January 2027; 1 January is no bar to an adult.
        let stored = days("2026-12-28", 5, DAY, 1);
        let by_week = work_minutes_by_week(&stored, PARIS);
        assert_eq!(
            by_week.into_iter().collect::<Vec<_>>(),
            vec![(date("2026-12-28"), 2400)]
        );
        let refused = check(
            &adult(),
            &stored,
            &propose("2027-01-02", &[("08:00", "12:00"), ("12:30", "16:45")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::WeeklyHours);
        let m = measure(v);
        assert_eq!(m.period_start, Some(at("2026-12-28T00:00")));
        assert_eq!(m.period_end, Some(at("2027-01-04T00:00")));
        assert!(
            v.message
                .starts_with("Semaine du lundi 28 décembre 2026 : 48 h 15"),
            "{}",
            v.message
        );
        // The same week for a minor: 1 January refused, and 35 h a week.
        let minor_week = propose(
            "2026-12-31",
            &[("08:00", "12:00"), ("2027-01-01T08:00", "2027-01-01T12:00")],
        );
        let v = check(&minor(), &[], &minor_week, PARIS);
        let v = only(&v, ViolationCode::PublicHoliday);
        assert!(
            v.message
                .starts_with("Vendredi 1 janvier 2027 (Jour de l'an) : 4 h"),
            "{}",
            v.message
        );
    }

    #[test]
    fn a_twelve_week_average_of_44_hours_accepted_44_05_refused() {
        // Four 10-hour days and a Friday morning: 44 h (45 h with an hour more on Friday).
        let week = |monday: NaiveDate, id: i64, friday: &[(&str, &str)]| {
            let mut s = days(&monday.to_string(), 4, TEN_HOURS, id);
            s.extend(shifts(
                &add_days(monday, 4).to_string(),
                friday,
                id + 50,
                Activity::Work,
            ));
            s
        };
        let morning: &[(&str, &str)] = &[("08:00", "12:00")];
        let first = date("2027-01-04");
        let mut stored = Vec::new();
        for k in 0..11 {
            stored.extend(week(add_days(first, 7 * k), 100 * (k + 1), morning));
        }
        assert_eq!(
            work_minutes_by_week(&stored, PARIS)
                .values()
                .copied()
                .collect::<BTreeSet<_>>(),
            BTreeSet::from([44 * 60])
        );
        let last = add_days(first, 77);
        let mut twelfth: Vec<Shift> = week(last, 0, morning);
        for (k, s) in twelfth.iter_mut().enumerate() {
            s.id = -1 - k as i64;
        }
        let ok = check(&adult(), &stored, &twelfth, PARIS);
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        let mut heavier = week(last, 0, &[("08:00", "12:00"), ("12:30", "13:30")]);
        for (k, s) in heavier.iter_mut().enumerate() {
            s.id = -1 - k as i64;
        }
        let refused = check(&adult(), &stored, &heavier, PARIS);
        let v = only(&refused, ViolationCode::AverageWeeklyHours);
        let m = measure(v);
        assert_eq!((m.limit, m.actual), (2640, 2645));
        assert_eq!(m.period_start, Some(at("2027-01-04T00:00")));
        assert_eq!(m.period_end, Some(at("2027-03-29T00:00")));
        assert_eq!(
            v.message,
            "Du lundi 4 janvier 2027 au dimanche 28 mars 2027 : 44 h 05 de travail en moyenne \
             par semaine sur 12 semaines (529 h en tout), 44 h au plus."
        );
    }

    #[test]
    fn overlapping_twelve_week_windows_are_reported_once() {
        // 47 h every week for 14 weeks: each window holding 12 of them is over 44 h.
        let mut all = Vec::new();
        for k in 0..14 {
            let monday = add_days(date("2027-01-04"), 7 * k);
            all.extend(days(&monday.to_string(), 4, TEN_HOURS, 100 * (k + 1)));
            all.extend(shifts(
                &add_days(monday, 4).to_string(),
                &[("08:00", "12:00"), ("12:30", "15:30")],
                100 * (k + 1) + 50,
                Activity::Work,
            ));
        }
        let v = check(&adult(), &[], &all, PARIS);
        let averages: Vec<&Violation> = v
            .violations
            .iter()
            .filter(|v| v.code == ViolationCode::AverageWeeklyHours)
            .collect();
        assert_eq!(averages.len(), 1, "{averages:#?}");
        assert_eq!(measure(averages[0]).actual, 47 * 60);
    }

    #[test]
    fn the_seventh_working_day_is_refused() {
        let stored = days("2027-01-04", 5, &[("08:00", "12:00")], 1);
        let six = check(
            &adult(),
            &stored,
            &propose("2027-01-09", &[("08:00", "12:00")]),
            PARIS,
        );
        assert!(six.is_accepted(), "{:#?}", six.violations);
        let mut six_days = stored.clone();
        six_days.extend(
            work("2027-01-09", &[("08:00", "12:00")])
                .into_iter()
                .map(|mut s| {
                    s.id = 99;
                    s
                }),
        );
        let seventh = check(
            &adult(),
            &six_days,
            &propose("2027-01-10", &[("08:00", "12:00")]),
            PARIS,
        );
        let v = only(&seventh, ViolationCode::WorkingDays);
        let m = measure(v);
        assert_eq!((m.limit, m.actual, m.unit), (6, 7, Unit::Days));
        assert_eq!(
            v.message,
            "Semaine du lundi 4 janvier 2027 : 7 jours de travail, 6 au plus par semaine."
        );
        assert_eq!(warnings(&seventh), vec![WarningCode::SundayWork]);
    }

    #[test]
    fn six_night_shifts_are_six_working_days() {
        // Monday to Saturday nights touch seven dates, and are six working days.
        let mut nights = Vec::new();
        for k in 0..6 {
            let evening = add_days(date("2027-01-04"), k);
            let morning = next_day(evening);
            nights.extend(shifts(
                &evening.to_string(),
                &[
                    ("22:00", &format!("{morning}T02:00")),
                    (&format!("{morning}T02:30"), &format!("{morning}T06:00")),
                ],
                10 * (k + 1),
                Activity::Work,
            ));
        }
        let v = check(&adult(), &[], &nights, PARIS);
        assert!(v.is_accepted(), "{:#?}", v.violations);
    }

    #[test]
    fn the_weekly_rest_of_35_hours() {
        let mut stored = work("2027-01-03", &[("14:00", "20:00")]);
        stored.extend(days("2027-01-04", 5, &[("08:00", "14:00")], 10));
        stored.extend(shifts(
            "2027-01-09",
            &[("15:00", "21:00")],
            90,
            Activity::Work,
        ));
        let ok = check(
            &adult(),
            &stored,
            &propose("2027-01-11", &[("08:00", "12:00")]),
            PARIS,
        );
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        let refused = check(
            &adult(),
            &stored,
            &propose("2027-01-11", &[("07:59", "12:00")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::WeeklyRest);
        let m = measure(v);
        assert_eq!((m.limit, m.actual), (2100, 2099));
        assert_eq!(m.period_start, Some(at("2027-01-04T00:00")));
        assert_eq!(
            v.message,
            "Semaine du lundi 4 janvier 2027 : aucun repos de 35 h consécutives (le plus long \
             dure 34 h 59) ; 35 h au moins chaque semaine."
        );
    }

    // --- Minors -------------------------------------------------------------------------

    #[test]
    fn a_minor_works_eight_hours_a_day() {
        let ok = check(&minor(), &[], &propose("2027-01-04", DAY), PARIS);
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        let refused = check(
            &minor(),
            &[],
            &propose("2027-01-04", &[("08:00", "12:00"), ("12:30", "16:31")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::DailyHours);
        assert_eq!(measure(v).limit, 480);
        assert_eq!(
            v.message,
            "Lundi 4 janvier 2027 : 8 h 01 de travail, 8 h au plus par jour pour un salarié de \
             moins de 18 ans."
        );
    }

    #[test]
    fn a_minor_works_four_hours_thirty_before_a_thirty_minute_break() {
        let accepted = |spans: &[(&str, &str)]| {
            check(&minor(), &[], &propose("2027-01-04", spans), PARIS).is_accepted()
        };
        assert!(accepted(&[("08:00", "12:30")]));
        assert!(!accepted(&[("08:00", "12:31")]));
        assert!(!accepted(&[("08:00", "11:00"), ("11:29", "13:00")]));
        assert!(accepted(&[("08:00", "11:00"), ("11:30", "13:01")]));
        // An adult's 29-minute pause is a break.
        assert!(check(
            &adult(),
            &[],
            &propose("2027-01-04", &[("08:00", "11:00"), ("11:29", "13:00")]),
            PARIS
        )
        .is_accepted());
        let v = check(
            &minor(),
            &[],
            &propose("2027-01-04", &[("08:00", "12:31")]),
            PARIS,
        );
        assert_eq!(
            measure(only(&v, ViolationCode::WorkWithoutBreak)).limit,
            270
        );
    }

    #[test]
    fn a_minor_works_35_hours_a_week() {
        let day = &[("08:00", "12:00"), ("13:00", "16:00")];
        let stored = days("2027-01-04", 4, day, 1);
        let ok = check(&minor(), &stored, &propose("2027-01-08", day), PARIS);
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        let refused = check(
            &minor(),
            &stored,
            &propose("2027-01-08", &[("08:00", "12:00"), ("13:00", "16:15")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::WeeklyHours);
        assert_eq!((measure(v).limit, measure(v).actual), (2100, 2115));
    }

    #[test]
    fn a_minor_rests_twelve_hours_and_fourteen_under_sixteen() {
        let stored = work("2027-01-04", &[("13:00", "17:00"), ("17:30", "21:00")]);
        let next = |start: &str| propose("2027-01-05", &[(start, "12:00")]);
        assert!(check(&minor(), &stored, &next("09:00"), PARIS).is_accepted());
        let v = check(&minor(), &stored, &next("08:59"), PARIS);
        let m = measure(only(&v, ViolationCode::DailyRest)).clone();
        assert_eq!((m.limit, m.actual), (720, 719));
        assert!(check(&adult(), &stored, &next("08:00"), PARIS).is_accepted());

        let stored = work("2027-01-04", &[("12:00", "16:00"), ("16:30", "19:00")]);
        assert!(check(&under_16(), &stored, &next("09:00"), PARIS).is_accepted());
        let v = check(&under_16(), &stored, &next("08:59"), PARIS);
        let v = only(&v, ViolationCode::DailyRest);
        assert_eq!((measure(v).limit, measure(v).actual), (840, 839));
        assert!(
            v.message.ends_with("pour un salarié de moins de 16 ans."),
            "{}",
            v.message
        );
    }

    #[test]
    fn a_minor_does_not_work_at_night() {
        let accepted = |e: &Employee, spans: &[(&str, &str)]| {
            check(e, &[], &propose("2027-01-04", spans), PARIS).is_accepted()
        };
        assert!(accepted(&minor(), &[("18:00", "22:00")]));
        assert!(!accepted(&minor(), &[("18:00", "22:01")]));
        assert!(accepted(&minor(), &[("06:00", "10:00")]));
        assert!(!accepted(&minor(), &[("05:59", "10:00")]));
        assert!(accepted(&under_16(), &[("16:00", "20:00")]));
        assert!(!accepted(&under_16(), &[("16:00", "20:01")]));
        assert!(accepted(&adult(), &[("20:00", "2027-01-05T02:00")]));
        let v = check(
            &minor(),
            &[],
            &propose("2027-01-04", &[("18:00", "22:01")]),
            PARIS,
        );
        let v = only(&v, ViolationCode::NightWork);
        let m = measure(v);
        assert_eq!((m.limit, m.actual), (0, 1));
        assert_eq!(m.period_start, Some(at("2027-01-04T22:00")));
        assert_eq!(m.period_end, Some(at("2027-01-05T06:00")));
        assert_eq!(
            v.message,
            "Nuit du lundi 4 janvier 2027 au mardi 5 janvier 2027 : 1 min de travail entre \
             22:00 et 06:00, interdit pour un salarié de moins de 18 ans."
        );
        let v = check(
            &under_16(),
            &[],
            &propose("2027-01-04", &[("16:00", "20:01")]),
            PARIS,
        );
        assert!(only(&v, ViolationCode::NightWork)
            .message
            .contains("entre 20:00 et 06:00"));
    }

    #[test]
    fn a_minor_does_not_work_on_public_holidays() {
        let easter_monday = propose("2027-03-29", &[("08:00", "12:00")]);
        let v = check(&minor(), &[], &easter_monday, PARIS);
        let v = only(&v, ViolationCode::PublicHoliday);
        assert_eq!(
            v.message,
            "Lundi 29 mars 2027 (Lundi de Pâques) : 4 h de travail un jour férié, interdit pour \
             un salarié de moins de 18 ans."
        );
        assert!(check(&adult(), &[], &easter_monday, PARIS).is_accepted());
        // 1 May: refused to a minor (no warning on top), a warning for an adult.
        let may_day = propose("2027-05-01", &[("08:00", "12:00")]);
        let v = check(&minor(), &[], &may_day, PARIS);
        only(&v, ViolationCode::PublicHoliday);
        assert!(v.warnings.is_empty(), "{:#?}", v.warnings);
        let v = check(&adult(), &[], &may_day, PARIS);
        assert!(v.is_accepted());
        assert_eq!(warnings(&v), vec![WarningCode::MayDay]);
        assert_eq!(
            v.warnings[0].message,
            "Travail le 1er mai 2027 (4 h) : jour férié chômé, permis seulement là où \
             l'activité ne peut s'interrompre, et payé double."
        );
    }

    #[test]
    fn a_minor_rests_two_consecutive_days_a_week() {
        let stored = days("2027-01-11", 5, &[("08:00", "12:00")], 1);
        let saturday = check(
            &minor(),
            &stored,
            &propose("2027-01-16", &[("08:00", "12:00")]),
            PARIS,
        );
        assert!(
            saturday.is_accepted(),
            "Sunday and the next Monday: {:#?}",
            saturday.violations
        );
        let sunday = check(
            &minor(),
            &stored,
            &propose("2027-01-17", &[("08:00", "12:00")]),
            PARIS,
        );
        let v = only(&sunday, ViolationCode::WeeklyRest);
        let m = measure(v);
        assert_eq!((m.limit, m.actual, m.unit), (2, 1, Unit::Days));
        // An adult may: one day off is 35 h of rest with these hours.
        assert!(check(
            &adult(),
            &stored,
            &propose("2027-01-17", &[("08:00", "12:00")]),
            PARIS
        )
        .is_accepted());
    }

    #[test]
    fn the_eighteenth_birthday_is_the_first_adult_day() {
        let e = employee(Some("2009-06-15"), 35);
        let nine = &[("08:00", "12:30"), ("13:00", "17:30")];
        assert!(!check(&e, &[], &propose("2027-06-14", nine), PARIS).is_accepted());
        assert!(check(&e, &[], &propose("2027-06-15", nine), PARIS).is_accepted());
        assert!(e.is_minor_on(date("2027-06-14")) && !e.is_minor_on(date("2027-06-15")));
        let leap = employee(Some("2008-02-29"), 35);
        assert!(leap.is_minor_on(date("2026-02-28")));
        assert!(!leap.is_minor_on(date("2026-03-01")));
        assert!(!adult().is_minor_on(date("2027-01-01")));
        assert!(!employee(None, 35).is_minor_on(date("2027-01-01")));
    }

    // --- DST ----------------------------------------------------------------------------

    #[test]
    fn the_night_of_the_october_change_lasts_an_hour_longer() {
        // Saturday 30 to Sunday 31 October 2027, 22:00–06:00 on the clock: 9 hours.
        let night = propose("2027-10-30", &[("22:00", "2027-10-31T06:00")]);
        assert_eq!(
            work_minutes_by_day(&night, PARIS)
                .into_iter()
                .collect::<Vec<_>>(),
            vec![(date("2027-10-30"), 120), (date("2027-10-31"), 420)]
        );
        assert_eq!(
            work_minutes_by_week(&night, PARIS)[&date("2027-10-25")],
            540
        );
        let v = check(&adult(), &[], &night, PARIS);
        assert_eq!(
            measure(only(&v, ViolationCode::WorkWithoutBreak)).actual,
            540
        );
        // On the 25-hour Sunday, 00:00–09:30 on the clock with a break is 10 h of work.
        let ok = propose("2027-10-31", &[("00:00", "04:00"), ("04:30", "09:30")]);
        let v = check(&adult(), &[], &ok, PARIS);
        assert!(v.is_accepted(), "{:#?}", v.violations);
        let over = propose("2027-10-31", &[("00:00", "04:00"), ("04:30", "09:31")]);
        let v = check(&adult(), &[], &over, PARIS);
        assert!(
            only(&v, ViolationCode::DailyHours)
                .message
                .starts_with("Dimanche 31 octobre 2027 : 10 h 01"),
            "{:#?}",
            v.violations
        );
        // In spring, 00:00–11:30 with a break is 10 h.
        let spring = propose("2027-03-28", &[("00:00", "05:00"), ("05:30", "11:30")]);
        assert_eq!(
            work_minutes_by_day(&spring, PARIS)[&date("2027-03-28")],
            600
        );
        assert!(check(&adult(), &[], &spring, PARIS).is_accepted());
    }

    // --- Blame --------------------------------------------------------------------------

    #[test]
    fn a_limit_broken_elsewhere_does_not_refuse_an_unrelated_proposal() {
        // The week of 4 January already has 50 h and an 11-hour day.
        let mut stored = days("2027-01-04", 5, TEN_HOURS, 1);
        stored.extend(
            work("2027-01-06", &[("18:00", "19:00")])
                .into_iter()
                .map(|mut s| {
                    s.id = 99;
                    s
                }),
        );
        let alone = check(&adult(), &[], &stored, PARIS);
        // In the order of their periods: the week starts on Monday.
        assert_eq!(codes(&alone), vec!["weekly_hours", "daily_hours"]);
        let later = check(
            &adult(),
            &stored,
            &propose("2027-01-18", &[("08:00", "12:00")]),
            PARIS,
        );
        assert_eq!(later, LabourVerdict::default());
        // A proposal in that week makes its excess worse: refused, with the new figure; the
        // 11-hour Wednesday is not its doing.
        let same = check(
            &adult(),
            &stored,
            &propose("2027-01-09", &[("08:00", "10:00")]),
            PARIS,
        );
        let v = only(&same, ViolationCode::WeeklyHours);
        assert_eq!(measure(v).actual, 53 * 60);
        assert_eq!(warnings(&same), vec![WarningCode::Overtime]);
        // Adding to the Wednesday makes that day worse too (20:00 would also stretch the day
        // past 13 h, leaving no 11 h of rest: see the daily-rest tests).
        let wednesday = check(
            &adult(),
            &stored,
            &propose("2027-01-06", &[("19:00", "19:30")]),
            PARIS,
        );
        assert_eq!(codes(&wednesday), vec!["weekly_hours", "daily_hours"]);
    }

    #[test]
    fn a_moved_shift_does_not_count_twice() {
        let stored = shifts("2027-01-04", TEN_HOURS, 1, Activity::Work);
        let moved = vec![Shift {
            id: 2,
            interval: iv("2027-01-04T13:00", "2027-01-04T18:00"),
            activity: Activity::Work,
        }];
        assert!(check(&adult(), &stored, &moved, PARIS).is_accepted());
        let added = vec![Shift { id: -1, ..moved[0] }];
        only(
            &check(&adult(), &stored, &added, PARIS),
            ViolationCode::DailyHours,
        );
    }

    // --- Warnings -----------------------------------------------------------------------

    #[test]
    fn complementary_hours_up_to_a_tenth_of_the_contract() {
        let part_time = employee(None, 20);
        let stored = days("2027-01-04", 5, &[("08:00", "12:00")], 1);
        assert!(check(&part_time, &[], &stored, PARIS).warnings.is_empty());
        let ok = check(
            &part_time,
            &stored,
            &propose("2027-01-08", &[("13:00", "15:00")]),
            PARIS,
        );
        assert!(ok.is_accepted(), "{:#?}", ok.violations);
        assert_eq!(warnings(&ok), vec![WarningCode::ComplementaryHours]);
        assert_eq!(
            ok.warnings[0].message,
            "Semaine du lundi 4 janvier 2027 : 22 h de travail pour un contrat de 20 h, soit 2 h \
             complémentaires."
        );
        let m = ok.warnings[0].measure.as_ref().unwrap();
        assert_eq!((m.limit, m.actual), (1200, 1320));
        let refused = check(
            &part_time,
            &stored,
            &propose("2027-01-08", &[("13:00", "15:01")]),
            PARIS,
        );
        let v = only(&refused, ViolationCode::ComplementaryHours);
        assert_eq!((measure(v).limit, measure(v).actual), (1320, 1321));
        assert!(
            v.message
                .ends_with("au-delà du dixième du contrat (2 h au plus)."),
            "{}",
            v.message
        );
        assert!(refused.warnings.is_empty());

        // A 32-hour contract may go to 34 h, not to 35 h.
        let e = employee(None, 32);
        let stored = days("2027-01-04", 4, DAY, 1);
        let v = check(
            &e,
            &stored,
            &propose("2027-01-08", &[("08:00", "10:00")]),
            PARIS,
        );
        assert!(v.is_accepted());
        assert_eq!(warnings(&v), vec![WarningCode::ComplementaryHours]);
        let v = check(
            &e,
            &stored,
            &propose("2027-01-08", &[("08:00", "11:00")]),
            PARIS,
        );
        let v = only(&v, ViolationCode::ComplementaryHours);
        assert_eq!((measure(v).limit, measure(v).actual), (2099, 2100));
        assert!(v.message.contains("durée légale de 35 h"), "{}", v.message);
    }

    #[test]
    fn overtime_warning_gives_the_split() {
        let stored = days("2027-01-04", 4, TEN_HOURS, 1);
        let v = check(
            &adult(),
            &stored,
            &propose("2027-01-08", &[("08:00", "12:00")]),
            PARIS,
        );
        assert!(v.is_accepted());
        assert_eq!(warnings(&v), vec![WarningCode::Overtime]);
        assert_eq!(
            v.warnings[0].message,
            "Semaine du lundi 4 janvier 2027 : 44 h de travail, soit 9 h supplémentaires \
             au-delà de 35 h (8 h à +25 % et 1 h à +50 %)."
        );
        let m = v.warnings[0].measure.as_ref().unwrap();
        assert_eq!((m.limit, m.actual), (2100, 2640));
        let v = check(&adult(), &[], &days("2027-01-04", 3, TEN_HOURS, 1), PARIS);
        assert!(v.warnings.is_empty(), "30 h: {:#?}", v.warnings);
    }

    #[test]
    fn sunday_work_is_a_warning() {
        let v = check(
            &adult(),
            &[],
            &propose("2027-01-10", &[("09:00", "13:00")]),
            PARIS,
        );
        assert!(v.is_accepted());
        assert_eq!(warnings(&v), vec![WarningCode::SundayWork]);
        assert_eq!(
            v.warnings[0].message,
            "Travail le dimanche 10 janvier 2027 (4 h) : le repos hebdomadaire est en principe \
             donné le dimanche."
        );
        let m = v.warnings[0].measure.as_ref().unwrap();
        assert_eq!(m.period_start, Some(at("2027-01-10T00:00")));
    }

    // --- Lookup and totality ------------------------------------------------------------

    #[test]
    fn lookup_range_spans_the_twelve_week_windows() {
        let r = lookup_range(&[iv("2027-03-10T10:00", "2027-03-10T12:00")], PARIS);
        assert_eq!(r.start, at("2026-12-21T00:00"));
        assert_eq!(r.end, at("2027-05-31T00:00"));
        // Ending at midnight does not touch the next week.
        let r = lookup_range(&[iv("2027-03-13T10:00", "2027-03-15T00:00")], PARIS);
        assert_eq!(r.end, at("2027-05-31T00:00"));
        let r = lookup_range(&[iv("2027-03-13T10:00", "2027-03-15T00:01")], PARIS);
        assert_eq!(r.end, at("2027-06-07T00:00"));
        let empty = lookup_range(&[], PARIS);
        assert_eq!(empty.start, empty.end);
        let t = at("2027-03-10T10:00");
        let inverted = Interval {
            start: t,
            end: t - Duration::hours(1),
        };
        let r = lookup_range(&[inverted], PARIS);
        assert_eq!(r.start, r.end);
        let huge = Interval {
            start: DateTime::<Utc>::MIN_UTC,
            end: DateTime::<Utc>::MAX_UTC,
        };
        assert!(lookup_range(&[huge], PARIS).is_valid());
    }

    #[test]
    fn stored_shifts_outside_the_lookup_range_are_ignored() {
        let far = days("2026-06-01", 7, TEN_HOURS, 1);
        let proposal = propose("2027-03-10", &[("08:00", "12:00")]);
        assert_eq!(
            check(&adult(), &far, &proposal, PARIS),
            LabourVerdict::default()
        );
    }

    #[test]
    fn hostile_input_gets_an_answer() {
        let t = at("2027-01-04T08:00");
        let hostile = [
            Interval {
                start: DateTime::<Utc>::MIN_UTC,
                end: DateTime::<Utc>::MAX_UTC,
            },
            Interval { start: t, end: t },
            Interval {
                start: t,
                end: t - Duration::hours(3),
            },
            Interval {
                start: DateTime::<Utc>::MAX_UTC,
                end: DateTime::<Utc>::MIN_UTC,
            },
        ];
        for (k, interval) in hostile.iter().enumerate() {
            let s = Shift {
                id: -(k as i64) - 1,
                interval: *interval,
                activity: Activity::Work,
            };
            let _ = check(&minor(), &[s], &[s], PARIS);
            let v = check(&adult(), &[], &[s], PARIS);
            if k > 0 {
                assert_eq!(v, LabourVerdict::default());
            }
            let _ = work_minutes_by_day(&[s], PARIS);
            let _ = split_by_day(*interval, PARIS);
        }
        // Two centuries of work at once: refused, not hung.
        let all = Shift {
            id: -1,
            interval: hostile[0],
            activity: Activity::Work,
        };
        let v = check(&adult(), &[], &[all], PARIS);
        assert!(!v.is_accepted());
        let odd = Employee {
            birth_date: Some(NaiveDate::MAX),
            weekly_contract_minutes: i32::MIN,
        };
        let _ = check(&odd, &[], &[all], PARIS);
        let odd = Employee {
            birth_date: Some(NaiveDate::MIN),
            weekly_contract_minutes: i32::MAX,
        };
        let _ = check(&odd, &[], &[all], PARIS);
    }

    #[test]
    fn thousands_of_tiny_shifts_are_judged_quickly() {
        // 30 000 one-minute shifts a minute apart: the daily-rest walk must not go quadratic.
        let start = at("2027-01-04T00:00");
        let many: Vec<Shift> = (0..30_000)
            .map(|k| Shift {
                id: -1 - k,
                interval: Interval {
                    start: start + Duration::minutes(2 * k),
                    end: start + Duration::minutes(2 * k + 1),
                },
                activity: Activity::Work,
            })
            .collect();
        let began = std::time::Instant::now();
        let v = check(&adult(), &[], &many, PARIS);
        assert!(!v.is_accepted());
        assert!(
            began.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            began.elapsed()
        );
    }

    // --- Property tests -----------------------------------------------------------------

    /// The adult rules minute by minute, straight from their statements, over an array of
    /// minutes from `base` (a local Monday midnight); outside the array is rest.
    struct Oracle {
        work: Vec<bool>,
        dates: Vec<NaiveDate>,
    }

    const LEN: usize = 5 * 7 * 1440;

    impl Oracle {
        fn new(base: DateTime<Utc>, shifts: &[(i64, i64)]) -> Oracle {
            let mut work = vec![false; LEN];
            for &(s, len) in shifts {
                for m in s..s + len {
                    work[m as usize] = true;
                }
            }
            let dates = (0..LEN)
                .map(|m| local_date(base + Duration::minutes(m as i64), PARIS))
                .collect();
            Oracle { work, dates }
        }

        fn first_minute_of(&self, date: NaiveDate) -> i64 {
            self.dates.partition_point(|d| *d < date) as i64
        }

        /// `(code, period start in minutes from base, actual)` of each finding.
        fn findings(&self) -> BTreeSet<(String, i64, i64)> {
            let mut out = BTreeSet::new();
            let mut per_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
            for m in 0..LEN {
                if self.work[m] {
                    *per_day.entry(self.dates[m]).or_default() += 1;
                }
            }
            let mut per_week: BTreeMap<NaiveDate, i64> = BTreeMap::new();
            for (&d, &n) in &per_day {
                if n > 600 {
                    out.insert(("daily_hours".into(), self.first_minute_of(d), n));
                }
                if d.weekday() == Weekday::Sun {
                    out.insert(("sunday_work".into(), self.first_minute_of(d), n));
                }
                *per_week.entry(week_start(d)).or_default() += n;
            }
            for (&w, &n) in &per_week {
                if n > 2880 {
                    out.insert(("weekly_hours".into(), self.first_minute_of(w), n));
                }
                if n > 2100 {
                    out.insert(("overtime".into(), self.first_minute_of(w), n));
                }
            }
            // Runs of work and of rest.
            let mut runs: Vec<(bool, usize, usize)> = Vec::new();
            let mut m = 0;
            while m < LEN {
                let kind = self.work[m];
                let start = m;
                while m < LEN && self.work[m] == kind {
                    m += 1;
                }
                runs.push((kind, start, m));
            }
            // Stretches: work runs joined over rests shorter than 20 minutes.
            let mut stretch: Option<(usize, i64)> = None;
            for &(kind, a, b) in &runs {
                if kind {
                    stretch = Some(match stretch {
                        Some((s, w)) => (s, w + (b - a) as i64),
                        None => (a, (b - a) as i64),
                    });
                } else if b - a >= 20 || b == LEN || a == 0 {
                    if let Some((s, w)) = stretch.take() {
                        if w > 360 {
                            out.insert(("work_without_break".into(), s as i64, w));
                        }
                    }
                }
            }
            // Daily rest and working days.
            let rest_after = |t: usize| -> Option<(usize, usize)> {
                // The first rest run starting at or after t: (start, end), end LEN = endless.
                let mut a = t;
                while a < LEN && self.work[a] {
                    a += 1;
                }
                if a >= LEN {
                    return Some((LEN, usize::MAX));
                }
                let mut b = a;
                while b < LEN && !self.work[b] {
                    b += 1;
                }
                Some((a, if b == LEN { usize::MAX } else { b }))
            };
            let mut starts = Vec::new();
            let mut s = self.work.iter().position(|w| *w);
            while let Some(start) = s {
                starts.push(start);
                let horizon = start + 1440;
                let mut t = start;
                let mut chosen = None;
                let mut best: Option<(usize, usize)> = None; // (clipped, end)
                while let Some((a, b)) = rest_after(t) {
                    if a >= horizon {
                        if best.is_none() && chosen.is_none() {
                            // No rest in the window: the day ends at the next rest.
                            out.insert(("daily_rest".into(), start as i64, 0));
                            chosen = Some(b);
                        }
                        break;
                    }
                    let clipped = b.min(horizon) - a;
                    if clipped >= 660 {
                        chosen = Some(b);
                        break;
                    }
                    if best.is_none_or(|(c, _)| clipped > c) {
                        best = Some((clipped, b));
                    }
                    if b == usize::MAX {
                        break;
                    }
                    t = b;
                }
                let next = match (chosen, best) {
                    (Some(end), _) => end,
                    (None, Some((clipped, end))) => {
                        out.insert(("daily_rest".into(), start as i64, clipped as i64));
                        end
                    }
                    (None, None) => usize::MAX,
                };
                s = (next < LEN).then_some(next);
            }
            let mut days_per_week: BTreeMap<NaiveDate, BTreeSet<NaiveDate>> = BTreeMap::new();
            for &st in &starts {
                let d = self.dates[st];
                days_per_week.entry(week_start(d)).or_default().insert(d);
            }
            for (w, set) in days_per_week {
                if set.len() > 6 {
                    out.insert((
                        "working_days".into(),
                        self.first_minute_of(w),
                        set.len() as i64,
                    ));
                }
            }
            // Weekly rest: a rest run of 35 h overlapping each week with work.
            for &w in per_week.keys() {
                let ws = self.first_minute_of(w) as usize;
                let we = self.first_minute_of(add_days(w, 7)) as usize;
                let mut longest = 0;
                let mut endless = false;
                for &(kind, a, b) in &runs {
                    if !kind && a < we && b > ws {
                        if a == 0 || b == LEN {
                            endless = true;
                        }
                        longest = longest.max(b - a);
                    }
                }
                if !endless && longest < 2100 {
                    out.insert(("weekly_rest".into(), ws as i64, longest as i64));
                }
            }
            out
        }
    }

    fn reported(base: DateTime<Utc>, v: &LabourVerdict) -> BTreeSet<(String, i64, i64)> {
        let key = |code: String, m: &Option<Measure>| {
            let m = m.as_ref().unwrap();
            (
                code,
                (m.period_start.unwrap() - base).num_minutes(),
                m.actual,
            )
        };
        v.violations
            .iter()
            .map(|x| key(x.code.as_str().to_string(), &x.measure))
            .chain(v.warnings.iter().map(|w| {
                let code = serde_json::to_value(w.code).unwrap();
                key(code.as_str().unwrap().to_string(), &w.measure)
            }))
            .collect()
    }

    fn base() -> impl Strategy<Value = DateTime<Utc>> {
        prop_oneof![
            Just(at("2027-01-04T00:00")),
            // The weeks of the spring and autumn changes.
            Just(at("2027-03-22T00:00")),
            Just(at("2027-10-25T00:00")),
            Just(at("2026-12-21T00:00")),
        ]
    }

    fn spans(max: usize) -> impl Strategy<Value = Vec<(i64, i64)>> {
        prop::collection::vec(
            (
                0..(3 * 7 * 1440_i64),
                prop_oneof![(1..=144_i64).prop_map(|x| x * 5), 1..=720_i64],
            ),
            0..max,
        )
    }

    /// Rota-like weeks: about one shift a day at a random hour, the shapes where rests and
    /// day counts sit near their limits.
    fn rota() -> impl Strategy<Value = Vec<(i64, i64)>> {
        let day = prop::option::weighted(0.85, (0..288_i64, 12..=132_i64));
        prop::collection::vec(day, 21).prop_map(|days| {
            days.into_iter()
                .enumerate()
                .filter_map(|(k, d)| d.map(|(start, len)| (k as i64 * 1440 + start * 5, len * 5)))
                .collect()
        })
    }

    /// Three weeks of two shifts a day with short rests (10–13 h 55 between days): the
    /// working days chain on without a 14 h rest.
    fn dense_week() -> impl Strategy<Value = Vec<(i64, i64)>> {
        prop::collection::vec((360..=600_i64, 600..=835_i64), 21).prop_map(|days| {
            let mut t = 0;
            days.into_iter()
                .map(|(len, rest)| {
                    let shift = (t, len);
                    t += len + rest;
                    shift
                })
                .take_while(|&(s, _)| s < 21 * 1440)
                .collect()
        })
    }

    /// Three weeks of 9 h 30 days, six a week: 57 h weeks that break the 12-week average.
    fn heavy_week() -> impl Strategy<Value = Vec<(i64, i64)>> {
        (0..120_i64).prop_map(|start| {
            (0..21)
                .filter(|d| d % 7 != 6)
                .map(|d| (d * 1440 + 7 * 60 + start, 9 * 60 + 30))
                .collect()
        })
    }

    fn to_shifts(base: DateTime<Utc>, spans: &[(i64, i64)], first_id: i64) -> Vec<Shift> {
        spans
            .iter()
            .enumerate()
            .map(|(k, &(s, len))| Shift {
                id: first_id + k as i64,
                interval: Interval {
                    start: base + Duration::minutes(s),
                    end: base + Duration::minutes(s + len),
                },
                activity: Activity::Work,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Every adult rule the oracle knows fires exactly where the oracle says, with the
        /// same figure.
        #[test]
        fn adult_rules_match_the_minute_oracle(
            base in base(),
            spans in prop_oneof![spans(30), rota()],
        ) {
            let all = to_shifts(base, &spans, -1000);
            let got = reported(base, &check(&employee(None, 35), &[], &all, PARIS));
            let expected = Oracle::new(base, &spans).findings();
            prop_assert_eq!(got, expected);
        }

        /// Blame: what a proposal is refused for is among what the whole set breaks, and it
        /// is all of it when the stored shifts alone break nothing.
        #[test]
        fn a_proposal_is_blamed_for_what_it_adds(
            base in base(),
            stored in prop_oneof![spans(20), rota()],
            proposed in spans(4),
        ) {
            let e = employee(None, 35);
            let stored = to_shifts(base, &stored, 1);
            let proposed = to_shifts(base, &proposed, -1000);
            let blamed = check(&e, &stored, &proposed, PARIS);
            let all: Vec<Shift> = stored.iter().chain(&proposed).copied().collect();
            let whole = check(&e, &[], &all, PARIS);
            for v in &blamed.violations {
                prop_assert!(whole.violations.contains(v), "{:?} not in {:?}", v, whole.violations);
            }
            if check(&e, &[], &stored, PARIS).is_accepted() {
                prop_assert_eq!(blamed.violations, whole.violations);
            }
            // Nothing worked that was not: nothing to blame.
            let again: Vec<Shift> =
                stored.iter().map(|s| Shift { id: -5000 - s.id, ..*s }).collect();
            prop_assert_eq!(check(&e, &all, &again, PARIS), LabourVerdict::default());
        }

        /// A day found surely over the maximum is one `check` refuses for its daily hours, for
        /// adults and minors, work and training, across the DST changes.
        #[test]
        fn surely_over_the_daily_maximum_is_what_check_refuses(
            base in base(),
            stored in prop_oneof![spans(20), rota(), dense_week()],
            proposed in (0..(3 * 7 * 1440_i64), 5..=720_i64),
            training in any::<bool>(),
            minor_birth in prop_oneof![Just(None), Just(Some("2010-06-01"))],
        ) {
            let e = employee(minor_birth, 35);
            let stored = to_shifts(base, &stored, 1);
            let mut p = to_shifts(base, &[proposed], -1000)[0];
            if training {
                p.activity = Activity::Training;
            }
            if surely_over_daily_max(&e, &stored, &p, PARIS) {
                let v = check(&e, &stored, &[p], PARIS);
                prop_assert!(
                    v.violations.iter().any(|v| v.code == ViolationCode::DailyHours),
                    "{:?}", v.violations
                );
            }
        }

        /// The cached local midnights cut work into the same days as `split_by_day`, across
        /// DST changes, in zones whose midnight is skipped or repeated some days (Santiago,
        /// Havana, Beirut change time at midnight), with blocks in order or not.
        #[test]
        fn cached_midnights_cut_days_like_split_by_day(
            spans in prop::collection::vec((0..(60 * 1440_i64), 1..=3000_i64), 0..40),
            zone in prop_oneof![
                Just(PARIS),
                Just(chrono_tz::America::Santiago),
                Just(chrono_tz::America::Havana),
                Just(chrono_tz::Asia::Beirut),
            ],
            base in prop_oneof![
                Just("2027-03-01T00:00"),
                Just("2027-08-20T00:00"),
                Just("2027-10-01T00:00"),
            ],
            reversed in any::<bool>(),
        ) {
            let base = at(base);
            let mut blocks = merge(to_shifts(base, &spans, 1).iter().map(|s| s.interval));
            if reversed {
                blocks.reverse();
            }
            let mut cut: BTreeMap<NaiveDate, Duration> = BTreeMap::new();
            for b in &blocks {
                for (date, part) in split_by_day(*b, zone) {
                    *cut.entry(date).or_insert_with(Duration::zero) += part.duration();
                }
            }
            prop_assert_eq!(Midnights::new(zone).per_day(&blocks), cut);
        }

        /// Judging only the work around the proposal (and every week's total for the 12-week
        /// average) gives the verdict of judging every rule everywhere: on rota-like months,
        /// dense ones (rests under 14 h for days on end), long days that break the average, for
        /// adults and minors, with the proposal anywhere in them.
        #[test]
        fn judging_around_the_proposal_is_enough(
            weeks in prop::collection::vec(
                prop_oneof![rota(), spans(40), dense_week(), heavy_week()],
                1..9,
            ),
            proposed in prop::collection::vec((0..(24 * 7 * 1440_i64), 30..=720_i64), 1..4),
            minor_birth in prop_oneof![Just(None), Just(Some("2010-06-01")), Just(Some("2012-09-01"))],
            base in base(),
        ) {
            let e = employee(minor_birth, 35);
            // Three-week pieces laid end to end: up to 24 weeks of stored work.
            let stored: Vec<(i64, i64)> = weeks
                .iter()
                .enumerate()
                .flat_map(|(k, piece)| {
                    piece.iter().map(move |&(s, l)| (s + k as i64 * 21 * 1440, l))
                })
                .collect();
            let stored = to_shifts(base, &stored, 1);
            let proposed = to_shifts(base, &proposed, -1000);
            prop_assert_eq!(
                judge_with(&e, &stored, &proposed, PARIS, true),
                judge_with(&e, &stored, &proposed, PARIS, false)
            );
        }

        /// The weeks `lookup_range` loads are enough: the verdict on them equals the verdict
        /// on the whole history.
        #[test]
        fn the_lookup_range_is_enough(
            stored in prop::collection::vec((0..(40 * 7 * 1440_i64), 30..=600_i64), 0..160),
            proposed in prop::collection::vec((0..(3 * 7 * 1440_i64), 30..=600_i64), 1..4),
            minor_birth in prop_oneof![Just(None), Just(Some("2010-06-01"))],
        ) {
            let base = at("2026-11-02T00:00");
            let e = employee(minor_birth, 35);
            let stored = to_shifts(base, &stored, 1);
            let shifted: Vec<(i64, i64)> =
                proposed.iter().map(|&(s, l)| (s + 18 * 7 * 1440, l)).collect();
            let proposed = to_shifts(base, &shifted, -1000);
            prop_assert_eq!(
                check(&e, &stored, &proposed, PARIS),
                judge(&e, &stored, &proposed, PARIS)
            );
        }
    }
}
