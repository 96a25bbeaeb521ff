//! Asking the domain about one interval of a booking, with what it needs loaded: the verdict
//! (broken rules and the bookings in the way), and the refusal built from it.

use std::collections::HashMap;

use crate::domain::booking::{
    capacity_conflicts, check_request, lookup_range, surely_conflicts, BookingRequest,
    ExistingBooking,
};
use crate::domain::employee::{contract_violation, may_work_for};
use crate::domain::ids::{BookingId, MemberId, ResourceId};
use crate::domain::labour::{self, Activity, Shift};
use crate::domain::month::{closed_violation, Month};
use crate::domain::quota::{self, Holdings};
use crate::domain::refusal::{capacity_violation, Asked, Conflict, Refusal, RefusedOccurrence};
use crate::domain::time::Interval;
use crate::domain::violation::{Violation, ViolationCode, Warning};
use crate::error::{AppError, AppResult};
use crate::store::bookings as store;
use crate::store::members::{self as member_store, Member};
use crate::store::{from_db, months as month_store, to_db, DbConn};

use super::ahead::{ReadAhead, ShiftCache};
use super::target::{existing_over, StaffRules, Target};
use super::BookingEnv;

/// How much of the rules [`Asking`] runs.
#[derive(Clone, Copy)]
enum Scope<'s> {
    /// Every rule, for a write: a refusal gives every reason.
    Every,
    /// Until one refuses, the working-time rules last, with the employee's shifts read once
    /// for several candidates when given: for the alternatives to a refusal.
    UntilRefused(Option<&'s [Shift]>),
}

pub(super) struct Verdict {
    pub violations: Vec<Violation>,
    pub conflicts: Vec<ExistingBooking>,
    /// What goes through but deserves a word (working time: overtime, Sunday…).
    pub warnings: Vec<Warning>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.violations.is_empty() && self.conflicts.is_empty()
    }
}

/// The months a write transaction holds in shared mode (PostgreSQL), each taken once however
/// many intervals touch it; a read takes none.
pub(super) struct MonthLocks {
    held: Vec<Month>,
    /// Held since before the target was read or its epoch checked: the target knows whether
    /// they are closed (see `target::under_lock`).
    known: Vec<Month>,
    take: bool,
}

impl MonthLocks {
    pub fn for_write() -> MonthLocks {
        MonthLocks::holding(Vec::new())
    }

    /// For a write whose target was taken under the lock with `months` held already.
    pub fn holding(months: Vec<Month>) -> MonthLocks {
        MonthLocks {
            held: months.clone(),
            known: months,
            take: true,
        }
    }

    /// Reads (looking for alternatives) check closed months without locking them, as the
    /// target knows them: advice, judged again under the lock.
    pub fn none() -> MonthLocks {
        MonthLocks {
            held: Vec::new(),
            known: Vec::new(),
            take: false,
        }
    }
}

/// A closed month freezes every booking in it. The months are locked in shared mode first
/// (PostgreSQL), so a close cannot commit between this check and the booking's commit. With
/// the `target`, months held since before its epoch was checked (`MonthLocks::holding`) are
/// answered by it, as are reads; the others are read.
pub(super) fn closed_month(
    conn: &mut DbConn,
    interval: Interval,
    env: &BookingEnv,
    locks: &mut MonthLocks,
    target: Option<&Target>,
) -> AppResult<Option<Violation>> {
    let months = Month::touched_by(interval, env.tz);
    if let Some(target) = target {
        if !locks.take || months.iter().all(|m| locks.known.contains(m)) {
            return Ok(target.first_closed(&months).map(closed_violation));
        }
    }
    if locks.take {
        let new: Vec<Month> = months
            .iter()
            .filter(|m| !locks.held.contains(m))
            .copied()
            .collect();
        month_store::lock_open(conn, &new)?;
        locks.held.extend(new);
    }
    Ok(month_store::first_closed(conn, &months)?.map(closed_violation))
}

/// One request to check, interval by interval (a series has several, a move the new ones):
/// who books what, and which bookings are being moved (they must not count against their own
/// new place).
pub(super) struct Asking<'a> {
    pub target: &'a Target,
    pub member: &'a Member,
    pub quantity: i32,
    pub moving: &'a [BookingId],
    /// Work at the member, or (shared employees) training or an absence.
    pub activity: Activity,
    pub env: &'a BookingEnv,
    /// The employee's shifts read before the write lock, if they were.
    pub read_ahead: Option<&'a ReadAhead>,
    /// Employees' shifts kept between requests, for a use case reading on a reader connection
    /// (the alternatives to a refusal); never inside a write transaction (see
    /// `ShiftCache::around`).
    pub kept_shifts: Option<&'a ShiftCache>,
}

/// The interval a single booking proposes, as the working-time rules see it.
pub(super) fn proposed(interval: Interval, activity: Activity) -> Shift {
    Shift {
        // Below every occurrence id a series can use.
        id: i64::MIN,
        interval,
        activity,
    }
}

impl Asking<'_> {
    /// Every rule over `interval`, counting `held` (the occurrences of a series accepted so
    /// far) as booked.
    pub fn evaluate(
        &self,
        conn: &mut DbConn,
        interval: Interval,
        held: &[ExistingBooking],
        locks: &mut MonthLocks,
    ) -> AppResult<Verdict> {
        self.judge(conn, interval, held, locks, Scope::Every)
    }

    /// Whether `interval` alone would be accepted, for the alternatives to a refusal. The
    /// cheapest rules first: for an employee, the agreements and the contract (known from the
    /// target), the employee's own shifts in the way (kept ones, see [`Asking::taken`]) and a
    /// day they already fill ([`labour::surely_over_daily_max`]), then the rules that read the
    /// database, the working-time law last.
    pub fn allows(&self, conn: &mut DbConn, interval: Interval) -> AppResult<bool> {
        self.allows_over(conn, interval, None)
    }

    /// [`Asking::allows`] for one of several candidate intervals of an employee, with the
    /// shifts [`Asking::shifts_around`] read once for all of them.
    pub fn allows_among(
        &self,
        conn: &mut DbConn,
        interval: Interval,
        shifts: &[Shift],
    ) -> AppResult<bool> {
        self.allows_over(conn, interval, Some(shifts))
    }

    fn allows_over(
        &self,
        conn: &mut DbConn,
        interval: Interval,
        given: Option<&[Shift]>,
    ) -> AppResult<bool> {
        let read;
        let shifts = match &self.target.staff {
            None => None,
            Some(staff) => {
                if self.agreement_violation(staff).is_some()
                    || contract_violation(
                        self.target.name(),
                        staff.contract_end,
                        interval,
                        self.env.tz,
                    )
                    .is_some()
                {
                    return Ok(false);
                }
                let shifts = match given {
                    Some(shifts) => shifts,
                    None => {
                        read = self.shifts_around(conn, &[interval])?;
                        read.as_slice()
                    }
                };
                if self.taken(shifts, interval)
                    || labour::surely_over_daily_max(
                        &staff.employee,
                        shifts,
                        &proposed(interval, self.activity),
                        self.env.tz,
                    )
                {
                    return Ok(false);
                }
                Some(shifts)
            }
        };
        Ok(self
            .judge(
                conn,
                interval,
                &[],
                &mut MonthLocks::none(),
                Scope::UntilRefused(shifts),
            )?
            .ok())
    }

    /// Whether the employee's own shifts (those being moved left out) leave no room at
    /// `interval` ([`surely_conflicts`]). Most alternatives to a refused assignment fall on
    /// another shift; this finds them without a query.
    fn taken(&self, shifts: &[Shift], interval: Interval) -> bool {
        surely_conflicts(
            interval,
            self.quantity,
            self.target.rules.capacity,
            shifts
                .iter()
                .filter(|s| !self.moving.contains(&BookingId(s.id)))
                .map(|s| s.interval),
        )
    }

    /// The employee's stored shifts the working-time rules need for all of `intervals` (those
    /// being moved left out).
    pub fn shifts_around(
        &self,
        conn: &mut DbConn,
        intervals: &[Interval],
    ) -> AppResult<Vec<Shift>> {
        let range = labour::lookup_range(intervals, self.env.tz);
        if let Some(cache) = self.kept_shifts {
            let (_, kept) = cache.around(conn, self.target.id(), range)?;
            return Ok(kept.meeting(range, self.moving));
        }
        stored_shifts(
            conn,
            self.target.id(),
            range,
            self.target.longest_minutes,
            self.moving,
        )
    }

    /// [`Asking::shifts_around`] with the employee's shifts version and longest span read
    /// already, for the employees tried one after the other.
    pub fn shifts_at(
        &self,
        conn: &mut DbConn,
        (version, longest): (i64, i32),
        intervals: &[Interval],
    ) -> AppResult<Vec<Shift>> {
        let range = labour::lookup_range(intervals, self.env.tz);
        match self.kept_shifts {
            Some(cache) => {
                let (_, kept) =
                    cache.around_at(conn, self.target.id(), (version, longest), range)?;
                Ok(kept.meeting(range, self.moving))
            }
            None => self.shifts_around(conn, intervals),
        }
    }

    /// The rules over `interval` that `scope` asks for.
    fn judge(
        &self,
        conn: &mut DbConn,
        interval: Interval,
        held: &[ExistingBooking],
        locks: &mut MonthLocks,
        scope: Scope<'_>,
    ) -> AppResult<Verdict> {
        let (target, env) = (self.target, self.env);
        let closures = target.closures_over(interval);
        let req = BookingRequest {
            interval,
            quantity: self.quantity,
            member_category: self.member.pricing_category.clone(),
            member_active: self.member.active && self.member.archived_at.is_none(),
        };
        let mut violations = check_request(&req, &target.rules, &closures, env.now, env.tz);
        if !interval.is_valid() {
            return Ok(Verdict {
                violations,
                conflicts: Vec::new(),
                warnings: Vec::new(),
            });
        }
        violations.extend(closed_month(conn, interval, env, locks, Some(target))?);
        violations.extend(self.quota_violations(conn, interval, held)?);
        if let Some(staff) = &target.staff {
            violations.extend(self.agreement_violation(staff));
            violations.extend(contract_violation(
                self.target.name(),
                staff.contract_end,
                interval,
                self.env.tz,
            ));
        }
        let mut existing = existing_over(conn, target, lookup_range(interval, &target.rules))?;
        existing.retain(|e| !self.moving.contains(&e.id));
        existing.extend_from_slice(held);
        let conflicts = capacity_conflicts(interval, self.quantity, &target.rules, &existing, None);
        let mut warnings = Vec::new();
        if let Some(staff) = &target.staff {
            let preloaded = match scope {
                Scope::Every => Some(None),
                Scope::UntilRefused(shifts) => {
                    (violations.is_empty() && conflicts.is_empty()).then_some(shifts)
                }
            };
            if let Some(preloaded) = preloaded {
                let labour = self.working_time(conn, staff, interval, held, preloaded)?;
                violations.extend(labour.violations);
                warnings = labour.warnings;
            }
        }
        Ok(Verdict {
            violations,
            conflicts,
            warnings,
        })
    }

    /// A shared employee works only at the members named in the agreements (training and
    /// absences are recorded at the employer group).
    fn agreement_violation(&self, staff: &StaffRules) -> Option<Violation> {
        (self.activity == Activity::Work
            && !may_work_for(&staff.agreements, staff.employer, self.member.id))
        .then(|| {
            Violation::new(
                ViolationCode::NoAgreement,
                format!(
                    "Aucune convention de mise à disposition ne lie {} à {}.",
                    self.target.name(),
                    self.member.name
                ),
            )
        })
    }

    /// Working-time law for the employee across every member: the stored shifts the rules
    /// need (only the weeks around the interval), the occurrences of this series accepted so
    /// far, and the interval proposed.
    fn working_time(
        &self,
        conn: &mut DbConn,
        staff: &StaffRules,
        interval: Interval,
        held: &[ExistingBooking],
        preloaded: Option<&[Shift]>,
    ) -> AppResult<labour::LabourVerdict> {
        // `labour::check` ignores shifts outside the interval's lookup range: preloaded ones
        // read for a wider span judge the same.
        let ahead = match (preloaded, self.read_ahead, held.is_empty()) {
            (None, Some(ahead), true) => ahead.still_valid(conn, self.target.id(), interval)?,
            _ => None,
        };
        if let (Some(_), Some(read), true) = (ahead, self.read_ahead, self.moving.is_empty()) {
            if let Some(verdict) = read.verdict_for(&staff.employee, self.activity, self.env.tz) {
                return Ok(verdict.clone());
            }
        }
        let mut existing = match (preloaded, ahead) {
            (Some(shifts), _) => shifts.to_vec(),
            (None, Some(shifts)) => shifts
                .iter()
                .filter(|s| !self.moving.contains(&BookingId(s.id)))
                .copied()
                .collect(),
            (None, None) => self.shifts_around(conn, &[interval])?,
        };
        existing.extend(held.iter().map(|h| Shift {
            id: h.id.0,
            interval: h.interval,
            activity: self.activity,
        }));
        Ok(labour::check(
            &staff.employee,
            &existing,
            &[proposed(interval, self.activity)],
            self.env.tz,
        ))
    }

    /// The member's holdings in each quota's scope, and what the domain says of adding
    /// `interval`.
    fn quota_violations(
        &self,
        conn: &mut DbConn,
        interval: Interval,
        held: &[ExistingBooking],
    ) -> AppResult<Vec<Violation>> {
        let (member, env) = (self.member.id, self.env);
        let mut out = Vec::new();
        // Occurrences of this series accepted so far carry negative ids.
        let pending: Vec<Interval> = held
            .iter()
            .filter(|e| e.member_id == member && e.id.0 < 0)
            .map(|e| e.interval)
            .collect();
        for (q, scope) in self
            .target
            .quotas
            .iter()
            .filter(|(q, _)| q.applies_to(member))
        {
            let months = Month::touched_by(interval, env.tz);
            let booked: Vec<Interval> =
                match (q.max_minutes_per_month, months.first(), months.last()) {
                    (Some(_), Some(first), Some(last)) => {
                        let (from, to) = (first.bounds(env.tz).start, last.bounds(env.tz).end);
                        store::member_spans_overlapping(
                            conn,
                            member,
                            scope,
                            to_db(from),
                            to_db(to),
                        )?
                        .into_iter()
                        .filter(|(id, ..)| !self.moving.contains(id))
                        .filter_map(|(_, s, e)| Interval::new(from_db(s), from_db(e)))
                        .collect()
                    }
                    _ => Vec::new(),
                };
            let future_bookings = match q.max_future_bookings {
                Some(_) => store::count_future(conn, member, scope, to_db(env.now), self.moving)?,
                None => 0,
            };
            let holdings = Holdings {
                booked: &booked,
                future_bookings,
                pending: &pending,
            };
            out.extend(quota::check(
                q,
                self.target.name(),
                interval,
                holdings,
                env.now,
                env.tz,
            ));
        }
        Ok(out)
    }

    /// The violations of a verdict, its capacity excess in words included.
    fn reasons(
        &self,
        conn: &mut DbConn,
        interval: Interval,
        verdict: &Verdict,
    ) -> AppResult<(Vec<Violation>, Vec<Conflict>)> {
        let conflicts = conflicts_of(conn, self.target, &verdict.conflicts)?;
        let mut violations = verdict.violations.clone();
        if !verdict.conflicts.is_empty() {
            violations.push(capacity_violation(
                interval,
                self.quantity,
                self.target.rules.capacity,
                &conflicts,
                self.env.tz,
            ));
        }
        Ok((violations, conflicts))
    }

    /// The refusal of `interval`, with what was asked so alternatives can be looked for.
    pub fn refusal(
        &self,
        conn: &mut DbConn,
        interval: Interval,
        verdict: &Verdict,
    ) -> AppResult<AppError> {
        let (violations, conflicts) = self.reasons(conn, interval, verdict)?;
        let mut r = Refusal::new(violations, conflicts);
        r.asked = Some(Asked {
            resource_id: self.target.id(),
            member_id: self.member.id,
            interval,
            quantity: self.quantity,
            moving: self.moving.to_vec(),
            activity: self.activity,
        });
        Ok(AppError::refused(r))
    }

    /// One refused occurrence of a series.
    pub fn refused_occurrence(
        &self,
        conn: &mut DbConn,
        interval: Interval,
        verdict: &Verdict,
    ) -> AppResult<RefusedOccurrence> {
        let (violations, conflicts) = self.reasons(conn, interval, verdict)?;
        Ok(RefusedOccurrence {
            start: interval.start,
            end: interval.end,
            violations,
            conflicts,
        })
    }
}

/// The member a booking is for, its row locked when a quota of `target` applies to it: quota
/// checks of one member then run one after the other (after the resource locks, always in
/// that order).
pub(super) fn member_under_lock(
    conn: &mut DbConn,
    member_id: MemberId,
    target: &Target,
) -> AppResult<Member> {
    if target.quotas.iter().any(|(q, _)| q.applies_to(member_id)) {
        member_store::lock(conn, member_id)?;
    }
    member_for(conn, member_id)
}

pub(super) fn member_for(conn: &mut DbConn, member_id: MemberId) -> AppResult<Member> {
    match member_store::find(conn, member_id) {
        Err(AppError::NotFound) => Err(AppError::validation("member_id", "Structure inconnue.")),
        other => other,
    }
}

/// The bookings in the way, named.
fn conflicts_of(
    conn: &mut DbConn,
    target: &Target,
    conflicts: &[ExistingBooking],
) -> AppResult<Vec<Conflict>> {
    let ids: Vec<MemberId> = conflicts.iter().map(|c| c.member_id).collect();
    let names: HashMap<MemberId, String> = member_store::names(conn, &ids)?.into_iter().collect();
    Ok(conflicts
        .iter()
        // Occurrences of the series being booked are not someone else's booking.
        .filter(|c| c.id.0 > 0)
        .map(|c| Conflict {
            booking_id: c.id,
            resource_id: target.id(),
            start: c.interval.start,
            end: c.interval.end,
            member_id: c.member_id,
            member_name: names.get(&c.member_id).cloned().unwrap_or_default(),
            quantity: c.quantity,
        })
        .collect())
}

/// A single violation refusing the request as a whole (a begun booking moved, a bad rule).
pub(super) fn refuse_one(code: ViolationCode, message: impl Into<String>) -> AppError {
    AppError::refused(Refusal::new(
        vec![Violation::new(code, message)],
        Vec::new(),
    ))
}

/// The employee's stored shifts meeting `range` (at every member), those in `except` left
/// out, as the working-time rules read them.
pub(crate) fn stored_shifts(
    conn: &mut DbConn,
    employee: ResourceId,
    range: Interval,
    longest_minutes: i64,
    except: &[BookingId],
) -> AppResult<Vec<Shift>> {
    Ok(store::shifts(
        conn,
        employee,
        to_db(range.start),
        to_db(range.end),
        longest_minutes,
    )?
    .into_iter()
    .filter(|s| !except.contains(&s.id))
    .filter_map(|s| {
        Some(Shift {
            id: s.id.0,
            interval: Interval::new(from_db(s.start_at), from_db(s.end_at))?,
            activity: s.activity,
        })
    })
    .collect())
}

/// What the working-time rules say today of a stored assignment, against the employee's
/// other shifts: the warnings it carries (overtime, Sunday…), for its page. Nothing for other
/// bookings or inactive ones.
pub(crate) fn labour_warnings_on(
    conn: &mut DbConn,
    row: &store::BookingRow,
    env: &BookingEnv,
) -> AppResult<Vec<Warning>> {
    if !row.status.is_active() {
        return Ok(Vec::new());
    }
    let tz = env.tz;
    let target = super::target::load(conn, row.resource_id, env)?;
    let (Some(staff), Some(interval)) = (
        &target.staff,
        Interval::new(from_db(row.start_at), from_db(row.end_at)),
    ) else {
        return Ok(Vec::new());
    };
    let range = labour::lookup_range(&[interval], tz);
    let existing = stored_shifts(
        conn,
        row.resource_id,
        range,
        target.longest_minutes,
        &[row.id],
    )?;
    let mine = Shift {
        id: row.id.0,
        interval,
        activity: row.activity,
    };
    Ok(labour::check(&staff.employee, &existing, &[mine], tz).warnings)
}
