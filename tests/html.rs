//! Server-rendered pages: first start, sign-in, CSRF, forms that keep input and show errors.

mod common;

use common::{csrf_of, Browser, TestApp};
use reqwest::StatusCode;

both_backends!(first_start_sign_in_and_forms, |app: TestApp| async move {
    let web = Browser::new(&app);
    let (s, _, loc) = web.get("/").await;
    assert_eq!((s, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/setup")));
    let (s, page, _) = web.get("/setup").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<title>Première installation"));
    let csrf = csrf_of(&page);

    // Without the CSRF token nothing happens.
    let (s, _, _) = web
        .post(
            "/setup",
            &[("email", "a@pole.test"), ("name", "A"), ("password", "x")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, page, _) = web
        .post(
            "/setup",
            &[
                ("_csrf", &csrf),
                ("email", "alice@pole.test"),
                ("name", "Alice"),
                ("password", "un mot de passe long"),
                ("confirm", "autre chose"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("ne correspondent pas") && page.contains("value=\"Alice\""),
        "{page}"
    );
    let (s, page, _) = web
        .post(
            "/setup",
            &[
                ("_csrf", &csrf),
                ("email", "pas-un-mail"),
                ("name", "Alice"),
                ("password", "un mot de passe long"),
                ("confirm", "un mot de passe long"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Adresse e-mail invalide"));
    assert_eq!(app.count("users").await, 0);

    let res = web
        .client
        .post(format!("{}/setup", app.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", "alice@pole.test"),
            ("name", "Alice"),
            ("password", "un mot de passe long"),
            ("confirm", "un mot de passe long"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("mutualise_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let (s, page, _) = web.get("/?notice=welcome").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Bonjour Alice") && page.contains("Bienvenue"));
    let (_, _, loc) = web.get("/setup").await;
    assert_eq!(loc.as_deref(), Some("/login"), "setup only once");

    // Member form: errors beside fields, input kept, nothing written.
    let (_, page, _) = web.get("/members/new").await;
    let csrf = csrf_of(&page);
    let (s, page, _) = web
        .post(
            "/members",
            &[
                ("_csrf", &csrf),
                ("name", "Les Jardins du Lien"),
                ("legal_form", "association"),
                ("pricing_category", "solidaire"),
                ("siret", "73282932000075"),
                ("turnover", "12 000,50"),
                ("headcount", "2,5"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("clé de contrôle")
            && page.contains("value=\"Les Jardins du Lien\"")
            && page.contains("value=\"12 000,50\""),
        "{page}"
    );
    assert_eq!(app.count("members").await, 0);
    let (s, _, loc) = web
        .post(
            "/members",
            &[
                ("_csrf", &csrf),
                ("name", "Les Jardins du Lien"),
                ("legal_form", "association"),
                ("pricing_category", "solidaire"),
                ("siret", "73282932000074"),
                ("turnover", "12 000,50"),
                ("headcount", "2,5"),
                ("surface_m2", "40"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, page, _) = web.get(loc.as_deref().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Enregistrement créé")
            && page.contains("12\u{202f}000,50 €")
            && page.contains("2,50"),
        "{page}"
    );

    // Hostile text is escaped.
    web.post(
        "/members",
        &[
            ("_csrf", &csrf),
            ("name", "<script>alert(1)</script>"),
            ("legal_form", "scop"),
            ("active", "on"),
        ],
    )
    .await;
    let (_, page, _) = web.get("/members").await;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert")
    );

    // Resource form: opening hours typed per day, euros, fields of other kinds ignored.
    let (_, page, _) = web.get("/resources/new?kind=room").await;
    let csrf = csrf_of(&page);
    let (s, page, _) = web
        .post(
            "/resources",
            &[
                ("_csrf", &csrf),
                ("kind", "room"),
                ("name", "Salle Jaurès"),
                ("capacity", "1"),
                ("hours_1", "08:00-12:00, 14:00-"),
                ("hourly", "15"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("Heure") && page.contains("value=\"Salle Jaurès\""),
        "{page}"
    );
    let (s, _, loc) = web
        .post(
            "/resources",
            &[
                ("_csrf", &csrf),
                ("kind", "room"),
                ("name", "Salle Jaurès"),
                ("capacity", "1"),
                ("seats", "20"),
                ("plate", "ignored"),
                ("hours_1", "08:00-12:00, 14:00-18:00"),
                ("hours_6", "09:00-13:00"),
                ("hourly", "15,00"),
                ("daily_cap", "90"),
                ("billing_unit_minutes", "30"),
                ("allowed_categories", "solidaire"),
                ("allowed_categories", "insertion"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page, _) = web.get(loc.as_deref().unwrap()).await;
    assert!(
        page.contains("08:00-12:00, 14:00-18:00")
            && page.contains("15,00 €")
            && page.contains("Tarif solidaire, Tarif insertion"),
        "{page}"
    );
    let (_, page, _) = web.get("/resources?kind=room").await;
    assert!(page.contains("Salle Jaurès"));
    let (_, page, _) = web.get("/resources?kind=vehicle").await;
    assert!(!page.contains("Salle Jaurès"));

    // Closure form in local time.
    let (_, page, _) = web.get("/closures").await;
    let csrf = csrf_of(&page);
    let (s, page, _) = web
        .post(
            "/closures",
            &[
                ("_csrf", &csrf),
                ("resource_id", ""),
                ("start", "2027-03-28T02:30"),
                ("end", "2027-03-29T00:00"),
                ("reason", "Changement d'heure"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("n'existe pas"), "{page}");
    let (s, _, _) = web
        .post(
            "/closures",
            &[
                ("_csrf", &csrf),
                ("resource_id", ""),
                ("start", "2027-08-02T00:00"),
                ("end", "2027-08-16T00:00"),
                ("reason", "Congés d'été"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page, _) = web.get("/closures").await;
    assert!(page.contains("02/08/2027 00:00") && page.contains("tout le pôle"));

    // Sign out, then sign in again.
    let (_, page, _) = web.get("/").await;
    let csrf = csrf_of(&page);
    let (s, _, loc) = web.post("/logout", &[("_csrf", &csrf)]).await;
    assert_eq!((s, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    let (_, _, loc) = web.get("/members").await;
    assert_eq!(loc.as_deref(), Some("/login?next=/members"));
    let (_, page, _) = web.get("/login?next=/members").await;
    let csrf = csrf_of(&page);
    let (s, page, _) = web
        .post(
            "/login",
            &[
                ("_csrf", &csrf),
                ("email", "alice@pole.test"),
                ("password", "faux"),
                ("next", "/members"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(page.contains("incorrect") && page.contains("value=\"alice@pole.test\""));
    let (s, _, loc) = web
        .post(
            "/login",
            &[
                ("_csrf", &csrf),
                ("email", "alice@pole.test"),
                ("password", "un mot de passe long"),
                ("next", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(
        (s, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/")),
        "no open redirect"
    );
    let (s, css, _) = web.get("/assets/app.css").await;
    assert!(s == StatusCode::OK && css.contains("--accent"));
});

both_backends!(pages_follow_roles, |app: TestApp| async move {
    let admin = app.admin().await;
    let a = app.member(&admin, "A").await;
    let b = app.member(&admin, "B").await;
    app.user("bk@a.test", &[], &[(a, "booker")]).await;
    let web = Browser::new(&app);
    let (_, page, _) = web.get("/login").await;
    let csrf = csrf_of(&page);
    let (s, _, _) = web
        .post(
            "/login",
            &[
                ("_csrf", &csrf),
                ("email", "bk@a.test"),
                ("password", common::PASSWORD),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, page, _) = web.get("/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!page.contains("href=\"/users\""), "bookers manage no users");
    for path in ["/members/new", "/resources/new"] {
        let (s, _, _) = web.get(path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, page, _) = web.get(&format!("/members/{b}")).await;
    assert!(
        page.contains("réservées"),
        "private data of another member is hidden"
    );
    let (s, _, _) = web.get("/nowhere").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Password change keeps this session.
    let (_, page, _) = web.get("/account").await;
    let csrf = csrf_of(&page);
    let (s, page, _) = web
        .post(
            "/account/password",
            &[
                ("_csrf", &csrf),
                ("current_password", "faux"),
                ("new_password", "nouveau mot de passe"),
                ("confirm_password", "nouveau mot de passe"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Mot de passe actuel incorrect"));
    let (s, _, _) = web
        .post(
            "/account/password",
            &[
                ("_csrf", &csrf),
                ("current_password", common::PASSWORD),
                ("new_password", "nouveau mot de passe"),
                ("confirm_password", "nouveau mot de passe"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, page, _) = web
        .post("/account/tokens", &[("_csrf", &csrf), ("name", "Tableur")])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("mut_") && page.contains("Tableur"));
});

both_backends!(booking_pages, |app: TestApp| async move {
    let admin = app.admin().await;
    let a = app.member(&admin, "Les Jardins").await;
    let b = app.member(&admin, "Coop'Atelier").await;
    app.user("bk@a.test", &[], &[(a, "booker")]).await;
    app.user("rm@pole.test", &["resource_manager"], &[]).await;
    let room = app
        .resource(
            &admin,
            serde_json::json!({"kind": "room", "name": "Salle Jaurès",
        "opening_hours": common::weekdays("08:00", "20:00")}),
        )
        .await;
    let other = app.resource(&admin, serde_json::json!({"kind": "room", "name": "Salle Louise-Michel", "requires_approval": true})).await;
    app.post(&admin, "/api/v1/bookings", serde_json::json!({"resource_id": room, "member_id": b, "start": "2027-01-05T10:00", "end": "2027-01-05T12:00"})).await;

    let web = Browser::new(&app);
    let (_, page, _) = web.get("/login").await;
    let csrf = csrf_of(&page);
    web.post(
        "/login",
        &[
            ("_csrf", &csrf),
            ("email", "bk@a.test"),
            ("password", common::PASSWORD),
            ("next", "/"),
        ],
    )
    .await;
    let (s, page, _) = web
        .get(&format!(
            "/bookings/new?resource_id={room}&start=2027-01-05T11:00&end=2027-01-05T12:00"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("value=\"2027-01-05T11:00\""));
    let csrf = csrf_of(&page);
    let form = |start: &str, end: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("resource_id", room.to_string()),
            ("member_id", a.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("quantity", "1".into()),
            ("purpose", "Réunion de bureau".into()),
            ("repeat", "none".into()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let req = web.client.post(format!("{}/bookings", web.base)).form(&f);
        async move {
            let res = req.send().await.unwrap();
            let loc = res
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (res.status(), loc, res.text().await.unwrap())
        }
    };
    // Refused: the reasons, who holds the slot, and alternatives to take in one click.
    let (s, _, page) = post(form("2027-01-05T11:00", "2027-01-05T12:00")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        page.contains("Réservation impossible") && page.contains("Coop&#39;Atelier")
            || page.contains("Coop'Atelier"),
        "{page}"
    );
    assert!(
        page.contains("Créneaux disponibles") && page.contains("Salle Louise-Michel"),
        "{page}"
    );
    assert!(
        page.contains("name=\"start\" value=\"2027-01-05T09:00\""),
        "nearest free hour before: {page}"
    );
    assert!(page.contains("value=\"Réunion de bureau\""), "input kept");
    // One click on the suggestion books it.
    let (s, loc, _) = post(form("2027-01-05T09:00", "2027-01-05T10:00")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, page, _) = web.get(loc.as_deref().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("confirmée") && page.contains("Réunion de bureau"),
        "{page}"
    );
    // Bad local time: inline error, nothing booked.
    let before = app.count("bookings").await;
    let (s, _, page) = post(form("2027-03-28T02:30", "2027-03-28T04:00")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("n'existe pas"), "{page}");
    assert_eq!(app.count("bookings").await, before);
    // A weekly series.
    let mut weekly = form("2027-01-07T14:00", "2027-01-07T15:00");
    weekly.retain(|(k, _)| *k != "repeat");
    weekly.push(("repeat", "weekly".into()));
    weekly.push(("count", "4".into()));
    let (s, loc, _) = post(weekly).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(loc.unwrap().ends_with("notice=series"));

    // Week view: booked, free and closed slots; a free slot links to the prefilled form.
    let (s, page, _) = web
        .get(&format!("/resources/{room}/week?date=2027-01-05"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("semaine du lundi 4 janvier"), "{page}");
    // Another member's booking: « Réservé », without its details.
    assert!(
        page.contains("Réservé") && !page.contains("Coop&#39;Atelier"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "/bookings/new?resource_id={room}&amp;start=2027-01-05T13:00&amp;end=2027-01-05T14:00"
        )),
        "{page}"
    );
    assert!(page.contains("fermé"), "weekend closed");
    let (s, page, _) = web.get("/calendar?kind=room&date=2027-01-05").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Salle Jaurès") && page.contains("Salle Louise-Michel"));
    let (s, page, _) = web.get("/bookings").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Salle Jaurès") && !page.contains("Coop&#39;Atelier</td>"),
        "my bookings only: {page}"
    );

    // Approval by the coordination.
    let (_, pending) = app.post(&admin, "/api/v1/bookings", serde_json::json!({"resource_id": other, "member_id": a, "start": "2027-01-06T10:00", "end": "2027-01-06T12:00"})).await;
    let rm = Browser::new(&app);
    let (_, page, _) = rm.get("/login").await;
    let csrf = csrf_of(&page);
    rm.post(
        "/login",
        &[
            ("_csrf", &csrf),
            ("email", "rm@pole.test"),
            ("password", common::PASSWORD),
            ("next", "/"),
        ],
    )
    .await;
    let (_, page, _) = rm.get("/approvals").await;
    assert!(
        page.contains("Salle Louise-Michel") && page.contains("Les Jardins"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let (s, _, loc) = rm
        .post(
            &format!("/bookings/{}/approve", pending["id"]),
            &[("_csrf", &csrf), ("back", "queue")],
        )
        .await;
    assert_eq!(
        (s, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/approvals?notice=saved"))
    );
    let (_, page, _) = rm.get("/approvals").await;
    assert!(page.contains("Aucune demande en attente"));
});

/// The value of a hidden or text input of a page.
fn input_value(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).expect(name) + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

both_backends!(
    a_double_tap_on_reserver_books_once,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let a = app.member(&admin, "Les Jardins").await;
        app.user("bk@a.test", &[], &[(a, "booker")]).await;
        let desks = app
            .resource(
                &admin,
                serde_json::json!({"kind": "desk", "name": "Coworking", "capacity": 12}),
            )
            .await;
        let web = Browser::sign_in(&app, "bk@a.test").await;
        let (_, page, _) = web.get(&format!("/bookings/new?resource_id={desks}")).await;
        let (csrf, key) = (csrf_of(&page), input_value(&page, "idempotency_key"));
        assert_eq!(key.len(), 64, "each form carries its own key");
        let form = [
            ("_csrf", csrf.as_str()),
            ("idempotency_key", key.as_str()),
            ("resource_id", &desks.to_string()),
            ("member_id", &a.to_string()),
            ("start", "2027-01-05T09:00"),
            ("end", "2027-01-05T12:00"),
            ("quantity", "2"),
            ("repeat", "none"),
        ];
        let before = app.count("bookings").await;
        // Two taps at once, then a reload of the same submission.
        let (first, second) =
            tokio::join!(web.post("/bookings", &form), web.post("/bookings", &form));
        let third = web.post("/bookings", &form).await;
        for (s, _, loc) in [&first, &second, &third] {
            assert_eq!(*s, StatusCode::SEE_OTHER);
            assert_eq!(loc, &first.2, "every tap leads to the same booking");
        }
        assert_eq!(
            app.count("bookings").await,
            before + 1,
            "two units of twelve, booked once"
        );
        // The same form sent again with other values is not silently booked.
        let mut changed = form;
        changed[4] = ("start", "2027-01-06T09:00");
        changed[5] = ("end", "2027-01-06T12:00");
        let (s, page, _) = web.post("/bookings", &changed).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(page.contains("déjà été envoyé"), "{page}");
        assert_ne!(input_value(&page, "idempotency_key"), key, "a fresh form");
        assert_eq!(app.count("bookings").await, before + 1);
    }
);

both_backends!(
    booking_page_offers_what_the_viewer_may_do,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let ge = app.member(&admin, "GE Sud").await;
        let a = app.member(&admin, "Les Jardins").await;
        app.user("ge@pole.test", &["ge_manager"], &[]).await;
        app.user("bk@a.test", &[], &[(a, "booker")]).await;
        let camille = app
            .resource(
                &admin,
                serde_json::json!({"kind": "staff", "name": "Camille", "employer_member_id": ge,
                    "weekly_contract_hours": 35.0, "hourly_cost_cents": 2850}),
            )
            .await;
        let room = app
            .resource(
                &admin,
                serde_json::json!({"kind": "room", "name": "Salle Jaurès",
                "opening_hours": common::weekdays("08:00", "20:00")}),
            )
            .await;
        let (_, staff) = app
            .post(
                &admin,
                "/api/v1/bookings",
                serde_json::json!({"resource_id": camille, "member_id": a,
                "start": "2027-01-05T09:00", "end": "2027-01-05T12:00"}),
            )
            .await;
        let (_, meeting) = app
            .post(
                &admin,
                "/api/v1/bookings",
                serde_json::json!({"resource_id": room, "member_id": a,
                "start": "2027-01-05T10:00", "end": "2027-01-05T11:00"}),
            )
            .await;
        app.post(
            &admin,
            "/api/v1/bookings",
            serde_json::json!({"resource_id": room, "member_id": ge,
            "start": "2027-01-05T14:00", "end": "2027-01-05T16:00"}),
        )
        .await;

        // The employer group's manager moves and cancels shared staff, not rooms.
        let web = Browser::sign_in(&app, "ge@pole.test").await;
        let (s, page, _) = web.get(&format!("/bookings/{}", staff["id"])).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("Déplacer") && page.contains("Annuler la réservation"),
            "{page}"
        );
        let (_, page, _) = web.get(&format!("/bookings/{}", meeting["id"])).await;
        assert!(!page.contains("Déplacer") && !page.contains("Annuler la réservation"));

        // A refused move keeps what was typed, says why and offers the free slots nearby.
        let web = Browser::sign_in(&app, "bk@a.test").await;
        let (_, page, _) = web.get(&format!("/bookings/{}", meeting["id"])).await;
        let csrf = csrf_of(&page);
        let (s, page, _) = web
            .post(
                &format!("/bookings/{}/move", meeting["id"]),
                &[
                    ("_csrf", &csrf),
                    ("start", "2027-01-05T15:00"),
                    ("end", "2027-01-05T16:00"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(
            page.contains("value=\"2027-01-05T15:00\""),
            "typed input kept: {page}"
        );
        assert!(page.contains("GE Sud"), "who holds the slot: {page}");
        assert!(
            page.contains("Déplacer : mardi 5 janvier, 16 h – 17 h"),
            "the nearest free hour, one click away: {page}"
        );
    }
);

both_backends!(
    the_booking_form_says_the_price_and_only_asks_what_applies,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let a = app.member(&admin, "Les Jardins").await;
        app.user("bk@a.test", &[], &[(a, "booker")]).await;
        let (_, treasurer) = app.user("tresorerie@pole.test", &["treasurer"], &[]).await;
        let hours = common::weekdays("08:00", "20:00");
        let room = app
            .resource(
                &admin,
                serde_json::json!({"kind": "room", "name": "Salle Jaurès", "opening_hours": hours}),
            )
            .await;
        let other = app
            .resource(&admin, serde_json::json!({"kind": "room", "name": "Salle Louise-Michel", "requires_approval": true}))
            .await;
        for (r, cents) in [(room, 1200), (other, 900)] {
            let (s, b) = app
                .post(&treasurer, &format!("/api/v1/resources/{r}/tariffs"),
                      serde_json::json!({"effective_from": "2027-01-01", "hourly_cents": cents, "billing_unit_minutes": 30}))
                .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        // One free hour of rooms a month, used in booking order.
        let (s, b) = app
            .call(reqwest::Method::PUT, &treasurer, "/api/v1/pricing/kinds/room",
                  Some(serde_json::json!({"kind": "room", "late_notice_minutes": null, "late_charged_percent": 0, "free_minutes_per_month": 60})))
            .await;
        assert!(s.is_success(), "{b}");
        let web = Browser::sign_in(&app, "bk@a.test").await;

        // Without a resource: choose one first, with its terms.
        let (s, page, _) = web.get("/bookings/new?kind=room").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("Que voulez-vous réserver") && page.contains("soumise à validation"),
            "{page}"
        );
        assert!(
            page.contains(&format!("/bookings/new?resource_id={room}")),
            "{page}"
        );

        // 3 h at 12 €/h, the first hour free this month: 24,00 €.
        let (s, page, _) = web
            .get(&format!(
                "/bookings/new?resource_id={room}&start=2027-01-05T09:00&end=2027-01-05T12:00"
            ))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Prix estimé : 24,00 €"), "{page}");
        assert!(
            page.contains("Salle Jaurès</strong> pour Les Jardins, mardi 5 janvier, 9 h – 12 h"),
            "{page}"
        );
        // A one-unit room asks no quantity, no beneficiary, no employee activity; the
        // repetition is folded away.
        assert!(
            page.contains("type=\"hidden\" name=\"quantity\" value=\"1\""),
            "{page}"
        );
        assert!(
            !page.contains("Bénéficiaire") && !page.contains("salarié partagé"),
            "{page}"
        );
        assert!(
            page.contains("<details class=\"repeat\"><summary>"),
            "{page}"
        );
        // The script's fragment says the same.
        let (s, frag, _) = web
            .get(&format!("/bookings/estimate?resource_id={room}&member_id={a}&start=2027-01-05T09:00&end=2027-01-05T10:30&quantity=1"))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(frag.contains("Prix estimé : 6,00 €"), "{frag}");

        // Booked: the allowance is spent; the next hour costs 12 €.
        let (_, page, _) = web.get(&format!("/bookings/new?resource_id={room}")).await;
        let csrf = csrf_of(&page);
        let key = input_value(&page, "idempotency_key");
        let (s, _, loc) = web
            .post(
                "/bookings",
                &[
                    ("_csrf", csrf.as_str()),
                    ("idempotency_key", key.as_str()),
                    ("resource_id", &room.to_string()),
                    ("member_id", &a.to_string()),
                    ("start", "2027-01-05T09:00"),
                    ("end", "2027-01-05T12:00"),
                    ("quantity", "1"),
                    ("repeat", "none"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, page, _) = web
            .get(&format!(
                "/bookings/new?resource_id={room}&start=2027-01-06T09:00&end=2027-01-06T10:00"
            ))
            .await;
        assert!(page.contains("Prix estimé : 12,00 €"), "{page}");

        // Refused: each suggestion says its price and whether it waits for approval.
        let fresh_key = "ab".repeat(32);
        let room_id = room.to_string();
        let (s, _, page) = {
            let f = [
                ("_csrf", csrf.as_str()),
                ("idempotency_key", fresh_key.as_str()),
                ("resource_id", room_id.as_str()),
                ("member_id", &a.to_string()),
                ("start", "2027-01-05T10:00"),
                ("end", "2027-01-05T11:00"),
                ("quantity", "1"),
                ("repeat", "none"),
            ];
            let res = web
                .client
                .post(format!("{}/bookings", web.base))
                .form(&f)
                .send()
                .await
                .unwrap();
            (res.status(), (), res.text().await.unwrap())
        };
        assert_eq!(s, StatusCode::CONFLICT);
        assert!(
            page.contains("Salle Louise-Michel, mardi 5 janvier, 10 h – 11 h"),
            "{page}"
        );
        assert!(
            page.contains("9,00 €")
                && page.contains("12,00 €")
                && page.contains("soumise à validation"),
            "{page}"
        );
        assert!(
            page.contains("Les Jardins, mardi 5 janvier, 9 h – 12 h"),
            "the holder, in words: {page}"
        );

        // Cancelling asks first, and says what goes.
        let (_, page, _) = web.get(loc.as_deref().unwrap()).await;
        assert!(page.contains("Réservation confirmée."), "{page}");
        assert!(
            page.contains("Annuler la réservation…")
                && page.contains("Annuler Salle Jaurès, mardi 5 janvier, 9 h – 12 h ?"),
            "{page}"
        );

        // A request is announced as one.
        let (_, page, _) = web.get(&format!("/bookings/new?resource_id={other}")).await;
        let key = input_value(&page, "idempotency_key");
        let (s, _, loc) = web
            .post(
                "/bookings",
                &[
                    ("_csrf", csrf.as_str()),
                    ("idempotency_key", key.as_str()),
                    ("resource_id", &other.to_string()),
                    ("member_id", &a.to_string()),
                    ("start", "2027-01-07T09:00"),
                    ("end", "2027-01-07T10:00"),
                    ("quantity", "1"),
                    ("repeat", "none"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, page, _) = web.get(loc.as_deref().unwrap()).await;
        assert!(
            page.contains("Demande envoyée : en attente de validation"),
            "{page}"
        );

        // A series says how many were made and which days were skipped.
        let (_, page, _) = web.get(&format!("/bookings/new?resource_id={room}")).await;
        let key = input_value(&page, "idempotency_key");
        let (s, _, loc) = web
            .post(
                "/bookings",
                &[
                    ("_csrf", csrf.as_str()),
                    ("idempotency_key", key.as_str()),
                    ("resource_id", &room.to_string()),
                    ("member_id", &a.to_string()),
                    ("start", "2027-01-05T10:00"),
                    ("end", "2027-01-05T11:00"),
                    ("quantity", "1"),
                    ("repeat", "weekly"),
                    ("count", "4"),
                    ("skip_conflicts", "on"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, page, _) = web.get(loc.as_deref().unwrap()).await;
        assert!(page.contains("3 réservations créées, 1 ignorée (créneaux déjà pris ou fermés) : mardi 5 janvier."), "{page}");
        // And its page offers to cancel one occurrence or the series from it.
        assert!(
            page.contains("Celle-ci et toutes les suivantes de la série"),
            "{page}"
        );
    }
);
