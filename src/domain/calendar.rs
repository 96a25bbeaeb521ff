//! Bookings as calendar events (RFC 5545 terms, no text format): what a subscribed calendar
//! or an invitation shows of one booking, seen by one person.

use chrono::{DateTime, Duration, Utc};

use super::ids::BookingId;
use super::status::BookingStatus;

/// How long a cancelled or rejected booking stays in feeds, marked cancelled, so that the
/// calendars subscribed to them remove it.
pub const CANCELLED_KEPT_DAYS: i64 = 30;

/// How far back feeds go: calendars keep what they already have.
pub const FEED_PAST_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

impl EventStatus {
    pub fn of(status: BookingStatus) -> EventStatus {
        match status {
            BookingStatus::Confirmed => EventStatus::Confirmed,
            BookingStatus::Pending => EventStatus::Tentative,
            BookingStatus::Cancelled | BookingStatus::Rejected => EventStatus::Cancelled,
        }
    }
}

/// One event: a booking as a calendar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalEvent {
    pub booking_id: BookingId,
    /// Grows on every change of the booking: calendars replace the older versions.
    pub sequence: i32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// When this version was written (DTSTAMP): the booking's last change.
    pub stamp: DateTime<Utc>,
    pub summary: String,
    pub location: Option<String>,
    pub description: Option<String>,
    pub status: EventStatus,
}

/// What a booking shows to the person the calendar is for.
pub struct EventFacts<'a> {
    pub booking_id: BookingId,
    pub sequence: i32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub stamp: DateTime<Utc>,
    pub status: BookingStatus,
    pub resource_name: &'a str,
    pub location: &'a str,
    pub member_name: &'a str,
    pub purpose: &'a str,
    pub quantity: i32,
    /// The person may see who booked and why; otherwise the event only says « Réservé », as
    /// the pages do for other members' bookings.
    pub detailed: bool,
}

impl CalEvent {
    pub fn of(f: &EventFacts) -> CalEvent {
        let location = Some(f.location.trim())
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .or_else(|| Some(f.resource_name.to_string()));
        let (summary, description) = if f.detailed {
            let mut summary = format!("{} — {}", f.resource_name, f.member_name);
            if f.quantity > 1 {
                summary.push_str(&format!(" ({} unités)", f.quantity));
            }
            let mut lines = vec![
                format!("Ressource : {}", f.resource_name),
                format!("Structure : {}", f.member_name),
                format!("État : {}", f.status.label()),
            ];
            if !f.purpose.trim().is_empty() {
                lines.push(format!("Objet : {}", f.purpose.trim()));
            }
            (summary, Some(lines.join("\n")))
        } else {
            (format!("{} — Réservé", f.resource_name), None)
        };
        CalEvent {
            booking_id: f.booking_id,
            sequence: f.sequence,
            start: f.start,
            end: f.end,
            stamp: f.stamp,
            summary,
            location,
            description,
            status: EventStatus::of(f.status),
        }
    }
}

/// Whether a booking belongs in a feed read at `now`: active ones from `FEED_PAST_DAYS` ago,
/// cancelled or rejected ones for `CANCELLED_KEPT_DAYS` after the change.
pub fn in_feed(
    status: BookingStatus,
    end: DateTime<Utc>,
    changed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    if end < now - Duration::days(FEED_PAST_DAYS) {
        return false;
    }
    status.is_active() || changed_at >= now - Duration::days(CANCELLED_KEPT_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, d, h, 0, 0).unwrap()
    }

    fn facts(detailed: bool) -> EventFacts<'static> {
        EventFacts {
            booking_id: BookingId(7),
            sequence: 2,
            start: t(10, 9),
            end: t(10, 10),
            stamp: t(1, 8),
            status: BookingStatus::Pending,
            resource_name: "Salle Jaurès",
            location: "",
            member_name: "Coop, « Les Ateliers »",
            purpose: "AG",
            quantity: 1,
            detailed,
        }
    }

    #[test]
    fn other_members_see_only_that_it_is_booked() {
        let e = CalEvent::of(&facts(false));
        assert_eq!(e.summary, "Salle Jaurès — Réservé");
        assert_eq!(e.description, None);
        assert_eq!(e.location.as_deref(), Some("Salle Jaurès"));
        let e = CalEvent::of(&facts(true));
        assert_eq!(e.summary, "Salle Jaurès — Coop, « Les Ateliers »");
        assert!(e.description.unwrap().contains("Objet : AG"));
        assert_eq!(e.status, EventStatus::Tentative);
    }

    #[test]
    fn cancelled_bookings_stay_thirty_days() {
        let now = t(31, 12);
        let changed = now - Duration::days(CANCELLED_KEPT_DAYS);
        assert!(in_feed(BookingStatus::Cancelled, now, changed, now));
        assert!(!in_feed(
            BookingStatus::Cancelled,
            now,
            changed - Duration::seconds(1),
            now
        ));
        assert!(in_feed(
            BookingStatus::Confirmed,
            now,
            changed - Duration::days(400),
            now
        ));
        let old_end = now - Duration::days(FEED_PAST_DAYS) - Duration::seconds(1);
        assert!(!in_feed(BookingStatus::Confirmed, old_end, now, now));
    }
}
