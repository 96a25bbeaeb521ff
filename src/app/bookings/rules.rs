//! Asking the domain about one interval of a booking, with what it needs loaded: the verdict
//! (broken rules and the bookings in the way), and the refusal built from it.

use std::collections::HashMap;

use crate::domain::booking::{
    capacity_conflicts, check_request, lookup_range, BookingRequest, ExistingBooking,
};
use crate::domain::ids::{BookingId, MemberId};
use crate::domain::month::Month;
use crate::domain::quota::{self, Holdings};
use crate::domain::refusal::{capacity_violation, Asked, Conflict, Refusal, RefusedOccurrence};
use crate::domain::time::Interval;
use crate::domain::violation::{Violation, ViolationCode};
use crate::error::{AppError, AppResult};
use crate::store::bookings as store;
use crate::store::members::{self as member_store, Member};
use crate::store::{from_db, months as month_store, to_db, DbConn};

use super::target::{closures_over, existing_over, Target};
use super::BookingEnv;

pub(super) struct Verdict {
    pub violations: Vec<Violation>,
    pub conflicts: Vec<ExistingBooking>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.violations.is_empty() && self.conflicts.is_empty()
    }
}

/// Every rule for `quantity` units over `interval`, ignoring the bookings being moved and
/// counting `extra` (the occurrences of a series accepted so far) as booked.
#[allow(clippy::too_many_arguments)]
pub(super) fn evaluate(
    conn: &mut DbConn,
    target: &Target,
    member: &Member,
    interval: Interval,
    quantity: i32,
    ignore: &[BookingId],
    extra: &[ExistingBooking],
    env: &BookingEnv,
) -> AppResult<Verdict> {
    let closures = closures_over(conn, target.id(), interval)?;
    let req = BookingRequest {
        interval,
        quantity,
        member_category: member.pricing_category.clone(),
        member_active: member.active && member.archived_at.is_none(),
    };
    let mut violations = check_request(&req, &target.rules, &closures, env.now, env.tz);
    if target.resource.row.archived_at.is_some() {
        violations.push(Violation::new(
            ViolationCode::NotAllowed,
            "Cette ressource est archivée : elle ne se réserve plus.",
        ));
    }
    if !interval.is_valid() {
        return Ok(Verdict {
            violations,
            conflicts: Vec::new(),
        });
    }
    violations.extend(closed_month(conn, interval, env)?);
    violations.extend(quota_violations(
        conn, target, member.id, interval, ignore, extra, env,
    )?);
    let mut existing = existing_over(conn, target, lookup_range(interval, &target.rules))?;
    existing.retain(|e| !ignore.contains(&e.id));
    existing.extend_from_slice(extra);
    let conflicts = capacity_conflicts(interval, quantity, &target.rules, &existing, None);
    Ok(Verdict {
        violations,
        conflicts,
    })
}

/// A closed month freezes every booking in it. The months are locked in shared mode first
/// (PostgreSQL), so a close cannot commit between this check and the booking's commit.
pub(super) fn closed_month(
    conn: &mut DbConn,
    interval: Interval,
    env: &BookingEnv,
) -> AppResult<Option<Violation>> {
    let months = Month::touched_by(interval, env.tz);
    month_store::lock_open(conn, &months)?;
    Ok(month_store::first_closed(conn, &months)?.map(|m| {
        Violation::new(
            ViolationCode::MonthClosed,
            format!(
                "Le mois de {} est clôturé par la trésorerie : ses réservations ne peuvent plus changer.",
                crate::domain::month::label_fr(m)
            ),
        )
    }))
}

/// The member's holdings in each quota's scope, and what the domain says of adding `interval`.
fn quota_violations(
    conn: &mut DbConn,
    target: &Target,
    member: MemberId,
    interval: Interval,
    ignore: &[BookingId],
    extra: &[ExistingBooking],
    env: &BookingEnv,
) -> AppResult<Vec<Violation>> {
    let mut out = Vec::new();
    // Occurrences of this series accepted so far carry negative ids.
    let pending: Vec<Interval> = extra
        .iter()
        .filter(|e| e.member_id == member && e.id.0 < 0)
        .map(|e| e.interval)
        .collect();
    for (q, scope) in target.quotas.iter().filter(|(q, _)| q.applies_to(member)) {
        let months = Month::touched_by(interval, env.tz);
        let booked: Vec<Interval> = match (q.max_minutes_per_month, months.first(), months.last()) {
            (Some(_), Some(first), Some(last)) => {
                let (from, to) = (first.bounds(env.tz).start, last.bounds(env.tz).end);
                store::member_spans_overlapping(conn, member, scope, to_db(from), to_db(to))?
                    .into_iter()
                    .filter(|(id, ..)| !ignore.contains(id))
                    .filter_map(|(_, s, e)| Interval::new(from_db(s), from_db(e)))
                    .collect()
            }
            _ => Vec::new(),
        };
        let future_bookings = match q.max_future_bookings {
            Some(_) => store::count_future(conn, member, scope, to_db(env.now), ignore)?,
            None => 0,
        };
        let held = Holdings {
            booked: &booked,
            future_bookings,
            pending: &pending,
        };
        out.extend(quota::check(
            q,
            target.name(),
            interval,
            held,
            env.now,
            env.tz,
        ));
    }
    Ok(out)
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
pub(super) fn conflicts_of(
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

/// The violations of a verdict, its capacity excess in words included.
fn reasons(
    conn: &mut DbConn,
    target: &Target,
    interval: Interval,
    quantity: i32,
    verdict: &Verdict,
    env: &BookingEnv,
) -> AppResult<(Vec<Violation>, Vec<Conflict>)> {
    let conflicts = conflicts_of(conn, target, &verdict.conflicts)?;
    let mut violations = verdict.violations.clone();
    if !verdict.conflicts.is_empty() {
        violations.push(capacity_violation(
            interval,
            quantity,
            target.rules.capacity,
            &conflicts,
            env.tz,
        ));
    }
    Ok((violations, conflicts))
}

/// The refusal of one request, with what was asked so alternatives can be looked for.
pub(super) fn refusal(
    conn: &mut DbConn,
    target: &Target,
    asked: Asked,
    verdict: &Verdict,
    env: &BookingEnv,
) -> AppResult<AppError> {
    let (violations, conflicts) =
        reasons(conn, target, asked.interval, asked.quantity, verdict, env)?;
    let mut r = Refusal::new(violations, conflicts);
    r.asked = Some(asked);
    Ok(AppError::refused(r))
}

/// One refused occurrence of a series.
pub(super) fn refused_occurrence(
    conn: &mut DbConn,
    target: &Target,
    interval: Interval,
    quantity: i32,
    verdict: &Verdict,
    env: &BookingEnv,
) -> AppResult<RefusedOccurrence> {
    let (violations, conflicts) = reasons(conn, target, interval, quantity, verdict, env)?;
    Ok(RefusedOccurrence {
        start: interval.start,
        end: interval.end,
        violations,
        conflicts,
    })
}

/// A single violation refusing the request as a whole (a begun booking moved, a bad rule).
pub(super) fn refuse_one(code: ViolationCode, message: impl Into<String>) -> AppError {
    AppError::refused(Refusal::new(
        vec![Violation::new(code, message)],
        Vec::new(),
    ))
}
