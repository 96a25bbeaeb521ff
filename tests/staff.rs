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
