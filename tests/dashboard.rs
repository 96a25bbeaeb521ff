//! The home page per role, on SQLite and PostgreSQL: each person sees the sections of the roles
//! they hold and nothing of the others (a member's bookings and amounts stay with its people),
//! the amounts are the allocation's to the cent, and « Validation » counts the requests to
//! decide for those who decide.

mod common;

use common::{book, Browser, TestApp};
use mutualise::domain::money::format_euros;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Pole {
    admin: String,
    alpha: i64,
    bravo: i64,
    /// Bookings of the requests to decide.
    requests: Vec<i64>,
}

/// Two members and an employer group; a room at 15 € the hour (half-hour units), a hall that
/// needs approval, one shared employee; 900 € of rent in equal parts; bookings this week.
/// The clock says Monday 4 January 2027, 09:00 in Paris.
async fn pole(app: &TestApp) -> Pole {
    let admin = app.admin().await;
    let alpha = app.member(&admin, "Atelier Alpha").await;
    let bravo = app.member(&admin, "Bravo Insertion").await;
    let (s, ge) = app
        .post(
            &admin,
            "/api/v1/members",
            json!({"name": "GE Sud", "legal_form": "ge_geiq"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ge}");
    let ge = ge["id"].as_i64().unwrap();
    let (_, booker) = app
        .user("booker@alpha.test", &[], &[(alpha, "booker")])
        .await;
    let (_, bravo_admin) = app
        .user("admin@bravo.test", &[], &[(bravo, "member_admin")])
        .await;
    app.user("tresorier@pole.test", &["treasurer"], &[]).await;
    app.user("gestion@pole.test", &["resource_manager"], &[])
        .await;
    let (_, ge_manager) = app
        .user("ge@sud.test", &["ge_manager"], &[(ge, "member_admin")])
        .await;
    let room = app
        .resource(
            &admin,
            json!({"kind": "room", "name": "Salle Jaurès",
                   "tariff": {"hourly_cents": 1500, "billing_unit_minutes": 30}}),
        )
        .await;
    let hall = app
        .resource(
            &admin,
            json!({"kind": "room", "name": "Salle polyvalente", "requires_approval": true}),
        )
        .await;
    let ok = |(s, b): (StatusCode, Value)| {
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b
    };
    // Alpha: today 14:00–16:00 (2 h, 30,00 €), tomorrow 09:00–10:15 (1 h 30 billed, 22,50 €),
    // and a request for the hall on Friday.
    ok(app
        .post(
            &booker,
            "/api/v1/bookings",
            book(room, alpha, "2027-01-04T14:00", "2027-01-04T16:00"),
        )
        .await);
    ok(app
        .post(
            &booker,
            "/api/v1/bookings",
            book(room, alpha, "2027-01-05T09:00", "2027-01-05T10:15"),
        )
        .await);
    let mut requests = Vec::new();
    let r = ok(app
        .post(
            &booker,
            "/api/v1/bookings",
            book(hall, alpha, "2027-01-08T10:00", "2027-01-08T12:00"),
        )
        .await);
    assert_eq!(r["status"], "pending");
    requests.push(r["id"].as_i64().unwrap());
    // Bravo: Wednesday 09:00–11:00 (30,00 €) and a request for the hall on Thursday.
    ok(app
        .post(
            &bravo_admin,
            "/api/v1/bookings",
            book(room, bravo, "2027-01-06T09:00", "2027-01-06T11:00"),
        )
        .await);
    let r = ok(app
        .post(
            &bravo_admin,
            "/api/v1/bookings",
            book(hall, bravo, "2027-01-07T18:00", "2027-01-07T20:00"),
        )
        .await);
    requests.push(r["id"].as_i64().unwrap());
    // 900,00 € of rent, equal parts among the three members: 300,00 € each.
    ok(app
        .post(
            &admin,
            "/api/v1/costs",
            json!({"month": "2027-01", "label": "Loyer", "amount_cents": 90_000,
                   "key": {"method": "equal"}}),
        )
        .await);
    // A closure of the room next week.
    ok(app
        .post(
            &admin,
            "/api/v1/closures",
            json!({"resource_id": room, "start": "2027-01-11T00:00", "end": "2027-01-12T00:00",
                   "reason": "Peinture des murs"}),
        )
        .await);
    // The group's employee, 4 h at Bravo on Tuesday afternoon.
    let e = ok(app
        .post(
            &ge_manager,
            "/api/v1/employees",
            json!({"name": "Camille Martin", "employer_member_id": ge, "contract_type": "cdi",
                   "weekly_contract_hours": 24.0, "hourly_cost_cents": 2850}),
        )
        .await);
    ok(app
        .post(
            &ge_manager,
            "/api/v1/bookings",
            book(
                e["id"].as_i64().unwrap(),
                bravo,
                "2027-01-05T13:00",
                "2027-01-05T17:00",
            ),
        )
        .await);
    Pole {
        admin,
        alpha,
        bravo,
        requests,
    }
}

/// Every member's total of January as the allocation API says it.
async fn totals(app: &TestApp, p: &Pole) -> Vec<(i64, i64)> {
    let (s, alloc) = app.get(&p.admin, "/api/v1/allocations/2027-01").await;
    assert_eq!(s, StatusCode::OK, "{alloc}");
    alloc["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member_id"].as_i64().unwrap(),
                m["total_cents"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn total_of(totals: &[(i64, i64)], member: i64) -> i64 {
    totals
        .iter()
        .find(|(m, _)| *m == member)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no statement for {member}: {totals:?}"))
}

async fn home(app: &TestApp, email: &str) -> String {
    let web = Browser::sign_in(app, email).await;
    let (s, page, _) = web.get("/").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page
}

const SECTIONS: [&str; 5] = [
    "Prochaines réservations",
    "Demandes à valider",
    "Répartition de janvier 2027",
    "Salariés partagés, semaine du",
    "État du service",
];

/// The page shows exactly these sections (by their heading).
fn assert_sections(page: &str, shown: &[&str]) {
    for s in SECTIONS {
        assert_eq!(
            page.contains(s),
            shown.contains(&s),
            "section « {s} » {} expected:\n{page}",
            if shown.contains(&s) { "" } else { "not" }
        );
    }
}

fn counter(n: i64) -> String {
    format!("Validation <span class=\"count\" aria-hidden=\"true\">({n})</span>")
}

both_backends!(each_role_sees_its_sections, |app: TestApp| async move {
    let p = pole(&app).await;
    let totals = totals(&app, &p).await;
    // Alpha: 30,00 + 22,50 € at the tariff, 300,00 € of rent; the request costs nothing.
    assert_eq!(total_of(&totals, p.alpha), 35_250);
    let bravo_total = total_of(&totals, p.bravo);

    // A booker of Alpha: Alpha's next bookings in plain French, its month, nothing of Bravo.
    let page = home(&app, "booker@alpha.test").await;
    assert_sections(&page, &["Prochaines réservations"]);
    assert!(
        page.contains("lundi 4 janvier, 14 h – 16 h — Salle Jaurès"),
        "{page}"
    );
    assert!(
        page.contains("mardi 5 janvier, 9 h – 10 h 15 — Salle Jaurès"),
        "{page}"
    );
    assert!(
        page.contains("vendredi 8 janvier, 10 h – 12 h — Salle polyvalente</a> <span class=\"badge pending\">en attente de validation</span>"),
        "{page}"
    );
    assert!(page.contains("<dd>3 (5 h 15 réservées)</dd>"), "{page}");
    assert!(page.contains("Coût estimé à ce jour"), "{page}");
    assert!(page.contains("<strong>352,50 €</strong>"), "{page}");
    assert!(page.contains("Estimation : le relevé définitif"), "{page}");
    assert!(
        page.contains(&format!(
            "href=\"/allocations/2027-01/members/{}\"",
            p.alpha
        )),
        "{page}"
    );
    assert!(page.contains("href=\"/resources?kind=room\""), "{page}");
    assert!(page.contains("href=\"/resources?kind=staff\""), "{page}");
    assert!(
        !page.contains("mercredi 6 janvier"),
        "Bravo's booking: {page}"
    );
    assert!(!page.contains(&format_euros(bravo_total)), "{page}");
    assert!(!page.contains("Bravo Insertion"), "{page}");
    assert!(!page.contains("href=\"/approvals\""), "{page}");

    // Bravo's member admin: Bravo's, with the assignment of the shared employee.
    let page = home(&app, "admin@bravo.test").await;
    assert_sections(&page, &["Prochaines réservations"]);
    assert!(
        page.contains("mercredi 6 janvier, 9 h – 11 h — Salle Jaurès"),
        "{page}"
    );
    assert!(
        page.contains("mardi 5 janvier, 13 h – 17 h — Camille Martin"),
        "{page}"
    );
    assert!(
        page.contains(&format!("<strong>{}</strong>", format_euros(bravo_total))),
        "{page}"
    );
    assert!(!page.contains("Atelier Alpha"), "{page}");
    assert!(!page.contains("352,50"), "{page}");

    // The resource manager: the two requests, today's booking, the closure; the counter.
    let page = home(&app, "gestion@pole.test").await;
    assert_sections(&page, &["Demandes à valider"]);
    assert!(
        page.contains("<strong>2</strong> demandes attendent"),
        "{page}"
    );
    assert!(page.contains(&counter(2)), "{page}");
    assert!(page.contains(" : 2 demandes en attente"), "{page}");
    assert!(
        page.contains("jeudi 7 janvier, 18 h – 20 h — Salle polyvalente</a> · Bravo Insertion"),
        "{page}"
    );
    assert!(
        page.contains("Aujourd'hui (lundi 4 janvier 2027)"),
        "{page}"
    );
    assert!(
        page.contains("lundi 4 janvier, 14 h – 16 h — Salle Jaurès</a> · Atelier Alpha"),
        "{page}"
    );
    assert!(
        page.contains("lundi 11 janvier, 0 h – 24 h — Peinture des murs (Salle Jaurès)"),
        "{page}"
    );

    // The treasurer: every member's provisional total and the pole's, exactly.
    let page = home(&app, "tresorier@pole.test").await;
    assert_sections(&page, &["Répartition de janvier 2027"]);
    for (member, cents) in &totals {
        assert!(
            page.contains(&format!(
                "<a href=\"/allocations/2027-01/members/{member}\">"
            )) && page.contains(&format_euros(*cents)),
            "{member}: {cents} in {page}"
        );
    }
    let sum: i64 = totals.iter().map(|t| t.1).sum();
    assert_eq!(sum, 35_250 + bravo_total + 30_000);
    assert!(
        page.contains(&format!("<strong>{}</strong>", format_euros(sum))),
        "{page}"
    );
    assert!(page.contains("montants provisoires"), "{page}");
    assert!(!page.contains("href=\"/approvals\""), "{page}");

    // The employer group's manager: the week's hours against the contract.
    let page = home(&app, "ge@sud.test").await;
    assert_sections(
        &page,
        &["Prochaines réservations", "Salariés partagés, semaine du"],
    );
    assert!(
        page.contains("Salariés partagés, semaine du lundi 4 janvier 2027"),
        "{page}"
    );
    assert!(
        page.contains("Camille Martin</a></th><td class=\"num\">4 h</td><td class=\"num\">24 h</td><td>rien</td>"),
        "{page}"
    );
    assert!(
        page.contains("0 limite légale dépassée, 0 avertissement"),
        "{page}"
    );

    // The administrator: the instance; the counter (an administrator decides too).
    let page = home(&app, "admin@pole.test").await;
    assert_sections(&page, &["État du service"]);
    assert!(
        page.contains(&format!("Mutualise {}", env!("CARGO_PKG_VERSION"))),
        "{page}"
    );
    let backend = match app.backend {
        mutualise::store::Backend::Sqlite => "SQLite",
        mutualise::store::Backend::Postgres => "PostgreSQL",
    };
    assert!(page.contains(backend), "{page}");
    assert!(page.contains("Courriels en attente d'envoi"), "{page}");
    assert!(page.contains(&counter(2)), "{page}");

    // A decision: the counter follows; with none left it goes.
    let (s, b) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{}/approve", p.requests[0]),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let page = home(&app, "gestion@pole.test").await;
    assert!(page.contains(&counter(1)), "{page}");
    assert!(page.contains(" : 1 demande en attente"), "{page}");
    assert!(page.contains("<strong>1</strong> demande attend"), "{page}");
    let (s, b) = app
        .post(
            &p.admin,
            &format!("/api/v1/bookings/{}/reject", p.requests[1]),
            json!({"reason": "Salle réservée pour le pôle"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let page = home(&app, "gestion@pole.test").await;
    assert!(page.contains(">Validation</a>"), "{page}");
    assert!(!page.contains("class=\"count\""), "{page}");
    assert!(page.contains("Aucune demande en attente."), "{page}");
});

both_backends!(
    a_person_without_role_is_told_so,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let _ = admin;
        app.user("personne@pole.test", &[], &[]).await;
        let page = home(&app, "personne@pole.test").await;
        assert_sections(&page, &[]);
        assert!(
            page.contains("Aucun rôle ne vous est encore attribué"),
            "{page}"
        );
    }
);

/// Runs `mutualise demo` on the test's database at the test clock.
async fn fill_demo(app: &TestApp) {
    use mutualise::config::{Config, DatabaseUrl};
    let raw = match &app.url {
        DatabaseUrl::Sqlite(p) => p.clone(),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let config = Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(raw.clone()),
        "MUTUALISE_NOW" => Some(common::NOW.into()),
        _ => None,
    })
    .expect("config");
    let demo_app = mutualise::App::new(app.db.clone(), config);
    if let Err(e) = mutualise::app::demo::fill(&demo_app).await {
        panic!("demo: {}", e.detail());
    }
}

async fn demo_home(app: &TestApp, email: &str) -> String {
    let web = Browser::new(app);
    let (_, page, _) = web.get("/login").await;
    let csrf = common::csrf_of(&page);
    let (s, _, _) = web
        .post(
            "/login",
            &[
                ("_csrf", &csrf),
                ("email", email),
                ("password", mutualise::app::demo::DEMO_PASSWORD),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "sign-in of {email}");
    let (s, page, _) = web.get("/").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page
}

both_backends!(
    every_demo_account_has_something_to_act_on,
    |app: TestApp| async move {
        fill_demo(&app).await;
        for email in [
            "responsable@jardins.demo.mutualise.coop",
            "benevole@jardins.demo.mutualise.coop",
        ] {
            let page = demo_home(&app, email).await;
            assert_sections(&page, &["Prochaines réservations"]);
            assert!(!page.contains("Aucune réservation à venir"), "{page}");
            // The group's employees work at the Jardins this week.
            assert!(
                page.contains("lundi 4 janvier, 8 h 30 – 12 h — Léa Roux"),
                "{page}"
            );
            assert!(page.contains("Coût estimé à ce jour"), "{page}");
        }
        let page = demo_home(&app, "gestion@demo.mutualise.coop").await;
        assert_sections(&page, &["Demandes à valider"]);
        assert!(page.contains("demandes attendent"), "{page}");
        assert!(page.contains("class=\"count\""), "{page}");
        assert!(!page.contains("Aucune réservation aujourd'hui"), "{page}");
        assert!(page.contains("Renault Zoé</a> · Tremplin Emploi"), "{page}");
        assert!(page.contains("Réfection du parquet"), "{page}");
        let page = demo_home(&app, "tresorerie@demo.mutualise.coop").await;
        assert_sections(&page, &["Répartition de janvier 2027"]);
        assert!(page.contains("Les Jardins du Lien</a></th>"), "{page}");
        assert!(!page.contains("Aucun montant"), "{page}");
        let page = demo_home(&app, "ge@demo.mutualise.coop").await;
        assert_sections(
            &page,
            &["Prochaines réservations", "Salariés partagés, semaine du"],
        );
        assert!(page.contains("Léa Roux</a></th>"), "{page}");
        let page = demo_home(&app, "admin@demo.mutualise.coop").await;
        assert_sections(&page, &["État du service"]);
        assert!(page.contains("class=\"count\""), "{page}");
    }
);
