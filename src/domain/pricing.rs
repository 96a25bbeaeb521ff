//! What a member's use of a resource costs in a month (DESIGN.md §5, source 1 of the
//! allocation): the tariff in force on each booking's start date, the duration billed by
//! started units within each local day and capped per day, kilometres, the member's pricing
//! coefficient, late cancellations, and a monthly free allowance consumed in booking order.
//!
//! Each booking is one line, rounded once, half away from zero: the line's exact amount is a
//! rational (cents × minutes ÷ 60 × permille ÷ 1 000) computed in 128-bit integers and divided
//! at the very end, so a coefficient of ×0.3 on 1 h 30 at 15,01 € (22,515 €) gives 6,75 €,
//! not the 6,76 € of a rounding per step (22,52 € × 0.3).
//!
//! Negative tariffs, coefficients or shares are read as 0 (the forms refuse them); the free
//! allowance covers only minutes the member would pay for: on a day already at its cap, the
//! minutes beyond what the cap bills consume nothing.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::ids::BookingId;
use super::labour::split_by_day;
use super::money::{div_round, format_euros, format_permille};
use super::time::{format_minutes, Interval};

/// Permille in a whole (×1).
pub const WHOLE_PERMILLE: i64 = 1_000;

/// A resource's tariff as in force on a booking's start date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tariff {
    pub hourly_cents: i64,
    /// The most one local day of one booking costs (before the member's coefficient).
    pub daily_cap_cents: Option<i64>,
    pub per_km_cents: Option<i64>,
    /// Durations are billed by started units of this many minutes, within each day.
    pub billing_unit_minutes: i32,
}

/// The version in force on `date` among versions sorted by effective date: the last one that
/// starts on or before it (`None` before the first).
pub fn in_force<T: Copy>(versions: &[(NaiveDate, T)], date: NaiveDate) -> Option<T> {
    let i = versions.partition_point(|(from, _)| *from <= date);
    i.checked_sub(1).map(|i| versions[i].1)
}

/// Cancelling less than `notice` before the start costs `charged_permille` of the price
/// (500: half).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateCancellation {
    pub notice: Duration,
    pub charged_permille: i64,
}

/// One booking of the month as pricing sees it, with the terms in force on its start date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub booking: BookingId,
    pub interval: Interval,
    /// Units booked at once (3 desks): each is billed.
    pub quantity: i64,
    /// Kilometres driven (vehicles, from the hand-over), when recorded.
    pub km: Option<i64>,
    /// When a cancelled booking was cancelled; `None` for a booking that took place.
    pub cancelled_at: Option<DateTime<Utc>>,
    pub tariff: Tariff,
    /// The member's pricing coefficient in force on the start date (×0.5 = 500).
    pub coefficient_permille: i64,
    /// The late-cancellation rule of the resource's kind, if any.
    pub late: Option<LateCancellation>,
}

/// A booking's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Priced {
    pub booking: BookingId,
    /// Minutes billed: the duration rounded up to the billing unit within each day.
    pub billed_minutes: i64,
    /// Units booked: each billed minute is billed this many times.
    pub quantity: i64,
    /// Of the unit-minutes billed, those the free allowance covered.
    pub free_minutes: i64,
    pub km: i64,
    pub late_cancellation: bool,
    pub amount_cents: i64,
    /// How the amount was reached, in French, for the statement.
    pub basis: String,
}

/// Prices the bookings of one member on the resources that share one free allowance (or on
/// one resource, with an allowance of 0) over one month: in booking order (start, then id),
/// the bookings that took place consume the `free_minutes` first; a booking cancelled late
/// costs its share of the full price and consumes nothing; one cancelled in time costs
/// nothing and gets no line.
pub fn price_month(uses: &[Use], free_minutes: i64, tz: Tz) -> Vec<Priced> {
    let mut order: Vec<&Use> = uses.iter().collect();
    order.sort_by_key(|u| (u.interval.start, u.booking));
    let mut free_left = free_minutes.max(0);
    let mut out = Vec::with_capacity(order.len());
    for u in order {
        let late = match u.cancelled_at {
            None => None,
            Some(at) => match u.late {
                Some(rule) if u.interval.start.signed_duration_since(at) < rule.notice => {
                    Some(rule)
                }
                _ => continue,
            },
        };
        let days: Vec<i64> = split_by_day(u.interval, tz)
            .into_iter()
            .map(|(_, part)| billed(part.duration(), u.tariff.billing_unit_minutes))
            .collect();
        let billed_minutes: i64 = days.iter().sum();
        let units = i128::from(u.quantity.max(1));
        let hourly = i128::from(u.tariff.hourly_cents.max(0));
        let cap = u.tariff.daily_cap_cents.map(|c| i128::from(c.max(0)) * 60);
        let mut free_here = 0;
        // Sixtieths of a cent: hourly × minutes, per day, capped.
        let mut sixtieths: i128 = 0;
        for minutes in days {
            let due = hourly * i128::from(minutes);
            let day = cap.map_or(due, |c| due.min(c));
            // The minutes the member pays for that day: all of them, or those the cap bills.
            let paid = match cap {
                Some(c) if hourly > 0 && due > c => i64::try_from((c + hourly - 1) / hourly)
                    .unwrap_or(minutes)
                    .min(minutes),
                _ if hourly == 0 => 0,
                _ => minutes,
            };
            // Unit-minutes: 2 desks for an hour consume 2 h of the allowance.
            let paid_units = paid.saturating_mul(u.quantity.max(1));
            let covered = if late.is_none() {
                paid_units.min(free_left)
            } else {
                0
            };
            free_left -= covered;
            free_here += covered;
            sixtieths += (day * units - hourly * i128::from(covered)).max(0);
        }
        let km = u.km.unwrap_or(0).max(0);
        let per_km = i128::from(u.tariff.per_km_cents.unwrap_or(0).max(0));
        // Kilometres are the vehicle's, whatever the quantity.
        sixtieths += per_km * i128::from(km) * 60;
        let charged = late.map_or(WHOLE_PERMILLE, |l| l.charged_permille.max(0));
        let amount_cents = div_round(
            sixtieths * i128::from(u.coefficient_permille.max(0)) * i128::from(charged),
            60 * i128::from(WHOLE_PERMILLE) * i128::from(WHOLE_PERMILLE),
        );
        out.push(Priced {
            booking: u.booking,
            billed_minutes,
            quantity: u.quantity.max(1),
            free_minutes: free_here,
            km,
            late_cancellation: late.is_some(),
            amount_cents,
            basis: basis(u, billed_minutes, free_here, km, late),
        });
    }
    out
}

/// Minutes billed for `d`: started units of `unit` minutes (a unit below one minute counts as
/// one minute).
fn billed(d: Duration, unit: i32) -> i64 {
    let unit = i64::from(unit.max(1));
    // Milliseconds: a started second is a started minute too.
    let ms = d.num_milliseconds().max(0);
    let units = (ms + unit * 60_000 - 1) / (unit * 60_000);
    units * unit
}

fn basis(u: &Use, billed: i64, free: i64, km: i64, late: Option<LateCancellation>) -> String {
    let t = u.tariff;
    let mut parts = vec![format!(
        "{} facturées par tranches de {} à {}/h",
        format_minutes(billed),
        format_minutes(i64::from(t.billing_unit_minutes.max(1))),
        format_euros(t.hourly_cents.max(0))
    )];
    if u.quantity > 1 {
        parts.push(format!("× {} unités", u.quantity));
    }
    if free > 0 {
        parts.push(format!(
            "dont {} offertes par le forfait du mois",
            format_minutes(free)
        ));
    }
    if let Some(cap) = t.daily_cap_cents {
        parts.push(format!("plafond de {} par jour", format_euros(cap.max(0))));
    }
    if let (true, Some(rate)) = (km > 0, t.per_km_cents) {
        parts.push(format!("{km} km à {}/km", format_euros(rate.max(0))));
    }
    if u.coefficient_permille != WHOLE_PERMILLE {
        parts.push(format!(
            "coefficient ×{}",
            format_permille(u.coefficient_permille.max(0))
        ));
    }
    if let Some(l) = late {
        parts.push(format!(
            "annulation tardive : {} % du prix",
            format_permille(l.charged_permille.max(0) * 100)
        ));
    }
    parts.join(", ")
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn the_version_in_force_is_the_last_started() {
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        let v = [(d(1, 1), 10), (d(3, 1), 20), (d(3, 15), 30)];
        assert_eq!(in_force(&v, d(1, 1)), Some(10));
        assert_eq!(in_force(&v, d(2, 28)), Some(10));
        assert_eq!(in_force(&v, d(3, 1)), Some(20));
        assert_eq!(in_force(&v, d(3, 14)), Some(20));
        assert_eq!(in_force(&v, d(12, 31)), Some(30));
        assert_eq!(
            in_force(&v, NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            None
        );
        assert_eq!(in_force::<i32>(&[], d(1, 1)), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PARIS: Tz = chrono_tz::Europe::Paris;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn room() -> Tariff {
        Tariff {
            hourly_cents: 1_500,
            daily_cap_cents: Some(8_000),
            per_km_cents: None,
            billing_unit_minutes: 30,
        }
    }

    fn booking(id: i64, start: &str, end: &str) -> Use {
        Use {
            booking: BookingId(id),
            interval: Interval::new(t(start), t(end)).unwrap(),
            quantity: 1,
            km: None,
            cancelled_at: None,
            tariff: room(),
            coefficient_permille: WHOLE_PERMILLE,
            late: Some(LateCancellation {
                notice: Duration::hours(24),
                charged_permille: 500,
            }),
        }
    }

    fn amounts(p: &[Priced]) -> Vec<i64> {
        p.iter().map(|l| l.amount_cents).collect()
    }

    #[test]
    fn started_units_at_the_hourly_rate() {
        // 1 h 10 billed as 1 h 30 at 15 €/h; exactly 1 h as 1 h; 1 minute as 30 minutes.
        let p = price_month(
            &[
                booking(1, "2027-01-05T09:00:00Z", "2027-01-05T10:10:00Z"),
                booking(2, "2027-01-06T09:00:00Z", "2027-01-06T10:00:00Z"),
                booking(3, "2027-01-07T09:00:00Z", "2027-01-07T09:01:00Z"),
            ],
            0,
            PARIS,
        );
        assert_eq!(amounts(&p), [2_250, 1_500, 750]);
        assert_eq!(p[0].billed_minutes, 90);
        assert_eq!(
            p[0].basis,
            "1 h 30 facturées par tranches de 30 min à 15,00 €/h, plafond de 80,00 € par jour"
        );
    }

    #[test]
    fn the_daily_cap_applies_to_each_local_day() {
        // 07:00–19:00 on one day: 12 h = 180 € capped at 80 €. Three days of a van
        // (Friday 08:00 to Monday 08:00 local): 16 h, 24 h, 24 h, 8 h → 80 + 80 + 80 + 80.
        let mut van = booking(2, "2027-01-08T07:00:00Z", "2027-01-11T07:00:00Z");
        van.late = None;
        let p = price_month(
            &[
                booking(1, "2027-01-05T06:00:00Z", "2027-01-05T18:00:00Z"),
                van,
            ],
            0,
            PARIS,
        );
        assert_eq!(amounts(&p), [8_000, 32_000]);
        // 5 h 20 billed 5 h 30 (82,50 €) is capped; 5 h is not.
        let p = price_month(
            &[
                booking(3, "2027-01-12T08:00:00Z", "2027-01-12T13:20:00Z"),
                booking(4, "2027-01-13T08:00:00Z", "2027-01-13T13:00:00Z"),
            ],
            0,
            PARIS,
        );
        assert_eq!(amounts(&p), [8_000, 7_500]);
    }

    #[test]
    fn the_coefficient_is_rounded_once_half_away_from_zero() {
        let mut b = booking(1, "2027-01-05T09:00:00Z", "2027-01-05T10:30:00Z");
        b.tariff.hourly_cents = 1_501;
        b.coefficient_permille = 300;
        // 1.5 h × 15.01 € × 0.3 = 6.7545 € → 6.75 € (rounding the 22.515 € first: 6.76 €).
        let p = price_month(std::slice::from_ref(&b), 0, PARIS);
        assert_eq!(amounts(&p), [675]);
        assert!(p[0].basis.ends_with("coefficient ×0,3"), "{}", p[0].basis);
        // A tie: 1 h × 15.01 € × 0.5 = 7.505 € → 7.51 €.
        b.interval = Interval::new(t("2027-01-05T09:00:00Z"), t("2027-01-05T10:00:00Z")).unwrap();
        b.coefficient_permille = 500;
        assert_eq!(amounts(&price_month(&[b], 0, PARIS)), [751]);
    }

    #[test]
    fn the_allowance_covers_only_what_the_cap_bills() {
        // A 12 h day capped at 80 € bills 5 h 20 (320 min at 15 €/h): 4 h free leave 1 h 20
        // to pay (20 €); the next day's hour finds nothing left.
        let p = price_month(
            &[
                booking(1, "2027-01-05T06:00:00Z", "2027-01-05T18:00:00Z"),
                booking(2, "2027-01-06T09:00:00Z", "2027-01-06T10:00:00Z"),
            ],
            240,
            PARIS,
        );
        assert_eq!(
            p.iter()
                .map(|l| (l.free_minutes, l.amount_cents))
                .collect::<Vec<_>>(),
            [(240, 2_000), (0, 1_500)]
        );
        // 6 h free: the capped day takes 320 minutes of them, the next hour the 40 left.
        let p = price_month(
            &[
                booking(1, "2027-01-05T06:00:00Z", "2027-01-05T18:00:00Z"),
                booking(2, "2027-01-06T09:00:00Z", "2027-01-06T10:00:00Z"),
            ],
            360,
            PARIS,
        );
        assert_eq!(
            p.iter()
                .map(|l| (l.free_minutes, l.amount_cents))
                .collect::<Vec<_>>(),
            [(320, 0), (40, 500)]
        );
    }

    #[test]
    fn hostile_terms_do_not_make_credits_nor_panic() {
        let mut b = booking(1, "2027-01-05T09:00:00Z", "2027-01-05T10:00:00Z");
        b.tariff.daily_cap_cents = Some(-5_000);
        b.tariff.hourly_cents = -1_500;
        b.coefficient_permille = -500;
        b.cancelled_at = Some(t("2027-01-05T08:00:00Z"));
        b.late = Some(LateCancellation {
            notice: Duration::MAX,
            charged_permille: -1,
        });
        let p = price_month(&[b], 0, PARIS);
        assert_eq!(amounts(&p), [0]);
        assert!(!p[0].basis.contains('-'), "{}", p[0].basis);
        // Half a second past a unit starts the next one.
        let mut c = booking(2, "2027-01-05T09:00:00Z", "2027-01-05T09:30:00Z");
        c.interval.end += Duration::milliseconds(500);
        c.tariff.daily_cap_cents = None;
        assert_eq!(price_month(&[c], 0, PARIS)[0].billed_minutes, 60);
    }

    #[test]
    fn kilometres_add_to_the_time() {
        let mut van = booking(1, "2027-01-05T08:00:00Z", "2027-01-05T10:00:00Z");
        van.tariff = Tariff {
            hourly_cents: 500,
            daily_cap_cents: None,
            per_km_cents: Some(32),
            billing_unit_minutes: 60,
        };
        van.km = Some(143);
        let p = price_month(&[van], 0, PARIS);
        assert_eq!(amounts(&p), [1_000 + 4_576]);
        assert!(p[0].basis.contains("143 km à 0,32 €"), "{}", p[0].basis);
    }

    #[test]
    fn the_free_allowance_is_consumed_in_booking_order() {
        // 4 h free: a 3 h booking, then a 2 h one (1 h billed), then a 1 h one — given in
        // another order.
        let p = price_month(
            &[
                booking(9, "2027-01-20T09:00:00Z", "2027-01-20T10:00:00Z"),
                booking(5, "2027-01-05T09:00:00Z", "2027-01-05T12:00:00Z"),
                booking(7, "2027-01-12T09:00:00Z", "2027-01-12T11:00:00Z"),
            ],
            240,
            PARIS,
        );
        assert_eq!(
            p.iter()
                .map(|l| (l.booking.0, l.free_minutes, l.amount_cents))
                .collect::<Vec<_>>(),
            [(5, 180, 0), (7, 60, 1_500), (9, 0, 1_500)]
        );
        assert!(p[1].basis.contains("dont 1 h offertes"), "{}", p[1].basis);
    }

    #[test]
    fn late_cancellations_cost_their_share_and_consume_no_allowance() {
        let mut late = booking(1, "2027-01-05T09:00:00Z", "2027-01-05T11:00:00Z");
        late.cancelled_at = Some(t("2027-01-04T09:00:01Z"));
        let mut in_time = booking(2, "2027-01-06T09:00:00Z", "2027-01-06T11:00:00Z");
        in_time.cancelled_at = Some(t("2027-01-05T09:00:00Z"));
        let used = booking(3, "2027-01-07T09:00:00Z", "2027-01-07T10:00:00Z");
        let p = price_month(&[late, in_time, used], 60, PARIS);
        // 23 h 59 min 59 s before: half of 30 €; exactly 24 h before: nothing, no line.
        assert_eq!(
            p.iter()
                .map(|l| (l.booking.0, l.amount_cents))
                .collect::<Vec<_>>(),
            [(1, 1_500), (3, 0)]
        );
        assert!(p[0].late_cancellation);
        assert!(
            p[0].basis.contains("annulation tardive : 50 % du prix"),
            "{}",
            p[0].basis
        );
        // No late rule for the kind: a cancellation costs nothing.
        let mut free = booking(4, "2027-01-05T09:00:00Z", "2027-01-05T11:00:00Z");
        free.late = None;
        free.cancelled_at = Some(t("2027-01-05T08:59:00Z"));
        assert!(price_month(&[free], 0, PARIS).is_empty());
    }

    #[test]
    fn a_dst_day_is_billed_as_it_lasts() {
        // Sunday 28 March 2027 in Paris lasts 23 h: a booking over the whole local day.
        let mut b = booking(1, "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z");
        b.tariff.daily_cap_cents = None;
        let p = price_month(&[b], 0, PARIS);
        assert_eq!(p[0].billed_minutes, 23 * 60);
        assert_eq!(amounts(&p), [23 * 1_500]);
    }

    #[test]
    fn each_unit_is_billed_and_consumes_the_allowance() {
        // Two desks for an hour at 15 €/h with 1 h 30 free: 2 h billed, 1 h 30 offered.
        let mut b = booking(1, "2027-01-05T09:00:00Z", "2027-01-05T10:00:00Z");
        b.quantity = 2;
        let p = price_month(&[b.clone()], 90, PARIS);
        assert_eq!(p[0].free_minutes, 90);
        assert_eq!(amounts(&p), [750]);
        assert!(p[0].basis.contains("× 2 unités"), "{}", p[0].basis);
        assert_eq!(amounts(&price_month(&[b], 0, PARIS)), [3_000]);
    }

    proptest! {
        /// Against a minute-by-minute oracle on single-day bookings: the amount is the exact
        /// price rounded once, and never above the cap times the coefficient.
        #[test]
        fn one_day_matches_the_oracle(
            minutes in 1i64..600,
            unit in prop::sample::select(vec![1i32, 15, 30, 60]),
            hourly in 0i64..10_000,
            cap in proptest::option::of(0i64..50_000),
            coef in 0i64..2_000,
        ) {
            let start = t("2027-01-05T07:00:00Z");
            let u = Use {
                booking: BookingId(1),
                interval: Interval::new(start, start + Duration::minutes(minutes)).unwrap(),
                quantity: 1,
                km: None,
                cancelled_at: None,
                tariff: Tariff { hourly_cents: hourly, daily_cap_cents: cap, per_km_cents: None, billing_unit_minutes: unit },
                coefficient_permille: coef,
                late: None,
            };
            let p = price_month(&[u], 0, PARIS);
            let mut units = 0;
            while units * i64::from(unit) < minutes { units += 1; }
            let billed = units * i64::from(unit);
            prop_assert_eq!(p[0].billed_minutes, billed);
            // The exact price in 60 000ths of a cent, then half away from zero by hand.
            let mut exact: i128 = i128::from(hourly) * i128::from(billed);
            if let Some(c) = cap { exact = exact.min(i128::from(c) * 60); }
            let exact = exact * i128::from(coef);
            let (q, r) = (exact / 60_000, exact % 60_000);
            let rounded = if 2 * r >= 60_000 { q + 1 } else { q };
            prop_assert_eq!(i128::from(p[0].amount_cents), rounded);
        }
    }
}
