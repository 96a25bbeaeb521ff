//! A calendar month of the pole ("YYYY-MM"): the unit of quotas, closing and allocation. Its
//! bounds are local midnights in the pole's time zone, so March is 743 h long in Paris and
//! October 745 h.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::time::{Interval, MAX_YEAR, MIN_YEAR, MONTHS_FR};
use super::violation::{Violation, ViolationCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    /// 1 to 12.
    month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Mois « {0} » invalide : format AAAA-MM attendu, entre {MIN_YEAR} et {MAX_YEAR}.")]
pub struct MonthError(String);

impl Month {
    /// `None` outside the supported years or for a month number outside 1..=12.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn number(self) -> u32 {
        self.month
    }

    /// The month of a local date (`None` outside the supported years).
    pub fn of_date(d: NaiveDate) -> Option<Month> {
        Month::new(d.year(), d.month())
    }

    /// The month containing `instant`, in local time.
    pub fn containing(instant: DateTime<Utc>, tz: Tz) -> Month {
        let d = instant.with_timezone(&tz).date_naive();
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        // Fields are validated on construction; the fallback keeps the function total.
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// `[first local midnight, next month's first local midnight)` in UTC.
    pub fn bounds(self, tz: Tz) -> Interval {
        let start = local_midnight(self.first_day(), tz);
        let end = local_midnight(self.next().first_day(), tz);
        Interval { start, end }
    }

    /// Whether the month is over at `now` in the pole's time zone: only then can it be
    /// closed (its bookings are all in the past, nothing more will happen in it).
    pub fn is_over(self, now: chrono::DateTime<chrono::Utc>, tz: Tz) -> bool {
        self.bounds(tz).end <= now
    }

    /// The local months an interval touches (its last instant is `end` minus a second: a
    /// booking ending at midnight does not touch the next month). At most 400 months.
    pub fn touched_by(iv: Interval, tz: Tz) -> Vec<Month> {
        if !iv.is_valid() {
            return Vec::new();
        }
        let first = Month::containing(iv.start, tz);
        let last = Month::containing(iv.end - Duration::seconds(1), tz);
        let mut out = Vec::new();
        let mut m = first;
        while m <= last && out.len() < 400 {
            out.push(m);
            m = m.next();
        }
        out
    }

    /// A stable integer for the month (202702), used as a lock key.
    pub fn key(self) -> i32 {
        self.year * 100 + self.month as i32
    }
}

/// Midnight exists in every zone the pole may use (zones that skip midnight do so at most for
/// an hour: the earliest instant after it is taken).
fn local_midnight(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| naive.and_utc())
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = MonthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let parsed = t.split_once('-').and_then(|(y, m)| {
            (y.len() == 4 && m.len() == 2)
                .then(|| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
                .flatten()
        });
        parsed
            .and_then(|(y, m)| Month::new(y, m))
            .ok_or_else(|| MonthError(t.chars().take(20).collect()))
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The refusal of a change to a closed month.
pub fn closed_violation(m: Month) -> Violation {
    Violation::new(
        ViolationCode::MonthClosed,
        format!(
            "Le mois de {} est clôturé par la trésorerie : ses réservations ne peuvent plus changer.",
            label_fr(m)
        ),
    )
}

/// The French name of a month ("mars 2027"), for messages and pages.
pub fn label_fr(m: Month) -> String {
    format!("{} {}", MONTHS_FR[(m.month - 1) as usize], m.year)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_month_is_over_at_the_local_midnight_that_ends_it() {
        let tz: Tz = chrono_tz::Europe::Paris;
        let jan = Month::new(2027, 1).unwrap();
        // 1 February 00:00 in Paris is 31 January 23:00 UTC.
        let end: chrono::DateTime<chrono::Utc> = "2027-01-31T23:00:00Z".parse().unwrap();
        assert!(jan.is_over(end, tz));
        assert!(!jan.is_over(end - chrono::Duration::seconds(1), tz));
        assert!(!Month::new(2027, 2).unwrap().is_over(end, tz));
    }
    use super::*;
    use crate::domain::time::parse_instant;

    const PARIS: Tz = chrono_tz::Europe::Paris;

    fn at(s: &str) -> DateTime<Utc> {
        parse_instant(s, PARIS).unwrap()
    }

    #[test]
    fn parses_and_prints_yyyy_mm() {
        let m: Month = "2027-02".parse().unwrap();
        assert_eq!((m.year(), m.number()), (2027, 2));
        assert_eq!(m.to_string(), "2027-02");
        assert_eq!(m.key(), 202702);
        for bad in [
            "2027-13", "2027-00", "2027-2", "27-02", "1999-12", "2200-01", "février", "",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
        assert_eq!(label_fr(m), "février 2027");
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            "\"2027-02\"",
            "on the wire as text"
        );
    }

    #[test]
    fn bounds_are_local_midnights_across_dst() {
        let march: Month = "2027-03".parse().unwrap();
        let b = march.bounds(PARIS);
        assert_eq!(b.start, at("2027-03-01T00:00"));
        assert_eq!(b.end, at("2027-04-01T00:00"));
        assert_eq!(b.duration().num_hours(), 31 * 24 - 1, "March loses an hour");
        let october: Month = "2027-10".parse().unwrap();
        assert_eq!(october.bounds(PARIS).duration().num_hours(), 31 * 24 + 1);
        let december: Month = "2027-12".parse().unwrap();
        assert_eq!(december.next().to_string(), "2028-01");
        assert_eq!(december.bounds(PARIS).end, at("2028-01-01T00:00"));
    }

    #[test]
    fn months_touched_in_local_time() {
        let iv = Interval::new(at("2027-01-31T23:00"), at("2027-02-01T00:00")).unwrap();
        assert_eq!(
            Month::touched_by(iv, PARIS),
            vec!["2027-01".parse().unwrap()]
        );
        // 23:30 UTC on 31 January is already February in Paris.
        let iv = Interval::new(
            "2027-01-31T23:30:00Z".parse().unwrap(),
            "2027-01-31T23:45:00Z".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            Month::touched_by(iv, PARIS),
            vec!["2027-02".parse().unwrap()]
        );
        let iv = Interval::new(at("2027-12-31T23:00"), at("2028-01-01T01:00")).unwrap();
        assert_eq!(
            Month::touched_by(iv, PARIS),
            vec!["2027-12".parse().unwrap(), "2028-01".parse().unwrap()]
        );
        assert_eq!(
            Month::containing(at("2027-03-31T23:59"), PARIS).to_string(),
            "2027-03"
        );
    }
}
