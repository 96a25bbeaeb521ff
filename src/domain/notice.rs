//! Notifications as data: which kinds exist (and which a user may turn off), the facts each
//! message tells, the key that makes one message unique (its Message-ID is derived from it),
//! and the outbox's retry schedule. Writing the text is the mail adapter's; deciding who
//! hears what is the app's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{CalEvent, EventStatus};
use super::ids::BookingId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    BookingConfirmed,
    /// To the booker: the request waits for the coordination's approval.
    BookingPending,
    /// To the resource managers: a request to decide on.
    ApprovalRequested,
    BookingApproved,
    BookingRejected,
    BookingCancelled,
    BookingMoved,
    Reminder,
    AssignmentCreated,
    AssignmentChanged,
    AssignmentCancelled,
    StatementReady,
    /// To a user who asked for it: a link to choose a new password (never turned off).
    PasswordReset,
}

/// Whether a message invites to, or withdraws from, a calendar event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarMethod {
    Request,
    Cancel,
}

impl CalendarMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarMethod::Request => "REQUEST",
            CalendarMethod::Cancel => "CANCEL",
        }
    }
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 13] = [
        NoticeKind::BookingConfirmed,
        NoticeKind::BookingPending,
        NoticeKind::ApprovalRequested,
        NoticeKind::BookingApproved,
        NoticeKind::BookingRejected,
        NoticeKind::BookingCancelled,
        NoticeKind::BookingMoved,
        NoticeKind::Reminder,
        NoticeKind::AssignmentCreated,
        NoticeKind::AssignmentChanged,
        NoticeKind::AssignmentCancelled,
        NoticeKind::StatementReady,
        NoticeKind::PasswordReset,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::BookingConfirmed => "booking_confirmed",
            NoticeKind::BookingPending => "booking_pending",
            NoticeKind::ApprovalRequested => "approval_requested",
            NoticeKind::BookingApproved => "booking_approved",
            NoticeKind::BookingRejected => "booking_rejected",
            NoticeKind::BookingCancelled => "booking_cancelled",
            NoticeKind::BookingMoved => "booking_moved",
            NoticeKind::Reminder => "reminder",
            NoticeKind::AssignmentCreated => "assignment_created",
            NoticeKind::AssignmentChanged => "assignment_changed",
            NoticeKind::AssignmentCancelled => "assignment_cancelled",
            NoticeKind::StatementReady => "statement_ready",
            NoticeKind::PasswordReset => "password_reset",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// How the preferences page names it.
    pub fn label(self) -> &'static str {
        match self {
            NoticeKind::BookingConfirmed => "Réservation confirmée",
            NoticeKind::BookingPending => "Demande enregistrée, en attente de validation",
            NoticeKind::ApprovalRequested => "Demande à valider (gestionnaires)",
            NoticeKind::BookingApproved => "Demande validée",
            NoticeKind::BookingRejected => "Demande refusée",
            NoticeKind::BookingCancelled => "Réservation annulée",
            NoticeKind::BookingMoved => "Réservation déplacée",
            NoticeKind::Reminder => "Rappel avant le début",
            NoticeKind::AssignmentCreated => "Mise à disposition d'un salarié prévue",
            NoticeKind::AssignmentChanged => "Mise à disposition modifiée",
            NoticeKind::AssignmentCancelled => "Mise à disposition annulée",
            NoticeKind::StatementReady => "Relevé mensuel disponible",
            NoticeKind::PasswordReset => "Lien pour choisir un nouveau mot de passe",
        }
    }

    /// The calendar invitation the message carries, if any.
    pub fn calendar_method(self) -> Option<CalendarMethod> {
        match self {
            NoticeKind::BookingConfirmed
            | NoticeKind::BookingApproved
            | NoticeKind::BookingMoved
            | NoticeKind::AssignmentCreated
            | NoticeKind::AssignmentChanged => Some(CalendarMethod::Request),
            NoticeKind::BookingCancelled | NoticeKind::AssignmentCancelled => {
                Some(CalendarMethod::Cancel)
            }
            _ => None,
        }
    }

    /// Reminders are chosen with a lead time and a password reset is always sent; every
    /// other kind is on unless turned off.
    pub fn mutable(self) -> bool {
        !matches!(self, NoticeKind::Reminder | NoticeKind::PasswordReset)
    }

    /// Whether the message carries a secret (a one-time link) that no screen may show again.
    pub fn is_secret(self) -> bool {
        self == NoticeKind::PasswordReset
    }
}

/// Parses a stored list of muted kinds, ignoring names this version does not know.
pub fn parse_muted(raw: &str) -> Vec<NoticeKind> {
    raw.split(',').filter_map(NoticeKind::parse).collect()
}

pub fn format_muted(kinds: &[NoticeKind]) -> String {
    let mut names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// Reminder lead times a user may choose, in hours.
pub const REMINDER_HOURS: [i32; 6] = [1, 2, 4, 12, 24, 48];
/// The lead time of users who never chose.
pub const DEFAULT_REMINDER_HOURS: Option<i32> = Some(24);

/// One booking as a message tells it. Instants are UTC; the message shows them in `tz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingFacts {
    pub booking_id: BookingId,
    pub sequence: i32,
    pub resource_name: String,
    pub location: String,
    pub member_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub quantity: i32,
    pub purpose: String,
    /// Where the booking was before a move.
    #[serde(default)]
    pub previous: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub stamp: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementFacts {
    /// "2027-02".
    pub month: String,
    pub member_name: String,
    pub total_cents: i64,
    /// The hash of the closing: a month closed again after a reopening announces its new
    /// statement.
    #[serde(default)]
    pub closing: String,
}

/// Everything one message says, frozen when the event happened: the message sent an hour
/// later (after a retry) still tells what happened then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub recipient_name: String,
    /// The pole's time zone (IANA name), for the times in the text.
    pub tz: String,
    #[serde(default)]
    pub bookings: Vec<BookingFacts>,
    /// Who did it, when it was not the recipient (a manager cancelling, approving…).
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// The shared employee, for assignment notices.
    #[serde(default)]
    pub employee: Option<String>,
    #[serde(default)]
    pub statement: Option<StatementFacts>,
    /// Path of the page concerned, below the service's public URL.
    pub link: String,
    /// Whether the recipient has an account (and preferences to change).
    #[serde(default)]
    pub has_account: bool,
}

impl Notice {
    /// The events the attached invitation carries (none for kinds without one).
    pub fn events(&self) -> Vec<CalEvent> {
        let Some(method) = self.kind.calendar_method() else {
            return Vec::new();
        };
        self.bookings
            .iter()
            .map(|b| CalEvent {
                booking_id: b.booking_id,
                sequence: b.sequence,
                start: b.start,
                end: b.end,
                stamp: b.stamp,
                summary: match &self.employee {
                    Some(e) => format!("{e} — {}", b.member_name),
                    None => format!("{} — {}", b.resource_name, b.member_name),
                },
                location: Some(if b.location.trim().is_empty() {
                    b.resource_name.clone()
                } else {
                    b.location.clone()
                }),
                description: (!b.purpose.trim().is_empty())
                    .then(|| format!("Objet : {}", b.purpose.trim())),
                status: match method {
                    CalendarMethod::Request => EventStatus::Confirmed,
                    CalendarMethod::Cancel => EventStatus::Cancelled,
                },
            })
            .collect()
    }
}

/// `Message-ID` of the message queued under `event_key`: the same event always gets the same
/// one, so a message sent twice (a crash between sending and recording it) is one to the
/// receiving servers.
pub fn message_id(event_key: &str, domain: &str) -> String {
    let local: String = event_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("<{local}@{domain}>")
}

/// When to try again after `attempts` failed sends: `base` doubled after each failure, at
/// most six hours.
pub fn retry_delay(attempts: i32, base: Duration) -> Duration {
    const CAP: Duration = Duration::from_secs(6 * 3600);
    let exp = attempts.clamp(1, 30) as u32 - 1;
    base.checked_mul(1u32 << exp.min(20))
        .unwrap_or(CAP)
        .min(CAP)
}

/// After how many failed attempts a message is set aside (« en échec ») for an administrator.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_names_are_ignored() {
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
        }
        let muted = parse_muted("reminder,statement_ready,gone_kind,");
        assert_eq!(
            muted,
            vec![NoticeKind::Reminder, NoticeKind::StatementReady]
        );
        assert_eq!(format_muted(&muted), "reminder,statement_ready");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(30);
        assert_eq!(retry_delay(1, base), Duration::from_secs(30));
        assert_eq!(retry_delay(2, base), Duration::from_secs(60));
        assert_eq!(retry_delay(5, base), Duration::from_secs(480));
        assert_eq!(retry_delay(15, base), Duration::from_secs(6 * 3600));
        assert_eq!(retry_delay(i32::MAX, base), Duration::from_secs(6 * 3600));
        assert_eq!(retry_delay(0, base), Duration::from_secs(30));
    }

    #[test]
    fn message_ids_are_stable_and_safe() {
        assert_eq!(
            message_id("booking.12.s3.booking_moved.u5", "pole.example"),
            "<booking.12.s3.booking-moved.u5@pole.example>"
        );
        assert_eq!(message_id("a b<c>", "x"), "<a-b-c-@x>");
    }

    #[test]
    fn only_booking_changes_carry_invitations() {
        assert_eq!(
            NoticeKind::BookingCancelled.calendar_method(),
            Some(CalendarMethod::Cancel)
        );
        assert_eq!(NoticeKind::StatementReady.calendar_method(), None);
        assert_eq!(NoticeKind::BookingPending.calendar_method(), None);
    }
}
