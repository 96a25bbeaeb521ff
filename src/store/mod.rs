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

pub mod auth;
pub mod bookings;
pub mod closures;
pub mod idempotency;
pub mod members;
pub mod months;
pub mod quotas;
pub mod resources;
pub mod schema;
pub mod types;
pub mod users;
pub mod writer;

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;
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

/// Durability and integrity settings applied to every SQLite connection the pool opens.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // WAL lets readers proceed during a write; synchronous=FULL makes an answered write
        // survive a power loss; busy_timeout makes writers queue instead of failing.
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A pool of connections to one database, and for SQLite the group-commit writer.
#[derive(Clone)]
pub struct Db {
    pools: Pools,
    writer: Option<std::sync::Arc<writer::GroupWriter>>,
}

#[derive(Clone)]
enum Pools {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

pub enum DbConn {
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    Postgres(PooledConnection<ConnectionManager<PgConnection>>),
}

impl Db {
    /// Opens the pool and applies pending migrations.
    pub fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        let db = match url {
            DatabaseUrl::Sqlite(path) => {
                let manager = ConnectionManager::<SqliteConnection>::new(path);
                let pool = Pool::builder()
                    .max_size(10)
                    .min_idle(Some(2))
                    .connection_timeout(Duration::from_secs(30))
                    // A connection to a local file does not go stale: no `SELECT 1` before
                    // each use (PostgreSQL keeps the check, a server restart breaks sockets).
                    .test_on_check_out(false)
                    .connection_customizer(Box::new(SqlitePragmas))
                    .build(manager)?;
                Pools::Sqlite(pool)
            }
            DatabaseUrl::Postgres(url) => {
                let manager = ConnectionManager::<PgConnection>::new(url);
                let pool = Pool::builder()
                    .max_size(16)
                    .connection_timeout(Duration::from_secs(30))
                    .build(manager)?;
                Pools::Postgres(pool)
            }
        };
        let mut db = Db {
            pools: db,
            writer: None,
        };
        db.migrate()?;
        if let Pools::Sqlite(_) = db.pools {
            let conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
            let checkpointer = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
            db.writer = Some(std::sync::Arc::new(writer::GroupWriter::start(
                conn,
                checkpointer,
            )?));
        }
        Ok(db)
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

    /// Applies pending migrations; returns the names of those applied.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.get().map_err(|e| anyhow::anyhow!("{e}"))?;
        match &mut conn {
            DbConn::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}")),
            DbConn::Postgres(c) => {
                // Several instances may start together on one database: one migrates at a time.
                c.batch_execute("SELECT pg_advisory_lock(7270142)")?;
                let applied: anyhow::Result<Vec<String>> = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.iter().map(|m| m.to_string()).collect())
                    .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
                c.batch_execute("SELECT pg_advisory_unlock(7270142)")?;
                applied
            }
        }
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
    pub async fn write<T, F>(&self, mut f: F) -> AppResult<T>
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
            DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(&mut **c)?,
        }
        let result = f(self);
        let end = match (&result, &mut *self) {
            (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(&mut **c),
            (Ok(_), DbConn::Postgres(c)) => AnsiTransactionManager::commit_transaction(&mut **c),
            (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(&mut **c),
            (Err(_), DbConn::Postgres(c)) => AnsiTransactionManager::rollback_transaction(&mut **c),
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
