//! The calendars' grid: a local day cut into equal rows (an hour, half an hour or a quarter of
//! an hour) whose state is read from the booking rules' own free time ([`free_intervals`] and
//! [`bookable_intervals`]), so a calendar never shows free what the engine refuses, nor busy
//! what it accepts, on the grid it is drawn on.
//!
//! - [`step_for`] picks the coarsest step on which every edge of the day falls (opening
//!   hours, closures, bookings and their buffers): a booking of 09:30–11:30 turns the grid to
//!   half-hours rather than painting 09:00–12:00 busy. Edges off the quarter-hour (a booking
//!   made through the API at 09:10) keep the quarter grid; their row shows its least free part.
//! - [`day_rows`] cuts a local day into contiguous UTC intervals, DST-correct: the spring
//!   change drops the rows that do not exist, the autumn change makes the repeated hour's last
//!   row longer rather than hiding it; every instant of the day lies in exactly one row.
//! - [`cell`] says whether a row is open and how many units a booking of all of it can take.
//! - [`proposal`] is the booking a click on a free row proposes.
//! - [`day_summary`] is a day of the month view.
//!
//! [`free_intervals`]: super::booking::free_intervals
//! [`bookable_intervals`]: super::booking::bookable_intervals

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

use super::time::{local_to_utc, Interval, LocalTimeError};

/// The steps a calendar may use, coarsest first, in minutes.
pub const STEPS: [u32; 3] = [60, 30, 15];

/// The coarsest of [`STEPS`] on which every instant falls in local time (seconds included);
/// the finest when some instant is not even on a quarter of an hour.
pub fn step_for(instants: impl IntoIterator<Item = DateTime<Utc>>, tz: Tz) -> u32 {
    let mut step = STEPS[0];
    for t in instants {
        let local = t.with_timezone(&tz);
        let minute = local.hour() * 60 + local.minute();
        while step > STEPS[STEPS.len() - 1]
            && (minute % step != 0 || local.second() != 0 || local.nanosecond() != 0)
        {
            step = STEPS
                .iter()
                .copied()
                .find(|s| *s < step)
                .unwrap_or(STEPS[STEPS.len() - 1]);
        }
        if step == STEPS[STEPS.len() - 1] {
            break;
        }
    }
    step
}

/// The instant a local wall-clock time of `day` names: the earlier one when the autumn change
/// repeats it, none when the spring change skips it.
pub fn local_mark(day: NaiveDate, minute: u32, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::new(day, NaiveTime::MIN) + Duration::minutes(i64::from(minute));
    match local_to_utc(naive, tz) {
        Ok(t) => Some(t),
        Err(LocalTimeError::Ambiguous { earliest, .. }) => Some(earliest),
        Err(LocalTimeError::Nonexistent { .. }) => None,
    }
}

/// One row of a day: its local start ("HH:MM" as minutes since midnight) and its instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub minute: u32,
    pub slot: Interval,
}

/// The rows of `day` from local `from_minute` to `to_minute` (1440 is the next midnight) by
/// `step` minutes. Rows are contiguous: each ends where the next existing row starts (the
/// autumn change's repeated hour lies in the last row before 03:00; the spring change's
/// missing hour has no row).
pub fn day_rows(day: NaiveDate, from_minute: u32, to_minute: u32, step: u32, tz: Tz) -> Vec<Row> {
    let step = step.max(1);
    let to_minute = to_minute.min(1440);
    let mut marks: Vec<(u32, DateTime<Utc>)> = Vec::new();
    let mut m = from_minute;
    while m <= to_minute {
        let at = if m == 1440 {
            day.succ_opt().and_then(|next| local_mark(next, 0, tz))
        } else {
            local_mark(day, m, tz)
        };
        if let Some(t) = at {
            if marks.last().is_none_or(|(_, last)| *last < t) {
                marks.push((m, t));
            }
        }
        m += step;
    }
    marks
        .windows(2)
        .filter_map(|w| {
            Some(Row {
                minute: w[0].0,
                slot: Interval::new(w[0].1, w[1].1)?,
            })
        })
        .collect()
}

/// What a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// All of the row is open and not closed.
    pub open: bool,
    /// Units a new booking of all of the row can take, buffers included (0 when any part of
    /// it is taken, shut or closed).
    pub free: i32,
}

/// Whether `bookable` (sorted, disjoint or touching intervals) covers all of `slot`.
pub fn covered(slot: Interval, bookable: &[Interval]) -> bool {
    let mut reached = slot.start;
    for iv in bookable.iter().filter(|iv| iv.overlaps(&slot)) {
        if iv.start > reached {
            return false;
        }
        reached = reached.max(iv.end);
    }
    reached >= slot.end
}

/// The units free over all of `slot`, from [`free_intervals`](super::booking::free_intervals)
/// (sorted, disjoint): the least over the slot, 0 when some part of it is not free.
pub fn free_over(slot: Interval, free: &[(Interval, i32)]) -> i32 {
    let mut reached = slot.start;
    let mut least = i32::MAX;
    for (iv, q) in free.iter().filter(|(iv, _)| iv.overlaps(&slot)) {
        if iv.start > reached {
            return 0;
        }
        least = least.min(*q);
        reached = reached.max(iv.end);
    }
    if reached >= slot.end {
        least
    } else {
        0
    }
}

/// A row's state.
pub fn cell(slot: Interval, bookable: &[Interval], free: &[(Interval, i32)]) -> Cell {
    Cell {
        open: covered(slot, bookable),
        free: free_over(slot, free),
    }
}

/// The booking a click on a free row proposes: from `start`, `wanted` long (at least the
/// resource's minimum, at most its maximum), cut where the free time for one unit ends. None
/// when what is free from `start` is shorter than the minimum (or than nothing).
pub fn proposal(
    start: DateTime<Utc>,
    wanted: Duration,
    min: Option<Duration>,
    max: Option<Duration>,
    free: &[(Interval, i32)],
) -> Option<Interval> {
    let mut run_end = start;
    for (iv, _) in free.iter().filter(|(iv, q)| *q > 0 && iv.end > start) {
        if iv.start > run_end {
            break;
        }
        run_end = iv.end;
    }
    let mut length = wanted.max(min.unwrap_or(Duration::zero()));
    if let Some(max) = max {
        length = length.min(max);
    }
    let end = run_end.min(start + length);
    let long_enough = min.is_none_or(|m| end - start >= m);
    (end > start && long_enough).then_some(Interval { start, end })
}

/// A day of the month view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DaySummary {
    /// Open and not closed, in minutes.
    pub open_minutes: i64,
    /// Where one more unit could be booked, in minutes.
    pub free_minutes: i64,
}

/// How much of `day` (an interval) is open, and how much of it is free for one unit.
pub fn day_summary(day: Interval, bookable: &[Interval], free: &[(Interval, i32)]) -> DaySummary {
    let minutes = |ivs: &mut dyn Iterator<Item = Interval>| -> i64 {
        ivs.filter_map(|iv| iv.intersection(&day))
            .map(|iv| iv.duration().num_minutes())
            .sum()
    };
    DaySummary {
        open_minutes: minutes(&mut bookable.iter().copied()),
        free_minutes: minutes(&mut free.iter().filter(|(_, q)| *q > 0).map(|(iv, _)| *iv)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::{
        bookable_intervals, capacity_conflicts, free_intervals, ClosurePeriod, ExistingBooking,
        OpeningSlot, ResourceRules,
    };
    use crate::domain::ids::{BookingId, MemberId};
    use chrono::TimeZone;
    use chrono_tz::Europe::Paris;
    use proptest::prelude::*;

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Paris
            .with_ymd_and_hms(2027, 1, d, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn iv(a: DateTime<Utc>, b: DateTime<Utc>) -> Interval {
        Interval { start: a, end: b }
    }

    #[test]
    fn step_is_the_coarsest_every_edge_falls_on() {
        assert_eq!(step_for([at(5, 9, 0), at(5, 11, 0)], Paris), 60);
        assert_eq!(step_for([at(5, 9, 30), at(5, 11, 30)], Paris), 30);
        assert_eq!(step_for([at(5, 9, 0), at(5, 10, 45)], Paris), 15);
        assert_eq!(step_for([at(5, 9, 10)], Paris), 15);
        assert_eq!(step_for([at(5, 9, 0) + Duration::seconds(30)], Paris), 15);
        assert_eq!(step_for(Vec::<DateTime<Utc>>::new(), Paris), 60);
    }

    #[test]
    fn a_half_hour_booking_paints_only_its_half_hours() {
        let rules = rules(1, 0, 0);
        let day = iv(at(5, 0, 0), at(6, 0, 0));
        let existing = [booking(1, at(5, 9, 30), at(5, 11, 30), 1)];
        let free = free_intervals(day, &rules, &existing, &[], Paris);
        let bookable = bookable_intervals(day, &rules, &[], Paris);
        let step = step_for([at(5, 9, 30), at(5, 11, 30)], Paris);
        let rows = day_rows(
            at(5, 0, 0).with_timezone(&Paris).date_naive(),
            7 * 60,
            14 * 60,
            step,
            Paris,
        );
        let busy: Vec<u32> = rows
            .iter()
            .filter(|r| cell(r.slot, &bookable, &free).free == 0)
            .map(|r| r.minute)
            .collect();
        assert_eq!(busy, vec![570, 600, 630, 660]);
        // The row just before and just after are free.
        assert!(rows
            .iter()
            .any(|r| r.minute == 540 && cell(r.slot, &bookable, &free).free == 1));
        assert!(rows
            .iter()
            .any(|r| r.minute == 690 && cell(r.slot, &bookable, &free).free == 1));
    }

    #[test]
    fn buffers_make_the_neighbouring_rows_busy() {
        let rules = rules(1, 15, 30);
        let day = iv(at(5, 0, 0), at(6, 0, 0));
        let existing = [booking(1, at(5, 10, 0), at(5, 11, 0), 1)];
        let free = free_intervals(day, &rules, &existing, &[], Paris);
        let bookable = bookable_intervals(day, &rules, &[], Paris);
        // A new booking needs its own buffers too: free again from 11:30 + 15 min.
        assert_eq!(free_over(iv(at(5, 11, 30), at(5, 11, 45)), &free), 0);
        assert_eq!(free_over(iv(at(5, 11, 45), at(5, 12, 0)), &free), 1);
        assert_eq!(free_over(iv(at(5, 9, 0), at(5, 9, 15)), &free), 1);
        assert_eq!(free_over(iv(at(5, 9, 15), at(5, 9, 30)), &free), 0);
        assert!(cell(iv(at(5, 9, 15), at(5, 9, 30)), &bookable, &free).open);
    }

    #[test]
    fn rows_across_the_changes_of_time_cover_each_instant_once() {
        // 28 March 2027: 02:00 → 03:00; 31 October 2027: 03:00 → 02:00.
        let spring = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
        let rows = day_rows(spring, 0, 1440, 60, Paris);
        assert_eq!(rows.len(), 23);
        assert!(rows.iter().all(|r| r.minute != 120));
        let autumn = NaiveDate::from_ymd_opt(2027, 10, 31).unwrap();
        let rows = day_rows(autumn, 0, 1440, 60, Paris);
        assert_eq!(rows.len(), 24);
        let total: i64 = rows.iter().map(|r| r.slot.duration().num_minutes()).sum();
        assert_eq!(total, 25 * 60);
        for w in rows.windows(2) {
            assert_eq!(w[0].slot.end, w[1].slot.start);
        }
        let quarter = day_rows(autumn, 0, 1440, 15, Paris);
        let total: i64 = quarter
            .iter()
            .map(|r| r.slot.duration().num_minutes())
            .sum();
        assert_eq!(total, 25 * 60);
    }

    #[test]
    fn a_proposal_stops_at_the_next_booking_and_respects_the_minimum() {
        let free = vec![(iv(at(5, 8, 0), at(5, 9, 30)), 1)];
        let p = proposal(at(5, 9, 0), Duration::hours(1), None, None, &free).unwrap();
        assert_eq!(p, iv(at(5, 9, 0), at(5, 9, 30)));
        assert_eq!(
            proposal(
                at(5, 9, 0),
                Duration::hours(1),
                Some(Duration::hours(1)),
                None,
                &free
            ),
            None
        );
        let p = proposal(
            at(5, 8, 0),
            Duration::minutes(15),
            Some(Duration::minutes(30)),
            Some(Duration::minutes(45)),
            &free,
        )
        .unwrap();
        assert_eq!(p, iv(at(5, 8, 0), at(5, 8, 30)));
        let p = proposal(
            at(5, 8, 0),
            Duration::hours(3),
            None,
            Some(Duration::minutes(45)),
            &free,
        )
        .unwrap();
        assert_eq!(p, iv(at(5, 8, 0), at(5, 8, 45)));
        // Touching free intervals of different quantities make one run.
        let free = vec![
            (iv(at(5, 8, 0), at(5, 9, 0)), 2),
            (iv(at(5, 9, 0), at(5, 12, 0)), 1),
        ];
        let p = proposal(at(5, 8, 30), Duration::hours(2), None, None, &free).unwrap();
        assert_eq!(p, iv(at(5, 8, 30), at(5, 10, 30)));
        assert_eq!(
            proposal(at(5, 13, 0), Duration::hours(1), None, None, &free),
            None
        );
    }

    #[test]
    fn a_day_summary_counts_open_and_free_minutes() {
        let day = iv(at(5, 0, 0), at(6, 0, 0));
        let bookable = vec![
            iv(at(5, 8, 0), at(5, 12, 0)),
            iv(at(5, 14, 0), at(5, 18, 0)),
        ];
        let free = vec![
            (iv(at(5, 8, 0), at(5, 9, 0)), 2),
            (iv(at(5, 16, 0), at(5, 18, 0)), 1),
        ];
        assert_eq!(
            day_summary(day, &bookable, &free),
            DaySummary {
                open_minutes: 480,
                free_minutes: 180
            }
        );
    }

    fn rules(capacity: i32, before: i32, after: i32) -> ResourceRules {
        ResourceRules {
            capacity,
            min_duration_minutes: None,
            max_duration_minutes: None,
            buffer_before_minutes: before,
            buffer_after_minutes: after,
            opening_hours: Vec::new(),
            allowed_categories: Vec::new(),
            horizon_days: 0,
            archived: false,
        }
    }

    fn booking(id: i64, a: DateTime<Utc>, b: DateTime<Utc>, q: i32) -> ExistingBooking {
        ExistingBooking {
            id: BookingId(id),
            member_id: MemberId(1),
            interval: iv(a, b),
            quantity: q,
        }
    }

    proptest! {
        /// Against the engine itself: a row shows `n` units free, open, if and only if a
        /// booking of `n` units of exactly that row passes the capacity rule and lies in
        /// open, unclosed time; and `n + 1` units do not fit.
        #[test]
        fn each_row_says_what_the_engine_accepts(
            capacity in 1i32..4,
            before in 0i32..40,
            after in 0i32..40,
            bookings in proptest::collection::vec((0i64..96, 1i64..16, 1i32..4, 0i64..15), 0..8),
            open in proptest::option::of((0u16..48, 1u16..48)),
            closure in proptest::option::of((0i64..96, 1i64..16)),
            step in prop_oneof![Just(15u32), Just(30u32), Just(60u32)],
        ) {
            let mut rules = rules(capacity, before, after);
            if let Some((o, l)) = open {
                let open_minute = 6 * 60 + o * 15;
                rules.opening_hours = vec![OpeningSlot { weekday: 2, open_minute, close_minute: (open_minute + l * 15).min(1440) }];
            }
            let base = at(5, 0, 0); // Tuesday 5 January 2027, local midnight
            let existing: Vec<ExistingBooking> = bookings
                .iter()
                .enumerate()
                .map(|(i, (s, l, q, jitter))| {
                    let start = base + Duration::minutes(s * 15 + jitter);
                    let q = (*q).min(capacity);
                    booking(i as i64, start, start + Duration::minutes(l * 15), q)
                })
                .collect();
            let closures: Vec<ClosurePeriod> = closure
                .map(|(s, l)| ClosurePeriod {
                    interval: iv(base + Duration::minutes(s * 15), base + Duration::minutes((s + l) * 15)),
                    reason: "travaux".into(),
                })
                .into_iter()
                .collect();
            let day = iv(base, base + Duration::days(1));
            let free = free_intervals(day, &rules, &existing, &closures, Paris);
            let bookable = bookable_intervals(day, &rules, &closures, Paris);
            for row in day_rows(NaiveDate::from_ymd_opt(2027, 1, 5).unwrap(), 0, 1440, step, Paris) {
                let c = cell(row.slot, &bookable, &free);
                // Minute by minute: every edge lies on a whole minute.
                let in_open = (0..row.slot.duration().num_minutes()).all(|m| {
                    let t = row.slot.start + Duration::minutes(m);
                    bookable.iter().any(|b| b.contains(t))
                });
                prop_assert_eq!(c.open, in_open);
                let fits = |q: i32| {
                    in_open && q <= capacity && capacity_conflicts(row.slot, q, &rules, &existing, None).is_empty()
                };
                if c.free > 0 {
                    prop_assert!(fits(c.free), "row {} shows {} free", row.minute, c.free);
                }
                prop_assert!(!fits(c.free + 1), "row {} shows {} free, {} fit", row.minute, c.free, c.free + 1);
            }
        }
    }
}
