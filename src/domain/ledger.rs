//! The hours ledger of shared employees: for one employee and one month of the pole, the
//! minutes spent at each member — worked, in training, absent — with the overtime, and what
//! each member is charged for them.
//!
//! # Hours
//! Every minute is counted in the local civil day it falls in (a night assignment is cut at
//! midnight, a DST day has 23 or 25 hours) and in the month of that day. Overtime is weekly
//! (Monday 00:00 to Sunday 24:00 local, working time being work and training): walking the
//! week's working minutes in time order, those beyond the 35th hour are overtime at +25 %
//! up to the 43rd hour and at +50 % beyond. Each overtime minute belongs to the member of the
//! assignment it falls in — the member whose assignment passes 35 h — and to the month of its
//! day, so a week spanning two months is judged whole and its overtime counted where it was
//! worked. Overlapping assignments (the booking engine never stores them) count once, for
//! the one that started first (then the lower id).
//!
//! # Charges
//! The employer group does not charge itself: its own lines (training, absences, work for the
//! group itself) are shown, never billed. A member's line is charged
//! - the cost: worked minutes × the loaded hourly cost, rounded once, half away from zero;
//! - the overtime premium: +25 % and +50 % of the hourly cost for the overtime minutes that
//!   member caused, rounded once;
//! - the group's fee: a coefficient (×1.15) on cost and premium, rounded once; or a flat
//!   monthly amount split between the members by worked minutes with the largest-remainder
//!   method (ties to the lower member id), so the parts sum exactly to the amount. With no
//!   minute charged in the month, the flat fee is charged to no one.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::employee::ManagementFee;
use super::ids::MemberId;
use super::labour::{
    split_by_day, week_bounds, week_start, Activity, Shift, LEGAL_WEEK_MINUTES,
    OVERTIME_50_FROM_MINUTES,
};
use super::money::{div_round, split_largest_remainder};
use super::month::Month;
use super::time::Interval;

/// One shift of the employee and the member it was for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    pub member: MemberId,
    pub shift: Shift,
}

/// Minutes of one employee at one member in one month (whole minutes, rounded down).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Hours {
    pub worked_minutes: i64,
    pub training_minutes: i64,
    pub absence_minutes: i64,
    /// Overtime minutes paid +25 % (the 36th to the 43rd hour of a week).
    pub overtime_25_minutes: i64,
    /// Overtime minutes paid +50 % (from the 44th hour of a week).
    pub overtime_50_minutes: i64,
}

impl Hours {
    pub fn add(&mut self, other: &Hours) {
        self.worked_minutes += other.worked_minutes;
        self.training_minutes += other.training_minutes;
        self.absence_minutes += other.absence_minutes;
        self.overtime_25_minutes += other.overtime_25_minutes;
        self.overtime_50_minutes += other.overtime_50_minutes;
    }

    pub fn is_empty(&self) -> bool {
        *self == Hours::default()
    }
}

/// The hours of one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursLine {
    pub member: MemberId,
    pub hours: Hours,
}

/// The span whose assignments [`month_hours`] needs: every local week touching the month,
/// whole (a week's overtime depends on all of it).
pub fn load_range(month: Month, tz: Tz) -> Interval {
    let last_day = month
        .next()
        .first_day()
        .pred_opt()
        .unwrap_or(month.first_day());
    Interval {
        start: week_bounds(month.first_day(), tz).start,
        end: week_bounds(last_day, tz).end,
    }
}

/// Seconds by kind, summed before rounding down to minutes once per line.
#[derive(Default)]
struct Seconds {
    worked: i64,
    training: i64,
    absence: i64,
    overtime_25: i64,
    overtime_50: i64,
}

/// Seconds of `[from, to)` that fall inside `[low, high)`.
fn overlap(from: i64, to: i64, low: i64, high: i64) -> i64 {
    (to.min(high) - from.max(low)).max(0)
}

/// The month's hours of one employee, per member, in member order; members with nothing in
/// the month are left out. `assignments` should hold every assignment overlapping
/// [`load_range`]; invalid intervals are ignored.
pub fn month_hours(assignments: &[Assignment], month: Month, tz: Tz) -> Vec<HoursLine> {
    let mut sorted: Vec<&Assignment> = assignments
        .iter()
        .filter(|a| a.shift.interval.is_valid())
        .collect();
    sorted.sort_by_key(|a| (a.shift.interval.start, a.shift.id));
    let overtime_from = LEGAL_WEEK_MINUTES * 60;
    let overtime_50_from = OVERTIME_50_FROM_MINUTES * 60;
    let mut lines: BTreeMap<MemberId, Seconds> = BTreeMap::new();
    let mut weeks: BTreeMap<chrono::NaiveDate, i64> = BTreeMap::new();
    // Up to where each channel is already counted: working time and absences apart.
    let mut worked_until: Option<DateTime<Utc>> = None;
    let mut absent_until: Option<DateTime<Utc>> = None;
    for a in sorted {
        let working = a.shift.activity.is_working_time();
        let until = if working {
            &mut worked_until
        } else {
            &mut absent_until
        };
        let iv = a.shift.interval;
        let start = until.map_or(iv.start, |u| u.max(iv.start));
        if start >= iv.end {
            continue;
        }
        *until = Some(iv.end);
        for (date, piece) in split_by_day(Interval { start, end: iv.end }, tz) {
            let secs = piece.duration().num_seconds();
            let in_month = date.year() == month.year() && date.month() == month.number();
            let before = if working {
                let total = weeks.entry(week_start(date)).or_default();
                let before = *total;
                *total += secs;
                before
            } else {
                0
            };
            if !in_month {
                continue;
            }
            let line = lines.entry(a.member).or_default();
            match a.shift.activity {
                Activity::Absence => line.absence += secs,
                Activity::Work | Activity::Training => {
                    if a.shift.activity == Activity::Work {
                        line.worked += secs;
                    } else {
                        line.training += secs;
                    }
                    let after = before + secs;
                    line.overtime_25 += overlap(before, after, overtime_from, overtime_50_from);
                    line.overtime_50 += overlap(before, after, overtime_50_from, i64::MAX);
                }
            }
        }
    }
    lines
        .into_iter()
        .map(|(member, s)| HoursLine {
            member,
            hours: Hours {
                worked_minutes: s.worked / 60,
                training_minutes: s.training / 60,
                absence_minutes: s.absence / 60,
                overtime_25_minutes: s.overtime_25 / 60,
                overtime_50_minutes: s.overtime_50 / 60,
            },
        })
        .filter(|l| !l.hours.is_empty())
        .collect()
}

/// What an employee costs: the employer group, the loaded hourly cost and the group's fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub employer: MemberId,
    pub hourly_cost_cents: i64,
    pub fee: Option<ManagementFee>,
}

/// A line of the ledger with its charge. All amounts are zero on the employer's own line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Charge {
    #[schema(value_type = i64)]
    pub member_id: MemberId,
    #[serde(flatten)]
    pub hours: Hours,
    /// Whether the member is charged (every member but the employer group itself).
    pub billed: bool,
    /// Worked minutes × loaded hourly cost.
    pub cost_cents: i64,
    /// +25 % and +50 % of the hourly cost on the overtime minutes of this member.
    pub overtime_premium_cents: i64,
    /// The group's management fee.
    pub fee_cents: i64,
    /// Cost, premium and fee.
    pub total_cents: i64,
}

/// Prices the month's lines of one employee (see the module's doc). Same order as `lines`.
pub fn charges(lines: &[HoursLine], rates: &Rates) -> Vec<Charge> {
    let cost = i128::from(rates.hourly_cost_cents);
    let mut out: Vec<Charge> = lines
        .iter()
        .map(|l| {
            let billed = l.member != rates.employer;
            let h = &l.hours;
            let (cost_cents, premium) = if billed {
                (
                    div_round(i128::from(h.worked_minutes) * cost, 60),
                    div_round(
                        (i128::from(h.overtime_25_minutes) * 25
                            + i128::from(h.overtime_50_minutes) * 50)
                            * cost,
                        6000,
                    ),
                )
            } else {
                (0, 0)
            };
            let fee_cents = match rates.fee {
                Some(ManagementFee::CoefficientPermille(p)) if billed => div_round(
                    i128::from(cost_cents + premium) * i128::from(p - 1000),
                    1000,
                ),
                _ => 0,
            };
            Charge {
                member_id: l.member,
                hours: *h,
                billed,
                cost_cents,
                overtime_premium_cents: premium,
                fee_cents,
                total_cents: 0,
            }
        })
        .collect();
    if let Some(ManagementFee::MonthlyCents(amount)) = rates.fee {
        let weights: Vec<i64> = out
            .iter()
            .map(|c| if c.billed { c.hours.worked_minutes } else { 0 })
            .collect();
        if let Some(parts) = split_largest_remainder(amount, &weights) {
            for (c, part) in out.iter_mut().zip(parts) {
                c.fee_cents = part;
            }
        }
    }
    for c in &mut out {
        c.total_cents = c.cost_cents + c.overtime_premium_cents + c.fee_cents;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate, TimeZone};
    use chrono_tz::Europe::Paris;
    use proptest::prelude::*;

    const A: MemberId = MemberId(2);
    const B: MemberId = MemberId(3);
    const GE: MemberId = MemberId(1);

    fn at(d: &str, hm: &str) -> DateTime<Utc> {
        let naive =
            chrono::NaiveDateTime::parse_from_str(&format!("{d} {hm}"), "%Y-%m-%d %H:%M").unwrap();
        Paris
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn shift(
        id: i64,
        member: MemberId,
        activity: Activity,
        d: &str,
        from: &str,
        to: &str,
    ) -> Assignment {
        let start = at(d, from);
        let mut end = at(d, to);
        if end <= start {
            end = at(
                &(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap() + Duration::days(1))
                    .to_string(),
                to,
            );
        }
        Assignment {
            member,
            shift: Shift {
                id,
                interval: Interval { start, end },
                activity,
            },
        }
    }

    fn work(id: i64, member: MemberId, d: &str, from: &str, to: &str) -> Assignment {
        shift(id, member, Activity::Work, d, from, to)
    }

    fn month(y: i32, m: u32) -> Month {
        Month::new(y, m).unwrap()
    }

    fn line(lines: &[HoursLine], member: MemberId) -> Hours {
        lines
            .iter()
            .find(|l| l.member == member)
            .map(|l| l.hours)
            .unwrap_or_default()
    }

    #[test]
    fn overtime_goes_to_the_member_whose_assignment_passes_35_hours() {
        // Week of Monday 11 January 2027: 4 × 8 h at A (32 h), then Friday 8 h at B: B's
        // assignment passes 35 h after 3 h, so 5 h of overtime at +25 % are B's.
        let mut v: Vec<Assignment> = (11..=14)
            .map(|d| work(d, A, &format!("2027-01-{d}"), "08:00", "16:00"))
            .collect();
        v.push(work(15, B, "2027-01-15", "08:00", "16:00"));
        let lines = month_hours(&v, month(2027, 1), Paris);
        assert_eq!(line(&lines, A).worked_minutes, 32 * 60);
        assert_eq!(line(&lines, A).overtime_25_minutes, 0);
        assert_eq!(line(&lines, B).worked_minutes, 8 * 60);
        assert_eq!(line(&lines, B).overtime_25_minutes, 5 * 60);
        // Saturday 4 h more at A: 44 h, 43 → 44 at +50 %, and 3 h at +25 %.
        v.push(work(16, A, "2027-01-16", "08:00", "12:00"));
        let lines = month_hours(&v, month(2027, 1), Paris);
        assert_eq!(line(&lines, A).overtime_25_minutes, 3 * 60);
        assert_eq!(line(&lines, A).overtime_50_minutes, 60);
        assert_eq!(line(&lines, B).overtime_25_minutes, 5 * 60);
    }

    #[test]
    fn exactly_35_hours_is_no_overtime_and_one_minute_more_is() {
        let mut v: Vec<Assignment> = (11..=15)
            .map(|d| work(d, A, &format!("2027-01-{d}"), "09:00", "16:00"))
            .collect();
        assert_eq!(
            line(&month_hours(&v, month(2027, 1), Paris), A).overtime_25_minutes,
            0
        );
        v.push(work(20, B, "2027-01-16", "09:00", "09:01"));
        let lines = month_hours(&v, month(2027, 1), Paris);
        assert_eq!(line(&lines, B).overtime_25_minutes, 1);
        assert_eq!(line(&lines, A).overtime_25_minutes, 0);
    }

    #[test]
    fn a_week_across_two_months_and_two_years_is_judged_whole() {
        // Monday 28 December 2026 to Sunday 3 January 2027: 3 × 10 h in December, then
        // 10 h on Friday 1 January: 5 h of overtime, all in January.
        let v = vec![
            work(1, A, "2026-12-28", "07:00", "12:00"),
            work(2, A, "2026-12-28", "12:30", "17:30"),
            work(3, A, "2026-12-29", "07:00", "12:00"),
            work(4, A, "2026-12-29", "12:30", "17:30"),
            work(5, A, "2026-12-30", "07:00", "12:00"),
            work(6, A, "2026-12-30", "12:30", "17:30"),
            work(7, B, "2027-01-01", "07:00", "12:00"),
            work(8, B, "2027-01-01", "12:30", "17:30"),
        ];
        let dec = month_hours(&v, month(2026, 12), Paris);
        assert_eq!(line(&dec, A).worked_minutes, 30 * 60);
        assert_eq!(line(&dec, A).overtime_25_minutes, 0);
        assert!(dec.iter().all(|l| l.member != B));
        let jan = month_hours(&v, month(2027, 1), Paris);
        assert_eq!(line(&jan, B).worked_minutes, 10 * 60);
        assert_eq!(line(&jan, B).overtime_25_minutes, 5 * 60);
        let range = load_range(month(2027, 1), Paris);
        assert_eq!(range.start, at("2026-12-28", "00:00"));
        assert_eq!(range.end, at("2027-02-01", "00:00"));
    }

    #[test]
    fn a_night_across_the_end_of_the_month_is_cut_at_midnight() {
        let v = vec![work(1, A, "2027-01-31", "22:00", "03:00")];
        assert_eq!(
            line(&month_hours(&v, month(2027, 1), Paris), A).worked_minutes,
            120
        );
        assert_eq!(
            line(&month_hours(&v, month(2027, 2), Paris), A).worked_minutes,
            180
        );
    }

    #[test]
    fn the_night_of_the_october_change_lasts_an_hour_longer() {
        // 31 October 2027: clocks go back from 03:00 to 02:00.
        let v = vec![work(1, A, "2027-10-30", "22:00", "06:00")];
        let oct = month_hours(&v, month(2027, 10), Paris);
        assert_eq!(line(&oct, A).worked_minutes, 9 * 60);
    }

    #[test]
    fn training_and_absences_are_counted_apart_and_absences_are_not_working_time() {
        let mut v: Vec<Assignment> = (11..=15)
            .map(|d| work(d, A, &format!("2027-01-{d}"), "09:00", "16:00"))
            .collect();
        v.push(shift(
            20,
            GE,
            Activity::Absence,
            "2027-01-16",
            "00:00",
            "00:00",
        ));
        v.push(shift(
            21,
            GE,
            Activity::Training,
            "2027-01-17",
            "09:00",
            "11:00",
        ));
        let lines = month_hours(&v, month(2027, 1), Paris);
        let ge = line(&lines, GE);
        assert_eq!(ge.absence_minutes, 24 * 60);
        assert_eq!(ge.training_minutes, 120);
        assert_eq!(
            ge.overtime_25_minutes, 120,
            "training passes 35 h, not the absence"
        );
    }

    #[test]
    fn overlapping_assignments_count_once_for_the_earlier() {
        let v = vec![
            work(2, B, "2027-01-11", "10:00", "12:00"),
            work(1, A, "2027-01-11", "09:00", "11:00"),
        ];
        let lines = month_hours(&v, month(2027, 1), Paris);
        assert_eq!(line(&lines, A).worked_minutes, 120);
        assert_eq!(line(&lines, B).worked_minutes, 60);
    }

    fn rates(fee: Option<ManagementFee>) -> Rates {
        Rates {
            employer: GE,
            hourly_cost_cents: 2_345,
            fee,
        }
    }

    fn hours_line(member: MemberId, worked: i64, ot25: i64, ot50: i64) -> HoursLine {
        HoursLine {
            member,
            hours: Hours {
                worked_minutes: worked,
                overtime_25_minutes: ot25,
                overtime_50_minutes: ot50,
                ..Hours::default()
            },
        }
    }

    #[test]
    fn charges_round_once_per_line_half_away_from_zero() {
        // 7 h 10 at 23,45 €/h = 168,058… € → 168,06 €; 1 h 10 at +25 % and 20 min at +50 %:
        // 23,45 × (70 × 0,25 + 20 × 0,5) / 60 = 10,748… → 10,75 €; fee ×1,15 on 178,81 €.
        let c = charges(
            &[hours_line(A, 430, 70, 20)],
            &rates(Some(ManagementFee::CoefficientPermille(1150))),
        );
        assert_eq!(c[0].cost_cents, 16_806);
        assert_eq!(c[0].overtime_premium_cents, 1_075);
        assert_eq!(c[0].fee_cents, 2_682); // 17 881 × 0,15 = 2 682,15
        assert_eq!(c[0].total_cents, 16_806 + 1_075 + 2_682);
    }

    #[test]
    fn the_employer_group_does_not_charge_itself() {
        let mut ge = hours_line(GE, 600, 60, 0);
        ge.hours.training_minutes = 120;
        let c = charges(
            &[ge, hours_line(A, 60, 0, 0)],
            &rates(Some(ManagementFee::MonthlyCents(10_000))),
        );
        assert!(!c[0].billed);
        assert_eq!(
            (c[0].cost_cents, c[0].fee_cents, c[0].total_cents),
            (0, 0, 0)
        );
        assert_eq!(
            c[1].fee_cents, 10_000,
            "the whole flat fee on the one member charged"
        );
    }

    #[test]
    fn a_flat_fee_is_split_exactly_by_worked_minutes() {
        let c = charges(
            &[
                hours_line(A, 100, 0, 0),
                hours_line(B, 100, 0, 0),
                hours_line(MemberId(4), 100, 0, 0),
            ],
            &rates(Some(ManagementFee::MonthlyCents(10_000))),
        );
        let fees: Vec<i64> = c.iter().map(|c| c.fee_cents).collect();
        assert_eq!(fees, vec![3_334, 3_333, 3_333]);
        let none = charges(
            &[hours_line(GE, 100, 0, 0)],
            &rates(Some(ManagementFee::MonthlyCents(10_000))),
        );
        assert_eq!(none[0].fee_cents, 0, "no member charged, no fee");
    }

    /// Minute-by-minute oracle: each minute of the loaded weeks goes to the earliest-started
    /// working assignment covering it; the week's counter says whether it is overtime.
    fn oracle(v: &[Assignment], m: Month, tz: Tz) -> BTreeMap<MemberId, Hours> {
        let range = load_range(m, tz);
        let mut out: BTreeMap<MemberId, Hours> = BTreeMap::new();
        let mut week_minutes: BTreeMap<chrono::NaiveDate, i64> = BTreeMap::new();
        let first = |pred: &dyn Fn(&Assignment) -> bool, t: DateTime<Utc>| {
            v.iter()
                .filter(|a| pred(a) && a.shift.interval.contains(t))
                .min_by_key(|a| (a.shift.interval.start, a.shift.id))
                .copied()
        };
        let mut t = range.start;
        while t < range.end {
            let date = t.with_timezone(&tz).date_naive();
            let in_month = date.year() == m.year() && date.month() == m.number();
            if let Some(a) = first(&|a| a.shift.activity.is_working_time(), t) {
                let n = week_minutes.entry(week_start(date)).or_default();
                if in_month {
                    let h = out.entry(a.member).or_default();
                    if a.shift.activity == Activity::Work {
                        h.worked_minutes += 1;
                    } else {
                        h.training_minutes += 1;
                    }
                    if *n >= OVERTIME_50_FROM_MINUTES {
                        h.overtime_50_minutes += 1;
                    } else if *n >= LEGAL_WEEK_MINUTES {
                        h.overtime_25_minutes += 1;
                    }
                }
                *n += 1;
            }
            if let Some(a) = first(&|a| a.shift.activity == Activity::Absence, t) {
                if in_month {
                    out.entry(a.member).or_default().absence_minutes += 1;
                }
            }
            t += Duration::minutes(1);
        }
        out.retain(|_, h| !h.is_empty());
        out
    }

    fn arb_assignments() -> impl Strategy<Value = Vec<Assignment>> {
        // Around the end of October 2027 (a DST change and a month boundary): starts on a
        // 15-minute grid, lengths up to 14 h, three members, every activity.
        let base = at("2027-10-18", "00:00");
        prop::collection::vec((0i64..1600, 1i64..56, 0u8..3, 0u8..10), 0..18).prop_map(move |raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (start, len, member, kind))| {
                    let start = base + Duration::minutes(start * 15);
                    Assignment {
                        member: [GE, A, B][usize::from(member)],
                        shift: Shift {
                            id: i as i64,
                            interval: Interval {
                                start,
                                end: start + Duration::minutes(len * 15),
                            },
                            activity: match kind {
                                0 => Activity::Absence,
                                1 => Activity::Training,
                                _ => Activity::Work,
                            },
                        },
                    }
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn month_hours_match_the_minute_by_minute_oracle(v in arb_assignments(), november in any::<bool>()) {
            let m = if november { month(2027, 11) } else { month(2027, 10) };
            let got: BTreeMap<MemberId, Hours> = month_hours(&v, m, Paris)
                .into_iter()
                .map(|l| (l.member, l.hours))
                .collect();
            prop_assert_eq!(got, oracle(&v, m, Paris));
        }

        #[test]
        fn a_flat_fee_always_sums_to_the_amount(
            worked in prop::collection::vec(0i64..10_000, 1..8),
            amount in 0i64..10_000_000,
        ) {
            let lines: Vec<HoursLine> = worked
                .iter()
                .enumerate()
                .map(|(i, w)| hours_line(MemberId(i as i64 + 2), *w, 0, 0))
                .collect();
            let c = charges(&lines, &rates(Some(ManagementFee::MonthlyCents(amount))));
            let sum: i64 = c.iter().map(|c| c.fee_cents).sum();
            if worked.iter().any(|w| *w > 0) {
                prop_assert_eq!(sum, amount);
            } else {
                prop_assert_eq!(sum, 0);
            }
        }
    }
}
