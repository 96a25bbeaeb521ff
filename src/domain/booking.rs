//! The booking rules of DESIGN.md §5 as pure functions: checking a request, the capacity rule
//! with buffers, free time for the availability view, and the nearest alternative slots.
//!
//! Everything works on exact instants: usage is a step function built by sweeping over the
//! bookings' end points, never by sampling minutes, and opening hours are turned into UTC
//! intervals per stretch of constant UTC offset, so DST days (23 h and 25 h) need no special
//! case.
//!
//! Callers load the bookings that can matter with [`lookup_range`] (and
//! [`suggest_search_range`] for suggestions): a booking influences the capacity rule up to
//! `buffer_before + buffer_after` away from its own ends.
//!
//! Complexity, with `n` bookings passed, `c` closures, `d` local days spanned and `s` opening
//! slots per day:
//! - [`check_request`]: O(d·s + c log c);
//! - [`capacity_conflicts`]: O(n + k log k), `k` ≤ n the bookings near the request;
//! - [`free_intervals`]: O(n log n + d·s + c log c);
//! - [`suggest_slots`]: O((n + c) log(n + c) + d·s) to build the set of valid start times
//!   once, then O(log n) to locate the request and O(max · L / 15 min + g) to walk candidates
//!   outwards, `L` the requested length and `g` the free stretches passed on the way. No
//!   candidate re-scans the bookings.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::ids::{BookingId, MemberId};
use super::time::{
    add_saturating, format_duration, format_hhmm, format_local, supported_range, weekday_fr,
    Interval, MAX_YEAR, MIN_YEAR,
};
use super::violation::{Measure, Unit, Violation, ViolationCode};

/// One opening stretch of a weekday, in the pole's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpeningSlot {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight, `0..1440`.
    pub open_minute: u16,
    /// Minutes since local midnight, `1..=1440`; 1440 is "24:00", so a slot can reach the
    /// next day's 00:00 slot and a booking may run across midnight.
    pub close_minute: u16,
}

impl OpeningSlot {
    pub fn is_valid(&self) -> bool {
        (1..=7).contains(&self.weekday)
            && self.open_minute < self.close_minute
            && self.close_minute <= 1440
    }
}

/// The booking rules of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRules {
    pub capacity: i32,
    pub min_duration_minutes: Option<i32>,
    pub max_duration_minutes: Option<i32>,
    /// Time the resource stays blocked before each booking (set-up); negative counts as 0.
    pub buffer_before_minutes: i32,
    /// Time the resource stays blocked after each booking (cleaning, vehicle check);
    /// negative counts as 0.
    pub buffer_after_minutes: i32,
    /// Empty means always open. Slots of one weekday may be several and may touch; invalid
    /// slots (see [`OpeningSlot::is_valid`]) open nothing.
    pub opening_hours: Vec<OpeningSlot>,
    /// Member pricing categories allowed to book; empty means every category.
    pub allowed_categories: Vec<String>,
    /// How many days ahead a booking may start. Zero or less means no limit: a horizon of 0
    /// days would forbid every future booking, which no one configures on purpose.
    pub horizon_days: i32,
    /// An archived resource keeps its bookings but takes no new one.
    pub archived: bool,
}

impl ResourceRules {
    /// The span a booking of `interval` blocks: widened by the buffers.
    pub fn block_of(&self, interval: Interval) -> Interval {
        interval.widen(self.buffer_before(), self.buffer_after())
    }

    fn buffer_before(&self) -> Duration {
        Duration::minutes(i64::from(self.buffer_before_minutes.max(0)))
    }

    fn buffer_after(&self) -> Duration {
        Duration::minutes(i64::from(self.buffer_after_minutes.max(0)))
    }

    fn horizon(&self) -> Option<Duration> {
        (self.horizon_days > 0).then(|| Duration::days(i64::from(self.horizon_days)))
    }
}

/// The span a stored booking blocks once its resource's buffers have changed: the stored span
/// narrowed to the new buffers, never widened. Lowering a buffer must free the time at once
/// (the database's exclusion constraint reads these spans, and must not refuse what the rules
/// accept); raising one applies to new bookings, and must not turn two existing neighbours
/// into an overlap the database would reject.
pub fn block_after_buffer_change(
    booked: Interval,
    stored: Interval,
    rules: &ResourceRules,
) -> Interval {
    let wanted = booked.widen(rules.buffer_before(), rules.buffer_after());
    Interval {
        start: stored.start.max(wanted.start),
        end: stored.end.min(wanted.end),
    }
}

/// A period where the resource cannot be booked (works, holidays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosurePeriod {
    pub interval: Interval,
    pub reason: String,
}

/// An active (pending or confirmed) booking of the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingBooking {
    pub id: BookingId,
    pub member_id: MemberId,
    pub interval: Interval,
    pub quantity: i32,
}

/// Units of the resource held over an interval: all that free time depends on. The rule
/// checks need more of a booking (who holds it, which one is being moved); the availability
/// view reads only this, a third less per row on a month of a dense pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub interval: Interval,
    pub quantity: i32,
}

/// What holds units of a resource over time: a booking, or its bare [`Usage`].
pub trait Occupies {
    fn usage(&self) -> Usage;
}

impl Occupies for Usage {
    fn usage(&self) -> Usage {
        *self
    }
}

impl Occupies for ExistingBooking {
    fn usage(&self) -> Usage {
        Usage {
            interval: self.interval,
            quantity: self.quantity,
        }
    }
}

/// What a member asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    pub interval: Interval,
    pub quantity: i32,
    pub member_category: String,
    pub member_active: bool,
}

/// The span of bookings that [`capacity_conflicts`] and [`free_intervals`] need to see for
/// `interval`: a booking farther than `buffer_before + buffer_after` cannot interact with it.
pub fn lookup_range(interval: Interval, rules: &ResourceRules) -> Interval {
    let reach = rules.buffer_before() + rules.buffer_after();
    interval.widen(reach, reach)
}

/// The same local times on the other days around the request, nearest day first, the day
/// after before the day before (`±1, ±2, … ±search_days`): the alternatives a planner looks
/// for when an employee may not work the asked slot. Times that do not exist on a day (the
/// spring DST change) take the next valid instant; a day whose slot would not be a valid
/// interval is left out.
pub fn same_times_other_days(req: Interval, tz: Tz, search_days: i64) -> Vec<Interval> {
    let (start, end) = (
        req.start.with_timezone(&tz).naive_local(),
        req.end.with_timezone(&tz).naive_local(),
    );
    let at = |naive: chrono::NaiveDateTime| -> Option<DateTime<Utc>> {
        match tz.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            chrono::LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
            chrono::LocalResult::None => tz
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
                .map(|t| t.with_timezone(&Utc)),
        }
    };
    (1..=search_days.max(0))
        .flat_map(|d| [d, -d])
        .filter_map(|d| {
            let shift = Duration::days(d);
            Interval::new(at(start + shift)?, at(end + shift)?)
        })
        .collect()
}

/// The span [`suggest_slots`] searches; load bookings over
/// `lookup_range(suggest_search_range(..), rules)` and closures over this span.
pub fn suggest_search_range(req_interval: Interval, search_days: i64) -> Interval {
    let days = Duration::days(search_days.clamp(0, MAX_SEARCH_DAYS));
    req_interval.widen(days, days)
}

/// Every rule of DESIGN.md §5 that `req` breaks, except capacity (see
/// [`capacity_conflicts`]), each with its own code and a French message giving the figures.
/// An empty list means the request may go on to the capacity check.
pub fn check_request(
    req: &BookingRequest,
    rules: &ResourceRules,
    closures: &[ClosurePeriod],
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let iv = req.interval;
    let interval_ok = if !iv.is_valid() {
        out.push(Violation::new(
            ViolationCode::InvalidInterval,
            format!(
                "La fin ({}) doit être postérieure au début ({}).",
                format_local(iv.end, tz),
                format_local(iv.start, tz)
            ),
        ));
        false
    } else if !supported_range().covers(&iv) {
        out.push(Violation::new(
            ViolationCode::InvalidInterval,
            format!("Les dates doivent être comprises entre {MIN_YEAR} et {MAX_YEAR}."),
        ));
        false
    } else {
        true
    };

    if req.quantity < 1 {
        out.push(Violation::new(
            ViolationCode::Validation,
            format!(
                "La quantité doit être d'au moins 1 (demandé : {}).",
                req.quantity
            ),
        ));
    } else if req.quantity > rules.capacity {
        out.push(Violation::new(
            ViolationCode::Validation,
            format!(
                "La quantité demandée ({}) dépasse la capacité de la ressource ({}).",
                req.quantity, rules.capacity
            ),
        ));
    }

    if interval_ok {
        out.extend(duration_violation(iv.duration(), rules));
        out.extend(opening_violation(iv, rules, tz));
        let mut overlapping: Vec<&ClosurePeriod> = closures
            .iter()
            .filter(|c| c.interval.is_valid() && c.interval.overlaps(&iv))
            .collect();
        overlapping.sort_by_key(|c| c.interval);
        for c in overlapping {
            let reason = c.reason.trim();
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            };
            out.push(Violation::new(
                ViolationCode::Closed,
                format!(
                    "La ressource est fermée du {} au {}{reason}.",
                    format_local(c.interval.start, tz),
                    format_local(c.interval.end, tz)
                ),
            ));
        }
        if iv.start < now {
            out.push(Violation::new(
                ViolationCode::InPast,
                format!(
                    "Le début demandé ({}) est déjà passé.",
                    format_local(iv.start, tz)
                ),
            ));
        }
        if let Some(limit) = horizon_limit(rules, now) {
            if iv.start > limit {
                out.push(Violation::measured(
                    ViolationCode::BeyondHorizon,
                    format!(
                        "Le début demandé ({}) dépasse l'horizon de réservation de {} jours : \
                         cette ressource se réserve au plus tard pour le {}.",
                        format_local(iv.start, tz),
                        rules.horizon_days,
                        format_local(limit, tz)
                    ),
                    Measure::new(
                        i64::from(rules.horizon_days),
                        (iv.start - now).num_days(),
                        Unit::Days,
                    ),
                ));
            }
        }
    }

    if rules.archived {
        out.push(Violation::new(
            ViolationCode::NotAllowed,
            "Cette ressource est archivée : elle ne se réserve plus.",
        ));
    }
    if !rules.allowed_categories.is_empty()
        && !rules.allowed_categories.contains(&req.member_category)
    {
        out.push(Violation::new(
            ViolationCode::NotAllowed,
            format!(
                "Les structures de catégorie « {} » ne peuvent pas réserver cette ressource \
                 (catégories autorisées : {}).",
                req.member_category,
                rules.allowed_categories.join(", ")
            ),
        ));
    }
    if !req.member_active {
        out.push(Violation::new(
            ViolationCode::MemberInactive,
            "La structure membre n'est pas active : elle ne peut pas réserver.",
        ));
    }
    out
}

fn horizon_limit(rules: &ResourceRules, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    rules.horizon().map(|h| add_saturating(now, h))
}

/// The longest booking of any resource: 366 days.
pub const MAX_BOOKING_MINUTES: i32 = 366 * 24 * 60;

fn duration_violation(d: Duration, rules: &ResourceRules) -> Option<Violation> {
    if let Some(min) = rules.min_duration_minutes.filter(|m| *m > 0) {
        let min = Duration::minutes(min.into());
        if d < min {
            return Some(Violation::measured(
                ViolationCode::DurationOutOfBounds,
                format!(
                    "La durée ({}) est inférieure au minimum de {} pour cette ressource.",
                    format_duration(d),
                    format_duration(min)
                ),
                Measure::new(min.num_minutes(), d.num_minutes(), Unit::Minutes),
            ));
        }
    }
    // Whatever the resource allows, one booking lasts at most a year: longer is a typo (a
    // year 2037 for 2027), and a lease of more than a year is not a booking.
    let max = rules
        .max_duration_minutes
        .map_or(MAX_BOOKING_MINUTES, |m| m.min(MAX_BOOKING_MINUTES));
    {
        let max = Duration::minutes(max.into());
        if d > max {
            return Some(Violation::measured(
                ViolationCode::DurationOutOfBounds,
                format!(
                    "La durée ({}) dépasse le maximum de {} pour cette ressource.",
                    format_duration(d),
                    format_duration(max)
                ),
                Measure::new(max.num_minutes(), d.num_minutes(), Unit::Minutes),
            ));
        }
    }
    None
}

fn opening_violation(iv: Interval, rules: &ResourceRules, tz: Tz) -> Option<Violation> {
    if rules.opening_hours.is_empty() {
        return None;
    }
    let open = open_set(iv, &rules.opening_hours, tz);
    // `open` is merged, so the request is covered exactly when its first piece covers it.
    let gap = match open.first() {
        Some(first) if first.start <= iv.start && first.end >= iv.end => return None,
        Some(first) if first.start <= iv.start => first.end,
        _ => iv.start,
    };
    let local = gap.with_timezone(&tz).naive_local();
    let weekday = local.weekday().number_from_monday() as u8;
    let mut slots = slots_by_weekday(&rules.opening_hours)[usize::from(weekday - 1)]
        .iter()
        .map(|(o, c)| format!("{}–{}", format_hhmm(*o), format_hhmm(*c)))
        .collect::<Vec<_>>()
        .join(", ");
    if slots.is_empty() {
        slots = "fermé".to_owned();
    }
    Some(Violation::new(
        ViolationCode::OutsideOpeningHours,
        format!(
            "Le créneau sort des horaires d'ouverture : la ressource est fermée le {}. \
             Horaires du {} : {}.",
            format_local(gap, tz),
            weekday_fr(weekday),
            slots
        ),
    ))
}

/// The existing bookings that take part in a capacity excess if `quantity` units are booked
/// over `req_interval`; empty means the booking fits.
///
/// Every booking, the new one included, is widened by the resource's buffers, and at every
/// instant the widened quantities must sum to at most `capacity`. So on a capacity-1 room two
/// bookings need a gap of at least `buffer_after + buffer_before`; with no buffers
/// `[10:00, 12:00)` and `[12:00, 14:00)` do not clash. A booking is returned when its widened
/// interval meets an instant of the new widened interval where the sum exceeds the capacity.
///
/// `ignore_id` is the booking being moved, so it does not collide with itself. An invalid
/// interval, or a `quantity` outside `1..=capacity`, is [`check_request`]'s to refuse; here
/// they only yield the bookings that the excess touches (possibly none).
///
/// O(n + k log k): one pass keeps the `k` bookings whose widened interval meets the new one,
/// then a sweep over their `2k` end points gives the usage exactly.
pub fn capacity_conflicts(
    req_interval: Interval,
    quantity: i32,
    rules: &ResourceRules,
    existing: &[ExistingBooking],
    ignore_id: Option<BookingId>,
) -> Vec<ExistingBooking> {
    if !req_interval.is_valid() {
        return Vec::new();
    }
    let (before, after) = (rules.buffer_before(), rules.buffer_after());
    let wanted = req_interval.widen(before, after);
    let near: Vec<(&ExistingBooking, Interval)> = existing
        .iter()
        .filter(|e| Some(e.id) != ignore_id && e.quantity > 0 && e.interval.is_valid())
        .map(|e| (e, e.interval.widen(before, after)))
        .filter(|(_, w)| w.overlaps(&wanted))
        .collect();
    let room = i64::from(rules.capacity) - i64::from(quantity);
    let excess: Vec<Interval> = usage_pieces(near.iter().filter_map(|(e, w)| {
        w.intersection(&wanted)
            .map(|clipped| (clipped, i64::from(e.quantity)))
    }))
    .into_iter()
    .filter(|(_, used)| *used > room)
    .map(|(iv, _)| iv)
    .collect();
    let mut out: Vec<ExistingBooking> = near
        .into_iter()
        .filter(|(_, w)| {
            let i = excess.partition_point(|x| x.end <= w.start);
            excess.get(i).is_some_and(|x| x.start < w.end)
        })
        .map(|(e, _)| e.clone())
        .collect();
    out.sort_by_key(|e| (e.interval.start, e.id));
    out
}

/// Whether a request conflicts for sure, from the intervals of the resource's own active
/// bookings alone (each holds at least one unit): when `quantity` is the whole capacity, any
/// of them meeting the interval leaves no room, whatever the buffers. `false` says nothing;
/// [`capacity_conflicts`] decides. The alternatives to a refusal skip with it the candidates
/// whose bookings are known already, before reading anything else.
pub fn surely_conflicts(
    interval: Interval,
    quantity: i32,
    capacity: i32,
    booked: impl IntoIterator<Item = Interval>,
) -> bool {
    interval.is_valid()
        && quantity >= capacity
        && booked
            .into_iter()
            .any(|b| b.is_valid() && b.overlaps(&interval))
}

/// Maximal intervals of constant free quantity (> 0) inside `window`, for the availability
/// view; time outside opening hours or inside a closure is left out.
///
/// "Free quantity" at an instant `t` is what a *new* booking covering `t` can take, buffers
/// included: `capacity` minus the highest widened usage over
/// `[t - buffer_before, t + buffer_after]` (see `free_steps`). This is a deliberate choice over
/// plain usage: the view stays honest (a gap shorter than the buffers is not shown as free)
/// and exact (a booking of `q` units over `[s, e)` passes [`capacity_conflicts`] if and only
/// if every instant of `[s, e)` has free quantity ≥ `q`). With zero buffers it is plainly
/// `capacity` minus the usage. `now` is not considered: past free time is reported as free.
///
/// O(n log n + d·s + c log c).
pub fn free_intervals(
    window: Interval,
    rules: &ResourceRules,
    existing: &[impl Occupies],
    closures: &[ClosurePeriod],
    tz: Tz,
) -> Vec<(Interval, i32)> {
    let Some(window) = window.intersection(&supported_range()) else {
        return Vec::new();
    };
    let bookable = bookable_set(window, rules, closures, tz);
    let steps: Vec<(Interval, i64)> = free_steps(window, rules, existing)
        .into_iter()
        .filter(|(_, free)| *free > 0)
        .collect();
    let mut out: Vec<(Interval, i32)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < steps.len() && j < bookable.len() {
        let (step, free) = steps[i];
        if let Some(part) = step.intersection(&bookable[j]) {
            let free = i32::try_from(free).unwrap_or(i32::MAX);
            match out.last_mut() {
                Some((last, f)) if last.end == part.start && *f == free => last.end = part.end,
                _ => out.push((part, free)),
            }
        }
        if step.end <= bookable[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The stretches of `free` (as [`free_intervals`] gives them: in order, not overlapping) where
/// at least `min` units are free, touching ones merged, each with the fewest units free along
/// it: how many a booking of the whole stretch may take. For `min` of 1 or less, `free` as is.
///
/// A dense pool (a 12-desk space) changes its free count at every booking's edge: a month is
/// over a thousand stretches, while « where can I have 3 desks? » is a few dozen.
pub fn at_least(free: &[(Interval, i32)], min: i32) -> Vec<(Interval, i32)> {
    let mut out: Vec<(Interval, i32)> = Vec::new();
    for &(iv, q) in free.iter().filter(|(_, q)| *q >= min) {
        match out.last_mut() {
            Some((last, fewest)) if last.end == iv.start => {
                last.end = iv.end;
                *fewest = (*fewest).min(q);
            }
            _ => out.push((iv, q)),
        }
    }
    out
}

/// Longest search either side of the request that [`suggest_slots`] accepts; it bounds the
/// work a request can cause.
pub const MAX_SEARCH_DAYS: i64 = 366;

/// Grid of candidate start times, in local time.
const GRID_SECONDS: i64 = 15 * 60;

/// Up to `max` alternative slots of the same length as `req_interval` on the same resource,
/// nearest first (by distance of the start from the requested start; ties go to the earlier
/// slot), starting within `search_days` days of the requested start.
///
/// Each slot passes [`check_request`] (duration, opening hours, closures, past, horizon) and
/// [`capacity_conflicts`] for `quantity`. Candidates are the 15-minute marks of local time plus
/// the edges of every free stretch: the first instant after a booking and its buffers, a
/// closure's end or an opening time, and the start that ends a slot exactly when the next
/// booking's buffer, a closure or closing time begins. The slots do not overlap one another
/// (three suggestions a quarter of an hour apart would be one choice shown three times), and
/// the requested start itself is never suggested.
///
/// Pass the bookings over `lookup_range(suggest_search_range(req_interval, search_days),
/// rules)`, without the booking being moved if the request is a move.
///
/// Cost: one sweep builds the set of valid start times — O((n + c) log(n + c) + d·s) — then
/// two cursors walk outwards from the request over that set, each step O(1) apart from a time
/// zone lookup; skipped candidates are only those overlapping an already chosen slot, so the
/// walk is O(max · L / 15 min + g), `g` the free stretches it passes.
#[allow(clippy::too_many_arguments)]
pub fn suggest_slots(
    req_interval: Interval,
    quantity: i32,
    rules: &ResourceRules,
    existing: &[ExistingBooking],
    closures: &[ClosurePeriod],
    now: DateTime<Utc>,
    tz: Tz,
    max: usize,
    search_days: i64,
) -> Vec<Interval> {
    let length = req_interval.duration();
    if max == 0
        || !req_interval.is_valid()
        || quantity < 1
        || quantity > rules.capacity
        || duration_violation(length, rules).is_some()
    {
        return Vec::new();
    }
    let Some(range) =
        suggest_search_range(req_interval, search_days).intersection(&supported_range())
    else {
        return Vec::new();
    };
    let starts = valid_starts(length, quantity, range, rules, existing, closures, now, tz);

    let origin = req_interval.start;
    let mut forward = Cursor {
        index: starts.partition_point(|r| r.hi <= origin),
        at: origin,
    };
    let mut backward = Cursor {
        index: starts.partition_point(|r| r.lo < origin),
        at: origin,
    };
    let mut next_after = forward.advance_forward(&starts, tz);
    let mut next_before = backward.advance_backward(&starts, tz);
    let mut chosen: Vec<DateTime<Utc>> = Vec::new();
    while chosen.len() < max {
        let candidate = match (next_before, next_after) {
            (None, None) => break,
            (Some(b), Some(a)) if origin - b <= a - origin => {
                next_before = backward.advance_backward(&starts, tz);
                b
            }
            (Some(b), None) => {
                next_before = backward.advance_backward(&starts, tz);
                b
            }
            (_, Some(a)) => {
                next_after = forward.advance_forward(&starts, tz);
                a
            }
        };
        if chosen.iter().all(|s| (*s - candidate).abs() >= length) {
            chosen.push(candidate);
        }
    }
    chosen
        .into_iter()
        .map(|start| Interval {
            start,
            end: add_saturating(start, length),
        })
        .collect()
}

/// Whether `slots`, found by [`suggest_slots`] over `search_days`, are also what a wider
/// search would find: `max` slots, each starting nearer than `search_days` days from the
/// request. Candidates are walked nearest first and the nearer ones do not depend on how far
/// the search reaches, so a caller can search a short span first (few bookings to load) and
/// widen it only when this is false.
pub fn suggestions_settled(
    req_interval: Interval,
    slots: &[Interval],
    max: usize,
    search_days: i64,
) -> bool {
    let reach = Duration::days(search_days.clamp(0, MAX_SEARCH_DAYS));
    slots.len() >= max
        && slots
            .iter()
            .all(|s| (s.start - req_interval.start).abs() < reach)
}

/// A closed range `[lo, hi]` of start times that all give a valid slot. `*_edge` tells whether
/// the end is a real edge of free time (worth suggesting as is) or a cut by `now`, the horizon
/// or the search span (then only grid marks inside are offered).
#[derive(Debug, Clone, Copy)]
struct StartRange {
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    lo_edge: bool,
    hi_edge: bool,
}

/// Start times of slots of the request's length that pass every check: inside a stretch that
/// is open, not closed and has free quantity ≥ `quantity`, not before `now`, not past the
/// horizon, within the search span.
#[allow(clippy::too_many_arguments)]
fn valid_starts(
    length: Duration,
    quantity: i32,
    range: Interval,
    rules: &ResourceRules,
    existing: &[ExistingBooking],
    closures: &[ClosurePeriod],
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<StartRange> {
    let roomy: Vec<Interval> = free_steps(range, rules, existing)
        .into_iter()
        .filter(|(_, free)| *free >= i64::from(quantity))
        .map(|(iv, _)| iv)
        .collect();
    let usable = merge(intersect(&roomy, &bookable_set(range, rules, closures, tz)));
    let earliest = range.start.max(now);
    let latest = horizon_limit(rules, now);
    usable
        .into_iter()
        .filter_map(|stretch| {
            let last = add_saturating(stretch.end, -length);
            let (lo, lo_edge) = if stretch.start >= earliest {
                (stretch.start, stretch.start > range.start)
            } else {
                (earliest, false)
            };
            let (hi, hi_edge) = match latest {
                Some(limit) if limit < last => (limit, false),
                _ => (last, stretch.end < range.end),
            };
            (lo <= hi).then_some(StartRange {
                lo,
                hi,
                lo_edge,
                hi_edge,
            })
        })
        .collect()
}

struct Cursor {
    index: usize,
    at: DateTime<Utc>,
}

impl Cursor {
    fn advance_forward(&mut self, starts: &[StartRange], tz: Tz) -> Option<DateTime<Utc>> {
        loop {
            let r = starts.get(self.index)?;
            let mut best: Option<DateTime<Utc>> = None;
            let mut consider = |t: DateTime<Utc>| {
                if t > self.at && best.is_none_or(|b| t < b) {
                    best = Some(t);
                }
            };
            if r.lo_edge {
                consider(r.lo);
            }
            if r.hi_edge {
                consider(r.hi);
            }
            let from = if self.at < r.lo {
                r.lo
            } else {
                add_saturating(self.at, Duration::nanoseconds(1))
            };
            let grid = grid_ceil(from, tz);
            if grid <= r.hi {
                consider(grid);
            }
            match best {
                Some(t) => {
                    self.at = t;
                    return Some(t);
                }
                None => self.index += 1,
            }
        }
    }

    fn advance_backward(&mut self, starts: &[StartRange], tz: Tz) -> Option<DateTime<Utc>> {
        loop {
            let r = starts.get(self.index.checked_sub(1)?)?;
            let mut best: Option<DateTime<Utc>> = None;
            let mut consider = |t: DateTime<Utc>| {
                if t < self.at && best.is_none_or(|b| t > b) {
                    best = Some(t);
                }
            };
            if r.lo_edge {
                consider(r.lo);
            }
            if r.hi_edge {
                consider(r.hi);
            }
            let from = if self.at > r.hi {
                r.hi
            } else {
                add_saturating(self.at, Duration::nanoseconds(-1))
            };
            let grid = grid_floor(from, tz);
            if grid >= r.lo {
                consider(grid);
            }
            match best {
                Some(t) => {
                    self.at = t;
                    return Some(t);
                }
                None => self.index -= 1,
            }
        }
    }
}

/// Offset from UTC in seconds at `t`.
fn offset_seconds(tz: Tz, t: DateTime<Utc>) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// The last 15-minute mark of local time at or before `t`.
fn grid_floor(t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let offset = offset_seconds(tz, t);
    let mark = (t.timestamp() + offset).div_euclid(GRID_SECONDS) * GRID_SECONDS - offset;
    DateTime::from_timestamp(mark, 0).unwrap_or(t)
}

/// The first 15-minute mark of local time at or after `t`.
fn grid_ceil(t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let floor = grid_floor(t, tz);
    if floor == t {
        t
    } else {
        add_saturating(floor, Duration::seconds(GRID_SECONDS))
    }
}

/// Usage of `(interval, quantity)` items as sorted, disjoint pieces of non-zero usage, by one
/// sweep over the sorted end points: exact at every instant, whatever the time scale.
fn usage_pieces(items: impl Iterator<Item = (Interval, i64)>) -> Vec<(Interval, i64)> {
    // Starts and ends sorted apart, then merged: bookings come in the index's order, so the
    // starts are usually sorted already (checked in one pass) and only the ends need sorting;
    // one sort of both was a tenth of a dense pool's month.
    let mut starts: Vec<(DateTime<Utc>, i64)> = Vec::new();
    let mut ends: Vec<(DateTime<Utc>, i64)> = Vec::new();
    for (iv, quantity) in items {
        if iv.is_valid() && quantity != 0 {
            starts.push((iv.start, quantity));
            ends.push((iv.end, -quantity));
        }
    }
    starts.sort_unstable_by_key(|e| e.0);
    ends.sort_unstable_by_key(|e| e.0);
    let mut events: Vec<(DateTime<Utc>, i64)> = Vec::with_capacity(starts.len() * 2);
    let (mut s, mut e) = (starts.into_iter().peekable(), ends.into_iter().peekable());
    loop {
        let next = match (s.peek(), e.peek()) {
            (Some(a), Some(b)) if a.0 <= b.0 => s.next(),
            (_, Some(_)) => e.next(),
            (Some(_), None) => s.next(),
            (None, None) => break,
        };
        events.extend(next);
    }
    let mut out = Vec::new();
    let mut used = 0_i64;
    let mut i = 0;
    while let Some(&(at, _)) = events.get(i) {
        while let Some(&(_, delta)) = events.get(i).filter(|e| e.0 == at) {
            used += delta;
            i += 1;
        }
        if let (true, Some(&(next, _))) = (used != 0, events.get(i)) {
            out.push((
                Interval {
                    start: at,
                    end: next,
                },
                used,
            ));
        }
    }
    out
}

/// Free quantity for a new booking at each instant of `range`, as contiguous steps covering
/// it (adjacent steps differ).
///
/// A new booking over `[s, e)` meets the widened usage over `[s - before, e + after)`. A usage
/// piece `[p, p')` of height `h` therefore limits exactly the instants `t` in
/// `[p - after, p' + before)`: every booking containing such a `t` meets the piece, and every
/// booking meeting the piece contains such a `t`. So the lowest free quantity over `[s, e)`
/// is `capacity` minus the highest piece met, which is the capacity rule — the property
/// tests check this equivalence against a minute-by-minute oracle.
fn free_steps(
    range: Interval,
    rules: &ResourceRules,
    existing: &[impl Occupies],
) -> Vec<(Interval, i64)> {
    let (before, after) = (rules.buffer_before(), rules.buffer_after());
    let reach = lookup_range(range, rules);
    let pieces = usage_pieces(
        existing
            .iter()
            .map(Occupies::usage)
            .filter(|e| e.quantity > 0 && e.interval.is_valid() && e.interval.overlaps(&reach))
            .map(|e| (e.interval.widen(before, after), i64::from(e.quantity))),
    );
    let capacity = i64::from(rules.capacity);
    if before.is_zero() && after.is_zero() && range.is_valid() {
        steps_without_buffers(range, capacity, &pieces)
    } else {
        steps_with_buffers(range, capacity, &pieces, before, after)
    }
}

/// [`free_steps`] when nothing is widened: a piece limits exactly its own instants, so the
/// steps are the pieces and the gaps between them, neighbours of equal height joined. One
/// pass; the sweep of [`steps_with_buffers`] gives the same steps (property-tested), at the
/// cost of a second sort and a map of heights — a fifth of a dense pool's month.
fn steps_without_buffers(
    range: Interval,
    capacity: i64,
    pieces: &[(Interval, i64)],
) -> Vec<(Interval, i64)> {
    let mut steps: Vec<(Interval, i64)> = Vec::with_capacity(pieces.len() * 2 + 1);
    let mut push = |start: DateTime<Utc>, end: DateTime<Utc>, free: i64| {
        if start >= end {
            return;
        }
        match steps.last_mut() {
            Some((last, f)) if *f == free && last.end == start => last.end = end,
            _ => steps.push((Interval { start, end }, free)),
        }
    };
    let mut at = range.start;
    for &(iv, used) in pieces {
        if iv.end <= range.start {
            continue;
        }
        if iv.start >= range.end {
            break;
        }
        let (start, end) = (iv.start.max(range.start), iv.end.min(range.end));
        push(at, start, capacity);
        push(start, end, capacity - used);
        at = end;
    }
    push(at, range.end, capacity);
    steps
}

/// [`free_steps`] in general: each piece limits `[p - after, p' + before)`, and where those
/// overlap the highest piece counts.
fn steps_with_buffers(
    range: Interval,
    capacity: i64,
    pieces: &[(Interval, i64)],
    before: Duration,
    after: Duration,
) -> Vec<(Interval, i64)> {
    // (instant, height, true when the height starts limiting)
    let mut events: Vec<(DateTime<Utc>, i64, bool)> = Vec::with_capacity(pieces.len() * 2);
    for &(iv, height) in pieces {
        events.push((add_saturating(iv.start, -after), height, true));
        events.push((add_saturating(iv.end, before), height, false));
    }
    events.sort_unstable_by_key(|e| e.0);

    // Heights limiting the current instant, with multiplicity: the highest one counts.
    let mut active: BTreeMap<i64, usize> = BTreeMap::new();
    let highest = |active: &BTreeMap<i64, usize>| active.keys().next_back().copied().unwrap_or(0);
    let mut steps = Vec::new();
    let mut step_start = range.start;
    let mut step_used = 0;
    let mut i = 0;
    while let Some(&(at, _, _)) = events.get(i) {
        if at >= range.end {
            break;
        }
        while let Some(&(_, height, starts)) = events.get(i).filter(|e| e.0 == at) {
            if starts {
                *active.entry(height).or_insert(0) += 1;
            } else if let Some(count) = active.get_mut(&height) {
                *count -= 1;
                if *count == 0 {
                    active.remove(&height);
                }
            }
            i += 1;
        }
        let used = highest(&active);
        if at <= range.start {
            step_used = used;
        } else if used != step_used {
            steps.push((
                Interval {
                    start: step_start,
                    end: at,
                },
                capacity - step_used,
            ));
            step_start = at;
            step_used = used;
        }
    }
    steps.push((
        Interval {
            start: step_start,
            end: range.end,
        },
        capacity - step_used,
    ));
    steps
}

/// Opening stretches of each weekday (index 0 = Monday), valid slots only, sorted and merged.
fn slots_by_weekday(hours: &[OpeningSlot]) -> [Vec<(u16, u16)>; 7] {
    let mut days: [Vec<(u16, u16)>; 7] = Default::default();
    for slot in hours.iter().filter(|s| s.is_valid()) {
        days[usize::from(slot.weekday - 1)].push((slot.open_minute, slot.close_minute));
    }
    for day in &mut days {
        day.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(day.len());
        for &(open, close) in day.iter() {
            match merged.last_mut() {
                Some(last) if open <= last.1 => last.1 = last.1.max(close),
                _ => merged.push((open, close)),
            }
        }
        *day = merged;
    }
    days
}

/// The instants of `range` whose local wall-clock time falls in an opening slot, as sorted,
/// merged UTC intervals.
///
/// Local time is `UTC + offset` with the offset constant between two DST changes, so each
/// stretch of constant offset maps slots to UTC by a plain shift. That is exact on DST days:
/// on the 23 h day no instant shows 02:xx, on the 25 h day two instants show each 02:xx
/// and both count; a slot 00:00–24:00 covers the whole 23 or 25 hours.
fn open_set(range: Interval, hours: &[OpeningSlot], tz: Tz) -> Vec<Interval> {
    // Clipping keeps the local-date arithmetic below far from chrono's limits.
    let Some(range) = range.intersection(&supported_range()) else {
        return Vec::new();
    };
    if hours.is_empty() {
        return vec![range];
    }
    let by_day = slots_by_weekday(hours);
    let mut out = Vec::new();
    for (segment, offset) in offset_segments(range, tz) {
        let shift = Duration::seconds(offset);
        let local_start = segment.start.naive_utc() + shift;
        let local_end = segment.end.naive_utc() + shift;
        let mut day = local_start.date();
        while day <= local_end.date() {
            let midnight = day.and_time(NaiveTime::MIN);
            for &(open, close) in &by_day[day.weekday().num_days_from_monday() as usize] {
                let from = (midnight + Duration::minutes(open.into())).max(local_start);
                let to = (midnight + Duration::minutes(close.into())).min(local_end);
                if from < to {
                    out.push(Interval {
                        start: (from - shift).and_utc(),
                        end: (to - shift).and_utc(),
                    });
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
    }
    merge(out)
}

/// Splits `range` into stretches of constant UTC offset (seconds). chrono-tz exposes no list
/// of transitions, so the offset is probed every few hours and a change is pinned down to the
/// second by bisection; zone data only changes offsets on whole seconds, and never twice within
/// the probe step.
fn offset_segments(range: Interval, tz: Tz) -> Vec<(Interval, i64)> {
    const PROBE: Duration = Duration::hours(6);
    let mut out = Vec::new();
    let mut start = range.start;
    let mut offset = offset_seconds(tz, start);
    let mut probe_from = start;
    while probe_from < range.end {
        let probe_to = add_saturating(probe_from, PROBE).min(range.end);
        if offset_seconds(tz, probe_to) == offset {
            probe_from = probe_to;
            continue;
        }
        let mut lo = probe_from.timestamp();
        let mut hi = probe_to.timestamp() + i64::from(probe_to.timestamp_subsec_nanos() > 0);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match DateTime::from_timestamp(mid, 0) {
                Some(t) if offset_seconds(tz, t) == offset => lo = mid,
                Some(_) => hi = mid,
                None => break,
            }
        }
        match DateTime::from_timestamp(hi, 0) {
            Some(change) if change > start && change < range.end => {
                out.push((Interval { start, end: change }, offset));
                start = change;
                offset = offset_seconds(tz, change);
                probe_from = change;
            }
            _ => break,
        }
    }
    out.push((
        Interval {
            start,
            end: range.end,
        },
        offset,
    ));
    out
}

/// Open and not closed within `range`: where a booking may lie, capacity aside (calendars
/// grey out the rest).
pub fn bookable_intervals(
    range: Interval,
    rules: &ResourceRules,
    closures: &[ClosurePeriod],
    tz: Tz,
) -> Vec<Interval> {
    match range.intersection(&supported_range()) {
        Some(r) => bookable_set(r, rules, closures, tz),
        None => Vec::new(),
    }
}

/// Open and not closed: where a booking may lie, capacity aside.
fn bookable_set(
    range: Interval,
    rules: &ResourceRules,
    closures: &[ClosurePeriod],
    tz: Tz,
) -> Vec<Interval> {
    let closed = merge(
        closures
            .iter()
            .filter_map(|c| c.interval.intersection(&range))
            .collect(),
    );
    subtract(&open_set(range, &rules.opening_hours, tz), &closed)
}

/// Sorts and merges intervals, joining touching ones: `[8, 12)` and `[12, 14)` become
/// `[8, 14)`, so a booking may run across them.
fn merge(mut v: Vec<Interval>) -> Vec<Interval> {
    v.retain(Interval::is_valid);
    v.sort_unstable();
    let mut out: Vec<Interval> = Vec::with_capacity(v.len());
    for iv in v {
        match out.last_mut() {
            Some(last) if iv.start <= last.end => last.end = last.end.max(iv.end),
            _ => out.push(iv),
        }
    }
    out
}

/// Intersection of two sorted lists of disjoint intervals.
fn intersect(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        out.extend(x.intersection(y));
        if x.end <= y.end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// `a` minus `b`, both sorted lists of disjoint intervals.
fn subtract(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    let mut first = 0;
    for piece in a {
        let mut start = piece.start;
        while b.get(first).is_some_and(|x| x.end <= start) {
            first += 1;
        }
        for cut in b[first..].iter().take_while(|x| x.start < piece.end) {
            if cut.start > start {
                out.push(Interval {
                    start,
                    end: cut.start,
                });
            }
            start = start.max(cut.end);
        }
        if start < piece.end {
            out.push(Interval {
                start,
                end: piece.end,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::time::local_to_utc;
    use super::*;
    use chrono::{NaiveDateTime, Timelike};
    use chrono_tz::Europe::Paris;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A Paris wall-clock time, `"2027-01-04T08:00"`.
    fn paris(s: &str) -> DateTime<Utc> {
        local_to_utc(
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap(),
            Paris,
        )
        .unwrap()
    }

    fn piv(a: &str, b: &str) -> Interval {
        Interval::new(paris(a), paris(b)).unwrap()
    }

    /// Monday 2027-01-04, Paris wall-clock `HH:MM` for both ends.
    fn mon(a: &str, b: &str) -> Interval {
        piv(&format!("2027-01-04T{a}"), &format!("2027-01-04T{b}"))
    }

    fn rules(capacity: i32) -> ResourceRules {
        ResourceRules {
            capacity,
            min_duration_minutes: None,
            max_duration_minutes: None,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            opening_hours: Vec::new(),
            allowed_categories: Vec::new(),
            archived: false,
            horizon_days: 0,
        }
    }

    fn every_day(open: u16, close: u16) -> Vec<OpeningSlot> {
        (1..=7)
            .map(|weekday| OpeningSlot {
                weekday,
                open_minute: open,
                close_minute: close,
            })
            .collect()
    }

    fn weekdays(open: u16, close: u16) -> Vec<OpeningSlot> {
        every_day(open, close).into_iter().take(5).collect()
    }

    fn booking(id: i64, interval: Interval, quantity: i32) -> ExistingBooking {
        ExistingBooking {
            id: BookingId(id),
            member_id: MemberId(100 + id),
            interval,
            quantity,
        }
    }

    fn request(interval: Interval, quantity: i32) -> BookingRequest {
        BookingRequest {
            interval,
            quantity,
            member_category: "association".to_owned(),
            member_active: true,
        }
    }

    fn long_ago() -> DateTime<Utc> {
        utc("2026-12-01T00:00:00Z")
    }

    fn check(req: &BookingRequest, r: &ResourceRules) -> Vec<Violation> {
        check_request(req, r, &[], long_ago(), Paris)
    }

    fn codes(v: &[Violation]) -> Vec<ViolationCode> {
        v.iter().map(|v| v.code).collect()
    }

    fn ids(v: &[ExistingBooking]) -> Vec<i64> {
        v.iter().map(|b| b.id.0).collect()
    }

    // ---- capacity -------------------------------------------------------------------------

    #[test]
    fn touching_bookings_do_not_clash_without_buffers() {
        let existing = [booking(1, mon("10:00", "12:00"), 1)];
        let r = rules(1);
        assert!(capacity_conflicts(mon("12:00", "14:00"), 1, &r, &existing, None).is_empty());
        assert!(capacity_conflicts(mon("08:00", "10:00"), 1, &r, &existing, None).is_empty());
        assert_eq!(
            ids(&capacity_conflicts(
                mon("11:59", "14:00"),
                1,
                &r,
                &existing,
                None
            )),
            [1]
        );
        assert_eq!(
            ids(&capacity_conflicts(
                mon("08:00", "10:01"),
                1,
                &r,
                &existing,
                None
            )),
            [1]
        );
    }

    #[test]
    fn buffers_make_touching_bookings_clash() {
        let existing = [booking(1, mon("10:00", "12:00"), 1)];
        let r = ResourceRules {
            buffer_before_minutes: 10,
            buffer_after_minutes: 15,
            ..rules(1)
        };
        let conflicts = |iv| ids(&capacity_conflicts(iv, 1, &r, &existing, None));
        // After the existing booking: its 15 min after plus our 10 min before.
        assert_eq!(conflicts(mon("12:00", "13:00")), [1]);
        assert_eq!(conflicts(mon("12:24", "13:00")), [1]);
        assert!(conflicts(mon("12:25", "13:00")).is_empty());
        // Before it: our 15 min after plus its 10 min before.
        assert!(conflicts(mon("09:00", "09:35")).is_empty());
        assert_eq!(conflicts(mon("09:00", "09:36")), [1]);
        // Negative buffers count as none.
        let r = ResourceRules {
            buffer_before_minutes: -30,
            buffer_after_minutes: -30,
            ..rules(1)
        };
        assert!(capacity_conflicts(mon("12:00", "13:00"), 1, &r, &existing, None).is_empty());
    }

    #[test]
    fn capacity_twelve_with_quantities() {
        let r = rules(12);
        let existing = [
            booking(1, mon("09:00", "12:00"), 5),
            booking(2, mon("10:00", "11:00"), 4),
        ];
        let conflicts = |iv, q| ids(&capacity_conflicts(iv, q, &r, &existing, None));
        assert!(conflicts(mon("10:30", "11:30"), 3).is_empty());
        assert_eq!(conflicts(mon("10:30", "11:30"), 4), [1, 2]);
        // Booking 2 ends at 11:00: from then on only 5 are taken.
        assert!(conflicts(mon("11:00", "12:00"), 7).is_empty());
        assert_eq!(conflicts(mon("11:00", "12:00"), 8), [1]);
        assert!(conflicts(mon("12:00", "13:00"), 12).is_empty());
    }

    #[test]
    fn only_bookings_in_the_excess_are_reported() {
        let r = rules(2);
        let existing = [
            booking(3, mon("11:00", "12:00"), 1),
            booking(1, mon("09:00", "10:00"), 1),
            booking(2, mon("09:30", "10:00"), 1),
        ];
        assert_eq!(
            ids(&capacity_conflicts(
                mon("09:00", "12:00"),
                1,
                &r,
                &existing,
                None
            )),
            [1, 2]
        );
    }

    #[test]
    fn moving_a_booking_ignores_itself_and_odd_rows_are_skipped() {
        let r = rules(1);
        let existing = [
            booking(7, mon("10:00", "12:00"), 1),
            booking(8, mon("13:00", "14:00"), 0),
            ExistingBooking {
                interval: Interval {
                    start: paris("2027-01-04T15:00"),
                    end: paris("2027-01-04T14:00"),
                },
                ..booking(9, mon("10:00", "11:00"), 1)
            },
        ];
        let moved = mon("11:00", "15:00");
        assert!(capacity_conflicts(moved, 1, &r, &existing, Some(BookingId(7))).is_empty());
        assert_eq!(ids(&capacity_conflicts(moved, 1, &r, &existing, None)), [7]);
        // An inverted request interval is check_request's to refuse.
        let inverted = Interval {
            start: moved.end,
            end: moved.start,
        };
        assert!(capacity_conflicts(inverted, 1, &r, &existing, None).is_empty());
    }

    #[test]
    fn lookup_range_reaches_both_buffers_on_both_sides() {
        let r = ResourceRules {
            buffer_before_minutes: 10,
            buffer_after_minutes: 15,
            ..rules(1)
        };
        assert_eq!(
            lookup_range(mon("10:00", "12:00"), &r),
            mon("09:35", "12:25")
        );
    }

    // ---- check_request --------------------------------------------------------------------

    #[test]
    fn a_plain_request_passes() {
        assert!(check(&request(mon("10:00", "12:00"), 1), &rules(1)).is_empty());
    }

    #[test]
    fn duration_bounds_are_inclusive_and_give_the_figures() {
        let r = ResourceRules {
            min_duration_minutes: Some(30),
            max_duration_minutes: Some(120),
            ..rules(1)
        };
        assert!(check(&request(mon("10:00", "10:30"), 1), &r).is_empty());
        let v = check(&request(mon("10:00", "10:29"), 1), &r);
        assert_eq!(codes(&v), [ViolationCode::DurationOutOfBounds]);
        assert_eq!(
            v[0].message,
            "La durée (29 min) est inférieure au minimum de 30 min pour cette ressource."
        );
        assert!(check(&request(mon("10:00", "12:00"), 1), &r).is_empty());
        let v = check(&request(mon("10:00", "12:01"), 1), &r);
        assert_eq!(codes(&v), [ViolationCode::DurationOutOfBounds]);
        assert_eq!(
            v[0].message,
            "La durée (2 h 1 min) dépasse le maximum de 2 h pour cette ressource."
        );
    }

    #[test]
    fn opening_hours_boundaries() {
        let r = ResourceRules {
            opening_hours: weekdays(8 * 60, 18 * 60),
            ..rules(1)
        };
        assert!(check(&request(mon("08:00", "09:00"), 1), &r).is_empty());
        assert!(check(&request(mon("17:00", "18:00"), 1), &r).is_empty());
        assert!(check(&request(mon("08:00", "18:00"), 1), &r).is_empty());
        let v = check(&request(mon("07:59", "09:00"), 1), &r);
        assert_eq!(codes(&v), [ViolationCode::OutsideOpeningHours]);
        assert!(
            v[0].message.contains("lundi 4 janvier 2027 à 07:59")
                && v[0].message.contains("Horaires du lundi : 08:00–18:00"),
            "{}",
            v[0].message
        );
        let v = check(&request(mon("17:00", "18:01"), 1), &r);
        assert_eq!(codes(&v), [ViolationCode::OutsideOpeningHours]);
        assert!(v[0].message.contains("à 18:00"), "{}", v[0].message);
        // Saturday has no slot.
        let v = check(&request(piv("2027-01-09T10:00", "2027-01-09T11:00"), 1), &r);
        assert!(
            v[0].message.contains("Horaires du samedi : fermé"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn closing_at_24_00_and_running_across_touching_slots() {
        let r = ResourceRules {
            opening_hours: vec![
                OpeningSlot {
                    weekday: 1,
                    open_minute: 8 * 60,
                    close_minute: 1440,
                },
                OpeningSlot {
                    weekday: 2,
                    open_minute: 0,
                    close_minute: 12 * 60,
                },
            ],
            ..rules(1)
        };
        assert!(check(&request(mon("22:00", "23:59"), 1), &r).is_empty());
        assert!(check(&request(piv("2027-01-04T22:00", "2027-01-05T00:00"), 1), &r).is_empty());
        assert!(check(&request(piv("2027-01-04T20:00", "2027-01-05T12:00"), 1), &r).is_empty());
        let v = check(&request(piv("2027-01-04T20:00", "2027-01-05T12:01"), 1), &r);
        assert_eq!(codes(&v), [ViolationCode::OutsideOpeningHours]);
        // Mon 08:00-24:00 alone does not reach into Tuesday.
        let r = ResourceRules {
            opening_hours: r.opening_hours[..1].to_vec(),
            ..r
        };
        let v = check(&request(piv("2027-01-04T22:00", "2027-01-05T00:01"), 1), &r);
        assert_eq!(codes(&v), [ViolationCode::OutsideOpeningHours]);
    }

    #[test]
    fn a_lunch_break_splits_the_day() {
        let r = ResourceRules {
            opening_hours: vec![
                OpeningSlot {
                    weekday: 1,
                    open_minute: 14 * 60,
                    close_minute: 18 * 60,
                },
                OpeningSlot {
                    weekday: 1,
                    open_minute: 8 * 60,
                    close_minute: 12 * 60,
                },
            ],
            ..rules(1)
        };
        assert!(check(&request(mon("09:00", "12:00"), 1), &r).is_empty());
        assert!(check(&request(mon("14:00", "18:00"), 1), &r).is_empty());
        let v = check(&request(mon("11:00", "15:00"), 1), &r);
        assert_eq!(codes(&v), [ViolationCode::OutsideOpeningHours]);
        assert!(
            v[0].message.contains("à 12:00") && v[0].message.contains("08:00–12:00, 14:00–18:00"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn dst_days_with_a_resource_open_all_day() {
        let r = ResourceRules {
            opening_hours: every_day(0, 1440),
            ..rules(1)
        };
        // 2027-03-28 has 23 hours, 2027-10-31 has 25.
        let short = piv("2027-03-28T00:00", "2027-03-29T00:00");
        assert_eq!(short.duration(), Duration::hours(23));
        assert!(check(&request(short, 1), &r).is_empty());
        let long = piv("2027-10-31T00:00", "2027-11-01T00:00");
        assert_eq!(long.duration(), Duration::hours(25));
        assert!(check(&request(long, 1), &r).is_empty());
        let across = Interval::new(utc("2027-10-30T20:00:00Z"), utc("2027-11-02T08:00:00Z"));
        assert!(check(&request(across.unwrap(), 1), &r).is_empty());

        // Open on Sundays only: exactly the 23-hour Sunday fits, one minute more does not.
        let sunday = ResourceRules {
            opening_hours: vec![OpeningSlot {
                weekday: 7,
                open_minute: 0,
                close_minute: 1440,
            }],
            ..rules(1)
        };
        assert!(check(&request(short, 1), &sunday).is_empty());
        assert!(check(&request(long, 1), &sunday).is_empty());
        let over = Interval::new(short.start, short.end + Duration::minutes(1)).unwrap();
        assert_eq!(
            codes(&check(&request(over, 1), &sunday)),
            [ViolationCode::OutsideOpeningHours]
        );
        let before = Interval::new(short.start - Duration::minutes(1), short.end).unwrap();
        assert_eq!(
            codes(&check(&request(before, 1), &sunday)),
            [ViolationCode::OutsideOpeningHours]
        );
    }

    #[test]
    fn dst_days_with_an_always_open_resource() {
        let r = rules(1);
        let spring = Interval::new(utc("2027-03-28T00:30:00Z"), utc("2027-03-28T01:30:00Z"));
        assert!(check(&request(spring.unwrap(), 1), &r).is_empty());
        let autumn = Interval::new(utc("2027-10-30T23:00:00Z"), utc("2027-10-31T03:00:00Z"));
        assert!(check(&request(autumn.unwrap(), 1), &r).is_empty());
    }

    #[test]
    fn slots_inside_the_dst_change_follow_the_wall_clock() {
        let r = ResourceRules {
            opening_hours: vec![OpeningSlot {
                weekday: 7,
                open_minute: 60,
                close_minute: 180,
            }],
            ..rules(1)
        };
        let ok = |a: &str, b: &str| {
            let iv = Interval::new(utc(a), utc(b)).unwrap();
            check(&request(iv, 1), &r).is_empty()
        };
        // Spring: 01:00-02:00 CET exists, then the clock jumps to 03:00 = closing time.
        assert!(ok("2027-03-28T00:00:00Z", "2027-03-28T01:00:00Z"));
        assert!(!ok("2027-03-28T00:00:00Z", "2027-03-28T01:01:00Z"));
        assert!(!ok("2027-03-27T23:59:00Z", "2027-03-28T01:00:00Z"));
        // Autumn: 01:00 CEST to 03:00 CET is three real hours, 02:xx shown twice.
        assert!(ok("2027-10-30T23:00:00Z", "2027-10-31T02:00:00Z"));
        assert!(!ok("2027-10-30T23:00:00Z", "2027-10-31T02:01:00Z"));
        assert!(!ok("2027-10-30T22:59:00Z", "2027-10-31T01:00:00Z"));
    }

    #[test]
    fn closures_refuse_any_overlap_and_say_why() {
        let closures = [
            ClosurePeriod {
                interval: mon("12:00", "14:00"),
                reason: "Travaux".to_owned(),
            },
            ClosurePeriod {
                interval: mon("15:00", "16:00"),
                reason: " ".to_owned(),
            },
        ];
        let r = rules(1);
        let run = |iv| check_request(&request(iv, 1), &r, &closures, long_ago(), Paris);
        assert!(run(mon("10:00", "12:00")).is_empty());
        assert!(run(mon("14:00", "15:00")).is_empty());
        let v = run(mon("13:59", "14:30"));
        assert_eq!(codes(&v), [ViolationCode::Closed]);
        assert_eq!(
            v[0].message,
            "La ressource est fermée du lundi 4 janvier 2027 à 12:00 au lundi 4 janvier 2027 \
             à 14:00 (Travaux)."
        );
        let v = run(mon("11:00", "17:00"));
        assert_eq!(codes(&v), [ViolationCode::Closed, ViolationCode::Closed]);
        assert!(v[1].message.ends_with("à 16:00."), "{}", v[1].message);
    }

    #[test]
    fn no_booking_lasts_more_than_a_year() {
        let now = paris("2027-01-04T10:00");
        let start = paris("2027-01-05T10:00");
        let year =
            Interval::new(start, start + Duration::minutes(MAX_BOOKING_MINUTES.into())).unwrap();
        assert!(check_request(&request(year, 1), &rules(1), &[], now, Paris).is_empty());
        let longer = Interval::new(
            start,
            start + Duration::minutes(i64::from(MAX_BOOKING_MINUTES) + 1),
        )
        .unwrap();
        assert_eq!(
            codes(&check_request(
                &request(longer, 1),
                &rules(1),
                &[],
                now,
                Paris
            )),
            [ViolationCode::DurationOutOfBounds]
        );
    }

    #[test]
    fn past_and_horizon_boundaries() {
        let now = paris("2027-01-04T10:00");
        let r = ResourceRules {
            horizon_days: 30,
            ..rules(1)
        };
        let run = |iv| codes(&check_request(&request(iv, 1), &r, &[], now, Paris));
        assert!(run(mon("10:00", "11:00")).is_empty());
        assert_eq!(run(mon("09:59", "11:00")), [ViolationCode::InPast]);
        let at = |minutes: i64| {
            let start = now + Duration::days(30) + Duration::minutes(minutes);
            Interval::new(start, start + Duration::hours(1)).unwrap()
        };
        assert!(run(at(0)).is_empty());
        assert_eq!(run(at(1)), [ViolationCode::BeyondHorizon]);
        let v = check_request(&request(at(1), 1), &r, &[], now, Paris);
        assert!(
            v[0].message.contains("30 jours")
                && v[0].message.contains("mercredi 3 février 2027 à 10:00"),
            "{}",
            v[0].message
        );
        // No horizon configured: far future is fine.
        let far = piv("2090-01-01T10:00", "2090-01-01T11:00");
        assert!(check_request(&request(far, 1), &rules(1), &[], now, Paris).is_empty());
    }

    #[test]
    fn member_rules() {
        let r = ResourceRules {
            allowed_categories: vec!["association".to_owned(), "scic".to_owned()],
            ..rules(1)
        };
        let mut req = request(mon("10:00", "11:00"), 1);
        assert!(check(&req, &r).is_empty());
        req.member_category = "entreprise".to_owned();
        req.member_active = false;
        let v = check(&req, &r);
        assert_eq!(
            codes(&v),
            [ViolationCode::NotAllowed, ViolationCode::MemberInactive]
        );
        assert!(
            v[0].message.contains("« entreprise »") && v[0].message.contains("association, scic"),
            "{}",
            v[0].message
        );
    }

    #[test]
    fn malformed_requests_are_refused_without_panicking() {
        let r = ResourceRules {
            min_duration_minutes: Some(30),
            opening_hours: weekdays(480, 1080),
            ..rules(3)
        };
        let t = paris("2027-01-04T10:00");
        let empty = Interval { start: t, end: t };
        let v = check(&request(empty, 0), &r);
        assert_eq!(
            codes(&v),
            [ViolationCode::InvalidInterval, ViolationCode::Validation]
        );
        let v = check(&request(mon("10:00", "11:00"), 4), &r);
        assert_eq!(codes(&v), [ViolationCode::Validation]);
        assert!(v[0].message.contains("(4)") && v[0].message.contains("(3)"));
        for (start, end) in [
            (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
            (DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC),
            (utc("1999-06-01T00:00:00Z"), t),
            (t, utc("2300-01-01T00:00:00Z")),
        ] {
            let v = check(&request(Interval { start, end }, 1), &r);
            assert_eq!(codes(&v), [ViolationCode::InvalidInterval]);
            let iv = Interval { start, end };
            let _ = capacity_conflicts(iv, 1, &r, &[booking(1, iv, 1)], None);
            let _ = free_intervals(iv, &r, &[booking(1, iv, 1)], &[], Paris);
            let _ = suggest_slots(iv, 1, &r, &[], &[], t, Paris, 3, i64::MAX);
        }
        // Nonsense configuration does not panic either.
        let odd = ResourceRules {
            capacity: -1,
            min_duration_minutes: Some(i32::MIN),
            max_duration_minutes: Some(i32::MIN),
            buffer_before_minutes: i32::MAX,
            buffer_after_minutes: i32::MAX,
            opening_hours: vec![OpeningSlot {
                weekday: 0,
                open_minute: 2000,
                close_minute: 10,
            }],
            allowed_categories: Vec::new(),
            horizon_days: i32::MAX,
            archived: true,
        };
        let iv = mon("10:00", "11:00");
        assert!(!check(&request(iv, 1), &odd).is_empty());
        let _ = capacity_conflicts(iv, 1, &odd, &[booking(1, iv, i32::MAX)], None);
        let _ = free_intervals(iv, &odd, &[booking(1, iv, i32::MAX)], &[], Paris);
        let _ = suggest_slots(iv, 1, &odd, &[], &[], t, Paris, usize::MAX, 14);
    }

    #[test]
    fn an_archived_resource_takes_no_new_booking() {
        let iv = mon("10:00", "11:00");
        assert!(check(&request(iv, 1), &rules(1)).is_empty());
        let archived = ResourceRules {
            archived: true,
            ..rules(1)
        };
        assert_eq!(
            codes(&check(&request(iv, 1), &archived)),
            [ViolationCode::NotAllowed]
        );
    }

    #[test]
    fn stored_blocks_narrow_with_lowered_buffers_and_never_widen() {
        let booked = mon("10:00", "11:00");
        let stored = mon("09:30", "11:30"); // booked with 30 min either side
        let lowered = ResourceRules {
            buffer_before_minutes: 10,
            buffer_after_minutes: 0,
            ..rules(1)
        };
        assert_eq!(
            block_after_buffer_change(booked, stored, &lowered),
            mon("09:50", "11:00")
        );
        let raised = ResourceRules {
            buffer_before_minutes: 60,
            buffer_after_minutes: 45,
            ..rules(1)
        };
        assert_eq!(block_after_buffer_change(booked, stored, &raised), stored);
    }

    // ---- free_intervals -------------------------------------------------------------------

    #[test]
    fn free_intervals_follow_usage_hours_and_closures() {
        let r = ResourceRules {
            opening_hours: weekdays(480, 1080),
            ..rules(2)
        };
        let existing = [
            booking(1, mon("09:00", "10:00"), 1),
            booking(2, mon("09:30", "11:00"), 1),
            booking(3, piv("2027-01-03T09:00", "2027-01-03T10:00"), 2),
        ];
        let closures = [ClosurePeriod {
            interval: mon("16:00", "17:00"),
            reason: String::new(),
        }];
        let got = free_intervals(
            piv("2027-01-04T00:00", "2027-01-05T08:30"),
            &r,
            &existing,
            &closures,
            Paris,
        );
        assert_eq!(
            got,
            [
                (mon("08:00", "09:00"), 2),
                (mon("09:00", "09:30"), 1),
                (mon("10:00", "11:00"), 1),
                (mon("11:00", "16:00"), 2),
                (mon("17:00", "18:00"), 2),
                (piv("2027-01-05T08:00", "2027-01-05T08:30"), 2),
            ]
        );
    }

    #[test]
    fn free_intervals_account_for_buffers() {
        let r = ResourceRules {
            buffer_before_minutes: 10,
            buffer_after_minutes: 20,
            ..rules(1)
        };
        let existing = [booking(1, mon("10:00", "12:00"), 1)];
        let got = free_intervals(mon("08:00", "16:00"), &r, &existing, &[], Paris);
        assert_eq!(
            got,
            [(mon("08:00", "09:30"), 1), (mon("12:30", "16:00"), 1)]
        );
        // The edges of the free stretches are exactly the slots the capacity rule accepts.
        for iv in [mon("09:00", "09:30"), mon("12:30", "13:00")] {
            assert!(capacity_conflicts(iv, 1, &r, &existing, None).is_empty());
        }
        for iv in [mon("09:00", "09:31"), mon("12:29", "13:00")] {
            assert!(!capacity_conflicts(iv, 1, &r, &existing, None).is_empty());
        }
    }

    // ---- suggest_slots --------------------------------------------------------------------

    #[test]
    fn suggestions_are_nearest_first_and_do_not_overlap() {
        let r = ResourceRules {
            opening_hours: weekdays(480, 1080),
            ..rules(1)
        };
        let existing = [booking(1, mon("10:00", "12:00"), 1)];
        let got = suggest_slots(
            mon("10:00", "12:00"),
            1,
            &r,
            &existing,
            &[],
            long_ago(),
            Paris,
            3,
            14,
        );
        assert_eq!(
            got,
            [
                mon("08:00", "10:00"),
                mon("12:00", "14:00"),
                mon("14:00", "16:00")
            ]
        );
    }

    #[test]
    fn suggestions_start_right_after_a_buffered_booking() {
        let r = ResourceRules {
            opening_hours: weekdays(480, 1080),
            buffer_after_minutes: 7,
            ..rules(1)
        };
        let existing = [booking(1, mon("10:00", "10:50"), 1)];
        let got = suggest_slots(
            mon("10:00", "11:00"),
            1,
            &r,
            &existing,
            &[],
            long_ago(),
            Paris,
            3,
            14,
        );
        assert_eq!(
            got,
            [
                mon("10:57", "11:57"),
                mon("08:53", "09:53"),
                mon("12:00", "13:00")
            ]
        );
    }

    #[test]
    fn suggestions_respect_past_horizon_closures_and_duration() {
        let r = ResourceRules {
            opening_hours: weekdays(480, 1080),
            horizon_days: 1,
            ..rules(1)
        };
        let existing = [booking(1, mon("10:00", "12:00"), 1)];
        let closures = [ClosurePeriod {
            interval: mon("12:00", "13:00"),
            reason: String::new(),
        }];
        let now = paris("2027-01-04T09:07");
        let got = suggest_slots(
            mon("10:00", "12:00"),
            1,
            &r,
            &existing,
            &closures,
            now,
            Paris,
            5,
            14,
        );
        // Not before now (rounded up to the quarter), not in the closure, and no later than
        // 24 h after now: Tuesday 09:07 is the last possible start.
        assert_eq!(
            got,
            [
                mon("13:00", "15:00"),
                mon("15:00", "17:00"),
                piv("2027-01-05T08:00", "2027-01-05T10:00"),
            ]
        );
        let r = ResourceRules {
            max_duration_minutes: Some(60),
            ..r
        };
        assert!(suggest_slots(
            mon("10:00", "12:00"),
            1,
            &r,
            &existing,
            &[],
            now,
            Paris,
            3,
            14
        )
        .is_empty());
        assert!(suggest_slots(
            mon("13:00", "14:00"),
            2,
            &r,
            &existing,
            &[],
            now,
            Paris,
            3,
            14
        )
        .is_empty());
    }

    #[test]
    fn suggestions_cope_with_thousands_of_bookings() {
        // A capacity-1 room booked 50 min of every hour for four weeks, with a 5 min buffer
        // after: only 10-minute gaps remain, except one free hour far away.
        let r = ResourceRules {
            buffer_after_minutes: 5,
            ..rules(1)
        };
        let base = paris("2027-02-01T00:00");
        let mut existing = Vec::new();
        for hour in 0..(28 * 24) {
            if hour == 20 * 24 + 10 {
                continue;
            }
            let start = base + Duration::hours(hour);
            existing.push(booking(
                hour,
                Interval::new(start, start + Duration::minutes(50)).unwrap(),
                1,
            ));
        }
        assert!(existing.len() > 600);
        let mut many = existing.clone();
        for copy in 1..5 {
            many.extend(existing.iter().map(|b| ExistingBooking {
                id: BookingId(b.id.0 + copy * 10_000),
                interval: Interval {
                    start: b.interval.start + Duration::days(28 * copy),
                    end: b.interval.end + Duration::days(28 * copy),
                },
                ..b.clone()
            }));
        }
        let req = Interval::new(
            base + Duration::days(14),
            base + Duration::days(14) + Duration::hours(1),
        )
        .unwrap();
        let conflicts = capacity_conflicts(req, 1, &r, &many, None);
        assert_eq!(conflicts.len(), 2);
        let got = suggest_slots(req, 1, &r, &many, &[], long_ago(), Paris, 3, 14);
        // The only hour-long gap: 09:55 on day 20 to 11:00, minus the 5 min buffer.
        let expected_start = base + Duration::days(20) + Duration::hours(9) + Duration::minutes(55);
        assert_eq!(
            got,
            [Interval::new(expected_start, expected_start + Duration::hours(1)).unwrap()]
        );
    }

    // ---- property tests against brute-force oracles --------------------------------------

    /// Minute-by-minute model of the capacity rule: a booking is `(id, start, end, quantity)`
    /// in minutes from a base instant.
    struct CapacityOracle {
        capacity: i64,
        before: i64,
        after: i64,
    }

    impl CapacityOracle {
        fn usage(&self, bookings: &[(i64, i64, i64, i32)], ignore: Option<i64>, m: i64) -> i64 {
            bookings
                .iter()
                .filter(|b| Some(b.0) != ignore && b.1 - self.before <= m && m < b.2 + self.after)
                .map(|b| i64::from(b.3))
                .sum()
        }

        /// Whether the booking fits, and which bookings share a minute of excess with it.
        fn judge(
            &self,
            bookings: &[(i64, i64, i64, i32)],
            ignore: Option<i64>,
            start: i64,
            end: i64,
            quantity: i32,
        ) -> (bool, BTreeSet<i64>) {
            let mut fits = true;
            let mut involved = BTreeSet::new();
            for m in start - self.before..end + self.after {
                if self.usage(bookings, ignore, m) + i64::from(quantity) > self.capacity {
                    fits = false;
                    involved.extend(
                        bookings
                            .iter()
                            .filter(|b| {
                                Some(b.0) != ignore
                                    && b.1 - self.before <= m
                                    && m < b.2 + self.after
                            })
                            .map(|b| b.0),
                    );
                }
            }
            (fits, involved)
        }
    }

    fn minutes_from(base: DateTime<Utc>, start: i64, end: i64) -> Interval {
        Interval::new(
            base + Duration::minutes(start),
            base + Duration::minutes(end),
        )
        .unwrap()
    }

    /// Bookings `(start, length, quantity)` and closures `(start, length)`, in minutes from
    /// `base`: the oracle's model, the bookings as the rules see them, the closures.
    #[allow(clippy::type_complexity)]
    fn scenario(
        base: DateTime<Utc>,
        bookings: &[(i64, i64, i32)],
        closed: &[(i64, i64)],
    ) -> (
        Vec<(i64, i64, i64, i32)>,
        Vec<ExistingBooking>,
        Vec<ClosurePeriod>,
    ) {
        let model: Vec<(i64, i64, i64, i32)> = bookings
            .iter()
            .enumerate()
            .map(|(i, &(s, l, q))| (i as i64, s, s + l, q))
            .collect();
        let existing = to_existing(base, &model);
        let closures = closed
            .iter()
            .map(|&(s, l)| ClosurePeriod {
                interval: minutes_from(base, s, s + l),
                reason: String::new(),
            })
            .collect();
        (model, existing, closures)
    }

    fn to_existing(base: DateTime<Utc>, model: &[(i64, i64, i64, i32)]) -> Vec<ExistingBooking> {
        model
            .iter()
            .map(|&(id, s, e, q)| booking(id, minutes_from(base, s, e), q))
            .collect()
    }

    #[derive(Debug, Clone)]
    enum Op {
        Create { start: i64, len: i64, quantity: i32 },
        Move { pick: usize, start: i64, len: i64 },
        Cancel { pick: usize },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..480_i64, 1..120_i64, 1..=5_i32)
                .prop_map(|(start, len, quantity)| Op::Create { start, len, quantity }),
            2 => (any::<usize>(), 0..480_i64, 1..120_i64)
                .prop_map(|(pick, start, len)| Op::Move { pick, start, len }),
            1 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        ]
    }

    /// capacity 1..=5, buffers 0..=60 min on a 5-minute grid.
    fn resource() -> impl Strategy<Value = ResourceRules> {
        (1..=5_i32, 0..=12_i32, 0..=12_i32).prop_map(|(capacity, before, after)| ResourceRules {
            buffer_before_minutes: before * 5,
            buffer_after_minutes: after * 5,
            ..rules(capacity)
        })
    }

    fn opening_hours() -> impl Strategy<Value = Vec<OpeningSlot>> {
        prop::collection::vec(
            (1..=7_u8, 0..1440_u16, 1..=720_u16).prop_map(|(weekday, open, len)| OpeningSlot {
                weekday,
                open_minute: open,
                close_minute: (open + len).min(1440),
            }),
            0..8,
        )
    }

    /// Bases around both 2027 DST changes in Europe/Paris, and an ordinary week.
    fn base() -> impl Strategy<Value = DateTime<Utc>> {
        prop_oneof![
            Just(utc("2027-03-27T00:00:00Z")),
            Just(utc("2027-10-30T00:00:00Z")),
            Just(utc("2027-01-04T00:00:00Z")),
        ]
    }

    fn oracle_open(slots: &[OpeningSlot], t: DateTime<Utc>) -> bool {
        if slots.is_empty() {
            return true;
        }
        let local = t.with_timezone(&Paris).naive_local();
        let weekday = local.weekday().number_from_monday() as u8;
        let minute = (local.hour() * 60 + local.minute()) as u16;
        slots.iter().any(|s| {
            s.is_valid()
                && s.weekday == weekday
                && s.open_minute <= minute
                && minute < s.close_minute
        })
    }

    #[test]
    fn a_whole_capacity_asked_conflicts_with_any_booking_met() {
        let base = utc("2027-01-04T08:00:00Z");
        let asked = minutes_from(base, 60, 120);
        let before = minutes_from(base, 0, 60);
        let inside = minutes_from(base, 119, 130);
        assert!(
            !surely_conflicts(asked, 1, 1, [before]),
            "touching is no conflict"
        );
        assert!(surely_conflicts(asked, 1, 1, [before, inside]));
        assert!(surely_conflicts(asked, 3, 3, [inside]));
        assert!(
            !surely_conflicts(asked, 2, 3, [inside]),
            "a unit may be left"
        );
        let empty = Interval {
            start: base + Duration::minutes(100),
            end: base + Duration::minutes(100),
        };
        assert!(
            !surely_conflicts(asked, 1, 1, [empty]),
            "an empty interval holds no time"
        );
        let inverted = Interval {
            start: base + Duration::minutes(130),
            end: base + Duration::minutes(90),
        };
        assert!(!surely_conflicts(asked, 1, 1, [inverted]));
        assert!(
            !surely_conflicts(inverted, 1, 1, [inside]),
            "an invalid request is not judged here"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// What `surely_conflicts` says, `capacity_conflicts` confirms: the shortcut never
        /// refuses what the full rule accepts.
        #[test]
        fn a_sure_conflict_is_a_conflict(
            rules in resource(),
            booked in prop::collection::vec((0..480_i64, 1..120_i64, 1..=5_i32), 0..12),
            (start, len, quantity) in (0..480_i64, 1..120_i64, 1..=5_i32),
        ) {
            let base = utc("2027-01-04T06:00:00Z");
            let model: Vec<(i64, i64, i64, i32)> = booked
                .iter()
                .enumerate()
                .map(|(k, &(s, l, q))| (k as i64 + 1, s, s + l, q.min(rules.capacity)))
                .collect();
            let existing = to_existing(base, &model);
            let asked = minutes_from(base, start, start + len);
            let quantity = quantity.min(rules.capacity);
            if surely_conflicts(asked, quantity, rules.capacity, existing.iter().map(|e| e.interval)) {
                prop_assert!(!capacity_conflicts(asked, quantity, &rules, &existing, None).is_empty());
            }
        }

        #[test]
        fn capacity_conflicts_match_the_minute_oracle(
            rules in resource(),
            ops in prop::collection::vec(op(), 1..40),
        ) {
            let base = utc("2027-01-04T06:00:00Z");
            let oracle = CapacityOracle {
                capacity: i64::from(rules.capacity),
                before: i64::from(rules.buffer_before_minutes),
                after: i64::from(rules.buffer_after_minutes),
            };
            let mut model: Vec<(i64, i64, i64, i32)> = Vec::new();
            let mut next_id = 1;
            for op in ops {
                let (ignore, start, len, quantity, slot) = match op {
                    Op::Create { start, len, quantity } => {
                        (None, start, len, quantity.min(rules.capacity), None)
                    }
                    Op::Move { pick, start, len } if !model.is_empty() => {
                        let k = pick % model.len();
                        (Some(model[k].0), start, len, model[k].3, Some(k))
                    }
                    Op::Cancel { pick } if !model.is_empty() => {
                        model.remove(pick % model.len());
                        continue;
                    }
                    _ => continue,
                };
                let existing = to_existing(base, &model);
                let got = capacity_conflicts(
                    minutes_from(base, start, start + len),
                    quantity,
                    &rules,
                    &existing,
                    ignore.map(BookingId),
                );
                let (fits, involved) = oracle.judge(&model, ignore, start, start + len, quantity);
                prop_assert_eq!(got.is_empty(), fits);
                prop_assert_eq!(got.iter().map(|b| b.id.0).collect::<BTreeSet<_>>(), involved);
                if fits {
                    match slot {
                        Some(k) => {
                            model[k].1 = start;
                            model[k].2 = start + len;
                        }
                        None => {
                            model.push((next_id, start, start + len, quantity));
                            next_id += 1;
                        }
                    }
                }
            }
        }

        #[test]
        fn free_intervals_match_the_minute_oracle_without_buffers(
            base in base(),
            capacity in 1..=5_i32,
            slots in opening_hours(),
            bookings in prop::collection::vec((0..4320_i64, 1..600_i64, 1..=3_i32), 0..12),
            closed in prop::collection::vec((0..4320_i64, 1..600_i64), 0..3),
            window_start in 0..600_i64,
            window_len in 1..3700_i64,
        ) {
            let rules = ResourceRules { opening_hours: slots.clone(), ..rules(capacity) };
            let model: Vec<(i64, i64, i64, i32)> = bookings
                .iter()
                .enumerate()
                .map(|(i, &(s, len, q))| (i as i64, s, s + len, q))
                .collect();
            let closures: Vec<ClosurePeriod> = closed
                .iter()
                .map(|&(s, len)| ClosurePeriod {
                    interval: minutes_from(base, s, s + len),
                    reason: String::new(),
                })
                .collect();
            let window_end = window_start + window_len;
            let got = free_intervals(
                minutes_from(base, window_start, window_end),
                &rules,
                &to_existing(base, &model),
                &closures,
                Paris,
            );
            let mut seen = vec![0_i64; window_len as usize];
            let mut previous: Option<(Interval, i32)> = None;
            for &(iv, free) in &got {
                prop_assert!(free > 0);
                if let Some((p, f)) = previous {
                    prop_assert!(p.end <= iv.start);
                    prop_assert!(p.end < iv.start || f != free, "not maximal");
                }
                previous = Some((iv, free));
                let from = (iv.start - base).num_seconds();
                let to = (iv.end - base).num_seconds();
                prop_assert!(from % 60 == 0 && to % 60 == 0);
                prop_assert!(from / 60 >= window_start && to / 60 <= window_end);
                for m in from / 60..to / 60 {
                    seen[(m - window_start) as usize] = i64::from(free);
                }
            }
            let oracle = CapacityOracle { capacity: i64::from(capacity), before: 0, after: 0 };
            for m in window_start..window_end {
                let t = base + Duration::minutes(m);
                let expected = if oracle_open(&slots, t)
                    && !closures.iter().any(|c| c.interval.contains(t))
                {
                    (oracle.capacity - oracle.usage(&model, None, m)).max(0)
                } else {
                    0
                };
                prop_assert_eq!(seen[(m - window_start) as usize], expected, "minute {}", m);
            }
        }

        /// The one-pass steps used when nothing is widened are exactly the general sweep's,
        /// windows starting or ending inside, between and outside the pieces included.
        #[test]
        fn steps_without_buffers_are_the_sweeps(
            base in base(),
            capacity in 1..=12_i64,
            bookings in prop::collection::vec((0..2000_i64, 1..300_i64, 1..=4_i64), 0..24),
            window_start in -100..1500_i64,
            window_len in 1..2500_i64,
        ) {
            let pieces = usage_pieces(
                bookings.iter().map(|&(s, len, q)| (minutes_from(base, s, s + len), q)),
            );
            let range = minutes_from(base, window_start, window_start + window_len);
            prop_assert_eq!(
                steps_without_buffers(range, capacity, &pieces),
                steps_with_buffers(range, capacity, &pieces, Duration::zero(), Duration::zero())
            );
        }

        #[test]
        fn free_quantity_decides_the_capacity_rule_with_buffers(
            rules in resource(),
            bookings in prop::collection::vec((0..1000_i64, 1..120_i64, 1..=3_i32), 0..12),
            requests in prop::collection::vec((0..900_i64, 1..100_i64, 1..=5_i32), 1..10),
        ) {
            let base = utc("2027-01-04T06:00:00Z");
            let model: Vec<(i64, i64, i64, i32)> = bookings
                .iter()
                .enumerate()
                .map(|(i, &(s, len, q))| (i as i64, s, s + len, q))
                .collect();
            let existing = to_existing(base, &model);
            let free = free_intervals(minutes_from(base, 0, 1000), &rules, &existing, &[], Paris);
            let free_at = |m: i64| {
                let t = base + Duration::minutes(m);
                free.iter().find(|(iv, _)| iv.contains(t)).map_or(0, |(_, f)| *f)
            };
            for (start, len, quantity) in requests {
                let quantity = quantity.min(rules.capacity);
                let fits = (start..start + len).all(|m| free_at(m) >= quantity);
                let got = capacity_conflicts(
                    minutes_from(base, start, start + len),
                    quantity,
                    &rules,
                    &existing,
                    None,
                );
                prop_assert_eq!(got.is_empty(), fits);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn suggestions_are_valid_nearest_and_complete_on_the_grid(
            base in base(),
            rules in resource(),
            slots in prop_oneof![Just(Vec::new()), opening_hours()],
            bookings in prop::collection::vec((-2880..4320_i64, 1..240_i64, 1..=3_i32), 0..15),
            closed in prop::collection::vec((-2880..4320_i64, 1..600_i64), 0..3),
            now_minute in -1440..1440_i64,
            horizon_days in 0..=3_i32,
            search_days in 1..=2_i64,
            max in 1..=4_usize,
            (start, len, quantity) in (0..1440_i64, 15..=240_i64, 1..=3_i32),
        ) {
            let rules = ResourceRules { opening_hours: slots, horizon_days, ..rules };
            let quantity = quantity.min(rules.capacity);
            let (model, existing, closures) = scenario(base, &bookings, &closed);
            let now = base + Duration::minutes(now_minute);
            let req = minutes_from(base, start, start + len);
            let oracle = CapacityOracle {
                capacity: i64::from(rules.capacity),
                before: i64::from(rules.buffer_before_minutes),
                after: i64::from(rules.buffer_after_minutes),
            };
            let valid = |iv: Interval| {
                let s = (iv.start - base).num_minutes();
                let e = (iv.end - base).num_minutes();
                check_request(&request(iv, quantity), &rules, &closures, now, Paris).is_empty()
                    && oracle.judge(&model, None, s, e, quantity).0
            };
            let got = suggest_slots(
                req, quantity, &rules, &existing, &closures, now, Paris, max, search_days,
            );
            prop_assert!(got.len() <= max);
            let distance = |iv: &Interval| (iv.start - req.start).abs();
            for (i, iv) in got.iter().enumerate() {
                prop_assert_eq!(iv.duration(), req.duration());
                prop_assert!(iv.start != req.start);
                prop_assert!(distance(iv) <= Duration::days(search_days));
                prop_assert!(valid(*iv), "invalid suggestion {:?}", iv);
                for other in &got[..i] {
                    prop_assert!(!other.overlaps(iv));
                    prop_assert!(distance(other) <= distance(iv));
                }
            }
            // Every valid quarter-hour start nearer than the last suggestion (or anywhere, if
            // fewer than `max` came back) was either suggested or overlaps a suggestion.
            let bound = if got.len() < max { None } else { got.last().map(distance) };
            let span = Duration::days(search_days);
            let mut s = grid_ceil(req.start - span, Paris);
            while s <= req.start + span {
                let candidate = Interval::new(s, s + req.duration()).unwrap();
                if s != req.start
                    && bound.is_none_or(|b| distance(&candidate) < b)
                    && valid(candidate)
                {
                    prop_assert!(
                        got.iter().any(|g| g.overlaps(&candidate)),
                        "missed {:?}, got {:?}", candidate, got
                    );
                }
                s += Duration::minutes(15);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Searching one day first and widening only when unsettled gives what the wide search
        /// gives, with the bookings and closures loaded for the short span only.
        #[test]
        fn a_settled_short_search_equals_the_wide_one(
            base in base(),
            rules in resource(),
            slots in prop_oneof![Just(Vec::new()), opening_hours()],
            bookings in prop::collection::vec((-4320..5760_i64, 1..480_i64, 1..=3_i32), 0..40),
            closed in prop::collection::vec((-4320..5760_i64, 1..600_i64), 0..3),
            now_minute in -1440..1440_i64,
            horizon_days in prop_oneof![1..=3_i32, Just(365)],
            max in 1..=4_usize,
            (start, len, quantity) in (0..1440_i64, 15..=240_i64, 1..=3_i32),
        ) {
            let rules = ResourceRules { opening_hours: slots, horizon_days, ..rules };
            let quantity = quantity.min(rules.capacity);
            let (_, existing, closures) = scenario(base, &bookings, &closed);
            let now = base + Duration::minutes(now_minute);
            let req = minutes_from(base, start, start + len);
            // As the service does: one day, then the full fourteen.
            let wide = suggest_slots(req, quantity, &rules, &existing, &closures, now, Paris, max, 14);
            // What the service loads for a one-day search: bookings whose buffered span meets
            // the lookup range, closures that meet the search range.
            let search = suggest_search_range(req, 1);
            let lookup = lookup_range(search, &rules);
            let near: Vec<ExistingBooking> = existing
                .iter()
                .filter(|e| e.interval.widen(rules.buffer_before(), rules.buffer_after()).overlaps(&lookup))
                .cloned()
                .collect();
            let near_closures: Vec<ClosurePeriod> =
                closures.iter().filter(|c| c.interval.overlaps(&search)).cloned().collect();
            let short = suggest_slots(req, quantity, &rules, &near, &near_closures, now, Paris, max, 1);
            if suggestions_settled(req, &short, max, 1) {
                prop_assert_eq!(short, wide);
            } else {
                // Unsettled: fewer than `max`, or one as far as the span reaches. Everything
                // it found nearer than a day is also in the wide answer.
                for s in short.iter().filter(|s| (s.start - req.start).abs() < Duration::days(1)) {
                    prop_assert!(wide.contains(s), "{:?} not in {:?}", s, wide);
                }
            }
        }
    }

    #[test]
    fn same_times_on_the_days_around_across_dst() {
        let paris = chrono_tz::Europe::Paris;
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Friday 26 March 2027 09:00–12:00 local (UTC+1); the clocks go forward on Sunday 28.
        let req = Interval::new(at("2027-03-26T08:00:00Z"), at("2027-03-26T11:00:00Z")).unwrap();
        let days = same_times_other_days(req, paris, 3);
        let starts: Vec<String> = days.iter().map(|d| d.start.to_rfc3339()).collect();
        assert_eq!(
            starts,
            [
                "2027-03-27T08:00:00+00:00",
                "2027-03-25T08:00:00+00:00",
                "2027-03-28T07:00:00+00:00",
                "2027-03-24T08:00:00+00:00",
                "2027-03-29T07:00:00+00:00",
                "2027-03-23T08:00:00+00:00",
            ]
        );
        assert!(days.iter().all(|d| d.duration() == Duration::hours(3)));
        assert!(same_times_other_days(req, paris, 0).is_empty());
    }

    #[test]
    fn at_least_keeps_and_merges_the_stretches_with_enough_units() {
        let free = vec![
            (mon("08:00", "09:00"), 3),
            (mon("09:00", "10:00"), 1),
            (mon("10:00", "11:00"), 2),
            (mon("11:00", "12:00"), 5),
            (mon("13:00", "14:00"), 4),
        ];
        // Exactly `min` units is enough; one fewer is not.
        assert_eq!(
            at_least(&free, 2),
            vec![
                (mon("08:00", "09:00"), 3),
                (mon("10:00", "12:00"), 2),
                (mon("13:00", "14:00"), 4),
            ]
        );
        // Touching stretches merge with the fewest units; a gap keeps them apart.
        assert_eq!(
            at_least(&free, 1),
            vec![(mon("08:00", "12:00"), 1), (mon("13:00", "14:00"), 4)]
        );
        assert_eq!(at_least(&free, 5), vec![(mon("11:00", "12:00"), 5)]);
        assert_eq!(at_least(&free, 6), vec![]);
        assert_eq!(at_least(&[], 1), vec![]);
    }

    proptest! {
        /// Against a minute-by-minute oracle: a minute is covered iff at least `min` units are
        /// free then; each stretch carries the fewest units free along it; no two touch.
        #[test]
        fn at_least_matches_the_minutes(
            parts in proptest::collection::vec((0i64..3, 1i64..6, 0i32..6), 0..12),
            min in 0i32..7,
        ) {
            let base = paris("2027-01-04T00:00");
            let mut free = Vec::new();
            let mut t = 0;
            for (gap, len, q) in parts {
                t += gap * 15;
                let iv = Interval::new(
                    base + Duration::minutes(t),
                    base + Duration::minutes(t + len * 15),
                )
                .unwrap();
                t += len * 15;
                if q > 0 {
                    free.push((iv, q));
                }
            }
            let out = at_least(&free, min);
            let units_at = |m: i64| {
                let at = base + Duration::minutes(m);
                free.iter()
                    .find(|(iv, _)| iv.start <= at && at < iv.end)
                    .map(|(_, q)| *q)
            };
            for m in 0..t {
                let at = base + Duration::minutes(m);
                let covered = out.iter().find(|(iv, _)| iv.start <= at && at < iv.end);
                let enough = units_at(m).is_some_and(|q| q >= min);
                prop_assert_eq!(covered.is_some(), enough, "minute {}", m);
            }
            for (iv, q) in &out {
                let fewest = (0..t)
                    .filter(|m| {
                        let at = base + Duration::minutes(*m);
                        iv.start <= at && at < iv.end
                    })
                    .filter_map(units_at)
                    .min();
                prop_assert_eq!(Some(*q), fewest);
            }
            for pair in out.windows(2) {
                prop_assert!(pair[0].0.end < pair[1].0.start);
            }
        }
    }
}
