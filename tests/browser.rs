//! End-to-end in headless Chromium: scenarios through the pages, and the audit of every page
//! (axe-core, the Nu HTML checker, phone width) in every role.
//! Needs Debian's `chromium`, Java (for the Nu HTML checker) and `npm ci --prefix tests/e2e`
//! (playwright-core, axe-core, vnu-jar); `.ci/run` installs them.
//! Elsewhere the test says it is skipped, unless `CI` or `MUTUALISE_REQUIRE_BROWSER` is set,
//! where a missing browser is a failure.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestApp;

fn browser_available() -> bool {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = Path::new(&chromium).exists()
        && Path::new("tests/e2e/node_modules/playwright-core").exists();
    if !ready {
        if std::env::var("CI").is_ok() || std::env::var("MUTUALISE_REQUIRE_BROWSER").is_ok() {
            panic!("Chromium ({chromium}) or tests/e2e/node_modules/playwright-core missing: run `apt-get install -y chromium && npm ci --prefix tests/e2e`");
        }
        eprintln!("browser test skipped: install chromium and run `npm ci --prefix tests/e2e` to enable it");
    }
    ready
}

/// Runs `tests/e2e/<script>.mjs` in headless Chromium against the app (`BASE_URL`,
/// `E2E_PASSWORD` and `E2E_SHOTS`, a screenshot prefix, are set here; `vars` adds the
/// scenario's own) and checks that it ends with « e2e ok ».
async fn scenario(app: &TestApp, script: &str, vars: &[(&str, String)]) {
    let shots = std::env::temp_dir().join(format!("mutualise-e2e-{script}-{:?}", app.backend));
    let mut cmd = Command::new("node");
    cmd.arg(format!("tests/e2e/{script}.mjs"))
        .env("BASE_URL", &app.base)
        .env("E2E_PASSWORD", common::PASSWORD)
        .env("E2E_SHOTS", &shots);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let output = tokio::task::spawn_blocking(move || cmd.output().expect("run node"))
        .await
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && log.contains("e2e ok"),
        "browser scenario {script} failed:\n{log}"
    );
    println!("{script}:\n{log}");
}

both_backends!(sign_in_and_create_a_resource, |app: TestApp| async move {
    if !browser_available() {
        return;
    }
    app.user("coordination@pole.test", &["resource_manager"], &[])
        .await;
    let shot = std::env::temp_dir().join(format!("mutualise-e2e-{:?}.png", app.backend));
    scenario(
        &app,
        "signin_and_create_resource",
        &[
            ("E2E_EMAIL", "coordination@pole.test".into()),
            ("E2E_SCREENSHOT", shot.to_string_lossy().into()),
        ],
    )
    .await;
    let names: Vec<(String, Option<String>)> = app
        .with_conn(|c| {
            Ok(mutualise::store::resources::list(c, &Default::default())?
                .into_iter()
                .map(|r| (r.row.name, r.row.plate))
                .collect())
        })
        .await;
    assert_eq!(
        names,
        vec![(
            "Kangoo électrique".to_string(),
            Some("GK-321-ZZ".to_string())
        )]
    );
});

both_backends!(book_and_take_a_suggestion, |app: TestApp| async move {
    if !browser_available() {
        return;
    }
    let admin = app.admin().await;
    let a = app.member(&admin, "Les Jardins").await;
    let b = app.member(&admin, "Coop'Atelier").await;
    app.user("benevole@jardins.test", &[], &[(a, "booker")])
        .await;
    let room = app
        .resource(
            &admin,
            serde_json::json!({"kind": "room", "name": "Salle Jaurès",
            "opening_hours": common::weekdays("08:00", "20:00")}),
        )
        .await;
    let (s, _) = app
        .post(&admin, "/api/v1/bookings", serde_json::json!({"resource_id": room, "member_id": b, "start": "2027-01-05T10:00", "end": "2027-01-05T12:00"}))
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED);
    scenario(
        &app,
        "book_with_suggestion",
        &[
            ("E2E_EMAIL", "benevole@jardins.test".into()),
            ("E2E_ROOM", room.to_string()),
        ],
    )
    .await;
    let (_, mine) = app
        .get(
            &admin,
            &format!("/api/v1/bookings?resource_id={room}&member_id={a}"),
        )
        .await;
    assert_eq!(
        mine[0]["start"], "2027-01-05T11:00:00Z",
        "the nearest suggestion taken: 12:00–13:00 local"
    );
});

both_backends!(
    plan_a_shared_employee_from_the_week_grid,
    |app: TestApp| async move {
        if !browser_available() {
            return;
        }
        let admin = app.admin().await;
        let (_, ge) = app
            .post(
                &admin,
                "/api/v1/members",
                serde_json::json!({"name": "GE Sud", "legal_form": "ge_geiq"}),
            )
            .await;
        let ge = ge["id"].as_i64().unwrap();
        let jardins = app.member(&admin, "Les Jardins").await;
        let atelier = app.member(&admin, "Coop'Atelier").await;
        app.user("ge@sud.test", &["ge_manager"], &[(ge, "member_admin")])
            .await;
        let (s, camille) = app
            .post(
                &admin,
                "/api/v1/employees",
                serde_json::json!({"name": "Camille Martin",
            "employer_member_id": ge, "contract_type": "cdi", "weekly_contract_hours": 35.0,
            "hourly_cost_cents": 2850, "agreement_member_ids": [jardins, atelier]}),
            )
            .await;
        assert_eq!(s, reqwest::StatusCode::CREATED, "{camille}");
        let id = camille["id"].as_i64().unwrap();
        // Monday to Thursday: 8 h a day, alternately at each member (32 h).
        for (day, member) in [(11, jardins), (12, atelier), (13, jardins), (14, atelier)] {
            for (from, to) in [("08:00", "12:00"), ("12:30", "16:30")] {
                let (s, b) = app
                    .post(
                        &admin,
                        "/api/v1/bookings",
                        serde_json::json!({"resource_id": id,
                    "member_id": member, "start": format!("2027-01-{day}T{from}"),
                    "end": format!("2027-01-{day}T{to}")}),
                    )
                    .await;
                assert_eq!(s, reqwest::StatusCode::CREATED, "{b}");
            }
        }
        scenario(
            &app,
            "staff_week_grid",
            &[("E2E_EMAIL", "ge@sud.test".into())],
        )
        .await;
        // The refused move changed nothing: Friday morning at Les Jardins, as added.
        let (_, friday) = app
        .get(
            &admin,
            &format!("/api/v1/bookings?resource_id={id}&member_id={jardins}&from=2027-01-15T00:00&to=2027-01-16T00:00"),
        )
        .await;
        let friday = friday.as_array().unwrap();
        assert_eq!(friday.len(), 1, "{friday:?}");
        assert_eq!(friday[0]["start"], "2027-01-15T07:00:00Z");
    }
);

both_backends!(
    the_treasurer_closes_a_month_and_a_member_prints_its_statement,
    |app: TestApp| async move {
        if !browser_available() {
            return;
        }
        let admin = app.admin().await;
        let mut ids = Vec::new();
        for (name, surface) in [("Atelier Alpha", 40), ("Bravo", 25), ("Charlie", 15)] {
            let (s, m) = app
                .post(
                    &admin,
                    "/api/v1/members",
                    serde_json::json!({"name": name, "legal_form": "association", "surface_m2": surface}),
                )
                .await;
            assert_eq!(s, reqwest::StatusCode::CREATED, "{m}");
            ids.push(m["id"].as_i64().unwrap());
        }
        app.user("tresorier@pole.test", &["treasurer"], &[]).await;
        app.user("alpha@pole.test", &[], &[(ids[0], "member_admin")])
            .await;
        // January closes once over: the scenario runs on a server whose clock reads February.
        let later = app.same_database_at("2027-02-01T08:00:00Z").await;
        scenario(
            &later,
            "treasurer_month",
            &[
                ("E2E_TREASURER", "tresorier@pole.test".into()),
                ("E2E_MEMBER_EMAIL", "alpha@pole.test".into()),
                ("E2E_MEMBER", ids[0].to_string()),
            ],
        )
        .await;
        let (_, alloc) = app.get(&admin, "/api/v1/allocations/2027-01").await;
        assert_eq!(alloc["status"], "closed");
        assert_eq!(alloc["total_cents"], 80_000);
    }
);

both_backends!(
    book_from_the_day_planning_on_a_phone,
    |app: TestApp| async move {
        if !browser_available() {
            return;
        }
        let admin = app.admin().await;
        let a = app.member(&admin, "Les Jardins").await;
        let b = app.member(&admin, "Coop'Atelier").await;
        app.user("benevole@jardins.test", &[], &[(a, "booker")])
            .await;
        let room = app
            .resource(
                &admin,
                serde_json::json!({"kind": "room", "name": "Salle Jaurès",
                "opening_hours": common::weekdays("08:00", "20:00")}),
            )
            .await;
        let (s, _) = app
            .post(&admin, "/api/v1/bookings", serde_json::json!({"resource_id": room, "member_id": b, "start": "2027-01-05T10:00", "end": "2027-01-05T12:00"}))
            .await;
        assert_eq!(s, reqwest::StatusCode::CREATED);
        scenario(
            &app,
            "phone_booking",
            &[
                ("E2E_EMAIL", "benevole@jardins.test".into()),
                ("E2E_ROOM", room.to_string()),
            ],
        )
        .await;
        let (_, mine) = app
            .get(
                &admin,
                &format!("/api/v1/bookings?resource_id={room}&member_id={a}"),
            )
            .await;
        assert_eq!(
            mine[0]["start"], "2027-01-05T11:00:00Z",
            "12:00–13:00 local: {mine}"
        );
        assert_eq!(mine[0]["end"], "2027-01-05T12:00:00Z");
    }
);

/// The first item of a JSON listing (a bare array or `{"items": […]}`) that satisfies `pick`.
fn first_id(list: &serde_json::Value, pick: impl Fn(&serde_json::Value) -> bool) -> i64 {
    let items = list
        .as_array()
        .or_else(|| list["items"].as_array())
        .unwrap_or_else(|| panic!("not a listing: {list}"));
    items
        .iter()
        .find(|v| pick(v))
        .and_then(|v| v["id"].as_i64())
        .unwrap_or_else(|| panic!("nothing to pick in {list}"))
}

/// The audit's checkers: axe-core and vnu-jar (npm), and Java for the latter.
fn audit_tools_available() -> bool {
    let java = Command::new("java").arg("-version").output().is_ok();
    let ready = java
        && Path::new("tests/e2e/node_modules/axe-core").exists()
        && Path::new("tests/e2e/node_modules/vnu-jar/build/dist/vnu.jar").exists();
    if !ready {
        if std::env::var("CI").is_ok() || std::env::var("MUTUALISE_REQUIRE_BROWSER").is_ok() {
            panic!("Java, or axe-core and vnu-jar in tests/e2e/node_modules, missing: run `apt-get install -y default-jre-headless && npm ci --prefix tests/e2e`");
        }
        eprintln!(
            "pages audit skipped: install Java and run `npm ci --prefix tests/e2e` to enable it"
        );
    }
    ready
}

// Every page in every role of the demo pole, at desktop and phone widths: axe-core, the Nu
// HTML checker and horizontal scrolling (tests/e2e/pages_audit.mjs). Screenshots of the main
// pages go to `MUTUALISE_SCREENSHOTS` when it is set (assets/screenshots/ holds a copy).
both_backends!(
    every_page_passes_the_accessibility_audit,
    |app: TestApp| async move {
        if !browser_available() || !audit_tools_available() {
            return;
        }
        // The first start's page (/setup) needs a database with no user yet.
        let empty = app.like(&[]).await;
        let summary = mutualise::app::demo::fill(&app.app)
            .await
            .unwrap_or_else(|e| panic!("demo: {}", e.detail()));
        let accounts: serde_json::Map<String, serde_json::Value> = summary
            .accounts
            .iter()
            .map(|a| {
                let role = a.role.split(" — ").next().unwrap_or(&a.role);
                (role.to_string(), a.email.clone().into())
            })
            .collect();
        let (s, t) = app
        .post(
            "",
            "/api/v1/auth/token",
            serde_json::json!({"email": accounts["admin"], "password": mutualise::app::demo::DEMO_PASSWORD}),
        )
        .await;
        assert_eq!(s, reqwest::StatusCode::OK, "{t}");
        let admin = t["token"].as_str().unwrap().to_string();
        let (_, members) = app.get(&admin, "/api/v1/members").await;
        let member = first_id(&members, |m| m["name"] == "Les Jardins du Lien");
        let (_, resources) = app.get(&admin, "/api/v1/resources").await;
        let room = first_id(&resources, |r| r["name"] == "Salle Jaurès");
        let vehicle = first_id(&resources, |r| r["kind"] == "vehicle");
        let (_, employees) = app.get(&admin, "/api/v1/employees").await;
        let employee = first_id(&employees, |_| true);
        let (_, users) = app.get(&admin, "/api/v1/users").await;
        let user = first_id(&users, |u| u["email"] == accounts["booker"]);
        // The demo's bookings start next Monday (the test clock is Monday 4 January 2027).
        let week = "2027-01-11";
        let (_, bookings) = app
            .get(
                &admin,
                &format!("/api/v1/bookings?member_id={member}&from={week}T00:00"),
            )
            .await;
        let booking = first_id(&bookings, |b| b["resource_kind"] != "staff");
        let (_, costs) = app.get(&admin, "/api/v1/costs?month=2027-01").await;
        let cost = first_id(&costs, |_| true);
        let ids = serde_json::json!({
            "member": member, "room": room, "vehicle": vehicle, "employee": employee, "user": user,
            "booking": booking, "cost": cost, "week": week, "month": "2027-01", "closed_month": "2026-12",
        });
        let mut vars = vec![
            (
                "E2E_PASSWORD",
                mutualise::app::demo::DEMO_PASSWORD.to_string(),
            ),
            ("AUDIT_IDS", ids.to_string()),
            (
                "AUDIT_ACCOUNTS",
                serde_json::Value::Object(accounts).to_string(),
            ),
            ("AUDIT_EMPTY_BASE_URL", empty.base.clone()),
        ];
        if let Ok(dir) = std::env::var("MUTUALISE_SCREENSHOTS") {
            let backend = format!("{:?}", app.backend).to_lowercase();
            vars.push(("AUDIT_SHOTS", format!("{dir}/{backend}")));
        }
        scenario(&app, "pages_audit", &vars).await;
    }
);
