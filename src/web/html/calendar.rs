//! Calendar pages: a resource's week and month, and the day planning of a kind. Every row is
//! read from the booking rules' own free time (`domain::grid`): buffers, quantities,
//! closures and opening hours, on the coarsest grid (an hour, half an hour, a quarter) every
//! edge of the period falls on, so a « libre » link never ends in a refusal the calendar did
//! not show. Busy rows open the booking (« Réservé », without details, for other members);
//! own and pending bookings say so in words, not only in colour. On a phone the week and the
//! day become lists of stretches; with JavaScript two clicks select a range.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};
use serde::Deserialize;

use super::{input_local, or_page, page, Ctx, Nav};
use crate::app::authz::{self, Actor};
use crate::app::bookings::{self as app, BookingView, CalendarView};
use crate::domain::grid::{self, Row};
use crate::domain::ids::{BookingId, ResourceId};
use crate::domain::month::{self, Month};
use crate::domain::resource::ResourceKind;
use crate::domain::status::BookingStatus;
use crate::domain::time::{
    format_clock, format_day, format_minutes, format_when, weekday_fr, Interval,
};
use crate::error::AppError;
use crate::web::extract::PageActor;
use crate::web::AppState;

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    date: Option<String>,
    kind: Option<String>,
    month: Option<String>,
}

fn today(s: &AppState) -> NaiveDate {
    s.app.now().with_timezone(&s.tz()).date_naive()
}

/// A local date from `?date=`, today by default.
fn day_of(raw: Option<&str>, s: &AppState) -> NaiveDate {
    parsed_day(raw).unwrap_or_else(|| today(s))
}

fn parsed_day(raw: Option<&str>) -> Option<NaiveDate> {
    raw.and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .filter(|d| (2000..=2199).contains(&d.year()))
}

/// What a page says when the date or month asked could not be read: the page shows the
/// current period instead, and says so rather than silently.
fn unread(raw: Option<&str>, readable: bool, expected: &str, shown: &str) -> Markup {
    html! {
        @if let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty() && !readable) {
            p.field-error role="alert" {
                "« " (raw.chars().take(40).collect::<String>()) " » n'est pas lisible (attendu : " (expected) ") : " (shown) "."
            }
        }
    }
}

/// The instants of local midnight starting `from` and `days` later.
fn local_days(from: NaiveDate, days: i64, tz: Tz) -> Option<Interval> {
    Interval::new(
        grid::local_mark(from, 0, tz)?,
        grid::local_mark(from + Duration::days(days), 0, tz)?,
    )
}

/// The local hours to draw: from the earliest opening to the latest closing of the
/// resources, rounded out to `step`; the whole day when one of them is always open.
fn hours_of<'a>(cals: impl Iterator<Item = &'a CalendarView>, step: u32) -> (u32, u32) {
    let mut range: Option<(u32, u32)> = None;
    for cal in cals {
        if cal.resource.slots.is_empty() {
            return (0, 1440);
        }
        for slot in &cal.resource.slots {
            let (o, c) = (u32::from(slot.open_minute), u32::from(slot.close_minute));
            range = Some(match range {
                None => (o, c),
                Some((a, b)) => (a.min(o), b.max(c)),
            });
        }
    }
    let (from, to) = range.unwrap_or((7 * 60, 21 * 60));
    (from / step * step, to.div_ceil(step) * step)
}

/// Where the working day starts when the whole day is drawn.
const WORKDAY_MINUTE: u32 = 7 * 60;

fn clock(minute: u32) -> String {
    format_clock(minute / 60, minute % 60)
}

fn local_clock(t: DateTime<Utc>, tz: Tz) -> String {
    let l = t.with_timezone(&tz);
    format_clock(l.hour(), l.minute())
}

/// What one row of one column shows.
enum Show<'a> {
    Closed,
    Past,
    /// Taken, shut by a buffer, or full: the bookings that meet it.
    Busy(Vec<&'a BookingView>),
    Free {
        free: i32,
        proposal: Option<Interval>,
        holders: Vec<&'a BookingView>,
    },
}

impl Show<'_> {
    /// Rows that read the same merge into one cell (free rows stay one link each).
    fn merge_key(&self) -> Option<(u8, Vec<BookingId>)> {
        match self {
            Show::Closed => Some((0, Vec::new())),
            Show::Past => Some((1, Vec::new())),
            Show::Busy(b) => Some((2, b.iter().map(|b| b.id).collect())),
            Show::Free { .. } => None,
        }
    }
}

fn show<'a>(cal: &'a CalendarView, row: &Row) -> Show<'a> {
    let cell = cal.cell(row.slot);
    let meeting: Vec<&BookingView> = cal.bookings_in(row.slot).collect();
    if !cell.open {
        Show::Closed
    } else if cell.free <= 0 {
        Show::Busy(meeting)
    } else if row.slot.start < cal.now {
        Show::Past
    } else {
        Show::Free {
            free: cell.free,
            proposal: cal.proposal(row.slot.start),
            holders: meeting,
        }
    }
}

/// One column of a calendar table: a day of a resource, or a resource on a day.
struct Column<'a> {
    /// The column's heading, and the words its links say (« Salle Jaurès », « mardi 8 décembre »).
    heading: Markup,
    cal: &'a CalendarView,
    /// One entry per row minute of the table.
    cells: Vec<Option<(Row, Show<'a>)>>,
}

impl<'a> Column<'a> {
    fn new(
        heading: Markup,
        cal: &'a CalendarView,
        day: NaiveDate,
        minutes: &[u32],
        step: u32,
        tz: Tz,
    ) -> Self {
        let (from, to) = (
            minutes.first().copied().unwrap_or(0),
            minutes.last().map(|m| m + step).unwrap_or(0),
        );
        let rows = grid::day_rows(day, from, to, step, tz);
        let cells = minutes
            .iter()
            .map(|m| {
                rows.iter()
                    .find(|r| r.minute == *m)
                    .map(|r| (*r, show(cal, r)))
            })
            .collect();
        Column {
            heading,
            cal,
            cells,
        }
    }

    /// How many rows the cell starting at each row spans (0: inside an earlier one).
    fn spans(&self) -> Vec<usize> {
        let n = self.cells.len();
        let mut spans = vec![1; n];
        let mut i = 0;
        while i < n {
            let key = self.cells[i].as_ref().and_then(|(_, s)| s.merge_key());
            let mut j = i + 1;
            if key.is_some() {
                while j < n && self.cells[j].as_ref().and_then(|(_, s)| s.merge_key()) == key {
                    spans[j] = 0;
                    j += 1;
                }
            }
            spans[i] = j - i;
            i = j;
        }
        spans
    }
}

struct Viewer<'a> {
    actor: &'a Actor,
    tz: Tz,
    year: i32,
}

/// A booking in a cell: who and when, a link when the viewer may open it; « Réservé » alone
/// for another member's.
fn booking_chip(v: &Viewer, cal: &CalendarView, b: &BookingView) -> Markup {
    let own = v.actor.member_role(b.member_id).is_some();
    let details = authz::can_see_booking_details(v.actor, b.member_id);
    let pending = b.status == BookingStatus::Pending;
    let elsewhere = (b.resource_id != cal.resource.id).then_some(&b.resource_name);
    let times = format!(
        "{} – {}",
        local_clock(b.start, v.tz),
        local_clock(b.end, v.tz)
    );
    let class = format!(
        "chip{}{}{}",
        if own { " own" } else { "" },
        if pending { " pending" } else { "" },
        if details { "" } else { " other" }
    );
    let what = html! {
        span.who { @if details { (b.member_name) } @else { "Réservé" } }
        " " span.times { (times) }
        @if b.quantity > 1 { " " span.qty { "× " (b.quantity) } }
        @if let Some(r) = elsewhere { " " span.meta { "(" (r) ")" } }
        @if own { " " span.badge.own { "vous" } }
        @if pending { " " span.badge.pending { "en attente" } }
    };
    html! {
        @if details {
            a class=(class) href={ "/bookings/" (b.id) } title=(format!("{} — {}", b.member_name, format_when(Interval { start: b.start, end: b.end }, v.tz, v.year))) { (what) }
        } @else {
            span class=(class) { (what) }
        }
    }
}

/// Other members' bookings shown one by one in a cell; beyond, they are counted. A row of a
/// 12-desk space met up to eleven of them, and its week page carried 2 600 chips (630 KB).
const OTHERS_SHOWN: usize = 3;

/// The bookings meeting a cell: the viewer's own (and, for the pole's team, every one) one by
/// one up to [`OTHERS_SHOWN`] others; past that, the others as one count, a link to that day's
/// list for those who may read it.
fn holders(v: &Viewer, cal: &CalendarView, bookings: &[&BookingView], at: DateTime<Utc>) -> Markup {
    let (own, others): (Vec<&BookingView>, Vec<&BookingView>) = bookings
        .iter()
        .partition(|b| v.actor.member_role(b.member_id).is_some());
    if others.len() <= OTHERS_SHOWN {
        return html! { @for b in bookings { (booking_chip(v, cal, b)) " " } };
    }
    let n = others.len();
    let words = if own.is_empty() {
        format!("{n} réservations")
    } else {
        format!("+ {n} autres réservations")
    };
    let listed = others
        .iter()
        .all(|b| authz::can_see_booking_details(v.actor, b.member_id));
    let day = at.with_timezone(&v.tz).date_naive();
    html! {
        @for b in &own { (booking_chip(v, cal, b)) " " }
        @if listed {
            a.chip.count href={ "/bookings?resource_id=" (cal.resource.id) "&from_date=" (day) "&to_date=" (day) }
                title="La liste des réservations de ce jour" { (words) }
        } @else {
            span.chip.other.count { (words) @if own.is_empty() { span.visually-hidden { " d'autres structures" } } }
        }
    }
}

fn cell_markup(v: &Viewer, col: &Column, idx: usize, span: usize, label: &str) -> Markup {
    let rowspan = (span > 1).then(|| span.to_string());
    let Some((row, show)) = &col.cells[idx] else {
        return html! { td.none rowspan=[rowspan] { span.visually-hidden { "heure inexistante (changement d'heure)" } } };
    };
    let cal = col.cal;
    let capacity = cal.resource.capacity;
    match show {
        Show::Closed => html! { td.closed rowspan=[rowspan] { "fermé" } },
        Show::Past => html! { td.past rowspan=[rowspan] { "passé" } },
        Show::Busy(bookings) => html! {
            td.busy rowspan=[rowspan] {
                @if bookings.is_empty() {
                    span.meta title="Temps de préparation ou de remise en état entre deux réservations" { "indisponible" }
                }
                (holders(v, cal, bookings, row.slot.start))
            }
        },
        Show::Free {
            free,
            proposal,
            holders,
        } => html! {
            td.free {
                @let count = if capacity > 1 { format!("{free}/{capacity} libres") } else { "libre".to_string() };
                @match (proposal, cal.resource.archived) {
                    (Some(p), false) => {
                        a.slot href={ "/bookings/new?resource_id=" (cal.resource.id) "&start=" (input_local(p.start, v.tz)) "&end=" (input_local(p.end, v.tz)) }
                            data-col=(label) data-idx=(idx) data-start=(input_local(row.slot.start, v.tz)) data-end=(input_local(row.slot.end, v.tz)) {
                            (count)
                            span.visually-hidden { " : réserver " (cal.resource.name) ", " (format_when(*p, v.tz, v.year)) }
                        }
                    }
                    _ => { span title="Trop court pour la durée minimale" { (count) } }
                }
                (self::holders(v, cal, holders, row.slot.start))
            }
        },
    }
}

/// The table of a calendar: rows are local times, columns days or resources.
fn calendar_table(
    v: &Viewer,
    caption: Markup,
    corner: &str,
    minutes: &[u32],
    cols: &[Column],
    scroll_to: Option<u32>,
) -> Markup {
    let spans: Vec<Vec<usize>> = cols.iter().map(Column::spans).collect();
    html! {
        div.calendar-scroll data-scroll-to=[scroll_to.map(|m| format!("r{m}"))] tabindex="0" role="region" aria-label="Calendrier" {
            table.calendar data-pick="1" {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (corner) }
                    @for c in cols { th scope="col" { (c.heading) } }
                } }
                tbody {
                    @for (i, m) in minutes.iter().enumerate() {
                        tr id={ "r" (m) } {
                            th scope="row" { (clock(*m)) }
                            @for (c, col) in cols.iter().enumerate() {
                                @if spans[c][i] > 0 {
                                    (cell_markup(v, col, i, spans[c][i], &c.to_string()))
                                }
                            }
                        }
                    }
                }
            }
        }
        p #pick-status.pick-status role="status" aria-live="polite" {}
    }
}

/// The same columns as stretches, for a phone: consecutive rows that read the same are one
/// line; each free stretch offers one link.
fn stretch_list(v: &Viewer, cols: &[Column]) -> Markup {
    html! {
        div.stretches {
            @for col in cols {
                section {
                    h2 { (col.heading) }
                    ul {
                        @for (start, end, show) in stretches(col) {
                            li class=(match show { Show::Free { .. } => "free", Show::Busy(_) => "busy", _ => "closed" }) {
                                span.when { (local_clock(start, v.tz)) " – " (local_clock(end, v.tz)) " : " }
                                @match show {
                                    Show::Closed => "fermé",
                                    Show::Past => "passé",
                                    Show::Busy(bookings) => {
                                        @if bookings.is_empty() { "indisponible" }
                                        (holders(v, col.cal, bookings, start))
                                    }
                                    Show::Free { free, .. } => {
                                        @let cal = col.cal;
                                        @if cal.resource.capacity > 1 { (free) "/" (cal.resource.capacity) " libres " } @else { "libre " }
                                        @if let (Some(p), false) = (cal.proposal(start), cal.resource.archived) {
                                            a href={ "/bookings/new?resource_id=" (cal.resource.id) "&start=" (input_local(p.start, v.tz)) "&end=" (input_local(p.end, v.tz)) } {
                                                "Réserver" span.visually-hidden { " " (cal.resource.name) ", " (format_when(p, v.tz, v.year)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Consecutive rows of a column with the same state (free rows with the same units), as
/// (start, end, state of the first row).
fn stretches<'c, 'a>(col: &'c Column<'a>) -> Vec<(DateTime<Utc>, DateTime<Utc>, &'c Show<'a>)> {
    let key = |s: &Show| match s {
        Show::Free { free, .. } => (3u8, *free, Vec::new()),
        other => {
            let (k, ids) = other.merge_key().unwrap_or((9, Vec::new()));
            (k, 0, ids)
        }
    };
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>, &Show)> = Vec::new();
    let mut last_key = None;
    for (row, show) in col.cells.iter().flatten() {
        let k = key(show);
        match out.last_mut() {
            Some(last) if last_key.as_ref() == Some(&k) && last.1 == row.slot.start => {
                last.1 = row.slot.end
            }
            _ => out.push((row.slot.start, row.slot.end, show)),
        }
        last_key = Some(k);
    }
    out
}

fn legend(capacity_shown: bool) -> Markup {
    html! {
        ul.legend aria-label="Légende" {
            li { span.sample.free { "libre" } " cliquez pour réserver" @if capacity_shown { " (unités libres / capacité)" } }
            li { span.sample.chip.own { span.badge.own { "vous" } } " réservation de votre structure" }
            li { span.sample.chip.pending { span.badge.pending { "en attente" } } " demande à valider" }
            li { span.sample.chip.other { "Réservé" } " autre structure" }
            @if capacity_shown { li { span.sample.chip.count { "5 réservations" } " au-delà de trois réservations d'autres structures sur un créneau, leur nombre" } }
            li { span.sample.busy { "indisponible" } " préparation ou remise en état entre deux réservations" }
            li { span.sample.closed { "fermé" } " hors horaires ou fermeture" }
        }
    }
}

fn step_words(step: u32) -> &'static str {
    match step {
        60 => "Créneaux d'une heure",
        30 => "Créneaux d'une demi-heure",
        _ => "Créneaux d'un quart d'heure",
    }
}

fn script() -> Markup {
    html! { script src="/assets/calendar.js" defer {} }
}

/// A resource's week.
pub async fn week(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let tz = ctx.tz();
    let day = day_of(q.date.as_deref(), &s);
    let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let Some(window) = local_days(monday, 7, tz) else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let cal = match or_page(&ctx, app::calendar(&s.app, p.actor(), id, window).await) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let step = grid::step_for(cal.edges(window), tz);
    let (from, to) = hours_of(std::iter::once(&cal), step);
    let minutes: Vec<u32> = (from..to).step_by(step as usize).collect();
    let v = Viewer {
        actor: p.actor(),
        tz,
        year: today(&s).year(),
    };
    let days: Vec<NaiveDate> = (0..7).map(|i| monday + Duration::days(i)).collect();
    let cols: Vec<Column> = days
        .iter()
        .map(|d| {
            let heading = html! {
                a href={ "/calendar?kind=" (cal.resource.kind.as_str()) "&date=" (d) } { (weekday_fr(d.weekday().number_from_monday() as u8)) " " (d.day()) }
            };
            Column::new(heading, &cal, *d, &minutes, step, tz)
        })
        .collect();
    let month = Month::new(monday.year(), monday.month());
    let title = format!(
        "{} — semaine du {}",
        cal.resource.name,
        format_day(monday, v.year)
    );
    let body = html! {
        h1 { (cal.resource.name) " — semaine du " (format_day(monday, v.year)) }
        (unread(q.date.as_deref(), parsed_day(q.date.as_deref()).is_some(), "une date AAAA-MM-JJ", "la semaine en cours est affichée"))
        nav.tabs aria-label="Semaines" {
            a href={ "/resources/" (id) "/week?date=" (monday - Duration::days(7)) } { "← Semaine précédente" }
            a href={ "/resources/" (id) "/week" } { "Cette semaine" }
            a href={ "/resources/" (id) "/week?date=" (monday + Duration::days(7)) } { "Semaine suivante →" }
            @if let Some(m) = month { a href={ "/resources/" (id) "/month?month=" (m) } { "Mois" } }
            a href={ "/resources/" (id) } { "Fiche de la ressource" }
        }
        form.filters method="get" action={ "/resources/" (id) "/week" } {
            div.field { label for="date" { "Aller à la semaine du" } input #date type="date" name="date" value=(day); }
            button type="submit" { "Afficher" }
        }
        (legend(cal.resource.capacity > 1))
        @if from < WORKDAY_MINUTE && to > WORKDAY_MINUTE {
            p.meta { "Ouverte jour et nuit : " a href={ "#r" (WORKDAY_MINUTE) } { "aller à " (clock(WORKDAY_MINUTE)) } }
        }
        div.calendar-wide {
            (calendar_table(&v, html! {
                (step_words(step)) ", heure du pôle. Un clic sur un créneau libre ouvre le formulaire prérempli ; avec JavaScript, cliquez le début puis la fin d'une plage."
            }, "Heure", &minutes, &cols, (from < WORKDAY_MINUTE && to > WORKDAY_MINUTE).then_some(WORKDAY_MINUTE)))
        }
        div.calendar-narrow { (stretch_list(&v, &cols)) }
        (script())
    };
    page(&ctx, &title, Nav::Resources, None, body)
}

/// The day planning of every resource of a kind.
pub async fn day(
    State(s): State<AppState>,
    p: PageActor,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let tz = ctx.tz();
    let day = day_of(q.date.as_deref(), &s);
    let kind = q
        .kind
        .as_deref()
        .and_then(ResourceKind::parse)
        .unwrap_or(ResourceKind::Room);
    let Some(window) = local_days(day, 1, tz) else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let cals = match or_page(
        &ctx,
        app::calendars_of_kind(&s.app, p.actor(), kind, window).await,
    ) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let step = grid::step_for(cals.iter().flat_map(|c| c.edges(window)), tz);
    let (from, to) = hours_of(cals.iter(), step);
    let minutes: Vec<u32> = (from..to).step_by(step as usize).collect();
    let v = Viewer {
        actor: p.actor(),
        tz,
        year: today(&s).year(),
    };
    let cols: Vec<Column> = cals
        .iter()
        .map(|cal| {
            let heading = html! { a href={ "/resources/" (cal.resource.id) "/week?date=" (day) } { (cal.resource.name) } };
            Column::new(heading, cal, day, &minutes, step, tz)
        })
        .collect();
    let link = |d: NaiveDate| format!("/calendar?kind={}&date={d}", kind.as_str());
    let body = html! {
        h1 { "Planning du " (format_day(day, v.year)) }
        (unread(q.date.as_deref(), parsed_day(q.date.as_deref()).is_some(), "une date AAAA-MM-JJ", "aujourd'hui est affiché"))
        nav.tabs aria-label="Types de ressources" {
            @for k in ResourceKind::ALL {
                a href={ "/calendar?kind=" (k.as_str()) "&date=" (day) } aria-current=[(k == kind).then_some("page")] { (k.plural_label()) }
            }
        }
        nav.tabs aria-label="Jours" {
            a href=(link(day - Duration::days(1))) { "← Veille" }
            a href={ "/calendar?kind=" (kind.as_str()) } { "Aujourd'hui" }
            a href=(link(day + Duration::days(1))) { "Lendemain →" }
        }
        form.filters method="get" action="/calendar" {
            input type="hidden" name="kind" value=(kind.as_str());
            div.field { label for="date" { "Aller au" } input #date type="date" name="date" value=(day); }
            button type="submit" { "Afficher" }
        }
        @if cals.is_empty() { p { "Aucune ressource de ce type." } }
        @else {
            (legend(cals.iter().any(|c| c.resource.capacity > 1)))
            div.calendar-wide {
                (calendar_table(&v, html! {
                    (step_words(step)) ", heure du pôle. Un clic sur un créneau libre ouvre le formulaire prérempli ; avec JavaScript, cliquez le début puis la fin d'une plage."
                }, "Heure", &minutes, &cols, (from < WORKDAY_MINUTE && to > WORKDAY_MINUTE).then_some(WORKDAY_MINUTE)))
            }
            div.calendar-narrow { (stretch_list(&v, &cols)) }
        }
        (script())
    };
    page(
        &ctx,
        &format!("Planning du {}", format_day(day, v.year)),
        Nav::Calendar,
        None,
        body,
    )
}

/// A resource's month: each day's free time for one more unit, a link to its week.
pub async fn month(
    State(s): State<AppState>,
    p: PageActor,
    Path(id): Path<ResourceId>,
    Query(q): Query<CalendarQuery>,
) -> Response {
    let ctx = Ctx::new(&s, &p);
    let tz = ctx.tz();
    let current = Month::containing(s.app.now(), tz);
    let month = q
        .month
        .as_deref()
        .and_then(|m| m.trim().parse::<Month>().ok())
        .unwrap_or(current);
    let first = month.first_day();
    let days_in = (month.next().first_day() - first).num_days();
    let Some(window) = local_days(first, days_in, tz) else {
        return super::error_page(&s, Some(&p.0), AppError::NotFound);
    };
    let cal = match or_page(&ctx, app::calendar(&s.app, p.actor(), id, window).await) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let year = today(&s).year();
    let lead = i64::from(first.weekday().num_days_from_monday());
    let weeks = (lead + days_in + 6) / 7;
    let previous = Month::new(
        (first - Duration::days(1)).year(),
        (first - Duration::days(1)).month(),
    )
    .unwrap_or(month);
    let own_count = |d: Interval| {
        cal.bookings
            .iter()
            .filter(|b| b.resource_id == cal.resource.id && b.start < d.end && b.end > d.start)
            .count()
    };
    let body = html! {
        h1 { (cal.resource.name) " — " (month::label_fr(month)) }
        (unread(q.month.as_deref(), q.month.as_deref().is_some_and(|m| m.trim().parse::<Month>().is_ok()), "un mois AAAA-MM", "le mois en cours est affiché"))
        nav.tabs aria-label="Mois" {
            a href={ "/resources/" (id) "/month?month=" (previous) } { "← Mois précédent" }
            a href={ "/resources/" (id) "/month" } { "Ce mois-ci" }
            a href={ "/resources/" (id) "/month?month=" (month.next()) } { "Mois suivant →" }
            a href={ "/resources/" (id) "/week?date=" (first) } { "Semaine" }
            a href={ "/resources/" (id) } { "Fiche de la ressource" }
        }
        table.calendar.month {
            caption { "Temps libre de chaque jour pour une réservation"
                @if cal.resource.capacity > 1 { " d'une unité" }
                ", préparations et fermetures comprises. Un jour ouvre sa semaine." }
            thead { tr { @for i in 1..=7u8 { th scope="col" { (weekday_fr(i)) } } } }
            tbody {
                @for w in 0..weeks {
                    tr {
                        @for d in 0..7 {
                            @let offset = w * 7 + d - lead;
                            @if offset < 0 || offset >= days_in {
                                td.outside {}
                            } @else {
                                @let date = first + Duration::days(offset);
                                @match local_days(date, 1, tz) {
                                    None => td {},
                                    Some(span) => {
                                        @let sum = grid::day_summary(span, &cal.bookable, &cal.free);
                                        @let n = own_count(span);
                                        @let class = if sum.open_minutes == 0 { "closed" } else if sum.free_minutes == 0 { "busy" } else { "free" };
                                        td class=(class) {
                                            a href={ "/resources/" (id) "/week?date=" (date) } {
                                                span.day-number { (date.day()) }
                                                span.visually-hidden { " " (format_day(date, year)) }
                                                br;
                                                @if sum.open_minutes == 0 { "fermé" }
                                                @else if sum.free_minutes == 0 { "complet" }
                                                @else { (format_minutes(sum.free_minutes)) " libres" }
                                                @if n > 0 { br; span.meta { (n) " réservation" @if n > 1 { "s" } } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(
        &ctx,
        &format!("{} — {}", cal.resource.name, month::label_fr(month)),
        Nav::Resources,
        None,
        body,
    )
}
