//! Closing a month: the treasurer freezes it, and no booking of it may change afterwards.
//!
//! A booking that commits concurrently cannot land in a month being closed: every booking
//! write takes the months it touches in shared mode before checking them, and the close takes
//! its month in exclusive mode, then counts what it freezes (`store::months`). On SQLite,
//! writers are serialised anyway. Decisions on requests of a closed month are refused too.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::allocation;
use super::authz::{self, Actor};
use super::bookings::BookingEnv;
use super::notify;
use super::App;
use crate::domain::ids::UserId;
use crate::domain::month::{label_fr, Month};
use crate::domain::statement::chain_hash;
use crate::domain::status::BookingStatus;
use crate::error::{AppError, AppResult};
use crate::store::allocation as alloc_store;
use crate::store::bookings::{self as booking_store, BookingFilter};
use crate::store::{from_db, months as store, to_db};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthClosing {
    #[schema(value_type = String, example = "2027-02")]
    pub month: Month,
    pub closed_at: DateTime<Utc>,
    pub closed_by: Option<UserId>,
    /// Confirmed bookings of the month (overlapping it) when it was closed: they are frozen.
    pub frozen_bookings: i64,
    /// The statement stored: its total, and its hash chained to the previous closed month's.
    pub total_cents: i64,
    pub members: usize,
    pub previous_hash: String,
    pub hash: String,
}

/// Closes a month for good. Requests still awaiting a decision must be decided first: a
/// closed month holds only confirmed bookings, so nothing in it changes afterwards (not even
/// the automatic rejection of a request undecided at its start).
pub async fn close(app: &App, actor: &Actor, month: Month) -> AppResult<MonthClosing> {
    authz::require(authz::can_close_months(actor))?;
    let (by, now, tz) = (actor.recorded_id(), app.now(), app.tz());
    let (bounds, today) = (month.bounds(tz), app.today());
    let env = BookingEnv::of(app);
    app.db()
        .write(move |c| {
            store::lock_chain(c)?;
            store::lock_for_close(c, month)?;
            if store::find(c, month)?.is_some() {
                return Err(AppError::Conflict {
                    code: "month_closed",
                    detail: format!("Le mois de {} est déjà clôturé.", label_fr(month)),
                });
            }
            // The chain runs in month order with no gap: once a month is closed, the next one
            // to close is the month after the last closed one.
            let closed = alloc_store::closed_months(c)?;
            if let Some(last) = closed.last() {
                if last.month > month {
                    return Err(AppError::Conflict {
                        code: "month_order",
                        detail: format!(
                            "{} est déjà clôturé : les mois se clôturent dans l'ordre. Rouvrez d'abord les mois suivants.",
                            label_fr(last.month)
                        ),
                    });
                }
                if last.month.next() != month {
                    return Err(AppError::Conflict {
                        code: "month_order",
                        detail: format!(
                            "Clôturez d'abord {} : les mois se clôturent dans l'ordre, sans trou.",
                            label_fr(last.month.next())
                        ),
                    });
                }
            }
            // A month closes once over: its bookings are all past, nothing more happens in it.
            if !month.is_over(now, tz) {
                return Err(AppError::Conflict {
                    code: "month_not_over",
                    detail: format!(
                        "Le mois de {} n'est pas terminé : il se clôture à partir du {}, quand plus rien ne peut y changer.",
                        label_fr(month),
                        crate::domain::time::format_date_fr(month.next().first_day())
                    ),
                });
            }
            let previous_hash = closed.last().map(|m| m.hash.clone()).unwrap_or_default();
            let in_month = |status| BookingFilter {
                from: Some(to_db(bounds.start)),
                to: Some(to_db(bounds.end)),
                statuses: Some(vec![status]),
                ..Default::default()
            };
            let pending = booking_store::count(c, &in_month(BookingStatus::Pending))?;
            if pending > 0 {
                return Err(AppError::Conflict {
                    code: "pending_requests",
                    detail: format!(
                        "{pending} demande(s) de {} attendent encore une décision : validez-les ou refusez-les avant de clôturer le mois.",
                        label_fr(month)
                    ),
                });
            }
            let frozen_bookings = booking_store::count(c, &in_month(BookingStatus::Confirmed))?;
            allocation::generate_recurring_on(c, month, now)?;
            let statement = allocation::compute_on(c, month, tz, today)?;
            if let Some(p) = statement.problems.first() {
                return Err(AppError::Conflict {
                    code: "unsplittable_cost",
                    detail: format!(
                        "La dépense « {} » ne peut être répartie : {} Corrigez-la avant de clôturer.",
                        p.label, p.message
                    ),
                });
            }
            // Hashed and stored in member id order, whatever order the pages show.
            let mut members = statement.members;
            members.sort_by_key(|m| m.member_id);
            let hash = chain_hash(&previous_hash, month, &members);
            let closing = store::close(c, month, by, to_db(now))?;
            alloc_store::store_statement(
                c,
                month,
                statement.total_cents,
                &previous_hash,
                &hash,
                &allocation::to_stored(month, &members),
            )?;
            let totals: Vec<_> = members
                .iter()
                .map(|m| (m.member_id, m.member_name.clone(), m.total_cents))
                .collect();
            notify::statements_ready_tx(c, &month.to_string(), &hash, &totals, &env)?;
            Ok(MonthClosing {
                month: closing.month,
                closed_at: from_db(closing.closed_at),
                closed_by: closing.closed_by,
                frozen_bookings,
                total_cents: statement.total_cents,
                members: members.len(),
                previous_hash,
                hash,
            })
        })
        .await
}

/// Reopens the last closed month (administrators only, with a reason, recorded with the hash
/// of the statement set aside). Its statement is computed again until it is closed anew.
pub async fn reopen(app: &App, actor: &Actor, month: Month, reason: &str) -> AppResult<()> {
    authz::require(authz::can_reopen_months(actor))?;
    let reason = crate::domain::validation::required_text(reason, 500)
        .map_err(|m| AppError::validation("reason", m))?;
    let (by, now) = (actor.recorded_id(), app.now());
    app.db()
        .write(move |c| {
            store::lock_chain(c)?;
            store::lock_for_close(c, month)?;
            let closed = alloc_store::closed_months(c)?;
            let Some(this) = closed.iter().find(|m| m.month == month) else {
                return Err(AppError::Conflict {
                    code: "month_open",
                    detail: format!("Le mois de {} n'est pas clôturé.", label_fr(month)),
                });
            };
            if let Some(later) = closed.iter().find(|m| m.month > month) {
                return Err(AppError::Conflict {
                    code: "month_order",
                    detail: format!(
                        "{} est clôturé après lui : rouvrez d'abord le dernier mois clôturé.",
                        label_fr(later.month)
                    ),
                });
            }
            alloc_store::reopen(c, month, by, to_db(now), &reason, &this.hash)
        })
        .await
}

/// What `verify-statements` found for one closed month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainCheck {
    #[schema(value_type = String)]
    pub month: Month,
    pub ok: bool,
    /// Closed before statements were stored: nothing to verify.
    pub legacy: bool,
    pub hash: String,
    /// Why the month fails, in French.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Recomputes every closed month's hash from its stored lines and the previous month's hash.
/// Months closed before statements were stored (empty hash) may only precede the others.
pub(crate) fn verify_on(conn: &mut crate::store::DbConn) -> AppResult<Vec<ChainCheck>> {
    let mut previous = String::new();
    let mut out = Vec::new();
    for m in alloc_store::closed_months(conn)? {
        let problem = if m.hash.is_empty() {
            (!previous.is_empty()).then(|| {
                "empreinte effacée : un mois clôturé après la mise en place des relevés n'en a plus"
                    .to_string()
            })
        } else {
            match allocation::stored_members(conn, m.month, None)? {
                Err(why) => Some(format!("ligne enregistrée altérée ({why})")),
                Ok(members) => {
                    let total: i64 = members.iter().map(|s| s.total_cents).sum();
                    if m.previous_hash != previous {
                        Some(
                            "le maillon précédent ne correspond pas au mois clôturé avant lui"
                                .into(),
                        )
                    } else if chain_hash(&previous, m.month, &members) != m.hash {
                        Some("les lignes enregistrées ne correspondent plus à l'empreinte de la clôture".into())
                    } else if total != m.total_cents {
                        Some("le total enregistré ne correspond pas aux lignes".into())
                    } else {
                        None
                    }
                }
            }
        };
        out.push(ChainCheck {
            month: m.month,
            ok: problem.is_none(),
            legacy: m.hash.is_empty(),
            hash: m.hash.clone(),
            problem,
        });
        previous = m.hash;
    }
    Ok(out)
}

pub async fn verify(app: &App, actor: &Actor) -> AppResult<Vec<ChainCheck>> {
    authz::require(authz::can_manage_allocation(actor))?;
    app.db().run(verify_on).await
}

/// Every recorded reopening, latest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReopeningView {
    #[schema(value_type = String)]
    pub month: Month,
    pub reopened_by: Option<UserId>,
    pub reopened_at: DateTime<Utc>,
    pub reason: String,
    pub statement_hash: String,
}

pub async fn reopenings(app: &App, actor: &Actor) -> AppResult<Vec<ReopeningView>> {
    authz::require(authz::can_manage_allocation(actor))?;
    app.db()
        .run(|c| {
            Ok(alloc_store::reopenings(c, None)?
                .into_iter()
                .map(|r| ReopeningView {
                    month: r.month,
                    reopened_by: r.reopened_by,
                    reopened_at: from_db(r.reopened_at),
                    reason: r.reason,
                    statement_hash: r.statement_hash,
                })
                .collect())
        })
        .await
}
