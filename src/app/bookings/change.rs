//! Moving and cancelling a booking, or this and the following occurrences of its series.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::app::authz::{self, Actor};
use crate::app::notify::{self, Change};
use crate::app::App;
use crate::domain::booking::ExistingBooking;
use crate::domain::ids::BookingId;
use crate::domain::refusal::Refusal;
use crate::domain::status::{may_cancel, may_move, status_after_move, BookingStatus};
use crate::domain::time::{local_to_utc, Interval};
use crate::domain::validation::FieldErrors;
use crate::domain::violation::ViolationCode;
use crate::error::{AppError, AppResult};
use crate::store::bookings::{self as store, BookingFilter, BookingRow};
use crate::store::{from_db, to_db, DbConn};

use super::book::parse;
use super::rules::{closed_month, member_under_lock, refuse_one, Asking, MonthLocks};
use super::suggest::with_alternatives;
use super::target::{self, Target};
use super::views::{describe, BookingView};
use super::BookingEnv;

/// One occurrence, or this one and the later ones of its series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    One,
    Following,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BookingChanges {
    pub start: Option<String>,
    pub end: Option<String>,
    pub quantity: Option<i32>,
    pub purpose: Option<String>,
    pub beneficiary: Option<String>,
    /// "one" (default) or "following": this occurrence and the later ones of its series.
    #[serde(default)]
    pub scope: Option<Scope>,
}

impl Scope {
    pub fn parse(raw: &str) -> Option<Scope> {
        match raw.trim() {
            "" | "one" => Some(Scope::One),
            "following" => Some(Scope::Following),
            _ => None,
        }
    }
}

/// Moves (or resizes) a booking, or this and the following occurrences of its series by the
/// same shift in local time. Answers the bookings as they now are.
pub async fn move_booking(
    app: &App,
    actor: &Actor,
    id: BookingId,
    changes: BookingChanges,
) -> AppResult<Vec<BookingView>> {
    let env = BookingEnv::of(app);
    let actor = actor.clone();
    match app
        .db()
        .write(move |c| move_tx(c, &actor, id, &changes, &env))
        .await
    {
        Ok(v) => Ok(v),
        Err(e) => Err(with_alternatives(app, e).await),
    }
}

/// Cancels a booking, or this and the following occurrences of its series.
pub async fn cancel(
    app: &App,
    actor: &Actor,
    id: BookingId,
    scope: Scope,
) -> AppResult<Vec<BookingView>> {
    let env = BookingEnv::of(app);
    let actor = actor.clone();
    app.db()
        .write(move |c| cancel_tx(c, &actor, id, scope, &env))
        .await
}

fn interval_of(b: &BookingRow) -> AppResult<Interval> {
    Interval::new(from_db(b.start_at), from_db(b.end_at))
        .ok_or_else(|| AppError::internal(format!("booking {} has an empty interval", b.id)))
}

/// An active booking the actor may move or cancel, with its resource locked. Bookings of
/// other members are reported as missing to those who may not even see their details. Read
/// again under the lock: another writer may have changed it meanwhile.
fn modifiable(
    conn: &mut DbConn,
    actor: &Actor,
    id: BookingId,
    env: &BookingEnv,
) -> AppResult<(BookingRow, Target)> {
    let b = store::find(conn, id)?;
    let target = target::under_lock(conn, b.resource_id, None, env, &[])?;
    let bookable = target.bookable();
    if !authz::can_modify_booking(actor, b.member_id, bookable) {
        // What the actor reads (`query::get`) it is forbidden to change; another member's
        // assignment of a shared employee it does not even see.
        return Err(if authz::sees_booking(actor, b.member_id, bookable) {
            AppError::Forbidden
        } else {
            AppError::NotFound
        });
    }
    let b = store::find(conn, id)?;
    if !b.status.is_active() {
        return Err(AppError::Conflict {
            code: "not_active",
            detail: "Cette réservation est annulée ou refusée.".into(),
        });
    }
    Ok((b, target))
}

/// A closed month freezes every booking in it.
pub(super) fn ensure_open_month(
    conn: &mut DbConn,
    iv: Interval,
    env: &BookingEnv,
    locks: &mut MonthLocks,
) -> AppResult<()> {
    match closed_month(conn, iv, env, locks, None)? {
        Some(v) => Err(AppError::Conflict {
            code: "month_closed",
            detail: v.message,
        }),
        None => Ok(()),
    }
}

/// The booking and, for `Following`, the later active occurrences of its series.
fn group(conn: &mut DbConn, b: &BookingRow, scope: Scope) -> AppResult<Vec<BookingRow>> {
    match (scope, b.series_id) {
        (Scope::Following, Some(series)) => Ok(store::list(
            conn,
            &BookingFilter {
                series_id: Some(series),
                statuses: Some(BookingStatus::ACTIVE.to_vec()),
                ..Default::default()
            },
            None,
            i64::MAX,
        )?
        .into_iter()
        .filter(|o| o.start_at >= b.start_at)
        .collect()),
        _ => Ok(vec![b.clone()]),
    }
}

pub fn move_tx(
    conn: &mut DbConn,
    actor: &Actor,
    id: BookingId,
    changes: &BookingChanges,
    env: &BookingEnv,
) -> AppResult<Vec<BookingView>> {
    let (b, target) = modifiable(conn, actor, id, env)?;
    let tz = env.tz;
    let old = interval_of(&b)?;
    if !may_move(b.status, old.start, env.now) {
        // What has begun is history: it is billed as it was.
        return Err(refuse_one(
            ViolationCode::InPast,
            "Une réservation commencée ne se déplace plus.",
        ));
    }
    let start = changes
        .start
        .clone()
        .unwrap_or_else(|| old.start.to_rfc3339());
    let end = changes.end.clone().unwrap_or_else(|| old.end.to_rfc3339());
    let parsed = parse(
        &start,
        &end,
        Some(changes.quantity.unwrap_or(b.quantity)),
        Some(changes.purpose.as_deref().unwrap_or(&b.purpose)),
        changes.beneficiary.as_deref().or(b.beneficiary.as_deref()),
        tz,
    )?;
    let member = member_under_lock(conn, b.member_id, &target)?;
    let group = group(conn, &b, changes.scope.unwrap_or_default())?;
    let ignore: Vec<BookingId> = group.iter().map(|g| g.id).collect();
    let asking = Asking {
        target: &target,
        member: &member,
        quantity: parsed.quantity,
        moving: &ignore,
        activity: b.activity,
        env,
        read_ahead: None,
        kept_shifts: None,
    };
    let mut locks = MonthLocks::for_write();
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).naive_local();
    let shift_start = local(parsed.interval.start) - local(old.start);
    let shift_end = local(parsed.interval.end) - local(old.end);
    let mut planned = Vec::new();
    let mut held: Vec<ExistingBooking> = Vec::new();
    for g in &group {
        let giv = interval_of(g)?;
        ensure_open_month(conn, giv, env, &mut locks)?;
        let iv = if g.id == b.id {
            parsed.interval
        } else {
            match (
                local_to_utc(local(giv.start) + shift_start, tz),
                local_to_utc(local(giv.end) + shift_end, tz),
            ) {
                (Ok(start), Ok(end)) => Interval { start, end },
                _ => {
                    return Err(AppError::refused(Refusal::invalid_fields(
                        FieldErrors::single(
                            "start",
                            "Une occurrence déplacée tomberait sur un changement d'heure.",
                        ),
                    )))
                }
            }
        };
        let verdict = asking.evaluate(conn, iv, &held, &mut locks)?;
        if !verdict.ok() {
            return Err(asking.refusal(conn, iv, &verdict)?);
        }
        held.push(ExistingBooking {
            id: BookingId(-(held.len() as i64) - 1),
            member_id: member.id,
            interval: iv,
            quantity: parsed.quantity,
        });
        planned.push((g.id, iv));
    }
    // Shifting a series later: move the last occurrence first, so none lands on a sibling's
    // slot that is still occupied (PostgreSQL checks its exclusion constraint per statement).
    if shift_start > TimeDelta::zero() {
        planned.reverse();
    }
    let previous: Vec<(BookingId, DateTime<Utc>, DateTime<Utc>)> = group
        .iter()
        .map(|g| (g.id, from_db(g.start_at), from_db(g.end_at)))
        .collect();
    let mut rows = Vec::new();
    let decides = authz::can_decide(actor);
    for (gid, iv) in planned {
        let block = target.rules.block_of(iv);
        let before = group.iter().find(|g| g.id == gid);
        let slot_changed = before.is_none_or(|g| {
            (from_db(g.start_at), from_db(g.end_at)) != (iv.start, iv.end)
                || g.quantity != parsed.quantity
        });
        let to_request = before.is_some_and(|g| {
            status_after_move(
                g.status,
                target.resource.row.requires_approval,
                decides,
                slot_changed,
            ) != g.status
        });
        rows.push(store::apply_move(
            conn,
            gid,
            &store::Move {
                start_at: to_db(iv.start),
                end_at: to_db(iv.end),
                block_start_at: to_db(block.start),
                block_end_at: to_db(block.end),
                quantity: parsed.quantity,
                purpose: &parsed.purpose,
                beneficiary: parsed.beneficiary.as_deref(),
                to_request,
            },
            to_db(env.now),
        )?);
        target::note_block(conn, &target, block)?;
    }
    rows.sort_by_key(|b| (b.start_at, b.id));
    let ids: Vec<BookingId> = rows.iter().map(|r| r.id).collect();
    notify::bookings_changed_tx(conn, Some(actor), Change::Moved, &ids, &previous, None, env)?;
    describe(conn, actor, &rows, env.now)
}

pub fn cancel_tx(
    conn: &mut DbConn,
    actor: &Actor,
    id: BookingId,
    scope: Scope,
    env: &BookingEnv,
) -> AppResult<Vec<BookingView>> {
    let (b, _target) = modifiable(conn, actor, id, env)?;
    let mut locks = MonthLocks::for_write();
    let mut rows = Vec::new();
    for g in group(conn, &b, scope)? {
        let iv = interval_of(&g)?;
        if !may_cancel(g.status, iv.end, env.now) {
            return Err(refuse_one(
                ViolationCode::InPast,
                "Une réservation terminée ne s'annule plus.",
            ));
        }
        ensure_open_month(conn, iv, env, &mut locks)?;
        rows.push(store::cancel(
            conn,
            g.id,
            actor.user_id,
            None,
            to_db(env.now),
        )?);
    }
    let ids: Vec<BookingId> = rows.iter().map(|r| r.id).collect();
    notify::bookings_changed_tx(conn, Some(actor), Change::Cancelled, &ids, &[], None, env)?;
    describe(conn, actor, &rows, env.now)
}
