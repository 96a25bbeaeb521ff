//! The booking engine over HTTP, on SQLite and PostgreSQL.

mod common;

use common::{book, pole, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(
    book_conflict_why_and_what_instead,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle Jaurès",
            "opening_hours": common::weekdays("08:00", "20:00")}),
            )
            .await;
        let other_room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle Louise-Michel"}),
            )
            .await;
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(room, p.member, "2027-01-05T10:00", "2027-01-05T12:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["status"], "confirmed");
        assert_eq!(b["start"], "2027-01-05T09:00:00Z");
        // Half-open: 12:00–14:00 does not clash.
        let (s, _) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(room, p.other, "2027-01-05T12:00", "2027-01-05T14:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let before = app.count("bookings").await;
        let (s, e) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(room, p.other, "2027-01-05T11:00", "2027-01-05T12:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(e["code"], "conflict");
        assert_eq!(e["conflicts"][0]["member_name"], "Les Jardins");
        assert_eq!(e["conflicts"][0]["booking_id"], b["id"]);
        let suggestions = e["suggestions"].as_array().unwrap();
        let same: Vec<&Value> = suggestions
            .iter()
            .filter(|s| s["resource_id"] == room)
            .collect();
        assert_eq!(same.len(), 3, "{e}");
        assert_eq!(
            same[0]["start"], "2027-01-05T08:00:00Z",
            "nearest: 09:00–10:00 local, just before the clash"
        );
        assert!(
            suggestions
                .iter()
                .any(|s| s["resource_id"] == other_room && s["start"] == "2027-01-05T10:00:00Z"),
            "{e}"
        );
        assert_eq!(
            app.count("bookings").await,
            before,
            "a refusal writes nothing"
        );
        // Take a suggestion.
        let pick = &same[0];
        let (s, _) = app.post(&p.admin, "/api/v1/bookings", json!({"resource_id": room, "member_id": p.other, "start": pick["start"], "end": pick["end"]})).await;
        assert_eq!(s, StatusCode::CREATED);
    }
);

both_backends!(every_rule_has_its_code, |app: TestApp| async move {
    let p = pole(&app).await;
    let room = app
        .resource(&p.admin, json!({"kind": "room", "name": "Salle",
            "opening_hours": [{"weekday": 2, "open": "08:00", "close": "18:00"}],
            "min_duration_minutes": 30, "max_duration_minutes": 240, "allowed_categories": ["solidaire"]}))
        .await;
    let open = app
        .resource(&p.admin, json!({"kind": "equipment", "name": "Projecteur"}))
        .await;
    app.post(&p.admin, "/api/v1/closures", json!({"resource_id": open, "start": "2027-02-01T00:00", "end": "2027-02-08T00:00", "reason": "Révision"})).await;
    app.patch(
        &p.admin,
        &format!("/api/v1/members/{}", p.member),
        json!({"pricing_category": "solidaire"}),
    )
    .await;
    let before = app.count("bookings").await;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            book(room, p.member, "2027-01-05T12:00", "2027-01-05T10:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_interval",
        ),
        (
            book(room, p.member, "2027-01-05T10:00", "2027-01-05T10:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_interval",
        ),
        (
            book(room, p.member, "2027-01-05T10:00", "2027-01-05T10:15"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "duration_out_of_bounds",
        ),
        (
            book(room, p.member, "2027-01-05T08:00", "2027-01-05T12:01"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "duration_out_of_bounds",
        ),
        (
            book(room, p.member, "2027-01-05T07:30", "2027-01-05T09:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_opening_hours",
        ),
        (
            book(room, p.member, "2027-01-06T10:00", "2027-01-06T11:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_opening_hours",
        ),
        (
            book(open, p.member, "2027-02-03T10:00", "2027-02-03T11:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "closed",
        ),
        (
            book(open, p.member, "2027-01-03T10:00", "2027-01-03T11:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "in_past",
        ),
        (
            book(open, p.member, "2028-06-01T10:00", "2028-06-01T11:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "beyond_horizon",
        ),
        (
            book(room, p.other, "2027-01-05T10:00", "2027-01-05T11:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_allowed",
        ),
        (
            book(open, p.member, "2027-03-28T02:30", "2027-03-28T04:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            book(open, p.member, "2027-10-31T02:30", "2027-10-31T04:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            book(open, p.member, "9999-01-01T10:00", "9999-01-01T11:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            book(room, p.member, "2027-01-05T10:00", "2037-01-05T10:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "duration_out_of_bounds",
        ),
        (
            book(open, p.member, "demain", "après-demain"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json!({"resource_id": open, "member_id": p.member, "start": "2027-01-05T10:00", "end": "2027-01-05T11:00", "quantity": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json!({"resource_id": open, "member_id": p.member, "start": "2027-01-05T10:00", "end": "2027-01-05T11:00", "quantity": 2}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            book(99999, p.member, "2027-01-05T10:00", "2027-01-05T11:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
    ];
    for (body, status, code) in cases {
        let (s, e) = app.post(&p.admin, "/api/v1/bookings", body.clone()).await;
        assert_eq!(s, status, "{body} → {e}");
        let listed = e["violations"]
            .as_array()
            .is_some_and(|v| v.iter().any(|v| v["code"] == code));
        assert!(e["code"] == code || listed, "{body}: expected {code} → {e}");
        if e["violations"].is_array() {
            assert!(!e["violations"].as_array().unwrap().is_empty(), "{e}");
        }
    }
    // An inactive member may not book.
    app.patch(
        &p.admin,
        &format!("/api/v1/members/{}", p.other),
        json!({"active": false}),
    )
    .await;
    let (s, e) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            book(open, p.other, "2027-01-05T10:00", "2027-01-05T11:00"),
        )
        .await;
    assert_eq!(
        (s, e["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("not_allowed")),
        "{e}"
    );
    // A booker books only for its own member.
    let (s, _) = app
        .post(
            &p.booker,
            "/api/v1/bookings",
            book(open, p.other, "2027-01-05T10:00", "2027-01-05T11:00"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.count("bookings").await, before);
    // The exact bounds are accepted.
    let (s, e) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            book(room, p.member, "2027-01-05T08:00", "2027-01-05T08:30"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let (s, e) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            book(room, p.member, "2027-01-05T14:00", "2027-01-05T18:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
});

both_backends!(capacity_quantities_and_buffers, |app: TestApp| async move {
    let p = pole(&app).await;
    let desks = app
        .resource(
            &p.admin,
            json!({"kind": "desk", "name": "Coworking", "capacity": 12}),
        )
        .await;
    let q = |n: i32, s: &str, e: &str| json!({"resource_id": desks, "member_id": p.member, "start": s, "end": e, "quantity": n});
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            q(3, "2027-01-05T09:00", "2027-01-05T17:00")
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            q(9, "2027-01-05T12:00", "2027-01-05T13:00")
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (s, e) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            q(1, "2027-01-05T12:30", "2027-01-05T14:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["conflicts"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            q(9, "2027-01-05T13:00", "2027-01-05T14:00")
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (_, avail) = app
        .get(
            &p.admin,
            &format!(
                "/api/v1/resources/{desks}/availability?from=2027-01-05T08:00&to=2027-01-05T18:00"
            ),
        )
        .await;
    assert_eq!(
        avail["free"],
        json!([
            {"start": "2027-01-05T07:00:00Z", "end": "2027-01-05T08:00:00Z", "quantity": 12},
            {"start": "2027-01-05T08:00:00Z", "end": "2027-01-05T11:00:00Z", "quantity": 9},
            {"start": "2027-01-05T13:00:00Z", "end": "2027-01-05T16:00:00Z", "quantity": 9},
            {"start": "2027-01-05T16:00:00Z", "end": "2027-01-05T17:00:00Z", "quantity": 12},
        ])
    );
    // Where 9 desks are free: the touching stretches merged, with the fewest free along them;
    // 10 only where all are; 0 or more than the maximum is refused.
    let at_least = |n: &'static str| {
        let app = &app;
        let token = p.admin.clone();
        async move {
            app.get(
                &token,
                &format!("/api/v1/resources/{desks}/availability?from=2027-01-05T08:00&to=2027-01-05T18:00&min_quantity={n}"),
            )
            .await
        }
    };
    let (_, avail) = at_least("9").await;
    assert_eq!(
        avail["free"],
        json!([
            {"start": "2027-01-05T07:00:00Z", "end": "2027-01-05T11:00:00Z", "quantity": 9},
            {"start": "2027-01-05T13:00:00Z", "end": "2027-01-05T17:00:00Z", "quantity": 9},
        ])
    );
    let (_, avail) = at_least("10").await;
    assert_eq!(
        avail["free"],
        json!([
            {"start": "2027-01-05T07:00:00Z", "end": "2027-01-05T08:00:00Z", "quantity": 12},
            {"start": "2027-01-05T16:00:00Z", "end": "2027-01-05T17:00:00Z", "quantity": 12},
        ])
    );
    for bad in ["0", "10001"] {
        let (s, e) = at_least(bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "min_quantity");
    }
    let (s, _) = at_least("beaucoup").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let van = app.resource(&p.admin, json!({"kind": "vehicle", "name": "Trafic", "buffer_before_minutes": 15, "buffer_after_minutes": 30})).await;
    let v = |s: &str, e: &str| book(van, p.member, s, e);
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            v("2027-01-05T10:00", "2027-01-05T12:00")
        )
        .await
        .0,
        StatusCode::CREATED
    );
    // Touching is not enough once buffers exist: 45 minutes must separate the two.
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            v("2027-01-05T12:00", "2027-01-05T13:00")
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            v("2027-01-05T12:44", "2027-01-05T13:00")
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            v("2027-01-05T12:45", "2027-01-05T13:00")
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            v("2027-01-05T08:00", "2027-01-05T09:15")
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (s, e) = app
        .get(
            &p.admin,
            &format!(
                "/api/v1/resources/{van}/availability?from=2027-01-05T00:00&to=2028-06-01T00:00"
            ),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
});

both_backends!(move_cancel_approve_reject, |app: TestApp| async move {
    let p = pole(&app).await;
    let hall = app
        .resource(
            &p.admin,
            json!({"kind": "room", "name": "Salle polyvalente", "requires_approval": true}),
        )
        .await;
    let (s, b) = app
        .post(
            &p.booker,
            "/api/v1/bookings",
            book(hall, p.member, "2027-01-08T18:00", "2027-01-08T22:00"),
        )
        .await;
    assert_eq!(
        (s, b["status"].clone()),
        (StatusCode::CREATED, json!("pending"))
    );
    let id = b["id"].as_i64().unwrap();
    // Pending already holds the slot.
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            book(hall, p.other, "2027-01-08T20:00", "2027-01-08T23:00")
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (s, _) = app
        .post(
            &p.booker,
            &format!("/api/v1/bookings/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "bookers do not approve");
    let (_, queue) = app.get(&p.admin, "/api/v1/bookings?status=pending").await;
    assert_eq!(queue.as_array().unwrap().len(), 1);
    let (s, ok) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, ok["status"].clone()),
        (StatusCode::OK, json!("confirmed"))
    );
    let (s, _) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The approval was for that evening: a member moving it asks again; a new purpose alone
    // does not; the one who decides moves it as approved.
    let (s, renamed) = app
        .patch(
            &p.booker,
            &format!("/api/v1/bookings/{id}"),
            json!({"purpose": "Assemblée générale"}),
        )
        .await;
    assert_eq!(
        (s, renamed[0]["status"].clone()),
        (StatusCode::OK, json!("confirmed")),
        "{renamed}"
    );
    let (s, moved) = app
        .patch(
            &p.booker,
            &format!("/api/v1/bookings/{id}"),
            json!({"start": "2027-01-08T18:00", "end": "2027-01-08T23:00"}),
        )
        .await;
    assert_eq!(
        (s, moved[0]["status"].clone()),
        (StatusCode::OK, json!("pending")),
        "{moved}"
    );
    let (_, queue) = app.get(&p.admin, "/api/v1/bookings?status=pending").await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    let (s, ok) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, ok["status"].clone()),
        (StatusCode::OK, json!("confirmed"))
    );
    let (s, moved) = app
        .patch(
            &p.admin,
            &format!("/api/v1/bookings/{id}"),
            json!({"start": "2027-01-08T19:00", "end": "2027-01-08T23:00"}),
        )
        .await;
    assert_eq!(
        (s, moved[0]["status"].clone()),
        (StatusCode::OK, json!("confirmed")),
        "{moved}"
    );

    let (_, b2) = app
        .post(
            &p.booker,
            "/api/v1/bookings",
            book(hall, p.member, "2027-01-09T10:00", "2027-01-09T12:00"),
        )
        .await;
    let id2 = b2["id"].as_i64().unwrap();
    let (s, _) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{id2}/reject"),
            json!({}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection needs a reason"
    );
    let (s, r) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{id2}/reject"),
            json!({"reason": "Assemblée générale ce jour-là"}),
        )
        .await;
    assert_eq!(
        (s, r["status"].clone(), r["decision_reason"].clone()),
        (
            StatusCode::OK,
            json!("rejected"),
            json!("Assemblée générale ce jour-là")
        )
    );
    // The rejected slot is free again.
    assert_eq!(
        app.post(
            &p.admin,
            "/api/v1/bookings",
            book(hall, p.other, "2027-01-09T10:00", "2027-01-09T12:00")
        )
        .await
        .0,
        StatusCode::CREATED
    );

    // Move re-checks every rule but ignores the booking itself.
    let (s, moved) = app
        .patch(
            &p.booker,
            &format!("/api/v1/bookings/{id}"),
            json!({"start": "2027-01-08T19:00", "end": "2027-01-08T23:00"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(moved[0]["start"], "2027-01-08T18:00:00Z");
    let (s, e) = app
        .patch(
            &p.booker,
            &format!("/api/v1/bookings/{id}"),
            json!({"start": "2027-01-09T11:00", "end": "2027-01-09T13:00"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, _) = app
        .patch(
            &p.booker,
            &format!("/api/v1/bookings/{id}"),
            json!({"end": "2027-01-08T18:00"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Cancel.
    let (s, c) = app.cancel(&p.booker, id).await;
    assert_eq!(
        (s, c[0]["status"].clone()),
        (StatusCode::OK, json!("cancelled"))
    );
    let (s, _) = app.cancel(&p.booker, id).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Another member's booking is not ours to touch: forbidden, since we read it (below).
    let (_, theirs) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            book(hall, p.other, "2027-01-10T10:00", "2027-01-10T12:00"),
        )
        .await;
    let (s, _) = app
        .post(
            &p.booker,
            &format!("/api/v1/bookings/{}/cancel", theirs["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, still) = app
        .get(&p.admin, &format!("/api/v1/bookings/{}", theirs["id"]))
        .await;
    assert_eq!(still["status"], "pending", "{still}");
    // Others see who holds a slot, not why.
    let (_, listed) = app
        .get(&p.booker, &format!("/api/v1/bookings/{}", theirs["id"]))
        .await;
    assert_eq!(listed["member_name"], "Coop'Atelier");
    assert!(listed.get("purpose").is_none());
});

both_backends!(
    pending_bookings_expire_at_their_start,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let hall = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle polyvalente", "requires_approval": true}),
            )
            .await;
        // Written directly in the past: the clock is fixed at 2027-01-04 09:00 local.
        let id = app
            .insert_booking(
                hall,
                1,
                "2027-01-04 07:00",
                "2027-01-04 10:00",
                mutualise::domain::status::BookingStatus::Pending,
            )
            .await;
        let (s, e) = app
            .post(
                &p.admin,
                &format!("/api/v1/bookings/{id}/approve"),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        let (_, b) = app.get(&p.admin, &format!("/api/v1/bookings/{id}")).await;
        assert_eq!(b["status"], "rejected");
        assert!(b["decision_reason"]
            .as_str()
            .unwrap()
            .contains("automatiquement"));
    }
);

both_backends!(
    recurring_series_keep_local_time,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        let series = |rule: &str, skip: bool| {
            json!({"resource_id": room, "member_id": p.member,
        "start": "2027-03-02T09:00", "end": "2027-03-02T11:00", "recurrence": {"rrule": rule}, "skip_conflicts": skip})
        };
        let (s, out) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                series("FREQ=WEEKLY;BYDAY=TU;COUNT=12", false),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{out}");
        let bookings = out["bookings"].as_array().unwrap();
        assert_eq!(bookings.len(), 12);
        // 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC after the last Sunday of March.
        assert_eq!(bookings[3]["start"], "2027-03-23T08:00:00Z");
        assert_eq!(bookings[4]["start"], "2027-03-30T07:00:00Z");
        assert!(out["skipped"].as_array().unwrap().is_empty());

        // All or nothing: a clash refuses the whole series and says which occurrence.
        let before = app.count("bookings").await;
        let (s, e) = app.post(&p.admin, "/api/v1/bookings", json!({"resource_id": room, "member_id": p.other,
        "start": "2027-03-16T10:00", "end": "2027-03-16T10:30", "recurrence": {"rrule": "FREQ=DAILY;COUNT=5"}})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(e["occurrences"].as_array().unwrap().len(), 1);
        assert_eq!(e["occurrences"][0]["start"], "2027-03-16T09:00:00Z");
        assert_eq!(app.count("bookings").await, before);
        // skip_conflicts books the rest.
        let (s, out2) = app.post(&p.admin, "/api/v1/bookings", json!({"resource_id": room, "member_id": p.other,
        "start": "2027-03-16T10:00", "end": "2027-03-16T10:30", "recurrence": {"rrule": "FREQ=DAILY;COUNT=5"}, "skip_conflicts": true})).await;
        assert_eq!(s, StatusCode::CREATED, "{out2}");
        assert_eq!(
            (
                out2["bookings"].as_array().unwrap().len(),
                out2["skipped"].as_array().unwrap().len()
            ),
            (4, 1)
        );

        for bad in [
            "FREQ=YEARLY;COUNT=2",
            "FREQ=WEEKLY",
            "FREQ=DAILY;COUNT=367",
            "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
            "garbage",
        ] {
            let (s, e) = app
                .post(&p.admin, "/api/v1/bookings", series(bad, false))
                .await;
            assert_eq!(
                (s, e["code"].as_str().unwrap()),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_recurrence"),
                "{bad}: {e}"
            );
        }

        // Move this and the following occurrences by one hour (local), then cancel the last ones.
        let eighth = bookings[7]["id"].as_i64().unwrap();
        let (s, moved) = app.patch(&p.booker, &format!("/api/v1/bookings/{eighth}"),
        json!({"start": "2027-04-20T10:00", "end": "2027-04-20T12:00", "scope": "following"})).await;
        assert_eq!(s, StatusCode::OK, "{moved}");
        assert_eq!(moved.as_array().unwrap().len(), 5);
        assert_eq!(moved[4]["start"], "2027-05-18T08:00:00Z");
        let tenth = bookings[9]["id"].as_i64().unwrap();
        let (s, c) = app
            .post(
                &p.booker,
                &format!("/api/v1/bookings/{tenth}/cancel"),
                json!({"scope": "following"}),
            )
            .await;
        assert_eq!((s, c.as_array().unwrap().len()), (StatusCode::OK, 3));
        let series_id = out["series_id"].as_i64().unwrap();
        let (_, all) = app
            .get(
                &p.booker,
                &format!("/api/v1/bookings?resource_id={room}&member_id={}", p.member),
            )
            .await;
        assert_eq!(
            all.as_array()
                .unwrap()
                .iter()
                .filter(|b| b["series_id"] == series_id)
                .count(),
            9
        );
    }
);

both_backends!(
    quotas_composites_and_idempotency,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let hall = app
            .resource(&p.admin, json!({"kind": "room", "name": "Halle"}))
            .await;
        let half_a = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Halle — moitié A", "parent_id": hall}),
            )
            .await;
        let half_b = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Halle — moitié B", "parent_id": hall}),
            )
            .await;
        assert_eq!(
            app.post(
                &p.admin,
                "/api/v1/bookings",
                book(half_a, p.member, "2027-01-05T10:00", "2027-01-05T12:00")
            )
            .await
            .0,
            StatusCode::CREATED
        );
        assert_eq!(
            app.post(
                &p.admin,
                "/api/v1/bookings",
                book(half_b, p.other, "2027-01-05T10:00", "2027-01-05T12:00")
            )
            .await
            .0,
            StatusCode::CREATED
        );
        let (s, e) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(hall, p.other, "2027-01-05T11:00", "2027-01-05T13:00"),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::CONFLICT,
            "a booked half blocks the hall: {e}"
        );
        assert_eq!(
            app.post(
                &p.admin,
                "/api/v1/bookings",
                book(hall, p.other, "2027-01-06T10:00", "2027-01-06T12:00")
            )
            .await
            .0,
            StatusCode::CREATED
        );
        assert_eq!(
            app.post(
                &p.admin,
                "/api/v1/bookings",
                book(half_a, p.member, "2027-01-06T11:00", "2027-01-06T13:00")
            )
            .await
            .0,
            StatusCode::CONFLICT,
            "the hall blocks its halves"
        );

        // Quotas count per member, not per user.
        let (s, q) = app
            .post(
                &p.admin,
                "/api/v1/quotas",
                json!({"kind": "room", "max_minutes_per_month": 300}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{q}");
        assert!(q["description"].as_str().unwrap().contains("5 h par mois"));
        let (s, _) = app
            .post(
                &p.booker,
                "/api/v1/quotas",
                json!({"kind": "room", "max_minutes_per_month": 300}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (_, list) = app.get(&p.booker, "/api/v1/quotas").await;
        assert_eq!(
            list.as_array().unwrap().len(),
            1,
            "quotas are visible to every member"
        );
        // Les Jardins already has 2 h of rooms in January; 3 more fit, 3 h 01 do not.
        let (s, e) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(half_a, p.member, "2027-01-07T08:00", "2027-01-07T11:01"),
            )
            .await;
        assert_eq!(
            (s, e["code"].clone()),
            (StatusCode::CONFLICT, json!("quota_exceeded")),
            "{e}"
        );
        assert_eq!(
            app.post(
                &p.booker,
                "/api/v1/bookings",
                book(half_a, p.member, "2027-01-07T08:00", "2027-01-07T11:00")
            )
            .await
            .0,
            StatusCode::CREATED
        );
        let vans = app
            .resource(&p.admin, json!({"kind": "vehicle", "name": "Zoé"}))
            .await;
        app.post(
            &p.admin,
            "/api/v1/quotas",
            json!({"resource_id": vans, "max_future_bookings": 1}),
        )
        .await;
        assert_eq!(
            app.post(
                &p.booker,
                "/api/v1/bookings",
                book(vans, p.member, "2027-01-07T08:00", "2027-01-07T09:00")
            )
            .await
            .0,
            StatusCode::CREATED
        );
        let (s, e) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(vans, p.member, "2027-01-08T08:00", "2027-01-08T09:00"),
            )
            .await;
        assert_eq!(
            (s, e["code"].clone()),
            (StatusCode::CONFLICT, json!("quota_exceeded"))
        );

        // Idempotency-Key: a retried request books once and gets the same answer.
        let body = book(vans, p.other, "2027-01-09T08:00", "2027-01-09T09:00");
        let send = |key: &'static str, body: Value| {
            let req = app
                .client
                .post(format!("{}/api/v1/bookings", app.base))
                .bearer_auth(&p.admin)
                .header("Idempotency-Key", key)
                .json(&body);
            async move {
                let res = req.send().await.unwrap();
                (res.status(), res.text().await.unwrap())
            }
        };
        let (s1, first) = send("abc-123", body.clone()).await;
        let (s2, again) = send("abc-123", body.clone()).await;
        assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
        assert_eq!(
            serde_json::from_str::<Value>(&first).unwrap(),
            serde_json::from_str::<Value>(&again).unwrap()
        );
        let (_, listed) = app
            .get(
                &p.admin,
                &format!("/api/v1/bookings?resource_id={vans}&member_id={}", p.other),
            )
            .await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        let (s3, _) = send(
            "abc-123",
            book(vans, p.other, "2027-01-10T08:00", "2027-01-10T09:00"),
        )
        .await;
        assert_eq!(
            s3,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a key reused for another request"
        );
    }
);

both_backends!(fifty_clients_race_for_one_slot, |app: TestApp| async move {
    let p = pole(&app).await;
    let room = app
        .resource(&p.admin, json!({"kind": "room", "name": "Salle convoitée"}))
        .await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/bookings", app.base);
        let token = p.admin.clone();
        let member = if i % 2 == 0 { p.member } else { p.other };
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&book(room, member, "2027-01-05T10:00", "2027-01-05T12:00"))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        49,
        "{statuses:?}"
    );
    assert_eq!(app.count("bookings").await, 1);
});

both_backends!(
    racing_bookings_of_one_member_respect_its_quota,
    |app: TestApp| async move {
        // Twelve rooms, one member allowed three future room bookings: twelve simultaneous
        // requests on twelve different rooms give exactly three bookings.
        let p = pole(&app).await;
        let mut rooms = Vec::new();
        for i in 0..12 {
            rooms.push(
                app.resource(
                    &p.admin,
                    json!({"kind": "room", "name": format!("Salle {i:02}")}),
                )
                .await,
            );
        }
        let (s, q) = app
            .post(
                &p.admin,
                "/api/v1/quotas",
                json!({"kind": "room", "member_id": p.member, "max_future_bookings": 3}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{q}");
        let mut tasks = Vec::new();
        for room in rooms {
            let client = app.client.clone();
            let url = format!("{}/api/v1/bookings", app.base);
            let token = p.admin.clone();
            let member = p.member;
            tasks.push(tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&book(room, member, "2027-01-05T10:00", "2027-01-05T12:00"))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                (status, body["code"].clone())
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        let created = answers
            .iter()
            .filter(|a| a.0 == StatusCode::CREATED)
            .count();
        let over = answers
            .iter()
            .filter(|a| a.0 == StatusCode::CONFLICT && a.1 == json!("quota_exceeded"))
            .count();
        assert_eq!((created, over), (3, 9), "{answers:?}");
        let (_, mine) = app
            .get(
                &p.admin,
                &format!("/api/v1/bookings?member_id={}", p.member),
            )
            .await;
        let future = mine
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["start"].as_str().unwrap() >= "2027-01-05")
            .count();
        assert_eq!(future, 3, "{mine}");
    }
);

both_backends!(closed_month_is_frozen, |app: TestApp| async move {
    let p = pole(&app).await;
    // Months close once over: closed from a later day, booked on the test's day.
    let later = app.same_database_at("2027-04-01T08:00:00Z").await;
    let room = app
        .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
        .await;
    let (_, b) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            book(room, p.member, "2027-02-05T10:00", "2027-02-05T12:00"),
        )
        .await;
    // A request still awaiting a decision holds the close back.
    let hall = app
        .resource(
            &p.admin,
            json!({"kind": "room", "name": "Halle", "requires_approval": true}),
        )
        .await;
    let (_, request) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            book(hall, p.member, "2027-02-10T10:00", "2027-02-10T12:00"),
        )
        .await;
    let (s, e) = later
        .post(&p.admin, "/api/v1/allocations/2027-02/close", json!({}))
        .await;
    assert_eq!(
        (s, e["code"].clone()),
        (StatusCode::CONFLICT, json!("pending_requests")),
        "{e}"
    );
    let (s, _) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{}/reject", request["id"]),
            json!({"reason": "Salle réservée à l'AG"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // The room's rules are kept from this booking on: the close must reach them.
    let (s, march) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            book(room, p.member, "2027-03-05T14:00", "2027-03-05T15:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{march}");
    let (s, closed) = later
        .post(&p.admin, "/api/v1/allocations/2027-02/close", json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{closed}");
    assert_eq!(closed["month"], "2027-02");
    assert_eq!(closed["frozen_bookings"], 1, "{closed}");
    let (s, again) = later
        .post(&p.admin, "/api/v1/allocations/2027-02/close", json!({}))
        .await;
    assert_eq!(
        (s, again["code"].clone()),
        (StatusCode::CONFLICT, json!("month_closed"))
    );
    let (s, _) = later
        .post(&p.admin, "/api/v1/allocations/2027-13/close", json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, e) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            book(room, p.member, "2027-02-06T10:00", "2027-02-06T12:00"),
        )
        .await;
    assert_eq!(
        (s, e["code"].clone()),
        (StatusCode::CONFLICT, json!("month_closed")),
        "{e}"
    );
    let (s, _) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{}/cancel", b["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = app
        .call(
            Method::PATCH,
            &p.admin,
            &format!("/api/v1/bookings/{}", b["id"]),
            Some(json!({"start": "2027-03-05T10:00", "end": "2027-03-05T12:00"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
});

both_backends!(
    series_meet_quotas_and_shift_later,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        // 3 h of rooms a month: a weekly 1 h series with 4 Mondays in February breaks it.
        app.post(
            &p.admin,
            "/api/v1/quotas",
            json!({"kind": "room", "max_minutes_per_month": 180}),
        )
        .await;
        let before = app.count("bookings").await;
        let (s, e) = app.post(&p.booker, "/api/v1/bookings", json!({"resource_id": room, "member_id": p.member,
        "start": "2027-02-01T10:00", "end": "2027-02-01T11:00", "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=6"}})).await;
        assert_eq!(
            (s, e["code"].clone()),
            (StatusCode::CONFLICT, json!("quota_exceeded")),
            "{e}"
        );
        assert_eq!(app.count("bookings").await, before);
        // A month-crossing booking counts in each month for the part inside it.
        let (s, e) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                json!({"resource_id": room, "member_id": p.member,
        "start": "2027-02-28T22:00", "end": "2027-03-01T02:00"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        let (s, e) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                json!({"resource_id": room, "member_id": p.member,
        "start": "2027-03-02T10:00", "end": "2027-03-02T12:01"}),
            )
            .await;
        assert_eq!(
            (s, e["code"].clone()),
            (StatusCode::CONFLICT, json!("quota_exceeded")),
            "2 h in March already: {e}"
        );
        app.call(Method::DELETE, &p.admin, "/api/v1/quotas/1", None)
            .await;

        // A weekly series pushed one week later: each occurrence lands on its successor's old slot.
        let (s, out) = app.post(&p.booker, "/api/v1/bookings", json!({"resource_id": room, "member_id": p.member,
        "start": "2027-04-06T09:00", "end": "2027-04-06T10:00", "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=4"}})).await;
        assert_eq!(s, StatusCode::CREATED, "{out}");
        let first = out["bookings"][0]["id"].as_i64().unwrap();
        let (s, moved) = app.patch(&p.booker, &format!("/api/v1/bookings/{first}"),
        json!({"start": "2027-04-13T09:00", "end": "2027-04-13T10:00", "scope": "following"})).await;
        assert_eq!(s, StatusCode::OK, "{moved}");
        assert_eq!(moved[3]["start"], "2027-05-04T07:00:00Z");

        // What has begun cannot be moved: written directly, since the clock says 09:00 local.
        let started = app
            .insert_booking(
                room,
                p.member,
                "2027-01-04 07:30",
                "2027-01-04 09:00",
                mutualise::domain::status::BookingStatus::Confirmed,
            )
            .await;
        let (s, e) = app
            .patch(
                &p.booker,
                &format!("/api/v1/bookings/{started}"),
                json!({"start": "2027-02-10T10:00", "end": "2027-02-10T11:00"}),
            )
            .await;
        assert_eq!(
            (s, e["code"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("in_past")),
            "{e}"
        );
    }
);

// A booking keeps what it read of a resource's settings for the next ones, until any setting
// the rules read changes (triggers raise the rules epoch): each change below, made between
// two bookings, applies to the second, including one made in SQL behind the service's back.
both_backends!(
    every_settings_change_reaches_the_next_booking,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle des fêtes", "capacity": 2}),
            )
            .await;
        let try_book = |body: Value| {
            let (app, token) = (&app, p.booker.clone());
            async move { app.post(&token, "/api/v1/bookings", body).await }
        };
        let slot = |start: &str, end: &str, quantity: i64| {
            let mut b = book(room, p.member, start, end);
            b["quantity"] = json!(quantity);
            b
        };
        let (s, b) = try_book(slot("2027-01-11T10:00", "2027-01-11T11:00", 1)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");

        // Capacity lowered through the API: the slot is now full.
        let path = format!("/api/v1/resources/{room}");
        let (s, b) = app.patch(&p.admin, &path, json!({"capacity": 1})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = try_book(slot("2027-01-11T10:00", "2027-01-11T11:00", 1)).await;
        assert_eq!(
            (s, b["code"].clone()),
            (StatusCode::CONFLICT, json!("conflict")),
            "{b}"
        );

        // Capacity raised in SQL, behind the service's back: two more units fit.
        app.execute_sql(format!(
            "UPDATE resources SET capacity = 3 WHERE id = {room}"
        ))
        .await;
        let (s, b) = try_book(slot("2027-01-11T10:00", "2027-01-11T11:00", 2)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");

        // Opening hours narrowed to Monday mornings: Monday afternoon is refused.
        let (s, b) = app
            .patch(
                &p.admin,
                &path,
                json!({"opening_hours": [{"weekday": 1, "open": "08:00", "close": "12:00"}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = try_book(slot("2027-01-11T13:00", "2027-01-11T14:00", 1)).await;
        assert_eq!(
            (s, b["code"].clone()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!("outside_opening_hours")
            ),
            "{b}"
        );

        // A part attached to the room: its booking takes the whole room.
        let part = app
            .resource(
                &p.admin,
                json!({"kind": "room", "name": "Salle des fêtes — estrade", "parent_id": room}),
            )
            .await;
        let (s, b) = try_book(book(part, p.member, "2027-01-11T08:00", "2027-01-11T09:00")).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = try_book(slot("2027-01-11T08:00", "2027-01-11T09:00", 1)).await;
        assert_eq!(
            (s, b["code"].clone()),
            (StatusCode::CONFLICT, json!("conflict")),
            "{b}"
        );

        // A quota of one hour of rooms a month: Les Jardins has used more already.
        let (s, b) = app
            .post(
                &p.admin,
                "/api/v1/quotas",
                json!({"kind": "room", "max_minutes_per_month": 60}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = try_book(slot("2027-01-18T09:00", "2027-01-18T10:00", 1)).await;
        assert_eq!(
            (s, b["code"].clone()),
            (StatusCode::CONFLICT, json!("quota_exceeded")),
            "{b}"
        );
    }
);

both_backends!(
    a_closure_applies_from_the_next_booking_on,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        // 10:00–11:00 on a day of February.
        let try_book = |day: u32| {
            let (app, token, member) = (&app, p.booker.clone(), p.member);
            async move {
                let (start, end) = (
                    format!("2027-02-{day:02}T10:00"),
                    format!("2027-02-{day:02}T11:00"),
                );
                app.post(&token, "/api/v1/bookings", book(room, member, &start, &end))
                    .await
            }
        };
        // A first booking keeps the room's rules between requests; closures added or removed
        // afterwards (of the room, of the whole pole) apply to the next booking.
        let (s, b) = try_book(1).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, room_closure) = app.post(&p.admin, "/api/v1/closures", json!({"resource_id": room, "start": "2027-02-02T00:00", "end": "2027-02-03T00:00", "reason": "Peinture"})).await;
        assert_eq!(s, StatusCode::CREATED, "{room_closure}");
        let (s, e) = try_book(2).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["violations"][0]["code"], "closed", "{e}");
        let (s, pole_closure) = app.post(&p.admin, "/api/v1/closures", json!({"start": "2027-02-04T00:00", "end": "2027-02-05T00:00", "reason": "Fermeture du pôle"})).await;
        assert_eq!(s, StatusCode::CREATED, "{pole_closure}");
        let (s, e) = try_book(4).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["violations"][0]["code"], "closed", "{e}");
        // Removed: the day can be booked again.
        let (s, _) = app
            .call(
                Method::DELETE,
                &p.admin,
                &format!("/api/v1/closures/{}", room_closure["id"]),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, b) = try_book(2).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
);

/// PostgreSQL: attaching a part to a whole waits for a booking of that whole in progress (its
/// row locked `FOR UPDATE`, as a booking locks the whole and its parts as they stand before
/// it judges), so the booking never judges the whole without the part's bookings while the
/// part is attached beside it. What makes it wait is the foreign key `parent_id`: checking it
/// takes a key-share lock on the whole, which `FOR UPDATE` excludes; a booking that comes
/// second waits for the attachment, then reads the rules epoch it raised and the new
/// composition. (Detaching needs no such lock: the booking holds the part's row too.) SQLite
/// runs one write at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attaching_a_part_waits_for_a_booking_of_its_whole() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let p = pole(&app).await;
    let whole = app
        .resource(&p.admin, json!({"kind": "room", "name": "Halle"}))
        .await;
    let part = app
        .resource(
            &p.admin,
            json!({"kind": "room", "name": "Halle — moitié A"}),
        )
        .await;
    let mutualise::config::DatabaseUrl::Postgres(url) = &app.url else {
        unreachable!("a PostgreSQL test app")
    };
    let mut booking = diesel::PgConnection::establish(url).expect("connect");
    booking
        .batch_execute(&format!(
            "BEGIN; SELECT id FROM resources WHERE id = {whole} FOR UPDATE;"
        ))
        .unwrap();

    let path = format!("/api/v1/resources/{part}");
    let attach = app.patch(&p.admin, &path, json!({"parent_id": whole}));
    tokio::pin!(attach);
    let early = tokio::time::timeout(std::time::Duration::from_millis(500), &mut attach).await;
    assert!(
        early.is_err(),
        "attached while a booking of the whole held it: {early:?}"
    );
    booking.batch_execute("COMMIT").unwrap();
    let (s, b) = attach.await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["parent_id"], json!(whole), "{b}");
}
