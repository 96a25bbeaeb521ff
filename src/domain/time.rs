//! Time primitives of the domain: half-open UTC intervals, local wall-clock conversion in the
//! pole's time zone, parsing of request instants, and French formatting of dates for messages.

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::Serialize;

/// First calendar year a request may name. Bounding years keeps every date computation far
/// from chrono's limits, so no arithmetic on request data can overflow.
pub const MIN_YEAR: i32 = 2000;
/// Last calendar year a request may name.
pub const MAX_YEAR: i32 = 2199;

/// The UTC span the rules work in: the allowed years plus a day of slack on each side, so that
/// an instant written in a local time zone near a year boundary still fits.
pub fn supported_range() -> Interval {
    let day = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc())
    };
    // Both dates are valid constants; the fallbacks only keep the function total.
    let start = day(MIN_YEAR - 1, 12, 31).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let end = day(MAX_YEAR + 1, 1, 2).unwrap_or(DateTime::<Utc>::MAX_UTC);
    Interval { start, end }
}

/// Adds without ever panicking: results past chrono's range stick to its ends. Only reachable
/// with absurd configuration (buffers of millennia), where clamping is the sane reading.
pub(crate) fn add_saturating(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    if d.is_zero() {
        return t;
    }
    t.checked_add_signed(d).unwrap_or(if d < Duration::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// A half-open span of time `[start, end)`.
///
/// Fields are public so the store and web layers can read them freely; `new` is the checked
/// constructor. Code in this module tree never assumes `start < end` on a value it was handed
/// (a struct literal can break it), it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    /// `None` unless `start < end`: an empty or inverted interval books nothing and would make
    /// every overlap test vacuous.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Interval> {
        (start < end).then_some(Interval { start, end })
    }

    pub fn is_valid(&self) -> bool {
        self.start < self.end
    }

    /// Half-open overlap: `[10:00, 12:00)` and `[12:00, 14:00)` do not overlap.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether the instant lies in `[start, end)`.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn covers(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn duration(&self) -> Duration {
        self.end.signed_duration_since(self.start)
    }

    /// The common part, if any.
    pub fn intersection(&self, other: &Interval) -> Option<Interval> {
        Interval::new(self.start.max(other.start), self.end.min(other.end))
    }

    /// Extends the interval by `before` and `after` (the resource's buffers). Negative values
    /// count as zero so that a widened interval always contains the original one; the ends
    /// saturate at chrono's limits instead of overflowing.
    pub fn widen(&self, before: Duration, after: Duration) -> Interval {
        let before = before.max(Duration::zero());
        let after = after.max(Duration::zero());
        Interval {
            start: add_saturating(self.start, -before),
            end: add_saturating(self.end, after),
        }
    }
}

/// Why a wall-clock time cannot be turned into one instant. The service refuses both cases
/// rather than guess: a booking silently moved by an hour is worse than a clear 422.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTimeError {
    /// The time is skipped when clocks go forward (e.g. 2027-03-28 02:30 in Europe/Paris).
    Nonexistent { local: NaiveDateTime, tz: Tz },
    /// The time happens twice when clocks go back (e.g. 2027-10-31 02:30 in Europe/Paris).
    Ambiguous {
        local: NaiveDateTime,
        tz: Tz,
        earliest: DateTime<Utc>,
        latest: DateTime<Utc>,
    },
}

impl fmt::Display for LocalTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalTimeError::Nonexistent { local, tz } => write!(
                f,
                "L'heure {} du {} n'existe pas dans le fuseau {} (passage à l'heure d'été) : \
                 choisissez une autre heure.",
                local.format("%H:%M"),
                format_date_fr(local.date()),
                tz.name()
            ),
            LocalTimeError::Ambiguous {
                local,
                tz,
                earliest,
                latest,
            } => write!(
                f,
                "L'heure {} du {} existe deux fois dans le fuseau {} (passage à l'heure \
                 d'hiver) : précisez le décalage, {} ou {}.",
                local.format("%H:%M"),
                format_date_fr(local.date()),
                tz.name(),
                earliest.with_timezone(tz).format("%Y-%m-%dT%H:%M:%S%:z"),
                latest.with_timezone(tz).format("%Y-%m-%dT%H:%M:%S%:z"),
            ),
        }
    }
}

impl std::error::Error for LocalTimeError {}

/// Reads a wall-clock time of the pole's time zone as an instant, refusing times that a DST
/// change skips or repeats.
pub fn local_to_utc(naive: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, LocalTimeError> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(LocalTimeError::Nonexistent { local: naive, tz }),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            Err(LocalTimeError::Ambiguous {
                local: naive,
                tz,
                earliest: a.min(b),
                latest: a.max(b),
            })
        }
    }
}

/// Why a request's date-time string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstantError {
    /// Not a date-time in an accepted shape. `input` is cut to a few dozen characters so a
    /// hostile request cannot make us echo megabytes.
    Syntax { input: String },
    /// A year outside `MIN_YEAR..=MAX_YEAR`, as written by the client.
    YearOutOfRange { year: i32 },
    /// A local time skipped or repeated by a DST change.
    Local(LocalTimeError),
}

impl fmt::Display for InstantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantError::Syntax { input } => write!(
                f,
                "« {input} » n'est pas une date et heure valide (formats acceptés : \
                 2027-01-05T09:00, 2027-01-05T09:00:00 ou 2027-01-05T09:00:00+01:00)."
            ),
            InstantError::YearOutOfRange { year } => write!(
                f,
                "L'année {year} est hors de la plage acceptée ({MIN_YEAR}–{MAX_YEAR})."
            ),
            InstantError::Local(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for InstantError {}

impl From<LocalTimeError> for InstantError {
    fn from(e: LocalTimeError) -> Self {
        InstantError::Local(e)
    }
}

/// Longest input worth trying: the longest accepted shape with nanoseconds and an offset is
/// 35 characters; anything much longer is garbage and is refused before any parsing.
const MAX_INSTANT_LEN: usize = 64;

/// Parses an instant from a request: RFC 3339 with an offset (`Z`, `+01:00`), or a date-time
/// without offset (`2027-01-05T09:00`, `2027-01-05T09:00:00`, `2027-01-05 09:00`, the shape an
/// HTML `datetime-local` field sends) read in the pole's time zone.
pub fn parse_instant(s: &str, tz: Tz) -> Result<DateTime<Utc>, InstantError> {
    let syntax = || InstantError::Syntax {
        input: s.chars().take(40).collect(),
    };
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_INSTANT_LEN || !s.is_ascii() {
        return Err(syntax());
    }
    // The date part always has 10 ASCII characters, so any sign or `Z` after it belongs to
    // the offset (the dashes inside the date do not).
    let (naive_part, offset) = match s.get(10..) {
        Some(rest) => match rest.find(['Z', 'z', '+', '-']) {
            Some(i) => {
                let at = 10 + i;
                let offset = parse_offset(&s[at..]).ok_or_else(syntax)?;
                (&s[..at], Some(offset))
            }
            None => (s, None),
        },
        None => return Err(syntax()),
    };
    let naive = parse_naive(naive_part).ok_or_else(syntax)?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&naive.year()) {
        return Err(InstantError::YearOutOfRange { year: naive.year() });
    }
    match offset {
        Some(offset) => match offset.from_local_datetime(&naive) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            // A fixed offset maps every local time to exactly one instant.
            _ => Err(syntax()),
        },
        None => Ok(local_to_utc(naive, tz)?),
    }
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    let s = s.replacen(' ', "T", 1);
    let naive = NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M"))
        .ok()?;
    // chrono accepts a leap second (":60"); no booking starts in one, and it would compare
    // strangely with the next second.
    if naive.nanosecond() >= 1_000_000_000 {
        return None;
    }
    // Instants are on whole minutes: seconds and fractions are dropped (truncated, never
    // rounded up). The two backends keep different precisions (nanoseconds, microseconds),
    // and a booking shown ending at 11:00 must not hold the slot until 11:00:00.5 or 11:00:30.
    naive.with_nanosecond(0)?.with_second(0)
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s.eq_ignore_ascii_case("z") {
        return Some(Utc.fix());
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !(s[1..].len() == 5 || s[1..].len() == 4) {
        return None;
    }
    if s[1..].len() == 5 && s.as_bytes().get(3) != Some(&b':') {
        return None;
    }
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4)?.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// Parses `"HH:MM"` into minutes since midnight; `"24:00"` (1440) is accepted because an
/// opening slot may close at midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Formats minutes since midnight as `"HH:MM"`, 1440 as `"24:00"`.
pub fn format_hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

const WEEKDAYS_FR: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
/// French month names, January first.
pub const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// French name of an ISO weekday (1 = Monday … 7 = Sunday).
pub fn weekday_fr(weekday: u8) -> &'static str {
    WEEKDAYS_FR
        .get(usize::from(weekday.wrapping_sub(1)))
        .copied()
        .unwrap_or("jour inconnu")
}

/// `"mardi 5 janvier 2027"`.
pub fn format_date_fr(date: NaiveDate) -> String {
    let weekday = WEEKDAYS_FR[date.weekday().num_days_from_monday() as usize];
    let month = MONTHS_FR[date.month0() as usize];
    format!("{weekday} {} {month} {}", date.day(), date.year())
}

/// `"mardi 5 janvier 2027 à 09:00"` in the pole's time zone: messages speak the user's
/// wall-clock time, never UTC. Instants outside the supported years (only reachable through a
/// hand-built `Interval`) are shown in UTC, because converting chrono's extreme instants to
/// local time would overflow.
pub fn format_local(t: DateTime<Utc>, tz: Tz) -> String {
    if !supported_range().contains(t) {
        return t.format("%Y-%m-%d %H:%M UTC").to_string();
    }
    let local = t.with_timezone(&tz).naive_local();
    format!(
        "{} à {}",
        format_date_fr(local.date()),
        local.format("%H:%M")
    )
}

/// A span in words, in the pole's time zone: `"mardi 5 janvier 2027 de 10:00 à 12:00"` on one
/// day, `"du lundi 4 janvier 2027 à 22:00 au mardi 5 janvier 2027 à 06:00"` across days.
pub fn format_span(iv: Interval, tz: Tz) -> String {
    let (s, e) = (iv.start, iv.end);
    if supported_range().contains(s) && supported_range().contains(e) {
        let (ls, le) = (
            s.with_timezone(&tz).naive_local(),
            e.with_timezone(&tz).naive_local(),
        );
        if ls.date() == le.date() {
            return format!(
                "{} de {} à {}",
                format_date_fr(ls.date()),
                ls.format("%H:%M"),
                le.format("%H:%M")
            );
        }
    }
    format!("du {} au {}", format_local(s, tz), format_local(e, tz))
}

/// `"10 h 15"`, `"10 h"`, `"45 min"`: minutes the way French schedules write them.
pub fn format_minutes(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.unsigned_abs();
    if m < 60 {
        format!("{sign}{m} min")
    } else if m % 60 == 0 {
        format!("{sign}{} h", m / 60)
    } else {
        format!("{sign}{} h {:02}", m / 60, m % 60)
    }
}

/// `"15 min"`, `"2 h"`, `"1 h 30 min"`; seconds only when a duration has some.
pub fn format_duration(d: Duration) -> String {
    let total = d.num_seconds();
    let sign = if total < 0 { "-" } else { "" };
    let total = total.unsigned_abs();
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    let mut parts = Vec::new();
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 || (hours == 0 && seconds == 0) {
        parts.push(format!("{minutes} min"));
    }
    if seconds > 0 {
        parts.push(format!("{seconds} s"));
    }
    format!("{sign}{}", parts.join(" "))
}

/// `"9 h"`, `"9 h 30"`: a wall-clock time as French schedules write it.
pub fn format_clock(hour: u32, minute: u32) -> String {
    if minute == 0 {
        format!("{hour} h")
    } else {
        format!("{hour} h {minute:02}")
    }
}

/// `"mardi 8 décembre"`, with the year when it is not `this_year`.
pub fn format_day(date: NaiveDate, this_year: i32) -> String {
    let weekday = WEEKDAYS_FR[date.weekday().num_days_from_monday() as usize];
    let month = MONTHS_FR[date.month0() as usize];
    if date.year() == this_year {
        format!("{weekday} {} {month}", date.day())
    } else {
        format!("{weekday} {} {month} {}", date.day(), date.year())
    }
}

/// A span the way a person says it, in the pole's time zone: `"mardi 8 décembre, 9 h – 10 h"`
/// (an end at midnight is `"24 h"` of the same day), `"du lundi 4 janvier, 22 h au mardi
/// 5 janvier, 6 h"` across days; the year only when it is not `this_year`.
pub fn format_when(iv: Interval, tz: Tz, this_year: i32) -> String {
    if !(supported_range().contains(iv.start) && supported_range().contains(iv.end)) {
        return format_span(iv, tz);
    }
    let (s, e) = (
        iv.start.with_timezone(&tz).naive_local(),
        iv.end.with_timezone(&tz).naive_local(),
    );
    let clock = |t: NaiveDateTime| format_clock(t.hour(), t.minute());
    let end_at_midnight =
        e.time() == chrono::NaiveTime::MIN && e.date() == s.date().succ_opt().unwrap_or(s.date());
    if s.date() == e.date() || (end_at_midnight && e > s) {
        let end = if s.date() == e.date() {
            clock(e)
        } else {
            "24 h".into()
        };
        format!("{}, {} – {end}", format_day(s.date(), this_year), clock(s))
    } else {
        format!(
            "du {}, {} au {}, {}",
            format_day(s.date(), this_year),
            clock(s),
            format_day(e.date(), this_year),
            clock(e)
        )
    }
}

/// Serialises an instant as chrono does (`2027-03-01T10:00:00Z` for whole seconds), digit by
/// digit into a fixed buffer rather than through `fmt` one character at a time: an
/// availability answer carries thousands of them. Other instants (fractions, years outside
/// 0–9999) go through chrono.
pub fn serialize_utc<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let year = t.year();
    if t.nanosecond() != 0 || !(0..=9999).contains(&year) {
        return t.serialize(s);
    }
    let mut text = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year.unsigned_abs(), 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    match std::str::from_utf8(&text) {
        Ok(text) => s.serialize_str(text),
        Err(_) => t.serialize(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    #[derive(Serialize)]
    struct Fast(#[serde(serialize_with = "serialize_utc")] DateTime<Utc>);

    #[test]
    fn instants_serialise_as_chrono_writes_them() {
        for t in [
            "2027-03-01T10:00:00Z",
            "2000-01-01T00:00:00Z",
            "2199-12-31T23:59:59Z",
            "0001-02-03T04:05:06Z",
            "2027-03-01T10:00:00.5Z",
        ] {
            let t: DateTime<Utc> = t.parse().unwrap();
            assert_eq!(
                serde_json::to_string(&Fast(t)).unwrap(),
                serde_json::to_string(&t).unwrap()
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_instant_serialises_as_chrono_writes_it(secs in -70_000_000_000i64..260_000_000_000, nanos in proptest::prop_oneof![proptest::strategy::Just(0u32), 0u32..1_000_000_000]) {
            let t = DateTime::<Utc>::from_timestamp(secs, nanos).unwrap();
            proptest::prop_assert_eq!(
                serde_json::to_string(&Fast(t)).unwrap(),
                serde_json::to_string(&t).unwrap()
            );
        }
    }

    #[test]
    fn spans_read_as_people_say_them_in_summer_and_other_years() {
        let iv = |a: &str, b: &str| Interval {
            start: utc(a),
            end: utc(b),
        };
        let half = iv("2026-12-08T08:30:00Z", "2026-12-08T10:15:00Z");
        assert_eq!(
            format_when(half, Paris, 2026),
            "mardi 8 décembre, 9 h 30 – 11 h 15"
        );
        let one = iv("2026-12-08T08:00:00Z", "2026-12-08T09:00:00Z");
        assert_eq!(
            format_when(one, Paris, 2027),
            "mardi 8 décembre 2026, 9 h – 10 h"
        );
        // Summer time: UTC+2.
        let summer = iv("2027-07-06T07:00:00Z", "2027-07-06T08:00:00Z");
        assert_eq!(
            format_when(summer, Paris, 2027),
            "mardi 6 juillet, 9 h – 10 h"
        );
    }

    #[test]
    fn spans_read_as_people_say_them() {
        let iv = |a: &str, b: &str| Interval {
            start: utc(a),
            end: utc(b),
        };
        assert_eq!(
            format_when(
                iv("2026-12-08T08:00:00Z", "2026-12-08T09:00:00Z"),
                Paris,
                2026
            ),
            "mardi 8 décembre, 9 h – 10 h"
        );
        assert_eq!(
            format_when(
                iv("2026-12-08T08:30:00Z", "2026-12-08T10:05:00Z"),
                Paris,
                2027
            ),
            "mardi 8 décembre 2026, 9 h 30 – 11 h 05"
        );
        assert_eq!(
            format_when(
                iv("2026-12-08T21:00:00Z", "2026-12-08T23:00:00Z"),
                Paris,
                2026
            ),
            "mardi 8 décembre, 22 h – 24 h"
        );
        assert_eq!(
            format_when(
                iv("2027-01-04T21:00:00Z", "2027-01-05T05:00:00Z"),
                Paris,
                2027
            ),
            "du lundi 4 janvier, 22 h au mardi 5 janvier, 6 h"
        );
        // Summer time: 9 h in Paris is 7 h UTC.
        assert_eq!(
            format_when(
                iv("2027-07-06T07:00:00Z", "2027-07-06T08:15:00Z"),
                Paris,
                2027
            ),
            "mardi 6 juillet, 9 h – 10 h 15"
        );
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }

    fn iv(a: &str, b: &str) -> Interval {
        Interval::new(utc(a), utc(b)).unwrap()
    }

    #[test]
    fn new_refuses_empty_and_inverted() {
        let t = utc("2027-01-05T09:00:00Z");
        assert!(Interval::new(t, t).is_none());
        assert!(Interval::new(t, t - Duration::minutes(1)).is_none());
        assert!(Interval::new(t, t + Duration::nanoseconds(1)).is_some());
    }

    #[test]
    fn touching_intervals_do_not_overlap() {
        let a = iv("2027-01-05T10:00:00Z", "2027-01-05T12:00:00Z");
        let b = iv("2027-01-05T12:00:00Z", "2027-01-05T14:00:00Z");
        assert!(!a.overlaps(&b) && !b.overlaps(&a));
        let c = iv("2027-01-05T11:59:00Z", "2027-01-05T14:00:00Z");
        assert!(a.overlaps(&c) && c.overlaps(&a));
        assert!(a.overlaps(&a));
    }

    #[test]
    fn contains_is_half_open() {
        let a = iv("2027-01-05T10:00:00Z", "2027-01-05T12:00:00Z");
        assert!(a.contains(a.start));
        assert!(!a.contains(a.end));
        assert!(a.covers(&a));
        assert!(!a.covers(&iv("2027-01-05T10:00:00Z", "2027-01-05T12:01:00Z")));
        assert_eq!(a.duration(), Duration::hours(2));
    }

    #[test]
    fn widen_makes_touching_intervals_clash_and_ignores_negative() {
        let a = iv("2027-01-05T10:00:00Z", "2027-01-05T12:00:00Z");
        let b = iv("2027-01-05T12:00:00Z", "2027-01-05T14:00:00Z");
        let m = Duration::minutes;
        assert!(a.widen(m(0), m(1)).overlaps(&b));
        assert!(!a.widen(m(30), m(0)).overlaps(&b));
        assert_eq!(a.widen(m(-10), m(-10)), a);
        let far = a.widen(Duration::MAX, Duration::MAX);
        assert_eq!(far.start, DateTime::<Utc>::MIN_UTC);
        assert_eq!(far.end, DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn intersection_of_touching_is_none() {
        let a = iv("2027-01-05T10:00:00Z", "2027-01-05T12:00:00Z");
        let b = iv("2027-01-05T12:00:00Z", "2027-01-05T14:00:00Z");
        assert_eq!(a.intersection(&b), None);
        let c = iv("2027-01-05T11:00:00Z", "2027-01-05T14:00:00Z");
        assert_eq!(
            a.intersection(&c),
            Some(iv("2027-01-05T11:00:00Z", "2027-01-05T12:00:00Z"))
        );
    }

    #[test]
    fn local_to_utc_on_ordinary_and_dst_days() {
        assert_eq!(
            local_to_utc(naive("2027-01-05T09:00"), Paris),
            Ok(utc("2027-01-05T08:00:00Z"))
        );
        assert_eq!(
            local_to_utc(naive("2027-07-05T09:00"), Paris),
            Ok(utc("2027-07-05T07:00:00Z"))
        );
        // Spring forward: 02:00 → 03:00 on 2027-03-28.
        assert!(matches!(
            local_to_utc(naive("2027-03-28T02:30"), Paris),
            Err(LocalTimeError::Nonexistent { .. })
        ));
        assert!(local_to_utc(naive("2027-03-28T02:00"), Paris).is_err());
        assert_eq!(
            local_to_utc(naive("2027-03-28T03:00"), Paris),
            Ok(utc("2027-03-28T01:00:00Z"))
        );
        assert_eq!(
            local_to_utc(naive("2027-03-28T01:59"), Paris),
            Ok(utc("2027-03-28T00:59:00Z"))
        );
        // Fall back: 03:00 → 02:00 on 2027-10-31.
        match local_to_utc(naive("2027-10-31T02:30"), Paris) {
            Err(LocalTimeError::Ambiguous {
                earliest, latest, ..
            }) => {
                assert_eq!(earliest, utc("2027-10-31T00:30:00Z"));
                assert_eq!(latest, utc("2027-10-31T01:30:00Z"));
            }
            other => panic!("expected ambiguous, got {other:?}"),
        }
        assert_eq!(
            local_to_utc(naive("2027-10-31T03:00"), Paris),
            Ok(utc("2027-10-31T02:00:00Z"))
        );
    }

    #[test]
    fn local_time_errors_explain_in_french() {
        let e = local_to_utc(naive("2027-03-28T02:30"), Paris).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("02:30") && msg.contains("dimanche 28 mars 2027"),
            "{msg}"
        );
        assert!(msg.contains("n'existe pas"), "{msg}");
        let e = local_to_utc(naive("2027-10-31T02:30"), Paris).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("existe deux fois"), "{msg}");
        assert!(msg.contains("2027-10-31T02:30:00+02:00"), "{msg}");
        assert!(msg.contains("2027-10-31T02:30:00+01:00"), "{msg}");
    }

    #[test]
    fn parse_instant_accepts_the_documented_shapes() {
        let nine_paris = utc("2027-01-05T08:00:00Z");
        for s in [
            "2027-01-05T09:00",
            "2027-01-05T09:00:00",
            "2027-01-05 09:00",
            "2027-01-05 09:00:00",
            " 2027-01-05T09:00 ",
            "2027-01-05T09:00:00.000",
            "2027-01-05T09:00:00+01:00",
            "2027-01-05T08:00:00Z",
            "2027-01-05T08:00:00z",
            "2027-01-05T08:00Z",
            "2027-01-05 08:00:00Z",
            "2027-01-05T03:00:00-05:00",
            "2027-01-05T09:00+0100",
        ] {
            assert_eq!(parse_instant(s, Paris), Ok(nine_paris), "{s}");
        }
        // Fractions of a second are dropped (both backends store the same instant).
        assert_eq!(
            parse_instant("2027-01-05T09:00:00.5Z", Paris),
            Ok(utc("2027-01-05T09:00:00Z"))
        );
    }

    #[test]
    fn parse_instant_refuses_garbage_and_out_of_range_years() {
        for s in [
            "",
            "2027",
            "2027-01-05",
            "2027-13-05T09:00",
            "2027-02-30T09:00",
            "2027-01-05T25:00",
            "2027-01-05T09:00:60",
            "2027-01-05T09:00+25:00",
            "2027-01-05T09:00+01",
            "2027-01-05T09:00+1:00",
            "2027-01-05T09:00:00+01:00:00",
            "demain 9h",
            "2027-01-05T09:00Zjunk",
            "2027-01-05\u{a0}09:00",
            "2027-01-05T09:00:00.0000000000000000000000000000000000000000000000000001",
        ] {
            assert!(
                matches!(parse_instant(s, Paris), Err(InstantError::Syntax { .. })),
                "{s}: {:?}",
                parse_instant(s, Paris)
            );
        }
        assert_eq!(
            parse_instant("9999-12-31T23:59:59Z", Paris),
            Err(InstantError::YearOutOfRange { year: 9999 })
        );
        assert_eq!(
            parse_instant("9999-12-31T23:59", Paris),
            Err(InstantError::YearOutOfRange { year: 9999 })
        );
        assert_eq!(
            parse_instant("1999-12-31T23:59", Paris),
            Err(InstantError::YearOutOfRange { year: 1999 })
        );
        assert!(parse_instant("2199-12-31T23:59", Paris).is_ok());
        assert!(parse_instant("2000-01-01T00:00", Paris).is_ok());
        let long = "9".repeat(100_000);
        let e = parse_instant(&long, Paris).unwrap_err();
        assert!(e.to_string().chars().count() < 200);
        let msg = parse_instant("9999-01-01T00:00", Paris)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("9999") && msg.contains("2000–2199"), "{msg}");
    }

    #[test]
    fn parse_instant_refuses_dst_holes_and_repeats_without_offset() {
        assert!(matches!(
            parse_instant("2027-03-28T02:30", Paris),
            Err(InstantError::Local(LocalTimeError::Nonexistent { .. }))
        ));
        assert!(matches!(
            parse_instant("2027-10-31T02:30", Paris),
            Err(InstantError::Local(LocalTimeError::Ambiguous { .. }))
        ));
        // With an explicit offset the repeated hour is no longer ambiguous.
        assert_eq!(
            parse_instant("2027-10-31T02:30+01:00", Paris),
            Ok(utc("2027-10-31T01:30:00Z"))
        );
    }

    #[test]
    fn hhmm_round_trip_and_bounds() {
        assert_eq!(parse_hhmm("08:00"), Some(480));
        assert_eq!(parse_hhmm("8:05"), Some(485));
        assert_eq!(parse_hhmm("00:00"), Some(0));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        for bad in [
            "24:01", "23:60", "", ":", "8", "08:0", "+8:00", "08:00:00", "ab:cd",
        ] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
        assert_eq!(format_hhmm(1440), "24:00");
        assert_eq!(format_hhmm(485), "08:05");
    }

    #[test]
    fn french_formatting() {
        assert_eq!(
            format_local(utc("2027-01-05T08:00:00Z"), Paris),
            "mardi 5 janvier 2027 à 09:00"
        );
        assert_eq!(
            format_local(DateTime::<Utc>::MAX_UTC, Paris),
            DateTime::<Utc>::MAX_UTC
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        );
        assert_eq!(format_duration(Duration::minutes(15)), "15 min");
        assert_eq!(format_minutes(615), "10 h 15");
        assert_eq!(format_minutes(600), "10 h");
        assert_eq!(format_minutes(45), "45 min");
        assert_eq!(format_minutes(-90), "-1 h 30");
        assert_eq!(format_duration(Duration::minutes(120)), "2 h");
        assert_eq!(format_duration(Duration::minutes(90)), "1 h 30 min");
        assert_eq!(
            format_duration(Duration::seconds(29 * 60 + 30)),
            "29 min 30 s"
        );
        assert_eq!(format_duration(Duration::zero()), "0 min");
        assert_eq!(weekday_fr(1), "lundi");
        assert_eq!(weekday_fr(7), "dimanche");
        assert_eq!(weekday_fr(0), "jour inconnu");
        assert_eq!(weekday_fr(8), "jour inconnu");
    }

    #[test]
    fn supported_range_spans_the_allowed_years() {
        let r = supported_range();
        assert!(r.contains(utc("2000-01-01T00:00:00+14:00")));
        assert!(r.contains(utc("2199-12-31T23:59:59-12:00")));
        assert!(!r.contains(utc("2201-01-01T00:00:00Z")));
    }

    #[test]
    fn seconds_and_fractions_are_dropped() {
        let tz = chrono_tz::Europe::Paris;
        let whole = parse_instant("2027-01-05T11:00:00Z", tz).unwrap();
        for raw in [
            "2027-01-05T11:00:00.5Z",
            "2027-01-05T11:00:00.000Z",
            "2027-01-05T11:00:00.999999999Z",
            "2027-01-05T12:00:00.25+01:00",
            "2027-01-05T11:00:01Z",
            "2027-01-05T11:00:59.999Z",
            "2027-01-05T12:00:30+01:00",
        ] {
            assert_eq!(parse_instant(raw, tz).unwrap(), whole, "{raw}");
        }
        assert_eq!(
            parse_instant("2027-01-05T12:00:00.7", tz).unwrap(),
            whole,
            "local time without offset"
        );
        assert_eq!(parse_instant("2027-01-05T12:00:45", tz).unwrap(), whole);
        // The next minute is the next minute.
        assert_eq!(
            parse_instant("2027-01-05T11:01:00Z", tz).unwrap(),
            whole + Duration::minutes(1)
        );
    }
}
