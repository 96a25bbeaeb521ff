//! The coordination's decisions on requests for resources that need approval, and the
//! automatic rejection of requests nobody decided on before their start.

use crate::app::authz::{self, Actor};
use crate::app::notify::{self, Change};
use crate::app::App;
use crate::domain::ids::BookingId;
use crate::domain::status::{auto_rejected, is_overdue, BookingStatus, AUTO_REJECTION_REASON};
use crate::domain::time::Interval;
use crate::domain::validation::optional_text;
use crate::error::{AppError, AppResult};
use crate::store::bookings::{self as store, BookingFilter};
use crate::store::{from_db, to_db, DbConn};

use super::change::ensure_open_month;
use super::rules::MonthLocks;
use super::target;
use super::views::{describe, BookingView};
use super::BookingEnv;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// What became of a decision.
enum Decided {
    Done(Box<BookingView>),
    /// The request was overdue: it is rejected automatically (and that sticks), the decision
    /// is refused.
    TooLate,
}

/// Approves or rejects a pending request.
pub async fn decide(
    app: &App,
    actor: &Actor,
    id: BookingId,
    decision: Decision,
    reason: Option<String>,
) -> AppResult<BookingView> {
    authz::require(authz::can_decide(actor))?;
    let env = BookingEnv::of(app);
    let actor = actor.clone();
    let decided = app
        .db()
        .write(move |c| decide_tx(c, &actor, id, decision, reason.as_deref(), &env))
        .await?;
    match decided {
        Decided::Done(view) => Ok(*view),
        Decided::TooLate => Err(AppError::Conflict {
            code: "not_pending",
            detail: "Cette demande n'a pas été validée avant son début : elle est refusée automatiquement.".into(),
        }),
    }
}

fn decide_tx(
    conn: &mut DbConn,
    actor: &Actor,
    id: BookingId,
    decision: Decision,
    reason: Option<&str>,
    env: &BookingEnv,
) -> AppResult<Decided> {
    let b = store::find(conn, id)?;
    target::under_lock(conn, b.resource_id, None, env, &[])?;
    let b = store::find(conn, id)?;
    let start = from_db(b.start_at);
    if is_overdue(b.status, start, env.now) {
        store::reject_overdue(conn, id, to_db(env.now), AUTO_REJECTION_REASON)?;
        notify::bookings_changed_tx(
            conn,
            None,
            Change::Rejected,
            &[id],
            &[],
            Some(AUTO_REJECTION_REASON),
            env,
        )?;
        return Ok(Decided::TooLate);
    }
    if auto_rejected(b.status, b.decided_by.is_some()) {
        return Ok(Decided::TooLate);
    }
    if b.status != BookingStatus::Pending {
        return Err(AppError::Conflict {
            code: "not_pending",
            detail: format!(
                "Cette réservation n'est pas en attente de validation (état : {}).",
                b.status.label()
            ),
        });
    }
    if let Some(iv) = Interval::new(start, from_db(b.end_at)) {
        ensure_open_month(conn, iv, env, &mut MonthLocks::for_write())?;
    }
    let reason =
        optional_text(reason.unwrap_or(""), 500).map_err(|m| AppError::validation("reason", m))?;
    let status = match decision {
        Decision::Approve => BookingStatus::Confirmed,
        Decision::Reject if reason.is_none() => {
            return Err(AppError::validation(
                "reason",
                "Indiquez le motif du refus : il est transmis à la structure.",
            ))
        }
        Decision::Reject => BookingStatus::Rejected,
    };
    let row = store::decide(
        conn,
        id,
        status,
        reason.as_deref(),
        actor.user_id,
        to_db(env.now),
    )?;
    let change = match decision {
        Decision::Approve => Change::Approved,
        Decision::Reject => Change::Rejected,
    };
    notify::bookings_changed_tx(
        conn,
        Some(actor),
        change,
        &[id],
        &[],
        reason.as_deref(),
        env,
    )?;
    Ok(Decided::Done(Box::new(
        describe(conn, actor, &[row], env.now)?.remove(0),
    )))
}

/// Rejects the pending requests whose start has come; returns how many. Idempotent: every
/// instance may run it (`app::jobs`, every minute).
pub async fn sweep_overdue(app: &App) -> AppResult<usize> {
    let env = BookingEnv::of(app);
    app.db().write(move |c| sweep_tx(c, &env)).await
}

fn sweep_tx(conn: &mut DbConn, env: &BookingEnv) -> AppResult<usize> {
    let rows = store::reject_pending_started(conn, to_db(env.now), AUTO_REJECTION_REASON)?;
    for r in &rows {
        notify::bookings_changed_tx(
            conn,
            None,
            Change::Rejected,
            &[r.id],
            &[],
            Some(AUTO_REJECTION_REASON),
            env,
        )?;
    }
    Ok(rows.len())
}

/// Requests still to decide, by start: the overdue ones are left to the automatic rejection.
pub async fn approval_queue(app: &App, actor: &Actor) -> AppResult<Vec<BookingView>> {
    authz::require(authz::can_decide(actor))?;
    let now = app.now();
    let actor = actor.clone();
    app.db()
        .run(move |c| {
            let mut rows = store::list(
                c,
                &BookingFilter {
                    statuses: Some(vec![BookingStatus::Pending]),
                    ..Default::default()
                },
                None,
                i64::MAX,
            )?;
            rows.retain(|b| !is_overdue(b.status, from_db(b.start_at), now));
            describe(c, &actor, &rows, now)
        })
        .await
}
