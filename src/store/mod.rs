//! Storage: backend chosen from `DATABASE_URL`, the connection pools, embedded migrations and
//! the one escape hatch (`db_run!`) through which each query is compiled for both backends.
//!
//! Queries are written once and expanded by `db_run!` for SQLite and PostgreSQL, so every
//! diesel feature (RETURNING, ON CONFLICT) is available on each backend without a
//! lowest-common-denominator layer. This module never decides a business rule.
//!
//! Lookups of one row use `.get_result()`, not `.first()`: `.first()` adds `LIMIT ?`, and
//! SQLite (since 3.47) plans with the bound LIMIT value and marks the statement to be
//! re-prepared whenever that parameter is bound again, i.e. on every execution. Re-parsing
//! those statements cost a third of the server's CPU under booking load.

pub mod allocation;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bookings;
pub mod closures;
pub mod employees;
pub mod feeds;
pub mod idempotency;
pub mod members;
pub mod months;
pub mod outbox;
mod pg_pool;
pub mod pricing;
pub mod quotas;
pub mod resources;
pub mod schema;
pub mod search_keys;
pub mod types;
pub mod users;
pub mod writer;

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::migration::MigrationSource;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{DatabaseUrl, PostgresUri};
use crate::error::{AppError, AppResult};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Runs `$body` with `$conn` rebound to the concrete connection of whichever backend is in use.
#[macro_export]
macro_rules! db_run {
    ($conn:ident => $body:expr) => {
        match $conn {
            $crate::store::DbConn::Sqlite(c) => {
                let $conn: &mut ::diesel::SqliteConnection = &mut **c;
                $body
            }
            $crate::store::DbConn::Postgres(c) => {
                let $conn: &mut ::diesel::PgConnection = &mut **c;
                $body
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Settings of every SQLite connection. `busy_timeout` comes first so that every later
/// statement, the switch to WAL included, waits for a lock another connection holds instead
/// of failing at once with "database is locked". WAL lets readers proceed during a write;
/// synchronous=FULL makes an answered write survive a power loss.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

/// `connect_timeout` (seconds) added to a PostgreSQL URL that sets none.
const POSTGRES_CONNECT_TIMEOUT_SECS: u32 = 5;

/// Applies `SQLITE_PRAGMAS` to every connection the pool opens.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(SQLITE_PRAGMAS)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// One SQLite connection with the service's settings. Opened alone before the pool exists, it
/// also switches a new file to WAL (a persistent setting) without racing other connections.
fn establish_sqlite(path: &str) -> anyhow::Result<SqliteConnection> {
    let mut conn = SqliteConnection::establish(path)
        .map_err(|e| anyhow::anyhow!("impossible d'ouvrir la base SQLite {path} : {e}"))?;
    conn.batch_execute(SQLITE_PRAGMAS)
        .map_err(|e| anyhow::anyhow!("impossible de régler la base SQLite {path} : {e}"))?;
    Ok(conn)
}

/// One PostgreSQL connection, bounded in time, whose failure is one line naming the server and
/// the cause (never the password): r2d2 would instead retry for its whole connection timeout
/// and log each attempt.
fn establish_postgres(url: &str) -> anyhow::Result<PgConnection> {
    let uri = PostgresUri::parse(url);
    PgConnection::establish(&uri.with_connect_timeout(POSTGRES_CONNECT_TIMEOUT_SECS)).map_err(|e| {
        // libpq's messages span several lines (a cause, then a hint), and repeat the cause
        // when it tried more than once (with then without TLS under sslmode=prefer).
        let text = e.to_string();
        let mut lines: Vec<&str> = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        let cause = lines.join(" ");
        anyhow::anyhow!(
            "connexion à PostgreSQL impossible sur {} : {}",
            uri.target(),
            uri.redact(&cause)
        )
    })
}

/// Applies the pending migrations in order; returns their names (folder names, which say
/// more than the bare versions `run_pending_migrations` returns).
fn run_pending<DB, C>(conn: &mut C, source: EmbeddedMigrations) -> anyhow::Result<Vec<String>>
where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let pending = conn
        .pending_migrations(source)
        .map_err(|e| anyhow::anyhow!("lecture des migrations appliquées impossible : {e}"))?;
    let mut applied = Vec::with_capacity(pending.len());
    for migration in &pending {
        let name = migration.name().to_string();
        conn.run_migration(migration.as_ref())
            .map_err(|e| anyhow::anyhow!("échec de la migration {name} : {e}"))?;
        applied.push(name);
    }
    Ok(applied)
}

fn run_sqlite_migrations(conn: &mut SqliteConnection) -> anyhow::Result<Vec<String>> {
    run_pending(conn, SQLITE_MIGRATIONS)
}

fn run_postgres_migrations(conn: &mut PgConnection) -> anyhow::Result<Vec<String>> {
    // Several instances may start together on one database: one migrates at a time.
    conn.batch_execute("SELECT pg_advisory_lock(7270142)")?;
    let applied = run_pending(conn, POSTGRES_MIGRATIONS);
    conn.batch_execute("SELECT pg_advisory_unlock(7270142)")?;
    applied
}

/// A pool of connections to one database, and for SQLite the group-commit writer.
#[derive(Clone)]
pub struct Db {
    pools: Pools,
    writer: Option<std::sync::Arc<writer::GroupWriter>>,
    /// Grows after every successful `write`: what this process read before may have changed
    /// (the feeds' version cache keys on it).
    writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[derive(Clone)]
enum Pools {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Postgres(Pool<pg_pool::PgManager>),
}

pub enum DbConn {
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    Postgres(PooledConnection<pg_pool::PgManager>),
}

/// How a process holds its database: the SQLite WAL's bound (see `writer::WalBound`) and the
/// number of PostgreSQL connections it keeps open (each process of a deployment holds that
/// many of the server's `max_connections`, 100 by default).
#[derive(Debug, Clone, Copy)]
pub struct Pooling {
    pub sqlite_wal_limit_bytes: u64,
    pub postgres_pool_size: u32,
}

impl Pooling {
    pub const DEFAULT_POSTGRES_POOL_SIZE: u32 = 16;
}

impl Default for Pooling {
    fn default() -> Self {
        Pooling {
            sqlite_wal_limit_bytes: writer::WalBound::DEFAULT_LIMIT_BYTES,
            postgres_pool_size: Self::DEFAULT_POSTGRES_POOL_SIZE,
        }
    }
}

impl Db {
    /// Applies pending migrations (see `migrate_database`), then opens the pool.
    pub fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        Self::connect_with(url, Pooling::default())
    }

    /// `connect` with a SQLite WAL bound and a PostgreSQL pool size of the configuration.
    pub fn connect_with(url: &DatabaseUrl, pooling: Pooling) -> anyhow::Result<Self> {
        let applied = Self::migrate_database(url)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "migrations appliquées");
        }
        Self::open_pool(url, pooling)
    }

    /// Prepares the database on one connection of its own, before any pool exists, and applies
    /// pending migrations; returns the names of those applied. On SQLite it switches a new
    /// file to WAL; on PostgreSQL a server that cannot be reached or refuses the credentials
    /// fails here within seconds, with one message.
    pub fn migrate_database(url: &DatabaseUrl) -> anyhow::Result<Vec<String>> {
        match url {
            DatabaseUrl::Sqlite(path) => run_sqlite_migrations(&mut establish_sqlite(path)?),
            DatabaseUrl::Postgres(url) => run_postgres_migrations(&mut establish_postgres(url)?),
        }
    }

    /// The pool, and on SQLite the group-commit writer, on a database `migrate_database` has
    /// just prepared.
    fn open_pool(url: &DatabaseUrl, pooling: Pooling) -> anyhow::Result<Self> {
        let wal_limit_bytes = pooling.sqlite_wal_limit_bytes;
        let pools = match url {
            DatabaseUrl::Sqlite(path) => {
                let manager = ConnectionManager::<SqliteConnection>::new(path);
                let pool = Pool::builder()
                    .max_size(10)
                    .connection_timeout(Duration::from_secs(30))
                    // A connection to a local file does not go stale: no `SELECT 1` before
                    // each use (PostgreSQL checks those that may be stale: `pg_pool`).
                    .test_on_check_out(false)
                    .connection_customizer(Box::new(SqlitePragmas))
                    .build(manager)?;
                Pools::Sqlite(pool)
            }
            DatabaseUrl::Postgres(url) => {
                // `migrate_database` has just reached the server (or failed clearly, within
                // seconds), so the pool's first connections open at once. They are opened
                // before `connect` returns, not in the background: a short command (`user
                // add`) would otherwise exit while libpq still sets up connections on the
                // pool's threads, and libpq's Kerberos layer aborts the process at exit.
                let uri = PostgresUri::parse(url);
                let manager = pg_pool::PgManager::new(
                    uri.with_connect_timeout(POSTGRES_CONNECT_TIMEOUT_SECS),
                );
                let pool = Pool::builder()
                    .max_size(pooling.postgres_pool_size)
                    .connection_timeout(Duration::from_secs(30))
                    .build(manager)?;
                Pools::Postgres(pool)
            }
        };
        let mut db = Db {
            pools,
            writer: None,
            writes: Default::default(),
        };
        let folded = db
            .get()
            .and_then(|mut c| search_keys::backfill(&mut c))
            .map_err(|e| anyhow::anyhow!("clés de recherche : {e}"))?;
        if folded > 0 {
            tracing::info!(rows = folded, "clés de recherche remplies");
        }
        if let Pools::Sqlite(_) = db.pools {
            db.get()
                .and_then(|mut c| c.refresh_statistics())
                .map_err(|e| anyhow::anyhow!("statistiques SQLite : {e}"))?;
            let conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
            let checkpointer = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
            let DatabaseUrl::Sqlite(path) = url else {
                unreachable!("SQLite pools come from SQLite URLs")
            };
            db.writer = Some(std::sync::Arc::new(writer::GroupWriter::start(
                conn,
                checkpointer,
                writer::WalBound::of_database(path, wal_limit_bytes),
            )?));
        }
        Ok(db)
    }

    /// Ends this process's background checkpoints (SQLite), for a process that mostly reads
    /// while another one writes and keeps the WAL bounded: the benchmark's load generator
    /// beside the server it measures. Its checkpoint thread would otherwise copy the same WAL
    /// as the server's, every 20 ms under load, holding SQLite's checkpoint lock while the
    /// server's own copy or restart waits for it. Writes still work; such a process empties
    /// the WAL itself once it is done (`DbConn::truncate_wal`).
    pub fn leave_checkpoints_to_others(&self) {
        if let Some(writer) = &self.writer {
            writer.stop_checkpoints();
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite(_) => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn get(&self) -> AppResult<DbConn> {
        Ok(match &self.pools {
            Pools::Sqlite(p) => DbConn::Sqlite(p.get()?),
            Pools::Postgres(p) => DbConn::Postgres(p.get()?),
        })
    }

    /// Runs reads (or a write that opens its own transaction with `DbConn::write`) off the
    /// async workers, on a pooled connection, keeping the caller's tracing span.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let db = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::internal(format!("database task failed: {e}")))?
    }

    /// Runs a write that must be checked and applied atomically (bookings). On SQLite it joins
    /// the group commit; on PostgreSQL it runs in its own transaction on the pool (PostgreSQL
    /// groups concurrent commits itself), retried when the server aborts it for a deadlock or
    /// a serialisation failure. `f` may therefore run more than once: it must only touch the
    /// database.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let out = self.write_once(f).await;
        if out.is_ok() {
            self.writes
                .fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        out
    }

    /// How many `write`s this process has committed.
    pub fn writes(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn write_once<T, F>(&self, mut f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        if let Some(writer) = &self.writer {
            let job: writer::Job = Box::new(move |c: &mut DbConn| {
                f(c).map(|v| Box::new(v) as Box<dyn std::any::Any + Send>)
            });
            let out = writer.submit(job).await?;
            return out
                .downcast::<T>()
                .map(|b| *b)
                .map_err(|_| AppError::internal("writer returned another type"));
        }
        self.run(move |conn| {
            let mut attempt = 0;
            loop {
                attempt += 1;
                match conn.write(&mut f) {
                    Err(AppError::Internal(e)) if attempt < 4 && is_retryable(&e) => {
                        tracing::info!(attempt, "retrying a write after {e}");
                    }
                    other => return other,
                }
            }
        })
        .await
    }
}

fn is_retryable(e: &anyhow::Error) -> bool {
    let text = e.to_string();
    text.contains("deadlock detected") || text.contains("could not serialize")
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Sqlite(_) => Backend::Sqlite,
            DbConn::Postgres(_) => Backend::Postgres,
        }
    }

    /// One write transaction. On SQLite it takes the write lock at BEGIN (`BEGIN IMMEDIATE`),
    /// so a check made inside cannot be invalidated by another writer before commit; on
    /// PostgreSQL callers lock the rows they decide on (`FOR UPDATE`).
    pub fn write<T>(&mut self, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
        match self {
            DbConn::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(&mut **c, "BEGIN IMMEDIATE")?
            }
            DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(&mut ***c)?,
        }
        let result = f(self);
        let end = match (&result, &mut *self) {
            (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(&mut **c),
            (Ok(_), DbConn::Postgres(c)) => AnsiTransactionManager::commit_transaction(&mut ***c),
            (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(&mut **c),
            (Err(_), DbConn::Postgres(c)) => {
                AnsiTransactionManager::rollback_transaction(&mut ***c)
            }
        };
        match (result, end) {
            (Ok(v), Ok(())) => Ok(v),
            (Ok(_), Err(e)) => Err(e.into()),
            (Err(e), Err(rollback)) => {
                tracing::warn!(error = %rollback, "rollback failed");
                Err(e)
            }
            (Err(e), Ok(())) => Err(e),
        }
    }

    /// Keeps the query planner's statistics current. SQLite gathers none by itself: without
    /// them it may walk the `(status, start_at)` index (every active booking) to find one
    /// employee's week instead of the `(resource_id, block_start_at)` one. `PRAGMA optimize`
    /// analyses, with a bounded sample, the tables whose indexes have no statistics yet or
    /// whose size changed a lot since, and does nothing otherwise (about a millisecond).
    /// PostgreSQL's autovacuum does the same by itself.
    pub fn refresh_statistics(&mut self) -> AppResult<()> {
        if let DbConn::Sqlite(c) = self {
            c.batch_execute("PRAGMA optimize = 0x10002")?;
        }
        Ok(())
    }

    /// SQLite: copies the WAL into the database and empties the file (a TRUNCATE checkpoint),
    /// for a process that wrote in bulk and stops before the service's idle checkpointer would
    /// (the benchmark's clean-up). Nothing on PostgreSQL.
    /// Another checkpoint in progress (the service's own checkpointer) or readers still on the
    /// WAL make SQLite give up at once, so it is tried again for up to five seconds.
    pub fn truncate_wal(&mut self) -> AppResult<()> {
        if let DbConn::Sqlite(c) = self {
            let done = writer::checkpoint_quickly(
                c,
                writer::CheckpointMode::Truncate,
                Duration::from_secs(5),
            )?;
            if !done.completed() {
                tracing::warn!("the WAL could not be truncated: checkpoints kept colliding");
            }
        }
        Ok(())
    }

    /// The database's size on disk, in bytes (SQLite: the main file's pages, without the
    /// WAL; PostgreSQL: `pg_database_size`).
    pub fn size_bytes(&mut self) -> AppResult<i64> {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Size {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            bytes: i64,
        }
        let rows: Vec<Size> = match self {
            DbConn::Sqlite(c) => diesel::sql_query(
                "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
            )
            .load(&mut **c)?,
            DbConn::Postgres(c) => {
                diesel::sql_query("SELECT pg_database_size(current_database()) AS bytes")
                    .load(&mut ***c)?
            }
        };
        Ok(rows.first().map(|r| r.bytes).unwrap_or(0))
    }

    /// Checks the database answers (used by `/healthz`).
    pub fn ping(&mut self) -> AppResult<()> {
        let conn = self;
        db_run!(conn => conn.batch_execute("SELECT 1"))?;
        Ok(())
    }
}

/// Database errors as the app sees them. Constraint names and SQL messages stay in the logs:
/// they say nothing useful to a user and describe the schema to an attacker.
impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(kind, info) => {
                let constraint = info.constraint_name().unwrap_or("").to_string();
                match kind {
                    DatabaseErrorKind::UniqueViolation => {
                        tracing::debug!(constraint, "unique violation");
                        AppError::Conflict {
                            code: "already_exists",
                            detail: "Cet élément existe déjà.".into(),
                        }
                    }
                    DatabaseErrorKind::ForeignKeyViolation => {
                        tracing::debug!(constraint, "foreign key violation");
                        AppError::Conflict {
                            code: "referenced",
                            detail: "Cet élément est lié à d'autres données.".into(),
                        }
                    }
                    _ if constraint == "bookings_no_overlap"
                        || info.message().contains("bookings_no_overlap") =>
                    {
                        AppError::Conflict {
                            code: "conflict",
                            detail: "Ce créneau vient d'être pris.".into(),
                        }
                    }
                    // The server went away (restarted, connection cut): the service is
                    // momentarily unavailable, the request did not fail on its own.
                    DatabaseErrorKind::ClosedConnection
                    | DatabaseErrorKind::UnableToSendCommand => {
                        pg_pool::note_lost();
                        AppError::Unavailable(format!(
                            "database connection lost: {}",
                            info.message()
                        ))
                    }
                    _ if lost_connection(info.message()) => {
                        pg_pool::note_lost();
                        AppError::Unavailable(format!(
                            "database connection lost: {}",
                            info.message()
                        ))
                    }
                    other => AppError::Internal(anyhow::anyhow!(
                        "database error {other:?}: {} ({constraint})",
                        info.message()
                    )),
                }
            }
            other => AppError::Internal(other.into()),
        }
    }
}

/// PostgreSQL's words for a connection it is closing or has lost (an administrator's
/// termination, a shutdown, a restart).
fn lost_connection(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "terminating connection",
        "server closed the connection",
        "connection to server",
        "no connection to the server",
        "the database system is shutting down",
        "the database system is starting up",
    ]
    .iter()
    .any(|w| m.contains(w))
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(format!("database pool: {e}"))
    }
}

/// Instants are stored as UTC timestamps without zone, the one type both backends share.
pub fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Real storage for the crate's own tests: a migrated SQLite database in a temporary
/// directory (kept while the directory lives), and setup SQL run on one of its connections.
#[cfg(test)]
pub(crate) mod scratch {
    use super::{Db, DbConn};
    use crate::config::DatabaseUrl;
    use diesel::connection::SimpleConnection;

    pub(crate) fn database() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scratch.db").to_str().unwrap().to_string();
        let db = Db::connect(&DatabaseUrl::Sqlite(path)).unwrap();
        (dir, db)
    }

    pub(crate) fn sql(conn: &mut DbConn, statements: &str) {
        crate::db_run!(conn => conn.batch_execute(statements)).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error};

    struct Info;
    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            "duplicate key value violates unique constraint \"members_name_key\""
        }
        fn details(&self) -> Option<&str> {
            Some("Key (name)=(Coop) already exists.")
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            Some("members")
        }
        fn column_name(&self) -> Option<&str> {
            Some("name")
        }
        fn constraint_name(&self) -> Option<&str> {
            Some("members_name_key")
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    struct Lost(&'static str);
    impl DatabaseErrorInformation for Lost {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    #[test]
    fn a_lost_connection_is_unavailable_not_internal() {
        let cases = [
            (
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection unexpectedly",
            ),
            (
                DatabaseErrorKind::UnableToSendCommand,
                "no connection to the server",
            ),
            (
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
        ];
        for (kind, message) in cases {
            let e = AppError::from(Error::DatabaseError(kind, Box::new(Lost(message))));
            assert_eq!(e.code(), "unavailable", "{message}");
        }
        let e = AppError::from(Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new(Lost("division by zero")),
        ));
        assert_eq!(e.code(), "internal");
    }

    #[test]
    fn constraint_names_never_reach_the_client() {
        for kind in [
            DatabaseErrorKind::UniqueViolation,
            DatabaseErrorKind::ForeignKeyViolation,
            DatabaseErrorKind::CheckViolation,
        ] {
            let e = AppError::from(Error::DatabaseError(kind, Box::new(Info)));
            let shown = format!("{} {}", e.code(), e.detail());
            assert!(!shown.contains("members_name_key"), "{shown}");
            assert!(!shown.contains("Coop"), "{shown}");
        }
    }
}
