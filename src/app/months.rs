//! Closing a month: the treasurer freezes it, and no booking of it may change afterwards.
//!
//! A booking that commits concurrently cannot land in a month being closed: every booking
//! write takes the months it touches in shared mode before checking them, and the close takes
//! its month in exclusive mode, then counts what it freezes (`store::months`). On SQLite,
//! writers are serialised anyway. Decisions on requests of a closed month are refused too.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::authz::{self, Actor};
use super::App;
use crate::domain::ids::UserId;
use crate::domain::month::{label_fr, Month};
use crate::domain::status::BookingStatus;
use crate::error::{AppError, AppResult};
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
}

/// Closes a month for good. Requests still awaiting a decision must be decided first: a
/// closed month holds only confirmed bookings, so nothing in it changes afterwards (not even
/// the automatic rejection of a request undecided at its start).
pub async fn close(app: &App, actor: &Actor, month: Month) -> AppResult<MonthClosing> {
    authz::require(authz::can_close_months(actor))?;
    let (by, now, bounds) = (actor.user_id, app.now(), month.bounds(app.tz()));
    app.db()
        .write(move |c| {
            store::lock_for_close(c, month)?;
            if store::find(c, month)?.is_some() {
                return Err(AppError::Conflict {
                    code: "month_closed",
                    detail: format!("Le mois de {} est déjà clôturé.", label_fr(month)),
                });
            }
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
            let closing = store::close(c, month, by, to_db(now))?;
            Ok(MonthClosing {
                month: closing.month,
                closed_at: from_db(closing.closed_at),
                closed_by: closing.closed_by,
                frozen_bookings,
            })
        })
        .await
}
