//! Booking once or a recurring series: parse, authorise, check every rule under the lock,
//! insert — with the request's idempotency key claimed in the same transaction.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::app::auth::sha256_hex;
use crate::app::authz::{self, Actor};
use crate::app::notify::{self, EmployeeAddress};
use crate::app::App;
use crate::domain::booking::ExistingBooking;
use crate::domain::ids::{BookingId, MemberId, ResourceId, SeriesId};
use crate::domain::labour::Activity;
use crate::domain::month::Month;
use crate::domain::recurrence::{self, ExDate};
use crate::domain::refusal::{Refusal, RefusedOccurrence};
use crate::domain::status::BookingStatus;
use crate::domain::time::{parse_instant, Interval};
use crate::domain::validation::{optional_text, FieldErrors};
use crate::domain::violation::{ViolationCode, Warning};
use crate::error::{AppError, AppResult};
use crate::store::bookings::{self as store, BookingRow, Labelled, NewBooking};
use crate::store::{idempotency, to_db, DbConn};

use super::ahead::ReadAhead;
use super::rules::{member_under_lock, refuse_one, Asking, MonthLocks};
use super::suggest::with_alternatives;
use super::target::{self, Target, WriteTargets};
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
    /// Shared employees: `work` at the member (default), or `training` and `absence`, recorded
    /// at the employer group by those who manage the employee.
    #[serde(default)]
    pub activity: Option<Activity>,
}

/// The field an idempotency key is reported under when it was used for another request (the
/// API's `Idempotency-Key` header; the forms' hidden key).
pub const IDEMPOTENCY_FIELD: &str = "Idempotency-Key";

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
/// Each booking carries its own warnings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Booked {
    pub bookings: Vec<BookingView>,
    pub series_id: Option<SeriesId>,
    pub skipped: Vec<RefusedOccurrence>,
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
    let targets = app.targets();
    let key = match key {
        Some(k) => {
            let hash = sha256_hex(&serde_json::to_string(&input).map_err(AppError::internal)?);
            Some((k, hash))
        }
        None => None,
    };
    let ahead = read_ahead(app, &input, &env).await;
    let resource_id = input.resource_id;
    let result = app
        .db()
        .write(move |c| {
            if let Some((k, hash)) = &key {
                if let Some(replay) = claim(c, &actor, k, hash, env.now)? {
                    return Ok((replay, None, None));
                }
            }
            let mut kept = WriteTargets::new(&targets);
            let booked = book_tx(c, &actor, &input, &env, Some(&mut kept), ahead.as_ref())?;
            let written = match &ahead {
                Some(ahead) => ahead.after_insert(c, &booked)?,
                None => None,
            };
            if let Some((k, _)) = &key {
                let body = serde_json::to_string(&booked).map_err(AppError::internal)?;
                idempotency::complete(c, actor.user_id, k.as_str(), &body)?;
            }
            Ok((booked, written, kept.into_read()))
        })
        .await;
    match result {
        Ok((booked, written, read)) => {
            if let Some(read) = read {
                app.targets().keep_committed(read);
            }
            // Committed: the employee's shifts with this assignment are what the database
            // holds at the version it left.
            if let Some(w) = written {
                app.shifts().written(resource_id, w);
            }
            Ok(booked)
        }
        Err(e) => Err(with_alternatives(app, e).await),
    }
}

/// A single assignment of a shared employee (as far as the kept targets know): its shifts read
/// on a reader before the write, so that the writer, through which every SQLite write passes
/// one at a time, only checks that they have not changed (`ahead::ReadAhead`). Nothing for
/// other bookings, series or unreadable input: the write reads what it needs itself.
async fn read_ahead(app: &App, input: &BookingInput, env: &BookingEnv) -> Option<ReadAhead> {
    if input.recurrence.is_some() {
        return None;
    }
    let employee = app.targets().kept_employee(input.resource_id)?;
    let interval = Interval {
        start: parse_instant(&input.start, env.tz).ok()?,
        end: parse_instant(&input.end, env.tz).ok()?,
    };
    if !interval.is_valid() {
        return None;
    }
    let (id, tz) = (input.resource_id, env.tz);
    let activity = input.activity.unwrap_or(Activity::Work);
    let kept = app.shifts();
    match app
        .db()
        .run(move |c| ReadAhead::read(c, &kept, id, interval, tz, (employee, activity)))
        .await
    {
        Ok(ahead) => Some(ahead),
        Err(e) => {
            e.log();
            None
        }
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
            IDEMPOTENCY_FIELD,
            "Cette clé a déjà servi pour une autre requête.",
        ));
    }
    match serde_json::from_str::<Booked>(&stored.body) {
        Ok(mut booked) => {
            booked.replayed = true;
            Ok(Some(booked))
        }
        // An answer stored in another shape (by an earlier version): the request was done,
        // it is not done again.
        Err(_) => Err(AppError::Conflict {
            code: "already_done",
            detail: "Cette requête a déjà été traitée : consultez vos réservations.".into(),
        }),
    }
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
        // Reported as a refusal like the rules' reasons, with the fields for the forms.
        _ => Err(AppError::refused(Refusal::invalid_fields(e))),
    }
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &mut DbConn,
    asking: &Asking,
    actor: &Actor,
    series_id: Option<SeriesId>,
    p: &Parsed,
    interval: Interval,
    warnings: Vec<Warning>,
) -> AppResult<(BookingView, Labelled)> {
    let (target, member, now, activity) = (
        asking.target,
        asking.member,
        asking.env.now,
        asking.activity,
    );
    let block = target.rules.block_of(interval);
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
            activity,
        },
    )?;
    target::note_block(conn, target, block)?;
    let mut view = BookingView::of(
        &row,
        Labels {
            resource_name: target.name(),
            resource: target.bookable(),
            member_name: &member.name,
        },
        actor,
        now,
    );
    view.warnings.extend(warnings);
    Ok((view, Labelled::of(&row, &target.resource.row, member)))
}

/// Training and absences are shared employees' only, recorded at the employer group by
/// those who manage the employee.
fn check_activity(actor: &Actor, input: &BookingInput, target: &Target) -> AppResult<Activity> {
    let activity = input.activity.unwrap_or(Activity::Work);
    if activity == Activity::Work {
        return Ok(activity);
    }
    let Some(staff) = &target.staff else {
        return Err(AppError::validation(
            "activity",
            "Formation et absence ne concernent que les salariés partagés.",
        ));
    };
    authz::require(authz::records_staff_time(actor, staff.employer))?;
    if Some(input.member_id) != staff.employer {
        return Err(AppError::validation(
            "member_id",
            "Une formation ou une absence se rattache au groupement employeur du salarié.",
        ));
    }
    Ok(activity)
}

/// Books inside the caller's write transaction, with the resource's target kept in `kept` when
/// its settings have not changed since (see `target::under_lock`); a target read whole is left
/// in `kept`, for the caller to keep once the write has committed.
pub fn book_tx(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BookingInput,
    env: &BookingEnv,
    kept: Option<&mut WriteTargets>,
    ahead: Option<&ReadAhead>,
) -> AppResult<Booked> {
    let parsed = parse(
        &input.start,
        &input.end,
        input.quantity,
        input.purpose.as_deref(),
        input.beneficiary.as_deref(),
        env.tz,
    )?;
    // A single booking holds its months from the first lock, so the target answers whether
    // they are closed; a series locks each month as its occurrences reach it.
    let months = match &input.recurrence {
        None => Month::touched_by(parsed.interval, env.tz),
        Some(_) => Vec::new(),
    };
    let target = target::under_lock(conn, input.resource_id, kept, env, &months)?;
    authz::require(authz::can_book_for(
        actor,
        input.member_id,
        target.bookable(),
    ))?;
    let activity = check_activity(actor, input, &target)?;
    let member = member_under_lock(conn, input.member_id, &target)?;
    let asking = Asking {
        target: &target,
        member: &member,
        quantity: parsed.quantity,
        moving: &[],
        activity,
        env,
        read_ahead: ahead,
        kept_shifts: None,
    };
    let mut locks = MonthLocks::holding(months);
    let booked = match &input.recurrence {
        None => {
            let verdict = asking.evaluate(conn, parsed.interval, &[], &mut locks)?;
            if !verdict.ok() {
                return Err(asking.refusal(conn, parsed.interval, &verdict)?);
            }
            let (view, told) = insert(
                conn,
                &asking,
                actor,
                None,
                &parsed,
                parsed.interval,
                verdict.warnings,
            )?;
            let booked = Booked {
                bookings: vec![view],
                series_id: None,
                skipped: Vec::new(),
                replayed: false,
            };
            (booked, vec![told])
        }
        Some(rec) => book_series(conn, actor, input, rec, &asking, &parsed, &mut locks)?,
    };
    let (booked, told) = booked;
    let employee = target.staff.as_ref().and_then(|s| s.email.as_deref());
    notify::booked_tx(conn, actor, told, EmployeeAddress::Known(employee), env)?;
    Ok(booked)
}

fn book_series(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BookingInput,
    rec: &RecurrenceInput,
    asking: &Asking,
    parsed: &Parsed,
    locks: &mut MonthLocks,
) -> AppResult<(Booked, Vec<Labelled>)> {
    let (target, member, env) = (asking.target, asking.member, asking.env);
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
        let verdict = asking.evaluate(conn, parsed.interval, &[], locks)?;
        return Err(asking.refusal(conn, parsed.interval, &verdict)?);
    }
    let occurrences = recurrence::expand_from(
        &rule,
        parsed.interval.start,
        parsed.interval.end,
        env.tz,
        &exdates,
    )
    .map_err(invalid)?;
    let mut accepted: Vec<(Interval, Vec<Warning>)> = Vec::new();
    let mut held: Vec<ExistingBooking> = Vec::new();
    let mut refused: Vec<RefusedOccurrence> = Vec::new();
    for occ in &occurrences {
        let Some(iv) = Interval::new(occ.start, occ.end) else {
            continue;
        };
        let verdict = asking.evaluate(conn, iv, &held, locks)?;
        if verdict.ok() {
            // Later occurrences must see the earlier ones of the same series.
            held.push(ExistingBooking {
                id: BookingId(-(held.len() as i64) - 1),
                member_id: member.id,
                interval: iv,
                quantity: parsed.quantity,
            });
            accepted.push((iv, verdict.warnings));
        } else {
            refused.push(asking.refused_occurrence(conn, iv, &verdict)?);
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
    let mut told = Vec::new();
    for (iv, warnings) in accepted {
        let (view, labelled) = insert(conn, asking, actor, Some(series_id), parsed, iv, warnings)?;
        bookings.push(view);
        told.push(labelled);
    }
    let booked = Booked {
        bookings,
        series_id: Some(series_id),
        skipped: refused,
        replayed: false,
    };
    Ok((booked, told))
}
