//! Booking use cases: book (once or recurring), move, cancel, approve, reject, list,
//! availability and quotas. The rules themselves are pure code in `domain::booking`; this
//! module loads what they need inside the write transaction, asks them, and writes.
//!
//! `book_tx` and friends run inside a transaction the caller opened (`DbConn::write`, or a
//! group commit that batches concurrent requests): the resource rows are locked first, so the
//! check and the insert cannot be separated by another writer.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::authz::{self, Actor};
use crate::domain::booking::{
    capacity_conflicts, check_request, free_intervals, lookup_range, suggest_search_range,
    suggest_slots, suggestions_settled, BookingRequest, ClosurePeriod, ExistingBooking,
    ResourceRules,
};
use crate::domain::recurrence::{self, ExDate};
use crate::domain::resource::ResourceKind;
use crate::domain::role::{MemberRole, PoleRole};
use crate::domain::time::{parse_instant, Interval};
use crate::domain::validation::{optional_text, FieldErrors};
use crate::domain::violation::{Violation, ViolationCode};
use crate::error::{AppError, AppResult, Refusal, SuggestRequest};
use crate::store::bookings::{self as store, BookingFilter, BookingRow, NewBooking};
use crate::store::members::{self as member_store, Member};
use crate::store::resources::{self as resource_store, Resource, ResourceFilter};
use crate::store::{closures as closure_store, from_db, to_db, DbConn};

/// What every booking decision needs from the outside world.
#[derive(Debug, Clone, Copy)]
pub struct BookingEnv {
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub horizon_days: i32,
}

pub const SUGGESTIONS: usize = 3;
pub const SEARCH_DAYS: i64 = 14;
pub const MAX_AVAILABILITY_DAYS: i64 = 366;

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
    pub resource_id: i64,
    pub member_id: i64,
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct BookingOut {
    pub id: i64,
    pub resource_id: i64,
    pub resource_name: String,
    pub member_id: i64,
    pub member_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub quantity: i32,
    /// pending, confirmed, cancelled or rejected.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series_id: Option<i64>,
    /// Shown to the member's people and the pole's team only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SkippedOut {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub violations: Vec<ViolationOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct ViolationOut {
    pub code: String,
    pub message: String,
}

impl From<&Violation> for ViolationOut {
    fn from(v: &Violation) -> Self {
        Self {
            code: v.code.as_str().to_string(),
            message: v.message.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeriesOut {
    pub series_id: i64,
    pub bookings: Vec<BookingOut>,
    pub skipped: Vec<SkippedOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BookOutcome {
    Series(SeriesOut),
    Single(BookingOut),
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FreeSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub quantity: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Availability {
    pub resource_id: i64,
    pub free: Vec<FreeSlot>,
}

// ---- authorisation ----

/// Bookers and member admins book for their own members; the pole's managers for any member
/// (employer-group managers for shared staff).
pub fn can_book_for(actor: &Actor, member_id: i64, kind: ResourceKind) -> bool {
    actor.is_admin()
        || actor.has(PoleRole::ResourceManager)
        || (kind == ResourceKind::Staff && actor.has(PoleRole::GeManager))
        || actor.member_role(member_id).is_some()
}

pub fn can_decide(actor: &Actor) -> bool {
    actor.is_admin() || actor.has(PoleRole::ResourceManager)
}

fn can_see_details(actor: &Actor, member_id: i64) -> bool {
    actor.is_pole_team() || actor.member_role(member_id).is_some()
}

// ---- loading what the rules need ----

#[derive(Clone)]
struct Target {
    resource: Resource,
    kind: ResourceKind,
    rules: ResourceRules,
    /// The whole and the parts this resource is composed with: their bookings block it fully.
    related: Vec<i64>,
    longest_minutes: i64,
    /// Quotas that apply to this resource, each with the resources it counts over.
    quotas: Vec<(store::Quota, Vec<i64>)>,
}

fn rules_of(r: &Resource, horizon_days: i32) -> ResourceRules {
    ResourceRules {
        capacity: r.row.capacity,
        min_duration_minutes: r.row.min_duration_minutes,
        max_duration_minutes: r.row.max_duration_minutes,
        buffer_before_minutes: r.row.buffer_before_minutes,
        buffer_after_minutes: r.row.buffer_after_minutes,
        opening_hours: r.opening_hours.clone(),
        allowed_categories: r.allowed_categories(),
        horizon_days,
    }
}

fn load_target(conn: &mut DbConn, resource_id: i64, env: &BookingEnv) -> AppResult<Target> {
    let resource = match resource_store::find(conn, resource_id) {
        Err(AppError::NotFound) => {
            return Err(AppError::validation("resource_id", "Ressource inconnue."))
        }
        other => other?,
    };
    let mut related = resource_store::children(conn, resource_id)?;
    if let Some(parent) = resource.row.parent_id {
        related.push(parent);
    }
    let mut longest = i64::from(resource.row.longest_block_minutes);
    for id in &related {
        longest = longest.max(i64::from(
            resource_store::find(conn, *id)?.row.longest_block_minutes,
        ));
    }
    let kind = ResourceKind::parse(&resource.row.kind).unwrap_or(ResourceKind::Equipment);
    let mut quotas = Vec::new();
    for q in store::list_quotas(conn)? {
        let scope = match (&q.resource_id, &q.kind) {
            (Some(r), _) if *r == resource_id => vec![*r],
            (Some(_), _) => continue,
            (None, Some(k)) if k == kind.as_str() => {
                let filter = ResourceFilter {
                    kind: Some(k.clone()),
                    include_archived: true,
                    search: None,
                };
                resource_store::list(conn, &filter)?
                    .iter()
                    .map(|r| r.row.id)
                    .collect()
            }
            (None, Some(_)) => continue,
            (None, None) => resource_store::list(
                conn,
                &ResourceFilter {
                    include_archived: true,
                    ..Default::default()
                },
            )?
            .iter()
            .map(|r| r.row.id)
            .collect(),
        };
        quotas.push((q, scope));
    }
    Ok(Target {
        kind,
        rules: rules_of(&resource, env.horizon_days),
        related,
        longest_minutes: longest,
        quotas,
        resource,
    })
}

/// Locks the resource and the parts or whole it is composed with, then reads the target again
/// under the lock: on PostgreSQL what was read before (the longest span bounding the overlap
/// query, the rules) may have changed while waiting. SQLite already holds the database.
fn lock(conn: &mut DbConn, target: Target, env: &BookingEnv) -> AppResult<Target> {
    match conn.backend() {
        crate::store::Backend::Postgres => lock_and_load(conn, target.resource.row.id, env),
        crate::store::Backend::Sqlite => Ok(target),
    }
}

/// PostgreSQL: locks the rows of the resource, its parts and its whole (`FOR UPDATE`, in id
/// order), then reads the target under those locks, so nothing the rules read can change
/// before the commit. The composition can change between reading it and locking it (a part
/// attached meanwhile): it is read again until every related row is locked. Rows locked on a
/// later pass may break the id order; PostgreSQL then reports a deadlock and `Db::write`
/// retries the whole transaction.
fn lock_and_load(conn: &mut DbConn, resource_id: i64, env: &BookingEnv) -> AppResult<Target> {
    let mut locked: Vec<i64> = Vec::new();
    for _ in 0..3 {
        let mut ids = resource_store::composition(conn, resource_id)?;
        ids.retain(|id| !locked.contains(id));
        store::lock_resources(conn, &ids)?;
        locked.extend(ids);
        let target = load_target(conn, resource_id, env)?;
        if target
            .related
            .iter()
            .chain([&resource_id])
            .all(|id| locked.contains(id))
        {
            return Ok(target);
        }
    }
    Err(AppError::Unavailable(
        "La composition de la ressource change en ce moment : réessayez.".into(),
    ))
}

fn closures_over(
    conn: &mut DbConn,
    resource_id: i64,
    window: Interval,
) -> AppResult<Vec<ClosurePeriod>> {
    Ok(
        closure_store::overlapping(conn, resource_id, to_db(window.start), to_db(window.end))?
            .into_iter()
            .filter_map(|c| {
                Some(ClosurePeriod {
                    interval: Interval::new(from_db(c.start_at), from_db(c.end_at))?,
                    reason: c.reason,
                })
            })
            .collect(),
    )
}

fn interval_of(b: &BookingRow) -> Option<Interval> {
    Interval::new(from_db(b.start_at), from_db(b.end_at))
}

/// Active bookings that can interact with `window`, as the rules see them.
fn existing_over(
    conn: &mut DbConn,
    target: &Target,
    window: Interval,
) -> AppResult<Vec<ExistingBooking>> {
    let mut ids = target.related.clone();
    ids.push(target.resource.row.id);
    let rows = store::active_spans(
        conn,
        &ids,
        to_db(window.start),
        to_db(window.end),
        target.longest_minutes,
    )?;
    Ok(rows
        .iter()
        .filter_map(|b| {
            let own = b.resource_id == target.resource.row.id;
            Some(ExistingBooking {
                id: b.id,
                member_id: b.member_id,
                interval: Interval::new(from_db(b.start_at), from_db(b.end_at))?,
                // A booked whole or part takes the resource entirely.
                quantity: if own {
                    b.quantity
                } else {
                    target.rules.capacity
                },
            })
        })
        .collect())
}

/// Local months ("YYYY-MM") an interval touches.
fn months_of(iv: Interval, tz: Tz) -> Vec<String> {
    let first = iv.start.with_timezone(&tz).date_naive();
    let last = (iv.end - Duration::seconds(1))
        .with_timezone(&tz)
        .date_naive();
    let mut out = Vec::new();
    let (mut y, mut m) = (first.year(), first.month());
    while (y, m) <= (last.year(), last.month()) && out.len() < 400 {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

struct Verdict {
    violations: Vec<Violation>,
    conflicts: Vec<ExistingBooking>,
}

impl Verdict {
    fn ok(&self) -> bool {
        self.violations.is_empty() && self.conflicts.is_empty()
    }
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    conn: &mut DbConn,
    target: &Target,
    member: &Member,
    interval: Interval,
    quantity: i32,
    ignore: &[i64],
    extra: &[ExistingBooking],
    env: &BookingEnv,
) -> AppResult<Verdict> {
    let closures = closures_over(conn, target.resource.row.id, interval)?;
    let req = BookingRequest {
        interval,
        quantity,
        member_category: member.pricing_category.clone(),
        member_active: member.active && member.archived_at.is_none(),
    };
    let mut violations = check_request(&req, &target.rules, &closures, env.now, env.tz);
    if target.resource.row.archived_at.is_some() {
        violations.push(Violation::new(
            ViolationCode::NotAllowed,
            "Cette ressource est archivée : elle ne se réserve plus.",
        ));
    }
    if !interval.is_valid() {
        return Ok(Verdict {
            violations,
            conflicts: Vec::new(),
        });
    }
    if let Some(month) = store::first_closed_month(conn, &months_of(interval, env.tz))? {
        violations.push(Violation::new(
            ViolationCode::MonthClosed,
            format!("Le mois {month} est clôturé par la trésorerie : il ne peut plus changer."),
        ));
    }
    violations.extend(quota_violations(
        conn, target, member, interval, ignore, extra, env,
    )?);
    let mut existing = existing_over(conn, target, lookup_range(interval, &target.rules))?;
    existing.retain(|e| !ignore.contains(&e.id));
    existing.extend_from_slice(extra);
    let conflicts = capacity_conflicts(interval, quantity, &target.rules, &existing, None);
    Ok(Verdict {
        violations,
        conflicts,
    })
}

/// Quotas count per member: the member's active bookings in the quota's scope, plus the
/// occurrences of a series being booked (`extra`), plus this request.
fn quota_violations(
    conn: &mut DbConn,
    target: &Target,
    member: &Member,
    interval: Interval,
    ignore: &[i64],
    extra: &[ExistingBooking],
    env: &BookingEnv,
) -> AppResult<Vec<Violation>> {
    let mut out = Vec::new();
    let held: Vec<&ExistingBooking> = extra
        .iter()
        .filter(|e| e.member_id == member.id && e.id < 0)
        .collect();
    for (q, scope_ids) in target
        .quotas
        .iter()
        .filter(|(q, _)| q.member_id.is_none_or(|m| m == member.id))
    {
        let what = match (&q.resource_id, &q.kind) {
            (Some(_), _) => format!("sur « {} »", target.resource.row.name),
            (None, Some(k)) => format!(
                "pour les ressources de type {}",
                ResourceKind::parse(k)
                    .map(|k| k.label().to_lowercase())
                    .unwrap_or_else(|| k.clone())
            ),
            (None, None) => "toutes ressources confondues".into(),
        };
        if let Some(max) = q.max_minutes_per_month {
            for month in months_of(interval, env.tz) {
                let (from, to) = month_bounds(&month, env.tz)
                    .ok_or_else(|| AppError::internal("month bounds"))?;
                let Some(month_iv) = Interval::new(from, to) else {
                    continue;
                };
                let within = |iv: Interval| {
                    iv.intersection(&month_iv)
                        .map_or(0, |i| i.duration().num_minutes())
                };
                let stored: i64 = store::member_bookings_overlapping(
                    conn,
                    member.id,
                    scope_ids,
                    to_db(from),
                    to_db(to),
                )?
                .iter()
                .filter(|b| !ignore.contains(&b.id))
                .filter_map(interval_of)
                .map(within)
                .sum();
                let used = stored + held.iter().map(|h| within(h.interval)).sum::<i64>();
                let adding = within(interval);
                if used + adding > i64::from(max) {
                    out.push(Violation::new(
                        ViolationCode::QuotaExceeded,
                        format!(
                            "Quota dépassé {what} : {} h {:02} par mois au plus pour votre structure ; déjà {} h {:02} réservées en {month}, cette demande en ajoute {} h {:02}.",
                            max / 60, max % 60, used / 60, used % 60, adding / 60, adding % 60
                        ),
                    ));
                }
            }
        }
        if let Some(max) = q.max_future_bookings {
            let stored = store::count_future(conn, member.id, scope_ids, to_db(env.now), ignore)?;
            let future = stored + held.iter().filter(|h| h.interval.start > env.now).count() as i64;
            if interval.start > env.now && future + 1 > i64::from(max) {
                out.push(Violation::new(
                    ViolationCode::QuotaExceeded,
                    format!("Quota dépassé {what} : {max} réservation(s) à venir au plus pour votre structure, {future} déjà prévue(s)."),
                ));
            }
        }
    }
    Ok(out)
}

fn month_bounds(month: &str, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    let start = chrono::NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = if m == 12 {
        chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)?
    } else {
        chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)?
    };
    let at = |d: chrono::NaiveDate| -> Option<DateTime<Utc>> {
        // Midnight exists in every zone we serve; take the earliest if ever ambiguous.
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    Some((at(start)?, at(next)?))
}

use chrono::TimeZone;

// ---- refusals ----

fn top_code(v: &Violation) -> (u16, &'static str) {
    match v.code {
        ViolationCode::MonthClosed => (409, "month_closed"),
        ViolationCode::QuotaExceeded => (409, "quota_exceeded"),
        ViolationCode::CapacityExceeded => (409, "conflict"),
        ViolationCode::MemberInactive | ViolationCode::NotAllowed => (422, "not_allowed"),
        ViolationCode::InvalidInterval => (422, "invalid_interval"),
        ViolationCode::DurationOutOfBounds => (422, "duration_out_of_bounds"),
        ViolationCode::OutsideOpeningHours => (422, "outside_opening_hours"),
        ViolationCode::Closed => (422, "closed"),
        ViolationCode::InPast => (422, "in_past"),
        ViolationCode::BeyondHorizon => (422, "beyond_horizon"),
        ViolationCode::InvalidRecurrence => (422, "invalid_recurrence"),
        ViolationCode::Validation => (422, "validation"),
    }
}

/// The refusal's status and code: input errors (422) first, then state (409).
fn classify(verdict: &Verdict) -> (u16, &'static str) {
    let codes: Vec<(u16, &'static str)> = verdict.violations.iter().map(top_code).collect();
    if let Some(c) = codes.iter().find(|(s, _)| *s == 422) {
        return *c;
    }
    if !verdict.conflicts.is_empty() {
        return (409, "conflict");
    }
    codes.first().copied().unwrap_or((409, "conflict"))
}

fn conflicts_json(
    conn: &mut DbConn,
    target: &Target,
    conflicts: &[ExistingBooking],
) -> AppResult<serde_json::Value> {
    let ids: Vec<i64> = conflicts.iter().map(|c| c.member_id).collect();
    let names: HashMap<i64, String> = member_store::names(conn, &ids)?.into_iter().collect();
    Ok(serde_json::Value::Array(
        conflicts
            .iter()
            .filter(|c| c.id > 0)
            .map(|c| {
                json!({
                    "booking_id": c.id,
                    "resource_id": target.resource.row.id,
                    "start": c.interval.start,
                    "end": c.interval.end,
                    "member_id": c.member_id,
                    "member_name": names.get(&c.member_id).cloned().unwrap_or_default(),
                    "quantity": c.quantity,
                })
            })
            .collect(),
    ))
}

/// Nearest free slots on the same resource, then other resources of the same kind free at the
/// asked time.
fn suggestions(
    conn: &mut DbConn,
    target: &Target,
    member: &Member,
    interval: Interval,
    quantity: i32,
    ignore: &[i64],
    env: &BookingEnv,
) -> AppResult<Vec<serde_json::Value>> {
    // One day around the request first, widened to the full span only when the nearest slots
    // may lie further (`suggestions_settled`): a busy resource has hundreds of bookings over
    // four weeks, and loading them was most of the cost of a refusal.
    let mut days = 1;
    let slots = loop {
        let search = suggest_search_range(interval, days);
        let closures = closures_over(conn, target.resource.row.id, search)?;
        let mut existing = existing_over(conn, target, lookup_range(search, &target.rules))?;
        existing.retain(|e| !ignore.contains(&e.id));
        let slots = suggest_slots(
            interval,
            quantity,
            &target.rules,
            &existing,
            &closures,
            env.now,
            env.tz,
            SUGGESTIONS,
            days,
        );
        if days >= SEARCH_DAYS || suggestions_settled(interval, &slots, SUGGESTIONS, days) {
            break slots;
        }
        days = SEARCH_DAYS;
    };
    let mut out: Vec<serde_json::Value> = slots
        .iter()
        .map(|s| json!({"resource_id": target.resource.row.id, "resource_name": target.resource.row.name, "start": s.start, "end": s.end}))
        .collect();
    let others = resource_store::list(
        conn,
        &ResourceFilter {
            kind: Some(target.kind.as_str().into()),
            include_archived: false,
            search: None,
        },
    )?;
    let mut found = 0;
    for other in others
        .iter()
        .filter(|r| r.row.id != target.resource.row.id && !target.related.contains(&r.row.id))
        .take(25)
    {
        if found == SUGGESTIONS {
            break;
        }
        let t = load_target(conn, other.row.id, env)?;
        if evaluate(conn, &t, member, interval, quantity, &[], &[], env)?.ok() {
            out.push(json!({"resource_id": other.row.id, "resource_name": other.row.name, "start": interval.start, "end": interval.end}));
            found += 1;
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn refuse(
    conn: &mut DbConn,
    target: &Target,
    member: &Member,
    interval: Interval,
    quantity: i32,
    ignore: &[i64],
    verdict: &Verdict,
    env: &BookingEnv,
) -> AppResult<AppError> {
    let (status, code) = classify(verdict);
    let mut violations: Vec<ViolationOut> =
        verdict.violations.iter().map(ViolationOut::from).collect();
    if !verdict.conflicts.is_empty() {
        let used: i32 = verdict.conflicts.iter().map(|c| c.quantity).sum();
        violations.push(ViolationOut {
            code: ViolationCode::CapacityExceeded.as_str().into(),
            message: format!(
                "Capacité dépassée : {} unité(s) demandée(s), {} déjà prise(s) sur {} (battements compris).",
                quantity, used.min(target.rules.capacity), target.rules.capacity
            ),
        });
    }
    let wants_alternatives = verdict.violations.iter().all(|v| {
        matches!(
            v.code,
            ViolationCode::CapacityExceeded
                | ViolationCode::Closed
                | ViolationCode::OutsideOpeningHours
        )
    });
    let suggest = (wants_alternatives && interval.is_valid()).then(|| SuggestRequest {
        resource_id: target.resource.row.id,
        member_id: member.id,
        start: interval.start,
        end: interval.end,
        quantity,
        ignore: ignore.to_vec(),
    });
    let _ = env;
    let detail = violations
        .iter()
        .map(|v| v.message.clone())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(AppError::Refused(Box::new(Refusal {
        status: axum::http::StatusCode::from_u16(status)
            .unwrap_or(axum::http::StatusCode::CONFLICT),
        code,
        detail,
        body: json!({
            "violations": violations,
            "conflicts": conflicts_json(conn, target, &verdict.conflicts)?,
            "suggestions": [],
        }),
        suggest,
    })))
}

/// Fills the suggestions of a refusal, on a read connection after the write transaction.
pub fn fill_suggestions(
    conn: &mut DbConn,
    refusal: &mut Refusal,
    env: &BookingEnv,
) -> AppResult<()> {
    let Some(req) = refusal.suggest.take() else {
        return Ok(());
    };
    let Some(interval) = Interval::new(req.start, req.end) else {
        return Ok(());
    };
    let target = load_target(conn, req.resource_id, env)?;
    let member = member_for(conn, req.member_id)?;
    refusal.body["suggestions"] = serde_json::Value::Array(suggestions(
        conn,
        &target,
        &member,
        interval,
        req.quantity,
        &req.ignore,
        env,
    )?);
    Ok(())
}

fn in_past_refusal(message: &str) -> AppError {
    AppError::Refused(Box::new(Refusal {
        status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        code: "in_past",
        detail: message.into(),
        body: json!({"violations": [{"code": "in_past", "message": message}], "conflicts": [], "suggestions": []}),
        suggest: None,
    }))
}

fn validation_refusal(errors: FieldErrors) -> AppError {
    let violations: Vec<ViolationOut> = errors
        .0
        .iter()
        .map(|e| ViolationOut {
            code: "validation".into(),
            message: format!("{} : {}", e.field, e.message),
        })
        .collect();
    AppError::Refused(Box::new(Refusal {
        status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        code: "validation",
        detail: errors.summary(),
        body: json!({"violations": violations, "errors": errors.0, "conflicts": [], "suggestions": []}),
        suggest: None,
    }))
}

// ---- parsing ----

struct Parsed {
    interval: Interval,
    quantity: i32,
    purpose: String,
    beneficiary: Option<String>,
}

fn parse_common(
    start: &str,
    end: &str,
    quantity: Option<i32>,
    purpose: Option<&str>,
    beneficiary: Option<&str>,
    tz: Tz,
) -> Result<Parsed, FieldErrors> {
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
        (Some(s), Some(en)) if e.is_empty() => {
            // An inverted or empty interval is a rule violation with its own code, reported by
            // the domain; keep it representable here.
            let interval = Interval { start: s, end: en };
            Ok(Parsed {
                interval,
                quantity,
                purpose,
                beneficiary,
            })
        }
        _ => Err(e),
    }
}

/// The member a booking is for, its row locked when a quota of `target` applies to it: quota
/// checks of one member then run one after the other (after the resource locks, always in
/// that order).
fn member_under_lock(conn: &mut DbConn, member_id: i64, target: &Target) -> AppResult<Member> {
    if target
        .quotas
        .iter()
        .any(|(q, _)| q.member_id.is_none_or(|m| m == member_id))
    {
        member_store::lock(conn, member_id)?;
    }
    member_for(conn, member_id)
}

fn member_for(conn: &mut DbConn, member_id: i64) -> AppResult<Member> {
    match member_store::find(conn, member_id) {
        Err(AppError::NotFound) => Err(AppError::validation("member_id", "Structure inconnue.")),
        other => other,
    }
}

fn block_of(iv: Interval, rules: &ResourceRules) -> Interval {
    iv.widen(
        Duration::minutes(rules.buffer_before_minutes.max(0).into()),
        Duration::minutes(rules.buffer_after_minutes.max(0).into()),
    )
}

fn insert_booking(
    conn: &mut DbConn,
    target: &Target,
    member_id: i64,
    actor: &Actor,
    series_id: Option<i64>,
    p: &Parsed,
    interval: Interval,
    now: DateTime<Utc>,
) -> AppResult<BookingRow> {
    let block = block_of(interval, &target.rules);
    let row = store::insert(
        conn,
        &NewBooking {
            resource_id: target.resource.row.id,
            member_id,
            created_by: Some(actor.user_id),
            series_id,
            start_at: to_db(interval.start),
            end_at: to_db(interval.end),
            block_start_at: to_db(block.start),
            block_end_at: to_db(block.end),
            quantity: p.quantity,
            exclusive: target.rules.capacity == 1,
            status: if target.resource.row.requires_approval {
                store::PENDING
            } else {
                store::CONFIRMED
            },
            purpose: &p.purpose,
            beneficiary: p.beneficiary.as_deref(),
            created_at: to_db(now),
            updated_at: to_db(now),
        },
    )?;
    store::note_span(
        conn,
        target.resource.row.id,
        block.duration().num_minutes() + 1,
    )?;
    Ok(row)
}

// ---- use cases ----

/// Books once or, with `recurrence`, a series. Runs inside the caller's write transaction.
/// The read-only part of a booking — the resource, its rules, parts and quotas — loaded before
/// the write transaction so the write lock is held for less time. Reading the configuration
/// early is harmless (a booking racing a settings change is as if it came just before it); what
/// the capacity rule depends on is read again inside the transaction (see `refresh_spans`).
#[derive(Clone)]
pub struct Prepared(Target);

pub fn prepare(conn: &mut DbConn, resource_id: i64, env: &BookingEnv) -> AppResult<Prepared> {
    load_target(conn, resource_id, env).map(Prepared)
}

/// The longest span of the resource and its parts bounds the overlap query: it changes with
/// bookings, so it is read under the lock.
fn refresh_spans(conn: &mut DbConn, mut target: Target) -> AppResult<Target> {
    let mut longest = i64::from(resource_store::longest_block(conn, target.resource.row.id)?);
    for id in &target.related {
        longest = longest.max(i64::from(resource_store::longest_block(conn, *id)?));
    }
    target.longest_minutes = longest;
    Ok(target)
}

/// The booked resource as the rules see it, read under the write lock.
/// - SQLite: `BEGIN IMMEDIATE` already holds the whole database; of what `prepare` read before,
///   only the spans can have changed in a way the checks depend on, and they are read again.
/// - PostgreSQL: `lock_and_load` locks the rows first, then reads everything. `prepare` is
///   not used: reading twice would only cost round trips.
fn target_under_lock(
    conn: &mut DbConn,
    resource_id: i64,
    prepared: Option<Prepared>,
    env: &BookingEnv,
) -> AppResult<Target> {
    if conn.backend() == crate::store::Backend::Sqlite {
        return match prepared {
            Some(Prepared(t)) if t.resource.row.id == resource_id => refresh_spans(conn, t),
            _ => load_target(conn, resource_id, env),
        };
    }
    lock_and_load(conn, resource_id, env)
}

pub fn book_tx(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BookingInput,
    env: &BookingEnv,
) -> AppResult<BookOutcome> {
    book_prepared_tx(conn, actor, input, env, None)
}

/// Books with what `prepare` loaded, when it is about this resource.
pub fn book_prepared_tx(
    conn: &mut DbConn,
    actor: &Actor,
    input: &BookingInput,
    env: &BookingEnv,
    prepared: Option<Prepared>,
) -> AppResult<BookOutcome> {
    let parsed = parse_common(
        &input.start,
        &input.end,
        input.quantity,
        input.purpose.as_deref(),
        input.beneficiary.as_deref(),
        env.tz,
    )
    .map_err(validation_refusal)?;
    let target = target_under_lock(conn, input.resource_id, prepared, env)?;
    authz::require(can_book_for(actor, input.member_id, target.kind))?;
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
                return Err(refuse(
                    conn,
                    &target,
                    &member,
                    parsed.interval,
                    parsed.quantity,
                    &[],
                    &verdict,
                    env,
                )?);
            }
            let row = insert_booking(
                conn,
                &target,
                member.id,
                actor,
                None,
                &parsed,
                parsed.interval,
                env.now,
            )?;
            Ok(BookOutcome::Single(out_of(
                &row,
                &target.resource.row.name,
                &member.name,
                actor,
            )))
        }
        Some(rec) => book_series(conn, actor, input, rec, &target, &member, &parsed, env),
    }
}

fn recurrence_refusal(message: String) -> AppError {
    AppError::Refused(Box::new(Refusal {
        status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_recurrence",
        detail: message.clone(),
        body: json!({"violations": [{"code": "invalid_recurrence", "message": message}], "conflicts": [], "suggestions": []}),
        suggest: None,
    }))
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
) -> AppResult<BookOutcome> {
    let rule = recurrence::parse_rule(&rec.rrule).map_err(|e| recurrence_refusal(e.to_string()))?;
    let mut exdates = Vec::new();
    for raw in &rec.exdates {
        exdates.push(ExDate::parse(raw).map_err(|e| recurrence_refusal(e.to_string()))?);
    }
    let local = |t: DateTime<Utc>| -> NaiveDateTime { t.with_timezone(&env.tz).naive_local() };
    let occurrences = recurrence::expand(
        &rule,
        local(parsed.interval.start),
        local(parsed.interval.end),
        env.tz,
        &exdates,
    )
    .map_err(|e| recurrence_refusal(e.to_string()))?;
    let mut accepted: Vec<Interval> = Vec::new();
    let mut held: Vec<ExistingBooking> = Vec::new();
    let mut refused: Vec<(Interval, Verdict)> = Vec::new();
    for occ in &occurrences {
        let Some(iv) = Interval::new(occ.start, occ.end) else {
            continue;
        };
        let verdict = evaluate(conn, target, member, iv, parsed.quantity, &[], &held, env)?;
        if verdict.ok() {
            // Later occurrences must see the earlier ones of the same series.
            held.push(ExistingBooking {
                id: -(held.len() as i64) - 1,
                member_id: member.id,
                interval: iv,
                quantity: parsed.quantity,
            });
            accepted.push(iv);
        } else {
            refused.push((iv, verdict));
        }
    }
    let mut skipped = Vec::new();
    for (iv, verdict) in &refused {
        let mut violations: Vec<ViolationOut> =
            verdict.violations.iter().map(ViolationOut::from).collect();
        if !verdict.conflicts.is_empty() {
            violations.push(ViolationOut {
                code: ViolationCode::CapacityExceeded.as_str().into(),
                message: format!(
                    "Déjà réservé : {}",
                    conflicts_json(conn, target, &verdict.conflicts)?
                ),
            });
        }
        skipped.push(SkippedOut {
            start: iv.start,
            end: iv.end,
            violations,
        });
    }
    if (!refused.is_empty() && !input.skip_conflicts) || accepted.is_empty() {
        let (status, code) = refused
            .first()
            .map(|(_, v)| classify(v))
            .unwrap_or((422, "invalid_recurrence"));
        let detail = format!(
            "{} occurrence(s) sur {} ne peuvent être réservées ; rien n'a été réservé.{}",
            refused.len(),
            occurrences.len(),
            if input.skip_conflicts {
                ""
            } else {
                " Utilisez skip_conflicts pour réserver les autres."
            }
        );
        let first_conflicts = match refused.first() {
            Some((_, v)) => conflicts_json(conn, target, &v.conflicts)?,
            None => json!([]),
        };
        return Err(AppError::Refused(Box::new(Refusal {
            status: axum::http::StatusCode::from_u16(status)
                .unwrap_or(axum::http::StatusCode::CONFLICT),
            code,
            detail,
            body: json!({
                "violations": skipped.first().map(|s| s.violations.clone()).unwrap_or_default(),
                "occurrences": skipped,
                "conflicts": first_conflicts,
                "suggestions": [],
            }),
            suggest: None,
        })));
    }
    let rule_text = format!(
        "{}{}",
        rule,
        if rec.exdates.is_empty() {
            String::new()
        } else {
            format!(";EXDATE={}", rec.exdates.join(","))
        }
    );
    let series_id = store::insert_series(
        conn,
        target.resource.row.id,
        member.id,
        &rule_text,
        actor.user_id,
        to_db(env.now),
    )?;
    let mut bookings = Vec::new();
    for iv in accepted {
        let row = insert_booking(
            conn,
            target,
            member.id,
            actor,
            Some(series_id),
            parsed,
            iv,
            env.now,
        )?;
        bookings.push(out_of(&row, &target.resource.row.name, &member.name, actor));
    }
    Ok(BookOutcome::Series(SeriesOut {
        series_id,
        bookings,
        skipped,
    }))
}

fn out_of(b: &BookingRow, resource_name: &str, member_name: &str, actor: &Actor) -> BookingOut {
    let details = can_see_details(actor, b.member_id);
    BookingOut {
        id: b.id,
        resource_id: b.resource_id,
        resource_name: resource_name.to_string(),
        member_id: b.member_id,
        member_name: member_name.to_string(),
        start: from_db(b.start_at),
        end: from_db(b.end_at),
        quantity: b.quantity,
        status: b.status.clone(),
        series_id: b.series_id,
        purpose: details.then(|| b.purpose.clone()),
        beneficiary: if details { b.beneficiary.clone() } else { None },
        decision_reason: if details {
            b.decision_reason.clone()
        } else {
            None
        },
    }
}

/// Rows as the actor may see them, with resource and member names.
pub fn describe(
    conn: &mut DbConn,
    actor: &Actor,
    rows: &[BookingRow],
) -> AppResult<Vec<BookingOut>> {
    let member_ids: Vec<i64> = rows
        .iter()
        .map(|b| b.member_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let members: HashMap<i64, String> = member_store::names(conn, &member_ids)?
        .into_iter()
        .collect();
    let resource_ids: BTreeSet<i64> = rows.iter().map(|b| b.resource_id).collect();
    let mut resources: HashMap<i64, String> = HashMap::new();
    for id in resource_ids {
        resources.insert(id, resource_store::find(conn, id)?.row.name);
    }
    Ok(rows
        .iter()
        .map(|b| {
            out_of(
                b,
                resources
                    .get(&b.resource_id)
                    .map(String::as_str)
                    .unwrap_or(""),
                members.get(&b.member_id).map(String::as_str).unwrap_or(""),
                actor,
            )
        })
        .collect())
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<BookingOut> {
    let row = store::find(conn, id)?;
    describe(conn, actor, &[row]).map(|mut v| v.remove(0))
}

fn can_modify(actor: &Actor, b: &BookingRow, kind: ResourceKind) -> bool {
    can_book_for(actor, b.member_id, kind)
}

/// An active booking the actor may move or cancel, with its resource. Bookings of other
/// members are reported as missing to those who may not even see their details.
fn modifiable(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    env: &BookingEnv,
) -> AppResult<(BookingRow, Target)> {
    let b = store::find(conn, id)?;
    let target = load_target(conn, b.resource_id, env)?;
    if !can_modify(actor, &b, target.kind) {
        return Err(if can_see_details(actor, b.member_id) {
            AppError::Forbidden
        } else {
            AppError::NotFound
        });
    }
    if !b.is_active() {
        return Err(AppError::Conflict {
            code: "not_active",
            detail: "Cette réservation est annulée ou refusée.".into(),
        });
    }
    Ok((b, target))
}

/// A closed month freezes every booking in it.
fn ensure_open_month(conn: &mut DbConn, iv: Interval, tz: Tz) -> AppResult<()> {
    match store::first_closed_month(conn, &months_of(iv, tz))? {
        Some(month) => Err(AppError::Conflict {
            code: "month_closed",
            detail: format!("Le mois {month} est clôturé : la réservation ne peut plus changer."),
        }),
        None => Ok(()),
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BookingChanges {
    pub start: Option<String>,
    pub end: Option<String>,
    pub quantity: Option<i32>,
    pub purpose: Option<String>,
    pub beneficiary: Option<String>,
    /// "one" (default) or "following": this occurrence and the later ones of its series.
    pub scope: Option<String>,
}

fn following(conn: &mut DbConn, b: &BookingRow) -> AppResult<Vec<BookingRow>> {
    let Some(series) = b.series_id else {
        return Ok(vec![b.clone()]);
    };
    Ok(store::list(
        conn,
        &BookingFilter {
            series_id: Some(series),
            statuses: Some(store::ACTIVE.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        },
    )?
    .into_iter()
    .filter(|o| o.start_at >= b.start_at)
    .collect())
}

fn scope_following(scope: Option<&str>) -> AppResult<bool> {
    match scope.unwrap_or("one") {
        "one" => Ok(false),
        "following" => Ok(true),
        _ => Err(AppError::validation(
            "scope",
            "Portée attendue : one ou following.",
        )),
    }
}

/// Moves (or resizes) a booking, or this and the following occurrences of its series by the
/// same shift in local time. Every rule is checked again, ignoring the bookings being moved.
pub fn move_tx(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    changes: &BookingChanges,
    env: &BookingEnv,
) -> AppResult<Vec<BookingOut>> {
    let (b, target) = modifiable(conn, actor, id, env)?;
    let tz = env.tz;
    let old = interval_of(&b).ok_or_else(|| AppError::internal("stored interval"))?;
    if old.start <= env.now {
        // What has begun is history: it is billed as it was.
        return Err(in_past_refusal(
            "Une réservation commencée ne se déplace plus.",
        ));
    }
    let start = changes
        .start
        .clone()
        .unwrap_or_else(|| old.start.to_rfc3339());
    let end = changes.end.clone().unwrap_or_else(|| old.end.to_rfc3339());
    let parsed = parse_common(
        &start,
        &end,
        Some(changes.quantity.unwrap_or(b.quantity)),
        Some(changes.purpose.as_deref().unwrap_or(&b.purpose)),
        changes.beneficiary.as_deref().or(b.beneficiary.as_deref()),
        tz,
    )
    .map_err(validation_refusal)?;
    let target = lock(conn, target, env)?;
    let member = member_under_lock(conn, b.member_id, &target)?;
    let group = if scope_following(changes.scope.as_deref())? {
        following(conn, &b)?
    } else {
        vec![b.clone()]
    };
    let ignore: Vec<i64> = group.iter().map(|g| g.id).collect();
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).naive_local();
    let shift_start = local(parsed.interval.start) - local(old.start);
    let shift_end = local(parsed.interval.end) - local(old.end);
    let mut planned = Vec::new();
    let mut held: Vec<ExistingBooking> = Vec::new();
    for g in &group {
        let giv = interval_of(g).ok_or_else(|| AppError::internal("stored interval"))?;
        ensure_open_month(conn, giv, tz)?;
        let iv = if g.id == b.id {
            parsed.interval
        } else {
            let s = crate::domain::time::local_to_utc(local(giv.start) + shift_start, tz);
            let e = crate::domain::time::local_to_utc(local(giv.end) + shift_end, tz);
            match (s, e) {
                (Ok(s), Ok(e)) => Interval { start: s, end: e },
                _ => {
                    return Err(validation_refusal(FieldErrors::single(
                        "start",
                        "Une occurrence déplacée tomberait sur un changement d'heure.",
                    )))
                }
            }
        };
        let verdict = evaluate(
            conn,
            &target,
            &member,
            iv,
            parsed.quantity,
            &ignore,
            &held,
            env,
        )?;
        if !verdict.ok() {
            return Err(refuse(
                conn,
                &target,
                &member,
                iv,
                parsed.quantity,
                &ignore,
                &verdict,
                env,
            )?);
        }
        held.push(ExistingBooking {
            id: -(held.len() as i64) - 1,
            member_id: member.id,
            interval: iv,
            quantity: parsed.quantity,
        });
        planned.push((g.id, iv));
    }
    // Shifting a series later: move the last occurrence first, so none lands on a sibling's
    // slot that is still occupied (PostgreSQL checks its exclusion constraint per statement).
    if shift_start > chrono::TimeDelta::zero() {
        planned.reverse();
    }
    let mut out = Vec::new();
    for (gid, iv) in planned {
        let block = block_of(iv, &target.rules);
        let row = store::apply_move(
            conn,
            gid,
            &store::Move {
                start_at: to_db(iv.start),
                end_at: to_db(iv.end),
                block_start_at: to_db(block.start),
                block_end_at: to_db(block.end),
                quantity: parsed.quantity,
                purpose: &parsed.purpose,
                beneficiary: parsed.beneficiary.as_deref(),
            },
            to_db(env.now),
        )?;
        store::note_span(
            conn,
            target.resource.row.id,
            block.duration().num_minutes() + 1,
        )?;
        out.push(out_of(&row, &target.resource.row.name, &member.name, actor));
    }
    out.sort_by_key(|b| (b.start, b.id));
    Ok(out)
}

/// Cancels a booking, or this and the following occurrences of its series.
pub fn cancel_tx(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    scope: Option<&str>,
    env: &BookingEnv,
) -> AppResult<Vec<BookingOut>> {
    let (b, target) = modifiable(conn, actor, id, env)?;
    lock(conn, target, env)?;
    // Read again under the lock: another writer may have changed it meanwhile.
    let b = store::find(conn, b.id)?;
    if !b.is_active() {
        return Err(AppError::Conflict {
            code: "not_active",
            detail: "Cette réservation est déjà annulée ou refusée.".into(),
        });
    }
    let group = if scope_following(scope)? {
        following(conn, &b)?
    } else {
        vec![b]
    };
    let mut out = Vec::new();
    for g in group {
        let iv = interval_of(&g).ok_or_else(|| AppError::internal("stored interval"))?;
        if iv.end <= env.now {
            return Err(in_past_refusal(
                "Une réservation terminée ne s'annule plus.",
            ));
        }
        ensure_open_month(conn, iv, env.tz)?;
        let row = store::set_status(
            conn,
            g.id,
            &store::ACTIVE,
            store::CANCELLED,
            None,
            Some(actor.user_id),
            to_db(env.now),
        )?;
        out.push(row);
    }
    describe(conn, actor, &out)
}

/// Approves or rejects a pending booking (resource managers).
pub fn decide_tx(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    approve: bool,
    reason: Option<&str>,
    env: &BookingEnv,
) -> AppResult<BookingOut> {
    authz::require(can_decide(actor))?;
    let b = store::find(conn, id)?;
    let target = load_target(conn, b.resource_id, env)?;
    lock(conn, target, env)?;
    let b = store::find(conn, id)?;
    if b.status == store::PENDING && from_db(b.start_at) <= env.now {
        return Err(AppError::Conflict {
            code: "not_pending",
            detail: "Cette demande n'a pas été validée avant son début : elle est refusée automatiquement.".into(),
        });
    }
    if b.status != store::PENDING {
        return Err(AppError::Conflict {
            code: "not_pending",
            detail: format!(
                "Cette réservation n'est pas en attente de validation (état : {}).",
                status_label(&b.status)
            ),
        });
    }
    let reason =
        optional_text(reason.unwrap_or(""), 500).map_err(|m| AppError::validation("reason", m))?;
    if !approve && reason.is_none() {
        return Err(AppError::validation(
            "reason",
            "Indiquez le motif du refus : il est transmis à la structure.",
        ));
    }
    let status = if approve {
        store::CONFIRMED
    } else {
        store::REJECTED
    };
    let row = store::set_status(
        conn,
        id,
        &[store::PENDING],
        status,
        reason.as_deref(),
        Some(actor.user_id),
        to_db(env.now),
    )?;
    get(conn, actor, row.id)
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        store::PENDING => "en attente de validation",
        store::CONFIRMED => "confirmée",
        store::CANCELLED => "annulée",
        store::REJECTED => "refusée",
        _ => "inconnue",
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct BookingQuery {
    pub resource_id: Option<i64>,
    pub member_id: Option<i64>,
    /// Bookings ending after this instant (RFC 3339 or local time).
    pub from: Option<String>,
    /// Bookings starting before this instant.
    pub to: Option<String>,
    /// pending, confirmed, cancelled, rejected; default: pending and confirmed.
    pub status: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    q: &BookingQuery,
    tz: Tz,
) -> AppResult<Vec<BookingOut>> {
    let mut e = FieldErrors::new();
    let from = q
        .from
        .as_deref()
        .and_then(|f| e.check("from", parse_instant(f, tz).map_err(|x| x.to_string())));
    let to =
        q.to.as_deref()
            .and_then(|t| e.check("to", parse_instant(t, tz).map_err(|x| x.to_string())));
    let statuses = match q.status.as_deref() {
        None | Some("") => store::ACTIVE.iter().map(|s| s.to_string()).collect(),
        Some(s) => {
            let list: Vec<String> = s.split(',').map(|x| x.trim().to_string()).collect();
            if list.iter().any(|x| {
                ![
                    store::PENDING,
                    store::CONFIRMED,
                    store::CANCELLED,
                    store::REJECTED,
                ]
                .contains(&x.as_str())
            }) {
                e.add(
                    "status",
                    "État attendu : pending, confirmed, cancelled ou rejected.",
                );
            }
            list
        }
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let filter = BookingFilter {
        resource_ids: q.resource_id.map(|r| vec![r]),
        member_ids: q.member_id.map(|m| vec![m]),
        from: from.map(to_db),
        to: to.map(to_db),
        statuses: Some(statuses),
        series_id: None,
        limit: Some(5000),
    };
    let rows = store::list(conn, &filter)?;
    describe(conn, actor, &rows)
}

/// Rejects the pending bookings whose start has come (run before decisions and periodically).
pub fn sweep_tx(conn: &mut DbConn, now: DateTime<Utc>) -> AppResult<usize> {
    store::reject_stale_pending(conn, to_db(now))
}

/// Pending bookings, oldest request first, after rejecting those whose start has passed.
pub fn approval_queue(
    conn: &mut DbConn,
    actor: &Actor,
    env: &BookingEnv,
) -> AppResult<Vec<BookingOut>> {
    authz::require(can_decide(actor))?;
    conn.write(|c| store::reject_stale_pending(c, to_db(env.now)))?;
    let rows = store::list(
        conn,
        &BookingFilter {
            statuses: Some(vec![store::PENDING.into()]),
            ..Default::default()
        },
    )?;
    describe(conn, actor, &rows)
}

/// Free intervals of a resource with the free quantity, honouring hours, closures and buffers.
pub fn availability(
    conn: &mut DbConn,
    _actor: &Actor,
    resource_id: i64,
    from: &str,
    to: &str,
    env: &BookingEnv,
) -> AppResult<Availability> {
    let mut e = FieldErrors::new();
    let f = e.check(
        "from",
        parse_instant(from, env.tz).map_err(|x| x.to_string()),
    );
    let t = e.check("to", parse_instant(to, env.tz).map_err(|x| x.to_string()));
    let window = match (f, t) {
        (Some(f), Some(t)) if f < t && t - f <= Duration::days(MAX_AVAILABILITY_DAYS) => {
            Interval { start: f, end: t }
        }
        (Some(_), Some(_)) => {
            e.add(
                "to",
                format!(
                    "La fenêtre doit être non vide et durer au plus {MAX_AVAILABILITY_DAYS} jours."
                ),
            );
            return Err(AppError::Validation(e));
        }
        _ => return Err(AppError::Validation(e)),
    };
    let target = match load_target(conn, resource_id, env) {
        Err(AppError::Validation(_)) => return Err(AppError::NotFound),
        other => other?,
    };
    let closures = closures_over(conn, resource_id, window)?;
    let existing = existing_over(conn, &target, lookup_range(window, &target.rules))?;
    let free = free_intervals(window, &target.rules, &existing, &closures, env.tz)
        .into_iter()
        .map(|(iv, q)| FreeSlot {
            start: iv.start,
            end: iv.end,
            quantity: q,
        })
        .collect();
    Ok(Availability { resource_id, free })
}

/// Everything a calendar needs about one resource over a window: where it can be booked and
/// the active bookings (as the actor may see them).
pub struct Calendar {
    pub resource: Resource,
    pub bookable: Vec<Interval>,
    pub bookings: Vec<BookingOut>,
}

pub fn calendar(
    conn: &mut DbConn,
    actor: &Actor,
    resource_id: i64,
    window: Interval,
    env: &BookingEnv,
) -> AppResult<Calendar> {
    let target = load_target(conn, resource_id, env).map_err(|e| match e {
        AppError::Validation(_) => AppError::NotFound,
        other => other,
    })?;
    let closures = closures_over(conn, resource_id, window)?;
    let bookable =
        crate::domain::booking::bookable_intervals(window, &target.rules, &closures, env.tz);
    let mut ids = target.related.clone();
    ids.push(resource_id);
    let rows = store::active_blocking(
        conn,
        &ids,
        to_db(window.start),
        to_db(window.end),
        target.longest_minutes,
    )?;
    let bookings = describe(conn, actor, &rows)?;
    Ok(Calendar {
        resource: target.resource,
        bookable,
        bookings,
    })
}

// ---- quotas ----

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuotaInput {
    /// None: applies to each member separately.
    #[serde(default)]
    pub member_id: Option<i64>,
    #[serde(default)]
    pub resource_id: Option<i64>,
    /// room, desk, vehicle, equipment, staff (when no resource_id).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub max_minutes_per_month: Option<i32>,
    #[serde(default)]
    pub max_future_bookings: Option<i32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaOut {
    pub id: i64,
    pub member_id: Option<i64>,
    pub resource_id: Option<i64>,
    pub kind: Option<String>,
    pub max_minutes_per_month: Option<i32>,
    pub max_future_bookings: Option<i32>,
    /// Plain French, e.g. "20 h par mois de salles, par structure".
    pub description: String,
}

pub fn quota_out(
    q: &store::Quota,
    resource_name: Option<&str>,
    member_name: Option<&str>,
) -> QuotaOut {
    let scope = match (&q.resource_id, &q.kind) {
        (Some(_), _) => format!("« {} »", resource_name.unwrap_or("ressource")),
        (None, Some(k)) => ResourceKind::parse(k)
            .map(|k| k.plural_label().to_lowercase())
            .unwrap_or_else(|| k.clone()),
        (None, None) => "toutes ressources".into(),
    };
    let mut limits = Vec::new();
    if let Some(m) = q.max_minutes_per_month {
        limits.push(format!(
            "{} h{} par mois",
            m / 60,
            if m % 60 > 0 {
                format!(" {:02}", m % 60)
            } else {
                String::new()
            }
        ));
    }
    if let Some(n) = q.max_future_bookings {
        limits.push(format!("{n} réservation(s) à venir"));
    }
    let who = member_name
        .map(|n| format!("pour {n}"))
        .unwrap_or_else(|| "par structure".into());
    QuotaOut {
        id: q.id,
        member_id: q.member_id,
        resource_id: q.resource_id,
        kind: q.kind.clone(),
        max_minutes_per_month: q.max_minutes_per_month,
        max_future_bookings: q.max_future_bookings,
        description: format!("{} au plus — {scope}, {who}", limits.join(" et ")),
    }
}

pub fn list_quotas(conn: &mut DbConn, _actor: &Actor) -> AppResult<Vec<QuotaOut>> {
    let quotas = store::list_quotas(conn)?;
    let mut out = Vec::new();
    for q in &quotas {
        let r = match q.resource_id {
            Some(id) => Some(resource_store::find(conn, id)?.row.name),
            None => None,
        };
        let m = match q.member_id {
            Some(id) => member_store::names(conn, &[id])?.pop().map(|(_, n)| n),
            None => None,
        };
        out.push(quota_out(q, r.as_deref(), m.as_deref()));
    }
    Ok(out)
}

pub fn create_quota(
    conn: &mut DbConn,
    actor: &Actor,
    input: &QuotaInput,
    now: DateTime<Utc>,
) -> AppResult<QuotaOut> {
    authz::require(can_decide(actor))?;
    let mut e = FieldErrors::new();
    if input.max_minutes_per_month.is_none() && input.max_future_bookings.is_none() {
        e.add(
            "max_minutes_per_month",
            "Indiquez un plafond d'heures par mois ou de réservations à venir.",
        );
    }
    if input
        .max_minutes_per_month
        .is_some_and(|m| !(1..=44_640).contains(&m))
    {
        e.add("max_minutes_per_month", "Entre 1 et 44 640 minutes.");
    }
    if input
        .max_future_bookings
        .is_some_and(|m| !(1..=10_000).contains(&m))
    {
        e.add("max_future_bookings", "Entre 1 et 10 000.");
    }
    if let Some(k) = &input.kind {
        if ResourceKind::parse(k).is_none() {
            e.add("kind", "Type de ressource inconnu.");
        }
    }
    if input.kind.is_some() && input.resource_id.is_some() {
        e.add("kind", "Choisissez une ressource ou un type, pas les deux.");
    }
    if let Some(r) = input.resource_id {
        if matches!(resource_store::find(conn, r), Err(AppError::NotFound)) {
            e.add("resource_id", "Ressource inconnue.");
        }
    }
    if let Some(m) = input.member_id {
        if member_store::names(conn, &[m])?.is_empty() {
            e.add("member_id", "Structure inconnue.");
        }
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e));
    }
    let q = conn.write(|c| {
        store::insert_quota(
            c,
            &store::NewQuota {
                member_id: input.member_id,
                resource_id: input.resource_id,
                kind: input.kind.clone(),
                max_minutes_per_month: input.max_minutes_per_month,
                max_future_bookings: input.max_future_bookings,
            },
            to_db(now),
        )
    })?;
    Ok(list_quotas(conn, actor)?
        .into_iter()
        .find(|o| o.id == q.id)
        .unwrap_or_else(|| quota_out(&q, None, None)))
}

pub fn delete_quota(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
    authz::require(can_decide(actor))?;
    if conn.write(|c| store::delete_quota(c, id))? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Whether the actor books for several members or the whole pole (forms offer a choice).
pub fn bookable_members(actor: &Actor) -> Option<Vec<i64>> {
    if actor.is_admin() || actor.has(PoleRole::ResourceManager) || actor.has(PoleRole::GeManager) {
        None
    } else {
        Some(
            actor
                .memberships
                .iter()
                .filter(|m| matches!(m.role, MemberRole::Booker | MemberRole::MemberAdmin))
                .map(|m| m.member_id)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_touched_in_local_time() {
        let tz = chrono_tz::Europe::Paris;
        let iv = Interval::new(
            parse_instant("2027-01-31T23:00", tz).unwrap(),
            parse_instant("2027-02-01T00:00", tz).unwrap(),
        )
        .unwrap();
        assert_eq!(months_of(iv, tz), vec!["2027-01"]);
        let iv = Interval::new(
            parse_instant("2027-12-31T23:00", tz).unwrap(),
            parse_instant("2028-01-01T01:00", tz).unwrap(),
        )
        .unwrap();
        assert_eq!(months_of(iv, tz), vec!["2027-12", "2028-01"]);
        let (s, e) = month_bounds("2027-03", tz).unwrap();
        assert_eq!(
            (e - s).num_hours(),
            31 * 24 - 1,
            "March loses an hour in Paris"
        );
    }
}
