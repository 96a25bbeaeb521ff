//! Booking load against `mutualise serve` child processes, for the backup and crash proofs:
//! a pole written straight into the database, a server child that can be SIGKILLed, and
//! clients that book fresh one-hour slots (and now and then one already taken) and remember
//! every booking answered 201.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeZone, Utc};
use mutualise::config::DatabaseUrl;
use mutualise::store::Db;
use serde_json::json;

use crate::common;

/// Rooms of the pole; slots go round them so that concurrent clients rarely meet.
pub const ROOMS: usize = 6;

/// A pole for the load: an administrator (its bearer token), one member, `ROOMS` rooms.
pub struct Pole {
    pub token: String,
    pub member: i64,
    pub rooms: Vec<i64>,
}

/// Migrates the database and writes the pole straight into it.
pub fn setup(url: &DatabaseUrl) -> Pole {
    let db = Db::connect(url).expect("connect and migrate");
    let now = mutualise::config::Clock::new(Some(common::NOW.parse().unwrap())).now();
    let mut c = db.get().expect("connection");
    use mutualise::domain::{member::MemberInput, resource::ResourceInput};
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
    let user = mutualise::app::users::create_unchecked(&mut c, &user, common::password_hash(), now)
        .unwrap();
    let token = mutualise::app::auth::issue_token(&mut c, user.user.id, "tests", now)
        .unwrap()
        .token;
    let member: MemberInput =
        serde_json::from_value(json!({"name": "Asso", "legal_form": "association"})).unwrap();
    let member = mutualise::store::members::insert(
        &mut c,
        &member.validate().unwrap(),
        mutualise::store::to_db(now),
    )
    .unwrap()
    .id
    .0;
    let mut rooms = Vec::new();
    for i in 0..ROOMS {
        let r: ResourceInput =
            serde_json::from_value(json!({"kind": "room", "name": format!("Salle {i}")})).unwrap();
        rooms.push(
            mutualise::store::resources::insert(
                &mut c,
                &r.validate().unwrap(),
                mutualise::store::to_db(now),
            )
            .unwrap()
            .row
            .id
            .0,
        );
    }
    Pole {
        token,
        member,
        rooms,
    }
}

/// A `mutualise serve` child on a free loopback port, SIGKILLed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(url: &str) -> Server {
        let port = common::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_mutualise"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("MUTUALISE_NOW", common::NOW)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start mutualise serve");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Waits for `/healthz` (a hang guard of 60 s, never a timing assertion).
    pub async fn ready(&mut self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("server exited before answering: {status}");
            }
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not answer /healthz", self.base);
    }

    /// SIGKILL: no shutdown, no flush, as in a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A booking answered 201.
#[derive(Debug, Clone)]
pub struct Acked {
    pub id: i64,
    pub resource_id: i64,
    pub start: NaiveDateTime,
}

/// The k-th one-hour slot: rooms vary fastest, then the hours from 2027-01-05 00:00 UTC.
fn slot(pole: &Pole, k: u64) -> (i64, NaiveDateTime) {
    let room = pole.rooms[(k % pole.rooms.len() as u64) as usize];
    let first = Utc
        .with_ymd_and_hms(2027, 1, 5, 0, 0, 0)
        .unwrap()
        .naive_utc();
    (
        room,
        first + chrono::Duration::hours((k / pole.rooms.len() as u64) as i64),
    )
}

/// Clients booking through one server until `stop` is set or the server is gone.
pub struct Load {
    pub acked: Arc<Mutex<Vec<Acked>>>,
    pub stop: Arc<AtomicBool>,
    /// Answers other than 201 and 409 (connection errors included).
    pub errors: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `clients` tasks against `base`; slot numbers come from `next` (shared across servers,
    /// so that a slot is asked for fresh only once), every fourth request of a client aims
    /// at a slot handed out before (a probable 409).
    pub fn start(
        base: &str,
        pole: &Arc<Pole>,
        clients: usize,
        next: &Arc<AtomicU64>,
        acked: &Arc<Mutex<Vec<Acked>>>,
    ) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (stop, errors, next, acked, pole) = (
                stop.clone(),
                errors.clone(),
                next.clone(),
                acked.clone(),
                pole.clone(),
            );
            let url = format!("{base}/api/v1/bookings");
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(20))
                    .no_proxy()
                    .build()
                    .unwrap();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let k = if i % 4 == 0 {
                        next.load(Ordering::Relaxed).saturating_sub(1 + c as u64)
                    } else {
                        next.fetch_add(1, Ordering::Relaxed)
                    };
                    let (room, start) = slot(&pole, k);
                    let body = json!({
                        "resource_id": room, "member_id": pole.member,
                        "start": format!("{}Z", start.format("%Y-%m-%dT%H:%M:%S")),
                        "end": format!("{}Z", (start + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S")),
                    });
                    match client
                        .post(&url)
                        .bearer_auth(&pole.token)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                            let v: serde_json::Value = match r.json().await {
                                Ok(v) => v,
                                // Killed between the status line and the body: the booking
                                // may exist but its id was never read.
                                Err(_) => continue,
                            };
                            acked.lock().unwrap().push(Acked {
                                id: v["id"].as_i64().expect("id of a 201"),
                                resource_id: room,
                                start,
                            });
                        }
                        Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => {}
                        Ok(r) => {
                            let status = r.status();
                            assert!(
                                !status.is_server_error(),
                                "{status}: {}",
                                r.text().await.unwrap_or_default()
                            );
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            // The server is gone (killed): wait for the test to stop us.
                            errors.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            }));
        }
        Load {
            acked: acked.clone(),
            stop,
            errors,
            tasks,
        }
    }

    /// Waits until `n` more bookings than `from` were answered 201 (hang guard: 90 s).
    pub async fn until_acked(&self, n: usize) {
        let started = Instant::now();
        loop {
            if self.acked.lock().unwrap().len() >= n {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "only {} of {n} bookings answered 201",
                self.acked.lock().unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("client task");
        }
    }
}

/// Active bookings of one room that overlap another (a double booking): the count.
pub const OVERLAPS: &str = "SELECT COUNT(*) AS n FROM bookings a JOIN bookings b \
    ON a.resource_id = b.resource_id AND a.id < b.id \
    AND a.block_start_at < b.block_end_at AND b.block_start_at < a.block_end_at \
    WHERE a.status IN ('confirmed', 'pending') AND b.status IN ('confirmed', 'pending')";

#[derive(diesel::QueryableByName)]
pub struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

#[derive(diesel::QueryableByName, Debug)]
pub struct Row {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub resource_id: i64,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub start_at: NaiveDateTime,
}

pub const BOOKINGS: &str = "SELECT id, resource_id, start_at FROM bookings";

/// Checks every acknowledged booking is in `rows`, as it was answered.
pub fn assert_all_present(acked: &[Acked], rows: &[Row]) {
    let by_id: std::collections::HashMap<i64, &Row> = rows.iter().map(|r| (r.id, r)).collect();
    for a in acked {
        let row = by_id
            .get(&a.id)
            .unwrap_or_else(|| panic!("booking {} was answered 201 and is lost", a.id));
        assert_eq!(
            (row.resource_id, row.start_at),
            (a.resource_id, a.start),
            "booking {} changed",
            a.id
        );
    }
    let mut ids: Vec<i64> = acked.iter().map(|a| a.id).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "one id answered twice");
}
