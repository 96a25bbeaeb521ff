//! Online backup and restore of a SQLite database: a consistent copy taken while the service
//! runs (`VACUUM INTO`, one read transaction, so writers are not blocked), and its restore
//! into an instance that holds no data yet. PostgreSQL has `pg_dump` / `pg_restore` for that.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;

use super::SQLITE_MIGRATIONS;
use crate::config::DatabaseUrl;

/// The tables whose counts the backup and restore report, with their French names.
const COUNTED: [(&str, &str); 4] = [
    ("members", "structures"),
    ("users", "utilisateurs"),
    ("resources", "ressources"),
    ("bookings", "réservations"),
];

/// What was checked in a backup file.
#[derive(Debug, Clone)]
pub struct FileCheck {
    pub path: PathBuf,
    pub bytes: u64,
    /// Rows of the main tables, French name first.
    pub counts: Vec<(&'static str, i64)>,
    /// Migrations this version of Mutualise knows and the file has not had yet.
    pub pending: usize,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub file: FileCheck,
    /// Migrations applied after the copy to bring it to the current schema.
    pub applied: Vec<String>,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn utf8(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .ok_or_else(|| anyhow::anyhow!("chemin non UTF-8 : {}", path.display()))
}

/// Opens a file that must already exist, read-only (nothing is created or changed, not even
/// a `-wal` file).
fn open_read_only(path: &Path) -> anyhow::Result<SqliteConnection> {
    // A URI filename: `?` and `#` would start its query or fragment, `%` an escape.
    let escaped = utf8(path)?
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    let mut conn = SqliteConnection::establish(&format!("file:{escaped}?mode=ro"))
        .map_err(|e| anyhow::anyhow!("impossible d'ouvrir {} : {e}", path.display()))?;
    conn.batch_execute("PRAGMA busy_timeout = 15000")?;
    Ok(conn)
}

/// Tables whose rows the migrations themselves insert (see migration `epochs`).
const SEEDED_BY_MIGRATIONS: &[&str] = &["access_epoch", "rules_epoch"];

/// The user tables of a SQLite database (diesel's migrations table and SQLite's own left out).
fn user_tables(conn: &mut SqliteConnection) -> QueryResult<Vec<String>> {
    let rows: Vec<Line> = diesel::sql_query(
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.line).collect())
}

/// Rows of one table; `table` comes from `sqlite_master`, quoted as an identifier.
fn count_rows(conn: &mut SqliteConnection, table: &str) -> QueryResult<i64> {
    let q = format!(
        "SELECT COUNT(*) AS n FROM \"{}\"",
        table.replace('"', "\"\"")
    );
    Ok(diesel::sql_query(q).get_result::<Count>(conn)?.n)
}

/// Checks that `path` is a sound Mutualise database this version can bring up to date:
/// SQLite's integrity check passes, the migrations table and the main tables exist, and it
/// has no migration this version does not know (a backup of a newer version).
pub fn check_file(path: &Path) -> anyhow::Result<FileCheck> {
    let meta = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("fichier {} illisible : {e}", path.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{} n'est pas un fichier", path.display());
    }
    let mut conn = open_read_only(path)?;
    let not_a_database = |e: diesel::result::Error| {
        anyhow::anyhow!("{} n'est pas une base SQLite lisible ({e})", path.display())
    };
    let report: Vec<Line> =
        diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check")
            .load(&mut conn)
            .map_err(not_a_database)?;
    if report.len() != 1 || report[0].line != "ok" {
        let first: Vec<String> = report.into_iter().take(3).map(|l| l.line).collect();
        anyhow::bail!(
            "{} est endommagé (PRAGMA integrity_check : {})",
            path.display(),
            first.join(" ; ")
        );
    }
    let tables = user_tables(&mut conn).map_err(not_a_database)?;
    let has_migrations: Vec<Line> = diesel::sql_query(
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .map_err(not_a_database)?;
    if has_migrations.is_empty() || COUNTED.iter().any(|(t, _)| !tables.iter().any(|n| n == t)) {
        anyhow::bail!(
            "{} n'est pas une base Mutualise (table des migrations ou tables principales absentes)",
            path.display()
        );
    }
    let applied: Vec<Line> =
        diesel::sql_query("SELECT version AS line FROM __diesel_schema_migrations")
            .load(&mut conn)?;
    let known: Vec<String> = MigrationSource::<Sqlite>::migrations(&SQLITE_MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("migrations intégrées illisibles : {e}"))?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    if let Some(unknown) = applied.iter().find(|a| !known.contains(&a.line)) {
        anyhow::bail!(
            "{} vient d'une version plus récente de Mutualise (migration {} inconnue) : restaurez-la avec cette version-là",
            path.display(),
            unknown.line
        );
    }
    let pending = known
        .iter()
        .filter(|k| !applied.iter().any(|a| &a.line == *k))
        .count();
    let mut counts = Vec::new();
    for (table, label) in COUNTED {
        counts.push((label, count_rows(&mut conn, table)?));
    }
    Ok(FileCheck {
        path: path.to_path_buf(),
        bytes: meta.len(),
        counts,
        pending,
    })
}

/// Flushes a file and its directory entry to disk.
fn sync(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Best effort: some filesystems do not sync directories.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Copies the SQLite database at `db` into the new file `dest` while the service may be
/// writing: `VACUUM INTO` reads one snapshot, so the copy is consistent, compact and needs no
/// WAL. The copy is switched to a rollback journal, synced and checked before this returns;
/// a copy that fails its check is removed. An existing `dest` is never overwritten.
pub fn backup_sqlite(db: &str, dest: &Path) -> anyhow::Result<FileCheck> {
    if dest.exists() {
        anyhow::bail!(
            "{} existe déjà : une sauvegarde n'écrase jamais un fichier, choisissez un autre nom",
            dest.display()
        );
    }
    if !Path::new(db).is_file() {
        anyhow::bail!("la base {db} n'existe pas : rien à sauvegarder");
    }
    let target = utf8(dest)?;
    let mut source = SqliteConnection::establish(db)
        .map_err(|e| anyhow::anyhow!("impossible d'ouvrir la base SQLite {db} : {e}"))?;
    source.batch_execute("PRAGMA busy_timeout = 15000")?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(target)
        .execute(&mut source)
        .map_err(|e| anyhow::anyhow!("copie vers {} impossible : {e}", dest.display()))?;
    drop(source);
    let finish = || -> anyhow::Result<FileCheck> {
        let mut copy = SqliteConnection::establish(target)
            .map_err(|e| anyhow::anyhow!("impossible de rouvrir la copie : {e}"))?;
        // The copy keeps the source's WAL flag; a rollback journal makes it one plain file.
        copy.batch_execute("PRAGMA journal_mode = DELETE")?;
        drop(copy);
        sync(dest)?;
        check_file(dest)
    };
    finish().inspect_err(|_| {
        let _ = std::fs::remove_file(dest);
    })
}

/// Restores the backup `file` as the SQLite database at `db`, which must hold no data (a
/// new path, or a database with its tables but no rows): a pole is never overwritten. The
/// file is checked first, copied in place of the empty database, then brought to the current
/// schema by the pending migrations. The service must be stopped meanwhile.
pub fn restore_sqlite(file: &Path, db: &str) -> anyhow::Result<Restored> {
    let checked = check_file(file)?;
    let target = Path::new(db);
    if let (Ok(a), Ok(b)) = (file.canonicalize(), target.canonicalize()) {
        if a == b {
            anyhow::bail!("la sauvegarde et la base configurée sont le même fichier");
        }
    }
    if target.exists() {
        let mut conn = SqliteConnection::establish(db)
            .map_err(|e| anyhow::anyhow!("impossible d'ouvrir la base SQLite {db} : {e}"))?;
        conn.batch_execute("PRAGMA busy_timeout = 15000")?;
        let tables = user_tables(&mut conn)
            .map_err(|e| anyhow::anyhow!("{db} n'est pas une base SQLite lisible ({e})"))?;
        // The epochs' single rows come with the migrations: counters, not a pole's data.
        for table in tables
            .iter()
            .filter(|t| !SEEDED_BY_MIGRATIONS.contains(&t.as_str()))
        {
            let n = count_rows(&mut conn, table)?;
            if n > 0 {
                anyhow::bail!(
                    "la base {db} contient déjà des données ({n} ligne(s) dans {table}) : la restauration ne remplit qu'une instance vide et n'écrase jamais un pôle"
                );
            }
        }
    }
    // Copy beside the target, sync, then swap it in: a crash leaves either the empty
    // database or the whole copy, never half of it.
    let partial = PathBuf::from(format!("{db}.restauration-{}", std::process::id()));
    std::fs::copy(file, &partial).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        anyhow::anyhow!("copie vers {} impossible : {e}", partial.display())
    })?;
    sync(&partial)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{db}{suffix}"));
        if side.exists() {
            std::fs::remove_file(&side).map_err(|e| anyhow::anyhow!("{} : {e}", side.display()))?;
        }
    }
    std::fs::rename(&partial, target)
        .map_err(|e| anyhow::anyhow!("remplacement de {db} impossible : {e}"))?;
    sync(target)?;
    let applied = super::Db::migrate_database(&DatabaseUrl::Sqlite(db.to_string()))?;
    Ok(Restored {
        file: checked,
        applied,
    })
}
