//! Reading bookings: one, a filtered page of them, the free time of a resource, and what a
//! calendar shows.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::app::authz::{self, Actor};
use crate::app::resources::ResourceView;
use crate::app::App;
use crate::domain::booking::{bookable_intervals, free_intervals, lookup_range};
use crate::domain::grid;
use crate::domain::ids::{BookingId, MemberId, ResourceId};
use crate::domain::labour::day_bounds;
use crate::domain::resource::ResourceKind;
use crate::domain::status::BookingStatus;
use crate::domain::text::Search;
use crate::domain::time::{parse_instant, Interval};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::store::bookings::{self as store, After, BookingFilter, StaffSeen};
use crate::store::{from_db, resources as resource_store, to_db, DbConn};

use super::target::{self, closures_over, usage_over};
use super::views::{describe, BookingView};
use super::BookingEnv;

pub const MAX_AVAILABILITY_DAYS: i64 = 366;
/// Bookings per page of a listing, unless the client asks for fewer or more.
pub const DEFAULT_PAGE: i64 = 5000;
pub const MAX_PAGE: i64 = 5000;

/// One booking; an assignment of a shared employee carries what the working-time rules say
/// of it today (overtime, Sunday work…).
pub async fn get(app: &App, actor: &Actor, id: BookingId) -> AppResult<BookingView> {
    let (actor, env) = (actor.clone(), BookingEnv::of(app));
    app.db()
        .run(move |c| {
            let row = store::find(c, id)?;
            // Another member's assignment of a shared employee is not theirs to read: the
            // same answer as a booking that does not exist.
            let label = resource_store::labels(c, &[row.resource_id])?
                .into_iter()
                .next()
                .ok_or(AppError::NotFound)?;
            let bookable = authz::Bookable {
                kind: label.kind,
                employer: label.employer_member_id,
            };
            if !authz::sees_booking(&actor, row.member_id, bookable) {
                return Err(AppError::NotFound);
            }
            let labour = super::rules::labour_warnings_on(c, &row, &env)?;
            let mut view = describe(c, &actor, &[row], env.now)?
                .into_iter()
                .next()
                .ok_or(AppError::NotFound)?;
            view.warnings.extend(labour);
            Ok(view)
        })
        .await
}

/// A listing's filters as the API and the pages send them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingQuery {
    pub resource_id: Option<ResourceId>,
    pub member_id: Option<MemberId>,
    /// Bookings ending after this instant (RFC 3339 or local time).
    pub from: Option<String>,
    /// Bookings starting before this instant.
    pub to: Option<String>,
    /// pending, confirmed, cancelled, rejected, comma-separated; default: pending and confirmed.
    pub status: Option<String>,
    /// Only the bookings of the members the caller acts for (everyone's for the pole's team).
    #[serde(default)]
    pub mine: bool,
    /// Where the previous page stopped (`next_cursor` of that page, also in its `Link` header).
    pub cursor: Option<String>,
    /// Bookings per page: 1 to 5000 (the default).
    pub limit: Option<i64>,
    /// Numbered pages (from 1) of `limit` bookings, instead of a cursor.
    pub page: Option<i64>,
    /// room, desk, vehicle, equipment or staff: bookings of resources of that kind.
    pub kind: Option<String>,
    /// First day (YYYY-MM-DD, the pole's local date), inclusive: bookings meeting that day or
    /// later.
    pub from_date: Option<String>,
    /// Last day (YYYY-MM-DD, the pole's local date), inclusive.
    pub to_date: Option<String>,
    /// Text in the resource's or the member's name, or in the purpose (case and accents
    /// ignored; purposes only of the bookings whose details the caller sees).
    pub q: Option<String>,
}

/// One page of a listing, in start order.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many bookings match the filters, all pages together.
    pub total: i64,
    /// Give it back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A cursor is the start (microseconds since the epoch) and the id of the last row shown.
fn encode_cursor(a: After) -> String {
    format!("{}-{}", a.start_at.and_utc().timestamp_micros(), a.id)
}

fn decode_cursor(raw: &str) -> Option<After> {
    let (micros, id) = raw.trim().rsplit_once('-')?;
    let start = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?;
    Some(After {
        start_at: to_db(start),
        id: BookingId(id.parse().ok()?),
    })
}

/// A listing's filters read and checked: what the store is asked.
struct Listing {
    filter: BookingFilter,
    after: Option<After>,
    offset: i64,
    limit: i64,
}

/// A local date of a filter (`YYYY-MM-DD`).
fn local_date(e: &mut FieldErrors, field: &str, raw: &Option<String>) -> Option<NaiveDate> {
    let raw = raw.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    e.check(
        field,
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=2199).contains(&d.year()))
            .ok_or_else(|| {
                format!(
                    "« {} » n'est pas une date (attendu : AAAA-MM-JJ, par exemple 2027-01-31).",
                    raw.chars().take(40).collect::<String>()
                )
            }),
    )
}

fn listing(tz: Tz, actor: &Actor, q: &BookingQuery) -> AppResult<Listing> {
    let mut e = FieldErrors::new();
    let mut instant = |field: &str, raw: &Option<String>| {
        raw.as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| e.check(field, parse_instant(s, tz).map_err(|x| x.to_string())))
    };
    let mut from = instant("from", &q.from);
    let mut to = instant("to", &q.to);
    // Local days, inclusive: from the first one's midnight to the midnight after the last,
    // each found in the pole's time zone (a day of 23 or 25 hours at the DST changes).
    let from_day = local_date(&mut e, "from_date", &q.from_date);
    let to_day = local_date(&mut e, "to_date", &q.to_date);
    if let (Some(f), Some(t)) = (from_day, to_day) {
        if t < f {
            e.add("to_date", "La date de fin précède la date de début.");
        }
    }
    if let Some(d) = from_day {
        let start = day_bounds(d, tz).start;
        from = Some(from.map_or(start, |f| f.max(start)));
    }
    if let Some(d) = to_day {
        let end = day_bounds(d, tz).end;
        to = Some(to.map_or(end, |t| t.min(end)));
    }
    let kind = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => {
            let parsed = ResourceKind::parse(k);
            if parsed.is_none() {
                e.add(
                    "kind",
                    "Type attendu : room, desk, vehicle, equipment ou staff.",
                );
            }
            parsed
        }
        None => None,
    };
    let statuses = match q.status.as_deref().map(str::trim) {
        None | Some("") => BookingStatus::ACTIVE.to_vec(),
        Some("all") => BookingStatus::ALL.to_vec(),
        Some(s) => s
            .split(',')
            .filter_map(|x| {
                let parsed = BookingStatus::parse(x);
                if parsed.is_none() {
                    e.add(
                        "status",
                        "État attendu : pending, confirmed, cancelled ou rejected.",
                    );
                }
                parsed
            })
            .collect(),
    };
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => {
            let a = decode_cursor(raw);
            if a.is_none() {
                e.add(
                    "cursor",
                    "Curseur illisible : reprenez celui de la page précédente.",
                );
            }
            a
        }
        None => None,
    };
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        e.add(
            "limit",
            format!("Entre 1 et {MAX_PAGE} réservations par page."),
        );
    }
    let page = q.page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        e.add("page", "Numéro de page attendu, à partir de 1.");
    }
    if q.page.is_some() && after.is_some() {
        e.add("page", "Un numéro de page ou un curseur, pas les deux.");
    }
    let search = q.q.as_deref().and_then(Search::new);
    if q.q.as_deref().is_some_and(|s| s.chars().count() > 200) {
        e.add("q", "Recherche trop longue (200 caractères au plus).");
    }
    e.into_result().map_err(AppError::Validation)?;
    let member_ids = match (
        q.member_id,
        q.mine.then(|| authz::listed_members(actor)).flatten(),
    ) {
        (Some(m), Some(mine)) => Some(if mine.contains(&m) { vec![m] } else { vec![] }),
        (Some(m), None) => Some(vec![m]),
        (None, mine) => mine,
    };
    // Purposes are searched only where the caller sees them (`can_see_booking_details`).
    let purpose_of = (!actor.is_pole_team()).then(|| actor.member_ids());
    Ok(Listing {
        filter: BookingFilter {
            resource_ids: q.resource_id.map(|r| vec![r]),
            member_ids,
            from: from.map(to_db),
            to: to.map(to_db),
            statuses: Some(statuses),
            series_id: None,
            kind,
            search,
            purpose_of,
            staff_seen: authz::staff_bookings_seen(actor)
                .map(|(members, employers)| StaffSeen { members, employers }),
        },
        after,
        offset: (page.clamp(1, 1_000_000) - 1) * limit,
        limit,
    })
}

pub async fn list(app: &App, actor: &Actor, q: BookingQuery) -> AppResult<Page<BookingView>> {
    let Listing {
        filter,
        after,
        offset,
        limit,
    } = listing(app.tz(), actor, &q)?;
    let (actor, now) = (actor.clone(), app.now());
    app.db()
        .run(move |c| {
            // One more than asked tells whether a next page exists.
            let mut rows = store::list_from(c, &filter, after, offset, limit + 1)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = more.then(|| rows.last()).flatten().map(|b| {
                encode_cursor(After {
                    start_at: b.start_at,
                    id: b.id,
                })
            });
            let total = store::count(c, &filter)?;
            Ok(Page {
                items: describe(c, &actor, &rows, now)?,
                total,
                next_cursor,
            })
        })
        .await
}

/// Every booking the filters keep (all pages; `cursor`, `page` and `limit` ignored), in start
/// order, as the actor may see them: what an export holds.
pub async fn list_all(app: &App, actor: &Actor, q: BookingQuery) -> AppResult<Vec<BookingView>> {
    let q = BookingQuery {
        cursor: None,
        page: None,
        limit: None,
        ..q
    };
    let Listing { filter, .. } = listing(app.tz(), actor, &q)?;
    let (actor, now) = (actor.clone(), app.now());
    app.db()
        .run(move |c| {
            let mut out = Vec::new();
            let mut after = None;
            // A page at a time along the index, so an export of a busy year never holds more
            // than one page of rows twice.
            loop {
                let rows = store::list(c, &filter, after, MAX_PAGE)?;
                let Some(last) = rows.last() else { break };
                after = Some(After {
                    start_at: last.start_at,
                    id: last.id,
                });
                let done = (rows.len() as i64) < MAX_PAGE;
                out.extend(describe(c, &actor, &rows, now)?);
                if done {
                    break;
                }
            }
            Ok(out)
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FreeSlot {
    #[serde(serialize_with = "crate::domain::time::serialize_utc")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::time::serialize_utc")]
    pub end: DateTime<Utc>,
    pub quantity: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Availability {
    pub resource_id: ResourceId,
    pub free: Vec<FreeSlot>,
}

/// Free intervals of a resource with the free quantity, honouring hours, closures and buffers;
/// with `min_quantity`, only where at least that many units are free (`domain::booking::at_least`).
pub async fn availability(
    app: &App,
    _actor: &Actor,
    resource_id: ResourceId,
    from: &str,
    to: &str,
    min_quantity: Option<i32>,
) -> AppResult<Availability> {
    let env = BookingEnv::of(app);
    let mut e = FieldErrors::new();
    let most = crate::domain::resource::MAX_CAPACITY;
    if min_quantity.is_some_and(|q| !(1..=most).contains(&q)) {
        e.add(
            "min_quantity",
            format!("Nombre d'unités entre 1 et {most} attendu."),
        );
    }
    let f = e.check(
        "from",
        parse_instant(from, env.tz).map_err(|x| x.to_string()),
    );
    let t = e.check("to", parse_instant(to, env.tz).map_err(|x| x.to_string()));
    let window = match (f, t) {
        (Some(f), Some(t))
            if f < t && t - f <= Duration::days(MAX_AVAILABILITY_DAYS) && e.is_empty() =>
        {
            Interval { start: f, end: t }
        }
        (Some(f), Some(t)) if f < t && t - f <= Duration::days(MAX_AVAILABILITY_DAYS) => {
            return Err(AppError::Validation(e));
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
    app.db()
        .run(move |c| availability_on(c, resource_id, window, &env, min_quantity))
        .await
}

/// The availability use case on a connection: benchmarks measure it without HTTP.
pub fn availability_on(
    conn: &mut DbConn,
    resource_id: ResourceId,
    window: Interval,
    env: &BookingEnv,
    min_quantity: Option<i32>,
) -> AppResult<Availability> {
    let free = free_in(conn, resource_id, window, env)?.free;
    let free = match min_quantity {
        Some(min) => crate::domain::booking::at_least(&free, min),
        None => free,
    };
    let free = free
        .into_iter()
        .map(|(iv, q)| FreeSlot {
            start: iv.start,
            end: iv.end,
            quantity: q,
        })
        .collect();
    Ok(Availability { resource_id, free })
}

/// A resource's time over a window, as the rules see it.
struct FreeTime {
    target: target::Target,
    /// Where a new booking fits, with how many units.
    free: Vec<(Interval, i32)>,
    /// Open and not closed.
    bookable: Vec<Interval>,
}

/// The target and its free time over `window`, buffers and closures included.
fn free_in(
    conn: &mut DbConn,
    resource_id: ResourceId,
    window: Interval,
    env: &BookingEnv,
) -> AppResult<FreeTime> {
    let target = match target::load(conn, resource_id, env) {
        Err(AppError::Validation(_)) => return Err(AppError::NotFound),
        other => other?,
    };
    let closures = closures_over(conn, resource_id, window)?;
    let usage = usage_over(conn, &target, lookup_range(window, &target.rules))?;
    let free = free_intervals(window, &target.rules, &usage, &closures, env.tz);
    let bookable = bookable_intervals(window, &target.rules, &closures, env.tz);
    Ok(FreeTime {
        target,
        free,
        bookable,
    })
}

/// Everything a calendar shows of one resource over a window.
#[derive(Debug, Clone)]
pub struct CalendarView {
    pub resource: ResourceView,
    /// Open and not closed: where a booking may lie, capacity aside.
    pub bookable: Vec<Interval>,
    /// Where a new booking fits, with how many units: the domain's own free time, so the
    /// calendar never shows free what the rules refuse (buffers included).
    pub free: Vec<(Interval, i32)>,
    /// Active bookings of the resource and of its whole or parts meeting the window.
    pub bookings: Vec<BookingView>,
    pub now: DateTime<Utc>,
}

impl CalendarView {
    /// The units free over all of `slot` (0 when any part of it is taken, shut or closed).
    pub fn free_over(&self, slot: Interval) -> i32 {
        grid::free_over(slot, &self.free)
    }

    /// Whether all of `slot` is open (hours and closures).
    pub fn is_open(&self, slot: Interval) -> bool {
        grid::covered(slot, &self.bookable)
    }

    /// What a calendar row over `slot` shows: open or not, units free.
    pub fn cell(&self, slot: Interval) -> grid::Cell {
        grid::cell(slot, &self.bookable, &self.free)
    }

    /// Every instant where what the calendar shows may change inside `window`: the edges
    /// of open time, of free time (buffers and closures included) and of the bookings. The
    /// grid's step is the coarsest these fall on ([`grid::step_for`]).
    pub fn edges(&self, window: Interval) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        self.bookable
            .iter()
            .copied()
            .chain(self.free.iter().map(|(iv, _)| *iv))
            .chain(self.bookings.iter().map(|b| Interval {
                start: b.start,
                end: b.end,
            }))
            .flat_map(|iv| [iv.start, iv.end])
            .filter(move |t| window.contains(*t))
    }

    /// The booking a click on a free row starting at `start` proposes (an hour, or the
    /// resource's minimum, cut at the end of the free time).
    pub fn proposal(&self, start: DateTime<Utc>) -> Option<Interval> {
        let minutes = |m: Option<i32>| {
            m.filter(|m| *m > 0)
                .map(|m| Duration::minutes(i64::from(m)))
        };
        grid::proposal(
            start,
            Duration::hours(1),
            minutes(self.resource.min_duration_minutes),
            minutes(self.resource.max_duration_minutes),
            &self.free,
        )
    }

    /// The bookings meeting `slot`.
    pub fn bookings_in(&self, slot: Interval) -> impl Iterator<Item = &BookingView> {
        self.bookings
            .iter()
            .filter(move |b| b.start < slot.end && b.end > slot.start)
    }
}

pub async fn calendar(
    app: &App,
    actor: &Actor,
    resource_id: ResourceId,
    window: Interval,
) -> AppResult<CalendarView> {
    let env = BookingEnv::of(app);
    let actor = actor.clone();
    app.db()
        .run(move |c| calendar_on(c, &actor, resource_id, window, &env))
        .await
}

/// The calendars of every active resource of a kind over a window (day planning).
pub async fn calendars_of_kind(
    app: &App,
    actor: &Actor,
    kind: ResourceKind,
    window: Interval,
) -> AppResult<Vec<CalendarView>> {
    let env = BookingEnv::of(app);
    let actor = actor.clone();
    app.db()
        .run(move |c| {
            resource_store::of_kind(c, kind, false)?
                .into_iter()
                .map(|(id, _)| calendar_on(c, &actor, id, window, &env))
                .collect()
        })
        .await
}

fn calendar_on(
    conn: &mut DbConn,
    actor: &Actor,
    resource_id: ResourceId,
    window: Interval,
    env: &BookingEnv,
) -> AppResult<CalendarView> {
    let FreeTime {
        target,
        free,
        bookable,
    } = free_in(conn, resource_id, window, env)?;
    let rows = target.blocking_over(conn, window, store::active_blocking)?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|b| from_db(b.start_at) < window.end && from_db(b.end_at) > window.start)
        .collect();
    Ok(CalendarView {
        resource: crate::app::resources::view_on(
            conn,
            &target.resource,
            actor,
            env.now.with_timezone(&env.tz).date_naive(),
        )?,
        bookable,
        free,
        bookings: describe(conn, actor, &rows, env.now)?,
        now: env.now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let a = After {
            start_at: "2027-01-05T09:30:00".parse().unwrap(),
            id: BookingId(42),
        };
        assert_eq!(decode_cursor(&encode_cursor(a)), Some(a));
        for bad in ["", "x", "12", "abc-1", "1-x", "99999999999999999999-1"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
