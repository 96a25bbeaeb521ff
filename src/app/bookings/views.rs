//! What the screens and the API show of a booking, with what the viewer may do to it.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::authz::{self, Actor};
use crate::domain::ids::{BookingId, MemberId, ResourceId, SeriesId};
use crate::domain::labour::Activity;
use crate::domain::resource::ResourceKind;
use crate::domain::status::{approval_warning, is_overdue, may_cancel, may_move, BookingStatus};
use crate::domain::violation::Warning;
use crate::error::{AppError, AppResult};
use crate::store::bookings::BookingRow;
use crate::store::resources::{self as resource_store, ResourceLabel};
use crate::store::{from_db, members as member_store, DbConn};

/// A booking as one actor sees it. Purpose, beneficiary and decision reason only for the
/// member's own people and the pole's team; the `can_*` flags are the app's answer to "may
/// this actor do that now", so pages never re-derive policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct BookingView {
    pub id: BookingId,
    pub resource_id: ResourceId,
    pub resource_name: String,
    pub resource_kind: ResourceKind,
    pub member_id: MemberId,
    pub member_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub quantity: i32,
    pub status: BookingStatus,
    /// Work at the member; for shared employees also training or an absence.
    #[serde(default = "work")]
    pub activity: Activity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_id: Option<SeriesId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The actor may move it now (active, not begun, theirs to change).
    #[serde(default)]
    pub can_move: bool,
    /// The actor may cancel it now (active, not over, theirs to change).
    #[serde(default)]
    pub can_cancel: bool,
    /// The actor may approve or reject it now (a request not yet begun).
    #[serde(default)]
    pub can_decide: bool,
    /// What is worth knowing about it now (a request to decide before its near start).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

fn work() -> Activity {
    Activity::Work
}

/// The names a view shows beside a row.
pub(super) struct Labels<'a> {
    pub resource_name: &'a str,
    pub resource: authz::Bookable,
    pub member_name: &'a str,
}

impl BookingView {
    pub(super) fn of(b: &BookingRow, l: Labels, actor: &Actor, now: DateTime<Utc>) -> Self {
        let details = authz::can_see_booking_details(actor, b.member_id);
        let (start, end) = (from_db(b.start_at), from_db(b.end_at));
        let mine = authz::can_modify_booking(actor, b.member_id, l.resource);
        BookingView {
            id: b.id,
            resource_id: b.resource_id,
            resource_name: l.resource_name.to_string(),
            resource_kind: l.resource.kind,
            member_id: b.member_id,
            member_name: l.member_name.to_string(),
            start,
            end,
            quantity: b.quantity,
            status: b.status,
            activity: b.activity,
            series_id: b.series_id,
            purpose: details.then(|| b.purpose.clone()),
            beneficiary: b.beneficiary.clone().filter(|_| details),
            decision_reason: b.decision_reason.clone().filter(|_| details),
            cancelled_at: b.cancelled_at.map(from_db),
            can_move: mine && may_move(b.status, start, now),
            can_cancel: mine && may_cancel(b.status, end, now),
            can_decide: b.status == BookingStatus::Pending
                && !is_overdue(b.status, start, now)
                && authz::can_decide(actor),
            warnings: approval_warning(b.status, start, now).into_iter().collect(),
        }
    }
}

/// Rows as the actor may see them, with resource and member names (three queries whatever
/// the number of rows).
pub(crate) fn describe(
    conn: &mut DbConn,
    actor: &Actor,
    rows: &[BookingRow],
    now: DateTime<Utc>,
) -> AppResult<Vec<BookingView>> {
    let member_ids: Vec<MemberId> = rows
        .iter()
        .map(|b| b.member_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let members: HashMap<MemberId, String> = member_store::names(conn, &member_ids)?
        .into_iter()
        .collect();
    let resource_ids: Vec<ResourceId> = rows
        .iter()
        .map(|b| b.resource_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let resources: HashMap<ResourceId, ResourceLabel> =
        resource_store::labels(conn, &resource_ids)?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
    rows.iter()
        .map(|b| {
            // Foreign keys guarantee both exist.
            let resource = resources.get(&b.resource_id).ok_or_else(|| {
                AppError::internal(format!("resource {} vanished", b.resource_id))
            })?;
            let member_name = members
                .get(&b.member_id)
                .ok_or_else(|| AppError::internal(format!("member {} vanished", b.member_id)))?;
            Ok(BookingView::of(
                b,
                Labels {
                    resource_name: &resource.name,
                    resource: authz::Bookable {
                        kind: resource.kind,
                        employer: resource.employer_member_id,
                    },
                    member_name,
                },
                actor,
                now,
            ))
        })
        .collect()
}
