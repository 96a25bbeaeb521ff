//! Fair sign-in throttling and the security journal: attempts are reserved atomically before
//! the password is checked (two servers on one database included), each (account, address)
//! pair backs off exponentially instead of locking anyone out, `X-Forwarded-For` counts only
//! from a trusted proxy, every 429 says when to come back, and the events land in a journal
//! only administrators read.

mod common;

use std::net::SocketAddr;

use common::{csrf_of, Browser, TestApp, PASSWORD};
use mutualise::config::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};

const EMAIL: &str = "admin@pole.test";

/// `app`'s configuration with another clock and other trusted proxies.
fn config_at(app: &TestApp, now: &str, trusted: &str) -> Config {
    let parsed = Config::from_lookup(|k| match k {
        "MUTUALISE_NOW" => Some(now.to_string()),
        "MUTUALISE_TRUSTED_PROXIES" => Some(trusted.to_string()),
        _ => None,
    })
    .expect("config");
    Config {
        now: parsed.now,
        trusted_proxies: parsed.trusted_proxies,
        ..app.app.config().clone()
    }
}

/// Another server on `app`'s database and connection pool (PostgreSQL's connections are
/// few), whose clock reads `now` and which trusts `trusted`; its base URL.
async fn server_at(app: &TestApp, now: &str, trusted: &str) -> String {
    let other = mutualise::App::new(app.db.clone(), config_at(app, now, trusted));
    let router = mutualise::build_app(other);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    format!("http://{addr}")
}

/// One `POST /api/v1/auth/token` for the administrator to the server at `base`, from
/// `forwarded_for` when given: status, `Retry-After`, body.
async fn token(
    app: &TestApp,
    base: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    attempt(&app.client, base, EMAIL, password, forwarded_for).await
}

async fn attempt(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": email, "password": password}));
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    if status.is_client_error() {
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

/// `n` wrong passwords (and the right one when `with_right`) sent at once, spread over the
/// given servers; the statuses, the right password's last.
async fn burst(servers: &[&TestApp], n: usize, with_right: bool) -> Vec<StatusCode> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n + usize::from(with_right) {
        let server = servers[i % servers.len()];
        let (client, base) = (server.client.clone(), server.base.clone());
        let password = if i == n {
            PASSWORD
        } else {
            "faux mot de passe"
        };
        tasks.spawn(async move {
            let (s, retry, body) = attempt(&client, &base, EMAIL, password, None).await;
            if s == StatusCode::TOO_MANY_REQUESTS {
                let retry = retry.expect("Retry-After on every 429");
                assert_eq!(body["retry_after"].to_string(), retry, "{body}");
                assert_eq!(body["code"], "too_many_requests");
            }
            (i, s)
        });
    }
    let mut out = vec![StatusCode::OK; n + usize::from(with_right)];
    while let Some(done) = tasks.join_next().await {
        let (i, s) = done.expect("task");
        out[i] = s;
    }
    out
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

both_backends!(
    concurrent_wrong_passwords_get_five_checks_then_back_off,
    |app: TestApp| async move {
        app.admin().await;
        let here = app.base.clone();
        // Two servers on one database, each with its own connections, as two processes.
        let twin = app.same_database_at(common::NOW).await;

        let first = burst(&[&app, &twin], 60, false).await;
        assert_eq!(count(&first, StatusCode::UNAUTHORIZED), 5, "{first:?}");
        assert_eq!(
            count(&first, StatusCode::TOO_MANY_REQUESTS),
            55,
            "{first:?}"
        );

        // In back-off, the right password is refused like the others, without being checked.
        let second = burst(&[&app, &twin], 20, true).await;
        assert_eq!(
            count(&second, StatusCode::TOO_MANY_REQUESTS),
            21,
            "{second:?}"
        );
        let (s, retry, body) = token(&app, &here, PASSWORD, None).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry.as_deref(), Some("1"));
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("Réessayez dans 1 seconde"),
            "{body}"
        );

        // Meanwhile the same account signs in from elsewhere, through a trusted proxy.
        let proxy = server_at(&app, common::NOW, "127.0.0.1").await;
        let (s, _, body) = token(&app, &proxy, PASSWORD, Some("203.0.113.7")).await;
        assert_eq!(s, StatusCode::OK, "{body}");

        // Half a second later the wait is not over (rounded up: 1 s); a second later it is.
        let almost = server_at(&app, "2027-01-04T08:00:00.500Z", "").await;
        let (s, retry, _) = token(&app, &almost, PASSWORD, None).await;
        assert_eq!(
            (s, retry.as_deref()),
            (StatusCode::TOO_MANY_REQUESTS, Some("1"))
        );
        let later = server_at(&app, "2027-01-04T08:00:01Z", "").await;
        let (s, _, body) = token(&app, &later, PASSWORD, None).await;
        assert_eq!(s, StatusCode::OK, "{body}");

        // The success started the pair again: five free failures, then 1 s, 2 s, 4 s, 8 s.
        for _ in 0..5 {
            assert_eq!(
                token(&app, &later, "faux", None).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        let (s, retry, _) = token(&app, &later, "faux", None).await;
        assert_eq!(
            (s, retry.as_deref()),
            (StatusCode::TOO_MANY_REQUESTS, Some("1"))
        );
        for (at, wait) in [("08:00:02", "2"), ("08:00:04", "4"), ("08:00:08", "8")] {
            let then = server_at(&app, &format!("2027-01-04T{at}Z"), "").await;
            assert_eq!(
                token(&app, &then, "faux", None).await.0,
                StatusCode::UNAUTHORIZED,
                "{at}"
            );
            let (s, retry, _) = token(&app, &then, PASSWORD, None).await;
            assert_eq!(
                (s, retry.as_deref()),
                (StatusCode::TOO_MANY_REQUESTS, Some(wait)),
                "{at}"
            );
        }
    }
);

both_backends!(
    forwarded_for_counts_only_from_a_trusted_proxy,
    |app: TestApp| async move {
        // No trusted proxy: whatever the header says, the attempts come from the peer.
        let admin = app.admin().await;
        let here = app.base.clone();
        for i in 0..5 {
            let xff = format!("198.51.100.{i}");
            assert_eq!(
                token(&app, &here, "faux", Some(&xff)).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        let (s, _, _) = token(&app, &here, PASSWORD, Some("198.51.100.99")).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "spoofing changes nothing");
        let (_, events) = app.get(&admin, "/api/v1/audit?kind=sign_in_failed").await;
        let events = events["events"].as_array().unwrap().clone();
        assert_eq!(events.len(), 5);
        assert!(events.iter().all(|e| e["ip"] == "127.0.0.1"), "{events:?}");

        // Behind a trusted proxy: the entry it appended, not what the client wrote before it.
        let proxied = server_at(&app, common::NOW, "10.0.0.0/8, 127.0.0.1").await;
        for _ in 0..5 {
            assert_eq!(
                token(&app, &proxied, "faux", Some("198.51.100.1")).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        for xff in [
            "198.51.100.1",
            "192.0.2.50, 198.51.100.1",
            "198.51.100.1, 10.1.2.3",
        ] {
            let (s, _, _) = token(&app, &proxied, PASSWORD, Some(xff)).await;
            assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{xff}");
        }
        let (s, _, body) = token(&app, &proxied, PASSWORD, Some("198.51.100.2")).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, signed) = app.get(&admin, "/api/v1/audit?kind=sign_in").await;
        assert_eq!(signed["total"], 1, "{signed}");
        assert_eq!(signed["events"][0]["ip"], "198.51.100.2", "{signed}");
        let (_, throttled) = app
            .get(&admin, "/api/v1/audit?kind=sign_in_throttled")
            .await;
        assert_eq!(throttled["total"], 4, "{throttled}");
        assert_eq!(throttled["events"][0]["ip"], "198.51.100.1");
        assert_eq!(throttled["events"][0]["subject_email"], EMAIL);
        assert_eq!(throttled["events"][3]["ip"], "127.0.0.1");
    }
);

both_backends!(
    password_reset_requests_are_throttled_with_the_wait,
    |app: TestApp| async move {
        app.admin().await;
        let web = Browser::new(&app);
        let mut last = None;
        for _ in 0..6 {
            let (_, page, _) = web.get("/password/forgot").await;
            let csrf = csrf_of(&page);
            let res = web
                .client
                .post(format!("{}/password/forgot", app.base))
                .form(&[("_csrf", csrf.as_str()), ("email", EMAIL)])
                .send()
                .await
                .unwrap();
            last = Some((
                res.status(),
                res.headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string()),
                res.text().await.unwrap(),
            ));
        }
        let (s, retry, page) = last.unwrap();
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry.as_deref(), Some("1"));
        assert!(page.contains("Réessayez dans 1 seconde"), "{page}");
        // Reset requests hold nobody's sign-in back.
        let (s, _, _) = token(&app, &app.base, PASSWORD, None).await;
        assert_eq!(s, StatusCode::OK);
    }
);

both_backends!(
    security_events_in_the_journal_for_administrators_only,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let member = app.member(&admin, "Les Jardins").await;
        let (booker_id, booker) = app
            .user("booker@jardins.test", &[], &[(member, "booker")])
            .await;

        // A failed then a successful sign-in through the form.
        let web = Browser::new(&app);
        let (_, page, _) = web.get("/login").await;
        let csrf = csrf_of(&page);
        let (s, _, _) = web
            .post(
                "/login",
                &[
                    ("_csrf", csrf.as_str()),
                    ("email", "Booker@Jardins.test"),
                    ("password", "pas le bon"),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let booker_web = Browser::sign_in(&app, "booker@jardins.test").await;
        // A token created and revoked; a role given, the account deactivated and reactivated.
        let (s, issued) = app
            .post(
                "",
                "/api/v1/auth/token",
                json!({"email": "booker@jardins.test", "password": PASSWORD, "name": "script"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{issued}");
        let (_, tokens) = app.get(&booker, "/api/v1/auth/tokens").await;
        let script = tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "script")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (s, _) = app
            .call(
                reqwest::Method::DELETE,
                &booker,
                &format!("/api/v1/auth/tokens/{script}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let user_path = format!("/api/v1/users/{booker_id}");
        let (s, b) = app
            .patch(&admin, &user_path, json!({"roles": ["resource_manager"]}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, _) = app
            .patch(&admin, &user_path, json!({"active": false}))
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _, _) = booker_web.get("/bookings").await;
        assert_eq!(
            s,
            StatusCode::SEE_OTHER,
            "the session ended with the account"
        );
        let (s, _) = app.patch(&admin, &user_path, json!({"active": true})).await;
        assert_eq!(s, StatusCode::OK);

        // The API lists them newest first, for an administrator.
        let (s, all) = app.get(&admin, "/api/v1/audit").await;
        assert_eq!(s, StatusCode::OK, "{all}");
        let kinds: Vec<&str> = all["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "user_reactivated",
                "sessions_ended",
                "user_deactivated",
                "role_changed",
                "token_revoked",
                "token_created",
                "sign_in",
                "sign_in",
                "sign_in_failed",
            ],
            "{all}"
        );
        assert_eq!(all["total"], 9);
        assert_eq!(all["per_page"], 50);
        let failed = &all["events"][8];
        assert_eq!(failed["subject_id"], booker_id);
        assert_eq!(failed["subject_email"], "booker@jardins.test");
        assert_eq!(failed["ip"], "127.0.0.1");
        assert_eq!(failed["occurred_at"], "2027-01-04T08:00:00Z");
        let role = &all["events"][3];
        assert_eq!(role["actor_name"], "admin");
        assert_eq!(role["subject_name"], "booker");
        assert_eq!(
            role["detail"],
            format!("booker@{member} → resource_manager, booker@{member}")
        );

        // Filters: kind, user, local days (inclusive); bad ones are a 400.
        let (_, only) = app.get(&admin, "/api/v1/audit?kind=role_changed").await;
        assert_eq!(only["total"], 1);
        let (_, mine) = app
            .get(&admin, &format!("/api/v1/audit?user_id={booker_id}"))
            .await;
        assert_eq!(mine["total"], 9);
        let (_, today) = app
            .get(
                &admin,
                "/api/v1/audit?from_date=2027-01-04&to_date=2027-01-04",
            )
            .await;
        assert_eq!(today["total"], 9);
        let (_, before) = app.get(&admin, "/api/v1/audit?to_date=2027-01-03").await;
        assert_eq!(before["total"], 0);
        let (_, after) = app.get(&admin, "/api/v1/audit?from_date=2027-01-05").await;
        assert_eq!(after["total"], 0);
        for bad in [
            "kind=drop_table",
            "user_id=x",
            "from_date=2027-13-01",
            "page=0",
            "from_date=2027-01-05&to_date=2027-01-04",
        ] {
            let (s, b) = app.get(&admin, &format!("/api/v1/audit?{bad}")).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {b}");
        }

        // Nobody else reads it.
        let (s, b) = app.get(&booker, "/api/v1/audit").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, _) = app.get("", "/api/v1/audit").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _, _) = Browser::sign_in(&app, "booker@jardins.test")
            .await
            .get("/admin/audit")
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // The page, linked from the dashboard, with its filters.
        let admin_web = Browser::sign_in(&app, EMAIL).await;
        let (_, home, _) = admin_web.get("/").await;
        assert!(home.contains("href=\"/admin/audit\""), "{home}");
        let (s, page, _) = admin_web.get("/admin/audit").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("<title>Journal de sécurité"), "{page}");
        assert!(page.contains("Connexion échouée"));
        assert!(page.contains("127.0.0.1"));
        let (s, page, _) = admin_web.get("/admin/audit?kind=sign_in_failed").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(page.matches("class=\"audit-").count(), 1, "{page}");
        let (s, page, _) = admin_web.get("/admin/audit?from_date=hier").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(page.contains("n'est pas une date"), "{page}");
    }
);

/// Failed sign-ins in the security journal, one at each instant.
async fn failed_sign_ins_at(
    app: &TestApp,
    times: impl Iterator<Item = chrono::DateTime<chrono::Utc>>,
) {
    let times: Vec<_> = times.collect();
    app.with_conn(move |c| {
        use mutualise::app::audit::{record_tx, Event};
        use mutualise::domain::audit::AuditKind;
        for at in times {
            record_tx(
                c,
                at,
                Event::new(AuditKind::SignInFailed, "192.0.2.1").email("x@y.test"),
            )?;
        }
        Ok(())
    })
    .await;
}

both_backends!(
    the_journal_pages_by_fifty_and_keeps_a_year,
    |app: TestApp| async move {
        let admin = app.admin().await;
        let now = app.now;
        failed_sign_ins_at(&app, (0..60).map(|i| now - chrono::Duration::minutes(i))).await;
        let (_, first) = app.get(&admin, "/api/v1/audit").await;
        assert_eq!(first["total"], 60);
        assert_eq!(first["events"].as_array().unwrap().len(), 50);
        let (_, second) = app.get(&admin, "/api/v1/audit?page=2").await;
        assert_eq!(second["events"].as_array().unwrap().len(), 10);
        assert_eq!(second["events"][9]["occurred_at"], "2027-01-04T07:01:00Z");
        let web = Browser::sign_in(&app, EMAIL).await;
        let (_, page, _) = web.get("/admin/audit?kind=sign_in_failed").await;
        assert!(page.contains("1–50 sur 60"), "{page}");
        assert!(page.contains("page=2"), "{page}");
        // The sign-in above left throttle counters and events; a year on (2027 has 365 days),
        // the events of exactly a year ago stay, a second later they are gone.
        assert!(app.count("login_throttles").await > 0);
        let year = mutualise::App::new(app.db.clone(), config_at(&app, "2028-01-04T08:00:00Z", ""));
        let _ = mutualise::app::jobs::run_once(&year).await;
        assert_eq!(app.count("login_throttles").await, 0, "a day untouched");
        let kept = app.count("audit_events").await;
        assert_eq!(kept, 2, "the sign-in of the page and the newest failure");
        let later =
            mutualise::App::new(app.db.clone(), config_at(&app, "2028-01-04T08:00:01Z", ""));
        let _ = mutualise::app::jobs::run_once(&later).await;
        assert_eq!(app.count("audit_events").await, 0);
    }
);

both_backends!(
    a_backlog_of_old_events_is_purged_in_bounded_rounds,
    |app: TestApp| async move {
        // 23 events past the year of retention and 4 within it; rounds of 5 rows each.
        let now = app.now;
        let days = (0..27).map(|i| if i < 23 { 400 + i } else { 10 + i });
        failed_sign_ins_at(&app, days.map(|d| now - chrono::Duration::days(d))).await;
        let before = app.count("audit_events").await;
        let removed = mutualise::app::jobs::purge(&app.app, 5).await.unwrap();
        assert!(removed >= 23, "{removed}");
        assert_eq!(app.count("audit_events").await, before - 23);
        // Nothing left to purge: one round, nothing removed.
        let removed = mutualise::app::jobs::purge(&app.app, 5).await.unwrap();
        assert_eq!(removed, 0);
    }
);
