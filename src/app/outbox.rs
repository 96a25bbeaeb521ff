//! Sending what `app::notify` queued: the outbox worker (claim, send, record, retry with
//! backoff, set aside after the last attempt), and what administrators see of the outbox.
//!
//! The worker speaks to the mail server through a `Courier` (the SMTP adapter in `mail`, set
//! up by `serve` when `SMTP_URL` is configured). Without one, messages stay queued and
//! readable on the administration page, and leave once a server is configured.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use super::authz::{self, Actor};
use super::App;
use crate::domain::notice::{retry_delay, Notice};
use crate::error::{AppError, AppResult};
use crate::store::outbox::{self as store, OutboxRow};
use crate::store::{from_db, to_db};

/// One message to send: the event key (its Message-ID), the address and what it tells.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub event_key: String,
    pub recipient: String,
    pub notice: Notice,
}

pub type Delivery<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Hands a message to a mail server; the error is what the server (or the network) said.
pub trait Courier: Send + Sync + 'static {
    fn deliver<'a>(&'a self, message: &'a Outgoing) -> Delivery<'a>;
}

/// How many messages one round claims.
const BATCH: i64 = 32;
/// How many of them are being sent at once.
const IN_FLIGHT: usize = 8;
/// How long a claim holds a message: longer than any send may take.
const LEASE: Duration = Duration::from_secs(300);
/// How often an idle worker looks for due messages.
const POLL: Duration = Duration::from_millis(500);
/// Sent messages are kept this long for the administration page.
pub const SENT_KEPT_DAYS: i64 = 90;

/// One round: claims due messages, sends them, records each outcome. Returns how many were
/// claimed.
pub async fn deliver_due(app: &App, courier: &Arc<dyn Courier>) -> AppResult<usize> {
    let now = Utc::now();
    let lease = to_db(now + chrono::Duration::from_std(LEASE).map_err(AppError::internal)?);
    // Claims and outcomes join the booking writes' group commit on SQLite (one sync for
    // both), and run as short transactions of their own on PostgreSQL.
    let rows = app
        .db()
        .write(move |c| store::claim(c, to_db(now), lease, BATCH))
        .await?;
    let claimed = rows.len();
    // A few sends at a time: enough to keep a mail server busy, little enough to leave the
    // processor to the requests being served.
    let mut outcomes = Vec::with_capacity(claimed);
    let mut rows = rows.into_iter();
    loop {
        let mut sends = tokio::task::JoinSet::new();
        for row in rows.by_ref().take(IN_FLIGHT) {
            let courier = courier.clone();
            sends.spawn(async move {
                let outcome = match outgoing(&row) {
                    Ok(m) => courier.deliver(&m).await,
                    Err(e) => Err(e),
                };
                (row, outcome)
            });
        }
        if sends.is_empty() {
            break;
        }
        while let Some(done) = sends.join_next().await {
            outcomes.push(done.map_err(AppError::internal)?);
        }
    }
    let max_attempts = app.config().mail_max_attempts;
    let base = Duration::from_secs(app.config().mail_retry_seconds);
    app.db()
        .write(move |c| {
            {
                let now = Utc::now();
                let sent: Vec<i64> = outcomes
                    .iter()
                    .filter(|(_, o)| o.is_ok())
                    .map(|(r, _)| r.id)
                    .collect();
                store::mark_sent(c, &sent, lease, to_db(now))?;
                for (row, outcome) in &outcomes {
                    match outcome {
                        Ok(()) => {}
                        Err(e) => {
                            let retry = (row.attempts < max_attempts).then(|| {
                                to_db(
                                    now + chrono::Duration::from_std(retry_delay(
                                        row.attempts,
                                        base,
                                    ))
                                    .unwrap_or(chrono::Duration::hours(6)),
                                )
                            });
                            if retry.is_none() {
                                tracing::warn!(id = row.id, to = %row.recipient, error = %e, "mail set aside after its last attempt");
                            } else {
                                tracing::info!(id = row.id, attempt = row.attempts, error = %e, "mail not sent, will retry");
                            }
                            store::mark_failed(c, row.id, lease, &truncate(e, 1000), retry)?;
                        }
                    }
                }
                Ok(())
            }
        })
        .await?;
    Ok(claimed)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn outgoing(row: &OutboxRow) -> Result<Outgoing, String> {
    let notice: Notice = serde_json::from_str(&row.payload)
        .map_err(|e| format!("message illisible par cette version : {e}"))?;
    Ok(Outgoing {
        id: row.id,
        event_key: row.event_key.clone(),
        recipient: row.recipient.clone(),
        notice,
    })
}

/// Starts the worker: rounds back to back while there is work, a poll when idle. Every
/// instance may run one: claims keep them from sending a message twice.
pub fn spawn_worker(app: App, courier: Arc<dyn Courier>) -> tokio::task::JoinHandle<()> {
    spawn_worker_until(app, courier, Arc::new(AtomicBool::new(false)))
}

/// The worker, stopping between two rounds once `stop` is set (a round in flight finishes and
/// records its outcomes).
pub fn spawn_worker_until(
    app: App,
    courier: Arc<dyn Courier>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            match deliver_due(&app, &courier).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => e.log(),
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

/// Forgets sent messages older than `SENT_KEPT_DAYS` (a job of `app::jobs`).
pub fn purge_tx(conn: &mut crate::store::DbConn, limit: i64) -> AppResult<usize> {
    store::purge_sent(
        conn,
        to_db(Utc::now() - chrono::Duration::days(SENT_KEPT_DAYS)),
        limit,
    )
}

/// A message as the administration page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: i64,
    pub to: String,
    pub kind: String,
    /// pending, sent or dead (set aside after its last attempt).
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub next_attempt_at: Option<chrono::DateTime<Utc>>,
    pub sent_at: Option<chrono::DateTime<Utc>>,
    #[serde(skip)]
    pub event_key: String,
    /// The facts the message tells (rendered by the mail adapter).
    #[serde(skip)]
    pub notice: Option<Notice>,
}

fn entry(row: OutboxRow) -> OutboxEntry {
    // A one-time secret (a password-reset link) is for its recipient only: the screens show
    // the message without it.
    let notice = serde_json::from_str::<Notice>(&row.payload)
        .ok()
        .map(|mut n| {
            if n.kind.is_secret() {
                n.link = "/password/reset/[lien masqué]".into();
            }
            n
        });
    OutboxEntry {
        id: row.id,
        to: row.recipient,
        kind: row.kind,
        next_attempt_at: (row.status == store::PENDING).then(|| from_db(row.next_attempt_at)),
        status: row.status,
        attempts: row.attempts,
        last_error: row.last_error,
        created_at: from_db(row.created_at),
        sent_at: row.sent_at.map(from_db),
        event_key: row.event_key,
        notice,
    }
}

/// The states a listing may be filtered by.
pub fn parse_status(raw: &str) -> AppResult<Option<&'static str>> {
    match raw.trim() {
        "" | "all" => Ok(None),
        "pending" => Ok(Some(store::PENDING)),
        "sent" => Ok(Some(store::SENT)),
        "dead" => Ok(Some(store::DEAD)),
        _ => Err(AppError::validation(
            "status",
            "État attendu : pending, sent ou dead.",
        )),
    }
}

/// Messages, newest first (administrators).
pub async fn list(
    app: &App,
    actor: &Actor,
    status: Option<&'static str>,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<OutboxEntry>> {
    authz::require(actor.is_admin())?;
    let (offset, limit) = (offset.max(0), limit.clamp(1, 500));
    let rows = app
        .db()
        .run(move |c| store::list(c, status, offset, limit))
        .await?;
    Ok(rows.into_iter().map(entry).collect())
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> AppResult<OutboxEntry> {
    authz::require(actor.is_admin())?;
    Ok(entry(app.db().run(move |c| store::find(c, id)).await?))
}

/// How many messages wait, left, and were set aside.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
}

pub async fn counts(app: &App, actor: &Actor) -> AppResult<OutboxCounts> {
    authz::require(actor.is_admin())?;
    let rows = app.db().run(store::counts).await?;
    let mut c = OutboxCounts::default();
    for (status, n) in rows {
        match status.as_str() {
            store::PENDING => c.pending = n,
            store::SENT => c.sent = n,
            store::DEAD => c.dead = n,
            _ => {}
        }
    }
    Ok(c)
}

/// « Renvoyer » : a message set aside (or already sent) goes back in the queue.
pub async fn resend(app: &App, actor: &Actor, id: i64) -> AppResult<OutboxEntry> {
    authz::require(actor.is_admin())?;
    let now = to_db(Utc::now());
    let done = app
        .db()
        .run(move |c| c.write(|c| store::requeue(c, id, now)))
        .await?;
    if !done {
        // Missing, or still waiting in the queue.
        get(app, actor, id).await?;
        return Err(AppError::Conflict {
            code: "already_pending",
            detail: "Ce message est déjà en file d'envoi.".into(),
        });
    }
    get(app, actor, id).await
}
