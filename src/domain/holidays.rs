//! French public holidays (jours fériés, Code du travail L3133-1), computed for any year:
//! the eight fixed dates and the three that follow Easter, never typed in by hand.
//!
//! Only the national list: Alsace-Moselle's two extra days (Good Friday, 26 December) and the
//! overseas departments' abolition days are not included.

use chrono::{Datelike, Duration, NaiveDate};

/// The fixed-date holidays: (month, day, French name).
const FIXED: [(u32, u32, &str); 8] = [
    (1, 1, "Jour de l'an"),
    (5, 1, "Fête du Travail"),
    (5, 8, "Victoire 1945"),
    (7, 14, "Fête nationale"),
    (8, 15, "Assomption"),
    (11, 1, "Toussaint"),
    (11, 11, "Armistice 1918"),
    (12, 25, "Noël"),
];

/// The movable holidays: days after Easter Sunday, French name.
const AFTER_EASTER: [(i64, &str); 3] = [
    (1, "Lundi de Pâques"),
    (39, "Ascension"),
    (50, "Lundi de Pentecôte"),
];

/// Easter Sunday of a Gregorian year, by the anonymous Gregorian algorithm (Meeus/Jones/
/// Butcher). `None` only for years chrono cannot represent.
pub fn easter(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    // n / 31 is 3 or 4 and n % 31 + 1 at most 31: both fit a u32.
    let month = u32::try_from(n.div_euclid(31)).ok()?;
    let day = u32::try_from(n.rem_euclid(31) + 1).ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The public holidays of a year with their French names, in date order. When two fall on the
/// same day (Ascension on 1 May, as in 2008), both are listed.
pub fn of_year(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out: Vec<(NaiveDate, &'static str)> = FIXED
        .iter()
        .filter_map(|&(m, d, name)| Some((NaiveDate::from_ymd_opt(year, m, d)?, name)))
        .collect();
    if let Some(easter) = easter(year) {
        out.extend(AFTER_EASTER.iter().filter_map(|&(days, name)| {
            Some((easter.checked_add_signed(Duration::days(days))?, name))
        }));
    }
    out.sort_by_key(|&(date, _)| date);
    out
}

/// Whether `date` is a French public holiday.
pub fn is_public_holiday(date: NaiveDate) -> bool {
    name(date).is_some()
}

/// The French name of the public holiday on `date`, if it is one. A fixed-date holiday wins
/// when a movable one falls on the same day.
pub fn name(date: NaiveDate) -> Option<&'static str> {
    if let Some(&(_, _, name)) = FIXED
        .iter()
        .find(|&&(m, d, _)| date.month() == m && date.day() == d)
    {
        return Some(name);
    }
    // Easter-based holidays run from late March to mid June.
    if !(3..=6).contains(&date.month()) {
        return None;
    }
    let easter = easter(date.year())?;
    let after = date.signed_duration_since(easter).num_days();
    AFTER_EASTER
        .iter()
        .find(|&&(days, _)| days == after)
        .map(|&(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn easter_on_known_years() {
        for (year, expected) in [
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2011, "2011-04-24"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2028, "2028-04-16"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter(year), Some(date(expected)), "{year}");
        }
    }

    #[test]
    fn the_eleven_holidays_of_2027() {
        let got: Vec<(String, &str)> = of_year(2027)
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect();
        let expected = [
            ("2027-01-01", "Jour de l'an"),
            ("2027-03-29", "Lundi de Pâques"),
            ("2027-05-01", "Fête du Travail"),
            ("2027-05-06", "Ascension"),
            ("2027-05-08", "Victoire 1945"),
            ("2027-05-17", "Lundi de Pentecôte"),
            ("2027-07-14", "Fête nationale"),
            ("2027-08-15", "Assomption"),
            ("2027-11-01", "Toussaint"),
            ("2027-11-11", "Armistice 1918"),
            ("2027-12-25", "Noël"),
        ];
        assert_eq!(
            got,
            expected
                .iter()
                .map(|&(d, n)| (d.to_string(), n))
                .collect::<Vec<_>>()
        );
        for (d, n) in expected {
            assert_eq!(name(date(d)), Some(n), "{d}");
            assert!(is_public_holiday(date(d)));
        }
    }

    #[test]
    fn movable_holidays_of_2025_and_2028() {
        assert_eq!(name(date("2025-04-21")), Some("Lundi de Pâques"));
        assert_eq!(name(date("2025-05-29")), Some("Ascension"));
        assert_eq!(name(date("2025-06-09")), Some("Lundi de Pentecôte"));
        assert_eq!(name(date("2028-04-17")), Some("Lundi de Pâques"));
        assert_eq!(name(date("2028-05-25")), Some("Ascension"));
        assert_eq!(name(date("2028-06-05")), Some("Lundi de Pentecôte"));
    }

    #[test]
    fn ordinary_days_are_not_holidays() {
        for d in [
            "2027-03-28", // Easter Sunday itself is a Sunday, not a listed holiday
            "2027-03-30",
            "2027-05-02",
            "2027-07-13",
            "2027-12-26", // Alsace-Moselle only
            "2027-04-02", // Good Friday, Alsace-Moselle only
            "2028-02-29",
        ] {
            assert!(!is_public_holiday(date(d)), "{d}");
            assert_eq!(name(date(d)), None, "{d}");
        }
    }

    #[test]
    fn coinciding_holidays_are_both_listed() {
        // 2008: Ascension on 1 May.
        let list = of_year(2008);
        assert_eq!(list.len(), 11);
        let first_may: Vec<&str> = list
            .iter()
            .filter(|(d, _)| *d == date("2008-05-01"))
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(first_may.len(), 2, "{first_may:?}");
        assert_eq!(name(date("2008-05-01")), Some("Fête du Travail"));
    }

    #[test]
    fn extreme_years_do_not_panic() {
        for year in [i32::MIN, -1, 0, 1582, 262_143, i32::MAX] {
            let _ = easter(year);
            let _ = of_year(year);
        }
        let _ = is_public_holiday(NaiveDate::MAX);
        let _ = name(NaiveDate::MIN);
    }
}
