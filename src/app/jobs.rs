//! Background work while serving, in one place: every minute, requests undecided at their
//! start are rejected, reminders that have come due are queued, expired sessions, forgotten
//! sign-in throttle counters, security events older than a year, old idempotency keys and old
//! sent mails are purged; every hour the query
//! planner's statistics are refreshed. Every instance may run the jobs: each step is
//! idempotent. The mail worker (`outbox::spawn_worker`) runs beside them when a mail server
//! is configured.
//!
//! The purges of the tables that can pile up (sessions, security events, sent mails) delete
//! at most [`PURGE_BATCH`] rows each per transaction, round after round: a backlog (the service
//! stopped for weeks, a burst of sign-ins) goes in bounded steps that bookings interleave with,
//! not in one transaction that holds the writer and swells the WAL.

use std::time::Duration;

use chrono::Duration as Age;

use super::{auth, bookings, notify, outbox, App};
use crate::error::AppResult;
use crate::store::{idempotency, to_db};

/// How long a client may retry a request with the same idempotency key.
const IDEMPOTENCY_DAYS: i64 = 7;

/// Rows one bounded purge deletes per transaction.
pub const PURGE_BATCH: i64 = 2_000;

/// What a round of purges removed, and whether a bounded one was full (more may remain).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub rows: usize,
    pub more: bool,
}

impl Purged {
    /// A delete of at most `limit` rows that removed `rows`.
    pub fn bounded(rows: usize, limit: i64) -> Purged {
        Purged {
            rows,
            more: i64::try_from(rows).unwrap_or(i64::MAX) >= limit,
        }
    }

    /// A delete without a bound.
    pub fn all(rows: usize) -> Purged {
        Purged { rows, more: false }
    }

    pub fn and(self, other: Purged) -> Purged {
        Purged {
            rows: self.rows + other.rows,
            more: self.more || other.more,
        }
    }
}

/// One round of every job; returns how many rows each changed.
pub async fn run_once(app: &App) -> (AppResult<usize>, AppResult<usize>) {
    let swept = bookings::sweep_overdue(app).await;
    let reminded = notify::queue_reminders(app).await;
    let purged = purge(app, PURGE_BATCH).await;
    let swept = match (swept, reminded) {
        (Ok(a), Ok(b)) => Ok(a + b),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    (swept, purged)
}

/// Every purge, in transactions of at most `batch` rows per bounded purge, until nothing is
/// left to purge; returns the rows removed.
pub async fn purge(app: &App, batch: i64) -> AppResult<usize> {
    let now = app.now();
    let mut total = 0;
    loop {
        let round = app
            .db()
            .run(move |c| {
                c.write(|c| {
                    let mail = Purged::bounded(outbox::purge_tx(c, batch)?, batch);
                    let keys = idempotency::purge(c, to_db(now - Age::days(IDEMPOTENCY_DAYS)))?;
                    Ok(auth::purge_tx(c, now, batch)?
                        .and(mail)
                        .and(Purged::all(keys)))
                })
            })
            .await?;
        total += round.rows;
        if !round.more {
            return Ok(total);
        }
    }
}

/// Starts the jobs on the runtime; they run until the process ends.
pub fn spawn(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        let mut rounds: u64 = 0;
        loop {
            tick.tick().await;
            rounds += 1;
            if rounds % 60 == 0 {
                if let Err(e) = app.db().run(|c| c.refresh_statistics()).await {
                    e.log();
                }
            }
            match run_once(&app).await {
                (Ok(n), Ok(m)) if n + m > 0 => {
                    tracing::info!(rejected_or_reminded = n, purged = m, "maintenance")
                }
                (Err(e), _) | (_, Err(e)) => e.log(),
                _ => {}
            }
        }
    })
}
