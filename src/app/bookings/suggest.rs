//! Alternatives to a refused booking: the nearest free slots of the same length on the same
//! resource (for an employee, the same hours on the days around that the working-time law
//! accepts), then other resources of the same kind free at the asked time (other employees
//! only for work, never for training or an absence). Looked for once
//! the write transaction is over, on a read connection: they are read-only and would otherwise
//! hold the write lock.

use crate::app::App;
use crate::domain::booking::{
    lookup_range, same_times_other_days, suggest_search_range, suggest_slots, suggestions_settled,
};
use crate::domain::labour::Activity;
use crate::domain::refusal::{Asked, Refusal, Suggestion};
use crate::error::{AppError, AppResult};
use crate::store::{resources as resource_store, DbConn};

use super::ahead::ShiftCache;
use super::rules::{member_for, Asking};
use super::target::{self, existing_over, TargetCache};
use super::BookingEnv;

pub const SUGGESTIONS: usize = 3;
pub const SEARCH_DAYS: i64 = 14;
/// Other resources of the kind tried, in name order, for the alternatives at the asked time.
const OTHERS_TRIED: i64 = 25;

/// Completes a refusal with its alternatives; any other error passes through. A failure to
/// look for alternatives is logged and the refusal answered without them.
pub(super) async fn with_alternatives(app: &App, err: AppError) -> AppError {
    let AppError::Refused(refusal) = err else {
        return err;
    };
    if !refusal.wants_alternatives() {
        return AppError::Refused(refusal);
    }
    let env = BookingEnv::of(app);
    let (targets, kept) = (app.targets(), app.shifts());
    let fallback = refusal.clone();
    let mut r = refusal;
    match app
        .db()
        .run(move |c| {
            fill(c, &mut r, &env, &targets, &kept)?;
            Ok(r)
        })
        .await
    {
        Ok(r) => AppError::Refused(r),
        Err(e) => {
            e.log();
            AppError::Refused(fallback)
        }
    }
}

fn fill(
    conn: &mut DbConn,
    refusal: &mut Refusal,
    env: &BookingEnv,
    targets: &TargetCache,
    kept: &ShiftCache,
) -> AppResult<()> {
    if let Some(asked) = refusal.asked.clone() {
        refusal.suggestions = suggestions(conn, &asked, env, targets, kept)?;
    }
    Ok(())
}

/// The alternatives; targets (the asked one, and the up to 25 others of its kind tried) are
/// the kept ones while the rules epoch holds: reading each whole was a fifth of a refusal.
/// So are the employees' shifts while their versions hold: reading 23 weeks of each employee
/// tried was most of what was left.
fn suggestions(
    conn: &mut DbConn,
    asked: &Asked,
    env: &BookingEnv,
    targets: &TargetCache,
    kept: &ShiftCache,
) -> AppResult<Vec<Suggestion>> {
    let target = target::kept(conn, asked.resource_id, targets, env)?;
    let member = member_for(conn, asked.member_id)?;
    let interval = asked.interval;
    let staff = target.staff.is_some();
    if staff && asked.moving.len() > 1 {
        // Occurrences moved together: one alone says nothing of the working time the others
        // bring at their new places.
        return Ok(Vec::new());
    }
    let asking = Asking {
        target: &target,
        member: &member,
        quantity: asked.quantity,
        moving: &asked.moving,
        activity: asked.activity,
        env,
        read_ahead: None,
        kept_shifts: Some(kept),
    };
    let slots = if staff {
        // An employee's free slots near a refusal for working time mostly break the same
        // limit: the same hours on the days around, nearest first, that every rule (the law
        // and the agreements included) accepts.
        let candidates = same_times_other_days(interval, env.tz, SEARCH_DAYS);
        let shifts = asking.shifts_around(conn, &candidates)?;
        let mut lawful = Vec::new();
        for iv in candidates {
            if lawful.len() == SUGGESTIONS {
                break;
            }
            if asking.allows_among(conn, iv, &shifts)? {
                lawful.push(iv);
            }
        }
        lawful
    } else {
        nearest_free(conn, &target, asked, env)?
    };
    let mut out: Vec<Suggestion> = slots
        .into_iter()
        .map(|s| Suggestion {
            resource_id: target.id(),
            resource_name: target.name().to_string(),
            start: s.start,
            end: s.end,
        })
        .collect();
    if asked.activity != Activity::Work {
        // Training and absences are an employee's own: another employee is no alternative.
        return Ok(out);
    }
    // The others' spans, shifts versions and the rules epoch in one read: each of them is
    // then judged from what is kept, reading only what the kept data cannot tell.
    let (epoch, peers) =
        resource_store::peers_of_kind(conn, target.kind(), &target.blocking_ids(), OTHERS_TRIED)?;
    let mut found = 0;
    for peer in peers {
        if found == SUGGESTIONS {
            break;
        }
        let t = target::kept_at(conn, peer.id, targets, env, (peer.span, epoch))?;
        let asking = Asking {
            target: &t,
            member: &member,
            quantity: asked.quantity,
            moving: &[],
            activity: asked.activity,
            env,
            read_ahead: None,
            kept_shifts: Some(kept),
        };
        let allowed = if t.staff.is_some() {
            let shifts = asking.shifts_at(conn, (peer.shifts_version, peer.span), &[interval])?;
            asking.allows_among(conn, interval, &shifts)?
        } else {
            asking.allows(conn, interval)?
        };
        if allowed {
            out.push(Suggestion {
                resource_id: peer.id,
                resource_name: peer.name,
                start: interval.start,
                end: interval.end,
            });
            found += 1;
        }
    }
    Ok(out)
}

/// The nearest free slots of the asked length on the same resource, by capacity, closures
/// and opening hours: one day around the request first, widened to the full span only when
/// the nearest slots may lie further (`suggestions_settled`): a busy resource has hundreds of
/// bookings over four weeks, and loading them was most of the cost of a refusal.
fn nearest_free(
    conn: &mut DbConn,
    target: &target::Target,
    asked: &Asked,
    env: &BookingEnv,
) -> AppResult<Vec<crate::domain::time::Interval>> {
    let interval = asked.interval;
    let mut days = 1;
    loop {
        let search = suggest_search_range(interval, days);
        let closures = target.closures_over(search);
        let mut existing = existing_over(conn, target, lookup_range(search, &target.rules))?;
        existing.retain(|e| !asked.moving.contains(&e.id));
        let slots = suggest_slots(
            interval,
            asked.quantity,
            &target.rules,
            &existing,
            &closures,
            env.now,
            env.tz,
            SUGGESTIONS,
            days,
        );
        if days >= SEARCH_DAYS || suggestions_settled(interval, &slots, SUGGESTIONS, days) {
            return Ok(slots);
        }
        days = SEARCH_DAYS;
    }
}
