//! Lists that scale: « Réservations », members and resources a page of fifty at a time,
//! filtered (also on the API), sorted by name as French readers expect, and exported as CSV.

mod common;

use common::{pole, Browser};
use mutualise::domain::status::BookingStatus;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The rows of a page's table body, by their links to bookings.
fn booking_rows(page: &str) -> usize {
    page.matches("<td><a href=\"/bookings/").count()
}

/// The second « Les Jardins » member's 50 bookings of « Salle Élan » (two a day from 1
/// February), and three of « Coop'Atelier »: a purpose on « Salle Zénith », a van, and one
/// at 00:30 local on the night of the spring change (23:30 UTC the day before).
struct Fixture {
    p: common::Pole,
    elan: i64,
    zenith: i64,
    van: i64,
}

async fn fixture(app: &common::TestApp) -> Fixture {
    let p = pole(app).await;
    let elan = app
        .resource(&p.admin, json!({"kind": "room", "name": "Salle Élan"}))
        .await;
    let zenith = app
        .resource(&p.admin, json!({"kind": "room", "name": "Salle Zénith"}))
        .await;
    let van = app
        .resource(&p.admin, json!({"kind": "vehicle", "name": "Camion"}))
        .await;
    for i in 0..50 {
        let day = 1 + i / 2;
        let hour = if i % 2 == 0 { "09:00" } else { "13:00" };
        let end = if i % 2 == 0 { "10:00" } else { "14:00" };
        app.insert_booking(
            elan,
            p.member,
            &format!("2027-02-{day:02} {hour}"),
            &format!("2027-02-{day:02} {end}"),
            BookingStatus::Confirmed,
        )
        .await;
    }
    let (s, b) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            json!({"resource_id": zenith, "member_id": p.other, "start": "2027-02-10T10:00",
                   "end": "2027-02-10T11:00", "purpose": "Réunion secrète du bureau"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = app
        .post(
            &p.admin,
            "/api/v1/bookings",
            json!({"resource_id": van, "member_id": p.other, "start": "2027-02-11T10:00",
                   "end": "2027-02-11T11:00"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    app.insert_booking(
        zenith,
        p.other,
        "2027-03-27 23:30",
        "2027-03-28 00:15",
        BookingStatus::Confirmed,
    )
    .await;
    Fixture {
        p,
        elan,
        zenith,
        van,
    }
}

both_backends!(
    bookings_list_pages_filters_and_exports,
    |app: common::TestApp| async move {
        let f = fixture(&app).await;
        let (a, b) = (f.p.member, f.p.other);
        let admin = Browser::sign_in(&app, "admin@pole.test").await;

        // 53 from today on: 50 on the first page, 3 on the second, and nothing past the last.
        let (s, page, _) = admin.get("/bookings").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("1–50 sur 53"), "{page}");
        assert_eq!(booking_rows(&page), 50);
        assert!(page.contains("Suivant") && !page.contains("Précédent"));
        assert!(
            page.contains("/bookings?from_date=2027-01-04&amp;page=2"),
            "the next page keeps the filters: {page}"
        );
        let (_, page, _) = admin.get("/bookings?from_date=2027-01-04&page=2").await;
        assert!(page.contains("51–53 sur 53"), "{page}");
        assert_eq!(booking_rows(&page), 3);
        assert!(page.contains("Précédent") && !page.contains("Suivant"));
        let (_, page, _) = admin.get("/bookings?page=3").await;
        assert_eq!(booking_rows(&page), 0);

        // Exactly 50: one page, no next.
        let (_, page, _) = admin.get(&format!("/bookings?member_id={a}")).await;
        assert!(page.contains("1–50 sur 50"), "{page}");
        assert!(!page.contains("Suivant"));
        // 51: the filters are kept in the link to the second page.
        let (_, page, _) = admin
            .get(&format!(
                "/bookings?resource_id={}&kind=room&from_date=",
                f.elan
            ))
            .await;
        assert!(page.contains("1–50 sur 50"), "{page}");
        let (_, page, _) = admin.get("/bookings?kind=room&from_date=").await;
        assert!(page.contains("1–50 sur 52"), "{page}");
        assert!(
            page.contains("kind=room&amp;from_date=&amp;page=2"),
            "{page}"
        );
        let (_, page, _) = admin.get("/bookings?kind=room&from_date=&page=2").await;
        assert!(page.contains("51–52 sur 52"), "{page}");

        // Each filter.
        let (_, page, _) = admin.get("/bookings?kind=vehicle").await;
        assert!(
            page.contains("1–1 sur 1") && page.contains("Camion"),
            "{page}"
        );
        let (_, page, _) = admin.get(&format!("/bookings?member_id={b}")).await;
        assert!(page.contains("1–3 sur 3"), "{page}");
        let (_, page, _) = admin
            .get(&format!("/bookings?resource_id={}", f.zenith))
            .await;
        assert!(page.contains("1–2 sur 2"), "{page}");
        let (_, page, _) = admin.get("/bookings?status=pending").await;
        assert!(page.contains("0 sur 0"), "{page}");
        // Local dates, inclusive: 1 and 2 February hold four bookings.
        let (_, page, _) = admin
            .get("/bookings?from_date=2027-02-01&to_date=2027-02-02")
            .await;
        assert!(page.contains("1–4 sur 4"), "{page}");
        // 23:30 UTC on 27 March is 00:30 on the 28th in Paris.
        let (_, page, _) = admin
            .get("/bookings?from_date=2027-03-28&to_date=2027-03-28")
            .await;
        assert!(page.contains("1–1 sur 1"), "{page}");
        let (_, page, _) = admin
            .get("/bookings?from_date=2027-03-27&to_date=2027-03-27")
            .await;
        assert!(page.contains("0 sur 0"), "{page}");
        // Text: accents and case ignored, in names and purposes.
        let (_, page, _) = admin.get("/bookings?q=ELAN").await;
        assert!(page.contains("1–50 sur 50"), "{page}");
        let (_, page, _) = admin.get("/bookings?q=secrete").await;
        assert!(
            page.contains("1–1 sur 1") && page.contains("Réunion secrète"),
            "{page}"
        );
        let (_, page, _) = admin.get("/bookings?q=coop%27atelier").await;
        assert!(page.contains("1–3 sur 3"), "{page}");

        // A bad date: the page says so beside the field, keeps the input, lists nothing.
        let before = app.count("bookings").await;
        let (s, page, _) = admin.get("/bookings?from_date=2027-13-45&kind=room").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(
            page.contains("n&#39;est pas une date") || page.contains("n'est pas une date"),
            "{page}"
        );
        assert!(page.contains("value=\"2027-13-45\""), "{page}");
        assert!(page.contains("field-error"), "{page}");
        let (s, page, _) = admin
            .get("/bookings?to_date=2027-01-01&from_date=2027-02-01")
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(page.contains("précède"), "{page}");
        let (s, _, _) = admin.get("/bookings?page=0").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(app.count("bookings").await, before);

        // CSV: every page of the filtered rows; French spreadsheets get a BOM and semicolons.
        let res = admin
            .client
            .get(format!(
                "{}/bookings.csv?from_date=&format=semicolon",
                app.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()), "BOM");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 53, "{text}");
        assert!(lines[0].starts_with("N° réservation;Ressource;Type;Structure;Début;Fin"));
        assert!(text.contains("Réunion secrète du bureau"));
        assert!(text.contains("2027-03-28 00:30"), "local times: {text}");
        let res = admin
            .client
            .get(format!(
                "{}/bookings.csv?member_id={a}&format=comma",
                app.base
            ))
            .send()
            .await
            .unwrap();
        let text = res.text().await.unwrap();
        assert!(!text.starts_with('\u{feff}'));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 50, "all pages: {text}");
        assert_eq!(
            lines[0],
            "id,resource,kind,member,start,end,quantity,status,purpose"
        );
        assert!(
            lines[1].contains("Salle Élan,Salle,Les Jardins,2027-02-01 10:00,2027-02-01 11:00"),
            "{}",
            lines[1]
        );
        let (s, _, _) = admin.get("/bookings.csv?format=tsv").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, page, _) = admin.get("/bookings.csv?from_date=hier").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(
            page.contains("n&#39;est pas une date") || page.contains("n'est pas une date"),
            "{page}"
        );

        // A booker of « Les Jardins » lists and exports its own bookings only.
        let booker = Browser::sign_in(&app, "booker@jardins.test").await;
        let (_, page, _) = booker.get("/bookings").await;
        assert!(page.contains("1–50 sur 50"), "{page}");
        assert_eq!(booking_rows(&page), 50);
        assert!(!page.contains("Coop&#39;Atelier</td>"), "{page}");
        let (_, page, _) = booker.get("/bookings?q=secrete").await;
        assert!(page.contains("0 sur 0"), "{page}");
        let text = booker
            .client
            .get(format!(
                "{}/bookings.csv?member_id={b}&from_date=&format=comma",
                app.base
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text.lines().count(), 1, "only the header: {text}");
        assert!(!text.contains("secrète"));
        let text = booker
            .client
            .get(format!("{}/bookings.csv?from_date=&format=comma", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text.lines().count(), 51);
        assert!(
            !text.contains("Coop'Atelier") && !text.contains("secrète"),
            "{text}"
        );
        // Signed out: the sign-in page, no file.
        let anonymous = Browser::new(&app);
        let (s, _, loc) = anonymous.get("/bookings.csv").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert!(loc.unwrap().starts_with("/login"));

        // The API takes the same filters; bad ones are 400 problem+json naming the field.
        let total = |path: String, token: String| {
            let app = &app;
            async move {
                let res = app
                    .client
                    .get(format!("{}{path}", app.base))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK, "{path}");
                let n = res.headers()["x-total-count"].to_str().unwrap().to_string();
                (n, res.json::<Value>().await.unwrap())
            }
        };
        let admin_token = f.p.admin.clone();
        let (n, _) = total("/api/v1/bookings?kind=vehicle".into(), admin_token.clone()).await;
        assert_eq!(n, "1");
        let (n, _) = total("/api/v1/bookings?q=%C3%A9lan".into(), admin_token.clone()).await;
        assert_eq!(n, "50");
        let (n, _) = total(
            "/api/v1/bookings?from_date=2027-03-28&to_date=2027-03-28".into(),
            admin_token.clone(),
        )
        .await;
        assert_eq!(n, "1");
        let (n, body) = total(
            format!("/api/v1/bookings?member_id={a}&limit=50&page=2"),
            admin_token.clone(),
        )
        .await;
        assert_eq!((n.as_str(), body.as_array().unwrap().len()), ("50", 0));
        // Another member's bookings: the booker sees them without purpose, and cannot find them
        // by it.
        let (n, body) = total(
            format!("/api/v1/bookings?member_id={b}&resource_id={}", f.zenith),
            f.p.booker.clone(),
        )
        .await;
        assert_eq!(n, "2");
        assert!(body[0].get("purpose").is_none(), "{body}");
        let (n, _) = total("/api/v1/bookings?q=secrete".into(), f.p.booker.clone()).await;
        assert_eq!(n, "0");
        for bad in [
            "from_date=2027-02-30",
            "to_date=demain",
            "kind=spaceship",
            "status=archived",
            "page=0",
        ] {
            let (s, e) = app
                .get(&f.p.admin, &format!("/api/v1/bookings?{bad}"))
                .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
            assert_eq!(e["code"], "invalid_query", "{bad}: {e}");
            assert!(e["errors"][0]["field"].is_string(), "{bad}: {e}");
        }
        let (s, _) = app
            .get(&f.p.admin, "/api/v1/bookings?resource_id=abc")
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        // Declared as query parameters.
        let (_, doc) = app.get("", "/api/v1/openapi.json").await;
        let params: Vec<String> = doc["paths"]["/api/v1/bookings"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        for name in ["kind", "from_date", "to_date", "q", "page"] {
            assert!(params.iter().any(|p| p == name), "{name} in {params:?}");
        }
        let _ = f.van;
    }
);

both_backends!(
    members_and_resources_pages_sort_and_filter,
    |app: common::TestApp| async move {
        let admin_token = app.admin().await;
        // 51 members: one more than a page. Names sorted as French readers expect.
        for name in ["Zèbre", "Élan Solidaire", "atelier du coin"] {
            app.member(&admin_token, name).await;
        }
        for i in 0..48 {
            app.member(&admin_token, &format!("Membre {i:02}")).await;
        }
        let web = Browser::sign_in(&app, "admin@pole.test").await;
        let (s, page, _) = web.get("/members").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("1–50 sur 51"), "{page}");
        let (a, e) = (
            page.find("atelier du coin").unwrap(),
            page.find("Élan Solidaire").unwrap(),
        );
        let m = page.find("Membre 00").unwrap();
        assert!(
            a < e && e < m,
            "atelier, Élan, Membre: accents ignored in the order"
        );
        assert!(!page.contains("Zèbre"), "on the second page");
        let (_, page, _) = web.get("/members?page=2").await;
        assert!(
            page.contains("51–51 sur 51") && page.contains("Zèbre"),
            "{page}"
        );
        let (_, page, _) = web.get("/members?q=ELAN").await;
        assert!(
            page.contains("1–1 sur 1") && page.contains("Élan Solidaire"),
            "{page}"
        );
        let (_, page, _) = web.get("/members?q=membre&page=2").await;
        assert!(
            page.contains("0 sur 48") || page.contains("Aucune structure"),
            "{page}"
        );
        let (s, page, _) = web.get("/members?status=dormant").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(page.contains("field-error"), "{page}");
        let (s, e) = app
            .get(&admin_token, "/api/v1/members?legal_form=guilde")
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
        let (_, list) = app
            .get(
                &admin_token,
                "/api/v1/members?legal_form=association&q=zebre",
            )
            .await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

        // Resources: by kind, then name without regard to accents; archived ones apart.
        for name in ["Salle Zénith", "Salle Élan", "salle annexe"] {
            app.resource(&admin_token, json!({"kind": "room", "name": name}))
                .await;
        }
        let vote = app
            .resource(
                &admin_token,
                json!({"kind": "equipment", "name": "Urne", "requires_approval": true}),
            )
            .await;
        let (_, page, _) = web.get("/resources?kind=room").await;
        assert!(page.contains("1–3 sur 3"), "{page}");
        let (x, y, z) = (
            page.find("salle annexe").unwrap(),
            page.find("Salle Élan").unwrap(),
            page.find("Salle Zénith").unwrap(),
        );
        assert!(x < y && y < z, "{page}");
        let (_, page, _) = web.get("/resources?approval=required").await;
        assert!(
            page.contains("1–1 sur 1") && page.contains("Urne"),
            "{page}"
        );
        let (s, _) = app
            .post(
                &admin_token,
                &format!("/api/v1/resources/{vote}/archive"),
                json!({}),
            )
            .await;
        assert!(s.is_success());
        let (_, page, _) = web.get("/resources?status=archived").await;
        assert!(
            page.contains("1–1 sur 1") && page.contains("Urne"),
            "{page}"
        );
        let (s, _, _) = web.get("/resources?page=abc").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (_, list) = app.get(&admin_token, "/api/v1/resources?q=ELAN").await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        for _ in 0..48 {
            app.resource(&admin_token, json!({"kind": "desk", "name": "Poste"}))
                .await;
        }
        let (_, page, _) = web.get("/resources").await;
        assert!(page.contains("1–50 sur 51"), "{page}");
        let (_, page, _) = web.get("/resources?page=2").await;
        assert!(page.contains("51–51 sur 51"), "{page}");
    }
);

both_backends!(
    keys_missing_from_older_rows_are_folded_at_start,
    |app: common::TestApp| async move {
        let f = fixture(&app).await;
        // Rows written before the folded keys existed: empty keys, as the migration left them.
        for table in [
            "bookings SET purpose_key",
            "members SET name_key",
            "resources SET name_key",
        ] {
            app.execute_sql(format!("UPDATE {table} = ''")).await;
        }
        let admin_token = f.p.admin.clone();
        let (_, list) = app.get(&admin_token, "/api/v1/bookings?q=secrete").await;
        assert_eq!(
            list.as_array().unwrap().len(),
            0,
            "not found before the start: {list}"
        );
        // The next start fills them in (reading only the rows still to fold), and search finds
        // them again.
        let again = app.same_database_at(common::NOW).await;
        for (path, n) in [
            ("/api/v1/bookings?q=secrete", 1),
            ("/api/v1/bookings?q=%C3%A9lan", 50),
            ("/api/v1/resources?q=ZENITH", 1),
        ] {
            let (s, list) = again.get(&admin_token, path).await;
            assert_eq!(s, StatusCode::OK, "{path}: {list}");
            assert_eq!(list.as_array().unwrap().len(), n, "{path}: {list}");
        }
        let unfolded = again
            .with_conn(|c| {
                use diesel::prelude::*;
                use mutualise::store::schema::bookings;
                Ok(mutualise::db_run!(c => bookings::table
                    .filter(bookings::purpose_key.eq("").and(bookings::purpose.ne("")))
                    .count()
                    .get_result::<i64>(c))?)
            })
            .await;
        assert_eq!(unfolded, 0);
    }
);
