//! Production hardening: the pole keeps an administrator, throttled answers say when to come
//! back, oversized bodies get 413, and what a signed-in person sees is never cached.

mod common;

use common::{pole, TestApp};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    the_last_active_administrator_stays,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let (_, me) = app.get(&admin, "/api/v1/me").await;
        let me = me["id"].as_i64().unwrap();
        let (other, _) = app.user("second@pole.test", &["admin"], &[]).await;
        // Another administrator may be deactivated…
        let (s, b) = app
            .patch(
                &admin,
                &format!("/api/v1/users/{other}"),
                json!({"active": false}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        // …oneself never, and the last one neither.
        let (s, b) = app
            .patch(
                &admin,
                &format!("/api/v1/users/{me}"),
                json!({"active": false}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["errors"][0]["field"], "active");
        let (s, b) = app
            .patch(&admin, &format!("/api/v1/users/{me}"), json!({"roles": []}))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let (s, b) = app.get(&admin, &format!("/api/v1/users/{me}")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(b["active"], true);
    }
);

both_backends!(
    throttled_sign_ins_say_when_to_retry,
    |app: TestApp| async move {
        app.admin().await;
        let mut last = None;
        for _ in 0..8 {
            let res = app
                .client
                .post(format!("{}/api/v1/auth/token", app.base))
                .json(&json!({"email": "admin@pole.test", "password": "faux mot de passe"}))
                .send()
                .await
                .unwrap();
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                last = Some(res);
                break;
            }
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = last.expect("throttled after repeated failures");
        // Five free failures, then a wait of one second (doubling with each further failure).
        assert_eq!(res.headers()["retry-after"], "1");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["retry_after"], 1);
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("Réessayez dans 1 seconde"),
            "{body}"
        );
    }
);

both_backends!(
    oversized_bodies_get_413_and_change_nothing,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let before = app.count("members").await;
        let huge = "x".repeat(3 * 1024 * 1024);
        let res = app
            .client
            .post(format!("{}/api/v1/members", app.base))
            .bearer_auth(&p.admin)
            .header("content-type", "application/json")
            .body(format!(
                "{{\"name\": \"{huge}\", \"legal_form\": \"association\"}}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "payload_too_large");
        assert_eq!(app.count("members").await, before);
    }
);

both_backends!(
    signed_in_answers_are_not_cached,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let browser = common::Browser::sign_in(&app, "admin@pole.test").await;
        let res = browser
            .client
            .get(format!("{}/", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let res = app
            .client
            .get(format!("{}/api/v1/members", app.base))
            .bearer_auth(&p.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["cache-control"], "no-store");
        // The sign-in page, to anyone, may be cached as the browser sees fit.
        let res = app
            .client
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("cache-control").is_none());
    }
);

both_backends!(
    fractions_of_a_second_never_hold_a_slot,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let room = app
            .resource(&p.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                common::book(
                    room,
                    p.member,
                    "2027-01-05T10:00:00.250+01:00",
                    "2027-01-05T11:00:00.500+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(
            b["end"], "2027-01-05T10:00:00Z",
            "stored to the second, the same on both backends"
        );
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                common::book(
                    room,
                    p.member,
                    "2027-01-05T11:00:00+01:00",
                    "2027-01-05T12:00:00+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "the next hour is free: {b}");
    }
);
