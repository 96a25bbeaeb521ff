//! Background work while serving, in one place: every minute, requests undecided at their
//! start are rejected, reminders that have come due are queued, expired sessions, forgotten
//! sign-in throttle counters, security events older than a year, old idempotency keys and old
//! sent mails are purged; every hour the query
//! planner's statistics are refreshed. Every instance may run the jobs: each step is
//! idempotent. The mail worker (`outbox::spawn_worker`) runs beside them when a mail server
//! is configured.

use std::time::Duration;

use chrono::Duration as Age;

use super::{auth, bookings, notify, outbox, App};
use crate::store::{idempotency, to_db};

/// How long a client may retry a request with the same idempotency key.
const IDEMPOTENCY_DAYS: i64 = 7;

/// One round of every job; returns how many rows each changed.
pub async fn run_once(
    app: &App,
) -> (
    crate::error::AppResult<usize>,
    crate::error::AppResult<usize>,
) {
    let swept = bookings::sweep_overdue(app).await;
    let reminded = notify::queue_reminders(app).await;
    let now = app.now();
    let purged = app
        .db()
        .run(move |c| {
            c.write(|c| {
                let n = auth::purge_tx(c, now)? + outbox::purge_tx(c)?;
                Ok(n + idempotency::purge(c, to_db(now - Age::days(IDEMPOTENCY_DAYS)))?)
            })
        })
        .await;
    let swept = match (swept, reminded) {
        (Ok(a), Ok(b)) => Ok(a + b),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    (swept, purged)
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
