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
            "stored to the minute, the same on both backends"
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
        // Seconds are dropped as well: instants are on whole minutes.
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                common::book(
                    room,
                    p.member,
                    "2027-01-05T12:00:30+01:00",
                    "2027-01-05T13:00:59+01:00",
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["start"], "2027-01-05T11:00:00Z");
        assert_eq!(b["end"], "2027-01-05T12:00:00Z");
        let (s, b) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                common::book(room, p.member, "2027-01-05T13:00", "2027-01-05T13:30"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "13:00 is free: {b}");
    }
);

/// Under sustained booking writes the SQLite WAL file stays under its bound (it used to grow
/// by ~9 KB per booking, for ever), and once the writes stop it is truncated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_wal_stays_bounded_and_shrinks_when_idle() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    const LIMIT: u64 = 8 * 1024 * 1024;
    let app = TestApp::sqlite_with(&[("MUTUALISE_SQLITE_WAL_LIMIT_MB", "8")]).await;
    let mutualise::config::DatabaseUrl::Sqlite(path) = &app.url else {
        unreachable!()
    };
    let wal = std::path::PathBuf::from(format!("{path}-wal"));
    let p = pole(&app).await;
    let mut rooms = Vec::new();
    for i in 0..16 {
        rooms.push(
            app.resource(
                &p.admin,
                json!({"kind": "room", "name": format!("Salle {i:02}")}),
            )
            .await,
        );
    }
    let (peak, done) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let sampler = std::thread::spawn({
        let (peak, done, wal) = (peak.clone(), done.clone(), wal.clone());
        move || {
            while !done.load(Ordering::Relaxed) {
                let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
                peak.fetch_max(size, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    });
    // 16 clients, each on its own room: 200 half-hour bookings one after the other.
    const PER_ROOM: i64 = 200;
    let first = chrono::NaiveDate::from_ymd_opt(2027, 1, 5)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let mut clients = Vec::new();
    for room in rooms {
        let (client, base, token, member) = (
            app.client.clone(),
            app.base.clone(),
            p.admin.clone(),
            p.member,
        );
        clients.push(tokio::spawn(async move {
            let mut created = 0;
            for k in 0..PER_ROOM {
                let start = first + chrono::Duration::minutes(30 * k);
                let end = start + chrono::Duration::minutes(30);
                let f = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M").to_string();
                let res = client
                    .post(format!("{base}/api/v1/bookings"))
                    .bearer_auth(&token)
                    .json(&common::book(room, member, &f(start), &f(end)))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
                created += 1;
            }
            created
        }));
    }
    let mut created = 0;
    for c in clients {
        created += c.await.unwrap();
    }
    assert_eq!(created, 16 * PER_ROOM);
    let during = peak.load(Ordering::Relaxed);
    // The load was heavy enough to need starting the WAL over (half the bound)…
    assert!(during >= LIMIT / 2, "WAL peak {during} B: load too light");
    // …and the file never passed the bound.
    assert!(
        during < LIMIT,
        "WAL peak {during} B over the {LIMIT} B bound"
    );
    // Idle, it is truncated (a hang guard, not a timing assertion).
    let started = std::time::Instant::now();
    loop {
        let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
        if size < 1024 * 1024 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "WAL still {size} B long after the writes stopped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    assert_eq!(app.count("bookings").await, 16 * PER_ROOM);
}

/// PostgreSQL cuts every connection of the service (a restart, an administrator's
/// `pg_terminate_backend`). Pooled connections are handed out untested while recently used, so
/// the request that finds its connection lost answers 503 with Retry-After; from then on each
/// pooled connection is tested on its next checkout and replaced, and the next requests succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_postgres_connections_are_replaced_after_one_503() {
    use diesel::{Connection, RunQueryDsl};
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let admin = app.admin().await;
    for _ in 0..5 {
        let (s, b) = app.get(&admin, "/api/v1/me").await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let mutualise::config::DatabaseUrl::Postgres(url) = app.url.clone() else {
        unreachable!("a PostgreSQL test app");
    };
    let cut = tokio::task::spawn_blocking(move || {
        let mut c = diesel::PgConnection::establish(&url).unwrap();
        #[derive(diesel::QueryableByName)]
        struct Cut {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .get_result::<Cut>(&mut c)
        .unwrap()
        .n
    })
    .await
    .unwrap();
    assert!(cut >= 1, "the service's connections were cut");
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let res = app
            .client
            .get(format!("{}/api/v1/me", app.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(res.headers().contains_key("retry-after"));
        }
        statuses.push(res.status());
    }
    assert!(
        [StatusCode::OK, StatusCode::SERVICE_UNAVAILABLE].contains(&statuses[0]),
        "{statuses:?}"
    );
    assert!(
        statuses[1..].iter().all(|s| *s == StatusCode::OK),
        "after the first answer every request is served: {statuses:?}"
    );
}

// Roles and memberships are kept between requests until the access epoch moves (triggers on
// roles, memberships and members): a change, through the API or in SQL behind the service's
// back, applies from the next request on.
both_backends!(
    a_change_of_rights_applies_from_the_next_request,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let member = app.member(&admin, "Les Jardins").await;
        let (id, token) = app
            .user("gestion@pole.test", &["resource_manager"], &[])
            .await;
        let room = |name: &str| json!({"kind": "room", "name": name});
        let (s, b) = app.post(&token, "/api/v1/resources", room("Salle A")).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");

        let (s, b) = app
            .patch(&admin, &format!("/api/v1/users/{id}"), json!({"roles": []}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = app.post(&token, "/api/v1/resources", room("Salle B")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "the role is gone: {b}");

        let (_, me) = app.get(&token, "/api/v1/me").await;
        assert_eq!(me["memberships"], json!([]));
        app.execute_sql(format!(
            "INSERT INTO memberships (user_id, member_id, role) VALUES ({id}, {member}, 'booker')"
        ))
        .await;
        let (_, me) = app.get(&token, "/api/v1/me").await;
        assert_eq!(me["memberships"][0]["member_id"], json!(member), "{me}");
        assert_eq!(me["memberships"][0]["role"], json!("booker"), "{me}");
    }
);

/// The kind of a resource as the store reads it, or the error as logged.
async fn kind_of(app: &TestApp, room: i64) -> Result<&'static str, String> {
    app.with_conn(move |c| {
        Ok(
            mutualise::store::resources::find(c, mutualise::domain::ids::ResourceId(room))
                .map(|r| r.row.kind.as_str())
                .map_err(|e| format!("{e:?}")),
        )
    })
    .await
}

both_backends!(
    an_unknown_value_of_a_closed_set_is_an_error_never_a_default,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let room = app
            .resource(&admin, json!({"kind": "room", "name": "Salle Jaurès"}))
            .await;
        assert_eq!(kind_of(&app, room).await, Ok("room"));
        // Written behind the service's back: read as an error that names the value.
        app.execute_sql(format!(
            "UPDATE resources SET kind = 'fusée' WHERE id = {room}"
        ))
        .await;
        let err = kind_of(&app, room).await.unwrap_err();
        assert!(
            err.contains("type de ressource inconnu en base") && err.contains("fusée"),
            "{err}"
        );
    }
);
