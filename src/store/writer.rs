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
    /// in the background: the writer's commits then never pause for a checkpoint (the stalls
    /// that made the slowest answers slow), while the WAL stays bounded.
    pub fn start(mut conn: DbConn, mut checkpointer: DbConn) -> std::io::Result<Self> {
        if let Some(c) = sqlite(&mut conn) {
            if let Err(e) = diesel::connection::SimpleConnection::batch_execute(
                c,
                "PRAGMA wal_autocheckpoint = 0",
            ) {
                tracing::warn!(error = %e, "could not move checkpoints off the writer");
            }
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("mutualise-checkpoint".into())
            .spawn(move || loop {
                std::thread::sleep(std::time::Duration::from_millis(500));
                if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                if let Some(c) = sqlite(&mut checkpointer) {
                    // PASSIVE never blocks the writer or the readers; it copies what it can.
                    if let Err(e) = diesel::connection::SimpleConnection::batch_execute(
                        c,
                        "PRAGMA wal_checkpoint(PASSIVE)",
                    ) {
                        tracing::warn!(error = %e, "checkpoint failed");
                    }
                }
            })?;
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
