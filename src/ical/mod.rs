//! iCalendar (RFC 5545) text of bookings: the feeds calendars subscribe to and the
//! invitations attached to mails. Renders `domain::calendar` events and reads nothing.
//!
//! Written with the `icalendar` crate (folding at 75 octets on UTF-8 boundaries, escaping).
//! Times are UTC (`…Z`), so no VTIMEZONE is needed and a series across a change of time is
//! exact. Each occurrence of a series is its own event with its own UID: occurrences are
//! moved and cancelled one by one, and the feed stays one consistent shape.

use icalendar::{Calendar, Component, Event, EventLike, EventStatus as IcsStatus, Property};

use crate::domain::calendar::{CalEvent, EventStatus};
use crate::domain::notice::CalendarMethod;

const PRODID: &str = "-//Mutualise//Reservations//FR";

/// The stable UID of a booking's event: the same in feeds and invitations, so a calendar
/// that has both keeps one event.
pub fn uid(booking_id: i64, domain: &str) -> String {
    format!("booking-{booking_id}@{domain}")
}

/// Someone named in an invitation.
#[derive(Debug, Clone, Copy)]
pub struct Party<'a> {
    pub name: &'a str,
    pub email: &'a str,
}

/// A feed: every event, no method.
pub fn calendar(name: &str, events: &[CalEvent], uid_domain: &str) -> String {
    write(name, events, None, uid_domain)
}

/// An invitation (iTIP, RFC 5546): the events with their organiser (the pole) and the
/// attendee (the recipient), to be added or updated (`REQUEST`) or removed (`CANCEL`).
pub fn invitation(
    name: &str,
    events: &[CalEvent],
    method: CalendarMethod,
    uid_domain: &str,
    organizer: Party,
    attendee: Party,
) -> String {
    write(
        name,
        events,
        Some((method, organizer, attendee)),
        uid_domain,
    )
}

fn mailto(p: Party, role: &str) -> Property {
    let mut prop = Property::new(role, format!("mailto:{}", p.email));
    prop.add_parameter("CN", p.name);
    if role == "ATTENDEE" {
        prop.add_parameter("RSVP", "FALSE");
    }
    prop.done()
}

fn write(
    name: &str,
    events: &[CalEvent],
    itip: Option<(CalendarMethod, Party, Party)>,
    uid_domain: &str,
) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new("PRODID", PRODID));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    if let Some((m, _, _)) = itip {
        cal.append_property(Property::new("METHOD", m.as_str()));
    }
    cal.name(name);
    for e in events {
        let mut ev = event(e, uid_domain);
        if let Some((_, organizer, attendee)) = itip {
            ev.append_property(mailto(organizer, "ORGANIZER"));
            ev.append_property(mailto(attendee, "ATTENDEE"));
        }
        cal.push(ev);
    }
    cal.to_string()
}

fn event(e: &CalEvent, uid_domain: &str) -> Event {
    let mut ev = Event::with_uid(&uid(e.booking_id.0, uid_domain));
    ev.timestamp(e.stamp)
        .sequence(e.sequence.max(0) as u32)
        .starts(e.start)
        .ends(e.end)
        .summary(&e.summary)
        .status(match e.status {
            EventStatus::Confirmed => IcsStatus::Confirmed,
            EventStatus::Tentative => IcsStatus::Tentative,
            EventStatus::Cancelled => IcsStatus::Cancelled,
        });
    if let Some(l) = &e.location {
        ev.location(l);
    }
    if let Some(d) = &e.description {
        ev.description(d);
    }
    ev.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::BookingId;
    use chrono::{TimeZone, Utc};

    fn sample(description: &str) -> CalEvent {
        CalEvent {
            booking_id: BookingId(42),
            sequence: 3,
            start: Utc.with_ymd_and_hms(2027, 3, 28, 7, 30, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2027, 3, 28, 9, 0, 0).unwrap(),
            stamp: Utc.with_ymd_and_hms(2027, 3, 1, 8, 0, 0).unwrap(),
            summary: "Salle Jaurès — Coop, « A; B »".into(),
            location: Some("1er étage".into()),
            description: Some(description.into()),
            status: EventStatus::Cancelled,
        }
    }

    #[test]
    fn writes_utc_times_escapes_and_folds_on_utf8_boundaries() {
        let long = "é".repeat(100) + "\nfin, vraiment; oui";
        let party = Party {
            name: "Pôle",
            email: "pole@pole.example",
        };
        let text = invitation(
            "Salle",
            &[sample(&long)],
            CalendarMethod::Cancel,
            "pole.example",
            party,
            party,
        );
        assert!(
            text.contains("ORGANIZER;CN=Pôle:mailto:pole@pole.example\r\n"),
            "{text}"
        );
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
        assert!(text.contains("METHOD:CANCEL\r\n"));
        assert!(text.contains("UID:booking-42@pole.example\r\n"));
        assert!(text.contains("SEQUENCE:3\r\n"));
        assert!(text.contains("DTSTART:20270328T073000Z\r\n"), "{text}");
        assert!(text.contains("DTSTAMP:20270301T080000Z\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n"));
        assert!(
            text.contains("SUMMARY:Salle Jaurès — Coop\\, « A\\; B »\r\n"),
            "{text}"
        );
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "line of {} octets: {line}", line.len());
        }
        // Unfolded, the description is whole, its newline escaped.
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!(
            "DESCRIPTION:{}\\nfin\\, vraiment\\; oui\r\n",
            "é".repeat(100)
        )));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn the_same_events_give_the_same_text() {
        let a = calendar("x", &[sample("d")], "d");
        let b = calendar("x", &[sample("d")], "d");
        assert_eq!(a, b);
        assert!(!a.contains("METHOD"));
    }
}
