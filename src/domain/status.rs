//! A booking's life: requested (`pending`, on resources that need approval) or `confirmed`;
//! then `cancelled` by its member or the coordination, or `rejected` by a manager — or
//! automatically, when a request is still undecided at its start.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::time::format_duration;
use super::violation::{Warning, WarningCode};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Pending,
    Confirmed,
    Cancelled,
    Rejected,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 4] = [
        BookingStatus::Pending,
        BookingStatus::Confirmed,
        BookingStatus::Cancelled,
        BookingStatus::Rejected,
    ];
    /// The statuses that hold a slot.
    pub const ACTIVE: [BookingStatus; 2] = [BookingStatus::Pending, BookingStatus::Confirmed];

    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }

    /// For filters: "En attente", "Confirmées"…
    pub fn plural_label(self) -> &'static str {
        match self {
            BookingStatus::Pending => "En attente",
            BookingStatus::Confirmed => "Confirmées",
            BookingStatus::Cancelled => "Annulées",
            BookingStatus::Rejected => "Refusées",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BookingStatus::Pending => "en attente de validation",
            BookingStatus::Confirmed => "confirmée",
            BookingStatus::Cancelled => "annulée",
            BookingStatus::Rejected => "refusée",
        }
    }
}

/// The reason recorded on a request rejected because nobody decided before its start.
pub const AUTO_REJECTION_REASON: &str = "Non validée avant son début : refusée automatiquement.";

/// A request is overdue once its start has come undecided: it can no longer be approved and
/// is rejected with [`AUTO_REJECTION_REASON`].
pub fn is_overdue(status: BookingStatus, start: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == BookingStatus::Pending && start <= now
}

/// Rejected with nobody's decision: the automatic rejection of an overdue request.
pub fn auto_rejected(status: BookingStatus, decided_by_someone: bool) -> bool {
    status == BookingStatus::Rejected && !decided_by_someone
}

/// What has begun is history (it is billed as it was): an active booking moves only before
/// its start.
pub fn may_move(status: BookingStatus, start: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status.is_active() && start > now
}

/// The status of a booking once moved: on a resource that needs approval, a new slot or
/// quantity is a new request unless the one moving it decides requests (an approval was given
/// for the slot asked, not for any other). A change of purpose alone keeps the status.
pub fn status_after_move(
    current: BookingStatus,
    requires_approval: bool,
    mover_decides: bool,
    slot_changed: bool,
) -> BookingStatus {
    if current == BookingStatus::Confirmed && requires_approval && !mover_decides && slot_changed {
        BookingStatus::Pending
    } else {
        current
    }
}

/// An active booking can be cancelled until its end (a vehicle brought back early).
pub fn may_cancel(status: BookingStatus, end: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status.is_active() && end > now
}

/// Below this lead time, a request may well start before anyone decides on it.
pub const APPROVAL_LEAD_HOURS: i64 = 24;

/// A warning for a request that needs approval and starts within [`APPROVAL_LEAD_HOURS`].
pub fn approval_warning(
    status: BookingStatus,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Warning> {
    let lead = start - now;
    (status == BookingStatus::Pending && lead < Duration::hours(APPROVAL_LEAD_HOURS)).then(|| {
        Warning {
            code: WarningCode::ApprovalDeadlineNear,
            message: format!(
                "Cette demande doit être validée par la coordination avant son début, dans {} ; sinon elle sera refusée automatiquement.",
                format_duration(lead.max(Duration::zero()))
            ),
            measure: None,
        }
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_approved_booking_moved_by_a_member_is_asked_again() {
        use BookingStatus::*;
        assert_eq!(status_after_move(Confirmed, true, false, true), Pending);
        // The one who decides moves it as approved; a purpose alone changes nothing; a
        // resource without approval never asks.
        assert_eq!(status_after_move(Confirmed, true, true, true), Confirmed);
        assert_eq!(status_after_move(Confirmed, true, false, false), Confirmed);
        assert_eq!(status_after_move(Confirmed, false, false, true), Confirmed);
        assert_eq!(status_after_move(Pending, true, false, true), Pending);
    }
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn statuses_round_trip_and_only_two_hold_a_slot() {
        for s in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!(BookingStatus::Pending.is_active() && BookingStatus::Confirmed.is_active());
        assert!(!BookingStatus::Cancelled.is_active() && !BookingStatus::Rejected.is_active());
        assert_eq!(BookingStatus::parse("annulée"), None);
    }

    #[test]
    fn a_request_is_overdue_from_its_start_exactly() {
        let start = t("2027-01-05T09:00:00Z");
        let p = BookingStatus::Pending;
        assert!(!is_overdue(p, start, t("2027-01-05T08:59:59Z")));
        assert!(is_overdue(p, start, start));
        assert!(!is_overdue(BookingStatus::Confirmed, start, start));
    }

    #[test]
    fn bookings_move_before_their_start_and_cancel_before_their_end() {
        let (start, end) = (t("2027-01-05T09:00:00Z"), t("2027-01-05T11:00:00Z"));
        let c = BookingStatus::Confirmed;
        assert!(may_move(c, start, t("2027-01-05T08:59:59Z")));
        assert!(!may_move(c, start, start));
        assert!(may_cancel(c, end, start));
        assert!(!may_cancel(c, end, end));
        assert!(!may_move(
            BookingStatus::Cancelled,
            start,
            t("2027-01-01T00:00:00Z")
        ));
        assert!(auto_rejected(BookingStatus::Rejected, false));
        assert!(!auto_rejected(BookingStatus::Rejected, true));
    }

    #[test]
    fn warns_when_the_decision_window_is_short() {
        let now = t("2027-01-04T08:00:00Z");
        let p = BookingStatus::Pending;
        let w = approval_warning(p, t("2027-01-05T07:59:00Z"), now).unwrap();
        assert_eq!(w.code, WarningCode::ApprovalDeadlineNear);
        assert!(w.message.contains("23 h 59 min"), "{}", w.message);
        assert!(approval_warning(p, t("2027-01-05T08:00:00Z"), now).is_none());
        assert!(approval_warning(BookingStatus::Confirmed, now, now).is_none());
    }
}
