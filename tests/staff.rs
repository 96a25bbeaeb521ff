//! Shared employees of employer groups over HTTP, on SQLite and PostgreSQL: who manages and
//! who sees what, the search by skill.

mod common;

use common::TestApp;
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
        let (_, other_group) = app
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
                &[(other_group["id"].as_i64().unwrap(), "member_admin")],
            )
            .await;
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

both_backends!(working_time_law_across_members, |app: TestApp| async move {
    let g = group(&app).await;
    let mut e = camille(&g);
    e["weekly_contract_hours"] = json!(35.0);
    e["agreement_member_ids"] = json!([g.member, g.other]);
    let (_, camille) = app.post(&g.manager, "/api/v1/employees", e).await;
    let id = camille["id"].as_i64().unwrap();
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
    e["contract_end"] = json!("2028-08-31");
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
});
