//! `mutualise demo` on both backends: the employer group it sets up — four shared employees,
//! one of them a minor, assigned across members for the current and the next week through the
//! booking engine, with the complementary hours of the part-timer as the one remark of the law.

mod common;

use common::TestApp;
use mutualise::app::demo;
use mutualise::config::{Config, DatabaseUrl};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Runs the demo on the test's database with the clock at `now`.
async fn fill(app: &TestApp, now: &str) -> demo::DemoSummary {
    let raw = match &app.url {
        DatabaseUrl::Sqlite(p) => p.clone(),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let now = now.to_string();
    let config = Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(raw.clone()),
        "MUTUALISE_NOW" => Some(now.clone()),
        _ => None,
    })
    .expect("config");
    let demo_app = mutualise::App::new(app.db.clone(), config);
    match demo::fill(&demo_app).await {
        Ok(summary) => summary,
        Err(e) => panic!("demo at {now}: {}", e.detail()),
    }
}

async fn ge_manager(app: &TestApp) -> String {
    let (s, t) = app
        .post(
            "",
            "/api/v1/auth/token",
            json!({"email": demo::GE_MANAGER_EMAIL, "password": demo::DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    t["token"].as_str().unwrap().to_string()
}

/// The week grid's employees, each by name.
async fn week(app: &TestApp, token: &str, monday: &str) -> Vec<Value> {
    let (s, w) = app
        .get(token, &format!("/api/v1/staff/week?date={monday}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{w}");
    w["employees"].as_array().unwrap().clone()
}

fn blocks<'a>(e: &'a Value, activity: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    e["days"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["blocks"].as_array().unwrap())
        .filter(move |b| b["activity"] == activity)
}

both_backends!(demo_employer_group, |app: TestApp| async move {
    // The test clock: Monday 4 January 2027, 09:00 in Paris.
    let summary = fill(&app, common::NOW).await;
    assert_eq!((summary.members, summary.resources), (12, 16));
    let ge = ge_manager(&app).await;
    let (s, employees) = app.get(&ge, "/api/v1/employees").await;
    assert_eq!(s, StatusCode::OK, "{employees}");
    let employees = employees.as_array().unwrap();
    assert_eq!(employees.len(), 4, "{employees:?}");
    for e in employees {
        assert_eq!(e["employer"]["name"], "GE Val Partage", "{e}");
        assert_eq!(e["can_manage"], true, "{e}");
        assert!(!e["skills"].as_array().unwrap().is_empty(), "{e}");
    }
    let minors: Vec<&Value> = employees
        .iter()
        .filter(|e| e["private"]["minor"] == true)
        .collect();
    assert_eq!(minors.len(), 1, "{employees:?}");
    assert_eq!(minors[0]["contract_type"], "apprenticeship");
    assert!(employees
        .iter()
        .any(|e| e["weekly_contract_hours"].as_f64() == Some(24.0)));
    let mut warned = Vec::new();
    for (monday, training, absence) in [("2027-01-04", 1, 0), ("2027-01-11", 0, 1)] {
        let rows = week(&app, &ge, monday).await;
        assert_eq!(rows.len(), 4, "{monday}");
        let mut members: Vec<i64> = rows
            .iter()
            .flat_map(|e| blocks(e, "work"))
            .map(|b| b["member"]["id"].as_i64().unwrap())
            .collect();
        members.sort_unstable();
        members.dedup();
        assert!(members.len() >= 3, "{monday}: members {members:?}");
        let count = |activity: &str| rows.iter().flat_map(|e| blocks(e, activity)).count();
        assert_eq!(count("training"), training, "{monday}");
        assert_eq!(count("absence"), absence, "{monday}");
        for e in &rows {
            let name = e["employee"]["name"].as_str().unwrap();
            assert!(
                e["violations"].as_array().unwrap().is_empty(),
                "{monday} {name}: {e}"
            );
            assert!(e["worked_minutes"].as_i64().unwrap() > 0, "{monday} {name}");
            for w in e["warnings"].as_array().unwrap() {
                warned.push((monday, name.to_string(), w["code"].clone()));
            }
        }
        // The minor: never more than 8 h a day.
        let minor = rows
            .iter()
            .find(|e| e["employee"]["private"]["minor"] == true)
            .unwrap();
        for d in minor["days"].as_array().unwrap() {
            assert!(d["worked_minutes"].as_i64().unwrap() <= 8 * 60, "{d}");
        }
    }
    // The one remark of the law: the part-timer's complementary hours in the second week.
    assert_eq!(
        warned,
        [(
            "2027-01-11",
            "Yanis Benali".to_string(),
            json!("complementary_hours")
        )]
    );
    // The assignment that carries it, as the booking listing shows it.
    let (s, list) = app
        .get(
            &ge,
            "/api/v1/bookings?from=2027-01-15T00:00&to=2027-01-16T00:00",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|b| b["resource_name"] == "Yanis Benali"
                && b["member_name"] == "Les Jardins du Lien")
    );
});

/// Whatever the day the demo is made, the engine accepts its planning: weeks with public
/// holidays (the apprentice, a minor, never works one), 1 May on a Monday, the changes of time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_accepted_on_holiday_and_dst_weeks() {
    for now in [
        "2027-05-05T08:00:00Z", // Ascension on Thursday 6 May, in the current week
        "2027-05-12T08:00:00Z", // Whit Monday 17 May, the next week
        "2027-12-26T22:30:00Z", // 23:30 on a Sunday in Paris: the current week ends soon
        "2027-03-27T12:00:00Z", // the clocks go forward on Sunday 28 March
        "2027-10-30T12:00:00Z", // and back on Sunday 31 October
        "2028-04-28T08:00:00Z", // 1 May 2028 is the next week's Monday
    ] {
        let app = TestApp::sqlite().await;
        let summary = fill(&app, now).await;
        assert_eq!(summary.resources, 16, "{now}");
    }
    // In the week of Ascension the apprentice has neither work nor training on the Thursday,
    // and her training moved to the Friday still.
    let app = TestApp::sqlite().await;
    fill(&app, "2027-05-05T08:00:00Z").await;
    let ge = ge_manager(&app).await;
    let rows = week(&app, &ge, "2027-05-03").await;
    let minor = rows
        .iter()
        .find(|e| e["employee"]["name"] == "Léa Roux")
        .unwrap();
    let days = minor["days"].as_array().unwrap();
    assert_eq!(days[3]["date"], "2027-05-06");
    assert!(days[3]["blocks"].as_array().unwrap().is_empty(), "{minor}");
    assert_eq!(blocks(minor, "training").count(), 1, "{minor}");
}

/// The links of a page that stay on the site, `&amp;` decoded, fragments dropped.
fn site_links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&"))
        .map(|href| href.split('#').next().unwrap_or_default().to_string())
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .filter(|href| !href.starts_with("/assets/"))
        .collect()
}

// Every link a demo account is shown leads to a page that account may open: following the
// links from the home page, three clicks deep, none answers 403, 404 or a server error. (A
// link to a page the role may not see was found on the statements, the hours ledger and the
// week grid.)
both_backends!(every_link_shown_opens, |app: TestApp| async move {
    let summary = fill(&app, common::NOW).await;
    assert!(summary.accounts.len() >= 6);
    for account in &summary.accounts {
        let web = common::Browser::new(&app);
        let (_, login, _) = web.get("/login").await;
        let csrf = common::csrf_of(&login);
        let (s, _, _) = web
            .post(
                "/login",
                &[
                    ("_csrf", &csrf),
                    ("email", &account.email),
                    ("password", demo::DEMO_PASSWORD),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "sign-in of {}", account.email);
        let mut seen = std::collections::HashSet::new();
        let mut per_path = std::collections::HashMap::<String, usize>::new();
        let mut queue = std::collections::VecDeque::from([("/".to_string(), 0, String::new())]);
        let mut opened = 0;
        while let Some((link, depth, from)) = queue.pop_front() {
            if opened >= 600 || !seen.insert(link.clone()) {
                continue;
            }
            // A few of each page (weeks and months lead on for ever).
            let path = link.split('?').next().unwrap_or_default().to_string();
            let count = per_path.entry(path).or_default();
            *count += 1;
            if *count > 3 {
                continue;
            }
            opened += 1;
            let (s, body, location) = web.get(&link).await;
            assert!(
                !(s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND || s.is_server_error()),
                "{} ({}): {link}, linked from {from}, answers {s}",
                account.email,
                account.role
            );
            if depth == 3 {
                continue;
            }
            let next: Vec<String> = match location {
                Some(l) if s.is_redirection() => vec![l],
                _ => site_links(&body),
            };
            for l in next.into_iter().filter(|l| l.starts_with('/')) {
                queue.push_back((l, depth + 1, link.clone()));
            }
        }
        eprintln!("{} ({}): {opened} pages", account.email, account.role);
        assert!(opened > 20, "{}: only {opened} pages", account.email);
    }
});
