//! A shared employee's shifts read before the write lock, and kept between requests.
//!
//! The working-time rules need the employee's shifts over the 23 weeks around an assignment
//! (the 12-week average reaches 11 weeks each way). Reading them under the write lock made
//! every assignment wait for the others' reads: they are read beforehand, on a reader
//! connection, with the employee's *shifts version* read first (migration `shifts_version`:
//! every write of the employee's bookings raises it, in the write's transaction). Under the
//! lock the writer reads the version again and uses those shifts, and the verdict judged with
//! them, only while it has not moved.
//!
//! The shifts read are also kept, by version, in [`ShiftCache`], for a wider span than one
//! check needs; and the booking made from a read-ahead that held is added to them, at the
//! version its commit left, once it has committed. So the next assignment of the same
//! employee, in the months around, reads one number instead of ~100 rows. An entry only ever
//! stands for what the database holds at its version: a write elsewhere (another process, a
//! move, a cancellation) raises the version and the entry is read again.

use std::cell::Cell;
use std::sync::Arc;

use chrono::Duration;

use crate::app::kept::Kept;
use crate::domain::ids::{BookingId, ResourceId};
use crate::domain::labour::{self, Activity, Shift};
use crate::domain::time::{supported_range, Interval};
use crate::error::AppResult;
use crate::store::resources as resource_store;
use crate::store::DbConn;

use super::book::Booked;
use super::rules::{proposed, stored_shifts};

/// How far beyond the weeks one check needs a read of the shifts reaches on each side, so that
/// the checks of the same employee's next assignments, in the half-year around, find them
/// kept.
const READ_MARGIN_WEEKS: i64 = 26;

/// The widest span a kept entry grows to: 156 weeks (three years), at most ~1 600 shifts of a
/// full-time rota worked in two shifts a day (some 60 KB). Asked beyond it, the entry is
/// replaced by what is read around the new weeks, so that an employee's entry stays bounded
/// however many years of history are asked at random, while the weeks a year of planning
/// comes back to stay kept.
const MAX_KEPT_WEEKS: i64 = 156;

/// An employee's active bookings meeting `range`, in time order, as the database held them
/// at the version they are kept under.
#[derive(Debug)]
pub struct KeptShifts {
    range: Interval,
    shifts: Vec<Shift>,
}

impl KeptShifts {
    /// Those meeting `range`, but for `except`.
    pub(super) fn meeting(&self, range: Interval, except: &[BookingId]) -> Vec<Shift> {
        self.shifts
            .iter()
            .filter(|s| s.interval.overlaps(&range) && !except.contains(&BookingId(s.id)))
            .copied()
            .collect()
    }

    /// The parts of the smallest span covering both the kept one and `range` that the kept
    /// one misses: at most one on each side, any gap between `range` and the kept span
    /// included, so that the span grown to them stays one interval.
    fn missing(&self, range: Interval) -> Vec<Interval> {
        [
            Interval::new(range.start, self.range.start),
            Interval::new(self.range.end, range.end),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Whether the smallest span covering both the kept one and `range` is at most `widest`
    /// long (the entry may grow to it rather than be replaced).
    fn may_grow_to(&self, range: Interval, widest: Duration) -> bool {
        let start = self.range.start.min(range.start);
        let end = self.range.end.max(range.end);
        end - start <= widest
    }

    /// The kept shifts grown to the smallest span covering both the kept one and `range`,
    /// with `read`: the shifts meeting [`KeptShifts::missing`] at the same version (those
    /// overlapping a boundary come twice and are kept once), in time order.
    fn extended(&self, range: Interval, read: Vec<Shift>) -> KeptShifts {
        let mut shifts = Vec::with_capacity(self.shifts.len() + read.len());
        shifts.extend_from_slice(&self.shifts);
        shifts.extend(read);
        shifts.sort_by_key(|s| (s.interval.start, s.id));
        shifts.dedup_by_key(|s| s.id);
        KeptShifts {
            range: Interval {
                start: self.range.start.min(range.start),
                end: self.range.end.max(range.end),
            },
            shifts,
        }
    }
}

/// Each employee's shifts kept between requests, under the shifts version they were read or
/// written at. One entry per employee assigned, replaced as it moves.
#[derive(Default)]
pub struct ShiftCache(Kept<ResourceId, Arc<KeptShifts>>);

impl ShiftCache {
    /// The employee's shifts meeting `needed` as the database holds them now, with the
    /// version they stand for: the kept ones when they were kept at the version read now (or a
    /// later one) over a span covering `needed`; otherwise, when an entry is kept at this very
    /// version, that entry grown to a wider span (up to `MAX_KEPT_WEEKS`) by reading only the
    /// weeks it misses; otherwise read over a wider span. What is read is kept unless a later
    /// version is kept meanwhile (an older entry replacing a newer one made the next checks of
    /// that employee read their shifts again).
    ///
    /// Only on a reader connection, never inside a write transaction: what is kept must have
    /// committed (a write rolled back after its own shifts were kept would leave an entry
    /// that a later, different state at the same version would match).
    pub(super) fn around(
        &self,
        conn: &mut DbConn,
        employee: ResourceId,
        needed: Interval,
    ) -> AppResult<(i64, Arc<KeptShifts>)> {
        let (version, longest) = resource_store::shifts_version(conn, employee)?;
        self.around_at(conn, employee, (version, longest), needed)
    }

    /// [`ShiftCache::around`] with the employee's shifts version and longest span read already
    /// (with those of other employees: `store::resources::peers_of_kind`).
    pub(super) fn around_at(
        &self,
        conn: &mut DbConn,
        employee: ResourceId,
        (version, longest): (i64, i32),
        needed: Interval,
    ) -> AppResult<(i64, Arc<KeptShifts>)> {
        let before = self.0.get(&employee);
        // Kept at this version or a later one (a write committed since `version` was read,
        // and kept what it left): at least as new as what a read would give now.
        if let Some((kept_version, kept)) = before
            .as_ref()
            .filter(|(v, k)| *v >= version && k.range.covers(&needed))
        {
            return Ok((*kept_version, kept.clone()));
        }
        let margin = Duration::weeks(READ_MARGIN_WEEKS);
        let wide = Interval {
            start: needed.start - margin,
            end: needed.end + margin,
        };
        let range = wide.intersection(&supported_range()).unwrap_or(needed);
        let longest = i64::from(longest);
        // What was read after the version is at least as new as it: should a write have
        // committed in between, the version has moved past this one for good, and a check made
        // from the entry is judged again under the lock (`ReadAhead::still_valid`).
        let widest = Duration::weeks(MAX_KEPT_WEEKS);
        let grown = match before.filter(|(v, k)| *v == version && k.may_grow_to(range, widest)) {
            // Kept at this very version over other weeks (a refusal months away, a later
            // assignment): those still stand, so only the weeks they miss are read, and the
            // entry grows to cover both (up to `MAX_KEPT_WEEKS`). Replacing it made the next
            // check back at the first weeks read them all again, and the two ping-ponged.
            Some((_, kept)) => {
                let mut read = Vec::new();
                for gap in kept.missing(range) {
                    read.extend(stored_shifts(conn, employee, gap, longest, &[])?);
                }
                // The weeks read are those of `version` only if no write of the employee has
                // committed since it was read (each raises it): merged with the kept ones,
                // later weeks could give a state the database never held (a shift moved
                // between the two parts would be there twice, or not at all).
                let (now, _) = resource_store::shifts_version(conn, employee)?;
                (now == version).then(|| kept.extended(range, read))
            }
            None => None,
        };
        let kept = match grown {
            Some(grown) => grown,
            None => KeptShifts {
                range,
                shifts: stored_shifts(conn, employee, range, longest, &[])?,
            },
        };
        let kept = Arc::new(kept);
        self.0.keep_newest(employee, version, kept.clone());
        Ok((version, kept))
    }

    /// Keeps what a committed write left (see [`ReadAhead::after_insert`]), unless a newer
    /// version is kept already (answers may come back out of order).
    pub fn written(&self, employee: ResourceId, written: Written) {
        self.0
            .keep_newest(employee, written.version, Arc::new(written.kept()));
    }
}

/// What an insert left, at the version it left, to keep once the write has committed (kept
/// before, a rolled-back write would leave an entry no database state matches): the shifts it
/// started from and its own. They are merged then, outside the write lock.
#[derive(Debug)]
pub struct Written {
    version: i64,
    before: Arc<KeptShifts>,
    shift: Shift,
}

impl Written {
    /// The shifts the write started from with its own, in time order.
    fn kept(&self) -> KeptShifts {
        let (before, shift) = (&self.before, self.shift);
        let mut shifts = Vec::with_capacity(before.shifts.len() + 1);
        shifts.extend_from_slice(&before.shifts);
        let key = (shift.interval.start, shift.id);
        let at = shifts.partition_point(|s| (s.interval.start, s.id) < key);
        shifts.insert(at, shift);
        KeptShifts {
            range: before.range,
            shifts,
        }
    }
}

/// One assignment's read-ahead: the employee's shifts at `version` around the interval, and
/// the law's verdict on the interval judged over them, for the employee's rules and the
/// activity as the kept target knew them. The writer takes that verdict as it is when the
/// version, the rules, the activity and the time zone are still those (`labour::check` is a
/// function of them alone), so the check runs beside the writer rather than inside it.
pub struct ReadAhead {
    resource_id: ResourceId,
    interval: Interval,
    version: i64,
    /// The shifts at `version`, over a span covering at least the check's lookup range.
    kept: Arc<KeptShifts>,
    judged: Judged,
    /// Set under the write lock when the version was found unmoved: the shifts are then those
    /// the write starts from, and the booking it makes can be added to them.
    held: Cell<bool>,
}

/// What a read-ahead verdict was judged for, and the verdict.
struct Judged {
    employee: labour::Employee,
    activity: Activity,
    tz: chrono_tz::Tz,
    verdict: labour::LabourVerdict,
}

impl ReadAhead {
    /// Reads the version, then the shifts the working-time check of `interval` needs (kept
    /// ones when `cache` has them at that version), and judges `interval` over them for
    /// `employee` doing `activity`.
    pub fn read(
        conn: &mut DbConn,
        cache: &ShiftCache,
        resource_id: ResourceId,
        interval: Interval,
        tz: chrono_tz::Tz,
        (employee, activity): (labour::Employee, Activity),
    ) -> AppResult<ReadAhead> {
        let needed = labour::lookup_range(&[interval], tz);
        let (version, kept) = cache.around(conn, resource_id, needed)?;
        let verdict = labour::check(&employee, &kept.shifts, &[proposed(interval, activity)], tz);
        Ok(ReadAhead {
            resource_id,
            interval,
            version,
            kept,
            judged: Judged {
                employee,
                activity,
                tz,
                verdict,
            },
            held: Cell::new(false),
        })
    }

    /// The verdict judged with the shifts, if it was judged for these rules.
    pub(super) fn verdict_for(
        &self,
        employee: &labour::Employee,
        activity: Activity,
        tz: chrono_tz::Tz,
    ) -> Option<&labour::LabourVerdict> {
        let j = &self.judged;
        (j.employee == *employee && j.activity == activity && j.tz == tz).then_some(&j.verdict)
    }

    /// The shifts, if they were read for this employee and interval and nothing has changed
    /// them since (read under the write lock).
    pub(super) fn still_valid(
        &self,
        conn: &mut DbConn,
        resource_id: ResourceId,
        interval: Interval,
    ) -> AppResult<Option<&[Shift]>> {
        if self.resource_id != resource_id || self.interval != interval {
            return Ok(None);
        }
        let (now, _) = resource_store::shifts_version(conn, resource_id)?;
        let held = now == self.version;
        self.held.set(held);
        Ok(held.then_some(self.kept.shifts.as_slice()))
    }

    /// Under the write lock, after `booked` was inserted: the employee's shifts with it, at
    /// the version the insert left, when the read-ahead held (nothing but this write has
    /// touched the employee's bookings since the shifts were read). To be kept once the
    /// write has committed.
    pub(super) fn after_insert(
        &self,
        conn: &mut DbConn,
        booked: &Booked,
    ) -> AppResult<Option<Written>> {
        let [made] = booked.bookings.as_slice() else {
            return Ok(None);
        };
        if !self.held.get()
            || booked.replayed
            || made.resource_id != self.resource_id
            || !made.status.is_active()
        {
            return Ok(None);
        }
        let Some(interval) = Interval::new(made.start, made.end) else {
            return Ok(None);
        };
        let (version, _) = resource_store::shifts_version(conn, self.resource_id)?;
        let shift = Shift {
            id: made.id.0,
            interval,
            activity: made.activity,
        };
        Ok(Some(Written {
            version,
            before: self.kept.clone(),
            shift,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        format!("{s}:00Z").parse().unwrap()
    }

    fn iv(start: &str, end: &str) -> Interval {
        Interval::new(at(start), at(end)).unwrap()
    }

    fn shift(id: i64, start: &str, end: &str) -> Shift {
        Shift {
            id,
            interval: iv(start, end),
            activity: Activity::Work,
        }
    }

    /// Kept over March (a night shift across its end, one inside).
    fn march() -> KeptShifts {
        KeptShifts {
            range: iv("2027-03-01T00:00", "2027-04-01T00:00"),
            shifts: vec![
                shift(2, "2027-03-10T08:00", "2027-03-10T12:00"),
                shift(3, "2027-03-31T22:00", "2027-04-01T05:00"),
            ],
        }
    }

    #[test]
    fn only_the_weeks_outside_the_kept_span_are_missing() {
        let kept = march();
        assert_eq!(
            kept.missing(iv("2027-03-05T00:00", "2027-03-20T00:00")),
            vec![]
        );
        assert_eq!(
            kept.missing(iv("2027-02-01T00:00", "2027-03-20T00:00")),
            vec![iv("2027-02-01T00:00", "2027-03-01T00:00")]
        );
        assert_eq!(
            kept.missing(iv("2027-02-01T00:00", "2027-05-01T00:00")),
            vec![
                iv("2027-02-01T00:00", "2027-03-01T00:00"),
                iv("2027-04-01T00:00", "2027-05-01T00:00"),
            ]
        );
        // Far later: the weeks in between too, so that the span stays one interval.
        assert_eq!(
            kept.missing(iv("2027-09-01T00:00", "2027-10-01T00:00")),
            vec![iv("2027-04-01T00:00", "2027-10-01T00:00")]
        );
        assert_eq!(
            kept.missing(iv("2026-09-01T00:00", "2026-10-01T00:00")),
            vec![iv("2026-09-01T00:00", "2027-03-01T00:00")]
        );
    }

    #[test]
    fn an_entry_grows_up_to_the_widest_span_and_no_further() {
        let kept = march();
        let widest = Duration::weeks(MAX_KEPT_WEEKS);
        // March 2027 grown back to exactly 156 weeks before its end: allowed.
        let start = at("2027-04-01T00:00") - widest;
        let to_the_limit = Interval::new(start, at("2027-03-10T00:00")).unwrap();
        assert!(kept.may_grow_to(to_the_limit, widest));
        // One minute further: replaced instead.
        let beyond = Interval::new(start - Duration::minutes(1), at("2027-03-10T00:00")).unwrap();
        assert!(!kept.may_grow_to(beyond, widest));
        // The same on the other side, and from inside the span.
        let after = Interval::new(at("2027-05-01T00:00"), at("2027-03-01T00:00") + widest).unwrap();
        assert!(kept.may_grow_to(after, widest));
        let after = Interval::new(
            at("2027-05-01T00:00"),
            at("2027-03-01T00:00") + widest + Duration::minutes(1),
        )
        .unwrap();
        assert!(!kept.may_grow_to(after, widest));
        assert!(kept.may_grow_to(iv("2027-03-05T00:00", "2027-03-20T00:00"), widest));
    }

    /// A reader that read the employee's version before a write committed, and grows the
    /// entry kept at that version afterwards, reads the missing weeks as the write left them.
    /// Merged with the kept weeks, a shift the write moved from those into these would be
    /// there twice; the entry is read whole instead.
    #[test]
    fn weeks_read_after_a_write_do_not_grow_the_older_entry() {
        use crate::domain::ids::{MemberId, ResourceId};
        use crate::domain::status::BookingStatus;
        use crate::store::bookings::{self as booking_store, NewBooking};
        use crate::store::schema::bookings;
        use crate::store::{scratch, to_db};
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};

        let (_dir, db) = scratch::database();
        let mut conn = db.get().unwrap();
        let c = &mut conn;
        let setup = "INSERT INTO members (id, name, legal_form, pricing_category, created_at, updated_at) \
             VALUES (1, 'GE', 'association', 'standard', '2027-01-01 00:00:00', '2027-01-01 00:00:00'); \
             INSERT INTO resources (id, kind, name, created_at, updated_at) \
             VALUES (1, 'staff', 'Alex', '2027-01-01 00:00:00', '2027-01-01 00:00:00');";
        scratch::sql(c, setup);
        let employee = ResourceId(1);
        let made = |c: &mut DbConn, start: &str, end: &str| {
            let (start, end) = (to_db(at(start)), to_db(at(end)));
            let row = booking_store::insert(
                c,
                &NewBooking {
                    resource_id: employee,
                    member_id: MemberId(1),
                    created_by: None,
                    series_id: None,
                    start_at: start,
                    end_at: end,
                    block_start_at: start,
                    block_end_at: end,
                    quantity: 1,
                    exclusive: true,
                    status: BookingStatus::Confirmed,
                    purpose: "",
                    beneficiary: None,
                    created_at: start,
                    updated_at: start,
                    activity: Activity::Work,
                },
            )
            .unwrap();
            row.id.0
        };
        let moved = made(c, "2027-03-10T08:00", "2027-03-10T12:00");
        made(c, "2027-03-11T08:00", "2027-03-11T12:00");
        let longest = 24 * 60;

        let cache = ShiftCache::default();
        let (version, _) = resource_store::shifts_version(c, employee).unwrap();
        let march = iv("2027-03-08T00:00", "2027-03-15T00:00");
        let (_, kept) = cache
            .around_at(c, employee, (version, longest), march)
            .unwrap();
        assert_eq!(kept.meeting(march, &[]).len(), 2);

        // A write moves the first shift a year later, past the kept weeks: the version moves.
        let (start, end) = (to_db(at("2028-03-10T08:00")), to_db(at("2028-03-10T12:00")));
        crate::db_run!(c => diesel::update(bookings::table.filter(bookings::id.eq(moved)))
            .set((
                bookings::start_at.eq(start),
                bookings::end_at.eq(end),
                bookings::block_start_at.eq(start),
                bookings::block_end_at.eq(end),
            ))
            .execute(c))
        .unwrap();
        assert!(resource_store::shifts_version(c, employee).unwrap().0 > version);

        // Read by a reader that had read the version before the write.
        let next_march = iv("2028-03-06T00:00", "2028-03-13T00:00");
        let (_, seen) = cache
            .around_at(c, employee, (version, longest), next_march)
            .unwrap();
        // What the database holds over the weeks returned, each shift once, the moved one at
        // its new place only.
        let now = stored_shifts(c, employee, seen.range, i64::from(longest), &[]).unwrap();
        assert_eq!(seen.shifts, now);
        let ids: Vec<i64> = seen.shifts.iter().map(|s| s.id).collect();
        assert_eq!(ids.iter().filter(|id| **id == moved).count(), 1, "{ids:?}");
        assert!(seen.meeting(march, &[]).iter().all(|s| s.id != moved));
    }

    #[test]
    fn a_written_shift_takes_its_place_in_time_order() {
        let written = Written {
            version: 7,
            before: Arc::new(march()),
            shift: shift(9, "2027-03-20T08:00", "2027-03-20T12:00"),
        };
        let kept = written.kept();
        assert_eq!(kept.range, march().range);
        let ids: Vec<i64> = kept.shifts.iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![2, 9, 3]);
    }

    #[test]
    fn an_extended_span_holds_each_shift_once_in_time_order() {
        let kept = march();
        let range = iv("2027-02-01T00:00", "2027-05-01T00:00");
        // What reading the missing parts gives: the night across the end of March meets
        // April too, so it comes again.
        let read = vec![
            shift(1, "2027-02-28T22:00", "2027-03-01T04:00"),
            shift(3, "2027-03-31T22:00", "2027-04-01T05:00"),
            shift(4, "2027-04-02T08:00", "2027-04-02T12:00"),
        ];
        let grown = kept.extended(range, read);
        assert_eq!(grown.range, range);
        let ids: Vec<i64> = grown.shifts.iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        assert_eq!(
            grown.meeting(iv("2027-03-31T00:00", "2027-04-03T00:00"), &[BookingId(4)]),
            vec![shift(3, "2027-03-31T22:00", "2027-04-01T05:00")]
        );
        // Within the span kept: the same span, the same shifts.
        let same = kept.extended(iv("2027-03-05T00:00", "2027-03-20T00:00"), Vec::new());
        assert_eq!(same.range, kept.range);
        assert_eq!(same.shifts, kept.shifts);
    }
}
