//! Two `mutualise serve` processes share one database; clients race through both: 50 for one
//! slot (exactly one wins), two members for one shared employee's weekly limit (exactly one
//! wins, on PostgreSQL and on one SQLite file); both run a mail worker on one outbox, and each
//! message reaches the SMTP server once. The guarantees rest on the database (row locks,
//! the exclusion constraint, SQLite's write lock), not on anything inside one process.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mutualise::config::DatabaseUrl;
use mutualise::store::Db;
use reqwest::StatusCode;
use serde_json::json;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(url: &str, port: u16) -> Server {
    serve_with(url, port, &[])
}

fn serve_with(url: &str, port: u16, env: &[(&str, &str)]) -> Server {
    Server(
        Command::new(env!("CARGO_BIN_EXE_mutualise"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("MUTUALISE_NOW", common::NOW)
            .envs(env.iter().copied())
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mutualise serve"),
    )
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} did not start");
}

/// A new database on the test server with an administrator (dropped with the first of the
/// three), the pool, a token.
async fn database_with_admin() -> Option<(common::PgDatabase, Db, String)> {
    let admin_url = common::postgres_admin_url()?;
    let database = tokio::task::spawn_blocking(move || common::create_pg_database(&admin_url))
        .await
        .unwrap();
    let db = {
        let url = database.url.clone();
        tokio::task::spawn_blocking(move || Db::connect(&DatabaseUrl::Postgres(url)).unwrap())
            .await
            .unwrap()
    };
    let token = token_for(&db, "admin@pole.test", &["admin"], &[]).await;
    Some((database, db, token))
}

/// A user with these pole roles and memberships, written straight into the database; their
/// bearer token.
async fn token_for(db: &Db, email: &str, roles: &[&str], memberships: &[(i64, &str)]) -> String {
    token_at(db, email, roles, memberships, common::NOW).await
}

/// As `token_for`, the user created and the token issued at `now`.
async fn token_at(
    db: &Db,
    email: &str,
    roles: &[&str],
    memberships: &[(i64, &str)],
    now: &str,
) -> String {
    let now = mutualise::config::Clock::new(Some(now.parse().unwrap())).now();
    let user = mutualise::domain::user::UserInput {
        email: email.into(),
        name: email.split('@').next().unwrap_or("x").into(),
        password: Some(common::PASSWORD.into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        memberships: memberships
            .iter()
            .map(|(m, r)| mutualise::domain::user::MembershipInput {
                member_id: mutualise::domain::ids::MemberId(*m),
                role: r.to_string(),
            })
            .collect(),
        active: true,
    }
    .validate(true)
    .unwrap();
    db.run(move |c| {
        let user = mutualise::app::users::create_unchecked(c, &user, common::password_hash(), now)?;
        Ok(mutualise::app::auth::issue_token(c, user.user.id, "tests", now)?.token)
    })
    .await
    .unwrap()
}

/// A member and these resources, written straight into the database.
async fn member_and_rooms(
    db: &Db,
    resources: Vec<serde_json::Value>,
) -> (
    mutualise::domain::ids::MemberId,
    Vec<mutualise::domain::ids::ResourceId>,
) {
    let now = mutualise::config::Clock::new(Some(common::NOW.parse().unwrap())).now();
    db.run(move |c| {
        use mutualise::domain::{member::MemberInput, resource::ResourceInput};
        let member: MemberInput =
            serde_json::from_value(json!({"name": "Asso", "legal_form": "association"})).unwrap();
        let member = mutualise::store::members::insert(
            c,
            &member.validate().unwrap(),
            mutualise::store::to_db(now),
        )?
        .id;
        let mut ids = Vec::new();
        for r in resources {
            let r: ResourceInput = serde_json::from_value(r).unwrap();
            ids.push(
                mutualise::store::resources::insert(
                    c,
                    &r.validate().unwrap(),
                    mutualise::store::to_db(now),
                )?
                .row
                .id,
            );
        }
        Ok((member, ids))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_one_postgres_one_winner() {
    let Some((database, db, token)) = database_with_admin().await else {
        return;
    };
    let url = database.url.clone();
    let (member, rooms) = member_and_rooms(
        &db,
        vec![json!({"kind": "room", "name": "Salle", "buffer_after_minutes": 15})],
    )
    .await;
    let room = rooms[0];
    let (p1, p2) = (common::free_port(), common::free_port());
    let _a = serve(&url, p1);
    let _b = serve(&url, p2);
    let client = reqwest::Client::new();
    let bases = [
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}"),
    ];
    for b in &bases {
        wait_ready(&client, b).await;
    }
    for round in 0..3 {
        let mut tasks = Vec::new();
        for i in 0..50 {
            let client = client.clone();
            let url = format!("{}/api/v1/bookings", bases[i % 2]);
            let token = token.clone();
            // Overlapping but different intervals, so the exclusion constraint and the row
            // locks are both exercised.
            let start = format!("2027-02-0{}T{:02}:{:02}", round + 1, 10, (i % 4) * 10);
            let body = json!({"resource_id": room, "member_id": member, "start": start, "end": format!("2027-02-0{}T12:00", round + 1)});
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CONFLICT)
                .count(),
            49,
            "round {round}: {statuses:?}"
        );
    }
}

/// A month closed through a third process while two take bookings in it: whatever committed
/// before the close is what it froze, and nothing lands in the month afterwards. Bookings take
/// the month's lock in shared mode, the close in exclusive mode (`store::months`). (A month
/// closes once over: the closing process's clock reads a later day than the booking ones'.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_being_closed_takes_no_late_booking() {
    let Some((database, db, token)) = database_with_admin().await else {
        return;
    };
    let url = database.url.clone();
    // Three ports held at once, so no two are the same.
    let (p1, p2, p3) = {
        let held: Vec<std::net::TcpListener> = (0..3)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let port = |i: usize| held[i].local_addr().expect("addr").port();
        (port(0), port(1), port(2))
    };
    // Three processes of 16 connections each, beside the other tests', would exceed the
    // server's 100: each keeps 6 here (`MUTUALISE_POSTGRES_POOL_SIZE`).
    let small = ("MUTUALISE_POSTGRES_POOL_SIZE", "6");
    let _a = serve_with(&url, p1, &[small]);
    let _b = serve_with(&url, p2, &[small]);
    let _c = serve_with(
        &url,
        p3,
        &[small, ("MUTUALISE_NOW", "2027-09-01T08:00:00Z")],
    );
    let client = reqwest::Client::new();
    let bases = [
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}"),
    ];
    let closer = format!("http://127.0.0.1:{p3}");
    for b in bases.iter().chain([&closer]) {
        wait_ready(&client, b).await;
    }
    // The treasurer closes, with a token of the closer's day (the first one has expired by
    // then).
    let closer_token = token_at(
        &db,
        "tresorier@pole.test",
        &["treasurer"],
        &[],
        "2027-09-01T08:00:00Z",
    )
    .await;
    let post = |base: &str, path: &str, body: serde_json::Value| {
        client
            .post(format!("{base}/api/v1{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let member = post(
        &bases[0],
        "/members",
        json!({"name": "Asso", "legal_form": "association"}),
    )
    .await
    .unwrap()
    .json::<serde_json::Value>()
    .await
    .unwrap()["id"]
        .as_i64()
        .unwrap();
    let mut rooms = Vec::new();
    for i in 0..8 {
        let r = post(
            &bases[i % 2],
            "/resources",
            json!({"kind": "room", "name": format!("Salle {i}")}),
        )
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
        rooms.push(r["id"].as_i64().unwrap());
    }
    for month in 2..=7 {
        let mut tasks = Vec::new();
        for i in 0..64usize {
            let (client, token) = (client.clone(), token.clone());
            let url = format!("{}/api/v1/bookings", bases[i % 2]);
            let day = 1 + i / 8;
            let body = json!({"resource_id": rooms[i % 8], "member_id": member,
                "start": format!("2027-{month:02}-{day:02}T10:00"), "end": format!("2027-{month:02}-{day:02}T11:00")});
            tasks.push(tokio::spawn(async move {
                let res = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let body: serde_json::Value = res.json().await.unwrap();
                (status, body["code"].as_str().map(str::to_string))
            }));
            if i == 24 {
                // Let some bookings in first, then close while the rest arrive.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let close = client
            .post(format!("{closer}/api/v1/allocations/2027-{month:02}/close"))
            .bearer_auth(&closer_token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(close.status(), StatusCode::OK);
        let closed: serde_json::Value = close.json().await.unwrap();
        for t in tasks {
            let (status, code) = t.await.unwrap();
            assert!(
                status == StatusCode::CREATED
                    || (status == StatusCode::CONFLICT && code.as_deref() == Some("month_closed")),
                "month {month}: {status} {code:?}"
            );
        }
        let res = client
            .get(format!(
                "{}/api/v1/bookings?from=2027-{month:02}-01T00:00&to=2027-{:02}-01T00:00&limit=1",
                bases[0],
                month + 1
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let total: i64 = res.headers()["x-total-count"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            closed["frozen_bookings"].as_i64().unwrap(),
            total,
            "month {month}: a booking landed in the month after its close"
        );
    }
}

/// The pole of the weekly-limit race: an employer group, two members each with a booker.
struct Race {
    admin: String,
    ge: i64,
    members: [i64; 2],
    bookers: [String; 2],
}

async fn race_pole(db: &Db, client: &reqwest::Client, base: &str, admin: String) -> Race {
    let member = |name: &str, form: &str| {
        let body = json!({"name": name, "legal_form": form});
        let req = client
            .post(format!("{base}/api/v1/members"))
            .bearer_auth(&admin)
            .json(&body);
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            res.json::<serde_json::Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let ge = member("GE Val Partage", "ge_geiq").await;
    let members = [
        member("Les Jardins", "association").await,
        member("Coop'Atelier", "scop").await,
    ];
    let bookers = [
        token_for(db, "booker@jardins.test", &[], &[(members[0], "booker")]).await,
        token_for(db, "booker@coop.test", &[], &[(members[1], "booker")]).await,
    ];
    Race {
        admin,
        ge,
        members,
        bookers,
    }
}

/// Two members assign one shared employee at the same moment, on two different days of a week
/// that already holds 40 h: either assignment alone is legal (46 h), both together are not
/// (52 h > 48 h, L3121-20). Exactly one is accepted, the other refused with `labour_limit` and
/// `weekly_hours`, and the week ends with 46 h — ten times, each on a fresh employee and week.
///
/// The two requests ask for different days of a capacity-1 resource: no capacity conflict, no
/// overlap for PostgreSQL's exclusion constraint. Only the serialisation of the labour check
/// with the write keeps the limit: on PostgreSQL the engine locks the employee's resource row
/// (`store::bookings::lock_resources`, `FOR UPDATE`, in `target::under_lock`) before it reads
/// the week's shifts, so the second transaction reads them only after the first committed; on
/// SQLite `BEGIN IMMEDIATE` holds the whole database across processes. Without that lock both
/// transactions (READ COMMITTED, or each process's own SQLite transaction) would read the
/// same 40 h, both judge 46 h legal and both commit: two 201 and a 52-hour week. The barrier
/// releases both requests together on warm connections, so their transactions overlap: a
/// round where one request is done before the other starts would pass even without the lock,
/// ten of them in a row would not (with `lock_resources` made a no-op, the first round
/// already answered two 201).
async fn weekly_limit_race(db: &Db, client: &reqwest::Client, bases: &[String; 2], pole: &Race) {
    use chrono::{Duration as Days, NaiveDate};
    let first_monday = NaiveDate::from_ymd_opt(2027, 1, 11).unwrap();
    for round in 0..10i64 {
        let monday = first_monday + Days::weeks(round);
        let day = |n: i64| monday + Days::days(n);
        // A fresh employee: full time, both members in the agreements.
        let res = client
            .post(format!("{}/api/v1/employees", bases[(round % 2) as usize]))
            .bearer_auth(&pole.admin)
            .json(&json!({"name": format!("Camille Martin {round}"),
                "employer_member_id": pole.ge, "contract_type": "cdi",
                "weekly_contract_hours": 35.0, "hourly_cost_cents": 2850,
                "fee_coefficient": 1.15, "agreement_member_ids": pole.members}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "round {round}");
        let employee = res.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        // 40 h from Monday to Thursday: each day 10 h (the daily maximum) in two blocks of 5 h
        // with 30 minutes of break, 13 h 30 of rest between days.
        for (i, (n, start, end)) in (0..4)
            .flat_map(|n| [(n, "07:00", "12:00"), (n, "12:30", "17:30")])
            .enumerate()
        {
            let res = client
                .post(format!("{}/api/v1/bookings", bases[i % 2]))
                .bearer_auth(&pole.admin)
                .json(&common::book(
                    employee,
                    pole.members[i % 2],
                    &format!("{}T{start}", day(n)),
                    &format!("{}T{end}", day(n)),
                ))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "round {round}: {body}");
        }
        // The race: each member's booker, each through its own process, asks for 6 h (no
        // longer than a stretch without break may be) on Friday or on Saturday.
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let mut tasks = Vec::new();
        for (side, base) in bases.iter().enumerate() {
            let n = 4 + (side as i64 + round) % 2;
            let request = client
                .post(format!("{base}/api/v1/bookings"))
                .bearer_auth(&pole.bookers[side])
                .json(&common::book(
                    employee,
                    pole.members[side],
                    &format!("{}T08:00", day(n)),
                    &format!("{}T14:00", day(n)),
                ));
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let res = request.send().await.unwrap();
                let status = res.status();
                (status, res.json::<serde_json::Value>().await.unwrap())
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        let created = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count();
        assert_eq!(created, 1, "round {round}: {answers:?}");
        let (status, refusal) = answers
            .iter()
            .find(|(s, _)| *s != StatusCode::CREATED)
            .unwrap();
        assert_eq!(*status, StatusCode::CONFLICT, "round {round}: {refusal}");
        assert_eq!(refusal["code"], "labour_limit", "round {round}: {refusal}");
        let violations = refusal["violations"].as_array().unwrap();
        let weekly = violations
            .iter()
            .find(|v| v["code"] == "weekly_hours")
            .unwrap_or_else(|| panic!("round {round}: no weekly_hours in {refusal}"));
        assert_eq!(
            (weekly["limit"].as_i64(), weekly["actual"].as_i64()),
            (Some(48 * 60), Some(52 * 60)),
            "round {round}: {weekly}"
        );
        assert_eq!(violations.len(), 1, "round {round}: {refusal}");
        // What the database holds: the 40 h and one of the two assignments.
        let (from, to) = (
            (monday - Days::days(1)).and_hms_opt(0, 0, 0).unwrap(),
            (monday + Days::days(8)).and_hms_opt(0, 0, 0).unwrap(),
        );
        let minutes: i64 = db
            .run(move |c| {
                let rows = mutualise::store::bookings::active_blocking(
                    c,
                    &[mutualise::domain::ids::ResourceId(employee)],
                    from,
                    to,
                    24 * 60,
                )?;
                Ok(rows
                    .iter()
                    .map(|r| (r.end_at - r.start_at).num_minutes())
                    .sum())
            })
            .await
            .unwrap();
        assert!(minutes <= 48 * 60, "round {round}: {minutes} min stored");
        assert_eq!(minutes, 46 * 60, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_one_postgres_one_weekly_limit() {
    let Some((database, db, admin)) = database_with_admin().await else {
        return;
    };
    let url = database.url.clone();
    let (p1, p2) = (common::free_port(), common::free_port());
    let _a = serve(&url, p1);
    let _b = serve(&url, p2);
    let client = reqwest::Client::new();
    let bases = [
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}"),
    ];
    for b in &bases {
        wait_ready(&client, b).await;
    }
    let pole = race_pole(&db, &client, &bases[0], admin).await;
    weekly_limit_race(&db, &client, &bases, &pole).await;
}

/// The same race on one SQLite file shared by two processes: SQLite has no row locks, its
/// `BEGIN IMMEDIATE` takes the database's write lock before the engine reads the shifts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_one_sqlite_file_one_weekly_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.db").to_string_lossy().into_owned();
    // Migrated here, before either process starts, so they never race on the migrations.
    let db = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || Db::connect(&DatabaseUrl::Sqlite(path)).unwrap())
            .await
            .unwrap()
    };
    let admin = token_for(&db, "admin@pole.test", &["admin"], &[]).await;
    let client = reqwest::Client::new();
    let (p1, p2) = (common::free_port(), common::free_port());
    let bases = [
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}"),
    ];
    // One after the other all the same: each checks the migrations at start.
    let _a = serve(&path, p1);
    wait_ready(&client, &bases[0]).await;
    let _b = serve(&path, p2);
    wait_ready(&client, &bases[1]).await;
    let pole = race_pole(&db, &client, &bases[0], admin).await;
    weekly_limit_race(&db, &client, &bases, &pole).await;
}

/// Two processes, one PostgreSQL outbox, a mail server down while bookings are made through
/// both: once it is back, every message arrives, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_send_each_mail_once() {
    let Some((database, db, token)) = database_with_admin().await else {
        return;
    };
    let url = database.url.clone();
    let (member, rooms) = member_and_rooms(
        &db,
        (0..4)
            .map(|i| json!({"kind": "room", "name": format!("Salle {i}")}))
            .collect(),
    )
    .await;
    let mut sink = common::mail::SmtpSink::new();
    let smtp = sink.url();
    let env = [
        ("SMTP_URL", smtp.as_str()),
        ("MUTUALISE_MAIL_RETRY_SECONDS", "1"),
    ];
    let (p1, p2) = (common::free_port(), common::free_port());
    let _a = serve_with(&url, p1, &env);
    let _b = serve_with(&url, p2, &env);
    let client = reqwest::Client::new();
    let bases = [
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}"),
    ];
    for b in &bases {
        wait_ready(&client, b).await;
    }
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (client, base, token) = (client.clone(), bases[i % 2].clone(), token.clone());
        let room = rooms[i % rooms.len()];
        let day = 5 + i / rooms.len();
        tasks.push(tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/bookings"))
                .bearer_auth(&token)
                .json(&json!({
                    "resource_id": room, "member_id": member,
                    "start": format!("2027-01-{day:02}T10:00:00+01:00"),
                    "end": format!("2027-01-{day:02}T11:00:00+01:00"),
                }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    // Both workers fail meanwhile; then the server comes back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sink.start();
    let mails = sink.wait_for(40, 60).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = if mails.len() >= 40 {
        sink.messages()
    } else {
        mails
    };
    assert_eq!(mails.len(), 40, "every message once");
    let mut ids: Vec<&str> = mails
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no message twice");
}
