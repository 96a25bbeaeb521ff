//! Mail and calendars against real peers: a real SMTP server (aiosmtpd) receives what the
//! outbox worker sends; feeds are read by an independent iCalendar parser (Python's
//! `icalendar`). On both backends.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::mail::{assert_folded, parse_ics, SmtpSink};
use common::{book, pole, TestApp};
use mutualise::app::outbox::{self, Courier};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The configuration of an app that sends through `sink`, retrying after a second.
fn mail_env(sink: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("SMTP_URL", sink.url()),
        ("MUTUALISE_MAIL_RETRY_SECONDS", "1".into()),
        ("MUTUALISE_PUBLIC_URL", "http://mutualise.test".into()),
        (
            "MUTUALISE_MAIL_FROM",
            "Pôle Test <pole@mutualise.test>".into(),
        ),
        ("MUTUALISE_MAIL_REPLY_TO", "accueil@mutualise.test".into()),
        ("MUTUALISE_POLE_NAME", "Pôle Test".into()),
    ]
}

async fn mail_app(like: &TestApp, sink: &SmtpSink) -> TestApp {
    let env = mail_env(sink);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    like.like(&env).await
}

/// Starts the outbox worker of `app`, as `serve` does.
fn start_worker(app: &TestApp) -> tokio::task::JoinHandle<()> {
    let courier: Arc<dyn Courier> = mutualise::mail::smtp::courier_of(app.app.config())
        .expect("courier")
        .expect("SMTP_URL set");
    outbox::spawn_worker(app.app.clone(), courier)
}

fn by_subject<'a>(mails: &'a [Value], prefix: &str) -> Vec<&'a Value> {
    mails
        .iter()
        .filter(|m| m["subject"].as_str().unwrap_or("").starts_with(prefix))
        .collect()
}

fn unique_ids(mails: &[Value]) -> usize {
    let mut ids: Vec<&str> = mails
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    ids.len()
}

both_backends!(mails_reach_a_real_smtp_server, |base: TestApp| async move {
    let sink = SmtpSink::started();
    let app = mail_app(&base, &sink).await;
    drop(base);
    let _worker = start_worker(&app);
    let p = pole(&app).await;
    let (_, manager) = app
        .user("gestion@pole.test", &["resource_manager"], &[])
        .await;
    let room = app
        .resource(
            &p.admin,
            json!({"kind": "room", "name": "Salle Jaurès", "location": "Bâtiment A"}),
        )
        .await;
    let hall = app
        .resource(
            &p.admin,
            json!({"kind": "room", "name": "Halle", "requires_approval": true}),
        )
        .await;

    let (s, b) = app
        .post(
            &p.booker,
            "/api/v1/bookings",
            book(
                room,
                p.member,
                "2027-01-05T10:00:00+01:00",
                "2027-01-05T12:00:00+01:00",
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_i64().unwrap();
    let (s, b) = app
        .post(
            &p.booker,
            "/api/v1/bookings",
            book(
                hall,
                p.member,
                "2027-01-06T10:00:00+01:00",
                "2027-01-06T12:00:00+01:00",
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let request = b["id"].as_i64().unwrap();
    let (s, b) = app
        .post(
            &manager,
            &format!("/api/v1/bookings/{request}/reject"),
            json!({"reason": "Halle en travaux"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app.cancel(&manager, id).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // Confirmed, pending, to validate, rejected, cancelled.
    let mails = sink.wait_for(5, 20).await;
    assert_eq!(mails.len(), 5, "{mails:#?}");
    assert_eq!(unique_ids(&mails), 5);

    let confirmed = by_subject(&mails, "Réservation confirmée")[0];
    assert_eq!(confirmed["rcpt_tos"], json!(["booker@jardins.test"]));
    assert!(confirmed["from"]
        .as_str()
        .unwrap()
        .contains("pole@mutualise.test"));
    assert_eq!(confirmed["reply_to"], "accueil@mutualise.test");
    assert!(confirmed["subject"]
        .as_str()
        .unwrap()
        .contains("Salle Jaurès — mardi 5 janvier 2027 de 10:00 à 12:00"));
    let text = confirmed["text"].as_str().unwrap();
    assert!(text.contains("Votre réservation est confirmée."), "{text}");
    assert!(text.contains(&format!("http://mutualise.test/bookings/{id}")));
    assert!(text.contains("http://mutualise.test/account/notifications"));
    assert!(confirmed["html"]
        .as_str()
        .unwrap()
        .contains("<a href=\"http://mutualise.test/bookings/"));
    assert_eq!(confirmed["ics_method"], "REQUEST");
    assert_eq!(confirmed["ics_filename"], "invitation.ics");
    let invite = parse_ics(confirmed["ics"].as_str().unwrap());
    assert_eq!(invite["method"], "REQUEST");
    let ev = &invite["events"][0];
    assert_eq!(ev["uid"], format!("booking-{id}@mutualise.test"));
    assert_eq!(ev["start"], "2027-01-05T09:00:00Z");
    assert_eq!(ev["end"], "2027-01-05T11:00:00Z");
    assert_eq!(ev["sequence"], 0);
    assert_eq!(ev["location"], "Bâtiment A");
    assert_eq!(ev["attendee"], "mailto:booker@jardins.test");

    let pending = by_subject(&mails, "Demande enregistrée")[0];
    assert!(
        pending["ics"].is_null(),
        "a request is not yet in the calendar"
    );
    let ask = by_subject(&mails, "Demande à valider")[0];
    assert_eq!(ask["rcpt_tos"], json!(["gestion@pole.test"]));
    assert!(ask["text"]
        .as_str()
        .unwrap()
        .contains("http://mutualise.test/approvals"));
    let rejected = by_subject(&mails, "Demande refusée")[0];
    let text = rejected["text"].as_str().unwrap();
    assert!(
        text.contains("Halle en travaux") && text.contains("par gestion"),
        "{text}"
    );

    let cancelled = by_subject(&mails, "Réservation annulée")[0];
    assert!(cancelled["text"]
        .as_str()
        .unwrap()
        .contains("annulée par gestion"));
    assert_eq!(cancelled["ics_method"], "CANCEL");
    let cancel = parse_ics(cancelled["ics"].as_str().unwrap());
    assert_eq!(cancel["method"], "CANCEL");
    assert_eq!(
        cancel["events"][0]["uid"], ev["uid"],
        "same UID as the invitation"
    );
    assert_eq!(cancel["events"][0]["sequence"], 1, "a higher SEQUENCE");
    assert_eq!(cancel["events"][0]["status"], "CANCELLED");

    // Every message is recorded as sent, none waits.
    let (s, list) = app.get(&p.admin, "/api/v1/outbox?status=sent").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 5, "{list}");
    // The message-id is derived from the event (kind, booking, revision, recipient): stable.
    let mid = confirmed["message_id"].as_str().unwrap();
    assert!(
        mid.starts_with(&format!("<booking-confirmed.b{id}.s0.u"))
            && mid.ends_with("@mutualise.test>"),
        "{mid}"
    );
});

both_backends!(
    nothing_is_lost_while_the_mail_server_is_down,
    |base: TestApp| async move {
        let mut sink = SmtpSink::new();
        let app = mail_app(&base, &sink).await;
        drop(base);
        let _worker = start_worker(&app);
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        for day in 5..=9 {
            let (s, b) = app
                .post(
                    &p.booker,
                    "/api/v1/bookings",
                    book(
                        room,
                        p.member,
                        &format!("2027-01-{day:02}T10:00:00+01:00"),
                        &format!("2027-01-{day:02}T11:00:00+01:00"),
                    ),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        // The worker tries, fails, and records why.
        let mut tried = false;
        for _ in 0..50 {
            let (_, list) = app.get(&p.admin, "/api/v1/outbox?status=pending").await;
            if list
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["attempts"].as_i64() >= Some(1) && !m["last_error"].is_null())
            {
                tried = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(tried, "the worker recorded no failed attempt");
        sink.start();
        let mails = sink.wait_for(5, 30).await;
        // A little longer: nothing more may come.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mails_after = sink.messages();
        assert_eq!(mails.len(), 5, "{mails:#?}");
        assert_eq!(mails_after.len(), 5, "a message was sent twice");
        assert_eq!(unique_ids(&mails_after), 5);
        let (_, pending) = app.get(&p.admin, "/api/v1/outbox?status=pending").await;
        assert_eq!(pending, json!([]));
    }
);

both_backends!(
    set_aside_after_the_last_attempt_and_sent_again,
    |base: TestApp| async move {
        let mut sink = SmtpSink::new();
        let mut env = mail_env(&sink);
        env.push(("MUTUALISE_MAIL_MAX_ATTEMPTS", "2".into()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let app = base.like(&env).await;
        drop(base);
        let _worker = start_worker(&app);
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        let (s, _) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(
                    room,
                    p.member,
                    "2027-01-05T10:00:00+01:00",
                    "2027-01-05T11:00:00+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let mut dead = Value::Null;
        for _ in 0..80 {
            let (_, list) = app.get(&p.admin, "/api/v1/outbox?status=dead").await;
            if let Some(m) = list.as_array().unwrap().first() {
                dead = m.clone();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(dead["attempts"], 2, "{dead}");
        assert!(
            dead["last_error"].as_str().is_some_and(|e| !e.is_empty()),
            "{dead}"
        );
        // Administrators see it, with « Renvoyer ».
        let browser = common::Browser::sign_in(&app, "admin@pole.test").await;
        let (s, page, _) = browser.get("/admin/outbox?status=dead").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("En échec")
                && page.contains("Renvoyer")
                && page.contains("Réservation confirmée"),
            "{page}"
        );
        // A member may not read the outbox.
        let (s, _) = app.get(&p.booker, "/api/v1/outbox").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        sink.start();
        let id = dead["id"].as_i64().unwrap();
        let (s, b) = app
            .post(&p.admin, &format!("/api/v1/outbox/{id}/resend"), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["status"], "pending");
        let mails = sink.wait_for(1, 20).await;
        assert_eq!(mails.len(), 1);
        let (s, b) = app
            .post(&p.admin, "/api/v1/outbox/999999/resend", json!({}))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    }
);

both_backends!(
    a_rolled_back_change_queues_nothing,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        // A booking written, its mail queued, then the transaction fails: neither remains.
        let member = p.member;
        let rolled_back = app
            .with_conn(move |c| {
                let admin = mutualise::store::users::find_by_email(c, "admin@pole.test")?.unwrap();
                let actor = mutualise::app::authz::Actor::from_user(
                    &mutualise::store::users::with_roles(c, admin)?,
                );
                let env = mutualise::app::bookings::BookingEnv {
                    tz: chrono_tz::Europe::Paris,
                    now: common::NOW.parse().unwrap(),
                    horizon_days: 365,
                };
                let input: mutualise::app::bookings::BookingInput = serde_json::from_value(book(
                    room,
                    member,
                    "2027-01-05T10:00:00+01:00",
                    "2027-01-05T11:00:00+01:00",
                ))
                .unwrap();
                Ok(c.write(|c| {
                    mutualise::app::bookings::book_tx(c, &actor, &input, &env, None, None)?;
                    assert_eq!(count_rows(c, "outbox"), 1, "queued inside the transaction");
                    Err::<(), _>(mutualise::error::AppError::internal(
                        "rolled back on purpose",
                    ))
                })
                .is_err())
            })
            .await;
        assert!(rolled_back);
        assert_eq!(app.count("bookings").await, 0);
        assert_eq!(app.count("outbox").await, 0);
        // A refused booking queues nothing either.
        let (s, _) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(
                    room,
                    p.member,
                    "2027-01-05T10:00:00+01:00",
                    "2027-01-05T11:00:00+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let queued = app.count("outbox").await;
        let (s, _) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(
                    room,
                    p.member,
                    "2027-01-05T10:30:00+01:00",
                    "2027-01-05T11:30:00+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(app.count("outbox").await, queued);
    }
);

fn count_rows(c: &mut mutualise::store::DbConn, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let q = format!("SELECT COUNT(*) AS n FROM {table}");
    let n: N = mutualise::db_run!(c => diesel::sql_query(q.clone()).get_result(c)).unwrap();
    n.n
}

/// Who the assignments were told to, sorted.
async fn told_of_assignments(app: &TestApp, admin: &str) -> Vec<String> {
    let (_, list) = app.get(admin, "/api/v1/outbox").await;
    let mut to: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "assignment_created")
        .map(|m| m["to"].as_str().unwrap().to_string())
        .collect();
    to.sort();
    to
}

both_backends!(
    preferences_reminders_assignments_and_statements,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        // Defaults: everything, reminder 24 h before.
        let (s, prefs) = app.get(&p.booker, "/api/v1/me/notifications").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(prefs, json!({"muted": [], "reminder_hours": 24}));
        let (s, b) = app
            .call(
                reqwest::Method::PUT,
                &p.booker,
                "/api/v1/me/notifications",
                Some(json!({"muted": [], "reminder_hours": 5})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let (s, b) = app
            .call(
                reqwest::Method::PUT,
                &p.booker,
                "/api/v1/me/notifications",
                Some(json!({"muted": ["booking_confirmed"], "reminder_hours": 2})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["reminder_hours"], 2);
        // Muted: no confirmation queued.
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(
                    room,
                    p.member,
                    "2027-01-04T10:00:00+01:00",
                    "2027-01-04T11:00:00+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (_, list) = app.get(&p.admin, "/api/v1/outbox").await;
        assert_eq!(list, json!([]), "muted kind queued");
        // The booking above was made an hour before its start, inside the two hours' lead:
        // its confirmation said it all, no reminder.
        mutualise::app::jobs::run_once(&app.app).await.0.unwrap();
        let (_, list) = app.get(&p.admin, "/api/v1/outbox").await;
        assert_eq!(
            list,
            json!([]),
            "no reminder for a booking made at short notice"
        );
        // One made days ago, starting at 11:00 (NOW is 09:00 local, two hours before): reminded,
        // once.
        let (member, room_id) = (p.member, room);
        app.with_conn(move |c| {
            use mutualise::store::bookings::*;
            let booker = mutualise::store::users::find_by_email(c, "booker@jardins.test")?.unwrap();
            let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
            insert(
                c,
                &NewBooking {
                    resource_id: mutualise::domain::ids::ResourceId(room_id),
                    member_id: mutualise::domain::ids::MemberId(member),
                    created_by: Some(booker.id),
                    series_id: None,
                    start_at: t("2027-01-04 10:00"),
                    end_at: t("2027-01-04 10:30"),
                    block_start_at: t("2027-01-04 10:00"),
                    block_end_at: t("2027-01-04 10:30"),
                    quantity: 1,
                    exclusive: true,
                    status: mutualise::domain::status::BookingStatus::Confirmed,
                    purpose: "",
                    beneficiary: None,
                    created_at: t("2027-01-01 10:00"),
                    updated_at: t("2027-01-01 10:00"),
                    activity: mutualise::domain::labour::Activity::Work,
                },
            )?;
            Ok(())
        })
        .await;
        let (swept, _) = mutualise::app::jobs::run_once(&app.app).await;
        swept.unwrap();
        mutualise::app::jobs::run_once(&app.app).await.0.unwrap();
        let (_, list) = app.get(&p.admin, "/api/v1/outbox").await;
        let list = list.as_array().unwrap().clone();
        assert_eq!(list.len(), 1, "one reminder, once: {list:?}");
        assert_eq!(list[0]["kind"], "reminder");
        assert_eq!(list[0]["to"], "booker@jardins.test");

        // Shared staff: the employee (by their address) and the member's contact hear of it.
        let (s, ge) = app
            .post(
                &p.admin,
                "/api/v1/members",
                json!({"name": "GE Sud", "legal_form": "ge_geiq", "email": "contact@ge.test"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{ge}");
        let (s, b) = app
            .patch(
                &p.admin,
                &format!("/api/v1/members/{}", p.member),
                json!({"email": "accueil@jardins.test"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, emp) = app.post(&p.admin, "/api/v1/employees", json!({
        "name": "Julien Martin", "employer_member_id": ge["id"], "contract_type": "cdi",
        "weekly_contract_hours": 35.0, "hourly_cost_cents": 2500, "email": "julien@ge.test"
    })).await;
        assert_eq!(s, StatusCode::CREATED, "{emp}");
        let emp_id = emp["id"].as_i64().unwrap();
        // Three hours of the employee at the member, on a day of January.
        let assign = |day: u32| {
            let (app, admin, member) = (&app, p.admin.clone(), p.member);
            async move {
                let (s, b) = app
                    .post(
                        &admin,
                        "/api/v1/bookings",
                        book(
                            emp_id,
                            member,
                            &format!("2027-01-{day:02}T09:00:00+01:00"),
                            &format!("2027-01-{day:02}T12:00:00+01:00"),
                        ),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{b}");
            }
        };
        assign(7).await;
        assert_eq!(
            told_of_assignments(&app, &p.admin).await,
            vec!["accueil@jardins.test", "julien@ge.test"]
        );

        // The booking tells the employee at the address the rules read with it: a new one is
        // used from the next assignment on (the kept employee is read again once changed).
        let (s, b) = app
            .patch(
                &p.admin,
                &format!("/api/v1/employees/{emp_id}"),
                json!({"email": "j.martin@ge.test"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assign(8).await;
        assert_eq!(
            told_of_assignments(&app, &p.admin).await,
            vec![
                "accueil@jardins.test",
                "accueil@jardins.test",
                "j.martin@ge.test",
                "julien@ge.test"
            ]
        );

        // Closing a month tells each member's administrators that the statement is ready.
        let (_, admin_of_member) = app
            .user("ca@jardins.test", &[], &[(p.member, "member_admin")])
            .await;
        let _ = admin_of_member;
        let (s, b) = app.post(&p.admin, "/api/v1/adjustments", json!({"month": "2026-12", "member_id": p.member, "label": "Régularisation", "amount_cents": 1250})).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = app
            .post(&p.admin, "/api/v1/allocations/2026-12/close", json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (_, list) = app.get(&p.admin, "/api/v1/outbox").await;
        let ready: Vec<&Value> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "statement_ready")
            .collect();
        assert_eq!(ready.len(), 1, "{list}");
        assert_eq!(ready[0]["to"], "ca@jardins.test");

        // Without a mail server, the administration page shows every message in full.
        let browser = common::Browser::sign_in(&app, "admin@pole.test").await;
        let (s, page, _) = browser.get("/admin/outbox").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("Aucun serveur d'envoi n'est configuré"),
            "{page}"
        );
        assert!(
            page.contains("Rappel : Salle") && page.contains("Mise à disposition : Julien Martin"),
            "{page}"
        );
        assert!(page.contains("BEGIN:VCALENDAR"), "the invitation is shown");
        // The preferences page saves what is ticked.
        let b = common::Browser::sign_in(&app, "booker@jardins.test").await;
        let (s, page, _) = b.get("/account/notifications").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("2 heures avant"));
        let csrf = common::csrf_of(&page);
        let (s, _, loc) = b
            .post(
                "/account/notifications",
                &[
                    ("_csrf", &csrf),
                    ("receive", "booking_cancelled"),
                    ("reminder_hours", ""),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(loc.as_deref(), Some("/account/notifications?notice=saved"));
        let (_, prefs) = app.get(&p.booker, "/api/v1/me/notifications").await;
        assert_eq!(prefs["reminder_hours"], Value::Null);
        assert!(!prefs["muted"]
            .as_array()
            .unwrap()
            .contains(&json!("booking_cancelled")));
        assert!(prefs["muted"]
            .as_array()
            .unwrap()
            .contains(&json!("booking_moved")));
    }
);

/// The events of a feed, parsed by `icalendar`.
async fn read_feed(app: &TestApp, url: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let path = url.trim_start_matches("http://mutualise.test");
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.text().await.unwrap())
}

both_backends!(
    feeds_parse_in_a_real_icalendar_library,
    |base: TestApp| async move {
        let app = base
            .like(&[("MUTUALISE_PUBLIC_URL", "http://mutualise.test")])
            .await;
        drop(base);
        let p = pole(&app).await;
        let name = "Salle « Jaurès », étage 1; côté cour";
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": name, "location": "Bât. A, 1er"}),
            )
            .await;
        let long = format!(
            "Ligne 1, avec virgule; et point-virgule\nLigne 2 — {}",
            "é".repeat(160)
        );
        assert!(long.chars().count() >= 200);
        // A weekly series across the change to summer time (28 March 2027).
        let mut series = book(room, p.member, "2027-03-19T10:00:00", "2027-03-19T11:00:00");
        series["recurrence"] = json!({"rrule": "FREQ=WEEKLY;COUNT=3"});
        series["purpose"] = json!(long);
        let (s, b) = app.post(&p.booker, "/api/v1/bookings", series).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let occurrences: Vec<i64> = b["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(
                    room,
                    p.member,
                    "2027-01-05T10:00:00+01:00",
                    "2027-01-05T11:00:00+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let cancelled = b["id"].as_i64().unwrap();
        let (s, _) = app.cancel(&p.booker, cancelled).await;
        assert_eq!(s, StatusCode::OK);
        let (s, b) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(
                    room,
                    p.other,
                    "2027-01-06T10:00:00+01:00",
                    "2027-01-06T11:00:00+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let others = b["id"].as_i64().unwrap();

        let (s, feed) = app
            .post(
                &p.booker,
                "/api/v1/feeds",
                json!({"scope": "resource", "id": room}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{feed}");
        let url = feed["url"].as_str().unwrap().to_string();
        assert!(
            url.starts_with("http://mutualise.test/feeds/") && url.ends_with(".ics"),
            "{url}"
        );
        assert_eq!(feed["webcal_url"], url.replace("http://", "webcal://"));
        let (s, headers, text) = read_feed(&app, &url).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");
        assert_folded(&text);
        let cal = parse_ics(&text);
        let events = cal["events"].as_array().unwrap();
        assert_eq!(events.len(), 5, "{cal:#}");
        let find = |id: i64| {
            events
                .iter()
                .find(|e| e["uid"] == format!("booking-{id}@mutualise.test"))
                .unwrap_or_else(|| panic!("{id} missing"))
        };
        // Ten o'clock local on each side of the change of time.
        assert_eq!(find(occurrences[0])["start"], "2027-03-19T09:00:00Z");
        assert_eq!(find(occurrences[1])["start"], "2027-03-26T09:00:00Z");
        assert_eq!(find(occurrences[2])["start"], "2027-04-02T08:00:00Z");
        let own = find(occurrences[0]);
        assert_eq!(own["summary"], format!("{name} — Les Jardins"));
        assert!(
            own["description"].as_str().unwrap().contains(&long),
            "{own}"
        );
        assert_eq!(own["location"], "Bât. A, 1er");
        assert_eq!(own["status"], "CONFIRMED");
        assert_eq!(find(cancelled)["status"], "CANCELLED");
        assert_eq!(find(cancelled)["sequence"], 1);
        // Another member's booking: « Réservé », no details.
        let other = find(others);
        assert_eq!(other["summary"], format!("{name} — Réservé"));
        assert!(other["description"].is_null());

        // Polling: unchanged answers 304, by ETag or by date.
        let etag = headers["etag"].to_str().unwrap().to_string();
        let last_modified = headers["last-modified"].to_str().unwrap().to_string();
        let path = url.trim_start_matches("http://mutualise.test");
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .header("If-Modified-Since", &last_modified)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

        // A move: a new version, the event's SEQUENCE grows.
        let (s, b) = app
            .patch(
                &p.booker,
                &format!("/api/v1/bookings/{}", occurrences[0]),
                json!({"start": "2027-03-19T14:00:00", "end": "2027-03-19T15:00:00"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_ne!(res.headers()["etag"].to_str().unwrap(), etag);
        let cal = parse_ics(&res.text().await.unwrap());
        let moved = cal["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["uid"] == format!("booking-{}@mutualise.test", occurrences[0]))
            .unwrap()
            .clone();
        assert_eq!(moved["start"], "2027-03-19T13:00:00Z");
        assert_eq!(moved["sequence"], 1);

        // The member's and the user's feeds; another member's feed is refused.
        let (s, f) = app
            .post(
                &p.booker,
                "/api/v1/feeds",
                json!({"scope": "member", "id": p.member}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{f}");
        let (_, _, text) = read_feed(&app, f["url"].as_str().unwrap()).await;
        assert_eq!(parse_ics(&text)["events"].as_array().unwrap().len(), 4);
        let (s, _) = app
            .post(
                &p.booker,
                "/api/v1/feeds",
                json!({"scope": "member", "id": p.other}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, f) = app
            .post(
                &p.booker,
                "/api/v1/feeds",
                json!({"scope": "user", "id": 0}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{f}");
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/feeds",
                json!({"scope": "planet", "id": 1}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

        // Regenerating: the old URL answers 404, the new one works.
        let (s, again) = app
            .post(
                &p.booker,
                "/api/v1/feeds",
                json!({"scope": "resource", "id": room}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_ne!(again["url"], feed["url"]);
        let (s, _, _) = read_feed(&app, &url).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _, _) = read_feed(&app, again["url"].as_str().unwrap()).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _, _) = read_feed(&app, "/feeds/not-a-token.ics").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, list) = app.get(&p.booker, "/api/v1/feeds").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list.as_array().unwrap().len(), 2, "{list}");

        // The pages offer « S'abonner ».
        let browser = common::Browser::sign_in(&app, "booker@jardins.test").await;
        let (s, page, _) = browser.get(&format!("/resources/{room}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("S'abonner") && page.contains("webcal://mutualise.test/feeds/"),
            "{page}"
        );
        let (s, page, _) = browser.get("/account/calendars").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Mes liens d'abonnement"));
    }
);

both_backends!(
    messages_are_queued_once_whatever_their_number,
    |app: TestApp| async move {
        use mutualise::store::outbox::{self, NewMessage};
        // Every statement shape of `enqueue` (one row, arrays of two to four, lists of any
        // length cut at 500): each message queued once, those queued already skipped.
        let queued = app
            .with_conn(|c| {
                let now = chrono::Utc::now().naive_utc();
                let message = |i: usize| NewMessage {
                    event_key: format!("test.m{i}"),
                    kind: "booking_confirmed",
                    recipient: format!("r{i}@pole.test"),
                    user_id: None,
                    payload: "{}".into(),
                    now,
                };
                let mut counts = Vec::new();
                let mut next = 0;
                for n in [0usize, 1, 2, 3, 4, 5, 1203] {
                    let batch: Vec<NewMessage> = (next..next + n).map(message).collect();
                    next += n;
                    counts.push(c.write(|c| outbox::enqueue(c, &batch))?);
                }
                // Again, with two new ones among them: only those two are queued.
                let again: Vec<NewMessage> = (next - 3..next + 2).map(message).collect();
                counts.push(c.write(|c| outbox::enqueue(c, &again))?);
                let repeat: Vec<NewMessage> = (0..3).map(message).collect();
                counts.push(c.write(|c| outbox::enqueue(c, &repeat))?);
                Ok(counts)
            })
            .await;
        assert_eq!(queued, vec![0, 1, 2, 3, 4, 5, 1203, 2, 0]);
        assert_eq!(app.count("outbox").await, 1220);
    }
);
