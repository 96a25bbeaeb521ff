//! `mutualise backup` under booking load, then `mutualise restore` into a new instance: the
//! copy passes its integrity check and holds every booking answered 201 before the backup
//! began; the restored database holds exactly the backup's rows, table by table; a second
//! server serves them; a restore into a database that holds data is refused and changes
//! nothing. PostgreSQL relies on pg_dump, which the commands point to.

mod common;
mod load;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use diesel::{Connection, RunQueryDsl, SqliteConnection};
use load::{Load, Server};
use mutualise::config::DatabaseUrl;

fn mutualise(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mutualise"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run mutualise")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// A connection that waits for locks (a killed server's WAL is recovered on first open).
fn open(path: &str) -> SqliteConnection {
    use diesel::connection::SimpleConnection;
    let mut c = SqliteConnection::establish(path).unwrap();
    c.batch_execute("PRAGMA busy_timeout = 15000").unwrap();
    c
}

fn lines(c: &mut SqliteConnection, q: &str) -> Vec<String> {
    diesel::sql_query(q)
        .load::<Line>(c)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

fn count(c: &mut SqliteConnection, q: &str) -> i64 {
    diesel::sql_query(q).get_result::<load::N>(c).unwrap().n
}

/// Every table's definition and rows, in a stable order: what "the same data" means.
fn dump(path: &Path) -> Vec<String> {
    let mut c = open(&format!("file:{}?mode=ro", path.display()));
    let mut out = lines(
        &mut c,
        "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') AS line FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    );
    let tables = lines(
        &mut c,
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    for t in tables {
        // Each row as JSON (every column, by name), in rowid order.
        let cols = lines(
            &mut c,
            &format!("SELECT name AS line FROM pragma_table_info('{t}') ORDER BY cid"),
        );
        let object: Vec<String> = cols
            .iter()
            .map(|col| format!("'{col}', quote(\"{col}\")"))
            .collect();
        let q = format!(
            "SELECT '{t} ' || json_object({}) AS line FROM \"{t}\" ORDER BY 1",
            object.join(", ")
        );
        out.extend(lines(&mut c, &q));
    }
    out
}

fn integrity(path: &Path) -> String {
    let mut c = open(&path.to_string_lossy());
    lines(
        &mut c,
        "SELECT integrity_check AS line FROM pragma_integrity_check",
    )
    .join("; ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_restores_identically() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("pole.db");
    let live_s = live.to_string_lossy().into_owned();
    let copy = dir.path().join("sauvegarde.db");
    let copy_s = copy.to_string_lossy().into_owned();
    let pole = Arc::new({
        let url = DatabaseUrl::Sqlite(live_s.clone());
        tokio::task::spawn_blocking(move || load::setup(&url))
            .await
            .unwrap()
    });

    let mut server = Server::start(&live_s);
    server.ready().await;
    let acked = Arc::new(Mutex::new(Vec::new()));
    let load = Load::start(&server.base, &pole, 6, &Arc::new(AtomicU64::new(0)), &acked);
    load.until_acked(200).await;
    // Everything answered so far must be in the copy; what is answered during the copy may
    // or may not be.
    let before = acked.lock().unwrap().clone();
    let o = tokio::task::spawn_blocking({
        let (live, copy) = (live_s.clone(), copy_s.clone());
        move || mutualise(&live, &["backup", &copy])
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intégrité vérifiée"), "{}", text(&o));
    load.until_acked(before.len() + 100).await;
    load.finish().await;
    server.kill();

    // The copy is one self-contained, sound file with every acknowledged booking.
    assert!(!Path::new(&format!("{copy_s}-wal")).exists());
    assert_eq!(integrity(&copy), "ok");
    let rows: Vec<load::Row> = {
        let mut c = open(&copy_s);
        diesel::sql_query(load::BOOKINGS).load(&mut c).unwrap()
    };
    load::assert_all_present(&before, &rows);
    let backup_dump = dump(&copy);

    // A second backup never overwrites the first.
    let o = mutualise(&live_s, &["backup", &copy_s]);
    assert!(
        !o.status.success() && text(&o).contains("existe déjà"),
        "{}",
        text(&o)
    );
    assert_eq!(dump(&copy), backup_dump);

    // Restoring over a pole that holds data is refused and changes nothing.
    let live_dump = dump(&live);
    let o = mutualise(&live_s, &["restore", &copy_s]);
    assert!(
        !o.status.success() && text(&o).contains("contient déjà des données"),
        "{}",
        text(&o)
    );
    assert_eq!(dump(&live), live_dump);
    assert!(
        live_dump.len() > backup_dump.len(),
        "the pole went on booking after the backup"
    );

    // A file that is not a Mutualise database is refused too.
    let other = dir.path().join("autre.db");
    {
        let mut c = open(&other.to_string_lossy());
        diesel::sql_query("CREATE TABLE t (x INTEGER)")
            .execute(&mut c)
            .unwrap();
    }
    let fresh = dir.path().join("neuf.db").to_string_lossy().into_owned();
    let o = mutualise(&fresh, &["restore", &other.to_string_lossy()]);
    assert!(
        !o.status.success() && text(&o).contains("n'est pas une base Mutualise"),
        "{}",
        text(&o)
    );

    // Into a new instance (here already migrated, hence empty but not absent).
    let o = mutualise(&fresh, &["migrate"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = mutualise(&fresh, &["restore", &copy_s]);
    assert!(o.status.success(), "{}", text(&o));
    let restored = Path::new(&fresh);
    assert_eq!(integrity(restored), "ok");
    let restored_dump = dump(restored);
    assert!(
        restored_dump == backup_dump,
        "the restored database differs from the backup"
    );

    // A server on the restored database serves every booking answered before the backup.
    let mut second = Server::start(&fresh);
    second.ready().await;
    let client = reqwest::Client::new();
    for a in &before {
        let r = client
            .get(format!("{}/api/v1/bookings/{}", second.base, a.id))
            .bearer_auth(&pole.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "booking {}", a.id);
    }
    second.kill();
    let mut c = open(&fresh);
    assert_eq!(count(&mut c, load::OVERLAPS), 0);
}

#[test]
fn postgres_points_to_pg_dump() {
    let url = "postgres://mutualise@127.0.0.1:1/absent";
    for args in [["backup", "x.dump"], ["restore", "x.dump"]] {
        let o = mutualise(url, &args);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            text(&o).contains("pg_dump -Fc") && text(&o).contains("pg_restore"),
            "{}",
            text(&o)
        );
    }
}
