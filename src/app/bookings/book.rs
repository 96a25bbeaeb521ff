//! Booking once or a recurring series: parse, authorise, check every rule under the lock,
//! insert — with the request's idempotency key claimed in the same transaction.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::app::auth::sha256_hex;
use crate::app::authz::{self, Actor};
use crate::app::App;
use crate::domain::booking::{ExistingBooking, ResourceRules};
use crate::domain::ids::{BookingId, MemberId, ResourceId, SeriesId};
use crate::domain::recurrence::{self, ExDate};
use crate::domain::refusal::{Asked, Refusal, RefusedOccurrence};
use crate::domain::status::{approval_warning, BookingStatus};
use crate::domain::time::{parse_instant, Interval};
use crate::domain::validation::{optional_text, FieldErrors};
use crate::domain::violation::{ViolationCode, Warning};
use crate::error::{AppError, AppResult};
use crate::store::bookings::{self as store, BookingRow, NewBooking};
use crate::store::members::Member;
use crate::store::{idempotency, to_db, Backend, DbConn};

use super::rules::{evaluate, member_under_lock, refusal, refuse_one, refused_occurrence};
use super::suggest::with_alternatives;
use super::target::{self, Prepared, Target};
use super::views::{BookingView, Labels};
use super::BookingEnv;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecurrenceInput {
    /// RFC 5545 RRULE subset: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY, BYMONTHDAY, COUNT or UNTIL.
    pub rrule: String,
    /// Occurrences to leave out: local dates ("2027-04-06") or date-times.
    #[serde(default)]
    pub exdates: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BookingInput {
    pub resource_id: ResourceId,
    pub member_id: MemberId,
    /// RFC 3339, or local time of the pole without offset.
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub quantity: Option<i32>,
    #[serde(default)]
    pub purpose: Option<String>,
    /// A person the member accompanies (vehicles of a solidarity garage).
    #[serde(default)]
    pub beneficiary: Option<String>,
    #[serde(default)]
    pub recurrence: Option<RecurrenceInput>,
    /// For a series: book the occurrences that fit and report the others.
    #[serde(default)]
    pub skip_conflicts: bool,
}

/// A client's name for one request: the same key with the same request books once and
/// answers the same; with another request it is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> AppResult<IdempotencyKey> {
        let k = raw.trim();
        if k.is_empty() || k.len() > 200 || k.chars().any(char::is_control) {
            return Err(AppError::BadRequest(
                "Idempotency-Key : 1 à 200 caractères imprimables.".into(),
            ));
        }
        Ok(IdempotencyKey(k.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a booking request produced: one booking, or a series with the occurrences skipped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Booked {
    pub bookings: Vec<BookingView>,
    pub series_id: Option<SeriesId>,
    pub skipped: Vec<RefusedOccurrence>,
    pub warnings: Vec<Warning>,
    /// The answer stored for a repeated request (same idempotency key), not a new booking.
    #[serde(skip)]
    pub replayed: bool,
}

/// Books once or, with `recurrence`, a series; refused requests come back with alternatives.
pub async fn book(
    app: &App,
    actor: &Actor,
    input: BookingInput,
    key: Option<IdempotencyKey>,
) -> AppResult<Booked> {
    let env = BookingEnv::of(app);
    let actor = actor.clone();
    // Read-only preparation off the write lock (SQLite); PostgreSQL reads it all under the row
    // locks instead. On failure the booking itself reports why.
    let prepared = match app.db().backend() {
        Backend::Sqlite => {
            let id = input.resource_id;
            app.db()
                .run(move |c| target::load(c, id, &env).map(Prepared))
                .await
                .ok()
        }
        Backend::Postgres => None,
    };
    let hash = sha256_hex(&serde_json::to_string(&input).map_err(AppError::internal)?);
    let result = app
        .db()
        .write(move |c| {
            if let Some(k) = &key {
                if let Some(replay) = claim(c, &actor, k, &hash, env.now)? {
                    return Ok(replay);
                }
            }
            let booked = book_tx(c, &actor, &input, &env, prepared.clone())?;
            if let Some(k) = &key {
                let body = serde_json::to_string(&booked).map_err(AppError::internal)?;
                idempotency::complete(c, actor.user_id, k.as_str(), &body)?;
            }
            Ok(booked)
        })
        .await;
    match result {
        Ok(b) => Ok(b),
        Err(e) => Err(with_alternatives(app, e).await),
    }
}

/// Claims the key, or returns the answer it already has. A refused request rolls back with its
/// transaction, claim included: its key stays free for a corrected retry.
fn claim(
    conn: &mut DbConn,
    actor: &Actor,
    key: &IdempotencyKey,
    hash: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Booked>> {
    if idempotency::claim(conn, actor.user_id, key.as_str(), hash, to_db(now))? {
        return Ok(None);
    }
    let stored = idempotency::find(conn, actor.user_id, key.as_str())?
        .ok_or_else(|| AppError::internal("idempotency key vanished"))?;
    if stored.request_hash != hash {
        return Err(AppError::validation(
            "Idempotency-Key",
            "Cette clé a déjà servi pour une autre requête.",
        ));
    }
    let mut booked: Booked = serde_json::from_str(&stored.body).map_err(AppError::internal)?;
    booked.replayed = true;
    Ok(Some(booked))
}

/// What was typed, read.
pub(super) struct Parsed {
    pub interval: Interval,
    pub quantity: i32,
    pub purpose: String,
    pub beneficiary: Option<String>,
}

pub(super) fn parse(
    start: &str,
    end: &str,
    quantity: Option<i32>,
    purpose: Option<&str>,
    beneficiary: Option<&str>,
    tz: Tz,
) -> AppResult<Parsed> {
    let mut e = FieldErrors::new();
    let start = e.check(
        "start",
        parse_instant(start, tz).map_err(|err| err.to_string()),
    );
    let end = e.check("end", parse_instant(end, tz).map_err(|err| err.to_string()));
    let quantity = quantity.unwrap_or(1);
    if !(1..=10_000).contains(&quantity) {
        e.add(
            "quantity",
            "Quantité attendue entre 1 et la capacité de la ressource.",
        );
    }
    let purpose = e
        .check("purpose", optional_text(purpose.unwrap_or(""), 500))
        .flatten()
        .unwrap_or_default();
    let beneficiary = e
        .check("beneficiary", optional_text(beneficiary.unwrap_or(""), 120))
        .flatten();
    match (start, end) {
        // An inverted or empty interval is a rule violation with its own code, reported by
        // the domain; keep it representable here.
        (Some(start), Some(end)) if e.is_empty() => Ok(Parsed {
            interval: Interval { start, end },
            quantity,
            purpose,
            beneficiary,
        }),
        _ => Err(AppError::Validation(e)),
    }
}

pub(super) fn block_of(iv: Interval, rules: &ResourceRules) -> Interval {
    iv.widen(
        Duration::minutes(rules.buffer_before_minutes.max(0).into()),
        Duration::minutes(rules.buffer_after_minutes.max(0).into()),
    )
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut DbConn,
    target: &Target,
    member: &Member,
    actor: &Actor,
    series_id: Option<SeriesId>,
    p: &Parsed,
    interval: Interval,
    now: DateTime<Utc>,
) -> AppResult<BookingView> {
    let block = block_of(interval, &target.rules);
    let row: BookingRow = store::insert(
        conn,
        &NewBooking {
            resource_id: target.id(),
            member_id: member.id,
            created_by: Some(actor.user_id),
            series_id,
            start_at: to_db(interval.start),
            end_at: to_db(interval.end),
            block_start_at: to_db(block.start),
            block_end_at: to_db(block.end),
            quantity: p.quantity,
            exclusive: target.rules.capacity == 1,
            status: if target.resource.row.requires_approval {
                BookingStatus::Pending
            } else {
                BookingStatus::Confirmed
            },
            purpose: &p.purpose,
            beneficiary: p.beneficiary.as_deref(),
            created_at: to_db(now),
            updated_at: to_db(now),
        },
    )?;
    store::note_span(conn, target.id(), block.duration().num_minutes() + 1)?;
    Ok(BookingView::of(
        &row,
        Labels {
            resource_name: target.name(),
            resource_kind: target.kind(),
            member_name: &member.name,
        },
        actor,
        now,
    ))
}

/// Books inside the caller's write transaction, with what `prepared` loaded when it is about
/// this resource (see `target::under_lock`).
pub fn book_tx(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BookingInput,
    env: &BookingEnv,
    prepared: Option<Prepared>,
) -> AppResult<Booked> {
    let parsed = parse(
        &input.start,
        &input.end,
        input.quantity,
        input.purpose.as_deref(),
        input.beneficiary.as_deref(),
        env.tz,
    )?;
    let target = target::under_lock(conn, input.resource_id, prepared, env)?;
    authz::require(authz::can_book_for(actor, input.member_id, target.kind()))?;
    let member = member_under_lock(conn, input.member_id, &target)?;
    match &input.recurrence {
        None => {
            let verdict = evaluate(
                conn,
                &target,
                &member,
                parsed.interval,
                parsed.quantity,
                &[],
                &[],
                env,
            )?;
            if !verdict.ok() {
                let asked = Asked {
                    resource_id: target.id(),
                    member_id: member.id,
                    interval: parsed.interval,
                    quantity: parsed.quantity,
                    moving: Vec::new(),
                };
                return Err(refusal(conn, &target, asked, &verdict, env)?);
            }
            let view = insert(
                conn,
                &target,
                &member,
                actor,
                None,
                &parsed,
                parsed.interval,
                env.now,
            )?;
            let warnings = approval_warning(view.status, view.start, env.now)
                .into_iter()
                .collect();
            Ok(Booked {
                bookings: vec![view],
                series_id: None,
                skipped: Vec::new(),
                warnings,
                replayed: false,
            })
        }
        Some(rec) => book_series(conn, actor, input, rec, &target, &member, &parsed, env),
    }
}

#[allow(clippy::too_many_arguments)]
fn book_series(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BookingInput,
    rec: &RecurrenceInput,
    target: &Target,
    member: &Member,
    parsed: &Parsed,
    env: &BookingEnv,
) -> AppResult<Booked> {
    let invalid = |e: recurrence::RecurrenceError| {
        refuse_one(ViolationCode::InvalidRecurrence, e.to_string())
    };
    let rule = recurrence::parse_rule(&rec.rrule).map_err(invalid)?;
    let mut exdates = Vec::new();
    for raw in &rec.exdates {
        exdates.push(ExDate::parse(raw).map_err(invalid)?);
    }
    if !parsed.interval.is_valid() {
        // The same reasons as for a single booking (interval, durations…).
        let verdict = evaluate(
            conn,
            target,
            member,
            parsed.interval,
            parsed.quantity,
            &[],
            &[],
            env,
        )?;
        let asked = Asked {
            resource_id: target.id(),
            member_id: member.id,
            interval: parsed.interval,
            quantity: parsed.quantity,
            moving: Vec::new(),
        };
        return Err(refusal(conn, target, asked, &verdict, env)?);
    }
    let occurrences = recurrence::expand_from(
        &rule,
        parsed.interval.start,
        parsed.interval.end,
        env.tz,
        &exdates,
    )
    .map_err(invalid)?;
    let mut accepted: Vec<Interval> = Vec::new();
    let mut held: Vec<ExistingBooking> = Vec::new();
    let mut refused: Vec<RefusedOccurrence> = Vec::new();
    for occ in &occurrences {
        let Some(iv) = Interval::new(occ.start, occ.end) else {
            continue;
        };
        let verdict = evaluate(conn, target, member, iv, parsed.quantity, &[], &held, env)?;
        if verdict.ok() {
            // Later occurrences must see the earlier ones of the same series.
            held.push(ExistingBooking {
                id: BookingId(-(held.len() as i64) - 1),
                member_id: member.id,
                interval: iv,
                quantity: parsed.quantity,
            });
            accepted.push(iv);
        } else {
            refused.push(refused_occurrence(
                conn,
                target,
                iv,
                parsed.quantity,
                &verdict,
                env,
            )?);
        }
    }
    if (!refused.is_empty() && !input.skip_conflicts) || accepted.is_empty() {
        return Err(AppError::refused(Refusal::series(
            refused,
            occurrences.len(),
            input.skip_conflicts,
        )));
    }
    let rule_text = if rec.exdates.is_empty() {
        rule.to_string()
    } else {
        format!("{rule};EXDATE={}", rec.exdates.join(","))
    };
    let series_id = store::insert_series(
        conn,
        target.id(),
        member.id,
        &rule_text,
        actor.user_id,
        to_db(env.now),
    )?;
    let mut bookings = Vec::new();
    for iv in accepted {
        bookings.push(insert(
            conn,
            target,
            member,
            actor,
            Some(series_id),
            parsed,
            iv,
            env.now,
        )?);
    }
    let warnings = bookings
        .first()
        .and_then(|b| approval_warning(b.status, b.start, env.now))
        .into_iter()
        .collect();
    Ok(Booked {
        bookings,
        series_id: Some(series_id),
        skipped: refused,
        warnings,
        replayed: false,
    })
}
