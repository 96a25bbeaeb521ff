//! What the home page shows each person: one section per role they hold, each with what that
//! role acts on (their member's next bookings and month so far, the requests to decide, the
//! month's statements, the shared staff's week, the instance's health).
//!
//! Authorisation is decided here, by role and by member: a section exists only for whoever
//! holds the role, and a member's section only for the members the person belongs to, so the
//! page renders what it is given and never filters.

use chrono::{DateTime, Datelike, Utc};

use super::allocation::{self, MonthStatus};
use super::authz::Actor;
use super::bookings::{describe, BookingView};
use super::closures::{self, ClosureView};
use super::outbox::{self, OutboxCounts};
use super::planning::{self, WeekQuery};
use super::App;
use crate::domain::ids::MemberId;
use crate::domain::labour;
use crate::domain::month::Month;
use crate::domain::resource::ResourceKind;
use crate::domain::role::{MemberRole, PoleRole};
use crate::domain::status::BookingStatus;
use crate::domain::time::Interval;
use crate::error::AppResult;
use crate::store::bookings::{self as booking_store, BookingFilter};
use crate::store::{from_db, resources as resource_store, to_db, DbConn};

/// Next bookings shown per member.
pub const UPCOMING: i64 = 8;
/// Requests to decide shown (the count covers them all).
pub const FIRST_REQUESTS: i64 = 5;
/// Today's bookings shown (the count covers them all).
pub const TODAY: i64 = 20;
/// Closures shown, current and coming.
pub const CLOSURES: usize = 5;

/// The home page of one person: the sections of the roles they hold, each `None` or empty
/// when they do not hold it.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub today: chrono::NaiveDate,
    /// One per member the person books for (booker or member admin), in membership order.
    pub members: Vec<MemberSection>,
    /// The kinds of resource in the catalogue, for the « Réserver » buttons (empty when the
    /// person books for no member).
    pub bookable_kinds: Vec<ResourceKind>,
    /// Resource manager.
    pub resources: Option<ResourcesSection>,
    /// Treasurer.
    pub treasury: Option<TreasurySection>,
    /// Employer-group manager.
    pub staff: Option<StaffSection>,
    /// Administrator.
    pub health: Option<HealthSection>,
}

impl Dashboard {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
            && self.resources.is_none()
            && self.treasury.is_none()
            && self.staff.is_none()
            && self.health.is_none()
    }
}

/// A member's bookings and its month so far, for its bookers and member admins.
#[derive(Debug, Clone)]
pub struct MemberSection {
    pub member_id: MemberId,
    pub member_name: String,
    pub role: MemberRole,
    /// Active bookings not yet over, soonest first (at most [`UPCOMING`]).
    pub upcoming: Vec<BookingView>,
    /// How many there are in all.
    pub upcoming_total: i64,
    pub month: Month,
    /// Closed: the amount is the statement's; open: an estimate from today's records.
    pub month_status: MonthStatus,
    /// Active bookings of the month (clipped to it): how many, and their duration.
    pub month_bookings: i64,
    pub month_booked_minutes: i64,
    /// The member's statement of the month as computed today (tariffs, cost shares, staff,
    /// adjustments), by the allocation code itself.
    pub month_total_cents: i64,
}

/// The requests to decide, today's bookings and the closures, for the resource manager.
#[derive(Debug, Clone)]
pub struct ResourcesSection {
    pub requests_total: i64,
    /// The first [`FIRST_REQUESTS`], soonest first.
    pub requests: Vec<BookingView>,
    /// Active bookings of resources they manage touching today (at most [`TODAY`]).
    pub today: Vec<BookingView>,
    pub today_total: i64,
    /// Closures not yet over: current ones first, then the coming ones (at most
    /// [`CLOSURES`]).
    pub closures: Vec<ClosureView>,
    pub closures_total: usize,
    pub now: DateTime<Utc>,
}

/// Every member's statement of the current month so far, for the treasurer.
#[derive(Debug, Clone)]
pub struct TreasurySection {
    pub month: Month,
    pub status: MonthStatus,
    pub total_cents: i64,
    /// Members with at least one line, by name.
    pub members: Vec<MemberTotal>,
    /// Cost entries the month cannot be split with yet.
    pub problems: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberTotal {
    pub member_id: MemberId,
    pub member_name: String,
    pub total_cents: i64,
}

/// This week's shared staff, for the employer-group manager.
#[derive(Debug, Clone)]
pub struct StaffSection {
    pub monday: chrono::NaiveDate,
    pub employees: Vec<EmployeeLine>,
    pub warnings: usize,
    pub violations: usize,
}

#[derive(Debug, Clone)]
pub struct EmployeeLine {
    pub id: crate::domain::ids::ResourceId,
    pub name: String,
    pub worked_minutes: i64,
    pub contract_minutes: i64,
    pub warnings: usize,
    pub violations: usize,
}

/// The instance, for the administrator.
#[derive(Debug, Clone)]
pub struct HealthSection {
    pub version: &'static str,
    /// "sqlite" or "postgres".
    pub backend: &'static str,
    pub database_bytes: i64,
    pub outbox: OutboxCounts,
    /// Whether mail leaves the server (an SMTP server is configured).
    pub smtp_configured: bool,
}

/// The home page of this person.
pub async fn dashboard(app: &App, actor: &Actor) -> AppResult<Dashboard> {
    let (now, tz, today) = (app.now(), app.tz(), app.today());
    let month = Month::containing(now, tz);
    let booking_for: Vec<_> = actor
        .memberships
        .iter()
        .filter(|m| matches!(m.role, MemberRole::Booker | MemberRole::MemberAdmin))
        .cloned()
        .collect();

    // Amounts come from the allocation code (it also keeps the month's recurring costs and
    // usage current): never a second reckoning of the tariffs here.
    let mut totals = Vec::new();
    let mut month_status = MonthStatus::Open;
    for m in &booking_for {
        let (a, s) = allocation::statement(app, actor, month, m.member_id).await?;
        month_status = a.status;
        totals.push(s.total_cents);
    }
    let treasury = if actor.has(PoleRole::Treasurer) {
        let a = allocation::allocation(app, actor, month).await?;
        Some(TreasurySection {
            month,
            status: a.status,
            total_cents: a.total_cents,
            members: a
                .members
                .iter()
                .map(|m| MemberTotal {
                    member_id: m.member_id,
                    member_name: m.member_name.clone(),
                    total_cents: m.total_cents,
                })
                .collect(),
            problems: a.problems.len(),
        })
    } else {
        None
    };
    let staff = if actor.has(PoleRole::GeManager) {
        let week = planning::week(app, actor, WeekQuery::default()).await?;
        let employees: Vec<EmployeeLine> = week
            .employees
            .iter()
            .map(|e| EmployeeLine {
                id: e.employee.id,
                name: e.employee.name.clone(),
                worked_minutes: e.worked_minutes,
                contract_minutes: e.contract_minutes,
                warnings: e.warnings.len(),
                violations: e.violations.len(),
            })
            .collect();
        Some(StaffSection {
            monday: week.monday,
            warnings: employees.iter().map(|e| e.warnings).sum(),
            violations: employees.iter().map(|e| e.violations).sum(),
            employees,
        })
    } else {
        None
    };
    let health = if actor.is_admin() {
        Some(HealthSection {
            version: env!("CARGO_PKG_VERSION"),
            backend: app.backend_name(),
            database_bytes: app.db().run(|c| c.size_bytes()).await?,
            outbox: outbox::counts(app, actor).await?,
            smtp_configured: app.config().smtp_url.is_some(),
        })
    } else {
        None
    };

    let actor = actor.clone();
    app.db()
        .run(move |c| {
            let month_span = month.bounds(tz);
            let mut members = Vec::new();
            for (m, total) in booking_for.iter().zip(totals) {
                let (upcoming, upcoming_total) = views(
                    c,
                    &actor,
                    &BookingFilter {
                        member_ids: Some(vec![m.member_id]),
                        from: Some(to_db(now)),
                        statuses: Some(BookingStatus::ACTIVE.to_vec()),
                        ..Default::default()
                    },
                    UPCOMING,
                    now,
                )?;
                let (count, minutes) = booked_in(c, m.member_id, month_span)?;
                members.push(MemberSection {
                    member_id: m.member_id,
                    member_name: m.member_name.clone(),
                    role: m.role,
                    upcoming,
                    upcoming_total,
                    month,
                    month_status,
                    month_bookings: count,
                    month_booked_minutes: minutes,
                    month_total_cents: total,
                });
            }
            let bookable_kinds = if members.is_empty() {
                Vec::new()
            } else {
                resource_store::kinds_in_use(c)?
            };
            let resources = if actor.has(PoleRole::ResourceManager) {
                Some(resources_section(c, &actor, today, now, tz)?)
            } else {
                None
            };
            Ok(Dashboard {
                today,
                members,
                bookable_kinds,
                resources,
                treasury,
                staff,
                health,
            })
        })
        .await
}

/// Rows of a filter as the actor sees them, at most `limit`, with how many match in all.
fn views(
    c: &mut DbConn,
    actor: &Actor,
    filter: &BookingFilter,
    limit: i64,
    now: DateTime<Utc>,
) -> AppResult<(Vec<BookingView>, i64)> {
    let rows = booking_store::list(c, filter, None, limit)?;
    let total = if (rows.len() as i64) < limit {
        rows.len() as i64
    } else {
        booking_store::count(c, filter)?
    };
    Ok((describe(c, actor, &rows, now)?, total))
}

/// A member's active bookings touching `span`: how many, and their minutes inside it.
fn booked_in(c: &mut DbConn, member: MemberId, span: Interval) -> AppResult<(i64, i64)> {
    let rows = booking_store::list(
        c,
        &BookingFilter {
            member_ids: Some(vec![member]),
            from: Some(to_db(span.start)),
            to: Some(to_db(span.end)),
            statuses: Some(BookingStatus::ACTIVE.to_vec()),
            ..Default::default()
        },
        None,
        i64::MAX,
    )?;
    let minutes = rows
        .iter()
        .filter_map(|b| Interval::new(from_db(b.start_at), from_db(b.end_at)))
        .filter_map(|iv| iv.intersection(&span))
        .map(|iv| iv.duration().num_minutes())
        .sum();
    Ok((rows.len() as i64, minutes))
}

fn resources_section(
    c: &mut DbConn,
    actor: &Actor,
    today: chrono::NaiveDate,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> AppResult<ResourcesSection> {
    let requests_total = booking_store::count_requests(c, to_db(now))?;
    let rows = booking_store::first_requests(c, to_db(now), FIRST_REQUESTS)?;
    let requests = describe(c, actor, &rows, now)?;
    let day = labour::day_bounds(today, tz);
    let (today_views, today_total) = views(
        c,
        actor,
        &BookingFilter {
            from: Some(to_db(day.start)),
            to: Some(to_db(day.end)),
            statuses: Some(BookingStatus::ACTIVE.to_vec()),
            ..Default::default()
        },
        TODAY,
        now,
    )?;
    let mut all_closures = closures::coming_on(c, None, now)?;
    all_closures.sort_by_key(|x| (x.start, x.id));
    let closures_total = all_closures.len();
    all_closures.truncate(CLOSURES);
    Ok(ResourcesSection {
        requests_total,
        requests,
        today: today_views,
        today_total,
        closures: all_closures,
        closures_total,
        now,
    })
}

/// Requests still to decide, for the counter beside « Validation »: one `COUNT`, and only
/// for those who decide.
pub fn requests_to_decide(
    c: &mut DbConn,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<Option<i64>> {
    if !super::authz::can_decide(actor) {
        return Ok(None);
    }
    booking_store::count_requests(c, to_db(now)).map(Some)
}

/// The year the page speaks of, for dates that omit it.
pub fn this_year(d: &Dashboard) -> i32 {
    d.today.year()
}
