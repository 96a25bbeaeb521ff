//! Shared employees of employer groups over HTTP, on SQLite and PostgreSQL: who manages and
//! who sees what, the search by skill.

mod common;

use common::{Browser, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Group {
    admin: String,
    ge: i64,
    member: i64,
    other: i64,
    booker: String,
    manager: String,
}

async fn group(app: &TestApp) -> Group {
    let admin = app.admin().await;
    let (s, ge) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "GE Sud", "legal_form": "ge_geiq"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ge}");
    let ge = ge["id"].as_i64().unwrap();
    let member = app.member(&admin, "Les Jardins").await;
    let other = app.member(&admin, "Coop'Atelier").await;
    let (_, booker) = app
        .user("booker@jardins.test", &[], &[(member, "booker")])
        .await;
    let (_, manager) = app
        .user("ge@sud.test", &["ge_manager"], &[(ge, "member_admin")])
        .await;
    Group {
        admin,
        ge,
        member,
        other,
        booker,
        manager,
    }
}

/// The manager of another employer group, « GEIQ Nord »: their token.
async fn other_groups_manager(app: &TestApp, g: &Group) -> String {
    let (_, nord) = app
        .post(
            &g.admin,
            "/api/v1/members",
            json!({"name": "GEIQ Nord", "legal_form": "ge_geiq"}),
        )
        .await;
    let (_, stranger) = app
        .user(
            "ge@nord.test",
            &["ge_manager"],
            &[(nord["id"].as_i64().unwrap(), "member_admin")],
        )
        .await;
    stranger
}

fn camille(g: &Group) -> Value {
    json!({"name": "Camille Martin", "employer_member_id": g.ge, "contract_type": "cdi",
           "weekly_contract_hours": 24.0, "birth_date": "1990-04-12", "hourly_cost_cents": 2850,
           "fee_coefficient": 1.15, "agreement_member_ids": [g.member],
           "skills": ["Cariste (chariot élévateur)", "Comptabilité"]})
}

both_backends!(
    employees_are_managed_by_their_group,
    |app: TestApp| async move {
        let g = group(&app).await;
        let (s, e) = app.post(&g.manager, "/api/v1/employees", camille(&g)).await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        assert_eq!(e["employer"]["name"], "GE Sud");
        assert_eq!(e["private"]["birth_date"], "1990-04-12");
        assert_eq!(e["private"]["fee"]["coefficient_permille"], 1150);
        assert_eq!(e["agreement_members"][0]["name"], "Les Jardins");
        assert_eq!(e["can_manage"], true);
        let id = e["id"].as_i64().unwrap();
        // A booker of a member named in the agreement sees the employee, not the private part.
        let (s, seen) = app.get(&g.booker, &format!("/api/v1/employees/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{seen}");
        assert!(seen.get("private").is_none(), "{seen}");
        assert_eq!(seen["can_manage"], false);
        // Search by skill, accents and case aside.
        let (_, found) = app
            .get(&g.booker, "/api/v1/employees?skill=ELEVATEUR")
            .await;
        assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
        let (_, none) = app.get(&g.booker, "/api/v1/employees?skill=soudure").await;
        assert!(none.as_array().unwrap().is_empty());
        // Only a GE / GEIQ member employs; another group's manager manages nothing here.
        let (s, e) = app
            .post(
                &g.admin,
                "/api/v1/employees",
                json!({"name": "X", "employer_member_id": g.other, "contract_type": "cdi",
                       "weekly_contract_hours": 35.0, "hourly_cost_cents": 2000}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["field"], "employer_member_id");
        let stranger = other_groups_manager(&app, &g).await;
        let (s, _) = app
            .patch(
                &stranger,
                &format!("/api/v1/employees/{id}"),
                json!({"weekly_contract_hours": 20.0}),
            )
            .await;
        assert!(
            s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
            "{s}"
        );
        let (_, listed) = app.get(&stranger, "/api/v1/employees").await;
        assert!(
            listed.as_array().unwrap().is_empty(),
            "another group's employees: {listed}"
        );
        // Edited by its group: a CDD needs an end.
        let (s, e) = app
            .patch(
                &g.manager,
                &format!("/api/v1/employees/{id}"),
                json!({"contract_type": "cdd"}),
            )
            .await;
        assert_eq!(
            (s, e["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("contract_end"))
        );
        let (s, e) = app
            .patch(
                &g.manager,
                &format!("/api/v1/employees/{id}"),
                json!({"contract_type": "cdd", "contract_end": "2027-12-31", "fee_coefficient": null, "fee_monthly_cents": 25000}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(e["private"]["fee"]["monthly_cents"], 25000);
        // A member outside the agreement does not see the employee.
        let (_, coop_booker) = app.user("b@coop.test", &[], &[(g.other, "booker")]).await;
        let (_, listed) = app.get(&coop_booker, "/api/v1/employees").await;
        assert!(listed.as_array().unwrap().is_empty(), "{listed}");
        // Bad input, nothing written.
        let before = app.count("employees").await;
        for bad in [
            json!({"name": "", "employer_member_id": g.ge, "contract_type": "cdi", "weekly_contract_hours": 35.0, "hourly_cost_cents": 1}),
            json!({"name": "Y", "employer_member_id": g.ge, "contract_type": "cdi", "weekly_contract_hours": 60.0, "hourly_cost_cents": 1}),
            json!({"name": "Y", "employer_member_id": g.ge, "contract_type": "cdi", "weekly_contract_hours": 35.0, "hourly_cost_cents": -5}),
            json!({"name": "Y", "employer_member_id": g.ge, "contract_type": "cdi", "weekly_contract_hours": 35.0, "hourly_cost_cents": 1, "birth_date": "2020-01-01"}),
            json!({"name": "Y", "employer_member_id": g.ge, "contract_type": "cdi", "weekly_contract_hours": 35.0, "hourly_cost_cents": 1, "agreement_member_ids": [99999]}),
        ] {
            let (s, e) = app.post(&g.manager, "/api/v1/employees", bad.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad} → {e}");
        }
        assert_eq!(app.count("employees").await, before);
        let (s, _) = app.post(&g.booker, "/api/v1/employees", camille(&g)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
);

fn assign(employee: i64, member: i64, start: &str, end: &str) -> Value {
    json!({"resource_id": employee, "member_id": member, "start": start, "end": end})
}

/// [`assign`] from `start` to `end` (local times) on `day`.
fn assign_on(employee: i64, member: i64, day: &str, (start, end): (&str, &str)) -> Value {
    assign(
        employee,
        member,
        &format!("{day}T{start}"),
        &format!("{day}T{end}"),
    )
}

both_backends!(working_time_law_across_members, |app: TestApp| async move {
    let g = group(&app).await;
    let id = full_time_camille(&app, &g, json!([g.member, g.other])).await;
    // Tuesday 12 January 2027: 4 h at one member, 6 h at the other (30 min of break).
    let (s, a) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-12T07:00", "2027-01-12T11:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["activity"], "work");
    let (s, b) = app
        .post(
            &g.admin,
            "/api/v1/bookings",
            assign(id, g.other, "2027-01-12T11:30", "2027-01-12T17:30"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "10 h exactly: {b}");
    // A quarter of an hour more at the first member breaks the daily limit.
    let before = app.count("bookings").await;
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-12T18:00", "2027-01-12T18:15"),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("labour_limit")),
        "{e}"
    );
    let v = &e["violations"][0];
    assert_eq!(v["code"], "daily_hours");
    assert_eq!(
        (v["limit"].as_i64(), v["actual"].as_i64()),
        (Some(600), Some(615))
    );
    assert_eq!(v["period_start"], "2027-01-11T23:00:00Z");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("10 h 15") && message.contains("12 janvier 2027"),
        "{message}"
    );
    assert_eq!(app.count("bookings").await, before, "nothing written");
    // A member outside the agreements: refused with its own code.
    let (_, third) = app
        .post(
            &g.admin,
            "/api/v1/members",
            json!({"name": "Fournil", "legal_form": "sarl_sas"}),
        )
        .await;
    let (s, e) = app
        .post(
            &g.admin,
            "/api/v1/bookings",
            assign(
                id,
                third["id"].as_i64().unwrap(),
                "2027-01-14T09:00",
                "2027-01-14T10:00",
            ),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("no_agreement")),
        "{e}"
    );
    // Overtime is accepted with a warning: Wednesday to Friday bring the week to 36 h
    // (blocks of at most 6 h, the breaks between them).
    let blocks = [
        ("13", "08:00", "12:00"),
        ("13", "12:30", "16:30"),
        ("14", "08:00", "12:00"),
        ("14", "12:30", "16:30"),
        ("15", "08:00", "12:00"),
        ("15", "12:30", "18:30"),
    ];
    for (i, (day, start, end)) in blocks.into_iter().enumerate() {
        let (s, w) = app
            .post(
                &g.admin,
                "/api/v1/bookings",
                assign(
                    id,
                    g.other,
                    &format!("2027-01-{day}T{start}"),
                    &format!("2027-01-{day}T{end}"),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{w}");
        if i == blocks.len() - 1 {
            assert_eq!(w["warnings"][0]["code"], "overtime", "{w}");
            assert_eq!(w["warnings"][0]["actual"], 36 * 60, "{w}");
        } else {
            assert!(w["warnings"].as_array().is_none_or(Vec::is_empty), "{w}");
        }
    }
    // Training and absences: the employer group's, recorded by its manager.
    let training = json!({"resource_id": id, "member_id": g.ge, "start": "2027-01-19T09:00",
                              "end": "2027-01-19T12:00", "activity": "training"});
    let (s, _) = app
        .post(&g.booker, "/api/v1/bookings", training.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let mut elsewhere = training.clone();
    elsewhere["member_id"] = json!(g.member);
    let (s, e) = app.post(&g.manager, "/api/v1/bookings", elsewhere).await;
    assert_eq!(
        (s, e["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("member_id")),
        "{e}"
    );
    let (s, t) = app.post(&g.manager, "/api/v1/bookings", training).await;
    assert_eq!(
        (s, t["activity"].as_str()),
        (StatusCode::CREATED, Some("training")),
        "{t}"
    );
    let absence = json!({"resource_id": id, "member_id": g.ge, "start": "2027-01-20T00:00",
                             "end": "2027-01-21T00:00", "activity": "absence"});
    let (s, _) = app.post(&g.manager, "/api/v1/bookings", absence).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-20T09:00", "2027-01-20T12:00"),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "the absence blocks: {e}"
    );
    // Training is working time: with 9 h at a member the same day it breaks 10 h.
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-19T12:30", "2027-01-19T19:31"),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("labour_limit")),
        "{e}"
    );
    // A move is checked again: Tuesday's first slot moved to overlap the rest of the day.
    let (s, e) = app
        .patch(
            &g.booker,
            &format!("/api/v1/bookings/{}", a["id"]),
            json!({"start": "2027-01-12T05:00", "end": "2027-01-12T11:15"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("labour_limit")),
        "{e}"
    );
});

both_backends!(the_rules_for_minors, |app: TestApp| async move {
    let g = group(&app).await;
    let mut e = camille(&g);
    e["name"] = json!("Léa, apprentie");
    e["contract_type"] = json!("apprenticeship");
    e["contract_end"] = json!("2027-06-30");
    e["birth_date"] = json!("2010-06-01");
    e["weekly_contract_hours"] = json!(35.0);
    let (s, lea) = app.post(&g.manager, "/api/v1/employees", e).await;
    assert_eq!(s, StatusCode::CREATED, "{lea}");
    assert_eq!(lea["private"]["minor"], true);
    let id = lea["id"].as_i64().unwrap();
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-12T20:00", "2027-01-12T22:30"),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("labour_limit")),
        "{e}"
    );
    assert!(
        e["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["code"] == "night_work"),
        "16 and over: no work after 22:00: {e}"
    );
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-12T19:00", "2027-01-12T22:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "until 22:00 exactly: {e}");
    // 12 h of rest between two days: the next morning at 10:00 at the earliest.
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-13T09:59", "2027-01-13T12:00"),
        )
        .await;
    assert_eq!(
        (s, e["violations"][0]["code"].as_str()),
        (StatusCode::CONFLICT, Some("daily_rest")),
        "{e}"
    );
    // A break of 30 min after 4 h 30 of work.
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-13T10:00", "2027-01-13T14:30"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-13T14:45", "2027-01-13T16:00"),
        )
        .await;
    assert_eq!(
        (s, e["violations"][0]["code"].as_str()),
        (StatusCode::CONFLICT, Some("work_without_break")),
        "{e}"
    );
    // No work on a public holiday (Easter Monday, 29 March 2027).
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-03-29T09:00", "2027-03-29T12:00"),
        )
        .await;
    assert_eq!(
        (s, e["violations"][0]["code"].as_str()),
        (StatusCode::CONFLICT, Some("public_holiday")),
        "{e}"
    );
    // Nothing past the end of the apprenticeship (30 June 2027).
    let (s, e) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-07-06T09:00", "2027-07-06T12:00"),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("outside_contract")),
        "{e}"
    );
});

/// Camille, 35 h, works the week of 11 January 2027 at two members, with training at the
/// group on Friday afternoon (38 h: 1 h of overtime caused by Les Jardins, 2 h by the
/// training) and is absent all Monday 18.
async fn planned_week(app: &TestApp, g: &Group) -> i64 {
    let id = full_time_camille(app, g, json!([g.member, g.other])).await;
    for (day, member) in [
        ("11", g.member),
        ("12", g.other),
        ("13", g.member),
        ("14", g.other),
    ] {
        for (from, to) in [("08:00", "12:00"), ("12:30", "16:30")] {
            let (s, b) = app
                .post(
                    &g.manager,
                    "/api/v1/bookings",
                    assign(
                        id,
                        member,
                        &format!("2027-01-{day}T{from}"),
                        &format!("2027-01-{day}T{to}"),
                    ),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
    }
    let (s, b) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            assign(id, g.member, "2027-01-15T08:00", "2027-01-15T12:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["warnings"][0]["code"], "overtime", "{b}");
    // The assignment's page says it again, as things stand.
    let (_, again) = app
        .get(&g.booker, &format!("/api/v1/bookings/{}", b["id"]))
        .await;
    assert_eq!(again["warnings"][0]["code"], "overtime", "{again}");
    for (activity, start, end) in [
        ("training", "2027-01-15T13:00", "2027-01-15T15:00"),
        ("absence", "2027-01-18T00:00", "2027-01-19T00:00"),
    ] {
        let (s, b) = app
            .post(
                &g.manager,
                "/api/v1/bookings",
                json!({"resource_id": id, "member_id": g.ge, "start": start, "end": end,
                       "activity": activity}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    id
}

both_backends!(the_week_grid_and_the_month, |app: TestApp| async move {
    let g = group(&app).await;
    let id = planned_week(&app, &g).await;
    let (s, w) = app
        .get(&g.manager, "/api/v1/staff/week?date=2027-01-13")
        .await;
    assert_eq!(s, StatusCode::OK, "{w}");
    assert_eq!(w["monday"], "2027-01-11");
    let legend: Vec<(&str, &str)> = w["legend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["member"]["name"].as_str().unwrap(),
                l["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        legend,
        vec![("Coop'Atelier", "A"), ("Les Jardins", "B")],
        "members whose work is shown; training and absences have their own marks"
    );
    let row = &w["employees"][0];
    assert_eq!(row["employee"]["id"], id);
    assert_eq!(row["worked_minutes"], 38 * 60);
    assert_eq!(row["training_minutes"], 120);
    assert_eq!(row["contract_minutes"], 35 * 60);
    assert_eq!(row["overtime_25_minutes"], 3 * 60);
    assert_eq!(row["violations"], json!([]));
    assert_eq!(row["warnings"][0]["code"], "overtime", "{row}");
    let monday = &row["days"][0];
    assert_eq!(monday["worked_minutes"], 8 * 60);
    assert_eq!(monday["blocks"][0]["code"], "B");
    assert_eq!(
        (
            monday["blocks"][0]["from"].as_str(),
            monday["blocks"][0]["to"].as_str()
        ),
        (Some("08:00"), Some("12:00"))
    );
    assert_eq!(row["days"][4]["blocks"][1]["activity"], "training");
    // Members do not see the whole week.
    let (s, _) = app.get(&g.booker, "/api/v1/staff/week").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The month: five weeks touch January 2027, and the hours per member.
    let (s, m) = app
        .get(&g.manager, &format!("/api/v1/employees/{id}/month/2027-01"))
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["weeks"].as_array().unwrap().len(), 5);
    assert_eq!(m["weeks"][3]["absence_minutes"], 24 * 60);
    assert_eq!(m["total"]["worked_minutes"], 36 * 60);
    assert_eq!(m["total"]["training_minutes"], 120);
    let (s, _) = app
        .get(&g.booker, &format!("/api/v1/employees/{id}/month/2027-01"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .get(&g.manager, &format!("/api/v1/employees/{id}/month/2027-13"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
});

both_backends!(the_hours_ledger, |app: TestApp| async move {
    let g = group(&app).await;
    let id = planned_week(&app, &g).await;
    let (_, treasurer) = app.user("tresorier@pole.test", &["treasurer"], &[]).await;
    let (s, l) = app.get(&treasurer, "/api/v1/staff/ledger/2027-01").await;
    assert_eq!(s, StatusCode::OK, "{l}");
    let e = &l["employees"][0];
    assert_eq!(e["employee_id"], id);
    let line = |name: &str| {
        e["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["member"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no line for {name}: {e}"))
    };
    // 20 h at 28,50 € = 570 €; 1 h of overtime at +25 % = 7,125 → 7,13 €; fee ×1.15.
    let jardins = line("Les Jardins");
    assert_eq!(
        (
            jardins["worked_minutes"].as_i64(),
            jardins["overtime_25_minutes"].as_i64(),
            jardins["cost_cents"].as_i64(),
            jardins["overtime_premium_cents"].as_i64(),
            jardins["fee_cents"].as_i64(),
            jardins["total_cents"].as_i64(),
        ),
        (
            Some(1200),
            Some(60),
            Some(57_000),
            Some(713),
            Some(8_657),
            Some(66_370)
        )
    );
    let atelier = line("Coop'Atelier");
    assert_eq!(atelier["total_cents"], 45_600 + 6_840);
    // The group's own line: training and absence, with the overtime the training caused,
    // shown and never charged.
    let ge = line("GE Sud");
    assert_eq!(
        (
            ge["training_minutes"].as_i64(),
            ge["absence_minutes"].as_i64(),
            ge["overtime_25_minutes"].as_i64(),
            ge["billed"].as_bool(),
            ge["total_cents"].as_i64(),
        ),
        (Some(120), Some(24 * 60), Some(120), Some(false), Some(0))
    );
    assert_eq!(l["total"]["total_cents"], 66_370 + 52_440);
    // CSV, for a French spreadsheet: BOM, semicolons, decimal commas.
    let (s, csv) = app
        .get(
            &treasurer,
            "/api/v1/staff/ledger/2027-01.csv?format=semicolon",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("\u{feff}Mois;N° salarié;Salarié;"), "{csv}");
    assert!(
        csv.contains(&format!(
            "2027-01;{id};Camille Martin;GE Sud;{};Les Jardins;oui;20,00;0,00;0,00;1,00;0,00;28,50;570,00;7,13;86,57;663,70\r\n",
            g.member
        )),
        "{csv}"
    );
    let (_, csv) = app
        .get(&treasurer, "/api/v1/staff/ledger/2027-01.csv")
        .await;
    let mut reader = csv::Reader::from_reader(csv.as_str().unwrap().as_bytes());
    assert_eq!(
        reader.headers().unwrap().get(7),
        Some("worked_hours"),
        "machine headers"
    );
    assert_eq!(reader.records().count(), 3);
    // The group's manager sees its group's ledger; a member's booker does not.
    let (s, _) = app.get(&g.manager, "/api/v1/staff/ledger/2027-01").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get(&g.booker, "/api/v1/staff/ledger/2027-01").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .get(&treasurer, "/api/v1/staff/ledger/2027-01.csv?format=tab")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A member sees its own hours of the month, no amount and no other member.
    let (s, h) = app
        .get(
            &g.booker,
            &format!("/api/v1/members/{}/staff-hours/2027-01", g.member),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["employees"][0]["employee_name"], "Camille Martin");
    assert_eq!(h["total"]["worked_minutes"], 1200);
    assert_eq!(h["total"]["overtime_25_minutes"], 60);
    assert!(h["employees"][0].get("total_cents").is_none(), "{h}");
    let (s, _) = app
        .get(
            &g.booker,
            &format!("/api/v1/members/{}/staff-hours/2027-01", g.other),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

both_backends!(
    an_assignment_is_seen_by_its_member_and_its_group_only,
    |app: TestApp| async move {
        let g = group(&app).await;
        let id = planned_week(&app, &g).await;
        let week =
            format!("/api/v1/bookings?resource_id={id}&from=2027-01-11T00:00&to=2027-01-20T00:00");
        let members_of = |list: &Value| -> Vec<i64> {
            let mut m: Vec<i64> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["member_id"].as_i64().unwrap())
                .collect();
            m.sort();
            m.dedup();
            m
        };
        // The group's manager sees the employee's whole week: both members and the group.
        let (s, all) = app.get(&g.manager, &week).await;
        assert_eq!(s, StatusCode::OK, "{all}");
        let mut whole = vec![g.ge, g.member, g.other];
        whole.sort();
        assert_eq!(members_of(&all), whole, "{all}");
        let theirs = all
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["member_id"] == g.other)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        // A member's booker sees its own assignments only, in the list and by id.
        let (s, mine) = app.get(&g.booker, &week).await;
        assert_eq!(s, StatusCode::OK, "{mine}");
        assert_eq!(members_of(&mine), vec![g.member], "{mine}");
        assert_eq!(mine.as_array().unwrap().len(), 5, "{mine}");
        let (s, _) = app
            .get(&g.booker, &format!("/api/v1/bookings/{theirs}"))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // Another group's manager sees none of them, nor their hours at the member.
        let stranger = other_groups_manager(&app, &g).await;
        let (s, none) = app.get(&stranger, &week).await;
        assert_eq!(s, StatusCode::OK, "{none}");
        assert!(none.as_array().unwrap().is_empty(), "{none}");
        let (s, _) = app
            .get(&stranger, &format!("/api/v1/bookings/{theirs}"))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, h) = app
            .get(
                &stranger,
                &format!("/api/v1/members/{}/staff-hours/2027-01", g.member),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{h}");
        assert!(h["employees"].as_array().unwrap().is_empty(), "{h}");
        let (_, h) = app
            .get(
                &g.manager,
                &format!("/api/v1/members/{}/staff-hours/2027-01", g.member),
            )
            .await;
        assert_eq!(h["employees"][0]["employee_name"], "Camille Martin", "{h}");
        // The treasurer follows every member: « mine » is everyone's.
        let (_, treasurer) = app.user("tresorier@pole.test", &["treasurer"], &[]).await;
        let (_, followed) = app.get(&treasurer, &format!("{week}&mine=true")).await;
        assert_eq!(
            followed.as_array().unwrap().len(),
            all.as_array().unwrap().len(),
            "{followed}"
        );
    }
);

both_backends!(
    an_edit_or_an_archive_leaves_no_assignment_unlawful_or_unseen,
    |app: TestApp| async move {
        let g = group(&app).await;
        let id = full_time_camille(&app, &g, json!([g.member])).await;
        let (s, b) = app
            .post(
                &g.manager,
                "/api/v1/bookings",
                assign(id, g.member, "2027-01-12T08:00", "2027-01-12T12:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        // A value of the wrong type is named by its field, in French.
        let (s, e) = app
            .patch(
                &g.manager,
                &format!("/api/v1/employees/{id}"),
                json!({"weekly_contract_hours": "abc"}),
            )
            .await;
        assert_eq!(
            (s, e["errors"][0]["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("weekly_contract_hours")
            ),
            "{e}"
        );
        assert_eq!(
            e["errors"][0]["message"], "Attendu : un nombre ; reçu : le texte \"abc\".",
            "{e}"
        );
        let end = |day: &str| json!({"contract_type": "cdd", "contract_end": day});
        // A contract ending the day before the assignment: refused on the field, nothing
        // changed.
        let (s, e) = app
            .patch(
                &g.manager,
                &format!("/api/v1/employees/{id}"),
                end("2027-01-11"),
            )
            .await;
        assert_eq!(
            (s, e["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("contract_end")),
            "{e}"
        );
        assert!(
            e["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("1 mise(s)"),
            "{e}"
        );
        let (_, unchanged) = app
            .get(&g.manager, &format!("/api/v1/employees/{id}"))
            .await;
        assert_eq!(unchanged["contract_type"], "cdi", "{unchanged}");
        // Ending on the assignment's day is lawful.
        let (s, e) = app
            .patch(
                &g.manager,
                &format!("/api/v1/employees/{id}"),
                end("2027-01-12"),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        // Archiving with an assignment to come: refused until it is cancelled.
        let archive = format!("/api/v1/employees/{id}/archive");
        let (s, e) = app.post(&g.manager, &archive, json!({})).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("future_assignments")),
            "{e}"
        );
        let (_, still) = app
            .get(&g.manager, &format!("/api/v1/employees/{id}"))
            .await;
        assert_eq!(still["archived"], false, "{still}");
        let (s, _) = app
            .post(
                &g.manager,
                &format!("/api/v1/bookings/{}/cancel", b["id"]),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, e) = app.post(&g.manager, &archive, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{e}");
    }
);

both_backends!(who_is_free_with_a_skill, |app: TestApp| async move {
    let g = group(&app).await;
    let id = planned_week(&app, &g).await;
    let mut other = camille(&g);
    other["name"] = json!("Dominique Petit");
    other["skills"] = json!(["Soudure"]);
    let (s, _) = app.post(&g.manager, "/api/v1/employees", other).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, c) = app
        .get(
            &g.manager,
            "/api/v1/staff/free?start=2027-01-19T14:00&end=2027-01-19T18:00&skill=chariot",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let c = c.as_array().unwrap();
    assert_eq!(c.len(), 1, "only the forklift driver: {c:?}");
    assert_eq!(
        (c[0]["employee"]["id"].as_i64(), c[0]["available"].as_bool()),
        (Some(id), Some(true))
    );
    // Monday 18: absent.
    let (_, c) = app
        .get(
            &g.manager,
            "/api/v1/staff/free?start=2027-01-18T14:00&end=2027-01-18T18:00&skill=chariot",
        )
        .await;
    assert_eq!(
        (c[0]["free"].as_bool(), c[0]["available"].as_bool()),
        (Some(false), Some(false))
    );
    // Friday 15 evening: free, but 4 h 30 more make 10 h 30 that day (6 h already worked).
    let (_, c) = app
        .get(
            &g.manager,
            "/api/v1/staff/free?start=2027-01-15T15:30&end=2027-01-15T20:00&skill=chariot",
        )
        .await;
    assert_eq!(
        (
            c[0]["free"].as_bool(),
            c[0]["available"].as_bool(),
            c[0]["violations"][0]["code"].as_str()
        ),
        (Some(true), Some(false), Some("daily_hours")),
        "{c:?}"
    );
    let (s, e) = app
        .get(
            &g.manager,
            "/api/v1/staff/free?start=2027-01-19T18:00&end=2027-01-19T14:00",
        )
        .await;
    assert_eq!(
        (s, e["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("end"))
    );
    let (s, _) = app
        .get(
            &g.booker,
            "/api/v1/staff/free?start=2027-01-19T14:00&end=2027-01-19T18:00",
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
});

both_backends!(planning_pages, |app: TestApp| async move {
    let g = group(&app).await;
    let id = planned_week(&app, &g).await;
    let web = Browser::sign_in(&app, "ge@sud.test").await;
    let (s, page, _) = web.get("/staff/week?date=2027-01-13").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    std::fs::write(std::env::temp_dir().join("mutualise-week.html"), &page).ok();
    assert!(page.contains("Semaine du lundi 11 janvier 2027"), "{page}");
    // The legend names every member beside its letter; each block carries the letter.
    assert!(page.contains("B</span> Les Jardins"), "{page}");
    assert!(page.contains("<span class=\"code\">B</span>"));
    // Training is marked by its word, not by a letter a member may also have.
    assert!(
        page.contains("Formation</span> temps de formation, au groupement"),
        "{page}"
    );
    assert!(page.contains("38 h</strong> / 35 h"), "{page}");
    assert!(page.contains("dont 3 h suppl."));
    assert!(
        page.contains("Alerte : "),
        "the overtime warning is spelled out"
    );
    assert!(page.contains(&format!("href=\"/staff/{id}/month?month=2027-01\"")));
    let (s, page, _) = web.get("/staff/week?date=demain").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("Date attendue"), "inline error on a bad date");
    let (s, page, _) = web.get(&format!("/staff/{id}/month?month=2027-01")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Heures du mois par structure"));
    assert!(page.contains("Coop'Atelier") || page.contains("Coop&#39;Atelier"));
    let (s, page, _) = web
        .get("/staff/free?date=2027-01-19&from=14:00&to=18:00&skill=chariot")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Disponible"), "{page}");
    assert!(page.contains(&format!(
        "/bookings/new?resource_id={id}&amp;start=2027-01-19T14:00&amp;end=2027-01-19T18:00"
    )));
    // The group's manager records training and absences from the form; a member does not.
    let form =
        format!("/bookings/new?resource_id={id}&start=2027-01-19T14:00&end=2027-01-19T18:00");
    let (_, page, _) = web.get(&form).await;
    assert!(page.contains("name=\"activity\""), "{page}");
    let (_, page, _) = Browser::sign_in(&app, "booker@jardins.test")
        .await
        .get(&form)
        .await;
    assert!(
        page.contains("Réserver") || page.contains("réserv"),
        "{page}"
    );
    assert!(!page.contains("name=\"activity\""), "{page}");
    // No tariff, yet not free: the month's hours are billed.
    assert!(
        page.contains("Mise à disposition facturée au relevé du mois"),
        "{page}"
    );
    assert!(!page.contains("rien à payer"), "{page}");
    let (s, page, _) = web
        .get("/staff/free?date=2027-01-19&from=18:00&to=14:00")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("La fin doit suivre le début."), "{page}");
    let (s, page, _) = web.get("/staff/ledger?month=2027-01").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Relevé des heures — janvier 2027"), "{page}");
    assert!(page.contains("663,70 €"), "{page}");
    assert!(page.contains("non facturé"));
    let res = web
        .client
        .get(format!(
            "{}/staff/ledger.csv?month=2027-01&format=semicolon",
            web.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("heures-salaries-partages-2027-01.csv"));
    assert!(res.bytes().await.unwrap().starts_with(&[0xEF, 0xBB, 0xBF]));
    // A member's booker: its own hours, never the whole week nor the ledger.
    let web = Browser::sign_in(&app, "booker@jardins.test").await;
    let (s, page, _) = web.get("/staff/hours?month=2027-01").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Camille Martin") && page.contains("20 h"),
        "{page}"
    );
    for path in [
        "/staff/week",
        "/staff/ledger",
        "/staff/free?date=2027-01-19&from=14:00&to=18:00",
    ] {
        let (s, _, _) = web.get(path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, page, _) = web.get("/staff").await;
    assert!(!page.contains("href=\"/staff/week\""), "{page}");
});

both_backends!(recurring_assignments, |app: TestApp| async move {
    let g = group(&app).await;
    let id = full_time_camille(&app, &g, json!([g.member, g.other])).await;
    // Every Tuesday and Thursday 08:30–12:30 at Les Jardins for six months.
    let (s, series) = app
        .post(
            &g.booker,
            "/api/v1/bookings",
            json!({"resource_id": id, "member_id": g.member, "start": "2027-01-12T08:30",
                   "end": "2027-01-12T12:30",
                   "recurrence": {"rrule": "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=52"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{series}");
    let occurrences = series["bookings"].as_array().unwrap();
    assert_eq!(occurrences.len(), 52);
    // Thursday 14 January: the afternoon at Coop'Atelier makes a 10 h day.
    let (s, b) = app
        .post(
            &g.admin,
            "/api/v1/bookings",
            assign(id, g.other, "2027-01-14T13:00", "2027-01-14T19:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // A weekly evening at Les Jardins from that Thursday: all or nothing refuses the series
    // and names the occurrence and the limit.
    let evenings = |skip: bool| {
        json!({"resource_id": id, "member_id": g.member, "start": "2027-01-14T19:30",
               "end": "2027-01-14T21:00", "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=3"},
               "skip_conflicts": skip})
    };
    let before = app.count("bookings").await;
    let (s, e) = app
        .post(&g.booker, "/api/v1/bookings", evenings(false))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["code"], "labour_limit", "{e}");
    let refused = e["occurrences"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{e}");
    assert_eq!(refused[0]["start"], "2027-01-14T18:30:00Z");
    assert_eq!(refused[0]["violations"][0]["code"], "daily_hours");
    assert_eq!(app.count("bookings").await, before);
    // Skipping books the two others.
    let (s, out) = app
        .post(&g.booker, "/api/v1/bookings", evenings(true))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{out}");
    assert_eq!(
        (
            out["bookings"].as_array().unwrap().len(),
            out["skipped"].as_array().unwrap().len()
        ),
        (2, 1)
    );
    // Moving one occurrence is checked again: Thursday's morning from 07:00 makes 11 h 30.
    let thursday = occurrences[1]["id"].as_i64().unwrap();
    let (s, e) = app
        .patch(
            &g.booker,
            &format!("/api/v1/bookings/{thursday}"),
            json!({"start": "2027-01-14T07:00", "end": "2027-01-14T12:30"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("labour_limit")),
        "{e}"
    );
    // Moving the following occurrences an hour later is accepted; cancelling them too.
    let tenth = occurrences[9]["id"].as_i64().unwrap();
    let (s, moved) = app
        .patch(
            &g.booker,
            &format!("/api/v1/bookings/{tenth}"),
            json!({"start": "2027-02-11T09:30", "end": "2027-02-11T13:30", "scope": "following"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(moved.as_array().unwrap().len(), 43);
    let (s, c) = app
        .post(
            &g.booker,
            &format!("/api/v1/bookings/{tenth}/cancel"),
            json!({"scope": "following"}),
        )
        .await;
    assert_eq!((s, c.as_array().unwrap().len()), (StatusCode::OK, 43));
});

both_backends!(
    alternatives_to_a_refused_assignment_are_lawful,
    |app: TestApp| async move {
        let g = group(&app).await;
        let camille = full_time_camille(&app, &g, json!([g.member])).await;
        // Another employee free that day, at the disposal of the member; a third one only of
        // the other member.
        let nadia = hire(
            &app,
            &g,
            "Nadia Benali",
            json!([g.member]),
            Some("1985-02-03"),
        )
        .await;
        let yanis = hire(&app, &g, "Yanis Roussel", json!([g.other]), None).await;
        // Léa, at the disposal of the member too, works at the other member over that hour.
        let lea = hire(
            &app,
            &g,
            "Léa Martin",
            json!([g.member, g.other]),
            Some("1990-05-06"),
        )
        .await;
        let (s, a) = app
            .post(
                &g.manager,
                "/api/v1/bookings",
                assign(lea, g.other, "2027-01-12T11:30", "2027-01-12T13:30"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        // Tuesday 12 January 2027: 08:00–12:00 and 12:30–18:30, ten hours.
        ten_hour_day(&app, &g, camille, "2027-01-12").await;
        // An hour over her lunch break: taken. Any hour of hers that day would make an 11-hour
        // day: she is offered other days; Nadia is offered that hour, Yanis (no agreement with
        // this member) is not.
        let (s, e) = app
            .post(
                &g.booker,
                "/api/v1/bookings",
                assign(camille, g.member, "2027-01-12T12:00", "2027-01-12T13:00"),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("conflict")),
            "{e}"
        );
        let suggestions = e["suggestions"].as_array().unwrap();
        assert!(!suggestions.is_empty(), "{e}");
        let on_tuesday = |s: &Value| s["start"].as_str().unwrap().starts_with("2027-01-12");
        assert!(
            !suggestions
                .iter()
                .any(|s| s["resource_id"] == camille && on_tuesday(s)),
            "an 11-hour day offered: {e}"
        );
        assert!(suggestions.iter().any(|s| s["resource_id"] == nadia), "{e}");
        // Her alternatives: the same hour on the days around, the next day first.
        assert_eq!(
            suggestions
                .iter()
                .filter(|s| s["resource_id"] == camille)
                .map(|s| s["start"].as_str().unwrap())
                .collect::<Vec<_>>(),
            [
                "2027-01-13T11:00:00Z",
                "2027-01-11T11:00:00Z",
                "2027-01-14T11:00:00Z"
            ],
            "{e}"
        );
        assert!(
            !suggestions.iter().any(|s| s["resource_id"] == yanis),
            "{e}"
        );
        assert!(
            !suggestions.iter().any(|s| s["resource_id"] == lea),
            "busy elsewhere: {e}"
        );
        // Every alternative offered is accepted as it stands.
        accepted_as_they_stand(&app, &g, suggestions.iter()).await;
        // The alternatives read the employees' rules from what the service keeps between
        // requests: once Nadia's agreement with this member ends, she is no longer offered.
        let (s, n) = app
            .patch(
                &g.manager,
                &format!("/api/v1/employees/{nadia}"),
                json!({"agreement_member_ids": [g.other]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{n}");
        let (s, e) = app
            .post(
                &g.booker,
                "/api/v1/bookings",
                assign(camille, g.member, "2027-01-12T12:00", "2027-01-12T13:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert!(
            !e["suggestions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["resource_id"] == nadia),
            "{e}"
        );
    }
);

both_backends!(
    alternatives_skip_the_days_already_full,
    |app: TestApp| async move {
        let g = group(&app).await;
        let camille = full_time_camille(&app, &g, json!([g.member])).await;
        // Ten hours on Monday 11, Tuesday 12 and Wednesday 13 January 2027.
        for day in ["2027-01-11", "2027-01-12", "2027-01-13"] {
            ten_hour_day(&app, &g, camille, day).await;
        }
        // An hour more on Tuesday: eleven hours. The same hour on the Wednesday and the
        // Monday would make eleven-hour days too: the nearest days offered come after them.
        let (s, e) = app
            .post(
                &g.booker,
                "/api/v1/bookings",
                assign(camille, g.member, "2027-01-12T18:30", "2027-01-12T19:30"),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("labour_limit")),
            "{e}"
        );
        let hers: Vec<&Value> = e["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["resource_id"] == camille)
            .collect();
        assert_eq!(
            hers.iter()
                .map(|s| s["start"].as_str().unwrap())
                .collect::<Vec<_>>(),
            [
                "2027-01-14T17:30:00Z",
                "2027-01-10T17:30:00Z",
                "2027-01-15T17:30:00Z"
            ],
            "{e}"
        );
        accepted_as_they_stand(&app, &g, hers.into_iter()).await;
    }
);

both_backends!(
    shifts_kept_for_months_apart_judge_both,
    |app: TestApp| async move {
        let g = group(&app).await;
        let camille = full_time_camille(&app, &g, json!([g.member])).await;
        let evening = |day: &str| assign_on(camille, g.member, day, ("18:30", "19:30"));
        // Ten hours on a Tuesday in November, then on one in January, ten months apart.
        ten_hour_day(&app, &g, camille, "2027-11-16").await;
        ten_hour_day(&app, &g, camille, "2027-01-12").await;
        // A cancellation moves the employee's shifts version: the next assignment, in
        // January, reads her shifts again, over the months around January only.
        let (s, e) = app
            .post(&g.booker, "/api/v1/bookings", evening("2027-01-14"))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        let (s, _) = app.cancel(&g.booker, e["id"].as_i64().unwrap()).await;
        assert_eq!(s, StatusCode::OK);
        // Then each day is judged on its own shifts: November's are read to grow what is
        // kept, January's stay kept.
        for (day, expected) in [
            ("2027-01-14", StatusCode::CREATED),
            ("2027-11-16", StatusCode::CONFLICT),
            ("2027-11-18", StatusCode::CREATED),
            ("2027-01-12", StatusCode::CONFLICT),
        ] {
            let (s, e) = app.post(&g.booker, "/api/v1/bookings", evening(day)).await;
            assert_eq!(s, expected, "{day}: {e}");
            if s == StatusCode::CONFLICT {
                assert_eq!(e["code"], "labour_limit", "{e}");
                assert_eq!(e["violations"][0]["code"], "daily_hours", "{e}");
            }
        }
    }
);

/// 08:00–12:00 and 12:30–18:30 on `day` at the member: ten hours of work.
async fn ten_hour_day(app: &TestApp, g: &Group, employee: i64, day: &str) {
    for (start, end) in [("08:00", "12:00"), ("12:30", "18:30")] {
        let (s, a) = app
            .post(
                &g.manager,
                "/api/v1/bookings",
                assign_on(employee, g.member, day, (start, end)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
    }
}

/// Each alternative offered, booked as it stands by the member's booker, is accepted (then
/// cancelled).
async fn accepted_as_they_stand(
    app: &TestApp,
    g: &Group,
    suggestions: impl Iterator<Item = &Value>,
) {
    for s in suggestions {
        let (status, b) = app
            .post(
                &g.booker,
                "/api/v1/bookings",
                json!({"resource_id": s["resource_id"], "member_id": g.member,
                       "start": s["start"], "end": s["end"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{s} → {b}");
        let id = b["id"].as_i64().unwrap();
        let (status, _) = app.cancel(&g.booker, id).await;
        assert!(status.is_success(), "{status}");
    }
}

/// Camille on a full-time contract at the disposal of `agreements`: her id.
async fn full_time_camille(app: &TestApp, g: &Group, agreements: Value) -> i64 {
    hire(app, g, "Camille Martin", agreements, None).await
}

/// A full-time employee like Camille, named `name`, at the disposal of `agreements`, born on
/// `birth` if given (Camille's date otherwise): the id.
async fn hire(app: &TestApp, g: &Group, name: &str, agreements: Value, birth: Option<&str>) -> i64 {
    let mut e = camille_like(g, name, agreements);
    if let Some(birth) = birth {
        e["birth_date"] = json!(birth);
    }
    let (s, e) = app.post(&g.manager, "/api/v1/employees", e).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    e["id"].as_i64().unwrap()
}

fn camille_like(g: &Group, name: &str, agreements: Value) -> Value {
    let mut e = camille(g);
    e["name"] = json!(name);
    e["weekly_contract_hours"] = json!(35.0);
    e["agreement_member_ids"] = agreements;
    e
}

/// The employee's shifts version, and the rules epoch.
async fn versions(app: &TestApp, employee: i64) -> (i64, i64) {
    app.with_conn(move |c| {
        let id = mutualise::domain::ids::ResourceId(employee);
        let (version, _) = mutualise::store::resources::shifts_version(c, id)?;
        Ok((version, mutualise::store::resources::rules_epoch(c)?))
    })
    .await
}

/// Books as the group's manager inside one write, with shifts read ahead for the same
/// interval before `between` ran; returns the error code, if refused.
async fn book_read_ahead_then(
    app: &TestApp,
    input: Value,
    between: impl std::future::Future<Output = ()>,
) -> Option<String> {
    let input: mutualise::app::bookings::BookingInput = serde_json::from_value(input).unwrap();
    let env = mutualise::app::bookings::BookingEnv {
        tz: chrono_tz::Europe::Paris,
        now: common::NOW.parse().unwrap(),
        horizon_days: 365,
    };
    let (id, start, end) = (input.resource_id, input.start.clone(), input.end.clone());
    let ahead = app
        .with_conn(move |c| {
            let interval = mutualise::domain::time::Interval {
                start: mutualise::domain::time::parse_instant(&start, env.tz).unwrap(),
                end: mutualise::domain::time::parse_instant(&end, env.tz).unwrap(),
            };
            // Camille's rules in these tests (35 h a week): the verdict judged ahead is the one
            // the writer takes while the shifts have not moved.
            let camille = mutualise::domain::labour::Employee {
                birth_date: chrono::NaiveDate::from_ymd_opt(1990, 4, 12),
                weekly_contract_minutes: 35 * 60,
            };
            mutualise::app::bookings::ReadAhead::read(
                c,
                &mutualise::app::bookings::ShiftCache::default(),
                id,
                interval,
                env.tz,
                (camille, mutualise::domain::labour::Activity::Work),
            )
        })
        .await;
    between.await;
    app.with_conn(move |c| {
        let manager = mutualise::store::users::find_by_email(c, "ge@sud.test")?.unwrap();
        let actor = mutualise::app::authz::Actor::from_user(&mutualise::store::users::with_roles(
            c, manager,
        )?);
        let done = c.write(|c| {
            mutualise::app::bookings::book_tx(c, &actor, &input, &env, None, Some(&ahead))
        });
        Ok(done.err().map(|e| e.code().to_string()))
    })
    .await
}

both_backends!(
    shifts_read_ahead_serve_only_while_the_employee_is_unchanged,
    |app: TestApp| async move {
        let g = group(&app).await;
        let id = full_time_camille(&app, &g, json!([g.member])).await;
        let room = app
            .resource(&g.admin, json!({"kind": "room", "name": "Salle"}))
            .await;
        let (v0, epoch) = versions(&app, id).await;
        // Every write of the employee's bookings raises the version, in its transaction; the
        // rules epoch (what kept targets hang on) does not move for it.
        let (s, first) = app
            .post(
                &g.booker,
                "/api/v1/bookings",
                assign(id, g.member, "2027-01-12T07:00", "2027-01-12T11:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{first}");
        assert_eq!(versions(&app, id).await, (v0 + 1, epoch));
        let (s, r) = app
            .post(
                &g.booker,
                "/api/v1/bookings",
                assign(room, g.member, "2027-01-12T07:00", "2027-01-12T11:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(
            versions(&app, id).await,
            (v0 + 1, epoch),
            "another resource"
        );
        // A quarter of an hour in the evening is lawful on the shifts read ahead (4 h 15 that
        // day); a 6 h assignment booked meanwhile makes it 10 h 15: refused all the same.
        let refused = book_read_ahead_then(
            &app,
            assign(id, g.member, "2027-01-12T18:00", "2027-01-12T18:15"),
            async {
                let (s, b) = app
                    .post(
                        &g.booker,
                        "/api/v1/bookings",
                        assign(id, g.member, "2027-01-12T11:30", "2027-01-12T17:30"),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{b}");
            },
        )
        .await;
        assert_eq!(refused.as_deref(), Some("labour_limit"));
        assert_eq!(
            versions(&app, id).await.0,
            v0 + 2,
            "the refusal wrote nothing"
        );
        // Unchanged since the read: booked on what was read ahead.
        let accepted = book_read_ahead_then(
            &app,
            assign(id, g.member, "2027-01-13T08:00", "2027-01-13T12:00"),
            async {},
        )
        .await;
        assert_eq!(accepted, None);
        assert_eq!(versions(&app, id).await.0, v0 + 3);
        // Cancelling raises it too.
        let first = first["id"].as_i64().unwrap();
        let (s, c) = app.cancel(&g.booker, first).await;
        assert!(s.is_success(), "{s} {c}");
        assert_eq!(versions(&app, id).await, (v0 + 4, epoch));
    }
);

both_backends!(
    kept_shifts_follow_every_change_of_the_employee,
    |app: TestApp| async move {
        let g = group(&app).await;
        let id = full_time_camille(&app, &g, json!([g.member])).await;
        let book = |start: &'static str, end: &'static str| {
            let (app, g) = (&app, &g);
            async move {
                app.post(
                    &g.booker,
                    "/api/v1/bookings",
                    assign(id, g.member, start, end),
                )
                .await
            }
        };
        // The minutes worked that day, if the refusal is for the 10 h a day.
        let daily = |r: &Value| {
            r["violations"]
                .as_array()
                .and_then(|v| v.iter().find(|v| v["code"] == "daily_hours"))
                .and_then(|v| v["actual"].as_i64())
        };
        // Tuesday 12 January 2027. The first read keeps the employee's shifts; each assignment
        // made adds itself to them once committed.
        let (s, morning) = book("2027-01-12T06:00", "2027-01-12T10:00").await;
        assert_eq!(s, StatusCode::CREATED, "{morning}");
        let (s, afternoon) = book("2027-01-12T10:30", "2027-01-12T15:30").await;
        assert_eq!(s, StatusCode::CREATED, "{afternoon}");
        // 9 h so far: 1 h 15 more is 10 h 15, refused only if the afternoon is among the
        // shifts kept.
        let (s, r) = book("2027-01-12T16:00", "2027-01-12T17:15").await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        assert_eq!(daily(&r), Some(615), "{r}");
        // Cancelled: the kept shifts are no longer those of the database; 5 h 15.
        let (s, c) = app
            .cancel(&g.booker, afternoon["id"].as_i64().unwrap())
            .await;
        assert!(s.is_success(), "{s} {c}");
        let (s, evening) = book("2027-01-12T16:00", "2027-01-12T17:15").await;
        assert_eq!(s, StatusCode::CREATED, "{evening}");
        // Written behind the service's back (09:30–12:30 UTC is 10:30–13:30 in Paris): the
        // shifts version moves with it, so it counts at once: 8 h 15 with it.
        app.insert_booking(
            id,
            g.member,
            "2027-01-12 09:30",
            "2027-01-12 12:30",
            mutualise::domain::status::BookingStatus::Confirmed,
        )
        .await;
        let (s, r) = book("2027-01-12T13:45", "2027-01-12T15:45").await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        assert_eq!(daily(&r), Some(615), "{r}");
        // A refusal added nothing to them: the 1 h 45 that fit are accepted, and then count.
        let (s, fits) = book("2027-01-12T13:45", "2027-01-12T15:30").await;
        assert_eq!(s, StatusCode::CREATED, "{fits}");
        let (s, r) = book("2027-01-12T17:15", "2027-01-12T17:30").await;
        assert_eq!(s, StatusCode::CONFLICT, "{r}");
        assert_eq!(daily(&r), Some(615), "{r}");
    }
);
