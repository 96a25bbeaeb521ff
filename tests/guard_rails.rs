//! Guard rails when a resource changes under its bookings: lowering a capacity, lengthening a
//! buffer, narrowing opening hours or adding a closure over bookings answers 409
//! `breaks_bookings` with the list and changes nothing, unless forced; forced, exactly the
//! listed bookings are cancelled and their bookers mailed (a real SMTP server). Past and
//! under-way bookings are never touched. On both backends.

mod common;

use std::sync::Arc;

use common::mail::SmtpSink;
use common::{book, csrf_of, pole, Browser, TestApp};
use diesel::RunQueryDsl;
use mutualise::app::outbox::{self, Courier};
use mutualise::domain::status::BookingStatus;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn mail_app(like: &TestApp, sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    like.like(&[
        ("SMTP_URL", url.as_str()),
        ("MUTUALISE_MAIL_RETRY_SECONDS", "1"),
        ("MUTUALISE_PUBLIC_URL", "http://mutualise.test"),
    ])
    .await
}

fn start_worker(app: &TestApp) -> tokio::task::JoinHandle<()> {
    let courier: Arc<dyn Courier> = mutualise::mail::smtp::courier_of(app.app.config())
        .expect("courier")
        .expect("SMTP_URL set");
    outbox::spawn_worker(app.app.clone(), courier)
}

/// Books as `token`; returns the booking's id.
async fn booked(app: &TestApp, token: &str, body: Value) -> i64 {
    let (s, b) = app.post(token, "/api/v1/bookings", body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_i64().unwrap()
}

async fn status_of(app: &TestApp, token: &str, id: i64) -> String {
    let (s, b) = app.get(token, &format!("/api/v1/bookings/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["status"].as_str().unwrap().to_string()
}

fn listed(problem: &Value) -> Vec<i64> {
    problem["bookings"]
        .as_array()
        .unwrap_or_else(|| panic!("no bookings in {problem}"))
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect()
}

/// Cancellation messages queued in the outbox.
async fn cancellations_queued(app: &TestApp) -> i64 {
    app.with_conn(|c| {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let q = "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'booking_cancelled'";
        let n: N = mutualise::db_run!(c => diesel::sql_query(q).get_result(c))?;
        Ok(n.n)
    })
    .await
}

both_backends!(
    lowering_capacity_lists_then_cancels_the_latest_bookings,
    |base: TestApp| async move {
        let sink = SmtpSink::started();
        let app = mail_app(&base, &sink).await;
        drop(base);
        let _worker = start_worker(&app);
        let p = pole(&app).await;
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle Jaurès", "capacity": 3}),
            )
            .await;
        let mut same_slot = Vec::new();
        for _ in 0..3 {
            same_slot.push(
                booked(
                    &app,
                    &p.booker,
                    book(room, p.member, "2027-01-05T10:00", "2027-01-05T12:00"),
                )
                .await,
            );
        }
        let next_day = booked(
            &app,
            &p.booker,
            book(room, p.member, "2027-01-06T10:00", "2027-01-06T12:00"),
        )
        .await;
        // Over (yesterday) and under way (now is 08:00 UTC): never touched.
        let mut kept_as_they_are = Vec::new();
        for (start, end) in [
            ("2027-01-03 09:00", "2027-01-03 10:00"),
            ("2027-01-04 07:00", "2027-01-04 09:00"),
        ] {
            kept_as_they_are.push(
                app.insert_booking(room, p.other, start, end, BookingStatus::Confirmed)
                    .await,
            );
        }
        assert_eq!(sink.wait_for(4, 20).await.len(), 4, "four confirmations");

        let path = format!("/api/v1/resources/{room}");
        let (s, e) = app.patch(&p.admin, &path, json!({"capacity": 1})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(e["code"], "breaks_bookings");
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains("annulerait 2 réservations"),
            "{e}"
        );
        // The two created last go; the first one made keeps its place.
        assert_eq!(listed(&e), vec![same_slot[1], same_slot[2]]);
        let first = &e["bookings"][0];
        assert_eq!(first["member_id"], p.member);
        assert_eq!(first["status"], "confirmed");
        assert_eq!(first["start"], "2027-01-05T09:00:00Z");
        assert_eq!(first["end"], "2027-01-05T11:00:00Z");
        assert_eq!(first["cause"], "capacity");
        assert_eq!(first["reason"], "capacité réduite de 3 à 1");
        let (_, r) = app.get(&p.admin, &path).await;
        assert_eq!(r["capacity"], 3, "nothing changed on 409");
        for id in same_slot.iter().chain([&next_day]) {
            assert_eq!(status_of(&app, &p.admin, *id).await, "confirmed");
        }
        assert_eq!(cancellations_queued(&app).await, 0);

        let (s, r) = app
            .patch(&p.admin, &path, json!({"capacity": 1, "force": true}))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["capacity"], 1);
        assert_eq!(status_of(&app, &p.admin, same_slot[0]).await, "confirmed");
        assert_eq!(status_of(&app, &p.admin, same_slot[1]).await, "cancelled");
        assert_eq!(status_of(&app, &p.admin, same_slot[2]).await, "cancelled");
        assert_eq!(status_of(&app, &p.admin, next_day).await, "confirmed");
        for id in &kept_as_they_are {
            assert_eq!(status_of(&app, &p.admin, *id).await, "confirmed");
        }
        let (_, b) = app
            .get(&p.admin, &format!("/api/v1/bookings/{}", same_slot[1]))
            .await;
        assert_eq!(b["decision_reason"], "capacité réduite de 3 à 1");

        // One message to the booker for both, saying which resource, when and why.
        let mails = sink.wait_for(5, 20).await;
        let cancelled: Vec<&Value> = mails
            .iter()
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .unwrap()
                    .starts_with("Réservation annulée")
            })
            .collect();
        assert_eq!(cancelled.len(), 1, "{mails:#?}");
        let m = cancelled[0];
        assert_eq!(m["rcpt_tos"], json!(["booker@jardins.test"]));
        assert!(
            m["subject"].as_str().unwrap().contains("Salle Jaurès"),
            "{m}"
        );
        let text = m["text"].as_str().unwrap();
        for words in [
            "2 réservations ont été annulées par admin",
            "mardi 5 janvier 2027 de 10:00 à 12:00",
            "capacité réduite de 3 à 1",
        ] {
            assert!(text.contains(words), "{words} not in {text}");
        }
        assert_eq!(cancellations_queued(&app).await, 1);
    }
);

both_backends!(
    buffers_hours_and_closures_at_their_exact_boundaries,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let (_, manager) = app
            .user("gestion@pole.test", &["resource_manager"], &[])
            .await;
        // Tuesday 5 January: 10:00-11:00 and 11:15-12:00, a gap of 15 minutes.
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle Jaurès"}))
            .await;
        let early = booked(
            &app,
            &p.booker,
            book(room, p.member, "2027-01-05T10:00", "2027-01-05T11:00"),
        )
        .await;
        let late = booked(
            &app,
            &p.admin,
            book(room, p.other, "2027-01-05T11:15", "2027-01-05T12:00"),
        )
        .await;
        // Over (yesterday) and under way (now is 08:00 UTC, 09:00 in Paris): outside the
        // hours and in the closure below, and never touched.
        let past = app
            .insert_booking(
                room,
                p.member,
                "2027-01-03 09:00",
                "2027-01-03 10:00",
                BookingStatus::Confirmed,
            )
            .await;
        let under_way = app
            .insert_booking(
                room,
                p.member,
                "2027-01-04 07:00",
                "2027-01-04 09:00",
                BookingStatus::Confirmed,
            )
            .await;
        let path = format!("/api/v1/resources/{room}");

        // A buffer as long as the gap fits; one minute more does not.
        let (s, r) = app
            .patch(&manager, &path, json!({"buffer_after_minutes": 15}))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (s, r) = app
            .patch(
                &manager,
                &path,
                json!({"buffer_after_minutes": 0, "buffer_before_minutes": 15}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (s, e) = app
            .patch(&manager, &path, json!({"buffer_before_minutes": 16}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(listed(&e), vec![late]);
        assert_eq!(e["bookings"][0]["member_id"], p.other);
        let (_, r) = app.get(&manager, &path).await;
        assert_eq!(r["buffer_before_minutes"], 15);

        // Opening hours: 10:00-12:00 on Tuesdays keeps both; 10:01 or 11:59 does not.
        let tuesday = |open: &str, close: &str| json!({"opening_hours": [{"weekday": 2, "open": open, "close": close}]});
        let (s, r) = app.patch(&manager, &path, tuesday("10:00", "12:00")).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (s, e) = app.patch(&manager, &path, tuesday("10:01", "12:00")).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(listed(&e), vec![early]);
        assert_eq!(e["bookings"][0]["cause"], "outside_opening_hours");
        let (s, e) = app.patch(&manager, &path, tuesday("10:00", "11:59")).await;
        assert_eq!(listed(&e), vec![late], "{s} {e}");
        let (_, r) = app.get(&manager, &path).await;
        assert_eq!(r["opening_hours"][0]["open"], "10:00");
        assert_eq!(r["opening_hours"][0]["close"], "12:00");

        // A closure from the end of the first booking to the start of the second breaks
        // nothing; one minute more either way breaks one.
        let closure = |start: &str, end: &str| json!({"resource_id": room, "start": start, "end": end, "reason": "Peinture"});
        let (s, c) = app
            .post(
                &manager,
                "/api/v1/closures",
                closure("2027-01-05T11:00", "2027-01-05T11:15"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let closures = app.count("closures").await;
        let (s, e) = app
            .post(
                &manager,
                "/api/v1/closures",
                closure("2027-01-05T10:59", "2027-01-05T11:15"),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(listed(&e), vec![early]);
        assert_eq!(e["bookings"][0]["cause"], "closed");
        assert!(
            e["bookings"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("Peinture"),
            "{e}"
        );
        let (s, e) = app
            .post(
                &manager,
                "/api/v1/closures",
                closure("2027-01-05T11:00", "2027-01-05T11:16"),
            )
            .await;
        assert_eq!(listed(&e), vec![late], "{s} {e}");
        assert_eq!(
            app.count("closures").await,
            closures,
            "nothing recorded on 409"
        );
        assert_eq!(
            cancellations_queued(&app).await,
            0,
            "no change broke anything yet"
        );

        // Forced: the buffer cancels the late booking, the closure the early one.
        let (s, r) = app
            .patch(
                &manager,
                &path,
                json!({"buffer_before_minutes": 16, "force": true}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(status_of(&app, &p.admin, late).await, "cancelled");
        assert_eq!(status_of(&app, &p.admin, early).await, "confirmed");
        // From yesterday: the past and under-way bookings are not listed, nor cancelled.
        let mut forced = closure("2027-01-03T00:00", "2027-01-05T10:30");
        let (s, e) = app.post(&manager, "/api/v1/closures", forced.clone()).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(listed(&e), vec![early]);
        forced["force"] = json!(true);
        let (s, c) = app.post(&manager, "/api/v1/closures", forced).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(app.count("closures").await, closures + 1);
        assert_eq!(status_of(&app, &p.admin, early).await, "cancelled");
        let (_, b) = app
            .get(&p.admin, &format!("/api/v1/bookings/{early}"))
            .await;
        let reason = b["decision_reason"].as_str().unwrap();
        assert!(
            reason.starts_with("fermeture de la ressource (Peinture)"),
            "{reason}"
        );
        assert_eq!(cancellations_queued(&app).await, 2);
        for id in [past, under_way] {
            assert_eq!(status_of(&app, &p.admin, id).await, "confirmed");
        }
    }
);

both_backends!(
    pages_list_the_bookings_and_ask_for_confirmation,
    |app: TestApp| async move {
        let p = pole(&app).await;
        app.user("gestion@pole.test", &["resource_manager"], &[])
            .await;
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle Jaurès", "capacity": 2}),
            )
            .await;
        let van = app
            .resource(&p.admin, json!({"kind": "vehicle", "name": "Kangoo"}))
            .await;
        let a = booked(
            &app,
            &p.booker,
            book(room, p.member, "2027-01-07T14:00", "2027-01-07T16:00"),
        )
        .await;
        let b = booked(
            &app,
            &p.booker,
            book(room, p.member, "2027-01-07T15:00", "2027-01-07T17:00"),
        )
        .await;
        let c = booked(
            &app,
            &p.booker,
            book(van, p.member, "2027-01-07T08:00", "2027-01-07T18:00"),
        )
        .await;
        let web = Browser::sign_in(&app, "gestion@pole.test").await;

        // Resource form: capacity 1 would cancel the later booking.
        let (s, page, _) = web.get(&format!("/resources/{room}/edit")).await;
        assert_eq!(s, StatusCode::OK);
        let csrf = csrf_of(&page);
        let fields = |force: bool| {
            let mut f = vec![
                ("_csrf", csrf.clone()),
                ("kind", "room".to_string()),
                ("name", "Salle Jaurès".to_string()),
                ("capacity", "1".to_string()),
                ("buffer_before_minutes", "0".to_string()),
                ("buffer_after_minutes", "0".to_string()),
                ("hourly", "0,00".to_string()),
                ("billing_unit_minutes", "60".to_string()),
            ];
            if force {
                f.push(("force", "1".to_string()));
            }
            f
        };
        let form = fields(false);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, page, _) = web.post(&format!("/resources/{room}"), &form).await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("Cette modification annulerait 1 réservation :"),
            "{page}"
        );
        assert!(page.contains(&format!("href=\"/bookings/{b}\"")), "{page}");
        assert!(page.contains("capacité réduite de 2 à 1"), "{page}");
        assert!(
            page.contains("Confirmer et prévenir les réservants"),
            "{page}"
        );
        assert!(page.contains("name=\"_csrf\""));
        let (_, r) = app
            .get(&p.admin, &format!("/api/v1/resources/{room}"))
            .await;
        assert_eq!(r["capacity"], 2, "nothing changed without confirmation");
        let form = fields(true);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, page, loc) = web.post(&format!("/resources/{room}"), &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(
            loc.as_deref(),
            Some(&*format!("/resources/{room}?notice=saved"))
        );
        assert_eq!(status_of(&app, &p.admin, a).await, "confirmed");
        assert_eq!(status_of(&app, &p.admin, b).await, "cancelled");

        // A pole-wide closure over the van's day.
        let (_, page, _) = web.get("/closures").await;
        let csrf = csrf_of(&page);
        let mut form = vec![
            ("_csrf", csrf.as_str()),
            ("resource_id", ""),
            ("start", "2027-01-07T12:00"),
            ("end", "2027-01-08T00:00"),
            ("reason", "Inventaire"),
        ];
        let closures = app.count("closures").await;
        let (s, page, _) = web.post("/closures", &form).await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("Cette modification annulerait 2 réservations :"),
            "{page}"
        );
        assert!(
            page.contains(&format!("href=\"/bookings/{a}\""))
                && page.contains(&format!("href=\"/bookings/{c}\"")),
            "{page}"
        );
        assert!(page.contains("Inventaire"));
        assert!(
            page.contains("value=\"2027-01-07T12:00\""),
            "input kept: {page}"
        );
        assert_eq!(app.count("closures").await, closures);
        // Without the CSRF token the confirmation is refused.
        let (s, _, _) = web
            .post(
                "/closures",
                &[
                    ("resource_id", ""),
                    ("start", "2027-01-07T12:00"),
                    ("end", "2027-01-08T00:00"),
                    ("reason", "Inventaire"),
                    ("force", "1"),
                ],
            )
            .await;
        assert!(s.is_client_error(), "{s}");
        assert_eq!(status_of(&app, &p.admin, a).await, "confirmed");
        form.push(("force", "1"));
        let (s, page, loc) = web.post("/closures", &form).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(loc.as_deref(), Some("/closures?notice=created"));
        assert_eq!(app.count("closures").await, closures + 1);
        assert_eq!(status_of(&app, &p.admin, a).await, "cancelled");
        assert_eq!(status_of(&app, &p.admin, c).await, "cancelled");
        assert_eq!(cancellations_queued(&app).await, 3);
    }
);

both_backends!(
    only_managers_may_force_and_bad_input_changes_nothing,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle Jaurès", "capacity": 2}),
            )
            .await;
        let a = booked(
            &app,
            &p.booker,
            book(room, p.member, "2027-01-05T10:00", "2027-01-05T12:00"),
        )
        .await;
        let b = booked(
            &app,
            &p.booker,
            book(room, p.member, "2027-01-05T10:00", "2027-01-05T12:00"),
        )
        .await;
        let path = format!("/api/v1/resources/{room}");

        let (s, e) = app
            .patch(&p.booker, &path, json!({"capacity": 1, "force": true}))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
        let (s, e) = app
            .post(
                &p.booker,
                "/api/v1/closures",
                json!({"resource_id": room, "start": "2027-01-05T09:00", "end": "2027-01-05T18:00", "reason": "x", "force": true}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
        for bad in [
            json!({"capacity": 1, "force": "oui"}),
            json!({"capacity": 0, "force": true}),
        ] {
            let (s, e) = app.patch(&p.admin, &path, bad.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad} → {e}");
        }
        let (s, e) = app
            .post(
                &p.admin,
                "/api/v1/closures",
                json!({"resource_id": room, "start": "2027-01-05T18:00", "end": "2027-01-05T09:00", "reason": "x", "force": true}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (_, r) = app.get(&p.admin, &path).await;
        assert_eq!(r["capacity"], 2);
        assert_eq!(app.count("closures").await, 0);
        for id in [a, b] {
            assert_eq!(status_of(&app, &p.admin, id).await, "confirmed");
        }
        // A change that breaks nothing is answered at once, without any message.
        let (s, r) = app
            .patch(
                &p.admin,
                &path,
                json!({"name": "Salle Jean Jaurès", "capacity": 2}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(cancellations_queued(&app).await, 0);

        // The OpenAPI document declares `force` and the 409 answer.
        let (_, doc) = app.get("", "/api/v1/openapi.json").await;
        let schemas = &doc["components"]["schemas"];
        let declares_force = |schema: &Value| {
            let mut parts = schema["allOf"].as_array().cloned().unwrap_or_default();
            parts.push(schema.clone());
            parts
                .iter()
                .any(|s| s["properties"]["force"]["type"] == "boolean")
        };
        assert!(
            declares_force(&schemas["ResourcePatch"]),
            "{}",
            schemas["ResourcePatch"]
        );
        assert!(
            declares_force(&schemas["NewClosure"]),
            "{}",
            schemas["NewClosure"]
        );
        assert!(doc["paths"]["/api/v1/resources/{id}"]["patch"]["responses"]["409"].is_object());
        assert!(doc["paths"]["/api/v1/closures"]["post"]["responses"]["409"].is_object());
        assert!(schemas["BreaksBookingsProblem"]["properties"]["bookings"].is_object());
    }
);

both_backends!(
    bookings_racing_a_forced_change_never_overbook,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle Jaurès", "capacity": 3}),
            )
            .await;
        let slot = book(room, p.member, "2027-01-05T10:00", "2027-01-05T12:00");
        booked(&app, &p.booker, slot.clone()).await;
        let app = Arc::new(app);
        let mut racers = Vec::new();
        for _ in 0..8 {
            let (app, token, slot) = (app.clone(), p.booker.clone(), slot.clone());
            racers.push(tokio::spawn(async move {
                app.post(&token, "/api/v1/bookings", slot).await.0
            }));
        }
        let (s, r) = app
            .patch(
                &p.admin,
                &format!("/api/v1/resources/{room}"),
                json!({"capacity": 1, "force": true}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        for r in racers {
            let s = r.await.unwrap();
            assert!(s == StatusCode::CREATED || s == StatusCode::CONFLICT, "{s}");
        }
        // Whatever the order, the slot ends holding at most the new capacity.
        assert_eq!(active_on_the_5th(&app, &p.admin, room).await, 1);
    }
);

/// « Grande salle » and « Salle A », the room a part of the hall when `attached`.
async fn whole_and_room(app: &TestApp, p: &common::Pole, attached: bool) -> (i64, i64) {
    let whole = app
        .resource(&p.admin, json!({"kind": "room", "name": "Grande salle"}))
        .await;
    let mut room = json!({"kind": "room", "name": "Salle A"});
    if attached {
        room["parent_id"] = json!(whole);
    }
    (whole, app.resource(&p.admin, room).await)
}

/// Active (pending or confirmed) bookings of `resource` over 2027-01-05.
async fn active_on_the_5th(app: &TestApp, token: &str, resource: i64) -> usize {
    let (s, list) = app
        .get(
            token,
            &format!(
                "/api/v1/bookings?resource_id={resource}&from=2027-01-05T00:00&to=2027-01-06T00:00"
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list.as_array()
        .or_else(|| list["items"].as_array())
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .filter(|b| b["status"] == "confirmed" || b["status"] == "pending")
        .count()
}

both_backends!(
    attaching_a_part_lists_then_cancels_the_later_of_two_bookings_that_meet,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let (whole, part) = whole_and_room(&app, &p, false).await;
        // The whole first, then the part over it: the part's goes.
        let whole_first = booked(
            &app,
            &p.booker,
            book(whole, p.member, "2027-01-05T10:00", "2027-01-05T12:00"),
        )
        .await;
        let part_over_it = booked(
            &app,
            &p.booker,
            book(part, p.member, "2027-01-05T11:00", "2027-01-05T13:00"),
        )
        .await;
        // Ending when the whole's starts: both stay.
        let part_before = booked(
            &app,
            &p.booker,
            book(part, p.member, "2027-01-05T09:00", "2027-01-05T10:00"),
        )
        .await;
        // The part first, then the whole over it: the whole's goes.
        let part_first = booked(
            &app,
            &p.booker,
            book(part, p.member, "2027-01-06T09:00", "2027-01-06T10:00"),
        )
        .await;
        let whole_over_it = booked(
            &app,
            &p.booker,
            book(whole, p.member, "2027-01-06T09:30", "2027-01-06T10:30"),
        )
        .await;
        // Under way (now is 08:00 UTC) on both: nothing can be done about it.
        let under_way = [
            app.insert_booking(
                part,
                p.member,
                "2027-01-04 07:00",
                "2027-01-04 09:00",
                BookingStatus::Confirmed,
            )
            .await,
            app.insert_booking(
                whole,
                p.member,
                "2027-01-04 07:30",
                "2027-01-04 09:30",
                BookingStatus::Confirmed,
            )
            .await,
        ];

        let path = format!("/api/v1/resources/{part}");
        let (s, e) = app
            .patch(&p.admin, &path, json!({"parent_id": whole}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(e["code"], "breaks_bookings");
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains("annulerait 2 réservations"),
            "{e}"
        );
        assert_eq!(listed(&e), vec![part_over_it, whole_over_it]);
        assert_eq!(e["bookings"][0]["cause"], "composition");
        assert_eq!(e["bookings"][0]["resource_id"], part);
        assert_eq!(
            e["bookings"][0]["reason"],
            "« Salle A » devient une partie de « Grande salle », déjà réservée sur ce créneau"
        );
        assert_eq!(e["bookings"][1]["resource_id"], whole);
        assert_eq!(
            e["bookings"][1]["reason"],
            "« Salle A », déjà réservée sur ce créneau, devient une partie de « Grande salle »"
        );
        // The resource's page says the same before anything changes.
        app.user("gestion@pole.test", &["resource_manager"], &[])
            .await;
        let web = Browser::sign_in(&app, "gestion@pole.test").await;
        let (s, page, _) = web.get(&format!("/resources/{part}/edit")).await;
        assert_eq!(s, StatusCode::OK);
        let (csrf, whole_id) = (csrf_of(&page), whole.to_string());
        let form = [
            ("_csrf", csrf.as_str()),
            ("kind", "room"),
            ("name", "Salle A"),
            ("capacity", "1"),
            ("buffer_before_minutes", "0"),
            ("buffer_after_minutes", "0"),
            ("hourly", "0,00"),
            ("billing_unit_minutes", "60"),
            ("parent_id", whole_id.as_str()),
        ];
        let (s, page, _) = web.post(&format!("/resources/{part}"), &form).await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("Cette modification annulerait 2 réservations :"),
            "{page}"
        );
        assert!(
            page.contains(&format!("href=\"/bookings/{whole_over_it}\"")),
            "{page}"
        );
        assert!(
            page.contains(
                "« Salle A », déjà réservée sur ce créneau, devient une partie de « Grande salle »"
            ),
            "{page}"
        );
        let (_, r) = app.get(&p.admin, &path).await;
        assert_eq!(r["parent_id"], Value::Null, "nothing changed on 409");
        assert_eq!(status_of(&app, &p.admin, part_over_it).await, "confirmed");
        assert_eq!(cancellations_queued(&app).await, 0);

        let (s, r) = app
            .patch(&p.admin, &path, json!({"parent_id": whole, "force": true}))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["parent_id"], whole);
        assert_eq!(status_of(&app, &p.admin, part_over_it).await, "cancelled");
        assert_eq!(status_of(&app, &p.admin, whole_over_it).await, "cancelled");
        for id in [whole_first, part_before, part_first]
            .iter()
            .chain(&under_way)
        {
            assert_eq!(status_of(&app, &p.admin, *id).await, "confirmed", "{id}");
        }
        // One message to the booker per reason.
        assert_eq!(cancellations_queued(&app).await, 2);
        // From now on the two are one: the part is taken while the whole is.
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(part, p.member, "2027-01-05T10:30", "2027-01-05T10:45"),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        assert_eq!(b["conflicts"][0]["booking_id"], whole_first, "{b}");
        // Attached already: saving it again breaks nothing more.
        let (s, r) = app
            .patch(&p.admin, &path, json!({"name": "Salle A (est)"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
);

both_backends!(
    bookings_of_the_whole_racing_a_forced_attach_never_meet_the_part,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let (whole, part) = whole_and_room(&app, &p, false).await;
        booked(
            &app,
            &p.booker,
            book(part, p.member, "2027-01-05T10:00", "2027-01-05T12:00"),
        )
        .await;
        let app = Arc::new(app);
        let mut racers = Vec::new();
        for i in 0..8 {
            let (app, token) = (app.clone(), p.booker.clone());
            // Each its own slot on the whole, every one over the part's booking.
            let slot = book(
                whole,
                p.member,
                &format!("2027-01-05T{:02}:00", 4 + i),
                &format!("2027-01-05T{:02}:00", 11 + i),
            );
            racers.push(tokio::spawn(async move {
                app.post(&token, "/api/v1/bookings", slot).await.0
            }));
        }
        let (s, r) = app
            .patch(
                &p.admin,
                &format!("/api/v1/resources/{part}"),
                json!({"parent_id": whole, "force": true}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        for r in racers {
            let s = r.await.unwrap();
            assert!(s == StatusCode::CREATED || s == StatusCode::CONFLICT, "{s}");
        }
        // Whatever the order, the part and the whole never hold the slot together.
        let on_part = active_on_the_5th(&app, &p.admin, part).await;
        let on_whole = active_on_the_5th(&app, &p.admin, whole).await;
        assert!(on_part + on_whole >= 1, "{on_part} + {on_whole}");
        assert!(
            on_part == 0 || on_whole == 0,
            "{on_part} on the part, {on_whole} on the whole"
        );
    }
);

both_backends!(
    longer_buffers_of_a_whole_list_its_bookings_now_too_close_to_a_part,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let (whole, part) = whole_and_room(&app, &p, true).await;
        // The part's booking first, the whole's 10 minutes after it ends.
        let of_part = booked(
            &app,
            &p.booker,
            book(part, p.member, "2027-01-05T10:00", "2027-01-05T11:00"),
        )
        .await;
        let of_whole = booked(
            &app,
            &p.booker,
            book(whole, p.member, "2027-01-05T11:10", "2027-01-05T12:00"),
        )
        .await;
        let whole_path = format!("/api/v1/resources/{whole}");
        // 10 minutes before each booking of the whole: exactly the gap, nothing breaks.
        let (s, r) = app
            .patch(&p.admin, &whole_path, json!({"buffer_before_minutes": 10}))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        // One minute more: the whole's booking, judged with its buffers, meets the part's.
        let (s, e) = app
            .patch(&p.admin, &whole_path, json!({"buffer_before_minutes": 11}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(listed(&e), vec![of_whole]);
        assert_eq!(
            e["bookings"][0]["reason"],
            "temps de battement allongé entre deux réservations"
        );
        // The part's buffers judge the part's bookings: made first, it keeps its place.
        let (s, r) = app
            .patch(
                &p.admin,
                &format!("/api/v1/resources/{part}"),
                json!({"buffer_after_minutes": 30}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (s, r) = app
            .patch(
                &p.admin,
                &whole_path,
                json!({"buffer_before_minutes": 11, "force": true}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(status_of(&app, &p.admin, of_whole).await, "cancelled");
        assert_eq!(status_of(&app, &p.admin, of_part).await, "confirmed");
    }
);
