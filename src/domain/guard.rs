//! Guard rails for a change of a resource's settings: which live bookings the new capacity,
//! buffers, opening hours and closures would no longer accept, so the change can be refused
//! or applied together with their cancellation, never leaving bookings over capacity or
//! outside the open hours.
//!
//! Rules, in order:
//! 1. A booking already under way (started before `now`) is never given up: it is counted for
//!    the capacity of the others, and its hours are not checked again.
//! 2. A booking that meets a closure, or leaves the opening hours, is given up (closures are
//!    half-open like bookings: one ending exactly when a closure starts is not broken).
//! 3. The remaining bookings are taken in creation order (`created_at`, then id) and each is
//!    kept when it fits with those kept before it (`capacity_conflicts`, buffers included):
//!    earlier bookings keep their place, the most recently created ones are given up. The
//!    set given up is therefore deterministic and minimal for its order: each booking given
//!    up, added back alone to the kept ones, breaks the capacity rule.
//!
//! O(d·s + c) per booking for the hours and closures (`d` days spanned, `s` slots a day, `c`
//! closures), then O(n · (n + k log k)) for the capacity pass over `n` bookings.
//!
//! Attaching a resource to a whole as one of its parts (`broken_by_attaching`) follows the
//! same order: a booking of the part and one of the whole may no longer overlap (each holds
//! all of the other, as when booking), so the most recently created of two that do is given
//! up, each judged with its own resource's buffers as the booking engine judged it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::booking::{
    bookable_intervals, capacity_conflicts, ClosurePeriod, ExistingBooking, ResourceRules,
};
use super::ids::{BookingId, MemberId};
use super::time::Interval;

/// An active (pending or confirmed) booking of the resource that has not ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveBooking {
    pub id: BookingId,
    pub member_id: MemberId,
    pub interval: Interval,
    pub quantity: i32,
    pub created_at: DateTime<Utc>,
}

/// A resource's settings as far as the bookings already made depend on them.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// Capacity, buffers and opening hours (the other rules only apply to new bookings).
    pub rules: &'a ResourceRules,
    /// Every closure of the resource, its own and the pole's.
    pub closures: &'a [ClosurePeriod],
}

/// Why a booking is given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// It meets this closure (the earliest one it meets).
    Closure(ClosurePeriod),
    /// Part of it falls outside the opening hours.
    OpeningHours,
    /// With the bookings made before it, it would exceed the capacity (buffers included).
    Capacity,
    /// A resource becomes a part of a whole and this booking, of the part or of the whole
    /// (`Side`), meets one of the other made before it.
    Composition(Side),
}

/// The side of a composition a booking is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Part,
    Whole,
}

impl Cause {
    /// Machine code (API).
    pub fn code(&self) -> &'static str {
        match self {
            Cause::Closure(_) => "closed",
            Cause::OpeningHours => "outside_opening_hours",
            Cause::Capacity => "capacity",
            Cause::Composition(_) => "composition",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub id: BookingId,
    pub cause: Cause,
}

/// The bookings `settings` do not accept, by start then id (see the module's rules).
pub fn broken_under(
    settings: Settings,
    bookings: &[LiveBooking],
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Broken> {
    let rules = settings.rules;
    let mut broken: Vec<(Interval, Broken)> = Vec::new();
    // Under way first (always kept), then the others in creation order.
    let mut order: Vec<&LiveBooking> = bookings.iter().filter(|b| b.interval.is_valid()).collect();
    order.sort_by_key(|b| (b.interval.start >= now, b.created_at, b.id));
    let mut kept: Vec<ExistingBooking> = Vec::with_capacity(order.len());
    for b in order {
        let existing = ExistingBooking {
            id: b.id,
            member_id: b.member_id,
            interval: b.interval,
            quantity: b.quantity,
        };
        if b.interval.start < now {
            kept.push(existing);
            continue;
        }
        let cause = if let Some(c) = first_closure(b.interval, settings.closures) {
            Some(Cause::Closure(c.clone()))
        } else if !rules.opening_hours.is_empty()
            && bookable_intervals(b.interval, rules, &[], tz) != [b.interval]
        {
            Some(Cause::OpeningHours)
        } else if b.quantity > rules.capacity
            || !capacity_conflicts(b.interval, b.quantity, rules, &kept, None).is_empty()
        {
            Some(Cause::Capacity)
        } else {
            None
        };
        match cause {
            Some(cause) => broken.push((b.interval, Broken { id: b.id, cause })),
            None => kept.push(existing),
        }
    }
    broken.sort_by_key(|(iv, b)| (iv.start, b.id));
    broken.into_iter().map(|(_, b)| b).collect()
}

/// The bookings a change from `before` to `after` breaks: those `after` does not accept and
/// `before` did. A booking already out of line before (made before these guard rails) is not
/// the change's doing and is left as it was.
pub fn broken_by_change(
    before: Settings,
    after: Settings,
    bookings: &[LiveBooking],
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Broken> {
    let already: Vec<BookingId> = broken_under(before, bookings, now, tz)
        .into_iter()
        .map(|b| b.id)
        .collect();
    broken_under(after, bookings, now, tz)
        .into_iter()
        .filter(|b| !already.contains(&b.id))
        .collect()
}

/// A resource's rules (for its buffers) and its live bookings.
#[derive(Debug, Clone, Copy)]
pub struct Booked<'a> {
    pub rules: &'a ResourceRules,
    pub bookings: &'a [LiveBooking],
}

/// The bookings that attaching `part` to `whole` breaks, by start then id. Under way ones are
/// kept; the others are taken in creation order (both resources mixed) and each is kept
/// unless it meets, widened by its own resource's buffers, a kept booking of the other
/// resource (bookings' ids are unique across resources: created at the same instant, the
/// lower id comes first): the one created later is given up, as the engine would have refused it had the
/// two resources been one whole then. Bookings of the same resource never break each other
/// here (their capacity is the resource's own rule, see `broken_under`).
pub fn broken_by_attaching(part: Booked, whole: Booked, now: DateTime<Utc>) -> Vec<Broken> {
    let mut order: Vec<(Side, &LiveBooking)> = part
        .bookings
        .iter()
        .map(|b| (Side::Part, b))
        .chain(whole.bookings.iter().map(|b| (Side::Whole, b)))
        .filter(|(_, b)| b.interval.is_valid())
        .collect();
    order.sort_by_key(|(_, b)| (b.interval.start >= now, b.created_at, b.id));
    let mut kept_part: Vec<Interval> = Vec::new();
    let mut kept_whole: Vec<Interval> = Vec::new();
    let mut broken: Vec<(Interval, Broken)> = Vec::new();
    for (side, b) in order {
        let (rules, own, other) = match side {
            Side::Part => (part.rules, &mut kept_part, &kept_whole),
            Side::Whole => (whole.rules, &mut kept_whole, &kept_part),
        };
        // As `capacity_conflicts` sees it: both widened by the asking resource's buffers; any
        // overlap is in the way, a booking of the part or of the whole holding all of the other.
        let wanted = rules.block_of(b.interval);
        let meets =
            b.interval.start >= now && other.iter().any(|k| rules.block_of(*k).overlaps(&wanted));
        if meets {
            broken.push((
                b.interval,
                Broken {
                    id: b.id,
                    cause: Cause::Composition(side),
                },
            ));
        } else {
            own.push(b.interval);
        }
    }
    broken.sort_by_key(|(iv, b)| (iv.start, b.id));
    broken.into_iter().map(|(_, b)| b).collect()
}

fn first_closure(iv: Interval, closures: &[ClosurePeriod]) -> Option<&ClosurePeriod> {
    closures
        .iter()
        .filter(|c| c.interval.is_valid() && c.interval.overlaps(&iv))
        .min_by_key(|c| c.interval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::OpeningSlot;
    use crate::domain::time::local_to_utc;
    use chrono::{Datelike, Duration, NaiveDateTime, TimeZone};
    use chrono_tz::Europe::Paris;
    use proptest::prelude::*;

    /// Minutes after Monday 2027-01-04 00:00 UTC.
    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 4, 0, 0, 0).unwrap() + Duration::minutes(minute)
    }

    fn iv(a: i64, b: i64) -> Interval {
        Interval::new(at(a), at(b)).unwrap()
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
            horizon_days: 0,
            archived: false,
        }
    }

    /// Booking `id`, created in id order.
    fn b(id: i64, interval: Interval, quantity: i32) -> LiveBooking {
        LiveBooking {
            id: BookingId(id),
            member_id: MemberId(1),
            interval,
            quantity,
            created_at: at(-10_000) + Duration::seconds(id),
        }
    }

    fn closure(interval: Interval) -> ClosurePeriod {
        ClosurePeriod {
            interval,
            reason: "Travaux".into(),
        }
    }

    fn ids(v: &[Broken]) -> Vec<i64> {
        v.iter().map(|b| b.id.0).collect()
    }

    fn run(r: &ResourceRules, closures: &[ClosurePeriod], bookings: &[LiveBooking]) -> Vec<Broken> {
        broken_under(
            Settings { rules: r, closures },
            bookings,
            at(-60),
            chrono_tz::UTC,
        )
    }

    #[test]
    fn a_booking_ending_when_the_closure_starts_is_not_broken() {
        let r = rules(1);
        let list = [b(1, iv(600, 660), 1), b(2, iv(720, 780), 1)];
        assert!(run(&r, &[closure(iv(660, 720))], &list).is_empty());
        let broken = run(&r, &[closure(iv(659, 720))], &list);
        assert_eq!(ids(&broken), vec![1]);
        assert_eq!(broken[0].cause, Cause::Closure(closure(iv(659, 720))));
        assert_eq!(ids(&run(&r, &[closure(iv(660, 721))], &list)), vec![2]);
    }

    #[test]
    fn a_buffer_as_long_as_the_gap_fits_one_minute_more_does_not() {
        // [10:00, 11:00) then [11:15, 12:00): a gap of 15 minutes.
        let list = [b(1, iv(600, 660), 1), b(2, iv(675, 720), 1)];
        for (before, after, fits) in [
            (0, 15, true),
            (15, 0, true),
            (7, 8, true),
            (0, 16, false),
            (8, 8, false),
        ] {
            let mut r = rules(1);
            r.buffer_before_minutes = before;
            r.buffer_after_minutes = after;
            let broken = run(&r, &[], &list);
            assert_eq!(broken.is_empty(), fits, "{before}+{after}");
            if !fits {
                assert_eq!(
                    broken,
                    vec![Broken {
                        id: BookingId(2),
                        cause: Cause::Capacity
                    }]
                );
            }
        }
    }

    #[test]
    fn lowering_capacity_gives_up_the_most_recently_created() {
        // Booking 3 starts first but was created last: it is the one given up.
        let list = [
            b(1, iv(600, 720), 1),
            b(2, iv(630, 700), 1),
            b(3, iv(540, 640), 1),
        ];
        assert!(run(&rules(3), &[], &list).is_empty());
        assert_eq!(ids(&run(&rules(2), &[], &list)), vec![3]);
        assert_eq!(ids(&run(&rules(1), &[], &list)), vec![3, 2]);
        // Created in another order, another choice.
        let mut list = list;
        list[0].created_at = at(-1);
        assert_eq!(ids(&run(&rules(2), &[], &list)), vec![1]);
    }

    #[test]
    fn a_quantity_over_the_new_capacity_is_given_up_even_alone() {
        let list = [b(1, iv(600, 660), 3), b(2, iv(700, 760), 2)];
        assert_eq!(ids(&run(&rules(2), &[], &list)), vec![1]);
    }

    #[test]
    fn narrowed_opening_hours_at_exact_boundaries() {
        let mut r = rules(1);
        // Every day 08:00-12:00.
        r.opening_hours = (1..=7)
            .map(|weekday| OpeningSlot {
                weekday,
                open_minute: 480,
                close_minute: 720,
            })
            .collect();
        let list = [
            b(1, iv(480, 720), 1),
            b(2, iv(1440 + 479, 1440 + 600), 1),
            b(3, iv(2880 + 600, 2880 + 721), 1),
        ];
        let broken = run(&r, &[], &list);
        assert_eq!(ids(&broken), vec![2, 3]);
        assert!(broken.iter().all(|b| b.cause == Cause::OpeningHours));
    }

    #[test]
    fn opening_hours_are_read_in_the_pole_zone_across_dst() {
        let paris = |s: &str| {
            local_to_utc(
                NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap(),
                Paris,
            )
            .unwrap()
        };
        let mut r = rules(1);
        r.opening_hours = vec![OpeningSlot {
            weekday: 7,
            open_minute: 8 * 60,
            close_minute: 12 * 60,
        }];
        // Sunday 2027-03-28, the spring change: 08:00-12:00 local is 06:00-10:00 UTC.
        let ok = b(
            1,
            Interval::new(paris("2027-03-28T08:00"), paris("2027-03-28T12:00")).unwrap(),
            1,
        );
        let late = b(
            2,
            Interval::new(paris("2027-03-28T11:00"), paris("2027-03-28T12:01")).unwrap(),
            1,
        );
        let now = paris("2027-03-01T00:00");
        let broken = broken_under(
            Settings {
                rules: &r,
                closures: &[],
            },
            &[ok, late],
            now,
            Paris,
        );
        assert_eq!(ids(&broken), vec![2]);
    }

    #[test]
    fn bookings_under_way_are_kept_and_count_for_the_others() {
        let now = at(630);
        let list = [b(2, iv(600, 700), 1), b(1, iv(660, 720), 1)];
        let r = rules(1);
        // Booking 1 was created first but booking 2 is under way: 1 is given up.
        let broken = broken_under(
            Settings {
                rules: &r,
                closures: &[closure(iv(0, 650))],
            },
            &list,
            now,
            chrono_tz::UTC,
        );
        assert_eq!(
            broken,
            vec![Broken {
                id: BookingId(1),
                cause: Cause::Capacity
            }]
        );
    }

    #[test]
    fn a_change_lists_only_what_it_breaks() {
        // Bookings 1 and 2 already clash on capacity 1 (made before the guard rails).
        let list = [
            b(1, iv(600, 660), 1),
            b(2, iv(630, 690), 1),
            b(3, iv(670, 730), 1),
        ];
        let before = rules(1);
        let mut after = rules(1);
        after.buffer_after_minutes = 20;
        let broken = broken_by_change(
            Settings {
                rules: &before,
                closures: &[],
            },
            Settings {
                rules: &after,
                closures: &[],
            },
            &list,
            at(0),
            chrono_tz::UTC,
        );
        assert_eq!(ids(&broken), vec![3]);
        let same = broken_by_change(
            Settings {
                rules: &before,
                closures: &[],
            },
            Settings {
                rules: &before,
                closures: &[],
            },
            &list,
            at(0),
            chrono_tz::UTC,
        );
        assert!(same.is_empty());
    }

    // ---- property tests against a minute-by-minute oracle (UTC, whole minutes) ----

    #[derive(Debug)]
    struct Case {
        rules: ResourceRules,
        closures: Vec<ClosurePeriod>,
        bookings: Vec<LiveBooking>,
    }

    const SPAN: i64 = 3 * 1440;

    fn minute_open(r: &ResourceRules, m: i64) -> bool {
        if r.opening_hours.is_empty() {
            return true;
        }
        let t = at(m);
        let weekday = t.weekday().number_from_monday() as u8;
        let minute = (m.rem_euclid(1440)) as u16;
        r.opening_hours
            .iter()
            .any(|s| s.weekday == weekday && s.open_minute <= minute && minute < s.close_minute)
    }

    fn minutes(iv: Interval) -> std::ops::Range<i64> {
        let from = (iv.start - at(0)).num_minutes();
        from..from + iv.duration().num_minutes()
    }

    /// Whether `kept` satisfies the settings, checked minute by minute.
    fn oracle(c: &Case, kept: &[&LiveBooking]) -> bool {
        for b in kept {
            if b.quantity > c.rules.capacity {
                return false;
            }
            for m in minutes(b.interval) {
                let closed = c.closures.iter().any(|k| k.interval.contains(at(m)));
                if closed || !minute_open(&c.rules, m) {
                    return false;
                }
            }
        }
        let (before, after) = (
            i64::from(c.rules.buffer_before_minutes),
            i64::from(c.rules.buffer_after_minutes),
        );
        for m in -200..SPAN + 400 {
            let used: i64 = kept
                .iter()
                .filter(|b| {
                    let r = minutes(b.interval);
                    r.start - before <= m && m < r.end + after
                })
                .map(|b| i64::from(b.quantity))
                .sum();
            if used > i64::from(c.rules.capacity) {
                return false;
            }
        }
        true
    }

    fn case() -> impl Strategy<Value = Case> {
        let slot = (1u8..=7, 0u16..48, 1u16..16).prop_map(|(weekday, open, len)| OpeningSlot {
            weekday,
            open_minute: open * 30,
            close_minute: (open * 30 + len * 30).min(1440),
        });
        let booking = (0i64..SPAN / 5, 1i64..48, 1i32..=3, 0i64..1000);
        (
            1i32..=3,
            0i32..40,
            0i32..40,
            prop_oneof![Just(Vec::new()), proptest::collection::vec(slot, 1..10)],
            proptest::collection::vec((0i64..SPAN, 1i64..600), 0..3),
            proptest::collection::vec(booking, 0..12),
        )
            .prop_map(|(capacity, before, after, hours, closures, bookings)| {
                let mut r = rules(capacity);
                r.buffer_before_minutes = before;
                r.buffer_after_minutes = after;
                // Overlapping slots are refused by validation; keep one per weekday.
                let mut hours = hours;
                hours.sort();
                hours.dedup_by_key(|s| s.weekday);
                r.opening_hours = hours;
                Case {
                    rules: r,
                    closures: closures
                        .into_iter()
                        .map(|(s, l)| closure(iv(s, s + l)))
                        .collect(),
                    bookings: bookings
                        .into_iter()
                        .enumerate()
                        .map(|(i, (start, len, q, created))| LiveBooking {
                            id: BookingId(i as i64 + 1),
                            member_id: MemberId(1),
                            interval: iv(start * 5, start * 5 + len * 5),
                            quantity: q,
                            created_at: at(-2000) + Duration::seconds(created),
                        })
                        .collect(),
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn giving_up_the_returned_bookings_is_enough_and_each_is_needed(c in case()) {
            let broken = broken_under(
                Settings { rules: &c.rules, closures: &c.closures },
                &c.bookings,
                at(-1),
                chrono_tz::UTC,
            );
            let gone: Vec<BookingId> = broken.iter().map(|b| b.id).collect();
            let kept: Vec<&LiveBooking> = c.bookings.iter().filter(|b| !gone.contains(&b.id)).collect();
            prop_assert!(oracle(&c, &kept), "kept bookings break the settings: {:?}", broken);
            let all: Vec<&LiveBooking> = c.bookings.iter().collect();
            if oracle(&c, &all) {
                prop_assert!(broken.is_empty());
            }
            for g in &broken {
                let back = c.bookings.iter().find(|b| b.id == g.id).unwrap();
                let mut with: Vec<&LiveBooking> = kept.clone();
                with.push(back);
                prop_assert!(!oracle(&c, &with), "{:?} could have stayed", g);
                match &g.cause {
                    Cause::Capacity => {
                        // Alone it fits the hours and closures; with the bookings kept that
                        // were created before it, it exceeds the capacity.
                        let mut roomy = c.rules.clone();
                        roomy.capacity = i32::MAX;
                        let alone = Case { rules: roomy, closures: c.closures.clone(), bookings: vec![] };
                        prop_assert!(oracle(&alone, &[back]));
                        let mut earlier: Vec<&LiveBooking> = kept
                            .iter()
                            .copied()
                            .filter(|k| (k.created_at, k.id) < (back.created_at, back.id))
                            .collect();
                        earlier.push(back);
                        prop_assert!(!oracle(&c, &earlier));
                    }
                    _ => prop_assert!(!oracle(&c, &[back])),
                }
            }
        }
    }

    // Attaching a part to a whole.

    fn part_and_whole(
        part: (&ResourceRules, &[LiveBooking]),
        whole: (&ResourceRules, &[LiveBooking]),
    ) -> Vec<Broken> {
        broken_by_attaching(
            Booked {
                rules: part.0,
                bookings: part.1,
            },
            Booked {
                rules: whole.0,
                bookings: whole.1,
            },
            at(-60),
        )
    }

    #[test]
    fn a_part_booking_ending_when_the_whole_is_booked_is_not_broken() {
        let r = rules(1);
        let whole = [b(1, iv(600, 660), 1)];
        assert!(part_and_whole((&r, &[b(2, iv(660, 720), 1)]), (&r, &whole)).is_empty());
        assert!(part_and_whole((&r, &[b(2, iv(540, 600), 1)]), (&r, &whole)).is_empty());
        let broken = part_and_whole((&r, &[b(2, iv(659, 720), 1)]), (&r, &whole));
        assert_eq!(
            broken,
            vec![Broken {
                id: BookingId(2),
                cause: Cause::Composition(Side::Part)
            }]
        );
        // Created first, the part's booking stays and the whole's goes.
        let broken = part_and_whole((&r, &[b(0, iv(659, 720), 1)]), (&r, &whole));
        assert_eq!(
            broken,
            vec![Broken {
                id: BookingId(1),
                cause: Cause::Composition(Side::Whole)
            }]
        );
    }

    #[test]
    fn each_booking_is_judged_with_its_own_resource_buffers() {
        // The part's booking [10:00, 11:00), the whole's [11:15, 12:00).
        let mut buffered = rules(1);
        buffered.buffer_after_minutes = 15;
        let plain = rules(1);
        let part_first = [b(1, iv(600, 660), 1)];
        let whole_later = [b(2, iv(675, 720), 1)];
        // Judged with the whole's buffers (none): fits, whatever the part's.
        assert!(part_and_whole((&buffered, &part_first), (&plain, &whole_later)).is_empty());
        // Judged with the part's: a gap of exactly 15 minutes fits, 16 does not.
        let whole_first = [b(0, iv(675, 720), 1)];
        assert!(part_and_whole((&buffered, &part_first), (&plain, &whole_first)).is_empty());
        buffered.buffer_after_minutes = 16;
        assert_eq!(
            ids(&part_and_whole(
                (&buffered, &part_first),
                (&plain, &whole_first)
            )),
            vec![1]
        );
        assert!(part_and_whole((&buffered, &part_first), (&plain, &whole_later)).is_empty());
    }

    #[test]
    fn under_way_bookings_stay_and_the_same_resource_never_clashes_here() {
        let r = rules(2);
        // Now is minute -60. The whole's booking is under way; the part's, created earlier,
        // starts later and meets it: the part's goes.
        let whole = [b(5, iv(-90, 30), 1)];
        let part = [
            b(1, iv(0, 60), 1),
            b(2, iv(0, 60), 1),
            b(3, iv(-120, -30), 1),
        ];
        assert_eq!(ids(&part_and_whole((&r, &part), (&r, &whole))), vec![1, 2]);
        // Two under way on both sides: nothing can be done about them.
        let part = [b(3, iv(-120, -30), 1)];
        assert!(part_and_whole((&r, &part), (&r, &whole)).is_empty());
    }

    #[test]
    fn a_booking_given_up_no_longer_holds_the_other_side() {
        let r = rules(1);
        // Whole 1 [10, 11), part 2 [10:30, 12) created after it, whole 3 [11:30, 13) last:
        // 2 goes for 1, and 3 then meets nothing kept.
        let whole = [b(1, iv(600, 660), 1), b(3, iv(690, 780), 1)];
        let part = [b(2, iv(630, 720), 1)];
        assert_eq!(ids(&part_and_whole((&r, &part), (&r, &whole))), vec![2]);
    }

    /// Attach cases: each side its buffers and bookings; ids 1.. on the part, 101.. on the
    /// whole; some start before now (minute 0).
    #[derive(Debug, Clone)]
    struct Attach {
        part: (ResourceRules, Vec<LiveBooking>),
        whole: (ResourceRules, Vec<LiveBooking>),
    }

    fn attach_case() -> impl Strategy<Value = Attach> {
        let side = |first: i64| {
            (
                0i32..30,
                0i32..30,
                proptest::collection::vec((-40i64..120, 1i64..30, 0i64..50), 0..8),
            )
                .prop_map(move |(before, after, list)| {
                    let mut r = rules(1);
                    r.buffer_before_minutes = before;
                    r.buffer_after_minutes = after;
                    let list = list
                        .into_iter()
                        .enumerate()
                        .map(|(i, (start, len, created))| LiveBooking {
                            id: BookingId(first + i as i64),
                            member_id: MemberId(1),
                            interval: iv(start * 5, start * 5 + len * 5),
                            quantity: 1,
                            created_at: at(-2000) + Duration::seconds(created),
                        })
                        .collect::<Vec<_>>();
                    (r, list)
                })
        };
        (side(1), side(101)).prop_map(|(part, whole)| Attach { part, whole })
    }

    /// Minute by minute: whether `x`, booked on a resource with `r`'s buffers, meets `y`.
    fn meets_by_minutes(r: &ResourceRules, x: &LiveBooking, y: &LiveBooking) -> bool {
        let (before, after) = (
            i64::from(r.buffer_before_minutes),
            i64::from(r.buffer_after_minutes),
        );
        let (x, y) = (minutes(x.interval), minutes(y.interval));
        (-400..1200).any(|m| {
            x.start - before <= m && m < x.end + after && y.start - before <= m && m < y.end + after
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn attaching_keeps_no_clash_and_gives_up_only_what_clashes(c in attach_case()) {
            let now = at(0);
            let broken = broken_by_attaching(
                Booked { rules: &c.part.0, bookings: &c.part.1 },
                Booked { rules: &c.whole.0, bookings: &c.whole.1 },
                now,
            );
            let gone: Vec<BookingId> = broken.iter().map(|b| b.id).collect();
            // The order the rule takes them in: under way first, then by creation.
            let all: Vec<(Side, &ResourceRules, &LiveBooking)> = c.part.1.iter()
                .map(|b| (Side::Part, &c.part.0, b))
                .chain(c.whole.1.iter().map(|b| (Side::Whole, &c.whole.0, b)))
                .collect();
            let key = |_: Side, b: &LiveBooking| (b.interval.start >= now, b.created_at, b.id);
            for (s, _, b) in &all {
                if b.interval.start < now {
                    prop_assert!(!gone.contains(&b.id), "under way {:?} given up", b.id);
                }
                if let Some(g) = broken.iter().find(|g| g.id == b.id) {
                    prop_assert_eq!(&g.cause, &Cause::Composition(*s));
                }
            }
            let kept: Vec<&(Side, &ResourceRules, &LiveBooking)> =
                all.iter().filter(|(_, _, b)| !gone.contains(&b.id)).collect();
            // No two kept bookings of the two resources clash, unless both are under way.
            for (sx, rx, x) in &kept {
                for (sy, _, y) in &kept {
                    if sx == sy || key(*sx, x) < key(*sy, y) {
                        continue;
                    }
                    if x.interval.start < now && y.interval.start < now {
                        continue;
                    }
                    prop_assert!(!meets_by_minutes(rx, x, y), "{:?} and {:?} both kept", x.id, y.id);
                }
            }
            // Each one given up meets one kept of the other resource taken before it.
            for g in &broken {
                let (sx, rx, x) = all.iter().find(|(_, _, b)| b.id == g.id).unwrap();
                prop_assert!(
                    kept.iter().any(|(sy, _, y)| sy != sx && key(*sy, y) < key(*sx, x) && meets_by_minutes(rx, x, y)),
                    "{:?} could have stayed", g.id
                );
            }
        }
    }
}
