//! Guard rails when a resource changes under its bookings (capacity, buffers, opening hours,
//! a new closure): the bookings the change would break are listed and nothing changes, unless
//! the caller forces it; then they are cancelled in the change's own transaction, with the
//! reason, and their bookers hear about it through the outbox. The rules are
//! `domain::guard`'s; past and under-way bookings are never touched.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::authz::Actor;
use super::bookings::BookingEnv;
use super::notify::{self, Change};
use crate::domain::booking::{ClosurePeriod, ResourceRules};
use crate::domain::guard::{
    broken_by_attaching, broken_by_change, Booked, Broken, Cause, LiveBooking, Settings, Side,
};
use crate::domain::ids::{BookingId, MemberId, ResourceId};
use crate::domain::status::BookingStatus;
use crate::domain::time::{format_span, Interval};
use crate::error::AppResult;
use crate::store::bookings as booking_store;
use crate::store::closures as closure_store;
use crate::store::{from_db, to_db, DbConn};

/// A booking a change would cancel, as the manager is shown it before confirming.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BrokenBooking {
    pub id: BookingId,
    pub resource_id: ResourceId,
    pub resource_name: String,
    pub member_id: MemberId,
    pub member_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub quantity: i32,
    pub status: BookingStatus,
    /// Why it would be cancelled: closed, outside_opening_hours, capacity or composition.
    pub cause: String,
    /// The same in words, as the booker is told it.
    pub reason: String,
}

/// The outcome of a guarded change: done, or the bookings it would cancel (nothing changed).
#[derive(Debug)]
pub enum Guarded<T> {
    Done(T),
    WouldBreak(Vec<BrokenBooking>),
}

/// « Cette modification annulerait 3 réservations », for the pages and the API.
pub fn summary(count: usize) -> String {
    match count {
        1 => "Cette modification annulerait 1 réservation".into(),
        n => format!("Cette modification annulerait {n} réservations"),
    }
}

/// One resource's settings before and after a change, and how to word each cause.
pub(crate) struct ResourceChange<'a> {
    pub resource_id: ResourceId,
    pub before: (&'a ResourceRules, &'a [ClosurePeriod]),
    pub after: (&'a ResourceRules, &'a [ClosurePeriod]),
}

/// The closures of a resource (its own and the pole's) that end after `since`.
pub(crate) fn closures_of(
    conn: &mut DbConn,
    resource_id: ResourceId,
    since: DateTime<Utc>,
) -> AppResult<Vec<ClosurePeriod>> {
    Ok(
        closure_store::list(conn, Some(resource_id), Some(to_db(since)), None)?
            .into_iter()
            .filter_map(|c| {
                Some(ClosurePeriod {
                    interval: Interval::new(from_db(c.start_at), from_db(c.end_at))?,
                    reason: c.reason,
                })
            })
            .collect(),
    )
}

/// The bookings `change` breaks, each with the words saying why. Bookings over before `now`
/// (their buffers included) are not loaded: nothing can be done about them.
pub(crate) fn breaks(
    conn: &mut DbConn,
    change: &ResourceChange,
    now: DateTime<Utc>,
    tz: Tz,
    word: impl Fn(&Cause) -> String,
) -> AppResult<Vec<(Broken, String)>> {
    let since = now - Duration::minutes(reach(change.before.0).max(reach(change.after.0)));
    let live = live_bookings(conn, change.resource_id, since)?;
    let before = Settings {
        rules: change.before.0,
        closures: change.before.1,
    };
    let after = Settings {
        rules: change.after.0,
        closures: change.after.1,
    };
    Ok(broken_by_change(before, after, &live, now, tz)
        .into_iter()
        .map(|b| {
            let reason = word(&b.cause);
            (b, reason)
        })
        .collect())
}

/// Minutes a booking's buffers reach beyond it, both sides together.
fn reach(r: &ResourceRules) -> i64 {
    i64::from(r.buffer_before_minutes.max(0)) + i64::from(r.buffer_after_minutes.max(0))
}

/// The active bookings of a resource that end after `since`.
fn live_bookings(
    conn: &mut DbConn,
    resource_id: ResourceId,
    since: DateTime<Utc>,
) -> AppResult<Vec<LiveBooking>> {
    let rows = booking_store::active_after(conn, resource_id, to_db(since))?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(LiveBooking {
                id: r.id,
                member_id: r.member_id,
                interval: Interval::new(from_db(r.start_at), from_db(r.end_at))?,
                quantity: r.quantity,
                created_at: from_db(r.created_at),
            })
        })
        .collect())
}

/// A resource about to become a part of a whole: its name and the rules it will have, and the
/// whole's.
pub(crate) struct Attaching<'a> {
    pub part: (ResourceId, &'a str, &'a ResourceRules),
    pub whole: (ResourceId, &'a str, &'a ResourceRules),
}

/// The bookings of the part and of the whole that attaching breaks (`domain::guard::
/// broken_by_attaching`), each with the words saying why; those in `already` (given up by the
/// part's own change of settings) are left out. The whole is locked first, as a booking of it
/// locks it: none slips in between this check and the change.
pub(crate) fn breaks_attaching(
    conn: &mut DbConn,
    a: &Attaching,
    already: &[BookingId],
    now: DateTime<Utc>,
) -> AppResult<Vec<(Broken, String)>> {
    let ((part_id, part, part_rules), (whole_id, whole, whole_rules)) = (a.part, a.whole);
    booking_store::lock_resources(conn, &[whole_id])?;
    let since = now - Duration::minutes(reach(part_rules).max(reach(whole_rules)));
    let of_part = live_but(conn, part_id, since, already)?;
    let of_whole = live_but(conn, whole_id, since, already)?;
    let broken = broken_by_attaching(
        Booked {
            rules: part_rules,
            bookings: &of_part,
        },
        Booked {
            rules: whole_rules,
            bookings: &of_whole,
        },
        now,
    );
    Ok(broken
        .into_iter()
        .map(|b| {
            let reason = match b.cause {
                Cause::Composition(Side::Whole) => {
                    format!("« {part} », déjà réservée sur ce créneau, devient une partie de « {whole} »")
                }
                _ => format!("« {part} » devient une partie de « {whole} », déjà réservée sur ce créneau"),
            };
            (b, reason)
        })
        .collect())
}

/// A resource composed with others whose buffers change: its rules before and after, and each
/// resource it is composed with, with that one's rules and its side (the whole it is a part
/// of, or one of its parts).
pub(crate) struct Rebuffered<'a> {
    pub id: ResourceId,
    pub before: &'a ResourceRules,
    pub after: &'a ResourceRules,
    pub beside: &'a [(ResourceId, ResourceRules, Side)],
}

/// The bookings of a resource and of its whole or parts that its new buffers make meet (its
/// bookings are judged with its buffers against theirs, as when booking) and that did not
/// meet before; those in `already` are left out. Each resource's bookings are read once. Its
/// own row is what bookings of all of them lock, and the caller holds it.
pub(crate) fn breaks_beside(
    conn: &mut DbConn,
    change: &Rebuffered,
    already: &[BookingId],
    now: DateTime<Utc>,
) -> AppResult<Vec<(Broken, String)>> {
    let widest = change
        .beside
        .iter()
        .map(|(_, r, _)| reach(r))
        .chain([reach(change.before), reach(change.after)])
        .max()
        .unwrap_or(0);
    let since = now - Duration::minutes(widest);
    let mine = live_but(conn, change.id, since, already)?;
    let mut out: Vec<(Broken, String)> = Vec::new();
    for (other, rules, side) in change.beside {
        let theirs = live_but(conn, *other, since, already)?;
        // The domain rule with this resource on its side of the composition.
        let meeting = |my_rules: &ResourceRules| {
            let mine = Booked {
                rules: my_rules,
                bookings: &mine,
            };
            let theirs = Booked {
                rules,
                bookings: &theirs,
            };
            match side {
                Side::Whole => broken_by_attaching(mine, theirs, now),
                Side::Part => broken_by_attaching(theirs, mine, now),
            }
        };
        let before: Vec<BookingId> = meeting(change.before).iter().map(|b| b.id).collect();
        for b in meeting(change.after) {
            if !before.contains(&b.id) && !out.iter().any(|(o, _)| o.id == b.id) {
                out.push((
                    b,
                    "temps de battement allongé entre deux réservations".into(),
                ));
            }
        }
    }
    Ok(out)
}

/// [`live_bookings`] but those in `already` (given up by another part of the same change).
fn live_but(
    conn: &mut DbConn,
    resource_id: ResourceId,
    since: DateTime<Utc>,
    already: &[BookingId],
) -> AppResult<Vec<LiveBooking>> {
    let mut live = live_bookings(conn, resource_id, since)?;
    live.retain(|b| !already.contains(&b.id));
    Ok(live)
}

/// The words for a closure: « fermeture (motif) du … au … ».
pub(crate) fn closure_words(c: &ClosurePeriod, tz: Tz) -> String {
    let reason = c.reason.trim();
    let when = format_span(c.interval, tz);
    if reason.is_empty() {
        format!("fermeture de la ressource {when}")
    } else {
        format!("fermeture de la ressource ({reason}) {when}")
    }
}

/// The broken bookings as the manager sees them, by start.
pub(crate) fn describe(
    conn: &mut DbConn,
    broken: &[(Broken, String)],
) -> AppResult<Vec<BrokenBooking>> {
    let ids: Vec<BookingId> = broken.iter().map(|(b, _)| b.id).collect();
    let rows = booking_store::labelled(conn, &ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let (b, reason) = broken.iter().find(|(b, _)| b.id == r.id)?;
            Some(BrokenBooking {
                id: r.id,
                resource_id: r.resource_id,
                resource_name: r.resource_name,
                member_id: r.member_id,
                member_name: r.member_name,
                start: from_db(r.start_at),
                end: from_db(r.end_at),
                quantity: r.quantity,
                status: r.status,
                cause: b.cause.code().to_string(),
                reason: reason.clone(),
            })
        })
        .collect())
}

/// Cancels the broken bookings with their reason and queues the messages to their bookers,
/// one message per booker and reason.
pub(crate) fn cancel_broken(
    conn: &mut DbConn,
    actor: &Actor,
    broken: &[(Broken, String)],
    env: &BookingEnv,
) -> AppResult<()> {
    let mut reasons: Vec<&str> = broken.iter().map(|(_, r)| r.as_str()).collect();
    reasons.sort_unstable();
    reasons.dedup();
    for reason in reasons {
        let mut ids = Vec::new();
        for (b, _) in broken.iter().filter(|(_, r)| r == reason) {
            let row =
                booking_store::cancel(conn, b.id, actor.user_id, Some(reason), to_db(env.now))?;
            ids.push(row.id);
        }
        notify::bookings_changed_tx(
            conn,
            Some(actor),
            Change::Cancelled,
            &ids,
            &[],
            Some(reason),
            env,
        )?;
    }
    Ok(())
}
