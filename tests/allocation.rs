//! The monthly allocation over HTTP, on SQLite and PostgreSQL: statements to the cent (the
//! worked examples of the issue), tariff versions, social pricing, who sees what, the close
//! and what it freezes, reopening, adjustments and the hash chain.

mod common;

use common::{book, csrf_of, Browser, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Pole {
    admin: String,
    treasurer: String,
    booker: String,
    other_booker: String,
    /// Surfaces 40, 25 and 15 m²; `b` is an insertion structure (×0.5).
    a: i64,
    b: i64,
    c: i64,
    room: i64,
}

async fn pole(app: &TestApp) -> Pole {
    let admin = app.admin().await;
    let mut ids = Vec::new();
    for (name, surface, category) in [
        ("Atelier Alpha", 40, "standard"),
        ("Bravo Insertion", 25, "insertion"),
        ("Charlie Coop", 15, "standard"),
    ] {
        let (s, m) = app
            .post(
                &admin,
                "/api/v1/members",
                json!({"name": name, "legal_form": "association", "surface_m2": surface,
                       "pricing_category": category}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        ids.push(m["id"].as_i64().unwrap());
    }
    let (_, treasurer) = app.user("tresorier@pole.test", &["treasurer"], &[]).await;
    let (_, booker) = app
        .user("booker@alpha.test", &[], &[(ids[0], "booker")])
        .await;
    let (_, other_booker) = app
        .user("booker@bravo.test", &[], &[(ids[1], "booker")])
        .await;
    let room = app
        .resource(
            &admin,
            json!({"kind": "room", "name": "Salle Jaurès",
                   "tariff": {"hourly_cents": 1500, "daily_cap_cents": 8000, "billing_unit_minutes": 30}}),
        )
        .await;
    Pole {
        admin,
        treasurer,
        booker,
        other_booker,
        a: ids[0],
        b: ids[1],
        c: ids[2],
        room,
    }
}

fn statement(alloc: &Value, member: i64) -> &Value {
    alloc["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["member_id"] == member)
        .unwrap_or_else(|| panic!("no statement for {member}: {alloc}"))
}

fn lines_of(alloc: &Value, member: i64, source: &str) -> Vec<i64> {
    statement(alloc, member)["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source"] == source)
        .map(|l| l["amount_cents"].as_i64().unwrap())
        .collect()
}

async fn setup_month(app: &TestApp, p: &Pole) {
    // Alpha: 09:00–10:15 billed as 1 h 30 (half-hour units) at 15 € → 22,50 €.
    let (s, b) = app
        .post(
            &p.booker,
            "/api/v1/bookings",
            book(p.room, p.a, "2027-01-05T09:00", "2027-01-05T10:15"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Bravo, an insertion structure at ×0.5: 2 h → 15,00 €.
    let (s, b) = app
        .post(
            &p.other_booker,
            "/api/v1/bookings",
            book(p.room, p.b, "2027-01-06T09:00", "2027-01-06T11:00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, body) = app
        .post(
            &p.treasurer,
            "/api/v1/pricing/coefficients",
            json!({"category": "insertion", "effective_from": "2027-01-01", "coefficient_permille": 500}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    // 2 345,67 € of rent by surface 40 / 25 / 15 m².
    let (s, body) = app
        .post(
            &p.treasurer,
            "/api/v1/costs",
            json!({"month": "2027-01", "label": "Loyer", "amount_cents": 234_567,
                   "key": {"method": "surface"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    // 999,99 € at 12,5 / 37,5 / 50 %.
    let mut weights = serde_json::Map::new();
    weights.insert(p.a.to_string(), json!(12.5));
    weights.insert(p.b.to_string(), json!(37.5));
    weights.insert(p.c.to_string(), json!(50));
    let (s, body) = app
        .post(
            &p.treasurer,
            "/api/v1/costs",
            json!({"month": "2027-01", "label": "Assurance", "amount_cents": 99_999,
                   "key": {"method": "percentages", "weights": weights}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
}

both_backends!(
    statements_are_exact_to_the_cent,
    |app: TestApp| async move {
        let p = pole(&app).await;
        setup_month(&app, &p).await;
        let (s, alloc) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        assert_eq!(s, StatusCode::OK, "{alloc}");
        assert_eq!(alloc["status"], "open");
        assert_eq!(lines_of(&alloc, p.a, "tariff"), [2_250]);
        assert_eq!(lines_of(&alloc, p.b, "tariff"), [1_500]);
        let rent = |m| {
            let mut v = lines_of(&alloc, m, "cost_share");
            v.sort();
            v
        };
        // Rent by surface and insurance by percentages, per member (sorted amounts).
        assert_eq!(rent(p.a), [12_500, 117_284]);
        assert_eq!(rent(p.b), [37_500, 73_302]);
        assert_eq!(rent(p.c), [43_981, 49_999]);
        let total: i64 = [p.a, p.b, p.c]
            .iter()
            .map(|m| statement(&alloc, *m)["total_cents"].as_i64().unwrap())
            .sum();
        assert_eq!(total, 234_567 + 99_999 + 2_250 + 1_500);
        assert_eq!(alloc["total_cents"], total);
        // Every line says how it was reached and points at what is behind it.
        let line = &statement(&alloc, p.b)["lines"][0];
        assert_eq!(line["source"], "tariff");
        assert!(
            line["basis"].as_str().unwrap().contains("coefficient ×0,5"),
            "{line}"
        );
        assert_eq!(line["quantity"], 2);
        assert_eq!(line["unit"], "h");
        assert_eq!(line["refs"]["bookings"].as_array().unwrap().len(), 1);
        let rent_line = statement(&alloc, p.a)["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["label"] == "Loyer")
            .unwrap()
            .clone();
        assert!(
            rent_line["basis"]
                .as_str()
                .unwrap()
                .contains("40 m² sur 80 m²"),
            "{rent_line}"
        );
        // The per-resource view: what use recovered of the room.
        let room = alloc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource_id"] == p.room)
            .unwrap();
        assert_eq!(room["recovered_cents"], 3_750);
        // 100,00 € by the room's usage: 75 and 120 minutes.
        let (s, body) = app
            .post(
                &p.treasurer,
                "/api/v1/costs",
                json!({"month": "2027-01", "label": "Ménage salle", "amount_cents": 10_000,
                       "resource_id": p.room, "key": {"method": "usage_hours"}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let (_, alloc) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        let cleaning_in = |alloc: &Value, m| {
            statement(alloc, m)["lines"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["label"] == "Ménage salle")
                .map(|l| l["amount_cents"].as_i64().unwrap())
        };
        let cleaning = |m| cleaning_in(&alloc, m);
        assert_eq!(
            (cleaning(p.a), cleaning(p.b), cleaning(p.c)),
            (Some(3_846), Some(6_154), None)
        );
        assert!(room["occupancy_permille"].as_i64().unwrap() > 0);
        // A new booking changes the use the key weighs, in the whole month and in a member's
        // own statement alike: 75, 120 and 60 minutes.
        let (s, b) = app
            .post(
                &p.admin,
                "/api/v1/bookings",
                book(p.room, p.c, "2027-01-07T09:00", "2027-01-07T10:00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (_, own) = app
            .get(
                &p.booker,
                &format!("/api/v1/allocations/2027-01/members/{}", p.a),
            )
            .await;
        let own_cleaning = own["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["label"] == "Ménage salle")
            .map(|l| l["amount_cents"].as_i64().unwrap());
        assert_eq!(own_cleaning, Some(2_941));
        let (_, after) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        let cleaning = |m| cleaning_in(&after, m);
        assert_eq!(
            (cleaning(p.a), cleaning(p.b), cleaning(p.c)),
            (Some(2_941), Some(4_706), Some(2_353))
        );
        // Cancelling it (before its start) gives the month back as it was.
        let (s, _) = app
            .post(
                &p.admin,
                &format!("/api/v1/bookings/{}/cancel", b["id"]),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, again) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        let cleaning = |m| cleaning_in(&again, m);
        assert_eq!(
            (cleaning(p.a), cleaning(p.b), cleaning(p.c)),
            (Some(3_846), Some(6_154), None)
        );

        // A member's user sees its own statement only; no pole-wide figures.
        let (s, own) = app.get(&p.booker, "/api/v1/allocations/2027-01").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(own["members"].as_array().unwrap().len(), 1, "{own}");
        assert_eq!(own["members"][0]["member_id"], p.a);
        assert!(own.get("resources").is_none());
        let (s, _) = app
            .get(
                &p.booker,
                &format!("/api/v1/allocations/2027-01/members/{}", p.b),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, mine) = app
            .get(
                &p.booker,
                &format!("/api/v1/allocations/2027-01/members/{}", p.a),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(mine["total_cents"], 2_250 + 12_500 + 117_284 + 3_846);
        // Members cannot see the cost entries nor enter any.
        let (s, _) = app.get(&p.booker, "/api/v1/costs?month=2027-01").await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // CSV, in both dialects.
        let res = app
            .client
            .get(format!("{}/api/v1/allocations/2027-01.csv", app.base))
            .bearer_auth(&p.treasurer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let csv = res.text().await.unwrap();
        assert!(csv.starts_with("month,member_id,member,source"), "{csv}");
        assert!(csv.contains("1172.84"), "{csv}");
        let res = app
            .client
            .get(format!(
                "{}/api/v1/allocations/2027-01.csv?format=semicolon",
                app.base
            ))
            .bearer_auth(&p.treasurer)
            .send()
            .await
            .unwrap();
        let fr = res.text().await.unwrap();
        assert!(fr.starts_with('\u{feff}'), "BOM");
        assert!(fr.contains("1172,84"), "{fr}");
        // FEC: one balanced entry per member.
        let res = app
            .client
            .get(format!("{}/api/v1/allocations/2027-01/fec", app.base))
            .bearer_auth(&p.treasurer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let fec = res.text().await.unwrap();
        assert!(
            fec.starts_with("JournalCode|JournalLib|EcritureNum"),
            "{fec}"
        );
        assert_eq!(fec.lines().next().unwrap().split('|').count(), 18);
    }
);

both_backends!(
    tariffs_take_effect_on_their_date,
    |app: TestApp| async move {
        let p = pole(&app).await;
        setup_month(&app, &p).await;
        // From 6 January, 20 €/h: Alpha's 5 January booking keeps 15 €.
        let (s, versions) = app
            .post(
                &p.treasurer,
                &format!("/api/v1/resources/{}/tariffs", p.room),
                json!({"effective_from": "2027-01-06", "hourly_cents": 2000, "billing_unit_minutes": 30}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{versions}");
        assert_eq!(versions.as_array().unwrap().len(), 2);
        // And one from next month never touches this one.
        let (s, _) = app
            .post(
                &p.treasurer,
                &format!("/api/v1/resources/{}/tariffs", p.room),
                json!({"effective_from": "2027-02-01", "hourly_cents": 9900}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, alloc) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        assert_eq!(lines_of(&alloc, p.a, "tariff"), [2_250]);
        assert_eq!(lines_of(&alloc, p.b, "tariff"), [2_000]);
        // The resource shows the tariff in force today (4 January 2027).
        let (_, r) = app
            .get(&p.admin, &format!("/api/v1/resources/{}", p.room))
            .await;
        assert_eq!(r["tariff"]["hourly_cents"], 1500);
        // The only version cannot go; a bad one is refused and changes nothing.
        let (s, e) = app
            .post(
                &p.treasurer,
                &format!("/api/v1/resources/{}/tariffs", p.room),
                json!({"effective_from": "2027-03-01", "hourly_cents": -5}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, _) = app
            .call(
                Method::DELETE,
                &p.treasurer,
                &format!("/api/v1/resources/{}/tariffs/2027-02-01", p.room),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        // Bookers do not set tariffs.
        let (s, _) = app
            .post(
                &p.booker,
                &format!("/api/v1/resources/{}/tariffs", p.room),
                json!({"effective_from": "2027-03-01", "hourly_cents": 0}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
);

both_backends!(
    keys_that_cannot_split_are_refused,
    |app: TestApp| async move {
        let p = pole(&app).await;
        let before = app.count("costs").await;
        // Nobody has a headcount: all-zero weights.
        let (s, e) = app
            .post(
                &p.treasurer,
                "/api/v1/costs",
                json!({"month": "2027-01", "label": "Ménage", "amount_cents": 10_000,
                       "key": {"method": "headcount"}}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["detail"].as_str().unwrap().contains("effectif"), "{e}");
        // Percentages that do not make 100 %.
        let mut w = serde_json::Map::new();
        w.insert(p.a.to_string(), json!(60));
        w.insert(p.b.to_string(), json!(30));
        let (s, e) = app
            .post(
                &p.treasurer,
                "/api/v1/costs",
                json!({"month": "2027-01", "label": "X", "amount_cents": 10_000,
                       "key": {"method": "percentages", "weights": w}}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["detail"].as_str().unwrap().contains("90"), "{e}");
        assert_eq!(app.count("costs").await, before);
        // 100,00 € in equal parts: the lowest member id takes the extra cent.
        let (s, body) = app
            .post(
                &p.treasurer,
                "/api/v1/costs",
                json!({"month": "2027-01", "label": "Café", "amount_cents": 10_000,
                       "key": {"method": "equal"}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let (_, alloc) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        assert_eq!(lines_of(&alloc, p.a, "cost_share"), [3_334]);
        assert_eq!(lines_of(&alloc, p.b, "cost_share"), [3_333]);
        assert_eq!(lines_of(&alloc, p.c, "cost_share"), [3_333]);
        // A blend: 50 % by surface + 50 % equal parts, split once.
        let (s, wi) = app
            .post(
                &p.treasurer,
                "/api/v1/costs/what-if",
                json!({"cost": {"month": "2027-01", "label": "Chauffage", "amount_cents": 80_000,
                         "key": {"method": "blend", "parts": [
                            {"weight_percent": 50, "key": {"method": "surface"}},
                            {"weight_percent": 50, "key": {"method": "equal"}}]}},
                       "other_key": {"method": "surface"}}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{wi}");
        let rows = wi["rows"].as_array().unwrap();
        let sum = |i: usize| {
            rows.iter()
                .map(|r| r["cents"][i].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(sum(0), 80_000);
        assert_eq!(sum(1), 80_000);
        // Alpha: 50 % × 40/80 + 50 % × 1/3 of 800 € = 200 + 133,33; by surface alone 400 €.
        let alpha = rows.iter().find(|r| r["member_id"] == p.a).unwrap();
        assert_eq!(alpha["cents"], json!([33_334, 40_000]));
        // The what-if saved nothing.
        assert_eq!(app.count("costs").await, before + 1);
    }
);

both_backends!(
    a_closed_month_is_frozen_and_chained,
    |app: TestApp| async move {
        let p = pole(&app).await;
        // Months close once over: the treasurer closes them from a later day.
        let later = app.same_database_at("2027-04-01T08:00:00Z").await;
        setup_month(&app, &p).await;
        let (_, open) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        // Members cannot close.
        let (s, _) = app
            .post(&p.booker, "/api/v1/allocations/2027-01/close", json!({}))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Not before the month is over: on 4 January, January is still running.
        let (s, e) = app
            .post(&p.treasurer, "/api/v1/allocations/2027-01/close", json!({}))
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("month_not_over")),
            "{e}"
        );
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains("lundi 1 février 2027"),
            "{e}"
        );
        let (s, closing) = later
            .post(&p.treasurer, "/api/v1/allocations/2027-01/close", json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{closing}");
        assert_eq!(closing["total_cents"], open["total_cents"]);
        assert_eq!(closing["previous_hash"], "");
        assert_eq!(closing["hash"].as_str().unwrap().len(), 64);
        // Bookings, costs, adjustments and tariffs of January are refused from now on.
        let (s, e) = app
            .post(
                &p.booker,
                "/api/v1/bookings",
                book(p.room, p.a, "2027-01-20T09:00", "2027-01-20T10:00"),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("month_closed"))
        );
        let (s, e) = app
            .post(
                &p.treasurer,
                "/api/v1/costs",
                json!({"month": "2027-01", "label": "Oubli", "amount_cents": 100,
                       "key": {"method": "equal"}}),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("month_closed"))
        );
        let (s, e) = app
            .post(
                &p.treasurer,
                "/api/v1/adjustments",
                json!({"month": "2027-01", "member_id": p.a, "label": "Oubli", "amount_cents": 100}),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("month_closed"))
        );
        let (s, e) = app
            .post(
                &p.treasurer,
                &format!("/api/v1/resources/{}/tariffs", p.room),
                json!({"effective_from": "2027-01-15", "hourly_cents": 1}),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("month_closed"))
        );
        // Later changes never touch the stored statement: a new coefficient from February,
        // a member renamed.
        let (s, _) = app
            .post(
                &p.treasurer,
                "/api/v1/pricing/coefficients",
                json!({"category": "insertion", "effective_from": "2027-02-01", "coefficient_permille": 100}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = app
            .patch(
                &p.admin,
                &format!("/api/v1/members/{}", p.c),
                json!({"name": "Charlie Renommée", "surface_m2": 500}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, closed) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["members"], open["members"]);
        assert_eq!(closed["closing"]["hash"], closing["hash"]);

        // Corrections go into an open month as adjustments, positive or negative.
        let (s, adj) = app
            .post(
                &p.treasurer,
                "/api/v1/adjustments",
                json!({"month": "2027-02", "member_id": p.a, "label": "Trop-perçu de janvier", "amount_cents": -1_250}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{adj}");
        let (_, feb) = app.get(&p.treasurer, "/api/v1/allocations/2027-02").await;
        assert_eq!(lines_of(&feb, p.a, "adjustment"), [-1_250]);
        let (s, feb_close) = later
            .post(&p.treasurer, "/api/v1/allocations/2027-02/close", json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{feb_close}");
        assert_eq!(feb_close["previous_hash"], closing["hash"]);
        let (s, checks) = app.get(&p.treasurer, "/api/v1/allocations/verify").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            checks.as_array().unwrap().iter().all(|c| c["ok"] == true),
            "{checks}"
        );

        // Reopening: administrators only, the last closed month only, with a reason.
        let (s, _) = app
            .post(
                &p.treasurer,
                "/api/v1/allocations/2027-02/reopen",
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, e) = app
            .post(
                &p.admin,
                "/api/v1/allocations/2027-01/reopen",
                json!({"reason": "Erreur"}),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("month_order"))
        );
        let (s, e) = app
            .post(
                &p.admin,
                "/api/v1/allocations/2027-02/reopen",
                json!({"reason": "  "}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, _) = app
            .post(
                &p.admin,
                "/api/v1/allocations/2027-02/reopen",
                json!({"reason": "Avoir oublié"}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(app.count("month_reopenings").await, 1);
        let (_, feb) = app.get(&p.treasurer, "/api/v1/allocations/2027-02").await;
        assert_eq!(feb["status"], "open");

        // Tampering with a stored line breaks the chain.
        app.with_conn(|c| {
            mutualise::db_run!(c => diesel::sql_query(
                "UPDATE statement_lines SET amount_cents = amount_cents + 1 WHERE position = 0"
            ).execute(c))?;
            Ok(())
        })
        .await;
        let (_, checks) = app.get(&p.treasurer, "/api/v1/allocations/verify").await;
        assert_eq!(checks[0]["ok"], false, "{checks}");
        assert!(checks[0]["problem"].as_str().unwrap().contains("empreinte"));
    }
);

both_backends!(
    the_treasurer_pages_and_the_printed_statement,
    |app: TestApp| async move {
        let p = pole(&app).await;
        // Months close once over: the treasurer closes them from a later day.
        let later = app.same_database_at("2027-04-01T08:00:00Z").await;
        setup_month(&app, &p).await;
        let web = Browser::sign_in(&app, "tresorier@pole.test").await;
        let (s, page, _) = web.get("/allocations?month=2027-01").await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for text in [
            "Atelier Alpha",
            "1\u{202f}320,34",
            "role=\"img\"",
            "Salle Jaurès",
            "Le mois se clôture une fois terminé",
        ] {
            assert!(page.contains(text), "{text} missing");
        }
        // What-if: the form compares two keys without saving.
        let (_, form, _) = web.get("/allocations/2027-01/costs").await;
        let csrf = csrf_of(&form);
        let before = app.count("costs").await;
        let (s, cmp, _) = web
            .post(
                "/allocations/2027-01/costs",
                &[
                    ("_csrf", &csrf),
                    ("month", "2027-01"),
                    ("label", "Chauffage"),
                    ("amount", "800,00"),
                    ("target", "pole"),
                    ("key", "surface"),
                    ("other", "equal"),
                    ("action", "compare"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{cmp}");
        // 800 € by surface: Alpha 400,00; in equal parts: 266,67.
        assert!(cmp.contains("400,00") && cmp.contains("266,67"), "{cmp}");
        assert_eq!(app.count("costs").await, before);
        // A bad amount is shown inline with what was typed, and saves nothing.
        let (s, bad, _) = web
            .post(
                "/allocations/2027-01/costs",
                &[
                    ("_csrf", &csrf),
                    ("month", "2027-01"),
                    ("label", "Chauffage"),
                    ("amount", "huit cents"),
                    ("target", "pole"),
                    ("key", "surface"),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.contains("huit cents"), "input kept");
        assert_eq!(app.count("costs").await, before);

        // A member's user prints its own statement, and not another's.
        let member = Browser::sign_in(&app, "booker@alpha.test").await;
        let (s, printed, _) = member
            .get(&format!("/allocations/2027-01/members/{}", p.a))
            .await;
        assert_eq!(s, StatusCode::OK, "{printed}");
        assert!(
            printed.contains("Loyer") && printed.contains("1\u{202f}172,84"),
            "{printed}"
        );
        assert!(
            printed.contains("/bookings/"),
            "tariff lines open onto their bookings"
        );
        let (s, _, _) = member
            .get(&format!("/allocations/2027-01/members/{}", p.b))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, _) = member.get("/allocations/settings").await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The art. 261 B mention appears once the pole says so.
        assert!(!printed.contains("261 B"));
        let (s, _) = app
            .call(
                Method::PUT,
                &p.treasurer,
                "/api/v1/pricing/statements",
                Some(
                    json!({"cgi_261b": true, "pole_details": "Pôle du Val, 1 rue Haute",
                    "journal_code": "VT", "journal_label": "Ventes", "customer_account": "411",
                    "tariff_account": "706000", "cost_share_account": "708000",
                    "staff_account": "708400", "adjustment_account": "708800"}),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, printed, _) = member
            .get(&format!("/allocations/2027-01/members/{}", p.a))
            .await;
        assert!(printed.contains("article 261 B du CGI") && printed.contains("Pôle du Val"));

        // Closing from the page, once the month is over.
        let web = Browser::sign_in(&later, "tresorier@pole.test").await;
        let (_, page, _) = web.get("/allocations?month=2027-01").await;
        assert!(page.contains("Clôturer le mois"), "{page}");
        let csrf = csrf_of(&page);
        let (s, _, _) = web
            .post("/allocations/2027-01/close", &[("_csrf", &csrf)])
            .await;
        assert!(s == StatusCode::SEE_OTHER || s == StatusCode::OK, "{s}");
        let (_, page, _) = web.get("/allocations?month=2027-01").await;
        assert!(page.contains("clôturé"), "{page}");
        let (s, verify, _) = web.get("/allocations/verify").await;
        assert_eq!(s, StatusCode::OK);
        assert!(verify.contains("2027"), "{verify}");
    }
);

both_backends!(
    recurring_costs_run_until_stopped_and_early_returns_bill_the_time_used,
    |app: TestApp| async move {
        let p = pole(&app).await;
        // Months close once over: the treasurer closes them from a later day.
        let later = app.same_database_at("2027-04-01T08:00:00Z").await;
        let van = app
            .resource(
                &p.admin,
                json!({"kind": "vehicle", "name": "Utilitaire", "pool": "flotte",
                       "tariff": {"hourly_cents": 1000, "billing_unit_minutes": 60}}),
            )
            .await;
        // Booked 07:00–10:00 UTC, brought back at 08:00 (now): one hour used, billed.
        let id = app
            .insert_booking(
                van,
                p.a,
                "2027-01-04 07:00",
                "2027-01-04 10:00",
                mutualise::domain::status::BookingStatus::Confirmed,
            )
            .await;
        let (s, b) = app.cancel(&p.admin, id).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        // Rent from January, every month until further notice.
        let (s, rent) = app
            .post(
                &p.treasurer,
                "/api/v1/costs",
                json!({"month": "2027-01", "label": "Loyer", "amount_cents": 80_000,
                       "recurring": true, "key": {"method": "surface"}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{rent}");
        let rent_id = rent["id"].as_i64().unwrap();
        // The hour used weighs in the fleet's usage key; a member who used nothing pays none.
        let (s, body) = app
            .post(
                &p.treasurer,
                "/api/v1/costs",
                json!({"month": "2027-01", "label": "Assurance flotte", "amount_cents": 5_000,
                       "pool": "flotte", "key": {"method": "usage_hours"}}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        let (_, jan) = app.get(&p.treasurer, "/api/v1/allocations/2027-01").await;
        assert_eq!(lines_of(&jan, p.a, "tariff"), [1_000]);
        assert_eq!(lines_of(&jan, p.a, "cost_share"), [5_000, 40_000]);
        assert_eq!(lines_of(&jan, p.b, "cost_share"), [25_000]);
        // Months close in order, without a gap.
        let (s, e) = later
            .post(&p.treasurer, "/api/v1/allocations/2027-02/close", json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        let (s, e) = later
            .post(&p.treasurer, "/api/v1/allocations/2027-04/close", json!({}))
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("month_order")),
            "{e}"
        );
        let (s, e) = later
            .post(&p.treasurer, "/api/v1/allocations/2027-01/close", json!({}))
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("month_order")),
            "{e}"
        );
        // February was generated at its close: 800 € by surface 40/25/15.
        let (_, feb) = app.get(&p.treasurer, "/api/v1/allocations/2027-02").await;
        assert_eq!(feb["status"], "closed");
        assert_eq!(lines_of(&feb, p.a, "cost_share"), [40_000]);
        // The entry has produced a later month: only its end may change, even though its
        // own month is closed; it cannot be deleted.
        let put = |body: Value| {
            let (app, token) = (&app, p.treasurer.clone());
            async move {
                app.call(
                    Method::PUT,
                    &token,
                    &format!("/api/v1/costs/{rent_id}"),
                    Some(body),
                )
                .await
            }
        };
        let (s, e) = put(
            json!({"month": "2027-01", "label": "Loyer", "amount_cents": 90_000,
                "recurring": true, "key": {"method": "surface"}}),
        )
        .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::CONFLICT, Some("recurring_started")),
            "{e}"
        );
        let (s, e) = put(
            json!({"month": "2027-01", "label": "Loyer", "amount_cents": 80_000,
                "recurring": true, "until": "2027-02", "key": {"method": "surface"}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(e["until"], "2027-02");
        let (s, _) = app
            .call(
                Method::DELETE,
                &p.treasurer,
                &format!("/api/v1/costs/{rent_id}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        // Stopped after February: March has no rent.
        let (s, mar) = later
            .post(&p.treasurer, "/api/v1/allocations/2027-03/close", json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{mar}");
        assert_eq!(mar["total_cents"], 0);
    }
);

use diesel::RunQueryDsl;
