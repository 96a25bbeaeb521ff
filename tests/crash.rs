//! Crash proof: a `mutualise serve` child under booking load from several clients is SIGKILLed
//! mid-load, three times, and restarted on the same database each time. Afterwards every
//! booking answered 201 is there (same id, room and start), none twice, no room is double
//! booked, and on SQLite `PRAGMA integrity_check` passes. On SQLite and on PostgreSQL
//! (`TEST_POSTGRES_URL`; under CI its absence fails the test).

mod common;
mod load;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use diesel::{Connection, RunQueryDsl};
use load::{Load, Server, N, OVERLAPS};
use mutualise::config::DatabaseUrl;

const KILLS: usize = 4;
const CLIENTS: usize = 6;
/// Bookings answered 201 between a start and the next SIGKILL.
const PER_ROUND: usize = 300;

async fn crash_and_check(url: DatabaseUrl) {
    let raw = match &url {
        DatabaseUrl::Sqlite(p) => p.clone(),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let pole = Arc::new({
        let url = url.clone();
        tokio::task::spawn_blocking(move || load::setup(&url))
            .await
            .unwrap()
    });
    let next = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut errors = 0;
    for round in 0..=KILLS {
        let mut server = Server::start(&raw);
        server.ready().await;
        let load = Load::start(&server.base, &pole, CLIENTS, &next, &acked);
        let target = acked.lock().unwrap().len() + PER_ROUND;
        load.until_acked(target).await;
        if round < KILLS {
            // Mid-load: the clients are still sending when the process dies.
            server.kill();
        }
        let stop = load.stop.clone();
        stop.store(true, Ordering::Relaxed);
        errors += load.errors.load(Ordering::Relaxed);
        load.finish().await;
        server.kill();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= (KILLS + 1) * PER_ROUND);
    assert!(
        errors > 0,
        "no request was cut by a SIGKILL: the kill was not mid-load"
    );

    let (rows, overlaps, integrity) = tokio::task::spawn_blocking(move || match url {
        DatabaseUrl::Sqlite(path) => {
            let mut c = diesel::SqliteConnection::establish(&path).unwrap();
            diesel::connection::SimpleConnection::batch_execute(
                &mut c,
                "PRAGMA busy_timeout = 15000",
            )
            .unwrap();
            let rows: Vec<load::Row> = diesel::sql_query(load::BOOKINGS).load(&mut c).unwrap();
            let overlaps: N = diesel::sql_query(OVERLAPS).get_result(&mut c).unwrap();
            #[derive(diesel::QueryableByName)]
            struct Line {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            let check: Vec<Line> = diesel::sql_query("PRAGMA integrity_check")
                .load(&mut c)
                .unwrap();
            let check: Vec<String> = check.into_iter().map(|l| l.integrity_check).collect();
            (rows, overlaps.n, check.join("; "))
        }
        DatabaseUrl::Postgres(u) => {
            let mut c = diesel::PgConnection::establish(&u).unwrap();
            let rows: Vec<load::Row> = diesel::sql_query(load::BOOKINGS).load(&mut c).unwrap();
            let overlaps: N = diesel::sql_query(OVERLAPS).get_result(&mut c).unwrap();
            (rows, overlaps.n, "ok".to_string())
        }
    })
    .await
    .unwrap();
    load::assert_all_present(&acked, &rows);
    assert_eq!(overlaps, 0, "a room is double booked");
    assert_eq!(integrity, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_booking_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db").to_string_lossy().into_owned();
    crash_and_check(DatabaseUrl::Sqlite(path)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_booking_on_postgres() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let database = tokio::task::spawn_blocking(move || common::create_pg_database(&admin))
        .await
        .unwrap();
    crash_and_check(DatabaseUrl::Postgres(database.url.clone())).await;
}
