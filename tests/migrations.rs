//! Migrations apply, revert and re-apply on both backends, and leave the same tables and columns.

mod common;

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;
use mutualise::store::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

#[derive(QueryableByName)]
struct Col {
    #[diesel(sql_type = Text)]
    t: String,
    #[diesel(sql_type = Text)]
    c: String,
}

type Shape = BTreeMap<String, Vec<String>>;

fn shape(cols: Vec<Col>) -> Shape {
    let mut m: Shape = BTreeMap::new();
    for col in cols {
        if col.t.starts_with("__diesel") || col.t.starts_with("sqlite_") {
            continue;
        }
        m.entry(col.t).or_default().push(col.c);
    }
    m.values_mut().for_each(|v| v.sort());
    m
}

fn sqlite_shape(conn: &mut SqliteConnection) -> Shape {
    shape(
        diesel::sql_query("SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'")
            .load(conn)
            .unwrap(),
    )
}

fn pg_shape(conn: &mut PgConnection) -> Shape {
    shape(
        diesel::sql_query("SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = 'public'")
            .load(conn)
            .unwrap(),
    )
}

#[test]
fn sqlite_up_down_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = SqliteConnection::establish(&dir.path().join("m.db").to_string_lossy()).unwrap();
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    let first = sqlite_shape(&mut conn);
    assert!(first.contains_key("members") && first.contains_key("resources"));
    conn.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
    assert!(
        sqlite_shape(&mut conn).is_empty(),
        "down.sql leaves nothing behind"
    );
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    assert_eq!(sqlite_shape(&mut conn), first);
}

#[test]
fn postgres_up_down_up_matches_sqlite() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let database = common::create_pg_database(&admin);
    let mut conn = PgConnection::establish(&database.url).unwrap();
    conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    let first = pg_shape(&mut conn);
    conn.revert_all_migrations(POSTGRES_MIGRATIONS).unwrap();
    assert!(pg_shape(&mut conn).is_empty());
    conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    assert_eq!(pg_shape(&mut conn), first);
    drop(conn);

    let dir = tempfile::tempdir().unwrap();
    let mut lite = SqliteConnection::establish(&dir.path().join("m.db").to_string_lossy()).unwrap();
    lite.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    assert_eq!(
        sqlite_shape(&mut lite),
        first,
        "both backends end with the same tables and columns"
    );
    let names = |m: &diesel_migrations::EmbeddedMigrations| {
        MigrationSource::<diesel::sqlite::Sqlite>::migrations(m)
            .unwrap()
            .iter()
            .map(|m| m.name().to_string())
            .collect::<Vec<_>>()
    };
    let pg_names: Vec<String> = MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
        .unwrap()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    assert_eq!(
        names(&SQLITE_MIGRATIONS),
        pg_names,
        "same migration names on both backends"
    );
}

use diesel::migration::MigrationSource;
