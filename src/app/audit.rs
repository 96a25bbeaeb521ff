//! The security journal: events recorded in the transaction of the action they describe
//! (`record_tx`), read back by administrators only, kept a year (`purge_tx`).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::authz::{self, Actor};
use super::{App, Numbered};
use crate::domain::audit::AuditKind;
use crate::domain::ids::UserId;
use crate::domain::labour::day_bounds;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self as store, AuditFilter, NewAuditRow};
use crate::store::{from_db, to_db, users as user_store, DbConn};

/// How long events are kept.
pub const RETENTION_DAYS: i64 = 365;

/// One event about to be recorded.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub kind: AuditKind,
    /// Who acted, when signed in.
    pub actor: Option<UserId>,
    /// Whom it concerns, when known.
    pub subject: Option<UserId>,
    /// The address typed (sign-in, reset request), kept even when no account has it.
    pub subject_email: Option<&'a str>,
    /// The client address (`web::extract::ClientIp`).
    pub ip: &'a str,
    pub detail: String,
}

impl<'a> Event<'a> {
    pub fn new(kind: AuditKind, ip: &'a str) -> Self {
        Self {
            kind,
            actor: None,
            subject: None,
            subject_email: None,
            ip,
            detail: String::new(),
        }
    }
    pub fn actor(mut self, id: UserId) -> Self {
        self.actor = Some(id);
        self
    }
    pub fn subject(mut self, id: UserId) -> Self {
        self.subject = Some(id);
        self
    }
    pub fn email(mut self, email: &'a str) -> Self {
        self.subject_email = Some(email);
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// Writes an event in the caller's transaction. Typed text is cut short: the journal must not
/// grow by what an attacker sends.
pub fn record_tx(conn: &mut DbConn, now: DateTime<Utc>, e: Event) -> AppResult<()> {
    let email: Option<String> = e.subject_email.map(|s| s.chars().take(254).collect());
    let ip: String = e.ip.chars().take(64).collect();
    let detail: String = e.detail.chars().take(500).collect();
    tracing::info!(kind = e.kind.as_str(), client = %ip, actor = ?e.actor.map(|u| u.0),
        subject = ?e.subject.map(|u| u.0), "security event");
    store::insert(
        conn,
        &NewAuditRow {
            occurred_at: to_db(now),
            kind: e.kind.as_str(),
            actor_id: e.actor.map(|u| u.0),
            subject_id: e.subject.map(|u| u.0),
            subject_email: email.as_deref(),
            ip: &ip,
            detail: &detail,
        },
    )
}

/// Events older than the retention leave the journal.
pub(crate) fn purge_tx(conn: &mut DbConn, now: DateTime<Utc>, limit: i64) -> AppResult<usize> {
    store::purge(conn, to_db(now - Duration::days(RETENTION_DAYS)), limit)
}

/// The journal's filters as typed (page or API query).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// One kind of event (`sign_in_failed`, `role_changed`…).
    pub kind: Option<String>,
    /// Events where this user acted or was concerned.
    pub user_id: Option<String>,
    /// First local day, inclusive (YYYY-MM-DD).
    pub from_date: Option<String>,
    /// Last local day, inclusive (YYYY-MM-DD).
    pub to_date: Option<String>,
    /// Page number, from 1 (50 events a page).
    pub page: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub kind: AuditKind,
    /// The kind in French words.
    pub label: &'static str,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub subject_id: Option<i64>,
    pub subject_name: Option<String>,
    pub subject_email: Option<String>,
    pub ip: String,
    pub detail: String,
}

pub const PAGE_SIZE: i64 = 50;

fn local_date(e: &mut FieldErrors, field: &str, raw: &Option<String>) -> Option<NaiveDate> {
    let raw = raw.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    e.check(
        field,
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=2199).contains(&d.year()))
            .ok_or_else(|| {
                format!(
                    "« {} » n'est pas une date (attendu : AAAA-MM-JJ).",
                    raw.chars().take(40).collect::<String>()
                )
            }),
    )
}

/// The filters read, and the page number; field errors otherwise.
pub fn parse_query(q: &AuditQuery, tz: chrono_tz::Tz) -> AppResult<(AuditFilter, i64)> {
    let mut e = FieldErrors::new();
    let kind = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => {
            let parsed = AuditKind::parse(k);
            if parsed.is_none() {
                e.add("kind", "Choisissez un type d'événement de la liste.");
            }
            parsed.map(|k| k.as_str().to_string())
        }
        None => None,
    };
    let user_id = match q
        .user_id
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        Some(raw) => {
            let parsed = raw.parse::<i64>().ok().filter(|n| *n > 0);
            if parsed.is_none() {
                e.add("user_id", "Choisissez un utilisateur de la liste.");
            }
            parsed
        }
        None => None,
    };
    let from_day = local_date(&mut e, "from_date", &q.from_date);
    let to_day = local_date(&mut e, "to_date", &q.to_date);
    if let (Some(f), Some(t)) = (from_day, to_day) {
        if t < f {
            e.add("to_date", "La date de fin précède la date de début.");
        }
    }
    let page = match q.page.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 1,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=1_000_000).contains(&n) => n,
            _ => {
                e.add("page", "Numéro de page attendu, à partir de 1.");
                1
            }
        },
    };
    e.into_result().map_err(AppError::Validation)?;
    Ok((
        AuditFilter {
            kind,
            user_id,
            from: from_day.map(|d| to_db(day_bounds(d, tz).start)),
            to: to_day.map(|d| to_db(day_bounds(d, tz).end)),
        },
        page,
    ))
}

/// One page of the journal, newest first, for an administrator.
pub async fn list(app: &App, actor: &Actor, q: &AuditQuery) -> AppResult<Numbered<AuditEventView>> {
    authz::require(actor.is_admin())?;
    let (filter, page) = parse_query(q, app.tz())?;
    app.db()
        .run(move |c| {
            let rows = store::list(c, &filter, (page - 1) * PAGE_SIZE, PAGE_SIZE)?;
            let total = store::count(c, &filter)?;
            let mut names: std::collections::HashMap<i64, Option<String>> = Default::default();
            let mut name_of = |c: &mut DbConn, id: Option<i64>| -> AppResult<Option<String>> {
                let Some(id) = id else { return Ok(None) };
                if let Some(n) = names.get(&id) {
                    return Ok(n.clone());
                }
                let n = user_store::find(c, UserId(id)).ok().map(|u| u.name);
                names.insert(id, n.clone());
                Ok(n)
            };
            let mut items = Vec::with_capacity(rows.len());
            for r in rows {
                let Some(kind) = AuditKind::parse(&r.kind) else {
                    continue;
                };
                items.push(AuditEventView {
                    id: r.id,
                    occurred_at: from_db(r.occurred_at),
                    kind,
                    label: kind.label(),
                    actor_name: name_of(c, r.actor_id)?,
                    actor_id: r.actor_id,
                    subject_name: name_of(c, r.subject_id)?,
                    subject_id: r.subject_id,
                    subject_email: r.subject_email,
                    ip: r.ip,
                    detail: r.detail,
                });
            }
            Ok(Numbered { items, total })
        })
        .await
}
