//! Two `mutualise serve` processes share one PostgreSQL database; 50 clients race for one
//! slot through both: exactly one wins. The guarantee rests on the database (row locks and
//! the exclusion constraint), not on anything inside one process.

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
    Server(
        Command::new(env!("CARGO_BIN_EXE_mutualise"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("MUTUALISE_NOW", common::NOW)
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

/// A new database on the test server with an administrator; its URL, the pool, a token.
async fn database_with_admin() -> Option<(String, Db, String)> {
    let admin_url = common::postgres_admin_url()?;
    let (url, _) = tokio::task::spawn_blocking(move || common::create_pg_database(&admin_url))
        .await
        .unwrap();
    let db = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || Db::connect(&DatabaseUrl::Postgres(url)).unwrap())
            .await
            .unwrap()
    };
    let now = mutualise::config::Clock::new(Some(common::NOW.parse().unwrap())).now();
    let token = db
        .run(move |c| {
            let user = mutualise::domain::user::UserInput {
                email: "admin@pole.test".into(),
                name: "Admin".into(),
                password: Some(common::PASSWORD.into()),
                roles: vec!["admin".into()],
                memberships: vec![],
                active: true,
            }
            .validate(true)
            .unwrap();
            let user =
                mutualise::app::users::create_unchecked(c, &user, common::password_hash(), now)?;
            Ok(mutualise::app::auth::issue_token(c, user.user.id, "tests", now)?.token)
        })
        .await
        .unwrap();
    Some((url, db, token))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_one_postgres_one_winner() {
    let Some((url, db, token)) = database_with_admin().await else {
        return;
    };
    let now = mutualise::config::Clock::new(Some(common::NOW.parse().unwrap())).now();
    let (member, room) = db
        .run(move |c| {
            use mutualise::domain::{member::MemberInput, resource::ResourceInput};
            let member: MemberInput =
                serde_json::from_value(json!({"name": "Asso", "legal_form": "association"}))
                    .unwrap();
            let member = mutualise::store::members::insert(
                c,
                &member.validate().unwrap(),
                mutualise::store::to_db(now),
            )?
            .id;
            let room: ResourceInput = serde_json::from_value(
                json!({"kind": "room", "name": "Salle", "buffer_after_minutes": 15}),
            )
            .unwrap();
            let room = mutualise::store::resources::insert(
                c,
                &room.validate().unwrap(),
                mutualise::store::to_db(now),
            )?
            .row
            .id;
            Ok((member, room))
        })
        .await
        .unwrap();
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

/// A month closed through one process while both take bookings in it: whatever committed
/// before the close is what it froze, and nothing lands in the month afterwards. Bookings take
/// the month's lock in shared mode, the close in exclusive mode (`store::months`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_being_closed_takes_no_late_booking() {
    let Some((url, _db, token)) = database_with_admin().await else {
        return;
    };
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
        let close = post(
            &bases[1],
            &format!("/allocations/2027-{month:02}/close"),
            json!({}),
        )
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
