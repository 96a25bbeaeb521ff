//! What the API shows of bookings: refusals and warnings with their figures, readable skipped
//! occurrences, what the caller may do, listings a page at a time — and bookings kept right
//! when a resource's buffers change or a series starts in the October fold. SQLite and
//! PostgreSQL.

mod common;

use common::{book, pole, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    skipped_occurrences_say_why_in_words,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        let (s, _) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(room, p.member, "2027-02-03T09:00", "2027-02-03T12:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, out) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                json!({"resource_id": room, "member_id": p.other, "start": "2027-02-01T10:00",
                       "end": "2027-02-01T11:00", "recurrence": {"rrule": "FREQ=DAILY;COUNT=4"},
                       "skip_conflicts": true}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{out}");
        let skipped = &out["skipped"][0];
        assert_eq!(skipped["start"], "2027-02-03T09:00:00Z");
        let message = skipped["violations"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("Les Jardins") && message.contains("mercredi 3 février, 9 h – 12 h"),
            "{message}"
        );
        assert!(
            !message.contains('{') && !message.contains("booking_id"),
            "no raw data in a message: {message}"
        );
        assert_eq!(skipped["violations"][0]["code"], "capacity_exceeded");
        assert_eq!(skipped["conflicts"][0]["member_name"], "Les Jardins");
    }
);

both_backends!(
    lowered_buffers_free_the_time_at_once,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let van = app
            .resource(
                &p.admin,
                json!({"kind": "vehicle", "name": "Trafic", "buffer_after_minutes": 60}),
            )
            .await;
        let (s, _) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(van, p.member, "2027-01-05T10:00", "2027-01-05T11:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, e) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(van, p.other, "2027-01-05T11:30", "2027-01-05T12:30"),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::CONFLICT,
            "the hour after is for the vehicle check: {e}"
        );
        // The check now takes no time: the slot right after is free, on both backends (the
        // PostgreSQL exclusion constraint reads the stored spans).
        let (s, r) = app
            .patch(
                &p.admin,
                &format!("/api/v1/resources/{van}"),
                json!({"buffer_after_minutes": 0}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let (s, e) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(van, p.other, "2027-01-05T11:00", "2027-01-05T12:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        // Raising it again would leave the two neighbours too close: refused with the later
        // one listed (tests/guard_rails.rs), and nothing changes.
        let (s, r) = app
            .patch(
                &p.admin,
                &format!("/api/v1/resources/{van}"),
                json!({"buffer_after_minutes": 45}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        assert_eq!(r["code"], "breaks_bookings");
        let (s, _) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(van, p.member, "2027-01-05T12:00", "2027-01-05T13:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "still no check time after 12:00");
    }
);

both_backends!(
    a_series_in_the_october_fold_starts_as_written,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let projector = app
            .resource(
                &p.admin,
                json!({"kind": "equipment", "name": "Vidéoprojecteur"}),
            )
            .await;
        // The second 02:30 of 31 October (after the clocks go back), written with its offset.
        let series = |count: u32| {
            json!({"resource_id": projector, "member_id": p.member,
                   "start": "2027-10-31T02:30:00+01:00", "end": "2027-10-31T03:30:00+01:00",
                   "recurrence": {"rrule": format!("FREQ=DAILY;COUNT={count}")}})
        };
        let (s, out) = app.post(&p.admin, "/api/v1/bookings", series(2)).await;
        assert_eq!(s, StatusCode::CREATED, "{out}");
        let b = &out["bookings"];
        assert_eq!(
            (b[0]["start"].as_str(), b[0]["end"].as_str()),
            (Some("2027-10-31T01:30:00Z"), Some("2027-10-31T02:30:00Z"))
        );
        assert_eq!(
            (b[1]["start"].as_str(), b[1]["end"].as_str()),
            (Some("2027-11-01T01:30:00Z"), Some("2027-11-01T02:30:00Z"))
        );
        // The same instants without recurrence are booked the same.
        let (s, one) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                json!({"resource_id": projector, "member_id": p.other,
                       "start": "2027-10-31T02:30:00+02:00", "end": "2027-10-31T02:30:00+01:00"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{one}");
        assert_eq!(
            (one["start"].as_str(), one["end"].as_str()),
            (Some("2027-10-31T00:30:00Z"), Some("2027-10-31T01:30:00Z"))
        );
    }
);

both_backends!(
    refusals_and_warnings_carry_their_figures,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle", "min_duration_minutes": 30}),
            )
            .await;
        let (s, e) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(room, p.member, "2027-01-05T10:00", "2027-01-05T10:15"),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let v = &e["violations"][0];
        assert_eq!(
            (&v["code"], &v["limit"], &v["actual"], &v["unit"]),
            (
                &json!("duration_out_of_bounds"),
                &json!(30),
                &json!(15),
                &json!("minutes")
            ),
            "{e}"
        );
        // A monthly quota names its month.
        let (s, _) = app
            .post(
                &p.admin,
                "/api/v1/quotas",
                json!({"kind": "room", "max_minutes_per_month": 120}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, e) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(room, p.member, "2027-02-01T09:00", "2027-02-01T12:00"),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("quota_exceeded"))
        );
        let v = &e["violations"][0];
        assert_eq!(
            (&v["limit"], &v["actual"]),
            (&json!(120), &json!(180)),
            "{e}"
        );
        assert_eq!(v["period_start"], "2027-01-31T23:00:00Z");
        assert_eq!(v["period_end"], "2027-02-28T23:00:00Z");
        // A request that needs approval and starts within a day is booked, with a warning.
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
                book(hall, p.member, "2027-01-04T18:00", "2027-01-04T20:00"),
            )
            .await;
        assert_eq!(
            (s, b["status"].as_str()),
            (StatusCode::CREATED, Some("pending"))
        );
        assert_eq!(b["warnings"][0]["code"], "approval_deadline_near", "{b}");
        // (Another member: the room quota counts the hall too.)
        let (s, b) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(hall, p.other, "2027-01-12T18:00", "2027-01-12T20:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert!(b.get("warnings").is_none(), "{b}");
    }
);

both_backends!(
    views_say_what_the_caller_may_do,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        let hall = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Halle", "requires_approval": true}),
            )
            .await;
        let (_, mine) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(room, p.member, "2027-01-05T10:00", "2027-01-05T11:00"),
            )
            .await;
        let (_, theirs) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(room, p.other, "2027-01-05T14:00", "2027-01-05T15:00"),
            )
            .await;
        let (_, pending) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(hall, p.member, "2027-01-07T10:00", "2027-01-07T11:00"),
            )
            .await;
        let flags = |b: &Value| {
            (
                b["can_move"].as_bool().unwrap(),
                b["can_cancel"].as_bool().unwrap(),
                b["can_decide"].as_bool().unwrap(),
            )
        };
        assert_eq!(flags(&mine), (true, true, false));
        let (_, seen) = app
            .get(&p.booker, &format!("/api/v1/bookings/{}", theirs["id"]))
            .await;
        assert_eq!(flags(&seen), (false, false, false));
        assert!(
            seen.get("purpose").is_none(),
            "another member's details stay private"
        );
        assert_eq!(flags(&pending), (true, true, false));
        let (_, as_admin) = app
            .get(&p.admin, &format!("/api/v1/bookings/{}", pending["id"]))
            .await;
        assert_eq!(flags(&as_admin), (true, true, true));
        // Approved, then cancelled: the decision stays, the cancellation has its own fields.
        let (s, _) = app
            .post(
                &p.admin,
                &format!("/api/v1/bookings/{}/approve", pending["id"]),
                json!({"reason": "Bon pour l'AG"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, c) = app
            .post(
                &p.booker,
                &format!("/api/v1/bookings/{}/cancel", pending["id"]),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        let c = &c[0];
        assert_eq!(c["status"], "cancelled");
        assert_eq!(c["decision_reason"], "Bon pour l'AG");
        assert_eq!(c["cancelled_at"], "2027-01-04T08:00:00Z");
        assert_eq!(flags(c), (false, false, false));
    }
);

both_backends!(listings_come_in_pages, |app: TestApp| async move {
    let p = pole(&app).await;
    let desks = app
        .resource(
            &p.admin,
            json!({"kind": "desk", "name": "Coworking", "capacity": 12}),
        )
        .await;
    let mut created = Vec::new();
    for day in 5..12 {
        let member = if day % 2 == 0 { p.member } else { p.other };
        let (s, b) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(
                    desks,
                    member,
                    &format!("2027-01-{day:02}T09:00"),
                    &format!("2027-01-{day:02}T12:00"),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        created.push(b["id"].as_i64().unwrap());
    }
    let get = |path: String| {
        let req = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&p.admin);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            let header = |n: &str| {
                res.headers()
                    .get(n)
                    .map(|v| v.to_str().unwrap().to_string())
            };
            let (total, link) = (header("x-total-count"), header("link"));
            (status, total, link, res.json::<Value>().await.unwrap())
        }
    };
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/bookings?resource_id={desks}&limit=3");
    let mut pages = 0;
    loop {
        let (s, total, link, body) = get(path.clone()).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(total.as_deref(), Some("7"));
        let items = body.as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|b| b["id"].as_i64().unwrap()));
        pages += 1;
        match link {
            Some(l) => {
                assert!(l.ends_with("; rel=\"next\""), "{l}");
                path = l[1..l.find('>').unwrap()].to_string();
                assert!(path.contains(&format!("resource_id={desks}")), "{path}");
            }
            None => break,
        }
    }
    assert_eq!(
        (pages, seen),
        (3, created),
        "every booking once, in start order"
    );
    // "mine": the member's own for its booker, everything for the pole's team.
    let (_, _, _, body) = get(format!("/api/v1/bookings?resource_id={desks}&mine=true")).await;
    assert_eq!(body.as_array().unwrap().len(), 7, "{body}");
    let res = app
        .client
        .get(format!(
            "{}/api/v1/bookings?resource_id={desks}&mine=true",
            app.base
        ))
        .bearer_auth(&p.booker)
        .send()
        .await
        .unwrap();
    let mine: Value = res.json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 3, "{mine}");
    for bad in ["limit=0", "limit=5001", "cursor=garbage", "status=archived"] {
        let (s, e) = app.get(&p.admin, &format!("/api/v1/bookings?{bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
        assert_eq!(e["code"], "invalid_query", "{bad}: {e}");
    }
    // The OpenAPI document says so.
    let (_, doc) = app.get("", "/api/v1/openapi.json").await;
    let params = doc["paths"]["/api/v1/bookings"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["in"].as_str().unwrap().to_string(),
            )
        })
        .collect::<Vec<_>>();
    for name in ["cursor", "limit", "from", "to", "status", "mine"] {
        assert!(
            params.contains(&(name.to_string(), "query".to_string())),
            "{name} in {params:?}"
        );
    }
});

both_backends!(
    a_dense_pool_counts_other_members_bookings,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let hours = common::weekdays("08:00", "18:00");
        let pool = app
            .resource(
                &p.admin,
                json!({"kind": "desk", "name": "Coworking", "capacity": 12, "opening_hours": hours}),
            )
            .await;
        let mut theirs = Vec::new();
        for _ in 0..5 {
            let (s, b) = app
                .post(
                    &p.admin,
                    "/api/v1/bookings",
                    book(pool, p.other, "2027-01-05T09:00", "2027-01-05T10:00"),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
            theirs.push(b["id"].as_i64().unwrap());
        }
        let (s, mine) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(pool, p.member, "2027-01-05T09:00", "2027-01-05T10:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{mine}");

        // The booker: its own booking opens, the other member's five are one count, not five
        // « Réservé ».
        let web = common::Browser::sign_in(&app, "booker@jardins.test").await;
        let week = format!("/resources/{pool}/week?date=2027-01-05");
        let (s, page, _) = web.get(&week).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains(&format!("href=\"/bookings/{}\"", mine["id"])),
            "{page}"
        );
        assert_eq!(page.matches("+ 5 autres réservations").count(), 1, "{page}");
        assert!(!page.contains("class=\"chip other\""), "{page}");
        assert!(page.contains("6/12 libres"), "{page}");
        assert!(!page.contains("/bookings?resource_id="), "{page}");

        // The pole's team may read them: the count links to that day's list, which has them.
        let admin = common::Browser::sign_in(&app, "admin@pole.test").await;
        let (s, page, _) = admin.get(&week).await;
        assert_eq!(s, StatusCode::OK);
        let day_list =
            format!("/bookings?resource_id={pool}&amp;from_date=2027-01-05&amp;to_date=2027-01-05");
        assert!(page.contains(&format!("href=\"{day_list}\"")), "{page}");
        assert!(page.contains("6 réservations"), "{page}");
        let (s, list, _) = admin.get(&day_list.replace("&amp;", "&")).await;
        assert_eq!(s, StatusCode::OK);
        for id in &theirs {
            assert!(list.contains(&format!("/bookings/{id}\"")), "{list}");
        }

        // Three of them are shown one by one again.
        for id in &theirs[..2] {
            let (s, _) = app
                .post(
                    &p.admin,
                    &format!("/api/v1/bookings/{id}/cancel"),
                    json!({}),
                )
                .await;
            assert_eq!(s, StatusCode::OK);
        }
        let (_, page, _) = web.get(&week).await;
        assert!(!page.contains("autres réservations"), "{page}");
        assert_eq!(page.matches("class=\"chip other\"").count(), 3, "{page}");
    }
);

/// The `(start, end)` of every « libre » link of a calendar page.
fn free_links(page: &str) -> Vec<(String, String)> {
    page.split("<a class=\"slot\" href=\"")
        .skip(1)
        .map(|rest| {
            let href = &rest[..rest.find('"').unwrap()];
            let param = |name: &str| {
                let from = href.find(&format!("{name}=")).unwrap() + name.len() + 1;
                href[from..].split("&amp;").next().unwrap().to_string()
            };
            (param("start"), param("end"))
        })
        .collect()
}

both_backends!(
    calendars_offer_exactly_what_the_engine_accepts,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let hours = common::weekdays("08:00", "20:00");
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle Jaurès", "opening_hours": hours,
                       "buffer_after_minutes": 15, "min_duration_minutes": 30}),
            )
            .await;
        // Another member's half-hour-aligned booking, one of the booker's own, a closure.
        let (s, theirs) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(room, p.other, "2027-01-05T09:30", "2027-01-05T11:30"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{theirs}");
        let (s, mine) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(room, p.member, "2027-01-05T14:00", "2027-01-05T15:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{mine}");
        let (s, _) = app
            .post(&p.admin, "/api/v1/closures", json!({"resource_id": room, "start": "2027-01-06T16:00", "end": "2027-01-06T17:00", "reason": "Travaux"}))
            .await;
        assert_eq!(s, StatusCode::CREATED);

        let web = common::Browser::sign_in(&app, "booker@jardins.test").await;
        // A date or month that cannot be read: the current period, said so.
        for (path, said) in [
            (
                format!("/resources/{room}/week?date=demain"),
                "la semaine en cours est affichée",
            ),
            (
                format!("/resources/{room}/month?month=2027-13"),
                "le mois en cours est affiché",
            ),
            (
                "/calendar?kind=room&date=2027-02-30".to_string(),
                "aujourd&#39;hui est affiché",
            ),
        ] {
            let (s, page, _) = web.get(&path).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert!(
                page.contains(said) || page.contains(&said.replace("&#39;", "'")),
                "{path}: {page}"
            );
        }
        let (s, page, _) = web
            .get(&format!("/resources/{room}/week?date=2027-01-05"))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(!page.contains("n'est pas lisible") && !page.contains("n&#39;est pas lisible"));
        // The buffer's quarter of an hour sets the grid. A new booking needs its own buffer
        // before theirs: free until 09:15, too short from 09:00 for the 30-minute minimum.
        assert!(
            page.contains("Créneaux d&#39;un quart d&#39;heure")
                || page.contains("Créneaux d'un quart d'heure"),
            "{page}"
        );
        assert!(page.contains(&format!("/bookings/new?resource_id={room}&amp;start=2027-01-05T08:00&amp;end=2027-01-05T09:00")), "{page}");
        assert!(!page.contains("start=2027-01-05T09:00&amp;"), "{page}");
        // Another member's booking says « Réservé » and opens nothing; the booker's own opens.
        assert!(
            !page.contains(&format!("href=\"/bookings/{}\"", theirs["id"])),
            "{page}"
        );
        assert!(page.contains("Réservé"));
        assert!(page.contains(&format!("href=\"/bookings/{}\"", mine["id"])));
        assert!(page.contains("class=\"badge own\""));
        // Every link has a name a screen reader can tell apart.
        assert!(
            page.contains("réserver Salle Jaurès, mardi 5 janvier, 12 h – 13 h"),
            "{page}"
        );

        // Each free link of Tuesday and Wednesday books without refusal…
        let links: Vec<(String, String)> = free_links(&page)
            .into_iter()
            .filter(|(s, _)| s.starts_with("2027-01-05") || s.starts_with("2027-01-06"))
            .collect();
        assert!(links.len() > 40, "{links:?}");
        for (start, end) in &links {
            let (s, b) = app
                .post(
                    &p.admin,
                    "/api/v1/bookings",
                    book(room, p.member, start, end),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{start}–{end}: {b}");
            let (s, _) = app
                .post(
                    &p.admin,
                    &format!("/api/v1/bookings/{}/cancel", b["id"]),
                    json!({}),
                )
                .await;
            assert_eq!(s, StatusCode::OK);
        }
        // …and each quarter of Tuesday's open hours without a link is refused.
        let offered: Vec<&str> = links.iter().map(|(s, _)| s.as_str()).collect();
        for q in 0..48 {
            let start = format!("2027-01-05T{:02}:{:02}", 8 + q / 4, q % 4 * 15);
            if offered.contains(&start.as_str()) {
                continue;
            }
            let end = format!("2027-01-05T{:02}:{:02}", 8 + (q + 2) / 4, (q + 2) % 4 * 15);
            let (s, b) = app
                .post(
                    &p.admin,
                    "/api/v1/bookings",
                    book(room, p.member, &start, &end),
                )
                .await;
            assert_ne!(
                s,
                StatusCode::CREATED,
                "{start} shown busy but accepted: {b}"
            );
        }

        // The day planning and the month.
        let (s, page, _) = web.get("/calendar?kind=room&date=2027-01-06").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("Salle Jaurès")
                && page.contains("fermé")
                && page.contains("class=\"stretches\""),
            "{page}"
        );
        let (s, page, _) = web
            .get(&format!("/resources/{room}/month?month=2027-01"))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Salle Jaurès — janvier 2027"), "{page}");
        assert!(page.contains(&format!("/resources/{room}/week?date=2027-01-05")));
        // Tuesday 5: 08:00–09:15, 11:45–13:45 and 15:15–20:00 (buffers on both sides).
        assert!(page.contains("8 h libres"), "{page}");

        // An always-open resource draws the whole day and points to the working day.
        let van = app
            .resource(&p.admin, json!({"kind": "vehicle", "name": "Kangoo"}))
            .await;
        let (s, page, _) = web
            .get(&format!("/resources/{van}/week?date=2027-01-05"))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("id=\"r0\"") && page.contains("href=\"#r420\""),
            "{page}"
        );
    }
);
