//! Group commit for SQLite: one writer thread takes the booking writes that arrive together
//! and commits them in one transaction, each inside its own savepoint.
//!
//! SQLite serialises writers anyway, and with `synchronous=FULL` every commit waits for the
//! disk; committing a batch once turns N fsyncs into one while keeping each request's
//! outcome independent (a refused request rolls back to its savepoint only). Answers are sent
//! only after the commit has returned, so a 201 is never answered before it is durable.

use std::any::Any;
use std::sync::mpsc;

use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::DbConn;
use crate::error::{AppError, AppResult};

type Output = Box<dyn Any + Send>;
pub type Job = Box<dyn FnMut(&mut DbConn) -> AppResult<Output> + Send>;

struct Envelope {
    job: Job,
    reply: tokio::sync::oneshot::Sender<AppResult<Output>>,
}

pub struct GroupWriter {
    tx: mpsc::SyncSender<Envelope>,
    /// Tells the checkpoint thread to stop when the writer goes (tests open many databases).
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for GroupWriter {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// How many requests one transaction may carry.
pub const MAX_BATCH: usize = 128;

impl GroupWriter {
    /// Starts the writer on `conn`, with `checkpointer` copying the WAL back into the database
    /// in the background: the writer's commits then never pause for a routine checkpoint (the
    /// stalls that made the slowest answers slow), while `wal` keeps the WAL file bounded.
    pub fn start(mut conn: DbConn, checkpointer: DbConn, wal: WalBound) -> std::io::Result<Self> {
        if let Some(c) = sqlite(&mut conn) {
            // The writer is the connection that starts the WAL over, so it is the one that
            // truncates the file to `journal_size_limit` when it does.
            //
            // `temp_store = MEMORY` keeps each request's savepoint journal (the pages as they
            // were before the request, to roll back to) in memory: by default SQLite spills it
            // past 64 KiB to a temporary file, created, written and deleted for most requests,
            // which was a fifth of the writer's time. One request's journal is a few dozen
            // pages, dropped when its savepoint is released.
            let pragmas = format!(
                "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {}; PRAGMA temp_store = MEMORY",
                wal.journal_size_limit()
            );
            if let Err(e) = diesel::connection::SimpleConnection::batch_execute(c, &pragmas) {
                tracing::warn!(error = %e, "could not set the writer's pragmas");
            }
        }
        let bound = wal.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("mutualise-checkpoint".into())
            .spawn(move || Checkpointer::new(checkpointer, wal).run(&stopped))?;
        let (tx, rx) = mpsc::sync_channel::<Envelope>(8 * MAX_BATCH);
        std::thread::Builder::new()
            .name("mutualise-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    run_batch(&mut conn, batch);
                    bound.restart_if_past(&mut conn);
                }
            })?;
        Ok(Self { tx, stop })
    }

    pub async fn submit(&self, job: Job) -> AppResult<Output> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        // Straight into the queue when it has room (no thread hop); when it is full, wait for
        // room on a blocking thread, never on an async worker.
        match self.tx.try_send(Envelope { job, reply }) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(envelope)) => {
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || tx.send(envelope))
                    .await
                    .map_err(|e| AppError::internal(format!("writer queue: {e}")))?
                    .map_err(|_| AppError::Unavailable("writer stopped".into()))?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                return Err(AppError::Unavailable("writer stopped".into()));
            }
        }
        answer
            .await
            .map_err(|_| AppError::Unavailable("writer dropped the request".into()))?
    }
}

/// How large the WAL may grow. SQLite only starts the WAL file over when a checkpoint has
/// copied all of it back *and* no reader still uses it; under sustained writes the passive
/// checkpoints never catch up, so the file grew without end (694 MB after 74 000 bookings).
#[derive(Debug, Clone)]
pub struct WalBound {
    /// The `-wal` file next to the database.
    pub path: std::path::PathBuf,
    /// Held while checkpointing: SQLite refuses a second checkpoint at once (SQLITE_BUSY,
    /// without waiting), so the writer's RESTART would silently fail whenever the background
    /// PASSIVE one was running; they take turns instead.
    turn: std::sync::Arc<std::sync::Mutex<()>>,
    /// Past half of it, a RESTART checkpoint makes the next write start the file over; SQLite
    /// then truncates it to a quarter (`journal_size_limit`). Idle, the file is truncated to
    /// nothing.
    pub limit_bytes: u64,
}

impl WalBound {
    pub const DEFAULT_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

    pub fn of_database(database: &str, limit_bytes: u64) -> Self {
        Self {
            path: std::path::PathBuf::from(format!("{database}-wal")),
            turn: Default::default(),
            limit_bytes,
        }
    }

    /// Size above which the WAL is started over even though writes keep coming.
    fn restart_at(&self) -> u64 {
        self.limit_bytes / 2
    }

    /// What SQLite truncates the file to when it starts it over.
    pub fn journal_size_limit(&self) -> u64 {
        self.limit_bytes / 4
    }

    /// Run by the writer between two batches: past half the bound, a RESTART checkpoint
    /// (waiting for readers, not competing with the writer for its lock, which a background
    /// thread loses again and again under load), so that the next batch starts the file over.
    fn restart_if_past(&self, conn: &mut DbConn) {
        let size = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if size < self.restart_at() {
            return;
        }
        let asked = std::time::Instant::now();
        let _turn = self.turn.lock().unwrap_or_else(|p| p.into_inner());
        let waited = asked.elapsed();
        if let Some(c) = sqlite(conn) {
            if let Err(e) = diesel::connection::SimpleConnection::batch_execute(
                c,
                "PRAGMA wal_checkpoint(RESTART)",
            ) {
                tracing::warn!(error = %e, "restart checkpoint failed");
            }
            // The writer waits this long: the checkpoint's share of the slowest answers.
            tracing::debug!(
                wal_bytes = size,
                turn_us = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX),
                total_us = u64::try_from(asked.elapsed().as_micros()).unwrap_or(u64::MAX),
                "WAL past half its bound: restart checkpoint"
            );
        }
    }
}

/// What the checkpoint thread does on each tick, decided from the WAL's size and whether
/// anything was committed since the last tick (pure, so the policy is tested apart from
/// SQLite).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointMode {
    /// Copy what can be copied without waiting for anyone.
    Passive,
    /// Wait for readers, copy everything, and have the next write start the file over.
    Restart,
    /// Idle: copy everything and truncate the file to zero bytes.
    Truncate,
}

pub fn checkpoint_mode(bound: &WalBound, size: u64, written: bool) -> CheckpointMode {
    if size >= bound.restart_at() {
        CheckpointMode::Restart
    } else if size > 0 && !written {
        CheckpointMode::Truncate
    } else {
        CheckpointMode::Passive
    }
}

struct Checkpointer {
    conn: DbConn,
    wal: WalBound,
    /// `PRAGMA data_version` at the last tick: it changes whenever another connection (of
    /// this process or another) commits.
    data_version: Option<i64>,
}

impl Checkpointer {
    const TICK: std::time::Duration = std::time::Duration::from_millis(250);

    fn new(mut conn: DbConn, wal: WalBound) -> Self {
        if let Some(c) = sqlite(&mut conn) {
            let pragma = format!("PRAGMA journal_size_limit = {}", wal.journal_size_limit());
            if let Err(e) = diesel::connection::SimpleConnection::batch_execute(c, &pragma) {
                tracing::warn!(error = %e, "could not set journal_size_limit");
            }
        }
        Self {
            conn,
            wal,
            data_version: None,
        }
    }

    fn run(mut self, stopped: &std::sync::atomic::AtomicBool) {
        loop {
            std::thread::sleep(Self::TICK);
            if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            self.tick();
        }
    }

    fn tick(&mut self) {
        let Some(c) = sqlite(&mut self.conn) else {
            return;
        };
        let version = data_version(c);
        let written = version.is_none() || version != self.data_version;
        self.data_version = version;
        let size = std::fs::metadata(&self.wal.path).map_or(0, |m| m.len());
        let mode = checkpoint_mode(&self.wal, size, written);
        let sql = match mode {
            CheckpointMode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            CheckpointMode::Restart => "PRAGMA wal_checkpoint(RESTART)",
            CheckpointMode::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
        };
        // RESTART and TRUNCATE wait for the writer and the readers (the busy timeout); when
        // they give up the WAL is simply checkpointed again on the next tick.
        let _turn = self.wal.turn.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = diesel::connection::SimpleConnection::batch_execute(c, sql) {
            tracing::warn!(error = %e, ?mode, "checkpoint failed");
        }
    }
}

fn data_version(c: &mut diesel::SqliteConnection) -> Option<i64> {
    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        data_version: i64,
    }
    use diesel::RunQueryDsl;
    diesel::sql_query("PRAGMA data_version")
        .get_result::<Version>(c)
        .ok()
        .map(|v| v.data_version)
}

fn sqlite(conn: &mut DbConn) -> Option<&mut diesel::SqliteConnection> {
    match conn {
        DbConn::Sqlite(c) => Some(&mut **c),
        DbConn::Postgres(_) => None,
    }
}

fn run_batch(conn: &mut DbConn, mut batch: Vec<Envelope>) {
    let Some(c) = sqlite(conn) else {
        for e in batch {
            let _ = e
                .reply
                .send(Err(AppError::internal("group writer needs SQLite")));
        }
        return;
    };
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE") {
        let msg = e.to_string();
        for env in batch {
            let _ = env
                .reply
                .send(Err(AppError::Unavailable(format!("begin: {msg}"))));
        }
        return;
    }
    let mut results: Vec<AppResult<Output>> = Vec::with_capacity(batch.len());
    let mut broken = None;
    for env in batch.iter_mut() {
        match savepoint(conn, &mut env.job) {
            Step::Done(result) => results.push(result),
            Step::Broken(e) => {
                // SQLite may have rolled the whole transaction back (disk full, I/O error):
                // nothing of this batch can be trusted, so nothing is committed or answered
                // as done.
                broken = Some(e);
                break;
            }
        }
    }
    let committed = match (&broken, sqlite(conn)) {
        (None, Some(c)) => AnsiTransactionManager::commit_transaction(c).map_err(|e| e.to_string()),
        (Some(e), _) => Err(e.clone()),
        (None, None) => Ok(()),
    };
    match committed {
        Ok(()) => {
            for (env, result) in batch.into_iter().zip(results) {
                let _ = env.reply.send(result);
            }
        }
        Err(e) => {
            if let Some(c) = sqlite(conn) {
                let _ = AnsiTransactionManager::rollback_transaction(c);
            }
            tracing::error!(error = %e, "group commit failed");
            for env in batch {
                let _ = env.reply.send(Err(AppError::Unavailable(
                    "la base n'a pas pu enregistrer".into(),
                )));
            }
        }
    }
}

enum Step {
    Done(AppResult<Output>),
    Broken(String),
}

/// Runs one job inside a savepoint: its writes stay if it succeeds, vanish if it fails or
/// panics (a panic is answered as an internal error and the writer carries on).
fn savepoint(conn: &mut DbConn, job: &mut Job) -> Step {
    if let Some(c) = sqlite(conn) {
        if let Err(e) = AnsiTransactionManager::begin_transaction(c) {
            return Step::Broken(format!("savepoint: {e}"));
        }
    }
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn))) {
        Ok(r) => r,
        Err(_) => Err(AppError::internal("a write panicked; it was rolled back")),
    };
    if let Some(c) = sqlite(conn) {
        let end = if result.is_ok() {
            AnsiTransactionManager::commit_transaction(c)
        } else {
            AnsiTransactionManager::rollback_transaction(c)
        };
        if let Err(e) = end {
            return Step::Broken(format!("savepoint end: {e}"));
        }
    }
    Step::Done(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound() -> WalBound {
        WalBound::of_database("x.db", 64 * 1024 * 1024)
    }

    #[test]
    fn restart_from_half_the_bound() {
        let half = 32 * 1024 * 1024;
        assert_eq!(
            checkpoint_mode(&bound(), half - 1, true),
            CheckpointMode::Passive
        );
        assert_eq!(
            checkpoint_mode(&bound(), half, true),
            CheckpointMode::Restart
        );
        // Past the bound with nothing new: restart too (it waits for the readers).
        assert_eq!(
            checkpoint_mode(&bound(), half, false),
            CheckpointMode::Restart
        );
    }

    #[test]
    fn truncate_once_idle_and_never_an_empty_file() {
        assert_eq!(
            checkpoint_mode(&bound(), 4096, false),
            CheckpointMode::Truncate
        );
        assert_eq!(
            checkpoint_mode(&bound(), 4096, true),
            CheckpointMode::Passive
        );
        assert_eq!(checkpoint_mode(&bound(), 0, false), CheckpointMode::Passive);
    }

    #[test]
    fn sqlite_starts_the_file_over_at_a_quarter() {
        assert_eq!(bound().journal_size_limit(), 16 * 1024 * 1024);
        assert_eq!(bound().path, std::path::PathBuf::from("x.db-wal"));
    }
}
