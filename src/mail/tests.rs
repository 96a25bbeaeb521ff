//! Snapshots of every kind of message: text, HTML and invitation, compared with the files in
//! `tests/snapshots/mail/` (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate change).

use chrono::{TimeZone, Utc};

use super::*;
use crate::domain::ids::BookingId;
use crate::domain::notice::StatementFacts;

fn ctx() -> MailContext {
    MailContext {
        pole_name: "Pôle Sud-Loire".into(),
        public_url: "https://mutualise.example:8443".into(),
        from_address: "ne-pas-repondre@mutualise.example".into(),
    }
}

fn booking(id: i64, day: u32) -> BookingFacts {
    BookingFacts {
        booking_id: BookingId(id),
        sequence: 1,
        resource_name: "Salle Jaurès".into(),
        location: "Bâtiment A, 1er étage".into(),
        member_name: "Coop « Les Ateliers », SCIC".into(),
        start: Utc.with_ymd_and_hms(2027, 3, day, 8, 30, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2027, 3, day, 10, 0, 0).unwrap(),
        quantity: 1,
        purpose: "Assemblée générale; budget, vote".into(),
        previous: None,
        stamp: Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap(),
    }
}

fn notice(kind: NoticeKind) -> Notice {
    Notice {
        kind,
        recipient_name: "Awa Diallo".into(),
        tz: "Europe/Paris".into(),
        bookings: vec![booking(12, 9)],
        by: None,
        reason: None,
        employee: None,
        statement: None,
        link: "/bookings/12".into(),
        has_account: true,
    }
}

fn render(n: &Notice) -> String {
    let c = compose(n, "awa@ateliers.example", &ctx());
    let mut out = format!(
        "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}\n",
        c.subject, c.text, c.html
    );
    if let Some((method, ics)) = c.calendar {
        out.push_str(&format!(
            "--- calendar ({}) ---\n{}",
            method.as_str(),
            ics.replace("\r\n", "\n")
        ));
    }
    out
}

fn check(name: &str, n: &Notice) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/mail")
        .join(format!("{name}.txt"));
    let got = render(n);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert_eq!(got, want, "{name} differs from {}", path.display());
}

#[test]
fn snapshots_of_every_kind() {
    check("booking_confirmed", &notice(NoticeKind::BookingConfirmed));
    let mut series = notice(NoticeKind::BookingConfirmed);
    series.bookings.push(booking(13, 30));
    check("series_confirmed", &series);
    check("booking_pending", &notice(NoticeKind::BookingPending));
    let mut ask = notice(NoticeKind::ApprovalRequested);
    ask.recipient_name = "Gestion des salles".into();
    ask.by = Some("Awa Diallo".into());
    ask.link = "/approvals".into();
    check("approval_requested", &ask);
    let mut rejected = notice(NoticeKind::BookingRejected);
    rejected.by = Some("Marc Lefèvre".into());
    rejected.reason = Some("Salle réservée pour le conseil d'administration.".into());
    check("booking_rejected", &rejected);
    let mut cancelled = notice(NoticeKind::BookingCancelled);
    cancelled.by = Some("Marc Lefèvre".into());
    cancelled.bookings[0].sequence = 2;
    check("booking_cancelled", &cancelled);
    let mut moved = notice(NoticeKind::BookingMoved);
    moved.bookings[0].previous = Some((
        Utc.with_ymd_and_hms(2027, 3, 8, 8, 30, 0).unwrap(),
        Utc.with_ymd_and_hms(2027, 3, 8, 10, 0, 0).unwrap(),
    ));
    check("booking_moved", &moved);
    check("reminder", &notice(NoticeKind::Reminder));
    let mut assignment = notice(NoticeKind::AssignmentCreated);
    assignment.employee = Some("Julien Martin".into());
    assignment.has_account = false;
    assignment.recipient_name = "Julien Martin".into();
    assignment.by = Some("Claire (GE Sud-Loire)".into());
    check("assignment_created", &assignment);
    let mut statement = notice(NoticeKind::StatementReady);
    statement.bookings.clear();
    statement.statement = Some(StatementFacts {
        month: "2027-02".into(),
        member_name: "Coop « Les Ateliers », SCIC".into(),
        total_cents: 123_456,
        closing: "abc".into(),
    });
    statement.link = "/allocations/2027-02/members/3".into();
    check("statement_ready", &statement);
}

#[test]
fn user_text_is_escaped_in_html() {
    let mut n = notice(NoticeKind::BookingConfirmed);
    n.bookings[0].purpose = "<script>alert(1)</script>".into();
    let c = compose(&n, "awa@ateliers.example", &ctx());
    assert!(!c.html.contains("<script>"));
    assert!(c.html.contains("&lt;script&gt;"));
    assert!(c.text.contains("<script>alert(1)</script>"));
}

#[test]
fn uid_domain_is_the_public_host() {
    assert_eq!(ctx().uid_domain(), "mutualise.example");
    assert_eq!(host_of("http://[::1]:8080/x"), "::1");
    assert_eq!(host_of("pole.example"), "pole.example");
    assert_eq!(host_of(""), "localhost");
}
