//! JSON API v1 over HTTP against the real router, on SQLite and PostgreSQL.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;

both_backends!(healthz_reports_the_database, |app: TestApp| async move {
    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(
        body["database"],
        if app.backend == mutualise::store::Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
});

both_backends!(
    token_login_throttling_and_revocation,
    |app: TestApp| async move {
        app.user("anne@pole.test", &["treasurer"], &[]).await;
        let (s, body) = app
            .post(
                "",
                "/api/v1/auth/token",
                json!({"email": "Anne@Pole.test", "password": common::PASSWORD}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let token = body["token"].as_str().unwrap().to_string();
        assert!(body["expires_at"].as_str().unwrap().starts_with("2027-04"));
        let (s, me) = app.get(&token, "/api/v1/me").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(me["roles"], json!(["treasurer"]));

        // Only the hash is stored.
        let stored: Vec<String> = app
            .with_conn(|c| {
                Ok(
                    mutualise::store::auth::list_tokens(c, mutualise::domain::ids::UserId(1))?
                        .into_iter()
                        .map(|t| t.token_hash)
                        .collect(),
                )
            })
            .await;
        assert!(!stored.contains(&token));
        assert!(stored.contains(&mutualise::app::auth::sha256_hex(&token)));

        let (s, body) = app
            .post(
                "",
                "/api/v1/auth/token",
                json!({"email": "anne@pole.test", "password": "wrong password"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "unauthorized");
        let (s, _) = app
            .post(
                "",
                "/api/v1/auth/token",
                json!({"email": "nobody@pole.test", "password": "whatever12345"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        for _ in 0..4 {
            app.post(
                "",
                "/api/v1/auth/token",
                json!({"email": "anne@pole.test", "password": "wrong password"}),
            )
            .await;
        }
        // Five failures: even the right password is refused for a while.
        let (s, body) = app
            .post(
                "",
                "/api/v1/auth/token",
                json!({"email": "anne@pole.test", "password": common::PASSWORD}),
            )
            .await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");

        let (s, list) = app.get(&token, "/api/v1/auth/tokens").await;
        assert_eq!(s, StatusCode::OK);
        let id = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "API")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (s, _) = app
            .call(
                reqwest::Method::DELETE,
                &token,
                &format!("/api/v1/auth/tokens/{id}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, body) = app.get(&token, "/api/v1/me").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
        let (s, _) = app.get("mut_forged", "/api/v1/me").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(members_create_edit_archive, |app: TestApp| async move {
    let admin = app.admin().await;
    let (s, m) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({
                "name": "Coop'Atelier", "legal_form": "scop", "pricing_category": "standard",
                "siret": "732 829 320 00074", "email": "Contact@Atelier.coop", "headcount": 11.5,
                "turnover_cents": 95_000_000, "surface_m2": 120
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["siret"], "73282932000074");
    assert_eq!(m["email"], "contact@atelier.coop");
    assert_eq!(m["headcount"], 11.5);
    let id = m["id"].as_i64().unwrap();

    let (s, m) = app
        .patch(
            &admin,
            &format!("/api/v1/members/{id}"),
            json!({"surface_m2": 150, "siret": null}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["surface_m2"], 150);
    assert_eq!(m["siret"], serde_json::Value::Null);
    assert_eq!(m["name"], "Coop'Atelier");

    // Invalid input: every bad field reported, nothing written.
    let before = app.count("members").await;
    let (s, e) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "", "legal_form": "sa", "siret": "73282932000075", "headcount": -1}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in ["name", "legal_form", "siret", "headcount"] {
        assert!(fields.contains(&f), "{f} missing in {e}");
    }
    let (s, e) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "Coop'Atelier", "legal_form": "scop"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["errors"][0]["field"], "name");
    let (s, _) = app
        .patch(
            &admin,
            &format!("/api/v1/members/{id}"),
            json!({"turnover_cents": "beaucoup"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("members").await, before);
    let (_, m) = app.get(&admin, &format!("/api/v1/members/{id}")).await;
    assert_eq!(m["turnover_cents"], 95_000_000);

    let (s, m) = app
        .post(&admin, &format!("/api/v1/members/{id}/archive"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["archived"], true);
    let (_, list) = app.get(&admin, "/api/v1/members").await;
    assert!(list.as_array().unwrap().is_empty());
    let (_, list) = app
        .get(&admin, "/api/v1/members?include_archived=true&q=ATELIER")
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (s, m) = app
        .post(&admin, &format!("/api/v1/members/{id}/restore"), json!({}))
        .await;
    assert_eq!((s, m["archived"].clone()), (StatusCode::OK, json!(false)));
});

both_backends!(
    private_member_data_stays_with_the_member,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let a = app.member(&admin, "Association A").await;
        let b = app.member(&admin, "Association B").await;
        let (_, booker) = app.user("booker@a.test", &[], &[(a, "booker")]).await;
        let (_, own) = app.get(&booker, &format!("/api/v1/members/{a}")).await;
        assert!(own.get("turnover_cents").is_some(), "{own}");
        let (s, other) = app.get(&booker, &format!("/api/v1/members/{b}")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(other["name"], "Association B");
        for private in [
            "turnover_cents",
            "siret",
            "email",
            "headcount",
            "surface_m2",
            "pricing_category",
        ] {
            assert!(other.get(private).is_none(), "{private} leaked: {other}");
        }
        let (_, list) = app.get(&booker, "/api/v1/members").await;
        let listed_b = list
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == b)
            .unwrap();
        assert!(listed_b.get("turnover_cents").is_none());
    }
);

both_backends!(resources_catalogue, |app: TestApp| async move {
    let admin = app.admin().await;
    let ge = app.member(&admin, "GE Val Partage").await;
    let (s, r) = app
        .post(&admin, "/api/v1/resources", json!({
            "kind": "room", "name": "Salle Jaurès", "capacity": 1, "seats": 20, "location": "Bât. A",
            "opening_hours": [{"weekday": 1, "open": "08:00", "close": "12:00"}, {"weekday": 1, "open": "14:00", "close": "24:00"}],
            "min_duration_minutes": 30, "buffer_after_minutes": 15, "requires_approval": true,
            "allowed_categories": ["solidaire", "insertion"],
            "tariff": {"hourly_cents": 1500, "daily_cap_cents": 9000, "billing_unit_minutes": 30}
        }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(
        r["opening_hours"][1],
        json!({"weekday": 1, "open": "14:00", "close": "24:00"})
    );
    assert_eq!(r["tariff"]["daily_cap_cents"], 9000);
    assert_eq!(r["allowed_categories"], json!(["solidaire", "insertion"]));
    let room = r["id"].as_i64().unwrap();

    let staff = app
        .resource(
            &admin,
            json!({"kind": "staff", "name": "Camille", "employer_member_id": ge,
            "weekly_contract_hours": 35, "hourly_cost_cents": 2850}),
        )
        .await;
    let (_, list) = app.get(&admin, "/api/v1/resources?kind=staff").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], staff);
    assert_eq!(list[0]["weekly_contract_hours"], 35.0);
    let (s, e) = app.get(&admin, "/api/v1/resources?kind=spaceship").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["errors"][0]["field"], "kind", "{e}");

    // Salaries are shown to the pole's team only.
    let m = app.member(&admin, "Asso").await;
    let (_, booker) = app.user("b@asso.test", &[], &[(m, "booker")]).await;
    let (_, seen) = app
        .get(&booker, &format!("/api/v1/resources/{staff}"))
        .await;
    assert!(seen.get("hourly_cost_cents").is_none(), "{seen}");

    let before = app.count("resources").await;
    for bad in [
        json!({"kind": "room", "name": "X", "capacity": 0}),
        json!({"kind": "room", "name": "X", "opening_hours": [{"weekday": 1, "open": "12:00", "close": "08:00"}]}),
        json!({"kind": "room", "name": "X", "opening_hours": [{"weekday": 9, "open": "08:00", "close": "12:00"}]}),
        json!({"kind": "room", "name": "X", "min_duration_minutes": 120, "max_duration_minutes": 60}),
        json!({"kind": "room", "name": "X", "plate": "AB-123-CD"}),
        json!({"kind": "staff", "name": "X"}),
        json!({"kind": "staff", "name": "X", "employer_member_id": 999, "weekly_contract_hours": 35, "hourly_cost_cents": 1}),
        json!({"kind": "vehicle", "name": "X", "energy": "vapeur"}),
        json!({"kind": "vehicle", "name": "X", "tariff": {"hourly_cents": -5}}),
        json!({"kind": "room", "name": "X", "buffer_before_minutes": 99999}),
        json!({"kind": "room", "name": "X", "capacity": 1e20}),
    ] {
        let (s, e) = app.post(&admin, "/api/v1/resources", bad.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad} → {e}");
    }
    assert_eq!(app.count("resources").await, before);
    assert_eq!(app.count("opening_hours").await, 2);

    let (s, r) = app
        .patch(
            &admin,
            &format!("/api/v1/resources/{room}"),
            json!({"opening_hours": [], "capacity": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["opening_hours"], json!([]));
    assert_eq!(r["seats"], 20);
    let (s, r) = app
        .post(
            &admin,
            &format!("/api/v1/resources/{room}/archive"),
            json!({}),
        )
        .await;
    assert_eq!((s, r["archived"].clone()), (StatusCode::OK, json!(true)));
    let (_, list) = app.get(&admin, "/api/v1/resources?kind=room").await;
    assert!(list.as_array().unwrap().is_empty());
});

both_backends!(closures_in_local_time, |app: TestApp| async move {
    let admin = app.admin().await;
    let room = app
        .resource(&admin, json!({"kind": "room", "name": "Salle"}))
        .await;
    let (s, c) = app
        .post(&admin, "/api/v1/closures", json!({"resource_id": room, "start": "2027-08-02T00:00", "end": "2027-08-16T00:00", "reason": "Congés d'été"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["start"], "2027-08-01T22:00:00Z");
    let (s, _) = app.post(&admin, "/api/v1/closures", json!({"start": "2027-12-24T00:00:00+01:00", "end": "2027-12-26T00:00:00+01:00", "reason": "Noël"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, list) = app
        .get(&admin, &format!("/api/v1/closures?resource_id={room}"))
        .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "resource closures include pole-wide ones"
    );

    let before = app.count("closures").await;
    for bad in [
        json!({"start": "2027-03-28T02:30", "end": "2027-03-29T00:00", "reason": "DST gap"}),
        json!({"start": "2027-10-31T02:30", "end": "2027-11-01T00:00", "reason": "ambiguous"}),
        json!({"start": "2027-08-16T00:00", "end": "2027-08-02T00:00", "reason": "inverted"}),
        json!({"start": "9999-01-01T00:00", "end": "9999-01-02T00:00", "reason": "far"}),
        json!({"start": "2027-08-02T00:00", "end": "2027-08-03T00:00", "reason": ""}),
        json!({"resource_id": 9999, "start": "2027-08-02T00:00", "end": "2027-08-03T00:00", "reason": "x"}),
    ] {
        let (s, e) = app.post(&admin, "/api/v1/closures", bad.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad} → {e}");
    }
    assert_eq!(app.count("closures").await, before);
    let id = c["id"].as_i64().unwrap();
    let (s, _) = app
        .call(
            reqwest::Method::DELETE,
            &admin,
            &format!("/api/v1/closures/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .call(
            reqwest::Method::DELETE,
            &admin,
            &format!("/api/v1/closures/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
});

both_backends!(users_and_memberships, |app: TestApp| async move {
    let admin = app.admin().await;
    let a = app.member(&admin, "A").await;
    let b = app.member(&admin, "B").await;
    let (s, u) = app
        .post(&admin, "/api/v1/users", json!({"email": "Vol@Asso.test", "name": "Bénévole", "password": "assez-long-pour-etre-sur",
            "memberships": [{"member_id": a, "role": "booker"}, {"member_id": b, "role": "member_admin"}]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    assert_eq!(u["email"], "vol@asso.test");
    assert_eq!(
        u["memberships"].as_array().unwrap().len(),
        2,
        "one person may act for several members"
    );
    let (s, e) = app.post(&admin, "/api/v1/users", json!({"email": "vol@asso.test", "name": "Doublon", "password": "assez-long-pour-etre-sur"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["errors"][0]["field"], "email");
    let (s, _) = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "x@asso.test", "name": "X", "password": "court"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // The new user can sign in with the password given.
    let (s, body) = app
        .post(
            "",
            "/api/v1/auth/token",
            json!({"email": "vol@asso.test", "password": "assez-long-pour-etre-sur"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let vol = body["token"].as_str().unwrap().to_string();
    // As member admin of B, creates a booker of B, not of A.
    let (s, _) = app.post(&vol, "/api/v1/users", json!({"email": "new@b.test", "name": "N", "password": "assez-long-pour-etre-sur", "memberships": [{"member_id": b, "role": "booker"}]})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app.post(&vol, "/api/v1/users", json!({"email": "new@a.test", "name": "N", "password": "assez-long-pour-etre-sur", "memberships": [{"member_id": a, "role": "booker"}]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.post(&vol, "/api/v1/users", json!({"email": "boss@b.test", "name": "N", "password": "assez-long-pour-etre-sur", "roles": ["admin"], "memberships": [{"member_id": b, "role": "booker"}]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Cannot grant itself more.
    let my_id = u["id"].as_i64().unwrap();
    let (s, _) = app
        .patch(
            &vol,
            &format!("/api/v1/users/{my_id}"),
            json!({"roles": ["admin"]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, me) = app
        .patch(
            &vol,
            &format!("/api/v1/users/{my_id}"),
            json!({"name": "Bénévole engagé"}),
        )
        .await;
    assert_eq!(
        (s, me["name"].clone()),
        (StatusCode::OK, json!("Bénévole engagé"))
    );
    // Deactivating a user revokes access.
    let (s, _) = app
        .patch(
            &admin,
            &format!("/api/v1/users/{my_id}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get(&vol, "/api/v1/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
});

both_backends!(hostile_and_malformed_input, |app: TestApp| async move {
    let admin = app.admin().await;
    let before = app.count("members").await;
    let res = app
        .client
        .post(format!("{}/api/v1/members", app.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = app
        .client
        .post(format!("{}/api/v1/members", app.base))
        .bearer_auth(&admin)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for path in [
        "/api/v1/members/abc",
        "/api/v1/members/99999",
        "/api/v1/members/-1",
        "/api/v1/nothing",
        "/api/v1/resources/99999999999999999999",
    ] {
        let (s, body) = app.get(&admin, path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path} {body}");
    }
    let (s, _) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "x".repeat(10_000), "legal_form": "scop"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "Nul\u{0}", "legal_form": "scop"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "X", "legal_form": "scop", "turnover_cents": 1e300}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app.patch(&admin, "/api/v1/members/1", json!([1, 2])).await;
    assert!(s == StatusCode::BAD_REQUEST || s == StatusCode::NOT_FOUND);
    assert_eq!(app.count("members").await, before);
    // Markup typed by a user is stored as text and escaped in pages.
    let (s, m) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "<script>alert(1)</script>", "legal_form": "scop"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(m["name"], "<script>alert(1)</script>");
});

both_backends!(
    openapi_document_describes_the_routes,
    |app: TestApp| async move {
        let (s, doc) = app.get("", "/api/v1/openapi.json").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(doc["openapi"].as_str().unwrap().chars().next(), Some('3'));
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/v1/auth/token",
            "/api/v1/members",
            "/api/v1/members/{id}",
            "/api/v1/users",
            "/api/v1/resources",
            "/api/v1/resources/{id}",
            "/api/v1/closures",
        ] {
            assert!(paths.contains_key(p), "{p} missing");
        }
        assert!(doc["components"]["schemas"]["MemberInput"].is_object());
        assert!(
            doc["components"]["schemas"]["ResourceInput"]["properties"]["opening_hours"]
                .is_object()
        );
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        // A parameter declared in the path is in the path's template, and only there.
        for (path, item) in paths {
            for (_, op) in item.as_object().unwrap() {
                for param in op["parameters"].as_array().into_iter().flatten() {
                    let name = param["name"].as_str().unwrap();
                    let in_template = path.contains(&format!("{{{name}}}"));
                    assert_eq!(
                        param["in"] == "path",
                        in_template,
                        "{path}: parameter {name} declared in {}",
                        param["in"]
                    );
                }
            }
        }
        assert!(paths.contains_key("/api/v1/outbox") && paths.contains_key("/api/v1/feeds"));
    }
);

// An address that exists, asked with a method it does not take: a problem, not an empty 405.
both_backends!(
    a_method_not_allowed_is_a_problem,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let res = app
            .client
            .delete(format!("{}/api/v1/bookings", app.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed", "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("OpenAPI"),
            "{body}"
        );
    }
);

// Found by schemathesis: PostgreSQL cannot store U+0000 and answered 500. Refused the same
// on both backends, whatever carries it, and nothing is written.
both_backends!(nul_characters_are_refused, |app: TestApp| async move {
    let admin = app.admin().await;
    let (s, e) = app
        .post(
            "",
            "/api/v1/auth/token",
            json!({"email": "admin@pole.test\u{0}", "password": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["errors"][0]["field"], "body");
    let before = app.count("members").await;
    let (s, _) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "A\u{0}B", "legal_form": "association"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("members").await, before);
    let (s, e) = app.get(&admin, "/api/v1/members?q=a%00b").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["code"], "invalid_query");
    let (s, _) = app
        .call(
            reqwest::Method::DELETE,
            &admin,
            "/api/v1/pricing/coefficients/a%00b/2027-01-01",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
});

// What schemathesis cannot see by itself: the document states the errors of every
// operation, the shape of a problem, allowed values and formats.
both_backends!(
    openapi_document_declares_errors_values_and_formats,
    |app: TestApp| async move {
        let (_, doc) = app.get("", "/api/v1/openapi.json").await;
        let schemas = &doc["components"]["schemas"];
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("503"), "{method} {path}: no 503");
                let public = op["security"] == json!([{}]);
                assert_eq!(
                    responses.contains_key("401"),
                    !public || path == "/api/v1/auth/token",
                    "{method} {path}: 401"
                );
                if op["requestBody"]["required"] == true {
                    for status in ["400", "413", "415", "422"] {
                        assert!(responses.contains_key(status), "{method} {path}: {status}");
                    }
                }
                for (status, r) in responses {
                    if status.as_str() >= "400" && r.get("$ref").is_none() {
                        let content = r["content"].as_object().unwrap();
                        assert_eq!(
                            content.keys().collect::<Vec<_>>(),
                            ["application/problem+json"],
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        assert_eq!(
            doc["paths"]["/api/v1/auth/token"]["post"]["security"],
            json!([{}])
        );
        assert!(
            doc["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]["headers"]
                ["Retry-After"]
                .is_object()
        );
        let problem = &schemas["Problem"];
        assert_eq!(
            problem["required"],
            json!(["type", "title", "status", "detail", "code"])
        );
        for member in [
            "errors",
            "violations",
            "conflicts",
            "suggestions",
            "occurrences",
        ] {
            assert_eq!(problem["properties"][member]["type"], "array", "{member}");
        }
        // Allowed values and formats.
        let kind = &schemas["ResourceInput"]["properties"]["kind"];
        assert_eq!(kind["$ref"], "#/components/schemas/ResourceKind");
        assert_eq!(
            schemas["ResourceKind"]["enum"],
            json!(["room", "desk", "vehicle", "equipment", "staff"])
        );
        assert_eq!(
            schemas["MemberInput"]["properties"]["legal_form"]["$ref"],
            "#/components/schemas/LegalForm"
        );
        assert_eq!(
            schemas["UserInput"]["properties"]["email"]["format"],
            "email"
        );
        assert_eq!(
            schemas["UserInput"]["properties"]["roles"]["items"]["$ref"],
            "#/components/schemas/PoleRole"
        );
        assert_eq!(
            schemas["BookingView"]["properties"]["end"]["format"],
            "date-time"
        );
        assert_eq!(
            schemas["ResourceInput"]["properties"]["capacity"]["minimum"],
            1
        );
        // An optional body is not required; a flattened optional part is not required either.
        let cancel = &doc["paths"]["/api/v1/bookings/{id}/cancel"]["post"]["requestBody"];
        assert_ne!(cancel["required"], true);
        let cancel = &doc["paths"]["/api/v1/bookings/{id}/cancel"]["post"]["responses"];
        assert!(
            cancel["415"].is_null(),
            "an optional body is read whatever its type"
        );
        assert_eq!(
            schemas["Violation"]["allOf"][0]["$ref"],
            "#/components/schemas/MeasureFields"
        );
        assert!(schemas["MeasureFields"]["required"].is_null());
        let params = doc["paths"]["/api/v1/resources/{id}/tariffs/{effective_from}"]["delete"]
            ["parameters"]
            .as_array()
            .unwrap();
        assert_eq!(params[1]["schema"]["format"], "date");
    }
);

// A body that is not sent as JSON is 415, documented with every operation taking one.
both_backends!(a_body_not_sent_as_json_is_415, |app: TestApp| async move {
    let admin = app.admin().await;
    let res = app
        .client
        .post(format!("{}/api/v1/members", app.base))
        .bearer_auth(&admin)
        .body(r#"{"name": "A", "legal_form": "association"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(app.count("members").await, 0);
    let (_, doc) = app.get("", "/api/v1/openapi.json").await;
    let post = &doc["paths"]["/api/v1/members"]["post"]["responses"];
    for status in ["400", "401", "403", "413", "415", "422", "503"] {
        assert!(
            post[status].is_object(),
            "POST /members: {status} undocumented"
        );
    }
    let shared = &doc["components"]["responses"]["UnsupportedMediaType"]["content"];
    assert_eq!(
        shared["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
});

both_backends!(
    own_password_needs_the_current_one,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let m = app.member(&admin, "A").await;
        let (id, token) = app.user("bk@a.test", &[], &[(m, "booker")]).await;
        let (s, e) = app
            .patch(
                &token,
                &format!("/api/v1/users/{id}"),
                json!({"password": "un nouveau mot de passe"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, _) = app
            .patch(
                &admin,
                "/api/v1/users/1",
                json!({"password": "un nouveau mot de passe"}),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not even an admin on their own account"
        );
        // A reset by an admin ends the user's sessions and tokens.
        let (s, _) = app
            .patch(
                &admin,
                &format!("/api/v1/users/{id}"),
                json!({"password": "un nouveau mot de passe"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app.get(&token, "/api/v1/me").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    search_ignores_case_accents_and_spacing,
    |app: TestApp| async move {
        let admin = app.admin().await;
        for name in [
            "École Buissonnière",
            "Cœur de Ville",
            "Régie de quartier",
            "ÉCOLOGIE  Active",
        ] {
            app.member(&admin, name).await;
        }
        for name in ["Salle des Fêtes", "Salle Jaurès", "Cuisine partagée"] {
            app.resource(&admin, json!({"kind": "room", "name": name, "capacity": 1}))
                .await;
        }
        let names = |v: serde_json::Value| -> Vec<String> {
            v.as_array()
                .expect("a list")
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_string())
                .collect()
        };
        for (q, expected) in [
            ("ecole", vec!["École Buissonnière"]),
            ("ECOL", vec!["École Buissonnière", "ÉCOLOGIE  Active"]),
            ("coeur", vec!["Cœur de Ville"]),
            ("régie", vec!["Régie de quartier"]),
            ("logie active", vec!["ÉCOLOGIE  Active"]),
            ("%", vec![]),
            (
                "   ",
                vec![
                    "Cœur de Ville",
                    "ÉCOLOGIE  Active",
                    "École Buissonnière",
                    "Régie de quartier",
                ],
            ),
        ] {
            let (s, v) = app
                .get(&admin, &format!("/api/v1/members?q={}", urlencode(q)))
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            let mut got = names(v);
            let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "members for {q:?}");
        }
        let (s, v) = app.get(&admin, "/api/v1/resources?q=fetes").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(names(v), vec!["Salle des Fêtes"]);
        let (_, v) = app.get(&admin, "/api/v1/resources?q=SALLE%20JAURES").await;
        assert_eq!(names(v), vec!["Salle Jaurès"]);
    }
);

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
