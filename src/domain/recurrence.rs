//! Recurring bookings: an RFC 5545 RRULE subset, parsed and expanded DST-correctly in local time.
//!
//! # Why hand-written rather than the `rrule` crate
//!
//! `rrule` 0.14 builds against chrono-tz 0.10, but it did not fit for three reasons:
//! - an occurrence whose local time falls in a DST gap is silently moved (02:30 becomes 03:30
//!   on the last Sunday of March), and we must refuse that instead;
//! - it leaves out a DTSTART that does not match the rule (python-dateutil behaviour), whereas
//!   RFC 5545 and our booking flow make DTSTART the first occurrence;
//! - it pulls `regex`, `log` and `thiserror` in for a subset of about two hundred lines. We would
//!   still need our own parser (French messages, our subset) and our own local-to-UTC step.
//!
//! Expansion is done on *local dates*: every occurrence keeps DTSTART's local wall-clock time.
//! Only afterwards is each local start and end turned into an instant with the pole's `Tz`.
//! Because of that, no arithmetic is ever done on offsets.
//!
//! # Subset
//!
//! `FREQ=DAILY|WEEKLY|MONTHLY`, `INTERVAL` (1..=999), `BYDAY` (plain `MO`..`SU` for every
//! frequency; with an ordinal `1MO`, `-1FR`, `+2TU` (±1..=5) only with `MONTHLY`), `BYMONTHDAY`
//! (±1..=31, not with `WEEKLY`, as RFC 5545 says), `COUNT` (1..=366) or `UNTIL` (never both),
//! `WKST=MO` (accepted and ignored). Keys and values are case-insensitive; an optional
//! `RRULE:` prefix is accepted. Other RFC parts (`BYHOUR`, `BYSETPOS`, `FREQ=YEARLY`...)
//! give [`RecurrenceError::Unsupported`] with the part's name. Unknown parts give
//! [`RecurrenceError::Syntax`].
//!
//! # Decisions
//!
//! - **Bounded series only.** A rule needs `COUNT` or `UNTIL`; a series without an end is
//!   refused at parse time. A series has at most [`MAX_OCCURRENCES`] occurrences, counted
//!   before EXDATE is applied. More gives an error and is never truncated. `COUNT` > 366 is
//!   refused at parse time, and an `UNTIL` that would give more is refused during expansion,
//!   as soon as the 367th occurrence is generated.
//! - **DTSTART is always the first occurrence** and counts towards `COUNT`, even when it does
//!   not match `BYDAY`/`BYMONTHDAY` (RFC 5545 §3.8.5.3; this is also what the booker asked
//!   for). Later occurrences do match the rule.
//! - **EXDATE** is applied after `COUNT` (as in RFC 5545). Excluded occurrences still count, so
//!   `COUNT=10` with one exclusion gives 9 bookings. An [`ExDate::At`] removes the occurrence
//!   that starts at that local date-time. An [`ExDate::Day`] removes any occurrence that starts
//!   on that local date. An exclusion that matches nothing is ignored. If every occurrence is
//!   excluded, the result is [`RecurrenceError::NoOccurrence`].
//! - **Wall-clock times.** Each occurrence starts at DTSTART's local time. Its local end is its
//!   local start plus the local wall-clock length `dtend_local - dtstart_local`. So 09:00–11:00
//!   stays 09:00–11:00 local on both sides of a DST change, and a Friday 18:00 → Monday 08:00
//!   van booking keeps those times. The elapsed time in UTC can therefore differ by the DST shift.
//! - **DST gap:** if a local start or end does not exist (02:30 on 2027-03-28 in Europe/Paris),
//!   the whole expansion fails with [`RecurrenceError::NonexistentLocalTime`], which names that
//!   local time. It is never shifted. The booker can leave that occurrence out with EXDATE.
//! - **DST fold:** a local time that happens twice (02:30 on 2027-10-31 in Europe/Paris) takes
//!   the earlier instant, which is still summer time.
//! - **UNTIL** is inclusive. A date (`20270630`) keeps every occurrence that starts on or before
//!   that *local* date. A UTC date-time (`20270630T235959Z`) keeps every occurrence whose start
//!   instant is at or before it. An UNTIL before DTSTART is an error.
//! - **Search horizon:** candidates are searched at most [`SEARCH_HORIZON_YEARS`] years after
//!   DTSTART, so a rule that rarely matches (Friday the 13th) cannot loop for ever. A `COUNT`
//!   that cannot be reached within the horizon is an error ([`RecurrenceError::CountNotReached`]),
//!   never a silent truncation.
//! - **Years** of DTSTART and DTEND must be in 1..=9000 ([`RecurrenceError::OutOfRange`]), so
//!   that all date arithmetic stays far inside chrono's range.
//! - Monthly rules skip months where the wanted day does not exist (RFC 5545: "invalid dates
//!   are ignored"). For example `BYMONTHDAY=31` (or a DTSTART on the 31st) skips 30-day months
//!   and February.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc, Weekday,
};
use chrono_tz::Tz;

/// Most occurrences one series may have (counted before EXDATE).
pub const MAX_OCCURRENCES: usize = 366;
/// Largest accepted `INTERVAL`.
pub const MAX_INTERVAL: u32 = 999;
/// How far after DTSTART expansion looks for occurrences.
pub const SEARCH_HORIZON_YEARS: u32 = 50;
/// Longest accepted rule string, in bytes (it comes from HTTP requests).
const MAX_RULE_LEN: usize = 1024;
/// Latest accepted DTSTART year; keeps `year + horizon + interval` far inside chrono's range.
const MAX_YEAR: i32 = 9000;
/// Longest piece of user input echoed back in an error message, in characters.
const ECHO_CHARS: usize = 32;

/// How often the rule repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
}

/// One `BYDAY` element: a weekday, with an ordinal within the month (`-1FR`) for monthly rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeekdaySpec {
    /// `None` = every such weekday of the period; `Some(n)` with n in ±1..=5 = the n-th one of
    /// the month (negative: counted from the end).
    pub ordinal: Option<i8>,
    pub weekday: Weekday,
}

/// How a series ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleEnd {
    /// `COUNT=n`, 1..=[`MAX_OCCURRENCES`].
    Count(u32),
    /// `UNTIL=YYYYMMDD`: occurrences starting on or before that local date.
    UntilDate(NaiveDate),
    /// `UNTIL=YYYYMMDDTHHMMSSZ`: occurrences starting at or before that instant.
    UntilUtc(DateTime<Utc>),
}

/// A parsed and validated recurrence rule (see the module doc for the subset).
///
/// `Display` writes the canonical RRULE value (without the `RRULE:` prefix), which
/// [`parse_rule`] reads back to an equal rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecurrenceRule {
    frequency: Frequency,
    interval: u32,
    by_day: Vec<WeekdaySpec>,
    by_month_day: Vec<i8>,
    end: RuleEnd,
}

impl RecurrenceRule {
    pub fn frequency(&self) -> Frequency {
        self.frequency
    }

    pub fn interval(&self) -> u32 {
        self.interval
    }

    pub fn by_day(&self) -> &[WeekdaySpec] {
        &self.by_day
    }

    pub fn by_month_day(&self) -> &[i8] {
        &self.by_month_day
    }

    pub fn end(&self) -> RuleEnd {
        self.end
    }
}

/// An occurrence to leave out of a series (RFC 5545 EXDATE), in the pole's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExDate {
    /// Leave out the occurrence that starts exactly at this local date-time.
    At(NaiveDateTime),
    /// Leave out any occurrence that starts on this local date.
    Day(NaiveDate),
}

impl From<NaiveDateTime> for ExDate {
    fn from(value: NaiveDateTime) -> Self {
        ExDate::At(value)
    }
}

impl From<NaiveDate> for ExDate {
    fn from(value: NaiveDate) -> Self {
        ExDate::Day(value)
    }
}

impl ExDate {
    /// Parses one local date or date-time. Accepted forms: `20270406`, `20270406T090000`,
    /// `2027-04-06`, `2027-04-06T09:00` and `2027-04-06T09:00:00` (`T` or a space).
    pub fn parse(s: &str) -> Result<ExDate, RecurrenceError> {
        let t = s.trim();
        parse_local(t).ok_or_else(|| {
            RecurrenceError::Syntax(format!(
                "date d'exclusion « {} » invalide (attendu AAAAMMJJ, AAAAMMJJTHHMMSS, \
                 AAAA-MM-JJ ou AAAA-MM-JJTHH:MM)",
                echo(t)
            ))
        })
    }
}

/// Parses a comma-separated EXDATE list (see [`ExDate::parse`] for the forms). An empty
/// string gives an empty list.
pub fn parse_exdates(s: &str) -> Result<Vec<ExDate>, RecurrenceError> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    if s.len() > MAX_RULE_LEN * 8 {
        return Err(RecurrenceError::Syntax(
            "liste de dates d'exclusion trop longue".to_owned(),
        ));
    }
    s.split(',').map(ExDate::parse).collect()
}

/// One expanded occurrence of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Occurrence {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Local wall-clock start in the pole's time zone; its time of day is always DTSTART's.
    pub local_start: NaiveDateTime,
    /// Local wall-clock end: `local_start + (dtend_local - dtstart_local)`.
    pub local_end: NaiveDateTime,
}

/// Why a rule could not be parsed or expanded. `Display` gives a French message for users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecurrenceError {
    /// Malformed rule or EXDATE; the string is the French explanation.
    Syntax(String),
    /// A valid RFC 5545 part outside our subset; the string names it (`BYHOUR`, `FREQ=YEARLY`).
    Unsupported(String),
    /// The series would have more than `limit` occurrences.
    TooManyOccurrences { limit: usize },
    /// This local start or end does not exist in the pole's time zone (DST gap or other skip).
    NonexistentLocalTime(NaiveDateTime),
    /// The first occurrence does not end after it starts.
    InvalidDuration {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    /// UNTIL is before DTSTART.
    UntilBeforeStart,
    /// COUNT cannot be reached within [`SEARCH_HORIZON_YEARS`].
    CountNotReached { requested: u32, found: usize },
    /// Every occurrence was left out by EXDATE.
    NoOccurrence,
    /// DTSTART or DTEND outside the supported years (1..=9000).
    OutOfRange,
}

impl fmt::Display for RecurrenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecurrenceError::Syntax(msg) => write!(f, "règle de récurrence invalide : {msg}"),
            RecurrenceError::Unsupported(part) => write!(
                f,
                "la partie « {part} » de la règle de récurrence n'est pas prise en charge \
                 (acceptées : FREQ=DAILY, WEEKLY ou MONTHLY, INTERVAL, BYDAY, BYMONTHDAY, \
                 COUNT, UNTIL, WKST=MO)"
            ),
            RecurrenceError::TooManyOccurrences { limit } => write!(
                f,
                "la série dépasserait {limit} occurrences ; réduisez COUNT ou avancez UNTIL"
            ),
            RecurrenceError::NonexistentLocalTime(t) => write!(
                f,
                "l'heure locale du {} à {} n'existe pas (changement d'heure) ; \
                 excluez cette occurrence (EXDATE) ou choisissez un autre horaire",
                t.format("%d/%m/%Y"),
                t.format("%H:%M")
            ),
            RecurrenceError::InvalidDuration { .. } => {
                write!(
                    f,
                    "la fin de la réservation doit être postérieure à son début"
                )
            }
            RecurrenceError::UntilBeforeStart => {
                write!(
                    f,
                    "la date de fin UNTIL est antérieure au début de la série"
                )
            }
            RecurrenceError::CountNotReached { requested, found } => write!(
                f,
                "la règle ne produit que {found} occurrence(s) sur les {requested} demandées \
                 dans les {SEARCH_HORIZON_YEARS} ans suivant le début"
            ),
            RecurrenceError::NoOccurrence => {
                write!(f, "toutes les occurrences de la série sont exclues")
            }
            RecurrenceError::OutOfRange => write!(
                f,
                "date hors de la plage prise en charge (années 1 à {MAX_YEAR})"
            ),
        }
    }
}

impl std::error::Error for RecurrenceError {}

impl FromStr for RecurrenceRule {
    type Err = RecurrenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_rule(s)
    }
}

fn syntax(msg: impl Into<String>) -> RecurrenceError {
    RecurrenceError::Syntax(msg.into())
}

/// Cuts user input echoed in messages; counts chars, so it never splits a UTF-8 sequence.
fn echo(s: &str) -> String {
    let mut out: String = s.chars().take(ECHO_CHARS).collect();
    if s.chars().nth(ECHO_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Parses an RRULE value (optionally prefixed by `RRULE:`) into a validated rule.
pub fn parse_rule(s: &str) -> Result<RecurrenceRule, RecurrenceError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(syntax("la règle est vide"));
    }
    if s.len() > MAX_RULE_LEN {
        return Err(syntax(format!(
            "la règle dépasse {MAX_RULE_LEN} caractères"
        )));
    }
    let body = match s.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("RRULE:") => s.get(6..).unwrap_or(""),
        _ => s,
    };

    let mut freq: Option<Frequency> = None;
    let mut interval: Option<u32> = None;
    let mut count: Option<u32> = None;
    let mut until: Option<RuleEnd> = None;
    let mut by_day: Option<Vec<WeekdaySpec>> = None;
    let mut by_month_day: Option<Vec<i8>> = None;
    let mut wkst_seen = false;

    for part in body.split(';') {
        let part = part.trim();
        if part.is_empty() {
            // Tolerate "FREQ=DAILY;COUNT=2;" as some generators write it.
            continue;
        }
        let Some((key, value)) = part.split_once('=') else {
            return Err(syntax(format!(
                "la partie « {} » n'a pas la forme NOM=VALEUR",
                echo(part)
            )));
        };
        let key = key.trim().to_ascii_uppercase();
        let value = value.trim();
        let duplicate = || syntax(format!("la partie {key} apparaît plusieurs fois"));
        match key.as_str() {
            "FREQ" => {
                if freq.is_some() {
                    return Err(duplicate());
                }
                freq = Some(parse_freq(value)?);
            }
            "INTERVAL" => {
                if interval.is_some() {
                    return Err(duplicate());
                }
                let n = parse_unsigned(value, "INTERVAL")?;
                if n == 0 || n > u64::from(MAX_INTERVAL) {
                    return Err(syntax(format!(
                        "INTERVAL doit être compris entre 1 et {MAX_INTERVAL}"
                    )));
                }
                interval = u32::try_from(n).ok();
            }
            "COUNT" => {
                if count.is_some() {
                    return Err(duplicate());
                }
                let n = parse_unsigned(value, "COUNT")?;
                if n == 0 {
                    return Err(syntax("COUNT doit valoir au moins 1"));
                }
                if n > MAX_OCCURRENCES as u64 {
                    return Err(RecurrenceError::TooManyOccurrences {
                        limit: MAX_OCCURRENCES,
                    });
                }
                count = u32::try_from(n).ok();
            }
            "UNTIL" => {
                if until.is_some() {
                    return Err(duplicate());
                }
                until = Some(parse_until(value)?);
            }
            "BYDAY" => {
                if by_day.is_some() {
                    return Err(duplicate());
                }
                by_day = Some(parse_by_day(value)?);
            }
            "BYMONTHDAY" => {
                if by_month_day.is_some() {
                    return Err(duplicate());
                }
                by_month_day = Some(parse_by_month_day(value)?);
            }
            "WKST" => {
                if wkst_seen {
                    return Err(duplicate());
                }
                wkst_seen = true;
                let upper = value.to_ascii_uppercase();
                match weekday_from_code(&upper) {
                    Some(Weekday::Mon) => {}
                    // Another week start changes which weeks INTERVAL skips; not supported.
                    Some(_) => return Err(RecurrenceError::Unsupported(format!("WKST={upper}"))),
                    None => {
                        return Err(syntax(format!(
                            "WKST « {} » n'est pas un jour (MO, TU, WE, TH, FR, SA, SU)",
                            echo(value)
                        )));
                    }
                }
            }
            "BYSECOND" | "BYMINUTE" | "BYHOUR" | "BYYEARDAY" | "BYWEEKNO" | "BYMONTH"
            | "BYSETPOS" | "RSCALE" | "SKIP" => return Err(RecurrenceError::Unsupported(key)),
            "" => {
                return Err(syntax(format!(
                    "la partie « {} » n'a pas de nom",
                    echo(part)
                )));
            }
            _ => {
                return Err(syntax(format!("partie inconnue « {} »", echo(&key))));
            }
        }
    }

    let frequency = freq.ok_or_else(|| syntax("FREQ est obligatoire"))?;
    let end = match (count, until) {
        (Some(_), Some(_)) => {
            return Err(syntax(
                "COUNT et UNTIL ne peuvent pas être utilisés ensemble",
            ));
        }
        (Some(n), None) => RuleEnd::Count(n),
        (None, Some(u)) => u,
        (None, None) => {
            return Err(syntax(
                "la règle doit comporter COUNT ou UNTIL (les séries sans fin ne sont pas acceptées)",
            ));
        }
    };
    let by_day = by_day.unwrap_or_default();
    let by_month_day = by_month_day.unwrap_or_default();
    if frequency != Frequency::Monthly && by_day.iter().any(|d| d.ordinal.is_some()) {
        return Err(syntax(
            "un jour numéroté dans BYDAY (ex. 1MO, -1FR) n'est permis qu'avec FREQ=MONTHLY",
        ));
    }
    if frequency == Frequency::Weekly && !by_month_day.is_empty() {
        return Err(syntax("BYMONTHDAY n'est pas permis avec FREQ=WEEKLY"));
    }
    Ok(RecurrenceRule {
        frequency,
        interval: interval.unwrap_or(1),
        by_day,
        by_month_day,
        end,
    })
}

fn parse_freq(value: &str) -> Result<Frequency, RecurrenceError> {
    let upper = value.to_ascii_uppercase();
    match upper.as_str() {
        "DAILY" => Ok(Frequency::Daily),
        "WEEKLY" => Ok(Frequency::Weekly),
        "MONTHLY" => Ok(Frequency::Monthly),
        "YEARLY" | "HOURLY" | "MINUTELY" | "SECONDLY" => {
            Err(RecurrenceError::Unsupported(format!("FREQ={upper}")))
        }
        "" => Err(syntax("FREQ est vide")),
        _ => Err(syntax(format!(
            "FREQ « {} » inconnue (DAILY, WEEKLY ou MONTHLY)",
            echo(value)
        ))),
    }
}

/// Unsigned decimal; anything over 18 digits saturates at `u64::MAX` so that range checks
/// report "too large" rather than "not a number".
fn parse_unsigned(value: &str, name: &str) -> Result<u64, RecurrenceError> {
    if value.is_empty() {
        return Err(syntax(format!("{name} est vide")));
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax(format!(
            "{name} doit être un entier positif, pas « {} »",
            echo(value)
        )));
    }
    let digits = value.trim_start_matches('0');
    if digits.len() > 18 {
        return Ok(u64::MAX);
    }
    Ok(digits.parse::<u64>().unwrap_or(0))
}

/// Signed decimal for ordinals and month days: `[+|-]digits`, magnitude within `1..=max`.
fn parse_signed_small(s: &str, max: i8, what: &str) -> Result<i8, RecurrenceError> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let out_of_range = || {
        syntax(format!(
            "{what} « {} » invalide (de 1 à {max} ou de -{max} à -1)",
            echo(s)
        ))
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(out_of_range());
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() || digits.len() > 2 {
        return Err(out_of_range());
    }
    let n: i8 = digits.parse().map_err(|_| out_of_range())?;
    if n > max {
        return Err(out_of_range());
    }
    Ok(if negative { -n } else { n })
}

fn weekday_from_code(code: &str) -> Option<Weekday> {
    match code {
        "MO" => Some(Weekday::Mon),
        "TU" => Some(Weekday::Tue),
        "WE" => Some(Weekday::Wed),
        "TH" => Some(Weekday::Thu),
        "FR" => Some(Weekday::Fri),
        "SA" => Some(Weekday::Sat),
        "SU" => Some(Weekday::Sun),
        _ => None,
    }
}

fn weekday_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn parse_by_day(value: &str) -> Result<Vec<WeekdaySpec>, RecurrenceError> {
    if value.is_empty() {
        return Err(syntax("BYDAY est vide"));
    }
    let mut out: Vec<WeekdaySpec> = Vec::new();
    for item in value.split(',') {
        let item = item.trim().to_ascii_uppercase();
        let bad = || {
            syntax(format!(
                "BYDAY « {} » invalide (attendu MO, TU, WE, TH, FR, SA, SU, éventuellement \
                 précédé d'un rang comme 1MO ou -1FR)",
                echo(&item)
            ))
        };
        let split = item.len().checked_sub(2).ok_or_else(bad)?;
        let (prefix, code) = match (item.get(..split), item.get(split..)) {
            (Some(p), Some(c)) => (p, c),
            _ => return Err(bad()),
        };
        let weekday = weekday_from_code(code).ok_or_else(bad)?;
        let ordinal = if prefix.is_empty() {
            None
        } else {
            Some(parse_signed_small(prefix, 5, "rang BYDAY")?)
        };
        let spec = WeekdaySpec { ordinal, weekday };
        if !out.contains(&spec) {
            out.push(spec);
        }
    }
    Ok(out)
}

fn parse_by_month_day(value: &str) -> Result<Vec<i8>, RecurrenceError> {
    if value.is_empty() {
        return Err(syntax("BYMONTHDAY est vide"));
    }
    let mut out: Vec<i8> = Vec::new();
    for item in value.split(',') {
        let d = parse_signed_small(item.trim(), 31, "BYMONTHDAY")?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

fn parse_until(value: &str) -> Result<RuleEnd, RecurrenceError> {
    let bad = || {
        syntax(format!(
            "UNTIL « {} » invalide (attendu une date AAAAMMJJ ou une date-heure UTC \
             AAAAMMJJTHHMMSSZ)",
            echo(value)
        ))
    };
    let upper = value.to_ascii_uppercase();
    if upper.len() == 8 {
        return basic_date(&upper).map(RuleEnd::UntilDate).ok_or_else(bad);
    }
    let stripped = upper.strip_suffix('Z').ok_or_else(bad)?;
    let at = basic_date_time(stripped).ok_or_else(bad)?;
    Ok(RuleEnd::UntilUtc(at.and_utc()))
}

/// All-digit slice of `s` at `range`, as a number (None on any non-digit or bad boundary).
fn num(s: &str, from: usize, to: usize) -> Option<u32> {
    let part = s.get(from..to)?;
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// `YYYYMMDD`.
fn basic_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 {
        return None;
    }
    let year = i32::try_from(num(s, 0, 4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(s, 4, 6)?, num(s, 6, 8)?)
}

/// `YYYYMMDDTHHMMSS`.
fn basic_date_time(s: &str) -> Option<NaiveDateTime> {
    if s.len() != 15 || !matches!(s.as_bytes().get(8), Some(b'T')) {
        return None;
    }
    let date = basic_date(s.get(..8)?)?;
    let time = NaiveTime::from_hms_opt(num(s, 9, 11)?, num(s, 11, 13)?, num(s, 13, 15)?)?;
    Some(date.and_time(time))
}

/// `YYYY-MM-DD`.
fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if s.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = i32::try_from(num(s, 0, 4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(s, 5, 7)?, num(s, 8, 10)?)
}

/// Local date or date-time in the basic (iCalendar) or extended (ISO 8601) form.
fn parse_local(s: &str) -> Option<ExDate> {
    let upper = s.to_ascii_uppercase();
    match upper.len() {
        8 => basic_date(&upper).map(ExDate::Day),
        10 => iso_date(&upper).map(ExDate::Day),
        15 => basic_date_time(&upper).map(ExDate::At),
        16 | 19 => {
            let b = upper.as_bytes();
            if !matches!(b.get(10), Some(b'T' | b' ')) || b.get(13) != Some(&b':') {
                return None;
            }
            let seconds = if upper.len() == 19 {
                if b.get(16) != Some(&b':') {
                    return None;
                }
                num(&upper, 17, 19)?
            } else {
                0
            };
            let date = iso_date(upper.get(..10)?)?;
            let time =
                NaiveTime::from_hms_opt(num(&upper, 11, 13)?, num(&upper, 14, 16)?, seconds)?;
            Some(ExDate::At(date.and_time(time)))
        }
        _ => None,
    }
}

impl fmt::Display for RecurrenceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let freq = match self.frequency {
            Frequency::Daily => "DAILY",
            Frequency::Weekly => "WEEKLY",
            Frequency::Monthly => "MONTHLY",
        };
        write!(f, "FREQ={freq}")?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if !self.by_day.is_empty() {
            f.write_str(";BYDAY=")?;
            for (i, d) in self.by_day.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if let Some(n) = d.ordinal {
                    write!(f, "{n}")?;
                }
                f.write_str(weekday_code(d.weekday))?;
            }
        }
        if !self.by_month_day.is_empty() {
            f.write_str(";BYMONTHDAY=")?;
            for (i, d) in self.by_month_day.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{d}")?;
            }
        }
        match self.end {
            RuleEnd::Count(n) => write!(f, ";COUNT={n}"),
            RuleEnd::UntilDate(d) => write!(f, ";UNTIL={}", d.format("%Y%m%d")),
            RuleEnd::UntilUtc(t) => write!(f, ";UNTIL={}", t.format("%Y%m%dT%H%M%SZ")),
        }
    }
}

/// Expands `rule` from the first booking `[dtstart_local, dtend_local)` (local wall-clock
/// times in `tz`), leaving out `exdates`. The result is sorted and strictly increasing.
/// The first element is DTSTART unless DTSTART was excluded. See the module doc for DST,
/// EXDATE and limits.
pub fn expand(
    rule: &RecurrenceRule,
    dtstart_local: NaiveDateTime,
    dtend_local: NaiveDateTime,
    tz: Tz,
    exdates: &[ExDate],
) -> Result<Vec<Occurrence>, RecurrenceError> {
    if !(1..=MAX_YEAR).contains(&dtstart_local.year()) || dtend_local.year() > MAX_YEAR {
        return Err(RecurrenceError::OutOfRange);
    }
    if dtend_local <= dtstart_local {
        return Err(RecurrenceError::InvalidDuration {
            start: dtstart_local,
            end: dtend_local,
        });
    }
    let length = dtend_local.signed_duration_since(dtstart_local);
    let starts = local_starts(rule, dtstart_local, tz)?;
    let mut out = Vec::with_capacity(starts.len());
    for local_start in starts {
        let excluded = exdates.iter().any(|x| match *x {
            ExDate::At(t) => t == local_start,
            ExDate::Day(d) => d == local_start.date(),
        });
        if excluded {
            continue;
        }
        let local_end = local_start
            .checked_add_signed(length)
            .ok_or(RecurrenceError::OutOfRange)?;
        let start = resolve(tz, local_start)?;
        let end = resolve(tz, local_end)?;
        if end <= start {
            // Unreachable with earliest-instant resolution (it is monotonic), kept as a guard.
            return Err(RecurrenceError::InvalidDuration {
                start: local_start,
                end: local_end,
            });
        }
        out.push(Occurrence {
            start,
            end,
            local_start,
            local_end,
        });
    }
    if out.is_empty() {
        return Err(RecurrenceError::NoOccurrence);
    }
    Ok(out)
}

/// [`expand`] from the first booking given as exact instants. DTSTART's occurrence keeps those
/// instants: a start written with its offset inside the repeated hour of October
/// (`02:30+01:00`, the second 02:30) is booked as written, not as the first 02:30 that local
/// time alone would name. Later occurrences resolve their local times as [`expand`] does.
pub fn expand_from(
    rule: &RecurrenceRule,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: Tz,
    exdates: &[ExDate],
) -> Result<Vec<Occurrence>, RecurrenceError> {
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).naive_local();
    let (start_local, end_local) = (local(start), local(end));
    let mut out = expand(rule, start_local, end_local, tz, exdates)?;
    if let Some(first) = out.first_mut() {
        if first.local_start == start_local {
            first.start = start;
            first.end = end;
        }
    }
    Ok(out)
}

/// Local wall-clock time → instant: the earlier instant in a fold, an error in a gap.
fn resolve(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, RecurrenceError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Ok(a.min(b).with_timezone(&Utc)),
        LocalResult::None => Err(RecurrenceError::NonexistentLocalTime(local)),
    }
}

/// Whether a local start is within UNTIL. A gap time (which has no instant) is compared in
/// local time with UNTIL converted to local time; the order is the same as for instants.
fn within_end(end: RuleEnd, tz: Tz, local: NaiveDateTime) -> bool {
    match end {
        RuleEnd::Count(_) => true,
        RuleEnd::UntilDate(d) => local.date() <= d,
        RuleEnd::UntilUtc(u) => match tz.from_local_datetime(&local).earliest() {
            Some(t) => t.with_timezone(&Utc) <= u,
            None => local <= u.with_timezone(&tz).naive_local(),
        },
    }
}

/// Local starts generated by the rule (COUNT and UNTIL applied, EXDATE not yet), DTSTART first.
fn local_starts(
    rule: &RecurrenceRule,
    dtstart: NaiveDateTime,
    tz: Tz,
) -> Result<Vec<NaiveDateTime>, RecurrenceError> {
    if !within_end(rule.end, tz, dtstart) {
        return Err(RecurrenceError::UntilBeforeStart);
    }
    let wanted = match rule.end {
        RuleEnd::Count(n) => usize::try_from(n).unwrap_or(MAX_OCCURRENCES),
        _ => usize::MAX,
    };
    let mut out = vec![dtstart];
    if out.len() >= wanted {
        return Ok(out);
    }
    let first_day = dtstart.date();
    let time = dtstart.time();
    let horizon = first_day
        .checked_add_months(Months::new(12 * SEARCH_HORIZON_YEARS))
        .ok_or(RecurrenceError::OutOfRange)?;
    let mut period: u32 = 0;
    // Every period starts at least one day after the previous one, so this ends by the
    // horizon (at most 50 × 366 periods for a daily rule).
    'periods: while let Some((period_start, dates)) = period_dates(rule, first_day, period) {
        if period_start > horizon {
            break;
        }
        for date in dates {
            if date <= first_day {
                continue;
            }
            if date > horizon {
                break 'periods;
            }
            let local = date.and_time(time);
            if !within_end(rule.end, tz, local) {
                break 'periods;
            }
            out.push(local);
            if out.len() >= wanted {
                return Ok(out);
            }
            if out.len() > MAX_OCCURRENCES {
                return Err(RecurrenceError::TooManyOccurrences {
                    limit: MAX_OCCURRENCES,
                });
            }
        }
        period = match period.checked_add(1) {
            Some(p) => p,
            None => break,
        };
    }
    if let RuleEnd::Count(n) = rule.end {
        return Err(RecurrenceError::CountNotReached {
            requested: n,
            found: out.len(),
        });
    }
    Ok(out)
}

/// The `index`-th period of the rule (its first day) and its matching dates, sorted.
/// `None` only if the date arithmetic leaves chrono's range.
fn period_dates(
    rule: &RecurrenceRule,
    first_day: NaiveDate,
    index: u32,
) -> Option<(NaiveDate, Vec<NaiveDate>)> {
    let step = u64::from(index).checked_mul(u64::from(rule.interval))?;
    match rule.frequency {
        Frequency::Daily => {
            let day = first_day.checked_add_days(Days::new(step))?;
            let keep = matches_weekdays(&rule.by_day, day) && matches_month_days(rule, day);
            Some((day, if keep { vec![day] } else { Vec::new() }))
        }
        Frequency::Weekly => {
            // WKST=MO: weeks run Monday to Sunday.
            let monday = first_day.checked_sub_days(Days::new(u64::from(
                first_day.weekday().num_days_from_monday(),
            )))?;
            let week = monday.checked_add_days(Days::new(step.checked_mul(7)?))?;
            let mut weekdays: Vec<Weekday> = if rule.by_day.is_empty() {
                vec![first_day.weekday()]
            } else {
                rule.by_day.iter().map(|d| d.weekday).collect()
            };
            weekdays.sort_by_key(|d| d.num_days_from_monday());
            weekdays.dedup();
            let dates = weekdays
                .into_iter()
                .filter_map(|d| {
                    week.checked_add_days(Days::new(u64::from(d.num_days_from_monday())))
                })
                .collect();
            Some((week, dates))
        }
        Frequency::Monthly => {
            let month_one = first_day.with_day(1)?;
            let month = month_one.checked_add_months(Months::new(u32::try_from(step).ok()?))?;
            Some((month, month_dates(rule, first_day, month)))
        }
    }
}

fn matches_weekdays(by_day: &[WeekdaySpec], day: NaiveDate) -> bool {
    by_day.is_empty() || by_day.iter().any(|d| d.weekday == day.weekday())
}

fn matches_month_days(rule: &RecurrenceRule, day: NaiveDate) -> bool {
    if rule.by_month_day.is_empty() {
        return true;
    }
    let len = days_in_month(day);
    rule.by_month_day
        .iter()
        .any(|&d| month_day(d, len) == Some(day.day()))
}

/// A BYMONTHDAY value as a day number of a month of `len` days, if that day exists.
fn month_day(d: i8, len: u32) -> Option<u32> {
    let len = i64::from(len);
    let d = i64::from(d);
    let day = if d < 0 { len + 1 + d } else { d };
    if (1..=len).contains(&day) {
        u32::try_from(day).ok()
    } else {
        None
    }
}

fn days_in_month(any_day: NaiveDate) -> u32 {
    let first = any_day.with_day(1);
    let next = first.and_then(|f| f.checked_add_months(Months::new(1)));
    match (first, next) {
        (Some(f), Some(n)) => u32::try_from(n.signed_duration_since(f).num_days()).unwrap_or(28),
        // Only at the very end of chrono's range, which `expand` never reaches.
        _ => 28,
    }
}

/// Matching days of the month starting at `month` (its first day), sorted.
fn month_dates(rule: &RecurrenceRule, first_day: NaiveDate, month: NaiveDate) -> Vec<NaiveDate> {
    let len = days_in_month(month);
    let by_month_day: Vec<u32> = rule
        .by_month_day
        .iter()
        .filter_map(|&d| month_day(d, len))
        .collect();
    let mut days: Vec<u32> = if rule.by_day.is_empty() {
        // Test the rule, not `by_month_day`: that list is empty in a month where none of the
        // wanted days exists, and such a month must give nothing.
        if rule.by_month_day.is_empty() {
            // Same day as DTSTART; months without it are skipped.
            if first_day.day() <= len {
                vec![first_day.day()]
            } else {
                Vec::new()
            }
        } else {
            by_month_day
        }
    } else {
        let first_weekday = month.weekday();
        let mut by_weekday = Vec::new();
        for spec in &rule.by_day {
            // Day numbers of every `spec.weekday` in this month.
            let offset = (7 + spec.weekday.num_days_from_monday()
                - first_weekday.num_days_from_monday())
                % 7;
            let all: Vec<u32> = (0..5)
                .map(|k| 1 + offset + 7 * k)
                .filter(|&d| d <= len)
                .collect();
            match spec.ordinal {
                None => by_weekday.extend(all),
                Some(n) if n > 0 => {
                    if let Some(&d) = all.get(usize::from(n.unsigned_abs()) - 1) {
                        by_weekday.push(d);
                    }
                }
                Some(n) => {
                    let back = usize::from(n.unsigned_abs());
                    if let Some(&d) = all.len().checked_sub(back).and_then(|i| all.get(i)) {
                        by_weekday.push(d);
                    }
                }
            }
        }
        if rule.by_month_day.is_empty() {
            by_weekday
        } else {
            // BYDAY limits BYMONTHDAY (RFC 5545 table, note 1).
            by_weekday.retain(|d| by_month_day.contains(d));
            by_weekday
        }
    };
    days.sort_unstable();
    days.dedup();
    days.into_iter().filter_map(|d| month.with_day(d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, Timelike};
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::Paris;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn dt(y: i32, m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
        d(y, m, day)
            .and_hms_opt(h, min, 0)
            .expect("valid test time")
    }

    fn rule(s: &str) -> RecurrenceRule {
        parse_rule(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// Expands a one-hour booking starting at `start`.
    fn run(s: &str, start: NaiveDateTime, tz: Tz) -> Vec<Occurrence> {
        expand(&rule(s), start, start + TimeDelta::hours(1), tz, &[])
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn dates(occ: &[Occurrence]) -> Vec<NaiveDate> {
        occ.iter().map(|o| o.local_start.date()).collect()
    }

    /// Expected dates grouped by month, as the RFC writes them: `(1997, 9, &[2, 9, 16])`.
    fn days(groups: &[(i32, u32, &[u32])]) -> Vec<NaiveDate> {
        groups
            .iter()
            .flat_map(|&(y, m, list)| list.iter().map(move |&day| d(y, m, day)))
            .collect()
    }

    /// RFC examples are at 09:00 America/New_York: 13:00 UTC in EDT, 14:00 UTC in EST.
    fn assert_nine_local(occ: &[Occurrence]) {
        for o in occ {
            assert_eq!(
                o.local_start.time(),
                NaiveTime::from_hms_opt(9, 0, 0).unwrap()
            );
            let expected_utc_hour = match New_York.from_local_datetime(&o.local_start) {
                LocalResult::Single(t) => t.with_timezone(&Utc).hour(),
                _ => panic!("09:00 is never ambiguous in New York"),
            };
            assert_eq!(o.start.hour(), expected_utc_hour);
        }
    }

    fn err(s: &str) -> RecurrenceError {
        match parse_rule(s) {
            Ok(r) => panic!("{s:?} should be refused, got {r}"),
            Err(e) => e,
        }
    }

    // ---- RFC 5545 §3.8.5.3 examples (DTSTART;TZID=America/New_York) ----

    #[test]
    fn rfc_daily_for_10_occurrences() {
        let occ = run("RRULE:FREQ=DAILY;COUNT=10", dt(1997, 9, 2, 9, 0), New_York);
        assert_eq!(
            dates(&occ),
            (2..=11).map(|day| d(1997, 9, day)).collect::<Vec<_>>()
        );
        assert_nine_local(&occ);
        assert_eq!(occ[0].start.hour(), 13, "09:00 EDT");
    }

    #[test]
    fn rfc_daily_until_december_24() {
        let occ = run(
            "FREQ=DAILY;UNTIL=19971224T000000Z",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        assert_eq!(occ.len(), 113);
        assert_eq!(
            occ.first().map(|o| o.local_start.date()),
            Some(d(1997, 9, 2))
        );
        assert_eq!(
            occ.last().map(|o| o.local_start.date()),
            Some(d(1997, 12, 23))
        );
        assert_nine_local(&occ);
        let oct25 = occ
            .iter()
            .find(|o| o.local_start.date() == d(1997, 10, 25))
            .unwrap();
        let oct26 = occ
            .iter()
            .find(|o| o.local_start.date() == d(1997, 10, 26))
            .unwrap();
        assert_eq!(
            (oct25.start.hour(), oct26.start.hour()),
            (13, 14),
            "EDT then EST"
        );
    }

    #[test]
    fn rfc_every_other_day() {
        // The RFC's rule is unbounded; we require an end, so bound it to October 31.
        assert!(matches!(
            err("FREQ=DAILY;INTERVAL=2"),
            RecurrenceError::Syntax(_)
        ));
        let occ = run(
            "FREQ=DAILY;INTERVAL=2;UNTIL=19971031",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        let mut expected: Vec<NaiveDate> = (2..=30).step_by(2).map(|x| d(1997, 9, x)).collect();
        expected.extend((2..=30).step_by(2).map(|x| d(1997, 10, x)));
        assert_eq!(dates(&occ), expected);
        assert_nine_local(&occ);
    }

    #[test]
    fn rfc_every_10_days_5_occurrences() {
        let occ = run(
            "FREQ=DAILY;INTERVAL=10;COUNT=5",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        let expected = days(&[(1997, 9, &[2, 12, 22]), (1997, 10, &[2, 12])]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_weekly_for_10_occurrences() {
        let occ = run("FREQ=WEEKLY;COUNT=10", dt(1997, 9, 2, 9, 0), New_York);
        let expected = days(&[
            (1997, 9, &[2, 9, 16, 23, 30]),
            (1997, 10, &[7, 14, 21, 28]),
            (1997, 11, &[4]),
        ]);
        assert_eq!(dates(&occ), expected);
        assert_eq!(occ[7].start.hour(), 13, "Oct 21 is EDT");
        assert_eq!(occ[8].start.hour(), 14, "Oct 28 is EST");
    }

    #[test]
    fn rfc_weekly_until_december_24() {
        let occ = run(
            "FREQ=WEEKLY;UNTIL=19971224T000000Z",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[2, 9, 16, 23, 30]),
            (1997, 10, &[7, 14, 21, 28]),
            (1997, 11, &[4, 11, 18, 25]),
            (1997, 12, &[2, 9, 16, 23]),
        ]);
        assert_eq!(dates(&occ), expected);
        assert_nine_local(&occ);
    }

    #[test]
    fn rfc_weekly_on_tuesday_and_thursday_for_five_weeks() {
        let expected = days(&[
            (1997, 9, &[2, 4, 9, 11, 16, 18, 23, 25, 30]),
            (1997, 10, &[2]),
        ]);
        let by_until = run(
            "FREQ=WEEKLY;UNTIL=19971007T000000Z;BYDAY=TU,TH",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        let by_count = run(
            "FREQ=WEEKLY;COUNT=10;BYDAY=TU,TH",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        assert_eq!(dates(&by_until), expected);
        assert_eq!(dates(&by_count), expected);
    }

    #[test]
    fn rfc_every_other_week_on_monday_wednesday_friday_until_december_24() {
        // The RFC says WKST=SU; with a Monday DTSTART the result is the same as WKST=MO.
        let occ = run(
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=MO;BYDAY=MO,WE,FR",
            dt(1997, 9, 1, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[1, 3, 5, 15, 17, 19, 29]),
            (1997, 10, &[1, 3, 13, 15, 17, 27, 29, 31]),
            (1997, 11, &[10, 12, 14, 24, 26, 28]),
            (1997, 12, &[8, 10, 12, 22]),
        ]);
        assert_eq!(dates(&occ), expected);
        assert_nine_local(&occ);
    }

    #[test]
    fn rfc_every_other_week_on_tuesday_and_thursday_for_8_occurrences() {
        let occ = run(
            "FREQ=WEEKLY;INTERVAL=2;COUNT=8;BYDAY=TU,TH",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        let expected = days(&[(1997, 9, &[2, 4, 16, 18, 30]), (1997, 10, &[2, 14, 16])]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_monthly_on_the_first_friday_for_10_occurrences() {
        let occ = run(
            "FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
            dt(1997, 9, 5, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[5]),
            (1997, 10, &[3]),
            (1997, 11, &[7]),
            (1997, 12, &[5]),
            (1998, 1, &[2]),
            (1998, 2, &[6]),
            (1998, 3, &[6]),
            (1998, 4, &[3]),
            (1998, 5, &[1]),
            (1998, 6, &[5]),
        ]);
        assert_eq!(dates(&occ), expected);
        assert_nine_local(&occ);
    }

    #[test]
    fn rfc_monthly_on_the_first_friday_until_december_24() {
        let occ = run(
            "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR",
            dt(1997, 9, 5, 9, 0),
            New_York,
        );
        assert_eq!(
            dates(&occ),
            days(&[
                (1997, 9, &[5]),
                (1997, 10, &[3]),
                (1997, 11, &[7]),
                (1997, 12, &[5])
            ])
        );
    }

    #[test]
    fn rfc_every_other_month_on_the_first_and_last_sunday() {
        let occ = run(
            "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU",
            dt(1997, 9, 7, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[7, 28]),
            (1997, 11, &[2, 30]),
            (1998, 1, &[4, 25]),
            (1998, 3, &[1, 29]),
            (1998, 5, &[3, 31]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_monthly_on_the_second_to_last_monday_for_6_months() {
        let occ = run(
            "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
            dt(1997, 9, 22, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[22]),
            (1997, 10, &[20]),
            (1997, 11, &[17]),
            (1997, 12, &[22]),
            (1998, 1, &[19]),
            (1998, 2, &[16]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_monthly_on_the_third_to_the_last_day() {
        let occ = run(
            "FREQ=MONTHLY;BYMONTHDAY=-3;COUNT=6",
            dt(1997, 9, 28, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[28]),
            (1997, 10, &[29]),
            (1997, 11, &[28]),
            (1997, 12, &[29]),
            (1998, 1, &[29]),
            (1998, 2, &[26]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_monthly_on_the_2nd_and_15th_for_10_occurrences() {
        let occ = run(
            "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[2, 15]),
            (1997, 10, &[2, 15]),
            (1997, 11, &[2, 15]),
            (1997, 12, &[2, 15]),
            (1998, 1, &[2, 15]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_monthly_on_the_first_and_last_day_for_10_occurrences() {
        let occ = run(
            "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1",
            dt(1997, 9, 30, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[30]),
            (1997, 10, &[1, 31]),
            (1997, 11, &[1, 30]),
            (1997, 12, &[1, 31]),
            (1998, 1, &[1, 31]),
            (1998, 2, &[1]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_every_18_months_on_the_10th_to_15th() {
        let occ = run(
            "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15",
            dt(1997, 9, 10, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[10, 11, 12, 13, 14, 15]),
            (1999, 3, &[10, 11, 12, 13]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_every_tuesday_every_other_month() {
        let occ = run(
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU;COUNT=18",
            dt(1997, 9, 2, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[2, 9, 16, 23, 30]),
            (1997, 11, &[4, 11, 18, 25]),
            (1998, 1, &[6, 13, 20, 27]),
            (1998, 3, &[3, 10, 17, 24, 31]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_every_friday_the_13th_with_exdate_of_dtstart() {
        // The RFC excludes DTSTART with EXDATE precisely because DTSTART always counts.
        let start = dt(1997, 9, 2, 9, 0);
        let r = rule("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;UNTIL=20001231");
        let occ = expand(
            &r,
            start,
            start + TimeDelta::hours(1),
            New_York,
            &[ExDate::At(start)],
        )
        .unwrap();
        let expected = days(&[
            (1998, 2, &[13]),
            (1998, 3, &[13]),
            (1998, 11, &[13]),
            (1999, 8, &[13]),
            (2000, 10, &[13]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_first_saturday_following_the_first_sunday() {
        let occ = run(
            "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13;COUNT=10",
            dt(1997, 9, 13, 9, 0),
            New_York,
        );
        let expected = days(&[
            (1997, 9, &[13]),
            (1997, 10, &[11]),
            (1997, 11, &[8]),
            (1997, 12, &[13]),
            (1998, 1, &[10]),
            (1998, 2, &[7]),
            (1998, 3, &[7]),
            (1998, 4, &[11]),
            (1998, 5, &[9]),
            (1998, 6, &[13]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_invalid_dates_are_ignored() {
        let occ = run(
            "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5",
            dt(2007, 1, 15, 9, 0),
            New_York,
        );
        let expected = days(&[(2007, 1, &[15, 30]), (2007, 2, &[15]), (2007, 3, &[15, 30])]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn rfc_parts_outside_the_subset_are_refused_by_name() {
        // "Every day in January, for 3 years" and "the third instance of TU/WE/TH".
        assert_eq!(
            err("FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1"),
            RecurrenceError::Unsupported("BYMONTH".into())
        );
        assert_eq!(
            err("FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"),
            RecurrenceError::Unsupported("BYSETPOS".into())
        );
        assert_eq!(
            err("FREQ=YEARLY;COUNT=10;BYMONTH=6,7"),
            RecurrenceError::Unsupported("FREQ=YEARLY".into())
        );
        assert_eq!(
            err("FREQ=DAILY;COUNT=2;BYHOUR=9"),
            RecurrenceError::Unsupported("BYHOUR".into())
        );
        assert_eq!(
            err("FREQ=SECONDLY;COUNT=2"),
            RecurrenceError::Unsupported("FREQ=SECONDLY".into())
        );
        assert_eq!(
            err("FREQ=WEEKLY;COUNT=2;WKST=SU"),
            RecurrenceError::Unsupported("WKST=SU".into())
        );
        assert!(err("FREQ=DAILY;COUNT=2;BYHOUR=9")
            .to_string()
            .contains("BYHOUR"));
    }

    // ---- Our own cases ----

    #[test]
    fn every_three_months_skips_months_without_the_day() {
        let occ = run(
            "FREQ=MONTHLY;INTERVAL=3;COUNT=4",
            dt(2027, 1, 31, 10, 0),
            Paris,
        );
        // April has no 31st: skipped, not moved.
        assert_eq!(
            dates(&occ),
            days(&[
                (2027, 1, &[31]),
                (2027, 7, &[31]),
                (2027, 10, &[31]),
                (2028, 1, &[31])
            ])
        );
    }

    #[test]
    fn bymonthday_31_skips_short_months() {
        let occ = run(
            "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=7",
            dt(2027, 1, 31, 14, 0),
            Paris,
        );
        let expected = days(&[
            (2027, 1, &[31]),
            (2027, 3, &[31]),
            (2027, 5, &[31]),
            (2027, 7, &[31]),
            (2027, 8, &[31]),
            (2027, 10, &[31]),
            (2027, 12, &[31]),
        ]);
        assert_eq!(dates(&occ), expected);
    }

    #[test]
    fn weekly_tuesday_keeps_local_time_across_march_change() {
        let r = rule("FREQ=WEEKLY;BYDAY=TU;COUNT=12");
        let occ = expand(&r, dt(2027, 3, 2, 9, 0), dt(2027, 3, 2, 11, 0), Paris, &[]).unwrap();
        assert_eq!(occ.len(), 12);
        for o in &occ {
            assert_eq!(o.local_start.weekday(), Weekday::Tue);
            assert_eq!((o.local_start.hour(), o.local_start.minute()), (9, 0));
            assert_eq!((o.local_end.hour(), o.local_end.minute()), (11, 0));
            let utc_hour = if o.local_start.date() < d(2027, 3, 28) {
                8
            } else {
                7
            };
            assert_eq!(o.start.hour(), utc_hour, "{}", o.local_start);
            assert_eq!(o.end.hour(), utc_hour + 2);
        }
        assert_eq!(occ[3].local_start.date(), d(2027, 3, 23));
        assert_eq!(
            occ[4].start,
            Utc.with_ymd_and_hms(2027, 3, 30, 7, 0, 0).unwrap()
        );
    }

    #[test]
    fn weekly_tuesday_keeps_local_time_across_both_changes() {
        let r = rule("RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20271130");
        let occ = expand(&r, dt(2027, 3, 2, 9, 0), dt(2027, 3, 2, 11, 0), Paris, &[]).unwrap();
        assert_eq!(
            occ.last().map(|o| o.local_start.date()),
            Some(d(2027, 11, 30))
        );
        for o in &occ {
            assert_eq!(
                o.local_start.time(),
                NaiveTime::from_hms_opt(9, 0, 0).unwrap()
            );
            let day = o.local_start.date();
            let summer = day > d(2027, 3, 28) && day < d(2027, 10, 31);
            assert_eq!(o.start.hour(), if summer { 7 } else { 8 }, "{day}");
        }
        let oct26 = occ
            .iter()
            .find(|o| o.local_start.date() == d(2027, 10, 26))
            .unwrap();
        let nov2 = occ
            .iter()
            .find(|o| o.local_start.date() == d(2027, 11, 2))
            .unwrap();
        assert_eq!((oct26.start.hour(), nov2.start.hour()), (7, 8));
    }

    #[test]
    fn dst_gap_is_an_error_naming_the_local_time() {
        let r = rule("FREQ=DAILY;COUNT=5");
        let result = expand(
            &r,
            dt(2027, 3, 26, 2, 30),
            dt(2027, 3, 26, 3, 30),
            Paris,
            &[],
        );
        assert_eq!(
            result,
            Err(RecurrenceError::NonexistentLocalTime(dt(
                2027, 3, 28, 2, 30
            )))
        );
        let message = result.unwrap_err().to_string();
        assert!(message.contains("28/03/2027 à 02:30"), "{message}");
    }

    #[test]
    fn dst_gap_can_be_excluded_with_exdate() {
        let r = rule("FREQ=DAILY;COUNT=5");
        let ex = [ExDate::Day(d(2027, 3, 28))];
        let occ = expand(
            &r,
            dt(2027, 3, 26, 2, 30),
            dt(2027, 3, 26, 3, 30),
            Paris,
            &ex,
        )
        .unwrap();
        assert_eq!(
            occ.len(),
            4,
            "the excluded occurrence still counts towards COUNT"
        );
        assert!(occ
            .iter()
            .all(|o| o.local_start.time() == NaiveTime::from_hms_opt(2, 30, 0).unwrap()));
    }

    #[test]
    fn dst_gap_on_the_local_end_is_an_error_too() {
        let r = rule("FREQ=DAILY;COUNT=3");
        let result = expand(
            &r,
            dt(2027, 3, 27, 1, 30),
            dt(2027, 3, 27, 2, 30),
            Paris,
            &[],
        );
        assert_eq!(
            result,
            Err(RecurrenceError::NonexistentLocalTime(dt(
                2027, 3, 28, 2, 30
            )))
        );
    }

    #[test]
    fn ambiguous_local_time_takes_the_earlier_summer_instant() {
        let r = rule("FREQ=DAILY;COUNT=3");
        let occ = expand(
            &r,
            dt(2027, 10, 30, 2, 30),
            dt(2027, 10, 30, 3, 30),
            Paris,
            &[],
        )
        .unwrap();
        // 02:30 CEST (+02:00) = 00:30 UTC; 03:30 on that day is CET = 02:30 UTC.
        assert_eq!(
            occ[1].start,
            Utc.with_ymd_and_hms(2027, 10, 31, 0, 30, 0).unwrap()
        );
        assert_eq!(
            occ[1].end,
            Utc.with_ymd_and_hms(2027, 10, 31, 2, 30, 0).unwrap()
        );
        assert_eq!(
            occ[2].start,
            Utc.with_ymd_and_hms(2027, 11, 1, 1, 30, 0).unwrap()
        );
    }

    #[test]
    fn dtstart_not_matching_byday_is_still_the_first_occurrence() {
        // 2027-03-07 is a Sunday.
        let occ = run("FREQ=WEEKLY;BYDAY=TU;COUNT=3", dt(2027, 3, 7, 9, 0), Paris);
        assert_eq!(dates(&occ), days(&[(2027, 3, &[7, 9, 16])]));
    }

    #[test]
    fn exdate_by_date_time_and_by_date() {
        let r = rule("FREQ=WEEKLY;COUNT=6");
        let start = dt(2027, 4, 6, 9, 0);
        let ex = [
            ExDate::At(dt(2027, 4, 13, 9, 0)),
            ExDate::Day(d(2027, 4, 27)),
            ExDate::At(dt(2027, 5, 4, 10, 0)), // wrong time: matches nothing, ignored
            ExDate::Day(d(2030, 1, 1)),        // outside the series: ignored
        ];
        let occ = expand(&r, start, start + TimeDelta::hours(2), Paris, &ex).unwrap();
        assert_eq!(
            dates(&occ),
            days(&[(2027, 4, &[6, 20]), (2027, 5, &[4, 11])])
        );
    }

    #[test]
    fn excluding_everything_is_an_error() {
        let r = rule("FREQ=DAILY;COUNT=2");
        let start = dt(2027, 4, 6, 9, 0);
        let ex = [ExDate::Day(d(2027, 4, 6)), ExDate::Day(d(2027, 4, 7))];
        let result = expand(&r, start, start + TimeDelta::hours(1), Paris, &ex);
        assert_eq!(result, Err(RecurrenceError::NoOccurrence));
    }

    #[test]
    fn exdates_parse_in_basic_and_extended_forms() {
        assert_eq!(
            parse_exdates(
                "20270406T090000, 20270413,2027-04-20, 2027-04-27T09:00,2027-05-04 09:00:00"
            )
            .unwrap(),
            vec![
                ExDate::At(dt(2027, 4, 6, 9, 0)),
                ExDate::Day(d(2027, 4, 13)),
                ExDate::Day(d(2027, 4, 20)),
                ExDate::At(dt(2027, 4, 27, 9, 0)),
                ExDate::At(dt(2027, 5, 4, 9, 0)),
            ]
        );
        assert_eq!(parse_exdates("  ").unwrap(), vec![]);
        for bad in [
            "2027-02-30",
            "20271301",
            "2027-04-06T25:00",
            "hier",
            "2027-04-06T09:00Z",
            "20é7-04-06",
            ",",
        ] {
            assert!(
                matches!(parse_exdates(bad), Err(RecurrenceError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn count_366_is_accepted_and_367_refused() {
        let occ = run("FREQ=DAILY;COUNT=366", dt(2027, 1, 1, 8, 0), Paris);
        assert_eq!(occ.len(), 366);
        assert_eq!(
            err("FREQ=DAILY;COUNT=367"),
            RecurrenceError::TooManyOccurrences { limit: 366 }
        );
    }

    #[test]
    fn until_giving_more_than_366_is_refused_not_truncated() {
        // 2027-01-01 .. 2028-01-01 is 366 days; one more day is one too many.
        assert_eq!(
            run("FREQ=DAILY;UNTIL=20280101", dt(2027, 1, 1, 8, 0), Paris).len(),
            366
        );
        let r = rule("FREQ=DAILY;UNTIL=20280102");
        let start = dt(2027, 1, 1, 8, 0);
        let result = expand(&r, start, start + TimeDelta::hours(1), Paris, &[]);
        assert_eq!(
            result,
            Err(RecurrenceError::TooManyOccurrences { limit: 366 })
        );
    }

    #[test]
    fn until_is_inclusive() {
        let start = dt(2027, 1, 5, 9, 0); // 09:00 CET = 08:00 UTC
        let last = |s: &str| run(s, start, Paris).last().map(|o| o.local_start.date());
        assert_eq!(
            last("FREQ=WEEKLY;UNTIL=20270126T080000Z"),
            Some(d(2027, 1, 26))
        );
        assert_eq!(
            last("FREQ=WEEKLY;UNTIL=20270126T075959Z"),
            Some(d(2027, 1, 19))
        );
        assert_eq!(last("FREQ=WEEKLY;UNTIL=20270126"), Some(d(2027, 1, 26)));
        assert_eq!(last("FREQ=WEEKLY;UNTIL=20270125"), Some(d(2027, 1, 19)));
    }

    #[test]
    fn until_before_dtstart_is_an_error() {
        let r = rule("FREQ=WEEKLY;UNTIL=20270104");
        let start = dt(2027, 1, 5, 9, 0);
        let result = expand(&r, start, start + TimeDelta::hours(1), Paris, &[]);
        assert_eq!(result, Err(RecurrenceError::UntilBeforeStart));
    }

    #[test]
    fn unreachable_count_is_an_error_not_a_loop() {
        // February never has a 30th, and INTERVAL=12 only visits Februaries.
        let r = rule("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30;COUNT=3");
        let start = dt(2027, 2, 10, 9, 0);
        let result = expand(&r, start, start + TimeDelta::hours(1), Paris, &[]);
        assert_eq!(
            result,
            Err(RecurrenceError::CountNotReached {
                requested: 3,
                found: 1
            })
        );
    }

    #[test]
    fn multi_day_booking_keeps_wall_clock_start_and_end() {
        // Van from Friday 18:00 to Monday 08:00, weekly across the March change.
        let r = rule("FREQ=WEEKLY;COUNT=3");
        let occ = expand(
            &r,
            dt(2027, 3, 19, 18, 0),
            dt(2027, 3, 22, 8, 0),
            Paris,
            &[],
        )
        .unwrap();
        for o in &occ {
            assert_eq!(o.local_end - o.local_start, TimeDelta::hours(62));
        }
        assert_eq!(
            occ[1].end - occ[1].start,
            TimeDelta::hours(61),
            "one hour lost on 28 March"
        );
    }

    #[test]
    fn bad_first_interval_and_years_are_refused() {
        let r = rule("FREQ=DAILY;COUNT=2");
        let start = dt(2027, 1, 5, 9, 0);
        assert!(matches!(
            expand(&r, start, start, Paris, &[]),
            Err(RecurrenceError::InvalidDuration { .. })
        ));
        assert!(matches!(
            expand(&r, start, start - TimeDelta::hours(1), Paris, &[]),
            Err(RecurrenceError::InvalidDuration { .. })
        ));
        // An absurd end must not overflow while resolving instants.
        let huge = expand(&r, start, NaiveDateTime::MAX, Paris, &[]);
        assert_eq!(huge, Err(RecurrenceError::OutOfRange));
        let far = dt(9500, 1, 1, 9, 0);
        assert_eq!(
            expand(&r, far, far + TimeDelta::hours(1), Paris, &[]),
            Err(RecurrenceError::OutOfRange)
        );
        assert_eq!(
            expand(
                &r,
                NaiveDateTime::MAX - TimeDelta::hours(2),
                NaiveDateTime::MAX,
                Paris,
                &[]
            ),
            Err(RecurrenceError::OutOfRange)
        );
    }

    #[test]
    fn parsing_is_case_insensitive_and_canonical_display_round_trips() {
        let r = rule("  rrule:freq=monthly;interval=2;byday=1mo,-1fr,+2tu;count=4;wkst=mo; ");
        assert_eq!(r.frequency(), Frequency::Monthly);
        assert_eq!(r.interval(), 2);
        assert_eq!(r.end(), RuleEnd::Count(4));
        assert_eq!(
            r.to_string(),
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO,-1FR,2TU;COUNT=4"
        );
        for s in [
            "FREQ=DAILY;BYDAY=MO,TU;BYMONTHDAY=-1,15;UNTIL=20270630",
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU;UNTIL=20270630T235959Z",
        ] {
            assert_eq!(rule(s).to_string(), s);
            assert_eq!(rule(&rule(s).to_string()), rule(s));
        }
        assert_eq!(
            "FREQ=DAILY;COUNT=1".parse::<RecurrenceRule>(),
            Ok(rule("FREQ=DAILY;COUNT=1"))
        );
    }

    #[test]
    fn malformed_rules_are_refused_with_french_messages() {
        let cases = [
            "",
            "   ",
            "RRULE:",
            "FREQ=",
            "FREQ=WEEKLYY;COUNT=2",
            "COUNT=2",
            "FREQ=DAILY",
            "FREQ=DAILY;INTERVAL=0;COUNT=2",
            "FREQ=DAILY;INTERVAL=1000;COUNT=2",
            "FREQ=DAILY;INTERVAL=99999999999999999999999999;COUNT=2",
            "FREQ=DAILY;INTERVAL=-1;COUNT=2",
            "FREQ=DAILY;COUNT=-1",
            "FREQ=DAILY;COUNT=0",
            "FREQ=DAILY;COUNT=abc",
            "FREQ=DAILY;COUNT=",
            "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
            "FREQ=WEEKLY;BYDAY=;COUNT=2",
            "FREQ=WEEKLY;BYDAY=MO,;COUNT=2",
            "FREQ=WEEKLY;BYDAY=1MO;COUNT=2",
            "FREQ=MONTHLY;BYDAY=6MO;COUNT=2",
            "FREQ=MONTHLY;BYDAY=0MO;COUNT=2",
            "FREQ=MONTHLY;BYDAY=--1MO;COUNT=2",
            "FREQ=MONTHLY;BYDAY=99999999999999999999MO;COUNT=2",
            "FREQ=MONTHLY;BYDAY=éMO;COUNT=2",
            "FREQ=MONTHLY;BYDAY=Mé;COUNT=2",
            "FREQ=MONTHLY;BYMONTHDAY=0;COUNT=2",
            "FREQ=MONTHLY;BYMONTHDAY=32;COUNT=2",
            "FREQ=MONTHLY;BYMONTHDAY=-32;COUNT=2",
            "FREQ=WEEKLY;BYMONTHDAY=1;COUNT=2",
            "FREQ=DAILY;COUNT=2;UNTIL=20270630",
            "FREQ=DAILY;UNTIL=2027063",
            "FREQ=DAILY;UNTIL=20270631",
            "FREQ=DAILY;UNTIL=20270630T120000",
            "FREQ=DAILY;UNTIL=20270630T250000Z",
            "FREQ=DAILY;UNTIL=20270630X120000Z",
            "FREQ=DAILY;FREQ=WEEKLY;COUNT=2",
            "FREQ=DAILY;COUNT=2;COUNT=3",
            "FREQ=DAILY;COUNT=2;FOO=1",
            "FREQ=DAILY;COUNT=2;X-NAME=1",
            "FREQ=DAILY;COUNT",
            "FREQ=DAILY;=2",
            "FREQ=DAILY;COUNT=2;WKST=XX",
            "\u{0}\u{ffff};;==",
        ];
        for s in cases {
            let e = err(s);
            assert!(
                matches!(e, RecurrenceError::Syntax(_)),
                "{s:?} should be a syntax error, got {e:?}"
            );
            assert!(
                e.to_string().starts_with("règle de récurrence invalide"),
                "{e}"
            );
        }
        assert_eq!(
            err("FREQ=DAILY;COUNT=99999999999999999999999"),
            RecurrenceError::TooManyOccurrences { limit: 366 }
        );
        assert!(err("FREQ=DAILY;COUNT=2;FOO=1").to_string().contains("FOO"));
        assert!(err(&"A".repeat(5000)).to_string().contains("1024"));
        let long_key = format!("FREQ=DAILY;COUNT=2;{}=1", "é".repeat(200));
        assert!(
            err(&long_key).to_string().chars().count() < 120,
            "echoed input is cut"
        );
    }

    #[test]
    fn byday_with_bymonthday_gives_nothing_in_months_without_the_day() {
        // Fridays that are the 31st: none in February, April, June, September or November.
        let occ = run(
            "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=31;COUNT=3",
            dt(2027, 1, 1, 9, 0),
            Paris,
        );
        assert_eq!(
            dates(&occ),
            days(&[(2027, 1, &[1]), (2027, 12, &[31]), (2028, 3, &[31])])
        );
    }

    /// Brute-force oracle: does `day` (after DTSTART) belong to the rule? Scans one day at a
    /// time, independently of the period-by-period generator.
    fn oracle_matches(r: &RecurrenceRule, first: NaiveDate, day: NaiveDate) -> bool {
        let interval = i64::from(r.interval());
        let len = days_in_month(day) as i64;
        let monthday_ok = r.by_month_day().is_empty()
            || r.by_month_day().iter().any(|&m| {
                let m = i64::from(m);
                let want = if m < 0 { len + 1 + m } else { m };
                want == i64::from(day.day())
            });
        let weekday_ok = |spec: &WeekdaySpec| {
            spec.weekday == day.weekday()
                && match spec.ordinal {
                    None => true,
                    Some(n) if n > 0 => (day.day() - 1) / 7 + 1 == n as u32,
                    Some(n) => (len - i64::from(day.day())) / 7 + 1 == -i64::from(n),
                }
        };
        let byday_ok = r.by_day().is_empty() || r.by_day().iter().any(weekday_ok);
        match r.frequency() {
            Frequency::Daily => (day - first).num_days() % interval == 0 && byday_ok && monthday_ok,
            Frequency::Weekly => {
                let monday = |x: NaiveDate| {
                    x - TimeDelta::days(i64::from(x.weekday().num_days_from_monday()))
                };
                let weeks = (monday(day) - monday(first)).num_days() / 7;
                let wd_ok = if r.by_day().is_empty() {
                    day.weekday() == first.weekday()
                } else {
                    byday_ok
                };
                weeks % interval == 0 && wd_ok
            }
            Frequency::Monthly => {
                let months = i64::from(day.year() - first.year()) * 12 + i64::from(day.month())
                    - i64::from(first.month());
                let plain = r.by_day().is_empty() && r.by_month_day().is_empty();
                months % interval == 0
                    && byday_ok
                    && monthday_ok
                    && (!plain || day.day() == first.day())
            }
        }
    }

    /// Local start dates the oracle expects, or the error it expects.
    fn oracle(
        r: &RecurrenceRule,
        start: NaiveDateTime,
        tz: Tz,
    ) -> Result<Vec<NaiveDate>, RecurrenceError> {
        let first = start.date();
        let horizon = first
            .checked_add_months(Months::new(12 * SEARCH_HORIZON_YEARS))
            .unwrap();
        if !within_end(r.end(), tz, start) {
            return Err(RecurrenceError::UntilBeforeStart);
        }
        let mut out = vec![first];
        let mut day = first;
        loop {
            if matches!(r.end(), RuleEnd::Count(n) if out.len() == n as usize) {
                return Ok(out);
            }
            if out.len() > MAX_OCCURRENCES {
                return Err(RecurrenceError::TooManyOccurrences {
                    limit: MAX_OCCURRENCES,
                });
            }
            day = day.succ_opt().unwrap();
            if day > horizon || !within_end(r.end(), tz, day.and_time(start.time())) {
                break;
            }
            if oracle_matches(r, first, day) {
                out.push(day);
            }
        }
        match r.end() {
            RuleEnd::Count(n) => Err(RecurrenceError::CountNotReached {
                requested: n,
                found: out.len(),
            }),
            _ => Ok(out),
        }
    }

    // ---- Properties ----

    fn rule_part() -> impl Strategy<Value = String> {
        prop_oneof![
            "FREQ=(DAILY|WEEKLY|MONTHLY|daily|YEARLY|)",
            "INTERVAL=[0-9]{1,4}",
            "COUNT=-?[0-9]{1,4}",
            "UNTIL=20(2[6-9]|3[0-2])[01][0-9][0-3][0-9](T[0-2][0-9][0-5][0-9][0-5][0-9]Z)?",
            "BYDAY=([+-]?[0-6]?(MO|TU|WE|TH|FR|SA|SU|XX),){0,3}[+-]?[0-6]?(MO|TU|WE|TH|FR|SA|SU)",
            "BYMONTHDAY=(-?[0-9]{1,2},){0,3}-?[0-9]{1,2}",
            "WKST=(MO|SU)",
            "[A-Z]{0,8}=[A-Z0-9,+-]{0,8}",
        ]
    }

    /// Well-formed rules of the subset, so that combined parts are really exercised.
    fn valid_rule() -> impl Strategy<Value = String> {
        let codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
        let day_spec = (prop::option::of(prop_oneof![-5i8..=-1, 1i8..=5]), 0usize..7).prop_map(
            move |(n, w)| match n {
                Some(n) => format!("{n}{}", codes[w]),
                None => codes[w].to_owned(),
            },
        );
        let month_day = prop_oneof![-31i8..=-1, 1i8..=31];
        (
            prop_oneof![Just("DAILY"), Just("WEEKLY"), Just("MONTHLY")],
            1u32..=4,
            prop::option::of(prop::collection::vec(day_spec, 1..4)),
            prop::option::of(prop::collection::vec(month_day, 1..4)),
            prop_oneof![
                (1u32..=60).prop_map(|n| format!("COUNT={n}")),
                "UNTIL=20(2[4-9]|3[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])",
            ],
        )
            .prop_map(|(freq, interval, by_day, by_month_day, end)| {
                let mut s = format!("FREQ={freq};INTERVAL={interval};{end}");
                if let Some(days) = by_day {
                    s.push_str(";BYDAY=");
                    s.push_str(&days.join(","));
                }
                if let Some(days) = by_month_day {
                    let days: Vec<String> = days.iter().map(i8::to_string).collect();
                    s.push_str(";BYMONTHDAY=");
                    s.push_str(&days.join(","));
                }
                s
            })
    }

    fn rule_string() -> impl Strategy<Value = String> {
        prop_oneof![
            1 => any::<String>(),
            1 => "[A-Za-z0-9=;:,+-]{0,60}",
            6 => valid_rule(),
            6 => (
                "FREQ=(DAILY|WEEKLY|MONTHLY)",
                "(;COUNT=[0-9]{1,3}|;UNTIL=20(2[6-9]|3[0-2])[01][0-9][0-3][0-9](T[0-2][0-9][0-5][0-9][0-5][0-9]Z)?)",
                prop::collection::vec(rule_part(), 0..3),
            )
                .prop_map(|(f, e, rest)| {
                    let mut s = format!("{f}{e}");
                    for p in rest {
                        s.push(';');
                        s.push_str(&p);
                    }
                    s
                }),
        ]
    }

    fn zone() -> impl Strategy<Value = Tz> {
        prop_oneof![
            Just(Paris),
            Just(New_York),
            Just(chrono_tz::UTC),
            Just(chrono_tz::Australia::Lord_Howe), // 30-minute DST shift
            Just(chrono_tz::Pacific::Apia),        // skipped a whole day in 2011
        ]
    }

    proptest! {
        #[test]
        fn expansion_agrees_with_a_day_by_day_oracle(
            s in rule_string(),
            day in 0u64..(366 * 12),
            hour in 8u32..20,
        ) {
            let Ok(r) = parse_rule(&s) else { return Ok(()) };
            // Daytime in Paris: never in a DST gap, so the only errors are the rule's own.
            let start = d(2024, 1, 1)
                .checked_add_days(Days::new(day))
                .unwrap()
                .and_hms_opt(hour, 0, 0)
                .unwrap();
            let got = expand(&r, start, start + TimeDelta::hours(1), Paris, &[])
                .map(|occ| occ.iter().map(|o| o.local_start.date()).collect::<Vec<_>>());
            prop_assert_eq!(got, oracle(&r, start, Paris), "rule {}", r);
        }

        #[test]
        fn garbage_never_panics(s in any::<String>()) {
            let _ = parse_rule(&s);
            let _ = parse_exdates(&s);
        }

        #[test]
        fn expansions_are_sorted_bounded_and_keep_local_time(
            s in rule_string(),
            day in 0u64..(366 * 12),
            minutes in 0u32..(24 * 60),
            length in 1i64..(4 * 24 * 60),
            tz in zone(),
            ex_days in prop::collection::vec(0u64..400, 0..4),
        ) {
            let Ok(r) = parse_rule(&s) else { return Ok(()) };
            let start = d(2024, 1, 1)
                .checked_add_days(Days::new(day))
                .unwrap()
                .and_hms_opt(minutes / 60, minutes % 60, 0)
                .unwrap();
            let end = start + TimeDelta::minutes(length);
            let exdates: Vec<ExDate> = ex_days
                .iter()
                .map(|&k| ExDate::Day(start.date().checked_add_days(Days::new(k)).unwrap()))
                .collect();
            let Ok(occ) = expand(&r, start, end, tz, &exdates) else { return Ok(()) };
            prop_assert!(!occ.is_empty());
            prop_assert!(occ.len() <= MAX_OCCURRENCES);
            if let RuleEnd::Count(n) = r.end() {
                prop_assert!(occ.len() <= n as usize);
            }
            for o in &occ {
                prop_assert_eq!(o.local_start.time(), start.time());
                prop_assert!(o.local_start >= start);
                prop_assert_eq!(o.local_end - o.local_start, end - start);
                prop_assert!(o.start < o.end);
                // No silent shift: the instant reads back as the same local wall-clock time.
                prop_assert_eq!(o.start.with_timezone(&tz).naive_local(), o.local_start);
                prop_assert_eq!(o.end.with_timezone(&tz).naive_local(), o.local_end);
                prop_assert!(!exdates.contains(&ExDate::Day(o.local_start.date())));
            }
            for w in occ.windows(2) {
                prop_assert!(w[0].start < w[1].start);
                prop_assert!(w[0].local_start < w[1].local_start);
            }
        }
    }

    #[test]
    fn the_first_occurrence_keeps_its_exact_instants_in_the_october_fold() {
        let tz = chrono_tz::Europe::Paris;
        let rule = parse_rule("FREQ=DAILY;COUNT=2").unwrap();
        // The second 02:30 of 31 October 2027 (after the change) to 03:30.
        let start: DateTime<Utc> = "2027-10-31T02:30:00+01:00"
            .parse::<DateTime<chrono::FixedOffset>>()
            .unwrap()
            .with_timezone(&Utc);
        let end: DateTime<Utc> = "2027-10-31T03:30:00+01:00"
            .parse::<DateTime<chrono::FixedOffset>>()
            .unwrap()
            .with_timezone(&Utc);
        let occ = expand_from(&rule, start, end, tz, &[]).unwrap();
        assert_eq!(occ[0].start.to_rfc3339(), "2027-10-31T01:30:00+00:00");
        assert_eq!(occ[0].end.to_rfc3339(), "2027-10-31T02:30:00+00:00");
        // The next day has one 02:30 only, an hour long as asked.
        assert_eq!(occ[1].start.to_rfc3339(), "2027-11-01T01:30:00+00:00");
        assert_eq!(occ[1].end.to_rfc3339(), "2027-11-01T02:30:00+00:00");
        // The first 02:30 (+02:00) stays the first 02:30.
        let first: DateTime<Utc> = "2027-10-31T02:30:00+02:00"
            .parse::<DateTime<chrono::FixedOffset>>()
            .unwrap()
            .with_timezone(&Utc);
        let occ = expand_from(&rule, first, end, tz, &[]).unwrap();
        assert_eq!(occ[0].start.to_rfc3339(), "2027-10-31T00:30:00+00:00");
        assert_eq!(occ[0].end, end);
        // DTSTART excluded: nothing is pinned.
        let ex = [ExDate::parse("2027-10-31").unwrap()];
        let occ = expand_from(&rule, start, end, tz, &ex).unwrap();
        assert_eq!(occ.len(), 1);
        assert_eq!(occ[0].start.to_rfc3339(), "2027-11-01T01:30:00+00:00");
    }
}
